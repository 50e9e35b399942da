/* SPDX-License-Identifier: MIT */
/*
 * fuzz_seeds.c - fuzz-seeds: writes the seed corpus of every harness.
 *
 * fuzz-seeds OUTDIR [SAMPLE.json...] creates OUTDIR/fuzz_isa, OUTDIR/fuzz_cmdstream and
 * OUTDIR/fuzz_trace and fills them: small hand-written kernels (assembled with sim_asm_assemble,
 * behind fuzz_isa's header), one per idea the ISA has (lanes and groups, loops, divergent ifs,
 * atomics, floats, special registers, each compute fault, an endless loop); small command
 * streams over fuzz_cmdstream's address space, one per opcode plus a few that fault or hang;
 * each sample trace twice, as recorded and with its device events dropped and the rest
 * renumbered (the replay ignores device events; the short form mutates faster); and two small
 * traces written here with the trace writer (a submission through a command buffer and one of
 * inline commands, each with a completion and a few other calls), short enough that mutations
 * often keep them valid and reach the replay. Then
 * OUTDIR/stamp, for the build. Seeds are generated, not checked in, so they follow the code;
 * the same build gives the same bytes.
 *
 * fuzz-seeds --dicts DIR writes the libFuzzer dictionaries DIR/fuzz_<target>.dict: every defined
 * instruction word and every command header (with its right length) and the address-space
 * constants as bytes, and the trace format's tokens. They are checked in as fuzz/<target>.dict;
 * fuzz-seeds --check-dicts DIR exits 1 when those differ from what this program writes (ctest
 * fuzz_dicts_current). Exit 0, or 1 with a message when anything fails.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "sim/sim_cmd.h"
#include "sim/sim_isa.h"
#include "traces/trace.h"
#include "wire.h"

static const char *out_dir;
static int failures;

static void seed_write(const char *target, const char *name, const void *data, size_t size)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f)) {
		fprintf(stderr, "fuzz-seeds: cannot write %s: %s\n", path, strerror(errno));
		failures++;
	}
}

/* Assembles @src into *@words_out (malloc'd); the count, or 0 with a message. */
static uint32_t seed_asm(const char *name, const char *src, uint64_t **words_out)
{
	uint32_t count = 0;
	char err[128];

	if (sim_asm_assemble(src, words_out, &count, err, sizeof(err))) {
		fprintf(stderr, "fuzz-seeds: kernel %s: %s\n", name, err);
		failures++;
		return 0;
	}
	return count;
}

/* ---- fuzz_isa ---- */

struct isa_seed {
	const char *name;
	uint8_t header[FUZZ_ISA_HEADER];
	const char *src;
};

/* Header bytes: groups_x-1, groups_y-1, local-1, config, program place, args (fuzz_isa.c). */
static const struct isa_seed isa_seeds[] = {
	{"triple",
	 {3, 0, 15, 0x0f, 0, 0},
	 "sreg r4, global_id_x\nshl r5, r4, 2\nldx r6, r0, r5, 0\nmul r6, r6, 3\n"
	 "stx r0, r5, r6, 256\nexit\n"},
	{"follow-pointers",
	 {0, 0, 7, 0x04, 0, 0},
	 "ld r4, r0, 8\nld r5, r0, 12\nsreg r6, lane_id\nshl r6, r6, 2\nstx r4, r6, r6, 0\n"
	 "ld r8, r0, 16\nld r9, r0, 20\nld r10, r8, 0\nexit\n"},
	{"loop",
	 {0, 0, 31, 0x0c, 0, 0},
	 "sreg r4, lane_id\nmov r5, 0\nloop\n  add r5, r5, 1\n  sltu r7, r4, r5\n  break r7\n"
	 "endloop\nshl r10, r4, 2\nstx r0, r10, r5, 0\nexit\n"},
	{"if-else",
	 {1, 1, 31, 0x0c, 0, 0},
	 "sreg r4, lane_id\nand r5, r4, 1\nif r5\n  mov r8, 1\nelse\n  mov r8, 2\nendif\n"
	 "shl r10, r4, 2\nstx r0, r10, r8, 0\nexit\n"},
	{"atomics",
	 {3, 1, 15, 0x0b, 0, 0},
	 "mov r4, 1\natomadd r5, r0, r4, 64\nsreg r6, core_id\natomadd r7, r0, r6, 68\nexit\n"},
	{"floats",
	 {0, 0, 3, 0x00, 0, 0},
	 "movf r4, 1.5\nfadd r5, r4, 2.25\nfmul r5, r5, r4\nfdiv r6, r5, 0\nfsqrt r7, -1\n"
	 "fma r8, r4, r5, r6\nf2i r9, r8\ni2f r10, r9\nfmin r11, r10, 0x7fc00000\n"
	 "st r0, r11, 0\nexit\n"},
	{"sregs",
	 {2, 3, 4, 0x09, 0, 0},
	 "sreg r4, groups_x\nsreg r5, groups_y\nsreg r6, local_size\nsreg r7, group_id_y\n"
	 "sreg r8, args_lo\nsreg r9, 11\nadd r4, r4, r5\nst r0, r4, 0\nexit\n"},
	{"divide",
	 {0, 0, 7, 0x04, 0, 0},
	 "sreg r4, lane_id\nmov r7, 100\ndivu r5, r7, r4\nrems r6, r4, -1\nexit\n"},
	{"misaligned", {0, 0, 0, 0x00, 0, 0}, "ld r4, r0, 2\nexit\n"},
	{"read-only-store", {0, 0, 0, 0x00, 0, 3}, "st r0, r0, 0\nexit\n"},
	{"hole", {0, 0, 0, 0x00, 0, 2}, "ld r4, r0, 0\nexit\n"},
	{"stack", {0, 0, 0, 0x00, 0, 0}, ".raw\nendif\nexit\n"},
	{"pc-range", {0, 0, 0, 0x00, 0, 0}, "bra @100\n"},
	{"fall-off", {0, 0, 0, 0x10, 0, 0}, "nop\n"},
	{"misplaced", {0, 0, 0, 0x00, 1, 0}, "exit\n"},
	{"not-executable", {0, 0, 0, 0x00, 2, 0}, "exit\n"},
	{"illegal", {0, 0, 0, 0x00, 0, 0}, ".word 0xff\nexit\n"},
	{"local-zero", {0, 0, 0xff, 0x00, 0, 0}, "exit\n"},
	{"endless", {0, 0, 3, 0x00, 0, 0}, "top: add r4, r4, 1\nbra top\n"},
};

static void isa_write_seeds(void)
{
	for (size_t i = 0; i < sizeof(isa_seeds) / sizeof(isa_seeds[0]); i++) {
		const struct isa_seed *s = &isa_seeds[i];
		uint64_t *words = NULL;
		uint32_t count = seed_asm(s->name, s->src, &words);
		size_t size = FUZZ_ISA_HEADER + (size_t)count * 8;
		uint8_t *bytes = calloc(1, size);

		if (count && bytes) {
			memcpy(bytes, s->header, FUZZ_ISA_HEADER);
			for (uint32_t w = 0; w < count; w++)
				for (int b = 0; b < 8; b++)
					bytes[FUZZ_ISA_HEADER + 8 * w + b] =
						(uint8_t)(words[w] >> (8 * b));
			seed_write("fuzz_isa", s->name, bytes, size);
		}
		free(bytes);
		free(words);
	}
}

/* ---- fuzz_cmdstream ---- */

static void cs_put(const char *name, const uint32_t *words, uint32_t count)
{
	uint8_t bytes[FUZZ_CS_CMD_SIZE];

	for (uint32_t i = 0; i < count; i++)
		for (int b = 0; b < 4; b++)
			bytes[4 * i + b] = (uint8_t)(words[i] >> (8 * b));
	seed_write("fuzz_cmdstream", name, bytes, (size_t)count * 4);
}

static void cmdstream_write_seeds(void)
{
	const uint64_t data = FUZZ_CS_DATA_VA, ro = FUZZ_CS_RO_VA, hole = FUZZ_CS_HOLE_VA;
	uint32_t c[FUZZ_CS_CMD_SIZE / 4], n;
	uint64_t *words = NULL;
	uint32_t count;

	n = sim_cmd_emit_write32(c, data, 0xc0de0001u);
	n += sim_cmd_emit_write64(c + n, data + 8, 0x1122334455667788ull);
	cs_put("write", c, n + sim_cmd_emit_end(c + n));
	n = sim_cmd_emit_fill(c, data + 4096, 4096, 0x5a5a5a5au);
	n += sim_cmd_emit_copy(c + n, data + 8192, data + 4096, 4096);
	n += sim_cmd_emit_copy(c + n, data + 16384, ro, 256);
	cs_put("fill-copy", c, n + sim_cmd_emit_end(c + n));
	n = sim_cmd_emit_timestamp(c, data, 0);
	n += sim_cmd_emit_timestamp(c + n, data + 8, SIM_CMD_TS_CYCLES);
	n += sim_cmd_emit_interrupt(c + n, 0x1234);
	n += sim_cmd_emit_nop(c + n, 3);
	cs_put("timestamp-interrupt", c, n + sim_cmd_emit_end(c + n));
	n = sim_cmd_emit_signal(c, data + 64, 5, 0);
	n += sim_cmd_emit_signal(c + n, data + 64, 2, SIM_CMD_SIGNAL_ADD);
	n += sim_cmd_emit_wait(c + n, data + 64, 7, SIM_CMD_WAIT_GE);
	n += sim_cmd_emit_signal(c + n, data + 72, 1, SIM_CMD_SIGNAL_64);
	n += sim_cmd_emit_wait(c + n, data + 72, 1, SIM_CMD_WAIT_EQ | SIM_CMD_WAIT_64);
	cs_put("signal-wait", c, n + sim_cmd_emit_end(c + n));
	n = sim_cmd_emit_write32(c, data, 1);
	n += sim_cmd_emit_jump(c + n, FUZZ_CS_CMD_VA + 4 * (n + 4), 20); /* to the next command */
	n += sim_cmd_emit_write32(c + n, data + 4, 2);
	cs_put("jump", c, n + sim_cmd_emit_end(c + n));
	/* A kernel in the command buffer's upper half, run over 4 groups of 16 lanes. */
	count = seed_asm("cmdstream",
			 "sreg r4, global_id_x\nshl r5, r4, 2\nadd r8, r0, r5\n"
			 "mov r9, r1\nld r10, r8, 0\nmul r10, r10, 3\nst r8, r10, 4096\n"
			 "exit\n",
			 &words);
	if (count) {
		memset(c, 0, sizeof(c));
		n = sim_cmd_emit_dispatch(c, FUZZ_CS_CMD_VA + FUZZ_CS_PROG_OFF, count, data, 4, 1,
					  16);
		sim_cmd_emit_end(c + n);
		memcpy(c + FUZZ_CS_PROG_OFF / 4, words, (size_t)count * 8);
		cs_put("dispatch", c, FUZZ_CS_PROG_OFF / 4 + 2 * count);
	}
	free(words);
	/* Each fault class once, and work that never ends (the driver's hang check ends it). */
	n = sim_cmd_emit_write32(c, ro, 1);
	cs_put("fault-read-only", c, n + sim_cmd_emit_end(c + n));
	n = sim_cmd_emit_fill(c, hole, 64, 0);
	cs_put("fault-unmapped", c, n + sim_cmd_emit_end(c + n));
	c[0] = sim_cmd_header(0x7f, 0, 0);
	cs_put("fault-opcode", c, 1 + sim_cmd_emit_end(c + 1));
	c[0] = sim_cmd_header(SIM_CMD_WRITE32, 0, 2); /* WRITE32 takes 3 */
	c[1] = sim_cmd_lo(data);
	c[2] = sim_cmd_hi(data);
	c[3] = 1;
	cs_put("fault-length", c, 4 + sim_cmd_emit_end(c + 4));
	n = sim_cmd_emit_wait(c, data + 128, 1, SIM_CMD_WAIT_EQ);
	cs_put("hang-wait", c, n + sim_cmd_emit_end(c + n));
	n = sim_cmd_emit_jump(c, FUZZ_CS_CMD_VA, 16);
	cs_put("hang-jump", c, n);
}

/* ---- fuzz_trace ---- */

static char *slurp(const char *path, size_t *size_out)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	long n;

	if (f && !fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET)) {
		text = malloc((size_t)n + 1);
		if (text && fread(text, 1, (size_t)n, f) != (size_t)n) {
			free(text);
			text = NULL;
		} else if (text) {
			text[n] = '\0';
			*size_out = (size_t)n;
		}
	}
	if (f)
		fclose(f);
	return text;
}

/* The number after @key in @line (or -1): "submission":70 -> 70. */
static long member_number(const char *line, const char *key)
{
	const char *at = strstr(line, key);

	return at ? strtol(at + strlen(key), NULL, 10) : -1;
}

/*
 * @text without its "dev" and "device" events, the rest renumbered: seq, completion
 * submissions and the end event's count. Returns a malloc'd string or NULL when @text does not
 * look like a recorded trace.
 */
static char *trace_without_dev(const char *text)
{
	size_t cap = strlen(text) + 1, len = 0;
	char *out = malloc(cap);
	long *renum = NULL, next = 0, lines = 0;
	const char *p = text, *nl;

	for (const char *q = text; *q; q++)
		lines += *q == '\n';
	renum = calloc((size_t)lines + 1, sizeof(long));
	if (!out || !renum)
		goto err;
	while ((nl = strchr(p, '\n'))) {
		size_t n = (size_t)(nl - p) + 1;
		long seq = strncmp(p, "{\"seq\":", 7) ? -1 : strtol(p + 7, NULL, 10);
		const char *rest = seq >= 0 ? strchr(p + 7, ',') : NULL;

		if (seq < 0 || !rest || rest > nl) { /* header and trailer lines */
			memcpy(out + len, p, n);
			len += n;
		} else if (!strncmp(rest, ",\"type\":\"dev", 12)) {
			/* dropped: "dev" and "device" */
		} else if (seq <= lines) {
			char head[64], *line = strndup(rest, (size_t)(nl - rest));
			long sub = member_number(line, "\"submission\":");
			int hn;

			if (!line)
				goto err;
			renum[seq] = next;
			hn = snprintf(head, sizeof(head), "{\"seq\":%ld", next++);
			memcpy(out + len, head, (size_t)hn);
			len += (size_t)hn;
			if (!strncmp(rest, ",\"type\":\"end\"", 13)) {
				len += (size_t)sprintf(
					out + len, ",\"type\":\"end\",\"events\":%ld}\n", next - 1);
			} else if (sub >= 0 && sub <= lines) {
				char *at = strstr(line, "\"submission\":");
				char *after = at + 13;

				while (*after >= '0' && *after <= '9')
					after++;
				len += (size_t)sprintf(out + len, "%.*s\"submission\":%ld%s\n",
						       (int)(at - line), line, renum[sub], after);
			} else {
				len += (size_t)sprintf(out + len, "%s\n", line);
			}
			free(line);
		}
		p = nl + 1;
	}
	out[len] = '\0';
	free(renum);
	return out;

err:
	free(out);
	free(renum);
	return NULL;
}

/* A call event with @args and @out (JSON members) and, unless @result < -100, its status. */
static uint64_t tw_call(struct trace_writer *w, const char *call, const char *args, int result,
			const char *out)
{
	if (result < -100)
		return trace_writer_event(
			w, "\"type\":\"call\",\"call\":\"%s\",\"args\":{%s},\"out\":{%s}", call,
			args, out);
	return trace_writer_event(
		w, "\"type\":\"call\",\"call\":\"%s\",\"args\":{%s},\"result\":%d,\"out\":{%s}",
		call, args, result, out);
}

/* The digest of @len bytes at @data as hex, stored as a blob of @w. */
static void tw_blob(struct trace_writer *w, const void *data, size_t len, char hex[17])
{
	trace_digest_hex(trace_writer_blob(w, data, len), hex);
}

#define TW_VOID (-1000) /* tw_call: a call without a status */

/*
 * A small valid trace: one connection writes 0xc0de into its data buffer with WRITE32, through
 * a command buffer (@use_inline false) or an inline command, waits, and checks the result.
 */
static void trace_write_minimal(const char *name, bool use_inline)
{
	uint32_t cmd[1024] = {0}, n;
	uint8_t data[8192] = {0};
	char path[4096], text[512], cmd_hex[17], zero_hex[17], after_hex[17];
	struct trace_writer *w;
	uint64_t seq;

	snprintf(path, sizeof(path), "%s/fuzz_trace/%s", out_dir, name);
	w = trace_writer_open(path, "fuzz-seeds");
	if (!w) {
		fprintf(stderr, "fuzz-seeds: cannot write %s\n", path);
		failures++;
		return;
	}
	tw_call(w, "device_import", "\"channel\":3", 0, "\"device\":1");
	tw_call(w, "device_query", "\"device\":1,\"id\":1,\"buffer\":0", 0, "\"value\":21321");
	tw_call(w, "create_connection", "\"device\":1", 0, "\"connection\":2");
	tw_call(w, "create_context", "\"connection\":2,\"priority\":256", 0, "\"context\":1");
	tw_call(w, "create_buffer", "\"connection\":2,\"size\":4096", 0,
		"\"size\":4096,\"buffer\":3,\"id\":1");
	tw_call(w, "create_buffer", "\"connection\":2,\"size\":8192", 0,
		"\"size\":8192,\"buffer\":4,\"id\":2");
	tw_call(w, "map_buffer",
		"\"connection\":2,\"hw_va\":1048576,\"buffer\":3,\"offset\":0,\"length\":4096,"
		"\"flags\":5",
		0, "");
	tw_call(w, "map_buffer",
		"\"connection\":2,\"hw_va\":2097152,\"buffer\":4,\"offset\":0,\"length\":8192,"
		"\"flags\":3",
		0, "");
	tw_call(w, "create_semaphore", "\"connection\":2", 0, "\"semaphore\":5,\"id\":1");
	n = sim_cmd_emit_write32(cmd, 0x200000, 0xc0de);
	n += sim_cmd_emit_end(cmd + n);
	if (use_inline) {
		tw_blob(w, cmd, (size_t)n * 4, cmd_hex);
		snprintf(
			text, sizeof(text),
			"\"connection\":2,\"context\":1,\"commands\":[{\"size\":%u,\"data\":\"%s\","
			"\"semaphores\":[1]}]",
			n * 4, cmd_hex);
		seq = tw_call(w, "execute_inline", text, 0, "");
	} else {
		tw_blob(w, cmd, sizeof(cmd), cmd_hex);
		tw_blob(w, data, sizeof(data), zero_hex);
		snprintf(
			text, sizeof(text),
			"\"connection\":2,\"context\":1,\"flags\":0,\"resources\":[{\"buffer_id\":1,"
			"\"offset\":0,\"length\":4096,\"contents\":\"%s\"},{\"buffer_id\":2,"
			"\"offset\":0,\"length\":8192,\"contents\":\"%s\"}],\"command_buffers\":"
			"[{\"resource_index\":0,\"start_offset\":0}],\"wait\":[],\"signal\":[1]",
			cmd_hex, zero_hex);
		seq = tw_call(w, "execute_command", text, 0, "");
	}
	tw_call(w, "poll",
		"\"items\":[{\"type\":1,\"object\":5,\"condition\":3}],\"timeout_ns\":1000000000",
		0, "\"results\":[3]");
	data[0] = 0xde;
	data[1] = 0xc0;
	if (use_inline) {
		trace_writer_event(
			w,
			"\"type\":\"completion\",\"connection\":2,\"submission\":%" PRIu64
			",\"resources\":[]",
			seq);
	} else {
		tw_blob(w, data, sizeof(data), after_hex);
		trace_writer_event(
			w,
			"\"type\":\"completion\",\"connection\":2,\"submission\":%" PRIu64
			",\"resources\":[{\"index\":0,\"buffer_id\":1,\"digest\":\"%s\"},"
			"{\"index\":1,\"buffer_id\":2,\"digest\":\"%s\"}]",
			seq, cmd_hex, after_hex);
	}
	tw_call(w, "semaphore_reset", "\"semaphore\":5", TW_VOID, "");
	tw_call(w, "buffer_get_info", "\"buffer\":4", 0, "\"size\":8192,\"committed\":8192");
	tw_call(w, "flush", "\"connection\":2", 0, "");
	tw_call(w, "release_semaphore", "\"connection\":2,\"semaphore\":5", TW_VOID, "");
	tw_call(w, "release_buffer", "\"connection\":2,\"buffer\":3", TW_VOID, "");
	tw_call(w, "release_context", "\"connection\":2,\"context\":1", TW_VOID, "");
	tw_call(w, "connection_release", "\"connection\":2", TW_VOID, "");
	tw_call(w, "device_release", "\"device\":1", TW_VOID, "");
	trace_writer_close(w);
}

static void trace_write_seeds(int count, char **samples)
{
	trace_write_minimal("minimal-execute.json", false);
	trace_write_minimal("minimal-inline.json", true);
	for (int i = 0; i < count; i++) {
		const char *base =
			strrchr(samples[i], '/') ? strrchr(samples[i], '/') + 1 : samples[i];
		char name[256];
		size_t size = 0;
		char *text = slurp(samples[i], &size), *short_form;

		if (!text) {
			fprintf(stderr, "fuzz-seeds: cannot read %s\n", samples[i]);
			failures++;
			continue;
		}
		seed_write("fuzz_trace", base, text, size);
		short_form = trace_without_dev(text);
		snprintf(name, sizeof(name), "nodev-%s", base);
		if (short_form)
			seed_write("fuzz_trace", name, short_form, strlen(short_form));
		else
			failures++;
		free(short_form);
		free(text);
	}
}

/* ---- fuzz_service: chunks of wire messages (fuzz_service.c describes the format) ---- */

/* A seed being built: chunks appended one after the other. */
struct svc_seed {
	uint8_t bytes[8192];
	size_t len;
};

/* Appends one chunk: @msg (@size bytes) with @nfds fds of @kind, on the device channel if @dev. */
static void svc_chunk(struct svc_seed *s, const void *msg, size_t size, unsigned nfds,
		      unsigned kind, bool dev)
{
	if (s->len + 3 + size > sizeof(s->bytes)) {
		fprintf(stderr, "fuzz-seeds: service seed too large\n");
		failures++;
		return;
	}
	s->bytes[s->len++] = (uint8_t)(nfds | kind << 3 | (dev ? 0x40 : 0));
	s->bytes[s->len++] = (uint8_t)size;
	s->bytes[s->len++] = (uint8_t)(size >> 8);
	memcpy(s->bytes + s->len, msg, size);
	s->len += size;
}

static void service_write_seeds(void)
{
	struct wire_create_context ctx = {.hdr = {WIRE_CREATE_CONTEXT, 0, sizeof(ctx), 0},
					  .context_id = 1,
					  .priority = MAGMA_PRIORITY_MEDIUM};
	struct wire_import_buffer ib = {
		.hdr = {WIRE_IMPORT_BUFFER, 0, sizeof(ib), 1}, .buffer_id = 1, .size = 4096};
	struct wire_import_semaphore is = {.hdr = {WIRE_IMPORT_SEMAPHORE, 0, sizeof(is), 1},
					   .semaphore_id = 2};
	struct wire_map_buffer map = {.hdr = {WIRE_MAP_BUFFER, 0, sizeof(map), 0},
				      .hw_va = 0x100000,
				      .buffer_id = 1,
				      .length = 4096,
				      .flags = MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE};
	struct wire_unmap_buffer unmap = {
		.hdr = {WIRE_UNMAP_BUFFER, 0, sizeof(unmap), 0}, .hw_va = 0x100000, .buffer_id = 1};
	struct wire_perform_buffer_op op = {.hdr = {WIRE_PERFORM_BUFFER_OP, 0, sizeof(op), 0},
					    .buffer_id = 1,
					    .options = MAGMA_BUFFER_RANGE_OP_POPULATE_TABLES,
					    .length = 4096};
	struct wire_alloc_object_ids ids = {.hdr = {WIRE_ALLOC_OBJECT_IDS, 0, sizeof(ids), 0}};
	struct wire_release_buffer rb = {.hdr = {WIRE_RELEASE_BUFFER, 0, sizeof(rb), 0},
					 .buffer_id = 1};
	struct wire_device_query q = {.hdr = {WIRE_DEVICE_QUERY, 0, sizeof(q), 0},
				      .id = MAGMA_QUERY_DEVICE_ID};
	struct {
		struct wire_execute_inline m;
		struct wire_inline_command rec;
		uint32_t cmds[4];
		uint64_t sem;
	} inl = {.m = {.hdr = {WIRE_EXECUTE_INLINE_COMMANDS, 0, sizeof(inl), 0},
		       .context_id = 1,
		       .command_count = 1},
		 .rec = {.size = 16, .semaphore_count = 1},
		 .sem = 2};
	struct {
		struct wire_execute_command m;
		magma_exec_resource_t res;
		magma_exec_command_buffer_t cb;
		uint64_t signal;
	} exe = {.m = {.hdr = {WIRE_EXECUTE_COMMAND, 0, sizeof(exe), 0},
		       .context_id = 1,
		       .resource_count = 1,
		       .command_buffer_count = 1,
		       .signal_semaphore_count = 1},
		 .res = {.buffer_id = 1, .length = 4096},
		 .signal = 2};
	struct svc_seed s;

	sim_cmd_emit_write32(inl.cmds, 0x100000, 7);
	sim_cmd_emit_end(inl.cmds + 3);
	memset(&s, 0, sizeof(s));
	svc_chunk(&s, &ctx, sizeof(ctx), 0, 0, false);
	svc_chunk(&s, &ib, sizeof(ib), 1, 0, false);
	svc_chunk(&s, &is, sizeof(is), 1, 2, false);
	svc_chunk(&s, &map, sizeof(map), 0, 0, false);
	svc_chunk(&s, &op, sizeof(op), 0, 0, false);
	svc_chunk(&s, &inl, sizeof(inl), 0, 0, false);
	svc_chunk(&s, &exe, sizeof(exe), 0, 0, false);
	svc_chunk(&s, &unmap, sizeof(unmap), 0, 0, false);
	svc_chunk(&s, &rb, sizeof(rb), 0, 0, false);
	svc_chunk(&s, &ids, sizeof(ids), 0, 0, false);
	seed_write("fuzz_service", "every-message", s.bytes, s.len);
	/* Two messages in one chunk, and one message split over two chunks. */
	memset(&s, 0, sizeof(s));
	{
		uint8_t two[sizeof(ctx) + sizeof(ids)];

		memcpy(two, &ctx, sizeof(ctx));
		memcpy(two + sizeof(ctx), &ids, sizeof(ids));
		svc_chunk(&s, two, sizeof(two), 0, 0, false);
		svc_chunk(&s, &map, 20, 0, 0, false);
		svc_chunk(&s, (const uint8_t *)&map + 20, sizeof(map) - 20, 0, 0, false);
	}
	seed_write("fuzz_service", "framing", s.bytes, s.len);
	/* An fd of the wrong kind, one message short of its fd, and device-channel traffic. */
	memset(&s, 0, sizeof(s));
	svc_chunk(&s, &ib, sizeof(ib), 1, 5, false);
	seed_write("fuzz_service", "pipe-as-buffer", s.bytes, s.len);
	memset(&s, 0, sizeof(s));
	svc_chunk(&s, &ib, sizeof(ib), 1, 1, false);
	seed_write("fuzz_service", "unsealable-buffer", s.bytes, s.len);
	memset(&s, 0, sizeof(s));
	svc_chunk(&s, &q, sizeof(q), 0, 0, true);
	svc_chunk(&s, &ctx, sizeof(ctx), 0, 0, false);
	seed_write("fuzz_service", "device-query", s.bytes, s.len);
}

/* ---- dictionaries ---- */

/* One dictionary entry of @len raw bytes, every byte escaped. */
static void dict_bytes(FILE *f, const char *name, const void *data, size_t len)
{
	const uint8_t *p = data;

	fprintf(f, "%s=\"", name);
	for (size_t i = 0; i < len; i++)
		fprintf(f, "\\x%02x", p[i]);
	fprintf(f, "\"\n");
}

static void dict_le32(FILE *f, const char *name, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	dict_bytes(f, name, b, sizeof(b));
}

static void dict_le64(FILE *f, const char *name, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	dict_bytes(f, name, b, sizeof(b));
}

/* A valid word of @op: only the fields its form uses, r4 = op(r0 or r5, imm 4 / r6, r7). */
static uint64_t dict_insn(uint8_t op, enum sim_isa_form form)
{
	struct sim_isa_insn in = {.op = op};

	switch (form) {
	case SIM_FORM_NONE:
		break;
	case SIM_FORM_RD_B:
	case SIM_FORM_RD_RA_B:
		in = (struct sim_isa_insn){.op = op, .rd = 4, .ra = 5, .has_imm = true, .imm = 4};
		break;
	case SIM_FORM_FMA:
	case SIM_FORM_SEL:
		in = (struct sim_isa_insn){.op = op, .rd = 4, .ra = 5, .rb = 6, .rc = 7};
		break;
	case SIM_FORM_SREG:
		in = (struct sim_isa_insn){.op = op, .rd = 4, .imm = SIM_SREG_GLOBAL_ID_X};
		break;
	case SIM_FORM_LD:
	case SIM_FORM_LDX:
	case SIM_FORM_ATOM:
		in = (struct sim_isa_insn){.op = op, .rd = 4, .ra = 0, .rb = 5};
		break;
	case SIM_FORM_ST:
	case SIM_FORM_STX:
		in = (struct sim_isa_insn){.op = op, .ra = 0, .rb = 5, .rc = 6};
		break;
	case SIM_FORM_TARGET:
		break;
	case SIM_FORM_RA_TARGET:
		in = (struct sim_isa_insn){.op = op, .ra = 5};
		break;
	}
	return sim_isa_encode(&in);
}

/* Each defined instruction as a whole word, and immediates worth trying. */
static void dict_isa(FILE *f)
{
	char name[64];

	fprintf(f, "# fuzz_isa: one SIM-1 instruction word per opcode (written by fuzz-seeds)\n");
	for (uint32_t op = 0; op < 256; op++) {
		const struct sim_isa_opinfo *info = sim_isa_opinfo(op);

		if (!info)
			continue;
		snprintf(name, sizeof(name), "op_%s", info->name);
		dict_le64(f, name, dict_insn((uint8_t)op, info->form));
	}
	dict_le32(f, "imm_args_hi", 0);
	dict_le32(f, "imm_float_one", 0x3f800000u);
	dict_le32(f, "imm_nan", 0x7fc00000u);
	dict_le32(f, "imm_int_min", 0x80000000u);
}

/* Each command header with its payload length, flag variants, and the client's addresses. */
static void dict_cmdstream(FILE *f)
{
	static const uint8_t len[SIM_CMD_OPCODE_COUNT] = {
		[SIM_CMD_NOP] = 0,  [SIM_CMD_WRITE32] = 3, [SIM_CMD_WRITE64] = 4,
		[SIM_CMD_COPY] = 6, [SIM_CMD_FILL] = 5,	   [SIM_CMD_TIMESTAMP] = 2,
		[SIM_CMD_WAIT] = 4, [SIM_CMD_SIGNAL] = 4,  [SIM_CMD_DISPATCH] = 8,
		[SIM_CMD_JUMP] = 3, [SIM_CMD_END] = 0,	   [SIM_CMD_INTERRUPT] = 1,
	};
	char name[64];

	fprintf(f, "# fuzz_cmdstream: command headers and addresses (written by fuzz-seeds)\n");
	for (uint32_t op = 0; op < SIM_CMD_OPCODE_COUNT; op++) {
		snprintf(name, sizeof(name), "cmd_%02x", op);
		dict_le32(f, name, sim_cmd_header(op, 0, len[op]));
	}
	dict_le32(f, "cmd_timestamp_cycles", sim_cmd_header(SIM_CMD_TIMESTAMP, 1, 2));
	dict_le32(f, "cmd_wait_ge_64", sim_cmd_header(SIM_CMD_WAIT, 0x0a, 4));
	dict_le32(f, "cmd_signal_add_64", sim_cmd_header(SIM_CMD_SIGNAL, 0x09, 4));
	dict_le64(f, "va_cmd", FUZZ_CS_CMD_VA);
	dict_le64(f, "va_prog", FUZZ_CS_CMD_VA + FUZZ_CS_PROG_OFF);
	dict_le64(f, "va_data", FUZZ_CS_DATA_VA);
	dict_le64(f, "va_ro", FUZZ_CS_RO_VA);
	dict_le64(f, "va_hole", FUZZ_CS_HOLE_VA);
}

/* The trace format's tokens: event types, call names, members, blob syntax. */
static void dict_trace(FILE *f)
{
	static const char *const tokens[] = {
		"\"type\":\"call\"",
		"\"type\":\"blob\"",
		"\"type\":\"completion\"",
		"\"type\":\"dev\"",
		"\"type\":\"device\"",
		"\"type\":\"end\"",
		"\"seq\":",
		"\"call\":",
		"\"args\":{",
		"\"out\":{",
		"\"result\":",
		"\"invalid\":1",
		"\"digest\":",
		"\"size\":",
		"\"data\":",
		"\"contents\":",
		"\"resources\":[",
		"\"command_buffers\":[",
		"\"commands\":[",
		"\"items\":[",
		"\"wait\":[",
		"\"signal\":[",
		"\"semaphores\":[",
		"\"submission\":",
		"\"buffer_id\":",
		"\"offset\":",
		"\"length\":",
		"\"resource_index\":",
		"\"start_offset\":",
		"\"connection\":",
		"\"context\":",
		"\"buffer\":",
		"\"semaphore\":",
		"\"id\":",
		"\"handle\":",
		"\"device\":",
		"\"timeout_ns\":",
		"\"condition\":",
		"\"object\":",
		"\"hw_va\":",
		"\"flags\":",
		"\"buffer_size\":",
		"\"index\":",
		"\"pool\":",
		"\"counters\":[",
		"\"offsets\":[",
		"\"version\":",
		"\"format\":\"magma-sim-trace\"",
		"\"events\":[",
		"]}",
		"~16.",
		"~4096.",
		"=",
		"AAAA",
		"0000000000000000",
		"\"device_import\"",
		"\"create_connection\"",
		"\"create_context\"",
		"\"create_buffer\"",
		"\"import_buffer\"",
		"\"buffer_export\"",
		"\"map_buffer\"",
		"\"unmap_buffer\"",
		"\"release_buffer\"",
		"\"create_semaphore\"",
		"\"import_semaphore\"",
		"\"semaphore_export\"",
		"\"semaphore_signal\"",
		"\"semaphore_reset\"",
		"\"release_semaphore\"",
		"\"execute_command\"",
		"\"execute_inline\"",
		"\"poll\"",
		"\"flush\"",
		"\"get_error\"",
		"\"get_notification_channel\"",
		"\"read_notification\"",
		"\"buffer_get_info\"",
		"\"buffer_get_handle\"",
		"\"buffer_op\"",
		"\"buffer_clean_cache\"",
		"\"buffer_set_name\"",
		"\"device_query\"",
		"\"connection_release\"",
		"\"release_context\"",
		"\"device_release\"",
		"\"perf_enable_access\"",
		"\"perf_create_pool\"",
		"\"perf_add_offsets\"",
		"\"perf_dump\"",
		"\"perf_read_completion\"",
		"\"enumerate_devices\"",
	};

	fprintf(f, "# fuzz_trace: trace-format tokens (written by fuzz-seeds)\n");
	for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		fprintf(f, "t%zu=\"", i);
		for (const char *c = tokens[i]; *c; c++)
			fprintf(f, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
		fprintf(f, "\"\n");
	}
}

/* fuzz_service: every message type and the wire's constants, as they appear on the wire. */
static void dict_service(FILE *f)
{
	static const uint32_t types[] = {
		WIRE_DEVICE_IMPORT,
		WIRE_DEVICE_QUERY,
		WIRE_DEVICE_CREATE_CONNECTION,
		WIRE_CONNECTION_RELEASE,
		WIRE_RELEASE_CONTEXT,
		WIRE_RELEASE_BUFFER,
		WIRE_EXECUTE_INLINE_COMMANDS,
		WIRE_RELEASE_SEMAPHORE,
		WIRE_ENABLE_PERF_ACCESS,
		WIRE_ENABLE_PERF_COUNTERS,
		WIRE_CREATE_PERF_POOL,
		WIRE_RELEASE_PERF_POOL,
		WIRE_ADD_PERF_OFFSETS,
		WIRE_REMOVE_PERF_BUFFER,
		WIRE_DUMP_PERF_COUNTERS,
		WIRE_CLEAR_PERF_COUNTERS,
		WIRE_PERFORM_BUFFER_OP,
		WIRE_FLUSH,
		WIRE_EXECUTE_COMMAND,
		WIRE_MAP_BUFFER,
		WIRE_UNMAP_BUFFER,
		WIRE_IMPORT_BUFFER,
		WIRE_IMPORT_SEMAPHORE,
		WIRE_CREATE_CONTEXT,
		WIRE_ALLOC_OBJECT_IDS,
	};
	char name[32];

	fprintf(f, "# fuzz_service: wire message types and constants (written by fuzz-seeds)\n");
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(name, sizeof(name), "type_%s", wire_type_name(types[i]));
		dict_le32(f, name, types[i]);
	}
	dict_le32(f, "protocol_version", WIRE_PROTOCOL_VERSION);
	dict_le32(f, "max_message", WIRE_MAX_MESSAGE);
	dict_le64(f, "page", 4096);
	dict_le64(f, "va_limit", 0x00007f0000000000ull);
	dict_le64(f, "map_rw", MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE);
	dict_le64(f, "map_rwx",
		  MAGMA_MAP_FLAG_READ | MAGMA_MAP_FLAG_WRITE | MAGMA_MAP_FLAG_EXECUTE);
}

/* Writes (@check false) or compares with (@check true) DIR/fuzz_<target>.dict for each target. */
static int dicts(const char *dir, bool check)
{
	static const struct {
		const char *name;
		void (*write)(FILE *f);
	} all[] = {{"fuzz_isa", dict_isa},
		   {"fuzz_cmdstream", dict_cmdstream},
		   {"fuzz_trace", dict_trace},
		   {"fuzz_service", dict_service}};
	int stale = 0;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		char path[4096], *want = NULL, *have = NULL;
		size_t want_len = 0, have_len = 0;
		FILE *mem = open_memstream(&want, &want_len);

		if (!mem)
			return 1;
		all[i].write(mem);
		fclose(mem);
		snprintf(path, sizeof(path), "%s/%s.dict", dir, all[i].name);
		if (check) {
			have = slurp(path, &have_len);
			if (!have || have_len != want_len || memcmp(have, want, want_len)) {
				fprintf(stderr,
					"fuzz-seeds: %s is not what fuzz-seeds writes: run "
					"fuzz-seeds --dicts %s\n",
					path, dir);
				stale = 1;
			}
		} else {
			FILE *f = fopen(path, "w");

			if (!f || fwrite(want, 1, want_len, f) != want_len || fclose(f)) {
				fprintf(stderr, "fuzz-seeds: cannot write %s\n", path);
				stale = 1;
			}
		}
		free(have);
		free(want);
	}
	return stale;
}

int main(int argc, char **argv)
{
	static const char *const targets[] = {"fuzz_isa", "fuzz_cmdstream", "fuzz_trace",
					      "fuzz_service"};
	char path[4096];

	if (argc == 3 && !strcmp(argv[1], "--dicts"))
		return dicts(argv[2], false);
	if (argc == 3 && !strcmp(argv[1], "--check-dicts"))
		return dicts(argv[2], true);
	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: fuzz-seeds OUTDIR [SAMPLE.json...] | --dicts DIR | "
				"--check-dicts DIR\n");
		return 1;
	}
	out_dir = argv[1];
	mkdir(out_dir, 0755);
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", out_dir, targets[i]);
		if (mkdir(path, 0755) && errno != EEXIST) {
			fprintf(stderr, "fuzz-seeds: cannot create %s: %s\n", path,
				strerror(errno));
			return 1;
		}
	}
	isa_write_seeds();
	cmdstream_write_seeds();
	trace_write_seeds(argc - 2, argv + 2);
	service_write_seeds();
	if (!failures)
		seed_write(".", "stamp", "", 0);
	return failures ? 1 : 0;
}
