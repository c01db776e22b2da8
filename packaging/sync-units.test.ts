// The units inside install.sh must be byte-identical to systemd/*.service (issue 7: one source).
import path from 'node:path';
import t from 'tap';
import { BEGIN_MARK, END_MARK, renderUnitsSection, replaceSection, syncedInstaller } from './sync-units.ts';

t.test('sync-units: install.sh carries exactly the units in systemd/ (run node packaging/sync-units.ts)', async (t) => {
  const { current, wanted } = syncedInstaller(path.resolve(import.meta.dirname, '..'));
  t.equal(current, wanted);
});

t.test('sync-units: the section replaces only what lies between the markers', async (t) => {
  const script = `head\n${BEGIN_MARK}\nold\n${END_MARK}\ntail\n`;
  const out = replaceSection(script, renderUnitsSection([{ name: 'a.service', text: '[Unit]\nDescription=a\n' }]));
  t.match(out, /^head\n# >>> units/);
  t.match(out, /# <<< units\ntail\n$/);
  t.match(out, /a\.service\)\n {6}cat <<'DROVER_UNIT'\n\[Unit\]\nDescription=a\nDROVER_UNIT\n/);
  t.notMatch(out, /old/);
});

t.test('sync-units: a unit containing the heredoc delimiter is refused', async (t) => {
  t.throws(() => renderUnitsSection([{ name: 'bad.service', text: 'x\nDROVER_UNIT\ny\n' }]));
});
