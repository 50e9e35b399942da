#!/bin/sh
# SPDX-License-Identifier: MIT
# trace_conformance_subset.sh CONFORMANCE REPLAY TRACE - conformance tests whose recordings
# used not to replay, recorded and replayed (exit 0), then stats and a dump at the last event:
# a GPU WAIT released by a CPU store made visible with a cache clean (the clean's "contents");
# 10 000 buffers in one connection (the replay keeps at most REPLAY_OPEN_FDS buffer fds open);
# device imports refused (a pipe, a socket whose peer is gone); a query without a value pointer
# ("no_value"); connections closed by the service under a flood, which the replay may see lost
# sooner or later than the recording did.
set -u
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
tests='MagmaExecution.GpuWaitReleasedByCpuWrite:MagmaBuffer.CleanCacheMakesCpuWritesVisibleToGpu'
tests="$tests:MagmaBuffer.TenThousandBuffers:MagmaQuery.BothOutsNullIsInvalidArgs"
tests="$tests:MagmaDevice.NonSocketHandleIsInvalidArgs:MagmaDevice.PeerThatHangsUpIsConnectionLost"
tests="$tests:MagmaExecution.FloodOfHeldWorkClosesOnlyThatConnection"
tests="$tests:MagmaExecution.ManyHeldInlineSubmissionsDrainQuickly"
MAGMA_TRACE=$tmp/t.json "$1" --gtest_filter="$tests" >"$tmp/rec" 2>&1 || {
	cat "$tmp/rec"
	exit 1
}
grep -q '"call":"buffer_clean_cache".*"contents"' "$tmp/t.json" || {
	echo "no buffer_clean_cache with contents in the recording"
	exit 1
}
"$2" "$tmp/t.json" >"$tmp/replay" 2>&1
rc=$?
cat "$tmp/replay"
[ $rc -eq 0 ] || { echo "magma-replay exited $rc"; exit 1; }
"$3" stats "$tmp/t.json" >"$tmp/stats" 2>&1 || { cat "$tmp/stats"; exit 1; }
last=$(grep -c '' "$tmp/t.json")
events=$((last - 3))
id=$(grep -o '"call":"create_buffer".*"id":[0-9]*' "$tmp/t.json" | tail -1 | sed 's/.*"id"://')
"$3" dump "$tmp/t.json" --at "$events" --buffer "$id" --hex --length 16 >"$tmp/dump" 2>&1
rc=$?
# 0: dumped; 2: the buffer is gone by then (released): both say the trace was read through.
[ $rc -eq 0 ] || [ $rc -eq 2 ] || { cat "$tmp/dump"; echo "dump exited $rc"; exit 1; }
echo "recorded, replayed, stats and dump: ok"
