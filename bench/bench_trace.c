/* SPDX-License-Identifier: MIT */
/*
 * bench_trace.c - bench-trace: what recording costs and how fast magma-replay goes.
 *
 * Recording overhead: one loop of N empty command buffers (NOP + END in a buffer mapped
 * READ|EXECUTE, submitted with magma_connection_execute_command, every 1024th signalling a
 * semaphore that is waited for with magma_poll and reset, then a flush) on a fresh embedded
 * device, run unrecorded and recorded (a trace writer installed as the process-wide trace before
 * the device is created, so client and device events are both recorded) in alternating rounds
 * of the same process; the medians and their ratio are printed. Replay speed: the same loop with
 * 100,000 command buffers is recorded (client side only, so the file stays small) and replayed
 * with trace_replay_run several times; the median of calls per second and command buffers per
 * second of the replay phase (validation pass excluded, also shown with it) is printed against
 * the target of >= 50,000 command buffers per second. A figure off target prints BELOW but does
 * not fail; a failing call exits 1, bad usage 2. "--short" runs fewer iterations; "--json FILE"
 * also writes the figures (bench_report.h).
 * "--write-trace FILE" only records that 100,000-command-buffer loop into FILE (client side, or
 * with "--with-device" the device's events too) and keeps it: the large trace magma-trace's
 * figures are measured on (docs/trace-tools.md). "--tools [FILE]" times magma-trace dump and trim
 * on FILE, or on that loop recorded to $TMPDIR (bench_trace_tools.c). Not a ctest test. Single
 * threaded apart from the embedded device's threads. Scratch files go to $TMPDIR (default /tmp)
 * and are removed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "bench_trace_tools.h"
#include "bench_util.h"
#include "magma_system/embedded.h"
#include "sim/sim_cmd.h"
#include "traces/trace.h"
#include "traces/trace_replay.h"

#define BENCH_REPLAY_TARGET 50000.0 /* command buffers per second, at least */
#define BENCH_CMD_VA	    0x1000000ull
#define BENCH_WINDOW	    1024 /* one signalling submission per this many */
#define BENCH_WAIT_NS	    (10ull * 1000 * 1000 * 1000)
#define BENCH_MAX_RUNS	    9

#ifndef MAGMA_SIM_VERSION
#define MAGMA_SIM_VERSION "0"
#endif

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int fail(const char *what, magma_status_t st)
{
	fprintf(stderr, "bench-trace: %s: status %d\n", what, st);
	return 1;
}

/*
 * Runs the loop of @count empty command buffers on a new embedded device. With @trace_path, a
 * writer for it is the process-wide trace: installed before the device is created when
 * @with_device, else after. Stores the loop's wall time in *@ns_out.
 */
static int run_loop(uint32_t count, const char *trace_path, bool with_device, uint64_t *ns_out)
{
	struct trace_writer *w = trace_path ? trace_writer_open(trace_path, "bench-trace") : NULL;
	struct magma_system_embedded *emb;
	magma_device_t dev = 0;
	magma_connection_t conn = 0;
	magma_buffer_t buf;
	magma_buffer_id_t buf_id;
	magma_semaphore_t sem;
	magma_semaphore_id_t sem_id;
	magma_handle_t h;
	uint64_t size, t0;
	uint32_t ctx, *cpu, n = 0;
	int fd, ret = 1;

	if (trace_path && !w) {
		perror("bench-trace: trace file");
		return 1;
	}
	if (with_device)
		trace_global_install(w);
	emb = magma_system_embedded_create(NULL);
	if (!emb) {
		fprintf(stderr, "bench-trace: cannot create the embedded device\n");
		goto out_writer;
	}
	if (!with_device)
		trace_global_install(w);
	fd = magma_system_embedded_connect(emb);
	if (fd < 0 || magma_device_import((magma_handle_t)fd, &dev) ||
	    magma_device_create_connection(dev, &conn) ||
	    magma_connection_create_context2(conn, MAGMA_PRIORITY_MEDIUM, &ctx) ||
	    magma_connection_create_buffer(conn, 4096, &size, &buf, &buf_id) ||
	    magma_connection_map_buffer(conn, BENCH_CMD_VA, buf, 0, size,
					MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE) ||
	    magma_connection_create_semaphore(conn, &sem, &sem_id) ||
	    magma_buffer_get_handle(buf, &h)) {
		fail("setup", MAGMA_STATUS_INTERNAL_ERROR);
		goto out_device;
	}
	cpu = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)h, 0);
	close((int)h);
	if (cpu == MAP_FAILED) {
		perror("bench-trace: mmap");
		goto out_device;
	}
	n += sim_cmd_emit_nop(cpu + n, 0);
	n += sim_cmd_emit_end(cpu + n);
	munmap(cpu, (size_t)size);
	t0 = bench_now_ns();
	for (uint32_t i = 0; i < count; i++) {
		bool signal = (i + 1) % BENCH_WINDOW == 0 || i + 1 == count;
		magma_exec_resource_t res = {buf_id, 0, n * 4};
		magma_exec_command_buffer_t cb = {0};
		magma_command_descriptor_t d = {.resource_count = 1,
						.command_buffer_count = 1,
						.signal_semaphore_count = signal,
						.resources = &res,
						.command_buffers = &cb,
						.semaphore_ids = signal ? &sem_id : NULL};
		magma_poll_item_t it = {.semaphore = sem,
					.type = MAGMA_POLL_TYPE_SEMAPHORE,
					.condition = MAGMA_POLL_CONDITION_SIGNALED};
		magma_status_t st = magma_connection_execute_command(conn, ctx, &d);

		if (st) {
			fail("execute_command", st);
			goto out_device;
		}
		if (!signal)
			continue;
		st = magma_poll(&it, 1, BENCH_WAIT_NS);
		if (st) {
			fail("magma_poll", st);
			goto out_device;
		}
		magma_semaphore_reset(sem);
	}
	if (magma_connection_flush(conn)) {
		fail("flush", MAGMA_STATUS_INTERNAL_ERROR);
		goto out_device;
	}
	*ns_out = bench_now_ns() - t0;
	ret = 0;
out_device:
	if (conn)
		magma_connection_release(conn);
	if (dev)
		magma_device_release(dev);
	magma_system_embedded_destroy(emb);
out_writer:
	trace_global_install(NULL);
	trace_writer_close(w);
	return ret;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench-trace [--short] [--json FILE]\n"
		"       bench-trace --write-trace FILE [--with-device]\n"
		"       bench-trace --tools [FILE] [--json FILE]\n"
		"       bench-trace --help | --version\n"
		"What recording a trace costs (the same loop unrecorded and recorded) and how\n"
		"fast a trace replays (command buffers per second against >= 50,000).\n"
		"Scratch files go to $TMPDIR (default /tmp) and are removed.\n"
		"  --short    fewer and smaller repetitions (what scripts/test runs)\n"
		"  --json FILE  also write the figures to FILE (docs/benchmarks.md)\n"
		"  --write-trace FILE  only record the replay loop (100,000 command buffers)\n"
		"             into FILE and keep it; --with-device records device events too\n"
		"  --tools [FILE]  time magma-trace dump and trim (median of 5) on FILE, or on\n"
		"             that loop recorded to a scratch file\n"
		"  --help     this text\n"
		"  --version  print \"bench-trace VERSION\"\n"
		"Exit: 0 every call worked (a figure BELOW does not fail), 1 a call failed,\n"
		"2 usage.\n");
}

/*
 * --tools: dump and trim timed on @trace, or on the 100,000-command-buffer loop recorded now; the
 * figures also go to @json (NULL: none).
 */
static int tools(const char *trace, const char *json, int argc, char **argv)
{
	struct bench_report *report =
		bench_report_create("bench-trace", MAGMA_SIM_VERSION, argc, argv);
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char path[512];
	uint64_t ns;
	int ret;

	snprintf(path, sizeof(path), "%s/bench-trace-tools-%d.json", tmp, (int)getpid());
	if (trace)
		ret = bench_trace_tools(trace, 5, report);
	else
		ret = run_loop(100000, path, false, &ns) || bench_trace_tools(path, 5, report);
	if (!trace)
		unlink(path);
	if (!ret && bench_report_write(report, json))
		ret = 1;
	bench_report_destroy(report);
	return ret;
}

int main(int argc, char **argv)
{
	bool short_run = false, with_device = false, tools_mode = false;
	const char *json = NULL, *write_path = NULL, *tools_path = NULL;
	uint32_t overhead_count, replay_count;
	int runs;
	double plain[BENCH_MAX_RUNS], recorded[BENCH_MAX_RUNS], calls_s[BENCH_MAX_RUNS];
	double cmd_s[BENCH_MAX_RUNS], total_s[BENCH_MAX_RUNS];
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct bench_report *report;
	char path[512];
	uint64_t ns;
	double p, r, cmd;
	int status;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--short")) {
			short_run = true;
		} else if (!strcmp(argv[i], "--json") && i + 1 < argc) {
			json = argv[++i];
		} else if (!strcmp(argv[i], "--write-trace") && i + 1 < argc) {
			write_path = argv[++i];
		} else if (!strcmp(argv[i], "--with-device")) {
			with_device = true;
		} else if (!strcmp(argv[i], "--tools")) {
			tools_mode = true;
			if (i + 1 < argc && argv[i + 1][0] != '-')
				tools_path = argv[++i];
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("bench-trace %s\n", MAGMA_SIM_VERSION);
			return 0;
		} else {
			fprintf(stderr, "bench-trace: %s '%s' (see bench-trace --help)\n",
				argv[i][0] == '-' && i + 1 == argc
					? "unknown option or missing value for"
					: "unknown option",
				argv[i]);
			return 2;
		}
	}
	if (with_device && !write_path) {
		fprintf(stderr, "bench-trace: --with-device goes with --write-trace "
				"(see bench-trace --help)\n");
		return 2;
	}
	if (tools_mode) {
		if (short_run || write_path) {
			fprintf(stderr, "bench-trace: --tools goes with --json only "
					"(see bench-trace --help)\n");
			return 2;
		}
		return tools(tools_path, json, argc, argv);
	}
	if (write_path) {
		if (short_run || json) {
			fprintf(stderr, "bench-trace: --write-trace only records the trace "
					"(see bench-trace --help)\n");
			return 2;
		}
		if (run_loop(100000, write_path, with_device, &ns))
			return 1;
		printf("wrote %s: 100000 command buffers in %.1f ms\n", write_path,
		       (double)ns / 1e6);
		return 0;
	}
	overhead_count = short_run ? 5000 : 20000;
	replay_count = short_run ? 20000 : 100000;
	runs = short_run ? 3 : 5;
	snprintf(path, sizeof(path), "%s/bench-trace-%d.json", tmp, (int)getpid());
	for (int i = 0; i < runs; i++) {
		if (run_loop(overhead_count, NULL, false, &ns))
			return 1;
		plain[i] = (double)ns;
		if (run_loop(overhead_count, path, true, &ns))
			return 1;
		recorded[i] = (double)ns;
	}
	p = median(plain, runs);
	r = median(recorded, runs);
	printf("recording overhead, %u empty command buffers, median of %d runs:\n", overhead_count,
	       runs);
	printf("  unrecorded %8.1f ms  (%.0f cmd buffers/s)\n", p / 1e6, overhead_count / p * 1e9);
	printf("  recorded   %8.1f ms  (%.0f cmd buffers/s, client + device events)\n", r / 1e6,
	       overhead_count / r * 1e9);
	printf("  ratio      %8.2fx\n", r / p);

	if (run_loop(replay_count, path, false, &ns))
		return 1;
	for (int i = 0; i < runs; i++) {
		struct trace_replay_options o;
		struct trace_replay_result res;
		uint64_t t0 = bench_now_ns();
		int ret;

		trace_replay_default_options(&o);
		ret = trace_replay_run(path, &o, &res);
		if (ret) {
			fprintf(stderr, "bench-trace: replay: %s\n", res.message);
			unlink(path);
			return 1;
		}
		calls_s[i] = (double)res.calls / (double)res.host_ns * 1e9;
		cmd_s[i] = (double)res.submissions / (double)res.host_ns * 1e9;
		total_s[i] = (double)res.submissions / (double)(bench_now_ns() - t0) * 1e9;
	}
	unlink(path);
	cmd = median(cmd_s, runs);
	printf("replay of %u empty command buffers, median of %d runs:\n", replay_count, runs);
	printf("  %.0f calls/s, %.0f cmd buffers/s (target >= %.0f: %s)\n", median(calls_s, runs),
	       cmd, BENCH_REPLAY_TARGET, cmd >= BENCH_REPLAY_TARGET ? "ok" : "BELOW");
	printf("  %.0f cmd buffers/s including the validation pass\n", median(total_s, runs));
	report = bench_report_create("bench-trace", MAGMA_SIM_VERSION, argc, argv);
	bench_report_add(report, "record.unrecorded", p / 1e6, "ms");
	bench_report_add(report, "record.recorded", r / 1e6, "ms");
	bench_report_add(report, "record.ratio", r / p, "x");
	bench_report_add(report, "replay.calls", median(calls_s, runs), "/s");
	bench_report_add(report, "replay.command_buffers", cmd, "/s");
	bench_report_add(report, "replay.command_buffers_with_validation", median(total_s, runs),
			 "/s");
	status = bench_report_write(report, json) ? 1 : 0;
	bench_report_destroy(report);
	return status;
}
