/* SPDX-License-Identifier: MIT */
/*
 * bench_trace_tools.c - bench-trace --tools: how long magma-trace dump and trim take on the
 * 100,000-command-buffer trace (docs/trace-tools.md, "Figures"; issue 15 asks for under a second
 * each: dump at the trace's last event, trim of its last 305 events).
 *
 * Each command runs in a child process: fork, then the subcommand's own entry point with the
 * arguments magma-trace would pass it, so that the child's CPU time (user + system) and maximum
 * RSS come from wait4 and belong to that command alone; the parent times the wall clock from fork
 * to exit. The medians of the runs are printed with the host (CPU model, cores, load average:
 * the wall time of a shared host moves with its load, the CPU time much less). Outputs go to
 * scratch files in $TMPDIR, removed afterwards; the child's standard output goes to /dev/null,
 * its errors stay on stderr. With a report (--json FILE), the medians go into it too.
 *
 * Figures only, never a test: a command that exits non-zero fails the mode (exit 1); a median
 * over the target prints BELOW and does not. Runs on the caller's thread (the children replay
 * on their own embedded devices).
 */
#include "bench_trace_tools.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "trace_tool.h"

#define TOOLS_TARGET_MS 1000.0 /* issue 15: dump at the last event and trim, each under 1 s */
#define TOOLS_MAX_RUNS	9
#define TOOLS_TAIL	305 /* events trimmed from the end, as docs/trace-tools.md measures */

/* One measured command: its wall and CPU milliseconds and maximum RSS in KiB, per run. */
struct tools_figure {
	double wall_ms[TOOLS_MAX_RUNS], cpu_ms[TOOLS_MAX_RUNS];
	long max_rss_kib;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_of(const double *v, int n)
{
	double s[TOOLS_MAX_RUNS];

	memcpy(s, v, sizeof(*v) * (size_t)n);
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/*
 * Runs @run(@argc, @argv) in a child with standard output on /dev/null and stores run @i of @f.
 * Returns 0, or 1 after saying why (fork failed, the command exited non-zero or was killed).
 */
static int run_child(int (*run)(int argc, char **argv), int argc, char **argv,
		     struct tools_figure *f, int i)
{
	uint64_t t0 = bench_now_ns();
	struct rusage ru;
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("bench-trace: fork");
		return 1;
	}
	if (!pid) {
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (fd >= 0)
			dup2(fd, STDOUT_FILENO);
		status = run(argc, argv);
		fflush(NULL);
		_exit(status);
	}
	if (wait4(pid, &status, 0, &ru) != pid) {
		perror("bench-trace: wait4");
		return 1;
	}
	f->wall_ms[i] = (double)(bench_now_ns() - t0) / 1e6;
	f->cpu_ms[i] = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
		       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	if (ru.ru_maxrss > f->max_rss_kib)
		f->max_rss_kib = ru.ru_maxrss;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "bench-trace: magma-trace %s %s failed (%s %d)\n", argv[0], argv[1],
			WIFEXITED(status) ? "exit" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return 1;
	}
	return 0;
}

/* Prints figure @f (@what) and adds it to @report as tools.@name.{wall,cpu}. */
static void print_figure(struct bench_report *report, const char *name, const char *what,
			 const struct tools_figure *f, int runs, bool target)
{
	double wall = median_of(f->wall_ms, runs), cpu = median_of(f->cpu_ms, runs);
	char key[64];

	printf("  %-42s wall %8.1f ms  cpu %8.1f ms  max rss %6.1f MB", what, wall, cpu,
	       (double)f->max_rss_kib / 1024.0);
	snprintf(key, sizeof(key), "tools.%s.wall", name);
	bench_report_add(report, key, wall, "ms");
	snprintf(key, sizeof(key), "tools.%s.cpu", name);
	bench_report_add(report, key, cpu, "ms");
	if (target)
		printf("  (target < %.0f ms: %s)", TOOLS_TARGET_MS,
		       wall < TOOLS_TARGET_MS ? "ok" : "BELOW");
	printf("\n");
}

/* bench_trace_tools - see bench_trace_tools.h. */
int bench_trace_tools(const char *trace, int runs, struct bench_report *report)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char at[24], from[24], to[24], dump_out[512], trim_out[512], cpu[128], what[3][96];
	struct tools_figure fig[3] = {0};
	uint64_t events = 0;
	double load[3] = {0, 0, 0};
	struct stat st;
	int ret = 0;

	if (runs < 1 || runs > TOOLS_MAX_RUNS || stat(trace, &st) ||
	    !tt_trace_event_count(trace, &events) || events < 2) {
		fprintf(stderr, "bench-trace: %s: not a readable trace with an end event\n", trace);
		return 1;
	}
	snprintf(at, sizeof(at), "%" PRIu64, events - 1);
	snprintf(from, sizeof(from), "%" PRIu64, events > TOOLS_TAIL ? events - TOOLS_TAIL : 0);
	snprintf(to, sizeof(to), "%" PRIu64, events - 1);
	snprintf(dump_out, sizeof(dump_out), "%s/bench-trace-dump-%d.txt", tmp, (int)getpid());
	snprintf(trim_out, sizeof(trim_out), "%s/bench-trace-trim-%d.json", tmp, (int)getpid());
	snprintf(what[0], sizeof(what[0]), "dump --at %s --buffer 1", at);
	snprintf(what[1], sizeof(what[1]), "trim --from %s --to %s", from, to);
	snprintf(what[2], sizeof(what[2]), "trim --from 10 --to 1000");
	for (int i = 0; i < runs && !ret; i++) {
		char *dump[] = {"dump", (char *)trace, "--at",	 at,  "--buffer",
				"1",	"-o",	       dump_out, NULL};
		char *trim_end[] = {"trim", "--from",	   from,     "--to",
				    to,	    (char *)trace, trim_out, NULL};
		char *trim_start[] = {"trim", "--from",	     "10",     "--to",
				      "1000", (char *)trace, trim_out, NULL};

		ret = run_child(trace_tool_dump, 8, dump, &fig[0], i) ||
		      run_child(trace_tool_trim, 7, trim_end, &fig[1], i) ||
		      run_child(trace_tool_trim, 7, trim_start, &fig[2], i);
	}
	unlink(dump_out);
	unlink(trim_out);
	if (ret)
		return 1;
	bench_host_cpu(cpu, sizeof(cpu));
	getloadavg(load, 3);
	printf("magma-trace on %s (%" PRIu64 " events, %.1f MB), median of %d runs\n", trace,
	       events, (double)st.st_size / 1e6, runs);
	printf("host: %s, %ld cores, load average %.2f %.2f %.2f\n", cpu, bench_host_cores(),
	       load[0], load[1], load[2]);
	print_figure(report, "dump_last", what[0], &fig[0], runs, true);
	print_figure(report, "trim_last", what[1], &fig[1], runs, true);
	print_figure(report, "trim_early", what[2], &fig[2], runs, false);
	for (int i = 1; i < 3; i++)
		if (fig[i].max_rss_kib > fig[0].max_rss_kib)
			fig[0].max_rss_kib = fig[i].max_rss_kib;
	bench_report_add(report, "tools.rss", (double)fig[0].max_rss_kib / 1024.0, "MiB");
	return 0;
}
