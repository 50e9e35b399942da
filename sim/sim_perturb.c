/* SPDX-License-Identifier: MIT */
/*
 * sim_perturb.c - a different but valid timing of the same GPU, derived from a seed.
 *
 * Race detection (magma-replay --perturb, docs/trace-format.md) replays a trace on GPUs that
 * differ only in what a correctly synchronized client cannot observe: how many compute cores
 * share a dispatch, how long each kind of work takes, and which of several equally entitled
 * queues the engine serves first. A client that orders its work with semaphores and CPU waits
 * gets the same bytes on all of them; one that does not may not. Each choice is a pure function
 * of the seed (splitmix64), so a seed names one timing and a report can be reproduced.
 *
 * Deliberately left alone: queue, lane and address-space counts, memory and clock frequency
 * (a driver or client may size itself from them), and reset and power costs (the driver's
 * bring-up, not the client's work). Pure functions; no device, no threads.
 */
#include "sim/sim.h"

/* splitmix64: one well-mixed value per call, any seed (0 included) is a good start. */
static uint64_t sim_perturb_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A value in [@lo, @hi] from the stream. */
static uint32_t sim_perturb_range(uint64_t *state, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(sim_perturb_next(state) % ((uint64_t)hi - lo + 1));
}

/* @v × @scale8 / 8, rounded to nearest, at least 1 and at most UINT32_MAX. */
static uint32_t sim_perturb_scale(uint32_t v, uint32_t scale8)
{
	uint64_t s = ((uint64_t)v * scale8 + 4) / 8;

	if (!s)
		return 1;
	return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

/* sim_perturb_group_name - see sim.h. */
const char *sim_perturb_group_name(enum sim_perturb_group group)
{
	static const char *const names[SIM_PERTURB_GROUPS] = {
		[SIM_PERTURB_CP] = "cp",   [SIM_PERTURB_COPY] = "copy", [SIM_PERTURB_MEM] = "mem",
		[SIM_PERTURB_ALU] = "alu", [SIM_PERTURB_POLL] = "poll",
	};

	return (unsigned)group < SIM_PERTURB_GROUPS ? names[group] : NULL;
}

/*
 * sim_config_perturb - see sim.h. Draw order is fixed (cores, the groups in enum order, the
 * arbitration seed), so adding a knob later appends draws and keeps today's seeds' choices.
 */
void sim_config_perturb(struct sim_config *cfg, uint64_t seed, struct sim_perturbation *out)
{
	struct sim_perturbation p = {.seed = seed};
	struct sim_timing *t = &cfg->timing;
	uint64_t state = seed;
	uint32_t s;

	p.cores = sim_perturb_range(&state, SIM_PERTURB_CORES_MIN, SIM_PERTURB_CORES_MAX);
	for (uint32_t g = 0; g < SIM_PERTURB_GROUPS; g++)
		p.scale8[g] =
			sim_perturb_range(&state, SIM_PERTURB_SCALE_MIN, SIM_PERTURB_SCALE_MAX);
	do
		p.arb_seed = sim_perturb_next(&state);
	while (!p.arb_seed);

	cfg->cores = p.cores;
	s = p.scale8[SIM_PERTURB_CP];
	t->job_start = sim_perturb_scale(t->job_start, s);
	t->job_end = sim_perturb_scale(t->job_end, s);
	t->cmd_header = sim_perturb_scale(t->cmd_header, s);
	t->cmd_dword = sim_perturb_scale(t->cmd_dword, s);
	/* A slower copy engine moves fewer bytes per cycle. */
	s = p.scale8[SIM_PERTURB_COPY];
	t->copy_bytes_per_cycle = (uint32_t)((uint64_t)t->copy_bytes_per_cycle * 8 / s);
	if (!t->copy_bytes_per_cycle)
		t->copy_bytes_per_cycle = 1;
	s = p.scale8[SIM_PERTURB_MEM];
	t->mem_line = sim_perturb_scale(t->mem_line, s);
	t->mem_op = sim_perturb_scale(t->mem_op, s);
	t->tlb_walk_level = sim_perturb_scale(t->tlb_walk_level, s);
	s = p.scale8[SIM_PERTURB_ALU];
	t->alu = sim_perturb_scale(t->alu, s);
	t->alu_mul = sim_perturb_scale(t->alu_mul, s);
	t->alu_div = sim_perturb_scale(t->alu_div, s);
	t->alu_fdiv = sim_perturb_scale(t->alu_fdiv, s);
	t->branch = sim_perturb_scale(t->branch, s);
	t->group_launch = sim_perturb_scale(t->group_launch, s);
	t->wait_poll = sim_perturb_scale(t->wait_poll, p.scale8[SIM_PERTURB_POLL]);
	cfg->arb_seed = p.arb_seed;
	if (out)
		*out = p;
}
