// Command etcd is etcd's own server entry point, built from its Go modules: etcd's
// main module uses relative replaces, so 'go install' cannot build it directly.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
