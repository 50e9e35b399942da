/* SPDX-License-Identifier: MIT */
/*
 * fake_service.h - a minimal in-test magma service for libmagma's unit tests (test code only).
 *
 * One thread serves one device channel and at most one connection at a time: it answers the
 * handshake, queries (MAXIMUM_INFLIGHT_PARAMS from @inflight_params, VENDOR_ID 0x1234,
 * TOTAL_TIME as a buffer) and create_connection, records every primary-channel message, answers
 * FLUSH and ENABLE_PERF_ACCESS, and acknowledges messages with WIRE_EVT_MESSAGES_CONSUMED either
 * one by one or only when told. On command it sends WIRE_EVT_ERROR and closes the connection, or
 * hangs up without a word. Real end-to-end behaviour comes from the service's own tests.
 */
#ifndef FAKE_SERVICE_H
#define FAKE_SERVICE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <lib/magma/magma.h>

#include "wire.h"

#define FAKE_MAX_RECORDS 4096

struct fake_record {
	uint32_t type;
	uint32_t size;
	uint32_t fd_count;
	uint64_t words[8]; /* the first 64 bytes after the header */
	uint64_t fd_ino;   /* inode of the first fd received, 0 if none */
};

struct fake_service {
	int client_fd; /* give to magma_device_import */
	int device_fd;
	int primary_fd;
	int notify_fd;
	int pool_fd; /* service end of the last perf pool socket */
	int ctl[2];  /* wakes the thread for commands */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* configuration (set before use, or under lock) */
	uint64_t inflight_params;
	bool ack_each;
	bool refuse_handshake;
	int32_t perf_access_status;
	uint32_t fail_on_type; /* 0: never */
	int32_t fail_status;   /* 0: hang up without WIRE_EVT_ERROR */
	/* state, under lock */
	struct fake_record records[FAKE_MAX_RECORDS];
	uint32_t count;
	uint64_t unacked_messages;
	uint64_t unacked_bytes;
	uint32_t connections;
	bool closed; /* the connection was closed by the service or the client */
	/* commands, under lock */
	bool cmd_ack;
	int32_t cmd_error; /* nonzero: send it and close */
	bool cmd_hangup;
	bool cmd_stop;
};

/* Starts the fake with @inflight_params; NULL on failure. */
struct fake_service *fake_service_start(uint64_t inflight_params, bool ack_each);
/* Stops the thread and closes everything (client_fd only if never handed out: set it to -1). */
void fake_service_stop(struct fake_service *fs);
/* Waits until at least @n primary messages are recorded (false on a 5 s timeout). */
bool fake_service_wait_count(struct fake_service *fs, uint32_t n);
/* Waits until the connection is closed (false on a 5 s timeout). */
bool fake_service_wait_closed(struct fake_service *fs);
/* The number of recorded messages. */
uint32_t fake_service_count(struct fake_service *fs);
/* A copy of record @i. */
struct fake_record fake_service_record(struct fake_service *fs, uint32_t i);
/* Acknowledge everything received so far (one WIRE_EVT_MESSAGES_CONSUMED). */
void fake_service_ack(struct fake_service *fs);
/* Send WIRE_EVT_ERROR(@status) and close the connection; @status 0: hang up silently. */
void fake_service_fail(struct fake_service *fs, int32_t status);
/* Send one notification packet. 0 or -errno. */
int fake_service_notify(struct fake_service *fs, const void *data, size_t size);
/* Connect a device: start a fake and import its channel. */
magma_status_t fake_device_open(struct fake_service **fs_out, magma_device_t *dev_out,
				uint64_t inflight_params, bool ack_each);

/* A fake, a device on it and a connection: the fixture most tests use. */
struct fake_fixture {
	struct fake_service *fs;
	magma_device_t dev;
	magma_connection_t conn;
};

/* Opens @fx (see struct fake_fixture); MAGMA_STATUS_OK or the failing call's status. */
magma_status_t fake_fixture_open(struct fake_fixture *fx, uint64_t inflight_params, bool ack_each);
/* Releases the connection and device and stops the fake. */
void fake_fixture_close(struct fake_fixture *fx);

/* The number of open fds of this process (for leak checks). */
int fake_count_fds(void);

#endif /* FAKE_SERVICE_H */
