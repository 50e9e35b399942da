/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_client.c - what a client process and the whole device may hold in work not yet
 * retired.
 *
 * Each connection bounds its own submissions and inline-command bytes (MSD_SIM_MAX_CONNECTION_JOBS,
 * MSD_SIM_MAX_INLINE_BYTES). A process could still open many connections, so the connections of
 * one client (msd_device_open's client_id, which magma_system sets to the pid the kernel vouches
 * for) share a bound of their own, and the device has one over everyone; the device's is three
 * times a process's, so a process at its bounds leaves at least twice as much to the others.
 * Past any bound a submission fails with MAGMA_STATUS_MEMORY_ERROR and the system layer closes
 * that connection only; nothing ever blocks on them.
 *
 * Threading: everything here runs with the device lock held.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "msd_sim_internal.h"

/* msd_sim_work_limits_default - the MSD_SIM_MAX_* bounds. */
void msd_sim_work_limits_default(struct msd_sim_work_limits *l)
{
	*l = (struct msd_sim_work_limits){
		.connection_jobs = MSD_SIM_MAX_CONNECTION_JOBS,
		.client_jobs = MSD_SIM_MAX_CLIENT_JOBS,
		.device_jobs = MSD_SIM_MAX_DEVICE_JOBS,
		.connection_bytes = MSD_SIM_MAX_INLINE_BYTES,
		.client_bytes = MSD_SIM_MAX_CLIENT_INLINE_BYTES,
		.device_bytes = MSD_SIM_MAX_DEVICE_INLINE_BYTES,
	};
}

/*
 * msd_sim_client_get_locked - the client of @id, created on first use; a new reference (put by
 * msd_sim_client_put_locked when its connection is freed). NULL when out of memory.
 */
struct msd_sim_client *msd_sim_client_get_locked(struct msd_sim_device *dev, msd_client_id_t id)
{
	struct msd_sim_client *c;
	struct msd_sim_list *pos;

	msd_sim_mutex_assert_held(&dev->lock);
	for (pos = dev->clients.next; pos != &dev->clients; pos = pos->next) {
		c = msd_sim_container_of(pos, struct msd_sim_client, link);
		if (c->id == id) {
			c->refs++;
			return c;
		}
	}
	c = msd_sim_calloc(dev->drv, 1, sizeof(*c));
	if (!c)
		return NULL;
	c->id = id;
	c->refs = 1;
	msd_sim_list_add_tail(&dev->clients, &c->link);
	return c;
}

/* msd_sim_client_put_locked - drop a reference to @c; the last frees it. */
void msd_sim_client_put_locked(struct msd_sim_device *dev, struct msd_sim_client *c)
{
	msd_sim_mutex_assert_held(&dev->lock);
	if (--c->refs)
		return;
	msd_sim_list_del(&c->link);
	free(c);
}

/*
 * msd_sim_work_check_locked - whether @conn (of @dev) may take @jobs more submissions and @bytes
 * more of inline commands within its own, its client's and the device's bounds: MAGMA_STATUS_OK, or
 * MAGMA_STATUS_MEMORY_ERROR naming the bound.
 */
magma_status_t msd_sim_work_check_locked(struct msd_sim_device *dev,
					 struct msd_sim_connection *conn, uint32_t jobs,
					 uint64_t bytes)
{
	const struct msd_sim_work_limits *l = &dev->work_limits;
	struct msd_sim_client *c = conn->client;

	msd_sim_mutex_assert_held(&dev->lock);
	if (conn->jobs + jobs > l->connection_jobs)
		return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR, "%u submissions outstanding",
				   conn->jobs);
	if (conn->inline_bytes + bytes > l->connection_bytes)
		return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR,
				   "connection holds %" PRIu64 " bytes of inline commands",
				   conn->inline_bytes);
	if (c->jobs + jobs > l->client_jobs || c->inline_bytes + bytes > l->client_bytes)
		return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR,
				   "client %" PRIu64 " holds %u submissions, %" PRIu64
				   " bytes of inline commands",
				   (uint64_t)c->id, c->jobs, c->inline_bytes);
	if (dev->work_jobs + jobs > l->device_jobs ||
	    dev->work_inline_bytes + bytes > l->device_bytes)
		return MSD_SIM_RET(MAGMA_STATUS_MEMORY_ERROR,
				   "device holds %u submissions, %" PRIu64
				   " bytes of inline commands",
				   dev->work_jobs, dev->work_inline_bytes);
	return MAGMA_STATUS_OK;
}

/* msd_sim_work_add_locked - count work msd_sim_work_check_locked allowed. */
void msd_sim_work_add_locked(struct msd_sim_device *dev, struct msd_sim_connection *conn,
			     uint32_t jobs, uint64_t bytes)
{
	msd_sim_mutex_assert_held(&dev->lock);
	conn->jobs += jobs;
	conn->inline_bytes += bytes;
	conn->client->jobs += jobs;
	conn->client->inline_bytes += bytes;
	dev->work_jobs += jobs;
	dev->work_inline_bytes += bytes;
}

/* msd_sim_work_sub_locked - give back what msd_sim_work_add_locked counted. */
void msd_sim_work_sub_locked(struct msd_sim_device *dev, struct msd_sim_connection *conn,
			     uint32_t jobs, uint64_t bytes)
{
	msd_sim_mutex_assert_held(&dev->lock);
	conn->jobs -= jobs;
	conn->inline_bytes -= bytes;
	conn->client->jobs -= jobs;
	conn->client->inline_bytes -= bytes;
	dev->work_jobs -= jobs;
	dev->work_inline_bytes -= bytes;
}
