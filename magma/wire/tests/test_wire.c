/* SPDX-License-Identifier: MIT */
/*
 * test_wire.c - unit tests of the wire transport (wire.c) over socketpairs: a round trip of
 * every message type with fds, large messages that need partial writes and reads, EINTR, every
 * framing violation (written as raw bytes and control messages, each must give -EBADMSG and
 * close the fds that came with it) and hang-ups (-ECONNRESET / -EPIPE).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_test.h"
#include "wire.h"

static int make_pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}

/* A pipe whose write end will travel; the read end sees POLLHUP once every write end closes. */
struct probe {
	int rd;
	int wr;
};

static int probe_open(struct probe *p)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC))
		return -1;
	p->rd = fds[0];
	p->wr = fds[1];
	return 0;
}

/* True when no copy of the probe's write end remains open anywhere in the process. */
static int probe_all_closed(struct probe *p)
{
	struct pollfd pfd = {.fd = p->rd, .events = POLLIN};

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP);
}

static void probe_close(struct probe *p)
{
	if (p->rd >= 0)
		close(p->rd);
	if (p->wr >= 0)
		close(p->wr);
	p->rd = p->wr = -1;
}

static int same_file(int a, int b)
{
	struct stat sa, sb;

	if (fstat(a, &sa) || fstat(b, &sb))
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static const struct {
	uint32_t type;
	uint32_t size;
	uint32_t fds;
} all_types[] = {
	{WIRE_DEVICE_IMPORT, sizeof(struct wire_device_import), 0},
	{WIRE_RESP(46), sizeof(struct wire_device_import_resp), 0},
	{WIRE_DEVICE_QUERY, sizeof(struct wire_device_query), 0},
	{WIRE_RESP(81), sizeof(struct wire_device_query_resp), 1},
	{WIRE_DEVICE_CREATE_CONNECTION, sizeof(struct wire_create_connection), 2},
	{WIRE_RESP(50), sizeof(struct wire_create_connection_resp), 0},
	{WIRE_CONNECTION_RELEASE, sizeof(struct wire_flush), 0},
	{WIRE_RELEASE_CONTEXT, sizeof(struct wire_release_context), 0},
	{WIRE_RELEASE_BUFFER, sizeof(struct wire_release_buffer), 0},
	{WIRE_EXECUTE_INLINE_COMMANDS,
	 sizeof(struct wire_execute_inline) + sizeof(struct wire_inline_command) + 16 + 8, 0},
	{WIRE_RELEASE_SEMAPHORE, sizeof(struct wire_release_semaphore), 0},
	{WIRE_ENABLE_PERF_ACCESS, sizeof(struct wire_enable_perf_access), 1},
	{WIRE_RESP(53), sizeof(struct wire_status_resp), 0},
	{WIRE_ENABLE_PERF_COUNTERS, sizeof(struct wire_perf_counters) + 3 * 8, 0},
	{WIRE_CREATE_PERF_POOL, sizeof(struct wire_perf_pool), 1},
	{WIRE_RELEASE_PERF_POOL, sizeof(struct wire_perf_pool), 0},
	{WIRE_ADD_PERF_OFFSETS,
	 sizeof(struct wire_add_perf_offsets) + 2 * sizeof(magma_buffer_offset_t), 0},
	{WIRE_REMOVE_PERF_BUFFER, sizeof(struct wire_remove_perf_buffer), 0},
	{WIRE_DUMP_PERF_COUNTERS, sizeof(struct wire_dump_perf), 0},
	{WIRE_CLEAR_PERF_COUNTERS, sizeof(struct wire_perf_counters) + 8, 0},
	{WIRE_PERFORM_BUFFER_OP, sizeof(struct wire_perform_buffer_op), 0},
	{WIRE_ALLOC_OBJECT_IDS, sizeof(struct wire_alloc_object_ids), 0},
	{WIRE_ALLOC_OBJECT_IDS_RESP, sizeof(struct wire_alloc_object_ids_resp), 0},
	{WIRE_FLUSH, sizeof(struct wire_flush), 0},
	{WIRE_RESP(79), sizeof(struct wire_status_resp), 0},
	{WIRE_EXECUTE_COMMAND,
	 sizeof(struct wire_execute_command) + sizeof(magma_exec_resource_t) +
		 sizeof(magma_exec_command_buffer_t) + 2 * 8,
	 0},
	{WIRE_MAP_BUFFER, sizeof(struct wire_map_buffer), 0},
	{WIRE_UNMAP_BUFFER, sizeof(struct wire_unmap_buffer), 0},
	{WIRE_IMPORT_BUFFER, sizeof(struct wire_import_buffer), 1},
	{WIRE_IMPORT_SEMAPHORE, sizeof(struct wire_import_semaphore), 1},
	{WIRE_CREATE_CONTEXT, sizeof(struct wire_create_context), 0},
	{WIRE_EVT_MESSAGES_CONSUMED, sizeof(struct wire_evt_consumed), 0},
	{WIRE_EVT_ERROR, sizeof(struct wire_evt_error), 0},
};

#define N_TYPES (sizeof(all_types) / sizeof(all_types[0]))

static void test_struct_sizes(void)
{
	CHECK_EQ(sizeof(struct wire_hdr), 16);
	for (size_t i = 0; i < N_TYPES; i++) {
		CHECK_EQ(all_types[i].size % 8, 0);
		CHECK(strcmp(wire_type_name(all_types[i].type), "UNKNOWN") != 0);
	}
	CHECK_EQ(sizeof(struct wire_perf_completion) % 8, 0);
	CHECK(strcmp(wire_type_name(WIRE_EXECUTE_COMMAND), "EXECUTE_COMMAND") == 0);
	CHECK(strcmp(wire_type_name(0x1234), "UNKNOWN") == 0);
	CHECK(strcmp(wire_type_name(0), "UNKNOWN") == 0);
}

static void test_round_trip_every_type(void)
{
	int sv[2];

	REQUIRE(make_pair(sv) == 0);
	for (size_t i = 0; i < N_TYPES; i++) {
		uint64_t buf[64];
		struct wire_hdr *hdr = (struct wire_hdr *)buf;
		struct probe pr[WIRE_MAX_FDS];
		int fds[WIRE_MAX_FDS];
		struct wire_msg m;
		uint32_t nf = all_types[i].fds;

		for (size_t j = 0; j < sizeof(buf); j++)
			((uint8_t *)buf)[j] = (uint8_t)(i * 7 + j);
		hdr->type = all_types[i].type;
		hdr->flags = 0;
		hdr->size = all_types[i].size;
		hdr->fd_count = nf;
		for (uint32_t j = 0; j < nf; j++) {
			REQUIRE(probe_open(&pr[j]) == 0);
			fds[j] = pr[j].wr;
		}
		CHECK_EQ(wire_send(sv[0], buf, hdr->size, fds, nf), 0);
		REQUIRE_EQ(wire_recv(sv[1], &m), 0);
		CHECK_EQ(m.hdr->type, all_types[i].type);
		CHECK_EQ(m.hdr->size, all_types[i].size);
		CHECK_EQ(m.fd_count, nf);
		CHECK(memcmp(m.hdr, buf, hdr->size) == 0);
		for (uint32_t j = 0; j < nf; j++) {
			CHECK(same_file(m.fds[j], pr[j].wr));
			CHECK(fcntl(m.fds[j], F_GETFD) & FD_CLOEXEC);
			close(pr[j].wr);
			pr[j].wr = -1;
			CHECK(!probe_all_closed(&pr[j]));
		}
		for (uint32_t j = nf; j < WIRE_MAX_FDS; j++)
			CHECK_EQ(m.fds[j], -1);
		wire_msg_free(&m);
		CHECK(m.hdr == NULL);
		for (uint32_t j = 0; j < nf; j++) {
			CHECK(probe_all_closed(&pr[j]));
			probe_close(&pr[j]);
		}
	}
	close(sv[0]);
	close(sv[1]);
}

/* Back-to-back messages keep their own fds: the reader never crosses a message boundary. */
static void test_fds_stay_with_their_message(void)
{
	struct wire_import_buffer a = {.hdr = {WIRE_IMPORT_BUFFER, 0, sizeof(a), 1}};
	struct wire_device_query_resp b = {.hdr = {WIRE_RESP(81), 0, sizeof(b), 1}};
	struct wire_flush c = {.hdr = {WIRE_FLUSH, 0, sizeof(c), 0}};
	struct probe p1, p2;
	struct wire_msg m;
	int sv[2];

	REQUIRE(make_pair(sv) == 0);
	REQUIRE(probe_open(&p1) == 0);
	REQUIRE(probe_open(&p2) == 0);
	CHECK_EQ(wire_send(sv[0], &a, sizeof(a), &p1.wr, 1), 0);
	CHECK_EQ(wire_send(sv[0], &c, sizeof(c), NULL, 0), 0);
	CHECK_EQ(wire_send(sv[0], &b, sizeof(b), &p2.wr, 1), 0);
	REQUIRE_EQ(wire_recv(sv[1], &m), 0);
	CHECK_EQ(m.fd_count, 1);
	CHECK(same_file(m.fds[0], p1.wr));
	wire_msg_free(&m);
	REQUIRE_EQ(wire_recv(sv[1], &m), 0);
	CHECK_EQ(m.hdr->type, WIRE_FLUSH);
	CHECK_EQ(m.fd_count, 0);
	wire_msg_free(&m);
	REQUIRE_EQ(wire_recv(sv[1], &m), 0);
	CHECK_EQ(m.fd_count, 1);
	CHECK(same_file(m.fds[0], p2.wr));
	/* Keeping an fd: set it to -1 before wire_msg_free. */
	{
		int kept = m.fds[0];

		m.fds[0] = -1;
		wire_msg_free(&m);
		CHECK(fcntl(kept, F_GETFD) >= 0);
		close(kept);
	}
	probe_close(&p1);
	probe_close(&p2);
	close(sv[0]);
	close(sv[1]);
}

struct big_send {
	int sock;
	void *msg;
	size_t size;
	const int *fds;
	uint32_t nfds;
	int ret;
};

static void *big_sender(void *arg)
{
	struct big_send *s = arg;

	s->ret = wire_send(s->sock, s->msg, s->size, s->fds, s->nfds);
	return NULL;
}

/* A maximum-size message with 4 fds through a small socket buffer: many partial transfers. */
static void test_large_message_partial_io(void)
{
	size_t size = WIRE_MAX_MESSAGE;
	uint8_t *msg = malloc(size);
	struct probe pr[WIRE_MAX_FDS];
	int fds[WIRE_MAX_FDS];
	struct big_send s;
	struct wire_msg m;
	pthread_t th;
	int sv[2], small = 4096;

	REQUIRE(msg);
	REQUIRE(make_pair(sv) == 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	for (size_t i = 0; i < size; i++)
		msg[i] = (uint8_t)(i * 31 + (i >> 12));
	((struct wire_hdr *)msg)->type = WIRE_EXECUTE_COMMAND;
	((struct wire_hdr *)msg)->flags = 0;
	((struct wire_hdr *)msg)->size = (uint32_t)size;
	((struct wire_hdr *)msg)->fd_count = WIRE_MAX_FDS;
	for (int i = 0; i < WIRE_MAX_FDS; i++) {
		REQUIRE(probe_open(&pr[i]) == 0);
		fds[i] = pr[i].wr;
	}
	s = (struct big_send){sv[0], msg, size, fds, WIRE_MAX_FDS, -1};
	REQUIRE(pthread_create(&th, NULL, big_sender, &s) == 0);
	CHECK_EQ(wire_recv(sv[1], &m), 0);
	pthread_join(th, NULL);
	CHECK_EQ(s.ret, 0);
	if (m.hdr) {
		CHECK(memcmp(m.hdr, msg, size) == 0);
		CHECK_EQ(m.fd_count, WIRE_MAX_FDS);
		for (int i = 0; i < WIRE_MAX_FDS; i++)
			CHECK(same_file(m.fds[i], pr[i].wr));
		wire_msg_free(&m);
	}
	for (int i = 0; i < WIRE_MAX_FDS; i++)
		probe_close(&pr[i]);

	/* Also a non-blocking sender: partial writes wait in poll() instead of failing. */
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	((struct wire_hdr *)msg)->fd_count = 0;
	s = (struct big_send){sv[0], msg, size, NULL, 0, -1};
	REQUIRE(pthread_create(&th, NULL, big_sender, &s) == 0);
	CHECK_EQ(wire_recv(sv[1], &m), 0);
	pthread_join(th, NULL);
	CHECK_EQ(s.ret, 0);
	if (m.hdr)
		CHECK(memcmp(m.hdr, msg, size) == 0);
	wire_msg_free(&m);
	close(sv[0]);
	close(sv[1]);
	free(msg);
}

static void test_send_rejects_bad_args(void)
{
	uint64_t buf[4] = {0};
	int sv[2], fd = 0;

	REQUIRE(make_pair(sv) == 0);
	CHECK_EQ(wire_send(sv[0], buf, 8, NULL, 0), -EINVAL);
	CHECK_EQ(wire_send(sv[0], buf, 20, NULL, 0), -EINVAL);
	CHECK_EQ(wire_send(sv[0], buf, (size_t)WIRE_MAX_MESSAGE + 8, NULL, 0), -EINVAL);
	CHECK_EQ(wire_send(sv[0], buf, 16, &fd, WIRE_MAX_FDS + 1), -EINVAL);
	CHECK_EQ(wire_send(sv[0], buf, 16, NULL, 1), -EINVAL);
	CHECK_EQ(wire_send(sv[0], NULL, 16, NULL, 0), -EINVAL);
	CHECK_EQ(wire_recv(sv[1], NULL), -EINVAL);
	close(sv[1]);
	CHECK_EQ(wire_send(sv[0], buf, 16, NULL, 0), -EPIPE);
	close(sv[0]);
}

static void test_nonblocking_empty_is_eagain(void)
{
	struct wire_msg m;
	int sv[2];

	REQUIRE(make_pair(sv) == 0);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	CHECK_EQ(wire_recv(sv[1], &m), -EAGAIN);
	CHECK(m.hdr == NULL);
	close(sv[0]);
	close(sv[1]);
}

/* Sends raw bytes with @nfds probe fds attached to them (SCM_RIGHTS), closing our copies. */
static int raw_send(int sock, const void *bytes, size_t len, struct probe *pr, int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 32)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = (void *)bytes, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	memset(&ctl, 0, sizeof(ctl));
	if (nfds) {
		struct cmsghdr *cm;

		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		for (int i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(cm) + i * sizeof(int), &pr[i].wr, sizeof(int));
	}
	n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	for (int i = 0; i < nfds; i++) {
		close(pr[i].wr);
		pr[i].wr = -1;
	}
	return n == (ssize_t)len ? 0 : -1;
}

/*
 * One framing violation: @hdr then @body_len bytes of body, @hdr_fds fds with the header and
 * @body_fds fds with the body (sent as a second chunk). wire_recv must say -EBADMSG and no fd
 * may survive. @line names the case in failures.
 */
struct bad_frame {
	int line;
	struct wire_hdr hdr;
	size_t body_len;
	int hdr_fds;
	int body_fds;
};

static const struct bad_frame bad_frames[] = {
	/* size smaller than the header */
	{__LINE__, {WIRE_FLUSH, 0, 8, 0}, 0, 0, 0},
	{__LINE__, {WIRE_FLUSH, 0, 0, 1}, 0, 1, 0},
	/* not a multiple of 8 */
	{__LINE__, {WIRE_FLUSH, 0, 20, 0}, 0, 0, 0},
	{__LINE__, {WIRE_IMPORT_BUFFER, 0, 33, 1}, 0, 1, 0},
	/* larger than WIRE_MAX_MESSAGE */
	{__LINE__, {WIRE_EXECUTE_COMMAND, 0, WIRE_MAX_MESSAGE + 8, 0}, 0, 0, 0},
	{__LINE__, {WIRE_EXECUTE_COMMAND, 0, 0xfffffff8u, 2}, 0, 2, 0},
	/* fd_count above WIRE_MAX_FDS, with that many fds actually sent */
	{__LINE__, {WIRE_IMPORT_BUFFER, 0, 16, WIRE_MAX_FDS + 1}, 0, WIRE_MAX_FDS + 1, 0},
	/* far more fds than the receiver has room for (some are cut off by the kernel) */
	{__LINE__, {WIRE_IMPORT_BUFFER, 0, 16, 1}, 0, 30, 0},
	/* fd_count disagrees with the fds received */
	{__LINE__, {WIRE_IMPORT_BUFFER, 0, 32, 2}, 16, 1, 0},
	{__LINE__, {WIRE_IMPORT_BUFFER, 0, 32, 0}, 16, 1, 0},
	{__LINE__, {WIRE_IMPORT_BUFFER, 0, 32, 1}, 16, 0, 0},
	/* fds attached to the body instead of the first byte */
	{__LINE__, {WIRE_IMPORT_BUFFER, 0, 32, 1}, 16, 0, 1},
	/* fds on both header and body */
	{__LINE__, {WIRE_IMPORT_BUFFER, 0, 32, 1}, 16, 1, 1},
};

static void check_bad_frame(const struct bad_frame *f)
{
	int line = f->line, nfds = f->hdr_fds + f->body_fds;
	struct probe pr[32];
	uint8_t body[256] = {0};
	struct wire_msg m;
	int sv[2], ret;

	if (make_pair(sv)) {
		SIM_TEST_FAIL("socketpair (case at line %d)", line);
		return;
	}
	for (int i = 0; i < nfds; i++)
		probe_open(&pr[i]);
	raw_send(sv[0], &f->hdr, sizeof(f->hdr), pr, f->hdr_fds);
	if (f->body_len || f->body_fds)
		raw_send(sv[0], body, f->body_len ? f->body_len : 8, pr + f->hdr_fds, f->body_fds);
	ret = wire_recv(sv[1], &m);
	if (ret != -EBADMSG)
		SIM_TEST_FAIL("case at line %d: wire_recv = %d, want -EBADMSG", line, ret);
	if (m.hdr != NULL || m.fd_count != 0)
		SIM_TEST_FAIL("case at line %d: message returned on error", line);
	for (int i = 0; i < nfds; i++) {
		if (!probe_all_closed(&pr[i]))
			SIM_TEST_FAIL("case at line %d: fd %d leaked", line, i);
		probe_close(&pr[i]);
	}
	close(sv[0]);
	close(sv[1]);
}

static void test_framing_violations(void)
{
	for (size_t i = 0; i < sizeof(bad_frames) / sizeof(bad_frames[0]); i++)
		check_bad_frame(&bad_frames[i]);
}

static void test_non_rights_cmsg_is_bad(void)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl;
	struct wire_hdr h = {WIRE_FLUSH, 0, 16, 0};
	struct iovec iov = {.iov_base = &h, .iov_len = sizeof(h)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct ucred cred = {.pid = getpid(), .uid = getuid(), .gid = getgid()};
	struct cmsghdr *cm;
	struct wire_msg m;
	int sv[2], one = 1;

	REQUIRE(make_pair(sv) == 0);
	REQUIRE(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == 0);
	memset(&ctl, 0, sizeof(ctl));
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_CREDENTIALS;
	cm->cmsg_len = CMSG_LEN(sizeof(cred));
	memcpy(CMSG_DATA(cm), &cred, sizeof(cred));
	REQUIRE(sendmsg(sv[0], &mh, 0) == sizeof(h));
	CHECK_EQ(wire_recv(sv[1], &m), -EBADMSG);
	close(sv[0]);
	close(sv[1]);
}

static void test_hangup(void)
{
	struct wire_hdr h = {WIRE_IMPORT_BUFFER, 0, 32, 1};
	struct probe pr;
	struct wire_msg m;
	int sv[2];

	/* orderly close before any byte */
	REQUIRE(make_pair(sv) == 0);
	close(sv[0]);
	CHECK_EQ(wire_recv(sv[1], &m), -ECONNRESET);
	close(sv[1]);

	/* close inside the header */
	REQUIRE(make_pair(sv) == 0);
	REQUIRE(write(sv[0], &h, 7) == 7);
	close(sv[0]);
	CHECK_EQ(wire_recv(sv[1], &m), -ECONNRESET);
	close(sv[1]);

	/* close inside the body: the fd that came with the header is closed */
	REQUIRE(make_pair(sv) == 0);
	REQUIRE(probe_open(&pr) == 0);
	raw_send(sv[0], &h, sizeof(h), &pr, 1);
	REQUIRE(write(sv[0], "12345678", 8) == 8);
	close(sv[0]);
	CHECK_EQ(wire_recv(sv[1], &m), -ECONNRESET);
	CHECK(probe_all_closed(&pr));
	probe_close(&pr);
	close(sv[1]);
}

static void on_usr1(int sig)
{
	(void)sig;
}

struct late {
	int sock;
	pthread_t target;
};

static void *late_sender(void *arg)
{
	struct late *l = arg;
	struct wire_flush f = {.hdr = {WIRE_FLUSH, 0, sizeof(f), 0}};
	struct timespec ts = {0, 20 * 1000 * 1000};

	nanosleep(&ts, NULL);
	pthread_kill(l->target, SIGUSR1);
	nanosleep(&ts, NULL);
	/* Split the message so the reader sees a partial header, interrupted again. */
	if (write(l->sock, &f, 5) != 5)
		return NULL;
	pthread_kill(l->target, SIGUSR1);
	nanosleep(&ts, NULL);
	if (write(l->sock, (char *)&f + 5, sizeof(f) - 5) != (ssize_t)(sizeof(f) - 5))
		return NULL;
	return NULL;
}

/* A blocked wire_recv interrupted by a signal (no SA_RESTART) keeps waiting. */
static void test_eintr_is_retried(void)
{
	struct sigaction sa, old;
	struct wire_msg m;
	struct late l;
	pthread_t th;
	int sv[2];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, &old);
	REQUIRE(make_pair(sv) == 0);
	l.sock = sv[0];
	l.target = pthread_self();
	REQUIRE(pthread_create(&th, NULL, late_sender, &l) == 0);
	CHECK_EQ(wire_recv(sv[1], &m), 0);
	if (m.hdr)
		CHECK_EQ(m.hdr->type, WIRE_FLUSH);
	wire_msg_free(&m);
	pthread_join(th, NULL);
	sigaction(SIGUSR1, &old, NULL);
	close(sv[0]);
	close(sv[1]);
}

/* A write to a closed socket fails with EPIPE instead of killing the test. */
static int process_setup(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	return SIM_TEST_CONTINUE;
}

static const struct sim_test tests[] = {
	SIM_TEST(test_struct_sizes),
	SIM_TEST(test_round_trip_every_type),
	SIM_TEST(test_fds_stay_with_their_message),
	SIM_TEST(test_large_message_partial_io),
	SIM_TEST(test_send_rejects_bad_args),
	SIM_TEST(test_nonblocking_empty_is_eagain),
	SIM_TEST(test_framing_violations),
	SIM_TEST(test_non_rights_cmsg_is_bad),
	SIM_TEST(test_hangup),
	SIM_TEST(test_eintr_is_retried),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.process_setup = process_setup,
};
