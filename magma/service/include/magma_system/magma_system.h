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
 * A device layer may install hooks (struct magma_system_hooks) that see connections, calls,
 * submissions and allocations as the service does, fail them and kill clients: that is how fault
 * plans reach a device, with no GPU knowledge in the service.
 */
#ifndef MAGMA_SYSTEM_MAGMA_SYSTEM_H
#define MAGMA_SYSTEM_MAGMA_SYSTEM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

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
/* Faults of the device's fault plan that fired so far (0 without a plan; hooks.faults_fired). */
#define MAGMA_SYSTEM_QUERY_FAULTS_FIRED	    ((uint64_t)0x6d730004)
/*
 * The device's instance number (magma_system_device_instance; wire.h's
 * WIRE_QUERY_DEVICE_INSTANCE): what a client's trace and a daemon's trace both name the device by.
 */
#define MAGMA_SYSTEM_QUERY_INSTANCE	    ((uint64_t)0x6d730005)

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
 * Logging (docs/devices.md, "Logs"). The service writes diagnostic lines to stderr, each with a
 * MAGMA_LOG_* severity (magma_common_defs.h: ERROR 1, WARNING 2, INFO 3, DEBUG 4), and prints a
 * line when its severity is at most the log level; MAGMA_SYSTEM_LOG_OFF prints nothing. The level
 * is, first match wins: OFF when the environment variable MAGMA_SYSTEM_QUIET is set; the level a
 * program chose with magma_system_set_log_level (magma-simd --verbose); MAGMA_SIM_LOG (off,
 * error, warn, info or debug); else MAGMA_LOG_ERROR, so by default only what a user must see is
 * printed. The driver's lines (msd.h's log callback) keep their own severities; client mistakes
 * and GPU faults are warnings; the devices this stack builds also make the GPU model print its
 * guest errors from warn and its resets and power changes at debug (magma_system_sim_log_mask,
 * embedded.h). The environment is read at each line, so a change applies at once.
 */
#define MAGMA_SYSTEM_LOG_OFF 0

/* The log level now (see above): MAGMA_SYSTEM_LOG_OFF or a MAGMA_LOG_* severity. Any thread. */
int magma_system_log_level(void);

/*
 * Makes @level (OFF or a MAGMA_LOG_* severity; values past DEBUG are DEBUG) the level of this
 * process, over MAGMA_SIM_LOG; a negative @level goes back to the environment. Any thread.
 */
void magma_system_set_log_level(int level);

/*
 * Parses a level name: "off", "error", "warn" (or "warning"), "info", "debug", or the digits 0-4.
 * 0 with the level in *@level_out, or -1 for anything else.
 */
int magma_system_log_level_parse(const char *name, int *level_out);

/* The name of @level ("off", "error", "warn", "info", "debug"). Pure. */
const char *magma_system_log_level_name(int level);

/*
 * Flags of magma_system_device_create_limited. MAP_BUFFERS_ON_USE asks the driver to map an
 * imported buffer into this process only when it first needs the memory (a GPU mapping), holding
 * its fd until then, instead of mapping it at import and holding no fd: for a service shared by
 * many client processes (magma-simd), where a buffer nobody maps should cost no host mapping.
 */
#define MAGMA_SYSTEM_DEVICE_MAP_BUFFERS_ON_USE 1u
/*
 * POLICY_ON_GPU_TIME: the driver times its policies (power-down, clock scaling, aging) by GPU
 * cycles, not host time (MSD_DRIVER_CONFIG_POLICY_ON_GPU_TIME): the same calls give the same GPU
 * cycles however slow the host is. For trace replay.
 */
#define MAGMA_SYSTEM_DEVICE_POLICY_ON_GPU_TIME 2u

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

/*
 * Hooks: what a device layer (the embedded device, magma-simd) installs to watch the service and
 * steer it, for fault injection (faults/fault_device.c). They see clients as the service does -
 * connection numbers, client processes, messages and the msd.h entry points they call - and
 * nothing of the GPU, so the service stays gpu-agnostic.
 *
 * A site says where a hook is called from: a connection, or a device channel before any
 * connection exists (@connection 0, @msd NULL: msd_device_query, msd_device_open, the
 * connection's own allocation).
 */
struct msd_connection_t;
struct msd_device_t;
struct msd_driver_t;

struct magma_system_site {
	uint64_t connection; /* its number on the device (1 = first opened); 0: a channel */
	uint64_t id_base;    /* the connection's first block of object ids (wire.h, "Ids"): what
				the client's libmagma also knows it by; 0: a channel */
	pid_t pid;	     /* the client process (SO_PEERCRED), 0 when unknown */
	const char *comm;    /* that process's name (/proc/PID/comm), "" when unknown */
	struct msd_connection_t *msd; /* the connection's MSD connection; NULL for a channel */
	uint32_t context;	      /* the message's context id (the client's), 0: none */
	const char *call;	      /* the msd.h entry point the message calls; NULL: none */
};

/*
 * Every member may be NULL. Hooks run on the service's threads (a channel's or a connection's)
 * with no service lock held, and may call magma_system_device_kill_client; they must not block.
 *
 * connection_opened - on the connection's thread, before its first message is handled.
 * connection_ended - on the connection's thread, as soon as it ends, before anything is
 *   released: @status is what it ends with (MAGMA_STATUS_OK: its client closed it or hung up;
 *   else the first error, e.g. MAGMA_STATUS_CONTEXT_KILLED from the driver).
 * connection_closed - on the connection's thread, after every object was released and the MSD
 *   connection closed (@site->msd is then only a name).
 * call - a valid message is about to be dispatched (the service's debug queries excepted):
 *   MAGMA_STATUS_OK to go on, or a status the service then treats as what @site->call returned,
 *   without calling it (for a message that calls several, the first).
 * submission - command buffers or a batch of inline commands are about to reach the driver
 *   (after call let them through).
 * alloc - the service is about to allocate at one of its failure points (connection creation,
 *   importing a buffer or a semaphore, creating a context, a submission's arrays):
 *   MAGMA_STATUS_OK to go on, or the status the failed allocation ends the request with
 *   (MAGMA_STATUS_MEMORY_ERROR is what running out of memory there gives).
 * faults_fired - the answer to MAGMA_SYSTEM_QUERY_FAULTS_FIRED.
 * notification - on a driver thread (driver locks may be held; must not block or call the
 *   driver or the service): the driver's own notification payload (a CHANNEL_SEND, @size bytes)
 *   is about to be queued for the client of @site's connection.
 */
struct magma_system_hooks {
	void *ctx;
	void (*connection_opened)(void *ctx, const struct magma_system_site *site);
	void (*connection_ended)(void *ctx, const struct magma_system_site *site,
				 magma_status_t status);
	void (*connection_closed)(void *ctx, const struct magma_system_site *site);
	magma_status_t (*call)(void *ctx, const struct magma_system_site *site);
	void (*submission)(void *ctx, const struct magma_system_site *site);
	magma_status_t (*alloc)(void *ctx, const struct magma_system_site *site);
	uint64_t (*faults_fired)(void *ctx);
	void (*notification)(void *ctx, const struct magma_system_site *site, const void *data,
			     uint32_t size);
};

/*
 * Installs @hooks (copied; NULL removes them). Only before the device serves its first channel:
 * the service's threads read them without a lock.
 */
void magma_system_device_set_hooks(struct magma_system_device *dev,
				   const struct magma_system_hooks *hooks);

/*
 * The hooks installed now into *@hooks_out (all NULL when none), for a second device layer that
 * installs its own in front of them and passes every call on (magma-simd --trace behind a fault
 * plan). Same rule as set_hooks: before the device serves.
 */
void magma_system_device_get_hooks(struct magma_system_device *dev,
				   struct magma_system_hooks *hooks_out);

/*
 * Kills with SIGKILL the client process of connection @connection (its channel's SO_PEERCRED
 * pid), or with @connection 0 the client process @pid, which must hold a channel or a
 * connection of @dev (a site of a device channel names no connection). A connection whose
 * process the service cannot kill without killing itself (its own: the embedded device) or whose
 * pid is unknown is shut down instead (the client sees MAGMA_STATUS_CONNECTION_LOST). Returns 0
 * when killed, 1 when shut down instead, -ESRCH when no live connection or client matches,
 * -EPERM when @pid is this process, or -errno from kill(). Any thread, a hook included.
 */
int magma_system_device_kill_client(struct magma_system_device *dev, uint64_t connection,
				    pid_t pid);

/*
 * The MSD driver and device @dev created and owns, for a device layer that also knows the MSD
 * (to install the driver's own vendor hooks before serving). NULL for a bad @dev.
 */
struct msd_driver_t *magma_system_device_msd_driver(struct magma_system_device *dev);
struct msd_device_t *magma_system_device_msd_device(struct magma_system_device *dev);

/*
 * What the device's clients hold right now, for all of them together: @used[r] for each struct
 * magma_system_resource r (what limits are checked against; all 0 once every client is gone).
 * Any thread.
 */
void magma_system_device_usage(struct magma_system_device *dev,
			       uint64_t used[MAGMA_SYSTEM_RES_COUNT]);

/* Connections currently open (their threads not finished). Any thread. */
uint32_t magma_system_device_connection_count(struct magma_system_device *dev);

/*
 * The device's instance number: nonzero, random (getrandom), fixed from create to destroy, so
 * two devices (or two runs of a daemon) almost surely differ. Clients read it with the debug
 * query MAGMA_SYSTEM_QUERY_INSTANCE. 0 for a bad @dev. Any thread.
 */
uint64_t magma_system_device_instance(struct magma_system_device *dev);

/*
 * Makes @instance (nonzero; 0 is ignored) the device's instance number instead of the random
 * one, for a host that names the device before creating it (magma-simd --trace writes it into
 * its trace's header before the device exists). Only before the device serves its first channel.
 */
void magma_system_device_set_instance(struct magma_system_device *dev, uint64_t instance);

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
