import t from 'tap';
import fc from 'fast-check';
import { parseJoinToken, redactJoinToken } from './join-token.ts';
import { AgentError } from './errors.ts';

const hash = 'ab'.repeat(32);
const secret = 's'.repeat(40);

t.test('join token: a well-formed token splits into CA hash, id and secret', async (t) => {
  const tok = parseJoinToken(`D10${hash}::abcdef0123.${secret}`);
  t.equal(tok.caSha256, hash);
  t.equal(tok.tokenId, 'abcdef0123');
  t.equal(tok.secret, secret);
  t.equal(tok.credential, `abcdef0123.${secret}`, 'what is sent to /v1/register excludes the CA hash');
});

t.test('join token: an uppercase hash is normalised, surrounding whitespace ignored', async (t) => {
  const tok = parseJoinToken(`  D10${hash.toUpperCase()}::abcdef0123.${secret}\n`);
  t.equal(tok.caSha256, hash);
});

t.test('join token: garbage is refused with TOKEN_MALFORMED (exit 4) before any I/O', async (t) => {
  for (const bad of ['', 'garbage', `D10${hash}`, `D10${hash.slice(2)}::abcdef0123.${secret}`, `D11${hash}::abcdef0123.${secret}`, `D10${hash}::abc.${secret}`, `D10${hash}::abcdef0123.short`, `D10${hash}:abcdef0123.${secret}`]) {
    t.throws(() => parseJoinToken(bad), { name: 'AgentError', code: 'TOKEN_MALFORMED', exitCode: 4 }, JSON.stringify(bad));
  }
});

t.test('join token: parsing never throws anything but TOKEN_MALFORMED (property)', async (t) => {
  fc.assert(
    fc.property(fc.string(), (s) => {
      try {
        parseJoinToken(s);
        return true;
      } catch (err) {
        return err instanceof AgentError && err.code === 'TOKEN_MALFORMED';
      }
    }),
  );
  t.pass('property held');
});

t.test('join token: the redacted form never contains the secret', async (t) => {
  const tok = parseJoinToken(`D10${hash}::abcdef0123.${secret}`);
  t.notMatch(redactJoinToken(tok), secret);
  t.match(redactJoinToken(tok), 'abcdef0123');
});
