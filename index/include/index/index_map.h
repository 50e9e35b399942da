/* SPDX-License-Identifier: MIT */
/*
 * index_map.h - a hash map from 64-bit keys to 64-bit values.
 *
 * What the service finds a connection's buffers, semaphores, contexts and pools by: the client
 * names them by id in every message, so the lookup is on the hot path and must not grow with
 * their number. Open addressing with linear probing in a power-of-two table kept at most half
 * full, Fibonacci hashing of the key, and backward-shift deletion (no tombstones, so a long life
 * of inserts and removals does not slow lookups down). Any key is allowed; a value is anything
 * but UINT64_MAX. Lookups, inserts and removals are O(1) expected; growing rehashes everything
 * once per doubling. Zero-initialised (or index_map_init) is empty. Not thread-safe: the owner's
 * lock or thread guards it.
 */
#ifndef INDEX_MAP_H
#define INDEX_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct index_map_slot {
	uint64_t key;
	uint64_t value_plus_one; /* 0: empty */
};

struct index_map {
	struct index_map_slot *slots;
	size_t cap; /* a power of two, or 0 */
	size_t count;
};

/* index_map_init - an empty map that holds no memory yet. */
void index_map_init(struct index_map *m);

/* index_map_fini - frees the table; the map is empty afterwards (and may be used again). */
void index_map_fini(struct index_map *m);

/*
 * index_map_insert - adds @key -> @value (not UINT64_MAX). Returns 0, -EEXIST when @key is
 * there (its value unchanged), -EINVAL for UINT64_MAX, or -ENOMEM when the table could not grow
 * (the map is unchanged).
 */
int index_map_insert(struct index_map *m, uint64_t key, uint64_t value);

/*
 * index_map_reserve - makes room for @count keys in all, so that inserts up to that number
 * cannot fail. 0 or -ENOMEM.
 */
int index_map_reserve(struct index_map *m, size_t count);

/* index_map_find - whether @key is there; its value into *@value_out (may be NULL). */
bool index_map_find(const struct index_map *m, uint64_t key, uint64_t *value_out);

/* index_map_set - replaces the value of @key, which must be there; false (no change) if not. */
bool index_map_set(struct index_map *m, uint64_t key, uint64_t value);

/* index_map_remove - removes @key; its value into *@value_out (may be NULL). False if absent. */
bool index_map_remove(struct index_map *m, uint64_t key, uint64_t *value_out);

/* index_map_count - the number of keys. */
static inline size_t index_map_count(const struct index_map *m)
{
	return m->count;
}

#endif /* INDEX_MAP_H */
