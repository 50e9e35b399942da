/* SPDX-License-Identifier: MIT */
/*
 * test_campaign_spec.c - the campaign file reader: every class of bad input is refused with
 * "FILE:LINE: FIELD:", points are numbered in campaign order with the right plans, every point
 * is in exactly one shard, and the example campaigns load.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "campaign_spec.h"
#include "sim_test.h"

static struct campaign *parse(const char *text, char *error)
{
	return campaign_parse(text, strlen(text), "t.json", "magma-conforman", error);
}

/* @text must be refused with an error starting with @prefix. */
static void check_refused(const char *text, const char *prefix)
{
	char error[CAMPAIGN_ERROR_MAX];
	struct campaign *c = parse(text, error);

	CHECK(c == NULL);
	campaign_destroy(c);
	if (strncmp(error, prefix, strlen(prefix)) != 0)
		SIM_TEST_FAIL("want \"%s...\", got \"%s\"", prefix, error);
}

#define SWEEP(s) "{\"version\": 1,\n\"sweeps\": [\n" s "\n]}"

static void test_bad_inputs_name_file_line_field(void)
{
	check_refused("{\"version\": 1,\n\"sweeps\": [", "t.json:2: not valid JSON");
	check_refused("[1, 2]", "t.json:1: campaign: must be an object");
	check_refused("{\"version\": 1,\n\"seeed\": 3}", "t.json:2: seeed: unknown member");
	check_refused("{\n\"version\": 2}", "t.json:2: version: 2 is out of range");
	check_refused("{\"name\": 7, \"sweeps\": []}", "t.json:1: name: must be a string");
	check_refused("{\n\"witness\": \"yes\"}", "t.json:2: witness: must be true or false");
	check_refused("{\n\"target\": 3}", "t.json:2: target: must be a fault-plan target");
	check_refused("{\"target\":\n{\"process\": \"magma-witness\"},\n\"sweeps\": []}",
		      "t.json:2: target.process: the witness");
	check_refused("{\"version\": 1\n}", "t.json:1: sweeps: is required");
	check_refused("{\"version\": 1,\n\"sweeps\": {}}", "t.json:2: sweeps: must be an array");
	check_refused("{\"version\": 1,\n\"sweeps\": []}", "t.json:2: sweeps: must hold 1 to");
	check_refused(SWEEP("{\"kind\": \"mmu_fault\", \"stage\": \"submission\", \"points\": 1,\n"
			    "\"pionts\": 2}"),
		      "t.json:4: sweeps[0].pionts: unknown member");
	check_refused(SWEEP("{\"stage\": \"submission\", \"points\": 1}"),
		      "t.json:3: sweeps[0].kind: is required");
	check_refused(
		SWEEP("{\"kind\": \"gpu_on_fire\", \"stage\": \"submission\", \"points\": 1}"),
		"t.json:3: sweeps[0].kind: \"gpu_on_fire\" is not a fault kind");
	check_refused(SWEEP("{\"kind\": \"mmu_fault\",\n\"stage\": \"lunch\", \"points\": 1}"),
		      "t.json:4: sweeps[0].stage: \"lunch\" is not a stage");
	check_refused(SWEEP("{\"kind\": \"mmu_fault\", \"stage\": \"submission\"}"),
		      "t.json:3: sweeps[0].points: is required");
	check_refused(SWEEP("{\"kind\": \"mmu_fault\", \"stage\": \"submission\",\n\"points\": 0}"),
		      "t.json:4: sweeps[0].points: 0 is out of range (1 to 1000)");
	check_refused(
		SWEEP("{\"kind\": \"mmu_fault\", \"stage\": \"submission\", \"points\": 1001}"),
		"t.json:3: sweeps[0].points: 1001 is out of range");
	check_refused(SWEEP("{\"kind\": \"mmu_fault\", \"stage\": \"submission\", \"points\": 1,\n"
			    "\"from\": 5}"),
		      "t.json:4: sweeps[0].from: only a \"cycle\" stage takes");
	check_refused(SWEEP("{\"kind\": \"mmu_fault\", \"stage\": \"cycle\", \"points\": 2,\n"
			    "\"step\": 0}"),
		      "t.json:4: sweeps[0].step: 0 is out of range");
}

/* What the fault-plan reader refuses is refused against the campaign member that made it. */
static void test_plan_refusals_point_at_the_sweep(void)
{
	check_refused(SWEEP("{\"kind\": \"mmu_fault\", \"stage\": \"submission\", \"points\": 1},\n"
			    "{\"kind\": \"fail_call\", \"call\": \"msd_connection_map_buffer\",\n"
			    " \"stage\": \"submission\", \"points\": 2}"),
		      "t.json:5: sweeps[1].stage: a fail_call fault cannot count \"submission\"");
	check_refused(SWEEP("{\"kind\": \"mmu_fault\", \"stage\": \"alloc\", \"points\": 1}"),
		      "t.json:3: sweeps[0].stage: a mmu_fault fault cannot count \"alloc\"");
	check_refused(SWEEP("{\"kind\": \"irq_delay\", \"stage\": \"submission\", \"points\": 1}"),
		      "t.json:3: sweeps[0]: an irq_delay fault needs \"cycles\"");
	check_refused(SWEEP("{\"kind\": \"fail_call\", \"stage\": \"call\", \"points\": 1,\n"
			    "\"call\": \"msd_lunch\"}"),
		      "t.json:4: sweeps[0].call: ");
	check_refused(SWEEP("{\"kind\": \"mmu_fault\", \"stage\": \"submission\", \"points\": 1,\n"
			    "\"status\": \"MEMORY_ERROR\"}"),
		      "t.json:4: sweeps[0].status: ");
	check_refused("{\"target\":\n{\"connection\": 0},\n\"sweeps\": [{\"kind\": \"mmu_fault\", "
		      "\"stage\": \"submission\", \"points\": 1}]}",
		      "t.json:2: target: ");
	/* check_device: a kill_client at a cycle needs a connection or a process to kill. */
	check_refused("{\"target\": {\"connection\": \"any\"},\n\"sweeps\": [\n{\"kind\": "
		      "\"kill_client\", \"stage\": \"cycle\", \"points\": 1}]}",
		      "t.json:1: target: a kill_client at a cycle");
}

static const char *const good =
	"{\n"
	"  \"version\": 1, \"name\": \"all stages\", \"seed\": 9,\n"
	"  \"sweeps\": [\n"
	"    {\"kind\": \"mmu_fault\", \"stage\": \"submission\", \"points\": 3},\n"
	"    {\"kind\": \"mmu_fault\", \"stage\": \"access\", \"points\": 2},\n"
	"    {\"kind\": \"kill_client\", \"stage\": \"mapping\", \"points\": 2},\n"
	"    {\"kind\": \"fail_call\", \"call\": \"msd_connection_map_buffer\", \"stage\": "
	"\"call\", \"points\": 1},\n"
	"    {\"kind\": \"fail_alloc\", \"in\": \"service\", \"stage\": \"alloc\", \"points\": 1},\n"
	"    {\"kind\": \"irq_delay\", \"cycles\": 5000, \"stage\": \"cycle\", \"from\": 1000, "
	"\"step\": 20000, \"points\": 3}\n"
	"  ]\n"
	"}\n";

static void check_plan(const struct campaign *c, uint32_t id, const char *want)
{
	char *plan = campaign_point_plan(c, id);

	if (!plan || !strstr(plan, want))
		SIM_TEST_FAIL("point %u: want %s in %s", id, want, plan ? plan : "(null)");
	free(plan);
}

static void test_points_are_numbered_in_campaign_order(void)
{
	char error[CAMPAIGN_ERROR_MAX];
	struct campaign *c = parse(good, error);
	uint32_t sweep, n;

	REQUIRE(c);
	CHECK(!strcmp(c->name, "all stages"));
	CHECK_EQ(c->point_count, 12);
	CHECK_EQ(c->sweep_count, 6);
	CHECK(c->witness);
	CHECK(!strcmp(c->target_json, "{\"process\":\"magma-conforman\"}"));
	CHECK_EQ(c->sweeps[2].first_point, 6);
	CHECK(campaign_point_find(c, 1, &sweep, &n) && sweep == 0 && n == 1);
	CHECK(campaign_point_find(c, 5, &sweep, &n) && sweep == 1 && n == 2);
	CHECK(campaign_point_find(c, 12, &sweep, &n) && sweep == 5 && n == 3);
	CHECK(!campaign_point_find(c, 0, &sweep, &n));
	CHECK(!campaign_point_find(c, 13, &sweep, &n));
	check_plan(c, 3, "\"trigger\":{\"nth\":3,\"of\":\"submission\"}");
	check_plan(c, 4, "\"trigger\":{\"nth\":1,\"of\":\"access\"}");
	check_plan(c, 7, "{\"nth\":2,\"of\":\"call\",\"call\":\"msd_connection_map_buffer\"}");
	check_plan(c, 8, "\"trigger\":{\"nth\":1,\"of\":\"call\"},");
	check_plan(c, 8, "\"call\":\"msd_connection_map_buffer\"}");
	check_plan(c, 9, "\"trigger\":{\"nth\":1,\"of\":\"alloc\"},");
	check_plan(c, 9, "\"in\":\"service\"");
	check_plan(c, 10, "\"trigger\":{\"cycle\":1000}");
	check_plan(c, 12, "\"trigger\":{\"cycle\":41000}");
	check_plan(c, 12, "\"cycles\":5000");
	check_plan(c, 1, "\"seed\":9");
	check_plan(c, 1, "\"target\":{\"process\":\"magma-conforman\"}");
	CHECK(campaign_point_plan(c, 13) == NULL);
	campaign_destroy(c);
}

static void test_every_point_is_in_exactly_one_shard(void)
{
	for (uint32_t count = 1; count <= 7; count++) {
		for (uint32_t id = 1; id <= 50; id++) {
			uint32_t in = 0;

			for (uint32_t index = 0; index < count; index++)
				in += campaign_shard_has(id, index, count);
			CHECK_EQ(in, 1);
		}
	}
	CHECK(campaign_shard_has(1, 0, 3));
	CHECK(campaign_shard_has(5, 1, 3));
}

static void test_comm_is_the_basename_cut_to_15(void)
{
	char comm[CAMPAIGN_COMM_MAX];

	campaign_comm_of("/build/conformance/magma-conformance-tests", comm);
	CHECK(!strcmp(comm, "magma-conforman"));
	campaign_comm_of("vkcube", comm);
	CHECK(!strcmp(comm, "vkcube"));
	CHECK(campaign_fnv1a("", 0) == 0xcbf29ce484222325ull);
	CHECK(campaign_fnv1a("a", 1) == 0xaf63dc4c8601ec8cull);
}

static void load_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint32_t loaded = 0;

	REQUIRE(d);
	while ((e = readdir(d))) {
		char path[1024], error[CAMPAIGN_ERROR_MAX];
		struct campaign *c;
		size_t len = strlen(e->d_name);

		if (len < 5 || strcmp(e->d_name + len - 5, ".json") ||
		    strncmp(e->d_name, "bad-", 4) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		c = campaign_load(path, "vkcube", error);
		if (!c)
			SIM_TEST_FAIL("%s", error);
		loaded += c != NULL;
		campaign_destroy(c);
	}
	closedir(d);
	CHECK(loaded > 0);
}

static void test_example_and_test_campaigns_load(void)
{
	load_dir(CAMPAIGN_EXAMPLES_DIR);
	load_dir(CAMPAIGN_TEST_DIR);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_bad_inputs_name_file_line_field),
	SIM_TEST(test_plan_refusals_point_at_the_sweep),
	SIM_TEST(test_points_are_numbered_in_campaign_order),
	SIM_TEST(test_every_point_is_in_exactly_one_shard),
	SIM_TEST(test_comm_is_the_basename_cut_to_15),
	SIM_TEST(test_example_and_test_campaigns_load),
};
SIM_TEST_SUITE(tests);
