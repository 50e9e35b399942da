/* SPDX-License-Identifier: MIT */
/*
 * sim_mutex.h - pthread mutex wrapped as a capability so clang -Wthread-safety can check the
 * SIM_REQUIRES() contracts on *_locked functions. Fields cannot name a sibling lock in C (clang
 * rejects GUARDED_BY(lock) there), so struct comments say "guarded by lock" and _locked
 * functions call sim_mutex_assert_held() in debug builds.
 */
#ifndef SIM_MUTEX_H
#define SIM_MUTEX_H

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>

#if defined(__clang__)
#define SIM_CAPABILITY(x)	      __attribute__((capability(x)))
#define SIM_REQUIRES(...)	      __attribute__((requires_capability(__VA_ARGS__)))
#define SIM_ACQUIRE(...)	      __attribute__((acquire_capability(__VA_ARGS__)))
#define SIM_RELEASE(...)	      __attribute__((release_capability(__VA_ARGS__)))
#define SIM_NO_THREAD_SAFETY_ANALYSIS __attribute__((no_thread_safety_analysis))
#else
#define SIM_CAPABILITY(x)
#define SIM_REQUIRES(...)
#define SIM_ACQUIRE(...)
#define SIM_RELEASE(...)
#define SIM_NO_THREAD_SAFETY_ANALYSIS
#endif

struct SIM_CAPABILITY("mutex") sim_mutex {
	pthread_mutex_t m;
	pthread_t owner; /* valid while held; debug aid for sim_mutex_assert_held */
	bool held;
};

static inline void sim_mutex_init(struct sim_mutex *mu)
{
	pthread_mutex_init(&mu->m, NULL);
	mu->held = false;
}

static inline void sim_mutex_fini(struct sim_mutex *mu)
{
	pthread_mutex_destroy(&mu->m);
}

static inline void sim_mutex_lock(struct sim_mutex *mu)
	SIM_ACQUIRE(mu) SIM_NO_THREAD_SAFETY_ANALYSIS
{
	pthread_mutex_lock(&mu->m);
	mu->owner = pthread_self();
	mu->held = true;
}

static inline void sim_mutex_unlock(struct sim_mutex *mu)
	SIM_RELEASE(mu) SIM_NO_THREAD_SAFETY_ANALYSIS
{
	mu->held = false;
	pthread_mutex_unlock(&mu->m);
}

/* Only meaningful in the thread that should hold @mu; compiled out with NDEBUG. */
static inline void sim_mutex_assert_held(struct sim_mutex *mu)
{
	assert(mu->held && pthread_equal(mu->owner, pthread_self()));
	(void)mu;
}

#endif /* SIM_MUTEX_H */
