/* SPDX-License-Identifier: MIT */
/*
 * first_client.h - the flow every example runs once it has a device: queries, a connection and
 * a context, buffers mapped for the CPU and the GPU, one command buffer with a FILL and a
 * compute dispatch, a submission, the wait for it, and the check of its results on the CPU.
 *
 * The examples differ only in how they get the device (embedded.c, daemon.c, devnode.c); from
 * magma_device_import on, a client cannot tell the three apart. Uses magma.h, magma_sim_defs.h
 * and magma_sim/status_name.h only. Single-threaded.
 */
#ifndef FIRST_CLIENT_H
#define FIRST_CLIENT_H

#include <lib/magma/magma.h>

/*
 * first_client_run - runs the first client's flow on @device (borrowed: the caller still
 * releases it) and releases everything it created. Progress goes to stdout and failures to
 * stderr, each line starting with @prog. Returns the exit status: 0 when the GPU's results are
 * right, 1 when a call failed, the GPU faulted or a result is wrong.
 */
int first_client_run(magma_device_t device, const char *prog);

#endif /* FIRST_CLIENT_H */
