/* SPDX-License-Identifier: MIT */
/*
 * bench_breakdown.c - the hops of a round trip (see bench_breakdown.h).
 *
 * Each round trip resets the probes, takes t0, runs, takes t1 and reads the first time each
 * point was reached. A hop is the time from the previous reached point to the next; a point not
 * reached (a path that skips it) shows "-" and its hop folds into the next one. Medians are
 * taken per hop over the round trips where both ends were reached, so the hop medians need not
 * add up to the total's median exactly. Wake-ups: the process's voluntary context switches
 * (getrusage; for a daemon, the status of each /proc/PID/task entry) over the run, divided by the
 * round trips: every block in poll/read/futex is a switch and needs a wake-up later.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_breakdown.h"
#include "bench_util.h"
#include "magma_probe/probe.h"

/* Points as columns: the client's submit, the probes, the client's return. */
#define BD_POINTS (MAGMA_PROBE_POINTS + 2)

static int bd_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t bd_median(uint64_t *v, unsigned int n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), bd_cmp_u64);
	return v[(n - 1) / 2];
}

/* Voluntary context switches of every thread of @pid (0: this process); 0 when unreadable. */
static uint64_t bd_voluntary_switches(pid_t pid)
{
	char path[96], line[128];
	struct dirent *e;
	uint64_t sum = 0;
	DIR *dir;

	if (pid <= 0) {
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		return (uint64_t)ru.ru_nvcsw;
	}
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((e = readdir(dir))) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.20s/status", (int)pid, e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned long long v;

			if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1)
				sum += v;
		}
		fclose(f);
	}
	closedir(dir);
	return sum;
}

static const char *bd_point_name(unsigned int p)
{
	if (p == 0)
		return "client submit";
	if (p == BD_POINTS - 1)
		return "client wakes";
	return magma_probe_name((enum magma_probe_point)(p - 1));
}

/* bench_breakdown - see bench_breakdown.h. */
int bench_breakdown(const char *what, bench_roundtrip_fn fn, void *arg, unsigned int n, pid_t peer,
		    FILE *out)
{
	uint64_t *hop = calloc((size_t)n * BD_POINTS, sizeof(*hop));
	unsigned int *count = calloc(BD_POINTS, sizeof(*count));
	uint64_t *total = calloc(n, sizeof(*total));
	uint64_t self0, peer0 = 0, self1, peer1 = 0;
	int ret = 1;

	if (!hop || !count || !total)
		goto out;
	magma_probe_enable(true);
	self0 = bd_voluntary_switches(0);
	if (peer > 0)
		peer0 = bd_voluntary_switches(peer);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t[BD_POINTS], prev;

		magma_probe_reset();
		t[0] = bench_now_ns();
		if (fn(arg))
			goto out;
		t[BD_POINTS - 1] = bench_now_ns();
		magma_probe_snapshot(t + 1);
		total[i] = t[BD_POINTS - 1] - t[0];
		prev = t[0];
		for (unsigned int p = 1; p < BD_POINTS; p++) {
			/* A point reached out of order (before the previous one) counts as not. */
			if (!t[p] || t[p] < prev)
				continue;
			hop[(size_t)p * n + count[p]++] = t[p] - prev;
			prev = t[p];
		}
	}
	self1 = bd_voluntary_switches(0);
	if (peer > 0)
		peer1 = bd_voluntary_switches(peer);
	if (peer > 0)
		fprintf(out, "%s: median of %u round trips (its hops are in another process)\n",
			what, n);
	else
		fprintf(out, "%s: median of %u round trips, each hop from the previous point\n",
			what, n);
	if (peer <= 0)
		fprintf(out, "  %-34s %10s %8s\n", "hop (to the point named)", "median us",
			"reached");
	for (unsigned int p = 1; p < BD_POINTS && peer <= 0; p++) {
		char name[64];

		snprintf(name, sizeof(name), "%s -> %s", p == 1 ? bd_point_name(0) : "",
			 bd_point_name(p));
		if (!count[p]) {
			fprintf(out, "  %-34s %10s %7u%%\n", name, "-", 0u);
			continue;
		}
		fprintf(out, "  %-34s %10.2f %7u%%\n", name,
			bd_median(hop + (size_t)p * n, count[p]) / 1e3, count[p] * 100 / n);
	}
	fprintf(out, "  %-34s %10.2f\n", "whole round trip", bd_median(total, n) / 1e3);
	fprintf(out, "  %-34s %10.2f\n",
		peer > 0 ? "wake-ups per round trip, client" : "wake-ups per round trip",
		(double)(self1 - self0) / n);
	if (peer > 0)
		fprintf(out, "  %-34s %10.2f\n", "wake-ups per round trip, daemon",
			(double)(peer1 - peer0) / n);
	ret = 0;
out:
	magma_probe_enable(false);
	free(hop);
	free(count);
	free(total);
	return ret;
}
