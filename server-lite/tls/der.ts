// A minimal DER (ASN.1 Distinguished Encoding Rules) writer: just the types an X.509 certificate
// needs. Pure functions returning Buffers, so certificates can be built and tested without I/O and
// without an `openssl` binary on the host (issue 4: the server must not depend on one).

/** Encodes a DER length: short form below 128, long form (0x80 | byte count) above. */
function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Tag-length-value with an explicit tag byte. */
export function tlv(tag: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(value.length), value]);
}

export function sequence(...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

export function set(...items: Buffer[]): Buffer {
  // DER requires SET OF members sorted by their encoding.
  const sorted = [...items].sort(Buffer.compare);
  return tlv(0x31, Buffer.concat(sorted));
}

/** INTEGER from unsigned big-endian bytes; a leading 0x00 keeps it positive. */
export function integerFromBytes(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && (bytes[start + 1] ?? 0) < 0x80) start++;
  let body = bytes.subarray(start);
  if ((body[0] ?? 0) >= 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  if (body.length === 0) body = Buffer.from([0]);
  return tlv(0x02, body);
}

export function integer(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`DER integer out of range: ${value}`);
  const bytes: number[] = [];
  for (let n = value; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return integerFromBytes(Buffer.from(bytes.length ? bytes : [0]));
}

export function boolean(value: boolean): Buffer {
  return tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
}

export function octetString(value: Buffer): Buffer {
  return tlv(0x04, value);
}

/** BIT STRING with no unused bits (keys, signatures). */
export function bitString(value: Buffer, unusedBits = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), value]));
}

export function utf8String(value: string): Buffer {
  return tlv(0x0c, Buffer.from(value, 'utf8'));
}

export function ia5String(value: string): Buffer {
  if (!/^[\x00-\x7f]*$/.test(value)) throw new RangeError(`not an IA5 string: ${value}`);
  return tlv(0x16, Buffer.from(value, 'ascii'));
}

/** OBJECT IDENTIFIER from dotted form, e.g. `2.5.4.3`. */
export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map((p) => Number.parseInt(p, 10));
  const [first, second, ...rest] = parts;
  if (first === undefined || second === undefined || parts.some((p) => !Number.isSafeInteger(p) || p < 0)) {
    throw new RangeError(`bad OID: ${dotted}`);
  }
  const out: number[] = [first * 40 + second];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) chunk.unshift((n & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** Context-specific constructed tag `[n]` wrapping already-encoded content (EXPLICIT tagging). */
export function explicit(n: number, content: Buffer): Buffer {
  return tlv(0xa0 | n, content);
}

/** Context-specific primitive tag `[n]` (IMPLICIT tagging of a primitive value). */
export function implicitPrimitive(n: number, value: Buffer): Buffer {
  return tlv(0x80 | n, value);
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** X.509 time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
export function time(date: Date): Buffer {
  const y = date.getUTCFullYear();
  const rest =
    pad2(date.getUTCMonth() + 1) +
    pad2(date.getUTCDate()) +
    pad2(date.getUTCHours()) +
    pad2(date.getUTCMinutes()) +
    pad2(date.getUTCSeconds()) +
    'Z';
  if (y >= 1950 && y < 2050) return tlv(0x17, Buffer.from(pad2(y % 100) + rest, 'ascii'));
  return tlv(0x18, Buffer.from(String(y).padStart(4, '0') + rest, 'ascii'));
}
