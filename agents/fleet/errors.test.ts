import t from 'tap';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FLEET_AGENT_ERRORS, FleetAgentError, describeFleetError } from './errors.ts';

const docPath = fileURLToPath(new URL('../../docs/errors-fleet-agent.md', import.meta.url));

t.test('errors: every fleet agent error code is documented in docs/errors-fleet-agent.md, and vice versa', async (t) => {
  const documented = new Set<string>();
  for (const line of fs.readFileSync(docPath, 'utf8').split('\n')) {
    const m = /^\| `([A-Z_]+)` \|/.exec(line);
    if (m) documented.add(m[1]!);
  }
  for (const code of Object.keys(FLEET_AGENT_ERRORS)) t.ok(documented.has(code), `${code} is documented`);
  for (const code of documented) t.ok(Object.hasOwn(FLEET_AGENT_ERRORS, code), `${code} in the docs exists in the registry`);
});

t.test('errors: describeFleetError prefixes the stable code', async (t) => {
  t.equal(describeFleetError(new FleetAgentError('KIND_UNKNOWN', 'example.com/v1 Widget')), 'KIND_UNKNOWN: example.com/v1 Widget');
  t.equal(describeFleetError(new Error('plain')), 'plain');
  t.equal(describeFleetError(42), '42');
});
