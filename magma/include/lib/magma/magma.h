/* SPDX-License-Identifier: MIT */
/*
 * magma.h - the Magma client API (version 16), as implemented by magma-sim's libmagma.
 *
 * Magma is the GPU driver model of Fuchsia: a hardware-specific client driver (for example a
 * Vulkan ICD) calls these functions, which talk over IPC to a privileged system driver that owns
 * the GPU. Declarations, names, argument order and types match Fuchsia's magma.h so existing
 * clients compile unchanged; the descriptions below are of this implementation on Linux.
 *
 * Platform: a magma_handle_t is a file descriptor. A device is a connected Unix socket to a
 * magma-sim service (embedded, the magma-simd daemon, or /dev/magma0 through magma-sim-run).
 * Buffers are memfds, semaphores are eventfds, the notification channel is a socket. A handle
 * that is not an open fd, passed to an *_import call, is MAGMA_STATUS_INTERNAL_ERROR (what
 * Magma's Linux build reports); an fd of the wrong kind is MAGMA_STATUS_INVALID_ARGS.
 *
 * Feed-forward, as Magma: map, unmap, the release calls, POPULATE/DEPOPULATE_TABLES, context
 * create and release, execute_command and execute_inline_commands return MAGMA_STATUS_OK once
 * their message is sent; only what the library cannot send (an unknown connection or buffer
 * handle, a NULL pointer) is refused at once. What the system driver decides - ranges, alignment,
 * flags, overlaps, VA limits, ids - is checked remotely, and its first error closes the
 * connection: magma_connection_flush() and magma_connection_get_error() return it, the
 * notification channel hangs up (magma_poll returns MAGMA_STATUS_CONNECTION_LOST, even with an
 * infinite timeout), and every later call that sends returns MAGMA_STATUS_CONNECTION_LOST.
 *
 * Ids: buffer and semaphore ids are unique across the device, like kernel object ids: every
 * buffer or semaphore created or imported gets an id no other object of the device has, and ids
 * are not reused while the device lives.
 *
 * Ownership: objects returned by *_create / *_import belong to the caller until the matching
 * *_release. Handles passed to *_import are always consumed, on success and failure. Handles
 * returned by *_export and magma_buffer_get_handle are new and belong to the caller.
 *
 * Thread-safety: every function may be called from any thread. Calls on one connection from
 * several threads are serialised in the order they take the connection's lock; objects of a
 * connection (buffers, semaphores) must not be used after their release or the connection's.
 */
#ifndef LIB_MAGMA_MAGMA_H_
#define LIB_MAGMA_MAGMA_H_

#include <lib/magma/magma_common_defs.h> /* IWYU pragma: export */
#include <stdint.h>

#if defined(__cplusplus)
extern "C" {
#endif

/* ---- Devices ---- */

/*
 * Wraps @device_channel (a connected socket to a magma service) as a device. Takes ownership of
 * the handle on success and on failure. MAGMA_STATUS_INVALID_ARGS for a NULL @device_out or a
 * handle that is not a socket; MAGMA_STATUS_CONNECTION_LOST when the peer does not answer the
 * handshake.
 */
MAGMA_EXPORT magma_status_t magma_device_import(magma_handle_t device_channel,
						magma_device_t *device_out);

/* Releases @device. Connections created from it stay valid. */
MAGMA_EXPORT void magma_device_release(magma_device_t device);

/*
 * Lists the paths of available devices (/dev/magma0 ... as made openable by magma-sim-run, or
 * the sockets of $MAGMA_SIM_DEVICE_DIR). @device_namespace and @device_directory_channel are used
 * only on Fuchsia. MAGMA_STATUS_MEMORY_ERROR when *@device_count_inout entries are not enough,
 * MAGMA_STATUS_INVALID_ARGS when @device_path_size cannot hold a path. On success
 * *@device_count_inout is the number of paths written, each NUL-terminated in a slot of
 * @device_path_size bytes.
 */
MAGMA_EXPORT magma_status_t magma_enumerate_devices(const char *device_namespace,
						    magma_handle_t device_directory_channel,
						    uint32_t *device_count_inout,
						    uint32_t device_path_size,
						    char *device_paths_out) MAGMA_AVAILABLE_SINCE(28);

/*
 * Synchronous query @id (MAGMA_QUERY_* or a vendor id >= MAGMA_QUERY_VENDOR_PARAM_0). A query
 * answers either with a value in *@result_out (then *@result_buffer_out, if not NULL, is set to
 * -1, an invalid handle) or with a new buffer handle (memfd, caller owns) in *@result_buffer_out
 * (then *@result_out, if not NULL, is set to 0). The out pointer a query does not use may be
 * NULL. Returns MAGMA_STATUS_INVALID_ARGS for an unknown id or when the out pointer it needs is
 * NULL.
 */
MAGMA_EXPORT magma_status_t magma_device_query(magma_device_t device, uint64_t id,
					       magma_handle_t *result_buffer_out,
					       uint64_t *result_out);

/* Opens a connection (a memory isolation boundary with its own GPU address space). */
MAGMA_EXPORT magma_status_t magma_device_create_connection(magma_device_t device,
							   magma_connection_t *connection_out);

/* ---- Connections ---- */

/* Closes @connection and releases every object created through it. */
MAGMA_EXPORT void magma_connection_release(magma_connection_t connection);

/*
 * The error that closed the connection, MAGMA_STATUS_OK if none. While no error is known it asks
 * the system driver (a round trip, as Magma's does), so an error caused by any earlier call is
 * returned.
 */
MAGMA_EXPORT magma_status_t magma_connection_get_error(magma_connection_t connection);

/* Releases context @context_id; an unknown id closes the connection (seen on flush). */
MAGMA_EXPORT void magma_connection_release_context(magma_connection_t connection,
						   uint32_t context_id);

/*
 * Creates a buffer of at least @size bytes (rounded up to whole pages); *@size_out is the actual
 * size, *@id_out its device-wide id. Pages are committed on first use or by
 * MAGMA_BUFFER_RANGE_OP_COMMIT. MAGMA_STATUS_MEMORY_ERROR for size 0 (as Magma) and when it
 * cannot be allocated; MAGMA_STATUS_CONNECTION_LOST once the connection has failed.
 */
MAGMA_EXPORT magma_status_t magma_connection_create_buffer(magma_connection_t connection,
							   uint64_t size, uint64_t *size_out,
							   magma_buffer_t *buffer_out,
							   magma_buffer_id_t *id_out);

/*
 * Releases @buffer and its GPU mappings in @connection. A buffer of another connection is freed
 * too and its id sent to @connection, whose system driver then closes it (as Magma).
 */
MAGMA_EXPORT void magma_connection_release_buffer(magma_connection_t connection,
						  magma_buffer_t buffer);

/*
 * Imports a buffer exported by magma_buffer_export (from any connection or process). Takes
 * ownership of @buffer_handle on success and failure. Each import is a distinct magma_buffer_t
 * with a new id (never the exporter's), sharing the same memory. MAGMA_STATUS_INTERNAL_ERROR
 * when the handle is not an open fd, INVALID_ARGS for an fd that is not a buffer (memfd or
 * other shmem file of whole pages) or that cannot be sealed against shrinking (a memfd created
 * without MFD_ALLOW_SEALING; an importable one is sealed with F_SEAL_SHRINK | F_SEAL_GROW by
 * the import) or is sealed against writes; the connection stays usable.
 */
MAGMA_EXPORT magma_status_t magma_connection_import_buffer(magma_connection_t connection,
							   magma_handle_t buffer_handle,
							   uint64_t *size_out,
							   magma_buffer_t *buffer_out,
							   magma_buffer_id_t *id_out);

/* Creates an unsignaled semaphore. */
MAGMA_EXPORT magma_status_t magma_connection_create_semaphore(magma_connection_t connection,
							      magma_semaphore_t *semaphore_out,
							      magma_semaphore_id_t *id_out);

/* Releases @semaphore. */
MAGMA_EXPORT void magma_connection_release_semaphore(magma_connection_t connection,
						     magma_semaphore_t semaphore);

/*
 * Imports a semaphore exported by magma_semaphore_export. Takes ownership of @semaphore_handle
 * on success and failure. With MAGMA_IMPORT_SEMAPHORE_ONE_SHOT the semaphore is never reset by
 * the system driver after a wait, and magma_semaphore_reset() on it does nothing. Not an open
 * fd: MAGMA_STATUS_INTERNAL_ERROR; not an eventfd, or unknown @flags: INVALID_ARGS.
 */
MAGMA_EXPORT magma_status_t magma_connection_import_semaphore2(magma_connection_t connection,
							       magma_handle_t semaphore_handle,
							       uint64_t flags,
							       magma_semaphore_t *semaphore_out,
							       magma_semaphore_id_t *id_out);

/*
 * Performs MAGMA_BUFFER_RANGE_OP_* @options on [@start_offset, + @length) of @buffer. COMMIT and
 * DECOMMIT work on the buffer's memory and complete before returning: a start or length that is
 * not page aligned is MAGMA_STATUS_INVALID_ARGS, an empty range does nothing, a range past the
 * end is MAGMA_STATUS_MEMORY_ERROR for COMMIT and INVALID_ARGS for DECOMMIT.
 * POPULATE/DEPOPULATE_TABLES are sent to the system driver and return OK (errors surface on
 * flush). Any other op is INVALID_ARGS.
 */
MAGMA_EXPORT magma_status_t magma_connection_perform_buffer_op(magma_connection_t connection,
							       magma_buffer_t buffer,
							       uint32_t options,
							       uint64_t start_offset,
							       uint64_t length);

/*
 * Maps [@offset, + @length) of @buffer at GPU address @hw_va with MAGMA_MAP_FLAG_* @map_flags.
 * Sent without waiting (MAGMA_STATUS_OK): a mapping the system driver refuses - unaligned,
 * empty, outside the buffer or the client VA range, overlapping, unknown flags, another
 * connection's buffer - closes the connection with MAGMA_STATUS_INVALID_ARGS (seen on flush).
 */
MAGMA_EXPORT magma_status_t magma_connection_map_buffer(magma_connection_t connection,
							uint64_t hw_va, magma_buffer_t buffer,
							uint64_t offset, uint64_t length,
							uint64_t map_flags);

/* Removes the mapping of @buffer at @hw_va. An unknown mapping closes the connection. */
MAGMA_EXPORT void magma_connection_unmap_buffer(magma_connection_t connection, uint64_t hw_va,
						magma_buffer_t buffer);

/*
 * Submits @descriptor's command buffers to context @context_id. Resources must be GPU-mapped;
 * execution starts once every wait semaphore is signaled (they are then reset, unless imported
 * one-shot), and every signal semaphore is signaled when it completes. A descriptor without
 * command buffers is accepted (as on Fuchsia): it completes after the work submitted to the
 * context before it and then signals its semaphores, like a fence. The descriptor and its arrays
 * are copied before returning. Sent without waiting; invalid ids close the connection, and so
 * does exceeding the system driver's bound on work not yet completed
 * (MAGMA_STATUS_MEMORY_ERROR; for the sim: 65536 submissions or 64 MiB of inline commands).
 */
MAGMA_EXPORT magma_status_t magma_connection_execute_command(
	magma_connection_t connection, uint32_t context_id,
	magma_command_descriptor_t *descriptor);

/*
 * Submits @command_count buffers of raw commands (copied before returning) to @context_id,
 * each signalling its semaphores when done. Sent without waiting; past the system driver's
 * bound on work not yet completed the connection closes with MAGMA_STATUS_MEMORY_ERROR.
 */
MAGMA_EXPORT magma_status_t magma_connection_execute_inline_commands(
	magma_connection_t connection, uint32_t context_id, uint64_t command_count,
	magma_inline_command_buffer_t *command_buffers) MAGMA_AVAILABLE_SINCE(27);

/*
 * Round trip: returns once the system driver has processed every message sent before it, with
 * the error that closed the connection if any.
 */
MAGMA_EXPORT magma_status_t magma_connection_flush(magma_connection_t connection);

/*
 * A pollable handle (socket fd) that is readable while notifications are pending and hangs up
 * when the connection dies. Same value every call; owned by the connection: do not close it.
 */
MAGMA_EXPORT magma_handle_t
magma_connection_get_notification_channel_handle(magma_connection_t connection);

/*
 * Reads one notification into @buffer. *@buffer_size_out = 0 when none is pending. When
 * @buffer_size is too small: MAGMA_STATUS_INVALID_ARGS with the needed size in
 * *@buffer_size_out (the message stays queued). *@more_data_out tells whether more are pending.
 * Notifications queued before the connection closed are still returned, with MAGMA_STATUS_OK
 * (a fault's payload precedes the error that closes the connection); only once the channel is
 * drained does the call return the connection's error (or MAGMA_STATUS_CONNECTION_LOST).
 */
MAGMA_EXPORT magma_status_t magma_connection_read_notification_channel(
	magma_connection_t connection, void *buffer, uint64_t buffer_size,
	uint64_t *buffer_size_out, magma_bool_t *more_data_out);

/* ---- Performance counters ---- */

/*
 * Grants this connection access to performance counters when @channel is an fd to the device's
 * access token (the file the service issued; docs/devices.md: magma_sim_embedded_perf_token(),
 * or /dev/magmaN.perf-token); MAGMA_STATUS_ACCESS_DENIED otherwise, unless the connection was
 * granted access before (then OK). A handle that is not an open fd is INTERNAL_ERROR. Takes
 * ownership of @channel.
 */
MAGMA_EXPORT magma_status_t magma_connection_enable_performance_counter_access(
	magma_connection_t connection, magma_handle_t channel);

/* Enables the @counters_count counters listed in @counters (vendor counter ids). */
MAGMA_EXPORT magma_status_t magma_connection_enable_performance_counters(
	magma_connection_t connection, uint64_t *counters, uint64_t counters_count);

/*
 * Creates a pool that receives counter dumps; *@notification_handle_out is a pollable handle
 * (owned by the pool) readable when a completion is pending.
 */
MAGMA_EXPORT magma_status_t magma_connection_create_performance_counter_buffer_pool(
	magma_connection_t connection, magma_perf_count_pool_t *pool_id_out,
	magma_handle_t *notification_handle_out);

/* Releases @pool_id; no completion for it is delivered afterwards. */
MAGMA_EXPORT magma_status_t magma_connection_release_performance_counter_buffer_pool(
	magma_connection_t connection, magma_perf_count_pool_t pool_id);

/* Adds buffer ranges that dumps may be written into. */
MAGMA_EXPORT magma_status_t magma_connection_add_performance_counter_buffer_offsets_to_pool(
	magma_connection_t connection, magma_perf_count_pool_t pool_id,
	const magma_buffer_offset_t *offsets, uint64_t offsets_count);

/* Removes every range of @buffer from @pool_id. */
MAGMA_EXPORT magma_status_t magma_connection_remove_performance_counter_buffer_from_pool(
	magma_connection_t connection, magma_perf_count_pool_t pool_id, magma_buffer_t buffer);

/* Writes the enabled counters into the next free range of @pool_id, tagged @trigger_id. */
MAGMA_EXPORT magma_status_t magma_connection_dump_performance_counters(
	magma_connection_t connection, magma_perf_count_pool_t pool_id, uint32_t trigger_id);

/* Zeroes the listed counters. */
MAGMA_EXPORT magma_status_t magma_connection_clear_performance_counters(
	magma_connection_t connection, uint64_t *counters, uint64_t counters_count);

/*
 * Reads one dump completion of @pool_id: its trigger id, the buffer id and offset written, the
 * GPU time and MAGMA_PERF_COUNTER_RESULT_* flags. MAGMA_STATUS_TIMED_OUT when none is pending.
 */
MAGMA_EXPORT magma_status_t magma_connection_read_performance_counter_completion(
	magma_connection_t connection, magma_perf_count_pool_t pool_id, uint32_t *trigger_id_out,
	uint64_t *buffer_id_out, uint32_t *buffer_offset_out, uint64_t *time_out,
	uint32_t *result_flags_out);

/* ---- Contexts ---- */

/* Creates a context scheduled at MAGMA_PRIORITY_* @priority; *@context_id_out names it. */
MAGMA_EXPORT magma_status_t magma_connection_create_context2(magma_connection_t connection,
							     magma_priority_t priority,
							     uint32_t *context_id_out);

/* ---- Buffers ---- */

/*
 * Makes CPU writes to [@offset, + @size) visible to the GPU (@operation MAGMA_CACHE_*; another
 * value is INVALID_ARGS). A range past the end is MAGMA_STATUS_INTERNAL_ERROR.
 */
MAGMA_EXPORT magma_status_t magma_buffer_clean_cache(magma_buffer_t buffer, uint64_t offset,
						     uint64_t size,
						     magma_cache_operation_t operation);

/* Records the CPU cache policy of @buffer (MAGMA_CACHE_POLICY_*; another is INTERNAL_ERROR). */
MAGMA_EXPORT magma_status_t magma_buffer_set_cache_policy(magma_buffer_t buffer,
							  magma_cache_policy_t policy);

/* Returns the cache policy of @buffer (MAGMA_CACHE_POLICY_CACHED unless set). */
MAGMA_EXPORT magma_status_t magma_buffer_get_cache_policy(magma_buffer_t buffer,
							  magma_cache_policy_t *cache_policy_out);

/* Names @buffer for debugging tools (copied; may be truncated). */
MAGMA_EXPORT magma_status_t magma_buffer_set_name(magma_buffer_t buffer, const char *name);

/* Size and committed bytes of @buffer. */
MAGMA_EXPORT magma_status_t magma_buffer_get_info(magma_buffer_t buffer,
						  magma_buffer_info_t *info_out);

/*
 * A new fd of @buffer's memory for mmap (the caller owns and closes it; closing does not undo
 * mappings made from it).
 */
MAGMA_EXPORT magma_status_t magma_buffer_get_handle(magma_buffer_t buffer,
						    magma_handle_t *handle_out);

/* A new handle that magma_connection_import_buffer accepts (the caller owns it). */
MAGMA_EXPORT magma_status_t magma_buffer_export(magma_buffer_t buffer,
						magma_handle_t *buffer_handle_out);

/* ---- Semaphores ---- */

/* Signals @semaphore (stays signaled until reset). */
MAGMA_EXPORT void magma_semaphore_signal(magma_semaphore_t semaphore);

/* Resets @semaphore (no effect on a one-shot import). */
MAGMA_EXPORT void magma_semaphore_reset(magma_semaphore_t semaphore);

/*
 * A new handle (eventfd, caller owns) for @semaphore: readable (POLLIN) exactly while the
 * semaphore is signaled, importable into any connection.
 */
MAGMA_EXPORT magma_status_t magma_semaphore_export(magma_semaphore_t semaphore,
						   magma_handle_t *semaphore_handle_out);

/* ---- Waiting ---- */

/*
 * Waits until at least one of @count @items meets its condition, or @timeout_ns passes (0:
 * check once; UINT64_MAX: forever). Sets each item's result to the condition it meets (or 0).
 * Does not reset semaphores. Items with condition 0 are ignored. MAGMA_STATUS_TIMED_OUT on
 * timeout; MAGMA_STATUS_CONNECTION_LOST when a notification-channel item's connection has
 * closed and the channel is drained (while notifications are still pending it reports the item
 * READABLE with MAGMA_STATUS_OK, so they can be read first); MAGMA_STATUS_INVALID_ARGS for a
 * bad type or condition or when no item has a condition (nothing to wait for);
 * MAGMA_STATUS_INTERNAL_ERROR for a handle that is not an open fd.
 */
MAGMA_EXPORT magma_status_t magma_poll(magma_poll_item_t *items, uint32_t count,
				       uint64_t timeout_ns);

/* ---- Fuchsia-only diagnostics ---- */

/* On Linux: closes @channel (when valid) and returns MAGMA_STATUS_OK. */
MAGMA_EXPORT magma_status_t magma_initialize_tracing(magma_handle_t channel);

/* On Linux: closes @channel (when valid) and returns MAGMA_STATUS_OK. */
MAGMA_EXPORT magma_status_t magma_initialize_logging(magma_handle_t channel);

#if defined(__cplusplus)
}
#endif

#endif /* LIB_MAGMA_MAGMA_H_ */
