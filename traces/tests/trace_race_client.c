/* SPDX-License-Identifier: MIT */
/*
 * trace_race_client.c - trace-race-client: a test-only magma client with and without a race,
 * recorded with MAGMA_TRACE for magma-replay --perturb (traces/tests/trace_perturb_test.sh).
 *
 * trace-race-client race|sync|cpu: one connection, two MEDIUM contexts (so the driver puts them
 * on two hardware queues of equal priority and the engine interleaves them), each with its own
 * command buffer. Submission A FILLs a shared 1 MiB buffer with 0xaa bytes, submission B FILLs
 * the same bytes with 0xbb; each FILL is 16 chunks of 64 KiB, so who writes each chunk last is
 * up to the engine's arbitration. race: A and B signal their own semaphores and nothing orders
 * them (the bug); the client then waits for both. sync: B waits for A's semaphore. cpu: the
 * client waits for A (magma_poll) before it submits B. Prints "buffer ID" (the shared buffer's
 * id) on stdout and exits 0 when every call succeeded; for sync and cpu the buffer must then
 * hold B's bytes only. Single threaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "magma_system/embedded.h"
#include "sim/sim_cmd.h"

#define RACE_CMD_VA(i) (0x100000ull + 0x100000ull * (i))
#define RACE_DATA_VA   0x1000000ull
#define RACE_CMD_SIZE  4096ull
#define RACE_DATA_SIZE (1ull << 20)
#define RACE_WAIT_NS   (10ull * 1000 * 1000 * 1000)

struct race_side {
	uint32_t ctx;
	magma_buffer_t cmd;
	magma_buffer_id_t cmd_id;
	magma_semaphore_t sem;
	magma_semaphore_id_t sem_id;
};

static int check(const char *what, magma_status_t st)
{
	if (st != MAGMA_STATUS_OK)
		fprintf(stderr, "trace-race-client: %s: status %d\n", what, st);
	return st != MAGMA_STATUS_OK;
}

/* Context, command buffer holding "FILL the shared buffer with @byte; END", semaphore. */
static int race_side_open(magma_connection_t conn, uint32_t i, uint8_t byte, struct race_side *side)
{
	uint64_t size;
	magma_handle_t h;
	uint32_t *c;

	if (check("create_context",
		  magma_connection_create_context2(conn, MAGMA_PRIORITY_MEDIUM, &side->ctx)) ||
	    check("create_buffer", magma_connection_create_buffer(conn, RACE_CMD_SIZE, &size,
								  &side->cmd, &side->cmd_id)) ||
	    check("map_buffer",
		  magma_connection_map_buffer(conn, RACE_CMD_VA(i), side->cmd, 0, RACE_CMD_SIZE,
					      MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE)) ||
	    check("create_semaphore",
		  magma_connection_create_semaphore(conn, &side->sem, &side->sem_id)) ||
	    check("get_handle", magma_buffer_get_handle(side->cmd, &h)))
		return 1;
	c = mmap(NULL, RACE_CMD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, (int)h, 0);
	close((int)h);
	if (c == MAP_FAILED)
		return 1;
	sim_cmd_emit_end(c +
			 sim_cmd_emit_fill(c, RACE_DATA_VA, RACE_DATA_SIZE, 0x01010101u * byte));
	munmap(c, RACE_CMD_SIZE);
	return 0;
}

/* Submit @side's command buffer with the shared buffer, waiting for @wait when not NULL. */
static int race_submit(magma_connection_t conn, const struct race_side *side,
		       magma_buffer_id_t data_id, const struct race_side *wait)
{
	magma_exec_resource_t res[2] = {{side->cmd_id, 0, RACE_CMD_SIZE},
					{data_id, 0, RACE_DATA_SIZE}};
	magma_exec_command_buffer_t cb = {.resource_index = 0, .start_offset = 0};
	magma_semaphore_id_t ids[2] = {wait ? wait->sem_id : side->sem_id, side->sem_id};
	magma_command_descriptor_t d = {
		.resource_count = 2,
		.command_buffer_count = 1,
		.wait_semaphore_count = wait ? 1 : 0,
		.signal_semaphore_count = 1,
		.resources = res,
		.command_buffers = &cb,
		.semaphore_ids = wait ? ids : ids + 1,
	};

	return check("execute_command", magma_connection_execute_command(conn, side->ctx, &d));
}

static int race_wait(const struct race_side *side)
{
	magma_poll_item_t item = {.semaphore = side->sem,
				  .type = MAGMA_POLL_TYPE_SEMAPHORE,
				  .condition = MAGMA_POLL_CONDITION_SIGNALED};

	return check("poll", magma_poll(&item, 1, RACE_WAIT_NS));
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	struct race_side a = {0}, b = {0};
	magma_connection_t conn = 0;
	magma_buffer_t data = 0;
	magma_buffer_id_t data_id = 0;
	magma_device_t dev = 0;
	uint64_t size;
	magma_handle_t h;
	uint8_t *bytes;
	int fd, ret = 1;

	if (argc != 2 || (strcmp(mode, "race") && strcmp(mode, "sync") && strcmp(mode, "cpu"))) {
		fprintf(stderr, "usage: trace-race-client race|sync|cpu\n");
		return 2;
	}
	fd = magma_sim_embedded_open();
	if (fd < 0 || check("device_import", magma_device_import((magma_handle_t)fd, &dev)) ||
	    check("create_connection", magma_device_create_connection(dev, &conn)) ||
	    check("create_buffer",
		  magma_connection_create_buffer(conn, RACE_DATA_SIZE, &size, &data, &data_id)) ||
	    check("map_buffer",
		  magma_connection_map_buffer(conn, RACE_DATA_VA, data, 0, RACE_DATA_SIZE,
					      MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE)) ||
	    race_side_open(conn, 0, 0xaa, &a) || race_side_open(conn, 1, 0xbb, &b))
		goto out;
	if (!strcmp(mode, "race")) {
		/* The bug: nothing orders B after A, yet both write the same bytes. */
		if (race_submit(conn, &a, data_id, NULL) || race_submit(conn, &b, data_id, NULL) ||
		    race_wait(&a) || race_wait(&b))
			goto out;
	} else if (!strcmp(mode, "sync")) {
		if (race_submit(conn, &a, data_id, NULL) || race_submit(conn, &b, data_id, &a) ||
		    race_wait(&b))
			goto out;
	} else {
		if (race_submit(conn, &a, data_id, NULL) || race_wait(&a) ||
		    race_submit(conn, &b, data_id, NULL) || race_wait(&b))
			goto out;
	}
	if (check("get_handle", magma_buffer_get_handle(data, &h)))
		goto out;
	bytes = mmap(NULL, RACE_DATA_SIZE, PROT_READ, MAP_SHARED, (int)h, 0);
	close((int)h);
	if (bytes == MAP_FAILED)
		goto out;
	ret = 0;
	for (uint64_t i = 0; strcmp(mode, "race") && i < RACE_DATA_SIZE; i++) {
		if (bytes[i] != 0xbb) {
			fprintf(stderr, "trace-race-client: %s: byte %llu is %#x, not 0xbb\n", mode,
				(unsigned long long)i, bytes[i]);
			ret = 1;
			break;
		}
	}
	munmap(bytes, RACE_DATA_SIZE);
	printf("buffer %llu\n", (unsigned long long)data_id);
out:
	if (conn) {
		magma_connection_release_context(conn, a.ctx);
		magma_connection_release_context(conn, b.ctx);
		if (check("flush", magma_connection_flush(conn)))
			ret = 1;
		magma_connection_release(conn);
	}
	if (dev)
		magma_device_release(dev);
	return ret;
}
