/* SPDX-License-Identifier: MIT */
/*
 * fake_msd.h - a TEST-ONLY implementation of msd.h that records every call.
 *
 * Linked only into magma/service/tests. Every entry point appends "name" or "name <serial>" to a
 * call log (serials number objects in creation order), counts live objects, and returns
 * MAGMA_STATUS_OK unless a test armed a failure with fake_msd_fail_next. Connections remember
 * their notification callback so a test can deliver notifications as the driver would. All
 * functions are thread-safe.
 */
#ifndef FAKE_MSD_H
#define FAKE_MSD_H

#include <msd/msd.h>
#include <stddef.h>

#define FAKE_MSD_VENDOR_ID    0xfa4eu
#define FAKE_MSD_QUERY_BUFFER 10042u /* answers with a memfd holding "fake" */

/* Clears the call log and armed failures (live counts stay). */
void fake_msd_reset(void);
/* The call log, one call per line, NUL-terminated, copied to @buf (truncated to @size). */
void fake_msd_log(char *buf, size_t size);
/* Whether the log contains @line as a whole line. */
int fake_msd_log_has(const char *line);
/* Index (line number) of the first line starting with @prefix, or -1. */
int fake_msd_log_index(const char *prefix);
/* Makes the next call to entry point @name return @status (or NULL for a constructor). */
void fake_msd_fail_next(const char *name, magma_status_t status);
/* Live MSD objects of every kind (buffers, semaphores, contexts, pools, connections). */
int fake_msd_live(void);
/* Index of the connection opened last (for fake_msd_notify), or -1. */
int fake_msd_last_connection(void);
/* Delivers @n through the callback of the connection opened @index-th (0-based). 0 or -1. */
int fake_msd_notify(int index, struct msd_notification_t *n);

#endif /* FAKE_MSD_H */
