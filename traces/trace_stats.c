/* SPDX-License-Identifier: MIT */
/*
 * trace_stats.c - magma-trace stats: what a trace holds, in numbers (docs/trace-tools.md,
 * "stats").
 *
 * One pass over the lines. Client side: calls by name (and how many failed), submissions,
 * bytes (resource ranges submitted, the ones whose contents changed since that range was last
 * seen, inline commands, notifications, blobs) and the copies and fills the command buffers
 * hold, decoded from their recorded contents (sim_cmd.h) up to the first END or JUMP. Device
 * side, from "dev" events (embedded device only): per queue the jobs and the GPU cycles they
 * were busy (JOB_START to JOB_END of each ring entry), per context the same for the jobs
 * matched to its submissions, the commands the GPU decoded (CMD events), faults and resets.
 *
 * Device events do not name contexts. A job is matched to a submission by the rule magma-view
 * uses (viewer/viewer_model.c): the oldest pending submission whose command buffer is mapped at
 * the job's command VA, preferring the connection last seen on the job's AS slot, then the
 * oldest of that connection, then the oldest of any; further ring entries of a job (same AS
 * slot and sequence number) stay with it. Jobs that found no submission (none pending:
 * execute_inline, or a job the recorder wrote before its call) count as unattributed.
 * Single-threaded.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <lib/magma/magma.h>

#include "sim/sim.h"
#include "sim/sim_cmd.h"
#include "sim/sim_regs.h"
#include "trace_tool.h"
#include "traces/trace.h"
#include "traces/trace_replay.h"

#define STATS_MAX_QUEUES   64
#define STATS_MAX_SLOTS	   64
#define STATS_MAX_FAULTS   64
#define STATS_DECODE_LIMIT (1u << 20) /* commands decoded from one command buffer at most */
#define STATS_MAX_PENDING  65536      /* submissions waiting for a job; older ones are dropped */
#define STATS_NONE	   UINT64_MAX

struct stats_call {
	char name[40];
	uint64_t count, failed;
};

struct stats_queue {
	uint64_t jobs, entries, busy, faults;
	bool open;
	uint64_t start; /* cycle of the open entry */
	uint32_t slot;
	uint64_t seqno;
	uint64_t ctx; /* context index of the current job, STATS_NONE if none */
	bool has_job;
};

struct stats_ctx {
	uint64_t connection, context;
	uint64_t submissions, jobs, busy;
};

/* A successful submission waiting for its job. */
struct stats_sub {
	uint64_t connection, ctx, cmd_va;
};

struct stats_mapping {
	uint64_t connection, buffer, hw_va, offset, length;
};

/* What the commands of one command buffer (by contents digest and start) hold. */
struct stats_decoded {
	uint64_t commands, copies, copy_bytes, fills, fill_bytes, writes, dispatches;
	bool complete; /* reached an END (else: a JUMP, the end of the range, or garbage) */
};

struct stats {
	const char *path;
	struct tt_reader rd;
	uint64_t events, by_type[TT_END + 1];
	struct replay_vec calls; /* struct stats_call */
	struct replay_map call_by_hash;
	/* submissions */
	uint64_t exec, exec_cmd_buffers, exec_resources, exec_signaling, inline_calls,
		inline_commands, failed_submissions;
	/* bytes */
	uint64_t resource_bytes, contents_bytes, changed_bytes, inline_bytes, notification_bytes,
		completion_ranges, blob_bytes, blob_text;
	struct replay_map last_digest; /* (connection ^ buffer id, offset ^ length) -> digest */
	struct replay_map
		sub_ranges; /* (submission event, resource index) -> range key pair index */
	struct replay_vec range_keys; /* uint64_t[2] */
	/* decoded command buffers */
	struct replay_map blob_index;
	struct replay_map decoded_by; /* (digest, start) -> decoded index */
	struct replay_vec decoded;    /* struct stats_decoded */
	struct stats_decoded cmds;    /* sums over all submissions */
	uint64_t undecoded;	      /* command buffers without contents or not reaching END */
	/* device */
	struct stats_queue queues[STATS_MAX_QUEUES];
	uint64_t slot_conn[STATS_MAX_SLOTS];
	struct replay_vec ctxs; /* struct stats_ctx */
	struct replay_map ctx_by_id;
	struct replay_vec pending; /* struct stats_sub */
	size_t pending_head;
	struct replay_vec mappings;	     /* struct stats_mapping */
	struct replay_map mapping_by_buffer; /* (connection, buffer id) -> latest mapping */
	struct replay_map buffer_id;	     /* buffer handle -> id */
	uint64_t devices, cycle_first, cycle_last, span, clock_khz;
	bool device_open;
	uint64_t unattributed_jobs, unattributed_busy;
	uint64_t cmd_by_opcode[SIM_CMD_OPCODE_COUNT + 1], cmd_by_opcode_total;
	uint64_t faults_by_code[STATS_MAX_FAULTS + 1], fault_events, job_faults, resets;
	uint64_t killed, lost;
	bool oom;
};

/* ---- calls ---- */

static struct stats_call *call_entry(struct stats *st, const char *name)
{
	uint64_t h = trace_digest(name, strlen(name)), i;
	struct stats_call *c;

	if (tt_map_get(&st->call_by_hash, h, 0, &i))
		return trace_replay_vec_at(&st->calls, i);
	c = trace_replay_vec_push(&st->calls, sizeof(*c));
	if (!c || !trace_replay_map_put(&st->call_by_hash, h, 0, st->calls.count - 1)) {
		st->oom = true;
		return NULL;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
	return c;
}

static uint64_t ctx_index(struct stats *st, uint64_t connection, uint64_t context)
{
	struct stats_ctx *c;
	uint64_t i;

	if (tt_map_get(&st->ctx_by_id, connection, context, &i))
		return i;
	c = trace_replay_vec_push(&st->ctxs, sizeof(*c));
	if (!c || !trace_replay_map_put(&st->ctx_by_id, connection, context, st->ctxs.count - 1)) {
		st->oom = true;
		return STATS_NONE;
	}
	c->connection = connection;
	c->context = context;
	return st->ctxs.count - 1;
}

/* ---- bytes: contents seen per range ---- */

static void range_key(uint64_t conn, uint64_t id, uint64_t offset, uint64_t length, uint64_t k[2])
{
	k[0] = conn * 0x9e3779b97f4a7c15ull ^ id;
	k[1] = offset * 0xc2b2ae3d27d4eb4full ^ length;
}

/* Notes @digest as the contents of a range; true when it differs from the last one seen. */
static bool note_contents(struct stats *st, const uint64_t k[2], uint64_t digest)
{
	uint64_t last;
	bool changed = !tt_map_get(&st->last_digest, k[0], k[1], &last) || last != digest;

	if (!trace_replay_map_put(&st->last_digest, k[0], k[1], digest))
		st->oom = true;
	return changed;
}

/* ---- decoding command buffers ---- */

static uint64_t u64_of(const uint32_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 32;
}

/* Walks the commands of blob @b from byte @start; see struct stats_decoded. */
static void decode_commands(const struct tt_blob *b, uint64_t start, struct stats_decoded *out)
{
	struct trace_blob_reader rd;
	uint8_t skip[4096];
	uint32_t words[16];
	uint64_t left;

	if (start > b->size || start & 3)
		return;
	trace_blob_reader_init(&rd, b->text);
	for (uint64_t done = 0; done < start;) {
		size_t n = start - done < sizeof(skip) ? (size_t)(start - done) : sizeof(skip);

		if (trace_blob_read(&rd, skip, n) != n)
			return;
		done += n;
	}
	left = (b->size - start) / 4;
	while (left && out->commands < STATS_DECODE_LIMIT) {
		uint32_t op, len;
		int want;

		if (trace_blob_read(&rd, words, 4) != 4)
			return;
		left--;
		op = SIM_FIELD_GET(SIM_CMD_OPCODE, words[0]);
		len = SIM_FIELD_GET(SIM_CMD_LEN, words[0]);
		want = sim_cmd_payload_len(op);
		if (op >= SIM_CMD_OPCODE_COUNT || (want >= 0 && (uint32_t)want != len) ||
		    len > left)
			return;
		out->commands++;
		if (op == SIM_CMD_END) {
			out->complete = true;
			return;
		}
		if (op == SIM_CMD_JUMP)
			return;
		/* Payloads of known commands are at most 8 words; longer NOPs are skipped. */
		for (uint32_t k = 0; k < len; k++) {
			uint32_t w;

			if (trace_blob_read(&rd, k < 15 ? (void *)&words[1 + k] : (void *)&w, 4) !=
			    4)
				return;
		}
		left -= len;
		if (op == SIM_CMD_COPY) {
			out->copies++;
			out->copy_bytes += u64_of(&words[5]);
		} else if (op == SIM_CMD_FILL) {
			out->fills++;
			out->fill_bytes += u64_of(&words[3]);
		} else if (op == SIM_CMD_WRITE32 || op == SIM_CMD_WRITE64) {
			out->writes++;
		} else if (op == SIM_CMD_DISPATCH) {
			out->dispatches++;
		}
	}
}

/* The decoded commands of the command buffer in resource @res from @start (cached). */
static const struct stats_decoded *decoded_of(struct stats *st, const cJSON *res, uint64_t start)
{
	const char *hex = tt_str(res, "contents");
	struct stats_decoded *d;
	struct tt_blob b;
	uint64_t digest, i;

	if (!hex || trace_digest_parse(hex, &digest))
		return NULL;
	if (tt_map_get(&st->decoded_by, digest, start, &i))
		return trace_replay_vec_at(&st->decoded, i);
	d = trace_replay_vec_push(&st->decoded, sizeof(*d));
	if (!d || !trace_replay_map_put(&st->decoded_by, digest, start, st->decoded.count - 1)) {
		st->oom = true;
		return NULL;
	}
	if (!tt_blob_load(&st->rd, &st->blob_index, hex, &b)) {
		decode_commands(&b, start, d);
		tt_blob_free(&b);
	}
	return d;
}

/* ---- calls ---- */

/* A successful submission (one job in msd-sim) of @context waits for its JOB_START. */
static void add_pending(struct stats *st, uint64_t conn, uint64_t context, uint64_t cmd_va)
{
	uint64_t ci = ctx_index(st, conn, context);
	struct stats_sub *s;

	/* A trace without device events never takes them: keep the newest only. */
	if (st->pending.count - st->pending_head >= STATS_MAX_PENDING)
		st->pending_head++;
	if (st->pending_head >= STATS_MAX_PENDING) {
		memmove(st->pending.v, trace_replay_vec_at(&st->pending, st->pending_head),
			(st->pending.count - st->pending_head) * sizeof(*s));
		st->pending.count -= st->pending_head;
		st->pending_head = 0;
	}
	s = trace_replay_vec_push(&st->pending, sizeof(*s));
	if (!s) {
		st->oom = true;
		return;
	}
	s->connection = conn;
	s->ctx = ci;
	s->cmd_va = cmd_va;
	if (ci != STATS_NONE)
		((struct stats_ctx *)trace_replay_vec_at(&st->ctxs, ci))->submissions++;
}

static void on_execute(struct stats *st, const cJSON *ev, const cJSON *args, bool ok)
{
	const cJSON *res = tt_member(args, "resources"), *it;
	uint64_t conn = tt_u64(args, "connection"), index = 0, cmd_va = STATS_NONE;
	bool first = true, signaling;

	st->exec++;
	if (tt_member(args, "invalid"))
		return;
	/* Only submissions with signal semaphores get completions that name their ranges. */
	signaling = cJSON_GetArraySize(tt_member(args, "signal")) > 0;
	st->exec_signaling += signaling;
	cJSON_ArrayForEach(it, res)
	{
		uint64_t len = tt_u64(it, "length"), d, k[2];
		const char *hex = tt_str(it, "contents");
		uint64_t *keys;

		st->exec_resources++;
		st->resource_bytes += len;
		range_key(conn, tt_u64(it, "buffer_id"), tt_u64(it, "offset"), len, k);
		if (hex && !trace_digest_parse(hex, &d)) {
			st->contents_bytes += len;
			if (note_contents(st, k, d))
				st->changed_bytes += len;
		}
		if (!signaling || !ok)
			continue;
		keys = trace_replay_vec_push(&st->range_keys, sizeof(uint64_t[2]));
		if (!keys || !trace_replay_map_put(&st->sub_ranges, st->rd.index, index,
						   st->range_keys.count - 1)) {
			st->oom = true;
			return;
		}
		keys[0] = k[0];
		keys[1] = k[1];
		index++;
	}
	cJSON_ArrayForEach(it, tt_member(args, "command_buffers"))
	{
		const cJSON *r = cJSON_GetArrayItem(res, (int)tt_u64(it, "resource_index"));
		uint64_t start = tt_u64(it, "start_offset"), off = tt_u64(r, "offset"), m;
		const struct stats_decoded *d =
			r && start >= off ? decoded_of(st, r, start - off) : NULL;
		const struct stats_mapping *mp;

		st->exec_cmd_buffers++;
		if (d) {
			st->cmds.commands += d->commands;
			st->cmds.copies += d->copies;
			st->cmds.copy_bytes += d->copy_bytes;
			st->cmds.fills += d->fills;
			st->cmds.fill_bytes += d->fill_bytes;
			st->cmds.writes += d->writes;
			st->cmds.dispatches += d->dispatches;
		}
		if (!d || !d->complete)
			st->undecoded++;
		/* The job's command VA: where the connection mapped the first command buffer. */
		if (first && r &&
		    tt_map_get(&st->mapping_by_buffer, conn, tt_u64(r, "buffer_id"), &m) &&
		    (mp = trace_replay_vec_at(&st->mappings, m)) && start >= mp->offset &&
		    start < mp->offset + mp->length)
			cmd_va = mp->hw_va + (start - mp->offset);
		first = false;
	}
	if (ok)
		add_pending(st, conn, tt_u64(args, "context"), cmd_va);
	(void)ev;
}

static void on_call(struct stats *st, const cJSON *ev)
{
	const char *name = tt_str(ev, "call");
	const cJSON *args = tt_member(ev, "args"), *out = tt_member(ev, "out"), *it;
	struct stats_call *c;
	int64_t result = 0;
	bool ok;

	if (!name)
		return;
	c = call_entry(st, name);
	ok = !tt_result(ev, &result) || result == MAGMA_STATUS_OK;
	if (c) {
		c->count++;
		c->failed += !ok;
	}
	st->killed += result == MAGMA_STATUS_CONTEXT_KILLED;
	st->lost += result == MAGMA_STATUS_CONNECTION_LOST;
	if (!strcmp(name, "execute_command")) {
		on_execute(st, ev, args, ok);
		st->failed_submissions += !ok;
	} else if (!strcmp(name, "execute_inline")) {
		st->inline_calls++;
		st->failed_submissions += !ok;
		cJSON_ArrayForEach(it, tt_member(args, "commands"))
		{
			st->inline_commands++;
			st->inline_bytes += tt_u64(it, "size");
		}
		if (ok && !tt_member(args, "invalid"))
			add_pending(st, tt_u64(args, "connection"), tt_u64(args, "context"),
				    STATS_NONE);
	} else if (!strcmp(name, "read_notification") && ok) {
		st->notification_bytes += tt_u64(out, "size");
	} else if ((!strcmp(name, "create_buffer") || !strcmp(name, "import_buffer")) && ok) {
		if (!trace_replay_map_put(&st->buffer_id, tt_u64(out, "buffer"), 0,
					  tt_u64(out, "id")))
			st->oom = true;
	} else if (!strcmp(name, "map_buffer") && ok) {
		struct stats_mapping *m = trace_replay_vec_push(&st->mappings, sizeof(*m));
		uint64_t id;

		if (!m || !tt_map_get(&st->buffer_id, tt_u64(args, "buffer"), 0, &id) ||
		    !trace_replay_map_put(&st->mapping_by_buffer, tt_u64(args, "connection"), id,
					  st->mappings.count - 1)) {
			st->oom = st->oom || !m;
			return;
		}
		m->connection = tt_u64(args, "connection");
		m->buffer = id;
		m->hw_va = tt_u64(args, "hw_va");
		m->offset = tt_u64(args, "offset");
		m->length = tt_u64(args, "length");
	}
}

static void on_completion(struct stats *st, const cJSON *ev)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, tt_member(ev, "resources"))
	{
		uint64_t i, d;
		const uint64_t *k;

		st->completion_ranges++;
		if (!tt_map_get(&st->sub_ranges, tt_u64(ev, "submission"), tt_u64(it, "index"),
				&i) ||
		    trace_digest_parse(tt_str(it, "digest"), &d))
			continue;
		k = trace_replay_vec_at(&st->range_keys, i);
		/* What the GPU left is the range's contents now; a later change is the CPU's. */
		note_contents(st, k, d);
	}
}

/* ---- device events ---- */

/* The pending submission job (@slot, @va) takes (viewer_model.c's rule), or STATS_NONE. */
static uint64_t match_pending(struct stats *st, uint32_t slot, uint64_t va)
{
	uint64_t bound = slot < STATS_MAX_SLOTS ? st->slot_conn[slot] : STATS_NONE;
	uint64_t by_va = STATS_NONE, own = STATS_NONE;

	for (size_t i = st->pending_head; i < st->pending.count; i++) {
		const struct stats_sub *s = trace_replay_vec_at(&st->pending, i);

		if (s->connection == STATS_NONE)
			continue; /* taken */
		if (s->cmd_va == va && s->cmd_va != STATS_NONE) {
			if (bound != STATS_NONE && s->connection == bound)
				return i;
			if (by_va == STATS_NONE)
				by_va = i;
		}
		if (own == STATS_NONE && bound != STATS_NONE && s->connection == bound)
			own = i;
	}
	if (by_va != STATS_NONE)
		return by_va;
	if (own != STATS_NONE)
		return own;
	for (size_t i = st->pending_head; i < st->pending.count; i++)
		if (((struct stats_sub *)trace_replay_vec_at(&st->pending, i))->connection !=
		    STATS_NONE)
			return i;
	return STATS_NONE;
}

static void job_start(struct stats *st, struct stats_queue *q, const cJSON *ev, uint64_t cycle)
{
	uint32_t slot = (uint32_t)tt_u64(ev, "code");
	uint64_t seqno = tt_u64(ev, "value2"), pick;
	struct stats_sub *s;

	q->entries++;
	q->open = true;
	q->start = cycle;
	if (q->has_job && q->slot == slot && q->seqno == seqno)
		return; /* a further ring entry of the same job */
	q->has_job = true;
	q->slot = slot;
	q->seqno = seqno;
	q->jobs++;
	q->ctx = STATS_NONE;
	pick = match_pending(st, slot, tt_u64(ev, "value"));
	if (pick == STATS_NONE) {
		st->unattributed_jobs++;
		return;
	}
	s = trace_replay_vec_at(&st->pending, pick);
	q->ctx = s->ctx;
	if (slot < STATS_MAX_SLOTS) {
		for (int k = 0; k < STATS_MAX_SLOTS; k++)
			if (st->slot_conn[k] == s->connection)
				st->slot_conn[k] = STATS_NONE;
		st->slot_conn[slot] = s->connection;
	}
	if (q->ctx != STATS_NONE)
		((struct stats_ctx *)trace_replay_vec_at(&st->ctxs, q->ctx))->jobs++;
	s->connection = STATS_NONE;
	while (st->pending_head < st->pending.count &&
	       ((struct stats_sub *)trace_replay_vec_at(&st->pending, st->pending_head))
			       ->connection == STATS_NONE)
		st->pending_head++;
}

static void on_dev(struct stats *st, const cJSON *ev)
{
	const char *name = tt_str(ev, "ev");
	uint64_t cycle = tt_u64(ev, "cycle"), unit = tt_u64(ev, "unit");
	struct stats_queue *q = unit < STATS_MAX_QUEUES ? &st->queues[unit] : NULL;

	if (!name)
		return;
	if (!st->device_open) {
		/* dev events without a "created" event before them (traces cut by trim) */
		st->device_open = true;
		st->cycle_first = cycle;
	}
	st->cycle_last = cycle;
	if (!strcmp(name, "JOB_START") && q) {
		job_start(st, q, ev, cycle);
	} else if (!strcmp(name, "JOB_END") && q && q->open) {
		uint64_t busy = cycle >= q->start ? cycle - q->start : 0;

		q->open = false;
		q->busy += busy;
		if (q->ctx != STATS_NONE)
			((struct stats_ctx *)trace_replay_vec_at(&st->ctxs, q->ctx))->busy += busy;
		else
			st->unattributed_busy += busy;
		if (tt_u64(ev, "code")) {
			q->faults++;
			st->job_faults++;
		}
	} else if (!strcmp(name, "CMD")) {
		uint64_t op = tt_u64(ev, "code");

		st->cmd_by_opcode[op < SIM_CMD_OPCODE_COUNT ? op : SIM_CMD_OPCODE_COUNT]++;
		st->cmd_by_opcode_total++;
	} else if (!strcmp(name, "FAULT")) {
		uint64_t code = tt_u64(ev, "code");

		st->fault_events++;
		st->faults_by_code[code < STATS_MAX_FAULTS ? code : STATS_MAX_FAULTS]++;
	} else if (!strcmp(name, "RESET") && !tt_u64(ev, "value")) {
		st->resets++;
	} else if (!strcmp(name, "REG_READ") && tt_str(ev, "name") &&
		   !strcmp(tt_str(ev, "name"), "GPU_CLOCK_KHZ")) {
		st->clock_khz = tt_u64(ev, "value");
	}
}

static void on_device(struct stats *st, const cJSON *ev)
{
	const char *what = tt_str(ev, "event");

	if (what && !strcmp(what, "created")) {
		st->devices++;
		st->device_open = true;
		st->cycle_first = st->cycle_last = 0;
	} else if (what && !strcmp(what, "destroyed") && st->device_open) {
		st->span += st->cycle_last - st->cycle_first;
		st->device_open = false;
	}
}

/* ---- output ---- */

static int cmp_calls(const void *a, const void *b)
{
	const struct stats_call *x = a, *y = b;

	return x->count != y->count ? (x->count < y->count ? 1 : -1) : strcmp(x->name, y->name);
}

static cJSON *to_json(struct stats *st)
{
	cJSON *root = cJSON_CreateObject(), *o, *a, *e;

#define NUM(obj, key, v) cJSON_AddNumberToObject(obj, key, (double)(v))
	cJSON_AddStringToObject(root, "trace", st->path);
	o = cJSON_AddObjectToObject(root, "events");
	NUM(o, "total", st->events);
	NUM(o, "call", st->by_type[TT_CALL]);
	NUM(o, "completion", st->by_type[TT_COMPLETION]);
	NUM(o, "blob", st->by_type[TT_BLOB]);
	NUM(o, "dev", st->by_type[TT_DEV]);
	NUM(o, "device", st->by_type[TT_DEVICE]);
	a = cJSON_AddArrayToObject(root, "calls");
	for (size_t i = 0; i < st->calls.count; i++) {
		const struct stats_call *c = trace_replay_vec_at(&st->calls, i);

		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "call", c->name);
		NUM(e, "count", c->count);
		NUM(e, "failed", c->failed);
		cJSON_AddItemToArray(a, e);
	}
	o = cJSON_AddObjectToObject(root, "submissions");
	NUM(o, "execute_command", st->exec);
	NUM(o, "command_buffers", st->exec_cmd_buffers);
	NUM(o, "resources", st->exec_resources);
	NUM(o, "with_signal_semaphores", st->exec_signaling);
	NUM(o, "execute_inline", st->inline_calls);
	NUM(o, "inline_commands", st->inline_commands);
	NUM(o, "failed", st->failed_submissions);
	NUM(o, "completions", st->by_type[TT_COMPLETION]);
	o = cJSON_AddObjectToObject(root, "bytes");
	NUM(o, "resources_submitted", st->resource_bytes);
	NUM(o, "contents_recorded", st->contents_bytes);
	NUM(o, "contents_changed", st->changed_bytes);
	NUM(o, "inline_commands", st->inline_bytes);
	NUM(o, "notifications_read", st->notification_bytes);
	NUM(o, "copies", st->cmds.copy_bytes);
	NUM(o, "fills", st->cmds.fill_bytes);
	NUM(o, "blobs", st->blob_bytes);
	NUM(o, "blob_text", st->blob_text);
	o = cJSON_AddObjectToObject(root, "commands");
	NUM(o, "decoded", st->cmds.commands);
	NUM(o, "copies", st->cmds.copies);
	NUM(o, "fills", st->cmds.fills);
	NUM(o, "writes", st->cmds.writes);
	NUM(o, "dispatches", st->cmds.dispatches);
	NUM(o, "command_buffers_not_decoded_to_end", st->undecoded);
	e = cJSON_AddObjectToObject(o, "executed");
	for (uint32_t op = 0; op <= SIM_CMD_OPCODE_COUNT; op++)
		if (st->cmd_by_opcode[op])
			NUM(e,
			    op < SIM_CMD_OPCODE_COUNT && sim_cmd_name(op) ? sim_cmd_name(op) : "?",
			    st->cmd_by_opcode[op]);
	o = cJSON_AddObjectToObject(root, "gpu");
	NUM(o, "devices", st->devices);
	NUM(o, "span_cycles", st->span);
	NUM(o, "clock_khz", st->clock_khz);
	a = cJSON_AddArrayToObject(o, "queues");
	for (uint32_t q = 0; q < STATS_MAX_QUEUES; q++) {
		if (!st->queues[q].entries)
			continue;
		e = cJSON_CreateObject();
		NUM(e, "queue", q);
		NUM(e, "jobs", st->queues[q].jobs);
		NUM(e, "ring_entries", st->queues[q].entries);
		NUM(e, "busy_cycles", st->queues[q].busy);
		NUM(e, "faulted_jobs", st->queues[q].faults);
		cJSON_AddItemToArray(a, e);
	}
	a = cJSON_AddArrayToObject(o, "contexts");
	for (size_t i = 0; i < st->ctxs.count; i++) {
		const struct stats_ctx *c = trace_replay_vec_at(&st->ctxs, i);

		e = cJSON_CreateObject();
		NUM(e, "connection", c->connection);
		NUM(e, "context", c->context);
		NUM(e, "submissions", c->submissions);
		NUM(e, "jobs", c->jobs);
		NUM(e, "busy_cycles", c->busy);
		cJSON_AddItemToArray(a, e);
	}
	NUM(o, "unattributed_jobs", st->unattributed_jobs);
	NUM(o, "unattributed_busy_cycles", st->unattributed_busy);
	o = cJSON_AddObjectToObject(root, "faults");
	NUM(o, "fault_events", st->fault_events);
	NUM(o, "faulted_jobs", st->job_faults);
	NUM(o, "resets", st->resets);
	NUM(o, "context_killed_statuses", st->killed);
	NUM(o, "connection_lost_statuses", st->lost);
	e = cJSON_AddObjectToObject(o, "by_code");
	for (uint32_t k = 0; k <= STATS_MAX_FAULTS; k++)
		if (st->faults_by_code[k])
			NUM(e, k < STATS_MAX_FAULTS ? sim_fault_name(k) : "?",
			    st->faults_by_code[k]);
#undef NUM
	return root;
}

/* @cycles as microseconds at the recorded clock, or "" when the clock is unknown. */
static const char *at_clock(const struct stats *st, uint64_t cycles, char *buf, size_t size)
{
	if (!st->clock_khz)
		return "";
	snprintf(buf, size, " = %.1f us", (double)cycles * 1000.0 / (double)st->clock_khz);
	return buf;
}

static void print_text(struct stats *st)
{
	char t[64];

	printf("trace %s: %" PRIu64 " events (%" PRIu64 " calls, %" PRIu64 " completions, %" PRIu64
	       " blobs, %" PRIu64 " dev, %" PRIu64 " device)\n",
	       st->path, st->events, st->by_type[TT_CALL], st->by_type[TT_COMPLETION],
	       st->by_type[TT_BLOB], st->by_type[TT_DEV], st->by_type[TT_DEVICE]);
	printf("\ncalls                          count   failed\n");
	qsort(st->calls.v, st->calls.count, sizeof(struct stats_call), cmp_calls);
	for (size_t i = 0; i < st->calls.count; i++) {
		const struct stats_call *c = trace_replay_vec_at(&st->calls, i);

		printf("  %-26s %9" PRIu64 " %8" PRIu64 "\n", c->name, c->count, c->failed);
	}
	printf("\nsubmissions\n"
	       "  execute_command %" PRIu64 " (%" PRIu64 " command buffers, %" PRIu64
	       " resources, %" PRIu64 " with signal semaphores), execute_inline %" PRIu64
	       " (%" PRIu64 " commands); %" PRIu64 " failed; %" PRIu64 " completions recorded\n",
	       st->exec, st->exec_cmd_buffers, st->exec_resources, st->exec_signaling,
	       st->inline_calls, st->inline_commands, st->failed_submissions,
	       st->by_type[TT_COMPLETION]);
	printf("\nbytes\n"
	       "  resource ranges submitted %14" PRIu64 "  (sum of lengths)\n"
	       "  ... with contents recorded %13" PRIu64 "\n"
	       "  ... contents changed      %14" PRIu64
	       "  (ranges whose submit-time digest differs from the last\n"
	       "                                            seen there: CPU writes, whole "
	       "ranges)\n"
	       "  inline commands           %14" PRIu64 "\n"
	       "  notifications read        %14" PRIu64 "\n"
	       "  COPY commands             %14" PRIu64 "  (%" PRIu64 " commands)\n"
	       "  FILL commands             %14" PRIu64 "  (%" PRIu64 " commands)\n"
	       "  blobs                     %14" PRIu64 "  (%" PRIu64 " characters of text)\n",
	       st->resource_bytes, st->contents_bytes, st->changed_bytes, st->inline_bytes,
	       st->notification_bytes, st->cmds.copy_bytes, st->cmds.copies, st->cmds.fill_bytes,
	       st->cmds.fills, st->blob_bytes, st->blob_text);
	printf("  (COPY/FILL decoded from the recorded command buffers up to END or JUMP: %" PRIu64
	       " commands, %" PRIu64 " writes, %" PRIu64 " dispatches; %" PRIu64
	       " command buffers not decoded to their END)\n",
	       st->cmds.commands, st->cmds.writes, st->cmds.dispatches, st->undecoded);
	if (!st->by_type[TT_DEV]) {
		printf("\ngpu: no device events (recorded through a daemon, or client side only)\n");
	} else {
		printf("\ngpu (from dev events; busy = GPU cycles from each ring entry's JOB_START "
		       "to its JOB_END)\n"
		       "  %" PRIu64 " device(s), %" PRIu64 " cycles from first to last event%s%s\n",
		       st->devices, st->span, at_clock(st, st->span, t, sizeof(t)),
		       st->clock_khz ? "" : " (clock unknown)");
		for (uint32_t q = 0; q < STATS_MAX_QUEUES; q++) {
			const struct stats_queue *sq = &st->queues[q];

			if (!sq->entries)
				continue;
			printf("  queue %u: %" PRIu64 " jobs (%" PRIu64
			       " ring entries), busy %" PRIu64
			       " cycles%s (%.1f%% of the span), %" PRIu64 " faulted\n",
			       q, sq->jobs, sq->entries, sq->busy,
			       at_clock(st, sq->busy, t, sizeof(t)),
			       st->span ? 100.0 * (double)sq->busy / (double)st->span : 0.0,
			       sq->faults);
		}
		printf("  per context (jobs matched to submissions as magma-view does):\n");
		for (size_t i = 0; i < st->ctxs.count; i++) {
			const struct stats_ctx *c = trace_replay_vec_at(&st->ctxs, i);

			printf("    connection %" PRIu64 " context %" PRIu64 ": %" PRIu64
			       " submissions, %" PRIu64 " jobs, busy %" PRIu64 " cycles%s\n",
			       c->connection, c->context, c->submissions, c->jobs, c->busy,
			       at_clock(st, c->busy, t, sizeof(t)));
		}
		printf("    unattributed: %" PRIu64 " jobs, busy %" PRIu64 " cycles\n",
		       st->unattributed_jobs, st->unattributed_busy);
		printf("  commands executed (CMD events):%s",
		       st->cmd_by_opcode_total ? "" : " none recorded (older traces have none)");
		for (uint32_t op = 0; op <= SIM_CMD_OPCODE_COUNT; op++)
			if (st->cmd_by_opcode[op])
				printf(" %s %" PRIu64,
				       op < SIM_CMD_OPCODE_COUNT && sim_cmd_name(op)
					       ? sim_cmd_name(op)
					       : "?",
				       st->cmd_by_opcode[op]);
		printf("\n");
	}
	printf("\nfaults: %" PRIu64 " FAULT events, %" PRIu64
	       " jobs ended with a fault code, %" PRIu64
	       " GPU resets (the driver's first one included); statuses CONTEXT_KILLED %" PRIu64
	       ", CONNECTION_LOST %" PRIu64 "\n",
	       st->fault_events, st->job_faults, st->resets, st->killed, st->lost);
	for (uint32_t k = 0; k <= STATS_MAX_FAULTS; k++)
		if (st->faults_by_code[k])
			printf("  %s: %" PRIu64 "\n",
			       k < STATS_MAX_FAULTS ? sim_fault_name(k) : "?",
			       st->faults_by_code[k]);
}

static void stats_fini(struct stats *st)
{
	tt_reader_close(&st->rd);
	trace_replay_vec_fini(&st->calls);
	trace_replay_map_fini(&st->call_by_hash);
	trace_replay_map_fini(&st->last_digest);
	trace_replay_map_fini(&st->sub_ranges);
	trace_replay_vec_fini(&st->range_keys);
	trace_replay_map_fini(&st->blob_index);
	trace_replay_map_fini(&st->decoded_by);
	trace_replay_vec_fini(&st->decoded);
	trace_replay_vec_fini(&st->ctxs);
	trace_replay_map_fini(&st->ctx_by_id);
	trace_replay_vec_fini(&st->pending);
	trace_replay_vec_fini(&st->mappings);
	trace_replay_map_fini(&st->mapping_by_buffer);
	trace_replay_map_fini(&st->buffer_id);
}

static int usage(void)
{
	fprintf(stderr, "usage: magma-trace stats TRACE [--json]\n"
			"(magma-trace stats --help for more)\n");
	return TRACE_REPLAY_BAD_INPUT;
}

static void help(void)
{
	printf("usage: magma-trace stats TRACE [--json]\n"
	       "\n"
	       "Counts what TRACE holds: calls by name (and how many failed), submissions,\n"
	       "bytes (resource ranges submitted, ranges whose contents changed since last\n"
	       "seen, inline commands, notifications, COPY and FILL bytes decoded from the\n"
	       "recorded command buffers, blobs), the GPU's busy cycles per queue and per\n"
	       "context (from the device events of an embedded-device recording; jobs matched\n"
	       "to submissions as magma-view matches them), commands executed, faults.\n"
	       "Reads the file once, one line at a time; nothing is replayed.\n"
	       "  --json   the same numbers as one JSON object (docs/trace-tools.md)\n"
	       "  --help   this text\n"
	       "Exit status: 0 printed, 2 bad input (unreadable or malformed trace, bad\n"
	       "options), 3 host error (out of memory).\n");
}

/* trace_tool_stats - magma-trace stats (see the file head and help()). */
int trace_tool_stats(int argc, char **argv)
{
	struct stats *st = calloc(1, sizeof(*st));
	bool json = false;
	int ret = 0;

	if (!st) {
		fprintf(stderr, "magma-trace stats: out of memory\n");
		return TRACE_REPLAY_ENV_ERROR;
	}
	for (int i = 1; i < argc && !ret; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			help();
			free(st);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "magma-trace stats: unknown option '%s'\n", argv[i]);
			ret = usage();
		} else if (!st->path) {
			st->path = argv[i];
		} else {
			fprintf(stderr, "magma-trace stats: unexpected argument '%s'\n", argv[i]);
			ret = usage();
		}
	}
	if (!ret && !st->path) {
		fprintf(stderr, "magma-trace stats: needs a TRACE\n");
		ret = usage();
	}
	if (ret) {
		free(st);
		return ret;
	}
	for (int k = 0; k < STATS_MAX_SLOTS; k++)
		st->slot_conn[k] = STATS_NONE;
	ret = tt_reader_open(&st->rd, st->path);
	while (!ret && !st->oom && !(ret = tt_reader_next(&st->rd)) && st->rd.type != TT_END) {
		const cJSON *ev = st->rd.ev;

		st->by_type[st->rd.type]++;
		switch (st->rd.type) {
		case TT_CALL:
			on_call(st, ev);
			break;
		case TT_COMPLETION:
			on_completion(st, ev);
			break;
		case TT_BLOB:
			st->blob_bytes += tt_u64(ev, "size");
			st->blob_text += tt_str(ev, "data") ? strlen(tt_str(ev, "data")) : 0;
			if (!tt_blob_index_add(&st->blob_index, &st->rd))
				st->oom = true;
			break;
		case TT_DEV:
			on_dev(st, ev);
			break;
		case TT_DEVICE:
			on_device(st, ev);
			break;
		case TT_END:
			break;
		}
	}
	if (ret) {
		fprintf(stderr, "magma-trace stats: %s\n", st->rd.error);
	} else if (st->oom) {
		fprintf(stderr, "magma-trace stats: out of memory\n");
		ret = TRACE_REPLAY_ENV_ERROR;
	} else {
		cJSON *root;
		char *text;

		st->events = st->rd.index;
		if (st->device_open) /* no "destroyed" event: the span so far */
			st->span += st->cycle_last - st->cycle_first;
		if (json) {
			root = to_json(st);
			text = root ? cJSON_Print(root) : NULL;
			if (text)
				printf("%s\n", text);
			else
				ret = TRACE_REPLAY_ENV_ERROR;
			free(text);
			cJSON_Delete(root);
		} else {
			print_text(st);
		}
	}
	stats_fini(st);
	free(st);
	return ret;
}
