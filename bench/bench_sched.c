/* SPDX-License-Identifier: MIT */
/*
 * bench_sched.c - the cost of a priority context switch, through magma.h on the embedded device.
 *
 * One connection with a LOW and a REALTIME context (msd-sim puts them on two hardware queues with
 * Q_PRIORITY 0 and 3). Each run starts a LOW dispatch of many slow workgroups, waits until its
 * first TIMESTAMP shows it running, then submits a REALTIME command buffer holding only a
 * TIMESTAMP (cycle counter) and measures (a) simulated cycles from the GPU cycle counter read just
 * before the submission (MAGMA_SIM_QUERY_TIMESTAMP) to that TIMESTAMP, i.e. to the realtime
 * job's first command, and (b) host time from magma_connection_execute_command to its signal
 * semaphore (magma_poll). The same two figures for the same buffer on an idle GPU are the
 * baseline; the difference is what the running dispatch costs the realtime job (waiting for the
 * workgroup in progress, plus the GPU time that passes while the submission crosses the host,
 * since the free-running model keeps executing the dispatch meanwhile; on an idle GPU the clock
 * stands still). Medians over repeated runs; every dispatch is checked to finish with all results.
 * Not a ctest test: timing is machine-dependent. "--short" runs fewer iterations. A failing call
 * exits 1. Single-threaded (the device's threads aside).
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
#define BENCH_RT_OFF   0x800u  /* realtime commands in the command buffer */
#define BENCH_RES_OFF  0x1000u /* dispatch results (u32 per group) in the data buffer */
#define BENCH_GROUPS   512u
#define BENCH_SIZE     0x4000ull
#define BENCH_WAIT_NS  (5 * 1000000000ull)
#define BENCH_MAX_RUNS 64

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
	uint32_t low, rt;
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
	    magma_connection_create_context2(b->conn, MAGMA_PRIORITY_REALTIME, &b->rt))
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
	/* LOW: TIMESTAMP data[0] (it runs), DISPATCH, END. REALTIME: TIMESTAMP data[1], END. */
	n += sim_cmd_emit_timestamp(b->cmd_cpu + n, BENCH_DATA_VA, SIM_CMD_TS_CYCLES);
	n += sim_cmd_emit_dispatch(b->cmd_cpu + n, BENCH_PROG_VA, count,
				   BENCH_DATA_VA + BENCH_RES_OFF, BENCH_GROUPS, 1, 1);
	n += sim_cmd_emit_end(b->cmd_cpu + n);
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

/* One realtime submission, with the LOW dispatch running when @loaded, on an idle GPU otherwise. */
static int bench_one(struct bench *b, int loaded, uint64_t *cycles_out, uint64_t *host_out)
{
	uint64_t c0, t0, spin_end;

	b->data_cpu[0] = b->data_cpu[1] = 0;
	if (loaded) {
		memset((uint8_t *)b->data_cpu + BENCH_RES_OFF, 0, BENCH_GROUPS * 4);
		if (bench_exec(b, b->low, 0, b->low_bytes, b->low_done_id) ||
		    magma_connection_flush(b->conn) != MAGMA_STATUS_OK)
			return 1;
		spin_end = bench_now_ns() + BENCH_WAIT_NS;
		while (!__atomic_load_n(&b->data_cpu[0], __ATOMIC_ACQUIRE)) {
			if (bench_now_ns() > spin_end)
				return bench_fail("the LOW dispatch never started", 0);
		}
	}
	if (bench_gpu_cycles(b->dev, &c0))
		return 1;
	t0 = bench_now_ns();
	if (bench_exec(b, b->rt, BENCH_RT_OFF, b->rt_bytes, b->rt_done_id) ||
	    bench_wait(b->rt_done))
		return 1;
	*host_out = bench_now_ns() - t0;
	*cycles_out = b->data_cpu[1] - c0;
	if (loaded) {
		if (bench_wait(b->low_done))
			return 1;
		for (uint32_t g = 0; g < BENCH_GROUPS; g++) {
			uint32_t v;

			memcpy(&v, (const uint8_t *)b->data_cpu + BENCH_RES_OFF + 4 * g, 4);
			if (v != g + 1)
				return bench_fail("checking the dispatch results", 0);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int runs = argc > 1 && !strcmp(argv[1], "--short") ? 5 : 31;
	uint64_t cycles[2][BENCH_MAX_RUNS], host[2][BENCH_MAX_RUNS], mc[2], mh[2];
	struct bench b;
	int ret = 1;

	memset(&b, 0, sizeof(b));
	if (bench_init(&b))
		goto out;
	printf("bench-sched: medians of %u runs; REALTIME job = one TIMESTAMP; host time by "
	       "CLOCK_MONOTONIC\n",
	       runs);
	for (int loaded = 0; loaded < 2; loaded++) {
		for (unsigned int i = 0; i < runs; i++) {
			if (bench_one(&b, loaded, &cycles[loaded][i], &host[loaded][i]))
				goto out;
		}
		mc[loaded] = bench_median(cycles[loaded], runs);
		mh[loaded] = bench_median(host[loaded], runs);
	}
	printf("realtime on an idle GPU: submit -> first command  %10" PRIu64 " cycles\n", mc[0]);
	printf("realtime on an idle GPU: submit -> signaled (host) %9.1f us\n", mh[0] / 1e3);
	printf("realtime over a LOW dispatch: submit -> first cmd %10" PRIu64 " cycles\n", mc[1]);
	printf("realtime over a LOW dispatch: submit -> signaled  %9.1f us (host)\n", mh[1] / 1e3);
	printf("context-switch cost (loaded - idle)               %10" PRId64 " cycles, %.1f us\n",
	       (int64_t)(mc[1] - mc[0]), ((double)mh[1] - (double)mh[0]) / 1e3);
	ret = 0;
out:
	bench_fini(&b);
	return ret;
}
