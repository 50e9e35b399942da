/* SPDX-License-Identifier: MIT */
/*
 * wire_reader.c - read-ahead receiving for a busy channel (see wire_reader in wire.h).
 *
 * wire_recv reads exactly one header and one body per message: two recvmsg calls per message. A
 * client that streams submissions makes that the service's largest cost, so the service's
 * connection reads with one recvmsg as many bytes as the socket holds (up to the buffer) and
 * cuts messages out of them.
 *
 * File descriptors: the kernel hands a message's fds to the read that takes its first byte, and
 * a read that took them ends there (Linux never joins bytes past an fd-carrying chunk), so fds
 * always arrive no later than the header of the message they belong to. They wait in a FIFO; a
 * message whose header says fd_count = k takes the k oldest. Too few queued, more queued than a
 * reader holds, or fds left over once every buffered byte belongs to a complete message (fds with
 * no message to belong to) are -EBADMSG, and every queued fd is closed: a malformed peer can
 * neither leak descriptors into us nor desynchronise silently. Single-threaded per reader.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"

/* wire_reader_init - see wire.h. */
void wire_reader_init(struct wire_reader *r)
{
	memset(r, 0, sizeof(*r));
}

static void wire_reader_close_fds(struct wire_reader *r)
{
	for (uint32_t i = 0; i < r->nfds; i++)
		close(r->fds[i]);
	r->nfds = 0;
}

/* wire_reader_fini - see wire.h. */
void wire_reader_fini(struct wire_reader *r)
{
	wire_reader_close_fds(r);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

/* The buffered header, or NULL when fewer bytes than a header are buffered. */
static const struct wire_hdr *wire_reader_peek(const struct wire_reader *r, struct wire_hdr *hdr)
{
	if (r->end - r->start < sizeof(*hdr))
		return NULL;
	memcpy(hdr, r->buf + r->start, sizeof(*hdr));
	return hdr;
}

/* wire_reader_has_message - see wire.h. */
bool wire_reader_has_message(const struct wire_reader *r)
{
	struct wire_hdr hdr;

	if (!wire_reader_peek(r, &hdr))
		return false;
	/* A bad header is "a message" too: the next wire_reader_recv reports it without reading. */
	return !wire_hdr_ok(&hdr) || r->end - r->start >= hdr.size;
}

/* One recvmsg into the free end of the buffer; 0, -EAGAIN, -ECONNRESET, -EBADMSG or -errno. */
static int wire_reader_fill(struct wire_reader *r, int sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * WIRE_READER_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct wire_hdr hdr;
	size_t need = WIRE_READER_BYTES;
	uint32_t nfds;
	ssize_t n;
	int bad;

	/* Room for at least the whole message under way (up to WIRE_MAX_MESSAGE), else the default.
	 */
	if (wire_reader_peek(r, &hdr) && hdr.size > need && hdr.size <= WIRE_MAX_MESSAGE)
		need = hdr.size;
	if (r->start == r->end) {
		r->start = r->end = 0;
		if (r->cap > WIRE_READER_BYTES) { /* a big message is gone: back to the default */
			free(r->buf);
			r->buf = NULL;
			r->cap = 0;
		}
	} else if (r->start) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->cap < need) {
		char *nb = realloc(r->buf, need);

		if (!nb)
			return -ENOMEM;
		r->buf = nb;
		r->cap = need;
	}
	iov = (struct iovec){.iov_base = r->buf + r->end, .iov_len = r->cap - r->end};
	do {
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -EAGAIN;
		return errno == ECONNRESET || errno == EPIPE ? -ECONNRESET : -errno;
	}
	nfds = r->nfds;
	bad = wire_take_fds(&mh, r->fds, WIRE_READER_FDS, &nfds);
	if (nfds > WIRE_READER_FDS) { /* the extra ones were closed */
		nfds = WIRE_READER_FDS;
		bad = 1;
	}
	r->nfds = nfds;
	if (bad)
		return -EBADMSG;
	if (n == 0)
		return -ECONNRESET;
	r->end += (size_t)n;
	return 0;
}

/* Cut the complete message at r->start into @out; 0, -EAGAIN (incomplete), -EBADMSG, -ENOMEM. */
static int wire_reader_take(struct wire_reader *r, struct wire_msg *out)
{
	struct wire_hdr hdr;

	if (!wire_reader_peek(r, &hdr))
		return -EAGAIN;
	if (!wire_hdr_ok(&hdr))
		return -EBADMSG;
	if (r->end - r->start < hdr.size)
		return -EAGAIN;
	if (hdr.fd_count > r->nfds)
		return -EBADMSG;
	/* Borrowed: starts are 8-byte multiples into a malloc'd buffer, so the header is aligned.
	 */
	out->hdr = (struct wire_hdr *)(void *)(r->buf + r->start);
	out->borrowed = true;
	r->start += hdr.size;
	memcpy(out->fds, r->fds, sizeof(int) * hdr.fd_count);
	out->fd_count = hdr.fd_count;
	r->nfds -= hdr.fd_count;
	memmove(r->fds, r->fds + hdr.fd_count, sizeof(int) * r->nfds);
	/* Every byte taken and fds still queued: they came with no message. */
	if (r->start == r->end && r->nfds) {
		wire_msg_free(out);
		return -EBADMSG;
	}
	return 0;
}

/* wire_reader_recv - see wire.h. */
int wire_reader_recv(struct wire_reader *r, int sock, struct wire_msg *out)
{
	int ret;

	if (!r || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < WIRE_MAX_FDS; i++)
		out->fds[i] = -1;
	for (;;) {
		ret = wire_reader_take(r, out);
		if (ret != -EAGAIN)
			break;
		ret = wire_reader_fill(r, sock);
		if (ret)
			break;
	}
	if (ret == -EAGAIN && r->start == r->end && r->nfds)
		ret = -EBADMSG; /* fds with no byte of a message */
	if (ret && ret != -EAGAIN)
		wire_reader_close_fds(r);
	return ret;
}
