/* SPDX-License-Identifier: MIT */
/*
 * test_power.c - msd-sim power management against the real sim with the device thread: after
 * MSD_SIM_IDLE_MS without work every core is off and the clock divider at its maximum (registers,
 * SIM_EV_POWER events and MAGMA_SIM_QUERY_POWER agree), the next job powers the cores on and
 * completes (a DISPATCH would fault COMPUTE_NO_CORES otherwise), a busy stream drives the divider
 * back to 1, and the total-time query never goes backwards. On a policy clock the test steps, the
 * idle power-down happens at MSD_SIM_IDLE_MS of that clock, not of real time.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msd_sim_internal.h"
#include "msd_test_util.h"
#include "sim/sim_cmd.h"
#include "sim/sim_isa.h"
#include "sim_test.h"

#define RW	(MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE)
#define VA	0x200000ull
#define PROG_VA 0x40000000ull
#define SIZE	(1u << 20)

struct power_log {
	pthread_mutex_t lock;
	uint32_t count;
	uint32_t last_ready;
	uint64_t last_div;
	bool saw_off;
};

static void on_power(void *ctx, const struct sim_event *ev)
{
	struct power_log *p = ctx;

	pthread_mutex_lock(&p->lock);
	p->count++;
	p->last_ready = ev->code;
	p->last_div = ev->value;
	if (ev->code == 0 && ev->value == MSD_SIM_CLOCK_DIV_MAX)
		p->saw_off = true;
	pthread_mutex_unlock(&p->lock);
}

/* Wait (up to 2 s) until CORES_READY reads @ready. */
static bool cores_settle(struct mt *t, uint32_t ready)
{
	for (int i = 0; i < 2000; i++) {
		if (sim_mmio_read32(t->sim, SIM_PWR_CORES_READY) == ready)
			return true;
		usleep(1000);
	}
	return false;
}

static void test_idle_power_down_and_wake(void)
{
	struct mt *t = mt_create(true);
	struct power_log pl = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct msd_connection_t *conn;
	struct msd_context_t *ctx;
	struct mt_buf b, prog;
	struct mt_sem done;
	uint64_t *code = NULL, v = 0, busy0, busy1;
	uint32_t count = 0, n = 0, *w;
	char err[64];
	int sub;

	REQUIRE(t);
	sub = sim_events_subscribe(t->sim, 1u << SIM_EV_POWER, on_power, &pl);
	REQUIRE(sub >= 0);
	conn = msd_device_open(t->dev, 1);
	ctx = msd_connection_create_context(conn, MAGMA_PRIORITY_MEDIUM);
	REQUIRE(mt_buf_create(t, 4096, &b) == 0 && mt_buf_create(t, 4096, &prog) == 0);
	REQUIRE(mt_sem_create(t, 0, &done) == 0);
	REQUIRE(msd_connection_map_buffer(conn, b.buf, VA, 0, 4096, RW) == MAGMA_STATUS_OK);
	REQUIRE(sim_asm_assemble("sreg r4, lane_id\nshl r5, r4, 2\nadd r5, r0, r5\n"
				 "st r5, r4, 0x100\nexit\n",
				 &code, &count, err, sizeof(err)) == 0);
	memcpy(prog.host, code, count * 8ull);
	free(code);
	REQUIRE(msd_connection_map_buffer(conn, prog.buf, PROG_VA, 0, 4096,
					  MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE) ==
		MAGMA_STATUS_OK);
	/* Idle after bring-up: the cores go off, the divider to its maximum. */
	REQUIRE(cores_settle(t, 0));
	CHECK_EQ(sim_mmio_read32(t->sim, SIM_PWR_CLOCK_DIV), MSD_SIM_CLOCK_DIV_MAX);
	CHECK_EQ(msd_device_query(t->dev, MAGMA_SIM_QUERY_POWER, NULL, &v), MAGMA_STATUS_OK);
	CHECK_EQ(v, (uint64_t)MSD_SIM_CLOCK_DIV_MAX << 32);
	pthread_mutex_lock(&pl.lock);
	CHECK(pl.saw_off);
	pthread_mutex_unlock(&pl.lock);
	busy0 = mt_total_time_ns(t);
	/* A dispatch now: the driver powers the cores on before writing the ring. */
	w = b.host;
	n += sim_cmd_emit_dispatch(w + n, PROG_VA, count, VA + 0x800, 1, 1, 4);
	n += sim_cmd_emit_end(w + n);
	CHECK_EQ(mt_exec(ctx, &b, 0, n * 4, NULL, &done, 0), MAGMA_STATUS_OK);
	REQUIRE(mt_fd_readable(done.fd, 2000));
	CHECK_EQ(((uint32_t *)b.host)[0x900 / 4 + 3], 3); /* lane 3 at r0 + 0x100 + 12 */
	CHECK_EQ(sim_mmio_read32(t->sim, SIM_Q_FAULT_CODE(0)), 0);
	pthread_mutex_lock(&pl.lock);
	CHECK_EQ(pl.last_ready, 0xf);
	CHECK(pl.count >= 3);
	pthread_mutex_unlock(&pl.lock);
	busy1 = mt_total_time_ns(t);
	CHECK(busy1 > busy0);
	/* And off again once idle. */
	CHECK(cores_settle(t, 0));
	CHECK(mt_total_time_ns(t) >= busy1);
	sim_events_unsubscribe(t->sim, sub);
	mt_sem_destroy(&done);
	msd_connection_release_buffer(conn, b.buf);
	msd_connection_release_buffer(conn, prog.buf);
	mt_buf_destroy(&b);
	mt_buf_destroy(&prog);
	msd_context_destroy(ctx);
	msd_connection_close(conn);
	mt_destroy(t);
}

/*
 * Back-to-back FILLs keep the GPU busy: the divider falls to 1 (it starts at the maximum). The
 * base clock is 1 MHz so that a FILL's GPU time exceeds its host time even under valgrind:
 * utilization is GPU busy time over host time.
 */
static void test_busy_stream_full_clock(void)
{
	struct sim_config cfg;
	struct mt *t;
	struct msd_connection_t *conn;
	struct msd_context_t *ctx;
	struct mt_buf b;
	struct mt_sem done;
	uint32_t n = 0, *w, div = 0, jobs = 0;

	sim_config_default(&cfg);
	cfg.clock_hz = 1000000;
	t = mt_create_cfg(true, &cfg);
	REQUIRE(t);
	conn = msd_device_open(t->dev, 1);
	ctx = msd_connection_create_context(conn, MAGMA_PRIORITY_MEDIUM);
	REQUIRE(mt_buf_create(t, SIZE, &b) == 0 && mt_sem_create(t, 0, &done) == 0);
	REQUIRE(msd_connection_map_buffer(conn, b.buf, VA, 0, SIZE, RW) == MAGMA_STATUS_OK);
	REQUIRE(cores_settle(t, 0));
	CHECK_EQ(sim_mmio_read32(t->sim, SIM_PWR_CLOCK_DIV), MSD_SIM_CLOCK_DIV_MAX);
	w = b.host;
	for (uint32_t i = 0; i < 4; i++)
		n += sim_cmd_emit_fill(w + n, VA + 0x1000, SIZE - 0x1000, i);
	n += sim_cmd_emit_end(w + n);
	for (; jobs < 2000; jobs++) {
		CHECK_EQ(mt_exec(ctx, &b, 0, n * 4, NULL, jobs % 4 == 3 ? &done : NULL, 0),
			 MAGMA_STATUS_OK);
		if (jobs % 4 != 3)
			continue;
		REQUIRE(mt_fd_readable(done.fd, 2000));
		mt_sem_destroy(&done);
		REQUIRE(mt_sem_create(t, 0, &done) == 0);
		div = sim_mmio_read32(t->sim, SIM_PWR_CLOCK_DIV);
		if (div == 1)
			break;
	}
	printf("  busy stream: divider %u after %u jobs\n", div, jobs + 1);
	CHECK_EQ(div, 1);
	CHECK_EQ(sim_mmio_read32(t->sim, SIM_PWR_CORES_READY), 0xf);
	mt_sem_destroy(&done);
	msd_connection_release_buffer(conn, b.buf);
	mt_buf_destroy(&b);
	msd_context_destroy(ctx);
	msd_connection_close(conn);
	mt_destroy(t);
}

/* A policy clock the test steps (msd_sim_device_set_clock), in ns. */
struct step_clock {
	_Atomic uint64_t ns;
};

static uint64_t step_clock_now(void *ctx)
{
	return atomic_load(&((struct step_clock *)ctx)->ns);
}

/* The device's idle-timer state, read under its lock. */
struct idle_state {
	uint64_t since_ms;
	uint64_t checks;
	bool cores_off;
};

static struct idle_state idle_state(struct msd_sim_device *dev)
{
	struct idle_state s;

	msd_sim_mutex_lock(&dev->lock);
	s.since_ms = dev->idle_since_ms;
	s.checks = dev->idle_checks;
	s.cores_off = dev->cores_off;
	msd_sim_mutex_unlock(&dev->lock);
	return s;
}

/* Waits (bounded, for a hang only) until @dev's idle timer was looked at twice more. */
static bool idle_checked_twice(struct msd_sim_device *dev)
{
	uint64_t before = idle_state(dev).checks;

	for (int i = 0; i < 100000; i++) {
		if (idle_state(dev).checks >= before + 2)
			return true;
		usleep(100);
	}
	return false;
}

/*
 * Threaded, on a stepped policy clock: an idle device keeps its cores on however long real time
 * passes, still at MSD_SIM_IDLE_MS - 1 of policy time, and powers down once the clock reaches
 * MSD_SIM_IDLE_MS.
 */
static void test_idle_power_down_follows_the_policy_clock(void)
{
	struct mt *t = mt_create(true);
	struct step_clock clock = {.ns = 5000000000ull};
	struct msd_sim_device *dev;
	uint64_t v = 0;
	bool idle = false;

	REQUIRE(t);
	dev = (struct msd_sim_device *)t->dev;
	msd_sim_device_set_clock(dev, step_clock_now, &clock);
	for (int i = 0; i < 100000 && !idle; i++) {
		idle = idle_state(dev).since_ms != 0;
		if (!idle)
			usleep(100);
	}
	REQUIRE(idle);
	CHECK_EQ(idle_state(dev).since_ms, 5000);
	atomic_fetch_add(&clock.ns, (MSD_SIM_IDLE_MS - 1) * 1000000ull);
	msd_sim_device_set_clock(dev, step_clock_now, &clock);
	REQUIRE(idle_checked_twice(dev));
	CHECK(!idle_state(dev).cores_off);
	CHECK(sim_mmio_read32(t->sim, SIM_PWR_CORES_READY) != 0);
	atomic_fetch_add(&clock.ns, 1000000ull);
	msd_sim_device_set_clock(dev, step_clock_now, &clock);
	REQUIRE(cores_settle(t, 0));
	CHECK(idle_state(dev).cores_off);
	CHECK_EQ(msd_device_query(t->dev, MAGMA_SIM_QUERY_POWER, NULL, &v), MAGMA_STATUS_OK);
	CHECK_EQ(v, (uint64_t)MSD_SIM_CLOCK_DIV_MAX << 32);
	mt_destroy(t);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_idle_power_down_and_wake),
	SIM_TEST(test_busy_stream_full_clock),
	SIM_TEST(test_idle_power_down_follows_the_policy_clock),
};
SIM_TEST_SUITE(tests);
