/* SPDX-License-Identifier: MIT */
/*
 * libmagma_sim_device.c - magma_sim_device_open (magma_sim/device.h): a device by the path of
 * a magma-simd socket, connected here and handed to magma_device_import.
 *
 * The path is looked at before connecting so that the status can tell "not a device" from "a
 * device whose daemon is gone": connect() to a regular file and to a socket nobody listens on
 * both fail with ECONNREFUSED. Only Unix sockets are ever touched (never open(): that would block
 * on a FIFO and could have side effects on a device node). The import goes through the public
 * magma_device_import, so a trace (MAGMA_TRACE) records it like any other. Any thread; no state.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "libmagma_internal.h"
#include "magma_sim/device.h"

/* The status for a failed stat(), socket() or connect() with @err; see magma_sim/device.h. */
static magma_status_t libmagma_sim_device_status(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return MAGMA_STATUS_ACCESS_DENIED;
	case ECONNREFUSED:
	case ECONNRESET:
		return MAGMA_STATUS_CONNECTION_LOST;
	case EMFILE:
	case ENFILE:
	case ENOMEM:
	case ENOBUFS:
		return MAGMA_STATUS_MEMORY_ERROR;
	case ENOENT:
	case ENOTDIR:
	case ELOOP:
	case ENAMETOOLONG:
	case ENOTSOCK:
	case EPROTOTYPE:
		return MAGMA_STATUS_INVALID_ARGS;
	default:
		return MAGMA_STATUS_INTERNAL_ERROR;
	}
}

/* Returns a new socket connected to the Unix socket at @path (close-on-exec), or -errno. */
static int libmagma_sim_device_connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, err;

	if (stat(path, &st))
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	memcpy(addr.sun_path, path, strlen(path) + 1); /* the caller checked that it fits */
	do {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			return fd;
		err = errno;
		close(fd);
		/* A connect() a signal interrupted may be half done: start over on a new socket. */
	} while (err == EINTR);
	return -err;
}

/* magma_sim_device_open - see magma_sim/device.h. */
magma_status_t magma_sim_device_open(const char *path, magma_device_t *device_out)
{
	struct sockaddr_un addr;
	magma_device_t device;
	magma_status_t status;
	int fd;

	if (!path || !*path || !device_out) {
		errno = EINVAL;
		return MAGMA_STATUS_INVALID_ARGS;
	}
	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return MAGMA_STATUS_INVALID_ARGS;
	}
	fd = libmagma_sim_device_connect(path);
	if (fd < 0) {
		errno = -fd;
		return libmagma_sim_device_status(-fd);
	}
	/* Consumes the socket whatever happens. */
	status = magma_device_import((magma_handle_t)fd, &device);
	if (status != MAGMA_STATUS_OK) {
		errno = EPROTO;
		return status;
	}
	*device_out = device;
	return MAGMA_STATUS_OK;
}
