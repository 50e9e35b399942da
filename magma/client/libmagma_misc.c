/* SPDX-License-Identifier: MIT */
/*
 * libmagma_misc.c - the Fuchsia-only diagnostics entry points and small fd helpers.
 *
 * magma_initialize_tracing and magma_initialize_logging hand a channel to Fuchsia's trace and
 * log services; Linux has neither, so they only honour the ownership contract (the handle is
 * consumed) and succeed. Any thread; no state.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "libmagma_internal.h"

/* libmagma_fd_is_valid - see libmagma_internal.h. */
bool libmagma_fd_is_valid(magma_handle_t handle)
{
	int fd = (int)handle;

	return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}

/* libmagma_close_handle - see libmagma_internal.h. */
void libmagma_close_handle(magma_handle_t handle)
{
	if (libmagma_fd_is_valid(handle))
		close((int)handle);
}

/* libmagma_wait_readable - see libmagma_internal.h. Retries EINTR (restarting the timeout). */
int libmagma_wait_readable(int fd, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	for (;;) {
		int n = poll(&pfd, 1, timeout_ms);

		if (n >= 0)
			return n;
		if (errno != EINTR)
			return -errno;
	}
}

/* magma_initialize_tracing - see magma.h. Consumes @channel; always MAGMA_STATUS_OK. */
magma_status_t libmagma_do_initialize_tracing(magma_handle_t channel)
{
	libmagma_close_handle(channel);
	return MAGMA_STATUS_OK;
}

/* magma_initialize_logging - see magma.h. Consumes @channel; always MAGMA_STATUS_OK. */
magma_status_t libmagma_do_initialize_logging(magma_handle_t channel)
{
	libmagma_close_handle(channel);
	return MAGMA_STATUS_OK;
}
