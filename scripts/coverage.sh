#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# scripts/coverage.sh - line-coverage gate for the product code: magma/, sim/, msd-sim/, index/.
#
# Builds build-cov/ with gcov instrumentation (-DMAGMA_SIM_COVERAGE=ON), runs every test (unit
# tests and the conformance suite), captures the counters with lcov and keeps the product
# sources of the four folders (tests, test fakes and the demo are not measured). Prints the
# per-file table, one line per folder and the combined figure, writes an HTML report to
# build-cov/coverage-html/index.html, and fails when the combined figure is below
# COVERAGE_FLOOR or sim/ alone is below SIM_COVERAGE_FLOOR.
COVERAGE_FLOOR=85     # percent of magma/ + sim/ + msd-sim/ + index/ lines executed by the tests
SIM_COVERAGE_FLOOR=90 # percent of sim/ lines (the model's own bar)
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

# lcov_pct FILE - the line percentage of a tracefile.
lcov_pct() {
	lcov --summary "$1" 2>&1 | sed -n 's/^ *lines\.*: *\([0-9.]*\)%.*/\1/p'
}

lcov --quiet --capture --directory "$out" --output-file "$out/coverage-all.info" 2>/dev/null
lcov --quiet --extract "$out/coverage-all.info" "$MAGMA_ROOT/sim/*" "$MAGMA_ROOT/msd-sim/*" \
	"$MAGMA_ROOT/magma/*" "$MAGMA_ROOT/index/*" --output-file "$out/coverage-product.info"
lcov --quiet --remove "$out/coverage-product.info" '*/tests/*' '*/sim/demo/*' \
	--output-file "$out/coverage-product.info"
lcov --list "$out/coverage-product.info"
genhtml --quiet --title "magma-sim: magma/ sim/ msd-sim/ index/" \
	--output-directory "$out/coverage-html" \
	"$out/coverage-product.info"

fail=0
for folder in magma sim msd-sim index; do
	lcov --quiet --extract "$out/coverage-product.info" "$MAGMA_ROOT/$folder/*" \
		--output-file "$out/coverage-$folder.info"
	pct=$(lcov_pct "$out/coverage-$folder.info")
	[[ -n $pct ]] || magma_die "could not read the line coverage of $folder/"
	magma_log "$(printf '%-9s line coverage: %6s%%' "$folder/" "$pct")"
	if [[ $folder == sim ]] &&
		! awk -v p="$pct" -v f="$SIM_COVERAGE_FLOOR" 'BEGIN { exit !(p + 0 >= f + 0) }'; then
		magma_log "coverage: sim/ below its floor (${pct}% < ${SIM_COVERAGE_FLOOR}%)"
		fail=1
	fi
done
pct=$(lcov_pct "$out/coverage-product.info")
[[ -n $pct ]] || magma_die "could not read the combined line coverage"
magma_log "combined  line coverage: ${pct}% (floor ${COVERAGE_FLOOR}%), report: $dir/coverage-html/index.html"
if ! awk -v p="$pct" -v f="$COVERAGE_FLOOR" 'BEGIN { exit !(p + 0 >= f + 0) }'; then
	magma_log "coverage: combined below its floor (${pct}% < ${COVERAGE_FLOOR}%)"
	fail=1
fi
if ((fail)); then
	magma_log "coverage: FAIL"
	exit 1
fi
magma_log "coverage: PASS"
