/* SPDX-License-Identifier: MIT */
/*
 * test_buffer.c - what an imported buffer costs the host process, counted in /proc/self/maps
 * lines and /proc/self/fd entries. By default the driver maps a buffer at import and keeps no
 * fd; with MSD_DRIVER_CONFIG_MAP_BUFFERS_ON_USE it keeps the fd and makes no mapping until the
 * GPU maps the buffer, then holds the mapping and no fd. Commit and decommit work in both states
 * (on the memfd's pages, seen in its block count) and never make a mapping. Release gives
 * everything back.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msd_sim_internal.h"
#include "sim_test.h"

#define COUNT	   512
#define PAGES	   2
#define MAPPED	   16
#define VA(i)	   (0x100000ull + 0x10000ull * (uint64_t)(i))
#define RW	   (MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE)
#define MAPS_SLACK 32 /* mappings the allocator may add for the driver's own objects */

struct fixture {
	struct sim_device *sim;
	struct msd_driver_t *drv;
	struct msd_device_t *dev;
	struct msd_connection_t *conn;
	int fds[COUNT]; /* the client's memfds */
	struct msd_buffer_t *bufs[COUNT];
};

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, c;

	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own fd */
}

static int fixture_init(struct fixture *f, uint32_t flags)
{
	memset(f, 0, sizeof(*f));
	f->sim = sim_create(NULL);
	f->drv = msd_driver_create();
	if (!f->sim || !f->drv)
		return -1;
	msd_driver_configure(f->drv, MSD_DRIVER_CONFIG_TEST_NO_DEVICE_THREAD | flags);
	/* Test mode: the GPU's clock runs for the bring-up only (msd_sim_hooks.h). */
	if (sim_start(f->sim))
		return -1;
	f->dev = msd_driver_create_device(f->drv, f->sim);
	sim_stop(f->sim);
	f->conn = f->dev ? msd_device_open(f->dev, 1) : NULL;
	return f->conn ? 0 : -1;
}

/* Imports COUNT buffers of PAGES pages; the client keeps its own memfd of each. */
static int import_all(struct fixture *f)
{
	for (int i = 0; i < COUNT; i++) {
		f->fds[i] = memfd_create("buffer", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (f->fds[i] < 0 || ftruncate(f->fds[i], PAGES * SIM_PAGE_SIZE))
			return -1;
		if (msd_driver_import_buffer(f->drv, (magma_handle_t)dup(f->fds[i]), 1,
					     &f->bufs[i]) != MAGMA_STATUS_OK)
			return -1;
	}
	return 0;
}

/* Releases every buffer (the driver's side) and closes the client's memfds. */
static void release_all(struct fixture *f)
{
	for (int i = 0; i < COUNT; i++) {
		if (f->bufs[i]) {
			msd_connection_release_buffer(f->conn, f->bufs[i]);
			msd_buffer_release(f->bufs[i]);
			f->bufs[i] = NULL;
		}
		if (f->fds[i] > 0)
			close(f->fds[i]);
		f->fds[i] = 0;
	}
}

static void fixture_fini(struct fixture *f)
{
	release_all(f);
	msd_connection_close(f->conn);
	msd_device_destroy(f->dev);
	msd_driver_destroy(f->drv);
	sim_destroy(f->sim);
}

/* 512-byte blocks the memfd of buffer @i has allocated. */
static long blocks(const struct fixture *f, int i)
{
	struct stat st;

	return fstat(f->fds[i], &st) ? -1 : (long)st.st_blocks;
}

/* COMMIT then DECOMMIT of buffer @i's pages: they are allocated, then freed. */
static void commit_and_decommit(struct fixture *f, int i)
{
	CHECK_EQ(blocks(f, i), 0);
	CHECK_EQ(msd_connection_buffer_range_op(f->conn, f->bufs[i], MAGMA_BUFFER_RANGE_OP_COMMIT,
						0, PAGES * SIM_PAGE_SIZE),
		 MAGMA_STATUS_OK);
	CHECK(blocks(f, i) >= (long)(PAGES * SIM_PAGE_SIZE / 512));
	CHECK_EQ(msd_connection_buffer_range_op(f->conn, f->bufs[i], MAGMA_BUFFER_RANGE_OP_DECOMMIT,
						0, PAGES * SIM_PAGE_SIZE),
		 MAGMA_STATUS_OK);
	CHECK_EQ(blocks(f, i), 0);
}

/*
 * MAP_BUFFERS_ON_USE: a buffer nobody maps is one fd and no mapping, also through commit and
 * decommit; the GPU mapping of a buffer makes its mapping and closes its fd.
 */
static void test_on_use_maps_when_the_gpu_does(void)
{
	struct fixture f;
	int maps, fds;

	REQUIRE(fixture_init(&f, MSD_DRIVER_CONFIG_MAP_BUFFERS_ON_USE) == 0);
	maps = count_lines("/proc/self/maps");
	fds = count_fds();
	REQUIRE(import_all(&f) == 0);
	CHECK(count_lines("/proc/self/maps") < maps + MAPS_SLACK);
	CHECK_EQ(count_fds(), fds + 2 * COUNT); /* the client's and the driver's */
	commit_and_decommit(&f, 0);
	CHECK(count_lines("/proc/self/maps") < maps + MAPS_SLACK);
	for (int i = 0; i < MAPPED; i++)
		CHECK_EQ(msd_connection_map_buffer(f.conn, f.bufs[i], VA(i), 0, SIM_PAGE_SIZE, RW),
			 MAGMA_STATUS_OK);
	CHECK(count_lines("/proc/self/maps") >= maps + MAPPED);
	CHECK_EQ(count_fds(), fds + 2 * COUNT - MAPPED);
	/* Unmapped from the GPU, the buffer keeps its host mapping: commit works through it. */
	CHECK_EQ(msd_connection_unmap_buffer(f.conn, f.bufs[MAPPED - 1], VA(MAPPED - 1)),
		 MAGMA_STATUS_OK);
	commit_and_decommit(&f, MAPPED - 1);
	release_all(&f);
	CHECK_EQ(count_fds(), fds);
	CHECK(count_lines("/proc/self/maps") < maps + MAPS_SLACK);
	fixture_fini(&f);
}

/* By default every buffer is mapped at import and holds no fd in the driver. */
static void test_default_maps_at_import(void)
{
	struct fixture f;
	int maps, fds;

	REQUIRE(fixture_init(&f, 0) == 0);
	maps = count_lines("/proc/self/maps");
	fds = count_fds();
	REQUIRE(import_all(&f) == 0);
	CHECK(count_lines("/proc/self/maps") >= maps + COUNT);
	CHECK_EQ(count_fds(), fds + COUNT); /* the client's only */
	commit_and_decommit(&f, 0);
	release_all(&f);
	CHECK_EQ(count_fds(), fds);
	CHECK(count_lines("/proc/self/maps") < maps + MAPS_SLACK);
	fixture_fini(&f);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_on_use_maps_when_the_gpu_does),
	SIM_TEST(test_default_maps_at_import),
};
SIM_TEST_SUITE(tests);
