/* SPDX-License-Identifier: MIT */
/*
 * libmagma_buffer.c - buffers: memfds created, imported and released through a connection,
 * plus the magma_buffer_* calls that work on the memfd alone.
 *
 * A buffer is a sealed-size memfd (F_SEAL_GROW | F_SEAL_SHRINK, so every holder agrees on its
 * size) whose length is a whole number of 4 KiB pages. Creating or importing one sends
 * WIRE_IMPORT_BUFFER with the fd and a client-chosen id; the service keeps its own reference.
 * Committed memory is the memfd's allocated pages: COMMIT (fallocate) and DECOMMIT (hole punch)
 * run here, synchronously, on the buffer alone, as Magma's do on the VMO; only the GPU
 * page-table ops (POPULATE/DEPOPULATE_TABLES) go to the service, feed-forward. Every buffer,
 * created or imported, gets a new device-wide id (wire.h, "Ids"). magma_buffer_get_handle and
 * _export return new open file descriptions of the same memfd (/proc/self/fd reopen, dup as a
 * fallback): each is mmap-able and shares memory with every other. Cache policy and name are
 * bookkeeping, since the simulated UMA is coherent; clean_cache validates and returns. Any thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libmagma_internal.h"

/* libmagma_buffer_get - see libmagma_internal.h. */
struct libmagma_buffer *libmagma_buffer_get(magma_buffer_t handle)
{
	return libmagma_handle_lookup(handle, LIBMAGMA_BUFFER_MAGIC);
}

/* libmagma_buffer_destroy - see libmagma_internal.h. Unregisters, closes the memfd, frees. */
void libmagma_buffer_destroy(struct libmagma_buffer *buf)
{
	libmagma_handle_remove(buf);
	buf->magic = 0;
	close(buf->fd);
	pthread_mutex_destroy(&buf->lock);
	free(buf);
}

/*
 * Wraps @fd (owned; closed on failure) of @size bytes as a buffer of @conn and tells the
 * service (WIRE_IMPORT_BUFFER, counted against the in-flight byte budget).
 */
static magma_status_t libmagma_buffer_add(struct libmagma_connection *conn, int fd, uint64_t size,
					  magma_buffer_t *buffer_out, magma_buffer_id_t *id_out)
{
	struct wire_import_buffer req = {
		.hdr = {WIRE_IMPORT_BUFFER, 0, sizeof(req), 1},
		.size = size,
	};
	struct libmagma_buffer *buf;
	magma_status_t status;

	buf = calloc(1, sizeof(*buf));
	if (!buf) {
		status = MAGMA_STATUS_MEMORY_ERROR;
		goto err_close;
	}
	buf->magic = LIBMAGMA_BUFFER_MAGIC;
	buf->fd = fd;
	buf->size = size;
	buf->conn = conn;
	buf->cache_policy = MAGMA_CACHE_POLICY_CACHED;
	pthread_mutex_init(&buf->lock, NULL);
	if (libmagma_handle_add(buf)) {
		status = MAGMA_STATUS_MEMORY_ERROR;
		goto err_free;
	}
	pthread_mutex_lock(&conn->lock);
	status = libmagma_connection_new_object_id_locked(conn, &req.buffer_id);
	if (status == MAGMA_STATUS_OK)
		status = libmagma_connection_send_locked(conn, &req, sizeof(req), &fd, 1, size);
	if (status) {
		pthread_mutex_unlock(&conn->lock);
		libmagma_handle_remove(buf);
		goto err_free;
	}
	buf->id = req.buffer_id;
	buf->next = conn->buffers;
	if (buf->next)
		buf->next->pprev = &buf->next;
	buf->pprev = &conn->buffers;
	conn->buffers = buf;
	pthread_mutex_unlock(&conn->lock);
	*buffer_out = (magma_buffer_t)(uintptr_t)buf;
	*id_out = buf->id;
	return MAGMA_STATUS_OK;

err_free:
	pthread_mutex_destroy(&buf->lock);
	free(buf);
err_close:
	close(fd);
	return status;
}

/*
 * magma_connection_create_buffer - see magma.h. A memfd of @size rounded up to 4 KiB, sealed
 * against resizing. MAGMA_STATUS_INVALID_ARGS for NULL outs; MEMORY_ERROR for size 0 (Magma's
 * buffer allocation refuses it) and when the memfd cannot be made that large;
 * CONNECTION_LOST once the connection has failed.
 */
magma_status_t libmagma_do_connection_create_buffer(magma_connection_t connection, uint64_t size,
						    uint64_t *size_out, magma_buffer_t *buffer_out,
						    magma_buffer_id_t *id_out)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	magma_status_t status;
	uint64_t rounded;
	int fd;

	if (!conn || !size_out || !buffer_out || !id_out)
		return MAGMA_STATUS_INVALID_ARGS;
	if (!size || size > (uint64_t)INT64_MAX - LIBMAGMA_PAGE_SIZE)
		return MAGMA_STATUS_MEMORY_ERROR;
	if (libmagma_connection_is_lost(conn))
		return MAGMA_STATUS_CONNECTION_LOST;
	rounded = (size + LIBMAGMA_PAGE_SIZE - 1) & ~(LIBMAGMA_PAGE_SIZE - 1);
	fd = memfd_create("magma-buffer", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return MAGMA_STATUS_MEMORY_ERROR;
	if (ftruncate(fd, (off_t)rounded) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)) {
		close(fd);
		return MAGMA_STATUS_MEMORY_ERROR;
	}
	status = libmagma_buffer_add(conn, fd, rounded, buffer_out, id_out);
	if (status == MAGMA_STATUS_OK)
		*size_out = rounded;
	return status;
}

/*
 * magma_connection_release_buffer - see magma.h. Sends the release on @connection and frees the
 * buffer. A buffer of another connection is freed too and its id sent, as Magma does; the
 * service then closes @connection (unknown id), and the owner's service-side object lives until
 * the owner is released. Unknown handles are ignored.
 */
void libmagma_do_connection_release_buffer(magma_connection_t connection, magma_buffer_t buffer)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	struct libmagma_buffer *buf = libmagma_buffer_get(buffer);
	struct wire_release_buffer req = {.hdr = {WIRE_RELEASE_BUFFER, 0, sizeof(req), 0}};
	struct libmagma_connection *owner;

	if (!conn || !buf)
		return;
	owner = buf->conn;
	pthread_mutex_lock(&owner->lock);
	if (!buf->pprev) { /* released by another thread meanwhile */
		pthread_mutex_unlock(&owner->lock);
		return;
	}
	*buf->pprev = buf->next;
	if (buf->next)
		buf->next->pprev = buf->pprev;
	buf->pprev = NULL;
	pthread_mutex_unlock(&owner->lock);
	req.buffer_id = buf->id;
	libmagma_connection_send(conn, &req, sizeof(req), NULL, 0, 0);
	libmagma_buffer_destroy(buf);
}

/*
 * magma_connection_import_buffer - see magma.h. Consumes @buffer_handle always. A handle that is
 * not an open fd is MAGMA_STATUS_INTERNAL_ERROR (what Magma's Linux build reports); an fd of
 * another kind - not a memfd or other shmem file (regular, F_GET_SEALS works) of a nonzero whole
 * number of pages - is MAGMA_STATUS_INVALID_ARGS, and so is one that cannot be sealed against
 * shrinking (made without MFD_ALLOW_SEALING) or is sealed against writes. Either way the
 * connection stays usable.
 */
magma_status_t libmagma_do_connection_import_buffer(magma_connection_t connection,
						    magma_handle_t buffer_handle,
						    uint64_t *size_out, magma_buffer_t *buffer_out,
						    magma_buffer_id_t *id_out)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	magma_status_t status = MAGMA_STATUS_INVALID_ARGS;
	int fd = (int)buffer_handle, seals;
	struct stat st;

	if (!conn || !size_out || !buffer_out || !id_out)
		goto err_close;
	if (!libmagma_fd_is_valid(buffer_handle)) {
		status = MAGMA_STATUS_INTERNAL_ERROR;
		goto err_close;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || fcntl(fd, F_GET_SEALS) < 0 ||
	    st.st_size <= 0 || ((uint64_t)st.st_size & (LIBMAGMA_PAGE_SIZE - 1)))
		goto err_close;
	if (libmagma_connection_is_lost(conn)) {
		status = MAGMA_STATUS_CONNECTION_LOST;
		goto err_close;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	/*
	 * Pin the size where the exporter allowed it. Whatever else the exporter sealed, the file
	 * must end up sealed against shrinking (the service maps it; vanished pages would fault
	 * there) and not against writes (the GPU writes through it): the service refuses anything
	 * else by closing the connection, so refuse it here while the connection is still usable.
	 */
	fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK);
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK) || (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
		goto err_close;
	status = libmagma_buffer_add(conn, fd, (uint64_t)st.st_size, buffer_out, id_out);
	if (status == MAGMA_STATUS_OK)
		*size_out = (uint64_t)st.st_size;
	return status;

err_close:
	libmagma_close_handle(buffer_handle);
	return status;
}

/* Whether [@start, @start + @length) runs past @size (without overflow). */
static bool libmagma_range_past_end(uint64_t start, uint64_t length, uint64_t size)
{
	return start > size || length > size - start;
}

/*
 * magma_connection_perform_buffer_op - see magma.h. As Magma: POPULATE/DEPOPULATE_TABLES are
 * sent to the service (feed-forward; the range is the service's to check) and return OK.
 * COMMIT and DECOMMIT work here on the memfd of any live buffer handle: a start or length that is
 * not page aligned is INVALID_ARGS; an empty range does nothing; COMMIT of a range past the end
 * is MEMORY_ERROR (those pages cannot be committed), as is a system out of memory; DECOMMIT past
 * the end is INVALID_ARGS; decommitted pages read back as zero. Other ops are INVALID_ARGS.
 */
magma_status_t libmagma_do_connection_perform_buffer_op(magma_connection_t connection,
							magma_buffer_t buffer, uint32_t options,
							uint64_t start_offset, uint64_t length)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	struct libmagma_buffer *buf = libmagma_buffer_get(buffer);
	struct wire_perform_buffer_op req = {
		.hdr = {WIRE_PERFORM_BUFFER_OP, 0, sizeof(req), 0},
		.options = options,
		.start_offset = start_offset,
		.length = length,
	};

	if (!conn || !buf)
		return MAGMA_STATUS_INVALID_ARGS;
	switch (options) {
	case MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES:
	case MAGMA_BUFFER_RANGE_OP_DEPOPULATE_TABLES:
		req.buffer_id = buf->id;
		libmagma_connection_send(conn, &req, sizeof(req), NULL, 0, 0);
		return MAGMA_STATUS_OK;
	case MAGMA_BUFFER_RANGE_OP_COMMIT:
	case MAGMA_BUFFER_RANGE_OP_DECOMMIT:
		break;
	default:
		return MAGMA_STATUS_INVALID_ARGS;
	}
	if ((start_offset | length) & (LIBMAGMA_PAGE_SIZE - 1))
		return MAGMA_STATUS_INVALID_ARGS;
	if (!length)
		return MAGMA_STATUS_OK;
	if (options == MAGMA_BUFFER_RANGE_OP_COMMIT) {
		if (libmagma_range_past_end(start_offset, length, buf->size))
			return MAGMA_STATUS_MEMORY_ERROR;
		return fallocate(buf->fd, 0, (off_t)start_offset, (off_t)length)
			       ? MAGMA_STATUS_MEMORY_ERROR
			       : MAGMA_STATUS_OK;
	}
	if (libmagma_range_past_end(start_offset, length, buf->size))
		return MAGMA_STATUS_INVALID_ARGS;
	return fallocate(buf->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)start_offset,
			 (off_t)length)
		       ? MAGMA_STATUS_INTERNAL_ERROR
		       : MAGMA_STATUS_OK;
}

/* magma_buffer_get_info - see magma.h. Committed bytes are the memfd's allocated pages. */
magma_status_t libmagma_do_buffer_get_info(magma_buffer_t buffer, magma_buffer_info_t *info_out)
{
	struct libmagma_buffer *buf = libmagma_buffer_get(buffer);
	uint64_t committed;
	struct stat st;

	if (!buf || !info_out)
		return MAGMA_STATUS_INVALID_ARGS;
	if (fstat(buf->fd, &st))
		return MAGMA_STATUS_INTERNAL_ERROR;
	committed = (uint64_t)st.st_blocks * 512;
	info_out->committed_byte_count = committed < buf->size ? committed : buf->size;
	info_out->size = buf->size;
	return MAGMA_STATUS_OK;
}

/* A new open file description of @buf's memfd (close-on-exec), or -1. */
static int libmagma_buffer_reopen(struct libmagma_buffer *buf)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", buf->fd);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fd = fcntl(buf->fd, F_DUPFD_CLOEXEC, 0);
	return fd;
}

/* magma_buffer_get_handle - see magma.h. A new mmap-able fd each call; the caller owns it. */
magma_status_t libmagma_do_buffer_get_handle(magma_buffer_t buffer, magma_handle_t *handle_out)
{
	struct libmagma_buffer *buf = libmagma_buffer_get(buffer);
	int fd;

	if (!buf || !handle_out)
		return MAGMA_STATUS_INVALID_ARGS;
	fd = libmagma_buffer_reopen(buf);
	if (fd < 0)
		return MAGMA_STATUS_INVALID_ARGS; /* out of fds; what Magma returns for no handle */
	*handle_out = (magma_handle_t)fd;
	return MAGMA_STATUS_OK;
}

/* magma_buffer_export - see magma.h. A new fd that magma_connection_import_buffer accepts. */
magma_status_t libmagma_do_buffer_export(magma_buffer_t buffer, magma_handle_t *buffer_handle_out)
{
	return magma_buffer_get_handle(buffer, buffer_handle_out);
}

/*
 * magma_buffer_set_cache_policy - see magma.h. MAGMA_STATUS_INTERNAL_ERROR for an unknown policy
 * (as Magma, whose VMO refuses it).
 */
magma_status_t libmagma_do_buffer_set_cache_policy(magma_buffer_t buffer,
						   magma_cache_policy_t policy)
{
	struct libmagma_buffer *buf = libmagma_buffer_get(buffer);

	if (!buf)
		return MAGMA_STATUS_INVALID_ARGS;
	if (policy > MAGMA_CACHE_POLICY_UNCACHED)
		return MAGMA_STATUS_INTERNAL_ERROR; /* Magma: the VMO refuses it */
	pthread_mutex_lock(&buf->lock);
	buf->cache_policy = policy;
	pthread_mutex_unlock(&buf->lock);
	return MAGMA_STATUS_OK;
}

/* magma_buffer_get_cache_policy - see magma.h. */
magma_status_t libmagma_do_buffer_get_cache_policy(magma_buffer_t buffer,
						   magma_cache_policy_t *cache_policy_out)
{
	struct libmagma_buffer *buf = libmagma_buffer_get(buffer);

	if (!buf || !cache_policy_out)
		return MAGMA_STATUS_INVALID_ARGS;
	pthread_mutex_lock(&buf->lock);
	*cache_policy_out = buf->cache_policy;
	pthread_mutex_unlock(&buf->lock);
	return MAGMA_STATUS_OK;
}

/*
 * magma_buffer_clean_cache - see magma.h. The simulated GPU shares a coherent view of memory
 * with the CPU, so after validating the range and operation there is nothing to flush. An
 * unknown operation is INVALID_ARGS, a range past the end INTERNAL_ERROR (both as Magma).
 */
magma_status_t libmagma_do_buffer_clean_cache(magma_buffer_t buffer, uint64_t offset, uint64_t size,
					      magma_cache_operation_t operation)
{
	struct libmagma_buffer *buf = libmagma_buffer_get(buffer);

	if (!buf || operation > MAGMA_CACHE_OPERATION_CLEAN_INVALIDATE)
		return MAGMA_STATUS_INVALID_ARGS;
	if (offset > buf->size || size > buf->size - offset)
		return MAGMA_STATUS_INTERNAL_ERROR; /* Magma: the cache op on the VMO fails */
	return MAGMA_STATUS_OK;
}

/* magma_buffer_set_name - see magma.h. Keeps at most LIBMAGMA_NAME_MAX - 1 bytes. */
magma_status_t libmagma_do_buffer_set_name(magma_buffer_t buffer, const char *name)
{
	struct libmagma_buffer *buf = libmagma_buffer_get(buffer);

	if (!buf || !name)
		return MAGMA_STATUS_INVALID_ARGS;
	pthread_mutex_lock(&buf->lock);
	snprintf(buf->name, sizeof(buf->name), "%s", name);
	pthread_mutex_unlock(&buf->lock);
	return MAGMA_STATUS_OK;
}
