#!/usr/bin/env bash
# make toolchain-check: proves that e2e/toolchain.sh builds the PostgreSQL 17
# and 18 client tools on a machine that has none, from the pinned source
# alone, and that a broken pin stops it. Each case uses a new, empty prefix and a PATH
# without any PostgreSQL 17 tools; the index is never consulted.
#
#   1. a pinned checksum that is wrong      -> fails, "checksum mismatch", nothing built
#   2. a pinned version the mirror lacks    -> fails, names the versions tried
#   3. the pins as committed                -> builds; pg_dump --version reports 17
#   4. the committed 18 pins             -> builds; pg_dump --version reports 18
#   5. the machine's apt still works afterwards (no sources entry left behind)
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d "${TMPDIR:-/tmp}/ppg-toolchain-check-XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

say() { printf 'toolchain-check: %s\n' "$*" >&2; }
fail() {
	say "FAIL: $*"
	exit 1
}

# A PATH with the usual system directories only. If one of them holds a
# PostgreSQL 17 pg_dump, the check would prove nothing: refuse.
clean_path=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
if v=$(PATH=$clean_path pg_dump --version 2>/dev/null) && [[ $v =~ \(PostgreSQL\)\ (1[7-9]|[2-9][0-9]) ]]; then
	fail "a PostgreSQL ${BASH_REMATCH[1]} pg_dump is on $clean_path ($v); the check needs a machine without one"
fi

# The first committed pin, to break on purpose.
pin=$(sed -n "/^CLIENT_PINS_DEFAULT='/,/^'/p" e2e/toolchain.sh | sed -n 2p)
read -r version dsc_sha orig_sha deb_sha <<<"$pin"
[[ -n ${deb_sha:-} ]] || fail "could not read the first pin from e2e/toolchain.sh"

# run NAME [ENV...]: the client step alone into $work/NAME; output in
# $work/NAME.log. MAJOR (default 17) selects the client tools' major.
run() {
	local name=$1
	shift
	env -i HOME="$HOME" PATH="$clean_path" TMPDIR="${TMPDIR:-/tmp}" \
		PPG_TOOLCHAIN="$work/$name" PPG_TOOLCHAIN_FORCE_BUILD=1 PPG_TOOLCHAIN_NO_INDEX=1 "$@" \
		bash e2e/toolchain.sh --client-only --client-major="${MAJOR:-17}" >"$work/$name.out" 2>"$work/$name.log"
}
show() { sed 's/^/    /' "$work/$1.log" >&2; }

bad_orig=$(printf '%s' "$orig_sha" | tr '0-9a-f' '1-9a-f0')
say "1. a wrong checksum for $version must stop the build"
if run badsum PPG_TOOLCHAIN_PINS="$version $dsc_sha $bad_orig $deb_sha"; then
	show badsum
	fail "the build went on with a wrong checksum"
fi
grep -q 'checksum mismatch' "$work/badsum.log" || { show badsum; fail "the failure does not say 'checksum mismatch'"; }
[[ ! -e $work/badsum/client17/bin/pg_dump ]] || fail "a pg_dump was installed despite the wrong checksum"
say "   ok: $(grep -m1 -o 'checksum mismatch for [^ ]*' "$work/badsum.log")"

say "2. a pinned version the mirror does not serve must fail, naming it"
if run badversion PPG_TOOLCHAIN_PINS="17.0-0+ppg.none $dsc_sha $orig_sha $deb_sha"; then
	show badversion
	fail "the build succeeded with a version that does not exist"
fi
grep -q 'serves none of the postgresql-17 versions tried (17.0-0+ppg.none)' "$work/badversion.log" || {
	show badversion
	fail "the failure does not name the version tried"
}
say "   ok: $(grep -m1 -o 'serves none[^;]*' "$work/badversion.log")"

say "3. the committed pins build the client tools from an empty prefix"
start=$SECONDS
run good || { show good; fail "the build from the pinned source failed"; }
bin=$(cat "$work/good.out")
[[ $bin == "$work/good/client17/bin" ]] || fail "toolchain.sh printed '$bin', expected $work/good/client17/bin"
for tool in pg_dump pg_restore psql; do
	out=$("$bin/$tool" --version) || fail "$bin/$tool --version failed"
	[[ $out =~ \(PostgreSQL\)\ 17\. ]] || fail "$bin/$tool --version printed '$out', expected PostgreSQL 17"
done
grep -q "built from postgresql-17_$version" "$work/good/client17/.ppg-stamp" ||
	fail "the tools were not built from the first pin ($version): $(cat "$work/good/client17/.ppg-stamp")"
say "   ok: $("$bin/pg_dump" --version), built from $version in $((SECONDS - start))s"

say "4. the committed 18 pins build the 18 client tools from an empty prefix"
pin18=$(sed -n "/^CLIENT18_PINS_DEFAULT='/,/^'/p" e2e/toolchain.sh | sed -n 2p)
read -r version18 _ <<<"$pin18"
[[ -n ${version18:-} ]] || fail "could not read the first 18 pin from e2e/toolchain.sh"
start=$SECONDS
MAJOR=18 run good18 || { show good18; fail "the 18 build from the pinned source failed"; }
bin=$(cat "$work/good18.out")
[[ $bin == "$work/good18/client18/bin" ]] || fail "toolchain.sh printed '$bin', expected $work/good18/client18/bin"
for tool in pg_dump pg_restore psql; do
	out=$("$bin/$tool" --version) || fail "$bin/$tool --version failed"
	[[ $out =~ \(PostgreSQL\)\ 18\. ]] || fail "$bin/$tool --version printed '$out', expected PostgreSQL 18"
done
grep -q "built from postgresql-18_$version18" "$work/good18/client18/.ppg-stamp" ||
	fail "the 18 tools were not built from the first pin ($version18): $(cat "$work/good18/client18/.ppg-stamp")"
say "   ok: $("$bin/pg_dump" --version), built from $version18 in $((SECONDS - start))s"

say "5. the machine's apt is untouched and still works"
if ls /etc/apt/sources.list.d/ppg-* >/dev/null 2>&1; then
	fail "an apt sources entry was left behind: $(ls /etc/apt/sources.list.d/ppg-*)"
fi
if [[ $EUID -eq 0 ]]; then
	apt-get update -o DPkg::Lock::Timeout=120 >"$work/apt.log" 2>&1 || { sed 's/^/    /' "$work/apt.log" >&2; fail "apt-get update fails after the check"; }
	grep -qE '^E:' "$work/apt.log" && { sed 's/^/    /' "$work/apt.log" >&2; fail "apt-get update reports errors after the check"; }
	say "   ok: apt-get update is clean"
else
	say "   ok: no ppg sources entry (apt-get update not run: not root)"
fi
say "passed"
