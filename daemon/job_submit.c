/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Submitting a job (the proposer), this node's answer to a job, and the
 * proposer's collection of answers up to Start.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "log.h"
#include "npy.h"
#include "policy.h"

#define NAMEBUF (WIRE_MAX_NAME + 1)

int job__policy(struct job *j, int *manual, char *why, size_t len)
{
	const char *self = j->srv->cfg->node.name;
	const char *datasets[WIRE_MAX_INPUTS * WIRE_MAX_PARTS];
	struct policy_req r = { 0 };
	size_t nd = 0;
	int ret;

	for (size_t i = 0; i < j->spec->n_inputs; i++)
		for (size_t k = 0; k < j->spec->inputs[i]->n_parts; k++)
			if (!strcmp(j->spec->inputs[i]->parts[k]->node, self))
				datasets[nd++] = j->spec->inputs[i]->parts[k]->dataset;
	r.proposer = j->spec->proposer;
	r.datasets = datasets;
	r.n_datasets = nd;
	r.model = strcmp(j->spec->model_node, self) ? NULL : j->spec->model_name;
	r.recipients = (const char *const *)j->spec->recipients;
	r.n_recipients = j->spec->n_recipients;
	r.parties = (const char *const *)j->spec->parties;
	r.n_parties = j->spec->n_parties;
	r.graph_hash = j->graph_hash;
	enum cfg_approve mode = CFG_APPROVE_AUTO;

	ret = policy_check(j->srv->cfg, &r, &mode, why, len);
	/* The local operator's own submission needs no second approval. */
	*manual = mode == CFG_APPROVE_MANUAL && strcmp(j->spec->proposer, self);
	return ret;
}

static int set_dims(Mpcpb__Part *p, const int64_t *dims, size_t n)
{
	int64_t *d = malloc((n ? n : 1) * sizeof(*d));

	if (!d)
		return -1;
	memcpy(d, dims, n * sizeof(*d));
	free(p->dims);
	p->dims = d;
	p->n_dims = n;
	return 0;
}

/* Every part has a shape: resolve "last axis" and check parts join. */
static int finalize_spec(struct job *j, char *why, size_t len)
{
	for (size_t i = 0; i < j->spec->n_inputs; i++) {
		Mpcpb__InputBinding *in = j->spec->inputs[i];
		const Mpcpb__Part *p0 = in->parts[0];

		for (size_t k = 0; k < in->n_parts; k++) {
			Mpcpb__Part *p = in->parts[k];

			if (j->parts[i][k].data &&
			    set_dims(p, j->parts[i][k].dims, (size_t)j->parts[i][k].ndim))
				return snprintf(why, len, "out of memory"), -1;
			if (!p->n_dims)
				return snprintf(why, len, "no shape for %s:%s", p->node, p->dataset), -1;
		}
		if (in->axis < 0)
			in->axis = (int32_t)p0->n_dims - 1;
		for (size_t k = 1; k < in->n_parts; k++) {
			const Mpcpb__Part *p = in->parts[k];
			int ok = p->n_dims == p0->n_dims && (size_t)in->axis < p0->n_dims;

			for (size_t d = 0; ok && d < p->n_dims; d++)
				ok = d == (size_t)in->axis || p->dims[d] == p0->dims[d];
			if (!ok)
				return snprintf(why, len, "input '%s': %s:%s and %s:%s do not join on axis %d",
						in->name, p0->node, p0->dataset, p->node, p->dataset,
						in->axis), -1;
		}
	}
	return 0;
}

static void start_all(struct job *j)
{
	Mpcpb__Frame f = MPCPB__FRAME__INIT;
	Mpcpb__JobStart st = MPCPB__JOB_START__INIT;
	char why[WIRE_MAX_REASON + 1], r[REASON_BUF];

	if (finalize_spec(j, why, sizeof(why)) != 0) {
		snprintf(r, sizeof(r), "%s: %s", j->srv->cfg->node.name, why);
		job__abort(j, r, 1);
		return;
	}
	/* chunk_rows is the proposer's to pick, from its own JobMemory; every node checks its own. */
	if (job__pick_rows(j, why, sizeof(why)) != 0) {
		snprintf(r, sizeof(r), "%s: %s", j->srv->cfg->node.name, why);
		job__abort(j, r, 1);
		return;
	}
	st.spec = j->spec;
	st.graph_hash = j->graph_hash;
	f.msg_case = MPCPB__FRAME__MSG_START;
	f.start = &st;
	if (job__send_all(j, &f) != 0) {
		snprintf(r, sizeof(r), "%s: cannot send the start: %s", j->srv->cfg->node.name,
			 mpc_strerror(MPC_E_PEER_GONE));
		job__abort(j, r, 1);
		return;
	}
	if (job__start_thread(j) != 0)
		job__abort(j, "cannot start the job thread", 1);
}

void job__on_answer(struct job *j, struct peer *from, const Mpcpb__JobAnswer *a)
{
	int e = job__ep_of(j, from->cfg->name);
	char r[REASON_BUF];

	if (!j->proposer_here || j->state != JOB_PROPOSED || e < 0 || j->answered[e])
		return;
	if (!a->accept && a->pending) {
		/* Checked there, and held for its operator: `mpcctl wait` says whose. */
		j->pending[e] = 1;
		return;
	}
	if (!a->accept) {
		job__abort(j, a->reason && *a->reason ? a->reason : "refused", 1);
		return;
	}
	j->ep_memory[e] = a->job_memory;
	for (size_t k = 0; k < a->n_parts; k++) {
		const Mpcpb__Part *ap = a->parts[k];
		int found = 0;

		for (size_t i = 0; i < j->spec->n_inputs; i++)
			for (size_t q = 0; q < j->spec->inputs[i]->n_parts; q++) {
				Mpcpb__Part *p = j->spec->inputs[i]->parts[q];

				if (!strcmp(p->node, from->cfg->name) && !strcmp(p->dataset, ap->dataset) &&
				    !strcmp(ap->node, from->cfg->name)) {
					found = 1;
					if (set_dims(p, ap->dims, ap->n_dims)) {
						job__abort(j, "out of memory", 1);
						return;
					}
				}
			}
		if (!found) {
			snprintf(r, sizeof(r), "%s answered for a part it does not hold", from->cfg->name);
			job__abort(j, r, 1);
			return;
		}
	}
	if (!j->graph_hash[0]) {
		/* The model owner's answer to the first proposal: the hash for the rest. */
		if (strcmp(j->spec->model_node, from->cfg->name) ||
		    !a->graph_hash || !wire_valid_hash(a->graph_hash)) {
			snprintf(r, sizeof(r), "%s answered without the public graph hash",
				 from->cfg->name);
			job__abort(j, r, 1);
			return;
		}
		snprintf(j->graph_hash, sizeof(j->graph_hash), "%s", a->graph_hash);
		j->answered[e] = 1;
		job__propose_rest(j);
		return;
	}
	if (!a->graph_hash || strcmp(a->graph_hash, j->graph_hash)) {
		snprintf(r, sizeof(r), "%s checked another public graph (%.8s...) than %.8s...",
			 from->cfg->name, a->graph_hash ? a->graph_hash : "", j->graph_hash);
		job__abort(j, r, 1);
		return;
	}
	j->answered[e] = 1;
	job__maybe_start(j);
}

void job__maybe_start(struct job *j)
{
	int all = 1;

	for (int k = 0; k < j->n_ep; k++)
		all &= j->answered[k];
	if (all)
		start_all(j);
}

static void proposer_loaded(struct job *j, int ret, const char *why, const char *detail)
{
	char r[REASON_BUF], d[REASON_BUF], w[WIRE_MAX_REASON + 1];

	if (ret != 0) {
		snprintf(r, sizeof(r), "%s: %s", j->srv->cfg->node.name, why);
		snprintf(d, sizeof(d), "%s: %s", j->srv->cfg->node.name, detail);
		job__fail(j, r, detail[0] ? d : NULL);
		return;
	}
	if (job__check_ready(j, w, sizeof(w)) != 0) {
		snprintf(r, sizeof(r), "%s: %s", j->srv->cfg->node.name, w);
		job__fail(j, r, NULL);
		return;
	}
	j->answered[j->me] = 1;
	job__maybe_start(j);
}

/* The proposer's own part, once it has the checked graph and its hash. */
static void proposer_ready(struct job *j)
{
	int ret;

	if ((ret = job__contribute_async(j, proposer_loaded)) != 0)
		proposer_loaded(j, ret, "out of memory", "");
}

void job__graph_ready(struct job *j)
{
	if (j->proposer_here)
		proposer_ready(j);
	else if (j->approved)
		(void)job__answer(j);
}

/* "NAME=NODE:DS,NODE:DS" (columns) or "NAME=NODE:DS+NODE:DS" (rows). */
static int parse_input(const char *arg, Mpcpb__InputBinding *in, Mpcpb__Part *parts,
		       Mpcpb__Part **pp, char (*names)[2][NAMEBUF], char *err, size_t errlen)
{
	/* Node and dataset names have no '=': the last one ends the model's input name. */
	const char *eq = strrchr(arg, '='), *p;
	int comma, plus;
	size_t n = 0;

	if (!eq || eq == arg || (size_t)(eq - arg) > 256) {
		snprintf(err, errlen, "--input '%s': expected NAME=NODE:DATASET", arg);
		return MPC_E_ARG;
	}
	comma = strchr(eq, ',') != NULL;
	plus = strchr(eq, '+') != NULL;
	if (comma && plus) {
		snprintf(err, errlen, "--input '%s': ',' joins columns and '+' joins rows, not both", arg);
		return MPC_E_ARG;
	}
	in->axis = plus ? 0 : -1;
	for (p = eq + 1;; ) {
		const char *end = p + strcspn(p, ",+");
		char tok[2 * NAMEBUF + 2];

		if (n == WIRE_MAX_PARTS || (size_t)(end - p) >= sizeof(tok)) {
			snprintf(err, errlen, "--input '%s': too many or too long parts", arg);
			return MPC_E_ARG;
		}
		snprintf(tok, sizeof(tok), "%.*s", (int)(end - p), p);
		if (job__parse_ref(tok, names[n][0], names[n][1])) {
			snprintf(err, errlen, "--input '%s': '%s' is not NODE:DATASET", arg, tok);
			return MPC_E_ARG;
		}
		mpcpb__part__init(&parts[n]);
		parts[n].node = names[n][0];
		parts[n].dataset = names[n][1];
		pp[n] = &parts[n];
		n++;
		if (!*end)
			break;
		p = end + 1;
	}
	in->n_parts = n;
	in->parts = pp;
	return 0;
}

static int add_party(char (*parties)[NAMEBUF], size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(parties[i], name))
			return 0;
	if (*n == WIRE_MAX_PARTIES)
		return -1;
	snprintf(parties[(*n)++], NAMEBUF, "%s", name);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int pick_dealer(struct server *s, const char *offline, char *dealer,
		       char *err, size_t errlen)
{
	const struct peer *only = NULL;
	size_t n = 0;

	if (offline && !strcmp(offline, "ot")) {
		snprintf(err, errlen, "--offline ot: OT preprocessing is not available yet; use --offline dealer:NODE");
		return MPC_E_UNSUPPORTED;
	}
	if (offline && *offline) {
		const struct peer *p;

		if (strncmp(offline, "dealer:", 7) || !wire_valid_name(offline + 7)) {
			snprintf(err, errlen, "--offline '%s': expected dealer:NODE", offline);
			return MPC_E_ARG;
		}
		p = srv_peer_by_name(s, offline + 7);
		if (!p || p->cfg->role != CFG_ROLE_DEALER) {
			snprintf(err, errlen, "--offline: '%s' is not a configured dealer", offline + 7);
			return MPC_E_ARG;
		}
		snprintf(dealer, NAMEBUF, "%s", offline + 7);
		return 0;
	}
	for (size_t i = 0; i < s->n_peers; i++)
		if (!s->peers[i].removed && s->peers[i].cfg->role == CFG_ROLE_DEALER) {
			only = &s->peers[i];
			n++;
		}
	if (n != 1) {
		snprintf(err, errlen, "%s dealer configured: name one with --offline dealer:NODE",
			 n ? "more than one" : "no");
		return MPC_E_ARG;
	}
	snprintf(dealer, NAMEBUF, "%s", only->cfg->name);
	return 0;
}

/* The proposal to one peer, or to every participant (to NULL). */
static int send_propose(struct job *j, struct peer *to)
{
	Mpcpb__Frame f = MPCPB__FRAME__INIT;
	Mpcpb__JobPropose p = MPCPB__JOB_PROPOSE__INIT;

	p.spec = j->spec;
	p.graph_hash = j->graph_hash;
	f.msg_case = MPCPB__FRAME__MSG_PROPOSE;
	f.propose = &p;
	return to ? peer_send(to, &f) : job__send_all(j, &f);
}

/* The proposer owns the model: its graph and hash are made, its data read. */
static void owner_loaded(struct job *j, int ret, const char *why, const char *detail)
{
	const char *self = j->srv->cfg->node.name;
	char r[REASON_BUF], d[REASON_BUF], w[WIRE_MAX_REASON + 1];

	if (ret != 0) {
		snprintf(r, sizeof(r), "%s: %s", self, why);
		snprintf(d, sizeof(d), "%s: %s", self, detail);
		job__fail(j, r, detail[0] ? d : NULL);
		return;
	}
	if (job__check_ready(j, w, sizeof(w)) != 0) {
		snprintf(r, sizeof(r), "%s: %s", self, w);
		job__fail(j, r, NULL);
		return;
	}
	j->answered[j->me] = 1;
	if (send_propose(j, NULL) != 0) {
		snprintf(r, sizeof(r), "%s: cannot send the proposal: %s", self,
			 mpc_strerror(MPC_E_PEER_GONE));
		job__abort(j, r, 1);
		return;
	}
	log_info("job %.8s proposed to %d parties and dealer %s", j->id, j->n,
		 j->n_ep > j->n ? j->spec->dealer : "none");
}

int job_submit(struct server *s, const Mpcctlpb__Submit *req, char *id, char *err, size_t errlen)
{
	static char names[WIRE_MAX_INPUTS][WIRE_MAX_PARTS][2][NAMEBUF];
	char parties[WIRE_MAX_PARTIES][NAMEBUF], recips[WIRE_MAX_PARTIES][NAMEBUF];
	char model_node[NAMEBUF], model_name[NAMEBUF], dealer[NAMEBUF];
	char *pparties[WIRE_MAX_PARTIES], *precips[WIRE_MAX_PARTIES];
	Mpcpb__InputBinding ins[WIRE_MAX_INPUTS], *pins[WIRE_MAX_INPUTS];
	Mpcpb__Part parts[WIRE_MAX_INPUTS][WIRE_MAX_PARTS], *pparts[WIRE_MAX_INPUTS][WIRE_MAX_PARTS];
	Mpcpb__JobSpec spec = MPCPB__JOB_SPEC__INIT;
	const char *self = s->cfg->node.name;
	size_t np = 0, nr = 0;
	uint8_t rnd[16];
	struct job *j;
	int ret, manual, owner;

	if (s->cfg->node.role != CFG_ROLE_COMPUTE) {
		snprintf(err, errlen, "a dealer node does not propose jobs");
		return MPC_E_ARG;
	}
	if (!req->model || job__parse_ref(req->model, model_node, model_name)) {
		snprintf(err, errlen, "--model '%s': expected NODE:MODEL", req->model ? req->model : "");
		return MPC_E_ARG;
	}
	if (req->n_inputs < 1 || req->n_inputs > WIRE_MAX_INPUTS || req->n_outputs < 1) {
		snprintf(err, errlen, "a job needs --input (1 to %d) and --output", WIRE_MAX_INPUTS);
		return MPC_E_ARG;
	}
	if (req->frac_bits < 0 || req->frac_bits > 30) {
		snprintf(err, errlen, "--frac-bits %d: from 1 to 30", req->frac_bits);
		return MPC_E_ARG;
	}
	if (req->chunk_rows > WIRE_MAX_CHUNK_ROWS) {
		snprintf(err, errlen, "--chunk-rows %llu: at most %llu",
			 (unsigned long long)req->chunk_rows, (unsigned long long)WIRE_MAX_CHUNK_ROWS);
		return MPC_E_ARG;
	}
	if ((ret = pick_dealer(s, req->offline, dealer, err, errlen)) != 0)
		return ret;
	add_party(parties, &np, self);
	add_party(parties, &np, model_node);
	for (size_t i = 0; i < req->n_inputs; i++) {
		mpcpb__input_binding__init(&ins[i]);
		if ((ret = parse_input(req->inputs[i], &ins[i], parts[i], pparts[i], names[i],
				       err, errlen)) != 0)
			return ret;
		{
			size_t nlen = (size_t)(strrchr(req->inputs[i], '=') - req->inputs[i]);
			static char in_names[WIRE_MAX_INPUTS][257];

			snprintf(in_names[i], sizeof(in_names[i]), "%.*s", (int)nlen, req->inputs[i]);
			ins[i].name = in_names[i];
			if (!wire_valid_input_name(in_names[i])) {
				snprintf(err, errlen, "--input %zu: the input name has a control character",
					 i + 1);
				return MPC_E_ARG;
			}
			for (size_t k = 0; k < i; k++)
				if (!strcmp(in_names[k], in_names[i])) {
					snprintf(err, errlen, "--input '%s' is given twice", in_names[i]);
					return MPC_E_ARG;
				}
		}
		for (size_t k = 0; k < ins[i].n_parts; k++)
			if (add_party(parties, &np, ins[i].parts[k]->node)) {
				snprintf(err, errlen, "more than %d parties", WIRE_MAX_PARTIES);
				return MPC_E_ARG;
			}
		pins[i] = &ins[i];
	}
	for (size_t i = 0; i < req->n_outputs; i++) {
		const char *o = req->outputs[i];

		if (!wire_valid_name(o)) {
			snprintf(err, errlen, "--output: not a node name");
			return MPC_E_ARG;
		}
		/* docs/ctl.md: a repeated recipient is an error, not merged. */
		for (size_t k = 0; k < i; k++)
			if (!strcmp(req->outputs[k], o)) {
				snprintf(err, errlen, "--output: node '%s' is given twice", o);
				return MPC_E_ARG;
			}
		if (add_party(recips, &nr, o) || add_party(parties, &np, o)) {
			snprintf(err, errlen, "more than %d parties", WIRE_MAX_PARTIES);
			return MPC_E_ARG;
		}
	}
	if (np < 2) {
		snprintf(err, errlen, "a job needs at least two compute parties; all data and the model are here");
		return MPC_E_ARG;
	}
	/* Party numbers follow name order, so every node derives the same. */
	qsort(parties, np, NAMEBUF, cmp_names);
	for (size_t i = 0; i < np; i++)
		pparties[i] = parties[i];
	for (size_t i = 0; i < nr; i++)
		precips[i] = recips[i];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(id, WIRE_ID_LEN + 1, rnd, sizeof(rnd));
	spec.id = id;
	spec.proposer = (char *)self;
	spec.model_node = model_node;
	spec.model_name = model_name;
	spec.n_inputs = req->n_inputs;
	spec.inputs = pins;
	spec.n_recipients = nr;
	spec.recipients = precips;
	spec.dealer = dealer;
	spec.frac_bits = req->frac_bits ? req->frac_bits : 16;
	spec.chunk_rows = req->chunk_rows;
	spec.n_parties = np;
	spec.parties = pparties;
	if (!(j = job__new(s, &spec, err, errlen)))
		return MPC_E_ARG;
	for (int e = 0; e < j->n_ep; e++)
		if (j->ep_peer[e] && !j->ep_peer[e]->link) {
			snprintf(err, errlen, "peer %s is not connected", j->ep_peer[e]->cfg->name);
			job__free(j);
			return MPC_E_PEER_GONE;
		}
	if ((ret = job__policy(j, &manual, err, errlen)) != 0) {
		job__free(j);
		return ret;
	}
	owner = strcmp(model_node, self) ? job__ep_of(j, model_node) : -1;
	if (job__audit(j, "proposed", NULL) != 0) {
		snprintf(err, errlen, "%s %s: no new jobs until it can (see its log)", self,
			 JOB_NO_AUDIT);
		job__free(j);
		return MPC_E_IO;
	}
	j->proposer_here = 1;
	j->next = s->jobs;
	s->jobs = j;
	if (owner < 0) {
		/*
		 * The model is here: it and this node's data are read off the
		 * loop; everyone gets the proposal, with the hash, once they are
		 * (owner_loaded). `mpcctl wait` shows a failure and its detail.
		 */
		if ((ret = job__contribute_async(j, owner_loaded)) != 0)
			owner_loaded(j, ret, "out of memory", "");
		return 0;
	}
	/*
	 * With the model elsewhere, its owner hears first and answers with the
	 * public graph hash; the others then get the proposal with it
	 * (job__propose_rest), so AllowModels is decided before any read.
	 */
	if (send_propose(j, j->ep_peer[owner]) != 0) {
		snprintf(err, errlen, "cannot send the proposal: %s", mpc_strerror(MPC_E_PEER_GONE));
		job__abort(j, err, 1);
		return MPC_E_PEER_GONE;
	}
	log_info("job %.8s proposed to %d parties and dealer %s", j->id, j->n, dealer);
	return 0;
}
