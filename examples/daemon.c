/* SPDX-License-Identifier: MIT */
/*
 * daemon.c - the first client on a device of the magma-simd daemon, which serves each of its
 * devices as a Unix socket: `magma-simd --dir DIR` listens on DIR/magma0, DIR/magma1, ...
 *
 *   example_daemon SOCKET          e.g. example_daemon /tmp/sims/magma0
 *
 * magma_sim_device_open() (magma_sim/device.h, in libmagma) connects to SOCKET and imports the
 * connection as a device; its status and errno say what is wrong with a path that does not
 * work. docs/getting-started.md has the build lines. Exit status: 0 the results were right, 1
 * they were not or a call failed, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lib/magma/magma.h>
#include <magma_sim/device.h>
#include <magma_sim/status_name.h>

#include "first_client.h"

#define PROG "example_daemon"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG " SOCKET\n"
		"Runs the first Magma client on the magma-simd device at SOCKET (magma-simd\n"
		"--dir DIR serves DIR/magma0, DIR/magma1, ...): queries, buffers, a FILL and a\n"
		"compute kernel, checked on the CPU.\n");
}

/* What to do about a SOCKET that magma_sim_device_open() refused with @status. */
static const char *open_hint(magma_status_t status)
{
	switch (status) {
	case MAGMA_STATUS_INVALID_ARGS:
		return "SOCKET must be a device socket of a running magma-simd: start\n"
		       "`magma-simd --dir DIR` and pass DIR/magma0. /dev/magma0 exists only for\n"
		       "open() under magma-sim-run (see example_devnode).";
	case MAGMA_STATUS_CONNECTION_LOST:
		return "nobody serves SOCKET: its magma-simd stopped or was killed; start it again.";
	case MAGMA_STATUS_ACCESS_DENIED:
		return "magma-simd's directory belongs to another user (mode 0700).";
	default:
		return "see magma_sim/device.h for what each status means.";
	}
}

int main(int argc, char **argv)
{
	magma_device_t device;
	magma_status_t status;
	int ret;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		usage(stderr);
		return 2;
	}

	status = magma_sim_device_open(argv[1], &device);
	if (status != MAGMA_STATUS_OK) {
		int err = errno; /* set by magma_sim_device_open on every failure */

		fprintf(stderr, PROG ": cannot open %s: %s (%s)\n%s\n", argv[1],
			magma_status_name(status), strerror(err), open_hint(status));
		return 1;
	}
	ret = first_client_run(device, PROG);
	magma_device_release(device);
	return ret;
}
