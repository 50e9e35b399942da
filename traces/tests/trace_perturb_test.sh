#!/bin/sh
# SPDX-License-Identifier: MIT
# trace_perturb_test.sh - ctest driver for magma-replay --perturb (docs/trace-format.md,
# "Race detection"). One mode per ctest test:
#   stable REPLAY TRACE             8 seeds keep every digest; one seed twice: same cycles
#   sync REPLAY CLIENT DIR          trace-race-client sync and cpu recordings are stable
#   race REPLAY CLIENT DIR          the race recording diverges; the report names the shared
#                                   buffer and both submissions; a diverging seed reproduces
#   conformance REPLAY SUITE DIR    conformance tests chaining work with semaphores are stable
#   args REPLAY CLIENT DIR          bad seeds and run counts: exit 125 (git bisect run's skip, as
#                                   for any bad command line) with a clear message
set -u

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# stable REPLAY TRACE [SEEDS]: --perturb-runs SEEDS (8) exits 0 with every seed unchanged, and
# seed 5 replayed twice gives the same cycles and replay digest.
stable() {
	replay=$1 trace=$2 runs=${3:-8}
	out=$("$replay" "$trace" --perturb-runs "$runs") || fail "$trace: --perturb-runs $runs: exit $?: $out"
	echo "$out"
	same=$(echo "$out" | grep -c ': same digests')
	[ "$same" -eq "$runs" ] || fail "$trace: $same of $runs seeds kept the digests"
	echo "$out" | grep -q "perturbation: $runs seeds, 0 diverged" || fail "$trace: no summary"
	first=$("$replay" "$trace" --perturb 5 | grep ': same digests') || fail "$trace: seed 5"
	second=$("$replay" "$trace" --perturb 5 | grep ': same digests') || fail "$trace: seed 5 again"
	[ "$first" = "$second" ] || fail "$trace: seed 5 not deterministic: '$first' / '$second'"
	echo "determinism: $first"
}

# A fresh recording of CLIENT MODE into DIR/MODE.json; its stdout in DIR/MODE.client.
record() {
	client=$1 dir=$2 mode=$3
	rm -f "$dir/$mode.json"
	MAGMA_TRACE="$dir/$mode.json" "$client" "$mode" >"$dir/$mode.client" ||
		fail "$client $mode failed"
}

mode=${1:-}
shift
case "$mode" in
stable)
	stable "$1" "$2"
	;;
sync)
	replay=$1 client=$2 dir=$3
	mkdir -p "$dir"
	for m in sync cpu; do
		record "$client" "$dir" $m
		stable "$replay" "$dir/$m.json"
	done
	;;
race)
	replay=$1 client=$2 dir=$3
	mkdir -p "$dir"
	record "$client" "$dir" race
	buf=$(sed -n 's/^buffer \([0-9]*\)$/\1/p' "$dir/race.client")
	subs=$(grep '"call":"execute_command"' "$dir/race.json" | sed 's/^{"seq":\([0-9]*\),.*/\1/')
	set -- $subs
	[ $# -eq 2 ] && [ -n "$buf" ] || fail "race recording: buffer '$buf', submissions '$subs'"
	a=$1 b=$2
	"$replay" "$dir/race.json" --perturb-runs 8 >"$dir/race.out" 2>"$dir/race.err"
	rc=$?
	cat "$dir/race.out" "$dir/race.err"
	[ $rc -eq 1 ] || fail "race: exit $rc, expected 1 (divergence)"
	grep -q "race at completion event [0-9]*: buffer id $buf " "$dir/race.out" ||
		fail "race: the report does not name buffer $buf"
	grep -q "event $a (execute_command" "$dir/race.out" || fail "race: submission $a not named"
	grep -q "event $b (execute_command" "$dir/race.out" || fail "race: submission $b not named"
	grep -q "no semaphore chain, context order or CPU wait orders the two" "$dir/race.out" ||
		fail "race: no unordered pair reported"
	# The first diverging seed diverges the same way again.
	seed=$(sed -n 's/^perturb seed \([0-9]*\): DIVERGED.*/\1/p' "$dir/race.out" | head -1)
	one=$("$replay" "$dir/race.json" --perturb "$seed" 2>/dev/null | grep -v '^perturbation')
	two=$("$replay" "$dir/race.json" --perturb "$seed" 2>/dev/null | grep -v '^perturbation')
	[ "$one" = "$two" ] || fail "race: seed $seed reports differ"
	echo "$one" | grep -q DIVERGED || fail "race: seed $seed did not diverge again"
	;;
conformance)
	replay=$1 suite=$2 dir=$3
	mkdir -p "$dir"
	rm -f "$dir/conformance.json"
	filter=MagmaExecution.SubmissionsToOneContextRunInOrder:MagmaExecution.ChainAcrossContexts
	filter=$filter:MagmaExecution.ChainAcrossConnections:MagmaExecution.ExecutionWaitsForEveryWaitSemaphore
	filter=$filter:MagmaExecution.SignalSemaphoreCanBeWaitedOnByNextSubmission
	filter=$filter:MagmaExecution.WaitSemaphoreHoldsExecutionUntilSignaled
	filter=$filter:MagmaExecution.CopyBetweenBuffers:MagmaExecution.FillWritesThePattern
	MAGMA_TRACE="$dir/conformance.json" "$suite" --gtest_filter="$filter" >"$dir/suite.out" 2>&1 ||
		fail "conformance recording failed: $(tail -5 "$dir/suite.out")"
	stable "$replay" "$dir/conformance.json"
	;;
args)
	replay=$1 dir=$3
	mkdir -p "$dir"
	check() {
		want=$1
		shift
		err=$("$replay" "$dir/none.json" "$@" 2>&1 >/dev/null)
		rc=$?
		[ $rc -eq 125 ] || fail "magma-replay $*: exit $rc, expected 125"
		echo "$err" | grep -q -- "$want" || fail "magma-replay $*: no '$want' in: $err"
		echo "magma-replay $*: exit 125: $(echo "$err" | head -1)"
	}
	check "not an integer" --perturb abc
	check "not an integer" --perturb 12abc
	check "not an integer" --perturb " 5"
	check "empty" --perturb ""
	check "not negative" --perturb -1
	check "larger than 18446744073709551615" --perturb 18446744073709551616
	check "larger than 18446744073709551615" --perturb 99999999999999999999999
	check "goes past 18446744073709551615" --perturb 18446744073709551615 --perturb-runs 2
	check "1..65536" --perturb-runs 0
	check "1..65536" --perturb-runs 65537
	check "not negative" --perturb-runs -3
	check "missing value" --perturb
	# A good seed for a trace that cannot be read: not checked either.
	check "bad trace: cannot open" --perturb 1
	;;
*)
	fail "usage: trace_perturb_test.sh stable|sync|race|conformance|args ..."
	;;
esac
echo PASS
