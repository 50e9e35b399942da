/* SPDX-License-Identifier: MIT */
/*
 * trace_trim.c - magma-trace trim: a self-contained trace of events N..M of another
 * (docs/trace-tools.md, "trim").
 *
 * Pass 1 reads the input a line at a time: the calls before N build the live state
 * (trace_trim_state.c), blob lines are indexed by digest, and the events from N on say what is
 * still running at N and what the range uses.
 *
 * The input is then replayed up to N and on_stop reads what the calls do not say: in-flight
 * work is let settle (or marked to be submitted again when it waits for the range), then each
 * live buffer's contents go to the output as blobs, and semaphore, exported-handle and
 * connection-error states are noted.
 *
 * The setup follows (trace_trim_setup.c). Last, events N..M are copied with new sequence
 * numbers, with the blobs they use from before N and each completion's "submission" renumbered;
 * completions of submissions not in the output are dropped.
 *
 * What the output cannot carry is a warning; a failed trim removes the output. Single-threaded
 * (the replay's device has its own threads).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "trace_trim.h"
#include "traces/trace.h"
#include "traces/trace_replay.h"

/* How long on_stop waits, in all, for work the recording saw complete after the cut. */
#define TRIM_SETTLE_NS	(5ull * 1000 * 1000 * 1000)
/* How long a submission that waits for a semaphore signaled after the cut is given to finish. */
#define TRIM_BLOCKED_NS (200ull * 1000 * 1000)

/* trim_warn - see trace_trim.h. */
void trim_warn(struct trim *t, const char *fmt, ...)
{
	va_list ap;

	fputs("magma-trace trim: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	t->warnings++;
}

/* ---- pass 1 ---- */

static int pass1(struct trim *t)
{
	struct tt_reader rd;
	int ret = tt_reader_open(&rd, t->in);

	if (ret) {
		fprintf(stderr, "magma-trace trim: %s\n", rd.error);
		return ret;
	}
	/* Device events change nothing trim rebuilds (the replay validates them). */
	rd.skip_dev = true;
	while (!(ret = tt_reader_next(&rd)) && rd.type != TT_END) {
		if (rd.index == t->from) {
			t->from_offset = rd.offset;
			t->from_line = rd.line_no;
		}
		if (rd.type == TT_BLOB && !tt_blob_index_add(&t->blob_index, &rd)) {
			ret = TRACE_REPLAY_ENV_ERROR;
			snprintf(rd.error, sizeof(rd.error), "out of memory");
			break;
		}
		if (rd.index < t->from) {
			ret = trim_state_apply(&t->s, &rd);
			if (ret) {
				snprintf(rd.error, sizeof(rd.error), "%s", t->s.error);
				break;
			}
		} else {
			ret = trim_state_note_after_cut(&t->s, &rd, rd.index <= t->to);
			if (ret) {
				snprintf(rd.error, sizeof(rd.error), "%s", t->s.error);
				break;
			}
		}
	}
	if (ret)
		fprintf(stderr, "magma-trace trim: %s\n", rd.error);
	t->events = rd.index;
	tt_reader_close(&rd);
	return ret;
}

/* ---- on_stop: what the replay holds at the cut ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* trim_conn_handle - see trace_trim.h. */
uint64_t trim_conn_handle(const struct trim *t, uint64_t ci)
{
	return ((struct trim_conn *)trace_replay_vec_at(&t->s.conns, ci))->handle;
}

/*
 * Waits up to @ns for every signal semaphore of @p; false when one stays unsignaled or cannot
 * be looked at (released before the cut).
 */
static bool wait_signals(struct trim *t, const struct trace_replay_access *access,
			 const struct trim_pending *p, uint64_t ns)
{
	uint64_t deadline = now_ns() + ns;

	for (uint32_t k = 0; k < p->sem_count; k++) {
		uint64_t now = now_ns();

		if (trace_replay_semaphore_wait(access, trim_conn_handle(t, p->conn), p->sems[k],
						now < deadline ? deadline - now : 0))
			return false;
	}
	return true;
}

/*
 * Lets the work in flight at the cut settle, in submission order, so that the contents and
 * semaphores read next are what the range starts from:
 * - a submission waiting for a semaphore that only an event after the cut signals (or a
 *   submission trim submits again) is given a moment; if its signal semaphores are still not
 *   signaled, or it has none, it is waiting, and the setup submits it again as recorded (its
 *   completion in the range then checks it);
 * - a submission the recording saw complete after the cut is waited for (TRIM_SETTLE_NS in
 *   all); one that does not finish is reported.
 */
static void settle(struct trim *t, const struct trace_replay_access *access)
{
	uint64_t deadline = t->settle_deadline = now_ns() + TRIM_SETTLE_NS;

	for (size_t i = 0; i < t->s.pending.count; i++) {
		struct trim_pending *p = trace_replay_vec_at(&t->s.pending, i);
		uint64_t now = now_ns(), left = now < deadline ? deadline - now : 0;

		if (p->done || !trim_conn_live(&t->s, p->conn))
			continue;
		if (trim_pending_may_be_blocked(&t->s, p)) {
			if (p->sem_count && wait_signals(t, access, p, TRIM_BLOCKED_NS))
				continue; /* it ran */
			if (trim_pending_can_resubmit(&t->s, p)) {
				p->resubmit = true;
				t->resubmitted++;
				trim_pending_mark_signals_later(&t->s, p);
			} else {
				trim_warn(
					t,
					"submission at event %" PRIu64
					" is still waiting at event %" PRIu64
					" for a semaphore signaled later, and cannot be submitted again "
					"(a semaphore or its context was released, or it is inline)",
					p->seq, t->from);
			}
			continue;
		}
		if (p->completes_late && p->sem_count && !wait_signals(t, access, p, left))
			trim_warn(
				t,
				"submission at event %" PRIu64
				" was still running at event %" PRIu64
				" and did not finish in the replay: its effects are not in the trimmed "
				"trace",
				p->seq, t->from);
	}
}

/*
 * Whether a submission before the cut that is neither known to be done nor waiting for the
 * range signals semaphore object @object (by the ids it recorded, released or not).
 */
static bool object_in_flight(const struct trim *t, uint64_t object)
{
	for (size_t i = 0; i < t->s.pending.count; i++) {
		const struct trim_pending *p = trace_replay_vec_at(&t->s.pending, i);

		if (p->done || p->resubmit || trim_pending_may_be_blocked(&t->s, p))
			continue;
		for (uint32_t k = 0; k < p->sem_count; k++) {
			uint64_t si;

			if (tt_map_get(&t->s.sem_by_id, p->conn, p->sems[k], &si) &&
			    ((struct trim_sem *)trace_replay_vec_at(&t->s.sems, si))->object ==
				    object)
				return true;
		}
	}
	return false;
}

static bool all_zero(const uint8_t *p, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Reads the contents of live buffer @bi's memory (once per object) and writes its blob. */
static int read_contents(struct trim *t, const struct trace_replay_access *access, uint64_t bi)
{
	struct trim_buf *b = trace_replay_vec_at(&t->s.bufs, bi);
	struct trim_object *o = trace_replay_vec_at(&t->s.objects, b->object);
	uint64_t size = 0;
	uint8_t *data;
	int err;

	if (o->read)
		return 0;
	o->read = true;
	err = trace_replay_buffer_size(access, trim_conn_handle(t, b->conn), b->id, &size);
	if (err) {
		trim_warn(t,
			  "buffer id %" PRIu64 " (connection %" PRIu64
			  ") is not in the replay at event %" PRIu64
			  ": %s; its contents are not carried",
			  b->id, trim_conn_handle(t, b->conn), t->from, strerror(-err));
		return 0;
	}
	if (size > b->size)
		size = b->size;
	if (size > SIZE_MAX - 1)
		return -ENOMEM;
	data = malloc(size ? (size_t)size : 1);
	if (!data)
		return -ENOMEM;
	err = trace_replay_read_buffer(access, trim_conn_handle(t, b->conn), b->id, 0, size, data);
	if (!err && !all_zero(data, size)) {
		err = trim_out_blob(&t->out, data, (size_t)size, &o->digest);
		o->has_contents = !err;
		o->size = size;
		t->setup_events += !err;
	} else if (err) {
		trim_warn(t, "buffer id %" PRIu64 " cannot be read in the replay: %s", b->id,
			  strerror(-err));
		err = 0;
	}
	free(data);
	return err;
}

static void on_stop(void *ctx, const struct trace_replay_access *access)
{
	struct trim *t = ctx;

	settle(t, access);
	for (size_t i = 0; i < t->s.conns.count; i++) {
		struct trim_conn *c = trace_replay_vec_at(&t->s.conns, i);

		if (c->live && trace_replay_connection_error(access, c->handle, &c->error_at_cut))
			c->error_at_cut = 0;
	}
	for (size_t i = 0; i < t->s.sems.count; i++) {
		struct trim_sem *m = trace_replay_vec_at(&t->s.sems, i);
		struct trim_object *o = trace_replay_vec_at(&t->s.objects, m->object);

		if (!trim_sem_live(&t->s, i) || o->read)
			continue;
		o->read = true;
		o->signaled = !trace_replay_semaphore_wait(access, trim_conn_handle(t, m->conn),
							   m->id, 0);
	}
	/*
	 * Exported handles whose semaphore is gone: the handle still says whether it is signaled.
	 * Work in flight that signals it is waited for first, as settle() does.
	 */
	for (size_t i = 0; i < t->s.exports.count; i++) {
		struct trim_export *e = trace_replay_vec_at(&t->s.exports, i);
		uint64_t now = now_ns();

		if (!e->live ||
		    ((struct trim_object *)trace_replay_vec_at(&t->s.objects, e->object))->read)
			continue;
		e->orphan = true;
		if (e->semaphore && tt_map_get(&t->s.range_handles, e->handle, 0, NULL))
			e->readable = !trace_replay_handle_wait(
				access, e->handle,
				object_in_flight(t, e->object) && now < t->settle_deadline
					? t->settle_deadline - now
					: 0);
	}
	for (size_t i = 0; i < t->s.bufs.count; i++) {
		int err = trim_buf_live(&t->s, i) ? read_contents(t, access, i) : 0;

		if (err) {
			t->stop_ret = TRACE_REPLAY_ENV_ERROR;
			snprintf(t->stop_error, sizeof(t->stop_error),
				 "reading the buffers at event %" PRIu64 ": %s", t->from,
				 strerror(-err));
			return;
		}
	}
}

/* ---- the range ---- */

/* Makes sure the blob of digest @hex is in the output before an event that uses it. */
static int need_blob(struct trim *t, const struct tt_reader *rd, const char *hex)
{
	struct tt_blob b;
	uint64_t d;
	int err;

	if (!hex || !*hex || trace_digest_parse(hex, &d) || tt_map_get(&t->out.blobs, d, 0, NULL))
		return 0;
	err = tt_blob_load(rd, &t->blob_index, hex, &b);
	if (err)
		return err;
	err = trim_out_copy_line(&t->out, b.line);
	tt_blob_free(&b);
	if (!err && !trace_replay_map_put(&t->out.blobs, d, 0, 1))
		err = -ENOMEM;
	t->carried_blobs += !err;
	return err;
}

/* The blobs call @ev refers to: contents, inline commands, notification data. */
static int need_call_blobs(struct trim *t, const struct tt_reader *rd, const cJSON *ev)
{
	const cJSON *args = tt_member(ev, "args"), *it;
	int err = 0;

	cJSON_ArrayForEach(it, tt_member(args, "resources"))
	{
		if (!err)
			err = need_blob(t, rd, tt_str(it, "contents"));
	}
	cJSON_ArrayForEach(it, tt_member(args, "commands"))
	{
		if (!err)
			err = need_blob(t, rd, tt_str(it, "data"));
	}
	cJSON_ArrayForEach(it, tt_member(args, "programs"))
	{
		if (!err)
			err = need_blob(t, rd, tt_str(it, "contents"));
	}
	if (!err)
		err = need_blob(t, rd, tt_str(tt_member(ev, "out"), "data"));
	if (!err)
		err = need_blob(t, rd, tt_str(args, "contents")); /* buffer_clean_cache */
	return err;
}

/* A completion of the range, renumbered; @ev is the reader's (copied before it is edited). */
static int copy_completion(struct trim *t, const cJSON *ev)
{
	uint64_t sub = tt_u64(ev, "submission"), seq;
	cJSON *copy;
	char *text;

	if (!tt_map_get(&t->new_seq, sub, 0, &seq) && sub < t->from) {
		t->dropped_completions++;
		return 0;
	}
	if (!tt_map_get(&t->new_seq, sub, 0, &seq)) {
		trim_warn(t,
			  "completion of event %" PRIu64
			  " names no submission in the range; dropped",
			  sub);
		t->dropped_completions++;
		return 0;
	}
	copy = cJSON_Duplicate(ev, true);
	if (!copy)
		return -ENOMEM;
	cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(copy, "submission"), (double)seq);
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "seq");
	text = cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	if (!text)
		return -ENOMEM;
	text[strlen(text) - 1] = '\0';
	trim_out_event(&t->out, "%s", text + 1);
	free(text);
	t->range_events++;
	return 0;
}

/*
 * The setup after the state (it reads resubmitted calls back from the input through @rd), then
 * events N..M. Returns an exit status, with the message printed.
 */
static int finish_setup_and_copy_range(struct trim *t, struct tt_reader *rd)
{
	int err = trim_setup_finish(t, rd);
	int ret = 0;

	if (!err)
		ret = tt_reader_seek(rd, t->from_offset, t->from_line, t->from);
	while (!ret && !err && !(ret = tt_reader_next(rd)) && rd->index <= t->to) {
		const char *call = rd->type == TT_CALL ? tt_str(rd->ev, "call") : NULL;
		uint64_t d = 0;

		switch (rd->type) {
		case TT_BLOB:
			if (!trace_digest_parse(tt_str(rd->ev, "digest"), &d) &&
			    tt_map_get(&t->out.blobs, d, 0, NULL))
				continue; /* already written (contents at the cut, or carried) */
			err = trim_out_copy_line(&t->out, rd->line);
			if (!err && !trace_replay_map_put(&t->out.blobs, d, 0, 1))
				err = -ENOMEM;
			break;
		case TT_COMPLETION:
			err = copy_completion(t, rd->ev);
			continue;
		case TT_CALL:
			err = need_call_blobs(t, rd, rd->ev);
			if (!err && call &&
			    (!strcmp(call, "execute_command") || !strcmp(call, "execute_inline")) &&
			    !trace_replay_map_put(&t->new_seq, rd->index, 0, t->out.seq))
				err = -ENOMEM;
			if (!err)
				err = trim_out_copy_line(&t->out, rd->line);
			break;
		default:
			err = trim_out_copy_line(&t->out, rd->line);
			break;
		}
		t->range_events += !err;
	}
	if (ret)
		fprintf(stderr, "magma-trace trim: %s\n", rd->error);
	if (!ret && err) {
		fprintf(stderr,
			"magma-trace trim: writing the setup and events %" PRIu64 "..%" PRIu64
			": %s\n",
			t->from, t->to, strerror(-err));
		ret = err == -ENOMEM ? TRACE_REPLAY_ENV_ERROR : TRACE_REPLAY_BAD_INPUT;
	}
	return ret;
}

/* ---- the command ---- */

static int usage(void)
{
	fprintf(stderr, "usage: magma-trace trim --from N --to M IN OUT\n"
			"(magma-trace trim --help for more)\n");
	return TRACE_REPLAY_BAD_INPUT;
}

static void help(void)
{
	printf("usage: magma-trace trim --from N --to M IN OUT\n"
	       "\n"
	       "Writes OUT, a trace that replays on its own: the client state before event N of\n"
	       "IN (devices, connections, contexts, buffers and their contents, mappings,\n"
	       "semaphores and whether they are signaled, notification channels, exported\n"
	       "handles, counter pools) as setup calls, then events N..M of IN renumbered.\n"
	       "magma-replay OUT checks the completions of the range against IN's digests.\n"
	       "Contents and semaphore states come from replaying IN up to event N.\n"
	       "  --from N   first event of the range (0 <= N <= M)\n"
	       "  --to M     last event of the range (M < the end event's index)\n"
	       "  --help     this text\n"
	       "Exit status: 0 written, 1 IN diverges in its replay before event N, 2 bad input\n"
	       "(unreadable or bad trace, bad range or options), 3 host error (OUT cannot be\n"
	       "written, out of memory, no device). Warnings name what the output cannot carry.\n");
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int parse_args(struct trim *t, int argc, char **argv, bool *help_out)
{
	bool have_from = false, have_to = false;

	*help_out = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			*help_out = true;
			return 0;
		} else if ((!strcmp(a, "--from") || !strcmp(a, "--to")) && i + 1 < argc) {
			bool from = !strcmp(a, "--from");

			if (!tt_parse_u64(argv[++i], from ? &t->from : &t->to)) {
				fprintf(stderr,
					"magma-trace trim: %s '%s' is not an event number\n", a,
					argv[i]);
				return usage();
			}
			*(from ? &have_from : &have_to) = true;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "magma-trace trim: unknown option or missing value: '%s'\n",
				a);
			return usage();
		} else if (!t->in) {
			t->in = a;
		} else if (!t->out_path) {
			t->out_path = a;
		} else {
			fprintf(stderr, "magma-trace trim: unexpected argument '%s'\n", a);
			return usage();
		}
	}
	if (!have_from || !have_to || !t->in || !t->out_path) {
		fprintf(stderr, "magma-trace trim: needs --from, --to, IN and OUT\n");
		return usage();
	}
	if (t->to < t->from) {
		fprintf(stderr,
			"magma-trace trim: --to %" PRIu64 " is before --from %" PRIu64
			" (the range is N..M with N <= M)\n",
			t->to, t->from);
		return TRACE_REPLAY_BAD_INPUT;
	}
	if (same_file(t->in, t->out_path)) {
		fprintf(stderr,
			"magma-trace trim: OUT is IN (%s): refusing to overwrite the input\n",
			t->in);
		return TRACE_REPLAY_BAD_INPUT;
	}
	return 0;
}

static void trim_fini(struct trim *t)
{
	trim_state_fini(&t->s);
	trace_replay_map_fini(&t->blob_index);
	trace_replay_map_fini(&t->new_seq);
	if (t->out.f) {
		fclose(t->out.f);
		t->out.f = NULL;
	}
	trace_replay_map_fini(&t->out.blobs);
}

/* trace_tool_trim - magma-trace trim (see the file head and help()). */
int trace_tool_trim(int argc, char **argv)
{
	struct trace_replay_options opts;
	struct trace_replay_result *res = calloc(1, sizeof(*res));
	struct tt_reader rd;
	struct trim t = {0};
	bool want_help;
	int ret, err;

	if (!res) {
		fprintf(stderr, "magma-trace trim: out of memory\n");
		return TRACE_REPLAY_ENV_ERROR;
	}
	ret = parse_args(&t, argc, argv, &want_help);
	if (ret || want_help) {
		if (want_help)
			help();
		free(res);
		return ret;
	}
	ret = pass1(&t);
	if (ret)
		goto out;
	if (t.to >= t.events) {
		fprintf(stderr,
			"magma-trace trim: --to %" PRIu64 " is beyond the last event of %s: events "
			"are 0..%" PRIu64 " (event %" PRIu64 " is the end)\n",
			t.to, t.in, t.events ? t.events - 1 : 0, t.events);
		ret = TRACE_REPLAY_BAD_INPUT;
		goto out;
	}
	err = trim_out_open(&t.out, t.out_path, t.from, t.to);
	if (err) {
		fprintf(stderr, "magma-trace trim: cannot create %s: %s\n", t.out_path,
			strerror(-err));
		ret = TRACE_REPLAY_ENV_ERROR;
		goto out;
	}
	t.created = true;
	trace_replay_default_options(&opts);
	opts.stop_at = t.from;
	opts.on_stop = on_stop;
	opts.skip_inert = true;
	opts.stop_ctx = &t;
	ret = trace_replay_run(t.in, &opts, res);
	if (!ret && t.stop_ret) {
		fprintf(stderr, "magma-trace trim: %s\n", t.stop_error);
		ret = t.stop_ret;
	} else if (!ret && res->stopped_at == UINT64_MAX) {
		fprintf(stderr,
			"magma-trace trim: the replay of %s ended before event %" PRIu64 "\n", t.in,
			t.from);
		ret = TRACE_REPLAY_ENV_ERROR;
	} else if (ret) {
		fprintf(stderr, "magma-trace trim: %s: %s%s\n", t.in, res->message,
			ret == TRACE_REPLAY_DIVERGED ? " (trim needs the state at --from, which "
						       "the replay reaches only without divergence)"
						     : "");
	}
	if (ret)
		goto out_remove;
	trim_setup_state(&t);
	ret = tt_reader_open(&rd, t.in);
	if (ret) {
		fprintf(stderr, "magma-trace trim: %s\n", rd.error);
		goto out_remove;
	}
	ret = finish_setup_and_copy_range(&t, &rd);
	tt_reader_close(&rd);
	if (ret)
		goto out_remove;
	err = trim_out_close(&t.out);
	if (err) {
		fprintf(stderr, "magma-trace trim: writing %s: %s\n", t.out_path, strerror(-err));
		ret = TRACE_REPLAY_ENV_ERROR;
		goto out_remove;
	}
	printf("wrote %s: events %" PRIu64 "..%" PRIu64 " of %s (%" PRIu64 " events) as %" PRIu64
	       " events: %" PRIu64 " of setup, %" PRIu64 " from the range, %" PRIu64
	       " blobs from before it; %" PRIu64
	       " completions of earlier submissions dropped; %" PRIu64
	       " submissions still waiting at the cut submitted again; %" PRIu64 " warnings\n",
	       t.out_path, t.from, t.to, t.in, t.events, t.out.seq, t.setup_events, t.range_events,
	       t.carried_blobs, t.dropped_completions, t.resubmitted, t.warnings);
	goto out;

out_remove:
	if (t.out.f) {
		fclose(t.out.f);
		t.out.f = NULL;
	}
	if (t.created)
		unlink(t.out_path);
out:
	trim_fini(&t);
	free(res);
	return ret;
}
