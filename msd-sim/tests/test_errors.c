/* SPDX-License-Identifier: MIT */
/*
 * test_errors.c - every bad input to every msd-sim entry point returns its documented status
 * (or NULL / nothing for void entry points) without asserting or touching the GPU: wrong magics,
 * NULL pointers, unaligned, empty, out-of-range and overlapping maps, double unmaps, bad range
 * ops, malformed descriptors, unmapped command buffers, bad inline commands and bad imports.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "msd_sim_internal.h"
#include "msd_test_util.h"
#include "sim_test.h"

#define RW    (MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE)
#define INVAL MAGMA_STATUS_INVALID_ARGS
#define VA    0x200000ull

struct fixture {
	struct mt *t;
	struct msd_connection_t *conn;
	struct msd_context_t *ctx;
	struct mt_buf b;
	struct mt_sem s;
};

static int fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->t = mt_create(false);
	if (!f->t)
		return -1;
	f->conn = msd_device_open(f->t->dev, 1);
	f->ctx = msd_connection_create_context(f->conn, MAGMA_PRIORITY_MEDIUM);
	if (!f->conn || !f->ctx || mt_buf_create(f->t, 8 * 4096, &f->b) ||
	    mt_sem_create(f->t, 0, &f->s))
		return -1;
	return 0;
}

static void fixture_fini(struct fixture *f)
{
	msd_context_destroy(f->ctx);
	msd_connection_release_buffer(f->conn, f->b.buf);
	mt_buf_destroy(&f->b);
	mt_sem_destroy(&f->s);
	msd_connection_close(f->conn);
	mt_destroy(f->t);
}

/* Objects of another kind (or garbage) are refused by their magic, not by a crash. */
static void test_bad_magics(void)
{
	struct fixture f;
	struct msd_connection_t fake_conn = {0x1234};
	struct msd_buffer_t fake_buf = {0x1234};
	struct msd_context_t fake_ctx = {0x1234};
	struct msd_device_t fake_dev = {0x1234};
	struct msd_perf_count_pool_t fake_pool = {0x1234};
	struct msd_perf_count_pool_t *pool = NULL;
	struct msd_command_descriptor desc = {0};
	uint64_t v;
	uint32_t nop = 0;

	REQUIRE(fixture_init(&f) == 0);
	mt_record_start(f.t);
	CHECK_EQ(msd_device_query(&fake_dev, MAGMA_QUERY_VENDOR_ID, NULL, &v), INVAL);
	CHECK(msd_device_open(&fake_dev, 1) == NULL);
	CHECK(msd_connection_create_context(&fake_conn, 0) == NULL);
	/* A buffer handle passed as a connection and vice versa. */
	CHECK_EQ(msd_connection_map_buffer((struct msd_connection_t *)f.b.buf, f.b.buf, VA, 0, 4096,
					   RW),
		 INVAL);
	CHECK_EQ(msd_connection_map_buffer(f.conn, &fake_buf, VA, 0, 4096, RW), INVAL);
	CHECK_EQ(msd_connection_map_buffer(&fake_conn, f.b.buf, VA, 0, 4096, RW), INVAL);
	CHECK_EQ(msd_connection_unmap_buffer(&fake_conn, f.b.buf, VA), INVAL);
	CHECK_EQ(msd_connection_unmap_buffer(f.conn, &fake_buf, VA), INVAL);
	CHECK_EQ(msd_connection_buffer_range_op(&fake_conn, f.b.buf, 1, 0, 4096), INVAL);
	CHECK_EQ(msd_context_execute_command_buffers(&fake_ctx, &desc), INVAL);
	CHECK_EQ(msd_context_execute_command_buffers((struct msd_context_t *)f.conn, &desc), INVAL);
	CHECK_EQ(msd_context_execute_inline_commands(&fake_ctx, 4, &nop, 0, NULL), INVAL);
	CHECK_EQ(msd_connection_enable_performance_counters(&fake_conn, NULL, 0), INVAL);
	CHECK_EQ(msd_connection_create_performance_counter_buffer_pool(&fake_conn, 1, &pool),
		 INVAL);
	CHECK_EQ(msd_connection_release_performance_counter_buffer_pool(f.conn, &fake_pool), INVAL);
	CHECK_EQ(msd_connection_add_performance_counter_buffer_offset_to_pool(f.conn, &fake_pool,
									      f.b.buf, 1, 0, 8),
		 INVAL);
	CHECK_EQ(msd_connection_remove_performance_counter_buffer_from_pool(f.conn, &fake_pool,
									    f.b.buf),
		 INVAL);
	CHECK_EQ(msd_connection_dump_performance_counters(f.conn, &fake_pool, 1), INVAL);
	CHECK_EQ(msd_connection_clear_performance_counters(&fake_conn, NULL, 0), INVAL);
	/* Void entry points ignore bad objects. */
	msd_connection_release_buffer(&fake_conn, f.b.buf);
	msd_connection_release_buffer(f.conn, &fake_buf);
	msd_connection_set_notification_callback(&fake_conn, NULL, NULL);
	msd_context_destroy(&fake_ctx);
	msd_connection_close(&fake_conn);
	msd_buffer_release(&fake_buf);
	msd_semaphore_release((struct msd_semaphore_t *)&fake_buf);
	msd_device_dump_status(&fake_dev, 0);
	msd_device_destroy(&fake_dev);
	msd_driver_destroy((struct msd_driver_t *)&fake_dev);
	msd_driver_configure((struct msd_driver_t *)&fake_dev, 0);
	CHECK(msd_driver_create_device((struct msd_driver_t *)&fake_dev, f.t->sim) == NULL);
	CHECK(msd_driver_create_device(f.t->drv, NULL) == NULL);
	/* NULL is a no-op for destroys. */
	msd_device_destroy(NULL);
	msd_driver_destroy(NULL);
	mt_record_stop(f.t);
	CHECK_EQ(f.t->nregs, 0);
	fixture_fini(&f);
}

static void test_map_bad_ranges(void)
{
	struct fixture f;
	struct msd_connection_t *c;
	struct msd_buffer_t *b;

	REQUIRE(fixture_init(&f) == 0);
	c = f.conn;
	b = f.b.buf;
	CHECK_EQ(msd_connection_map_buffer(c, b, VA + 1, 0, 4096, RW), INVAL);	   /* va */
	CHECK_EQ(msd_connection_map_buffer(c, b, VA, 100, 4096, RW), INVAL);	   /* offset */
	CHECK_EQ(msd_connection_map_buffer(c, b, VA, 0, 4000, RW), INVAL);	   /* length */
	CHECK_EQ(msd_connection_map_buffer(c, b, VA, 0, 0, RW), INVAL);		   /* empty */
	CHECK_EQ(msd_connection_map_buffer(c, b, VA, 0, 9 * 4096, RW), INVAL);	   /* long */
	CHECK_EQ(msd_connection_map_buffer(c, b, VA, 8 * 4096, 4096, RW), INVAL);  /* end */
	CHECK_EQ(msd_connection_map_buffer(c, b, VA, ~0xfffull, 4096, RW), INVAL); /* overflow */
	CHECK_EQ(msd_connection_map_buffer(c, b, 0, 0, 4096, RW), INVAL);	   /* below min */
	CHECK_EQ(msd_connection_map_buffer(c, b, MAGMA_SIM_GPU_VA_LIMIT - 4096, 0, 8192, RW),
		 INVAL); /* above */
	CHECK_EQ(msd_connection_map_buffer(c, b, MAGMA_SIM_GPU_VA_LIMIT, 0, 4096, RW), INVAL);
	CHECK_EQ(msd_connection_map_buffer(c, b, ~0xfffull, 0, 4096, RW), INVAL); /* wraps */
	/* GROWABLE is accepted (msd-sim populates every mapping at map time). */
	CHECK_EQ(msd_connection_map_buffer(c, b, 0x100000000ull, 0, 4096,
					   RW | MAGMA_MAP_FLAG_GROWABLE),
		 MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_unmap_buffer(c, b, 0x100000000ull), MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_map_buffer(c, b, VA, 0, 4096, MAGMA_MAP_FLAG_VENDOR_0), INVAL);
	/* The last page below the limit is fine; the first page at the minimum too. */
	CHECK_EQ(msd_connection_map_buffer(c, b, MAGMA_SIM_GPU_VA_LIMIT - 4096, 0, 4096, RW),
		 MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_map_buffer(c, b, MAGMA_SIM_GPU_VA_MIN, 0, 4096, RW),
		 MAGMA_STATUS_OK);
	/* Overlap, from either side and inside. */
	CHECK_EQ(msd_connection_map_buffer(c, b, VA, 0, 4 * 4096, RW), MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_map_buffer(c, b, VA - 4096, 0, 2 * 4096, RW), INVAL);
	CHECK_EQ(msd_connection_map_buffer(c, b, VA + 3 * 4096, 0, 2 * 4096, RW), INVAL);
	CHECK_EQ(msd_connection_map_buffer(c, b, VA + 4096, 0, 4096, RW), INVAL);
	CHECK_EQ(msd_connection_map_buffer(c, b, VA - 4096, 0, 8 * 4096, RW), INVAL);
	/* Adjacent is fine; the same buffer may be mapped twice. */
	CHECK_EQ(msd_connection_map_buffer(c, b, VA + 4 * 4096, 0, 4096, RW), MAGMA_STATUS_OK);
	fixture_fini(&f);
}

static void test_unmap_errors(void)
{
	struct fixture f;
	struct mt_buf other;

	REQUIRE(fixture_init(&f) == 0);
	REQUIRE(mt_buf_create(f.t, 4096, &other) == 0);
	CHECK_EQ(msd_connection_unmap_buffer(f.conn, f.b.buf, VA), INVAL); /* never mapped */
	CHECK_EQ(msd_connection_map_buffer(f.conn, f.b.buf, VA, 0, 8192, RW), MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_unmap_buffer(f.conn, other.buf, VA), INVAL); /* wrong buffer */
	CHECK_EQ(msd_connection_unmap_buffer(f.conn, f.b.buf, VA + 4096),
		 INVAL); /* not the start */
	CHECK_EQ(msd_connection_unmap_buffer(f.conn, f.b.buf, VA), MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_unmap_buffer(f.conn, f.b.buf, VA), INVAL); /* twice */
	msd_connection_release_buffer(f.conn, other.buf);
	mt_buf_destroy(&other);
	fixture_fini(&f);
}

static void test_range_op_errors(void)
{
	struct fixture f;

	REQUIRE(fixture_init(&f) == 0);
	CHECK_EQ(msd_connection_buffer_range_op(f.conn, f.b.buf, 99, 0, 4096), INVAL);
	CHECK_EQ(
		msd_connection_buffer_range_op(f.conn, f.b.buf, MAGMA_BUFFER_RANGE_OP_COMMIT, 0, 0),
		INVAL);
	CHECK_EQ(msd_connection_buffer_range_op(f.conn, f.b.buf, MAGMA_BUFFER_RANGE_OP_COMMIT, 4096,
						8 * 4096),
		 INVAL);
	CHECK_EQ(msd_connection_buffer_range_op(f.conn, f.b.buf, MAGMA_BUFFER_RANGE_OP_COMMIT, 0,
						8 * 4096),
		 MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_buffer_range_op(f.conn, f.b.buf,
						MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES, 0, 4096),
		 MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_map_buffer(f.conn, f.b.buf, VA, 4096, 4096, RW), MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_buffer_range_op(f.conn, f.b.buf, MAGMA_BUFFER_RANGE_OP_DECOMMIT, 0,
						2 * 4096),
		 MAGMA_STATUS_BAD_STATE);
	((uint8_t *)f.b.host)[3 * 4096] = 9;
	CHECK_EQ(msd_connection_buffer_range_op(f.conn, f.b.buf, MAGMA_BUFFER_RANGE_OP_DECOMMIT,
						2 * 4096, 2 * 4096),
		 MAGMA_STATUS_OK);
	CHECK_EQ(((uint8_t *)f.b.host)[3 * 4096], 0);
	fixture_fini(&f);
}

/* Every malformed descriptor is refused and nothing reaches the GPU. */
static void test_execute_errors(void)
{
	struct fixture f;
	struct magma_exec_resource res = {1, 0x1000, 0x100};
	struct magma_exec_command_buffer cb = {0, 0, 0x1000};
	struct msd_buffer_t *bufs[1];
	struct msd_semaphore_t *sems[1];
	struct msd_semaphore_t *bad_sems[1] = {(struct msd_semaphore_t *)bufs};
	struct msd_command_descriptor d, good;

	REQUIRE(fixture_init(&f) == 0);
	bufs[0] = f.b.buf;
	sems[0] = f.s.sem;
	memset(&good, 0, sizeof(good));
	good.command_buffer_count = 1;
	good.resource_count = 1;
	good.command_buffers = &cb;
	good.exec_resources = &res;
	good.buffers = bufs;
	CHECK_EQ(msd_connection_map_buffer(f.conn, f.b.buf, VA, 0, 4096, RW), MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_map_buffer(f.conn, f.b.buf, VA + 0x3000, 0x2000, 4096, RW),
		 MAGMA_STATUS_OK);
	mt_record_start(f.t);
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, NULL), INVAL);
	/* Command buffer bytes 0x1000..0x1100 are not mapped (the mappings cover 0-0x1000 and
	 * 0x2000-0x3000). */
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &good), INVAL);
	/* Straddling the end of a mapping. */
	res.offset = 0xf00;
	res.length = 0x200;
	cb.start_offset = 0xf00;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &good), INVAL);
	res.length = 0x100;
	res.offset = 0;
	cb.start_offset = 0;
	d = good;
	d.flags = 1;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &d), INVAL);
	cb.resource_index = 1;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &good), INVAL);
	cb.resource_index = 0;
	cb.start_offset = 2;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &good), INVAL); /* unaligned start */
	cb.start_offset = 0;
	res.length = 0x102;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &good), INVAL); /* unaligned end */
	res.length = 0;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &good), INVAL); /* empty */
	res.offset = 0x100;
	res.length = 0x100;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &good), INVAL); /* start before res */
	res.offset = 0;
	res.length = 9 * 4096;
	cb.start_offset = 0;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &good), INVAL); /* past buffer */
	res.length = ~0ull;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &good), INVAL); /* overflow */
	res.length = 0x100;
	d = good;
	d.command_buffers = NULL;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &d), INVAL);
	d = good;
	d.buffers = NULL;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &d), INVAL);
	d = good;
	d.wait_semaphore_count = 1;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &d), INVAL);
	d.wait_semaphores = bad_sems;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &d), INVAL);
	d = good;
	d.signal_semaphore_count = 1;
	d.signal_semaphores = bad_sems;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &d), INVAL);
	d = good;
	d.command_buffer_count = MSD_SIM_MAX_COMMAND_BUFFERS + 1;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &d), INVAL);
	/* Inline commands. */
	CHECK_EQ(msd_context_execute_inline_commands(f.ctx, 0, &cb, 0, NULL), INVAL);
	CHECK_EQ(msd_context_execute_inline_commands(f.ctx, 6, &cb, 0, NULL), INVAL);
	CHECK_EQ(msd_context_execute_inline_commands(f.ctx, 4, NULL, 0, NULL), INVAL);
	CHECK_EQ(msd_context_execute_inline_commands(f.ctx, MSD_SIM_INLINE_MAX + 4, &cb, 0, NULL),
		 INVAL);
	CHECK_EQ(msd_context_execute_inline_commands(f.ctx, 4, &cb, 1, NULL), INVAL);
	CHECK_EQ(msd_context_execute_inline_commands(f.ctx, 4, &cb, 1, bad_sems), INVAL);
	msd_sim_device_poll((struct msd_sim_device *)f.t->dev);
	mt_record_stop(f.t);
	/* Nothing was queued: the only register accesses are the poll's IRQ_STATUS read. */
	CHECK_EQ(mt_writes_in(f.t, 0, SIM_MMIO_SIZE, NULL, 0), 0);
	/* The valid descriptor with a mapped command buffer and semaphores goes through. */
	sim_cmd_emit_end((uint32_t *)f.b.host);
	d = good;
	d.signal_semaphore_count = 1;
	d.signal_semaphores = sems;
	res.length = 4;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &d), MAGMA_STATUS_OK);
	CHECK(mt_wait(f.t, f.s.fd, 0));
	fixture_fini(&f);
}

static void test_import_errors(void)
{
	struct msd_driver_t *drv = msd_driver_create();
	struct msd_buffer_t *buf = NULL;
	struct msd_semaphore_t *sem = NULL;
	int efd = eventfd(0, 0);

	REQUIRE(drv);
	/* An eventfd is not a memfd (and the handle is consumed either way). */
	CHECK_EQ(msd_driver_import_buffer(drv, (magma_handle_t)efd, 1, &buf), INVAL);
	CHECK(buf == NULL);
	CHECK_EQ(msd_driver_import_buffer(drv, (magma_handle_t)-1, 1, &buf), INVAL);
	CHECK_EQ(msd_driver_import_buffer(drv, (magma_handle_t)eventfd(0, 0), 1, NULL), INVAL);
	CHECK_EQ(msd_driver_import_semaphore(drv, (magma_handle_t)-1, 1, 0, &sem), INVAL);
	CHECK_EQ(msd_driver_import_semaphore(drv, (magma_handle_t)eventfd(0, 0), 1, 2, &sem),
		 INVAL);
	CHECK_EQ(msd_driver_import_semaphore(drv, (magma_handle_t)eventfd(0, 0), 1, 0, NULL),
		 INVAL);
	CHECK_EQ(msd_driver_import_semaphore(NULL, (magma_handle_t)eventfd(0, 0), 1, 0, &sem),
		 INVAL);
	CHECK(sem == NULL);
	msd_driver_destroy(drv);
}

/* Import seals a sealable memfd against shrinking: pinned pages cannot vanish. */
static void test_import_seals_shrink(void)
{
	struct msd_driver_t *drv = msd_driver_create();
	struct msd_buffer_t *buf = NULL;
	int fd = memfd_create("sealable", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	REQUIRE(drv && fd >= 0);
	REQUIRE(ftruncate(fd, 8192) == 0);
	CHECK_EQ(msd_driver_import_buffer(drv, (magma_handle_t)dup(fd), 1, &buf), MAGMA_STATUS_OK);
	CHECK(fcntl(fd, F_GET_SEALS) & F_SEAL_SHRINK);
	CHECK(ftruncate(fd, 4096) != 0);
	CHECK(ftruncate(fd, 16384) == 0); /* growing is the client's business */
	msd_buffer_release(buf);
	close(fd);
	msd_driver_destroy(drv);
}

/*
 * A memfd that cannot be sealed against shrinking (made without MFD_ALLOW_SEALING) could lose its
 * pages under the GPU, and one sealed against writes cannot be written by it: both are refused at
 * import, and the handle is consumed either way.
 */
static void test_import_refuses_unsealable(void)
{
	struct msd_driver_t *drv = msd_driver_create();
	struct msd_buffer_t *buf = NULL;
	int unsealable = memfd_create("unsealable", MFD_CLOEXEC);
	int write_sealed = memfd_create("write-sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	REQUIRE(drv && unsealable >= 0 && write_sealed >= 0);
	REQUIRE(ftruncate(unsealable, 8192) == 0 && ftruncate(write_sealed, 8192) == 0);
	REQUIRE(fcntl(write_sealed, F_ADD_SEALS, F_SEAL_WRITE) == 0);
	CHECK_EQ(msd_driver_import_buffer(drv, (magma_handle_t)unsealable, 1, &buf), INVAL);
	CHECK(buf == NULL);
	CHECK(fcntl(unsealable, F_GETFD) < 0);
	CHECK_EQ(msd_driver_import_buffer(drv, (magma_handle_t)write_sealed, 1, &buf), INVAL);
	CHECK(buf == NULL);
	CHECK(fcntl(write_sealed, F_GETFD) < 0);
	msd_driver_destroy(drv);
}

/* A full bus: the map fails with MEMORY_ERROR, pins nothing, and a smaller map still works. */
static void test_bus_full(void)
{
	struct sim_config cfg;
	struct msd_connection_t *conn;
	struct mt_buf b;
	struct mt *t;
	uint64_t frames;

	sim_config_default(&cfg);
	cfg.max_frames = 64;
	t = mt_create_cfg(false, &cfg);
	REQUIRE(t);
	conn = msd_device_open(t->dev, 1);
	REQUIRE(conn && mt_buf_create(t, 64 * 4096, &b) == 0);
	frames = sim_bus_frames_mapped(t->sim);
	CHECK_EQ(msd_connection_map_buffer(conn, b.buf, VA, 0, 64 * 4096, RW),
		 MAGMA_STATUS_MEMORY_ERROR);
	CHECK_EQ(sim_bus_frames_mapped(t->sim), frames);
	CHECK_EQ(msd_connection_map_buffer(conn, b.buf, VA, 0, 8 * 4096, RW), MAGMA_STATUS_OK);
	msd_connection_release_buffer(conn, b.buf);
	mt_buf_destroy(&b);
	msd_connection_close(conn);
	mt_destroy(t);
}

/* An empty memfd is refused at import (the handle is consumed either way). */
static void test_empty_buffer(void)
{
	struct fixture f;
	struct msd_buffer_t *empty = NULL;
	int fd;

	REQUIRE(fixture_init(&f) == 0);
	fd = memfd_create("empty", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	REQUIRE(fd >= 0);
	CHECK_EQ(msd_driver_import_buffer(f.t->drv, (magma_handle_t)fd, 1, &empty), INVAL);
	CHECK(empty == NULL);
	CHECK(fcntl(fd, F_GETFD) < 0); /* closed by the driver */
	fixture_fini(&f);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_bad_magics),
	SIM_TEST(test_map_bad_ranges),
	SIM_TEST(test_unmap_errors),
	SIM_TEST(test_range_op_errors),
	SIM_TEST(test_execute_errors),
	SIM_TEST(test_import_errors),
	SIM_TEST(test_import_seals_shrink),
	SIM_TEST(test_empty_buffer),
	SIM_TEST(test_import_refuses_unsealable),
	SIM_TEST(test_bus_full),
};
SIM_TEST_SUITE(tests);
