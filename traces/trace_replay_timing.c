/* SPDX-License-Identifier: MIT */
/*
 * trace_replay_timing.c - the bytes GPU timing wrote: where the replay's TIMESTAMP commands put
 * their values, so that a completion digest that differs only there is not called a divergence.
 *
 * A TIMESTAMP writes the GPU's clock (ns or cycles) to memory. The replay reproduces the work,
 * not the host timing of the recording: a job submitted while another runs starts some thousands
 * of cycles earlier or later (the recording's clock thread ran a different number of quanta in
 * between), so the stamps differ while every other byte agrees. The watch (trace_replay_device.c)
 * hands each TIMESTAMP's job and target VA to trace_replay_timing_note on the device's thread; the
 * replay's thread resolves them into (recorded buffer id, offset) through the job's submission
 * and its connection's mappings (trace_replay_timing_take), once per event and before a
 * completion is compared. A differing range that holds such bytes is then compared without them
 * when the trace has its contents (MAGMA_TRACE_CONTENTS=1), and not compared at all when it has
 * only the digest; either way it is counted (trace_replay_result.timed_ranges) and the first one
 * is described (timing_note).
 *
 * Threads: note runs with the sim's device lock and the watch's lock held; everything else on
 * the replay's thread.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace_replay_internal.h"
#include "traces/trace.h"

/* A TIMESTAMP's value is one little-endian u64. */
#define STAMP_BYTES 8

/* trace_replay_timing_note - see trace_replay_internal.h. */
void trace_replay_timing_note(struct replay_watch *w, uint64_t job_va, uint64_t va)
{
	uint64_t n = atomic_load_explicit(&w->stamp_count, memory_order_relaxed);

	if (!w->stamps)
		return;
	w->stamps[n % REPLAY_STAMPS_KEPT] = (struct replay_stamp){.job_va = job_va, .va = va};
	atomic_store_explicit(&w->stamp_count, n + 1, memory_order_release);
}

/* Remembers that a TIMESTAMP wrote at @offset of recorded buffer @buffer_id (once per place). */
static int stamp_add(struct replay *r, uint64_t buffer_id, uint64_t offset)
{
	struct replay_stamp_at *s;

	if (trace_replay_map_find(&r->stamp_at, buffer_id, offset))
		return 0;
	s = trace_replay_vec_push(&r->stamp_list, sizeof(*s));
	if (!s || !trace_replay_map_put(&r->stamp_at, buffer_id, offset, 1))
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	*s = (struct replay_stamp_at){.buffer_id = buffer_id, .offset = offset};
	return 0;
}

/*
 * trace_replay_timing_job - see trace_replay_internal.h. The watch sees a job's command buffer VA
 * and AS slot, not its connection, and connections reuse VAs (each has its own address space):
 * a TIMESTAMP is attributed to each of the last REPLAY_JOB_CONNS connections that started a job
 * at that VA. That may name a place in a buffer the TIMESTAMP did not write; it misses one only
 * when more connections than that started jobs at the VA since (then a timestamp difference
 * there is reported as a divergence: nothing is excused wrongly).
 */
int trace_replay_timing_job(struct replay *r, uint64_t job_va, uint64_t conn)
{
	uint64_t free_slot = REPLAY_JOB_CONNS, v;

	for (uint64_t k = 0; k < REPLAY_JOB_CONNS; k++) {
		if (!trace_replay_lookup(&r->job_conns, job_va, k, &v)) {
			if (free_slot == REPLAY_JOB_CONNS)
				free_slot = k;
			continue;
		}
		if (v == conn + 1)
			return 0;
	}
	if (free_slot == REPLAY_JOB_CONNS)
		free_slot = r->cmdbuf_count % REPLAY_JOB_CONNS; /* replaces one, round robin */
	if (!trace_replay_map_put(&r->job_conns, job_va, free_slot, conn + 1))
		return trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "out of memory");
	return 0;
}

/* trace_replay_timing_take - see trace_replay_internal.h. */
int trace_replay_timing_take(struct replay *r)
{
	struct replay_watch *w = &r->watch;
	uint64_t count;

	if (!w->ready || !w->stamps)
		return 0;
	count = atomic_load_explicit(&w->stamp_count, memory_order_acquire);
	if (count == r->stamps_seen)
		return 0; /* the common case, once per event: no lock */
	/*
	 * More than the ring holds since the last look: the oldest are gone. Only a timestamp
	 * difference there can then be reported as a divergence; nothing is excused wrongly.
	 */
	if (count - r->stamps_seen > REPLAY_STAMPS_KEPT)
		r->stamps_seen = count - REPLAY_STAMPS_KEPT;
	for (; r->stamps_seen < count; r->stamps_seen++) {
		struct replay_stamp s;
		const struct replay_mapping *m;
		int ret;

		pthread_mutex_lock(&w->lock);
		s = w->stamps[r->stamps_seen % REPLAY_STAMPS_KEPT];
		pthread_mutex_unlock(&w->lock);
		for (uint64_t k = 0; k < REPLAY_JOB_CONNS; k++) {
			uint64_t conn;

			if (!trace_replay_lookup(&r->job_conns, s.job_va, k, &conn))
				continue;
			/* outside every mapping: it faulted, and that is reported */
			m = trace_replay_mapping_at(r, conn - 1, s.va, false);
			ret = m ? stamp_add(r, m->buffer_id, s.va - m->va + m->offset) : 0;
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Where the stamps that overlap [@offset, + @length) of @buffer_id start, relative to @offset
 * (down to -7 for one that starts before the range), sorted, into a new array *@out (NULL when
 * none); returns how many.
 */
static uint64_t stamps_in(struct replay *r, uint64_t buffer_id, uint64_t offset, uint64_t length,
			  int64_t **out)
{
	uint64_t n = 0;
	int64_t *list = NULL;

	*out = NULL;
	for (uint64_t i = 0; i < r->stamp_list.count; i++) {
		const struct replay_stamp_at *s = trace_replay_vec_at(&r->stamp_list, i);
		int64_t *grown;

		if (s->buffer_id != buffer_id || s->offset + STAMP_BYTES <= offset ||
		    s->offset >= offset + length)
			continue;
		grown = realloc(list, sizeof(*list) * (n + 1));
		if (!grown)
			break;
		list = grown;
		list[n++] = (int64_t)(s->offset - offset);
	}
	if (n)
		qsort(list, n, sizeof(*list), cmp_i64);
	*out = list;
	return n;
}

/* trace_replay_timing_count - see trace_replay_internal.h. */
uint64_t trace_replay_timing_count(struct replay *r, uint64_t buffer_id, uint64_t offset,
				   uint64_t length)
{
	int64_t *list;
	uint64_t n;

	if (trace_replay_timing_take(r))
		return 0;
	n = stamps_in(r, buffer_id, offset, length, &list);
	free(list);
	return n;
}

/*
 * Whether @n bytes of the replay (@got) and the recording (@want) at range offset @at agree
 * outside the stamps starting at @stamps (sorted; *@next the first not yet passed). The stamps'
 * bytes of @got are overwritten.
 */
static bool masked_equal(const uint8_t *want, uint8_t *got, int64_t at, size_t n,
			 const int64_t *stamps, uint64_t count, uint64_t *next)
{
	int64_t stop = at + (int64_t)n;

	for (uint64_t i = *next; i < count; i++) {
		int64_t start = stamps[i], end = start + STAMP_BYTES;

		if (end <= at) {
			*next = i + 1;
			continue;
		}
		if (start >= stop)
			break;
		for (int64_t o = start < at ? at : start; o < end && o < stop; o++)
			got[o - at] = want[o - at];
	}
	return !memcmp(want, got, n);
}

/* trace_replay_timing_explains - see trace_replay_internal.h. */
bool trace_replay_timing_explains(struct replay *r, const struct replay_buffer *b,
				  uint64_t buffer_id, uint64_t offset, uint64_t length,
				  const struct replay_blob *blob)
{
	const char *text = blob && blob->size == length ? trace_reader_blob_text(r, blob) : NULL;
	uint8_t *want = r->chunk, *got = r->chunk + REPLAY_CHUNK;
	uint64_t count, next = 0;
	int64_t *stamps;
	struct trace_blob_reader rd;
	bool same = true;
	int fd;

	if (!text || !trace_replay_range_ok(b, offset, length))
		return false;
	count = stamps_in(r, buffer_id, offset, length, &stamps);
	if (!count)
		return false;
	trace_blob_reader_init(&rd, text);
	fd = trace_replay_buffer_fd(r, b);
	for (uint64_t done = 0; same && done < length;) {
		size_t n = length - done < REPLAY_CHUNK ? (size_t)(length - done) : REPLAY_CHUNK;

		if (trace_blob_read(&rd, want, n) != n ||
		    pread(fd, got, n, (off_t)(offset + done)) != (ssize_t)n) {
			same = false;
			break;
		}
		same = masked_equal(want, got, (int64_t)done, n, stamps, count, &next);
		done += n;
	}
	free(stamps);
	return same;
}
