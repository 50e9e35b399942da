/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_sched.c - the scheduler's ready lists: which ready job is written to a ring next.
 *
 * Each context belongs to one of four levels from its magma_priority_t; which hardware queue a
 * job goes to, and the queues' Q_PRIORITY, are msd_sim_sched_queue.c's. Levels are served from
 * the highest down. Within a level: round-robin across the connections with ready jobs there,
 * then across that connection's ready contexts, FIFO within a context. A picked job's connection
 * (and context) moves to the back, new ones join at the back, and a job that cannot go yet (its
 * queue full, or being returned to its lender) keeps its place while the next in the order is
 * tried, so every ready job is picked within a bounded number of picks (no starvation within a
 * level) and a connection flooding the level gets one pick in N when N connections have work.
 * Equal-priority contexts on separate queues share the engine workgroup by workgroup; those
 * sharing one queue take turns at job boundaries: while more than one context has ready jobs at
 * a level, at most MSD_SIM_SCHED_DEPTH jobs of a queue are on its ring (MSD_SIM_SCHED_DEPTH_ALONE
 * for a context alone there, so one streaming client keeps its throughput). The slice is one
 * submission (its command buffers run back to back). Jobs of an abandoned context (killed,
 * destroyed, or of a closed connection) are dropped when they reach the front. Device lock; the
 * device thread, or a submitting thread for a lone ready job (msd_sim_job_queue_locked).
 */
#include "msd_sim_internal.h"
#include "msd_sim_io.h"

/* msd_sim_sched_init - no ready jobs at any level. */
void msd_sim_sched_init(struct msd_sim_sched *s)
{
	for (uint32_t l = 0; l < MSD_SIM_LEVELS; l++) {
		msd_sim_list_init(&s->level[l].conns);
		s->level[l].ready = 0;
	}
	s->ready = 0;
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
	ctx->ring_jobs = 0;
	ctx->queue = 0;
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
 * Submit the first ready job of level @l, in round-robin order, that can go now; false when none
 * can. A job that must wait (its queue full or being returned to its lender, no ring room or AS
 * slot) keeps its place, and the next context in the order is tried: one context waiting for its
 * own queue does not hold up the others of its level, which may have queues of their own.
 */
static bool msd_sim_sched_run_one_locked(struct msd_sim_device *dev, uint32_t l)
	MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_list *conns = &dev->sched.level[l].conns;

	for (struct msd_sim_list *cl = conns->next; cl != conns; cl = cl->next) {
		struct msd_sim_list *ctxs = &msd_sim_sched_conn(cl, l)->sched_ctxs[l];

		for (struct msd_sim_list *xl = ctxs->next; xl != ctxs; xl = xl->next) {
			struct msd_sim_context *ctx =
				msd_sim_container_of(xl, struct msd_sim_context, ready_link);
			struct msd_sim_job *job =
				msd_sim_container_of(ctx->ready.next, struct msd_sim_job, link);

			if (msd_sim_context_is_abandoned(ctx)) {
				msd_sim_sched_remove_locked(dev, job);
				msd_sim_job_free_locked(dev, job);
				return true;
			}
			if (msd_sim_job_submit_locked(dev, job))
				return true;
		}
	}
	return false;
}

/*
 * msd_sim_sched_run_locked - fill the queues from the highest level down: while a level has a
 * ready job that can go (msd_sim_sched_run_one_locked), submit it. What cannot go yet is retried
 * after the next retirement or kick.
 */
void msd_sim_sched_run_locked(struct msd_sim_device *dev)
{
	msd_sim_mutex_assert_held(&dev->lock);
	for (uint32_t i = 0; i < MSD_SIM_LEVELS; i++) {
		uint32_t l = MSD_SIM_LEVELS - 1 - i;

		while (dev->sched.level[l].ready && msd_sim_sched_run_one_locked(dev, l))
			;
	}
}
