/* SPDX-License-Identifier: MIT */
/*
 * fuzz_service.c - libFuzzer harness: arbitrary wire messages, with fds, into the service.
 *
 * One embedded device (magma_system, msd-sim and the sim on threads in this process) serves every
 * input. For each input the harness opens a device channel, does the handshake and creates a
 * connection with sockets of its own, so it holds the raw primary channel, then sends the input
 * as chunks, each with the fds it asks for:
 *
 *   chunk := H (1 byte) | L (2 bytes, little-endian) | L bytes (fewer if the input ends)
 *   H bits 0-2: how many fds to attach (0-7; the wire takes at most WIRE_MAX_FDS)
 *   H bits 3-5: their kind: 0 a sealed one-page memfd, 1 a memfd that cannot be sealed, 2 an
 *               eventfd, 3 a stream socket, 4 a seqpacket socket, 5 a pipe, 6 an empty memfd,
 *               7 a regular file
 *   H bit 6:    send on the device channel (still open) instead of the primary channel
 *
 * The bytes are sent as they are: framing, sizes, counts, ids, ranges and fds are all the
 * input's. Then a well-formed WIRE_FLUSH follows, the harness shuts its sending side (end of
 * input) and reads until the service hangs up, which it must: every complete message is answered
 * or refused, and a message left half-sent can no longer complete.
 *
 * What must hold (FUZZ_CHECK; ASan and UBSan watch the service): the service closes the
 * connection at the end of its input, never hangs; once the harness has closed its ends, the
 * device's connection count returns to what it was (nothing leaks a connection); and a well-behaved
 * client through magma.h then creates a connection and a buffer and flushes with MAGMA_STATUS_OK:
 * no input hurts another client.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "fuzz.h"
#include "magma_system/embedded.h"
#include "magma_system/magma_system.h"
#include "wire.h"

#define FUZZ_SVC_MAX_CHUNK  4096u	/* bytes of one chunk, so the socket never fills */
#define FUZZ_SVC_MAX_CHUNKS 64u		/* chunks of one input */
#define FUZZ_SVC_REPLY_MS   2000	/* patience for the FLUSH answer of a well-framed input */
#define FUZZ_SVC_CLOSE_MS   (30 * 1000) /* the hang-up after a shutdown: a guarantee, generous */

static struct magma_system_embedded *fuzz_svc_device;
static magma_device_t fuzz_svc_observer; /* a magma.h client of the device, for its queries */

static void fuzz_svc_teardown(void)
{
	magma_device_release(fuzz_svc_observer);
	magma_system_embedded_destroy(fuzz_svc_device);
}

/* The device, made on first use and kept for every input (destroyed at exit). */
static void fuzz_svc_setup(void)
{
	int fd;

	if (fuzz_svc_device)
		return;
	/* Every rejected message would be logged: thousands a second. */
	setenv("MAGMA_SYSTEM_QUIET", "1", 0);
	fuzz_svc_device = magma_system_embedded_create(NULL);
	FUZZ_CHECK(fuzz_svc_device);
	fd = magma_system_embedded_connect(fuzz_svc_device);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(magma_device_import((magma_handle_t)fd, &fuzz_svc_observer) == MAGMA_STATUS_OK);
	atexit(fuzz_svc_teardown);
}

static uint64_t fuzz_svc_connections(void)
{
	uint64_t n = 0;

	FUZZ_CHECK(magma_device_query(fuzz_svc_observer, MAGMA_SYSTEM_QUERY_CONNECTION_COUNT, NULL,
				      &n) == MAGMA_STATUS_OK);
	return n;
}

static uint64_t fuzz_svc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A new fd of kind @kind (see the file comment), or -1. */
static int fuzz_svc_make_fd(unsigned kind)
{
	int sv[2], fd = -1;

	switch (kind) {
	case 0:
	case 1:
		fd = memfd_create("fuzz", MFD_CLOEXEC | (kind == 0 ? MFD_ALLOW_SEALING : 0));
		if (fd >= 0 && ftruncate(fd, 4096)) {
			close(fd);
			fd = -1;
		}
		if (fd >= 0 && kind == 0)
			fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK);
		return fd;
	case 2:
		return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	case 3:
	case 4:
		if (socketpair(AF_UNIX, (kind == 3 ? SOCK_STREAM : SOCK_SEQPACKET) | SOCK_CLOEXEC,
			       0, sv))
			return -1;
		close(sv[1]);
		return sv[0];
	case 5:
		if (pipe2(sv, O_CLOEXEC))
			return -1;
		close(sv[1]);
		return sv[0];
	case 6:
		return memfd_create("fuzz-empty", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	default:
		return open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	}
}

/* Sends @len bytes with @nfds fds of @kind on @sock. Errors (a closed peer) are the input's. */
static void fuzz_svc_send(int sock, const uint8_t *bytes, size_t len, unsigned nfds, unsigned kind)
{
	char control[CMSG_SPACE(7 * sizeof(int))];
	struct iovec iov = {.iov_base = (void *)bytes, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	int fds[7];
	unsigned n = 0;

	for (unsigned i = 0; i < nfds; i++) {
		fds[n] = fuzz_svc_make_fd(kind);
		if (fds[n] >= 0)
			n++;
	}
	if (n && len) {
		struct cmsghdr *cmsg;

		memset(control, 0, sizeof(control));
		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, n * sizeof(int));
	}
	if (len)
		(void)!sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
}

/*
 * Reads from @sock (events and replies are dropped) until the service hangs up, for at most @ms
 * (a bound on a guarantee, not a measurement): true if it did.
 */
static bool fuzz_svc_closed(int sock, int ms)
{
	uint64_t deadline = fuzz_svc_now_ms() + (uint64_t)ms;
	struct pollfd p = {.fd = sock, .events = POLLIN};

	for (;;) {
		uint64_t now = fuzz_svc_now_ms();
		struct wire_msg msg;

		if (now >= deadline)
			return false;
		if (poll(&p, 1, (int)(deadline - now)) <= 0)
			continue;
		if (wire_recv(sock, &msg))
			return true; /* hung up (or broke the framing): closed either way */
		wire_msg_free(&msg);
	}
}

/* Device-channel handshake and a connection on @dev_fd; the raw primary channel, or -1. */
static int fuzz_svc_connect(int dev_fd, int *notify_out)
{
	struct wire_device_import imp = {.hdr = {WIRE_DEVICE_IMPORT, 0, sizeof(imp), 0},
					 .protocol_version = WIRE_PROTOCOL_VERSION,
					 .api_version = MAGMA_API_VERSION};
	struct wire_create_connection cc = {
		.hdr = {WIRE_DEVICE_CREATE_CONNECTION, 0, sizeof(cc), 2}, .client_id = 1};
	int primary[2], notify[2], fds[2];
	struct wire_msg reply;
	bool ok;

	if (wire_send(dev_fd, &imp, sizeof(imp), NULL, 0) || wire_recv(dev_fd, &reply))
		return -1;
	wire_msg_free(&reply);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, primary))
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, notify)) {
		close(primary[0]);
		close(primary[1]);
		return -1;
	}
	fds[0] = primary[1];
	fds[1] = notify[1];
	ok = !wire_send(dev_fd, &cc, sizeof(cc), fds, 2) && !wire_recv(dev_fd, &reply);
	if (ok) {
		ok = reply.hdr->type == WIRE_RESP(50) &&
		     ((struct wire_create_connection_resp *)reply.hdr)->status == MAGMA_STATUS_OK;
		wire_msg_free(&reply);
	}
	close(primary[1]);
	close(notify[1]);
	if (!ok) {
		close(primary[0]);
		close(notify[0]);
		return -1;
	}
	*notify_out = notify[0];
	return primary[0];
}

/* A well-behaved magma.h client: a connection, a buffer, a flush; all must succeed. */
static void fuzz_svc_check_others_work(void)
{
	magma_connection_t conn;
	magma_buffer_t buf;
	magma_buffer_id_t id;
	uint64_t size;

	FUZZ_CHECK(magma_device_create_connection(fuzz_svc_observer, &conn) == MAGMA_STATUS_OK);
	FUZZ_CHECK(magma_connection_create_buffer(conn, 4096, &size, &buf, &id) == MAGMA_STATUS_OK);
	FUZZ_CHECK(magma_connection_map_buffer(conn, 0x100000, buf, 0, 4096,
					       MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE) ==
		   MAGMA_STATUS_OK);
	FUZZ_CHECK(magma_connection_flush(conn) == MAGMA_STATUS_OK);
	magma_connection_release(conn);
}

/* LLVMFuzzerTestOneInput - see fuzz.h and the file comment. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_flush flush = {.hdr = {WIRE_FLUSH, 0, sizeof(flush), 0}};
	uint64_t before, deadline;
	int dev_fd, primary, notify = -1;
	size_t off = 0;

	fuzz_svc_setup();
	before = fuzz_svc_connections();
	dev_fd = magma_system_embedded_connect(fuzz_svc_device);
	FUZZ_CHECK(dev_fd >= 0);
	primary = fuzz_svc_connect(dev_fd, &notify);
	FUZZ_CHECK(primary >= 0);
	for (unsigned chunks = 0; off + 3 <= size && chunks < FUZZ_SVC_MAX_CHUNKS; chunks++) {
		uint8_t h = data[off];
		size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;

		off += 3;
		if (len > size - off)
			len = size - off;
		if (len > FUZZ_SVC_MAX_CHUNK)
			len = FUZZ_SVC_MAX_CHUNK;
		fuzz_svc_send(h & 0x40 ? dev_fd : primary, data + off, len, h & 7, (h >> 3) & 7);
		off += len;
	}
	/*
	 * A FLUSH, then end of input: the service answers what it can parse and must close on EOF
	 * (a message left half-sent never completes). No timeout decides anything here.
	 */
	wire_send(primary, &flush, sizeof(flush), NULL, 0);
	shutdown(primary, SHUT_WR);
	FUZZ_CHECK(fuzz_svc_closed(primary, FUZZ_SVC_CLOSE_MS));
	close(primary);
	close(notify);
	close(dev_fd);
	/* The connection goes away (nothing leaks one), whatever the input did to it. */
	deadline = fuzz_svc_now_ms() + FUZZ_SVC_CLOSE_MS;
	while (fuzz_svc_connections() > before) {
		FUZZ_CHECK(fuzz_svc_now_ms() < deadline);
		usleep(200);
	}
	fuzz_svc_check_others_work();
	return 0;
}
