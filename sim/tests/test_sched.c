/* SPDX-License-Identifier: MIT */
/*
 * test_sched.c - the shared execution engine, Q_PRIORITY arbitration, preemption points inside
 * long commands (STOP between workgroups and copy chunks, RESUME where it stopped) and the
 * Q_PROGRESS counter a driver's hang check reads.
 *
 * Each test builds a device with the tiny host driver, places command buffers at CMD_VA
 * (read-only), data at DATA_VA (read-write) and programs at PROG_VA (execute) in slot 0, gives
 * queues 0..2 a ring, and then checks exact cycle stamps of events, registers and memory. The
 * TLB is warmed by one job per queue first where cycle stamps are checked, so every unit costs
 * exactly its timing-table value (default timing).
 */
#include <stdlib.h>

#include "sim/sim_isa.h"
#include "sim_test.h"
#include "sim_test_util.h"

#define CMD_VA	  0x4001000ull /* pages in different TLB sets from the rings' */
#define DATA_VA	  0x20004000ull
#define PROG_VA	  0x30008000ull
#define CMD_SIZE  (64u * 1024u)
#define DATA_SIZE (1024u * 1024u)
#define PROG_SIZE (64u * 1024u)
#define MAX_RUN	  100000000ull

/* Default timing (sim_config_default). */
#define T_JOB_START 64
#define T_JOB_END   16
#define T_HDR	    4
#define T_DW	    1
#define T_LINE	    4
#define T_POLL	    32
#define T_W32	    (T_HDR + 3 * T_DW + T_LINE) /* WRITE32 with a warm TLB */
#define T_END	    (T_HDR + T_JOB_END)		/* END, completing the job */

#define MAX_EV 256

struct ev {
	enum sim_event_type type;
	uint32_t unit, code;
	uint64_t cycle;
};

static const struct simt_fix_layout layout = {
	.cmd_va = CMD_VA,
	.cmd_size = CMD_SIZE,
	.data_va = DATA_VA,
	.data_size = DATA_SIZE,
	.prog_va = PROG_VA,
	.prog_size = PROG_SIZE,
	.queues = 3,
};

/* The events of the device under test since subscribe(); tests run one device at a time. */
static struct evlog {
	struct ev ev[MAX_EV];
	uint32_t nev;
} evlog;

static void on_event(void *ctx, const struct sim_event *e)
{
	struct evlog *log = ctx;

	if (log->nev < MAX_EV)
		log->ev[log->nev++] = (struct ev){e->type, e->unit, e->code, e->cycle};
}

static uint32_t rd(struct simt_fix *f, uint32_t off)
{
	return simt_read32(f->t, off);
}

/* Job of @writes WRITE32s (value q * 100 + i at DATA_VA + 64 * q + 4 * i) and END at @off. */
static uint32_t emit_writes(struct simt_fix *f, uint32_t off, uint32_t q, uint32_t writes)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < writes; i++)
		n += sim_cmd_emit_write32(simt_fix_cmd(f, off + n * 4), DATA_VA + 64 * q + 4 * i,
					  q * 100 + i);
	n += sim_cmd_emit_end(simt_fix_cmd(f, off + n * 4));
	return n * 4;
}

/* One job per queue 0..2 so that ring, command and data pages are in the TLB. */
static void warm_up(struct simt_fix *f)
{
	for (uint32_t q = 0; q < 3; q++) {
		uint32_t bytes = emit_writes(f, 0x800 + 0x100 * q, q, 1);

		REQUIRE(!simt_submit(f->t, q, 0, CMD_VA + 0x800 + 0x100 * q, bytes, q + 1, 0));
	}
	REQUIRE(!simt_run(f->t, MAX_RUN));
}

static void subscribe(struct simt_fix *f)
{
	evlog.nev = 0;
	sim_events_subscribe(f->dev,
			     SIM_EV_MASK(SIM_EV_CMD) | SIM_EV_MASK(SIM_EV_JOB_START) |
				     SIM_EV_MASK(SIM_EV_JOB_END),
			     on_event, &evlog);
}

static void check_events(const struct ev *want, uint32_t n)
{
	CHECK_EQ(evlog.nev, n);
	for (uint32_t i = 0; i < n && i < evlog.nev; i++) {
		if (evlog.ev[i].type != want[i].type || evlog.ev[i].unit != want[i].unit ||
		    evlog.ev[i].cycle != want[i].cycle || evlog.ev[i].code != want[i].code)
			fprintf(stderr,
				"event %u: type %d q%u code %u @%llu, want %d q%u %u @%llu\n", i,
				evlog.ev[i].type, evlog.ev[i].unit, evlog.ev[i].code,
				(unsigned long long)evlog.ev[i].cycle, want[i].type, want[i].unit,
				want[i].code, (unsigned long long)want[i].cycle);
		CHECK_EQ(evlog.ev[i].type, want[i].type);
		CHECK_EQ(evlog.ev[i].unit, want[i].unit);
		CHECK_EQ(evlog.ev[i].code, want[i].code);
		CHECK_EQ(evlog.ev[i].cycle, want[i].cycle);
	}
}

/* clang-format off */
#define JS(q, t)  {SIM_EV_JOB_START, (q), 0, (t)}
#define JE(q, t)  {SIM_EV_JOB_END, (q), 0, (t)}
#define W32(q, t) {SIM_EV_CMD, (q), SIM_CMD_WRITE32, (t)}
#define END(q, t) {SIM_EV_CMD, (q), SIM_CMD_END, (t)}
/* clang-format on */

static void test_features_and_priority_register(void)
{
	struct simt_fix f;
	uint32_t errs;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	CHECK_EQ(rd(&f, SIM_GPU_FEATURES) &
			 (SIM_FEATURE_PREEMPT_DISPATCH | SIM_FEATURE_SHARED_ENGINE),
		 SIM_FEATURE_PREEMPT_DISPATCH | SIM_FEATURE_SHARED_ENGINE);
	CHECK_EQ(rd(&f, SIM_Q_PRIORITY(1)), 0);
	errs = rd(&f, SIM_GPU_GUEST_ERRORS);
	simt_write32(f.t, SIM_Q_PRIORITY(1), 3);
	CHECK_EQ(rd(&f, SIM_Q_PRIORITY(1)), 3);
	CHECK_EQ(rd(&f, SIM_GPU_GUEST_ERRORS), errs);
	simt_write32(f.t, SIM_Q_PRIORITY(1), 6); /* masked to 2, guest error */
	CHECK_EQ(rd(&f, SIM_Q_PRIORITY(1)), 2);
	CHECK_EQ(rd(&f, SIM_GPU_GUEST_ERRORS), errs + 1);
	/* Read-only registers ignore writes. */
	simt_write32(f.t, SIM_Q_PROGRESS(1), 5);
	simt_write32(f.t, SIM_Q_RESUME_GROUP(1), 5);
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(1)), 0);
	CHECK_EQ(rd(&f, SIM_Q_RESUME_GROUP(1)), 0);
	/* Soft reset keeps the priority, hard reset clears it. */
	simt_write32(f.t, SIM_GPU_COMMAND, SIM_GPU_COMMAND_SOFT_RESET);
	REQUIRE(!simt_run(f.t, MAX_RUN));
	CHECK_EQ(rd(&f, SIM_Q_PRIORITY(1)), 2);
	simt_write32(f.t, SIM_GPU_COMMAND, SIM_GPU_COMMAND_HARD_RESET);
	REQUIRE(!simt_run(f.t, MAX_RUN));
	CHECK_EQ(rd(&f, SIM_Q_PRIORITY(1)), 0);
	simt_fix_fini(&f);
}

/* Equal priorities: the engine alternates between the two queues unit by unit. */
static void test_equal_priority_round_robin(void)
{
	struct simt_fix f;
	uint32_t b0, b1;
	uint64_t t;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	warm_up(&f);
	b0 = emit_writes(&f, 0x400, 0, 3);
	b1 = emit_writes(&f, 0x500, 1, 3);
	subscribe(&f);
	t = sim_clock_now(f.dev);
	/* The engine served queue 2 last, so queue 0 goes first. */
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x400, b0, 10, 0));
	REQUIRE(!simt_submit(f.t, 1, 0, CMD_VA + 0x500, b1, 11, 0));
	REQUIRE(!simt_run(f.t, MAX_RUN));
	{
		const uint64_t s = T_JOB_START;
		const struct ev want[] = {
			JS(0, t),
			JS(1, t + s),
			W32(0, t + 2 * s),
			W32(1, t + 2 * s + T_W32),
			W32(0, t + 2 * s + 2 * T_W32),
			W32(1, t + 2 * s + 3 * T_W32),
			W32(0, t + 2 * s + 4 * T_W32),
			W32(1, t + 2 * s + 5 * T_W32),
			END(0, t + 2 * s + 6 * T_W32),
			JE(0, t + 2 * s + 6 * T_W32),
			END(1, t + 2 * s + 6 * T_W32 + T_END),
			JE(1, t + 2 * s + 6 * T_W32 + T_END),
		};

		check_events(want, sizeof(want) / sizeof(want[0]));
		/* The engine never runs two units at once: total = sum of all units. */
		CHECK_EQ(sim_clock_now(f.dev), t + 2 * s + 6 * T_W32 + 2 * T_END);
	}
	CHECK_EQ(simt_fix_data32(&f, 8), 2);
	CHECK_EQ(simt_fix_data32(&f, 64 + 8), 102);
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(0)), 2 + 4);
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(1)), 2 + 4);
	simt_fix_fini(&f);
}

/* A higher-priority job submitted while a low one runs takes the engine at the next unit. */
static void test_higher_priority_runs_to_completion(void)
{
	struct simt_fix f;
	uint32_t b0, b1;
	uint64_t t;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	warm_up(&f);
	simt_write32(f.t, SIM_Q_PRIORITY(1), 2);
	b0 = emit_writes(&f, 0x400, 0, 3);
	b1 = emit_writes(&f, 0x500, 1, 2);
	subscribe(&f);
	t = sim_clock_now(f.dev);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x400, b0, 10, 0));
	/* Queue 0 fetched its job and is one cycle into its first WRITE32. */
	REQUIRE(!sim_clock_step(f.dev, T_JOB_START + 1));
	REQUIRE(!simt_submit(f.t, 1, 0, CMD_VA + 0x500, b1, 11, 0));
	REQUIRE(!simt_run(f.t, MAX_RUN));
	{
		const uint64_t u = t + T_JOB_START + T_W32;		/* queue 0's WRITE32 ends */
		const uint64_t e = u + T_JOB_START + 2 * T_W32 + T_END; /* queue 1's job ends */
		const struct ev want[] = {
			JS(0, t),
			W32(0, t + T_JOB_START),
			JS(1, u),
			W32(1, u + T_JOB_START),
			W32(1, u + T_JOB_START + T_W32),
			END(1, u + T_JOB_START + 2 * T_W32),
			JE(1, u + T_JOB_START + 2 * T_W32),
			W32(0, e),
			W32(0, e + T_W32),
			END(0, e + 2 * T_W32),
			JE(0, e + 2 * T_W32),
		};

		check_events(want, sizeof(want) / sizeof(want[0]));
	}
	simt_fix_fini(&f);
}

/* Equal priorities still take turns when one queue has a much longer job. */
static void test_priority_then_round_robin_by_queue(void)
{
	struct simt_fix f;
	uint32_t b[3];
	uint64_t t;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	warm_up(&f);
	simt_write32(f.t, SIM_Q_PRIORITY(0), 1);
	simt_write32(f.t, SIM_Q_PRIORITY(1), 1);
	for (uint32_t q = 0; q < 3; q++)
		b[q] = emit_writes(&f, 0x400 + 0x100 * q, q, 1);
	subscribe(&f);
	t = sim_clock_now(f.dev);
	for (uint32_t q = 0; q < 3; q++)
		REQUIRE(!simt_submit(f.t, q, 0, CMD_VA + 0x400 + 0x100 * q, b[q], 20 + q, 0));
	REQUIRE(!simt_run(f.t, MAX_RUN));
	{
		const uint64_t s = T_JOB_START;
		/* Queues 0 and 1 (priority 1) alternate; queue 2 (priority 0) waits for both. */
		const struct ev want[] = {
			JS(0, t),
			JS(1, t + s),
			W32(0, t + 2 * s),
			W32(1, t + 2 * s + T_W32),
			END(0, t + 2 * s + 2 * T_W32),
			JE(0, t + 2 * s + 2 * T_W32),
			END(1, t + 2 * s + 2 * T_W32 + T_END),
			JE(1, t + 2 * s + 2 * T_W32 + T_END),
			JS(2, t + 2 * s + 2 * T_W32 + 2 * T_END),
			W32(2, t + 3 * s + 2 * T_W32 + 2 * T_END),
			END(2, t + 3 * s + 3 * T_W32 + 2 * T_END),
			JE(2, t + 3 * s + 3 * T_W32 + 2 * T_END),
		};

		check_events(want, sizeof(want) / sizeof(want[0]));
	}
	simt_fix_fini(&f);
}

/* A queue polling a WAIT does not hold the engine; another queue runs at full speed. */
static void test_waiting_queue_does_not_block_engine(void)
{
	struct simt_fix f;
	uint32_t n, b1, progress;
	uint64_t t;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	warm_up(&f);
	n = sim_cmd_emit_wait(simt_fix_cmd(&f, 0x400), DATA_VA + 0x800, 1, SIM_CMD_WAIT_EQ);
	n += sim_cmd_emit_write32(simt_fix_cmd(&f, 0x400 + n * 4), DATA_VA + 0x804, 7);
	n += sim_cmd_emit_end(simt_fix_cmd(&f, 0x400 + n * 4));
	b1 = emit_writes(&f, 0x500, 1, 3);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x400, n * 4, 10, 0));
	REQUIRE(!sim_clock_step(f.dev, 1000));
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_WAITING);
	progress = rd(&f, SIM_Q_PROGRESS(0));
	subscribe(&f);
	t = sim_clock_now(f.dev);
	REQUIRE(!simt_submit(f.t, 1, 0, CMD_VA + 0x500, b1, 11, 0));
	REQUIRE(!sim_clock_step(f.dev, 1000));
	{
		const struct ev want[] = {
			JS(1, t),
			W32(1, t + T_JOB_START),
			W32(1, t + T_JOB_START + T_W32),
			W32(1, t + T_JOB_START + 2 * T_W32),
			END(1, t + T_JOB_START + 3 * T_W32),
			JE(1, t + T_JOB_START + 3 * T_W32),
		};

		check_events(want, sizeof(want) / sizeof(want[0]));
	}
	/* The WAIT never completed: no progress in 2000 cycles of polling. */
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_WAITING);
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(0)), progress);
	((uint32_t *)f.data->host)[0x800 / 4] = 1;
	REQUIRE(!simt_run(f.t, MAX_RUN));
	CHECK_EQ(simt_fix_data32(&f, 0x804), 7);
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(0)), progress + 3);
	simt_fix_fini(&f);
}

/* The poll interval after a WAIT's failed first check is off the engine too. */
static void test_wait_command_frees_engine_at_once(void)
{
	struct simt_fix f;
	uint32_t n, b1;
	uint64_t t;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	warm_up(&f);
	n = sim_cmd_emit_wait(simt_fix_cmd(&f, 0x400), DATA_VA + 0x800, 1, SIM_CMD_WAIT_EQ);
	n += sim_cmd_emit_end(simt_fix_cmd(&f, 0x400 + n * 4));
	b1 = emit_writes(&f, 0x500, 1, 2);
	subscribe(&f);
	t = sim_clock_now(f.dev);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x400, n * 4, 10, 0));
	REQUIRE(!simt_submit(f.t, 1, 0, CMD_VA + 0x500, b1, 11, 0));
	REQUIRE(!sim_clock_step(f.dev, 1000));
	{
		const uint64_t s = T_JOB_START, w = T_HDR + 4 * T_DW; /* WAIT, word not met */
		const struct ev want[] = {
			JS(0, t),
			JS(1, t + s),
			{SIM_EV_CMD, 0, SIM_CMD_WAIT, t + 2 * s},
			W32(1, t + 2 * s + w),
			W32(1, t + 2 * s + w + T_W32),
			END(1, t + 2 * s + w + 2 * T_W32),
			JE(1, t + 2 * s + w + 2 * T_W32),
		};

		check_events(want, sizeof(want) / sizeof(want[0]));
	}
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_WAITING);
	simt_fix_fini(&f);
}

/* An injected hang burns its own time only: the other queue's job is not delayed. */
static void test_hung_queue_progress_still(void)
{
	struct simt_fix f;
	struct sim_inject inj = {.kind = SIM_INJECT_CP_HANG, .target = 0};
	uint32_t b0, b1;
	uint64_t t;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	warm_up(&f);
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(0)), 2);
	REQUIRE(!sim_inject_fault(f.dev, &inj));
	b0 = emit_writes(&f, 0x400, 0, 3);
	b1 = emit_writes(&f, 0x500, 1, 1);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x400, b0, 10, 0));
	REQUIRE(!sim_clock_step(f.dev, 5000));
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_RUNNING);
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(0)), 2);
	t = sim_clock_now(f.dev);
	REQUIRE(!simt_submit(f.t, 1, 0, CMD_VA + 0x500, b1, 11, 0));
	REQUIRE(!sim_clock_step(f.dev, T_JOB_START + T_W32 + T_END));
	CHECK_EQ(rd(&f, SIM_Q_SEQNO_LO(1)), 11);
	CHECK_EQ(sim_clock_now(f.dev), t + T_JOB_START + T_W32 + T_END);
	REQUIRE(!sim_clock_step(f.dev, 100000));
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(0)), 2);
	CHECK_EQ(rd(&f, SIM_Q_SEQNO_LO(0)), 1);
	/* RESET clears the counter. */
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESET);
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(0)), 0);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	simt_fix_fini(&f);
}

/* Assemble @src to PROG_VA. Returns the instruction count or 0. */
static uint32_t load_prog(struct simt_fix *f, const char *src)
{
	uint64_t *code = NULL;
	uint32_t n = 0;
	char err[128];

	if (sim_asm_assemble(src, &code, &n, err, sizeof(err))) {
		fprintf(stderr, "assembly failed: %s\n", err);
		return 0;
	}
	if (n * 8ull > PROG_SIZE)
		n = 0;
	else
		memcpy(f->prog->host, code, n * 8ull);
	free(code);
	return n;
}

/* out[gid] = gid * 3 + 7, out at DATA_VA; @pad extra adds make each group longer. */
static uint32_t load_kernel(struct simt_fix *f, uint32_t pad)
{
	size_t size = 256 + 32ull * pad, len;
	char *src = malloc(size);
	uint32_t n;

	if (!src)
		return 0;
	len = (size_t)snprintf(src, size, "shl r10, r2, 2\nmul r6, r2, 3\n");
	for (uint32_t i = 0; i < pad; i++)
		len += (size_t)snprintf(src + len, size - len, "add r7, r7, 1\n");
	snprintf(src + len, size - len, "add r6, r6, 7\nstx r0, r10, r6, 0\nexit\n");
	n = load_prog(f, src);
	free(src);
	return n;
}

static void check_kernel_output(struct simt_fix *f, uint32_t invocations)
{
	uint32_t bad = 0;

	for (uint32_t i = 0; i < invocations; i++)
		bad += simt_fix_data32(f, 4 * i) != i * 3 + 7;
	CHECK_EQ(bad, 0);
	CHECK_EQ(simt_fix_data32(f, 4 * invocations), 0);
}

/*
 * Preempt a long low-priority DISPATCH between workgroups, run a high-priority job to
 * completion, RESUME: the dispatch finishes with complete, correct results.
 */
static void test_preempt_dispatch_and_resume(void)
{
	const uint32_t groups = 64, lanes = 16;
	struct simt_fix f;
	uint32_t count, n, b1, next, progress;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	count = load_kernel(&f, 100);
	REQUIRE(count);
	simt_write32(f.t, SIM_Q_PRIORITY(1), 3);
	n = sim_cmd_emit_dispatch(simt_fix_cmd(&f, 0x400), PROG_VA, count, DATA_VA, groups, 1,
				  lanes);
	n += sim_cmd_emit_end(simt_fix_cmd(&f, 0x400 + n * 4));
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x400, n * 4, 10, 0));
	REQUIRE(!sim_clock_step(f.dev, 2000));
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_RUNNING);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_STOP);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_STOPPED);
	CHECK(rd(&f, SIM_GPU_IRQ_RAWSTAT) & SIM_IRQ_QUEUE_STOPPED(0));
	next = rd(&f, SIM_Q_RESUME_GROUP(0));
	REQUIRE(next > 0 && next < groups);
	/* PROGRESS counted the finished workgroups; the DISPATCH itself is not done yet. */
	progress = rd(&f, SIM_Q_PROGRESS(0));
	CHECK_EQ(progress, next);
	CHECK_EQ(sim_mmio_read64(f.dev, SIM_Q_CMD_PTR_LO(0)), CMD_VA + 0x400);
	CHECK_EQ(rd(&f, SIM_Q_CMD_REMAIN(0)), n * 4);
	CHECK_EQ(simt_fix_data32(&f, 4 * lanes * next - 4), lanes * next * 3 - 3 + 7);
	CHECK_EQ(simt_fix_data32(&f, 4 * lanes * next), 0);

	/* The high-priority job runs while queue 0 stays stopped, its dispatch untouched. */
	b1 = emit_writes(&f, 0x500, 1, 2);
	for (uint32_t i = 0; i < 2; i++)
		memcpy(simt_fix_cmd(&f, 0x500 + 16 * i + 4), &(uint64_t){DATA_VA + 0x4000 + 4 * i},
		       8);
	REQUIRE(!simt_submit(f.t, 1, 0, CMD_VA + 0x500, b1, 11, 0));
	REQUIRE(!simt_run(f.t, MAX_RUN));
	CHECK_EQ(rd(&f, SIM_Q_SEQNO_LO(1)), 11);
	CHECK_EQ(simt_fix_data32(&f, 0x4004), 101);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_STOPPED);
	CHECK_EQ(rd(&f, SIM_Q_RESUME_GROUP(0)), next);
	CHECK_EQ(simt_fix_data32(&f, 4 * lanes * next), 0);

	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESUME);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_RUNNING);
	CHECK_EQ(rd(&f, SIM_Q_RESUME_GROUP(0)), 0);
	REQUIRE(!simt_run(f.t, MAX_RUN));
	CHECK_EQ(rd(&f, SIM_Q_SEQNO_LO(0)), 10);
	check_kernel_output(&f, groups * lanes);
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(0)), groups + 2); /* workgroups, DISPATCH, END */
	simt_fix_fini(&f);
}

/* STOP while a long workgroup runs takes effect when that workgroup ends. */
static void test_stop_waits_for_workgroup(void)
{
	const uint32_t groups = 4, lanes = 8;
	struct simt_fix f;
	uint32_t count, n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	count = load_kernel(&f, 6000); /* > 4096 instructions: each group takes two steps */
	REQUIRE(count);
	n = sim_cmd_emit_dispatch(simt_fix_cmd(&f, 0x400), PROG_VA, count, DATA_VA, groups, 1,
				  lanes);
	n += sim_cmd_emit_end(simt_fix_cmd(&f, 0x400 + n * 4));
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x400, n * 4, 10, 0));
	/* Step into the first group (job start, DISPATCH with the first 4096 instructions). */
	REQUIRE(!sim_clock_step(f.dev, 1000));
	CHECK_EQ(simt_fix_data32(&f, 0), 0);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_STOP);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_RUNNING);
	CHECK(!(rd(&f, SIM_GPU_IRQ_RAWSTAT) & SIM_IRQ_QUEUE_STOPPED(0)));
	REQUIRE(!simt_run(f.t, MAX_RUN));
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_STOPPED);
	CHECK_EQ(rd(&f, SIM_Q_RESUME_GROUP(0)), 1);
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(0)), 1);
	CHECK_EQ(simt_fix_data32(&f, 4 * (lanes - 1)), (lanes - 1) * 3 + 7);
	CHECK_EQ(simt_fix_data32(&f, 4 * lanes), 0);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESUME);
	REQUIRE(!simt_run(f.t, MAX_RUN));
	check_kernel_output(&f, groups * lanes);
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(0)), groups + 2);
	simt_fix_fini(&f);
}

/* RESET drops a preempted dispatch (the saved context) and its job. */
static void test_reset_drops_preempted_dispatch(void)
{
	struct simt_fix f;
	uint32_t count, n, b;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	count = load_kernel(&f, 100);
	REQUIRE(count);
	n = sim_cmd_emit_dispatch(simt_fix_cmd(&f, 0x400), PROG_VA, count, DATA_VA, 64, 1, 16);
	n += sim_cmd_emit_end(simt_fix_cmd(&f, 0x400 + n * 4));
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x400, n * 4, 10, 0));
	REQUIRE(!sim_clock_step(f.dev, 2000));
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_STOP);
	CHECK(rd(&f, SIM_Q_RESUME_GROUP(0)) > 0);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESET);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_IDLE);
	CHECK_EQ(rd(&f, SIM_Q_RESUME_GROUP(0)), 0);
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(0)), 0);
	CHECK_EQ(rd(&f, SIM_Q_SEQNO_LO(0)), 0);
	/* The queue takes new work normally. */
	b = emit_writes(&f, 0x500, 0, 1);
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x500, b, 11, 0));
	REQUIRE(!simt_run(f.t, MAX_RUN));
	CHECK_EQ(rd(&f, SIM_Q_SEQNO_LO(0)), 11);
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(0)), 2);
	simt_fix_fini(&f);
}

/* STOP in a long COPY takes effect at the next 64 KiB chunk boundary; RESUME completes it. */
static void test_stop_copy_at_chunk(void)
{
	const uint32_t size = 256 * 1024;
	struct simt_fix f;
	uint8_t *d;
	uint32_t n, bad = 0;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	d = f.data->host;
	for (uint32_t i = 0; i < size; i++)
		d[i] = (uint8_t)(i * 7 + (i >> 12));
	n = sim_cmd_emit_copy(simt_fix_cmd(&f, 0x400), DATA_VA + 512 * 1024, DATA_VA, size);
	n += sim_cmd_emit_end(simt_fix_cmd(&f, 0x400 + n * 4));
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x400, n * 4, 10, 0));
	/* Job start (with its TLB walk) and one cycle into the first chunk. */
	REQUIRE(!sim_clock_step(f.dev, T_JOB_START + 4 * 24 + 1));
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(0)), 1);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_STOP);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_STOPPED);
	REQUIRE(!simt_run(f.t, MAX_RUN));
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_STOPPED);
	CHECK_EQ(d[512 * 1024 + 64 * 1024 - 1], d[64 * 1024 - 1]);
	CHECK_EQ(d[512 * 1024 + 64 * 1024], 0);
	CHECK_EQ(sim_mmio_read64(f.dev, SIM_Q_CMD_PTR_LO(0)), CMD_VA + 0x400);
	CHECK_EQ(rd(&f, SIM_Q_CMD_REMAIN(0)), n * 4);
	CHECK_EQ(rd(&f, SIM_Q_RESUME_GROUP(0)), 0);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESUME);
	REQUIRE(!simt_run(f.t, MAX_RUN));
	for (uint32_t i = 0; i < size; i++)
		bad += d[512 * 1024 + i] != d[i];
	CHECK_EQ(bad, 0);
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(0)), 4 + 2); /* 4 chunks, COPY, END */
	CHECK_EQ(rd(&f, SIM_Q_SEQNO_LO(0)), 10);
	simt_fix_fini(&f);
}

/* STOP while polling a WAIT rewinds it: CMD_PTR at the WAIT, RESUME issues it again. */
static void test_stop_rewinds_wait(void)
{
	struct simt_fix f;
	uint32_t n;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	n = sim_cmd_emit_nop(simt_fix_cmd(&f, 0x400), 0);
	n += sim_cmd_emit_wait(simt_fix_cmd(&f, 0x400 + n * 4), DATA_VA + 0x800, 1,
			       SIM_CMD_WAIT_EQ);
	n += sim_cmd_emit_end(simt_fix_cmd(&f, 0x400 + n * 4));
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + 0x400, n * 4, 10, 0));
	REQUIRE(!sim_clock_step(f.dev, 2000));
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_WAITING);
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(0)), 1);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_STOP);
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_STOPPED);
	CHECK_EQ(sim_mmio_read64(f.dev, SIM_Q_CMD_PTR_LO(0)), CMD_VA + 0x404);
	CHECK_EQ(rd(&f, SIM_Q_CMD_REMAIN(0)), n * 4 - 4);
	CHECK_EQ(rd(&f, SIM_Q_RESUME_GROUP(0)), 0);
	((uint32_t *)f.data->host)[0x800 / 4] = 1;
	REQUIRE(!simt_run(f.t, MAX_RUN));
	CHECK_EQ(simt_qstate(f.t, 0), SIM_Q_STATE_STOPPED);
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(0)), 1);
	simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESUME);
	REQUIRE(!simt_run(f.t, MAX_RUN));
	CHECK_EQ(rd(&f, SIM_Q_SEQNO_LO(0)), 10);
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(0)), 3); /* NOP, WAIT, END */
	simt_fix_fini(&f);
}

/* PROGRESS per unit kind: one per command, one per copy chunk, one per workgroup. */
static void test_progress_counts_units(void)
{
	struct simt_fix f;
	uint32_t count, n = 0, o = 0x400;

	REQUIRE(!simt_fix_init(&f, NULL, &layout));
	count = load_kernel(&f, 0);
	REQUIRE(count);
	n += sim_cmd_emit_nop(simt_fix_cmd(&f, o), 2);
	n += sim_cmd_emit_fill(simt_fix_cmd(&f, o + n * 4), DATA_VA + 0x40000, 3 * 64 * 1024 + 1,
			       1);
	n += sim_cmd_emit_dispatch(simt_fix_cmd(&f, o + n * 4), PROG_VA, count, DATA_VA, 5, 1, 4);
	n += sim_cmd_emit_fill(simt_fix_cmd(&f, o + n * 4), DATA_VA + 0x40000, 0, 1);
	n += sim_cmd_emit_end(simt_fix_cmd(&f, o + n * 4));
	REQUIRE(!simt_submit(f.t, 0, 0, CMD_VA + o, n * 4, 10, 0));
	REQUIRE(!simt_run(f.t, MAX_RUN));
	CHECK_EQ(rd(&f, SIM_Q_SEQNO_LO(0)), 10);
	/* NOP 1, FILL 1 + 4 chunks, DISPATCH 1 + 5 groups, empty FILL 1, END 1. */
	CHECK_EQ(rd(&f, SIM_Q_PROGRESS(0)), 1 + 5 + 6 + 1 + 1);
	simt_fix_fini(&f);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_features_and_priority_register),
	SIM_TEST(test_equal_priority_round_robin),
	SIM_TEST(test_higher_priority_runs_to_completion),
	SIM_TEST(test_priority_then_round_robin_by_queue),
	SIM_TEST(test_waiting_queue_does_not_block_engine),
	SIM_TEST(test_wait_command_frees_engine_at_once),
	SIM_TEST(test_hung_queue_progress_still),
	SIM_TEST(test_preempt_dispatch_and_resume),
	SIM_TEST(test_stop_waits_for_workgroup),
	SIM_TEST(test_reset_drops_preempted_dispatch),
	SIM_TEST(test_stop_copy_at_chunk),
	SIM_TEST(test_stop_rewinds_wait),
	SIM_TEST(test_progress_counts_units),
};
SIM_TEST_SUITE(tests);
