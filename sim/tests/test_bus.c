/* SPDX-License-Identifier: MIT */
/*
 * test_bus.c - physical memory: mapping host pages into frames (lowest free first, frame 0
 * never used, all-or-nothing), unmapping, the -EINVAL / -ENOMEM / -EFAULT paths, host reads and
 * writes across frame boundaries, and SIM_EV_BUS_MAP events.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "sim_test.h"

#define PG 4096u

static void *pages(size_t n)
{
	void *p = aligned_alloc(PG, n * PG);

	if (p)
		memset(p, 0, n * PG);
	return p;
}

static void test_map_read_write(void)
{
	struct sim_device *d = sim_create(NULL);
	uint8_t *host = pages(3);
	uint64_t pa[3];
	uint8_t buf[16];

	REQUIRE(d && host);
	REQUIRE_EQ(sim_bus_map(d, host, 3, pa), 0);
	CHECK_EQ(pa[0], 0x1000);
	CHECK_EQ(pa[1], 0x2000);
	CHECK_EQ(pa[2], 0x3000);
	CHECK_EQ(sim_bus_frames_mapped(d), 3);
	/* The bus sees the host page and vice versa. */
	memcpy(host + PG + 100, "hello", 6);
	REQUIRE_EQ(sim_bus_read(d, pa[1] + 100, buf, 6), 0);
	CHECK(!memcmp(buf, "hello", 6));
	REQUIRE_EQ(sim_bus_write(d, pa[2] + 7, "world", 6), 0);
	CHECK(!memcmp(host + 2 * PG + 7, "world", 6));
	/* Across a frame boundary (frames 1 and 2 are host-contiguous here). */
	REQUIRE_EQ(sim_bus_write(d, pa[0] + PG - 3, "abcdef", 6), 0);
	CHECK(!memcmp(host + PG - 3, "abcdef", 6));
	REQUIRE_EQ(sim_bus_read(d, pa[0] + PG - 3, buf, 6), 0);
	CHECK(!memcmp(buf, "abcdef", 6));
	REQUIRE_EQ(sim_bus_unmap(d, pa, 3), 0);
	CHECK_EQ(sim_bus_frames_mapped(d), 0);
	CHECK_EQ(sim_bus_read(d, pa[1], buf, 1), -EFAULT);
	sim_destroy(d);
	free(host);
}

/* Frames that are not host-contiguous: a bus range maps to two unrelated host pages. */
static void test_frames_follow_pa_not_host(void)
{
	struct sim_device *d = sim_create(NULL);
	uint8_t *a = pages(1), *b = pages(1);
	uint64_t pa_a, pa_b;
	uint8_t buf[4];

	REQUIRE(d && a && b);
	REQUIRE_EQ(sim_bus_map(d, a, 1, &pa_a), 0);
	REQUIRE_EQ(sim_bus_map(d, b, 1, &pa_b), 0);
	CHECK_EQ(pa_b, pa_a + PG);
	REQUIRE_EQ(sim_bus_write(d, pa_a + PG - 2, "WXYZ", 4), 0);
	CHECK(!memcmp(a + PG - 2, "WX", 2));
	CHECK(!memcmp(b, "YZ", 2));
	REQUIRE_EQ(sim_bus_read(d, pa_a + PG - 2, buf, 4), 0);
	CHECK(!memcmp(buf, "WXYZ", 4));
	sim_destroy(d);
	free(a);
	free(b);
}

/* Run one fixed map/unmap sequence and record every PA handed out. */
static int map_sequence(uint64_t *out)
{
	struct sim_device *d = sim_create(NULL);
	uint8_t *host = pages(8);
	uint64_t a[2], b[2], c[1], e[3];
	int ret = -1;

	if (!d || !host)
		goto out;
	if (sim_bus_map(d, host, 2, a) || sim_bus_map(d, host + 2 * PG, 2, b) ||
	    sim_bus_map(d, host + 4 * PG, 1, c) || sim_bus_unmap(d, b, 2) ||
	    sim_bus_map(d, host + 5 * PG, 3, e))
		goto out;
	memcpy(out, a, sizeof(a));
	memcpy(out + 2, b, sizeof(b));
	memcpy(out + 4, c, sizeof(c));
	memcpy(out + 5, e, sizeof(e));
	ret = 0;
out:
	sim_destroy(d);
	free(host);
	return ret;
}

static void test_lowest_free_first_deterministic(void)
{
	static const uint64_t want[8] = {0x1000, 0x2000, 0x3000, 0x4000,
					 0x5000, 0x3000, 0x4000, 0x6000};
	uint64_t got1[8], got2[8];

	REQUIRE_EQ(map_sequence(got1), 0);
	REQUIRE_EQ(map_sequence(got2), 0);
	for (int i = 0; i < 8; i++) {
		CHECK_EQ(got1[i], want[i]);
		CHECK_EQ(got2[i], got1[i]);
	}
}

static void test_map_einval(void)
{
	struct sim_device *d = sim_create(NULL);
	uint8_t *host = pages(2);
	uint64_t pa[2] = {0, 0};

	REQUIRE(d && host);
	CHECK_EQ(sim_bus_map(d, NULL, 1, pa), -EINVAL);
	CHECK_EQ(sim_bus_map(d, host + 8, 1, pa), -EINVAL);
	CHECK_EQ(sim_bus_map(d, host + 2048, 1, pa), -EINVAL);
	CHECK_EQ(sim_bus_map(d, host, 1, NULL), -EINVAL);
	CHECK_EQ(sim_bus_map(d, host, UINT64_MAX, pa), -EINVAL);
	CHECK_EQ(sim_bus_frames_mapped(d), 0);
	CHECK_EQ(sim_bus_map(d, host, 0, pa), 0);
	CHECK_EQ(sim_bus_frames_mapped(d), 0);
	/* Nothing was consumed: the first real map still starts at frame 1. */
	REQUIRE_EQ(sim_bus_map(d, host, 2, pa), 0);
	CHECK_EQ(pa[0], 0x1000);
	sim_destroy(d);
	free(host);
}

static void test_map_enomem_all_or_nothing(void)
{
	struct sim_config cfg;
	struct sim_device *d;
	uint8_t *host = pages(4);
	uint64_t pa[4];

	sim_config_default(&cfg);
	cfg.max_frames = 4; /* frames 1..3 usable */
	d = sim_create(&cfg);
	REQUIRE(d && host);
	CHECK_EQ(sim_bus_map(d, host, 4, pa), -ENOMEM);
	CHECK_EQ(sim_bus_frames_mapped(d), 0);
	REQUIRE_EQ(sim_bus_map(d, host, 2, pa), 0);
	CHECK_EQ(sim_bus_map(d, host + 2 * PG, 2, pa + 2), -ENOMEM);
	CHECK_EQ(sim_bus_frames_mapped(d), 2);
	REQUIRE_EQ(sim_bus_map(d, host + 2 * PG, 1, pa + 2), 0);
	CHECK_EQ(pa[2], 0x3000);
	CHECK_EQ(sim_bus_map(d, host + 3 * PG, 1, pa + 3), -ENOMEM);
	/* Free the middle frame: it is reused. */
	REQUIRE_EQ(sim_bus_unmap(d, &pa[1], 1), 0);
	REQUIRE_EQ(sim_bus_map(d, host + 3 * PG, 1, pa + 3), 0);
	CHECK_EQ(pa[3], 0x2000);
	sim_destroy(d);
	free(host);
}

static void test_unmap_einval_releases_nothing(void)
{
	struct sim_device *d = sim_create(NULL);
	uint8_t *host = pages(2);
	uint64_t pa[2], bad[2];
	uint8_t b;

	REQUIRE(d && host);
	REQUIRE_EQ(sim_bus_map(d, host, 2, pa), 0);
	bad[0] = pa[0];
	bad[1] = 0x9000; /* never mapped */
	CHECK_EQ(sim_bus_unmap(d, bad, 2), -EINVAL);
	bad[1] = pa[1] + 4; /* unaligned */
	CHECK_EQ(sim_bus_unmap(d, bad, 2), -EINVAL);
	bad[1] = 0; /* frame 0 */
	CHECK_EQ(sim_bus_unmap(d, bad, 2), -EINVAL);
	bad[1] = 1ull << 50; /* beyond the bus */
	CHECK_EQ(sim_bus_unmap(d, bad, 2), -EINVAL);
	bad[1] = pa[0]; /* listed twice */
	CHECK_EQ(sim_bus_unmap(d, bad, 2), -EINVAL);
	CHECK_EQ(sim_bus_unmap(d, NULL, 1), -EINVAL);
	CHECK_EQ(sim_bus_frames_mapped(d), 2);
	CHECK_EQ(sim_bus_read(d, pa[0], &b, 1), 0);
	CHECK_EQ(sim_bus_read(d, pa[1], &b, 1), 0);
	CHECK_EQ(sim_bus_unmap(d, pa, 2), 0);
	CHECK_EQ(sim_bus_unmap(d, pa, 1), -EINVAL); /* already released */
	sim_destroy(d);
	free(host);
}

static void test_read_write_bounds(void)
{
	struct sim_device *d = sim_create(NULL);
	uint8_t *host = pages(1);
	uint8_t buf[8];
	uint64_t pa;

	REQUIRE(d && host);
	REQUIRE_EQ(sim_bus_map(d, host, 1, &pa), 0);
	REQUIRE_EQ(pa, 0x1000);
	memset(buf, 0xee, sizeof(buf));
	/* Last 4 bytes of the frame plus 4 bytes of unmapped frame 2: nothing copied. */
	CHECK_EQ(sim_bus_read(d, pa + PG - 4, buf, 8), -EFAULT);
	CHECK_EQ(buf[0], 0xee);
	CHECK_EQ(sim_bus_write(d, pa + PG - 4, buf, 8), -EFAULT);
	CHECK_EQ(host[PG - 4], 0);
	CHECK_EQ(sim_bus_read(d, 0, buf, 1), -EFAULT);		    /* frame 0 */
	CHECK_EQ(sim_bus_read(d, 1ull << 40, buf, 1), -EFAULT);	    /* beyond max_frames */
	CHECK_EQ(sim_bus_read(d, UINT64_MAX - 2, buf, 8), -EFAULT); /* wraps */
	CHECK_EQ(sim_bus_read(d, pa, buf, 0), 0);
	CHECK_EQ(sim_bus_read(d, pa + PG - 4, buf, 4), 0);
	CHECK_EQ(sim_bus_write(d, pa, NULL, 4), -EINVAL);
	sim_destroy(d);
	free(host);
}

struct map_log {
	int n;
	uint32_t code[4];
	uint64_t first[4], frames[4];
};

static void on_map(void *ctx, const struct sim_event *ev)
{
	struct map_log *l = ctx;

	if (ev->type != SIM_EV_BUS_MAP || l->n >= 4)
		return;
	l->code[l->n] = ev->code;
	l->first[l->n] = ev->value;
	l->frames[l->n] = ev->value2;
	l->n++;
}

static void test_bus_map_events(void)
{
	struct sim_device *d = sim_create(NULL);
	uint8_t *host = pages(3);
	struct map_log l = {0};
	uint64_t pa[3];

	REQUIRE(d && host);
	REQUIRE(sim_events_subscribe(d, SIM_EV_MASK(SIM_EV_BUS_MAP), on_map, &l) >= 0);
	REQUIRE_EQ(sim_bus_map(d, host, 3, pa), 0);
	REQUIRE_EQ(sim_bus_unmap(d, pa, 3), 0);
	REQUIRE_EQ(l.n, 2);
	CHECK_EQ(l.code[0], 0);
	CHECK_EQ(l.first[0], 0x1000);
	CHECK_EQ(l.frames[0], 3);
	CHECK_EQ(l.code[1], 1);
	CHECK_EQ(l.first[1], 0x1000);
	CHECK_EQ(l.frames[1], 3);
	sim_destroy(d);
	free(host);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_map_read_write),
	SIM_TEST(test_frames_follow_pa_not_host),
	SIM_TEST(test_lowest_free_first_deterministic),
	SIM_TEST(test_map_einval),
	SIM_TEST(test_map_enomem_all_or_nothing),
	SIM_TEST(test_unmap_einval_releases_nothing),
	SIM_TEST(test_read_write_bounds),
	SIM_TEST(test_bus_map_events),
};
SIM_TEST_SUITE(tests);
