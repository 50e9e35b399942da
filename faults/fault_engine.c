/* SPDX-License-Identifier: MIT */
/*
 * fault_engine.c - trigger evaluation for fault plans (fault_engine.h).
 *
 * Each fault has a counter of the events that matched it (its event type, its target, its entry
 * point for fail_call and fail_alloc) and a generator for probability triggers (splitmix64,
 * seeded with the trigger's seed and the fault's index, so two faults of one plan draw
 * differently and one fault draws the same sequence every run). Cycle triggers are device-wide
 * (the clock belongs to nobody) and fire on the first clock report at or past their cycle; VA
 * triggers fire on the first access in their range by a connection of their target.
 *
 * Threading: one mutex guards the counters; observe is short and allocation-free.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "faults/fault_engine.h"

struct fault_state {
	uint64_t count; /* matching events seen */
	uint64_t fired;
	uint64_t rng; /* splitmix64 state */
};

struct fault_engine {
	const struct fault_plan *plan;
	pthread_mutex_t lock;
	struct fault_state *states; /* guarded by lock */
};

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void reset_states_locked(struct fault_engine *e)
{
	for (uint32_t i = 0; i < e->plan->fault_count; i++) {
		const struct fault_trigger *t = &e->plan->faults[i].trigger;

		e->states[i] =
			(struct fault_state){.rng = t->seed ^ (0x5851f42d4c957f2dull * (i + 1))};
	}
}

/* fault_engine_create - see fault_engine.h. */
struct fault_engine *fault_engine_create(const struct fault_plan *plan)
{
	struct fault_engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->plan = plan;
	e->states = calloc(plan->fault_count ? plan->fault_count : 1, sizeof(*e->states));
	if (!e->states) {
		free(e);
		return NULL;
	}
	pthread_mutex_init(&e->lock, NULL);
	reset_states_locked(e);
	return e;
}

/* fault_engine_destroy - see fault_engine.h. */
void fault_engine_destroy(struct fault_engine *engine)
{
	if (!engine)
		return;
	pthread_mutex_destroy(&engine->lock);
	free(engine->states);
	free(engine);
}

/* Whether @ev concerns @f's target (device-wide clock events concern everyone). */
static bool target_matches(const struct fault *f, const struct fault_event *ev)
{
	const struct fault_target *t = &f->target;

	if (ev->type == FAULT_EVENT_CYCLE || ev->type == FAULT_EVENT_RESET)
		return true; /* the device's own events: the target says who is hit */
	if (t->context && ev->context != t->context)
		return false;
	switch (t->type) {
	case FAULT_TARGET_ANY:
		return true;
	case FAULT_TARGET_CONNECTION:
		return ev->connection == t->connection;
	case FAULT_TARGET_PROCESS:
		return ev->process && strcmp(ev->process, t->process) == 0;
	}
	return false;
}

/* Whether @ev counts towards @f's trigger at all. */
static bool event_matches(const struct fault *f, const struct fault_event *ev)
{
	if (ev->type != f->trigger.event || !target_matches(f, ev))
		return false;
	if (f->trigger.call[0] && (!ev->point || strcmp(ev->point, f->trigger.call) != 0))
		return false;
	if (f->kind == FAULT_FAIL_CALL || f->kind == FAULT_FAIL_ALLOC)
		return ev->point && strcmp(ev->point, f->point) == 0;
	return true;
}

/* Counts @ev (which matches @f) and says whether the trigger fires now. */
static bool trigger_fires_locked(const struct fault *f, struct fault_state *s,
				 const struct fault_event *ev)
{
	const struct fault_trigger *t = &f->trigger;

	s->count++;
	switch (t->type) {
	case FAULT_TRIGGER_NTH:
		return s->count == t->n;
	case FAULT_TRIGGER_EVERY:
		return s->count % t->n == 0;
	case FAULT_TRIGGER_PROBABILITY:
		/* 53 random bits as a double in [0, 1). */
		return (double)(splitmix64(&s->rng) >> 11) * 0x1.0p-53 < t->probability;
	case FAULT_TRIGGER_CYCLE:
		return ev->value >= t->n && s->fired == 0;
	case FAULT_TRIGGER_VA_RANGE:
		return ev->value >= t->va_start && ev->value < t->va_end;
	}
	return false;
}

/* fault_engine_observe - see fault_engine.h. */
uint32_t fault_engine_observe(struct fault_engine *engine, const struct fault_event *event,
			      struct fault_firing *out, uint32_t max)
{
	uint32_t n = 0;

	pthread_mutex_lock(&engine->lock);
	for (uint32_t i = 0; i < engine->plan->fault_count; i++) {
		const struct fault *f = &engine->plan->faults[i];
		struct fault_state *s = &engine->states[i];

		if (!event_matches(f, event) || (f->times && s->fired >= f->times))
			continue;
		if (!trigger_fires_locked(f, s, event))
			continue;
		s->fired++;
		if (n < max)
			out[n++] = (struct fault_firing){.index = i, .fault = f, .count = s->count};
	}
	pthread_mutex_unlock(&engine->lock);
	return n;
}

/* fault_engine_fired - see fault_engine.h. */
uint64_t fault_engine_fired(struct fault_engine *engine, uint32_t index)
{
	uint64_t fired = 0;

	pthread_mutex_lock(&engine->lock);
	if (index < engine->plan->fault_count)
		fired = engine->states[index].fired;
	pthread_mutex_unlock(&engine->lock);
	return fired;
}

/* fault_engine_reset - see fault_engine.h. */
void fault_engine_reset(struct fault_engine *engine)
{
	pthread_mutex_lock(&engine->lock);
	reset_states_locked(engine);
	pthread_mutex_unlock(&engine->lock);
}
