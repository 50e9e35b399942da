/* SPDX-License-Identifier: MIT */
/*
 * bench_sim.c - how fast the GPU model runs on this host.
 *
 * Two workloads, each submitted as real jobs through tests/common/sim_test_util and run with
 * sim_clock_run_until_idle: a copy stream (COPY commands of 1 MiB between two mapped buffers,
 * with a TLB large enough that every access hits after the first pass) and a compute kernel (an
 * ALU-heavy loop, 32 lanes per group, many groups). For each it prints simulated GPU cycles per
 * host second; for the copy stream also the model's throughput next to host memcpy of the same
 * sizes measured in the same run, and their ratio; for compute the lane-instructions per host
 * second. Every figure is the median of several runs (CLOCK_MONOTONIC), shown with its target
 * and PASS or BELOW. Results are checked (the copy bytes and the kernel output against the CPU),
 * and a failed check exits 1; a figure below target does not (timing depends on the machine).
 * Not a ctest test. Single-threaded. "--short" runs fewer and smaller repetitions (scripts/test);
 * "--json FILE" also writes the figures (bench_report.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/sim.h"
#include "sim/sim_cmd.h"
#include "sim/sim_isa.h"
#include "sim_test_util.h"

#include "bench_report.h"

#define BENCH_MIB		(1024u * 1024u)
#define BENCH_MAX_RUNS		15
#define BENCH_MAX_CYCLES	(1ull << 40)
#define BENCH_COPY_RATIO_TARGET 25.0 /* model copy GB/s as % of host memcpy */
#define BENCH_LANE_IPS_TARGET	50e6 /* lane-instructions per host second */

#define BENCH_CMD_VA  0x100000ull
#define BENCH_SRC_VA  0x10000000ull
#define BENCH_DST_VA  0x20000000ull
#define BENCH_PROG_VA 0x30000000ull
#define BENCH_ARGS_VA 0x30100000ull
#define BENCH_OUT_VA  0x30200000ull

#ifndef MAGMA_SIM_VERSION
#define MAGMA_SIM_VERSION "0"
#endif

/* Loop of 8 instructions per iteration; r2 = global invocation x, r0/r1 = args VA. */
static const char bench_kernel_fmt[] = "        mov   r4, 0\n"
				       "        mov   r5, r2\n"
				       "        loop\n"
				       "        mul   r5, r5, 1664525\n"
				       "        add   r5, r5, 1013904223\n"
				       "        shr   r6, r5, 13\n"
				       "        xor   r5, r5, r6\n"
				       "        add   r4, r4, 1\n"
				       "        seq   r7, r4, %u\n"
				       "        break r7\n"
				       "        endloop\n"
				       "        ld    r10, r0, 0\n"
				       "        ld    r11, r0, 4\n"
				       "        shl   r12, r2, 2\n"
				       "        stx   r10, r12, r5, 0\n"
				       "        exit\n";

struct bench_params {
	unsigned int runs;
	uint32_t copies;     /* 1 MiB COPY commands per job */
	uint32_t groups;     /* compute workgroups of 32 lanes */
	uint32_t iterations; /* loop iterations per lane */
};

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double bench_median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Prints one figure, with its target when it has one, and adds it to @report as @key. */
static void bench_figure(struct bench_report *report, const char *key, const char *what,
			 double value, const char *unit, const char *report_unit, double target)
{
	bench_report_add(report, key, value, report_unit);
	if (target > 0)
		printf("  %-30s %10.2f %-6s target >= %.0f %-5s %s\n", what, value, unit, target,
		       unit, value >= target ? "PASS" : "BELOW");
	else
		printf("  %-30s %10.2f %s\n", what, value, unit);
}

/* Run one job of @bytes at BENCH_CMD_VA on queue 0; returns host seconds, or -1 on failure. */
static double bench_job(struct simt *t, uint32_t bytes, uint64_t seqno, uint64_t *cycles_out)
{
	uint64_t c0 = sim_clock_now(t->dev);
	double t0;
	int ret;

	if (simt_submit(t, 0, 0, BENCH_CMD_VA, bytes, seqno, 0))
		return -1;
	t0 = bench_now();
	ret = simt_run(t, BENCH_MAX_CYCLES);
	t0 = bench_now() - t0;
	*cycles_out = sim_clock_now(t->dev) - c0;
	if (ret || sim_mmio_read64(t->dev, SIM_Q_SEQNO_LO(0)) != seqno ||
	    SIM_FIELD_GET(SIM_Q_STATUS_STATE, simt_read32(t, SIM_Q_STATUS(0))) !=
		    SIM_Q_STATE_IDLE) {
		fprintf(stderr, "bench-sim: job failed (run %d, fault %s)\n", ret,
			sim_fault_name(simt_read32(t, SIM_Q_FAULT_CODE(0))));
		return -1;
	}
	return t0;
}

/* Map a new buffer of @size at @va in slot 0, or NULL. */
static struct simt_buf *bench_buffer(struct simt *t, uint64_t va, uint64_t size, uint64_t flags)
{
	struct simt_buf *b = simt_alloc(t, size);

	if (b && simt_map(t, 0, va, b, 0, b->size, flags)) {
		simt_free(t, b);
		return NULL;
	}
	return b;
}

static int bench_copy(const struct bench_params *p, struct bench_report *report)
{
	const uint64_t total = (uint64_t)p->copies * BENCH_MIB;
	double model[BENCH_MAX_RUNS], host[BENCH_MAX_RUNS], cps[BENCH_MAX_RUNS], mg, hg;
	struct simt_buf *cmd, *src, *dst;
	struct sim_config cfg;
	struct simt *t;
	uint32_t *cw, n = 0;
	volatile uint8_t sink;
	int status = 1;

	sim_config_default(&cfg);
	cfg.tlb_entries = 4096; /* 16 MiB of reach: both 1 MiB buffers stay resident */
	t = simt_create(&cfg);
	if (!t)
		return 1;
	cmd = bench_buffer(t, BENCH_CMD_VA, (uint64_t)p->copies * 28 + 4, SIM_PTE_READ);
	src = bench_buffer(t, BENCH_SRC_VA, BENCH_MIB, SIM_PTE_READ | SIM_PTE_WRITE);
	dst = bench_buffer(t, BENCH_DST_VA, BENCH_MIB, SIM_PTE_READ | SIM_PTE_WRITE);
	if (!cmd || !src || !dst || simt_queue_init(t, 0, 0, 16))
		goto out;
	for (uint32_t i = 0; i < BENCH_MIB; i++)
		((uint8_t *)src->host)[i] = (uint8_t)(i * 7 + 3);
	cw = cmd->host;
	/* Even count: src -> dst, dst -> src, ... so both end up equal to the pattern. */
	for (uint32_t i = 0; i < p->copies; i++)
		n += i % 2 ? sim_cmd_emit_copy(cw + n, BENCH_SRC_VA, BENCH_DST_VA, BENCH_MIB)
			   : sim_cmd_emit_copy(cw + n, BENCH_DST_VA, BENCH_SRC_VA, BENCH_MIB);
	n += sim_cmd_emit_end(cw + n);

	for (unsigned int r = 0; r <= p->runs; r++) { /* run 0 warms up (TLB, caches) */
		uint64_t cycles;
		double s = bench_job(t, n * 4, r + 1, &cycles);

		if (s < 0)
			goto out;
		if (r > 0) {
			model[r - 1] = (double)total / s / 1e9;
			cps[r - 1] = (double)cycles / s;
		}
	}
	if (memcmp(src->host, dst->host, BENCH_MIB) ||
	    ((uint8_t *)dst->host)[BENCH_MIB - 1] != (uint8_t)((BENCH_MIB - 1) * 7 + 3)) {
		fprintf(stderr, "bench-sim: copy results are wrong\n");
		goto out;
	}
	for (unsigned int r = 0; r <= p->runs; r++) {
		double s = bench_now();

		for (uint32_t i = 0; i < p->copies; i++) {
			if (i % 2)
				memcpy(src->host, dst->host, BENCH_MIB);
			else
				memcpy(dst->host, src->host, BENCH_MIB);
		}
		s = bench_now() - s;
		sink = ((volatile uint8_t *)dst->host)[r];
		(void)sink;
		if (r > 0)
			host[r - 1] = (double)total / s / 1e9;
	}
	mg = bench_median(model, p->runs);
	hg = bench_median(host, p->runs);

	printf("copy stream: %u x COPY 1 MiB per job, TLB %u entries, %u runs\n", p->copies,
	       cfg.tlb_entries, p->runs);
	bench_figure(report, "copy.cycles_per_s", "simulated cycles / host s",
		     bench_median(cps, p->runs) / 1e6, "M", "M/s", 0);
	bench_figure(report, "copy.model", "model copy throughput", mg, "GB/s", "GB/s", 0);
	bench_figure(report, "copy.memcpy", "host memcpy, same sizes", hg, "GB/s", "GB/s", 0);
	bench_figure(report, "copy.model_vs_memcpy", "model / memcpy", 100.0 * mg / hg, "%", "%",
		     BENCH_COPY_RATIO_TARGET);
	status = 0;
out:
	simt_destroy(t);
	return status;
}

static uint32_t bench_reference(uint32_t gid, uint32_t iterations)
{
	uint32_t acc = gid;

	for (uint32_t i = 0; i < iterations; i++) {
		acc = acc * 1664525u + 1013904223u;
		acc ^= acc >> 13;
	}
	return acc;
}

static int bench_compute(const struct bench_params *p, struct bench_report *report)
{
	const uint32_t lanes = 32, invocations = p->groups * lanes;
	double lips[BENCH_MAX_RUNS], cps[BENCH_MAX_RUNS];
	struct simt_buf *cmd, *prog, *args, *out;
	struct sim_config cfg;
	struct sim_stats st0, st1;
	struct simt *t;
	uint64_t *code = NULL;
	uint32_t count, n = 0;
	char src[sizeof(bench_kernel_fmt) + 16], err[256];
	int status = 1;

	sim_config_default(&cfg);
	cfg.lanes = lanes;
	t = simt_create(&cfg);
	if (!t)
		return 1;
	snprintf(src, sizeof(src), bench_kernel_fmt, p->iterations);
	if (sim_asm_assemble(src, &code, &count, err, sizeof(err))) {
		fprintf(stderr, "bench-sim: kernel does not assemble: %s\n", err);
		goto out;
	}
	cmd = bench_buffer(t, BENCH_CMD_VA, 4096, SIM_PTE_READ);
	prog = bench_buffer(t, BENCH_PROG_VA, count * 8, SIM_PTE_READ | SIM_PTE_EXECUTE);
	args = bench_buffer(t, BENCH_ARGS_VA, 4096, SIM_PTE_READ);
	out = bench_buffer(t, BENCH_OUT_VA, (uint64_t)invocations * 4,
			   SIM_PTE_READ | SIM_PTE_WRITE);
	if (!cmd || !prog || !args || !out || simt_queue_init(t, 0, 0, 16))
		goto out;
	memcpy(prog->host, code, count * 8);
	((uint64_t *)args->host)[0] = BENCH_OUT_VA;
	n += sim_cmd_emit_dispatch((uint32_t *)cmd->host + n, BENCH_PROG_VA, count, BENCH_ARGS_VA,
				   p->groups, 1, lanes);
	n += sim_cmd_emit_end((uint32_t *)cmd->host + n);

	for (unsigned int r = 0; r <= p->runs; r++) {
		uint64_t cycles;
		double s;

		memset(out->host, 0, out->size);
		sim_get_stats(t->dev, &st0);
		s = bench_job(t, n * 4, r + 1, &cycles);
		sim_get_stats(t->dev, &st1);
		if (s < 0)
			goto out;
		if (r > 0) {
			lips[r - 1] = (double)(st1.lane_instructions - st0.lane_instructions) / s;
			cps[r - 1] = (double)cycles / s;
		}
	}
	for (uint32_t i = 0; i < invocations; i++) {
		uint32_t want = bench_reference(i, p->iterations);

		if (((uint32_t *)out->host)[i] != want) {
			fprintf(stderr, "bench-sim: out[%u] = %#x, want %#x\n", i,
				((uint32_t *)out->host)[i], want);
			goto out;
		}
	}
	printf("compute: %u groups x %u lanes, %u-iteration ALU loop (%u instructions), %u runs\n",
	       p->groups, lanes, p->iterations, count, p->runs);
	printf("  lane-instructions per run     %10.2f M\n",
	       (double)(st1.lane_instructions - st0.lane_instructions) / 1e6);
	bench_figure(report, "compute.cycles_per_s", "simulated cycles / host s",
		     bench_median(cps, p->runs) / 1e6, "M", "M/s", 0);
	bench_figure(report, "compute.lane_instructions_per_s", "lane-instructions / host s",
		     bench_median(lips, p->runs) / 1e6, "M", "M/s", BENCH_LANE_IPS_TARGET / 1e6);
	status = 0;
out:
	free(code);
	simt_destroy(t);
	return status;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench-sim [--short] [--json FILE]\n"
		"       bench-sim --help | --version\n"
		"How fast the GPU model runs on this host: a copy stream against host memcpy and\n"
		"a compute kernel, medians of several runs against targets (PASS or BELOW).\n"
		"  --short    fewer and smaller repetitions (what scripts/test runs)\n"
		"  --json FILE  also write the figures to FILE (docs/benchmarks.md)\n"
		"  --help     this text\n"
		"  --version  print \"bench-sim VERSION\"\n"
		"Exit: 0 every result right (a figure BELOW does not fail), 1 a wrong result,\n"
		"2 usage.\n");
}

/*
 * bench-sim entry point: [--short] [--json FILE]; exit status 1 when a result is wrong or the
 * report cannot be written, 2 on bad usage.
 */
int main(int argc, char **argv)
{
	struct bench_params p = {.runs = 7, .copies = 1024, .groups = 512, .iterations = 1000};
	struct bench_report *report;
	const char *json = NULL;
	int status = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") && i + 1 < argc) {
			json = argv[++i];
		} else if (!strcmp(argv[i], "--short")) {
			p = (struct bench_params){
				.runs = 3, .copies = 128, .groups = 64, .iterations = 500};
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("bench-sim %s\n", MAGMA_SIM_VERSION);
			return 0;
		} else {
			fprintf(stderr, "bench-sim: %s '%s' (see bench-sim --help)\n",
				strcmp(argv[i], "--json") ? "unknown option" : "missing FILE for",
				argv[i]);
			return 2;
		}
	}
	report = bench_report_create("bench-sim", MAGMA_SIM_VERSION, argc, argv);
	printf("bench-sim: medians of %u runs, host time by CLOCK_MONOTONIC\n", p.runs);
	status |= bench_copy(&p, report);
	status |= bench_compute(&p, report);
	if (!status && bench_report_write(report, json))
		status = 1;
	bench_report_destroy(report);
	return status;
}
