#!/bin/sh
# SPDX-License-Identifier: MIT
# simd_lock.sh MAGMA_SIMD - one magma-simd per directory (ctest simd_lock): a second daemon on the
# same --dir exits 2 naming the first (whose sockets stay), --pidfile holds the serving pid and is
# removed at exit, and once the first has stopped a new daemon starts there.
set -u
simd=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/simd-lock-XXXXXX")
dir=$tmp/d pidf=$tmp/pid

fail() {
	echo "not ok - $*"
	[ -s "$pidf" ] && kill -TERM "$(cat "$pidf")" 2>/dev/null
	rm -rf "$tmp"
	exit 1
}

# gone FILE - waits (30 s at most, a hang guard) until FILE no longer exists.
gone() {
	i=0
	while [ -e "$1" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ ! -e "$1" ]
}

"$simd" --dir "$dir" --quiet --pidfile "$pidf" || fail "the first daemon starts"
[ -s "$pidf" ] || fail "--pidfile is written once the sockets listen"
pid=$(cat "$pidf")
kill -0 "$pid" 2>/dev/null || fail "--pidfile names a live process"
grep -qx "$pid" "$dir/.magma-simd.lock" || fail "the lock names the serving pid"
echo "ok - the first daemon serves $dir (pid $pid)"

"$simd" --dir "$dir" --quiet --foreground 2>"$tmp/err"
st=$?
[ "$st" -eq 2 ] || fail "a second daemon on the same --dir exits $st, want 2"
grep -q "already served by magma-simd pid $pid" "$tmp/err" || fail "the refusal names the first"
[ -S "$dir/magma0" ] || fail "the first daemon's socket is still there"
kill -0 "$pid" 2>/dev/null || fail "the first daemon still runs"
echo "ok - a second daemon is refused: $(cat "$tmp/err")"

kill -TERM "$pid"
gone "$pidf" || fail "--pidfile is removed at exit"
gone "$dir/.magma-simd.lock" || fail "the lock file is removed at exit"
echo "ok - SIGTERM removes the pidfile and the lock"

"$simd" --dir "$dir" --quiet --pidfile "$pidf" || fail "a new daemon starts once the first stopped"
kill -TERM "$(cat "$pidf")"
gone "$pidf" || fail "the new daemon stops"
echo "ok - a new daemon serves the directory after the first"
rm -rf "$tmp"
