/* SPDX-License-Identifier: MIT */
/*
 * test_campaign_verdict.c - the checks of a point on canned control-socket dumps: a good point
 * passes, each check fails on its own fault, an unfired or unapplied fault is "not reached",
 * and the witness's output is read as magma-witness prints it.
 */
#include <stdlib.h>
#include <string.h>

#include "campaign_verdict.h"
#include "sim_test.h"

/* A dump of a point whose mmu_fault hit connection 2 (the target); the witness is 1. */
static const char *const good_dump =
	"{\"ok\":true,\"pid\":77,\"fds\":14,\"devices\":[{\"device\":0,\"label\":\"magma0\","
	"\"connections\":{\"open\":0,\"opened\":3},\"live\":{\"channels\":0,\"connections\":0,"
	"\"handles\":0,\"mappings\":0},"
	"\"connection_log\":["
	"{\"number\":1,\"pid\":100,\"comm\":\"magma-witness\",\"open\":false,\"status\":\"OK\","
	"\"killed\":false},"
	"{\"number\":2,\"pid\":200,\"comm\":\"magma-conforman\",\"open\":false,"
	"\"status\":\"CONTEXT_KILLED\",\"killed\":false},"
	"{\"number\":3,\"pid\":200,\"comm\":\"magma-conforman\",\"open\":false,\"status\":\"OK\","
	"\"killed\":false}],"
	"\"firings\":[{\"index\":0,\"fault\":\"point 1\",\"kind\":\"mmu_fault\",\"count\":1,"
	"\"connection\":2,\"pid\":200,\"comm\":\"magma-conforman\",\"applied\":true,"
	"\"cycles\":{\"fired\":1000,\"applied\":1100,\"detected\":1400,\"recovered\":2000},"
	"\"ns\":{\"fired\":5000000,\"applied\":6000000,\"detected\":8000000,"
	"\"recovered\":11000000}}]}]}";

static const char *const good_witness = "round 1 00112233aabbccdd\n"
					"round 2 00112233aabbccdd\n"
					"rounds 2 ok 2 lost 0 mismatch 0\n";

struct fixture {
	cJSON *dump;
	struct campaign_observation obs;
	struct campaign_verdict v;
};

/* @edit(dump) changes the good dump before the verdict is decided. */
static void setup(struct fixture *f, enum fault_kind kind)
{
	memset(f, 0, sizeof(*f));
	f->dump = cJSON_Parse(good_dump);
	f->obs.kind = kind;
	f->obs.dump = f->dump;
	f->obs.fds_before = 14;
	f->obs.timeout_s = 120;
	f->obs.daemon_alive = true;
	f->obs.daemon_status = 0;
	f->obs.witness = true;
	f->obs.witness_pid = 100;
	f->obs.witness_status = 0;
	campaign_witness_parse(good_witness, "00112233aabbccdd", &f->obs.witness_log);
}

static void decide(struct fixture *f)
{
	campaign_verdict_decide(&f->obs, &f->v);
}

static cJSON *device0(struct fixture *f)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItem(f->dump, "devices"), 0);
}

static cJSON *conn(struct fixture *f, int index)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItem(device0(f), "connection_log"), index);
}

static cJSON *firing(struct fixture *f)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItem(device0(f), "firings"), 0);
}

static void set_string(cJSON *obj, const char *key, const char *value)
{
	cJSON_ReplaceItemInObject(obj, key, cJSON_CreateString(value));
}

static void set_number(cJSON *obj, const char *key, double value)
{
	cJSON_ReplaceItemInObject(obj, key, cJSON_CreateNumber(value));
}

/* The outcome is a failure, and @check is among the failed checks with @reason in its text. */
static void expect_fail(struct fixture *f, enum campaign_check check, const char *reason)
{
	decide(f);
	CHECK_EQ(f->v.outcome, CAMPAIGN_OUTCOME_FAIL);
	CHECK_EQ(f->v.checks[check].result, CAMPAIGN_FAIL);
	if (!strstr(f->v.checks[check].reason, reason))
		SIM_TEST_FAIL("%s: want \"%s\" in \"%s\"", campaign_check_name(check), reason,
			      f->v.checks[check].reason);
	cJSON_Delete(f->dump);
}

static void test_good_point_passes_with_its_times(void)
{
	struct fixture f;

	setup(&f, FAULT_MMU_FAULT);
	decide(&f);
	CHECK_EQ(f.v.outcome, CAMPAIGN_OUTCOME_PASS);
	for (int c = 0; c < CAMPAIGN_CHECK_COUNT; c++)
		CHECK(f.v.checks[c].result == CAMPAIGN_PASS);
	CHECK(f.v.times.has_detect && f.v.times.has_recover);
	CHECK_EQ(f.v.times.detect_cycles, 300);
	CHECK_EQ(f.v.times.recover_cycles, 600);
	CHECK(f.v.times.detect_ms == 2.0);
	CHECK(f.v.times.recover_ms == 3.0);
	CHECK_EQ(f.v.times.fired_cycle, 1000);
	CHECK_EQ(f.v.times.applied_cycle, 1100);
	cJSON_Delete(f.dump);
}

static void test_unfired_or_unapplied_is_not_reached(void)
{
	struct fixture f;

	setup(&f, FAULT_MMU_FAULT);
	cJSON_ReplaceItemInObject(device0(&f), "firings", cJSON_CreateArray());
	set_string(conn(&f, 1), "status", "OK");
	decide(&f);
	CHECK_EQ(f.v.outcome, CAMPAIGN_OUTCOME_NOT_REACHED);
	CHECK_EQ(f.v.checks[CAMPAIGN_CHECK_FIRED].result, CAMPAIGN_SKIP);
	cJSON_Delete(f.dump);

	setup(&f, FAULT_MMU_FAULT);
	cJSON_ReplaceItemInObject(firing(&f), "applied", cJSON_CreateFalse());
	decide(&f);
	CHECK_EQ(f.v.outcome, CAMPAIGN_OUTCOME_NOT_REACHED);
	CHECK(strstr(f.v.checks[CAMPAIGN_CHECK_FIRED].reason, "ran no more work"));
	cJSON_Delete(f.dump);

	/* A dma_error whose job had no COPY or FILL lapsed: not reached either. */
	setup(&f, FAULT_DMA_ERROR);
	cJSON_ReplaceItemInObject(firing(&f), "applied", cJSON_CreateFalse());
	cJSON_AddTrueToObject(firing(&f), "lapsed");
	set_string(conn(&f, 1), "status", "OK");
	decide(&f);
	CHECK_EQ(f.v.outcome, CAMPAIGN_OUTCOME_NOT_REACHED);
	CHECK(strstr(f.v.checks[CAMPAIGN_CHECK_FIRED].reason, "no COPY or FILL"));
	cJSON_Delete(f.dump);

	/* Not reached, but a leak is still a failure. */
	setup(&f, FAULT_MMU_FAULT);
	cJSON_ReplaceItemInObject(device0(&f), "firings", cJSON_CreateArray());
	set_number(f.dump, "fds", 15);
	expect_fail(&f, CAMPAIGN_CHECK_LEAKS, "15 descriptors, 14 before");
}

static void test_daemon_and_hang_fail(void)
{
	struct fixture f;

	setup(&f, FAULT_MMU_FAULT);
	f.obs.daemon_alive = false;
	f.obs.daemon_status = 11; /* killed by SIGSEGV */
	expect_fail(&f, CAMPAIGN_CHECK_DAEMON, "died before SIGTERM (signal 11)");

	setup(&f, FAULT_MMU_FAULT);
	f.obs.daemon_status = 1 << 8;
	expect_fail(&f, CAMPAIGN_CHECK_DAEMON, "exit 1");

	setup(&f, FAULT_MMU_FAULT);
	f.obs.hung = true;
	expect_fail(&f, CAMPAIGN_CHECK_FINISHED, "hung: killed after 120 s");

	setup(&f, FAULT_MMU_FAULT);
	cJSON_Delete(f.dump);
	f.dump = NULL;
	f.obs.dump = NULL;
	f.obs.dump_error = "control dump: refused";
	expect_fail(&f, CAMPAIGN_CHECK_FIRED, "no dump: control dump: refused");
}

static void test_isolation_fails_when_the_witness_is_hurt(void)
{
	struct fixture f;

	setup(&f, FAULT_MMU_FAULT);
	set_string(conn(&f, 0), "status", "CONTEXT_KILLED");
	expect_fail(&f, CAMPAIGN_CHECK_ISOLATION, "witness connection 1");

	setup(&f, FAULT_MMU_FAULT);
	campaign_witness_parse("round 1 00112233aabbccdd\nround 2 ffff2233aabbccdd\n"
			       "rounds 2 ok 2 lost 0 mismatch 0\n",
			       "00112233aabbccdd", &f.obs.witness_log);
	expect_fail(&f, CAMPAIGN_CHECK_ISOLATION, "1 digests unlike the baseline's");

	setup(&f, FAULT_MMU_FAULT);
	campaign_witness_parse("round 1 00112233aabbccdd\nround 2 lost CONTEXT_KILLED\n"
			       "round 3 00112233aabbccdd\nrounds 3 ok 2 lost 1 mismatch 0\n",
			       "00112233aabbccdd", &f.obs.witness_log);
	f.obs.witness_status = 3 << 8;
	expect_fail(&f, CAMPAIGN_CHECK_ISOLATION, "lost 1 round(s), first CONTEXT_KILLED");

	setup(&f, FAULT_MMU_FAULT);
	f.obs.witness_status = 1 << 8;
	expect_fail(&f, CAMPAIGN_CHECK_ISOLATION, "witness ended with exit 1");

	setup(&f, FAULT_MMU_FAULT);
	campaign_witness_parse("round 1 00112233aabbccdd\nround 2 mismatch\n", "00112233aabbccdd",
			       &f.obs.witness_log);
	expect_fail(&f, CAMPAIGN_CHECK_ISOLATION, "1 mismatch");
}

/* A device-wide kind may cost the witness one round, never two, never a mismatch. */
static void test_device_wide_kinds_may_cost_one_round(void)
{
	const char *one_lost = "round 1 00112233aabbccdd\nround 2 lost CONTEXT_KILLED\n"
			       "round 3 00112233aabbccdd\nrounds 3 ok 2 lost 1 mismatch 0\n";
	const char *two_lost = "round 1 lost CONTEXT_KILLED\nround 2 lost CONTEXT_KILLED\n"
			       "round 3 00112233aabbccdd\nrounds 3 ok 1 lost 2 mismatch 0\n";
	struct fixture f;

	setup(&f, FAULT_MODEL_ALLOC_FAILURE);
	set_string(conn(&f, 0), "status", "CONTEXT_KILLED");
	campaign_witness_parse(one_lost, "00112233aabbccdd", &f.obs.witness_log);
	f.obs.witness_status = 3 << 8;
	decide(&f);
	CHECK_EQ(f.v.checks[CAMPAIGN_CHECK_ISOLATION].result, CAMPAIGN_PASS);
	CHECK_EQ(f.v.outcome, CAMPAIGN_OUTCOME_PASS);
	cJSON_Delete(f.dump);

	setup(&f, FAULT_IRQ_LOSS);
	campaign_witness_parse(two_lost, "00112233aabbccdd", &f.obs.witness_log);
	f.obs.witness_status = 3 << 8;
	expect_fail(&f, CAMPAIGN_CHECK_ISOLATION, "lost 2 round(s)");
}

static void test_status_is_what_the_kind_promises(void)
{
	struct fixture f;

	setup(&f, FAULT_CP_HANG);
	set_string(conn(&f, 1), "status", "OK");
	expect_fail(&f, CAMPAIGN_CHECK_STATUS, "connection 2 ended OK, not CONTEXT_KILLED");

	/* The driver's report before the kill: the kind's fault, or the check fails. */
	setup(&f, FAULT_MMU_FAULT);
	cJSON_AddStringToObject(conn(&f, 1), "fault", "MMU_PERMISSION");
	expect_fail(&f, CAMPAIGN_CHECK_STATUS,
		    "was told of fault MMU_PERMISSION, not MMU_TRANSLATION");
	setup(&f, FAULT_CP_HANG);
	cJSON_AddNullToObject(conn(&f, 1), "fault");
	expect_fail(&f, CAMPAIGN_CHECK_STATUS, "was told of fault none, not HANG");
	setup(&f, FAULT_MMU_FAULT);
	cJSON_AddStringToObject(conn(&f, 1), "fault", "MMU_TRANSLATION");
	decide(&f);
	CHECK_EQ(f.v.checks[CAMPAIGN_CHECK_STATUS].result, CAMPAIGN_PASS);
	cJSON_Delete(f.dump);

	setup(&f, FAULT_FAIL_CALL);
	f.obs.expect_status = "MEMORY_ERROR";
	expect_fail(&f, CAMPAIGN_CHECK_STATUS, "ended CONTEXT_KILLED, not MEMORY_ERROR");

	setup(&f, FAULT_FAIL_CALL);
	set_number(firing(&f), "connection", 0);
	decide(&f);
	CHECK_EQ(f.v.checks[CAMPAIGN_CHECK_STATUS].result, CAMPAIGN_SKIP);
	cJSON_Delete(f.dump);

	setup(&f, FAULT_KILL_CLIENT);
	expect_fail(&f, CAMPAIGN_CHECK_STATUS, "was not killed");

	setup(&f, FAULT_KILL_CLIENT);
	cJSON_ReplaceItemInObject(conn(&f, 1), "killed", cJSON_CreateTrue());
	decide(&f);
	CHECK_EQ(f.v.outcome, CAMPAIGN_OUTCOME_PASS);
	cJSON_Delete(f.dump);

	setup(&f, FAULT_IRQ_DELAY);
	decide(&f);
	CHECK_EQ(f.v.checks[CAMPAIGN_CHECK_STATUS].result, CAMPAIGN_SKIP);
	CHECK_EQ(f.v.checks[CAMPAIGN_CHECK_RECOVERY].result, CAMPAIGN_SKIP);
	cJSON_Delete(f.dump);
}

static void test_leaks_fail(void)
{
	struct fixture f;

	setup(&f, FAULT_MMU_FAULT);
	set_number(cJSON_GetObjectItem(device0(&f), "connections"), "open", 1);
	expect_fail(&f, CAMPAIGN_CHECK_LEAKS, "1 connection(s) still open");

	setup(&f, FAULT_MMU_FAULT);
	set_number(cJSON_GetObjectItem(device0(&f), "live"), "mappings", 2);
	expect_fail(&f, CAMPAIGN_CHECK_LEAKS, "live mappings = 2");

	setup(&f, FAULT_MMU_FAULT);
	f.obs.fds_before = 13;
	expect_fail(&f, CAMPAIGN_CHECK_LEAKS, "14 descriptors, 13 before");
}

static void test_recovery_fails(void)
{
	struct fixture f;

	setup(&f, FAULT_MMU_FAULT);
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(firing(&f), "cycles"), "recovered",
				  cJSON_CreateNull());
	expect_fail(&f, CAMPAIGN_CHECK_RECOVERY, "no job completed after detection");

	setup(&f, FAULT_MMU_FAULT);
	campaign_witness_parse("round 1 00112233aabbccdd\nround 2 00112233aabbccdd\n"
			       "round 3 lost CONNECTION_LOST\nrounds 3 ok 2 lost 1 mismatch 0\n",
			       "00112233aabbccdd", &f.obs.witness_log);
	f.obs.kind = FAULT_RESET_FAILURE; /* device-wide: the lost round itself is allowed */
	f.obs.witness_status = 3 << 8;
	decide(&f);
	CHECK_EQ(f.v.checks[CAMPAIGN_CHECK_ISOLATION].result, CAMPAIGN_PASS);
	cJSON_Delete(f.dump);

	setup(&f, FAULT_KILL_CLIENT);
	cJSON_ReplaceItemInObject(conn(&f, 1), "killed", cJSON_CreateTrue());
	campaign_witness_parse("round 1 00112233aabbccdd\nround 2 lost CONNECTION_LOST\n"
			       "rounds 2 ok 1 lost 1 mismatch 0\n",
			       "00112233aabbccdd", &f.obs.witness_log);
	f.obs.witness_status = 3 << 8;
	expect_fail(&f, CAMPAIGN_CHECK_RECOVERY, "final round failed");

	/* Without the witness nothing has to run after detection. */
	setup(&f, FAULT_MMU_FAULT);
	f.obs.witness = false;
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(firing(&f), "cycles"), "recovered",
				  cJSON_CreateNull());
	decide(&f);
	CHECK_EQ(f.v.checks[CAMPAIGN_CHECK_RECOVERY].result, CAMPAIGN_SKIP);
	CHECK_EQ(f.v.outcome, CAMPAIGN_OUTCOME_PASS);
	cJSON_Delete(f.dump);
}

static void test_witness_output_is_read(void)
{
	struct campaign_witness_log log;

	campaign_witness_parse("round 1 00112233aabbccdd\nround 2 lost CONTEXT_KILLED\n"
			       "round 3 mismatch\nround 4 00112233aabbccdd\n"
			       "rounds 4 ok 2 lost 1 mismatch 1\nround 5 0011",
			       NULL, &log);
	CHECK_EQ(log.rounds, 4);
	CHECK_EQ(log.ok, 2);
	CHECK_EQ(log.lost, 1);
	CHECK_EQ(log.mismatch, 1);
	CHECK_EQ(log.foreign, 0);
	CHECK(log.last_ok);
	CHECK(log.summary);
	CHECK(!strcmp(log.digest, "00112233aabbccdd"));
	CHECK(!strcmp(log.lost_status, "CONTEXT_KILLED"));
	CHECK(!campaign_witness_has_round("round 1 0011"));
	CHECK(campaign_witness_has_round("round 1 00112233aabbccdd\n"));
	campaign_witness_parse(NULL, NULL, &log);
	CHECK_EQ(log.rounds, 0);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_good_point_passes_with_its_times),
	SIM_TEST(test_unfired_or_unapplied_is_not_reached),
	SIM_TEST(test_daemon_and_hang_fail),
	SIM_TEST(test_isolation_fails_when_the_witness_is_hurt),
	SIM_TEST(test_device_wide_kinds_may_cost_one_round),
	SIM_TEST(test_status_is_what_the_kind_promises),
	SIM_TEST(test_leaks_fail),
	SIM_TEST(test_recovery_fails),
	SIM_TEST(test_witness_output_is_read),
};
SIM_TEST_SUITE(tests);
