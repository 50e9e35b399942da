/* SPDX-License-Identifier: MIT */
/*
 * msd_test_util.c - fixtures for the msd-sim tests (see msd_test_util.h).
 */
#include "msd_test_util.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "msd_sim_internal.h"
#include "sim/sim_cmd.h"
#include "sim/sim_isa.h"

static void mt_log(void *ctx, int32_t level, const char *file, int32_t line, const char *msg)
{
	struct mt *t = ctx;
	int n;

	(void)file;
	(void)line;
	pthread_mutex_lock(&t->lock);
	if (t->log_len < MT_LOG_SIZE - 1) {
		n = snprintf(t->log + t->log_len, MT_LOG_SIZE - t->log_len, "[%d] %s\n", level,
			     msg);
		if (n > 0)
			t->log_len += (size_t)n;
		if (t->log_len >= MT_LOG_SIZE)
			t->log_len = MT_LOG_SIZE - 1;
	}
	pthread_mutex_unlock(&t->lock);
}

/* mt_create - see msd_test_util.h. */
struct mt *mt_create(bool threaded)
{
	return mt_create_cfg(threaded, NULL);
}

/* mt_create_cfg - see msd_test_util.h. */
struct mt *mt_create_cfg(bool threaded, const struct sim_config *cfg)
{
	struct mt *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->threaded = threaded;
	t->sub = -1;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	t->sim = sim_create(cfg);
	t->drv = msd_driver_create();
	if (!t->sim || !t->drv)
		goto err;
	msd_driver_set_log_callback(t->drv, mt_log, t);
	if (!threaded)
		msd_driver_configure(t->drv, MSD_DRIVER_CONFIG_TEST_NO_DEVICE_THREAD);
	/* The host clocks the GPU, the driver does not (msd_sim_hooks.h). */
	if (sim_start(t->sim))
		goto err;
	t->dev = msd_driver_create_device(t->drv, t->sim);
	if (!t->dev)
		goto err;
	/* Test mode: the test steps the clock itself from here on. */
	if (!threaded)
		sim_stop(t->sim);
	return t;
err:
	msd_driver_destroy(t->drv);
	if (t->sim)
		sim_stop(t->sim);
	sim_destroy(t->sim);
	free(t);
	return NULL;
}

/* mt_destroy - see msd_test_util.h. */
void mt_destroy(struct mt *t)
{
	if (!t)
		return;
	mt_record_stop(t);
	if (t->dev)
		msd_device_destroy(t->dev);
	msd_driver_destroy(t->drv);
	sim_stop(t->sim); /* after the driver is gone: see msd_sim_hooks.h */
	sim_destroy(t->sim);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* mt_buf_create - see msd_test_util.h. 0 or -1. */
int mt_buf_create(struct mt *t, uint64_t size, struct mt_buf *b)
{
	memset(b, 0, sizeof(*b));
	b->fd = memfd_create("mt-buf", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (b->fd < 0 || ftruncate(b->fd, (off_t)size))
		return -1;
	b->size = size;
	b->host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (b->host == MAP_FAILED)
		return -1;
	if (msd_driver_import_buffer(t->drv, (magma_handle_t)dup(b->fd), 1, &b->buf) !=
	    MAGMA_STATUS_OK)
		return -1;
	return 0;
}

/* mt_buf_destroy - see msd_test_util.h. */
void mt_buf_destroy(struct mt_buf *b)
{
	if (b->buf)
		msd_buffer_release(b->buf);
	if (b->host && b->host != MAP_FAILED)
		munmap(b->host, b->size);
	if (b->fd >= 0)
		close(b->fd);
	memset(b, 0, sizeof(*b));
	b->fd = -1;
}

/* mt_sem_create - see msd_test_util.h. 0 or -1. */
int mt_sem_create(struct mt *t, uint64_t flags, struct mt_sem *s)
{
	s->sem = NULL;
	s->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->fd < 0)
		return -1;
	if (msd_driver_import_semaphore(t->drv, (magma_handle_t)dup(s->fd), 1, flags, &s->sem) !=
	    MAGMA_STATUS_OK)
		return -1;
	return 0;
}

/* mt_sem_destroy - see msd_test_util.h. */
void mt_sem_destroy(struct mt_sem *s)
{
	if (s->sem)
		msd_semaphore_release(s->sem);
	if (s->fd >= 0)
		close(s->fd);
	s->sem = NULL;
	s->fd = -1;
}

/* mt_fd_readable - see msd_test_util.h. */
bool mt_fd_readable(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

/* mt_fd_signal - see msd_test_util.h. */
void mt_fd_signal(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		abort();
}

/* Test mode: neither the GPU nor the driver has work left (jobs held for semaphores aside). */
static bool mt_idle(struct mt *t)
{
	struct msd_sim_device *dev = (struct msd_sim_device *)t->dev;
	bool idle;

	msd_sim_mutex_lock(&dev->lock);
	/* Jobs held for semaphores do not count: only the host can release them. */
	idle = dev->sched.ready == 0;
	for (uint32_t q = 0; q < dev->queue_count; q++)
		idle = idle && dev->queues[q].head == dev->queues[q].tail;
	msd_sim_mutex_unlock(&dev->lock);
	return idle && sim_is_idle(t->sim) && !sim_irq_is_asserted(t->sim);
}

/* mt_run - see msd_test_util.h. */
void mt_run(struct mt *t)
{
	if (t->threaded)
		return;
	for (int i = 0; i < 64; i++) {
		sim_clock_run_until_idle(t->sim, 100000000, NULL);
		msd_sim_device_poll((struct msd_sim_device *)t->dev);
		if (mt_idle(t))
			return;
	}
}

/* mt_run_cycles - see msd_test_util.h. */
uint64_t mt_run_cycles(struct mt *t, int fd, uint64_t max_cycles)
{
	const uint64_t slice = 10000;
	uint64_t used = 0;
	int still = 0; /* rounds in a row in which the GPU had nothing to do */

	for (;;) {
		uint64_t elapsed = 0;

		msd_sim_device_poll((struct msd_sim_device *)t->dev);
		if (fd >= 0 ? mt_fd_readable(fd, 0) : mt_idle(t))
			return used;
		if (used >= max_cycles || still > 2)
			return UINT64_MAX;
		sim_clock_run_until_idle(
			t->sim, max_cycles - used < slice ? max_cycles - used : slice, &elapsed);
		used += elapsed;
		still = elapsed ? 0 : still + 1;
	}
}

/* mt_wait - see msd_test_util.h. */
bool mt_wait(struct mt *t, int fd, int timeout_ms)
{
	if (!t->threaded) {
		mt_run(t);
		return mt_fd_readable(fd, 0);
	}
	return mt_fd_readable(fd, timeout_ms);
}

static void mt_event(void *ctx, const struct sim_event *ev)
{
	struct mt *t = ctx;

	if (t->nregs >= MT_MAX_EVENTS)
		return;
	t->regs[t->nregs].write = ev->type == SIM_EV_REG_WRITE;
	t->regs[t->nregs].offset = ev->code;
	t->regs[t->nregs].value = (uint32_t)ev->value;
	t->nregs++;
}

/* mt_record_start - see msd_test_util.h. Clears what was recorded before. */
void mt_record_start(struct mt *t)
{
	mt_record_stop(t);
	t->nregs = 0;
	t->sub = sim_events_subscribe(
		t->sim, SIM_EV_MASK(SIM_EV_REG_WRITE) | SIM_EV_MASK(SIM_EV_REG_READ), mt_event, t);
}

/* mt_record_stop - see msd_test_util.h. */
void mt_record_stop(struct mt *t)
{
	if (t->sub >= 0)
		sim_events_unsubscribe(t->sim, t->sub);
	t->sub = -1;
}

/* mt_writes_in - see msd_test_util.h. */
uint32_t mt_writes_in(struct mt *t, uint32_t lo, uint32_t hi, struct mt_reg *out, uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < t->nregs && n < max; i++) {
		if (t->regs[i].write && t->regs[i].offset >= lo && t->regs[i].offset < hi)
			out[n++] = t->regs[i];
	}
	return n;
}

static void mt_notify(void *token, struct msd_notification_t *n)
{
	struct mt *t = token;
	struct mt_note *note;

	pthread_mutex_lock(&t->lock);
	if (t->nnotes < MT_MAX_NOTES) {
		note = &t->notes[t->nnotes++];
		memset(note, 0, sizeof(*note));
		note->type = n->type;
		if (n->type == MSD_CONNECTION_NOTIFICATION_CHANNEL_SEND) {
			note->size = n->u.channel_send.size;
			memcpy(note->data, n->u.channel_send.data,
			       note->size < sizeof(note->data) ? note->size : sizeof(note->data));
		} else if (n->type ==
			   MSD_CONNECTION_NOTIFICATION_PERFORMANCE_COUNTERS_READ_COMPLETED) {
			note->pool_id = n->u.perf_counter_result.pool_id;
			note->buffer_id = n->u.perf_counter_result.buffer_id;
			note->trigger_id = n->u.perf_counter_result.trigger_id;
			note->buffer_offset = n->u.perf_counter_result.buffer_offset;
			note->result_flags = n->u.perf_counter_result.result_flags;
		}
	}
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

/* mt_notify_install - see msd_test_util.h. */
void mt_notify_install(struct mt *t, struct msd_connection_t *conn)
{
	msd_connection_set_notification_callback(conn, mt_notify, t);
}

/* mt_notify_wait - see msd_test_util.h. */
bool mt_notify_wait(struct mt *t, uint32_t n, int timeout_ms)
{
	struct timespec ts;
	bool ok;

	mt_run(t);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&t->lock);
	while (t->nnotes < n) {
		if (pthread_cond_timedwait(&t->cond, &t->lock, &ts))
			break;
	}
	ok = t->nnotes >= n;
	pthread_mutex_unlock(&t->lock);
	return ok;
}

/* mt_write_words - see msd_test_util.h. */
void mt_write_words(struct mt_buf *b, uint64_t off, const uint32_t *words, uint32_t count)
{
	memcpy((uint8_t *)b->host + off, words, count * 4ull);
}

/* mt_exec - see msd_test_util.h. */
magma_status_t mt_exec(struct msd_context_t *ctx, struct mt_buf *b, uint64_t start, uint64_t end,
		       struct mt_sem *wait, struct mt_sem *signal, uint64_t flags)
{
	struct magma_exec_resource res = {.buffer_id = 1, .offset = 0, .length = end};
	struct magma_exec_command_buffer cb = {.resource_index = 0, .start_offset = start};
	struct msd_buffer_t *bufs[1] = {b->buf};
	struct msd_semaphore_t *waits[1] = {wait ? wait->sem : NULL};
	struct msd_semaphore_t *signals[1] = {signal ? signal->sem : NULL};
	struct msd_command_descriptor desc = {
		.command_buffer_count = 1,
		.resource_count = 1,
		.wait_semaphore_count = wait ? 1 : 0,
		.signal_semaphore_count = signal ? 1 : 0,
		.flags = flags,
		.command_buffers = &cb,
		.exec_resources = &res,
		.buffers = bufs,
		.wait_semaphores = waits,
		.signal_semaphores = signals,
	};

	return msd_context_execute_command_buffers(ctx, &desc);
}

/* mt_total_time_ns - see msd_test_util.h. */
uint64_t mt_total_time_ns(struct mt *t)
{
	magma_total_time_query_result_t r = {0};
	magma_handle_t fd = 0;

	if (msd_device_query(t->dev, MAGMA_QUERY_TOTAL_TIME, &fd, NULL) != MAGMA_STATUS_OK)
		return 0;
	if (pread((int)fd, &r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r.gpu_time_ns = 0;
	close((int)fd);
	return r.gpu_time_ns;
}

/* mt_client_init - see msd_test_util.h. */
int mt_client_init(struct mt *t, struct mt_client *c, uint64_t id, magma_priority_t prio,
		   uint64_t size, bool notify)
{
	memset(c, 0, sizeof(*c));
	c->conn = msd_device_open(t->dev, id);
	if (!c->conn)
		return -1;
	c->ctx = msd_connection_create_context(c->conn, prio);
	if (!c->ctx || mt_buf_create(t, size, &c->b) || mt_sem_create(t, 0, &c->done))
		return -1;
	if (notify)
		mt_notify_install(t, c->conn);
	return msd_connection_map_buffer(c->conn, c->b.buf, MT_CLIENT_VA, 0, size,
					 MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE) ==
			       MAGMA_STATUS_OK
		       ? 0
		       : -1;
}

/* mt_client_fini - see msd_test_util.h. */
void mt_client_fini(struct mt_client *c)
{
	if (c->ctx)
		msd_context_destroy(c->ctx);
	msd_connection_release_buffer(c->conn, c->b.buf);
	if (c->prog.buf) {
		msd_connection_release_buffer(c->conn, c->prog.buf);
		mt_buf_destroy(&c->prog);
	}
	mt_buf_destroy(&c->b);
	mt_sem_destroy(&c->done);
	msd_connection_close(c->conn);
}

/* mt_client_words - see msd_test_util.h. */
uint32_t *mt_client_words(struct mt_client *c, uint64_t off)
{
	return (uint32_t *)((uint8_t *)c->b.host + off);
}

/* mt_client_load_program - see msd_test_util.h. */
uint32_t mt_client_load_program(struct mt *t, struct mt_client *c, const char *src)
{
	uint64_t *code = NULL;
	uint32_t count = 0;
	char err[128];

	if (sim_asm_assemble(src, &code, &count, err, sizeof(err))) {
		fprintf(stderr, "asm: %s\n", err);
		return 0;
	}
	if (count * 8ull > 4096 || mt_buf_create(t, 4096, &c->prog)) {
		free(code);
		return 0;
	}
	memcpy(c->prog.host, code, count * 8ull);
	free(code);
	if (msd_connection_map_buffer(c->conn, c->prog.buf, MT_CLIENT_PROG_VA, 0, 4096,
				      MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE) !=
	    MAGMA_STATUS_OK)
		return 0;
	return count;
}

/* mt_client_exec - see msd_test_util.h. */
magma_status_t mt_client_exec(struct mt_client *c, struct msd_context_t *ctx, uint64_t start,
			      uint64_t end, struct mt_sem *signal)
{
	struct magma_exec_resource res[2] = {{.buffer_id = 1, .offset = 0, .length = end},
					     {.buffer_id = 2, .offset = 0, .length = 4096}};
	struct magma_exec_command_buffer cb = {.resource_index = 0, .start_offset = start};
	struct msd_buffer_t *bufs[2] = {c->b.buf, c->prog.buf};
	struct msd_semaphore_t *signals[1] = {signal ? signal->sem : NULL};
	struct msd_command_descriptor desc = {
		.command_buffer_count = 1,
		.resource_count = c->prog.buf ? 2 : 1,
		.signal_semaphore_count = signal ? 1 : 0,
		.command_buffers = &cb,
		.exec_resources = res,
		.buffers = bufs,
		.signal_semaphores = signals,
	};

	return msd_context_execute_command_buffers(ctx, &desc);
}

/* mt_client_put_write - see msd_test_util.h. */
uint64_t mt_client_put_write(struct mt_client *c, uint64_t off, uint64_t va, uint32_t value)
{
	uint32_t n = sim_cmd_emit_write32(mt_client_words(c, off), va, value);

	n += sim_cmd_emit_end(mt_client_words(c, off + n * 4));
	return off + n * 4;
}
