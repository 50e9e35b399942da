/* SPDX-License-Identifier: MIT */
/*
 * test_validate.c - validation of every primary-channel and device-channel message type.
 *
 * Each case opens a fresh connection A on one service, puts it in a known state
 * (context 1; buffers 1 and 2 of 64 KiB; semaphores 1 and 2; buffer 1 mapped at 0x100000 for
 * 16 KiB; performance access and pool 1), sends one message, then a FLUSH. A good message must
 * leave the connection working (the flush answers OK); each malformation must close A with the
 * expected status in WIRE_EVT_ERROR, while connection B, opened before and used after, keeps
 * working. At the end every MSD object of the closed connections has been released. A garbage
 * run then sends 300 deterministic pseudo-random messages (valid framing, random types, bodies
 * and fds) and checks the same: no crash, no hang, only that connection closed, nothing leaked.
 * Built twice: against the fake MSD (magma_system_validate_test, which also counts MSD objects)
 * and against the real msd-sim through the embedded device (magma_system_validate_sim_test,
 * with MAGMA_SYSTEM_TEST_REAL_MSD).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef MAGMA_SYSTEM_TEST_REAL_MSD
#include "magma_sim_defs.h"
#include "magma_system/embedded.h"
#define TEST_VENDOR_ID	  MAGMA_SIM_VENDOR_ID
#define TEST_BUFFER_QUERY MAGMA_QUERY_TOTAL_TIME
#define VENDOR_MAP_STATUS MAGMA_STATUS_INVALID_ARGS
static int live_objects(void)
{
	return 0; /* the real driver keeps no count we can see */
}
#else
#include "fake_msd.h"
#define TEST_VENDOR_ID	  FAKE_MSD_VENDOR_ID
#define TEST_BUFFER_QUERY FAKE_MSD_QUERY_BUFFER
#define VENDOR_MAP_STATUS MAGMA_STATUS_OK
static int live_objects(void)
{
	return fake_msd_live();
}
#endif
#include "sim_test.h"
#include "test_client.h"

#define OK     MAGMA_STATUS_OK
#define INVAL  MAGMA_STATUS_INVALID_ARGS
#define DENIED MAGMA_STATUS_ACCESS_DENIED
#define LOST   MAGMA_STATUS_CONNECTION_LOST
#define KB64   0x10000ull

static struct magma_system_device *g_dev;
static int g_devfd = -1;

/* Message scratch: up to 4 KiB, 8-byte aligned. */
static uint64_t g_buf[512];
#define MSG(T) ((T *)memset(g_buf, 0, sizeof(g_buf)))

static int send_msg(struct tc_conn *c, uint32_t type, uint32_t size, const int *fds, uint32_t nfds)
{
	return tc_send(c->primary, g_buf, size, type, fds, nfds);
}

static int setup_state(struct tc_conn *c, int perf)
{
	struct wire_map_buffer *map;
	int ret = 0;

	ret |= tc_create_context(c, 1);
	ret |= tc_import_buffer(c, 1, KB64);
	ret |= tc_import_buffer(c, 2, KB64);
	ret |= tc_import_semaphore(c, 1);
	ret |= tc_import_semaphore(c, 2);
	map = MSG(struct wire_map_buffer);
	map->hw_va = 0x100000;
	map->buffer_id = 1;
	map->length = 0x4000;
	map->flags = MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE;
	ret |= send_msg(c, WIRE_MAP_BUFFER, sizeof(*map), NULL, 0);
	if (perf) {
		int sv[2], tok = magma_system_device_perf_token(g_dev);
		struct wire_perf_pool *p;

		if (tok < 0)
			return -1;
		MSG(struct wire_enable_perf_access);
		ret |= send_msg(c, WIRE_ENABLE_PERF_ACCESS, sizeof(struct wire_enable_perf_access),
				&tok, 1);
		close(tok);
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
			return -1;
		p = MSG(struct wire_perf_pool);
		p->pool_id = 1;
		ret |= send_msg(c, WIRE_CREATE_PERF_POOL, sizeof(*p), &sv[1], 1);
		close(sv[0]);
		close(sv[1]);
	}
	return ret;
}

/* ---- Cases: each sends one message (or a short sequence) on a prepared connection. ---- */

#define CASE(name) static int name(struct tc_conn *c)
/* A case that is one call of a message helper: fn(c, ...). */
#define CALL_CASE(name, fn, ...)                                                                   \
	CASE(name)                                                                                 \
	{                                                                                          \
		return fn(c, __VA_ARGS__);                                                         \
	}

/* A CREATE_CONTEXT message @size_delta bytes off its size, with @nfds (0 or 1) eventfds. */
static int create_ctx(struct tc_conn *c, uint32_t id, uint64_t priority, uint32_t reserved,
		      int size_delta, uint32_t nfds)
{
	struct wire_create_context *m = MSG(struct wire_create_context);
	int fd = nfds ? tc_eventfd() : -1, r;

	m->context_id = id;
	m->priority = priority;
	m->reserved = reserved;
	r = send_msg(c, WIRE_CREATE_CONTEXT, (uint32_t)(sizeof(*m) + size_delta), nfds ? &fd : NULL,
		     nfds);
	if (nfds)
		close(fd);
	return r;
}
CALL_CASE(ctx_good, create_ctx, 5, MAGMA_PRIORITY_HIGH, 0, 0, 0)
CALL_CASE(ctx_zero, create_ctx, 0, MAGMA_PRIORITY_HIGH, 0, 0, 0)
CALL_CASE(ctx_dup, create_ctx, 1, MAGMA_PRIORITY_LOW, 0, 0, 0)
CALL_CASE(ctx_prio, create_ctx, 5, 7, 0, 0, 0)
CALL_CASE(ctx_reserved, create_ctx, 5, MAGMA_PRIORITY_LOW, 1, 0, 0)
CALL_CASE(ctx_short, create_ctx, 5, 0, 0, -8, 0)
CALL_CASE(ctx_long, create_ctx, 5, MAGMA_PRIORITY_LOW, 0, 8, 0)
CALL_CASE(ctx_fd, create_ctx, 5, MAGMA_PRIORITY_LOW, 0, 0, 1)
CASE(ctx_hdr_flags)
{
	struct wire_create_context *m = MSG(struct wire_create_context);
	m->context_id = 5;
	m->priority = MAGMA_PRIORITY_LOW;
	m->hdr.flags = 1;
	m->hdr.type = WIRE_CREATE_CONTEXT;
	m->hdr.size = sizeof(*m);
	return wire_send(c->primary, m, sizeof(*m), NULL, 0);
}

static int release_ctx(struct tc_conn *c, uint32_t id, uint32_t reserved)
{
	struct wire_release_context *m = MSG(struct wire_release_context);

	m->context_id = id;
	m->reserved = reserved;
	return send_msg(c, WIRE_RELEASE_CONTEXT, sizeof(*m), NULL, 0);
}
CALL_CASE(rctx_good, release_ctx, 1, 0)
CALL_CASE(rctx_unknown, release_ctx, 9, 0)
CASE(rctx_double)
{
	rctx_good(c);
	return rctx_good(c);
}
CALL_CASE(rctx_reserved, release_ctx, 1, 3)

static int import_buf(struct tc_conn *c, uint64_t id, uint64_t claimed, uint64_t real, int kind,
		      uint32_t nfds)
{
	struct wire_import_buffer *m = MSG(struct wire_import_buffer);
	int fds[2], r;

	fds[0] = kind == 0 ? tc_memfd(real) : tc_eventfd();
	fds[1] = tc_memfd(real);
	m->buffer_id = id;
	m->size = claimed;
	r = send_msg(c, WIRE_IMPORT_BUFFER, sizeof(*m), fds, nfds);
	close(fds[0]);
	close(fds[1]);
	return r;
}
CALL_CASE(ibuf_good, import_buf, 7, KB64, KB64, 0, 1)
CALL_CASE(ibuf_zero_id, import_buf, 0, KB64, KB64, 0, 1)
CALL_CASE(ibuf_dup, import_buf, 2, KB64, KB64, 0, 1)
CALL_CASE(ibuf_nofd, import_buf, 7, KB64, KB64, 0, 0)
CALL_CASE(ibuf_twofds, import_buf, 7, KB64, KB64, 0, 2)
CALL_CASE(ibuf_eventfd, import_buf, 7, 0, KB64, 1, 1)
CALL_CASE(ibuf_size, import_buf, 7, 2 * KB64, KB64, 0, 1)
CALL_CASE(ibuf_empty, import_buf, 7, 0, 0, 0, 1)
/* A memfd whose pages could be truncated away under the service's mapping: never sealable. */
CASE(ibuf_unsealable)
{
	struct wire_import_buffer *m = MSG(struct wire_import_buffer);
	int fd = memfd_create("unsealable", MFD_CLOEXEC), r;

	if (fd < 0 || ftruncate(fd, KB64))
		return -1;
	m->buffer_id = 7;
	m->size = KB64;
	r = send_msg(c, WIRE_IMPORT_BUFFER, sizeof(*m), &fd, 1);
	close(fd);
	return r;
}
/* Sealed against writes: the GPU could not write through its mapping. */
CASE(ibuf_write_sealed)
{
	struct wire_import_buffer *m = MSG(struct wire_import_buffer);
	int fd = tc_memfd(KB64), r;

	if (fd < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE))
		return -1;
	m->buffer_id = 7;
	m->size = KB64;
	r = send_msg(c, WIRE_IMPORT_BUFFER, sizeof(*m), &fd, 1);
	close(fd);
	return r;
}
CASE(ibuf_regular_file)
{
	struct wire_import_buffer *m = MSG(struct wire_import_buffer);
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC), r;
	m->buffer_id = 7;
	r = send_msg(c, WIRE_IMPORT_BUFFER, sizeof(*m), &fd, 1);
	close(fd);
	return r;
}

static int release_buf(struct tc_conn *c, uint64_t id)
{
	struct wire_release_buffer *m = MSG(struct wire_release_buffer);

	m->buffer_id = id;
	return send_msg(c, WIRE_RELEASE_BUFFER, sizeof(*m), NULL, 0);
}
CALL_CASE(rbuf_good, release_buf, 2)
CALL_CASE(rbuf_mapped, release_buf, 1)
CALL_CASE(rbuf_unknown, release_buf, 77)
CASE(rbuf_double)
{
	rbuf_good(c);
	return rbuf_good(c);
}

static int import_sem(struct tc_conn *c, uint64_t id, uint64_t flags, int memfd, uint32_t nfds)
{
	struct wire_import_semaphore *m = MSG(struct wire_import_semaphore);
	int fd = memfd ? tc_memfd(4096) : tc_eventfd(), r;

	m->semaphore_id = id;
	m->flags = flags;
	r = send_msg(c, WIRE_IMPORT_SEMAPHORE, sizeof(*m), &fd, nfds);
	close(fd);
	return r;
}
CALL_CASE(isem_good, import_sem, 9, MAGMA_IMPORT_SEMAPHORE_ONE_SHOT, 0, 1)
CALL_CASE(isem_zero, import_sem, 0, 0, 0, 1)
CALL_CASE(isem_dup, import_sem, 1, 0, 0, 1)
CALL_CASE(isem_memfd, import_sem, 9, 0, 1, 1)
CALL_CASE(isem_flags, import_sem, 9, 2, 0, 1)
CALL_CASE(isem_nofd, import_sem, 9, 0, 0, 0)

static int release_sem(struct tc_conn *c, uint64_t id)
{
	struct wire_release_semaphore *m = MSG(struct wire_release_semaphore);

	m->semaphore_id = id;
	return send_msg(c, WIRE_RELEASE_SEMAPHORE, sizeof(*m), NULL, 0);
}
CALL_CASE(rsem_good, release_sem, 2)
CALL_CASE(rsem_unknown, release_sem, 3)
CASE(rsem_double)
{
	rsem_good(c);
	return rsem_good(c);
}

static int buffer_op(struct tc_conn *c, uint64_t id, uint32_t op, uint64_t start, uint64_t len)
{
	struct wire_perform_buffer_op *m = MSG(struct wire_perform_buffer_op);

	m->buffer_id = id;
	m->options = op;
	m->start_offset = start;
	m->length = len;
	return send_msg(c, WIRE_PERFORM_BUFFER_OP, sizeof(*m), NULL, 0);
}
CALL_CASE(op_good, buffer_op, 1, MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES, 0, 4096)
CALL_CASE(op_depop, buffer_op, 1, MAGMA_BUFFER_RANGE_OP_DEPOPULATE_TABLES, 4096, 4096)
CALL_CASE(op_commit, buffer_op, 1, MAGMA_BUFFER_RANGE_OP_COMMIT, 0, 4096)
CALL_CASE(op_bad, buffer_op, 1, 99, 0, 4096)
CALL_CASE(op_unaligned, buffer_op, 1, MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES, 12, 4096)
CALL_CASE(op_empty, buffer_op, 1, MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES, 0, 0)
CALL_CASE(op_range, buffer_op, 1, MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES, KB64, 4096)
CALL_CASE(op_overflow, buffer_op, 1, MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES, ~0ull - 4095, 8192)
CALL_CASE(op_unknown, buffer_op, 5, MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES, 0, 4096)

static int map(struct tc_conn *c, uint64_t id, uint64_t va, uint64_t off, uint64_t len,
	       uint64_t flags)
{
	struct wire_map_buffer *m = MSG(struct wire_map_buffer);

	m->buffer_id = id;
	m->hw_va = va;
	m->offset = off;
	m->length = len;
	m->flags = flags;
	return send_msg(c, WIRE_MAP_BUFFER, sizeof(*m), NULL, 0);
}
#define RW (MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE)
CALL_CASE(map_good, map, 2, 0x200000, 0x1000, 0x2000, RW | MAGMA_MAP_FLAG_EXECUTE)
/* Vendor bits pass the service; msd-sim defines none and refuses them. */
CALL_CASE(map_vendor, map, 2, 0x200000, 0, 0x1000, RW | MAGMA_MAP_FLAG_VENDOR_0)
CALL_CASE(map_adjacent, map, 2, 0x104000, 0, 0x1000, RW)
CALL_CASE(map_overlap, map, 2, 0x103000, 0, 0x2000, RW)
CALL_CASE(map_overlap_below, map, 2, 0xff000, 0, 0x2000, RW)
CALL_CASE(map_same, map, 1, 0x100000, 0, 0x1000, RW)
CALL_CASE(map_va_unaligned, map, 2, 0x200010, 0, 0x1000, RW)
CALL_CASE(map_off_unaligned, map, 2, 0x200000, 8, 0x1000, RW)
CALL_CASE(map_len_unaligned, map, 2, 0x200000, 0, 0x1001, RW)
CALL_CASE(map_empty, map, 2, 0x200000, 0, 0, RW)
CALL_CASE(map_range, map, 2, 0x200000, 0x8000, KB64, RW)
CALL_CASE(map_overflow, map, 2, 0x200000, ~0ull - 0xfff, 0x2000, RW)
CALL_CASE(map_wrap, map, 2, ~0ull - 0xfff, 0, 0x2000, RW)
CALL_CASE(map_flags, map, 2, 0x200000, 0, 0x1000, RW | (1u << 5))
CALL_CASE(map_unknown, map, 3, 0x200000, 0, 0x1000, RW)

static int unmap(struct tc_conn *c, uint64_t id, uint64_t va)
{
	struct wire_unmap_buffer *m = MSG(struct wire_unmap_buffer);

	m->buffer_id = id;
	m->hw_va = va;
	return send_msg(c, WIRE_UNMAP_BUFFER, sizeof(*m), NULL, 0);
}
CALL_CASE(unmap_good, unmap, 1, 0x100000)
CASE(unmap_double)
{
	unmap(c, 1, 0x100000);
	return unmap(c, 1, 0x100000);
}
CALL_CASE(unmap_wrong_buffer, unmap, 2, 0x100000)
CALL_CASE(unmap_inside, unmap, 1, 0x101000)
CALL_CASE(unmap_unknown, unmap, 4, 0x100000)

/* An execute message: r resources, b command buffers, w + s semaphores; then @tweak edits. */
struct exec_spec {
	uint32_t ctx, nres, ncb, nwait, nsig;
	int64_t size_delta;
	uint64_t flags;
	uint64_t res_buffer, res_offset, res_length;
	uint32_t cb_index;
	uint64_t cb_start;
	uint64_t sem;
	uint32_t claim_nres; /* 0: nres */
};

static int exec(struct tc_conn *c, const struct exec_spec *e)
{
	struct wire_execute_command *m = MSG(struct wire_execute_command);
	struct magma_exec_resource *res = (void *)(m + 1);
	struct magma_exec_command_buffer *cb;
	uint64_t *sems;
	uint32_t size;

	m->context_id = e->ctx;
	m->resource_count = e->claim_nres ? e->claim_nres : e->nres;
	m->command_buffer_count = e->ncb;
	m->wait_semaphore_count = e->nwait;
	m->signal_semaphore_count = e->nsig;
	m->flags = e->flags;
	for (uint32_t i = 0; i < e->nres; i++)
		res[i] = (struct magma_exec_resource){e->res_buffer, e->res_offset, e->res_length};
	cb = (void *)(res + e->nres);
	for (uint32_t i = 0; i < e->ncb; i++)
		cb[i] = (struct magma_exec_command_buffer){.resource_index = e->cb_index,
							   .start_offset = e->cb_start};
	sems = (void *)(cb + e->ncb);
	for (uint32_t i = 0; i < e->nwait + e->nsig; i++)
		sems[i] = i == 0 ? e->sem : 1 + (i & 1);
	size = (uint32_t)((char *)(sems + e->nwait + e->nsig) - (char *)m + e->size_delta);
	return send_msg(c, WIRE_EXECUTE_COMMAND, size, NULL, 0);
}
static const struct exec_spec exec_base = {.ctx = 1,
					   .nres = 1,
					   .ncb = 1,
					   .nwait = 1,
					   .nsig = 1,
					   .res_buffer = 1,
					   .res_length = 0x1000,
					   .sem = 1};
#define EXEC_CASE(name, field, value)                                                              \
	CASE(name)                                                                                 \
	{                                                                                          \
		struct exec_spec e = exec_base;                                                    \
		e.field = value;                                                                   \
		return exec(c, &e);                                                                \
	}
EXEC_CASE(exec_good, flags, MAGMA_COMMAND_BUFFER_VENDOR_FLAGS_0)
EXEC_CASE(exec_short, size_delta, -8)
EXEC_CASE(exec_long, size_delta, 8)
EXEC_CASE(exec_count_overflow, claim_nres, 0xffffffffu)
EXEC_CASE(exec_count_lie, claim_nres, 2)
EXEC_CASE(exec_ctx, ctx, 4)
EXEC_CASE(exec_buffer, res_buffer, 8)
EXEC_CASE(exec_res_range, res_offset, KB64)
EXEC_CASE(exec_cb_index, cb_index, 1)
EXEC_CASE(exec_cb_start, cb_start, 0x1000)
EXEC_CASE(exec_sem, sem, 42)
EXEC_CASE(exec_flags, flags, 1)
EXEC_CASE(exec_no_cb, ncb, 0)
CASE(exec_res_overflow)
{
	struct exec_spec e = exec_base;
	e.res_offset = 0x1000;
	e.res_length = ~0ull - 0x10;
	return exec(c, &e);
}

/* Inline: one command of @size bytes with @nsem semaphores (ids @sem, 2, ...); @extra bytes. */
static int inl(struct tc_conn *c, uint32_t ctx, uint32_t count, uint64_t size, uint32_t nsem,
	       uint64_t sem, uint32_t extra, uint64_t claim_size)
{
	struct wire_execute_inline *m = MSG(struct wire_execute_inline);
	struct wire_inline_command *rec = (void *)(m + 1);
	uint8_t *data = (void *)(rec + 1);
	uint64_t *ids = (void *)(data + ((size + 7) & ~7ull));
	uint32_t total;

	m->context_id = ctx;
	m->command_count = count;
	rec->size = claim_size ? claim_size : size;
	rec->semaphore_count = nsem;
	for (uint32_t i = 0; i < nsem && i < 8; i++)
		ids[i] = i == 0 ? sem : 2;
	total = (uint32_t)((char *)(ids + (nsem < 8 ? nsem : 8)) - (char *)m) + extra;
	return send_msg(c, WIRE_EXECUTE_INLINE_COMMANDS, total, NULL, 0);
}
CALL_CASE(inl_good, inl, 1, 1, 12, 2, 1, 0, 0)
CALL_CASE(inl_zero_count, inl, 1, 0, 12, 1, 1, 0, 0)
CALL_CASE(inl_two_claimed, inl, 1, 2, 12, 1, 1, 0, 0)
CALL_CASE(inl_size_past, inl, 1, 1, 12, 1, 1, 0, 4096)
CALL_CASE(inl_sem, inl, 1, 1, 12, 1, 33, 0, 0)
CALL_CASE(inl_trailing, inl, 1, 1, 12, 1, 1, 8, 0)
CALL_CASE(inl_ctx, inl, 2, 1, 12, 1, 1, 0, 0)
CALL_CASE(inl_many_sems, inl, 1, 1, 12, 0xffffffffu, 1, 0, 0)
CALL_CASE(inl_zero_size, inl, 1, 1, 0, 1, 1, 0, 0)

CASE(flush_long)
{
	MSG(struct wire_flush);
	return send_msg(c, WIRE_FLUSH, 16 + 8, NULL, 0);
}
CASE(release_fd)
{
	int fd = tc_eventfd(), r;
	MSG(struct wire_flush);
	r = send_msg(c, WIRE_CONNECTION_RELEASE, sizeof(struct wire_flush), &fd, 1);
	close(fd);
	return r;
}
CASE(release_good)
{
	MSG(struct wire_flush);
	return send_msg(c, WIRE_CONNECTION_RELEASE, sizeof(struct wire_flush), NULL, 0);
}

/* A token that is not the device's token file is refused in the reply; the connection stays
 * open. */
CASE(access_denied_then_use)
{
	struct wire_perf_counters *m;
	int fd = tc_eventfd(), r;

	MSG(struct wire_enable_perf_access);
	r = send_msg(c, WIRE_ENABLE_PERF_ACCESS, sizeof(struct wire_enable_perf_access), &fd, 1);
	close(fd);
	if (r || tc_flush(c) != MAGMA_STATUS_OK)
		return -1;
	m = MSG(struct wire_perf_counters);
	m->count = 0;
	return send_msg(c, WIRE_ENABLE_PERF_COUNTERS, sizeof(*m), NULL, 0);
}
CASE(access_nofd)
{
	MSG(struct wire_enable_perf_access);
	return send_msg(c, WIRE_ENABLE_PERF_ACCESS, sizeof(struct wire_enable_perf_access), NULL,
			0);
}

static int counters(struct tc_conn *c, uint32_t type, uint64_t count, uint32_t real)
{
	struct wire_perf_counters *m = MSG(struct wire_perf_counters);
	uint64_t *ids = (void *)(m + 1);

	m->count = count;
	for (uint32_t i = 0; i < real; i++)
		ids[i] = i;
	return send_msg(c, type, (uint32_t)(sizeof(*m) + real * 8), NULL, 0);
}
CALL_CASE(pc_enable_good, counters, WIRE_ENABLE_PERF_COUNTERS, 2, 2)
CALL_CASE(pc_enable_lie, counters, WIRE_ENABLE_PERF_COUNTERS, 3, 2)
CALL_CASE(pc_enable_huge, counters, WIRE_ENABLE_PERF_COUNTERS, ~0ull / 4, 2)
CALL_CASE(pc_clear_good, counters, WIRE_CLEAR_PERF_COUNTERS, 1, 1)
CALL_CASE(pc_clear_lie, counters, WIRE_CLEAR_PERF_COUNTERS, 0, 1)

static int pool(struct tc_conn *c, uint32_t type, uint64_t id, int sock_type)
{
	struct wire_perf_pool *m = MSG(struct wire_perf_pool);
	int sv[2], r;

	m->pool_id = id;
	if (!sock_type)
		return send_msg(c, type, sizeof(*m), NULL, 0);
	if (socketpair(AF_UNIX, sock_type | SOCK_CLOEXEC, 0, sv))
		return -errno;
	r = send_msg(c, type, sizeof(*m), &sv[1], 1);
	close(sv[0]);
	close(sv[1]);
	return r;
}
CALL_CASE(pool_good, pool, WIRE_CREATE_PERF_POOL, 2, SOCK_SEQPACKET)
CALL_CASE(pool_stream, pool, WIRE_CREATE_PERF_POOL, 2, SOCK_STREAM)
CALL_CASE(pool_zero, pool, WIRE_CREATE_PERF_POOL, 0, SOCK_SEQPACKET)
CALL_CASE(pool_dup, pool, WIRE_CREATE_PERF_POOL, 1, SOCK_SEQPACKET)
CALL_CASE(pool_nofd, pool, WIRE_CREATE_PERF_POOL, 2, 0)
CALL_CASE(rpool_good, pool, WIRE_RELEASE_PERF_POOL, 1, 0)
CALL_CASE(rpool_unknown, pool, WIRE_RELEASE_PERF_POOL, 3, 0)

static int add_offsets(struct tc_conn *c, uint64_t pool_id, uint64_t count, uint32_t real,
		       uint64_t buffer, uint64_t off, uint64_t len)
{
	struct wire_add_perf_offsets *m = MSG(struct wire_add_perf_offsets);
	struct magma_buffer_offset *o = (void *)(m + 1);

	m->pool_id = pool_id;
	m->count = count;
	for (uint32_t i = 0; i < real; i++)
		o[i] = (struct magma_buffer_offset){buffer, off + i * 0x1000, len};
	return send_msg(c, WIRE_ADD_PERF_OFFSETS, (uint32_t)(sizeof(*m) + real * sizeof(*o)), NULL,
			0);
}
CALL_CASE(offs_good, add_offsets, 1, 2, 2, 2, 0, 0x1000)
CALL_CASE(offs_zero, add_offsets, 1, 0, 0, 2, 0, 0x1000)
CALL_CASE(offs_lie, add_offsets, 1, 3, 2, 2, 0, 0x1000)
CALL_CASE(offs_buffer, add_offsets, 1, 1, 1, 9, 0, 0x1000)
CALL_CASE(offs_range, add_offsets, 1, 1, 1, 2, KB64 - 0x800, 0x1000)
CALL_CASE(offs_pool, add_offsets, 4, 1, 1, 2, 0, 0x1000)

static int remove_buf(struct tc_conn *c, uint64_t pool_id, uint64_t buffer)
{
	struct wire_remove_perf_buffer *m = MSG(struct wire_remove_perf_buffer);

	m->pool_id = pool_id;
	m->buffer_id = buffer;
	return send_msg(c, WIRE_REMOVE_PERF_BUFFER, sizeof(*m), NULL, 0);
}
CASE(rmbuf_good)
{
	offs_good(c);
	return remove_buf(c, 1, 2);
}
CALL_CASE(rmbuf_pool, remove_buf, 2, 2)
CALL_CASE(rmbuf_buffer, remove_buf, 1, 12)

static int dump(struct tc_conn *c, uint64_t pool_id, uint32_t reserved)
{
	struct wire_dump_perf *m = MSG(struct wire_dump_perf);

	m->pool_id = pool_id;
	m->trigger_id = 77;
	m->reserved = reserved;
	return send_msg(c, WIRE_DUMP_PERF_COUNTERS, sizeof(*m), NULL, 0);
}
CALL_CASE(dump_good, dump, 1, 0)
CALL_CASE(dump_pool, dump, 2, 0)
CALL_CASE(dump_reserved, dump, 1, 1)

CASE(unknown_type)
{
	MSG(struct wire_flush);
	return send_msg(c, 0x1fff, 16, NULL, 0);
}
CASE(reply_type)
{
	MSG(struct wire_flush);
	return send_msg(c, WIRE_RESP(79), 16, NULL, 0);
}
CASE(device_type)
{
	struct wire_device_query *m = MSG(struct wire_device_query);
	return send_msg(c, WIRE_DEVICE_QUERY, sizeof(*m), NULL, 0);
}
CASE(garbage_size)
{
	struct wire_hdr *h = (void *)MSG(struct wire_flush);
	h->type = WIRE_FLUSH;
	h->size = 13;
	return (int)write(c->primary, h, 16) == 16 ? 0 : -1;
}
CASE(garbage_huge)
{
	struct wire_hdr *h = (void *)MSG(struct wire_flush);
	h->type = WIRE_FLUSH;
	h->size = WIRE_MAX_MESSAGE + 8;
	return (int)write(c->primary, h, 16) == 16 ? 0 : -1;
}
CASE(fd_count_lie)
{
	struct wire_release_buffer *m = MSG(struct wire_release_buffer);
	int fd = tc_eventfd(), r;
	m->hdr.type = WIRE_RELEASE_BUFFER;
	m->hdr.size = sizeof(*m);
	m->hdr.fd_count = 0;
	m->buffer_id = 2;
	r = wire_send(c->primary, m, sizeof(*m), &fd, 1);
	close(fd);
	return r;
}
CASE(fd_count_claim)
{
	struct wire_release_buffer *m = MSG(struct wire_release_buffer);
	m->hdr.type = WIRE_RELEASE_BUFFER;
	m->hdr.size = sizeof(*m);
	m->hdr.fd_count = 1;
	m->buffer_id = 2;
	return wire_send(c->primary, m, sizeof(*m), NULL, 0);
}
CASE(truncated_then_close)
{
	struct wire_release_buffer *m = MSG(struct wire_release_buffer);
	m->hdr.type = WIRE_RELEASE_BUFFER;
	m->hdr.size = sizeof(*m);
	m->buffer_id = 2;
	if (write(c->primary, m, 12) != 12)
		return -1;
	shutdown(c->primary, SHUT_WR);
	return 0;
}

struct vcase {
	const char *name;
	int (*fn)(struct tc_conn *c);
	magma_status_t expect; /* what the following flush sees */
	int perf;	       /* set up performance access and pool 1 */
};

#define C(fn, st)                                                                                  \
	{                                                                                          \
#fn, fn, st, 1                                                                     \
	}
#define CNP(fn, st)                                                                                \
	{                                                                                          \
#fn, fn, st, 0                                                                     \
	}
static const struct vcase cases[] = {
	C(ctx_good, OK),
	C(ctx_zero, INVAL),
	C(ctx_dup, INVAL),
	C(ctx_prio, INVAL),
	C(ctx_reserved, INVAL),
	C(ctx_short, INVAL),
	C(ctx_long, INVAL),
	C(ctx_fd, INVAL),
	C(ctx_hdr_flags, INVAL),
	C(rctx_good, OK),
	C(rctx_unknown, INVAL),
	C(rctx_double, INVAL),
	C(rctx_reserved, INVAL),
	C(ibuf_good, OK),
	C(ibuf_zero_id, INVAL),
	C(ibuf_dup, INVAL),
	C(ibuf_nofd, INVAL),
	C(ibuf_twofds, INVAL),
	C(ibuf_eventfd, INVAL),
	C(ibuf_size, INVAL),
	C(ibuf_empty, INVAL),
	C(ibuf_unsealable, INVAL),
	C(ibuf_write_sealed, INVAL),
	C(ibuf_regular_file, INVAL),
	C(rbuf_good, OK),
	C(rbuf_mapped, OK),
	C(rbuf_unknown, INVAL),
	C(rbuf_double, INVAL),
	C(isem_good, OK),
	C(isem_zero, INVAL),
	C(isem_dup, INVAL),
	C(isem_memfd, INVAL),
	C(isem_flags, INVAL),
	C(isem_nofd, INVAL),
	C(rsem_good, OK),
	C(rsem_unknown, INVAL),
	C(rsem_double, INVAL),
	C(op_good, OK),
	C(op_depop, OK),
	C(op_commit, INVAL),
	C(op_bad, INVAL),
	C(op_unaligned, INVAL),
	C(op_empty, INVAL),
	C(op_range, INVAL),
	C(op_overflow, INVAL),
	C(op_unknown, INVAL),
	C(map_good, OK),
	C(map_vendor, VENDOR_MAP_STATUS),
	C(map_adjacent, OK),
	C(map_overlap, INVAL),
	C(map_overlap_below, INVAL),
	C(map_same, INVAL),
	C(map_va_unaligned, INVAL),
	C(map_off_unaligned, INVAL),
	C(map_len_unaligned, INVAL),
	C(map_empty, INVAL),
	C(map_range, INVAL),
	C(map_overflow, INVAL),
	C(map_wrap, INVAL),
	C(map_flags, INVAL),
	C(map_unknown, INVAL),
	C(unmap_good, OK),
	C(unmap_double, INVAL),
	C(unmap_wrong_buffer, INVAL),
	C(unmap_inside, INVAL),
	C(unmap_unknown, INVAL),
	C(exec_good, OK),
	C(exec_short, INVAL),
	C(exec_long, INVAL),
	C(exec_count_overflow, INVAL),
	C(exec_count_lie, INVAL),
	C(exec_ctx, INVAL),
	C(exec_buffer, INVAL),
	C(exec_res_range, INVAL),
	C(exec_res_overflow, INVAL),
	C(exec_cb_index, INVAL),
	C(exec_cb_start, INVAL),
	C(exec_sem, INVAL),
	C(exec_flags, INVAL),
	C(exec_no_cb, OK),
	C(inl_good, OK),
	C(inl_zero_count, INVAL),
	C(inl_two_claimed, INVAL),
	C(inl_size_past, INVAL),
	C(inl_sem, INVAL),
	C(inl_trailing, INVAL),
	C(inl_ctx, INVAL),
	C(inl_many_sems, INVAL),
	C(inl_zero_size, INVAL),
	C(flush_long, INVAL),
	C(release_fd, INVAL),
	C(release_good, LOST),
	C(access_nofd, INVAL),
	CNP(access_denied_then_use, DENIED),
	C(pc_enable_good, OK),
	C(pc_enable_lie, INVAL),
	C(pc_enable_huge, INVAL),
	C(pc_clear_good, OK),
	C(pc_clear_lie, INVAL),
	CNP(pc_enable_good, DENIED),
	CNP(pc_clear_good, DENIED),
	C(pool_good, OK),
	C(pool_stream, INVAL),
	C(pool_zero, INVAL),
	C(pool_dup, INVAL),
	C(pool_nofd, INVAL),
	CNP(pool_good, DENIED),
	C(rpool_good, OK),
	C(rpool_unknown, INVAL),
	C(offs_good, OK),
	C(offs_zero, INVAL),
	C(offs_lie, INVAL),
	C(offs_buffer, INVAL),
	C(offs_range, INVAL),
	C(offs_pool, INVAL),
	C(rmbuf_good, OK),
	C(rmbuf_pool, INVAL),
	C(rmbuf_buffer, INVAL),
	C(dump_good, OK),
	C(dump_pool, INVAL),
	C(dump_reserved, INVAL),
	C(unknown_type, INVAL),
	C(reply_type, INVAL),
	C(device_type, INVAL),
	C(garbage_size, INVAL),
	C(garbage_huge, INVAL),
	C(fd_count_lie, INVAL),
	C(fd_count_claim, INVAL),
	C(truncated_then_close, LOST),
};

/*
 * Connections close asynchronously (their threads reap lazily): wait up to 2 s until only the
 * caller's own connection is left, and return the count then.
 */
static uint32_t wait_one_connection(void)
{
	for (int i = 0; i < 400 && magma_system_device_connection_count(g_dev) != 1; i++)
		usleep(5000);
	return magma_system_device_connection_count(g_dev);
}

static void test_every_message_type(void)
{
	struct tc_conn b;
	int baseline;

	REQUIRE(tc_create_connection(g_devfd, &b) == OK);
	REQUIRE(tc_flush(&b) == OK);
	REQUIRE_EQ(wait_one_connection(), 1);
	baseline = live_objects();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vcase *vc = &cases[i];
		struct tc_conn a;
		magma_status_t got;

		REQUIRE(tc_create_connection(g_devfd, &a) == OK);
		CHECK(setup_state(&a, vc->perf) == 0);
		if (tc_flush(&a) != OK) {
			fprintf(stderr, "case %s: setup failed\n", vc->name);
			CHECK(0);
			tc_close(&a);
			continue;
		}
		vc->fn(&a);
		got = tc_flush(&a);
		if (got != vc->expect) {
			fprintf(stderr, "case %s: flush %d, expected %d\n", vc->name, got,
				vc->expect);
			CHECK(0);
		}
		if (vc->expect != OK)
			CHECK_EQ(tc_flush(&a), LOST); /* closed for good */
		/* The other connection keeps working. */
		CHECK_EQ(tc_flush(&b), OK);
		tc_close(&a);
	}
	/* Every MSD object of the closed connections is gone (the service reaps lazily). */
	CHECK_EQ(wait_one_connection(), 1);
	CHECK_EQ(live_objects(), baseline);
	tc_close(&b);
}

/* xorshift64: a fixed sequence, so a failure reproduces. */
static uint64_t fuzz_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

/* A word that often names an existing object, a page-aligned value or an edge. */
static uint64_t fuzz_word(uint64_t *st)
{
	static const uint64_t picks[] = {0,
					 1,
					 2,
					 3,
					 0x1000,
					 0x100000,
					 0x4000,
					 KB64,
					 ~0ull,
					 0x8000000000000000ull,
					 MAGMA_PRIORITY_MEDIUM};
	uint64_t r = fuzz_next(st);

	if (r % 4 == 0)
		return fuzz_next(st);
	return picks[(r >> 8) % (sizeof(picks) / sizeof(picks[0]))] |
	       ((r >> 16) % 8 == 0 ? (fuzz_next(st) & 0xffffffff00000000ull) : 0);
}

/*
 * Garbage that keeps the framing: known and unknown types, random sizes, bodies biased to hit
 * existing ids, random fds. Whatever the service answers, it must not crash or hang, it must
 * close at most that connection, and it must leak nothing.
 */
static void test_garbage(void)
{
	static const uint32_t types[] = {
		WIRE_CONNECTION_RELEASE,
		WIRE_RELEASE_CONTEXT,
		WIRE_RELEASE_BUFFER,
		WIRE_EXECUTE_INLINE_COMMANDS,
		WIRE_RELEASE_SEMAPHORE,
		WIRE_ENABLE_PERF_ACCESS,
		WIRE_ENABLE_PERF_COUNTERS,
		WIRE_CREATE_PERF_POOL,
		WIRE_RELEASE_PERF_POOL,
		WIRE_ADD_PERF_OFFSETS,
		WIRE_REMOVE_PERF_BUFFER,
		WIRE_DUMP_PERF_COUNTERS,
		WIRE_CLEAR_PERF_COUNTERS,
		WIRE_PERFORM_BUFFER_OP,
		WIRE_FLUSH,
		WIRE_EXECUTE_COMMAND,
		WIRE_MAP_BUFFER,
		WIRE_UNMAP_BUFFER,
		WIRE_IMPORT_BUFFER,
		WIRE_IMPORT_SEMAPHORE,
		WIRE_CREATE_CONTEXT,
		WIRE_DEVICE_QUERY,
		0x1077,
		0x4001,
	};
	uint64_t st = 0x9e3779b97f4a7c15ull;
	struct tc_conn b;
	int baseline, closed = 0;

	REQUIRE(tc_create_connection(g_devfd, &b) == OK);
	REQUIRE(tc_flush(&b) == OK);
	/* Earlier tests' connections close asynchronously: count objects once only b is left. */
	REQUIRE_EQ(wait_one_connection(), 1);
	baseline = live_objects();
	for (int iter = 0; iter < 300; iter++) {
		uint32_t words = 1 + (uint32_t)(fuzz_next(&st) % 24);
		uint32_t nfds = (uint32_t)(fuzz_next(&st) % 3), type;
		int fds[2], sv[2] = {-1, -1};
		struct tc_conn a;
		magma_status_t got;

		REQUIRE(tc_create_connection(g_devfd, &a) == OK);
		CHECK(setup_state(&a, (int)(fuzz_next(&st) & 1)) == 0);
		memset(g_buf, 0, sizeof(g_buf));
		for (uint32_t w = 2; w < 2 + words; w++)
			g_buf[w] = fuzz_word(&st);
		type = types[fuzz_next(&st) % (sizeof(types) / sizeof(types[0]))];
		for (uint32_t f = 0; f < nfds; f++) {
			switch (fuzz_next(&st) % 3) {
			case 0:
				fds[f] = tc_memfd(KB64);
				break;
			case 1:
				fds[f] = tc_eventfd();
				break;
			default:
				if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) ==
				    0) {
					fds[f] = sv[1];
					close(sv[0]);
				} else {
					fds[f] = tc_eventfd();
				}
				break;
			}
		}
		CHECK_EQ(send_msg(&a, type, 16 + words * 8, fds, nfds), 0);
		for (uint32_t f = 0; f < nfds; f++)
			close(fds[f]);
		got = tc_flush(&a);
		CHECK(got != MAGMA_STATUS_TIMED_OUT);
		closed += got != OK;
		CHECK_EQ(tc_flush(&b), OK);
		tc_close(&a);
	}
	CHECK(closed > 100); /* most garbage is refused */
	CHECK_EQ(wait_one_connection(), 1);
	CHECK_EQ(live_objects(), baseline);
	tc_close(&b);
}

static void test_device_channel(void)
{
	struct wire_device_query *q;
	struct tc_conn c;
	uint64_t result = 0;
	int fd, sv[2], buf_fd;
	char data[8] = {0};

	/* Queries: the MSD's, a buffer result as an fd, and the service's own. */
	fd = tc_open_device(g_dev);
	REQUIRE(fd >= 0);
	CHECK_EQ(tc_query(fd, MAGMA_QUERY_VENDOR_ID, &result, &buf_fd), OK);
	CHECK_EQ(result, TEST_VENDOR_ID);
	CHECK_EQ(buf_fd, -1);
	CHECK_EQ(tc_query(fd, TEST_BUFFER_QUERY, &result, &buf_fd), OK);
	REQUIRE(buf_fd >= 0);
	CHECK_EQ(pread(buf_fd, data, 4, 0), 4);
#ifndef MAGMA_SYSTEM_TEST_REAL_MSD
	CHECK(memcmp(data, "fake", 4) == 0);
#endif
	close(buf_fd);
	CHECK_EQ(tc_query(fd, MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS, &result, &buf_fd), OK);
	CHECK_EQ(result >> 32, 1000);
	CHECK_EQ(result & 0xffffffffu, 1024);
	CHECK_EQ(tc_query(fd, 12345, &result, &buf_fd), INVAL);
	/* The channel survives a failing query; a connection can still be made. */
	CHECK_EQ(tc_create_connection(fd, &c), OK);
	CHECK_EQ(tc_flush(&c), OK);
	tc_close(&c);
	/* Wrong fd kinds for create_connection close the device channel. */
	q = MSG(struct wire_device_query);
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	{
		int fds[2] = {sv[1], sv[1]};

		CHECK_EQ(tc_send(fd, g_buf, sizeof(struct wire_create_connection),
				 WIRE_DEVICE_CREATE_CONNECTION, fds, 2),
			 0);
	}
	CHECK_EQ(tc_query(fd, MAGMA_QUERY_VENDOR_ID, &result, &buf_fd), LOST);
	close(sv[0]);
	close(sv[1]);
	close(fd);
	(void)q;

	/* A wrong protocol version is refused; nothing else is allowed before the handshake. */
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	REQUIRE(magma_system_device_serve(g_dev, sv[1]) == 0);
	CHECK_EQ(tc_handshake(sv[0], WIRE_PROTOCOL_VERSION + 1), INVAL);
	CHECK_EQ(tc_handshake(sv[0], WIRE_PROTOCOL_VERSION), LOST);
	close(sv[0]);
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	REQUIRE(magma_system_device_serve(g_dev, sv[1]) == 0);
	CHECK_EQ(tc_query(sv[0], MAGMA_QUERY_VENDOR_ID, &result, &buf_fd), LOST);
	close(sv[0]);
}

/* The service logs every rejected message; the tests provoke thousands. */
static int process_setup(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	setenv("MAGMA_SYSTEM_QUIET", "1", 1);
	return SIM_TEST_CONTINUE;
}

#ifdef MAGMA_SYSTEM_TEST_REAL_MSD
static struct magma_system_embedded *g_emb;
#endif

/* Every test gets a fresh device (embedded, on the real driver) and a channel to it... */
static void setup(void)
{
#ifdef MAGMA_SYSTEM_TEST_REAL_MSD
	g_emb = magma_system_embedded_create(NULL);
	REQUIRE(g_emb != NULL);
	g_dev = magma_system_embedded_device(g_emb);
#else
	g_dev = magma_system_device_create(NULL);
#endif
	REQUIRE(g_dev != NULL);
	g_devfd = tc_open_device(g_dev);
	REQUIRE(g_devfd >= 0);
}

/* ...and, on the fake MSD, no object of it may be left once the device is destroyed. */
static void teardown(void)
{
	if (g_devfd >= 0)
		close(g_devfd);
	g_devfd = -1;
#ifdef MAGMA_SYSTEM_TEST_REAL_MSD
	magma_system_embedded_destroy(g_emb);
	g_emb = NULL;
#else
	magma_system_device_destroy(g_dev);
	CHECK_EQ(live_objects(), 0);
#endif
	g_dev = NULL;
}

static const struct sim_test tests[] = {
	SIM_TEST(test_every_message_type),
	SIM_TEST(test_garbage),
	SIM_TEST(test_device_channel),
};

const struct sim_test_suite sim_tests = {
	.tests = tests,
	.count = SIM_TEST_COUNT(tests),
	.process_setup = process_setup,
	.setup = setup,
	.teardown = teardown,
};
