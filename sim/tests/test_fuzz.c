/* SPDX-License-Identifier: MIT */
/*
 * test_fuzz.c - bounded random testing: whatever the guest does, the model behaves.
 *
 * Four generators driven by a fixed-seed xorshift PRNG throw what a buggy or hostile driver
 * could at the device: random MMIO reads and writes over the whole register window (unmapped and
 * unaligned offsets included); random command streams (garbage words, and plausible commands
 * with random addresses and lengths) submitted through a real ring into partially mapped memory;
 * random ISA programs (garbage words and random valid instructions) dispatched; and page tables
 * filled with garbage PTEs pointing anywhere, followed by jobs. After every run the clock is
 * advanced with a cycle cap and the test checks what hardware guarantees: the run ends (idle, or
 * the cap for a legitimately hung queue), a queue is IDLE or FAULTED with a documented fault
 * code, a hung queue recovers with Q_COMMAND RESET, the device still executes a good job
 * afterwards, and no host memory outside pinned frames is touched (ASan and Valgrind check that).
 * Everything is bounded, so a host hang is a bug: a watchdog alarm (per test) turns it into a
 * failure.
 * SIM_FUZZ_SEED overrides the seed and SIM_FUZZ_SCALE multiplies the iteration counts, for
 * longer local runs. Single-threaded; every device is stepped by this thread only.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/sim.h"
#include "sim/sim_cmd.h"
#include "sim/sim_isa.h"
#include "sim_test.h"
#include "sim_test_util.h"

#define FUZZ_CAP	200000ull /* cycles allowed per run_until_idle */
#define FUZZ_WATCHDOG_S 240	  /* seconds; ctest's timeout is 300 */

/* Jobs run in slot 1; slot 0 translates the rings (sim_test_util maps them there). */
#define FUZZ_JOB_AS	1
#define FUZZ_CMD_VA	0x100000ull /* 16 pages, page 12 unmapped */
#define FUZZ_CMD_PAGES	16
#define FUZZ_CMD_HOLE	12
#define FUZZ_DATA_VA	0x400000ull /* 64 pages RW, 32..35 unmapped, 48..63 read-only */
#define FUZZ_DATA_PAGES 64
#define FUZZ_PROG_VA	0x800000ull /* 4 pages R+X, then one page R only */
#define FUZZ_PROG_PAGES 4
#define FUZZ_ARGS_VA	0x900000ull /* 1 page RW */

static uint64_t fuzz_state = 0x9e3779b97f4a7c15ull;
static uint64_t fuzz_seed = 0x5eed2026ull;
static uint32_t fuzz_scale = 1;
static volatile sig_atomic_t fuzz_phase;
static volatile sig_atomic_t fuzz_iter;

static const char *const fuzz_phase_names[] = {"setup\n", "mmio\n", "commands\n", "isa\n",
					       "page tables\n"};

/* xorshift64* */
static uint64_t fuzz_next(void)
{
	fuzz_state ^= fuzz_state >> 12;
	fuzz_state ^= fuzz_state << 25;
	fuzz_state ^= fuzz_state >> 27;
	return fuzz_state * 0x2545f4914f6cdd1dull;
}

static uint32_t fuzz_below(uint64_t n)
{
	return n ? (uint32_t)(fuzz_next() % n) : 0;
}

static bool fuzz_chance(uint32_t percent)
{
	return fuzz_below(100) < percent;
}

static void fuzz_begin(int phase)
{
	fuzz_phase = phase;
	fuzz_iter = 0;
	fuzz_state = fuzz_seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(phase + 1));
	if (!fuzz_state)
		fuzz_state = 1;
}

/* SIGALRM: only async-signal-safe calls. */
static void fuzz_watchdog(int sig)
{
	static const char msg[] = "test_fuzz: watchdog expired, host hang in phase ";
	const char *name = fuzz_phase_names[fuzz_phase];
	char num[24];
	int n = 0;
	long it = fuzz_iter;

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0 || write(2, name, strlen(name)) < 0)
		_exit(2);
	do {
		num[sizeof(num) - 1 - n++] = (char)('0' + it % 10);
		it /= 10;
	} while (it && n < 20);
	if (write(2, "iteration ", 10) < 0 || write(2, num + sizeof(num) - n, n) < 0)
		_exit(2);
	_exit(2);
}

static bool fuzz_known_fault(uint32_t code)
{
	switch (code) {
	case SIM_FAULT_ILLEGAL_OPCODE:
	case SIM_FAULT_BAD_LENGTH:
	case SIM_FAULT_BAD_RING_ENTRY:
	case SIM_FAULT_MMU_TRANSLATION:
	case SIM_FAULT_MMU_PERMISSION:
	case SIM_FAULT_MMU_BUS_ERROR:
	case SIM_FAULT_MMU_AS_DISABLED:
	case SIM_FAULT_MMU_ADDRESS_SIZE:
	case SIM_FAULT_COMPUTE_ILLEGAL:
	case SIM_FAULT_COMPUTE_PC_RANGE:
	case SIM_FAULT_COMPUTE_STACK:
	case SIM_FAULT_COMPUTE_DIV_ZERO:
	case SIM_FAULT_COMPUTE_MISALIGNED:
	case SIM_FAULT_COMPUTE_NO_CORES:
	case SIM_FAULT_COMPUTE_BAD_DISPATCH:
	case SIM_FAULT_DMA_ERROR:
		return true;
	default:
		return false;
	}
}

/* ---- A device with partially mapped memory ---- */

struct fuzz_env {
	struct simt *t;
	struct simt_buf *cmd, *data, *prog, *prog_nx, *args;
	uint32_t lanes;
	/* outcomes of the runs so far */
	uint32_t ok, faulted, hung;
	uint32_t codes[256];
};

static int fuzz_map_pages(struct simt *t, uint64_t va, struct simt_buf *b, uint32_t first,
			  uint32_t count, uint64_t flags)
{
	return simt_map(t, FUZZ_JOB_AS, va + (uint64_t)first * SIM_PAGE_SIZE, b,
			(uint64_t)first * SIM_PAGE_SIZE, (uint64_t)count * SIM_PAGE_SIZE, flags);
}

static bool fuzz_env_init(struct fuzz_env *e)
{
	const uint64_t rw = SIM_PTE_READ | SIM_PTE_WRITE;
	struct sim_config cfg;

	memset(e, 0, sizeof(*e));
	sim_config_default(&cfg);
	e->lanes = cfg.lanes;
	e->t = simt_create(&cfg);
	if (!e->t)
		return false;
	e->cmd = simt_alloc(e->t, FUZZ_CMD_PAGES * SIM_PAGE_SIZE);
	e->data = simt_alloc(e->t, FUZZ_DATA_PAGES * SIM_PAGE_SIZE);
	e->prog = simt_alloc(e->t, FUZZ_PROG_PAGES * SIM_PAGE_SIZE);
	e->prog_nx = simt_alloc(e->t, SIM_PAGE_SIZE);
	e->args = simt_alloc(e->t, SIM_PAGE_SIZE);
	if (!e->cmd || !e->data || !e->prog || !e->prog_nx || !e->args)
		return false;
	if (fuzz_map_pages(e->t, FUZZ_CMD_VA, e->cmd, 0, FUZZ_CMD_HOLE, SIM_PTE_READ) ||
	    fuzz_map_pages(e->t, FUZZ_CMD_VA, e->cmd, FUZZ_CMD_HOLE + 1,
			   FUZZ_CMD_PAGES - FUZZ_CMD_HOLE - 1, SIM_PTE_READ) ||
	    fuzz_map_pages(e->t, FUZZ_DATA_VA, e->data, 0, 32, rw) ||
	    fuzz_map_pages(e->t, FUZZ_DATA_VA, e->data, 36, 12, rw) ||
	    fuzz_map_pages(e->t, FUZZ_DATA_VA, e->data, 48, 16, SIM_PTE_READ) ||
	    fuzz_map_pages(e->t, FUZZ_PROG_VA, e->prog, 0, FUZZ_PROG_PAGES,
			   SIM_PTE_READ | SIM_PTE_EXECUTE) ||
	    simt_map(e->t, FUZZ_JOB_AS, FUZZ_PROG_VA + FUZZ_PROG_PAGES * SIM_PAGE_SIZE, e->prog_nx,
		     0, SIM_PAGE_SIZE, SIM_PTE_READ) ||
	    simt_map(e->t, FUZZ_JOB_AS, FUZZ_ARGS_VA, e->args, 0, SIM_PAGE_SIZE, rw) ||
	    simt_queue_init(e->t, 0, 0, 64))
		return false;
	/* Pointers a random program may load and follow. */
	((uint64_t *)e->args->host)[0] = FUZZ_ARGS_VA;
	((uint64_t *)e->args->host)[1] = FUZZ_DATA_VA;
	((uint64_t *)e->args->host)[2] = FUZZ_DATA_VA + 40 * SIM_PAGE_SIZE;
	((uint64_t *)e->args->host)[3] = FUZZ_DATA_VA + 50 * SIM_PAGE_SIZE;
	return true;
}

static void fuzz_env_fini(struct fuzz_env *e)
{
	simt_destroy(e->t);
	e->t = NULL;
}

/*
 * After a run: a finished run leaves queue 0 IDLE or FAULTED with a documented code; a run that
 * hit the cap leaves it RUNNING or WAITING (a jump loop, an unmet WAIT, an endless kernel). Bring
 * the queue back to IDLE (RESUME or RESET), clear the latches, and check it really gets there.
 */
static void fuzz_settle(struct fuzz_env *e, int ret)
{
	struct simt *t = e->t;
	uint32_t state = SIM_FIELD_GET(SIM_Q_STATUS_STATE, simt_read32(t, SIM_Q_STATUS(0)));

	if (ret == 0) {
		CHECK(state == SIM_Q_STATE_IDLE || state == SIM_Q_STATE_FAULTED);
	} else {
		CHECK_EQ(ret, -ETIMEDOUT);
		CHECK(state == SIM_Q_STATE_RUNNING || state == SIM_Q_STATE_WAITING);
	}
	if (state == SIM_Q_STATE_FAULTED) {
		uint32_t code = simt_read32(t, SIM_Q_FAULT_CODE(0));

		if (!fuzz_known_fault(code))
			fprintf(stderr, "unknown fault code %#x\n", code);
		CHECK(fuzz_known_fault(code));
		CHECK(simt_read32(t, SIM_GPU_IRQ_RAWSTAT) & SIM_IRQ_JOB_FAULT(0));
		e->faulted++;
		e->codes[code & 0xff]++;
		simt_write32(t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESUME);
	} else if (state != SIM_Q_STATE_IDLE) {
		e->hung++;
		simt_write32(t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESET);
	} else {
		e->ok++;
	}
	CHECK_EQ(simt_run(t, FUZZ_CAP), 0);
	CHECK_EQ(SIM_FIELD_GET(SIM_Q_STATUS_STATE, simt_read32(t, SIM_Q_STATUS(0))),
		 SIM_Q_STATE_IDLE);
	CHECK_EQ(simt_read32(t, SIM_Q_HEAD(0)), simt_read32(t, SIM_Q_TAIL(0)));
	simt_write32(t, SIM_GPU_IRQ_CLEAR, SIM_IRQ_ALL);
	for (uint32_t as = 0; as < SIM_AS_MAX; as++)
		simt_write32(t, SIM_AS_FAULTCLEAR(as), 1);
}

/* A known-good job still works: WRITE32 to data page 0, fence-free, IRQ on completion. */
static void fuzz_check_alive(struct fuzz_env *e, uint64_t seqno)
{
	uint32_t *cmd = e->cmd->host, n = 0, magic = 0x600d0000u | (uint32_t)seqno;

	n += sim_cmd_emit_write32(cmd + n, FUZZ_DATA_VA + 64, magic);
	n += sim_cmd_emit_end(cmd + n);
	REQUIRE_EQ(simt_submit(e->t, 0, FUZZ_JOB_AS, FUZZ_CMD_VA, n * 4, seqno, SIM_RING_FLAG_IRQ),
		   0);
	CHECK_EQ(simt_run(e->t, FUZZ_CAP), 0);
	CHECK_EQ(((uint32_t *)e->data->host)[16], magic);
	CHECK_EQ(sim_mmio_read64(e->t->dev, SIM_Q_SEQNO_LO(0)), seqno);
	CHECK(simt_read32(e->t, SIM_GPU_IRQ_RAWSTAT) & SIM_IRQ_JOB_DONE(0));
	simt_write32(e->t, SIM_GPU_IRQ_CLEAR, SIM_IRQ_ALL);
}

static void fuzz_report(const char *what, const struct fuzz_env *e)
{
	uint32_t distinct = 0;

	for (int i = 0; i < 256; i++)
		distinct += e->codes[i] != 0;
	printf("  %s: %u completed, %u faulted (%u distinct codes), %u hit the cap\n", what, e->ok,
	       e->faulted, distinct, e->hung);
}

/* ---- Generators ---- */

static uint64_t fuzz_addr(void)
{
	uint64_t va;

	switch (fuzz_below(10)) {
	case 0:
	case 1:
	case 2:
	case 3:
		va = FUZZ_DATA_VA + fuzz_below(FUZZ_DATA_PAGES * SIM_PAGE_SIZE);
		break;
	case 4:
		va = FUZZ_CMD_VA + fuzz_below(FUZZ_CMD_PAGES * SIM_PAGE_SIZE);
		break;
	case 5:
		va = FUZZ_PROG_VA + fuzz_below((FUZZ_PROG_PAGES + 1) * SIM_PAGE_SIZE);
		break;
	case 6:
		va = fuzz_next();
		break;
	case 7:
		va = (1ull << SIM_VA_BITS) - fuzz_below(3 * SIM_PAGE_SIZE);
		break;
	case 8:
		va = SIMT_RING_VA(0) + fuzz_below(2 * SIM_PAGE_SIZE);
		break;
	default:
		va = fuzz_below(1u << 30);
		break;
	}
	if (fuzz_chance(70))
		va &= ~3ull;
	else if (fuzz_chance(50))
		va &= ~7ull;
	return va;
}

static uint64_t fuzz_len(void)
{
	switch (fuzz_below(8)) {
	case 0:
		return 0;
	case 1:
	case 2:
	case 3:
		return fuzz_below(300);
	case 4:
	case 5:
		return fuzz_below(80 * 1024);
	case 6:
		return fuzz_below(512 * 1024);
	default:
		return fuzz_next() >> fuzz_below(64);
	}
}

static uint32_t fuzz_value(void)
{
	switch (fuzz_below(5)) {
	case 0:
		return 0;
	case 1:
		return fuzz_below(4);
	case 2:
		return 1u << fuzz_below(32);
	case 3:
		return 0xffffffffu;
	default:
		return (uint32_t)fuzz_next();
	}
}

/* Emit one command at @p (at most 16 dwords); returns the dwords written. */
static uint32_t fuzz_command(uint32_t *p, uint32_t lanes)
{
	uint32_t op, n, len;
	uint64_t a;

	if (fuzz_chance(10)) { /* garbage */
		n = 1 + fuzz_below(8);
		for (uint32_t i = 0; i < n; i++)
			p[i] = (uint32_t)fuzz_next();
		return n;
	}
	op = fuzz_chance(5) ? fuzz_below(256) : fuzz_below(SIM_CMD_OPCODE_COUNT);
	switch (op) {
	case SIM_CMD_WRITE32:
		n = sim_cmd_emit_write32(p, fuzz_addr(), fuzz_value());
		break;
	case SIM_CMD_WRITE64:
		n = sim_cmd_emit_write64(p, fuzz_addr(), fuzz_next());
		break;
	case SIM_CMD_COPY:
		n = sim_cmd_emit_copy(p, fuzz_addr(), fuzz_addr(), fuzz_len());
		break;
	case SIM_CMD_FILL:
		n = sim_cmd_emit_fill(p, fuzz_addr(), fuzz_len(), fuzz_value());
		break;
	case SIM_CMD_TIMESTAMP:
		n = sim_cmd_emit_timestamp(p, fuzz_addr(), fuzz_below(2));
		break;
	case SIM_CMD_WAIT:
		n = sim_cmd_emit_wait(p, fuzz_addr(), fuzz_value(), fuzz_below(16));
		break;
	case SIM_CMD_SIGNAL:
		n = sim_cmd_emit_signal(p, fuzz_addr(), fuzz_next(), fuzz_below(16));
		break;
	case SIM_CMD_DISPATCH:
		a = fuzz_chance(80) ? FUZZ_PROG_VA + 8 * fuzz_below(64) : fuzz_addr();
		n = sim_cmd_emit_dispatch(p, a, fuzz_chance(90) ? 1 + fuzz_below(64) : fuzz_value(),
					  fuzz_chance(80) ? FUZZ_ARGS_VA : fuzz_addr(),
					  fuzz_chance(95) ? fuzz_below(5) : fuzz_value(),
					  fuzz_chance(95) ? fuzz_below(3) : fuzz_value(),
					  fuzz_chance(90) ? 1 + fuzz_below(lanes) : fuzz_value());
		break;
	case SIM_CMD_JUMP:
		a = fuzz_chance(80)
			    ? (FUZZ_CMD_VA + fuzz_below(FUZZ_CMD_PAGES * SIM_PAGE_SIZE)) & ~3ull
			    : fuzz_addr();
		n = sim_cmd_emit_jump(p, a, fuzz_chance(80) ? 4 * fuzz_below(64) : fuzz_value());
		break;
	case SIM_CMD_END:
		n = sim_cmd_emit_end(p);
		break;
	case SIM_CMD_INTERRUPT:
		n = sim_cmd_emit_interrupt(p, fuzz_value());
		break;
	default: /* NOP and unknown opcodes, with a random payload */
		len = fuzz_below(6);
		p[0] = sim_cmd_header(op, fuzz_below(256), len);
		for (uint32_t i = 0; i < len; i++)
			p[1 + i] = (uint32_t)fuzz_next();
		return 1 + len;
	}
	if (fuzz_chance(5)) /* random flags */
		p[0] = (p[0] & ~SIM_CMD_FLAGS__MASK) | (fuzz_below(256) << SIM_CMD_FLAGS__SHIFT);
	if (fuzz_chance(4)) /* header length disagrees with the opcode */
		p[0] = (p[0] & ~SIM_CMD_LEN__MASK) | (fuzz_below(12) << SIM_CMD_LEN__SHIFT);
	return n;
}

/* Write a random job (1..24 commands) into the command buffer; submit it; return run's result. */
static int fuzz_job(struct fuzz_env *e, uint64_t seqno)
{
	uint32_t *cmd = e->cmd->host;
	uint32_t start = 4 * fuzz_below(256), n = start, count = 1 + fuzz_below(24);
	uint32_t bytes, slot = fuzz_chance(95) ? FUZZ_JOB_AS : fuzz_below(12);
	uint64_t va;
	uint16_t flags = fuzz_chance(90) ? (uint16_t)fuzz_below(4) : (uint16_t)fuzz_next();

	for (uint32_t i = 0; i < count; i++)
		n += fuzz_command(cmd + n, e->lanes);
	if (fuzz_chance(70))
		n += sim_cmd_emit_end(cmd + n);
	bytes = (n - start) * 4;
	if (fuzz_chance(10))
		bytes = fuzz_chance(50) ? bytes - 4 * fuzz_below(n - start) : fuzz_value();
	va = FUZZ_CMD_VA + (uint64_t)start * 4;
	if (fuzz_chance(3))
		va = fuzz_addr();
	if (simt_submit(e->t, 0, slot, va, bytes, seqno, flags))
		return -ENOSPC;
	return simt_run(e->t, FUZZ_CAP);
}

/* A random instruction for a program of @count words. */
static uint64_t fuzz_insn(uint32_t count)
{
	const struct sim_isa_opinfo *info;
	struct sim_isa_insn in;

	memset(&in, 0, sizeof(in));
	do {
		in.op = (uint8_t)fuzz_below(0x60);
		info = sim_isa_opinfo(in.op);
	} while (!info);
	in.rd = (uint8_t)(2 + fuzz_below(SIM_ISA_REGS - 2));
	in.ra = (uint8_t)fuzz_below(SIM_ISA_REGS);
	in.rb = (uint8_t)fuzz_below(SIM_ISA_REGS);
	in.rc = (uint8_t)fuzz_below(SIM_ISA_REGS);
	in.has_imm = fuzz_chance(50);
	in.imm = fuzz_value();
	switch (info->form) {
	case SIM_FORM_LD:
	case SIM_FORM_ST:
	case SIM_FORM_LDX:
	case SIM_FORM_STX:
	case SIM_FORM_ATOM:
		if (fuzz_chance(60))
			in.ra = 0; /* args pointer */
		if (fuzz_chance(80))
			in.imm = 4 * fuzz_below(16);
		break;
	case SIM_FORM_TARGET:
	case SIM_FORM_RA_TARGET:
		in.imm = fuzz_below(count + 2);
		break;
	case SIM_FORM_SREG:
		in.imm = fuzz_below(SIM_SREG_COUNT + 2);
		break;
	default:
		break;
	}
	return sim_isa_encode(&in);
}

/* ---- The four generators ---- */

static void test_fuzz_mmio(void)
{
	struct fuzz_env e;
	struct sim_stats st;
	uint64_t frames;
	uint32_t ops = 40000 * fuzz_scale;

	fuzz_begin(1);
	REQUIRE(fuzz_env_init(&e));
	frames = sim_bus_frames_mapped(e.t->dev);
	/* Garbage a page-table walk may land in. */
	for (uint32_t i = 0; i < SIM_PAGE_SIZE / 8; i++)
		((uint64_t *)e.data->host)[i] = fuzz_next();
	for (uint32_t i = 0; i < ops; i++) {
		uint32_t off, v;

		fuzz_iter = i;
		if (fuzz_chance(60)) {
			off = 4 * fuzz_below(SIM_MMIO_SIZE / 4);
		} else if (fuzz_chance(50)) {
			off = fuzz_below(SIM_MMIO_SIZE + 0x1000);
		} else {
			off = (uint32_t)fuzz_next();
		}
		if (fuzz_chance(40)) {
			v = sim_mmio_read32(e.t->dev, off);
			if ((off & 3) || off >= SIM_MMIO_SIZE || !sim_reg_name(off))
				CHECK_EQ(v, 0);
			continue;
		}
		switch (fuzz_below(8)) {
		case 0: /* a PA that may hold a table */
			v = (uint32_t)e.data->pa[fuzz_below(e.data->pages)];
			break;
		case 1:
			v = (uint32_t)SIMT_RING_VA(0);
			break;
		default:
			v = fuzz_value();
			break;
		}
		sim_mmio_write32(e.t->dev, off, v);
		if (fuzz_chance(5))
			CHECK_EQ(sim_clock_step(e.t->dev, fuzz_below(5000)), 0);
		if (i % 500 == 499) {
			int ret = sim_clock_run_until_idle(e.t->dev, FUZZ_CAP, NULL);

			CHECK(ret == 0 || ret == -ETIMEDOUT);
		}
		CHECK_EQ(sim_mmio_read32(e.t->dev, SIM_GPU_ID), SIM_GPU_ID_RESET);
	}
	sim_get_stats(e.t->dev, &st);
	CHECK(st.guest_errors > 0);
	CHECK_EQ(sim_bus_frames_mapped(e.t->dev), frames);
	CHECK_EQ(sim_mmio_read32(e.t->dev, SIM_GPU_VENDOR), SIM_VENDOR_ID);
	/* A hard reset always brings the device back to its reset state. */
	sim_mmio_write32(e.t->dev, SIM_GPU_COMMAND, SIM_GPU_COMMAND_HARD_RESET);
	CHECK_EQ(sim_clock_run_until_idle(e.t->dev, FUZZ_CAP, NULL), 0);
	CHECK_EQ(sim_mmio_read32(e.t->dev, SIM_GPU_STATUS), 0);
	CHECK(sim_mmio_read32(e.t->dev, SIM_GPU_IRQ_RAWSTAT) & SIM_IRQ_RESET_DONE);
	for (uint32_t q = 0; q < SIM_QUEUE_MAX; q++)
		CHECK_EQ(sim_mmio_read32(e.t->dev, SIM_Q_STATUS(q)), 0);
	printf("  mmio: %u random accesses, %" PRIu64 " guest errors logged\n", ops,
	       st.guest_errors);
	fuzz_env_fini(&e);
}

static void test_fuzz_command_streams(void)
{
	struct fuzz_env e;
	uint64_t frames;
	uint32_t jobs = 2000 * fuzz_scale, distinct = 0;

	fuzz_begin(2);
	REQUIRE(fuzz_env_init(&e));
	frames = sim_bus_frames_mapped(e.t->dev);
	for (uint32_t i = 0; i < FUZZ_PROG_PAGES * SIM_PAGE_SIZE / 8; i++)
		((uint64_t *)e.prog->host)[i] = fuzz_insn(64);
	for (uint32_t i = 0; i < jobs; i++) {
		fuzz_iter = i;
		fuzz_settle(&e, fuzz_job(&e, i + 1));
		if (i % 50 == 49)
			fuzz_check_alive(&e, 0x10000 + i);
	}
	fuzz_check_alive(&e, 0x20000);
	CHECK_EQ(sim_bus_frames_mapped(e.t->dev), frames);
	for (int i = 0; i < 256; i++)
		distinct += e.codes[i] != 0;
	CHECK(e.ok > 0);
	CHECK(distinct >= 4);
	fuzz_report("command streams", &e);
	fuzz_env_fini(&e);
}

static void test_fuzz_isa_programs(void)
{
	struct fuzz_env e;
	uint32_t programs = 2000 * fuzz_scale;
	uint32_t ok_before;

	fuzz_begin(3);
	REQUIRE(fuzz_env_init(&e));
	for (uint32_t i = 0; i < programs; i++) {
		uint64_t *prog = e.prog->host;
		uint32_t *cmd = e.cmd->host, n = 0;
		uint32_t count = 1 + fuzz_below(48), words = count;
		bool garbage = fuzz_chance(20);

		fuzz_iter = i;
		for (uint32_t k = 0; k < count; k++)
			prog[k] = garbage && fuzz_chance(50) ? fuzz_next() : fuzz_insn(count);
		if (fuzz_chance(50))
			prog[count - 1] = (uint64_t)SIM_OP_EXIT;
		if (fuzz_chance(3))
			words = fuzz_chance(50) ? 0 : SIM_DISPATCH_MAX_PROGRAM + 1;
		n += sim_cmd_emit_dispatch(cmd + n, FUZZ_PROG_VA, words, FUZZ_ARGS_VA,
					   1 + fuzz_below(8), 1 + fuzz_below(3),
					   fuzz_chance(95) ? 1 + fuzz_below(e.lanes)
							   : (fuzz_chance(50) ? 0 : e.lanes + 1));
		n += sim_cmd_emit_end(cmd + n);
		REQUIRE_EQ(simt_submit(e.t, 0, FUZZ_JOB_AS, FUZZ_CMD_VA, n * 4, i + 1, 0), 0);
		fuzz_settle(&e, simt_run(e.t, FUZZ_CAP));
	}
	ok_before = e.ok;
	fuzz_check_alive(&e, 0x30000);
	CHECK(ok_before > 0);
	CHECK(e.codes[SIM_FAULT_COMPUTE_ILLEGAL] > 0);
	CHECK(e.codes[SIM_FAULT_COMPUTE_PC_RANGE] + e.codes[SIM_FAULT_COMPUTE_STACK] > 0);
	fuzz_report("isa programs", &e);
	fuzz_env_fini(&e);
}

/* Pick a garbage PTE: random bits, or VALID + perms + a PA that is (or is not) a pinned frame. */
static uint64_t fuzz_pte(const struct fuzz_env *e)
{
	const struct simt_buf *bufs[] = {e->cmd, e->data, e->prog, e->args, e->t->rings[0]};
	const struct simt_buf *b = bufs[fuzz_below(5)];
	uint64_t perms = fuzz_next() & (SIM_PTE_READ | SIM_PTE_WRITE | SIM_PTE_EXECUTE);

	switch (fuzz_below(5)) {
	case 0:
		return fuzz_next();
	case 1:
		return 0;
	case 2: /* another table of either slot */
		for (uint32_t s = fuzz_below(2), k = 0; k < 2; k++, s ^= 1) {
			if (e->t->table_count[s])
				return e->t->tables[s][fuzz_below(e->t->table_count[s])]->pa[0] |
				       SIM_PTE_VALID | perms;
		}
		return SIM_PTE_VALID;
	case 3: /* a frame that is not pinned */
		return ((fuzz_next() << SIM_PAGE_SHIFT) & SIM_PTE_ADDR_MASK) | SIM_PTE_VALID |
		       perms;
	default:
		return b->pa[fuzz_below(b->pages)] | SIM_PTE_VALID | perms;
	}
}

static void test_fuzz_page_tables(void)
{
	uint32_t devices = 200 * fuzz_scale, faulted = 0, ok = 0;

	fuzz_begin(4);
	for (uint32_t i = 0; i < devices; i++) {
		struct fuzz_env e;

		fuzz_iter = i;
		REQUIRE(fuzz_env_init(&e));
		for (uint32_t k = 0; k < FUZZ_PROG_PAGES * SIM_PAGE_SIZE / 8; k++)
			((uint64_t *)e.prog->host)[k] = fuzz_insn(64);
		/* Corrupt the job slot's tables (and now and then the ring slot's). */
		for (uint32_t s = 0; s < 2; s++) {
			if (s == 0 && !fuzz_chance(20))
				continue;
			for (uint32_t k = 0; k < e.t->table_count[s]; k++) {
				uint64_t *tab = e.t->tables[s][k]->host;
				uint32_t hits = 1 + fuzz_below(12);

				for (uint32_t h = 0; h < hits; h++)
					tab[fuzz_below(SIM_PT_ENTRIES)] = fuzz_pte(&e);
			}
			simt_flush(e.t, s);
		}
		for (uint32_t j = 0; j < 4; j++)
			fuzz_settle(&e, fuzz_job(&e, j + 1));
		ok += e.ok;
		faulted += e.faulted;
		fuzz_env_fini(&e);
	}
	CHECK(faulted > 0);
	printf("  page tables: %u devices, %u jobs completed, %u faulted\n", devices, ok, faulted);
}

/* Runs the four generators under a watchdog; exit status 1 if any check failed. */
/* SIM_FUZZ_SEED and SIM_FUZZ_SCALE, and the watchdog's handler. */
static int process_setup(int argc, char **argv)
{
	const char *s;
	struct sigaction sa;

	(void)argc;
	(void)argv;
	s = getenv("SIM_FUZZ_SEED");
	if (s && *s)
		fuzz_seed = strtoull(s, NULL, 0);
	s = getenv("SIM_FUZZ_SCALE");
	if (s && atoi(s) > 0)
		fuzz_scale = (uint32_t)atoi(s);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fuzz_watchdog;
	sigaction(SIGALRM, &sa, NULL);
	return SIM_TEST_CONTINUE;
}

/* Each test names its seed (to reproduce it) and runs under the watchdog. */
static void setup(void)
{
	printf("test_fuzz: seed %#" PRIx64 " scale %u\n", fuzz_seed, fuzz_scale);
	alarm(FUZZ_WATCHDOG_S * fuzz_scale);
}

static void teardown(void)
{
	alarm(0);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_fuzz_mmio),
	SIM_TEST(test_fuzz_command_streams),
	SIM_TEST(test_fuzz_isa_programs),
	SIM_TEST(test_fuzz_page_tables),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.process_setup = process_setup,
	.setup = setup,
	.teardown = teardown,
};
