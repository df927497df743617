#!/usr/bin/env bash
# Prints the directory that holds the kube-apiserver and etcd binaries used by
# the integration tests and `scaleguard dev`.
#
# KUBEBUILDER_ASSETS wins when it is set (for example by setup-envtest). Otherwise
# both binaries are built from the Go module proxy into bin/k8s and reused until
# the pinned versions under hack/envtest change. Progress goes to stderr; the
# directory is the only thing written to stdout.
set -euo pipefail

if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  for b in kube-apiserver etcd; do
    if [ ! -x "$KUBEBUILDER_ASSETS/$b" ]; then
      echo "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no executable $b" >&2
      exit 1
    fi
  done
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src="$root/hack/envtest"
out="$root/bin/k8s"
mkdir -p "$out"

stamp=$(cat "$src"/kube-apiserver/go.mod "$src"/kube-apiserver/go.sum \
  "$src"/etcd/go.mod "$src"/etcd/go.sum "$src"/etcd/main.go "$0" | sha256sum | cut -d' ' -f1)
if [ -x "$out/kube-apiserver" ] && [ -x "$out/etcd" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$out"
  exit 0
fi

k8s_version=$(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3}' "$src/kube-apiserver/go.mod")
minor=$(echo "$k8s_version" | cut -d. -f2)
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"

start=$(date +%s)
echo "building etcd into $out (about 1.5 min on 2 cores when cold)" >&2
(cd "$src/etcd" && go build -trimpath -ldflags "-s -w" -o "$out/etcd" .)
echo "building kube-apiserver $k8s_version into $out (about 6-8 min on 2 cores when cold)" >&2
(cd "$src/kube-apiserver" && go build -trimpath -ldflags "$ldflags" -o "$out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
echo "$stamp" > "$out/.stamp"
echo "control plane built in $(( $(date +%s) - start ))s" >&2
echo "$out"
