/* SPDX-License-Identifier: MIT */
/*
 * trace_replay_map.c - the replayer's small containers: an open-addressing map from a pair of
 * 64-bit keys to a 64-bit value, and a growable array of fixed-size records.
 *
 * The maps hold what replay maps: recorded handles and ids (with their connection) to indices of
 * the replay's own objects; a value of UINT64_MAX marks a key whose object is gone. Entries are
 * never removed, so probing needs no tombstones. Not thread-safe: one replay, one thread.
 */
#include <stdlib.h>
#include <string.h>

#include "trace_replay_internal.h"

/* The probe start of (@a, @b): a multiplicative mix, good enough for handles and small ids. */
static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull);

	return h ^ (h >> 29);
}

/* trace_replay_map_find - see trace_replay_internal.h. */
struct replay_ent *trace_replay_map_find(const struct replay_map *m, uint64_t k1, uint64_t k2)
{
	if (!m->cap)
		return NULL;
	for (size_t i = mix(k1, k2) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->e[i].used)
			return NULL;
		if (m->e[i].k1 == k1 && m->e[i].k2 == k2)
			return &m->e[i];
	}
}

/* trace_replay_map_put - see trace_replay_internal.h. Doubles the table at half full. */
bool trace_replay_map_put(struct replay_map *m, uint64_t k1, uint64_t k2, uint64_t v)
{
	struct replay_ent *e = trace_replay_map_find(m, k1, k2);

	if (e) {
		e->v = v;
		return true;
	}
	if ((m->count + 1) * 2 > m->cap) {
		struct replay_map n = {.cap = m->cap ? m->cap * 2 : 64};

		n.e = calloc(n.cap, sizeof(*n.e));
		if (!n.e)
			return false;
		for (size_t i = 0; i < m->cap; i++)
			if (m->e[i].used)
				trace_replay_map_put(&n, m->e[i].k1, m->e[i].k2, m->e[i].v);
		free(m->e);
		*m = n;
	}
	for (size_t i = mix(k1, k2) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->e[i].used) {
			m->e[i] = (struct replay_ent){k1, k2, v, true};
			m->count++;
			return true;
		}
	}
}

/* trace_replay_map_fini - see trace_replay_internal.h. */
void trace_replay_map_fini(struct replay_map *m)
{
	free(m->e);
	memset(m, 0, sizeof(*m));
}

/* trace_replay_lookup - see trace_replay_internal.h. */
bool trace_replay_lookup(const struct replay_map *m, uint64_t k1, uint64_t k2, uint64_t *v)
{
	const struct replay_ent *e = trace_replay_map_find(m, k1, k2);

	if (!e || e->v == UINT64_MAX)
		return false;
	*v = e->v;
	return true;
}

/* trace_replay_vec_push - see trace_replay_internal.h. */
void *trace_replay_vec_push(struct replay_vec *v, size_t size)
{
	v->size = size;
	if (v->count == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		void *n = realloc(v->v, cap * size);

		if (!n)
			return NULL;
		v->v = n;
		v->cap = cap;
	}
	memset((char *)v->v + v->count * size, 0, size);
	return (char *)v->v + v->count++ * size;
}

/* trace_replay_vec_at - see trace_replay_internal.h. */
void *trace_replay_vec_at(const struct replay_vec *v, uint64_t i)
{
	return i < v->count ? (char *)v->v + i * v->size : NULL;
}

/* trace_replay_vec_fini - see trace_map.h. */
void trace_replay_vec_fini(struct replay_vec *v)
{
	free(v->v);
	memset(v, 0, sizeof(*v));
}
