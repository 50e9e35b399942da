/* SPDX-License-Identifier: MIT */
/*
 * witness_client.h - magma-witness's magma.h client: a device reached through its socket path,
 * and a session on it (a connection with one context, the data and kernel buffers mapped on the
 * GPU and the CPU, and a semaphore) that runs the round's work of witness_work.h.
 *
 * Everything goes through magma.h and the vendor command stream of magma_sim_defs.h. Waits have
 * a generous deadline (WITNESS_DEADLINE_NS) that only guards against a hang; nothing bounds real
 * time from above otherwise. Single-threaded.
 */
#ifndef WITNESS_CLIENT_H
#define WITNESS_CLIENT_H

#include <stdint.h>

#include <lib/magma/magma.h>

/* clang-format off */
#define WITNESS_DEADLINE_NS (60ull * 1000000000ull) /* "soon" on a loaded machine */
/* clang-format on */

/* A device: the channel imported from a socket path. */
struct witness_device {
	const char *path;    /* the socket, borrowed from the caller */
	magma_device_t dev;  /* 0 while not open */
	uint32_t local_size; /* lanes per workgroup for the kernel (CONFIG0.LANES, at most 32) */
};

/* One connection and everything made on it. All zero when closed. */
struct witness_session {
	magma_connection_t conn;
	uint32_t ctx;
	magma_buffer_t data, code;
	magma_semaphore_t sem;
	magma_semaphore_id_t sem_id;
	uint8_t *data_cpu;     /* the data buffer, mapped here (WITNESS_DATA_SIZE bytes) */
	uint32_t kernel_words; /* instructions of the kernel at WITNESS_CODE_VA */
	uint32_t local_size;
};

/* What the driver reported about a lost round, when it reported anything. */
struct witness_fault {
	uint32_t code;	  /* SIM_FAULT_* or MAGMA_SIM_FAULT_HANG; 0: no fault notification */
	uint64_t address; /* GPU VA */
};

/* witness_fault_name - "MMU_TRANSLATION", "HANG" etc. for a fault notification's code. Pure. */
const char *witness_fault_name(uint32_t code);

/*
 * witness_device_open - connects to the Unix stream socket @wd->path and imports it. Returns
 * MAGMA_STATUS_OK, or the failure: then *@errno_out is the connect error (0 when connecting
 * worked and the import failed) and @wd->dev stays 0.
 */
magma_status_t witness_device_open(struct witness_device *wd, int *errno_out);

/* witness_device_close - releases the device (no-op when closed). */
void witness_device_close(struct witness_device *wd);

/*
 * witness_session_open - a new session on @wd: connection, context, buffers, mappings, the
 * kernel written to its buffer, semaphore. When the device channel itself is lost (the service
 * hung up or did not answer), the device is imported once more and the session tried again.
 * Returns MAGMA_STATUS_OK or the first error (the connection's latched error when there is one);
 * on error @s is left closed.
 */
magma_status_t witness_session_open(struct witness_device *wd, struct witness_session *s);

/* witness_session_close - releases everything of @s; harmless when closed or after a loss. */
void witness_session_close(struct witness_session *s);

/*
 * witness_session_run - submits the round's commands (witness_work_commands) and waits for the
 * semaphore they signal. The caller has prepared the data buffer (witness_work_prepare).
 * MAGMA_STATUS_OK once the work retired; the status the connection closed with when it dies
 * first (with the driver's fault notification, if any, in *@fault_out); MAGMA_STATUS_TIMED_OUT
 * after WITNESS_DEADLINE_NS.
 */
magma_status_t witness_session_run(struct witness_session *s, struct witness_fault *fault_out);

#endif /* WITNESS_CLIENT_H */
