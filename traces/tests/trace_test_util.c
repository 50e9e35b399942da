/* SPDX-License-Identifier: MIT */
/*
 * trace_test_util.c - see trace_test_util.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim/sim_cmd.h"

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

#define PAGE 4096ull

/* trace_test_conn_open - see trace_test_util.h. */
int trace_test_conn_open(struct magma_system_embedded *emb, struct trace_test_conn *c,
			 uint32_t contexts)
{
	int fd = magma_system_embedded_connect(emb);
	magma_handle_t h;
	uint64_t size;

	memset(c, 0, sizeof(*c));
	c->contexts = contexts > 1 ? 2 : 1;
	if (fd < 0 || magma_device_import((magma_handle_t)fd, &c->dev) ||
	    magma_device_create_connection(c->dev, &c->conn) ||
	    magma_connection_create_context2(c->conn, MAGMA_PRIORITY_MEDIUM, &c->ctx[0]) ||
	    (c->contexts > 1 &&
	     magma_connection_create_context2(c->conn, MAGMA_PRIORITY_MEDIUM, &c->ctx[1])) ||
	    magma_connection_create_buffer(c->conn, PAGE, &size, &c->cmd, &c->cmd_id) ||
	    magma_connection_create_buffer(c->conn, PAGE, &size, &c->data, &c->data_id) ||
	    magma_connection_map_buffer(c->conn, TRACE_TEST_CMD_VA, c->cmd, 0, PAGE,
					MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE) ||
	    magma_connection_map_buffer(c->conn, TRACE_TEST_DATA_VA, c->data, 0, PAGE,
					MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE) ||
	    magma_connection_create_semaphore(c->conn, &c->sem, &c->sem_id) ||
	    magma_buffer_get_handle(c->cmd, &h))
		return 1;
	c->cpu = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, (int)h, 0);
	close((int)h);
	if (c->cpu == MAP_FAILED) {
		c->cpu = NULL;
		return 1;
	}
	return 0;
}

/* trace_test_conn_round - see trace_test_util.h. */
int trace_test_conn_round(struct trace_test_conn *c, uint32_t k, uint32_t value)
{
	magma_exec_resource_t res[2] = {{c->cmd_id, 0, PAGE}, {c->data_id, 0, PAGE}};
	magma_exec_command_buffer_t cb = {0};
	magma_command_descriptor_t d = {.resource_count = 2,
					.command_buffer_count = 1,
					.signal_semaphore_count = 1,
					.resources = res,
					.command_buffers = &cb,
					.semaphore_ids = &c->sem_id};
	magma_poll_item_t it = {.semaphore = c->sem,
				.type = MAGMA_POLL_TYPE_SEMAPHORE,
				.condition = MAGMA_POLL_CONDITION_SIGNALED};
	uint32_t n = sim_cmd_emit_write32(c->cpu, TRACE_TEST_DATA_VA + 4ull * k, value);
	int bad;

	sim_cmd_emit_end(c->cpu + n);
	bad = magma_connection_execute_command(c->conn, c->ctx[k % c->contexts], &d) ||
	      magma_poll(&it, 1, 5000000000ull);
	magma_semaphore_reset(c->sem);
	return bad;
}

/* trace_test_conn_close - see trace_test_util.h. */
void trace_test_conn_close(struct trace_test_conn *c)
{
	if (c->cpu)
		munmap(c->cpu, PAGE);
	c->cpu = NULL;
	if (c->conn)
		magma_connection_release(c->conn);
	if (c->dev)
		magma_device_release(c->dev);
}
