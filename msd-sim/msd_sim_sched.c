/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_sched.c - the scheduler: which ready job goes to the hardware next.
 *
 * For now a single FIFO across all contexts feeding hardware queue 0: the head job is submitted
 * when the ring has room for all its entries and its address space can be bound to a slot;
 * otherwise it (and everything behind it) waits for a retirement to free room or a slot. Jobs
 * of a killed context are dropped here. Priorities, several queues, time slicing and
 * preemption (issue 5) replace msd_sim_sched_run_locked's policy without touching its callers.
 * Device thread, device lock.
 */
#include "msd_sim_internal.h"

/* msd_sim_sched_init - an empty ready list. */
void msd_sim_sched_init(struct msd_sim_sched *s)
{
	msd_sim_list_init(&s->ready);
}

/* msd_sim_sched_add_locked - @job becomes ready; it runs on queue 0 in submission order. */
void msd_sim_sched_add_locked(struct msd_sim_device *dev, struct msd_sim_job *job)
{
	msd_sim_mutex_assert_held(&dev->lock);
	job->state = MSD_SIM_JOB_READY;
	job->queue = 0;
	msd_sim_list_add_tail(&dev->sched.ready, &job->link);
}

/* msd_sim_sched_run_locked - submit ready jobs in FIFO order until one cannot go yet. */
void msd_sim_sched_run_locked(struct msd_sim_device *dev)
{
	msd_sim_mutex_assert_held(&dev->lock);
	while (!msd_sim_list_empty(&dev->sched.ready)) {
		struct msd_sim_job *job =
			msd_sim_container_of(dev->sched.ready.next, struct msd_sim_job, link);

		if (job->ctx->killed) {
			msd_sim_job_free_locked(dev, job);
			continue;
		}
		if (!msd_sim_job_submit_locked(dev, job))
			break;
	}
}
