/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_driver.c - the driver object of msd-sim: configuration, logging, and the imports.
 *
 * The driver object touches no hardware. It carries the MSD_DRIVER_CONFIG_* flags every device it
 * creates inherits, the log route (a callback, else stderr for warnings and errors), and it
 * wraps the handles clients send: memfds become buffers, eventfds become semaphores. Those
 * belong to the driver rather than a device so one import can serve several connections. There
 * is no process-wide state: several drivers may coexist. Any thread; the log callback must be set
 * before devices exist (msd.h).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msd_sim_internal.h"

static struct msd_sim_driver *msd_sim_driver_from(struct msd_driver_t *d)
{
	if (!d || d->magic_ != MSD_SIM_DRIVER_MAGIC)
		return NULL;
	return (struct msd_sim_driver *)d;
}

/* msd_sim_log - see msd_sim_internal.h. Lines longer than 512 bytes are truncated. */
void msd_sim_log(struct msd_sim_driver *drv, int32_t level, const char *file, int line,
		 const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (drv && drv->log_fn) {
		drv->log_fn(drv->log_ctx, level, file, line, msg);
		return;
	}
	if (level <= MAGMA_LOG_WARNING)
		fprintf(stderr, "msd-sim %s:%d: %s\n", file, line, msg);
}

/*
 * msd_sim_ret - see msd_sim_internal.h. Debug builds (no NDEBUG) print the reason for every error
 * status on its way out, like Fuchsia's DRET_MSG, when the stack's log level is debug
 * (MAGMA_SIM_LOG=debug, docs/devices.md): a client's mistakes are no news otherwise. Release
 * builds only return it.
 */
magma_status_t msd_sim_ret(magma_status_t status, const char *file, int line, const char *fmt, ...)
{
#ifndef NDEBUG
	const char *level = getenv("MAGMA_SIM_LOG");
	char msg[256];
	va_list ap;

	if (!level || (strcmp(level, "debug") && strcmp(level, "4")))
		return status;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "msd-sim %s:%d: returning %d: %s\n", file, line, status, msg);
#else
	(void)file;
	(void)line;
	(void)fmt;
#endif
	return status;
}

/* True when the armed allocation-failure countdown says this allocation fails. */
static bool msd_sim_alloc_should_fail(struct msd_sim_driver *drv)
{
	unsigned int n = atomic_load(&drv->alloc_fail_in);

	while (n) {
		if (atomic_compare_exchange_weak(&drv->alloc_fail_in, &n, n - 1))
			return n == 1;
	}
	return false;
}

/* True when the allocation hook (msd_sim_hooks.h) makes this allocation fail. */
static bool msd_sim_alloc_hook_fails(struct msd_sim_driver *drv)
{
	msd_sim_alloc_fn fn = atomic_load_explicit(&drv->alloc_hook, memory_order_acquire);

	return fn && fn(atomic_load_explicit(&drv->alloc_hook_ctx, memory_order_relaxed));
}

/* msd_sim_calloc - see msd_sim_internal.h. */
void *msd_sim_calloc(struct msd_sim_driver *drv, size_t count, size_t size)
{
	if (msd_sim_alloc_should_fail(drv) || msd_sim_alloc_hook_fails(drv))
		return NULL;
	return calloc(count ? count : 1, size);
}

/* msd_sim_page_alloc - see msd_sim_internal.h: @pages zeroed, page-aligned 4 KiB pages. */
void *msd_sim_page_alloc(struct msd_sim_driver *drv, uint64_t pages)
{
	void *p;

	if (!pages || pages > SIZE_MAX / SIM_PAGE_SIZE || msd_sim_alloc_should_fail(drv) ||
	    msd_sim_alloc_hook_fails(drv))
		return NULL;
	p = aligned_alloc(SIM_PAGE_SIZE, pages * SIM_PAGE_SIZE);
	if (p)
		memset(p, 0, pages * SIM_PAGE_SIZE);
	return p;
}

/*
 * msd_sim_inject_alloc_failure - make the @n-th driver allocation from now fail (1 = the next);
 * 0 disarms. For tests; thread-safe.
 */
void msd_sim_inject_alloc_failure(struct msd_sim_driver *drv, uint32_t n)
{
	atomic_store(&drv->alloc_fail_in, n);
}

/* msd_sim_driver_set_alloc_hook - see msd_sim_hooks.h. */
void msd_sim_driver_set_alloc_hook(struct msd_driver_t *d, msd_sim_alloc_fn fn, void *ctx)
{
	struct msd_sim_driver *drv = msd_sim_driver_from(d);

	if (!drv)
		return;
	atomic_store_explicit(&drv->alloc_hook, NULL, memory_order_release);
	atomic_store_explicit(&drv->alloc_hook_ctx, ctx, memory_order_relaxed);
	atomic_store_explicit(&drv->alloc_hook, fn, memory_order_release);
}

/* msd_driver_create - see msd.h. */
struct msd_driver_t *msd_driver_create(void)
{
	struct msd_sim_driver *drv = calloc(1, sizeof(*drv));

	if (!drv)
		return NULL;
	drv->base.magic_ = MSD_SIM_DRIVER_MAGIC;
	atomic_init(&drv->devices, 0);
	atomic_init(&drv->alloc_fail_in, 0);
	atomic_init(&drv->alloc_hook, NULL);
	atomic_init(&drv->alloc_hook_ctx, NULL);
	return &drv->base;
}

/* msd_driver_configure - see msd.h. Unknown flags are kept but have no effect. */
void msd_driver_configure(struct msd_driver_t *d, uint32_t flags)
{
	struct msd_sim_driver *drv = msd_sim_driver_from(d);

	if (!drv) {
		MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad driver");
		return;
	}
	drv->flags = flags;
}

/* msd_driver_set_log_callback - see msd.h. */
void msd_driver_set_log_callback(struct msd_driver_t *d, msd_log_callback_t fn, void *ctx)
{
	struct msd_sim_driver *drv = msd_sim_driver_from(d);

	if (!drv) {
		MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad driver");
		return;
	}
	drv->log_fn = fn;
	drv->log_ctx = ctx;
}

/* msd_driver_destroy - see msd.h. Devices still alive are a caller bug: logged, then leaked. */
void msd_driver_destroy(struct msd_driver_t *d)
{
	struct msd_sim_driver *drv;

	if (!d)
		return;
	drv = msd_sim_driver_from(d);
	if (!drv) {
		MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad driver");
		return;
	}
	if (atomic_load(&drv->devices)) {
		MSD_SIM_LOG(drv, MAGMA_LOG_ERROR, "driver destroyed with %d live devices",
			    atomic_load(&drv->devices));
		return;
	}
	drv->base.magic_ = MSD_SIM_DEAD_MAGIC;
	free(drv);
}

/* msd_driver_import_buffer - see msd.h. @handle is closed on failure. */
magma_status_t msd_driver_import_buffer(struct msd_driver_t *d, magma_handle_t handle,
					msd_client_id_t client_id, struct msd_buffer_t **buffer_out)
{
	struct msd_sim_driver *drv = msd_sim_driver_from(d);
	struct msd_sim_buffer *buf;
	magma_status_t status;

	if (!drv || !buffer_out) {
		close((int)handle);
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad driver or NULL out");
	}
	status = msd_sim_buffer_create(drv, (int)handle, client_id, &buf);
	if (status != MAGMA_STATUS_OK)
		return status;
	*buffer_out = &buf->base;
	return MAGMA_STATUS_OK;
}

/* msd_driver_import_semaphore - see msd.h. @handle is closed on failure. */
magma_status_t msd_driver_import_semaphore(struct msd_driver_t *d, magma_handle_t handle,
					   msd_client_id_t client_id, uint64_t flags,
					   struct msd_semaphore_t **semaphore_out)
{
	struct msd_sim_driver *drv = msd_sim_driver_from(d);
	struct msd_sim_semaphore *sem;
	magma_status_t status;

	(void)client_id;
	if (!drv || !semaphore_out) {
		close((int)handle);
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad driver or NULL out");
	}
	if (flags & ~MAGMA_IMPORT_SEMAPHORE_ONE_SHOT) {
		close((int)handle);
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "semaphore flags %#" PRIx64, flags);
	}
	status = msd_sim_semaphore_create(drv, (int)handle, flags, &sem);
	if (status != MAGMA_STATUS_OK)
		return status;
	*semaphore_out = &sem->base;
	return MAGMA_STATUS_OK;
}
