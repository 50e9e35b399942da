/* SPDX-License-Identifier: MIT */
/*
 * bench_view.c - bench-view: how magma-view copes with a big trace. Writes a synthetic trace of
 * N device events (default 1,000,000: jobs on four queues with their interrupts and register
 * traffic, as an embedded device records them), then measures, with the headless renderer at
 * 1920x1080:
 *   open         loading and validating the trace into the viewer's model (median of 3);
 *   first frame  the timeline with the whole trace in view;
 *   pan          frame time while panning a timeline zoomed to 1/100 of the trace, 2% of the
 *                width per frame (200 frames: median and p99; the goal is 60 fps, 16.7 ms);
 *   memory       peak resident set size after loading and after the frames.
 * Figures, not a test: timing depends on the host (printed with them); --json FILE also writes
 * them (bench_report.h). Single-threaded.
 *
 *   bench-view [--events N] [--short] [--keep PATH] [--json FILE]
 *   bench-view --help | --version
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "viewer_app.h"
#include "viewer_view.h"

#define BENCH_W	     1920
#define BENCH_H	     1080
#define BENCH_FRAMES 200
#define BENCH_OPENS  3

#ifndef MAGMA_SIM_VERSION
#define MAGMA_SIM_VERSION "0"
#endif

/* Peak resident set size of this process in MiB. */
static double peak_rss_mib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0;
}

static void dev_event(FILE *f, uint64_t *seq, uint64_t cycle, const char *ev, int unit,
		      uint64_t code, uint64_t value, uint64_t value2, const char *name)
{
	fprintf(f,
		"{\"seq\":%llu,\"type\":\"dev\",\"cycle\":%llu,\"ev\":\"%s\",\"unit\":%d,\"code\":%llu,"
		"\"value\":%llu,\"value2\":%llu,\"name\":\"%s\"},\n",
		(unsigned long long)(*seq)++, (unsigned long long)cycle, ev, unit,
		(unsigned long long)code, (unsigned long long)value, (unsigned long long)value2,
		name);
}

/*
 * Writes a trace of about @events events to @path: jobs of 1,000 to 9,000 cycles round robin on
 * four queues, each with its doorbell write, start, end, interrupt and the driver's IRQ reads.
 */
static int write_trace(const char *path, uint64_t events)
{
	FILE *f = fopen(path, "w");
	uint64_t seq = 0, cycle = 10000, seqno[4] = {0};

	if (!f)
		return -1;
	fprintf(f, "{\"format\":\"magma-sim-trace\",\"version\":2,\"writer\":\"bench-view\","
		   "\"digest\":\"fnv1a64\",\"events\":[\n");
	fprintf(f, "{\"seq\":%llu,\"type\":\"device\",\"event\":\"created\",\"device\":0},\n",
		(unsigned long long)seq++);
	while (seq + 7 < events) {
		uint32_t q = (uint32_t)(seq / 7) % 4;
		uint64_t len = 1000 + (seq * 2654435761u) % 8000;
		uint64_t va = 0x10000000ull + (seq % 4096) * 0x1000;

		seqno[q]++;
		dev_event(f, &seq, cycle, "REG_WRITE", -1, 0x1010 + q * 0x40, 1, 0, "Q_DOORBELL");
		dev_event(f, &seq, cycle, "JOB_START", (int)q, 1 + q, va, seqno[q], "");
		dev_event(f, &seq, cycle + len, "JOB_END", (int)q, 0, va, seqno[q], "");
		dev_event(f, &seq, cycle + len, "IRQ_RAISE", -1, 1u << q, 1u << q, 0, "");
		dev_event(f, &seq, cycle + len, "IRQ_LINE", -1, 1u << q, 1, 0, "");
		dev_event(f, &seq, cycle + len, "REG_READ", -1, 48, 1u << q, 0, "GPU_IRQ_RAWSTAT");
		dev_event(f, &seq, cycle + len, "REG_WRITE", -1, 52, 1u << q, 0, "GPU_IRQ_CLEAR");
		cycle += len / 3 + 50;
	}
	fprintf(f, "{\"seq\":%llu,\"type\":\"end\",\"events\":%llu}\n]}\n", (unsigned long long)seq,
		(unsigned long long)seq);
	return fclose(f) ? -1 : 0;
}

static struct viewer_model *load(const char *path, uint64_t *ns)
{
	char err[1024];
	uint64_t t0 = bench_now_ns();
	struct viewer_model *m = viewer_model_load(path, err, sizeof(err));

	*ns = bench_now_ns() - t0;
	if (!m)
		fprintf(stderr, "bench-view: %s: %s\n", path, err);
	return m;
}

/* Renders one frame of @st; its time in ns, or 0 on failure (reported). */
static uint64_t frame(const struct viewer_model *m, const struct viewer_state *st)
{
	char err[512];
	uint64_t t0 = bench_now_ns();
	SDL_Surface *s = viewer_scene_render(m, NULL, st, BENCH_W, BENCH_H, err, sizeof(err));
	uint64_t t = bench_now_ns() - t0;

	if (!s) {
		fprintf(stderr, "bench-view: render: %s\n", err);
		return 0;
	}
	SDL_FreeSurface(s);
	return t ? t : 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench-view [--events N] [--short] [--keep PATH] [--json FILE]\n"
		"       bench-view --help | --version\n"
		"How magma-view copes with a big synthetic trace, headless at 1920x1080: open,\n"
		"first frame, frame time while panning, peak memory. Figures, not a test.\n"
		"  --events N   device events in the trace, at least 100 (default 1,000,000)\n"
		"  --short      100,000 events\n"
		"  --keep PATH  write the trace to PATH and keep it (default: a removed file in\n"
		"               $TMPDIR)\n"
		"  --json FILE  also write the figures to FILE (docs/benchmarks.md)\n"
		"  --help       this text\n"
		"  --version    print \"bench-view VERSION\"\n"
		"Exit: 0 measured, 1 an error, 2 usage.\n");
}

int main(int argc, char **argv)
{
	uint64_t events = 1000000, open_ns[BENCH_OPENS], pan_ns[BENCH_FRAMES], first_ns;
	char path[256], cpu[128];
	const char *keep = NULL, *tmp = getenv("TMPDIR"), *json = NULL;
	struct bench_report *report = NULL;
	struct viewer_model *m = NULL;
	struct viewer_state st;
	double rss_loaded;
	int ret = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--events") && i + 1 < argc) {
			events = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--short")) {
			events = 100000;
		} else if (!strcmp(argv[i], "--keep") && i + 1 < argc) {
			keep = argv[++i];
		} else {
			int exit_status = bench_arg_common(argc, argv, &i, "bench-view",
							   MAGMA_SIM_VERSION, usage, &json);

			if (exit_status >= 0)
				return exit_status;
		}
	}
	if (events < 100) {
		fprintf(stderr, "bench-view: --events must be at least 100\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s", keep ? keep : "");
	if (!keep)
		snprintf(path, sizeof(path), "%s/bench-view-%d.json", tmp && *tmp ? tmp : "/tmp",
			 (int)getpid());
	if (write_trace(path, events)) {
		fprintf(stderr, "bench-view: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	setenv("SDL_VIDEODRIVER", "dummy", 0);
	bench_host_cpu(cpu, sizeof(cpu));
	printf("bench-view: %llu events, frames %dx%d, host %s, %ld cores\n",
	       (unsigned long long)events, BENCH_W, BENCH_H, cpu, bench_host_cores());
	for (int i = 0; i < BENCH_OPENS; i++) {
		viewer_model_destroy(m);
		m = load(path, &open_ns[i]);
		if (!m)
			goto out;
	}
	rss_loaded = peak_rss_mib();
	viewer_state_init(&st, m);
	first_ns = frame(m, &st);
	if (!first_ns)
		goto out;
	viewer_state_zoom(&st, m, 0.01, st.t0);
	for (int i = 0; i < BENCH_FRAMES; i++) {
		viewer_state_pan(&st, m, 0.02);
		pan_ns[i] = frame(m, &st);
		if (!pan_ns[i])
			goto out;
	}
	bench_median(open_ns, BENCH_OPENS); /* sorts: the median and p99 are read by index */
	bench_median(pan_ns, BENCH_FRAMES);
	printf("  open (load + validate)   median %8.1f ms  (%.2f M events/s)\n",
	       open_ns[BENCH_OPENS / 2] / 1e6, events / (open_ns[BENCH_OPENS / 2] / 1e9) / 1e6);
	printf("  first frame (all)               %8.1f ms\n", first_ns / 1e6);
	printf("  open + first frame              %8.1f ms\n",
	       (open_ns[BENCH_OPENS / 2] + first_ns) / 1e6);
	printf("  pan frame (1/100 zoom)   median %8.2f ms  p99 %.2f ms  (%.0f fps; goal 60)\n",
	       pan_ns[BENCH_FRAMES / 2] / 1e6, pan_ns[BENCH_FRAMES * 99 / 100] / 1e6,
	       1e9 / (double)pan_ns[BENCH_FRAMES / 2]);
	printf("  peak RSS: %.0f MiB after loading, %.0f MiB after the frames\n", rss_loaded,
	       peak_rss_mib());
	report = bench_report_create("bench-view", MAGMA_SIM_VERSION, argc, argv);
	bench_report_add(report, "open", open_ns[BENCH_OPENS / 2] / 1e6, "ms");
	bench_report_add(report, "first_frame", first_ns / 1e6, "ms");
	bench_report_add(report, "pan_frame.median", pan_ns[BENCH_FRAMES / 2] / 1e6, "ms");
	bench_report_add(report, "pan_frame.p99", pan_ns[BENCH_FRAMES * 99 / 100] / 1e6, "ms");
	bench_report_add(report, "rss.loaded", rss_loaded, "MiB");
	bench_report_add(report, "rss.peak", peak_rss_mib(), "MiB");
	ret = bench_report_write(report, json) ? 1 : 0;
out:
	bench_report_destroy(report);
	viewer_model_destroy(m);
	if (!keep)
		unlink(path);
	return ret;
}
