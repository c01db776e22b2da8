// Keeps the unit files inside install.sh identical to systemd/*.service. `curl | sh` gets one
// file, so the installer must carry the units itself; systemd/ stays the single source.
//   node packaging/sync-units.ts          rewrite the section in packaging/install.sh
//   node packaging/sync-units.ts --check  exit 1 if the section is out of date (used by tests)
import fs from 'node:fs';
import path from 'node:path';
import { UNITS } from './targets.ts';

export const BEGIN_MARK = '# >>> units: generated from systemd/*.service by `node packaging/sync-units.ts`; do not edit';
export const END_MARK = '# <<< units';
/** Heredoc delimiter; a unit line equal to it would end the heredoc early, so it is refused. */
const DELIMITER = 'DROVER_UNIT';

export interface UnitFile {
  name: string;
  text: string;
}

/** The shell function `unit_text NAME` that prints each unit verbatim (quoted heredocs). */
export function renderUnitsSection(units: readonly UnitFile[]): string {
  const lines = [BEGIN_MARK, 'unit_text() {', '  case "$1" in'];
  for (const unit of units) {
    if (unit.text.split('\n').includes(DELIMITER)) throw new Error(`${unit.name} contains a line "${DELIMITER}"`);
    lines.push(`    ${unit.name})`, `      cat <<'${DELIMITER}'`, unit.text.replace(/\n$/, ''), DELIMITER, '      ;;');
  }
  lines.push('    *) fatal "no unit named $1" ;;', '  esac', '}', END_MARK);
  return lines.join('\n');
}

/** Replaces everything from BEGIN_MARK to END_MARK (inclusive) with `section`. */
export function replaceSection(script: string, section: string): string {
  const start = script.indexOf(BEGIN_MARK);
  const end = script.indexOf(END_MARK, start);
  if (start < 0 || end < 0) throw new Error('install.sh has no units section markers');
  return script.slice(0, start) + section + script.slice(end + END_MARK.length);
}

export function readUnits(repoRoot: string): UnitFile[] {
  return UNITS.map((name) => ({ name, text: fs.readFileSync(path.join(repoRoot, 'systemd', name), 'utf8') }));
}

/** install.sh as it should be, given the units in systemd/. */
export function syncedInstaller(repoRoot: string): { current: string; wanted: string } {
  const current = fs.readFileSync(path.join(repoRoot, 'packaging', 'install.sh'), 'utf8');
  return { current, wanted: replaceSection(current, renderUnitsSection(readUnits(repoRoot))) };
}

if (import.meta.filename === process.argv[1]) {
  const repoRoot = path.resolve(import.meta.dirname, '..');
  const { current, wanted } = syncedInstaller(repoRoot);
  if (process.argv.includes('--check')) {
    if (current !== wanted) {
      process.stderr.write('packaging/install.sh units are out of date: run node packaging/sync-units.ts\n');
      process.exitCode = 1;
    }
  } else if (current !== wanted) {
    fs.writeFileSync(path.join(repoRoot, 'packaging', 'install.sh'), wanted);
    process.stdout.write('packaging/install.sh: units updated\n');
  }
}
