/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_POOL_H
#define MPC_POOL_H

#include <stddef.h>

#include "err.h"

/*
 * A process-wide fork-join pool for local arithmetic ([Node] Threads).
 * pool_for() splits [0, n) into contiguous ranges and runs fn on them: the
 * caller takes ranges itself while idle workers take the others, then it
 * waits for those. Any thread may call it, at the same time as others
 * (every party of an in-process simulation, every job of a daemon) and
 * from inside fn: workers busy with another caller's ranges simply leave
 * more for the caller, so at most callers + Threads - 1 threads are ever
 * busy. Work below two min_chunk items runs inline, without a hand-off.
 *
 * Results must not depend on the split: callers only parallelise loops
 * whose items are independent (Z_2^64 sums are exact in any order).
 */
#define POOL_MAX_THREADS 256

/*
 * One range [lo, hi); a nonzero status is returned by pool_for. A range
 * may run on another thread: a message it sets with mpc_fail() stays
 * there, so ranges that can fail return a code the caller explains.
 */
typedef int (*pool_fn)(void *ctx, size_t lo, size_t hi);

/*
 * Threads doing local arithmetic, the caller included (1: no workers;
 * the default until set). Workers are started on demand and kept; a
 * smaller count parks the extra ones. Safe at any time.
 */
int pool_set_threads(int n) MPC_MUST_CHECK;
int pool_threads(void);
/* The machine's online cores (the default of [Node] Threads), 1..256. */
int pool_cores(void);

/*
 * Runs fn over [0, n) in ranges of at least min_chunk items (the last
 * may be shorter), and returns the first nonzero status of any range
 * (every range runs regardless), else 0.
 */
int pool_for(size_t n, size_t min_chunk, pool_fn fn, void *ctx) MPC_MUST_CHECK;

/* The same for ranges that cannot fail (a nonzero status is a bug). */
void pool_run(size_t n, size_t min_chunk, pool_fn fn, void *ctx);

/* Items per range so that one range is about `work` units of `per_item`. */
static inline size_t pool_grain(size_t work, size_t per_item)
{
	return per_item ? (work + per_item - 1) / per_item : work;
}

/*
 * Work units (word operations, about a nanosecond each) below which a
 * hand-off to a worker costs more than it saves (a wake-up is tens of
 * microseconds on a loaded machine).
 */
#define POOL_MIN_WORK ((size_t)1 << 17)

#endif
