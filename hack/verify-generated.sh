#!/usr/bin/env bash
# Fails when generated files differ from what the generators produce now:
# the deepcopy functions under apis/, docs/rules.md and the webhook
# configurations in config/webhook/manifests.yaml.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r apis "$tmp/apis.before"
./hack/generate.sh
if ! diff -r "$tmp/apis.before" apis >/dev/null; then
  diff -r "$tmp/apis.before" apis || true
  rm -rf apis && cp -r "$tmp/apis.before" apis
  echo "generated deepcopy code is out of date: run make generate" >&2
  exit 1
fi
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
echo "generated files are up to date"
