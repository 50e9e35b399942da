/* SPDX-License-Identifier: MIT */
/*
 * test_lifetime.c - msd-sim object lifetimes against the real sim: closing a connection stops its
 * work on the GPU and frees its address space at once, destroying a context drops its queued
 * work, releasing a buffer defers while work uses it, no callback runs after it is unset, a
 * device destroyed right after such a close has nothing left to drop, and the register hook sees
 * every access. With work in flight: an unmapped buffer stays mapped until the job retires, and a
 * closed connection whose job would never finish is freed without waiting for the watchdog
 * (docs/msd-sim.md; test_abandon.c has the dispatches).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msd_sim_internal.h"
#include "msd_test_util.h"
#include "sim_test.h"

#define RW (MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE)
#define VA 0x200000ull

/* Wait (up to 1 s) for the pinned frame count to drop to @frames. */
static bool frames_settle(struct mt *t, uint64_t frames)
{
	for (int i = 0; i < 1000 && sim_bus_frames_mapped(t->sim) != frames; i++)
		usleep(1000);
	return sim_bus_frames_mapped(t->sim) == frames;
}

/* Wait (up to 1 s) until queue 0 spins in a WAIT command. */
static bool queue_waiting(struct mt *t)
{
	for (int i = 0; i < 1000; i++) {
		if (SIM_FIELD_GET(SIM_Q_STATUS_STATE, sim_mmio_read32(t->sim, SIM_Q_STATUS(0))) ==
		    SIM_Q_STATE_WAITING)
			return true;
		usleep(1000);
	}
	return false;
}

/* WAIT for word 0x800 of @b to become 1, then WRITE32 0x900 = 7. Returns the command bytes. */
static uint32_t blocked_job(struct mt_buf *b)
{
	uint32_t *w = b->host;
	uint32_t n = 0;

	n += sim_cmd_emit_wait(w + n, VA + 0x800, 1, SIM_CMD_WAIT_EQ);
	n += sim_cmd_emit_write32(w + n, VA + 0x900, 7);
	n += sim_cmd_emit_end(w + n);
	return n * 4;
}

/* Cases (c) and (d): everything is closed, in magma_system's order, while a job waits on the GPU.
 * Destroying the context stops the job (its queue is reset), so once the connection is closed its
 * address space, slot and frames are gone; the job never finishes, and the queue runs new work. */
static void test_close_with_work_in_flight(void)
{
	struct mt *t = mt_create(true);
	struct msd_connection_t *conn;
	struct msd_context_t *ctx;
	struct mt_client next;
	struct mt_buf b;
	uint64_t frames, end;
	uint32_t size;

	REQUIRE(t);
	frames = sim_bus_frames_mapped(t->sim);
	conn = msd_device_open(t->dev, 1);
	ctx = msd_connection_create_context(conn, MAGMA_PRIORITY_MEDIUM);
	REQUIRE(mt_buf_create(t, 4096, &b) == 0);
	REQUIRE(msd_connection_map_buffer(conn, b.buf, VA, 0, 4096, RW) == MAGMA_STATUS_OK);
	size = blocked_job(&b);
	CHECK_EQ(mt_exec(ctx, &b, 0, size, NULL, NULL, 0), MAGMA_STATUS_OK);
	CHECK(queue_waiting(t));
	msd_context_destroy(ctx);
	CHECK_EQ(SIM_FIELD_GET(SIM_Q_STATUS_STATE, sim_mmio_read32(t->sim, SIM_Q_STATUS(0))),
		 SIM_Q_STATE_IDLE);
	msd_connection_release_buffer(conn, b.buf);
	msd_connection_close(conn);
	msd_buffer_release(b.buf);
	b.buf = NULL;
	CHECK_EQ(sim_bus_frames_mapped(t->sim), frames);
	CHECK_EQ(sim_mmio_read32(t->sim, SIM_AS_STATUS(1)) & SIM_AS_STATUS_ENABLED, 0);
	((uint32_t *)b.host)[0x800 / 4] = 1;
	REQUIRE(mt_client_init(t, &next, 2, MAGMA_PRIORITY_MEDIUM, 4096, false) == 0);
	end = mt_client_put_write(&next, 0, VA + 0x900, 9);
	CHECK_EQ(mt_exec(next.ctx, &next.b, 0, end, NULL, &next.done, 0), MAGMA_STATUS_OK);
	CHECK(mt_fd_readable(next.done.fd, 2000));
	CHECK_EQ(*mt_client_words(&next, 0x900), 9);
	CHECK_EQ(((uint32_t *)b.host)[0x900 / 4], 0);
	mt_client_fini(&next);
	mt_buf_destroy(&b);
	mt_destroy(t);
}

/* Destroying a context drops its held jobs: they never run, even once their semaphore fires. */
static void test_context_destroy_drops_queued(void)
{
	struct mt *t = mt_create(true);
	struct msd_connection_t *conn;
	struct msd_context_t *ctx;
	struct mt_buf b;
	struct mt_sem go, done;
	uint32_t n;

	REQUIRE(t);
	conn = msd_device_open(t->dev, 1);
	ctx = msd_connection_create_context(conn, MAGMA_PRIORITY_MEDIUM);
	REQUIRE(mt_buf_create(t, 4096, &b) == 0);
	REQUIRE(mt_sem_create(t, 0, &go) == 0 && mt_sem_create(t, 0, &done) == 0);
	REQUIRE(msd_connection_map_buffer(conn, b.buf, VA, 0, 4096, RW) == MAGMA_STATUS_OK);
	n = sim_cmd_emit_write32(b.host, VA + 0x900, 7);
	n += sim_cmd_emit_end((uint32_t *)b.host + n);
	CHECK_EQ(mt_exec(ctx, &b, 0, n * 4, &go, &done, 0), MAGMA_STATUS_OK);
	msd_context_destroy(ctx);
	mt_fd_signal(go.fd);
	CHECK(!mt_fd_readable(done.fd, 100));
	CHECK_EQ(((uint32_t *)b.host)[0x900 / 4], 0);
	CHECK(mt_fd_readable(go.fd, 0)); /* not consumed by the dropped job */
	mt_sem_destroy(&go);
	mt_sem_destroy(&done);
	msd_connection_release_buffer(conn, b.buf);
	mt_buf_destroy(&b);
	msd_connection_close(conn);
	mt_destroy(t);
}

/* After the callback is unset nothing is delivered, even for work that completes later. */
static void test_no_callback_after_unset(void)
{
	struct mt *t = mt_create(true);
	struct msd_connection_t *conn;
	struct msd_context_t *ctx;
	struct mt_buf b;
	struct mt_sem done;
	uint32_t n;

	REQUIRE(t);
	conn = msd_device_open(t->dev, 1);
	ctx = msd_connection_create_context(conn, MAGMA_PRIORITY_MEDIUM);
	REQUIRE(mt_buf_create(t, 4096, &b) == 0 && mt_sem_create(t, 0, &done) == 0);
	REQUIRE(msd_connection_map_buffer(conn, b.buf, VA, 0, 4096, RW) == MAGMA_STATUS_OK);
	mt_notify_install(t, conn);
	n = sim_cmd_emit_end(b.host);
	CHECK_EQ(mt_exec(ctx, &b, 0, n * 4, NULL, NULL, MAGMA_SIM_COMMAND_FLAG_NOTIFY),
		 MAGMA_STATUS_OK);
	CHECK(mt_notify_wait(t, 1, 2000));
	msd_connection_set_notification_callback(conn, NULL, NULL);
	CHECK_EQ(mt_exec(ctx, &b, 0, n * 4, NULL, &done, MAGMA_SIM_COMMAND_FLAG_NOTIFY),
		 MAGMA_STATUS_OK);
	CHECK(mt_fd_readable(done.fd, 2000));
	CHECK(!mt_notify_wait(t, 2, 100));
	CHECK_EQ(t->nnotes, 1);
	msd_context_destroy(ctx);
	msd_connection_release_buffer(conn, b.buf);
	mt_buf_destroy(&b);
	mt_sem_destroy(&done);
	msd_connection_close(conn);
	mt_destroy(t);
}

/* A device destroyed right after a connection closed with a job stuck on the GPU and one held
 * for a semaphore: the close dropped both, so the teardown has nothing left to drop, and every
 * frame is free. */
static void test_device_destroy_with_outstanding_work(void)
{
	struct mt *t = mt_create(true);
	struct msd_connection_t *conn;
	struct msd_context_t *ctx, *ctx2;
	struct mt_buf b;
	struct mt_sem go;
	uint32_t size;

	REQUIRE(t);
	conn = msd_device_open(t->dev, 1);
	ctx = msd_connection_create_context(conn, MAGMA_PRIORITY_MEDIUM);
	ctx2 = msd_connection_create_context(conn, MAGMA_PRIORITY_MEDIUM);
	REQUIRE(mt_buf_create(t, 4096, &b) == 0 && mt_sem_create(t, 0, &go) == 0);
	REQUIRE(msd_connection_map_buffer(conn, b.buf, VA, 0, 4096, RW) == MAGMA_STATUS_OK);
	size = blocked_job(&b);
	CHECK_EQ(mt_exec(ctx, &b, 0, size, NULL, NULL, 0), MAGMA_STATUS_OK);
	CHECK_EQ(mt_exec(ctx2, &b, 0, size, &go, NULL, 0), MAGMA_STATUS_OK);
	CHECK(queue_waiting(t));
	msd_context_destroy(ctx);
	msd_context_destroy(ctx2);
	msd_connection_release_buffer(conn, b.buf);
	msd_connection_close(conn);
	msd_device_destroy(t->dev);
	t->dev = NULL;
	CHECK_EQ(sim_bus_frames_mapped(t->sim), 0);
	CHECK(strstr(t->log, "dropping unfinished jobs") == NULL);
	mt_sem_destroy(&go);
	mt_buf_destroy(&b);
	mt_destroy(t);
}

struct hook_log {
	uint32_t n;
	struct mt_reg regs[64];
};

static void hook(void *ctx, bool write, uint32_t offset, uint32_t value)
{
	struct hook_log *h = ctx;

	if (h->n < 64)
		h->regs[h->n++] = (struct mt_reg){write, offset, value};
}

/* The register hook sees exactly the accesses the sim sees, in order. */
static void test_io_hook_matches_bus(void)
{
	struct mt *t = mt_create(false);
	struct msd_connection_t *conn;
	struct msd_context_t *ctx;
	struct hook_log h = {0};
	struct mt_buf b;
	uint32_t n;

	REQUIRE(t);
	conn = msd_device_open(t->dev, 1);
	ctx = msd_connection_create_context(conn, MAGMA_PRIORITY_MEDIUM);
	REQUIRE(mt_buf_create(t, 4096, &b) == 0);
	REQUIRE(msd_connection_map_buffer(conn, b.buf, VA, 0, 4096, RW) == MAGMA_STATUS_OK);
	n = sim_cmd_emit_end(b.host);
	msd_sim_device_set_io_hook((struct msd_sim_device *)t->dev, hook, &h);
	mt_record_start(t);
	CHECK_EQ(mt_exec(ctx, &b, 0, n * 4, NULL, NULL, 0), MAGMA_STATUS_OK);
	mt_run(t);
	mt_record_stop(t);
	msd_sim_device_set_io_hook((struct msd_sim_device *)t->dev, NULL, NULL);
	REQUIRE_EQ(h.n, t->nregs);
	for (uint32_t i = 0; i < h.n; i++) {
		CHECK_EQ(h.regs[i].write, t->regs[i].write);
		CHECK_EQ(h.regs[i].offset, t->regs[i].offset);
		CHECK_EQ(h.regs[i].value, t->regs[i].value);
	}
	CHECK(h.n >= 10);
	msd_context_destroy(ctx);
	msd_connection_release_buffer(conn, b.buf);
	mt_buf_destroy(&b);
	msd_connection_close(conn);
	mt_destroy(t);
}

/* One buffer mapped by two connections; each sees it at its own address. */
static void test_buffer_shared_by_connections(void)
{
	struct mt *t = mt_create(true);
	struct msd_connection_t *c1, *c2;
	struct msd_context_t *x1, *x2;
	struct mt_buf b;
	struct mt_sem d1, d2;
	uint32_t n;

	REQUIRE(t);
	c1 = msd_device_open(t->dev, 1);
	c2 = msd_device_open(t->dev, 2);
	x1 = msd_connection_create_context(c1, MAGMA_PRIORITY_MEDIUM);
	x2 = msd_connection_create_context(c2, MAGMA_PRIORITY_MEDIUM);
	REQUIRE(mt_buf_create(t, 2 * 4096, &b) == 0);
	REQUIRE(mt_sem_create(t, 0, &d1) == 0 && mt_sem_create(t, 0, &d2) == 0);
	REQUIRE(msd_connection_map_buffer(c1, b.buf, VA, 0, 2 * 4096, RW) == MAGMA_STATUS_OK);
	REQUIRE(msd_connection_map_buffer(c2, b.buf, 0x40000000, 0, 2 * 4096, RW) ==
		MAGMA_STATUS_OK);
	n = sim_cmd_emit_signal(b.host, VA + 0x1000, 1, SIM_CMD_SIGNAL_ADD);
	n += sim_cmd_emit_end((uint32_t *)b.host + n);
	sim_cmd_emit_signal((uint32_t *)b.host + 16, 0x40001000, 100, SIM_CMD_SIGNAL_ADD);
	sim_cmd_emit_end((uint32_t *)b.host + 16 + 5);
	CHECK_EQ(mt_exec(x1, &b, 0, n * 4, NULL, &d1, 0), MAGMA_STATUS_OK);
	CHECK_EQ(mt_exec(x2, &b, 64, 64 + n * 4, NULL, &d2, 0), MAGMA_STATUS_OK);
	CHECK(mt_fd_readable(d1.fd, 2000) && mt_fd_readable(d2.fd, 2000));
	CHECK_EQ(((uint32_t *)b.host)[1024], 101);
	msd_context_destroy(x1);
	msd_context_destroy(x2);
	msd_connection_release_buffer(c1, b.buf);
	msd_connection_release_buffer(c2, b.buf);
	mt_buf_destroy(&b);
	mt_sem_destroy(&d1);
	mt_sem_destroy(&d2);
	msd_connection_close(c1);
	msd_connection_close(c2);
	mt_destroy(t);
}

struct worker {
	struct mt *t;
	int id;
	int failures;
};

/* One client thread: its own connection; map, execute, wait, check, unmap, over and over. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct msd_connection_t *conn = msd_device_open(w->t->dev, (uint64_t)w->id);
	struct msd_context_t *ctx = msd_connection_create_context(conn, MAGMA_PRIORITY_MEDIUM);
	struct mt_buf b;
	struct mt_sem done;

	if (!conn || !ctx || mt_buf_create(w->t, 2 * 4096, &b) || mt_sem_create(w->t, 0, &done)) {
		w->failures++;
		return NULL;
	}
	for (uint32_t i = 0; i < 40; i++) {
		uint64_t va = VA + (uint64_t)(i % 4) * 0x100000, drain;
		uint32_t n;

		if (msd_connection_map_buffer(conn, b.buf, va, 0, 2 * 4096, RW) !=
		    MAGMA_STATUS_OK) {
			w->failures++;
			break;
		}
		n = sim_cmd_emit_write32(b.host, va + 0x1000, (uint32_t)w->id << 16 | i);
		n += sim_cmd_emit_fill((uint32_t *)b.host + n, va + 0x1100, 256, i);
		n += sim_cmd_emit_end((uint32_t *)b.host + n);
		if (mt_exec(ctx, &b, 0, n * 4, NULL, &done, 0) != MAGMA_STATUS_OK ||
		    !mt_fd_readable(done.fd, 5000))
			w->failures++;
		if (read(done.fd, &drain, sizeof(drain)) != sizeof(drain))
			w->failures++;
		if (((uint32_t *)b.host)[1024] != ((uint32_t)w->id << 16 | i) ||
		    ((uint32_t *)b.host)[1024 + 64 + 63] != i)
			w->failures++;
		if (msd_connection_unmap_buffer(conn, b.buf, va) != MAGMA_STATUS_OK)
			w->failures++;
	}
	msd_context_destroy(ctx);
	msd_connection_release_buffer(conn, b.buf);
	mt_buf_destroy(&b);
	mt_sem_destroy(&done);
	msd_connection_close(conn);
	return NULL;
}

/* Several connections on their own threads, as magma_system runs them, with fewer AS slots
 * than connections: every job lands in the right address space. */
static void test_concurrent_connections(void)
{
	struct sim_config cfg;
	struct worker w[5];
	pthread_t th[5];
	struct mt *t;
	uint64_t frames;

	sim_config_default(&cfg);
	cfg.as_slots = 3;
	t = mt_create_cfg(true, &cfg);
	REQUIRE(t);
	frames = sim_bus_frames_mapped(t->sim);
	for (int i = 0; i < 5; i++) {
		w[i] = (struct worker){t, i + 1, 0};
		REQUIRE(pthread_create(&th[i], NULL, worker_main, &w[i]) == 0);
	}
	for (int i = 0; i < 5; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(w[i].failures, 0);
	}
	CHECK(frames_settle(t, frames));
	mt_destroy(t);
}

/* An injected DMA error faults the job like any other fault: notification, context killed. */
static void test_injected_dma_error(void)
{
	struct mt *t = mt_create(true);
	struct msd_connection_t *conn;
	struct msd_context_t *ctx;
	struct magma_sim_notification note;
	struct sim_inject inj = {.kind = SIM_INJECT_DMA_ERROR, .target = 0};
	struct mt_buf b;
	uint32_t n;

	REQUIRE(t);
	conn = msd_device_open(t->dev, 1);
	ctx = msd_connection_create_context(conn, MAGMA_PRIORITY_MEDIUM);
	mt_notify_install(t, conn);
	REQUIRE(mt_buf_create(t, 4096, &b) == 0);
	REQUIRE(msd_connection_map_buffer(conn, b.buf, VA, 0, 4096, RW) == MAGMA_STATUS_OK);
	REQUIRE(sim_inject_fault(t->sim, &inj) == 0);
	n = sim_cmd_emit_fill(b.host, VA + 0x800, 64, 0x55);
	n += sim_cmd_emit_end((uint32_t *)b.host + n);
	CHECK_EQ(mt_exec(ctx, &b, 0, n * 4, NULL, NULL, 0), MAGMA_STATUS_OK);
	REQUIRE(mt_notify_wait(t, 2, 2000));
	memcpy(&note, t->notes[0].data, sizeof(note));
	CHECK_EQ(note.type, MAGMA_SIM_NOTIFY_FAULT);
	CHECK_EQ(note.fault_code, SIM_FAULT_DMA_ERROR);
	CHECK_EQ(note.fault_address, VA + 0x800);
	CHECK_EQ(t->notes[1].type, MSD_CONNECTION_NOTIFICATION_CONTEXT_KILLED);
	msd_context_destroy(ctx);
	msd_connection_release_buffer(conn, b.buf);
	mt_buf_destroy(&b);
	msd_connection_close(conn);
	mt_destroy(t);
}

/* Case (a): the client unmaps (and then releases) the buffer while a job using it waits on the
 * GPU. The mapping stays until the job retires, the job completes correctly, then the frames go. */
static void test_unmap_with_work_in_flight(void)
{
	struct mt *t = mt_create(true);
	struct msd_connection_t *conn;
	struct msd_context_t *ctx;
	struct mt_buf b;
	struct mt_sem done;
	uint64_t frames;
	uint32_t size;

	REQUIRE(t);
	conn = msd_device_open(t->dev, 1);
	ctx = msd_connection_create_context(conn, MAGMA_PRIORITY_MEDIUM);
	REQUIRE(mt_buf_create(t, 4096, &b) == 0 && mt_sem_create(t, 0, &done) == 0);
	REQUIRE(msd_connection_map_buffer(conn, b.buf, VA, 0, 4096, RW) == MAGMA_STATUS_OK);
	frames = sim_bus_frames_mapped(t->sim) - 1; /* once the buffer's one page is unpinned */
	size = blocked_job(&b);
	CHECK_EQ(mt_exec(ctx, &b, 0, size, NULL, &done, 0), MAGMA_STATUS_OK);
	CHECK(queue_waiting(t));
	CHECK_EQ(msd_connection_unmap_buffer(conn, b.buf, VA), MAGMA_STATUS_OK);
	msd_connection_release_buffer(conn, b.buf);
	CHECK_EQ(sim_bus_frames_mapped(t->sim), frames + 1);
	((uint32_t *)b.host)[0x800 / 4] = 1;
	REQUIRE(mt_fd_readable(done.fd, 2000));
	CHECK_EQ(((uint32_t *)b.host)[0x900 / 4], 7);
	CHECK(frames_settle(t, frames));
	CHECK_EQ(sim_mmio_read32(t->sim, SIM_Q_FAULT_CODE(0)), 0);
	mt_sem_destroy(&done);
	mt_buf_destroy(&b);
	msd_context_destroy(ctx);
	msd_connection_close(conn);
	mt_destroy(t);
}

/* Cases (c) and (d) when the work would never finish: the connection is closed and its context
 * destroyed while its job waits for a word nobody writes. The close stops the job without waiting
 * for the watchdog (no hang is counted, no GPU reset), its address space and frames are free when
 * the close returns, and another connection keeps working. */
static void test_close_with_hung_work(void)
{
	struct mt *t = mt_create(true);
	struct msd_connection_t *conn, *other;
	struct msd_context_t *ctx, *octx;
	struct mt_buf b, ob;
	struct mt_sem done;
	struct msd_sim_device *dev;
	uint64_t frames;
	uint32_t size, n;

	REQUIRE(t);
	dev = (struct msd_sim_device *)t->dev;
	other = msd_device_open(t->dev, 2);
	octx = msd_connection_create_context(other, MAGMA_PRIORITY_MEDIUM);
	REQUIRE(mt_buf_create(t, 4096, &ob) == 0 && mt_sem_create(t, 0, &done) == 0);
	REQUIRE(msd_connection_map_buffer(other, ob.buf, VA, 0, 4096, RW) == MAGMA_STATUS_OK);
	frames = sim_bus_frames_mapped(t->sim);
	conn = msd_device_open(t->dev, 1);
	ctx = msd_connection_create_context(conn, MAGMA_PRIORITY_MEDIUM);
	REQUIRE(mt_buf_create(t, 4096, &b) == 0);
	REQUIRE(msd_connection_map_buffer(conn, b.buf, VA, 0, 4096, RW) == MAGMA_STATUS_OK);
	size = blocked_job(&b);
	CHECK_EQ(mt_exec(ctx, &b, 0, size, NULL, NULL, 0), MAGMA_STATUS_OK);
	CHECK(queue_waiting(t));
	msd_context_destroy(ctx);
	msd_connection_release_buffer(conn, b.buf);
	msd_connection_close(conn);
	CHECK_EQ(sim_bus_frames_mapped(t->sim), frames);
	CHECK_EQ(((uint32_t *)b.host)[0x900 / 4], 0);
	msd_sim_mutex_lock(&dev->lock);
	CHECK_EQ(dev->hangs, 0);
	CHECK_EQ(dev->soft_resets + dev->hard_resets, 0);
	CHECK_EQ(dev->abandon_resets, 1);
	msd_sim_mutex_unlock(&dev->lock);
	n = sim_cmd_emit_write32(ob.host, VA + 0x900, 9);
	n += sim_cmd_emit_end((uint32_t *)ob.host + n);
	CHECK_EQ(mt_exec(octx, &ob, 0, n * 4, NULL, &done, 0), MAGMA_STATUS_OK);
	REQUIRE(mt_fd_readable(done.fd, 2000));
	CHECK_EQ(((uint32_t *)ob.host)[0x900 / 4], 9);
	mt_sem_destroy(&done);
	mt_buf_destroy(&b);
	msd_connection_release_buffer(other, ob.buf);
	mt_buf_destroy(&ob);
	msd_context_destroy(octx);
	msd_connection_close(other);
	mt_destroy(t);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_close_with_work_in_flight),
	SIM_TEST(test_context_destroy_drops_queued),
	SIM_TEST(test_no_callback_after_unset),
	SIM_TEST(test_device_destroy_with_outstanding_work),
	SIM_TEST(test_io_hook_matches_bus),
	SIM_TEST(test_buffer_shared_by_connections),
	SIM_TEST(test_concurrent_connections),
	SIM_TEST(test_injected_dma_error),
	SIM_TEST(test_unmap_with_work_in_flight),
	SIM_TEST(test_close_with_hung_work),
};
SIM_TEST_SUITE(tests);
