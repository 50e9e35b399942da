/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_hooks.h - msd-sim's vendor extension for the code that creates its devices.
 *
 * msd.h is what the gpu-agnostic service sees of a driver. A device layer that also owns the
 * simulated GPU (the embedded device, magma-simd) needs a little more to aim the GPU model's
 * injected faults at one client's work and to fail the driver's own allocations
 * (faults/fault_device.c): where and when each job starts on the hardware, which submission
 * number a connection's next job gets, and a say in every driver allocation. That is this
 * header. The objects are msd.h's; the calls check their magic and ignore anything else.
 *
 * What the driver expects of its host, the code that creates the sim (sim_create) and hands it
 * to msd_driver_create_device as the platform device: the driver reaches the GPU only through
 * MMIO, the IRQ eventfd and the bus frames it pins itself, and never starts or stops the GPU's
 * clock. The host runs it, like a board that clocks a GPU before its driver probes it:
 *   sim_create -> sim_start -> msd_driver_create_device ... msd_device_destroy -> sim_stop ->
 *   sim_destroy.
 * The clock must run during msd_driver_create_device (the reset and power-up sequences wait for
 * RESET_DONE and POWER_CHANGED, each at most 10 s of host time, else the device is not created) and
 * all the time the device thread does (interrupts, hang checks, recovery resets). Starting it long
 * before costs nothing: an idle GPU's clock does not advance, so cycle counts and traces are the
 * same. msd_device_destroy leaves the GPU in a hard reset it does not wait for; stop the clock
 * afterwards, never before (a recovery in progress would spend 10 s waiting for a reset that cannot
 * end). In test mode (MSD_DRIVER_CONFIG_TEST_NO_DEVICE_THREAD) the clock must run during
 * msd_driver_create_device only: the test may then stop it and step it itself (sim_clock_step,
 * msd_sim_device_poll).
 *
 * Threading: install hooks before the device has clients (they are read without a lock on hot
 * paths); a hook runs on whichever driver thread reaches its point, possibly with driver locks
 * held, and must not call back into the driver.
 */
#ifndef MSD_SIM_HOOKS_H
#define MSD_SIM_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include "msd/msd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A job of a client about to run: the hardware queue and the MMU address-space slot it uses. */
struct msd_sim_job_start {
	struct msd_connection_t *connection;
	uint32_t context_id; /* the driver's: 1, 2, ... per connection in creation order */
	uint64_t sequence;   /* the connection's submission number (from 1; see below) */
	uint32_t queue;	     /* hardware queue the job's ring entries are on */
	uint32_t as_slot;    /* address-space slot the job runs in */
	bool resubmitted;    /* again after a GPU reset (it started before) */
	/* The ring SEQNOs of the job's entries on @queue (struct sim_inject.seqno_first/last). */
	uint64_t first_seqno, last_seqno;
};

/*
 * Called when a job's ring entries have been written, before the doorbell that starts it, with
 * the device lock held: the hook may arm the GPU model's injection (sim_inject_fault) for that
 * queue or slot, so that the model applies it to this job's commands (or to work of the same
 * queue or address space still running ahead of it).
 */
typedef void (*msd_sim_job_start_fn)(void *ctx, const struct msd_sim_job_start *job);

/* Called before each driver allocation: true makes it fail, as if memory had run out. */
typedef bool (*msd_sim_alloc_fn)(void *ctx);

/* msd_sim_device_set_job_start_hook - install (@fn NULL: remove) @dev's job-start hook. */
void msd_sim_device_set_job_start_hook(struct msd_device_t *dev, msd_sim_job_start_fn fn,
				       void *ctx);

/*
 * msd_sim_device_get_job_start_hook - the hook installed now (*@fn_out NULL: none) and its
 * context, for a host that installs its own in front and calls it on (magma-simd --trace behind a
 * fault plan). Same rule as set: before the device has clients.
 */
void msd_sim_device_get_job_start_hook(struct msd_device_t *dev, msd_sim_job_start_fn *fn_out,
				       void **ctx_out);

/*
 * msd_sim_device_settle - let the device thread do now what it would do on its next wake-up:
 * move held jobs whose wait semaphores are signaled to the scheduler and write every job that
 * can go to its ring. Returns when that is done. For a host that paused the GPU (sim_set_hold)
 * and wants all submitted work on the rings before it lets the GPU run, so that what runs first
 * does not depend on host thread timing. Takes the device lock; not from a hook.
 */
void msd_sim_device_settle(struct msd_device_t *dev);

/*
 * msd_sim_driver_set_alloc_hook - install (@fn NULL: remove) the allocation hook of @drv, which
 * every allocation of the driver and its devices consults.
 */
void msd_sim_driver_set_alloc_hook(struct msd_driver_t *drv, msd_sim_alloc_fn fn, void *ctx);

/*
 * msd_sim_connection_next_sequence - the sequence number (struct msd_sim_job_start) the next
 * submission on @connection will get, or 0 for a bad connection. Exact when called on the thread
 * that submits on @connection, before it submits.
 */
uint64_t msd_sim_connection_next_sequence(struct msd_connection_t *connection);

#ifdef __cplusplus
}
#endif

#endif /* MSD_SIM_HOOKS_H */
