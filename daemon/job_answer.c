/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * This node's answer to a proposal. Everything this node can check is
 * checked before the job reaches its operator (docs/daemon.md, "A job's
 * life"): the policy (on the proposal), the public graph (its hash, its
 * ops, its inputs), this node's model and datasets (they exist, parse and
 * fit the fixed-point range: read on a worker, job_contrib.c), their
 * shapes against the model's inputs, and the links to every party. A job
 * that fails any of these is refused to the proposer with the reason; one
 * that passes is accepted at once (Approve = auto) or held for `mpcctl
 * approve` (the proposer is told it waits for this node's approval).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "log.h"

/* This node's parts with their shapes, for an Answer. */
static size_t own_parts(struct job *j, Mpcpb__Part *parts, Mpcpb__Part **pp)
{
	size_t n = 0;

	for (size_t i = 0; i < j->spec->n_inputs; i++)
		for (size_t k = 0; k < j->spec->inputs[i]->n_parts; k++) {
			const Mpcpb__Part *p = j->spec->inputs[i]->parts[k];

			if (!j->parts[i][k].data && strcmp(p->node, j->srv->cfg->node.name))
				continue;
			mpcpb__part__init(&parts[n]);
			parts[n].node = p->node;
			parts[n].dataset = p->dataset;
			parts[n].n_dims = (size_t)j->parts[i][k].ndim;
			parts[n].dims = j->parts[i][k].dims;
			pp[n] = &parts[n];
			n++;
		}
	return n;
}

/* What can be checked once the part is read: shapes, and the links the run needs. */
int job__check_ready(struct job *j, char *why, size_t len)
{
	struct model *m = j->model;
	int ret = 0;

	for (int e = 0; e < j->n_ep; e++)
		if (e != j->me && j->ep_peer[e] && !j->ep_peer[e]->link) {
			snprintf(why, len, "not connected to %s", j->ep_peer[e]->cfg->name);
			return MPC_E_PEER_GONE;
		}
	if (!m && (ret = job_graph_check(j->graph, j->graph_len, j->graph_hash, j->wexp, j->spec,
					 &m, why, len)) != 0)
		return ret;
	ret = job_parts_check(m, j->spec, j->srv->cfg->node.name,
			      (const struct ftensor (*)[WIRE_MAX_PARTS])j->parts, why, len);
	if (m != j->model)
		model_free(m);
	return ret;
}

static void refuse(struct job *j, const char *why, const char *detail)
{
	Mpcpb__Frame f = MPCPB__FRAME__INIT;
	Mpcpb__JobAnswer a = MPCPB__JOB_ANSWER__INIT;
	struct peer *prop = srv_peer_by_name(j->srv, j->spec->proposer);
	char r[REASON_BUF];

	snprintf(r, sizeof(r), "%s: %s", j->srv->cfg->node.name, why);
	r[WIRE_MAX_REASON] = '\0';
	a.id = j->id;
	a.reason = r;
	f.msg_case = MPCPB__FRAME__MSG_ANSWER;
	f.answer = &a;
	if (prop)
		(void)peer_send(prop, &f);
	pthread_mutex_lock(&j->mu);
	snprintf(j->detail, sizeof(j->detail), "%s", detail);
	pthread_mutex_unlock(&j->mu);
	job__set_state(j, JOB_ABORTED, r);
	job__audit(j, "refused", r);
	log_info("job %.8s refused here: %s%s%s", j->id, r, detail[0] ? "; detail: " : "", detail);
	job__release(j);
}

/* accept (with this node's shapes), or pending: held for the operator here. */
static int send_answer(struct job *j, int pending)
{
	Mpcpb__Frame f = MPCPB__FRAME__INIT;
	Mpcpb__JobAnswer a = MPCPB__JOB_ANSWER__INIT;
	Mpcpb__Part parts[WIRE_MAX_INPUTS * WIRE_MAX_PARTS];
	Mpcpb__Part *pp[WIRE_MAX_INPUTS * WIRE_MAX_PARTS];
	struct peer *prop = srv_peer_by_name(j->srv, j->spec->proposer);

	a.id = j->id;
	f.msg_case = MPCPB__FRAME__MSG_ANSWER;
	f.answer = &a;
	if (pending) {
		a.pending = 1;
	} else {
		a.accept = 1;
		a.n_parts = own_parts(j, parts, pp);
		a.parts = pp;
		a.graph_hash = j->graph_hash;
		a.job_memory = j->srv->cfg->node.job_memory;
	}
	return prop ? peer_send(prop, &f) : MPC_E_PEER_GONE;
}

/* This node's part read (or not): checked, then accepted, held or refused. */
static void answer_loaded(struct job *j, int ret, const char *why, const char *detail)
{
	char w[WIRE_MAX_REASON + 1];

	if (ret != 0) {
		refuse(j, why, detail);
		return;
	}
	if (job__check_ready(j, w, sizeof(w)) != 0) {
		refuse(j, w, "");
		return;
	}
	if (j->manual) {
		j->state = JOB_PENDING;
		j->approve_deadline = time(NULL) + j->srv->cfg->policy.approve_timeout;
		log_info("job %.8s from %s checked; waits for `mpcctl approve`", j->id,
			 j->spec->proposer);
		if (send_answer(j, 1) != 0)
			log_warn("job %.8s: cannot tell %s it waits for approval", j->id,
				 j->spec->proposer);
		return;
	}
	job__set_state(j, JOB_ACCEPTED, NULL);
	job__audit(j, "accepted", NULL);
	if (send_answer(j, 0) != 0)
		log_warn("job %.8s: cannot answer %s", j->id, j->spec->proposer);
}

int job__answer(struct job *j)
{
	int ret;

	/* The read runs off the loop thread; answer_loaded answers. */
	if ((ret = job__contribute_async(j, answer_loaded)) != 0)
		answer_loaded(j, ret, "out of memory", "");
	return ret;
}

int job__approve_send(struct job *j, char *err, size_t errlen)
{
	char w[WIRE_MAX_REASON + 1];
	int ret;

	/* A link may have gone down while the job waited. */
	if ((ret = job__check_ready(j, w, sizeof(w))) != 0) {
		snprintf(err, errlen, "job %s cannot run: %s: %s", j->id, j->srv->cfg->node.name, w);
		refuse(j, w, "");
		return ret;
	}
	job__set_state(j, JOB_ACCEPTED, NULL);
	job__audit(j, "accepted", NULL);
	if ((ret = send_answer(j, 0)) != 0) {
		char r[REASON_BUF];

		snprintf(err, errlen, "job %s: cannot answer the proposer %s: %s", j->id,
			 j->spec->proposer, mpc_strerror(ret));
		snprintf(r, sizeof(r), "%s: cannot answer %s", j->srv->cfg->node.name,
			 j->spec->proposer);
		job__abort(j, r, 1);
	}
	return ret;
}
