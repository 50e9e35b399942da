#!/bin/sh
# SPDX-License-Identifier: MIT
# trace_conformance_whole.sh CONFORMANCE REPLAY TRACE - the whole conformance suite recorded
# (MAGMA_TRACE) and replayed to its end (exit 0), then every magma-trace tool on the recording:
# stats; a dump of the buffer the last completion names, at that completion; a trim of the last
# events, which replays too; diff of the recording with itself. The suite has every edge the
# recorder and the replay know of: CPU stores cleaned to memory ("contents"), 10 000 buffers,
# refused imports, NULL out pointers ("nulls"), the client's own eventfds and memfds, semaphores
# signaled by child processes, connections closed under a flood, GPU timestamps that follow the
# recording's host timing, completions of work shared with work still running ("unsettled").
set -u
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
t=$tmp/t.json
MAGMA_SYSTEM_QUIET=1 MAGMA_TRACE=$t "$1" >"$tmp/rec" 2>&1 || {
	tail -20 "$tmp/rec"
	exit 1
}
tail -1 "$tmp/rec"
grep -q '"call":"buffer_clean_cache".*"contents"' "$t" || {
	echo "no buffer_clean_cache with contents in the recording"
	exit 1
}
grep -q '"nulls":' "$t" || { echo "no NULL out pointer recorded"; exit 1; }
"$2" "$t" >"$tmp/replay" 2>&1
rc=$?
cat "$tmp/replay"
[ $rc -eq 0 ] || { echo "magma-replay exited $rc"; exit 1; }
"$3" stats "$t" >"$tmp/stats" 2>&1 || { cat "$tmp/stats"; exit 1; }
head -1 "$tmp/stats"
# The last completion: its event, and the buffer id of its last resource with a digest.
last=$(grep '"type":"completion"' "$t" | tail -1)
at=$(echo "$last" | sed 's/^{"seq":\([0-9]*\),.*/\1/')
id=$(echo "$last" | grep -o '"buffer_id":[0-9]*' | tail -1 | sed 's/.*://')
"$3" dump "$t" --at "$at" --buffer "$id" --hex --length 32 >"$tmp/dump" 2>&1 || {
	cat "$tmp/dump"
	echo "dump --at $at --buffer $id failed"
	exit 1
}
cat "$tmp/dump"
events=$(($(grep -c '' "$t") - 3))
from=$((events - 400))
"$3" trim --from "$from" --to "$((events - 1))" "$t" "$tmp/trim.json" >"$tmp/trim" 2>&1 || {
	cat "$tmp/trim"
	exit 1
}
cat "$tmp/trim"
"$2" "$tmp/trim.json" >"$tmp/trim-replay" 2>&1 || {
	cat "$tmp/trim-replay"
	echo "the trimmed trace does not replay"
	exit 1
}
"$3" diff "$t" "$t" >"$tmp/diff" 2>&1 || { cat "$tmp/diff"; exit 1; }
echo "whole suite recorded and replayed; stats, dump, trim (replayed) and diff: ok"
