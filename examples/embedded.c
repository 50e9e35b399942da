/* SPDX-License-Identifier: MIT */
/*
 * embedded.c - the first client on the embedded device: the whole stack (the magma_system
 * service, the msd-sim driver and the simulated GPU) runs on threads inside this process, so
 * there is nothing to start and nothing to connect to.
 *
 *   example_embedded
 *
 * magma_sim_embedded_open() (magma_system/embedded.h, in the embedded-device library) creates
 * the device on first use and returns a new device channel, a socket like any other device's;
 * magma_device_import() makes a magma_device_t of it. The device is destroyed at exit.
 * docs/getting-started.md has the build lines. Exit status: 0 the results were right, 1 they
 * were not or a call failed, 2 usage.
 */
#include <stdio.h>
#include <string.h>

#include <lib/magma/magma.h>
#include <magma_sim/status_name.h>
#include <magma_system/embedded.h>

#include "first_client.h"

#define PROG "example_embedded"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG "\n"
		"Runs the first Magma client on the embedded device (the whole stack in this\n"
		"process): queries, buffers, a FILL and a compute kernel, checked on the CPU.\n");
}

int main(int argc, char **argv)
{
	magma_device_t device;
	magma_status_t status;
	int fd, ret;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (argc != 1) {
		usage(stderr);
		return 2;
	}

	fd = magma_sim_embedded_open();
	if (fd < 0) {
		fprintf(stderr, PROG ": magma_sim_embedded_open: %s\n", strerror(-fd));
		return 1;
	}
	/* Takes the channel, on failure too. */
	status = magma_device_import((magma_handle_t)fd, &device);
	if (status != MAGMA_STATUS_OK) {
		fprintf(stderr, PROG ": magma_device_import: %s (%d)\n", magma_status_name(status),
			status);
		return 1;
	}
	ret = first_client_run(device, PROG);
	magma_device_release(device);
	return ret;
}
