//go:build tools

// Package tools pins the tools of the build: the code generators used by
// `make generate`, and helm (charts/scaleguard; the chart's test imports
// the same version from the main module).
package tools

import (
	_ "helm.sh/helm/v3/cmd/helm"
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
