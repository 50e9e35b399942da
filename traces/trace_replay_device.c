/* SPDX-License-Identifier: MIT */
/*
 * trace_replay_device.c - what the replay learns from its own device's event stream: faults as
 * they happen, and a digest of the job events that says whether two replays did the same.
 *
 * The replay device is an embedded one, so its sim's event stream (sim.h) is at hand: the
 * observer (trace_device_set_observer) hears about the sim being created and subscribes to job
 * starts and ends, commands, faults, resets and power changes.
 *
 * A FAULT makes the fault eventfd readable. Every wait of the replay for something the
 * recording saw happen polls that fd too (trace_replay_wait), and the event loop looks at the
 * fault count between events, so a job that faults in the replay is reported at once, with its
 * code, address, command and submission, instead of after a 10 s timeout -- unless the recording
 * faulted as often, in which case the replay goes on (a recorded fault replays as a fault).
 *
 * The job-event digest is a 64-bit hash over those events in order, cycle stamps included: the
 * same for two replays exactly when their devices ran the same jobs on the same queues and AS
 * slots at the same cycles (trace_replay_result.device_digest).
 *
 * Threads: watch_event runs on the device's threads with the sim's device lock held, so events
 * come one at a time; it takes watch->lock (a leaf) only for a fault's record, which the replay's
 * thread reads; the digest and the fault count are atomics. Everything else runs on the replay's
 * thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "sim/sim.h"
#include "sim/sim_cmd.h"
#include "sim/sim_regs.h"
#include "trace_replay_internal.h"
#include "traces/trace.h"
#include "traces/trace_device.h"
#include "traces/trace_timeline.h"

/* The events the watch digests; FAULT also wakes the replay. */
#define WATCH_EVENTS                                                                               \
	(SIM_EV_MASK(SIM_EV_JOB_START) | SIM_EV_MASK(SIM_EV_JOB_END) | SIM_EV_MASK(SIM_EV_CMD) |   \
	 SIM_EV_MASK(SIM_EV_FAULT) | SIM_EV_MASK(SIM_EV_RESET) | SIM_EV_MASK(SIM_EV_POWER))

/* Timeline events, on the device's threads. */
static void timeline_event(void *ctx, const struct sim_event *ev)
{
	struct replay *r = ctx;

	trace_timeline_add(r->tl, ev);
}

/* Job events, on the device's threads with the sim's lock held. */
static void watch_event(void *ctx, const struct sim_event *ev)
{
	struct replay_watch *w = ctx;
	struct replay_watch_queue *q = ev->unit < SIM_QUEUE_MAX ? &w->q[ev->unit] : NULL;
	uint64_t one = 1, rec[6] = {ev->type, ev->cycle, ev->unit, ev->code, ev->value, ev->value2};
	uint64_t h = atomic_load_explicit(&w->digest, memory_order_relaxed);
	struct replay_fault *f;
	ssize_t n;

	/* Events come one at a time (the sim's lock): only a fault needs the watch's lock. */
	for (int i = 0; i < 6; i++) {
		h = (h ^ rec[i]) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	atomic_store_explicit(&w->digest, h, memory_order_relaxed);
	switch (ev->type) {
	case SIM_EV_JOB_START:
		if (q) {
			q->slot = ev->code;
			q->job_va = ev->value;
			q->has_cmd = false;
		}
		break;
	case SIM_EV_CMD:
		if (q) {
			q->cmd_opcode = ev->code;
			q->cmd_va = ev->value;
			q->has_cmd = true;
			if (ev->code == SIM_CMD_TIMESTAMP) {
				pthread_mutex_lock(&w->lock);
				trace_replay_timing_note(w, q->job_va, ev->value2);
				pthread_mutex_unlock(&w->lock);
			}
		}
		break;
	case SIM_EV_FAULT:
		pthread_mutex_lock(&w->lock);
		f = &w->faults[atomic_load_explicit(&w->fault_count, memory_order_relaxed) %
			       REPLAY_FAULTS_KEPT];
		*f = (struct replay_fault){.code = ev->code,
					   .va = ev->value,
					   .slot = (uint32_t)ev->value2,
					   .queue = ev->unit,
					   .cycle = ev->cycle};
		if (q) {
			f->job_va = q->job_va;
			f->has_job = true;
			f->has_cmd = q->has_cmd;
			f->cmd_opcode = q->cmd_opcode;
			f->cmd_va = q->cmd_va;
		}
		/* The record is complete before the count says so (read without the lock). */
		atomic_fetch_add_explicit(&w->fault_count, 1, memory_order_release);
		pthread_mutex_unlock(&w->lock);
		n = write(w->fault_fd, &one, sizeof(one)); /* EAGAIN: readable anyway */
		(void)n;
		break;
	default:
		break;
	}
}

/* The embedded device's sim appears or goes (trace_device.h), on the replay's thread. */
static void observer(void *ctx, struct sim_device *sim, bool created)
{
	struct replay *r = ctx;

	if (created && !r->sim) {
		r->sim = sim;
		if (r->tl)
			r->sim_sub = sim_events_subscribe(sim, trace_device_event_mask(),
							  timeline_event, r);
		r->watch.sub = sim_events_subscribe(sim, WATCH_EVENTS, watch_event, &r->watch);
	} else if (!created && sim == r->sim) {
		if (r->sim_sub >= 0)
			sim_events_unsubscribe(sim, r->sim_sub);
		if (r->watch.sub >= 0)
			sim_events_unsubscribe(sim, r->watch.sub);
		r->sim_sub = -1;
		r->watch.sub = -1;
		r->sim = NULL;
	}
}

/* trace_replay_device_watch - see trace_replay_internal.h. */
int trace_replay_device_watch(struct replay *r)
{
	struct replay_watch *w = &r->watch;

	pthread_mutex_init(&w->lock, NULL);
	atomic_init(&w->digest, TRACE_DIGEST_INIT);
	w->sub = -1;
	w->fault_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->stamps = calloc(REPLAY_STAMPS_KEPT, sizeof(*w->stamps));
	w->ready = true;
	if (!w->stamps)
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	if (w->fault_fd < 0)
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "cannot create an eventfd: %s",
					 strerror(errno));
	trace_device_set_observer(observer, r);
	return 0;
}

/* trace_replay_device_unwatch - see trace_replay_internal.h. */
void trace_replay_device_unwatch(struct replay *r)
{
	struct replay_watch *w = &r->watch;

	if (!w->ready)
		return;
	trace_device_set_observer(NULL, NULL);
	if (w->fault_fd >= 0)
		close(w->fault_fd);
	free(w->stamps);
	w->stamps = NULL;
	pthread_mutex_destroy(&w->lock);
	w->ready = false;
}

/* trace_replay_device_digest - see trace_replay_internal.h. */
uint64_t trace_replay_device_digest(struct replay *r)
{
	return r->watch.ready ? atomic_load_explicit(&r->watch.digest, memory_order_relaxed)
			      : TRACE_DIGEST_INIT;
}

/*
 * Whether the replay's @n-th fault (from 1) is one the recording had too: as many FAULT device
 * events, or, for a trace without device events (a daemon's device), any call that returned
 * CONTEXT_KILLED.
 */
static bool fault_expected(const struct replay *r, uint64_t n)
{
	if (!r->recorded_device)
		return r->recorded_kills > 0;
	return n <= r->recorded_faults;
}

/* The latest submission whose command buffer starts at @va, or NULL. */
static const struct replay_cmdbuf *submission_at(const struct replay *r, uint64_t va)
{
	uint64_t n = r->cmdbuf_count < REPLAY_CMDBUFS_KEPT ? r->cmdbuf_count : REPLAY_CMDBUFS_KEPT;

	for (uint64_t i = 1; i <= n; i++) {
		const struct replay_cmdbuf *c =
			&r->cmdbufs[(r->cmdbuf_count - i) % REPLAY_CMDBUFS_KEPT];

		if (c->va == va)
			return c;
	}
	return NULL;
}

/* trace_replay_mapping_at - see trace_replay_internal.h. */
const struct replay_mapping *trace_replay_mapping_at(const struct replay *r, uint64_t conn,
						     uint64_t va, bool any_connection)
{
	for (uint64_t i = r->mappings.count; i-- > 0;) {
		const struct replay_mapping *m = trace_replay_vec_at(&r->mappings, i);

		if ((any_connection || m->conn == conn) && va >= m->va && va - m->va < m->length)
			return m;
	}
	return NULL;
}

/* Reports fault @f as a divergence (see the file head for what it says). */
static int report_fault(struct replay *r, const struct replay_fault *f)
{
	const struct replay_cmdbuf *sub = f->has_job ? submission_at(r, f->job_va) : NULL;
	const struct replay_mapping *m =
		sub ? trace_replay_mapping_at(r, sub->conn, f->va, false) : NULL;
	char cmd[96] = "", where[160] = "", hint[320];

	if (!m)
		m = trace_replay_mapping_at(r, 0, f->va, true);
	if (f->has_cmd)
		snprintf(cmd, sizeof(cmd), ", in its %s command at VA %#" PRIx64,
			 sim_cmd_name(f->cmd_opcode) ? sim_cmd_name(f->cmd_opcode) : "unknown",
			 f->cmd_va);
	else if (f->has_job)
		snprintf(cmd, sizeof(cmd), ", decoding its first command");
	if (sub)
		snprintf(where, sizeof(where),
			 "; the job is the command buffer at VA %#" PRIx64
			 " that execute_command at event %" PRIu64 " (line %" PRIu64 ") submitted",
			 f->job_va, sub->event, sub->line);
	else if (f->has_job)
		snprintf(where, sizeof(where),
			 "; the job's command buffer at VA %#" PRIx64
			 " is not one a recent execute_command mapped",
			 f->job_va);
	if (!m)
		snprintf(hint, sizeof(hint),
			 "; hint: VA %#" PRIx64 " is in no range the trace mapped (map_buffer)",
			 f->va);
	else if (!trace_replay_map_find(&r->listed, m->conn, m->buffer_id))
		snprintf(hint, sizeof(hint),
			 "; hint: VA %#" PRIx64 " is at offset %#" PRIx64 " of buffer id %" PRIu64
			 " (mapped at VA %#" PRIx64 " by event %" PRIu64
			 "), which no submission listed as a resource: the recording has none of "
			 "its contents, so the replay's copy differs",
			 f->va, f->va - m->va + m->offset, m->buffer_id, m->va, m->event);
	else
		snprintf(hint, sizeof(hint),
			 "; VA %#" PRIx64 " is at offset %#" PRIx64 " of buffer id %" PRIu64
			 " (mapped at VA %#" PRIx64 " by event %" PRIu64 ")",
			 f->va, f->va - m->va + m->offset, m->buffer_id, m->va, m->event);
	return trace_replay_fail(
		r, TRACE_REPLAY_DIVERGED,
		"a replayed job faulted where the recording did not: %s (%#x) at VA "
		"%#" PRIx64 " on queue %u (AS slot %u), GPU cycle %" PRIu64 "%s%s%s",
		sim_fault_name(f->code), f->code, f->va, f->queue, f->slot, f->cycle, cmd, where,
		hint);
}

/*
 * Looks at the faults counted since the last look (see trace_replay_check_faults). With @woken
 * the fault eventfd was readable: it is emptied even when the count says nothing is new (a fault
 * counted and looked at between an earlier emptying and its own write).
 */
static int take_faults(struct replay *r, bool woken)
{
	struct replay_watch *w = &r->watch;
	struct replay_fault f;
	uint64_t count, drain;
	ssize_t n;

	if (!w->ready)
		return 0;
	if (!woken && atomic_load_explicit(&w->fault_count, memory_order_acquire) == r->faults_seen)
		return 0; /* the common case, once per event: no lock, no system call */
	/* Emptied before counting: a fault counted after this makes the fd readable again. */
	n = read(w->fault_fd, &drain, sizeof(drain));
	(void)n;
	count = atomic_load_explicit(&w->fault_count, memory_order_acquire);
	for (; r->faults_seen < count; r->faults_seen++) {
		uint64_t i = r->faults_seen;

		if (!r->checking || fault_expected(r, i + 1))
			continue;
		if (count - i > REPLAY_FAULTS_KEPT)
			i = count -
			    REPLAY_FAULTS_KEPT; /* its record was overwritten: the oldest kept */
		pthread_mutex_lock(&w->lock);
		f = w->faults[i % REPLAY_FAULTS_KEPT];
		pthread_mutex_unlock(&w->lock);
		r->faults_seen = count;
		return report_fault(r, &f);
	}
	return 0;
}

/* trace_replay_check_faults - see trace_replay_internal.h. */
int trace_replay_check_faults(struct replay *r)
{
	int ret = take_faults(r, false);

	return ret ? ret : trace_replay_timing_take(r);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* trace_replay_wait - see trace_replay_internal.h. */
magma_status_t trace_replay_wait(struct replay *r, magma_poll_item_t *items, uint32_t count,
				 uint64_t timeout_ns, int *fail_out)
{
	uint64_t start = mono_ns(), waited = 0;
	magma_status_t st;

	*fail_out = 0;
	if (!r->watch.ready || r->watch.fault_fd < 0)
		return magma_poll(items, count, timeout_ns);
	for (;;) {
		items[count] = (magma_poll_item_t){.type = MAGMA_POLL_TYPE_HANDLE,
						   .condition = MAGMA_POLL_CONDITION_READABLE,
						   .handle = (magma_handle_t)r->watch.fault_fd};
		st = magma_poll(items, count + 1, timeout_ns - waited);
		if (st || !items[count].result)
			return st;
		/* A fault: reported now unless the recording had it too; then wait on. */
		*fail_out = take_faults(r, true);
		if (*fail_out)
			return st;
		for (uint32_t i = 0; i < count; i++)
			if (items[i].result)
				return st;
		waited = mono_ns() - start;
		if (waited >= timeout_ns)
			return MAGMA_STATUS_TIMED_OUT;
	}
}
