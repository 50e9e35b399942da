/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_abandon.c - stopping the GPU work nobody wants any more: that of a context the client
 * destroyed and of every context of a closed connection (msd_sim_context_is_abandoned). A killed
 * client's connection is closed by magma_system, so this is what keeps a huge dispatch of a dead
 * process from running on for as long as it would take.
 *
 * Jobs not on a ring yet (held, ready) are dropped. On each queue whose ring holds abandoned work
 * the driver writes Q_COMMAND STOP first: from then on the queue starts no command and fetches no
 * entry (docs/sim-gpu.md §3.1, §5.6), so which job it is on is settled, and entries behind it may
 * be rewritten. Then, after retiring what completed (Q_SEQNO):
 *
 *   - the job at the head is abandoned: Q_COMMAND RESET drops it at once, wherever it is (inside
 *     a workgroup that never ends too, where STOP would wait forever), and discards the entries
 *     behind it, none of which has started. Those are taken back; other contexts' jobs go back to
 *     the scheduler ahead of their contexts' other ready jobs and are written again, unchanged,
 *     from their first command buffer, so they run exactly once. The queue is IDLE, its fault
 *     registers and pending STOP cleared; Q_SEQNO and Q_PRIORITY are kept.
 *   - the job at the head is someone else's: its work is not disturbed. The abandoned entries
 *     behind it become empty jobs (CMD_SIZE 0: they retire in order and run nothing), then RESUME.
 *     If the STOP waits for the end of a workgroup, QUEUE_STOPPED later makes the device thread
 *     resume the queue (msd_sim_abandon_queue_stopped_locked): the driver stops queues for no
 *     other reason.
 *
 * Nothing here waits for the GPU. Freed jobs put their mapping uses, buffer, context and
 * connection references, so a closed connection's mappings are unmapped and unpinned and its
 * address space unbound as soon as no entry of it is on a ring; with nothing else to run the
 * device goes idle and powers down (msd_sim_recovery.c). No notification is sent: the client
 * released the work itself. Device thread, device lock (requests from the connection threads
 * through msd_sim_device_call_locked; inline in test mode).
 */
#include "msd_sim_internal.h"
#include "msd_sim_io.h"

/* Whether @job is abandoned and still runs its commands (not rewritten as empty yet). */
static bool msd_sim_abandon_job_runs(const struct msd_sim_job *job)
{
	return !job->faulted && msd_sim_context_is_abandoned(job->ctx);
}

static bool msd_sim_abandon_queue_runs(const struct msd_sim_queue *q)
{
	for (uint32_t i = q->head; i != q->tail; i = (i + 1) & (q->size - 1)) {
		if (msd_sim_abandon_job_runs(q->slots[i].job))
			return true;
	}
	return false;
}

/*
 * msd_sim_abandon_queue_stopped_locked - QUEUE_STOPPED(@qi) arrived, or a STOP was just written:
 * a STOPPED queue gets RESUME. Only abandonment stops queues, and always wants them running again
 * afterwards; a queue that was reset or resumed meanwhile is left alone. Device thread.
 */
void msd_sim_abandon_queue_stopped_locked(struct msd_sim_device *dev, uint32_t qi)
{
	msd_sim_mutex_assert_held(&dev->lock);
	if (SIM_FIELD_GET(SIM_Q_STATUS_STATE, msd_sim_read32(dev, SIM_Q_STATUS(qi))) ==
	    SIM_Q_STATE_STOPPED)
		msd_sim_write32(dev, SIM_Q_COMMAND(qi), SIM_Q_COMMAND_RESUME);
}

/* The abandoned job at the head of stopped queue @qi: RESET, take the ring back, requeue. */
static void msd_sim_abandon_reset_queue_locked(struct msd_sim_device *dev, uint32_t qi)
	MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_list jobs;

	msd_sim_write32(dev, SIM_Q_COMMAND(qi), SIM_Q_COMMAND_RESET);
	dev->abandon_resets++;
	/* The dropped job's busy cycles must not count against the next job on this queue. */
	msd_sim_watchdog_restart_queue_locked(dev, qi);
	/* RESET keeps Q_SEQNO: a job that completed since the last read retires as done. */
	msd_sim_job_retire_queue_locked(dev, qi);
	msd_sim_list_init(&jobs);
	msd_sim_queue_take_back_locked(dev, qi, &jobs);
	msd_sim_job_requeue_locked(dev, &jobs);
}

/* Stop the abandoned work on queue @qi's ring (see the file comment). */
static void msd_sim_abandon_queue_locked(struct msd_sim_device *dev, uint32_t qi)
	MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_queue *q = &dev->queues[qi];
	struct msd_sim_job *head;

	if (!msd_sim_abandon_queue_runs(q))
		return;
	msd_sim_write32(dev, SIM_Q_COMMAND(qi), SIM_Q_COMMAND_STOP);
	dev->abandon_stops++;
	msd_sim_job_retire_queue_locked(dev, qi);
	head = q->head != q->tail ? q->slots[q->head].job : NULL;
	if (head && msd_sim_context_is_abandoned(head->ctx)) {
		MSD_SIM_LOG(dev->drv, MAGMA_LOG_DEBUG,
			    "queue %u: reset, dropping context %u submission %" PRIu64, qi,
			    head->ctx->id, head->sequence);
		msd_sim_abandon_reset_queue_locked(dev, qi);
		return;
	}
	msd_sim_queue_neuter_locked(q);
	msd_sim_abandon_queue_stopped_locked(dev, qi);
}

static void msd_sim_abandon_fn(struct msd_sim_device *dev, void *arg) MSD_SIM_REQUIRES(dev->lock)
{
	msd_sim_job_cancel_abandoned_locked(dev, arg);
	for (uint32_t qi = 0; qi < dev->queue_count; qi++)
		msd_sim_abandon_queue_locked(dev, qi);
	/* Requeued work is written by the scheduler; an idle device starts its power-down wait. */
	msd_sim_device_kick_locked(dev);
}

/*
 * msd_sim_abandon_locked - @conn was closed or one of its contexts destroyed (the flags are set):
 * drop the held and ready jobs of @conn's abandoned contexts and stop the abandoned work on every
 * ring, on the device thread. The caller keeps @conn (and the destroyed context) referenced. Drops
 * the lock while the device thread works, like msd_sim_device_call_locked.
 */
void msd_sim_abandon_locked(struct msd_sim_device *dev, struct msd_sim_connection *conn)
{
	msd_sim_mutex_assert_held(&dev->lock);
	msd_sim_device_call_locked(dev, msd_sim_abandon_fn, conn);
}
