/* SPDX-License-Identifier: MIT */
/*
 * test_fault_plan.c - fault plans: a full plan read field by field, and every class of bad input
 * refused whole with the file, the line and the field of the first problem.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lib/magma/magma_common_defs.h>

#include "faults/fault_plan.h"
#include "sim_test.h"

static const char good_plan[] =
	"{\n"
	"  \"version\": 1,\n"
	"  \"name\": \"every kind\",\n"
	"  \"seed\": 7,\n"
	"  \"faults\": [\n"
	"    {\"kind\": \"mmu_fault\", \"trigger\": {\"nth\": 3},\n"
	"     \"target\": {\"connection\": 2}},\n"
	"    {\"name\": \"slow irq\", \"kind\": \"irq_delay\", \"cycles\": 5000,\n"
	"     \"trigger\": {\"every\": 4, \"of\": \"call\"}, \"times\": 0},\n"
	"    {\"kind\": \"fail_call\", \"call\": \"msd_connection_map_buffer\",\n"
	"     \"status\": \"MEMORY_ERROR\", \"trigger\": {\"nth\": 2},\n"
	"     \"target\": {\"process\": \"vkcube\", \"context\": 1}},\n"
	"    {\"kind\": \"fail_alloc\", \"in\": \"service\",\n"
	"     \"trigger\": {\"probability\": 0.5, \"seed\": 99}},\n"
	"    {\"kind\": \"cp_hang\", \"trigger\": {\"cycle\": 100000}},\n"
	"    {\"kind\": \"permission_fault\", \"trigger\": {\"va\": [4096, 8192]},\n"
	"     \"target\": {\"connection\": \"any\"}},\n"
	"    {\"kind\": \"kill_client\", \"trigger\": {\"nth\": 10}}\n"
	"  ]\n"
	"}\n";

static struct fault_plan *parse(const char *text, char *error)
{
	return fault_plan_parse(text, strlen(text), "plan.json", error);
}

static void test_good_plan(void)
{
	char error[FAULT_ERROR_MAX];
	struct fault_plan *p = parse(good_plan, error);
	const struct fault *f;

	REQUIRE(p);
	CHECK_EQ(error[0], 0);
	CHECK(strcmp(p->name, "every kind") == 0);
	CHECK_EQ(p->seed, 7);
	REQUIRE_EQ(p->fault_count, 7);
	f = &p->faults[0];
	CHECK(strcmp(f->name, "fault0") == 0);
	CHECK_EQ(f->kind, FAULT_MMU_FAULT);
	CHECK_EQ(f->trigger.type, FAULT_TRIGGER_NTH);
	CHECK_EQ(f->trigger.event, FAULT_EVENT_SUBMISSION);
	CHECK_EQ(f->trigger.n, 3);
	CHECK_EQ(f->target.type, FAULT_TARGET_CONNECTION);
	CHECK_EQ(f->target.connection, 2);
	CHECK_EQ(f->times, 1);
	CHECK_EQ(f->line, 6);
	f = &p->faults[1];
	CHECK(strcmp(f->name, "slow irq") == 0);
	CHECK_EQ(f->kind, FAULT_IRQ_DELAY);
	CHECK_EQ(f->arg, 5000);
	CHECK_EQ(f->trigger.type, FAULT_TRIGGER_EVERY);
	CHECK_EQ(f->trigger.event, FAULT_EVENT_CALL);
	CHECK_EQ(f->times, 0);
	CHECK_EQ(f->target.type, FAULT_TARGET_ANY);
	CHECK_EQ(f->line, 8);
	f = &p->faults[2];
	CHECK_EQ(f->kind, FAULT_FAIL_CALL);
	CHECK(strcmp(f->point, "msd_connection_map_buffer") == 0);
	CHECK_EQ(f->status, MAGMA_STATUS_MEMORY_ERROR);
	CHECK_EQ(f->trigger.event, FAULT_EVENT_CALL);
	CHECK_EQ(f->target.type, FAULT_TARGET_PROCESS);
	CHECK(strcmp(f->target.process, "vkcube") == 0);
	CHECK_EQ(f->target.context, 1);
	f = &p->faults[3];
	CHECK_EQ(f->kind, FAULT_FAIL_ALLOC);
	CHECK(strcmp(f->point, "service") == 0);
	CHECK_EQ(f->status, MAGMA_STATUS_MEMORY_ERROR); /* a failed allocation's by default */
	CHECK_EQ(f->trigger.type, FAULT_TRIGGER_PROBABILITY);
	CHECK_EQ(f->trigger.event, FAULT_EVENT_ALLOC);
	CHECK(f->trigger.probability == 0.5);
	CHECK_EQ(f->trigger.seed, 99);
	f = &p->faults[4];
	CHECK_EQ(f->trigger.type, FAULT_TRIGGER_CYCLE);
	CHECK_EQ(f->trigger.event, FAULT_EVENT_CYCLE);
	CHECK_EQ(f->trigger.n, 100000);
	CHECK_EQ(f->trigger.seed, 7); /* the plan's seed by default */
	f = &p->faults[5];
	CHECK_EQ(f->trigger.type, FAULT_TRIGGER_VA_RANGE);
	CHECK_EQ(f->trigger.va_start, 4096);
	CHECK_EQ(f->trigger.va_end, 8192);
	CHECK_EQ(f->target.type, FAULT_TARGET_ANY);
	f = &p->faults[6];
	CHECK_EQ(f->kind, FAULT_KILL_CLIENT);
	CHECK_EQ(f->trigger.event, FAULT_EVENT_CALL);
	fault_plan_destroy(p);
}

/* Expects @text to be refused with "plan.json:@line: @field: " and @what in the message. */
static void expect_bad(const char *text, unsigned line, const char *field, const char *what)
{
	char error[FAULT_ERROR_MAX], want[160];
	struct fault_plan *p = parse(text, error);

	CHECK(p == NULL);
	fault_plan_destroy(p);
	snprintf(want, sizeof(want), "plan.json:%u: %s: ", line, field);
	if (strncmp(error, want, strlen(want)) != 0 || !strstr(error, what)) {
		fprintf(stderr, "  for %s\n  got  \"%s\"\n  want \"%s...%s\"\n", text, error, want,
			what);
		CHECK(0);
	}
}

/* A one-fault plan whose fault is @fault (a JSON object), on line 2. */
static void expect_bad_fault(const char *fault, const char *field, const char *what)
{
	char text[1024];

	snprintf(text, sizeof(text), "{\"faults\": [\n%s\n]}", fault);
	expect_bad(text, 2, field, what);
}

static void test_syntax_and_shape(void)
{
	/* A syntax error has no field yet: the line of the byte where parsing stopped. */
	{
		char error[FAULT_ERROR_MAX];

		CHECK(parse("{\n\"faults\": [\n{\"kind\": \"cp_hang\",,}]}", error) == NULL);
		CHECK(strncmp(error, "plan.json:3: not valid JSON", 27) == 0);

		CHECK(parse("{\n\n  nope", error) == NULL);
		CHECK(strncmp(error, "plan.json:3: not valid JSON", 27) == 0);
		CHECK(parse("", error) == NULL);
		CHECK(strncmp(error, "plan.json:1: not valid JSON", 27) == 0);
	}
	expect_bad("[1, 2]", 1, "plan", "a JSON object");
	expect_bad("{\"faults\": [], \"fualts\": 1}", 1, "fualts", "unknown member");
	expect_bad("{\"version\": 2, \"faults\": []}", 1, "version", "not supported");
	expect_bad("{\"version\": \"1\", \"faults\": []}", 1, "version", "must be a number");
	expect_bad("{\"name\": 5, \"faults\": []}", 1, "name", "must be a string");
	expect_bad("{\"name\": \"\", \"faults\": []}", 1, "name", "1 to 63 characters");
	expect_bad("{\"seed\": -1, \"faults\": []}", 1, "seed", "whole number");
	expect_bad("{\"seed\": 1.5, \"faults\": []}", 1, "seed", "whole number");
	expect_bad("{}", 1, "plan", "needs \"faults\"");
	expect_bad("{\"faults\": {}}", 1, "faults", "must be a list");
	expect_bad("{\"faults\": []}", 1, "faults", "1 to 256 faults");
	expect_bad("{\"faults\": [\n  3]}", 2, "faults[0]", "must be an object");
}

static void test_too_many_faults(void)
{
	size_t cap = 300 * 64 + 64, n;
	char *text = malloc(cap);

	REQUIRE(text);
	n = (size_t)snprintf(text, cap, "{\"faults\": [");
	for (int i = 0; i < 257; i++)
		n += (size_t)snprintf(text + n, cap - n,
				      "%s{\"kind\":\"cp_hang\",\"trigger\":{\"nth\":1}}",
				      i ? "," : "");
	snprintf(text + n, cap - n, "]}");
	expect_bad(text, 1, "faults", "1 to 256 faults");
	free(text);
}

static void test_bad_faults(void)
{
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1}, \"tirgger\": 1}",
			 "faults[0].tirgger", "unknown member");
	expect_bad_fault("{\"trigger\": {\"nth\": 1}}", "faults[0]", "needs \"kind\"");
	expect_bad_fault("{\"kind\": 3, \"trigger\": {\"nth\": 1}}", "faults[0].kind",
			 "must be a string");
	expect_bad_fault("{\"kind\": \"gpu_on_fire\", \"trigger\": {\"nth\": 1}}", "faults[0].kind",
			 "not a fault kind");
	expect_bad_fault("{\"kind\": \"cp_hang\"}", "faults[0]", "needs \"trigger\"");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1}, \"times\": -2}",
			 "faults[0].times", "whole number");
	expect_bad_fault("{\"name\": \"a-name-that-goes-on-and-on-and-on-for-far-more-than-sixty-"
			 "three-characters\", \"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1}}",
			 "faults[0].name", "1 to 63 characters");
}

static void test_bad_triggers(void)
{
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": 3}", "faults[0].trigger",
			 "must be an object");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {}}", "faults[0].trigger",
			 "needs one of nth");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1, \"every\": 2}}",
			 "faults[0].trigger.every", "also has nth");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nht\": 1}}",
			 "faults[0].trigger.nht", "unknown member");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 0}}",
			 "faults[0].trigger.nth", "out of range");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 2.5}}",
			 "faults[0].trigger.nth", "whole number");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": \"3\"}}",
			 "faults[0].trigger.nth", "must be a number");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"every\": 0}}",
			 "faults[0].trigger.every", "out of range");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"probability\": 0}}",
			 "faults[0].trigger.probability", "(0, 1]");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"probability\": 1.5}}",
			 "faults[0].trigger.probability", "(0, 1]");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"probability\": \"often\"}}",
			 "faults[0].trigger.probability", "(0, 1]");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"cycle\": 5, \"of\": \"call\"}}",
			 "faults[0].trigger.of", "counts no events");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1, \"of\": \"frames\"}}",
			 "faults[0].trigger.of", "not a counted event");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1, \"of\": \"cycle\"}}",
			 "faults[0].trigger.of", "not a counted event");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1, \"of\": \"alloc\"}}",
			 "faults[0].trigger.of", "cannot count \"alloc\"");
	expect_bad_fault("{\"kind\": \"fail_alloc\", \"trigger\": {\"nth\": 1, \"of\": \"call\"}}",
			 "faults[0].trigger.of", "cannot count \"call\"");
	expect_bad_fault("{\"kind\": \"fail_call\", \"call\": \"msd_device_query\", "
			 "\"trigger\": {\"cycle\": 5}}",
			 "faults[0].trigger.cycle", "nth, every or probability");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"va\": 4096}}",
			 "faults[0].trigger.va", "[start, end]");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"va\": [1, 2, 3]}}",
			 "faults[0].trigger.va", "[start, end]");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"va\": [8192, 4096]}}",
			 "faults[0].trigger.va", "empty");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"va\": [0, \"x\"]}}",
			 "faults[0].trigger.va[1]", "whole number");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1, \"seed\": -4}}",
			 "faults[0].trigger.seed", "whole number");
	expect_bad_fault(
		"{\"kind\": \"fail_alloc\", \"trigger\": {\"nth\": 1, \"of\": \"access\"}}",
		"faults[0].trigger.of", "cannot count \"access\"");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1, \"call\": "
			 "\"msd_connection_map_buffer\"}}",
			 "faults[0].trigger.call", "counts calls");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1, \"of\": \"call\", "
			 "\"call\": \"msd_frobnicate\"}}",
			 "faults[0].trigger.call", "not an msd.h entry point");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1, \"of\": \"call\", "
			 "\"call\": 7}}",
			 "faults[0].trigger.call", "string");
	expect_bad_fault("{\"kind\": \"fail_call\", \"call\": \"msd_device_query\", "
			 "\"trigger\": {\"nth\": 1, \"call\": \"msd_device_open\"}}",
			 "faults[0].trigger.call", "its own \"call\"");
}

/* The trigger forms that count GPU accesses and the calls of one entry point. */
static void test_access_and_call_triggers(void)
{
	char error[FAULT_ERROR_MAX] = "";
	struct fault_plan *plan = parse(
		"{\"faults\": [{\"kind\": \"mmu_fault\", \"trigger\": {\"every\": 5, \"of\": "
		"\"access\"}}, {\"kind\": \"kill_client\", \"trigger\": {\"nth\": 2, \"of\": "
		"\"call\", \"call\": \"msd_connection_map_buffer\"}, \"target\": {\"connection\": "
		"1}}]}",
		error);

	REQUIRE(plan);
	CHECK_EQ(plan->faults[0].trigger.event, FAULT_EVENT_ACCESS);
	CHECK_EQ(plan->faults[0].trigger.type, FAULT_TRIGGER_EVERY);
	CHECK_EQ(plan->faults[0].trigger.call[0], '\0');
	CHECK_EQ(plan->faults[1].trigger.event, FAULT_EVENT_CALL);
	CHECK(!strcmp(plan->faults[1].trigger.call, "msd_connection_map_buffer"));
	fault_plan_destroy(plan);
	plan = parse("{\"faults\": [{\"kind\": \"irq_loss\", \"trigger\": {\"nth\": 2, \"of\": "
		     "\"reset\"}}]}",
		     error);
	REQUIRE(plan);
	CHECK_EQ(plan->faults[0].trigger.event, FAULT_EVENT_RESET);
	CHECK(fault_plan_check_device(plan, "plan.json", error));
	fault_plan_destroy(plan);
	/* Resets belong to no client: a kill_client there needs someone to kill. */
	plan = parse("{\"faults\": [{\"kind\": \"kill_client\", \"trigger\": {\"nth\": 1, "
		     "\"of\": \"reset\"}}]}",
		     error);
	REQUIRE(plan);
	CHECK(!fault_plan_check_device(plan, "plan.json", error));
	CHECK(strstr(error, "plan.json:1: faults[0].target: a kill_client at a cycle or a reset") !=
	      NULL);
	fault_plan_destroy(plan);
}

static void test_bad_targets(void)
{
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1}, \"target\": 2}",
			 "faults[0].target", "must be an object");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1}, "
			 "\"target\": {\"client\": 2}}",
			 "faults[0].target.client", "unknown member");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1}, "
			 "\"target\": {\"connection\": 0}}",
			 "faults[0].target.connection", "out of range");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1}, "
			 "\"target\": {\"connection\": \"first\"}}",
			 "faults[0].target.connection", "\"any\" or the connection's number");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1}, "
			 "\"target\": {\"connection\": 1, \"process\": \"x\"}}",
			 "faults[0].target.process", "not both");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1}, "
			 "\"target\": {\"process\": \"\"}}",
			 "faults[0].target.process", "1 to 63 characters");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1}, "
			 "\"target\": {\"context\": 0}}",
			 "faults[0].target.context", "out of range");
}

static void test_bad_kind_arguments(void)
{
	expect_bad_fault("{\"kind\": \"irq_delay\", \"trigger\": {\"nth\": 1}}", "faults[0]",
			 "needs \"cycles\"");
	expect_bad_fault("{\"kind\": \"irq_delay\", \"cycles\": 0, \"trigger\": {\"nth\": 1}}",
			 "faults[0].cycles", "out of range");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"cycles\": 5, \"trigger\": {\"nth\": 1}}",
			 "faults[0].cycles", "only an irq_delay");
	expect_bad_fault("{\"kind\": \"fail_call\", \"trigger\": {\"nth\": 1}}", "faults[0]",
			 "needs \"call\"");
	expect_bad_fault("{\"kind\": \"fail_call\", \"call\": \"msd_semaphore_release\", "
			 "\"trigger\": {\"nth\": 1}}",
			 "faults[0].call", "can fail");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"call\": \"msd_device_query\", "
			 "\"trigger\": {\"nth\": 1}}",
			 "faults[0].call", "only a fail_call");
	expect_bad_fault(
		"{\"kind\": \"fail_alloc\", \"in\": \"kernel\", \"trigger\": {\"nth\": 1}}",
		"faults[0].in", "\"driver\" or \"service\"");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"in\": \"driver\", \"trigger\": {\"nth\": 1}}",
			 "faults[0].in", "only a fail_alloc");
	expect_bad_fault("{\"kind\": \"cp_hang\", \"status\": \"MEMORY_ERROR\", "
			 "\"trigger\": {\"nth\": 1}}",
			 "faults[0].status", "only fail_call and fail_alloc");
	expect_bad_fault("{\"kind\": \"fail_alloc\", \"status\": \"OOPS\", "
			 "\"trigger\": {\"nth\": 1}}",
			 "faults[0].status", "not a magma status name");
	expect_bad_fault("{\"kind\": \"fail_alloc\", \"status\": -4, \"trigger\": {\"nth\": 1}}",
			 "faults[0].status", "status name");
}

/* The line is where the bad field is, however deep and wherever it sits. */
static void test_lines(void)
{
	expect_bad("{\n"
		   "  \"faults\": [\n"
		   "    {\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1}},\n"
		   "    {\"kind\": \"cp_hang\",\n"
		   "     \"trigger\": {\n"
		   "       \"of\": \"submission\",\n"
		   "       \"every\":\n"
		   "         0}}\n"
		   "  ]\n"
		   "}\n",
		   8, "faults[1].trigger.every", "out of range");
	expect_bad("{\"faults\": [{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1}},\n"
		   "\n"
		   "  {\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1}, \"target\":\n"
		   "    {\"connection\": 1,\n"
		   "     \"process\": \"x\"}}]}",
		   5, "faults[1].target.process", "not both");
	/* A key with an escaped quote does not confuse the line finder. */
	expect_bad("{\"faults\": [{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1},\n"
		   "  \"na\\\"me\": 1}]}",
		   2, "faults[0].na\"me", "unknown member");
}

static void test_load(void)
{
	char path[] = "/tmp/fault-plan-XXXXXX", error[FAULT_ERROR_MAX];
	struct fault_plan *p;
	FILE *f;
	int fd;

	p = fault_plan_load("/nonexistent/plan.json", error);
	CHECK(p == NULL);
	CHECK(strstr(error, "/nonexistent/plan.json: cannot open") == error);
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	f = fdopen(fd, "w");
	REQUIRE(f);
	fputs(good_plan, f);
	fclose(f);
	p = fault_plan_load(path, error);
	CHECK(p != NULL);
	CHECK_EQ(p ? p->fault_count : 0, 7);
	fault_plan_destroy(p);
	f = fopen(path, "w");
	REQUIRE(f);
	fputs("{\"faults\": [\n{\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 0}}]}", f);
	fclose(f);
	p = fault_plan_load(path, error);
	CHECK(p == NULL);
	CHECK(strstr(error, path) == error);
	CHECK(strstr(error, ":2: faults[0].trigger.nth: ") != NULL);
	unlink(path);
	fault_plan_destroy(NULL);
}

/*
 * Every example plan in faults/plans/ loads, and a device can apply it (the documentation's
 * plans work as written, with MAGMA_SIM_FAULTS, magma-simd and magma-sim-run).
 */
static void test_example_plans(void)
{
	DIR *dir = opendir(FAULT_PLANS_DIR);
	struct dirent *d;
	int plans = 0;

	REQUIRE(dir);
	while ((d = readdir(dir))) {
		char path[512], error[FAULT_ERROR_MAX];
		struct fault_plan *p;
		size_t n = strlen(d->d_name);

		if (n < 5 || strcmp(d->d_name + n - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", FAULT_PLANS_DIR, d->d_name);
		p = fault_plan_load_for_device(path, error);
		if (!p)
			fprintf(stderr, "  %s\n", error);
		CHECK(p != NULL);
		fault_plan_destroy(p);
		plans++;
	}
	closedir(dir);
	CHECK(plans >= 5);
}

/* What a device cannot apply is refused at load, with file, line and field. */
static void test_device_checks(void)
{
	static const char *const good[] = {
		/* a kill at a cycle with someone to kill */
		"{\"faults\": [{\"kind\": \"kill_client\", \"trigger\": {\"cycle\": 9},"
		" \"target\": {\"process\": \"vkcube\"}}]}",
		"{\"faults\": [{\"kind\": \"kill_client\", \"trigger\": {\"cycle\": 9},"
		" \"target\": {\"connection\": 2}}]}",
		/* any status for the service's allocations; MEMORY_ERROR (the default) for the
		   driver's */
		"{\"faults\": [{\"kind\": \"fail_alloc\", \"in\": \"service\","
		" \"status\": \"BAD_STATE\", \"trigger\": {\"nth\": 1}}]}",
		"{\"faults\": [{\"kind\": \"fail_alloc\", \"status\": \"MEMORY_ERROR\","
		" \"trigger\": {\"nth\": 1}}]}",
	};
	char error[FAULT_ERROR_MAX];
	struct fault_plan *p;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		p = parse(good[i], error);
		REQUIRE(p);
		CHECK(fault_plan_check_device(p, "plan.json", error));
		CHECK_EQ(error[0], 0);
		fault_plan_destroy(p);
	}
	p = parse("{\"faults\": [\n {\"kind\": \"cp_hang\", \"trigger\": {\"nth\": 1}},\n"
		  " {\"kind\": \"kill_client\", \"trigger\": {\"cycle\": 9}}]}",
		  error);
	REQUIRE(p);
	CHECK(!fault_plan_check_device(p, "plan.json", error));
	CHECK(strstr(error, "plan.json:3: faults[1].target: a kill_client at a cycle") == error);
	fault_plan_destroy(p);
	p = parse("{\"faults\": [{\"kind\": \"fail_alloc\", \"in\": \"driver\",\n"
		  " \"status\": \"INVALID_ARGS\", \"trigger\": {\"nth\": 1}}]}",
		  error);
	REQUIRE(p);
	CHECK(!fault_plan_check_device(p, "plan.json", error));
	CHECK(strstr(error, "plan.json:1: faults[0].status: ") == error);
	fault_plan_destroy(p);
}

static void test_names(void)
{
	enum fault_kind k;

	for (int i = 0; i < FAULT_KIND_COUNT; i++) {
		REQUIRE(fault_kind_name((enum fault_kind)i));
		CHECK(fault_kind_from_name(fault_kind_name((enum fault_kind)i), &k));
		CHECK_EQ(k, i);
	}
	CHECK(fault_kind_name(FAULT_KIND_COUNT) == NULL);
	CHECK(!fault_kind_from_name("nope", &k));
	for (int i = 0; i < FAULT_EVENT_TYPE_COUNT; i++)
		CHECK(fault_event_name((enum fault_event_type)i) != NULL);
	CHECK(fault_event_name(FAULT_EVENT_TYPE_COUNT) == NULL);
	CHECK(strcmp(fault_status_name(MAGMA_STATUS_INVALID_ARGS), "INVALID_ARGS") == 0);
	CHECK(strcmp(fault_status_name(MAGMA_STATUS_BAD_STATE), "BAD_STATE") == 0);
	CHECK(strcmp(fault_status_name(MAGMA_STATUS_OK), "?") == 0);
}

/* One test a line: clang-format would pack these short names in columns. */
/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(test_good_plan),
	SIM_TEST(test_syntax_and_shape),
	SIM_TEST(test_too_many_faults),
	SIM_TEST(test_bad_faults),
	SIM_TEST(test_bad_triggers),
	SIM_TEST(test_access_and_call_triggers),
	SIM_TEST(test_bad_targets),
	SIM_TEST(test_bad_kind_arguments),
	SIM_TEST(test_lines),
	SIM_TEST(test_load),
	SIM_TEST(test_example_plans),
	SIM_TEST(test_device_checks),
	SIM_TEST(test_names),
};
/* clang-format on */
SIM_TEST_SUITE(tests);
