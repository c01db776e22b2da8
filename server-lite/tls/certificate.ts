// Builds X.509 v3 certificates (ECDSA P-256 / SHA-256) with node:crypto and our DER writer: the
// server's CA and its serving certificate. Pure apart from the signing call; serial numbers and
// dates are passed in so tests can pin them.
import { createHash, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import {
  bitString,
  boolean,
  explicit,
  implicitPrimitive,
  integer,
  integerFromBytes,
  octetString,
  oid,
  sequence,
  set,
  time,
  utf8String,
} from './der.ts';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

export interface CertificateSpec {
  subjectCommonName: string;
  issuerCommonName: string;
  /** Positive serial number bytes (RFC 5280: at most 20 octets). */
  serial: Buffer;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  /** Key that signs the certificate (the CA's private key, or its own for a self-signed CA). */
  signingKey: KeyObject;
  /** Public key of the issuer, for the authority key identifier. */
  issuerPublicKey: KeyObject;
  isCA: boolean;
  /**
   * CA certificates: the basicConstraints path length. Default 0 (what every CA Drover made before
   * issue 18 carries); `null`: no limit, so a successor CA can be cross-signed under it (decision 0952).
   */
  pathLen?: number | null;
  /** DNS names and IP addresses for the subjectAltName extension (serving certificates). */
  subjectAltNames?: readonly string[];
  /** Leaf certificates: extended key usages (default serverAuth only; HA replicas add clientAuth). */
  extKeyUsages?: ReadonlyArray<'serverAuth' | 'clientAuth'>;
}

function name(commonName: string): Buffer {
  return sequence(
    set(sequence(oid(OID.organization), utf8String('drover'))),
    set(sequence(oid(OID.commonName), utf8String(commonName))),
  );
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey BIT STRING contents (the raw EC point). */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // For P-256 the uncompressed point is the last 65 bytes of the SPKI.
  return createHash('sha1').update(spki.subarray(spki.length - 65)).digest();
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

export function ipBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split('.').map((p) => Number.parseInt(p, 10)));
  // IPv6: expand `::` then write 8 groups of 16 bits.
  const [head = '', tail] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...tailGroups];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(Number.parseInt(g, 16), i * 2));
  return out;
}

function dnsName(n: string): Buffer {
  if (!/^[A-Za-z0-9.*-]+$/.test(n)) throw new RangeError(`not a DNS name: ${n}`);
  return Buffer.from(n, 'ascii');
}

function subjectAltName(names: readonly string[]): Buffer {
  // GeneralName: dNSName [2] IA5String, iPAddress [7] OCTET STRING (both IMPLICIT).
  const entries = names.map((n) =>
    isIP(n) ? implicitPrimitive(7, ipBytes(n)) : implicitPrimitive(2, dnsName(n)),
  );
  return sequence(...entries);
}

function extensions(spec: CertificateSpec): Buffer {
  const list: Buffer[] = [];
  if (spec.isCA) {
    const pathLen = spec.pathLen === undefined ? 0 : spec.pathLen;
    list.push(extension(OID.basicConstraints, true, pathLen === null ? sequence(boolean(true)) : sequence(boolean(true), integer(pathLen))));
    // keyCertSign (bit 5) and cRLSign (bit 6): 0b00000110, 1 unused bit.
    list.push(extension(OID.keyUsage, true, bitString(Buffer.from([0x06]), 1)));
  } else {
    list.push(extension(OID.basicConstraints, true, sequence()));
    // digitalSignature (bit 0): 0b10000000, 7 unused bits.
    list.push(extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)));
    list.push(extension(OID.extKeyUsage, false, sequence(...(spec.extKeyUsages ?? ['serverAuth']).map((u) => oid(OID[u])))));
    if (spec.subjectAltNames && spec.subjectAltNames.length > 0) {
      list.push(extension(OID.subjectAltName, false, subjectAltName(spec.subjectAltNames)));
    }
  }
  list.push(extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(spec.publicKey))));
  list.push(
    extension(OID.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, keyIdentifier(spec.issuerPublicKey)))),
  );
  return explicit(3, sequence(...list));
}

/** Returns the DER bytes of a signed certificate. */
export function buildCertificate(spec: CertificateSpec): Buffer {
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const tbs = sequence(
    explicit(0, integer(2)), // v3
    integerFromBytes(spec.serial),
    algorithm,
    name(spec.issuerCommonName),
    sequence(time(spec.notBefore), time(spec.notAfter)),
    name(spec.subjectCommonName),
    spec.publicKey.export({ type: 'spki', format: 'der' }),
    extensions(spec),
  );
  const signature = sign('sha256', tbs, { key: spec.signingKey, dsaEncoding: 'der' });
  return sequence(tbs, algorithm, bitString(signature));
}

export function derToPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** SHA-256 of the certificate's DER bytes, lowercase hex: the hash inside join tokens. */
export function caHash(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}
