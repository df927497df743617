#!/usr/bin/env bash
# Fails when generated files differ from what the generators produce now:
# the deepcopy functions under apis/, the ScaleGuardPolicy CRD in
# config/crd, the sample policy in config/samples, the RBAC in
# config/rbac/role.yaml and config/certmanager/role.yaml, docs/rules.md and
# the webhook configurations in config/webhook/manifests.yaml, and their
# copies in the Helm chart (charts/scaleguard/files, charts/scaleguard/crds).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
generated=(apis config/crd config/samples config/rbac/role.yaml config/certmanager/role.yaml charts/scaleguard/files/role.yaml charts/scaleguard/files/certmanager-role.yaml charts/scaleguard/crds)
for d in "${generated[@]}"; do
  mkdir -p "$tmp/before/$(dirname "$d")"
  cp -r "$d" "$tmp/before/$d"
done
./hack/generate.sh
drift=0
for d in "${generated[@]}"; do
  if ! diff -r "$tmp/before/$d" "$d" >/dev/null; then
    diff -r "$tmp/before/$d" "$d" || true
    rm -rf "$d" && cp -r "$tmp/before/$d" "$d"
    echo "generated files under $d are out of date: run make generate" >&2
    drift=1
  fi
done
[ "$drift" = 0 ] || exit 1
go run ./cmd/scaleguard rules -o markdown > "$tmp/rules.md"
if ! diff -u docs/rules.md "$tmp/rules.md"; then
  echo "docs/rules.md is out of date: run make docs" >&2
  exit 1
fi
go run ./cmd/scaleguard manifests > "$tmp/manifests.yaml"
if ! diff -u config/webhook/manifests.yaml "$tmp/manifests.yaml"; then
  echo "config/webhook/manifests.yaml is out of date: run make manifests" >&2
  exit 1
fi
if ! diff -u config/webhook/manifests.yaml charts/scaleguard/files/webhooks.yaml; then
  echo "charts/scaleguard/files/webhooks.yaml is out of date: run make manifests" >&2
  exit 1
fi
echo "generated files are up to date"
