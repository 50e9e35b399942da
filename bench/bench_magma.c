/* SPDX-License-Identifier: MIT */
/*
 * bench_magma.c - what the Magma stack costs per command buffer, through the public API only.
 *
 * A bare AF_UNIX socketpair ping-pong between two threads (1-byte messages) is the floor any
 * IPC-based submit path stands on. Against it: an empty command buffer (SIM-1 NOP + END in a
 * buffer mapped in the connection's GPU address space) submitted with
 * magma_connection_execute_command and one signal semaphore, waited on with magma_poll and reset,
 * over and over, on the embedded device (magma_sim_embedded_open: sim, msd-sim and magma_system
 * on threads of this process) and through a magma-simd daemon started as a child process
 * (--simd PATH; its socket connected directly, the daemon killed and reaped at the end). The
 * three run in interleaved rounds so that load on a shared machine weighs on all of them alike;
 * every iteration is timed (CLOCK_MONOTONIC) and the table shows the median and p90, the range of
 * the per-round medians and the median's ratio to the ping-pong's, against the targets (embedded
 * <= 1.5x, daemon <= 2x). Last, pipelined throughput on the embedded device: K empty command
 * buffers submitted back to back with a bounded number in flight, timed until the last is
 * signaled; the median of several runs in command buffers per second against >= 500,000. Where the
 * scheduler puts the threads matters a lot on a small VM (a cross-CPU wake-up of an idle vCPU costs
 * several times a same-CPU switch), so "--cpu N" pins everything, daemon included, to one CPU. A
 * figure off target prints BELOW but does not fail the run; a failing call exits 1, bad usage 2.
 * Not a ctest test; "--short" runs fewer iterations (scripts/test); "--json FILE" also writes the
 * figures (bench_report.h). The main thread drives
 * everything; the ping-pong's echo thread is the only other thread of this program.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "bench_breakdown.h"
#include "bench_report.h"
#include "bench_util.h"
#include "magma_sim_defs.h"
#include "magma_system/embedded.h"

#ifndef BENCH_MAGMA_SIMD_PATH
#define BENCH_MAGMA_SIMD_PATH "magma-simd"
#endif

#define BENCH_EMBEDDED_RATIO_TARGET 1.5 /* embedded round trip / ping-pong, at most */
#define BENCH_DAEMON_RATIO_TARGET   2.0 /* daemon round trip / ping-pong, at most */
#define BENCH_THROUGHPUT_TARGET	    5e5 /* command buffers per second, at least */
#define BENCH_CMD_VA		    0x1000000ull
#define BENCH_CMD_SIZE		    0x1000ull
#define BENCH_SECOND_NS		    1000000000ull
#define BENCH_WAIT_NS		    (10 * BENCH_SECOND_NS) /* one wait; longer is a hang */
#define BENCH_DAEMON_START_NS	    (10 * BENCH_SECOND_NS)
#define BENCH_WINDOW_STEP	    1024 /* pipelined: one signalling submission per this many */
#define BENCH_WINDOW_SEMS	    8	 /* pipelined: window semaphores, so <= 8192 in flight */
#define BENCH_MAX_RUNS		    9

#ifndef MAGMA_SIM_VERSION
#define MAGMA_SIM_VERSION "0"
#endif

struct bench_params {
	unsigned int pingpong_n;  /* ping-pong round trips */
	unsigned int roundtrip_n; /* command-buffer round trips per device */
	unsigned int warmup_n;	  /* untimed iterations before each of the above, per round */
	unsigned int rounds;	  /* interleaved rounds the round trips are split into */
	unsigned int pipeline_k;  /* command buffers per throughput run */
	unsigned int pipeline_runs;
};

/* One device under test: a connection, a context, the command buffer and a semaphore. */
struct bench_dev {
	magma_device_t device;
	magma_connection_t conn;
	uint32_t ctx;
	magma_buffer_t buf;
	magma_buffer_id_t buf_id;
	magma_semaphore_t sem;
	magma_semaphore_id_t sem_id;
	uint32_t cmd_bytes; /* of the command stream at offset 0 of buf */
	int has_conn, has_ctx, has_buf, has_map, has_sem;
};

static int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts @v and returns its @pct-th percentile (nearest rank; 50 = median). */
static uint64_t bench_percentile(uint64_t *v, unsigned int n, unsigned int pct)
{
	unsigned int rank;

	qsort(v, n, sizeof(*v), bench_cmp_u64);
	rank = (unsigned int)(((uint64_t)n * pct + 99) / 100);
	return v[rank ? rank - 1 : 0];
}

/* ---- Bare socketpair ping-pong ---- */

struct bench_pingpong {
	int sv[2];
	pthread_t echo;
};

static void *bench_echo_thread(void *arg)
{
	int fd = *(int *)arg;
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r != 1 || write(fd, &c, 1) != 1)
			break;
	}
	return NULL;
}

/* A socketpair with an echo thread on one end; 1 on failure. */
static int bench_pingpong_start(struct bench_pingpong *pp)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pp->sv)) {
		perror("bench-magma: socketpair");
		return 1;
	}
	if (pthread_create(&pp->echo, NULL, bench_echo_thread, &pp->sv[1])) {
		fprintf(stderr, "bench-magma: pthread_create failed\n");
		close(pp->sv[0]);
		close(pp->sv[1]);
		return 1;
	}
	return 0;
}

static void bench_pingpong_stop(struct bench_pingpong *pp)
{
	shutdown(pp->sv[0], SHUT_RDWR); /* the echo thread reads EOF and returns */
	pthread_join(pp->echo, NULL);
	close(pp->sv[0]);
	close(pp->sv[1]);
}

/* @n timed 1-byte round trips (after @warmup untimed ones) into @samples; 1 on failure. */
static int bench_pingpong_run(struct bench_pingpong *pp, unsigned int n, unsigned int warmup,
			      uint64_t *samples)
{
	char c = 'x';

	for (unsigned int i = 0; i < warmup + n; i++) {
		uint64_t t0 = bench_now_ns();

		if (write(pp->sv[0], &c, 1) != 1 || read(pp->sv[0], &c, 1) != 1) {
			perror("bench-magma: ping-pong");
			return 1;
		}
		if (i >= warmup)
			samples[i - warmup] = bench_now_ns() - t0;
	}
	return 0;
}

/* ---- Device setup ---- */

/* Fills @d from the device channel @fd (consumed): connection, context, command buffer, sem. */
static int bench_dev_open(struct bench_dev *d, int fd)
{
	magma_status_t st;
	magma_handle_t handle;
	uint64_t size = 0;
	uint32_t *cpu, n = 0;

	memset(d, 0, sizeof(*d));
	st = magma_device_import((magma_handle_t)fd, &d->device);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_device_import", st);
	st = magma_device_create_connection(d->device, &d->conn);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_device_create_connection", st);
	d->has_conn = 1;
	st = magma_connection_create_context2(d->conn, MAGMA_PRIORITY_MEDIUM, &d->ctx);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_connection_create_context2", st);
	d->has_ctx = 1;
	st = magma_connection_create_buffer(d->conn, BENCH_CMD_SIZE, &size, &d->buf, &d->buf_id);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_connection_create_buffer", st);
	d->has_buf = 1;
	st = magma_buffer_get_handle(d->buf, &handle);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_buffer_get_handle", st);
	cpu = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)handle, 0);
	close((int)handle);
	if (cpu == MAP_FAILED) {
		perror("bench-magma: mmap of the command buffer");
		return 1;
	}
	/* "Empty": a NOP and the END the command processor stops at. */
	n += sim_cmd_emit_nop(cpu + n, 0);
	n += sim_cmd_emit_end(cpu + n);
	d->cmd_bytes = n * 4;
	munmap(cpu, (size_t)size);
	st = magma_connection_map_buffer(d->conn, BENCH_CMD_VA, d->buf, 0, size,
					 MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_connection_map_buffer", st);
	d->has_map = 1;
	st = magma_connection_create_semaphore(d->conn, &d->sem, &d->sem_id);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_connection_create_semaphore", st);
	d->has_sem = 1;
	st = magma_connection_flush(d->conn);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_connection_flush after setup", st);
	return 0;
}

/* Releases what bench_dev_open made; 1 when the connection reports an error at the end. */
static int bench_dev_close(struct bench_dev *d)
{
	magma_status_t st = MAGMA_STATUS_OK;

	if (d->has_conn) {
		if (d->has_map)
			magma_connection_unmap_buffer(d->conn, BENCH_CMD_VA, d->buf);
		if (d->has_sem)
			magma_connection_release_semaphore(d->conn, d->sem);
		if (d->has_buf)
			magma_connection_release_buffer(d->conn, d->buf);
		if (d->has_ctx)
			magma_connection_release_context(d->conn, d->ctx);
		st = magma_connection_flush(d->conn);
		magma_connection_release(d->conn);
	}
	if (d->device)
		magma_device_release(d->device);
	memset(d, 0, sizeof(*d));
	return st != MAGMA_STATUS_OK ? bench_fail("magma_connection_flush at teardown", st) : 0;
}

/* Submits the empty command buffer once, signalling semaphore @sem_id unless it is 0. */
static magma_status_t bench_submit_signal(struct bench_dev *d, uint64_t sem_id)
{
	magma_exec_resource_t res = {d->buf_id, 0, d->cmd_bytes};
	magma_exec_command_buffer_t cb = {.resource_index = 0, .start_offset = 0};
	uint64_t sem_ids[1] = {sem_id};
	magma_command_descriptor_t desc = {
		.resource_count = 1,
		.command_buffer_count = 1,
		.signal_semaphore_count = sem_id ? 1 : 0,
		.resources = &res,
		.command_buffers = &cb,
		.semaphore_ids = sem_id ? sem_ids : NULL,
	};

	return magma_connection_execute_command(d->conn, d->ctx, &desc);
}

/* Submits the empty command buffer once, signalling the bench semaphore iff @signal. */
static magma_status_t bench_submit(struct bench_dev *d, int signal)
{
	return bench_submit_signal(d, signal ? d->sem_id : 0);
}

static magma_status_t bench_wait_sem(magma_semaphore_t sem)
{
	magma_poll_item_t item = {.semaphore = sem,
				  .type = MAGMA_POLL_TYPE_SEMAPHORE,
				  .condition = MAGMA_POLL_CONDITION_SIGNALED};
	magma_status_t st = magma_poll(&item, 1, BENCH_WAIT_NS);

	if (st == MAGMA_STATUS_OK && !(item.result & MAGMA_POLL_CONDITION_SIGNALED))
		st = MAGMA_STATUS_INTERNAL_ERROR;
	return st;
}

static magma_status_t bench_wait(struct bench_dev *d)
{
	return bench_wait_sem(d->sem);
}

/* ---- Measurements ---- */

/* One submit + wait + reset round trip on the bench_dev @arg (bench_breakdown's callback). */
static int bench_roundtrip_once(void *arg)
{
	struct bench_dev *d = arg;
	magma_status_t st = bench_submit(d, 1);

	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_connection_execute_command", st);
	st = bench_wait(d);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_poll on the signal semaphore", st);
	magma_semaphore_reset(d->sem);
	return 0;
}

/* @n timed submit + wait + reset round trips on @d into @samples; 1 on a failing call. */
static int bench_roundtrip(struct bench_dev *d, unsigned int n, unsigned int warmup,
			   uint64_t *samples)
{
	magma_status_t st;

	for (unsigned int i = 0; i < warmup + n; i++) {
		uint64_t t0 = bench_now_ns();

		if (bench_roundtrip_once(d))
			return 1;
		if (i >= warmup)
			samples[i - warmup] = bench_now_ns() - t0;
	}
	st = magma_connection_get_error(d->conn);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_connection_get_error after the round trips", st);
	return 0;
}

/*
 * Median command buffers per second of @runs runs of @k back-to-back submits; 1 on failure.
 * Like a real client (frames in flight), the stream keeps a bounded window: every
 * BENCH_WINDOW_STEP-th submission signals one of BENCH_WINDOW_SEMS semaphores in turn, and before
 * a semaphore is reused the submission that signals it last time must have completed -- so at
 * most BENCH_WINDOW_STEP * BENCH_WINDOW_SEMS command buffers are in flight (msd-sim bounds a
 * connection's unretired work at 65536 submissions). The run is timed until the last completes.
 */
static int bench_pipeline(struct bench_dev *d, unsigned int k, unsigned int runs,
			  double *median_out, double *min_out, double *max_out)
{
	magma_semaphore_t sems[BENCH_WINDOW_SEMS] = {0};
	magma_semaphore_id_t ids[BENCH_WINDOW_SEMS] = {0};
	double rate[BENCH_MAX_RUNS];
	magma_status_t st;
	int ret = 1;

	for (unsigned int j = 0; j < BENCH_WINDOW_SEMS; j++) {
		st = magma_connection_create_semaphore(d->conn, &sems[j], &ids[j]);
		if (st != MAGMA_STATUS_OK) {
			bench_fail("magma_connection_create_semaphore (window)", st);
			goto out;
		}
	}
	for (unsigned int r = 0; r < runs; r++) {
		uint64_t t0;
		unsigned int last = 0;

		/* One context runs in order: once the last run's final buffer completed, all had.
		 */
		for (unsigned int j = 0; j < BENCH_WINDOW_SEMS; j++)
			magma_semaphore_reset(sems[j]);
		t0 = bench_now_ns();

		for (unsigned int i = 0; i < k; i++) {
			uint64_t sem_id = 0;

			if ((i + 1) % BENCH_WINDOW_STEP == 0 || i == k - 1) {
				unsigned int slot = (i / BENCH_WINDOW_STEP) % BENCH_WINDOW_SEMS;

				if (i >= BENCH_WINDOW_STEP * BENCH_WINDOW_SEMS) {
					st = bench_wait_sem(sems[slot]);
					if (st != MAGMA_STATUS_OK) {
						bench_fail("magma_poll on a window semaphore", st);
						goto out;
					}
				}
				magma_semaphore_reset(sems[slot]);
				sem_id = ids[slot];
				last = slot;
			}
			st = bench_submit_signal(d, sem_id);
			if (st != MAGMA_STATUS_OK) {
				bench_fail("magma_connection_execute_command (pipelined)", st);
				goto out;
			}
		}
		st = bench_wait_sem(sems[last]);
		if (st != MAGMA_STATUS_OK) {
			bench_fail("magma_poll on the last command buffer", st);
			goto out;
		}
		rate[r] = (double)k * 1e9 / (double)(bench_now_ns() - t0);
	}
	ret = 0;
out:
	for (unsigned int j = 0; j < BENCH_WINDOW_SEMS; j++)
		if (sems[j])
			magma_connection_release_semaphore(d->conn, sems[j]);
	if (ret)
		return ret;
	st = magma_connection_flush(d->conn);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_connection_flush after the pipelined runs", st);
	qsort(rate, runs, sizeof(rate[0]), bench_cmp_double);
	*median_out = runs % 2 ? rate[runs / 2] : (rate[runs / 2 - 1] + rate[runs / 2]) / 2;
	*min_out = rate[0];
	*max_out = rate[runs - 1];
	return 0;
}

/* ---- Report ---- */

/* The samples of one round-trip measurement, gathered over interleaved rounds. */
struct bench_series {
	uint64_t *samples; /* n_per_round per round, one round after another */
	uint64_t round_median[BENCH_MAX_RUNS];
	uint64_t median, p90;
};

/* Allocates room for @rounds x @n samples; 1 on failure. */
static int bench_series_init(struct bench_series *s, unsigned int rounds, unsigned int n)
{
	memset(s, 0, sizeof(*s));
	s->samples = calloc((size_t)rounds * n, sizeof(*s->samples));
	return !s->samples;
}

/* Computes per-round medians and the pooled median and p90 (reorders the samples). */
static void bench_series_finish(struct bench_series *s, unsigned int rounds, unsigned int n)
{
	for (unsigned int r = 0; r < rounds; r++)
		s->round_median[r] = bench_percentile(s->samples + (size_t)r * n, n, 50);
	s->median = bench_percentile(s->samples, rounds * n, 50);
	s->p90 = bench_percentile(s->samples, rounds * n, 90);
}

static void bench_row_latency(const char *what, const struct bench_series *s, unsigned int rounds,
			      uint64_t base, double target)
{
	double ratio = (double)s->median / (double)base;
	uint64_t lo = s->round_median[0], hi = lo;

	for (unsigned int r = 1; r < rounds; r++) {
		lo = s->round_median[r] < lo ? s->round_median[r] : lo;
		hi = s->round_median[r] > hi ? s->round_median[r] : hi;
	}
	printf("  %-22s %9.2f %9.2f %7.2f-%-7.2f %6.2fx", what, s->median / 1e3, s->p90 / 1e3,
	       lo / 1e3, hi / 1e3, ratio);
	if (target > 0)
		printf("   <= %.1fx   %s", target, ratio <= target ? "PASS" : "BELOW");
	printf("\n");
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench-magma [--short] [--simd PATH] [--no-daemon] [--cpu N] [--breakdown]\n"
		"                   [--json FILE]\n"
		"       bench-magma --help | --version\n"
		"What the Magma stack costs per empty command buffer: round trips on the\n"
		"embedded device and through a magma-simd child, against a socketpair\n"
		"ping-pong, then pipelined throughput; medians against targets (PASS or BELOW).\n"
		"  --short      fewer iterations (what scripts/test runs)\n"
		"  --simd PATH  the magma-simd to start (default: the one built with this)\n"
		"  --no-daemon  skip the magma-simd round trips\n"
		"  --cpu N      pin every thread, the daemon's included, to CPU N\n"
		"  --breakdown  then time each hop of the round trips (latency probes) and\n"
		"               count the thread wake-ups each costs\n"
		"  --json FILE  also write the figures to FILE (docs/benchmarks.md)\n"
		"  --help       this text\n"
		"  --version    print \"bench-magma VERSION\"\n"
		"Exit: 0 every call worked (a figure BELOW does not fail), 1 a call failed,\n"
		"2 usage.\n");
}

/*
 * bench-magma entry point. The three round-trip measurements run in interleaved rounds
 * (ping-pong, embedded, daemon; again), so load on a shared machine weighs on all of them alike.
 * Exit 0 = every call worked (targets inform only), 1 = a call failed, 2 = bad usage.
 */
int main(int argc, char **argv)
{
	struct bench_params p = {.pingpong_n = 20000,
				 .roundtrip_n = 5000,
				 .warmup_n = 200,
				 .rounds = 5,
				 .pipeline_k = 100000,
				 .pipeline_runs = 5};
	const char *simd = BENCH_MAGMA_SIMD_PATH;
	struct bench_series pp = {0}, emb = {0}, dmn = {0};
	struct bench_daemon dm = {.pid = -1};
	struct bench_dev ed = {0}, dd = {0};
	struct bench_pingpong echo;
	double tput = 0, tput_min = 0, tput_max = 0;
	int daemon = 1, status = 1, fd, have_echo = 0, cpu = -1, breakdown = 0;
	unsigned int pp_n, rt_n;
	const char *json = NULL;
	struct bench_report *report = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--short")) {
			p = (struct bench_params){.pingpong_n = 2000,
						  .roundtrip_n = 500,
						  .warmup_n = 50,
						  .rounds = 3,
						  .pipeline_k = 20000,
						  .pipeline_runs = 3};
		} else if (!strcmp(argv[i], "--simd") && i + 1 < argc) {
			simd = argv[++i];
		} else if (!strcmp(argv[i], "--breakdown")) {
			breakdown = 1;
		} else if (!strcmp(argv[i], "--no-daemon")) {
			daemon = 0;
		} else if (!strcmp(argv[i], "--cpu") && i + 1 < argc) {
			cpu = atoi(argv[++i]);
		} else {
			int exit_status = bench_arg_common(argc, argv, &i, "bench-magma",
							   MAGMA_SIM_VERSION, usage, &json);

			if (exit_status >= 0)
				return exit_status;
		}
	}
	setenv("MAGMA_SYSTEM_QUIET", "1", 0);
	if (cpu >= 0) {
		/* Before any thread exists: every thread and the daemon child inherit it. */
		cpu_set_t set;

		CPU_ZERO(&set);
		if (cpu < CPU_SETSIZE)
			CPU_SET(cpu, &set);
		if (cpu >= CPU_SETSIZE || sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "bench-magma: cannot pin to CPU %d\n", cpu);
			return 2;
		}
	}
	pp_n = p.pingpong_n / p.rounds;
	rt_n = p.roundtrip_n / p.rounds;
	if (bench_series_init(&pp, p.rounds, pp_n) || bench_series_init(&emb, p.rounds, rt_n) ||
	    bench_series_init(&dmn, p.rounds, rt_n))
		goto out;

	if (bench_pingpong_start(&echo))
		goto out;
	have_echo = 1;
	fd = magma_sim_embedded_open();
	if (fd < 0) {
		fprintf(stderr, "bench-magma: magma_sim_embedded_open: %s\n", strerror(-fd));
		goto out;
	}
	if (bench_dev_open(&ed, fd))
		goto out;
	if (daemon) {
		if (bench_daemon_start(&dm, simd, NULL))
			goto out;
		fd = bench_daemon_connect(&dm);
		if (fd < 0 || bench_dev_open(&dd, fd))
			goto out;
	}

	for (unsigned int r = 0; r < p.rounds; r++) {
		if (bench_pingpong_run(&echo, pp_n, p.warmup_n, pp.samples + (size_t)r * pp_n) ||
		    bench_roundtrip(&ed, rt_n, p.warmup_n, emb.samples + (size_t)r * rt_n))
			goto out;
		if (daemon &&
		    bench_roundtrip(&dd, rt_n, p.warmup_n, dmn.samples + (size_t)r * rt_n))
			goto out;
	}
	if (bench_pipeline(&ed, p.pipeline_k, p.pipeline_runs, &tput, &tput_min, &tput_max))
		goto out;
	bench_series_finish(&pp, p.rounds, pp_n);
	bench_series_finish(&emb, p.rounds, rt_n);
	if (daemon)
		bench_series_finish(&dmn, p.rounds, rt_n);

	printf("bench-magma: empty command buffer (NOP + END), host time by CLOCK_MONOTONIC");
	if (cpu >= 0)
		printf(", every thread and the daemon pinned to CPU %d", cpu);
	printf("\n");
	printf("round trip = execute_command + magma_poll(signal semaphore) + semaphore_reset;\n"
	       "ping-pong = 1 byte each way over an AF_UNIX stream socketpair, 2 threads.\n"
	       "%u interleaved rounds of %u ping-pongs and %u round trips per device, "
	       "each after %u warm-up\n",
	       p.rounds, pp_n, rt_n, p.warmup_n);
	printf("  %-22s %9s %9s %15s %7s   %-7s\n", "", "median us", "p90 us", "round medians",
	       "ratio", "target");
	bench_row_latency("socketpair ping-pong", &pp, p.rounds, pp.median, 0);
	bench_row_latency("embedded round trip", &emb, p.rounds, pp.median,
			  BENCH_EMBEDDED_RATIO_TARGET);
	if (daemon)
		bench_row_latency("daemon round trip", &dmn, p.rounds, pp.median,
				  BENCH_DAEMON_RATIO_TARGET);
	else
		printf("  %-22s (skipped: --no-daemon)\n", "daemon round trip");
	printf("pipelined, embedded: %u command buffers back to back, <= %u in flight; "
	       "median of %u runs (min %.0f, max %.0f)\n",
	       p.pipeline_k, BENCH_WINDOW_STEP * BENCH_WINDOW_SEMS, p.pipeline_runs, tput_min,
	       tput_max);
	printf("  %-22s %9.0f /s   target >= %.0f /s   %s\n", "command buffers / s", tput,
	       BENCH_THROUGHPUT_TARGET, tput >= BENCH_THROUGHPUT_TARGET ? "PASS" : "BELOW");
	if (breakdown) {
		printf("\n");
		if (bench_breakdown("embedded round trip", bench_roundtrip_once, &ed, rt_n, 0,
				    stdout))
			goto out;
		if (daemon && bench_breakdown("daemon round trip", bench_roundtrip_once, &dd, rt_n,
					      dm.pid, stdout))
			goto out;
	}
	report = bench_report_create("bench-magma", MAGMA_SIM_VERSION, argc, argv);
	bench_report_add(report, "pingpong.median", pp.median / 1e3, "us");
	bench_report_add(report, "pingpong.p90", pp.p90 / 1e3, "us");
	bench_report_add(report, "embedded.roundtrip.median", emb.median / 1e3, "us");
	bench_report_add(report, "embedded.roundtrip.p90", emb.p90 / 1e3, "us");
	bench_report_add(report, "embedded.roundtrip.ratio", (double)emb.median / pp.median, "x");
	if (daemon) {
		bench_report_add(report, "daemon.roundtrip.median", dmn.median / 1e3, "us");
		bench_report_add(report, "daemon.roundtrip.p90", dmn.p90 / 1e3, "us");
		bench_report_add(report, "daemon.roundtrip.ratio", (double)dmn.median / pp.median,
				 "x");
	}
	bench_report_add(report, "embedded.pipelined", tput, "/s");
	status = bench_report_write(report, json) ? 1 : 0;
out:
	bench_report_destroy(report);
	if (bench_dev_close(&dd))
		status = 1;
	if (bench_dev_close(&ed))
		status = 1;
	if (daemon && bench_daemon_stop(&dm))
		status = 1;
	if (have_echo)
		bench_pingpong_stop(&echo);
	free(pp.samples);
	free(emb.samples);
	free(dmn.samples);
	return status;
}
