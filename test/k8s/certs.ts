// Per-cluster PKI for the test control plane: a CA, the apiserver's serving certificate, an admin
// client certificate (O=system:masters) and the service-account signing key. ECDSA P-256, made with
// the openssl CLI (test infrastructure only; the product never shells out to openssl).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  saKey: string;
  saPub: string;
}

/**
 * `DROVER_TEST_PKI_BACKDATE=-2h` (the fault suite) makes every certificate valid from that long
 * before now, through libfaketime (Debian faketime), so a client whose clock runs behind still
 * accepts the kube-apiserver (openssl 3.0 has no -not_before). Unset: certificates start now.
 */
function openssl(args: string[], cwd: string): void {
  const backdate = process.env.DROVER_TEST_PKI_BACKDATE;
  const lib = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
  const env = backdate && existsSync(lib) ? { ...process.env, LD_PRELOAD: lib, FAKETIME: backdate } : process.env;
  execFileSync('openssl', args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
}

function ecKey(path: string, cwd: string): void {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path], cwd);
}

function signed(cwd: string, name: string, subject: string, ext: string): void {
  ecKey(`${name}.key`, cwd);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], cwd);
  writeFileSync(join(cwd, `${name}.ext`), ext);
  openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`],
    cwd,
  );
}

export function makePki(dir: string): Pki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  ecKey('ca.key', dir);
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=drover-test-ca', '-days', '30', '-sha256', '-out', 'ca.crt'], dir);
  const sans = ['DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local', 'IP:127.0.0.1', 'IP:10.0.0.1'];
  signed(dir, 'apiserver', '/CN=kube-apiserver', `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${sans.join(',')}\n`);
  signed(dir, 'admin', '/O=system:masters/CN=drover-test-admin', 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  ecKey('sa.key', dir);
  openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  const p = (f: string): string => join(dir, f);
  return {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    serverCert: p('apiserver.crt'),
    serverKey: p('apiserver.key'),
    adminCert: p('admin.crt'),
    adminKey: p('admin.key'),
    saKey: p('sa.key'),
    saPub: p('sa.pub'),
  };
}
