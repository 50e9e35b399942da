/* SPDX-License-Identifier: MIT */
/*
 * test_campaign_report.c - percentiles (nearest rank), the kind x stage matrix, the JSON report
 * written and read back, merging shard reports (joined; another campaign or command refused;
 * duplicates and missing points reported), and the shell quoting of reproduction lines.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campaign_merge.h"
#include "campaign_proc.h"
#include "campaign_stats.h"
#include "sim_test.h"

static const char *const campaign_text =
	"{\"name\": \"report test\", \"sweeps\": [\n"
	"{\"kind\": \"mmu_fault\", \"stage\": \"submission\", \"points\": 3},\n"
	"{\"kind\": \"kill_client\", \"stage\": \"mapping\", \"points\": 2}]}\n";

static void test_percentiles_are_nearest_rank(void)
{
	double hundred[100], two[2] = {2, 1}, one[1] = {7};

	for (int i = 0; i < 100; i++)
		hundred[i] = 100 - i; /* unsorted on purpose */
	CHECK(campaign_percentile(hundred, 100, 50) == 50);
	CHECK(campaign_percentile(hundred, 100, 99) == 99);
	CHECK(campaign_percentile(hundred, 100, 100) == 100);
	CHECK(campaign_percentile(two, 2, 50) == 1);
	CHECK(campaign_percentile(two, 2, 99) == 2);
	CHECK(campaign_percentile(one, 1, 50) == 7);
	CHECK(campaign_percentile(one, 1, 99) == 7);
	CHECK(campaign_percentile(NULL, 0, 50) == 0);
}

/* A report of @campaign's points @first..@last by @step; point 2 fails, point 5 is unreached. */
static struct campaign_report *make_report(const struct campaign *c, uint32_t first, uint32_t last,
					   uint32_t step, char **argv, int argc)
{
	struct campaign_report *r = campaign_report_create(c, argc, argv);

	for (uint32_t id = first; r && id <= last; id += step) {
		struct campaign_point_result p = {.id = id, .command_status = 0, .seconds = 0.5};
		uint32_t sweep;

		campaign_point_find(c, id, &sweep, &p.n);
		snprintf(p.kind, sizeof(p.kind), "%s", fault_kind_name(c->sweeps[sweep].kind));
		snprintf(p.stage, sizeof(p.stage), "%s",
			 campaign_stage_name(c->sweeps[sweep].stage));
		p.plan = campaign_point_plan(c, id);
		p.repro = "magma-campaign --point 1 c.json -- x";
		p.verdict.outcome = id == 2   ? CAMPAIGN_OUTCOME_FAIL
				    : id == 5 ? CAMPAIGN_OUTCOME_NOT_REACHED
					      : CAMPAIGN_OUTCOME_PASS;
		if (id == 2) {
			p.verdict.checks[CAMPAIGN_CHECK_LEAKS].result = CAMPAIGN_FAIL;
			snprintf(p.verdict.checks[CAMPAIGN_CHECK_LEAKS].reason, CAMPAIGN_REASON_MAX,
				 "live mappings = 1 after every client ended");
		}
		if (id != 5) {
			p.verdict.times.has_detect = p.verdict.times.has_recover = true;
			p.verdict.times.detect_cycles = 100 * id;
			p.verdict.times.recover_cycles = 1000 * id;
			p.verdict.times.recover_ms = 0.25 * id;
		}
		CHECK(campaign_report_add(r, &p) != NULL);
		free(p.plan);
	}
	return r;
}

static struct campaign *load(const char *text)
{
	char error[CAMPAIGN_ERROR_MAX];
	struct campaign *c = campaign_parse(text, strlen(text), "c.json", "x", error);

	if (!c)
		SIM_TEST_FAIL("%s", error);
	return c;
}

static void test_matrix_counts_and_spreads(void)
{
	char *argv[] = {"x"};
	struct campaign *c = load(campaign_text);
	struct campaign_report *r;
	struct campaign_matrix m;

	REQUIRE(c);
	r = make_report(c, 1, 5, 1, argv, 1);
	REQUIRE(r);
	REQUIRE(campaign_matrix_build(r, &m) == 0);
	REQUIRE_EQ(m.row_count, 2);
	CHECK(!strcmp(m.rows[0].kind, "mmu_fault") && !strcmp(m.rows[0].stage, "submission"));
	CHECK_EQ(m.rows[0].points, 3);
	CHECK_EQ(m.rows[0].pass, 2);
	CHECK_EQ(m.rows[0].fail, 1);
	CHECK_EQ(m.rows[1].not_reached, 1);
	CHECK_EQ(m.rows[0].detect_cycles.count, 3);
	CHECK(m.rows[0].detect_cycles.p50 == 200);
	CHECK(m.rows[0].detect_cycles.p99 == 300);
	CHECK(m.rows[0].recover_ms.p99 == 0.75);
	CHECK_EQ(m.rows[1].recover_cycles.count, 1);
	CHECK_EQ(m.pass + m.fail + m.not_reached, 5);
	campaign_matrix_fini(&m);
	campaign_report_destroy(r);
	campaign_destroy(c);
}

static void test_json_report_reads_back(void)
{
	char *argv[] = {"conformance", "--gtest_filter=A.*"};
	char path[] = "/tmp/campaign-report-XXXXXX", error[CAMPAIGN_ERROR_MAX];
	struct campaign *c = load(campaign_text);
	struct campaign_report *r, *back;
	int fd = mkstemp(path);

	REQUIRE(c && fd >= 0);
	close(fd);
	r = make_report(c, 1, 5, 1, argv, 2);
	REQUIRE(r);
	r->shard_index = 1;
	r->shard_count = 3;
	snprintf(r->baseline.digest, sizeof(r->baseline.digest), "00112233aabbccdd");
	REQUIRE(campaign_report_write(r, path, error) == 0);
	back = campaign_report_read(path, error);
	if (!back)
		SIM_TEST_FAIL("%s", error);
	REQUIRE(back);
	CHECK(!strcmp(back->name, "report test"));
	CHECK_EQ(back->digest, c->digest);
	CHECK_EQ(back->argc, 2);
	CHECK(!strcmp(back->argv[1], "--gtest_filter=A.*"));
	CHECK_EQ(back->shard_index, 1);
	CHECK_EQ(back->shard_count, 3);
	CHECK_EQ(back->point_count, 5);
	CHECK_EQ(back->sweep_count, 2);
	CHECK(!strcmp(back->baseline.digest, "00112233aabbccdd"));
	REQUIRE_EQ(back->result_count, 5);
	CHECK_EQ(back->results[1].verdict.outcome, CAMPAIGN_OUTCOME_FAIL);
	CHECK_EQ(back->results[1].verdict.checks[CAMPAIGN_CHECK_LEAKS].result, CAMPAIGN_FAIL);
	CHECK(!strcmp(back->results[1].verdict.checks[CAMPAIGN_CHECK_LEAKS].reason,
		      "live mappings = 1 after every client ended"));
	CHECK_EQ(back->results[4].verdict.outcome, CAMPAIGN_OUTCOME_NOT_REACHED);
	CHECK_EQ(back->results[2].verdict.times.recover_cycles, 3000);
	CHECK(back->results[2].verdict.times.recover_ms == 0.75);
	CHECK(strstr(back->results[0].plan, "\"nth\":1"));
	CHECK(!strcmp(back->results[0].repro, "magma-campaign --point 1 c.json -- x"));
	CHECK_EQ(back->results[0].command_status, 0);
	campaign_report_destroy(back);
	campaign_report_destroy(r);
	campaign_destroy(c);
	unlink(path);
}

/* Merges @count reports; what it said about duplicates and missing points in @notes. */
static struct campaign_report *merge(struct campaign_report **reports, uint32_t count, char *notes,
				     size_t size, bool *complete, char *error)
{
	const char *files[] = {"a.json", "b.json", "c.json"};
	FILE *f = fmemopen(notes, size, "w");
	struct campaign_report *m;

	m = campaign_merge(reports, files, count, f, complete, error);
	fclose(f);
	return m;
}

static void test_merge_joins_refuses_and_reports(void)
{
	char *argv[] = {"x"}, *other_argv[] = {"y"};
	char notes[1024] = "", error[CAMPAIGN_ERROR_MAX];
	struct campaign *c = load(campaign_text);
	struct campaign *other = load("{\"sweeps\": [{\"kind\": \"cp_hang\", \"stage\": "
				      "\"submission\", \"points\": 5}]}");
	struct campaign_report *shards[3], *m;
	bool complete;

	REQUIRE(c && other);
	/* Shard 0/2 (1, 3, 5) and 1/2 (2, 4): every point once. */
	shards[0] = make_report(c, 1, 5, 2, argv, 1);
	shards[1] = make_report(c, 2, 5, 2, argv, 1);
	REQUIRE(shards[0] && shards[1]);
	shards[0]->elapsed_s = 4;
	shards[1]->elapsed_s = 6;
	m = merge(shards, 2, notes, sizeof(notes), &complete, error);
	REQUIRE(m);
	CHECK(complete);
	CHECK(!notes[0]);
	REQUIRE_EQ(m->result_count, 5);
	for (uint32_t i = 0; i < 5; i++)
		CHECK_EQ(m->results[i].id, i + 1);
	CHECK(m->elapsed_s == 6);
	campaign_report_destroy(m);

	/* Shard 0 twice: 1, 3, 5 duplicated, 2 and 4 missing. */
	shards[2] = shards[0];
	m = merge((struct campaign_report *[]){shards[0], shards[2]}, 2, notes, sizeof(notes),
		  &complete, error);
	REQUIRE(m);
	CHECK(!complete);
	CHECK(strstr(notes, "point 1 is in a.json and in b.json"));
	CHECK(strstr(notes, "point 2 is in no report"));
	CHECK(strstr(notes, "point 4 is in no report"));
	CHECK_EQ(m->result_count, 3);
	campaign_report_destroy(m);

	/* Another campaign, another command: refused. */
	shards[2] = make_report(other, 1, 2, 1, argv, 1);
	REQUIRE(shards[2]);
	CHECK(!merge((struct campaign_report *[]){shards[0], shards[2]}, 2, notes, sizeof(notes),
		     &complete, error));
	CHECK(strstr(error, "b.json is a report of another campaign than a.json"));
	campaign_report_destroy(shards[2]);
	shards[2] = make_report(c, 2, 2, 1, other_argv, 1);
	REQUIRE(shards[2]);
	CHECK(!merge((struct campaign_report *[]){shards[0], shards[2]}, 2, notes, sizeof(notes),
		     &complete, error));
	CHECK(strstr(error, "b.json ran another command than a.json"));
	campaign_report_destroy(shards[2]);
	campaign_report_destroy(shards[0]);
	campaign_report_destroy(shards[1]);
	campaign_destroy(c);
	campaign_destroy(other);
}

static void test_reproduction_lines_are_shell_quoted(void)
{
	char *argv[] = {"./t", "--gtest_filter=A.*:B.C", "it's", ""};
	char *line = campaign_shell_join("magma-campaign --point 3", 4, argv);

	REQUIRE(line);
	CHECK(!strcmp(line, "magma-campaign --point 3 ./t '--gtest_filter=A.*:B.C' 'it'\\''s' ''"));
	free(line);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_percentiles_are_nearest_rank),
	SIM_TEST(test_matrix_counts_and_spreads),
	SIM_TEST(test_json_report_reads_back),
	SIM_TEST(test_merge_joins_refuses_and_reports),
	SIM_TEST(test_reproduction_lines_are_shell_quoted),
};
SIM_TEST_SUITE(tests);
