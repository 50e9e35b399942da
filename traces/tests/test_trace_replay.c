/* SPDX-License-Identifier: MIT */
/*
 * test_trace_replay.c - replay of the sample traces (golden completion digests inside them),
 * determinism (two replays give the same digests and GPU cycles), a record -> replay round trip
 * of a fresh in-process run (client and device events, job commands among them, in one trace; every
 * magma.h call including the performance counters; a changed perf completion is a divergence), and
 * the timeline of a replay, with one track per client context.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "magma_system/embedded.h"
#include "sim/sim_cmd.h"
#include "sim_test.h"
#include "timeline_check.h"
#include "trace_test_util.h"
#include "traces/trace.h"
#include "traces/trace_replay.h"

static int replay(const char *p, struct trace_replay_result *res, const char *timeline)
{
	struct trace_replay_options o;
	int ret;

	trace_replay_default_options(&o);
	o.timeline = timeline;
	ret = trace_replay_run(p, &o, res);
	if (ret)
		fprintf(stderr, "%s: %s\n", p, res->message);
	return ret;
}

static void samples_replay(void)
{
	static const char *const names[] = {"write", "copy", "fill", "compute"};

	for (int i = 0; i < 4; i++) {
		struct trace_replay_result res;
		char p[256];

		snprintf(p, sizeof(p), "%s/%s.json", TRACE_SAMPLES_DIR, names[i]);
		CHECK_EQ(replay(p, &res, NULL), TRACE_REPLAY_OK);
		CHECK_EQ(res.completions, 4);
		CHECK_EQ(res.submissions, 4);
		CHECK(res.gpu_cycles > 0);
	}
}

/*
 * Two replays of one recording: same completion digests, GPU cycles and device events. waits
 * releases a connection right before the next one's first submission (trace_replay_exact
 * replays a longer recording of it five times).
 */
static void replay_twice_is_identical(void)
{
	static const char *const names[] = {"copy", "waits"};

	for (int i = 0; i < 2; i++) {
		struct trace_replay_result a, b;
		char p[256];

		snprintf(p, sizeof(p), "%s/%s.json", TRACE_SAMPLES_DIR, names[i]);
		REQUIRE_EQ(replay(p, &a, NULL), TRACE_REPLAY_OK);
		REQUIRE_EQ(replay(p, &b, NULL), TRACE_REPLAY_OK);
		CHECK_EQ(a.digest, b.digest);
		CHECK_EQ(a.gpu_cycles, b.gpu_cycles);
		CHECK_EQ(a.device_digest, b.device_digest);
		CHECK(a.device_digest != TRACE_DIGEST_INIT);
		CHECK_EQ(a.calls, b.calls);
	}
}

/*
 * With a blob budget of one byte no blob text stays in memory between the passes: every blob a
 * call needs is read again from the file, and the replay is the same.
 */
static void blobs_read_again_from_the_file(void)
{
	static const char *const names[] = {"write", "compute"};

	for (int i = 0; i < 2; i++) {
		struct trace_replay_options o;
		struct trace_replay_result a, b;
		char p[256];

		snprintf(p, sizeof(p), "%s/%s.json", TRACE_SAMPLES_DIR, names[i]);
		REQUIRE_EQ(replay(p, &a, NULL), TRACE_REPLAY_OK);
		trace_replay_default_options(&o);
		o.blob_budget = 1;
		REQUIRE_EQ(trace_replay_run(p, &o, &b), TRACE_REPLAY_OK);
		CHECK_EQ(a.digest, b.digest);
		CHECK_EQ(a.completions, b.completions);
		CHECK_EQ(a.gpu_cycles, b.gpu_cycles);
	}
}

/* Buffer and semaphore export/import, names, cache calls, info and the notification channel. */
static int extra_calls(magma_connection_t conn, magma_buffer_t data, magma_semaphore_t sem)
{
	magma_handle_t bh, sh;
	magma_buffer_t imported;
	magma_semaphore_t simported;
	uint64_t size, id, nsize = 1;
	magma_cache_policy_t policy;
	magma_buffer_info_t info;
	magma_bool_t more;
	uint8_t note[64];
	magma_poll_item_t it = {.type = MAGMA_POLL_TYPE_HANDLE,
				.condition = MAGMA_POLL_CONDITION_READABLE};

	if (magma_buffer_export(data, &bh) ||
	    magma_connection_import_buffer(conn, bh, &size, &imported, &id) ||
	    magma_semaphore_export(sem, &sh) ||
	    magma_connection_import_semaphore2(conn, sh, 0, &simported, &id) ||
	    magma_buffer_set_name(imported, "the \"data\" buffer\n") ||
	    magma_buffer_set_cache_policy(imported, MAGMA_CACHE_POLICY_UNCACHED) ||
	    magma_buffer_get_cache_policy(imported, &policy) ||
	    policy != MAGMA_CACHE_POLICY_UNCACHED || magma_buffer_get_info(imported, &info) ||
	    magma_buffer_clean_cache(imported, 0, 4096, MAGMA_CACHE_OPERATION_CLEAN))
		return 1;
	it.handle = magma_connection_get_notification_channel_handle(conn);
	if (magma_poll(&it, 1, 0) != MAGMA_STATUS_TIMED_OUT ||
	    magma_connection_read_notification_channel(conn, note, sizeof(note), &nsize, &more) ||
	    nsize != 0)
		return 1;
	magma_connection_release_semaphore(conn, simported);
	magma_connection_release_buffer(conn, imported);
	return 0;
}

/*
 * The version-2 calls: device enumeration, logging/tracing channels, and performance counters
 * (access denied with a file that is not the token, then granted with @emb's token; a dump into
 * @data read back as a completion).
 */
static int perf_calls(struct magma_system_embedded *emb, magma_connection_t conn,
		      magma_buffer_t data, magma_buffer_id_t data_id)
{
	uint64_t ids[2] = {0, 1}, buffer_id = 0, time = 0;
	/* the dump consumes the first range; the second one is left for the remove */
	magma_buffer_offset_t o[2] = {{data_id, 2048, 1024}, {data_id, 3072, 1024}};
	magma_perf_count_pool_t pool;
	magma_handle_t h;
	uint32_t count = 0, trigger = 0, offset = 0, flags = 0;
	magma_poll_item_t it = {.type = MAGMA_POLL_TYPE_HANDLE,
				.condition = MAGMA_POLL_CONDITION_READABLE};
	int token = magma_system_embedded_perf_token(emb);

	if (token < 0 ||
	    magma_enumerate_devices(NULL, 0, &count, 0, NULL) == MAGMA_STATUS_INTERNAL_ERROR ||
	    magma_initialize_logging((magma_handle_t)open("/dev/null", O_RDONLY | O_CLOEXEC)) ||
	    magma_initialize_tracing((magma_handle_t)-1) ||
	    magma_connection_enable_performance_counter_access(
		    conn, (magma_handle_t)open("/dev/null", O_RDONLY | O_CLOEXEC)) !=
		    MAGMA_STATUS_ACCESS_DENIED ||
	    magma_connection_enable_performance_counter_access(conn, (magma_handle_t)token) ||
	    magma_connection_enable_performance_counters(conn, ids, 2) ||
	    magma_connection_clear_performance_counters(conn, ids, 2) ||
	    magma_connection_create_performance_counter_buffer_pool(conn, &pool, &h) ||
	    magma_connection_add_performance_counter_buffer_offsets_to_pool(conn, pool, o, 2) ||
	    magma_connection_dump_performance_counters(conn, pool, 7))
		return 1;
	it.handle = h;
	if (magma_poll(&it, 1, 5000000000ull) ||
	    magma_connection_read_performance_counter_completion(conn, pool, &trigger, &buffer_id,
								 &offset, &time, &flags) ||
	    trigger != 7 || buffer_id != data_id || offset != 2048 ||
	    magma_connection_remove_performance_counter_buffer_from_pool(conn, pool, data) ||
	    magma_connection_release_performance_counter_buffer_pool(conn, pool))
		return 1;
	return 0;
}

/*
 * Inline commands signalling @sem: a completion with no resources (its list once recorded
 * uninitialised bytes). Returns non-zero on failure.
 */
static int inline_call(magma_connection_t conn, uint32_t ctx, magma_semaphore_t sem,
		       magma_semaphore_id_t sem_id)
{
	uint32_t words[8], n = 0;
	uint64_t ids[1] = {sem_id};
	magma_inline_command_buffer_t cb = {
		.data = words, .semaphore_ids = ids, .semaphore_count = 1};
	magma_poll_item_t it = {.semaphore = sem,
				.type = MAGMA_POLL_TYPE_SEMAPHORE,
				.condition = MAGMA_POLL_CONDITION_SIGNALED};
	int bad;

	n += sim_cmd_emit_write32(words + n, 0x200000 + 64, 0x1e);
	n += sim_cmd_emit_end(words + n);
	cb.size = n * 4;
	bad = magma_connection_execute_inline_commands(conn, ctx, 1, &cb) ||
	      magma_poll(&it, 1, 5000000000ull);
	magma_semaphore_reset(sem);
	return bad;
}

/*
 * A small client on @emb: 3 rounds of WRITE32 into a data buffer, each waited for, submitted
 * round-robin on @contexts (1 or 2) contexts of one connection.
 */
static int client_run(struct magma_system_embedded *emb, uint32_t contexts)
{
	struct trace_test_conn c;
	int bad = trace_test_conn_open(emb, &c, contexts);

	for (uint32_t k = 0; k < 3 && !bad; k++)
		bad = trace_test_conn_round(&c, k, 0xabc00000u + k);
	if (!bad) {
		bad |= inline_call(c.conn, c.ctx[0], c.sem, c.sem_id);
		bad |= extra_calls(c.conn, c.data, c.sem);
		bad |= perf_calls(emb, c.conn, c.data, c.data_id);
		bad |= magma_connection_flush(c.conn) != MAGMA_STATUS_OK;
	}
	trace_test_conn_close(&c);
	return bad;
}

/* client_run for trace_test_record: @ctx points at the number of contexts. */
static int client_of(struct magma_system_embedded *emb, void *ctx)
{
	return client_run(emb, *(const uint32_t *)ctx);
}

/* Records client_run(@contexts), device events too, into the new temporary file @p. */
static void record_client(char *p, uint32_t contexts)
{
	CHECK_EQ(trace_test_record(p, client_of, &contexts, NULL, true), 0);
}

static void record_then_replay(void)
{
	char p[] = "/tmp/magma-trace-rt-XXXXXX";
	struct trace_replay_result res;
	char *text = NULL, *tw;
	FILE *f;

	record_client(p, 1);
	text = trace_test_read(p);
	REQUIRE(text != NULL);
	CHECK(text && strstr(text, "\"ev\":\"JOB_START\"") != NULL);
	CHECK(text && strstr(text, "\"ev\":\"REG_WRITE\"") != NULL);
	/* the commands each job ran (replay ignores dev events, so they need no replaying) */
	CHECK(text && strstr(text, "\"ev\":\"CMD\"") != NULL);
	CHECK(text && strstr(text, "\"name\":\"END\"") != NULL);
	CHECK(text && strstr(text, "\"type\":\"completion\"") != NULL);
	CHECK(text && strstr(text, "\"call\":\"import_buffer\"") != NULL);
	CHECK(text && strstr(text, "\"call\":\"buffer_get_handle\"") != NULL);
	CHECK(text && strstr(text, "\"call\":\"enumerate_devices\"") != NULL);
	CHECK(text && strstr(text, "\"call\":\"perf_read_completion\",\"args\"") != NULL);
	CHECK(text && strstr(text, "\"trigger\":7") != NULL);
	CHECK(text && strstr(text, "\"name\":\"the \\u0022data\\u0022 buffer\\u000a\"") != NULL);

	CHECK(text && strstr(text, "\"resources\":[]") != NULL);

	CHECK_EQ(replay(p, &res, NULL), TRACE_REPLAY_OK);
	CHECK_EQ(res.completions, 4);
	/* A perf completion recorded with another trigger id is a divergence. */
	tw = text ? strstr(text, "\"out\":{\"trigger\":7,") : NULL;
	CHECK(tw != NULL);
	if (tw) {
		tw[strlen("\"out\":{\"trigger\":")] = '8';
		f = fopen(p, "w");
		REQUIRE(f != NULL);
		fputs(text, f);
		fclose(f);
		CHECK_EQ(replay(p, &res, NULL), TRACE_REPLAY_DIVERGED);
		CHECK(strstr(res.message, "perf_read_completion: recorded trigger 8") != NULL);
	}
	free(text);
	unlink(p);
}

/* The digest of resource @index in the @n-th completion event (from 0) of @text, or NULL. */
static char *completion_digest(char *text, int n, int index)
{
	char key[32], *at = text;

	for (int i = 0; at && i <= n; i++) {
		at = strstr(at, "\"type\":\"completion\"");
		if (at && i < n)
			at++;
	}
	snprintf(key, sizeof(key), "{\"index\":%d,", index);
	at = at ? strstr(at, key) : NULL;
	at = at ? strstr(at, "\"digest\":\"") : NULL;
	return at ? at + strlen("\"digest\":\"") : NULL;
}

/* Whether @text has a blob event for the 16 hex digits at @hex. */
static bool has_blob(const char *text, const char *hex)
{
	char key[64];

	snprintf(key, sizeof(key), "\"type\":\"blob\",\"digest\":\"%.16s\"", hex);
	return strstr(text, key) != NULL;
}

/*
 * With MAGMA_TRACE_CONTENTS=1 the recording stores what each completed range held, so a changed
 * completion names the bytes: round 1's completion of the data buffer made to expect round 2's
 * contents differs in the word round 2 stored at offset 8 (0xabc00002: three of its four bytes
 * are not 0). Without contents, only the
 * digests, and a word on how to get the bytes.
 */
static void exact_divergence(void)
{
	for (int contents = 0; contents < 2; contents++) {
		char p[] = "/tmp/magma-trace-exact-XXXXXX";
		struct trace_replay_result res;
		char *text = NULL, *round1, *round2;
		FILE *f;

		if (contents)
			setenv("MAGMA_TRACE_CONTENTS", "1", 1);
		record_client(p, 1);
		unsetenv("MAGMA_TRACE_CONTENTS");
		text = trace_test_read(p);
		REQUIRE(text != NULL);
		round1 = completion_digest(text, 1, 1);
		round2 = completion_digest(text, 2, 1);
		REQUIRE(round1 && round2);
		/* round 2's result is in no later submission: only the completion keeps it */
		CHECK_EQ(has_blob(text, round2), contents);
		CHECK_EQ(replay(p, &res, NULL), TRACE_REPLAY_OK);
		memcpy(round1, round2, 16);
		f = fopen(p, "w");
		REQUIRE(f != NULL);
		fputs(text, f);
		fclose(f);
		CHECK_EQ(replay(p, &res, NULL), TRACE_REPLAY_DIVERGED);
		CHECK(strstr(res.message, "resource 1 (buffer id 2, offset 0, length 4096)") !=
		      NULL);
		if (contents) {
			CHECK(strstr(res.message,
				     "first difference at byte 8 of the range (buffer "
				     "offset 0x8); 3 of the 4 bytes from there to byte "
				     "11 differ") != NULL);
			CHECK(strstr(res.message, "expected 02 00 c0 ab 00") != NULL);
			CHECK(strstr(res.message, "replay has 00 00 00 00 00") != NULL);
		} else {
			CHECK(strstr(res.message, "record with MAGMA_TRACE_CONTENTS=1") != NULL);
		}
		free(text);
		unlink(p);
	}
}

/*
 * A client whose job faults on purpose (a store to a read-only mapping): it waits for the fault
 * notification, then for the error, recording into @w. Returns 0 when everything went as the
 * client expected.
 */
static int faulting_client(struct magma_system_embedded *emb, struct trace_writer *w)
{
	magma_device_t dev;
	magma_connection_t conn;
	magma_buffer_t cmd, data;
	magma_buffer_id_t cmd_id, data_id;
	magma_semaphore_t sem;
	magma_semaphore_id_t sem_id;
	magma_handle_t h;
	uint64_t size;
	uint32_t ctx, *cpu, n = 0;
	int fd = magma_system_embedded_connect(emb), bad;
	magma_exec_resource_t res[2];
	magma_exec_command_buffer_t cb = {0};
	magma_command_descriptor_t d = {.resource_count = 2,
					.command_buffer_count = 1,
					.signal_semaphore_count = 1,
					.resources = res,
					.command_buffers = &cb};
	magma_poll_item_t it = {.type = MAGMA_POLL_TYPE_HANDLE,
				.condition = MAGMA_POLL_CONDITION_READABLE};

	if (fd < 0 || magma_device_import((magma_handle_t)fd, &dev) ||
	    magma_device_create_connection(dev, &conn) ||
	    magma_connection_create_context2(conn, MAGMA_PRIORITY_MEDIUM, &ctx) ||
	    magma_connection_create_buffer(conn, 4096, &size, &cmd, &cmd_id) ||
	    magma_connection_create_buffer(conn, 4096, &size, &data, &data_id) ||
	    magma_connection_map_buffer(conn, 0x100000, cmd, 0, 4096,
					MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE) ||
	    magma_connection_map_buffer(conn, 0x200000, data, 0, 4096, MAGMA_MAP_FLAG_READ) ||
	    magma_connection_create_semaphore(conn, &sem, &sem_id) ||
	    magma_buffer_get_handle(cmd, &h))
		return 1;
	cpu = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, (int)h, 0);
	close((int)h);
	if (cpu == MAP_FAILED)
		return 1;
	n += sim_cmd_emit_write32(cpu + n, 0x200000, 0xdead);
	sim_cmd_emit_end(cpu + n);
	munmap(cpu, 4096);
	res[0] = (magma_exec_resource_t){cmd_id, 0, 4096};
	res[1] = (magma_exec_resource_t){data_id, 0, 4096};
	d.semaphore_ids = &sem_id;
	it.handle = magma_connection_get_notification_channel_handle(conn);
	bad = magma_connection_execute_command(conn, ctx, &d) != MAGMA_STATUS_OK ||
	      magma_poll(&it, 1, 5000000000ull) != MAGMA_STATUS_OK;
	/*
	 * The error follows the notification on the device's threads; calls made before it came
	 * would record OK, which a faster replay cannot repeat: wait unrecorded.
	 */
	trace_global_install(NULL);
	for (int i = 0; i < 5000 && magma_connection_get_error(conn) == MAGMA_STATUS_OK; i++)
		usleep(1000);
	trace_global_install(w);
	bad |= magma_connection_get_error(conn) != MAGMA_STATUS_CONTEXT_KILLED;
	magma_connection_release(conn);
	magma_device_release(dev);
	return bad;
}

/*
 * A fault the recording had too replays as a fault, not as a divergence: with the device's
 * events in the trace (its FAULT counted), and without them (a device in another process: the
 * recorded CONTEXT_KILLED says the recording faulted).
 */
static void recorded_fault_replays(void)
{
	for (int device_events = 0; device_events < 2; device_events++) {
		char p[] = "/tmp/magma-trace-fault-XXXXXX";
		struct magma_system_embedded *emb = NULL;
		struct trace_replay_options o;
		struct trace_replay_result res;
		struct trace_writer *w;
		char *text = NULL;
		int fd = mkstemp(p);

		REQUIRE(fd >= 0);
		close(fd);
		/* A device created before the writer is installed records no device events. */
		if (!device_events)
			emb = magma_system_embedded_create(NULL);
		w = trace_writer_open(p, "test");
		REQUIRE(w != NULL);
		trace_global_install(w);
		if (device_events)
			emb = magma_system_embedded_create(NULL);
		REQUIRE(emb != NULL);
		CHECK_EQ(faulting_client(emb, w), 0);
		magma_system_embedded_destroy(emb);
		trace_global_install(NULL);
		trace_writer_close(w);
		text = trace_test_read(p);
		CHECK_EQ(text && strstr(text, "\"ev\":\"FAULT\"") != NULL, device_events);
		CHECK(text && strstr(text, "\"result\":-5") != NULL); /* CONTEXT_KILLED */
		free(text);
		text = NULL;
		trace_replay_default_options(&o);
		o.wait_ns = 60ull * 1000 * 1000 * 1000; /* a fault not noticed would show as slow */
		CHECK_EQ(trace_replay_run(p, &o, &res), TRACE_REPLAY_OK);
		if (res.message[0])
			fprintf(stderr, "%s\n", res.message);
		unlink(p);
	}
}

/* A replay's timeline is one Perfetto imports: the checks of timeline_check.c. */
static void timeline_of_replay(void)
{
	char out[] = "/tmp/magma-trace-tl-XXXXXX", p[256];
	struct trace_replay_result res;
	struct timeline_stats st;
	int fd = mkstemp(out);

	REQUIRE(fd >= 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/fill.json", TRACE_SAMPLES_DIR);
	CHECK_EQ(replay(p, &res, out), TRACE_REPLAY_OK);
	CHECK_EQ(timeline_check(out, &st), 0);
	CHECK_EQ(st.jobs, 4);
	CHECK(st.commands >= 4);
	CHECK(st.irqs > 0);
	unlink(out);
}

/* A replay of a run with two contexts draws two context tracks, each with its jobs. */
static void timeline_context_tracks(void)
{
	char p[] = "/tmp/magma-trace-2c-XXXXXX", out[] = "/tmp/magma-trace-tl2-XXXXXX";
	struct trace_replay_result res;
	struct timeline_stats st;
	int fd = mkstemp(out);

	REQUIRE(fd >= 0);
	close(fd);
	record_client(p, 2);
	CHECK_EQ(replay(p, &res, out), TRACE_REPLAY_OK);
	CHECK_EQ(res.completions, 4);
	CHECK_EQ(timeline_check(out, &st), 0);
	CHECK_EQ(st.contexts, 2);
	/* rounds 0 and 2 on the first context's track, round 1 on the second's */
	CHECK_EQ(st.ctx_jobs[0], 2);
	CHECK_EQ(st.ctx_jobs[1], 1);
	unlink(out);
	unlink(p);
}

/* One test a line: clang-format would pack these short names in columns. */
/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(samples_replay),
	SIM_TEST(replay_twice_is_identical),
	SIM_TEST(blobs_read_again_from_the_file),
	SIM_TEST(record_then_replay),
	SIM_TEST(recorded_fault_replays),
	SIM_TEST(exact_divergence),
	SIM_TEST(timeline_of_replay),
	SIM_TEST(timeline_context_tracks),
};
/* clang-format on */
SIM_TEST_SUITE(tests);
