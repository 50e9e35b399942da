/* SPDX-License-Identifier: MIT */
/*
 * devnode.c - the first client as an unmodified Linux Magma client opens its GPU: open() of a
 * device node, magma_device_import() of the descriptor. Nothing here is particular to
 * magma-sim; run it under magma-sim-run, whose preload shim answers open("/dev/magma0") with a
 * connected socket to a private magma-simd:
 *
 *   magma-sim-run -- example_devnode [DEVICE]      DEVICE: default /dev/magma0
 *
 * docs/getting-started.md has the build lines. Exit status: 0 the results were right, 1 they
 * were not or a call failed, 2 usage.
 */
/* POSIX.1-2008: mmap, close, open with O_CLOEXEC (the examples build with -std=c11). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lib/magma/magma.h>
#include <magma_sim/status_name.h>

#include "first_client.h"

#define PROG "example_devnode"

static void usage(FILE *out)
{
	fprintf(out, "usage: " PROG " [DEVICE]\n"
		     "Runs the first Magma client on DEVICE (default /dev/magma0), opened with\n"
		     "open() like any Linux Magma client: queries, buffers, a FILL and a compute\n"
		     "kernel, checked on the CPU. Run it under magma-sim-run, which serves\n"
		     "/dev/magma0 and /dev/dri/renderD128: magma-sim-run -- " PROG "\n");
}

int main(int argc, char **argv)
{
	const char *path = "/dev/magma0";
	magma_device_t device;
	magma_status_t status;
	int fd, ret;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		usage(stderr);
		return 2;
	}
	if (argc == 2)
		path = argv[1];

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		fprintf(stderr, PROG ": cannot open %s: %s\n", path, strerror(err));
		/* magma-sim-run sets MAGMA_SIM_DEVICE_DIR for its shim. */
		if (!getenv("MAGMA_SIM_DEVICE_DIR"))
			fprintf(stderr, "run it under magma-sim-run: magma-sim-run -- %s\n",
				argv[0]);
		return 1;
	}
	/* Takes the descriptor, on failure too. */
	status = magma_device_import((magma_handle_t)fd, &device);
	if (status != MAGMA_STATUS_OK) {
		fprintf(stderr, PROG ": magma_device_import(%s): %s (%d)\n", path,
			magma_status_name(status), status);
		return 1;
	}
	ret = first_client_run(device, PROG);
	magma_device_release(device);
	return ret;
}
