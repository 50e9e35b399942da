/* SPDX-License-Identifier: MIT */
/*
 * libmagma_semaphore.c - semaphores: eventfds created, imported and released through a
 * connection, and signal / reset / export on the eventfd alone.
 *
 * A semaphore is signaled exactly while its eventfd is readable (counter > 0). Signal writes 1
 * unless it is already readable, so the counter stays small; reset reads the counter back to 0.
 * Every party - this process, other importers, the service, the GPU driver - holds the same
 * eventfd, so a signal anywhere is seen everywhere, and an exported fd can be polled directly
 * (POLLIN iff signaled). A semaphore imported with MAGMA_IMPORT_SEMAPHORE_ONE_SHOT ignores
 * reset. Creating or importing sends WIRE_IMPORT_SEMAPHORE with the fd; the flags travel so the
 * service can honour one-shot too. Any thread; signal and reset never block.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "libmagma_internal.h"

/* libmagma_semaphore_get - see libmagma_internal.h. */
struct libmagma_semaphore *libmagma_semaphore_get(magma_semaphore_t handle)
{
	return libmagma_handle_lookup(handle, LIBMAGMA_SEMAPHORE_MAGIC);
}

/* libmagma_semaphore_destroy - see libmagma_internal.h. Unregisters, closes, frees. */
void libmagma_semaphore_destroy(struct libmagma_semaphore *sem)
{
	libmagma_handle_remove(sem);
	sem->magic = 0;
	close(sem->fd);
	free(sem);
}

/* Wraps @fd (owned; closed on failure) as a semaphore of @conn and tells the service. */
static magma_status_t libmagma_semaphore_add(struct libmagma_connection *conn, int fd,
					     uint64_t flags, magma_semaphore_t *semaphore_out,
					     magma_semaphore_id_t *id_out)
{
	struct wire_import_semaphore req = {
		.hdr = {WIRE_IMPORT_SEMAPHORE, 0, sizeof(req), 1},
		.flags = flags,
	};
	struct libmagma_semaphore *sem;
	magma_status_t status;

	sem = calloc(1, sizeof(*sem));
	if (!sem) {
		status = MAGMA_STATUS_MEMORY_ERROR;
		goto err_close;
	}
	sem->magic = LIBMAGMA_SEMAPHORE_MAGIC;
	sem->fd = fd;
	sem->flags = flags;
	sem->conn = conn;
	if (libmagma_handle_add(sem)) {
		status = MAGMA_STATUS_MEMORY_ERROR;
		goto err_free;
	}
	pthread_mutex_lock(&conn->lock);
	status = libmagma_connection_new_object_id_locked(conn, &req.semaphore_id);
	if (status == MAGMA_STATUS_OK)
		status = libmagma_connection_send_locked(conn, &req, sizeof(req), &fd, 1, 0);
	if (status) {
		pthread_mutex_unlock(&conn->lock);
		libmagma_handle_remove(sem);
		goto err_free;
	}
	sem->id = req.semaphore_id;
	sem->next = conn->semaphores;
	if (sem->next)
		sem->next->pprev = &sem->next;
	sem->pprev = &conn->semaphores;
	conn->semaphores = sem;
	pthread_mutex_unlock(&conn->lock);
	*semaphore_out = (magma_semaphore_t)(uintptr_t)sem;
	*id_out = sem->id;
	return MAGMA_STATUS_OK;

err_free:
	free(sem);
err_close:
	close(fd);
	return status;
}

/* magma_connection_create_semaphore - see magma.h. A new unsignaled eventfd. */
magma_status_t libmagma_do_connection_create_semaphore(magma_connection_t connection,
						       magma_semaphore_t *semaphore_out,
						       magma_semaphore_id_t *id_out)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	int fd;

	if (!conn || !semaphore_out || !id_out)
		return MAGMA_STATUS_INVALID_ARGS;
	if (libmagma_connection_is_lost(conn))
		return MAGMA_STATUS_CONNECTION_LOST;
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		return MAGMA_STATUS_MEMORY_ERROR;
	return libmagma_semaphore_add(conn, fd, 0, semaphore_out, id_out);
}

/* Whether @fd is an eventfd: its /proc/self/fd link names the eventfd anonymous inode. */
static bool libmagma_is_eventfd(int fd)
{
	char path[64], target[64];
	ssize_t n;

	if (fd < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[eventfd]") == 0;
}

/*
 * magma_connection_import_semaphore2 - see magma.h. Consumes @semaphore_handle always. A handle
 * that is not an open fd is MAGMA_STATUS_INTERNAL_ERROR (Magma's Linux build); @flags other than
 * MAGMA_IMPORT_SEMAPHORE_ONE_SHOT or an fd that is not an eventfd are INVALID_ARGS (Magma
 * checks both before sending), the connection staying usable. The fd is made non-blocking (the flag
 * lives in the open file description it shares with the exporter, which libmagma always reads
 * non-blocking too).
 */
magma_status_t libmagma_do_connection_import_semaphore2(magma_connection_t connection,
							magma_handle_t semaphore_handle,
							uint64_t flags,
							magma_semaphore_t *semaphore_out,
							magma_semaphore_id_t *id_out)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	magma_status_t status;
	int fd = (int)semaphore_handle;
	int fl;

	if (!conn || !semaphore_out || !id_out) {
		status = MAGMA_STATUS_INVALID_ARGS;
		goto err_close;
	}
	if (!libmagma_fd_is_valid(semaphore_handle)) {
		status = MAGMA_STATUS_INTERNAL_ERROR;
		goto err_close;
	}
	if ((flags & ~MAGMA_IMPORT_SEMAPHORE_ONE_SHOT) || !libmagma_is_eventfd(fd)) {
		status = MAGMA_STATUS_INVALID_ARGS;
		goto err_close;
	}
	if (libmagma_connection_is_lost(conn)) {
		status = MAGMA_STATUS_CONNECTION_LOST;
		goto err_close;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) || fcntl(fd, F_SETFD, FD_CLOEXEC)) {
		status = MAGMA_STATUS_INTERNAL_ERROR;
		goto err_close;
	}
	return libmagma_semaphore_add(conn, fd, flags, semaphore_out, id_out);

err_close:
	libmagma_close_handle(semaphore_handle);
	return status;
}

/*
 * magma_connection_release_semaphore - see magma.h. Like magma_connection_release_buffer: the
 * release goes to @connection and the semaphore is freed, also when it belongs to another
 * connection (whose service then closes @connection). Unknown handles are ignored.
 */
void libmagma_do_connection_release_semaphore(magma_connection_t connection,
					      magma_semaphore_t semaphore)
{
	struct libmagma_connection *conn = libmagma_connection_get(connection);
	struct libmagma_semaphore *sem = libmagma_semaphore_get(semaphore);
	struct wire_release_semaphore req = {.hdr = {WIRE_RELEASE_SEMAPHORE, 0, sizeof(req), 0}};
	struct libmagma_connection *owner;

	if (!conn || !sem)
		return;
	owner = sem->conn;
	pthread_mutex_lock(&owner->lock);
	if (!sem->pprev) { /* released by another thread meanwhile */
		pthread_mutex_unlock(&owner->lock);
		return;
	}
	*sem->pprev = sem->next;
	if (sem->next)
		sem->next->pprev = sem->pprev;
	sem->pprev = NULL;
	pthread_mutex_unlock(&owner->lock);
	req.semaphore_id = sem->id;
	libmagma_connection_send(conn, &req, sizeof(req), NULL, 0, 0);
	libmagma_semaphore_destroy(sem);
}

/* magma_semaphore_signal - see magma.h. Idempotent; unknown handles are ignored. */
void libmagma_do_semaphore_signal(magma_semaphore_t semaphore)
{
	struct libmagma_semaphore *sem = libmagma_semaphore_get(semaphore);
	uint64_t one = 1;
	ssize_t n;

	if (!sem || libmagma_wait_readable(sem->fd, 0) > 0)
		return;
	/* EAGAIN means the counter is at its maximum: still signaled. */
	n = write(sem->fd, &one, sizeof(one));
	(void)n;
}

/* magma_semaphore_reset - see magma.h. No effect on one-shot imports or unknown handles. */
void libmagma_do_semaphore_reset(magma_semaphore_t semaphore)
{
	struct libmagma_semaphore *sem = libmagma_semaphore_get(semaphore);
	uint64_t value;
	ssize_t n;

	if (!sem || (sem->flags & MAGMA_IMPORT_SEMAPHORE_ONE_SHOT))
		return;
	/* Non-blocking: EAGAIN means it was not signaled. */
	n = read(sem->fd, &value, sizeof(value));
	(void)n;
}

/* magma_semaphore_export - see magma.h. A new fd of the same eventfd; the caller owns it. */
magma_status_t libmagma_do_semaphore_export(magma_semaphore_t semaphore,
					    magma_handle_t *semaphore_handle_out)
{
	struct libmagma_semaphore *sem = libmagma_semaphore_get(semaphore);
	int fd;

	if (!sem || !semaphore_handle_out)
		return MAGMA_STATUS_INVALID_ARGS;
	fd = fcntl(sem->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return MAGMA_STATUS_INVALID_ARGS; /* out of fds; what Magma returns for no handle */
	*semaphore_handle_out = (magma_handle_t)fd;
	return MAGMA_STATUS_OK;
}
