#!/usr/bin/env bash
# make dist-check: runs make dist's script, then checks its output the way a
# user would use it: six archives, SHA256SUMS that verify, and the Linux
# amd64 binary taken from its archive runs `ppg version` (stamped with the
# version and commit) and `ppg migrate-from-ea --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() {
	echo "dist-check: FAIL: $*" >&2
	exit 1
}

commit=$(git rev-parse --short=12 HEAD)
out=$(mktemp -d "${TMPDIR:-/tmp}/ppg-dist-check-XXXXXX")
trap 'rm -rf "$out"' EXIT
OUT=$out/dist VERSION=9.9.9-check bash scripts/dist.sh

n=$(find "$out/dist" -name 'ppg_9.9.9-check_*' | wc -l)
[[ $n -eq 6 ]] || fail "expected 6 archives, found $n: $(ls "$out/dist")"
(cd "$out/dist" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not verify"
[[ $(wc -l <"$out/dist/SHA256SUMS") -eq 6 ]] || fail "SHA256SUMS does not list 6 archives"

mkdir "$out/x"
tar -C "$out/x" -xzf "$out/dist/ppg_9.9.9-check_linux_amd64.tar.gz"
bin=$out/x/ppg_9.9.9-check_linux_amd64/ppg
[[ -x $bin ]] || fail "no executable ppg in the linux amd64 archive"
v=$("$bin" version) || fail "ppg version failed"
[[ $v == "ppg 9.9.9-check (commit $commit"* ]] || fail "ppg version printed '$v', expected version 9.9.9-check and commit $commit"
help=$("$bin" migrate-from-ea --help) || fail "ppg migrate-from-ea --help failed"
[[ $help == *Usage:* ]] || fail "ppg migrate-from-ea --help printed no usage"
unzip -l "$out/dist/ppg_9.9.9-check_windows_amd64.zip" | grep -q 'ppg.exe' || fail "no ppg.exe in the windows amd64 archive"
echo "dist-check: ok: 6 archives, SHA256SUMS verified; $v" >&2
