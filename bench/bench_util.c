/* SPDX-License-Identifier: MIT */
/*
 * bench_util.c - see bench_util.h. The program name in failure reports comes from glibc's
 * program_invocation_short_name, so each benchmark reports under its own name.
 */
#include "bench_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <magma_sim_defs.h>

/* bench_now_ns - see bench_util.h. */
uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* bench_fail - see bench_util.h. */
int bench_fail(const char *what, magma_status_t st)
{
	fprintf(stderr, "%s: %s failed: %d\n", program_invocation_short_name, what, st);
	return 1;
}

static int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* bench_median - see bench_util.h. */
uint64_t bench_median(uint64_t *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), bench_cmp_u64);
	return v[n / 2];
}

/* bench_gpu_cycles - see bench_util.h. */
int bench_gpu_cycles(magma_device_t dev, uint64_t *cycles_out)
{
	struct magma_sim_timestamp ts;
	magma_handle_t fd = 0;
	magma_status_t st = magma_device_query(dev, MAGMA_SIM_QUERY_TIMESTAMP, &fd, NULL);

	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_device_query(TIMESTAMP)", st);
	if (pread((int)fd, &ts, sizeof(ts), 0) != (ssize_t)sizeof(ts)) {
		close((int)fd);
		return bench_fail("reading the timestamp buffer", MAGMA_STATUS_INTERNAL_ERROR);
	}
	close((int)fd);
	*cycles_out = ts.gpu_cycles;
	return 0;
}

/* bench_args - see bench_util.h. */
int bench_args(int argc, char **argv, const char *name, const char *version,
	       void (*usage)(FILE *out), bool *short_out)
{
	*short_out = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--short")) {
			*short_out = true;
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("%s %s\n", name, version);
			return 0;
		} else {
			fprintf(stderr, "%s: unknown option '%s' (see %s --help)\n", name, argv[i],
				name);
			return 2;
		}
	}
	return -1;
}

/* bench_host_cpu - see bench_util.h. */
void bench_host_cpu(char *out, size_t size)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(out, size, "?");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(out, size, "%s", colon + 2);
			out[strcspn(out, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
}

/* bench_host_cores - see bench_util.h. */
long bench_host_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? n : 1;
}
