#!/usr/bin/env bash
# make dist: cross-builds ppg's release archives into dist/:
#   ppg_VERSION_linux_amd64.tar.gz   ppg_VERSION_linux_arm64.tar.gz
#   ppg_VERSION_darwin_amd64.tar.gz  ppg_VERSION_darwin_arm64.tar.gz
#   ppg_VERSION_windows_amd64.zip    ppg_VERSION_windows_arm64.zip
#   SHA256SUMS
# Each archive holds the binary (stamped with its version, commit and commit
# date), README.md and docs/. Static binaries (CGO_ENABLED=0), -trimpath, and
# archives with fixed names, owners and times: the same commit gives the same
# bytes. VERSION, COMMIT and DATE come from the environment or from git.
#
# A short script rather than a release tool: GoReleaser is not available as an
# approved release from this project's module proxy, and the job is small.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${VERSION:=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null || echo 0.0.0-dev)}"
: "${COMMIT:=$(git rev-parse --short=12 HEAD)$(git diff --quiet HEAD 2>/dev/null || echo -dirty)}"
: "${DATE:=$(git log -1 --format=%cI)}"
VERSION=${VERSION#v}
PLATFORMS=${PLATFORMS:-"linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"}
OUT=${OUT:-dist}
[[ $OUT == /* ]] || OUT=$PWD/$OUT

command -v zip >/dev/null || { echo "dist: zip is needed for the Windows archives (apt-get install zip, brew install zip)" >&2; exit 1; }
epoch=$(date -d "$DATE" +%s 2>/dev/null || date -j -f '%Y-%m-%dT%H:%M:%S%z' "${DATE/:/}" +%s)
ldflags="-s -w -X main.version=$VERSION -X main.commit=$COMMIT -X main.date=$DATE"

rm -rf "$OUT"
mkdir -p "$OUT"
stage=$(mktemp -d "${TMPDIR:-/tmp}/ppg-dist-XXXXXX")
trap 'rm -rf "$stage"' EXIT

for platform in $PLATFORMS; do
	goos=${platform%/*} goarch=${platform#*/}
	name=ppg_${VERSION}_${goos}_${goarch}
	dir=$stage/$name
	exe=ppg
	[[ $goos == windows ]] && exe=ppg.exe
	mkdir -p "$dir"
	echo "dist: $name" >&2
	CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath -buildvcs=false \
		-ldflags "$ldflags" -o "$dir/$exe" .
	cp README.md "$dir/"
	cp -r docs "$dir/docs"
	find "$dir" -exec touch -h -d "@$epoch" {} +
	if [[ $goos == windows ]]; then
		(cd "$stage" && find "$name" -print | LC_ALL=C sort | zip -q -X -@ "$OUT/$name.zip")
	else
		tar -C "$stage" --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
			-cf - "$name" | gzip -9 -n >"$OUT/$name.tar.gz"
	fi
done

(cd "$OUT" && sha256sum -- *.tar.gz *.zip 2>/dev/null >SHA256SUMS)
echo "dist: $(wc -l <"$OUT/SHA256SUMS") archives and SHA256SUMS in $OUT/ (version $VERSION, commit $COMMIT)" >&2
