/* SPDX-License-Identifier: MIT */
/*
 * trace_timeline_build.c - the items of a timeline (trace_timeline_internal.h) from its records,
 * at write time, under the timeline's lock.
 *
 * Records are walked in order. Time is the record's GPU cycle plus the cycles before the last
 * hard reset (which restarts the sim's clock at 0), never going backwards.
 *
 * Jobs: a JOB_START opens a ring entry on its queue's track; the CMD events that follow on that
 * queue are its commands, each lasting until the next one starts, the last one until the entry
 * ends. The JOB_END closes it one cycle after its stamp: events are stamped when the unit that
 * makes them starts, and the unit that ends a job (its END, or the command that faulted) costs
 * at least one cycle (sim timing fields are >= 1), so the entry then ends after its last command
 * began. A reset, or the next JOB_START on the queue (the driver reset the queue), cuts an entry
 * without a JOB_END; so does the end of the records.
 *
 * Context tracks: each job (a JOB_START with a new AS slot and sequence number on its queue;
 * further entries of the same job share both) takes one pending submission, as magma-view does
 * (docs/viewer.md): the oldest whose first command buffer is at the job's command VA, preferring
 * the connection bound to the job's AS slot, then one bound to no other slot; without a VA match,
 * the oldest of the connection bound to the slot, else the oldest of all. Its connection is then
 * bound to that slot (an AS slot is one connection's address space while it is bound). This
 * assumes msd-sim's one job per submission; jobs without a pending submission (the
 * recording-side timeline notes none) have no context. A matched submission is drawn at its
 * job's start: when the client sent it, in GPU cycles, depends on host thread timing, and the
 * same trace must give the same timeline.
 *
 * Flows: the submission, each entry of its job and the job's completion (a 0-long "done" slice
 * where the last entry ends, on the context track, else on the queue track) are one chain of
 * flow steps with one id. A job's last entry is the one whose JOB_END is not followed on its
 * queue by another entry of the same job. An entry cut by a reset ends the chain unless the job
 * runs again (same slot and seqno): the chain then goes on through the rerun.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "trace_timeline_internal.h"

/* One queue while the records are walked: its open ring entry and the job it belongs to. */
struct timeline_queue {
	bool open;
	size_t job_item;   /* the entry's JOB item */
	size_t copy_item;  /* its JOB_COPY item, or TIMELINE_NONE */
	size_t cmd_item;   /* its last CMD item, or TIMELINE_NONE */
	uint64_t last_cmd; /* time the last command or fault of the entry began */
	bool has_child;
	uint32_t cmds;
	/* the job: entries sharing AS slot and sequence number */
	bool job_known;
	uint32_t slot;
	uint64_t seq;
	int ctx; /* -1: none */
	uint32_t entries;
	size_t chain_last; /* the last item of the job's flow chain, or TIMELINE_NONE */
	uint32_t flow;	   /* the chain's id, 0 until it has two items */
};

/* A submission not matched to a job yet. */
struct timeline_pending {
	size_t rec;
	int ctx; /* -1: the context table was full */
};

/* State of one build (see the file comment). */
struct timeline_walk {
	const struct timeline_rec *recs;
	size_t count;
	struct timeline_build *b;
	struct timeline_queue q[SIM_QUEUE_MAX];
	struct timeline_pending *pending; /* oldest first */
	size_t pending_count;
	uint64_t slot_conn[SIM_AS_MAX];
	bool slot_bound[SIM_AS_MAX];
	uint64_t now;  /* time of the current record */
	uint64_t base; /* added to record cycles (hard resets restart the clock) */
	size_t reset_item;
	size_t rec; /* index of the current record */
	bool out_of_memory;
};

/* A new item of @kind on @track at @ts placed by the current record; TIMELINE_NONE when OOM. */
static size_t timeline_item_new(struct timeline_walk *w, uint8_t kind, uint32_t track, uint64_t ts)
{
	struct timeline_build *b = w->b;
	struct timeline_item *it;

	if (b->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		struct timeline_item *items = realloc(b->items, cap * sizeof(*items));

		if (!items) {
			w->out_of_memory = true;
			return TIMELINE_NONE;
		}
		b->items = items;
		b->cap = cap;
	}
	it = &b->items[b->count];
	*it = (struct timeline_item){.ts = ts,
				     .end = ts,
				     .order = w->rec,
				     .made = b->count,
				     .kind = kind,
				     .track = track};
	b->track_used[track] = true;
	return b->count++;
}

/* Adds @item (TIMELINE_NONE: nothing) to the flow chain of queue @qs. */
static void timeline_chain(struct timeline_walk *w, struct timeline_queue *qs, size_t item)
{
	struct timeline_item *items = w->b->items;

	if (item == TIMELINE_NONE)
		return;
	if (qs->chain_last != TIMELINE_NONE) {
		if (!qs->flow)
			qs->flow = ++w->b->flows;
		items[qs->chain_last].flow = qs->flow;
		items[qs->chain_last].flow_out = true;
		items[item].flow = qs->flow;
		items[item].flow_in = true;
	}
	qs->chain_last = item;
}

/* The index of the context of submit record @rec, added when new; -1 when the table is full. */
static int timeline_ctx_index(struct timeline_build *b, const struct timeline_rec *rec)
{
	for (uint32_t i = 0; i < b->ctx_count; i++)
		if (b->ctxs[i].connection == rec->value && b->ctxs[i].context == rec->code)
			return (int)i;
	if (b->ctx_count == TIMELINE_MAX_CONTEXTS)
		return -1;
	b->ctxs[b->ctx_count].connection = rec->value;
	b->ctxs[b->ctx_count].context = rec->code;
	return (int)b->ctx_count++;
}

/* A counter sample of busy queues changing by @delta at @ts. */
static void timeline_busy(struct timeline_walk *w, uint64_t ts, int32_t delta)
{
	size_t i = timeline_item_new(w, TIMELINE_BUSY, TIMELINE_TRACK_DEVICE, ts);

	if (i != TIMELINE_NONE)
		w->b->items[i].delta = delta;
}

/* The AS slot connection @conn is bound to, or -1. */
static int timeline_slot_of(const struct timeline_walk *w, uint64_t conn)
{
	for (int s = 0; s < SIM_AS_MAX; s++)
		if (w->slot_bound[s] && w->slot_conn[s] == conn)
			return s;
	return -1;
}

/* The pending submission a new job on AS slot @slot at command VA @va takes, or TIMELINE_NONE. */
static size_t timeline_pick(const struct timeline_walk *w, uint32_t slot, uint64_t va)
{
	bool bound = slot < SIM_AS_MAX && w->slot_bound[slot];
	size_t free_conn = TIMELINE_NONE, any_va = TIMELINE_NONE, own = TIMELINE_NONE;

	for (size_t i = 0; i < w->pending_count; i++) {
		const struct timeline_rec *sub = &w->recs[w->pending[i].rec];
		bool mine = bound && sub->value == w->slot_conn[slot];
		int elsewhere = timeline_slot_of(w, sub->value);

		if (sub->value2 && sub->value2 == va) {
			if (mine)
				return i;
			if (free_conn == TIMELINE_NONE &&
			    (elsewhere < 0 || (uint32_t)elsewhere == slot))
				free_conn = i;
			if (any_va == TIMELINE_NONE)
				any_va = i;
		}
		if (own == TIMELINE_NONE && mine)
			own = i;
	}
	if (free_conn != TIMELINE_NONE)
		return free_conn;
	if (any_va != TIMELINE_NONE)
		return any_va;
	if (own != TIMELINE_NONE)
		return own;
	return w->pending_count ? 0 : TIMELINE_NONE;
}

/* Gives the new job on @qs (JOB_START @r) its submission, see the file head; binds the slot. */
static void timeline_match(struct timeline_walk *w, struct timeline_queue *qs,
			   const struct timeline_rec *r)
{
	size_t pick = timeline_pick(w, r->code, r->value), item;
	const struct timeline_rec *sub;

	if (pick == TIMELINE_NONE)
		return;
	sub = &w->recs[w->pending[pick].rec];
	if (r->code < SIM_AS_MAX) {
		for (int s = 0; s < SIM_AS_MAX; s++)
			if (w->slot_conn[s] == sub->value)
				w->slot_bound[s] = false;
		w->slot_conn[r->code] = sub->value;
		w->slot_bound[r->code] = true;
	}
	qs->ctx = w->pending[pick].ctx;
	memmove(&w->pending[pick], &w->pending[pick + 1],
		(w->pending_count - pick - 1) * sizeof(*w->pending));
	w->pending_count--;
	if (qs->ctx < 0)
		return;
	item = timeline_item_new(w, TIMELINE_SUBMIT, TIMELINE_TRACK_CONTEXT(qs->ctx), w->now);
	if (item == TIMELINE_NONE)
		return;
	w->b->items[item].value = sub->value;
	w->b->items[item].value2 = sub->value2;
	w->b->items[item].code = sub->code;
	qs->chain_last = item;
}

/* True when no further entry of @q's job follows the JOB_END at the current record. */
static bool timeline_is_last_entry(const struct timeline_walk *w, uint32_t q)
{
	for (size_t i = w->rec + 1; i < w->count; i++) {
		const struct timeline_rec *r = &w->recs[i];

		if (r->type == SIM_EV_JOB_START && r->unit == q)
			return r->code != w->q[q].slot || r->value2 != w->q[q].seq;
	}
	return true;
}

/* Closes queue @q's open entry at @cut (extended past its last command), as @how. */
static void timeline_close(struct timeline_walk *w, uint32_t q, uint8_t how, uint64_t cut,
			   uint32_t code)
{
	struct timeline_queue *qs = &w->q[q];
	struct timeline_item *items = w->b->items;
	uint64_t end = cut;
	size_t done;

	if (!qs->open)
		return;
	qs->open = false;
	if (qs->has_child && qs->last_cmd + 1 > end)
		end = qs->last_cmd + 1;
	if (end < items[qs->job_item].ts)
		end = items[qs->job_item].ts;
	items[qs->job_item].end = end;
	items[qs->job_item].end_kind = how;
	items[qs->job_item].code = code;
	if (qs->copy_item != TIMELINE_NONE) {
		items[qs->copy_item].end = end;
		items[qs->copy_item].end_kind = how;
		items[qs->copy_item].code = code;
	}
	if (qs->cmd_item != TIMELINE_NONE)
		items[qs->cmd_item].end = end;
	timeline_busy(w, end, -1);
	if (how != TIMELINE_END_DONE || !timeline_is_last_entry(w, q))
		return;
	done = timeline_item_new(
		w, TIMELINE_DONE,
		qs->ctx >= 0 ? TIMELINE_TRACK_CONTEXT(qs->ctx) : TIMELINE_TRACK_QUEUE(q), end);
	if (done == TIMELINE_NONE)
		return;
	w->b->items[done].value2 = qs->seq;
	w->b->items[done].code = code;
	w->b->items[done].queue = q;
	timeline_chain(w, qs, done);
	qs->chain_last = TIMELINE_NONE; /* the job is complete: its chain ends here */
}

/* The fields of a JOB or JOB_COPY item for entry @entry of its job, started by JOB_START @r. */
static void timeline_entry_fields(struct timeline_item *it, uint32_t q,
				  const struct timeline_rec *r, uint32_t entry)
{
	it->value = r->value;
	it->value2 = r->value2;
	it->slot = r->code;
	it->queue = q;
	it->aux = entry;
}

/* JOB_START @r on queue @q: a new entry, of a new job unless its slot and seqno are the same. */
static void timeline_job_start(struct timeline_walk *w, uint32_t q, const struct timeline_rec *r)
{
	struct timeline_queue *qs = &w->q[q];
	size_t job, copy = TIMELINE_NONE;

	timeline_close(w, q, TIMELINE_END_ABANDONED, w->now, 0);
	if (!qs->job_known || qs->slot != r->code || qs->seq != r->value2) {
		qs->job_known = true;
		qs->slot = r->code;
		qs->seq = r->value2;
		qs->ctx = -1;
		qs->entries = 0;
		qs->chain_last = TIMELINE_NONE;
		qs->flow = 0;
		timeline_match(w, qs, r);
	}
	job = timeline_item_new(w, TIMELINE_JOB, TIMELINE_TRACK_QUEUE(q), w->now);
	if (qs->ctx >= 0 && job != TIMELINE_NONE)
		copy = timeline_item_new(w, TIMELINE_JOB_COPY, TIMELINE_TRACK_CONTEXT(qs->ctx),
					 w->now);
	if (job == TIMELINE_NONE)
		return;
	timeline_entry_fields(&w->b->items[job], q, r, qs->entries);
	if (copy != TIMELINE_NONE)
		timeline_entry_fields(&w->b->items[copy], q, r, qs->entries);
	qs->entries++;
	timeline_chain(w, qs, job);
	timeline_busy(w, w->now, +1);
	qs->open = true;
	qs->job_item = job;
	qs->copy_item = copy;
	qs->cmd_item = TIMELINE_NONE;
	qs->has_child = false;
	qs->cmds = 0;
}

/* CMD @r on queue @q: the previous command of the entry ends where this one begins. */
static void timeline_cmd(struct timeline_walk *w, uint32_t q, const struct timeline_rec *r)
{
	struct timeline_queue *qs = &w->q[q];
	size_t cmd;

	if (!qs->open)
		return; /* a command outside a job cannot be placed (the sim emits none) */
	if (qs->cmd_item != TIMELINE_NONE)
		w->b->items[qs->cmd_item].end = w->now;
	qs->last_cmd = w->now;
	qs->has_child = true;
	cmd = timeline_item_new(w, TIMELINE_CMD, TIMELINE_TRACK_QUEUE(q), w->now);
	qs->cmd_item = cmd;
	if (cmd == TIMELINE_NONE)
		return;
	w->b->items[cmd].code = r->code;
	w->b->items[cmd].value = r->value;
	w->b->items[cmd].value2 = qs->seq;
	w->b->items[cmd].queue = q;
	w->b->items[cmd].aux = qs->cmds++;
}

/* RESET @r: a begin cuts every open entry; a hard reset restarts the clock. */
static void timeline_reset(struct timeline_walk *w, const struct timeline_rec *r)
{
	size_t i;

	if (r->value) { /* done */
		if (w->reset_item != TIMELINE_NONE)
			w->b->items[w->reset_item].end = w->now;
		w->reset_item = TIMELINE_NONE;
		return;
	}
	for (uint32_t q = 0; q < SIM_QUEUE_MAX; q++)
		timeline_close(w, q, TIMELINE_END_RESET, w->now, 0);
	if (w->reset_item != TIMELINE_NONE)
		w->b->items[w->reset_item].end = w->now;
	w->reset_item = timeline_item_new(w, TIMELINE_RESET, TIMELINE_TRACK_DEVICE, w->now);
	if (w->reset_item != TIMELINE_NONE)
		w->b->items[w->reset_item].code = r->code;
	i = timeline_item_new(w, TIMELINE_RESET_MARK, TIMELINE_TRACK_DEVICE, w->now);
	if (i != TIMELINE_NONE)
		w->b->items[i].code = r->code;
	if (r->code == SIM_GPU_COMMAND_HARD_RESET)
		w->base = w->now; /* the sim's clock restarts at 0 right after this event */
}

/* One device record @r (current time already set). */
static void timeline_device(struct timeline_walk *w, const struct timeline_rec *r)
{
	uint32_t q = r->unit;
	bool has_queue = q < SIM_QUEUE_MAX;
	size_t i;

	switch (r->type) {
	case SIM_EV_JOB_START:
		if (has_queue)
			timeline_job_start(w, q, r);
		break;
	case SIM_EV_CMD:
		if (has_queue)
			timeline_cmd(w, q, r);
		break;
	case SIM_EV_JOB_END:
		if (has_queue)
			timeline_close(w, q, TIMELINE_END_DONE, w->now + 1, r->code);
		break;
	case SIM_EV_FAULT:
		i = timeline_item_new(w, TIMELINE_FAULT,
				      has_queue ? TIMELINE_TRACK_QUEUE(q) : TIMELINE_TRACK_DEVICE,
				      w->now);
		if (i != TIMELINE_NONE) {
			w->b->items[i].code = r->code;
			w->b->items[i].value = r->value;
			w->b->items[i].value2 = r->value2;
			w->b->items[i].queue = q;
		}
		if (has_queue && w->q[q].open) {
			w->q[q].last_cmd = w->now;
			w->q[q].has_child = true;
		}
		break;
	case SIM_EV_IRQ_RAISE:
		i = timeline_item_new(w, TIMELINE_IRQ, TIMELINE_TRACK_DEVICE, w->now);
		if (i != TIMELINE_NONE)
			w->b->items[i].code = r->code;
		break;
	case SIM_EV_POWER:
		i = timeline_item_new(w, TIMELINE_POWER, TIMELINE_TRACK_DEVICE, w->now);
		if (i != TIMELINE_NONE) {
			w->b->items[i].code = (uint32_t)__builtin_popcount(r->code);
			w->b->items[i].value = r->value;
		}
		break;
	case SIM_EV_RESET:
		timeline_reset(w, r);
		break;
	}
}

/* timeline_build - see trace_timeline_internal.h. */
int timeline_build(const struct timeline_rec *recs, size_t count, struct timeline_build *b)
{
	struct timeline_walk *w = calloc(1, sizeof(*w));
	bool started = false;
	int ret = 0;

	if (!w)
		return -ENOMEM;
	w->recs = recs;
	w->count = count;
	w->b = b;
	w->reset_item = TIMELINE_NONE;
	w->pending = malloc(sizeof(*w->pending) * (count ? count : 1));
	if (!w->pending) {
		free(w);
		return -ENOMEM;
	}
	for (w->rec = 0; w->rec < count; w->rec++) {
		const struct timeline_rec *r = &recs[w->rec];

		if (r->type == TIMELINE_REC_SUBMIT) {
			w->pending[w->pending_count].rec = w->rec;
			w->pending[w->pending_count++].ctx = timeline_ctx_index(b, r);
			continue;
		}
		if (r->type == TIMELINE_REC_CANCELLED)
			continue;
		if (w->base + r->cycle > w->now)
			w->now = w->base + r->cycle;
		if (!started)
			timeline_busy(w, w->now, 0); /* the counter starts at 0 */
		started = true;
		timeline_device(w, r);
	}
	for (uint32_t q = 0; q < SIM_QUEUE_MAX; q++)
		timeline_close(w, q, TIMELINE_END_UNFINISHED, w->now, 0);
	if (w->reset_item != TIMELINE_NONE)
		b->items[w->reset_item].end = w->now;
	for (size_t i = 0; i < w->pending_count; i++) {
		const struct timeline_rec *sub = &recs[w->pending[i].rec];
		size_t item;

		if (w->pending[i].ctx < 0)
			continue;
		item = timeline_item_new(w, TIMELINE_SUBMIT,
					 TIMELINE_TRACK_CONTEXT(w->pending[i].ctx), w->now);
		if (item == TIMELINE_NONE)
			break;
		b->items[item].value = sub->value;
		b->items[item].value2 = sub->value2;
		b->items[item].code = sub->code;
		b->items[item].aux = 1; /* no job */
	}
	if (w->out_of_memory)
		ret = -ENOMEM;
	free(w->pending);
	free(w);
	return ret;
}
