/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_sched_queue.c - which hardware queue a job goes to, and the queue's Q_PRIORITY.
 *
 * Levels: a context's magma_priority_t picks one of four levels (LOW, MEDIUM, HIGH, REALTIME =
 * 0..3). Each level has a home queue (MEDIUM 0, LOW 1, HIGH 2, REALTIME 3, so single-level
 * register traces keep queue 0) and the engine arbitrates queues by Q_PRIORITY at every unit
 * boundary (command, 64 KiB chunk, workgroup; docs/sim-gpu.md §3.1).
 *
 * Lending: a queue runs the jobs of one level at a time and its Q_PRIORITY is that level. A
 * context without jobs on a ring goes to its level's home queue when that is idle, else borrows
 * an idle queue whose home level is lower and has nothing ready, else shares the queue of its
 * level with the fewest jobs (taking turns at job boundaries, msd_sim_sched.c). So up to
 * 1 + level contexts of one level run on separate queues of equal Q_PRIORITY and the engine
 * alternates their workgroups: time slicing inside long dispatches, with no state to save.
 * Borrowing only downwards keeps priorities exact: a level's home queue only ever holds work of
 * that level or a higher one, so a higher level never waits behind a lower one. When a lender's
 * level gets ready work, the borrower adds nothing more there and the queue returns once its
 * jobs retire (the lender would have waited for that higher-level work anyway). A context's jobs
 * stay on one queue while any of them is on a ring, so they keep submission order. On a GPU with
 * fewer than four queues, neighbouring levels fold onto one queue (level × queues / 4), whose
 * Q_PRIORITY is the highest of them, and nothing is lent.
 *
 * Aging: a queue with jobs on its ring that completes none for MSD_SIM_STARVE_MS of host time
 * while a queue of a higher level has jobs on its ring gets Q_PRIORITY 3 until it completes one;
 * equal priorities share the engine round-robin, so it progresses while the higher queue keeps
 * most of the engine. Device thread only (host time means nothing to a test stepping the clock).
 *
 * Device lock throughout.
 */
#include "msd_sim_internal.h"
#include "msd_sim_io.h"

/* Home queue of each level on a GPU with MSD_SIM_LEVELS queues or more. */
static const uint32_t msd_sim_level_queue[MSD_SIM_LEVELS] = {1, 0, 2, 3};

/* msd_sim_sched_level - the level of @priority: below MEDIUM is LOW (0), REALTIME and up is 3. */
uint32_t msd_sim_sched_level(magma_priority_t priority)
{
	if (priority >= MAGMA_PRIORITY_REALTIME)
		return 3;
	if (priority >= MAGMA_PRIORITY_HIGH)
		return 2;
	if (priority >= MAGMA_PRIORITY_MEDIUM)
		return 1;
	return 0;
}

/* msd_sim_sched_queue - the home queue of @level on @dev. */
uint32_t msd_sim_sched_queue(const struct msd_sim_device *dev, uint32_t level)
{
	if (dev->queue_count >= MSD_SIM_LEVELS)
		return msd_sim_level_queue[level];
	return level * dev->queue_count / MSD_SIM_LEVELS;
}

/* Whether queues are lent between levels: only when every level has a queue of its own. */
static bool msd_sim_sched_lending(const struct msd_sim_device *dev)
{
	return dev->queue_count >= MSD_SIM_LEVELS;
}

static void msd_sim_sched_set_prio_locked(struct msd_sim_device *dev, uint32_t qi, uint32_t prio)
	MSD_SIM_REQUIRES(dev->lock)
{
	if (dev->queues[qi].prio != prio) {
		msd_sim_write32(dev, SIM_Q_PRIORITY(qi), prio);
		dev->queues[qi].prio = prio;
	}
}

/*
 * msd_sim_sched_program_locked - write Q_PRIORITY of every queue: the highest level whose home it
 * is. At bring-up and after a hard reset (which clears it), with the queues idle.
 */
void msd_sim_sched_program_locked(struct msd_sim_device *dev)
{
	msd_sim_mutex_assert_held(&dev->lock);
	for (uint32_t l = 0; l < MSD_SIM_LEVELS; l++) {
		struct msd_sim_queue *q = &dev->queues[msd_sim_sched_queue(dev, l)];

		msd_sim_write32(dev, SIM_Q_PRIORITY(msd_sim_sched_queue(dev, l)), l);
		q->home = q->level = q->prio = l;
	}
	for (uint32_t qi = 0; qi < dev->queue_count; qi++) {
		dev->queues[qi].boosted = false;
		dev->queues[qi].starve_ms = 0;
	}
}

/* Whether queue @qi is lent to a higher level whose home level now has ready work. */
static bool msd_sim_sched_reclaimed(const struct msd_sim_device *dev, uint32_t qi)
{
	const struct msd_sim_queue *q = &dev->queues[qi];

	return q->level > q->home && dev->sched.level[q->home].ready;
}

/*
 * msd_sim_sched_queue_for_locked - the queue ready @job would go to now (see the file comment),
 * or -1 when it must wait: its context's queue is being returned to its lender, or every queue
 * it may use runs another level's jobs.
 */
int msd_sim_sched_queue_for_locked(struct msd_sim_device *dev, const struct msd_sim_job *job)
{
	const struct msd_sim_context *ctx = job->ctx;
	uint32_t l = ctx->level, home = msd_sim_sched_queue(dev, l);
	int best = -1;

	msd_sim_mutex_assert_held(&dev->lock);
	if (ctx->ring_jobs)
		return msd_sim_sched_reclaimed(dev, ctx->queue) ? -1 : (int)ctx->queue;
	if (!msd_sim_sched_lending(dev) || !dev->queues[home].jobs)
		return (int)home;
	for (uint32_t lower = 0; lower < l; lower++) {
		uint32_t qi = msd_sim_sched_queue(dev, lower);

		if (!dev->queues[qi].jobs && !dev->sched.level[lower].ready)
			return (int)qi;
	}
	/* Share: the home queue first, then borrowed ones, the fewest jobs winning. */
	for (uint32_t i = 0; i <= l; i++) {
		uint32_t qi = msd_sim_sched_queue(dev, i == 0 ? l : i - 1);
		const struct msd_sim_queue *q = &dev->queues[qi];

		if (!q->jobs || q->level != l || msd_sim_sched_reclaimed(dev, qi))
			continue;
		if (best < 0 || q->jobs < dev->queues[best].jobs)
			best = (int)qi;
	}
	return best;
}

/*
 * msd_sim_sched_bind_locked - @job's entries go to queue @qi (from msd_sim_sched_queue_for_locked):
 * an idle queue takes @job's level and Q_PRIORITY, and @job's context stays on @qi until its
 * last job there completes.
 */
void msd_sim_sched_bind_locked(struct msd_sim_device *dev, struct msd_sim_job *job, uint32_t qi)
{
	struct msd_sim_queue *q = &dev->queues[qi];
	struct msd_sim_context *ctx = job->ctx;

	msd_sim_mutex_assert_held(&dev->lock);
	job->queue = qi;
	if (!q->jobs) {
		/* A soft reset keeps Q_PRIORITY, so a boost may outlive the jobs it was for. */
		q->boosted = false;
		q->starve_ms = 0;
		q->level = msd_sim_sched_lending(dev) ? ctx->level : q->home;
		msd_sim_sched_set_prio_locked(dev, qi, q->level);
	}
	if (!ctx->ring_jobs++)
		ctx->queue = qi;
}

/*
 * msd_sim_sched_job_done_locked - @job, on a ring, completed (after its queue's job count went
 * down): its context may leave the queue, the queue's starvation clock restarts, and a boosted
 * queue gets its level's Q_PRIORITY back.
 */
void msd_sim_sched_job_done_locked(struct msd_sim_device *dev, struct msd_sim_job *job)
{
	struct msd_sim_queue *q = &dev->queues[job->queue];

	msd_sim_mutex_assert_held(&dev->lock);
	job->ctx->ring_jobs--;
	q->starve_ms = 0;
	if (q->boosted) {
		msd_sim_sched_set_prio_locked(dev, job->queue, q->level);
		q->boosted = false;
	}
}

/* Whether a queue running a level above @level has jobs on its ring (holds the engine). */
static bool msd_sim_sched_higher_busy(const struct msd_sim_device *dev, uint32_t level)
{
	for (uint32_t qi = 0; qi < dev->queue_count; qi++) {
		if (dev->queues[qi].jobs && dev->queues[qi].level > level)
			return true;
	}
	return false;
}

/*
 * msd_sim_sched_age_locked - aging (see the file comment): start or stop each queue's starvation
 * clock, and raise Q_PRIORITY of a queue starved for MSD_SIM_STARVE_MS to 3. Device thread only
 * (a no-op in test mode); called after every round of processing.
 */
void msd_sim_sched_age_locked(struct msd_sim_device *dev)
{
	uint64_t now;

	msd_sim_mutex_assert_held(&dev->lock);
	if (!dev->threaded)
		return;
	dev->age_checks++;
	now = msd_sim_clock_ms(dev);
	for (uint32_t qi = 0; qi < dev->queue_count; qi++) {
		struct msd_sim_queue *q = &dev->queues[qi];

		if (q->boosted)
			continue;
		if (!q->jobs || q->level >= MSD_SIM_LEVELS - 1 ||
		    !msd_sim_sched_higher_busy(dev, q->level)) {
			q->starve_ms = 0;
			continue;
		}
		if (!q->starve_ms) {
			q->starve_ms = now ? now : 1;
		} else if (now - q->starve_ms >= MSD_SIM_STARVE_MS) {
			msd_sim_sched_set_prio_locked(dev, qi, MSD_SIM_LEVELS - 1);
			q->boosted = true;
		}
	}
}
