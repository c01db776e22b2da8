// Golden vectors (protocol/vectors/v1): every committed vector decodes to its recorded frame and
// re-encodes to the same bytes; every invalid vector is refused with its recorded code. The
// vectors are never rewritten, so a codec change that breaks old peers fails here.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { decodeFrame, encodeFrame } from './codec.ts';
import { TunnelError } from './errors.ts';
import { FRAME_TYPES } from './frame.ts';
import { MESSAGE_KINDS } from './messages.ts';

const dir = new URL('./vectors/v1/', import.meta.url);
interface Index {
  valid: Array<{ name: string; file: string; note: string; frame: Record<string, unknown> }>;
  invalid: Array<{ name: string; file: string; note: string; code: string }>;
}
const index = JSON.parse(readFileSync(new URL('index.json', dir), 'utf8')) as Index;
/** A vector file: one frame as hex text on one line (SPEC.md §11). */
const vectorBytes = (file: string): Buffer => Buffer.from(readFileSync(new URL(file, dir), 'utf8').trim(), 'hex');

/** The frame as the index records it: byte payloads as hex strings. */
function asRecorded(frame: unknown): unknown {
  return JSON.parse(JSON.stringify(frame, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : (v as { type?: string; data?: number[] })?.type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('hex') : v)));
}

/** Turns the recorded form back into a frame (hex strings → bytes where the codec wants bytes). */
function fromRecorded(rec: Record<string, unknown>): Parameters<typeof encodeFrame>[0] {
  const f = { ...rec } as Record<string, unknown>;
  if (typeof f.payload === 'string') f.payload = Buffer.from(f.payload, 'hex');
  return f as unknown as Parameters<typeof encodeFrame>[0];
}

for (const v of index.valid) {
  t.test(`vector ${v.name}: decodes to its recorded frame and re-encodes byte for byte`, async (t) => {
    const bytes = vectorBytes(v.file);
    const frame = decodeFrame(bytes);
    t.same(asRecorded(frame), v.frame);
    t.equal(encodeFrame(fromRecorded(v.frame)).toString('hex'), bytes.toString('hex'));
  });
}

for (const v of index.invalid) {
  t.test(`invalid vector ${v.name} (${v.note}) is refused with ${v.code}`, async (t) => {
    let caught: unknown;
    try {
      decodeFrame(vectorBytes(v.file));
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof TunnelError, 'throws a TunnelError');
    t.equal((caught as TunnelError).code, v.code);
  });
}

t.test('vectors: every frame type and every message kind of v1 has at least one vector', async (t) => {
  const types = new Set(index.valid.map((v) => v.frame.type));
  for (const name of Object.keys(FRAME_TYPES)) t.ok(types.has(name), `frame type ${name} has a vector`);
  const kinds = new Set(index.valid.filter((v) => v.frame.type === 'CONTROL').map((v) => v.frame.kind));
  for (const [kind, info] of Object.entries(MESSAGE_KINDS)) t.ok(kinds.has(info.wire), `message kind ${kind} has a vector`);
});

t.test('vectors: one frame per file, as SPEC.md §11 says: every file is indexed once, every entry names its file', async (t) => {
  const files = readdirSync(dir).filter((f) => f !== 'index.json').sort();
  const named = [...index.valid, ...index.invalid].map((v) => v.file).sort();
  t.same(named, files, 'the index names exactly the files in the directory');
  for (const v of [...index.valid, ...index.invalid]) {
    t.notOk('hex' in v, `${v.name} carries no inline hex`);
    t.match(readFileSync(new URL(v.file, dir), 'utf8'), /^[0-9a-f]+\n$/, `${v.file} is one line of lowercase hex`);
  }
  for (const v of index.invalid) t.ok(v.file.startsWith('invalid-'), `${v.file}: invalid vectors are named invalid-*`);
});
