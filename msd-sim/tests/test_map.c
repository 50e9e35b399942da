/* SPDX-License-Identifier: MIT */
/*
 * test_map.c - msd-sim address spaces against the real sim: what map and unmap do to the
 * registers (map: nothing; unmap of a bound AS: FLUSH_RANGE of exactly its pages), rights in
 * the page tables, deferred unmap while work uses a mapping, and AS slot binding (LRU, slots
 * with work in flight are never stolen).
 */
#include <stdlib.h>
#include <string.h>

#include "msd_sim_internal.h"
#include "msd_test_util.h"
#include "sim_test.h"

#define RW (MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE)
#define VA 0x200000ull

struct fixture {
	struct mt *t;
	struct msd_connection_t *conn;
	struct msd_context_t *ctx;
	struct mt_buf b;
};

static int fixture_init(struct fixture *f, bool threaded, const struct sim_config *cfg)
{
	memset(f, 0, sizeof(*f));
	f->t = mt_create_cfg(threaded, cfg);
	if (!f->t)
		return -1;
	f->conn = msd_device_open(f->t->dev, 1);
	f->ctx = msd_connection_create_context(f->conn, MAGMA_PRIORITY_MEDIUM);
	if (!f->conn || !f->ctx || mt_buf_create(f->t, 4 * 4096, &f->b))
		return -1;
	return 0;
}

static void fixture_fini(struct fixture *f)
{
	msd_context_destroy(f->ctx);
	msd_connection_release_buffer(f->conn, f->b.buf);
	mt_buf_destroy(&f->b);
	msd_connection_close(f->conn);
	mt_destroy(f->t);
}

/* A job at the start of @f's buffer writing @value at @va; returns the command bytes. */
static uint32_t write_job(struct fixture *f, uint64_t va, uint32_t value)
{
	uint32_t cmds[8], n = 0;

	n += sim_cmd_emit_write32(cmds + n, va, value);
	n += sim_cmd_emit_end(cmds + n);
	mt_write_words(&f->b, 0, cmds, n);
	return n * 4;
}

/* Mapping writes page-table memory only: no register is touched. */
static void test_map_touches_no_register(void)
{
	struct fixture f;

	REQUIRE(fixture_init(&f, false, NULL) == 0);
	mt_record_start(f.t);
	CHECK_EQ(msd_connection_map_buffer(f.conn, f.b.buf, VA, 0, 4 * 4096, RW), MAGMA_STATUS_OK);
	mt_record_stop(f.t);
	CHECK_EQ(mt_writes_in(f.t, 0, SIM_MMIO_SIZE, NULL, 0), 0);
	CHECK_EQ(f.t->nregs, 0);
	fixture_fini(&f);
}

/* The GPU sees the buffer through the mapping: a WRITE32 lands in the client's memfd. */
static void test_map_gpu_writes_buffer(void)
{
	struct fixture f;
	uint32_t size;
	struct mt_sem done;

	REQUIRE(fixture_init(&f, true, NULL) == 0);
	REQUIRE(mt_sem_create(f.t, 0, &done) == 0);
	CHECK_EQ(msd_connection_map_buffer(f.conn, f.b.buf, VA, 0, 4 * 4096, RW), MAGMA_STATUS_OK);
	size = write_job(&f, VA + 3 * 4096 + 8, 0xcafef00d);
	CHECK_EQ(mt_exec(f.ctx, &f.b, 0, size, NULL, &done, 0), MAGMA_STATUS_OK);
	CHECK(mt_wait(f.t, done.fd, 2000));
	CHECK_EQ(((uint32_t *)f.b.host)[3 * 1024 + 2], 0xcafef00d);
	mt_sem_destroy(&done);
	fixture_fini(&f);
}

/* Unmapping a mapping of a bound AS: clear, FLUSH_RANGE of exactly its pages, then unpin. */
static void test_unmap_flushes_bound_slot(void)
{
	struct fixture f;
	struct mt_buf data;
	struct mt_reg w[16];
	uint64_t frames;
	uint32_t size, n;

	REQUIRE(fixture_init(&f, false, NULL) == 0);
	REQUIRE(mt_buf_create(f.t, 3 * 4096, &data) == 0);
	CHECK_EQ(msd_connection_map_buffer(f.conn, f.b.buf, VA, 0, 4096, RW), MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_map_buffer(f.conn, data.buf, 0x5000000, 4096, 2 * 4096, RW),
		 MAGMA_STATUS_OK);
	size = write_job(&f, 0x5000000 + 4096, 77);
	CHECK_EQ(mt_exec(f.ctx, &f.b, 0, size, NULL, NULL, 0), MAGMA_STATUS_OK);
	mt_run(f.t);
	CHECK_EQ(((uint32_t *)data.host)[2 * 1024], 77);
	frames = sim_bus_frames_mapped(f.t->sim);
	mt_record_start(f.t);
	CHECK_EQ(msd_connection_unmap_buffer(f.conn, data.buf, 0x5000000), MAGMA_STATUS_OK);
	mt_record_stop(f.t);
	n = mt_writes_in(f.t, 0, SIM_MMIO_SIZE, w, 16);
	REQUIRE_EQ(n, 4);
	CHECK_EQ(w[0].offset, SIM_AS_RANGE_BASE_LO(1));
	CHECK_EQ(w[0].value, 0x5000000);
	CHECK_EQ(w[1].offset, SIM_AS_RANGE_BASE_HI(1));
	CHECK_EQ(w[1].value, 0);
	CHECK_EQ(w[2].offset, SIM_AS_RANGE_PAGES(1));
	CHECK_EQ(w[2].value, 2);
	CHECK_EQ(w[3].offset, SIM_AS_COMMAND(1));
	CHECK_EQ(w[3].value, SIM_AS_COMMAND_FLUSH_RANGE);
	CHECK_EQ(sim_bus_frames_mapped(f.t->sim), frames - 2);
	/* A second unmap finds nothing. */
	CHECK_EQ(msd_connection_unmap_buffer(f.conn, data.buf, 0x5000000),
		 MAGMA_STATUS_INVALID_ARGS);
	msd_connection_release_buffer(f.conn, data.buf);
	mt_buf_destroy(&data);
	fixture_fini(&f);
}

/* An address space that never ran is not in a slot: unmap needs no register access. */
static void test_unmap_unbound_touches_no_register(void)
{
	struct fixture f;

	REQUIRE(fixture_init(&f, false, NULL) == 0);
	CHECK_EQ(msd_connection_map_buffer(f.conn, f.b.buf, VA, 0, 4096, RW), MAGMA_STATUS_OK);
	mt_record_start(f.t);
	CHECK_EQ(msd_connection_unmap_buffer(f.conn, f.b.buf, VA), MAGMA_STATUS_OK);
	mt_record_stop(f.t);
	CHECK_EQ(mt_writes_in(f.t, 0, SIM_MMIO_SIZE, NULL, 0), 0);
	fixture_fini(&f);
}

/* Unmapping what in-flight work uses is deferred until it retires; the range stays reserved. */
static void test_unmap_deferred_while_in_flight(void)
{
	struct fixture f;
	struct mt_buf flag;
	uint32_t cmds[16], n = 0;
	uint64_t frames;

	REQUIRE(fixture_init(&f, false, NULL) == 0);
	REQUIRE(mt_buf_create(f.t, 4096, &flag) == 0);
	CHECK_EQ(msd_connection_map_buffer(f.conn, f.b.buf, VA, 0, 4 * 4096, RW), MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_map_buffer(f.conn, flag.buf, 0x9000000, 0, 4096, RW),
		 MAGMA_STATUS_OK);
	n += sim_cmd_emit_wait(cmds + n, 0x9000000, 1, SIM_CMD_WAIT_EQ);
	n += sim_cmd_emit_write32(cmds + n, VA + 4096, 5);
	n += sim_cmd_emit_end(cmds + n);
	mt_write_words(&f.b, 0, cmds, n);
	CHECK_EQ(mt_exec(f.ctx, &f.b, 0, n * 4, NULL, NULL, 0), MAGMA_STATUS_OK);
	msd_sim_device_poll((struct msd_sim_device *)f.t->dev);
	CHECK_EQ(sim_clock_step(f.t->sim, 5000), 0);
	CHECK_EQ(SIM_FIELD_GET(SIM_Q_STATUS_STATE, sim_mmio_read32(f.t->sim, SIM_Q_STATUS(0))),
		 SIM_Q_STATE_WAITING);
	frames = sim_bus_frames_mapped(f.t->sim);
	mt_record_start(f.t);
	CHECK_EQ(msd_connection_unmap_buffer(f.conn, f.b.buf, VA), MAGMA_STATUS_OK);
	mt_record_stop(f.t);
	CHECK_EQ(mt_writes_in(f.t, 0, SIM_MMIO_SIZE, NULL, 0), 0);
	CHECK_EQ(sim_bus_frames_mapped(f.t->sim), frames);
	CHECK_EQ(msd_connection_unmap_buffer(f.conn, f.b.buf, VA), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(msd_connection_map_buffer(f.conn, flag.buf, VA + 4096, 0, 4096, RW),
		 MAGMA_STATUS_INVALID_ARGS);
	/* Release the WAIT: the job finishes using the mapping, then it is torn down. */
	((uint32_t *)flag.host)[0] = 1;
	mt_run(f.t);
	CHECK_EQ(((uint32_t *)f.b.host)[1024], 5);
	CHECK_EQ(sim_bus_frames_mapped(f.t->sim), frames - 4);
	CHECK_EQ(msd_connection_map_buffer(f.conn, flag.buf, VA + 4096, 0, 4096, RW),
		 MAGMA_STATUS_OK);
	msd_connection_release_buffer(f.conn, flag.buf);
	mt_buf_destroy(&flag);
	fixture_fini(&f);
}

/* Connections take free slots first, then the least recently used idle one. */
static void test_slot_binding_lru(void)
{
	struct sim_config cfg;
	struct mt *t;
	struct msd_connection_t *conn[4];
	struct msd_context_t *ctx[4];
	struct mt_buf b[4];

	sim_config_default(&cfg);
	cfg.as_slots = 3; /* kernel + 2 client slots */
	t = mt_create_cfg(false, &cfg);
	REQUIRE(t);
	for (int i = 0; i < 4; i++) {
		uint32_t cmds[8], n = 0;

		conn[i] = msd_device_open(t->dev, (uint64_t)i);
		ctx[i] = msd_connection_create_context(conn[i], MAGMA_PRIORITY_MEDIUM);
		REQUIRE(mt_buf_create(t, 4096, &b[i]) == 0);
		REQUIRE(msd_connection_map_buffer(conn[i], b[i].buf, VA, 0, 4096, RW) ==
			MAGMA_STATUS_OK);
		n += sim_cmd_emit_write32(cmds + n, VA + 64, 100u + (uint32_t)i);
		n += sim_cmd_emit_end(cmds + n);
		mt_write_words(&b[i], 0, cmds, n);
	}
	/* 0 -> slot 1, 1 -> slot 2, 0 again (slot 1 most recent), 2 evicts 1 (LRU), 3 evicts 0. */
	const int order[] = {0, 1, 0, 2, 3};
	const int slot[] = {1, 2, 1, 2, 1};
	for (int k = 0; k < 5; k++) {
		int i = order[k];
		struct msd_sim_connection *c = (struct msd_sim_connection *)conn[i];

		CHECK_EQ(mt_exec(ctx[i], &b[i], 0, 20, NULL, NULL, 0), MAGMA_STATUS_OK);
		mt_run(t);
		CHECK_EQ(c->as.slot, slot[k]);
		CHECK_EQ(sim_mmio_read64(t->sim, SIM_AS_TRANSTAB_LO(slot[k])), c->as.root->pa);
		CHECK_EQ(((uint32_t *)b[i].host)[16], 100u + (uint32_t)i);
	}
	CHECK_EQ(((struct msd_sim_connection *)conn[1])->as.slot, -1);
	CHECK_EQ(((struct msd_sim_connection *)conn[0])->as.slot, -1);
	for (int i = 0; i < 4; i++) {
		msd_context_destroy(ctx[i]);
		msd_connection_release_buffer(conn[i], b[i].buf);
		mt_buf_destroy(&b[i]);
		msd_connection_close(conn[i]);
	}
	mt_destroy(t);
}

/* A slot whose address space has work in flight is never stolen: the other job waits. */
static void test_slot_in_flight_not_stolen(void)
{
	struct sim_config cfg;
	struct mt *t;
	struct msd_connection_t *ca, *cb;
	struct msd_context_t *xa, *xb;
	struct mt_buf a, b;
	uint32_t cmds[16], n = 0;

	sim_config_default(&cfg);
	cfg.as_slots = 2; /* one client slot */
	t = mt_create_cfg(false, &cfg);
	REQUIRE(t);
	ca = msd_device_open(t->dev, 1);
	cb = msd_device_open(t->dev, 2);
	xa = msd_connection_create_context(ca, MAGMA_PRIORITY_MEDIUM);
	xb = msd_connection_create_context(cb, MAGMA_PRIORITY_MEDIUM);
	REQUIRE(mt_buf_create(t, 4096, &a) == 0 && mt_buf_create(t, 4096, &b) == 0);
	REQUIRE(msd_connection_map_buffer(ca, a.buf, VA, 0, 4096, RW) == MAGMA_STATUS_OK);
	REQUIRE(msd_connection_map_buffer(cb, b.buf, VA, 0, 4096, RW) == MAGMA_STATUS_OK);
	n += sim_cmd_emit_wait(cmds + n, VA + 512, 1, SIM_CMD_WAIT_EQ);
	n += sim_cmd_emit_end(cmds + n);
	mt_write_words(&a, 0, cmds, n);
	n = 0;
	n += sim_cmd_emit_write32(cmds + n, VA + 64, 9);
	n += sim_cmd_emit_end(cmds + n);
	mt_write_words(&b, 0, cmds, n);
	CHECK_EQ(mt_exec(xa, &a, 0, 24, NULL, NULL, 0), MAGMA_STATUS_OK);
	CHECK_EQ(mt_exec(xb, &b, 0, 20, NULL, NULL, 0), MAGMA_STATUS_OK);
	msd_sim_device_poll((struct msd_sim_device *)t->dev);
	CHECK_EQ(sim_clock_step(t->sim, 5000), 0);
	msd_sim_device_poll((struct msd_sim_device *)t->dev);
	CHECK_EQ(((struct msd_sim_connection *)ca)->as.slot, 1);
	CHECK_EQ(((struct msd_sim_connection *)cb)->as.slot, -1);
	CHECK_EQ(((uint32_t *)b.host)[16], 0);
	((uint32_t *)a.host)[128] = 1;
	mt_run(t);
	CHECK_EQ(((struct msd_sim_connection *)cb)->as.slot, 1);
	CHECK_EQ(((uint32_t *)b.host)[16], 9);
	msd_context_destroy(xa);
	msd_context_destroy(xb);
	msd_connection_release_buffer(ca, a.buf);
	msd_connection_release_buffer(cb, b.buf);
	mt_buf_destroy(&a);
	mt_buf_destroy(&b);
	msd_connection_close(ca);
	msd_connection_close(cb);
	mt_destroy(t);
}

/* Closing a connection disables its slot (UPDATE with CONFIG 0) and frees every table. */
static void test_close_unbinds_and_unpins(void)
{
	struct fixture f;
	uint64_t before;
	uint32_t size;

	REQUIRE(fixture_init(&f, false, NULL) == 0);
	before = sim_bus_frames_mapped(f.t->sim);
	CHECK_EQ(msd_connection_map_buffer(f.conn, f.b.buf, VA, 0, 4 * 4096, RW), MAGMA_STATUS_OK);
	size = write_job(&f, VA + 64, 1);
	CHECK_EQ(mt_exec(f.ctx, &f.b, 0, size, NULL, NULL, 0), MAGMA_STATUS_OK);
	mt_run(f.t);
	CHECK_EQ(sim_mmio_read32(f.t->sim, SIM_AS_STATUS(1)) & SIM_AS_STATUS_ENABLED, 1);
	msd_context_destroy(f.ctx);
	msd_connection_release_buffer(f.conn, f.b.buf);
	mt_record_start(f.t);
	msd_connection_close(f.conn);
	mt_record_stop(f.t);
	CHECK_EQ(sim_mmio_read32(f.t->sim, SIM_AS_STATUS(1)) & SIM_AS_STATUS_ENABLED, 0);
	/* The level-0 table of the connection went too. */
	CHECK_EQ(sim_bus_frames_mapped(f.t->sim), before - 1);
	mt_buf_destroy(&f.b);
	mt_destroy(f.t);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_map_touches_no_register),
	SIM_TEST(test_map_gpu_writes_buffer),
	SIM_TEST(test_unmap_flushes_bound_slot),
	SIM_TEST(test_unmap_unbound_touches_no_register),
	SIM_TEST(test_unmap_deferred_while_in_flight),
	SIM_TEST(test_slot_binding_lru),
	SIM_TEST(test_slot_in_flight_not_stolen),
	SIM_TEST(test_close_unbinds_and_unpins),
};
SIM_TEST_SUITE(tests);
