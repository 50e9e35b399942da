#!/bin/sh
# SPDX-License-Identifier: MIT
# trace_children.sh CONFORMANCE - a client whose children start themselves again (exec) with
# MAGMA_TRACE inherited: the parent's trace stays whole, and each child writes TRACE.PID of its
# own, also whole (traces/trace_writer.c: the writer holds a flock on its file).
set -u
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
MAGMA_TRACE=$tmp/t.json "$1" --gtest_filter='MagmaSharing.*' >"$tmp/out" 2>&1 || {
	cat "$tmp/out"
	exit 1
}
status=0
children=0
for f in "$tmp"/t.json "$tmp"/t.json.*; do
	[ -e "$f" ] || continue
	[ "$f" = "$tmp/t.json" ] || children=$((children + 1))
	if tr -d '\n' <"$f" | grep -qaP '\x00'; then
		echo "$f: NUL bytes (two writers on one file)"
		status=1
	fi
	if [ "$(tail -c 3 "$f" | tr -d '\n')" != "]}" ]; then
		echo "$f: not closed"
		status=1
	fi
done
[ "$children" -gt 0 ] || { echo "no child wrote a trace of its own"; status=1; }
grep -q "is another process's trace: writing" "$tmp/out" || { echo "no note on stderr"; status=1; }
[ $status -eq 0 ] && echo "parent and $children children: every trace whole"
exit $status
