/* SPDX-License-Identifier: MIT */
/*
 * magma_system_handles.c - per-connection handle tables: buffers, semaphores, contexts and
 * performance-counter pools by client-chosen id, and the connection's GPU mappings by address.
 *
 * Every message names its objects by id, so finding one is on the hot path and must not grow
 * with how many the connection holds (bench-scale measures it): a table keeps its elements
 * packed in an array and a hash map from id to position (index_map.h), and a removal moves the
 * last element into the hole, so find, insert and remove are O(1). Teardown wants a fixed order
 * (ascending id, what the driver has always seen), so it sorts first. Mappings are records in two
 * trees (index_tree.h): by hw_va, where an overlap check looks at the two neighbours of the new
 * range, and by (buffer_id, hw_va), so a buffer's mappings are found without walking the others.
 * Nothing here calls the MSD or owns MSD objects: the connection releases them. Connection
 * thread only; no locking.
 */
#include <stdlib.h>
#include <string.h>

#include "magma_system_internal.h"

/* magma_system_table_init - empty table of @item_size elements holding at most @limit. */
void magma_system_table_init(struct magma_system_table *t, uint32_t item_size, uint32_t limit)
{
	memset(t, 0, sizeof(*t));
	t->item_size = item_size;
	t->limit = limit;
	index_map_init(&t->positions);
}

/* magma_system_table_fini - frees the storage (not what the elements point to). */
void magma_system_table_fini(struct magma_system_table *t)
{
	free(t->items);
	t->items = NULL;
	t->count = 0;
	t->capacity = 0;
	index_map_fini(&t->positions);
}

static uint64_t table_id_at(const struct magma_system_table *t, uint32_t i)
{
	uint64_t id;

	memcpy(&id, (const char *)t->items + (size_t)i * t->item_size, sizeof(id));
	return id;
}

/* magma_system_table_at - the element at @index (< count); pointer valid until the next change. */
void *magma_system_table_at(const struct magma_system_table *t, uint32_t index)
{
	return (char *)t->items + (size_t)index * t->item_size;
}

/* magma_system_table_find - the element with @id or NULL. Valid until the next change. */
void *magma_system_table_find(const struct magma_system_table *t, uint64_t id)
{
	uint64_t i;

	if (!index_map_find(&t->positions, id, &i))
		return NULL;
	return magma_system_table_at(t, (uint32_t)i);
}

/*
 * magma_system_table_insert - copies @item (whose first field is its id) in. INVALID_ARGS when
 * the id is present, MEMORY_ERROR at the limit or when allocation fails (the table unchanged).
 */
magma_status_t magma_system_table_insert(struct magma_system_table *t, const void *item)
{
	uint64_t id;

	memcpy(&id, item, sizeof(id));
	if (index_map_find(&t->positions, id, NULL))
		return MAGMA_STATUS_INVALID_ARGS;
	if (t->count >= t->limit)
		return MAGMA_STATUS_MEMORY_ERROR;
	/* Room in both first, so that nothing can fail once the element is in. */
	if (index_map_reserve(&t->positions, (size_t)t->count + 1))
		return MAGMA_STATUS_MEMORY_ERROR;
	if (t->count == t->capacity) {
		uint32_t cap = t->capacity ? t->capacity * 2 : 16;
		void *items;

		if (cap > t->limit)
			cap = t->limit;
		items = realloc(t->items, (size_t)cap * t->item_size);
		if (!items)
			return MAGMA_STATUS_MEMORY_ERROR;
		t->items = items;
		t->capacity = cap;
	}
	memcpy(magma_system_table_at(t, t->count), item, t->item_size);
	index_map_insert(&t->positions, id, t->count);
	t->count++;
	return MAGMA_STATUS_OK;
}

/*
 * magma_system_table_remove - removes @id, copying it to @item_out if non-NULL. False if absent.
 * The last element moves into its place.
 */
bool magma_system_table_remove(struct magma_system_table *t, uint64_t id, void *item_out)
{
	uint64_t i;
	uint32_t last;

	if (!index_map_remove(&t->positions, id, &i))
		return false;
	if (item_out)
		memcpy(item_out, magma_system_table_at(t, (uint32_t)i), t->item_size);
	last = t->count - 1;
	if (i != last) {
		memcpy(magma_system_table_at(t, (uint32_t)i), magma_system_table_at(t, last),
		       t->item_size);
		index_map_set(&t->positions, table_id_at(t, (uint32_t)i), i);
	}
	t->count--;
	return true;
}

/* Orders elements by the id they begin with. */
static int table_cmp_id(const void *a, const void *b)
{
	uint64_t x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return (x > y) - (x < y);
}

/*
 * magma_system_table_sort - puts the elements in ascending id order (magma_system_table_at), for
 * a teardown in a fixed order. O(n log n); lookups work as before.
 */
void magma_system_table_sort(struct magma_system_table *t)
{
	if (t->count < 2)
		return;
	qsort(t->items, t->count, t->item_size, table_cmp_id);
	for (uint32_t i = 0; i < t->count; i++)
		index_map_set(&t->positions, table_id_at(t, i), i);
}

static int mapping_va_cmp(const struct index_node *a, const struct index_node *b)
{
	uint64_t x = index_entry(a, struct magma_system_mapping, va_node)->hw_va;
	uint64_t y = index_entry(b, struct magma_system_mapping, va_node)->hw_va;

	return (x > y) - (x < y);
}

static int mapping_va_key_cmp(const void *key, const struct index_node *n)
{
	uint64_t x = *(const uint64_t *)key;
	uint64_t y = index_entry(n, struct magma_system_mapping, va_node)->hw_va;

	return (x > y) - (x < y);
}

static int mapping_buffer_cmp(const struct index_node *a, const struct index_node *b)
{
	const struct magma_system_mapping *x =
		index_entry(a, struct magma_system_mapping, buffer_node);
	const struct magma_system_mapping *y =
		index_entry(b, struct magma_system_mapping, buffer_node);

	if (x->buffer_id != y->buffer_id)
		return x->buffer_id < y->buffer_id ? -1 : 1;
	return (x->hw_va > y->hw_va) - (x->hw_va < y->hw_va);
}

/* The key of mappings_by_buffer's lower bound: a buffer's first mapping. */
static int mapping_buffer_key_cmp(const void *key, const struct index_node *n)
{
	uint64_t x = *(const uint64_t *)key;
	uint64_t y = index_entry(n, struct magma_system_mapping, buffer_node)->buffer_id;

	return x <= y ? -1 : 1; /* before every mapping of buffer @key */
}

/* magma_system_handles_init - empty tables with the per-connection limits. */
void magma_system_handles_init(struct magma_system_handles *h)
{
	memset(h, 0, sizeof(*h));
	magma_system_table_init(&h->buffers, sizeof(struct magma_system_buffer),
				MAGMA_SYSTEM_MAX_BUFFERS);
	magma_system_table_init(&h->semaphores, sizeof(struct magma_system_semaphore),
				MAGMA_SYSTEM_MAX_SEMAPHORES);
	magma_system_table_init(&h->contexts, sizeof(struct magma_system_context),
				MAGMA_SYSTEM_MAX_CONTEXTS);
	magma_system_table_init(&h->pools, sizeof(struct magma_system_pool),
				MAGMA_SYSTEM_MAX_POOLS);
	index_tree_init(&h->mappings_by_va, mapping_va_cmp, NULL);
	index_tree_init(&h->mappings_by_buffer, mapping_buffer_cmp, NULL);
}

/* Unlinks @m from both trees and frees it. */
static void mapping_remove(struct magma_system_handles *h, struct magma_system_mapping *m)
{
	index_tree_remove(&h->mappings_by_va, &m->va_node);
	index_tree_remove(&h->mappings_by_buffer, &m->buffer_node);
	h->mapping_count--;
	free(m);
}

/*
 * magma_system_handles_remove_all_mappings - forgets every mapping; returns how many, and their
 * total length in *@bytes_out (may be NULL).
 */
uint32_t magma_system_handles_remove_all_mappings(struct magma_system_handles *h,
						  uint64_t *bytes_out)
{
	uint32_t removed = 0;
	uint64_t bytes = 0;
	struct index_node *n;

	while ((n = index_tree_first(&h->mappings_by_va)) != NULL) {
		struct magma_system_mapping *m =
			index_entry(n, struct magma_system_mapping, va_node);

		bytes += m->length;
		removed++;
		mapping_remove(h, m);
	}
	if (bytes_out)
		*bytes_out = bytes;
	return removed;
}

/* magma_system_handles_fini - frees the tables; the caller released the MSD objects first. */
void magma_system_handles_fini(struct magma_system_handles *h)
{
	magma_system_table_fini(&h->buffers);
	magma_system_table_fini(&h->semaphores);
	magma_system_table_fini(&h->contexts);
	magma_system_table_fini(&h->pools);
	magma_system_handles_remove_all_mappings(h, NULL);
}

/*
 * magma_system_handles_mapping_overlaps - whether [@hw_va, @hw_va + @length) intersects a
 * mapping: the first one at or after @hw_va, or the one before it. The caller checked that the
 * range does not wrap.
 */
bool magma_system_handles_mapping_overlaps(const struct magma_system_handles *h, uint64_t hw_va,
					   uint64_t length)
{
	struct index_node *next =
		index_tree_lower_bound(&h->mappings_by_va, mapping_va_key_cmp, &hw_va);
	struct index_node *prev =
		next ? index_tree_prev(next) : index_tree_last(&h->mappings_by_va);
	const struct magma_system_mapping *m;

	if (next) {
		m = index_entry(next, struct magma_system_mapping, va_node);
		if (m->hw_va < hw_va + length)
			return true;
	}
	if (prev) {
		m = index_entry(prev, struct magma_system_mapping, va_node);
		if (m->hw_va + m->length > hw_va)
			return true;
	}
	return false;
}

/* magma_system_handles_find_mapping - the mapping starting exactly at @hw_va, or NULL. */
const struct magma_system_mapping *
magma_system_handles_find_mapping(const struct magma_system_handles *h, uint64_t hw_va)
{
	struct index_node *n = index_tree_find(&h->mappings_by_va, mapping_va_key_cmp, &hw_va);

	return n ? index_entry(n, struct magma_system_mapping, va_node) : NULL;
}

/*
 * magma_system_handles_add_mapping - records a copy of @m's address, length and buffer (checked
 * not to overlap). MEMORY_ERROR at the limit or when allocation fails.
 */
magma_status_t magma_system_handles_add_mapping(struct magma_system_handles *h,
						const struct magma_system_mapping *m)
{
	struct magma_system_mapping *rec;

	if (h->mapping_count >= MAGMA_SYSTEM_MAX_MAPPINGS)
		return MAGMA_STATUS_MEMORY_ERROR;
	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return MAGMA_STATUS_MEMORY_ERROR;
	rec->hw_va = m->hw_va;
	rec->length = m->length;
	rec->buffer_id = m->buffer_id;
	if (index_tree_insert(&h->mappings_by_va, &rec->va_node)) {
		free(rec); /* the caller checked; an existing start address is refused */
		return MAGMA_STATUS_INVALID_ARGS;
	}
	index_tree_insert(&h->mappings_by_buffer, &rec->buffer_node);
	h->mapping_count++;
	return MAGMA_STATUS_OK;
}

/* magma_system_handles_remove_mapping - forgets the mapping at @hw_va (no-op if none). */
void magma_system_handles_remove_mapping(struct magma_system_handles *h, uint64_t hw_va)
{
	struct index_node *n = index_tree_find(&h->mappings_by_va, mapping_va_key_cmp, &hw_va);

	if (n)
		mapping_remove(h, index_entry(n, struct magma_system_mapping, va_node));
}

/*
 * magma_system_handles_remove_buffer_mappings - forgets @buffer_id's mappings; returns how many,
 * and their total length in *@bytes_out (may be NULL). O(log n + k) for k of them.
 */
uint32_t magma_system_handles_remove_buffer_mappings(struct magma_system_handles *h,
						     uint64_t buffer_id, uint64_t *bytes_out)
{
	uint32_t removed = 0;
	uint64_t bytes = 0;
	struct index_node *n;

	while ((n = index_tree_lower_bound(&h->mappings_by_buffer, mapping_buffer_key_cmp,
					   &buffer_id)) != NULL) {
		struct magma_system_mapping *m =
			index_entry(n, struct magma_system_mapping, buffer_node);

		if (m->buffer_id != buffer_id)
			break;
		bytes += m->length;
		removed++;
		mapping_remove(h, m);
	}
	if (bytes_out)
		*bytes_out = bytes;
	return removed;
}
