/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_sched.c - the scheduler: which ready job goes to which hardware queue next.
 *
 * Priorities: each context belongs to one of four levels from its magma_priority_t (LOW, MEDIUM,
 * HIGH, REALTIME = 0..3) and each level has its own hardware queue whose Q_PRIORITY is the level,
 * so the engine itself preempts lower levels at every unit boundary (command, 64 KiB chunk,
 * workgroup): a realtime job starts while a low-priority dispatch is between two workgroups, and
 * the dispatch continues afterwards. MEDIUM, the common default, keeps queue 0 (LOW 1, HIGH 2,
 * REALTIME 3), so single-level register traces look as before. A GPU with fewer queues folds
 * neighbouring levels onto one queue, which then runs the higher level's jobs first. One context
 * = one level = one queue, so a context's jobs keep submission order.
 * Time slicing and fairness within a level: while more than one context has ready jobs at a level,
 * at most MSD_SIM_SCHED_DEPTH jobs of its queue are on the ring (MSD_SIM_SCHED_DEPTH_ALONE for a
 * context alone there, so one streaming client keeps its throughput and a newcomer waits for at
 * most that many jobs before the turns start); when one retires, the next job is picked
 * round-robin across the connections with ready jobs at that level, then across that connection's
 * ready contexts, FIFO within a context. The slice is therefore one submission (its command buffers
 * run back to back), and a connection flooding the level gets one pick in N when N connections have
 * work. A picked job's connection (and context) moves to the back, new ones join at the back, so
 * every ready job is picked within a bounded number of picks (no starvation within a level).
 * Across levels priority is strict, as the hardware's, with aging against starvation: a queue
 * with work (ready or on its ring) that completes no job for MSD_SIM_STARVE_MS of host time while
 * a queue of a higher level has jobs on its ring gets Q_PRIORITY 3 until it completes one job,
 * then its own level back; equal priorities share the engine round-robin at unit boundaries, so
 * the starved queue makes progress and the higher one keeps most of the engine. Aging runs on
 * the device thread only (host time means nothing to a test stepping the virtual clock). Not done:
 * slicing inside a long job between equal-priority contexts: they share a queue, and the engine
 * interleaves only different queues; it would need a spare queue per context (or STOP on a timer
 * and reordering a stopped ring, which SIM-1 cannot do). Jobs of a killed context are dropped when
 * they reach the front. Device lock; the device thread, or a submitting thread for a lone ready job
 * (msd_sim_job_queue_locked).
 */
#include "msd_sim_internal.h"
#include "msd_sim_io.h"

/* Hardware queue of each level on a GPU with MSD_SIM_LEVELS queues or more. */
static const uint32_t msd_sim_level_queue[MSD_SIM_LEVELS] = {1, 0, 2, 3};

/* msd_sim_sched_init - no ready jobs at any level. */
void msd_sim_sched_init(struct msd_sim_sched *s)
{
	for (uint32_t l = 0; l < MSD_SIM_LEVELS; l++) {
		msd_sim_list_init(&s->level[l].conns);
		s->level[l].ready = 0;
	}
	s->ready = 0;
}

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

/* msd_sim_sched_queue - the hardware queue serving @level on @dev. */
uint32_t msd_sim_sched_queue(const struct msd_sim_device *dev, uint32_t level)
{
	if (dev->queue_count >= MSD_SIM_LEVELS)
		return msd_sim_level_queue[level];
	return level * dev->queue_count / MSD_SIM_LEVELS;
}

/* msd_sim_sched_connection_init - @conn has no ready contexts. Before @conn is shared. */
void msd_sim_sched_connection_init(struct msd_sim_connection *conn)
{
	for (uint32_t l = 0; l < MSD_SIM_LEVELS; l++) {
		msd_sim_list_init(&conn->sched_ctxs[l]);
		msd_sim_list_init(&conn->sched_link[l]);
	}
}

/* msd_sim_sched_context_init - @ctx at the level of @priority, no ready jobs. Before sharing. */
void msd_sim_sched_context_init(struct msd_sim_context *ctx, magma_priority_t priority)
{
	ctx->priority = priority;
	ctx->level = msd_sim_sched_level(priority);
	msd_sim_list_init(&ctx->ready);
	msd_sim_list_init(&ctx->ready_link);
}

/*
 * msd_sim_sched_program_locked - write Q_PRIORITY of every queue in use: the highest level it
 * serves. At bring-up and after a hard reset (which clears it), with the queues idle.
 */
void msd_sim_sched_program_locked(struct msd_sim_device *dev)
{
	msd_sim_mutex_assert_held(&dev->lock);
	for (uint32_t l = 0; l < MSD_SIM_LEVELS; l++)
		msd_sim_write32(dev, SIM_Q_PRIORITY(msd_sim_sched_queue(dev, l)), l);
	for (uint32_t qi = 0; qi < dev->queue_count; qi++) {
		dev->queues[qi].boosted = false;
		dev->queues[qi].starve_ms = 0;
	}
}

/* The priority queue @qi has when not boosted: the highest level it serves, or -1 for none. */
static int msd_sim_sched_queue_level(const struct msd_sim_device *dev, uint32_t qi)
{
	int level = -1;

	for (uint32_t l = 0; l < MSD_SIM_LEVELS; l++) {
		if (msd_sim_sched_queue(dev, l) == qi)
			level = (int)l;
	}
	return level;
}

/* Whether queue @qi has work: jobs on its ring or ready jobs at a level it serves. */
static bool msd_sim_sched_queue_has_work(const struct msd_sim_device *dev, uint32_t qi)
{
	if (dev->queues[qi].jobs)
		return true;
	for (uint32_t l = 0; l < MSD_SIM_LEVELS; l++) {
		if (msd_sim_sched_queue(dev, l) == qi && dev->sched.level[l].ready)
			return true;
	}
	return false;
}

/* Whether a queue of a level above @level has jobs on its ring (holds the engine). */
static bool msd_sim_sched_higher_busy(const struct msd_sim_device *dev, int level)
{
	for (uint32_t qi = 0; qi < dev->queue_count; qi++) {
		if (msd_sim_sched_queue_level(dev, qi) > level && dev->queues[qi].jobs)
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
	now = msd_sim_now_ms();
	for (uint32_t qi = 0; qi < dev->queue_count; qi++) {
		struct msd_sim_queue *q = &dev->queues[qi];
		int level = msd_sim_sched_queue_level(dev, qi);

		if (q->boosted || level < 0 || level >= (int)MSD_SIM_LEVELS - 1)
			continue;
		if (!msd_sim_sched_queue_has_work(dev, qi) ||
		    !msd_sim_sched_higher_busy(dev, level)) {
			q->starve_ms = 0;
			continue;
		}
		if (!q->starve_ms) {
			q->starve_ms = now ? now : 1;
		} else if (now - q->starve_ms >= MSD_SIM_STARVE_MS && q->jobs) {
			msd_sim_write32(dev, SIM_Q_PRIORITY(qi), MSD_SIM_LEVELS - 1);
			q->boosted = true;
		}
	}
}

/*
 * msd_sim_sched_job_done_locked - a job of queue @qi completed: its starvation clock restarts,
 * and a boosted queue gets its own level's Q_PRIORITY back.
 */
void msd_sim_sched_job_done_locked(struct msd_sim_device *dev, uint32_t qi)
{
	struct msd_sim_queue *q = &dev->queues[qi];

	msd_sim_mutex_assert_held(&dev->lock);
	q->starve_ms = 0;
	if (q->boosted) {
		uint32_t level = (uint32_t)msd_sim_sched_queue_level(dev, qi);

		msd_sim_write32(dev, SIM_Q_PRIORITY(qi), level);
		q->boosted = false;
	}
}

/*
 * msd_sim_sched_depth_locked - how many jobs ready @job's queue may have on its ring before @job
 * can join them: MSD_SIM_SCHED_DEPTH while other contexts have ready jobs at its level (or levels
 * share queues), else MSD_SIM_SCHED_DEPTH_ALONE.
 */
uint32_t msd_sim_sched_depth_locked(struct msd_sim_device *dev, struct msd_sim_job *job)
{
	uint32_t l = job->ctx->level;
	const struct msd_sim_list *conns = &dev->sched.level[l].conns;
	const struct msd_sim_list *ctxs = &job->ctx->conn->sched_ctxs[l];

	msd_sim_mutex_assert_held(&dev->lock);
	if (dev->queue_count < MSD_SIM_LEVELS || conns->next != conns->prev ||
	    ctxs->next != ctxs->prev)
		return MSD_SIM_SCHED_DEPTH;
	return MSD_SIM_SCHED_DEPTH_ALONE;
}

static struct msd_sim_connection *msd_sim_sched_conn(struct msd_sim_list *link, uint32_t level)
{
	return (struct msd_sim_connection *)((char *)(link - level) -
					     offsetof(struct msd_sim_connection, sched_link));
}

/* Put ready @job at the back (or the front) of its context's list; link context and connection. */
static void msd_sim_sched_link_locked(struct msd_sim_device *dev, struct msd_sim_job *job,
				      bool front) MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_context *ctx = job->ctx;
	struct msd_sim_connection *conn = ctx->conn;
	uint32_t l = ctx->level;

	job->state = MSD_SIM_JOB_READY;
	job->queue = msd_sim_sched_queue(dev, l);
	msd_sim_list_add_tail(front ? ctx->ready.next : &ctx->ready, &job->link);
	if (msd_sim_list_empty(&ctx->ready_link))
		msd_sim_list_add_tail(&conn->sched_ctxs[l], &ctx->ready_link);
	if (msd_sim_list_empty(&conn->sched_link[l]))
		msd_sim_list_add_tail(&dev->sched.level[l].conns, &conn->sched_link[l]);
	dev->sched.level[l].ready++;
	dev->sched.ready++;
}

/*
 * msd_sim_sched_add_locked - @job becomes ready at the back of its context. Returns true when it
 * is the only ready job of its level (the submitting thread may then write it itself).
 */
bool msd_sim_sched_add_locked(struct msd_sim_device *dev, struct msd_sim_job *job)
{
	msd_sim_mutex_assert_held(&dev->lock);
	msd_sim_sched_link_locked(dev, job, false);
	return dev->sched.level[job->ctx->level].ready == 1;
}

/*
 * msd_sim_sched_remove_locked - take ready @job off the scheduler. Its context moves behind the
 * connection's other ready contexts and its connection behind the level's other connections:
 * removing the job at the front is what a round-robin pick does.
 */
void msd_sim_sched_remove_locked(struct msd_sim_device *dev, struct msd_sim_job *job)
{
	struct msd_sim_context *ctx = job->ctx;
	struct msd_sim_connection *conn = ctx->conn;
	uint32_t l = ctx->level;

	msd_sim_mutex_assert_held(&dev->lock);
	msd_sim_list_del(&job->link);
	dev->sched.level[l].ready--;
	dev->sched.ready--;
	msd_sim_list_del(&ctx->ready_link);
	if (!msd_sim_list_empty(&ctx->ready))
		msd_sim_list_add_tail(&conn->sched_ctxs[l], &ctx->ready_link);
	msd_sim_list_del(&conn->sched_link[l]);
	if (!msd_sim_list_empty(&conn->sched_ctxs[l]))
		msd_sim_list_add_tail(&dev->sched.level[l].conns, &conn->sched_link[l]);
}

/* Move every ready job of @ctx to @out, in order. */
static void msd_sim_sched_take_context_locked(struct msd_sim_device *dev,
					      struct msd_sim_context *ctx, struct msd_sim_list *out)
	MSD_SIM_REQUIRES(dev->lock)
{
	while (!msd_sim_list_empty(&ctx->ready)) {
		struct msd_sim_job *job =
			msd_sim_container_of(ctx->ready.next, struct msd_sim_job, link);

		msd_sim_sched_remove_locked(dev, job);
		msd_sim_list_add_tail(out, &job->link);
	}
}

/* msd_sim_sched_take_locked - move the ready jobs of @ctx (of every context if NULL) to @out. */
void msd_sim_sched_take_locked(struct msd_sim_device *dev, struct msd_sim_context *ctx,
			       struct msd_sim_list *out)
{
	msd_sim_mutex_assert_held(&dev->lock);
	if (ctx) {
		msd_sim_sched_take_context_locked(dev, ctx, out);
		return;
	}
	for (uint32_t l = 0; l < MSD_SIM_LEVELS; l++) {
		while (!msd_sim_list_empty(&dev->sched.level[l].conns)) {
			struct msd_sim_connection *conn =
				msd_sim_sched_conn(dev->sched.level[l].conns.next, l);

			msd_sim_sched_take_context_locked(
				dev,
				msd_sim_container_of(conn->sched_ctxs[l].next,
						     struct msd_sim_context, ready_link),
				out);
		}
	}
}

/*
 * msd_sim_sched_requeue_locked - make the jobs on @jobs (taken back from the rings after a reset,
 * in ring order) ready again ahead of their contexts' other ready jobs, keeping their order.
 * @jobs is left empty.
 */
void msd_sim_sched_requeue_locked(struct msd_sim_device *dev, struct msd_sim_list *jobs)
{
	msd_sim_mutex_assert_held(&dev->lock);
	while (!msd_sim_list_empty(jobs)) {
		struct msd_sim_job *job =
			msd_sim_container_of(jobs->prev, struct msd_sim_job, link);

		msd_sim_list_del(&job->link);
		msd_sim_sched_link_locked(dev, job, true);
	}
}

/*
 * msd_sim_sched_run_locked - fill the queues from the highest level down: while a level has ready
 * jobs and its queue room under its depth limit, submit the round-robin pick.
 * A level stops at a pick that cannot go yet (ring room, AS slot, cores off on a thread other
 * than the device thread); it is retried after the next retirement or kick.
 */
void msd_sim_sched_run_locked(struct msd_sim_device *dev)
{
	msd_sim_mutex_assert_held(&dev->lock);
	for (uint32_t i = 0; i < MSD_SIM_LEVELS; i++) {
		uint32_t l = MSD_SIM_LEVELS - 1 - i;
		struct msd_sim_sched_level *lv = &dev->sched.level[l];

		while (lv->ready) {
			struct msd_sim_connection *conn = msd_sim_sched_conn(lv->conns.next, l);
			struct msd_sim_context *ctx = msd_sim_container_of(
				conn->sched_ctxs[l].next, struct msd_sim_context, ready_link);
			struct msd_sim_job *job =
				msd_sim_container_of(ctx->ready.next, struct msd_sim_job, link);

			if (ctx->killed) {
				msd_sim_sched_remove_locked(dev, job);
				msd_sim_job_free_locked(dev, job);
				continue;
			}
			if (!msd_sim_job_submit_locked(dev, job))
				break;
		}
	}
}
