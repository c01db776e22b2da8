// Issue 16, version skew: the current agent against the frozen previous release's server
// (a server restored to the previous release keeps its agents), through the core scenarios.
import t from 'tap';
import { coreScenarios } from './core-scenarios.ts';
import { currentBuild, previousBuild } from './skew-helpers.ts';

t.test('skew: current agent against the previous server', async (t) => {
  await coreScenarios(t, previousBuild(), currentBuild());
});
