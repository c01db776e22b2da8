// The distribution registry with only what the source tests use: htpasswd auth and the
// filesystem storage driver. Upstream's cmd/registry also links the Azure, GCS and S3 drivers,
// whose SDKs are most of a cold build's 1.2 GB of module downloads (test/sources/build-registry.ts).
package main

import (
	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

func main() {
	// Execute reports its own errors and exits non-zero on failure.
	_ = registry.RootCmd.Execute()
}
