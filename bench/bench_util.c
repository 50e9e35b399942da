/* SPDX-License-Identifier: MIT */
/*
 * bench_util.c - see bench_util.h. The program name in failure reports comes from glibc's
 * program_invocation_short_name, so each benchmark reports under its own name.
 */
#include "bench_util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
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
	       void (*usage)(FILE *out), bool *short_out, const char **json_out)
{
	*short_out = false;
	*json_out = NULL;
	for (int i = 1; i < argc; i++) {
		int status;

		if (!strcmp(argv[i], "--short")) {
			*short_out = true;
			continue;
		}
		status = bench_arg_common(argc, argv, &i, name, version, usage, json_out);
		if (status >= 0)
			return status;
	}
	return -1;
}

/* bench_rss_bytes - see bench_util.h. */
uint64_t bench_rss_bytes(pid_t pid)
{
	char path[64];
	unsigned long long size = 0, resident = 0;
	FILE *f;
	int n;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/statm");
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	return n == 2 ? (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

/* bench_raise_fd_limit - see bench_util.h. */
uint64_t bench_raise_fd_limit(uint64_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 1024;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
		struct rlimit raised = {.rlim_cur = (rlim_t)want, .rlim_max = (rlim_t)want};

		/* Only with CAP_SYS_RESOURCE; EPERM (or EINVAL past fs.nr_open) changes nothing. */
		if (!setrlimit(RLIMIT_NOFILE, &raised))
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? UINT32_MAX : (uint64_t)rl.rlim_cur;
}

#define BENCH_DAEMON_START_NS (10 * 1000000000ull)
#define BENCH_DAEMON_ARGS     32

/* bench_daemon_start - see bench_util.h. */
int bench_daemon_start(struct bench_daemon *dm, const char *simd, const char *const *extra_args)
{
	const char *argv[BENCH_DAEMON_ARGS + 8];
	const char *tmp = getenv("TMPDIR");
	struct stat st;
	uint64_t deadline;
	int argc = 0, wstatus;

	dm->pid = -1;
	snprintf(dm->dir, sizeof(dm->dir), "%s/%s.XXXXXX", tmp && strlen(tmp) < 32 ? tmp : "/tmp",
		 program_invocation_short_name);
	if (!mkdtemp(dm->dir)) {
		fprintf(stderr, "%s: mkdtemp: %s\n", program_invocation_short_name,
			strerror(errno));
		dm->dir[0] = '\0';
		return 1;
	}
	snprintf(dm->sock, sizeof(dm->sock), "%s/magma0", dm->dir);
	argv[argc++] = simd;
	argv[argc++] = "--dir";
	argv[argc++] = dm->dir;
	argv[argc++] = "--foreground";
	argv[argc++] = "--quiet";
	for (int i = 0; extra_args && extra_args[i] && i < BENCH_DAEMON_ARGS; i++)
		argv[argc++] = extra_args[i];
	argv[argc] = NULL;
	dm->pid = fork();
	if (dm->pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", program_invocation_short_name, strerror(errno));
		return 1;
	}
	if (dm->pid == 0) {
		execv(simd, (char *const *)argv);
		fprintf(stderr, "%s: exec %s: %s\n", program_invocation_short_name, simd,
			strerror(errno));
		_exit(127);
	}
	deadline = bench_now_ns() + BENCH_DAEMON_START_NS;
	while (stat(dm->sock, &st)) {
		if (waitpid(dm->pid, &wstatus, WNOHANG) == dm->pid) {
			fprintf(stderr, "%s: %s exited (status %#x) before %s appeared\n",
				program_invocation_short_name, simd, wstatus, dm->sock);
			dm->pid = -1;
			return 1;
		}
		if (bench_now_ns() > deadline) {
			fprintf(stderr, "%s: %s did not appear within 10 s\n",
				program_invocation_short_name, dm->sock);
			return 1;
		}
		poll(NULL, 0, 5);
	}
	return 0;
}

/* bench_daemon_connect - see bench_util.h. */
int bench_daemon_connect(const struct bench_daemon *dm)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", program_invocation_short_name, strerror(errno));
		return -1;
	}
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", dm->sock);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		fprintf(stderr, "%s: connect %s: %s\n", program_invocation_short_name, dm->sock,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* bench_daemon_stop - see bench_util.h. */
int bench_daemon_stop(struct bench_daemon *dm)
{
	uint64_t deadline = bench_now_ns() + 5 * 1000000000ull;
	int wstatus = 0, status = 0;

	if (dm->pid > 0) {
		kill(dm->pid, SIGTERM);
		while (waitpid(dm->pid, &wstatus, WNOHANG) != dm->pid) {
			if (bench_now_ns() > deadline) {
				fprintf(stderr, "%s: the daemon ignores SIGTERM; killing it\n",
					program_invocation_short_name);
				kill(dm->pid, SIGKILL);
				waitpid(dm->pid, &wstatus, 0);
				status = 1;
				break;
			}
			poll(NULL, 0, 5);
		}
		if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus)) {
			fprintf(stderr, "%s: the daemon ended with status %#x\n",
				program_invocation_short_name, wstatus);
			status = 1;
		}
	}
	dm->pid = -1;
	if (dm->dir[0]) {
		unlink(dm->sock); /* normally removed by the daemon */
		rmdir(dm->dir);
		dm->dir[0] = '\0';
	}
	return status;
}
