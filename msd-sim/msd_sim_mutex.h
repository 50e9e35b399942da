/* SPDX-License-Identifier: MIT */
/*
 * msd_sim_mutex.h - the driver's pthread mutex wrapped as a capability, so clang -Wthread-safety
 * checks the MSD_SIM_REQUIRES() contracts of the *_locked functions (the same pattern as the
 * sim's own lock; msd-sim does not include sim internals, hence its own copy). Fields cannot name
 * a sibling lock in C, so structs say "guarded by lock" and _locked functions call
 * msd_sim_mutex_assert_held() (debug builds). Condition waits go through msd_sim_mutex_cond_wait
 * so the ownership record stays right.
 */
#ifndef MSD_SIM_MUTEX_H
#define MSD_SIM_MUTEX_H

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>

#if defined(__clang__)
#define MSD_SIM_CAPABILITY(x)		  __attribute__((capability(x)))
#define MSD_SIM_REQUIRES(...)		  __attribute__((requires_capability(__VA_ARGS__)))
#define MSD_SIM_ACQUIRE(...)		  __attribute__((acquire_capability(__VA_ARGS__)))
#define MSD_SIM_RELEASE(...)		  __attribute__((release_capability(__VA_ARGS__)))
#define MSD_SIM_ASSERT_CAPABILITY(x)	  __attribute__((assert_capability(x)))
#define MSD_SIM_NO_THREAD_SAFETY_ANALYSIS __attribute__((no_thread_safety_analysis))
#else
#define MSD_SIM_ASSERT_CAPABILITY(x)
#define MSD_SIM_CAPABILITY(x)
#define MSD_SIM_REQUIRES(...)
#define MSD_SIM_ACQUIRE(...)
#define MSD_SIM_RELEASE(...)
#define MSD_SIM_NO_THREAD_SAFETY_ANALYSIS
#endif

struct MSD_SIM_CAPABILITY("mutex") msd_sim_mutex {
	pthread_mutex_t m;
	pthread_t owner; /* valid while held; for msd_sim_mutex_assert_held */
	bool held;
};

static inline void msd_sim_mutex_init(struct msd_sim_mutex *mu)
{
	pthread_mutex_init(&mu->m, NULL);
	mu->held = false;
}

static inline void msd_sim_mutex_fini(struct msd_sim_mutex *mu)
{
	pthread_mutex_destroy(&mu->m);
}

static inline void msd_sim_mutex_lock(struct msd_sim_mutex *mu)
	MSD_SIM_ACQUIRE(mu) MSD_SIM_NO_THREAD_SAFETY_ANALYSIS
{
	pthread_mutex_lock(&mu->m);
	mu->owner = pthread_self();
	mu->held = true;
}

static inline void msd_sim_mutex_unlock(struct msd_sim_mutex *mu)
	MSD_SIM_RELEASE(mu) MSD_SIM_NO_THREAD_SAFETY_ANALYSIS
{
	mu->held = false;
	pthread_mutex_unlock(&mu->m);
}

/* Wait on @cond, dropping @mu meanwhile; held again on return. */
static inline void msd_sim_mutex_cond_wait(pthread_cond_t *cond, struct msd_sim_mutex *mu)
	MSD_SIM_REQUIRES(mu) MSD_SIM_NO_THREAD_SAFETY_ANALYSIS
{
	mu->held = false;
	pthread_cond_wait(cond, &mu->m);
	mu->owner = pthread_self();
	mu->held = true;
}

/*
 * Only meaningful in the thread that should hold @mu; the check is compiled out with NDEBUG. Also
 * tells the analysis @mu is held, where it cannot see that two lock expressions alias
 * (conn->dev->lock and dev->lock).
 */
static inline void msd_sim_mutex_assert_held(struct msd_sim_mutex *mu)
	MSD_SIM_ASSERT_CAPABILITY(mu) MSD_SIM_NO_THREAD_SAFETY_ANALYSIS
{
	assert(mu->held && pthread_equal(mu->owner, pthread_self()));
	(void)mu;
}

#endif /* MSD_SIM_MUTEX_H */
