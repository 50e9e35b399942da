/* SPDX-License-Identifier: MIT */
/*
 * bench_scale.c - bench-scale: whether what one call costs stays flat as a client holds more.
 *
 * Four curves, each on a device of its own, through magma.h only: the number of open
 * connections, of buffers in one connection, of GPU mappings in one connection and of command
 * buffers in flight on one connection. Each grows along 1, 10, 100, 1k, 10k, 100k up to its
 * limit (the device's, read with MAGMA_SYSTEM_QUERY_LIMITS, or a fixed per-connection bound of the
 * service or driver: docs/devices.md, "Limits"), which is then the last point. At every point a
 * few representative hot-path calls are timed: a batch of the same call, several rounds, the
 * median round divided by the batch in ns per call (feed-forward calls end the batch with a
 * flush, or with a wait for the last command buffer, so the time covers the service and the
 * driver too, not only the send). At the last point, what the objects added cost in memory: the
 * growth of the bytes malloc handed out (mallinfo2: client, service and driver in this process;
 * with --daemon the client only) and of the resident set (with --daemon the client's and the
 * daemon's added up), over their number.
 *
 * What each call is, and what it exercises, is in docs/benchmarks.md. The last point of a curve
 * against its first ("growth", x) is the figure that says whether a lookup on the hot path is
 * O(n): a flat curve stays near 1.
 *
 * The device is an embedded one whose per-process limits are raised to its device-wide ones (one
 * process is all the clients here) and whose handles and mappings are raised to the service's
 * per-connection bounds, so that those two curves can reach 100k; or with --daemon a magma-simd
 * child (--simd PATH) with its default device limits, per process the same. The fd limit is
 * raised to its hard limit, and the hard limit to what 100k buffers need when the process may
 * (CAP_SYS_RESOURCE): each buffer is an fd in the client, and embedded either a host mapping in
 * the driver (bounded by vm.max_map_count) or, on a device made with MAP_BUFFERS_ON_USE, a
 * second fd; the buffers curve takes whichever fits more. A curve that cannot reach its last
 * point stops at what fits and says why.
 * "--quick" stops the curves at 1000 objects (10 connections) with fewer rounds: what scripts/test
 * runs, in seconds. "--json FILE" writes every figure (bench_report.h). Figures, not a test: a
 * failing call exits 1, bad usage 2. The main thread drives everything; the device has its own.
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "bench_util.h"
#include "magma_sim_defs.h"
#include "magma_system/embedded.h"
#include "magma_system/magma_system.h"
#include "sim/sim_cmd.h"

#ifndef MAGMA_SIM_VERSION
#define MAGMA_SIM_VERSION "0"
#endif
#ifndef BENCH_SCALE_SIMD_PATH
#define BENCH_SCALE_SIMD_PATH "magma-simd"
#endif

/* clang-format off */
#define SCALE_PAGE            4096ull
#define SCALE_CMD_VA          0x1000000ull   /* each probe connection's command buffer */
#define SCALE_MAP_VA          0x100000000ull /* the mappings curve's mappings, every other slot */
#define SCALE_WAIT_NS         (30 * 1000000000ull) /* one wait; longer is a hang */
/* Per-connection bounds that no query reports (docs/devices.md, "Limits"). */
#define SCALE_CONN_BUFFERS    262144u /* magma_system: buffers in one connection */
#define SCALE_CONN_MAPPINGS   262144u /* magma_system: mappings in one connection */
#define SCALE_CONN_JOBS       65536u  /* msd-sim: submissions of one connection not retired */
#define SCALE_FD_RESERVE      256u    /* fds kept for everything but the curve's buffers */
#define SCALE_MAP_RESERVE     4096u   /* host mappings kept for all but the buffers' (threads...) */
#define SCALE_MAX_POINTS      8
#define SCALE_MAX_CALLS       4
#define SCALE_MAX_ROUNDS      15
/* clang-format on */

/* How much to measure: --quick or the full run. */
struct scale_params {
	unsigned int rounds; /* timed rounds per point and call; the median is kept */
	unsigned int batch;  /* calls per timed round */
	uint64_t max_n;	     /* last point of the object curves, before limits */
	uint64_t max_conns;  /* last point of the connections curve, before limits */
};

/* One curve: its points, and for each call the ns per call at each point. */
struct scale_curve {
	const char *name;   /* figure prefix: "buffers" */
	const char *title;  /* "buffers in one connection" */
	const char *object; /* "buffer", for the memory line */
	char limit[160];    /* what bounds the last point */
	uint64_t n[SCALE_MAX_POINTS];
	unsigned int points;
	const char *calls[SCALE_MAX_CALLS]; /* figure names: "execute" */
	const char *call_titles[SCALE_MAX_CALLS];
	unsigned int call_count;
	double ns[SCALE_MAX_CALLS][SCALE_MAX_POINTS];
	/* Growth / objects at the last point (< 0: not measured): resident set, malloc'd bytes. */
	double rss_per_object, heap_per_object;
};

/* The device under test and what the run knows about it. */
struct scale {
	struct scale_params p;
	bool daemon;
	const char *simd;
	struct magma_system_embedded *emb;
	struct bench_daemon dm;
	magma_device_t device;
	struct magma_system_limits limits;
	uint32_t flags; /* MAGMA_SYSTEM_DEVICE_* of the embedded device */
	uint64_t fd_limit;
};

/*
 * The embedded device's limits: per process as device-wide (one process is all the clients), and
 * room for the buffers and mappings curves' objects up to the service's per-connection bounds (the
 * defaults stop at 49152 handles and 65536 mappings a device).
 */
static void scale_embedded_limits(struct magma_system_limits *limits)
{
	static const struct {
		enum magma_system_resource res;
		uint64_t at_least;
	} raised[] = {
		{MAGMA_SYSTEM_RES_HANDLES, SCALE_CONN_BUFFERS},
		{MAGMA_SYSTEM_RES_MAPPINGS, SCALE_CONN_MAPPINGS},
	};

	magma_system_limits_default(limits);
	for (size_t i = 0; i < sizeof(raised) / sizeof(raised[0]); i++) {
		if (limits->device[raised[i].res] < raised[i].at_least)
			limits->device[raised[i].res] = raised[i].at_least;
	}
	for (int r = 0; r < MAGMA_SYSTEM_RES_COUNT; r++)
		limits->process[r] = limits->device[r];
}

/*
 * A probe connection: a context, a command buffer (NOP + END) that is mapped at @cmd_va once
 * scale_conn_map_cmd ran, and a semaphore the probes signal.
 */
struct scale_conn {
	magma_connection_t conn;
	uint32_t ctx;
	magma_buffer_t cmd;
	magma_buffer_id_t cmd_id;
	uint32_t cmd_bytes;
	uint64_t cmd_va; /* 0 until mapped */
	magma_semaphore_t sem;
	magma_semaphore_id_t sem_id;
};

/* ---- Setup ---- */

static int scale_fd_channel(struct scale *s)
{
	int fd = s->daemon ? bench_daemon_connect(&s->dm) : magma_system_embedded_connect(s->emb);

	if (fd < 0 && !s->daemon)
		fprintf(stderr, "bench-scale: magma_system_embedded_connect: %s\n", strerror(-fd));
	return fd;
}

/*
 * Opens the device with per-process limits at the device's and reads them: with --daemon a
 * magma-simd whose device limits are its defaults, else an embedded device with
 * scale_embedded_limits and MAGMA_SYSTEM_DEVICE_* @flags.
 */
static int scale_device_open(struct scale *s, uint32_t flags)
{
	struct magma_system_limits limits;
	magma_handle_t handle = 0;
	magma_status_t st;
	uint64_t unused;
	int fd;

	if (s->daemon) {
		static char specs[MAGMA_SYSTEM_RES_COUNT][64];
		const char *args[2 * MAGMA_SYSTEM_RES_COUNT + 1];
		int a = 0;

		magma_system_limits_default(&limits);

		/* The daemon fits its device limits to its fds first; the process ones follow. */
		for (int r = 0; r < MAGMA_SYSTEM_RES_COUNT; r++) {
			snprintf(specs[r], sizeof(specs[r]), "process.%s=%" PRIu64,
				 magma_system_resource_name(r), limits.device[r]);
			args[a++] = "--limit";
			args[a++] = specs[r];
		}
		args[a] = NULL;
		if (bench_daemon_start(&s->dm, s->simd, args))
			return 1;
	} else {
		scale_embedded_limits(&limits);
		s->flags = flags;
		s->emb = magma_system_embedded_create_flags(NULL, &limits, flags);
		if (!s->emb) {
			fprintf(stderr, "bench-scale: cannot create the embedded device\n");
			return 1;
		}
	}
	fd = scale_fd_channel(s);
	if (fd < 0)
		return 1;
	st = magma_device_import((magma_handle_t)fd, &s->device);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_device_import", st);
	st = magma_device_query(s->device, MAGMA_SYSTEM_QUERY_LIMITS, &handle, &unused);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_device_query(MAGMA_SYSTEM_QUERY_LIMITS)", st);
	if (pread((int)handle, &s->limits, sizeof(s->limits), 0) != (ssize_t)sizeof(s->limits)) {
		close((int)handle);
		return bench_fail("reading the limits buffer", MAGMA_STATUS_INTERNAL_ERROR);
	}
	close((int)handle);
	return 0;
}

static void scale_device_close(struct scale *s)
{
	if (s->device)
		magma_device_release(s->device);
	s->device = 0;
	magma_system_embedded_destroy(s->emb);
	s->emb = NULL;
	bench_daemon_stop(&s->dm);
}

/* What a client process may hold of @res: the smaller of its own and the device's limit. */
static uint64_t scale_limit(const struct scale *s, enum magma_system_resource res)
{
	uint64_t p = s->limits.process[res], d = s->limits.device[res];

	return p < d ? p : d;
}

/*
 * What the process holds: the resident set of the client and, with --daemon, of the daemon; and
 * the bytes malloc has handed out and not got back in this process (mallinfo2), which unlike the
 * RSS does not depend on what an earlier curve left in malloc's free lists.
 */
struct scale_mem {
	uint64_t rss, heap;
};

static struct scale_mem scale_mem_now(const struct scale *s)
{
	struct mallinfo2 mi = mallinfo2();

	return (struct scale_mem){
		.rss = bench_rss_bytes(0) + (s->daemon ? bench_rss_bytes(s->dm.pid) : 0),
		.heap = mi.uordblks + mi.hblkhd,
	};
}

/* Sets @curve's memory per object from @base to now, over @objects. */
static void scale_mem_per_object(const struct scale *s, struct scale_curve *curve,
				 struct scale_mem base, uint64_t objects)
{
	struct scale_mem now = scale_mem_now(s);

	if (!objects)
		return;
	curve->rss_per_object = ((double)now.rss - (double)base.rss) / (double)objects;
	curve->heap_per_object = ((double)now.heap - (double)base.heap) / (double)objects;
}

/* Maps @c's command buffer READ|EXECUTE at @va. */
static int scale_conn_map_cmd(struct scale_conn *c, uint64_t va)
{
	magma_status_t st = magma_connection_map_buffer(
		c->conn, va, c->cmd, 0, SCALE_PAGE, MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE);

	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_connection_map_buffer (command buffer)", st);
	c->cmd_va = va;
	return 0;
}

/* A new probe connection; its command buffer mapped at SCALE_CMD_VA when @map. */
static int scale_conn_open(struct scale *s, struct scale_conn *c, bool map)
{
	magma_handle_t handle;
	magma_status_t st;
	uint64_t size = 0;
	uint32_t *cpu, n = 0;

	memset(c, 0, sizeof(*c));
	st = magma_device_create_connection(s->device, &c->conn);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_device_create_connection", st);
	st = magma_connection_create_context2(c->conn, MAGMA_PRIORITY_MEDIUM, &c->ctx);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_connection_create_context2", st);
	st = magma_connection_create_buffer(c->conn, SCALE_PAGE, &size, &c->cmd, &c->cmd_id);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_connection_create_buffer", st);
	st = magma_buffer_get_handle(c->cmd, &handle);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_buffer_get_handle", st);
	cpu = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)handle, 0);
	close((int)handle);
	if (cpu == MAP_FAILED) {
		perror("bench-scale: mmap of the command buffer");
		return 1;
	}
	n += sim_cmd_emit_nop(cpu + n, 0);
	n += sim_cmd_emit_end(cpu + n);
	c->cmd_bytes = n * 4;
	munmap(cpu, (size_t)size);
	if (map && scale_conn_map_cmd(c, SCALE_CMD_VA))
		return 1;
	st = magma_connection_create_semaphore(c->conn, &c->sem, &c->sem_id);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_connection_create_semaphore", st);
	st = magma_connection_flush(c->conn);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_connection_flush after setup", st);
	return 0;
}

/* Releases @c (everything it holds goes with it); 1 if the connection had failed. */
static int scale_conn_close(struct scale_conn *c)
{
	magma_status_t st;

	if (!c->conn)
		return 0;
	st = magma_connection_flush(c->conn);
	magma_connection_release(c->conn);
	memset(c, 0, sizeof(*c));
	return st != MAGMA_STATUS_OK ? bench_fail("magma_connection_flush at the end", st) : 0;
}

/* ---- The calls ---- */

/*
 * Submits @c's command buffer on context @ctx, with @extra (NULL: none) as a second resource,
 * waiting for semaphore @wait_id and signalling @signal_id (0: none).
 */
static magma_status_t scale_execute(struct scale_conn *c, uint32_t ctx,
				    const magma_exec_resource_t *extra, uint64_t wait_id,
				    uint64_t signal_id)
{
	magma_exec_resource_t res[2] = {{c->cmd_id, 0, c->cmd_bytes}};
	magma_exec_command_buffer_t cb = {.resource_index = 0, .start_offset = 0};
	uint64_t sems[2];
	uint32_t waits = 0, signals = 0;
	magma_command_descriptor_t desc = {
		.resource_count = extra ? 2 : 1,
		.command_buffer_count = 1,
		.resources = res,
		.command_buffers = &cb,
		.semaphore_ids = sems,
	};

	if (extra)
		res[1] = *extra;
	if (wait_id)
		sems[waits++] = wait_id;
	if (signal_id)
		sems[waits + signals++] = signal_id;
	desc.wait_semaphore_count = waits;
	desc.signal_semaphore_count = signals;
	return magma_connection_execute_command(c->conn, ctx, &desc);
}

static magma_status_t scale_wait(magma_semaphore_t sem)
{
	magma_poll_item_t item = {.semaphore = sem,
				  .type = MAGMA_POLL_TYPE_SEMAPHORE,
				  .condition = MAGMA_POLL_CONDITION_SIGNALED};
	magma_status_t st = magma_poll(&item, 1, SCALE_WAIT_NS);

	if (st == MAGMA_STATUS_OK && !(item.result & MAGMA_POLL_CONDITION_SIGNALED))
		st = MAGMA_STATUS_INTERNAL_ERROR;
	return st;
}

/* @batch submissions back to back (with @extra), the last signalling; waits for it. */
static int scale_pipeline(struct scale_conn *c, const magma_exec_resource_t *extra,
			  unsigned int batch)
{
	magma_status_t st;

	for (unsigned int i = 0; i < batch; i++) {
		st = scale_execute(c, c->ctx, extra, 0, i + 1 == batch ? c->sem_id : 0);
		if (st != MAGMA_STATUS_OK)
			return bench_fail("magma_connection_execute_command", st);
	}
	st = scale_wait(c->sem);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_poll for the last command buffer", st);
	magma_semaphore_reset(c->sem);
	return 0;
}

/* @batch round trips: submit signalling, wait, reset. */
static int scale_roundtrips(struct scale_conn *c, unsigned int batch)
{
	for (unsigned int i = 0; i < batch; i++) {
		magma_status_t st = scale_execute(c, c->ctx, NULL, 0, c->sem_id);

		if (st != MAGMA_STATUS_OK)
			return bench_fail("magma_connection_execute_command", st);
		st = scale_wait(c->sem);
		if (st != MAGMA_STATUS_OK)
			return bench_fail("magma_poll on the round trip", st);
		magma_semaphore_reset(c->sem);
	}
	return 0;
}

static int scale_flushes(struct scale_conn *c, unsigned int batch)
{
	for (unsigned int i = 0; i < batch; i++) {
		magma_status_t st = magma_connection_flush(c->conn);

		if (st != MAGMA_STATUS_OK)
			return bench_fail("magma_connection_flush", st);
	}
	return 0;
}

static int scale_flush(struct scale_conn *c, const char *after)
{
	magma_status_t st = magma_connection_flush(c->conn);

	if (st != MAGMA_STATUS_OK) {
		char what[128];

		snprintf(what, sizeof(what), "magma_connection_flush after %s", after);
		return bench_fail(what, st);
	}
	return 0;
}

/* ---- Measuring ---- */

/* A call of a curve: runs @batch of it and returns 0, or 1 after reporting a failure. */
typedef int (*scale_call_fn)(void *ctx, unsigned int batch);

/*
 * Times the curve's calls at point @point: one untimed batch of each, then @p->rounds rounds in
 * which every call runs a timed batch in turn (so that load on the machine weighs on all alike);
 * the median batch over @p->batch is the ns per call.
 */
static int scale_measure(const struct scale_params *p, struct scale_curve *curve,
			 unsigned int point, scale_call_fn const *fns, void *ctx)
{
	uint64_t samples[SCALE_MAX_CALLS][SCALE_MAX_ROUNDS];

	for (unsigned int c = 0; c < curve->call_count; c++) {
		if (fns[c](ctx, p->batch))
			return 1;
	}
	for (unsigned int r = 0; r < p->rounds; r++) {
		for (unsigned int c = 0; c < curve->call_count; c++) {
			uint64_t t0 = bench_now_ns();

			if (fns[c](ctx, p->batch))
				return 1;
			samples[c][r] = bench_now_ns() - t0;
		}
	}
	for (unsigned int c = 0; c < curve->call_count; c++)
		curve->ns[c][point] = (double)bench_median(samples[c], p->rounds) / p->batch;
	return 0;
}

/*
 * The points 1, 10, 100, ... below @limit and @max, then whichever of the two is smaller; the
 * curve's limit text says which: @why (what @limit stands for) or the run's @max.
 */
static void scale_points(struct scale_curve *curve, uint64_t max, uint64_t limit, const char *why)
{
	uint64_t last = max < limit ? max : limit;

	if (max <= limit)
		snprintf(curve->limit, sizeof(curve->limit), "the run's %" PRIu64 ", below %s", max,
			 why);
	else
		snprintf(curve->limit, sizeof(curve->limit), "%s", why);

	curve->points = 0;
	for (uint64_t n = 1; n < last && curve->points < SCALE_MAX_POINTS - 1; n *= 10)
		curve->n[curve->points++] = n;
	curve->n[curve->points++] = last;
}

/* On a terminal, where the curve is (a full run takes minutes). */
static void scale_progress(const struct scale_curve *curve, unsigned int point)
{
	if (!isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "\rbench-scale: %s: n = %-12" PRIu64, curve->name, curve->n[point]);
	if (point + 1 == curve->points)
		fprintf(stderr, "\r%50s\r", "");
}

/* ---- Curve: connections ---- */

struct scale_conns {
	struct scale *s;
	struct scale_conn probe;
	magma_connection_t *others;
	uint32_t *other_ctx;
	uint64_t count; /* others open */
};

static int conns_roundtrip(void *ctx, unsigned int batch)
{
	return scale_roundtrips(&((struct scale_conns *)ctx)->probe, batch);
}

static int conns_flush(void *ctx, unsigned int batch)
{
	return scale_flushes(&((struct scale_conns *)ctx)->probe, batch);
}

/* Live connections of the device (MAGMA_SYSTEM_QUERY_CONNECTION_COUNT). */
static int scale_connection_count(struct scale *s, uint64_t *count_out)
{
	magma_status_t st =
		magma_device_query(s->device, MAGMA_SYSTEM_QUERY_CONNECTION_COUNT, NULL, count_out);

	return st != MAGMA_STATUS_OK ? bench_fail("magma_device_query(CONNECTION_COUNT)", st) : 0;
}

/*
 * Opens and releases one more connection, @batch times; only the opening (a device-channel round
 * trip and a context) is timed by the caller's clock, so this waits, untimed, for the service to
 * have freed each released connection before the next: it counts against the limit until then.
 */
static int conns_open(void *ctx, unsigned int batch)
{
	struct scale_conns *cs = ctx;
	uint64_t live, base;

	if (scale_connection_count(cs->s, &base))
		return 1;
	for (unsigned int i = 0; i < batch; i++) {
		magma_connection_t conn;
		magma_status_t st = magma_device_create_connection(cs->s->device, &conn);
		uint32_t id;

		if (st != MAGMA_STATUS_OK)
			return bench_fail("magma_device_create_connection", st);
		st = magma_connection_create_context2(conn, MAGMA_PRIORITY_MEDIUM, &id);
		if (st == MAGMA_STATUS_OK)
			st = magma_connection_flush(conn);
		magma_connection_release(conn);
		if (st != MAGMA_STATUS_OK)
			return bench_fail("a context on a new connection", st);
		do {
			if (scale_connection_count(cs->s, &live))
				return 1;
		} while (live > base && !poll(NULL, 0, 0));
	}
	return 0;
}

static int scale_curve_connections(struct scale *s, struct scale_curve *curve)
{
	static const scale_call_fn fns[] = {conns_roundtrip, conns_flush, conns_open};
	struct scale_conns cs = {.s = s};
	uint64_t limit = scale_limit(s, MAGMA_SYSTEM_RES_CONNECTIONS);
	struct scale_mem base;
	char why[64];
	int ret = 1;

	*curve = (struct scale_curve){
		.name = "connections",
		.title = "connections open (one of them the probe)",
		.object = "connection",
		.calls = {"roundtrip", "flush", "open"},
		.call_titles = {"execute + wait (round trip)", "flush (service round trip)",
				"open one more (+ context)"},
		.call_count = 3,
		.rss_per_object = -1,
		.heap_per_object = -1,
	};
	/* One more than the last point is opened and released by conns_open. */
	snprintf(why, sizeof(why), "device limit of %" PRIu64 " connections", limit);
	scale_points(curve, s->p.max_conns, limit - 1, why);
	cs.others = calloc(curve->n[curve->points - 1], sizeof(*cs.others));
	cs.other_ctx = calloc(curve->n[curve->points - 1], sizeof(*cs.other_ctx));
	if (!cs.others || !cs.other_ctx) {
		fprintf(stderr, "bench-scale: out of memory\n");
		goto out;
	}
	if (scale_conn_open(s, &cs.probe, true))
		goto out;
	base = scale_mem_now(s);
	for (unsigned int pt = 0; pt < curve->points; pt++) {
		scale_progress(curve, pt);
		while (cs.count + 1 < curve->n[pt]) {
			magma_connection_t *conn = &cs.others[cs.count];
			magma_status_t st = magma_device_create_connection(s->device, conn);

			if (st != MAGMA_STATUS_OK) {
				bench_fail("magma_device_create_connection", st);
				goto out;
			}
			cs.count++;
			st = magma_connection_create_context2(*conn, MAGMA_PRIORITY_MEDIUM,
							      &cs.other_ctx[cs.count - 1]);
			if (st == MAGMA_STATUS_OK)
				st = magma_connection_flush(*conn);
			if (st != MAGMA_STATUS_OK) {
				bench_fail("a context on a new connection", st);
				goto out;
			}
		}
		if (scale_measure(&s->p, curve, pt, fns, &cs))
			goto out;
	}
	scale_mem_per_object(s, curve, base, cs.count);
	ret = 0;
out:
	for (uint64_t i = 0; i < cs.count; i++)
		magma_connection_release(cs.others[i]);
	free(cs.others);
	free(cs.other_ctx);
	if (scale_conn_close(&cs.probe))
		ret = 1;
	return ret;
}

/* ---- Curve: buffers in one connection ---- */

/*
 * What bounds the buffers this process can hold. Each is an fd in the client (libmagma keeps its
 * memfd). The embedded driver adds by default a host mapping of each from import, which
 * vm.max_map_count bounds (65530 by default), or with MAP_BUFFERS_ON_USE an fd (the service's
 * dup of the client's) until the GPU maps it; with --daemon the daemon's fds are its own.
 */

/* Host mappings this process may still make for buffers: vm.max_map_count less a reserve. */
static uint64_t scale_map_buffers(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	unsigned long long max = 0;
	int got = f ? fscanf(f, "%llu", &max) : 0;

	if (f)
		fclose(f);
	if (got != 1)
		return UINT64_MAX; /* no procfs: nothing known to bound them */
	return max > SCALE_MAP_RESERVE ? max - SCALE_MAP_RESERVE : 0;
}

/* The buffers that fit on a device with @flags; *@why says what bounds them. */
static uint64_t scale_buffers_fit(const struct scale *s, uint32_t flags, char *why, size_t why_size)
{
	bool driver_fd = !s->daemon && (flags & MAGMA_SYSTEM_DEVICE_MAP_BUFFERS_ON_USE);
	unsigned int fds = driver_fd ? 2 : 1;
	uint64_t fit = s->fd_limit > SCALE_FD_RESERVE ? (s->fd_limit - SCALE_FD_RESERVE) / fds : 0;
	uint64_t maps = s->daemon || driver_fd ? UINT64_MAX : scale_map_buffers();

	snprintf(why, why_size, "this process's fd limit of %" PRIu64 " (%u fd%s a buffer)",
		 s->fd_limit, fds, fds > 1 ? "s" : "");
	if (maps < fit) {
		fit = maps;
		snprintf(why, why_size, "vm.max_map_count (a host mapping a buffer)");
	}
	return fit;
}

/*
 * The buffers curve's embedded device: the default, a mapping a buffer, unless its last point
 * does not fit that way and an fd a buffer in the driver fits more (vm.max_map_count is the
 * smaller bound once the hard fd limit can be raised).
 */
static uint32_t scale_buffers_flags(const struct scale *s)
{
	uint64_t want = s->p.max_n + 3, mapped;
	char why[96];

	if (s->daemon)
		return 0;
	mapped = scale_buffers_fit(s, 0, why, sizeof(why));
	if (mapped >= want || scale_buffers_fit(s, MAGMA_SYSTEM_DEVICE_MAP_BUFFERS_ON_USE, why,
						sizeof(why)) <= mapped)
		return 0;
	return MAGMA_SYSTEM_DEVICE_MAP_BUFFERS_ON_USE;
}

struct scale_buffers {
	struct scale_conn probe;
	magma_buffer_t *ring; /* the curve's buffers, oldest at @oldest */
	magma_buffer_id_t *ids;
	uint64_t count, cap, oldest;
};

static magma_buffer_t buffers_at(const struct scale_buffers *bs, uint64_t age,
				 magma_buffer_id_t *id)
{
	uint64_t i = (bs->oldest + age) % bs->cap;

	if (id)
		*id = bs->ids[i];
	return bs->ring[i];
}

/* Pipelined submissions naming, besides the command buffer, the buffer in the middle by age. */
static int buffers_execute(void *ctx, unsigned int batch)
{
	struct scale_buffers *bs = ctx;
	magma_exec_resource_t extra = {0, 0, SCALE_PAGE};

	buffers_at(bs, bs->count / 2, &extra.buffer_id);
	return scale_pipeline(&bs->probe, &extra, batch);
}

static int buffers_get_handle(void *ctx, unsigned int batch)
{
	struct scale_buffers *bs = ctx;
	magma_buffer_t buf = buffers_at(bs, bs->count / 2, NULL);

	for (unsigned int i = 0; i < batch; i++) {
		magma_handle_t handle;
		magma_status_t st = magma_buffer_get_handle(buf, &handle);

		if (st != MAGMA_STATUS_OK)
			return bench_fail("magma_buffer_get_handle", st);
		close((int)handle);
	}
	return 0;
}

/* Creates one more buffer and releases it again, @batch times, then a flush. */
static int buffers_create_release(void *ctx, unsigned int batch)
{
	struct scale_buffers *bs = ctx;

	for (unsigned int i = 0; i < batch; i++) {
		magma_buffer_t buf;
		magma_buffer_id_t id;
		uint64_t size;
		magma_status_t st = magma_connection_create_buffer(bs->probe.conn, SCALE_PAGE,
								   &size, &buf, &id);

		if (st != MAGMA_STATUS_OK)
			return bench_fail("magma_connection_create_buffer", st);
		magma_connection_release_buffer(bs->probe.conn, buf);
	}
	return scale_flush(&bs->probe, "creating and releasing buffers");
}

static int buffers_add(struct scale_buffers *bs)
{
	uint64_t i = (bs->oldest + bs->count) % bs->cap, size;
	magma_status_t st = magma_connection_create_buffer(bs->probe.conn, SCALE_PAGE, &size,
							   &bs->ring[i], &bs->ids[i]);

	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_connection_create_buffer", st);
	bs->count++;
	return 0;
}

/* Releases the oldest buffer and creates a new one in its place, @batch times, then a flush. */
static int buffers_release_oldest(void *ctx, unsigned int batch)
{
	struct scale_buffers *bs = ctx;

	for (unsigned int i = 0; i < batch; i++) {
		magma_connection_release_buffer(bs->probe.conn, bs->ring[bs->oldest]);
		bs->oldest = (bs->oldest + 1) % bs->cap;
		bs->count--;
		if (buffers_add(bs))
			return 1;
	}
	return scale_flush(&bs->probe, "replacing the oldest buffers");
}

static int scale_curve_buffers(struct scale *s, struct scale_curve *curve)
{
	static const scale_call_fn fns[] = {buffers_execute, buffers_get_handle,
					    buffers_create_release, buffers_release_oldest};
	struct scale_buffers bs = {0};
	uint64_t limit = SCALE_CONN_BUFFERS, handles, fit;
	char fit_why[96];
	struct scale_mem base;
	char why[96] = "the service's 262144 buffers per connection";
	int ret = 1;

	*curve = (struct scale_curve){
		.name = "buffers",
		.title = s->flags & MAGMA_SYSTEM_DEVICE_MAP_BUFFERS_ON_USE
				 ? "buffers in one connection (besides the command buffer; the "
				   "driver keeps their fds, not mappings)"
				 : "buffers in one connection (besides the command buffer)",
		.object = "buffer",
		.calls = {"execute", "get_handle", "create_release", "release_oldest"},
		.call_titles = {"execute naming one (pipelined)", "magma_buffer_get_handle",
				"create + release one more", "release oldest + create"},
		.call_count = 4,
		.rss_per_object = -1,
		.heap_per_object = -1,
	};
	/* Besides the curve's: the command buffer, one being created, the semaphore. */
	handles = scale_limit(s, MAGMA_SYSTEM_RES_HANDLES);
	if (handles < limit) {
		limit = handles;
		snprintf(why, sizeof(why), "the device's handle limit");
	}
	fit = scale_buffers_fit(s, s->flags, fit_why, sizeof(fit_why));
	if (fit < limit) {
		limit = fit;
		snprintf(why, sizeof(why), "%s", fit_why);
	}
	if (limit < 4) {
		fprintf(stderr, "bench-scale: %s leaves no room for the buffers curve\n", why);
		return 1;
	}
	limit -= 3;
	scale_points(curve, s->p.max_n, limit, why);
	bs.cap = curve->n[curve->points - 1];
	bs.ring = calloc(bs.cap, sizeof(*bs.ring));
	bs.ids = calloc(bs.cap, sizeof(*bs.ids));
	if (!bs.ring || !bs.ids) {
		fprintf(stderr, "bench-scale: out of memory\n");
		goto out;
	}
	if (scale_conn_open(s, &bs.probe, true))
		goto out;
	base = scale_mem_now(s);
	for (unsigned int pt = 0; pt < curve->points; pt++) {
		scale_progress(curve, pt);
		while (bs.count < curve->n[pt]) {
			if (buffers_add(&bs))
				goto out;
		}
		if (scale_flush(&bs.probe, "creating buffers") ||
		    scale_measure(&s->p, curve, pt, fns, &bs))
			goto out;
	}
	scale_mem_per_object(s, curve, base, bs.count);
	ret = 0;
out:
	free(bs.ring);
	free(bs.ids);
	if (scale_conn_close(&bs.probe))
		ret = 1;
	return ret;
}

/* ---- Curve: mappings in one connection ---- */

/*
 * The curve's mappings are pages of one large buffer, page i at slot 2i of the VA range from
 * SCALE_MAP_VA: the odd slots stay free, so the probe's mapping lands between two others (in the
 * middle of the range, as an allocator reusing holes would place it).
 */
struct scale_mappings {
	struct scale_conn probe;
	magma_buffer_t backing;
	magma_buffer_id_t backing_id;
	uint64_t count;
};

static uint64_t mappings_slot_va(uint64_t slot)
{
	return SCALE_MAP_VA + slot * SCALE_PAGE;
}

/* Pipelined submissions naming, besides the command buffer, the page mapped in the middle. */
static int mappings_execute(void *ctx, unsigned int batch)
{
	struct scale_mappings *ms = ctx;
	magma_exec_resource_t extra = {ms->backing_id, ms->count / 2 * SCALE_PAGE, SCALE_PAGE};

	return scale_pipeline(&ms->probe, &extra, batch);
}

/* Maps one more page between two mapped ones and unmaps it, @batch times, then a flush. */
static int mappings_map_unmap(void *ctx, unsigned int batch)
{
	struct scale_mappings *ms = ctx;
	uint64_t va = mappings_slot_va(ms->count / 2 * 2 + 1);

	for (unsigned int i = 0; i < batch; i++) {
		magma_status_t st = magma_connection_map_buffer(ms->probe.conn, va, ms->backing, 0,
								SCALE_PAGE, MAGMA_MAP_FLAG_READ);

		if (st != MAGMA_STATUS_OK)
			return bench_fail("magma_connection_map_buffer", st);
		magma_connection_unmap_buffer(ms->probe.conn, va, ms->backing);
	}
	return scale_flush(&ms->probe, "mapping and unmapping");
}

/* A new buffer mapped there and released (its mapping goes with it), @batch times; a flush. */
static int mappings_map_release(void *ctx, unsigned int batch)
{
	struct scale_mappings *ms = ctx;
	uint64_t va = mappings_slot_va(ms->count / 2 * 2 + 1);

	for (unsigned int i = 0; i < batch; i++) {
		magma_buffer_t buf;
		magma_buffer_id_t id;
		uint64_t size;
		magma_status_t st = magma_connection_create_buffer(ms->probe.conn, SCALE_PAGE,
								   &size, &buf, &id);

		if (st != MAGMA_STATUS_OK)
			return bench_fail("magma_connection_create_buffer", st);
		st = magma_connection_map_buffer(ms->probe.conn, va, buf, 0, SCALE_PAGE,
						 MAGMA_MAP_FLAG_READ);
		if (st != MAGMA_STATUS_OK)
			return bench_fail("magma_connection_map_buffer", st);
		magma_connection_release_buffer(ms->probe.conn, buf);
	}
	return scale_flush(&ms->probe, "mapping and releasing buffers");
}

static int scale_curve_mappings(struct scale *s, struct scale_curve *curve)
{
	static const scale_call_fn fns[] = {mappings_execute, mappings_map_unmap,
					    mappings_map_release};
	struct scale_mappings ms = {0};
	uint64_t limit = SCALE_CONN_MAPPINGS, mappings = scale_limit(s, MAGMA_SYSTEM_RES_MAPPINGS),
		 size;
	struct scale_mem base;
	const char *why = "the service's 262144 mappings per connection";
	magma_status_t st;
	int ret = 1;

	*curve = (struct scale_curve){
		.name = "mappings",
		.title = "mappings in one connection (of one buffer's pages)",
		.object = "mapping",
		.calls = {"execute", "map_unmap", "map_release"},
		.call_titles = {"execute naming a mapped page", "map + unmap one more",
				"create + map + release a buffer"},
		.call_count = 3,
		.rss_per_object = -1,
		.heap_per_object = -1,
	};
	if (mappings < limit) {
		limit = mappings;
		why = "the device's mapping limit";
	}
	limit -= 2; /* the command buffer's mapping and the probe's */
	scale_points(curve, s->p.max_n, limit, why);
	if (scale_conn_open(s, &ms.probe, true))
		goto out;
	st = magma_connection_create_buffer(ms.probe.conn, curve->n[curve->points - 1] * SCALE_PAGE,
					    &size, &ms.backing, &ms.backing_id);
	if (st != MAGMA_STATUS_OK) {
		bench_fail("magma_connection_create_buffer (the mapped one)", st);
		goto out;
	}
	if (scale_flush(&ms.probe, "creating the mapped buffer"))
		goto out;
	base = scale_mem_now(s);
	for (unsigned int pt = 0; pt < curve->points; pt++) {
		scale_progress(curve, pt);
		while (ms.count < curve->n[pt]) {
			st = magma_connection_map_buffer(
				ms.probe.conn, mappings_slot_va(2 * ms.count), ms.backing,
				ms.count * SCALE_PAGE, SCALE_PAGE, MAGMA_MAP_FLAG_READ);
			if (st != MAGMA_STATUS_OK) {
				bench_fail("magma_connection_map_buffer", st);
				goto out;
			}
			ms.count++;
		}
		if (scale_flush(&ms.probe, "mapping") || scale_measure(&s->p, curve, pt, fns, &ms))
			goto out;
	}
	scale_mem_per_object(s, curve, base, ms.count);
	ret = 0;
out:
	if (scale_conn_close(&ms.probe))
		ret = 1;
	return ret;
}

/* ---- Curve: command buffers in flight ---- */

/*
 * The work in flight is held on a context of its own (@held_ctx) of the holder connection: the
 * first command buffer waits on a semaphore (@gate), the others queue behind it in their context
 * (a wait consumes the signal, so one gate releases them all in order). A second context of that
 * connection takes the probe's submissions (behind their own gate, released after each batch),
 * and a second connection the round trips.
 */
struct scale_inflight {
	struct scale_conn holder, probe;
	uint32_t held_ctx, extra_ctx;
	magma_semaphore_t gate, extra_gate, extra_done;
	magma_semaphore_id_t gate_id, extra_gate_id, extra_done_id;
	uint64_t held;
	double drain_ns[SCALE_MAX_POINTS];
};

static int inflight_roundtrip(void *ctx, unsigned int batch)
{
	return scale_roundtrips(&((struct scale_inflight *)ctx)->probe, batch);
}

/*
 * @batch submissions on the holder connection behind a gate of their own, then a flush (timed);
 * then, as the caller's clock also sees, the gate opens and they are waited for, so that the work
 * in flight goes back to the point's count. The drain is part of the figure, as it is per call.
 */
static int inflight_submit(void *ctx, unsigned int batch)
{
	struct scale_inflight *is = ctx;
	magma_status_t st;

	for (unsigned int i = 0; i < batch; i++) {
		st = scale_execute(&is->holder, is->extra_ctx, NULL, i ? 0 : is->extra_gate_id,
				   i + 1 == batch ? is->extra_done_id : 0);
		if (st != MAGMA_STATUS_OK)
			return bench_fail("magma_connection_execute_command (behind a gate)", st);
	}
	if (scale_flush(&is->holder, "submitting behind a gate"))
		return 1;
	magma_semaphore_signal(is->extra_gate);
	st = scale_wait(is->extra_done);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("magma_poll for the gated batch", st);
	magma_semaphore_reset(is->extra_done);
	return 0;
}

/* Opens the gate and waits for every held command buffer; *@ns_out is how long that took. */
static int inflight_drain(struct scale_inflight *is, uint64_t *ns_out)
{
	uint64_t t0 = bench_now_ns();
	magma_status_t st;

	magma_semaphore_signal(is->gate);
	st = scale_execute(&is->holder, is->held_ctx, NULL, 0, is->holder.sem_id);
	if (st == MAGMA_STATUS_OK)
		st = scale_wait(is->holder.sem);
	if (st != MAGMA_STATUS_OK)
		return bench_fail("draining the held command buffers", st);
	*ns_out = bench_now_ns() - t0;
	magma_semaphore_reset(is->holder.sem);
	is->held = 0;
	return 0;
}

static int inflight_open(struct scale *s, struct scale_inflight *is)
{
	magma_status_t st;

	if (scale_conn_open(s, &is->holder, true) || scale_conn_open(s, &is->probe, true))
		return 1;
	st = magma_connection_create_context2(is->holder.conn, MAGMA_PRIORITY_MEDIUM,
					      &is->held_ctx);
	if (st == MAGMA_STATUS_OK)
		st = magma_connection_create_context2(is->holder.conn, MAGMA_PRIORITY_MEDIUM,
						      &is->extra_ctx);
	if (st == MAGMA_STATUS_OK)
		st = magma_connection_create_semaphore(is->holder.conn, &is->gate, &is->gate_id);
	if (st == MAGMA_STATUS_OK)
		st = magma_connection_create_semaphore(is->holder.conn, &is->extra_gate,
						       &is->extra_gate_id);
	if (st == MAGMA_STATUS_OK)
		st = magma_connection_create_semaphore(is->holder.conn, &is->extra_done,
						       &is->extra_done_id);
	if (st == MAGMA_STATUS_OK)
		st = magma_connection_flush(is->holder.conn);
	return st != MAGMA_STATUS_OK ? bench_fail("setting up the holder connection", st) : 0;
}

static int scale_curve_inflight(struct scale *s, struct scale_curve *curve)
{
	static const scale_call_fn fns[] = {inflight_roundtrip, inflight_submit};
	struct scale_inflight is = {0};
	uint64_t limit = SCALE_CONN_JOBS - s->p.batch - 2;
	struct scale_mem base = {0};
	int ret = 1;

	*curve = (struct scale_curve){
		.name = "inflight",
		.title = "command buffers in flight on one connection (held by a semaphore)",
		.object = "command buffer in flight",
		.calls = {"roundtrip", "submit", "drain"},
		.call_titles = {"execute + wait on another connection",
				"execute one more + drain it",
				"retire (the gate opens), per buffer"},
		.call_count = 2, /* "drain" is measured once per point, below */
		.rss_per_object = -1,
		.heap_per_object = -1,
	};
	scale_points(curve, s->p.max_n, limit,
		     "msd-sim's 65536 submissions per connection not retired");
	if (inflight_open(s, &is))
		goto out;
	base = scale_mem_now(s);
	for (unsigned int pt = 0; pt < curve->points; pt++) {
		uint64_t ns;

		scale_progress(curve, pt);
		while (is.held < curve->n[pt]) {
			magma_status_t st = scale_execute(&is.holder, is.held_ctx, NULL,
							  is.held ? 0 : is.gate_id, 0);

			if (st != MAGMA_STATUS_OK) {
				bench_fail("magma_connection_execute_command (held)", st);
				goto out;
			}
			is.held++;
		}
		if (scale_flush(&is.holder, "submitting held work") ||
		    scale_measure(&s->p, curve, pt, fns, &is))
			goto out;
		if (pt + 1 == curve->points)
			scale_mem_per_object(s, curve, base, curve->n[pt]);
		if (inflight_drain(&is, &ns))
			goto out;
		is.drain_ns[pt] = (double)ns / curve->n[pt];
	}
	curve->call_count = 3;
	memcpy(curve->ns[2], is.drain_ns, sizeof(is.drain_ns));
	ret = 0;
out:
	if (is.held) {
		uint64_t ns;

		inflight_drain(&is, &ns);
	}
	if (scale_conn_close(&is.probe))
		ret = 1;
	if (scale_conn_close(&is.holder))
		ret = 1;
	return ret;
}

/* ---- Report ---- */

static void scale_print(const struct scale_curve *curve)
{
	printf("\n%s; last point: %s\n", curve->title, curve->limit);
	printf("  %-40s", "ns per call, n =");
	for (unsigned int pt = 0; pt < curve->points; pt++)
		printf(" %9" PRIu64, curve->n[pt]);
	printf("  %7s\n", "growth");
	for (unsigned int c = 0; c < curve->call_count; c++) {
		printf("  %-40s", curve->call_titles[c]);
		for (unsigned int pt = 0; pt < curve->points; pt++)
			printf(" %9.0f", curve->ns[c][pt]);
		printf("  %6.2fx\n", curve->ns[c][curve->points - 1] / curve->ns[c][0]);
	}
	if (curve->heap_per_object >= 0)
		printf("  memory per %s: %.0f bytes malloc'd, %.0f bytes resident (growth over %" PRIu64
		       ")\n",
		       curve->object, curve->heap_per_object, curve->rss_per_object,
		       curve->n[curve->points - 1]);
}

static void scale_report(struct bench_report *report, const struct scale_curve *curve)
{
	char name[128];

	for (unsigned int c = 0; c < curve->call_count; c++) {
		for (unsigned int pt = 0; pt < curve->points; pt++) {
			snprintf(name, sizeof(name), "%s.%s.n%" PRIu64, curve->name,
				 curve->calls[c], curve->n[pt]);
			bench_report_add(report, name, curve->ns[c][pt], "ns");
		}
		snprintf(name, sizeof(name), "%s.%s.growth", curve->name, curve->calls[c]);
		bench_report_add(report, name, curve->ns[c][curve->points - 1] / curve->ns[c][0],
				 "x");
	}
	if (curve->heap_per_object >= 0) {
		snprintf(name, sizeof(name), "%s.memory.heap", curve->name);
		bench_report_add(report, name, curve->heap_per_object, "B");
		snprintf(name, sizeof(name), "%s.memory.rss", curve->name);
		bench_report_add(report, name, curve->rss_per_object, "B");
	}
}

/* ---- Main ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench-scale [--quick] [--daemon [--simd PATH]] [--only CURVE] [--max N]\n"
		"                   [--cpu N] [--json FILE]\n"
		"       bench-scale --help | --version\n"
		"Whether the cost of a call stays flat as a client holds more: ns per call of\n"
		"hot-path calls with 1, 10, 100, ... up to the limit of connections, buffers,\n"
		"mappings and command buffers in flight; memory per object.\n"
		"  --quick        up to 1000 objects, fewer rounds (what scripts/test runs)\n"
		"  --daemon       measure through a magma-simd child instead of the embedded\n"
		"                 device\n"
		"  --simd PATH    the magma-simd to start (default: the one built with this)\n"
		"  --only CURVE   connections, buffers, mappings or inflight\n"
		"  --max N        stop every curve at N objects (or its limit, if lower)\n"
		"  --cpu N        pin every thread, the daemon's included, to CPU N (steadier\n"
		"                 figures on a small or shared machine)\n"
		"  --json FILE    also write the figures to FILE (docs/benchmarks.md)\n"
		"  --help         this text\n"
		"  --version      print \"bench-scale VERSION\"\n"
		"Exit: 0 measured, 1 a call failed, 2 usage.\n");
}

/* bench-scale entry point: see the file comment and usage(). */
int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct scale *s, struct scale_curve *curve);
		uint32_t (*flags)(const struct scale *s); /* of the embedded device; NULL: 0 */
	} curves[] = {
		{"connections", scale_curve_connections, NULL},
		{"buffers", scale_curve_buffers, scale_buffers_flags},
		{"mappings", scale_curve_mappings, NULL},
		{"inflight", scale_curve_inflight, NULL},
	};
	struct scale s = {
		.p = {.rounds = 7, .batch = 256, .max_n = 100000, .max_conns = 100000},
		.simd = BENCH_SCALE_SIMD_PATH,
		.dm = {.pid = -1},
	};
	struct scale_curve results[4];
	const char *json = NULL, *only = NULL;
	struct bench_report *report = NULL;
	char cpu[128];
	int status = 1, pin = -1;
	uint64_t max = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			s.p = (struct scale_params){
				.rounds = 5, .batch = 64, .max_n = 1000, .max_conns = 10};
		} else if (!strcmp(argv[i], "--daemon")) {
			s.daemon = true;
		} else if (!strcmp(argv[i], "--simd") && i + 1 < argc) {
			s.simd = argv[++i];
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			only = argv[++i];
		} else if (!strcmp(argv[i], "--cpu") && i + 1 < argc) {
			pin = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--max") && i + 1 < argc) {
			max = strtoull(argv[++i], NULL, 0);
			if (!max) {
				fprintf(stderr, "bench-scale: --max wants a number of objects, at "
						"least 1 (see bench-scale --help)\n");
				return 2;
			}
		} else {
			int exit_status = bench_arg_common(argc, argv, &i, "bench-scale",
							   MAGMA_SIM_VERSION, usage, &json);

			if (exit_status >= 0)
				return exit_status;
		}
	}
	if (only) {
		bool known = false;

		for (size_t c = 0; c < sizeof(curves) / sizeof(curves[0]); c++)
			known |= !strcmp(only, curves[c].name);
		if (!known) {
			fprintf(stderr,
				"bench-scale: --only '%s': want connections, buffers, "
				"mappings or inflight (see bench-scale --help)\n",
				only);
			return 2;
		}
	}
	if (max) {
		s.p.max_n = max;
		s.p.max_conns = max;
	}
	if (pin >= 0) {
		/* Before any thread exists: every thread and the daemon child inherit it. */
		cpu_set_t set;

		CPU_ZERO(&set);
		if (pin < CPU_SETSIZE)
			CPU_SET(pin, &set);
		if (pin >= CPU_SETSIZE || sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "bench-scale: cannot pin to CPU %d\n", pin);
			return 2;
		}
	}
	setenv("MAGMA_SYSTEM_QUIET", "1", 0);
	/* Room for the buffers curve's last point, if the hard limit can be raised. */
	s.fd_limit = bench_raise_fd_limit(SCALE_FD_RESERVE + 2 * (s.p.max_n + 3));
	report = bench_report_create("bench-scale", MAGMA_SIM_VERSION, argc, argv);
	bench_host_cpu(cpu, sizeof(cpu));
	printf("bench-scale: %s device, host %s, %ld cores; medians of %u rounds of %u calls, "
	       "host time by CLOCK_MONOTONIC",
	       s.daemon ? "magma-simd" : "embedded", cpu, bench_host_cores(), s.p.rounds,
	       s.p.batch);
	if (pin >= 0)
		printf("; every thread on CPU %d", pin);
	printf("; fd limit %" PRIu64 "\n", s.fd_limit);
	for (size_t c = 0; c < sizeof(curves) / sizeof(curves[0]); c++) {
		if (only && strcmp(only, curves[c].name))
			continue;
		/* A fresh device each: nothing one curve left behind weighs on the next. */
		if (scale_device_open(&s, curves[c].flags ? curves[c].flags(&s) : 0) ||
		    curves[c].run(&s, &results[c]))
			goto out;
		scale_device_close(&s);
		scale_print(&results[c]);
		fflush(stdout);
		scale_report(report, &results[c]);
	}
	status = bench_report_write(report, json) ? 1 : 0;
out:
	scale_device_close(&s);
	bench_report_destroy(report);
	return status;
}
