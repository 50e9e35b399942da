/* SPDX-License-Identifier: MIT */
/*
 * trace_replay_outside.c - what a trace does not hold, stood in for by the replay: handles the
 * client made itself and imported (an eventfd, a memfd, a closed fd number), and semaphores
 * signaled from outside the traced process (through the client's own eventfd, or by a child
 * process that imported an export: only the exporting process records).
 *
 * An import of a handle the trace never obtained gets a stand-in of the kind the recorded status
 * implies; a semaphore the recording's poll saw signaled, that no submission of the trace
 * signals and that the replay does not see signaled, is signaled through the replay's own end of
 * its eventfd. docs/trace-format.md, "Handles the client made itself". Runs on the replay's
 * thread.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "trace_replay_internal.h"

/*
 * @s's end outside the trace, or -1: the client's own eventfd it was imported from
 * (foreign_fd), or an export the trace never imported back (a child process or another program
 * has it: only the exporting process records).
 */
static int outside_end(struct replay *r, const struct replay_sem *s)
{
	const struct replay_ent *e;

	if (s->foreign_fd >= 0)
		return s->foreign_fd;
	if (s->export_fd < 0)
		return -1;
	e = trace_replay_map_find(&r->handles, s->export_rec, 0);
	return e && e->v == (uint64_t)s->export_fd ? s->export_fd : -1;
}

/*
 * trace_replay_signal_outside - see trace_replay_internal.h. The outside world's part in a poll. A
 * semaphore that the recording saw signaled (@results), that the replay does not see signaled and
 * that no submission of the trace signals (a CPU semaphore_signal took effect at once) was signaled
 * through its end outside the trace: a write to the client's own eventfd, or a child process that
 * imported the export. The replay makes that write now, unless it is signaled already.
 */
void trace_replay_signal_outside(struct replay *r, const cJSON *items, const cJSON *results)
{
	const cJSON *it, *res = results ? results->child : NULL;

	cJSON_ArrayForEach(it, items)
	{
		const struct replay_sem *s =
			u64(it, "type") == MAGMA_POLL_TYPE_SEMAPHORE
				? trace_replay_sem_by_handle(r, u64(it, "object"))
				: NULL;
		struct pollfd pfd = {.events = POLLIN};
		uint64_t one = 1;

		if (s && !s->has_signaler && res && item_u64(res) &&
		    (pfd.fd = outside_end(r, s)) >= 0 && poll(&pfd, 1, 0) == 0)
			(void)!write(pfd.fd, &one, sizeof(one));
		res = res ? res->next : NULL;
	}
}

/* The fd of the recorded "handle" argument, which an import consumes either way. */
static magma_handle_t take_handle(struct replay *r, const cJSON *args)
{
	uint64_t fd = UINT64_MAX;

	trace_replay_lookup(&r->handles, u64(args, "handle"), 0, &fd);
	trace_replay_map_put(&r->handles, u64(args, "handle"), 0, UINT64_MAX);
	return (magma_handle_t)fd;
}

/*
 * trace_replay_import_handle - see trace_replay_internal.h. The handle for an import of event
 * @ev: the export's fd when the trace obtained the recorded
 * handle and it was not consumed yet (take_handle); for one it never did (the client made it
 * itself: an eventfd, a memfd, a closed fd number; fd numbers are reused), a fresh handle that
 * the import treats as the recording's did: on OK an eventfd for a semaphore and a sealable memfd
 * of the recorded size for a buffer, on INVALID_ARGS the other kind (a handle of the wrong kind),
 * else -1 (no handle). A host error goes into *@fail. With @foreign_out, a fresh eventfd is also
 * dup'ed into it (else -1): the client's own end of it.
 */
magma_handle_t trace_replay_import_handle(struct replay *r, const cJSON *ev, const cJSON *args,
					  const cJSON *out, bool semaphore, int *fail,
					  int *foreign_out)
{
	magma_status_t st = status_of(ev);
	bool want_eventfd = semaphore == (st == MAGMA_STATUS_OK);
	const struct replay_ent *known;
	int fd;

	*fail = 0;
	if (foreign_out)
		*foreign_out = -1;
	known = trace_replay_map_find(&r->handles, u64(args, "handle"), 0);
	if (known && known->v != UINT64_MAX)
		return take_handle(r, args);
	if (st != MAGMA_STATUS_OK && st != MAGMA_STATUS_INVALID_ARGS)
		return (magma_handle_t)-1;
	fd = want_eventfd ? eventfd(0, EFD_CLOEXEC)
			  : memfd_create("replay-import", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd >= 0 && !want_eventfd && ftruncate(fd, (off_t)u64(out, "size"))) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0 && want_eventfd && foreign_out)
		*foreign_out = dup(fd);
	if (fd < 0)
		*fail = trace_replay_fail(r, TRACE_REPLAY_ENV_ERROR, "a handle to import: %s",
					  strerror(errno));
	return (magma_handle_t)fd;
}
