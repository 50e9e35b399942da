#!/bin/sh
# SPDX-License-Identifier: MIT
# run_daemon_example.sh MAGMA_SIMD EXAMPLE_DAEMON - the example_daemon ctest: starts magma-simd on
# a fresh temporary directory, runs EXAMPLE_DAEMON on that daemon's first device socket, stops
# the daemon and removes the directory. Exits with the example's status (1 when the daemon does
# not start).
set -u
simd=$1
example=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/example-daemon-XXXXXX") || exit 1

# stop - stops the daemon (SIGTERM: it removes its sockets and pidfile), waits 30 s at most for
# it to be gone, and removes the directory.
stop() {
	[ -s "$tmp/pid" ] && kill -TERM "$(cat "$tmp/pid")" 2>/dev/null
	i=0
	while [ -e "$tmp/pid" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	rm -rf "$tmp"
}
trap 'stop; exit 1' INT TERM

# Without --foreground, magma-simd returns once its sockets listen; the pidfile says whom to stop.
if ! "$simd" --dir "$tmp/sims" --quiet --pidfile "$tmp/pid"; then
	echo "run_daemon_example.sh: magma-simd did not start" >&2
	stop
	exit 1
fi
"$example" "$tmp/sims/magma0"
status=$?
stop
exit $status
