/* SPDX-License-Identifier: MIT */
/*
 * trace_test_util.c - see trace_test_util.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "trace_test_util.h"
#include "traces/trace.h"

/* trace_test_read - see trace_test_util.h. */
char *trace_test_read(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET)) {
		text = calloc(1, (size_t)n + 1);
		if (text && fread(text, 1, (size_t)n, f) != (size_t)n) {
			free(text);
			text = NULL;
		}
	}
	fclose(f);
	return text;
}

/* trace_test_record - see trace_test_util.h. */
int trace_test_record(char *tmpl, trace_test_client client, void *ctx, const struct sim_config *cfg,
		      bool device_events)
{
	struct magma_system_embedded *emb = NULL;
	struct trace_writer *w;
	int fd = mkstemp(tmpl), ret;

	if (fd < 0)
		return -1;
	close(fd);
	w = trace_writer_open(tmpl, "test");
	if (!w)
		return -1;
	if (device_events)
		trace_global_install(w);
	emb = magma_system_embedded_create(cfg);
	if (emb && !device_events)
		trace_global_install(w);
	ret = emb ? client(emb, ctx) : -1;
	/* The device's teardown (its "destroyed" event) is recorded with its other events. */
	if (!device_events)
		trace_global_install(NULL);
	magma_system_embedded_destroy(emb);
	trace_global_install(NULL);
	trace_writer_close(w);
	return ret;
}
