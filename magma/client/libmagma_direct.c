/* SPDX-License-Identifier: MIT */
/*
 * libmagma_direct.c - the registry of in-process connection endpoints (magma_sim/direct.h).
 *
 * A short list under one mutex: an entry lives from the moment its connection started until the
 * client that made the connection takes it (right after the create-connection reply) or the
 * connection ends first, so the list holds only connections being opened. Entries carry the
 * publishing process's pid: a forked child inherits the memory but not the service's threads,
 * and must not deliver into them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libmagma_internal.h"
#include "magma_sim/direct.h"

struct direct_entry {
	uint64_t dev, ino;
	pid_t pid;
	void *endpoint;
	const struct magma_sim_direct_ops *ops;
	struct direct_entry *next;
};

static pthread_mutex_t direct_lock = PTHREAD_MUTEX_INITIALIZER;
static struct direct_entry *direct_head; /* guarded by direct_lock */

/* magma_sim_direct_publish - see direct.h. */
int magma_sim_direct_publish(uint64_t dev, uint64_t ino, void *endpoint,
			     const struct magma_sim_direct_ops *ops)
{
	struct direct_entry *e = malloc(sizeof(*e));

	if (!e) {
		ops->put(endpoint);
		return -ENOMEM;
	}
	*e = (struct direct_entry){dev, ino, getpid(), endpoint, ops, NULL};
	pthread_mutex_lock(&direct_lock);
	e->next = direct_head;
	direct_head = e;
	pthread_mutex_unlock(&direct_lock);
	return 0;
}

/* Unlinks and returns the first entry matching @match(@e, @arg), or NULL. Lock held. */
static struct direct_entry *
direct_unlink_locked(bool (*match)(const struct direct_entry *e, const void *arg), const void *arg)
{
	for (struct direct_entry **p = &direct_head; *p; p = &(*p)->next) {
		struct direct_entry *e = *p;

		if (match(e, arg)) {
			*p = e->next;
			return e;
		}
	}
	return NULL;
}

static bool direct_is_endpoint(const struct direct_entry *e, const void *endpoint)
{
	return e->endpoint == endpoint;
}

/* magma_sim_direct_withdraw - see direct.h. */
void magma_sim_direct_withdraw(void *endpoint)
{
	struct direct_entry *e;

	pthread_mutex_lock(&direct_lock);
	e = direct_unlink_locked(direct_is_endpoint, endpoint);
	pthread_mutex_unlock(&direct_lock);
	if (e) {
		e->ops->put(e->endpoint);
		free(e);
	}
}

struct direct_key {
	uint64_t dev, ino;
	pid_t pid;
};

static bool direct_is_key(const struct direct_entry *e, const void *arg)
{
	const struct direct_key *k = arg;

	return e->dev == k->dev && e->ino == k->ino && e->pid == k->pid;
}

/* magma_sim_direct_take - see direct.h. */
void *magma_sim_direct_take(uint64_t dev, uint64_t ino, const struct magma_sim_direct_ops **ops_out)
{
	struct direct_key k = {dev, ino, getpid()};
	struct direct_entry *e;
	void *endpoint = NULL;

	pthread_mutex_lock(&direct_lock);
	e = direct_head ? direct_unlink_locked(direct_is_key, &k) : NULL;
	pthread_mutex_unlock(&direct_lock);
	if (e) {
		endpoint = e->endpoint;
		*ops_out = e->ops;
		free(e);
	}
	return endpoint;
}

/*
 * libmagma_direct_wanted - see libmagma_internal.h: MAGMA_SIM_DIRECT=0 keeps every connection on
 * its channel (to exercise or watch the socket path of an embedded device).
 */
bool libmagma_direct_wanted(void)
{
	const char *v = getenv("MAGMA_SIM_DIRECT");

	return !v || strcmp(v, "0") != 0;
}
