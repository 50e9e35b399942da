/* SPDX-License-Identifier: MIT */
/*
 * sim_compute.c - the compute cores: executes a DISPATCH for the command processor.
 *
 * sim_compute_begin_locked() validates the dispatch, fetches the whole program through the job's
 * address space with EXECUTE access and decodes it once into q->dispatch.prog, so the
 * interpreter never decodes a word twice (an undefined word faults only when executed).
 * sim_compute_step_locked() then runs one bounded slice: it launches at most one workgroup on the
 * powered core with the least busy time and executes it for at most SIM_COMPUTE_SLICE
 * group-instructions; the group's state (pc, masks, control stack, registers) stays in
 * q->dispatch.group so the next step resumes it, which keeps an endless kernel preemptible.
 * Lanes of a group run in lockstep over an active-lane mask; every instruction switches on the
 * opcode once and then loops over the active lanes, so the host cost per lane is a few
 * instructions. Timing: each core accumulates its own busy cycles, and the CP is charged the
 * growth of the busiest core (the dispatch's critical path), never the sum over cores.
 * Memory instructions translate once per page per instruction through the MMU (TLB costs are
 * charged to the core) and touch lanes in lane order, so atomics are deterministic.
 * Float results that are NaN are canonicalised to 0x7fc00000 so results do not depend on the
 * host CPU. Not modelled: caches, memory latency overlap, per-lane timing. Runs on whichever
 * thread advances the clock, with dev->lock held.
 */
#include <endian.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

/* Group-instructions per step: bounds the time a step holds the lock and keeps kernels
 * preemptible by STOP/RESET at a deterministic granularity. */
#define SIM_COMPUTE_SLICE 4096u

#define SIM_F32_CANON_NAN 0x7fc00000u

/* Iterate over the set bits of @m_in, with `l` the lane index. */
#define SIM_FOR_LANES(m_in, ...)                                                                   \
	do {                                                                                       \
		for (uint64_t m_ = (m_in); m_; m_ &= m_ - 1) {                                     \
			unsigned l = (unsigned)__builtin_ctzll(m_);                                \
			__VA_ARGS__;                                                               \
		}                                                                                  \
	} while (0)

/* rd = expr(a, b) for every active lane, with b a variable in scope (_IMM) or r[rb] (_REG). */
#define SIM_ALU_IMM(expr)                                                                          \
	SIM_FOR_LANES(mask, {                                                                      \
		const uint32_t a = R[l][ra];                                                       \
		R[l][rd] = (expr);                                                                 \
	})
#define SIM_ALU_REG(expr)                                                                          \
	SIM_FOR_LANES(mask, {                                                                      \
		const uint32_t a = R[l][ra];                                                       \
		const uint32_t b = R[l][rb];                                                       \
		R[l][rd] = (expr);                                                                 \
	})

/* rd = expr(a, b) for every active lane; b is the immediate or r[rb]. */
#define SIM_ALU(expr)                                                                              \
	do {                                                                                       \
		if (in->has_imm) {                                                                 \
			const uint32_t b = in->imm;                                                \
			SIM_ALU_IMM(expr);                                                         \
		} else {                                                                           \
			SIM_ALU_REG(expr);                                                         \
		}                                                                                  \
	} while (0)

/* rd = expr(b) for every active lane (MOV, NOT, conversions, unary float ops). */
#define SIM_UNARY(expr)                                                                            \
	do {                                                                                       \
		if (in->has_imm) {                                                                 \
			const uint32_t b = in->imm;                                                \
			const uint32_t v_ = (expr);                                                \
			SIM_FOR_LANES(mask, R[l][rd] = v_);                                        \
		} else {                                                                           \
			SIM_FOR_LANES(mask, {                                                      \
				const uint32_t b = R[l][rb];                                       \
				R[l][rd] = (expr);                                                 \
			});                                                                        \
		}                                                                                  \
	} while (0)

/* SIM_ALU for ops whose divisor b must not be 0 in any active lane. */
#define SIM_ALU_DIV(expr)                                                                          \
	do {                                                                                       \
		if (in->has_imm) {                                                                 \
			const uint32_t b = in->imm;                                                \
			if (mask && !b)                                                            \
				goto fault_div;                                                    \
			SIM_ALU_IMM(expr);                                                         \
		} else {                                                                           \
			SIM_FOR_LANES(mask, {                                                      \
				if (!R[l][rb])                                                     \
					goto fault_div;                                            \
			});                                                                        \
			SIM_ALU_REG(expr);                                                         \
		}                                                                                  \
	} while (0)

/* A case of the interpreter's switch: @exec (one of the above) of @expr, costing t->@timing. */
#define SIM_EXEC_CASE(op, exec, expr, timing)                                                      \
	case op:                                                                                   \
		exec(expr);                                                                        \
		cost += t->timing;                                                                 \
		break

static inline float sim_f32(uint32_t v)
{
	float f;

	memcpy(&f, &v, sizeof(f));
	return f;
}

static inline uint32_t sim_bits(float f)
{
	uint32_t v;

	if (f != f)
		return SIM_F32_CANON_NAN;
	memcpy(&v, &f, sizeof(v));
	return v;
}

static inline uint32_t sim_fmin(uint32_t a, uint32_t b)
{
	float fa = sim_f32(a), fb = sim_f32(b);

	if (fa != fa)
		return fb != fb ? SIM_F32_CANON_NAN : b;
	if (fb != fb)
		return a;
	if (fa < fb)
		return a;
	if (fb < fa)
		return b;
	return a | b; /* equal: -0 is the minimum of +-0 */
}

static inline uint32_t sim_fmax(uint32_t a, uint32_t b)
{
	float fa = sim_f32(a), fb = sim_f32(b);

	if (fa != fa)
		return fb != fb ? SIM_F32_CANON_NAN : b;
	if (fb != fb)
		return a;
	if (fa > fb)
		return a;
	if (fb > fa)
		return b;
	return a & b; /* equal: +0 is the maximum of +-0 */
}

static inline uint32_t sim_f2i(uint32_t v)
{
	float f = sim_f32(v);

	if (f != f)
		return 0;
	if (f >= 2147483648.0f)
		return 0x7fffffffu;
	if (f <= -2147483648.0f)
		return 0x80000000u;
	return (uint32_t)(int32_t)f;
}

static inline uint32_t sim_f2u(uint32_t v)
{
	float f = sim_f32(v);

	if (f != f || f <= 0.0f)
		return 0;
	if (f >= 4294967296.0f)
		return 0xffffffffu;
	return (uint32_t)f;
}

static inline uint32_t sim_divs(uint32_t a, uint32_t b)
{
	if (a == 0x80000000u && b == 0xffffffffu)
		return a;
	return (uint32_t)((int32_t)a / (int32_t)b);
}

static inline uint32_t sim_rems(uint32_t a, uint32_t b)
{
	if (a == 0x80000000u && b == 0xffffffffu)
		return 0;
	return (uint32_t)((int32_t)a % (int32_t)b);
}

static uint64_t sim_lane_mask(uint32_t lanes)
{
	return lanes >= 64 ? ~0ull : (1ull << lanes) - 1;
}

/* Free the decoded program and forget the dispatch. */
static void sim_dispatch_release(struct sim_dispatch *d)
{
	free(d->prog);
	free(d->prog_valid);
	d->prog = NULL;
	d->prog_valid = NULL;
	d->active = false;
	d->group.active = false;
}

/* sim_compute_abort_locked - see sim_internal.h. Safe on a queue without a dispatch. */
void sim_compute_abort_locked(struct sim_device *dev, uint32_t q)
{
	sim_mutex_assert_held(&dev->lock);
	sim_dispatch_release(&dev->q[q].dispatch);
}

/*
 * Copy @count instruction words at @va into @words through the job's address space with EXECUTE
 * access, page by page. Returns 0 or the MMU fault code (x->fault_va set).
 */
static uint32_t sim_compute_fetch(struct sim_device *dev, struct sim_xfer *x, uint64_t va,
				  uint64_t *words, uint32_t count) SIM_REQUIRES(dev->lock)
{
	uint8_t *dst = (uint8_t *)words;
	uint64_t left = (uint64_t)count * 8;

	while (left) {
		uint64_t chunk = SIM_PAGE_SIZE - (va & (SIM_PAGE_SIZE - 1));
		uint8_t *host;
		uint32_t code;

		if (chunk > left)
			chunk = left;
		code = sim_mmu_translate_locked(dev, x, va, SIM_ACCESS_EXECUTE, &host);
		if (code)
			return code;
		memcpy(dst, host, chunk);
		dst += chunk;
		va += chunk;
		left -= chunk;
	}
	return 0;
}

/*
 * sim_compute_begin_locked - validate @p, fetch and decode the program of queue @q's DISPATCH.
 * Costs (cmd_dword per instruction word, TLB walks) are added to *@cycles. Returns 0 (the
 * dispatch is then active; zero groups make it finish at the first step), or a SIM_FAULT_* code
 * with *@fault_va = the faulting program VA (MMU faults) or the command VA (BAD_DISPATCH,
 * NO_CORES). Host allocation failure is reported as BAD_DISPATCH with an UNIMP log line.
 */
uint32_t sim_compute_begin_locked(struct sim_device *dev, uint32_t q,
				  const struct sim_dispatch_params *p, uint64_t *cycles,
				  uint64_t *fault_va)
{
	struct sim_queue *qu = &dev->q[q];
	struct sim_dispatch *d = &qu->dispatch;
	struct sim_xfer x = {.as = qu->job_as, .queue = q, .source = SIM_SOURCE_COMPUTE};
	uint64_t *words = NULL;
	uint32_t cores, code, i;

	sim_mutex_assert_held(&dev->lock);
	sim_dispatch_release(d);

	if (p->prog_count == 0 || p->prog_count > SIM_DISPATCH_MAX_PROGRAM || p->local_size == 0 ||
	    p->local_size > dev->cfg.lanes || p->local_size > SIM_MAX_LANES) {
		sim_log_locked(dev, SIM_LOG_GUEST_ERROR,
			       "queue %u: bad DISPATCH (prog_count %u, local_size %u)", q,
			       p->prog_count, p->local_size);
		*fault_va = qu->op.cmd_va;
		return SIM_FAULT_COMPUTE_BAD_DISPATCH;
	}

	memset(d->core_time, 0, sizeof(d->core_time));
	d->core_mask = 0;
	d->charged = 0;
	d->next_group = 0;
	d->p = *p;
	d->total_groups = (uint64_t)p->groups_x * p->groups_y;
	if (!d->total_groups) {
		d->active = true;
		return 0;
	}

	cores = dev->cores_ready & (uint32_t)sim_lane_mask(dev->cfg.cores);
	if (!cores) {
		sim_log_locked(dev, SIM_LOG_GUEST_ERROR, "queue %u: DISPATCH with no core powered",
			       q);
		*fault_va = qu->op.cmd_va;
		return SIM_FAULT_COMPUTE_NO_CORES;
	}
	d->core_mask = cores;

	words = sim_alloc(dev, (size_t)p->prog_count * sizeof(*words));
	d->prog = sim_alloc(dev, (size_t)p->prog_count * sizeof(*d->prog));
	d->prog_valid = sim_alloc(dev, p->prog_count);
	if (!words || !d->prog || !d->prog_valid) {
		sim_log_locked(dev, SIM_LOG_UNIMP, "queue %u: no host memory for a %u-word program",
			       q, p->prog_count);
		*fault_va = qu->op.cmd_va;
		code = SIM_FAULT_COMPUTE_BAD_DISPATCH;
		goto err_free;
	}

	code = sim_compute_fetch(dev, &x, p->prog_va, words, p->prog_count);
	*cycles += x.cycles + (uint64_t)dev->cfg.timing.cmd_dword * p->prog_count;
	if (code) {
		*fault_va = x.fault_va;
		goto err_free;
	}

	for (i = 0; i < p->prog_count; i++) {
		struct sim_isa_insn *in = &d->prog[i];

		d->prog_valid[i] = sim_isa_decode(le64toh(words[i]), in) == 0;
		if (in->op == SIM_OP_SREG && in->imm >= SIM_SREG_COUNT)
			d->prog_valid[i] = 0;
	}
	free(words);
	d->active = true;
	return 0;

err_free:
	free(words);
	sim_dispatch_release(d);
	return code;
}

/* Launch the next group on the least busy powered core (ties: lowest index). */
static void sim_group_launch(struct sim_device *dev, struct sim_dispatch *d) SIM_REQUIRES(dev->lock)
{
	struct sim_group *g = &d->group;
	uint64_t idx = d->next_group++;
	uint32_t core = 0, ls = d->p.local_size, l;
	uint64_t best = UINT64_MAX;

	for (uint32_t c = 0; c < SIM_MAX_CORES; c++) {
		if ((d->core_mask >> c & 1) && d->core_time[c] < best) {
			best = d->core_time[c];
			core = c;
		}
	}
	d->core_time[core] += dev->cfg.timing.group_launch;

	g->active = true;
	g->gx = (uint32_t)(idx % d->p.groups_x);
	g->gy = (uint32_t)(idx / d->p.groups_x);
	g->core = core;
	g->pc = 0;
	g->mask = sim_lane_mask(ls);
	g->exited = 0;
	g->sp = 0;
	for (l = 0; l < ls; l++) {
		memset(g->regs[l], 0, sizeof(g->regs[l]));
		g->regs[l][0] = (uint32_t)d->p.args_va;
		g->regs[l][1] = (uint32_t)(d->p.args_va >> 32);
		g->regs[l][2] = g->gx * ls + l;
		g->regs[l][3] = g->gy;
	}
}

/* Distinct 64-byte lines touched by one memory instruction. */
struct sim_lines {
	uint32_t n;
	uint64_t line[SIM_MAX_LANES];
};

static inline void sim_lines_add(struct sim_lines *s, uint64_t va)
{
	uint64_t line = va >> 6;

	if (s->n && s->line[s->n - 1] == line)
		return;
	for (uint32_t i = 0; i + 1 < s->n; i++)
		if (s->line[i] == line)
			return;
	s->line[s->n++] = line;
}

/* Small per-instruction cache of translated pages: lanes mostly share one or two pages. */
#define SIM_PAGE_CACHE 4

/*
 * Execute memory instruction @in for the lanes in @mask, in lane order. Adds its cost (mem_op,
 * mem_line per distinct line, TLB walks) to *@cost. Returns 0 or a SIM_FAULT_* code with
 * *@fault_va the data VA.
 */
static uint32_t sim_exec_mem(struct sim_device *dev, uint32_t q, struct sim_group *g,
			     const struct sim_isa_insn *in, uint64_t mask, uint64_t *cost,
			     uint64_t *fault_va) SIM_REQUIRES(dev->lock)
{
	struct sim_xfer x = {.as = dev->q[q].job_as, .queue = q, .source = SIM_SOURCE_COMPUTE};
	uint32_t(*R)[SIM_ISA_REGS] = g->regs;
	uint64_t cvpn[SIM_PAGE_CACHE];
	uint8_t *cpage[SIM_PAGE_CACHE];
	uint32_t ncached = 0, next_slot = 0, access, code = 0;
	const uint32_t ra = in->ra, rb = in->rb, rc = in->rc, rd = in->rd;
	const uint64_t off = (uint64_t)(int64_t)(int32_t)in->imm;
	struct sim_lines lines;
	bool wrote = false;

	switch (in->op) {
	case SIM_OP_LD:
	case SIM_OP_LDX:
		access = SIM_ACCESS_READ;
		break;
	case SIM_OP_ATOMADD:
		access = SIM_ACCESS_ATOMIC;
		break;
	default:
		access = SIM_ACCESS_WRITE;
		break;
	}
	lines.n = 0;

	for (uint64_t m = mask; m; m &= m - 1) {
		const unsigned l = (unsigned)__builtin_ctzll(m);
		uint64_t va = ((uint64_t)R[l][ra + 1] << 32 | R[l][ra]) + off;
		uint64_t vpn;
		uint8_t *page = NULL, *p;
		uint32_t v, i;

		if (in->op == SIM_OP_LDX || in->op == SIM_OP_STX)
			va += R[l][rb];
		if (va & 3) {
			*fault_va = va;
			code = SIM_FAULT_COMPUTE_MISALIGNED;
			break;
		}
		vpn = va >> SIM_PAGE_SHIFT;
		for (i = 0; i < ncached; i++) {
			if (cvpn[i] == vpn) {
				page = cpage[i];
				break;
			}
		}
		if (!page) {
			code = sim_mmu_translate_locked(dev, &x, va, access, &p);
			if (code) {
				*fault_va = x.fault_va;
				break;
			}
			page = p - (va & (SIM_PAGE_SIZE - 1));
			cvpn[next_slot] = vpn;
			cpage[next_slot] = page;
			next_slot = (next_slot + 1) % SIM_PAGE_CACHE;
			if (ncached < SIM_PAGE_CACHE)
				ncached++;
		}
		p = page + (va & (SIM_PAGE_SIZE - 1));
		sim_lines_add(&lines, va);
		switch (in->op) {
		case SIM_OP_LD:
		case SIM_OP_LDX:
			memcpy(&v, p, 4);
			R[l][rd] = le32toh(v);
			break;
		case SIM_OP_ST:
			v = htole32(R[l][rb]);
			memcpy(p, &v, 4);
			wrote = true;
			break;
		case SIM_OP_STX:
			v = htole32(R[l][rc]);
			memcpy(p, &v, 4);
			wrote = true;
			break;
		default: /* ATOMADD */
			memcpy(&v, p, 4);
			v = le32toh(v);
			R[l][rd] = v;
			v = htole32(v + R[l][rb]);
			memcpy(p, &v, 4);
			wrote = true;
			break;
		}
	}
	if (wrote)
		dev->mem_epoch++;
	*cost += dev->cfg.timing.mem_op + (uint64_t)dev->cfg.timing.mem_line * lines.n + x.cycles;
	return code;
}

/* Index of the innermost LOOP entry on the control stack, or -1. */
static int sim_cf_loop(const struct sim_group *g)
{
	for (int i = (int)g->sp - 1; i >= 0; i--)
		if (g->stack[i].is_loop)
			return i;
	return -1;
}

/* The value of special register @sreg that is the same in every lane of group @g. */
static uint32_t sim_sreg_uniform(const struct sim_group *g, const struct sim_dispatch_params *p,
				 uint32_t sreg)
{
	switch (sreg) {
	case SIM_SREG_GROUP_ID_X:
		return g->gx;
	case SIM_SREG_GROUP_ID_Y:
		return g->gy;
	case SIM_SREG_GROUPS_X:
		return p->groups_x;
	case SIM_SREG_GROUPS_Y:
		return p->groups_y;
	case SIM_SREG_LOCAL_SIZE:
		return p->local_size;
	case SIM_SREG_CORE_ID:
		return g->core;
	case SIM_SREG_ARGS_LO:
		return (uint32_t)p->args_va;
	default: /* ARGS_HI; numbers >= SIM_SREG_COUNT fault ILLEGAL before execution */
		return (uint32_t)(p->args_va >> 32);
	}
}

/*
 * Run the current group of queue @q for at most SIM_COMPUTE_SLICE group-instructions or until
 * it ends. Its cost goes to its core's time. Returns 0 or a SIM_FAULT_* code (*@fault_va set).
 */
static uint32_t sim_group_run(struct sim_device *dev, uint32_t q, uint64_t *fault_va)
	SIM_REQUIRES(dev->lock)
{
	struct sim_dispatch *d = &dev->q[q].dispatch;
	struct sim_group *g = &d->group;
	const struct sim_timing *t = &dev->cfg.timing;
	const struct sim_isa_insn *prog = d->prog;
	const uint8_t *valid = d->prog_valid;
	const uint32_t count = d->p.prog_count;
	const uint64_t all = sim_lane_mask(d->p.local_size);
	uint32_t(*R)[SIM_ISA_REGS] = g->regs;
	uint64_t mask = g->mask, cost = 0, lane_insns = 0;
	uint32_t pc = g->pc, n, code = 0;

	for (n = 0; n < SIM_COMPUTE_SLICE; n++) {
		const struct sim_isa_insn *in;
		uint32_t rd, ra, rb, rc;

		if (pc >= count) {
			code = SIM_FAULT_COMPUTE_PC_RANGE;
			goto fault_pc;
		}
		if (!valid[pc]) {
			code = SIM_FAULT_COMPUTE_ILLEGAL;
			goto fault_pc;
		}
		in = &prog[pc];
		rd = in->rd;
		ra = in->ra;
		rb = in->rb;
		rc = in->rc;
		lane_insns += (uint64_t)__builtin_popcountll(mask);
		pc++;

		switch (in->op) {
		case SIM_OP_NOP:
			cost += t->alu;
			break;
			/* Moves, integer, float, compare and conversion ops: lane by lane. */
			SIM_EXEC_CASE(SIM_OP_MOV, SIM_UNARY, b, alu);
			SIM_EXEC_CASE(SIM_OP_ADD, SIM_ALU, a + b, alu);
			SIM_EXEC_CASE(SIM_OP_SUB, SIM_ALU, a - b, alu);
			SIM_EXEC_CASE(SIM_OP_MUL, SIM_ALU, a * b, alu_mul);
			SIM_EXEC_CASE(SIM_OP_MULHU, SIM_ALU, (uint32_t)(((uint64_t)a * b) >> 32),
				      alu_mul);
			SIM_EXEC_CASE(SIM_OP_DIVU, SIM_ALU_DIV, a / b, alu_div);
			SIM_EXEC_CASE(SIM_OP_REMU, SIM_ALU_DIV, a % b, alu_div);
			SIM_EXEC_CASE(SIM_OP_DIVS, SIM_ALU_DIV, sim_divs(a, b), alu_div);
			SIM_EXEC_CASE(SIM_OP_REMS, SIM_ALU_DIV, sim_rems(a, b), alu_div);
			SIM_EXEC_CASE(SIM_OP_AND, SIM_ALU, a & b, alu);
			SIM_EXEC_CASE(SIM_OP_OR, SIM_ALU, a | b, alu);
			SIM_EXEC_CASE(SIM_OP_XOR, SIM_ALU, a ^ b, alu);
			SIM_EXEC_CASE(SIM_OP_SHL, SIM_ALU, a << (b & 31), alu);
			SIM_EXEC_CASE(SIM_OP_SHR, SIM_ALU, a >> (b & 31), alu);
			SIM_EXEC_CASE(SIM_OP_SAR, SIM_ALU, (uint32_t)((int32_t)a >> (b & 31)), alu);
			SIM_EXEC_CASE(SIM_OP_MIN, SIM_ALU, (int32_t)a < (int32_t)b ? a : b, alu);
			SIM_EXEC_CASE(SIM_OP_MAX, SIM_ALU, (int32_t)a > (int32_t)b ? a : b, alu);
			SIM_EXEC_CASE(SIM_OP_MINU, SIM_ALU, a < b ? a : b, alu);
			SIM_EXEC_CASE(SIM_OP_MAXU, SIM_ALU, a > b ? a : b, alu);
			SIM_EXEC_CASE(SIM_OP_NOT, SIM_UNARY, ~b, alu);
			SIM_EXEC_CASE(SIM_OP_FADD, SIM_ALU, sim_bits(sim_f32(a) + sim_f32(b)), alu);
			SIM_EXEC_CASE(SIM_OP_FSUB, SIM_ALU, sim_bits(sim_f32(a) - sim_f32(b)), alu);
			SIM_EXEC_CASE(SIM_OP_FMUL, SIM_ALU, sim_bits(sim_f32(a) * sim_f32(b)),
				      alu_mul);
			SIM_EXEC_CASE(SIM_OP_FDIV, SIM_ALU, sim_bits(sim_f32(a) / sim_f32(b)),
				      alu_fdiv);
			SIM_EXEC_CASE(SIM_OP_FMIN, SIM_ALU, sim_fmin(a, b), alu);
			SIM_EXEC_CASE(SIM_OP_FMAX, SIM_ALU, sim_fmax(a, b), alu);
			SIM_EXEC_CASE(SIM_OP_FMA, SIM_ALU,
				      sim_bits(fmaf(sim_f32(a), sim_f32(b), sim_f32(R[l][rc]))),
				      alu_mul);
			SIM_EXEC_CASE(SIM_OP_I2F, SIM_UNARY, sim_bits((float)(int32_t)b), alu);
			SIM_EXEC_CASE(SIM_OP_U2F, SIM_UNARY, sim_bits((float)b), alu);
			SIM_EXEC_CASE(SIM_OP_F2I, SIM_UNARY, sim_f2i(b), alu);
			SIM_EXEC_CASE(SIM_OP_F2U, SIM_UNARY, sim_f2u(b), alu);
			SIM_EXEC_CASE(SIM_OP_FSQRT, SIM_UNARY, sim_bits(sqrtf(sim_f32(b))),
				      alu_fdiv);
			SIM_EXEC_CASE(SIM_OP_FABS, SIM_UNARY, (b & 0x7fffffffu), alu);
			SIM_EXEC_CASE(SIM_OP_FNEG, SIM_UNARY, (b ^ 0x80000000u), alu);
			SIM_EXEC_CASE(SIM_OP_SEQ, SIM_ALU, a == b, alu);
			SIM_EXEC_CASE(SIM_OP_SNE, SIM_ALU, a != b, alu);
			SIM_EXEC_CASE(SIM_OP_SLT, SIM_ALU, (int32_t)a < (int32_t)b, alu);
			SIM_EXEC_CASE(SIM_OP_SLTU, SIM_ALU, a < b, alu);
			SIM_EXEC_CASE(SIM_OP_SLE, SIM_ALU, (int32_t)a <= (int32_t)b, alu);
			SIM_EXEC_CASE(SIM_OP_SLEU, SIM_ALU, a <= b, alu);
			SIM_EXEC_CASE(SIM_OP_FSEQ, SIM_ALU, sim_f32(a) == sim_f32(b), alu);
			SIM_EXEC_CASE(SIM_OP_FSLT, SIM_ALU, sim_f32(a) < sim_f32(b), alu);
			SIM_EXEC_CASE(SIM_OP_FSLE, SIM_ALU, sim_f32(a) <= sim_f32(b), alu);
			SIM_EXEC_CASE(SIM_OP_SEL, SIM_ALU, R[l][rc] ? a : b, alu);
		case SIM_OP_SREG:
			if (in->imm == SIM_SREG_LANE_ID) {
				SIM_FOR_LANES(mask, R[l][rd] = l);
			} else if (in->imm == SIM_SREG_GLOBAL_ID_X) {
				uint32_t base = g->gx * d->p.local_size;

				SIM_FOR_LANES(mask, R[l][rd] = base + l);
			} else {
				uint32_t v = sim_sreg_uniform(g, &d->p, in->imm);

				SIM_FOR_LANES(mask, R[l][rd] = v);
			}
			cost += t->alu;
			break;
		case SIM_OP_LD:
		case SIM_OP_ST:
		case SIM_OP_LDX:
		case SIM_OP_STX:
		case SIM_OP_ATOMADD:
			code = sim_exec_mem(dev, q, g, in, mask, &cost, fault_va);
			if (code)
				goto out;
			break;
		case SIM_OP_BRA:
			pc = in->imm;
			cost += t->branch;
			break;
		case SIM_OP_BRANY: {
			bool any = false;

			SIM_FOR_LANES(mask, any |= R[l][ra] != 0);
			if (any)
				pc = in->imm;
			cost += t->branch;
			break;
		}
		case SIM_OP_IF: {
			uint64_t taken = 0;

			if (g->sp >= SIM_ISA_STACK_DEPTH)
				goto fault_stack;
			SIM_FOR_LANES(mask, taken |= (uint64_t)(R[l][ra] != 0) << l);
			g->stack[g->sp].saved = mask;
			g->stack[g->sp].taken = taken;
			g->stack[g->sp].is_loop = false;
			g->sp++;
			mask = taken;
			if (!mask)
				pc = in->imm;
			cost += t->branch;
			break;
		}
		case SIM_OP_ELSE:
			if (!g->sp || g->stack[g->sp - 1].is_loop)
				goto fault_stack;
			mask = g->stack[g->sp - 1].saved & ~g->stack[g->sp - 1].taken;
			if (!mask)
				pc = in->imm;
			cost += t->branch;
			break;
		case SIM_OP_ENDIF:
			if (!g->sp || g->stack[g->sp - 1].is_loop)
				goto fault_stack;
			mask = g->stack[--g->sp].saved;
			cost += t->branch;
			break;
		case SIM_OP_LOOP:
			if (g->sp >= SIM_ISA_STACK_DEPTH)
				goto fault_stack;
			g->stack[g->sp].saved = mask;
			g->stack[g->sp].taken = 0;
			g->stack[g->sp].is_loop = true;
			g->sp++;
			cost += t->branch;
			break;
		case SIM_OP_BREAK: {
			int loop = sim_cf_loop(g);
			uint64_t brk = 0;

			if (loop < 0)
				goto fault_stack;
			SIM_FOR_LANES(mask, brk |= (uint64_t)(R[l][ra] != 0) << l);
			g->stack[loop].taken |= brk;
			for (uint32_t i = (uint32_t)loop + 1; i < g->sp; i++)
				g->stack[i].saved &= ~brk;
			mask &= ~brk;
			if (!mask)
				pc = in->imm;
			cost += t->branch;
			break;
		}
		case SIM_OP_ENDLOOP:
			if (!g->sp || !g->stack[g->sp - 1].is_loop)
				goto fault_stack;
			if (mask)
				pc = in->imm;
			else
				mask = g->stack[--g->sp].saved;
			cost += t->branch;
			break;
		case SIM_OP_EXIT:
			g->exited |= mask;
			for (uint32_t i = 0; i < g->sp; i++)
				g->stack[i].saved &= ~mask;
			mask = 0;
			cost += t->branch;
			if (g->exited == all) {
				g->active = false;
				goto out;
			}
			break;
		default: /* decode rejected every other opcode */
			pc--;
			code = SIM_FAULT_COMPUTE_ILLEGAL;
			goto fault_pc;
		}
	}
	goto out;

fault_div:
	pc--;
	code = SIM_FAULT_COMPUTE_DIV_ZERO;
	goto fault_pc;
fault_stack:
	pc--;
	code = SIM_FAULT_COMPUTE_STACK;
fault_pc:
	*fault_va = d->p.prog_va + (uint64_t)pc * 8;
out:
	g->pc = pc;
	g->mask = mask;
	d->core_time[g->core] += cost;
	dev->stats.lane_instructions += lane_insns;
	sim_perf_add(dev, SIM_PERF_ALU_INSTRUCTIONS, lane_insns);
	return code;
}

/* Charge the growth of the busiest core since the last charge. */
static void sim_dispatch_charge(struct sim_dispatch *d, uint64_t *cycles)
{
	uint64_t max = 0;

	for (uint32_t c = 0; c < SIM_MAX_CORES; c++)
		if ((d->core_mask >> c & 1) && d->core_time[c] > max)
			max = d->core_time[c];
	if (max > d->charged) {
		*cycles += max - d->charged;
		d->charged = max;
	}
}

/*
 * sim_compute_step_locked - run one slice of queue @q's dispatch: launch the next group if none
 * is running, then execute at most SIM_COMPUTE_SLICE of its group-instructions. Adds the growth
 * of the dispatch's critical path to *@cycles and sets *@done once every group has finished (the
 * dispatch state is then released). Returns 0, or a SIM_FAULT_* code with *@fault_va set (the
 * caller faults the queue and calls sim_compute_abort_locked()).
 */
uint32_t sim_compute_step_locked(struct sim_device *dev, uint32_t q, uint64_t *cycles, bool *done,
				 uint64_t *fault_va)
{
	struct sim_dispatch *d = &dev->q[q].dispatch;
	uint32_t code = 0;

	sim_mutex_assert_held(&dev->lock);
	*done = false;
	if (!d->active) {
		*done = true;
		return 0;
	}
	if (!d->group.active && d->next_group < d->total_groups)
		sim_group_launch(dev, d);
	if (d->group.active)
		code = sim_group_run(dev, q, fault_va);
	sim_dispatch_charge(d, cycles);
	if (code)
		return code;
	if (!d->group.active && d->next_group >= d->total_groups) {
		sim_dispatch_release(d);
		*done = true;
	}
	return 0;
}
