/* SPDX-License-Identifier: MIT */
/*
 * trace_replay_contents.c - resource contents in replay: restoring a submission's recorded
 * contents before it is sent, and checking completions against the recorded digests.
 *
 * Contents are streamed through REPLAY_CHUNK buffers (r->chunk) and written only where they
 * differ, and only the blobs a call needs in one piece (inline commands, notifications, both
 * bounded by validation) are decoded whole, so the replay's own memory stays small whatever the
 * trace declares. Buffers are read and written through the fd magma_buffer_get_handle gave for
 * them, never mapped.
 *
 * Runs on the caller's thread.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace_replay_internal.h"
#include "traces/trace.h"

/* trace_replay_blob_bytes - see trace_replay_internal.h. Only for blobs validation bounded. */
uint8_t *trace_replay_blob_bytes(struct replay *r, const struct replay_blob *blob)
{
	const char *text = trace_reader_blob_text(r, blob);
	uint8_t *data = NULL;

	if (!text || trace_blob_decode(text, (size_t)blob->size, &data, NULL))
		return NULL;
	return data;
}

/* True when [@offset, + @length) lies inside @b and @b can be read and written. */
bool trace_replay_range_ok(const struct replay_buffer *b, uint64_t offset, uint64_t length)
{
	return b->readable && offset <= b->size && length <= b->size - offset;
}

/*
 * Makes a resource range hold its recorded contents, streamed from the blob a chunk at a time
 * and written only where they differ. Validation made the blob exactly @length bytes.
 */
void trace_replay_restore_range(struct replay *r, const struct replay_buffer *b, uint64_t offset,
				uint64_t length, const char *hex)
{
	const struct replay_blob *blob = trace_reader_blob(r, hex);
	uint8_t *want = r->chunk, *cur = r->chunk + REPLAY_CHUNK;
	struct trace_blob_reader rd;
	const char *text;
	int fd;

	if (!blob || blob->size != length || !trace_replay_range_ok(b, offset, length))
		return;
	text = trace_reader_blob_text(r, blob);
	if (!text)
		return;
	trace_blob_reader_init(&rd, text);
	fd = trace_replay_buffer_fd(r, b);
	for (uint64_t done = 0; done < length;) {
		size_t n = length - done < REPLAY_CHUNK ? (size_t)(length - done) : REPLAY_CHUNK;
		off_t at = (off_t)(offset + done);

		if (trace_blob_read(&rd, want, n) != n)
			return;
		if (pread(fd, cur, n, at) != (ssize_t)n)
			return;
		if (memcmp(cur, want, n))
			(void)!pwrite(fd, want, n, at);
		done += n;
	}
}

/*
 * trace_replay_restore_resource - see trace_replay_internal.h. A client that did write such a
 * range from the CPU meanwhile raced with that work, and the digest that then changes is
 * reported.
 */
void trace_replay_restore_resource(struct replay *r, const struct replay_buffer *b, uint64_t bi,
				   uint64_t offset, uint64_t length, const char *hex)
{
	for (uint64_t i = 0; r->opts->hold && i < r->burst.count; i++) {
		const struct replay_range *rg = trace_replay_vec_at(&r->burst, i);

		if (rg->buf == bi && rg->offset < offset + length &&
		    offset < rg->offset + rg->length)
			return;
	}
	trace_replay_restore_range(r, b, offset, length, hex);
}

/* trace_replay_burst_add - see trace_replay_internal.h. */
int trace_replay_burst_add(struct replay *r, const struct replay_range *ranges, uint32_t count)
{
	for (uint32_t i = 0; r->opts->hold && i < count; i++) {
		struct replay_range *rg = trace_replay_vec_push(&r->burst, sizeof(*rg));

		if (!rg)
			return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
		*rg = ranges[i];
	}
	return 0;
}

/* How many bytes from the first difference a report shows, of both sides. */
#define DIFF_SHOWN 16

/* Where a range differs from its recorded contents. */
struct range_diff {
	uint64_t first, last; /* offsets into the range of the first and last differing byte */
	uint64_t count;	      /* differing bytes */
	uint32_t shown;	      /* bytes in want/got, from first on */
	uint8_t want[DIFF_SHOWN], got[DIFF_SHOWN];
};

/* Notes the differences of @n bytes at range offset @at (@got against @want) into @d. */
static void diff_chunk(struct range_diff *d, uint64_t at, const uint8_t *want, const uint8_t *got,
		       size_t n)
{
	if (!memcmp(want, got, n) && (d->first == UINT64_MAX || d->shown == DIFF_SHOWN))
		return;
	for (size_t i = 0; i < n; i++) {
		if (want[i] != got[i]) {
			if (d->first == UINT64_MAX)
				d->first = at + i;
			d->last = at + i;
			d->count++;
		}
		if (d->first != UINT64_MAX && at + i - d->first < DIFF_SHOWN) {
			d->want[at + i - d->first] = want[i];
			d->got[at + i - d->first] = got[i];
			d->shown = (uint32_t)(at + i - d->first + 1);
		}
	}
}

/*
 * Digest of [@offset, + @length) of @b into *@digest_out, read a chunk at a time; with @blob (the
 * range's recorded contents), also where the bytes differ from it (*@diff; first UINT64_MAX when
 * they do not, as far as both go). False when the range cannot be read.
 */
static bool digest_range(struct replay *r, const struct replay_buffer *b, uint64_t offset,
			 uint64_t length, const struct replay_blob *blob, uint64_t *digest_out,
			 struct range_diff *diff)
{
	const char *text = blob ? trace_reader_blob_text(r, blob) : NULL;
	uint8_t *want = r->chunk, *cur = r->chunk + REPLAY_CHUNK;
	uint64_t h = TRACE_DIGEST_INIT, blob_left = text ? blob->size : 0;
	struct trace_blob_reader rd;
	int fd;

	*diff = (struct range_diff){.first = UINT64_MAX};
	if (!trace_replay_range_ok(b, offset, length))
		return false;
	if (text)
		trace_blob_reader_init(&rd, text);
	fd = trace_replay_buffer_fd(r, b);
	for (uint64_t done = 0; done < length;) {
		size_t n = length - done < REPLAY_CHUNK ? (size_t)(length - done) : REPLAY_CHUNK;
		size_t cmp = blob_left < n ? (size_t)blob_left : n;

		if (pread(fd, cur, n, (off_t)(offset + done)) != (ssize_t)n)
			return false;
		h = trace_digest_more(h, cur, n);
		if (cmp) {
			cmp = trace_blob_read(&rd, want, cmp);
			blob_left -= cmp;
			diff_chunk(diff, done, want, cur, cmp);
		}
		done += n;
	}
	*digest_out = h;
	return true;
}

/* @n bytes as hex pairs separated by spaces into @out (3 * DIFF_SHOWN bytes). */
static void hex_bytes(char *out, const uint8_t *bytes, uint32_t n)
{
	size_t len = 0;

	out[0] = '\0';
	for (uint32_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, 3 * DIFF_SHOWN - len, "%s%02x", i ? " " : "",
					bytes[i]);
}

/* Remembers submission @seq's signal semaphores and resource ranges for its completion. */
int trace_replay_remember_submission(struct replay *r, uint64_t seq, const uint64_t *sems,
				     uint32_t sem_count, const struct replay_range *ranges,
				     uint32_t range_count)
{
	struct replay_sub *s = trace_replay_vec_push(&r->submissions, sizeof(*s));

	if (!s)
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	s->sems = malloc(sizeof(uint64_t) * (sem_count ? sem_count : 1));
	s->ranges = malloc(sizeof(*ranges) * (range_count ? range_count : 1));
	if (!s->sems || !s->ranges ||
	    !trace_replay_map_put(&r->subs, seq, 0, r->submissions.count - 1))
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	memcpy(s->sems, sems, sizeof(uint64_t) * sem_count);
	if (range_count)
		memcpy(s->ranges, ranges, sizeof(*ranges) * range_count);
	s->sem_count = sem_count;
	s->range_count = range_count;
	return 0;
}

/* True when @blob holds exactly the @size bytes at @data (compared a chunk at a time). */
bool trace_replay_blob_equals(struct replay *r, const struct replay_blob *blob, const uint8_t *data,
			      uint64_t size)
{
	const char *text = blob->size == size ? trace_reader_blob_text(r, blob) : NULL;
	struct trace_blob_reader rd;

	if (!text)
		return false;
	trace_blob_reader_init(&rd, text);
	for (uint64_t done = 0; done < size;) {
		size_t n = size - done < REPLAY_CHUNK ? (size_t)(size - done) : REPLAY_CHUNK;

		if (trace_blob_read(&rd, r->chunk, n) != n || memcmp(r->chunk, data + done, n))
			return false;
		done += n;
	}
	return true;
}

/* trace_replay_check_completion - see trace_replay_internal.h. */
int trace_replay_check_completion(struct replay *r, const cJSON *ev)
{
	static const char *const keys[] = {"connection", "submission", NULL};
	static const char *const res_keys[] = {"index", "buffer_id", NULL};
	const cJSON *a = member(ev, "resources"), *it;
	struct replay_completion *c;
	uint64_t d;
	int ret = trace_reader_check_u64s(r, ev, keys, "completion");

	if (ret)
		return ret;
	if (!cJSON_IsArray(a))
		return trace_replay_fail(r, TRACE_REPLAY_BAD_INPUT,
					 "completion: \"resources\" not an array");
	cJSON_ArrayForEach(it, a)
	{
		ret = trace_reader_check_u64s(r, it, res_keys, "completion resource");
		if (ret)
			return ret;
		if (trace_digest_parse(get_str(it, "digest"), &d))
			return trace_replay_fail(
				r, TRACE_REPLAY_BAD_INPUT,
				"completion resource: \"digest\" is not 16 hex digits");
	}
	/* Completions with no call between them were written at one moment: one group. */
	if (!r->completion_run) {
		r->completion_run = true;
		r->completion_groups++;
	}
	c = trace_replay_vec_push(&r->completions, sizeof(*c));
	if (!c)
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	c->submission = u64(ev, "submission");
	c->group = r->completion_groups;
	return 0;
}

/*
 * Waits for the signal semaphores of submission @seq (remembered by do_execute), reporting a
 * timeout as a divergence while checking.
 */
static int wait_submission(struct replay *r, uint64_t seq)
{
	struct replay_sub *s;
	uint64_t si;

	if (!trace_replay_lookup(&r->subs, seq, 0, &si))
		return 0;
	s = trace_replay_vec_at(&r->submissions, si);
	for (uint32_t i = 0; i < s->sem_count; i++) {
		struct replay_sem *sem = trace_replay_vec_at(&r->semaphores, s->sems[i]);
		magma_poll_item_t p[2] = {{.type = MAGMA_POLL_TYPE_SEMAPHORE,
					   .condition = MAGMA_POLL_CONDITION_SIGNALED}};
		magma_status_t st;
		int ret;

		if (!sem)
			continue;
		p[0].semaphore = sem->h;
		st = trace_replay_wait(r, p, 1, r->wait_ns, &ret);
		if (ret)
			return ret;
		if (st != MAGMA_STATUS_OK && r->checking)
			return trace_replay_fail(
				r, TRACE_REPLAY_DIVERGED,
				"submission at event %" PRIu64
				" completed in the recording but its signal semaphore %u was "
				"not signaled within %.3f s in the replay",
				seq, i, (double)r->wait_ns / 1e9);
	}
	return 0;
}

/*
 * Before the first completion of a group is compared, every submission of the group has
 * finished: the recorder saw them all finished when it took the digests, so each digest holds
 * the work of all of them (three submissions released at once and run one after the other:
 * waiting for the first one alone compares while the others still write).
 */
static int wait_group(struct replay *r)
{
	const struct replay_completion *c =
		trace_replay_vec_at(&r->completions, r->completion_next);
	int ret = 0;

	r->completion_next++;
	if (!c || c->group == r->completion_waited)
		return 0;
	r->completion_waited = c->group;
	for (uint64_t i = r->completion_next - 1; !ret; i++) {
		const struct replay_completion *g = trace_replay_vec_at(&r->completions, i);

		if (!g || g->group != c->group)
			break;
		ret = wait_submission(r, g->submission);
	}
	return ret;
}

/*
 * Whether a completion range whose digest differs (the replay's is @hex) differs only where the
 * replay's TIMESTAMP commands wrote (see trace_replay_timing.c): then it is counted in
 * timed_ranges, the first one described in timing_note, and not reported as a divergence.
 */
static bool timed_range(struct replay *r, const cJSON *ev, uint64_t idx, const cJSON *it,
			const struct replay_buffer *b, const struct replay_range *rg,
			const struct replay_blob *blob, const char *hex)
{
	uint64_t buffer_id = u64(it, "buffer_id");
	uint64_t stamps = trace_replay_timing_count(r, buffer_id, rg->offset, rg->length);

	if (!stamps)
		return false;
	if (blob && !trace_replay_timing_explains(r, b, buffer_id, rg->offset, rg->length, blob))
		return false;
	if (!r->res->timed_ranges++)
		snprintf(r->res->timing_note, sizeof(r->res->timing_note),
			 "event %" PRIu64 ", the completion of event %" PRIu64 ": resource %" PRIu64
			 " (buffer id %" PRIu64 ", offset %" PRIu64 ", length %" PRIu64
			 ") holds %" PRIu64 " GPU timestamp%s the replay's TIMESTAMP commands "
			 "wrote; %s (digest %s expected, replay has %s)",
			 r->index, u64(ev, "submission"), idx, buffer_id, rg->offset, rg->length,
			 stamps, stamps == 1 ? "" : "s",
			 blob ? "every other byte matches the recording"
			      : "the trace has no contents for it (MAGMA_TRACE_CONTENTS=1 records "
				"them), so it was not compared",
			 get_str(it, "digest"), hex);
	return true;
}

/* trace_replay_completion - see trace_replay_internal.h. */
int trace_replay_completion(struct replay *r, const cJSON *ev)
{
	const cJSON *it;
	struct replay_sub *s;
	uint64_t si;
	int ret;

	ret = wait_group(r);
	if (ret)
		return ret;
	if (!trace_replay_lookup(&r->subs, u64(ev, "submission"), 0, &si))
		return r->checking
			       ? trace_replay_fail(r, TRACE_REPLAY_DIVERGED,
						   "completion of event %" PRIu64
						   ", which the replay did not submit successfully",
						   u64(ev, "submission"))
			       : 0;
	s = trace_replay_vec_at(&r->submissions, si);
	ret = wait_submission(r, u64(ev, "submission"));
	if (ret)
		return ret;
	cJSON_ArrayForEach(it, member(ev, "resources"))
	{
		uint64_t idx = u64(it, "index"), want, got = 0;
		const struct replay_range *rg = idx < s->range_count ? &s->ranges[idx] : NULL;
		const struct replay_buffer *b =
			rg ? trace_replay_vec_at(&r->buffers, rg->buf) : NULL;
		const struct replay_blob *blob = trace_reader_blob(r, get_str(it, "digest"));
		struct range_diff d;
		bool read = b && digest_range(r, b, rg->offset, rg->length, blob, &got, &d);
		char hex[17], want_bytes[3 * DIFF_SHOWN], got_bytes[3 * DIFF_SHOWN];

		if (r->error)
			return r->error;
		trace_digest_parse(get_str(it, "digest"), &want);
		r->res->digest =
			trace_digest(&got, sizeof(got)) ^ (r->res->digest * 0x100000001b3ull);
		if (!r->checking || (read && got == want))
			continue;
		trace_digest_hex(got, hex);
		if (read && timed_range(r, ev, idx, it, b, rg, blob, hex))
			continue;
		if (!read)
			return trace_replay_fail(r, TRACE_REPLAY_DIVERGED,
						 "completion of event %" PRIu64
						 ": resource %" PRIu64 " (buffer id %" PRIu64
						 ") cannot be read in the replay",
						 u64(ev, "submission"), idx, u64(it, "buffer_id"));
		r->res->mismatch = (struct trace_replay_mismatch){
			.valid = true,
			.event = r->index,
			.submission = u64(ev, "submission"),
			.resource = idx,
			.buffer_id = u64(it, "buffer_id"),
			.offset = rg->offset,
			.length = rg->length,
			.first_diff = d.first < rg->length ? d.first : UINT64_MAX,
		};
		if (!blob)
			return trace_replay_fail(
				r, TRACE_REPLAY_DIVERGED,
				"completion of event %" PRIu64 ": resource %" PRIu64
				" (buffer id %" PRIu64 ", offset %" PRIu64 ", length %" PRIu64
				"): digest %s expected, replay has %s (the trace holds no contents for "
				"it: record with MAGMA_TRACE_CONTENTS=1 to see the bytes that differ)",
				u64(ev, "submission"), idx, u64(it, "buffer_id"), rg->offset,
				rg->length, get_str(it, "digest"), hex);
		if (d.first == UINT64_MAX)
			return trace_replay_fail(
				r, TRACE_REPLAY_DIVERGED,
				"completion of event %" PRIu64 ": resource %" PRIu64
				" (buffer id %" PRIu64 ", offset %" PRIu64 ", length %" PRIu64
				"): digest %s expected, replay has %s; its recorded contents hold %" PRIu64
				" bytes, the range %" PRIu64,
				u64(ev, "submission"), idx, u64(it, "buffer_id"), rg->offset,
				rg->length, get_str(it, "digest"), hex, blob->size, rg->length);
		hex_bytes(want_bytes, d.want, d.shown);
		hex_bytes(got_bytes, d.got, d.shown);
		return trace_replay_fail(
			r, TRACE_REPLAY_DIVERGED,
			"completion of event %" PRIu64 ": resource %" PRIu64 " (buffer id %" PRIu64
			", offset %" PRIu64 ", length %" PRIu64
			"): first difference at byte %" PRIu64
			" of the range (buffer offset %#" PRIx64 "); %" PRIu64 " of the %" PRIu64
			" bytes from there to byte %" PRIu64
			" differ; expected %s, replay has %s (%u "
			"bytes from byte %" PRIu64 "); digest %s expected, replay has %s",
			u64(ev, "submission"), idx, u64(it, "buffer_id"), rg->offset, rg->length,
			d.first, rg->offset + d.first, d.count, d.last - d.first + 1, d.last,
			want_bytes, got_bytes, d.shown, d.first, get_str(it, "digest"), hex);
	}
	r->res->completions += r->checking;
	return 0;
}
