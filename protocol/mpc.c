/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "mpc.h"
#include "ring.h"

#include <malloc.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void mpc_tune_malloc(void)
{
	/*
	 * Layers allocate and free tensors of megabytes each; glibc would map
	 * and unmap every one, paying page faults for each fresh page. Keep
	 * freed memory in the heap for reuse instead.
	 */
	mallopt(M_MMAP_THRESHOLD, 1 << 30);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

int corr_list_add(struct corr_list *l, const struct corr_req *q)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct corr_req *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return mpc_fail(MPC_E_NOMEM, "request list");
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *q;
	return 0;
}

void corr_list_free(struct corr_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

size_t corr_list_fix_words(const struct corr_list *l)
{
	size_t t = 0;

	for (size_t i = 0; i < l->n; i++)
		t += corr_fix_len(&l->v[i]);
	return t;
}

size_t corr_list_mat_words(const struct corr_list *l)
{
	size_t t = 0;

	for (size_t i = 0; i < l->n; i++)
		t += corr_mat_len(&l->v[i]);
	return t;
}

uint64_t *mpc_alloc(size_t n)
{
	uint64_t *p = ring_alloc(n * sizeof(uint64_t));

	if (!p)
		mpc_fail(MPC_E_NOMEM, "%zu words", n);
	else
		memset(p, 0, n * sizeof(uint64_t));
	return p;
}

uint64_t *mpc_alloc_raw(size_t n)
{
	uint64_t *p = ring_alloc(n * sizeof(uint64_t));

	if (!p)
		mpc_fail(MPC_E_NOMEM, "%zu words", n);
	return p;
}

void mpc_free_words(uint64_t *p, size_t n)
{
	if (p) {
		sodium_memzero(p, n * sizeof(*p));
		ring_free(p, n * sizeof(*p));
	}
}

void mpc_free_public(uint64_t *p, size_t n)
{
	ring_free(p, n * sizeof(*p));
}

int mpc_init(struct mpc *m, struct net *net, int frac)
{
	memset(m, 0, sizeof(*m));
	if (net->n_parties < 2 || net->n_parties > MPC_MAX_PARTIES)
		return mpc_fail(MPC_E_ARG, "%d parties: between 2 and %d are supported",
				net->n_parties, MPC_MAX_PARTIES);
	if (frac < 1 || frac > 30)
		return mpc_fail(MPC_E_ARG, "%d fractional bits: between 1 and 30 are supported",
				frac);
	m->n = net->n_parties;
	m->me = net->me;
	m->frac = frac;
	m->net = net;
	prg_init_random(&m->rng);
	return 0;
}

void mpc_free(struct mpc *m)
{
	for (size_t i = 0; i < m->n_mats; i++)
		corr_mat_free(&m->mats[i]);
	free(m->mats);
	sodium_memzero(m, sizeof(*m));
}

int mpc_setup(struct mpc *m)
{
	uint8_t seed[PRG_SEEDBYTES];
	int ret = 0;

	net_set_phase(m->net, NET_PH_SETUP);
	/* The lower index of each pair picks the pair's seed. */
	for (int j = m->me + 1; j < m->n && !ret; j++) {
		prg_seed(&m->rng, seed);
		prg_init(&m->pair[j], seed);
		ret = net_send(m->net, j, seed, sizeof(seed));
	}
	for (int j = 0; j < m->me && !ret; j++) {
		ret = net_recv(m->net, j, seed, sizeof(seed));
		prg_init(&m->pair[j], seed);
	}
	if (!ret)
		ret = net_recv(m->net, m->n, seed, sizeof(seed));
	if (!ret) {
		prg_init(&m->dealer, seed);
		m->net->st[NET_PH_SETUP].rounds++;
	}
	sodium_memzero(seed, sizeof(seed));
	return ret;
}

int dealer_setup(struct net *net, struct prg *party)
{
	uint8_t seed[PRG_SEEDBYTES];
	struct prg rng;
	int ret = 0;

	net_set_phase(net, NET_PH_SETUP);
	prg_init_random(&rng);
	for (int i = 0; i < net->n_parties && !ret; i++) {
		prg_seed(&rng, seed);
		prg_init(&party[i], seed);
		ret = net_send(net, i, seed, sizeof(seed));
	}
	sodium_memzero(seed, sizeof(seed));
	prg_wipe(&rng);
	return ret;
}

/* Corrections travel in messages of at most this many words. */
#define FIX_CHUNK ((size_t)1 << 20)

void dealer_kept_free(struct dealer_kept *k)
{
	for (size_t i = 0; i < k->n; i++)
		mpc_free_words(k->b[i], k->len[i]);
	free(k->b);
	free(k->len);
	memset(k, 0, sizeof(*k));
}

/* A WMASK's B in the clear, kept under its slot. */
static int keep_mask(struct dealer_kept *k, const struct corr_req *q, struct prg *party, int n)
{
	if (q->slot >= k->n) {
		size_t cap = q->slot + 1;
		uint64_t **b = realloc(k->b, cap * sizeof(*b));
		size_t *len;

		if (b)
			k->b = b;
		if (!b || !(len = realloc(k->len, cap * sizeof(*len))))
			return mpc_fail(MPC_E_NOMEM, "dealer: weight masks");
		k->len = len;
		for (size_t i = k->n; i < cap; i++) {
			k->b[i] = NULL;
			k->len[i] = 0;
		}
		k->n = cap;
	}
	if (k->b[q->slot])
		return mpc_fail(MPC_E_INTERNAL, "weight mask %zu made twice", q->slot);
	if (!(k->b[q->slot] = mpc_alloc_raw(q->n ? q->n : 1)))
		return MPC_E_NOMEM;
	k->len[q->slot] = q->n ? q->n : 1;
	return corr_deal_wmask(q, party, n, k->b[q->slot]);
}

static int deal_one(const struct corr_req *q, struct prg *party, int n,
		    struct dealer_kept *k, uint64_t *fix)
{
	if (q->kind == CORR_WMASK)
		return keep_mask(k, q, party, n);
	if (q->kind != CORR_BILIN_KB)
		return corr_deal(q, party, n, fix);
	if (q->slot >= k->n || !k->b[q->slot] ||
	    k->len[q->slot] < bilin_y_len(&q->bl))
		return mpc_fail(MPC_E_INTERNAL, "a triple for weight mask %zu, never made",
				q->slot);
	return corr_deal_kb(q, party, n, k->b[q->slot], fix);
}

int dealer_offline(struct net *net, struct prg *party, const struct corr_list *need)
{
	struct dealer_kept k = { 0 };
	int ret = dealer_offline_kept(net, party, need, &k);

	dealer_kept_free(&k);
	return ret;
}

int dealer_offline_kept(struct net *net, struct prg *party, const struct corr_list *need,
			struct dealer_kept *kept)
{
	uint64_t *fix = NULL;
	size_t cap = 0;
	int ret = 0;

	net_set_phase(net, NET_PH_OFFLINE);
	for (size_t i = 0; i < need->n && !ret; i++) {
		size_t len = corr_fix_len(&need->v[i]);

		if (len > cap) {
			mpc_free_words(fix, cap);
			cap = len;
			if (!(fix = mpc_alloc(cap))) {
				ret = mpc_fail(MPC_E_NOMEM, "dealer: %zu words", cap);
				break;
			}
		}
		if ((ret = deal_one(&need->v[i], party, net->n_parties, kept, fix)) != 0)
			break;
		for (size_t off = 0; off < len && !ret; off += FIX_CHUNK) {
			size_t k = len - off < FIX_CHUNK ? len - off : FIX_CHUNK;

			ret = net_send(net, net->n_parties - 1, fix + off, k * sizeof(*fix));
		}
	}
	if (!ret)
		net->st[NET_PH_OFFLINE].rounds++;
	mpc_free_words(fix, cap);
	return ret;
}

int mpc_offline(struct mpc *m, const struct corr_list *need)
{
	int last = m->me == m->n - 1, ret = 0;
	size_t held = 0;

	net_set_phase(m->net, NET_PH_OFFLINE);
	/* A later stage: the last one's material is used up (freed as taken). */
	for (size_t i = 0; i < m->n_mats; i++) {
		held += m->mats[i].len;
		corr_mat_free(&m->mats[i]);
	}
	free(m->mats);
	m->n_mats = m->next = 0;
	held += corr_list_mat_words(need);
	if (held > m->mat_peak)
		m->mat_peak = held;
	m->mats = calloc(need->n ? need->n : 1, sizeof(*m->mats));
	if (!m->mats)
		return mpc_fail(MPC_E_NOMEM, "offline: %zu requests", need->n);
	for (size_t i = 0; i < need->n && !ret; i++) {
		struct corr_mat *mt = &m->mats[i];

		if ((ret = corr_mat_alloc(mt, &need->v[i])) != 0)
			break;
		m->n_mats = i + 1;
		corr_expand(mt, &m->dealer, last);
		if (last) {
			/* The correction lands directly in the output part. */
			size_t len = corr_fix_len(&mt->req);
			uint64_t *dst = corr_fix_part(mt);

			for (size_t off = 0; off < len && !ret; off += FIX_CHUNK) {
				size_t k = len - off < FIX_CHUNK ? len - off : FIX_CHUNK;

				ret = net_recv(m->net, m->n, dst + off, k * sizeof(*dst));
			}
		}
	}
	if (!ret && last)
		m->net->st[NET_PH_OFFLINE].rounds++;
	/*
	 * Everyone holds its material before anyone starts the online phase:
	 * party n-1 expands last (after the dealer's corrections), and the
	 * others would otherwise charge that wait to their online clocks.
	 */
	if (!ret && m->n > 1) {
		uint8_t mine = 1, theirs[MPC_MAX_PARTIES];

		ret = net_exchange(m->net, &mine, theirs, 1);
	}
	return ret;
}

struct corr_mat *mpc_take(struct mpc *m, const struct corr_req *want)
{
	struct corr_mat *mt;

	if (m->next >= m->n_mats)
		mpc_bug("correlated randomness exhausted: need() and the protocol disagree");
	mt = &m->mats[m->next++];
	if (!corr_req_same(&mt->req, want))
		mpc_bug("correlated randomness of the wrong kind or shape: need() and the protocol disagree");
	return mt;
}

void mpc_release(struct corr_mat *mat)
{
	corr_mat_free(mat);
}

int mpc_share_input(struct mpc *m, int owner, const uint64_t *x, size_t n,
		    uint64_t *share)
{
	uint64_t *tmp = NULL;

	if (m->me != owner) {
		/* One PRG call of n words: the owner draws exactly the same. */
		prg_u64(&m->pair[owner], share, n);
		return 0;
	}
	/* x less every other party's stream; the first one drawn into share itself. */
	if (m->n > 2 && !(tmp = mpc_alloc_raw(n)))
		return MPC_E_NOMEM;
	for (int j = 0, first = 1; j < m->n; j++) {
		if (j == owner)
			continue;
		if (first) {
			prg_u64(&m->pair[j], share, n);
			ring_sub(share, x, share, n);
			first = 0;
		} else {
			prg_u64(&m->pair[j], tmp, n);
			ring_sub(share, share, tmp, n);
		}
	}
	mpc_free_words(tmp, n);
	return 0;
}

#define OPEN_STACK_ITEMS 8

/*
 * Every item goes out from where it is as its own message (one round for
 * all), each peer's copy lands in its slot of `all`, and out = share +
 * the others' in one pass: no packing, no copy of the share.
 */
int mpc_open_items(struct mpc *m, struct mpc_open_item *it, int k)
{
	const void *mine_s[OPEN_STACK_ITEMS], **mine = mine_s;
	void *theirs_s[OPEN_STACK_ITEMS], **theirs = theirs_s;
	size_t len_s[OPEN_STACK_ITEMS], *len = len_s, total = 0, off = 0;
	uint64_t *all = NULL;
	int ret;

	/* The weights phase opens one item per linear layer. */
	if (k > OPEN_STACK_ITEMS &&
	    (!(mine = malloc((size_t)k * sizeof(*mine))) ||
	     !(theirs = malloc((size_t)k * sizeof(*theirs))) ||
	     !(len = malloc((size_t)k * sizeof(*len))))) {
		ret = mpc_fail(MPC_E_NOMEM, "open: %d items", k);
		goto out;
	}
	for (int i = 0; i < k; i++)
		total += it[i].n;
	if (!(all = ring_alloc(total * sizeof(*all) * (size_t)m->n))) {
		ret = mpc_fail(MPC_E_NOMEM, "open: %zu words", total);
		goto out;
	}
	for (int i = 0; i < k; i++) {
		mine[i] = it[i].share;
		theirs[i] = all + off * (size_t)m->n;
		len[i] = it[i].n * sizeof(*all);
		off += it[i].n;
	}
	if ((ret = net_exchange_v(m->net, k, mine, theirs, len)) != 0)
		goto out;
	for (int i = 0; i < k; i++) {
		const uint64_t *src = it[i].share;

		for (int p = 0; p < m->n; p++) {
			const uint64_t *t = (const uint64_t *)theirs[i] + (size_t)p * it[i].n;

			if (p == m->me)
				continue;
			if (it[i].xor)
				ring_xor(it[i].out, src, t, it[i].n);
			else
				ring_add(it[i].out, src, t, it[i].n);
			src = it[i].out;
		}
	}
out:
	ring_free(all, total * sizeof(*all) * (size_t)m->n);
	if (mine != mine_s)
		free(mine);
	if (theirs != theirs_s)
		free(theirs);
	if (len != len_s)
		free(len);
	return ret;
}

int mpc_open(struct mpc *m, const uint64_t *x, size_t n, uint64_t *out)
{
	struct mpc_open_item it = { .share = x, .out = out, .n = n, .xor = 0 };

	return mpc_open_items(m, &it, 1);
}

void mpc_add_public(struct mpc *m, uint64_t *x, const uint64_t *c, size_t n)
{
	if (m->me == 0)
		for (size_t i = 0; i < n; i++)
			x[i] += c[i];
}

void mpc_add_public_const(struct mpc *m, uint64_t *x, uint64_t c, size_t n)
{
	if (m->me == 0)
		for (size_t i = 0; i < n; i++)
			x[i] += c;
}
