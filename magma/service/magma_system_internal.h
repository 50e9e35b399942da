/* SPDX-License-Identifier: MIT */
/*
 * magma_system_internal.h - private structures of magma_system, the gpu-agnostic service layer.
 *
 * A struct magma_system_device owns one MSD driver + device and serves any number of device
 * channels (one thread each: handshake, queries, connection creation). Every connection has its
 * own thread that receives requests on the primary channel, validates them against the
 * connection's handle tables (magma_system_validate.c) and dispatches them to msd.h
 * (magma_system_connection.c). The MSD's notification callback runs on a driver thread and only
 * touches the connection's notify state, under its own lock (magma_system_notify.c). Flow
 * control counts processed messages and imported bytes (magma_system_flow.c). What every client
 * process holds of the device is charged against per-process and device-wide limits
 * (magma_system_account.c).
 *
 * Threads never close sockets they might race on: a worker thread only shutdown()s its sockets
 * and marks itself finished; the fds are closed by whoever joins it (the device's reaper thread,
 * as soon as the thread ends, or magma_system_device_destroy), so a descriptor number is never
 * reused under another thread's feet.
 */
#ifndef MAGMA_SYSTEM_INTERNAL_H
#define MAGMA_SYSTEM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <lib/magma/magma_common_defs.h>
#include <msd/msd.h>

#include "index/index_map.h"
#include "index/index_tree.h"
#include "magma_system/magma_system.h"
#include "wire.h"

/* clang-format off */
#define MAGMA_SYSTEM_DEVICE_MAGIC      0x6d736476u /* "msdv" */
#define MAGMA_SYSTEM_CONNECTION_MAGIC  0x6d73636eu /* "mscn" */

/*
 * Per-process and per-device limits are struct magma_system_limits (magma_system_account.c):
 * those bound what a client holds. Per-connection limits: a client that exceeds one gets
 * MAGMA_STATUS_MEMORY_ERROR. Buffers, semaphores and mappings are only a sanity bound, above
 * every default device-wide limit so that the accounting decides first (2^18: room for 100 000
 * in one connection when the limits are raised, bench-scale); their tables grow as they fill.
 */
#define MAGMA_SYSTEM_MAX_BUFFERS       262144u
#define MAGMA_SYSTEM_MAX_SEMAPHORES    262144u
#define MAGMA_SYSTEM_MAX_CONTEXTS      256u
#define MAGMA_SYSTEM_MAX_POOLS         64u
#define MAGMA_SYSTEM_MAX_MAPPINGS      262144u
/* Execution limits (per submission). */
#define MAGMA_SYSTEM_MAX_RESOURCES     4096u
#define MAGMA_SYSTEM_MAX_CMD_BUFFERS   256u
#define MAGMA_SYSTEM_MAX_EXEC_SEMAPHORES 256u
#define MAGMA_SYSTEM_MAX_PERF_COUNTERS 4096u
/* Notification packets queued while the client does not drain its notification channel. */
#define MAGMA_SYSTEM_MAX_QUEUED_NOTIFICATIONS 1024u
/* Flow control. */
#define MAGMA_SYSTEM_MAX_INFLIGHT_MESSAGES 1000u
#define MAGMA_SYSTEM_MAX_INFLIGHT_MB   1024u
#define MAGMA_SYSTEM_CONSUMED_BATCH    64u
#define MAGMA_SYSTEM_PAGE_SIZE         4096u
#define MAGMA_SYSTEM_COMM_SIZE         16u     /* a process name with its NUL, as the kernel keeps it */
/* clang-format on */

/* ---- Handle tables (magma_system_handles.c) ---- */

/*
 * A GPU mapping of the connection, indexed by address (overlap checks, unmap) and by buffer
 * (what goes when the buffer is released). Owned by struct magma_system_handles.
 */
struct magma_system_mapping {
	uint64_t hw_va;
	uint64_t length;
	uint64_t buffer_id;
	struct index_node va_node;     /* in handles.mappings_by_va */
	struct index_node buffer_node; /* in handles.mappings_by_buffer: (buffer_id, hw_va) */
};

struct magma_system_buffer {
	uint64_t id;
	uint64_t size;
	struct msd_buffer_t *msd;
	uint32_t mapping_count; /* mappings of this buffer in the connection */
	bool mapped_ever;	/* msd_connection_release_buffer needed at release */
	bool resident;		/* charged as MAGMA_SYSTEM_RES_RESIDENT_BUFFERS */
};

struct magma_system_semaphore {
	uint64_t id;
	struct msd_semaphore_t *msd;
};

struct magma_system_context {
	uint64_t id;
	struct msd_context_t *msd;
};

struct magma_system_pool {
	uint64_t id;
	struct msd_perf_count_pool_t *msd;
};

/*
 * A table of objects by id: the elements packed in an array (in no particular order until
 * magma_system_table_sort), a hash map from id to position (index_map.h), so that finding,
 * adding and removing one cost O(1) whatever the table holds. Each element begins with its
 * uint64_t id. Bounded by @limit. Connection thread only.
 */
struct magma_system_table {
	void *items;
	uint32_t count;
	uint32_t capacity;
	uint32_t limit;
	uint32_t item_size;
	struct index_map positions; /* id -> index in @items */
};

struct magma_system_handles {
	struct magma_system_table buffers;    /* struct magma_system_buffer */
	struct magma_system_table semaphores; /* struct magma_system_semaphore */
	struct magma_system_table contexts;   /* struct magma_system_context */
	struct magma_system_table pools;      /* struct magma_system_pool */
	/* Every mapping of the connection, by hw_va and by (buffer_id, hw_va). */
	struct index_tree mappings_by_va;
	struct index_tree mappings_by_buffer;
	uint32_t mapping_count;
};

void magma_system_table_init(struct magma_system_table *t, uint32_t item_size, uint32_t limit);
void magma_system_table_fini(struct magma_system_table *t);
void *magma_system_table_find(const struct magma_system_table *t, uint64_t id);
magma_status_t magma_system_table_insert(struct magma_system_table *t, const void *item);
bool magma_system_table_remove(struct magma_system_table *t, uint64_t id, void *item_out);
void *magma_system_table_at(const struct magma_system_table *t, uint32_t index);
void magma_system_table_sort(struct magma_system_table *t);

void magma_system_handles_init(struct magma_system_handles *h);
void magma_system_handles_fini(struct magma_system_handles *h);
bool magma_system_handles_mapping_overlaps(const struct magma_system_handles *h, uint64_t hw_va,
					   uint64_t length);
const struct magma_system_mapping *
magma_system_handles_find_mapping(const struct magma_system_handles *h, uint64_t hw_va);
magma_status_t magma_system_handles_add_mapping(struct magma_system_handles *h,
						const struct magma_system_mapping *m);
void magma_system_handles_remove_mapping(struct magma_system_handles *h, uint64_t hw_va);
uint32_t magma_system_handles_remove_buffer_mappings(struct magma_system_handles *h,
						     uint64_t buffer_id, uint64_t *bytes_out);
uint32_t magma_system_handles_remove_all_mappings(struct magma_system_handles *h,
						  uint64_t *bytes_out);

/* ---- Accounting by client process and device (magma_system_account.c) ---- */

/* One client process: what it holds of the device. Fields guarded by the account's lock. */
struct magma_system_client {
	pid_t pid;
	uint32_t refs; /* channels and connections charged to it */
	uint64_t used[MAGMA_SYSTEM_RES_COUNT];
	uint32_t logged; /* bit per resource: its first refusal was logged */
	struct magma_system_client *next;
};

struct magma_system_account {
	pthread_mutex_t lock;
	struct magma_system_limits limits; /* immutable after init */
	/* Fields below guarded by lock. */
	uint64_t used[MAGMA_SYSTEM_RES_COUNT];
	struct magma_system_client *clients;
};

void magma_system_account_init(struct magma_system_account *acct,
			       const struct magma_system_limits *limits);
void magma_system_account_fini(struct magma_system_account *acct);
struct magma_system_client *magma_system_account_lookup(struct magma_system_account *acct,
							pid_t pid);
struct magma_system_client *magma_system_account_client_get(struct magma_system_account *acct,
							    struct magma_system_client *client);
void magma_system_account_client_put(struct magma_system_account *acct,
				     struct magma_system_client *client);
magma_status_t magma_system_account_charge(struct magma_system_account *acct,
					   struct magma_system_client *client,
					   enum magma_system_resource res, uint64_t amount);
void magma_system_account_uncharge(struct magma_system_account *acct,
				   struct magma_system_client *client,
				   enum magma_system_resource res, uint64_t amount);
void magma_system_account_usage(struct magma_system_account *acct,
				uint64_t used[MAGMA_SYSTEM_RES_COUNT]);

/* ---- Notifications (magma_system_notify.c) ---- */

struct magma_system_notify_packet {
	struct magma_system_notify_packet *next;
	int is_perf; /* 0: notification channel; 1: pool socket of @pool_id */
	uint64_t pool_id;
	uint32_t size;
	uint8_t data[];
};

struct magma_system_pool_sock {
	uint64_t pool_id;
	int fd;
};

/* State shared between the connection thread and the MSD's notification thread. */
struct magma_system_notify {
	pthread_mutex_t lock;
	int notif_fd; /* the notification channel (not owned here) */
	int wake_fd;  /* eventfd that wakes the connection thread (owned) */
	/* Fields below guarded by lock. */
	struct magma_system_notify_packet *head;
	struct magma_system_notify_packet *tail;
	uint32_t queued;
	magma_status_t pending_error; /* set from the driver thread, acted on by the conn thread */
	struct magma_system_pool_sock pools[MAGMA_SYSTEM_MAX_POOLS];
	uint32_t pool_count;
	uint64_t sent;	      /* packets delivered (for tests) */
	bool overflow_logged; /* the overflow that closes the connection is logged once */
	uint64_t overflows;   /* packets refused by the overflow (for tests) */
};

int magma_system_notify_init(struct magma_system_notify *n, int notif_fd);
void magma_system_notify_fini(struct magma_system_notify *n);
void magma_system_notify_callback(void *token, struct msd_notification_t *notification);
int magma_system_notify_queue_fd(struct magma_system_notify *n);
magma_status_t magma_system_notify_drain(struct magma_system_notify *n);
magma_status_t magma_system_notify_take_error(struct magma_system_notify *n);
void magma_system_notify_fail(struct magma_system_notify *n, magma_status_t status);
magma_status_t magma_system_notify_add_pool(struct magma_system_notify *n, uint64_t pool_id,
					    int fd);
void magma_system_notify_remove_pool(struct magma_system_notify *n, uint64_t pool_id);

/* ---- Flow control (magma_system_flow.c) ---- */

struct magma_system_flow {
	uint64_t pending_messages; /* processed, not yet reported */
	uint64_t pending_bytes;
	uint64_t total_messages; /* processed over the connection's life */
	uint64_t events_sent;
};

uint64_t magma_system_flow_inflight_params(void);
void magma_system_flow_note(struct magma_system_flow *f, const struct wire_msg *msg);
bool magma_system_flow_should_send(const struct magma_system_flow *f, bool input_idle);
int magma_system_flow_try_send(struct magma_system_flow *f, int sock);

/* ---- Connection (magma_system_connection.c) ---- */

struct magma_system_connection {
	uint32_t magic;
	struct magma_system_device *dev;
	struct msd_connection_t *msd;
	struct magma_system_client *client; /* the process charged (a reference) */
	uint64_t client_id;		    /* the client's own claim: for logs only */
	uint64_t number;		    /* 1 = the first connection the device opened */
	uint64_t id_base;		    /* its first block of object ids (site.id_base) */
	char comm[MAGMA_SYSTEM_COMM_SIZE];  /* the client process's name, for hooks ("" unknown) */
	struct msd_connection_t *msd_name;  /* @msd as hooks know it, also after it was closed */
	int primary_fd;			    /* closed by the reaper after join */
	int notif_fd;			    /* closed by the reaper after join */
	struct wire_reader reader;	    /* of @primary_fd: the connection thread's */
	struct magma_system_direct *direct; /* a reference, or NULL: no direct delivery */
	pthread_t thread;
	bool perf_access;
	struct magma_system_handles handles;
	struct magma_system_notify notify;
	struct magma_system_flow flow;
	/* Fields below guarded by dev->lock. */
	bool finished;
	struct magma_system_connection *next;
};

struct magma_system_connection *magma_system_connection_create(struct magma_system_device *dev,
							       struct msd_connection_t *msd,
							       struct magma_system_client *client,
							       uint64_t client_id, const char *comm,
							       int primary_fd, int notif_fd);
int magma_system_connection_start(struct magma_system_connection *conn);
void magma_system_connection_shutdown(struct magma_system_connection *conn);
void magma_system_connection_free(struct magma_system_connection *conn);
/* Process @msg as the connection thread would (validate, dispatch); *@s its status, *@action. */
void magma_system_connection_deliver_locked(struct magma_system_connection *conn,
					    struct wire_msg *msg, magma_status_t *s, int *action);
/* After a successful start: publish its direct endpoint (if any) to the device layer. */
void magma_system_connection_publish(struct magma_system_connection *conn);
/* End the connection with @s: posted to its thread, which tears it down. Any thread. */
void magma_system_connection_fail(struct magma_system_connection *conn, magma_status_t s);

/* ---- Direct delivery (magma_system_direct.c) ---- */
#define CONN_CLOSE_ORDERLY 1 /* a handler's *action: the client released the connection */
struct magma_system_direct *magma_system_direct_create(struct magma_system_connection *conn);
/* The connection thread holds the endpoint's lock except while it sleeps in poll(). */
void magma_system_direct_lock(struct magma_system_direct *d);
void magma_system_direct_unlock(struct magma_system_direct *d);
/* The connection thread left its loop: deliveries are dropped from now on (any thread). */
void magma_system_direct_closing(struct magma_system_direct *d);
/* The connection ended (lock held): later deliveries are -EPIPE. */
void magma_system_direct_detach_locked(struct magma_system_direct *d);

/* ---- Validation (magma_system_validate.c) ---- */

magma_status_t magma_system_validate(const struct magma_system_connection *conn,
				     const struct wire_msg *msg);
magma_status_t magma_system_validate_device_msg(const struct wire_msg *msg);
bool magma_system_fd_is_memfd(int fd, uint64_t *size_out);
bool magma_system_memfd_seal(int fd);
bool magma_system_fd_is_eventfd(int fd);
bool magma_system_fd_is_socket(int fd, int type);

/* ---- Device (magma_system_device.c) ---- */

struct magma_system_channel {
	struct magma_system_device *dev;
	struct magma_system_client *client; /* the peer process, charged for the channel */
	char comm[MAGMA_SYSTEM_COMM_SIZE];  /* its name when hooks are installed, else "" */
	int fd;				    /* closed by the reaper after join */
	pthread_t thread;
	struct timespec deadline; /* CLOCK_MONOTONIC: the handshake must be done by then */
	/* Fields below guarded by dev->lock. */
	bool handshake_done; /* no longer charged as a pending channel */
	bool expired;	     /* shut down by the reaper: no handshake in time */
	bool finished;
	struct magma_system_channel *next;
};

struct magma_system_device {
	uint32_t magic;
	struct msd_driver_t *drv;
	struct msd_device_t *msd;
	struct magma_system_account acct;
	/* magma_system_device_set_hooks; immutable once the device serves. */
	struct magma_system_direct_ops direct_ops; /* magma_system_device_set_direct */
	bool has_direct;
	struct magma_system_hooks hooks;
	bool has_hooks;
	pthread_t reaper;	  /* joins finished threads, closes late handshakes */
	pthread_cond_t reap_cond; /* CLOCK_MONOTONIC; signaled when the reaper has work */
	pthread_mutex_t lock;
	/* Fields below guarded by lock. */
	bool shutting_down;
	struct magma_system_channel *channels;
	uint32_t channel_count; /* in the list, finished or not */
	struct magma_system_connection *connections;
	uint32_t connection_count; /* in the list, finished or not */
	uint64_t connections_opened;
	uint64_t next_object_id; /* first id of the next block handed out (wire.h, "Ids") */
	uint64_t instance;	 /* magma_system_device_instance; set before it serves */
	int token_fd;		 /* the performance-counter access token (owned) */
	dev_t token_dev;
	ino_t token_ino;
};

/*
 * Whether @fd refers to @dev's performance-counter access token (same st_dev and st_ino). Any
 * thread; takes dev->lock.
 */
bool magma_system_device_is_perf_token(struct magma_system_device *dev, int fd);

/*
 * magma_system_device_alloc_object_ids - hands out the next WIRE_OBJECT_ID_BLOCK device-wide
 * object ids: their first in *@base_out. MAGMA_STATUS_MEMORY_ERROR once the ids that stay exact
 * in a trace (below WIRE_OBJECT_ID_LIMIT) are used up. Any thread; takes dev->lock.
 */
magma_status_t magma_system_device_alloc_object_ids(struct magma_system_device *dev,
						    uint64_t *base_out);

void magma_system_device_connection_finished(struct magma_system_device *dev,
					     struct magma_system_connection *conn);

/*
 * magma_system_device_alloc_fails - MAGMA_STATUS_OK, or the status the hooks make the service's
 * allocation at @site fail with (fault injection). Any service thread, no lock held.
 */
magma_status_t magma_system_device_alloc_fails(struct magma_system_device *dev,
					       const struct magma_system_site *site);

/*
 * Logging: one line to stderr, prefixed "magma_system: ", when @level (a MAGMA_LOG_* severity)
 * is at most magma_system_log_level().
 */
void magma_system_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* MAGMA_SYSTEM_INTERNAL_H */
