// Command etcd is the etcd server used by the integration tests and the local
// control plane of `scaleguard dev`, built from the Go module proxy.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
