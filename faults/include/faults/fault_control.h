/* SPDX-License-Identifier: MIT */
/*
 * fault_control.h - the control socket of a process that serves fault devices (magma-simd
 * --control PATH): live fault-injection sessions (docs/fault-injection.md, "Live sessions").
 *
 * A Unix stream socket; one request per connection: the client writes one JSON object on one
 * line, the server answers one JSON object on one line and closes. Requests: {"cmd":"status"},
 * {"cmd":"dump"}, {"cmd":"inject","plan":PLAN,"file":NAME,"device":N} (PLAN a plan's text or
 * object; "file" names it in errors; "device" optional: every device) and
 * {"cmd":"clear","device":N}. Every answer has "ok"; a refused request has "error".
 *
 * Threading: one thread serves the socket, one client at a time (each request is short: no
 * request waits on the GPU). Ownership: the fault devices are borrowed and must outlive
 * fault_control_stop.
 */
#ifndef FAULTS_FAULT_CONTROL_H
#define FAULTS_FAULT_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fault_control;
struct fault_device;

/* clang-format off */
#define FAULT_CONTROL_MAX_REQUEST (1u << 20) /* bytes of one request line */
/* clang-format on */

/*
 * fault_control_start - listen at @path (mode 0600; a stale socket there is replaced, anything
 * else refused) and serve @count devices @fdevs (device N is @fdevs[N]). NULL with the reason in
 * @error (@size bytes) on failure.
 */
struct fault_control *fault_control_start(const char *path, struct fault_device *const *fdevs,
					  uint32_t count, char *error, size_t size);

/* fault_control_stop - stop serving, remove the socket, free @ctl (NULL is a no-op). */
void fault_control_stop(struct fault_control *ctl);

#ifdef __cplusplus
}
#endif

#endif /* FAULTS_FAULT_CONTROL_H */
