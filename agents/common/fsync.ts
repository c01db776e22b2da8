// Durability on the agents: a file's bytes, or a directory's entries (a rename, a new file), are on
// disk before the caller goes on, so a power cut leaves the old state or the new one, never a mix.
import fs from 'node:fs';

/** fsync a file or a directory by its path. */
export function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
