/* SPDX-License-Identifier: MIT */
/*
 * test_daemon_killed_work.c - a killed client's GPU work does not outlive it (docs/devices.md). A
 * client process of magma-simd submits, through libmagma, a dispatch that would keep the GPU
 * busy for hours, and is SIGKILLed while it runs. The daemon must end up with no connection, the
 * GPU idle and powered down (the vendor power query), and the daemon process no longer burning a
 * core: its utime + stime from /proc over one second after that must stay well below a busy
 * core. Every wait has a generous deadline; the CPU bound is a quarter of a core against the
 * whole core the simulated GPU takes while it runs.
 */
#include <errno.h>
#include <inttypes.h>
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
#include <time.h>
#include <unistd.h>

#include "lib/magma/magma.h"
#include "magma_sim_defs.h"
#include "sim/sim_cmd.h"
#include "sim/sim_isa.h"
#include "sim_test.h"
#include "test_client.h"

#define PROG_VA	    0x40000000ull
#define CMD_OFF	    2048u      /* the command buffer, after the program in the same page */
#define HUGE_GROUPS (1u << 30) /* ~10^12 GPU cycles: hours of host time */

static char g_dir[64];
static pid_t g_daemon = -1;

/* Each group spins 300 iterations and stores nothing. */
static const char *const spin_kernel = "mov r4, 300\n"
				       "loop\n"
				       "seq r5, r4, 0\n"
				       "break r5\n"
				       "sub r4, r4, 1\n"
				       "endloop\n"
				       "exit\n";

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	usleep((useconds_t)ms * 1000);
}

/* A socket connected to the daemon's device 0, before any handshake; -1 on failure. */
static int connect_socket(void)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/magma0", g_dir);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The daemon's answer to query @id over device channel @fd; ~0 on failure. */
static uint64_t query(int fd, uint64_t id)
{
	uint64_t v = ~0ull;
	int buf_fd = -1;

	if (tc_query(fd, id, &v, &buf_fd) != MAGMA_STATUS_OK)
		return ~0ull;
	if (buf_fd >= 0)
		close(buf_fd);
	return v;
}

/* Powered cores (MAGMA_SIM_QUERY_POWER's low half): 0 once the driver powered the GPU down. */
static uint64_t cores_ready(int fd)
{
	uint64_t v = query(fd, MAGMA_SIM_QUERY_POWER);

	return v == ~0ull ? v : (v & 0xffffffffu);
}

/* utime + stime of @pid in clock ticks, from /proc/PID/stat; ~0 on failure. */
static uint64_t cpu_ticks(pid_t pid)
{
	unsigned long long utime, stime;
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return ~0ull;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* Fields 14 and 15, counted after the command name, which may hold spaces. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
			 &stime) != 2)
		return ~0ull;
	return utime + stime;
}

/* The daemon's CPU use over @ms of wall time, in percent of one core. */
static double daemon_cpu_percent(int ms)
{
	uint64_t t0 = now_ms(), c0 = cpu_ticks(g_daemon), c1, t1;

	sleep_ms(ms);
	c1 = cpu_ticks(g_daemon);
	t1 = now_ms();
	if (c0 == ~0ull || c1 == ~0ull || t1 == t0)
		return 1e9;
	return 100.0 * (double)(c1 - c0) / (double)sysconf(_SC_CLK_TCK) * 1000.0 /
	       (double)(t1 - t0);
}

/*
 * The client process: through libmagma, a connection with one buffer holding a spin kernel and a
 * command buffer that dispatches it HUGE_GROUPS times; submits it, tells @ready_fd, then waits to
 * be killed. Exits with a code > 0 on any failure.
 */
static void busy_client(int ready_fd)
{
	magma_exec_resource_t res = {0};
	magma_exec_command_buffer_t cb = {.resource_index = 0, .start_offset = CMD_OFF};
	magma_command_descriptor_t desc = {.resource_count = 1, .command_buffer_count = 1};
	magma_connection_t conn;
	magma_device_t dev;
	magma_buffer_t buf;
	magma_handle_t handle;
	uint64_t size, *code = NULL;
	uint32_t ctx, count = 0, *words, n;
	char err[128];
	uint8_t *cpu;

	if (magma_device_import((magma_handle_t)connect_socket(), &dev) != MAGMA_STATUS_OK)
		_exit(10);
	if (magma_device_create_connection(dev, &conn) != MAGMA_STATUS_OK ||
	    magma_connection_create_context2(conn, MAGMA_PRIORITY_MEDIUM, &ctx) !=
		    MAGMA_STATUS_OK ||
	    magma_connection_create_buffer(conn, 4096, &size, &buf, &res.buffer_id) !=
		    MAGMA_STATUS_OK)
		_exit(11);
	if (sim_asm_assemble(spin_kernel, &code, &count, err, sizeof(err)) ||
	    magma_buffer_get_handle(buf, &handle) != MAGMA_STATUS_OK)
		_exit(12);
	cpu = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, (int)handle, 0);
	close((int)handle);
	if (cpu == MAP_FAILED)
		_exit(13);
	memcpy(cpu, code, count * 8ull);
	words = (uint32_t *)(cpu + CMD_OFF);
	n = sim_cmd_emit_dispatch(words, PROG_VA, count, PROG_VA, HUGE_GROUPS, 1, 1);
	sim_cmd_emit_end(words + n);
	res.length = 4096;
	desc.resources = &res;
	desc.command_buffers = &cb;
	if (magma_connection_map_buffer(conn, PROG_VA, buf, 0, 4096,
					MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE) !=
		    MAGMA_STATUS_OK ||
	    magma_connection_execute_command(conn, ctx, &desc) != MAGMA_STATUS_OK ||
	    magma_connection_flush(conn) != MAGMA_STATUS_OK)
		_exit(14);
	if (write(ready_fd, "r", 1) != 1)
		_exit(15);
	for (;;)
		pause();
}

static void test_killed_client_work_stops(void)
{
	int ready[2], status, fd = connect_socket();
	uint64_t deadline, t0, conns = ~0ull, cores = ~0ull;
	double busy, after;
	pid_t kid;

	REQUIRE(fd >= 0);
	REQUIRE(tc_handshake(fd, WIRE_PROTOCOL_VERSION) == MAGMA_STATUS_OK);
	REQUIRE(pipe(ready) == 0);
	kid = fork();
	REQUIRE(kid >= 0);
	if (kid == 0) {
		close(fd);
		busy_client(ready[1]);
	}
	REQUIRE(tc_wait_byte(ready[0]) == 0);
	CHECK_EQ(query(fd, MAGMA_SYSTEM_QUERY_CONNECTION_COUNT), 1);
	CHECK(cores_ready(fd) != 0);
	busy = daemon_cpu_percent(500);
	kill(kid, SIGKILL);
	CHECK_EQ(waitpid(kid, &status, 0), kid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* Powering down waits for 50 ms of idle host time; the deadline is for a loaded machine. */
	t0 = now_ms();
	deadline = t0 + 20000;
	do {
		sleep_ms(5);
		conns = query(fd, MAGMA_SYSTEM_QUERY_CONNECTION_COUNT);
		cores = cores_ready(fd);
	} while ((conns != 0 || cores != 0) && now_ms() < deadline);
	CHECK_EQ(conns, 0);
	CHECK_EQ(cores, 0);
	printf("  idle and powered down %" PRIu64 " ms after the kill\n", now_ms() - t0);
	after = daemon_cpu_percent(1000);
	printf("  daemon CPU: %.0f %% of a core while the dispatch ran, %.1f %% after\n", busy,
	       after);
	CHECK(after < 25.0);
	close(ready[0]);
	close(ready[1]);
	close(fd);
}

/* A client killed mid-write must not kill the test with it: EPIPE instead of SIGPIPE. */
static int process_setup(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	return SIM_TEST_CONTINUE;
}

/* Every test gets a fresh daemon with one device in a directory of its own. */
static void setup(void)
{
	snprintf(g_dir, sizeof(g_dir), "/tmp/magma-simd-killed-XXXXXX");
	g_daemon = tc_start_daemon(MAGMA_SIMD_PATH, g_dir, 1);
	REQUIRE(g_daemon > 0); /* magma-simd came up */
}

/* SIGTERM (the daemon removes its socket), SIGKILL if it does not go, then the directory. */
static void teardown(void)
{
	if (g_daemon > 0) {
		bool reaped = false;

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
	rmdir(g_dir);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_killed_client_work_stops),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.process_setup = process_setup,
	.setup = setup,
	.teardown = teardown,
};
