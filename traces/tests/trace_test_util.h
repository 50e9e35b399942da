/* SPDX-License-Identifier: MIT */
/*
 * trace_test_util.h - what the trace tests share: reading a file whole, recording an in-process
 * client into a fresh temporary trace, and a small client to record. Test-only; single-threaded
 * callers.
 */
#ifndef TRACES_TESTS_TRACE_TEST_UTIL_H
#define TRACES_TESTS_TRACE_TEST_UTIL_H

#include <stdbool.h>

#include <lib/magma/magma.h>

#include "magma_system/embedded.h"
#include "sim/sim.h"

/* The whole file at @path, NUL-terminated (malloc'd; "" when empty), or NULL when unreadable. */
char *trace_test_read(const char *path);

/* A client recorded by trace_test_record: 0 when every call went as it expected. */
typedef int (*trace_test_client)(struct magma_system_embedded *emb, void *ctx);

/*
 * Creates the temporary file @tmpl (a mkstemp template, rewritten with the name), installs a
 * trace writer on it as the process's trace, runs @client(@ctx) on a new embedded device of @cfg
 * (NULL: the defaults), then closes everything. With @device_events the device's events are in
 * the trace too (the writer is installed before the device exists), else only the client's
 * calls. Returns the client's result, or -1 when the file, writer or device could not be made.
 */
int trace_test_record(char *tmpl, trace_test_client client, void *ctx, const struct sim_config *cfg,
		      bool device_events);

/* Where trace_test_conn maps its command and data buffers. */
#define TRACE_TEST_CMD_VA  0x100000ull
#define TRACE_TEST_DATA_VA 0x200000ull

/*
 * A small client: one connection with one or two MEDIUM contexts, a 4 KiB command buffer
 * (executable, mapped at TRACE_TEST_CMD_VA and on the CPU at @cpu), a 4 KiB data buffer
 * (writable, at TRACE_TEST_DATA_VA) and a semaphore, made in that order (so a recording names
 * the command buffer id 1 and the data buffer id 2).
 */
struct trace_test_conn {
	magma_device_t dev;
	magma_connection_t conn;
	uint32_t ctx[2];
	uint32_t contexts;
	magma_buffer_t cmd, data;
	magma_buffer_id_t cmd_id, data_id;
	magma_semaphore_t sem;
	magma_semaphore_id_t sem_id;
	uint32_t *cpu; /* the command buffer */
};

/* Opens @c on a new channel of @emb with @contexts (1 or 2) contexts. 0, or 1 on any failure. */
int trace_test_conn_open(struct magma_system_embedded *emb, struct trace_test_conn *c,
			 uint32_t contexts);

/*
 * Round @k: "WRITE32 @value at data word @k; END" at the command buffer's start, submitted with
 * both buffers on context k % contexts, signaling the semaphore, waited for (5 s) and the
 * semaphore reset. 0, or 1 when the submission or the wait failed.
 */
int trace_test_conn_round(struct trace_test_conn *c, uint32_t k, uint32_t value);

/* Unmaps the command buffer and releases the connection and the device (what was opened). */
void trace_test_conn_close(struct trace_test_conn *c);

#endif /* TRACES_TESTS_TRACE_TEST_UTIL_H */
