/* SPDX-License-Identifier: MIT */
/*
 * test_trace_replay_inert.c - trace_replay_options.skip_inert (traces/trace_replay_inert.c): a
 * replay that leaves inert submissions out stops in the same state as one that sends them all.
 *
 * The recorded client submits runs of NOP-only command buffers between a FILL and a TIMESTAMP
 * (GPU cycles written into a data buffer), rewrites the NOP buffer from the CPU between two runs,
 * and maps it a second time before the last run. At stops across the trace, both replays must
 * hold the same bytes in every buffer (the timestamp included: NOPs before a job that reads the
 * clock are sent) and the same semaphore state; and exactly the NOPs after the last clock reader
 * before the stop, while their buffer has had one mapping, are left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "magma_system/embedded.h"
#include "sim/sim_cmd.h"
#include "sim_test.h"
#include "trace_test_util.h"
#include "traces/trace.h"
#include "traces/trace_replay.h"

#define NOP_VA	 0x100000ull
#define DATA_VA	 0x200000ull
#define WORK_VA	 0x300000ull
#define NOP_VA2	 0x400000ull
#define RUN	 12   /* NOP submissions in a run */
#define TS_AT	 2048 /* the TIMESTAMP command buffer in the work buffer */
#define BUF_SIZE 4096

/* The recorded ids the replay reads back. */
struct ids {
	magma_buffer_id_t nop, data, work;
	magma_semaphore_id_t sem;
};

struct client {
	magma_connection_t conn;
	uint32_t ctx;
	magma_buffer_t nop;
	struct ids ids;
	magma_semaphore_t sem;
	uint32_t nop_at, nop_bytes; /* the NOP command buffer in its buffer */
};

static int submit_nops(struct client *c, int count)
{
	magma_exec_resource_t res = {c->ids.nop, c->nop_at, c->nop_bytes};
	magma_exec_command_buffer_t cb = {.resource_index = 0, .start_offset = c->nop_at};
	magma_command_descriptor_t d = {.resource_count = 1,
					.command_buffer_count = 1,
					.resources = &res,
					.command_buffers = &cb};

	for (int i = 0; i < count; i++)
		if (magma_connection_execute_command(c->conn, c->ctx, &d))
			return 1;
	return 0;
}

/* The work buffer's command buffer at @start (FILL or TIMESTAMP), waited for. */
static int submit_work(struct client *c, uint64_t start)
{
	magma_exec_resource_t res[2] = {{c->ids.work, 0, BUF_SIZE}, {c->ids.data, 0, BUF_SIZE}};
	magma_exec_command_buffer_t cb = {.resource_index = 0, .start_offset = start};
	magma_command_descriptor_t d = {.resource_count = 2,
					.command_buffer_count = 1,
					.signal_semaphore_count = 1,
					.resources = res,
					.command_buffers = &cb,
					.semaphore_ids = &c->ids.sem};
	magma_poll_item_t it = {.semaphore = c->sem,
				.type = MAGMA_POLL_TYPE_SEMAPHORE,
				.condition = MAGMA_POLL_CONDITION_SIGNALED};
	int bad = magma_connection_execute_command(c->conn, c->ctx, &d) ||
		  magma_poll(&it, 1, 5000000000ull);

	magma_semaphore_reset(c->sem);
	return bad;
}

/* Writes @n words of commands into @buf at byte @at from the CPU. */
static int cpu_write(magma_buffer_t buf, uint64_t at, const uint32_t *words, uint32_t n)
{
	magma_handle_t h;
	uint32_t *cpu;

	if (magma_buffer_get_handle(buf, &h))
		return 1;
	cpu = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, (int)h, 0);
	close((int)h);
	if (cpu == MAP_FAILED)
		return 1;
	memcpy((uint8_t *)cpu + at, words, 4 * n);
	munmap(cpu, BUF_SIZE);
	return 0;
}

static int client_run(struct magma_system_embedded *emb, struct ids *ids_out)
{
	struct client c = {0};
	magma_device_t dev;
	magma_buffer_t data, work;
	uint64_t size;
	uint32_t w[16], n = 0;
	int fd = magma_system_embedded_connect(emb), bad;

	if (fd < 0 || magma_device_import((magma_handle_t)fd, &dev) ||
	    magma_device_create_connection(dev, &c.conn) ||
	    magma_connection_create_context2(c.conn, MAGMA_PRIORITY_MEDIUM, &c.ctx) ||
	    magma_connection_create_buffer(c.conn, BUF_SIZE, &size, &c.nop, &c.ids.nop) ||
	    magma_connection_create_buffer(c.conn, BUF_SIZE, &size, &data, &c.ids.data) ||
	    magma_connection_create_buffer(c.conn, BUF_SIZE, &size, &work, &c.ids.work) ||
	    magma_connection_map_buffer(c.conn, NOP_VA, c.nop, 0, BUF_SIZE,
					MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE) ||
	    magma_connection_map_buffer(c.conn, DATA_VA, data, 0, BUF_SIZE,
					MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE) ||
	    magma_connection_map_buffer(c.conn, WORK_VA, work, 0, BUF_SIZE,
					MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE) ||
	    magma_connection_create_semaphore(c.conn, &c.sem, &c.ids.sem))
		return 1;
	n += sim_cmd_emit_fill(w + n, DATA_VA, 256, 0x5a5a5a5a);
	n += sim_cmd_emit_end(w + n);
	bad = cpu_write(work, 0, w, n);
	n = sim_cmd_emit_timestamp(w, DATA_VA + 512, SIM_CMD_TS_CYCLES);
	n += sim_cmd_emit_end(w + n);
	bad |= cpu_write(work, TS_AT, w, n);
	n = sim_cmd_emit_nop(w, 0);
	n += sim_cmd_emit_end(w + n);
	c.nop_bytes = 4 * n;
	bad |= cpu_write(c.nop, 0, w, n);
	bad |= submit_nops(&c, RUN) || submit_work(&c, 0) || submit_nops(&c, RUN);
	/*
	 * The same kind of commands, other bytes, elsewhere in the buffer (jobs may still read the
	 * first ones): their contents are written whether the submissions are sent or not.
	 */
	n = sim_cmd_emit_nop(w, 2);
	w[1] = 0x11111111;
	w[2] = 0x22222222;
	n += sim_cmd_emit_end(w + n);
	c.nop_at = 1024;
	c.nop_bytes = 4 * n;
	bad |= cpu_write(c.nop, c.nop_at, w, n);
	bad |= submit_nops(&c, RUN) || submit_work(&c, TS_AT) || submit_nops(&c, RUN);
	/* A second mapping of the NOP buffer: the replay does not tell which one msd-sim takes. */
	magma_connection_unmap_buffer(c.conn, NOP_VA, c.nop);
	bad |= magma_connection_map_buffer(c.conn, NOP_VA2, c.nop, 0, BUF_SIZE,
					   MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE) ||
	       submit_nops(&c, RUN);
	bad |= magma_connection_flush(c.conn) != MAGMA_STATUS_OK;
	magma_connection_release(c.conn);
	magma_device_release(dev);
	*ids_out = c.ids;
	return bad;
}

/* client_run for trace_test_record: @ctx is the struct ids to fill. */
static int client_of(struct magma_system_embedded *emb, void *ctx)
{
	return client_run(emb, ctx);
}

/* Records client_run into the new temporary file @p (a mkstemp template), client side only. */
static void record(char *p, struct ids *ids)
{
	CHECK_EQ(trace_test_record(p, client_of, ids, NULL, false), 0);
}

/* What a stopped replay holds: every buffer's bytes and the semaphore's state. */
struct state {
	const struct ids *ids;
	bool called;
	int read_ret[3], sem_ret;
	uint8_t bytes[3][BUF_SIZE];
};

static void read_state(void *ctx, const struct trace_replay_access *acc)
{
	struct state *s = ctx;
	const magma_buffer_id_t id[3] = {s->ids->nop, s->ids->data, s->ids->work};

	s->called = true;
	for (int i = 0; i < 3; i++)
		s->read_ret[i] = trace_replay_read_buffer(acc, TRACE_REPLAY_ANY_CONNECTION, id[i],
							  0, BUF_SIZE, s->bytes[i]);
	s->sem_ret = trace_replay_semaphore_wait(acc, TRACE_REPLAY_ANY_CONNECTION, s->ids->sem, 0);
}

static uint64_t replay_to(const char *path, uint64_t stop_at, bool skip, struct state *s)
{
	struct trace_replay_options o;
	struct trace_replay_result res;

	trace_replay_default_options(&o);
	o.stop_at = stop_at;
	o.on_stop = read_state;
	o.stop_ctx = s;
	o.skip_inert = skip;
	CHECK_EQ(trace_replay_run(path, &o, &res), TRACE_REPLAY_OK);
	CHECK(s->called);
	return res.skipped;
}

/* The event indices of the execute_command calls of @path, in order, into @at (at most @max). */
static int submissions(const char *path, uint64_t *at, int max)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	unsigned long long seq;

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0)
		if (strstr(line, "\"call\":\"execute_command\"") &&
		    sscanf(line, "{\"seq\":%llu,", &seq) == 1 && n < max)
			at[n++] = seq;
	free(line);
	fclose(f);
	return n;
}

static void same_state_at_every_stop(void)
{
	static struct state full, skipped;
	char p[] = "/tmp/magma-trace-inert-XXXXXX";
	uint64_t sub[5 * RUN + 8];
	struct ids ids;
	int n;

	record(p, &ids);
	n = submissions(p, sub, (int)(sizeof(sub) / sizeof(sub[0])));
	REQUIRE_EQ(n, 5 * RUN + 2);
	/* sub[RUN]: FILL; sub[3 * RUN + 1]: TIMESTAMP; the last run follows the second mapping. */
	for (uint64_t stop = sub[0]; stop <= sub[n - 1] + 2; stop++) {
		uint64_t left_out, want = 0;

		/*
		 * Right after the FILL or TIMESTAMP submission, before the poll that waits for it,
		 * its job may or may not have run in either replay (work running at the stop is not
		 * waited for): nothing to compare there.
		 */
		if (stop == sub[RUN] + 1 || stop == sub[3 * RUN + 1] + 1)
			continue;
		memset(&full, 0, sizeof(full));
		memset(&skipped, 0, sizeof(skipped));
		full.ids = skipped.ids = &ids;
		CHECK_EQ(replay_to(p, stop, false, &full), 0);
		left_out = replay_to(p, stop, true, &skipped);
		for (int i = 0; i < 3; i++) {
			CHECK_EQ(full.read_ret[i], 0);
			CHECK_EQ(skipped.read_ret[i], 0);
			CHECK(!memcmp(full.bytes[i], skipped.bytes[i], BUF_SIZE));
		}
		CHECK_EQ(full.sem_ret, skipped.sem_ret);
		/* NOPs before the stop, after the TIMESTAMP job when it came first, one mapping. */
		for (int k = 0; k < n; k++)
			want += sub[k] < stop && k != RUN && k != 3 * RUN + 1 && k < 4 * RUN + 2 &&
				(stop <= sub[3 * RUN + 1] || k > 3 * RUN + 1);
		CHECK_EQ(left_out, want);
	}
	unlink(p);
}

static const struct sim_test tests[] = {
	SIM_TEST(same_state_at_every_stop),
};
SIM_TEST_SUITE(tests);
