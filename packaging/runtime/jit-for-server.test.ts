// Which commands leave lite mode (packaging/runtime/jit-for-server.ts): only `drover server`, only
// inside the executable, only once (the re-executed process carries --no-lite-mode).
import t from 'tap';
import { wantsJit } from './jit-for-server.ts';

t.test('jit for server: the server re-executes with the JIT, agents and admin commands do not', async (t) => {
  const lite = ['--lite-mode'];
  t.equal(wantsJit(['server', '--data-dir', 'd'], lite, true), true);
  t.equal(wantsJit(['server', '--data-dir', 'd'], [...lite, '--no-lite-mode'], true), false, 'never twice');
  t.equal(wantsJit(['agent', 'run'], lite, true), false);
  t.equal(wantsJit(['token', 'create'], lite, true), false);
  t.equal(wantsJit(['server'], lite, false), false, 'from a checkout there is no lite mode to leave');
  t.equal(wantsJit(['server'], [], true), false, 'an executable built without lite mode');
});
