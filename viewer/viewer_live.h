/* SPDX-License-Identifier: MIT */
/*
 * viewer_live.h - magma-view's client of a magma-simd control socket (magma-simd --control,
 * docs/fault-injection.md "Live sessions"): one `dump` request per poll, the answer kept as
 * parsed JSON next to the one before it, so the live view can highlight what changed.
 *
 * No SDL here. Any single thread; a struct viewer_live belongs to one thread.
 */
#ifndef VIEWER_LIVE_H
#define VIEWER_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* clang-format off */
#define VIEWER_LIVE_POLL_MS       250  /* between two dumps while the socket answers */
#define VIEWER_LIVE_RETRY_MS      1000 /* after a failed poll */
#define VIEWER_LIVE_WINDOW_WAIT_MS 200 /* the window's deadline for one answer */
#define VIEWER_LIVE_MAX_ANSWER    (256u << 20)
/* clang-format on */

struct viewer_live {
	char path[256];	 /* the control socket */
	cJSON *dump;	 /* the latest good answer (owned), NULL before the first */
	cJSON *prev;	 /* the good answer before it (owned), NULL */
	char error[512]; /* non-empty: the latest poll failed (then @dump is stale or NULL) */
	uint64_t polls;	 /* good answers so far */
};

/*
 * viewer_live_fetch - connect to the control socket @path, send {"cmd":"dump"}, read the
 * one-line answer within @timeout_ms (the whole exchange) and parse it. Returns the answer
 * (the caller cJSON_Deletes it), or NULL with a message in @err: no such socket, nobody
 * listening, no answer in time, not JSON, not a magma-simd control socket, or refused.
 */
cJSON *viewer_live_fetch(const char *path, int timeout_ms, char *err, size_t err_size);

/* viewer_live_init - a live session of @path, nothing polled yet. */
void viewer_live_init(struct viewer_live *live, const char *path);

/*
 * viewer_live_poll - one viewer_live_fetch with @timeout_ms. On success the answer becomes
 * @dump (the old one @prev) and @error is cleared: returns 0. Otherwise @dump stays, @error says
 * why: returns -1.
 */
int viewer_live_poll(struct viewer_live *live, int timeout_ms);

/* viewer_live_fini - free both answers. */
void viewer_live_fini(struct viewer_live *live);

/* viewer_live_devices - the "devices" array of @dump (NULL when @dump is NULL). */
const cJSON *viewer_live_devices(const cJSON *dump);

/* viewer_live_device - device @i of @dump, or NULL. */
const cJSON *viewer_live_device(const cJSON *dump, int i);

/* viewer_live_at - the value at "a.b" (dots between members) under @obj, or NULL. */
const cJSON *viewer_live_at(const cJSON *obj, const char *path);

/* viewer_live_num - the number at @path under @obj, or @fallback. */
double viewer_live_num(const cJSON *obj, const char *path, double fallback);

/*
 * viewer_live_changed - whether @path under device @device differs between @prev and @dump
 * of @live (false before the second answer: nothing changed "since the last poll" yet).
 */
bool viewer_live_changed(const struct viewer_live *live, int device, const char *path);

/*
 * viewer_live_row_changed - whether entry @i of the array @list ("connection_log" or
 * "firings") of device @device is new or different since the answer before.
 */
bool viewer_live_row_changed(const struct viewer_live *live, int device, const char *list, int i);

#endif /* VIEWER_LIVE_H */
