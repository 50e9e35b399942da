/* SPDX-License-Identifier: MIT */
/*
 * msd.h - the Magma system-driver (MSD) interface of magma-sim, in C.
 *
 * magma_system (the gpu-agnostic service) calls these entry points; a GPU-specific driver
 * implements them. Modelled on the classic Fuchsia msd.h (same objects, same life cycles, same
 * notification types), with byte offsets and lengths where the newer interface uses them, and
 * without process-wide singletons: every import goes through a driver object, so several
 * drivers and devices can live in one process. msd-sim (msd-sim/) is the first implementation;
 * a second MSD implements exactly this header.
 *
 * Objects and ownership. Every object is created by one call and destroyed by exactly one
 * matching call; it begins with a magic number the implementation checks on every entry.
 *   msd_driver_t      msd_driver_create / msd_driver_destroy        (caller owns)
 *   msd_device_t      msd_driver_create_device / msd_device_destroy (caller owns)
 *   msd_connection_t  msd_device_open / msd_connection_close        (caller owns)
 *   msd_context_t     msd_connection_create_context / msd_context_destroy
 *   msd_buffer_t      msd_driver_import_buffer / msd_buffer_release
 *   msd_semaphore_t   msd_driver_import_semaphore / msd_semaphore_release
 *   msd_perf_count_pool_t  msd_connection_create_performance_counter_buffer_pool / _release_
 * The driver may keep internal references past a destroy call (a buffer mapped by in-flight
 * work stays alive until that work retires); the caller must not use the pointer afterwards.
 * A buffer imported once may be used by several connections; msd_connection_release_buffer()
 * must be called for each (connection, buffer) pair the connection mapped before either is
 * destroyed. Destroy order: contexts, then buffers' releases, then the connection; devices
 * after all their connections; the driver last.
 *
 * Threading. Device-level calls (query, open, dump, destroy) may come from any thread. Calls
 * on one connection, and on its contexts, are serialised by the caller (magma_system runs one
 * thread per connection); different connections are called concurrently. Notification callbacks
 * run on a driver thread; the callback may be unset concurrently with delivery, which the
 * driver guards (after msd_connection_set_notification_callback(conn, NULL, NULL) returns, no
 * callback is running or will run).
 *
 * Errors use magma_status_t throughout. Any error returned by a connection or context call is
 * fatal for that client connection: magma_system closes it and reports the status.
 */
#ifndef MSD_MSD_H
#define MSD_MSD_H

#include <lib/magma/magma_common_defs.h>
#include <stdint.h>

#if defined(__cplusplus)
extern "C" {
#endif

typedef uint64_t msd_client_id_t;

/* Every MSD object begins with a magic number; the values are the implementation's own. */
struct msd_driver_t {
	uint32_t magic_;
};
struct msd_device_t {
	uint32_t magic_;
};
struct msd_connection_t {
	uint32_t magic_;
};
struct msd_context_t {
	uint32_t magic_;
};
struct msd_buffer_t {
	uint32_t magic_;
};
struct msd_semaphore_t {
	uint32_t magic_;
};
struct msd_perf_count_pool_t {
	uint32_t magic_;
};

/* ---- Notifications (driver -> system layer -> client) ---- */

#define MSD_CHANNEL_SEND_MAX_SIZE (4096 - sizeof(uint64_t) - sizeof(uint32_t))

enum msd_notification_type {
	/* Bytes for the client's notification channel (magma_connection_read_notification_channel).
	 */
	MSD_CONNECTION_NOTIFICATION_CHANNEL_SEND = 1,
	/* A context of the connection was killed: the system layer closes the connection with
	 * MAGMA_STATUS_CONTEXT_KILLED; every later call reports MAGMA_STATUS_CONNECTION_LOST. */
	MSD_CONNECTION_NOTIFICATION_CONTEXT_KILLED = 2,
	/* A performance-counter dump finished. */
	MSD_CONNECTION_NOTIFICATION_PERFORMANCE_COUNTERS_READ_COMPLETED = 3,
};

struct msd_notification_t {
	uint64_t type; /* enum msd_notification_type */
	union {
		struct {
			uint8_t data[MSD_CHANNEL_SEND_MAX_SIZE];
			uint32_t size;
		} channel_send;
		struct {
			uint64_t pool_id;
			uint32_t trigger_id;
			uint64_t buffer_id;
			uint32_t buffer_offset;
			uint64_t timestamp;
			uint32_t result_flags; /* MAGMA_PERF_COUNTER_RESULT_* */
		} perf_counter_result;
	} u;
};

/*
 * Delivered on a driver thread. @notification is valid for the duration of the call only.
 * Must not call back into the connection that delivered it.
 */
typedef void (*msd_connection_notification_callback_t)(void *token,
						       struct msd_notification_t *notification);

/* ---- Logging ---- */

/* @level is MAGMA_LOG_*; @msg is one line without a newline, valid during the call. */
typedef void (*msd_log_callback_t)(void *ctx, int32_t level, const char *file, int32_t line,
				   const char *msg);

/* ---- Driver ---- */

#define MSD_DRIVER_CONFIG_TEST_NO_DEVICE_THREAD 1u
/*
 * Keep each imported buffer's handle and map the buffer into the host process only when the
 * device first needs its memory (a GPU mapping), instead of at import: a buffer nobody maps
 * costs the host one handle and no mapping. For a service shared by many clients, whose host
 * mappings (vm.max_map_count) its threads and allocations need too. Without it a buffer costs
 * one host mapping and no handle, which suits a host that shares its handle table with the
 * client (the embedded device).
 */
#define MSD_DRIVER_CONFIG_MAP_BUFFERS_ON_USE	2u
/*
 * Time the driver's own policies (idle power-down, clock scaling, how long a WAIT may stand
 * still, aging) by the GPU's cycle counter instead of host time, so the same calls give the same
 * decisions - and the same GPU cycles - however slow the host is (trace replay). An idle GPU's
 * counter stands still, so such a device never powers down while idle.
 */
#define MSD_DRIVER_CONFIG_POLICY_ON_GPU_TIME	4u

/* Creates a driver instance (touches no hardware). NULL on allocation failure. */
struct msd_driver_t *msd_driver_create(void);

/* Sets MSD_DRIVER_CONFIG_* @flags before any device is created. */
void msd_driver_configure(struct msd_driver_t *drv, uint32_t flags);

/* Routes the driver's log lines (default: stderr for warnings and errors). Not thread-safe
 * against logging in progress: call before creating devices. */
void msd_driver_set_log_callback(struct msd_driver_t *drv, msd_log_callback_t fn, void *ctx);

/* Destroys @drv; every device must already be destroyed. NULL is a no-op. */
void msd_driver_destroy(struct msd_driver_t *drv);

/*
 * Creates the device for @platform_device (for msd-sim: a struct sim_device *, which the caller
 * keeps alive and clocked, sim_start, until msd_device_destroy: msd_sim_hooks.h). Resets and
 * powers up the hardware. NULL on failure.
 */
struct msd_device_t *msd_driver_create_device(struct msd_driver_t *drv, void *platform_device);

/*
 * Wraps @handle (a memfd; ownership passes to the driver on success and failure) as a buffer of
 * the handle's size. @client_id identifies the importing client for diagnostics.
 */
magma_status_t msd_driver_import_buffer(struct msd_driver_t *drv, magma_handle_t handle,
					msd_client_id_t client_id,
					struct msd_buffer_t **buffer_out);

/* Drops the caller's reference; the driver frees the buffer once no work uses it. */
void msd_buffer_release(struct msd_buffer_t *buffer);

/*
 * Wraps @handle (an eventfd; ownership passes on success and failure) as a semaphore.
 * @flags: MAGMA_IMPORT_SEMAPHORE_ONE_SHOT (never reset by the driver after a wait).
 */
magma_status_t msd_driver_import_semaphore(struct msd_driver_t *drv, magma_handle_t handle,
					   msd_client_id_t client_id, uint64_t flags,
					   struct msd_semaphore_t **semaphore_out);

/* Drops the caller's reference to @semaphore. */
void msd_semaphore_release(struct msd_semaphore_t *semaphore);

/* ---- Device ---- */

/* Stops the device's threads, resets the hardware and frees it. NULL is a no-op. */
void msd_device_destroy(struct msd_device_t *dev);

/*
 * Answers query @id: either *@result_out (simple result) or a new memfd in
 * *@result_buffer_out (buffer result, ownership to the caller). MAGMA_STATUS_INVALID_ARGS for an
 * unknown id or a NULL out pointer the query needs.
 */
magma_status_t msd_device_query(struct msd_device_t *dev, uint64_t id,
				magma_handle_t *result_buffer_out, uint64_t *result_out);

/* Writes a readable status dump (registers decoded, queues, faults) to the log. */
void msd_device_dump_status(struct msd_device_t *dev, uint32_t dump_flags);

/* Opens a connection with its own GPU address space. NULL on failure. */
struct msd_connection_t *msd_device_open(struct msd_device_t *dev, msd_client_id_t client_id);

/* ---- Connection ---- */

/*
 * Closes @conn. Work still queued or running for its contexts is cancelled or completes; the
 * address space stays alive until the GPU no longer uses it.
 */
void msd_connection_close(struct msd_connection_t *conn);

/*
 * Maps bytes [@offset, @offset + @length) of @buffer at GPU address @gpu_va with
 * MAGMA_MAP_FLAG_* @flags. All three page-aligned, @length > 0, range inside the buffer and the
 * address space, no overlap with an existing mapping: else MAGMA_STATUS_INVALID_ARGS.
 */
magma_status_t msd_connection_map_buffer(struct msd_connection_t *conn, struct msd_buffer_t *buffer,
					 uint64_t gpu_va, uint64_t offset, uint64_t length,
					 uint64_t flags);

/* Removes the mapping of @buffer at @gpu_va. MAGMA_STATUS_INVALID_ARGS if there is none. */
magma_status_t msd_connection_unmap_buffer(struct msd_connection_t *conn,
					   struct msd_buffer_t *buffer, uint64_t gpu_va);

/* MAGMA_BUFFER_RANGE_OP_* @options on [@start_offset, + @length) of @buffer's mappings. */
magma_status_t msd_connection_buffer_range_op(struct msd_connection_t *conn,
					      struct msd_buffer_t *buffer, uint32_t options,
					      uint64_t start_offset, uint64_t length);

/* Removes every mapping of @buffer in @conn (the buffer itself stays imported). */
void msd_connection_release_buffer(struct msd_connection_t *conn, struct msd_buffer_t *buffer);

/* Installs (or with @callback NULL removes) the connection's notification callback. */
void msd_connection_set_notification_callback(struct msd_connection_t *conn,
					      msd_connection_notification_callback_t callback,
					      void *token);

/* Creates a context scheduled at MAGMA_PRIORITY_* @priority. NULL on failure. */
struct msd_context_t *msd_connection_create_context(struct msd_connection_t *conn,
						    magma_priority_t priority);

/* Destroys @ctx; its queued work is cancelled, running work completes first. */
void msd_context_destroy(struct msd_context_t *ctx);

/* ---- Execution ---- */

/* A command-buffer submission with every id already resolved by the system layer. */
struct msd_command_descriptor {
	uint32_t command_buffer_count;
	uint32_t resource_count;
	uint32_t wait_semaphore_count;
	uint32_t signal_semaphore_count;
	uint64_t flags;
	const struct magma_exec_command_buffer *command_buffers;
	const struct magma_exec_resource *exec_resources;
	struct msd_buffer_t **buffers; /* parallel to exec_resources */
	struct msd_semaphore_t **wait_semaphores;
	struct msd_semaphore_t **signal_semaphores;
};

/*
 * Queues the command buffers of @desc on @ctx. The driver copies what it needs and takes its own
 * references to the buffers and semaphores before returning. Execution waits for every wait
 * semaphore; signal semaphores are signaled at completion.
 */
magma_status_t msd_context_execute_command_buffers(struct msd_context_t *ctx,
						   const struct msd_command_descriptor *desc);

/*
 * Queues @size bytes of raw commands at @commands (copied) on @ctx; @semaphores are signaled when
 * they complete.
 */
magma_status_t msd_context_execute_inline_commands(struct msd_context_t *ctx, uint64_t size,
						   const void *commands, uint64_t semaphore_count,
						   struct msd_semaphore_t **semaphores);

/* ---- Performance counters ---- */

magma_status_t msd_connection_enable_performance_counters(struct msd_connection_t *conn,
							  const uint64_t *counters,
							  uint64_t counter_count);
magma_status_t msd_connection_create_performance_counter_buffer_pool(
	struct msd_connection_t *conn, uint64_t pool_id, struct msd_perf_count_pool_t **pool_out);
/* After this returns no notification for @pool is delivered. */
magma_status_t
msd_connection_release_performance_counter_buffer_pool(struct msd_connection_t *conn,
						       struct msd_perf_count_pool_t *pool);
magma_status_t msd_connection_add_performance_counter_buffer_offset_to_pool(
	struct msd_connection_t *conn, struct msd_perf_count_pool_t *pool,
	struct msd_buffer_t *buffer, uint64_t buffer_id, uint64_t buffer_offset, uint64_t size);
magma_status_t
msd_connection_remove_performance_counter_buffer_from_pool(struct msd_connection_t *conn,
							   struct msd_perf_count_pool_t *pool,
							   struct msd_buffer_t *buffer);
magma_status_t msd_connection_dump_performance_counters(struct msd_connection_t *conn,
							struct msd_perf_count_pool_t *pool,
							uint32_t trigger_id);
magma_status_t msd_connection_clear_performance_counters(struct msd_connection_t *conn,
							 const uint64_t *counters,
							 uint64_t counter_count);

#if defined(__cplusplus)
}
#endif

#endif /* MSD_MSD_H */
