/* SPDX-License-Identifier: MIT */
/*
 * magma_system_validate.c - every check a message must pass before anything reaches the MSD.
 *
 * Table-driven: each message type has one row giving its fixed size, whether trailing arrays
 * follow, how many fds it carries and of which kind, and a checker for its fields. The generic
 * part enforces hdr.flags == 0, the exact size (a fixed-size message must be exactly its struct;
 * a message with trailing arrays must be exactly the struct plus the arrays its counts describe,
 * computed in 64 bits from counts bounded first, so nothing can overflow), the exact fd count
 * and each fd's kind (memfd for buffers, eventfd for semaphores, stream or seqpacket Unix sockets
 * for channels). The per-type checker then looks at ids against the connection's handle tables
 * (non-zero and unused for creates, existing for uses), flags, alignment and ranges.
 *
 * Every failure is MAGMA_STATUS_INVALID_ARGS except: too many objects or entries
 * (MAGMA_STATUS_MEMORY_ERROR) and performance-counter use before access was granted
 * (MAGMA_STATUS_ACCESS_DENIED). The caller closes the connection on any failure. Pure functions
 * of the message and the (read-only) handle tables, with one deliberate side effect: a buffer's
 * memfd is sealed against shrinking before its size is checked (magma_system_memfd_seal), and
 * one that cannot be sealed is refused, because nothing may map pages their owner can still
 * truncate away. Connection thread only.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "magma_system_internal.h"

enum fd_kind {
	FD_ANY = 1,
	FD_MEMFD,
	FD_EVENTFD,
	FD_STREAM_SOCKET,
	FD_SEQPACKET_SOCKET,
};

struct validator {
	uint32_t type;
	uint32_t size; /* the fixed struct */
	bool trailing; /* arrays follow: the checker verifies hdr.size exactly */
	uint32_t fd_count;
	uint8_t fd_kinds[2];
	magma_status_t (*check)(const struct magma_system_connection *conn,
				const struct wire_msg *msg);
};

#define INVALID(why) validate_fail(MAGMA_STATUS_INVALID_ARGS, __func__, why)

static magma_status_t validate_fail(magma_status_t status, const char *fn, const char *why)
{
	magma_system_log(MAGMA_LOG_WARNING, "rejected message (%s): %s", fn, why);
	return status;
}

/* magma_system_fd_is_memfd - whether @fd is a memfd (sealing works only on those); its size. */
bool magma_system_fd_is_memfd(int fd, uint64_t *size_out)
{
	struct stat st;

	if (fcntl(fd, F_GET_SEALS) < 0)
		return false;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return false;
	if (size_out)
		*size_out = (uint64_t)st.st_size;
	return true;
}

/*
 * magma_system_memfd_seal - makes memfd @fd safe to map into the service: adds F_SEAL_SHRINK
 * (seals only ever accumulate, so once added no holder can take pages away from under a mapping
 * and make the service or the GPU fault on them), then checks the result. True iff @fd is now
 * sealed against shrinking and not against writing (the GPU writes buffers through a shared
 * writable mapping). False for a memfd created without MFD_ALLOW_SEALING (it carries F_SEAL_SEAL
 * from birth, so nothing can be added) or one whose owner sealed the seals before shrinking.
 * Any thread.
 */
bool magma_system_memfd_seal(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals >= 0 && !(seals & F_SEAL_SHRINK) && !fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK))
		seals = fcntl(fd, F_GET_SEALS);
	return seals >= 0 && (seals & F_SEAL_SHRINK) &&
	       !(seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE));
}

/* magma_system_fd_is_eventfd - whether @fd is an eventfd (by its anon-inode name). */
bool magma_system_fd_is_eventfd(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[eventfd]") == 0;
}

/* magma_system_fd_is_socket - whether @fd is a Unix socket of SOCK_* @type. */
bool magma_system_fd_is_socket(int fd, int type)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int t = 0;
	socklen_t tl = sizeof(t);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &tl) || t != type)
		return false;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) || ss.ss_family != AF_UNIX)
		return false;
	return true;
}

static bool fd_has_kind(int fd, uint8_t kind)
{
	switch (kind) {
	case FD_ANY:
		return fcntl(fd, F_GETFD) >= 0;
	case FD_MEMFD:
		return magma_system_fd_is_memfd(fd, NULL);
	case FD_EVENTFD:
		return magma_system_fd_is_eventfd(fd);
	case FD_STREAM_SOCKET:
		return magma_system_fd_is_socket(fd, SOCK_STREAM);
	case FD_SEQPACKET_SOCKET:
		return magma_system_fd_is_socket(fd, SOCK_SEQPACKET);
	default:
		return false;
	}
}

static bool page_aligned(uint64_t v)
{
	return (v & (MAGMA_SYSTEM_PAGE_SIZE - 1)) == 0;
}

/* Whether [offset, offset + length) lies inside [0, size), without overflow. */
static bool range_inside(uint64_t offset, uint64_t length, uint64_t size)
{
	return offset <= size && length <= size - offset;
}

static const struct magma_system_buffer *buffer_of(const struct magma_system_connection *conn,
						   uint64_t id)
{
	return magma_system_table_find(&conn->handles.buffers, id);
}

static bool semaphore_exists(const struct magma_system_connection *conn, uint64_t id)
{
	return magma_system_table_find(&conn->handles.semaphores, id) != NULL;
}

static magma_status_t check_none(const struct magma_system_connection *conn,
				 const struct wire_msg *msg)
{
	(void)conn;
	(void)msg;
	return MAGMA_STATUS_OK;
}

static magma_status_t check_create_context(const struct magma_system_connection *conn,
					   const struct wire_msg *msg)
{
	const struct wire_create_context *m = (const void *)msg->hdr;

	if (m->context_id == 0 || m->reserved)
		return INVALID("zero context id or reserved bits");
	if (magma_system_table_find(&conn->handles.contexts, m->context_id))
		return INVALID("context id in use");
	if (m->priority != MAGMA_PRIORITY_LOW && m->priority != MAGMA_PRIORITY_MEDIUM &&
	    m->priority != MAGMA_PRIORITY_HIGH && m->priority != MAGMA_PRIORITY_REALTIME)
		return INVALID("bad priority");
	if (conn->handles.contexts.count >= conn->handles.contexts.limit)
		return validate_fail(MAGMA_STATUS_MEMORY_ERROR, __func__, "too many contexts");
	return MAGMA_STATUS_OK;
}

static magma_status_t check_release_context(const struct magma_system_connection *conn,
					    const struct wire_msg *msg)
{
	const struct wire_release_context *m = (const void *)msg->hdr;

	if (m->reserved)
		return INVALID("reserved bits");
	if (!magma_system_table_find(&conn->handles.contexts, m->context_id))
		return INVALID("unknown context id");
	return MAGMA_STATUS_OK;
}

static magma_status_t check_import_buffer(const struct magma_system_connection *conn,
					  const struct wire_msg *msg)
{
	const struct wire_import_buffer *m = (const void *)msg->hdr;
	uint64_t size = 0;

	if (m->buffer_id == 0)
		return INVALID("zero buffer id");
	if (buffer_of(conn, m->buffer_id))
		return INVALID("buffer id in use");
	/* Sealed first: the size read after it can only grow, never shrink under a mapping. */
	if (!magma_system_memfd_seal(msg->fds[0]))
		return INVALID(
			"memfd cannot be sealed against shrinking, or is sealed against writes");
	if (!magma_system_fd_is_memfd(msg->fds[0], &size) || size == 0 || size != m->size)
		return INVALID("size differs from the memfd's or is zero");
	if (conn->handles.buffers.count >= conn->handles.buffers.limit)
		return validate_fail(MAGMA_STATUS_MEMORY_ERROR, __func__, "too many buffers");
	return MAGMA_STATUS_OK;
}

static magma_status_t check_release_buffer(const struct magma_system_connection *conn,
					   const struct wire_msg *msg)
{
	const struct wire_release_buffer *m = (const void *)msg->hdr;

	if (!buffer_of(conn, m->buffer_id))
		return INVALID("unknown buffer id");
	return MAGMA_STATUS_OK;
}

static magma_status_t check_import_semaphore(const struct magma_system_connection *conn,
					     const struct wire_msg *msg)
{
	const struct wire_import_semaphore *m = (const void *)msg->hdr;

	if (m->semaphore_id == 0)
		return INVALID("zero semaphore id");
	if (semaphore_exists(conn, m->semaphore_id))
		return INVALID("semaphore id in use");
	if (m->flags & ~MAGMA_IMPORT_SEMAPHORE_ONE_SHOT)
		return INVALID("unknown import flags");
	if (conn->handles.semaphores.count >= conn->handles.semaphores.limit)
		return validate_fail(MAGMA_STATUS_MEMORY_ERROR, __func__, "too many semaphores");
	return MAGMA_STATUS_OK;
}

static magma_status_t check_release_semaphore(const struct magma_system_connection *conn,
					      const struct wire_msg *msg)
{
	const struct wire_release_semaphore *m = (const void *)msg->hdr;

	if (!semaphore_exists(conn, m->semaphore_id))
		return INVALID("unknown semaphore id");
	return MAGMA_STATUS_OK;
}

static magma_status_t check_buffer_op(const struct magma_system_connection *conn,
				      const struct wire_msg *msg)
{
	const struct wire_perform_buffer_op *m = (const void *)msg->hdr;
	const struct magma_system_buffer *b = buffer_of(conn, m->buffer_id);

	if (!b)
		return INVALID("unknown buffer id");
	if (m->reserved)
		return INVALID("reserved bits");
	if (m->options != MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES &&
	    m->options != MAGMA_BUFFER_RANGE_OP_DEPOPULATE_TABLES)
		return INVALID("range op is not POPULATE/DEPOPULATE_TABLES");
	if (!page_aligned(m->start_offset) || !page_aligned(m->length) || m->length == 0)
		return INVALID("unaligned or empty range");
	if (!range_inside(m->start_offset, m->length, b->size))
		return INVALID("range outside the buffer");
	return MAGMA_STATUS_OK;
}

static magma_status_t check_map_buffer(const struct magma_system_connection *conn,
				       const struct wire_msg *msg)
{
	const uint64_t known = MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE | MAGMA_MAP_FLAG_EXECUTE |
			       MAGMA_MAP_FLAG_GROWABLE;
	const uint64_t vendor = ~((1ull << MAGMA_MAP_FLAG_VENDOR_SHIFT) - 1);
	const struct wire_map_buffer *m = (const void *)msg->hdr;
	const struct magma_system_buffer *b = buffer_of(conn, m->buffer_id);

	if (!b)
		return INVALID("unknown buffer id");
	if (m->flags & ~(known | vendor))
		return INVALID("unknown map flags");
	if (!page_aligned(m->hw_va) || !page_aligned(m->offset) || !page_aligned(m->length) ||
	    m->length == 0)
		return INVALID("unaligned or empty mapping");
	if (!range_inside(m->offset, m->length, b->size))
		return INVALID("mapping outside the buffer");
	if (m->hw_va + m->length < m->hw_va)
		return INVALID("mapping wraps the address space");
	if (magma_system_handles_mapping_overlaps(&conn->handles, m->hw_va, m->length))
		return INVALID("mapping overlaps another");
	if (conn->handles.mapping_count >= MAGMA_SYSTEM_MAX_MAPPINGS)
		return validate_fail(MAGMA_STATUS_MEMORY_ERROR, __func__, "too many mappings");
	return MAGMA_STATUS_OK;
}

static magma_status_t check_unmap_buffer(const struct magma_system_connection *conn,
					 const struct wire_msg *msg)
{
	const struct wire_unmap_buffer *m = (const void *)msg->hdr;
	const struct magma_system_mapping *map;

	if (!buffer_of(conn, m->buffer_id))
		return INVALID("unknown buffer id");
	map = magma_system_handles_find_mapping(&conn->handles, m->hw_va);
	if (!map || map->buffer_id != m->buffer_id)
		return INVALID("no mapping of this buffer at hw_va");
	return MAGMA_STATUS_OK;
}

static magma_status_t check_execute_command(const struct magma_system_connection *conn,
					    const struct wire_msg *msg)
{
	const struct wire_execute_command *m = (const void *)msg->hdr;
	const struct magma_exec_resource *res;
	const struct magma_exec_command_buffer *cb;
	const uint64_t *sems;
	uint64_t need;

	if (m->resource_count > MAGMA_SYSTEM_MAX_RESOURCES ||
	    m->command_buffer_count > MAGMA_SYSTEM_MAX_CMD_BUFFERS ||
	    m->wait_semaphore_count > MAGMA_SYSTEM_MAX_EXEC_SEMAPHORES ||
	    m->signal_semaphore_count > MAGMA_SYSTEM_MAX_EXEC_SEMAPHORES)
		return INVALID("count over the limit");
	need = sizeof(*m) + (uint64_t)m->resource_count * sizeof(*res) +
	       (uint64_t)m->command_buffer_count * sizeof(*cb) +
	       ((uint64_t)m->wait_semaphore_count + m->signal_semaphore_count) * sizeof(uint64_t);
	if (msg->hdr->size != need)
		return INVALID("size does not match the counts");
	if (m->reserved)
		return INVALID("reserved bits");
	if (m->flags & (MAGMA_COMMAND_BUFFER_VENDOR_FLAGS_0 - 1))
		return INVALID("non-vendor command flags");
	if (!magma_system_table_find(&conn->handles.contexts, m->context_id))
		return INVALID("unknown context id");
	res = (const void *)(m + 1);
	cb = (const void *)(res + m->resource_count);
	sems = (const void *)(cb + m->command_buffer_count);
	for (uint32_t i = 0; i < m->resource_count; i++) {
		const struct magma_system_buffer *b = buffer_of(conn, res[i].buffer_id);

		if (!b)
			return INVALID("unknown resource buffer id");
		if (!range_inside(res[i].offset, res[i].length, b->size))
			return INVALID("resource outside its buffer");
	}
	for (uint32_t i = 0; i < m->command_buffer_count; i++) {
		const struct magma_exec_resource *r;

		if (cb[i].resource_index >= m->resource_count || cb[i].unused)
			return INVALID("bad command buffer resource index");
		r = &res[cb[i].resource_index];
		if (cb[i].start_offset < r->offset || cb[i].start_offset >= r->offset + r->length)
			return INVALID("command buffer start outside its resource");
	}
	for (uint32_t i = 0; i < m->wait_semaphore_count + m->signal_semaphore_count; i++) {
		if (!semaphore_exists(conn, sems[i]))
			return INVALID("unknown semaphore id");
	}
	return MAGMA_STATUS_OK;
}

static magma_status_t check_execute_inline(const struct magma_system_connection *conn,
					   const struct wire_msg *msg)
{
	const struct wire_execute_inline *m = (const void *)msg->hdr;
	const uint8_t *p = (const uint8_t *)(m + 1);
	uint64_t left = msg->hdr->size - sizeof(*m);

	if (m->command_count == 0 || m->command_count > MAGMA_SYSTEM_MAX_CMD_BUFFERS)
		return INVALID("command count zero or over the limit");
	if (!magma_system_table_find(&conn->handles.contexts, m->context_id))
		return INVALID("unknown context id");
	for (uint32_t i = 0; i < m->command_count; i++) {
		struct wire_inline_command rec;
		uint64_t padded, ids;

		if (left < sizeof(rec))
			return INVALID("truncated inline record");
		memcpy(&rec, p, sizeof(rec));
		p += sizeof(rec);
		left -= sizeof(rec);
		if (rec.size == 0 || rec.size > left || rec.reserved)
			return INVALID("bad inline command size");
		padded = (rec.size + 7) & ~7ull;
		if (padded > left)
			return INVALID("inline data past the end");
		p += padded;
		left -= padded;
		if (rec.semaphore_count > MAGMA_SYSTEM_MAX_EXEC_SEMAPHORES)
			return INVALID("too many inline semaphores");
		ids = (uint64_t)rec.semaphore_count * sizeof(uint64_t);
		if (ids > left)
			return INVALID("semaphore ids past the end");
		for (uint32_t s = 0; s < rec.semaphore_count; s++) {
			uint64_t id;

			memcpy(&id, p + (size_t)s * sizeof(id), sizeof(id));
			if (!semaphore_exists(conn, id))
				return INVALID("unknown semaphore id");
		}
		p += ids;
		left -= ids;
	}
	if (left)
		return INVALID("bytes after the last inline command");
	return MAGMA_STATUS_OK;
}

static magma_status_t need_perf_access(const struct magma_system_connection *conn)
{
	if (!conn->perf_access)
		return validate_fail(MAGMA_STATUS_ACCESS_DENIED, "perf", "no performance access");
	return MAGMA_STATUS_OK;
}

static magma_status_t check_perf_counters(const struct magma_system_connection *conn,
					  const struct wire_msg *msg)
{
	const struct wire_perf_counters *m = (const void *)msg->hdr;

	if (m->count > MAGMA_SYSTEM_MAX_PERF_COUNTERS)
		return INVALID("too many counters");
	if (msg->hdr->size != sizeof(*m) + m->count * sizeof(uint64_t))
		return INVALID("size does not match the count");
	return need_perf_access(conn);
}

static magma_status_t check_create_pool(const struct magma_system_connection *conn,
					const struct wire_msg *msg)
{
	const struct wire_perf_pool *m = (const void *)msg->hdr;
	magma_status_t status = need_perf_access(conn);

	if (status != MAGMA_STATUS_OK)
		return status;
	if (m->pool_id == 0)
		return INVALID("zero pool id");
	if (magma_system_table_find(&conn->handles.pools, m->pool_id))
		return INVALID("pool id in use");
	if (conn->handles.pools.count >= conn->handles.pools.limit)
		return validate_fail(MAGMA_STATUS_MEMORY_ERROR, __func__, "too many pools");
	return MAGMA_STATUS_OK;
}

/*
 * Pool and counter calls check access before anything that needs it (a pool can only exist
 * with access): without it they fail with ACCESS_DENIED, as documented, not INVALID_ARGS.
 */
static magma_status_t check_pool_exists(const struct magma_system_connection *conn,
					uint64_t pool_id)
{
	magma_status_t status = need_perf_access(conn);

	if (status != MAGMA_STATUS_OK)
		return status;
	if (!magma_system_table_find(&conn->handles.pools, pool_id))
		return INVALID("unknown pool id");
	return MAGMA_STATUS_OK;
}

static magma_status_t check_release_pool(const struct magma_system_connection *conn,
					 const struct wire_msg *msg)
{
	return check_pool_exists(conn,
				 ((const struct wire_perf_pool *)(const void *)msg->hdr)->pool_id);
}

static magma_status_t check_add_offsets(const struct magma_system_connection *conn,
					const struct wire_msg *msg)
{
	const struct wire_add_perf_offsets *m = (const void *)msg->hdr;
	const struct magma_buffer_offset *o = (const void *)(m + 1);

	if (m->count == 0 || m->count > MAGMA_SYSTEM_MAX_RESOURCES)
		return INVALID("offset count zero or over the limit");
	if (msg->hdr->size != sizeof(*m) + m->count * sizeof(*o))
		return INVALID("size does not match the count");
	if (need_perf_access(conn) != MAGMA_STATUS_OK)
		return MAGMA_STATUS_ACCESS_DENIED;
	for (uint64_t i = 0; i < m->count; i++) {
		const struct magma_system_buffer *b = buffer_of(conn, o[i].buffer_id);

		if (!b)
			return INVALID("unknown buffer id");
		if (o[i].length == 0 || !range_inside(o[i].offset, o[i].length, b->size))
			return INVALID("offset range outside the buffer");
	}
	return check_pool_exists(conn, m->pool_id);
}

static magma_status_t check_remove_perf_buffer(const struct magma_system_connection *conn,
					       const struct wire_msg *msg)
{
	const struct wire_remove_perf_buffer *m = (const void *)msg->hdr;
	magma_status_t status = check_pool_exists(conn, m->pool_id);

	if (status != MAGMA_STATUS_OK)
		return status;
	if (!buffer_of(conn, m->buffer_id))
		return INVALID("unknown buffer id");
	return MAGMA_STATUS_OK;
}

static magma_status_t check_dump_perf(const struct magma_system_connection *conn,
				      const struct wire_msg *msg)
{
	const struct wire_dump_perf *m = (const void *)msg->hdr;

	if (m->reserved)
		return INVALID("reserved bits");
	return check_pool_exists(conn, m->pool_id);
}

/* clang-format off */
static const struct validator primary_validators[] = {
	{ WIRE_CONNECTION_RELEASE, sizeof(struct wire_flush), false, 0, {0}, check_none },
	{ WIRE_FLUSH, sizeof(struct wire_flush), false, 0, {0}, check_none },
	{ WIRE_ALLOC_OBJECT_IDS, sizeof(struct wire_alloc_object_ids), false, 0, {0},
	  check_none },
	{ WIRE_CREATE_CONTEXT, sizeof(struct wire_create_context), false, 0, {0},
	  check_create_context },
	{ WIRE_RELEASE_CONTEXT, sizeof(struct wire_release_context), false, 0, {0},
	  check_release_context },
	{ WIRE_IMPORT_BUFFER, sizeof(struct wire_import_buffer), false, 1, {FD_MEMFD},
	  check_import_buffer },
	{ WIRE_RELEASE_BUFFER, sizeof(struct wire_release_buffer), false, 0, {0},
	  check_release_buffer },
	{ WIRE_IMPORT_SEMAPHORE, sizeof(struct wire_import_semaphore), false, 1, {FD_EVENTFD},
	  check_import_semaphore },
	{ WIRE_RELEASE_SEMAPHORE, sizeof(struct wire_release_semaphore), false, 0, {0},
	  check_release_semaphore },
	{ WIRE_PERFORM_BUFFER_OP, sizeof(struct wire_perform_buffer_op), false, 0, {0},
	  check_buffer_op },
	{ WIRE_MAP_BUFFER, sizeof(struct wire_map_buffer), false, 0, {0}, check_map_buffer },
	{ WIRE_UNMAP_BUFFER, sizeof(struct wire_unmap_buffer), false, 0, {0}, check_unmap_buffer },
	{ WIRE_EXECUTE_COMMAND, sizeof(struct wire_execute_command), true, 0, {0},
	  check_execute_command },
	{ WIRE_EXECUTE_INLINE_COMMANDS, sizeof(struct wire_execute_inline), true, 0, {0},
	  check_execute_inline },
	{ WIRE_ENABLE_PERF_ACCESS, sizeof(struct wire_enable_perf_access), false, 1, {FD_ANY},
	  check_none },
	{ WIRE_ENABLE_PERF_COUNTERS, sizeof(struct wire_perf_counters), true, 0, {0},
	  check_perf_counters },
	{ WIRE_CLEAR_PERF_COUNTERS, sizeof(struct wire_perf_counters), true, 0, {0},
	  check_perf_counters },
	{ WIRE_CREATE_PERF_POOL, sizeof(struct wire_perf_pool), false, 1, {FD_SEQPACKET_SOCKET},
	  check_create_pool },
	{ WIRE_RELEASE_PERF_POOL, sizeof(struct wire_perf_pool), false, 0, {0},
	  check_release_pool },
	{ WIRE_ADD_PERF_OFFSETS, sizeof(struct wire_add_perf_offsets), true, 0, {0},
	  check_add_offsets },
	{ WIRE_REMOVE_PERF_BUFFER, sizeof(struct wire_remove_perf_buffer), false, 0, {0},
	  check_remove_perf_buffer },
	{ WIRE_DUMP_PERF_COUNTERS, sizeof(struct wire_dump_perf), false, 0, {0},
	  check_dump_perf },
};

static const struct validator device_validators[] = {
	{ WIRE_DEVICE_IMPORT, sizeof(struct wire_device_import), false, 0, {0}, check_none },
	{ WIRE_DEVICE_QUERY, sizeof(struct wire_device_query), false, 0, {0}, check_none },
	{ WIRE_DEVICE_CREATE_CONNECTION, sizeof(struct wire_create_connection), false, 2,
	  {FD_STREAM_SOCKET, FD_SEQPACKET_SOCKET}, check_none },
};
/* clang-format on */

static magma_status_t run_validator(const struct validator *table, size_t n,
				    const struct magma_system_connection *conn,
				    const struct wire_msg *msg)
{
	const struct wire_hdr *hdr = msg->hdr;
	const struct validator *v = NULL;

	for (size_t i = 0; i < n; i++) {
		if (table[i].type == hdr->type) {
			v = &table[i];
			break;
		}
	}
	if (!v)
		return INVALID("unknown message type");
	if (hdr->flags)
		return INVALID("header flags set");
	if (v->trailing ? hdr->size < v->size : hdr->size != v->size)
		return INVALID("wrong message size");
	if (hdr->fd_count != v->fd_count || msg->fd_count != v->fd_count)
		return INVALID("wrong fd count");
	for (uint32_t i = 0; i < v->fd_count; i++) {
		if (!fd_has_kind(msg->fds[i], v->fd_kinds[i]))
			return INVALID("wrong fd type");
	}
	return v->check(conn, msg);
}

/*
 * magma_system_validate - checks @msg (received on @conn's primary channel) completely against
 * the protocol and @conn's handle tables. Returns MAGMA_STATUS_OK or the status the connection
 * is closed with. Logs the reason. Connection thread only.
 */
magma_status_t magma_system_validate(const struct magma_system_connection *conn,
				     const struct wire_msg *msg)
{
	return run_validator(primary_validators,
			     sizeof(primary_validators) / sizeof(primary_validators[0]), conn, msg);
}

/*
 * magma_system_validate_device_msg - checks @msg received on a device channel (size, fds and
 * their kinds). MAGMA_STATUS_OK or INVALID_ARGS (the channel is then closed). Any thread.
 */
magma_status_t magma_system_validate_device_msg(const struct wire_msg *msg)
{
	return run_validator(device_validators,
			     sizeof(device_validators) / sizeof(device_validators[0]), NULL, msg);
}
