#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/valgrind.sh [BUILD_DIR] - Valgrind memcheck gate.
#
# Runs every sim unit-test executable (BUILD_DIR/sim/tests/sim_test_*) and sim-demo under
# memcheck, MAGMA_JOBS at a time, and fails on any memory error or definite leak (a test that
# fails on its own fails the gate too). Logs go to BUILD_DIR/valgrind/<name>.log. BUILD_DIR
# (default build; relative to the repository root unless absolute) must already be built;
# scripts/test does that. Later issues add the conformance suite here.
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
mapfile -t bins < <(find "$dir/sim/tests" -maxdepth 1 -type f -executable -name 'sim_test_*' \
	2>/dev/null | sort)
if [[ -x $dir/sim/demo/sim-demo ]]; then
	bins+=("$dir/sim/demo/sim-demo")
fi
((${#bins[@]} > 0)) || magma_die "no test executables under $dir (build it first)"
mkdir -p "$logdir"

# run_one BIN - memcheck one executable; prints one result line, returns its exit status.
run_one() {
	local bin=$1 name start rc=0
	name=$(basename "$bin")
	start=$(magma_now_ms)
	(cd "$(dirname "$bin")" && valgrind "${VALGRIND_ARGS[@]}" --log-file="$logdir/$name.log" \
		"$bin" >"$logdir/$name.out" 2>&1) || rc=$?
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

magma_log "valgrind memcheck over ${#bins[@]} executables, $MAGMA_JOBS at a time"
failed=0
running=0
for bin in "${bins[@]}"; do
	if ((running >= MAGMA_JOBS)); then
		wait -n || failed=1
		running=$((running - 1))
	fi
	run_one "$bin" &
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
