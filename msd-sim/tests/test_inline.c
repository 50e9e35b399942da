/* SPDX-License-Identifier: MIT */
/*
 * test_inline.c - inline-command memory and the per-connection bounds on outstanding work: the
 * GPU address slot pool on its own (exhaustion, reuse per size class), submissions that would
 * need far more address space than a deliberately small range holds without recycling, small
 * submissions sharing one chunk, and the MSD_SIM_MAX_CONNECTION_JOBS / MSD_SIM_MAX_INLINE_BYTES
 * limits (MEMORY_ERROR, and work is accepted again once the held jobs retire); the same bounds
 * over a client process's connections together and over the device (lowered for the test).
 */
#include <stdlib.h>
#include <string.h>

#include "msd_sim_internal.h"
#include "msd_test_util.h"
#include "sim_test.h"

#define RW     (MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE)
#define VA     0x200000ull
#define SIZE   (4 * 4096)
#define PAGE   4096ull
#define BIG_SZ (64 * 1024) /* larger than a chunk: a chunk (and an address slot) of its own */

struct fixture {
	struct mt *t;
	struct msd_connection_t *conn;
	struct msd_context_t *ctx;
	struct mt_buf b;
};

static int fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->t = mt_create(false);
	if (!f->t)
		return -1;
	f->conn = msd_device_open(f->t->dev, 1);
	f->ctx = msd_connection_create_context(f->conn, MAGMA_PRIORITY_MEDIUM);
	if (!f->conn || !f->ctx || mt_buf_create(f->t, SIZE, &f->b))
		return -1;
	return msd_connection_map_buffer(f->conn, f->b.buf, VA, 0, SIZE, RW) == MAGMA_STATUS_OK
		       ? 0
		       : -1;
}

static void fixture_fini(struct fixture *f)
{
	msd_context_destroy(f->ctx);
	msd_connection_release_buffer(f->conn, f->b.buf);
	mt_buf_destroy(&f->b);
	msd_connection_close(f->conn);
	mt_destroy(f->t);
}

static struct msd_sim_connection *sim_conn(struct fixture *f)
{
	return (struct msd_sim_connection *)f->conn;
}

/* Run the device until the connection's jobs all retired (mt_run stops after a bounded round). */
static void run_until_retired(struct fixture *f)
{
	for (int i = 0; i < 1000 && sim_conn(f)->jobs; i++)
		mt_run(f->t);
}

static uint32_t *words(struct fixture *f, uint64_t off)
{
	return (uint32_t *)((uint8_t *)f->b.host + off);
}

/* The slot pool alone: a range of three 8-page slots. */
static void test_va_pool_reuses_slots(void)
{
	struct msd_sim_va_pool p;
	const uint64_t start = 0x10000000ull;
	uint64_t va[3], again;
	struct mt *t = mt_create(false);
	struct msd_sim_driver *drv;

	REQUIRE(t);
	drv = ((struct msd_sim_device *)t->dev)->drv;
	msd_sim_va_pool_init(&p, start, start + 24 * PAGE);
	CHECK_EQ(msd_sim_va_pool_alloc(drv, &p, 2, &va[0]), MAGMA_STATUS_OK);
	CHECK_EQ(msd_sim_va_pool_alloc(drv, &p, 8, &va[1]), MAGMA_STATUS_OK);
	CHECK_EQ(msd_sim_va_pool_alloc(drv, &p, 5, &va[2]), MAGMA_STATUS_OK);
	CHECK_EQ(va[0], start);
	CHECK_EQ(va[1], start + 8 * PAGE);
	CHECK_EQ(va[2], start + 16 * PAGE);
	CHECK_EQ(msd_sim_va_pool_alloc(drv, &p, 1, &again), MAGMA_STATUS_MEMORY_ERROR);
	/* Too large for any class; zero pages. */
	CHECK_EQ(msd_sim_va_pool_alloc(drv, &p, 513, &again), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(msd_sim_va_pool_alloc(drv, &p, 0, &again), MAGMA_STATUS_INVALID_ARGS);
	/* A freed slot is handed out again, any number of times. */
	for (int i = 0; i < 1000; i++) {
		msd_sim_va_pool_free(&p, va[1], 8);
		CHECK_EQ(msd_sim_va_pool_alloc(drv, &p, 3, &again), MAGMA_STATUS_OK);
		CHECK_EQ(again, va[1]);
		va[1] = again;
	}
	/* A freed slot of one class does not serve another. */
	msd_sim_va_pool_free(&p, va[2], 5);
	CHECK_EQ(msd_sim_va_pool_alloc(drv, &p, 9, &again), MAGMA_STATUS_MEMORY_ERROR);
	msd_sim_va_pool_fini(&p);
	/* Classes grow by powers of two up to the largest inline submission plus its guard. */
	msd_sim_va_pool_init(&p, start, start + 1024 * PAGE);
	CHECK_EQ(msd_sim_va_pool_alloc(drv, &p, 9, &va[0]), MAGMA_STATUS_OK);
	CHECK_EQ(msd_sim_va_pool_alloc(drv, &p, MSD_SIM_INLINE_MAX / PAGE + 1, &va[1]),
		 MAGMA_STATUS_OK);
	CHECK_EQ(va[1], start + 16 * PAGE);
	CHECK_EQ(msd_sim_va_pool_alloc(drv, &p, 1, &va[2]), MAGMA_STATUS_OK);
	CHECK_EQ(va[2], start + 528 * PAGE);
	msd_sim_va_pool_fini(&p);
	mt_destroy(t);
}

/*
 * 300 rounds of a small and a 64 KiB inline submission in a range of 72 pages: without recycling
 * the large ones alone would need 300 slots of 32 pages.
 */
static void test_inline_range_recycled(void)
{
	struct fixture f;
	struct msd_sim_connection *conn;
	uint32_t small[8], n = 0;
	uint32_t *big = calloc(BIG_SZ / 4, 4);

	REQUIRE(big);
	REQUIRE(fixture_init(&f) == 0);
	conn = sim_conn(&f);
	conn->inline_va.end = conn->inline_va.next + 72 * PAGE;
	n += sim_cmd_emit_write32(small, VA + 0x1000, 0);
	/* Zeros are NOPs: the big one ends in one WRITE32. */
	sim_cmd_emit_write32(big + BIG_SZ / 4 - 4, VA + 0x1004, 0);
	for (uint32_t i = 1; i <= 300; i++) {
		small[3] = i;
		big[BIG_SZ / 4 - 1] = i;
		CHECK_EQ(msd_context_execute_inline_commands(f.ctx, n * 4, small, 0, NULL),
			 MAGMA_STATUS_OK);
		CHECK_EQ(msd_context_execute_inline_commands(f.ctx, BIG_SZ, big, 0, NULL),
			 MAGMA_STATUS_OK);
		mt_run(f.t);
		CHECK_EQ(*words(&f, 0x1000), i);
		CHECK_EQ(*words(&f, 0x1004), i);
		if (sim_test_has_failure())
			break;
	}
	CHECK_EQ(conn->jobs, 0);
	CHECK(conn->inline_bytes <= (MSD_SIM_INLINE_CHUNK_PAGES + 2 * BIG_SZ / PAGE) * PAGE);
	fixture_fini(&f);
	free(big);
}

/* Small submissions share a chunk: 100 held ones take one chunk's pages, not 100 pages. */
static void test_small_submissions_share_a_chunk(void)
{
	struct fixture f;
	struct mt_sem go;
	struct msd_sim_connection *conn;
	uint32_t cmds[8], n = 0;
	uint64_t frames;

	REQUIRE(fixture_init(&f) == 0);
	REQUIRE(mt_sem_create(f.t, 0, &go) == 0);
	conn = sim_conn(&f);
	n += sim_cmd_emit_write32(cmds + n, VA + 0x1000, 0);
	mt_write_words(&f.b, 0x2000, (uint32_t[]){0}, 1); /* an empty stream for the gate */
	CHECK_EQ(mt_exec(f.ctx, &f.b, 0x2000, 0x2004, &go, NULL, 0), MAGMA_STATUS_OK);
	frames = sim_bus_frames_mapped(f.t->sim);
	for (uint32_t i = 1; i <= 100; i++) {
		cmds[3] = i;
		CHECK_EQ(msd_context_execute_inline_commands(f.ctx, n * 4, cmds, 0, NULL),
			 MAGMA_STATUS_OK);
	}
	/* One chunk plus the three tables leading to the inline range. */
	CHECK_EQ(sim_bus_frames_mapped(f.t->sim), frames + MSD_SIM_INLINE_CHUNK_PAGES + 3);
	CHECK_EQ(conn->inline_bytes, MSD_SIM_INLINE_CHUNK_PAGES * PAGE);
	CHECK_EQ(conn->jobs, 101);
	mt_fd_signal(go.fd);
	mt_run(f.t);
	CHECK_EQ(*words(&f, 0x1000), 100); /* in order */
	CHECK_EQ(conn->jobs, 0);
	mt_sem_destroy(&go);
	fixture_fini(&f);
}

/* Empty submissions held behind a gate: the job limit, then work again once they retired. */
static void test_job_limit(void)
{
	struct fixture f;
	struct mt_sem go, done;
	struct msd_sim_connection *conn;
	struct msd_command_descriptor desc;
	struct msd_semaphore_t *w[1], *s[1];

	REQUIRE(fixture_init(&f) == 0);
	REQUIRE(mt_sem_create(f.t, 0, &go) == 0);
	REQUIRE(mt_sem_create(f.t, 0, &done) == 0);
	conn = sim_conn(&f);
	memset(&desc, 0, sizeof(desc));
	w[0] = go.sem;
	s[0] = done.sem;
	desc.wait_semaphore_count = 1;
	desc.wait_semaphores = w;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &desc), MAGMA_STATUS_OK);
	desc.wait_semaphore_count = 0;
	for (uint32_t i = 1; i < MSD_SIM_MAX_CONNECTION_JOBS; i++) {
		if (msd_context_execute_command_buffers(f.ctx, &desc) != MAGMA_STATUS_OK) {
			CHECK_EQ(i, MSD_SIM_MAX_CONNECTION_JOBS);
			break;
		}
	}
	CHECK_EQ(conn->jobs, MSD_SIM_MAX_CONNECTION_JOBS);
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &desc), MAGMA_STATUS_MEMORY_ERROR);
	CHECK_EQ(msd_context_execute_inline_commands(f.ctx, 4, (uint32_t[]){0}, 0, NULL),
		 MAGMA_STATUS_MEMORY_ERROR);
	mt_fd_signal(go.fd);
	run_until_retired(&f);
	CHECK_EQ(conn->jobs, 0);
	desc.signal_semaphore_count = 1;
	desc.signal_semaphores = s;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &desc), MAGMA_STATUS_OK);
	mt_run(f.t);
	CHECK(mt_fd_readable(done.fd, 0));
	mt_sem_destroy(&go);
	mt_sem_destroy(&done);
	fixture_fini(&f);
}

/* 1 MiB inline submissions held behind a gate: the inline-bytes limit. */
static void test_inline_bytes_limit(void)
{
	const uint32_t fit = (uint32_t)(MSD_SIM_MAX_INLINE_BYTES / MSD_SIM_INLINE_MAX);
	struct fixture f;
	struct mt_sem go;
	struct msd_sim_connection *conn;
	uint32_t *big = calloc(MSD_SIM_INLINE_MAX / 4, 4);

	REQUIRE(big);
	REQUIRE(fixture_init(&f) == 0);
	REQUIRE(mt_sem_create(f.t, 0, &go) == 0);
	conn = sim_conn(&f);
	mt_write_words(&f.b, 0x2000, (uint32_t[]){0}, 1);
	CHECK_EQ(mt_exec(f.ctx, &f.b, 0x2000, 0x2004, &go, NULL, 0), MAGMA_STATUS_OK);
	sim_cmd_emit_write32(big + MSD_SIM_INLINE_MAX / 4 - 4, VA + 0x1000, 9);
	for (uint32_t i = 0; i < fit; i++)
		CHECK_EQ(msd_context_execute_inline_commands(f.ctx, MSD_SIM_INLINE_MAX, big, 0,
							     NULL),
			 MAGMA_STATUS_OK);
	CHECK_EQ(conn->inline_bytes, MSD_SIM_MAX_INLINE_BYTES);
	CHECK_EQ(msd_context_execute_inline_commands(f.ctx, MSD_SIM_INLINE_MAX, big, 0, NULL),
		 MAGMA_STATUS_MEMORY_ERROR);
	mt_fd_signal(go.fd);
	mt_run(f.t);
	CHECK_EQ(*words(&f, 0x1000), 9);
	CHECK_EQ(conn->jobs, 0);
	/* Retired chunks went away but the current one. */
	CHECK_EQ(conn->inline_bytes, MSD_SIM_INLINE_MAX);
	CHECK_EQ(msd_context_execute_inline_commands(f.ctx, MSD_SIM_INLINE_MAX, big, 0, NULL),
		 MAGMA_STATUS_OK);
	mt_run(f.t);
	mt_sem_destroy(&go);
	fixture_fini(&f);
	free(big);
}

/* Submits empty jobs on @ctx until one is refused; returns how many were accepted (max 64). */
static uint32_t submit_until_refused(struct msd_context_t *ctx, struct msd_semaphore_t *gate,
				     magma_status_t *refusal)
{
	struct msd_command_descriptor desc;
	struct msd_semaphore_t *w[1] = {gate};
	uint32_t n = 0;

	memset(&desc, 0, sizeof(desc));
	desc.wait_semaphore_count = 1; /* every job waits for the gate: nothing retires */
	desc.wait_semaphores = w;
	*refusal = MAGMA_STATUS_OK;
	while (n < 64) {
		*refusal = msd_context_execute_command_buffers(ctx, &desc);
		if (*refusal != MAGMA_STATUS_OK)
			break;
		n++;
	}
	return n;
}

/*
 * The bounds over a client's connections together and over the device: connections of one
 * client (the same client_id) share the client's bound even when each is under its own, and once
 * the device is full a client under both its bounds is refused too. Everything is accepted again
 * once the held work retired. Bounds lowered to 8 / 12 / 30 jobs.
 */
static void test_client_and_device_job_limits(void)
{
	static const msd_client_id_t ids[] = {100, 100, 200, 200, 300, 400};
	struct msd_connection_t *conns[6];
	struct msd_context_t *ctxs[6];
	struct msd_sim_device *dev;
	struct mt *t = mt_create(false);
	struct mt_sem gate;
	magma_status_t why;

	REQUIRE(t);
	dev = (struct msd_sim_device *)t->dev;
	/* One-shot: one signal releases every job waiting on it. */
	REQUIRE(mt_sem_create(t, MAGMA_IMPORT_SEMAPHORE_ONE_SHOT, &gate) == 0);
	msd_sim_mutex_lock(&dev->lock);
	dev->work_limits.connection_jobs = 8;
	dev->work_limits.client_jobs = 12;
	dev->work_limits.device_jobs = 30;
	msd_sim_mutex_unlock(&dev->lock);
	for (int i = 0; i < 6; i++) {
		conns[i] = msd_device_open(t->dev, ids[i]);
		REQUIRE(conns[i]);
		ctxs[i] = msd_connection_create_context(conns[i], MAGMA_PRIORITY_MEDIUM);
		REQUIRE(ctxs[i]);
	}
	/* Client 100: its first connection to its own bound, its second to the client's. */
	CHECK_EQ(submit_until_refused(ctxs[0], gate.sem, &why), 8);
	CHECK_EQ(why, MAGMA_STATUS_MEMORY_ERROR);
	CHECK_EQ(submit_until_refused(ctxs[1], gate.sem, &why), 4);
	CHECK_EQ(why, MAGMA_STATUS_MEMORY_ERROR);
	/* Client 200 likewise: 24 jobs on the device now. */
	CHECK_EQ(submit_until_refused(ctxs[2], gate.sem, &why), 8);
	CHECK_EQ(submit_until_refused(ctxs[3], gate.sem, &why), 4);
	/* Client 300 is under both of its bounds, but the device holds 30 after six more. */
	CHECK_EQ(submit_until_refused(ctxs[4], gate.sem, &why), 6);
	CHECK_EQ(why, MAGMA_STATUS_MEMORY_ERROR);
	CHECK_EQ(submit_until_refused(ctxs[5], gate.sem, &why), 0);
	CHECK_EQ(why, MAGMA_STATUS_MEMORY_ERROR);
	msd_sim_mutex_lock(&dev->lock);
	CHECK_EQ(dev->work_jobs, 30);
	msd_sim_mutex_unlock(&dev->lock);
	/* The gate opens: everything retires and work is accepted again. */
	mt_fd_signal(gate.fd);
	for (int i = 0; i < 1000; i++) {
		uint32_t left;

		msd_sim_mutex_lock(&dev->lock);
		left = dev->work_jobs;
		msd_sim_mutex_unlock(&dev->lock);
		if (!left)
			break;
		mt_run(t);
	}
	msd_sim_mutex_lock(&dev->lock);
	CHECK_EQ(dev->work_jobs, 0);
	msd_sim_mutex_unlock(&dev->lock);
	CHECK_EQ(submit_until_refused(ctxs[5], gate.sem, &why), 8);
	mt_run(t);
	for (int i = 0; i < 6; i++) {
		msd_context_destroy(ctxs[i]);
		msd_connection_close(conns[i]);
	}
	msd_sim_mutex_lock(&dev->lock);
	CHECK(msd_sim_list_empty(&dev->clients));
	msd_sim_mutex_unlock(&dev->lock);
	mt_sem_destroy(&gate);
	mt_destroy(t);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_va_pool_reuses_slots),
	SIM_TEST(test_inline_range_recycled),
	SIM_TEST(test_small_submissions_share_a_chunk),
	SIM_TEST(test_job_limit),
	SIM_TEST(test_inline_bytes_limit),
	SIM_TEST(test_client_and_device_job_limits),
};
SIM_TEST_SUITE(tests);
