/* SPDX-License-Identifier: MIT */
/*
 * magma_system_device.c - a device served over device channels.
 *
 * The device owns one MSD driver and device. Every device channel (the socket a client passes to
 * magma_device_import) gets a thread that answers: the handshake (WIRE_DEVICE_IMPORT, which must
 * come first and carry WIRE_PROTOCOL_VERSION), queries (MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS and
 * the service's debug queries are answered here; all others go to msd_device_query, and a
 * buffer result travels back as an fd) and connection creation (the message brings the new
 * connection's primary and notification sockets; the service opens an MSD connection and starts
 * the connection's thread). A malformed message on a device channel closes that channel only.
 *
 * The device also owns the performance-counter access token: a file it creates once (a memfd
 * named "magma-perf-token", or a 0600 file on disk that magma_system_device_publish_perf_token
 * makes the token instead) and recognises by identity (st_dev, st_ino) when a connection passes
 * an fd to WIRE_ENABLE_PERF_ACCESS. Only a holder the host handed the token to can present it.
 *
 * No client can take the device from the others. Every channel and connection is charged to the
 * client process behind it and to the device (magma_system_account.c), and one past either
 * limit is refused. A channel must complete its handshake within the handshake timeout, and a
 * process may hold only a few channels that have not, so sockets that connect and say nothing
 * cannot use up the channels. A reaper thread joins finished channel and connection threads as
 * soon as they end, closes their sockets and gives back their charges (a dead client's
 * resources do not wait for the next client to arrive), and shuts down the channels whose
 * handshake deadline passed. Only the joiner closes a thread's sockets.
 *
 * Hooks (magma_system.h) installed by the device layer are called here for device-channel calls
 * (msd_device_query, msd_device_open) and the connection's own allocation, without any lock held;
 * magma_system_device_kill_client is their way to kill a client: SIGKILL to the pid the kernel
 * named for the connection's channel, or, when that is this very process (the embedded device),
 * a shutdown of the connection instead.
 *
 * Threading: any thread may call the public functions except destroy (not from a service
 * thread); the lists are guarded by dev->lock, inside which the account's lock nests.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "magma_system_internal.h"

/*
 * The level magma_system_set_log_level chose, or -1: the environment decides. The one piece of
 * process-wide state here, like the environment it stands in for.
 */
static atomic_int log_level_set = -1;
static atomic_bool log_env_warned; /* a bad MAGMA_SIM_LOG was reported */

static const char *const log_level_names[] = {"off", "error", "warn", "info", "debug"};

/* magma_system_log_level_name - see magma_system.h. */
const char *magma_system_log_level_name(int level)
{
	if (level < MAGMA_SYSTEM_LOG_OFF)
		level = MAGMA_SYSTEM_LOG_OFF;
	if (level > MAGMA_LOG_DEBUG)
		level = MAGMA_LOG_DEBUG;
	return log_level_names[level];
}

/* magma_system_log_level_parse - see magma_system.h. */
int magma_system_log_level_parse(const char *name, int *level_out)
{
	if (!name)
		return -1;
	for (int l = MAGMA_SYSTEM_LOG_OFF; l <= MAGMA_LOG_DEBUG; l++) {
		if (!strcmp(name, log_level_names[l]) || (name[0] == '0' + l && !name[1])) {
			*level_out = l;
			return 0;
		}
	}
	if (!strcmp(name, "warning")) {
		*level_out = MAGMA_LOG_WARNING;
		return 0;
	}
	return -1;
}

/* magma_system_set_log_level - see magma_system.h. */
void magma_system_set_log_level(int level)
{
	if (level < 0)
		level = -1;
	else if (level > MAGMA_LOG_DEBUG)
		level = MAGMA_LOG_DEBUG;
	atomic_store(&log_level_set, level);
}

/* magma_system_log_level - see magma_system.h. A bad MAGMA_SIM_LOG is reported once. */
int magma_system_log_level(void)
{
	const char *env;
	int level = atomic_load(&log_level_set);

	if (getenv("MAGMA_SYSTEM_QUIET"))
		return MAGMA_SYSTEM_LOG_OFF;
	if (level >= 0)
		return level;
	env = getenv("MAGMA_SIM_LOG");
	if (!env || !*env)
		return MAGMA_LOG_ERROR;
	if (magma_system_log_level_parse(env, &level) == 0)
		return level;
	/* Never quiet: the user asked for something and gets errors only. */
	if (!atomic_exchange(&log_env_warned, true))
		fprintf(stderr,
			"magma_system: MAGMA_SIM_LOG=%s: want off, error, warn, info or debug; "
			"logging errors only\n",
			env);
	return MAGMA_LOG_ERROR;
}

/* magma_system_log - see magma_system_internal.h. */
void magma_system_log(int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (level > magma_system_log_level())
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "magma_system: %s\n", line);
}

/* The MSD's log lines, at their own severities (errors only, by default). */
static void device_msd_log(void *ctx, int32_t level, const char *file, int32_t line,
			   const char *msg)
{
	(void)ctx;
	magma_system_log(level, "msd %s:%d: %s", file, line, msg);
}

static struct magma_system_device *device_of(struct magma_system_device *dev)
{
	if (!dev || dev->magic != MAGMA_SYSTEM_DEVICE_MAGIC)
		return NULL;
	return dev;
}

/* Gives back what channel_charge took for @ch (its pending charge only if still pending). */
static void channel_uncharge(struct magma_system_device *dev, struct magma_system_channel *ch)
{
	if (!ch->handshake_done)
		magma_system_account_uncharge(&dev->acct, ch->client,
					      MAGMA_SYSTEM_RES_PENDING_CHANNELS, 1);
	magma_system_account_uncharge(&dev->acct, ch->client, MAGMA_SYSTEM_RES_CHANNELS, 1);
}

/* After its thread was joined: closes @ch's socket, gives back its charges, frees it. */
static void channel_free(struct magma_system_device *dev, struct magma_system_channel *ch)
{
	close(ch->fd);
	channel_uncharge(dev, ch);
	magma_system_account_client_put(&dev->acct, ch->client);
	free(ch);
}

/* Joins finished threads and frees them. Caller holds dev->lock. */
static void device_reap_locked(struct magma_system_device *dev)
{
	struct magma_system_channel **cp = &dev->channels;
	struct magma_system_connection **pp = &dev->connections;

	while (*cp) {
		struct magma_system_channel *ch = *cp;

		if (!ch->finished) {
			cp = &ch->next;
			continue;
		}
		*cp = ch->next;
		dev->channel_count--;
		pthread_join(ch->thread, NULL);
		channel_free(dev, ch);
	}
	while (*pp) {
		struct magma_system_connection *conn = *pp;

		if (!conn->finished) {
			pp = &conn->next;
			continue;
		}
		*pp = conn->next;
		dev->connection_count--;
		pthread_join(conn->thread, NULL);
		magma_system_connection_free(conn);
	}
}

static bool timespec_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/*
 * Shuts down every channel whose handshake deadline has passed (its thread then sees a hang-up
 * and finishes). Returns whether a channel still waits for its handshake, with the earliest such
 * deadline in *@next_out. Caller holds dev->lock.
 */
static bool device_expire_handshakes_locked(struct magma_system_device *dev,
					    struct timespec *next_out)
{
	struct timespec now;
	bool waiting = false;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (struct magma_system_channel *ch = dev->channels; ch; ch = ch->next) {
		if (ch->finished || ch->handshake_done || ch->expired)
			continue;
		if (!timespec_before(&now, &ch->deadline)) {
			ch->expired = true;
			shutdown(ch->fd, SHUT_RDWR);
			magma_system_log(
				MAGMA_LOG_WARNING,
				"closing device channel of process %d: no handshake in %u ms",
				(int)ch->client->pid, dev->acct.limits.handshake_timeout_ms);
		} else if (!waiting || timespec_before(&ch->deadline, next_out)) {
			*next_out = ch->deadline;
			waiting = true;
		}
	}
	return waiting;
}

/*
 * The reaper: joins finished threads as soon as they end (each signals reap_cond) and closes
 * channels at their handshake deadline, until destroy begins.
 */
static void *device_reaper(void *arg)
{
	struct magma_system_device *dev = arg;

	pthread_mutex_lock(&dev->lock);
	while (!dev->shutting_down) {
		struct timespec next;

		device_reap_locked(dev);
		if (device_expire_handshakes_locked(dev, &next))
			pthread_cond_timedwait(&dev->reap_cond, &dev->lock, &next);
		else
			pthread_cond_wait(&dev->reap_cond, &dev->lock);
	}
	pthread_mutex_unlock(&dev->lock);
	return NULL;
}

/* magma_system_device_connection_finished - called by @conn's thread as its last step. */
void magma_system_device_connection_finished(struct magma_system_device *dev,
					     struct magma_system_connection *conn)
{
	pthread_mutex_lock(&dev->lock);
	conn->finished = true;
	pthread_cond_signal(&dev->reap_cond);
	pthread_mutex_unlock(&dev->lock);
}

static int send_reply(int fd, void *msg, uint32_t size, const int *fds, uint32_t fd_count)
{
	struct wire_hdr *hdr = msg;

	hdr->size = size;
	hdr->fd_count = fd_count;
	return wire_send(fd, msg, size, fds, fd_count);
}

/* A new memfd holding @dev's limits (MAGMA_SYSTEM_QUERY_LIMITS) in *@handle_out. */
static magma_status_t limits_buffer(struct magma_system_device *dev, magma_handle_t *handle_out)
{
	const struct magma_system_limits *l = &dev->acct.limits;
	int fd = memfd_create("magma-system-limits", MFD_CLOEXEC);

	if (fd < 0)
		return MAGMA_STATUS_MEMORY_ERROR;
	if (pwrite(fd, l, sizeof(*l), 0) != (ssize_t)sizeof(*l)) {
		close(fd);
		return MAGMA_STATUS_MEMORY_ERROR;
	}
	*handle_out = (magma_handle_t)fd;
	return MAGMA_STATUS_OK;
}

/* Where @ch's hooks are called from: a device channel, before any connection. */
static struct magma_system_site channel_site(const struct magma_system_channel *ch,
					     const char *call)
{
	return (struct magma_system_site){
		.pid = ch->client->pid,
		.comm = ch->comm,
		.call = call,
	};
}

/* The hooks' answer for the msd.h call @call a message of @ch is about to make (OK: go on). */
static magma_status_t channel_call_hook(struct magma_system_channel *ch, const char *call)
{
	struct magma_system_device *dev = ch->dev;
	struct magma_system_site site = channel_site(ch, call);

	if (!dev->hooks.call)
		return MAGMA_STATUS_OK;
	return dev->hooks.call(dev->hooks.ctx, &site);
}

/* magma_system_device_alloc_fails - see magma_system_internal.h. */
magma_status_t magma_system_device_alloc_fails(struct magma_system_device *dev,
					       const struct magma_system_site *site)
{
	if (!dev->hooks.alloc)
		return MAGMA_STATUS_OK;
	return dev->hooks.alloc(dev->hooks.ctx, site);
}

static int handle_query(struct magma_system_channel *ch, const struct wire_msg *msg)
{
	const struct wire_device_query *q = (const void *)msg->hdr;
	struct magma_system_device *dev = ch->dev;
	struct wire_device_query_resp r;
	magma_handle_t handle = (magma_handle_t)-1;
	int buf_fd, ret;

	memset(&r, 0, sizeof(r));
	r.hdr.type = WIRE_RESP(81);
	if (q->id == MAGMA_QUERY_MAXIMUM_INFLIGHT_PARAMS) {
		r.result = magma_system_flow_inflight_params();
	} else if (q->id == MAGMA_SYSTEM_QUERY_CONNECTION_COUNT) {
		r.result = magma_system_device_connection_count(dev);
	} else if (q->id == MAGMA_SYSTEM_QUERY_CHANNEL_COUNT) {
		pthread_mutex_lock(&dev->lock);
		r.result = dev->channel_count;
		pthread_mutex_unlock(&dev->lock);
	} else if (q->id == MAGMA_SYSTEM_QUERY_LIMITS) {
		r.status = limits_buffer(dev, &handle);
	} else if (q->id == MAGMA_SYSTEM_QUERY_FAULTS_FIRED) {
		r.result = dev->hooks.faults_fired ? dev->hooks.faults_fired(dev->hooks.ctx) : 0;
	} else if (q->id == MAGMA_SYSTEM_QUERY_INSTANCE) {
		r.result = dev->instance;
	} else {
		r.status = channel_call_hook(ch, "msd_device_query");
		if (r.status == MAGMA_STATUS_OK)
			r.status = msd_device_query(dev->msd, q->id, &handle, &r.result);
		if (r.status != MAGMA_STATUS_OK)
			handle = (magma_handle_t)-1;
	}
	if (handle == (magma_handle_t)-1)
		return send_reply(ch->fd, &r, sizeof(r), NULL, 0);
	buf_fd = (int)handle;
	r.has_buffer = 1;
	r.result = 0;
	ret = send_reply(ch->fd, &r, sizeof(r), &buf_fd, 1);
	close(buf_fd);
	return ret;
}

/* magma_system_device_alloc_object_ids - see magma_system_internal.h. */
magma_status_t magma_system_device_alloc_object_ids(struct magma_system_device *dev,
						    uint64_t *base_out)
{
	magma_status_t s = MAGMA_STATUS_OK;

	pthread_mutex_lock(&dev->lock);
	if (dev->next_object_id > WIRE_OBJECT_ID_LIMIT - WIRE_OBJECT_ID_BLOCK) {
		s = MAGMA_STATUS_MEMORY_ERROR;
	} else {
		*base_out = dev->next_object_id;
		dev->next_object_id += WIRE_OBJECT_ID_BLOCK;
	}
	pthread_mutex_unlock(&dev->lock);
	return s;
}

/*
 * Opens a connection for @msg, charged to @ch's process; on success its first block of object
 * ids is *@id_base_out.
 */
static magma_status_t create_connection(struct magma_system_channel *ch, struct wire_msg *msg,
					uint64_t *id_base_out)
{
	const struct wire_create_connection *m = (const void *)msg->hdr;
	struct magma_system_device *dev = ch->dev;
	struct magma_system_connection *conn;
	struct magma_system_site site;
	struct msd_connection_t *msd;
	magma_status_t s;

	/* A connection that just ended is given back before this one is counted. */
	pthread_mutex_lock(&dev->lock);
	device_reap_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	s = magma_system_account_charge(&dev->acct, ch->client, MAGMA_SYSTEM_RES_CONNECTIONS, 1);
	if (s)
		return s;
	s = magma_system_device_alloc_object_ids(dev, id_base_out);
	if (s)
		goto err_uncharge;
	site = channel_site(ch, NULL);
	s = magma_system_device_alloc_fails(dev, &site); /* the connection's own allocation */
	if (s)
		goto err_uncharge;
	s = channel_call_hook(ch, "msd_device_open");
	if (s)
		goto err_uncharge;
	/* The driver groups connections by client process: give it the pid the kernel vouches for,
	 * not the client_id the client claims (that one only goes to logs). */
	msd = msd_device_open(dev->msd, (msd_client_id_t)ch->client->pid);
	if (!msd) {
		s = MAGMA_STATUS_MEMORY_ERROR;
		goto err_uncharge;
	}
	/* The charge and a reference to the client pass to the connection, as do the fds. */
	conn = magma_system_connection_create(
		dev, msd, magma_system_account_client_get(&dev->acct, ch->client), m->client_id,
		ch->comm, msg->fds[0], msg->fds[1]);
	msg->fds[0] = msg->fds[1] = -1;
	if (!conn)
		return MAGMA_STATUS_MEMORY_ERROR;

	pthread_mutex_lock(&dev->lock);
	if (dev->shutting_down) {
		s = MAGMA_STATUS_CONNECTION_LOST;
	} else {
		/* Numbered before its thread starts: the thread's hooks name it. */
		conn->number = dev->connections_opened + 1;
		conn->id_base = *id_base_out;
		if (magma_system_connection_start(conn)) {
			s = MAGMA_STATUS_MEMORY_ERROR;
		} else {
			conn->next = dev->connections;
			dev->connections = conn;
			dev->connection_count++;
			dev->connections_opened++;
			conn = NULL;
		}
	}
	pthread_mutex_unlock(&dev->lock);
	magma_system_connection_free(conn); /* NULL unless it failed to start */
	return s;

err_uncharge:
	magma_system_account_uncharge(&dev->acct, ch->client, MAGMA_SYSTEM_RES_CONNECTIONS, 1);
	return s;
}

/*
 * The handshake succeeded: @ch is no longer pending, and the reaper no longer watches its
 * deadline (unless it already shut @ch down, which this thread then sees as a hang-up).
 */
static void channel_handshake_done(struct magma_system_channel *ch)
{
	struct magma_system_device *dev = ch->dev;

	pthread_mutex_lock(&dev->lock);
	if (!ch->handshake_done) {
		ch->handshake_done = true;
		magma_system_account_uncharge(&dev->acct, ch->client,
					      MAGMA_SYSTEM_RES_PENDING_CHANNELS, 1);
	}
	pthread_mutex_unlock(&dev->lock);
}

/* Serves one device channel until it hangs up or breaks the protocol. */
static void *channel_thread(void *arg)
{
	struct magma_system_channel *ch = arg;
	struct magma_system_device *dev = ch->dev;
	bool handshake_done = false;

	for (;;) {
		struct wire_msg msg;
		int ret = wire_recv(ch->fd, &msg);

		if (ret)
			break;
		if (magma_system_validate_device_msg(&msg) ||
		    (!handshake_done && msg.hdr->type != WIRE_DEVICE_IMPORT)) {
			magma_system_log(MAGMA_LOG_WARNING,
					 "closing device channel: bad %s message",
					 wire_type_name(msg.hdr->type));
			wire_msg_free(&msg);
			break;
		}
		if (msg.hdr->type == WIRE_DEVICE_IMPORT) {
			const struct wire_device_import *m = (const void *)msg.hdr;
			struct wire_device_import_resp r;

			memset(&r, 0, sizeof(r));
			r.hdr.type = WIRE_RESP(46);
			r.protocol_version = WIRE_PROTOCOL_VERSION;
			r.status = m->protocol_version == WIRE_PROTOCOL_VERSION
					   ? MAGMA_STATUS_OK
					   : MAGMA_STATUS_INVALID_ARGS;
			handshake_done = r.status == MAGMA_STATUS_OK;
			if (handshake_done) /* before the client can see the reply */
				channel_handshake_done(ch);
			ret = send_reply(ch->fd, &r, sizeof(r), NULL, 0);
			if (!handshake_done)
				ret = -EPROTO;
		} else if (msg.hdr->type == WIRE_DEVICE_QUERY) {
			ret = handle_query(ch, &msg);
		} else {
			struct wire_create_connection_resp r;

			memset(&r, 0, sizeof(r));
			r.hdr.type = WIRE_RESP(50);
			r.status = create_connection(ch, &msg, &r.object_id_base);
			ret = send_reply(ch->fd, &r, sizeof(r), NULL, 0);
		}
		wire_msg_free(&msg);
		if (ret)
			break;
	}
	shutdown(ch->fd, SHUT_RDWR);
	pthread_mutex_lock(&dev->lock);
	ch->finished = true;
	pthread_cond_signal(&dev->reap_cond);
	pthread_mutex_unlock(&dev->lock);
	return NULL;
}

/* Makes @fd (owned; closed on failure) the token of @dev, closing the previous one. */
static int device_set_token(struct magma_system_device *dev, int fd)
{
	struct stat st;

	if (fstat(fd, &st)) {
		int e = errno;

		close(fd);
		return -e;
	}
	pthread_mutex_lock(&dev->lock);
	if (dev->token_fd >= 0)
		close(dev->token_fd);
	dev->token_fd = fd;
	dev->token_dev = st.st_dev;
	dev->token_ino = st.st_ino;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

_Static_assert(MAGMA_SYSTEM_QUERY_INSTANCE == WIRE_QUERY_DEVICE_INSTANCE,
	       "the instance query is one number on both sides");

/*
 * A device instance number: random, else (no getrandom) the time, pid and a counter mixed; never
 * 0. Unique enough to tell two devices or two daemon runs apart, not a secret.
 */
static uint64_t new_instance(void)
{
	static atomic_uint_fast64_t counter;
	uint64_t v = 0;
	struct timespec ts;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		v = ((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) ^
		    ((uint64_t)getpid() << 40) ^ (atomic_fetch_add(&counter, 1) << 20);
		/* splitmix64's finalizer, so that close inputs give distant numbers */
		v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ull;
		v = (v ^ (v >> 27)) * 0x94d049bb133111ebull;
		v ^= v >> 31;
	}
	return v ? v : 1;
}

/* magma_system_device_create_limited - see magma_system.h. */
struct magma_system_device *
magma_system_device_create_limited(void *platform_device, const struct magma_system_limits *limits,
				   uint32_t flags)
{
	struct magma_system_device *dev = calloc(1, sizeof(*dev));
	pthread_condattr_t attr;
	int fd;

	if (!dev)
		return NULL;
	dev->magic = MAGMA_SYSTEM_DEVICE_MAGIC;
	dev->next_object_id = 1;
	dev->instance = new_instance();
	dev->drv = msd_driver_create();
	if (!dev->drv)
		goto err_free;
	msd_driver_set_log_callback(dev->drv, device_msd_log, NULL);
	msd_driver_configure(dev->drv, (flags & MAGMA_SYSTEM_DEVICE_MAP_BUFFERS_ON_USE
						? MSD_DRIVER_CONFIG_MAP_BUFFERS_ON_USE
						: 0) |
					       (flags & MAGMA_SYSTEM_DEVICE_POLICY_ON_GPU_TIME
							? MSD_DRIVER_CONFIG_POLICY_ON_GPU_TIME
							: 0));
	dev->msd = msd_driver_create_device(dev->drv, platform_device);
	if (!dev->msd)
		goto err_driver;
	magma_system_account_init(&dev->acct, limits);
	pthread_mutex_init(&dev->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&dev->reap_cond, &attr);
	pthread_condattr_destroy(&attr);
	dev->token_fd = -1;
	fd = memfd_create("magma-perf-token", MFD_CLOEXEC);
	if (fd < 0 || device_set_token(dev, fd))
		goto err_device;
	if (pthread_create(&dev->reaper, NULL, device_reaper, dev))
		goto err_token;
	return dev;

err_token:
	close(dev->token_fd);
err_device:
	pthread_cond_destroy(&dev->reap_cond);
	pthread_mutex_destroy(&dev->lock);
	magma_system_account_fini(&dev->acct);
	msd_device_destroy(dev->msd);
err_driver:
	msd_driver_destroy(dev->drv);
err_free:
	free(dev);
	return NULL;
}

/* magma_system_device_create - see magma_system.h. */
struct magma_system_device *magma_system_device_create(void *platform_device)
{
	return magma_system_device_create_limited(platform_device, NULL, 0);
}

/* The pid the kernel recorded for @fd's peer; 0 when it has none (then all such share one). */
static pid_t peer_pid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || len != sizeof(cred))
		return 0;
	return cred.pid;
}

/* The name of process @pid (/proc/PID/comm, without its newline) into @comm; "" when unknown. */
static void read_comm(pid_t pid, char comm[MAGMA_SYSTEM_COMM_SIZE])
{
	char path[64];
	ssize_t n = -1;
	int fd;

	comm[0] = '\0';
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, comm, MAGMA_SYSTEM_COMM_SIZE - 1);
		close(fd);
	}
	comm[n > 0 ? n : 0] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

/* Charges a new channel to @client: a channel and a pending one. 0 or -EMFILE. */
static int channel_charge(struct magma_system_device *dev, struct magma_system_client *client)
{
	if (magma_system_account_charge(&dev->acct, client, MAGMA_SYSTEM_RES_CHANNELS, 1))
		return -EMFILE;
	if (magma_system_account_charge(&dev->acct, client, MAGMA_SYSTEM_RES_PENDING_CHANNELS, 1)) {
		magma_system_account_uncharge(&dev->acct, client, MAGMA_SYSTEM_RES_CHANNELS, 1);
		return -EMFILE;
	}
	return 0;
}

/* magma_system_device_serve - see magma_system.h. */
int magma_system_device_serve(struct magma_system_device *dev, int fd)
{
	struct magma_system_channel *ch;
	int ret;

	dev = device_of(dev);
	if (!dev || fd < 0) {
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	ch = calloc(1, sizeof(*ch));
	if (!ch) {
		close(fd);
		return -ENOMEM;
	}
	ch->dev = dev;
	ch->fd = fd;
	ch->client = magma_system_account_lookup(&dev->acct, peer_pid(fd));
	if (!ch->client) {
		ret = -ENOMEM;
		goto err_free;
	}
	if (dev->has_hooks)
		read_comm(ch->client->pid, ch->comm);
	clock_gettime(CLOCK_MONOTONIC, &ch->deadline);
	ch->deadline.tv_sec += dev->acct.limits.handshake_timeout_ms / 1000;
	ch->deadline.tv_nsec += (long)(dev->acct.limits.handshake_timeout_ms % 1000) * 1000000;
	if (ch->deadline.tv_nsec >= 1000000000) {
		ch->deadline.tv_sec++;
		ch->deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&dev->lock);
	device_reap_locked(dev); /* channels that just ended are given back first */
	if (dev->shutting_down) {
		ret = -ESHUTDOWN;
	} else {
		ret = channel_charge(dev, ch->client);
		if (!ret) {
			ret = -pthread_create(&ch->thread, NULL, channel_thread, ch);
			if (ret)
				channel_uncharge(dev, ch);
		}
		if (!ret) {
			ch->next = dev->channels;
			dev->channels = ch;
			dev->channel_count++;
			pthread_cond_signal(&dev->reap_cond); /* a new deadline to watch */
		}
	}
	pthread_mutex_unlock(&dev->lock);
	if (!ret)
		return 0;
	magma_system_account_client_put(&dev->acct, ch->client);
err_free:
	close(fd);
	free(ch);
	return ret;
}

/* magma_system_device_set_hooks - see magma_system.h. */
void magma_system_device_set_hooks(struct magma_system_device *dev,
				   const struct magma_system_hooks *hooks)
{
	dev = device_of(dev);
	if (!dev)
		return;
	dev->hooks = hooks ? *hooks : (struct magma_system_hooks){0};
	dev->has_hooks = hooks != NULL;
}

/* magma_system_device_get_hooks - see magma_system.h. */
void magma_system_device_get_hooks(struct magma_system_device *dev,
				   struct magma_system_hooks *hooks_out)
{
	dev = device_of(dev);
	*hooks_out = dev ? dev->hooks : (struct magma_system_hooks){0};
}

/* magma_system_device_instance - see magma_system.h. */
uint64_t magma_system_device_instance(struct magma_system_device *dev)
{
	dev = device_of(dev);
	return dev ? dev->instance : 0;
}

/* magma_system_device_set_instance - see magma_system.h. */
void magma_system_device_set_instance(struct magma_system_device *dev, uint64_t instance)
{
	dev = device_of(dev);
	if (dev && instance)
		dev->instance = instance;
}

/* magma_system_device_msd_driver - see magma_system.h. */
struct msd_driver_t *magma_system_device_msd_driver(struct magma_system_device *dev)
{
	dev = device_of(dev);
	return dev ? dev->drv : NULL;
}

/* magma_system_device_msd_device - see magma_system.h. */
struct msd_device_t *magma_system_device_msd_device(struct magma_system_device *dev)
{
	dev = device_of(dev);
	return dev ? dev->msd : NULL;
}

/* magma_system_device_kill_client - see magma_system.h. */
int magma_system_device_kill_client(struct magma_system_device *dev, uint64_t connection, pid_t pid)
{
	int ret = -ESRCH;

	dev = device_of(dev);
	if (!dev || (!connection && pid <= 0))
		return -EINVAL;
	if (!connection && pid == getpid())
		return -EPERM; /* it would kill the device and all its clients */
	pthread_mutex_lock(&dev->lock);
	for (struct magma_system_connection *c = dev->connections; c && ret == -ESRCH;
	     c = c->next) {
		if (c->finished || (connection ? c->number != connection : c->client->pid != pid))
			continue;
		pid = c->client->pid;
		if (pid <= 0 || pid == getpid()) {
			/* Killing this process would kill the device and all its clients. */
			magma_system_connection_shutdown(c);
			ret = 1;
		} else {
			ret = 0;
		}
	}
	for (struct magma_system_channel *ch = dev->channels; ch && ret == -ESRCH && !connection;
	     ch = ch->next) {
		if (!ch->finished && ch->client->pid == pid)
			ret = 0;
	}
	pthread_mutex_unlock(&dev->lock);
	if (ret == 0 && kill(pid, SIGKILL))
		ret = -errno;
	return ret;
}

/* magma_system_device_connection_count - see magma_system.h. */
/* magma_system_device_usage - see magma_system.h. */
void magma_system_device_usage(struct magma_system_device *dev,
			       uint64_t used[MAGMA_SYSTEM_RES_COUNT])
{
	dev = device_of(dev);
	if (!dev) {
		memset(used, 0, sizeof(uint64_t) * MAGMA_SYSTEM_RES_COUNT);
		return;
	}
	magma_system_account_usage(&dev->acct, used);
}

uint32_t magma_system_device_connection_count(struct magma_system_device *dev)
{
	uint32_t n = 0;

	dev = device_of(dev);
	if (!dev)
		return 0;
	pthread_mutex_lock(&dev->lock);
	for (struct magma_system_connection *c = dev->connections; c; c = c->next)
		n += !c->finished;
	pthread_mutex_unlock(&dev->lock);
	return n;
}

/* magma_system_device_perf_token - see magma_system.h. */
int magma_system_device_perf_token(struct magma_system_device *dev)
{
	int fd;

	dev = device_of(dev);
	if (!dev)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	fd = fcntl(dev->token_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		fd = -errno;
	pthread_mutex_unlock(&dev->lock);
	return fd;
}

/* magma_system_device_publish_perf_token - see magma_system.h. */
int magma_system_device_publish_perf_token(struct magma_system_device *dev, const char *path)
{
	int fd;

	dev = device_of(dev);
	if (!dev || !path)
		return -EINVAL;
	/* A fresh inode every time: a stale token file (and its holders) never matches. */
	if (unlink(path) && errno != ENOENT)
		return -errno;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600)) {
		int e = errno;

		close(fd);
		unlink(path);
		return -e;
	}
	return device_set_token(dev, fd);
}

/* magma_system_device_is_perf_token - see magma_system_internal.h. */
bool magma_system_device_is_perf_token(struct magma_system_device *dev, int fd)
{
	struct stat st;
	bool match;

	if (fd < 0 || fstat(fd, &st))
		return false;
	pthread_mutex_lock(&dev->lock);
	match = dev->token_fd >= 0 && st.st_dev == dev->token_dev && st.st_ino == dev->token_ino;
	pthread_mutex_unlock(&dev->lock);
	return match;
}

/* magma_system_device_destroy - see magma_system.h. */
void magma_system_device_destroy(struct magma_system_device *dev)
{
	dev = device_of(dev);
	if (!dev)
		return;
	pthread_mutex_lock(&dev->lock);
	dev->shutting_down = true;
	pthread_cond_signal(&dev->reap_cond);
	pthread_mutex_unlock(&dev->lock);
	pthread_join(dev->reaper, NULL); /* from here on only this thread reaps */
	pthread_mutex_lock(&dev->lock);
	for (struct magma_system_channel *ch = dev->channels; ch; ch = ch->next) {
		if (!ch->finished)
			shutdown(ch->fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&dev->lock);
	/* Channel threads first: after they end no connection can be added. */
	for (;;) {
		struct magma_system_channel *ch;

		pthread_mutex_lock(&dev->lock);
		ch = dev->channels;
		if (ch) {
			dev->channels = ch->next;
			dev->channel_count--;
		}
		pthread_mutex_unlock(&dev->lock);
		if (!ch)
			break;
		pthread_join(ch->thread, NULL);
		channel_free(dev, ch);
	}
	pthread_mutex_lock(&dev->lock);
	for (struct magma_system_connection *c = dev->connections; c; c = c->next) {
		if (!c->finished)
			magma_system_connection_shutdown(c);
	}
	pthread_mutex_unlock(&dev->lock);
	for (;;) {
		struct magma_system_connection *conn;

		pthread_mutex_lock(&dev->lock);
		conn = dev->connections;
		if (conn) {
			dev->connections = conn->next;
			dev->connection_count--;
		}
		pthread_mutex_unlock(&dev->lock);
		if (!conn)
			break;
		pthread_join(conn->thread, NULL);
		magma_system_connection_free(conn);
	}
	msd_device_destroy(dev->msd);
	msd_driver_destroy(dev->drv);
	if (dev->token_fd >= 0)
		close(dev->token_fd);
	magma_system_account_fini(&dev->acct);
	pthread_cond_destroy(&dev->reap_cond);
	pthread_mutex_destroy(&dev->lock);
	dev->magic = 0;
	free(dev);
}
