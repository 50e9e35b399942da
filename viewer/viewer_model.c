/* SPDX-License-Identifier: MIT */
/*
 * viewer_model.c - building magma-view's model from a trace file (see viewer_model.h).
 *
 * Reading happens in two passes. The first is the trace library's own validator
 * (trace_replay_run stopped before event 0: it checks the whole file, as magma-replay does, and
 * replays nothing), so this file never sees a malformed event and every bad trace gets the same
 * message magma-replay would print. The second walks the lines again with cJSON and turns the
 * events that matter to the views into records; everything else (register accesses, IRQ line
 * changes, completions) only gets its cycle noted.
 *
 * Job to submission matching. Device events do not say which context a job belongs to. A
 * JOB_START names its AS slot and command VA; a submission names its connection and the buffer
 * and offset of its command buffer, and the connection's mappings say where that buffer is in
 * its address space. A job therefore takes the oldest pending submission whose command VA is the
 * job's, preferring the connection bound to the job's AS slot, then a connection not bound to
 * another slot. When no VA matches (inline commands, unknown buffers) it falls back to the rule
 * of trace_timeline.c: the oldest pending submission of the slot's connection, else the oldest
 * of any connection. Each match binds the slot to the connection. A JOB_START with the AS slot
 * and sequence number of the previous job on its queue is a further ring entry of that job.
 *
 * Hangs leave no FAULT event: the watchdog soft-resets the GPU and the driver resubmits the
 * innocent work. A job running when a soft reset begins ends there; if its connection later
 * starts a job at the same command VA, that job is its resubmission, otherwise the job is taken
 * to be the one that hung and becomes a fault of its own.
 *
 * Not modelled: several devices alive at once (device events do not name their device, so they
 * are laid end to end as if sequential). Single-threaded.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magma_sim_defs.h"
#include "sim/sim.h"
#include "sim/sim_regs.h"
#include "traces/trace.h"
#include "traces/trace_replay.h"
#include "viewer_model.h"
#include "viewer_model_internal.h"

/* Appends one zeroed element to *@arr (@count, @cap); returns it, or NULL when out of memory. */
void *vm_grow(struct model_reader *rd, void **arr, size_t *count, int cap_index, size_t size)
{
	size_t *cap = &rd->caps[cap_index];
	char *p;

	if (*count == *cap) {
		size_t n = *cap ? *cap * 2 : 64;
		void *a = realloc(*arr, n * size);

		if (!a) {
			rd->oom = true;
			return NULL;
		}
		*arr = a;
		*cap = n;
	}
	p = (char *)*arr + *count * size;
	memset(p, 0, size);
	(*count)++;
	return p;
}

const cJSON *vm_member(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* A non-negative integral number as uint64 (0 otherwise; clamped like the validator does). */
uint64_t vm_u64(const cJSON *o, const char *k)
{
	const cJSON *n = vm_member(o, k);
	double d;

	if (!cJSON_IsNumber(n))
		return 0;
	d = n->valuedouble;
	if (!isfinite(d) || d < 0 || d != floor(d))
		return 0;
	return d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
}

bool vm_has(const cJSON *o, const char *k)
{
	return vm_member(o, k) != NULL;
}

const char *vm_str(const cJSON *o, const char *k)
{
	const cJSON *s = vm_member(o, k);

	return cJSON_IsString(s) ? s->valuestring : "";
}

int32_t vm_status_of(const cJSON *ev)
{
	const cJSON *n = vm_member(ev, "result");

	if (!cJSON_IsNumber(n) || n->valuedouble < INT32_MIN || n->valuedouble > INT32_MAX)
		return 0;
	return (int32_t)n->valuedouble;
}

/* The live connection with @handle (the latest one if none is live), -1 when unknown. */
int vm_conn_find(const struct viewer_model *m, uint64_t handle)
{
	int found = -1;

	for (size_t i = m->connection_count; i-- > 0;) {
		if (m->connections[i].handle != handle)
			continue;
		if (m->connections[i].release_seq == VIEWER_NONE)
			return (int)i;
		if (found < 0)
			found = (int)i;
	}
	return found;
}

int vm_conn_arg(const struct viewer_model *m, const cJSON *args)
{
	return vm_has(args, "connection") ? vm_conn_find(m, vm_u64(args, "connection")) : -1;
}

/* The live buffer of @conn (any connection when -1) with @handle, or -1. */
int vm_buffer_by_handle(const struct viewer_model *m, int conn, uint64_t handle)
{
	for (size_t i = m->buffer_count; i-- > 0;) {
		const struct viewer_buffer *b = &m->buffers[i];

		if (b->handle == handle && b->release_seq == VIEWER_NONE &&
		    (conn < 0 || b->connection == conn))
			return (int)i;
	}
	return -1;
}

int vm_buffer_by_id(const struct viewer_model *m, int conn, uint64_t id)
{
	for (size_t i = m->buffer_count; i-- > 0;) {
		const struct viewer_buffer *b = &m->buffers[i];

		if (b->id == id && b->release_seq == VIEWER_NONE && b->connection == conn)
			return (int)i;
	}
	return -1;
}

static void on_event(struct model_reader *rd, const cJSON *ev)
{
	const char *type = vm_str(ev, "type");
	uint8_t t = VIEWER_EV_OTHER;

	if (!strcmp(type, "dev")) {
		vm_on_dev(rd, ev);
		t = VIEWER_EV_DEV;
	} else if (!strcmp(type, "call")) {
		vm_on_call(rd, ev);
		t = VIEWER_EV_CALL;
	} else if (!strcmp(type, "blob")) {
		vm_on_blob(rd, ev);
		t = VIEWER_EV_BLOB;
	} else if (!strcmp(type, "device")) {
		vm_on_device(rd, ev);
		t = VIEWER_EV_DEVICE;
	} else if (!strcmp(type, "completion")) {
		t = VIEWER_EV_COMPLETION;
	}
	rd->m->events[rd->seq].cycle = rd->cycle;
	rd->m->events[rd->seq].type = t;
}

/*
 * Events before the device's first event happen at its first cycle, not at 0: a trace merged
 * from a long-running daemon's (magma-trace merge) starts at a large cycle, and the timeline
 * then starts there too. An embedded recording's device starts at cycle 0: nothing changes.
 */
static void start_at_first_dev_event(struct viewer_model *m)
{
	uint64_t first = 0;

	while (first < m->event_count && m->events[first].type != VIEWER_EV_DEV)
		first++;
	for (uint64_t i = 0; i < first && first < m->event_count; i++)
		m->events[i].cycle = m->events[first].cycle;
}

static int read_all(const char *path, char **text_out, size_t *size_out)
{
	FILE *fp = fopen(path, "re");
	long n;
	char *text;

	if (!fp)
		return -1;
	if (fseek(fp, 0, SEEK_END) || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET)) {
		fclose(fp);
		return -1;
	}
	text = malloc((size_t)n + 1);
	if (!text || fread(text, 1, (size_t)n, fp) != (size_t)n) {
		free(text);
		fclose(fp);
		return -1;
	}
	text[n] = '\0';
	fclose(fp);
	*text_out = text;
	*size_out = (size_t)n;
	return 0;
}

/* The second pass over a validated file. Returns 0, or -1 with @err set. */
static int model_walk(struct model_reader *rd, const char *text, size_t size, char *err,
		      size_t err_size)
{
	const char *p = memchr(text, '\n', size), *end = text + size;

	for (p = p ? p + 1 : end; p < end && rd->seq < rd->m->event_count && !rd->oom;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		cJSON *ev;

		while (len && (p[len - 1] == ',' || p[len - 1] == '\r' || p[len - 1] == ' '))
			len--;
		ev = cJSON_ParseWithLength(p, len);
		if (!ev) {
			snprintf(err, err_size, "event %" PRIu64 ": cannot be read again", rd->seq);
			return -1;
		}
		on_event(rd, ev);
		cJSON_Delete(ev);
		rd->seq++;
		p = nl ? nl + 1 : end;
	}
	if (rd->oom) {
		snprintf(err, err_size, "out of memory reading the trace");
		return -1;
	}
	return 0;
}

/* viewer_model_load - see viewer_model.h. */
struct viewer_model *viewer_model_load(const char *path, char *err, size_t err_size)
{
	struct trace_replay_options opts;
	struct trace_replay_result *res = calloc(1, sizeof(*res));
	struct model_reader rd = {0};
	char *text = NULL;
	size_t size = 0;
	int ret;

	snprintf(err, err_size, "out of memory");
	rd.m = calloc(1, sizeof(*rd.m));
	if (!res || !rd.m)
		goto err_free;
	trace_replay_default_options(&opts);
	opts.stop_at = 0; /* validate everything, replay nothing */
	ret = trace_replay_run(path, &opts, res);
	if (ret != TRACE_REPLAY_OK) {
		snprintf(err, err_size, "%s", res->message[0] ? res->message : "unreadable trace");
		goto err_free;
	}
	if (read_all(path, &text, &size)) {
		snprintf(err, err_size, "bad trace: cannot read %s", path);
		goto err_free;
	}
	rd.m->path = strdup(path);
	rd.m->event_count = res->events;
	rd.m->events = calloc(res->events ? res->events : 1, sizeof(*rd.m->events));
	if (!rd.m->path || !rd.m->events)
		goto err_free;
	for (uint32_t q = 0; q < VIEWER_MAX_QUEUES; q++)
		rd.open[q] = rd.last_job[q] = -1;
	for (int s = 0; s < MODEL_MAX_SLOTS; s++)
		rd.slot_conn[s] = -1;
	if (model_walk(&rd, text, size, err, err_size))
		goto err_free;
	for (uint32_t q = 0; q < VIEWER_MAX_QUEUES; q++)
		vm_job_close(&rd, q, VIEWER_JOB_UNFINISHED, 0);
	vm_find_hangs(&rd);
	vm_group_commands(rd.m);
	if (rd.oom)
		goto err_free;
	start_at_first_dev_event(rd.m);
	rd.m->first_cycle = rd.m->event_count ? rd.m->events[0].cycle : 0;
	rd.m->last_cycle = rd.cycle;
	free(rd.pending);
	free(rd.blobs);
	free(text);
	free(res);
	err[0] = '\0';
	return rd.m;

err_free:
	free(rd.pending);
	free(rd.blobs);
	free(text);
	free(res);
	viewer_model_destroy(rd.m);
	return NULL;
}

/* viewer_model_destroy - see viewer_model.h. */
void viewer_model_destroy(struct viewer_model *m)
{
	if (!m)
		return;
	free(m->path);
	free(m->events);
	free(m->jobs);
	free(m->commands);
	free(m->markers);
	free(m->faults);
	free(m->connections);
	free(m->contexts);
	free(m->buffers);
	free(m->mappings);
	free(m->submissions);
	free(m->calls);
	free(m->notifications);
	free(m);
}

/* viewer_model_cycle_at - see viewer_model.h. */
uint64_t viewer_model_cycle_at(const struct viewer_model *m, uint64_t seq)
{
	if (!m->event_count)
		return 0;
	return m->events[seq < m->event_count ? seq : m->event_count - 1].cycle;
}

/* viewer_model_event_at_cycle - see viewer_model.h. Binary search: cycles never decrease. */
uint64_t viewer_model_event_at_cycle(const struct viewer_model *m, uint64_t cycle)
{
	uint64_t lo = 0, hi = m->event_count;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (m->events[mid].cycle <= cycle)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : 0;
}

/* viewer_model_mapping_is_live - see viewer_model.h. */
bool viewer_model_mapping_is_live(const struct viewer_mapping *mp, uint64_t seq)
{
	return mp->map_seq <= seq && (mp->unmap_seq == VIEWER_NONE || mp->unmap_seq > seq);
}

/* viewer_model_connection_is_live - see viewer_model.h. */
bool viewer_model_connection_is_live(const struct viewer_connection *c, uint64_t seq)
{
	return c->create_seq <= seq && (c->release_seq == VIEWER_NONE || c->release_seq > seq);
}

/* viewer_model_fault_at - see viewer_model.h. */
int viewer_model_fault_at(const struct viewer_model *m, uint64_t seq)
{
	int found = -1;

	for (size_t i = 0; i < m->fault_count && m->faults[i].seq <= seq; i++)
		found = (int)i;
	return found;
}

/* viewer_model_default_event - see viewer_model.h. */
uint64_t viewer_model_default_event(const struct viewer_model *m)
{
	if (m->fault_count)
		return m->faults[0].seq;
	if (m->job_count)
		return m->jobs[m->job_count - 1].start_seq;
	return 0;
}

/* viewer_fault_name_of - see viewer_model.h. */
const char *viewer_fault_name_of(uint32_t code)
{
	if (code == MAGMA_SIM_FAULT_HANG)
		return "HANG";
	return sim_fault_name(code);
}
