// docs/fleet.md names every Fleet fleet.yaml key Drover does not implement, with what Drover does.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { UNSUPPORTED_FLEET_KEYS } from '../../server-lite/fleet/fleet-yaml-keys.ts';

t.test('docs/fleet.md: every not-implemented fleet.yaml key is in the table with its treatment', async (t) => {
  const doc = readFileSync(new URL('../../docs/fleet.md', import.meta.url), 'utf8');
  for (const [key, tr] of Object.entries(UNSUPPORTED_FLEET_KEYS)) {
    const base = key.startsWith('targetCustomizations[].') && key.slice('targetCustomizations[].'.length) in UNSUPPORTED_FLEET_KEYS ? key.slice('targetCustomizations[].'.length) : key;
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${base}\` |`));
    t.ok(row, `${key} is documented`);
    t.match(row ?? '', tr.action === 'warn' ? /ignored, with a warning/ : /refused/, `${key}: ${tr.action}`);
  }
});
