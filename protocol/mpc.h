/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_MPC_H
#define MPC_MPC_H

#include <stddef.h>
#include <stdint.h>

#include "corr.h"
#include "err.h"
#include "net.h"
#include "prg.h"

/*
 * One party's state for one job: its network view, its PRGs (private,
 * pairwise, dealer-seeded) and the queue of correlated randomness made in
 * the offline phase. Every protocol function takes a struct mpc and works
 * on whole tensors of additive shares in Z_2^64.
 *
 * A job runs: mpc_setup() (seeds), mpc_offline() with the request list the
 * plan needs (protocol functions have *_need() siblings that append what
 * they will take, in the same order), then the online protocols, which
 * pop material with mpc_take(). A mismatch between need and take is a
 * programming error (mpc_bug), never a silent desync.
 */
#define MPC_MAX_PARTIES 16

struct corr_list {
	struct corr_req *v;
	size_t n, cap;
};

int corr_list_add(struct corr_list *l, const struct corr_req *q) MPC_MUST_CHECK;
void corr_list_free(struct corr_list *l);
/* Total words the dealer sends (to party n-1) and each party stores. */
size_t corr_list_fix_words(const struct corr_list *l);
size_t corr_list_mat_words(const struct corr_list *l);

struct mpc {
	int n;    /* compute parties */
	int me;
	int frac; /* fractional bits of the fixed-point encoding */
	struct net *net;
	struct prg rng;                    /* private randomness */
	struct prg pair[MPC_MAX_PARTIES];  /* pair[j]: shared with party j */
	struct prg dealer;                 /* seeded by the dealer */
	struct corr_mat *mats;             /* offline material, in need order */
	size_t n_mats, next;
	/* words of material held at once, at most (over mpc_offline calls) */
	size_t mat_peak;
	/* optional: called by eval_run after each layer (progress display) */
	void (*on_layer)(void *arg, size_t done, size_t total);
	void *on_layer_arg;
};

/* n = net->n_parties; the dealer is endpoint n. */
int mpc_init(struct mpc *m, struct net *net, int frac) MPC_MUST_CHECK;
void mpc_free(struct mpc *m);

/* Pairwise seeds among the parties and the dealer's seed (phase setup). */
int mpc_setup(struct mpc *m) MPC_MUST_CHECK;
/*
 * Expand all material; party n-1 receives the corrections (phase offline).
 * May be called again (a job run in chunks: once per stage): the previous
 * list's material must all have been taken; what is left is wiped.
 */
int mpc_offline(struct mpc *m, const struct corr_list *need) MPC_MUST_CHECK;
/*
 * The next material; must be of request *want (mpc_bug otherwise). The
 * returned mat stays owned by m; release it with mpc_release() when done.
 */
struct corr_mat *mpc_take(struct mpc *m, const struct corr_req *want);
void mpc_release(struct corr_mat *mat);

/* Dealer endpoint: send seeds (setup), then every correction (offline). */
int dealer_setup(struct net *net, struct prg *party) MPC_MUST_CHECK;
int dealer_offline(struct net *net, struct prg *party, const struct corr_list *need) MPC_MUST_CHECK;
/*
 * The weight masks (corr.h, WMASK) the dealer keeps in the clear for a
 * whole job, by slot, to correct every chunk's BILIN_KB. dealer_offline
 * keeps them for one list; a job in chunks passes the same store to every
 * stage's dealer_offline_kept and frees (wipes) it at the end.
 */
struct dealer_kept {
	uint64_t **b;
	size_t *len;
	size_t n;
};
int dealer_offline_kept(struct net *net, struct prg *party, const struct corr_list *need,
			struct dealer_kept *kept) MPC_MUST_CHECK;
void dealer_kept_free(struct dealer_kept *k);

/*
 * Secret-share x (n elements, only read on party `owner`) with no
 * communication: party j != owner expands its share from the PRG it shares
 * with the owner; the owner's share is x minus all of those.
 */
int mpc_share_input(struct mpc *m, int owner, const uint64_t *x, size_t n,
		    uint64_t *share) MPC_MUST_CHECK;

/* Opening several vectors in one round: additive (ring) or XOR shares. */
struct mpc_open_item {
	const uint64_t *share;
	uint64_t *out; /* may equal share */
	size_t n;      /* words */
	int xor;
};
int mpc_open_items(struct mpc *m, struct mpc_open_item *it, int k) MPC_MUST_CHECK;
int mpc_open(struct mpc *m, const uint64_t *x, size_t n, uint64_t *out) MPC_MUST_CHECK;

/* Adds a public value into a sharing: only party 0 changes its share. */
void mpc_add_public(struct mpc *m, uint64_t *x, const uint64_t *c, size_t n);
void mpc_add_public_const(struct mpc *m, uint64_t *x, uint64_t c, size_t n);

/* Process-wide allocator settings for tensor-sized buffers; call once from main. */
void mpc_tune_malloc(void);

/* Zero-initialised array of n words (NULL with the thread message set). */
uint64_t *mpc_alloc(size_t n);
/* The same, not zeroed: for buffers written in full before any read. */
uint64_t *mpc_alloc_raw(size_t n);
/* Wipe then free. */
void mpc_free_words(uint64_t *p, size_t n);
/* Free without wiping: only for buffers that held nothing but opened (public) values. */
void mpc_free_public(uint64_t *p, size_t n);

#endif
