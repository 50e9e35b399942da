/* SPDX-License-Identifier: MIT */
/*
 * fault_device_apply.c - applying one firing of a fault plan to a device (fault_device.h), and
 * the one log line that says what it did.
 *
 * A model fault aimed at a job (mmu_fault, permission_fault, cp_hang, dma_error) becomes a
 * "shot" waiting for a job start: one fired by a submission or a call of a connection waits for
 * the first job of that connection from its next submission on, which is the submission that
 * fired it; one fired by an access waits for the accessing connection's next job (the access
 * itself has happened); one fired by a cycle waits for the next job of the fault's target. At
 * that job start the driver's hook arms the model (sim_inject_fault) on the job's slot (MMU) or
 * queue (hang, DMA) before the doorbell. Device-wide model faults and kill_client are applied at
 * once on the service's threads; when a cycle or an access fires them the sim's lock is held,
 * which forbids calling the sim or the service, so the device's worker applies them right after.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault_device_internal.h"
#include "magma_system/magma_system.h"

/* "connection 2 (pid 41 "vkcube", context 1)"; "pid 41 "vkcube"" for a channel; "" for nobody. */
static void describe_who(const struct fault_who *who, char *out, size_t size)
{
	char context[32] = "";

	if (who->context)
		snprintf(context, sizeof(context), ", context %u", who->context);
	if (who->connection)
		snprintf(out, size, "connection %" PRIu64 " (pid %d \"%s\"%s)", who->connection,
			 (int)who->pid, who->comm, context);
	else if (who->pid)
		snprintf(out, size, "pid %d \"%s\"", (int)who->pid, who->comm);
	else
		snprintf(out, size, "%s", "");
}

/* fault_describe_cause - what fired a fault, from @ev and the fault's @count, into @out. */
void fault_describe_cause(const struct fault_event *ev, const struct fault_who *who, uint64_t count,
			  char out[FAULT_CAUSE_SIZE])
{
	char whom[96];

	describe_who(who, whom, sizeof(whom));
	switch (ev->type) {
	case FAULT_EVENT_SUBMISSION:
		snprintf(out, FAULT_CAUSE_SIZE, "at its submission #%" PRIu64 ", by %s", count,
			 whom);
		break;
	case FAULT_EVENT_CALL:
		snprintf(out, FAULT_CAUSE_SIZE, "at its call #%" PRIu64 " (%s), by %s", count,
			 ev->point ? ev->point : "no msd.h call", whom[0] ? whom : "a channel");
		break;
	case FAULT_EVENT_ALLOC:
		snprintf(out, FAULT_CAUSE_SIZE, "at its %s allocation #%" PRIu64 "%s%s", ev->point,
			 count, whom[0] ? ", by " : "", whom);
		break;
	case FAULT_EVENT_CYCLE:
		snprintf(out, FAULT_CAUSE_SIZE, "at GPU cycle %" PRIu64, ev->value);
		break;
	case FAULT_EVENT_RESET:
		snprintf(out, FAULT_CAUSE_SIZE, "at GPU reset #%" PRIu64 " (cycle %" PRIu64 ")",
			 count, ev->value);
		break;
	case FAULT_EVENT_ACCESS:
		snprintf(out, FAULT_CAUSE_SIZE,
			 "at its GPU access #%" PRIu64 " (first touch of page 0x%" PRIx64
			 "), by %s",
			 count, ev->value & ~(uint64_t)(SIM_PAGE_SIZE - 1), whom);
		break;
	default:
		snprintf(out, FAULT_CAUSE_SIZE, "at an event");
		break;
	}
}

bool fault_is_job_kind(enum fault_kind kind)
{
	return kind == FAULT_MMU_FAULT || kind == FAULT_PERMISSION_FAULT || kind == FAULT_CP_HANG ||
	       kind == FAULT_DMA_ERROR;
}

/* fault_shoot_job - see fault_device_internal.h. */
void fault_shoot_job(struct fault_device *fdev, struct fault_shot *shot,
		     const struct msd_sim_job_start *job, const struct fault_conn *c)
{
	struct sim_inject inj = {.count = 1};
	const char *where = "AS slot";
	uint32_t unit = job->as_slot;
	struct fault_who hit = {0};
	int ret;

	switch (shot->fault->kind) {
	case FAULT_MMU_FAULT:
		inj.kind = SIM_INJECT_MMU_FAULT;
		inj.arg = SIM_FAULT_MMU_TRANSLATION;
		break;
	case FAULT_PERMISSION_FAULT:
		inj.kind = SIM_INJECT_MMU_FAULT;
		inj.arg = SIM_FAULT_MMU_PERMISSION;
		break;
	case FAULT_CP_HANG:
		inj.kind = SIM_INJECT_CP_HANG;
		where = "queue";
		unit = job->queue;
		break;
	default: /* FAULT_DMA_ERROR */
		inj.kind = SIM_INJECT_DMA_ERROR;
		where = "queue";
		unit = job->queue;
		break;
	}
	inj.target = unit;
	if (unit == job->queue) {
		/* Only this job's commands: never whoever's runs next on the queue. */
		inj.seqno_first = job->first_seqno;
		inj.seqno_last = job->last_seqno;
	}
	ret = sim_inject_fault(fdev->sim, &inj);
	if (c)
		fault_who_of_conn(c, job->context_id, &hit);
	if (ret) {
		fault_record_never(fdev, shot->record);
	} else {
		fault_record_applied(fdev, shot->record, &hit, FAULT_IN_DRIVER);
		/* A job with no COPY or FILL ends unhit: the DMA error lapses with it. */
		if (inj.kind == SIM_INJECT_DMA_ERROR)
			fault_record_may_lapse(fdev, shot->record, unit, job->first_seqno,
					       job->last_seqno);
	}
	fault_log(fdev,
		  "\"%s\" (%s) fired %s: %s %s %u, for submission %" PRIu64
		  " of connection %" PRIu64 " (context %u)%s",
		  shot->fault->name, fault_kind_name(shot->fault->kind), shot->cause,
		  ret ? "NOT armed (the model refused it) on" : "armed on", where, unit,
		  job->sequence, hit.connection, job->context_id,
		  job->resubmitted ? ", resubmitted" : "");
}

/*
 * Kills (or, for this process, disconnects) the client of connection @number, or with @number 0
 * the client process @pid; the outcome in @out. True when it was killed or shut down.
 */
static bool kill_client(struct fault_device *fdev, uint64_t number, pid_t pid, char *out,
			size_t size)
{
	int ret = magma_system_device_kill_client(fdev->dev, number, pid);
	char whom[48];

	if (number)
		snprintf(whom, sizeof(whom), "the client of connection %" PRIu64, number);
	else
		snprintf(whom, sizeof(whom), "client process %d", (int)pid);
	if (ret == 0) {
		fault_record_killed(fdev, number, pid);
		snprintf(out, size, "killed %s (SIGKILL)", whom);
	} else if (ret == 1) {
		snprintf(out, size,
			 "connection %" PRIu64 " shut down instead (its client is this process)",
			 number);
	} else {
		snprintf(out, size, "%s not killed: %s", whom, strerror(-ret));
	}
	return ret == 0 || ret == 1;
}

/*
 * The connections kill_client @shot hits by its target (the event that fired it had no client),
 * into @out (at most @max); how many.
 */
static uint32_t kill_targets(struct fault_device *fdev, const struct fault_shot *shot,
			     struct fault_who *out, uint32_t max)
{
	const struct fault_target *t = &shot->fault->target;
	uint32_t n = 0;

	pthread_mutex_lock(&fdev->lock);
	for (struct fault_conn *c = fdev->conns; c && n < max; c = c->next) {
		bool hit;

		if (t->type == FAULT_TARGET_CONNECTION)
			hit = c->number == t->connection;
		else if (t->type == FAULT_TARGET_PROCESS)
			hit = strcmp(c->comm, t->process) == 0;
		else
			hit = false; /* refused at load (fault_plan_check_device) */
		if (hit)
			fault_who_of_conn(c, 0, &out[n++]);
	}
	pthread_mutex_unlock(&fdev->lock);
	return n;
}

/* Applies kill_client @shot; what it did in @out; whether anyone was killed. */
static bool shoot_kill(struct fault_device *fdev, struct fault_shot *shot, char *out, size_t size)
{
	struct fault_who victims[16];
	uint32_t n;
	size_t len = 0;
	bool any = false;

	if (shot->who.connection || shot->who.pid)
		return kill_client(fdev, shot->who.connection, shot->who.pid, out, size);
	n = kill_targets(fdev, shot, victims, 16);
	if (!n)
		snprintf(out, size, "no live connection of the target to kill");
	for (uint32_t i = 0; i < n && len + 2 < size; i++) {
		if (i)
			len += (size_t)snprintf(out + len, size - len, "; ");
		if (kill_client(fdev, victims[i].connection, 0, out + len, size - len) && !any) {
			shot->who = victims[i]; /* the record names the first one hit */
			any = true;
		}
		len = strlen(out);
	}
	return any;
}

/* fault_shoot_now - see fault_device_internal.h. */
void fault_shoot_now(struct fault_device *fdev, struct fault_shot *shot)
{
	const struct fault *f = shot->fault;
	char effect[256] = "";
	bool applied = true;
	int ret = 0;

	switch (f->kind) {
	case FAULT_RESET_FAILURE:
		ret = sim_inject_fault(
			fdev->sim, &(struct sim_inject){.kind = SIM_INJECT_RESET_FAIL, .count = 1});
		snprintf(effect, sizeof(effect), "the next soft reset will not complete");
		break;
	case FAULT_IRQ_DELAY:
		ret = sim_inject_fault(fdev->sim, &(struct sim_inject){.kind = SIM_INJECT_DELAY_IRQ,
								       .count = 1,
								       .arg = f->arg});
		snprintf(effect, sizeof(effect), "the next interrupt is %" PRIu64 " cycles late",
			 f->arg);
		break;
	case FAULT_IRQ_LOSS:
		ret = sim_inject_fault(
			fdev->sim, &(struct sim_inject){.kind = SIM_INJECT_DROP_IRQ, .count = 1});
		snprintf(effect, sizeof(effect), "the next interrupt is lost");
		break;
	case FAULT_MODEL_ALLOC_FAILURE:
		sim_inject_alloc_failure(fdev->sim, 1);
		snprintf(effect, sizeof(effect), "the model's next host allocation fails");
		break;
	case FAULT_KILL_CLIENT:
		applied = shoot_kill(fdev, shot, effect, sizeof(effect));
		break;
	default:
		applied = false;
		snprintf(effect, sizeof(effect), "not applicable here");
		break;
	}
	if (ret) {
		applied = false;
		snprintf(effect, sizeof(effect), "NOT applied: the model refused it (%d)", ret);
	}
	if (!applied)
		fault_record_never(fdev, shot->record);
	else
		fault_record_applied(fdev, shot->record,
				     f->kind == FAULT_KILL_CLIENT ? &shot->who : NULL,
				     FAULT_IN_SERVICE);
	fault_log(fdev, "\"%s\" (%s) fired %s: %s", f->name, fault_kind_name(f->kind), shot->cause,
		  effect);
	free(shot);
}

/* fault_shot_never - see fault_device_internal.h. */
void fault_shot_never(struct fault_device *fdev, struct fault_shot *shot, const char *why)
{
	fault_record_never(fdev, shot->record);
	fault_log(fdev, "\"%s\" (%s) fired %s: never applied, %s", shot->fault->name,
		  fault_kind_name(shot->fault->kind), shot->cause, why);
	free(shot);
}

/* Queues @shot for the worker (or drops it, logged, once stopping). */
static void defer_to_worker(struct fault_device *fdev, struct fault_shot *shot)
{
	bool dropped;

	pthread_mutex_lock(&fdev->lock);
	dropped = fdev->stopping;
	if (!dropped) {
		*fdev->work_tail = shot;
		fdev->work_tail = &shot->next;
		pthread_cond_signal(&fdev->work_cond);
	}
	pthread_mutex_unlock(&fdev->lock);
	if (dropped)
		fault_shot_never(fdev, shot, "the device is shutting down");
}

/* fault_apply_firing - see fault_device_internal.h. */
void fault_apply_firing(struct fault_device *fdev, const struct fault_firing *firing,
			const struct fault_event *ev, const struct fault_who *who,
			enum fault_where where, struct fault_record *rec)
{
	struct fault_shot *shot = calloc(1, sizeof(*shot));

	if (!shot) {
		fault_record_never(fdev, rec);
		fault_log(fdev, "\"%s\" (%s) fired but is not applied: out of memory",
			  firing->fault->name, fault_kind_name(firing->fault->kind));
		return;
	}
	shot->fault = firing->fault;
	shot->index = firing->index;
	shot->record = rec;
	shot->who = *who;
	fault_describe_cause(ev, who, firing->count, shot->cause);
	if (fault_is_job_kind(firing->fault->kind)) {
		/* On the connection's own thread before it submits, its next submission number is
		 * exactly the one that fired (the driver's lock is not held here). */
		if (where == FAULT_IN_SERVICE && who->msd)
			shot->min_sequence = msd_sim_connection_next_sequence(who->msd);
		pthread_mutex_lock(&fdev->lock);
		{
			struct fault_shot **pp = &fdev->job_shots;

			while (*pp)
				pp = &(*pp)->next;
			*pp = shot;
		}
		pthread_mutex_unlock(&fdev->lock);
		return;
	}
	if (where == FAULT_IN_SERVICE)
		fault_shoot_now(fdev, shot);
	else
		defer_to_worker(fdev, shot);
}
