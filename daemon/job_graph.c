/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The public graph of a job goes straight from the model owner to each
 * party over its own link (docs/wire.md, "Jobs"): the proposal carries its
 * hash, each party asks the owner for the graph (JobGetModel), checks the
 * bytes it gets against that hash and the job, keeps a copy for its
 * operator's audit, and only then reads its datasets and answers. So no
 * party relies on the proposer for what runs on its data, and AllowModels
 * is decided before any input is read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "job.h"
#include "log.h"
#include "npy.h"

void job__graph_request(struct job *j)
{
	Mpcpb__Frame f = MPCPB__FRAME__INIT;
	Mpcpb__JobGetModel g = MPCPB__JOB_GET_MODEL__INIT;
	int owner = job__ep_of(j, j->spec->model_node);

	if (j->graph_asked || j->model || owner < 0 || owner == j->me || !j->ep_peer[owner])
		return;
	g.id = j->id;
	f.msg_case = MPCPB__FRAME__MSG_GET_MODEL;
	f.get_model = &g;
	j->graph_asked = 1;
	if (peer_send(j->ep_peer[owner], &f) != 0)
		log_warn("job %.8s: cannot ask %s for the public graph", j->id,
			 j->spec->model_node);
}

void job__on_get_model(struct server *s, struct peer *from, const Mpcpb__JobGetModel *g)
{
	Mpcpb__Frame f = MPCPB__FRAME__INIT;
	Mpcpb__JobModel m = MPCPB__JOB_MODEL__INIT;
	struct job *j = job_find(s, g->id);
	int e = j ? job__ep_of(j, from->cfg->name) : -1;

	if (!j || !j->model || !j->graph || e < 0 || e == j->me ||
	    j->state == JOB_FINISHED || j->state == JOB_ABORTED) {
		log_warn("ignored a request for the graph of job %.8s from %s", g->id,
			 from->cfg->name);
		return;
	}
	m.id = j->id;
	m.graph_hash = j->graph_hash;
	m.graph.data = j->graph;
	m.graph.len = j->graph_len;
	m.weight_exp = j->wexp ? j->wexp : (char *)"";
	f.msg_case = MPCPB__FRAME__MSG_MODEL;
	f.model = &m;
	(void)peer_send(from, &f);
}

/* An audit copy: DataDir/graphs/HASH.onnx, what this node checked and ran. */
static int write_graph(FILE *f, const void *arg)
{
	const struct job *j = arg;

	return fwrite(j->graph, 1, j->graph_len, f) == j->graph_len ? 0 :
	       mpc_fail(MPC_E_IO, "short write");
}

static void keep_graph(struct job *j)
{
	char dir[4096], path[4200];
	struct stat st;
	int ret;

	snprintf(dir, sizeof(dir), "%s/graphs", j->srv->cfg->node.data_dir);
	snprintf(path, sizeof(path), "%s/%s.onnx", dir, j->graph_hash);
	if (stat(path, &st) == 0)
		return; /* content-addressed: the same bytes are there */
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		log_warn("job %.8s: %s: %s", j->id, dir, strerror(errno));
	else if ((ret = file_write_atomic(path, write_graph, j)) != 0)
		log_warn("job %.8s: cannot keep the public graph: %s", j->id, mpc_errmsg(ret));
}

void job__on_model(struct server *s, struct peer *from, const Mpcpb__JobModel *m)
{
	struct job *j = job_find(s, m->id);
	char why[WIRE_MAX_REASON + 1], r[REASON_BUF];
	int ret;

	/* Only the job's model owner sends it, once, to a party waiting for it. */
	if (!j || j->model || j->graph || !j->graph_asked ||
	    strcmp(from->cfg->name, j->spec->model_node) ||
	    (j->state != JOB_PROPOSED && j->state != JOB_PENDING)) {
		log_warn("ignored a public graph for job %.8s from %s", m->id, from->cfg->name);
		return;
	}
	if (strcmp(m->graph_hash, j->graph_hash)) {
		snprintf(r, sizeof(r), "%s: %s sent the public graph %.8s..., the proposal named %.8s...",
			 s->cfg->node.name, from->cfg->name, m->graph_hash, j->graph_hash);
		job__abort(j, r, 1);
		return;
	}
	if ((ret = job_graph_check(m->graph.data, m->graph.len, j->graph_hash, m->weight_exp,
				   j->spec, NULL, why, sizeof(why))) != 0) {
		snprintf(r, sizeof(r), "%s: %s", s->cfg->node.name, why);
		job__abort(j, r, 1);
		return;
	}
	if (!(j->graph = malloc(m->graph.len)) ||
	    !(j->wexp = strdup(m->weight_exp ? m->weight_exp : ""))) {
		job__abort(j, "out of memory", 1);
		return;
	}
	memcpy(j->graph, m->graph.data, m->graph.len);
	j->graph_len = m->graph.len;
	keep_graph(j);
	log_info("job %.8s: public graph %.12s... from %s checked", j->id, j->graph_hash,
		 from->cfg->name);
	job__graph_ready(j);
}

/* Proposer: the rest of the parties learn the job with the owner's hash. */
void job__propose_rest(struct job *j)
{
	Mpcpb__Frame f = MPCPB__FRAME__INIT;
	Mpcpb__JobPropose p = MPCPB__JOB_PROPOSE__INIT;
	int owner = job__ep_of(j, j->spec->model_node), ret = 0, r;
	char why[REASON_BUF];

	p.spec = j->spec;
	p.graph_hash = j->graph_hash;
	f.msg_case = MPCPB__FRAME__MSG_PROPOSE;
	f.propose = &p;
	for (int e = 0; e < j->n_ep; e++)
		if (e != j->me && e != owner && j->ep_peer[e] &&
		    (r = peer_send(j->ep_peer[e], &f)) != 0 && !ret)
			ret = r;
	if (ret) {
		snprintf(why, sizeof(why), "%s: cannot send the proposal: %s",
			 j->srv->cfg->node.name, mpc_strerror(MPC_E_PEER_GONE));
		job__abort(j, why, 1);
		return;
	}
	job__graph_request(j);
}

int job__answer_when_ready(struct job *j)
{
	j->approved = 1;
	/* The model owner makes the graph as it answers; the others need it first. */
	if (!strcmp(j->spec->model_node, j->srv->cfg->node.name) || j->graph)
		return job__answer(j);
	/* Approved; the answer waits for the owner's graph (job__graph_ready). */
	job__set_state(j, JOB_PROPOSED, NULL);
	return 0;
}
