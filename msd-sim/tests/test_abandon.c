/* SPDX-License-Identifier: MIT */
/*
 * test_abandon.c - msd-sim stops GPU work nobody wants any more (docs/msd-sim.md, "Lifetimes of
 * work in flight"). A connection torn down the way magma_system tears down a killed client's
 * (context destroyed, mappings released, connection closed) while its endless dispatch runs: the
 * queue is reset at once, the frames and slot are freed, and another connection's job that
 * waited behind the dispatch on the same queue runs and completes. Torn down while its dispatch
 * waits behind another connection's workgroup: that dispatch finishes undisturbed and the
 * abandoned one never runs. A context destroyed while its dispatch runs goes the same way, and
 * its connection carries on, told nothing. With the device thread: after the close the GPU goes
 * idle and powers down, and later work runs. Test mode (no device thread; the test steps the
 * clock and bounds every wait in GPU cycles) except the last.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "msd_sim_internal.h"
#include "msd_test_util.h"
#include "sim/sim_cmd.h"
#include "sim_test.h"

#define VA	    MT_CLIENT_VA
#define PROG_VA	    MT_CLIENT_PROG_VA
#define SIZE	    (4 * 4096)
#define MARK_OFF    0x1000u    /* the word a job writes after its dispatch */
#define RES_OFF	    0x2000u    /* dispatch results, one u32 per group */
#define HUGE_GROUPS (1u << 30) /* ~10^12 cycles of spinning: it never ends in a test */

/* Each group spins 300 iterations and stores nothing, so any number of groups fits. */
static const char *const spin_kernel = "mov r4, 300\n"
				       "loop\n"
				       "seq r5, r4, 0\n"
				       "break r5\n"
				       "sub r4, r4, 1\n"
				       "endloop\n"
				       "exit\n";

/*
 * Each group spins 20 000 iterations, a workgroup of many 4096-instruction steps (a STOP waits
 * for its end), then stores its id + 1 at RES_OFF + 4 * id.
 */
static const char *const long_group_kernel = "mov r4, 20000\n"
					     "loop\n"
					     "seq r5, r4, 0\n"
					     "break r5\n"
					     "sub r4, r4, 1\n"
					     "endloop\n"
					     "shl r6, r2, 2\n"
					     "add r7, r2, 1\n"
					     "stx r0, r6, r7, 0\n"
					     "exit\n";

/* Commands at 0: DISPATCH @groups of @c's program, WRITE32 MARK = @mark, END. End offset. */
static uint64_t put_dispatch(struct mt_client *c, uint32_t count, uint32_t groups, uint32_t mark)
{
	uint32_t n = sim_cmd_emit_dispatch(mt_client_words(c, 0), PROG_VA, count, VA + RES_OFF,
					   groups, 1, 1);

	n += sim_cmd_emit_write32(mt_client_words(c, n * 4), VA + MARK_OFF, mark);
	n += sim_cmd_emit_end(mt_client_words(c, n * 4));
	return n * 4;
}

/*
 * Close @c in magma_system's order (callback unset, context destroyed, mappings released,
 * connection closed) but keep the client's view of its memory, to look at it afterwards;
 * free_memory() releases it.
 */
static void close_connection(struct mt_client *c)
{
	msd_connection_set_notification_callback(c->conn, NULL, NULL);
	if (c->ctx)
		msd_context_destroy(c->ctx);
	c->ctx = NULL;
	msd_connection_release_buffer(c->conn, c->b.buf);
	if (c->prog.buf)
		msd_connection_release_buffer(c->conn, c->prog.buf);
	msd_connection_close(c->conn);
	c->conn = NULL;
}

static void free_memory(struct mt_client *c)
{
	if (c->prog.buf)
		mt_buf_destroy(&c->prog);
	mt_buf_destroy(&c->b);
	mt_sem_destroy(&c->done);
}

static uint32_t queue_state(struct mt *t, uint32_t qi)
{
	return SIM_FIELD_GET(SIM_Q_STATUS_STATE, sim_mmio_read32(t->sim, SIM_Q_STATUS(qi)));
}

/* Entries queue @qi has not finished (fetched or not). */
static uint32_t queue_entries(struct mt *t, uint32_t qi)
{
	return (sim_mmio_read32(t->sim, SIM_Q_TAIL(qi)) - sim_mmio_read32(t->sim, SIM_Q_HEAD(qi))) &
	       (MSD_SIM_RING_ENTRIES - 1);
}

/* The driver's count of queues it stopped (@resets: reset) for abandoned work. */
static uint32_t abandon_count(struct mt *t, bool resets)
{
	struct msd_sim_device *dev = (struct msd_sim_device *)t->dev;
	uint32_t n;

	msd_sim_mutex_lock(&dev->lock);
	n = resets ? dev->abandon_resets : dev->abandon_stops;
	msd_sim_mutex_unlock(&dev->lock);
	return n;
}

/*
 * Connection a's endless dispatch runs on LOW's queue with connection b's job behind it (LOW
 * contexts share their one queue). Closing a resets the queue at once: a's frames and slot are
 * free right after the close, and b's job, written again, completes within a few thousand cycles.
 */
static void test_close_stops_dispatch_and_runs_the_next_job(void)
{
	struct mt *t = mt_create(false);
	struct mt_client a, b;
	uint64_t frames, end, used, closed_at;
	uint32_t count, q;

	REQUIRE(t);
	q = msd_sim_sched_queue((struct msd_sim_device *)t->dev, 0);
	REQUIRE(mt_client_init(t, &b, 2, MAGMA_PRIORITY_LOW, SIZE, false) == 0);
	frames = sim_bus_frames_mapped(t->sim);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_LOW, SIZE, false) == 0);
	count = mt_client_load_program(t, &a, spin_kernel);
	REQUIRE(count);
	end = put_dispatch(&a, count, HUGE_GROUPS, 1);
	CHECK_EQ(mt_client_exec(&a, a.ctx, 0, end, NULL), MAGMA_STATUS_OK);
	CHECK_EQ(mt_run_cycles(t, -1, 100000), UINT64_MAX);
	CHECK(sim_mmio_read32(t->sim, SIM_Q_PROGRESS(q)) > 0);
	end = mt_client_put_write(&b, 0, VA + MARK_OFF, 0x5afe);
	CHECK_EQ(mt_client_exec(&b, b.ctx, 0, end, &b.done), MAGMA_STATUS_OK);
	/* b's job is on the ring behind the dispatch and waits for it. */
	CHECK_EQ(mt_run_cycles(t, b.done.fd, 100000), UINT64_MAX);
	CHECK_EQ(queue_entries(t, q), 2);
	closed_at = sim_clock_now(t->sim);
	close_connection(&a);
	CHECK_EQ(abandon_count(t, true), 1);
	CHECK_EQ(sim_bus_frames_mapped(t->sim), frames);
	CHECK_EQ(sim_mmio_read32(t->sim, SIM_AS_STATUS(1)) & SIM_AS_STATUS_ENABLED, 0);
	used = mt_run_cycles(t, b.done.fd, 100000);
	CHECK(used < 100000);
	CHECK_EQ(*mt_client_words(&b, MARK_OFF), 0x5afe);
	CHECK_EQ(*mt_client_words(&a, MARK_OFF), 0);
	CHECK(mt_run_cycles(t, -1, 10000) != UINT64_MAX);
	CHECK_EQ(queue_state(t, q), SIM_Q_STATE_IDLE);
	CHECK_EQ(sim_mmio_read32(t->sim, SIM_GPU_GUEST_ERRORS), 0);
	printf("  close to the next job done and the GPU idle: %" PRIu64 " cycles\n",
	       sim_clock_now(t->sim) - closed_at);
	free_memory(&a);
	mt_client_fini(&b);
	mt_destroy(t);
}

/*
 * Connection b's dispatch of long workgroups heads LOW's queue, connection a's endless dispatch
 * waits behind it. Closing a mid-workgroup leaves b's dispatch alone: the STOP is honoured at
 * the end of the workgroup, a's entry becomes an empty job, QUEUE_STOPPED makes the driver
 * resume the queue, b's every result is right, a's dispatch never runs, and a's frames go when
 * its empty entry retires.
 */
static void test_close_behind_another_workgroup(void)
{
	struct mt *t = mt_create(false);
	struct mt_client a, b;
	uint64_t frames, end, used;
	uint32_t count, q;

	REQUIRE(t);
	q = msd_sim_sched_queue((struct msd_sim_device *)t->dev, 0);
	REQUIRE(mt_client_init(t, &b, 2, MAGMA_PRIORITY_LOW, SIZE, false) == 0);
	count = mt_client_load_program(t, &b, long_group_kernel);
	REQUIRE(count);
	end = put_dispatch(&b, count, 4, 0x5afe);
	frames = sim_bus_frames_mapped(t->sim);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_LOW, SIZE, false) == 0);
	CHECK_EQ(mt_client_exec(&b, b.ctx, 0, end, &b.done), MAGMA_STATUS_OK);
	count = mt_client_load_program(t, &a, spin_kernel);
	REQUIRE(count);
	end = put_dispatch(&a, count, HUGE_GROUPS, 1);
	CHECK_EQ(mt_client_exec(&a, a.ctx, 0, end, NULL), MAGMA_STATUS_OK);
	CHECK_EQ(mt_run_cycles(t, -1, 20000), UINT64_MAX);
	CHECK_EQ(queue_entries(t, q), 2);
	close_connection(&a);
	CHECK_EQ(abandon_count(t, false), 1);
	CHECK_EQ(abandon_count(t, true), 0);
	/* Inside b's first workgroup: the STOP is pending, the queue still runs. */
	CHECK_EQ(queue_state(t, q), SIM_Q_STATE_RUNNING);
	CHECK(sim_bus_frames_mapped(t->sim) > frames);
	used = mt_run_cycles(t, b.done.fd, 10000000);
	CHECK(used != UINT64_MAX);
	for (uint32_t i = 0; i < 4; i++)
		CHECK_EQ(*mt_client_words(&b, RES_OFF + 4 * i), i + 1);
	CHECK_EQ(*mt_client_words(&b, MARK_OFF), 0x5afe);
	CHECK(mt_run_cycles(t, -1, 10000) != UINT64_MAX);
	CHECK_EQ(*mt_client_words(&a, MARK_OFF), 0);
	CHECK_EQ(*mt_client_words(&a, RES_OFF), 0);
	CHECK_EQ(queue_state(t, q), SIM_Q_STATE_IDLE);
	CHECK_EQ(sim_bus_frames_mapped(t->sim), frames);
	CHECK_EQ(sim_mmio_read32(t->sim, SIM_GPU_GUEST_ERRORS), 0);
	printf("  b's dispatch: %" PRIu64 " cycles after a's close\n", used);
	free_memory(&a);
	mt_client_fini(&b);
	mt_destroy(t);
}

/*
 * magma_connection_release_context while the context's dispatch runs: the work is abandoned (the
 * queue reset), the connection's other context's job behind it completes, nothing is notified,
 * and the connection keeps working.
 */
static void test_destroy_context_with_dispatch_running(void)
{
	struct mt *t = mt_create(false);
	struct msd_context_t *other;
	struct mt_client c;
	uint64_t end;
	uint32_t count, q;

	REQUIRE(t);
	q = msd_sim_sched_queue((struct msd_sim_device *)t->dev, 0);
	REQUIRE(mt_client_init(t, &c, 1, MAGMA_PRIORITY_LOW, SIZE, true) == 0);
	other = msd_connection_create_context(c.conn, MAGMA_PRIORITY_LOW);
	REQUIRE(other);
	count = mt_client_load_program(t, &c, spin_kernel);
	REQUIRE(count);
	end = put_dispatch(&c, count, HUGE_GROUPS, 1);
	CHECK_EQ(mt_client_exec(&c, c.ctx, 0, end, NULL), MAGMA_STATUS_OK);
	end = mt_client_put_write(&c, 0x800, VA + MARK_OFF + 4, 0x5afe);
	CHECK_EQ(mt_client_exec(&c, other, 0x800, end, &c.done), MAGMA_STATUS_OK);
	CHECK_EQ(mt_run_cycles(t, c.done.fd, 100000), UINT64_MAX);
	CHECK_EQ(queue_entries(t, q), 2);
	msd_context_destroy(c.ctx);
	c.ctx = NULL;
	CHECK_EQ(abandon_count(t, true), 1);
	CHECK(mt_run_cycles(t, c.done.fd, 100000) != UINT64_MAX);
	CHECK_EQ(*mt_client_words(&c, MARK_OFF + 4), 0x5afe);
	CHECK_EQ(*mt_client_words(&c, MARK_OFF), 0);
	/* Still usable; no FAULT or CONTEXT_KILLED: the client released the work itself. */
	end = mt_client_put_write(&c, 0x800, VA + MARK_OFF + 8, 0x600d);
	CHECK_EQ(mt_client_exec(&c, other, 0x800, end, NULL), MAGMA_STATUS_OK);
	CHECK(mt_run_cycles(t, -1, 100000) != UINT64_MAX);
	CHECK_EQ(*mt_client_words(&c, MARK_OFF + 8), 0x600d);
	CHECK_EQ(t->nnotes, 0);
	msd_context_destroy(other);
	mt_client_fini(&c);
	mt_destroy(t);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Cores powered, from the vendor query (0 once the driver powered the GPU down). */
static uint32_t cores_ready(struct mt *t)
{
	uint64_t v = ~0ull;

	if (msd_device_query(t->dev, MAGMA_SIM_QUERY_POWER, NULL, &v) != MAGMA_STATUS_OK)
		return ~0u;
	return (uint32_t)v;
}

/*
 * With the device thread, as in the daemon: a client's endless dispatch runs, then the client is
 * torn down. Its frames are free when the close returns, the GPU goes idle and powers down (a
 * generous deadline: it takes MSD_SIM_IDLE_MS of host time), having run a bounded number of
 * cycles after the close, and another client's job then runs correctly.
 */
static void test_closed_client_gpu_goes_idle(void)
{
	struct mt *t = mt_create(true);
	struct msd_sim_device *dev;
	struct mt_client a, b;
	uint64_t frames, end, closed_at, idle_at, t0, deadline;
	uint32_t count;

	REQUIRE(t);
	dev = (struct msd_sim_device *)t->dev;
	frames = sim_bus_frames_mapped(t->sim);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, false) == 0);
	count = mt_client_load_program(t, &a, spin_kernel);
	REQUIRE(count);
	end = put_dispatch(&a, count, HUGE_GROUPS, 1);
	CHECK_EQ(mt_client_exec(&a, a.ctx, 0, end, NULL), MAGMA_STATUS_OK);
	deadline = now_ms() + 10000;
	while (sim_mmio_read32(t->sim, SIM_Q_PROGRESS(0)) < 100 && now_ms() < deadline)
		usleep(1000);
	REQUIRE(sim_mmio_read32(t->sim, SIM_Q_PROGRESS(0)) >= 100);
	closed_at = sim_clock_now(t->sim);
	t0 = now_ms();
	mt_client_fini(&a);
	CHECK_EQ(sim_bus_frames_mapped(t->sim), frames);
	deadline = now_ms() + 10000;
	while (cores_ready(t) != 0 && now_ms() < deadline)
		usleep(1000);
	CHECK_EQ(cores_ready(t), 0);
	idle_at = sim_clock_now(t->sim);
	printf("  close to powered down: %" PRIu64 " cycles, %" PRIu64 " ms of host time\n",
	       idle_at - closed_at, now_ms() - t0);
	CHECK(idle_at - closed_at < 100000000ull);
	msd_sim_mutex_lock(&dev->lock);
	CHECK_EQ(dev->abandon_resets, 1);
	CHECK_EQ(dev->hangs, 0);
	msd_sim_mutex_unlock(&dev->lock);
	REQUIRE(mt_client_init(t, &b, 2, MAGMA_PRIORITY_MEDIUM, SIZE, false) == 0);
	end = mt_client_put_write(&b, 0, VA + MARK_OFF, 0x5afe);
	CHECK_EQ(mt_client_exec(&b, b.ctx, 0, end, &b.done), MAGMA_STATUS_OK);
	CHECK(mt_wait(t, b.done.fd, 10000));
	CHECK_EQ(*mt_client_words(&b, MARK_OFF), 0x5afe);
	mt_client_fini(&b);
	mt_destroy(t);
}

/* A policy clock that stands still: no WAIT ever counts as hung by host time, nothing powers down.
 */
static uint64_t frozen_clock_ns(void *ctx)
{
	(void)ctx;
	return 1000000000ull;
}

/* With the sim's clock stopped: the armed watchdog TIMER's compare once it is ahead of the clock.
 */
static uint64_t armed_timer_compare(struct mt *t)
{
	uint64_t deadline = now_ms() + 10000;

	while (now_ms() < deadline) {
		if ((sim_mmio_read32(t->sim, SIM_GPU_TIMER_CONTROL) & SIM_TIMER_CONTROL_ENABLE) &&
		    sim_mmio_read64(t->sim, SIM_GPU_TIMER_COMPARE_LO) >
			    sim_clock_now(t->sim) + 1000)
			return sim_mmio_read64(t->sim, SIM_GPU_TIMER_COMPARE_LO);
		usleep(1000); /* a tick being handled re-arms the timer */
	}
	return 0;
}

/*
 * With the device thread, a frozen policy clock and the sim's clock stopped once it runs: @a's
 * WAIT that nothing satisfies polls on queue 0 until @before cycles ahead of the watchdog's next
 * TIMER, whose compare is returned (0 with a failure).
 */
static uint64_t wait_polls_until_near_tick(struct mt *t, struct mt_client *a, uint64_t before)
{
	uint64_t compare, deadline;
	uint32_t n;

	n = sim_cmd_emit_wait(mt_client_words(a, 0), VA + MARK_OFF, 1, SIM_CMD_WAIT_EQ);
	n += sim_cmd_emit_end(mt_client_words(a, n * 4));
	CHECK_EQ(mt_client_exec(a, a->ctx, 0, n * 4, NULL), MAGMA_STATUS_OK);
	deadline = now_ms() + 10000;
	while (queue_state(t, 0) != SIM_Q_STATE_WAITING && now_ms() < deadline)
		usleep(1000);
	if (queue_state(t, 0) != SIM_Q_STATE_WAITING)
		return 0;
	sim_stop(t->sim);
	compare = armed_timer_compare(t);
	if (!compare || sim_clock_step(t->sim, compare - before - sim_clock_now(t->sim)))
		return 0;
	return compare;
}

/*
 * @b's WRITE32 + END on queue 0, the TIMER (@compare) firing 50 cycles into it (its ring fetch
 * takes 64): no hang may be found, and the job completes with its word written.
 */
static void next_job_not_blamed(struct mt *t, struct mt_client *b, uint64_t compare)
{
	struct msd_sim_device *dev = (struct msd_sim_device *)t->dev;
	uint64_t end, deadline;
	uint32_t hangs = 0;

	REQUIRE(sim_clock_step(t->sim, compare - 50 - sim_clock_now(t->sim)) == 0);
	end = mt_client_put_write(b, 0, VA + MARK_OFF, 0x5afe);
	CHECK_EQ(mt_client_exec(b, b->ctx, 0, end, &b->done), MAGMA_STATUS_OK);
	deadline = now_ms() + 10000;
	while (queue_state(t, 0) != SIM_Q_STATE_RUNNING && now_ms() < deadline)
		usleep(1000);
	REQUIRE(queue_state(t, 0) == SIM_Q_STATE_RUNNING);
	REQUIRE(sim_clock_step(t->sim, 60) == 0);
	CHECK_EQ(sim_mmio_read64(t->sim, SIM_Q_SEQNO_LO(0)), 0);
	deadline = now_ms() + 10000;
	while (now_ms() < deadline) {
		msd_sim_mutex_lock(&dev->lock);
		hangs = dev->hangs;
		msd_sim_mutex_unlock(&dev->lock);
		if (hangs || sim_mmio_read64(t->sim, SIM_GPU_TIMER_COMPARE_LO) != compare)
			break;
		usleep(1000);
	}
	CHECK(sim_mmio_read64(t->sim, SIM_GPU_TIMER_COMPARE_LO) != compare);
	CHECK_EQ(hangs, 0);
	REQUIRE(sim_start(t->sim) == 0);
	CHECK(mt_fd_readable(b->done.fd, 10000));
	CHECK_EQ(*mt_client_words(b, MARK_OFF), 0x5afe);
}

/*
 * With the device thread and a GPU clock the test steps (the sim's own thread stopped once the
 * job runs): connection a's WAIT that nothing satisfies polls for most of a watchdog period,
 * its busy cycles counting and its WAITING state excusing it; then a is closed and queue 0 is
 * reset. Connection b's WRITE32 + END is written to that queue, and the watchdog's TIMER fires
 * while it is in its first unit (the ring fetch). The cycles a's WAIT spent polling before the
 * reset must not count against b: no hang, no reset, b is told nothing and its job completes.
 * (Found by fuzz_cmdstream: before, b was blamed, its context killed.)
 */
static void test_abandoned_wait_not_blamed_on_next_job(void)
{
	struct mt *t = mt_create(true);
	struct mt_client a, b;
	uint64_t compare;
	uint32_t nnotes;

	REQUIRE(t);
	msd_sim_device_set_clock((struct msd_sim_device *)t->dev, frozen_clock_ns, NULL);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, false) == 0);
	REQUIRE(mt_client_init(t, &b, 2, MAGMA_PRIORITY_MEDIUM, SIZE, true) == 0);
	compare = wait_polls_until_near_tick(t, &a, 50);
	REQUIRE(compare);
	close_connection(&a);
	CHECK_EQ(abandon_count(t, true), 1);
	next_job_not_blamed(t, &b, compare);
	pthread_mutex_lock(&t->lock);
	nnotes = t->nnotes;
	pthread_mutex_unlock(&t->lock);
	CHECK_EQ(nnotes, 0);
	free_memory(&a);
	mt_client_fini(&b);
	mt_destroy(t);
}

/*
 * The same for a job that faults instead of being abandoned: connection a's WAIT polls for most
 * of a watchdog period, then an injected MMU fault on its next poll kills it (no command
 * completed, so SEQNO and PROGRESS never moved) and the driver RESUMEs the queue past it. The
 * polling must not count against connection b's job, written next to that queue, when the
 * TIMER fires during its ring fetch.
 */
static void test_faulted_wait_not_blamed_on_next_job(void)
{
	struct mt *t = mt_create(true);
	struct msd_sim_device *dev;
	struct mt_client a, b;
	struct sim_inject fault = {.kind = SIM_INJECT_MMU_FAULT, .arg = SIM_FAULT_MMU_TRANSLATION};
	uint64_t compare, deadline;
	uint32_t faulted = 0;

	REQUIRE(t);
	dev = (struct msd_sim_device *)t->dev;
	msd_sim_device_set_clock(dev, frozen_clock_ns, NULL);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, false) == 0);
	REQUIRE(mt_client_init(t, &b, 2, MAGMA_PRIORITY_MEDIUM, SIZE, true) == 0);
	/* The WAIT polls until 200 cycles before the next tick, then its next poll faults. */
	compare = wait_polls_until_near_tick(t, &a, 200);
	REQUIRE(compare);
	msd_sim_mutex_lock(&dev->lock);
	fault.target = (uint32_t)((struct msd_sim_connection *)a.conn)->as.slot;
	msd_sim_mutex_unlock(&dev->lock);
	REQUIRE(sim_inject_fault(t->sim, &fault) == 0);
	deadline = now_ms() + 10000;
	while (now_ms() < deadline) {
		REQUIRE(sim_clock_step(t->sim, 1) == 0);
		msd_sim_mutex_lock(&dev->lock);
		faulted = (uint32_t)dev->jobs_faulted;
		msd_sim_mutex_unlock(&dev->lock);
		if (faulted && queue_state(t, 0) == SIM_Q_STATE_IDLE)
			break;
		usleep(100);
	}
	REQUIRE_EQ(faulted, 1);
	REQUIRE(sim_clock_now(t->sim) < compare - 50);
	next_job_not_blamed(t, &b, compare);
	mt_client_fini(&a);
	mt_client_fini(&b);
	mt_destroy(t);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_close_stops_dispatch_and_runs_the_next_job),
	SIM_TEST(test_close_behind_another_workgroup),
	SIM_TEST(test_destroy_context_with_dispatch_running),
	SIM_TEST(test_closed_client_gpu_goes_idle),
	SIM_TEST(test_abandoned_wait_not_blamed_on_next_job),
	SIM_TEST(test_faulted_wait_not_blamed_on_next_job),
};
SIM_TEST_SUITE(tests);
