/* SPDX-License-Identifier: MIT */
/*
 * test_fault.c - msd-sim fault handling against the real sim: a faulting job kills only its
 * context (FAULT payload, then CONTEXT_KILLED), the context's queued and ring-resident jobs are
 * dropped without signalling, other contexts and connections keep running, the AS fault is
 * cleared, and the status dump decodes the fault and the commands around it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msd_sim_internal.h"
#include "msd_test_util.h"
#include "sim_test.h"

#define VA   MT_CLIENT_VA
#define SIZE (4 * 4096)

/* A write to an unmapped VA: MMU_TRANSLATION; only the faulting context dies. */
static void test_fault_kills_only_offender(void)
{
	struct mt *t = mt_create(true);
	struct mt_client a, b;
	struct magma_sim_notification note;
	struct msd_context_t *a2;
	uint64_t end;

	REQUIRE(t);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, true) == 0);
	REQUIRE(mt_client_init(t, &b, 2, MAGMA_PRIORITY_MEDIUM, SIZE, false) == 0);
	a2 = msd_connection_create_context(a.conn, MAGMA_PRIORITY_MEDIUM);
	REQUIRE(a2);
	/* Nop, nop, then the bad write: the fault names the third command. */
	sim_cmd_emit_nop(mt_client_words(&a, 0), 1);
	sim_cmd_emit_nop(mt_client_words(&a, 8), 0);
	end = mt_client_put_write(&a, 12, 0x7000000, 1);
	CHECK_EQ(mt_exec(a.ctx, &a.b, 0, end, NULL, &a.done, 0), MAGMA_STATUS_OK);
	end = mt_client_put_write(&b, 0, VA + 0x1000, 0xb0b);
	CHECK_EQ(mt_exec(b.ctx, &b.b, 0, end, NULL, &b.done, 0), MAGMA_STATUS_OK);
	REQUIRE(mt_fd_readable(b.done.fd, 2000));
	CHECK_EQ(*mt_client_words(&b, 0x1000), 0xb0b);
	REQUIRE(mt_notify_wait(t, 2, 2000));
	CHECK_EQ(t->notes[0].type, MSD_CONNECTION_NOTIFICATION_CHANNEL_SEND);
	memcpy(&note, t->notes[0].data, sizeof(note));
	CHECK_EQ(note.type, MAGMA_SIM_NOTIFY_FAULT);
	CHECK_EQ(note.context_id, 1);
	CHECK_EQ(note.sequence, 1);
	CHECK_EQ(note.fault_code, SIM_FAULT_MMU_TRANSLATION);
	CHECK_EQ(note.fault_address, 0x7000000);
	CHECK_EQ(t->notes[1].type, MSD_CONNECTION_NOTIFICATION_CONTEXT_KILLED);
	CHECK(!mt_fd_readable(a.done.fd, 0));
	/* The AS fault was cleared; the killed context refuses work; its sibling still runs. */
	CHECK_EQ(sim_mmio_read32(t->sim, SIM_AS_STATUS(1)) & SIM_AS_STATUS_FAULTED, 0);
	CHECK_EQ(mt_exec(a.ctx, &a.b, 0, end, NULL, NULL, 0), MAGMA_STATUS_CONTEXT_KILLED);
	CHECK_EQ(msd_context_execute_inline_commands(a.ctx, 4, mt_client_words(&a, 0), 0, NULL),
		 MAGMA_STATUS_CONTEXT_KILLED);
	end = mt_client_put_write(&a, 0x100, VA + 0x2000, 0xa2);
	CHECK_EQ(mt_exec(a2, &a.b, 0x100, end, NULL, &a.done, 0), MAGMA_STATUS_OK);
	REQUIRE(mt_fd_readable(a.done.fd, 2000));
	CHECK_EQ(*mt_client_words(&a, 0x2000), 0xa2);
	/* The log decoded the fault and pointed at the faulting command. */
	CHECK(strstr(t->log, "fault MMU_TRANSLATION (0x10) at 0x7000000") != NULL);
	CHECK(strstr(t->log, "=> 0x20000c: 00030001 WRITE32 len 3") != NULL);
	msd_context_destroy(a2);
	mt_client_fini(&a);
	mt_client_fini(&b);
	mt_destroy(t);
}

/* Give @c a LOW context instead: LOW contexts share queue 1, as nothing is lent to LOW. */
static int use_low_priority(struct mt_client *c)
{
	msd_context_destroy(c->ctx);
	c->ctx = msd_connection_create_context(c->conn, MAGMA_PRIORITY_LOW);
	return c->ctx ? 0 : -1;
}

/*
 * Test mode: jobs of the killed context already on the ring are neutered, queued ones dropped;
 * another connection's job between them on the same ring runs.
 */
static void test_fault_drops_context_work(void)
{
	struct mt *t = mt_create(false);
	struct mt_client a, b;
	struct mt_sem s1, s2;
	uint64_t e0, e1, e2, e3;

	REQUIRE(t);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, true) == 0);
	REQUIRE(mt_client_init(t, &b, 2, MAGMA_PRIORITY_MEDIUM, SIZE, false) == 0);
	REQUIRE(use_low_priority(&a) == 0 && use_low_priority(&b) == 0);
	REQUIRE(mt_sem_create(t, 0, &s1) == 0 && mt_sem_create(t, 0, &s2) == 0);
	e0 = mt_client_put_write(&a, 0, 0x7000000, 1);		/* faults */
	e1 = mt_client_put_write(&a, 0x100, VA + 0x1000, 0x11); /* same context: dropped */
	e2 = mt_client_put_write(&b, 0, VA + 0x1000, 0x22);	/* other connection: runs */
	e3 = mt_client_put_write(&a, 0x200, VA + 0x1004, 0x33); /* same context: dropped */
	CHECK_EQ(mt_exec(a.ctx, &a.b, 0, e0, NULL, &a.done, 0), MAGMA_STATUS_OK);
	CHECK_EQ(mt_exec(a.ctx, &a.b, 0x100, e1, NULL, &s1, 0), MAGMA_STATUS_OK);
	CHECK_EQ(mt_exec(b.ctx, &b.b, 0, e2, NULL, &b.done, 0), MAGMA_STATUS_OK);
	msd_sim_device_poll((struct msd_sim_device *)t->dev);
	CHECK_EQ(sim_mmio_read32(t->sim, SIM_Q_TAIL(1)), 3);
	CHECK_EQ(mt_exec(a.ctx, &a.b, 0x200, e3, NULL, &s2, 0), MAGMA_STATUS_OK); /* queued */
	mt_run(t);
	CHECK(mt_fd_readable(b.done.fd, 0));
	CHECK_EQ(*mt_client_words(&b, 0x1000), 0x22);
	CHECK_EQ(*mt_client_words(&a, 0x1000), 0);
	CHECK_EQ(*mt_client_words(&a, 0x1004), 0);
	CHECK(!mt_fd_readable(a.done.fd, 0));
	CHECK(!mt_fd_readable(s1.fd, 0));
	CHECK(!mt_fd_readable(s2.fd, 0));
	/* All three ring entries retired in order; the queue is idle again. */
	CHECK_EQ(sim_mmio_read64(t->sim, SIM_Q_SEQNO_LO(1)), 3);
	CHECK_EQ(SIM_FIELD_GET(SIM_Q_STATUS_STATE, sim_mmio_read32(t->sim, SIM_Q_STATUS(1))),
		 SIM_Q_STATE_IDLE);
	CHECK_EQ(sim_mmio_read32(t->sim, SIM_Q_TAIL(1)), 3);
	CHECK(mt_notify_wait(t, 2, 100));
	mt_sem_destroy(&s1);
	mt_sem_destroy(&s2);
	mt_client_fini(&a);
	mt_client_fini(&b);
	mt_destroy(t);
}

/*
 * Test mode: the client destroys a context whose faulting job is already on the ring. The job
 * holds the last reference, so the fault handling must not touch the context after retiring it;
 * the connection's other context keeps working.
 */
static void test_fault_after_context_destroyed(void)
{
	struct mt *t = mt_create(false);
	struct msd_context_t *other;
	struct mt_client a;
	uint64_t end;

	REQUIRE(t);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, true) == 0);
	other = msd_connection_create_context(a.conn, MAGMA_PRIORITY_MEDIUM);
	REQUIRE(other);
	end = mt_client_put_write(&a, 0, 0x7000000, 1); /* faults */
	CHECK_EQ(mt_exec(a.ctx, &a.b, 0, end, NULL, NULL, 0), MAGMA_STATUS_OK);
	msd_sim_device_poll((struct msd_sim_device *)t->dev);
	msd_context_destroy(a.ctx);
	a.ctx = NULL;
	mt_run(t);
	end = mt_client_put_write(&a, 0x100, VA + 0x1000, 0x5a);
	CHECK_EQ(mt_exec(other, &a.b, 0x100, end, NULL, &a.done, 0), MAGMA_STATUS_OK);
	REQUIRE(mt_wait(t, a.done.fd, 2000));
	CHECK_EQ(*mt_client_words(&a, 0x1000), 0x5a);
	msd_context_destroy(other);
	mt_client_fini(&a);
	mt_destroy(t);
}

/* Writing through a read-only mapping: MMU_PERMISSION with the data address. */
static void test_permission_fault(void)
{
	struct mt *t = mt_create(true);
	struct mt_client a;
	struct mt_buf ro;
	struct magma_sim_notification note;
	uint64_t end;

	REQUIRE(t);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, true) == 0);
	REQUIRE(mt_buf_create(t, 4096, &ro) == 0);
	REQUIRE(msd_connection_map_buffer(a.conn, ro.buf, 0x800000, 0, 4096, MAGMA_MAP_FLAG_READ) ==
		MAGMA_STATUS_OK);
	end = mt_client_put_write(&a, 0, 0x800010, 5);
	CHECK_EQ(mt_exec(a.ctx, &a.b, 0, end, NULL, NULL, 0), MAGMA_STATUS_OK);
	REQUIRE(mt_notify_wait(t, 2, 2000));
	memcpy(&note, t->notes[0].data, sizeof(note));
	CHECK_EQ(note.fault_code, SIM_FAULT_MMU_PERMISSION);
	CHECK_EQ(note.fault_address, 0x800010);
	CHECK_EQ(((uint32_t *)ro.host)[4], 0);
	msd_connection_release_buffer(a.conn, ro.buf);
	mt_buf_destroy(&ro);
	mt_client_fini(&a);
	mt_destroy(t);
}

/* An unknown opcode: ILLEGAL_OPCODE at the command itself. */
static void test_illegal_opcode_fault(void)
{
	struct mt *t = mt_create(true);
	struct mt_client a;
	struct magma_sim_notification note;

	REQUIRE(t);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, true) == 0);
	*mt_client_words(&a, 0) = sim_cmd_header(0x7f, 0, 0);
	CHECK_EQ(mt_exec(a.ctx, &a.b, 0, 4, NULL, NULL, 0), MAGMA_STATUS_OK);
	REQUIRE(mt_notify_wait(t, 2, 2000));
	memcpy(&note, t->notes[0].data, sizeof(note));
	CHECK_EQ(note.type, MAGMA_SIM_NOTIFY_FAULT);
	CHECK_EQ(note.fault_code, SIM_FAULT_ILLEGAL_OPCODE);
	CHECK_EQ(note.fault_address, VA);
	mt_client_fini(&a);
	mt_destroy(t);
}

/* dump_status after a fault: queue and AS fault names decoded, commands listed. */
static void test_dump_status_decodes_fault(void)
{
	struct mt *t = mt_create(true);
	struct mt_client a;
	uint64_t end;

	REQUIRE(t);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, true) == 0);
	sim_cmd_emit_fill(mt_client_words(&a, 0), VA + 0x1000, 16, 0);
	end = mt_client_put_write(&a, 24, 0x7000040, 1);
	CHECK_EQ(mt_exec(a.ctx, &a.b, 0, end, NULL, NULL, 0), MAGMA_STATUS_OK);
	REQUIRE(mt_notify_wait(t, 2, 2000));
	t->log_len = 0;
	t->log[0] = 0;
	msd_device_dump_status(t->dev, 0);
	CHECK(strstr(t->log,
		     "queue 0 fault MMU_TRANSLATION (0x10) at 0x7000040, command 0x200018") !=
	      NULL);
	CHECK(strstr(t->log, "0x200000: 00050004 FILL len 5") != NULL);
	CHECK(strstr(t->log, "=> 0x200018: 00030001 WRITE32 len 3") != NULL);
	CHECK(strstr(t->log, "0x200028: 0000000a END len 0") != NULL);
	CHECK(strstr(t->log, "AS 1: enabled bound; last fault MMU_TRANSLATION (0x10) WRITE level 2"
			     " queue 0 source COPY at 0x7000040") != NULL);
	CHECK(strstr(t->log, "jobs completed 0 faulted 1") != NULL);
	mt_client_fini(&a);
	mt_destroy(t);
}

/* Closing the connection of a killed context with its work in flight frees everything. */
static void test_close_after_fault(void)
{
	struct mt *t = mt_create(true);
	struct mt_client a;
	struct mt_sem go;
	uint64_t end, frames;

	REQUIRE(t);
	frames = sim_bus_frames_mapped(t->sim);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, true) == 0);
	REQUIRE(mt_sem_create(t, 0, &go) == 0);
	end = mt_client_put_write(&a, 0, 0x7000000, 1);
	/* Both jobs are queued before either runs: the second is dropped by the kill. */
	CHECK_EQ(mt_exec(a.ctx, &a.b, 0, end, &go, NULL, 0), MAGMA_STATUS_OK);
	CHECK_EQ(mt_exec(a.ctx, &a.b, 0, end, NULL, NULL, 0), MAGMA_STATUS_OK);
	mt_fd_signal(go.fd);
	REQUIRE(mt_notify_wait(t, 2, 2000));
	mt_sem_destroy(&go);
	mt_client_fini(&a);
	/* The device thread may still hold the last reference (a notification in delivery). */
	for (int i = 0; i < 1000 && sim_bus_frames_mapped(t->sim) != frames; i++)
		usleep(1000);
	CHECK_EQ(sim_bus_frames_mapped(t->sim), frames);
	mt_destroy(t);
}

/*
 * A fault in inline commands: the driver decodes them through its own copy in the connection's
 * inline-command chunk (its CPU view of pages it pinned), as it does a command buffer's.
 */
static void test_inline_fault_decodes_commands(void)
{
	struct mt *t = mt_create(true);
	struct mt_client a;
	uint32_t cmds[8], n = 0;

	REQUIRE(t);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, true) == 0);
	n += sim_cmd_emit_nop(cmds + n, 0);
	n += sim_cmd_emit_write32(cmds + n, 0x7000080, 1);
	n += sim_cmd_emit_end(cmds + n);
	CHECK_EQ(msd_context_execute_inline_commands(a.ctx, n * 4, cmds, 0, NULL), MAGMA_STATUS_OK);
	REQUIRE(mt_notify_wait(t, 2, 2000));
	CHECK(strstr(t->log, "fault MMU_TRANSLATION (0x10) at 0x7000080") != NULL);
	CHECK(strstr(t->log, ": 00000000 NOP len 0") != NULL);
	CHECK(strstr(t->log, "4: 00030001 WRITE32 len 3") != NULL);
	CHECK(strstr(t->log, "  => ") != NULL);
	CHECK(strstr(t->log, ": 0000000a END len 0") != NULL);
	mt_client_fini(&a);
	mt_destroy(t);
}

/*
 * The leaf entry of the command buffer's page loses its valid bit behind the driver's back (an
 * injected bit flip in the page table): the GPU faults fetching the first command, and the
 * driver, whose own tables now say "unmapped" too, reports the fault with no commands decoded.
 */
static void test_fault_in_unreadable_commands(void)
{
	struct mt *t = mt_create(true);
	struct mt_client a;
	struct msd_sim_connection *conn;
	struct msd_sim_pt *pt;
	struct sim_inject flip = {.kind = SIM_INJECT_BIT_FLIP};
	uint64_t end;

	REQUIRE(t);
	REQUIRE(mt_client_init(t, &a, 1, MAGMA_PRIORITY_MEDIUM, SIZE, true) == 0);
	end = mt_client_put_write(&a, 0, VA + 0x1000, 1);
	conn = msd_sim_connection_from(a.conn);
	REQUIRE(conn);
	pt = conn->as.root;
	for (int level = 0; level < SIM_PT_LEVELS - 1 && pt; level++)
		pt = pt->child[SIM_PT_INDEX(VA, level)];
	REQUIRE(pt);
	/* Bit 0 (VALID) of the first byte of the leaf entry. */
	flip.arg = (pt->pa + 8ull * SIM_PT_INDEX(VA, 3)) << 3;
	REQUIRE_EQ(sim_inject_fault(t->sim, &flip), 0);
	CHECK_EQ(mt_exec(a.ctx, &a.b, 0, end, NULL, &a.done, 0), MAGMA_STATUS_OK);
	REQUIRE(mt_notify_wait(t, 2, 2000));
	CHECK(strstr(t->log, "fault MMU_TRANSLATION (0x10) at 0x200000, command 0x200000") != NULL);
	CHECK(strstr(t->log, "0x200000: ") == NULL); /* nothing decoded */
	mt_client_fini(&a);
	mt_destroy(t);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_fault_kills_only_offender),
	SIM_TEST(test_fault_drops_context_work),
	SIM_TEST(test_fault_after_context_destroyed),
	SIM_TEST(test_permission_fault),
	SIM_TEST(test_illegal_opcode_fault),
	SIM_TEST(test_dump_status_decodes_fault),
	SIM_TEST(test_close_after_fault),
	SIM_TEST(test_inline_fault_decodes_commands),
	SIM_TEST(test_fault_in_unreadable_commands),
};
SIM_TEST_SUITE(tests);
