#!/usr/bin/env bash
# make fuzz: every fuzz target of the module, each for a short time
# (FUZZTIME, default 10s). The committed corpus in each package's
# testdata/fuzz/<Target>/ runs first as ordinary test cases; a failure the
# fuzzer finds is written there too, so it is kept as a regression test once
# committed. With --grow, new interesting inputs from Go's fuzz cache are
# copied into the committed corpus (a few per target).
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
grow=false
[ "${1:-}" = --grow ] && grow=true

mapfile -t targets < <(grep -rl --include='*_test.go' '^func Fuzz' . | sort |
	while read -r f; do
		pkg=$(dirname "$f")
		grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed "s|^func |$pkg |"
	done)
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no fuzz targets found" >&2; exit 1; }

cache=$(go env GOCACHE)/fuzz/$(go list -m)
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	echo "fuzz: $pkg $name for $fuzztime"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"
	if $grow; then
		dest=$pkg/testdata/fuzz/$name
		mkdir -p "$dest"
		find "$cache/${pkg#./}/$name" -type f 2>/dev/null | sort | head -n 12 |
			while read -r f; do cp -n "$f" "$dest/"; done
	fi
done
