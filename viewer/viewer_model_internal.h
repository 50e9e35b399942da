/* SPDX-License-Identifier: MIT */
/*
 * viewer_model_internal.h - what the files that build the model from a trace share: the second
 * pass's reader state, growing the model's arrays, reading members of an event, and the event
 * handlers of each side (viewer_model.c: loading and queries; viewer_model_device.c: the GPU's
 * events, jobs, their commands and hangs; viewer_model_client.c: the client's calls).
 * Single-threaded.
 */
#ifndef VIEWER_MODEL_INTERNAL_H
#define VIEWER_MODEL_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "magma_sim_defs.h"
#include "viewer_model.h"

#define MODEL_MAX_SLOTS 64
#define MODEL_BLOBS_MAX 4096 /* notification payloads remembered (32-byte blobs only) */

struct model_blob {
	uint64_t digest;
	uint8_t bytes[sizeof(struct magma_sim_notification)];
};

/* State of the second pass only. */
struct model_reader {
	struct viewer_model *m;
	size_t caps[16];
	uint64_t seq;
	uint64_t base;		     /* global cycle at which the current device started */
	uint64_t cycle;		     /* global cycle of the last device event */
	int open[VIEWER_MAX_QUEUES]; /* running job per queue, -1 none */
	int last_job[VIEWER_MAX_QUEUES];
	int slot_conn[MODEL_MAX_SLOTS]; /* connection bound to an AS slot, -1 none */
	int *pending;			/* unmatched submissions, oldest first */
	size_t pending_count;
	struct model_blob *blobs;
	size_t blob_count;
	bool oom;
};

enum {
	CAP_JOB,
	CAP_MARK,
	CAP_FAULT,
	CAP_CONN,
	CAP_CTX,
	CAP_BUF,
	CAP_MAP,
	CAP_SUB,
	CAP_CALL,
	CAP_NOTE,
	CAP_PENDING,
	CAP_BLOB,
	CAP_CMD
};

void *vm_grow(struct model_reader *rd, void **arr, size_t *count, int cap_index, size_t size);
const cJSON *vm_member(const cJSON *o, const char *k);
uint64_t vm_u64(const cJSON *o, const char *k);
bool vm_has(const cJSON *o, const char *k);
const char *vm_str(const cJSON *o, const char *k);
int32_t vm_status_of(const cJSON *ev);
int vm_conn_find(const struct viewer_model *m, uint64_t handle);
int vm_conn_arg(const struct viewer_model *m, const cJSON *args);
int vm_buffer_by_handle(const struct viewer_model *m, int conn, uint64_t handle);
int vm_buffer_by_id(const struct viewer_model *m, int conn, uint64_t id);
void vm_on_dev(struct model_reader *rd, const cJSON *ev);
void vm_on_device(struct model_reader *rd, const cJSON *ev);
void vm_on_blob(struct model_reader *rd, const cJSON *ev);
void vm_on_call(struct model_reader *rd, const cJSON *ev);
void vm_find_hangs(struct model_reader *rd);
void vm_group_commands(struct viewer_model *m);
void vm_job_close(struct model_reader *rd, uint32_t q, enum viewer_job_end end, uint32_t code);

/* GROW(rd, array, count, cap_index): vm_grow() for one of the model's arrays. */
#define GROW(rd, array, count, cap)                                                                \
	vm_grow((rd), (void **)&(array), &(count), (cap), sizeof(*(array)))

#endif /* VIEWER_MODEL_INTERNAL_H */
