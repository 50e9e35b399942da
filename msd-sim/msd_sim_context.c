/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_context.c - contexts and the two submission entry points.
 *
 * A context is a submission stream over its connection's address space. Execution validates
 * the descriptor completely before anything is queued: every command buffer must lie inside its
 * resource, be 4-byte aligned at both ends and lie inside one live mapping of this connection
 * (its GPU VA is where that mapping puts start_offset); otherwise INVALID_ARGS. The job takes
 * references on the semaphores and resource buffers and a use on every live mapping that
 * overlaps a listed resource range or holds a command buffer, so unmapping them defers until the
 * job retires. Resources that are not mapped are accepted (they pin nothing). Inline commands are
 * copied into driver-owned pages mapped read-only above MAGMA_SIM_GPU_VA_LIMIT (msd_sim_inline.c)
 * and run like a command buffer. A submission without command buffers becomes one empty ring
 * entry, so its semaphores fire only after the work queued before it (a fence). A killed context
 * refuses work with CONTEXT_KILLED, a context of a closed connection with CONNECTION_LOST.
 * Destroying a context abandons its work, running or not (msd_sim_abandon.c). A connection with
 * MSD_SIM_MAX_CONNECTION_JOBS submissions not yet retired, or MSD_SIM_MAX_INLINE_BYTES of
 * inline-command memory, gets MEMORY_ERROR for the next one (never a wait: the submitting thread
 * may be the one that would signal the held work's semaphores later). Connection thread; state
 * under the device lock.
 */
#include <stdlib.h>
#include <string.h>

#include "magma_probe/probe.h"
#include "msd_sim_internal.h"

static struct msd_sim_context *msd_sim_context_from(struct msd_context_t *c)
{
	if (!c || c->magic_ != MSD_SIM_CONTEXT_MAGIC)
		return NULL;
	return (struct msd_sim_context *)c;
}

/*
 * msd_connection_create_context - see msd.h. @priority picks the scheduling level (and so the
 * hardware queue) of every job of the context (msd_sim_sched.c); any value is accepted.
 */
struct msd_context_t *msd_connection_create_context(struct msd_connection_t *c,
						    magma_priority_t priority)
{
	struct msd_sim_connection *conn = msd_sim_connection_from(c);
	struct msd_sim_context *ctx;

	if (!conn) {
		MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad connection");
		return NULL;
	}
	ctx = msd_sim_calloc(conn->dev->drv, 1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	ctx->base.magic_ = MSD_SIM_CONTEXT_MAGIC;
	ctx->conn = conn;
	msd_sim_sched_context_init(ctx, priority);
	ctx->refs = 1;
	msd_sim_list_init(&ctx->held);
	msd_sim_list_init(&ctx->held_link);
	msd_sim_mutex_lock(&conn->dev->lock);
	ctx->id = conn->next_context_id++;
	msd_sim_connection_get_locked(conn);
	msd_sim_mutex_unlock(&conn->dev->lock);
	return &ctx->base;
}

/* msd_sim_context_put_locked - drop a reference; the last drops the connection's. */
void msd_sim_context_put_locked(struct msd_sim_context *ctx)
{
	struct msd_sim_connection *conn = ctx->conn;

	msd_sim_mutex_assert_held(&ctx->conn->dev->lock);
	if (--ctx->refs)
		return;
	ctx->base.magic_ = MSD_SIM_DEAD_MAGIC;
	free(ctx);
	msd_sim_mutex_assert_held(&conn->dev->lock);
	msd_sim_connection_put_locked(conn);
}

/*
 * msd_context_destroy - see msd.h. The context's work is abandoned: queued jobs are dropped, and
 * its work on a ring is stopped by the device thread (msd_sim_abandon.c); none of it signals.
 */
void msd_context_destroy(struct msd_context_t *c)
{
	struct msd_sim_context *ctx = msd_sim_context_from(c);
	struct msd_sim_device *dev;

	if (!ctx) {
		MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad context");
		return;
	}
	dev = ctx->conn->dev;
	msd_sim_mutex_lock(&dev->lock);
	ctx->destroyed = true;
	ctx->base.magic_ = MSD_SIM_DEAD_MAGIC;
	msd_sim_job_cancel_context_locked(dev, ctx);
	/* Only the device thread touches the queues; it is asked only when there is GPU work. */
	if (ctx->ring_jobs)
		msd_sim_abandon_locked(dev, ctx->conn);
	msd_sim_mutex_assert_held(&ctx->conn->dev->lock);
	msd_sim_context_put_locked(ctx);
	msd_sim_mutex_unlock(&dev->lock);
}

/* Validate the handles of @desc without touching any state. */
static magma_status_t msd_sim_check_descriptor(const struct msd_command_descriptor *desc)
{
	if (desc->flags & ~MAGMA_SIM_COMMAND_FLAG_NOTIFY)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "descriptor flags %#" PRIx64,
				   desc->flags);
	if (desc->command_buffer_count > MSD_SIM_MAX_COMMAND_BUFFERS)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "%u command buffers",
				   desc->command_buffer_count);
	if ((desc->command_buffer_count && !desc->command_buffers) ||
	    (desc->resource_count && (!desc->exec_resources || !desc->buffers)) ||
	    (desc->wait_semaphore_count && !desc->wait_semaphores) ||
	    (desc->signal_semaphore_count && !desc->signal_semaphores))
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "NULL array in descriptor");
	for (uint32_t i = 0; i < desc->resource_count; i++) {
		if (!msd_sim_buffer_from(desc->buffers[i]))
			return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad buffer %u", i);
	}
	for (uint32_t i = 0; i < desc->wait_semaphore_count; i++) {
		if (!msd_sim_semaphore_from(desc->wait_semaphores[i]))
			return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad wait semaphore %u", i);
	}
	for (uint32_t i = 0; i < desc->signal_semaphore_count; i++) {
		if (!msd_sim_semaphore_from(desc->signal_semaphores[i]))
			return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad signal semaphore %u", i);
	}
	return MAGMA_STATUS_OK;
}

/* Resolve command buffer @i of @desc to a GPU VA and size; takes a use on its mapping. */
static magma_status_t
msd_sim_resolve_command_buffer_locked(struct msd_sim_connection *conn,
				      const struct msd_command_descriptor *desc, uint32_t i,
				      struct msd_sim_job *job) MSD_SIM_REQUIRES(conn->dev->lock)
{
	const struct magma_exec_command_buffer *cb = &desc->command_buffers[i];
	const struct magma_exec_resource *res;
	struct msd_sim_buffer *buf;
	struct msd_sim_mapping *m;
	uint64_t start = cb->start_offset, end;

	if (cb->resource_index >= desc->resource_count)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "command buffer %u: resource %u", i,
				   cb->resource_index);
	res = &desc->exec_resources[cb->resource_index];
	buf = msd_sim_buffer_from(desc->buffers[cb->resource_index]);
	end = res->offset + res->length;
	if (end < res->offset || end > buf->size || start < res->offset || start >= end ||
	    (start | end) & 3 || end - start > UINT32_MAX)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS,
				   "command buffer %u: bytes %#" PRIx64 "..%#" PRIx64
				   " of resource %#" PRIx64 "+%#" PRIx64
				   " in a buffer of %#" PRIx64,
				   i, start, end, res->offset, res->length, buf->size);
	m = msd_sim_connection_find_mapping_locked(conn, buf, start, end - start);
	if (!m)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS,
				   "command buffer %u: bytes %#" PRIx64 "..%#" PRIx64 " not mapped",
				   i, start, end);
	job->entries[i].cmd_va = m->gpu_va + (start - m->offset);
	job->entries[i].cmd_size = (uint32_t)(end - start);
	if (!msd_sim_job_add_mapping(job, m))
		return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "out of memory");
	m->uses++;
	return MAGMA_STATUS_OK;
}

/* Take a use on every live mapping overlapping resource @i, and a buffer reference. */
static void msd_sim_pin_resource_locked(struct msd_sim_connection *conn,
					const struct msd_command_descriptor *desc, uint32_t i,
					struct msd_sim_job *job) MSD_SIM_REQUIRES(conn->dev->lock)
{
	const struct magma_exec_resource *res = &desc->exec_resources[i];
	struct msd_sim_buffer *buf = msd_sim_buffer_from(desc->buffers[i]);
	struct msd_sim_mapping *m;

	msd_sim_buffer_get(buf);
	job->buffers[job->buffer_count++] = buf;
	m = msd_sim_connection_overlapping_locked(conn, buf, res->offset, res->length);
	for (; m; m = m->work_next) {
		if (!msd_sim_job_add_mapping(job, m))
			continue; /* the buffer reference still keeps the memory alive */
		m->uses++;
	}
}

/*
 * Whether @ctx may take another submission: not killed, its connection open and under its job
 * limit.
 */
static magma_status_t msd_sim_context_can_submit_locked(struct msd_sim_context *ctx)
	MSD_SIM_REQUIRES(ctx->conn->dev->lock)
{
	if (ctx->killed)
		return MSD_SIM_RET(MAGMA_STATUS_CONTEXT_KILLED, "context %u was killed", ctx->id);
	if (ctx->conn->closed)
		return MSD_SIM_RET(MAGMA_STATUS_CONNECTION_LOST, "context %u: connection closed",
				   ctx->id);
	return msd_sim_work_check_locked(ctx->conn->dev, ctx->conn, 1, 0);
}

/* msd_context_execute_command_buffers - see msd.h and the file comment. */
magma_status_t msd_context_execute_command_buffers(struct msd_context_t *c,
						   const struct msd_command_descriptor *desc)
{
	struct msd_sim_context *ctx = msd_sim_context_from(c);
	struct msd_sim_connection *conn;
	struct msd_sim_device *dev;
	struct msd_sim_job *job;
	magma_status_t status;

	magma_probe_mark(MAGMA_PROBE_DRIVER_SUBMIT);
	if (!ctx || !desc)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad context or descriptor");
	status = msd_sim_check_descriptor(desc);
	if (status != MAGMA_STATUS_OK)
		return status;
	conn = ctx->conn;
	dev = conn->dev;
	msd_sim_mutex_lock(&dev->lock);
	msd_sim_mutex_assert_held(&ctx->conn->dev->lock);
	status = msd_sim_context_can_submit_locked(ctx);
	if (status != MAGMA_STATUS_OK)
		goto err_unlock;
	msd_sim_mutex_assert_held(&conn->dev->lock);
	msd_sim_mutex_assert_held(&ctx->conn->dev->lock);
	job = msd_sim_job_alloc(ctx, desc->command_buffer_count, desc->wait_semaphore_count,
				desc->signal_semaphore_count, desc->resource_count);
	if (!job) {
		status = MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "out of memory");
		goto err_unlock;
	}
	/* Without command buffers the job is one empty ring entry: it completes in order. */
	job->entry_count = desc->command_buffer_count ? desc->command_buffer_count : 1;
	for (uint32_t i = 0; i < desc->command_buffer_count; i++) {
		status = msd_sim_resolve_command_buffer_locked(conn, desc, i, job);
		if (status != MAGMA_STATUS_OK)
			goto err_free_job;
	}
	for (uint32_t i = 0; i < desc->resource_count; i++)
		msd_sim_pin_resource_locked(conn, desc, i, job);
	for (uint32_t i = 0; i < desc->wait_semaphore_count; i++) {
		job->wait_sems[i] = msd_sim_semaphore_from(desc->wait_semaphores[i]);
		msd_sim_semaphore_get(job->wait_sems[i]);
		job->wait_count++;
	}
	for (uint32_t i = 0; i < desc->signal_semaphore_count; i++) {
		job->signal_sems[i] = msd_sim_semaphore_from(desc->signal_semaphores[i]);
		msd_sim_semaphore_get(job->signal_sems[i]);
		job->signal_count++;
	}
	job->flags = desc->flags;
	job->sequence = conn->next_sequence++;
	msd_sim_job_queue_locked(dev, job);
	msd_sim_mutex_unlock(&dev->lock);
	return MAGMA_STATUS_OK;

err_free_job:
	msd_sim_job_free_locked(dev, job);
err_unlock:
	msd_sim_mutex_unlock(&dev->lock);
	return status;
}

/* msd_context_execute_inline_commands - see msd.h and the file comment. */
magma_status_t msd_context_execute_inline_commands(struct msd_context_t *c, uint64_t size,
						   const void *commands, uint64_t semaphore_count,
						   struct msd_semaphore_t **semaphores)
{
	struct msd_sim_context *ctx = msd_sim_context_from(c);
	struct msd_sim_connection *conn;
	struct msd_sim_device *dev;
	struct msd_sim_job *job;
	magma_status_t status;

	if (!ctx)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad context");
	if (!size || size & 3 || size > MSD_SIM_INLINE_MAX || !commands)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS,
				   "inline commands of %" PRIu64 " bytes", size);
	if (semaphore_count > UINT32_MAX || (semaphore_count && !semaphores))
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad semaphore list");
	for (uint64_t i = 0; i < semaphore_count; i++) {
		if (!msd_sim_semaphore_from(semaphores[i]))
			return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad semaphore %" PRIu64, i);
	}
	conn = ctx->conn;
	dev = conn->dev;
	msd_sim_mutex_lock(&dev->lock);
	msd_sim_mutex_assert_held(&ctx->conn->dev->lock);
	status = msd_sim_context_can_submit_locked(ctx);
	if (status != MAGMA_STATUS_OK)
		goto err_unlock;
	msd_sim_mutex_assert_held(&ctx->conn->dev->lock);
	job = msd_sim_job_alloc(ctx, 1, 0, (uint32_t)semaphore_count, 0);
	if (!job) {
		status = MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "out of memory");
		goto err_unlock;
	}
	status = msd_sim_inline_alloc_locked(dev, conn, commands, size, &job->inline_chunk,
					     &job->entries[0].cmd_va);
	if (status != MAGMA_STATUS_OK)
		goto err_free_job;
	job->entry_count = 1;
	job->entries[0].cmd_size = (uint32_t)size;
	for (uint32_t i = 0; i < semaphore_count; i++) {
		job->signal_sems[i] = msd_sim_semaphore_from(semaphores[i]);
		msd_sim_semaphore_get(job->signal_sems[i]);
		job->signal_count++;
	}
	job->sequence = conn->next_sequence++;
	msd_sim_job_queue_locked(dev, job);
	msd_sim_mutex_unlock(&dev->lock);
	return MAGMA_STATUS_OK;

err_free_job:
	msd_sim_job_free_locked(dev, job);
err_unlock:
	msd_sim_mutex_unlock(&dev->lock);
	return status;
}
