/* SPDX-License-Identifier: MIT */
/*
 * trace_timeline_json.c - the items of a timeline (trace_timeline_internal.h) as Chrome Trace
 * Event JSON that Perfetto's importer (ui.perfetto.dev) and chrome://tracing read.
 *
 * Order: items are written sorted by (ts, order, creation): by time, then by the record that
 * placed them, so a job comes before the commands that start with it and a submission before
 * the job it flows to (Perfetto processes equal timestamps in file order, and a flow step needs
 * its start already seen). Counter samples at one time collapse into the last one, and a sample
 * that repeats the previous value is left out, so each counter's times strictly increase.
 *
 * Nesting: Perfetto keeps a stack of open slices per track, treats a slice as [ts, ts + dur)
 * (one that ends exactly where the next begins is closed, except that 0-long ones stack), and
 * drops a slice that begins inside another and ends after it. The writer runs the same rule
 * over the sorted items and cuts such a slice's end to its enclosing slice's end ("clamped" in
 * its args), so nothing is dropped. The builder never makes one on the sim's own traces (the
 * tests check that), the cut is for traces it did not foresee.
 *
 * Units: ts and dur are GPU cycles / 1000 written as exact decimals (1.000 = 1000 cycles, 1 us
 * at the default 1 GHz; Perfetto's ns are then cycles). Flows are v2 flow events (bind_id,
 * flow_in, flow_out on the "X" slices), which bind to the very slice that carries them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim/sim.h"
#include "sim/sim_cmd.h"
#include "trace_timeline_internal.h"

/* Slices open on one track while the items are walked (see the file comment). */
struct timeline_stack {
	size_t *v;
	size_t count;
	size_t cap;
};

static int timeline_item_cmp(const void *a, const void *b)
{
	const struct timeline_item *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->made < y->made ? -1 : x->made > y->made;
}

/* True for the kinds that are slices or thread-scoped instants on their track. */
static bool timeline_is_stacked(const struct timeline_item *it)
{
	return it->kind != TIMELINE_RESET_MARK && it->kind != TIMELINE_POWER &&
	       it->kind != TIMELINE_BUSY;
}

/* Perfetto's rule for item @i on @st: close what ended, cut @i to the enclosing slice. */
static int timeline_nest(struct timeline_item *items, struct timeline_stack *st, size_t i)
{
	struct timeline_item *it = &items[i];

	while (st->count) {
		const struct timeline_item *top = &items[st->v[st->count - 1]];
		bool both_zero = top->end == top->ts && it->end == it->ts;

		if (top->end > it->ts || (top->end == it->ts && both_zero))
			break;
		st->count--;
	}
	if (st->count && it->end > items[st->v[st->count - 1]].end) {
		it->end = items[st->v[st->count - 1]].end;
		it->clamped = true;
	}
	if (st->count == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 8;
		size_t *v = realloc(st->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		st->v = v;
		st->cap = cap;
	}
	st->v[st->count++] = i;
	return 0;
}

/*
 * Counter kind @kind: sums BUSY deltas into values, keeps the last sample of each time and
 * drops a sample equal to the one before it (see the file comment).
 */
static void timeline_counters(struct timeline_build *b, uint8_t kind)
{
	struct timeline_item *prev = NULL, *shown = NULL;
	int32_t busy = 0;

	for (size_t i = 0; i <= b->count; i++) {
		struct timeline_item *it = i < b->count ? &b->items[i] : NULL;

		if (it && it->kind != kind)
			continue;
		if (it && kind == TIMELINE_BUSY)
			it->delta = busy += it->delta;
		if (prev && it && prev->ts == it->ts) {
			prev->skip = true;
		} else if (prev) {
			prev->skip = shown && prev->delta == shown->delta &&
				     prev->code == shown->code && prev->value == shown->value;
			if (!prev->skip)
				shown = prev;
		}
		prev = it;
	}
}

/* Writes cycles @t as microseconds: cycles / 1000 with three exact decimals. */
static void timeline_time(FILE *f, uint64_t t)
{
	fprintf(f, "%" PRIu64 ".%03u", t / 1000, (unsigned int)(t % 1000));
}

static uint32_t timeline_pid(uint32_t track)
{
	return track >= TIMELINE_TRACK_CONTEXT(0) ? TIMELINE_PID_CLIENT : TIMELINE_PID_GPU;
}

static uint32_t timeline_tid(uint32_t track)
{
	if (track >= TIMELINE_TRACK_CONTEXT(0))
		return TIMELINE_TID_CONTEXT + (track - TIMELINE_TRACK_CONTEXT(0));
	if (track >= TIMELINE_TRACK_QUEUE(0))
		return TIMELINE_TID_QUEUE + (track - TIMELINE_TRACK_QUEUE(0));
	return TIMELINE_TID_DEVICE;
}

static const char *timeline_end_name(const struct timeline_item *it)
{
	static const char *const names[] = {
		[TIMELINE_END_DONE] = "done",
		[TIMELINE_END_RESET] = "reset",
		[TIMELINE_END_ABANDONED] = "abandoned",
		[TIMELINE_END_UNFINISHED] = "unfinished",
	};

	if (it->end_kind == TIMELINE_END_DONE && it->code)
		return "faulted";
	return names[it->end_kind];
}

static const char *timeline_reset_name(uint32_t code)
{
	return code == SIM_GPU_COMMAND_HARD_RESET ? "hard reset" : "soft reset";
}

/* The head every event shares: phase, category, name, pid, tid, ts. */
static void timeline_head(FILE *f, const struct timeline_item *it, const char *ph, const char *cat)
{
	fprintf(f, ",\n{\"ph\":\"%s\",\"cat\":\"%s\",\"name\":\"", ph, cat);
	switch (it->kind) {
	case TIMELINE_JOB:
	case TIMELINE_JOB_COPY:
		fprintf(f, "job %" PRIu64, it->value2);
		if (it->end_kind != TIMELINE_END_DONE || it->code)
			fprintf(f, " (%s)", timeline_end_name(it));
		break;
	case TIMELINE_CMD:
		if (sim_cmd_name(it->code))
			fputs(sim_cmd_name(it->code), f);
		else
			fprintf(f, "opcode %" PRIu32, it->code);
		break;
	case TIMELINE_SUBMIT:
		fputs(it->aux ? "submit (no job)" : "submit", f);
		break;
	case TIMELINE_DONE:
		fprintf(f, "job %" PRIu64 " %s", it->value2, it->code ? "faulted" : "done");
		break;
	case TIMELINE_FAULT:
		fprintf(f, "fault %s", sim_fault_name(it->code));
		break;
	case TIMELINE_RESET:
	case TIMELINE_RESET_MARK:
		fputs(timeline_reset_name(it->code), f);
		break;
	default:
		fputs(cat, f);
		break;
	}
	fprintf(f, "\",\"pid\":%" PRIu32, timeline_pid(it->track));
	if (*ph != 'C')
		fprintf(f, ",\"tid\":%" PRIu32, timeline_tid(it->track));
	fputs(",\"ts\":", f);
	timeline_time(f, it->ts);
	if (*ph == 'X') {
		fputs(",\"dur\":", f);
		timeline_time(f, it->end - it->ts);
	}
}

/* The args and flow of slice @it, then the end of the event. */
static void timeline_slice_tail(FILE *f, const struct timeline_item *it)
{
	switch (it->kind) {
	case TIMELINE_JOB:
	case TIMELINE_JOB_COPY:
		fprintf(f,
			",\"args\":{\"queue\":%" PRIu32 ",\"as\":%" PRIu32 ",\"seqno\":%" PRIu64
			",\"cmd_va\":\"0x%" PRIx64 "\",\"entry\":%" PRIu32 ",\"end\":\"%s\","
			"\"fault\":%" PRIu32,
			it->queue, it->slot, it->value2, it->value, it->aux, timeline_end_name(it),
			it->code);
		break;
	case TIMELINE_CMD:
		fprintf(f,
			",\"args\":{\"opcode\":%" PRIu32 ",\"va\":\"0x%" PRIx64
			"\",\"job\":%" PRIu64 ",\"index\":%" PRIu32,
			it->code, it->value, it->value2, it->aux);
		break;
	case TIMELINE_SUBMIT:
		fprintf(f, ",\"args\":{\"connection\":%" PRIu64 ",\"context\":%" PRIu32, it->value,
			it->code);
		break;
	case TIMELINE_DONE:
		fprintf(f, ",\"args\":{\"queue\":%" PRIu32 ",\"fault\":%" PRIu32, it->queue,
			it->code);
		break;
	default:
		fprintf(f, ",\"args\":{\"gpu_command\":%" PRIu32, it->code);
		break;
	}
	if (it->clamped)
		fputs(",\"clamped\":true", f);
	fputc('}', f);
	if (it->flow)
		fprintf(f, ",\"bind_id\":%" PRIu32 "%s%s", it->flow,
			it->flow_in ? ",\"flow_in\":true" : "",
			it->flow_out ? ",\"flow_out\":true" : "");
	fputc('}', f);
}

/* Item @it as one event. */
static void timeline_item_write(FILE *f, const struct timeline_item *it)
{
	static const char *const cats[] = {
		[TIMELINE_JOB] = "job",	    [TIMELINE_JOB_COPY] = "job",
		[TIMELINE_CMD] = "command", [TIMELINE_SUBMIT] = "submit",
		[TIMELINE_DONE] = "done",   [TIMELINE_RESET] = "reset",
	};

	switch (it->kind) {
	case TIMELINE_FAULT:
		timeline_head(f, it, "i", "fault");
		fprintf(f,
			",\"s\":\"t\",\"args\":{\"code\":%" PRIu32 ",\"va\":\"0x%" PRIx64
			"\",\"as\":%" PRIu64 "}}",
			it->code, it->value, it->value2);
		break;
	case TIMELINE_IRQ:
		timeline_head(f, it, "i", "irq");
		fprintf(f, ",\"s\":\"t\",\"args\":{\"cause\":\"0x%" PRIx32 "\"}}", it->code);
		break;
	case TIMELINE_RESET_MARK:
		timeline_head(f, it, "i", "reset");
		fputs(",\"s\":\"g\"}", f);
		break;
	case TIMELINE_POWER:
		timeline_head(f, it, "C", "power");
		fprintf(f, ",\"args\":{\"cores_ready\":%" PRIu32 ",\"clock_divider\":%" PRIu64 "}}",
			it->code, it->value);
		break;
	case TIMELINE_BUSY:
		timeline_head(f, it, "C", "busy");
		fprintf(f, ",\"args\":{\"queues\":%" PRId32 "}}", it->delta);
		break;
	default:
		timeline_head(f, it, "X", cats[it->kind]);
		timeline_slice_tail(f, it);
		break;
	}
}

/* A metadata event: @what (process_name, thread_sort_index ...) of pid @pid, tid @tid (0: none). */
static void timeline_meta(FILE *f, const char *what, uint32_t pid, uint32_t tid)
{
	fprintf(f, ",\n{\"ph\":\"M\",\"name\":\"%s\",\"pid\":%" PRIu32, what, pid);
	if (tid)
		fprintf(f, ",\"tid\":%" PRIu32, tid);
	fputs(",\"args\":{", f);
}

/* Names and sort indices of the processes and of every track with items (after the GPU's name). */
static void timeline_names(FILE *f, const struct timeline_build *b)
{
	bool client = false;

	for (uint32_t n = 0; n < b->ctx_count; n++)
		client |= b->track_used[TIMELINE_TRACK_CONTEXT(n)];
	if (client) {
		timeline_meta(f, "process_name", TIMELINE_PID_CLIENT, 0);
		fputs("\"name\":\"client (replay)\"}}", f);
		timeline_meta(f, "process_sort_index", TIMELINE_PID_CLIENT, 0);
		fputs("\"sort_index\":0}}", f);
	}
	timeline_meta(f, "process_sort_index", TIMELINE_PID_GPU, 0);
	fputs("\"sort_index\":1}}", f);
	for (uint32_t t = 0; t < TIMELINE_TRACKS; t++) {
		uint32_t pid = timeline_pid(t), tid = timeline_tid(t);

		if (!b->track_used[t] && t != TIMELINE_TRACK_DEVICE)
			continue;
		timeline_meta(f, "thread_name", pid, tid);
		if (t == TIMELINE_TRACK_DEVICE)
			fputs("\"name\":\"device (interrupts, resets)\"}}", f);
		else if (t < TIMELINE_TRACK_CONTEXT(0))
			fprintf(f, "\"name\":\"queue %" PRIu32 "\"}}", t - TIMELINE_TRACK_QUEUE(0));
		else
			fprintf(f, "\"name\":\"context %" PRIu32 " (connection %" PRIu64 ")\"}}",
				b->ctxs[t - TIMELINE_TRACK_CONTEXT(0)].context,
				b->ctxs[t - TIMELINE_TRACK_CONTEXT(0)].connection);
		timeline_meta(f, "thread_sort_index", pid, tid);
		fprintf(f, "\"sort_index\":%" PRIu32 "}}", t);
	}
}

/* timeline_json_write - see trace_timeline_internal.h. */
int timeline_json_write(struct timeline_build *b, const char *path)
{
	struct timeline_stack *stacks = calloc(TIMELINE_TRACKS, sizeof(*stacks));
	FILE *f = NULL;
	int ret = 0;

	if (!stacks)
		return -ENOMEM;
	if (b->count)
		qsort(b->items, b->count, sizeof(*b->items), timeline_item_cmp);
	for (size_t i = 0; i < b->count && !ret; i++)
		if (timeline_is_stacked(&b->items[i]))
			ret = timeline_nest(b->items, &stacks[b->items[i].track], i);
	if (ret)
		goto out_free;
	timeline_counters(b, TIMELINE_BUSY);
	timeline_counters(b, TIMELINE_POWER);
	f = fopen(path, "we");
	if (!f) {
		ret = -errno;
		goto out_free;
	}
	fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"clock\":\"GPU cycles / 1000 (ts 1.000 = "
	      "1000 cycles, 1 us at the default 1 GHz)\",\"source\":\"magma-sim\"},"
	      "\"traceEvents\":[\n{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,"
	      "\"args\":{\"name\":\"GPU (magma-sim)\"}}",
	      f);
	timeline_names(f, b);
	for (size_t i = 0; i < b->count; i++)
		if (!b->items[i].skip)
			timeline_item_write(f, &b->items[i]);
	fputs("\n]}\n", f);
	if (ferror(f))
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
out_free:
	for (uint32_t t = 0; t < TIMELINE_TRACKS; t++)
		free(stacks[t].v);
	free(stacks);
	return ret;
}
