/* SPDX-License-Identifier: MIT */
/*
 * trace_tool.h - internals of magma-trace, the trace tools behind one entry point
 * (docs/trace-tools.md): the subcommands' entry points, a streaming line reader of trace files,
 * a blob index, small containers, JSON and command-line helpers, and a PNG writer.
 *
 * The reader is the tools' own, on the public format only (docs/trace-format.md): it reads one
 * line at a time, so stats and diff hold one event per file, never the whole trace. It checks
 * the document's shape (header, JSON objects, seq continuity, known types, the end event and
 * the trailer), not each call's members: dump and trim replay the trace, and the replay
 * validates everything before it runs. Not installed; the library magma_trace_tools holds this
 * code so that the tests link exactly what magma-trace runs. Single-threaded.
 */
#ifndef TRACES_TRACE_TOOL_H
#define TRACES_TRACE_TOOL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace_json.h"
#include "trace_map.h"

/* ---- subcommands: argv[0] is the subcommand's name; each returns the process exit status ---- */

int trace_tool_stats(int argc, char **argv);
int trace_tool_diff(int argc, char **argv);
int trace_tool_dump(int argc, char **argv);
int trace_tool_trim(int argc, char **argv);
/* trace_tool_merge - magma-trace merge CLIENT DAEMON OUT (trace_merge.c). */
int trace_tool_merge(int argc, char **argv);

/* ---- small containers: the replayer's (trace_map.h) ---- */

/* tt_map_get - the value of (@k1, @k2) into *@v (may be NULL); false when absent. */
bool tt_map_get(const struct replay_map *m, uint64_t k1, uint64_t k2, uint64_t *v);

/* ---- JSON and command-line helpers ---- */

/* tt_member - the member @k of object @o, or NULL. */
const cJSON *tt_member(const cJSON *o, const char *k);

/*
 * tt_get_u64 - member @k of @o as a non-negative integer (clamped at UINT64_MAX, as the replay
 * reads it) into *@out; false when missing or not one.
 */
bool tt_get_u64(const cJSON *o, const char *k, uint64_t *out);

/* tt_u64 - like tt_get_u64, 0 when missing. */
uint64_t tt_u64(const cJSON *o, const char *k);

/* tt_number_u64 - @n as tt_get_u64 reads a member. */
bool tt_number_u64(const cJSON *n, uint64_t *out);

/* tt_str - member @k of @o when it is a string, else NULL. */
const char *tt_str(const cJSON *o, const char *k);

/* tt_result - the "result" of call event @ev into *@out; false for a call without one. */
bool tt_result(const cJSON *ev, int64_t *out);

/*
 * tt_parse_u64 - a command-line number: decimal, or hex with 0x. False for anything else (empty,
 * negative, trailing characters, out of range).
 */
bool tt_parse_u64(const char *s, uint64_t *out);

/* ---- the line reader ---- */

/* Event types the format knows; the reader refuses others, as the replay does. */
enum tt_type {
	TT_CALL,
	TT_COMPLETION,
	TT_BLOB,
	TT_DEV,
	TT_DEVICE,
	TT_END,
};

struct tt_reader {
	FILE *f;
	const char *path;
	char *line;	      /* the current line, NUL-terminated, without "\n" and trailing "," */
	size_t line_cap;      /* of @line's allocation */
	size_t len;	      /* of the current line */
	uint64_t line_no;     /* 1-based line number of the current line */
	uint64_t offset;      /* byte offset of the current line */
	uint64_t next_offset; /* of the line after it */
	uint64_t index;	      /* event index (its seq) of the current event */
	const cJSON *ev;      /* the current event, in @json until the next (NULL: skipped dev) */
	struct trace_json json; /* the arena @ev lives in (trace_json.h) */
	enum tt_type type;	/* ... and its type */
	bool has_event;		/* a line was read as the current event */
	bool ended;		/* the end event (and the trailer after it) was read */
	bool skip_dev;		/* set by the caller: dev lines are typed, not parsed (ev NULL) */
	char error[768];	/* what was wrong, when a call returned nonzero */
};

/*
 * tt_reader_open - open @path (kept by the caller) and check its header line. Returns 0, or
 * TRACE_REPLAY_BAD_INPUT with rd->error set (the reader is closed again).
 */
int tt_reader_open(struct tt_reader *rd, const char *path);

/*
 * tt_reader_seek - continue reading at byte @offset, where event @index starts on line
 * @line_no (all three as the reader reported them in an earlier pass). 0 or
 * TRACE_REPLAY_BAD_INPUT.
 */
int tt_reader_seek(struct tt_reader *rd, uint64_t offset, uint64_t line_no, uint64_t index);

/*
 * tt_reader_next - read and parse the next event into rd->ev / rd->type. Returns 0 (also for the
 * end event, after which rd->ended is set and the trailer has been checked), or
 * TRACE_REPLAY_BAD_INPUT (malformed, truncated, trailing data) / TRACE_REPLAY_ENV_ERROR (out of
 * memory, read error) with rd->error naming the line.
 */
int tt_reader_next(struct tt_reader *rd);

/*
 * tt_reader_fail - format a bad-input error about the current line into rd->error and return
 * TRACE_REPLAY_BAD_INPUT.
 */
int tt_reader_fail(struct tt_reader *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* tt_reader_close - close the file and free the line and event. Safe to call twice. */
void tt_reader_close(struct tt_reader *rd);

/*
 * tt_reader_line_at - the line at byte @offset of @rd's file (as a line the reader reported) in
 * a new NUL-terminated string without its newline and trailing comma (*@line_out, freed by the
 * caller). Does not move the reader. 0, -ENOMEM, -EIO.
 */
int tt_reader_line_at(const struct tt_reader *rd, uint64_t offset, char **line_out);

/*
 * tt_trace_event_count - the "events" of the end event of @path, read from the file's last
 * lines without reading the rest. False when the file does not end with an end event and the
 * trailer (the replay then says what is wrong).
 */
bool tt_trace_event_count(const char *path, uint64_t *events_out);

/* ---- blobs by digest ---- */

/*
 * tt_blob_index_add - remember that blob event @ev (the reader's current event) is at the
 * reader's current line. Only the first line of a digest is kept. False when out of memory.
 */
bool tt_blob_index_add(struct replay_map *index, const struct tt_reader *rd);

/* A blob read back from its line. */
struct tt_blob {
	char *line;	  /* the line (owned) */
	cJSON *json;	  /* the parsed event (owned) */
	const char *text; /* its "data" */
	uint64_t size;	  /* its "size", checked against the text */
	uint64_t digest;
};

/*
 * tt_blob_load - the blob of digest @hex, from the line @index names in @rd's file. Returns 0,
 * -ENOENT when no blob of that digest was indexed, -EINVAL when the line is not a well-formed
 * blob of that digest, -ENOMEM, -EIO.
 */
int tt_blob_load(const struct tt_reader *rd, const struct replay_map *index, const char *hex,
		 struct tt_blob *b);

/* tt_blob_free - free what tt_blob_load allocated. */
void tt_blob_free(struct tt_blob *b);

/* ---- PNG (stored deflate blocks, no compression library) ---- */

enum tt_png_color {
	TT_PNG_GRAY8 = 0, /* PNG colour type 0, one byte a pixel */
	TT_PNG_RGB8 = 2,  /* colour type 2, three bytes */
	TT_PNG_RGBA8 = 6, /* colour type 6, four bytes */
};

/* A PNG being streamed to a file, a row at a time; IDAT chunks are one stored block each. */
struct tt_png {
	FILE *f;
	uint32_t width, height, row_bytes, rows_written;
	uint32_t adler_a, adler_b;
	uint8_t *block; /* the stored block being filled */
	size_t block_len;
	bool first_block;
	bool failed;
};

/* tt_png_channels - bytes a pixel of @color takes. */
unsigned tt_png_channels(enum tt_png_color color);

/*
 * tt_png_begin - write the signature and IHDR of a @width x @height image of @color to @f.
 * Returns 0, -EINVAL for a zero or oversized dimension, -ENOMEM, -EIO.
 */
int tt_png_begin(struct tt_png *p, FILE *f, uint32_t width, uint32_t height,
		 enum tt_png_color color);

/* tt_png_row - append one row of width * channels bytes. 0, -EINVAL past the last row, -EIO. */
int tt_png_row(struct tt_png *p, const uint8_t *row);

/*
 * tt_png_end - write the last block, the checksum and IEND; frees @p's memory. 0, -EINVAL when
 * fewer rows than the height were written, -EIO. Also frees after an error.
 */
int tt_png_end(struct tt_png *p);

/* tt_crc32 - the PNG/zlib CRC-32 of @len bytes, continuing from @crc (start with 0). */
uint32_t tt_crc32(uint32_t crc, const void *data, size_t len);

#endif /* TRACES_TRACE_TOOL_H */
