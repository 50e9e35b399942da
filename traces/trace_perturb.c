/* SPDX-License-Identifier: MIT */
/*
 * trace_perturb.c - magma-replay --perturb: replay under perturbed timing and explain what
 * changes (trace_perturb.h).
 *
 * Each seed is one replay on a fresh embedded device whose sim_config comes from
 * sim_config_perturb(seed), so a seed names one timing and reproduces it. The replay holds the
 * GPU between waits (trace_replay_options.hold): submissions the client made without waiting
 * in between are all on their rings before any runs, and the seeded arbitration, not the host's
 * thread timing, decides their order. What the replay still leaves to the host is when a running
 * GPU is paused again by the next submission; a correctly synchronized client cannot tell.
 *
 * A changed completion digest is turned into a report by trace_race_explain (trace_race.c).
 * Runs on the caller's thread.
 */
#include <inttypes.h>
#include <string.h>

#include <lib/magma/magma_common_defs.h>

#include "sim/sim.h"
#include "traces/trace.h"
#include "traces/trace_perturb.h"
#include "traces/trace_race.h"

/* trace_perturb_gate_for - see trace_perturb.h. Calls not listed keep the GPU as it is. */
enum trace_perturb_gate trace_perturb_gate_for(enum trace_call_id call, int64_t status)
{
	static const enum trace_perturb_gate gates[TRACE_CALL_COUNT] = {
		[TRACE_CALL_EXECUTE_COMMAND] = TRACE_PERTURB_HOLD,
		[TRACE_CALL_EXECUTE_INLINE] = TRACE_PERTURB_HOLD,
		[TRACE_CALL_POLL] = TRACE_PERTURB_RUN,
		[TRACE_CALL_READ_NOTIFICATION] = TRACE_PERTURB_RUN,
		[TRACE_CALL_PERF_READ_COMPLETION] = TRACE_PERTURB_RUN,
		[TRACE_CALL_PERF_DUMP] = TRACE_PERTURB_RUN,
		[TRACE_CALL_RELEASE_CONTEXT] = TRACE_PERTURB_RUN,
		[TRACE_CALL_CONNECTION_RELEASE] = TRACE_PERTURB_RUN,
		[TRACE_CALL_DEVICE_RELEASE] = TRACE_PERTURB_RUN,
	};

	if ((unsigned)call >= TRACE_CALL_COUNT)
		return TRACE_PERTURB_KEEP;
	if (status == MAGMA_STATUS_CONTEXT_KILLED || status == MAGMA_STATUS_CONNECTION_LOST)
		return TRACE_PERTURB_SETTLE;
	return gates[call];
}

/* "cores 7, cp x1.25, copy x3, ..." for @p into @buf. */
static void perturb_describe(const struct sim_perturbation *p, char *buf, size_t size)
{
	size_t len = (size_t)snprintf(buf, size, "cores %" PRIu32, p->cores);

	for (uint32_t g = 0; g < SIM_PERTURB_GROUPS && len < size; g++)
		len += (size_t)snprintf(buf + len, size - len, ", %s x%g",
					sim_perturb_group_name((enum sim_perturb_group)g),
					p->scale8[g] / 8.0);
	if (len < size)
		snprintf(buf + len, size - len, ", arbitration seeded");
}

/* The divergence of seed @seed, with its race report, on @out. */
static void perturb_report(const char *path, uint64_t seed, const struct trace_replay_result *res,
			   FILE *out)
{
	const struct trace_replay_mismatch *m = &res->mismatch;
	struct trace_race_report race;
	int err;

	fprintf(out, "perturb seed %" PRIu64 ": DIVERGED: %s\n", seed, res->message);
	if (!m->valid)
		return;
	fprintf(out,
		"  race at completion event %" PRIu64 ": buffer id %" PRIu64 " range [%" PRIu64
		", +%" PRIu64 ")",
		m->event, m->buffer_id, m->offset, m->length);
	if (m->first_diff != UINT64_MAX)
		fprintf(out, ", first difference at byte %" PRIu64 " of the buffer",
			m->offset + m->first_diff);
	fprintf(out, "\n");
	err = trace_race_explain(path, m, &race);
	if (err)
		fprintf(out, "  (the trace could not be read again to explain it: %s)\n",
			strerror(-err));
	else
		fprintf(out, "%s\n", race.text);
}

/* trace_perturb_run - see trace_perturb.h. */
int trace_perturb_run(const char *path, const struct trace_replay_options *base,
		      const uint64_t *seeds, size_t count, FILE *out, FILE *err)
{
	struct trace_replay_result res;
	size_t diverged = 0;

	if (!path || !base || !seeds || !count || count > TRACE_PERTURB_MAX_SEEDS) {
		fprintf(err, "magma-replay: bad perturbation request\n");
		return TRACE_REPLAY_BAD_INPUT;
	}
	for (size_t i = 0; i < count; i++) {
		struct trace_replay_options opts = *base;
		struct sim_perturbation p;
		struct sim_config cfg;
		char desc[160], hex[17];
		int ret;

		sim_config_default(&cfg);
		sim_config_perturb(&cfg, seeds[i], &p);
		opts.sim_config = &cfg;
		opts.hold = true;
		perturb_describe(&p, desc, sizeof(desc));
		fprintf(out, "perturb seed %" PRIu64 ": %s\n", seeds[i], desc);
		fflush(out);
		ret = trace_replay_run(path, &opts, &res);
		if (i == 0 && res.truncated)
			fprintf(err, "magma-replay: warning: %s is truncated: %s\n", path,
				res.warning);
		if (ret == TRACE_REPLAY_DIVERGED) {
			perturb_report(path, seeds[i], &res, out);
			diverged++;
			continue;
		}
		if (ret) {
			fprintf(err, "magma-replay: %s: %s\n", path, res.message);
			return ret;
		}
		trace_digest_hex(res.digest, hex);
		fprintf(out,
			"perturb seed %" PRIu64 ": same digests (%" PRIu64
			" completions checked), gpu cycles %" PRIu64 ", replay digest %s\n",
			seeds[i], res.completions, res.gpu_cycles, hex);
	}
	fprintf(out, "perturbation: %zu seed%s, %zu diverged\n", count, count == 1 ? "" : "s",
		diverged);
	fflush(out);
	return diverged ? TRACE_REPLAY_DIVERGED : TRACE_REPLAY_OK;
}
