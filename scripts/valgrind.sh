#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/valgrind.sh [BUILD_DIR] - Valgrind memcheck gate.
#
# Runs under memcheck, MAGMA_JOBS at a time: the conformance suite (magma-conformance-tests on
# the embedded device, without the *LongDeadline* tests whose multi-second waits add nothing
# under valgrind), the unit tests of sim/, index/, msd-sim/, magma/wire, magma/client and
# traces/, the service tests that run in one process, the in-process fault-plan tests, and
# sim-demo. Fails on any memory error or definite leak (a test that fails on its own fails the
# gate too). Logs go to BUILD_DIR/valgrind/<name>.log.
# BUILD_DIR (default build; relative to the repository root unless absolute) must already be
# built; scripts/test does that. The daemon, shim and fork-heavy service tests are left to the
# ASan build: valgrind does not follow the exec'd daemon.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir=${1:-build}
[[ $dir == /* ]] || dir=$MAGMA_ROOT/$dir
logdir=$dir/valgrind
VALGRIND_ARGS=(--tool=memcheck --error-exitcode=1 --leak-check=full
	--errors-for-leak-kinds=definite --show-leak-kinds=definite --track-origins=yes
	--num-callers=30 -q)

command -v valgrind >/dev/null 2>&1 || magma_die "valgrind not installed"
# Each entry: an executable, then its arguments, separated by '|'.
entries=()
conf=$dir/conformance/magma-conformance-tests
[[ -x $conf ]] || magma_die "no $conf (build it first)"
entries+=("$conf|--gtest_filter=-*LongDeadline*")
while IFS= read -r bin; do
	entries+=("$bin")
done < <(
	find "$dir/sim/tests" "$dir/index" "$dir/msd-sim" "$dir/magma/wire" "$dir/magma/client" \
		-maxdepth 1 -type f -executable \
		\( -name 'sim_test_*' -o -name 'index_test_*' -o -name 'msd_sim_test_*' \
		-o -name 'magma_wire_test' -o -name 'magma_client_test_*' \) 2>/dev/null | sort
	for t in trace_test_blob trace_test_bad_input trace_test_replay trace_test_replay_stop; do
		[[ -x $dir/traces/$t ]] && echo "$dir/traces/$t"
	done
	for t in magma_system_validate_test magma_system_validate_sim_test magma_system_service_test \
		magma_system_sim_test; do
		[[ -x $dir/magma/service/tests/$t ]] && echo "$dir/magma/service/tests/$t"
	done
	for t in fault_test_plan fault_test_engine fault_test_device_gpu fault_test_device_calls \
		fault_test_control; do
		[[ -x $dir/faults/$t ]] && echo "$dir/faults/$t"
	done
	for t in fault_campaign_spec fault_campaign_verdict fault_campaign_report; do
		[[ -x $dir/faults/campaign/$t ]] && echo "$dir/faults/campaign/$t"
	done
	for t in viewer_test_model viewer_test_scene_timeline viewer_test_scene_memory \
		viewer_test_scene_chain viewer_test_scene_buffer; do
		[[ -x $dir/viewer/$t ]] && echo "$dir/viewer/$t"
	done
	[[ -x $dir/sim/demo/sim-demo ]] && echo "$dir/sim/demo/sim-demo"
)
mkdir -p "$logdir"

# run_one ENTRY - memcheck one executable ("bin|arg|arg"); prints one result line, returns its
# exit status.
run_one() {
	local bin name start rc=0 args
	IFS='|' read -r -a args <<<"$1"
	bin=${args[0]}
	args=("${args[@]:1}")
	name=$(basename "$bin")
	start=$(magma_now_ms)
	(cd "$(dirname "$bin")" && MAGMA_SYSTEM_QUIET=1 valgrind "${VALGRIND_ARGS[@]}" \
		--log-file="$logdir/$name.log" "$bin" "${args[@]}" >"$logdir/$name.out" 2>&1) || rc=$?
	if ((rc == 0)); then
		printf '  PASS %-32s %8s\n' "$name" "$(magma_fmt_ms $(($(magma_now_ms) - start)))"
	else
		printf '  FAIL %-32s %8s (exit %d)\n' "$name" \
			"$(magma_fmt_ms $(($(magma_now_ms) - start)))" "$rc"
		printf -- '---- %s: valgrind log ----\n' "$name"
		head -n 80 "$logdir/$name.log"
		printf -- '---- %s: output (last 20 lines) ----\n' "$name"
		tail -n 20 "$logdir/$name.out"
	fi
	return $rc
}

magma_log "valgrind memcheck over ${#entries[@]} executables, $MAGMA_JOBS at a time"
failed=0
running=0
for entry in "${entries[@]}"; do
	if ((running >= MAGMA_JOBS)); then
		wait -n || failed=1
		running=$((running - 1))
	fi
	run_one "$entry" &
	running=$((running + 1))
done
while ((running > 0)); do
	wait -n || failed=1
	running=$((running - 1))
done
if ((failed)); then
	magma_log "valgrind: FAIL (logs in $logdir)"
	exit 1
fi
magma_log "valgrind: no errors, no definite leaks"
