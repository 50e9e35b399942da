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
/* A buffer result holding the device's struct magma_system_limits. */
#define MAGMA_SYSTEM_QUERY_LIMITS	    ((uint64_t)0x6d730003)

/*
 * What the service accounts, per client process and for the device as a whole; a request that
 * would take either count past its limit is refused (docs/devices.md, "Limits").
 */
enum magma_system_resource {
	MAGMA_SYSTEM_RES_CHANNELS,	   /* device channels (a thread and an fd each) */
	MAGMA_SYSTEM_RES_PENDING_CHANNELS, /* channels still before their handshake */
	MAGMA_SYSTEM_RES_CONNECTIONS,	   /* connections (a thread and three fds each) */
	MAGMA_SYSTEM_RES_HANDLES,	   /* imported buffers and semaphores (an fd each) */
	MAGMA_SYSTEM_RES_BUFFER_BYTES,	   /* bytes of imported buffers */
	MAGMA_SYSTEM_RES_RESIDENT_BUFFERS, /* buffers the GPU has mapped (a host mapping each) */
	MAGMA_SYSTEM_RES_MAPPINGS,	   /* GPU mappings */
	MAGMA_SYSTEM_RES_MAPPED_BYTES,	   /* bytes of GPU mappings (bus memory they pin) */
	MAGMA_SYSTEM_RES_COUNT,
};

/* The ceilings a device enforces. magma_system_limits_default fills in the documented ones. */
struct magma_system_limits {
	uint64_t process[MAGMA_SYSTEM_RES_COUNT]; /* for each client process */
	uint64_t device[MAGMA_SYSTEM_RES_COUNT];  /* for all clients together */
	/* A device channel that has not completed its handshake this long after it was served is
	 * closed. */
	uint32_t handshake_timeout_ms;
};

/* Fills @limits with the defaults of docs/devices.md, "Limits". */
void magma_system_limits_default(struct magma_system_limits *limits);

/*
 * The name of @res in options and logs ("channels", "pending-channels", "connections",
 * "handles", "buffer-bytes", "resident-buffers", "mappings", "mapped-bytes"), or NULL past the
 * last one.
 */
const char *magma_system_resource_name(enum magma_system_resource res);

/*
 * Flags of magma_system_device_create_limited. MAP_BUFFERS_ON_USE asks the driver to map an
 * imported buffer into this process only when it first needs the memory (a GPU mapping), holding
 * its fd until then, instead of mapping it at import and holding no fd: for a service shared by
 * many client processes (magma-simd), where a buffer nobody maps should cost no host mapping.
 */
#define MAGMA_SYSTEM_DEVICE_MAP_BUFFERS_ON_USE 1u

struct magma_system_device;

/*
 * Creates the MSD driver and device for @platform_device and the service around them, with the
 * default limits. NULL on failure (nothing is left allocated). The caller owns the result.
 */
struct magma_system_device *magma_system_device_create(void *platform_device);

/*
 * magma_system_device_create with @limits (copied; NULL: the defaults) and
 * MAGMA_SYSTEM_DEVICE_* @flags.
 */
struct magma_system_device *
magma_system_device_create_limited(void *platform_device, const struct magma_system_limits *limits,
				   uint32_t flags);

/*
 * Serves @fd (a connected stream socket; ownership passes to the device on success and failure)
 * on a new thread. The channel, and every connection it creates, is charged to the process the
 * kernel names as @fd's peer (SO_PEERCRED). Returns 0 or -errno: -ESHUTDOWN once destroy began,
 * -EMFILE when the channel would take that process or the device past its limit of channels
 * or of channels before their handshake.
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
