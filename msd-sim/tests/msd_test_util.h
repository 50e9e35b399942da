/* SPDX-License-Identifier: MIT */
/*
 * msd_test_util.h - fixtures for the msd-sim tests: a sim device with the driver on it, client
 * buffers and semaphores the way magma_system would pass them (memfds and eventfds), a register
 * access recorder on the sim's event stream, a notification collector and a log capture.
 * Test code only: single test thread plus whatever threads the driver runs.
 */
#ifndef MSD_TEST_UTIL_H
#define MSD_TEST_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "magma_sim_defs.h"
#include "msd/msd.h"
#include "sim/sim.h"

#define MT_MAX_EVENTS 4096
#define MT_MAX_NOTES  64
#define MT_LOG_SIZE   65536

struct mt_reg {
	bool write;
	uint32_t offset;
	uint32_t value;
};

struct mt_note {
	uint64_t type;
	uint32_t size;
	uint8_t data[64];
	uint64_t pool_id, buffer_id;
	uint32_t trigger_id, buffer_offset, result_flags;
};

struct mt {
	struct sim_device *sim;
	struct msd_driver_t *drv;
	struct msd_device_t *dev;
	bool threaded;
	/* register recorder (sim event subscriber; runs under the sim lock) */
	int sub;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct mt_reg regs[MT_MAX_EVENTS];
	uint32_t nregs;
	struct mt_note notes[MT_MAX_NOTES];
	uint32_t nnotes;
	char log[MT_LOG_SIZE];
	size_t log_len;
};

/* A client buffer: the client's own mapping plus the driver's import of a dup of the memfd. */
struct mt_buf {
	int fd;
	void *host;
	uint64_t size;
	struct msd_buffer_t *buf;
};

/* A client semaphore: the client's eventfd plus the driver's import of a dup. */
struct mt_sem {
	int fd;
	struct msd_semaphore_t *sem;
};

/*
 * mt_create - sim (defaults) + driver (+ test mode without threads when !@threaded) + device. As
 * the driver's host it runs the sim's clock: threaded, until mt_destroy; in test mode only while
 * the device is created, after which the test steps it.
 */
struct mt *mt_create(bool threaded);
/* mt_create_cfg - the same with a sim configuration (NULL = defaults). */
struct mt *mt_create_cfg(bool threaded, const struct sim_config *cfg);
void mt_destroy(struct mt *t);

/* Buffers and semaphores. */
int mt_buf_create(struct mt *t, uint64_t size, struct mt_buf *b);
void mt_buf_destroy(struct mt_buf *b);
int mt_sem_create(struct mt *t, uint64_t flags, struct mt_sem *s);
void mt_sem_destroy(struct mt_sem *s);
bool mt_fd_readable(int fd, int timeout_ms);
void mt_fd_signal(int fd);

/* Test mode: run the GPU until idle and let the driver handle interrupts, until nothing moves. */
void mt_run(struct mt *t);
/*
 * Test mode: run the GPU in slices of 10 000 cycles, letting the driver handle interrupts after
 * each, until @fd is readable (with @fd < 0: until the GPU and the driver have nothing left to do,
 * as for mt_run). Returns the GPU cycles that took, or UINT64_MAX when it did not happen within
 * @max_cycles (or the GPU ran out of work first): bounds a test in simulated time, whatever the
 * GPU was given.
 */
uint64_t mt_run_cycles(struct mt *t, int fd, uint64_t max_cycles);
/* Either mode: wait until @fd is readable (running the clock in test mode). */
bool mt_wait(struct mt *t, int fd, int timeout_ms);

/* Register recorder. */
void mt_record_start(struct mt *t);
void mt_record_stop(struct mt *t);
/* Writes recorded to offsets in [@lo, @hi), in order, into @out (at most @max). Returns count. */
uint32_t mt_writes_in(struct mt *t, uint32_t lo, uint32_t hi, struct mt_reg *out, uint32_t max);

/* Notifications: installs the collector on @conn. */
void mt_notify_install(struct mt *t, struct msd_connection_t *conn);
/* Waits until at least @n notifications arrived (test mode: runs the device). */
bool mt_notify_wait(struct mt *t, uint32_t n, int timeout_ms);

/* MAGMA_QUERY_TOTAL_TIME's GPU busy time in ns (0 when the query fails). */
uint64_t mt_total_time_ns(struct mt *t);

/* Command buffers: write @words at @b's offset @off. */
void mt_write_words(struct mt_buf *b, uint64_t off, const uint32_t *words, uint32_t count);

/* Submit one command buffer of buffer @b (mapped) bytes [@start, @end). */
magma_status_t mt_exec(struct msd_context_t *ctx, struct mt_buf *b, uint64_t start, uint64_t end,
		       struct mt_sem *wait, struct mt_sem *signal, uint64_t flags);

/*
 * A client: its own connection with one context, a read-write buffer @b mapped at MT_CLIENT_VA,
 * a semaphore @done and, once mt_client_load_program ran, a program buffer @prog mapped
 * executable at MT_CLIENT_PROG_VA. Owned by the test; mt_client_fini releases everything (a
 * NULL @ctx is skipped: the test destroyed it already).
 */
#define MT_CLIENT_VA	  0x200000ull
#define MT_CLIENT_PROG_VA 0x40000000ull
struct mt_client {
	struct msd_connection_t *conn;
	struct msd_context_t *ctx;
	struct mt_buf b, prog;
	struct mt_sem done;
};

/* Connection @id, a context at @prio, a @size-byte buffer; the notification collector if @notify.
 */
int mt_client_init(struct mt *t, struct mt_client *c, uint64_t id, magma_priority_t prio,
		   uint64_t size, bool notify);
void mt_client_fini(struct mt_client *c);
/* The client's view of its buffer at byte @off. */
uint32_t *mt_client_words(struct mt_client *c, uint64_t off);
/* Assemble @src into @c's program buffer (one page); returns the instruction count, 0 on error. */
uint32_t mt_client_load_program(struct mt *t, struct mt_client *c, const char *src);
/*
 * Submit on @ctx the commands at [@start, @end) of @c's buffer, signalling @signal (may be NULL),
 * with its program buffer (when loaded) as a second resource, as a client lists every buffer its
 * job uses: the job then keeps the program mapped even if the client releases it.
 */
magma_status_t mt_client_exec(struct mt_client *c, struct msd_context_t *ctx, uint64_t start,
			      uint64_t end, struct mt_sem *signal);
/* Commands at @off: WRITE32 @va = @value, END. Returns the end offset. */
uint64_t mt_client_put_write(struct mt_client *c, uint64_t off, uint64_t va, uint32_t value);

#endif /* MSD_TEST_UTIL_H */
