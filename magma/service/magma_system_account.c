/* SPDX-License-Identifier: MIT */
/*
 * magma_system_account.c - what each client process holds of a device, against its limits.
 *
 * A device's resources are finite and shared by every client: its channels and connections (a
 * thread and fds each), the buffers and semaphores imported through them (an fd each in the
 * service, and a host mapping for a buffer the GPU maps), the bytes those buffers cover, the
 * GPU mappings and the bus memory they pin. Each is counted twice, against the client process
 * that holds it and against the device, and a charge that would take either count past its
 * limit is refused. Every per-process limit is well below the device-wide one, so no single
 * process can use up what another needs; docs/devices.md ("Limits") gives the numbers and why.
 *
 * The client process is the pid the kernel records for the device channel's peer (SO_PEERCRED:
 * who connected, or who made the socketpair), which a client cannot forge; a connection is
 * charged to the process of the channel that created it. The client_id a connection carries is
 * the client's own claim and is only handed to the driver for its logs. A process that forks
 * children gets a share for each (pids are what the kernel can vouch for); the device-wide
 * limits bound them all together.
 *
 * A refusal is logged once per process and resource. Threading: any thread. acct->lock guards
 * the counts and the client list; it nests inside dev->lock and no other lock is taken under it.
 */
#include <stdlib.h>
#include <string.h>

#include "magma_system_internal.h"

/* clang-format off */
static const char *const resource_names[MAGMA_SYSTEM_RES_COUNT] = {
	[MAGMA_SYSTEM_RES_CHANNELS]         = "channels",
	[MAGMA_SYSTEM_RES_PENDING_CHANNELS] = "pending-channels",
	[MAGMA_SYSTEM_RES_CONNECTIONS]      = "connections",
	[MAGMA_SYSTEM_RES_HANDLES]          = "handles",
	[MAGMA_SYSTEM_RES_BUFFER_BYTES]     = "buffer-bytes",
	[MAGMA_SYSTEM_RES_RESIDENT_BUFFERS] = "resident-buffers",
	[MAGMA_SYSTEM_RES_MAPPINGS]         = "mappings",
	[MAGMA_SYSTEM_RES_MAPPED_BYTES]     = "mapped-bytes",
};

/* docs/devices.md, "Limits": { per process, device-wide }. */
static const uint64_t default_limits[MAGMA_SYSTEM_RES_COUNT][2] = {
	[MAGMA_SYSTEM_RES_CHANNELS]         = { 64,           1024 },
	[MAGMA_SYSTEM_RES_PENDING_CHANNELS] = { 8,            1024 },
	[MAGMA_SYSTEM_RES_CONNECTIONS]      = { 64,           256 },
	[MAGMA_SYSTEM_RES_HANDLES]          = { 16384,        49152 },
	[MAGMA_SYSTEM_RES_BUFFER_BYTES]     = { 4ull << 30,   16ull << 30 },
	[MAGMA_SYSTEM_RES_RESIDENT_BUFFERS] = { 8192,         24576 },
	[MAGMA_SYSTEM_RES_MAPPINGS]         = { 16384,        65536 },
	[MAGMA_SYSTEM_RES_MAPPED_BYTES]     = { 1ull << 30,   3ull << 30 },
};
/* clang-format on */

#define DEFAULT_HANDSHAKE_TIMEOUT_MS 2000u

/* magma_system_limits_default - see magma_system.h. */
void magma_system_limits_default(struct magma_system_limits *limits)
{
	for (int r = 0; r < MAGMA_SYSTEM_RES_COUNT; r++) {
		limits->process[r] = default_limits[r][0];
		limits->device[r] = default_limits[r][1];
	}
	limits->handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT_MS;
}

/* magma_system_resource_name - see magma_system.h. */
const char *magma_system_resource_name(enum magma_system_resource res)
{
	if ((unsigned int)res >= MAGMA_SYSTEM_RES_COUNT)
		return NULL;
	return resource_names[res];
}

/* magma_system_account_init - empty accounts under @limits (copied; NULL: the defaults). */
void magma_system_account_init(struct magma_system_account *acct,
			       const struct magma_system_limits *limits)
{
	*acct = (struct magma_system_account){0};
	pthread_mutex_init(&acct->lock, NULL);
	if (limits)
		acct->limits = *limits;
	else
		magma_system_limits_default(&acct->limits);
}

/* magma_system_account_fini - after every client was put. */
void magma_system_account_fini(struct magma_system_account *acct)
{
	while (acct->clients) {
		struct magma_system_client *c = acct->clients;

		acct->clients = c->next;
		free(c);
	}
	pthread_mutex_destroy(&acct->lock);
}

/*
 * magma_system_account_lookup - the account of process @pid, created on first use; returns a new
 * reference (put with magma_system_account_client_put) or NULL when out of memory.
 */
struct magma_system_client *magma_system_account_lookup(struct magma_system_account *acct,
							pid_t pid)
{
	struct magma_system_client *c;

	pthread_mutex_lock(&acct->lock);
	for (c = acct->clients; c; c = c->next) {
		if (c->pid == pid)
			break;
	}
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (c) {
			c->pid = pid;
			c->next = acct->clients;
			acct->clients = c;
		}
	}
	if (c)
		c->refs++;
	pthread_mutex_unlock(&acct->lock);
	return c;
}

/* magma_system_account_client_get - another reference to @client (which the caller holds). */
struct magma_system_client *magma_system_account_client_get(struct magma_system_account *acct,
							    struct magma_system_client *client)
{
	pthread_mutex_lock(&acct->lock);
	client->refs++;
	pthread_mutex_unlock(&acct->lock);
	return client;
}

/*
 * magma_system_account_client_put - drops a reference; the last one forgets the process (whose
 * counts are zero by then: every charge is undone before its holder puts the client).
 */
void magma_system_account_client_put(struct magma_system_account *acct,
				     struct magma_system_client *client)
{
	struct magma_system_client **pp;

	if (!client)
		return;
	pthread_mutex_lock(&acct->lock);
	if (--client->refs == 0) {
		for (pp = &acct->clients; *pp != client; pp = &(*pp)->next)
			;
		*pp = client->next;
		free(client);
	}
	pthread_mutex_unlock(&acct->lock);
}

/*
 * magma_system_account_charge - takes @amount of @res for @client and the device. Refused
 * (nothing taken) with MAGMA_STATUS_MEMORY_ERROR when either would pass its limit; the first
 * refusal of each resource for a process is logged.
 */
magma_status_t magma_system_account_charge(struct magma_system_account *acct,
					   struct magma_system_client *client,
					   enum magma_system_resource res, uint64_t amount)
{
	const uint64_t process_limit = acct->limits.process[res];
	const uint64_t device_limit = acct->limits.device[res];
	magma_status_t s = MAGMA_STATUS_OK;
	bool over_process, over_device, log = false;

	pthread_mutex_lock(&acct->lock);
	over_process = amount > process_limit || client->used[res] > process_limit - amount;
	over_device = amount > device_limit || acct->used[res] > device_limit - amount;
	if (over_process || over_device) {
		s = MAGMA_STATUS_MEMORY_ERROR;
		log = !(client->logged & (1u << res));
		client->logged |= 1u << res;
	} else {
		client->used[res] += amount;
		acct->used[res] += amount;
	}
	pthread_mutex_unlock(&acct->lock);
	if (s && log)
		magma_system_log(MAGMA_LOG_WARNING,
				 "client process %d: refused: %s would pass the %s limit of %llu",
				 (int)client->pid, resource_names[res],
				 over_process ? "per-process" : "device-wide",
				 (unsigned long long)(over_process ? process_limit : device_limit));
	return s;
}

/* magma_system_account_uncharge - gives back @amount of @res that @client was charged. */
void magma_system_account_uncharge(struct magma_system_account *acct,
				   struct magma_system_client *client,
				   enum magma_system_resource res, uint64_t amount)
{
	pthread_mutex_lock(&acct->lock);
	client->used[res] -= amount;
	acct->used[res] -= amount;
	pthread_mutex_unlock(&acct->lock);
}

/* magma_system_account_usage - the device-wide counts into @used. */
void magma_system_account_usage(struct magma_system_account *acct,
				uint64_t used[MAGMA_SYSTEM_RES_COUNT])
{
	pthread_mutex_lock(&acct->lock);
	memcpy(used, acct->used, sizeof(acct->used));
	pthread_mutex_unlock(&acct->lock);
}
