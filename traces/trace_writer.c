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
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "traces/trace.h"

struct trace_writer {
	pthread_mutex_t lock;
	FILE *f;	    /* guarded by lock */
	uint64_t seq;	    /* guarded by lock: events written */
	uint64_t *blobs;    /* guarded by lock: digest set (0 = empty slot) */
	size_t blob_cap;    /* guarded by lock: power of two */
	size_t blob_count;  /* guarded by lock */
	bool has_zero_blob; /* guarded by lock: digest 0 cannot live in the set */
};

/* trace_writer_open - see trace.h. */
struct trace_writer *trace_writer_open(const char *path, const char *writer)
{
	struct trace_writer *w = calloc(1, sizeof(*w));

	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	w->f = fopen(path, "we");
	if (!w->f)
		goto err_free;
	setvbuf(w->f, NULL, _IOFBF, 1 << 20);
	pthread_mutex_init(&w->lock, NULL);
	fprintf(w->f,
		"{\"format\":\"%s\",\"version\":%d,\"writer\":\"%s\",\"digest\":\"fnv1a64\","
		"\"events\":[\n",
		TRACE_FORMAT_NAME, TRACE_FORMAT_VERSION, writer);
	return w;

err_free:
	free(w);
	return NULL;
}

/* trace_writer_event - see trace.h. */
uint64_t trace_writer_event(struct trace_writer *w, const char *fmt, ...)
{
	va_list ap;
	uint64_t seq;

	pthread_mutex_lock(&w->lock);
	if (!w->f) {
		pthread_mutex_unlock(&w->lock);
		return 0;
	}
	seq = w->seq++;
	fprintf(w->f, "{\"seq\":%" PRIu64 ",", seq);
	va_start(ap, fmt);
	vfprintf(w->f, fmt, ap);
	va_end(ap);
	fputs("},\n", w->f);
	pthread_mutex_unlock(&w->lock);
	return seq;
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

	pthread_mutex_lock(&w->lock);
	if (!blob_set_add_locked(w, d)) {
		pthread_mutex_unlock(&w->lock);
		return d;
	}
	pthread_mutex_unlock(&w->lock);
	/* Encoding outside the lock; a racing duplicate is harmless (same content). */
	text = trace_blob_encode(data, len);
	trace_digest_hex(d, hex);
	trace_writer_event(w, "\"type\":\"blob\",\"digest\":\"%s\",\"size\":%zu,\"data\":\"%s\"",
			   hex, len, text ? text : "");
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
		fprintf(w->f, "{\"seq\":%" PRIu64 ",\"type\":\"end\",\"events\":%" PRIu64 "}\n]}\n",
			w->seq, w->seq);
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
	free(w->blobs);
	free(w);
}

/* ---- The process-wide trace ---- */

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static struct trace_writer *global_writer; /* guarded by global_lock */
static bool global_checked;		   /* guarded by global_lock */
static pid_t global_pid;		   /* guarded by global_lock: the process that opened it */

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
	w = trace_writer_open(path, "libmagma");
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
	w = global_pid == getpid() ? global_writer : NULL;
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
	pthread_mutex_unlock(&global_lock);
	return old;
}
