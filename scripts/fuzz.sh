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
	# Go before 1.27 can end a run whose -fuzztime expires while a worker
	# is busy with a bare "context deadline exceeded" and no failing input
	# (go.dev/issue/75804): that run is tried once more. A real finding
	# writes its input to testdata/fuzz and fails at once.
	for try in 1 2; do
		log=$(mktemp)
		if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | tee "$log"; then
			rm -f "$log"
			break
		fi
		if [ "$try" = 1 ] && grep -q 'context deadline exceeded' "$log" &&
			! grep -qE 'Failing input written|panic:' "$log" &&
			! grep -qE '^\s+[A-Za-z0-9_]+_test\.go:[0-9]+:' "$log"; then
			echo "fuzz: $name ended on Go's fuzztime deadline race with no failing input; running it again"
			rm -f "$log"
			continue
		fi
		rm -f "$log"
		exit 1
	done
	if $grow; then
		dest=$pkg/testdata/fuzz/$name
		mkdir -p "$dest"
		find "$cache/${pkg#./}/$name" -type f 2>/dev/null | sort | head -n 12 |
			while read -r f; do cp -n "$f" "$dest/"; done
	fi
done
