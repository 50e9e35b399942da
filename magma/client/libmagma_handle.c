/* SPDX-License-Identifier: MIT */
/*
 * libmagma_handle.c - the registry of live libmagma objects, so that every handle a client
 * passes in can be checked before it is dereferenced.
 *
 * Magma handles are pointers. A magic alone catches handles of the wrong kind but not 0, garbage
 * or an object already released (reading its magic would be a use after free), and the API
 * promises a status for those, never a crash. So every object is entered here when created and
 * removed before it is freed; libmagma_handle_lookup() answers only for registered pointers. An
 * open-addressing hash set with linear probing and backward-shift deletion keeps lookups O(1).
 * One process-wide mutex guards it: this is a property of the address space, not of a device,
 * so a global is the right scope (two devices in one process share it harmlessly).
 */
#include <errno.h>
#include <stdlib.h>

#include "libmagma_internal.h"

static pthread_mutex_t libmagma_handle_lock = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t *libmagma_handle_slots; /* guarded by libmagma_handle_lock; 0 = empty */
static size_t libmagma_handle_cap;	 /* power of two, or 0 */
static size_t libmagma_handle_count;

static size_t libmagma_handle_hash(uintptr_t p, size_t cap)
{
	uint64_t h = (uint64_t)p * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 17) & (cap - 1);
}

static int libmagma_handle_insert_locked(uintptr_t *slots, size_t cap, uintptr_t p)
{
	size_t i = libmagma_handle_hash(p, cap);

	while (slots[i]) {
		if (slots[i] == p)
			return 0;
		i = (i + 1) & (cap - 1);
	}
	slots[i] = p;
	return 1;
}

static int libmagma_handle_grow_locked(void)
{
	size_t cap = libmagma_handle_cap ? libmagma_handle_cap * 2 : 64;
	uintptr_t *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < libmagma_handle_cap; i++) {
		if (libmagma_handle_slots[i])
			libmagma_handle_insert_locked(slots, cap, libmagma_handle_slots[i]);
	}
	free(libmagma_handle_slots);
	libmagma_handle_slots = slots;
	libmagma_handle_cap = cap;
	return 0;
}

/* libmagma_handle_add - see libmagma_internal.h. Takes the registry lock. */
int libmagma_handle_add(void *obj)
{
	int ret = 0;

	pthread_mutex_lock(&libmagma_handle_lock);
	if ((libmagma_handle_count + 1) * 2 > libmagma_handle_cap) {
		ret = libmagma_handle_grow_locked();
		if (ret)
			goto out_unlock;
	}
	libmagma_handle_count += (size_t)libmagma_handle_insert_locked(
		libmagma_handle_slots, libmagma_handle_cap, (uintptr_t)obj);
out_unlock:
	pthread_mutex_unlock(&libmagma_handle_lock);
	return ret;
}

/* libmagma_handle_remove - see libmagma_internal.h. Takes the registry lock. */
void libmagma_handle_remove(void *obj)
{
	uintptr_t p = (uintptr_t)obj;
	size_t i, j, cap;

	pthread_mutex_lock(&libmagma_handle_lock);
	cap = libmagma_handle_cap;
	if (!cap || !p)
		goto out_unlock;
	i = libmagma_handle_hash(p, cap);
	while (libmagma_handle_slots[i] && libmagma_handle_slots[i] != p)
		i = (i + 1) & (cap - 1);
	if (!libmagma_handle_slots[i])
		goto out_unlock;
	libmagma_handle_slots[i] = 0;
	libmagma_handle_count--;
	/* Backward-shift: move later entries of the probe run into the hole when allowed. */
	j = i;
	for (;;) {
		size_t home;

		j = (j + 1) & (cap - 1);
		if (!libmagma_handle_slots[j])
			break;
		home = libmagma_handle_hash(libmagma_handle_slots[j], cap);
		/* Entry j may move to i only if its home is not cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			libmagma_handle_slots[i] = libmagma_handle_slots[j];
			libmagma_handle_slots[j] = 0;
			i = j;
		}
	}
out_unlock:
	pthread_mutex_unlock(&libmagma_handle_lock);
}

/* libmagma_handle_lookup - see libmagma_internal.h. Takes the registry lock. */
void *libmagma_handle_lookup(uint64_t handle, uint32_t magic)
{
	uintptr_t p = (uintptr_t)handle;
	void *found = NULL;
	size_t i;

	if (!handle || (uint64_t)p != handle)
		return NULL;
	pthread_mutex_lock(&libmagma_handle_lock);
	if (!libmagma_handle_cap)
		goto out_unlock;
	i = libmagma_handle_hash(p, libmagma_handle_cap);
	while (libmagma_handle_slots[i]) {
		if (libmagma_handle_slots[i] == p) {
			if (*(const uint32_t *)p == magic)
				found = (void *)p;
			break;
		}
		i = (i + 1) & (libmagma_handle_cap - 1);
	}
out_unlock:
	pthread_mutex_unlock(&libmagma_handle_lock);
	return found;
}
