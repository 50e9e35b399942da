/* SPDX-License-Identifier: MIT */
/*
 * trace_sample.c - trace-sample: a small magma client whose runs, recorded with MAGMA_TRACE,
 * are the sample traces of traces/samples/.
 *
 * trace-sample write|copy|fill|compute|empty [ROUNDS]: on the embedded device, one connection
 * and context, a command buffer mapped READ|EXECUTE and a data buffer mapped READ|WRITE. Each
 * round the CPU writes fresh commands (and for copy and compute, fresh source data) and submits
 * them with both buffers as resources and one signal semaphore, waits for it with magma_poll and
 * resets it: write stores WRITE32 values, copy copies CPU-written bytes with COPY, fill uses
 * FILL, compute dispatches a small assembled SIM-1 kernel (out[i] = in[i] * 3 + round, 64 lanes,
 * placed in the upper half of the command buffer; addresses are register pairs, r0:r1 the
 * arguments), empty submits a NOP.
 *
 * trace-sample waits [ROUNDS] is about CPU-side waits and connections coming and going: each
 * round opens its own connection (the previous one is released just before its first
 * submission), submits a FILL that
 * signals a semaphore and a COPY of the filled bytes into a third buffer that waits for a
 * semaphore the CPU signals, then the CPU waits for the fill (magma_poll), checks it, signals
 * the copy's semaphore and waits for the copy. Its recording must replay to the same GPU cycles
 * every time (docs/trace-format.md "Determinism").
 *
 * The device is the embedded one, or with MAGMA_DEVICE=PATH the one at PATH: /dev/magma0 under
 * magma-sim-run (the preload shim makes open() connect) or a magma-simd socket, so that a
 * recording against a daemon can be compared with an embedded one (magma-trace merge's test).
 *
 * Exits 0 when every call succeeded and the results read back as expected. Single threaded.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <lib/magma/magma.h>

#include "magma_sim/device.h"
#include "magma_system/embedded.h"
#include "sim/sim_cmd.h"
#include "sim/sim_isa.h"

#define SAMPLE_CMD_VA	  0x100000ull
#define SAMPLE_DATA_VA	  0x200000ull
#define SAMPLE_CMD_SIZE	  4096ull
#define SAMPLE_DATA_SIZE  8192ull
#define SAMPLE_WAITS_SIZE (40ull << 10) /* waits: data and out, 10 pages each */
#define SAMPLE_WAIT_NS	  (5ull * 1000 * 1000 * 1000)
#define SAMPLE_PROG_OFF	  2048u /* the compute kernel's offset in the command buffer */
#define SAMPLE_LANES	  64u	/* compute: 4 groups of 16 lanes */

#define SAMPLE_OUT_VA 0x300000ull /* waits: where the COPY writes */
#define SAMPLE_B_OFF  1024u	  /* waits: the COPY job's offset in the command buffer */

struct sample {
	magma_device_t dev;
	magma_connection_t conn;
	uint32_t ctx;
	magma_buffer_t cmd, data;
	magma_buffer_id_t cmd_id, data_id;
	magma_semaphore_t sem;
	magma_semaphore_id_t sem_id;
	uint32_t *cmd_cpu;
	uint8_t *data_cpu;
	uint64_t data_size; /* SAMPLE_DATA_SIZE, SAMPLE_WAITS_SIZE for waits */
	/* waits only */
	magma_buffer_t out;
	magma_buffer_id_t out_id;
	magma_semaphore_t go, done; /* signalled by the CPU; by the COPY */
	magma_semaphore_id_t go_id, done_id;
	uint8_t *out_cpu;
};

static int check(const char *what, magma_status_t st)
{
	if (st != MAGMA_STATUS_OK)
		fprintf(stderr, "trace-sample: %s: status %d\n", what, st);
	return st != MAGMA_STATUS_OK;
}

static void *map_cpu(magma_buffer_t buf, uint64_t size)
{
	magma_handle_t h;
	void *p;

	if (magma_buffer_get_handle(buf, &h))
		return NULL;
	p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)h, 0);
	close((int)h);
	return p == MAP_FAILED ? NULL : p;
}

/* The device (once per run): the embedded one, or MAGMA_DEVICE's. */
static int sample_open_device(struct sample *s)
{
	const char *path = getenv("MAGMA_DEVICE");
	int fd;

	if (path && *path) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) /* not the shim's: a daemon's socket */
			return check("magma_sim_device_open", magma_sim_device_open(path, &s->dev));
		return check("device_import", magma_device_import((magma_handle_t)fd, &s->dev));
	}
	fd = magma_sim_embedded_open();

	if (fd < 0) {
		fprintf(stderr, "trace-sample: no embedded device\n");
		return 1;
	}
	return check("device_import", magma_device_import((magma_handle_t)fd, &s->dev));
}

/* A connection with its context, command and data buffers mapped, a semaphore. */
static int sample_open(struct sample *s)
{
	uint64_t size;

	if (check("create_connection", magma_device_create_connection(s->dev, &s->conn)) ||
	    check("create_context",
		  magma_connection_create_context2(s->conn, MAGMA_PRIORITY_MEDIUM, &s->ctx)) ||
	    check("create_buffer", magma_connection_create_buffer(s->conn, SAMPLE_CMD_SIZE, &size,
								  &s->cmd, &s->cmd_id)) ||
	    check("create_buffer", magma_connection_create_buffer(s->conn, s->data_size, &size,
								  &s->data, &s->data_id)) ||
	    check("map_buffer",
		  magma_connection_map_buffer(s->conn, SAMPLE_CMD_VA, s->cmd, 0, SAMPLE_CMD_SIZE,
					      MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_EXECUTE)) ||
	    check("map_buffer",
		  magma_connection_map_buffer(s->conn, SAMPLE_DATA_VA, s->data, 0, s->data_size,
					      MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE)) ||
	    check("create_semaphore",
		  magma_connection_create_semaphore(s->conn, &s->sem, &s->sem_id)))
		return 1;
	s->cmd_cpu = map_cpu(s->cmd, SAMPLE_CMD_SIZE);
	s->data_cpu = map_cpu(s->data, s->data_size);
	if (!s->cmd_cpu || !s->data_cpu) {
		fprintf(stderr, "trace-sample: cannot map the buffers\n");
		return 1;
	}
	return 0;
}

static int sample_submit(struct sample *s)
{
	magma_exec_resource_t res[2] = {{s->cmd_id, 0, SAMPLE_CMD_SIZE},
					{s->data_id, 0, SAMPLE_DATA_SIZE}};
	magma_exec_command_buffer_t cb = {.resource_index = 0, .start_offset = 0};
	magma_command_descriptor_t d = {
		.resource_count = 2,
		.command_buffer_count = 1,
		.signal_semaphore_count = 1,
		.resources = res,
		.command_buffers = &cb,
		.semaphore_ids = &s->sem_id,
	};
	magma_poll_item_t item = {.semaphore = s->sem,
				  .type = MAGMA_POLL_TYPE_SEMAPHORE,
				  .condition = MAGMA_POLL_CONDITION_SIGNALED};

	if (check("execute_command", magma_connection_execute_command(s->conn, s->ctx, &d)) ||
	    check("poll", magma_poll(&item, 1, SAMPLE_WAIT_NS)))
		return 1;
	magma_semaphore_reset(s->sem);
	return 0;
}

/*
 * Writes the compute kernel of round @k into the command buffer at SAMPLE_PROG_OFF and the
 * dispatch reading in[i] (u32, data offset 0) and writing out[i] (data offset 4096 + 256 * k)
 * at @c. Returns the dwords written at @c, or 0 when the kernel does not assemble.
 */
static uint32_t sample_emit_compute(struct sample *s, uint32_t *c, uint32_t k)
{
	char src[256], err[128];
	uint64_t *code;
	uint32_t count;

	snprintf(src, sizeof(src),
		 "sreg r4, global_id_x\nshl r5, r4, 2\nadd r8, r0, r5\nmov r9, r1\n"
		 "ld r10, r8, 0\nmul r10, r10, 3\nadd r10, r10, %u\nst r8, r10, %u\nexit\n",
		 k, 4096 + 256 * k);
	if (sim_asm_assemble(src, &code, &count, err, sizeof(err))) {
		fprintf(stderr, "trace-sample: kernel: %s\n", err);
		return 0;
	}
	memcpy((uint8_t *)s->cmd_cpu + SAMPLE_PROG_OFF, code, count * sizeof(*code));
	free(code);
	for (uint32_t i = 0; i < SAMPLE_LANES; i++)
		((uint32_t *)s->data_cpu)[i] = i * 5 + k;
	return sim_cmd_emit_dispatch(c, SAMPLE_CMD_VA + SAMPLE_PROG_OFF, count, SAMPLE_DATA_VA,
				     SAMPLE_LANES / 16, 1, 16);
}

static bool sample_compute_ok(const struct sample *s, uint32_t k)
{
	const uint32_t *out = (const uint32_t *)(s->data_cpu + 4096 + 256 * k);

	for (uint32_t i = 0; i < SAMPLE_LANES; i++)
		if (out[i] != (i * 5 + k) * 3 + k)
			return false;
	return true;
}

/* One round of @mode; returns 0 when the GPU produced what was asked. */
static int sample_round(struct sample *s, const char *mode, uint32_t k)
{
	uint32_t n = 0, *c = s->cmd_cpu;

	memset(c, 0, SAMPLE_CMD_SIZE);
	if (!strcmp(mode, "write")) {
		for (uint32_t i = 0; i < 8; i++)
			n += sim_cmd_emit_write32(c + n, SAMPLE_DATA_VA + 4 * (8 * k + i),
						  0xc0de0000u + 8 * k + i);
	} else if (!strcmp(mode, "fill")) {
		n += sim_cmd_emit_fill(c + n, SAMPLE_DATA_VA + 512 * k, 512, 0x01010101u * (k + 1));
	} else if (!strcmp(mode, "copy")) {
		for (uint32_t i = 0; i < 256; i++)
			s->data_cpu[i] = (uint8_t)(i * 7 + k);
		n += sim_cmd_emit_copy(c + n, SAMPLE_DATA_VA + 4096 + 256 * k, SAMPLE_DATA_VA, 256);
	} else if (!strcmp(mode, "compute")) {
		n += sample_emit_compute(s, c + n, k);
		if (!n)
			return 1;
	} else if (!strcmp(mode, "empty")) {
		n += sim_cmd_emit_nop(c + n, 0);
	} else {
		fprintf(stderr, "trace-sample: unknown mode %s\n", mode);
		return 2;
	}
	n += sim_cmd_emit_end(c + n);
	if (sample_submit(s))
		return 1;
	if (!strcmp(mode, "write") &&
	    ((uint32_t *)s->data_cpu)[8 * k + 7] != 0xc0de0000u + 8 * k + 7)
		return 1;
	if (!strcmp(mode, "fill") && s->data_cpu[512 * k + 511] != (uint8_t)(k + 1))
		return 1;
	if (!strcmp(mode, "copy") && memcmp(s->data_cpu + 4096 + 256 * k, s->data_cpu, 256))
		return 1;
	if (!strcmp(mode, "compute") && !sample_compute_ok(s, k))
		return 1;
	return 0;
}

/* Releases what sample_open (and a waits round) made, then the connection. */
static int sample_close(struct sample *s)
{
	int ret = 0;

	if (s->cmd_cpu)
		munmap(s->cmd_cpu, SAMPLE_CMD_SIZE);
	if (s->data_cpu)
		munmap(s->data_cpu, s->data_size);
	if (s->out_cpu)
		munmap(s->out_cpu, s->data_size);
	if (s->conn) {
		magma_connection_unmap_buffer(s->conn, SAMPLE_CMD_VA, s->cmd);
		magma_connection_unmap_buffer(s->conn, SAMPLE_DATA_VA, s->data);
		magma_connection_release_semaphore(s->conn, s->sem);
		magma_connection_release_buffer(s->conn, s->cmd);
		magma_connection_release_buffer(s->conn, s->data);
		if (s->out) {
			magma_connection_unmap_buffer(s->conn, SAMPLE_OUT_VA, s->out);
			magma_connection_release_buffer(s->conn, s->out);
			magma_connection_release_semaphore(s->conn, s->go);
			magma_connection_release_semaphore(s->conn, s->done);
		}
		magma_connection_release_context(s->conn, s->ctx);
		ret = check("flush", magma_connection_flush(s->conn));
		magma_connection_release(s->conn);
	}
	*s = (struct sample){.dev = s->dev, .data_size = s->data_size};
	return ret;
}

/* Submits the command buffer from byte @start with @res, waiting for @wait, signalling @signal. */
static int sample_execute(struct sample *s, uint32_t start, magma_exec_resource_t *res,
			  uint32_t res_count, magma_semaphore_id_t wait,
			  magma_semaphore_id_t signal)
{
	uint64_t ids[2] = {wait, signal};
	magma_exec_command_buffer_t cb = {.resource_index = 0, .start_offset = start};
	magma_command_descriptor_t d = {
		.resource_count = res_count,
		.command_buffer_count = 1,
		.wait_semaphore_count = wait ? 1 : 0,
		.signal_semaphore_count = 1,
		.resources = res,
		.command_buffers = &cb,
		.semaphore_ids = wait ? ids : ids + 1,
	};

	return check("execute_command", magma_connection_execute_command(s->conn, s->ctx, &d));
}

static int sample_wait(magma_semaphore_t sem)
{
	magma_poll_item_t item = {.semaphore = sem,
				  .type = MAGMA_POLL_TYPE_SEMAPHORE,
				  .condition = MAGMA_POLL_CONDITION_SIGNALED};

	return check("poll", magma_poll(&item, 1, SAMPLE_WAIT_NS));
}

/*
 * One round of waits on a fresh connection (see the file head): FILL signals sem; the COPY of
 * the filled bytes to out waits for go, which the CPU signals once it saw the fill; then done.
 * @prev, the previous round's connection, is released right before the first submission, so
 * that the driver sees its teardown and the new connection's first job close together.
 */
static int sample_waits_round(struct sample *s, struct sample *prev, uint32_t k)
{
	magma_exec_resource_t fill_res[2] = {{0, 0, SAMPLE_CMD_SIZE}, {0, 0, SAMPLE_WAITS_SIZE}};
	magma_exec_resource_t copy_res[2] = {{0, 0, SAMPLE_CMD_SIZE}, {0, 0, SAMPLE_WAITS_SIZE}};
	uint32_t n = 0, *c;
	uint64_t size;
	int ret = sample_open(s);

	if (ret ||
	    check("create_buffer", magma_connection_create_buffer(s->conn, SAMPLE_WAITS_SIZE, &size,
								  &s->out, &s->out_id)) ||
	    check("map_buffer",
		  magma_connection_map_buffer(s->conn, SAMPLE_OUT_VA, s->out, 0, SAMPLE_WAITS_SIZE,
					      MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE)) ||
	    check("create_semaphore",
		  magma_connection_create_semaphore(s->conn, &s->go, &s->go_id)) ||
	    check("create_semaphore",
		  magma_connection_create_semaphore(s->conn, &s->done, &s->done_id)))
		return 1;
	s->out_cpu = map_cpu(s->out, SAMPLE_WAITS_SIZE);
	if (!s->out_cpu)
		return 1;
	/* Four commands each, of one to four pages. */
	c = s->cmd_cpu;
	memset(c, 0, SAMPLE_CMD_SIZE);
	for (uint32_t i = 0, at = 0; i < 4; at += (i + 1) * 4096, i++)
		n += sim_cmd_emit_fill(c + n, SAMPLE_DATA_VA + at, (i + 1) * 4096,
				       0x01010101u * (k + i + 1));
	sim_cmd_emit_end(c + n);
	n = SAMPLE_B_OFF / 4;
	for (uint32_t i = 0, at = 0; i < 4; at += (4 - i) * 4096, i++)
		n += sim_cmd_emit_copy(c + n, SAMPLE_OUT_VA + at, SAMPLE_DATA_VA + at,
				       (4 - i) * 4096);
	sim_cmd_emit_end(c + n);
	/* The COPY lists the buffer it writes, not the one the FILL may still be writing. */
	fill_res[0].buffer_id = copy_res[0].buffer_id = s->cmd_id;
	fill_res[1].buffer_id = s->data_id;
	copy_res[1].buffer_id = s->out_id;
	/* The previous round's connection goes just before this one's first submission. */
	if (sample_close(prev) || sample_execute(s, 0, fill_res, 2, 0, s->sem_id) ||
	    sample_execute(s, SAMPLE_B_OFF, copy_res, 2, s->go_id, s->done_id) ||
	    sample_wait(s->sem))
		return 1;
	if (s->data_cpu[10 * 4096 - 1] != (uint8_t)(k + 4))
		return 1;
	magma_semaphore_signal(s->go);
	if (sample_wait(s->done) || memcmp(s->out_cpu, s->data_cpu, SAMPLE_WAITS_SIZE))
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sample s = {.data_size = SAMPLE_DATA_SIZE};
	uint32_t rounds = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 4;
	int ret;

	if (argc < 2 || rounds == 0 || rounds > 8) {
		fprintf(stderr,
			"usage: trace-sample write|copy|fill|compute|empty|waits [ROUNDS (1..8)]\n");
		return 2;
	}
	ret = sample_open_device(&s);
	s.data_size = strcmp(argv[1], "waits") ? SAMPLE_DATA_SIZE : SAMPLE_WAITS_SIZE;
	if (!ret && !strcmp(argv[1], "waits")) {
		for (uint32_t k = 0; !ret && k < rounds; k++) {
			struct sample prev = s;

			s = (struct sample){.dev = prev.dev, .data_size = prev.data_size};
			ret = sample_waits_round(&s, &prev, k);
			if (ret) {
				fprintf(stderr, "trace-sample: round %u of waits failed\n", k);
				sample_close(&prev);
			}
		}
	} else if (!ret) {
		ret = sample_open(&s);
		for (uint32_t k = 0; !ret && k < rounds; k++) {
			ret = sample_round(&s, argv[1], k);
			if (ret == 1)
				fprintf(stderr, "trace-sample: round %u of %s: wrong result\n", k,
					argv[1]);
		}
	}
	if (sample_close(&s) && !ret)
		ret = 1;
	if (s.dev)
		magma_device_release(s.dev);
	return ret;
}
