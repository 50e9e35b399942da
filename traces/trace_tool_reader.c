/* SPDX-License-Identifier: MIT */
/*
 * trace_tool_reader.c - what the magma-trace subcommands share (see trace_tool.h): small
 * containers, JSON and command-line helpers, the streaming line reader and the blob index.
 *
 * The reader follows the format's line discipline as the replay does (one event per line, a
 * trailing comma, then "]}"), but reads with getdelim one line at a time instead of the whole
 * file: a tool's memory is its longest line plus what it keeps. Errors carry the file, line,
 * byte offset and event like the replay's "bad trace" messages.
 *
 * Blobs are found again by digest through an index of the byte offset of their line, read back
 * with pread when needed, so no blob text is kept in memory between uses.
 *
 * Single-threaded.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace_replay_internal.h"
#include "trace_tool.h"
#include "traces/trace.h"
#include "traces/trace_replay.h"

/* ---- containers ---- */

/* tt_map_get - see trace_tool.h. Unlike trace_replay_lookup, a UINT64_MAX value is a value. */
bool tt_map_get(const struct replay_map *m, uint64_t k1, uint64_t k2, uint64_t *v)
{
	const struct replay_ent *e = trace_replay_map_find(m, k1, k2);

	if (e && v)
		*v = e->v;
	return e != NULL;
}

/* ---- JSON and command-line helpers ---- */

/* tt_member - see trace_tool.h. The replayer's lookup (trace_replay_internal.h). */
const cJSON *tt_member(const cJSON *o, const char *k)
{
	return member(o, k);
}

/* tt_number_u64 - see trace_tool.h. The replayer's rule (trace_replay_internal.h). */
bool tt_number_u64(const cJSON *n, uint64_t *out)
{
	return number_u64(n, out);
}

/* tt_get_u64 - see trace_tool.h. */
bool tt_get_u64(const cJSON *o, const char *k, uint64_t *out)
{
	return tt_number_u64(tt_member(o, k), out);
}

/* tt_u64 - see trace_tool.h. */
uint64_t tt_u64(const cJSON *o, const char *k)
{
	uint64_t v = 0;

	return tt_get_u64(o, k, &v) ? v : 0;
}

/* tt_str - see trace_tool.h. */
const char *tt_str(const cJSON *o, const char *k)
{
	const cJSON *s = tt_member(o, k);

	return cJSON_IsString(s) ? s->valuestring : NULL;
}

/* tt_result - see trace_tool.h. */
bool tt_result(const cJSON *ev, int64_t *out)
{
	const cJSON *n = tt_member(ev, "result");

	if (!cJSON_IsNumber(n) || n->valuedouble != floor(n->valuedouble) ||
	    fabs(n->valuedouble) > 1e9)
		return false;
	*out = (int64_t)n->valuedouble;
	return true;
}

/* tt_parse_u64 - see trace_tool.h. */
bool tt_parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	*out = strtoull(s, &end, s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10);
	return !errno && !*end;
}

/* ---- the line reader ---- */

static const char *const tt_type_names[] = {
	[TT_CALL] = "call", [TT_COMPLETION] = "completion", [TT_BLOB] = "blob",
	[TT_DEV] = "dev",   [TT_DEVICE] = "device",	    [TT_END] = "end",
};

/* tt_reader_fail - see trace_tool.h. */
int tt_reader_fail(struct tt_reader *rd, const char *fmt, ...)
{
	size_t len;
	va_list ap;

	len = (size_t)snprintf(rd->error, sizeof(rd->error),
			       "bad trace: %s: line %" PRIu64 " (byte offset %" PRIu64
			       ", event %" PRIu64 "): ",
			       rd->path, rd->line_no, rd->offset, rd->index);
	if (len >= sizeof(rd->error))
		return TRACE_REPLAY_BAD_INPUT;
	va_start(ap, fmt);
	vsnprintf(rd->error + len, sizeof(rd->error) - len, fmt, ap);
	va_end(ap);
	return TRACE_REPLAY_BAD_INPUT;
}

/*
 * Reads the next line into rd->line. Returns 1 for a line, 0 at the end of the file, or an exit
 * status with rd->error set.
 */
static int tt_read_line(struct tt_reader *rd)
{
	ssize_t n;

	rd->offset = rd->next_offset;
	rd->line_no++;
	errno = 0;
	n = getdelim(&rd->line, &rd->line_cap, '\n', rd->f);
	if (n < 0) {
		if (ferror(rd->f) || errno == ENOMEM) {
			snprintf(rd->error, sizeof(rd->error), "%s: cannot read: %s", rd->path,
				 strerror(errno ? errno : EIO));
			return errno == ENOMEM ? TRACE_REPLAY_ENV_ERROR : TRACE_REPLAY_BAD_INPUT;
		}
		return 0;
	}
	rd->next_offset += (uint64_t)n;
	if (strlen(rd->line) != (size_t)n)
		return tt_reader_fail(rd, "holds a NUL byte: not a trace");
	if (rd->line[n - 1] != '\n')
		return tt_reader_fail(rd, "last line is cut short (no newline): truncated file");
	rd->len = (size_t)n - 1;
	while (rd->len && (rd->line[rd->len - 1] == ',' || rd->line[rd->len - 1] == '\r' ||
			   rd->line[rd->len - 1] == ' '))
		rd->len--;
	rd->line[rd->len] = '\0';
	return 1;
}

/* tt_reader_open - see trace_tool.h. The header checks are the replay's. */
int tt_reader_open(struct tt_reader *rd, const char *path)
{
	char *doc;
	cJSON *h;
	const char *fmt;
	uint64_t version = 0;
	int ret;

	memset(rd, 0, sizeof(*rd));
	rd->path = path;
	rd->f = fopen(path, "re");
	if (!rd->f) {
		snprintf(rd->error, sizeof(rd->error), "bad trace: cannot open %s: %s", path,
			 strerror(errno));
		return TRACE_REPLAY_BAD_INPUT;
	}
	ret = tt_read_line(rd);
	if (ret != 1) {
		if (!ret)
			ret = tt_reader_fail(rd, "no header line (empty file)");
		goto err_close;
	}
	doc = malloc(rd->len + 3);
	if (!doc) {
		snprintf(rd->error, sizeof(rd->error), "out of memory");
		ret = TRACE_REPLAY_ENV_ERROR;
		goto err_close;
	}
	memcpy(doc, rd->line, rd->len);
	memcpy(doc + rd->len, "]}", 3);
	h = cJSON_Parse(doc);
	free(doc);
	if (!h || !cJSON_IsArray(tt_member(h, "events")))
		ret = tt_reader_fail(
			rd, "the header line is not {\"format\":...,\"events\":[ (not a trace?)");
	else if (!(fmt = tt_str(h, "format")) || strcmp(fmt, TRACE_FORMAT_NAME))
		ret = tt_reader_fail(rd, "\"format\" is not \"%s\"", TRACE_FORMAT_NAME);
	else if (!tt_get_u64(h, "version", &version) || !version)
		ret = tt_reader_fail(rd, "\"version\" missing or not a positive integer");
	else if (version > TRACE_FORMAT_VERSION)
		ret = tt_reader_fail(
			rd, "format version %" PRIu64 " is newer than this reader (version %d)",
			version, TRACE_FORMAT_VERSION);
	else
		ret = 0;
	cJSON_Delete(h);
	if (ret)
		goto err_close;
	return 0;

err_close:
	tt_reader_close(rd);
	return ret;
}

/* tt_reader_seek - see trace_tool.h. */
int tt_reader_seek(struct tt_reader *rd, uint64_t offset, uint64_t line_no, uint64_t index)
{
	if (fseeko(rd->f, (off_t)offset, SEEK_SET)) {
		snprintf(rd->error, sizeof(rd->error), "%s: cannot seek: %s", rd->path,
			 strerror(errno));
		return TRACE_REPLAY_BAD_INPUT;
	}
	rd->ev = NULL;
	rd->has_event = false;
	rd->next_offset = offset;
	rd->line_no = line_no - 1;
	rd->index = index;
	rd->ended = false;
	return 0;
}

/* After the end event: "]}" and nothing but white space. */
static int tt_check_trailer(struct tt_reader *rd)
{
	int c;
	bool seen = false;

	while ((c = getc(rd->f)) != EOF) {
		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (!seen && c == ']' && getc(rd->f) == '}') {
			seen = true;
			continue;
		}
		return tt_reader_fail(rd, seen ? "data after the end of the document"
					       : "the \"end\" event must be followed by \"]}\"");
	}
	if (!seen)
		return tt_reader_fail(rd, "the \"end\" event must be followed by \"]}\"");
	return 0;
}

/*
 * With rd->skip_dev: whether the current line is a dev event as writers write them
 * ({"seq":N,"type":"dev",...}) with N the expected index. Such a line is not parsed.
 */
static bool tt_is_dev_line(struct tt_reader *rd)
{
	static const char type[] = ",\"type\":\"dev\",";
	const char *p = rd->line + 7;
	uint64_t seq = 0;

	if (strncmp(rd->line, "{\"seq\":", 7) || *p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9' && seq < UINT64_MAX / 10; p++)
		seq = seq * 10 + (uint64_t)(*p - '0');
	if (seq != rd->index || strncmp(p, type, sizeof(type) - 1) || rd->line[rd->len - 1] != '}')
		return false;
	rd->type = TT_DEV;
	return true;
}

/* tt_reader_next - see trace_tool.h. */
int tt_reader_next(struct tt_reader *rd)
{
	const char *type;
	uint64_t seq;
	int ret;

	if (rd->has_event) {
		rd->ev = NULL;
		rd->has_event = false;
		rd->index++;
	}
	if (rd->ended)
		return tt_reader_fail(rd, "read past the end event");
	ret = tt_read_line(rd);
	if (ret > 1)
		return ret; /* an exit status */
	if (!ret)
		return tt_reader_fail(rd,
				      "file ends after %" PRIu64
				      " events without the \"end\" event: truncated (the "
				      "recording process did not exit normally?)",
				      rd->index);
	rd->has_event = true;
	if (rd->skip_dev && tt_is_dev_line(rd))
		return 0;
	rd->ev = trace_json_parse(&rd->json, rd->line, rd->len);
	if (!rd->ev) {
		const char *at = cJSON_GetErrorPtr();
		size_t col = at && at >= rd->line && at <= rd->line + rd->len
				     ? (size_t)(at - rd->line)
				     : 0;

		return tt_reader_fail(rd, "invalid JSON at column %zu", col + 1);
	}
	if (!cJSON_IsObject(rd->ev))
		return tt_reader_fail(rd, "an event must be a JSON object");
	if (!tt_get_u64(rd->ev, "seq", &seq) || seq != rd->index)
		return tt_reader_fail(
			rd, "\"seq\" missing or not %" PRIu64 " (events lost or reordered?)",
			rd->index);
	type = tt_str(rd->ev, "type");
	if (!type)
		return tt_reader_fail(rd, "\"type\" missing or not a string");
	for (size_t i = 0; i < sizeof(tt_type_names) / sizeof(tt_type_names[0]); i++) {
		if (!strcmp(type, tt_type_names[i])) {
			rd->type = (enum tt_type)i;
			if (rd->type != TT_END)
				return 0;
			rd->ended = true;
			return tt_check_trailer(rd);
		}
	}
	return tt_reader_fail(rd, "unknown event type \"%.64s\"", type);
}

/* tt_reader_close - see trace_tool.h. */
void tt_reader_close(struct tt_reader *rd)
{
	if (rd->f)
		fclose(rd->f);
	rd->f = NULL;
	free(rd->line);
	rd->line = NULL;
	rd->line_cap = 0;
	rd->ev = NULL;
	trace_json_fini(&rd->json);
}

/* tt_trace_event_count - see trace_tool.h. */
bool tt_trace_event_count(const char *path, uint64_t *events_out)
{
	char tail[4096], *end_ev;
	FILE *f = fopen(path, "re");
	struct stat st;
	size_t n, want;
	cJSON *ev = NULL;
	bool ok = false;

	if (!f)
		return false;
	if (fstat(fileno(f), &st) || st.st_size < 8)
		goto out_close;
	want = (uint64_t)st.st_size < sizeof(tail) - 1 ? (size_t)st.st_size : sizeof(tail) - 1;
	if (fseeko(f, st.st_size - (off_t)want, SEEK_SET))
		goto out_close;
	n = fread(tail, 1, want, f);
	tail[n] = '\0';
	if (n != want || strlen(tail) != n)
		goto out_close;
	/* The last "{" that starts a line begins the end event. */
	end_ev = NULL;
	for (char *p = tail; (p = strstr(p, "\n{")); p++)
		end_ev = p + 1;
	if (end_ev) {
		char *nl = strchr(end_ev, '\n');

		ev = nl ? cJSON_ParseWithLength(end_ev, (size_t)(nl - end_ev)) : NULL;
		ok = ev && tt_str(ev, "type") && !strcmp(tt_str(ev, "type"), "end") &&
		     tt_get_u64(ev, "events", events_out) && strstr(nl, "]}");
	}
	cJSON_Delete(ev);
out_close:
	fclose(f);
	return ok;
}

/* ---- blobs ---- */

/* tt_blob_index_add - see trace_tool.h. */
bool tt_blob_index_add(struct replay_map *index, const struct tt_reader *rd)
{
	uint64_t d;

	if (trace_digest_parse(tt_str(rd->ev, "digest"), &d))
		return true; /* a malformed blob: whoever needs it reports it */
	if (tt_map_get(index, d, 0, NULL))
		return true;
	return trace_replay_map_put(index, d, 0, rd->offset);
}

/* tt_reader_line_at - see trace_tool.h. */
int tt_reader_line_at(const struct tt_reader *rd, uint64_t offset, char **line_out)
{
	size_t cap = 4096, len = 0;
	char *line = malloc(cap), *nl = NULL;
	int fd = fileno(rd->f);

	while (line && !nl) {
		ssize_t n;

		if (cap - len < 2048) {
			char *grown = realloc(line, cap * 2);

			if (!grown)
				break;
			line = grown;
			cap *= 2;
		}
		n = pread(fd, line + len, cap - len - 1, (off_t)(offset + len));
		if (n <= 0) {
			free(line);
			return -EIO;
		}
		line[len + (size_t)n] = '\0';
		nl = memchr(line + len, '\n', (size_t)n);
		len += (size_t)n;
	}
	if (!nl) {
		free(line);
		return -ENOMEM;
	}
	*nl = '\0';
	while (nl > line && (nl[-1] == ',' || nl[-1] == '\r' || nl[-1] == ' '))
		*--nl = '\0';
	*line_out = line;
	return 0;
}

/* tt_blob_load - see trace_tool.h. */
int tt_blob_load(const struct tt_reader *rd, const struct replay_map *index, const char *hex,
		 struct tt_blob *b)
{
	uint64_t d, offset, got_size = 0, got_digest = 0;
	int ret;

	memset(b, 0, sizeof(*b));
	if (!hex || trace_digest_parse(hex, &d) || !tt_map_get(index, d, 0, &offset))
		return -ENOENT;
	ret = tt_reader_line_at(rd, offset, &b->line);
	if (ret)
		return ret;
	b->json = cJSON_Parse(b->line);
	b->text = tt_str(b->json, "data");
	if (!b->text || !tt_get_u64(b->json, "size", &b->size) || b->size > TRACE_MAX_SIZE ||
	    trace_blob_scan(b->text, TRACE_MAX_SIZE, &got_size, &got_digest, NULL) ||
	    got_size != b->size || got_digest != d) {
		tt_blob_free(b);
		return -EINVAL;
	}
	b->digest = d;
	return 0;
}

/* tt_blob_free - see trace_tool.h. */
void tt_blob_free(struct tt_blob *b)
{
	cJSON_Delete(b->json);
	free(b->line);
	memset(b, 0, sizeof(*b));
}
