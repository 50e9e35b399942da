/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_job.c - jobs: holding for wait semaphores, ring entries, retirement and fault handling.
 *
 * A job is one msd_context_execute_* submission. It is held on its context's list while it has
 * wait semaphores or an earlier job of the context is held (a context's jobs stay in submission
 * order), so only the head of each context's list can become ready: once all its wait semaphores
 * are signaled they are reset (except ONE_SHOT imports) and it goes to the scheduler
 * (msd_sim_sched.c), and is then written to a hardware queue's ring as one entry per command
 * buffer, each flagged IRQ|FENCE with the queue's next seqno and run in the connection's bound AS
 * slot. JOB_DONE makes the device thread read Q_SEQNO and retire every entry up to it; a job
 * whose last entry retires signals its semaphores, drops its mapping uses and buffer references
 * and sends MAGMA_SIM_NOTIFY_COMPLETED when asked. On JOB_FAULT the faulting context is killed:
 * its connection is told (MAGMA_SIM_NOTIFY_FAULT, then CONTEXT_KILLED), its later ring entries are
 * rewritten as empty jobs (they still retire in order, signalling nothing), its queued jobs are
 * dropped, and Q_COMMAND RESUME lets other contexts' work continue. Jobs that never complete
 * signal nothing; the client learns of the loss through the connection. Hang detection and GPU
 * reset recovery are in msd_sim_recovery.c; stopping the ring work of a destroyed context or a
 * closed connection in msd_sim_abandon.c (both take jobs back from a ring and requeue the
 * innocent ones through the helpers here). Device thread, lock;
 * a job ready at once is written to the ring by the submitting thread (msd_sim_job_queue_locked).
 */
#include <stdlib.h>
#include <string.h>

#include "magma_probe/probe.h"
#include "msd_sim_internal.h"
#include "msd_sim_io.h"

/* Free @job and its arrays (one block); it holds no references (any more). */
static void msd_sim_job_free_memory(struct msd_sim_job *job)
{
	if (job->mappings_heap)
		free(job->mappings);
	free(job);
}

/* msd_sim_job_add_mapping - see msd_sim_internal.h. Doubles the room when full. */
bool msd_sim_job_add_mapping(struct msd_sim_job *job, struct msd_sim_mapping *m)
{
	if (job->mapping_count == job->mapping_cap) {
		uint32_t cap =
			job->mapping_cap > UINT32_MAX / 2 ? UINT32_MAX : job->mapping_cap * 2;
		struct msd_sim_mapping **grown;

		if (cap == job->mapping_count)
			return false;
		grown = malloc((size_t)cap * sizeof(*grown));
		if (!grown)
			return false;
		memcpy(grown, job->mappings, (size_t)job->mapping_count * sizeof(*grown));
		if (job->mappings_heap)
			free(job->mappings);
		job->mappings = grown;
		job->mappings_heap = true;
		job->mapping_cap = cap;
	}
	job->mappings[job->mapping_count++] = m;
	return true;
}

/* @count items of @size at *@off (aligned to 8) in a block being laid out; false on overflow. */
static bool msd_sim_job_layout(size_t *off, size_t count, size_t size, size_t *at)
{
	size_t start = (*off + 7) & ~(size_t)7;

	if (start < *off || (count && size > (SIZE_MAX - start) / count))
		return false;
	*at = start;
	*off = start + count * size;
	return true;
}

/*
 * msd_sim_job_alloc - a zeroed job for @ctx with room for the given counts, in one allocation
 * (a submission costs one malloc, not one per array); takes a context reference (put by
 * msd_sim_job_free_locked). NULL when memory runs out. Caller holds dev->lock.
 */
struct msd_sim_job *msd_sim_job_alloc(struct msd_sim_context *ctx, uint32_t entries, uint32_t waits,
				      uint32_t signals, uint32_t resources)
{
	struct msd_sim_driver *drv = ctx->conn->dev->drv;
	size_t off = sizeof(struct msd_sim_job), at_entries, at_waits, at_signals, at_maps, at_bufs;
	struct msd_sim_job *job;
	char *block;

	if (!msd_sim_job_layout(&off, entries ? entries : 1, sizeof(*job->entries), &at_entries) ||
	    !msd_sim_job_layout(&off, waits ? waits : 1, sizeof(*job->wait_sems), &at_waits) ||
	    !msd_sim_job_layout(&off, signals ? signals : 1, sizeof(*job->signal_sems),
				&at_signals) ||
	    !msd_sim_job_layout(&off, (size_t)resources + entries + 1, sizeof(*job->mappings),
				&at_maps) ||
	    !msd_sim_job_layout(&off, resources ? resources : 1, sizeof(*job->buffers), &at_bufs))
		return NULL;
	block = msd_sim_calloc(drv, 1, off);
	if (!block)
		return NULL;
	job = (struct msd_sim_job *)block;
	job->entries = (struct msd_sim_job_entry *)(block + at_entries);
	job->wait_sems = (struct msd_sim_semaphore **)(block + at_waits);
	job->signal_sems = (struct msd_sim_semaphore **)(block + at_signals);
	job->mappings = (struct msd_sim_mapping **)(block + at_maps);
	job->mapping_cap = resources + entries + 1;
	job->buffers = (struct msd_sim_buffer **)(block + at_bufs);
	msd_sim_list_init(&job->link);
	job->ctx = ctx;
	ctx->refs++;
	msd_sim_work_add_locked(ctx->conn->dev, ctx->conn, 1, 0);
	return job;
}

/*
 * msd_sim_job_free_locked - release everything @job holds: semaphore and buffer references,
 * mapping uses (a mapping unmapped meanwhile is torn down now), its use of an inline-command
 * chunk and the context reference. A held job must have left its context's list already
 * (msd_sim_job_cancel_context_locked). May drop the lock to flush the GPU's TLB.
 */
void msd_sim_job_free_locked(struct msd_sim_device *dev, struct msd_sim_job *job)
{
	struct msd_sim_connection *conn = job->ctx->conn;

	msd_sim_mutex_assert_held(&dev->lock);
	msd_sim_list_del(&job->link);
	msd_sim_work_sub_locked(dev, conn, 1, 0);
	for (uint32_t i = 0; i < job->wait_count; i++)
		msd_sim_semaphore_put(job->wait_sems[i]);
	for (uint32_t i = 0; i < job->signal_count; i++)
		msd_sim_semaphore_put(job->signal_sems[i]);
	for (uint32_t i = 0; i < job->mapping_count; i++)
		msd_sim_mapping_put_use_locked(dev, conn, job->mappings[i]);
	for (uint32_t i = 0; i < job->buffer_count; i++)
		msd_sim_buffer_put(job->buffers[i]);
	if (job->inline_chunk)
		msd_sim_inline_put_locked(dev, job->inline_chunk);
	msd_sim_mutex_assert_held(&job->ctx->conn->dev->lock);
	msd_sim_context_put_locked(job->ctx);
	msd_sim_job_free_memory(job);
}

/*
 * msd_sim_job_queue_locked - hand a new job to the device: held when it has wait semaphores or
 * an earlier job of its context is held, else ready. A ready job that is the only ready job of its
 * level is submitted right here by the calling thread (ring entries, TAIL, DOORBELL) when a device
 * thread runs and its queue has room (the scheduler would pick it next anyway): waking that
 * thread to do the same would cost two thread switches per job. Anything else (held, queued
 * behind others, queue at its depth limit, no ring room or AS slot) is left to the device
 * thread.
 */
void msd_sim_job_queue_locked(struct msd_sim_device *dev, struct msd_sim_job *job)
{
	struct msd_sim_context *ctx = job->ctx;

	msd_sim_mutex_assert_held(&dev->lock);
	if (job->wait_count || !msd_sim_list_empty(&ctx->held)) {
		job->state = MSD_SIM_JOB_WAITING;
		if (msd_sim_list_empty(&ctx->held)) {
			/* A new head: the device thread must poll its semaphores. */
			msd_sim_list_add_tail(&dev->held_contexts, &ctx->held_link);
			dev->pollfds_dirty = true;
		}
		msd_sim_list_add_tail(&ctx->held, &job->link);
	} else {
		bool alone = msd_sim_sched_add_locked(dev, job);

		if (alone && dev->threaded && !msd_sim_context_is_abandoned(job->ctx)) {
			/* An idle GPU runs the job on this thread (msd_sim_irq_inline_locked). */
			bool armed = sim_inline_begin(dev->sim);
			bool submitted = msd_sim_job_submit_locked(dev, job);

			if (armed)
				msd_sim_irq_inline_locked(dev);
			if (submitted)
				return;
		}
	}
	msd_sim_device_kick_locked(dev);
}

static bool msd_sim_job_waits_signaled(struct msd_sim_job *job)
{
	for (uint32_t i = 0; i < job->wait_count; i++) {
		if (!msd_sim_semaphore_is_signaled(job->wait_sems[i]))
			return false;
	}
	return true;
}

/* Take held @job off its context's list; the context leaves dev->held_contexts when empty. */
static void msd_sim_job_unhold_locked(struct msd_sim_device *dev, struct msd_sim_job *job)
	MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_context *ctx = job->ctx;

	if (ctx->held.next == &job->link)
		dev->pollfds_dirty = true;
	msd_sim_list_del(&job->link);
	if (msd_sim_list_empty(&ctx->held))
		msd_sim_list_del(&ctx->held_link);
}

/*
 * msd_sim_job_check_waits_locked - move held jobs whose wait semaphores are all signaled to the
 * scheduler, in submission order per context, resetting those semaphores (ONE_SHOT imports stay
 * signaled). Only a context's head can be ready (a job still held blocks the later ones), so a
 * pass costs one check per context with held jobs plus one per job released. Device thread.
 */
void msd_sim_job_check_waits_locked(struct msd_sim_device *dev)
{
	struct msd_sim_list *pos, *tmp;

	msd_sim_mutex_assert_held(&dev->lock);
	msd_sim_list_for_each_safe(pos, tmp, &dev->held_contexts) {
		struct msd_sim_context *ctx =
			msd_sim_container_of(pos, struct msd_sim_context, held_link);

		while (!msd_sim_list_empty(&ctx->held)) {
			struct msd_sim_job *job =
				msd_sim_container_of(ctx->held.next, struct msd_sim_job, link);

			if (!msd_sim_job_waits_signaled(job))
				break;
			for (uint32_t i = 0; i < job->wait_count; i++) {
				if (!(job->wait_sems[i]->flags & MAGMA_IMPORT_SEMAPHORE_ONE_SHOT))
					msd_sim_semaphore_reset(job->wait_sems[i]);
			}
			msd_sim_job_unhold_locked(dev, job);
			msd_sim_sched_add_locked(dev, job);
		}
	}
}

static void msd_sim_ring_write_entry(struct msd_sim_queue *q, uint32_t idx, uint64_t cmd_va,
				     uint32_t cmd_size, uint16_t slot, uint16_t flags,
				     uint64_t seqno, uint64_t fence_va)
{
	uint8_t *e = (uint8_t *)q->ring.host + (size_t)idx * SIM_RING_ENTRY_SIZE;

	memcpy(e + SIM_RING_ENTRY_CMD_VA, &cmd_va, 8);
	memcpy(e + SIM_RING_ENTRY_CMD_SIZE, &cmd_size, 4);
	memcpy(e + SIM_RING_ENTRY_AS, &slot, 2);
	memcpy(e + SIM_RING_ENTRY_FLAGS, &flags, 2);
	memcpy(e + SIM_RING_ENTRY_SEQNO, &seqno, 8);
	memcpy(e + SIM_RING_ENTRY_FENCE_VA, &fence_va, 8);
}

static uint32_t msd_sim_queue_used(const struct msd_sim_queue *q)
{
	return (q->tail - q->head) & (q->size - 1);
}

static void msd_sim_job_complete_locked(struct msd_sim_device *dev, struct msd_sim_job *job)
	MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_connection *conn = job->ctx->conn;

	if (!job->faulted) {
		for (uint32_t i = 0; i < job->signal_count; i++)
			msd_sim_device_signal_locked(dev, job->signal_sems[i]);
		dev->jobs_completed++;
		if (job->flags & MAGMA_SIM_COMMAND_FLAG_NOTIFY) {
			struct magma_sim_notification n = {
				.type = MAGMA_SIM_NOTIFY_COMPLETED,
				.context_id = job->ctx->id,
				.sequence = job->sequence,
			};

			msd_sim_mutex_assert_held(&conn->dev->lock);
			msd_sim_connection_notify_locked(conn, &n, sizeof(n));
		}
	}
	msd_sim_job_free_locked(dev, job);
}

/*
 * msd_sim_job_submit_locked - write @job's ring entries from job->first_entry (0 but for work
 * resubmitted after a reset), TAIL and DOORBELL, powering the cores on first if they are off and
 * arming the hang watchdog; @job leaves the scheduler. Returns false (and changes nothing) when
 * it has no queue to go to (msd_sim_sched_queue_for_locked), that queue already has as many jobs
 * as msd_sim_sched_depth_locked allows, the ring lacks room, no AS slot can be bound, or the cores
 * are off and this is not the device thread: the job stays ready. Device thread, or the submitting
 * thread for a job ready at once (msd_sim_job_queue_locked).
 */
bool msd_sim_job_submit_locked(struct msd_sim_device *dev, struct msd_sim_job *job)
{
	int qi = msd_sim_sched_queue_for_locked(dev, job);
	struct msd_sim_queue *q;
	struct msd_sim_as *as = &job->ctx->conn->as;
	uint16_t flags = SIM_RING_FLAG_IRQ | SIM_RING_FLAG_FENCE;
	uint64_t first_seqno;

	msd_sim_mutex_assert_held(&dev->lock);
	if (qi < 0)
		return false;
	q = &dev->queues[qi];
	if (q->jobs >= msd_sim_sched_depth_locked(dev, job) ||
	    msd_sim_queue_used(q) + job->entry_count - job->first_entry > q->size - 1)
		return false;
	if (!msd_sim_power_up_locked(dev) || !msd_sim_as_bind_locked(dev, as))
		return false;
	msd_sim_sched_remove_locked(dev, job);
	msd_sim_sched_bind_locked(dev, job, (uint32_t)qi);
	job->state = MSD_SIM_JOB_RUNNING;
	q->jobs++;
	job->entries_left = job->entry_count - job->first_entry;
	first_seqno = q->last_seqno + 1;
	for (uint32_t i = job->first_entry; i < job->entry_count; i++) {
		uint64_t seqno = ++q->last_seqno;

		msd_sim_ring_write_entry(q, q->tail, job->entries[i].cmd_va,
					 job->entries[i].cmd_size, (uint16_t)as->slot, flags, seqno,
					 MSD_SIM_KERNEL_FENCE_VA + job->queue * 8ull);
		q->slots[q->tail].job = job;
		q->slots[q->tail].seqno = seqno;
		q->tail = (q->tail + 1) & (q->size - 1);
		as->inflight++;
	}
	if (dev->job_start_hook) {
		struct msd_sim_job_start start = {
			.connection = &job->ctx->conn->base,
			.context_id = job->ctx->id,
			.sequence = job->sequence,
			.queue = job->queue,
			.as_slot = (uint32_t)as->slot,
			.resubmitted = job->started,
			.first_seqno = first_seqno,
			.last_seqno = q->last_seqno,
		};

		dev->job_start_hook(dev->job_start_ctx, &start);
	}
	job->started = true;
	msd_sim_write32(dev, SIM_Q_TAIL(job->queue), q->tail);
	magma_probe_mark(MAGMA_PROBE_DOORBELL);
	msd_sim_write32(dev, SIM_Q_DOORBELL(job->queue), 1);
	msd_sim_watchdog_arm_locked(dev);
	return true;
}

/* Retire the oldest ring entry of @q; the job completes with its last entry. */
static void msd_sim_queue_retire_head_locked(struct msd_sim_device *dev, struct msd_sim_queue *q)
	MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_job *job = q->slots[q->head].job;

	q->slots[q->head].job = NULL;
	q->head = (q->head + 1) & (q->size - 1);
	job->ctx->conn->as.inflight--;
	if (--job->entries_left == 0) {
		q->jobs--;
		msd_sim_sched_job_done_locked(dev, job);
		msd_sim_job_complete_locked(dev, job);
	}
}

/* msd_sim_job_retire_queue_locked - retire every entry of queue @qi up to Q_SEQNO. */
void msd_sim_job_retire_queue_locked(struct msd_sim_device *dev, uint32_t qi)
{
	struct msd_sim_queue *q = &dev->queues[qi];
	uint64_t seqno = msd_sim_read64(dev, SIM_Q_SEQNO_LO(qi));

	msd_sim_mutex_assert_held(&dev->lock);
	while (q->head != q->tail && q->slots[q->head].seqno <= seqno)
		msd_sim_queue_retire_head_locked(dev, q);
}

/*
 * The driver's CPU view of the 4-byte word at @va in @job's address space, which the driver's
 * page tables translate to @pa: read through the memory the driver pinned there, never through
 * the GPU's bus. The word lies in a mapping the job holds a use of (its command buffers) or in
 * its inline-command chunk, so the memory is alive. NULL when neither holds @va, or when @pa is
 * not the frame the driver pinned for @va (an entry changed behind the driver's back, say by an
 * injected bit flip in a table): then the word is unreadable, as an unmapped frame was on the
 * bus.
 */
static const uint32_t *msd_sim_job_cpu_word(const struct msd_sim_job *job, uint64_t va, uint64_t pa)
{
	const uint64_t page_mask = SIM_PAGE_SIZE - 1;
	const struct msd_sim_inline_chunk *chunk = job->inline_chunk;

	if (va & 3)
		return NULL;
	if (chunk && va >= chunk->va && va - chunk->va < chunk->pages.count * SIM_PAGE_SIZE) {
		uint64_t off = va - chunk->va;

		if (chunk->pages.pa[off / SIM_PAGE_SIZE] != (pa & ~page_mask))
			return NULL;
		return (const uint32_t *)((const uint8_t *)chunk->pages.host + off);
	}
	for (uint32_t i = 0; i < job->mapping_count; i++) {
		const struct msd_sim_mapping *m = job->mappings[i];
		uint64_t off = va - m->gpu_va;

		if (va < m->gpu_va || off >= m->length)
			continue;
		if (m->pa[off / SIM_PAGE_SIZE] != (pa & ~page_mask))
			return NULL;
		return (const uint32_t *)(m->host + off);
	}
	return NULL;
}

/*
 * Record the commands of @job's faulting entry around @cmd_va, decoded through the driver's own
 * page tables and its CPU view of the pages behind them: up to 5 before the faulting one and 2
 * after.
 */
static void msd_sim_job_capture_commands_locked(struct msd_sim_device *dev,
						const struct msd_sim_job *job,
						const struct msd_sim_job_entry *entry,
						struct msd_sim_fault_record *rec)
	MSD_SIM_REQUIRES(dev->lock)
{
	uint64_t va = entry->cmd_va, end = entry->cmd_va + entry->cmd_size;
	struct msd_sim_as *as = &job->ctx->conn->as;
	uint32_t after = 0;

	msd_sim_mutex_assert_held(&dev->lock);
	rec->ncmds = 0;
	rec->at = MSD_SIM_FAULT_CMDS;
	while (va < end && after < 3) {
		const uint32_t *word;
		uint64_t pa;
		uint32_t hdr;

		if (!msd_sim_as_translate(as, va, &pa))
			break;
		word = msd_sim_job_cpu_word(job, va, pa);
		if (!word)
			break;
		/* The GPU never writes a command buffer, but a client may, concurrently. */
		hdr = __atomic_load_n(word, __ATOMIC_RELAXED);
		if (rec->ncmds == MSD_SIM_FAULT_CMDS) {
			memmove(rec->cmd_va, rec->cmd_va + 1, sizeof(rec->cmd_va) - 8);
			memmove(rec->hdr, rec->hdr + 1, sizeof(rec->hdr) - 4);
			rec->ncmds--;
			if (rec->at < MSD_SIM_FAULT_CMDS)
				rec->at--;
		}
		if (va == rec->cmd)
			rec->at = rec->ncmds;
		if (rec->at < MSD_SIM_FAULT_CMDS)
			after++;
		rec->cmd_va[rec->ncmds] = va;
		rec->hdr[rec->ncmds++] = hdr;
		va += 4 + 4ull * SIM_FIELD_GET(SIM_CMD_LEN, hdr);
	}
}

/* msd_sim_fault_record_log - log @rec (the last fault of queue @q) with its decoded commands. */
void msd_sim_fault_record_log(struct msd_sim_device *dev, int32_t level, uint32_t q,
			      const struct msd_sim_fault_record *rec)
{
	MSD_SIM_LOG(dev->drv, level,
		    "queue %u fault %s (%#x) at %#" PRIx64 ", command %#" PRIx64
		    ", context %u submission %" PRIu64,
		    q, sim_fault_name(rec->code), rec->code, rec->addr, rec->cmd, rec->context_id,
		    rec->sequence);
	for (uint32_t i = 0; i < rec->ncmds; i++) {
		uint32_t op = SIM_FIELD_GET(SIM_CMD_OPCODE, rec->hdr[i]);
		const char *name = sim_cmd_name(op);

		MSD_SIM_LOG(dev->drv, level, "  %s %#" PRIx64 ": %08x %s len %u",
			    i == rec->at ? "=>" : "  ", rec->cmd_va[i], rec->hdr[i],
			    name ? name : "(unknown)", SIM_FIELD_GET(SIM_CMD_LEN, rec->hdr[i]));
	}
}

/*
 * msd_sim_queue_neuter_locked - rewrite the ring entries of @q whose contexts are abandoned
 * (msd_sim_context_is_abandoned) as empty jobs: they retire in order and signal nothing, and the
 * GPU runs none of their commands. Only while @q fetches no entry: FAULTED, STOPPED or with a STOP
 * pending (docs/sim-gpu.md §5.6). Device lock.
 */
void msd_sim_queue_neuter_locked(struct msd_sim_queue *q)
{
	for (uint32_t i = q->head; i != q->tail; i = (i + 1) & (q->size - 1)) {
		struct msd_sim_job *job = q->slots[i].job;
		uint32_t zero = 0;

		if (!msd_sim_context_is_abandoned(job->ctx))
			continue;
		job->faulted = true;
		memcpy((uint8_t *)q->ring.host + (size_t)i * SIM_RING_ENTRY_SIZE +
			       SIM_RING_ENTRY_CMD_SIZE,
		       &zero, 4);
	}
}

/*
 * msd_sim_job_fault_locked - queue @qi stopped on a fault: retire what completed, kill the
 * context of the faulting entry (notify its connection, drop its queued work, neuter its later
 * ring entries), then RESUME the queue, which drops the faulting entry. Device thread.
 */
void msd_sim_job_fault_locked(struct msd_sim_device *dev, uint32_t qi)
{
	struct msd_sim_queue *q = &dev->queues[qi];
	uint32_t code = msd_sim_read32(dev, SIM_Q_FAULT_CODE(qi));
	uint64_t addr = msd_sim_read64(dev, SIM_Q_FAULT_ADDR_LO(qi));
	uint64_t cmd = msd_sim_read64(dev, SIM_Q_FAULT_CMD_LO(qi));
	struct msd_sim_job *job;
	struct msd_sim_context *ctx;

	msd_sim_mutex_assert_held(&dev->lock);
	struct msd_sim_fault_record *rec = &dev->last_fault[qi];

	msd_sim_job_retire_queue_locked(dev, qi);
	/*
	 * Faults have non-zero codes. Zero means a queue RESET or a GPU reset cleared the fault
	 * after the interrupt was raised (msd_sim_abandon.c, msd_sim_recovery.c): the job is gone
	 * and the head now is someone else's, which must not be blamed.
	 */
	if (!code)
		return;
	memset(rec, 0, sizeof(*rec));
	rec->valid = true;
	rec->code = code;
	rec->addr = addr;
	rec->cmd = cmd;
	if (q->head == q->tail) {
		msd_sim_fault_record_log(dev, MAGMA_LOG_ERROR, qi, rec);
		MSD_SIM_LOG(dev->drv, MAGMA_LOG_ERROR, "queue %u faulted with no job in flight",
			    qi);
		msd_sim_write32(dev, SIM_Q_COMMAND(qi), SIM_Q_COMMAND_RESUME);
		return;
	}
	job = q->slots[q->head].job;
	ctx = job->ctx;
	/* Retiring the job may drop the last reference (a context destroyed with work on the ring).
	 */
	ctx->refs++;
	dev->jobs_faulted++;
	rec->context_id = ctx->id;
	rec->sequence = job->sequence;
	msd_sim_job_capture_commands_locked(
		dev, job, &job->entries[job->entry_count - job->entries_left], rec);
	msd_sim_fault_record_log(dev, MAGMA_LOG_WARNING, qi, rec);
	if (!ctx->killed) {
		struct magma_sim_notification n = {
			.type = MAGMA_SIM_NOTIFY_FAULT,
			.context_id = ctx->id,
			.sequence = job->sequence,
			.fault_code = code,
			.fault_address = addr,
		};
		struct msd_notification_t killed = {
			.type = MSD_CONNECTION_NOTIFICATION_CONTEXT_KILLED};

		ctx->killed = true;
		msd_sim_mutex_assert_held(&ctx->conn->dev->lock);
		msd_sim_connection_notify_locked(ctx->conn, &n, sizeof(n));
		msd_sim_device_queue_notify_locked(dev, ctx->conn, &killed);
	}
	msd_sim_queue_neuter_locked(q);
	msd_sim_queue_retire_head_locked(dev, q);
	msd_sim_job_cancel_context_locked(dev, ctx);
	msd_sim_mutex_assert_held(&ctx->conn->dev->lock);
	msd_sim_context_put_locked(ctx);
	/* The faulted job's busy cycles (a WAIT that polled, a workgroup that ran long) must not
	 * count against the next job on this queue: restart the hang check's snapshot. */
	msd_sim_watchdog_restart_queue_locked(dev, qi);
	msd_sim_write32(dev, SIM_Q_COMMAND(qi), SIM_Q_COMMAND_RESUME);
}

/* Move every held job of @ctx to @doomed. */
static void msd_sim_job_take_held_locked(struct msd_sim_device *dev, struct msd_sim_context *ctx,
					 struct msd_sim_list *doomed) MSD_SIM_REQUIRES(dev->lock)
{
	while (!msd_sim_list_empty(&ctx->held)) {
		struct msd_sim_job *job =
			msd_sim_container_of(ctx->held.next, struct msd_sim_job, link);

		msd_sim_job_unhold_locked(dev, job);
		msd_sim_list_add_tail(doomed, &job->link);
	}
}

/*
 * msd_sim_job_cancel_context_locked - drop @ctx's jobs (every context's when NULL) that are not on
 * a ring yet (held or ready); they signal nothing. Work already on a ring runs to completion.
 */
void msd_sim_job_cancel_context_locked(struct msd_sim_device *dev, struct msd_sim_context *ctx)
{
	struct msd_sim_list doomed;

	msd_sim_mutex_assert_held(&dev->lock);
	/*
	 * Freeing may drop the lock (a flush on the device thread), so the victims leave the shared
	 * lists first; nothing else can reach them then.
	 */
	msd_sim_list_init(&doomed);
	if (ctx) {
		msd_sim_job_take_held_locked(dev, ctx, &doomed);
	} else {
		while (!msd_sim_list_empty(&dev->held_contexts))
			msd_sim_job_take_held_locked(dev,
						     msd_sim_container_of(dev->held_contexts.next,
									  struct msd_sim_context,
									  held_link),
						     &doomed);
	}
	msd_sim_sched_take_locked(dev, ctx, &doomed);
	while (!msd_sim_list_empty(&doomed))
		msd_sim_job_free_locked(
			dev, msd_sim_container_of(doomed.next, struct msd_sim_job, link));
}

/*
 * msd_sim_job_cancel_abandoned_locked - drop the held and ready jobs of @conn's abandoned contexts
 * (msd_sim_context_is_abandoned: destroyed, killed, or all of them once @conn is closed); they
 * signal nothing. Work on a ring is msd_sim_abandon.c's.
 */
void msd_sim_job_cancel_abandoned_locked(struct msd_sim_device *dev,
					 struct msd_sim_connection *conn)
{
	struct msd_sim_list doomed, *pos, *tmp;

	msd_sim_mutex_assert_held(&dev->lock);
	msd_sim_list_init(&doomed);
	msd_sim_list_for_each_safe(pos, tmp, &dev->held_contexts) {
		struct msd_sim_context *ctx =
			msd_sim_container_of(pos, struct msd_sim_context, held_link);

		if (ctx->conn == conn && msd_sim_context_is_abandoned(ctx))
			msd_sim_job_take_held_locked(dev, ctx, &doomed);
	}
	for (uint32_t l = 0; l < MSD_SIM_LEVELS; l++) {
		/* Taking a context's jobs moves it behind the others, then unlinks it. */
		msd_sim_list_for_each_safe(pos, tmp, &conn->sched_ctxs[l]) {
			struct msd_sim_context *ctx =
				msd_sim_container_of(pos, struct msd_sim_context, ready_link);

			if (msd_sim_context_is_abandoned(ctx))
				msd_sim_sched_take_locked(dev, ctx, &doomed);
		}
	}
	while (!msd_sim_list_empty(&doomed))
		msd_sim_job_free_locked(
			dev, msd_sim_container_of(doomed.next, struct msd_sim_job, link));
}

/*
 * msd_sim_queue_take_back_locked - the driver's side of a queue RESET or GPU reset, which
 * discarded queue @qi's ring: every entry not retired leaves the ring bookkeeping, and each job
 * that had one is appended to @jobs once, in ring order. Their contexts may take another queue
 * when the jobs are resubmitted (msd_sim_job_requeue_locked). Retire up to Q_SEQNO first.
 */
void msd_sim_queue_take_back_locked(struct msd_sim_device *dev, uint32_t qi,
				    struct msd_sim_list *jobs)
{
	struct msd_sim_queue *q = &dev->queues[qi];

	msd_sim_mutex_assert_held(&dev->lock);
	while (q->head != q->tail) {
		struct msd_sim_job *job = q->slots[q->head].job;

		q->slots[q->head].job = NULL;
		q->head = (q->head + 1) & (q->size - 1);
		job->ctx->conn->as.inflight--;
		job->ctx->ring_jobs = 0; /* all of a context's ring jobs are on this queue */
		if (msd_sim_list_empty(&job->link))
			msd_sim_list_add_tail(jobs, &job->link);
	}
	q->jobs = 0;
}

/*
 * msd_sim_job_requeue_locked - jobs taken back from a ring (msd_sim_queue_take_back_locked), in
 * ring order: those of abandoned contexts, or already rewritten as empty, are freed without
 * signalling; the others go back to the scheduler ahead of their contexts' other ready jobs, in
 * their order, to be written again from their first command buffer that had not retired. @jobs
 * is left empty.
 */
void msd_sim_job_requeue_locked(struct msd_sim_device *dev, struct msd_sim_list *jobs)
{
	struct msd_sim_list keep;

	msd_sim_mutex_assert_held(&dev->lock);
	msd_sim_list_init(&keep);
	while (!msd_sim_list_empty(jobs)) {
		struct msd_sim_job *job =
			msd_sim_container_of(jobs->next, struct msd_sim_job, link);

		msd_sim_list_del(&job->link);
		if (job->faulted || msd_sim_context_is_abandoned(job->ctx)) {
			job->faulted = true;
			msd_sim_job_free_locked(dev, job);
			continue;
		}
		job->first_entry = job->entry_count - job->entries_left;
		msd_sim_list_add_tail(&keep, &job->link);
	}
	msd_sim_sched_requeue_locked(dev, &keep);
}

/*
 * msd_sim_job_cancel_all_locked - device teardown with the threads and the GPU stopped: every job,
 * queued or on a ring, is dropped without signalling. Ring bookkeeping returns to empty.
 */
void msd_sim_job_cancel_all_locked(struct msd_sim_device *dev)
{
	msd_sim_job_cancel_context_locked(dev, NULL);
	for (uint32_t qi = 0; qi < dev->queue_count; qi++) {
		struct msd_sim_queue *q = &dev->queues[qi];

		while (q->head != q->tail) {
			q->slots[q->head].job->faulted = true;
			msd_sim_queue_retire_head_locked(dev, q);
		}
	}
}
