#!/usr/bin/env bash
# make demo: start the local sandbox (an EA database with sample data, an
# empty GA database, a gateway emulator), print its keys and migrate EA -> GA
# with ppg's wizard, the way a user would with real keys (headless when there
# is no terminal). The sandbox then stays up for a look around until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
. "$(bash e2e/toolchain.sh)"

go build -o bin/ppg .
work=$(mktemp -d "${TMPDIR:-/tmp}/ppg-demo-XXXXXX")
go build -o "$work/sandbox" ./e2e/cmd/sandbox
"$work/sandbox" -quiet -env-file "$work/sandbox.env" >"$work/sandbox.out" 2>"$work/sandbox.log" &
sandbox=$!
stop() { kill "$sandbox" 2>/dev/null; wait "$sandbox" 2>/dev/null; rm -rf "$work"; }
trap stop EXIT
trap 'exit 130' INT TERM

for _ in $(seq 1 120); do
	[[ -s $work/sandbox.env ]] && break
	kill -0 "$sandbox" 2>/dev/null || { cat "$work/sandbox.log" >&2; exit 1; }
	sleep 0.5
done
set -a
. "$work/sandbox.env"
set +a
cat "$work/sandbox.out"

mkdir -p "$work/migration"
bin=$PWD/bin/ppg
if [[ -t 0 && -t 1 ]]; then
	# A terminal: run the wizard, as a user would; paste the keys above.
	echo "Starting the wizard in $work/migration: paste the EA key, then the GA key, when asked."
	read -r -p "Press Enter to start. " _
	(cd "$work/migration" && PPG_PG_BIN=$PPG_CLIENT_BIN "$bin" migrate-from-ea) || true
else
	echo "No terminal: migrating headless in $work/migration:"
	(
		cd "$work/migration"
		PPG_EA_DATABASE_URL=$PPG_SANDBOX_EA_KEY PPG_GA_DATABASE_URL=$PPG_SANDBOX_GA_KEY PPG_PG_BIN=$PPG_CLIENT_BIN \
			"$bin" migrate-from-ea --non-interactive
	)
fi
echo
echo "Run it again in $work/migration to see it resume: cd $work/migration && PPG_WS_URL=$PPG_WS_URL PPG_PG_BIN=$PPG_CLIENT_BIN $bin migrate-from-ea"
echo "The sandbox keeps running (PPG_WS_URL=$PPG_WS_URL); press Ctrl-C to stop it."
wait "$sandbox"
