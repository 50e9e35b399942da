/* SPDX-License-Identifier: MIT */
/*
 * embedded.h - the embedded device: the whole stack (sim GPU, msd-sim, magma_system) on threads
 * inside the calling process, reached through an ordinary connected socket.
 *
 * magma_system_embedded_create builds a simulated GPU (sim_create), the msd-sim driver and device
 * on it, and a magma_system device serving them; every magma_system_embedded_connect returns a
 * new device channel (one end of a socketpair whose other end the service serves on a thread),
 * which the client passes to magma_device_import. Several embedded devices may coexist.
 *
 * magma_sim_embedded_open is the convenience the tests and the conformance suite use by default.
 * It is the single deliberate process-wide object of the service: created lazily on first call,
 * destroyed at exit (atexit). A child created by fork() does not inherit the service's threads,
 * so a call from a child creates a fresh device for that process; the parent's copy is never
 * touched there.
 */
#ifndef MAGMA_SYSTEM_EMBEDDED_H
#define MAGMA_SYSTEM_EMBEDDED_H

#include <stdbool.h>
#include <stdint.h>

#if defined(__cplusplus)
extern "C" {
#endif

struct sim_config;
struct magma_system_embedded;
struct magma_system_limits;

/*
 * Creates an embedded device from @cfg (copied; NULL = the sim's defaults; its log_mask gains
 * magma_system_sim_log_mask() at the log level of the moment). NULL on failure.
 * When MAGMA_SIM_FAULTS names a fault plan (docs/fault-injection.md) the device applies it; a plan
 * that cannot be read or applied is reported on stderr (file, line, field) and gives NULL.
 * The caller owns it (magma_system_embedded_destroy). The service's limits are the defaults
 * (magma_system.h); every client of an embedded device is this one process. Imported buffers
 * are mapped into the process at import and hold no fd in the service: client and service share
 * one fd table, and the client already holds one per buffer.
 */
struct magma_system_embedded *magma_system_embedded_create(const struct sim_config *cfg);

/* magma_system_embedded_create with the service's @limits (copied; NULL: the defaults). */
struct magma_system_embedded *
magma_system_embedded_create_limited(const struct sim_config *cfg,
				     const struct magma_system_limits *limits);

/*
 * magma_system_embedded_create_limited with MAGMA_SYSTEM_DEVICE_* @flags (magma_system.h).
 * POLICY_ON_GPU_TIME: trace replay uses it so that a slow host adds no power-downs and so no GPU
 * cycles. MAP_BUFFERS_ON_USE: an imported buffer costs the driver an fd (a second one in this
 * process, besides the client's) until the GPU maps it, instead of a host mapping from import:
 * for a process holding more buffers than vm.max_map_count (65530 by default) lets it map
 * (bench-scale's buffers curve), which then needs two fds a buffer.
 */
struct magma_system_embedded *
magma_system_embedded_create_flags(const struct sim_config *cfg,
				   const struct magma_system_limits *limits, uint32_t flags);

/*
 * The SIM_LOG_* classes (sim.h) a sim built now should print at the service's log level
 * (magma_system_log_level): none by default, guest errors and uses of what the model leaves out
 * (SIM_LOG_UNIMP) from warn,
 * resets and power changes too at debug. The embedded device and magma-simd add them to the
 * configuration of every sim they create.
 */
uint32_t magma_system_sim_log_mask(void);

/*
 * Returns a new connected device-channel fd (close-on-exec; the caller owns it, typically handing
 * it to magma_device_import), or -errno.
 */
int magma_system_embedded_connect(struct magma_system_embedded *emb);

/* The embedded device's struct magma_system_device (for debug queries in tests). */
struct magma_system_device *magma_system_embedded_device(struct magma_system_embedded *emb);

/*
 * A new fd (close-on-exec; the caller owns it) to the device's performance-counter access token,
 * the memfd "magma-perf-token" the device created: passing it to
 * magma_connection_enable_performance_counter_access grants access. Returns the fd or -errno.
 */
int magma_system_embedded_perf_token(struct magma_system_embedded *emb);

/*
 * magma_system_embedded_hold - with @hold, pause the GPU (sim_set_hold): submissions are taken
 * and written to rings but nothing runs. Releasing first lets the driver write every job that
 * can go (msd_sim_device_settle), then lets the GPU run, so work submitted while held starts
 * together whatever the host threads' timing. Trace replay under --perturb holds the GPU between
 * the calls that wait for it. Not from a service thread.
 */
void magma_system_embedded_hold(struct magma_system_embedded *emb, bool hold);

/*
 * magma_system_embedded_quiesce - wait until the device has done all it can without its clients:
 * the driver settled (msd_sim_device_settle: interrupts handled, released jobs written), the GPU
 * quiescent (sim_is_quiescent) and its interrupt line low, all at once. Work blocked on a
 * semaphore or memory only a client will signal or write stays blocked. Returns 0, or
 * -ETIMEDOUT after @timeout_ns of host time. With the GPU held it returns at once (0). Not from
 * a service thread.
 */
int magma_system_embedded_quiesce(struct magma_system_embedded *emb, uint64_t timeout_ns);

/*
 * Shuts every channel and connection down (clients still holding fds see a hang-up), joins every
 * service thread and frees the service, driver and sim. Does not wait for clients. NULL is a
 * no-op. Not from a service thread.
 */
void magma_system_embedded_destroy(struct magma_system_embedded *emb);

/*
 * A new device channel to the process-wide embedded device (created on first use with default
 * configuration, destroyed at exit). Returns the fd (caller owns it) or -errno. Thread-safe.
 */
int magma_sim_embedded_open(void);

/*
 * A new fd to the performance-counter access token of the process-wide embedded device (created
 * on first use like magma_sim_embedded_open). Returns the fd (caller owns it) or -errno.
 * Thread-safe.
 */
int magma_sim_embedded_perf_token(void);

#if defined(__cplusplus)
}
#endif

#endif /* MAGMA_SYSTEM_EMBEDDED_H */
