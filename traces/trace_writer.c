/* SPDX-License-Identifier: MIT */
/*
 * trace_writer.c - the trace writer and the process-wide trace of $MAGMA_TRACE.
 *
 * Layout (docs/trace-format.md): a header line that opens the document and its "events" array,
 * then one event object per line, each followed by a comma, then a final "end" event and "]}".
 * A file without the end event was cut short (the process crashed or was killed) and readers
 * say so. Blobs are deduplicated by digest in an open-addressing set. Everything is serialised
 * by the writer's mutex, a leaf lock: device events arrive with the sim's device lock held and
 * the writer never calls back into the sim. The writer does not sync to disk; it flushes its
 * stdio buffer on trace_writer_flush and on close. A forked child drops its copy of the
 * process-wide trace (pthread_atfork) and records nothing.
 *
 * Host times: with TRACE_WRITER_HOST_TIME an event ends with "ns", CLOCK_MONOTONIC taken under
 * the lock (so the stamps follow file order); libmagma's writer stamps its own events and leaves
 * the embedded device's dev events alone, magma-simd's stamps those too, so that a client's
 * trace and a daemon's merge by time (magma-trace merge).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "traces/trace.h"

struct trace_writer {
	pthread_mutex_t lock;
	uint32_t flags;	     /* TRACE_WRITER_*, fixed at open */
	FILE *f;	     /* guarded by lock */
	uint64_t seq;	     /* guarded by lock: events written */
	uint64_t *blobs;     /* guarded by lock: digest set (0 = empty slot) */
	size_t blob_cap;     /* guarded by lock: power of two */
	size_t blob_count;   /* guarded by lock */
	bool has_zero_blob;  /* guarded by lock: digest 0 cannot live in the set */
	uint32_t submitting; /* guarded by lock: submissions started, their events not written */
	pthread_cond_t submitted; /* broadcast when @submitting goes down */
};

/*
 * Opens @path for writing without truncating it, takes its flock, then truncates it: a file
 * another writer holds stays untouched (EBUSY).
 */
static FILE *open_exclusive(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644), err;
	FILE *f;

	if (fd < 0)
		return NULL;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? EBUSY : errno;
		goto err_close;
	}
	if (ftruncate(fd, 0)) {
		err = errno;
		goto err_close;
	}
	f = fdopen(fd, "w");
	if (f)
		return f;
	err = errno;
err_close:
	close(fd);
	errno = err;
	return NULL;
}

/* trace_writer_open_flags - see trace.h. */
struct trace_writer *trace_writer_open_flags(const char *path, const char *writer, uint32_t flags,
					     const char *header_members)
{
	struct trace_writer *w = calloc(1, sizeof(*w));

	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	w->flags = flags;
	w->f = flags & TRACE_WRITER_EXCLUSIVE ? open_exclusive(path) : fopen(path, "we");
	if (!w->f)
		goto err_free;
	setvbuf(w->f, NULL, _IOFBF, 1 << 20);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->submitted, NULL);
	fprintf(w->f, "{\"format\":\"%s\",\"version\":%d,\"writer\":\"%s\",\"digest\":\"fnv1a64\",",
		TRACE_FORMAT_NAME, TRACE_FORMAT_VERSION, writer);
	if (flags & (TRACE_WRITER_HOST_TIME | TRACE_WRITER_HOST_TIME_DEV))
		fprintf(w->f, "\"clock\":\"monotonic\",\"pid\":%d,", (int)getpid());
	if (header_members && *header_members)
		fprintf(w->f, "%s,", header_members);
	fputs("\"events\":[\n", w->f);
	return w;

err_free:
	free(w);
	return NULL;
}

/* trace_writer_open - see trace.h. */
struct trace_writer *trace_writer_open(const char *path, const char *writer)
{
	return trace_writer_open_flags(path, writer, 0, NULL);
}

/* CLOCK_MONOTONIC in nanoseconds. */
static uint64_t host_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* writer_vevent with w->lock held. */
static uint64_t writer_vevent_locked(struct trace_writer *w, bool stamp, const char *fmt,
				     va_list ap)
{
	uint64_t seq;

	if (!w->f)
		return 0;
	seq = w->seq++;
	fprintf(w->f, "{\"seq\":%" PRIu64 ",", seq);
	vfprintf(w->f, fmt, ap);
	if (stamp)
		fprintf(w->f, ",\"ns\":%" PRIu64, host_ns());
	fputs("},\n", w->f);
	return seq;
}

/* Writes one event of @fmt/@ap, with "ns" when @stamp. Returns its sequence number. */
static uint64_t writer_vevent(struct trace_writer *w, bool stamp, const char *fmt, va_list ap)
{
	uint64_t seq;

	pthread_mutex_lock(&w->lock);
	seq = writer_vevent_locked(w, stamp, fmt, ap);
	pthread_mutex_unlock(&w->lock);
	return seq;
}

/* trace_writer_event - see trace.h. */
uint64_t trace_writer_event(struct trace_writer *w, const char *fmt, ...)
{
	va_list ap;
	uint64_t seq;

	va_start(ap, fmt);
	seq = writer_vevent(w, w->flags & (TRACE_WRITER_HOST_TIME | TRACE_WRITER_HOST_TIME_DEV),
			    fmt, ap);
	va_end(ap);
	return seq;
}

/* This thread's held dev events (trace_writer_hold): event bodies, each ending in '\0'. */
static _Thread_local struct {
	struct trace_writer *w;
	unsigned int depth;
	char *buf;
	size_t len, cap;
} held;

/* Appends one event body of @fmt/@ap (and its "ns" when @stamp) to this thread's held events. */
static void held_append(bool stamp, const char *fmt, va_list ap)
{
	char ns[40] = "";
	va_list copy;
	size_t need;
	int n;

	if (stamp)
		snprintf(ns, sizeof(ns), ",\"ns\":%" PRIu64, host_ns());
	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return;
	need = held.len + (size_t)n + strlen(ns) + 1;
	if (need > held.cap) {
		size_t cap = held.cap ? held.cap : 4096;
		char *nb;

		while (cap < need)
			cap *= 2;
		nb = realloc(held.buf, cap);
		if (!nb)
			return; /* out of memory: the event is lost, like a failed fprintf */
		held.buf = nb;
		held.cap = cap;
	}
	vsnprintf(held.buf + held.len, (size_t)n + 1, fmt, ap);
	held.len += (size_t)n;
	memcpy(held.buf + held.len, ns, strlen(ns) + 1);
	held.len += strlen(ns) + 1;
}

/* trace_writer_dev_event - see trace.h. */
uint64_t trace_writer_dev_event(struct trace_writer *w, const char *fmt, ...)
{
	bool stamp = w->flags & TRACE_WRITER_HOST_TIME_DEV;
	va_list ap;
	uint64_t seq = 0;

	va_start(ap, fmt);
	if (held.depth && held.w == w)
		held_append(stamp, fmt, ap);
	else
		seq = writer_vevent(w, stamp, fmt, ap);
	va_end(ap);
	return seq;
}

/* trace_writer_submit_begin - see trace.h. */
void trace_writer_submit_begin(struct trace_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->submitting++;
	pthread_mutex_unlock(&w->lock);
}

/* trace_writer_submit_end - see trace.h. */
void trace_writer_submit_end(struct trace_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	if (w->submitting)
		w->submitting--;
	pthread_cond_broadcast(&w->submitted);
	pthread_mutex_unlock(&w->lock);
}

/* trace_writer_await_submits - see trace.h. Bounded: a submission stuck in its call for good
 * (flow control against a service that never answers) must not hold a waiter forever. */
void trace_writer_await_submits(struct trace_writer *w)
{
	struct timespec until;

	if (!w)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	pthread_mutex_lock(&w->lock);
	while (w->submitting && pthread_cond_timedwait(&w->submitted, &w->lock, &until) == 0)
		;
	pthread_mutex_unlock(&w->lock);
}

/* trace_writer_hold - see trace.h. */
void trace_writer_hold(struct trace_writer *w)
{
	if (!w || (held.depth && held.w != w))
		return;
	held.w = w;
	held.depth++;
}

/* trace_writer_release - see trace.h. The buffer is freed: a thread may end at any time. */
void trace_writer_release(struct trace_writer *w)
{
	if (!w || !held.depth || held.w != w || --held.depth)
		return;
	if (held.len) {
		pthread_mutex_lock(&w->lock);
		for (size_t off = 0; off < held.len; off += strlen(held.buf + off) + 1) {
			if (w->f)
				fprintf(w->f, "{\"seq\":%" PRIu64 ",%s},\n", w->seq++,
					held.buf + off);
		}
		pthread_mutex_unlock(&w->lock);
	}
	free(held.buf);
	held.buf = NULL;
	held.len = held.cap = 0;
	held.w = NULL;
}

/* A blob event, w->lock held: never stamped (content, not something that happened). */
static void writer_blob_event_locked(struct trace_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void writer_blob_event_locked(struct trace_writer *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	writer_vevent_locked(w, false, fmt, ap);
	va_end(ap);
}

/* Whether @d is in the set. */
static bool blob_set_has_locked(const struct trace_writer *w, uint64_t d)
{
	size_t mask;

	if (!d)
		return w->has_zero_blob;
	if (!w->blob_cap)
		return false;
	mask = w->blob_cap - 1;
	for (size_t j = (size_t)d & mask; w->blobs[j]; j = (j + 1) & mask) {
		if (w->blobs[j] == d)
			return true;
	}
	return false;
}

/* Adds @d to the set; true when it was new. */
static bool blob_set_add_locked(struct trace_writer *w, uint64_t d)
{
	size_t mask;

	if (!d) {
		bool was = w->has_zero_blob;

		w->has_zero_blob = true;
		return !was;
	}
	if ((w->blob_count + 1) * 2 > w->blob_cap) {
		size_t cap = w->blob_cap ? w->blob_cap * 2 : 256;
		uint64_t *nb = calloc(cap, sizeof(*nb));

		if (!nb)
			return true; /* degrade: write the blob again rather than lose it */
		for (size_t i = 0; i < w->blob_cap; i++) {
			size_t j = (size_t)w->blobs[i] & (cap - 1);

			if (!w->blobs[i])
				continue;
			while (nb[j])
				j = (j + 1) & (cap - 1);
			nb[j] = w->blobs[i];
		}
		free(w->blobs);
		w->blobs = nb;
		w->blob_cap = cap;
	}
	mask = w->blob_cap - 1;
	for (size_t j = (size_t)d & mask;; j = (j + 1) & mask) {
		if (w->blobs[j] == d)
			return false;
		if (!w->blobs[j]) {
			w->blobs[j] = d;
			w->blob_count++;
			return true;
		}
	}
}

/* trace_writer_blob - see trace.h. */
uint64_t trace_writer_blob(struct trace_writer *w, const void *data, size_t len)
{
	uint64_t d = trace_digest(data, len);
	char hex[17];
	char *text;

	bool known;

	pthread_mutex_lock(&w->lock);
	known = blob_set_has_locked(w, d);
	pthread_mutex_unlock(&w->lock);
	if (known)
		return d;
	/*
	 * Encoded outside the lock, but entered in the set only together with its line: a digest
	 * in the set is a blob already in the file, so another thread's event naming it can never
	 * come first. Two threads encoding the same blob at once write it once.
	 */
	text = trace_blob_encode(data, len);
	trace_digest_hex(d, hex);
	pthread_mutex_lock(&w->lock);
	if (blob_set_add_locked(w, d))
		writer_blob_event_locked(
			w, "\"type\":\"blob\",\"digest\":\"%s\",\"size\":%zu,\"data\":\"%s\"", hex,
			len, text ? text : "");
	pthread_mutex_unlock(&w->lock);
	free(text);
	return d;
}

/* trace_writer_flush - see trace.h. */
void trace_writer_flush(struct trace_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	if (w->f)
		fflush(w->f);
	pthread_mutex_unlock(&w->lock);
}

/* Writes the end of the document and closes the file; later events are dropped. */
static void trace_writer_finish(struct trace_writer *w)
{
	pthread_mutex_lock(&w->lock);
	if (w->f) {
		fprintf(w->f, "{\"seq\":%" PRIu64 ",\"type\":\"end\",\"events\":%" PRIu64, w->seq,
			w->seq);
		if (w->flags & (TRACE_WRITER_HOST_TIME | TRACE_WRITER_HOST_TIME_DEV))
			fprintf(w->f, ",\"ns\":%" PRIu64, host_ns());
		fputs("}\n]}\n", w->f);
		fclose(w->f);
		w->f = NULL;
	}
	pthread_mutex_unlock(&w->lock);
}

/* trace_writer_close - see trace.h. */
void trace_writer_close(struct trace_writer *w)
{
	if (!w)
		return;
	trace_writer_finish(w);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->submitted);
	free(w->blobs);
	free(w);
}

/* trace_writer_forget - see trace.h. */
void trace_writer_forget(struct trace_writer *w)
{
	if (!w)
		return;
	if (w->f) {
		__fpurge(w->f);
		fclose(w->f);
	}
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->submitted);
	free(w->blobs);
	free(w);
}

/* ---- The process-wide trace ---- */

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static struct trace_writer *global_writer; /* guarded by global_lock */
static bool global_checked;		   /* guarded by global_lock */
/* Checked and no writer: the usual answer, read without the lock on every libmagma call. */
static atomic_bool global_none;
static pid_t global_pid; /* guarded by global_lock: the process that opened it */

/*
 * Closes the document but keeps the writer: device threads that outlive the exit handlers may
 * still report events, which are then dropped instead of touching freed memory.
 */
static void global_at_exit(void)
{
	pthread_mutex_lock(&global_lock);
	if (global_writer && global_pid == getpid())
		trace_writer_finish(global_writer);
	pthread_mutex_unlock(&global_lock);
}

/*
 * fork: the child must neither write its copy of the stdio buffer (exit() would flush it into
 * the parent's trace) nor find a lock held by a thread that does not exist in it.
 */
static void global_fork_prepare(void)
{
	pthread_mutex_lock(&global_lock);
	if (global_writer)
		pthread_mutex_lock(&global_writer->lock);
}

static void global_fork_parent(void)
{
	if (global_writer)
		pthread_mutex_unlock(&global_writer->lock);
	pthread_mutex_unlock(&global_lock);
}

static void global_fork_child(void)
{
	struct trace_writer *w = global_writer;

	if (w) {
		if (w->f) {
			__fpurge(w->f);
			fclose(w->f);
			w->f = NULL;
		}
		pthread_mutex_unlock(&w->lock);
	}
	pthread_mutex_unlock(&global_lock);
}

/*
 * Whether another process is writing the trace at @path: its writer holds an exclusive flock on
 * the file for as long as it writes (a client that starts itself again with exec inherits
 * MAGMA_TRACE, and must not truncate its parent's trace).
 */
static bool trace_file_busy(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool busy;

	if (fd < 0)
		return false;
	busy = flock(fd, LOCK_EX | LOCK_NB) && errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

/*
 * Opens the process-wide writer at $MAGMA_TRACE, or at $MAGMA_TRACE.PID when another process
 * writes that file, and holds the file's flock until exit.
 */
static struct trace_writer *global_open(const char *path)
{
	char own[4096];
	struct trace_writer *w;

	if (trace_file_busy(path)) {
		snprintf(own, sizeof(own), "%s.%d", path, (int)getpid());
		fprintf(stderr, "magma: MAGMA_TRACE=%s is another process's trace: writing %s\n",
			path, own);
		path = own;
	}
	w = trace_writer_open_flags(path, "libmagma", TRACE_WRITER_HOST_TIME, NULL);
	if (!w)
		fprintf(stderr, "magma: MAGMA_TRACE=%s: cannot create: %s\n", path,
			strerror(errno));
	else
		(void)flock(fileno(w->f), LOCK_EX | LOCK_NB);
	return w;
}

/* trace_global - see trace.h. */
struct trace_writer *trace_global(void)
{
	struct trace_writer *w;

	if (atomic_load_explicit(&global_none, memory_order_acquire))
		return NULL;
	pthread_mutex_lock(&global_lock);
	if (!global_checked) {
		const char *path = getenv("MAGMA_TRACE");

		global_checked = true;
		if (path && *path) {
			global_writer = global_open(path);
			if (global_writer && !atexit(global_at_exit))
				pthread_atfork(global_fork_prepare, global_fork_parent,
					       global_fork_child);
			global_pid = getpid();
		}
	}
	/* A forked child does not write into its parent's trace. */
	w = global_writer && global_pid == getpid() ? global_writer : NULL;
	if (!global_writer)
		atomic_store_explicit(&global_none, true, memory_order_release);
	pthread_mutex_unlock(&global_lock);
	return w;
}

/* trace_global_install - see trace.h. */
struct trace_writer *trace_global_install(struct trace_writer *w)
{
	struct trace_writer *old;

	pthread_mutex_lock(&global_lock);
	global_checked = true;
	old = global_writer;
	global_writer = w;
	global_pid = getpid();
	atomic_store_explicit(&global_none, w == NULL, memory_order_release);
	pthread_mutex_unlock(&global_lock);
	return old;
}
