/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_device.c - the device: bring-up, the device thread, requests, queries and teardown.
 *
 * msd_driver_create_device resets the GPU (HARD_RESET, wait for RESET_DONE), unmasks every
 * interrupt cause, powers every core (CORES_ON, wait for POWER_CHANGED), reads the configuration,
 * builds the kernel address space in slot 0 (one ring per hardware queue and a fence page), and
 * starts the device thread. The GPU's clock is not the driver's: the host that created the sim
 * runs it (sim_start) from before msd_driver_create_device until msd_device_destroy has returned
 * (msd_sim_hooks.h), as a board powers and clocks a GPU before its driver probes it and after the
 * driver is removed. The device thread owns register access: it
 * takes and handles interrupts (there is no separate interrupt thread), runs requests posted by
 * other threads (synchronous ones through msd_sim_device_call_locked), releases held jobs whose
 * wait semaphores became signaled, runs the scheduler, and delivers notifications with the lock
 * dropped. (A submitting thread whose job is ready at once rings the doorbell itself, saving the
 * hand-off; see msd_sim_job_queue_locked.) It sleeps in poll() on a wake eventfd, the sim's IRQ
 * eventfd and the wait semaphores of the first held job of each context (only those can become
 * ready), so one sleep covers requests, interrupts and semaphores and nothing busy-waits; the fd
 * set is rebuilt only when such a head job changes. Other threads write the wake eventfd only
 * when no wake is pending already. Queries and the status dump (registers decoded next to the
 * driver's view) live here too. The poll timeout is the idle power-down's; power management, hang
 * checks and recovery resets are in msd_sim_recovery.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "msd_sim_internal.h"
#include "msd_sim_io.h"

/* msd_sim_device_from - @d as a live msd-sim device, or NULL when the magic is wrong. */
struct msd_sim_device *msd_sim_device_from(struct msd_device_t *d)
{
	if (!d || d->magic_ != MSD_SIM_DEVICE_MAGIC)
		return NULL;
	return (struct msd_sim_device *)d;
}

/*
 * Bring-up wait: sleep on the IRQ line (the causes are unmasked) until @bits show in RAWSTAT,
 * then clear them. Returns false after MSD_SIM_WAIT_MS.
 */
static bool msd_sim_device_wait_raw(struct msd_sim_device *dev, uint32_t bits)
{
	struct pollfd p = {.fd = sim_irq_fd(dev->sim), .events = POLLIN};
	uint64_t deadline = msd_sim_now_ms() + MSD_SIM_WAIT_MS;

	for (;;) {
		uint64_t drain;

		if ((msd_sim_read32(dev, SIM_GPU_IRQ_RAWSTAT) & bits) == bits) {
			msd_sim_write32(dev, SIM_GPU_IRQ_CLEAR, bits);
			return true;
		}
		if (msd_sim_now_ms() >= deadline)
			return false;
		if (poll(&p, 1, 10) == 1 && read(p.fd, &drain, sizeof(drain)) < 0)
			continue;
	}
}

/* HARD_RESET, then power every core; reads identity and configuration. */
static magma_status_t msd_sim_device_reset_and_power(struct msd_sim_device *dev)
{
	uint32_t ready;

	msd_sim_write32(dev, SIM_GPU_COMMAND, SIM_GPU_COMMAND_HARD_RESET);
	msd_sim_write32(dev, SIM_GPU_IRQ_MASK, SIM_IRQ_RESET_DONE);
	if (!msd_sim_device_wait_raw(dev, SIM_IRQ_RESET_DONE)) {
		/* The one mistake a host makes here: see msd_sim_hooks.h. */
		MSD_SIM_LOG(dev->drv, MAGMA_LOG_ERROR,
			    "no RESET_DONE %d ms after HARD_RESET: is the GPU's clock running "
			    "(sim_start)?",
			    MSD_SIM_WAIT_MS);
		return MSD_SIM_RET(MAGMA_STATUS_TIMED_OUT, "no RESET_DONE after HARD_RESET");
	}
	dev->gpu_id = msd_sim_read32(dev, SIM_GPU_ID);
	dev->vendor = msd_sim_read32(dev, SIM_GPU_VENDOR);
	dev->features = msd_sim_read32(dev, SIM_GPU_FEATURES);
	dev->config0 = msd_sim_read32(dev, SIM_GPU_CONFIG0);
	dev->config1 = msd_sim_read32(dev, SIM_GPU_CONFIG1);
	dev->clock_khz = msd_sim_read32(dev, SIM_GPU_CLOCK_KHZ);
	dev->cores_present = msd_sim_read32(dev, SIM_PWR_CORES_PRESENT);
	dev->as_slots = SIM_FIELD_GET(SIM_CONFIG0_AS_SLOTS, dev->config0);
	dev->queue_count = SIM_FIELD_GET(SIM_CONFIG0_QUEUES, dev->config0);
	if (dev->vendor != SIM_VENDOR_ID || dev->as_slots < 2 || dev->as_slots > SIM_AS_MAX ||
	    !dev->queue_count || dev->queue_count > SIM_QUEUE_MAX || !dev->clock_khz)
		return MSD_SIM_RET(MAGMA_STATUS_INTERNAL_ERROR,
				   "unsupported GPU: vendor %#x config0 %#x", dev->vendor,
				   dev->config0);
	msd_sim_write32(dev, SIM_GPU_IRQ_MASK, SIM_IRQ_POWER_CHANGED);
	msd_sim_write32(dev, SIM_PWR_CORES_ON, dev->cores_present);
	if (!msd_sim_device_wait_raw(dev, SIM_IRQ_POWER_CHANGED))
		return MSD_SIM_RET(MAGMA_STATUS_TIMED_OUT, "no POWER_CHANGED after CORES_ON");
	ready = msd_sim_read32(dev, SIM_PWR_CORES_READY);
	if (ready != dev->cores_present)
		MSD_SIM_LOG(dev->drv, MAGMA_LOG_WARNING, "cores ready %#x of %#x", ready,
			    dev->cores_present);
	msd_sim_write32(dev, SIM_GPU_IRQ_CLEAR, SIM_IRQ_ALL);
	msd_sim_write32(dev, SIM_GPU_IRQ_MASK, SIM_IRQ_ALL);
	return MAGMA_STATUS_OK;
}

/* Kernel address space in slot 0: a ring per queue and the fence page; queues enabled, each at
 * the priority of the scheduling level it serves. */
static magma_status_t msd_sim_device_kernel_init(struct msd_sim_device *dev)
{
	const uint64_t rw = SIM_PTE_READ | SIM_PTE_WRITE;
	uint64_t ring_pages = MSD_SIM_RING_ENTRIES * SIM_RING_ENTRY_SIZE / SIM_PAGE_SIZE;
	magma_status_t status;

	status = msd_sim_as_init(dev, &dev->kernel_as);
	if (status != MAGMA_STATUS_OK)
		return status;
	status = msd_sim_pages_alloc(dev, 1, &dev->fence);
	if (status != MAGMA_STATUS_OK)
		return status;
	status = msd_sim_as_write_ptes(dev, &dev->kernel_as, MSD_SIM_KERNEL_FENCE_VA, dev->fence.pa,
				       1, rw);
	if (status != MAGMA_STATUS_OK)
		return status;
	for (uint32_t qi = 0; qi < dev->queue_count; qi++) {
		struct msd_sim_queue *q = &dev->queues[qi];

		q->size = MSD_SIM_RING_ENTRIES;
		q->slots = msd_sim_calloc(dev->drv, q->size, sizeof(*q->slots));
		if (!q->slots)
			return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "out of memory");
		status = msd_sim_pages_alloc(dev, ring_pages, &q->ring);
		if (status != MAGMA_STATUS_OK)
			return status;
		status = msd_sim_as_write_ptes(dev, &dev->kernel_as, MSD_SIM_KERNEL_RING_VA(qi),
					       q->ring.pa, ring_pages, rw);
		if (status != MAGMA_STATUS_OK)
			return status;
	}
	msd_sim_mutex_lock(&dev->lock);
	msd_sim_as_program_slot_locked(dev, MSD_SIM_KERNEL_SLOT, &dev->kernel_as);
	for (uint32_t qi = 0; qi < dev->queue_count; qi++) {
		msd_sim_write64(dev, SIM_Q_RING_BASE_LO(qi), MSD_SIM_KERNEL_RING_VA(qi));
		msd_sim_write32(dev, SIM_Q_RING_SIZE(qi), dev->queues[qi].size);
		msd_sim_write32(dev, SIM_Q_RING_AS(qi), MSD_SIM_KERNEL_SLOT);
		msd_sim_write32(dev, SIM_Q_CONTROL(qi), SIM_Q_CONTROL_ENABLE);
	}
	msd_sim_sched_program_locked(dev);
	msd_sim_mutex_unlock(&dev->lock);
	return MAGMA_STATUS_OK;
}

static void msd_sim_device_kernel_fini(struct msd_sim_device *dev)
{
	for (uint32_t qi = 0; qi < SIM_QUEUE_MAX; qi++) {
		msd_sim_pages_free(dev, &dev->queues[qi].ring);
		free(dev->queues[qi].slots);
		dev->queues[qi].slots = NULL;
	}
	msd_sim_pages_free(dev, &dev->fence);
	if (dev->kernel_as.root)
		msd_sim_as_fini(dev, &dev->kernel_as);
}

/*
 * Move the batch of semaphores to signal into @batch (capacity MSD_SIM_SIGNAL_BATCH); returns the
 * count. The caller signals and puts them with the lock dropped.
 */
static uint32_t msd_sim_device_take_signals_locked(struct msd_sim_device *dev,
						   struct msd_sim_semaphore **batch)
	MSD_SIM_REQUIRES(dev->lock)
{
	uint32_t n = dev->signal_count;

	memcpy(batch, dev->signals, n * sizeof(*batch));
	dev->signal_count = 0;
	return n;
}

static void msd_sim_device_signal_batch(struct msd_sim_semaphore **batch, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		msd_sim_semaphore_signal(batch[i]);
		msd_sim_semaphore_put(batch[i]);
	}
}

/* Signal the pending batch with the lock dropped; held again on return. */
static void msd_sim_device_flush_signals_locked(struct msd_sim_device *dev)
	MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_semaphore *batch[MSD_SIM_SIGNAL_BATCH];
	uint32_t n = msd_sim_device_take_signals_locked(dev, batch);

	if (!n)
		return;
	msd_sim_mutex_unlock(&dev->lock);
	msd_sim_device_signal_batch(batch, n);
	msd_sim_mutex_lock(&dev->lock);
}

/*
 * Deliver queued notifications with the device lock dropped (callbacks may block). Pending
 * semaphore signals go first, so a completion is never notified before its semaphore.
 */
static void msd_sim_device_deliver_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock)
{
	if (!msd_sim_list_empty(&dev->notifications))
		msd_sim_device_flush_signals_locked(dev);
	while (!msd_sim_list_empty(&dev->notifications)) {
		struct msd_sim_pending_notify *pn = msd_sim_container_of(
			dev->notifications.next, struct msd_sim_pending_notify, link);
		struct msd_sim_connection *conn = pn->conn;

		msd_sim_list_del(&pn->link);
		msd_sim_mutex_unlock(&dev->lock);
		msd_sim_mutex_lock(&conn->notify_lock);
		if (conn->notify_fn &&
		    (pn->n.type !=
			     MSD_CONNECTION_NOTIFICATION_PERFORMANCE_COUNTERS_READ_COMPLETED ||
		     msd_sim_perf_pool_is_live(conn, pn->n.u.perf_counter_result.pool_id)))
			conn->notify_fn(conn->notify_token, &pn->n);
		msd_sim_mutex_unlock(&conn->notify_lock);
		msd_sim_mutex_lock(&dev->lock);
		msd_sim_mutex_assert_held(&conn->dev->lock);
		msd_sim_connection_put_locked(conn);
		free(pn);
	}
}

/* One pass of device-thread work: interrupts, requests, held jobs, scheduling, notifications. */
static void msd_sim_device_process_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock)
{
	do {
		uint32_t irq = dev->pending_irq;

		dev->pending_irq = 0;
		if (irq)
			msd_sim_irq_handle_locked(dev, irq);
		while (!msd_sim_list_empty(&dev->requests)) {
			struct msd_sim_request *req = msd_sim_container_of(
				dev->requests.next, struct msd_sim_request, link);

			msd_sim_list_del(&req->link);
			req->fn(dev, req->arg);
			req->done = true;
			pthread_cond_broadcast(&dev->done_cond);
		}
		msd_sim_job_check_waits_locked(dev);
		msd_sim_sched_run_locked(dev);
		msd_sim_sched_age_locked(dev);
		msd_sim_device_deliver_locked(dev);
	} while (dev->pending_irq || !msd_sim_list_empty(&dev->requests));
}

static struct msd_sim_job *msd_sim_device_held_head(struct msd_sim_list *held_link)
{
	struct msd_sim_context *ctx =
		msd_sim_container_of(held_link, struct msd_sim_context, held_link);

	return msd_sim_container_of(ctx->held.next, struct msd_sim_job, link);
}

/*
 * The fd set of the device thread's sleep in dev->pollfds: the wake fd, the sim's IRQ fd, then
 * the wait semaphores of each context's first held job. Rebuilt only when a head changed. False
 * when memory runs out (the caller then polls the first two with a timeout). Device thread.
 */
static bool msd_sim_device_pollfds_locked(struct msd_sim_device *dev) MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_list *pos, *tmp;
	uint32_t n = 2;

	if (!dev->pollfds_dirty && dev->pollfds)
		return true;
	msd_sim_list_for_each_safe(pos, tmp, &dev->held_contexts) {
		n += msd_sim_device_held_head(pos)->wait_count;
	}
	if (n > dev->pollfds_cap) {
		uint32_t cap = n > 2 * dev->pollfds_cap ? n : 2 * dev->pollfds_cap;
		struct pollfd *fds = msd_sim_calloc(dev->drv, cap, sizeof(*fds));

		if (!fds)
			return false;
		free(dev->pollfds);
		dev->pollfds = fds;
		dev->pollfds_cap = cap;
	}
	dev->pollfds[0] = (struct pollfd){.fd = dev->wake_fd, .events = POLLIN};
	dev->pollfds[1] = (struct pollfd){.fd = sim_irq_fd(dev->sim), .events = POLLIN};
	n = 2;
	msd_sim_list_for_each_safe(pos, tmp, &dev->held_contexts) {
		struct msd_sim_job *job = msd_sim_device_held_head(pos);

		for (uint32_t i = 0; i < job->wait_count; i++)
			dev->pollfds[n++] =
				(struct pollfd){.fd = job->wait_sems[i]->fd, .events = POLLIN};
	}
	dev->npollfds = n;
	dev->pollfds_dirty = false;
	return true;
}

/* Whether any ring holds entries the GPU has not retired. */
static bool msd_sim_device_has_ring_work_locked(struct msd_sim_device *dev)
	MSD_SIM_REQUIRES(dev->lock)
{
	for (uint32_t qi = 0; qi < dev->queue_count; qi++) {
		if (dev->queues[qi].head != dev->queues[qi].tail)
			return true;
	}
	return false;
}

static void *msd_sim_device_thread(void *arg)
{
	struct msd_sim_device *dev = arg;

	msd_sim_mutex_lock(&dev->lock);
	while (!dev->stopping) {
		struct pollfd wake[2] = {
			{.fd = dev->wake_fd, .events = POLLIN},
			{.fd = sim_irq_fd(dev->sim), .events = POLLIN},
		};
		struct msd_sim_semaphore *batch[MSD_SIM_SIGNAL_BATCH];
		struct pollfd *fds = wake;
		uint32_t status = 0, nsig;
		nfds_t n = 2;
		uint64_t drain;
		int timeout, ready;
		bool busy;

		msd_sim_device_process_locked(dev);
		if (dev->stopping)
			break;
		/* Idle long enough: cores off (msd_sim_recovery.c); else how long until then. */
		timeout = msd_sim_power_idle_locked(dev);
		/* A queue waiting behind a higher one is looked at again in MSD_SIM_STARVE_MS. */
		if (!msd_sim_device_is_idle_locked(dev) &&
		    (timeout < 0 || timeout > (int)MSD_SIM_STARVE_MS))
			timeout = MSD_SIM_STARVE_MS;
		/* With entries on a ring, so is IRQ_STATUS, in case an interrupt was lost. */
		busy = msd_sim_device_has_ring_work_locked(dev);
		if (dev->pending_irq || !msd_sim_list_empty(&dev->requests))
			continue;
		/*
		 * Only this thread reads or rebuilds dev->pollfds, so it may be used unlocked. A
		 * semaphore fd in it whose job is cancelled meanwhile reports POLLNVAL or a
		 * spurious wake-up; the cancel marked the set dirty, so the next round rebuilds it.
		 */
		if (msd_sim_device_pollfds_locked(dev)) {
			fds = dev->pollfds;
			n = dev->npollfds;
		}
		nsig = msd_sim_device_take_signals_locked(dev, batch);
		msd_sim_mutex_unlock(&dev->lock);
		/* Waiters woken now find the lock free. */
		msd_sim_device_signal_batch(batch, nsig);
		/* Out of memory: poll only the wake and IRQ fds, with a timeout for semaphores. */
		ready = poll(fds, n, fds == wake && (timeout < 0 || timeout > 10) ? 10 : timeout);
		/* Drain before clearing the flag: a kick after the clear writes the fd again. */
		if (fds[0].revents & POLLIN && read(dev->wake_fd, &drain, sizeof(drain)) < 0)
			drain = 0;
		atomic_store(&dev->wake_pending, false);
		if (fds[1].revents & POLLIN || fds == wake)
			status = msd_sim_irq_take(dev);
		else if (ready == 0 && busy)
			status = msd_sim_irq_poll_missed(dev);
		msd_sim_mutex_lock(&dev->lock);
		dev->pending_irq |= status;
	}
	msd_sim_device_process_locked(dev);
	msd_sim_device_flush_signals_locked(dev);
	msd_sim_mutex_unlock(&dev->lock);
	return NULL;
}

/*
 * msd_sim_device_kick_locked - wake the device thread to look at its lists again; the eventfd is
 * written only when no earlier wake is still pending (the thread clears dev->wake_pending after
 * draining the fd and before taking the lock, so it sees everything changed before the kick).
 * Without a device thread (test mode) the next msd_sim_device_poll() does the work.
 */
void msd_sim_device_kick_locked(struct msd_sim_device *dev)
{
	uint64_t one = 1;

	msd_sim_mutex_assert_held(&dev->lock);
	if (!dev->threaded || atomic_exchange(&dev->wake_pending, true))
		return;
	if (write(dev->wake_fd, &one, sizeof(one)) < 0)
		MSD_SIM_LOG(dev->drv, MAGMA_LOG_ERROR, "device wake failed");
}

/*
 * msd_sim_device_signal_locked - signal @sem for a completed job. On the device thread it joins a
 * batch signaled once the thread drops the lock (so a woken waiter never finds the lock held; a
 * full batch falls back to signalling now); elsewhere (test mode) it is signaled at once.
 */
void msd_sim_device_signal_locked(struct msd_sim_device *dev, struct msd_sim_semaphore *sem)
{
	msd_sim_mutex_assert_held(&dev->lock);
	if (dev->threaded && pthread_equal(pthread_self(), dev->thread) &&
	    dev->signal_count < MSD_SIM_SIGNAL_BATCH) {
		msd_sim_semaphore_get(sem);
		dev->signals[dev->signal_count++] = sem;
		return;
	}
	msd_sim_semaphore_signal(sem);
}

/*
 * msd_sim_device_call_locked - run @fn(@dev, @arg) on the device thread with the lock held and
 * wait for it. Runs inline when called on the device thread or when there is none. The lock is
 * dropped while waiting: callers re-check any state they read before.
 */
void msd_sim_device_call_locked(struct msd_sim_device *dev,
				void (*fn)(struct msd_sim_device *dev, void *arg), void *arg)
{
	/*
	 * A thread waits for its request before it can make another, so one per thread suffices;
	 * thread storage rather than the stack keeps the device's list free of pointers into stack
	 * frames (which gcc -O3 rightly flags, though the entry is unlinked before we return).
	 */
	static _Thread_local struct msd_sim_request req;

	msd_sim_mutex_assert_held(&dev->lock);
	if (!dev->threaded || pthread_equal(pthread_self(), dev->thread)) {
		fn(dev, arg);
		return;
	}
	req.fn = fn;
	req.arg = arg;
	req.done = false;
	msd_sim_list_init(&req.link);
	msd_sim_list_add_tail(&dev->requests, &req.link);
	msd_sim_device_kick_locked(dev);
	while (!req.done)
		msd_sim_mutex_cond_wait(&dev->done_cond, &dev->lock);
}

/*
 * msd_sim_device_queue_notify_locked - queue @n for @conn (takes a connection reference); it is
 * delivered by the device thread with the lock dropped, if a callback is installed then.
 */
void msd_sim_device_queue_notify_locked(struct msd_sim_device *dev, struct msd_sim_connection *conn,
					const struct msd_notification_t *n)
{
	struct msd_sim_pending_notify *pn;

	msd_sim_mutex_assert_held(&dev->lock);
	if (conn->closed)
		return;
	pn = msd_sim_calloc(dev->drv, 1, sizeof(*pn));
	if (!pn) {
		MSD_SIM_LOG(dev->drv, MAGMA_LOG_ERROR, "notification dropped: out of memory");
		return;
	}
	memcpy(&pn->n, n, sizeof(*n));
	pn->conn = conn;
	msd_sim_mutex_assert_held(&conn->dev->lock);
	msd_sim_connection_get_locked(conn);
	msd_sim_list_add_tail(&dev->notifications, &pn->link);
	msd_sim_device_kick_locked(dev);
}

/*
 * msd_sim_device_poll - test mode (no device thread): take the interrupt status and do one round
 * of device work on the calling thread. With a device thread it only wakes it.
 */
void msd_sim_device_poll(struct msd_sim_device *dev)
{
	uint32_t status = 0;

	if (!dev->threaded)
		status = msd_sim_irq_read_and_clear(dev);
	msd_sim_mutex_lock(&dev->lock);
	if (dev->threaded) {
		msd_sim_device_kick_locked(dev);
	} else {
		dev->pending_irq |= status;
		msd_sim_device_process_locked(dev);
	}
	msd_sim_mutex_unlock(&dev->lock);
}

/* msd_sim_device_is_idle_locked - no job held, ready or on a ring. */
bool msd_sim_device_is_idle_locked(struct msd_sim_device *dev)
{
	if (!msd_sim_list_empty(&dev->held_contexts) || dev->sched.ready)
		return false;
	for (uint32_t qi = 0; qi < dev->queue_count; qi++) {
		if (dev->queues[qi].head != dev->queues[qi].tail)
			return false;
	}
	return true;
}

/* On the device thread: release held jobs whose semaphores are signaled, fill the rings. */
static void msd_sim_device_settle_fn(struct msd_sim_device *dev, void *arg)
	MSD_SIM_REQUIRES(dev->lock)
{
	(void)arg;
	msd_sim_job_check_waits_locked(dev);
	msd_sim_sched_run_locked(dev);
}

/* msd_sim_device_settle - see msd_sim_hooks.h. */
void msd_sim_device_settle(struct msd_device_t *d)
{
	struct msd_sim_device *dev = msd_sim_device_from(d);

	if (!dev)
		return;
	msd_sim_mutex_lock(&dev->lock);
	msd_sim_device_call_locked(dev, msd_sim_device_settle_fn, NULL);
	msd_sim_mutex_unlock(&dev->lock);
}

/* msd_sim_device_set_job_start_hook - see msd_sim_hooks.h. */
void msd_sim_device_set_job_start_hook(struct msd_device_t *d, msd_sim_job_start_fn fn, void *ctx)
{
	struct msd_sim_device *dev = msd_sim_device_from(d);

	if (!dev)
		return;
	msd_sim_mutex_lock(&dev->lock);
	dev->job_start_hook = fn;
	dev->job_start_ctx = ctx;
	msd_sim_mutex_unlock(&dev->lock);
}

/* msd_sim_device_get_job_start_hook - see msd_sim_hooks.h. */
void msd_sim_device_get_job_start_hook(struct msd_device_t *d, msd_sim_job_start_fn *fn_out,
				       void **ctx_out)
{
	struct msd_sim_device *dev = msd_sim_device_from(d);

	*fn_out = NULL;
	*ctx_out = NULL;
	if (!dev)
		return;
	msd_sim_mutex_lock(&dev->lock);
	*fn_out = dev->job_start_hook;
	*ctx_out = dev->job_start_ctx;
	msd_sim_mutex_unlock(&dev->lock);
}

/* msd_sim_device_set_io_hook - install (or clear) the register access hook. Call while idle. */
void msd_sim_device_set_io_hook(struct msd_sim_device *dev, msd_sim_io_hook_fn fn, void *ctx)
{
	msd_sim_mutex_lock(&dev->lock);
	dev->io_hook = fn;
	dev->io_hook_ctx = ctx;
	msd_sim_mutex_unlock(&dev->lock);
}

static void msd_sim_device_free(struct msd_sim_device *dev)
{
	msd_sim_device_kernel_fini(dev);
	free(dev->pollfds);
	if (dev->wake_fd >= 0)
		close(dev->wake_fd);
	pthread_cond_destroy(&dev->done_cond);
	msd_sim_mutex_fini(&dev->lock);
	dev->base.magic_ = MSD_SIM_DEAD_MAGIC;
	free(dev);
}

/* msd_driver_create_device - see msd.h. @platform_device is a struct sim_device *. */
struct msd_device_t *msd_driver_create_device(struct msd_driver_t *d, void *platform_device)
{
	struct msd_sim_driver *drv = (struct msd_sim_driver *)d;
	struct msd_sim_device *dev;

	if (!drv || drv->base.magic_ != MSD_SIM_DRIVER_MAGIC || !platform_device) {
		MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad driver or platform device");
		return NULL;
	}
	dev = msd_sim_calloc(drv, 1, sizeof(*dev));
	if (!dev)
		return NULL;
	dev->base.magic_ = MSD_SIM_DEVICE_MAGIC;
	dev->drv = drv;
	dev->sim = platform_device;
	dev->kernel_as.slot = -1;
	dev->clock_div = 1;
	atomic_init(&dev->wake_pending, false);
	msd_sim_mutex_init(&dev->lock);
	pthread_cond_init(&dev->done_cond, NULL);
	msd_sim_list_init(&dev->requests);
	msd_sim_list_init(&dev->notifications);
	msd_sim_list_init(&dev->held_contexts);
	msd_sim_list_init(&dev->clients);
	msd_sim_work_limits_default(&dev->work_limits);
	msd_sim_sched_init(&dev->sched);
	dev->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dev->wake_fd < 0)
		goto err_free;
	/* The host runs the GPU's clock (msd_sim_hooks.h): the reset and power-up wait on it. */
	if (msd_sim_device_reset_and_power(dev) != MAGMA_STATUS_OK)
		goto err_reset;
	if (msd_sim_device_kernel_init(dev) != MAGMA_STATUS_OK)
		goto err_reset;
	if (!(drv->flags & MSD_DRIVER_CONFIG_TEST_NO_DEVICE_THREAD)) {
		/* Held so the thread cannot run a request before dev->thread is written. */
		msd_sim_mutex_lock(&dev->lock);
		dev->threaded = true;
		if (pthread_create(&dev->thread, NULL, msd_sim_device_thread, dev)) {
			dev->threaded = false;
			msd_sim_mutex_unlock(&dev->lock);
			goto err_reset;
		}
		msd_sim_mutex_unlock(&dev->lock);
	}
	atomic_fetch_add(&drv->devices, 1);
	MSD_SIM_LOG(drv, MAGMA_LOG_INFO, "SIM-1 %#x: %u AS slots, %u queues, cores %#x, %u kHz",
		    dev->gpu_id, dev->as_slots, dev->queue_count, dev->cores_present,
		    dev->clock_khz);
	return &dev->base;

err_reset:
	msd_sim_write32(dev, SIM_GPU_COMMAND, SIM_GPU_COMMAND_HARD_RESET);
err_free:
	msd_sim_device_free(dev);
	return NULL;
}

/* msd_device_destroy - see msd.h. Pending work is dropped; the GPU is left hard-reset. */
void msd_device_destroy(struct msd_device_t *d)
{
	struct msd_sim_device *dev;

	if (!d)
		return;
	dev = msd_sim_device_from(d);
	if (!dev) {
		MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad device");
		return;
	}
	if (dev->threaded) {
		msd_sim_mutex_lock(&dev->lock);
		dev->stopping = true;
		msd_sim_device_kick_locked(dev);
		msd_sim_mutex_unlock(&dev->lock);
		pthread_join(dev->thread, NULL);
		dev->threaded = false;
	}
	msd_sim_mutex_lock(&dev->lock);
	if (!msd_sim_device_is_idle_locked(dev))
		MSD_SIM_LOG(dev->drv, MAGMA_LOG_INFO, "device destroyed: dropping unfinished jobs");
	for (uint32_t qi = 0; qi < dev->queue_count; qi++)
		msd_sim_write32(dev, SIM_Q_COMMAND(qi), SIM_Q_COMMAND_RESET);
	msd_sim_job_cancel_all_locked(dev);
	msd_sim_device_deliver_locked(dev);
	if (dev->connections)
		MSD_SIM_LOG(dev->drv, MAGMA_LOG_ERROR, "device destroyed with %u connections",
			    dev->connections);
	msd_sim_mutex_unlock(&dev->lock);
	msd_sim_write32(dev, SIM_GPU_IRQ_MASK, 0);
	msd_sim_write32(dev, SIM_GPU_COMMAND, SIM_GPU_COMMAND_HARD_RESET);
	atomic_fetch_sub(&dev->drv->devices, 1);
	msd_sim_device_free(dev);
}

/* ---- Queries ---- */

/* A memfd holding @size bytes of @data, sealed against resizing. -1 on failure. */
static int msd_sim_result_memfd(const void *data, size_t size)
{
	int fd = memfd_create("msd-sim-query", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -1;
	if (write(fd, data, size) != (ssize_t)size ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) {
		close(fd);
		return -1;
	}
	return fd;
}

struct msd_sim_time_query {
	magma_total_time_query_result_t total;
	struct magma_sim_timestamp ts;
};

static void msd_sim_device_read_total_time(struct msd_sim_device *dev, void *arg)
	MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_time_query *r = arg;

	r->total.gpu_time_ns = msd_sim_power_busy_ns_locked(dev);
	r->total.monotonic_time_ns = msd_sim_now_ns();
}

static void msd_sim_device_read_timestamp(struct msd_sim_device *dev, void *arg)
	MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_time_query *r = arg;

	r->ts.monotonic_ns_before = msd_sim_now_ns();
	r->ts.gpu_cycles = msd_sim_read64(dev, SIM_GPU_CYCLE_COUNT_LO);
	r->ts.gpu_ns = msd_sim_read64(dev, SIM_GPU_TIMESTAMP_LO);
	r->ts.monotonic_ns_after = msd_sim_now_ns();
}

static void msd_sim_device_read_power(struct msd_sim_device *dev, void *arg)
	MSD_SIM_REQUIRES(dev->lock)
{
	uint64_t *v = arg;

	*v = (uint64_t)msd_sim_read32(dev, SIM_PWR_CLOCK_DIV) << 32 |
	     msd_sim_read32(dev, SIM_PWR_CORES_READY);
}

/* Buffer-result queries: register reads on the device thread, result in a new memfd. */
static magma_status_t msd_sim_device_query_buffer(struct msd_sim_device *dev, uint64_t id,
						  magma_handle_t *result_buffer_out)
{
	struct msd_sim_time_query r;
	const void *data;
	size_t size;
	int fd;

	memset(&r, 0, sizeof(r));
	msd_sim_mutex_lock(&dev->lock);
	if (id == MAGMA_QUERY_TOTAL_TIME) {
		msd_sim_device_call_locked(dev, msd_sim_device_read_total_time, &r);
		data = &r.total;
		size = sizeof(r.total);
	} else {
		msd_sim_device_call_locked(dev, msd_sim_device_read_timestamp, &r);
		data = &r.ts;
		size = sizeof(r.ts);
	}
	msd_sim_mutex_unlock(&dev->lock);
	fd = msd_sim_result_memfd(data, size);
	if (fd < 0)
		return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "cannot create a result memfd");
	*result_buffer_out = (magma_handle_t)fd;
	return MAGMA_STATUS_OK;
}

/*
 * msd_device_query - see msd.h. Simple results come from values cached at bring-up and leave
 * *@result_buffer_out untouched; buffer results (TOTAL_TIME, MAGMA_SIM_QUERY_TIMESTAMP) read
 * registers on the device thread and leave *@result_out untouched.
 */
magma_status_t msd_device_query(struct msd_device_t *d, uint64_t id,
				magma_handle_t *result_buffer_out, uint64_t *result_out)
{
	struct msd_sim_device *dev = msd_sim_device_from(d);
	uint64_t v;

	if (!dev)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad device");
	if (id == MAGMA_QUERY_TOTAL_TIME || id == MAGMA_SIM_QUERY_TIMESTAMP) {
		if (!result_buffer_out)
			return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "query %" PRIu64 ": NULL out",
					   id);
		return msd_sim_device_query_buffer(dev, id, result_buffer_out);
	}
	switch (id) {
	case MAGMA_QUERY_VENDOR_ID:
		v = MAGMA_SIM_VENDOR_ID;
		break;
	case MAGMA_QUERY_DEVICE_ID:
		v = SIM_FIELD_GET(SIM_GPU_ID_PRODUCT, dev->gpu_id);
		break;
	case MAGMA_QUERY_VENDOR_VERSION:
		v = MAGMA_SIM_VENDOR_VERSION;
		break;
	case MAGMA_QUERY_IS_TOTAL_TIME_SUPPORTED:
		v = 1;
		break;
	case MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS:
		v = MSD_SIM_MAX_INFLIGHT_MESSAGES << 32 | MSD_SIM_MAX_INFLIGHT_MB;
		break;
	case MAGMA_SIM_QUERY_FEATURES:
		v = dev->features;
		break;
	case MAGMA_SIM_QUERY_CONFIG:
		v = (uint64_t)dev->config1 << 32 | dev->config0;
		break;
	case MAGMA_SIM_QUERY_CLOCK_HZ:
		v = (uint64_t)dev->clock_khz * 1000;
		break;
	case MAGMA_SIM_QUERY_GPU_VA_LIMIT:
		v = MAGMA_SIM_GPU_VA_LIMIT;
		break;
	case MAGMA_SIM_QUERY_POWER:
		msd_sim_mutex_lock(&dev->lock);
		msd_sim_device_call_locked(dev, msd_sim_device_read_power, &v);
		msd_sim_mutex_unlock(&dev->lock);
		break;
	default:
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "unknown query %" PRIu64, id);
	}
	if (!result_out)
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "query %" PRIu64 ": NULL out", id);
	*result_out = v;
	return MAGMA_STATUS_OK;
}

/* ---- Status dump ---- */

static const char *const msd_sim_q_state_names[] = {"IDLE", "RUNNING", "WAITING", "STOPPED",
						    "FAULTED"};
static const char *const msd_sim_access_names[] = {"READ", "WRITE", "EXECUTE", "ATOMIC"};
static const char *const msd_sim_source_names[] = {"CP", "COPY", "COMPUTE", "?"};

/* Names of the set causes in an IRQ register value, into @buf. */
static const char *msd_sim_irq_names(uint32_t v, char *buf, size_t size)
{
	static const char *const groups[] = {"JOB_DONE", "JOB_FAULT", "QUEUE_USER",
					     "QUEUE_STOPPED"};
	static const char *const misc[] = {"GPU_ERROR", "RESET_DONE", "POWER_CHANGED", "TIMER",
					   "PERFCNT_SAMPLE"};
	size_t len = 0;

	buf[0] = 0;
	for (uint32_t bit = 0; bit < 29 && len < size; bit++) {
		if (!(v & (1u << bit)))
			continue;
		if (bit < 16)
			len += (size_t)snprintf(buf + len, size - len, " %s(%u)", groups[bit / 4],
						bit % 4);
		else if (bit < 24)
			len += (size_t)snprintf(buf + len, size - len, " MMU_FAULT(%u)", bit - 16);
		else
			len += (size_t)snprintf(buf + len, size - len, " %s", misc[bit - 24]);
	}
	return buf;
}

static void msd_sim_device_dump_locked(struct msd_sim_device *dev, void *arg)
	MSD_SIM_REQUIRES(dev->lock)
{
	struct msd_sim_driver *drv = dev->drv;
	uint32_t status = msd_sim_read32(dev, SIM_GPU_STATUS);
	char names[256];

	(void)arg;
	MSD_SIM_LOG(drv, MAGMA_LOG_INFO,
		    "SIM-1 %#x status %#x%s%s%s%s cycles %" PRIu64 " guest errors %u",
		    msd_sim_read32(dev, SIM_GPU_ID), status,
		    status & SIM_STATUS_BUSY ? " BUSY" : "",
		    status & SIM_STATUS_RESETTING ? " RESETTING" : "",
		    status & SIM_STATUS_PWR_TRANSITION ? " PWR_TRANSITION" : "",
		    status & SIM_STATUS_FAULT ? " FAULT" : "",
		    msd_sim_read64(dev, SIM_GPU_CYCLE_COUNT_LO),
		    msd_sim_read32(dev, SIM_GPU_GUEST_ERRORS));
	MSD_SIM_LOG(
		drv, MAGMA_LOG_INFO, "IRQ rawstat:%s",
		msd_sim_irq_names(msd_sim_read32(dev, SIM_GPU_IRQ_RAWSTAT), names, sizeof(names)));
	MSD_SIM_LOG(
		drv, MAGMA_LOG_INFO, "IRQ mask %#x status:%s",
		msd_sim_read32(dev, SIM_GPU_IRQ_MASK),
		msd_sim_irq_names(msd_sim_read32(dev, SIM_GPU_IRQ_STATUS), names, sizeof(names)));
	MSD_SIM_LOG(drv, MAGMA_LOG_INFO, "power: cores ready %#x of %#x, clock div %u",
		    msd_sim_read32(dev, SIM_PWR_CORES_READY), dev->cores_present,
		    msd_sim_read32(dev, SIM_PWR_CLOCK_DIV));
	for (uint32_t qi = 0; qi < dev->queue_count; qi++) {
		struct msd_sim_queue *q = &dev->queues[qi];
		uint32_t qs = msd_sim_read32(dev, SIM_Q_STATUS(qi));
		uint32_t state = SIM_FIELD_GET(SIM_Q_STATUS_STATE, qs);
		uint32_t code = msd_sim_read32(dev, SIM_Q_FAULT_CODE(qi));

		MSD_SIM_LOG(drv, MAGMA_LOG_INFO,
			    "queue %u: %s%s head %u tail %u seqno %" PRIu64
			    " fault %s (%#x) addr %#" PRIx64 " cmd %#" PRIx64
			    "; driver head %u tail %u last seqno %" PRIu64,
			    qi, state < 5 ? msd_sim_q_state_names[state] : "?",
			    qs & SIM_Q_STATUS_ENABLED ? "" : " (disabled)",
			    msd_sim_read32(dev, SIM_Q_HEAD(qi)),
			    msd_sim_read32(dev, SIM_Q_TAIL(qi)),
			    msd_sim_read64(dev, SIM_Q_SEQNO_LO(qi)), sim_fault_name(code), code,
			    msd_sim_read64(dev, SIM_Q_FAULT_ADDR_LO(qi)),
			    msd_sim_read64(dev, SIM_Q_FAULT_CMD_LO(qi)), q->head, q->tail,
			    q->last_seqno);
		if (dev->last_fault[qi].valid)
			msd_sim_fault_record_log(dev, MAGMA_LOG_INFO, qi, &dev->last_fault[qi]);
	}
	for (uint32_t s = 0; s < dev->as_slots; s++) {
		uint32_t st = msd_sim_read32(dev, SIM_AS_STATUS(s));
		uint32_t fs = msd_sim_read32(dev, SIM_AS_FAULTSTATUS(s));
		uint64_t fa = msd_sim_read64(dev, SIM_AS_FAULTADDRESS_LO(s));
		const char *use;

		if (s == MSD_SIM_KERNEL_SLOT)
			use = "kernel";
		else
			use = dev->slot_as[s] ? "bound" : "free";
		if (!(st & SIM_AS_STATUS_FAULTED)) {
			fs = dev->as_fault_status[s];
			fa = dev->as_fault_addr[s];
		}
		MSD_SIM_LOG(drv, MAGMA_LOG_INFO,
			    "AS %u: %s%s%s %s; last fault %s (%#x) %s level %u queue %u source %s"
			    " at %#" PRIx64,
			    s, st & SIM_AS_STATUS_ENABLED ? "enabled" : "disabled",
			    st & SIM_AS_STATUS_LOCKED ? " locked" : "",
			    st & SIM_AS_STATUS_FAULTED ? " faulted" : "", use,
			    sim_fault_name(SIM_FIELD_GET(SIM_AS_FAULT_CODE, fs)),
			    SIM_FIELD_GET(SIM_AS_FAULT_CODE, fs),
			    msd_sim_access_names[SIM_FIELD_GET(SIM_AS_FAULT_ACCESS, fs)],
			    SIM_FIELD_GET(SIM_AS_FAULT_LEVEL, fs),
			    SIM_FIELD_GET(SIM_AS_FAULT_QUEUE, fs),
			    msd_sim_source_names[SIM_FIELD_GET(SIM_AS_FAULT_SOURCE, fs)], fa);
	}
	MSD_SIM_LOG(drv, MAGMA_LOG_INFO,
		    "jobs completed %" PRIu64 " faulted %" PRIu64 ", connections %u",
		    dev->jobs_completed, dev->jobs_faulted, dev->connections);
	MSD_SIM_LOG(drv, MAGMA_LOG_INFO,
		    "hangs %u, soft resets %u, hard resets %u, last recovery %" PRIu64
		    " us; power-downs %u, cores %s, clock div %u, busy %" PRIu64 " ns",
		    dev->hangs, dev->soft_resets, dev->hard_resets, dev->last_recovery_ns / 1000,
		    dev->power_downs, dev->cores_off ? "off" : "on", dev->clock_div,
		    msd_sim_power_busy_ns_locked(dev));
	MSD_SIM_LOG(drv, MAGMA_LOG_INFO, "abandoned work: queues stopped %u, reset %u",
		    dev->abandon_stops, dev->abandon_resets);
}

/* msd_device_dump_status - see msd.h. Logged at MAGMA_LOG_INFO; @dump_flags is unused. */
void msd_device_dump_status(struct msd_device_t *d, uint32_t dump_flags)
{
	struct msd_sim_device *dev = msd_sim_device_from(d);

	(void)dump_flags;
	if (!dev) {
		MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad device");
		return;
	}
	msd_sim_mutex_lock(&dev->lock);
	msd_sim_device_call_locked(dev, msd_sim_device_dump_locked, NULL);
	msd_sim_mutex_unlock(&dev->lock);
}
