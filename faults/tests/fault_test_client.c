/* SPDX-License-Identifier: MIT */
/*
 * fault_test_client.c - the fault-device tests' device and client helpers (fault_test_client.h).
 */
#include <errno.h>
#include <signal.h>
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

#include "fault_test_client.h"
#include "magma_sim_defs.h"
#include "magma_system/embedded.h"
#include "magma_system/magma_system.h"

/* ftc_now_ns - see fault_test_client.h. */
uint64_t ftc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ftc_write_plan - see fault_test_client.h. */
const char *ftc_write_plan(const char *json)
{
	static char path[256];
	const char *tmp = getenv("TMPDIR");
	size_t len = strlen(json);
	int fd;

	snprintf(path, sizeof(path), "%s/fault-plan-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	if (write(fd, json, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return NULL;
	}
	close(fd);
	return path;
}

/* ftc_embedded - see fault_test_client.h. */
struct magma_system_embedded *ftc_embedded(const char *json)
{
	struct magma_system_embedded *emb;
	const char *path = NULL;

	if (json) {
		path = ftc_write_plan(json);
		if (!path)
			return NULL;
		setenv("MAGMA_SIM_FAULTS", path, 1);
	}
	emb = magma_system_embedded_create(NULL);
	unsetenv("MAGMA_SIM_FAULTS");
	if (path)
		unlink(path);
	return emb;
}

/* ftc_import - see fault_test_client.h. */
magma_device_t ftc_import(struct magma_system_embedded *emb)
{
	magma_device_t dev = 0;
	int fd = magma_system_embedded_connect(emb);

	if (fd < 0 || magma_device_import((magma_handle_t)fd, &dev) != MAGMA_STATUS_OK)
		return 0;
	return dev;
}

/*
 * The status a call of @c failed with, as the test should see it: a send after the service closed
 * the connection returns CONNECTION_LOST (feed-forward), while the connection's latched first
 * error - what flush and get_error return - says why it closed.
 */
static magma_status_t first_error(struct ftc_client *c, magma_status_t s)
{
	magma_status_t e;

	if (s == MAGMA_STATUS_OK || !c->conn)
		return s;
	e = magma_connection_get_error(c->conn);
	return e ? e : s;
}

/* ftc_open - see fault_test_client.h. */
magma_status_t ftc_open(magma_device_t dev, struct ftc_client *c)
{
	magma_handle_t handle;
	uint64_t size = 0;
	magma_status_t s;
	void *p;

	memset(c, 0, sizeof(*c));
	s = magma_device_create_connection(dev, &c->conn);
	if (s)
		return s;
	s = magma_connection_create_context2(c->conn, MAGMA_PRIORITY_MEDIUM, &c->ctx);
	if (!s)
		s = magma_connection_create_buffer(c->conn, FTC_BUFFER_SIZE, &size, &c->buf,
						   &c->buf_id);
	if (!s)
		s = magma_connection_map_buffer(c->conn, FTC_VA, c->buf, 0, FTC_BUFFER_SIZE,
						MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE |
							MAGMA_MAP_FLAG_EXECUTE);
	if (!s)
		s = magma_connection_create_semaphore(c->conn, &c->sem, &c->sem_id);
	if (!s)
		s = magma_buffer_get_handle(c->buf, &handle);
	if (!s) {
		p = mmap(NULL, FTC_BUFFER_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, (int)handle, 0);
		close((int)handle);
		if (p == MAP_FAILED)
			s = MAGMA_STATUS_MEMORY_ERROR;
		else
			c->cpu = p;
	}
	if (!s)
		s = magma_connection_flush(c->conn);
	s = first_error(c, s);
	if (s)
		ftc_close(c);
	return s;
}

/* ftc_close - see fault_test_client.h. */
void ftc_close(struct ftc_client *c)
{
	if (c->cpu)
		munmap((void *)c->cpu, FTC_BUFFER_SIZE);
	if (c->sem)
		magma_connection_release_semaphore(c->conn, c->sem);
	if (c->buf)
		magma_connection_release_buffer(c->conn, c->buf);
	if (c->conn)
		magma_connection_release(c->conn);
	memset(c, 0, sizeof(*c));
}

/* Submits @n words of commands as one inline command buffer that signals the semaphore. */
static magma_status_t submit(struct ftc_client *c, uint32_t *words, uint32_t n)
{
	uint64_t sem_id = c->sem_id;
	magma_inline_command_buffer_t cb = {
		.data = words,
		.size = n * 4ull,
		.semaphore_ids = &sem_id,
		.semaphore_count = 1,
	};

	magma_semaphore_reset(c->sem);
	return first_error(c, magma_connection_execute_inline_commands(c->conn, c->ctx, 1, &cb));
}

/* ftc_write - see fault_test_client.h. */
magma_status_t ftc_write(struct ftc_client *c, uint32_t index, uint32_t value)
{
	uint32_t words[8], n = 0;

	n += sim_cmd_emit_write32(words + n, FTC_VA + index * 4ull, value);
	n += sim_cmd_emit_end(words + n);
	return submit(c, words, n);
}

/* ftc_fill - see fault_test_client.h. */
magma_status_t ftc_fill(struct ftc_client *c, uint32_t index, uint32_t words_to_fill,
			uint32_t value)
{
	uint32_t words[16], n = 0;

	n += sim_cmd_emit_fill(words + n, FTC_VA + index * 4ull, words_to_fill * 4ull, value);
	n += sim_cmd_emit_end(words + n);
	return submit(c, words, n);
}

/* ftc_dispatch - see fault_test_client.h. */
magma_status_t ftc_dispatch(struct ftc_client *c, uint32_t groups)
{
	const uint64_t prog_off = FTC_BUFFER_SIZE - 0x1000;
	uint32_t words[16], n = 0, count = 0;
	uint64_t *code = NULL;
	char err[64];

	if (sim_asm_assemble("exit\n", &code, &count, err, sizeof(err)))
		return MAGMA_STATUS_INTERNAL_ERROR;
	memcpy((uint8_t *)c->cpu + prog_off, code, count * 8ull);
	free(code);
	n += sim_cmd_emit_dispatch(words + n, FTC_VA + prog_off, count, FTC_VA, groups, 1, 1);
	n += sim_cmd_emit_end(words + n);
	return submit(c, words, n);
}

/* ftc_wait - see fault_test_client.h. */
magma_status_t ftc_wait(struct ftc_client *c)
{
	magma_poll_item_t items[2] = {
		{.semaphore = c->sem,
		 .type = MAGMA_POLL_TYPE_SEMAPHORE,
		 .condition = MAGMA_POLL_CONDITION_SIGNALED},
		{.handle = magma_connection_get_notification_channel_handle(c->conn),
		 .type = MAGMA_POLL_TYPE_HANDLE,
		 .condition = MAGMA_POLL_CONDITION_READABLE},
	};
	magma_status_t s = magma_poll(items, 2, FTC_DEADLINE_NS);

	if (s == MAGMA_STATUS_OK && (items[0].result & MAGMA_POLL_CONDITION_SIGNALED))
		return MAGMA_STATUS_OK;
	if (s == MAGMA_STATUS_TIMED_OUT)
		return s;
	/* A notification (the driver's fault report) or a hang-up: the connection is dying. */
	return ftc_wait_error(c);
}

/* ftc_wait_error - see fault_test_client.h. */
magma_status_t ftc_wait_error(struct ftc_client *c)
{
	uint64_t deadline = ftc_now_ns() + FTC_DEADLINE_NS;

	while (ftc_now_ns() < deadline) {
		magma_status_t s = magma_connection_flush(c->conn);

		if (s != MAGMA_STATUS_OK)
			return s;
		usleep(2000);
	}
	return MAGMA_STATUS_OK;
}

/* ftc_fault_code - see fault_test_client.h. */
uint32_t ftc_fault_code(struct ftc_client *c)
{
	for (int i = 0; i < 64; i++) {
		struct magma_sim_notification n;
		uint64_t size = 0;
		magma_bool_t more = 0;

		if (magma_connection_read_notification_channel(c->conn, &n, sizeof(n), &size,
							       &more) != MAGMA_STATUS_OK ||
		    size != sizeof(n))
			return 0;
		if (n.type == MAGMA_SIM_NOTIFY_FAULT)
			return n.fault_code;
	}
	return 0;
}

/* ftc_faults_fired - see fault_test_client.h. */
uint64_t ftc_faults_fired(magma_device_t dev)
{
	uint64_t v = ~0ull;

	if (magma_device_query(dev, MAGMA_SYSTEM_QUERY_FAULTS_FIRED, NULL, &v) != MAGMA_STATUS_OK)
		return ~0ull;
	return v;
}

/* ftc_wait_child - see fault_test_client.h. */
int ftc_wait_child(pid_t pid)
{
	uint64_t deadline = ftc_now_ns() + FTC_DEADLINE_NS;
	int status;

	while (ftc_now_ns() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(5000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* ftc_connect - see fault_test_client.h. */
int ftc_connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ftc_daemon_start - see fault_test_client.h. */
bool ftc_daemon_start(struct ftc_daemon *d, const char *simd_path, const char *prefix)
{
	struct stat st;

	snprintf(d->dir, sizeof(d->dir), "/tmp/%.16s-XXXXXX", prefix);
	if (!mkdtemp(d->dir))
		return false;
	snprintf(d->sock, sizeof(d->sock), "%s/magma0", d->dir);
	snprintf(d->ctl, sizeof(d->ctl), "%s/control", d->dir);
	d->pid = fork();
	if (d->pid == 0) {
		execl(simd_path, simd_path, "--dir", d->dir, "--foreground", "--quiet", "--control",
		      d->ctl, (char *)NULL);
		_exit(127);
	}
	for (uint64_t deadline = ftc_now_ns() + FTC_DEADLINE_NS;
	     (stat(d->ctl, &st) || stat(d->sock, &st)) && ftc_now_ns() < deadline;)
		usleep(5000);
	return d->pid > 0 && stat(d->ctl, &st) == 0;
}

/* ftc_daemon_stop - see fault_test_client.h. */
int ftc_daemon_stop(struct ftc_daemon *d)
{
	int status;

	kill(d->pid, SIGTERM);
	status = ftc_wait_child(d->pid);
	rmdir(d->dir);
	return status;
}

/* ftc_run - see fault_test_client.h. */
int ftc_run(char *const argv[], char *out, size_t size)
{
	char path[] = "/tmp/ftc-run-XXXXXX";
	int fd = mkstemp(path), status;
	ssize_t n;
	pid_t pid;

	if (fd < 0)
		return -1;
	unlink(path);
	pid = fork();
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	status = ftc_wait_child(pid);
	n = pread(fd, out, size - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
