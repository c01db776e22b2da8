import t from 'tap';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AGENT_ERRORS, AgentError, describeError } from './errors.ts';

const docPath = fileURLToPath(new URL('../../docs/errors-agent.md', import.meta.url));

// agents/ may not import cli/ (ARCHITECTURE.md §1), so the contract is read as text.
const exitPath = fileURLToPath(new URL('../../cli/exit-codes.ts', import.meta.url));
const EXIT: Record<string, number> = Object.fromEntries(
  [...fs.readFileSync(exitPath, 'utf8').matchAll(/^\s+([A-Z_]+): (\d),$/gm)].map((m) => [m[1]!, Number(m[2])]),
);

function documented(): Map<string, number> {
  const rows = new Map<string, number>();
  for (const line of fs.readFileSync(docPath, 'utf8').split('\n')) {
    const m = /^\| `([A-Z_]+)` \| (\d) \|/.exec(line);
    if (m) rows.set(m[1]!, Number(m[2]));
  }
  return rows;
}

t.test('errors: every agent error code is documented in docs/errors-agent.md with its exit code, and vice versa', async (t) => {
  const docs = documented();
  for (const [code, info] of Object.entries(AGENT_ERRORS)) {
    t.equal(docs.get(code), info.exit, `${code} documented with exit ${info.exit}`);
  }
  for (const code of docs.keys()) t.ok(Object.hasOwn(AGENT_ERRORS, code), `${code} in the docs exists in the registry`);
});

t.test('errors: exit codes are the CLI contract numbers (cli/exit-codes.ts)', async (t) => {
  t.equal(Object.keys(EXIT).length, 6, 'read the six contract exit codes');
  const contract = new Set<number>(Object.values(EXIT));
  for (const [code, info] of Object.entries(AGENT_ERRORS)) t.ok(contract.has(info.exit), `${code} → ${info.exit}`);
  t.equal(AGENT_ERRORS.CA_MISMATCH.exit, EXIT.CA_MISMATCH);
  t.equal(AGENT_ERRORS.SERVER_UNREACHABLE.exit, EXIT.SERVER_UNREACHABLE);
  t.equal(AGENT_ERRORS.TOKEN_EXPIRED.exit, EXIT.CREDENTIAL_REJECTED);
  t.equal(AGENT_ERRORS.CREDENTIAL_REVOKED.exit, EXIT.CREDENTIAL_REJECTED);
  t.equal(AGENT_ERRORS.INVALID_CONFIG.exit, EXIT.USAGE);
});

t.test('errors: describeError prefixes the stable code', async (t) => {
  t.equal(describeError(new AgentError('TOKEN_EXPIRED', 'expired yesterday')), 'TOKEN_EXPIRED: expired yesterday');
  t.equal(describeError(new Error('plain')), 'plain');
  t.equal(describeError('str'), 'str');
});
