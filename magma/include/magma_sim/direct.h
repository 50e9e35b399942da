/* SPDX-License-Identifier: MIT */
/*
 * direct.h - libmagma's registry of in-process connection endpoints: how a device hosted in the
 * client's own process (the embedded device) lets libmagma hand requests to the service on the
 * calling thread instead of writing them to the primary channel (no system call, no thread
 * switch). Not for applications: the embedded device registers, libmagma looks up.
 *
 * The host publishes an endpoint under the (st_dev, st_ino) of the service end of a
 * connection's primary socket; libmagma, which made that socket pair, takes the endpoint when
 * the connection is created. Everything else stays on the channels: replies, events, errors and
 * the hang-up still come through the primary socket, so a connection behaves exactly as it does
 * over the socket. Only the process that published an endpoint can take it (a forked child
 * finds none). Exported by libmagma.so, like the trace writer: one registry per process.
 * Thread-safety: every call may be made from any thread.
 */
#ifndef MAGMA_SIM_DIRECT_H
#define MAGMA_SIM_DIRECT_H

#include <stddef.h>
#include <stdint.h>

#include <lib/magma/magma_common_defs.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The endpoint's operations: deliver returns 0, or -EPIPE when its connection is gone. */
struct magma_sim_direct_ops {
	int (*deliver)(void *endpoint, const void *msg, size_t size, const int *fds,
		       uint32_t fd_count);
	void (*put)(void *endpoint); /* drops one reference */
};

/*
 * magma_sim_direct_publish - register @endpoint (one reference passes to the registry; @ops
 * must outlive it) for the socket (@dev, @ino). Returns 0, or -ENOMEM (the reference is dropped).
 */
MAGMA_EXPORT int magma_sim_direct_publish(uint64_t dev, uint64_t ino, void *endpoint,
					  const struct magma_sim_direct_ops *ops);

/* magma_sim_direct_withdraw - forget @endpoint if still registered (drops that reference). */
MAGMA_EXPORT void magma_sim_direct_withdraw(void *endpoint);

/*
 * magma_sim_direct_take - the endpoint registered by this process for (@dev, @ino), removed
 * from the registry with its reference passing to the caller (*@ops_out set), or NULL.
 */
MAGMA_EXPORT void *magma_sim_direct_take(uint64_t dev, uint64_t ino,
					 const struct magma_sim_direct_ops **ops_out);

#ifdef __cplusplus
}
#endif

#endif /* MAGMA_SIM_DIRECT_H */
