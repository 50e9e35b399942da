/* SPDX-License-Identifier: MIT */
/*
 * fault_plan.h - declarative fault plans (docs/fault-injection.md): what to break, when, and in
 * which client.
 *
 * A plan is a JSON document read with cJSON. Each fault has a kind (a model injection, a
 * driver failure point or the death of a client), a trigger (the Nth submission, a simulated
 * cycle, an access to a GPU VA range, every Kth event, a seeded probability) and a target (any
 * connection, the Nth connection the device opened, or a client process by name). Loading is
 * all or nothing: a plan with any bad field is refused whole, with an error naming the file, the
 * line and the field, so nothing is ever armed half-way.
 *
 * The plan is data only. struct fault_engine (fault_engine.h) evaluates it against the events a
 * device reports and says which faults fire; the device applies them.
 *
 * Threading: a loaded plan is immutable and may be read from any thread. Ownership: the plan
 * returned by fault_plan_parse/fault_plan_load belongs to the caller (fault_plan_destroy).
 */
#ifndef FAULTS_FAULT_PLAN_H
#define FAULTS_FAULT_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* clang-format off */
#define FAULT_PLAN_VERSION     1
#define FAULT_PLAN_MAX_FAULTS  256
#define FAULT_NAME_MAX         64
#define FAULT_ERROR_MAX        512
/* clang-format on */

/* What a fault does. The first group is the GPU model's own injection points (sim.h). */
enum fault_kind {
	FAULT_MMU_FAULT,	   /* a translation of the target's address space faults */
	FAULT_PERMISSION_FAULT,	   /* an access of the target is refused as a permission fault */
	FAULT_CP_HANG,		   /* the target's queue stops making progress */
	FAULT_DMA_ERROR,	   /* the target's next COPY/FILL fails */
	FAULT_RESET_FAILURE,	   /* the next soft reset never completes */
	FAULT_IRQ_DELAY,	   /* interrupts reach the driver @arg cycles late */
	FAULT_IRQ_LOSS,		   /* the next interrupt is never delivered */
	FAULT_MODEL_ALLOC_FAILURE, /* a host allocation inside the model fails */
	/* The driver's and the service's own failure points (Linux fail-nth, fail_function). */
	FAULT_FAIL_ALLOC, /* an allocation of the driver or service fails */
	FAULT_FAIL_CALL,  /* an msd.h entry point returns @status instead of running */
	/* The client itself. */
	FAULT_KILL_CLIENT, /* the target client process is killed (SIGKILL) */
	FAULT_KIND_COUNT
};

/* The event stream a trigger counts. */
enum fault_event_type {
	FAULT_EVENT_SUBMISSION, /* a command buffer or inline batch reaches the driver */
	FAULT_EVENT_CALL,	/* a message from the client reaches the service (any call) */
	FAULT_EVENT_ALLOC,	/* an allocation at a failure point of the driver or service */
	FAULT_EVENT_CYCLE,	/* the simulated clock advanced (value = the cycle now) */
	FAULT_EVENT_ACCESS,	/* the GPU first touched a page of a connection (value = the VA) */
	FAULT_EVENT_RESET,	/* a GPU reset began (the device's; no connection) */
	FAULT_EVENT_TYPE_COUNT
};

enum fault_trigger_type {
	FAULT_TRIGGER_NTH,	   /* the @n-th event of @event (1-based) */
	FAULT_TRIGGER_EVERY,	   /* every @n-th event of @event */
	FAULT_TRIGGER_PROBABILITY, /* each event of @event with @probability, drawn from @seed */
	FAULT_TRIGGER_CYCLE,	   /* the first clock event at or past cycle @n */
	FAULT_TRIGGER_VA_RANGE,	   /* the first access in [@va_start, @va_end) */
};

struct fault_trigger {
	enum fault_trigger_type type;
	enum fault_event_type event; /* the counted stream (CYCLE and VA_RANGE imply theirs) */
	uint64_t n;
	double probability;
	uint64_t seed;
	uint64_t va_start;
	uint64_t va_end;
	char call[FAULT_NAME_MAX]; /* CALL events: only those of this msd.h entry point; "": all */
};

enum fault_target_type {
	FAULT_TARGET_ANY,	 /* every connection counts towards the trigger */
	FAULT_TARGET_CONNECTION, /* the @connection-th connection opened on the device (1-based) */
	FAULT_TARGET_PROCESS,	 /* connections of client processes named @process (comm) */
};

struct fault_target {
	enum fault_target_type type;
	uint64_t connection;
	char process[FAULT_NAME_MAX];
	uint32_t context; /* 0: any context; else the context id within the connection */
};

struct fault {
	char name[FAULT_NAME_MAX]; /* from the plan, or "fault<N>" */
	enum fault_kind kind;
	struct fault_trigger trigger;
	struct fault_target target;
	uint32_t times;		    /* how many times it fires at most (default 1; 0 = unlimited) */
	uint64_t arg;		    /* kind-specific: delay cycles (IRQ_DELAY), MMU fault code */
	int32_t status;		    /* FAIL_CALL / FAIL_ALLOC: the magma_status_t returned */
	char point[FAULT_NAME_MAX]; /* FAIL_CALL: entry point name; FAIL_ALLOC: "driver"/"service"
				     */
	uint32_t line;		    /* where the fault starts in its file, for messages */
};

struct fault_plan {
	char name[FAULT_NAME_MAX];
	uint64_t seed; /* default seed of probability triggers */
	uint32_t fault_count;
	struct fault *faults;
};

/*
 * fault_plan_parse - parse @text (@len bytes, need not be NUL-terminated) as a plan; @file names
 * it in messages. Returns a new plan, or NULL with "FILE:LINE: FIELD: what is wrong" in @error
 * (FAULT_ERROR_MAX bytes) - nothing half-built is returned.
 */
struct fault_plan *fault_plan_parse(const char *text, size_t len, const char *file,
				    char error[FAULT_ERROR_MAX]);

/* fault_plan_load - fault_plan_parse of the file at @path (errors as there; I/O errors too). */
struct fault_plan *fault_plan_load(const char *path, char error[FAULT_ERROR_MAX]);

/* fault_plan_destroy - free @plan (NULL is a no-op). */
void fault_plan_destroy(struct fault_plan *plan);

/*
 * fault_plan_check_device - whether a device (faults/fault_device.h) can apply every fault of
 * @plan, read from @file; false with "FILE:LINE: FIELD: what is not supported" in @error. A
 * device refuses what it cannot apply rather than ignore it: a kill_client at a cycle with no
 * connection or process to kill, a driver fail_alloc with a status other than MEMORY_ERROR (a
 * failed driver allocation is memory running out; the driver picks what it returns).
 */
bool fault_plan_check_device(const struct fault_plan *plan, const char *file,
			     char error[FAULT_ERROR_MAX]);

/*
 * fault_plan_load_for_device - fault_plan_load and fault_plan_check_device of @path: a plan a
 * device can apply, or NULL with the first problem in @error. What MAGMA_SIM_FAULTS, magma-simd
 * --faults and magma-sim-run --faults read.
 */
struct fault_plan *fault_plan_load_for_device(const char *path, char error[FAULT_ERROR_MAX]);

/* fault_kind_name - "mmu_fault" etc., the spelling of the plan; NULL for an unknown kind. */
const char *fault_kind_name(enum fault_kind kind);

/* fault_status_name - "INVALID_ARGS" etc., the spelling of a plan's "status"; "?" for a status
 * a plan cannot name. Thread-safe (constant table). */
const char *fault_status_name(int32_t status);
/* fault_kind_from_name - the kind spelled @name; false if none. */
bool fault_kind_from_name(const char *name, enum fault_kind *out);
/* fault_event_name - "submission" etc.; NULL for an unknown type. */
const char *fault_event_name(enum fault_event_type type);

#ifdef __cplusplus
}
#endif

#endif /* FAULTS_FAULT_PLAN_H */
