/* SPDX-License-Identifier: MIT */
/*
 * viewer_query.c - mapping look-ups and the cause -> effect chain of a fault (viewer_query.h).
 *
 * The chain follows one fault through what the trace recorded, in the order a person debugging
 * it would ask: which submission carried the job, where the job ran, what faulted and where,
 * what the client's address space held at that address (a mapping lacking a permission, one
 * unmapped earlier, or nothing near), which call first reported the context killed, which
 * notification the client read, whether the GPU was reset, and what happened to everyone else's
 * work. Each link names the event it comes from so the timeline can jump there; a link whose
 * event is not in the trace says so rather than disappearing. Pure; any thread.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "magma_sim_defs.h"
#include "sim/sim_regs.h"
#include "viewer_query.h"
#include <lib/magma/magma_common_defs.h>

/* viewer_query_mappings - see viewer_query.h. Insertion sort: a connection has few mappings. */
size_t viewer_query_mappings(const struct viewer_model *m, int conn, uint64_t seq, int *out,
			     size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < m->mapping_count; i++) {
		const struct viewer_mapping *mp = &m->mappings[i];
		size_t k;

		if (mp->connection != conn || !viewer_model_mapping_is_live(mp, seq))
			continue;
		if (n < max) {
			k = n;
			while (k > 0 && m->mappings[out[k - 1]].va > mp->va) {
				out[k] = out[k - 1];
				k--;
			}
			out[k] = (int)i;
		}
		n++;
	}
	return n;
}

static int covers(const struct viewer_mapping *mp, uint64_t va)
{
	return va >= mp->va && va - mp->va < mp->length;
}

/* viewer_query_mapping_at - see viewer_query.h. */
int viewer_query_mapping_at(const struct viewer_model *m, int conn, uint64_t va, uint64_t seq)
{
	for (size_t i = m->mapping_count; i-- > 0;) {
		const struct viewer_mapping *mp = &m->mappings[i];

		if (mp->connection == conn && covers(mp, va) &&
		    viewer_model_mapping_is_live(mp, seq))
			return (int)i;
	}
	return -1;
}

/* viewer_query_unmapped_at - see viewer_query.h. */
int viewer_query_unmapped_at(const struct viewer_model *m, int conn, uint64_t va, uint64_t seq)
{
	for (size_t i = m->mapping_count; i-- > 0;) {
		const struct viewer_mapping *mp = &m->mappings[i];

		if (mp->connection == conn && covers(mp, va) && mp->unmap_seq != VIEWER_NONE &&
		    mp->unmap_seq <= seq)
			return (int)i;
	}
	return -1;
}

/* viewer_flags_text - see viewer_query.h. */
void viewer_flags_text(uint64_t flags, char out[8])
{
	snprintf(out, 8, "%c%c%c", flags & MAGMA_MAP_FLAG_READ ? 'R' : '-',
		 flags & MAGMA_MAP_FLAG_WRITE ? 'W' : '-',
		 flags & MAGMA_MAP_FLAG_EXECUTE ? 'X' : '-');
}

/* viewer_buffer_label - see viewer_query.h. */
void viewer_buffer_label(const struct viewer_model *m, int buffer, char *out, size_t size)
{
	const struct viewer_buffer *b;

	if (buffer < 0 || (size_t)buffer >= m->buffer_count) {
		snprintf(out, size, "unknown buffer");
		return;
	}
	b = &m->buffers[buffer];
	if (b->name[0])
		snprintf(out, size, "'%s' (id %" PRIu64 ")", b->name, b->id);
	else
		snprintf(out, size, "buffer id %" PRIu64, b->id);
}

static uint32_t conn_number(const struct viewer_model *m, int conn)
{
	return conn >= 0 && (size_t)conn < m->connection_count ? m->connections[conn].number : 0;
}

static struct viewer_link *link_add(struct viewer_link *links, size_t *n,
				    enum viewer_link_kind kind, const char *title, uint64_t seq)
{
	struct viewer_link *l;

	if (*n >= VIEWER_CHAIN_MAX)
		return NULL;
	l = &links[(*n)++];
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	l->seq = seq;
	snprintf(l->title, sizeof(l->title), "%s", title);
	return l;
}

static void link_submit(const struct viewer_model *m, const struct viewer_fault *f,
			struct viewer_link *links, size_t *n)
{
	int job = f->job, sub = job >= 0 ? m->jobs[job].submission : -1;
	const struct viewer_submission *s = sub >= 0 ? &m->submissions[sub] : NULL;
	struct viewer_link *l =
		link_add(links, n, VIEWER_LINK_SUBMIT, "submitted", s ? s->seq : VIEWER_NONE);

	if (!l)
		return;
	if (!s) {
		snprintf(l->text, sizeof(l->text),
			 "no recorded submission matches this job (made by another process, or "
			 "the trace starts later)");
		return;
	}
	if (s->is_inline)
		snprintf(l->text, sizeof(l->text),
			 "execute_inline on connection #%" PRIu32 ", context %" PRIu32,
			 conn_number(m, s->connection), s->context);
	else
		snprintf(l->text, sizeof(l->text),
			 "execute_command on connection #%" PRIu32 ", context %" PRIu32
			 ": command buffer id %" PRIu64 " + %" PRIu64 " at VA %#" PRIx64,
			 conn_number(m, s->connection), s->context, s->cmd_buffer_id,
			 s->start_offset, s->cmd_va);
}

static void link_job(const struct viewer_model *m, const struct viewer_fault *f,
		     struct viewer_link *links, size_t *n)
{
	const struct viewer_job *j = f->job >= 0 ? &m->jobs[f->job] : NULL;
	struct viewer_link *l = link_add(links, n, VIEWER_LINK_JOB, "ran on the GPU",
					 j ? j->start_seq : VIEWER_NONE);

	if (!l)
		return;
	if (!j) {
		snprintf(l->text, sizeof(l->text), "no job was running on queue %" PRIu32,
			 f->queue);
		return;
	}
	snprintf(l->text, sizeof(l->text),
		 "job %" PRIu64 " on queue %" PRIu32 ", AS slot %" PRIu32
		 ", commands at VA %#" PRIx64 ", cycles %" PRIu64 "-%" PRIu64,
		 j->seqno, j->queue, j->slot, j->cmd_va, j->start_cycle, j->end_cycle);
}

static void link_fault(const struct viewer_fault *f, struct viewer_link *links, size_t *n)
{
	struct viewer_link *l =
		link_add(links, n, VIEWER_LINK_FAULT, f->hang ? "hung" : "faulted", f->seq);

	if (!l)
		return;
	if (f->hang)
		snprintf(l->text, sizeof(l->text),
			 "no progress: the job was still running when the watchdog's soft reset "
			 "began at cycle %" PRIu64,
			 f->cycle);
	else
		snprintf(l->text, sizeof(l->text),
			 "%s at VA %#" PRIx64 " (AS slot %" PRIu32 ", queue %" PRIu32
			 ") at cycle %" PRIu64,
			 viewer_fault_name_of(f->code), f->va, f->slot, f->queue, f->cycle);
}

static void link_mapping(const struct viewer_model *m, const struct viewer_fault *f,
			 struct viewer_link *links, size_t *n)
{
	struct viewer_link *l =
		link_add(links, n, VIEWER_LINK_MAPPING, "address space", VIEWER_NONE);
	char label[96], flags[8];
	int mp, best = -1;

	if (!l)
		return;
	if (f->hang) {
		snprintf(l->text, sizeof(l->text), "a hang names no address");
		return;
	}
	if (f->connection < 0) {
		snprintf(l->text, sizeof(l->text),
			 "the faulting connection is unknown: no mapping to show");
		return;
	}
	mp = viewer_query_mapping_at(m, f->connection, f->va, f->seq);
	if (mp >= 0) {
		const struct viewer_mapping *map = &m->mappings[mp];

		viewer_buffer_label(m, map->buffer, label, sizeof(label));
		viewer_flags_text(map->flags, flags);
		l->seq = map->map_seq;
		snprintf(l->text, sizeof(l->text),
			 "mapped: %s at [%#" PRIx64 ", %#" PRIx64 ") with %s%s", label, map->va,
			 map->va + map->length, flags,
			 f->code == SIM_FAULT_MMU_PERMISSION
				 ? ": the access needed a permission the mapping lacks"
				 : "");
		return;
	}
	mp = viewer_query_unmapped_at(m, f->connection, f->va, f->seq);
	if (mp >= 0) {
		const struct viewer_mapping *map = &m->mappings[mp];

		viewer_buffer_label(m, map->buffer, label, sizeof(label));
		l->seq = map->unmap_seq;
		snprintf(l->text, sizeof(l->text),
			 "not mapped: %s covered [%#" PRIx64 ", %#" PRIx64
			 ") until it was unmapped at event %" PRIu64,
			 label, map->va, map->va + map->length, map->unmap_seq);
		return;
	}
	for (size_t i = 0; i < m->mapping_count; i++) {
		const struct viewer_mapping *map = &m->mappings[i];

		if (map->connection != f->connection ||
		    !viewer_model_mapping_is_live(map, f->seq) || map->va > f->va)
			continue;
		if (best < 0 || map->va > m->mappings[best].va)
			best = (int)i;
	}
	if (best < 0) {
		snprintf(l->text, sizeof(l->text),
			 "not mapped: connection #%" PRIu32
			 " had nothing mapped below VA %#" PRIx64,
			 conn_number(m, f->connection), f->va);
		return;
	}
	viewer_buffer_label(m, m->mappings[best].buffer, label, sizeof(label));
	l->seq = m->mappings[best].map_seq;
	snprintf(l->text, sizeof(l->text),
		 "not mapped: nothing covers it; the nearest mapping below, %s, ends %" PRIu64
		 " bytes before, at %#" PRIx64,
		 label, f->va - (m->mappings[best].va + m->mappings[best].length),
		 m->mappings[best].va + m->mappings[best].length);
}

/* The first recorded call of @conn after @seq with @status, or NULL. */
static const struct viewer_call *call_after(const struct viewer_model *m, int conn, uint64_t seq,
					    int32_t status)
{
	for (size_t i = 0; i < m->call_count; i++)
		if (m->calls[i].seq > seq && m->calls[i].connection == conn &&
		    m->calls[i].status == status)
			return &m->calls[i];
	return NULL;
}

static void link_killed(const struct viewer_model *m, const struct viewer_fault *f,
			struct viewer_link *links, size_t *n)
{
	const struct viewer_call *c =
		call_after(m, f->connection, f->seq, MAGMA_STATUS_CONTEXT_KILLED);
	struct viewer_link *l =
		link_add(links, n, VIEWER_LINK_KILLED, "context killed", c ? c->seq : VIEWER_NONE);

	if (!l)
		return;
	if (c)
		snprintf(l->text, sizeof(l->text),
			 "%s on connection #%" PRIu32 " returned CONTEXT_KILLED", c->name,
			 conn_number(m, f->connection));
	else
		snprintf(l->text, sizeof(l->text),
			 "no later call of connection #%" PRIu32 " reported CONTEXT_KILLED",
			 conn_number(m, f->connection));
}

static void link_notify(const struct viewer_model *m, const struct viewer_fault *f,
			struct viewer_link *links, size_t *n)
{
	const struct viewer_notification *note = NULL;
	const struct viewer_call *lost;
	struct viewer_link *l;

	for (size_t i = 0; i < m->notification_count && !note; i++)
		if (m->notifications[i].seq > f->seq &&
		    m->notifications[i].connection == f->connection)
			note = &m->notifications[i];
	lost = call_after(m, f->connection, f->seq, MAGMA_STATUS_CONNECTION_LOST);
	l = link_add(links, n, VIEWER_LINK_NOTIFY, "client told",
		     note ? note->seq : (lost ? lost->seq : VIEWER_NONE));
	if (!l)
		return;
	if (note && note->decoded && note->type == MAGMA_SIM_NOTIFY_FAULT)
		snprintf(l->text, sizeof(l->text),
			 "read_notification: FAULT on context %" PRIu32 ", submission %" PRIu64
			 ", %s at VA %#" PRIx64,
			 note->context_id, note->sequence, viewer_fault_name_of(note->fault_code),
			 note->fault_address);
	else if (note)
		snprintf(l->text, sizeof(l->text),
			 "read_notification returned a payload of type %" PRIu32, note->type);
	else if (lost)
		snprintf(l->text, sizeof(l->text),
			 "%s returned CONNECTION_LOST (the notification channel hung up)",
			 lost->name);
	else
		snprintf(l->text, sizeof(l->text),
			 "the client read no notification and saw no hang-up in the trace");
}

static const struct viewer_marker *reset_after(const struct viewer_model *m, uint64_t seq)
{
	for (size_t i = 0; i < m->marker_count; i++)
		if (m->markers[i].kind == VIEWER_MARK_RESET_BEGIN && m->markers[i].seq >= seq &&
		    m->markers[i].code == SIM_GPU_COMMAND_SOFT_RESET)
			return &m->markers[i];
	return NULL;
}

static void link_reset(const struct viewer_model *m, const struct viewer_fault *f,
		       struct viewer_link *links, size_t *n)
{
	const struct viewer_marker *r = reset_after(m, f->seq);
	struct viewer_link *l =
		link_add(links, n, VIEWER_LINK_RESET, "GPU reset", r ? r->seq : VIEWER_NONE);
	uint64_t done = 0;

	if (!l)
		return;
	if (!r) {
		snprintf(l->text, sizeof(l->text),
			 "none: the driver stopped the faulting context without resetting the GPU");
		return;
	}
	for (size_t i = 0; i < m->marker_count; i++)
		if (m->markers[i].kind == VIEWER_MARK_RESET_DONE && m->markers[i].seq > r->seq) {
			done = m->markers[i].cycle;
			break;
		}
	if (done)
		snprintf(l->text, sizeof(l->text),
			 "soft reset from cycle %" PRIu64 " to %" PRIu64 " (%" PRIu64 " cycles)",
			 r->cycle, done, done - r->cycle);
	else
		snprintf(l->text, sizeof(l->text),
			 "soft reset began at cycle %" PRIu64 " and never completed", r->cycle);
}

static const char *job_end_text(enum viewer_job_end end)
{
	switch (end) {
	case VIEWER_JOB_OK:
		return "completed";
	case VIEWER_JOB_FAULTED:
		return "faulted";
	case VIEWER_JOB_RESET:
		return "ended by a reset";
	case VIEWER_JOB_UNFINISHED:
		break;
	}
	return "never finished";
}

static void link_innocent(const struct viewer_model *m, const struct viewer_fault *f,
			  struct viewer_link *links, size_t *n)
{
	size_t before = *n;
	struct viewer_link *l;

	for (size_t i = 0; i < m->job_count; i++) {
		const struct viewer_job *j = &m->jobs[i], *orig;

		if (j->resubmit_of < 0 || j->connection == f->connection)
			continue;
		orig = &m->jobs[j->resubmit_of];
		if (orig->end_seq < f->seq)
			continue;
		l = link_add(links, n, VIEWER_LINK_INNOCENT, "innocent work", j->start_seq);
		if (!l)
			return;
		snprintf(l->text, sizeof(l->text),
			 "resubmitted: connection #%" PRIu32 "'s job %" PRIu64 " (queue %" PRIu32
			 ") was cut off by the reset, ran again at cycle %" PRIu64 " and %s",
			 conn_number(m, j->connection), orig->seqno, j->queue, j->start_cycle,
			 job_end_text(j->end));
	}
	if (*n != before)
		return;
	for (size_t c = 0; c < m->connection_count; c++) {
		for (size_t i = 0; i < m->job_count; i++) {
			const struct viewer_job *j = &m->jobs[i];

			if (j->connection != (int)c || j->connection == f->connection ||
			    j->end_seq == VIEWER_NONE || j->end_seq < f->seq)
				continue;
			l = link_add(links, n, VIEWER_LINK_INNOCENT, "innocent work", j->start_seq);
			if (!l)
				return;
			snprintf(l->text, sizeof(l->text),
				 "kept running: connection #%" PRIu32 "'s job %" PRIu64
				 " (queue %" PRIu32 ", cycles %" PRIu64 "-%" PRIu64 ") %s",
				 conn_number(m, j->connection), j->seqno, j->queue, j->start_cycle,
				 j->end_cycle, job_end_text(j->end));
			break;
		}
	}
	if (*n != before)
		return;
	l = link_add(links, n, VIEWER_LINK_INNOCENT, "innocent work", VIEWER_NONE);
	if (l)
		snprintf(l->text, sizeof(l->text),
			 "no other connection had work on the GPU after the fault");
}

/* viewer_chain_build - see viewer_query.h. */
size_t viewer_chain_build(const struct viewer_model *m, int fault,
			  struct viewer_link links[VIEWER_CHAIN_MAX])
{
	const struct viewer_fault *f;
	size_t n = 0;

	if (fault < 0 || (size_t)fault >= m->fault_count)
		return 0;
	f = &m->faults[fault];
	link_submit(m, f, links, &n);
	link_job(m, f, links, &n);
	link_fault(f, links, &n);
	link_mapping(m, f, links, &n);
	link_killed(m, f, links, &n);
	link_notify(m, f, links, &n);
	link_reset(m, f, links, &n);
	link_innocent(m, f, links, &n);
	return n;
}
