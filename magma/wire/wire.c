/* SPDX-License-Identifier: MIT */
/*
 * wire.c - the transport under wire.h: whole messages with file descriptors over Unix stream
 * sockets, shared by libmagma and magma_system.
 *
 * A stream socket has no message boundaries, so wire_recv() reads exactly a header, checks it,
 * then reads exactly the rest: it never consumes a byte of the next message, which keeps that
 * message's fds (attached to its first byte) in the socket. Fds arrive with MSG_CMSG_CLOEXEC and
 * are counted over every read of one message; any disagreement with hdr.fd_count, a truncated
 * control buffer, a control message other than SCM_RIGHTS or a header that breaks the size
 * rules is -EBADMSG, and every fd received for that message is closed, so a malformed peer can
 * neither leak descriptors into us nor desynchronise silently (the caller closes the channel).
 * Sends use MSG_NOSIGNAL (a dead peer is -EPIPE, never SIGPIPE) and attach the fds to the first
 * chunk only; they check the framing limits but not that the header agrees with the size and fds
 * given, so the service's tests can put lying headers on the wire. Both directions retry EINTR and
 * resume partial transfers; on a non-blocking socket they wait with poll() once a message has
 * started. Stateless: any thread may call these, and callers serialise sends on one socket
 * themselves.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"

/* Room for more fds than allowed so an excess is seen (and closed) rather than truncated away. */
#define WIRE_RECV_FD_ROOM (WIRE_MAX_FDS * 4)

static int wire_wait(int sock, short events)
{
	struct pollfd pfd = {.fd = sock, .events = events};

	for (;;) {
		int n = poll(&pfd, 1, -1);

		if (n >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* wire_send - see wire.h. */
int wire_send(int sock, const void *msg, size_t size, const int *fds, uint32_t fd_count)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	const char *p = msg;
	size_t done = 0;

	if (!msg || size < sizeof(struct wire_hdr) || size > WIRE_MAX_MESSAGE || (size & 7) ||
	    fd_count > WIRE_MAX_FDS || (fd_count && !fds))
		return -EINVAL;

	while (done < size) {
		struct iovec iov = {.iov_base = (void *)(p + done), .iov_len = size - done};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n;

		if (done == 0 && fd_count) {
			struct cmsghdr *cm;

			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * fd_count);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * fd_count);
			memcpy(CMSG_DATA(cm), fds, sizeof(int) * fd_count);
		}
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			int ret;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return errno == ECONNRESET ? -EPIPE : -errno;
			ret = wire_wait(sock, POLLOUT);
			if (ret)
				return ret;
			continue;
		}
		done += (size_t)n;
	}
	return 0;
}

static void wire_close_fds(int *fds, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/* wire_take_fds - see wire.h. */
int wire_take_fds(struct msghdr *mh, int *fds, uint32_t room, uint32_t *nfds)
{
	struct cmsghdr *cm;
	int bad = (mh->msg_flags & MSG_CTRUNC) != 0;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t count;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*nfds < room)
				fds[*nfds] = fd;
			else
				close(fd);
			(*nfds)++;
		}
	}
	return bad;
}

/*
 * Reads exactly @len bytes into @buf, collecting fds into @fds (capacity WIRE_RECV_FD_ROOM;
 * *@nfds counts them, extra ones are closed at once but still counted). @started says whether
 * bytes of this message were already read: then EAGAIN waits instead of returning, and fds are
 * a violation (they may only come with the read that starts at the message's first byte).
 */
static int wire_read_exact(int sock, void *buf, size_t len, int *fds, uint32_t *nfds, int started)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_RECV_FD_ROOM)];
		struct cmsghdr align;
	} ctl;
	char *p = buf;
	size_t done = 0;
	int bad = 0;

	while (done < len) {
		struct iovec iov = {.iov_base = p + done, .iov_len = len - done};
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		uint32_t before;
		ssize_t n;

		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0) {
			int ret;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return errno == ECONNRESET || errno == EPIPE ? -ECONNRESET : -errno;
			if (!started && done == 0)
				return -EAGAIN;
			ret = wire_wait(sock, POLLIN);
			if (ret)
				return ret;
			continue;
		}
		before = *nfds;
		if (wire_take_fds(&mh, fds, WIRE_RECV_FD_ROOM, nfds))
			bad = 1;
		/* Fds belong to the message's first byte; later ones are a violation. */
		if (*nfds != before && (started || done))
			bad = 1;
		if (n == 0)
			return -ECONNRESET;
		done += (size_t)n;
		if (bad)
			return -EBADMSG;
	}
	return 0;
}

/* wire_hdr_ok - see wire.h. */
bool wire_hdr_ok(const struct wire_hdr *hdr)
{
	return hdr->size >= sizeof(*hdr) && !(hdr->size & 7) && hdr->size <= WIRE_MAX_MESSAGE &&
	       hdr->fd_count <= WIRE_MAX_FDS;
}

/* wire_recv - see wire.h. */
int wire_recv(int sock, struct wire_msg *out)
{
	int fds[WIRE_RECV_FD_ROOM];
	uint32_t nfds = 0;
	struct wire_hdr hdr;
	char *buf = NULL;
	int ret;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < WIRE_MAX_FDS; i++)
		out->fds[i] = -1;

	ret = wire_read_exact(sock, &hdr, sizeof(hdr), fds, &nfds, 0);
	if (ret)
		goto err_fds;
	if (!wire_hdr_ok(&hdr)) {
		ret = -EBADMSG;
		goto err_fds;
	}
	buf = malloc(hdr.size);
	if (!buf) {
		ret = -ENOMEM;
		goto err_fds;
	}
	memcpy(buf, &hdr, sizeof(hdr));
	ret = wire_read_exact(sock, buf + sizeof(hdr), hdr.size - sizeof(hdr), fds, &nfds, 1);
	if (ret)
		goto err_buf;
	if (nfds != hdr.fd_count) {
		ret = -EBADMSG;
		goto err_buf;
	}
	out->hdr = (struct wire_hdr *)buf;
	memcpy(out->fds, fds, sizeof(int) * nfds);
	out->fd_count = nfds;
	return 0;

err_buf:
	free(buf);
err_fds:
	wire_close_fds(fds, nfds < WIRE_RECV_FD_ROOM ? nfds : WIRE_RECV_FD_ROOM);
	return ret;
}

/* wire_msg_free - see wire.h. */
void wire_msg_free(struct wire_msg *msg)
{
	if (!msg)
		return;
	wire_close_fds(msg->fds, WIRE_MAX_FDS);
	msg->fd_count = 0;
	if (!msg->borrowed)
		free(msg->hdr);
	msg->hdr = NULL;
	msg->borrowed = false;
}

/* wire_type_name - see wire.h. */
const char *wire_type_name(uint32_t type)
{
	static const struct {
		uint32_t type;
		const char *name;
	} names[] = {
		{WIRE_DEVICE_IMPORT, "DEVICE_IMPORT"},
		{WIRE_RESP(46), "DEVICE_IMPORT_RESP"},
		{WIRE_DEVICE_QUERY, "DEVICE_QUERY"},
		{WIRE_RESP(81), "DEVICE_QUERY_RESP"},
		{WIRE_DEVICE_CREATE_CONNECTION, "DEVICE_CREATE_CONNECTION"},
		{WIRE_RESP(50), "DEVICE_CREATE_CONNECTION_RESP"},
		{WIRE_CONNECTION_RELEASE, "CONNECTION_RELEASE"},
		{WIRE_RELEASE_CONTEXT, "RELEASE_CONTEXT"},
		{WIRE_RELEASE_BUFFER, "RELEASE_BUFFER"},
		{WIRE_EXECUTE_INLINE_COMMANDS, "EXECUTE_INLINE_COMMANDS"},
		{WIRE_RELEASE_SEMAPHORE, "RELEASE_SEMAPHORE"},
		{WIRE_ENABLE_PERF_ACCESS, "ENABLE_PERF_ACCESS"},
		{WIRE_RESP(53), "ENABLE_PERF_ACCESS_RESP"},
		{WIRE_ENABLE_PERF_COUNTERS, "ENABLE_PERF_COUNTERS"},
		{WIRE_CREATE_PERF_POOL, "CREATE_PERF_POOL"},
		{WIRE_RELEASE_PERF_POOL, "RELEASE_PERF_POOL"},
		{WIRE_ADD_PERF_OFFSETS, "ADD_PERF_OFFSETS"},
		{WIRE_REMOVE_PERF_BUFFER, "REMOVE_PERF_BUFFER"},
		{WIRE_DUMP_PERF_COUNTERS, "DUMP_PERF_COUNTERS"},
		{WIRE_CLEAR_PERF_COUNTERS, "CLEAR_PERF_COUNTERS"},
		{WIRE_PERFORM_BUFFER_OP, "PERFORM_BUFFER_OP"},
		{WIRE_ALLOC_OBJECT_IDS, "ALLOC_OBJECT_IDS"},
		{WIRE_ALLOC_OBJECT_IDS_RESP, "ALLOC_OBJECT_IDS_RESP"},
		{WIRE_FLUSH, "FLUSH"},
		{WIRE_RESP(79), "FLUSH_RESP"},
		{WIRE_EXECUTE_COMMAND, "EXECUTE_COMMAND"},
		{WIRE_MAP_BUFFER, "MAP_BUFFER"},
		{WIRE_UNMAP_BUFFER, "UNMAP_BUFFER"},
		{WIRE_IMPORT_BUFFER, "IMPORT_BUFFER"},
		{WIRE_IMPORT_SEMAPHORE, "IMPORT_SEMAPHORE"},
		{WIRE_CREATE_CONTEXT, "CREATE_CONTEXT"},
		{WIRE_EVT_MESSAGES_CONSUMED, "EVT_MESSAGES_CONSUMED"},
		{WIRE_EVT_ERROR, "EVT_ERROR"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].type == type)
			return names[i].name;
	}
	return "UNKNOWN";
}
