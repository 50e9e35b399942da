#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/coverage.sh - line-coverage gate for the GPU model.
#
# Builds build-cov/ with gcov instrumentation (-DMAGMA_SIM_COVERAGE=ON), runs every test, captures
# the counters with lcov, keeps sim/ (the model and the assembler; sim/tests and sim/demo are
# not measured), prints the per-file table and the total, writes an HTML report to
# build-cov/coverage-html/index.html, and fails when the total is below COVERAGE_FLOOR.
COVERAGE_FLOOR=90 # percent of sim/ lines executed by the tests
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir=build-cov
out=$MAGMA_ROOT/$dir
command -v lcov >/dev/null 2>&1 || magma_die "lcov not installed"

magma_configure "$dir" -DMAGMA_SIM_COVERAGE=ON -DCMAKE_BUILD_TYPE=Debug
magma_build "$dir"
lcov --quiet --zerocounters --directory "$out"
# Test failures are reported by the unit-test gate; coverage is still measured.
if ! magma_ctest "$dir" >"$out/ctest.log" 2>&1; then
	magma_log "warning: some tests failed in $dir (see $out/ctest.log)"
fi

lcov --quiet --capture --directory "$out" --output-file "$out/coverage-all.info"
lcov --quiet --extract "$out/coverage-all.info" '*/sim/*' --output-file "$out/coverage-sim.info"
lcov --quiet --remove "$out/coverage-sim.info" '*/sim/tests/*' '*/sim/demo/*' \
	--output-file "$out/coverage-sim.info"
lcov --list "$out/coverage-sim.info"
genhtml --quiet --title "magma-sim: sim/" --output-directory "$out/coverage-html" \
	"$out/coverage-sim.info"

pct=$(lcov --summary "$out/coverage-sim.info" 2>&1 |
	sed -n 's/^ *lines\.*: *\([0-9.]*\)%.*/\1/p')
[[ -n $pct ]] || magma_die "could not read the line coverage from lcov --summary"
magma_log "sim/ line coverage: ${pct}% (floor ${COVERAGE_FLOOR}%), report: $dir/coverage-html/index.html"
if ! awk -v p="$pct" -v f="$COVERAGE_FLOOR" 'BEGIN { exit !(p + 0 >= f + 0) }'; then
	magma_log "coverage: FAIL (${pct}% < ${COVERAGE_FLOOR}%)"
	exit 1
fi
magma_log "coverage: PASS"
