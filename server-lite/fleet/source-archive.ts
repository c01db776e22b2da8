// A directory pushed by `drover bundle apply DIR` travels as a gzipped tar. Packing is
// deterministic (sorted paths, fixed mtime, no owners) so the same directory makes the same bytes;
// extraction validates every entry first and extracts only if all pass: regular files and
// directories only, no absolute paths, no `..`, bounded size and count (ARCHITECTURE.md §8).
import { lstat, readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { create, extract, list, type ReadEntry } from 'tar';
import { FleetError } from './errors.ts';
import { FLEET_LIMITS } from './limits.ts';

/** Files of a source directory, relative and sorted; `.git` skipped; symlinks and devices refused. */
export async function listSourceFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(join(dir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (e.name === '.git') continue;
    if (e.isDirectory()) out.push(...(await listSourceFiles(dir, path)));
    else if (e.isFile()) out.push(path);
    else throw new FleetError('SOURCE_ARCHIVE_INVALID', `${path}: only regular files and directories can be pushed (symlinks and devices cannot)`, { file: path });
  }
  return out;
}

export async function packSource(dir: string): Promise<Buffer> {
  const files = await listSourceFiles(dir);
  let total = 0;
  for (const f of files) total += (await lstat(join(dir, f))).size;
  if (total > FLEET_LIMITS.maxSourceBytes || files.length > FLEET_LIMITS.maxSourceFiles) {
    throw new FleetError('SOURCE_TOO_LARGE', `${dir}: ${files.length} files, ${total} bytes; the limit is ${FLEET_LIMITS.maxSourceFiles} files, ${FLEET_LIMITS.maxSourceBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  const stream = create({ gzip: true, cwd: dir, portable: true, mtime: new Date(0), noDirRecurse: true }, files);
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Why an entry is refused, or undefined when it is acceptable. */
function refusal(entry: ReadEntry): string | undefined {
  const p = entry.path;
  if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile' && entry.type !== 'Directory') return `is a ${entry.type}`;
  if (p.includes('\0') || p.includes('\\')) return 'has a NUL or backslash in its path';
  if (posix.isAbsolute(p)) return 'has an absolute path';
  if (p.split('/').includes('..')) return 'climbs out with ..';
  return undefined;
}

async function drain(parser: NodeJS.WritableStream & NodeJS.EventEmitter, bytes: Uint8Array): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    parser.on('error', reject);
    parser.on('close', () => resolve());
    parser.end(Buffer.from(bytes));
  });
}

/** Validates, then extracts `archive` into `dest` (which should be new and empty). */
export async function extractSource(archive: Uint8Array, dest: string): Promise<{ files: number; bytes: number }> {
  if (archive.byteLength > FLEET_LIMITS.maxSourceArchiveBytes) {
    throw new FleetError('SOURCE_TOO_LARGE', `the pushed archive is ${archive.byteLength} bytes; the limit is ${FLEET_LIMITS.maxSourceArchiveBytes}`);
  }
  let files = 0;
  let bytes = 0;
  let problem: FleetError | undefined;
  const lister = list({
    strict: true,
    onReadEntry: (entry) => {
      const why = refusal(entry);
      if (why && !problem) problem = new FleetError('SOURCE_ARCHIVE_INVALID', `archive entry "${entry.path}" ${why}`, { file: entry.path });
      if (entry.type !== 'Directory') files += 1;
      bytes += entry.size ?? 0;
      if (!problem && (bytes > FLEET_LIMITS.maxSourceBytes || files > FLEET_LIMITS.maxSourceFiles)) {
        problem = new FleetError('SOURCE_TOO_LARGE', `the pushed directory exceeds ${FLEET_LIMITS.maxSourceFiles} files or ${FLEET_LIMITS.maxSourceBytes} bytes`);
      }
      entry.resume();
    },
  });
  try {
    await drain(lister, archive);
  } catch (e) {
    throw new FleetError('SOURCE_ARCHIVE_INVALID', `the pushed archive is not a valid tar.gz: ${(e as Error).message}`, {}, { cause: e });
  }
  if (problem) throw problem;
  // Second pass only after every entry passed: nothing is half-extracted from a bad archive.
  await drain(extract({ cwd: dest, strict: true, preservePaths: false, preserveOwner: false }), archive);
  return { files, bytes };
}
