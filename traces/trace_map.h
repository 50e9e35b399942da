/* SPDX-License-Identifier: MIT */
/*
 * trace_map.h - the small containers of the replayer and the trace tools (trace_replay_map.c): a
 * map from a pair of u64 keys to a u64 and a growable array of fixed-size records. Zero-initialised
 * is empty. Not thread-safe: each belongs to one replay or one tool run.
 */
#ifndef TRACES_TRACE_MAP_H
#define TRACES_TRACE_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct replay_ent {
	uint64_t k1, k2;
	uint64_t v;
	bool used;
};

/* An open-addressing map from a pair of keys to a value (UINT64_MAX: "gone"). */
struct replay_map {
	struct replay_ent *e;
	size_t cap, count;
};

/* A growable array of fixed-size records. */
struct replay_vec {
	void *v;
	size_t size, count, cap;
};

/* The entry of (@k1, @k2) in @m, or NULL. */
struct replay_ent *trace_replay_map_find(const struct replay_map *m, uint64_t k1, uint64_t k2);
/* Inserts or overwrites (@k1, @k2) -> @v; false when out of memory. */
bool trace_replay_map_put(struct replay_map *m, uint64_t k1, uint64_t k2, uint64_t v);
/* Frees @m's table and empties it. */
void trace_replay_map_fini(struct replay_map *m);
/* The value of (@k1, @k2) into *@v; false when absent or "gone" (UINT64_MAX). */
bool trace_replay_lookup(const struct replay_map *m, uint64_t k1, uint64_t k2, uint64_t *v);
/* Appends a zeroed record of @size bytes to @v; returns it or NULL when out of memory. */
void *trace_replay_vec_push(struct replay_vec *v, size_t size);
/* Record @i of @v, or NULL past the end. */
void *trace_replay_vec_at(const struct replay_vec *v, uint64_t i);
/* Frees @v's records and empties it. */
void trace_replay_vec_fini(struct replay_vec *v);

#endif /* TRACES_TRACE_MAP_H */
