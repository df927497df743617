#!/bin/sh
# The generate step of scaleguard's Argo CD Config Management Plugin
# (cmp-plugin.yaml). It runs in the Application's source directory:
#
#   1. renders it: `kustomize build` when the directory holds a
#      kustomization, otherwise the YAML and JSON files in it;
#   2. judges the result with `scaleguard check --fail-on deny`, writing the
#      findings to stderr (Argo CD shows a failed generate step's stderr in
#      the Application's ComparisonError condition; stdout must hold only
#      manifests);
#   3. prints the manifests only when nothing is denied. A denial fails
#      manifest generation, so a bad commit never reaches the cluster.
#
# Exit status: 0 manifests printed; 1 denied; 2 the source could not be
# rendered or read.
#
# Parameters, set in the Application's spec.source.plugin.env (Argo CD
# passes them prefixed with ARGOCD_ENV_):
#   RECURSE=true   also read plain manifests in subdirectories, as
#                  spec.source.directory.recurse does for plain directories.
set -eu

rendered=$(mktemp)
files=$(mktemp)
trap 'rm -f "$rendered" "$files"' EXIT

if [ -e kustomization.yaml ] || [ -e kustomization.yml ] || [ -e Kustomization ]; then
	if command -v kustomize >/dev/null 2>&1; then
		kustomize build . >"$rendered" || exit 2
	elif command -v kubectl >/dev/null 2>&1; then
		kubectl kustomize . >"$rendered" || exit 2
	else
		echo "scaleguard plugin: the source is a kustomization, but neither kustomize nor kubectl is on PATH" >&2
		exit 2
	fi
	set -- -f -
else
	depth="-maxdepth 1"
	if [ "${ARGOCD_ENV_RECURSE:-false}" = true ]; then
		depth=""
	fi
	# Hidden files and folders (.git, .argocd-source-*.yaml) are not manifests.
	# shellcheck disable=SC2086
	find . $depth -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) ! -path './.*' | LC_ALL=C sort >"$files"
	# Each file is checked by name, so that findings point at the file and
	# line in Git; the output is the files one after another.
	set --
	while IFS= read -r file; do
		set -- "$@" -f "$file"
		printf -- '---\n'
		cat "$file"
		printf '\n'
	done <"$files" >"$rendered"
	if [ "$#" -eq 0 ]; then
		exit 0
	fi
fi

status=0
scaleguard check --fail-on deny "$@" <"$rendered" >&2 || status=$?
case "$status" in
0) cat "$rendered" ;;
1)
	echo "scaleguard: denied, so no manifests were generated; fix the findings above in Git" >&2
	exit 1
	;;
*) exit "$status" ;;
esac
