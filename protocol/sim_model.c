/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "sim_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fxp.h"

#define SIM_MAX_INPUTS 32
#define SIM_MAX_PARTS 64

static int deal(struct net *net, struct prg *party, void *arg)
{
	struct sim_model *s = arg;

	return eval_plan_deal(&s->plan, net, party);
}

/* A chunk's outputs: revealed to the recipient, decoded into their rows. */
static int chunk_done(void *arg, struct mpc *m, size_t k, size_t first, size_t rows,
		      struct eval_out *outs, size_t n_outs)
{
	struct sim_model *s = arg;
	int ret = 0;

	net_set_phase(m->net, NET_PH_OUTPUT);
	for (size_t i = 0; i < n_outs && !ret; i++) {
		/* One chunk is the whole output, whatever its shape. */
		size_t per_row = s->outs[i].n / s->plan.rows;
		size_t want = s->plan.n_chunks == 1 ? s->outs[i].n : per_row * rows;
		uint64_t *plain = mpc_alloc(outs[i].n ? outs[i].n : 1);

		if (!plain)
			return MPC_E_NOMEM;
		if (outs[i].n != want)
			ret = mpc_fail(MPC_E_INTERNAL, "chunk %zu: %zu output values for %zu rows",
				       k, outs[i].n, rows);
		else
			ret = mpc_reveal_to(m, s->recipient, outs[i].share, outs[i].n, plain);
		if (!ret && m->me == s->recipient)
			fxp_decode(s->outs[i].data + first * per_row, plain, outs[i].n,
				   outs[i].bits);
		mpc_free_words(plain, outs[i].n ? outs[i].n : 1);
	}
	return ret;
}

static int party(struct mpc *m, void *arg)
{
	struct sim_model *s = arg;
	const struct model *md = s->md;
	struct eval_input in[SIM_MAX_INPUTS];
	struct eval_part parts[SIM_MAX_INPUTS][SIM_MAX_PARTS];

	/* A party sees only its own parts' data, as in a job between daemons. */
	for (size_t i = 0; i < md->n_inputs; i++) {
		in[i] = s->inputs[i];
		in[i].parts = parts[i];
		for (int p = 0; p < s->inputs[i].n_parts; p++) {
			parts[i][p] = s->inputs[i].parts[p];
			if (parts[i][p].owner != m->me)
				parts[i][p].data = NULL;
		}
	}
	return eval_chunked(m, &s->plan, s->owner, in, md->n_inputs, chunk_done, s,
			    s->party_layers[m->me]);
}

int sim_model_run(struct sim_model *s)
{
	const struct model *md = s->md;
	int ret;

	if (md->n_inputs > SIM_MAX_INPUTS)
		return mpc_fail(MPC_E_UNSUPPORTED, "more than %d data inputs", SIM_MAX_INPUTS);
	for (size_t i = 0; i < md->n_inputs; i++)
		if (s->inputs[i].n_parts > SIM_MAX_PARTS)
			return mpc_fail(MPC_E_UNSUPPORTED, "more than %d parts of an input",
					SIM_MAX_PARTS);
	if (s->n_parties < 2 || s->n_parties > MPC_MAX_PARTIES || s->owner < 0 ||
	    s->owner >= s->n_parties || s->recipient < 0 || s->recipient >= s->n_parties)
		return mpc_fail(MPC_E_ARG, "parties %d, weights owner %d, recipient %d",
				s->n_parties, s->owner, s->recipient);
	s->outs = calloc(md->n_outputs ? md->n_outputs : 1, sizeof(*s->outs));
	s->layers = calloc(md->n_nodes + 1, sizeof(*s->layers));
	if (!s->outs || !s->layers)
		return mpc_fail(MPC_E_NOMEM, "results");
	for (size_t i = 0; i < md->n_outputs; i++) {
		const struct model_value *ov = &md->values[md->outputs[i]];

		if ((ret = ftensor_alloc(&s->outs[i], ov->ndim, ov->dims)) != 0)
			return ret;
	}
	for (int p = 0; p < s->n_parties; p++)
		if (!(s->party_layers[p] = calloc(md->n_nodes + 1, sizeof(*s->party_layers[p]))))
			return mpc_fail(MPC_E_NOMEM, "results");
	if (!s->chunk_rows && s->memory &&
	    (ret = eval_plan_pick(md, s->frac, s->n_parties, s->n_parties, 1, s->memory,
				  s->memory_held, &s->chunk_rows)) != 0)
		return ret;
	if ((ret = eval_plan_init(&s->plan, md, s->frac, s->n_parties, s->chunk_rows)) != 0)
		return ret;
	s->job = (struct sim_job){ .n_parties = s->n_parties, .frac = s->frac, .deal = deal,
				   .run = party, .arg = s };
	s->job.need_words = corr_list_mat_words(&s->plan.wneed) + s->plan.chunk_mat_words;
	s->job.n_requests = s->plan.wneed.n + s->plan.cneed[0].n;
	if ((ret = sim_run(&s->job)) != 0)
		return ret;
	for (int p = 0; p < s->n_parties; p++)
		if (s->job.mat_peak[p] > s->mat_peak)
			s->mat_peak = s->job.mat_peak[p];
	for (size_t k = 0; k < md->n_nodes; k++)
		for (int p = 0; p < s->n_parties; p++) {
			const struct eval_layer_stats *l = &s->party_layers[p][k];
			struct eval_layer_stats *r = &s->layers[k];

			r->secs = fmax(r->secs, l->secs);
			if (l->bytes_sent > r->bytes_sent)
				r->bytes_sent = l->bytes_sent;
			if (l->rounds > r->rounds)
				r->rounds = l->rounds;
		}
	return 0;
}

void sim_model_free(struct sim_model *s)
{
	if (s->outs && s->md)
		for (size_t i = 0; i < s->md->n_outputs; i++)
			ftensor_free(&s->outs[i]);
	free(s->outs);
	free(s->layers);
	for (int p = 0; p < MPC_MAX_PARTIES; p++)
		free(s->party_layers[p]);
	s->outs = NULL;
	s->layers = NULL;
	eval_plan_free(&s->plan);
	memset(s->party_layers, 0, sizeof(s->party_layers));
}
