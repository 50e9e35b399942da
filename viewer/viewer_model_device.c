/* SPDX-License-Identifier: MIT */
/*
 * viewer_model_device.c - the GPU's side of a trace in magma-view's model: jobs per queue from
 * JOB_START/JOB_END (matched to the submissions that carried them), the commands each job ran
 * (CMD events on its queue while it was open; a CMD with no open job on its queue is dropped),
 * faults, resets, power and interrupt markers, and the hangs the watchdog's resets imply
 * (viewer_model.c explains the matching and the hang rule). Single-threaded.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "sim/sim_regs.h"
#include "viewer_model_internal.h"

static void add_marker(struct model_reader *rd, enum viewer_marker_kind kind, const cJSON *ev,
		       uint32_t unit)
{
	struct viewer_marker *mk = GROW(rd, rd->m->markers, rd->m->marker_count, CAP_MARK);

	if (!mk)
		return;
	mk->kind = kind;
	mk->seq = rd->seq;
	mk->cycle = rd->cycle;
	mk->unit = unit;
	mk->code = (uint32_t)vm_u64(ev, "code");
	mk->value = vm_u64(ev, "value");
	mk->value2 = vm_u64(ev, "value2");
}

static int slot_of_conn(const struct model_reader *rd, int conn)
{
	for (int s = 0; s < MODEL_MAX_SLOTS; s++)
		if (rd->slot_conn[s] == conn)
			return s;
	return -1;
}

/* The pending index that job (@slot, @va) takes (see the file head), or -1. */
static int match_pending(const struct model_reader *rd, uint32_t slot, uint64_t va)
{
	const struct viewer_model *m = rd->m;
	int bound = slot < MODEL_MAX_SLOTS ? rd->slot_conn[slot] : -1;
	int free_conn = -1, any_va = -1, own = -1;

	for (size_t i = 0; i < rd->pending_count; i++) {
		const struct viewer_submission *s = &m->submissions[rd->pending[i]];
		int elsewhere = slot_of_conn(rd, s->connection);

		if (s->cmd_va && s->cmd_va == va) {
			if (s->connection == bound && bound >= 0)
				return (int)i;
			if (free_conn < 0 && (elsewhere < 0 || (uint32_t)elsewhere == slot))
				free_conn = (int)i;
			if (any_va < 0)
				any_va = (int)i;
		}
		if (own < 0 && bound >= 0 && s->connection == bound)
			own = (int)i;
	}
	if (free_conn >= 0)
		return free_conn;
	if (any_va >= 0)
		return any_va;
	if (own >= 0)
		return own;
	return rd->pending_count ? 0 : -1;
}

static void job_start(struct model_reader *rd, const cJSON *ev, uint32_t q)
{
	struct viewer_model *m = rd->m;
	uint32_t slot = (uint32_t)vm_u64(ev, "code");
	uint64_t va = vm_u64(ev, "value"), seqno = vm_u64(ev, "value2");
	int prev = rd->last_job[q];
	struct viewer_job *j;
	int idx, pick;

	if (rd->open[q] >= 0) { /* a start without an end: close the old one where it stood */
		m->jobs[rd->open[q]].end = VIEWER_JOB_UNFINISHED;
		m->jobs[rd->open[q]].end_cycle = rd->cycle;
		m->jobs[rd->open[q]].end_seq = rd->seq;
	}
	j = GROW(rd, rd->m->jobs, rd->m->job_count, CAP_JOB);
	if (!j)
		return;
	idx = (int)(m->job_count - 1);
	*j = (struct viewer_job){.start_seq = rd->seq,
				 .end_seq = VIEWER_NONE,
				 .start_cycle = rd->cycle,
				 .end_cycle = rd->cycle,
				 .cmd_va = va,
				 .seqno = seqno,
				 .queue = q,
				 .slot = slot,
				 .end = VIEWER_JOB_UNFINISHED,
				 .connection = -1,
				 .submission = -1,
				 .resubmit_of = -1};
	rd->open[q] = idx;
	rd->last_job[q] = idx;
	if (prev >= 0 && m->jobs[prev].slot == slot && m->jobs[prev].seqno == seqno &&
	    m->jobs[prev].end != VIEWER_JOB_RESET) {
		j->connection = m->jobs[prev].connection;
		j->submission = m->jobs[prev].submission;
		return;
	}
	pick = match_pending(rd, slot, va);
	if (pick < 0) {
		if (slot < MODEL_MAX_SLOTS)
			j->connection = rd->slot_conn[slot];
		return;
	}
	j->submission = rd->pending[pick];
	j->connection = m->submissions[j->submission].connection;
	m->submissions[j->submission].job = idx;
	memmove(&rd->pending[pick], &rd->pending[pick + 1],
		(rd->pending_count - (size_t)pick - 1) * sizeof(*rd->pending));
	rd->pending_count--;
	if (slot < MODEL_MAX_SLOTS && j->connection >= 0) {
		for (int s = 0; s < MODEL_MAX_SLOTS; s++)
			if (rd->slot_conn[s] == j->connection)
				rd->slot_conn[s] = -1;
		rd->slot_conn[slot] = j->connection;
	}
}

/* A CMD event on queue @q: one more command of the job open there (none open: dropped). */
static void add_command(struct model_reader *rd, const cJSON *ev, uint32_t q)
{
	struct viewer_command *c;

	if (rd->open[q] < 0)
		return;
	c = GROW(rd, rd->m->commands, rd->m->command_count, CAP_CMD);
	if (!c)
		return;
	c->seq = rd->seq;
	c->cycle = rd->cycle;
	c->va = vm_u64(ev, "value");
	c->opcode = (uint32_t)vm_u64(ev, "code");
	c->job = rd->open[q];
	snprintf(c->name, sizeof(c->name), "%s", vm_str(ev, "name"));
}

static int command_order(const void *a, const void *b)
{
	const struct viewer_command *x = a, *y = b;

	if (x->job != y->job)
		return x->job < y->job ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * vm_group_commands - sort @m's commands by job (event order within one; seq is unique, so the
 * order is total) and point each job at its run of them. Jobs interleave on different queues,
 * so the commands arrive interleaved too.
 */
void vm_group_commands(struct viewer_model *m)
{
	if (m->command_count > 1)
		qsort(m->commands, m->command_count, sizeof(*m->commands), command_order);
	for (size_t i = 0; i < m->command_count; i++) {
		struct viewer_job *j = &m->jobs[m->commands[i].job];

		if (!j->command_count)
			j->first_command = i;
		j->command_count++;
	}
}

void vm_job_close(struct model_reader *rd, uint32_t q, enum viewer_job_end end, uint32_t code)
{
	struct viewer_job *j;

	if (rd->open[q] < 0)
		return;
	j = &rd->m->jobs[rd->open[q]];
	j->end = end;
	j->fault = code;
	j->end_seq = rd->seq;
	j->end_cycle = rd->cycle;
	rd->open[q] = -1;
}

void vm_on_dev(struct model_reader *rd, const cJSON *ev)
{
	struct viewer_model *m = rd->m;
	const char *type = vm_str(ev, "ev");
	const cJSON *unit = vm_member(ev, "unit");
	uint32_t q = 0;
	uint64_t cycle = rd->base + vm_u64(ev, "cycle");

	if (cycle > rd->cycle)
		rd->cycle = cycle;
	if (cJSON_IsNumber(unit) && unit->valuedouble >= 0)
		q = unit->valuedouble >= VIEWER_MAX_QUEUES ? VIEWER_MAX_QUEUES - 1
							   : (uint32_t)unit->valuedouble;
	if (!strcmp(type, "JOB_START")) {
		job_start(rd, ev, q);
		if (q + 1 > m->queue_count)
			m->queue_count = q + 1;
	} else if (!strcmp(type, "CMD")) {
		add_command(rd, ev, q);
	} else if (!strcmp(type, "JOB_END")) {
		uint32_t code = (uint32_t)vm_u64(ev, "code");

		vm_job_close(rd, q, code ? VIEWER_JOB_FAULTED : VIEWER_JOB_OK, code);
	} else if (!strcmp(type, "FAULT")) {
		struct viewer_fault *f;
		int job = rd->open[q];

		add_marker(rd, VIEWER_MARK_FAULT, ev, q);
		f = GROW(rd, rd->m->faults, rd->m->fault_count, CAP_FAULT);
		if (!f)
			return;
		f->seq = rd->seq;
		f->cycle = rd->cycle;
		f->code = (uint32_t)vm_u64(ev, "code");
		f->va = vm_u64(ev, "value");
		f->slot = (uint32_t)vm_u64(ev, "value2");
		f->queue = q;
		f->job = job;
		f->connection = job >= 0
					? m->jobs[job].connection
					: (f->slot < MODEL_MAX_SLOTS ? rd->slot_conn[f->slot] : -1);
	} else if (!strcmp(type, "RESET")) {
		bool done = vm_u64(ev, "value") != 0;

		add_marker(rd, done ? VIEWER_MARK_RESET_DONE : VIEWER_MARK_RESET_BEGIN, ev,
			   UINT32_MAX);
		if (!done)
			for (uint32_t i = 0; i < VIEWER_MAX_QUEUES; i++)
				vm_job_close(rd, i, VIEWER_JOB_RESET, 0);
	} else if (!strcmp(type, "POWER")) {
		add_marker(rd, VIEWER_MARK_POWER, ev, UINT32_MAX);
	} else if (!strcmp(type, "IRQ_RAISE")) {
		add_marker(rd, VIEWER_MARK_IRQ, ev, UINT32_MAX);
	}
}

void vm_on_device(struct model_reader *rd, const cJSON *ev)
{
	if (strcmp(vm_str(ev, "event"), "created")) {
		for (uint32_t i = 0; i < VIEWER_MAX_QUEUES; i++)
			vm_job_close(rd, i, VIEWER_JOB_UNFINISHED, 0);
		return;
	}
	rd->m->device_count++;
	rd->base = rd->cycle;
	for (int s = 0; s < MODEL_MAX_SLOTS; s++)
		rd->slot_conn[s] = -1;
	for (uint32_t q = 0; q < VIEWER_MAX_QUEUES; q++)
		rd->last_job[q] = -1;
}

/* Marks resubmissions and turns jobs a soft reset ended without one into hang faults. */
void vm_find_hangs(struct model_reader *rd)
{
	struct viewer_model *m = rd->m;

	for (size_t i = 0; i < m->job_count; i++) {
		struct viewer_job *j = &m->jobs[i];
		bool resubmitted = false;
		const struct viewer_marker *reset = NULL;
		struct viewer_fault *f;

		if (j->end != VIEWER_JOB_RESET)
			continue;
		for (size_t k = i + 1; k < m->job_count; k++) {
			struct viewer_job *later = &m->jobs[k];

			if (later->cmd_va == j->cmd_va && later->connection == j->connection &&
			    later->resubmit_of < 0 && j->connection >= 0) {
				later->resubmit_of = (int)i;
				resubmitted = true;
				break;
			}
		}
		for (size_t k = 0; k < m->marker_count && !reset; k++)
			if (m->markers[k].seq == j->end_seq &&
			    m->markers[k].kind == VIEWER_MARK_RESET_BEGIN)
				reset = &m->markers[k];
		if (resubmitted || !reset || reset->code != SIM_GPU_COMMAND_SOFT_RESET)
			continue;
		f = GROW(rd, rd->m->faults, rd->m->fault_count, CAP_FAULT);
		if (!f)
			return;
		*f = (struct viewer_fault){.seq = j->end_seq,
					   .cycle = j->end_cycle,
					   .hang = true,
					   .queue = j->queue,
					   .slot = j->slot,
					   .job = (int)i,
					   .connection = j->connection};
	}
	/* faults in event order (hangs were appended at the end) */
	for (size_t i = 1; i < m->fault_count; i++) {
		struct viewer_fault f = m->faults[i];
		size_t k = i;

		while (k > 0 && m->faults[k - 1].seq > f.seq) {
			m->faults[k] = m->faults[k - 1];
			k--;
		}
		m->faults[k] = f;
	}
}
