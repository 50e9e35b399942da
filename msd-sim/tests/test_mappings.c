/* SPDX-License-Identifier: MIT */
/*
 * test_mappings.c - how msd-sim finds a connection's mappings (msd_sim_connection.c, indexed by
 * GPU address and by buffer range): overlap refusals against both neighbours among thousands of
 * mappings, unmap by address and buffer, which mapping a command buffer runs from when several
 * cover it (the oldest), the live mappings of one buffer among many others (oldest first, dying
 * ones left out), release and decommit seeing only their own buffer's mappings.
 */
#include <stdlib.h>
#include <string.h>

#include "msd_sim_internal.h"
#include "msd_test_util.h"
#include "sim_test.h"

#define R  MAGMA_MAP_FLAG_READ
#define VA 0x10000000ull

struct fixture {
	struct mt *t;
	struct msd_connection_t *conn;
	struct msd_sim_connection *sc;
	struct mt_buf a, b;
};

static int fixture_init(struct fixture *f, uint64_t pages)
{
	memset(f, 0, sizeof(*f));
	f->t = mt_create(false);
	if (!f->t)
		return -1;
	f->conn = msd_device_open(f->t->dev, 1);
	f->sc = msd_sim_connection_from(f->conn);
	if (!f->conn || mt_buf_create(f->t, pages * 4096, &f->a) ||
	    mt_buf_create(f->t, pages * 4096, &f->b))
		return -1;
	return 0;
}

static void fixture_fini(struct fixture *f)
{
	msd_connection_release_buffer(f->conn, f->a.buf);
	msd_connection_release_buffer(f->conn, f->b.buf);
	mt_buf_destroy(&f->a);
	mt_buf_destroy(&f->b);
	msd_connection_close(f->conn);
	mt_destroy(f->t);
}

static struct msd_sim_buffer *sbuf(struct mt_buf *b)
{
	return msd_sim_buffer_from(b->buf);
}

#define PAGES 2048

/*
 * Every other page slot of a range mapped (alternating buffers): a page fits each hole, anything
 * touching a neighbour is refused, and unmap needs the right address and buffer.
 */
static void test_overlap_among_many(void)
{
	struct fixture f;

	REQUIRE(fixture_init(&f, PAGES) == 0);
	for (uint64_t i = 0; i < PAGES; i++) {
		struct mt_buf *b = i % 2 ? &f.b : &f.a;

		REQUIRE_EQ(msd_connection_map_buffer(f.conn, b->buf, VA + 2 * i * 4096, i * 4096,
						     4096, R),
			   MAGMA_STATUS_OK);
	}
	CHECK_EQ(f.sc->mappings_by_va.count, PAGES);
	for (uint64_t i = 0; i + 1 < PAGES; i += 97) {
		uint64_t hole = VA + (2 * i + 1) * 4096;

		/* Straddling into either neighbour, or onto one, is refused. */
		CHECK_EQ(msd_connection_map_buffer(f.conn, f.a.buf, hole - 4096, 0, 4096, R),
			 MAGMA_STATUS_INVALID_ARGS);
		CHECK_EQ(msd_connection_map_buffer(f.conn, f.a.buf, hole, 0, 2 * 4096, R),
			 MAGMA_STATUS_INVALID_ARGS);
		CHECK_EQ(msd_connection_map_buffer(f.conn, f.a.buf, hole + 4096, 0, 4096, R),
			 MAGMA_STATUS_INVALID_ARGS);
		/* The hole itself fits one page. */
		CHECK_EQ(msd_connection_map_buffer(f.conn, f.a.buf, hole, 0, 4096, R),
			 MAGMA_STATUS_OK);
		/* Unmap wants the buffer mapped there, at the exact start. */
		CHECK_EQ(msd_connection_unmap_buffer(f.conn, f.b.buf, hole),
			 MAGMA_STATUS_INVALID_ARGS);
		CHECK_EQ(msd_connection_unmap_buffer(f.conn, f.a.buf, hole + 512),
			 MAGMA_STATUS_INVALID_ARGS);
		CHECK_EQ(msd_connection_unmap_buffer(f.conn, f.a.buf, hole), MAGMA_STATUS_OK);
		CHECK_EQ(msd_connection_unmap_buffer(f.conn, f.a.buf, hole),
			 MAGMA_STATUS_INVALID_ARGS);
	}
	/* Below the first and above the last are free. */
	CHECK_EQ(msd_connection_map_buffer(f.conn, f.a.buf, VA - 4096, 0, 4096, R),
		 MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_map_buffer(f.conn, f.a.buf, VA + 2 * PAGES * 4096, 0, 4096, R),
		 MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_unmap_buffer(f.conn, f.a.buf, VA + 4 * 4096), MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_unmap_buffer(f.conn, f.a.buf, VA + 4 * 4096),
		 MAGMA_STATUS_INVALID_ARGS);
	CHECK_EQ(f.sc->mappings_by_va.count, PAGES + 1);
	CHECK(index_tree_check(&f.sc->mappings_by_va));
	CHECK(index_tree_check(&f.sc->mappings_by_buffer));
	fixture_fini(&f);
}

/* A command buffer runs from the oldest live mapping that covers it, wherever that is. */
static void test_command_buffer_oldest_mapping(void)
{
	struct fixture f;
	struct msd_sim_mapping *m;

	REQUIRE(fixture_init(&f, 4) == 0);
	/* Oldest first: the whole buffer high up, then pages 1-2 below it, then page 1 again. */
	REQUIRE_EQ(msd_connection_map_buffer(f.conn, f.a.buf, VA + 0x100000, 0, 4 * 4096, R),
		   MAGMA_STATUS_OK);
	REQUIRE_EQ(msd_connection_map_buffer(f.conn, f.a.buf, VA, 4096, 2 * 4096, R),
		   MAGMA_STATUS_OK);
	REQUIRE_EQ(msd_connection_map_buffer(f.conn, f.a.buf, VA + 0x200000, 4096, 4096, R),
		   MAGMA_STATUS_OK);
	msd_sim_mutex_lock(&f.sc->dev->lock);
	m = msd_sim_connection_find_mapping_locked(f.sc, sbuf(&f.a), 4096 + 16, 64);
	CHECK(m && m->gpu_va == VA + 0x100000);
	msd_sim_mutex_unlock(&f.sc->dev->lock);
	/* Without the oldest, the next oldest that covers the bytes. */
	REQUIRE_EQ(msd_connection_unmap_buffer(f.conn, f.a.buf, VA + 0x100000), MAGMA_STATUS_OK);
	msd_sim_mutex_lock(&f.sc->dev->lock);
	m = msd_sim_connection_find_mapping_locked(f.sc, sbuf(&f.a), 4096 + 16, 64);
	CHECK(m && m->gpu_va == VA);
	/* Bytes that straddle the end of every mapping are covered by none. */
	CHECK(msd_sim_connection_find_mapping_locked(f.sc, sbuf(&f.a), 3 * 4096 - 4, 8) == NULL);
	CHECK(msd_sim_connection_find_mapping_locked(f.sc, sbuf(&f.b), 4096, 4) == NULL);
	msd_sim_mutex_unlock(&f.sc->dev->lock);
	fixture_fini(&f);
}

/*
 * The live mappings of one buffer that overlap a range, among many of another buffer and of
 * itself: exactly those, oldest first; a dying one is left out.
 */
static void test_overlapping_one_buffer(void)
{
	struct fixture f;
	struct msd_sim_mapping *m;
	uint64_t last_seq = 0, count = 0;

	REQUIRE(fixture_init(&f, 64) == 0);
	/* Buffer a's pages mapped newest-lowest-offset first, b's pages in between. */
	for (uint64_t i = 0; i < 64; i++) {
		REQUIRE_EQ(msd_connection_map_buffer(f.conn, f.a.buf, VA + i * 0x10000,
						     (63 - i) * 4096, 4096, R),
			   MAGMA_STATUS_OK);
		REQUIRE_EQ(msd_connection_map_buffer(f.conn, f.b.buf, VA + i * 0x10000 + 0x8000,
						     i * 4096, 4096, R),
			   MAGMA_STATUS_OK);
	}
	/* A long mapping of a's start, made last: it overlaps every query below. */
	REQUIRE_EQ(msd_connection_map_buffer(f.conn, f.a.buf, VA + 0x1000000, 0, 64 * 4096, R),
		   MAGMA_STATUS_OK);
	msd_sim_mutex_lock(&f.sc->dev->lock);
	for (m = msd_sim_connection_overlapping_locked(f.sc, sbuf(&f.a), 10 * 4096 + 100, 3 * 4096);
	     m; m = m->work_next) {
		CHECK(m->buffer == sbuf(&f.a));
		CHECK(m->offset + m->length > 10 * 4096 + 100 && m->offset < 13 * 4096 + 100);
		CHECK(!count || m->seq > last_seq);
		last_seq = m->seq;
		count++;
	}
	CHECK_EQ(count, 4 + 1); /* pages 10..13 and the long one */
	/* Every page of a: 64 + 1. */
	count = 0;
	for (m = msd_sim_connection_overlapping_locked(f.sc, sbuf(&f.a), 0, 64 * 4096); m;
	     m = m->work_next)
		count++;
	CHECK_EQ(count, 65);
	/* A dying mapping is not live. */
	m = msd_sim_connection_overlapping_locked(f.sc, sbuf(&f.b), 5 * 4096, 1);
	CHECK(m != NULL && m->work_next == NULL);
	if (m) {
		m->dying = true;
		CHECK(msd_sim_connection_overlapping_locked(f.sc, sbuf(&f.b), 5 * 4096, 1) == NULL);
		m->dying = false;
	}
	msd_sim_mutex_unlock(&f.sc->dev->lock);
	fixture_fini(&f);
}

/* Releasing a buffer unpins all its mappings and only its; decommit looks at its buffer only. */
static void test_release_and_decommit_own_buffer(void)
{
	struct fixture f;
	uint64_t mapped;

	REQUIRE(fixture_init(&f, 8) == 0);
	for (uint64_t i = 0; i < 4; i++) {
		REQUIRE_EQ(msd_connection_map_buffer(f.conn, f.a.buf, VA + i * 0x100000, i * 4096,
						     2 * 4096, R),
			   MAGMA_STATUS_OK);
		REQUIRE_EQ(msd_connection_map_buffer(f.conn, f.b.buf, VA + i * 0x100000 + 0x10000,
						     4 * 4096, 4096, R),
			   MAGMA_STATUS_OK);
	}
	/* b's pages 0-3 are not mapped, a's are: decommit of b there is allowed, of a not. */
	CHECK_EQ(msd_connection_buffer_range_op(f.conn, f.b.buf, MAGMA_BUFFER_RANGE_OP_DECOMMIT, 0,
						4 * 4096),
		 MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_buffer_range_op(f.conn, f.a.buf, MAGMA_BUFFER_RANGE_OP_DECOMMIT,
						6 * 4096, 2 * 4096),
		 MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_buffer_range_op(f.conn, f.a.buf, MAGMA_BUFFER_RANGE_OP_DECOMMIT,
						4 * 4096, 4096),
		 MAGMA_STATUS_BAD_STATE);
	/* The pages of a's four mappings are unpinned (the page tables stay). */
	mapped = sim_bus_frames_mapped(f.t->sim);
	msd_connection_release_buffer(f.conn, f.a.buf);
	CHECK_EQ(mapped - sim_bus_frames_mapped(f.t->sim), 4 * 2);
	CHECK_EQ(f.sc->mappings_by_va.count, 4);
	CHECK_EQ(f.sc->mappings_by_buffer.count, 4);
	/* a's addresses are free again; b's mappings are still there. */
	CHECK_EQ(msd_connection_map_buffer(f.conn, f.b.buf, VA, 0, 4096, R), MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_unmap_buffer(f.conn, f.b.buf, VA + 0x10000), MAGMA_STATUS_OK);
	CHECK_EQ(msd_connection_unmap_buffer(f.conn, f.a.buf, VA + 0x100000),
		 MAGMA_STATUS_INVALID_ARGS);
	fixture_fini(&f);
}

/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(test_overlap_among_many),
	SIM_TEST(test_command_buffer_oldest_mapping),
	SIM_TEST(test_overlapping_one_buffer),
	SIM_TEST(test_release_and_decommit_own_buffer),
};
/* clang-format on */
SIM_TEST_SUITE(tests);
