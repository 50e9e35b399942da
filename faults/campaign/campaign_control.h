/* SPDX-License-Identifier: MIT */
/*
 * campaign_control.h - the client side of magma-simd's control socket (--control PATH): one
 * JSON line asked, one JSON line answered, per connection; and readers of the answers.
 *
 * Any thread; no state between calls.
 */
#ifndef CAMPAIGN_CONTROL_H
#define CAMPAIGN_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define CAMPAIGN_CONTROL_ERROR_MAX 256

/*
 * campaign_control_ask - send @request (one JSON object, no newline) to the control socket at
 * @path and read the answer, waiting @timeout_ms at most. Returns the parsed answer (the
 * caller's, cJSON_Delete) when it has "ok": true, else NULL with the reason in @error (the
 * daemon's own "error" when it answered "ok": false).
 */
cJSON *campaign_control_ask(const char *path, const char *request, int timeout_ms,
			    char error[CAMPAIGN_CONTROL_ERROR_MAX]);

/* campaign_control_device - device @index of a status or dump answer, or NULL. */
const cJSON *campaign_control_device(const cJSON *answer, int index);

/* campaign_control_int - the whole number at @path ("connections.open") under @obj, or -1. */
int64_t campaign_control_int(const cJSON *obj, const char *path);

/*
 * campaign_control_live_zero - whether every "live" count of @device is 0; if not, the first
 * nonzero name and count in @what (@size bytes).
 */
bool campaign_control_live_zero(const cJSON *device, char *what, size_t size);

#endif /* CAMPAIGN_CONTROL_H */
