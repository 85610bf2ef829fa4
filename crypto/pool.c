/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "pool.h"

#include <pthread.h>
#include <unistd.h>

/*
 * Ranges per thread: more than one, so a worker that is late (busy with
 * another caller, or descheduled on a shared machine) leaves its share to
 * the others instead of holding everyone at the join.
 */
#define RANGES_PER_THREAD 4

/* One pool_for call, on its caller's stack; linked while ranges are left. */
struct task {
	pool_fn fn;
	void *ctx;
	size_t n, ranges, next, done;
	int ret;
	pthread_cond_t finished; /* done == ranges */
	struct task *link;
};

/* Everything below is under mu (threads is also read without it); fn runs outside it. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t work; /* a task has ranges left, or the size changed */
	struct task *head;   /* tasks with unclaimed ranges, oldest first */
	int threads;         /* the caller included */
	int started;         /* workers running (parked or not) */
	pthread_t tid[POOL_MAX_THREADS];
} pool = { .mu = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER, .threads = 1 };

static void unlink_task(struct task *t)
{
	struct task **pp = &pool.head;

	while (*pp && *pp != t)
		pp = &(*pp)->link;
	if (*pp)
		*pp = t->link;
}

/* Claims t's next range (under mu); the task leaves the list with its last. */
static size_t claim(struct task *t)
{
	size_t r = t->next++;

	if (t->next == t->ranges)
		unlink_task(t);
	return r;
}

/* Runs range r of t with mu released, then records it (under mu). */
static void run_range(struct task *t, size_t r)
{
	size_t lo = r * t->n / t->ranges, hi = (r + 1) * t->n / t->ranges;
	int ret;

	pthread_mutex_unlock(&pool.mu);
	ret = t->fn(t->ctx, lo, hi);
	pthread_mutex_lock(&pool.mu);
	if (ret && !t->ret)
		t->ret = ret;
	if (++t->done == t->ranges)
		pthread_cond_signal(&t->finished);
}

static void *worker(void *arg)
{
	int id = (int)(size_t)arg;

	pthread_mutex_lock(&pool.mu);
	for (;;) {
		struct task *t;

		/* Worker id is parked while the pool is smaller than id + 2. */
		while (!pool.head || id + 1 >= pool.threads)
			pthread_cond_wait(&pool.work, &pool.mu);
		t = pool.head;
		run_range(t, claim(t));
	}
	return NULL;
}

int pool_set_threads(int n)
{
	int ret = 0;

	if (n < 1 || n > POOL_MAX_THREADS)
		return mpc_fail(MPC_E_RANGE, "threads: %d, between 1 and %d are supported",
				n, POOL_MAX_THREADS);
	pthread_mutex_lock(&pool.mu);
	while (pool.started < n - 1) {
		pthread_attr_t at;
		int err;

		/* Detached: the workers live as long as the process. */
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		err = pthread_create(&pool.tid[pool.started], &at, worker,
				     (void *)(size_t)pool.started);
		pthread_attr_destroy(&at);
		if (err) {
			ret = mpc_fail(MPC_E_INTERNAL, "threads: cannot start worker %d of %d",
				       pool.started + 1, n - 1);
			break;
		}
		pool.started++;
	}
	__atomic_store_n(&pool.threads, pool.started + 1 < n ? pool.started + 1 : n,
			 __ATOMIC_RELAXED);
	pthread_cond_broadcast(&pool.work);
	pthread_mutex_unlock(&pool.mu);
	return ret;
}

/* Read without the lock: kernels ask on every call, from every party. */
int pool_threads(void)
{
	return __atomic_load_n(&pool.threads, __ATOMIC_RELAXED);
}

int pool_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > POOL_MAX_THREADS ? POOL_MAX_THREADS : (int)n;
}

int pool_for(size_t n, size_t min_chunk, pool_fn fn, void *ctx)
{
	struct task t = { .fn = fn, .ctx = ctx, .n = n };
	size_t most;
	int threads;

	if (!min_chunk)
		min_chunk = 1;
	threads = pool_threads();
	if (threads < 2 || n / min_chunk < 2)
		return n ? fn(ctx, 0, n) : 0;
	most = (size_t)threads * RANGES_PER_THREAD;
	t.ranges = n / min_chunk < most ? n / min_chunk : most;
	pthread_cond_init(&t.finished, NULL);
	pthread_mutex_lock(&pool.mu);
	{
		struct task **pp = &pool.head;

		while (*pp)
			pp = &(*pp)->link;
		*pp = &t;
	}
	/* Broadcast: a signal could wake only a parked worker. */
	pthread_cond_broadcast(&pool.work);
	while (t.next < t.ranges)
		run_range(&t, claim(&t));
	while (t.done < t.ranges)
		pthread_cond_wait(&t.finished, &pool.mu);
	pthread_mutex_unlock(&pool.mu);
	pthread_cond_destroy(&t.finished);
	return t.ret;
}

void pool_run(size_t n, size_t min_chunk, pool_fn fn, void *ctx)
{
	if (pool_for(n, min_chunk, fn, ctx) != 0)
		mpc_bug("pool_run: a range failed");
}
