import t from 'tap';
import { generateKeyPairSync, sign } from 'node:crypto';
import { checkSha, expectedSha, parseSums, sha256Hex, verifiedVersion, verifyRelease, verifySumsSignature } from './release-verify.ts';

const pair = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
};
const exe = Buffer.from('#!/bin/sh\necho new drover\n');
const version = Buffer.from('0.2.0\n');
const sums = `${sha256Hex(version)}  VERSION\n${sha256Hex(exe)}  drover-linux-amd64\n${'a'.repeat(64)}  drover-linux-arm64\n${'b'.repeat(64)}  systemd/drover-agent.service\n`;
const code = (code: string) => ({ name: 'UpgradeError', code });

t.test('release: a signed sha256sums verifies and names the artifact for the CPU', async (t) => {
  const k = pair();
  const sig = sign(null, Buffer.from(sums), k.privateKey).toString('base64');
  const r = verifyRelease({ sumsText: sums, signature: `${sig}\n`, publicKeyPem: k.pem, arch: 'amd64' });
  t.equal(r.artifact, 'drover-linux-amd64');
  t.equal(r.sha256, sha256Hex(exe));
  t.equal(verifiedVersion(r.sums, version), '0.2.0');
  t.equal(expectedSha(r.sums, 'arm64'), 'a'.repeat(64));
  t.equal(r.sums.get('systemd/drover-agent.service'), 'b'.repeat(64));
});

t.test('release: a bad signature is refused with SIGNATURE_INVALID', async (t) => {
  const k = pair();
  const other = pair();
  const sig = sign(null, Buffer.from(sums), k.privateKey).toString('base64');
  t.throws(() => verifySumsSignature(sums, sig, other.pem), code('SIGNATURE_INVALID'), 'signed by another key');
  t.throws(() => verifySumsSignature(sums.replace('amd64', 'arm64x'), sig, k.pem), code('SIGNATURE_INVALID'), 'sums changed after signing');
  t.throws(() => verifySumsSignature(sums, 'not base64 at all', k.pem), code('SIGNATURE_INVALID'), 'garbage signature');
  t.throws(() => verifySumsSignature(sums, '', k.pem), code('SIGNATURE_INVALID'), 'empty signature');
  const flipped = Buffer.from(sig, 'base64');
  flipped[3] = (flipped[3] ?? 0) ^ 1;
  t.throws(() => verifySumsSignature(sums, flipped.toString('base64'), k.pem), code('SIGNATURE_INVALID'), 'one bit flipped');
});

t.test('release: a bad checksum is refused with CHECKSUM_MISMATCH', async (t) => {
  const r = parseSums(sums);
  const damaged = Buffer.concat([exe, Buffer.from('x')]);
  t.throws(() => checkSha('drover-linux-amd64', sha256Hex(damaged), expectedSha(r, 'amd64')), code('CHECKSUM_MISMATCH'));
  t.doesNotThrow(() => checkSha('drover-linux-amd64', sha256Hex(exe), expectedSha(r, 'amd64')));
  t.throws(() => verifiedVersion(r, Buffer.from('9.9.9\n')), code('CHECKSUM_MISMATCH'), 'VERSION changed');
});

t.test('release: sums without the CPU or VERSION, or malformed, are refused', async (t) => {
  const r = parseSums(`${sha256Hex(exe)}  drover-linux-amd64\n`);
  t.throws(() => expectedSha(r, 'arm64'), code('ARTIFACT_MISSING'));
  t.throws(() => verifiedVersion(r, version), code('VERSION_MISSING'));
  t.throws(() => parseSums(''), code('SUMS_INVALID'));
  t.throws(() => parseSums('abc  drover-linux-amd64\n'), code('SUMS_INVALID'));
  t.throws(() => parseSums(`${'a'.repeat(64)}  ../../etc/passwd\n`), code('SUMS_INVALID'), 'no path traversal');
  t.throws(() => parseSums(`${'a'.repeat(64)}  x\n${'b'.repeat(64)}  x\n`), code('SUMS_INVALID'), 'duplicate names');
  t.equal(parseSums(`${'a'.repeat(64)} *drover-linux-amd64\n`).get('drover-linux-amd64'), 'a'.repeat(64), 'binary-mode lines');
});
