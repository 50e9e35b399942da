/* SPDX-License-Identifier: MIT */
/*
 * wire.h - the message protocol between libmagma (client) and magma_system (service).
 *
 * Channels. A *device channel* is a connected Unix stream socket to a service (what
 * magma_device_import takes). Creating a connection sends the service two fresh sockets over the
 * device channel: the connection's *primary channel* (stream socket; client requests, service
 * events and replies) and its *notification channel* (SOCK_SEQPACKET; one MSD notification per
 * packet, service -> client; it hangs up when the connection dies).
 *
 * Framing. Every message on a stream channel starts with struct wire_hdr and is hdr.size bytes
 * long in total (8-byte multiple, at most WIRE_MAX_MESSAGE). File descriptors travel with
 * SCM_RIGHTS attached to the first byte of the message; hdr.fd_count says how many (at most
 * WIRE_MAX_FDS). Integers are little-endian host order (both ends are on one machine).
 *
 * Numbering follows virtio-magma: a request is 0x1000 + the function's magma.json ordinal, its
 * reply 0x2000 + ordinal. Events the service sends unprompted use 0x4000+. Feed-forward: only
 * requests marked "reply" below are answered; all others are fire-and-forget and their errors
 * close the connection (after a WIRE_EVT_ERROR carrying the status).
 *
 * Ids. The client chooses every object id (buffer, semaphore, context, pool) itself, so creation
 * needs no round trip; the service rejects an id already in use (closing the connection).
 * Buffer and semaphore ids are device-wide, like kernel object ids: the service hands each
 * connection blocks of WIRE_OBJECT_ID_BLOCK ids from one device counter that never goes back
 * (the first block comes with the create-connection reply, later ones from
 * WIRE_ALLOC_OBJECT_IDS), and libmagma numbers every buffer and semaphore it creates or imports
 * from its blocks, so no two objects of a device share an id while the device lives. Context and
 * pool ids are per connection, as in Magma.
 *
 * Flow control. The service answers MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS with the most messages
 * and megabytes of imported buffers a client may have in flight, and sends
 * WIRE_EVT_MESSAGES_CONSUMED after it has processed a batch; a client at the limit blocks until
 * such an event arrives.
 *
 * Validation: the service checks every field of every message (sizes, counts against hdr.size,
 * fd_count, ids, ranges, flags) in magma/service before anything reaches the driver; a malformed
 * message closes that connection only.
 */
#ifndef WIRE_WIRE_H
#define WIRE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lib/magma/magma_common_defs.h>

/* clang-format off */
#define WIRE_CMD(ordinal)             (0x1000u + (ordinal))
#define WIRE_RESP(ordinal)            (0x2000u + (ordinal))

/* Device channel */
#define WIRE_DEVICE_IMPORT            WIRE_CMD(46)  /* handshake; reply */
#define WIRE_DEVICE_QUERY             WIRE_CMD(81)  /* reply (may carry 1 fd) */
#define WIRE_DEVICE_CREATE_CONNECTION WIRE_CMD(50)  /* 2 fds: primary, notification; reply */
/* Primary channel requests */
#define WIRE_CONNECTION_RELEASE       WIRE_CMD(4)   /* orderly close */
#define WIRE_RELEASE_CONTEXT          WIRE_CMD(7)
#define WIRE_RELEASE_BUFFER           WIRE_CMD(9)
#define WIRE_EXECUTE_INLINE_COMMANDS  WIRE_CMD(34)
#define WIRE_RELEASE_SEMAPHORE        WIRE_CMD(35)
#define WIRE_ENABLE_PERF_ACCESS       WIRE_CMD(53)  /* 1 fd; reply */
#define WIRE_ENABLE_PERF_COUNTERS     WIRE_CMD(56)
#define WIRE_CREATE_PERF_POOL         WIRE_CMD(57)  /* 1 fd: the pool's completion socket */
#define WIRE_RELEASE_PERF_POOL        WIRE_CMD(58)
#define WIRE_ADD_PERF_OFFSETS         WIRE_CMD(59)
#define WIRE_REMOVE_PERF_BUFFER       WIRE_CMD(60)
#define WIRE_DUMP_PERF_COUNTERS       WIRE_CMD(61)
#define WIRE_CLEAR_PERF_COUNTERS      WIRE_CMD(62)
#define WIRE_PERFORM_BUFFER_OP        WIRE_CMD(65)
#define WIRE_FLUSH                    WIRE_CMD(79)  /* reply */
#define WIRE_EXECUTE_COMMAND          WIRE_CMD(80)
#define WIRE_MAP_BUFFER               WIRE_CMD(82)
#define WIRE_UNMAP_BUFFER             WIRE_CMD(83)
#define WIRE_IMPORT_BUFFER            WIRE_CMD(84)  /* 1 fd: memfd */
#define WIRE_IMPORT_SEMAPHORE         WIRE_CMD(91)  /* 1 fd: eventfd */
#define WIRE_CREATE_CONTEXT           WIRE_CMD(92)
/* Primary channel requests of this transport only (no magma.json ordinal) */
#define WIRE_ALLOC_OBJECT_IDS         0x5001u       /* reply: WIRE_ALLOC_OBJECT_IDS_RESP */
#define WIRE_ALLOC_OBJECT_IDS_RESP    0x5002u
/* Service -> client events on the primary channel */
#define WIRE_EVT_MESSAGES_CONSUMED    0x4001u
#define WIRE_EVT_ERROR                0x4002u

/*
 * A WIRE_DEVICE_QUERY id the service answers itself (a debug query of magma_system.h, never
 * passed to the driver): a nonzero number naming the device instance, random and fixed for the
 * device's life. libmagma's trace records it at device_import (docs/trace-format.md, "Host
 * times"); a service without it answers the driver's status for an unknown id. Wire-compatible.
 */
#define WIRE_QUERY_DEVICE_INSTANCE    0x6d730005ull

#define WIRE_MAX_MESSAGE              (1u << 20)  /* 1 MiB, header included */
#define WIRE_MAX_FDS                  4
#define WIRE_PROTOCOL_VERSION         2
/* Buffer and semaphore ids in one block; blocks stay below 2^53 (exact in JSON traces). */
#define WIRE_OBJECT_ID_BLOCK          4096u
#define WIRE_OBJECT_ID_LIMIT          (1ull << 53)
/* clang-format on */

struct wire_hdr {
	uint32_t type;	   /* WIRE_* */
	uint32_t flags;	   /* 0 */
	uint32_t size;	   /* whole message, header included, multiple of 8 */
	uint32_t fd_count; /* fds attached with SCM_RIGHTS */
};

/* ---- Device channel ---- */

struct wire_device_import { /* WIRE_DEVICE_IMPORT */
	struct wire_hdr hdr;
	uint32_t protocol_version;
	uint32_t api_version; /* MAGMA_API_VERSION */
};

struct wire_device_import_resp { /* WIRE_RESP(46) */
	struct wire_hdr hdr;
	int32_t status;
	uint32_t protocol_version;
};

struct wire_device_query { /* WIRE_DEVICE_QUERY */
	struct wire_hdr hdr;
	uint64_t id;
};

struct wire_device_query_resp { /* WIRE_RESP(81); fd_count 1 when a buffer result */
	struct wire_hdr hdr;
	int32_t status;
	uint32_t has_buffer;
	uint64_t result;
};

struct wire_create_connection { /* WIRE_DEVICE_CREATE_CONNECTION; fds: primary, notif. */
	struct wire_hdr hdr;
	uint64_t client_id; /* the client's pid, for diagnostics */
};

struct wire_create_connection_resp { /* WIRE_RESP(50) */
	struct wire_hdr hdr;
	int32_t status;
	uint32_t reserved;
	uint64_t object_id_base; /* first id of the connection's first block of object ids */
};

/* ---- Primary channel ---- */

struct wire_create_context { /* WIRE_CREATE_CONTEXT */
	struct wire_hdr hdr;
	uint32_t context_id;
	uint32_t reserved;
	uint64_t priority; /* MAGMA_PRIORITY_* */
};

struct wire_release_context { /* WIRE_RELEASE_CONTEXT */
	struct wire_hdr hdr;
	uint32_t context_id;
	uint32_t reserved;
};

struct wire_import_buffer { /* WIRE_IMPORT_BUFFER; 1 fd */
	struct wire_hdr hdr;
	uint64_t buffer_id;
	uint64_t size; /* the client's view; must equal the memfd's size */
};

struct wire_release_buffer { /* WIRE_RELEASE_BUFFER */
	struct wire_hdr hdr;
	uint64_t buffer_id;
};

struct wire_import_semaphore { /* WIRE_IMPORT_SEMAPHORE; 1 fd */
	struct wire_hdr hdr;
	uint64_t semaphore_id;
	uint64_t flags; /* MAGMA_IMPORT_SEMAPHORE_ONE_SHOT */
};

struct wire_release_semaphore { /* WIRE_RELEASE_SEMAPHORE */
	struct wire_hdr hdr;
	uint64_t semaphore_id;
};

struct wire_perform_buffer_op { /* WIRE_PERFORM_BUFFER_OP (POPULATE/DEPOPULATE_TABLES) */
	struct wire_hdr hdr;
	uint64_t buffer_id;
	uint32_t options;
	uint32_t reserved;
	uint64_t start_offset;
	uint64_t length;
};

struct wire_map_buffer { /* WIRE_MAP_BUFFER */
	struct wire_hdr hdr;
	uint64_t hw_va;
	uint64_t buffer_id;
	uint64_t offset;
	uint64_t length;
	uint64_t flags;
};

struct wire_unmap_buffer { /* WIRE_UNMAP_BUFFER */
	struct wire_hdr hdr;
	uint64_t hw_va;
	uint64_t buffer_id;
};

/*
 * WIRE_EXECUTE_COMMAND: followed by resource_count magma_exec_resource_t, then
 * command_buffer_count magma_exec_command_buffer_t, then wait + signal semaphore ids (u64).
 * hdr.size must equal the sum exactly.
 */
struct wire_execute_command {
	struct wire_hdr hdr;
	uint32_t context_id;
	uint32_t resource_count;
	uint32_t command_buffer_count;
	uint32_t wait_semaphore_count;
	uint32_t signal_semaphore_count;
	uint32_t reserved;
	uint64_t flags;
};

/*
 * WIRE_EXECUTE_INLINE_COMMANDS: followed by command_count records, each a
 * struct wire_inline_command, then its data (size bytes, zero-padded to a multiple of 8), then
 * semaphore_count u64 ids.
 */
struct wire_execute_inline {
	struct wire_hdr hdr;
	uint32_t context_id;
	uint32_t command_count;
};

struct wire_inline_command {
	uint64_t size;
	uint32_t semaphore_count;
	uint32_t reserved;
};

struct wire_flush { /* WIRE_FLUSH; also WIRE_CONNECTION_RELEASE */
	struct wire_hdr hdr;
};

struct wire_alloc_object_ids { /* WIRE_ALLOC_OBJECT_IDS */
	struct wire_hdr hdr;
};

struct wire_alloc_object_ids_resp { /* WIRE_ALLOC_OBJECT_IDS_RESP */
	struct wire_hdr hdr;
	int32_t status;
	uint32_t reserved;
	uint64_t object_id_base; /* WIRE_OBJECT_ID_BLOCK ids from here are the connection's */
};

struct wire_status_resp { /* WIRE_RESP(79), WIRE_RESP(53) */
	struct wire_hdr hdr;
	int32_t status;
	uint32_t reserved;
};

struct wire_enable_perf_access { /* WIRE_ENABLE_PERF_ACCESS; 1 fd: the access token */
	struct wire_hdr hdr;
};

/* WIRE_ENABLE_PERF_COUNTERS / WIRE_CLEAR_PERF_COUNTERS: followed by count u64 counter ids. */
struct wire_perf_counters {
	struct wire_hdr hdr;
	uint64_t count;
};

struct wire_perf_pool { /* CREATE (1 fd) / RELEASE_PERF_POOL */
	struct wire_hdr hdr;
	uint64_t pool_id;
};

/* WIRE_ADD_PERF_OFFSETS: followed by count magma_buffer_offset_t. */
struct wire_add_perf_offsets {
	struct wire_hdr hdr;
	uint64_t pool_id;
	uint64_t count;
};

struct wire_remove_perf_buffer { /* WIRE_REMOVE_PERF_BUFFER */
	struct wire_hdr hdr;
	uint64_t pool_id;
	uint64_t buffer_id;
};

struct wire_dump_perf { /* WIRE_DUMP_PERF_COUNTERS */
	struct wire_hdr hdr;
	uint64_t pool_id;
	uint32_t trigger_id;
	uint32_t reserved;
};

/* One packet on a pool's completion socket (SOCK_SEQPACKET), service -> client. */
struct wire_perf_completion {
	uint64_t pool_id;
	uint64_t buffer_id;
	uint64_t timestamp;
	uint32_t trigger_id;
	uint32_t buffer_offset;
	uint32_t result_flags;
	uint32_t reserved;
};

/* ---- Events ---- */

struct wire_evt_consumed { /* WIRE_EVT_MESSAGES_CONSUMED */
	struct wire_hdr hdr;
	uint64_t messages; /* processed since the previous event */
	uint64_t bytes;	   /* imported buffer bytes released since then */
};

struct wire_evt_error { /* WIRE_EVT_ERROR: the service closes right after */
	struct wire_hdr hdr;
	int32_t status;
	uint32_t reserved;
};

/* ---- Transport (wire.c) ---- */

/*
 * A received message: bytes (owned, malloc'd; or, from a wire_reader, @borrowed: its buffer's,
 * valid until the next wire_reader_recv or wire_reader_fini on it) and the fds that came with it
 * (owned).
 */
struct wire_msg {
	struct wire_hdr *hdr; /* hdr->size bytes, 8-byte aligned */
	int fds[WIRE_MAX_FDS];
	uint32_t fd_count;
	bool borrowed;
};

/*
 * wire_send - send @size bytes at @msg (a struct starting with wire_hdr whose size and fd_count
 * the caller filled in) with @fd_count fds (not closed; the kernel duplicates them). Blocks until
 * all is written; retries EINTR. Returns 0 or -errno (-EPIPE when the peer is gone). Thread-safe
 * per call, but callers serialise sends on one socket so messages do not interleave.
 */
int wire_send(int sock, const void *msg, size_t size, const int *fds, uint32_t fd_count);

/*
 * wire_recv - receive one whole message into @out. Returns 0, -ECONNRESET on orderly close or
 * hang-up, -EBADMSG for a header that breaks the framing rules (size < header, not a multiple of
 * 8, > WIRE_MAX_MESSAGE, fd_count > WIRE_MAX_FDS or different from the fds received; any fds
 * received are closed), -ENOMEM, or -errno. On success the caller owns @out (wire_msg_free).
 */
int wire_recv(int sock, struct wire_msg *out);

/*
 * A read-ahead receiver for one socket (wire_reader.c): one recvmsg takes as many bytes as the
 * socket holds, and whole messages are cut from them, so a stream of small messages costs a
 * fraction of a syscall each instead of two. Fds queue in arrival order and each message takes
 * its hdr.fd_count oldest; fds that no message claims are -EBADMSG. Owned by one thread.
 */
#define WIRE_READER_BYTES (16u * 1024u)
#define WIRE_READER_FDS	  (WIRE_MAX_FDS * 16)
struct wire_reader {
	char *buf; /* @cap bytes: WIRE_READER_BYTES, or a whole message when larger */
	size_t cap, start, end;
	int fds[WIRE_READER_FDS];
	uint32_t nfds;
};

/*
 * wire_take_fds - the fds of every SCM_RIGHTS message of received @mh, appended to @fds (@room
 * entries) from *@nfds on; each one past @room is closed at once but still counted in *@nfds.
 * Returns nonzero when @mh also held another kind of control message or its control data was
 * cut short (MSG_CTRUNC): a violation. Any thread.
 */
struct msghdr;
int wire_take_fds(struct msghdr *mh, int *fds, uint32_t room, uint32_t *nfds);

/* wire_reader_init / wire_reader_fini - an empty reader; fini closes queued fds, frees bytes. */
void wire_reader_init(struct wire_reader *r);
void wire_reader_fini(struct wire_reader *r);

/*
 * wire_reader_recv - the next whole message into @out, reading @sock without blocking
 * (MSG_DONTWAIT) only when no whole message is buffered. Returns 0 (the caller owns @out),
 * -EAGAIN when the socket holds no (rest of a) whole message now (bytes read stay buffered),
 * The bytes of @out are borrowed from the reader (no copy, no allocation): use them before the
 * next call.
 * -ECONNRESET on hang-up, -EBADMSG (framing rules as wire_recv's, or fds no message claims; every
 * queued fd is closed), -ENOMEM or -errno. After an error other than -EAGAIN the channel is done.
 */
int wire_reader_recv(struct wire_reader *r, int sock, struct wire_msg *out);

/* wire_reader_has_message - whether a whole message (or a bad header) is buffered: poll() on
 * the socket would not show it, so call wire_reader_recv before waiting. */
bool wire_reader_has_message(const struct wire_reader *r);

/*
 * wire_hdr_ok - whether @hdr obeys the framing rules every receiver checks: size at least a
 * header, a multiple of 8, at most WIRE_MAX_MESSAGE, at most WIRE_MAX_FDS fds. Pure.
 */
bool wire_hdr_ok(const struct wire_hdr *hdr);

/* wire_msg_free - free the bytes and close the fds still owned by @msg (set to -1 to keep). */
void wire_msg_free(struct wire_msg *msg);

/* wire_type_name - "EXECUTE_COMMAND" etc. for logs and traces; "UNKNOWN" otherwise. Pure. */
const char *wire_type_name(uint32_t type);

#endif /* WIRE_WIRE_H */
