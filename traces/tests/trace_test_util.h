/* SPDX-License-Identifier: MIT */
/*
 * trace_test_util.h - what the trace tests share: reading a file whole, and recording an
 * in-process client into a fresh temporary trace. Test-only; single-threaded callers.
 */
#ifndef TRACES_TESTS_TRACE_TEST_UTIL_H
#define TRACES_TESTS_TRACE_TEST_UTIL_H

#include <stdbool.h>

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

#endif /* TRACES_TESTS_TRACE_TEST_UTIL_H */
