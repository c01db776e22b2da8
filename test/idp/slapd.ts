// Starts Debian's slapd for a test: a temp directory with a slapd.conf, an MDB database loaded
// with slapadd from a small directory tree (people, groups, a read-only service account), served
// on loopback over plain LDAP (for StartTLS) and LDAPS, with a serving certificate from a CA the
// test makes (test/k8s/certs.ts). stop() kills it and removes nothing the caller owns.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { makePki } from '../k8s/certs.ts';
import { freePorts } from '../k8s/ports.ts';

export const LDAP_BASE = 'dc=drover,dc=test';
export const LDAP_READER = { dn: `cn=reader,${LDAP_BASE}`, password: 'reader-secret-1' };
/** People in the test tree: uid → password and the groups (cn under ou=groups) they belong to. */
export const LDAP_PEOPLE: Readonly<Record<string, { password: string; groups: string[] }>> = Object.freeze({
  alice: { password: 'alice-pass-1', groups: ['ops'] },
  bob: { password: 'bob-pass-1', groups: ['viewers'] },
  carol: { password: 'carol-pass-1', groups: [] },
});
export const ALL_GROUPS = ['ops', 'viewers', 'nobody'];

export interface Slapd {
  dir: string;
  /** ldap://127.0.0.1:PORT (StartTLS) and ldaps://127.0.0.1:PORT. */
  ldapUrl: string;
  ldapsUrl: string;
  caFile: string;
  caPem: string;
  rootDn: string;
  rootPassword: string;
  /** Runs ldapmodify as the root DN with this LDIF (tests change the directory under the provider). */
  modify(ldif: string): void;
  stop(): Promise<void>;
}

const ROOT_PASSWORD = 'root-secret-1';

function ldif(): string {
  const out = [
    `dn: ${LDAP_BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: drover\no: Drover test`,
    `dn: ${LDAP_READER.dn}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: ${LDAP_READER.password}`,
    `dn: ou=people,${LDAP_BASE}\nobjectClass: organizationalUnit\nou: people`,
    `dn: ou=groups,${LDAP_BASE}\nobjectClass: organizationalUnit\nou: groups`,
  ];
  for (const [uid, p] of Object.entries(LDAP_PEOPLE)) {
    out.push(`dn: uid=${uid},ou=people,${LDAP_BASE}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: ${uid}\nsn: ${uid}\nmail: ${uid}@drover.test\nuserPassword: ${p.password}`);
  }
  for (const g of ALL_GROUPS) {
    const members = Object.entries(LDAP_PEOPLE).filter(([, p]) => p.groups.includes(g)).map(([uid]) => `member: uid=${uid},ou=people,${LDAP_BASE}`);
    // groupOfNames needs at least one member: the reader stands in for an empty group.
    out.push(`dn: cn=${g},ou=groups,${LDAP_BASE}\nobjectClass: groupOfNames\ncn: ${g}\n${(members.length ? members : [`member: ${LDAP_READER.dn}`]).join('\n')}`);
  }
  return out.join('\n\n') + '\n';
}

function conf(dir: string, pki: { caCert: string; serverCert: string; serverKey: string }): string {
  return `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
TLSCACertificateFile ${pki.caCert}
TLSCertificateFile ${pki.serverCert}
TLSCertificateKeyFile ${pki.serverKey}
database mdb
maxsize 33554432
suffix "${LDAP_BASE}"
rootdn "cn=admin,${LDAP_BASE}"
rootpw ${ROOT_PASSWORD}
directory ${dir}/db
index objectClass eq
index uid eq
index member eq
access to attrs=userPassword
  by self read
  by anonymous auth
  by * none
access to *
  by dn.exact="${LDAP_READER.dn}" read
  by self read
  by * none
`;
}

function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null) return reject(new Error(`slapd exited (${child.exitCode}):\n${log()}`));
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`slapd did not listen on ${port}:\n${log()}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

export async function startSlapd(dir: string): Promise<Slapd> {
  mkdirSync(join(dir, 'db'), { recursive: true, mode: 0o700 });
  const pki = makePki(join(dir, 'pki'));
  const confFile = join(dir, 'slapd.conf');
  writeFileSync(confFile, conf(dir, pki));
  writeFileSync(join(dir, 'data.ldif'), ldif());
  execFileSync('slapadd', ['-f', confFile, '-l', join(dir, 'data.ldif')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const [ldapPort, ldapsPort] = await freePorts(2);
  const ldapUrl = `ldap://127.0.0.1:${ldapPort}`;
  const ldapsUrl = `ldaps://127.0.0.1:${ldapsPort}`;
  // -d 0: stay in the foreground (a child we can stop) without debug output.
  const child = spawn('/usr/sbin/slapd', ['-d', '0', '-f', confFile, '-h', `${ldapUrl}/ ${ldapsUrl}/`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer): void => void (out = (out + b.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  await waitForPort(ldapsPort ?? 0, child, () => out);
  return {
    dir,
    ldapUrl,
    ldapsUrl,
    caFile: pki.caCert,
    caPem: readFileSync(pki.caCert, 'utf8'),
    rootDn: `cn=admin,${LDAP_BASE}`,
    rootPassword: ROOT_PASSWORD,
    modify(change: string) {
      execFileSync('ldapmodify', ['-x', '-H', ldapUrl, '-D', `cn=admin,${LDAP_BASE}`, '-w', ROOT_PASSWORD], { input: change, stdio: ['pipe', 'ignore', 'pipe'] });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
