/* SPDX-License-Identifier: MIT */
/*
 * test_client.h - a raw wire client for the service tests (no libmagma): builds messages byte by
 * byte so tests can send exactly the malformations they mean to.
 */
#ifndef MAGMA_SYSTEM_TEST_CLIENT_H
#define MAGMA_SYSTEM_TEST_CLIENT_H

#include <stdint.h>
#include <sys/types.h>

#include "magma_system/magma_system.h"
#include "wire.h"

struct tc_conn {
	int primary;
	int notif;
	uint64_t consumed_messages; /* summed from WIRE_EVT_MESSAGES_CONSUMED seen so far */
	uint64_t consumed_bytes;
	uint32_t consumed_events;
};

/* A served device channel to @dev after a successful handshake; -1 on failure. */
int tc_open_device(struct magma_system_device *dev);
/*
 * tc_open_device, but the channel is charged to another process: a child made the socketpair
 * (so SO_PEERCRED names it), passed both ends back and exited. -1 on failure.
 */
int tc_open_device_foreign(struct magma_system_device *dev);
/* Handshake on @fd with @version; returns the reply status or CONNECTION_LOST. */
magma_status_t tc_handshake(int fd, uint32_t version);
/* Query @id: the reply status; *@result and *@buf_fd (-1 when no buffer) filled. */
magma_status_t tc_query(int fd, uint64_t id, uint64_t *result, int *buf_fd);
/* Creates a connection over device channel @fd: the reply status. */
magma_status_t tc_create_connection(int fd, struct tc_conn *c);
void tc_close(struct tc_conn *c);
/* Fills in @msg's header (type, size, fd_count) and sends it: 0 or -errno. */
int tc_send(int fd, void *msg, uint32_t size, uint32_t type, const int *fds, uint32_t nfds);
/* FLUSH round trip: OK, the EVT_ERROR status, CONNECTION_LOST on hang-up, TIMED_OUT. */
magma_status_t tc_flush(struct tc_conn *c);
/* Reads events until EVT_ERROR (its status) or hang-up (CONNECTION_LOST) or TIMED_OUT. */
magma_status_t tc_wait_error(struct tc_conn *c);
/* Reads consumed events until @messages have been reported or TIMED_OUT. */
magma_status_t tc_wait_consumed(struct tc_conn *c, uint64_t messages);
/* New memfd of @size bytes / new eventfd. */
int tc_memfd(uint64_t size);
int tc_eventfd(void);
/* Creates context @id (MEDIUM), imports a memfd buffer @id of @size, a semaphore @id. */
int tc_create_context(struct tc_conn *c, uint32_t id);
int tc_import_buffer(struct tc_conn *c, uint64_t id, uint64_t size);
int tc_import_semaphore(struct tc_conn *c, uint64_t id);

/* Reads one byte from @fd (a child's "ready" pipe), waiting up to 30 s: 0, or -1. */
int tc_wait_byte(int fd);

/*
 * Makes a fresh directory from @dir_template (mkdtemp; rewritten in place), starts @simd_path
 * there in the foreground with @devices devices (MAGMA_SYSTEM_QUIET set) and waits up to 10 s
 * for its last device socket. Returns the daemon's pid, or -1 when it did not come up (the
 * daemon, if any, killed and reaped; the directory left for the caller to remove).
 */
pid_t tc_start_daemon(const char *simd_path, char *dir_template, int devices);

#endif /* MAGMA_SYSTEM_TEST_CLIENT_H */
