/* SPDX-License-Identifier: MIT */
/*
 * test_hang.c - msd-sim hang detection and recovery against the real sim with the device thread:
 * an injected CP hang and an endless compute kernel are found by the watchdog on simulated time
 * and recovered by a soft reset; a soft reset that never completes (RESET_FAIL) escalates to a
 * hard reset; in every case the guilty context is killed and told (FAULT payload with
 * MAGMA_SIM_FAULT_HANG, then CONTEXT_KILLED) while another connection's jobs queued behind it
 * complete with correct results, and the total-time query does not go back across the reset. A
 * long dispatch that keeps finishing workgroups is not a hang (skipped if Q_PROGRESS reads 0).
 * An interrupt that never arrives (DROP_IRQ) does not strand the work: the device thread reads
 * IRQ_STATUS itself when its poll times out with work on a ring.
 * Each hang test measures host time from submission to the innocent work's completion and
 * requires it to stay under a second.
 */
#include <inttypes.h>
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
#define SIZE	(4 * 4096)

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Map @src assembled at PROG_VA; commands at @off: DISPATCH @groups x 1 group of 1 lane, END. */
static uint64_t put_dispatch(struct mt *t, struct mt_client *c, uint64_t off, const char *src,
			     uint32_t groups)
{
	uint32_t count = mt_client_load_program(t, c, src), n;

	if (!count)
		return 0;
	n = sim_cmd_emit_dispatch(mt_client_words(c, off), PROG_VA, count, VA + 0x3000, groups, 1,
				  1);
	n += sim_cmd_emit_end(mt_client_words(c, off + n * 4));
	return off + n * 4;
}

/* Connection @b's three jobs behind the hang: each writes its word and signals done. */
static void submit_innocent(struct mt_client *b)
{
	for (uint32_t i = 0; i < 3; i++) {
		uint64_t off = 0x100 * (i + 1);
		uint64_t end = mt_client_put_write(b, off, VA + 0x1000 + 4 * i, 0xb00 + i);

		CHECK_EQ(mt_exec(b->ctx, &b->b, off, end, NULL, i == 2 ? &b->done : NULL, 0),
			 MAGMA_STATUS_OK);
	}
}

/* The GPU's cycle counter: hang detection runs on simulated time. */
static uint64_t gpu_cycles(struct mt *t)
{
	return sim_mmio_read64(t->sim, SIM_GPU_CYCLE_COUNT_LO);
}

/*
 * After the hang: @a was killed and told, @b's work is all there, counts as expected, and it all
 * took a bounded number of GPU cycles since @c0 (the hang was submitted): detection is two
 * watchdog ticks at most. Host time is printed for information only (a loaded host stretches it).
 */
static void check_recovered(struct mt *t, struct mt_client *a, struct mt_client *b, uint64_t t0,
			    uint64_t c0, const char *what, uint32_t soft, uint32_t hard)
{
	struct msd_sim_device *dev = (struct msd_sim_device *)t->dev;
	struct magma_sim_notification note;
	uint64_t us, cycles;

	REQUIRE(mt_fd_readable(b->done.fd, 30000));
	us = now_us() - t0;
	cycles = gpu_cycles(t) - c0;
	printf("  %s: innocent work done %" PRIu64 " GPU cycles (%.1f ms of host time) after "
	       "submission\n",
	       what, cycles, us / 1000.0);
	CHECK(cycles < 4 * MSD_SIM_HANG_CYCLES);
	for (uint32_t i = 0; i < 3; i++)
		CHECK_EQ(*mt_client_words(b, 0x1000 + 4 * i), 0xb00 + i);
	REQUIRE(mt_notify_wait(t, 2, 2000));
	CHECK_EQ(t->notes[0].type, MSD_CONNECTION_NOTIFICATION_CHANNEL_SEND);
	memcpy(&note, t->notes[0].data, sizeof(note));
	CHECK_EQ(note.type, MAGMA_SIM_NOTIFY_FAULT);
	CHECK_EQ(note.fault_code, MAGMA_SIM_FAULT_HANG);
	CHECK_EQ(note.sequence, 1);
	CHECK_EQ(t->notes[1].type, MSD_CONNECTION_NOTIFICATION_CONTEXT_KILLED);
	CHECK(!mt_fd_readable(a->done.fd, 0));
	CHECK_EQ(mt_exec(a->ctx, &a->b, 0, 4, NULL, NULL, 0), MAGMA_STATUS_CONTEXT_KILLED);
	msd_sim_mutex_lock(&dev->lock);
	CHECK_EQ(dev->hangs, 1);
	CHECK_EQ(dev->soft_resets, soft);
	CHECK_EQ(dev->hard_resets, hard);
	msd_sim_mutex_unlock(&dev->lock);
	/* The device still runs new work of the surviving connection. */
	mt_sem_destroy(&b->done);
	REQUIRE(mt_sem_create(t, 0, &b->done) == 0);
	CHECK_EQ(mt_exec(b->ctx, &b->b, 0x800, mt_client_put_write(b, 0x800, VA + 0x2000, 0x5afe),
			 NULL, &b->done, 0),
		 MAGMA_STATUS_OK);
	REQUIRE(mt_fd_readable(b->done.fd, 2000));
	CHECK_EQ(*mt_client_words(b, 0x2000), 0x5afe);
	msd_device_dump_status(t->dev, 0);
	CHECK(strstr(t->log, "hangs 1,") != NULL);
}

/* An injected CP hang on connection a's job: soft reset, a killed, b's queued jobs complete. */
static void run_cp_hang(bool reset_fail)
{
	struct mt *t = mt_create(true);
	struct sim_inject hang = {.kind = SIM_INJECT_CP_HANG, .target = 0};
	struct sim_inject fail = {.kind = SIM_INJECT_RESET_FAIL, .count = 1};
	struct mt_client a, b;
	uint64_t t0, c0, end, busy0;

	REQUIRE(t);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, true) == 0);
	REQUIRE(mt_client_init(t, &b, 2, MAGMA_PRIORITY_MEDIUM, SIZE, false) == 0);
	/* Some busy time first: the total-time query must not go back across the reset. */
	CHECK_EQ(mt_exec(b.ctx, &b.b, 0xc00, mt_client_put_write(&b, 0xc00, VA + 0x2800, 1), NULL,
			 &b.done, 0),
		 MAGMA_STATUS_OK);
	REQUIRE(mt_fd_readable(b.done.fd, 2000));
	mt_sem_destroy(&b.done);
	REQUIRE(mt_sem_create(t, 0, &b.done) == 0);
	busy0 = mt_total_time_ns(t);
	CHECK(busy0 > 0);
	REQUIRE(sim_inject_fault(t->sim, &hang) == 0);
	if (reset_fail)
		REQUIRE(sim_inject_fault(t->sim, &fail) == 0);
	t0 = now_us();
	c0 = gpu_cycles(t);
	end = mt_client_put_write(&a, 0, VA + 0x1800, 0xbad);
	CHECK_EQ(mt_exec(a.ctx, &a.b, 0, end, NULL, &a.done, 0), MAGMA_STATUS_OK);
	submit_innocent(&b);
	check_recovered(t, &a, &b, t0, c0, reset_fail ? "CP hang, reset fails" : "CP hang",
			reset_fail ? 0 : 1, reset_fail ? 1 : 0);
	CHECK(strstr(t->log, reset_fail ? "recovered by hard reset" : "recovered by soft reset") !=
	      NULL);
	CHECK(mt_total_time_ns(t) > busy0);
	mt_client_fini(&a);
	mt_client_fini(&b);
	mt_destroy(t);
}

static void test_cp_hang_soft_reset(void)
{
	run_cp_hang(false);
}

/* RESET_FAIL: the soft reset never completes, the hard-reset path brings the GPU back. */
static void test_reset_fail_hard_reset(void)
{
	run_cp_hang(true);
}

/* A compute kernel that loops forever is a hang too: no workgroup ever finishes. */
static void test_endless_kernel(void)
{
	struct mt *t = mt_create(true);
	struct mt_client a, b;
	uint64_t t0, c0, end;

	REQUIRE(t);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, true) == 0);
	REQUIRE(mt_client_init(t, &b, 2, MAGMA_PRIORITY_MEDIUM, SIZE, false) == 0);
	end = put_dispatch(t, &a, 0, "loop\nnop\nendloop\nexit\n", 1);
	REQUIRE(end);
	t0 = now_us();
	c0 = gpu_cycles(t);
	CHECK_EQ(mt_exec(a.ctx, &a.b, 0, end, NULL, &a.done, 0), MAGMA_STATUS_OK);
	submit_innocent(&b);
	check_recovered(t, &a, &b, t0, c0, "endless kernel", 1, 0);
	mt_client_fini(&a);
	mt_client_fini(&b);
	mt_destroy(t);
}

/* A dispatch running several watchdog periods but finishing workgroups all along survives. */
static void test_long_progressing_dispatch(void)
{
	static const char *src = "mov r4, 3000\n"
				 "loop\n"
				 "seq r5, r4, 0\n"
				 "break r5\n"
				 "sub r4, r4, 1\n"
				 "endloop\n"
				 "exit\n";
	struct mt *t = mt_create(true);
	struct msd_sim_device *dev = (struct msd_sim_device *)t->dev;
	struct mt_client a;
	uint64_t end, busy;

	REQUIRE(t);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, true) == 0);
	/* Without Q_PROGRESS (reads 0 forever) only SEQNO shows life: the dispatch would die. */
	end = mt_client_put_write(&a, 0x800, VA + 0x2000, 1);
	CHECK_EQ(mt_exec(a.ctx, &a.b, 0x800, end, NULL, &a.done, 0), MAGMA_STATUS_OK);
	REQUIRE(mt_fd_readable(a.done.fd, 2000));
	mt_sem_destroy(&a.done);
	REQUIRE(mt_sem_create(t, 0, &a.done) == 0);
	if (!sim_mmio_read32(t->sim, SIM_Q_PROGRESS(0))) {
		mt_client_fini(&a);
		mt_destroy(t);
		SIM_TEST_SKIP("this sim's Q_PROGRESS reads 0; a long dispatch needs it");
	}
	end = put_dispatch(t, &a, 0, src, 1600);
	REQUIRE(end);
	CHECK_EQ(mt_exec(a.ctx, &a.b, 0, end, NULL, &a.done, 0), MAGMA_STATUS_OK);
	REQUIRE(mt_fd_readable(a.done.fd, 20000));
	busy = sim_mmio_read64(t->sim, SIM_Q_BUSY_CYCLES_LO(0));
	printf("  long dispatch: %" PRIu64 " busy cycles = %.1f watchdog periods\n", busy,
	       (double)busy / MSD_SIM_HANG_CYCLES);
	CHECK(busy > 2 * MSD_SIM_HANG_CYCLES);
	msd_sim_mutex_lock(&dev->lock);
	CHECK_EQ(dev->hangs, 0);
	msd_sim_mutex_unlock(&dev->lock);
	CHECK_EQ(t->nnotes, 0);
	mt_client_fini(&a);
	mt_destroy(t);
}

/* A policy clock that stands still: nothing powers down between the test's jobs. */
static uint64_t frozen_clock_ns(void *ctx)
{
	(void)ctx;
	return 1000000000ull;
}

/* Submits a WRITE32 of @value at byte @off of @a's buffer and waits for it (30 s at most). */
static void write_and_wait(struct mt *t, struct mt_client *a, uint64_t off, uint32_t value)
{
	mt_sem_destroy(&a->done);
	REQUIRE(mt_sem_create(t, 0, &a->done) == 0);
	CHECK_EQ(mt_exec(a->ctx, &a->b, off, mt_client_put_write(a, off, VA + 0x1000 + off, value),
			 NULL, &a->done, 0),
		 MAGMA_STATUS_OK);
	REQUIRE(mt_fd_readable(a->done.fd, 30000));
	CHECK_EQ(*mt_client_words(a, 0x1000 + off), value);
}

/*
 * The JOB_DONE interrupt of a job is lost (DROP_IRQ: the line rises with no eventfd write, and
 * stays up, so no later cause signals either): the job still completes, found by polling. The
 * cores are on and stay on (a first job, then a frozen policy clock), so the edge dropped is
 * that job's.
 */
static void test_lost_interrupt_found_by_polling(void)
{
	struct mt *t = mt_create(true);
	struct sim_inject drop = {.kind = SIM_INJECT_DROP_IRQ, .count = 1};
	struct mt_client a;

	REQUIRE(t);
	msd_sim_device_set_clock((struct msd_sim_device *)t->dev, frozen_clock_ns, NULL);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, false) == 0);
	write_and_wait(t, &a, 0, 0x1056);
	CHECK(strstr(t->log, "missed interrupt") == NULL);
	/*
	 * Whatever the first job set going must be over and acknowledged, and the IRQ eventfd
	 * drained by the device thread (an edge acknowledged without it, such as the power-up's
	 * POWER_CHANGED, leaves it readable), or the device thread finds the next job's status
	 * through that wake-up instead of by polling.
	 */
	for (int i = 0; i < 2000 && (!sim_is_idle(t->sim) || sim_irq_is_asserted(t->sim) ||
				     mt_fd_readable(sim_irq_fd(t->sim), 0));
	     i++)
		usleep(1000);
	REQUIRE(sim_inject_fault(t->sim, &drop) == 0);
	write_and_wait(t, &a, 0x100, 0x1057);
	CHECK(strstr(t->log, "missed interrupt: IRQ_STATUS") != NULL);
	write_and_wait(t, &a, 0x200, 0x1058); /* interrupts work as before */
	mt_client_fini(&a);
	mt_destroy(t);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_cp_hang_soft_reset),
	SIM_TEST(test_reset_fail_hard_reset),
	SIM_TEST(test_endless_kernel),
	SIM_TEST(test_long_progressing_dispatch),
	SIM_TEST(test_lost_interrupt_found_by_polling),
};
SIM_TEST_SUITE(tests);
