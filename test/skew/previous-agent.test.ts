// Issue 16, version skew: the frozen previous release's agent (test/skew/previous-release.json,
// built by build-previous.ts) against the current server, through the core scenarios.
import t from 'tap';
import { coreScenarios } from './core-scenarios.ts';
import { currentBuild, previousBuild } from './skew-helpers.ts';

t.test('skew: previous agent against the current server', async (t) => {
  await coreScenarios(t, currentBuild(), previousBuild());
});
