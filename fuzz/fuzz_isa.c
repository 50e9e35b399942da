/* SPDX-License-Identifier: MIT */
/*
 * fuzz_isa.c - libFuzzer harness for the compute engine: kernels of arbitrary instruction words.
 *
 * Each input is one dispatch on a fresh device, driven through the command processor as
 * sim/tests/test_compute.c does it (sim_test_util's host driver: pinned pages, page tables, a
 * ring, a DISPATCH + END job in slot 1). Input layout, little-endian:
 *
 *   byte 0     groups_x - 1 (low 3 bits)       byte 1  groups_y - 1 (low 2 bits)
 *   byte 2     local size - 1, modulo the lanes (so the dispatch is mostly valid); 0xff asks
 *              for local size 0, 0xfe for one more than the lanes
 *   byte 3     bits 0-1 cores - 1, bits 2-3 lanes = 4 << n, bits 4-5 extra words the dispatch
 *              counts past the program (into the page that is not executable)
 *   byte 4     where the program is: 0 its pages, 1 four bytes in (misaligned), 2 the page that
 *              is readable but not executable, 3 unmapped
 *   byte 5     the args pointer: 0 the args page (pointers to data, to an unmapped hole and to
 *              read-only data), 1 data, 2 the hole, 3 read-only data, else unmapped
 *   bytes 6-7  ignored
 *   then       the program, 8 bytes a word, at most FUZZ_ISA_MAX_WORDS (a partial word ignored)
 *
 * What must hold (FUZZ_CHECK; ASan and UBSan watch the host): the run ends within FUZZ_ISA_CAP
 * cycles, or is still RUNNING or WAITING at the cap (an endless kernel), nothing else; a run that
 * ended leaves the queue IDLE, or FAULTED with a documented fault code and JOB_FAULT raised;
 * RESUME or RESET brings the queue back to IDLE with HEAD == TAIL; a known-good job then still
 * writes memory.
 *
 * Time is the sim's virtual clock, stepped here with a cap (sim_clock_run_until_idle), so each
 * input runs a bounded amount of simulated time, and a host hang is a bug (libFuzzer's -timeout
 * reports it). Single-threaded: this thread alone steps the device.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "sim/sim.h"
#include "sim/sim_cmd.h"
#include "sim/sim_isa.h"
#include "sim_test_util.h"

#define FUZZ_ISA_CAP 200000ull /* cycles a dispatch may run */

/* Slot 1 runs the job; slot 0 translates the ring (sim_test_util maps it there). */
#define FUZZ_AS		1
#define FUZZ_CMD_VA	0x100000ull
#define FUZZ_PROG_VA	0x200000ull /* FUZZ_PROG_PAGES R+X, then one page R only */
#define FUZZ_PROG_PAGES 4
#define FUZZ_DATA_VA	0x400000ull /* 16 pages: 0-7 RW, 8 unmapped, 9-11 RW, 12-15 R */
#define FUZZ_DATA_PAGES 16
#define FUZZ_ARGS_VA	0x800000ull /* 1 page RW */
#define FUZZ_UNMAPPED	0x7000000ull

struct fuzz_isa {
	struct simt *t;
	struct simt_buf *cmd, *prog, *prog_nx, *data, *args;
	uint32_t lanes;
};

static int fuzz_isa_map(struct fuzz_isa *f, uint64_t va, struct simt_buf *b, uint32_t first,
			uint32_t count, uint64_t flags)
{
	return simt_map(f->t, FUZZ_AS, va + (uint64_t)first * SIM_PAGE_SIZE, b,
			(uint64_t)first * SIM_PAGE_SIZE, (uint64_t)count * SIM_PAGE_SIZE, flags);
}

/* A fresh device with the job's memory mapped; false when the host ran out of memory. */
static bool fuzz_isa_init(struct fuzz_isa *f, uint8_t config)
{
	const uint64_t rw = SIM_PTE_READ | SIM_PTE_WRITE, rx = SIM_PTE_READ | SIM_PTE_EXECUTE;
	struct sim_config cfg;
	uint64_t *args;

	memset(f, 0, sizeof(*f));
	sim_config_default(&cfg);
	cfg.cores = 1 + (config & 3);
	cfg.lanes = 4u << ((config >> 2) & 3);
	cfg.max_frames = 256; /* 1 MiB of bus memory is plenty, and cheap to create */
	f->lanes = cfg.lanes;
	f->t = simt_create(&cfg);
	if (!f->t)
		return false;
	f->cmd = simt_alloc(f->t, SIM_PAGE_SIZE);
	f->prog = simt_alloc(f->t, FUZZ_PROG_PAGES * SIM_PAGE_SIZE);
	f->prog_nx = simt_alloc(f->t, SIM_PAGE_SIZE);
	f->data = simt_alloc(f->t, FUZZ_DATA_PAGES * SIM_PAGE_SIZE);
	f->args = simt_alloc(f->t, SIM_PAGE_SIZE);
	if (!f->cmd || !f->prog || !f->prog_nx || !f->data || !f->args)
		return false;
	if (simt_queue_init(f->t, 0, 0, 16) || simt_as_init(f->t, FUZZ_AS) ||
	    fuzz_isa_map(f, FUZZ_CMD_VA, f->cmd, 0, 1, SIM_PTE_READ) ||
	    fuzz_isa_map(f, FUZZ_PROG_VA, f->prog, 0, FUZZ_PROG_PAGES, rx) ||
	    simt_map(f->t, FUZZ_AS, FUZZ_PROG_VA + FUZZ_PROG_PAGES * SIM_PAGE_SIZE, f->prog_nx, 0,
		     SIM_PAGE_SIZE, SIM_PTE_READ) ||
	    fuzz_isa_map(f, FUZZ_DATA_VA, f->data, 0, 8, rw) ||
	    fuzz_isa_map(f, FUZZ_DATA_VA, f->data, 9, 3, rw) ||
	    fuzz_isa_map(f, FUZZ_DATA_VA, f->data, 12, 4, SIM_PTE_READ) ||
	    fuzz_isa_map(f, FUZZ_ARGS_VA, f->args, 0, 1, rw))
		return false;
	/* Pointers a kernel may load and follow. */
	args = f->args->host;
	args[0] = FUZZ_ARGS_VA;
	args[1] = FUZZ_DATA_VA;
	args[2] = FUZZ_DATA_VA + 8 * SIM_PAGE_SIZE;
	args[3] = FUZZ_DATA_VA + 12 * SIM_PAGE_SIZE;
	return true;
}

static uint64_t fuzz_isa_prog_va(uint8_t where)
{
	static const uint64_t va[4] = {FUZZ_PROG_VA, FUZZ_PROG_VA + 4,
				       FUZZ_PROG_VA + FUZZ_PROG_PAGES * SIM_PAGE_SIZE,
				       FUZZ_UNMAPPED};

	return va[where & 3];
}

static uint64_t fuzz_isa_args_va(uint8_t which)
{
	switch (which) {
	case 0:
		return FUZZ_ARGS_VA;
	case 1:
		return FUZZ_DATA_VA;
	case 2:
		return FUZZ_DATA_VA + 8 * SIM_PAGE_SIZE;
	case 3:
		return FUZZ_DATA_VA + 12 * SIM_PAGE_SIZE;
	default:
		return FUZZ_UNMAPPED;
	}
}

/*
 * After the dispatch: check the outcome (see the file head), then bring queue 0 back to IDLE and
 * clear every latch, as a driver's recovery would.
 */
static void fuzz_isa_settle(struct fuzz_isa *f, int ret)
{
	struct simt *t = f->t;
	uint32_t state = SIM_FIELD_GET(SIM_Q_STATUS_STATE, simt_read32(t, SIM_Q_STATUS(0)));

	if (ret == 0) {
		FUZZ_CHECK(state == SIM_Q_STATE_IDLE || state == SIM_Q_STATE_FAULTED);
	} else {
		FUZZ_CHECK(ret == -ETIMEDOUT);
		FUZZ_CHECK(state == SIM_Q_STATE_RUNNING || state == SIM_Q_STATE_WAITING);
	}
	if (state == SIM_Q_STATE_FAULTED) {
		uint32_t code = simt_read32(t, SIM_Q_FAULT_CODE(0));

		FUZZ_CHECK(strcmp(sim_fault_name(code), "UNKNOWN") != 0);
		FUZZ_CHECK(simt_read32(t, SIM_GPU_IRQ_RAWSTAT) & SIM_IRQ_JOB_FAULT(0));
		simt_write32(t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESUME);
	} else if (state != SIM_Q_STATE_IDLE) {
		simt_write32(t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESET);
	}
	FUZZ_CHECK(simt_run(t, FUZZ_ISA_CAP) == 0);
	FUZZ_CHECK(SIM_FIELD_GET(SIM_Q_STATUS_STATE, simt_read32(t, SIM_Q_STATUS(0))) ==
		   SIM_Q_STATE_IDLE);
	FUZZ_CHECK(simt_read32(t, SIM_Q_HEAD(0)) == simt_read32(t, SIM_Q_TAIL(0)));
	simt_write32(t, SIM_GPU_IRQ_CLEAR, SIM_IRQ_ALL);
	for (uint32_t as = 0; as < SIM_AS_MAX; as++)
		simt_write32(t, SIM_AS_FAULTCLEAR(as), 1);
}

/* A known-good job (WRITE32 into data page 0) still runs after whatever the kernel did. */
static void fuzz_isa_check_alive(struct fuzz_isa *f)
{
	uint32_t *cmd = f->cmd->host, n = 0, magic = 0x600dc0deu;

	n += sim_cmd_emit_write32(cmd + n, FUZZ_DATA_VA + 64, magic);
	n += sim_cmd_emit_end(cmd + n);
	FUZZ_CHECK(simt_submit(f->t, 0, FUZZ_AS, FUZZ_CMD_VA, n * 4, 2, SIM_RING_FLAG_IRQ) == 0);
	FUZZ_CHECK(simt_run(f->t, FUZZ_ISA_CAP) == 0);
	FUZZ_CHECK(((uint32_t *)f->data->host)[16] == magic);
	FUZZ_CHECK(simt_read32(f->t, SIM_GPU_IRQ_RAWSTAT) & SIM_IRQ_JOB_DONE(0));
}

/* LLVMFuzzerTestOneInput - see fuzz.h: one dispatch of the input's kernel (file head). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t header[FUZZ_ISA_HEADER] = {0};
	struct fuzz_isa f;
	uint32_t words, count, local, n;
	uint32_t *cmd;

	memcpy(header, data, size < sizeof(header) ? size : sizeof(header));
	words = size > FUZZ_ISA_HEADER ? (uint32_t)((size - FUZZ_ISA_HEADER) / 8) : 0;
	if (words > FUZZ_ISA_MAX_WORDS)
		words = FUZZ_ISA_MAX_WORDS;
	if (!fuzz_isa_init(&f, header[3])) {
		simt_destroy(f.t);
		return 0; /* the host is out of memory: nothing to learn */
	}
	for (uint32_t i = 0; i < words; i++)
		((uint64_t *)f.prog->host)[i] = fuzz_le64(data + FUZZ_ISA_HEADER + 8 * i);
	count = words + ((header[3] >> 4) & 3);
	local = header[2] == 0xff ? 0 : header[2] == 0xfe ? f.lanes + 1 : 1 + header[2] % f.lanes;
	cmd = f.cmd->host;
	n = sim_cmd_emit_dispatch(cmd, fuzz_isa_prog_va(header[4]), count,
				  fuzz_isa_args_va(header[5]), 1 + (header[0] & 7),
				  1 + (header[1] & 3), local);
	n += sim_cmd_emit_end(cmd + n);
	FUZZ_CHECK(simt_submit(f.t, 0, FUZZ_AS, FUZZ_CMD_VA, n * 4, 1, SIM_RING_FLAG_IRQ) == 0);
	fuzz_isa_settle(&f, simt_run(f.t, FUZZ_ISA_CAP));
	fuzz_isa_check_alive(&f);
	simt_destroy(f.t);
	return 0;
}
