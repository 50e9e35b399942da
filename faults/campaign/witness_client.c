/* SPDX-License-Identifier: MIT */
/*
 * witness_client.c - magma-witness's magma.h client (witness_client.h).
 *
 * A session owns two buffers: the data buffer, mapped read-write on the GPU and shared with the
 * CPU, and the kernel's buffer, mapped read-execute, written once when the session opens. The
 * round's commands go inline (magma_connection_execute_inline_commands) and signal the session's
 * semaphore; the wait watches that semaphore and the notification channel together, so a killed
 * context is seen as soon as the driver reports it rather than at the deadline.
 *
 * Deliberately not done: any retry inside a round. A lost round is the caller's to report; it
 * then closes the session and opens a new one. Single-threaded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "magma_sim_defs.h"
#include "witness_client.h"
#include "witness_work.h"

#define WITNESS_MAX_LANES    32u
#define WITNESS_FLUSH_GAP_NS 1000000L /* between two flushes while a dying connection closes */

/* witness_fault_name - see witness_client.h. */
const char *witness_fault_name(uint32_t code)
{
	return code == MAGMA_SIM_FAULT_HANG ? "HANG" : sim_fault_name(code);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Lanes per workgroup: CONFIG0.LANES clamped to 1..32; 1 when the query fails. */
static uint32_t query_local_size(magma_device_t dev)
{
	uint64_t config = 0;
	uint32_t lanes;

	if (magma_device_query(dev, MAGMA_SIM_QUERY_CONFIG, NULL, &config) != MAGMA_STATUS_OK)
		return 1;
	lanes = (uint32_t)((config & SIM_CONFIG0_LANES__MASK) >> SIM_CONFIG0_LANES__SHIFT);
	if (lanes == 0)
		return 1;
	return lanes > WITNESS_MAX_LANES ? WITNESS_MAX_LANES : lanes;
}

/* witness_device_open - see witness_client.h. */
magma_status_t witness_device_open(struct witness_device *wd, int *errno_out)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	magma_status_t status;
	int fd;

	*errno_out = 0;
	wd->dev = 0;
	if (strlen(wd->path) >= sizeof(addr.sun_path)) {
		*errno_out = ENAMETOOLONG;
		return MAGMA_STATUS_INVALID_ARGS;
	}
	strcpy(addr.sun_path, wd->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*errno_out = errno;
		return MAGMA_STATUS_MEMORY_ERROR;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		*errno_out = errno;
		close(fd);
		return MAGMA_STATUS_CONNECTION_LOST;
	}
	status = magma_device_import((magma_handle_t)fd, &wd->dev); /* consumes fd */
	if (status != MAGMA_STATUS_OK) {
		wd->dev = 0;
		return status;
	}
	wd->local_size = query_local_size(wd->dev);
	return MAGMA_STATUS_OK;
}

/* witness_device_close - see witness_client.h. */
void witness_device_close(struct witness_device *wd)
{
	if (wd->dev)
		magma_device_release(wd->dev);
	wd->dev = 0;
}

/*
 * The status a call on @s failed with, as the witness reports it: a send after the service
 * closed the connection says CONNECTION_LOST (feed-forward), while the connection's latched
 * first error says why it closed.
 */
static magma_status_t first_error(struct witness_session *s, magma_status_t status)
{
	magma_status_t latched;

	if (status == MAGMA_STATUS_OK || !s->conn)
		return status;
	latched = magma_connection_get_error(s->conn);
	return latched ? latched : status;
}

/* Creates a buffer of @size, maps it at @va with @flags, and maps it on the CPU at *@cpu_out. */
static magma_status_t create_mapped(struct witness_session *s, uint64_t size, uint64_t va,
				    uint64_t flags, magma_buffer_t *buf_out, void **cpu_out)
{
	magma_buffer_id_t id;
	magma_handle_t handle;
	magma_status_t status;
	uint64_t size_out = 0;
	void *p;

	status = magma_connection_create_buffer(s->conn, size, &size_out, buf_out, &id);
	if (status)
		return status;
	status = magma_connection_map_buffer(s->conn, va, *buf_out, 0, size, flags);
	if (status)
		return status;
	status = magma_buffer_get_handle(*buf_out, &handle);
	if (status)
		return status;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)handle, 0);
	close((int)handle);
	if (p == MAP_FAILED)
		return MAGMA_STATUS_MEMORY_ERROR;
	*cpu_out = p;
	return MAGMA_STATUS_OK;
}

/* Assembles the kernel into the code buffer (mapped on the CPU just for that). */
static magma_status_t load_kernel(struct witness_session *s)
{
	uint64_t *code = NULL;
	uint32_t count = 0;
	void *cpu = NULL;
	magma_status_t status;

	if (sim_asm_assemble(witness_work_kernel_source(), &code, &count, NULL, 0) ||
	    count * 8ull > WITNESS_CODE_SIZE) {
		free(code);
		return MAGMA_STATUS_INTERNAL_ERROR;
	}
	status = create_mapped(s, WITNESS_CODE_SIZE, WITNESS_CODE_VA,
			       MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE, &s->code, &cpu);
	if (status == MAGMA_STATUS_OK) {
		memcpy(cpu, code, count * 8ull);
		munmap(cpu, WITNESS_CODE_SIZE);
		s->kernel_words = count;
	}
	free(code);
	return status;
}

/* One attempt of witness_session_open; on error @s holds what was made (the caller closes it). */
static magma_status_t session_open_once(struct witness_device *wd, struct witness_session *s)
{
	magma_status_t status;
	void *cpu = NULL;

	memset(s, 0, sizeof(*s));
	s->local_size = wd->local_size;
	status = magma_device_create_connection(wd->dev, &s->conn);
	if (status)
		return status;
	status = magma_connection_create_context2(s->conn, MAGMA_PRIORITY_MEDIUM, &s->ctx);
	if (!status)
		status = create_mapped(s, WITNESS_DATA_SIZE, WITNESS_DATA_VA,
				       MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE, &s->data, &cpu);
	s->data_cpu = cpu;
	if (!status)
		status = load_kernel(s);
	if (!status)
		status = magma_connection_create_semaphore(s->conn, &s->sem, &s->sem_id);
	if (!status)
		status = magma_connection_flush(s->conn);
	return first_error(s, status);
}

/* witness_session_open - see witness_client.h. */
magma_status_t witness_session_open(struct witness_device *wd, struct witness_session *s)
{
	magma_status_t status = MAGMA_STATUS_CONNECTION_LOST;
	int connect_errno;

	if (wd->dev)
		status = session_open_once(wd, s);
	/* No connection could even be asked for: the device channel is gone, so import anew. */
	if (status == MAGMA_STATUS_CONNECTION_LOST && !s->conn) {
		witness_device_close(wd);
		status = witness_device_open(wd, &connect_errno);
		if (status == MAGMA_STATUS_OK)
			status = session_open_once(wd, s);
	}
	if (status)
		witness_session_close(s);
	return status;
}

/* witness_session_close - see witness_client.h. */
void witness_session_close(struct witness_session *s)
{
	if (s->data_cpu)
		munmap(s->data_cpu, WITNESS_DATA_SIZE);
	if (s->conn) {
		if (s->sem)
			magma_connection_release_semaphore(s->conn, s->sem);
		if (s->code)
			magma_connection_release_buffer(s->conn, s->code);
		if (s->data)
			magma_connection_release_buffer(s->conn, s->data);
		magma_connection_release(s->conn);
	}
	memset(s, 0, sizeof(*s));
}

/* Reads the pending notifications of @s, keeping the first fault report in *@fault_out. */
static void read_notifications(struct witness_session *s, struct witness_fault *fault_out)
{
	struct magma_sim_notification n;
	magma_bool_t more = 1;

	while (more) {
		uint64_t size = 0;

		if (magma_connection_read_notification_channel(s->conn, &n, sizeof(n), &size,
							       &more) != MAGMA_STATUS_OK ||
		    size != sizeof(n))
			return;
		if (n.type == MAGMA_SIM_NOTIFY_FAULT && !fault_out->code) {
			fault_out->code = n.fault_code;
			fault_out->address = n.fault_address;
		}
	}
}

/*
 * Waits for the semaphore of @s or the end of its connection, up to @deadline (CLOCK_MONOTONIC
 * ns). Notifications are read as they come (a fault report precedes the close).
 */
static magma_status_t wait_done(struct witness_session *s, uint64_t deadline,
				struct witness_fault *fault_out)
{
	for (;;) {
		magma_poll_item_t items[2] = {
			{.semaphore = s->sem,
			 .type = MAGMA_POLL_TYPE_SEMAPHORE,
			 .condition = MAGMA_POLL_CONDITION_SIGNALED},
			{.handle = magma_connection_get_notification_channel_handle(s->conn),
			 .type = MAGMA_POLL_TYPE_HANDLE,
			 .condition = MAGMA_POLL_CONDITION_READABLE},
		};
		uint64_t now = now_ns();
		magma_status_t status;

		if (now >= deadline)
			return MAGMA_STATUS_TIMED_OUT;
		status = magma_poll(items, 2, deadline - now);
		if (status == MAGMA_STATUS_OK && (items[0].result & MAGMA_POLL_CONDITION_SIGNALED))
			return MAGMA_STATUS_OK;
		if (status == MAGMA_STATUS_OK &&
		    (items[1].result & MAGMA_POLL_CONDITION_READABLE)) {
			read_notifications(s, fault_out);
			continue;
		}
		if (status == MAGMA_STATUS_TIMED_OUT)
			return status;
		return first_error(s, status == MAGMA_STATUS_OK ? MAGMA_STATUS_CONNECTION_LOST
								: status);
	}
}

/*
 * A connection that reported a failure may take a moment to latch why: flush until it says,
 * up to @deadline; @status when it never does.
 */
static magma_status_t closing_error(struct witness_session *s, magma_status_t status,
				    uint64_t deadline)
{
	const struct timespec gap = {.tv_nsec = WITNESS_FLUSH_GAP_NS};

	if (status == MAGMA_STATUS_TIMED_OUT)
		return status;
	while (now_ns() < deadline) {
		magma_status_t latched = magma_connection_flush(s->conn);

		if (latched != MAGMA_STATUS_OK)
			return latched;
		nanosleep(&gap, NULL);
	}
	return status;
}

/* witness_session_run - see witness_client.h. */
magma_status_t witness_session_run(struct witness_session *s, struct witness_fault *fault_out)
{
	uint64_t deadline = now_ns() + WITNESS_DEADLINE_NS;
	uint32_t words[WITNESS_MAX_CMD_WORDS];
	uint64_t sem_id = s->sem_id;
	magma_inline_command_buffer_t cb = {
		.data = words,
		.semaphore_ids = &sem_id,
		.semaphore_count = 1,
	};
	magma_status_t status;

	memset(fault_out, 0, sizeof(*fault_out));
	cb.size = 4ull * witness_work_commands(words, s->kernel_words, s->local_size);
	magma_semaphore_reset(s->sem);
	status = magma_connection_execute_inline_commands(s->conn, s->ctx, 1, &cb);
	if (status == MAGMA_STATUS_OK)
		status = magma_connection_flush(s->conn);
	if (status == MAGMA_STATUS_OK)
		status = wait_done(s, deadline, fault_out);
	if (status == MAGMA_STATUS_OK)
		return status;
	status = closing_error(s, first_error(s, status), deadline);
	read_notifications(s, fault_out);
	return status;
}
