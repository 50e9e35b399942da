/* SPDX-License-Identifier: MIT */
/*
 * test_client.c - the raw wire client of the service tests (see test_client.h). Every wait is
 * bounded (5 s) so a broken service fails a test instead of hanging it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_client.h"

#define TC_TIMEOUT_MS 5000

/* tc_send - see test_client.h. */
int tc_send(int fd, void *msg, uint32_t size, uint32_t type, const int *fds, uint32_t nfds)
{
	struct wire_hdr *hdr = msg;

	hdr->type = type;
	hdr->flags = 0;
	hdr->size = size;
	hdr->fd_count = nfds;
	return wire_send(fd, msg, size, fds, nfds);
}

/* Receives one message with a timeout: 0, -ETIMEDOUT or the wire_recv error. */
static int tc_recv(int fd, struct wire_msg *msg)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	if (poll(&pfd, 1, TC_TIMEOUT_MS) <= 0)
		return -ETIMEDOUT;
	return wire_recv(fd, msg);
}

/* tc_handshake - see test_client.h. */
magma_status_t tc_handshake(int fd, uint32_t version)
{
	struct wire_device_import m = {.protocol_version = version, .api_version = 16};
	struct wire_msg r;
	magma_status_t s;

	if (tc_send(fd, &m, sizeof(m), WIRE_DEVICE_IMPORT, NULL, 0) || tc_recv(fd, &r))
		return MAGMA_STATUS_CONNECTION_LOST;
	s = r.hdr->type == WIRE_RESP(46) ? ((struct wire_device_import_resp *)(void *)r.hdr)->status
					 : MAGMA_STATUS_INTERNAL_ERROR;
	wire_msg_free(&r);
	return s;
}

/* tc_open_device - see test_client.h. */
int tc_open_device(struct magma_system_device *dev)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	if (magma_system_device_serve(dev, sv[1])) {
		close(sv[0]);
		return -1;
	}
	if (tc_handshake(sv[0], WIRE_PROTOCOL_VERSION) != MAGMA_STATUS_OK) {
		close(sv[0]);
		return -1;
	}
	return sv[0];
}

/* tc_open_device_foreign - see test_client.h. */
int tc_open_device_foreign(struct magma_system_device *dev)
{
	struct wire_flush carrier = {0};
	struct wire_msg r;
	int xfer[2], sv[2], status, fd = -1;
	pid_t kid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, xfer))
		return -1;
	kid = fork();
	if (kid == 0) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) ||
		    tc_send(xfer[1], &carrier, sizeof(carrier), WIRE_FLUSH, sv, 2))
			_exit(1);
		_exit(0);
	}
	close(xfer[1]);
	if (kid > 0 && tc_recv(xfer[0], &r) == 0) {
		if (r.fd_count == 2 && magma_system_device_serve(dev, r.fds[1]) == 0) {
			fd = r.fds[0];
			r.fds[0] = -1;
		}
		r.fds[1] = -1; /* served (or closed) by magma_system_device_serve */
		wire_msg_free(&r);
	}
	if (kid > 0)
		waitpid(kid, &status, 0);
	close(xfer[0]);
	if (fd >= 0 && tc_handshake(fd, WIRE_PROTOCOL_VERSION) != MAGMA_STATUS_OK) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* tc_query - see test_client.h. */
magma_status_t tc_query(int fd, uint64_t id, uint64_t *result, int *buf_fd)
{
	struct wire_device_query q = {.id = id};
	struct wire_device_query_resp *resp;
	struct wire_msg r;
	magma_status_t s;

	*buf_fd = -1;
	if (tc_send(fd, &q, sizeof(q), WIRE_DEVICE_QUERY, NULL, 0) || tc_recv(fd, &r))
		return MAGMA_STATUS_CONNECTION_LOST;
	resp = (void *)r.hdr;
	s = resp->status;
	*result = resp->result;
	if (resp->has_buffer && r.fd_count == 1) {
		*buf_fd = r.fds[0];
		r.fds[0] = -1;
	}
	wire_msg_free(&r);
	return s;
}

/* tc_create_connection - see test_client.h. */
magma_status_t tc_create_connection(int fd, struct tc_conn *c)
{
	struct wire_create_connection m = {.client_id = (uint64_t)getpid()};
	int p[2], n[2], fds[2];
	struct wire_msg r;
	magma_status_t s;

	memset(c, 0, sizeof(*c));
	c->primary = c->notif = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p))
		return MAGMA_STATUS_INTERNAL_ERROR;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, n)) {
		close(p[0]);
		close(p[1]);
		return MAGMA_STATUS_INTERNAL_ERROR;
	}
	fds[0] = p[1];
	fds[1] = n[1];
	s = MAGMA_STATUS_CONNECTION_LOST;
	if (tc_send(fd, &m, sizeof(m), WIRE_DEVICE_CREATE_CONNECTION, fds, 2) == 0 &&
	    tc_recv(fd, &r) == 0) {
		s = ((struct wire_create_connection_resp *)(void *)r.hdr)->status;
		wire_msg_free(&r);
	}
	close(p[1]);
	close(n[1]);
	c->primary = p[0];
	c->notif = n[0];
	return s;
}

/* tc_close - see test_client.h. */
void tc_close(struct tc_conn *c)
{
	if (c->primary >= 0)
		close(c->primary);
	if (c->notif >= 0)
		close(c->notif);
	c->primary = c->notif = -1;
}

/*
 * Reads until a message of @want_type (returns OK), EVT_ERROR (its status), hang-up
 * (CONNECTION_LOST) or timeout; consumed events are summed on the way. @want_type 0: none wanted.
 */
static magma_status_t tc_read_until(struct tc_conn *c, uint32_t want_type, uint64_t want_consumed)
{
	for (;;) {
		struct wire_msg r;
		int ret = tc_recv(c->primary, &r);
		uint32_t type;

		if (ret == -ETIMEDOUT)
			return MAGMA_STATUS_TIMED_OUT;
		if (ret)
			return MAGMA_STATUS_CONNECTION_LOST;
		type = r.hdr->type;
		if (type == WIRE_EVT_MESSAGES_CONSUMED) {
			struct wire_evt_consumed *e = (void *)r.hdr;

			c->consumed_messages += e->messages;
			c->consumed_bytes += e->bytes;
			c->consumed_events++;
		} else if (type == WIRE_EVT_ERROR) {
			magma_status_t s = ((struct wire_evt_error *)(void *)r.hdr)->status;

			wire_msg_free(&r);
			return s;
		}
		wire_msg_free(&r);
		if (type == want_type && want_type)
			return MAGMA_STATUS_OK;
		if (want_consumed && c->consumed_messages >= want_consumed)
			return MAGMA_STATUS_OK;
	}
}

/* tc_flush - see test_client.h. */
magma_status_t tc_flush(struct tc_conn *c)
{
	struct wire_flush f = {0};

	if (tc_send(c->primary, &f, sizeof(f), WIRE_FLUSH, NULL, 0))
		return tc_read_until(c, 0, 0);
	return tc_read_until(c, WIRE_RESP(79), 0);
}

/* tc_wait_error - see test_client.h. */
magma_status_t tc_wait_error(struct tc_conn *c)
{
	return tc_read_until(c, 0, 0);
}

/* tc_wait_consumed - see test_client.h. */
magma_status_t tc_wait_consumed(struct tc_conn *c, uint64_t messages)
{
	if (c->consumed_messages >= messages)
		return MAGMA_STATUS_OK;
	return tc_read_until(c, 0, messages);
}

/* tc_memfd - see test_client.h. */
int tc_memfd(uint64_t size)
{
	int fd = memfd_create("tc-buffer", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd >= 0 && ftruncate(fd, (off_t)size)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* tc_eventfd - see test_client.h. */
int tc_eventfd(void)
{
	return eventfd(0, EFD_CLOEXEC);
}

/* tc_create_context - see test_client.h. */
int tc_create_context(struct tc_conn *c, uint32_t id)
{
	struct wire_create_context m = {.context_id = id, .priority = MAGMA_PRIORITY_MEDIUM};

	return tc_send(c->primary, &m, sizeof(m), WIRE_CREATE_CONTEXT, NULL, 0);
}

/* tc_import_buffer - see test_client.h. */
int tc_import_buffer(struct tc_conn *c, uint64_t id, uint64_t size)
{
	struct wire_import_buffer m = {.buffer_id = id, .size = size};
	int fd = tc_memfd(size), ret;

	if (fd < 0)
		return -errno;
	ret = tc_send(c->primary, &m, sizeof(m), WIRE_IMPORT_BUFFER, &fd, 1);
	close(fd);
	return ret;
}

/* tc_import_semaphore - see test_client.h. */
int tc_import_semaphore(struct tc_conn *c, uint64_t id)
{
	struct wire_import_semaphore m = {.semaphore_id = id};
	int fd = tc_eventfd(), ret;

	if (fd < 0)
		return -errno;
	ret = tc_send(c->primary, &m, sizeof(m), WIRE_IMPORT_SEMAPHORE, &fd, 1);
	close(fd);
	return ret;
}

/* tc_start_daemon - see test_client.h. */
pid_t tc_start_daemon(const char *simd_path, char *dir_template, int devices)
{
	char path[300], count[16];
	struct stat st;
	pid_t pid;

	if (!mkdtemp(dir_template))
		return -1;
	snprintf(count, sizeof(count), "%d", devices);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setenv("MAGMA_SYSTEM_QUIET", "1", 1);
		execl(simd_path, "magma-simd", "--dir", dir_template, "--devices", count,
		      "--foreground", (char *)NULL);
		_exit(127);
	}
	snprintf(path, sizeof(path), "%s/magma%d", dir_template, devices - 1);
	for (int i = 0; i < 1000; i++) {
		if (stat(path, &st) == 0)
			return pid;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* tc_wait_byte - see test_client.h. */
int tc_wait_byte(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char b;

	if (poll(&pfd, 1, 30000) != 1)
		return -1;
	return read(fd, &b, 1) == 1 ? 0 : -1;
}
