import t from 'tap';
import { checkAgentVersion, parseSemVer, supportedRange } from './agent-version-window.ts';

t.test('parseSemVer: MAJOR.MINOR.PATCH with an optional pre-release or build tail', async (t) => {
  t.same(parseSemVer('0.2.0'), { major: 0, minor: 2, patch: 0 });
  t.same(parseSemVer('v1.12.3'), { major: 1, minor: 12, patch: 3 });
  t.same(parseSemVer('0.3.0-rc.1+abc'), { major: 0, minor: 3, patch: 0 });
  for (const bad of ['test', '', '1.2', '1.2.3.4', '01.2.3', '1.2.x', 'dev-0.2.0']) t.equal(parseSemVer(bad), undefined, bad);
});

t.test('window: the same minor, any patch, older or newer, is supported', async (t) => {
  for (const agent of ['0.4.0', '0.4.2', '0.4.9', '0.4.3-rc.1']) t.same(checkAgentVersion(agent, '0.4.2'), { ok: true, checked: true }, agent);
});

t.test('window: one and two minors back are supported, three are not', async (t) => {
  t.ok(checkAgentVersion('0.3.7', '0.4.0').ok);
  t.ok(checkAgentVersion('0.2.0', '0.4.0').ok);
  const old = checkAgentVersion('0.1.9', '0.4.0');
  t.same(old, { ok: false, reason: 'too-old', message: 'agent version 0.1.9 is too old for server version 0.4.0, which supports agents 0.2.0 to 0.4.x' });
});

t.test('window: an agent of a newer minor than the server is refused, naming both versions', async (t) => {
  const v = checkAgentVersion('0.3.0', '0.2.5');
  t.equal(v.ok, false);
  if (!v.ok) {
    t.equal(v.reason, 'too-new');
    t.match(v.message, /agent version 0\.3\.0 .*server version 0\.2\.5/);
  }
});

t.test('window: another major is refused either way', async (t) => {
  t.match(checkAgentVersion('0.9.0', '1.0.0'), { ok: false, reason: 'other-major' });
  t.match(checkAgentVersion('2.0.0', '1.5.0'), { ok: false, reason: 'other-major' });
});

t.test('window: near the bottom of a major the range starts at .0', async (t) => {
  t.equal(supportedRange({ major: 0, minor: 1, patch: 0 }), '0.0.0 to 0.1.x');
  t.same(checkAgentVersion('0.0.1', '0.1.0'), { ok: true, checked: true });
  t.ok(checkAgentVersion('0.1.0', '0.2.0').ok, 'the previous release (0.1.0) is inside the window of 0.2.0');
});

t.test('window: a version that is not semantic is not checked', async (t) => {
  t.same(checkAgentVersion('test', '0.2.0'), { ok: true, checked: false });
  t.same(checkAgentVersion(undefined, '0.2.0'), { ok: true, checked: false });
  t.same(checkAgentVersion('0.9.0', 'test'), { ok: true, checked: false });
  t.same(checkAgentVersion('0.2.0', '0.0.0-dev'), { ok: true, checked: false }, 'the in-process server default is a development build');
  t.same(checkAgentVersion('0.0.0-test', '0.5.0'), { ok: true, checked: false });
});
