/* SPDX-License-Identifier: MIT */
/*
 * test_submit.c - msd-sim submission against the real sim: the exact register sequence of a
 * submission and the ring entry it writes, end-to-end command streams (WRITE32, COPY, FILL, a
 * compute DISPATCH), wait semaphores gating execution, inline commands, completion
 * notifications, ring wrap-around, several command buffers per submission.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msd_sim_internal.h"
#include "msd_test_util.h"
#include "sim_test.h"

#define RW   (MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE)
#define VA   0x200000ull
#define SIZE (16 * 4096)

struct fixture {
	struct mt *t;
	struct msd_connection_t *conn;
	struct msd_context_t *ctx;
	struct mt_buf b;
	struct mt_sem done;
};

static int fixture_init(struct fixture *f, bool threaded)
{
	memset(f, 0, sizeof(*f));
	f->t = mt_create(threaded);
	if (!f->t)
		return -1;
	f->conn = msd_device_open(f->t->dev, 1);
	f->ctx = msd_connection_create_context(f->conn, MAGMA_PRIORITY_MEDIUM);
	if (!f->conn || !f->ctx || mt_buf_create(f->t, SIZE, &f->b) ||
	    mt_sem_create(f->t, 0, &f->done))
		return -1;
	mt_notify_install(f->t, f->conn);
	return msd_connection_map_buffer(f->conn, f->b.buf, VA, 0, SIZE, RW) == MAGMA_STATUS_OK
		       ? 0
		       : -1;
}

static void fixture_fini(struct fixture *f)
{
	msd_context_destroy(f->ctx);
	msd_connection_release_buffer(f->conn, f->b.buf);
	mt_buf_destroy(&f->b);
	mt_sem_destroy(&f->done);
	msd_connection_close(f->conn);
	mt_destroy(f->t);
}

static uint32_t *words(struct fixture *f, uint64_t off)
{
	return (uint32_t *)((uint8_t *)f->b.host + off);
}

/* Submit = bind the AS (TRANSTAB, CONFIG, UPDATE), ring entry in memory, TAIL, DOORBELL. */
static void test_submit_register_sequence(void)
{
	struct fixture f;
	struct msd_sim_device *dev;
	struct msd_sim_connection *conn;
	struct mt_reg w[16];
	uint32_t cmds[8], n = 0, q[8];
	uint64_t u64;
	uint8_t *e;

	REQUIRE(fixture_init(&f, false) == 0);
	dev = (struct msd_sim_device *)f.t->dev;
	conn = (struct msd_sim_connection *)f.conn;
	n += sim_cmd_emit_write32(cmds + n, VA + 0x1000, 1);
	n += sim_cmd_emit_end(cmds + n);
	mt_write_words(&f.b, 0x40, cmds, n);
	mt_record_start(f.t);
	CHECK_EQ(mt_exec(f.ctx, &f.b, 0x40, 0x40 + n * 4, NULL, NULL, 0), MAGMA_STATUS_OK);
	msd_sim_device_poll(dev);
	mt_record_stop(f.t);
	REQUIRE_EQ(mt_writes_in(f.t, 0, SIM_MMIO_SIZE, w, 16), 6);
	CHECK_EQ(w[0].offset, SIM_AS_TRANSTAB_LO(1));
	CHECK_EQ(w[0].value, (uint32_t)conn->as.root->pa);
	CHECK_EQ(w[1].offset, SIM_AS_TRANSTAB_HI(1));
	CHECK_EQ(w[2].offset, SIM_AS_CONFIG(1));
	CHECK_EQ(w[2].value, SIM_AS_CONFIG_ENABLE);
	CHECK_EQ(w[3].offset, SIM_AS_COMMAND(1));
	CHECK_EQ(w[3].value, SIM_AS_COMMAND_UPDATE);
	CHECK_EQ(w[4].offset, SIM_Q_TAIL(0));
	CHECK_EQ(w[4].value, 1);
	CHECK_EQ(w[5].offset, SIM_Q_DOORBELL(0));
	/* The ring entry. */
	e = dev->queues[0].ring.host;
	memcpy(&u64, e + SIM_RING_ENTRY_CMD_VA, 8);
	CHECK_EQ(u64, VA + 0x40);
	memcpy(q, e + SIM_RING_ENTRY_CMD_SIZE, 4);
	CHECK_EQ(q[0], n * 4);
	memcpy(q, e + SIM_RING_ENTRY_AS, 4);
	CHECK_EQ(q[0], 1u | (uint32_t)(SIM_RING_FLAG_IRQ | SIM_RING_FLAG_FENCE) << 16);
	memcpy(&u64, e + SIM_RING_ENTRY_SEQNO, 8);
	CHECK_EQ(u64, 1);
	memcpy(&u64, e + SIM_RING_ENTRY_FENCE_VA, 8);
	CHECK_EQ(u64, MSD_SIM_KERNEL_FENCE_VA);
	/* Completion: IRQ_STATUS read, cleared, Q_SEQNO read; the fence holds the seqno. */
	CHECK_EQ(sim_clock_run_until_idle(f.t->sim, 1000000, NULL), 0);
	mt_record_start(f.t);
	msd_sim_device_poll(dev);
	mt_record_stop(f.t);
	REQUIRE(f.t->nregs >= 4);
	CHECK_EQ(f.t->regs[0].offset, SIM_GPU_IRQ_STATUS);
	CHECK_EQ(f.t->regs[0].value, SIM_IRQ_JOB_DONE(0));
	CHECK_EQ(f.t->regs[1].offset, SIM_GPU_IRQ_CLEAR);
	CHECK(f.t->regs[1].write);
	CHECK_EQ(f.t->regs[2].offset, SIM_Q_SEQNO_LO(0));
	CHECK_EQ(f.t->regs[2].value, 1);
	CHECK_EQ(f.t->regs[3].offset, SIM_Q_SEQNO_HI(0));
	CHECK_EQ(*(uint64_t *)dev->fence.host, 1);
	CHECK_EQ(*words(&f, 0x1000), 1);
	CHECK_EQ(dev->queues[0].head, 1);
	fixture_fini(&f);
}

/*
 * A short job on an idle, powered GPU runs on the submitting thread: its semaphore is signaled and
 * its write done when msd_context_execute_command_buffers returns (msd_sim_irq_inline_locked).
 * Tried a few times: a slow host may power the cores down between jobs (MSD_SIM_IDLE_MS), and
 * then the job goes to the device thread.
 */
static void test_short_job_completes_on_submitting_thread(void)
{
	struct fixture f;
	uint32_t cmds[8], n;
	bool inline_done = false;

	REQUIRE(fixture_init(&f, true) == 0);
	for (uint32_t attempt = 0; attempt < 5 && !inline_done; attempt++) {
		uint64_t drain;

		n = sim_cmd_emit_write32(cmds, VA + 0x1000, attempt + 1);
		n += sim_cmd_emit_end(cmds + n);
		mt_write_words(&f.b, 0, cmds, n);
		/* Warm up: cores on; then wait until the GPU is idle again. */
		CHECK_EQ(mt_exec(f.ctx, &f.b, 0, n * 4, NULL, &f.done, 0), MAGMA_STATUS_OK);
		REQUIRE(mt_wait(f.t, f.done.fd, 2000));
		REQUIRE_EQ(read(f.done.fd, &drain, sizeof(drain)), (ssize_t)sizeof(drain));
		for (int i = 0; i < 2000 && !sim_is_idle(f.t->sim); i++)
			usleep(1000);
		*words(&f, 0x1000) = 0;
		CHECK_EQ(mt_exec(f.ctx, &f.b, 0, n * 4, NULL, &f.done, 0), MAGMA_STATUS_OK);
		inline_done = mt_fd_readable(f.done.fd, 0) && *words(&f, 0x1000) == attempt + 1;
		REQUIRE(mt_wait(f.t, f.done.fd, 2000));
		REQUIRE_EQ(read(f.done.fd, &drain, sizeof(drain)), (ssize_t)sizeof(drain));
	}
	CHECK(inline_done);
	fixture_fini(&f);
}

/* WRITE32, COPY and FILL through the client's address space; the signal semaphore fires. */
static void test_write_copy_fill(void)
{
	struct fixture f;
	uint32_t cmds[32], n = 0;

	REQUIRE(fixture_init(&f, true) == 0);
	for (uint32_t i = 0; i < 256; i++)
		words(&f, 0x2000)[i] = i * 3;
	n += sim_cmd_emit_write32(cmds + n, VA + 0x1000, 0xdeadbeef);
	n += sim_cmd_emit_copy(cmds + n, VA + 0x3000, VA + 0x2000, 1024);
	n += sim_cmd_emit_fill(cmds + n, VA + 0x5000, 4096 + 6, 0x04030201);
	n += sim_cmd_emit_end(cmds + n);
	mt_write_words(&f.b, 0, cmds, n);
	CHECK_EQ(mt_exec(f.ctx, &f.b, 0, n * 4, NULL, &f.done, 0), MAGMA_STATUS_OK);
	REQUIRE(mt_wait(f.t, f.done.fd, 2000));
	CHECK_EQ(*words(&f, 0x1000), 0xdeadbeef);
	for (uint32_t i = 0; i < 256; i++)
		CHECK_EQ(words(&f, 0x3000)[i], i * 3);
	CHECK_EQ(words(&f, 0x5000)[0], 0x04030201);
	CHECK_EQ(words(&f, 0x5000)[1024], 0x04030201);
	CHECK_EQ(*((uint8_t *)f.b.host + 0x5000 + 4096 + 5), 0x02);
	CHECK_EQ(*((uint8_t *)f.b.host + 0x5000 + 4096 + 6), 0);
	fixture_fini(&f);
}

/* A compute kernel assembled from text: out[gid] = gid * 2 for 2 groups of 32 lanes. */
static void test_compute_dispatch(void)
{
	static const char *src = "ld r4, r0, 0\n"
				 "ld r5, r0, 4\n"
				 "shl r6, r2, 2\n"
				 "add r4, r4, r6\n"
				 "mul r7, r2, 2\n"
				 "st r4, r7, 0\n"
				 "exit\n";
	struct fixture f;
	struct mt_buf prog;
	uint64_t *code = NULL;
	uint32_t count = 0, cmds[16], n = 0;
	char err[128];

	REQUIRE(fixture_init(&f, true) == 0);
	REQUIRE(sim_asm_assemble(src, &code, &count, err, sizeof(err)) == 0);
	REQUIRE(mt_buf_create(f.t, 4096, &prog) == 0);
	memcpy(prog.host, code, count * 8ull);
	free(code);
	REQUIRE(msd_connection_map_buffer(f.conn, prog.buf, 0x40000000, 0, 4096,
					  MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE) ==
		MAGMA_STATUS_OK);
	*(uint64_t *)((uint8_t *)f.b.host + 0x1000) = VA + 0x2000; /* args: out pointer */
	n += sim_cmd_emit_dispatch(cmds + n, 0x40000000, count, VA + 0x1000, 2, 1, 32);
	n += sim_cmd_emit_end(cmds + n);
	mt_write_words(&f.b, 0, cmds, n);
	CHECK_EQ(mt_exec(f.ctx, &f.b, 0, n * 4, NULL, &f.done, 0), MAGMA_STATUS_OK);
	REQUIRE(mt_wait(f.t, f.done.fd, 2000));
	for (uint32_t i = 0; i < 64; i++)
		CHECK_EQ(words(&f, 0x2000)[i], i * 2);
	CHECK_EQ(words(&f, 0x2000)[64], 0);
	msd_connection_release_buffer(f.conn, prog.buf);
	mt_buf_destroy(&prog);
	fixture_fini(&f);
}

/* The job is held until its wait semaphore is signaled, which is then reset. */
static void test_wait_semaphore_gates(void)
{
	struct fixture f;
	struct mt_sem go;
	uint32_t cmds[8], n = 0;

	REQUIRE(fixture_init(&f, true) == 0);
	REQUIRE(mt_sem_create(f.t, 0, &go) == 0);
	n += sim_cmd_emit_write32(cmds + n, VA + 0x1000, 42);
	n += sim_cmd_emit_end(cmds + n);
	mt_write_words(&f.b, 0, cmds, n);
	CHECK_EQ(mt_exec(f.ctx, &f.b, 0, n * 4, &go, &f.done, 0), MAGMA_STATUS_OK);
	CHECK(!mt_fd_readable(f.done.fd, 100));
	CHECK_EQ(*words(&f, 0x1000), 0);
	mt_fd_signal(go.fd);
	REQUIRE(mt_fd_readable(f.done.fd, 2000));
	CHECK_EQ(*words(&f, 0x1000), 42);
	CHECK(!mt_fd_readable(go.fd, 0)); /* reset after the wait */
	mt_sem_destroy(&go);
	fixture_fini(&f);
}

/* A held job holds back later jobs of its context, not those of other contexts. */
static void test_context_order_behind_held_job(void)
{
	struct fixture f;
	struct mt_sem go, other;
	struct msd_context_t *ctx2;
	uint32_t n;

	REQUIRE(fixture_init(&f, true) == 0);
	REQUIRE(mt_sem_create(f.t, 0, &go) == 0 && mt_sem_create(f.t, 0, &other) == 0);
	ctx2 = msd_connection_create_context(f.conn, MAGMA_PRIORITY_MEDIUM);
	REQUIRE(ctx2);
	n = sim_cmd_emit_write32(words(&f, 0), VA + 0x1000, 1);
	n += sim_cmd_emit_end(words(&f, n * 4));
	n = sim_cmd_emit_signal(words(&f, 0x100), VA + 0x1000, 10, SIM_CMD_SIGNAL_ADD);
	n += sim_cmd_emit_end(words(&f, 0x100 + n * 4));
	n = sim_cmd_emit_write32(words(&f, 0x200), VA + 0x1004, 2);
	n += sim_cmd_emit_end(words(&f, 0x200 + n * 4));
	CHECK_EQ(mt_exec(f.ctx, &f.b, 0, 20, &go, NULL, 0), MAGMA_STATUS_OK);
	CHECK_EQ(mt_exec(f.ctx, &f.b, 0x100, 0x118, NULL, &f.done, 0), MAGMA_STATUS_OK);
	CHECK_EQ(mt_exec(ctx2, &f.b, 0x200, 0x214, NULL, &other, 0), MAGMA_STATUS_OK);
	REQUIRE(mt_fd_readable(other.fd, 2000));
	CHECK_EQ(*words(&f, 0x1004), 2);
	CHECK(!mt_fd_readable(f.done.fd, 50));
	CHECK_EQ(*words(&f, 0x1000), 0);
	mt_fd_signal(go.fd);
	REQUIRE(mt_fd_readable(f.done.fd, 2000));
	CHECK_EQ(*words(&f, 0x1000), 11); /* WRITE 1 first, then ADD 10 */
	msd_context_destroy(ctx2);
	mt_sem_destroy(&go);
	mt_sem_destroy(&other);
	fixture_fini(&f);
}

/* A ONE_SHOT wait semaphore stays signaled after the wait. */
static void test_one_shot_wait_not_reset(void)
{
	struct fixture f;
	struct mt_sem go;
	uint32_t cmds[8], n = 0;

	REQUIRE(fixture_init(&f, true) == 0);
	REQUIRE(mt_sem_create(f.t, MAGMA_IMPORT_SEMAPHORE_ONE_SHOT, &go) == 0);
	n += sim_cmd_emit_end(cmds + n);
	mt_write_words(&f.b, 0, cmds, n);
	mt_fd_signal(go.fd);
	CHECK_EQ(mt_exec(f.ctx, &f.b, 0, n * 4, &go, &f.done, 0), MAGMA_STATUS_OK);
	REQUIRE(mt_fd_readable(f.done.fd, 2000));
	CHECK(mt_fd_readable(go.fd, 0));
	mt_sem_destroy(&go);
	fixture_fini(&f);
}

/* Test mode: a held job is released by the device poll once its semaphore is signaled. */
static void test_wait_semaphore_test_mode(void)
{
	struct fixture f;
	struct mt_sem go;
	uint32_t cmds[8], n = 0;

	REQUIRE(fixture_init(&f, false) == 0);
	REQUIRE(mt_sem_create(f.t, 0, &go) == 0);
	n += sim_cmd_emit_write32(cmds + n, VA + 0x1000, 43);
	n += sim_cmd_emit_end(cmds + n);
	mt_write_words(&f.b, 0, cmds, n);
	CHECK_EQ(mt_exec(f.ctx, &f.b, 0, n * 4, &go, &f.done, 0), MAGMA_STATUS_OK);
	mt_run(f.t);
	CHECK_EQ(*words(&f, 0x1000), 0);
	CHECK_EQ(sim_mmio_read32(f.t->sim, SIM_Q_TAIL(0)), 0);
	mt_fd_signal(go.fd);
	CHECK(mt_wait(f.t, f.done.fd, 0));
	CHECK_EQ(*words(&f, 0x1000), 43);
	mt_sem_destroy(&go);
	fixture_fini(&f);
}

/* Inline commands run from driver pages above the client VA limit; semaphores fire. */
static void test_inline_commands(void)
{
	struct fixture f;
	struct mt_sem s2;
	struct msd_semaphore_t *sems[2];
	uint32_t cmds[8], n = 0;

	REQUIRE(fixture_init(&f, true) == 0);
	REQUIRE(mt_sem_create(f.t, 0, &s2) == 0);
	sems[0] = f.done.sem;
	sems[1] = s2.sem;
	n += sim_cmd_emit_write32(cmds + n, VA + 0x1000, 0x1234);
	n += sim_cmd_emit_write32(cmds + n, VA + 0x1004, 0x5678);
	CHECK_EQ(msd_context_execute_inline_commands(f.ctx, n * 4, cmds, 2, sems), MAGMA_STATUS_OK);
	REQUIRE(mt_fd_readable(f.done.fd, 2000));
	REQUIRE(mt_fd_readable(s2.fd, 2000));
	CHECK_EQ(*words(&f, 0x1000), 0x1234);
	CHECK_EQ(*words(&f, 0x1004), 0x5678);
	mt_sem_destroy(&s2);
	fixture_fini(&f);
}

/* Test mode: the inline job's command VA is above MAGMA_SIM_GPU_VA_LIMIT and read-only. */
static void test_inline_commands_placement(void)
{
	struct fixture f;
	struct msd_sim_device *dev;
	uint32_t cmds[8], n = 0;
	uint64_t cmd_va, frames;

	REQUIRE(fixture_init(&f, false) == 0);
	dev = (struct msd_sim_device *)f.t->dev;
	frames = sim_bus_frames_mapped(f.t->sim);
	n += sim_cmd_emit_write32(cmds + n, VA + 0x1000, 7);
	CHECK_EQ(msd_context_execute_inline_commands(f.ctx, n * 4, cmds, 0, NULL), MAGMA_STATUS_OK);
	/* One chunk of command pages plus three new tables on the path to the inline range. */
	CHECK_EQ(sim_bus_frames_mapped(f.t->sim), frames + MSD_SIM_INLINE_CHUNK_PAGES + 3);
	msd_sim_device_poll(dev);
	memcpy(&cmd_va, dev->queues[0].ring.host, 8);
	CHECK_EQ(cmd_va, MAGMA_SIM_GPU_VA_LIMIT);
	mt_run(f.t);
	CHECK_EQ(*words(&f, 0x1000), 7);
	/* The idle chunk stays mapped for the next submission; tables stay. */
	CHECK_EQ(sim_bus_frames_mapped(f.t->sim), frames + MSD_SIM_INLINE_CHUNK_PAGES + 3);
	fixture_fini(&f);
}

/* MAGMA_SIM_COMMAND_FLAG_NOTIFY: a COMPLETED notification with context id and sequence. */
static void test_notify_completed(void)
{
	struct fixture f;
	struct magma_sim_notification note;
	uint32_t cmds[8], n = 0;

	REQUIRE(fixture_init(&f, true) == 0);
	n += sim_cmd_emit_end(cmds + n);
	mt_write_words(&f.b, 0, cmds, n);
	CHECK_EQ(mt_exec(f.ctx, &f.b, 0, n * 4, NULL, NULL, 0), MAGMA_STATUS_OK);
	CHECK_EQ(mt_exec(f.ctx, &f.b, 0, n * 4, NULL, &f.done, MAGMA_SIM_COMMAND_FLAG_NOTIFY),
		 MAGMA_STATUS_OK);
	REQUIRE(mt_notify_wait(f.t, 1, 2000));
	CHECK_EQ(f.t->nnotes, 1);
	CHECK_EQ(f.t->notes[0].type, MSD_CONNECTION_NOTIFICATION_CHANNEL_SEND);
	CHECK_EQ(f.t->notes[0].size, sizeof(note));
	memcpy(&note, f.t->notes[0].data, sizeof(note));
	CHECK_EQ(note.type, MAGMA_SIM_NOTIFY_COMPLETED);
	CHECK_EQ(note.context_id, 1);
	CHECK_EQ(note.sequence, 2);
	CHECK_EQ(note.fault_code, 0);
	fixture_fini(&f);
}

/* More jobs than ring entries: they wait for room, run in order, the ring wraps. */
static void test_ring_wraps(void)
{
	struct fixture f;
	uint32_t cmds[8], n = 0;

	REQUIRE(fixture_init(&f, true) == 0);
	n += sim_cmd_emit_signal(cmds + n, VA + 0x1000, 1, SIM_CMD_SIGNAL_ADD);
	n += sim_cmd_emit_end(cmds + n);
	mt_write_words(&f.b, 0, cmds, n);
	for (int i = 0; i < 600; i++)
		REQUIRE(mt_exec(f.ctx, &f.b, 0, n * 4, NULL, i == 599 ? &f.done : NULL, 0) ==
			MAGMA_STATUS_OK);
	REQUIRE(mt_fd_readable(f.done.fd, 5000));
	CHECK_EQ(*words(&f, 0x1000), 600);
	CHECK_EQ(sim_mmio_read64(f.t->sim, SIM_Q_SEQNO_LO(0)), 600);
	fixture_fini(&f);
}

/* Two command buffers in one submission run in order; the semaphore fires after both. */
static void test_two_command_buffers(void)
{
	struct fixture f;
	struct magma_exec_resource res[2] = {{1, 0, 0x100}, {1, 0x100, 0x100}};
	struct magma_exec_command_buffer cb[2] = {{0, 0, 0}, {1, 0, 0x100}};
	struct msd_buffer_t *bufs[2];
	struct msd_semaphore_t *sig[1];
	struct msd_command_descriptor desc = {0};
	uint32_t n;

	REQUIRE(fixture_init(&f, true) == 0);
	/* Buffer 1: bytes 0..0x100, a WRITE32 then NOP padding; buffer 2: 0x100..0x200, SIGNAL. */
	n = sim_cmd_emit_write32(words(&f, 0), VA + 0x1000, 1);
	sim_cmd_emit_nop(words(&f, n * 4), 0x100 / 4 - n - 1);
	n = sim_cmd_emit_signal(words(&f, 0x100), VA + 0x1000, 10, SIM_CMD_SIGNAL_ADD);
	sim_cmd_emit_nop(words(&f, 0x100 + n * 4), 0x100 / 4 - n - 1);
	bufs[0] = bufs[1] = f.b.buf;
	sig[0] = f.done.sem;
	desc.command_buffer_count = 2;
	desc.resource_count = 2;
	desc.signal_semaphore_count = 1;
	desc.command_buffers = cb;
	desc.exec_resources = res;
	desc.buffers = bufs;
	desc.signal_semaphores = sig;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &desc), MAGMA_STATUS_OK);
	REQUIRE(mt_fd_readable(f.done.fd, 2000));
	CHECK_EQ(*words(&f, 0x1000), 11);
	CHECK_EQ(sim_mmio_read64(f.t->sim, SIM_Q_SEQNO_LO(0)), 2);
	fixture_fini(&f);
}

/* An empty submission signals only after the work queued before it (a fence). */
static void test_empty_submission_is_ordered(void)
{
	struct fixture f;
	struct msd_semaphore_t *sig[1];
	struct msd_command_descriptor desc = {0};
	uint32_t n;

	REQUIRE(fixture_init(&f, true) == 0);
	n = sim_cmd_emit_wait(words(&f, 0), VA + 0x800, 1, SIM_CMD_WAIT_EQ);
	n += sim_cmd_emit_end(words(&f, n * 4));
	CHECK_EQ(mt_exec(f.ctx, &f.b, 0, n * 4, NULL, NULL, 0), MAGMA_STATUS_OK);
	sig[0] = f.done.sem;
	desc.signal_semaphore_count = 1;
	desc.signal_semaphores = sig;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &desc), MAGMA_STATUS_OK);
	CHECK(!mt_fd_readable(f.done.fd, 100));
	*words(&f, 0x800) = 1;
	CHECK(mt_fd_readable(f.done.fd, 2000));
	fixture_fini(&f);
}

/* A submission without command buffers only waits and signals. */
static void test_semaphore_only_submission(void)
{
	struct fixture f;
	struct mt_sem go;
	struct msd_semaphore_t *w[1], *s[1];
	struct msd_command_descriptor desc = {0};

	REQUIRE(fixture_init(&f, true) == 0);
	REQUIRE(mt_sem_create(f.t, 0, &go) == 0);
	w[0] = go.sem;
	s[0] = f.done.sem;
	desc.wait_semaphore_count = 1;
	desc.signal_semaphore_count = 1;
	desc.wait_semaphores = w;
	desc.signal_semaphores = s;
	CHECK_EQ(msd_context_execute_command_buffers(f.ctx, &desc), MAGMA_STATUS_OK);
	CHECK(!mt_fd_readable(f.done.fd, 50));
	mt_fd_signal(go.fd);
	CHECK(mt_fd_readable(f.done.fd, 2000));
	CHECK_EQ(sim_mmio_read64(f.t->sim, SIM_Q_SEQNO_LO(0)), 1); /* one empty ring entry */
	mt_sem_destroy(&go);
	fixture_fini(&f);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_submit_register_sequence),
	SIM_TEST(test_short_job_completes_on_submitting_thread),
	SIM_TEST(test_write_copy_fill),
	SIM_TEST(test_compute_dispatch),
	SIM_TEST(test_wait_semaphore_gates),
	SIM_TEST(test_context_order_behind_held_job),
	SIM_TEST(test_one_shot_wait_not_reset),
	SIM_TEST(test_wait_semaphore_test_mode),
	SIM_TEST(test_inline_commands),
	SIM_TEST(test_inline_commands_placement),
	SIM_TEST(test_notify_completed),
	SIM_TEST(test_ring_wraps),
	SIM_TEST(test_two_command_buffers),
	SIM_TEST(test_semaphore_only_submission),
	SIM_TEST(test_empty_submission_is_ordered),
};
SIM_TEST_SUITE(tests);
