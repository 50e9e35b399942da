/* SPDX-License-Identifier: MIT */
/*
 * trace_reader.c - reading a trace file: a line at a time, its header, its blobs and the checks
 * of numeric members that every kind of event shares.
 *
 * The reader is line-based, as the writer is: line 1 is the header (the document up to the
 * "events" array), then one event per line, each followed by a comma except the final "end"
 * event, then "]}". The file is streamed (getline), twice: pass 1 validates, pass 2 replays;
 * the run loop (trace_replay.c) parses each line with cJSON on its own. So the replayer's memory
 * is the longest line, a digest per event line (pass 2 replays only lines pass 1 checked), and
 * the blobs' text up to a budget (r->blob_budget, 64 MiB by default): past it a blob is
 * remembered by where its line is, and read and parsed again when a call needs it.
 *
 * Blob text spends a few characters on a gigabyte of zeros, so nothing is sized from what a
 * blob says about itself: a blob event is scanned for its size and digest without decoding it
 * (nothing allocated), and its size is checked against TRACE_MAX_SIZE or the caller's smaller
 * max_size here, against what it fills where it is used.
 *
 * Runs on the caller's thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* trace_reader_open - see trace_replay_internal.h. */
int trace_reader_open(struct replay *r, const char *path)
{
	struct replay_reader *rd = &r->rd;
	struct stat st;

	rd->fp = fopen(path, "re");
	if (!rd->fp)
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT, "cannot open %s: %s", path,
					 strerror(errno));
	if (fstat(fileno(rd->fp), &st) || S_ISDIR(st.st_mode))
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT, "cannot read %s: %s", path,
					 S_ISDIR(st.st_mode) ? "a directory" : strerror(errno));
	rd->path = path;
	return 0;
}

/* trace_reader_rewind - see trace_replay_internal.h. */
int trace_reader_rewind(struct replay *r)
{
	struct replay_reader *rd = &r->rd;

	r->line = 0;
	r->offset = 0;
	rd->next = 0;
	rd->len = 0;
	rd->cut = false;
	if (fseeko(rd->fp, 0, SEEK_SET))
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "cannot read %s again: %s",
					 rd->path, strerror(errno));
	return 0;
}

/* trace_reader_next - see trace_replay_internal.h. */
int trace_reader_next(struct replay *r)
{
	struct replay_reader *rd = &r->rd;
	ssize_t n;

	errno = 0;
	n = getline(&rd->text, &rd->cap, rd->fp);
	if (n < 0) {
		rd->len = 0;
		rd->cut = false;
		if (ferror(rd->fp))
			return -trace_replay_fail(r,
						  errno == ENOMEM ? TRACE_REPLAY_ENV_ERROR
								  : TRACE_REPLAY_BAD_INPUT,
						  "cannot read %s after line %" PRIu64 ": %s",
						  rd->path, r->line, strerror(errno ? errno : EIO));
		return 0;
	}
	r->line++;
	r->offset = rd->next;
	rd->next += (uint64_t)n;
	rd->len = (size_t)n;
	rd->cut = !n || rd->text[n - 1] != '\n';
	if (!rd->cut)
		rd->len--;
	if (memchr(rd->text, '\0', rd->len))
		return -trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					  "%s holds NUL bytes: not a trace", rd->path);
	return 1;
}

/*
 * trace_reader_line_digest - see trace_replay_internal.h. Eight bytes a step (the lines are
 * hashed twice per replay; FNV-1a's byte a step showed in profiles).
 */
uint64_t trace_reader_line_digest(const char *text, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len, w;

	for (; len >= 8; text += 8, len -= 8) {
		memcpy(&w, text, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, text, len);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

/* trace_reader_close - see trace_replay_internal.h. */
void trace_reader_close(struct replay *r)
{
	struct replay_reader *rd = &r->rd;

	if (rd->fp)
		fclose(rd->fp);
	free(rd->text);
	free(rd->scratch);
	memset(rd, 0, sizeof(*rd));
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
	size_t where = 0, len;
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
	/* Within the budget the text is kept; past it, the line is read again when needed. */
	len = strlen(data);
	text = r->rd.kept + len <= r->blob_budget ? strdup(data) : NULL;
	b = text || r->rd.kept + len > r->blob_budget
		    ? trace_replay_vec_push(&r->blob_data, sizeof(*b))
		    : NULL;
	if (!b || !trace_replay_map_put(&r->blobs, d, 0, r->blob_data.count - 1)) {
		if (b)
			r->blob_data.count--;
		free(text);
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	}
	if (text)
		r->rd.kept += len;
	b->text = text;
	b->size = size;
	b->line = r->line;
	b->event = r->index;
	b->file_offset = r->offset;
	b->line_len = r->rd.len;
	return 0;
}

/* trace_reader_blob_text - see trace_replay_internal.h. */
const char *trace_reader_blob_text(struct replay *r, const struct replay_blob *blob)
{
	struct replay_reader *rd = &r->rd;
	const uint64_t *digest;
	const char *data;
	cJSON *ev = NULL;
	size_t len;

	if (blob->text)
		return blob->text;
	if (blob->line_len + 1 > rd->scratch_cap) {
		char *n = realloc(rd->scratch, blob->line_len + 1);

		if (!n) {
			r->error = trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR,
						     "out of memory (blob of line %" PRIu64 ")",
						     blob->line);
			return NULL;
		}
		rd->scratch = n;
		rd->scratch_cap = blob->line_len + 1;
	}
	digest = trace_replay_vec_at(&r->line_digests, blob->event);
	if (pread(fileno(rd->fp), rd->scratch, blob->line_len, (off_t)blob->file_offset) !=
		    (ssize_t)blob->line_len ||
	    !digest || *digest != trace_reader_line_digest(rd->scratch, blob->line_len))
		goto err_changed;
	len = blob->line_len;
	while (len && (rd->scratch[len - 1] == ',' || rd->scratch[len - 1] == '\r' ||
		       rd->scratch[len - 1] == ' '))
		len--;
	ev = cJSON_ParseWithLength(rd->scratch, len);
	data = get_str(ev, "data");
	if (!data || strlen(data) >= rd->scratch_cap)
		goto err_changed;
	/* The text replaces the line it came from in the scratch buffer. */
	memmove(rd->scratch, data, strlen(data) + 1);
	cJSON_Delete(ev);
	return rd->scratch;

err_changed:
	cJSON_Delete(ev);
	r->error = trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR,
				     "the blob at line %" PRIu64
				     " cannot be read again: %s changed on disk?",
				     blob->line, rd->path);
	return NULL;
}
