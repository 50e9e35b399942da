/* SPDX-License-Identifier: MIT */
/*
 * trace_perturb.h - race detection: replaying a trace under perturbed but valid GPU timing.
 *
 * A client that orders its GPU work with semaphores and CPU waits gets the same contents however
 * fast each engine is, however many cores there are and whichever of two ready queues the GPU
 * serves first. trace_perturb_run replays a trace once per seed on a GPU timed by
 * sim_config_perturb(seed) (sim.h) with the replay holding the GPU from each submission to the
 * next call that waits for it (trace_replay_options.hold), so that work the client left unordered
 * starts together and the GPU's seeded arbitration decides. The recording's completion digests
 * are the reference; a digest that changes is explained by trace_race_explain (trace_race.h):
 * the resource and the two submissions nothing orders. docs/trace-format.md "Race detection".
 * Single-threaded, like trace_replay_run.
 */
#ifndef TRACES_TRACE_PERTURB_H
#define TRACES_TRACE_PERTURB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "traces/trace_calls.h"
#include "traces/trace_replay.h"

/* What a replay holding the GPU does before a call (trace_perturb_gate_for). */
enum trace_perturb_gate {
	TRACE_PERTURB_KEEP,   /* leave the GPU paused or running */
	TRACE_PERTURB_HOLD,   /* pause it: a submission follows */
	TRACE_PERTURB_RUN,    /* let it run: the call may wait for the GPU */
	TRACE_PERTURB_SETTLE, /* let it run and finish all it can first: the call saw its effects */
};

/*
 * trace_perturb_gate_for - for the recorded call @call (its id in traces/trace_calls.h) that
 * returned @status in the recording: SETTLE when that status is CONTEXT_KILLED or
 * CONNECTION_LOST (the client saw the effect of GPU work, a fault or a hang, which must have
 * happened first); else HOLD before execute_command and execute_inline; RUN before calls that
 * wait for GPU work or release what it uses (poll, read_notification, perf_read_completion,
 * perf_dump, release_context, connection_release, device_release); KEEP otherwise and for an
 * id past the table. A completion event is a SETTLE (its digests are taken once the GPU did all
 * it could). Pure.
 */
enum trace_perturb_gate trace_perturb_gate_for(enum trace_call_id call, int64_t status);

/* Most seeds one trace_perturb_run call takes. */
#define TRACE_PERTURB_MAX_SEEDS 65536u

/*
 * trace_perturb_run - replay @path once per seed in @seeds (@count of them, at most
 * TRACE_PERTURB_MAX_SEEDS) with @base's window and waits, each on a GPU perturbed by its seed
 * and held between waits. Writes one line per seed to @out (timing, then the result: digests
 * unchanged with cycles and replay digest, or the divergence with its race report) and goes on
 * after a divergence so every seed is tried. Returns the enum trace_replay_exit of the run:
 * DIVERGED when any seed diverged; BAD_INPUT, ENV_ERROR or (with @base's check_window)
 * BAD_OPTIONS at once (@err gets the message). A trace cut short replays to its last complete
 * event under every seed, with one warning on @err.
 */
int trace_perturb_run(const char *path, const struct trace_replay_options *base,
		      const uint64_t *seeds, size_t count, FILE *out, FILE *err);

#endif /* TRACES_TRACE_PERTURB_H */
