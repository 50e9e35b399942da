/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_semaphore.c - imported semaphores: eventfds that are signaled iff readable.
 *
 * Signal writes 1 unless the eventfd is already readable (so the counter stays small and a
 * signal is idempotent); reset drains it with a read, guarded by a zero-timeout poll because the
 * fd may be blocking and is shared with the client's file description (changing its O_NONBLOCK
 * flag would change the client's). Waiting is not done here: the device thread polls the fds of
 * held jobs (msd_sim_device.c). Refcounted: the system layer and every job that waits on or
 * signals it hold references. Any thread.
 */
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "magma_probe/probe.h"
#include "msd_sim_internal.h"

/* msd_sim_semaphore_from - @s as a live msd-sim semaphore, or NULL when the magic is wrong. */
struct msd_sim_semaphore *msd_sim_semaphore_from(struct msd_semaphore_t *s)
{
	if (!s || s->magic_ != MSD_SIM_SEMAPHORE_MAGIC)
		return NULL;
	return (struct msd_sim_semaphore *)s;
}

/*
 * msd_sim_semaphore_create - wrap eventfd @fd (ownership passes in, closed on failure).
 * INVALID_ARGS when @fd is not an open fd, MEMORY_ERROR when allocation fails.
 */
magma_status_t msd_sim_semaphore_create(struct msd_sim_driver *drv, int fd, uint64_t flags,
					struct msd_sim_semaphore **out)
{
	struct msd_sim_semaphore *sem;
	struct stat st;

	if (fstat(fd, &st)) {
		close(fd);
		return MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "handle %d is not an fd", fd);
	}
	sem = msd_sim_calloc(drv, 1, sizeof(*sem));
	if (!sem) {
		close(fd);
		return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "out of memory");
	}
	sem->base.magic_ = MSD_SIM_SEMAPHORE_MAGIC;
	atomic_init(&sem->refs, 1);
	sem->drv = drv;
	sem->fd = fd;
	sem->flags = flags;
	*out = sem;
	return MAGMA_STATUS_OK;
}

/* msd_sim_semaphore_get - take a reference. */
void msd_sim_semaphore_get(struct msd_sim_semaphore *sem)
{
	atomic_fetch_add(&sem->refs, 1);
}

/* msd_sim_semaphore_put - drop a reference; the last closes the eventfd. */
void msd_sim_semaphore_put(struct msd_sim_semaphore *sem)
{
	if (atomic_fetch_sub(&sem->refs, 1) != 1)
		return;
	close(sem->fd);
	sem->base.magic_ = MSD_SIM_DEAD_MAGIC;
	free(sem);
}

/* msd_sim_semaphore_is_signaled - true when the eventfd is readable right now. */
bool msd_sim_semaphore_is_signaled(struct msd_sim_semaphore *sem)
{
	struct pollfd p = {.fd = sem->fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* msd_sim_semaphore_signal - make the eventfd readable (no-op when it already is). */
void msd_sim_semaphore_signal(struct msd_sim_semaphore *sem)
{
	uint64_t one = 1;

	if (msd_sim_semaphore_is_signaled(sem))
		return;
	magma_probe_mark(MAGMA_PROBE_SEMAPHORE);
	if (write(sem->fd, &one, sizeof(one)) != sizeof(one))
		MSD_SIM_LOG(sem->drv, MAGMA_LOG_WARNING, "semaphore signal failed");
}

/* msd_sim_semaphore_reset - drain the eventfd so it is not readable. */
void msd_sim_semaphore_reset(struct msd_sim_semaphore *sem)
{
	uint64_t v;

	if (msd_sim_semaphore_is_signaled(sem) && read(sem->fd, &v, sizeof(v)) != sizeof(v))
		MSD_SIM_LOG(sem->drv, MAGMA_LOG_WARNING, "semaphore reset failed");
}

/* msd_semaphore_release - see msd.h: drops the caller's reference. */
void msd_semaphore_release(struct msd_semaphore_t *s)
{
	struct msd_sim_semaphore *sem = msd_sim_semaphore_from(s);

	if (!sem) {
		MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad semaphore");
		return;
	}
	msd_sim_semaphore_put(sem);
}
