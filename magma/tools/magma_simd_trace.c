/* SPDX-License-Identifier: MIT */
/*
 * magma_simd_trace.c - magma-simd --trace: the daemon's recording of one device's side.
 *
 * What the embedded device's hook (traces/trace_device.c) writes into a client's trace, written
 * here into a trace of the daemon's own: the same "dev" events (trace_device_write), each also
 * stamped with host time ("ns", CLOCK_MONOTONIC, the clock libmagma stamps a client's calls
 * with), so that `magma-trace merge` can interleave the two files by time. Two things only the
 * daemon knows are added, as documented in docs/trace-format.md ("Daemon recording"):
 *
 * - which client connection a job belongs to: msd-sim's job-start hook says, before the doorbell,
 *   which connection's submission goes on which queue with which ring SEQNOs; the sim's
 *   JOB_START, CMD, JOB_END and FAULT events of those entries then carry "connection" (the
 *   service's number) and "submission" (the driver's sequence number on that connection, the
 *   n-th execute_command or execute_inline it accepted);
 * - who a connection is: "dev" events of the daemon's own kinds, CONNECTION_OPENED and
 *   CONNECTION_CLOSED, with the number, the client pid (SO_PEERCRED) and the connection's first
 *   object id (the id_base libmagma's trace records at create_connection). Readers skip dev
 *   kinds they do not know, so the daemon's trace reads like an embedded one to stats and the
 *   viewer.
 *
 * Not recorded: the clients' calls (each client records its own with MAGMA_TRACE), and anything
 * that happens before simd_trace_device_created. Threads: sim events arrive on the sim's threads
 * with its device lock held, the job-start hook on driver threads with the driver's lock held,
 * the service hooks on connection threads; @lock is a leaf that guards the tables below, and
 * the writer's lock is a leaf after it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "magma_simd_trace.h"
#include "magma_system/magma_system.h"
#include "msd_sim_hooks.h"
#include "sim/sim.h"
#include "sim/sim_regs.h"
#include "traces/trace.h"
#include "traces/trace_device.h"

/* Jobs remembered per queue between the driver writing them and the GPU finishing them. */
#define SIMD_TRACE_JOBS 64

/* One job of a connection on a queue: its ring entries' SEQNOs. */
struct simd_trace_job {
	uint64_t connection; /* the service's number */
	uint64_t submission; /* the driver's sequence number on that connection */
	uint64_t first_seqno, last_seqno;
};

/* A connection open now: the driver's object for it, and its number. */
struct simd_trace_conn {
	struct msd_connection_t *msd;
	uint64_t number;
	struct simd_trace_conn *next;
};

struct simd_trace {
	struct trace_writer *w;
	uint64_t instance;
	struct sim_device *sim;
	int sub; /* the sim event subscription, -1: none */
	/* What was installed before: every call is passed on. Fixed once attached. */
	struct magma_system_hooks prev;
	msd_sim_job_start_fn prev_job_start;
	void *prev_job_start_ctx;
	pthread_mutex_t lock;
	/* Fields below guarded by lock. */
	struct simd_trace_conn *conns;
	struct simd_trace_job pending[SIM_QUEUE_MAX][SIMD_TRACE_JOBS]; /* a ring per queue */
	uint32_t pending_head[SIM_QUEUE_MAX], pending_count[SIM_QUEUE_MAX];
	struct simd_trace_job running[SIM_QUEUE_MAX]; /* the job whose entry the queue runs */
	bool is_running[SIM_QUEUE_MAX];
	uint64_t last_cycle;
};

/* simd_trace_path - see magma_simd_trace.h. */
bool simd_trace_path(const char *path, unsigned int index, char *out, size_t size)
{
	int n = index ? snprintf(out, size, "%s.%u", path, index) : snprintf(out, size, "%s", path);

	return n > 0 && (size_t)n < size;
}

/* @s as the body of a JSON string into @out (quotes, backslashes and controls as \u00XX). */
static void json_escape(char *out, size_t size, const char *s)
{
	size_t len = 0;

	for (; *s && len + 7 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f)
			len += (size_t)snprintf(out + len, size - len, "\\u%04x", c);
		else
			out[len++] = (char)c;
	}
	out[len] = '\0';
}

/* simd_trace_open - see magma_simd_trace.h. */
struct simd_trace *simd_trace_open(const char *path, unsigned int index, unsigned int devices,
				   const char *socket)
{
	struct simd_trace *t = calloc(1, sizeof(*t));
	char sock[1024], header[1200];
	uint64_t instance = 0;
	int err;

	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	/* Random, as the service's own; without getrandom the time, pid and device mixed. */
	if (getrandom(&instance, sizeof(instance), GRND_NONBLOCK) != (ssize_t)sizeof(instance)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		instance = trace_digest(&ts, sizeof(ts)) ^ ((uint64_t)getpid() << 32) ^ index;
	}
	t->instance = instance ? instance : 1;
	t->sub = -1;
	json_escape(sock, sizeof(sock), socket);
	snprintf(
		header, sizeof(header),
		"\"daemon\":{\"device\":%u,\"devices\":%u,\"socket\":\"%s\",\"instance\":\"%016" PRIx64
		"\"}",
		index, devices, sock, t->instance);
	t->w = trace_writer_open_flags(path, "magma-simd",
				       TRACE_WRITER_HOST_TIME | TRACE_WRITER_HOST_TIME_DEV |
					       TRACE_WRITER_EXCLUSIVE,
				       header);
	if (!t->w) {
		err = errno;
		free(t);
		errno = err;
		return NULL;
	}
	trace_writer_flush(t->w);
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

/* simd_trace_instance - see magma_simd_trace.h. */
uint64_t simd_trace_instance(const struct simd_trace *t)
{
	return t->instance;
}

/*
 * The owner of @ev, a queue's JOB_START, CMD, JOB_END or FAULT, as JSON members into @extra
 * ("" when none is known). A JOB_START finds its job among those the driver wrote to the queue
 * (dropping older ones, which the GPU is past); JOB_END of the job's last entry ends it.
 */
static void owner_locked(struct simd_trace *t, const struct sim_event *ev, char *extra, size_t size)
{
	uint32_t q = ev->unit;

	if (q >= SIM_QUEUE_MAX)
		return;
	if (ev->type == SIM_EV_JOB_START) {
		t->is_running[q] = false;
		while (t->pending_count[q]) {
			struct simd_trace_job *j = &t->pending[q][t->pending_head[q]];

			if (ev->value2 <= j->last_seqno) {
				if (ev->value2 >= j->first_seqno) {
					t->running[q] = *j;
					t->is_running[q] = true;
				}
				break;
			}
			t->pending_head[q] = (t->pending_head[q] + 1) % SIMD_TRACE_JOBS;
			t->pending_count[q]--;
		}
	}
	if (!t->is_running[q])
		return;
	snprintf(extra, size, "\"connection\":%" PRIu64 ",\"submission\":%" PRIu64,
		 t->running[q].connection, t->running[q].submission);
	if (ev->type == SIM_EV_JOB_END && ev->value2 >= t->running[q].last_seqno)
		t->is_running[q] = false;
}

/*
 * A sim event (sim thread, the sim's device lock held). A reset begins: the driver writes its
 * rings again (ring SEQNOs may start over), so the jobs known so far are forgotten.
 */
static void on_sim_event(void *ctx, const struct sim_event *ev)
{
	struct simd_trace *t = ctx;
	char extra[96] = "";

	pthread_mutex_lock(&t->lock);
	if (ev->cycle > t->last_cycle)
		t->last_cycle = ev->cycle;
	if (ev->type == SIM_EV_RESET && ev->value == 0) {
		memset(t->pending_count, 0, sizeof(t->pending_count));
		memset(t->is_running, 0, sizeof(t->is_running));
	}
	if (ev->type == SIM_EV_JOB_START || ev->type == SIM_EV_JOB_END || ev->type == SIM_EV_CMD ||
	    ev->type == SIM_EV_FAULT)
		owner_locked(t, ev, extra, sizeof(extra));
	pthread_mutex_unlock(&t->lock);
	trace_device_write(t->w, ev, extra);
}

/* simd_trace_device_created - see magma_simd_trace.h. */
int simd_trace_device_created(struct simd_trace *t, struct sim_device *sim)
{
	t->sim = sim;
	trace_writer_event(t->w, "\"type\":\"device\",\"event\":\"created\",\"device\":0");
	t->sub = sim_events_subscribe(sim, trace_device_event_mask(), on_sim_event, t);
	return t->sub < 0 ? t->sub : 0;
}

/* The number of the connection whose driver object is @msd, or 0 (lock held). */
static uint64_t conn_number_locked(struct simd_trace *t, struct msd_connection_t *msd)
{
	for (struct simd_trace_conn *c = t->conns; c; c = c->next)
		if (c->msd == msd)
			return c->number;
	return 0;
}

/* msd-sim's job-start hook (a driver thread, the driver's lock held): remember the job. */
static void on_job_start(void *ctx, const struct msd_sim_job_start *job)
{
	struct simd_trace *t = ctx;
	uint32_t q = job->queue;

	pthread_mutex_lock(&t->lock);
	if (q < SIM_QUEUE_MAX) {
		uint32_t slot;

		if (t->pending_count[q] == SIMD_TRACE_JOBS) { /* the oldest is surely done */
			t->pending_head[q] = (t->pending_head[q] + 1) % SIMD_TRACE_JOBS;
			t->pending_count[q]--;
		}
		slot = (t->pending_head[q] + t->pending_count[q]) % SIMD_TRACE_JOBS;
		t->pending[q][slot] = (struct simd_trace_job){
			.connection = conn_number_locked(t, job->connection),
			.submission = job->sequence,
			.first_seqno = job->first_seqno,
			.last_seqno = job->last_seqno,
		};
		t->pending_count[q]++;
	}
	pthread_mutex_unlock(&t->lock);
	if (t->prev_job_start)
		t->prev_job_start(t->prev_job_start_ctx, job);
}

/* A connection record: a dev event of the daemon's own kind @ev (no sim event behind it). */
static void write_connection(struct simd_trace *t, const char *ev,
			     const struct magma_system_site *site)
{
	char comm[128];
	uint64_t cycle;

	json_escape(comm, sizeof(comm), site->comm ? site->comm : "");
	pthread_mutex_lock(&t->lock);
	cycle = t->last_cycle;
	pthread_mutex_unlock(&t->lock);
	trace_writer_dev_event(
		t->w,
		"\"type\":\"dev\",\"cycle\":%" PRIu64 ",\"ev\":\"%s\",\"unit\":-1,"
		"\"code\":0,\"value\":0,\"value2\":0,\"name\":\"%s\",\"connection\":%" PRIu64
		",\"pid\":%d,\"id_base\":%" PRIu64,
		cycle, ev, comm, site->connection, (int)site->pid, site->id_base);
}

static void on_connection_opened(void *ctx, const struct magma_system_site *site)
{
	struct simd_trace *t = ctx;
	struct simd_trace_conn *c = calloc(1, sizeof(*c));

	/* Before the connection's first message, so before any job of it. */
	if (c) {
		c->msd = site->msd;
		c->number = site->connection;
		pthread_mutex_lock(&t->lock);
		c->next = t->conns;
		t->conns = c;
		pthread_mutex_unlock(&t->lock);
	}
	write_connection(t, "CONNECTION_OPENED", site);
	if (t->prev.connection_opened)
		t->prev.connection_opened(t->prev.ctx, site);
}

/* After every object was released: a later connection may get the same driver object. */
static void on_connection_closed(void *ctx, const struct magma_system_site *site)
{
	struct simd_trace *t = ctx;
	struct simd_trace_conn *gone = NULL;

	pthread_mutex_lock(&t->lock);
	for (struct simd_trace_conn **p = &t->conns; *p; p = &(*p)->next) {
		if ((*p)->number == site->connection) {
			gone = *p;
			*p = gone->next;
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	free(gone);
	write_connection(t, "CONNECTION_CLOSED", site);
	/* A client that is done finds its device side on disk (up to here). */
	trace_writer_flush(t->w);
	if (t->prev.connection_closed)
		t->prev.connection_closed(t->prev.ctx, site);
}

/* ---- the hooks installed before, passed on unchanged ---- */

static void pass_connection_ended(void *ctx, const struct magma_system_site *site,
				  magma_status_t status)
{
	struct simd_trace *t = ctx;

	t->prev.connection_ended(t->prev.ctx, site, status);
}

static magma_status_t pass_call(void *ctx, const struct magma_system_site *site)
{
	struct simd_trace *t = ctx;

	return t->prev.call(t->prev.ctx, site);
}

static void pass_submission(void *ctx, const struct magma_system_site *site)
{
	struct simd_trace *t = ctx;

	t->prev.submission(t->prev.ctx, site);
}

static magma_status_t pass_alloc(void *ctx, const struct magma_system_site *site)
{
	struct simd_trace *t = ctx;

	return t->prev.alloc(t->prev.ctx, site);
}

static uint64_t pass_faults_fired(void *ctx)
{
	struct simd_trace *t = ctx;

	return t->prev.faults_fired(t->prev.ctx);
}

static void pass_notification(void *ctx, const struct magma_system_site *site, const void *data,
			      uint32_t size)
{
	struct simd_trace *t = ctx;

	t->prev.notification(t->prev.ctx, site, data, size);
}

/* simd_trace_attach - see magma_simd_trace.h. */
void simd_trace_attach(struct simd_trace *t, struct magma_system_device *dev)
{
	struct msd_device_t *msd = magma_system_device_msd_device(dev);
	struct magma_system_hooks hooks;

	magma_system_device_get_hooks(dev, &t->prev);
	hooks = (struct magma_system_hooks){
		.ctx = t,
		.connection_opened = on_connection_opened,
		.connection_closed = on_connection_closed,
		.connection_ended = t->prev.connection_ended ? pass_connection_ended : NULL,
		.call = t->prev.call ? pass_call : NULL,
		.submission = t->prev.submission ? pass_submission : NULL,
		.alloc = t->prev.alloc ? pass_alloc : NULL,
		.faults_fired = t->prev.faults_fired ? pass_faults_fired : NULL,
		.notification = t->prev.notification ? pass_notification : NULL,
	};
	magma_system_device_set_hooks(dev, &hooks);
	msd_sim_device_get_job_start_hook(msd, &t->prev_job_start, &t->prev_job_start_ctx);
	msd_sim_device_set_job_start_hook(msd, on_job_start, t);
}

/* simd_trace_forget - see magma_simd_trace.h. */
void simd_trace_forget(struct simd_trace *t)
{
	if (!t)
		return;
	trace_writer_forget(t->w);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* simd_trace_close - see magma_simd_trace.h. */
void simd_trace_close(struct simd_trace *t)
{
	if (!t)
		return;
	if (t->sub >= 0) {
		sim_events_unsubscribe(t->sim, t->sub);
		trace_writer_event(t->w,
				   "\"type\":\"device\",\"event\":\"destroyed\",\"device\":0,"
				   "\"cycles\":%" PRIu64,
				   t->last_cycle);
	}
	trace_writer_close(t->w);
	while (t->conns) {
		struct simd_trace_conn *c = t->conns;

		t->conns = c->next;
		free(c);
	}
	pthread_mutex_destroy(&t->lock);
	free(t);
}
