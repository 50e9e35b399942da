/* SPDX-License-Identifier: MIT */
/*
 * sim_demo.c - the main job of scripts/run: one real workload on the simulated GPU, verified.
 *
 * It drives SIM-1 the way a system driver does, through the small host-side driver in
 * tests/common/sim_test_util (pinned host pages, 4-level page tables, a ring, doorbells): it
 * assembles a y = a * x + b kernel with sim_asm_assemble, builds one job that writes the kernel
 * arguments (WRITE32/WRITE64), poisons the output (FILL), stages the input (COPY), runs the
 * kernel over 4096 elements (DISPATCH) and copies the result out (COPY), with TIMESTAMPs between
 * the phases; then runs the virtual clock until the GPU is idle and checks every element on the
 * CPU. The event stream (JOB_START, CMD, JOB_END) gives the cycles each command took; the totals
 * come from sim_get_stats and the clock. Edge cases live in sim/tests, not here. Single-threaded.
 * Exits 0 when every check passed, 1 otherwise, 2 on bad usage (it takes no arguments but
 * --help and --version).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/sim.h"
#include "sim/sim_cmd.h"
#include "sim/sim_isa.h"
#include "sim_test_util.h"

#ifndef MAGMA_SIM_VERSION
#define MAGMA_SIM_VERSION "0"
#endif

#define DEMO_N		4096u /* elements */
#define DEMO_LANES	32u   /* workgroup width */
#define DEMO_A		2.5f  /* y = a * x + b: a * x is exact in float, so fused == unfused */
#define DEMO_B		-3.0f
#define DEMO_SEQNO	1
#define DEMO_MAX_CYCLES 50000000ull
#define DEMO_MAX_CMDS	32
#define DEMO_MAX_EVENTS 64

/* GPU virtual addresses of the demo's buffers (all in address space 0). */
#define DEMO_CMD_VA   0x100000ull
#define DEMO_PROG_VA  0x200000ull
#define DEMO_ARGS_VA  0x300000ull
#define DEMO_STAGE_VA 0x400000ull
#define DEMO_X_VA     0x500000ull
#define DEMO_Y_VA     0x600000ull
#define DEMO_OUT_VA   0x700000ull
#define DEMO_TS_VA    0x800000ull

/* Kernel arguments, as the kernel reads them at ARGS_VA. */
#define DEMO_ARG_X 0  /* u64 VA of x */
#define DEMO_ARG_Y 8  /* u64 VA of y */
#define DEMO_ARG_A 16 /* f32 */
#define DEMO_ARG_B 20 /* f32 */
#define DEMO_ARG_N 24 /* u32 element count */

/* r0/r1 = args VA and r2 = global invocation x at launch (sim_isa.h). */
static const char demo_kernel[] = "; y[i] = a * x[i] + b for i < n\n"
				  "        ld    r5, r0, 24         ; n\n"
				  "        sltu  r6, r2, r5\n"
				  "        if    r6\n"
				  "        ld    r8, r0, 0          ; x VA (lo, hi)\n"
				  "        ld    r9, r0, 4\n"
				  "        ld    r10, r0, 8         ; y VA (lo, hi)\n"
				  "        ld    r11, r0, 12\n"
				  "        ld    r12, r0, 16        ; a\n"
				  "        ld    r13, r0, 20        ; b\n"
				  "        shl   r7, r2, 2          ; byte offset of element i\n"
				  "        ldx   r14, r8, r7, 0     ; x[i]\n"
				  "        fma   r15, r12, r14, r13 ; a * x[i] + b\n"
				  "        stx   r10, r7, r15, 0    ; y[i]\n"
				  "        endif\n"
				  "        exit\n";

struct demo_event {
	enum sim_event_type type;
	uint64_t cycle;
	uint32_t code;
	uint64_t value;
	const char *name;
};

/* What the demo knows about its job: one line of text per command, found by command VA. */
struct demo {
	struct simt *t;
	uint32_t *cmd; /* host view of the command buffer */
	uint32_t ndw;  /* dwords emitted */
	uint32_t ncmds;
	uint64_t cmd_va[DEMO_MAX_CMDS];
	char what[DEMO_MAX_CMDS][96];
	struct demo_event ev[DEMO_MAX_EVENTS];
	uint32_t nev;
	uint32_t ev_dropped;
};

static uint32_t demo_f2u(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static double demo_host_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Event subscriber: keep JOB_START, CMD and JOB_END in order (runs with the device lock held). */
static void demo_on_event(void *ctx, const struct sim_event *ev)
{
	struct demo *d = ctx;

	if (d->nev >= DEMO_MAX_EVENTS) {
		d->ev_dropped++;
		return;
	}
	d->ev[d->nev++] = (struct demo_event){
		.type = ev->type,
		.cycle = ev->cycle,
		.code = ev->code,
		.value = ev->value,
		.name = ev->name,
	};
}

/* Remember the VA and a description of the command about to be emitted at d->ndw. */
static void demo_note(struct demo *d, const char *what)
{
	if (d->ncmds >= DEMO_MAX_CMDS)
		return;
	d->cmd_va[d->ncmds] = DEMO_CMD_VA + (uint64_t)d->ndw * 4;
	snprintf(d->what[d->ncmds], sizeof(d->what[0]), "%s", what);
	d->ncmds++;
}

static const char *demo_describe(const struct demo *d, uint64_t va)
{
	for (uint32_t i = 0; i < d->ncmds; i++) {
		if (d->cmd_va[i] == va)
			return d->what[i];
	}
	return "";
}

/* Build the job; returns its size in bytes. */
static uint32_t demo_build_job(struct demo *d, uint32_t prog_count)
{
	const uint64_t bytes = DEMO_N * sizeof(float);
	uint32_t *p = d->cmd;

	demo_note(d, "t0 -> ts[0]");
	d->ndw += sim_cmd_emit_timestamp(p + d->ndw, DEMO_TS_VA + 0, 0);
	demo_note(d, "args.x = VA of x");
	d->ndw += sim_cmd_emit_write64(p + d->ndw, DEMO_ARGS_VA + DEMO_ARG_X, DEMO_X_VA);
	demo_note(d, "args.y = VA of y");
	d->ndw += sim_cmd_emit_write64(p + d->ndw, DEMO_ARGS_VA + DEMO_ARG_Y, DEMO_Y_VA);
	demo_note(d, "args.a = 2.5f");
	d->ndw += sim_cmd_emit_write32(p + d->ndw, DEMO_ARGS_VA + DEMO_ARG_A, demo_f2u(DEMO_A));
	demo_note(d, "args.b = -3.0f");
	d->ndw += sim_cmd_emit_write32(p + d->ndw, DEMO_ARGS_VA + DEMO_ARG_B, demo_f2u(DEMO_B));
	demo_note(d, "args.n = 4096");
	d->ndw += sim_cmd_emit_write32(p + d->ndw, DEMO_ARGS_VA + DEMO_ARG_N, DEMO_N);
	demo_note(d, "poison y with 0xdeadbeef (16 KiB)");
	d->ndw += sim_cmd_emit_fill(p + d->ndw, DEMO_Y_VA, bytes, 0xdeadbeefu);
	demo_note(d, "stage x: staging -> x (16 KiB)");
	d->ndw += sim_cmd_emit_copy(p + d->ndw, DEMO_X_VA, DEMO_STAGE_VA, bytes);
	demo_note(d, "t1 -> ts[1]");
	d->ndw += sim_cmd_emit_timestamp(p + d->ndw, DEMO_TS_VA + 8, 0);
	demo_note(d, "y = a*x + b: 128 groups x 32 lanes");
	d->ndw += sim_cmd_emit_dispatch(p + d->ndw, DEMO_PROG_VA, prog_count, DEMO_ARGS_VA,
					DEMO_N / DEMO_LANES, 1, DEMO_LANES);
	demo_note(d, "t2 -> ts[2]");
	d->ndw += sim_cmd_emit_timestamp(p + d->ndw, DEMO_TS_VA + 16, 0);
	demo_note(d, "read back: y -> out (16 KiB)");
	d->ndw += sim_cmd_emit_copy(p + d->ndw, DEMO_OUT_VA, DEMO_Y_VA, bytes);
	demo_note(d, "t3 -> ts[3]");
	d->ndw += sim_cmd_emit_timestamp(p + d->ndw, DEMO_TS_VA + 24, 0);
	demo_note(d, "");
	d->ndw += sim_cmd_emit_end(p + d->ndw);
	return d->ndw * 4;
}

static void demo_print_steps(const struct demo *d)
{
	printf("      cycle   cycles  step\n");
	for (uint32_t i = 0; i < d->nev; i++) {
		const struct demo_event *e = &d->ev[i];
		uint64_t next = i + 1 < d->nev ? d->ev[i + 1].cycle : e->cycle;

		switch (e->type) {
		case SIM_EV_JOB_START:
			printf("  %9" PRIu64 " %8" PRIu64
			       "  JOB_START  AS %u, commands at %#" PRIx64 "\n",
			       e->cycle, next - e->cycle, e->code, e->value);
			break;
		case SIM_EV_CMD:
			printf("  %9" PRIu64 " %8" PRIu64 "  %-10s %s\n", e->cycle, next - e->cycle,
			       e->name ? e->name : "?", demo_describe(d, e->value));
			break;
		case SIM_EV_JOB_END:
			printf("  %9" PRIu64 " %8s  JOB_END    %s\n", e->cycle, "",
			       e->code ? sim_fault_name(e->code) : "ok");
			break;
		default:
			break;
		}
	}
	if (d->ev_dropped)
		printf("  (%u more events not shown)\n", d->ev_dropped);
}

/* Map @size bytes of a new buffer at @va in slot 0; NULL on failure. */
static struct simt_buf *demo_buffer(struct simt *t, uint64_t va, uint64_t size, uint64_t flags)
{
	struct simt_buf *b = simt_alloc(t, size);

	if (b && simt_map(t, 0, va, b, 0, b->size, flags)) {
		simt_free(t, b);
		return NULL;
	}
	return b;
}

static int demo_verify(const float *x, const float *out, const uint64_t *ts)
{
	uint32_t bad = 0;

	for (uint32_t i = 0; i < DEMO_N; i++) {
		float want = fmaf(DEMO_A, x[i], DEMO_B);

		if (demo_f2u(out[i]) != demo_f2u(want)) {
			if (bad < 5)
				printf("  MISMATCH y[%u] = %g (%#x), want %g\n", i, (double)out[i],
				       demo_f2u(out[i]), (double)want);
			bad++;
		}
	}
	printf("[5] verify: %u/%u elements equal fmaf(a, x[i], b) bit for bit%s\n", DEMO_N - bad,
	       DEMO_N, bad ? "  <-- FAIL" : "");
	if (!(ts[0] < ts[1] && ts[1] < ts[2] && ts[2] < ts[3])) {
		printf("  FAIL: timestamps not increasing\n");
		bad++;
	}
	return bad ? -1 : 0;
}

/* sim-demo entry point: no arguments; exit status 0 when the workload verified, 1 otherwise. */
/* Handles --help and --version; -1 to run the demo, else the exit status. */
static int parse_args(int argc, char **argv)
{
	if (argc == 1)
		return -1;
	if (!strcmp(argv[1], "--help")) {
		printf("usage: sim-demo\n"
		       "       sim-demo --help | --version\n"
		       "Runs y = a * x + b over %u elements on a simulated SIM-1 GPU (no system\n"
		       "driver, no Magma: the sim's host API directly), checks every element and\n"
		       "prints the cycles each command took. Takes no options but:\n"
		       "  --help     this text\n"
		       "  --version  print \"sim-demo VERSION\"\n"
		       "Exit: 0 every check passed, 1 one failed, 2 usage.\n",
		       DEMO_N);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("sim-demo %s\n", MAGMA_SIM_VERSION);
		return 0;
	}
	fprintf(stderr, "sim-demo: %s '%s' (see sim-demo --help)\n",
		argv[1][0] == '-' ? "unknown option" : "unexpected argument", argv[1]);
	return 2;
}

int main(int argc, char **argv)
{
	struct sim_config cfg;
	struct sim_stats st;
	struct demo d;
	struct simt_buf *cmd, *prog, *args, *stage, *xb, *yb, *outb, *tsb;
	uint64_t *code = NULL, *ts, c0, ns0;
	uint32_t count = 0, job_bytes, state;
	char err[256];
	double t0, host_s;
	float *x;
	int ret, status = 1;

	ret = parse_args(argc, argv);
	if (ret >= 0)
		return ret;
	memset(&d, 0, sizeof(d));
	sim_config_default(&cfg);
	printf("sim-demo: y = a*x + b over %u floats on the simulated GPU SIM-1\n", DEMO_N);
	d.t = simt_create(&cfg);
	if (!d.t) {
		fprintf(stderr, "sim-demo: cannot create the device\n");
		return 1;
	}
	printf("[1] device: %u cores x %u lanes, %u queues, %u AS slots, %" PRIu64
	       " MHz, cores powered\n",
	       cfg.cores, cfg.lanes, cfg.queues, cfg.as_slots, cfg.clock_hz / 1000000);

	ret = sim_asm_assemble(demo_kernel, &code, &count, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "sim-demo: kernel does not assemble: %s\n", err);
		goto out;
	}
	printf("[2] assembled the kernel: %u instructions (%u bytes)\n", count, count * 8);

	cmd = demo_buffer(d.t, DEMO_CMD_VA, 4096, SIM_PTE_READ);
	prog = demo_buffer(d.t, DEMO_PROG_VA, count * 8, SIM_PTE_READ | SIM_PTE_EXECUTE);
	args = demo_buffer(d.t, DEMO_ARGS_VA, 4096, SIM_PTE_READ | SIM_PTE_WRITE);
	stage = demo_buffer(d.t, DEMO_STAGE_VA, DEMO_N * 4, SIM_PTE_READ);
	xb = demo_buffer(d.t, DEMO_X_VA, DEMO_N * 4, SIM_PTE_READ | SIM_PTE_WRITE);
	yb = demo_buffer(d.t, DEMO_Y_VA, DEMO_N * 4, SIM_PTE_READ | SIM_PTE_WRITE);
	outb = demo_buffer(d.t, DEMO_OUT_VA, DEMO_N * 4, SIM_PTE_READ | SIM_PTE_WRITE);
	tsb = demo_buffer(d.t, DEMO_TS_VA, 4096, SIM_PTE_READ | SIM_PTE_WRITE);
	if (!cmd || !prog || !args || !stage || !xb || !yb || !outb || !tsb ||
	    simt_queue_init(d.t, 0, 0, 16)) {
		fprintf(stderr, "sim-demo: cannot set up memory\n");
		goto out;
	}
	memcpy(prog->host, code, count * 8);
	x = stage->host;
	for (uint32_t i = 0; i < DEMO_N; i++)
		x[i] = (float)i * 0.25f - 100.0f;
	d.cmd = cmd->host;
	job_bytes = demo_build_job(&d, count);
	printf("[3] job: %u commands, %u bytes at %#llx; ring of 16 entries on queue 0; "
	       "%" PRIu64 " frames pinned\n",
	       d.ncmds, job_bytes, DEMO_CMD_VA, sim_bus_frames_mapped(d.t->dev));

	if (sim_events_subscribe(d.t->dev,
				 SIM_EV_MASK(SIM_EV_JOB_START) | SIM_EV_MASK(SIM_EV_CMD) |
					 SIM_EV_MASK(SIM_EV_JOB_END),
				 demo_on_event, &d) < 0) {
		fprintf(stderr, "sim-demo: cannot subscribe to events\n");
		goto out;
	}
	c0 = sim_clock_now(d.t->dev);
	ns0 = sim_clock_ns(d.t->dev);
	if (simt_submit(d.t, 0, 0, DEMO_CMD_VA, job_bytes, DEMO_SEQNO, SIM_RING_FLAG_IRQ)) {
		fprintf(stderr, "sim-demo: submit failed\n");
		goto out;
	}
	printf("[4] submitted (seqno %d), running the clock until idle:\n", DEMO_SEQNO);
	t0 = demo_host_seconds();
	ret = simt_run(d.t, DEMO_MAX_CYCLES);
	host_s = demo_host_seconds() - t0;
	demo_print_steps(&d);

	state = SIM_FIELD_GET(SIM_Q_STATUS_STATE, simt_read32(d.t, SIM_Q_STATUS(0)));
	if (ret || state != SIM_Q_STATE_IDLE ||
	    sim_mmio_read64(d.t->dev, SIM_Q_SEQNO_LO(0)) != DEMO_SEQNO ||
	    !(simt_read32(d.t, SIM_GPU_IRQ_RAWSTAT) & SIM_IRQ_JOB_DONE(0))) {
		printf("  FAIL: run %d, queue state %u, fault %s, seqno %" PRIu64 "\n", ret, state,
		       sim_fault_name(simt_read32(d.t, SIM_Q_FAULT_CODE(0))),
		       sim_mmio_read64(d.t->dev, SIM_Q_SEQNO_LO(0)));
		goto out;
	}
	ts = tsb->host;
	if (demo_verify(x, outb->host, ts))
		goto out;
	printf("    out[0] = %g, out[4095] = %g; y poison overwritten: %s\n",
	       (double)((float *)outb->host)[0], (double)((float *)outb->host)[DEMO_N - 1],
	       demo_f2u(((float *)yb->host)[0]) != 0xdeadbeefu ? "yes" : "no");

	sim_get_stats(d.t->dev, &st);
	printf("totals:\n");
	printf("  GPU cycles          %12" PRIu64 "\n", sim_clock_now(d.t->dev) - c0);
	printf("  simulated time      %12" PRIu64 " ns (kernel %" PRIu64 " ns, t3 - t0 %" PRIu64
	       " ns)\n",
	       sim_clock_ns(d.t->dev) - ns0, ts[2] - ts[1], ts[3] - ts[0]);
	printf("  commands            %12" PRIu64 "\n", st.commands);
	printf("  bytes copied/filled %12" PRIu64 "\n", st.bytes_copied);
	printf("  TLB hits / misses   %12" PRIu64 " / %" PRIu64 "\n", st.tlb_hits, st.tlb_misses);
	printf("  lane-instructions   %12" PRIu64 "\n", st.lane_instructions);
	printf("  guest errors        %12" PRIu64 "\n", st.guest_errors);
	printf("  host time           %12.3f ms\n", host_s * 1e3);
	printf("sim-demo: PASS\n");
	status = 0;
out:
	if (status)
		printf("sim-demo: FAIL\n");
	free(code);
	simt_destroy(d.t);
	return status;
}
