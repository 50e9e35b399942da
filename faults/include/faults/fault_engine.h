/* SPDX-License-Identifier: MIT */
/*
 * fault_engine.h - deciding when the faults of a plan fire.
 *
 * A device reports what happens - a submission reaches the driver, a client message reaches the
 * service, the driver or service allocates at a failure point, the simulated clock advances, the
 * GPU touches a VA - as struct fault_event. The engine counts each event towards the trigger of
 * every fault whose target it matches and returns the faults that fire now; the device then
 * applies them (arms the model injection, fails the call, kills the client). The engine holds no
 * device state and makes no system calls, so the same events always give the same firings:
 * probability triggers draw from a generator seeded by the plan.
 *
 * Threading: fault_engine_observe takes the engine's own lock, so any thread of a device may
 * report. Ownership: the engine keeps a pointer to @plan, which must outlive it.
 */
#ifndef FAULTS_FAULT_ENGINE_H
#define FAULTS_FAULT_ENGINE_H

#include <stdint.h>

#include "faults/fault_plan.h"

#ifdef __cplusplus
extern "C" {
#endif

struct fault_event {
	enum fault_event_type type;
	uint64_t connection; /* the connection's number on the device (1 = first opened); 0: none */
	const char *process; /* the client process's name (comm), or NULL when unknown */
	uint32_t context;    /* context id within the connection; 0: none */
	const char *point;   /* CALL: the msd.h entry point; ALLOC: "driver" or "service" */
	uint64_t value;	     /* CYCLE: the cycle now; ACCESS: the GPU VA */
};

struct fault_firing {
	uint32_t index;		   /* of the fault in the plan */
	const struct fault *fault; /* the plan's entry */
	uint64_t count;		   /* events of its trigger counted so far, this one included */
};

struct fault_engine;

/* fault_engine_create - an engine for @plan (borrowed; must outlive it). NULL on no memory. */
struct fault_engine *fault_engine_create(const struct fault_plan *plan);

/* fault_engine_destroy - free @engine (NULL is a no-op). */
void fault_engine_destroy(struct fault_engine *engine);

/*
 * fault_engine_observe - count @event towards every fault it matches and write the faults that
 * fire now to @out (at most @max, in plan order); returns how many fired. A fault fires at most
 * its "times" (0: no limit). Any thread.
 */
uint32_t fault_engine_observe(struct fault_engine *engine, const struct fault_event *event,
			      struct fault_firing *out, uint32_t max);

/* fault_engine_fired - how many times fault @index has fired so far (0 for a bad index). */
uint64_t fault_engine_fired(struct fault_engine *engine, uint32_t index);

/* fault_engine_reset - forget every count, as if just created (for a campaign's next point). */
void fault_engine_reset(struct fault_engine *engine);

#ifdef __cplusplus
}
#endif

#endif /* FAULTS_FAULT_ENGINE_H */
