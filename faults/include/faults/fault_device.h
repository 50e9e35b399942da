/* SPDX-License-Identifier: MIT */
/*
 * fault_device.h - a fault plan applied to one simulated device (docs/fault-injection.md).
 *
 * The embedded device and magma-simd build each device from a sim GPU, the msd-sim driver and a
 * magma_system service. A struct fault_device joins a plan's trigger engine to the three: it
 * installs the service's hooks (connections, calls, submissions, service allocations), msd-sim's
 * vendor hooks (job starts, driver allocations) and, when the plan counts cycles or GPU
 * accesses, a subscription to the sim's event stream; it reports what they see to the engine and
 * applies every fault that fires. Faults of the model (MMU and permission faults, CP hangs, DMA
 * errors) are armed at the start of the target's next job on the queue and address-space slot
 * that job uses; the device-wide ones (reset failure, IRQ delay and loss, model allocation
 * failure) at once; fail_call and fail_alloc answer the hook they fired in; kill_client asks
 * the service to kill the client. Each firing is counted and logged to stderr in one line, at
 * every log level but off (magma_system.h: MAGMA_SYSTEM_QUIET, MAGMA_SIM_LOG=off).
 *
 * A control client (magma-simd --control, faults/fault_control.h) may arm more plans while the
 * device serves (fault_device_arm), disarm them all (fault_device_clear) and read what happened
 * (fault_device_describe): every connection the device opened and every firing, with when it
 * fired, took effect, was detected and was recovered from.
 *
 * Lifetime, against the device it serves: create after magma_system_device_create and before
 * the device serves its first channel; fault_device_stop before magma_system_device_destroy
 * (it ends the thread that applies deferred faults and leaves the sim's event stream);
 * fault_device_destroy after magma_system_device_destroy and before sim_destroy. Any thread.
 */
#ifndef FAULTS_FAULT_DEVICE_H
#define FAULTS_FAULT_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "faults/fault_plan.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cJSON;
struct fault_device;
struct magma_system_device;
struct sim_device;

/*
 * fault_device_create - apply @plan (borrowed: it must outlive the fault device; already passed
 * fault_plan_check_device; NULL: none yet, for a device whose plans come later by
 * fault_device_arm) to the device made of @sim and @dev. @label names the device in log
 * lines ("embedded", "magma0"; copied). Returns NULL when memory or a thread runs out.
 */
struct fault_device *fault_device_create(const struct fault_plan *plan, const char *label,
					 struct sim_device *sim, struct magma_system_device *dev);

/*
 * fault_device_stop - leave the sim's event stream and end the thread that applies what cycle
 * and access triggers fire (after it applied what was already queued); a later such firing is
 * logged as never applied. Hooks of the service and the driver keep working until destroy.
 * NULL or a second call is a no-op.
 */
void fault_device_stop(struct fault_device *fdev);

/* fault_device_destroy - stop if needed and free @fdev (NULL is a no-op). */
void fault_device_destroy(struct fault_device *fdev);

/* fault_device_fired - how many times faults of its plans have fired so far, all together. */
uint64_t fault_device_fired(struct fault_device *fdev);

/*
 * fault_device_arm - arm @plan (already passed fault_plan_check_device) too, with counts of its
 * own from now on, while the device serves; ownership of @plan passes on success (freed at
 * destroy). 0, -EINVAL, -ENOSPC after 64 plans in the device's life, -ENOMEM. Any thread.
 */
int fault_device_arm(struct fault_device *fdev, struct fault_plan *plan);

/*
 * fault_device_clear - disarm every plan armed so far (their events no longer count) and drop
 * firings still waiting for a job (logged as never applied). Returns how many faults were
 * disarmed that could still have fired. Any thread.
 */
uint32_t fault_device_clear(struct fault_device *fdev);

/* fault_device_armed - how many armed faults (not cleared) can still fire: a fault with "times"
 * N is spent after N firings. */
uint32_t fault_device_armed(struct fault_device *fdev);

/*
 * fault_device_describe - add the device's state to the cJSON object @out: label, cycle,
 * bus_frames, connections {open, opened}, faults {armed, fired}, live (magma_system_device_usage
 * by resource name) and, with @dump, connection_log and firings (docs/fault-injection.md, "Live
 * sessions"). False when memory ran out (@out then holds part of it). Any thread.
 */
bool fault_device_describe(struct fault_device *fdev, struct cJSON *out, bool dump);

#ifdef __cplusplus
}
#endif

#endif /* FAULTS_FAULT_DEVICE_H */
