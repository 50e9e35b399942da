/* SPDX-License-Identifier: MIT */
/*
 * test_alloc.c - allocation-failure injection: fail the n-th driver allocation for n = 1, 2, ...
 * through device creation and through a scenario that uses every kind of object, until a run
 * completes without reaching the armed allocation. Every failure must surface as NULL or
 * MAGMA_STATUS_MEMORY_ERROR, leave nothing pinned and leak nothing (run under valgrind/ASan).
 * Test mode (no device thread) keeps the allocation sequence deterministic.
 */
#include <stdlib.h>
#include <string.h>

#include "msd_sim_internal.h"
#include "msd_test_util.h"
#include "sim_test.h"

#define RW (MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE)
#define VA 0x200000ull

static bool status_ok_or_oom(magma_status_t s)
{
	return s == MAGMA_STATUS_OK || s == MAGMA_STATUS_MEMORY_ERROR;
}

/* Device creation fails cleanly at every allocation it makes. */
static void test_create_device_alloc_failures(void)
{
	struct sim_device *sim = sim_create(NULL);
	struct msd_driver_t *drv = msd_driver_create();
	struct msd_device_t *dev = NULL;
	uint32_t n;

	REQUIRE(sim && drv);
	msd_driver_configure(drv, MSD_DRIVER_CONFIG_TEST_NO_DEVICE_THREAD);
	REQUIRE_EQ(sim_start(sim), 0); /* bring-up waits on the GPU's clock */
	for (n = 1; n < 1000 && !dev; n++) {
		msd_sim_inject_alloc_failure((struct msd_sim_driver *)drv, n);
		dev = msd_driver_create_device(drv, sim);
		if (!dev)
			CHECK_EQ(sim_bus_frames_mapped(sim), 0);
	}
	CHECK(n > 5); /* device, rings, tables... each failed once */
	printf("     create_device: failed each of %u allocations in turn\n", n - 2);
	REQUIRE(dev);
	msd_sim_inject_alloc_failure((struct msd_sim_driver *)drv, 0);
	msd_device_destroy(dev);
	CHECK_EQ(sim_bus_frames_mapped(sim), 0);
	msd_driver_destroy(drv);
	sim_stop(sim);
	sim_destroy(sim);
}

/* Everything a client does, tolerating a failure anywhere. Returns the number of bad statuses. */
static int scenario(struct mt *t)
{
	const uint64_t counters[] = {SIM_PERF_JOBS};
	struct msd_perf_count_pool_t *pool = NULL;
	struct msd_connection_t *conn;
	struct msd_context_t *ctx = NULL;
	struct mt_buf b;
	struct mt_sem done;
	magma_status_t s;
	uint32_t cmds[8], n = 0;
	int bad = 0;

	memset(&b, 0, sizeof(b));
	b.fd = -1;
	done.fd = -1;
	done.sem = NULL;
	conn = msd_device_open(t->dev, 1);
	if (!conn)
		return 0;
	mt_notify_install(t, conn);
	ctx = msd_connection_create_context(conn, MAGMA_PRIORITY_MEDIUM);
	mt_buf_create(t, 4 * 4096, &b);
	mt_sem_create(t, 0, &done);
	if (b.buf) {
		s = msd_connection_map_buffer(conn, b.buf, VA, 0, 4 * 4096, RW);
		bad += !status_ok_or_oom(s);
		n += sim_cmd_emit_write32(cmds + n, VA + 0x1000, 5);
		n += sim_cmd_emit_end(cmds + n);
		mt_write_words(&b, 0, cmds, n);
		if (ctx && s == MAGMA_STATUS_OK) {
			bad += !status_ok_or_oom(mt_exec(ctx, &b, 0, n * 4, NULL,
							 done.sem ? &done : NULL,
							 MAGMA_SIM_COMMAND_FLAG_NOTIFY));
			bad += !status_ok_or_oom(
				msd_context_execute_inline_commands(ctx, n * 4, cmds, 0, NULL));
		}
		s = msd_connection_create_performance_counter_buffer_pool(conn, 3, &pool);
		bad += !status_ok_or_oom(s);
		if (s == MAGMA_STATUS_OK) {
			bad += !status_ok_or_oom(
				msd_connection_enable_performance_counters(conn, counters, 1));
			bad += !status_ok_or_oom(
				msd_connection_add_performance_counter_buffer_offset_to_pool(
					conn, pool, b.buf, 1, 0x2000, 64));
			bad += !status_ok_or_oom(
				msd_connection_dump_performance_counters(conn, pool, 1));
		}
	}
	mt_run(t);
	if (pool)
		msd_connection_release_performance_counter_buffer_pool(conn, pool);
	if (ctx)
		msd_context_destroy(ctx);
	if (b.buf)
		msd_connection_release_buffer(conn, b.buf);
	mt_buf_destroy(&b);
	mt_sem_destroy(&done);
	msd_connection_close(conn);
	return bad;
}

/* The scenario survives a failure at every allocation it makes. */
static void test_scenario_alloc_failures(void)
{
	bool reached = true;
	uint32_t n;

	for (n = 1; n < 2000 && reached; n++) {
		struct mt *t = mt_create(false);
		struct msd_sim_driver *drv;

		REQUIRE(t);
		drv = (struct msd_sim_driver *)t->drv;
		msd_sim_inject_alloc_failure(drv, n);
		CHECK_EQ(scenario(t), 0);
		reached = atomic_load(&drv->alloc_fail_in) == 0;
		msd_sim_inject_alloc_failure(drv, 0);
		mt_destroy(t);
	}
	CHECK(n > 20);
	CHECK(!reached);
	printf("     scenario: failed each of %u allocations in turn\n", n - 2);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_create_device_alloc_failures),
	SIM_TEST(test_scenario_alloc_failures),
};
SIM_TEST_SUITE(tests);
