/* SPDX-License-Identifier: MIT */
/*
 * test_wire_reader.c - the read-ahead receiver (wire_reader.c) over socketpairs: many messages
 * from one read with their fds where they belong, a message larger than the buffer, a message
 * split across reads (-EAGAIN, then whole), fds no message claims and bad headers (-EBADMSG with
 * every queued fd closed), hang-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_test.h"
#include "wire.h"

static int make_pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}

/* True when no copy of pipe write end @wr (closed by the caller) remains open: @rd sees POLLHUP. */
static bool all_closed(int rd)
{
	struct pollfd pfd = {.fd = rd, .events = POLLIN};

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP);
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	if (fstat(a, &sa) || fstat(b, &sb))
		return false;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Ten messages sent, the third and seventh with an fd; all read ahead at once, in order. */
static void test_many_messages_fds_in_place(void)
{
	struct wire_flush f = {.hdr = {WIRE_FLUSH, 0, sizeof(f), 0}};
	struct wire_import_buffer imp = {.hdr = {WIRE_IMPORT_BUFFER, 0, sizeof(imp), 1}};
	struct wire_reader r;
	struct wire_msg m;
	int sv[2], p[2], q[2];

	REQUIRE_EQ(make_pair(sv), 0);
	REQUIRE_EQ(pipe2(p, O_CLOEXEC), 0);
	REQUIRE_EQ(pipe2(q, O_CLOEXEC), 0);
	for (uint32_t i = 0; i < 10; i++) {
		if (i == 2 || i == 6) {
			imp.hdr.flags = i;
			CHECK_EQ(wire_send(sv[0], &imp, sizeof(imp), i == 2 ? &p[1] : &q[1], 1), 0);
		} else {
			f.hdr.flags = i;
			CHECK_EQ(wire_send(sv[0], &f, sizeof(f), NULL, 0), 0);
		}
	}
	wire_reader_init(&r);
	for (uint32_t i = 0; i < 10; i++) {
		REQUIRE_EQ(wire_reader_recv(&r, sv[1], &m), 0);
		CHECK_EQ(m.hdr->flags, i);
		if (i == 2 || i == 6) {
			CHECK_EQ(m.fd_count, 1);
			CHECK(same_file(m.fds[0], i == 2 ? p[1] : q[1]));
		} else {
			CHECK_EQ(m.fd_count, 0);
		}
		wire_msg_free(&m);
	}
	CHECK(!wire_reader_has_message(&r));
	CHECK_EQ(wire_reader_recv(&r, sv[1], &m), -EAGAIN);
	wire_reader_fini(&r);
	for (int i = 0; i < 2; i++) {
		close(p[i]);
		close(q[i]);
		close(sv[i]);
	}
}

/* A message larger than the buffer, split over sends and reads: -EAGAIN until it is whole. */
static void test_large_and_split_message(void)
{
	size_t size = 3 * WIRE_READER_BYTES + 8;
	struct wire_hdr *big = calloc(1, size);
	struct wire_reader r;
	struct wire_msg m;
	size_t half = size / 2;
	int sv[2];

	REQUIRE(big);
	REQUIRE_EQ(make_pair(sv), 0);
	*big = (struct wire_hdr){WIRE_EXECUTE_INLINE_COMMANDS, 7, (uint32_t)size, 0};
	memset(big + 1, 0x5a, size - sizeof(*big));
	wire_reader_init(&r);
	REQUIRE_EQ(write(sv[0], big, half), (ssize_t)half);
	CHECK_EQ(wire_reader_recv(&r, sv[1], &m), -EAGAIN);
	CHECK(!wire_reader_has_message(&r));
	REQUIRE_EQ(write(sv[0], (char *)big + half, size - half), (ssize_t)(size - half));
	REQUIRE_EQ(wire_reader_recv(&r, sv[1], &m), 0);
	CHECK_EQ(m.hdr->size, size);
	CHECK_EQ(m.hdr->flags, 7);
	CHECK(!memcmp(m.hdr, big, size));
	wire_msg_free(&m);
	wire_reader_fini(&r);
	free(big);
	close(sv[0]);
	close(sv[1]);
}

/* Sends @msg (@size bytes) with fd @fd attached; the pipe it belongs to is checked after. */
static int send_with_fd(int sock, const void *msg, size_t size, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = size};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)size ? 0 : -1;
}

/* An fd on a message whose header claims none: -EBADMSG, and the fd is closed. */
static void test_unclaimed_fd_is_bad(void)
{
	struct wire_flush f = {.hdr = {WIRE_FLUSH, 0, sizeof(f), 0}};
	struct wire_reader r;
	struct wire_msg m;
	int sv[2], p[2];

	REQUIRE_EQ(make_pair(sv), 0);
	REQUIRE_EQ(pipe2(p, O_CLOEXEC), 0);
	REQUIRE_EQ(send_with_fd(sv[0], &f, sizeof(f), p[1]), 0);
	close(p[1]);
	wire_reader_init(&r);
	CHECK_EQ(wire_reader_recv(&r, sv[1], &m), -EBADMSG);
	CHECK(m.hdr == NULL);
	CHECK(all_closed(p[0]));
	wire_reader_fini(&r);
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
}

/* A header claiming an fd that never came, and headers breaking the size rules: -EBADMSG. */
static void test_bad_headers(void)
{
	/* clang-format off */
	static const struct wire_hdr bad[] = {
		{WIRE_IMPORT_BUFFER, 0, sizeof(struct wire_import_buffer), 1}, /* fd missing */
		{WIRE_FLUSH, 0, 8, 0},					       /* < header */
		{WIRE_FLUSH, 0, 20, 0},					       /* not 8-aligned */
		{WIRE_FLUSH, 0, WIRE_MAX_MESSAGE + 8, 0},		       /* too big */
		{WIRE_FLUSH, 0, 16, WIRE_MAX_FDS + 1},			       /* too many fds */
	};
	/* clang-format on */

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char msg[sizeof(struct wire_import_buffer)] = {0};
		struct wire_reader r;
		struct wire_msg m;
		int sv[2];

		REQUIRE_EQ(make_pair(sv), 0);
		memcpy(msg, &bad[i], sizeof(bad[i]));
		REQUIRE(write(sv[0], msg, sizeof(msg)) == (ssize_t)sizeof(msg));
		wire_reader_init(&r);
		if (wire_reader_recv(&r, sv[1], &m) != -EBADMSG)
			SIM_TEST_FAIL("bad header %zu: not -EBADMSG", i);
		wire_reader_fini(&r);
		close(sv[0]);
		close(sv[1]);
	}
}

/* Hang-up: -ECONNRESET, also with half a message read. */
static void test_hangup(void)
{
	struct wire_flush f = {.hdr = {WIRE_FLUSH, 0, sizeof(f), 0}};
	struct wire_reader r;
	struct wire_msg m;
	int sv[2];

	REQUIRE_EQ(make_pair(sv), 0);
	REQUIRE(write(sv[0], &f, 8) == 8);
	close(sv[0]);
	wire_reader_init(&r);
	CHECK_EQ(wire_reader_recv(&r, sv[1], &m), -ECONNRESET);
	wire_reader_fini(&r);
	close(sv[1]);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_many_messages_fds_in_place),
	SIM_TEST(test_large_and_split_message),
	SIM_TEST(test_unclaimed_fd_is_bad),
	SIM_TEST(test_bad_headers),
	SIM_TEST(test_hangup),
};
SIM_TEST_SUITE(tests);
