// For the demo (bin/demo): a private git repository over HTTPS with basic auth on loopback (git
// http-backend behind lighttpd, as in the source tests), seeded with one bundle. Prints one JSON
// line {url, caFile} and serves until SIGTERM, then removes everything it made.
// Usage: DEMO_GIT_PASSWORD=… node test/sources/serve-git.ts OUT_DIR
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { bareRepo, startHttpsServer } from './servers.ts';
import { workingCopy } from './git-repo.ts';

const out = process.argv[2];
const password = process.env.DEMO_GIT_PASSWORD;
if (!out || !password) {
  process.stderr.write('usage: DEMO_GIT_PASSWORD=… node test/sources/serve-git.ts OUT_DIR\n');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const server = await startHttpsServer('deploy', password);
const wc = workingCopy(bareRepo(server.reposDir, 'demo.git'));
wc.commit({
  'web/fleet.yaml': 'defaultNamespace: demo-private\n',
  'web/configmap.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-private-git}\ndata: {greeting: "hello from a private repository"}\n',
}, 'a bundle in a private repository');
wc.remove();
const caFile = join(out, 'git-ca.crt');
copyFileSync(join(server.dir, 'ca.crt'), caFile);
process.stdout.write(`${JSON.stringify({ url: `${server.url}/git/demo.git`, caFile })}\n`);
const stop = (): void => void server.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setInterval(() => {}, 1 << 30);
