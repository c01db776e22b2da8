// What the Kubernetes test harness builds, from which Go module, with which version stamp.
// Each component is a wrapper module under test/k8s/modules/ whose go.mod/go.sum pin the exact
// release; the build cache key is derived from those files, so bumping a version rebuilds.

export const K8S_VERSION = 'v1.34.4';

export interface Component {
  /** Wrapper module directory under test/k8s/modules/. */
  module: string;
  /** Go packages to build, and the binary names they produce (same order). */
  packages: readonly string[];
  binaries: readonly string[];
  /** -X stamps so `--version` tells the truth (kwok and clients read the apiserver's /version). */
  ldflags: readonly string[];
}

const k8sStamp = [
  `k8s.io/component-base/version.gitVersion=${K8S_VERSION}`,
  'k8s.io/component-base/version.gitMajor=1',
  'k8s.io/component-base/version.gitMinor=34',
  'k8s.io/component-base/version.gitTreeState=clean',
  `k8s.io/client-go/pkg/version.gitVersion=${K8S_VERSION}`,
  'k8s.io/client-go/pkg/version.gitMajor=1',
  'k8s.io/client-go/pkg/version.gitMinor=34',
];

export const COMPONENTS: readonly Component[] = [
  {
    module: 'etcd',
    packages: ['.'],
    binaries: ['etcd'],
    ldflags: [],
  },
  {
    module: 'kubernetes',
    packages: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'].map((c) => `k8s.io/kubernetes/cmd/${c}`),
    binaries: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'],
    ldflags: k8sStamp,
  },
  {
    module: 'kwok',
    packages: ['sigs.k8s.io/kwok/cmd/kwok'],
    binaries: ['kwok'],
    ldflags: [], // kwok's version is a constant in its source
  },
  {
    module: 'helm',
    packages: ['helm.sh/helm/v3/cmd/helm'],
    binaries: ['helm'],
    ldflags: ['helm.sh/helm/v3/internal/version.version=v3.19.5', 'helm.sh/helm/v3/internal/version.gitTreeState=clean'],
  },
  {
    module: 'kustomize',
    packages: ['sigs.k8s.io/kustomize/kustomize/v5'],
    binaries: ['kustomize'],
    ldflags: ['sigs.k8s.io/kustomize/api/provenance.version=v5.8.1'],
  },
];

export const ALL_BINARIES: readonly string[] = COMPONENTS.flatMap((c) => c.binaries);

/**
 * The older release the Kubernetes-upgrade test starts from (issue 15): only kube-apiserver, the
 * one binary the test's control plane swaps. Built by test/k8s/build-upgrade-from.ts into
 * ~/.cache/drover/k8s/<UPGRADE_FROM_VERSION>/bin; etcd and the client tools come from K8S_VERSION.
 */
export const UPGRADE_FROM_VERSION = 'v1.33.13';

export const UPGRADE_FROM_COMPONENT: Component = {
  module: 'kubernetes-old',
  packages: ['k8s.io/kubernetes/cmd/kube-apiserver'],
  binaries: ['kube-apiserver'],
  ldflags: [
    `k8s.io/component-base/version.gitVersion=${UPGRADE_FROM_VERSION}`,
    'k8s.io/component-base/version.gitMajor=1',
    'k8s.io/component-base/version.gitMinor=33',
    'k8s.io/component-base/version.gitTreeState=clean',
  ],
};
