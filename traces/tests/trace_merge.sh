#!/bin/sh
# SPDX-License-Identifier: MIT
# trace_merge.sh MODE MAGMA_SIMD MAGMA_SIM_RUN TRACE_SAMPLE MAGMA_TRACE MAGMA_REPLAY
#
# magma-simd --trace and magma-trace merge against a real daemon (docs/trace-format.md, "Daemon
# recording"; docs/trace-tools.md, "merge"):
#   session - a client recorded through magma-sim-run --trace, merged: the merged trace has one
#             job (JOB_START naming the client's connection) per submission, after the call that
#             submitted it, device events in time order, replays with every digest, and compares
#             equal (diff) and in jobs and submissions (stats) to an embedded recording of the
#             same program;
#   clients - one daemon, several clients (one before, two at once) and a second device: each
#             merge holds exactly its own jobs, leaves the others' out and replays; a client of
#             device 1 merges with FILE.1, not FILE; a fault plan and --trace on one daemon: the
#             faulting job's FAULT names the client's connection;
#   bad     - --trace FILE that cannot be created, or that another daemon writes: exit 2 at
#             start, nothing served; merge of truncated, swapped, mismatched, embedded and
#             non-trace inputs: exit 2 and no output.
set -u
mode=$1 simd=$2 simrun=$3 sample=$4 tool=$5 replay=$6
tmp=$(mktemp -d "${TMPDIR:-/tmp}/trace-merge-XXXXXX") || exit 1
checks=0 pids=""

fail() {
	echo "not ok - $*"
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	rm -rf "$tmp"
	exit 1
}

ok() {
	checks=$((checks + 1))
	echo "ok - $*"
}

# expect STATUS PATTERN CMD... - runs CMD (output to $tmp/out), checks its exit status and that
# its output matches the extended regular expression PATTERN.
expect() {
	want=$1 pattern=$2
	shift 2
	"$@" >"$tmp/out" 2>&1
	st=$?
	[ "$st" -eq "$want" ] || { cat "$tmp/out"; fail "$* -> exit $st (want $want)"; }
	grep -Eq -- "$pattern" "$tmp/out" || { cat "$tmp/out"; fail "$*: no /$pattern/"; }
	ok "$* -> $want"
}

# gone FILE - waits (30 s at most, a hang guard) until FILE no longer exists.
gone() {
	i=0
	while [ -e "$1" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ ! -e "$1" ]
}

# start_daemon DIR PIDFILE ARGS... - a magma-simd serving DIR until stop_daemon.
start_daemon() {
	d=$1 p=$2
	shift 2
	"$simd" --dir "$d" --quiet --pidfile "$p" "$@"
	st=$?
	[ -s "$p" ] && pids="$pids $(cat "$p")"
	[ $st -eq 0 ] || fail "magma-simd $* starts (exit $st)"
}

# stop_daemon PIDFILE - SIGTERM, then wait until it is gone (its traces are complete then).
stop_daemon() {
	kill -TERM "$(cat "$1")" || fail "the daemon runs until stopped"
	gone "$1" || fail "the daemon stops on SIGTERM"
}

# check_merged CLIENT MERGED - the merged trace holds one JOB_START of the client per accepted
# submission, each after its call (its "submission" names an earlier execute_* event), device
# events in host-time order, and each device event placed before a client event stamped no
# earlier than itself.
check_merged() {
	subs=$(grep -c '"call":"execute_\(command\|inline\)".*"result":0' "$1")
	jobs=$(grep -c '"ev":"JOB_START".*"connection":' "$2")
	[ "$subs" -gt 0 ] || fail "$1 has submissions"
	[ "$jobs" -eq "$subs" ] || fail "$2: $jobs jobs of the client, $subs submissions in $1"
	awk '
	function ns(line) { sub(/.*"ns":/, "", line); sub(/}.*/, "", line); return line + 0 }
	function seq(line) { sub(/^\{"seq":/, "", line); sub(/,.*/, "", line); return line + 0 }
	/"type":"call","call":"execute_(command|inline)"/ { submitted[seq($0)] = 1 }
	/"type":"dev"/ {
		t = ns($0)
		if (t < last_dev) { print "device events out of time order at seq " seq($0); bad = 1 }
		last_dev = t; pending = t
		if ($0 ~ /"ev":"JOB_START".*"submission":/) {
			s = $0; sub(/.*"submission":/, "", s); sub(/,.*/, "", s)
			if (!(s in submitted)) { print "JOB_START before its call " s; bad = 1 }
		}
		next
	}
	/"type":"(call|completion)"/ {
		if (pending != "" && pending > ns($0)) {
			print "device event stamped after the client event following it, seq " seq($0)
			bad = 1
		}
		pending = ""
	}
	END { exit bad }' "$2" || fail "$2: order"
	ok "$2: $jobs jobs for $subs submissions, each after its call, device events in time order"
}

# normalized_stats TRACE - what must agree between an embedded and a merged recording: calls,
# submissions, per queue the jobs and ring entries, per context the submissions (not cycles, not
# handles; not which context stats gave a job: the embedded writer may write a JOB_START before
# its submission's call, and stats then leaves that job unattributed).
normalized_stats() {
	"$tool" stats "$1" >"$tmp/stats.raw" || fail "magma-trace stats $1"
	keep='^  [a-z_]+ +[0-9]+ +[0-9]+$|^  execute_command [0-9]|^  queue [0-9]+:'
	keep="$keep|^    connection [0-9]+ context"
	grep -E "$keep" "$tmp/stats.raw" |
		sed -e 's/, busy .*//' -e 's/^    connection [0-9]* /    connection C /' \
			-e 's/ submissions, .*/ submissions/'
}

case $mode in
session)
	# The client through magma-sim-run (the shim's /dev/magma0) with the daemon recording.
	MAGMA_TRACE=$tmp/client.json MAGMA_DEVICE=/dev/magma0 \
		"$simrun" --trace "$tmp/daemon.json" -- "$sample" waits 4 >"$tmp/run.out" 2>&1 ||
		{ cat "$tmp/run.out"; fail "trace-sample waits against magma-sim-run --trace"; }
	[ "$(tail -c 3 "$tmp/daemon.json" | tr -d '\n')" = "]}" ] || fail "the daemon's trace is closed"
	grep -q '"writer":"magma-simd".*"daemon":{"device":0' "$tmp/daemon.json" ||
		fail "the daemon's header names its device"
	grep -q '"ev":"CONNECTION_OPENED"' "$tmp/daemon.json" || fail "connections are recorded"
	ok "magma-sim-run --trace: the daemon's trace is whole"
	expect 0 "^replayed .* 0 divergences" "$replay" "$tmp/daemon.json" --quiet
	expect 0 "^merged .* of the client, [0-9]+ of the device" \
		"$tool" merge "$tmp/client.json" "$tmp/daemon.json" "$tmp/merged.json"
	check_merged "$tmp/client.json" "$tmp/merged.json"
	expect 0 "^replayed .* [1-9][0-9]* completions checked, 0 divergences" \
		"$replay" "$tmp/merged.json" --quiet
	expect 0 "timeline written" "$replay" "$tmp/merged.json" --quiet --timeline "$tmp/tl.json"
	"$tool" merge "$tmp/client.json" "$tmp/daemon.json" "$tmp/merged2.json" >/dev/null ||
		fail "merge again"
	cmp -s "$tmp/merged.json" "$tmp/merged2.json" || fail "the same inputs merge to the same bytes"
	ok "merging twice gives the same bytes"
	# The same program on the embedded device.
	MAGMA_TRACE=$tmp/embedded.json "$sample" waits 4 >"$tmp/run.out" 2>&1 ||
		{ cat "$tmp/run.out"; fail "trace-sample waits on the embedded device"; }
	expect 0 "^the same" "$tool" diff "$tmp/embedded.json" "$tmp/merged.json"
	# The replay digest hashes every completion digest: the client's own, the merge's and the
	# embedded recording's are one.
	for t in client merged embedded; do
		"$replay" "$tmp/$t.json" --quiet >"$tmp/replay.$t" 2>&1 || fail "replay $t.json"
		sed -n 's/.*replay digest \([0-9a-f]*\).*/\1/p' "$tmp/replay.$t" >"$tmp/digest.$t"
	done
	[ -s "$tmp/digest.merged" ] || fail "the replay prints its digest"
	cmp -s "$tmp/digest.client" "$tmp/digest.merged" &&
		cmp -s "$tmp/digest.embedded" "$tmp/digest.merged" ||
		fail "replay digests: client $(cat "$tmp/digest.client"), merged" \
			"$(cat "$tmp/digest.merged"), embedded $(cat "$tmp/digest.embedded")"
	ok "the merged, the client's and the embedded recording replay to one digest ($(cat "$tmp/digest.merged"))"
	normalized_stats "$tmp/embedded.json" >"$tmp/embedded.stats"
	normalized_stats "$tmp/merged.json" >"$tmp/merged.stats"
	grep -q "queue" "$tmp/merged.stats" || fail "stats of the merged trace count jobs per queue"
	diff "$tmp/embedded.stats" "$tmp/merged.stats" >"$tmp/stats.diff" ||
		{ cat "$tmp/stats.diff"; fail "stats: embedded and merged differ"; }
	ok "stats: the same calls, submissions per context and jobs per queue as embedded"
	# Every job of the merge is its context's: each comes after the call that submitted it.
	expect 0 "unattributed: 0 jobs" "$tool" stats "$tmp/merged.json"
	;;
clients)
	dir=$tmp/dir pidf=$tmp/pid
	start_daemon "$dir" "$pidf" --trace "$tmp/d.json" --devices 2
	[ -s "$tmp/d.json" ] && [ -s "$tmp/d.json.1" ] || fail "--devices 2 writes FILE and FILE.1"
	MAGMA_TRACE=$tmp/b.json MAGMA_DEVICE=$dir/magma0 "$sample" fill 3 >/dev/null 2>&1 ||
		fail "client b"
	MAGMA_TRACE=$tmp/a.json MAGMA_DEVICE=$dir/magma0 "$sample" write 6 >/dev/null 2>&1 &
	a=$!
	MAGMA_TRACE=$tmp/c.json MAGMA_DEVICE=$dir/magma0 "$sample" copy 6 >/dev/null 2>&1 &
	c=$!
	MAGMA_TRACE=$tmp/e.json MAGMA_DEVICE=$dir/magma1 "$sample" compute 2 >/dev/null 2>&1 ||
		fail "client e on device 1"
	wait $a || fail "client a"
	wait $c || fail "client c"
	stop_daemon "$pidf"
	expect 0 "left out: [1-9][0-9]* device events of other clients' jobs" \
		"$tool" merge "$tmp/a.json" "$tmp/d.json" "$tmp/ma.json"
	check_merged "$tmp/a.json" "$tmp/ma.json"
	expect 0 "0 divergences" "$replay" "$tmp/ma.json" --quiet
	expect 0 "^merged" "$tool" merge "$tmp/c.json" "$tmp/d.json" "$tmp/mc.json"
	check_merged "$tmp/c.json" "$tmp/mc.json"
	expect 0 "0 divergences" "$replay" "$tmp/mc.json" --quiet
	expect 2 "never imported the device .* FILE.N" \
		"$tool" merge "$tmp/e.json" "$tmp/d.json" "$tmp/me.json"
	[ ! -e "$tmp/me.json" ] || fail "a refused merge leaves no output"
	expect 0 "^merged .*device 1" "$tool" merge "$tmp/e.json" "$tmp/d.json.1" "$tmp/me.json"
	check_merged "$tmp/e.json" "$tmp/me.json"
	expect 0 "0 divergences" "$replay" "$tmp/me.json" --quiet
	# A fault plan and --trace on one daemon: both sets of hooks see every job.
	cat >"$tmp/plan.json" <<-EOF
		{"version": 1, "name": "second submission faults", "faults": [
		  {"name": "mmu", "kind": "mmu_fault", "trigger": {"nth": 2, "of": "submission"},
		   "target": {"connection": 1}}]}
	EOF
	start_daemon "$dir" "$pidf" --trace "$tmp/f.json" --faults "$tmp/plan.json"
	MAGMA_TRACE=$tmp/fc.json MAGMA_DEVICE=$dir/magma0 "$sample" write 3 >/dev/null 2>&1
	stop_daemon "$pidf"
	expect 0 "^merged" "$tool" merge "$tmp/fc.json" "$tmp/f.json" "$tmp/mf.json"
	grep -q '"ev":"FAULT".*"connection":[1-9][0-9]*,"submission"' "$tmp/mf.json" ||
		fail "the fault plan's fault names the client's connection and submission"
	expect 0 "1 jobs ended with a fault code" "$tool" stats "$tmp/mf.json"
	;;
bad)
	dir=$tmp/dir pidf=$tmp/pid
	expect 2 "--trace .*cannot create .*No such file or directory" \
		"$simd" --dir "$dir" --quiet --trace "$tmp/nodir/t.json"
	[ ! -e "$dir/magma0" ] || fail "a refused --trace serves nothing"
	expect 2 "--trace .*cannot create" \
		"$simd" --dir "$dir" --quiet --foreground --trace "$tmp/nodir/t.json"
	start_daemon "$dir" "$pidf" --trace "$tmp/d.json"
	expect 2 "another process is writing it" \
		"$simd" --dir "$tmp/dir2" --quiet --trace "$tmp/d.json"
	MAGMA_TRACE=$tmp/c.json MAGMA_DEVICE=$dir/magma0 "$sample" write 2 >/dev/null 2>&1 ||
		fail "client"
	stop_daemon "$pidf"
	expect 0 "^merged" "$tool" merge "$tmp/c.json" "$tmp/d.json" "$tmp/m.json"
	ok "the daemon whose trace another refused to take over wrote it whole"
	# A second daemon run: same program, another instance.
	start_daemon "$dir" "$pidf" --trace "$tmp/d2.json"
	MAGMA_TRACE=$tmp/c2.json MAGMA_DEVICE=$dir/magma0 "$sample" write 2 >/dev/null 2>&1 ||
		fail "client 2"
	stop_daemon "$pidf"
	MAGMA_TRACE=$tmp/emb.json "$sample" write 2 >/dev/null 2>&1 || fail "embedded client"
	rm -f "$tmp/out.json"
	expect 2 "never imported the device .*different daemon runs" \
		"$tool" merge "$tmp/c.json" "$tmp/d2.json" "$tmp/out.json"
	expect 2 "has device events already" \
		"$tool" merge "$tmp/emb.json" "$tmp/d.json" "$tmp/out.json"
	expect 2 "the client's comes first" "$tool" merge "$tmp/d.json" "$tmp/c.json" "$tmp/out.json"
	expect 2 "is not a magma-simd --trace recording" \
		"$tool" merge "$tmp/c.json" "$tmp/c2.json" "$tmp/out.json"
	sed '$d' "$tmp/d.json" | sed '$d' >"$tmp/dcut.json"
	expect 2 "truncated" "$tool" merge "$tmp/c.json" "$tmp/dcut.json" "$tmp/out.json"
	head -c 2000 "$tmp/c.json" >"$tmp/ccut.json"
	expect 2 "cut short|truncated" "$tool" merge "$tmp/ccut.json" "$tmp/d.json" "$tmp/out.json"
	sed -e 's/,"ns":[0-9]*//' -e 's/"clock":"monotonic",//' "$tmp/c.json" >"$tmp/cold.json"
	expect 2 "has no host times" "$tool" merge "$tmp/cold.json" "$tmp/d.json" "$tmp/out.json"
	printf 'garbage\n' >"$tmp/garbage.json"
	expect 2 "not a trace" "$tool" merge "$tmp/garbage.json" "$tmp/d.json" "$tmp/out.json"
	expect 2 "cannot open" "$tool" merge "$tmp/c.json" "$tmp/missing.json" "$tmp/out.json"
	expect 2 "is one of the inputs" "$tool" merge "$tmp/c.json" "$tmp/d.json" "$tmp/d.json"
	expect 3 "cannot create" "$tool" merge "$tmp/c.json" "$tmp/d.json" "$tmp/nodir/out.json"
	[ ! -e "$tmp/out.json" ] || fail "no refused merge left an output"
	expect 0 "merge CLIENT DAEMON OUT" "$tool" --help
	expect 0 "merge CLIENT FILE OUT" "$simd" --help
	;;
*)
	fail "unknown mode $mode"
	;;
esac
echo "all $checks checks passed ($mode)"
rm -rf "$tmp"
