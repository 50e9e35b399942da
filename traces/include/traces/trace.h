/* SPDX-License-Identifier: MIT */
/*
 * trace.h - the recording side of magma-sim traces: content digests, the blob codec and the
 * process-wide trace writer (docs/trace-format.md describes the file).
 *
 * A trace is one JSON document whose events are written one per line, so two traces diff line by
 * line. The writer is a process-wide object: libmagma opens it on first use when MAGMA_TRACE is
 * set, and the embedded device appends its device-side events to the same file. It is
 * thread-safe (one mutex) and buffered; the document is closed at exit (atexit) and flushed
 * whenever a connection or device is released. This header has no dependency on cJSON so that
 * libmagma can link it; the device-side hook is trace_device.h, reading and replay are
 * trace_replay.h.
 *
 * One writer per process: the writer is part of libmagma (libmagma.a and libmagma.so, which
 * exports these entry points), and the embedded device's hook (trace_device.h) calls into the
 * same writer, so a process that links libmagma.so and the embedded device writes one file.
 */
#ifndef TRACES_TRACE_H
#define TRACES_TRACE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TRACE_FORMAT_NAME    "magma-sim-trace"
#define TRACE_FORMAT_VERSION 2
/* Zero runs at least this long are written as "~N." in a blob instead of base64. */
#define TRACE_BLOB_ZERO_RUN  16
/*
 * The largest buffer, resource range or blob a trace may hold (4 GiB, the replay device's whole
 * bus memory); readers reject larger ones as bad traces (docs/trace-format.md "Sizes").
 */
#define TRACE_MAX_SIZE	     (1ull << 32)
/* The most command bytes one recorded execute_inline call may carry (msd-sim's inline budget). */
#define TRACE_INLINE_MAX     (64ull << 20)
/* The FNV-1a offset basis: the digest of no bytes. */
#define TRACE_DIGEST_INIT    0xcbf29ce484222325ull

struct trace_writer;

/* trace_digest - 64-bit FNV-1a of @len bytes at @data. Pure. */
uint64_t trace_digest(const void *data, size_t len);

/*
 * trace_digest_more - the digest of the bytes that gave @digest followed by @len bytes at @data
 * (from TRACE_DIGEST_INIT, chunk by chunk, it equals trace_digest of the whole). Pure.
 */
uint64_t trace_digest_more(uint64_t digest, const void *data, size_t len);

/* trace_digest_hex - @digest as 16 lower-case hex digits plus NUL into @out. */
void trace_digest_hex(uint64_t digest, char out[17]);

/* trace_digest_parse - the inverse of trace_digest_hex. 0, or -EINVAL unless 16 hex digits. */
int trace_digest_parse(const char *text, uint64_t *digest_out);

/*
 * trace_blob_encode - @len bytes as blob text (base64 segments and "~N." zero runs). Returns a
 * malloc'd NUL-terminated string the caller frees, or NULL when out of memory.
 */
char *trace_blob_encode(const void *data, size_t len);

/*
 * trace_blob_decode - decode blob @text that must yield exactly @size bytes into a malloc'd
 * buffer (*@data_out, freed by the caller; non-NULL even for size 0). The text is checked
 * before anything is allocated. Returns 0, -EINVAL for malformed text or a size mismatch
 * (*@where_out: offset into @text of the problem), -ENOMEM. Allocates @size bytes: callers bound
 * it (a reader uses trace_blob_scan or trace_blob_read for sizes it has not bounded).
 */
int trace_blob_decode(const char *text, size_t size, uint8_t **data_out, size_t *where_out);

/*
 * trace_blob_scan - check blob @text and count what it decodes to without allocating: its size
 * (*@size_out) and digest (*@digest_out, may be NULL). Zero runs cost O(log n), literal text
 * O(length). Returns 0, -EINVAL for malformed text, -EFBIG when it decodes to more than
 * @max_size bytes (both with *@where_out, if not NULL, the offset into @text of the segment).
 */
int trace_blob_scan(const char *text, uint64_t max_size, uint64_t *size_out, uint64_t *digest_out,
		    size_t *where_out);

/* A cursor over blob text that trace_blob_scan accepted: its bytes, a chunk at a time. */
struct trace_blob_reader {
	const char *text;
	size_t pos;	 /* next segment in text */
	uint64_t zeros;	 /* zero bytes left of the current run */
	uint8_t lit[3];	 /* the current base64 quad's bytes */
	uint8_t lit_len; /* ... how many it holds */
	uint8_t lit_pos; /* ... how many were read */
};

/* trace_blob_reader_init - start reading @text (kept by the caller while @rd is used). */
void trace_blob_reader_init(struct trace_blob_reader *rd, const char *text);

/*
 * trace_blob_read - copy the next at most @len decoded bytes into @buf. Returns the count, less
 * than @len only at the end of the blob (or at malformed text, which trace_blob_scan rejects).
 */
size_t trace_blob_read(struct trace_blob_reader *rd, void *buf, size_t len);

/*
 * trace_writer_open - create @path and write the document header; @writer names the producer
 * ("libmagma", "test"). Returns the writer (the caller closes it) or NULL with errno set. No
 * host times (trace_writer_open_flags with 0).
 */
struct trace_writer *trace_writer_open(const char *path, const char *writer);

/*
 * Flags of trace_writer_open_flags (docs/trace-format.md, "Host times").
 * TRACE_WRITER_HOST_TIME: the header says "clock":"monotonic" and "pid" (this process), and every
 *   event written by trace_writer_event ends with "ns": CLOCK_MONOTONIC nanoseconds taken under
 *   the writer's lock, so they never decrease in file order. Blob events have none.
 * TRACE_WRITER_HOST_TIME_DEV: also on the events of trace_writer_dev_event (a daemon's trace;
 *   libmagma leaves the embedded device's dev events unstamped: they are in order already).
 * TRACE_WRITER_EXCLUSIVE: take the file's flock (as libmagma's MAGMA_TRACE writer holds it)
 *   before truncating it; fail with EBUSY, leaving it untouched, when another process holds it.
 */
#define TRACE_WRITER_HOST_TIME	   (1u << 0)
#define TRACE_WRITER_HOST_TIME_DEV (1u << 1)
#define TRACE_WRITER_EXCLUSIVE	   (1u << 2)

/*
 * trace_writer_open_flags - trace_writer_open with TRACE_WRITER_* @flags and, when
 * @header_members is not NULL, those JSON members (without braces, e.g. "\"daemon\":{...}")
 * added to the header before "events". Returns the writer or NULL with errno set (EBUSY: see
 * TRACE_WRITER_EXCLUSIVE).
 */
struct trace_writer *trace_writer_open_flags(const char *path, const char *writer, uint32_t flags,
					     const char *header_members);

/*
 * trace_writer_event - append one event: @fmt/... are the JSON members after "seq" (without
 * braces), e.g. "\"type\":\"call\",\"call\":\"flush\"". The writer adds {"seq":N, ... }.
 * Returns the event's sequence number. Thread-safe.
 */
uint64_t trace_writer_event(struct trace_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * trace_writer_dev_event - trace_writer_event for a "dev" event (@fmt holds its members): stamped
 * with "ns" only when the writer was opened with TRACE_WRITER_HOST_TIME_DEV. Thread-safe.
 */
uint64_t trace_writer_dev_event(struct trace_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * trace_writer_hold / trace_writer_release - between the two, the calling thread's dev events
 * for @w are kept (trace_writer_dev_event returns 0 for them) and written, in order, by the
 * release: a client call around which the device ran a job on the caller's own thread (the
 * embedded device's inline run) writes its event first and that job's after it, as if the
 * GPU had run it once the call returned. Other threads' events are not held. Nested holds are
 * counted; release writes at the outermost. Per thread; NULL @w: nothing.
 */
void trace_writer_hold(struct trace_writer *w);
void trace_writer_release(struct trace_writer *w);

/*
 * trace_writer_submit_begin / _end - a submission call is under way until its event is written;
 * trace_writer_await_submits - wait (at most 1 s) until none is. A client's poll, released by a
 * job that completed inside another thread's submitting call (the embedded device's inline
 * run), awaits before writing its event, so the submission comes first in the trace (replay
 * reads it in order, on one thread). Thread-safe; NULL @w: nothing.
 */
void trace_writer_submit_begin(struct trace_writer *w);
void trace_writer_submit_end(struct trace_writer *w);
void trace_writer_await_submits(struct trace_writer *w);

/*
 * trace_writer_blob - make @len bytes at @data available as a blob: a "blob" event is written the
 * first time a content digest is seen, never again. Returns the digest. Thread-safe.
 */
uint64_t trace_writer_blob(struct trace_writer *w, const void *data, size_t len);

/* trace_writer_flush - push buffered events to the file. Thread-safe. */
void trace_writer_flush(struct trace_writer *w);

/*
 * trace_writer_close - write the "end" event and the document trailer, close and free @w.
 * NULL is a no-op. No other thread may use @w any more.
 */
void trace_writer_close(struct trace_writer *w);

/*
 * trace_writer_forget - close @w's file without writing anything more (what is buffered is
 * dropped) and free @w: for the parent of a fork whose child goes on writing the file (the
 * child's copy of the descriptor keeps the flock). NULL is a no-op.
 */
void trace_writer_forget(struct trace_writer *w);

/*
 * trace_global - the process-wide writer: on the first call opens $MAGMA_TRACE (if set and
 * non-empty) and registers an atexit handler that closes it. NULL when tracing is off or the
 * file could not be created (a message goes to stderr once). Thread-safe, cheap after the first
 * call.
 */
struct trace_writer *trace_global(void);

/*
 * trace_global_install - make @w (may be NULL: tracing off) the process-wide writer instead of
 * $MAGMA_TRACE, for programs that record a part of their run (bench-trace). Returns the previous
 * one, which the caller now owns. Objects created while another writer was installed are
 * recorded with their old handles; install before creating anything to be recorded.
 */
struct trace_writer *trace_global_install(struct trace_writer *w);

#ifdef __cplusplus
}
#endif

#endif /* TRACES_TRACE_H */
