/* SPDX-License-Identifier: MIT */
/*
 * trace_merge.c - magma-trace merge CLIENT DAEMON OUT: a client's recording made against
 * magma-simd, and the daemon's recording of that device (magma-simd --trace), as one trace that
 * reads like an embedded recording of the client (docs/trace-tools.md, "merge").
 *
 * Both files carry host times ("ns", CLOCK_MONOTONIC; docs/trace-format.md "Host times") and name
 * the device and the connections the same way: the client's device_import records the device's
 * instance number, which the daemon's header has; its create_connection records the connection's
 * first object id (id_base), which the daemon's CONNECTION_OPENED records have next to the
 * service's connection number that the daemon puts on each job's device events. So:
 *
 * - pass 1 reads CLIENT: which of its devices is DAEMON's, which connections are on it (by
 *   id_base) and the n-th submission each accepted (the driver numbers them the same way), and
 *   the host times its session spans; then DAEMON: which of its connections are CLIENT's. Any
 *   mismatch (another device or daemon run, no shared connection, disjoint times) is refused
 *   before OUT exists;
 * - pass 2 writes OUT: CLIENT's events in their order, and between them DAEMON's device events
 *   in their order, each placed by time (a device event goes before the first client event
 *   stamped later; ties: the device first, a client call is stamped after it returned) with one
 *   exception: a job's events never come before the call that submitted it (the call is stamped
 *   after its message was sent, the job may start before). Device events of other clients'
 *   jobs, events outside CLIENT's session and the daemon's connection records are left out;
 *   device-wide events (registers, interrupts, power, resets) in the session are kept. A job's
 *   events name the client's connection handle and, as "submission", the seq of the call that
 *   submitted it in OUT. "device" created and destroyed events bracket the device events, as an
 *   embedded recording's do.
 *
 * Lines are copied as they are, but for the seq (renumbered), a completion's "submission"
 * (renumbered) and a device event's tail (the daemon's connection numbers replaced), so numbers
 * keep their exact text. Memory: the longest line of either file plus a few map entries per
 * connection and per submission. Single-threaded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace_tool.h"
#include "traces/trace.h"
#include "traces/trace_replay.h"

/* What a daemon event is to the merge. */
enum merge_dev_kind {
	MERGE_SKIP,	/* not written: the daemon's own records, other clients', outside */
	MERGE_DEVICE,	/* a device-wide event in the session: written as it is */
	MERGE_OWNED,	/* an event of a job of CLIENT's: written with its connection */
	MERGE_PAST_END, /* stamped after CLIENT's end: the daemon has nothing more for it */
};

struct merge {
	const char *client_path, *daemon_path, *out_path;
	struct tt_reader client, daemon;
	bool client_open, daemon_open;
	uint64_t client_events_offset, daemon_events_offset; /* of each file's event 0 */
	cJSON *client_header;
	uint64_t pid; /* CLIENT's, 0 when its header has none */
	char instance[17];
	uint64_t device_index;
	char socket[512];

	/* pass 1 */
	struct replay_map devices;     /* CLIENT device handle -> 1: DAEMON's device, 0: not */
	struct replay_map conn_base;   /* CLIENT connection handle -> id_base, UINT64_MAX: not */
	struct replay_map base_conn;   /* (id_base, 0) -> CLIENT connection handle */
	struct replay_map submissions; /* (id_base, k) -> CLIENT seq of the k-th; (id_base, 0): k */
	struct replay_map daemon_conn; /* (DAEMON connection number, 0) -> id_base of CLIENT's */
	uint64_t imports, connections, shared, other_instances;
	char other_instance[17];
	uint64_t client_first_ns, client_end_ns, daemon_first_ns, daemon_last_ns;
	bool client_has_ns, daemon_has_ns;
	bool pid_warned;

	/* pass 2 */
	FILE *out;
	bool created;
	uint64_t seq;		   /* events written */
	struct replay_map new_seq; /* (CLIENT seq of a submission call, 0) -> its seq in OUT */
	struct replay_map emitted; /* (id_base, 0) -> its submissions written so far */
	bool device_written;
	uint64_t max_cycle, last_ns;
	uint64_t client_written, device_written_count, owned_written, jobs_written;
	uint64_t other_left_out, outside_left_out;
};

static int merge_fail(int ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "magma-trace merge: ..." and returns @ret. */
static int merge_fail(int ret, const char *fmt, ...)
{
	va_list ap;

	fputs("magma-trace merge: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return ret;
}

static int reader_fail(const struct tt_reader *rd, int ret)
{
	return merge_fail(ret, "%s", rd->error);
}

static int oom(void)
{
	return merge_fail(TRACE_REPLAY_ENV_ERROR, "out of memory");
}

/*
 * The host time of line @line (@len bytes): its last member "ns", read from the text so that
 * every digit counts (a JSON double would round stamps past 2^53). False when it has none.
 */
static bool line_ns(const char *line, size_t len, uint64_t *ns)
{
	static const char key[] = ",\"ns\":";
	size_t end = len, start;
	uint64_t v = 0;

	if (!end || line[end - 1] != '}')
		return false;
	start = --end;
	while (start && line[start - 1] >= '0' && line[start - 1] <= '9')
		start--;
	if (start == end || end - start > 19 || start < sizeof(key) - 1 ||
	    memcmp(line + start - (sizeof(key) - 1), key, sizeof(key) - 1))
		return false;
	for (size_t i = start; i < end; i++)
		v = v * 10 + (uint64_t)(line[i] - '0');
	*ns = v;
	return true;
}

/* The header of @rd's file, parsed (the caller deletes it), or NULL with a message printed. */
static cJSON *read_header(const struct tt_reader *rd, int *ret)
{
	char *line, *doc;
	size_t len;
	cJSON *h;
	int err = tt_reader_line_at(rd, 0, &line);

	if (err) {
		*ret = merge_fail(err == -ENOMEM ? TRACE_REPLAY_ENV_ERROR : TRACE_REPLAY_BAD_INPUT,
				  "%s: cannot read its header again: %s", rd->path, strerror(-err));
		return NULL;
	}
	len = strlen(line);
	doc = malloc(len + 3);
	if (!doc) {
		free(line);
		*ret = oom();
		return NULL;
	}
	memcpy(doc, line, len);
	memcpy(doc + len, "]}", 3);
	h = cJSON_Parse(doc);
	free(doc);
	free(line);
	if (!h)
		*ret = merge_fail(TRACE_REPLAY_BAD_INPUT, "%s: its header is not JSON", rd->path);
	return h;
}

/* Opens @path into @rd and notes where its events begin. */
static int open_input(struct tt_reader *rd, const char *path, uint64_t *events_offset)
{
	int ret = tt_reader_open(rd, path);

	if (ret)
		return reader_fail(rd, ret);
	*events_offset = rd->next_offset;
	return 0;
}

/* The headers: CLIENT a recording with host times, DAEMON a magma-simd --trace recording. */
static int check_headers(struct merge *m)
{
	const cJSON *daemon_member;
	const char *writer, *clock, *instance, *socket;
	cJSON *dh;
	int ret = 0;
	uint64_t v;

	m->client_header = read_header(&m->client, &ret);
	if (!m->client_header)
		return ret;
	dh = read_header(&m->daemon, &ret);
	if (!dh)
		return ret;
	writer = tt_str(m->client_header, "writer");
	if (writer && !strcmp(writer, "magma-simd")) {
		ret = merge_fail(TRACE_REPLAY_BAD_INPUT,
				 "%s is a daemon's recording (writer \"magma-simd\"): the client's "
				 "comes first (magma-trace merge CLIENT DAEMON OUT)",
				 m->client_path);
		goto out;
	}
	clock = tt_str(m->client_header, "clock");
	if (!clock || strcmp(clock, "monotonic")) {
		ret = merge_fail(
			TRACE_REPLAY_BAD_INPUT,
			"%s has no host times (no \"clock\":\"monotonic\" in its header): it "
			"was recorded before libmagma stamped calls with host time; record "
			"it again",
			m->client_path);
		goto out;
	}
	if (tt_get_u64(m->client_header, "pid", &v))
		m->pid = v;
	writer = tt_str(dh, "writer");
	daemon_member = tt_member(dh, "daemon");
	if (!writer || strcmp(writer, "magma-simd") || !cJSON_IsObject(daemon_member)) {
		ret = merge_fail(TRACE_REPLAY_BAD_INPUT,
				 "%s is not a magma-simd --trace recording (writer \"%.64s\"%s)",
				 m->daemon_path, writer ? writer : "?",
				 cJSON_IsObject(daemon_member) ? ""
							       : ", no \"daemon\" in its header");
		goto out;
	}
	instance = tt_str(daemon_member, "instance");
	clock = tt_str(dh, "clock");
	if (!instance || strlen(instance) != 16 || trace_digest_parse(instance, &v) || !clock ||
	    strcmp(clock, "monotonic") || !tt_get_u64(daemon_member, "device", &m->device_index)) {
		ret = merge_fail(TRACE_REPLAY_BAD_INPUT,
				 "%s: its header lacks the daemon's device, instance or clock",
				 m->daemon_path);
		goto out;
	}
	snprintf(m->instance, sizeof(m->instance), "%s", instance);
	socket = tt_str(daemon_member, "socket");
	snprintf(m->socket, sizeof(m->socket), "%s", socket ? socket : "?");
out:
	cJSON_Delete(dh);
	return ret;
}

static bool map_put(struct replay_map *m, uint64_t k1, uint64_t k2, uint64_t v)
{
	return trace_replay_map_put(m, k1, k2, v);
}

static uint64_t map_get(const struct replay_map *m, uint64_t k1, uint64_t k2, uint64_t def)
{
	uint64_t v;

	return tt_map_get(m, k1, k2, &v) ? v : def;
}

static const char *call_name(const cJSON *ev)
{
	const char *name = tt_str(ev, "call");

	return name ? name : "";
}

static bool is_submission(const char *call)
{
	return !strcmp(call, "execute_command") || !strcmp(call, "execute_inline");
}

/* One CLIENT call of pass 1: devices, connections and accepted submissions on DAEMON's device. */
static int client_call(struct merge *m, const cJSON *ev)
{
	const char *call = call_name(ev);
	const cJSON *args = tt_member(ev, "args"), *out = tt_member(ev, "out");
	int64_t result = 0;
	bool ok = tt_result(ev, &result) && result == 0;
	uint64_t handle, base;

	if (!strcmp(call, "device_import") && ok && tt_get_u64(out, "device", &handle)) {
		const char *instance = tt_str(ev, "instance");
		bool ours = instance && !strcasecmp(instance, m->instance);

		if (ours)
			m->imports++;
		else if (instance && m->other_instances++ == 0)
			snprintf(m->other_instance, sizeof(m->other_instance), "%s", instance);
		return map_put(&m->devices, handle, 0, ours) ? 0 : oom();
	}
	if (!strcmp(call, "device_release") && tt_get_u64(args, "device", &handle))
		return map_put(&m->devices, handle, 0, 0) ? 0 : oom();
	if (!strcmp(call, "create_connection") && ok && tt_get_u64(out, "connection", &handle)) {
		uint64_t device = tt_u64(args, "device");

		if (!map_get(&m->devices, device, 0, 0))
			return map_put(&m->conn_base, handle, 0, UINT64_MAX) ? 0 : oom();
		if (!tt_get_u64(ev, "id_base", &base) || !base)
			return tt_reader_fail(&m->client,
					      "create_connection on %s's device has no \"id_base\"",
					      m->daemon_path);
		m->connections++;
		return map_put(&m->conn_base, handle, 0, base) &&
				       map_put(&m->base_conn, base, 0, handle) &&
				       map_put(&m->submissions, base, 0, 0)
			       ? 0
			       : oom();
	}
	if (is_submission(call) && ok && tt_get_u64(args, "connection", &handle)) {
		uint64_t k;

		base = map_get(&m->conn_base, handle, 0, UINT64_MAX);
		if (base == UINT64_MAX)
			return 0;
		k = map_get(&m->submissions, base, 0, 0) + 1;
		return map_put(&m->submissions, base, k, m->client.index) &&
				       map_put(&m->submissions, base, 0, k)
			       ? 0
			       : oom();
	}
	return 0;
}

/* Pass 1 over CLIENT. */
static int client_pass1(struct merge *m)
{
	struct tt_reader *rd = &m->client;
	int ret;

	for (;;) {
		uint64_t ns;

		ret = tt_reader_next(rd);
		if (ret)
			return reader_fail(rd, ret);
		if (rd->type == TT_DEV || rd->type == TT_DEVICE)
			return merge_fail(TRACE_REPLAY_BAD_INPUT,
					  "%s has device events already (line %" PRIu64
					  "): it was recorded on the embedded device, not against "
					  "magma-simd; there is nothing to merge",
					  m->client_path, rd->line_no);
		if (rd->type == TT_BLOB)
			continue;
		if (!line_ns(rd->line, rd->len, &ns))
			return reader_fail(rd,
					   tt_reader_fail(rd, "no host time (\"ns\" as its last "
							      "member)"));
		if (!m->client_has_ns)
			m->client_first_ns = ns;
		m->client_has_ns = true;
		if (rd->type == TT_END) {
			m->client_end_ns = ns;
			return 0;
		}
		if (rd->type == TT_CALL) {
			ret = client_call(m, rd->ev);
			if (ret)
				return ret == TRACE_REPLAY_BAD_INPUT ? reader_fail(rd, ret) : ret;
		}
	}
}

/* Pass 1 over DAEMON: its time span and which of its connections are CLIENT's. */
static int daemon_pass1(struct merge *m)
{
	struct tt_reader *rd = &m->daemon;
	int ret;

	for (;;) {
		uint64_t ns, base, number, pid;
		const char *ev;

		ret = tt_reader_next(rd);
		if (ret)
			return reader_fail(rd, ret);
		if (rd->type != TT_DEV && rd->type != TT_DEVICE && rd->type != TT_END)
			return reader_fail(
				rd, tt_reader_fail(rd, "a client's event in a daemon's "
						       "recording (not magma-simd --trace?)"));
		if (!line_ns(rd->line, rd->len, &ns))
			return reader_fail(rd,
					   tt_reader_fail(rd, "no host time (\"ns\" as its last "
							      "member)"));
		if (!m->daemon_has_ns)
			m->daemon_first_ns = ns;
		m->daemon_has_ns = true;
		m->daemon_last_ns = ns;
		if (rd->type == TT_END)
			return 0;
		ev = rd->type == TT_DEV ? tt_str(rd->ev, "ev") : NULL;
		if (!ev || strcmp(ev, "CONNECTION_OPENED"))
			continue;
		if (!tt_get_u64(rd->ev, "id_base", &base) ||
		    !tt_get_u64(rd->ev, "connection", &number))
			return reader_fail(rd, tt_reader_fail(rd, "CONNECTION_OPENED without "
								  "\"connection\" or \"id_base\""));
		if (!tt_map_get(&m->base_conn, base, 0, NULL))
			continue;
		pid = tt_u64(rd->ev, "pid");
		if (m->pid && pid && pid != m->pid && !m->pid_warned) {
			/* Another pid namespace, or fds passed between processes: id_base decides.
			 */
			fprintf(stderr,
				"magma-trace merge: warning: %s's connection %" PRIu64
				" has the client's first object id %" PRIu64 " but pid %" PRIu64
				", %s says pid %" PRIu64 "\n",
				m->daemon_path, number, base, pid, m->client_path, m->pid);
			m->pid_warned = true;
		}
		if (!map_put(&m->daemon_conn, number, 0, base))
			return oom();
		m->shared++;
	}
}

/* After both first passes: is DAEMON the device CLIENT used, in the same run? */
static int check_match(struct merge *m)
{
	if (!m->imports) {
		if (m->other_instances)
			return merge_fail(
				TRACE_REPLAY_BAD_INPUT,
				"%s never imported the device %s recorded (instance %s, "
				"%s): its devices were instance %s%s; traces of different "
				"daemon runs or devices (device N of magma-simd --trace "
				"FILE is in FILE.N)",
				m->client_path, m->daemon_path, m->instance, m->socket,
				m->other_instance, m->other_instances > 1 ? " and others" : "");
		return merge_fail(TRACE_REPLAY_BAD_INPUT,
				  "%s imported no device that names its instance (no "
				  "device_import with \"instance\"): it cannot be matched to %s",
				  m->client_path, m->daemon_path);
	}
	if (m->connections && !m->shared)
		return merge_fail(TRACE_REPLAY_BAD_INPUT,
				  "%s holds none of the %" PRIu64
				  " connection(s) %s opened on its device (by their first object "
				  "ids): not the same session (is %s cut short?)",
				  m->daemon_path, m->connections, m->client_path, m->daemon_path);
	if (m->daemon_last_ns < m->client_first_ns || m->daemon_first_ns > m->client_end_ns)
		return merge_fail(TRACE_REPLAY_BAD_INPUT,
				  "%s (host time %" PRIu64 " to %" PRIu64 " ns) and %s (%" PRIu64
				  " to %" PRIu64 " ns) do not overlap: not the same session",
				  m->daemon_path, m->daemon_first_ns, m->daemon_last_ns,
				  m->client_path, m->client_first_ns, m->client_end_ns);
	return 0;
}

/* ---- pass 2 ---- */

/* The byte after {"seq":N, of @line, or NULL when the line does not start that way. */
static const char *after_seq(const char *line)
{
	const char *p = line + 7;

	if (strncmp(line, "{\"seq\":", 7) || *p < '0' || *p > '9')
		return NULL;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == ',' ? p + 1 : NULL;
}

static void write_created(struct merge *m, uint64_t ns)
{
	fprintf(m->out,
		"{\"seq\":%" PRIu64 ",\"type\":\"device\",\"event\":\"created\",\"device\":0,"
		"\"ns\":%" PRIu64 "},\n",
		m->seq++, ns);
	m->device_written = true;
}

/*
 * Writes CLIENT's current event renumbered; a completion's "submission" is renumbered too, a
 * submission call's new seq remembered.
 */
static int write_client(struct merge *m)
{
	struct tt_reader *rd = &m->client;
	const char *body = after_seq(rd->line), *call;
	uint64_t ns;

	if (!body)
		return reader_fail(rd, tt_reader_fail(rd,
						      "does not begin with {\"seq\":%" PRIu64
						      ", as writers write it",
						      rd->index));
	if (rd->type == TT_CALL) {
		call = call_name(rd->ev);
		if (!m->device_written && !strcmp(call, "device_import") &&
		    line_ns(rd->line, rd->len, &ns)) {
			const cJSON *instance = tt_member(rd->ev, "instance");

			if (cJSON_IsString(instance) &&
			    !strcasecmp(instance->valuestring, m->instance))
				write_created(m, ns);
		}
		if (is_submission(call)) {
			uint64_t handle = tt_u64(tt_member(rd->ev, "args"), "connection"), base;
			int64_t result = -1;

			if (!map_put(&m->new_seq, rd->index, 0, m->seq))
				return oom();
			base = map_get(&m->conn_base, handle, 0, UINT64_MAX);
			if (base != UINT64_MAX && tt_result(rd->ev, &result) && result == 0 &&
			    !map_put(&m->emitted, base, 0, map_get(&m->emitted, base, 0, 0) + 1))
				return oom();
		}
	}
	if (rd->type == TT_COMPLETION) {
		static const char key[] = ",\"submission\":";
		const char *at = strstr(body, key), *digits;
		uint64_t old, text = 0, renumbered;

		if (!at || !tt_get_u64(rd->ev, "submission", &old))
			return reader_fail(rd, tt_reader_fail(rd, "a completion without "
								  "\"submission\""));
		digits = at + sizeof(key) - 1;
		for (const char *p = digits; *p >= '0' && *p <= '9'; p++)
			text = text * 10 + (uint64_t)(*p - '0');
		if (text != old || !tt_map_get(&m->new_seq, old, 0, &renumbered))
			return reader_fail(rd, tt_reader_fail(rd,
							      "a completion of event %" PRIu64
							      ", which is no earlier submission",
							      old));
		fprintf(m->out, "{\"seq\":%" PRIu64 ",%.*s%s%" PRIu64, m->seq++, (int)(at - body),
			body, key, renumbered);
		while (*digits >= '0' && *digits <= '9')
			digits++;
		fprintf(m->out, "%s,\n", digits);
	} else {
		fprintf(m->out, "{\"seq\":%" PRIu64 ",%s,\n", m->seq++, body);
	}
	m->client_written++;
	return 0;
}

/* DAEMON's current event: how it is written (and for an owned one, its id_base and number). */
static enum merge_dev_kind daemon_kind(struct merge *m, uint64_t *ns, uint64_t *base,
				       uint64_t *submission)
{
	struct tt_reader *rd = &m->daemon;
	const char *ev;
	uint64_t number;

	if (rd->type != TT_DEV || !line_ns(rd->line, rd->len, ns))
		return MERGE_SKIP; /* device, end (checked in pass 1) */
	ev = tt_str(rd->ev, "ev");
	if (ev && !strncmp(ev, "CONNECTION_", 11))
		return MERGE_SKIP;
	if (*ns > m->client_end_ns)
		return MERGE_PAST_END;
	if (tt_get_u64(rd->ev, "connection", &number)) {
		if (!tt_map_get(&m->daemon_conn, number, 0, base)) {
			m->other_left_out++;
			return MERGE_SKIP;
		}
		*submission = tt_u64(rd->ev, "submission");
		return MERGE_OWNED;
	}
	if (*ns < m->client_first_ns) {
		m->outside_left_out++;
		return MERGE_SKIP;
	}
	return MERGE_DEVICE;
}

/* The next DAEMON event to write, into *@kind (MERGE_PAST_END: none is left). */
static int daemon_next(struct merge *m, enum merge_dev_kind *kind, uint64_t *ns, uint64_t *base,
		       uint64_t *submission)
{
	struct tt_reader *rd = &m->daemon;
	int ret;

	for (;;) {
		if (rd->ended) {
			*kind = MERGE_PAST_END;
			return 0;
		}
		ret = tt_reader_next(rd);
		if (ret)
			return reader_fail(rd, ret);
		*kind = daemon_kind(m, ns, base, submission);
		if (*kind == MERGE_OWNED && *ns < m->client_first_ns) {
			m->outside_left_out++;
			continue;
		}
		if (*kind != MERGE_SKIP)
			return 0;
	}
}

/*
 * Writes DAEMON's current dev event renumbered, its tail (the daemon's "connection" and
 * "submission", its "ns") rewritten: for a job of CLIENT's the client's connection handle and
 * the seq in OUT of the call that submitted it.
 */
static int write_daemon(struct merge *m, enum merge_dev_kind kind, uint64_t ns, uint64_t base,
			uint64_t submission)
{
	struct tt_reader *rd = &m->daemon;
	const char *body = after_seq(rd->line), *cut, *ns_at;
	uint64_t cycle, call_seq, old;

	if (!body)
		return reader_fail(rd, tt_reader_fail(rd,
						      "does not begin with {\"seq\":%" PRIu64
						      ", as writers write it",
						      rd->index));
	if (!m->device_written)
		write_created(m, ns);
	cut = strstr(body, ",\"connection\":");
	ns_at = strstr(body, ",\"ns\":");
	if (!cut || (ns_at && ns_at < cut))
		cut = ns_at;
	if (!cut) /* line_ns found it: it is there */
		return reader_fail(rd,
				   tt_reader_fail(rd, "\"ns\" is not where the writer puts it"));
	fprintf(m->out, "{\"seq\":%" PRIu64 ",%.*s", m->seq++, (int)(cut - body), body);
	if (kind == MERGE_OWNED) {
		fprintf(m->out, ",\"connection\":%" PRIu64, map_get(&m->base_conn, base, 0, 0));
		if (submission && tt_map_get(&m->submissions, base, submission, &old) &&
		    tt_map_get(&m->new_seq, old, 0, &call_seq))
			fprintf(m->out, ",\"submission\":%" PRIu64, call_seq);
		m->owned_written++;
		if (!strcmp(tt_str(rd->ev, "ev") ? tt_str(rd->ev, "ev") : "", "JOB_START"))
			m->jobs_written++;
	}
	fprintf(m->out, ",\"ns\":%" PRIu64 "},\n", ns);
	if (tt_get_u64(rd->ev, "cycle", &cycle) && cycle > m->max_cycle)
		m->max_cycle = cycle;
	m->device_written_count++;
	return 0;
}

/*
 * Whether an owned event of submission @submission on connection @base must wait for CLIENT's
 * events: the call that submitted it is in CLIENT and not written yet.
 */
static bool waits_for_call(struct merge *m, uint64_t base, uint64_t submission)
{
	return submission && submission <= map_get(&m->submissions, base, 0, 0) &&
	       submission > map_get(&m->emitted, base, 0, 0);
}

/* Pass 2: both files again, merged into OUT. */
static int merge_pass2(struct merge *m)
{
	enum merge_dev_kind kind;
	uint64_t c_ns = 0, d_ns = 0, base = 0, submission = 0;
	int ret;

	ret = tt_reader_seek(&m->client, m->client_events_offset, 2, 0);
	if (!ret)
		ret = tt_reader_seek(&m->daemon, m->daemon_events_offset, 2, 0);
	if (ret)
		return merge_fail(ret, "%s",
				  m->client.error[0] ? m->client.error : m->daemon.error);
	ret = tt_reader_next(&m->client);
	if (ret)
		return reader_fail(&m->client, ret);
	ret = daemon_next(m, &kind, &d_ns, &base, &submission);
	if (ret)
		return ret;
	while (m->client.type != TT_END) {
		if (m->client.type != TT_BLOB && !line_ns(m->client.line, m->client.len, &c_ns))
			return reader_fail(&m->client, tt_reader_fail(&m->client, "no host time"));
		/* A blob goes with the event after it; a device event first on a tie. */
		if (m->client.type != TT_BLOB && kind != MERGE_PAST_END && d_ns <= c_ns &&
		    !(kind == MERGE_OWNED && waits_for_call(m, base, submission))) {
			ret = write_daemon(m, kind, d_ns, base, submission);
			if (!ret)
				ret = daemon_next(m, &kind, &d_ns, &base, &submission);
		} else {
			ret = write_client(m);
			if (!ret) {
				ret = tt_reader_next(&m->client);
				if (ret)
					ret = reader_fail(&m->client, ret);
			}
		}
		if (ret)
			return ret;
	}
	while (kind != MERGE_PAST_END) {
		ret = write_daemon(m, kind, d_ns, base, submission);
		if (!ret)
			ret = daemon_next(m, &kind, &d_ns, &base, &submission);
		if (ret)
			return ret;
	}
	if (!m->device_written)
		write_created(m, m->client_end_ns);
	fprintf(m->out,
		"{\"seq\":%" PRIu64 ",\"type\":\"device\",\"event\":\"destroyed\",\"device\":0,"
		"\"cycles\":%" PRIu64 ",\"ns\":%" PRIu64 "},\n",
		m->seq, m->max_cycle, m->client_end_ns);
	m->seq++;
	fprintf(m->out,
		"{\"seq\":%" PRIu64 ",\"type\":\"end\",\"events\":%" PRIu64 ",\"ns\":%" PRIu64
		"}\n]}\n",
		m->seq, m->seq, m->client_end_ns);
	return 0;
}

/* OUT's header: CLIENT's, with the writer and where it came from. */
static int write_header(struct merge *m)
{
	cJSON *h = m->client_header, *from = cJSON_CreateObject();
	char *text;
	size_t len;

	if (!from || !cJSON_AddStringToObject(from, "client", m->client_path) ||
	    !cJSON_AddStringToObject(from, "daemon", m->daemon_path) ||
	    !cJSON_AddNumberToObject(from, "device", (double)m->device_index) ||
	    !cJSON_AddStringToObject(from, "socket", m->socket) ||
	    !cJSON_AddStringToObject(from, "instance", m->instance)) {
		cJSON_Delete(from);
		return oom();
	}
	cJSON_DeleteItemFromObjectCaseSensitive(h, "writer");
	cJSON_DeleteItemFromObjectCaseSensitive(h, "events");
	cJSON_DeleteItemFromObjectCaseSensitive(h, "merge");
	if (!cJSON_AddStringToObject(h, "writer", "magma-trace merge") ||
	    !cJSON_AddItemToObject(h, "merge", from)) {
		cJSON_Delete(from);
		return oom();
	}
	text = cJSON_PrintUnformatted(h);
	if (!text)
		return oom();
	len = strlen(text);
	/* "{...}" -> "{...,"events":[" */
	fprintf(m->out, "%.*s,\"events\":[\n", (int)(len - 1), text);
	cJSON_free(text);
	return 0;
}

static void help(void)
{
	printf("usage: magma-trace merge CLIENT DAEMON OUT\n"
	       "\n"
	       "CLIENT is a client's recording (MAGMA_TRACE) made against magma-simd, DAEMON\n"
	       "that daemon's recording of the device (magma-simd --trace FILE; device N is\n"
	       "FILE.N). OUT is CLIENT with the device's events of CLIENT's jobs and the\n"
	       "device-wide ones of its session placed by host time: a trace that replay,\n"
	       "stats, the timeline and magma-view read like an embedded recording.\n"
	       "Other clients' jobs are left out. DAEMON must be complete: stop magma-simd\n"
	       "(SIGTERM) first.\n"
	       "\n"
	       "Exit status: 0 merged, 2 bad input (an unreadable, truncated or malformed\n"
	       "trace, traces of different daemon runs or devices, a CLIENT without host\n"
	       "times, OUT the same file as an input), 3 host error (OUT cannot be written,\n"
	       "out of memory). A failed merge leaves no OUT.\n");
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int parse_args(struct merge *m, int argc, char **argv, bool *help_out)
{
	const char *pos[3];
	int n = 0;

	*help_out = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			*help_out = true;
			return 0;
		}
		if (argv[i][0] == '-' && argv[i][1])
			return merge_fail(TRACE_REPLAY_BAD_INPUT,
					  "unknown option '%s' (magma-trace merge --help)",
					  argv[i]);
		if (n == 3)
			return merge_fail(TRACE_REPLAY_BAD_INPUT,
					  "unexpected argument '%s' (magma-trace merge --help)",
					  argv[i]);
		pos[n++] = argv[i];
	}
	if (n != 3)
		return merge_fail(TRACE_REPLAY_BAD_INPUT,
				  "needs CLIENT DAEMON OUT (magma-trace merge --help)");
	m->client_path = pos[0];
	m->daemon_path = pos[1];
	m->out_path = pos[2];
	if (same_file(m->out_path, m->client_path) || same_file(m->out_path, m->daemon_path) ||
	    !strcmp(m->out_path, m->client_path) || !strcmp(m->out_path, m->daemon_path))
		return merge_fail(TRACE_REPLAY_BAD_INPUT,
				  "OUT %s is one of the inputs: write the merge elsewhere",
				  m->out_path);
	return 0;
}

static void merge_fini(struct merge *m)
{
	if (m->client_open)
		tt_reader_close(&m->client);
	if (m->daemon_open)
		tt_reader_close(&m->daemon);
	cJSON_Delete(m->client_header);
	trace_replay_map_fini(&m->devices);
	trace_replay_map_fini(&m->conn_base);
	trace_replay_map_fini(&m->base_conn);
	trace_replay_map_fini(&m->submissions);
	trace_replay_map_fini(&m->daemon_conn);
	trace_replay_map_fini(&m->new_seq);
	trace_replay_map_fini(&m->emitted);
}

/* trace_tool_merge - see trace_tool.h. */
int trace_tool_merge(int argc, char **argv)
{
	struct merge m = {0};
	bool want_help;
	int ret;

	ret = parse_args(&m, argc, argv, &want_help);
	if (ret || want_help) {
		if (want_help)
			help();
		return ret;
	}
	ret = open_input(&m.client, m.client_path, &m.client_events_offset);
	if (ret)
		goto out;
	m.client_open = true;
	ret = open_input(&m.daemon, m.daemon_path, &m.daemon_events_offset);
	if (ret)
		goto out;
	m.daemon_open = true;
	ret = check_headers(&m);
	if (!ret)
		ret = client_pass1(&m);
	if (!ret)
		ret = daemon_pass1(&m);
	if (!ret)
		ret = check_match(&m);
	if (ret)
		goto out;
	m.out = fopen(m.out_path, "we");
	if (!m.out) {
		ret = merge_fail(TRACE_REPLAY_ENV_ERROR, "cannot create %s: %s", m.out_path,
				 strerror(errno));
		goto out;
	}
	ret = write_header(&m);
	if (!ret)
		ret = merge_pass2(&m);
	if (fflush(m.out) || ferror(m.out)) {
		if (!ret)
			ret = merge_fail(TRACE_REPLAY_ENV_ERROR, "writing %s: %s", m.out_path,
					 strerror(errno ? errno : EIO));
	}
	if (fclose(m.out) && !ret)
		ret = merge_fail(TRACE_REPLAY_ENV_ERROR, "writing %s: %s", m.out_path,
				 strerror(errno));
	if (ret) {
		unlink(m.out_path);
		goto out;
	}
	printf("merged %s and %s (device %" PRIu64 ", %s) into %s: %" PRIu64 " events: %" PRIu64
	       " of the client, %" PRIu64 " of the device (%" PRIu64
	       " ring entries started by the client's %" PRIu64 " connection(s), in %" PRIu64
	       " events); left out: %" PRIu64 " device events of other clients' jobs, %" PRIu64
	       " from before the client's session\n",
	       m.client_path, m.daemon_path, m.device_index, m.socket, m.out_path, m.seq + 1,
	       m.client_written, m.device_written_count, m.jobs_written, m.connections,
	       m.owned_written, m.other_left_out, m.outside_left_out);
out:
	merge_fini(&m);
	return ret;
}
