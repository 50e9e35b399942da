/* SPDX-License-Identifier: MIT */
/*
 * bench_recovery.c - how fast a client learns that the GPU gave up on its work, through magma.h.
 *
 * Two figures, each the median over repeated runs on a fresh embedded device
 * (magma_sim_embedded_open: sim, msd-sim and magma_system on threads of this process):
 * (1) fault: a command buffer writes to an unmapped GPU address; host time from
 * magma_connection_execute_command until the connection's notification channel is readable or
 * hung up (magma_poll on its handle). (2) hang: a compute kernel that loops forever (no workgroup
 * ever finishes, so neither SEQNO nor PROGRESS moves; CP_HANG injection is not reachable through
 * magma.h); the same host time, which is hang detection plus recovery (the watchdog tick, the soft
 * reset, the kill), and the simulated GPU cycles it took (MAGMA_SIM_QUERY_TIMESTAMP before the
 * submission and after the notice). Not a ctest test: timing is machine-dependent. "--short" runs
 * fewer iterations; "--json FILE" also writes the figures (bench_report.h). A failing call exits 1,
 * bad usage 2. Single-threaded (the device's threads aside).
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
#define BENCH_PROG_VA  0x2000000ull
#define BENCH_BAD_VA   0x7000000ull
#define BENCH_WAIT_NS  (5 * 1000000000ull)
#define BENCH_MAX_RUNS 64

#ifndef MAGMA_SIM_VERSION
#define MAGMA_SIM_VERSION "0"
#endif

struct bench_run {
	uint64_t host_ns;
	uint64_t gpu_cycles;
};

/* A buffer of @size mapped at @va with @flags; @words (@count) written at its start. */
static int bench_buffer(magma_connection_t conn, uint64_t va, uint64_t flags, const void *words,
			size_t bytes, magma_buffer_t *buf_out, magma_buffer_id_t *id_out)
{
	magma_handle_t handle;
	uint64_t size = 0;
	magma_status_t st;
	void *cpu;

	st = magma_connection_create_buffer(conn, 4096, &size, buf_out, id_out);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_connection_create_buffer", st);
	st = magma_buffer_get_handle(*buf_out, &handle);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_buffer_get_handle", st);
	cpu = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)handle, 0);
	close((int)handle);
	if (cpu == MAP_FAILED)
		return bench_fail("mmap", MAGMA_STATUS_MEMORY_ERROR);
	memcpy(cpu, words, bytes);
	munmap(cpu, (size_t)size);
	st = magma_connection_map_buffer(conn, va, *buf_out, 0, size, flags);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_connection_map_buffer", st);
	return 0;
}

/* One run: a fresh device; @hang picks the endless kernel, else the fault. */
static int bench_one(int hang, struct bench_run *out)
{
	uint32_t cmds[32], n = 0, count = 0;
	uint64_t *code = NULL, c0 = 0, c1 = 0, t0;
	magma_device_t dev = 0;
	magma_connection_t conn = 0;
	magma_buffer_t cmd_buf, prog_buf;
	magma_buffer_id_t cmd_id, prog_id;
	magma_status_t st;
	uint32_t ctx;
	char err[128];
	int fd = magma_sim_embedded_open(), ret = 1;

	if (fd < 0)
		return bench_fail("magma_sim_embedded_open", MAGMA_STATUS_INTERNAL_ERROR);
	st = magma_device_import((magma_handle_t)fd, &dev);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_device_import", st);
	st = magma_device_create_connection(dev, &conn);
	if (st != MAGMA_STATUS_OK) {
		bench_fail("magma_device_create_connection", st);
		goto out_dev;
	}
	st = magma_connection_create_context2(conn, MAGMA_PRIORITY_MEDIUM, &ctx);
	if (st != MAGMA_STATUS_OK) {
		bench_fail("magma_connection_create_context2", st);
		goto out_conn;
	}
	if (hang) {
		if (sim_asm_assemble("loop\nnop\nendloop\nexit\n", &code, &count, err,
				     sizeof(err))) {
			fprintf(stderr, "bench-recovery: asm: %s\n", err);
			goto out_conn;
		}
		ret = bench_buffer(conn, BENCH_PROG_VA,
				   MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE, code, count * 8ull,
				   &prog_buf, &prog_id);
		free(code);
		if (ret)
			goto out_conn;
		n += sim_cmd_emit_dispatch(cmds + n, BENCH_PROG_VA, count, 0, 1, 1, 1);
	} else {
		n += sim_cmd_emit_write32(cmds + n, BENCH_BAD_VA, 1);
	}
	n += sim_cmd_emit_end(cmds + n);
	ret = bench_buffer(conn, BENCH_CMD_VA, MAGMA_MAP_FLAG_READ, cmds, n * 4ull, &cmd_buf,
			   &cmd_id);
	if (ret)
		goto out_conn;
	ret = 1;
	st = magma_connection_flush(conn);
	if (st != MAGMA_STATUS_OK) {
		bench_fail("magma_connection_flush", st);
		goto out_conn;
	}
	if (bench_gpu_cycles(dev, &c0))
		goto out_conn;
	{
		magma_exec_resource_t res = {cmd_id, 0, n * 4ull};
		magma_exec_command_buffer_t cb = {.resource_index = 0, .start_offset = 0};
		magma_command_descriptor_t desc = {
			.resource_count = 1,
			.command_buffer_count = 1,
			.resources = &res,
			.command_buffers = &cb,
		};
		magma_poll_item_t item = {
			.handle = magma_connection_get_notification_channel_handle(conn),
			.type = MAGMA_POLL_TYPE_HANDLE,
			.condition = MAGMA_POLL_CONDITION_READABLE,
		};

		t0 = bench_now_ns();
		st = magma_connection_execute_command(conn, ctx, &desc);
		if (st != MAGMA_STATUS_OK) {
			bench_fail("magma_connection_execute_command", st);
			goto out_conn;
		}
		st = magma_poll(&item, 1, BENCH_WAIT_NS);
		out->host_ns = bench_now_ns() - t0;
		if (st != MAGMA_STATUS_OK && st != MAGMA_STATUS_CONNECTION_LOST) {
			bench_fail("magma_poll on the notification channel", st);
			goto out_conn;
		}
	}
	if (bench_gpu_cycles(dev, &c1))
		goto out_conn;
	out->gpu_cycles = c1 - c0;
	ret = 0;
out_conn:
	magma_connection_release(conn);
out_dev:
	magma_device_release(dev);
	return ret;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench-recovery [--short] [--json FILE]\n"
		"       bench-recovery --help | --version\n"
		"How fast a client learns that the GPU gave up on its work, through magma.h on\n"
		"the embedded device: a GPU fault and a hang (detection plus recovery), medians.\n"
		"  --short    5 runs instead of 21\n"
		"  --json FILE  also write the figures to FILE (docs/benchmarks.md)\n"
		"  --help     this text\n"
		"  --version  print \"bench-recovery VERSION\"\n"
		"Exit: 0 every call worked, 1 a call failed, 2 usage.\n");
}

int main(int argc, char **argv)
{
	unsigned int runs = 21;
	uint64_t host[BENCH_MAX_RUNS], cycles[BENCH_MAX_RUNS];
	struct bench_report *report;
	const char *json;
	struct bench_run r;
	double fault_us, hang_ms;
	uint64_t hang_cycles;
	int status;

	{
		bool is_short;

		status = bench_args(argc, argv, "bench-recovery", MAGMA_SIM_VERSION, usage,
				    &is_short, &json);
		if (status >= 0)
			return status;
		if (is_short)
			runs = 5;
	}
	printf("bench-recovery: medians of %u runs, host time by CLOCK_MONOTONIC\n", runs);
	for (unsigned int i = 0; i < runs; i++) {
		if (bench_one(0, &r))
			return 1;
		host[i] = r.host_ns;
	}
	fault_us = bench_median(host, runs) / 1e3;
	printf("fault -> killed connection told (host)      %10.1f us\n", fault_us);
	for (unsigned int i = 0; i < runs; i++) {
		if (bench_one(1, &r))
			return 1;
		host[i] = r.host_ns;
		cycles[i] = r.gpu_cycles;
	}
	hang_ms = bench_median(host, runs) / 1e6;
	hang_cycles = bench_median(cycles, runs);
	printf("hang detection + recovery (host)            %10.2f ms\n", hang_ms);
	printf("hang detection + recovery (simulated)       %10" PRIu64 " cycles\n", hang_cycles);
	report = bench_report_create("bench-recovery", MAGMA_SIM_VERSION, argc, argv);
	bench_report_add(report, "fault.told", fault_us, "us");
	bench_report_add(report, "hang.recovered", hang_ms, "ms");
	bench_report_add(report, "hang.recovered_cycles", (double)hang_cycles, "cycles");
	status = bench_report_write(report, json) ? 1 : 0;
	bench_report_destroy(report);
	return status;
}
