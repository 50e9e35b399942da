/* SPDX-License-Identifier: MIT */
/*
 * test_fault_device_gpu.c - the GPU model's faults, applied by a plan to a real device.
 *
 * Each test creates an embedded device with a plan in MAGMA_SIM_FAULTS (as a user would) and
 * drives it with a real client through magma.h: inline SIM-1 commands on two connections. The
 * plans aim the model's injection points (mmu_fault, permission_fault, cp_hang, dma_error,
 * reset_failure, irq_delay, irq_loss, model_alloc_failure) with each trigger a device supports
 * (nth and every submission, a cycle, a GPU VA range, a process name), and the tests check what
 * the client sees: the faulted context killed with the driver's fault report, the other
 * connection still working, and MAGMA_SYSTEM_QUERY_FAULTS_FIRED counting each firing. Waits have
 * generous deadlines and no upper bound on elapsed time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault_test_client.h"
#include "magma_sim_defs.h"
#include "magma_system/embedded.h"
#include "sim_test.h"

/* A device with @plan and two clients on it, connection 1 and connection 2. */
struct rig {
	struct magma_system_embedded *emb;
	magma_device_t dev;
	struct ftc_client c1, c2;
};

static bool rig_open(struct rig *r, const char *plan)
{
	memset(r, 0, sizeof(*r));
	r->emb = ftc_embedded(plan);
	if (!r->emb)
		return false;
	r->dev = ftc_import(r->emb);
	return r->dev && ftc_open(r->dev, &r->c1) == MAGMA_STATUS_OK &&
	       ftc_open(r->dev, &r->c2) == MAGMA_STATUS_OK;
}

static void rig_close(struct rig *r)
{
	ftc_close(&r->c1);
	ftc_close(&r->c2);
	if (r->dev)
		magma_device_release(r->dev);
	magma_system_embedded_destroy(r->emb);
}

/* Writes @value to word @index through @c and waits: the status of the wait. */
static magma_status_t write_and_wait(struct ftc_client *c, uint32_t index, uint32_t value)
{
	magma_status_t s = ftc_write(c, index, value);

	return s ? s : ftc_wait(c);
}

/* The untargeted connection still runs work and sees its results. */
static void check_still_works(struct ftc_client *c)
{
	CHECK_EQ(write_and_wait(c, 7, 0x600d0007u), MAGMA_STATUS_OK);
	CHECK_EQ(c->cpu[7], 0x600d0007u);
}

/* mmu_fault on the second submission of connection 1: that context dies, connection 2 lives. */
static void test_mmu_fault_second_submission(void)
{
	struct rig r;

	REQUIRE(rig_open(&r, "{\"faults\": [{\"kind\": \"mmu_fault\", \"trigger\": {\"nth\": 2},"
			     " \"target\": {\"connection\": 1}}]}"));
	CHECK_EQ(ftc_faults_fired(r.dev), 0);
	CHECK_EQ(write_and_wait(&r.c1, 0, 0x11u), MAGMA_STATUS_OK);
	CHECK_EQ(r.c1.cpu[0], 0x11u);
	CHECK_EQ(write_and_wait(&r.c2, 0, 0x21u), MAGMA_STATUS_OK); /* not connection 1's */
	CHECK_EQ(ftc_faults_fired(r.dev), 0);
	CHECK_EQ(write_and_wait(&r.c1, 1, 0x12u), MAGMA_STATUS_CONTEXT_KILLED);
	CHECK_EQ(ftc_fault_code(&r.c1), SIM_FAULT_MMU_TRANSLATION);
	CHECK_EQ(r.c1.cpu[1], 0); /* the faulted job wrote nothing */
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	check_still_works(&r.c2);
	CHECK_EQ(ftc_faults_fired(r.dev), 1); /* nth fires once */
	rig_close(&r);
}

/* cp_hang on every second submission of connection 1: the watchdog's recovery kills it. */
static void test_cp_hang_every_second_submission(void)
{
	struct rig r;

	REQUIRE(rig_open(&r, "{\"faults\": [{\"kind\": \"cp_hang\", \"trigger\": {\"every\": 2},"
			     " \"times\": 0, \"target\": {\"connection\": 1}}]}"));
	CHECK_EQ(write_and_wait(&r.c1, 0, 1u), MAGMA_STATUS_OK);
	for (uint32_t i = 0; i < 3; i++) /* connection 2's submissions do not count */
		CHECK_EQ(write_and_wait(&r.c2, i, 2u), MAGMA_STATUS_OK);
	CHECK_EQ(write_and_wait(&r.c1, 1, 1u), MAGMA_STATUS_CONTEXT_KILLED);
	CHECK_EQ(ftc_fault_code(&r.c1), MAGMA_SIM_FAULT_HANG);
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	check_still_works(&r.c2);
	rig_close(&r);
}

/* dma_error on connection 1's first submission, a FILL: the copy engine faults, the context dies.
 */
static void test_dma_error_on_fill(void)
{
	struct rig r;

	REQUIRE(rig_open(&r, "{\"faults\": [{\"kind\": \"dma_error\", \"trigger\": {\"nth\": 1},"
			     " \"target\": {\"connection\": 1}}]}"));
	CHECK_EQ(ftc_fill(&r.c1, 0, 64, 0xabababab), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_wait(&r.c1), MAGMA_STATUS_CONTEXT_KILLED);
	CHECK_EQ(ftc_fault_code(&r.c1), SIM_FAULT_DMA_ERROR);
	CHECK_EQ(r.c1.cpu[0], 0); /* DMA_ERROR faults before any byte is written */
	CHECK_EQ(ftc_fill(&r.c2, 0, 64, 0xcdcdcdcd), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_wait(&r.c2), MAGMA_STATUS_OK);
	CHECK_EQ(r.c2.cpu[63], 0xcdcdcdcdu);
	rig_close(&r);
}

/*
 * dma_error aimed at a job with no COPY or FILL lapses with it: neither the same connection's
 * next FILL nor another connection's FILL on the queue is hit.
 */
static void test_dma_error_lapses_with_its_job(void)
{
	struct rig r;

	REQUIRE(rig_open(&r, "{\"faults\": [{\"kind\": \"dma_error\", \"trigger\": {\"nth\": 1},"
			     " \"target\": {\"connection\": 1}}]}"));
	CHECK_EQ(write_and_wait(&r.c1, 0, 0x91u), MAGMA_STATUS_OK); /* fires; no transfer */
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	CHECK_EQ(ftc_fill(&r.c2, 0, 64, 0x92929292u), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_wait(&r.c2), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_fill(&r.c1, 8, 64, 0x93939393u), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_wait(&r.c1), MAGMA_STATUS_OK);
	CHECK_EQ(r.c1.cpu[8], 0x93939393u);
	rig_close(&r);
}

/*
 * A hang whose soft reset never completes (reset_failure): the driver escalates to a hard reset,
 * the hung context is killed and the other connection's work runs afterwards.
 */
static void test_reset_failure_escalates(void)
{
	struct rig r;

	REQUIRE(rig_open(&r, "{\"faults\": ["
			     "{\"kind\": \"reset_failure\", \"trigger\": {\"nth\": 1},"
			     " \"target\": {\"connection\": 1}},"
			     "{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1},"
			     " \"target\": {\"connection\": 1}}]}"));
	CHECK_EQ(write_and_wait(&r.c1, 0, 1u), MAGMA_STATUS_CONTEXT_KILLED);
	CHECK_EQ(ftc_fault_code(&r.c1), MAGMA_SIM_FAULT_HANG);
	CHECK_EQ(ftc_faults_fired(r.dev), 2);
	check_still_works(&r.c2);
	rig_close(&r);
}

/* Interrupts 20000 cycles late on every submission: all the work still completes, correctly. */
static void test_irq_delay_work_completes(void)
{
	struct rig r;

	REQUIRE(rig_open(&r, "{\"faults\": [{\"kind\": \"irq_delay\", \"cycles\": 20000,"
			     " \"trigger\": {\"every\": 1}, \"times\": 0}]}"));
	for (uint32_t i = 0; i < 10; i++) {
		CHECK_EQ(write_and_wait(i % 2 ? &r.c2 : &r.c1, i, 0x100u + i), MAGMA_STATUS_OK);
		CHECK_EQ((i % 2 ? r.c2.cpu : r.c1.cpu)[i], 0x100u + i);
	}
	CHECK_EQ(ftc_faults_fired(r.dev), 10);
	rig_close(&r);
}

/* A lost interrupt: the driver must not lose the work; it completes. */
static void test_irq_loss_work_completes(void)
{
	struct rig r;

	REQUIRE(rig_open(&r,
			 "{\"faults\": [{\"kind\": \"irq_loss\", \"trigger\": {\"nth\": 2}}]}"));
	for (uint32_t i = 0; i < 4; i++) {
		CHECK_EQ(write_and_wait(&r.c1, i, 0x200u + i), MAGMA_STATUS_OK);
		CHECK_EQ(r.c1.cpu[i], 0x200u + i);
	}
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	check_still_works(&r.c2);
	rig_close(&r);
}

/*
 * A lost interrupt at a GPU cycle: fired in the sim's event stream and applied by the device's
 * fault thread; the work around it still completes.
 */
static void test_irq_loss_at_cycle_work_completes(void)
{
	struct rig r;
	uint32_t jobs = 0;

	REQUIRE(rig_open(&r, "{\"faults\": [{\"kind\": \"irq_loss\","
			     " \"trigger\": {\"cycle\": 30000}}]}"));
	while (ftc_faults_fired(r.dev) == 0 && jobs < 100000) {
		CHECK_EQ(write_and_wait(&r.c1, jobs % 256, jobs), MAGMA_STATUS_OK);
		jobs++;
	}
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	for (uint32_t i = 0; i < 8; i++) {
		CHECK_EQ(write_and_wait(&r.c1, i, 0x300u + i), MAGMA_STATUS_OK);
		CHECK_EQ(r.c1.cpu[i], 0x300u + i);
	}
	check_still_works(&r.c2);
	rig_close(&r);
}

/*
 * A host allocation of the model fails (model_alloc_failure, on connection 1's first submission):
 * a WRITE32 allocates nothing in the model and completes; the next DISPATCH (the model allocates
 * its workgroup state) faults COMPUTE_BAD_DISPATCH and that context dies, while connection 2's
 * dispatches run before and after.
 */
static void test_model_alloc_failure_hits_dispatch(void)
{
	struct rig r;

	REQUIRE(rig_open(&r, "{\"faults\": [{\"kind\": \"model_alloc_failure\","
			     " \"trigger\": {\"nth\": 1}, \"target\": {\"connection\": 1}}]}"));
	CHECK_EQ(ftc_dispatch(&r.c2, 4), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_wait(&r.c2), MAGMA_STATUS_OK);
	CHECK_EQ(write_and_wait(&r.c1, 0, 0x31u), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	CHECK_EQ(ftc_dispatch(&r.c1, 4), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_wait(&r.c1), MAGMA_STATUS_CONTEXT_KILLED);
	CHECK_EQ(ftc_fault_code(&r.c1), SIM_FAULT_COMPUTE_BAD_DISPATCH);
	CHECK_EQ(ftc_dispatch(&r.c2, 4), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_wait(&r.c2), MAGMA_STATUS_OK);
	rig_close(&r);
}

/*
 * permission_fault at a GPU cycle, aimed at connection 1: the clock passes the cycle while
 * connection 1 works, and its next job faults; connection 2 is untouched.
 */
static void test_permission_fault_at_cycle(void)
{
	struct rig r;
	magma_status_t s = MAGMA_STATUS_OK;
	uint32_t jobs = 0;

	REQUIRE(rig_open(&r,
			 "{\"faults\": [{\"kind\": \"permission_fault\","
			 " \"trigger\": {\"cycle\": 50000}, \"target\": {\"connection\": 1}}]}"));
	while (s == MAGMA_STATUS_OK && jobs < 100000) {
		s = write_and_wait(&r.c1, jobs % 256, jobs);
		jobs++;
	}
	CHECK_EQ(s, MAGMA_STATUS_CONTEXT_KILLED);
	CHECK(jobs > 1); /* cycle 50000 is not reached by the first job */
	CHECK_EQ(ftc_fault_code(&r.c1), SIM_FAULT_MMU_PERMISSION);
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	check_still_works(&r.c2);
	rig_close(&r);
}

/*
 * permission_fault on the first GPU access of connection 1 to a range (a TLB miss there): the
 * access that fires it has happened, so the job completes and connection 1's next job faults.
 * Connection 2 touching the same VAs in its own address space does not count.
 */
static void test_permission_fault_on_va_range(void)
{
	char plan[256];
	struct rig r;

	snprintf(
		plan, sizeof(plan),
		"{\"faults\": [{\"kind\": \"permission_fault\", \"trigger\": {\"va\": [%llu, %llu]},"
		" \"target\": {\"connection\": 1}}]}",
		(unsigned long long)(FTC_VA + 0x8000), (unsigned long long)(FTC_VA + 0x9000));
	REQUIRE(rig_open(&r, plan));
	CHECK_EQ(write_and_wait(&r.c2, 0x2000, 0x41u), MAGMA_STATUS_OK); /* connection 2's */
	CHECK_EQ(write_and_wait(&r.c1, 0, 0x42u), MAGMA_STATUS_OK);	 /* outside the range */
	CHECK_EQ(ftc_faults_fired(r.dev), 0);
	CHECK_EQ(write_and_wait(&r.c1, 0x2000, 0x43u), MAGMA_STATUS_OK); /* fires */
	CHECK_EQ(r.c1.cpu[0x2000], 0x43u);
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	CHECK_EQ(write_and_wait(&r.c1, 1, 0x44u), MAGMA_STATUS_CONTEXT_KILLED);
	CHECK_EQ(ftc_fault_code(&r.c1), SIM_FAULT_MMU_PERMISSION);
	check_still_works(&r.c2);
	rig_close(&r);
}

/* A target by process name (comm): this process's first submission, on whichever connection. */
static void test_mmu_fault_by_process_name(void)
{
	char comm[32] = "", plan[256];
	FILE *f = fopen("/proc/self/comm", "r");
	struct rig r;

	REQUIRE(f);
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	REQUIRE(comm[0]);
	snprintf(plan, sizeof(plan),
		 "{\"faults\": [{\"kind\": \"mmu_fault\", \"trigger\": {\"nth\": 1},"
		 " \"target\": {\"process\": \"%s\"}}, {\"kind\": \"cp_hang\","
		 " \"trigger\": {\"nth\": 1}, \"target\": {\"process\": \"not-%s\"}}]}",
		 comm, comm);
	REQUIRE(rig_open(&r, plan));
	CHECK_EQ(write_and_wait(&r.c2, 0, 0x51u), MAGMA_STATUS_CONTEXT_KILLED);
	CHECK_EQ(ftc_fault_code(&r.c2), SIM_FAULT_MMU_TRANSLATION);
	CHECK_EQ(ftc_faults_fired(r.dev), 1); /* the other process never submitted */
	CHECK_EQ(write_and_wait(&r.c1, 0, 0x52u), MAGMA_STATUS_OK);
	rig_close(&r);
}

/*
 * mmu_fault at connection 1's third GPU access ("of": "access": a TLB miss, the first touch of
 * a page since the slot was bound or flushed; the first job here makes two): connection 2's
 * work does not count; the job that fired it (the second) completes, the next one dies.
 */
static void test_mmu_fault_at_nth_access(void)
{
	struct rig r;

	REQUIRE(rig_open(&r, "{\"faults\": [{\"kind\": \"mmu_fault\", \"trigger\": {\"nth\": 3,"
			     " \"of\": \"access\"}, \"target\": {\"connection\": 1}}]}"));
	CHECK_EQ(write_and_wait(&r.c2, 0, 0x61u), MAGMA_STATUS_OK); /* connection 2's */
	CHECK_EQ(write_and_wait(&r.c1, 0, 0x62u), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_faults_fired(r.dev), 0);
	CHECK_EQ(write_and_wait(&r.c1, 0x3000, 0x63u), MAGMA_STATUS_OK); /* fires */
	CHECK_EQ(r.c1.cpu[0x3000], 0x63u);
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	CHECK_EQ(write_and_wait(&r.c1, 2, 0x64u), MAGMA_STATUS_CONTEXT_KILLED);
	CHECK_EQ(ftc_fault_code(&r.c1), SIM_FAULT_MMU_TRANSLATION);
	check_still_works(&r.c2);
	rig_close(&r);
}

/*
 * cp_hang at the second call of one entry point ("of": "call", "call": ...): other calls do not
 * count, the second inline submission of connection 1 hangs and recovery kills its context.
 */
static void test_cp_hang_at_nth_call_of_an_entry_point(void)
{
	struct rig r;

	REQUIRE(rig_open(&r,
			 "{\"faults\": [{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 2,"
			 " \"of\": \"call\", \"call\": \"msd_context_execute_inline_commands\"},"
			 " \"target\": {\"connection\": 1}}]}"));
	CHECK_EQ(write_and_wait(&r.c1, 0, 0x71u), MAGMA_STATUS_OK);
	CHECK_EQ(ftc_faults_fired(r.dev), 0); /* map, import and create calls did not count */
	CHECK_EQ(write_and_wait(&r.c1, 1, 0x72u), MAGMA_STATUS_CONTEXT_KILLED);
	CHECK_EQ(ftc_fault_code(&r.c1), MAGMA_SIM_FAULT_HANG);
	CHECK_EQ(ftc_faults_fired(r.dev), 1);
	check_still_works(&r.c2);
	rig_close(&r);
}

/*
 * mmu_fault at the first GPU reset ("of": "reset", during recovery): connection 1 hangs its queue
 * (cp_hang), recovery resets the GPU, which fires the MMU fault at connection 2's next job.
 */
static void test_mmu_fault_during_a_reset(void)
{
	struct rig r;

	REQUIRE(rig_open(&r, "{\"faults\": [{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1},"
			     " \"target\": {\"connection\": 1}}, {\"kind\": \"mmu_fault\","
			     " \"trigger\": {\"nth\": 1, \"of\": \"reset\"},"
			     " \"target\": {\"connection\": 2}}]}"));
	CHECK_EQ(write_and_wait(&r.c2, 0, 0x81u), MAGMA_STATUS_OK); /* no reset yet */
	CHECK_EQ(write_and_wait(&r.c1, 0, 0x82u), MAGMA_STATUS_CONTEXT_KILLED);
	CHECK_EQ(ftc_fault_code(&r.c1), MAGMA_SIM_FAULT_HANG);
	CHECK_EQ(ftc_faults_fired(r.dev), 2); /* the hang, then the reset's */
	CHECK_EQ(write_and_wait(&r.c2, 1, 0x83u), MAGMA_STATUS_CONTEXT_KILLED);
	CHECK_EQ(ftc_fault_code(&r.c2), SIM_FAULT_MMU_TRANSLATION);
	rig_close(&r);
}

/* Faults make the driver log a lot: quiet unless FAULT_TEST_VERBOSE. */
static int process_setup(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (!getenv("FAULT_TEST_VERBOSE"))
		setenv("MAGMA_SYSTEM_QUIET", "1", 1); /* faults make the driver log a lot */
	return SIM_TEST_CONTINUE;
}

static const struct sim_test tests[] = {
	SIM_TEST(test_mmu_fault_second_submission),
	SIM_TEST(test_cp_hang_every_second_submission),
	SIM_TEST(test_dma_error_on_fill),
	SIM_TEST(test_dma_error_lapses_with_its_job),
	SIM_TEST(test_reset_failure_escalates),
	SIM_TEST(test_irq_delay_work_completes),
	SIM_TEST(test_irq_loss_work_completes),
	SIM_TEST(test_irq_loss_at_cycle_work_completes),
	SIM_TEST(test_model_alloc_failure_hits_dispatch),
	SIM_TEST(test_permission_fault_at_cycle),
	SIM_TEST(test_permission_fault_on_va_range),
	SIM_TEST(test_mmu_fault_by_process_name),
	SIM_TEST(test_mmu_fault_at_nth_access),
	SIM_TEST(test_cp_hang_at_nth_call_of_an_entry_point),
	SIM_TEST(test_mmu_fault_during_a_reset),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.process_setup = process_setup,
};
