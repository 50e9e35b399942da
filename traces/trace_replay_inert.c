/* SPDX-License-Identifier: MIT */
/*
 * trace_replay_inert.c - the submissions a replay may leave out when only its state at the stop
 * is looked at (trace_replay_options.skip_inert: magma-trace dump and trim).
 *
 * An execute_command is inert when sending it could change nothing on_stop reads (contents,
 * semaphores, handles, connection errors): it recorded OK, has no flags, waits for and signals
 * no semaphore, goes to a live context of a live connection, lists live buffers, and each of its
 * command buffers is, by its recorded contents, NOPs up to an END (or up to its end) inside the
 * only mapping its buffer ever had on that connection, a readable one. msd-sim accepts such a
 * submission, and the job reads its commands and retires: it writes no memory and cannot fault.
 * The replay still does the host's part of it, writing its resources' recorded contents.
 *
 * Leaving jobs out moves later jobs earlier in GPU cycles. Synchronized work cannot tell, except
 * through the clock or the counters. So validation notes the last submission before the stop
 * whose commands may read the clock or cannot be decoded (TIMESTAMP, JUMP, INTERRUPT, an
 * illegal or cut command, contents not recorded, a flag such as NOTIFY), and jobs are left out
 * only after it (r->inert_from). Nothing is left out for a trace with perf_* calls, FAULT device
 * events or a call that saw CONTEXT_KILLED, CONNECTION_LOST or a failed flush or get_error
 * before the stop, nor once the replay's device has faulted.
 *
 * What a left-out submission would have shown, had the replay diverged there, is not seen; the
 * tools that set skip_inert say so (docs/trace-tools.md). Command buffers are decoded once per
 * (contents digest, start) and the verdict kept in r->cmd_class. Runs on the caller's thread.
 */
#include <inttypes.h>
#include <string.h>

#include "sim/sim_cmd.h"
#include "trace_replay_internal.h"
#include "traces/trace.h"

/* What a run of commands does, from the least to the most that matters; kept in r->cmd_class. */
enum cmd_class {
	CMDS_NOP = 1,	/* NOPs up to END or the end: reads its commands, nothing else */
	CMDS_BLIND = 2, /* does work, but cannot read the GPU clock */
	CMDS_CLOCK = 3, /* may read the clock, or cannot be decoded (see the file head) */
};

static void blob_skip(struct trace_blob_reader *rd, uint64_t n)
{
	uint8_t sink[256];

	while (n) {
		size_t k = n < sizeof(sink) ? (size_t)n : sizeof(sink);

		if (trace_blob_read(rd, sink, k) != k)
			return;
		n -= k;
	}
}

/* Decodes the commands of @blob from byte @start to END, as the command processor runs them. */
static enum cmd_class decode(struct replay *r, const struct replay_blob *blob, uint64_t start)
{
	const char *text = trace_reader_blob_text(r, blob);
	enum cmd_class cls = CMDS_NOP;
	struct trace_blob_reader rd;
	uint64_t left;

	if (!text || start >= blob->size || start & 3)
		return CMDS_CLOCK;
	trace_blob_reader_init(&rd, text);
	blob_skip(&rd, start);
	for (left = blob->size - start; left >= 4;) {
		uint8_t raw[4];
		uint32_t hdr, opc, len;

		if (trace_blob_read(&rd, raw, 4) != 4)
			return CMDS_CLOCK;
		hdr = (uint32_t)raw[0] | (uint32_t)raw[1] << 8 | (uint32_t)raw[2] << 16 |
		      (uint32_t)raw[3] << 24;
		opc = SIM_FIELD_GET(SIM_CMD_OPCODE, hdr);
		len = SIM_FIELD_GET(SIM_CMD_LEN, hdr);
		left -= 4;
		/* What the command processor faults on (sim_cp.c) is not decoded further. */
		if (opc >= SIM_CMD_OPCODE_COUNT ||
		    (opc != SIM_CMD_NOP && (int)len != sim_cmd_payload_len(opc)) ||
		    4ull * len > left)
			return CMDS_CLOCK;
		if (opc == SIM_CMD_END)
			return cls;
		if (opc == SIM_CMD_TIMESTAMP || opc == SIM_CMD_JUMP || opc == SIM_CMD_INTERRUPT)
			return CMDS_CLOCK;
		if (opc != SIM_CMD_NOP)
			cls = CMDS_BLIND;
		blob_skip(&rd, 4ull * len);
		left -= 4ull * len;
	}
	return left ? CMDS_CLOCK : cls;
}

/* The class of the commands in the blob of digest @hex from byte @start ("" or unknown: CLOCK). */
static enum cmd_class classify(struct replay *r, const char *hex, uint64_t start)
{
	const struct replay_blob *blob = trace_reader_blob(r, hex);
	uint64_t digest, v;
	enum cmd_class cls;

	if (!blob || trace_digest_parse(hex, &digest))
		return CMDS_CLOCK;
	if (trace_replay_lookup(&r->cmd_class, digest, start, &v))
		return (enum cmd_class)v;
	cls = decode(r, blob, start);
	/* Out of memory only costs a decode next time. */
	trace_replay_map_put(&r->cmd_class, digest, start, cls);
	return cls;
}

/* The class of command buffer @cb of execute_command @args: its resource's recorded contents. */
static enum cmd_class command_buffer_class(struct replay *r, const cJSON *args, const cJSON *cb)
{
	const cJSON *res =
		cJSON_GetArrayItem(member(args, "resources"), (int)u64(cb, "resource_index"));
	uint64_t start = u64(cb, "start_offset"), offset = u64(res, "offset");

	if (!res || start < offset || start - offset >= u64(res, "length"))
		return CMDS_CLOCK;
	return classify(r, get_str(res, "contents"), start - offset);
}

/* Whether the GPU work of call @ev (@id) may read the clock; see the file head. */
static bool may_read_clock(struct replay *r, const cJSON *ev, enum trace_call_id id)
{
	const cJSON *args = member(ev, "args"), *it;

	if (member(args, "invalid"))
		return false; /* the replay passes no work; the service refuses it */
	if (id == TRACE_CALL_EXECUTE_INLINE) {
		cJSON_ArrayForEach(it, member(args, "commands"))
		{
			if (classify(r, get_str(it, "data"), 0) == CMDS_CLOCK)
				return true;
		}
		return false;
	}
	if (u64(args, "flags"))
		return true;
	cJSON_ArrayForEach(it, member(args, "command_buffers"))
	{
		if (command_buffer_class(r, args, it) == CMDS_CLOCK)
			return true;
	}
	return false;
}

/* trace_replay_inert_note - see trace_replay_internal.h. */
void trace_replay_inert_note(struct replay *r, const cJSON *ev, enum trace_call_id id)
{
	magma_status_t st = status_of(ev);

	if (r->index >= r->opts->stop_at || r->inert_from == UINT64_MAX)
		return;
	/* The same call as the event before, but for its "seq": the same verdict. */
	if (r->json.repeat && r->inert_noted == r->index) {
		if (r->inert_noted_clock)
			r->inert_from = r->index + 1;
		r->inert_noted = r->index + 1;
		return;
	}
	r->inert_noted = r->index + 1;
	r->inert_noted_clock = false;
	if (st == MAGMA_STATUS_CONTEXT_KILLED || st == MAGMA_STATUS_CONNECTION_LOST ||
	    ((id == TRACE_CALL_FLUSH || id == TRACE_CALL_GET_ERROR) && st != MAGMA_STATUS_OK) ||
	    (id >= TRACE_CALL_PERF_ENABLE_ACCESS && id <= TRACE_CALL_PERF_READ_COMPLETION)) {
		r->inert_from = UINT64_MAX;
		return;
	}
	if ((id == TRACE_CALL_EXECUTE_COMMAND || id == TRACE_CALL_EXECUTE_INLINE) &&
	    may_read_clock(r, ev, id)) {
		r->inert_from = r->index + 1;
		r->inert_noted_clock = true;
	}
}

/* The live replay buffer of recorded buffer id @id of recorded connection @conn, or NULL. */
static const struct replay_buffer *live_buffer(struct replay *r, uint64_t conn, uint64_t id)
{
	const struct replay_buffer *b;
	uint64_t i;

	if (!trace_replay_lookup(&r->buf_ids, conn, id, &i))
		return NULL;
	b = trace_replay_vec_at(&r->buffers, i);
	return b && b->readable ? b : NULL;
}

/*
 * Whether command buffer @cb of @args is NOPs in bytes [start, end) of a live buffer, inside the
 * one readable mapping its buffer ever had on the connection (so msd-sim finds that one).
 */
static bool command_buffer_inert(struct replay *r, const cJSON *args, const cJSON *cb)
{
	const cJSON *res =
		cJSON_GetArrayItem(member(args, "resources"), (int)u64(cb, "resource_index"));
	uint64_t conn = u64(args, "connection"), id = u64(res, "buffer_id");
	uint64_t start = u64(cb, "start_offset"), end = u64(res, "offset") + u64(res, "length");
	const struct replay_buffer *b = res ? live_buffer(r, conn, id) : NULL;
	const struct replay_mapping *m;
	uint64_t i;

	if (!b || end < u64(res, "offset") || end > b->size || start >= end || (start | end) & 3 ||
	    command_buffer_class(r, args, cb) != CMDS_NOP ||
	    !trace_replay_lookup(&r->mapping_of, conn, id, &i))
		return false;
	m = trace_replay_vec_at(&r->mappings, i);
	return m->prev == UINT64_MAX && m->length && (m->flags & MAGMA_MAP_FLAG_READ) &&
	       m->offset <= start && end - m->offset <= m->length;
}

/* trace_replay_inert - see trace_replay_internal.h. */
bool trace_replay_inert(struct replay *r, const cJSON *ev, const cJSON *args)
{
	uint64_t conn = u64(args, "connection"), v;
	const cJSON *it;

	/*
	 * The same submission as the event before (but for its "seq"), found inert: nothing it
	 * depends on has changed since, except that the device may have faulted.
	 */
	if (r->json.repeat && r->inert_last == r->index) {
		if (atomic_load_explicit(&r->watch.fault_count, memory_order_acquire))
			return false;
		r->inert_last = r->index + 1;
		return true;
	}
	if (!r->opts->skip_inert || r->opts->hold || r->tl || r->index < r->inert_from ||
	    r->recorded_faults || r->recorded_kills ||
	    atomic_load_explicit(&r->watch.fault_count, memory_order_acquire) ||
	    status_of(ev) != MAGMA_STATUS_OK || member(args, "invalid") || u64(args, "flags") ||
	    cJSON_GetArraySize(member(args, "wait")) ||
	    cJSON_GetArraySize(member(args, "signal")) ||
	    cJSON_GetArraySize(member(args, "command_buffers")) > REPLAY_INERT_MAX_CMDBUFS)
		return false;
	if (!trace_replay_lookup(&r->conns, conn, 0, &v) ||
	    !trace_replay_lookup(&r->ctxs, conn, u64(args, "context"), &v) ||
	    trace_replay_lookup(&r->ctxs_released, conn, u64(args, "context"), &v))
		return false;
	cJSON_ArrayForEach(it, member(args, "resources"))
	{
		const struct replay_buffer *b = live_buffer(r, conn, u64(it, "buffer_id"));
		uint64_t offset = u64(it, "offset"), length = u64(it, "length");

		if (!b || offset > b->size || length > b->size - offset)
			return false;
	}
	cJSON_ArrayForEach(it, member(args, "command_buffers"))
	{
		if (!command_buffer_inert(r, args, it))
			return false;
	}
	r->inert_last = r->index + 1;
	return true;
}
