/* SPDX-License-Identifier: MIT */
/*
 * libmagma_poll.c - magma_poll: wait for any of a set of semaphores and handles.
 *
 * Semaphores are eventfds (signaled iff readable) and handles are fds (notification channels,
 * perf-pool sockets, exported semaphores), so one ppoll() over all of them does the waiting.
 * The deadline is computed once on CLOCK_MONOTONIC and the remaining time recomputed after
 * every wake-up (EINTR included), so signals neither shorten nor stretch the wait. A handle
 * that hangs up or errors is a dead connection (MAGMA_STATUS_CONNECTION_LOST), matching
 * Fuchsia's PEER_CLOSED, but only once it is drained: a socket that still holds data reports
 * READABLE with MAGMA_STATUS_OK (a fault's notification arrives just before the hang-up, and
 * poll() sets POLLIN on a hung-up socket whether or not data is left, so a peek decides). Nothing
 * is reset or consumed. Any thread; no locks.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "libmagma_internal.h"

#define LIBMAGMA_POLL_MAX_ITEMS (1u << 16)
#define LIBMAGMA_NSEC_PER_SEC	1000000000ull

static uint64_t libmagma_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * LIBMAGMA_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/*
 * Whether socket @fd still holds data. A peek of 0 bytes is the end of the stream (an empty
 * seqpacket notification, which the service never sends, would read the same); a non-socket
 * fails with ENOTSOCK: both count as no data.
 */
static bool libmagma_socket_has_data(int fd)
{
	char probe;
	ssize_t n;

	do {
		n = recv(fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	return n > 0;
}

/* Fills the per-item results from @pfds; MAGMA_STATUS_OK when some condition is met. */
static magma_status_t libmagma_poll_results(magma_poll_item_t *items, uint32_t count,
					    const struct pollfd *pfds, bool *met)
{
	magma_status_t status = MAGMA_STATUS_OK;

	*met = false;
	for (uint32_t i = 0; i < count; i++) {
		short re = pfds[i].revents;

		items[i].result = 0;
		if (pfds[i].fd < 0)
			continue;
		if (re & POLLNVAL) {
			/* A handle that is not an open fd: Magma cannot wait on it either. */
			status = MAGMA_STATUS_INTERNAL_ERROR;
		} else if (items[i].type == MAGMA_POLL_TYPE_HANDLE && (re & (POLLHUP | POLLERR))) {
			/* Pending data is read first; the loss shows once it is drained. */
			if (libmagma_socket_has_data(pfds[i].fd)) {
				items[i].result = items[i].condition;
				*met = true;
				continue;
			}
			status = MAGMA_STATUS_CONNECTION_LOST;
			continue;
		}
		if (re & POLLIN) {
			items[i].result = items[i].condition;
			*met = true;
		}
	}
	return status;
}

/*
 * magma_poll - see magma.h. Returns MAGMA_STATUS_OK when at least one item's condition is met,
 * MAGMA_STATUS_TIMED_OUT, MAGMA_STATUS_CONNECTION_LOST (a handle hung up; results are still
 * filled in), MAGMA_STATUS_INVALID_ARGS for a NULL @items with a nonzero @count, no item with a
 * condition, an unknown type, a condition other than SIGNALED for semaphores / READABLE for
 * handles or an unknown semaphore, and MAGMA_STATUS_INTERNAL_ERROR for a handle that is not an
 * open fd (as Magma, which cannot wait on it).
 */
magma_status_t libmagma_do_poll(magma_poll_item_t *items, uint32_t count, uint64_t timeout_ns)
{
	uint64_t deadline = 0, now;
	struct pollfd *pfds = NULL;
	magma_status_t status;
	bool met = false;
	uint32_t active;

	if ((count && !items) || count > LIBMAGMA_POLL_MAX_ITEMS)
		return MAGMA_STATUS_INVALID_ARGS;
	if (count) {
		pfds = calloc(count, sizeof(*pfds));
		if (!pfds)
			return MAGMA_STATUS_MEMORY_ERROR;
	}
	for (uint32_t i = 0; i < count; i++) {
		pfds[i].fd = -1;
		pfds[i].events = POLLIN;
		items[i].result = 0;
		if (items[i].condition == 0)
			continue;
		if (items[i].type == MAGMA_POLL_TYPE_SEMAPHORE &&
		    items[i].condition == MAGMA_POLL_CONDITION_SIGNALED) {
			struct libmagma_semaphore *sem = libmagma_semaphore_get(items[i].semaphore);

			if (!sem) {
				status = MAGMA_STATUS_INVALID_ARGS;
				goto out_free;
			}
			pfds[i].fd = sem->fd;
		} else if (items[i].type == MAGMA_POLL_TYPE_HANDLE &&
			   items[i].condition == MAGMA_POLL_CONDITION_READABLE) {
			if ((int)items[i].handle < 0) {
				status = MAGMA_STATUS_INTERNAL_ERROR;
				goto out_free;
			}
			pfds[i].fd = (int)items[i].handle;
		} else {
			status = MAGMA_STATUS_INVALID_ARGS;
			goto out_free;
		}
	}
	/* As Magma's: with no item to wait for there is "nothing to do". */
	for (active = 0; active < count && !items[active].condition; active++)
		;
	if (active == count) {
		status = MAGMA_STATUS_INVALID_ARGS;
		goto out_free;
	}
	if (timeout_ns != UINT64_MAX) {
		now = libmagma_now_ns();
		deadline = now + timeout_ns < now ? UINT64_MAX : now + timeout_ns;
	}
	for (;;) {
		struct timespec ts, *tsp = NULL;
		int n;

		if (timeout_ns != UINT64_MAX && deadline != UINT64_MAX) {
			uint64_t left;

			now = libmagma_now_ns();
			left = deadline > now ? deadline - now : 0;
			ts.tv_sec = (time_t)(left / LIBMAGMA_NSEC_PER_SEC);
			ts.tv_nsec = (long)(left % LIBMAGMA_NSEC_PER_SEC);
			tsp = &ts;
		}
		n = ppoll(pfds, count, tsp, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			status = errno == ENOMEM ? MAGMA_STATUS_MEMORY_ERROR
						 : MAGMA_STATUS_INTERNAL_ERROR;
			goto out_free;
		}
		if (n > 0) {
			status = libmagma_poll_results(items, count, pfds, &met);
			if (status || met)
				goto out_free;
		}
		if (tsp && ts.tv_sec == 0 && ts.tv_nsec == 0) {
			status = MAGMA_STATUS_TIMED_OUT;
			goto out_free;
		}
	}

out_free:
	free(pfds);
	return status;
}
