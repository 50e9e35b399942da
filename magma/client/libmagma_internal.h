/* SPDX-License-Identifier: MIT */
/*
 * libmagma_internal.h - the objects behind libmagma's opaque handles and the helpers the
 * libmagma_*.c files share.
 *
 * Every magma_device_t, magma_connection_t, magma_buffer_t and magma_semaphore_t is a pointer
 * (cast to uint64_t) to a struct beginning with a 32-bit magic. A handle is only dereferenced
 * after libmagma_handle_lookup() has found it in the process-wide registry of live objects and
 * checked its magic, so 0, garbage, a released object or an object of the wrong kind is refused
 * (MAGMA_STATUS_INVALID_ARGS, or ignored by void calls) instead of crashing. Performance-counter
 * pools are plain ids, looked up in their connection.
 *
 * Threading: a connection's mutable state (below @lock) is guarded by its mutex, which every
 * primary-channel send and read takes, so messages never interleave and events are processed
 * by whichever thread holds it. Buffer and semaphore fields are immutable after creation except
 * a buffer's cache policy and name, guarded by the buffer's own mutex.
 */
#ifndef LIBMAGMA_INTERNAL_H
#define LIBMAGMA_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lib/magma/magma.h>

#include "magma_sim/direct.h"
#include "wire.h"

/* clang-format off */
#define LIBMAGMA_DEVICE_MAGIC      0x6d444556u /* "mDEV" */
#define LIBMAGMA_CONNECTION_MAGIC  0x6d434f4eu /* "mCON" */
#define LIBMAGMA_BUFFER_MAGIC      0x6d425546u /* "mBUF" */
#define LIBMAGMA_SEMAPHORE_MAGIC   0x6d53454du /* "mSEM" */

#define LIBMAGMA_PAGE_SIZE         4096ull
#define LIBMAGMA_NAME_MAX          64
/* How long device-channel round trips (handshake, query, create_connection) may take. */
#define LIBMAGMA_DEVICE_TIMEOUT_MS 10000
/* clang-format on */

/* A device: the device channel. Round trips on it are serialised by @lock. */
struct libmagma_device {
	uint32_t magic;
	int fd;
	pthread_mutex_t lock;
};

struct libmagma_buffer;
struct libmagma_semaphore;

/* A performance-counter pool of a connection: its id and the completion socket (client end). */
struct libmagma_pool {
	uint64_t id;
	int fd;
	struct libmagma_pool *next;
};

/*
 * A connection: the primary channel (stream), the notification channel (seqpacket), id
 * counters, flow-control accounting and the sticky error. Fields below @lock are guarded by it.
 */
struct libmagma_connection {
	uint32_t magic;
	int primary_fd;
	int notify_fd;
	uint64_t max_messages; /* 0: unlimited */
	uint64_t max_bytes;    /* 0: unlimited */
	uint64_t id_base;      /* the first id of its first block: the service knows it too */
	pthread_mutex_t lock;
	magma_status_t error; /* guarded by lock; sticky once nonzero */
	uint64_t inflight_messages;
	uint64_t inflight_bytes;
	uint64_t next_object_id; /* buffer and semaphore ids: the rest of a block */
	uint64_t object_id_end;	 /* of the service (wire.h, "Ids") */
	uint32_t next_context_id;
	uint64_t next_pool_id;
	struct libmagma_buffer *buffers; /* objects created through this connection */
	struct libmagma_semaphore *semaphores;
	struct libmagma_pool *pools;
	/* The in-process endpoint requests go to instead of the primary channel (a reference), or
	 * NULL (magma_sim/direct.h). Immutable after creation; released with the connection. */
	void *direct;
	const struct magma_sim_direct_ops *direct_ops;
};

/* A buffer: a memfd of @size bytes known to the service as @id. */
struct libmagma_buffer {
	uint32_t magic;
	int fd;
	uint64_t size;
	uint64_t id;
	struct libmagma_connection *conn;
	/*
	 * In conn->buffers, guarded by conn->lock: @pprev points at whatever points at this buffer
	 * (the list head or the previous buffer's @next), so unlinking is O(1) however many the
	 * connection holds; NULL once unlinked.
	 */
	struct libmagma_buffer *next, **pprev;
	pthread_mutex_t lock;
	magma_cache_policy_t cache_policy; /* guarded by lock */
	char name[LIBMAGMA_NAME_MAX];	   /* guarded by lock */
	/* Mapped with MAGMA_MAP_FLAG_WRITE at least once (the recorder's unsettled ranges). */
	_Atomic _Bool gpu_writable;
};

/* A semaphore: an eventfd, signaled iff readable. */
struct libmagma_semaphore {
	uint32_t magic;
	int fd;
	uint64_t id;
	uint64_t flags; /* MAGMA_IMPORT_SEMAPHORE_ONE_SHOT */
	struct libmagma_connection *conn;
	/* In conn->semaphores, guarded by conn->lock; @pprev as for buffers (NULL: unlinked). */
	struct libmagma_semaphore *next, **pprev;
};

/* ---- libmagma_handle.c: the registry of live objects ---- */

/* libmagma_handle_add - register @obj (whose first field is its magic). 0 or -ENOMEM. */
int libmagma_handle_add(void *obj);
/* libmagma_handle_remove - forget @obj; later lookups of it fail. Unknown objects are ignored. */
void libmagma_handle_remove(void *obj);
/* libmagma_handle_lookup - @handle as a live object with @magic, or NULL. */
void *libmagma_handle_lookup(uint64_t handle, uint32_t magic);

/* ---- libmagma_device.c ---- */

/*
 * libmagma_device_round_trip - send @req (with @fds) on @dev's channel and receive the reply of
 * type @resp_type into @reply, whose hdr.size must be @resp_size. Takes and drops dev->lock.
 * MAGMA_STATUS_CONNECTION_LOST when the channel fails, times out or answers out of protocol.
 */
magma_status_t libmagma_device_round_trip(struct libmagma_device *dev, const void *req,
					  size_t req_size, const int *fds, uint32_t fd_count,
					  uint32_t resp_type, size_t resp_size,
					  struct wire_msg *reply);

/* ---- libmagma_connection.c ---- */

/*
 * libmagma_connection_create - a registered connection owning @primary_fd and @notify_fd, with
 * flow-control limits @max_messages / @max_bytes (0: unlimited) and the block of object ids
 * starting at @object_id_base the service granted. NULL on allocation failure (the fds are then
 * still the caller's).
 */
struct libmagma_connection *libmagma_connection_create(int primary_fd, int notify_fd,
						       uint64_t max_messages, uint64_t max_bytes,
						       uint64_t object_id_base);

/* libmagma_connection_get - @handle as a live connection, or NULL. */
struct libmagma_connection *libmagma_connection_get(magma_connection_t handle);

/*
 * libmagma_connection_send_locked - send one primary-channel message, first waiting (reading
 * and processing events) while the flow-control limits are reached; @import_bytes is the buffer
 * size an import adds to the bytes in flight. Returns MAGMA_STATUS_CONNECTION_LOST without
 * sending once the connection has failed, and latches the error when sending fails (EPIPE and
 * other transport errors: CONNECTION_LOST unless the service already sent its reason).
 */
magma_status_t libmagma_connection_send_locked(struct libmagma_connection *conn, const void *msg,
					       size_t size, const int *fds, uint32_t fd_count,
					       uint64_t import_bytes);

/* libmagma_connection_send - libmagma_connection_send_locked under conn->lock. */
magma_status_t libmagma_connection_send(struct libmagma_connection *conn, const void *msg,
					size_t size, const int *fds, uint32_t fd_count,
					uint64_t import_bytes);

/*
 * libmagma_connection_call_locked - send @req and wait (processing events) for the reply of
 * @resp_type, a struct wire_status_resp whose status is returned. CONNECTION_LOST once the
 * connection has failed.
 */
magma_status_t libmagma_connection_call_locked(struct libmagma_connection *conn, const void *req,
					       size_t req_size, const int *fds, uint32_t fd_count,
					       uint32_t resp_type);

/*
 * libmagma_connection_new_object_id_locked - the next device-wide buffer or semaphore id of
 * @conn, asking the service for a new block (a round trip) when the current one is used up.
 * An id taken but not used is simply skipped. CONNECTION_LOST once the connection has failed,
 * MEMORY_ERROR when the device has no ids left.
 */
magma_status_t libmagma_connection_new_object_id_locked(struct libmagma_connection *conn,
							uint64_t *id_out);

/*
 * libmagma_connection_is_lost - whether @conn has failed, after a non-blocking drain of pending
 * events. Sends nothing.
 */
bool libmagma_connection_is_lost(struct libmagma_connection *conn);

/* ---- libmagma_buffer.c ---- */

/* libmagma_buffer_get - @handle as a live buffer, or NULL. */
struct libmagma_buffer *libmagma_buffer_get(magma_buffer_t handle);
/* libmagma_buffer_destroy - close and free a buffer already unlinked from its connection. */
void libmagma_buffer_destroy(struct libmagma_buffer *buf);

/* ---- libmagma_semaphore.c ---- */

/* libmagma_semaphore_get - @handle as a live semaphore, or NULL. */
struct libmagma_semaphore *libmagma_semaphore_get(magma_semaphore_t handle);
/* libmagma_semaphore_destroy - close and free a semaphore already unlinked from its connection. */
void libmagma_semaphore_destroy(struct libmagma_semaphore *sem);

/* ---- shared small helpers ---- */

/* libmagma_fd_is_valid - whether @handle names an open fd of this process. */
bool libmagma_fd_is_valid(magma_handle_t handle);
/* libmagma_close_handle - close @handle when it is a valid fd. */
void libmagma_close_handle(magma_handle_t handle);
/* libmagma_wait_readable - poll @fd for input for up to @timeout_ms (-1 forever): 1, 0, -errno. */
int libmagma_wait_readable(int fd, int timeout_ms);

/*
 * ---- Untraced implementations of the recorded magma.h entry points ----
 * libmagma_trace.c defines those entry points as wrappers that call these and record the call
 * in the process-wide trace (MAGMA_TRACE). Same contracts as in magma.h.
 */
magma_status_t libmagma_do_device_import(magma_handle_t device_channel, magma_device_t *device_out);
void libmagma_do_device_release(magma_device_t device);
magma_status_t libmagma_do_device_query(magma_device_t device, uint64_t id,
					magma_handle_t *result_buffer_out, uint64_t *result_out);
magma_status_t libmagma_do_device_create_connection(magma_device_t device,
						    magma_connection_t *connection_out);
void libmagma_do_connection_release(magma_connection_t connection);
magma_status_t libmagma_do_connection_get_error(magma_connection_t connection);
magma_status_t libmagma_do_connection_flush(magma_connection_t connection);
magma_status_t libmagma_do_connection_create_context2(magma_connection_t connection,
						      magma_priority_t priority,
						      uint32_t *context_id_out);
void libmagma_do_connection_release_context(magma_connection_t connection, uint32_t context_id);
magma_status_t libmagma_do_connection_create_buffer(magma_connection_t connection, uint64_t size,
						    uint64_t *size_out, magma_buffer_t *buffer_out,
						    magma_buffer_id_t *id_out);
void libmagma_do_connection_release_buffer(magma_connection_t connection, magma_buffer_t buffer);
magma_status_t libmagma_do_connection_perform_buffer_op(magma_connection_t connection,
							magma_buffer_t buffer, uint32_t options,
							uint64_t start_offset, uint64_t length);
magma_status_t libmagma_do_connection_map_buffer(magma_connection_t connection, uint64_t hw_va,
						 magma_buffer_t buffer, uint64_t offset,
						 uint64_t length, uint64_t map_flags);
void libmagma_do_connection_unmap_buffer(magma_connection_t connection, uint64_t hw_va,
					 magma_buffer_t buffer);
magma_status_t libmagma_do_connection_execute_command(magma_connection_t connection,
						      uint32_t context_id,
						      magma_command_descriptor_t *descriptor);
magma_status_t
libmagma_do_connection_execute_inline_commands(magma_connection_t connection, uint32_t context_id,
					       uint64_t command_count,
					       magma_inline_command_buffer_t *command_buffers);
magma_status_t libmagma_do_connection_create_semaphore(magma_connection_t connection,
						       magma_semaphore_t *semaphore_out,
						       magma_semaphore_id_t *id_out);
void libmagma_do_connection_release_semaphore(magma_connection_t connection,
					      magma_semaphore_t semaphore);
void libmagma_do_semaphore_signal(magma_semaphore_t semaphore);
void libmagma_do_semaphore_reset(magma_semaphore_t semaphore);
magma_status_t libmagma_do_poll(magma_poll_item_t *items, uint32_t count, uint64_t timeout_ns);
magma_status_t libmagma_do_connection_import_buffer(magma_connection_t connection,
						    magma_handle_t buffer_handle,
						    uint64_t *size_out, magma_buffer_t *buffer_out,
						    magma_buffer_id_t *id_out);
magma_status_t libmagma_do_connection_import_semaphore2(magma_connection_t connection,
							magma_handle_t semaphore_handle,
							uint64_t flags,
							magma_semaphore_t *semaphore_out,
							magma_semaphore_id_t *id_out);
magma_status_t libmagma_do_buffer_export(magma_buffer_t buffer, magma_handle_t *buffer_handle_out);
magma_status_t libmagma_do_semaphore_export(magma_semaphore_t semaphore,
					    magma_handle_t *semaphore_handle_out);
magma_status_t libmagma_do_buffer_get_info(magma_buffer_t buffer, magma_buffer_info_t *info_out);
magma_status_t libmagma_do_buffer_set_cache_policy(magma_buffer_t buffer,
						   magma_cache_policy_t policy);
magma_status_t libmagma_do_buffer_get_cache_policy(magma_buffer_t buffer,
						   magma_cache_policy_t *cache_policy_out);
magma_status_t libmagma_do_buffer_clean_cache(magma_buffer_t buffer, uint64_t offset, uint64_t size,
					      magma_cache_operation_t operation);
magma_status_t libmagma_do_buffer_set_name(magma_buffer_t buffer, const char *name);
magma_handle_t
libmagma_do_connection_get_notification_channel_handle(magma_connection_t connection);
magma_status_t libmagma_do_connection_read_notification_channel(magma_connection_t connection,
								void *buffer, uint64_t buffer_size,
								uint64_t *buffer_size_out,
								magma_bool_t *more_data_out);
magma_status_t libmagma_do_enumerate_devices(const char *device_namespace,
					     magma_handle_t device_directory_channel,
					     uint32_t *device_count_inout,
					     uint32_t device_path_size, char *device_paths_out);
magma_status_t libmagma_do_buffer_get_handle(magma_buffer_t buffer, magma_handle_t *handle_out);
magma_status_t libmagma_do_initialize_tracing(magma_handle_t channel);
magma_status_t libmagma_do_initialize_logging(magma_handle_t channel);
magma_status_t
libmagma_do_connection_enable_performance_counter_access(magma_connection_t connection,
							 magma_handle_t channel);
magma_status_t libmagma_do_connection_enable_performance_counters(magma_connection_t connection,
								  uint64_t *counters,
								  uint64_t counters_count);
magma_status_t libmagma_do_connection_clear_performance_counters(magma_connection_t connection,
								 uint64_t *counters,
								 uint64_t counters_count);
magma_status_t libmagma_do_connection_create_performance_counter_buffer_pool(
	magma_connection_t connection, magma_perf_count_pool_t *pool_id_out,
	magma_handle_t *notification_handle_out);
magma_status_t
libmagma_do_connection_release_performance_counter_buffer_pool(magma_connection_t connection,
							       magma_perf_count_pool_t pool_id);
magma_status_t libmagma_do_connection_add_performance_counter_buffer_offsets_to_pool(
	magma_connection_t connection, magma_perf_count_pool_t pool_id,
	const magma_buffer_offset_t *offsets, uint64_t offsets_count);
magma_status_t libmagma_do_connection_remove_performance_counter_buffer_from_pool(
	magma_connection_t connection, magma_perf_count_pool_t pool_id, magma_buffer_t buffer);
magma_status_t libmagma_do_connection_dump_performance_counters(magma_connection_t connection,
								magma_perf_count_pool_t pool_id,
								uint32_t trigger_id);
magma_status_t libmagma_do_connection_read_performance_counter_completion(
	magma_connection_t connection, magma_perf_count_pool_t pool_id, uint32_t *trigger_id_out,
	uint64_t *buffer_id_out, uint32_t *buffer_offset_out, uint64_t *time_out,
	uint32_t *result_flags_out);

/* libmagma_direct_wanted - whether connections may take an in-process endpoint (libmagma_direct.c).
 */
bool libmagma_direct_wanted(void);

#endif /* LIBMAGMA_INTERNAL_H */
