#!/usr/bin/env bash
# make lint: staticcheck and errcheck over the whole module, in its default
# build and in the e2e tests' build (-tags e2e). Both come from the tools
# module (tools/go.mod), so the main module's go.mod keeps only what ppg
# needs. Prints each finding once and exits 1 if there is any.
set -euo pipefail
cd "$(dirname "$0")/.."

tool=(go tool -modfile=tools/go.mod)
status=0

# -matrix checks both builds in one run and merges the results: a helper
# that only the e2e tests use is not reported as unused in the default one.
printf 'default:\ne2e: -tags=e2e\n' | "${tool[@]}" staticcheck -matrix ./... || status=1

# errcheck has no matrix: one run per build, and a finding in a file both
# builds compile is printed once. It exits 1 for findings, other codes for
# errors (a package that does not compile).
found=$(mktemp)
trap 'rm -f "$found"' EXIT
for tags in "" e2e; do
	rc=0
	"${tool[@]}" errcheck -excludeonly -exclude tools/errcheck_excludes.txt ${tags:+-tags "$tags"} ./... >>"$found" || rc=$?
	case $rc in
	0) ;;
	1) status=1 ;;
	*) cat "$found"; exit "$rc" ;;
	esac
done
sort -t: -k1,1 -k2,2n -k3,3n -u "$found"
exit "$status"
