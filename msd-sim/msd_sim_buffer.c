/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_buffer.c - imported buffers: a memfd, its size, and a host mapping made when needed.
 *
 * A buffer is the driver's wrapper of a client memfd. It is refcounted because several owners
 * hold it at once: the system layer (until msd_buffer_release), every mapping of it in any
 * connection, jobs that list it as a resource, and perf-counter pools.
 *
 * The driver holds one thing per buffer, never two: the memfd, or a MAP_SHARED mapping of the
 * whole memfd (after which the fd is closed) that stays until the last reference goes. By
 * default the mapping is made at import: one mapping and no fd per buffer, which is what a host
 * that shares its fd table with the client wants (the embedded device, where the client already
 * holds an fd per buffer). With MSD_DRIVER_CONFIG_MAP_BUFFERS_ON_USE the driver keeps the fd
 * and maps the buffer, under @lock, only when it first needs the memory (a GPU mapping pins host
 * pages, a perf dump writes through the host): in a daemon shared by many clients, a client that
 * imports tens of thousands of buffers it never uses then spends fds, which the service
 * accounts per client process, not the address-space mappings (vm.max_map_count) that every
 * thread and allocation of the daemon also needs. Commit and decommit act on the mapping when
 * there is one and on the memfd (fallocate) otherwise, so they never make one.
 *
 * Client writes through their own mapping of the same memfd are visible to the GPU and vice
 * versa. Pinned pages must not vanish under the GPU (a shrunk memfd would make the model's
 * accesses raise SIGBUS in the host, killing every client of the process), so the import seals
 * the memfd against shrinking before it trusts the size, and refuses (INVALID_ARGS) a memfd that
 * cannot be sealed (created without MFD_ALLOW_SEALING) or is sealed against writes. The service
 * checks the same before the driver sees the fd; this is the driver's own guard. The buffer does
 * not cache page contents and does not track commitment. Any thread: @fd and @host change under
 * @lock, refs are atomic, the rest is immutable after import.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msd_sim_internal.h"

/* msd_sim_buffer_from - @b as a live msd-sim buffer, or NULL when the magic is wrong. */
struct msd_sim_buffer *msd_sim_buffer_from(struct msd_buffer_t *b)
{
	if (!b || b->magic_ != MSD_SIM_BUFFER_MAGIC)
		return NULL;
	return (struct msd_sim_buffer *)b;
}

/* Maps @buf's memfd (the mapping replaces the fd, which is closed). MEMORY_ERROR on failure. */
static magma_status_t msd_sim_buffer_map_locked(struct msd_sim_buffer *buf)
	MSD_SIM_REQUIRES(buf->lock)
{
	void *host = mmap(NULL, buf->host_size, PROT_READ | PROT_WRITE, MAP_SHARED, buf->fd, 0);

	if (host == MAP_FAILED)
		return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "mmap of buffer failed: %d", errno);
	close(buf->fd);
	buf->fd = -1;
	buf->host = host;
	return MAGMA_STATUS_OK;
}

/*
 * msd_sim_buffer_create - wrap memfd @fd (ownership passes in, on success and failure). Seals it
 * against shrinking first. Maps it and closes it, or with MSD_DRIVER_CONFIG_MAP_BUFFERS_ON_USE
 * keeps it until the first msd_sim_buffer_host. Returns INVALID_ARGS when @fd is not a regular
 * file, cannot be sealed against shrinking, is sealed against writes or is empty; MEMORY_ERROR
 * when allocation or the mapping fails.
 */
magma_status_t msd_sim_buffer_create(struct msd_sim_driver *drv, int fd, msd_client_id_t client_id,
				     struct msd_sim_buffer **out)
{
	struct msd_sim_buffer *buf;
	struct stat st;
	magma_status_t status;
	int seals;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		status = MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "handle %d is not a memfd", fd);
		goto err_close;
	}
	/* Sealed before the size is trusted: from here on the file can grow but never shrink. */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals >= 0 && !(seals & F_SEAL_SHRINK) && !fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK))
		seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
		status = MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS,
				     "buffer of client %" PRIu64
				     " cannot be sealed against shrinking",
				     client_id);
		goto err_close;
	}
	if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) {
		status = MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS,
				     "buffer of client %" PRIu64 " is sealed against writes",
				     client_id);
		goto err_close;
	}
	if (fstat(fd, &st) || st.st_size <= 0) {
		status = MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "handle %d is empty", fd);
		goto err_close;
	}
	buf = msd_sim_calloc(drv, 1, sizeof(*buf));
	if (!buf) {
		status = MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "out of memory");
		goto err_close;
	}
	buf->base.magic_ = MSD_SIM_BUFFER_MAGIC;
	atomic_init(&buf->refs, 1);
	buf->drv = drv;
	buf->size = (uint64_t)st.st_size;
	buf->client_id = client_id;
	buf->host_size = (buf->size + SIM_PAGE_SIZE - 1) & ~(uint64_t)(SIM_PAGE_SIZE - 1);
	msd_sim_mutex_init(&buf->lock);
	buf->fd = fd;
	if (!(drv->flags & MSD_DRIVER_CONFIG_MAP_BUFFERS_ON_USE)) {
		msd_sim_mutex_lock(&buf->lock);
		status = msd_sim_buffer_map_locked(buf);
		msd_sim_mutex_unlock(&buf->lock);
		if (status != MAGMA_STATUS_OK)
			goto err_free;
	}
	*out = buf;
	return MAGMA_STATUS_OK;

err_free:
	msd_sim_mutex_fini(&buf->lock);
	free(buf);
err_close:
	close(fd);
	return status;
}

/* msd_sim_buffer_get - take a reference. */
void msd_sim_buffer_get(struct msd_sim_buffer *buf)
{
	atomic_fetch_add(&buf->refs, 1);
}

/* msd_sim_buffer_put - drop a reference; the last one unmaps (or closes) and frees. */
void msd_sim_buffer_put(struct msd_sim_buffer *buf)
{
	if (atomic_fetch_sub(&buf->refs, 1) != 1)
		return;
	if (buf->host)
		munmap(buf->host, buf->host_size);
	if (buf->fd >= 0)
		close(buf->fd);
	msd_sim_mutex_fini(&buf->lock);
	buf->base.magic_ = MSD_SIM_DEAD_MAGIC;
	free(buf);
}

/*
 * msd_sim_buffer_host - the shared host mapping of the whole buffer, made now if this is the
 * first use; it stays valid until the last reference goes. MEMORY_ERROR when it cannot be made
 * (the process is out of mappings or address space): the caller's request fails, nothing else.
 */
magma_status_t msd_sim_buffer_host(struct msd_sim_buffer *buf, void **host_out)
{
	magma_status_t status = MAGMA_STATUS_OK;

	msd_sim_mutex_lock(&buf->lock);
	if (!buf->host)
		status = msd_sim_buffer_map_locked(buf);
	*host_out = buf->host;
	msd_sim_mutex_unlock(&buf->lock);
	return status;
}

/*
 * The whole pages covering [@offset, @offset + @length): their offset and length. On the memfd
 * the callers cut them at buf->size (the file is at least that long; fallocate past its end
 * would fail under F_SEAL_GROW); the mapping covers them whole.
 */
static void msd_sim_buffer_pages(uint64_t offset, uint64_t length, uint64_t *first_out,
				 uint64_t *len_out)
{
	uint64_t first = offset & ~(uint64_t)(SIM_PAGE_SIZE - 1);
	uint64_t end = (offset + length + SIM_PAGE_SIZE - 1) & ~(uint64_t)(SIM_PAGE_SIZE - 1);

	*first_out = first;
	*len_out = end - first;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older libc headers lack it */
#endif

/*
 * msd_sim_buffer_commit - allocate the memfd pages under [@offset, + @length) (caller checked
 * the range lies inside the buffer) without changing their contents. Through the mapping when
 * there is one: prefaulted writable, or on kernels without MADV_POPULATE_WRITE read page by page
 * (shmem allocates on read faults of shared mappings); else fallocate on the memfd, which makes
 * no mapping. MEMORY_ERROR when the memory cannot be allocated.
 */
magma_status_t msd_sim_buffer_commit(struct msd_sim_buffer *buf, uint64_t offset, uint64_t length)
{
	magma_status_t status = MAGMA_STATUS_OK;
	uint64_t first, len;

	msd_sim_buffer_pages(offset, length, &first, &len);
	msd_sim_mutex_lock(&buf->lock);
	if (!buf->host) {
		if (first + len > buf->size)
			len = buf->size - first;
		if (fallocate(buf->fd, FALLOC_FL_KEEP_SIZE, (off_t)first, (off_t)len))
			status = MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "commit failed: %d", errno);
	} else if (madvise((uint8_t *)buf->host + first, len, MADV_POPULATE_WRITE)) {
		if (errno != EINVAL)
			status = MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "commit failed: %d", errno);
		for (uint64_t i = 0; status == MAGMA_STATUS_OK && i < len; i += SIM_PAGE_SIZE)
			(void)*(volatile uint8_t *)((uint8_t *)buf->host + first + i);
	}
	msd_sim_mutex_unlock(&buf->lock);
	return status;
}

/*
 * msd_sim_buffer_decommit - free the memfd pages under [@offset, + @length) (caller checked the
 * range, and that no GPU mapping covers it); they read back as zeros. Through the mapping when
 * there is one, else a hole punched in the memfd. MEMORY_ERROR on failure.
 */
magma_status_t msd_sim_buffer_decommit(struct msd_sim_buffer *buf, uint64_t offset, uint64_t length)
{
	magma_status_t status = MAGMA_STATUS_OK;
	uint64_t first, len;

	msd_sim_buffer_pages(offset, length, &first, &len);
	msd_sim_mutex_lock(&buf->lock);
	if (!buf->host) {
		if (first + len > buf->size)
			len = buf->size - first;
		if (fallocate(buf->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)first,
			      (off_t)len))
			status = MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "decommit failed: %d",
					     errno);
	} else if (madvise((uint8_t *)buf->host + first, len, MADV_REMOVE)) {
		status = MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "decommit failed: %d", errno);
	}
	msd_sim_mutex_unlock(&buf->lock);
	return status;
}

/* msd_buffer_release - see msd.h: drops the caller's reference. */
void msd_buffer_release(struct msd_buffer_t *b)
{
	struct msd_sim_buffer *buf = msd_sim_buffer_from(b);

	if (!buf) {
		MSD_SIM_RET(MAGMA_STATUS_INVALID_ARGS, "bad buffer");
		return;
	}
	msd_sim_buffer_put(buf);
}
