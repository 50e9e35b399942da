/* SPDX-License-Identifier: MIT */
/*
 * fault_test_client.h - what the fault-device tests share: an embedded device created with a
 * fault plan (through MAGMA_SIM_FAULTS, as a user would), and a small magma.h client that
 * submits inline SIM-1 commands and waits for them with generous deadlines.
 *
 * Everything the client does goes through magma.h; the device is reached through
 * magma_system/embedded.h. No helper bounds real elapsed time from above.
 */
#ifndef FAULT_TEST_CLIENT_H
#define FAULT_TEST_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <lib/magma/magma.h>

/* clang-format off */
#define FTC_VA          0x10000000ull /* where a client maps its buffer */
#define FTC_BUFFER_SIZE 0x10000ull
#define FTC_DEADLINE_NS (60ull * 1000000000ull) /* "soon" on a loaded machine */
/* clang-format on */

struct magma_system_embedded;

/*
 * ftc_write_plan - writes @json to a new file under $TMPDIR (or /tmp) and returns its path
 * (static storage, overwritten by the next call); NULL on failure.
 */
const char *ftc_write_plan(const char *json);

/*
 * ftc_embedded - an embedded device created with MAGMA_SIM_FAULTS set to a file holding @json
 * (NULL: no plan); the variable is unset again before returning. NULL when creation fails.
 */
struct magma_system_embedded *ftc_embedded(const char *json);

/* ftc_import - a new device channel of @emb imported as a magma device; 0 on failure. */
magma_device_t ftc_import(struct magma_system_embedded *emb);

/* A client connection with a context, a semaphore and a buffer mapped at FTC_VA. */
struct ftc_client {
	magma_connection_t conn;
	uint32_t ctx;
	magma_buffer_t buf;
	magma_buffer_id_t buf_id;
	magma_semaphore_t sem;
	magma_semaphore_id_t sem_id;
	volatile uint32_t *cpu; /* the buffer, mapped here */
};

/* ftc_open - opens @c on @dev; MAGMA_STATUS_OK or the first error (then @c is closed). */
magma_status_t ftc_open(magma_device_t dev, struct ftc_client *c);

/* ftc_close - releases everything of @c (harmless after the connection died). */
void ftc_close(struct ftc_client *c);

/*
 * ftc_write - submits inline commands that write @value to word @index of the buffer and then
 * signal the semaphore (reset first). Returns the submission's (feed-forward) status.
 */
magma_status_t ftc_write(struct ftc_client *c, uint32_t index, uint32_t value);

/* ftc_fill - the same with a FILL of @words words of @value from word @index (the copy engine). */
magma_status_t ftc_fill(struct ftc_client *c, uint32_t index, uint32_t words, uint32_t value);

/*
 * ftc_dispatch - the same with a DISPATCH of @groups workgroups of a kernel that does nothing
 * (written to the buffer's last page, which is mapped executable).
 */
magma_status_t ftc_dispatch(struct ftc_client *c, uint32_t groups);

/*
 * ftc_wait - waits for the last submission: MAGMA_STATUS_OK once the semaphore is signaled, the
 * status the connection was closed with when it dies first, MAGMA_STATUS_TIMED_OUT after
 * FTC_DEADLINE_NS.
 */
magma_status_t ftc_wait(struct ftc_client *c);

/*
 * ftc_wait_error - flushes until the connection reports an error (returned) or FTC_DEADLINE_NS
 * pass (MAGMA_STATUS_OK).
 */
magma_status_t ftc_wait_error(struct ftc_client *c);

/*
 * ftc_fault_code - the fault_code of the first MAGMA_SIM_NOTIFY_FAULT on @c's notification
 * channel (the driver's report before it kills a context; MAGMA_SIM_FAULT_HANG for a hang), or 0
 * when none is there.
 */
uint32_t ftc_fault_code(struct ftc_client *c);

/* ftc_faults_fired - MAGMA_SYSTEM_QUERY_FAULTS_FIRED of @dev (~0 on failure). */
uint64_t ftc_faults_fired(magma_device_t dev);

/* ftc_connect - a Unix stream socket connected to @path (a daemon's device or control socket),
 * or -1. */
int ftc_connect(const char *path);

/* A magma-simd of a test's own, with a control socket: DIR/magma0 and DIR/control. */
struct ftc_daemon {
	char dir[32], sock[64], ctl[64];
	pid_t pid;
};

/*
 * ftc_daemon_start - start @simd_path --dir DIR --foreground --quiet --control DIR/control in a
 * new directory under /tmp named after @prefix, and wait (FTC_DEADLINE_NS at most) until both
 * sockets exist. False when it did not come up.
 */
bool ftc_daemon_start(struct ftc_daemon *d, const char *simd_path, const char *prefix);

/* ftc_daemon_stop - SIGTERM, then its wait status (-1: it had to be killed); removes DIR. */
int ftc_daemon_stop(struct ftc_daemon *d);

/*
 * ftc_run - runs @argv (argv[0] a path) with stdout and stderr into @out (NUL-terminated, at most
 * @size - 1 bytes); its exit status, or -1 when it did not exit (killed after FTC_DEADLINE_NS).
 */
int ftc_run(char *const argv[], char *out, size_t size);

/* ftc_now_ns - CLOCK_MONOTONIC in ns. */
uint64_t ftc_now_ns(void);

/* ftc_wait_child - waits for child @pid up to FTC_DEADLINE_NS: its wait status, or -1 (then it
 * is killed and reaped). */
int ftc_wait_child(pid_t pid);

#endif /* FAULT_TEST_CLIENT_H */
