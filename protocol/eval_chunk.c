/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * A job in chunks of rows (eval.h): the plan (the chunks' models, their
 * request lists, the memory they take), a party's loop and the dealer's.
 * The weights phase runs once, on the first chunk's model (a weight's
 * shape does not depend on the batch); every chunk then walks a model
 * inferred for its own rows, so its material, openings and buffers are
 * the chunk's size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval-int.h"
#include "eval_tf.h"

/* Never freed with model_free: values and nodes are copies, the rest is md's. */
static void cm_free(struct model *cm)
{
	if (!cm)
		return;
	model_fold_free(cm);
	free(cm->values);
	free(cm->nodes);
	free(cm);
}

/* md with every data input's axis 0 set to rows, shapes inferred again. */
static int cm_make(const struct model *md, size_t rows, struct model **out)
{
	struct model *cm = calloc(1, sizeof(*cm));
	int64_t(*dims)[FT_MAX_DIMS] = calloc(md->n_inputs + 1, sizeof(*dims));
	int *nd = calloc(md->n_inputs + 1, sizeof(*nd)), ret = MPC_E_NOMEM;

	*out = NULL;
	if (!cm || !dims || !nd)
		goto fail;
	*cm = *md;
	cm->fold = NULL; /* its own: a chunk's Shape gives the chunk's rows */
	cm->values = malloc((md->n_values + 1) * sizeof(*cm->values));
	cm->nodes = malloc((md->n_nodes + 1) * sizeof(*cm->nodes));
	if (!cm->values || !cm->nodes)
		goto fail;
	memcpy(cm->values, md->values, md->n_values * sizeof(*cm->values));
	memcpy(cm->nodes, md->nodes, md->n_nodes * sizeof(*cm->nodes));
	/*
	 * A declared batch (kept in init.dims while init.data is NULL) held
	 * for the job's rows, checked when md was inferred; a chunk is some
	 * of them.
	 */
	for (size_t i = 0; i < cm->n_values; i++) {
		struct model_value *v = &cm->values[i];

		if ((v->is_data_input || v->is_output) && !v->init.data && v->init.ndim >= 1)
			v->init.dims[0] = -1;
	}
	for (size_t i = 0; i < md->n_inputs; i++) {
		const struct model_value *v = &md->values[md->inputs[i]];

		nd[i] = v->ndim;
		memcpy(dims[i], v->dims, sizeof(dims[i]));
		dims[i][0] = (int64_t)rows;
	}
	if ((ret = model_infer(cm, (const int64_t(*)[FT_MAX_DIMS])dims, nd)) != 0)
		goto fail;
	free(dims);
	free(nd);
	*out = cm;
	return 0;
fail:
	if (ret == MPC_E_NOMEM)
		mpc_fail(ret, "a chunk's model");
	free(dims);
	free(nd);
	cm_free(cm);
	return ret;
}

/* The batch: axis 0 of every data input, the same for all. */
static int batch_rows(const struct model *md, size_t *rows)
{
	*rows = 0;
	if (!md->n_inputs)
		return mpc_fail(MPC_E_ARG, "the model has no data input");
	for (size_t i = 0; i < md->n_inputs; i++) {
		const struct model_value *v = &md->values[md->inputs[i]];

		if (v->ndim >= 1 && v->dims[0] < 1)
			return mpc_fail(MPC_E_SHAPE, "graph input '%s' has no rows: an empty first axis "
					"is not supported", v->name);
		if (v->ndim < 1 || (i && (size_t)v->dims[0] != *rows))
			return mpc_fail(MPC_E_SHAPE, "input '%s': the data inputs do not share "
					"their first axis (the rows)", v->name);
		*rows = (size_t)v->dims[0];
	}
	return 0;
}

static int refuse(const struct model_node *nd, const char *why)
{
	return mpc_fail(MPC_E_UNSUPPORTED, "node '%s' (%s) %s: the rows cannot run in chunks",
			nd->name, model_op_name(nd->op), why);
}

/* A product of two secrets whose batch axis 0 is the rows in both operands (attention). */
static int rows_in_batch(const struct model *md, const struct model_node *nd)
{
	const struct model_value *a = &md->values[nd->in[0]], *b = &md->values[nd->in[1]];

	return a->ndim >= 3 && a->ndim == b->ndim && a->dims[0] == b->dims[0];
}

/* A data movement that reorders, picks or repeats along axis 0 (md inferred). */
static int moves_rows(const struct model *md, const struct model_node *nd)
{
	const struct model_value *x = &md->values[nd->in[0]], *y = &md->values[nd->out];

	switch (nd->op) {
	case MOP_TRANSPOSE:
		return nd->perm_n < 0 ? x->ndim > 1 : nd->perm[0] != 0;
	case MOP_GATHER:
		return nd->axis == 0;
	case MOP_SLICE:
		return nd->sl_start[0] != 0 || nd->sl_step[0] != 1 || y->dims[0] != x->dims[0];
	default:
		return 0;
	}
}

/*
 * Rows stay independent: no op reads across rows (checked on md alone,
 * cm NULL, before the chunk's shapes are inferred), every value computed
 * from the data has the rows on axis 0 (rows in md, cr in cm) and the
 * rest of its shape unchanged, and every other value is unchanged.
 */
static int check_rows(const struct model *md, const struct model *cm, size_t rows, size_t cr)
{
	uint8_t *dep = calloc(md->n_values + 1, 1);
	int ret = 0;

	if (!dep)
		return mpc_fail(MPC_E_NOMEM, "chunk check");
	for (size_t i = 0; i < md->n_inputs; i++)
		dep[md->inputs[i]] = 1;
	for (size_t k = 0; k < md->n_nodes && !ret; k++) {
		const struct model_node *nd = &md->nodes[k];
		int d0 = nd->in[0] >= 0 && dep[nd->in[0]];
		int d1 = nd->n_in > 1 && nd->in[1] >= 0 && dep[nd->in[1]];

		if (nd->folded)
			continue; /* public: shapes, not rows */
		for (int j = 0; j < nd->n_in; j++)
			if (nd->in[j] >= 0 && dep[nd->in[j]])
				dep[nd->out] = 1;
		if ((nd->op == MOP_SOFTMAX || nd->op == MOP_LOGSOFTMAX) && d0 && nd->axis == 0)
			ret = refuse(nd, "is a softmax over the rows");
		else if (nd->op == MOP_GEMM && ((d0 && nd->trans_a) || d1))
			ret = refuse(nd, "multiplies across the rows");
		else if (nd->op == MOP_MATMUL && d1 && !rows_in_batch(md, nd))
			ret = refuse(nd, "multiplies across the rows");
		else if (nd->op == MOP_LAYERNORM && d0 && nd->axis == 0)
			ret = refuse(nd, "normalises across the rows");
		else if ((nd->op == MOP_CONCAT || nd->op == MOP_FLATTEN) && d0 &&
			 nd->axis == 0)
			ret = refuse(nd, "works on axis 0");
		else if (d0 && moves_rows(md, nd))
			ret = refuse(nd, "moves data across the rows");
	}
	if (!cm)
		goto out;
	for (size_t i = 0; i < md->n_values && !ret; i++) {
		const struct model_value *a = &md->values[i], *b = &cm->values[i];
		int same = a->ndim == b->ndim;

		for (int d = dep[i] ? 1 : 0; same && d < a->ndim; d++)
			same = a->dims[d] == b->dims[d];
		if (dep[i] && same)
			same = a->ndim >= 1 && (size_t)a->dims[0] == rows && (size_t)b->dims[0] == cr;
		if (!same)
			ret = mpc_fail(MPC_E_UNSUPPORTED, "value '%s' does not keep the rows on its "
				       "first axis: the rows cannot run in chunks", a->name);
	}
	for (size_t i = 0; i < md->n_outputs && !ret; i++)
		if (!dep[md->outputs[i]])
			ret = mpc_fail(MPC_E_UNSUPPORTED, "output '%s' does not depend on the data",
				       md->values[md->outputs[i]].name);
out:
	free(dep);
	return ret;
}

int eval_model_rows(const struct model *md, size_t rows, struct model **out)
{
	size_t all;
	int ret;

	*out = NULL;
	if ((ret = batch_rows(md, &all)) != 0)
		return ret;
	if (rows >= all)
		return cm_make(md, all, out);
	if ((ret = check_rows(md, NULL, all, rows)) != 0)
		return ret;
	if ((ret = cm_make(md, rows, out)) != 0)
		return mpc_fail_ctx(ret, "the rows cannot run in chunks of %zu", rows);
	if ((ret = check_rows(md, *out, all, rows)) != 0) {
		cm_free(*out);
		*out = NULL;
	}
	return ret;
}

void eval_model_rows_free(struct model *cm)
{
	cm_free(cm);
}

/* The weights phase's requests and one chunk's, walked on cm. */
static int lists(const struct model *cm, int frac, struct corr_list *w, struct corr_list *cl)
{
	struct ectx c = { .md = cm, .frac = frac, .l = w };
	int ret;

	if (!(c.pre = ev__pre_new(cm)))
		return MPC_E_NOMEM;
	if ((ret = ev__walk_init(&c)) == 0 && (ret = ev__weights(&c)) == 0) {
		ev__walk_free(&c);
		c.l = cl;
		if ((ret = ev__walk_init(&c)) == 0)
			ret = ev__chunk(&c, NULL, NULL, NULL);
	}
	ev__walk_free(&c);
	ev__pre_free(cm, c.pre);
	return ret;
}

/*
 * What one chunk takes, in words: the material, and an estimate of the
 * buffers: every value computed (an upper bound, many are freed early),
 * an opening's copies from every party plus the comparison's planes on
 * the largest value, and the largest im2col scratch.
 */
static void words_of(const struct model *cm, int n_parties, const struct corr_list *w,
		     const struct corr_list *cl, size_t *party, size_t *dealer)
{
	size_t vals = 0, big = 0, scratch = 0, deal = 0;

	for (size_t i = 0; i < cm->n_values; i++) {
		const struct model_value *v = &cm->values[i];
		size_t n = 1;

		if (v->init.data || v->shape_only)
			continue;
		for (int d = 0; d < v->ndim; d++)
			n *= (size_t)v->dims[d];
		if (ev__onehot_width(cm, (int)i))
			n *= ev__onehot_width(cm, (int)i); /* secret indices: one-hot rows */
		vals += n;
		big = n > big ? n : big;
	}
	for (size_t i = 0; i < cl->n; i++) {
		const struct corr_req *q = &cl->v[i];
		size_t s = 0, d;

		if (q->kind == CORR_BILIN || q->kind == CORR_BILIN_KB)
			s = bilin_scratch_len(&q->bl);
		scratch = s > scratch ? s : scratch;
		/* corr_deal: the sum, one party's expansion, the truth, the scratch */
		d = 2 * corr_mat_len(q) + corr_fix_len(q) + s;
		deal = d > deal ? d : deal;
	}
	/* The weights: B, then F and B + F kept for the job. */
	*party = 2 * corr_list_mat_words(w) + corr_list_mat_words(cl) + vals +
		 ((size_t)n_parties + 8) * big + scratch;
	/* The kept B, one request at a time, and the corrections in flight. */
	*dealer = corr_list_mat_words(w) + deal + corr_list_fix_words(cl);
	/*
	 * Each thread's heap keeps its own high-water mark, and buffers come
	 * and go in an order no sum captures: measured on LeNet (2 parties
	 * and the dealer in one process), peak RSS per row of a chunk was up
	 * to 1.2 times this sum. A quarter more keeps the budget a bound.
	 */
	*party += *party / 4;
	*dealer += *dealer / 4;
}

int eval_chunk_mem(const struct model *md, int frac, int n_parties, size_t rows,
		   size_t *party_bytes, size_t *dealer_bytes)
{
	struct corr_list w = { 0 }, cl = { 0 };
	struct model *cm = NULL;
	size_t pw, dw;
	int ret;

	if ((ret = cm_make(md, rows, &cm)) != 0 || (ret = lists(cm, frac, &w, &cl)) != 0)
		goto out;
	words_of(cm, n_parties, &w, &cl, &pw, &dw);
	*party_bytes = pw * 8;
	*dealer_bytes = dw * 8;
out:
	corr_list_free(&w);
	corr_list_free(&cl);
	cm_free(cm);
	return ret;
}

static int total_of(const struct model *md, int frac, int n_parties, int ph, int dh,
		    size_t rows, size_t *total)
{
	size_t pb, db;
	int ret = eval_chunk_mem(md, frac, n_parties, rows, &pb, &db);

	*total = (size_t)ph * pb + (size_t)dh * db;
	return ret;
}

/*
 * A chunk of one row keeps the rows on axis 0 of every data value: shapes
 * checked, not only ops (an Unsqueeze, Expand or Reshape may move them).
 */
static int rows_split(const struct model *md, size_t rows)
{
	struct model *cm = NULL;
	int ok;

	if (rows <= 1)
		return 1;
	ok = cm_make(md, 1, &cm) == 0 && check_rows(md, cm, rows, 1) == 0;
	cm_free(cm);
	return ok;
}

int eval_plan_pick(const struct model *md, int frac, int n_parties, int parties_here,
		   int dealer_here, size_t budget, size_t held, size_t *chunk_rows)
{
	size_t rows, lo, hi, t, all = budget;
	char also[96] = "";
	int ret;

	*chunk_rows = 0;
	if (held)
		snprintf(also, sizeof(also), ", of which this process holds %zu MiB already",
			 (held + (1 << 20) - 1) >> 20);
	budget = held < budget ? budget - held : 0;
	if ((ret = batch_rows(md, &rows)) != 0)
		return ret;
	if (check_rows(md, NULL, rows, 0) != 0 || !rows_split(md, rows)) {
		/* Rows that cannot be split: all of them in one chunk, if it fits. */
		if ((ret = total_of(md, frac, n_parties, parties_here, dealer_here, rows, &t)) != 0)
			return ret;
		if (t > budget)
			return mpc_fail(MPC_E_TOOBIG, "the job needs %zu MiB of correlated randomness "
					"and buffers in one chunk, the budget is %zu MiB%s",
					(t + (1 << 20) - 1) >> 20, all >> 20, also);
		*chunk_rows = rows;
		return 0;
	}
	if ((ret = total_of(md, frac, n_parties, parties_here, dealer_here, 1, &t)) != 0)
		return ret;
	if (t > budget)
		return mpc_fail(MPC_E_TOOBIG, "one row needs %zu MiB of correlated randomness and "
				"buffers, the budget is %zu MiB%s", (t + (1 << 20) - 1) >> 20,
				all >> 20, also);
	/* Double while it fits, then halve the gap: the largest chunk that fits. */
	for (lo = 1, hi = 2; lo < rows; lo = hi, hi *= 2) {
		if (hi > rows)
			hi = rows;
		if ((ret = total_of(md, frac, n_parties, parties_here, dealer_here, hi, &t)) != 0)
			return ret;
		if (t > budget)
			break;
	}
	while (lo < rows && hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if ((ret = total_of(md, frac, n_parties, parties_here, dealer_here, mid, &t)) != 0)
			return ret;
		if (t > budget)
			hi = mid;
		else
			lo = mid;
	}
	*chunk_rows = lo;
	return 0;
}

void eval_plan_free(struct eval_plan *p)
{
	cm_free(p->cm[0]);
	cm_free(p->cm[1]);
	corr_list_free(&p->wneed);
	corr_list_free(&p->cneed[0]);
	corr_list_free(&p->cneed[1]);
	memset(p, 0, sizeof(*p));
}

int eval_plan_init(struct eval_plan *p, const struct model *md, int frac, int n_parties,
		   size_t chunk_rows)
{
	struct corr_list spare = { 0 };
	size_t pw, dw, rest;
	int ret;

	memset(p, 0, sizeof(*p));
	p->md = md;
	p->frac = frac;
	if ((ret = batch_rows(md, &p->rows)) != 0)
		return ret;
	p->chunk_rows = chunk_rows && chunk_rows < p->rows ? chunk_rows : p->rows;
	p->n_chunks = (p->rows + p->chunk_rows - 1) / p->chunk_rows;
	rest = p->rows % p->chunk_rows;
	if ((ret = eval_model_rows(md, p->chunk_rows, &p->cm[0])) != 0 ||
	    (ret = lists(p->cm[0], frac, &p->wneed, &p->cneed[0])) != 0)
		goto out;
	if (rest && ((ret = eval_model_rows(md, rest, &p->cm[1])) != 0 ||
		     (ret = lists(p->cm[1], frac, &spare, &p->cneed[1])) != 0))
		goto out;
	words_of(p->cm[0], n_parties, &p->wneed, &p->cneed[0], &pw, &dw);
	p->party_bytes = pw * 8;
	p->dealer_bytes = dw * 8;
	p->chunk_mat_words = corr_list_mat_words(&p->cneed[0]);
out:
	corr_list_free(&spare);
	if (ret)
		eval_plan_free(p);
	return ret;
}

size_t eval_plan_chunk(const struct eval_plan *p, size_t k, size_t *first,
		       const struct corr_list **need)
{
	int short_one = k + 1 == p->n_chunks && p->cm[1];

	*first = k * p->chunk_rows;
	*need = &p->cneed[short_one];
	return short_one ? p->rows - *first : p->chunk_rows;
}

/*
 * Rows [first, first + rows) of every input: row blocks (axis 0) that
 * meet the range, cut to it; column blocks (other axes) cut to the rows.
 * Data pointers move on the owners only (NULL elsewhere).
 */
static int slice_inputs(const struct eval_input *in, size_t n_in, size_t first, size_t rows,
			struct eval_input *out, struct eval_part *parts)
{
	size_t used = 0;

	for (size_t i = 0; i < n_in; i++) {
		size_t start = 0;
		int np = 0;

		out[i] = in[i];
		out[i].parts = parts + used;
		for (int p = 0; p < in[i].n_parts; p++) {
			struct eval_part pt = in[i].parts[p];
			size_t inner = 1, d0, lo, hi, base;

			if (pt.ndim < 1 || pt.dims[0] < 0)
				return mpc_fail(MPC_E_SHAPE, "input %zu part %d: no rows", i, p);
			for (int d = 1; d < pt.ndim; d++)
				inner *= (size_t)pt.dims[d];
			d0 = (size_t)pt.dims[0];
			/* Row blocks follow each other; column blocks all start at row 0. */
			base = in[i].axis == 0 ? start : 0;
			lo = first > base ? first : base;
			hi = first + rows < base + d0 ? first + rows : base + d0;
			start += d0;
			if (lo >= hi)
				continue;
			if (pt.data)
				pt.data += (lo - base) * inner;
			pt.dims[0] = (int64_t)(hi - lo);
			parts[used + (size_t)np++] = pt;
		}
		out[i].n_parts = np;
		used += (size_t)np;
	}
	return 0;
}

/*
 * Party n-1 asks the dealer for a stage's corrections: for the weights
 * phase at the start, for the next chunk as soon as a stage's material is
 * in. The dealer so makes chunk k+1's while chunk k runs online, and is
 * never more than one stage ahead (one chunk's corrections in flight).
 */
static int ask_dealer(struct mpc *m)
{
	uint8_t go = 1;

	return m->me == m->n - 1 ? net_send(m->net, m->n, &go, 1) : 0;
}

int eval_chunked(struct mpc *m, const struct eval_plan *p, int weights_owner,
		 const struct eval_input *inputs, size_t n_inputs, eval_chunk_fn done,
		 void *arg, struct eval_layer_stats *layers)
{
	const struct model *md = p->md;
	struct ectx c = { .md = p->cm[0], .frac = m->frac, .run = 1, .m = m,
			  .owner = weights_owner };
	struct eval_input *sl = NULL;
	struct eval_part *parts = NULL;
	struct eval_out *outs = NULL;
	size_t n_parts = 0;
	int ret;

	if (n_inputs != md->n_inputs || p->frac != m->frac || !p->cm[0])
		return mpc_fail(MPC_E_ARG, "the plan is for %zu data inputs at %d bits, the "
				"caller has %zu at %d", md->n_inputs, p->frac, n_inputs, m->frac);
	if (weights_owner < 0 || weights_owner >= m->n)
		return mpc_fail(MPC_E_ARG, "weights owner %d is not a party", weights_owner);
	for (size_t i = 0; i < n_inputs; i++)
		n_parts += inputs[i].n_parts > 0 ? (size_t)inputs[i].n_parts : 0;
	sl = calloc(n_inputs + 1, sizeof(*sl));
	parts = calloc(n_parts + 1, sizeof(*parts));
	outs = calloc(md->n_outputs + 1, sizeof(*outs));
	if (!sl || !parts || !outs || !(c.pre = ev__pre_new(md))) {
		ret = mpc_fail(MPC_E_NOMEM, "chunks");
		goto out;
	}
	if ((ret = ask_dealer(m)) != 0 || (ret = mpc_offline(m, &p->wneed)) != 0 ||
	    (p->n_chunks && (ret = ask_dealer(m)) != 0))
		goto out;
	net_set_phase(m->net, NET_PH_WEIGHTS);
	if ((ret = ev__walk_init(&c)) != 0 || (ret = ev__weights(&c)) != 0)
		goto out;
	ev__walk_free(&c);
	for (size_t k = 0; k < p->n_chunks; k++) {
		const struct corr_list *need;
		size_t first, rows = eval_plan_chunk(p, k, &first, &need);

		c.md = p->cm[need == &p->cneed[1]];
		if ((ret = mpc_offline(m, need)) != 0 ||
		    (k + 1 < p->n_chunks && (ret = ask_dealer(m)) != 0) ||
		    (ret = slice_inputs(inputs, n_inputs, first, rows, sl, parts)) != 0 ||
		    (ret = ev__walk_init(&c)) != 0 ||
		    (ret = ev__chunk(&c, sl, outs, layers)) != 0)
			goto out;
		ev__walk_free(&c);
		ret = done(arg, m, k, first, rows, outs, md->n_outputs);
		for (size_t i = 0; i < md->n_outputs; i++)
			eval_out_free(&outs[i]);
		if (ret)
			goto out;
	}
out:
	ev__walk_free(&c);
	ev__pre_free(md, c.pre);
	free(outs);
	free(parts);
	free(sl);
	return ret;
}

int eval_plan_deal(const struct eval_plan *p, struct net *net, struct prg *party)
{
	struct dealer_kept kept = { 0 };
	int ret = 0;

	for (size_t k = 0; k <= p->n_chunks && !ret; k++) {
		const struct corr_list *need = &p->wneed;
		uint8_t go;

		if (k)
			eval_plan_chunk(p, k - 1, &(size_t){ 0 }, &need);
		if ((ret = net_recv(net, net->n_parties - 1, &go, 1)) == 0)
			ret = dealer_offline_kept(net, party, need, &kept);
	}
	dealer_kept_free(&kept);
	return ret;
}
