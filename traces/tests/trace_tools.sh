#!/bin/sh
# SPDX-License-Identifier: MIT
# trace_tools.sh - magma-trace on the command line: every subcommand on the sample traces and
# on a recording of part of the conformance suite made here, and every bad input answered with
# its exit status and a message that says what is wrong (never a crash).
#
# Usage: trace_tools.sh samples MAGMA_TRACE MAGMA_REPLAY SAMPLES_DIR
#        trace_tools.sh conformance MAGMA_TRACE MAGMA_REPLAY CONFORMANCE_TESTS
# Scratch files go to a directory under $TMPDIR (default /tmp), removed at exit.
set -u
group=$1 tool=$2 replay=$3 arg=$4
tmp=$(mktemp -d "${TMPDIR:-/tmp}/trace-tools.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
checks=0
warned=0
carried=0
export MAGMA_SYSTEM_QUIET=1

fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# expect STATUS PATTERN CMD...: CMD exits STATUS and its stdout+stderr matches PATTERN (grep -E;
# "" matches anything). A status above 128 (a signal: crash) always fails.
expect() {
	want=$1 pattern=$2
	shift 2
	checks=$((checks + 1))
	"$@" >"$tmp/out" 2>&1 </dev/null
	rc=$?
	if [ $rc -ne "$want" ] || { [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$tmp/out"; }; then
		fail "$* -> exit $rc (want $want), output:"
		sed 's/^/    /' "$tmp/out" | head -20 >&2
		[ -n "$pattern" ] && echo "    (wanted /$pattern/)" >&2
	fi
}

# swap_events FILE L1 L2: FILE with the events on lines L1 and L2 exchanged, each keeping its
# line's "seq" (so the copy reads as a trace whose events came in the other order).
swap_events() {
	awk -v a="$2" -v b="$3" '
		{ line[NR] = $0 }
		END {
			pa = index(line[a], ","); pb = index(line[b], ",")
			ta = substr(line[a], pa); tb = substr(line[b], pb)
			line[a] = substr(line[a], 1, pa - 1) tb
			line[b] = substr(line[b], 1, pb - 1) ta
			for (i = 1; i <= NR; i++) print line[i]
		}' "$1"
}

# trim_roundtrip IN FROM TO [warnings-allowed]: trim succeeds and, unless it warned that it
# could not carry something (allowed only with a fourth argument), magma-replay replays the
# result without divergence: every completion of the range matches IN's digests.
trim_roundtrip() {
	expect 0 "^wrote " "$tool" trim --from "$2" --to "$3" "$1" "$tmp/trim.json"
	if grep -q "warning:" "$tmp/out"; then
		warned=$((warned + 1))
		[ $# -eq 4 ] || fail "trim --from $2 --to $3 warned: $(grep warning: "$tmp/out")"
		return
	fi
	expect 0 " 0 divergences" "$replay" "$tmp/trim.json" --quiet
	expect 0 "^the same" "$tool" diff "$tmp/trim.json" "$tmp/trim.json"
	carried=$((carried + 1))
}

# bad_inputs TRACE: what every subcommand says about missing, truncated and damaged files.
bad_inputs() {
	t=$1
	for sub in stats "diff $t" "dump --at 1 --buffer 1" "trim --from 0 --to 1"; do
		# shellcheck disable=SC2086 # the subcommand and its options are words
		set -- $sub
		out=
		[ "$1" = trim ] && out=$tmp/never.json
		expect 2 "cannot open" "$tool" "$@" "$tmp/missing.json" $out
		# dump replays, and replay reads a cut trace up to its last complete event (where
		# event 1 has made no buffer yet); the others read the whole file and refuse it.
		cut_ok=
		[ "$1" = dump ] && cut_ok="|no buffer id 1 exists after event 1"
		head -c 3000 "$t" >"$tmp/cut.json"
		expect 2 "truncated|cut short$cut_ok" "$tool" "$@" "$tmp/cut.json" $out
		sed '$d' "$t" | sed '$d' >"$tmp/noend.json"
		expect 2 "without the \"end\" event|truncated$cut_ok" "$tool" "$@" "$tmp/noend.json" $out
		cat "$t" >"$tmp/garbage.json"
		echo "trailing garbage" >>"$tmp/garbage.json"
		expect 2 "data after the end|nothing else" "$tool" "$@" "$tmp/garbage.json" $out
		sed '5s/.*/{"seq":3,"type":"dev" oops/' "$t" >"$tmp/json.json"
		expect 2 "line 5 .*invalid JSON" "$tool" "$@" "$tmp/json.json" $out
		printf 'not a trace\n' >"$tmp/text.json"
		expect 2 "not a trace" "$tool" "$@" "$tmp/text.json" $out
		sed '1s/"version":2/"version":9/' "$t" >"$tmp/future.json"
		expect 2 "newer than this reader" "$tool" "$@" "$tmp/future.json" $out
		[ -e "$tmp/never.json" ] && fail "trim left $tmp/never.json behind after an error"
		rm -f "$tmp/never.json"
	done
}

samples() {
	dir=$arg
	expect 0 "usage: magma-trace SUBCOMMAND" "$tool" --help
	expect 0 "^magma-trace [0-9]" "$tool" --version
	expect 2 "usage" "$tool"
	expect 2 "unknown subcommand 'frobnicate'.*--help" "$tool" frobnicate
	expect 2 "unknown option '--bogus'.*--help" "$tool" --bogus
	for sub in stats diff dump trim; do
		expect 0 "usage: magma-trace $sub" "$tool" $sub --help
		expect 2 "magma-trace $sub --help" "$tool" $sub --bogus-option
	done
	for s in write copy fill compute; do
		t=$dir/$s.json
		expect 0 "^trace .*: 202 events" "$tool" stats "$t"
		expect 0 "execute_command +4 +0$" "$tool" stats "$t"
		expect 0 "queue 0: 4 jobs .* busy [1-9]" "$tool" stats "$t"
		expect 0 '"busy_cycles"' "$tool" stats --json "$t"
		expect 0 "^the same: 33 client events compared, each thread's in order .*, 4 completions matched" "$tool" diff "$t" "$t"
		expect 0 "^00000000  " "$tool" dump "$t" --at 120 --buffer 1
		expect 0 "wrote $tmp/b.png: 8192 bytes" "$tool" dump "$t" --at 171 --buffer 2 --png 32 64 r32ui -o "$tmp/b.png"
		trim_roundtrip "$t" 121 171
		trim_roundtrip "$t" 0 201
		trim_roundtrip "$t" 70 70
	done
	t=$dir/compute.json
	# diff: an edited copy differs at the edited event, in the edited field, with both values
	sed '66s/"hw_va":2097152/"hw_va":2101248/' "$t" >"$tmp/edited.json"
	expect 1 "event 64 \(line 66\) of A and event 64 \(line 66\) of B.*call map_buffer" \
		"$tool" diff "$t" "$tmp/edited.json"
	expect 1 "args.hw_va: A 2097152, B 2101248" "$tool" diff "$t" "$tmp/edited.json"
	sed '189s/"result":0/"result":-2/' "$t" >"$tmp/edited.json"
	expect 1 "event 187 .*call flush" "$tool" diff "$t" "$tmp/edited.json"
	expect 1 "^  result: A 0, B -2$" "$tool" diff "$t" "$tmp/edited.json"
	expect 1 "args.resources\[0\].contents: .*first difference at byte 0: A 0x08, B 0x01" \
		"$tool" diff "$t" "$dir/write.json"
	sed 's/93850281757360/1234/g' "$t" >"$tmp/renamed.json"
	expect 0 "^the same" "$tool" diff "$t" "$tmp/renamed.json"
	# diff: a completion written after a later call (the client saw the work finish later) is
	# still the same; a changed completion, or one only A has, is a difference
	swap_events "$t" 122 123 >"$tmp/moved.json"
	expect 0 "^the same: .*, 4 completions matched" "$tool" diff "$t" "$tmp/moved.json"
	sed '122s/a1ea7b802016d6f8/a1ea7b802016d6f9/' "$t" >"$tmp/edited.json"
	expect 1 "in the completion of the .* \(the submission at event 70 of A and event 70 of B\)" \
		"$tool" diff "$t" "$tmp/edited.json"
	expect 1 "^  resources\[index 1\]\.digest: A \"a1ea7b802016d6f8\", B \"a1ea7b802016d6f9\"" \
		"$tool" diff "$t" "$tmp/edited.json"
	sed '122s/"submission":70/"submission":64/' "$t" >"$tmp/edited.json"
	expect 1 "A has a completion at event 120 \(line 122\) that B does not have" \
		"$tool" diff "$t" "$tmp/edited.json"
	# diff: two threads' calls in another order are the same; a thread's own calls are
	# compared in order, with the other trace's thread that began with the same call, whatever
	# its number
	sed '66s/"type":"call",/"type":"call","thread":2,/' "$t" >"$tmp/threads.json"
	swap_events "$tmp/threads.json" 66 67 >"$tmp/swapped.json"
	expect 0 "^the same: " "$tool" diff "$tmp/threads.json" "$tmp/swapped.json"
	sed '67s/"thread":2,/"thread":7,/' "$tmp/swapped.json" >"$tmp/renumbered.json"
	expect 0 "^the same: " "$tool" diff "$tmp/threads.json" "$tmp/renumbered.json"
	sed '66s/"hw_va":2097152/"hw_va":2101248/' "$tmp/threads.json" >"$tmp/edited.json"
	expect 1 "compared within a thread: A's thread 2 and B's thread 2" \
		"$tool" diff "$tmp/threads.json" "$tmp/edited.json"
	expect 2 "needs two traces" "$tool" diff "$t"
	expect 2 "unexpected argument" "$tool" diff "$t" "$t" "$t"
	# dump: every format, the folded hex dump, and what is refused
	for f in rgba8 bgra8 r8 r32f r32ui; do
		expect 0 "as a PNG" "$tool" dump "$t" --at 120 --buffer 2 --png 16 16 $f -o "$tmp/$f.png"
	done
	expect 0 "^\*$" "$tool" dump "$t" --at 120 --buffer 1 --hex
	expect 0 "^00001000$" "$tool" dump "$t" --at 120 --buffer 1 --offset 4032
	expect 0 "wrote $tmp/raw.bin: 4096 bytes" "$tool" dump "$t" --at 120 --buffer 1 --raw -o "$tmp/raw.bin"
	[ "$(wc -c <"$tmp/raw.bin")" -eq 4096 ] || fail "dump --raw wrote $(wc -c <"$tmp/raw.bin") bytes, not 4096"
	# --raw refuses a terminal (script(1) gives the command one, where it is installed)
	if command -v script >/dev/null 2>&1; then
		expect 2 "refusing to write raw bytes to a terminal" \
			script -qec "'$tool' dump '$t' --at 120 --buffer 1 --raw" /dev/null
	fi
	expect 2 "no buffer id 9 exists after event 120" "$tool" dump "$t" --at 120 --buffer 9
	expect 2 "no buffer id 1 exists after event 180" "$tool" dump "$t" --at 180 --buffer 1
	expect 2 "--at 500 is beyond the trace.*0\.\.202" "$tool" dump "$t" --at 500 --buffer 1
	expect 2 "--at 'x12' is not a valid number" "$tool" dump "$t" --at x12 --buffer 1
	expect 2 "--buffer '-1' is not a valid number" "$tool" dump "$t" --at 1 --buffer -1
	expect 2 "needs TRACE, --at and --buffer" "$tool" dump "$t" --at 1
	expect 2 "needs -o FILE" "$tool" dump "$t" --at 120 --buffer 2 --png 4 4 rgba8
	expect 2 "unknown format 'rgb565'" "$tool" dump "$t" --at 120 --buffer 2 --png 4 4 rgb565 -o "$tmp/x.png"
	expect 2 "png width '0' is not a valid number" "$tool" dump "$t" --at 120 --buffer 2 --png 0 4 r8 -o "$tmp/x.png"
	expect 2 "needs 16384 bytes from offset 0, buffer id 2 has 8192" \
		"$tool" dump "$t" --at 120 --buffer 2 --png 64 64 rgba8 -o "$tmp/x.png"
	[ -e "$tmp/x.png" ] && fail "dump left $tmp/x.png behind after an error"
	expect 2 "--offset 9000 is past the end of buffer id 2 \(8192 bytes\)" "$tool" dump "$t" --at 120 --buffer 2 --offset 9000
	expect 2 "goes past the end" "$tool" dump "$t" --at 120 --buffer 2 --offset 8000 --length 500
	expect 2 "only one of" "$tool" dump "$t" --at 120 --buffer 2 --raw --hex
	expect 2 "no buffer id 2 on that connection" "$tool" dump "$t" --at 120 --buffer 2 --connection 77
	# trim: bad ranges and options
	expect 2 "--to 10 is before --from 20" "$tool" trim --from 20 --to 10 "$t" "$tmp/o.json"
	expect 2 "--to 202 is beyond the last event.*0\.\.201" "$tool" trim --from 0 --to 202 "$t" "$tmp/o.json"
	expect 2 "--from 'abc' is not an event number" "$tool" trim --from abc --to 10 "$t" "$tmp/o.json"
	expect 2 "--to '-5' is not an event number" "$tool" trim --from 1 --to -5 "$t" "$tmp/o.json"
	expect 2 "needs --from, --to, IN and OUT" "$tool" trim --from 1 --to 5 "$t"
	cp "$t" "$tmp/same.json"
	expect 2 "refusing to overwrite the input" "$tool" trim --from 1 --to 5 "$tmp/same.json" "$tmp/same.json"
	expect 3 "cannot create $tmp/nodir/o.json" "$tool" trim --from 1 --to 5 "$t" "$tmp/nodir/o.json"
	# stats
	expect 2 "needs a TRACE" "$tool" stats
	expect 2 "unexpected argument" "$tool" stats "$t" "$t"
	bad_inputs "$t"
}

conformance() {
	tests=$arg
	t=$tmp/conformance.json
	filter='MagmaRender.*:MagmaExecution.Copy*:MagmaExecution.Fill*:MagmaExecution.Jump*:MagmaExecution.Signal*:MagmaContext.*'
	MAGMA_TRACE=$t "$tests" --gtest_filter="$filter" >"$tmp/gtest.log" 2>&1 ||
		{ fail "recording $filter"; tail "$tmp/gtest.log" >&2; return; }
	events=$(tail -2 "$t" | sed -n 's/.*"type":"end","events":\([0-9]*\).*/\1/p')
	[ -n "$events" ] || { fail "no end event in the recording"; return; }
	last=$((events - 1))
	expect 0 ": $events events" "$tool" stats "$t"
	expect 0 "queue 0: [1-9][0-9]* jobs" "$tool" stats "$t"
	expect 0 '"contexts"' "$tool" stats --json "$t"
	expect 0 "^the same" "$tool" diff "$t" "$t"
	# an edited copy: the first execute_command's context changes
	line=$(grep -n '"call":"execute_command"' "$t" | head -1 | cut -d: -f1)
	sed "${line}s/\"context\":1,/\"context\":9,/" "$t" >"$tmp/edited.json"
	expect 1 "event $((line - 2)) \(line $line\) of A.*call execute_command" "$tool" diff "$t" "$tmp/edited.json"
	expect 1 "args.context: A context #[0-9]+ \(value 1\), B context #[0-9]+ \(value 9\)" \
		"$tool" diff "$t" "$tmp/edited.json"
	# dump: the first buffer right after it is created, and at a completion
	first=$(grep -m1 '"call":"create_buffer".*"result":0' "$t")
	at=$(echo "$first" | sed 's/{"seq":\([0-9]*\),.*/\1/')
	id=$(echo "$first" | sed 's/.*"out":{[^}]*"id":\([0-9]*\)}.*/\1/')
	conn=$(echo "$first" | sed 's/.*"args":{"connection":\([0-9]*\),.*/\1/')
	expect 0 "^00000000  00 00" "$tool" dump "$t" --at "$at" --buffer "$id" --connection "$conn"
	done_line=$(grep -m1 '"type":"completion".*"buffer_id"' "$t")
	done_at=$(echo "$done_line" | sed 's/{"seq":\([0-9]*\),.*/\1/')
	cid=$(echo "$done_line" | sed 's/.*"buffer_id":\([0-9]*\),.*/\1/')
	cconn=$(echo "$done_line" | sed 's/.*"connection":\([0-9]*\),.*/\1/')
	expect 0 "^00000000  " "$tool" dump "$t" --at "$done_at" --buffer "$cid" --connection "$cconn"
	expect 2 "beyond the trace" "$tool" dump "$t" --at $((events + 1)) --buffer 1
	# trim round trips across the recording: every cut trim does not warn about replays with
	# the range's digests. Where a cut falls depends on the recording (device events vary), so
	# a few cuts may land where trim warns; most must not.
	for k in 0 1 2 3 4 5 6 7 8 9 10 11; do
		from=$((k * events / 12))
		to=$((from + 400))
		[ $to -gt $last ] && to=$last
		trim_roundtrip "$t" $from $to warnings-allowed
	done
	[ $carried -ge 9 ] || fail "only $carried of 12 trims replayed without warnings"
	trim_roundtrip "$t" "$done_at" "$last" warnings-allowed
	bad_inputs "$t"
}

case $group in
samples) samples ;;
conformance) conformance ;;
*)
	echo "usage: trace_tools.sh samples|conformance MAGMA_TRACE MAGMA_REPLAY ARG" >&2
	exit 2
	;;
esac
[ $fails -eq 0 ] || { echo "$fails of $checks checks failed" >&2; exit 1; }
echo "all $checks checks passed ($group; $carried trims replayed, $warned warned)"
