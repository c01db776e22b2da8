import t from 'tap';
import { renderClusterDetail } from './cluster-view.ts';

t.test('cluster get: the human view names state, labels, Kubernetes nodes, warnings and Drover nodes', async (t) => {
  const text = renderClusterDetail({
    id: 'c-1', name: 'site-a', labels: { env: 'edge' }, state: 'Stale', lastSeen: '2026-11-24T08:00:00Z', kubernetesVersion: 'v1.34.4',
    kubernetes: {
      kubernetesVersion: 'v1.34.4', collectedAt: '2026-11-24T07:59:00Z',
      nodes: [{ name: 'n0', kubeletVersion: 'v1.34.4', allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'False' }] }],
      warnings: [{ namespace: 'web', object: 'Pod/p', reason: 'BackOff', message: 'Back-off\nrestarting', count: 3, lastSeen: '2026-11-24T07:58:00Z' }],
    },
    nodes: [{ id: 'n-1', name: 'edge-1', state: 'Stale', lastSeen: null, roles: ['cluster', 'fleet'] }],
  });
  t.match(text, /state:\s+Stale, last seen 2026-11-24T08:00:00Z/);
  t.match(text, /labels:\s+env=edge/);
  t.match(text, /n0\s+False\s+v1\.34\.4\s+4\s+8Gi\s+110/);
  t.match(text, /web\/Pod\/p\s+BackOff\s+3\s+Back-off restarting/);
  t.match(text, /n-1\s+edge-1\s+Stale\s+-\s+cluster,fleet/);
});

t.test('cluster get: a cluster without facts says unknown instead of inventing any', async (t) => {
  const text = renderClusterDetail({ id: 'c-2', name: 'x', labels: {}, state: 'Offline', lastSeen: null, kubernetesVersion: null });
  t.match(text, /kubernetes:\s+unknown/);
  t.match(text, /labels:\s+-/);
  t.notMatch(text, /NODE/);
});

t.test('cluster get: its bundles with state, revision and message, or a plain "none"', async (t) => {
  const base = { id: 'c-3', name: 'y', labels: {}, state: 'Connected', lastSeen: null, kubernetesVersion: null };
  const text = renderClusterDetail({
    ...base,
    fleet: {
      state: 'NotReady', summary: { ready: 1, notReady: 1 },
      bundles: [
        { name: 'demo-web', state: 'Ready', message: '3 object(s) ready', revision: '0123456789abcdef' },
        { name: 'demo-api', state: 'NotReady', message: '1 object(s) not ready:\nDeployment x', revision: 'fedcba9876543210' },
      ],
    },
  });
  t.match(text, /bundles:\s+1\/2 ready, worst NotReady/);
  t.match(text, /demo-web\s+Ready\s+0123456789ab\s+3 object\(s\) ready/);
  t.match(text, /demo-api\s+NotReady\s+fedcba987654\s+1 object\(s\) not ready: Deployment x/);
  t.match(renderClusterDetail({ ...base, fleet: { state: 'Ready', summary: {}, bundles: [] } }), /bundles:\s+none target this cluster/);
});

t.test('cluster get: says which path serves the Kubernetes API (cluster agent, node agent fallback, none)', async (t) => {
  const base = { id: 'c-4', name: 'z', labels: {}, state: 'Connected', lastSeen: null, kubernetesVersion: null };
  t.match(renderClusterDetail({ ...base, kubernetesAccess: { path: 'cluster-agent', agentId: 'a-1', nodeId: 'n-1' } }), /api access:\s+through the cluster agent/);
  t.match(renderClusterDetail({ ...base, kubernetesAccess: { path: 'node-agent', agentId: 'a-2', nodeId: 'n-2' } }), /api access:\s+through the node agent on n-2 \(fallback: the cluster agent is not connected\)/);
  t.match(renderClusterDetail({ ...base, kubernetesAccess: { path: 'none', agentId: null, nodeId: null } }), /api access:\s+none/);
});
