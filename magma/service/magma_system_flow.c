/* SPDX-License-Identifier: MIT */
/*
 * magma_system_flow.c - flow control between a feed-forward client and its connection thread.
 *
 * The service answers MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS itself (the MSD never sees it) with
 * (MAGMA_SYSTEM_MAX_INFLIGHT_MESSAGES << 32) | MAGMA_SYSTEM_MAX_INFLIGHT_MB, Fuchsia's packing:
 * a client keeps at most that many messages, and megabytes of buffers being imported, sent but
 * not yet processed. Every message processed on the primary channel counts as one; every
 * processed WIRE_IMPORT_BUFFER also counts its size in bytes. The connection thread reports the
 * counts since the last report in WIRE_EVT_MESSAGES_CONSUMED once MAGMA_SYSTEM_CONSUMED_BATCH
 * messages have accumulated, and whenever the primary channel runs dry with anything unreported
 * (so a client blocked at its limit is always released). Events are only sent when the channel
 * is writable at once; otherwise the counts keep accumulating and go out in one later event, so
 * a client that floods without reading blocks in its own send (the kernel socket buffer is the
 * only queue) and the service never blocks or buffers on its behalf: its memory stays bounded
 * by one message (<= WIRE_MAX_MESSAGE). Connection thread only.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "magma_system_internal.h"

/* magma_system_flow_inflight_params - the MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS answer. Pure. */
uint64_t magma_system_flow_inflight_params(void)
{
	return ((uint64_t)MAGMA_SYSTEM_MAX_INFLIGHT_MESSAGES << 32) | MAGMA_SYSTEM_MAX_INFLIGHT_MB;
}

/* magma_system_flow_note - counts @msg, which was processed successfully. */
void magma_system_flow_note(struct magma_system_flow *f, const struct wire_msg *msg)
{
	f->pending_messages++;
	f->total_messages++;
	if (msg->hdr->type == WIRE_IMPORT_BUFFER)
		f->pending_bytes +=
			((const struct wire_import_buffer *)(const void *)msg->hdr)->size;
}

/*
 * magma_system_flow_should_send - whether an event is due: a full batch, or anything pending
 * while no further input is waiting (@input_idle).
 */
bool magma_system_flow_should_send(const struct magma_system_flow *f, bool input_idle)
{
	if (f->pending_messages >= MAGMA_SYSTEM_CONSUMED_BATCH)
		return true;
	return input_idle && (f->pending_messages || f->pending_bytes);
}

/*
 * magma_system_flow_try_send - sends the pending counts on @sock if it is writable now. Returns 0
 * (sent; counts reset), -EAGAIN (not writable; counts kept) or -errno (peer gone).
 */
int magma_system_flow_try_send(struct magma_system_flow *f, int sock)
{
	struct pollfd pfd = {.fd = sock, .events = POLLOUT};
	struct wire_evt_consumed evt;
	int ret;

	if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & POLLOUT))
		return (pfd.revents & (POLLERR | POLLHUP)) ? -EPIPE : -EAGAIN;
	memset(&evt, 0, sizeof(evt));
	evt.hdr.type = WIRE_EVT_MESSAGES_CONSUMED;
	evt.hdr.size = sizeof(evt);
	evt.messages = f->pending_messages;
	evt.bytes = f->pending_bytes;
	ret = wire_send(sock, &evt, sizeof(evt), NULL, 0);
	if (ret)
		return ret;
	f->pending_messages = 0;
	f->pending_bytes = 0;
	f->events_sent++;
	return 0;
}
