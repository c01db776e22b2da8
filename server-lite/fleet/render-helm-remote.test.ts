import t from 'tap';
import { helmFailureCode, isRemoteChart } from './render-helm-remote.ts';

t.test('helm failures: credentials and a missing chart or version are told apart (helm 3.19 messages)', async (t) => {
  const cases: [string, string][] = [
    ['Error: looks like "https://127.0.0.1:1/charts" is not a valid chart repository or cannot be reached: failed to fetch https://127.0.0.1:1/charts/index.yaml : 401 Unauthorized', 'HELM_REPO_AUTH_FAILED'],
    ['Error: failed to perform "FetchReference" on source: GET "https://r/v2/charts/web/manifests/0.1.0": basic credential not found', 'HELM_REPO_AUTH_FAILED'],
    ['Error: failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://r/token: 403 Forbidden', 'HELM_REPO_AUTH_FAILED'],
    ['Error: chart "web" version "9.9.9" not found in https://127.0.0.1:1/charts repository', 'HELM_CHART_NOT_FOUND'],
    ['Error: Could not locate a version matching provided version string ~9.0', 'HELM_CHART_NOT_FOUND'],
    // A port or a path that contains 401/403 is not an HTTP status (the registry of a test run sat on port 33401).
    ['chart oci://127.0.0.1:33401/charts/web version ~9.0: Error: Could not locate a version matching provided version string ~9.0', 'HELM_CHART_NOT_FOUND'],
    ['Error: chart "web" version "9.9.9" not found in https://charts.example.com/403/charts repository', 'HELM_CHART_NOT_FOUND'],
    ['Error: failed to fetch 10.0.0.401:8401/charts/index.yaml : 401 Unauthorized', 'HELM_REPO_AUTH_FAILED'],
    ['Error: chart "nope" not found in https://127.0.0.1:1/charts repository', 'HELM_CHART_NOT_FOUND'],
    ['Error: Get "https://127.0.0.1:36205/charts/web-0.2.0.tgz": tls: failed to verify certificate: x509: certificate signed by unknown authority', 'HELM_REPO_TLS_FAILED'],
    ['Error: template: web/templates/cm.yaml:1:10: executing "web/templates/cm.yaml" at <.Values.x.y>: nil pointer evaluating interface {}.y', 'HELM_RENDER_FAILED'],
  ];
  for (const [stderr, code] of cases) t.equal(helmFailureCode(stderr), code, stderr.slice(0, 70));
});

t.test('helm: which charts are pulled (repository or OCI) and which are paths in the bundle', async (t) => {
  t.ok(isRemoteChart('oci://r/charts/web', undefined));
  t.ok(isRemoteChart('web', 'https://charts.example.com'));
  t.notOk(isRemoteChart('./chart', undefined));
  t.notOk(isRemoteChart(undefined, undefined));
});
