/* SPDX-License-Identifier: MIT */
/*
 * test_sched.c - msd-sim scheduling against the real sim, observed through TIMESTAMP commands
 * (cycle counts written by the GPU at the start of a command's unit), results and registers:
 * each priority level has its own queue with Q_PRIORITY = level; a REALTIME job submitted while a
 * LOW dispatch of many workgroups runs completes first and the dispatch still finishes with
 * correct results; jobs of one context run in submission order; two equal-priority connections,
 * one flooding, share the level round-robin (and so do two contexts of one connection); equal-
 * priority dispatches on separate queues (one borrowed from a lower level) alternate workgroups,
 * a lender gets its queue back, and lent queues keep every level's priority; four
 * levels submitted together run strictly by priority; a hang on a non-zero queue is detected and
 * recovered with innocent work on the other queues completing; a low-priority job waiting for
 * the engine behind a long realtime dispatch is not taken for a hang; aging lets a LOW job
 * complete against a REALTIME stream that never idles, exactly when the driver's policy clock
 * (stepped by the test) has let it wait MSD_SIM_STARVE_MS. Test mode (no device
 * thread, the test steps the clock) where order must be deterministic, the device thread
 * elsewhere.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msd_sim_internal.h"
#include "msd_test_util.h"
#include "sim/sim_cmd.h"
#include "sim/sim_isa.h"
#include "sim_test.h"

#define VA	MT_CLIENT_VA
#define PROG_VA MT_CLIENT_PROG_VA
#define SIZE	(16 * 4096)
#define TS_OFF	0x8000u /* timestamps (u64) from here */
#define RES_OFF 0xa000u /* dispatch results (u32 per group) from here */

static uint64_t ts(struct mt_client *c, uint32_t i)
{
	uint64_t v;

	memcpy(&v, (uint8_t *)c->b.host + TS_OFF + 8ull * i, 8);
	return v;
}

/* Submit on @ctx a job at @off: TIMESTAMP (cycles) into slot @slot of @c's buffer, END. */
static magma_status_t submit_ts(struct mt_client *c, struct msd_context_t *ctx, uint64_t off,
				uint32_t slot, struct mt_sem *signal)
{
	uint32_t n = sim_cmd_emit_timestamp(mt_client_words(c, off), VA + TS_OFF + 8ull * slot,
					    SIM_CMD_TS_CYCLES);

	n += sim_cmd_emit_end(mt_client_words(c, off + n * 4));
	return mt_exec(ctx, &c->b, off, off + n * 4, NULL, signal, 0);
}

/* Test mode: step the GPU and the driver until @fd is signaled (bounded). */
static bool run_until(struct mt *t, int fd)
{
	for (int i = 0; i < 400; i++) {
		if (mt_wait(t, fd, 0))
			return true;
	}
	return false;
}

/* Each group loops @iters (in the source) and stores its id + 1 at RES_OFF + 4 * id. */
static const char *const slow_kernel = "mov r4, 300\n"
				       "loop\n"
				       "seq r5, r4, 0\n"
				       "break r5\n"
				       "sub r4, r4, 1\n"
				       "endloop\n"
				       "shl r6, r2, 2\n"
				       "add r7, r2, 1\n"
				       "stx r0, r6, r7, 0\n"
				       "exit\n";

/* Each group spins 3000 iterations and stores nothing. */
static const char *const spin_kernel = "mov r4, 3000\n"
				       "loop\n"
				       "seq r5, r4, 0\n"
				       "break r5\n"
				       "sub r4, r4, 1\n"
				       "endloop\n"
				       "exit\n";

/* Commands at @off: TIMESTAMP slot 0, DISPATCH @groups, TIMESTAMP slot 1, END. End offset. */
static uint64_t put_timed_dispatch(struct mt_client *c, uint64_t off, uint32_t count,
				   uint32_t groups)
{
	uint32_t n =
		sim_cmd_emit_timestamp(mt_client_words(c, off), VA + TS_OFF, SIM_CMD_TS_CYCLES);

	n += sim_cmd_emit_dispatch(mt_client_words(c, off + n * 4), PROG_VA, count, VA + RES_OFF,
				   groups, 1, 1);
	n += sim_cmd_emit_timestamp(mt_client_words(c, off + n * 4), VA + TS_OFF + 8,
				    SIM_CMD_TS_CYCLES);
	n += sim_cmd_emit_end(mt_client_words(c, off + n * 4));
	return off + n * 4;
}

static uint32_t queue_of(struct mt *t, struct msd_context_t *ctx)
{
	struct msd_sim_context *c = (struct msd_sim_context *)ctx;

	return msd_sim_sched_queue((struct msd_sim_device *)t->dev, c->level);
}

/* The queue @ctx's jobs on a ring are on (its home queue when it has none there). */
static uint32_t bound_queue(struct mt *t, struct msd_context_t *ctx)
{
	struct msd_sim_device *dev = (struct msd_sim_device *)t->dev;
	struct msd_sim_context *c = (struct msd_sim_context *)ctx;
	uint32_t q;

	msd_sim_mutex_lock(&dev->lock);
	q = c->ring_jobs ? c->queue : msd_sim_sched_queue(dev, c->level);
	msd_sim_mutex_unlock(&dev->lock);
	return q;
}

/* Levels map to distinct queues whose Q_PRIORITY is the level, also after a hard reset. */
static void test_levels_and_queue_priorities(void)
{
	static const magma_priority_t prio[] = {MAGMA_PRIORITY_LOW, MAGMA_PRIORITY_MEDIUM,
						MAGMA_PRIORITY_HIGH, MAGMA_PRIORITY_REALTIME};
	struct mt *t = mt_create(false);
	struct msd_sim_device *dev;
	uint32_t seen = 0;

	REQUIRE(t);
	dev = (struct msd_sim_device *)t->dev;
	for (uint32_t l = 0; l < 4; l++) {
		uint32_t q = msd_sim_sched_queue(dev, l);

		CHECK_EQ(msd_sim_sched_level(prio[l]), l);
		CHECK(q < dev->queue_count);
		seen |= 1u << q;
		CHECK_EQ(sim_mmio_read32(t->sim, SIM_Q_PRIORITY(q)), l);
	}
	CHECK_EQ(seen, 0xf);
	CHECK_EQ(msd_sim_sched_queue(dev, 1), 0); /* MEDIUM, the default, keeps queue 0 */
	CHECK_EQ(msd_sim_sched_level(0), 0);
	CHECK_EQ(msd_sim_sched_level(UINT64_MAX), 3);
	mt_destroy(t);
}

/* Four levels submitted together (lowest first) run strictly from REALTIME down. */
static void test_four_levels_strict(void)
{
	static const magma_priority_t prio[] = {MAGMA_PRIORITY_LOW, MAGMA_PRIORITY_MEDIUM,
						MAGMA_PRIORITY_HIGH, MAGMA_PRIORITY_REALTIME};
	struct mt *t = mt_create(false);
	struct msd_context_t *ctx[4];
	struct mt_client c;

	REQUIRE(t);
	REQUIRE(mt_client_init(t, &c, 1, MAGMA_PRIORITY_MEDIUM, SIZE, false) == 0);
	for (uint32_t l = 0; l < 4; l++) {
		ctx[l] = msd_connection_create_context(c.conn, prio[l]);
		REQUIRE(ctx[l]);
	}
	/* MSD_SIM_SCHED_DEPTH jobs per level: all are on the rings before the clock runs. */
	for (uint32_t l = 0; l < 4; l++) {
		for (uint32_t j = 0; j < MSD_SIM_SCHED_DEPTH; j++) {
			uint32_t slot = l * MSD_SIM_SCHED_DEPTH + j;
			bool last = l == 3 && j == MSD_SIM_SCHED_DEPTH - 1;

			CHECK_EQ(submit_ts(&c, ctx[l], 0x40ull * slot, slot, last ? &c.done : NULL),
				 MAGMA_STATUS_OK);
		}
	}
	REQUIRE(run_until(t, c.done.fd));
	mt_run(t);
	for (uint32_t l = 0; l < 3; l++) {
		uint64_t max_hi = 0, min_lo = UINT64_MAX;

		for (uint32_t j = 0; j < MSD_SIM_SCHED_DEPTH; j++) {
			uint64_t lo = ts(&c, l * MSD_SIM_SCHED_DEPTH + j);
			uint64_t hi = ts(&c, (l + 1) * MSD_SIM_SCHED_DEPTH + j);

			CHECK(lo != 0 && hi != 0);
			min_lo = lo < min_lo ? lo : min_lo;
			max_hi = hi > max_hi ? hi : max_hi;
		}
		CHECK(max_hi < min_lo);
	}
	for (uint32_t l = 0; l < 4; l++) {
		CHECK_EQ(sim_mmio_read64(t->sim, SIM_Q_SEQNO_LO(queue_of(t, ctx[l]))),
			 MSD_SIM_SCHED_DEPTH);
		msd_context_destroy(ctx[l]);
	}
	mt_client_fini(&c);
	mt_destroy(t);
}

/* One context's jobs run in submission order, also when more are ready than fit the queue. */
static void test_fifo_within_context(void)
{
	struct mt *t = mt_create(false);
	struct mt_client c;

	REQUIRE(t);
	REQUIRE(mt_client_init(t, &c, 1, MAGMA_PRIORITY_HIGH, SIZE, false) == 0);
	for (uint32_t i = 0; i < 40; i++)
		CHECK_EQ(submit_ts(&c, c.ctx, 0x40ull * i, i, i == 39 ? &c.done : NULL),
			 MAGMA_STATUS_OK);
	REQUIRE(run_until(t, c.done.fd));
	for (uint32_t i = 1; i < 40; i++)
		CHECK(ts(&c, i) > ts(&c, i - 1));
	CHECK_EQ(sim_mmio_read64(t->sim, SIM_Q_SEQNO_LO(queue_of(t, c.ctx))), 40);
	mt_client_fini(&c);
	mt_destroy(t);
}

/*
 * A connection floods 200 submissions, then another submits 5 at the same priority: round-robin
 * runs the 5 before the flooder's last 100. Two contexts of one connection alternate likewise.
 */
static void test_fairness_under_flood(void)
{
	struct mt *t = mt_create(false);
	struct msd_context_t *ctx2;
	struct mt_client a, b;
	uint64_t max_b = 0;

	REQUIRE(t);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, false) == 0);
	REQUIRE(mt_client_init(t, &b, 2, MAGMA_PRIORITY_MEDIUM, SIZE, false) == 0);
	for (uint32_t i = 0; i < 200; i++)
		CHECK_EQ(submit_ts(&a, a.ctx, 0x40ull * i, i, i == 199 ? &a.done : NULL),
			 MAGMA_STATUS_OK);
	for (uint32_t i = 0; i < 5; i++)
		CHECK_EQ(submit_ts(&b, b.ctx, 0x40ull * i, i, i == 4 ? &b.done : NULL),
			 MAGMA_STATUS_OK);
	REQUIRE(run_until(t, a.done.fd));
	REQUIRE(mt_fd_readable(b.done.fd, 0));
	for (uint32_t i = 0; i < 5; i++)
		max_b = ts(&b, i) > max_b ? ts(&b, i) : max_b;
	for (uint32_t i = 1; i < 200; i++)
		CHECK(ts(&a, i) > ts(&a, i - 1));
	printf("  flood: the other connection's 5 done by cycle %" PRIu64
	       ", flooder's 101st starts at %" PRIu64 ", its last at %" PRIu64 "\n",
	       max_b, ts(&a, 100), ts(&a, 199));
	CHECK(max_b < ts(&a, 100));
	/* Bounded wait: the other's first job is among the first few picks. */
	CHECK(ts(&b, 0) < ts(&a, MSD_SIM_SCHED_DEPTH + 1));

	/* Two contexts of one connection: 20 jobs on the first, then 4 on the second. */
	ctx2 = msd_connection_create_context(a.conn, MAGMA_PRIORITY_MEDIUM);
	REQUIRE(ctx2);
	mt_sem_destroy(&a.done);
	mt_sem_destroy(&b.done);
	REQUIRE(mt_sem_create(t, 0, &a.done) == 0 && mt_sem_create(t, 0, &b.done) == 0);
	for (uint32_t i = 0; i < 20; i++)
		CHECK_EQ(submit_ts(&a, a.ctx, 0x40ull * i, i, i == 19 ? &a.done : NULL),
			 MAGMA_STATUS_OK);
	for (uint32_t i = 0; i < 4; i++)
		CHECK_EQ(submit_ts(&a, ctx2, 0x40ull * (200 + i), 200 + i, i == 3 ? &b.done : NULL),
			 MAGMA_STATUS_OK);
	REQUIRE(run_until(t, a.done.fd));
	REQUIRE(mt_fd_readable(b.done.fd, 0));
	CHECK(ts(&a, 203) < ts(&a, 12));

	/*
	 * A connection alone at its level fills its queue deeper; one arriving later borrows LOW's
	 * idle queue and runs alongside, command for command, instead of waiting for that work.
	 */
	mt_sem_destroy(&a.done);
	mt_sem_destroy(&b.done);
	REQUIRE(mt_sem_create(t, 0, &a.done) == 0 && mt_sem_create(t, 0, &b.done) == 0);
	for (uint32_t i = 0; i < 40; i++)
		CHECK_EQ(submit_ts(&a, a.ctx, 0x40ull * i, i, i == 39 ? &a.done : NULL),
			 MAGMA_STATUS_OK);
	msd_sim_device_poll((struct msd_sim_device *)t->dev);
	CHECK_EQ(sim_mmio_read32(t->sim, SIM_Q_TAIL(0)) - sim_mmio_read32(t->sim, SIM_Q_HEAD(0)),
		 MSD_SIM_SCHED_DEPTH_ALONE);
	for (uint32_t i = 0; i < 3; i++)
		CHECK_EQ(submit_ts(&b, b.ctx, 0x40ull * i, i, i == 2 ? &b.done : NULL),
			 MAGMA_STATUS_OK);
	msd_sim_device_poll((struct msd_sim_device *)t->dev);
	CHECK_EQ(bound_queue(t, b.ctx), 1);
	REQUIRE(run_until(t, a.done.fd));
	REQUIRE(mt_fd_readable(b.done.fd, 0));
	CHECK(ts(&b, 2) < ts(&a, 6));
	msd_context_destroy(ctx2);
	mt_client_fini(&a);
	mt_client_fini(&b);
	mt_destroy(t);
}

/*
 * Threaded: a REALTIME job submitted while a LOW dispatch of many workgroups runs starts between
 * two workgroups and completes first; the dispatch then finishes with every result in place.
 */
static void test_realtime_preempts_low_dispatch(void)
{
	const uint32_t groups = 1024;
	struct mt *t = mt_create(true);
	struct mt_client lo, rt;
	uint32_t count, qlo, wrong = 0;
	uint64_t end;
	int spins = 0;

	REQUIRE(t);
	REQUIRE(mt_client_init(t, &lo, 1, MAGMA_PRIORITY_LOW, SIZE, false) == 0);
	REQUIRE(mt_client_init(t, &rt, 2, MAGMA_PRIORITY_REALTIME, SIZE, false) == 0);
	count = mt_client_load_program(t, &lo, slow_kernel);
	REQUIRE(count);
	qlo = queue_of(t, lo.ctx);
	end = put_timed_dispatch(&lo, 0, count, groups);
	/*
	 * The GPU's clock runs on its own thread: on a loaded host the whole dispatch could end
	 * before the realtime submission is written. So this thread drives the clock itself until
	 * the dispatch has finished a few workgroups, submits the realtime job with the clock
	 * stopped, and only then lets the clock thread run: the submission lands mid-dispatch
	 * whatever the host's timing.
	 */
	sim_stop(t->sim);
	CHECK_EQ(mt_exec(lo.ctx, &lo.b, 0, end, NULL, &lo.done, 0), MAGMA_STATUS_OK);
	while (sim_mmio_read32(t->sim, SIM_Q_PROGRESS(qlo)) < 4 && spins++ < 20000)
		REQUIRE(sim_clock_step(t->sim, 100) == 0);
	CHECK(sim_mmio_read32(t->sim, SIM_Q_PROGRESS(qlo)) >= 4);
	CHECK_EQ(submit_ts(&rt, rt.ctx, 0, 0, &rt.done), MAGMA_STATUS_OK);
	REQUIRE(sim_start(t->sim) == 0);
	REQUIRE(mt_fd_readable(rt.done.fd, 5000));
	CHECK(!mt_fd_readable(lo.done.fd, 0));
	REQUIRE(mt_fd_readable(lo.done.fd, 20000));
	printf("  dispatch cycles %" PRIu64 "..%" PRIu64 ", realtime TIMESTAMP at %" PRIu64 "\n",
	       ts(&lo, 0), ts(&lo, 1), ts(&rt, 0));
	CHECK(ts(&rt, 0) > ts(&lo, 0));
	CHECK(ts(&rt, 0) < ts(&lo, 1));
	for (uint32_t g = 0; g < groups; g++)
		wrong += *mt_client_words(&lo, RES_OFF + 4ull * g) != g + 1;
	CHECK_EQ(wrong, 0);
	msd_sim_mutex_lock(&((struct msd_sim_device *)t->dev)->lock);
	CHECK_EQ(((struct msd_sim_device *)t->dev)->hangs, 0);
	msd_sim_mutex_unlock(&((struct msd_sim_device *)t->dev)->lock);
	mt_client_fini(&lo);
	mt_client_fini(&rt);
	mt_destroy(t);
}

/* Threaded: an injected CP hang on the HIGH queue is recovered; MEDIUM and LOW work completes. */
static void test_hang_on_high_queue(void)
{
	struct mt *t = mt_create(true);
	struct msd_sim_device *dev;
	struct sim_inject hang = {.kind = SIM_INJECT_CP_HANG};
	struct msd_context_t *low;
	struct mt_client a, b;
	struct mt_sem low_done;
	struct magma_sim_notification note;
	uint32_t n;

	REQUIRE(t);
	dev = (struct msd_sim_device *)t->dev;
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_HIGH, SIZE, false) == 0);
	REQUIRE(mt_client_init(t, &b, 2, MAGMA_PRIORITY_MEDIUM, SIZE, false) == 0);
	mt_notify_install(t, a.conn);
	low = msd_connection_create_context(b.conn, MAGMA_PRIORITY_LOW);
	REQUIRE(low);
	REQUIRE(mt_sem_create(t, 0, &low_done) == 0);
	hang.target = queue_of(t, a.ctx);
	CHECK(hang.target != 0);
	REQUIRE(sim_inject_fault(t->sim, &hang) == 0);
	n = sim_cmd_emit_write32(mt_client_words(&a, 0), VA + 0x1000, 0xbad);
	n += sim_cmd_emit_end(mt_client_words(&a, n * 4));
	CHECK_EQ(mt_exec(a.ctx, &a.b, 0, n * 4, NULL, &a.done, 0), MAGMA_STATUS_OK);
	for (uint32_t i = 0; i < 6; i++) {
		uint64_t off = 0x100 * (i + 1);
		struct mt_sem *sig = NULL;

		if (i == 4)
			sig = &b.done;
		else if (i == 5)
			sig = &low_done;
		n = sim_cmd_emit_write32(mt_client_words(&b, off), VA + 0x1000 + 4 * i, 0xb00 + i);
		n += sim_cmd_emit_end(mt_client_words(&b, off + n * 4));
		CHECK_EQ(mt_exec(i & 1 ? low : b.ctx, &b.b, off, off + n * 4, NULL, sig, 0),
			 MAGMA_STATUS_OK);
	}
	REQUIRE(mt_fd_readable(b.done.fd, 5000));
	REQUIRE(mt_fd_readable(low_done.fd, 5000));
	for (uint32_t i = 0; i < 6; i++)
		CHECK_EQ(*mt_client_words(&b, 0x1000 + 4 * i), 0xb00 + i);
	REQUIRE(mt_notify_wait(t, 2, 2000));
	memcpy(&note, t->notes[0].data, sizeof(note));
	CHECK_EQ(note.type, MAGMA_SIM_NOTIFY_FAULT);
	CHECK_EQ(note.fault_code, MAGMA_SIM_FAULT_HANG);
	CHECK_EQ(t->notes[1].type, MSD_CONNECTION_NOTIFICATION_CONTEXT_KILLED);
	CHECK(!mt_fd_readable(a.done.fd, 0));
	msd_sim_mutex_lock(&dev->lock);
	CHECK_EQ(dev->hangs, 1);
	/* The soft reset kept Q_PRIORITY; the levels still map as programmed. */
	for (uint32_t l = 0; l < 4; l++)
		CHECK_EQ(sim_mmio_read32(t->sim, SIM_Q_PRIORITY(msd_sim_sched_queue(dev, l))), l);
	msd_sim_mutex_unlock(&dev->lock);
	mt_sem_destroy(&low_done);
	msd_context_destroy(low);
	mt_client_fini(&a);
	mt_client_fini(&b);
	mt_destroy(t);
}

/*
 * Threaded: a LOW job waits for the engine behind a REALTIME dispatch lasting several watchdog
 * periods (until aging lets it in). Its queue shows no progress while it waits but did not
 * execute: not a hang.
 */
static void test_starved_queue_is_not_hung(void)
{
	struct mt *t = mt_create(true);
	struct msd_sim_device *dev;
	struct mt_client rt, lo;
	uint32_t count;
	uint64_t end, busy;

	REQUIRE(t);
	dev = (struct msd_sim_device *)t->dev;
	REQUIRE(mt_client_init(t, &rt, 1, MAGMA_PRIORITY_REALTIME, SIZE, false) == 0);
	REQUIRE(mt_client_init(t, &lo, 2, MAGMA_PRIORITY_LOW, SIZE, false) == 0);
	count = mt_client_load_program(t, &rt, spin_kernel);
	REQUIRE(count);
	end = put_timed_dispatch(&rt, 0, count, 1000);
	CHECK_EQ(mt_exec(rt.ctx, &rt.b, 0, end, NULL, &rt.done, 0), MAGMA_STATUS_OK);
	CHECK_EQ(submit_ts(&lo, lo.ctx, 0, 0, &lo.done), MAGMA_STATUS_OK);
	REQUIRE(mt_fd_readable(rt.done.fd, 30000));
	REQUIRE(mt_fd_readable(lo.done.fd, 5000));
	busy = sim_mmio_read64(t->sim, SIM_Q_BUSY_CYCLES_LO(queue_of(t, rt.ctx)));
	printf("  realtime dispatch: %.1f watchdog periods; low job at cycle %" PRIu64
	       " after %" PRIu64 "\n",
	       (double)busy / MSD_SIM_HANG_CYCLES, ts(&lo, 0), ts(&rt, 1));
	CHECK(busy > 2 * MSD_SIM_HANG_CYCLES);
	CHECK(ts(&lo, 0) > ts(&rt, 0));
	msd_sim_mutex_lock(&dev->lock);
	CHECK_EQ(dev->hangs, 0);
	msd_sim_mutex_unlock(&dev->lock);
	mt_client_fini(&rt);
	mt_client_fini(&lo);
	mt_destroy(t);
}

/* Jobs of @level ready or on the ring of @qi. */
static uint32_t pending_jobs(struct msd_sim_device *dev, uint32_t level, uint32_t qi)
{
	uint32_t n;

	msd_sim_mutex_lock(&dev->lock);
	n = dev->sched.level[level].ready + dev->queues[qi].jobs;
	msd_sim_mutex_unlock(&dev->lock);
	return n;
}

/*
 * Threaded: a REALTIME stream that never idles (long dispatches, two always pending, for 300 ms)
 * and a LOW job submitted at its start. Aging lets the LOW job complete while the stream still
 * runs (realtime jobs are submitted after it: no real-time bound, which a loaded host breaks),
 * and REALTIME keeps the vast majority of the engine.
 */
static void test_aging_no_starvation(void)
{
	struct mt *t = mt_create(true);
	struct msd_sim_device *dev;
	struct mt_client rt, lo;
	uint64_t end, start, now, lo_ms = 0, rt_busy, lo_busy;
	uint32_t count, qrt, qlo, after_lo = 0;

	REQUIRE(t);
	dev = (struct msd_sim_device *)t->dev;
	REQUIRE(mt_client_init(t, &rt, 1, MAGMA_PRIORITY_REALTIME, SIZE, false) == 0);
	REQUIRE(mt_client_init(t, &lo, 2, MAGMA_PRIORITY_LOW, SIZE, false) == 0);
	count = mt_client_load_program(t, &rt, spin_kernel);
	REQUIRE(count);
	qrt = queue_of(t, rt.ctx);
	qlo = queue_of(t, lo.ctx);
	end = put_timed_dispatch(&rt, 0, count, 16);
	start = msd_sim_now_ms();
	CHECK_EQ(mt_exec(rt.ctx, &rt.b, 0, end, NULL, NULL, 0), MAGMA_STATUS_OK);
	CHECK_EQ(mt_exec(rt.ctx, &rt.b, 0, end, NULL, NULL, 0), MAGMA_STATUS_OK);
	CHECK_EQ(submit_ts(&lo, lo.ctx, 0, 0, &lo.done), MAGMA_STATUS_OK);
	for (now = start; now - start < 300; now = msd_sim_now_ms()) {
		if (!lo_ms && mt_fd_readable(lo.done.fd, 0))
			lo_ms = now - start;
		if (pending_jobs(dev, MSD_SIM_LEVELS - 1, qrt) >= 2) {
			usleep(200);
			continue;
		}
		CHECK_EQ(mt_exec(rt.ctx, &rt.b, 0, end, NULL, NULL, 0), MAGMA_STATUS_OK);
		after_lo += lo_ms != 0;
	}
	CHECK_EQ(mt_exec(rt.ctx, &rt.b, 0, end, NULL, &rt.done, 0), MAGMA_STATUS_OK);
	REQUIRE(mt_fd_readable(rt.done.fd, 30000));
	REQUIRE(mt_fd_readable(lo.done.fd, 0));
	rt_busy = sim_mmio_read64(t->sim, SIM_Q_BUSY_CYCLES_LO(qrt));
	lo_busy = sim_mmio_read64(t->sim, SIM_Q_BUSY_CYCLES_LO(qlo));
	printf("  low job done after %" PRIu64 " ms; %u realtime jobs submitted after it; busy "
	       "cycles realtime %" PRIu64 ", low %" PRIu64 "\n",
	       lo_ms, after_lo, rt_busy, lo_busy);
	CHECK(lo_ms > 0);
	CHECK(after_lo > 0);
	CHECK(rt_busy > 9 * lo_busy);
	msd_sim_mutex_lock(&dev->lock);
	CHECK_EQ(dev->hangs, 0);
	msd_sim_mutex_unlock(&dev->lock);
	mt_client_fini(&rt);
	mt_client_fini(&lo);
	mt_destroy(t);
}

/* Groups of @c's dispatch whose result is wrong. */
static uint32_t wrong_results(struct mt_client *c, uint32_t groups)
{
	uint32_t wrong = 0;

	for (uint32_t g = 0; g < groups; g++)
		wrong += *mt_client_words(c, RES_OFF + 4ull * g) != g + 1;
	return wrong;
}

/*
 * Test mode: MEDIUM clients @a (id 1) and @b (id 2) each start a dispatch of @groups slow
 * workgroups, @a's first; @b's signals b->done only when @b_signals. 0 on success.
 */
static int start_medium_pair(struct mt *t, struct mt_client *a, struct mt_client *b,
			     uint32_t groups, bool b_signals)
{
	struct msd_sim_device *dev = (struct msd_sim_device *)t->dev;
	uint32_t count;
	uint64_t end;

	if (mt_client_init(t, a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, false) ||
	    mt_client_init(t, b, 2, MAGMA_PRIORITY_MEDIUM, SIZE, false))
		return -1;
	count = mt_client_load_program(t, a, slow_kernel);
	if (!count || !mt_client_load_program(t, b, slow_kernel))
		return -1;
	end = put_timed_dispatch(a, 0, count, groups);
	if (mt_exec(a->ctx, &a->b, 0, end, NULL, &a->done, 0) != MAGMA_STATUS_OK)
		return -1;
	msd_sim_device_poll(dev);
	end = put_timed_dispatch(b, 0, count, groups);
	if (mt_exec(b->ctx, &b->b, 0, end, NULL, b_signals ? &b->done : NULL, 0) != MAGMA_STATUS_OK)
		return -1;
	msd_sim_device_poll(dev);
	return 0;
}

/*
 * Test mode: two MEDIUM connections submit one long dispatch each. The second borrows LOW's idle
 * queue at Q_PRIORITY MEDIUM, so the engine alternates their workgroups: time slicing inside the
 * dispatches. A third MEDIUM context finds no queue free (MEDIUM may borrow only LOW's) and shares
 * one, waiting for that job. Every result is right.
 */
static void test_equal_priority_slices_dispatches(void)
{
	const uint32_t groups = 64;
	struct mt *t = mt_create(false);
	struct msd_sim_device *dev;
	struct mt_client a, b, c;
	uint32_t count, p0 = 0, p1 = 0, qc;
	uint64_t end;

	REQUIRE(t);
	dev = (struct msd_sim_device *)t->dev;
	REQUIRE(start_medium_pair(t, &a, &b, groups, true) == 0);
	REQUIRE(mt_client_init(t, &c, 3, MAGMA_PRIORITY_MEDIUM, SIZE, false) == 0);
	count = mt_client_load_program(t, &c, slow_kernel);
	REQUIRE(count);
	CHECK_EQ(bound_queue(t, a.ctx), 0);
	CHECK_EQ(bound_queue(t, b.ctx), 1);
	CHECK_EQ(sim_mmio_read32(t->sim, SIM_Q_PRIORITY(1)), 1);

	/* Half way, each queue has done about as many units (TIMESTAMP, workgroups) as the other.
	 */
	for (int i = 0; i < 100000 && p0 < groups / 2; i++) {
		sim_clock_step(t->sim, 1000);
		p0 = sim_mmio_read32(t->sim, SIM_Q_PROGRESS(0));
		p1 = sim_mmio_read32(t->sim, SIM_Q_PROGRESS(1));
	}
	printf("  units done half way: queue 0 %u, queue 1 %u\n", p0, p1);
	CHECK(p0 >= groups / 2);
	CHECK(p1 + 2 >= p0 && p0 + 2 >= p1);

	end = put_timed_dispatch(&c, 0, count, groups);
	CHECK_EQ(mt_exec(c.ctx, &c.b, 0, end, NULL, &c.done, 0), MAGMA_STATUS_OK);
	msd_sim_device_poll(dev);
	qc = bound_queue(t, c.ctx);
	CHECK(qc == 0 || qc == 1);
	REQUIRE(run_until(t, a.done.fd));
	REQUIRE(run_until(t, b.done.fd));
	REQUIRE(run_until(t, c.done.fd));
	printf("  dispatch A %" PRIu64 "..%" PRIu64 ", B %" PRIu64 "..%" PRIu64 ", C %" PRIu64
	       "..%" PRIu64 " (queue %u)\n",
	       ts(&a, 0), ts(&a, 1), ts(&b, 0), ts(&b, 1), ts(&c, 0), ts(&c, 1), qc);
	/* A and B overlap; C ran after the job of the queue it shares. */
	CHECK(ts(&b, 0) < ts(&a, 1) && ts(&a, 0) < ts(&b, 1));
	CHECK(ts(&c, 0) > ts(qc == 0 ? &a : &b, 1));
	CHECK_EQ(wrong_results(&a, groups), 0);
	CHECK_EQ(wrong_results(&b, groups), 0);
	CHECK_EQ(wrong_results(&c, groups), 0);
	mt_client_fini(&a);
	mt_client_fini(&b);
	mt_client_fini(&c);
	mt_destroy(t);
}

/*
 * Test mode: a MEDIUM context runs on LOW's queue (borrowed while MEDIUM's own is busy). Work
 * arriving at LOW gets the queue back once the borrowed job retires: the borrower's next job goes
 * elsewhere, and the queue's Q_PRIORITY returns to LOW. Higher levels never borrow a queue while
 * its own level has ready work.
 */
static void test_lender_gets_queue_back(void)
{
	const uint32_t groups = 32;
	struct mt *t = mt_create(false);
	struct msd_sim_device *dev;
	struct mt_client a, b, lo;

	REQUIRE(t);
	dev = (struct msd_sim_device *)t->dev;
	REQUIRE(start_medium_pair(t, &a, &b, groups, false) == 0);
	REQUIRE(mt_client_init(t, &lo, 3, MAGMA_PRIORITY_LOW, SIZE, false) == 0);
	CHECK_EQ(bound_queue(t, b.ctx), 1);

	/* LOW's job, then B's second: neither may join queue 1 while B's dispatch holds it. */
	CHECK_EQ(submit_ts(&lo, lo.ctx, 0, 0, &lo.done), MAGMA_STATUS_OK);
	CHECK_EQ(submit_ts(&b, b.ctx, 0x400, 2, &b.done), MAGMA_STATUS_OK);
	msd_sim_device_poll(dev);
	msd_sim_mutex_lock(&dev->lock);
	CHECK_EQ(dev->queues[1].jobs, 1);
	CHECK_EQ(dev->sched.level[0].ready, 1);
	CHECK_EQ(dev->sched.level[1].ready, 1);
	msd_sim_mutex_unlock(&dev->lock);

	REQUIRE(run_until(t, lo.done.fd));
	REQUIRE(run_until(t, b.done.fd));
	REQUIRE(run_until(t, a.done.fd));
	printf("  B's dispatch ends at %" PRIu64 ", LOW job at %" PRIu64 ", B's next at %" PRIu64
	       "\n",
	       ts(&b, 1), ts(&lo, 0), ts(&b, 2));
	CHECK(ts(&lo, 0) > ts(&b, 1));
	CHECK(ts(&b, 2) > ts(&b, 1));
	CHECK_EQ(sim_mmio_read32(t->sim, SIM_Q_PRIORITY(1)), 0);
	/* Queue 1 ran B's dispatch and the LOW job; B's next job went to queue 0 after A's. */
	CHECK_EQ(sim_mmio_read64(t->sim, SIM_Q_SEQNO_LO(1)), 2);
	CHECK_EQ(sim_mmio_read64(t->sim, SIM_Q_SEQNO_LO(0)), 2);
	CHECK(ts(&b, 2) > ts(&a, 1));
	CHECK_EQ(wrong_results(&a, groups), 0);
	CHECK_EQ(wrong_results(&b, groups), 0);
	mt_client_fini(&a);
	mt_client_fini(&b);
	mt_client_fini(&lo);
	mt_destroy(t);
}

/*
 * Test mode: while two MEDIUM dispatches run on queues 0 and 1 (the second borrowed), a HIGH job
 * goes to its own queue and starts at the next workgroup boundary of either: a level keeps its
 * priority over both queues of a lower one.
 */
static void test_lending_keeps_priorities(void)
{
	const uint32_t groups = 64;
	struct mt *t = mt_create(false);
	struct msd_sim_device *dev;
	struct mt_client a, b, hi;
	uint64_t now;

	REQUIRE(t);
	dev = (struct msd_sim_device *)t->dev;
	REQUIRE(start_medium_pair(t, &a, &b, groups, true) == 0);
	REQUIRE(mt_client_init(t, &hi, 3, MAGMA_PRIORITY_HIGH, SIZE, false) == 0);
	sim_clock_step(t->sim, 20000);
	CHECK_EQ(bound_queue(t, b.ctx), 1);
	CHECK_EQ(submit_ts(&hi, hi.ctx, 0, 0, &hi.done), MAGMA_STATUS_OK);
	msd_sim_device_poll(dev);
	now = sim_clock_now(t->sim);
	CHECK_EQ(bound_queue(t, hi.ctx), 2);
	REQUIRE(run_until(t, a.done.fd));
	REQUIRE(run_until(t, b.done.fd));
	REQUIRE(mt_fd_readable(hi.done.fd, 0));
	printf("  MEDIUM dispatches end at %" PRIu64 " and %" PRIu64 ", HIGH submitted at %" PRIu64
	       ", its TIMESTAMP at %" PRIu64 "\n",
	       ts(&a, 1), ts(&b, 1), now, ts(&hi, 0));
	CHECK(ts(&hi, 0) < ts(&a, 1) && ts(&hi, 0) < ts(&b, 1));
	CHECK(ts(&hi, 0) < now + 2000); /* the ring fetch and a workgroup at most */
	CHECK_EQ(wrong_results(&a, groups), 0);
	CHECK_EQ(wrong_results(&b, groups), 0);
	mt_client_fini(&a);
	mt_client_fini(&b);
	mt_client_fini(&hi);
	mt_destroy(t);
}

/*
 * Threaded: a MEDIUM job hangs on LOW's queue, borrowed while another MEDIUM context's dispatch
 * runs on queue 0. Recovery kills only the hung context, the dispatch completes with every result
 * in place, and LOW work afterwards runs on its own queue at Q_PRIORITY LOW again.
 */
static void test_hang_on_borrowed_queue(void)
{
	const uint32_t groups = 1024;
	struct mt *t = mt_create(true);
	struct msd_sim_device *dev;
	struct sim_inject hang = {.kind = SIM_INJECT_CP_HANG, .target = 1};
	struct mt_client a, b, lo;
	struct magma_sim_notification note;
	uint32_t count, n;
	uint64_t end;
	int spins = 0;

	REQUIRE(t);
	dev = (struct msd_sim_device *)t->dev;
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, false) == 0);
	REQUIRE(mt_client_init(t, &b, 2, MAGMA_PRIORITY_MEDIUM, SIZE, false) == 0);
	REQUIRE(mt_client_init(t, &lo, 3, MAGMA_PRIORITY_LOW, SIZE, false) == 0);
	mt_notify_install(t, b.conn);
	count = mt_client_load_program(t, &a, slow_kernel);
	REQUIRE(count);
	end = put_timed_dispatch(&a, 0, count, groups);
	CHECK_EQ(mt_exec(a.ctx, &a.b, 0, end, NULL, &a.done, 0), MAGMA_STATUS_OK);
	while (sim_mmio_read32(t->sim, SIM_Q_PROGRESS(0)) < 2 && spins++ < 20000)
		usleep(50);
	REQUIRE(sim_inject_fault(t->sim, &hang) == 0);
	n = sim_cmd_emit_write32(mt_client_words(&b, 0), VA + 0x1000, 0xbad);
	n += sim_cmd_emit_end(mt_client_words(&b, n * 4));
	CHECK_EQ(mt_exec(b.ctx, &b.b, 0, n * 4, NULL, &b.done, 0), MAGMA_STATUS_OK);
	REQUIRE(mt_notify_wait(t, 2, 5000));
	memcpy(&note, t->notes[0].data, sizeof(note));
	CHECK_EQ(note.type, MAGMA_SIM_NOTIFY_FAULT);
	CHECK_EQ(note.fault_code, MAGMA_SIM_FAULT_HANG);
	CHECK_EQ(t->notes[1].type, MSD_CONNECTION_NOTIFICATION_CONTEXT_KILLED);
	REQUIRE(mt_fd_readable(a.done.fd, 20000));
	CHECK_EQ(wrong_results(&a, groups), 0);
	CHECK(!mt_fd_readable(b.done.fd, 0));
	CHECK_EQ(*mt_client_words(&b, 0x1000), 0);

	CHECK_EQ(submit_ts(&lo, lo.ctx, 0, 0, &lo.done), MAGMA_STATUS_OK);
	REQUIRE(mt_fd_readable(lo.done.fd, 5000));
	CHECK_EQ(sim_mmio_read32(t->sim, SIM_Q_PRIORITY(1)), 0);
	msd_sim_mutex_lock(&dev->lock);
	CHECK_EQ(dev->hangs, 1);
	msd_sim_mutex_unlock(&dev->lock);
	mt_client_fini(&a);
	mt_client_fini(&b);
	mt_client_fini(&lo);
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

/* Steps @c by @ms and has @dev look at its timers; returns once aging was evaluated after it. */
static bool step_and_age(struct msd_sim_device *dev, struct step_clock *c, uint64_t ms)
{
	uint64_t before;

	msd_sim_mutex_lock(&dev->lock);
	before = dev->age_checks;
	msd_sim_mutex_unlock(&dev->lock);
	atomic_fetch_add(&c->ns, ms * 1000000ull);
	msd_sim_device_set_clock(dev, step_clock_now, c);
	/* Two evaluations: the first may have started before the step. Bounded for a hang only. */
	for (int i = 0; i < 100000; i++) {
		bool seen;

		msd_sim_mutex_lock(&dev->lock);
		seen = dev->age_checks >= before + 2;
		msd_sim_mutex_unlock(&dev->lock);
		if (seen)
			return true;
		usleep(100);
	}
	return false;
}

/*
 * Threaded, on a stepped policy clock: a REALTIME dispatch that would run for minutes holds the
 * engine and a LOW job waits behind it. However long real time passes, the LOW job starts only
 * once the clock has let it wait MSD_SIM_STARVE_MS: at STARVE_MS - 1 it is still waiting and its
 * queue not boosted; one more millisecond and it completes while the dispatch still runs.
 */
static void test_aging_follows_the_policy_clock(void)
{
	struct mt *t = mt_create(true);
	struct step_clock clock = {.ns = 1000000000ull};
	struct msd_sim_device *dev;
	struct mt_client rt, lo;
	uint32_t count, qlo;
	uint64_t end;
	bool starving = false, boosted;

	REQUIRE(t);
	dev = (struct msd_sim_device *)t->dev;
	msd_sim_device_set_clock(dev, step_clock_now, &clock);
	REQUIRE(mt_client_init(t, &rt, 1, MAGMA_PRIORITY_REALTIME, SIZE, false) == 0);
	REQUIRE(mt_client_init(t, &lo, 2, MAGMA_PRIORITY_LOW, SIZE, false) == 0);
	count = mt_client_load_program(t, &rt, spin_kernel);
	REQUIRE(count);
	qlo = queue_of(t, lo.ctx);
	end = put_timed_dispatch(&rt, 0, count, 1u << 20);
	CHECK_EQ(mt_exec(rt.ctx, &rt.b, 0, end, NULL, NULL, 0), MAGMA_STATUS_OK);
	CHECK_EQ(submit_ts(&lo, lo.ctx, 0, 0, &lo.done), MAGMA_STATUS_OK);
	/* The driver notices the LOW queue waiting behind REALTIME (bounded for a hang only). */
	for (int i = 0; i < 100000 && !starving; i++) {
		msd_sim_mutex_lock(&dev->lock);
		starving = dev->queues[qlo].starve_ms != 0;
		msd_sim_mutex_unlock(&dev->lock);
		if (!starving)
			usleep(100);
	}
	REQUIRE(starving);
	REQUIRE(step_and_age(dev, &clock, MSD_SIM_STARVE_MS - 1));
	CHECK(!mt_fd_readable(lo.done.fd, 0));
	msd_sim_mutex_lock(&dev->lock);
	CHECK(!dev->queues[qlo].boosted);
	msd_sim_mutex_unlock(&dev->lock);
	REQUIRE(step_and_age(dev, &clock, 1));
	REQUIRE(mt_fd_readable(lo.done.fd, 30000));
	msd_sim_mutex_lock(&dev->lock);
	boosted = dev->queues[qlo].boosted || dev->queues[qlo].jobs == 0;
	CHECK_EQ(dev->hangs, 0);
	msd_sim_mutex_unlock(&dev->lock);
	CHECK(boosted);
	/* The REALTIME dispatch is still running: its closing TIMESTAMP was never written. */
	CHECK_EQ(ts(&rt, 1), 0);
	mt_client_fini(&rt);
	mt_client_fini(&lo);
	mt_destroy(t);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_levels_and_queue_priorities),
	SIM_TEST(test_four_levels_strict),
	SIM_TEST(test_fifo_within_context),
	SIM_TEST(test_fairness_under_flood),
	SIM_TEST(test_equal_priority_slices_dispatches),
	SIM_TEST(test_lender_gets_queue_back),
	SIM_TEST(test_lending_keeps_priorities),
	SIM_TEST(test_hang_on_borrowed_queue),
	SIM_TEST(test_realtime_preempts_low_dispatch),
	SIM_TEST(test_hang_on_high_queue),
	SIM_TEST(test_starved_queue_is_not_hung),
	SIM_TEST(test_aging_no_starvation),
	SIM_TEST(test_aging_follows_the_policy_clock),
};
SIM_TEST_SUITE(tests);
