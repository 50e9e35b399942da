/* SPDX-License-Identifier: MIT */
/*
 * test_trace_edges.c - recordings at the edges the whole conformance suite reaches, each made
 * in-process and replayed: a completion range that work still running also lists ("unsettled",
 * no digest), NULL out pointers ("nulls"), imports of handles the client made itself (an
 * eventfd, a memfd, a closed fd number), a semaphore signaled from outside the trace, and GPU
 * timestamps that differ from the recording's (not a divergence, unless another byte differs).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "magma_system/embedded.h"
#include "sim/sim.h"
#include "sim/sim_cmd.h"
#include "sim_test.h"
#include "trace_test_util.h"
#include "traces/trace.h"
#include "traces/trace_replay.h"

#define DATA_VA	   TRACE_TEST_DATA_VA
#define PAGE	   4096ull
#define WAIT_NS	   5000000000ull
#define STAMP_AT   16 /* where the timestamp client's TIMESTAMP writes, in the data buffer */
#define CMDS_PER_J 64 /* dwords of command buffer per job (each job has its own slice) */

/*
 * Submits job slice @j of the command buffer (its commands already written there) with both
 * buffers as resources, waiting for semaphore id @wait (0: none) and signaling @signal.
 */
static int submit(struct trace_test_conn *c, uint32_t j, magma_semaphore_id_t wait,
		  magma_semaphore_id_t signal)
{
	magma_exec_resource_t res[2] = {{c->cmd_id, 0, PAGE}, {c->data_id, 0, PAGE}};
	magma_exec_command_buffer_t cb = {.resource_index = 0,
					  .start_offset = 4ull * CMDS_PER_J * j};
	magma_semaphore_id_t ids[2] = {wait, signal};
	magma_command_descriptor_t d = {.resource_count = 2,
					.command_buffer_count = 1,
					.wait_semaphore_count = wait ? 1 : 0,
					.signal_semaphore_count = 1,
					.resources = res,
					.command_buffers = &cb,
					.semaphore_ids = wait ? ids : ids + 1};

	return magma_connection_execute_command(c->conn, c->ctx[0], &d) != MAGMA_STATUS_OK;
}

static magma_status_t wait_for(magma_semaphore_t s, uint64_t timeout_ns)
{
	magma_poll_item_t it = {.semaphore = s,
				.type = MAGMA_POLL_TYPE_SEMAPHORE,
				.condition = MAGMA_POLL_CONDITION_SIGNALED};

	return magma_poll(&it, 1, timeout_ns);
}

/* Records @fn on a device of @cfg (NULL: the defaults), device events too, into @p. */
static void record(char *p, trace_test_client fn, const struct sim_config *cfg)
{
	CHECK_EQ(trace_test_record(p, fn, NULL, cfg, true), 0);
}

static int replay(const char *p, struct trace_replay_result *res)
{
	struct trace_replay_options o;
	int ret;

	trace_replay_default_options(&o);
	ret = trace_replay_run(p, &o, res);
	if (ret)
		fprintf(stderr, "%s: %s\n", p, res->message);
	return ret;
}

/* Records @fn on the default GPU and replays the recording: no divergence. */
static void record_and_replay(trace_test_client fn)
{
	char p[] = "/tmp/magma-trace-edge-XXXXXX";
	struct trace_replay_result res;

	record(p, fn, NULL);
	CHECK_EQ(replay(p, &res), TRACE_REPLAY_OK);
	unlink(p);
}

/* The @n-th (from 0) completion event line of @text, or NULL. */
static char *completion(char *text, int n)
{
	char *at = text;

	for (int i = 0; at && i <= n; i++) {
		at = strstr(at, "\"type\":\"completion\"");
		if (at && i < n)
			at++;
	}
	return at;
}

/* Whether the line starting at @line holds @needle. */
static bool line_has(const char *line, const char *needle)
{
	const char *end = line ? strchr(line, '\n') : NULL;
	const char *at = line ? strstr(line, needle) : NULL;

	return at && (!end || at < end);
}

/* ---- a range that work still running lists ---- */

/*
 * Job 0 adds 1 to the data buffer's first word and signals A; job 1, which lists the same
 * buffer, waits for semaphore W first. The client waits for A while job 1 is held by W, then
 * signals W and waits for B.
 */
static int unsettled_client(struct magma_system_embedded *emb, void *ctx __attribute__((unused)))
{
	struct trace_test_conn c;
	magma_semaphore_t a, b, w;
	magma_semaphore_id_t a_id, b_id, w_id;
	int bad;

	if (trace_test_conn_open(emb, &c, 1) ||
	    magma_connection_create_semaphore(c.conn, &a, &a_id) ||
	    magma_connection_create_semaphore(c.conn, &b, &b_id) ||
	    magma_connection_create_semaphore(c.conn, &w, &w_id))
		return 1;
	for (uint32_t j = 0; j < 2; j++) {
		uint32_t *p = c.cpu + CMDS_PER_J * j;

		p += sim_cmd_emit_signal(p, DATA_VA, 1, SIM_CMD_SIGNAL_ADD);
		sim_cmd_emit_end(p);
	}
	bad = submit(&c, 0, 0, a_id) || submit(&c, 1, w_id, b_id) || wait_for(a, WAIT_NS);
	magma_semaphore_signal(w);
	bad |= wait_for(b, WAIT_NS) != MAGMA_STATUS_OK;
	trace_test_conn_close(&c);
	return bad;
}

/*
 * When job 0's completion is recorded, job 1 is still pending and lists the data buffer: that
 * range (index 1) has no digest and is named "unsettled"; job 1's own completion has it. The
 * trace replays.
 */
static void unsettled_range_has_no_digest(void)
{
	char p[] = "/tmp/magma-trace-unsettled-XXXXXX";
	struct trace_replay_result res;
	char *text;

	record(p, unsettled_client, NULL);
	text = trace_test_read(p);
	REQUIRE(text != NULL);
	CHECK(line_has(completion(text, 0), "\"unsettled\":[1]"));
	CHECK(!line_has(completion(text, 0), "{\"index\":1,"));
	CHECK(line_has(completion(text, 0), "{\"index\":0,"));
	CHECK(line_has(completion(text, 1), "{\"index\":1,"));
	CHECK(!line_has(completion(text, 1), "unsettled"));
	CHECK_EQ(replay(p, &res), TRACE_REPLAY_OK);
	CHECK_EQ(res.completions, 2);
	free(text);
	unlink(p);
}

/* ---- NULL out pointers ---- */

static int nulls_client(struct magma_system_embedded *emb, void *ctx __attribute__((unused)))
{
	struct trace_test_conn c;
	magma_semaphore_t s = 0;
	magma_semaphore_id_t id;
	magma_buffer_t b;
	uint64_t size;
	int bad = trace_test_conn_open(emb, &c, 1);

	bad |= magma_connection_create_semaphore(c.conn, NULL, &id) != MAGMA_STATUS_INVALID_ARGS;
	bad |= magma_connection_create_semaphore(c.conn, &s, NULL) != MAGMA_STATUS_INVALID_ARGS;
	bad |= magma_connection_create_buffer(c.conn, PAGE, NULL, &b, NULL) !=
	       MAGMA_STATUS_INVALID_ARGS;
	bad |= magma_connection_create_buffer(c.conn, PAGE, &size, NULL, NULL) !=
	       MAGMA_STATUS_INVALID_ARGS;
	bad |= magma_connection_create_context2(c.conn, MAGMA_PRIORITY_LOW, NULL) !=
	       MAGMA_STATUS_INVALID_ARGS;
	bad |= magma_buffer_export(c.data, NULL) != MAGMA_STATUS_INVALID_ARGS;
	bad |= magma_semaphore_export(c.sem, NULL) != MAGMA_STATUS_INVALID_ARGS;
	bad |= magma_buffer_get_cache_policy(c.data, NULL) != MAGMA_STATUS_INVALID_ARGS;
	bad |= magma_buffer_get_info(c.data, NULL) != MAGMA_STATUS_INVALID_ARGS;
	/* the connection is still fine */
	bad |= magma_connection_create_semaphore(c.conn, &s, &id) != MAGMA_STATUS_OK;
	bad |= magma_connection_flush(c.conn) != MAGMA_STATUS_OK;
	trace_test_conn_close(&c);
	return bad;
}

/*
 * Each NULL is recorded ("nulls", bit i for the call's i-th out pointer) and passed again by the
 * replay, which gets INVALID_ARGS where the recording did.
 */
static void null_out_pointers_replay(void)
{
	char p[] = "/tmp/magma-trace-nulls-XXXXXX";
	struct trace_replay_result res;
	char *text;

	record(p, nulls_client, NULL);
	text = trace_test_read(p);
	REQUIRE(text != NULL);
	CHECK(strstr(text, "\"call\":\"create_semaphore\",\"args\":{\"connection\":") != NULL);
	CHECK(strstr(text, ",\"nulls\":1},\"result\":-2") != NULL);
	CHECK(strstr(text, ",\"nulls\":2},\"result\":-2") != NULL);
	CHECK(strstr(text, ",\"nulls\":5},\"result\":-2") != NULL); /* size and id */
	CHECK(strstr(text, ",\"nulls\":6},\"result\":-2") != NULL); /* buffer and id */
	CHECK(strstr(text, ",\"nulls\":3},\"result\":-2") != NULL); /* get_info's two */
	CHECK_EQ(replay(p, &res), TRACE_REPLAY_OK);
	free(text);
	unlink(p);
}

/* ---- handles the client made itself ---- */

/*
 * Imports of the client's own handles: an eventfd as a semaphore (OK; the client signals it by
 * writing to its own end), a sealable memfd as a buffer (OK), a memfd as a semaphore and an
 * eventfd as a buffer (INVALID_ARGS: the wrong kind), a closed fd number (INTERNAL_ERROR).
 */
static int foreign_client(struct magma_system_embedded *emb, void *ctx __attribute__((unused)))
{
	struct trace_test_conn c;
	magma_semaphore_t s;
	magma_semaphore_id_t sid;
	magma_buffer_t b;
	magma_buffer_id_t bid;
	uint64_t size = 0, one = 1;
	int efd = eventfd(0, EFD_CLOEXEC), mine = efd >= 0 ? dup(efd) : -1, bad = 0;
	int mfd = memfd_create("edge", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int closed = memfd_create("closed", MFD_CLOEXEC);

	if (trace_test_conn_open(emb, &c, 1) || mine < 0 || mfd < 0 || closed < 0 ||
	    ftruncate(mfd, 2 * PAGE))
		return 1;
	close(closed);
	/* before anything else can take that fd number again */
	bad |= magma_connection_import_buffer(c.conn, (magma_handle_t)closed, &size, &b, &bid) !=
	       MAGMA_STATUS_INTERNAL_ERROR;
	bad |= magma_connection_import_semaphore2(c.conn, (magma_handle_t)efd, 0, &s, &sid) !=
	       MAGMA_STATUS_OK;
	bad |= wait_for(s, 0) != MAGMA_STATUS_TIMED_OUT;
	bad |= write(mine, &one, sizeof(one)) != (ssize_t)sizeof(one);
	bad |= wait_for(s, 0) != MAGMA_STATUS_OK;
	close(mine);
	bad |= magma_connection_import_buffer(c.conn, (magma_handle_t)mfd, &size, &b, &bid) !=
	       MAGMA_STATUS_OK;
	bad |= size != 2 * PAGE;
	bad |= magma_connection_import_semaphore2(c.conn,
						  (magma_handle_t)memfd_create("m", MFD_CLOEXEC), 0,
						  &s, &sid) != MAGMA_STATUS_INVALID_ARGS;
	bad |= magma_connection_import_buffer(c.conn, (magma_handle_t)eventfd(0, EFD_CLOEXEC),
					      &size, &b, &bid) != MAGMA_STATUS_INVALID_ARGS;
	bad |= magma_connection_flush(c.conn) != MAGMA_STATUS_OK;
	trace_test_conn_close(&c);
	return bad;
}

/*
 * The replay stands in a handle of the same kind for each (and writes to its own end of the
 * eventfd where the recording saw the semaphore signaled): every status and poll matches.
 */
static void foreign_handles_replay(void)
{
	record_and_replay(foreign_client);
}

/* ---- a semaphore signaled outside the trace ---- */

/*
 * The client exports a semaphore and hands it on (here: it writes to the exported eventfd
 * itself, as a child process that imported it would signal it); then it waits for it.
 */
static int outside_client(struct magma_system_embedded *emb, void *ctx __attribute__((unused)))
{
	struct trace_test_conn c;
	magma_handle_t h;
	uint64_t one = 1;
	int bad = trace_test_conn_open(emb, &c, 1) || magma_semaphore_export(c.sem, &h);

	if (!bad) {
		bad |= write((int)h, &one, sizeof(one)) != (ssize_t)sizeof(one);
		close((int)h);
		bad |= wait_for(c.sem, WAIT_NS) != MAGMA_STATUS_OK;
	}
	trace_test_conn_close(&c);
	return bad;
}

/* The replay signals it through the export it holds, where the recording's poll saw it. */
static void outside_signal_replays(void)
{
	record_and_replay(outside_client);
}

/* ---- GPU timestamps ---- */

/* One job: WRITE32 0x5eed at the data buffer's start, then TIMESTAMP (cycles) at STAMP_AT. */
static int timestamp_client(struct magma_system_embedded *emb, void *ctx __attribute__((unused)))
{
	struct trace_test_conn c;
	uint32_t *p;
	int bad = trace_test_conn_open(emb, &c, 1);

	if (!bad) {
		p = c.cpu;
		p += sim_cmd_emit_write32(p, DATA_VA, 0x5eed);
		p += sim_cmd_emit_timestamp(p, DATA_VA + STAMP_AT, SIM_CMD_TS_CYCLES);
		sim_cmd_emit_end(p);
		bad = submit(&c, 0, 0, c.sem_id) || wait_for(c.sem, WAIT_NS);
	}
	trace_test_conn_close(&c);
	return bad;
}

/*
 * Makes the trace at @p say that the data buffer's completed contents differed from what was
 * recorded at byte @at as well: the blob holding them is decoded, changed, encoded and written
 * back in its place, under its new digest, which the completion then names.
 */
static void change_completed_byte(const char *p, size_t at)
{
	char *text = trace_test_read(p), *line = text ? completion(text, 0) : NULL, *dig, *blob,
	     *data_at;
	char *enc, hex[17], key[96];
	uint8_t *data = NULL;
	size_t len;
	FILE *f;

	REQUIRE(line != NULL);
	dig = strstr(line, "{\"index\":1,");
	dig = dig ? strstr(dig, "\"digest\":\"") : NULL;
	REQUIRE(dig != NULL);
	dig += strlen("\"digest\":\"");
	snprintf(key, sizeof(key),
		 "\"type\":\"blob\",\"digest\":\"%.16s\",\"size\":%llu,\"data\":\"", dig, PAGE);
	blob = strstr(text, key);
	REQUIRE(blob != NULL && blob < line);
	data_at = blob + strlen(key);
	blob += strlen("\"type\":\"blob\",\"digest\":\"");
	len = (size_t)(strchr(data_at, '"') - data_at);
	data_at[len] = '\0';
	REQUIRE_EQ(trace_blob_decode(data_at, PAGE, &data, NULL), 0);
	data_at[len] = '"';
	data[at] ^= 0xff;
	enc = trace_blob_encode(data, PAGE);
	REQUIRE(enc != NULL);
	trace_digest_hex(trace_digest(data, PAGE), hex);
	f = fopen(p, "w");
	REQUIRE(f != NULL);
	fwrite(text, 1, (size_t)(blob - text), f);
	fputs(hex, f);
	fwrite(blob + 16, 1, (size_t)(data_at - blob - 16), f);
	fputs(enc, f);
	fwrite(data_at + len, 1, (size_t)(dig - data_at - len), f);
	fputs(hex, f);
	fputs(dig + 16, f);
	fclose(f);
	free(enc);
	free(data);
	free(text);
}

/*
 * Recorded on a GPU whose jobs take longer to start, the timestamp differs from the replay's
 * (on the default GPU) while the WRITE32 does not. Without contents the range is not compared;
 * with them, every byte but the timestamp's matches. Either way the replay passes and says so.
 * A recording that differs in another byte too (the WRITE32's) is a divergence all the same.
 */
static void timestamps_are_not_divergences(void)
{
	struct sim_config cfg;

	sim_config_default(&cfg);
	cfg.timing.job_start *= 4;
	for (int contents = 0; contents < 2; contents++) {
		char p[] = "/tmp/magma-trace-stamp-XXXXXX";
		struct trace_replay_result res;

		if (contents)
			setenv("MAGMA_TRACE_CONTENTS", "1", 1);
		record(p, timestamp_client, &cfg);
		unsetenv("MAGMA_TRACE_CONTENTS");
		CHECK_EQ(replay(p, &res), TRACE_REPLAY_OK);
		CHECK_EQ(res.completions, 1);
		CHECK_EQ(res.timed_ranges, 1);
		CHECK(strstr(res.timing_note,
			     "resource 1 (buffer id 2, offset 0, length 4096) holds "
			     "1 GPU timestamp") != NULL);
		CHECK(strstr(res.timing_note, contents ? "every other byte matches"
						       : "so it was not compared") != NULL);
		if (contents) {
			change_completed_byte(p, 0);
			CHECK_EQ(replay(p, &res), TRACE_REPLAY_DIVERGED);
			CHECK(strstr(res.message, "first difference at byte 0 of the range") !=
			      NULL);
			CHECK_EQ(res.timed_ranges, 0);
		}
		unlink(p);
	}
	/* On the same GPU the timestamp matches: nothing to excuse. */
	{
		char p[] = "/tmp/magma-trace-stamp-XXXXXX";
		struct trace_replay_result res;

		record(p, timestamp_client, NULL);
		CHECK_EQ(replay(p, &res), TRACE_REPLAY_OK);
		CHECK_EQ(res.timed_ranges, 0);
		CHECK_EQ(res.timing_note[0], '\0');
		unlink(p);
	}
}

/* ---- calls from several threads ---- */

static void *second_thread(void *arg)
{
	struct trace_test_conn *c = arg;
	magma_semaphore_t s;
	magma_semaphore_id_t sid;

	if (magma_connection_create_semaphore(c->conn, &s, &sid) || magma_connection_flush(c->conn))
		return arg;
	magma_connection_release_semaphore(c->conn, s);
	return NULL;
}

/* The main thread opens the connection; a second thread makes three calls on it. */
static int threads_client(struct magma_system_embedded *emb, void *ctx __attribute__((unused)))
{
	struct trace_test_conn c;
	pthread_t t;
	void *bad = &c;

	if (trace_test_conn_open(emb, &c, 1) || pthread_create(&t, NULL, second_thread, &c))
		return 1;
	pthread_join(t, &bad);
	bad = bad || magma_connection_flush(c.conn) ? &c : NULL;
	trace_test_conn_close(&c);
	return bad != NULL;
}

/*
 * The second thread's calls carry "thread":2; the first thread's carry none (so a trace of a
 * single-threaded client has none at all). The trace replays.
 */
static void calls_name_their_thread(void)
{
	char p[] = "/tmp/magma-trace-threads-XXXXXX";
	struct trace_replay_result res;
	char *text;

	record(p, threads_client, NULL);
	text = trace_test_read(p);
	REQUIRE(text != NULL);
	CHECK(strstr(text, "\"type\":\"call\",\"thread\":2,\"call\":\"create_semaphore\"") != NULL);
	CHECK(strstr(text, "\"type\":\"call\",\"thread\":2,\"call\":\"release_semaphore\"") !=
	      NULL);
	CHECK(strstr(text, "\"type\":\"call\",\"call\":\"create_connection\"") != NULL);
	CHECK(strstr(text, "\"thread\":1") == NULL);
	CHECK(strstr(text, "\"thread\":3") == NULL);
	CHECK_EQ(replay(p, &res), TRACE_REPLAY_OK);
	free(text);
	unlink(p);
}

/* One test a line: clang-format would pack these short names in columns. */
/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(unsettled_range_has_no_digest),
	SIM_TEST(null_out_pointers_replay),
	SIM_TEST(foreign_handles_replay),
	SIM_TEST(outside_signal_replays),
	SIM_TEST(timestamps_are_not_divergences),
	SIM_TEST(calls_name_their_thread),
};
/* clang-format on */
SIM_TEST_SUITE(tests);
