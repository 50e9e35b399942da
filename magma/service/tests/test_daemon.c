/* SPDX-License-Identifier: MIT */
/*
 * test_daemon.c - magma-simd as a separate process: two client processes served at once, a
 * client killed mid-connection leaving no connection behind (seen through the service's
 * MAGMA_SYSTEM_QUERY_CONNECTION_COUNT debug query), a second device, the model options
 * (--cores, --queues, --lanes, --memory) as clients see them, and a clean SIGTERM shutdown that
 * removes the sockets. Every wait is bounded.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "magma_sim_defs.h"
#include "sim_test.h"
#include "test_client.h"

#define GPU_VA	     0x100000ull
#define GPU_BUF_SIZE 0x4000ull
#define GPU_PAGE     0x1000ull

static char g_dir[64];
static pid_t g_daemon = -1;

static void sleep_ms(int ms)
{
	usleep((useconds_t)ms * 1000);
}

/* A handshaken device channel to DIR/magma<index>; -1 on failure. */
/* Waits up to 10 s for @path to exist (a daemon publishes a socket once it listens). */
static int wait_for_path(const char *path)
{
	struct stat st;

	for (int i = 0; i < 1000; i++) {
		if (stat(path, &st) == 0)
			return 1;
		sleep_ms(10);
	}
	return 0;
}

static int connect_dir_device(const char *dir, int index)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/magma%d", dir, index) >=
	    (int)sizeof(addr.sun_path)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (tc_handshake(fd, WIRE_PROTOCOL_VERSION) != MAGMA_STATUS_OK) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_device(int index)
{
	return connect_dir_device(g_dir, index);
}

static uint64_t connection_count(int fd)
{
	uint64_t v = ~0ull;
	int buf_fd;

	if (tc_query(fd, MAGMA_SYSTEM_QUERY_CONNECTION_COUNT, &v, &buf_fd) != MAGMA_STATUS_OK)
		return ~0ull;
	return v;
}

/* Polls until the daemon reports @want connections (2 s at most). */
static uint64_t wait_count(int fd, uint64_t want)
{
	uint64_t v = connection_count(fd);

	for (int i = 0; i < 400 && v != want; i++) {
		sleep_ms(5);
		v = connection_count(fd);
	}
	return v;
}

/* A client process: connection with objects, tells @ready_fd, then waits on @go_fd (or forever). */
static void client_process(int ready_fd, int go_fd)
{
	struct wire_map_buffer m = {
		.hw_va = 0x100000, .buffer_id = 1, .length = 0x4000, .flags = MAGMA_MAP_FLAG_READ};
	struct tc_conn c;
	int fd = connect_device(0);
	char b;

	if (fd < 0 || tc_create_connection(fd, &c) != MAGMA_STATUS_OK)
		_exit(10);
	if (tc_create_context(&c, 1) || tc_import_buffer(&c, 1, 0x4000) ||
	    tc_import_semaphore(&c, 1) ||
	    tc_send(c.primary, &m, sizeof(m), WIRE_MAP_BUFFER, NULL, 0))
		_exit(11);
	if (tc_flush(&c) != MAGMA_STATUS_OK)
		_exit(12);
	if (write(ready_fd, "r", 1) != 1)
		_exit(13);
	if (go_fd < 0) {
		for (;;)
			pause();
	}
	if (read(go_fd, &b, 1) != 1)
		_exit(14);
	if (tc_flush(&c) != MAGMA_STATUS_OK)
		_exit(15);
	_exit(0);
}

static void test_two_clients_at_once(void)
{
	int ready[2], go[2], fd = connect_device(0), status;
	pid_t kids[2];

	REQUIRE(fd >= 0);
	REQUIRE(pipe(ready) == 0 && pipe(go) == 0);
	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		REQUIRE(kids[i] >= 0);
		if (kids[i] == 0)
			client_process(ready[1], go[0]);
	}
	CHECK_EQ(tc_wait_byte(ready[0]), 0);
	CHECK_EQ(tc_wait_byte(ready[0]), 0);
	CHECK_EQ(connection_count(fd), 2);
	CHECK_EQ(write(go[1], "gg", 2), 2);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(waitpid(kids[i], &status, 0), kids[i]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	CHECK_EQ(wait_count(fd, 0), 0);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	close(fd);
}

static void test_killed_client_leaves_nothing(void)
{
	int ready[2], fd = connect_device(0), status;
	pid_t kid;

	REQUIRE(fd >= 0);
	REQUIRE(pipe(ready) == 0);
	kid = fork();
	REQUIRE(kid >= 0);
	if (kid == 0)
		client_process(ready[1], -1);
	CHECK_EQ(tc_wait_byte(ready[0]), 0);
	CHECK_EQ(connection_count(fd), 1);
	kill(kid, SIGKILL);
	CHECK_EQ(waitpid(kid, &status, 0), kid);
	CHECK_EQ(wait_count(fd, 0), 0);
	/* The device still serves new clients. */
	{
		struct tc_conn c;

		CHECK_EQ(tc_create_connection(fd, &c), MAGMA_STATUS_OK);
		CHECK_EQ(tc_flush(&c), MAGMA_STATUS_OK);
		tc_close(&c);
	}
	close(ready[0]);
	close(ready[1]);
	close(fd);
}

static bool daemon_alive(void)
{
	return g_daemon > 0 && waitpid(g_daemon, NULL, WNOHANG) == 0;
}

/*
 * A healthy client of device 0: a new channel and connection that imports a buffer, maps it, runs
 * a WRITE32 on the GPU and sees the word land and its semaphore signaled. 0, or the failed step.
 */
static int healthy_gpu_write(void)
{
	struct wire_map_buffer map = {.hw_va = GPU_VA,
				      .buffer_id = 1,
				      .length = GPU_BUF_SIZE,
				      .flags = MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE |
					       MAGMA_MAP_FLAG_EXECUTE};
	struct wire_import_buffer ib = {.buffer_id = 1, .size = GPU_BUF_SIZE};
	struct wire_import_semaphore is = {.semaphore_id = 1};
	struct {
		struct wire_execute_command m;
		struct magma_exec_resource res;
		struct magma_exec_command_buffer cb;
		uint64_t signal;
	} ex;
	struct pollfd pfd;
	struct tc_conn c = {.primary = -1, .notif = -1};
	uint32_t *cpu = MAP_FAILED, n = 0;
	int fd = connect_device(0), mem = tc_memfd(GPU_BUF_SIZE), sem = tc_eventfd(), step = 1;

	if (fd < 0 || mem < 0 || sem < 0)
		goto out;
	step++;
	if (tc_create_connection(fd, &c) != MAGMA_STATUS_OK)
		goto out;
	step++;
	cpu = mmap(NULL, GPU_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mem, 0);
	if (cpu == MAP_FAILED)
		goto out;
	n += sim_cmd_emit_write32(cpu + 0x400 + n, GPU_VA, 0x600dbeefu);
	n += sim_cmd_emit_end(cpu + 0x400 + n);
	memset(&ex, 0, sizeof(ex));
	ex.m.context_id = 1;
	ex.m.resource_count = 1;
	ex.m.command_buffer_count = 1;
	ex.m.signal_semaphore_count = 1;
	ex.res = (struct magma_exec_resource){1, 0x1000, n * 4u};
	ex.cb.start_offset = 0x1000;
	ex.signal = 1;
	step++;
	if (tc_create_context(&c, 1) ||
	    tc_send(c.primary, &ib, sizeof(ib), WIRE_IMPORT_BUFFER, &mem, 1) ||
	    tc_send(c.primary, &is, sizeof(is), WIRE_IMPORT_SEMAPHORE, &sem, 1) ||
	    tc_send(c.primary, &map, sizeof(map), WIRE_MAP_BUFFER, NULL, 0) ||
	    tc_send(c.primary, &ex, sizeof(ex), WIRE_EXECUTE_COMMAND, NULL, 0))
		goto out;
	step++;
	if (tc_flush(&c) != MAGMA_STATUS_OK)
		goto out;
	step++;
	pfd = (struct pollfd){.fd = sem, .events = POLLIN};
	if (poll(&pfd, 1, 10000) != 1 || cpu[0] != 0x600dbeefu)
		goto out;
	step = 0;
out:
	if (cpu != MAP_FAILED)
		munmap(cpu, GPU_BUF_SIZE);
	tc_close(&c);
	if (mem >= 0)
		close(mem);
	if (sem >= 0)
		close(sem);
	if (fd >= 0)
		close(fd);
	return step;
}

/*
 * Sends inline commands on @c's context 1: a WRITE32 of @value to @va. 0 or -errno.
 */
static int send_inline_write32(struct tc_conn *c, uint64_t va, uint32_t value)
{
	struct {
		struct wire_execute_inline m;
		struct wire_inline_command rec;
		uint32_t words[8];
	} msg;
	uint32_t n;

	memset(&msg, 0, sizeof(msg));
	n = sim_cmd_emit_write32(msg.words, va, value);
	msg.m.context_id = 1;
	msg.m.command_count = 1;
	msg.rec.size = n * 4u;
	return tc_send(c->primary, &msg,
		       (uint32_t)(sizeof(msg.m) + sizeof(msg.rec) + ((n * 4u + 7) & ~7u)),
		       WIRE_EXECUTE_INLINE_COMMANDS, NULL, 0);
}

/*
 * Hole: a memfd made without MFD_ALLOW_SEALING cannot be sealed against shrinking. Sent straight
 * on the wire (libmagma would refuse it), then shrunk to nothing, mapped and written by the GPU:
 * the service must refuse it at import (INVALID_ARGS, that connection only), or the daemon
 * touches pages that no longer exist and dies of SIGBUS, taking every client with it.
 */
static void test_unsealable_memfd_cannot_crash_the_daemon(void)
{
	struct wire_import_buffer ib = {.buffer_id = 1, .size = GPU_BUF_SIZE};
	struct wire_map_buffer map = {.hw_va = GPU_VA,
				      .buffer_id = 1,
				      .length = GPU_BUF_SIZE,
				      .flags = MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE};
	int fd = connect_device(0), mem = memfd_create("unsealable", MFD_CLOEXEC);
	struct tc_conn c;

	REQUIRE(fd >= 0 && mem >= 0);
	REQUIRE(ftruncate(mem, GPU_BUF_SIZE) == 0);
	REQUIRE(tc_create_connection(fd, &c) == MAGMA_STATUS_OK);
	CHECK_EQ(tc_create_context(&c, 1), 0);
	CHECK_EQ(tc_send(c.primary, &ib, sizeof(ib), WIRE_IMPORT_BUFFER, &mem, 1), 0);
	/* Shrunk only once the service has taken the import (the flush answers after it). */
	CHECK_EQ(tc_flush(&c), MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(ftruncate(mem, 0), 0); /* the pages are gone */
	/* Sends fail once the service has closed the connection; try them all the same. */
	if (!tc_send(c.primary, &map, sizeof(map), WIRE_MAP_BUFFER, NULL, 0) &&
	    !send_inline_write32(&c, GPU_VA, 0xbadu) &&
	    !send_inline_write32(&c, GPU_VA + GPU_BUF_SIZE - 4, 0xbadu))
		tc_flush(&c);
	tc_close(&c);
	/* GPU work submitted after the hostile client's runs after it, on the one engine. */
	CHECK_EQ(healthy_gpu_write(), 0);
	CHECK(daemon_alive());
	close(mem);
	close(fd);
}

/* The daemon's open fds (its /proc/PID/fd entries), or -1. */
static int daemon_fd_count(void)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)g_daemon);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Polls until the daemon holds @want fds (10 s at most); returns the last count. */
static int wait_daemon_fds(int want)
{
	int n = daemon_fd_count();

	for (int i = 0; i < 2000 && n != want; i++) {
		sleep_ms(5);
		n = daemon_fd_count();
	}
	return n;
}

/*
 * Hole: a client that hangs up had its channel's fd (and its connection's) closed only when the
 * next client connected. They are given back as soon as the client is gone, with nobody else
 * arriving.
 */
static void test_gone_client_is_reaped_at_once(void)
{
	int probe = connect_device(0), base, fd;
	uint64_t channels = ~0ull;
	struct tc_conn c;

	REQUIRE(probe >= 0);
	/* Settled: the earlier tests' clients are gone, the probe is device 0's one channel. */
	for (int i = 0; i < 2000 && channels != 1; i++) {
		int buf_fd;

		if (tc_query(probe, MAGMA_SYSTEM_QUERY_CHANNEL_COUNT, &channels, &buf_fd))
			break;
		if (channels != 1)
			sleep_ms(5);
	}
	REQUIRE_EQ(channels, 1);
	REQUIRE_EQ(wait_count(probe, 0), 0);
	base = daemon_fd_count();
	REQUIRE(base > 0);
	fd = connect_device(0);
	REQUIRE(fd >= 0);
	REQUIRE(tc_create_connection(fd, &c) == MAGMA_STATUS_OK);
	CHECK_EQ(tc_flush(&c), MAGMA_STATUS_OK);
	CHECK(daemon_fd_count() > base);
	tc_close(&c);
	close(fd);
	CHECK_EQ(wait_daemon_fds(base), base);
	close(probe);
}

/* A device channel to device 0 within 10 s (each try within its own handshake), or -1. */
static int connect_device_patiently(void)
{
	int fd = connect_device(0);

	for (int i = 0; i < 100 && fd < 0; i++) {
		sleep_ms(100);
		fd = connect_device(0);
	}
	return fd;
}

/*
 * An idle-socket hog: connects @count sockets to device 0 and never sends a byte; tells
 * @ready_fd, then waits until the daemon has hung up on every one (10 s at most) and exits 0 if
 * it did.
 */
static void idle_socket_process(int ready_fd, int count)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int *fds = calloc((size_t)count, sizeof(int));
	int closed = 0;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/magma0", g_dir);
	for (int i = 0; i < count; i++) {
		fds[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&addr, sizeof(addr)))
			_exit(10);
	}
	if (write(ready_fd, "r", 1) != 1)
		_exit(11);
	/* One deadline for all of them: 10 s from now. */
	for (int i = 0, left_ms = 10000; i < count && left_ms > 0; i++) {
		struct pollfd pfd = {.fd = fds[i], .events = POLLIN};
		char b;

		while (left_ms > 0 && poll(&pfd, 1, 10) == 0)
			left_ms -= 10;
		if (pfd.revents && read(fds[i], &b, 1) == 0)
			closed++;
	}
	_exit(closed == count ? 0 : 12);
}

/*
 * Hole: ~1,100 sockets that connect and never say a word used to take every device channel, and
 * every new client failed. Now one process may hold only a few channels before their handshake
 * (the rest are hung up on at once) and each must complete it within the handshake timeout, so
 * a real client gets in (and runs GPU work) while the idle sockets are still open; every idle
 * socket is hung up on in the end.
 */
static void test_idle_sockets_lock_nobody_out(void)
{
	int ready[2], fd, status;
	pid_t kid;

	REQUIRE(pipe(ready) == 0);
	kid = fork();
	REQUIRE(kid >= 0);
	if (kid == 0)
		idle_socket_process(ready[1], 1100);
	CHECK_EQ(tc_wait_byte(ready[0]), 0);
	fd = connect_device_patiently();
	CHECK(fd >= 0);
	CHECK_EQ(healthy_gpu_write(), 0);
	CHECK_EQ(waitpid(kid, &status, 0), kid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (fd >= 0)
		close(fd);
	close(ready[0]);
	close(ready[1]);
}

/* The limits device 0 enforces (MAGMA_SYSTEM_QUERY_LIMITS). 0 or -1. */
static int query_limits(int fd, struct magma_system_limits *out)
{
	uint64_t v;
	int buf_fd = -1, ret = -1;

	if (tc_query(fd, MAGMA_SYSTEM_QUERY_LIMITS, &v, &buf_fd) == MAGMA_STATUS_OK && buf_fd >= 0)
		ret = pread(buf_fd, out, sizeof(*out), 0) == (ssize_t)sizeof(*out) ? 0 : -1;
	if (buf_fd >= 0)
		close(buf_fd);
	return ret;
}

static int hog_map(struct tc_conn *c, uint64_t id, uint64_t va, uint64_t length)
{
	struct wire_map_buffer m = {
		.hw_va = va, .buffer_id = id, .length = length, .flags = MAGMA_MAP_FLAG_READ};

	return tc_send(c->primary, &m, sizeof(m), WIRE_MAP_BUFFER, NULL, 0);
}

/* Flushes @c every 1024 messages, so that a refusal is seen where it happens. */
static int hog_pace(struct tc_conn *c, uint64_t *sent)
{
	return ++*sent % 1024 == 0 && tc_flush(c) != MAGMA_STATUS_OK ? -1 : 0;
}

/*
 * Takes every per-process limit of @l on one connection at once: handles (small buffers, a big
 * sparse one and a semaphore), buffer bytes (the big one), resident buffers as far as handles
 * allow, mappings (the small buffers mapped again and again) and mapped bytes (part of the big
 * one). 0, or the failed step.
 */
static int hog_take_objects(struct tc_conn *k, const struct magma_system_limits *l)
{
	const uint64_t handles = l->process[MAGMA_SYSTEM_RES_HANDLES];
	const uint64_t mappings = l->process[MAGMA_SYSTEM_RES_MAPPINGS];
	uint64_t small = handles - 2, sent = 0, big_size, big_mapped, big_id;

	if (small > l->process[MAGMA_SYSTEM_RES_RESIDENT_BUFFERS] - 1)
		small = l->process[MAGMA_SYSTEM_RES_RESIDENT_BUFFERS] - 1;
	if (small > mappings - 1)
		small = mappings - 1;
	big_id = small + 1;
	big_size = l->process[MAGMA_SYSTEM_RES_BUFFER_BYTES] - small * GPU_PAGE;
	big_mapped = l->process[MAGMA_SYSTEM_RES_MAPPED_BYTES] - (mappings - 1) * GPU_PAGE;
	for (uint64_t i = 0; i < small; i++) {
		if (tc_import_buffer(k, i + 1, GPU_PAGE) || hog_pace(k, &sent))
			return 1;
	}
	if (tc_import_buffer(k, big_id, big_size))
		return 2;
	for (uint64_t i = 0; i < handles - small - 1; i++) {
		if (tc_import_semaphore(k, i + 1) || hog_pace(k, &sent))
			return 3;
	}
	/* Mappings 0..mappings-2 of the small buffers, round robin; the last maps the big one. */
	for (uint64_t j = 0; j < mappings - 1; j++) {
		if (hog_map(k, j % small + 1, GPU_VA + j * GPU_PAGE, GPU_PAGE) ||
		    hog_pace(k, &sent))
			return 4;
	}
	if (hog_map(k, big_id, 1ull << 40, big_mapped))
		return 5;
	return tc_flush(k) == MAGMA_STATUS_OK ? 0 : 6;
}

/*
 * A hog process at every per-process limit of device 0 at once, as the daemon sets them by
 * default: objects, connections and channels; the next of each is refused. Tells @ready_fd,
 * then holds it all until a byte arrives on @go_fd. Exits with 0 or the failed step.
 */
static void hog_process(int ready_fd, int go_fd)
{
	struct magma_system_limits l;
	struct tc_conn k, extra, *more;
	uint64_t conns, channels;
	int fd = connect_device(0), *chans, step;
	char b;

	if (fd < 0 || query_limits(fd, &l) || tc_create_connection(fd, &k) != MAGMA_STATUS_OK)
		_exit(20);
	step = hog_take_objects(&k, &l);
	if (step)
		_exit(20 + step);
	/* At the handles limit: one more semaphore closes the connection it came on, only. */
	if (tc_create_connection(fd, &extra) != MAGMA_STATUS_OK || tc_import_semaphore(&extra, 1))
		_exit(30);
	if (tc_flush(&extra) != MAGMA_STATUS_MEMORY_ERROR || tc_flush(&k) != MAGMA_STATUS_OK)
		_exit(31);
	tc_close(&extra);
	/* Every connection the process may have (k and the rest), then one too many. */
	conns = l.process[MAGMA_SYSTEM_RES_CONNECTIONS];
	more = calloc(conns, sizeof(*more));
	for (uint64_t i = 1; i < conns; i++) {
		magma_status_t s = tc_create_connection(fd, &more[i]);

		/* The refused one above may not be given back yet: retry for a while. */
		for (int t = 0; t < 200 && s == MAGMA_STATUS_MEMORY_ERROR; t++) {
			tc_close(&more[i]);
			sleep_ms(5);
			s = tc_create_connection(fd, &more[i]);
		}
		if (s != MAGMA_STATUS_OK)
			_exit(32);
	}
	if (tc_create_connection(fd, &extra) != MAGMA_STATUS_MEMORY_ERROR)
		_exit(33);
	tc_close(&extra);
	/* Every channel the process may have, then one too many. */
	channels = l.process[MAGMA_SYSTEM_RES_CHANNELS];
	chans = calloc(channels, sizeof(int));
	for (uint64_t i = 1; i < channels; i++) {
		chans[i] = connect_device(0);
		if (chans[i] < 0)
			_exit(34);
	}
	if (connect_device(0) >= 0)
		_exit(35);
	if (write(ready_fd, "r", 1) != 1)
		_exit(36);
	if (read(go_fd, &b, 1) != 1)
		_exit(37);
	_exit(tc_flush(&k) == MAGMA_STATUS_OK ? 0 : 38);
}

/*
 * Hole: one process could take what others need (a mapping per buffer in the daemon until the
 * kernel's map count ran out, connections, channels). A hog at every per-process limit of the
 * daemon's default limits at once, refused the next of each; meanwhile another client connects,
 * imports, maps and runs GPU work as if the hog were not there; killing the hog gives it all
 * back.
 */
static void test_hog_at_its_limits_leaves_others_room(void)
{
	int ready[2], go[2], fd = connect_device(0), status;
	uint64_t base;
	pid_t kid;

	REQUIRE(fd >= 0);
	base = connection_count(fd);
	REQUIRE(pipe(ready) == 0 && pipe(go) == 0);
	kid = fork();
	REQUIRE(kid >= 0);
	if (kid == 0)
		hog_process(ready[1], go[0]);
	CHECK_EQ(tc_wait_byte(ready[0]), 0);
	CHECK_EQ(healthy_gpu_write(), 0);
	CHECK_EQ(write(go[1], "g", 1), 1);
	CHECK_EQ(waitpid(kid, &status, 0), kid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	CHECK_EQ(wait_count(fd, base), base);
	CHECK_EQ(healthy_gpu_write(), 0);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	close(fd);
}

static void test_second_device(void)
{
	int fd = connect_device(1), buf_fd;
	uint64_t v = 0;

	REQUIRE(fd >= 0);
	CHECK_EQ(tc_query(fd, MAGMA_QUERY_VENDOR_ID, &v, &buf_fd), MAGMA_STATUS_OK);
	CHECK_EQ(v, 0x5349);
	close(fd);
}

static void test_sigterm_cleans_up(void)
{
	char path[300];
	struct stat st;
	int status = -1, fd = connect_device(0);

	REQUIRE(fd >= 0); /* a client still attached must not hold the daemon up */
	kill(g_daemon, SIGTERM);
	for (int i = 0; i < 1000 && waitpid(g_daemon, &status, WNOHANG) != g_daemon; i++)
		sleep_ms(10);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	g_daemon = -1;
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/magma%d", g_dir, i);
		CHECK(stat(path, &st) != 0);
	}
	CHECK_EQ(tc_handshake(fd, WIRE_PROTOCOL_VERSION), MAGMA_STATUS_CONNECTION_LOST);
	close(fd);
}

/*
 * Maps @size bytes of a new buffer on a new connection over device channel @fd: the status the
 * flush after it returns (MEMORY_ERROR when the bus has no room for them).
 */
static magma_status_t map_on_new_connection(int fd, uint64_t size)
{
	struct wire_map_buffer m = {
		.hw_va = GPU_VA, .buffer_id = 1, .length = size, .flags = MAGMA_MAP_FLAG_READ};
	struct tc_conn c = {.primary = -1, .notif = -1};
	magma_status_t s = tc_create_connection(fd, &c);

	if (s == MAGMA_STATUS_OK) {
		if (tc_import_buffer(&c, 1, size) ||
		    tc_send(c.primary, &m, sizeof(m), WIRE_MAP_BUFFER, NULL, 0))
			s = MAGMA_STATUS_INTERNAL_ERROR;
		else
			s = tc_flush(&c);
	}
	tc_close(&c);
	return s;
}

/*
 * --cores, --queues, --lanes and --memory configure the model a client sees: CONFIG0 of
 * MAGMA_SIM_QUERY_CONFIG has the counts, and 8 MiB of bus memory refuse a 16 MiB mapping (the
 * default daemon takes it) but take 4 MiB.
 */
static void test_model_options_reach_clients(void)
{
	char dir[128], sock[160];
	uint64_t config = 0;
	int status = -1, up = 0, fd, buf_fd;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/model", g_dir);
	snprintf(sock, sizeof(sock), "%s/magma0", dir);
	pid = fork();
	if (pid == 0) {
		setenv("MAGMA_SYSTEM_QUIET", "1", 1);
		execl(MAGMA_SIMD_PATH, "magma-simd", "--dir", dir, "--foreground", "--quiet",
		      "--cores", "3", "--queues", "2", "--lanes", "16", "--memory", "8M",
		      (char *)NULL);
		_exit(127);
	}
	up = wait_for_path(sock);
	REQUIRE(up);
	fd = connect_dir_device(dir, 0);
	REQUIRE(fd >= 0);
	CHECK_EQ(tc_query(fd, MAGMA_SIM_QUERY_CONFIG, &config, &buf_fd), MAGMA_STATUS_OK);
	CHECK_EQ(SIM_FIELD_GET(SIM_CONFIG0_CORES, config), 3);
	CHECK_EQ(SIM_FIELD_GET(SIM_CONFIG0_QUEUES, config), 2);
	CHECK_EQ(SIM_FIELD_GET(SIM_CONFIG0_LANES, config), 16);
	CHECK_EQ(map_on_new_connection(fd, 16ull << 20), MAGMA_STATUS_MEMORY_ERROR);
	CHECK_EQ(map_on_new_connection(fd, 4ull << 20), MAGMA_STATUS_OK);
	close(fd);
	/* The default daemon (4 GiB of bus memory) takes the mapping the small one refused. */
	fd = connect_device(0);
	REQUIRE(fd >= 0);
	CHECK_EQ(map_on_new_connection(fd, 16ull << 20), MAGMA_STATUS_OK);
	close(fd);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	rmdir(dir);
}

/* --dir is made when missing (0700), refused (exit 2) when it is a file or its parent is gone. */
static void test_dir_is_made_or_refused(void)
{
	char dir[128], sock[160], file[128];
	struct stat st;
	int status = -1, up = 0, fd;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/made", g_dir);
	snprintf(sock, sizeof(sock), "%s/magma0", dir);
	pid = fork();
	if (pid == 0) {
		execl(MAGMA_SIMD_PATH, "magma-simd", "--dir", dir, "--foreground", "--quiet",
		      (char *)NULL);
		_exit(127);
	}
	up = wait_for_path(sock);
	CHECK(up);
	CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	rmdir(dir);

	snprintf(file, sizeof(file), "%s/file", g_dir);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	REQUIRE(fd >= 0);
	close(fd);
	snprintf(dir, sizeof(dir), "%s/gone/sub", g_dir);
	for (int k = 0; k < 2; k++) {
		pid = fork();
		if (pid == 0) {
			execl(MAGMA_SIMD_PATH, "magma-simd", "--dir", k ? dir : file,
			      "--foreground", "--quiet", (char *)NULL);
			_exit(127);
		}
		waitpid(pid, &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	}
	unlink(file);
}

/* A client killed mid-write must not kill the test with it: EPIPE instead of SIGPIPE. */
static int process_setup(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	return SIM_TEST_CONTINUE;
}

/* Every test gets a fresh daemon with two devices in a directory of its own. */
static void setup(void)
{
	snprintf(g_dir, sizeof(g_dir), "/tmp/magma-simd-test-XXXXXX");
	g_daemon = tc_start_daemon(MAGMA_SIMD_PATH, g_dir, 2);
	REQUIRE(g_daemon > 0); /* magma-simd came up */
}

/* Stops the daemon unless the test did (SIGTERM: it removes its sockets), then the directory. */
static void teardown(void)
{
	char path[300];
	bool reaped = false;

	if (g_daemon > 0) {
		kill(g_daemon, SIGTERM);
		for (int i = 0; i < 1000 && !reaped; i++) {
			reaped = waitpid(g_daemon, NULL, WNOHANG) == g_daemon;
			if (!reaped)
				sleep_ms(10);
		}
		if (!reaped) {
			kill(g_daemon, SIGKILL);
			waitpid(g_daemon, NULL, 0);
		}
		g_daemon = -1;
	}
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/magma%d", g_dir, i);
		unlink(path);
	}
	rmdir(g_dir);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_two_clients_at_once),
	SIM_TEST(test_killed_client_leaves_nothing),
	SIM_TEST(test_unsealable_memfd_cannot_crash_the_daemon),
	SIM_TEST(test_gone_client_is_reaped_at_once),
	SIM_TEST(test_idle_sockets_lock_nobody_out),
	SIM_TEST(test_hog_at_its_limits_leaves_others_room),
	SIM_TEST(test_second_device),
	SIM_TEST(test_model_options_reach_clients),
	SIM_TEST(test_dir_is_made_or_refused),
	SIM_TEST(test_sigterm_cleans_up),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.process_setup = process_setup,
	.setup = setup,
	.teardown = teardown,
};
