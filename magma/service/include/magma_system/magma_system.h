/* SPDX-License-Identifier: MIT */
/*
 * magma_system.h - the gpu-agnostic Magma service: serves device channels for one MSD device.
 *
 * A struct magma_system_device owns an MSD driver and device (msd.h) created from a platform
 * device pointer (for msd-sim a struct sim_device *, which the caller keeps alive until
 * magma_system_device_destroy returns). Each device channel handed to
 * magma_system_device_serve() (a connected Unix stream socket, the other end of what the client
 * passes to magma_device_import) is served by its own thread; every connection created over a
 * channel runs on a thread of its own (wire.h describes the protocol). Several devices may live in
 * one process; there is no global state here (see embedded.h for the one deliberate exception).
 */
#ifndef MAGMA_SYSTEM_MAGMA_SYSTEM_H
#define MAGMA_SYSTEM_MAGMA_SYSTEM_H

#include <stdint.h>

#include <lib/magma/magma_common_defs.h>

#if defined(__cplusplus)
extern "C" {
#endif

/*
 * Service-private debug queries (magma_device_query ids answered by magma_system itself, never
 * passed to the MSD). Chosen far above the vendor range any MSD of ours uses.
 */
#define MAGMA_SYSTEM_QUERY_CONNECTION_COUNT ((uint64_t)0x6d730001) /* live connections */
#define MAGMA_SYSTEM_QUERY_CHANNEL_COUNT    ((uint64_t)0x6d730002) /* channels not yet reaped */

struct magma_system_device;

/*
 * Creates the MSD driver and device for @platform_device and the service around them. NULL on
 * failure (nothing is left allocated). The caller owns the result.
 */
struct magma_system_device *magma_system_device_create(void *platform_device);

/*
 * Serves @fd (a connected stream socket; ownership passes to the device on success and failure)
 * on a new thread. The client must complete its handshake within 2 s or is hung up on. Returns 0
 * or -errno (-ESHUTDOWN once destroy began, -EMFILE past 1024 open channels).
 */
int magma_system_device_serve(struct magma_system_device *dev, int fd);

/*
 * The performance-counter access token: a new fd (close-on-exec; the caller owns it) referring
 * to the device's token file, which the device creates at magma_system_device_create (a memfd
 * named "magma-perf-token"). Handing it to magma_connection_enable_performance_counter_access
 * grants access; an fd to any other file is ACCESS_DENIED. Returns the fd or -errno. Any thread.
 */
int magma_system_device_perf_token(struct magma_system_device *dev);

/*
 * Creates the file @path (mode 0600; an existing file is unlinked first) and makes it the
 * device's token instead of the previous one, which stops granting access. A daemon publishes
 * the token this way so that exactly the users allowed to open @path can enable counters.
 * Returns 0 or -errno. Any thread; the file is not removed at destroy.
 */
int magma_system_device_publish_perf_token(struct magma_system_device *dev, const char *path);

/* Connections currently open (their threads not finished). Any thread. */
uint32_t magma_system_device_connection_count(struct magma_system_device *dev);

/*
 * Shuts down every channel and connection (their peers see a hang-up), joins every thread,
 * releases every MSD object in the documented order and destroys the MSD device and driver.
 * Must not be called from a service thread. NULL is a no-op.
 */
void magma_system_device_destroy(struct magma_system_device *dev);

#if defined(__cplusplus)
}
#endif

#endif /* MAGMA_SYSTEM_MAGMA_SYSTEM_H */
