// dependsOn: cycles refused up front (the agent side of dependsOn is agents/fleet's).
import t from 'tap';
import { assertNoDependencyCycle } from './dependencies.ts';

t.test('dependsOn: cycles are DEPENDENCY_CYCLE naming the cycle; chains and unknown names are fine', async (t) => {
  t.doesNotThrow(() => assertNoDependencyCycle([{ name: 'app', dependsOn: [{ name: 'db' }] }, { name: 'db', dependsOn: [{ name: 'infra' }] }, { name: 'infra' }]));
  t.doesNotThrow(() => assertNoDependencyCycle([{ name: 'app', dependsOn: [{ name: 'elsewhere' }] }]));
  t.throws(() => assertNoDependencyCycle([{ name: 'a', dependsOn: [{ name: 'b' }] }, { name: 'b', dependsOn: [{ name: 'c' }] }, { name: 'c', dependsOn: [{ name: 'a' }] }]), {
    code: 'DEPENDENCY_CYCLE',
    message: /a → b → c → a/,
  });
  t.throws(() => assertNoDependencyCycle([{ name: 'self', dependsOn: [{ name: 'self' }] }]), { code: 'DEPENDENCY_CYCLE' });
});
