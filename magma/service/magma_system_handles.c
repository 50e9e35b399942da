/* SPDX-License-Identifier: MIT */
/*
 * magma_system_handles.c - per-connection handle tables: buffers, semaphores, contexts and
 * performance-counter pools by client-chosen id, and the connection's GPU mappings by address.
 *
 * Tables are arrays sorted by id, searched by bisection; inserting memmoves the tail, which is
 * cheap at the bounded sizes we allow (MAGMA_SYSTEM_MAX_*) and keeps teardown order
 * deterministic (ascending id). The mapping list is sorted by hw_va so an overlap check looks at
 * two neighbours only. Nothing here calls the MSD or owns MSD objects: the connection releases
 * them. Connection thread only; no locking.
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
}

/* magma_system_table_fini - frees the storage (not what the elements point to). */
void magma_system_table_fini(struct magma_system_table *t)
{
	free(t->items);
	t->items = NULL;
	t->count = 0;
	t->capacity = 0;
}

static uint64_t table_id_at(const struct magma_system_table *t, uint32_t i)
{
	uint64_t id;

	memcpy(&id, (const char *)t->items + (size_t)i * t->item_size, sizeof(id));
	return id;
}

/* First index whose id is >= @id. */
static uint32_t table_lower_bound(const struct magma_system_table *t, uint64_t id)
{
	uint32_t lo = 0, hi = t->count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (table_id_at(t, mid) < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* magma_system_table_at - the element at @index (< count); pointer valid until the next change. */
void *magma_system_table_at(const struct magma_system_table *t, uint32_t index)
{
	return (char *)t->items + (size_t)index * t->item_size;
}

/* magma_system_table_find - the element with @id or NULL. Valid until the next change. */
void *magma_system_table_find(const struct magma_system_table *t, uint64_t id)
{
	uint32_t i = table_lower_bound(t, id);

	if (i < t->count && table_id_at(t, i) == id)
		return magma_system_table_at(t, i);
	return NULL;
}

/*
 * magma_system_table_insert - copies @item (whose first field is its id) in. INVALID_ARGS when
 * the id is present, MEMORY_ERROR at the limit or when allocation fails.
 */
magma_status_t magma_system_table_insert(struct magma_system_table *t, const void *item)
{
	uint64_t id;
	uint32_t i;

	memcpy(&id, item, sizeof(id));
	i = table_lower_bound(t, id);
	if (i < t->count && table_id_at(t, i) == id)
		return MAGMA_STATUS_INVALID_ARGS;
	if (t->count >= t->limit)
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
	memmove((char *)t->items + (size_t)(i + 1) * t->item_size,
		(char *)t->items + (size_t)i * t->item_size, (size_t)(t->count - i) * t->item_size);
	memcpy((char *)t->items + (size_t)i * t->item_size, item, t->item_size);
	t->count++;
	return MAGMA_STATUS_OK;
}

/* magma_system_table_remove - removes @id, copying it to @item_out if non-NULL. False if absent. */
bool magma_system_table_remove(struct magma_system_table *t, uint64_t id, void *item_out)
{
	uint32_t i = table_lower_bound(t, id);

	if (i >= t->count || table_id_at(t, i) != id)
		return false;
	if (item_out)
		memcpy(item_out, magma_system_table_at(t, i), t->item_size);
	memmove((char *)t->items + (size_t)i * t->item_size,
		(char *)t->items + (size_t)(i + 1) * t->item_size,
		(size_t)(t->count - i - 1) * t->item_size);
	t->count--;
	return true;
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
}

/* magma_system_handles_fini - frees the tables; the caller released the MSD objects first. */
void magma_system_handles_fini(struct magma_system_handles *h)
{
	magma_system_table_fini(&h->buffers);
	magma_system_table_fini(&h->semaphores);
	magma_system_table_fini(&h->contexts);
	magma_system_table_fini(&h->pools);
	free(h->mappings);
	h->mappings = NULL;
	h->mapping_count = 0;
	h->mapping_capacity = 0;
}

/* First mapping index whose hw_va is >= @hw_va. */
static uint32_t mapping_lower_bound(const struct magma_system_handles *h, uint64_t hw_va)
{
	uint32_t lo = 0, hi = h->mapping_count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (h->mappings[mid].hw_va < hw_va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * magma_system_handles_mapping_overlaps - whether [@hw_va, @hw_va + @length) intersects a
 * mapping. The caller checked that the range does not wrap.
 */
bool magma_system_handles_mapping_overlaps(const struct magma_system_handles *h, uint64_t hw_va,
					   uint64_t length)
{
	uint32_t i = mapping_lower_bound(h, hw_va);

	if (i < h->mapping_count && h->mappings[i].hw_va < hw_va + length)
		return true;
	if (i > 0 && h->mappings[i - 1].hw_va + h->mappings[i - 1].length > hw_va)
		return true;
	return false;
}

/* magma_system_handles_find_mapping - the mapping starting exactly at @hw_va, or NULL. */
const struct magma_system_mapping *
magma_system_handles_find_mapping(const struct magma_system_handles *h, uint64_t hw_va)
{
	uint32_t i = mapping_lower_bound(h, hw_va);

	if (i < h->mapping_count && h->mappings[i].hw_va == hw_va)
		return &h->mappings[i];
	return NULL;
}

/* magma_system_handles_add_mapping - records @m (checked not to overlap). MEMORY_ERROR at limit. */
magma_status_t magma_system_handles_add_mapping(struct magma_system_handles *h,
						const struct magma_system_mapping *m)
{
	uint32_t i;

	if (h->mapping_count >= MAGMA_SYSTEM_MAX_MAPPINGS)
		return MAGMA_STATUS_MEMORY_ERROR;
	if (h->mapping_count == h->mapping_capacity) {
		uint32_t cap = h->mapping_capacity ? h->mapping_capacity * 2 : 16;
		struct magma_system_mapping *p;

		p = realloc(h->mappings, (size_t)cap * sizeof(*p));
		if (!p)
			return MAGMA_STATUS_MEMORY_ERROR;
		h->mappings = p;
		h->mapping_capacity = cap;
	}
	i = mapping_lower_bound(h, m->hw_va);
	memmove(&h->mappings[i + 1], &h->mappings[i], (h->mapping_count - i) * sizeof(*m));
	h->mappings[i] = *m;
	h->mapping_count++;
	return MAGMA_STATUS_OK;
}

/* magma_system_handles_remove_mapping - forgets the mapping at @hw_va (no-op if none). */
void magma_system_handles_remove_mapping(struct magma_system_handles *h, uint64_t hw_va)
{
	uint32_t i = mapping_lower_bound(h, hw_va);

	if (i >= h->mapping_count || h->mappings[i].hw_va != hw_va)
		return;
	memmove(&h->mappings[i], &h->mappings[i + 1],
		(h->mapping_count - i - 1) * sizeof(h->mappings[0]));
	h->mapping_count--;
}

/*
 * magma_system_handles_remove_buffer_mappings - forgets @buffer_id's mappings; returns how many,
 * and their total length in *@bytes_out (may be NULL).
 */
uint32_t magma_system_handles_remove_buffer_mappings(struct magma_system_handles *h,
						     uint64_t buffer_id, uint64_t *bytes_out)
{
	uint32_t out = 0, removed = 0;
	uint64_t bytes = 0;

	for (uint32_t i = 0; i < h->mapping_count; i++) {
		if (h->mappings[i].buffer_id == buffer_id) {
			removed++;
			bytes += h->mappings[i].length;
			continue;
		}
		h->mappings[out++] = h->mappings[i];
	}
	h->mapping_count = out;
	if (bytes_out)
		*bytes_out = bytes;
	return removed;
}
