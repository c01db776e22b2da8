// Flag parsing of the server-side commands, and the help contract (every command shows an example).
import t from 'tap';
import { buildProgram } from '../program.ts';
import { parseListen } from './server.ts';
import { parseDuration, parseLabelList } from './token.ts';
import { parseLabelEdits } from './cluster.ts';
import { CliError } from '../admin-client.ts';

t.test('server: --listen forms', async (t) => {
  t.same(parseListen('0.0.0.0:9443'), { host: '0.0.0.0', port: 9443 });
  t.same(parseListen('[::]:9443'), { host: '::', port: 9443 });
  t.same(parseListen(':8443'), { host: '0.0.0.0', port: 8443 });
  t.same(parseListen('8443'), { host: '0.0.0.0', port: 8443 });
  t.same(parseListen('drover.lan:443'), { host: 'drover.lan', port: 443 });
  for (const bad of ['', 'host', 'host:99999', '[nothex]:1', 'a:b']) t.throws(() => parseListen(bad), CliError, bad);
});

t.test('token: --ttl durations and --labels lists', async (t) => {
  t.equal(parseDuration('0'), 0);
  t.equal(parseDuration('90s'), 90);
  t.equal(parseDuration('1h30m'), 5400);
  t.equal(parseDuration('7d'), 604800);
  for (const bad of ['', 'soon', '10', '1h x', '-1h']) t.throws(() => parseDuration(bad), CliError, bad);
  t.same(parseLabelList('a=1, b=two,c=', '--labels'), { a: '1', b: 'two', c: '' });
  t.throws(() => parseLabelList('novalue', '--labels'), CliError);
});

t.test('cluster: label edits set with k=v and remove with k-', async (t) => {
  t.same(parseLabelEdits(['env=prod', 'tier-', 'a=b=c']), { env: 'prod', tier: null, a: 'b=c' });
  t.throws(() => parseLabelEdits(['=x']), CliError);
});

t.test('help: every server-side command shows an example and every flag has a DROVER_ env mirror', async (t) => {
  const program = buildProgram();
  for (const group of ['server', 'token', 'cluster', 'identity']) {
    const cmd = program.commands.find((c) => c.name() === group);
    t.ok(cmd, group);
    if (!cmd) continue;
    const all = [cmd, ...cmd.commands];
    for (const c of all) {
      let help = '';
      c.configureOutput({ writeOut: (s) => (help += s), writeErr: (s) => (help += s) });
      c.outputHelp();
      t.match(help, /Examples?:\n\s+drover /, `${group} ${c.name()} --help has an example`);
      for (const opt of c.options) {
        if (opt.long === '--help') continue;
        t.match(opt.envVar ?? '', /^DROVER_[A-Z_]+$/, `${group} ${c.name()} ${opt.long} has an env mirror`);
      }
    }
  }
});
