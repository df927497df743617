//go:build tools

// Package tools pins the kube-apiserver used by the integration tests and the
// local control plane of `scaleguard dev`.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
