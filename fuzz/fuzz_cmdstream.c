/* SPDX-License-Identifier: MIT */
/*
 * fuzz_cmdstream.c - libFuzzer harness: arbitrary command buffers through a real device.
 *
 * The input is a command buffer: sim_cmd.h words, little-endian, at most FUZZ_CS_CMD_SIZE bytes,
 * a partial last word padded with zeros. Two magma.h clients submit it at once on an embedded
 * device (magma_system, msd-sim and the sim on threads in this process) made for this input
 * alone. Each client's address space (fuzz.h): the input in a buffer mapped READ|EXECUTE at
 * FUZZ_CS_CMD_VA (so a DISPATCH may run a kernel held in it; seeds put theirs at
 * FUZZ_CS_PROG_OFF), a data buffer READ|WRITE at FUZZ_CS_DATA_VA, a read-only one at
 * FUZZ_CS_RO_VA, nothing at FUZZ_CS_HOLE_VA. All three buffers are resources of the one
 * submission, whose signal semaphore is waited on, with the notification channel (a fault
 * makes it readable), for at most FUZZ_CS_WAIT_NS; then the connection is released, done or not.
 *
 * What must hold (FUZZ_CHECK; ASan and UBSan watch the host): the submission is accepted;
 * whatever it does, only its context may die -- the connection reports OK or CONTEXT_KILLED,
 * never another error -- and afterwards a known-good command buffer on a fresh connection
 * completes and writes memory. Ending a GPU hang is the driver's job (its hang check runs on
 * simulated time); the wait only bounds the harness's patience.
 *
 * Why two clients and a device per input: a JUMP loop makes progress, so the driver never takes
 * it for a hang (docs/msd-sim.md "Hang detection"); until msd-sim stopped a closed connection's
 * work, two abandoned loops held both queues a MEDIUM context may use and the next client never
 * ran (fuzz/regressions/fuzz_cmdstream/endless-jump-loop). Two at once check that within one
 * input; a fresh device keeps inputs from seeing each other's leftovers.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "fuzz.h"
#include "magma_system/embedded.h"
#include "sim/sim_cmd.h"

/* Host time an input's work gets before its connection is released, and the known-good one's. */
#define FUZZ_CS_WAIT_NS	 (50ull * 1000 * 1000)
#define FUZZ_CS_ALIVE_NS (10ull * 1000 * 1000 * 1000)

/* The input's device: created and destroyed around each input. */
static struct magma_system_embedded *fuzz_cs_device;

/* One client of the device: a connection, a context, the three buffers and a semaphore. */
struct fuzz_cs_client {
	magma_device_t dev;
	magma_connection_t conn;
	uint32_t ctx;
	magma_buffer_t cmd, data, ro;
	magma_buffer_id_t cmd_id, data_id, ro_id;
	magma_semaphore_t sem;
	magma_semaphore_id_t sem_id;
	uint64_t len; /* bytes of the command buffer */
};

/* What one client's submission came to. */
struct fuzz_cs_result {
	magma_status_t execute; /* of magma_connection_execute_command */
	magma_status_t poll;	/* of the wait for the signal semaphore or a notification */
	magma_status_t flush;	/* of magma_connection_flush afterwards: the connection's error */
	uint32_t data0;		/* the first word of the data buffer afterwards */
};

/* Creates a buffer of @size mapped at @va with @flags; false otherwise. */
static bool fuzz_cs_buffer(magma_connection_t conn, uint64_t size, uint64_t va, uint64_t flags,
			   magma_buffer_t *buf_out, magma_buffer_id_t *id_out)
{
	uint64_t got;

	return !magma_connection_create_buffer(conn, size, &got, buf_out, id_out) &&
	       !magma_connection_map_buffer(conn, va, *buf_out, 0, size, flags);
}

/*
 * A new client of fuzz_cs_device with @size bytes of @cmds (padded to whole words, at least one)
 * in its command buffer. Every step must succeed: nothing has run on the connection yet.
 */
static void fuzz_cs_open(struct fuzz_cs_client *c, const uint8_t *cmds, size_t size)
{
	int fd = magma_system_embedded_connect(fuzz_cs_device);
	magma_handle_t h = 0;

	memset(c, 0, sizeof(*c));
	c->len = size < 4 ? 4 : (size + 3) & ~(uint64_t)3;
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(magma_device_import((magma_handle_t)fd, &c->dev) == MAGMA_STATUS_OK);
	FUZZ_CHECK(magma_device_create_connection(c->dev, &c->conn) == MAGMA_STATUS_OK);
	FUZZ_CHECK(magma_connection_create_context2(c->conn, MAGMA_PRIORITY_MEDIUM, &c->ctx) ==
		   MAGMA_STATUS_OK);
	FUZZ_CHECK(fuzz_cs_buffer(c->conn, FUZZ_CS_CMD_SIZE, FUZZ_CS_CMD_VA,
				  MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE, &c->cmd,
				  &c->cmd_id));
	FUZZ_CHECK(fuzz_cs_buffer(c->conn, FUZZ_CS_DATA_SIZE, FUZZ_CS_DATA_VA,
				  MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE, &c->data,
				  &c->data_id));
	FUZZ_CHECK(fuzz_cs_buffer(c->conn, FUZZ_CS_RO_SIZE, FUZZ_CS_RO_VA, MAGMA_MAP_FLAG_READ,
				  &c->ro, &c->ro_id));
	FUZZ_CHECK(magma_connection_create_semaphore(c->conn, &c->sem, &c->sem_id) ==
		   MAGMA_STATUS_OK);
	FUZZ_CHECK(magma_buffer_get_handle(c->cmd, &h) == MAGMA_STATUS_OK);
	FUZZ_CHECK(size == 0 || pwrite((int)h, cmds, size, 0) == (ssize_t)size);
	close((int)h);
}

/* Executes the command buffer with all three buffers as resources and the semaphore to signal. */
static magma_status_t fuzz_cs_submit(struct fuzz_cs_client *c)
{
	magma_exec_resource_t rs[3] = {{c->cmd_id, 0, c->len},
				       {c->data_id, 0, FUZZ_CS_DATA_SIZE},
				       {c->ro_id, 0, FUZZ_CS_RO_SIZE}};
	magma_exec_command_buffer_t cb = {.resource_index = 0, .start_offset = 0};
	magma_command_descriptor_t d = {.resource_count = 3,
					.command_buffer_count = 1,
					.signal_semaphore_count = 1,
					.resources = rs,
					.command_buffers = &cb,
					.semaphore_ids = &c->sem_id};

	return magma_connection_execute_command(c->conn, c->ctx, &d);
}

/* Waits at most @wait_ns for the semaphore, or for a notification (a fault makes one). */
static magma_status_t fuzz_cs_wait(struct fuzz_cs_client *c, uint64_t wait_ns)
{
	magma_poll_item_t items[2] = {
		{.semaphore = c->sem,
		 .type = MAGMA_POLL_TYPE_SEMAPHORE,
		 .condition = MAGMA_POLL_CONDITION_SIGNALED},
		{.handle = magma_connection_get_notification_channel_handle(c->conn),
		 .type = MAGMA_POLL_TYPE_HANDLE,
		 .condition = MAGMA_POLL_CONDITION_READABLE},
	};

	magma_status_t st = magma_poll(items, 2, wait_ns);

	if (getenv("FUZZ_VERBOSE")) /* which of the two ended the wait */
		fprintf(stderr, "fuzz_cmdstream: wait %d: semaphore %#x, channel %#x\n", st,
			items[0].result, items[1].result);
	return st;
}

/* Reads the connection's error and the data buffer's first word into @res, then releases all. */
static void fuzz_cs_close(struct fuzz_cs_client *c, struct fuzz_cs_result *res)
{
	magma_handle_t h = 0;

	res->flush = magma_connection_flush(c->conn);
	FUZZ_CHECK(magma_buffer_get_handle(c->data, &h) == MAGMA_STATUS_OK);
	if (pread((int)h, &res->data0, sizeof(res->data0), 0) != sizeof(res->data0))
		res->data0 = 0;
	close((int)h);
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr,
			"fuzz_cmdstream: %" PRIu64 " bytes: execute %d, wait %d, flush %d\n",
			c->len, res->execute, res->poll, res->flush);
	magma_connection_release(c->conn);
	magma_device_release(c->dev);
}

/*
 * LLVMFuzzerTestOneInput - see fuzz.h: the input runs as the command buffer of two clients at
 * once (equal priority: they share the engine or borrow a queue), whose connections are then
 * released, done or not; a third client's known-good command buffer must still complete.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t magic = 0x600dc0deu;
	struct fuzz_cs_client clients[2], good;
	struct fuzz_cs_result res[2], good_res = {0};
	uint32_t words[8], n;
	uint8_t bytes[sizeof(words)];

	if (!getenv("FUZZ_VERBOSE")) /* the driver's log, for debugging */
		setenv("MAGMA_SYSTEM_QUIET", "1", 0);
	fuzz_cs_device = magma_system_embedded_create(NULL);
	FUZZ_CHECK(fuzz_cs_device != NULL);
	if (size > FUZZ_CS_CMD_SIZE)
		size = FUZZ_CS_CMD_SIZE;
	memset(res, 0, sizeof(res));
	for (int i = 0; i < 2; i++)
		fuzz_cs_open(&clients[i], data, size);
	for (int i = 0; i < 2; i++)
		res[i].execute = fuzz_cs_submit(&clients[i]);
	for (int i = 0; i < 2; i++) {
		res[i].poll = fuzz_cs_wait(&clients[i], FUZZ_CS_WAIT_NS);
		fuzz_cs_close(&clients[i], &res[i]);
		FUZZ_CHECK(res[i].execute == MAGMA_STATUS_OK);
		FUZZ_CHECK(res[i].flush == MAGMA_STATUS_OK ||
			   res[i].flush == MAGMA_STATUS_CONTEXT_KILLED);
	}
	/* Only those contexts may have died: a known-good command buffer on a new connection. */
	n = sim_cmd_emit_write32(words, FUZZ_CS_DATA_VA, magic);
	n += sim_cmd_emit_end(words + n);
	for (uint32_t i = 0; i < n; i++)
		for (int b = 0; b < 4; b++)
			bytes[4 * i + b] = (uint8_t)(words[i] >> (8 * b));
	fuzz_cs_open(&good, bytes, n * 4);
	good_res.execute = fuzz_cs_submit(&good);
	good_res.poll = fuzz_cs_wait(&good, FUZZ_CS_ALIVE_NS);
	fuzz_cs_close(&good, &good_res);
	FUZZ_CHECK(good_res.execute == MAGMA_STATUS_OK);
	FUZZ_CHECK(good_res.poll == MAGMA_STATUS_OK);
	FUZZ_CHECK(good_res.flush == MAGMA_STATUS_OK);
	FUZZ_CHECK(good_res.data0 == magic);
	magma_system_embedded_destroy(fuzz_cs_device);
	fuzz_cs_device = NULL;
	return 0;
}
