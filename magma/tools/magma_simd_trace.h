/* SPDX-License-Identifier: MIT */
/*
 * magma_simd_trace.h - magma-simd --trace FILE: the device side of every client, recorded by the
 * daemon in the trace format (docs/trace-format.md, "Daemon recording") so that
 * `magma-trace merge` can put it next to a client's own recording.
 *
 * One trace per device: device 0 writes FILE, device N writes FILE.N. Lifetime against the
 * device (magma_simd.c): simd_trace_open before the fork (an unwritable FILE is reported while
 * the daemon can still exit 2), simd_trace_device_created right after sim_create (the driver's
 * bring-up is recorded), simd_trace_attach once the service exists and any fault plan installed
 * its hooks (this one goes in front of them and passes every call on), simd_trace_close after
 * the service is destroyed and the clock stopped, before sim_destroy.
 */
#ifndef MAGMA_SIMD_TRACE_H
#define MAGMA_SIMD_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct magma_system_device;
struct sim_device;
struct simd_trace;

/*
 * simd_trace_path - the file device @index of a daemon started with --trace @path writes, into
 * @out: @path itself for device 0, "@path.N" for device N. False when it does not fit.
 */
bool simd_trace_path(const char *path, unsigned int index, char *out, size_t size);

/*
 * simd_trace_open - create @path (exclusively: a file another writer holds is refused, EBUSY)
 * and write the header of device @index of @devices served at @socket, with a new random
 * instance number that the device's service is to be given (simd_trace_instance). Returns the
 * recorder or NULL with errno set. The header is flushed, so the process may fork right after.
 */
struct simd_trace *simd_trace_open(const char *path, unsigned int index, unsigned int devices,
				   const char *socket);

/* simd_trace_instance - the instance number in @t's header (magma_system_device_set_instance). */
uint64_t simd_trace_instance(const struct simd_trace *t);

/*
 * simd_trace_device_created - start recording @sim's events (the "device" created event, then a
 * "dev" event each, stamped with host time). 0 or -errno (no subscription slot left).
 */
int simd_trace_device_created(struct simd_trace *t, struct sim_device *sim);

/*
 * simd_trace_attach - install the service's and msd-sim's hooks of @dev in front of those
 * installed now: connections opened and closed are recorded (number, client pid, first object
 * id block) and every job's device events name their connection and submission. Before @dev
 * serves its first channel.
 */
void simd_trace_attach(struct simd_trace *t, struct magma_system_device *dev);

/*
 * simd_trace_forget - free @t without writing to its file: in the parent of the fork, whose child
 * records. NULL is a no-op.
 */
void simd_trace_forget(struct simd_trace *t);

/*
 * simd_trace_close - stop recording (the "device" destroyed event), write the end of the trace
 * and free @t. After magma_system_device_destroy (the hooks may run until then). NULL is a no-op.
 */
void simd_trace_close(struct simd_trace *t);

#endif /* MAGMA_SIMD_TRACE_H */
