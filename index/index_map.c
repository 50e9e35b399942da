/* SPDX-License-Identifier: MIT */
/*
 * index_map.c - see index_map.h. Values are stored plus one so that a zero slot is empty and
 * the table can be cleared with calloc. A key's home slot is the top bits of key * 2^64/phi
 * (Fibonacci hashing): consecutive ids, the common case, land far apart.
 */
#include "index/index_map.h"

#include <errno.h>
#include <stdlib.h>

#define INDEX_MAP_MIN_CAP 16u

static size_t home(uint64_t key, size_t cap)
{
	/* cap is a power of two >= 16: its log2 top bits of the product. */
	unsigned int shift = 64 - (unsigned int)__builtin_ctzll((unsigned long long)cap);

	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> shift);
}

/* index_map_init - see index_map.h. */
void index_map_init(struct index_map *m)
{
	m->slots = NULL;
	m->cap = 0;
	m->count = 0;
}

/* index_map_fini - see index_map.h. */
void index_map_fini(struct index_map *m)
{
	free(m->slots);
	index_map_init(m);
}

/* The slot holding @key, or the empty slot ending its probe run. @m->cap > 0. */
static size_t probe(const struct index_map *m, uint64_t key)
{
	size_t i = home(key, m->cap);

	while (m->slots[i].value_plus_one && m->slots[i].key != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* Rehashes into a table of @cap slots. 0 or -ENOMEM (nothing changed). */
static int resize(struct index_map *m, size_t cap)
{
	struct index_map_slot *old = m->slots;
	size_t old_cap = m->cap;

	m->slots = calloc(cap, sizeof(*m->slots));
	if (!m->slots) {
		m->slots = old;
		return -ENOMEM;
	}
	m->cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].value_plus_one)
			m->slots[probe(m, old[i].key)] = old[i];
	}
	free(old);
	return 0;
}

/* index_map_reserve - see index_map.h. At most half full: count * 2 <= cap. */
int index_map_reserve(struct index_map *m, size_t count)
{
	size_t cap = m->cap ? m->cap : INDEX_MAP_MIN_CAP;

	if (count > SIZE_MAX / 4)
		return -ENOMEM;
	while (cap < count * 2)
		cap *= 2;
	return cap == m->cap ? 0 : resize(m, cap);
}

/* index_map_insert - see index_map.h. */
int index_map_insert(struct index_map *m, uint64_t key, uint64_t value)
{
	size_t i;
	int ret;

	if (value == UINT64_MAX)
		return -EINVAL;
	if (index_map_find(m, key, NULL))
		return -EEXIST;
	ret = index_map_reserve(m, m->count + 1);
	if (ret)
		return ret;
	i = probe(m, key);
	m->slots[i].key = key;
	m->slots[i].value_plus_one = value + 1;
	m->count++;
	return 0;
}

/* index_map_find - see index_map.h. */
bool index_map_find(const struct index_map *m, uint64_t key, uint64_t *value_out)
{
	size_t i;

	if (!m->count)
		return false;
	i = probe(m, key);
	if (!m->slots[i].value_plus_one)
		return false;
	if (value_out)
		*value_out = m->slots[i].value_plus_one - 1;
	return true;
}

/* index_map_set - see index_map.h. */
bool index_map_set(struct index_map *m, uint64_t key, uint64_t value)
{
	size_t i;

	if (!m->count || value == UINT64_MAX)
		return false;
	i = probe(m, key);
	if (!m->slots[i].value_plus_one)
		return false;
	m->slots[i].value_plus_one = value + 1;
	return true;
}

/* index_map_remove - see index_map.h. Backward-shift: later entries of the run fill the hole. */
bool index_map_remove(struct index_map *m, uint64_t key, uint64_t *value_out)
{
	size_t i, j, mask;

	if (!m->count)
		return false;
	i = probe(m, key);
	if (!m->slots[i].value_plus_one)
		return false;
	if (value_out)
		*value_out = m->slots[i].value_plus_one - 1;
	mask = m->cap - 1;
	for (j = (i + 1) & mask; m->slots[j].value_plus_one; j = (j + 1) & mask) {
		size_t h = home(m->slots[j].key, m->cap);

		/* Entry j may move back to the hole at i unless its home lies in (i, j]. */
		if (((j - h) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = 0;
	m->slots[i].value_plus_one = 0;
	m->count--;
	return true;
}
