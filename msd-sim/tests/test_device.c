/* SPDX-License-Identifier: MIT */
/*
 * test_device.c - msd-sim device bring-up, teardown, queries, status dump and perf counters,
 * against the real sim.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msd_sim_internal.h"
#include "msd_test_util.h"
#include "sim_test.h"

/* Bring-up writes HARD_RESET first, then CORES_ON for every present core, IRQ_MASK ALL last. */
static void test_bringup_sequence(void)
{
	struct sim_device *sim = sim_create(NULL);
	struct msd_driver_t *drv = msd_driver_create();
	struct mt t;
	struct msd_device_t *dev;
	struct mt_reg w[64];
	uint32_t n;

	REQUIRE(sim && drv);
	memset(&t, 0, sizeof(t));
	t.sim = sim;
	t.sub = -1;
	mt_record_start(&t);
	msd_driver_configure(drv, MSD_DRIVER_CONFIG_TEST_NO_DEVICE_THREAD);
	REQUIRE_EQ(sim_start(sim), 0); /* the host clocks the GPU, not the driver */
	dev = msd_driver_create_device(drv, sim);
	REQUIRE(dev);
	/* The driver left the clock alone: it still runs until the host stops it. */
	CHECK_EQ(sim_start(sim), -EALREADY);
	sim_stop(sim);
	mt_record_stop(&t);
	n = mt_writes_in(&t, 0, SIM_QUEUE_BASE, w, 64);
	REQUIRE(n >= 6);
	CHECK_EQ(w[0].offset, SIM_GPU_COMMAND);
	CHECK_EQ(w[0].value, SIM_GPU_COMMAND_HARD_RESET);
	CHECK_EQ(w[1].offset, SIM_GPU_IRQ_MASK);
	CHECK_EQ(w[1].value, SIM_IRQ_RESET_DONE);
	CHECK_EQ(w[2].offset, SIM_GPU_IRQ_CLEAR);
	CHECK_EQ(w[2].value, SIM_IRQ_RESET_DONE);
	CHECK_EQ(w[3].offset, SIM_GPU_IRQ_MASK);
	CHECK_EQ(w[4].offset, SIM_PWR_CORES_ON);
	CHECK_EQ(w[4].value, 0xf);
	CHECK_EQ(w[n - 1].offset, SIM_GPU_IRQ_MASK);
	CHECK_EQ(w[n - 1].value, SIM_IRQ_ALL);
	CHECK_EQ(sim_mmio_read32(sim, SIM_PWR_CORES_READY), 0xf);
	CHECK_EQ(sim_mmio_read32(sim, SIM_AS_STATUS(0)) & SIM_AS_STATUS_ENABLED, 1);
	CHECK_EQ(sim_mmio_read32(sim, SIM_Q_STATUS(0)) & SIM_Q_STATUS_ENABLED,
		 SIM_Q_STATUS_ENABLED);
	CHECK_EQ(sim_mmio_read32(sim, SIM_Q_RING_SIZE(0)), MSD_SIM_RING_ENTRIES);
	msd_device_destroy(dev);
	/* Destroy leaves the GPU reset and every driver frame unpinned. */
	CHECK_EQ(sim_bus_frames_mapped(sim), 0);
	CHECK_EQ(sim_mmio_read32(sim, SIM_GPU_IRQ_MASK), 0);
	msd_driver_destroy(drv);
	sim_destroy(sim);
}

/*
 * The threaded device comes up and goes down cleanly, several times on one sim whose clock the
 * host started once, long before: the driver neither starts nor stops it.
 */
static void test_threaded_create_destroy(void)
{
	struct sim_device *sim = sim_create(NULL);
	struct msd_driver_t *drv = msd_driver_create();

	REQUIRE(sim && drv);
	REQUIRE_EQ(sim_start(sim), 0);
	for (int i = 0; i < 3; i++) {
		struct msd_device_t *dev = msd_driver_create_device(drv, sim);

		REQUIRE(dev);
		msd_device_destroy(dev);
		CHECK_EQ(sim_bus_frames_mapped(sim), 0);
		CHECK_EQ(sim_start(sim), -EALREADY); /* still running */
	}
	msd_driver_destroy(drv);
	sim_stop(sim);
	sim_destroy(sim);
}

/* Two devices on two sims in one process do not interfere. */
static void test_two_devices(void)
{
	struct mt *a = mt_create(true), *b = mt_create(true);
	uint64_t v = 0;

	REQUIRE(a && b);
	CHECK_EQ(msd_device_query(a->dev, MAGMA_QUERY_VENDOR_ID, NULL, &v), MAGMA_STATUS_OK);
	CHECK_EQ(v, MAGMA_SIM_VENDOR_ID);
	mt_destroy(a);
	CHECK_EQ(msd_device_query(b->dev, MAGMA_QUERY_DEVICE_ID, NULL, &v), MAGMA_STATUS_OK);
	CHECK_EQ(v, SIM_PRODUCT_ID);
	mt_destroy(b);
}

static void test_simple_queries(void)
{
	struct mt *t = mt_create(true);
	uint64_t v = 0;
	magma_handle_t h = 0;

	REQUIRE(t);
	CHECK_EQ(msd_device_query(t->dev, MAGMA_QUERY_VENDOR_ID, NULL, &v), MAGMA_STATUS_OK);
	CHECK_EQ(v, 0x5349);
	CHECK_EQ(msd_device_query(t->dev, MAGMA_QUERY_DEVICE_ID, NULL, &v), MAGMA_STATUS_OK);
	CHECK_EQ(v, 0x51A1);
	CHECK_EQ(msd_device_query(t->dev, MAGMA_QUERY_VENDOR_VERSION, NULL, &v), MAGMA_STATUS_OK);
	CHECK_EQ(v, MAGMA_SIM_VENDOR_VERSION);
	CHECK_EQ(msd_device_query(t->dev, MAGMA_QUERY_IS_TOTAL_TIME_SUPPORTED, NULL, &v),
		 MAGMA_STATUS_OK);
	CHECK_EQ(v, 1);
	CHECK_EQ(msd_device_query(t->dev, MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS, NULL, &v),
		 MAGMA_STATUS_OK);
	CHECK_EQ(v, 1000ull << 32 | 1024);
	CHECK_EQ(msd_device_query(t->dev, MAGMA_SIM_QUERY_FEATURES, NULL, &v), MAGMA_STATUS_OK);
	CHECK_EQ(v, sim_mmio_read32(t->sim, SIM_GPU_FEATURES));
	CHECK_EQ(msd_device_query(t->dev, MAGMA_SIM_QUERY_CONFIG, NULL, &v), MAGMA_STATUS_OK);
	CHECK_EQ(v, (uint64_t)sim_mmio_read32(t->sim, SIM_GPU_CONFIG1) << 32 |
			    sim_mmio_read32(t->sim, SIM_GPU_CONFIG0));
	CHECK_EQ(msd_device_query(t->dev, MAGMA_SIM_QUERY_CLOCK_HZ, NULL, &v), MAGMA_STATUS_OK);
	CHECK_EQ(v, 1000000000ull);
	CHECK_EQ(msd_device_query(t->dev, MAGMA_SIM_QUERY_GPU_VA_LIMIT, NULL, &v), MAGMA_STATUS_OK);
	CHECK_EQ(v, MAGMA_SIM_GPU_VA_LIMIT);
	/* Unknown ids and missing out pointers. */
	CHECK_EQ(msd_device_query(t->dev, 4, NULL, &v), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(msd_device_query(t->dev, 99999, NULL, &v), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(msd_device_query(t->dev, MAGMA_QUERY_VENDOR_ID, &h, NULL),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(msd_device_query(t->dev, MAGMA_QUERY_TOTAL_TIME, NULL, &v),
		 MAGMA_STATUS_INVALID_ARGS);
	mt_destroy(t);
}

static void test_buffer_queries(void)
{
	struct mt *t = mt_create(true);
	magma_total_time_query_result_t r;
	struct magma_sim_timestamp ts;
	magma_handle_t h = 0;
	struct stat st;
	int seals;

	REQUIRE(t);
	REQUIRE(msd_device_query(t->dev, MAGMA_QUERY_TOTAL_TIME, &h, NULL) == MAGMA_STATUS_OK);
	CHECK(fstat((int)h, &st) == 0);
	CHECK_EQ(st.st_size, sizeof(r));
	seals = fcntl((int)h, F_GET_SEALS);
	CHECK_EQ(seals & (F_SEAL_SHRINK | F_SEAL_GROW), F_SEAL_SHRINK | F_SEAL_GROW);
	CHECK_EQ(pread((int)h, &r, sizeof(r), 0), sizeof(r));
	CHECK_EQ(r.gpu_time_ns, 0); /* nothing ran yet */
	CHECK(r.monotonic_time_ns > 0);
	close((int)h);
	REQUIRE(msd_device_query(t->dev, MAGMA_SIM_QUERY_TIMESTAMP, &h, NULL) == MAGMA_STATUS_OK);
	CHECK_EQ(pread((int)h, &ts, sizeof(ts), 0), sizeof(ts));
	CHECK(ts.monotonic_ns_before <= ts.monotonic_ns_after);
	CHECK(ts.gpu_cycles >= 10000);	    /* at least the hard reset */
	CHECK_EQ(ts.gpu_ns, ts.gpu_cycles); /* 1 GHz, divider 1 */
	close((int)h);
	mt_destroy(t);
}

/* TOTAL_TIME grows by the busy cycles of executed work. */
static void test_total_time_counts_work(void)
{
	struct mt *t = mt_create(false);
	struct msd_connection_t *conn;
	struct msd_context_t *ctx;
	magma_total_time_query_result_t r;
	struct mt_buf b;
	uint32_t cmds[16], n = 0;
	magma_handle_t h = 0;

	REQUIRE(t);
	conn = msd_device_open(t->dev, 1);
	ctx = msd_connection_create_context(conn, MAGMA_PRIORITY_MEDIUM);
	REQUIRE(mt_buf_create(t, 16384, &b) == 0);
	REQUIRE(msd_connection_map_buffer(conn, b.buf, 0x100000, 0, 16384,
					  MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE) ==
		MAGMA_STATUS_OK);
	n += sim_cmd_emit_fill(cmds + n, 0x102000, 8192, 0x01020304);
	n += sim_cmd_emit_end(cmds + n);
	mt_write_words(&b, 0, cmds, n);
	CHECK_EQ(mt_exec(ctx, &b, 0, n * 4, NULL, NULL, 0), MAGMA_STATUS_OK);
	mt_run(t);
	REQUIRE(msd_device_query(t->dev, MAGMA_QUERY_TOTAL_TIME, &h, NULL) == MAGMA_STATUS_OK);
	CHECK_EQ(pread((int)h, &r, sizeof(r), 0), sizeof(r));
	CHECK_EQ(r.gpu_time_ns, sim_mmio_read64(t->sim, SIM_Q_BUSY_CYCLES_LO(0)));
	CHECK(r.gpu_time_ns > 8192 / 64);
	close((int)h);
	msd_context_destroy(ctx);
	msd_connection_release_buffer(conn, b.buf);
	mt_buf_destroy(&b);
	msd_connection_close(conn);
	mt_destroy(t);
}

static void test_dump_status(void)
{
	struct mt *t = mt_create(true);

	REQUIRE(t);
	msd_device_dump_status(t->dev, MAGMA_DUMP_TYPE_NORMAL);
	CHECK(strstr(t->log, "SIM-1 0x51a10100") != NULL);
	CHECK(strstr(t->log, "IRQ mask 0x1fffffff") != NULL);
	CHECK(strstr(t->log, "queue 0: IDLE head 0 tail 0 seqno 0") != NULL);
	CHECK(strstr(t->log, "AS 0: enabled kernel") != NULL);
	CHECK(strstr(t->log, "AS 1: disabled free") != NULL);
	CHECK(strstr(t->log, "cores ready 0xf of 0xf") != NULL);
	mt_destroy(t);
}

/* Perf counters: enable, dump into a pool buffer, notification with DISCONTINUITY first. */
static void test_perf_counters(void)
{
	struct mt *t = mt_create(false);
	const uint64_t counters[] = {SIM_PERF_JOBS, SIM_PERF_BYTES};
	struct msd_connection_t *conn;
	struct msd_context_t *ctx;
	struct msd_perf_count_pool_t *pool = NULL;
	struct mt_buf b, out;
	uint32_t cmds[16], n = 0;
	uint64_t vals[3];

	REQUIRE(t);
	conn = msd_device_open(t->dev, 1);
	ctx = msd_connection_create_context(conn, MAGMA_PRIORITY_MEDIUM);
	mt_notify_install(t, conn);
	REQUIRE(mt_buf_create(t, 16384, &b) == 0);
	REQUIRE(mt_buf_create(t, 4096, &out) == 0);
	CHECK_EQ(msd_connection_enable_performance_counters(conn, counters, 2), MAGMA_STATUS_OK);
	CHECK_EQ(sim_mmio_read32(t->sim, SIM_PERF_CONTROL), SIM_PERF_CONTROL_ENABLE);
	CHECK_EQ(msd_connection_create_performance_counter_buffer_pool(conn, 77, &pool),
		 MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_add_performance_counter_buffer_offset_to_pool(conn, pool, out.buf,
									      5, 64, 24),
		 MAGMA_STATUS_OK);
	REQUIRE(msd_connection_map_buffer(conn, b.buf, 0x100000, 0, 16384,
					  MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE) ==
		MAGMA_STATUS_OK);
	n += sim_cmd_emit_fill(cmds + n, 0x102000, 1000, 0);
	n += sim_cmd_emit_end(cmds + n);
	mt_write_words(&b, 0, cmds, n);
	CHECK_EQ(mt_exec(ctx, &b, 0, n * 4, NULL, NULL, 0), MAGMA_STATUS_OK);
	mt_run(t);
	memset((uint8_t *)out.host + 64, 0xff, 24);
	CHECK_EQ(msd_connection_dump_performance_counters(conn, pool, 9), MAGMA_STATUS_OK);
	REQUIRE(mt_notify_wait(t, 1, 1000));
	memcpy(vals, (uint8_t *)out.host + 64, sizeof(vals));
	CHECK_EQ(vals[0], 1);	  /* JOBS */
	CHECK_EQ(vals[1], 1000);  /* BYTES */
	CHECK_EQ(vals[2], ~0ull); /* past the enabled counters: untouched */
	CHECK_EQ(t->notes[0].type, MSD_CONNECTION_NOTIFICATION_PERFORMANCE_COUNTERS_READ_COMPLETED);
	CHECK_EQ(t->notes[0].pool_id, 77);
	CHECK_EQ(t->notes[0].trigger_id, 9);
	CHECK_EQ(t->notes[0].buffer_id, 5);
	CHECK_EQ(t->notes[0].buffer_offset, 64);
	CHECK_EQ(t->notes[0].result_flags, MAGMA_PERF_COUNTER_RESULT_DISCONTINUITY);
	/* The range was used up: the next dump is dropped; after re-adding it works again. */
	CHECK_EQ(msd_connection_dump_performance_counters(conn, pool, 10), MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_clear_performance_counters(conn, counters, 2), MAGMA_STATUS_OK);
	CHECK_EQ(sim_mmio_read64(t->sim, SIM_PERF_COUNTER_LO(SIM_PERF_BYTES)), 0);
	CHECK_EQ(msd_connection_add_performance_counter_buffer_offset_to_pool(conn, pool, out.buf,
									      5, 0, 16),
		 MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_dump_performance_counters(conn, pool, 11), MAGMA_STATUS_OK);
	REQUIRE(mt_notify_wait(t, 2, 1000));
	CHECK_EQ(t->nnotes, 2);
	CHECK_EQ(t->notes[1].trigger_id, 11);
	memcpy(vals, out.host, 16);
	CHECK_EQ(vals[1], 0);
	/* Bad inputs. */
	CHECK_EQ(msd_connection_enable_performance_counters(conn, (uint64_t[]){SIM_PERF_COUNT}, 1),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(msd_connection_clear_performance_counters(conn, NULL, 1),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(msd_connection_add_performance_counter_buffer_offset_to_pool(conn, pool, out.buf,
									      5, 4090, 16),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(msd_connection_remove_performance_counter_buffer_from_pool(conn, pool, b.buf),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(msd_connection_add_performance_counter_buffer_offset_to_pool(conn, pool, out.buf,
									      5, 0, 16),
		 MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_remove_performance_counter_buffer_from_pool(conn, pool, out.buf),
		 MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_release_performance_counter_buffer_pool(conn, pool),
		 MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_enable_performance_counters(conn, NULL, 0), MAGMA_STATUS_OK);
	CHECK_EQ(sim_mmio_read32(t->sim, SIM_PERF_CONTROL), 0);
	msd_context_destroy(ctx);
	msd_connection_release_buffer(conn, b.buf);
	mt_buf_destroy(&b);
	mt_buf_destroy(&out);
	msd_connection_close(conn);
	mt_destroy(t);
}

/* One test a line: clang-format would pack these short names in columns. */
/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(test_bringup_sequence),
	SIM_TEST(test_threaded_create_destroy),
	SIM_TEST(test_two_devices),
	SIM_TEST(test_simple_queries),
	SIM_TEST(test_buffer_queries),
	SIM_TEST(test_total_time_counts_work),
	SIM_TEST(test_dump_status),
	SIM_TEST(test_perf_counters),
};
/* clang-format on */
SIM_TEST_SUITE(tests);
