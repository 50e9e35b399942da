/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_buffer.c - imported buffers: a memfd, its size, and one shared host mapping.
 *
 * A buffer is the driver's wrapper of a client memfd. It is refcounted because several owners
 * hold it at once: the system layer (until msd_buffer_release), every mapping of it in any
 * connection, jobs that list it as a resource, and perf-counter pools. The memfd is mmapped
 * MAP_SHARED once, at import, and the fd is closed right away (one fd per buffer in the process
 * instead of two matters for the embedded device, where client and driver share a process and
 * its fd limit); that mapping is what gets pinned into bus frames, and what commit/decommit act
 * on. Client writes through their own mapping of the same memfd are visible to the GPU and vice
 * versa. Pinned pages must not vanish under the GPU (a shrunk memfd would make the model's
 * accesses raise SIGBUS in the host, killing every client of the process), so the import seals
 * the memfd against shrinking before it trusts the size, and refuses (INVALID_ARGS) a memfd that
 * cannot be sealed (created without MFD_ALLOW_SEALING) or is sealed against writes. The service
 * checks the same before the driver sees the fd; this is the driver's own guard. The buffer does
 * not cache page contents and does not track commitment. Any thread: nothing but refs changes
 * after import.
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

/*
 * msd_sim_buffer_create - wrap memfd @fd (ownership passes in; it is closed on success and on
 * failure once mapped). Seals it against shrinking first. Returns INVALID_ARGS when @fd is not
 * a regular file, cannot be sealed against shrinking, is sealed against writes or is empty;
 * MEMORY_ERROR when it cannot be mapped read-write or allocation fails.
 */
magma_status_t msd_sim_buffer_create(struct msd_sim_driver *drv, int fd, msd_client_id_t client_id,
				     struct msd_sim_buffer **out)
{
	struct msd_sim_buffer *buf;
	struct stat st;
	magma_status_t status;
	uint64_t host_size;
	void *host;
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
	host_size = ((uint64_t)st.st_size + SIM_PAGE_SIZE - 1) & ~(uint64_t)(SIM_PAGE_SIZE - 1);
	host = mmap(NULL, host_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (host == MAP_FAILED) {
		status = MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "mmap of buffer failed: %d", errno);
		goto err_close;
	}
	buf = msd_sim_calloc(drv, 1, sizeof(*buf));
	if (!buf) {
		status = MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "out of memory");
		goto err_unmap;
	}
	close(fd);
	buf->base.magic_ = MSD_SIM_BUFFER_MAGIC;
	atomic_init(&buf->refs, 1);
	buf->drv = drv;
	buf->size = (uint64_t)st.st_size;
	buf->client_id = client_id;
	buf->host = host;
	buf->host_size = host_size;
	*out = buf;
	return MAGMA_STATUS_OK;

err_unmap:
	munmap(host, host_size);
err_close:
	close(fd);
	return status;
}

/* msd_sim_buffer_get - take a reference. */
void msd_sim_buffer_get(struct msd_sim_buffer *buf)
{
	atomic_fetch_add(&buf->refs, 1);
}

/* msd_sim_buffer_put - drop a reference; the last one unmaps and frees. */
void msd_sim_buffer_put(struct msd_sim_buffer *buf)
{
	if (atomic_fetch_sub(&buf->refs, 1) != 1)
		return;
	munmap(buf->host, buf->host_size);
	buf->base.magic_ = MSD_SIM_DEAD_MAGIC;
	free(buf);
}

/* msd_sim_buffer_host - the shared host mapping of the whole buffer. Always MAGMA_STATUS_OK. */
magma_status_t msd_sim_buffer_host(struct msd_sim_buffer *buf, void **host_out)
{
	*host_out = buf->host;
	return MAGMA_STATUS_OK;
}

/* The whole pages covering [@offset, @offset + @length) of @buf's mapping. */
static void msd_sim_buffer_pages(const struct msd_sim_buffer *buf, uint64_t offset, uint64_t length,
				 uint8_t **start_out, size_t *len_out)
{
	uint64_t first = offset & ~(uint64_t)(SIM_PAGE_SIZE - 1);
	uint64_t end = (offset + length + SIM_PAGE_SIZE - 1) & ~(uint64_t)(SIM_PAGE_SIZE - 1);

	*start_out = (uint8_t *)buf->host + first;
	*len_out = (size_t)(end - first);
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older libc headers lack it */
#endif

/*
 * msd_sim_buffer_commit - allocate the memfd pages under [@offset, + @length) (caller checked
 * the range lies inside the buffer). Prefaults them writable without changing their contents;
 * on kernels without MADV_POPULATE_WRITE, reading each page faults it in (shmem allocates on
 * read faults of shared mappings). MEMORY_ERROR when the memory cannot be allocated.
 */
magma_status_t msd_sim_buffer_commit(struct msd_sim_buffer *buf, uint64_t offset, uint64_t length)
{
	uint8_t *start;
	size_t len;

	msd_sim_buffer_pages(buf, offset, length, &start, &len);
	if (!madvise(start, len, MADV_POPULATE_WRITE))
		return MAGMA_STATUS_OK;
	if (errno != EINVAL)
		return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "commit failed: %d", errno);
	for (size_t i = 0; i < len; i += SIM_PAGE_SIZE)
		(void)*(volatile uint8_t *)(start + i);
	return MAGMA_STATUS_OK;
}

/*
 * msd_sim_buffer_decommit - free the memfd pages under [@offset, + @length) (caller checked the
 * range, and that no GPU mapping covers it); they read back as zeros. MEMORY_ERROR on failure.
 */
magma_status_t msd_sim_buffer_decommit(struct msd_sim_buffer *buf, uint64_t offset, uint64_t length)
{
	uint8_t *start;
	size_t len;

	msd_sim_buffer_pages(buf, offset, length, &start, &len);
	if (madvise(start, len, MADV_REMOVE))
		return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "decommit failed: %d", errno);
	return MAGMA_STATUS_OK;
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
