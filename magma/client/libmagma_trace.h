/* SPDX-License-Identifier: MIT */
/*
 * libmagma_trace.h - what the recorder's two files share (libmagma_trace.c writes the calls,
 * libmagma_trace_completion.c the completions). Internal to libmagma.
 */
#ifndef MAGMA_CLIENT_LIBMAGMA_TRACE_H
#define MAGMA_CLIENT_LIBMAGMA_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include <lib/magma/magma.h>

#include "libmagma_internal.h"
#include "traces/trace.h"

/*
 * Digest of [@offset, + @length) of @buf into *@digest_out, the bytes stored as a blob when @w
 * is given. False when the range is outside the buffer or cannot be read. Any thread.
 */
bool libmagma_trace_buffer_digest(const struct libmagma_buffer *buf, uint64_t offset,
				  uint64_t length, struct trace_writer *w, uint64_t *digest_out);

/* The buffer of @conn (locked) with id @id, or NULL. */
struct libmagma_buffer *libmagma_trace_buffer_locked(struct libmagma_connection *conn, uint64_t id);

/*
 * Remembers a submission of @connection (its event @seq, @signal_ids, @res) until its signal
 * semaphores are signaled (copies what it keeps). Any thread.
 */
void libmagma_trace_pending_add(uint64_t connection, uint64_t seq, const uint64_t *signal_ids,
				uint32_t signal_count, const magma_exec_resource_t *res,
				uint32_t resource_count);

/*
 * Writes a completion event on @w for every remembered submission whose signal semaphores are
 * all signaled, and forgets those of released connections. Any thread; takes the pending list's
 * lock, then each connection's lock.
 */
void libmagma_trace_check_completions(struct trace_writer *w);

#endif /* MAGMA_CLIENT_LIBMAGMA_TRACE_H */
