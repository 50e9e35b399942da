/* SPDX-License-Identifier: MIT */
/*
 * bench_sched.c - the cost of a context switch on the shared engine, through magma.h on the
 * embedded device.
 *
 * One connection with LOW, REALTIME and two MEDIUM contexts. Each run starts a dispatch of many
 * slow workgroups on one context, waits until its first TIMESTAMP shows it running, then submits
 * on another context a command buffer holding only a TIMESTAMP (cycle counter) and measures (a)
 * simulated cycles from the GPU cycle counter read just before the submission
 * (MAGMA_SIM_QUERY_TIMESTAMP) to that TIMESTAMP, i.e. to the job's first command, and (b) host time
 * from magma_connection_execute_command to its signal semaphore (magma_poll). Two cases: a
 * REALTIME job over a LOW dispatch (msd-sim: two queues with Q_PRIORITY 0 and 3, the engine
 * preempts between workgroups) and a MEDIUM job over another MEDIUM context's dispatch (msd-sim
 * lends LOW's idle queue, the engine alternates workgroups). The same two figures for the same
 * buffer on an idle GPU are the baseline; the difference is what the running dispatch costs the
 * job (waiting for the workgroup in progress, plus the GPU time that passes while the submission
 * crosses the host, since the free-running model keeps executing the dispatch meanwhile; on an
 * idle GPU the clock stands still). The dispatch's own closing TIMESTAMP gives how long it still
 * ran after the job: what the job would have waited without preemption inside the dispatch.
 * Medians over repeated runs; every dispatch is checked to finish with all results. Not a ctest
 * test: timing is machine-dependent. "--short" runs fewer iterations; "--json FILE" also writes
 * the figures (bench_report.h). A failing call exits 1, bad usage 2.
 * Single-threaded (the device's threads aside).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "magma_sim_defs.h"
#include "magma_system/embedded.h"
#include "sim/sim_cmd.h"
#include "sim/sim_isa.h"

#include "bench_util.h"

#define BENCH_CMD_VA   0x1000000ull
#define BENCH_DATA_VA  0x2000000ull
#define BENCH_PROG_VA  0x3000000ull
#define BENCH_RT_OFF   0x800u  /* the short job's commands in the command buffer */
#define BENCH_RES_OFF  0x1000u /* dispatch results (u32 per group) in the data buffer */
#define BENCH_GROUPS   512u
#define BENCH_SIZE     0x4000ull
#define BENCH_WAIT_NS  (5 * 1000000000ull)
#define BENCH_MAX_RUNS 64

#ifndef MAGMA_SIM_VERSION
#define MAGMA_SIM_VERSION "0"
#endif

/* Each group loops, then stores its id + 1 at args + 4 * id. */
static const char bench_kernel[] = "mov r4, 400\n"
				   "loop\n"
				   "seq r5, r4, 0\n"
				   "break r5\n"
				   "sub r4, r4, 1\n"
				   "endloop\n"
				   "shl r6, r2, 2\n"
				   "add r7, r2, 1\n"
				   "stx r0, r6, r7, 0\n"
				   "exit\n";

struct bench {
	magma_device_t dev;
	magma_connection_t conn;
	uint32_t low, rt, med_a, med_b;
	magma_buffer_t cmd, data, prog;
	magma_buffer_id_t cmd_id, data_id, prog_id;
	uint32_t *cmd_cpu;
	volatile uint64_t *data_cpu;
	uint32_t low_bytes, rt_bytes;
	magma_semaphore_t low_done, rt_done;
	magma_semaphore_id_t low_done_id, rt_done_id;
};

/* A BENCH_SIZE buffer mapped at @va with @flags; its CPU mapping (kept) in *@cpu_out. */
static int bench_buffer(magma_connection_t conn, uint64_t va, uint64_t flags,
			magma_buffer_t *buf_out, magma_buffer_id_t *id_out, void **cpu_out)
{
	magma_handle_t handle;
	uint64_t size = 0;
	magma_status_t st;
	void *cpu;

	st = magma_connection_create_buffer(conn, BENCH_SIZE, &size, buf_out, id_out);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_connection_create_buffer", st);
	st = magma_buffer_get_handle(*buf_out, &handle);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_buffer_get_handle", st);
	cpu = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)handle, 0);
	close((int)handle);
	if (cpu == MAP_FAILED)
		return bench_fail("mmap", MAGMA_STATUS_MEMORY_ERROR);
	*cpu_out = cpu;
	st = magma_connection_map_buffer(conn, va, *buf_out, 0, size, flags);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_connection_map_buffer", st);
	return 0;
}

/* Submit @bytes of commands at @off of the command buffer on @ctx, signalling @sem_id. */
static int bench_exec(struct bench *b, uint32_t ctx, uint32_t off, uint32_t bytes,
		      magma_semaphore_id_t sem_id)
{
	magma_exec_resource_t res[2] = {{b->cmd_id, 0, off + bytes}, {b->data_id, 0, BENCH_SIZE}};
	magma_exec_command_buffer_t cb = {.resource_index = 0, .start_offset = off};
	uint64_t ids[1] = {sem_id};
	magma_command_descriptor_t desc = {
		.resource_count = 2,
		.command_buffer_count = 1,
		.signal_semaphore_count = 1,
		.resources = res,
		.command_buffers = &cb,
		.semaphore_ids = ids,
	};
	magma_status_t st = magma_connection_execute_command(b->conn, ctx, &desc);

	return st == MAGMA_STATUS_OK ? 0 : bench_fail("magma_connection_execute_command", st);
}

static int bench_wait(magma_semaphore_t sem)
{
	magma_poll_item_t item = {
		.semaphore = sem,
		.type = MAGMA_POLL_TYPE_SEMAPHORE,
		.condition = MAGMA_POLL_CONDITION_SIGNALED,
	};
	magma_status_t st = magma_poll(&item, 1, BENCH_WAIT_NS);

	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_poll", st);
	magma_semaphore_reset(sem);
	return 0;
}

/* Device, connection, both contexts, buffers, program and command streams. */
static int bench_init(struct bench *b)
{
	uint64_t *code = NULL;
	uint32_t count = 0, n = 0;
	void *cpu;
	char err[128];
	magma_status_t st;
	int fd = magma_sim_embedded_open();

	if (fd < 0)
		return bench_fail("magma_sim_embedded_open", MAGMA_STATUS_INTERNAL_ERROR);
	st = magma_device_import((magma_handle_t)fd, &b->dev);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_device_import", st);
	st = magma_device_create_connection(b->dev, &b->conn);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_device_create_connection", st);
	if (magma_connection_create_context2(b->conn, MAGMA_PRIORITY_LOW, &b->low) ||
	    magma_connection_create_context2(b->conn, MAGMA_PRIORITY_REALTIME, &b->rt) ||
	    magma_connection_create_context2(b->conn, MAGMA_PRIORITY_MEDIUM, &b->med_a) ||
	    magma_connection_create_context2(b->conn, MAGMA_PRIORITY_MEDIUM, &b->med_b))
		return bench_fail("magma_connection_create_context2", MAGMA_STATUS_INTERNAL_ERROR);
	if (magma_connection_create_semaphore(b->conn, &b->low_done, &b->low_done_id) ||
	    magma_connection_create_semaphore(b->conn, &b->rt_done, &b->rt_done_id))
		return bench_fail("magma_connection_create_semaphore", MAGMA_STATUS_INTERNAL_ERROR);
	if (bench_buffer(b->conn, BENCH_CMD_VA, MAGMA_MAP_FLAG_READ, &b->cmd, &b->cmd_id, &cpu))
		return 1;
	b->cmd_cpu = cpu;
	if (bench_buffer(b->conn, BENCH_DATA_VA, MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE,
			 &b->data, &b->data_id, &cpu))
		return 1;
	b->data_cpu = cpu;
	if (bench_buffer(b->conn, BENCH_PROG_VA, MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE,
			 &b->prog, &b->prog_id, &cpu))
		return 1;
	if (sim_asm_assemble(bench_kernel, &code, &count, err, sizeof(err))) {
		fprintf(stderr, "bench-sched: asm: %s\n", err);
		return 1;
	}
	memcpy(cpu, code, count * 8ull);
	free(code);
	/* Dispatch: TIMESTAMP data[0] (it runs), DISPATCH, TIMESTAMP data[2], END. */
	n += sim_cmd_emit_timestamp(b->cmd_cpu + n, BENCH_DATA_VA, SIM_CMD_TS_CYCLES);
	n += sim_cmd_emit_dispatch(b->cmd_cpu + n, BENCH_PROG_VA, count,
				   BENCH_DATA_VA + BENCH_RES_OFF, BENCH_GROUPS, 1, 1);
	n += sim_cmd_emit_timestamp(b->cmd_cpu + n, BENCH_DATA_VA + 16, SIM_CMD_TS_CYCLES);
	n += sim_cmd_emit_end(b->cmd_cpu + n);
	/* The short job: TIMESTAMP data[1], END. */
	b->low_bytes = n * 4;
	n = sim_cmd_emit_timestamp(b->cmd_cpu + BENCH_RT_OFF / 4, BENCH_DATA_VA + 8,
				   SIM_CMD_TS_CYCLES);
	n += sim_cmd_emit_end(b->cmd_cpu + BENCH_RT_OFF / 4 + n);
	b->rt_bytes = n * 4;
	st = magma_connection_flush(b->conn);
	return st == MAGMA_STATUS_OK ? 0 : bench_fail("magma_connection_flush", st);
}

static void bench_fini(struct bench *b)
{
	if (b->conn)
		magma_connection_release(b->conn);
	if (b->dev)
		magma_device_release(b->dev);
}

/* One figure set: medians of the job's cycles and host time, and of the dispatch's rest. */
struct bench_case {
	uint64_t cycles, host, rest;
};

/*
 * One submission of the short job on @job_ctx, with a dispatch running on @busy_ctx (NULL: on an
 * idle GPU); *@rest_out is how long the dispatch ran after the job's TIMESTAMP (0 when idle).
 */
static int bench_one(struct bench *b, const uint32_t *busy_ctx, uint32_t job_ctx,
		     uint64_t *cycles_out, uint64_t *host_out, uint64_t *rest_out)
{
	uint64_t c0, t0, spin_end;

	b->data_cpu[0] = b->data_cpu[1] = b->data_cpu[2] = 0;
	if (busy_ctx) {
		memset((uint8_t *)b->data_cpu + BENCH_RES_OFF, 0, BENCH_GROUPS * 4);
		if (bench_exec(b, *busy_ctx, 0, b->low_bytes, b->low_done_id) ||
		    magma_connection_flush(b->conn) != MAGMA_STATUS_OK)
			return 1;
		spin_end = bench_now_ns() + BENCH_WAIT_NS;
		while (!__atomic_load_n(&b->data_cpu[0], __ATOMIC_ACQUIRE)) {
			if (bench_now_ns() > spin_end)
				return bench_fail("the dispatch never started", 0);
		}
	}
	if (bench_gpu_cycles(b->dev, &c0))
		return 1;
	t0 = bench_now_ns();
	if (bench_exec(b, job_ctx, BENCH_RT_OFF, b->rt_bytes, b->rt_done_id) ||
	    bench_wait(b->rt_done))
		return 1;
	*host_out = bench_now_ns() - t0;
	*cycles_out = b->data_cpu[1] - c0;
	*rest_out = 0;
	if (busy_ctx) {
		if (bench_wait(b->low_done))
			return 1;
		for (uint32_t g = 0; g < BENCH_GROUPS; g++) {
			uint32_t v;

			memcpy(&v, (const uint8_t *)b->data_cpu + BENCH_RES_OFF + 4 * g, 4);
			if (v != g + 1)
				return bench_fail("checking the dispatch results", 0);
		}
		*rest_out = b->data_cpu[2] > b->data_cpu[1] ? b->data_cpu[2] - b->data_cpu[1] : 0;
	}
	return 0;
}

/* @runs submissions of the job on @job_ctx over @busy_ctx (NULL: idle); medians in @out. */
static int bench_case_run(struct bench *b, unsigned int runs, const uint32_t *busy_ctx,
			  uint32_t job_ctx, struct bench_case *out)
{
	uint64_t cycles[BENCH_MAX_RUNS], host[BENCH_MAX_RUNS], rest[BENCH_MAX_RUNS];

	for (unsigned int i = 0; i < runs; i++) {
		if (bench_one(b, busy_ctx, job_ctx, &cycles[i], &host[i], &rest[i]))
			return 1;
	}
	out->cycles = bench_median(cycles, runs);
	out->host = bench_median(host, runs);
	out->rest = bench_median(rest, runs);
	return 0;
}

static void bench_case_print(const char *what, const struct bench_case *c,
			     const struct bench_case *idle)
{
	printf("%-34s submit -> first command %8" PRIu64 " cycles, -> signaled %8.1f us (host)\n",
	       what, c->cycles, c->host / 1e3);
	if (c == idle)
		return;
	printf("%-34s switch cost (minus idle) %8" PRId64 " cycles, %8.1f us; the dispatch ran "
	       "%" PRIu64 " cycles more\n",
	       "", (int64_t)(c->cycles - idle->cycles),
	       ((double)c->host - (double)idle->host) / 1e3, c->rest);
}

/* The figures of bench_case_print, named "@what.<figure>", into @report. */
static void bench_case_report(struct bench_report *report, const char *what,
			      const struct bench_case *c, const struct bench_case *idle)
{
	char name[96];

	snprintf(name, sizeof(name), "%s.first_command", what);
	bench_report_add(report, name, (double)c->cycles, "cycles");
	snprintf(name, sizeof(name), "%s.signaled", what);
	bench_report_add(report, name, c->host / 1e3, "us");
	if (c == idle)
		return;
	snprintf(name, sizeof(name), "%s.switch_cost", what);
	bench_report_add(report, name, (double)((int64_t)(c->cycles - idle->cycles)), "cycles");
	snprintf(name, sizeof(name), "%s.switch_cost_host", what);
	bench_report_add(report, name, ((double)c->host - (double)idle->host) / 1e3, "us");
	snprintf(name, sizeof(name), "%s.dispatch_rest", what);
	bench_report_add(report, name, (double)c->rest, "cycles");
}

static void usage(FILE *out)
{
	fprintf(out, "usage: bench-sched [--short] [--json FILE]\n"
		     "       bench-sched --help | --version\n"
		     "The cost of a context switch on the shared engine, through magma.h on the\n"
		     "embedded device: a REALTIME job over a LOW dispatch and a MEDIUM job over a\n"
		     "MEDIUM dispatch, against the same job on an idle GPU, medians.\n"
		     "  --short    5 runs instead of 31\n"
		     "  --json FILE  also write the figures to FILE (docs/benchmarks.md)\n"
		     "  --help     this text\n"
		     "  --version  print \"bench-sched VERSION\"\n"
		     "Exit: 0 every call worked, 1 a call failed, 2 usage.\n");
}

int main(int argc, char **argv)
{
	unsigned int runs = 31;
	struct bench_case idle, prio, equal;
	struct bench_report *report = NULL;
	const char *json;
	struct bench b;
	int ret = 1;

	{
		bool is_short;
		int status = bench_args(argc, argv, "bench-sched", MAGMA_SIM_VERSION, usage,
					&is_short, &json);

		if (status >= 0)
			return status;
		if (is_short)
			runs = 5;
	}
	memset(&b, 0, sizeof(b));
	if (bench_init(&b))
		goto out;
	printf("bench-sched: medians of %u runs; the job = one TIMESTAMP; a dispatch = %u workgroups; "
	       "host time by CLOCK_MONOTONIC\n",
	       runs, BENCH_GROUPS);
	if (bench_case_run(&b, runs, NULL, b.rt, &idle) ||
	    bench_case_run(&b, runs, &b.low, b.rt, &prio) ||
	    bench_case_run(&b, runs, &b.med_a, b.med_b, &equal))
		goto out;
	bench_case_print("job on an idle GPU:", &idle, &idle);
	bench_case_print("REALTIME job over a LOW dispatch:", &prio, &idle);
	bench_case_print("MEDIUM job over a MEDIUM dispatch:", &equal, &idle);
	report = bench_report_create("bench-sched", MAGMA_SIM_VERSION, argc, argv);
	bench_case_report(report, "idle", &idle, &idle);
	bench_case_report(report, "realtime_over_low", &prio, &idle);
	bench_case_report(report, "medium_over_medium", &equal, &idle);
	ret = bench_report_write(report, json) ? 1 : 0;
out:
	bench_report_destroy(report);
	bench_fini(&b);
	return ret;
}
