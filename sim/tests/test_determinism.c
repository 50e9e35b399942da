/* SPDX-License-Identifier: MIT */
/*
 * test_determinism.c - the same inputs give the same cycles, events and memory, every time.
 *
 * Traces are replayed and byte-compared against golden files, so the model must be a pure
 * function of what the host does. One workload exercises most of the machine: three queues,
 * copies that cross 64 KiB chunks at odd alignment, a fill, a compute kernel whose ATOMADDs
 * depend on lane order, a WAIT on one queue released by a SIGNAL from another, timestamps, an
 * INTERRUPT and an MMU fault. It runs on fresh devices with a subscriber recording every event
 * (type, cycle, unit, code, value, value2, name, log text), and the test compares the final
 * cycle count, statistics, every register, the event streams and all memory byte for byte:
 * twice in a row, and on two devices driven interleaved from one thread (set-up, submission
 * and clock steps alternating), which would expose any state shared between devices. The same
 * is repeated with different Q_PRIORITY values on the busy queues, so the engine arbitration is
 * covered too. A separate test checks the workload really did its work, so the comparisons are
 * not vacuous.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "sim/sim_cmd.h"
#include "sim/sim_isa.h"
#include "sim_test.h"
#include "sim_test_util.h"

#define DET_AS		1	    /* jobs; rings live in slot 0 */
#define DET_CMD_VA	0x100000ull /* 3 pages, one job per queue */
#define DET_SRC_VA	0x200000ull /* 256 KiB */
#define DET_DST_VA	0x300000ull /* 256 KiB */
#define DET_SEM_VA	0x400000ull /* u32 sem at 0, u64 counter at 8, timestamps at 16, 24 */
#define DET_PROG_VA	0x500000ull
#define DET_ARGS_VA	0x600000ull
#define DET_OUT_VA	0x700000ull /* 32 KiB: i*i at 0, ATOMADD results at 0x4000, sum at 0x7000 */
#define DET_BAD_VA	0xdead0000ull
#define DET_GROUPS	16
#define DET_LANES	32
#define DET_INVOCATIONS (DET_GROUPS * DET_LANES)
#define DET_STEP	3000
#define DET_MAX_STEPS	100000
#define DET_CAP		100000000ull

struct det_event {
	enum sim_event_type type;
	uint64_t cycle;
	uint32_t unit, code;
	uint64_t value, value2;
	const char *name;
	uint32_t text_hash;
};

struct det_run {
	struct simt *t;
	struct simt_buf *cmd, *src, *dst, *sem, *prog, *args, *out;
	uint32_t job_bytes[3];
	struct det_event *ev;
	size_t nev, cap;
	bool oom;
	int sub; /* event subscription, -1 once the run is over */
};

static uint32_t det_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static void det_on_event(void *ctx, const struct sim_event *ev)
{
	struct det_run *r = ctx;

	if (r->nev == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 4096;
		struct det_event *ne = realloc(r->ev, cap * sizeof(*ne));

		if (!ne) {
			r->oom = true;
			return;
		}
		r->ev = ne;
		r->cap = cap;
	}
	r->ev[r->nev++] = (struct det_event){
		.type = ev->type,
		.cycle = ev->cycle,
		.unit = ev->unit,
		.code = ev->code,
		.value = ev->value,
		.value2 = ev->value2,
		.name = ev->name,
		.text_hash = ev->text ? det_hash(ev->text) : 0,
	};
}

static uint64_t det_insn(uint8_t op, uint8_t rd, uint8_t ra, uint8_t rb, uint8_t rc, bool has_imm,
			 uint32_t imm)
{
	struct sim_isa_insn in = {
		.op = op, .rd = rd, .ra = ra, .rb = rb, .rc = rc, .has_imm = has_imm, .imm = imm};

	return sim_isa_encode(&in);
}

/* out[i] = i * i; out2[i] = atomadd(&sum, i) (the old value: depends on lane order). */
static uint32_t det_kernel(uint64_t *p)
{
	uint32_t n = 0;

	p[n++] = det_insn(SIM_OP_SREG, 4, 0, 0, 0, true, SIM_SREG_GLOBAL_ID_X);
	p[n++] = det_insn(SIM_OP_LD, 6, 0, 0, 0, true, 0);
	p[n++] = det_insn(SIM_OP_LD, 7, 0, 0, 0, true, 4);
	p[n++] = det_insn(SIM_OP_LD, 8, 0, 0, 0, true, 8);
	p[n++] = det_insn(SIM_OP_LD, 9, 0, 0, 0, true, 12);
	p[n++] = det_insn(SIM_OP_MUL, 5, 4, 4, 0, false, 0);
	p[n++] = det_insn(SIM_OP_SHL, 10, 4, 0, 0, true, 2);
	p[n++] = det_insn(SIM_OP_STX, 0, 6, 10, 5, true, 0);
	p[n++] = det_insn(SIM_OP_ATOMADD, 11, 8, 4, 0, true, 0);
	p[n++] = det_insn(SIM_OP_STX, 0, 6, 10, 11, true, 0x4000);
	p[n++] = det_insn(SIM_OP_EXIT, 0, 0, 0, 0, false, 0);
	return n;
}

static struct simt_buf *det_buffer(struct simt *t, uint64_t va, uint64_t size, uint64_t flags)
{
	struct simt_buf *b = simt_alloc(t, size);

	if (b && simt_map(t, DET_AS, va, b, 0, b->size, flags))
		return NULL;
	return b;
}

/* Device, memory, rings and the three jobs' command buffers; nothing submitted yet. */
static bool det_setup(struct det_run *r)
{
	const uint64_t rw = SIM_PTE_READ | SIM_PTE_WRITE;
	uint32_t *c0, *c1, *c2, n;
	uint64_t *args;

	memset(r, 0, sizeof(*r));
	r->t = simt_create(NULL);
	if (!r->t || sim_events_subscribe(r->t->dev, SIM_EV_MASK_ALL, det_on_event, r) < 0)
		return false;
	r->cmd = det_buffer(r->t, DET_CMD_VA, 3 * SIM_PAGE_SIZE, SIM_PTE_READ);
	r->src = det_buffer(r->t, DET_SRC_VA, 256 * 1024, rw);
	r->dst = det_buffer(r->t, DET_DST_VA, 256 * 1024, rw);
	r->sem = det_buffer(r->t, DET_SEM_VA, SIM_PAGE_SIZE, rw);
	r->prog = det_buffer(r->t, DET_PROG_VA, SIM_PAGE_SIZE, SIM_PTE_READ | SIM_PTE_EXECUTE);
	r->args = det_buffer(r->t, DET_ARGS_VA, SIM_PAGE_SIZE, SIM_PTE_READ);
	r->out = det_buffer(r->t, DET_OUT_VA, 32 * 1024, rw);
	if (!r->cmd || !r->src || !r->dst || !r->sem || !r->prog || !r->args || !r->out)
		return false;
	for (uint32_t q = 0; q < 3; q++) {
		if (simt_queue_init(r->t, q, 0, 8))
			return false;
	}
	for (uint32_t i = 0; i < 256 * 1024; i++)
		((uint8_t *)r->src->host)[i] = (uint8_t)(i * 131 + (i >> 9));
	args = r->args->host;
	args[0] = DET_OUT_VA;
	args[1] = DET_OUT_VA + 0x7000;

	c0 = r->cmd->host;
	n = sim_cmd_emit_fill(c0, DET_DST_VA, 128 * 1024, 0xa5a55a5au);
	n += sim_cmd_emit_copy(c0 + n, DET_DST_VA + 4096 + 3, DET_SRC_VA + 1, 100000);
	n += sim_cmd_emit_write64(c0 + n, DET_SEM_VA + 8, 1000);
	n += sim_cmd_emit_dispatch(c0 + n, DET_PROG_VA, det_kernel(r->prog->host), DET_ARGS_VA,
				   DET_GROUPS, 1, DET_LANES);
	n += sim_cmd_emit_timestamp(c0 + n, DET_SEM_VA + 16, 0);
	n += sim_cmd_emit_signal(c0 + n, DET_SEM_VA, 1, 0);
	n += sim_cmd_emit_interrupt(c0 + n, 0x1234);
	n += sim_cmd_emit_end(c0 + n);
	r->job_bytes[0] = n * 4;

	c1 = c0 + SIM_PAGE_SIZE / 4;
	n = sim_cmd_emit_wait(c1, DET_SEM_VA, 1, SIM_CMD_WAIT_EQ);
	n += sim_cmd_emit_copy(c1 + n, DET_DST_VA + 128 * 1024, DET_SRC_VA, 64 * 1024 + 8);
	n += sim_cmd_emit_timestamp(c1 + n, DET_SEM_VA + 24, 0);
	n += sim_cmd_emit_signal(c1 + n, DET_SEM_VA + 8, 5, SIM_CMD_SIGNAL_ADD | SIM_CMD_SIGNAL_64);
	n += sim_cmd_emit_end(c1 + n);
	r->job_bytes[1] = n * 4;

	c2 = c0 + 2 * SIM_PAGE_SIZE / 4;
	n = sim_cmd_emit_write32(c2, DET_BAD_VA, 1);
	n += sim_cmd_emit_end(c2 + n);
	r->job_bytes[2] = n * 4;
	return true;
}

/* Queue 1 first, so it is already waiting when queue 0 signals. */
static bool det_submit(struct det_run *r)
{
	static const uint32_t order[3] = {1, 0, 2};

	for (uint32_t i = 0; i < 3; i++) {
		uint32_t q = order[i];

		if (simt_submit(r->t, q, DET_AS, DET_CMD_VA + q * SIM_PAGE_SIZE, r->job_bytes[q],
				100 + q, SIM_RING_FLAG_IRQ))
			return false;
	}
	return true;
}

/* The run is over: stop recording, so the register reads of det_compare are not recorded. */
static void det_finish(struct det_run *r)
{
	CHECK_EQ(sim_events_unsubscribe(r->t->dev, r->sub), 0);
	r->sub = -1;
}

static void det_teardown(struct det_run *r)
{
	simt_destroy(r->t);
	free(r->ev);
	memset(r, 0, sizeof(*r));
}

static bool det_step(struct det_run *r)
{
	return sim_clock_step(r->t->dev, DET_STEP) == 0;
}

/* Compare everything observable after det_finish on both. */
static void det_compare(struct det_run *a, struct det_run *b)
{
	struct simt_buf *ba[] = {a->cmd, a->src, a->dst, a->sem, a->prog, a->args, a->out};
	struct simt_buf *bb[] = {b->cmd, b->src, b->dst, b->sem, b->prog, b->args, b->out};
	struct sim_stats sa, sb;
	size_t n;

	REQUIRE(!a->oom && !b->oom);
	REQUIRE(a->sub < 0 && b->sub < 0);
	CHECK_EQ(sim_clock_now(a->t->dev), sim_clock_now(b->t->dev));
	CHECK_EQ(sim_clock_ns(a->t->dev), sim_clock_ns(b->t->dev));
	sim_get_stats(a->t->dev, &sa);
	sim_get_stats(b->t->dev, &sb);
	CHECK(!memcmp(&sa, &sb, sizeof(sa)));
	for (uint32_t off = 0; off < SIM_MMIO_SIZE; off += 4) {
		if (sim_reg_name(off))
			CHECK_EQ(sim_mmio_read32(a->t->dev, off), sim_mmio_read32(b->t->dev, off));
	}
	for (size_t i = 0; i < sizeof(ba) / sizeof(ba[0]); i++) {
		REQUIRE_EQ(ba[i]->size, bb[i]->size);
		CHECK(!memcmp(ba[i]->host, bb[i]->host, ba[i]->size));
		CHECK(!memcmp(ba[i]->pa, bb[i]->pa, ba[i]->pages * sizeof(uint64_t)));
	}
	for (uint32_t q = 0; q < 3; q++)
		CHECK(!memcmp(a->t->rings[q]->host, b->t->rings[q]->host, a->t->rings[q]->size));
	for (uint32_t s = 0; s < 2; s++) {
		REQUIRE_EQ(a->t->table_count[s], b->t->table_count[s]);
		for (uint32_t i = 0; i < a->t->table_count[s]; i++)
			CHECK(!memcmp(a->t->tables[s][i]->host, b->t->tables[s][i]->host,
				      SIM_PAGE_SIZE));
	}
	CHECK_EQ(a->nev, b->nev);
	n = a->nev < b->nev ? a->nev : b->nev;
	for (size_t i = 0; i < n; i++) {
		const struct det_event *x = &a->ev[i], *y = &b->ev[i];

		if (x->type != y->type || x->cycle != y->cycle || x->unit != y->unit ||
		    x->code != y->code || x->value != y->value || x->value2 != y->value2 ||
		    x->text_hash != y->text_hash || !x->name != !y->name ||
		    (x->name && strcmp(x->name, y->name))) {
			fprintf(stderr,
				"event %zu differs: %s@%" PRIu64 " unit %u code %#x %#" PRIx64
				" %#" PRIx64 " vs %s@%" PRIu64 " unit %u code %#x %#" PRIx64
				" %#" PRIx64 "\n",
				i, sim_event_type_name(x->type), x->cycle, x->unit, x->code,
				x->value, x->value2, sim_event_type_name(y->type), y->cycle,
				y->unit, y->code, y->value, y->value2);
			CHECK(0);
			break;
		}
	}
}

static void test_workload_does_its_work(void)
{
	struct det_run r;
	uint32_t *out, *sem32;
	uint64_t *sem64, sum = 0;
	uint8_t *src, *dst;

	REQUIRE(det_setup(&r));
	REQUIRE(det_submit(&r));
	CHECK_EQ(sim_clock_run_until_idle(r.t->dev, DET_CAP, NULL), 0);
	out = r.out->host;
	sem32 = r.sem->host;
	sem64 = r.sem->host;
	src = r.src->host;
	dst = r.dst->host;
	for (uint32_t i = 0; i < DET_INVOCATIONS; i++) {
		CHECK_EQ(out[i], i * i);
		sum += i;
	}
	CHECK_EQ(out[0x7000 / 4], sum);
	/* One group at a time in linear order, lanes in order: old value = sum of smaller ids. */
	for (uint32_t i = 0; i < DET_INVOCATIONS; i++)
		CHECK_EQ(out[0x4000 / 4 + i], i * (i - 1) / 2);
	CHECK_EQ(sem32[0], 1);
	CHECK_EQ(sem64[1], 1005);
	CHECK(sem64[2] < sem64[3]); /* queue 1 ran its TIMESTAMP after queue 0 signalled */
	/* FILL: byte i is byte (i % 4) of the pattern; the COPY overwrote [4099, 104099). */
	for (uint32_t i = 0; i < 128 * 1024; i++) {
		if (i == 4096 + 3)
			i += 100000;
		CHECK_EQ(dst[i], (uint8_t)(0xa5a55a5au >> (8 * (i % 4))));
	}
	CHECK(!memcmp(dst + 4096 + 3, src + 1, 100000));
	CHECK(!memcmp(dst + 128 * 1024, src, 64 * 1024 + 8));
	CHECK_EQ(sim_mmio_read64(r.t->dev, SIM_Q_SEQNO_LO(0)), 100);
	CHECK_EQ(sim_mmio_read64(r.t->dev, SIM_Q_SEQNO_LO(1)), 101);
	CHECK_EQ(simt_read32(r.t, SIM_Q_IRQ_PAYLOAD(0)), 0x1234);
	CHECK_EQ(SIM_FIELD_GET(SIM_Q_STATUS_STATE, simt_read32(r.t, SIM_Q_STATUS(2))),
		 SIM_Q_STATE_FAULTED);
	CHECK_EQ(simt_read32(r.t, SIM_Q_FAULT_CODE(2)), SIM_FAULT_MMU_TRANSLATION);
	CHECK_EQ(sim_mmio_read64(r.t->dev, SIM_Q_FAULT_ADDR_LO(2)), DET_BAD_VA);
	det_teardown(&r);
}

static void test_event_stream_covers_workload(void)
{
	struct det_run r;
	uint32_t count[SIM_EV_COUNT] = {0};
	bool fault_end = false;

	REQUIRE(det_setup(&r));
	REQUIRE(det_submit(&r));
	CHECK_EQ(sim_clock_run_until_idle(r.t->dev, DET_CAP, NULL), 0);
	REQUIRE(!r.oom);
	for (size_t i = 0; i < r.nev; i++) {
		count[r.ev[i].type]++;
		if (r.ev[i].type == SIM_EV_JOB_END && r.ev[i].unit == 2 &&
		    r.ev[i].code == SIM_FAULT_MMU_TRANSLATION)
			fault_end = true;
		if (i)
			CHECK(r.ev[i].cycle >= r.ev[i - 1].cycle);
	}
	CHECK_EQ(count[SIM_EV_JOB_START], 3);
	CHECK_EQ(count[SIM_EV_JOB_END], 3);
	CHECK(fault_end);
	CHECK(count[SIM_EV_CMD] >= 14);
	CHECK(count[SIM_EV_FAULT] >= 1);
	CHECK(count[SIM_EV_TLB_MISS] > 0);
	CHECK(count[SIM_EV_IRQ_RAISE] > 0);
	CHECK(count[SIM_EV_REG_WRITE] > 0);
	CHECK(count[SIM_EV_BUS_MAP] > 0);
	det_teardown(&r);
}

static void test_two_runs_are_identical(void)
{
	struct det_run a, b;

	REQUIRE(det_setup(&a));
	REQUIRE(det_submit(&a));
	CHECK_EQ(sim_clock_run_until_idle(a.t->dev, DET_CAP, NULL), 0);
	det_finish(&a);
	REQUIRE(det_setup(&b));
	REQUIRE(det_submit(&b));
	CHECK_EQ(sim_clock_run_until_idle(b.t->dev, DET_CAP, NULL), 0);
	det_finish(&b);
	det_compare(&a, &b);
	det_teardown(&a);
	det_teardown(&b);
}

/* Same step schedule alone and interleaved with a twin: all three must agree. */
static void test_interleaved_devices_share_nothing(void)
{
	struct det_run solo, a, b;
	int steps = 0;

	REQUIRE(det_setup(&solo));
	REQUIRE(det_submit(&solo));
	while (!sim_is_idle(solo.t->dev) && steps++ < DET_MAX_STEPS)
		REQUIRE(det_step(&solo));
	CHECK(sim_is_idle(solo.t->dev));
	det_finish(&solo);

	REQUIRE(det_setup(&a));
	REQUIRE(det_setup(&b));
	REQUIRE(det_submit(&a));
	REQUIRE(det_submit(&b));
	for (int i = 0; i < steps; i++) {
		REQUIRE(det_step(&a));
		REQUIRE(det_step(&b));
	}
	CHECK(sim_is_idle(a.t->dev));
	CHECK(sim_is_idle(b.t->dev));
	det_finish(&a);
	det_finish(&b);
	det_compare(&a, &b);
	det_compare(&solo, &a);
	det_teardown(&solo);
	det_teardown(&a);
	det_teardown(&b);
}

/* Queue 1 (waits, then copies) outranks queue 0 (fill, copy, dispatch); queue 2 in between. */
static void det_set_priorities(struct det_run *r)
{
	simt_write32(r->t, SIM_Q_PRIORITY(0), 0);
	simt_write32(r->t, SIM_Q_PRIORITY(1), 3);
	simt_write32(r->t, SIM_Q_PRIORITY(2), 1);
}

/* Two busy queues of different priorities: stepped alone, twice interleaved, all agree. */
static void test_priorities_are_deterministic(void)
{
	struct det_run solo, a, b;
	uint32_t *out;
	int steps = 0;

	REQUIRE(det_setup(&solo));
	det_set_priorities(&solo);
	REQUIRE(det_submit(&solo));
	while (!sim_is_idle(solo.t->dev) && steps++ < DET_MAX_STEPS)
		REQUIRE(det_step(&solo));
	CHECK(sim_is_idle(solo.t->dev));
	det_finish(&solo);
	out = solo.out->host;
	for (uint32_t i = 0; i < DET_INVOCATIONS; i++)
		CHECK_EQ(out[i], i * i);
	CHECK_EQ(sim_mmio_read64(solo.t->dev, SIM_Q_SEQNO_LO(0)), 100);
	CHECK_EQ(sim_mmio_read64(solo.t->dev, SIM_Q_SEQNO_LO(1)), 101);
	CHECK_EQ(simt_read32(solo.t, SIM_Q_PRIORITY(1)), 3);

	REQUIRE(det_setup(&a));
	REQUIRE(det_setup(&b));
	det_set_priorities(&a);
	det_set_priorities(&b);
	REQUIRE(det_submit(&a));
	REQUIRE(det_submit(&b));
	for (int i = 0; i < steps; i++) {
		REQUIRE(det_step(&a));
		REQUIRE(det_step(&b));
	}
	CHECK(sim_is_idle(a.t->dev));
	det_finish(&a);
	det_finish(&b);
	det_compare(&a, &b);
	det_compare(&solo, &a);
	det_teardown(&solo);
	det_teardown(&a);
	det_teardown(&b);
}

/* Runs every test; exit status 1 if any check failed. */
static const struct sim_test tests[] = {
	SIM_TEST(test_workload_does_its_work),
	SIM_TEST(test_event_stream_covers_workload),
	SIM_TEST(test_two_runs_are_identical),
	SIM_TEST(test_interleaved_devices_share_nothing),
	SIM_TEST(test_priorities_are_deterministic),
};
SIM_TEST_SUITE(tests);
