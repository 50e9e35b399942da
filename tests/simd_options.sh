#!/bin/sh
# SPDX-License-Identifier: MIT
# simd_options.sh TOOLS_DIR - magma-simd's model options and its log (ctest simd_options;
# TOOLS_DIR holds magma-simd, magma-info and magma-sim-run). A malformed or out-of-range --cores,
# --queues, --lanes or --memory (and a MAGMA_SIM_LOG naming no level) exits 2 naming the option
# and what it wants, with no socket made; --help documents each option with its default; good
# values are what a client sees (magma-info decodes MAGMA_SIM_QUERY_CONFIG), through magma-simd
# and through magma-sim-run. The log is quiet by default and speaks with --verbose (twice: debug)
# or MAGMA_SIM_LOG, for the daemon and for the embedded device. (How much bus memory --memory
# gives is what a mapping finds out: magma_system_daemon_test, test_model_options_reach_clients.)
set -u
simd=$1/magma-simd info=$1/magma-info simrun=$1/magma-sim-run
tmp=$(mktemp -d "${TMPDIR:-/tmp}/simd-options-XXXXXX")
unset MAGMA_SIM_LOG MAGMA_SYSTEM_QUIET
fails=0

fail() {
	echo "not ok - $*"
	fails=$((fails + 1))
}

# stop PIDFILE - SIGTERM to the daemon named there; waits (30 s at most) until it is gone.
stop() {
	[ -s "$1" ] || return 0
	p=$(cat "$1")
	kill -TERM "$p" 2>/dev/null
	i=0
	while kill -0 "$p" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# up PIDFILE - waits (30 s at most) until a foreground daemon wrote PIDFILE (its sockets listen).
up() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -s "$1" ]
}

# refused WANT ARGS... - magma-simd ARGS exits 2, says WANT (a grep -E pattern) on stderr and
# makes no socket.
refused() {
	want=$1
	shift
	rm -rf "$tmp/r"
	"$simd" --dir "$tmp/r" --foreground "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	st=$?
	if [ $st -ne 2 ]; then
		fail "magma-simd $*: exit $st, want 2"
	elif ! grep -Eq -- "$want" "$tmp/err"; then
		fail "magma-simd $*: stderr '$(cat "$tmp/err")' does not say '$want'"
	elif [ -e "$tmp/r/magma0" ]; then
		fail "magma-simd $*: a socket was made"
	else
		echo "ok - magma-simd $* is refused: $(cat "$tmp/err")"
	fi
}

for v in 0 33 -1 x 4x 1.5 "" 99999999999999999999; do
	refused "--cores '$v': want a number from 1 to 32 \(default 4" --cores "$v"
done
for v in 0 5 two; do
	refused "--queues '$v': want a number from 1 to 4 \(default 4" --queues "$v"
done
for v in 0 65 0x10; do
	refused "--lanes '$v': want a number from 1 to 64 \(default 32" --lanes "$v"
done
for v in 0 4K 1023K 5000 3X 2T 1MB -1M "" 99999999999999999999G; do
	refused "--memory '$v': want a size from 1M to 1T in whole 4K pages.*default 4G" \
		--memory "$v"
done
refused "--devices '17': want a number from 1 to 16" --devices 17
refused "unknown option or missing value for '--cores'" --cores
MAGMA_SIM_LOG=loud "$simd" --dir "$tmp/r" --foreground >/dev/null 2>"$tmp/err" </dev/null
st=$?
[ $st -eq 2 ] || fail "MAGMA_SIM_LOG=loud magma-simd: exit $st, want 2"
grep -q "MAGMA_SIM_LOG=loud: want off, error, warn, info or debug" "$tmp/err" ||
	fail "MAGMA_SIM_LOG=loud magma-simd: stderr '$(cat "$tmp/err")'"
[ -e "$tmp/r/magma0" ] && fail "MAGMA_SIM_LOG=loud magma-simd: a socket was made"
echo "ok - a MAGMA_SIM_LOG naming no level is refused: $(cat "$tmp/err")"

"$simd" --help >"$tmp/help" 2>&1
for opt in "--cores N .*default 4" "--queues N .*default 4" "--lanes N .*1 to 64" \
	"\(default 32\)" "--memory SIZE .*1M to 1T" "default 4G" "--verbose" "MAGMA_SIM_LOG"; do
	grep -Eq -- "$opt" "$tmp/help" || fail "magma-simd --help does not document '$opt'"
done
echo "ok - --help documents the model options, their defaults and the log"

# A configured daemon: what magma-info sees, the start-up line, and no log by default.
"$simd" --dir "$tmp/d" --foreground --pidfile "$tmp/pid" --cores 3 --queues 2 --lanes 16 \
	--memory 64m >"$tmp/out" 2>"$tmp/err" </dev/null &
if up "$tmp/pid"; then
	"$info" --device "$tmp/d/magma0" >"$tmp/info" 2>&1 || fail "magma-info against the daemon"
	grep -q "MAGMA_SIM_QUERY_CONFIG .*: cores 3, lanes 16, queues 2," "$tmp/info" ||
		fail "magma-info does not see the model: $(grep CONFIG "$tmp/info")"
	stop "$tmp/pid"
	grep -q "serving 1 device(s) in $tmp/d: 3 cores x 16 lanes, 2 queues, 64M of memory each; log error;" \
		"$tmp/err" || fail "the start-up line does not name the model: $(cat "$tmp/err")"
	[ "$(grep -vc '^magma-simd: serving' "$tmp/err")" -eq 0 ] ||
		fail "the daemon logged by default: $(cat "$tmp/err")"
	echo "ok - magma-info sees 3 cores x 16 lanes and 2 queues; nothing logged by default"
else
	fail "magma-simd with good model options did not come up: $(cat "$tmp/err")"
fi

# log_run NAME PATTERN|-- ENV=VALUE|- ARGS... - a daemon with ARGS and the variable ENV set (-:
# none), without its start-up line, serves magma-info once; its stderr must match PATTERN
# (grep -E), or be empty for "--".
log_run() {
	name=$1 want=$2 var=$3
	shift 3
	[ "$var" = - ] && var=
	rm -f "$tmp/pid"
	# shellcheck disable=SC2086 # $var is one word or none
	env $var "$simd" --dir "$tmp/l" --foreground --quiet --pidfile "$tmp/pid" "$@" \
		>/dev/null 2>"$tmp/log" </dev/null &
	if ! up "$tmp/pid"; then
		fail "$name: the daemon did not come up: $(cat "$tmp/log")"
		return
	fi
	"$info" --device "$tmp/l/magma0" >/dev/null 2>&1 || fail "$name: magma-info failed"
	stop "$tmp/pid"
	if [ "$want" = "--" ]; then
		[ -s "$tmp/log" ] && fail "$name: the daemon logged: $(head -3 "$tmp/log")" && return
	elif ! grep -Eq -- "$want" "$tmp/log"; then
		fail "$name: no '$want' in the daemon's log: $(head -3 "$tmp/log")"
		return
	fi
	echo "ok - $name"
}

info_line="magma_system: msd .*SIM-1 0x[0-9a-f]+: 8 AS slots, 4 queues"
debug_line="sim: info: \[cycle [0-9]+\] hard reset"
log_run "the daemon is quiet by default" -- -
log_run "MAGMA_SIM_LOG=warn logs no info" -- MAGMA_SIM_LOG=warn
log_run "--verbose logs info" "$info_line" - --verbose
log_run "--verbose --verbose logs debug" "$debug_line" - --verbose --verbose
log_run "MAGMA_SIM_LOG=info logs info" "$info_line" MAGMA_SIM_LOG=info
log_run "MAGMA_SIM_LOG=debug logs debug" "$debug_line" MAGMA_SIM_LOG=debug
log_run "MAGMA_SIM_LOG=off with --verbose logs info" "$info_line" MAGMA_SIM_LOG=off --verbose
log_run "MAGMA_SYSTEM_QUIET silences --verbose" -- MAGMA_SYSTEM_QUIET=1 --verbose

# The embedded device (magma-info without --device) follows MAGMA_SIM_LOG too.
"$info" >/dev/null 2>"$tmp/emb" || fail "magma-info on the embedded device"
[ -s "$tmp/emb" ] && fail "the embedded device logged by default: $(head -3 "$tmp/emb")"
MAGMA_SIM_LOG=info "$info" >/dev/null 2>"$tmp/emb" || fail "magma-info on the embedded device"
grep -Eq -- "$info_line" "$tmp/emb" ||
	fail "MAGMA_SIM_LOG=info: the embedded device did not log: $(head -3 "$tmp/emb")"
MAGMA_SIM_LOG=loud "$info" >/dev/null 2>"$tmp/emb" || fail "magma-info with MAGMA_SIM_LOG=loud"
grep -q "MAGMA_SIM_LOG=loud: want off, error, warn, info or debug; logging errors only" \
	"$tmp/emb" || fail "a bad MAGMA_SIM_LOG is not reported once: $(cat "$tmp/emb")"
echo "ok - the embedded device is quiet by default and follows MAGMA_SIM_LOG"

# magma-sim-run passes the model options and --verbose to its magma-simd.
"$simrun" --cores 5 --lanes 8 --memory 2G --verbose -- "$info" --device /dev/magma0 \
	>"$tmp/info" 2>"$tmp/err" || fail "magma-sim-run with model options"
grep -q "MAGMA_SIM_QUERY_CONFIG .*: cores 5, lanes 8, queues 4," "$tmp/info" ||
	fail "magma-sim-run: the model did not reach magma-simd: $(grep CONFIG "$tmp/info")"
grep -Eq -- "$info_line" "$tmp/err" || fail "magma-sim-run --verbose: no info line"
"$simrun" --queues 9 -- true >/dev/null 2>"$tmp/err"
st=$?
[ $st -eq 2 ] || fail "magma-sim-run --queues 9: exit $st, want 2"
grep -q -- "--queues '9': want a number from 1 to 4" "$tmp/err" ||
	fail "magma-sim-run --queues 9: the daemon's reason is not shown: $(cat "$tmp/err")"
echo "ok - magma-sim-run passes the model options and --verbose on"

rm -rf "$tmp"
[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all magma-simd option and log checks passed"
