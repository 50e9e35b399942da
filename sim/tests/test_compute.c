/* SPDX-License-Identifier: MIT */
/*
 * test_compute.c - the compute cores, driven like a driver would: assembled programs in GPU
 * memory, a DISPATCH command submitted through a ring, the clock run until idle, results read
 * back from memory and registers. Covers every ALU/float/compare/convert op per lane, divergent
 * structured control flow, special registers over a 2D grid, memory ops through the MMU
 * (deterministic atomics), every compute fault with its FAULT_ADDR, the exact cycle cost of a
 * known program, multi-core scaling and preemption of an endless kernel.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim_isa.h"
#include "sim_test.h"
#include "sim_test_util.h"

#define JOB_AS	  1
#define CMD_VA	  0x10000000ull
#define PROG_VA	  0x20000000ull
#define DATA_VA	  0x30000000ull
#define RO_VA	  0x40000000ull /* read-only data page */
#define NX_VA	  0x50000000ull /* readable, writable, not executable */
#define DATA_SIZE (64u * 1024)
#define PROG_SIZE (64u * 1024)
#define MAX_RUN	  50000000ull

struct fx {
	struct simt *t;
	struct simt_buf *cmd, *prog, *data, *ro, *nx;
	uint64_t seq;
};

static bool fx_init(struct fx *f, const struct sim_config *cfg)
{
	struct simt *t;

	memset(f, 0, sizeof(*f));
	f->t = t = simt_create(cfg);
	if (!t)
		return false;
	f->cmd = simt_alloc(t, 4096);
	f->prog = simt_alloc(t, PROG_SIZE);
	f->data = simt_alloc(t, DATA_SIZE);
	f->ro = simt_alloc(t, 4096);
	f->nx = simt_alloc(t, 4096);
	if (!f->cmd || !f->prog || !f->data || !f->ro || !f->nx)
		return false;
	if (simt_queue_init(t, 0, 0, 64) || simt_as_init(t, JOB_AS))
		return false;
	return !simt_map(t, JOB_AS, CMD_VA, f->cmd, 0, 4096, SIM_PTE_READ) &&
	       !simt_map(t, JOB_AS, PROG_VA, f->prog, 0, PROG_SIZE,
			 SIM_PTE_READ | SIM_PTE_EXECUTE) &&
	       !simt_map(t, JOB_AS, DATA_VA, f->data, 0, DATA_SIZE, SIM_PTE_READ | SIM_PTE_WRITE) &&
	       !simt_map(t, JOB_AS, RO_VA, f->ro, 0, 4096, SIM_PTE_READ) &&
	       !simt_map(t, JOB_AS, NX_VA, f->nx, 0, 4096, SIM_PTE_READ | SIM_PTE_WRITE);
}

static void fx_fini(struct fx *f)
{
	simt_destroy(f->t);
}

/* Assemble @src into @dst (host memory of a program buffer). Returns the count or 0. */
static uint32_t fx_asm(void *dst, size_t room, const char *src)
{
	uint64_t *code = NULL;
	uint32_t n = 0;
	char err[128];

	if (sim_asm_assemble(src, &code, &n, err, sizeof(err))) {
		fprintf(stderr, "assembly failed: %s\n", err);
		return 0;
	}
	if (n * 8ull > room) {
		free(code);
		return 0;
	}
	memcpy(dst, code, n * 8ull); /* little-endian host */
	free(code);
	return n;
}

/* Submit DISPATCH + END as one job on queue 0 and run until idle (at most @max cycles). */
static int fx_dispatch(struct fx *f, uint64_t prog_va, uint32_t count, uint32_t gx, uint32_t gy,
		       uint32_t local, uint64_t max)
{
	uint32_t *c = f->cmd->host, n;

	n = sim_cmd_emit_dispatch(c, prog_va, count, DATA_VA, gx, gy, local);
	n += sim_cmd_emit_end(c + n);
	if (simt_submit(f->t, 0, JOB_AS, CMD_VA, n * 4, ++f->seq, 0))
		return -EIO;
	return simt_run(f->t, max);
}

/* Assemble @src to PROG_VA and dispatch it; 0 when the queue went idle. */
static int fx_run(struct fx *f, const char *src, uint32_t gx, uint32_t gy, uint32_t local)
{
	uint32_t n = fx_asm(f->prog->host, PROG_SIZE, src);

	if (!n)
		return -EINVAL;
	return fx_dispatch(f, PROG_VA, n, gx, gy, local, MAX_RUN);
}

static uint32_t *fx_data(struct fx *f)
{
	return f->data->host;
}

static uint32_t q_fault(struct fx *f)
{
	return simt_read32(f->t, SIM_Q_FAULT_CODE(0));
}

static uint64_t q_fault_addr(struct fx *f)
{
	return sim_mmio_read64(f->t->dev, SIM_Q_FAULT_ADDR_LO(0));
}

static uint32_t q_state(struct fx *f)
{
	return SIM_FIELD_GET(SIM_Q_STATUS_STATE, simt_read32(f->t, SIM_Q_STATUS(0)));
}

/* fx_run that must go idle without a fault; false (with the failed check reported) if not. */
static bool fx_run_ok(struct fx *f, const char *src, uint32_t gx, uint32_t gy, uint32_t local)
{
	int ret = fx_run(f, src, gx, gy, local);

	CHECK_EQ(ret, 0);
	if (ret)
		return false;
	CHECK_EQ(q_fault(f), 0);
	return q_fault(f) == 0;
}

/* ---- reference semantics ---- */

static float ff(uint32_t v)
{
	float f;

	memcpy(&f, &v, sizeof(f));
	return f;
}

static uint32_t fb(float f)
{
	uint32_t v;

	if (f != f)
		return 0x7fc00000u;
	memcpy(&v, &f, sizeof(v));
	return v;
}

static const uint32_t int_a[32] = {
	0,	1,	    2,		3,	    0xffffffff, 0xfffffffe, 0x80000000, 0x7fffffff,
	7,	0xfffffff9, 100,	0x80000001, 0xdeadbeef, 12345678,   31,		32,
	5,	0xfffffffb, 0x7ffffffe, 0x10000,    9,		0xfffffff7, 1000000,	0xfff0bdc0,
	0xffff, 0x8000,	    3,		65535,	    17,		0xffffffef, 0x40000000, 6};
static const uint32_t int_b[32] = {
	1,	    0xffffffff, 3,	    0xfffffffd, 1,	    0xffffffff, 0xffffffff,
	0xffffffff, 2,		2,	    7,		0xfffffff9, 31,		33,
	5,	    0x80000000, 0xffffffff, 4,		6,	    65536,	0xffff0000,
	13,	    0xfffffff3, 1000,	    1,		9,	    0x7fffffff, 2,
	0x8000,	    17,		0x40000000, 100};

struct int_op {
	const char *mn;
	uint32_t (*ref)(uint32_t a, uint32_t b);
};

static uint32_t r_add(uint32_t a, uint32_t b)
{
	return a + b;
}
static uint32_t r_sub(uint32_t a, uint32_t b)
{
	return a - b;
}
static uint32_t r_mul(uint32_t a, uint32_t b)
{
	return a * b;
}
static uint32_t r_mulhu(uint32_t a, uint32_t b)
{
	return (uint32_t)(((uint64_t)a * b) >> 32);
}
static uint32_t r_divu(uint32_t a, uint32_t b)
{
	return a / b;
}
static uint32_t r_remu(uint32_t a, uint32_t b)
{
	return a % b;
}
static uint32_t r_divs(uint32_t a, uint32_t b)
{
	if (a == 0x80000000u && b == 0xffffffffu)
		return a;
	return (uint32_t)((int32_t)a / (int32_t)b);
}
static uint32_t r_rems(uint32_t a, uint32_t b)
{
	if (a == 0x80000000u && b == 0xffffffffu)
		return 0;
	return (uint32_t)((int32_t)a % (int32_t)b);
}
static uint32_t r_and(uint32_t a, uint32_t b)
{
	return a & b;
}
static uint32_t r_or(uint32_t a, uint32_t b)
{
	return a | b;
}
static uint32_t r_xor(uint32_t a, uint32_t b)
{
	return a ^ b;
}
static uint32_t r_shl(uint32_t a, uint32_t b)
{
	return a << (b & 31);
}
static uint32_t r_shr(uint32_t a, uint32_t b)
{
	return a >> (b & 31);
}
static uint32_t r_sar(uint32_t a, uint32_t b)
{
	uint32_t s = b & 31;

	return (a & 0x80000000u) && s ? (a >> s) | ~(0xffffffffu >> s) : a >> s;
}
static uint32_t r_min(uint32_t a, uint32_t b)
{
	return (int32_t)a < (int32_t)b ? a : b;
}
static uint32_t r_max(uint32_t a, uint32_t b)
{
	return (int32_t)a > (int32_t)b ? a : b;
}
static uint32_t r_minu(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}
static uint32_t r_maxu(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}
static uint32_t r_seq(uint32_t a, uint32_t b)
{
	return a == b;
}
static uint32_t r_sne(uint32_t a, uint32_t b)
{
	return a != b;
}
static uint32_t r_slt(uint32_t a, uint32_t b)
{
	return (int32_t)a < (int32_t)b;
}
static uint32_t r_sltu(uint32_t a, uint32_t b)
{
	return a < b;
}
static uint32_t r_sle(uint32_t a, uint32_t b)
{
	return (int32_t)a <= (int32_t)b;
}
static uint32_t r_sleu(uint32_t a, uint32_t b)
{
	return a <= b;
}
static uint32_t r_mov(uint32_t a, uint32_t b)
{
	(void)a;
	return b;
}
static uint32_t r_not(uint32_t a, uint32_t b)
{
	(void)a;
	return ~b;
}
static uint32_t r_sel(uint32_t a, uint32_t b)
{
	return (a & 1) ? a : b;
} /* rc = a & 1 */

static const struct int_op int_ops[] = {
	{"add", r_add},	  {"sub", r_sub},   {"mul", r_mul},   {"mulhu", r_mulhu}, {"divu", r_divu},
	{"remu", r_remu}, {"divs", r_divs}, {"rems", r_rems}, {"and", r_and},	  {"or", r_or},
	{"xor", r_xor},	  {"shl", r_shl},   {"shr", r_shr},   {"sar", r_sar},	  {"min", r_min},
	{"max", r_max},	  {"minu", r_minu}, {"maxu", r_maxu}, {"seq", r_seq},	  {"sne", r_sne},
	{"slt", r_slt},	  {"sltu", r_sltu}, {"sle", r_sle},   {"sleu", r_sleu},	  {"mov", r_mov},
	{"not", r_not},	  {"sel", r_sel},
};
#define NUM_INT_OPS (sizeof(int_ops) / sizeof(int_ops[0]))

/* Program text for one binary op per output slot: A at +0, B at +128, outputs at +256 + k*128.
 * @imm: operand b is the immediate @imm instead of B. */
static void gen_op_prog(char *src, size_t size, const char *const *mns, uint32_t n, bool use_imm,
			const char *imm)
{
	size_t len = (size_t)snprintf(src, size,
				      "shl r10, r2, 2\nldx r4, r0, r10, 0\n"
				      "ldx r5, r0, r10, 128\nand r7, r4, 1\n");

	for (uint32_t k = 0; k < n; k++) {
		const struct sim_isa_opinfo *info = NULL;
		const char *b = use_imm ? imm : "r5";

		for (uint32_t op = 0; op < 256 && !info; op++)
			if (sim_isa_opinfo(op) && !strcmp(sim_isa_opinfo(op)->name, mns[k]))
				info = sim_isa_opinfo(op);
		if (!info)
			len += (size_t)snprintf(src + len, size - len, "%s r6, %s\n", mns[k], b);
		else if (info->form == SIM_FORM_RD_B)
			len += (size_t)snprintf(src + len, size - len, "%s r6, %s\n", mns[k], b);
		else if (info->form == SIM_FORM_SEL || info->form == SIM_FORM_FMA)
			len += (size_t)snprintf(src + len, size - len, "%s r6, r4, %s, %s\n",
						mns[k], b,
						info->form == SIM_FORM_SEL ? "r7" : "r8");
		else
			len += (size_t)snprintf(src + len, size - len, "%s r6, r4, %s\n", mns[k],
						b);
		len += (size_t)snprintf(src + len, size - len, "stx r0, r10, r6, %u\n",
					256 + k * 128);
	}
	snprintf(src + len, size - len, "exit\n");
}

static void load_ab(struct fx *f, const uint32_t *a, const uint32_t *b)
{
	memcpy(fx_data(f), a, 128);
	memcpy(fx_data(f) + 32, b, 128);
}

static void test_int_alu_per_lane(void)
{
	const char *mns[NUM_INT_OPS];
	static char src[8192];
	struct fx f;

	REQUIRE(fx_init(&f, NULL));
	for (uint32_t k = 0; k < NUM_INT_OPS; k++)
		mns[k] = int_ops[k].mn;
	load_ab(&f, int_a, int_b);
	gen_op_prog(src, sizeof(src), mns, NUM_INT_OPS, false, NULL);
	REQUIRE(fx_run_ok(&f, src, 1, 1, 32));
	for (uint32_t k = 0; k < NUM_INT_OPS; k++)
		for (uint32_t l = 0; l < 32; l++) {
			uint32_t a = int_a[l], b = int_b[l];
			uint32_t want = int_ops[k].ref(a, b);

			if (fx_data(&f)[64 + k * 32 + l] != want)
				fprintf(stderr, "%s lane %u: a=%#x b=%#x\n", int_ops[k].mn, l, a,
					b);
			CHECK_EQ(fx_data(&f)[64 + k * 32 + l], want);
		}
	fx_fini(&f);
}

static void test_int_alu_immediates(void)
{
	static const char *const imms[] = {"-3", "5", "0x80000000", "31", "4294967295"};
	static const uint32_t immv[] = {0xfffffffd, 5, 0x80000000, 31, 0xffffffff};
	const char *mns[NUM_INT_OPS];
	static char src[8192];

	for (uint32_t k = 0; k < NUM_INT_OPS; k++)
		mns[k] = int_ops[k].mn;
	for (uint32_t i = 0; i < 5; i++) {
		struct fx f;

		REQUIRE(fx_init(&f, NULL));
		load_ab(&f, int_a, int_b);
		gen_op_prog(src, sizeof(src), mns, NUM_INT_OPS, true, imms[i]);
		REQUIRE(fx_run_ok(&f, src, 1, 1, 32));
		for (uint32_t k = 0; k < NUM_INT_OPS; k++)
			for (uint32_t l = 0; l < 32; l++)
				CHECK_EQ(fx_data(&f)[64 + k * 32 + l],
					 int_ops[k].ref(int_a[l], immv[i]));
		fx_fini(&f);
	}
}

#define F_NAN 0x7fc00001u /* a quiet NaN with payload: results must be canonical */
static const uint32_t flt_a[32] = {
	0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0x40100000, F_NAN,
	0x7f800000, 0xff800000, 0x7149f2ca, 0x8da24260, 0x40400000, 0x3dcccccd, 0x00000001,
	0x41800000, 0x40000000, 0x4f000000, 0xcf000000, 0x4f800000, 0x501502f9, 0xd01502f9,
	0xc0700000, 0x3f000000, 0x7f7fffff, 0x80000000, 0x00000000, 0x3f800000, F_NAN,
	0x42c80000, 0xc2c80000, 0x3eaaaaab, 0x4b000001};
static const uint32_t flt_b[32] = {
	0x80000000, 0x00000000, 0x3f800000, 0x3f800000, 0x40100000, 0x3fc00000, 0x3f800000,
	0x7f800000, 0x7f800000, 0x7149f2ca, 0x3f800000, F_NAN,	    0x3dcccccd, 0x00000001,
	0xc1800000, 0x00000000, 0x40000000, 0x40000000, 0x3f000000, 0x3f800000, 0x3f800000,
	0x3f800000, 0x80000000, 0x7f7fffff, 0x00000000, 0x80000000, F_NAN,	F_NAN,
	0x40a00000, 0x40a00000, 0x40400000, 0x3f800000};

struct flt_op {
	const char *mn;
	uint32_t (*ref)(uint32_t a, uint32_t b, uint32_t c);
};

static uint32_t f_add(uint32_t a, uint32_t b, uint32_t c)
{
	(void)c;
	return fb(ff(a) + ff(b));
}
static uint32_t f_sub(uint32_t a, uint32_t b, uint32_t c)
{
	(void)c;
	return fb(ff(a) - ff(b));
}
static uint32_t f_mul(uint32_t a, uint32_t b, uint32_t c)
{
	(void)c;
	return fb(ff(a) * ff(b));
}
static uint32_t f_div(uint32_t a, uint32_t b, uint32_t c)
{
	(void)c;
	return fb(ff(a) / ff(b));
}
static uint32_t f_fma(uint32_t a, uint32_t b, uint32_t c)
{
	return fb(fmaf(ff(a), ff(b), ff(c)));
}
static uint32_t f_min(uint32_t a, uint32_t b, uint32_t c)
{
	(void)c;
	if (ff(a) != ff(a))
		return ff(b) != ff(b) ? 0x7fc00000u : b;
	if (ff(b) != ff(b))
		return a;
	return ff(a) < ff(b) ? a : ff(b) < ff(a) ? b : (a | b);
}
static uint32_t f_max(uint32_t a, uint32_t b, uint32_t c)
{
	(void)c;
	if (ff(a) != ff(a))
		return ff(b) != ff(b) ? 0x7fc00000u : b;
	if (ff(b) != ff(b))
		return a;
	return ff(a) > ff(b) ? a : ff(b) > ff(a) ? b : (a & b);
}
static uint32_t f_seq(uint32_t a, uint32_t b, uint32_t c)
{
	(void)c;
	return ff(a) == ff(b);
}
static uint32_t f_slt(uint32_t a, uint32_t b, uint32_t c)
{
	(void)c;
	return ff(a) < ff(b);
}
static uint32_t f_sle(uint32_t a, uint32_t b, uint32_t c)
{
	(void)c;
	return ff(a) <= ff(b);
}
static uint32_t f_sqrt(uint32_t a, uint32_t b, uint32_t c)
{
	(void)a, (void)c;
	return fb(sqrtf(ff(b)));
}
static uint32_t f_abs(uint32_t a, uint32_t b, uint32_t c)
{
	(void)a, (void)c;
	return b & 0x7fffffffu;
}
static uint32_t f_neg(uint32_t a, uint32_t b, uint32_t c)
{
	(void)a, (void)c;
	return b ^ 0x80000000u;
}
static uint32_t f_i2f(uint32_t a, uint32_t b, uint32_t c)
{
	(void)a, (void)c;
	return fb((float)(int32_t)b);
}
static uint32_t f_u2f(uint32_t a, uint32_t b, uint32_t c)
{
	(void)a, (void)c;
	return fb((float)b);
}
static uint32_t f_f2i(uint32_t a, uint32_t b, uint32_t c)
{
	float x = ff(b);

	(void)a, (void)c;
	if (x != x)
		return 0;
	if (x >= 2147483648.0f)
		return 0x7fffffff;
	if (x <= -2147483648.0f)
		return 0x80000000u;
	return (uint32_t)(int32_t)x;
}
static uint32_t f_f2u(uint32_t a, uint32_t b, uint32_t c)
{
	float x = ff(b);

	(void)a, (void)c;
	if (x != x || x <= 0.0f)
		return 0;
	if (x >= 4294967296.0f)
		return 0xffffffffu;
	return (uint32_t)x;
}

static const struct flt_op flt_ops[] = {
	{"fadd", f_add},   {"fsub", f_sub}, {"fmul", f_mul}, {"fdiv", f_div}, {"fmin", f_min},
	{"fmax", f_max},   {"fma", f_fma},  {"fseq", f_seq}, {"fslt", f_slt}, {"fsle", f_sle},
	{"fsqrt", f_sqrt}, {"fabs", f_abs}, {"fneg", f_neg}, {"i2f", f_i2f},  {"u2f", f_u2f},
	{"f2i", f_f2i},	   {"f2u", f_f2u},
};
#define NUM_FLT_OPS (sizeof(flt_ops) / sizeof(flt_ops[0]))

static void test_float_alu_per_lane(void)
{
	const char *mns[NUM_FLT_OPS];
	static char src[8192];
	struct fx f;
	size_t len;

	REQUIRE(fx_init(&f, NULL));
	for (uint32_t k = 0; k < NUM_FLT_OPS; k++)
		mns[k] = flt_ops[k].mn;
	load_ab(&f, flt_a, flt_b);
	/* r8 (fma addend) = B reversed across lanes: loaded from +128 at (31 - lane) * 4 */
	len = (size_t)snprintf(src, sizeof(src),
			       "sreg r11, lane_id\nsub r11, r11, 31\n"
			       "mul r11, r11, -4\nldx r8, r0, r11, 128\n");
	gen_op_prog(src + len, sizeof(src) - len, mns, NUM_FLT_OPS, false, NULL);
	REQUIRE(fx_run_ok(&f, src, 1, 1, 32));
	for (uint32_t k = 0; k < NUM_FLT_OPS; k++)
		for (uint32_t l = 0; l < 32; l++) {
			uint32_t want = flt_ops[k].ref(flt_a[l], flt_b[l], flt_b[31 - l]);

			if (fx_data(&f)[64 + k * 32 + l] != want)
				fprintf(stderr, "%s lane %u\n", flt_ops[k].mn, l);
			CHECK_EQ(fx_data(&f)[64 + k * 32 + l], want);
		}
	fx_fini(&f);
}

/* Exact values that do not rely on the host's float library. */
static void test_float_exact_values(void)
{
	static const char src[] = "movf r4, 1.5\n"
				  "fadd r5, r4, 2.25\n" /* 3.75 */
				  "st r0, r5, 0\n"
				  "movf r6, -0.0\n"
				  "fmin r7, r6, 0\n" /* -0 */
				  "st r0, r7, 4\n"
				  "fmax r7, r6, 0\n" /* +0 */
				  "st r0, r7, 8\n"
				  "fmin r7, r6, 0x7fc00000\n" /* NaN ignored: -0 */
				  "st r0, r7, 12\n"
				  "f2i r8, 3e9\n"
				  "st r0, r8, 16\n"
				  "f2i r8, -3e9\n"
				  "st r0, r8, 20\n"
				  "f2i r8, 0x7fc00000\n"
				  "st r0, r8, 24\n"
				  "f2u r8, -1\n"
				  "st r0, r8, 28\n"
				  "f2u r8, 5e9\n"
				  "st r0, r8, 32\n"
				  "f2i r8, -3.75\n"
				  "st r0, r8, 36\n"
				  "fsqrt r8, -1\n"
				  "st r0, r8, 40\n"
				  "movf r9, 0\n"
				  "fdiv r8, r9, 0\n"
				  "st r0, r8, 44\n"
				  "mov r9, 0x3f800400\n"   /* 1 + 2^-13 */
				  "mov r10, 0x3f7ff800\n"  /* 1 - 2^-13 */
				  "fma r8, r9, r10, r11\n" /* r11 = 0: plain product rounds */
				  "st r0, r8, 48\n"
				  "movf r11, -1\n"
				  "fma r8, r9, r10, r11\n" /* fused: -2^-26 exactly */
				  "st r0, r8, 52\n"
				  "fmul r8, r9, r10\n"
				  "fadd r8, r8, r11\n" /* unfused: 0 */
				  "st r0, r8, 56\n"
				  "u2f r8, 0xffffffff\n" /* 4294967296.0 */
				  "st r0, r8, 60\n"
				  "i2f r8, -7\n"
				  "st r0, r8, 64\n"
				  "fseq r8, r9, 0x7fc00000\n"
				  "st r0, r8, 68\n"
				  "fdiv r8, r4, 0\n" /* +inf */
				  "st r0, r8, 72\n"
				  "exit\n";
	static const uint32_t want[] = {0x40700000, 0x80000000, 0x00000000, 0x80000000, 0x7fffffff,
					0x80000000, 0,		0,	    0xffffffff, 0xfffffffd,
					0x7fc00000, 0x7fc00000, 0x3f800000, 0xb2800000, 0x00000000,
					0x4f800000, 0xc0e00000, 0,	    0x7f800000};
	struct fx f;

	REQUIRE(fx_init(&f, NULL));
	REQUIRE(fx_run_ok(&f, src, 1, 1, 1));
	for (uint32_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (fx_data(&f)[i] != want[i])
			fprintf(stderr, "slot %u\n", i);
		CHECK_EQ(fx_data(&f)[i], want[i]);
	}
	fx_fini(&f);
}

static void test_loop_per_lane_trip_counts(void)
{
	/* lane l loops l + 1 times; r6 accumulates 1 + 2 + ... */
	static const char src[] = "sreg r4, lane_id\n"
				  "mov r5, 0\n"
				  "mov r6, 0\n"
				  "loop\n"
				  "  add r5, r5, 1\n"
				  "  add r6, r6, r5\n"
				  "  sltu r7, r4, r5\n" /* done when lane < count */
				  "  break r7\n"
				  "endloop\n"
				  "shl r10, r4, 2\n"
				  "stx r0, r10, r5, 0\n"
				  "stx r0, r10, r6, 256\n"
				  "exit\n";
	struct fx f;

	REQUIRE(fx_init(&f, NULL));
	REQUIRE(fx_run_ok(&f, src, 1, 1, 32));
	for (uint32_t l = 0; l < 32; l++) {
		CHECK_EQ(fx_data(&f)[l], l + 1);
		CHECK_EQ(fx_data(&f)[64 + l], (l + 1) * (l + 2) / 2);
	}
	fx_fini(&f);
}

static void test_nested_if_else(void)
{
	static const char src[] = "sreg r4, lane_id\n"
				  "shl r10, r4, 2\n"
				  "sltu r5, r4, 16\n"
				  "and r6, r4, 1\n"
				  "and r7, r4, 3\n"
				  "if r5\n"
				  "  if r6\n"
				  "    mov r8, 1\n"
				  "  else\n"
				  "    mov r8, 2\n"
				  "  endif\n"
				  "  add r8, r8, 10\n"
				  "else\n"
				  "  if r7\n"
				  "    mov r8, 3\n"
				  "  else\n"
				  "    mov r8, 4\n"
				  "  endif\n"
				  "  add r8, r8, 20\n"
				  "endif\n"
				  "add r8, r8, 100\n"
				  "stx r0, r10, r8, 0\n"
				  "exit\n";
	struct fx f;

	REQUIRE(fx_init(&f, NULL));
	REQUIRE(fx_run_ok(&f, src, 1, 1, 32));
	for (uint32_t l = 0; l < 32; l++) {
		uint32_t want = l < 16 ? ((l & 1) ? 111 : 112) : ((l & 3) ? 123 : 124);

		CHECK_EQ(fx_data(&f)[l], want);
	}
	fx_fini(&f);
}

static void test_break_inside_if(void)
{
	/* lanes break from inside an if once i == lane_id; odd lanes take the else side first */
	static const char src[] = "sreg r4, lane_id\n"
				  "shl r10, r4, 2\n"
				  "mov r5, 0\n"
				  "mov r9, 0\n"
				  "loop\n"
				  "  seq r6, r5, r4\n"
				  "  if r6\n"
				  "    add r9, r9, 1000\n"
				  "    break r6\n"
				  "    add r9, r9, 5000\n" /* never: no lane left */
				  "  else\n"
				  "    add r9, r9, 1\n"
				  "  endif\n"
				  "  add r5, r5, 1\n"
				  "endloop\n"
				  "stx r0, r10, r9, 0\n"
				  "stx r0, r10, r5, 128\n"
				  "exit\n";
	struct fx f;

	REQUIRE(fx_init(&f, NULL));
	REQUIRE(fx_run_ok(&f, src, 1, 1, 32));
	for (uint32_t l = 0; l < 32; l++) {
		CHECK_EQ(fx_data(&f)[l], 1000 + l);
		CHECK_EQ(fx_data(&f)[32 + l], l);
	}
	fx_fini(&f);
}

static void test_exit_some_lanes(void)
{
	/* odd lanes exit inside an if; even lanes store; nested loop survives exited lanes */
	static const char src[] = "sreg r4, lane_id\n"
				  "shl r10, r4, 2\n"
				  "and r5, r4, 1\n"
				  "mov r8, 7\n"
				  "stx r0, r10, r8, 128\n"
				  "if r5\n"
				  "  exit\n"
				  "endif\n"
				  "loop\n"
				  "  add r8, r8, 1\n"
				  "  sltu r6, r4, r8\n"
				  "  break r6\n"
				  "endloop\n"
				  "stx r0, r10, r8, 0\n"
				  "exit\n";
	struct fx f;

	REQUIRE(fx_init(&f, NULL));
	for (uint32_t l = 0; l < 32; l++)
		fx_data(&f)[l] = 0xdead;
	REQUIRE(fx_run_ok(&f, src, 1, 1, 32));
	for (uint32_t l = 0; l < 32; l++) {
		CHECK_EQ(fx_data(&f)[l], (l & 1) ? 0xdead : (l < 8 ? 8 : l + 1));
		CHECK_EQ(fx_data(&f)[32 + l], 7);
	}
	fx_fini(&f);
}

static void test_brany_uniform_branch(void)
{
	static const char src[] = "sreg r4, lane_id\n"
				  "shl r10, r4, 2\n"
				  "mov r5, 0\n"
				  "top: add r5, r5, 1\n"
				  "sltu r6, r5, r4\n" /* lane 31 keeps everyone going */
				  "brany r6, top\n"
				  "mov r7, 0\n"
				  "brany r7, skip\n" /* no lane: falls through */
				  "stx r0, r10, r5, 0\n"
				  "skip: exit\n";
	struct fx f;

	REQUIRE(fx_init(&f, NULL));
	REQUIRE(fx_run_ok(&f, src, 1, 1, 32));
	for (uint32_t l = 0; l < 32; l++)
		CHECK_EQ(fx_data(&f)[l], 31);
	fx_fini(&f);
}

static void test_special_registers_2d_grid(void)
{
	/* record of 12 words per invocation at ((gy * 3 + gx) * 8 + lane) * 48 */
	static const char src[] = "sreg r10, group_id_y\n"
				  "sreg r11, groups_x\n"
				  "mul r10, r10, r11\n"
				  "sreg r11, group_id_x\n"
				  "add r10, r10, r11\n"
				  "sreg r11, local_size\n"
				  "mul r10, r10, r11\n"
				  "sreg r11, lane_id\n"
				  "add r10, r10, r11\n"
				  "mul r10, r10, 48\n"
				  "sreg r12, lane_id\n     stx r0, r10, r12, 0\n"
				  "sreg r12, group_id_x\n  stx r0, r10, r12, 4\n"
				  "sreg r12, group_id_y\n  stx r0, r10, r12, 8\n"
				  "sreg r12, groups_x\n    stx r0, r10, r12, 12\n"
				  "sreg r12, groups_y\n    stx r0, r10, r12, 16\n"
				  "sreg r12, local_size\n  stx r0, r10, r12, 20\n"
				  "sreg r12, global_id_x\n stx r0, r10, r12, 24\n"
				  "sreg r12, core_id\n     stx r0, r10, r12, 28\n"
				  "sreg r12, args_lo\n     stx r0, r10, r12, 32\n"
				  "sreg r12, args_hi\n     stx r0, r10, r12, 36\n"
				  "stx r0, r10, r2, 40\n"
				  "stx r0, r10, r3, 44\n"
				  "exit\n";
	static const uint32_t core_of[6] = {0, 1, 2, 3, 1, 2};
	struct fx f;

	REQUIRE(fx_init(&f, NULL));
	REQUIRE(fx_run_ok(&f, src, 3, 2, 8));
	for (uint32_t gy = 0; gy < 2; gy++)
		for (uint32_t gx = 0; gx < 3; gx++)
			for (uint32_t l = 0; l < 8; l++) {
				const uint32_t *r = fx_data(&f) + ((gy * 3 + gx) * 8 + l) * 12;

				CHECK_EQ(r[0], l);
				CHECK_EQ(r[1], gx);
				CHECK_EQ(r[2], gy);
				CHECK_EQ(r[3], 3);
				CHECK_EQ(r[4], 2);
				CHECK_EQ(r[5], 8);
				CHECK_EQ(r[6], gx * 8 + l);
				/* least busy core first; group 0 also paid the data TLB miss, so
				 * core 0 stays the busiest and groups 4, 5 go to cores 1, 2 */
				CHECK_EQ(r[7], core_of[gy * 3 + gx]);
				CHECK_EQ(r[8], (uint32_t)DATA_VA);
				CHECK_EQ(r[9], (uint32_t)(DATA_VA >> 32));
				CHECK_EQ(r[10], gx * 8 + l);
				CHECK_EQ(r[11], gy);
			}
	fx_fini(&f);
}

static void test_memory_ops_across_pages(void)
{
	/* lane l: word at 0x1000 - 64 + l * 256 (straddles two pages), loaded, +1, stored back
	 * with st/stx at negative/positive offsets */
	static const char src[] = "sreg r4, lane_id\n"
				  "shl r10, r4, 8\n"
				  "add r12, r0, r10\n" /* r12:r13 = args + l * 256 */
				  "mov r13, r1\n"
				  "ld r5, r12, 4032\n"
				  "add r5, r5, 1\n"
				  "st r12, r5, 4032\n"
				  "ldx r6, r0, r10, 4032\n"
				  "mul r6, r6, 3\n"
				  "stx r0, r10, r6, 16384\n"
				  "add r12, r12, 20000\n"
				  "st r12, r4, -4\n"
				  "exit\n";
	struct fx f;

	REQUIRE(fx_init(&f, NULL));
	for (uint32_t l = 0; l < 32; l++)
		fx_data(&f)[(4032 + l * 256) / 4] = 100 + l;
	REQUIRE(fx_run_ok(&f, src, 1, 1, 32));
	for (uint32_t l = 0; l < 32; l++) {
		CHECK_EQ(fx_data(&f)[(4032 + l * 256) / 4], 101 + l);
		CHECK_EQ(fx_data(&f)[(16384 + l * 256) / 4], 3 * (101 + l));
		CHECK_EQ(fx_data(&f)[(19996 + l * 256) / 4], l);
	}
	fx_fini(&f);
}

static void test_atomadd_lane_order(void)
{
	/* every lane of 2 groups adds lane + 1 to one counter; the old values are prefix sums */
	static const char src[] = "sreg r4, lane_id\n"
				  "add r5, r4, 1\n"
				  "atomadd r6, r0, r5, 4096\n"
				  "shl r10, r2, 2\n"
				  "stx r0, r10, r6, 0\n"
				  "exit\n";
	struct fx f;

	REQUIRE(fx_init(&f, NULL));
	fx_data(&f)[1024] = 1000;
	REQUIRE(fx_run_ok(&f, src, 2, 1, 32));
	for (uint32_t g = 0; g < 2; g++)
		for (uint32_t l = 0; l < 32; l++)
			CHECK_EQ(fx_data(&f)[g * 32 + l], 1000 + g * 528 + l * (l + 1) / 2);
	CHECK_EQ(fx_data(&f)[1024], 1000 + 2 * 528);
	fx_fini(&f);
}

static void test_zero_groups_do_nothing(void)
{
	struct fx f;
	uint32_t n;

	REQUIRE(fx_init(&f, NULL));
	n = fx_asm(f.prog->host, PROG_SIZE, "mov r5, 1\nst r0, r5, 0\nexit\n");
	REQUIRE(n == 3);
	REQUIRE_EQ(fx_dispatch(&f, PROG_VA, n, 0, 5, 32, MAX_RUN), 0);
	CHECK_EQ(q_fault(&f), 0);
	CHECK_EQ(fx_data(&f)[0], 0);
	CHECK_EQ(sim_mmio_read64(f.t->dev, SIM_Q_SEQNO_LO(0)), 1);
	REQUIRE_EQ(fx_dispatch(&f, PROG_VA, n, 1, 1, 32, MAX_RUN), 0);
	CHECK_EQ(fx_data(&f)[0], 1);
	fx_fini(&f);
}

static void test_undefined_word_faults_only_when_executed(void)
{
	struct fx f;

	REQUIRE(fx_init(&f, NULL));
	REQUIRE_EQ(fx_run(&f, "mov r5, 9\nst r0, r5, 0\nexit\n.word 0x15\n", 1, 1, 4), 0);
	CHECK_EQ(q_fault(&f), 0);
	CHECK_EQ(fx_data(&f)[0], 9);
	fx_fini(&f);
}

/* Run @src expecting fault @code at @addr. */
static void expect_fault(const char *src, uint32_t local, uint32_t code, uint64_t addr)
{
	struct fx f;

	REQUIRE(fx_init(&f, NULL));
	REQUIRE_EQ(fx_run(&f, src, 1, 1, local), 0);
	CHECK_EQ(q_state(&f), SIM_Q_STATE_FAULTED);
	CHECK_EQ(q_fault(&f), code);
	CHECK_EQ(q_fault_addr(&f), addr);
	CHECK_EQ(sim_mmio_read64(f.t->dev, SIM_Q_FAULT_CMD_LO(0)), CMD_VA);
	CHECK(simt_read32(f.t, SIM_GPU_IRQ_RAWSTAT) & SIM_IRQ_JOB_FAULT(0));
	fx_fini(&f);
}

static void test_fault_misaligned(void)
{
	expect_fault("nop\nld r4, r0, 6\nexit\n", 4, SIM_FAULT_COMPUTE_MISALIGNED, DATA_VA + 6);
	/* only lane 3's address is misaligned; lanes before it stored */
	expect_fault("sreg r4, lane_id\nseq r5, r4, 3\nshl r10, r4, 2\nadd r10, r10, r5\n"
		     "stx r0, r10, r4, 0\nexit\n",
		     8, SIM_FAULT_COMPUTE_MISALIGNED, DATA_VA + 13);
}

static void test_fault_div_zero(void)
{
	expect_fault("mov r4, 10\nmov r5, 0\ndivu r6, r4, 2\nremu r6, r4, r5\nexit\n", 4,
		     SIM_FAULT_COMPUTE_DIV_ZERO, PROG_VA + 3 * 8);
	expect_fault("sreg r4, lane_id\ndivs r6, r4, r4\nexit\n", 4, SIM_FAULT_COMPUTE_DIV_ZERO,
		     PROG_VA + 8); /* lane 0 divides by 0 */
	expect_fault("nop\nnop\nrems r6, r4, 0\nexit\n", 1, SIM_FAULT_COMPUTE_DIV_ZERO,
		     PROG_VA + 16);
}

static void test_div_zero_in_inactive_lanes_is_fine(void)
{
	struct fx f;

	REQUIRE(fx_init(&f, NULL));
	REQUIRE_EQ(fx_run(&f,
			  "sreg r4, lane_id\nif r4\ndivu r6, r4, r4\nendif\n"
			  "shl r10, r4, 2\nstx r0, r10, r6, 0\nexit\n",
			  1, 1, 8),
		   0);
	CHECK_EQ(q_fault(&f), 0);
	CHECK_EQ(fx_data(&f)[0], 0);
	CHECK_EQ(fx_data(&f)[5], 1);
	fx_fini(&f);
}

static void test_fault_illegal(void)
{
	expect_fault("nop\nnop\n.word 0x15\nexit\n", 4, SIM_FAULT_COMPUTE_ILLEGAL, PROG_VA + 16);
	expect_fault("nop\n.word 0x20000002\nexit\n", 4, SIM_FAULT_COMPUTE_ILLEGAL, PROG_VA + 8);
	expect_fault("sreg r4, 10\nexit\n", 4, SIM_FAULT_COMPUTE_ILLEGAL, PROG_VA);
	/* ld with ra = 31: opcode 0x40, ra field 31 */
	expect_fault("nop\n.word 0x3e040\nexit\n", 4, SIM_FAULT_COMPUTE_ILLEGAL, PROG_VA + 8);
}

static void test_fault_pc_range(void)
{
	expect_fault("nop\nnop\n", 4, SIM_FAULT_COMPUTE_PC_RANGE, PROG_VA + 16);
	expect_fault("nop\nbra @1000\nexit\n", 4, SIM_FAULT_COMPUTE_PC_RANGE, PROG_VA + 8000);
}

static void test_fault_stack(void)
{
	char src[1024];
	size_t len = 0;

	for (int i = 0; i < 17; i++)
		len += (size_t)snprintf(src + len, sizeof(src) - len, "loop\n");
	for (int i = 0; i < 17; i++)
		len += (size_t)snprintf(src + len, sizeof(src) - len, "endloop\n");
	snprintf(src + len, sizeof(src) - len, "exit\n");
	expect_fault(src, 4, SIM_FAULT_COMPUTE_STACK, PROG_VA + 16 * 8);
	expect_fault(".raw\nnop\nendif\nexit\n", 4, SIM_FAULT_COMPUTE_STACK, PROG_VA + 8);
	expect_fault(".raw\nbreak r0, @2\nexit\n", 4, SIM_FAULT_COMPUTE_STACK, PROG_VA);
	expect_fault(".raw\nloop\nelse @3\nendloop @1\nexit\n", 4, SIM_FAULT_COMPUTE_STACK,
		     PROG_VA + 8);
	expect_fault(".raw\nmov r4, 1\nif r4, @3\nendloop @2\nexit\n", 4, SIM_FAULT_COMPUTE_STACK,
		     PROG_VA + 16);
}

static void test_sixteen_levels_are_fine(void)
{
	char src[1024];
	size_t len = 0;
	struct fx f;

	for (int i = 0; i < 16; i++)
		len += (size_t)snprintf(src + len, sizeof(src) - len, "mov r4, 1\nif r4\n");
	len += (size_t)snprintf(src + len, sizeof(src) - len, "mov r5, 77\nst r0, r5, 0\n");
	for (int i = 0; i < 16; i++)
		len += (size_t)snprintf(src + len, sizeof(src) - len, "endif\n");
	snprintf(src + len, sizeof(src) - len, "exit\n");
	REQUIRE(fx_init(&f, NULL));
	REQUIRE_EQ(fx_run(&f, src, 1, 1, 2), 0);
	CHECK_EQ(q_fault(&f), 0);
	CHECK_EQ(fx_data(&f)[0], 77);
	fx_fini(&f);
}

static void test_fault_bad_dispatch(void)
{
	static const uint32_t cases[][3] = {
		/* prog_count, local_size, groups_x */
		{2, 0, 1}, {2, 33, 1}, {0, 32, 1}, {65537, 32, 1}, {0, 0, 0},
	};
	for (uint32_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx f;

		REQUIRE(fx_init(&f, NULL));
		REQUIRE(fx_asm(f.prog->host, PROG_SIZE, "nop\nexit\n") == 2);
		REQUIRE_EQ(
			fx_dispatch(&f, PROG_VA, cases[i][0], cases[i][2], 1, cases[i][1], MAX_RUN),
			0);
		CHECK_EQ(q_fault(&f), SIM_FAULT_COMPUTE_BAD_DISPATCH);
		CHECK_EQ(q_fault_addr(&f), CMD_VA);
		fx_fini(&f);
	}
}

static void test_fault_no_cores(void)
{
	struct fx f;
	uint32_t n;

	REQUIRE(fx_init(&f, NULL));
	simt_write32(f.t, SIM_PWR_CORES_OFF, simt_read32(f.t, SIM_PWR_CORES_PRESENT));
	REQUIRE_EQ(simt_run(f.t, 1000000), 0);
	REQUIRE_EQ(simt_read32(f.t, SIM_PWR_CORES_READY), 0);
	n = fx_asm(f.prog->host, PROG_SIZE, "exit\n");
	REQUIRE_EQ(fx_dispatch(&f, PROG_VA, n, 1, 1, 32, MAX_RUN), 0);
	CHECK_EQ(q_fault(&f), SIM_FAULT_COMPUTE_NO_CORES);
	CHECK_EQ(q_fault_addr(&f), CMD_VA);
	fx_fini(&f);
}

static void test_host_alloc_failure_faults_cleanly(void)
{
	/* each of the three host allocations of a dispatch fails in turn: the job faults, nothing
	 * leaks (ASan builds), and after RESUME the queue runs the next dispatch */
	for (uint32_t n = 1; n <= 3; n++) {
		struct fx f;
		uint32_t count;

		REQUIRE(fx_init(&f, NULL));
		count = fx_asm(f.prog->host, PROG_SIZE, "mov r5, 3\nst r0, r5, 0\nexit\n");
		REQUIRE(count == 3);
		sim_inject_alloc_failure(f.t->dev, n);
		REQUIRE_EQ(fx_dispatch(&f, PROG_VA, count, 1, 1, 32, MAX_RUN), 0);
		CHECK_EQ(q_fault(&f), SIM_FAULT_COMPUTE_BAD_DISPATCH);
		CHECK_EQ(fx_data(&f)[0], 0);
		simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESUME);
		REQUIRE_EQ(fx_dispatch(&f, PROG_VA, count, 1, 1, 32, MAX_RUN), 0);
		CHECK_EQ(q_fault(&f), 0);
		CHECK_EQ(fx_data(&f)[0], 3);
		fx_fini(&f);
	}
}

static void test_fault_store_to_read_only_page(void)
{
	struct fx f;
	uint32_t st;

	REQUIRE(fx_init(&f, NULL));
	/* r12:r13 = RO_VA: loads work, lane 0's store faults first */
	REQUIRE_EQ(fx_run(&f,
			  "mov r12, 0x40000000\nmov r13, 0\nsreg r4, lane_id\n"
			  "ld r5, r12, 0\nshl r10, r4, 2\nstx r12, r10, r5, 0x100\nexit\n",
			  1, 1, 4),
		   0);
	CHECK_EQ(q_fault(&f), SIM_FAULT_MMU_PERMISSION);
	CHECK_EQ(q_fault_addr(&f), RO_VA + 0x100);
	st = simt_read32(f.t, SIM_AS_FAULTSTATUS(JOB_AS));
	CHECK_EQ(SIM_FIELD_GET(SIM_AS_FAULT_CODE, st), SIM_FAULT_MMU_PERMISSION);
	CHECK_EQ(SIM_FIELD_GET(SIM_AS_FAULT_ACCESS, st), SIM_ACCESS_WRITE);
	CHECK_EQ(SIM_FIELD_GET(SIM_AS_FAULT_SOURCE, st), SIM_SOURCE_COMPUTE);
	CHECK_EQ(SIM_FIELD_GET(SIM_AS_FAULT_QUEUE, st), 0);
	CHECK_EQ(sim_mmio_read64(f.t->dev, SIM_AS_FAULTADDRESS_LO(JOB_AS)), RO_VA + 0x100);
	CHECK(simt_read32(f.t, SIM_GPU_IRQ_RAWSTAT) & SIM_IRQ_MMU_FAULT(JOB_AS));
	fx_fini(&f);
}

static void test_fault_atomic_needs_write(void)
{
	expect_fault("mov r12, 0x40000000\nmov r13, 0\natomadd r5, r12, r4, 8\nexit\n", 4,
		     SIM_FAULT_MMU_PERMISSION, RO_VA + 8);
}

static void test_fault_unmapped_load(void)
{
	expect_fault("mov r12, 0x60000000\nmov r13, 0\nld r5, r12, 12\nexit\n", 4,
		     SIM_FAULT_MMU_TRANSLATION, 0x6000000cull);
}

static void test_fault_program_fetch_needs_execute(void)
{
	struct fx f;
	uint32_t n, st;

	REQUIRE(fx_init(&f, NULL));
	n = fx_asm(f.nx->host, 4096, "exit\n");
	REQUIRE_EQ(fx_dispatch(&f, NX_VA, n, 1, 1, 32, MAX_RUN), 0);
	CHECK_EQ(q_fault(&f), SIM_FAULT_MMU_PERMISSION);
	CHECK_EQ(q_fault_addr(&f), NX_VA);
	st = simt_read32(f.t, SIM_AS_FAULTSTATUS(JOB_AS));
	CHECK_EQ(SIM_FIELD_GET(SIM_AS_FAULT_ACCESS, st), SIM_ACCESS_EXECUTE);
	CHECK_EQ(SIM_FIELD_GET(SIM_AS_FAULT_SOURCE, st), SIM_SOURCE_COMPUTE);
	/* a program running past its mapping faults at the first unmapped byte */
	fx_fini(&f);
	REQUIRE(fx_init(&f, NULL));
	REQUIRE_EQ(fx_dispatch(&f, PROG_VA + PROG_SIZE - 16, 4, 1, 1, 32, MAX_RUN), 0);
	CHECK_EQ(q_fault(&f), SIM_FAULT_MMU_TRANSLATION);
	CHECK_EQ(q_fault_addr(&f), PROG_VA + PROG_SIZE);
	fx_fini(&f);
}

static void test_cycle_cost_matches_timing_table(void)
{
	static const char src[] = "sreg r4, lane_id\n"	  /* alu 3 */
				  "shl r5, r4, 2\n"	  /* alu 3 */
				  "mul r6, r4, r4\n"	  /* mul 5 */
				  "divu r7, r6, 3\n"	  /* div 7 */
				  "fdiv r8, r8, 1.0\n"	  /* fdiv 11 */
				  "if r4\n"		  /* branch 13 */
				  "  add r9, r9, 1\n"	  /* alu 3, 31 lanes */
				  "endif\n"		  /* branch 13, issued by 31 lanes */
				  "stx r0, r5, r6, 0\n"	  /* mem 17 + 2 lines * 19 */
				  "ld r10, r0, 0\n"	  /* mem 17 + 1 line * 19 */
				  "shl r11, r4, 6\n"	  /* alu 3 */
				  "ldx r12, r0, r11, 0\n" /* mem 17 + 32 lines * 19 */
				  "exit\n";		  /* branch 13 */
	const uint64_t instr =
		3 + 3 + 5 + 7 + 11 + 13 + 3 + 13 + (17 + 38) + (17 + 19) + 3 + (17 + 32 * 19) + 13;
	struct sim_config cfg;
	struct sim_stats st;
	struct fx f;
	uint32_t n;

	sim_config_default(&cfg);
	cfg.timing.tlb_walk_level = 0;
	cfg.timing.alu = 3;
	cfg.timing.alu_mul = 5;
	cfg.timing.alu_div = 7;
	cfg.timing.alu_fdiv = 11;
	cfg.timing.branch = 13;
	cfg.timing.mem_op = 17;
	cfg.timing.mem_line = 19;
	cfg.timing.group_launch = 23;
	cfg.timing.cmd_header = 4;
	cfg.timing.cmd_dword = 2;
	REQUIRE(fx_init(&f, &cfg));
	simt_write32(f.t, SIM_PERF_CONTROL, SIM_PERF_CONTROL_ENABLE);
	n = fx_asm(f.prog->host, PROG_SIZE, src);
	REQUIRE_EQ(n, 13);
	REQUIRE_EQ(fx_dispatch(&f, PROG_VA, n, 1, 1, 32, MAX_RUN), 0);
	REQUIRE_EQ(q_fault(&f), 0);
	/* header + 8 payload dwords + 13 program words fetched + launch + instructions */
	CHECK_EQ(sim_mmio_read64(f.t->dev, SIM_PERF_COUNTER_LO(SIM_PERF_BUSY_COMPUTE)),
		 4 + 8 * 2 + 13 * 2 + 23 + instr);
	CHECK_EQ(sim_mmio_read64(f.t->dev, SIM_PERF_COUNTER_LO(SIM_PERF_ALU_INSTRUCTIONS)),
		 11 * 32 + 2 * 31);
	sim_get_stats(f.t->dev, &st);
	CHECK_EQ(st.lane_instructions, 11 * 32 + 2 * 31);
	fx_fini(&f);
}

/* Busy cycles of queue 0 for 8 groups of a ~2000-cycle kernel on @cores cores. */
static uint64_t run_groups_on_cores(uint32_t cores, uint32_t *out)
{
	static const char src[] = "sreg r4, lane_id\nmov r5, 0\nmov r6, 0\n"
				  "loop\n  add r5, r5, 1\n  mul r6, r6, 3\n  add r6, r6, r4\n"
				  "  sltu r7, r5, 500\n  seq r7, r7, 0\n  break r7\nendloop\n"
				  "shl r10, r2, 2\nstx r0, r10, r6, 0\nexit\n";
	struct sim_config cfg;
	struct fx f;
	uint64_t busy = 0;

	sim_config_default(&cfg);
	cfg.cores = cores;
	if (!fx_init(&f, &cfg))
		return 0;
	if (fx_run(&f, src, 8, 1, 32) == 0 && q_fault(&f) == 0) {
		busy = sim_mmio_read64(f.t->dev, SIM_Q_BUSY_CYCLES_LO(0));
		memcpy(out, fx_data(&f), 256 * 4);
	}
	fx_fini(&f);
	return busy;
}

static void test_more_cores_reduce_elapsed_cycles(void)
{
	static uint32_t r1[256], r4[256];
	uint64_t one = run_groups_on_cores(1, r1);
	uint64_t four = run_groups_on_cores(4, r4);

	REQUIRE(one > 0 && four > 0);
	/* 8 groups: 8 group-times on one core, 2 on the busiest of four (+ per-unit overheads) */
	CHECK(four * 3 < one);
	CHECK(four * 5 > one);
	CHECK(!memcmp(r1, r4, sizeof(r1)));
}

static void test_endless_kernel_is_preemptible_and_deterministic(void)
{
	uint64_t now[2], lanes[2];

	for (int i = 0; i < 2; i++) {
		struct sim_stats st;
		struct fx f;
		uint32_t n;

		REQUIRE(fx_init(&f, NULL));
		n = fx_asm(f.prog->host, PROG_SIZE, "loop\nadd r5, r5, 1\nendloop\nexit\n");
		REQUIRE(n == 4);
		CHECK_EQ(fx_dispatch(&f, PROG_VA, n, 1, 1, 32, 1000000), -ETIMEDOUT);
		CHECK_EQ(q_state(&f), SIM_Q_STATE_RUNNING);
		now[i] = sim_clock_now(f.t->dev);
		sim_get_stats(f.t->dev, &st);
		lanes[i] = st.lane_instructions;
		CHECK(lanes[i] > 32 * 100000);
		/* the MMIO seam still works mid-kernel, and a queue reset drops the dispatch */
		simt_write32(f.t, SIM_Q_COMMAND(0), SIM_Q_COMMAND_RESET);
		CHECK_EQ(simt_run(f.t, 1000000), 0);
		CHECK_EQ(q_state(&f), SIM_Q_STATE_IDLE);
		/* and the queue runs the next job normally */
		n = fx_asm(f.prog->host, PROG_SIZE, "mov r5, 5\nst r0, r5, 0\nexit\n");
		CHECK_EQ(fx_dispatch(&f, PROG_VA, n, 1, 1, 32, MAX_RUN), 0);
		CHECK_EQ(fx_data(&f)[0], 5);
		fx_fini(&f);
	}
	CHECK_EQ(now[0], now[1]);
	CHECK_EQ(lanes[0], lanes[1]);
}

static const struct sim_test tests[] = {
	SIM_TEST(test_int_alu_per_lane),
	SIM_TEST(test_int_alu_immediates),
	SIM_TEST(test_float_alu_per_lane),
	SIM_TEST(test_float_exact_values),
	SIM_TEST(test_loop_per_lane_trip_counts),
	SIM_TEST(test_nested_if_else),
	SIM_TEST(test_break_inside_if),
	SIM_TEST(test_exit_some_lanes),
	SIM_TEST(test_brany_uniform_branch),
	SIM_TEST(test_special_registers_2d_grid),
	SIM_TEST(test_memory_ops_across_pages),
	SIM_TEST(test_atomadd_lane_order),
	SIM_TEST(test_zero_groups_do_nothing),
	SIM_TEST(test_undefined_word_faults_only_when_executed),
	SIM_TEST(test_fault_misaligned),
	SIM_TEST(test_fault_div_zero),
	SIM_TEST(test_div_zero_in_inactive_lanes_is_fine),
	SIM_TEST(test_fault_illegal),
	SIM_TEST(test_fault_pc_range),
	SIM_TEST(test_fault_stack),
	SIM_TEST(test_sixteen_levels_are_fine),
	SIM_TEST(test_fault_bad_dispatch),
	SIM_TEST(test_fault_no_cores),
	SIM_TEST(test_host_alloc_failure_faults_cleanly),
	SIM_TEST(test_fault_store_to_read_only_page),
	SIM_TEST(test_fault_atomic_needs_write),
	SIM_TEST(test_fault_unmapped_load),
	SIM_TEST(test_fault_program_fetch_needs_execute),
	SIM_TEST(test_cycle_cost_matches_timing_table),
	SIM_TEST(test_more_cores_reduce_elapsed_cycles),
	SIM_TEST(test_endless_kernel_is_preemptible_and_deterministic),
};
SIM_TEST_SUITE(tests);
