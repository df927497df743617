#!/usr/bin/env bash
# Regenerates the deepcopy functions of the local API types under apis/ with
# controller-gen, built from the version pinned in hack/tools.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gen="$root/bin/controller-gen"
if [ ! -x "$gen" ] || [ "$root/hack/tools/go.mod" -nt "$gen" ]; then
  (cd "$root/hack/tools" && go build -o "$gen" sigs.k8s.io/controller-tools/cmd/controller-gen)
fi
cd "$root"
"$gen" object:headerFile=hack/boilerplate.go.txt paths=./apis/...
