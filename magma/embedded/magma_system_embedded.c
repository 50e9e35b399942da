/* SPDX-License-Identifier: MIT */
/*
 * magma_system_embedded.c - the embedded device: sim + msd-sim + magma_system in this process.
 *
 * The service end of each device channel is served by magma_system_device_serve; nothing else
 * distinguishes an embedded device from one served by magma-simd, so clients cannot tell. The
 * one process-wide object (magma_sim_embedded_open) is guarded by a mutex and belongs to the
 * process that created it: the atexit handler destroys it only in that process, and a forked
 * child, which inherits the memory but not the threads, gets a device of its own instead
 * (the inherited copy is abandoned, never destroyed, because its threads do not exist there).
 * Every sim created here has its clock run from before the driver is created until after it is
 * destroyed (sim_start, sim_stop: the driver expects that of its host, msd_sim_hooks.h), and is
 * reported to the trace recorder (traces/trace_device.h), which records its device events into the
 * process-wide trace when MAGMA_TRACE is set and tells magma-replay about it. When
 * MAGMA_SIM_FAULTS names a fault plan, every embedded device created applies it
 * (faults/fault_device.h; docs/fault-injection.md); a plan that cannot be read or applied is
 * reported on stderr and no device is created. Threading: create/destroy from any thread but not
 * concurrently on one object; connect from any thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "faults/fault_device.h"
#include "magma_sim/direct.h"
#include "magma_system/embedded.h"
#include "magma_system/magma_system.h"
#include "msd_sim_hooks.h"
#include "sim/sim.h"
#include "traces/trace_device.h"

#define MAGMA_SYSTEM_EMBEDDED_MAGIC	   0x6d73656du /* "msem" */
/* GPU cycles a destroyed device may take to go idle (a hard reset takes 10000 by default). */
#define MAGMA_SYSTEM_EMBEDDED_DRAIN_CYCLES (1ull << 24)

struct magma_system_embedded {
	uint32_t magic;
	struct sim_device *sim;
	struct magma_system_device *dev;
	struct fault_plan *plan;     /* MAGMA_SIM_FAULTS, or NULL */
	struct fault_device *faults; /* @plan applied to this device */
};

/* libmagma's view of a connection endpoint (magma_sim/direct.h). */
static int embedded_direct_deliver(void *endpoint, const void *msg, size_t size, const int *fds,
				   uint32_t fd_count)
{
	return magma_system_direct_deliver(endpoint, msg, size, fds, fd_count);
}

static void embedded_direct_put(void *endpoint)
{
	magma_system_direct_put(endpoint);
}

static const struct magma_sim_direct_ops embedded_direct_endpoint = {
	.deliver = embedded_direct_deliver,
	.put = embedded_direct_put,
};

/* The service tells of endpoints; libmagma's registry keeps them until the client takes one. */
static void embedded_direct_publish(void *ctx, uint64_t dev, uint64_t ino,
				    struct magma_system_direct *d)
{
	(void)ctx;
	magma_sim_direct_publish(dev, ino, d, &embedded_direct_endpoint);
}

static void embedded_direct_withdraw(void *ctx, struct magma_system_direct *d)
{
	(void)ctx;
	magma_sim_direct_withdraw(d);
}

static const struct magma_system_direct_ops embedded_direct = {
	.publish = embedded_direct_publish,
	.withdraw = embedded_direct_withdraw,
};

/*
 * The plan MAGMA_SIM_FAULTS names into *@plan_out (NULL when unset or empty). -1 when it cannot
 * be read or applied, after saying why on stderr.
 */
static int embedded_load_plan(struct fault_plan **plan_out)
{
	const char *path = getenv("MAGMA_SIM_FAULTS");
	char error[FAULT_ERROR_MAX];

	*plan_out = NULL;
	if (!path || !*path)
		return 0;
	*plan_out = fault_plan_load_for_device(path, error);
	if (*plan_out)
		return 0;
	/* Not through magma_system_log: a refused plan is never quiet. */
	fprintf(stderr, "magma_system: MAGMA_SIM_FAULTS: %s\n", error);
	return -1;
}

/* magma_system_sim_log_mask - see embedded.h. */
uint32_t magma_system_sim_log_mask(void)
{
	int level = magma_system_log_level();

	if (level >= MAGMA_LOG_DEBUG)
		return SIM_LOG_GUEST_ERROR | SIM_LOG_UNIMP | SIM_LOG_INFO;
	if (level >= MAGMA_LOG_WARNING)
		return SIM_LOG_GUEST_ERROR | SIM_LOG_UNIMP;
	return 0;
}

/* magma_system_embedded_create_limited - see embedded.h. */
struct magma_system_embedded *
magma_system_embedded_create_limited(const struct sim_config *cfg,
				     const struct magma_system_limits *limits)
{
	return magma_system_embedded_create_flags(cfg, limits, 0);
}

/* magma_system_embedded_create_flags - see embedded.h. */
struct magma_system_embedded *
magma_system_embedded_create_flags(const struct sim_config *cfg,
				   const struct magma_system_limits *limits, uint32_t flags)
{
	struct magma_system_embedded *emb = calloc(1, sizeof(*emb));
	struct sim_config config;

	if (!emb)
		return NULL;
	emb->magic = MAGMA_SYSTEM_EMBEDDED_MAGIC;
	if (embedded_load_plan(&emb->plan))
		goto err_free;
	if (cfg)
		config = *cfg;
	else
		sim_config_default(&config);
	config.log_mask |= magma_system_sim_log_mask();
	emb->sim = sim_create(&config);
	if (!emb->sim)
		goto err_plan;
	/* Before the driver's first register access, so the trace sees it. */
	trace_device_created(emb->sim);
	/* The GPU's clock is ours to run, from before the driver's bring-up to after it is gone. */
	if (sim_start(emb->sim))
		goto err_sim;
	/*
	 * By default the embedded device maps buffers at import: client and service share one fd
	 * table, so an fd kept in the driver would be a second one. A caller holding more buffers
	 * than vm.max_map_count allows mappings asks for MAP_BUFFERS_ON_USE instead.
	 */
	emb->dev = magma_system_device_create_limited(emb->sim, limits, flags);
	if (!emb->dev)
		goto err_stop;
	/* Clients in this process hand requests over on their own thread (magma_sim/direct.h). */
	magma_system_device_set_direct(emb->dev, &embedded_direct);
	if (emb->plan) {
		/* Before the first channel: the service reads its hooks without a lock. */
		emb->faults = fault_device_create(emb->plan, "embedded", emb->sim, emb->dev);
		if (!emb->faults)
			goto err_dev;
	}
	return emb;

err_dev:
	magma_system_device_destroy(emb->dev);
err_stop:
	sim_stop(emb->sim);
err_sim:
	trace_device_destroying(emb->sim);
	sim_destroy(emb->sim);
err_plan:
	fault_plan_destroy(emb->plan);
err_free:
	free(emb);
	return NULL;
}

/* magma_system_embedded_create - see embedded.h. */
struct magma_system_embedded *magma_system_embedded_create(const struct sim_config *cfg)
{
	return magma_system_embedded_create_limited(cfg, NULL);
}

/* magma_system_embedded_connect - see embedded.h. */
int magma_system_embedded_connect(struct magma_system_embedded *emb)
{
	int sv[2], ret;

	if (!emb || emb->magic != MAGMA_SYSTEM_EMBEDDED_MAGIC)
		return -EINVAL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	ret = magma_system_device_serve(emb->dev, sv[1]); /* takes sv[1] */
	if (ret) {
		close(sv[0]);
		return ret;
	}
	return sv[0];
}

/* magma_system_embedded_device - see embedded.h. */
struct magma_system_device *magma_system_embedded_device(struct magma_system_embedded *emb)
{
	if (!emb || emb->magic != MAGMA_SYSTEM_EMBEDDED_MAGIC)
		return NULL;
	return emb->dev;
}

/* magma_system_embedded_perf_token - see embedded.h. */
int magma_system_embedded_perf_token(struct magma_system_embedded *emb)
{
	if (!emb || emb->magic != MAGMA_SYSTEM_EMBEDDED_MAGIC)
		return -EINVAL;
	return magma_system_device_perf_token(emb->dev);
}

/* magma_system_embedded_hold - see embedded.h. */
void magma_system_embedded_hold(struct magma_system_embedded *emb, bool hold)
{
	if (!emb || emb->magic != MAGMA_SYSTEM_EMBEDDED_MAGIC)
		return;
	if (!hold)
		msd_sim_device_settle(magma_system_device_msd_device(emb->dev));
	sim_set_hold(emb->sim, hold);
}

static uint64_t embedded_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * magma_system_embedded_quiesce - see embedded.h. The settle comes after the GPU went quiet:
 * it lets the device thread finish an interrupt it had taken but not handled, and what that
 * releases makes the GPU busy again, so the loop goes on until a settle changes nothing.
 */
int magma_system_embedded_quiesce(struct magma_system_embedded *emb, uint64_t timeout_ns)
{
	struct msd_device_t *msd;
	uint64_t deadline;

	if (!emb || emb->magic != MAGMA_SYSTEM_EMBEDDED_MAGIC)
		return -EINVAL;
	msd = magma_system_device_msd_device(emb->dev);
	deadline = embedded_now_ns() + timeout_ns;
	for (;;) {
		if (sim_is_quiescent(emb->sim) && !sim_irq_is_asserted(emb->sim)) {
			/*
			 * Twice: the device thread signals a retired job's semaphores only after
			 * the round that handled its interrupt, so a job held on them is released
			 * in the next round, which the second settle waits for.
			 */
			msd_sim_device_settle(msd);
			msd_sim_device_settle(msd);
			if (sim_is_quiescent(emb->sim) && !sim_irq_is_asserted(emb->sim))
				return 0;
		}
		if (embedded_now_ns() >= deadline)
			return -ETIMEDOUT;
		usleep(50);
	}
}

/* magma_system_embedded_destroy - see embedded.h. */
void magma_system_embedded_destroy(struct magma_system_embedded *emb)
{
	if (!emb || emb->magic != MAGMA_SYSTEM_EMBEDDED_MAGIC)
		return;
	fault_device_stop(emb->faults); /* it may still call the service until stopped */
	magma_system_device_destroy(emb->dev);
	fault_device_destroy(emb->faults); /* the driver's hooks ran until the device went */
	fault_plan_destroy(emb->plan);
	/*
	 * The clock stops only once the driver is gone (msd_sim_hooks.h). The hard reset the
	 * driver left the GPU in then ends on this thread, so a recorded trace ends the same
	 * however far the clock thread got with it.
	 */
	sim_stop(emb->sim);
	sim_clock_run_until_idle(emb->sim, MAGMA_SYSTEM_EMBEDDED_DRAIN_CYCLES, NULL);
	trace_device_destroying(emb->sim);
	sim_destroy(emb->sim);
	emb->magic = 0;
	free(emb);
}

/* The process-wide embedded device (see the file comment). */
static pthread_mutex_t embedded_lock = PTHREAD_MUTEX_INITIALIZER;
static struct magma_system_embedded *embedded_default; /* guarded by embedded_lock */
static pid_t embedded_owner;			       /* guarded by embedded_lock */
static int embedded_atexit_registered;		       /* guarded by embedded_lock */
/* The parent's device after a fork: kept reachable, never used or freed in this process. */
static struct magma_system_embedded *embedded_inherited; /* guarded by embedded_lock */

static void embedded_at_exit(void)
{
	pthread_mutex_lock(&embedded_lock);
	if (embedded_default && embedded_owner == getpid())
		magma_system_embedded_destroy(embedded_default);
	embedded_default = NULL;
	pthread_mutex_unlock(&embedded_lock);
}

/* The process-wide device, created for this process if needed; NULL when that fails. */
static struct magma_system_embedded *embedded_default_get_locked(void)
{
	if (embedded_default && embedded_owner != getpid()) {
		/* Inherited through fork: its threads are not here. */
		embedded_inherited = embedded_default;
		embedded_default = NULL;
	}
	if (!embedded_default) {
		embedded_default = magma_system_embedded_create(NULL);
		embedded_owner = getpid();
		if (embedded_default && !embedded_atexit_registered)
			embedded_atexit_registered = atexit(embedded_at_exit) == 0;
	}
	return embedded_default;
}

/* magma_sim_embedded_open - see embedded.h. */
int magma_sim_embedded_open(void)
{
	struct magma_system_embedded *emb;
	int ret;

	pthread_mutex_lock(&embedded_lock);
	emb = embedded_default_get_locked();
	ret = emb ? magma_system_embedded_connect(emb) : -ENOMEM;
	pthread_mutex_unlock(&embedded_lock);
	return ret;
}

/* magma_sim_embedded_perf_token - see embedded.h. */
int magma_sim_embedded_perf_token(void)
{
	struct magma_system_embedded *emb;
	int ret;

	pthread_mutex_lock(&embedded_lock);
	emb = embedded_default_get_locked();
	ret = emb ? magma_system_embedded_perf_token(emb) : -ENOMEM;
	pthread_mutex_unlock(&embedded_lock);
	return ret;
}
