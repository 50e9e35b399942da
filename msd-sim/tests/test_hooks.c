/* SPDX-License-Identifier: MIT */
/*
 * test_hooks.c - msd-sim's vendor hooks for the device layer (msd_sim_hooks.h), against the real
 * sim with the device thread: the job-start hook sees each job once with its connection, context,
 * submission number, queue and AS slot, before the doorbell (a fault the hook arms on the slot
 * hits that very job), and msd_sim_connection_next_sequence names the number the next submission
 * gets; the allocation hook fails exactly the driver allocations it says to, as NULL or
 * MAGMA_STATUS_MEMORY_ERROR, and the driver works again once it says no more.
 */
#include <stdatomic.h>
#include <string.h>

#include "msd_sim_internal.h"
#include "msd_test_util.h"
#include "sim_test.h"

#define VA   MT_CLIENT_VA
#define SIZE (4 * 4096)

/* What the job-start hook saw. */
struct starts {
	struct sim_device *sim;
	uint32_t count;
	struct msd_sim_job_start last;
	uint64_t fault_sequence; /* arm an MMU fault on the slot of this submission; 0: none */
};

static void on_job_start(void *ctx, const struct msd_sim_job_start *job)
{
	struct starts *s = ctx;

	s->count++;
	s->last = *job;
	if (job->sequence == s->fault_sequence) {
		struct sim_inject inj = {.kind = SIM_INJECT_MMU_FAULT,
					 .target = job->as_slot,
					 .arg = SIM_FAULT_MMU_TRANSLATION};

		CHECK_EQ(sim_inject_fault(s->sim, &inj), 0);
	}
}

/* Submits a WRITE32 of @value at byte @off of @a's buffer, signalling a fresh @a->done. */
static void write_job(struct mt *t, struct mt_client *a, uint64_t off, uint32_t value)
{
	mt_sem_destroy(&a->done);
	REQUIRE(mt_sem_create(t, 0, &a->done) == 0);
	CHECK_EQ(mt_exec(a->ctx, &a->b, off, mt_client_put_write(a, off, VA + 0x1000 + off, value),
			 NULL, &a->done, 0),
		 MAGMA_STATUS_OK);
}

static void test_job_start_hook(void)
{
	struct mt *t = mt_create(true);
	struct starts s = {.fault_sequence = 3};
	struct magma_sim_notification note;
	struct mt_client a;

	REQUIRE(t);
	s.sim = t->sim;
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, true) == 0);
	msd_sim_device_set_job_start_hook(t->dev, on_job_start, &s);
	CHECK_EQ(msd_sim_connection_next_sequence(a.conn), 1);
	write_job(t, &a, 0, 0x11);
	REQUIRE(mt_fd_readable(a.done.fd, 30000));
	CHECK_EQ(s.count, 1);
	CHECK(s.last.connection == a.conn);
	CHECK_EQ(s.last.context_id, 1);
	CHECK_EQ(s.last.sequence, 1);
	CHECK(s.last.queue < SIM_QUEUE_MAX);
	CHECK(s.last.as_slot != MSD_SIM_KERNEL_SLOT && s.last.as_slot < SIM_AS_MAX);
	CHECK(!s.last.resubmitted);
	CHECK_EQ(msd_sim_connection_next_sequence(a.conn), 2);
	write_job(t, &a, 0x100, 0x12);
	REQUIRE(mt_fd_readable(a.done.fd, 30000));
	CHECK_EQ(s.count, 2);
	CHECK_EQ(s.last.sequence, 2);
	/* A fault the hook arms on the job's slot hits that job: it starts after the hook. */
	write_job(t, &a, 0x200, 0x13);
	REQUIRE(mt_notify_wait(t, 2, 30000));
	memcpy(&note, t->notes[0].data, sizeof(note));
	CHECK_EQ(note.type, MAGMA_SIM_NOTIFY_FAULT);
	CHECK_EQ(note.fault_code, SIM_FAULT_MMU_TRANSLATION);
	CHECK_EQ(note.sequence, 3);
	CHECK_EQ(*mt_client_words(&a, 0x1200), 0);
	CHECK_EQ(msd_sim_connection_next_sequence(NULL), 0);
	{
		msd_sim_job_start_fn fn;
		void *ctx;

		/* What a second host reads to chain in front (magma-simd --trace). */
		msd_sim_device_get_job_start_hook(t->dev, &fn, &ctx);
		CHECK(fn == on_job_start && ctx == &s);
		msd_sim_device_set_job_start_hook(t->dev, NULL, NULL);
		msd_sim_device_get_job_start_hook(t->dev, &fn, &ctx);
		CHECK(!fn && !ctx);
	}
	mt_client_fini(&a);
	mt_destroy(t);
}

/* Fails every allocation while @fail is set; counts the ones it saw. */
struct allocs {
	atomic_uint seen;
	atomic_bool fail;
};

static bool on_alloc(void *ctx)
{
	struct allocs *a = ctx;

	atomic_fetch_add(&a->seen, 1);
	return atomic_load(&a->fail);
}

static void test_alloc_hook(void)
{
	struct mt *t = mt_create(true);
	struct allocs a;
	struct msd_connection_t *conn;
	struct msd_context_t *ctx;

	REQUIRE(t);
	atomic_init(&a.seen, 0);
	atomic_init(&a.fail, true);
	msd_sim_driver_set_alloc_hook(t->drv, on_alloc, &a);
	CHECK(msd_device_open(t->dev, 1) == NULL);
	CHECK(atomic_load(&a.seen) >= 1);
	atomic_store(&a.fail, false);
	conn = msd_device_open(t->dev, 1);
	REQUIRE(conn);
	atomic_store(&a.fail, true);
	CHECK(msd_connection_create_context(conn, MAGMA_PRIORITY_MEDIUM) == NULL);
	msd_sim_driver_set_alloc_hook(t->drv, NULL, NULL);
	ctx = msd_connection_create_context(conn, MAGMA_PRIORITY_MEDIUM);
	CHECK(ctx != NULL);
	if (ctx)
		msd_context_destroy(ctx);
	msd_connection_close(conn);
	mt_destroy(t);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_job_start_hook),
	SIM_TEST(test_alloc_hook),
};
SIM_TEST_SUITE(tests);
