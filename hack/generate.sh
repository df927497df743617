#!/usr/bin/env bash
# Regenerates, with controller-gen built from the version pinned in
# hack/tools: the deepcopy functions of the local API types under apis/, and
# the ScaleGuardPolicy CRD in config/crd/bases from apis/scaleguard. Then
# config/samples/default-policy.yaml from the built-in defaults.
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
go run ./hack/samples > config/samples/default-policy.yaml
