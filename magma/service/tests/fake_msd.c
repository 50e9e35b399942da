/* SPDX-License-Identifier: MIT */
/*
 * fake_msd.c - TEST-ONLY msd.h implementation recording calls (see fake_msd.h).
 *
 * Objects are small heap structs with a magic and a serial; the log is a fixed buffer guarded by
 * one mutex, as are the armed failures and the connection list used to deliver notifications.
 * Imports close the handle they are given, as a real driver takes ownership of it.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fake_msd.h"

#define FAKE_MAGIC     0xfa4e0001u
#define FAKE_MAX_CONNS 64

struct fake_obj {
	uint32_t magic_;
	int serial;
	struct msd_connection_t *conn;
	msd_connection_notification_callback_t cb;
	void *token;
};

static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;
static char fake_log_buf[1 << 16];
static size_t fake_log_len;
static int fake_serial;
static int fake_live_count;
static char fake_fail_name[64];
static magma_status_t fake_fail_status;
static struct fake_obj *fake_conns[FAKE_MAX_CONNS];
static int fake_conn_count;

static void fake_log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fake_log_line(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (fake_log_len >= sizeof(fake_log_buf) - 128)
		return;
	va_start(ap, fmt);
	n = vsnprintf(fake_log_buf + fake_log_len, sizeof(fake_log_buf) - fake_log_len - 1, fmt,
		      ap);
	va_end(ap);
	if (n > 0)
		fake_log_len += (size_t)n;
	fake_log_buf[fake_log_len++] = '\n';
	fake_log_buf[fake_log_len] = '\0';
}

/* Logs @name (+ serial) and returns the armed status for @name, if any. Caller holds the lock. */
static magma_status_t fake_call_locked(const char *name, int serial)
{
	if (serial)
		fake_log_line("%s %d", name, serial);
	else
		fake_log_line("%s", name);
	if (fake_fail_name[0] && strcmp(fake_fail_name, name) == 0) {
		fake_fail_name[0] = '\0';
		return fake_fail_status ? fake_fail_status : MAGMA_STATUS_INTERNAL_ERROR;
	}
	return MAGMA_STATUS_OK;
}

static magma_status_t fake_call(const char *name, const void *obj)
{
	magma_status_t s;

	pthread_mutex_lock(&fake_lock);
	s = fake_call_locked(name, obj ? ((const struct fake_obj *)obj)->serial : 0);
	pthread_mutex_unlock(&fake_lock);
	return s;
}

static void *fake_new(const char *name)
{
	struct fake_obj *o = NULL;

	pthread_mutex_lock(&fake_lock);
	if (fake_call_locked(name, 0) == MAGMA_STATUS_OK) {
		o = calloc(1, sizeof(*o));
		if (o) {
			o->magic_ = FAKE_MAGIC;
			o->serial = ++fake_serial;
			fake_live_count++;
			/* Rewrite the line with the serial so tests can follow the object. */
			fake_log_len -= strlen(name) + 1;
			fake_log_line("%s %d", name, o->serial);
		}
	}
	pthread_mutex_unlock(&fake_lock);
	return o;
}

static void fake_free(const char *name, void *obj)
{
	struct fake_obj *o = obj;

	if (!o)
		return;
	if (o->magic_ != FAKE_MAGIC) {
		fprintf(stderr, "fake_msd: %s on a bad object\n", name);
		abort();
	}
	pthread_mutex_lock(&fake_lock);
	fake_call_locked(name, o->serial);
	fake_live_count--;
	for (int i = 0; i < fake_conn_count; i++) {
		if (fake_conns[i] == o)
			fake_conns[i] = NULL;
	}
	o->magic_ = 0;
	free(o);
	pthread_mutex_unlock(&fake_lock);
}

/* fake_msd_reset - see fake_msd.h. */
void fake_msd_reset(void)
{
	pthread_mutex_lock(&fake_lock);
	fake_log_len = 0;
	fake_log_buf[0] = '\0';
	fake_fail_name[0] = '\0';
	pthread_mutex_unlock(&fake_lock);
}

/* fake_msd_log - see fake_msd.h. */
void fake_msd_log(char *buf, size_t size)
{
	pthread_mutex_lock(&fake_lock);
	snprintf(buf, size, "%s", fake_log_buf);
	pthread_mutex_unlock(&fake_lock);
}

/* fake_msd_log_index - see fake_msd.h. */
int fake_msd_log_index(const char *prefix)
{
	int line = 0, ret = -1;
	const char *p;

	pthread_mutex_lock(&fake_lock);
	p = fake_log_buf;
	while (*p) {
		if (strncmp(p, prefix, strlen(prefix)) == 0) {
			ret = line;
			break;
		}
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
		line++;
	}
	pthread_mutex_unlock(&fake_lock);
	return ret;
}

/* fake_msd_log_has - see fake_msd.h. */
int fake_msd_log_has(const char *line)
{
	char want[128];
	int ret;

	snprintf(want, sizeof(want), "\n%s\n", line);
	pthread_mutex_lock(&fake_lock);
	ret = strncmp(fake_log_buf, want + 1, strlen(want + 1)) == 0 ||
	      strstr(fake_log_buf, want) != NULL;
	pthread_mutex_unlock(&fake_lock);
	return ret;
}

/* fake_msd_fail_next - see fake_msd.h. */
void fake_msd_fail_next(const char *name, magma_status_t status)
{
	pthread_mutex_lock(&fake_lock);
	snprintf(fake_fail_name, sizeof(fake_fail_name), "%s", name);
	fake_fail_status = status;
	pthread_mutex_unlock(&fake_lock);
}

/* fake_msd_live - see fake_msd.h. */
int fake_msd_live(void)
{
	int n;

	pthread_mutex_lock(&fake_lock);
	n = fake_live_count;
	pthread_mutex_unlock(&fake_lock);
	return n;
}

/* fake_msd_last_connection - see fake_msd.h. */
int fake_msd_last_connection(void)
{
	int n;

	pthread_mutex_lock(&fake_lock);
	n = fake_conn_count - 1;
	pthread_mutex_unlock(&fake_lock);
	return n;
}

/* fake_msd_notify - see fake_msd.h. */
int fake_msd_notify(int index, struct msd_notification_t *n)
{
	msd_connection_notification_callback_t cb = NULL;
	void *token = NULL;

	pthread_mutex_lock(&fake_lock);
	if (index >= 0 && index < fake_conn_count && fake_conns[index]) {
		cb = fake_conns[index]->cb;
		token = fake_conns[index]->token;
	}
	/* Delivered under the lock: like a driver, unsetting the callback waits for delivery. */
	if (cb)
		cb(token, n);
	pthread_mutex_unlock(&fake_lock);
	return cb ? 0 : -1;
}

/* msd_driver_create - msd.h entry point, recorded in the call log (see fake_msd.h). */
struct msd_driver_t *msd_driver_create(void)
{
	return fake_new("driver_create");
}

/* msd_driver_configure - msd.h entry point, recorded in the call log (see fake_msd.h). */
void msd_driver_configure(struct msd_driver_t *drv, uint32_t flags)
{
	(void)flags;
	fake_call("driver_configure", drv);
}

/* msd_driver_set_log_callback - msd.h entry point, recorded in the call log (see fake_msd.h). */
void msd_driver_set_log_callback(struct msd_driver_t *drv, msd_log_callback_t fn, void *ctx)
{
	(void)fn;
	(void)ctx;
	fake_call("driver_set_log_callback", drv);
}

/* msd_driver_destroy - msd.h entry point, recorded in the call log (see fake_msd.h). */
void msd_driver_destroy(struct msd_driver_t *drv)
{
	fake_free("driver_destroy", drv);
}

/* msd_driver_create_device - msd.h entry point, recorded in the call log (see fake_msd.h). */
struct msd_device_t *msd_driver_create_device(struct msd_driver_t *drv, void *platform_device)
{
	(void)drv;
	(void)platform_device;
	return fake_new("device_create");
}

/* msd_driver_import_buffer - msd.h entry point, recorded in the call log (see fake_msd.h). */
magma_status_t msd_driver_import_buffer(struct msd_driver_t *drv, magma_handle_t handle,
					msd_client_id_t client_id, struct msd_buffer_t **buffer_out)
{
	(void)drv;
	(void)client_id;
	close((int)handle);
	*buffer_out = fake_new("buffer_import");
	return *buffer_out ? MAGMA_STATUS_OK : MAGMA_STATUS_MEMORY_ERROR;
}

/* msd_buffer_release - msd.h entry point, recorded in the call log (see fake_msd.h). */
void msd_buffer_release(struct msd_buffer_t *buffer)
{
	fake_free("buffer_release", buffer);
}

/* msd_driver_import_semaphore - msd.h entry point, recorded in the call log (see fake_msd.h). */
magma_status_t msd_driver_import_semaphore(struct msd_driver_t *drv, magma_handle_t handle,
					   msd_client_id_t client_id, uint64_t flags,
					   struct msd_semaphore_t **semaphore_out)
{
	(void)drv;
	(void)client_id;
	(void)flags;
	close((int)handle);
	*semaphore_out = fake_new("semaphore_import");
	return *semaphore_out ? MAGMA_STATUS_OK : MAGMA_STATUS_MEMORY_ERROR;
}

/* msd_semaphore_release - msd.h entry point, recorded in the call log (see fake_msd.h). */
void msd_semaphore_release(struct msd_semaphore_t *semaphore)
{
	fake_free("semaphore_release", semaphore);
}

/* msd_device_destroy - msd.h entry point, recorded in the call log (see fake_msd.h). */
void msd_device_destroy(struct msd_device_t *dev)
{
	fake_free("device_destroy", dev);
}

/* msd_device_query - msd.h entry point, recorded in the call log (see fake_msd.h). */
magma_status_t msd_device_query(struct msd_device_t *dev, uint64_t id,
				magma_handle_t *result_buffer_out, uint64_t *result_out)
{
	magma_status_t s = fake_call("device_query", dev);

	if (s)
		return s;
	if (id == MAGMA_QUERY_VENDOR_ID) {
		*result_out = FAKE_MSD_VENDOR_ID;
		return MAGMA_STATUS_OK;
	}
	if (id == FAKE_MSD_QUERY_BUFFER) {
		int fd = memfd_create("fake-query", MFD_CLOEXEC);

		if (fd < 0 || write(fd, "fake", 4) != 4) {
			if (fd >= 0)
				close(fd);
			return MAGMA_STATUS_MEMORY_ERROR;
		}
		*result_buffer_out = (magma_handle_t)fd;
		return MAGMA_STATUS_OK;
	}
	return MAGMA_STATUS_INVALID_ARGS;
}

/* msd_device_dump_status - msd.h entry point, recorded in the call log (see fake_msd.h). */
void msd_device_dump_status(struct msd_device_t *dev, uint32_t dump_flags)
{
	(void)dump_flags;
	fake_call("device_dump_status", dev);
}

/* msd_device_open - msd.h entry point, recorded in the call log (see fake_msd.h). */
struct msd_connection_t *msd_device_open(struct msd_device_t *dev, msd_client_id_t client_id)
{
	struct fake_obj *o;

	(void)dev;
	(void)client_id;
	o = fake_new("connection_open");
	if (o) {
		pthread_mutex_lock(&fake_lock);
		if (fake_conn_count < FAKE_MAX_CONNS)
			fake_conns[fake_conn_count++] = o;
		pthread_mutex_unlock(&fake_lock);
	}
	return (struct msd_connection_t *)o;
}

/* msd_connection_close - msd.h entry point, recorded in the call log (see fake_msd.h). */
void msd_connection_close(struct msd_connection_t *conn)
{
	fake_free("connection_close", conn);
}

/* msd_connection_map_buffer - msd.h entry point, recorded in the call log (see fake_msd.h). */
magma_status_t msd_connection_map_buffer(struct msd_connection_t *conn, struct msd_buffer_t *buffer,
					 uint64_t gpu_va, uint64_t offset, uint64_t length,
					 uint64_t flags)
{
	(void)conn;
	(void)gpu_va;
	(void)offset;
	(void)length;
	(void)flags;
	return fake_call("map_buffer", buffer);
}

/* msd_connection_unmap_buffer - msd.h entry point, recorded in the call log (see fake_msd.h). */
magma_status_t msd_connection_unmap_buffer(struct msd_connection_t *conn,
					   struct msd_buffer_t *buffer, uint64_t gpu_va)
{
	(void)conn;
	(void)gpu_va;
	return fake_call("unmap_buffer", buffer);
}

/* msd_connection_buffer_range_op - msd.h entry point, recorded in the call log (see fake_msd.h). */
magma_status_t msd_connection_buffer_range_op(struct msd_connection_t *conn,
					      struct msd_buffer_t *buffer, uint32_t options,
					      uint64_t start_offset, uint64_t length)
{
	(void)conn;
	(void)options;
	(void)start_offset;
	(void)length;
	return fake_call("buffer_range_op", buffer);
}

/* msd_connection_release_buffer - msd.h entry point, recorded in the call log (see fake_msd.h). */
void msd_connection_release_buffer(struct msd_connection_t *conn, struct msd_buffer_t *buffer)
{
	(void)conn;
	fake_call("connection_release_buffer", buffer);
}

/* msd_connection_set_notification_callback - msd.h entry point, logged. */
void msd_connection_set_notification_callback(struct msd_connection_t *conn,
					      msd_connection_notification_callback_t callback,
					      void *token)
{
	struct fake_obj *o = (struct fake_obj *)conn;

	pthread_mutex_lock(&fake_lock);
	fake_call_locked(callback ? "set_callback" : "unset_callback", o->serial);
	o->cb = callback;
	o->token = token;
	pthread_mutex_unlock(&fake_lock);
}

/* msd_connection_create_context - msd.h entry point, recorded in the call log (see fake_msd.h). */
struct msd_context_t *msd_connection_create_context(struct msd_connection_t *conn,
						    magma_priority_t priority)
{
	(void)conn;
	(void)priority;
	return fake_new("context_create");
}

/* msd_context_destroy - msd.h entry point, recorded in the call log (see fake_msd.h). */
void msd_context_destroy(struct msd_context_t *ctx)
{
	fake_free("context_destroy", ctx);
}

/* msd_context_execute_command_buffers - msd.h entry point, logged. */
magma_status_t msd_context_execute_command_buffers(struct msd_context_t *ctx,
						   const struct msd_command_descriptor *desc)
{
	for (uint32_t i = 0; i < desc->resource_count; i++) {
		if (!desc->buffers[i] || desc->buffers[i]->magic_ != FAKE_MAGIC)
			abort();
	}
	return fake_call("execute_command_buffers", ctx);
}

/* msd_context_execute_inline_commands - msd.h entry point, logged. */
magma_status_t msd_context_execute_inline_commands(struct msd_context_t *ctx, uint64_t size,
						   const void *commands, uint64_t semaphore_count,
						   struct msd_semaphore_t **semaphores)
{
	(void)size;
	(void)commands;
	for (uint64_t i = 0; i < semaphore_count; i++) {
		if (!semaphores[i] || semaphores[i]->magic_ != FAKE_MAGIC)
			abort();
	}
	return fake_call("execute_inline_commands", ctx);
}

/* msd_connection_enable_performance_counters - msd.h entry point, logged. */
magma_status_t msd_connection_enable_performance_counters(struct msd_connection_t *conn,
							  const uint64_t *counters,
							  uint64_t counter_count)
{
	(void)counters;
	(void)counter_count;
	return fake_call("enable_perf_counters", conn);
}

/* msd_connection_create_performance_counter_buffer_pool - msd.h entry point, logged. */
magma_status_t msd_connection_create_performance_counter_buffer_pool(
	struct msd_connection_t *conn, uint64_t pool_id, struct msd_perf_count_pool_t **pool_out)
{
	(void)conn;
	(void)pool_id;
	*pool_out = fake_new("pool_create");
	return *pool_out ? MAGMA_STATUS_OK : MAGMA_STATUS_MEMORY_ERROR;
}

/* msd_connection_release_performance_counter_buffer_pool - msd.h entry point, logged. */
magma_status_t
msd_connection_release_performance_counter_buffer_pool(struct msd_connection_t *conn,
						       struct msd_perf_count_pool_t *pool)
{
	(void)conn;
	fake_free("pool_release", pool);
	return MAGMA_STATUS_OK;
}

/* msd_connection_add_performance_counter_buffer_offset_to_pool - msd.h entry point, logged. */
magma_status_t msd_connection_add_performance_counter_buffer_offset_to_pool(
	struct msd_connection_t *conn, struct msd_perf_count_pool_t *pool,
	struct msd_buffer_t *buffer, uint64_t buffer_id, uint64_t buffer_offset, uint64_t size)
{
	(void)conn;
	(void)buffer;
	(void)buffer_id;
	(void)buffer_offset;
	(void)size;
	return fake_call("add_perf_offset", pool);
}

/* msd_connection_remove_performance_counter_buffer_from_pool - msd.h entry point, logged. */
magma_status_t
msd_connection_remove_performance_counter_buffer_from_pool(struct msd_connection_t *conn,
							   struct msd_perf_count_pool_t *pool,
							   struct msd_buffer_t *buffer)
{
	(void)conn;
	(void)buffer;
	return fake_call("remove_perf_buffer", pool);
}

/* msd_connection_dump_performance_counters - msd.h entry point, logged. */
magma_status_t msd_connection_dump_performance_counters(struct msd_connection_t *conn,
							struct msd_perf_count_pool_t *pool,
							uint32_t trigger_id)
{
	(void)conn;
	(void)trigger_id;
	return fake_call("dump_perf_counters", pool);
}

/* msd_connection_clear_performance_counters - msd.h entry point, logged. */
magma_status_t msd_connection_clear_performance_counters(struct msd_connection_t *conn,
							 const uint64_t *counters,
							 uint64_t counter_count)
{
	(void)counters;
	(void)counter_count;
	return fake_call("clear_perf_counters", conn);
}
