#!/bin/sh
# SPDX-License-Identifier: MIT
# bench_json.sh - bench-scale --quick --json writes a report that parses and holds its figures,
# and bench-compare reads it: ratios of a report with itself, figures found in one report only,
# and a file that is not a report. Checks names and structure only, never a timing value
# (figures come from benchmarks, not from tests).
# Usage: bench_json.sh BENCH_SCALE BENCH_COMPARE WORKDIR
set -u
scale=$1 compare=$2 dir=$3
fails=0

fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

mkdir -p "$dir"
rm -f "$dir"/*.json "$dir"/*.txt
"$scale" --quick --json "$dir/a.json" >"$dir/scale.txt" 2>&1 || {
	cat "$dir/scale.txt" >&2
	fail "bench-scale --quick --json exited $?"
}
[ -s "$dir/a.json" ] || { echo "FAIL: no report written" >&2; exit 1; }

grep -q '"bench":[[:space:]]*"bench-scale"' "$dir/a.json" || fail "no \"bench\": \"bench-scale\""
grep -q '"args":[[:space:]]*"--quick"' "$dir/a.json" || fail "args should be \"--quick\" (--json left out)"
for key in cpu cores kernel figures name value unit; do
	grep -q "\"$key\":" "$dir/a.json" || fail "no \"$key\" in the report"
done

"$compare" "$dir/a.json" "$dir/a.json" >"$dir/self.txt" 2>&1 || fail "bench-compare A A exited $?"
grep -q 'B/A' "$dir/self.txt" || fail "bench-compare printed no table"
# Every curve, call and kind of figure: the points 1, 10 and 100 exist whatever the limits.
for fig in connections.roundtrip.n1 connections.flush.n10 connections.open.n1 \
	buffers.execute.n1 buffers.get_handle.n10 buffers.create_release.n100 \
	buffers.release_oldest.n100 mappings.execute.n100 mappings.map_unmap.n10 \
	mappings.map_release.n1 inflight.roundtrip.n100 inflight.submit.n10 inflight.drain.n100 \
	buffers.execute.growth mappings.map_unmap.growth connections.memory.heap buffers.memory.rss \
	mappings.memory.heap inflight.memory.rss; do
	grep -q "^$fig " "$dir/self.txt" || fail "figure $fig missing"
done
# A report against itself: every ratio is 1 (or "-" for a zero value).
if grep -E '^[a-z_.0-9]+ ' "$dir/self.txt" | grep -v '^figure ' |
	awk '$NF != "1.000" && $NF != "-" { bad = 1 } END { exit !bad }'; then
	fail "a report compared with itself gave a ratio other than 1"
fi

# A renamed figure is reported on both sides.
sed 's/"buffers.memory.heap"/"buffers.memory_renamed"/' "$dir/a.json" >"$dir/b.json"
"$compare" "$dir/a.json" "$dir/b.json" >"$dir/renamed.txt" 2>&1 || fail "bench-compare A B exited $?"
grep -q '^only in A:' "$dir/renamed.txt" || fail "no 'only in A' list"
grep -q 'buffers.memory_renamed = ' "$dir/renamed.txt" || fail "the renamed figure is not listed"

# Not a report: exit 1 with a reason.
echo '{"not": "a report"}' >"$dir/bad.json"
"$compare" "$dir/a.json" "$dir/bad.json" >"$dir/bad.txt" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "bench-compare on a non-report exited $rc, want 1"
grep -q 'not a benchmark report' "$dir/bad.txt" || fail "no reason given for a non-report"

[ $fails -eq 0 ] || { echo "$fails check(s) failed" >&2; exit 1; }
echo "bench-scale --json and bench-compare: ok"
