// The error registry stays honest (STYLE.md §5): wire numbers and close codes are unique where
// they must be, every code is documented in docs/errors-protocol.md with the same numbers, the
// docs name no code that does not exist, and the registry is exported from index.ts.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { APPLICATION_CLOSE_CODES, CLOSE_CODES, ERROR_CODES, errorCodeFromWire, TunnelError } from './errors.ts';
import * as api from './index.ts';

const doc = readFileSync(new URL('../docs/errors-protocol.md', import.meta.url), 'utf8');
const rows = new Map<string, string[]>();
for (const line of doc.split('\n')) {
  const m = /^\| `([A-Z_]+)` \| (\d+) \| (\d+) \| (yes|no) \|/.exec(line);
  if (m) rows.set(m[1] as string, m.slice(2));
}

t.test('errors: wire numbers are unique and map back to their code', async (t) => {
  const wires = Object.values(ERROR_CODES).map((e) => e.wire);
  t.equal(new Set(wires).size, wires.length);
  for (const [code, info] of Object.entries(ERROR_CODES)) t.equal(errorCodeFromWire(info.wire), code);
  t.equal(errorCodeFromWire(65000), 'UNKNOWN');
});

t.test('errors: every code is documented with the same wire number, close code and retryability', async (t) => {
  for (const [code, info] of Object.entries(ERROR_CODES)) {
    t.same(rows.get(code), [String(info.wire), String(info.close), info.retryable ? 'yes' : 'no'], code);
  }
  for (const code of rows.keys()) t.ok(code in ERROR_CODES, `documented ${code} exists`);
});

t.test('errors: every close code used by a code is a named close code', async (t) => {
  const closes = new Set<number>(Object.values(CLOSE_CODES));
  for (const [code, info] of Object.entries(ERROR_CODES)) t.ok(closes.has(info.close), code);
});

t.test('errors: the registry and TunnelError are exported from index.ts', async (t) => {
  t.equal(api.ERROR_CODES, ERROR_CODES);
  t.equal(api.TunnelError, TunnelError);
  const e = new TunnelError('PEER_TIMEOUT', 'x');
  t.equal(e.closeCode, 4002);
  t.equal(e.retryable, true);
});

t.test('errors: the close-code tables in the docs are the ones the code sends', async (t) => {
  const table = (heading: RegExp): Map<number, string> => {
    const at = doc.search(heading);
    const out = new Map<number, string>();
    if (at < 0) return out;
    for (const line of doc.slice(at).split('\n').slice(1)) {
      const m = /^\| (\d+) \| `([A-Z_]+)` \|$/.exec(line);
      if (m) out.set(Number(m[1]), m[2] as string);
      else if (out.size > 0 && !line.startsWith('|')) break;
    }
    return out;
  };
  t.same([...table(/^\| close code \| name \|$/m)], Object.entries(CLOSE_CODES).map(([n, c]) => [c, n]), 'protocol close codes');
  t.same([...table(/^Application close codes/m)], Object.entries(APPLICATION_CLOSE_CODES).map(([n, c]) => [c, n]), 'application close codes');
  const agentDoc = readFileSync(new URL('../docs/errors-agent.md', import.meta.url), 'utf8');
  t.match(agentDoc, `(close code ${APPLICATION_CLOSE_CODES.SESSION_SUPERSEDED})`, 'errors-agent.md names the superseded code the server sends');
  t.match(agentDoc, `close code ${APPLICATION_CLOSE_CODES.CREDENTIAL_REVOKED}`, 'and the revoked one');
  const spec = readFileSync(new URL('./SPEC.md', import.meta.url), 'utf8');
  for (const [name, code] of Object.entries(APPLICATION_CLOSE_CODES)) t.match(spec, `${code} \`${name}\``, `SPEC §9 names ${code} ${name}`);
});
