// The environment a systemd unit gives the agent (its `Environment=` lines), so the bench measures
// the process as installed (GLIBC_TUNABLES lives there: glibc reads it only from the environment).
import fs from 'node:fs';

/** Parses `Environment=A=1 "B=two words"` lines of a unit file into a map. Pure. */
export function parseUnitEnvironment(unitText: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of unitText.split('\n')) {
    const m = /^Environment=(.*)$/.exec(line.trim());
    if (!m) continue;
    for (const word of m[1]!.match(/"[^"]*"|\S+/g) ?? []) {
      const kv = word.startsWith('"') ? word.slice(1, -1) : word;
      const eq = kv.indexOf('=');
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  }
  return env;
}

export function unitEnvironment(unitFile: string): Record<string, string> {
  return parseUnitEnvironment(fs.readFileSync(unitFile, 'utf8'));
}
