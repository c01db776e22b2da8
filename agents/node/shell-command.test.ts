import t from 'tap';
import { execFileSync } from 'node:child_process';
import { exitStatus, parseShellMetadata, shellQuote, spawnFor } from './shell-command.ts';

t.test('shell command: quoting survives quotes, spaces and $ through a real /bin/sh', async (t) => {
  for (const s of [`it's`, 'a b', '$HOME', '"x"', '\\', '', 'ünïcode']) {
    t.equal(execFileSync('/bin/sh', ['-c', `printf %s ${shellQuote(s)}`]).toString(), s, JSON.stringify(s));
  }
});

t.test('shell command: a TTY runs through script with the size set and the tty name on fd 3', async (t) => {
  const s = spawnFor({ command: ['sh', '-c', 'exit 3'], tty: true, rows: 40, cols: 100, term: 'xterm' }, true);
  t.equal(s.file, 'script');
  t.same(s.args.slice(0, 3), ['-q', '-e', '-c']);
  t.equal(s.args[3], `stty rows 40 cols 100 2>/dev/null; tty >&3; exec 3>&-; exec 'sh' '-c' 'exit 3'`);
  t.equal(s.args[4], '/dev/null');
  t.match(spawnFor({ command: [], tty: true, rows: 0, cols: 0, term: 'xterm' }, false).args[3], /^tty >&3; exec 3>&-; exec '\/bin\/sh' '-l'$/, 'no size: none set');
});

t.test('shell command: without a TTY the argv runs as it is', async (t) => {
  t.same(spawnFor({ command: ['uname', '-a'], tty: false, rows: 0, cols: 0, term: 'xterm' }, true), { file: 'uname', args: ['-a'] });
  t.same(spawnFor({ command: [], tty: false, rows: 0, cols: 0, term: 'xterm' }, true), { file: '/bin/bash', args: ['-l'] });
});

t.test('shell command: exit status is the code, or 128 + signal', async (t) => {
  t.equal(exitStatus(7, null, () => 0), 7);
  t.equal(exitStatus(null, 'SIGINT', () => 2), 130);
});

t.test('shell command: metadata is checked', async (t) => {
  t.same(parseShellMetadata({ command: '["ls","-l"]', tty: '1', rows: '24', cols: '80', term: 'xterm-256color' }), { command: ['ls', '-l'], tty: true, rows: 24, cols: 80, term: 'xterm-256color' });
  t.equal(parseShellMetadata({ command: '{' }), 'command is not JSON');
  t.match(parseShellMetadata({ command: '[1]' }), /array of at most/);
  t.match(parseShellMetadata({ command: '[""]' }), /empty/);
  t.same(parseShellMetadata({ term: 'x; rm -rf /', rows: '-1' }), { command: [], tty: false, rows: 0, cols: 0, term: 'xterm' });
});
