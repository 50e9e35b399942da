/* SPDX-License-Identifier: MIT */
/*
 * trace_reader.c - reading a trace file: its header, its blobs and the checks of numeric
 * members that every kind of event shares.
 *
 * The reader is line-based, as the writer is: line 1 is the header (the document up to the
 * "events" array), then one event per line, each followed by a comma except the final "end"
 * event, then "]}". The run loop (trace_replay.c) parses each line with cJSON on its own.
 *
 * Blob text spends a few characters on a gigabyte of zeros, so nothing is sized from what a
 * blob says about itself: a blob event is scanned for its size and digest without decoding it
 * (nothing allocated), and its size is checked against TRACE_MAX_SIZE or the caller's smaller
 * max_size here, against what it fills where it is used. Its text is kept for the replay pass.
 *
 * Runs on the caller's thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "trace_replay_internal.h"
#include "traces/trace.h"

/* trace_reader_check_u64s - see trace_replay_internal.h. */
int trace_reader_check_u64s(struct replay *r, const cJSON *o, const char *const *keys,
			    const char *what)
{
	uint64_t v;

	for (; *keys; keys++)
		if (!get_u64(o, *keys, &v))
			return trace_replay_fail(
				r, TRACE_REPLAY_BAD_INPUT,
				"%s: member \"%s\" missing or not a non-negative integer", what,
				*keys);
	return 0;
}

/* trace_reader_blob - see trace_replay_internal.h. */
const struct replay_blob *trace_reader_blob(struct replay *r, const char *hex)
{
	uint64_t d;
	struct replay_ent *e;

	if (!hex || trace_digest_parse(hex, &d))
		return NULL;
	e = trace_replay_map_find(&r->blobs, d, 0);
	return e ? trace_replay_vec_at(&r->blob_data, e->v) : NULL;
}

/* trace_reader_read_file - see trace_replay_internal.h. */
int trace_reader_read_file(struct replay *r, const char *path, struct replay_file *f)
{
	FILE *fp = fopen(path, "re");
	long n;

	if (!fp)
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT, "cannot open %s: %s", path,
					 strerror(errno));
	if (fseek(fp, 0, SEEK_END) || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET)) {
		fclose(fp);
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT, "cannot read %s", path);
	}
	f->size = (size_t)n;
	f->text = malloc(f->size + 1);
	if (!f->text || fread(f->text, 1, f->size, fp) != f->size) {
		fclose(fp);
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT, "cannot read %s", path);
	}
	f->text[f->size] = '\0';
	fclose(fp);
	if (memchr(f->text, '\0', f->size))
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "%s holds NUL bytes: not a trace", path);
	return 0;
}

/* trace_reader_check_header - see trace_replay_internal.h. */
int trace_reader_check_header(struct replay *r, const char *line, size_t len)
{
	char *doc = malloc(len + 3);
	const char *fmt;
	cJSON *h;
	uint64_t v;
	int ret = 0;

	if (!doc)
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	memcpy(doc, line, len);
	memcpy(doc + len, "]}", 3);
	h = cJSON_Parse(doc);
	free(doc);
	if (!h || !cJSON_IsArray(member(h, "events")))
		ret = trace_replay_fail(
			r, TRACE_REPLAY_BAD_INPUT,
			"the header line is not {\"format\":...,\"events\":[ (not a trace?)");
	else if (!(fmt = get_str(h, "format")) || strcmp(fmt, TRACE_FORMAT_NAME))
		ret = trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT, "\"format\" is not \"%s\"",
					TRACE_FORMAT_NAME);
	else if (!get_u64(h, "version", &v) || !v)
		ret = trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					"\"version\" missing or not a positive integer");
	else if (v > TRACE_FORMAT_VERSION)
		ret = trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					"format version %" PRIu64
					" is newer than this reader (version %d)",
					v, TRACE_FORMAT_VERSION);
	cJSON_Delete(h);
	return ret;
}

/*
 * A blob event: scanned for its size and digest without decoding it (see the file head); its
 * text is kept for pass 2. Sizes past max_size are refused here, the rest where it is used.
 */
int trace_reader_check_blob(struct replay *r, const cJSON *ev)
{
	const char *hex = get_str(ev, "digest"), *data = get_str(ev, "data");
	struct replay_blob *b;
	uint64_t d, size, got_size = 0, got_digest = 0;
	size_t where = 0;
	char got[17];
	char *text;
	int err;

	if (!hex || trace_digest_parse(hex, &d) || !data || !get_u64(ev, "size", &size))
		return trace_replay_fail(
			r, TRACE_REPLAY_BAD_INPUT,
			"blob: needs \"digest\" (16 hex digits), \"size\" and \"data\"");
	if (size > r->max_size)
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "blob %s: size %" PRIu64 " is over the limit of %" PRIu64
					 " bytes",
					 hex, size, r->max_size);
	err = trace_blob_scan(data, size, &got_size, &got_digest, &where);
	if (err || got_size != size)
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "blob %s: malformed data at character %zu (or not %" PRIu64
					 " bytes)",
					 hex, err ? where : strlen(data), size);
	if (got_digest != d) {
		trace_digest_hex(got_digest, got);
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "blob digest mismatch: recorded %s, contents hash to %s",
					 hex, got);
	}
	if (trace_replay_map_find(&r->blobs, d, 0))
		return 0;
	text = strdup(data);
	b = text ? trace_replay_vec_push(&r->blob_data, sizeof(*b)) : NULL;
	if (!b || !trace_replay_map_put(&r->blobs, d, 0, r->blob_data.count - 1)) {
		if (b)
			r->blob_data.count--;
		free(text);
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	}
	b->text = text;
	b->size = size;
	b->line = r->line;
	return 0;
}
