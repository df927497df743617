#!/usr/bin/env bash
# Regenerates, with controller-gen built from the version pinned in
# hack/tools: the deepcopy functions of the local API types under apis/,
# the ScaleGuardPolicy CRD in config/crd/bases from apis/scaleguard, and
# the RBAC of serve from the +kubebuilder:rbac markers next to the code that
# needs each permission (config/rbac/role.yaml; the cert-manager mode's own
# Role, from certs/certmanager, in config/certmanager/role.yaml). Then
# config/samples/default-policy.yaml from the built-in defaults, and the
# Helm chart's copies of the RBAC and the CRD.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gen="$root/bin/controller-gen"
if [ ! -x "$gen" ] || [ "$root/hack/tools/go.mod" -nt "$gen" ]; then
  (cd "$root/hack/tools" && go build -o "$gen" sigs.k8s.io/controller-tools/cmd/controller-gen)
fi
cd "$root"
"$gen" object:headerFile=hack/boilerplate.go.txt paths=./apis/...
# allowDangerousTypes: gpu.hourlyPrice is a float (a price, not a quantity).
"$gen" crd:allowDangerousTypes=true paths=./apis/scaleguard/... output:crd:artifacts:config=config/crd/bases
"$gen" rbac:roleName=scaleguard,headerFile=hack/rbac-header.txt paths="{./internal/...,./certs}" output:rbac:artifacts:config=config/rbac
"$gen" rbac:roleName=scaleguard-cert-manager,headerFile=hack/rbac-header.txt paths=./certs/certmanager output:rbac:artifacts:config=config/certmanager
go run ./hack/samples > config/samples/default-policy.yaml
# The chart installs the same RBAC and CRD (charts/chart_test.go compares).
cp config/rbac/role.yaml charts/scaleguard/files/role.yaml
cp config/certmanager/role.yaml charts/scaleguard/files/certmanager-role.yaml
cp config/crd/bases/*.yaml charts/scaleguard/crds/
