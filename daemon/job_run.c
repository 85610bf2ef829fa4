/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The job thread: the same protocol code as `mpcctl simulate`, over the
 * daemon's links. Its network (struct net_ops) chunks each protocol
 * message into JobData frames sealed and queued on the peer's link, and
 * receives whole messages that the loop reassembled into the job's
 * per-endpoint queues. Read docs/daemon.md before changing the locking.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chan.h"
#include "eval.h"
#include "job.h"
#include "pool.h"
#include "log.h"

/* Bytes per data chunk: a raw frame of at most MaxFrame (and the channel's limit). */
static size_t chunk_size(struct job *j)
{
	size_t mf = (size_t)j->srv->cfg->node.max_frame;

	return mf < CHAN_FRAME_MAX ? mf : CHAN_FRAME_MAX;
}

static int abort_error(struct job *j)
{
	return mpc_fail(MPC_E_ABORTED, "%s", j->reason[0] ? j->reason : "aborted");
}

/*
 * A message in data chunks, as many at a time as the pool has threads:
 * they are sealed side by side (peer_send_data), and the loop writes one
 * batch while the next is sealed.
 */
static int jnet_send(void *ctx, int to, const void *buf, size_t len)
{
	struct job *j = ctx;
	const uint8_t *p = buf;
	size_t off = 0, chunk = chunk_size(j);
	int ret, batch = pool_threads();

	if (to < 0 || to >= j->n_ep || to == j->me)
		mpc_bug("job: bad destination");
	batch = batch < 1 ? 1 : batch > PEER_SEND_MAX ? PEER_SEND_MAX : batch;
	do {
		Mpcpb__Frame f[PEER_SEND_MAX];
		Mpcpb__JobData d[PEER_SEND_MAX];
		const Mpcpb__Frame *hdrs[PEER_SEND_MAX];
		const uint8_t *data[PEER_SEND_MAX];
		size_t lens[PEER_SEND_MAX];
		int k = 0;

		pthread_mutex_lock(&j->mu);
		ret = j->aborted;
		pthread_mutex_unlock(&j->mu);
		if (ret)
			return abort_error(j);
		for (; k < batch && (off < len || !k); k++) {
			size_t n = len - off < chunk ? len - off : chunk;

			mpcpb__frame__init(&f[k]);
			mpcpb__job_data__init(&d[k]);
			d[k].id = j->id;
			d[k].last = off + n == len;
			d[k].total = off ? 0 : len;
			d[k].raw = (uint32_t)n;
			f[k].msg_case = MPCPB__FRAME__MSG_DATA;
			f[k].data = &d[k];
			hdrs[k] = &f[k];
			data[k] = p + off;
			lens[k] = n;
			off += n;
		}
		if ((ret = peer_send_data(j->ep_peer[to], k, hdrs, data, lens)) != 0)
			return ret;
	} while (off < len);
	pthread_mutex_lock(&j->mu);
	j->bytes_sent += len;
	pthread_mutex_unlock(&j->mu);
	return 0;
}

/* Under j->mu: buf takes the next message, unless one is queued already. */
static void post_locked(struct jqueue *q, void *buf, size_t len)
{
	if (!q->head && !q->posted) {
		q->posted = buf;
		q->posted_len = len;
		q->posted_full = 0;
	}
}

/*
 * Under j->mu: forget the posted buffer once the loop is out of it; a
 * message halfway into it (an abort) has the rest of it dropped.
 */
static void post_clear(struct job *j, struct jqueue *q)
{
	while (q->busy)
		pthread_cond_wait(&j->cv, &j->mu);
	if (q->cur_posted) {
		q->cur = NULL;
		q->cur_posted = 0;
	}
	q->posted = NULL;
	q->posted_len = 0;
	q->posted_full = 0;
}

/*
 * Wait for the next message from `from`. With nothing queued, post buf so
 * the loop decrypts the message straight into it; on abort, wait until the
 * loop is out of it before returning (the caller frees it).
 */
static int jnet_recv(void *ctx, int from, void *buf, size_t len)
{
	struct job *j = ctx;
	struct jqueue *q = &j->q[from];
	struct jmsg *m = NULL;
	int ret = 0, direct = 0;

	if (from < 0 || from >= j->n_ep || from == j->me)
		mpc_bug("job: bad source");
	pthread_mutex_lock(&j->mu);
	if (q->posted && (q->posted != buf || q->posted_len != len))
		mpc_bug("job: receiving into another buffer than the one posted");
	post_locked(q, buf, len);
	/* A posted buffer fills before any later message can be queued. */
	while (!q->head && !q->posted_full && !j->aborted)
		pthread_cond_wait(&j->cv, &j->mu);
	while (q->busy)
		pthread_cond_wait(&j->cv, &j->mu);
	if (q->posted_full) {
		direct = 1;
	} else if (q->head) {
		m = q->head;
		q->head = m->next;
		if (!q->head)
			q->tail = NULL;
		j->buffered -= m->len;
	}
	post_clear(j, q);
	if (direct || m)
		j->bytes_recv += direct ? len : m->len;
	ret = !direct && !m;
	pthread_mutex_unlock(&j->mu);
	if (ret)
		return abort_error(j);
	if (m) {
		if (m->len != len)
			ret = mpc_fail(MPC_E_FORMAT,
				       "%s sent %zu bytes where the protocol expects %zu",
				       from < j->n ? j->spec->parties[from] : j->spec->dealer,
				       m->len, len);
		else if (len)
			memcpy(buf, m->data, len);
		job_msg_free(m);
	}
	return ret;
}

/* Post buf for the next message from `from`, unless one is queued already. */
static void jnet_post(void *ctx, int from, void *buf, size_t len)
{
	struct job *j = ctx;
	struct jqueue *q = &j->q[from];

	pthread_mutex_lock(&j->mu);
	post_locked(q, buf, len);
	pthread_mutex_unlock(&j->mu);
}

/* Withdraw a post (an error path): wait until the loop is out of it. */
static void jnet_unpost(void *ctx, int from)
{
	struct job *j = ctx;
	struct jqueue *q = &j->q[from];

	pthread_mutex_lock(&j->mu);
	post_clear(j, q);
	pthread_mutex_unlock(&j->mu);
}

static const struct net_ops jnet_ops = { .send = jnet_send, .recv = jnet_recv,
					 .post = jnet_post, .unpost = jnet_unpost };

void job__abort_local(struct job *j, const char *reason)
{
	enum job_state was;

	pthread_mutex_lock(&j->mu);
	if (!j->reason[0])
		snprintf(j->reason, sizeof(j->reason), "%.*s", WIRE_MAX_REASON, reason);
	was = j->state;
	j->state = JOB_ABORTED;
	j->aborted = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	j->updated = time(NULL);
	job__count_end(j, was);
}

int job__result_path(struct job *j, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/results/%s.npy", j->srv->cfg->node.data_dir, j->id);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

void job__drop_result(struct job *j)
{
	char path[4096];

	if (!j->result_here)
		return;
	j->result_here = 0;
	if (job__result_path(j, path, sizeof(path)) == 0 && unlink(path) != 0 && errno != ENOENT)
		log_warn("job %.8s: cannot remove %s: %s", j->id, path, strerror(errno));
}

int job__model(struct job *j, int public_only, struct model **out)
{
	const Mpcpb__JobSpec *sp = j->spec;
	int64_t dims[WIRE_MAX_INPUTS][FT_MAX_DIMS];
	int nd[WIRE_MAX_INPUTS], ret;
	struct model *m = public_only ? NULL : j->model;

	*out = NULL;
	if (!m) {
		char why[WIRE_MAX_REASON + 1];

		/* The received graph is checked again, by the same function as on arrival. */
		if ((ret = job_graph_check(j->graph, j->graph_len, j->graph_hash, j->wexp, sp, &m,
					   why, sizeof(why))) != 0) {
			mpc_fail(ret, "%s", why);
			return mpc_public(ret, "%s", why); /* the graph and spec are public */
		}
	}
	if ((ret = model_check_job(m)) != 0)
		goto fail;
	if (m->n_inputs != sp->n_inputs) {
		ret = mpc_fail(MPC_E_SHAPE, "the model has %zu data inputs, the job binds %zu",
			       m->n_inputs, sp->n_inputs);
		goto fail;
	}
	for (size_t i = 0; i < m->n_inputs; i++) {
		const Mpcpb__InputBinding *in = NULL;

		for (size_t k = 0; k < sp->n_inputs; k++)
			if (!strcmp(sp->inputs[k]->name, m->values[m->inputs[i]].name))
				in = sp->inputs[k];
		if (!in) {
			ret = mpc_fail(MPC_E_ARG, "the job binds no data to model input '%s'",
				       m->values[m->inputs[i]].name);
			goto fail;
		}
		nd[i] = (int)in->parts[0]->n_dims;
		memcpy(dims[i], in->parts[0]->dims, (size_t)nd[i] * sizeof(int64_t));
		dims[i][in->axis] = 0;
		for (size_t k = 0; k < in->n_parts; k++)
			dims[i][in->axis] += in->parts[k]->dims[in->axis];
	}
	if ((ret = model_infer(m, (const int64_t(*)[FT_MAX_DIMS])dims, nd)) != 0 ||
	    (ret = eval_fold_batchnorm(m)) != 0)
		goto fail;
	*out = m;
	return 0;
fail:
	if (m != j->model)
		model_free(m);
	return ret;
}

static int run_party(struct job *j, struct net *nt, const struct eval_plan *plan)
{
	const struct model *md = plan->md;
	const Mpcpb__JobSpec *sp = j->spec;
	struct eval_input in[WIRE_MAX_INPUTS];
	struct eval_part parts[WIRE_MAX_INPUTS][WIRE_MAX_PARTS];
	struct job_res res;
	struct mpc m;
	int ret, owner = job__ep_of(j, sp->model_node);

	if ((ret = mpc_init(&m, nt, sp->frac_bits)) != 0)
		return ret;
	m.on_layer = job__on_layer;
	m.on_layer_arg = j;
	/* Bind the job's parts to the model's inputs, in the model's order. */
	for (size_t i = 0; i < md->n_inputs; i++) {
		size_t k;

		for (k = 0; k < sp->n_inputs; k++)
			if (!strcmp(sp->inputs[k]->name, md->values[md->inputs[i]].name))
				break;
		in[i] = (struct eval_input){ .n_parts = (int)sp->inputs[k]->n_parts,
					     .axis = sp->inputs[k]->axis, .parts = parts[i] };
		for (size_t p = 0; p < sp->inputs[k]->n_parts; p++) {
			const Mpcpb__Part *pt = sp->inputs[k]->parts[p];

			parts[i][p] = (struct eval_part){ .owner = job__ep_of(j, pt->node),
							  .ndim = (int)pt->n_dims,
							  .data = j->parts[k][p].data };
			memcpy(parts[i][p].dims, pt->dims, pt->n_dims * sizeof(int64_t));
			if (parts[i][p].data &&
			    memcmp(j->parts[k][p].dims, pt->dims, pt->n_dims * sizeof(int64_t))) {
				mpc_fail(MPC_E_SHAPE, "dataset '%s' changed shape since the answer",
					 pt->dataset);
				ret = mpc_public(MPC_E_SHAPE, "dataset '%s' changed shape since the answer",
						 pt->dataset);
				mpc_free(&m);
				return ret;
			}
		}
	}
	if ((ret = job__res_open(j, md, &res)) != 0) {
		(void)job__res_close(&res, 0);
		mpc_free(&m);
		return ret;
	}
	net_set_phase(nt, NET_PH_SETUP);
	if ((ret = mpc_setup(&m)) == 0) {
		pthread_mutex_lock(&j->mu);
		j->rows_t0 = net_now();
		pthread_mutex_unlock(&j->mu);
		/* Offline of chunk k+1 overlaps chunk k online (eval_chunked asks the dealer ahead). */
		ret = eval_chunked(&m, plan, owner, in, md->n_inputs, job__chunk_done, &res, NULL);
	}
	/* Syncing the result file is storage, not the protocol. */
	net_clock_stop(nt);
	{
		int r2 = job__res_close(&res, !ret);

		ret = ret ? ret : r2;
	}
	mpc_free(&m);
	return ret;
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	struct eval_plan plan = { 0 };
	struct model *md = NULL;
	struct net nt = { .n_parties = j->n, .me = j->me, .ops = &jnet_ops, .ctx = j,
			  .on_phase = job__on_phase, .on_phase_arg = j };
	struct server_event *ev;
	int ret;

	/* Checked before setup: a refusal moves no byte. */
	if ((ret = job__model(j, 0, &md)) != 0 || (ret = job__plan(j, md, &plan)) != 0)
		goto out;
	if (j->me == j->n) {
		struct prg party[MPC_MAX_PARTIES];

		net_set_phase(&nt, NET_PH_SETUP);
		ret = dealer_setup(&nt, party);
		net_set_phase(&nt, NET_PH_OFFLINE);
		if (!ret)
			ret = eval_plan_deal(&plan, &nt, party);
		for (int i = 0; i < j->n; i++)
			prg_wipe(&party[i]);
	} else {
		ret = run_party(j, &nt, &plan);
	}
out:
	nt.on_phase = NULL;
	net_set_phase(&nt, nt.phase); /* closes the last phase's clock */
	pthread_mutex_lock(&j->mu);
	memcpy(j->st, nt.st, sizeof(j->st));
	pthread_mutex_unlock(&j->mu);
	/* Peers get the public line; the private one stays in this node's status and log. */
	if (ret) {
		snprintf(j->thread_err, sizeof(j->thread_err), "%s: %s",
			 j->srv->cfg->node.name, mpc_errpub(ret));
		snprintf(j->thread_detail, sizeof(j->thread_detail), "%s: %s",
			 j->srv->cfg->node.name, mpc_errmsg(ret));
	}
	j->thread_ret = ret;
	eval_plan_free(&plan);
	if (md != j->model)
		model_free(md);
	ev = calloc(1, sizeof(*ev));
	if (ev) {
		ev->job = j;
		pthread_mutex_lock(&j->srv->mu);
		ev->next = j->srv->events;
		j->srv->events = ev;
		pthread_mutex_unlock(&j->srv->mu);
	}
	srv_wake(j->srv);
	return NULL;
}

int job__start_thread(struct job *j)
{
	job__set_state(j, JOB_RUNNING, NULL);
	job__audit(j, "started", NULL);
	log_info("job %.8s started: party %d of %d%s", j->id, j->me, j->n,
		 j->me == j->n ? " (dealer)" : "");
	if (pthread_create(&j->thread, NULL, job_main, j))
		return MPC_E_INTERNAL;
	j->thread_started = 1;
	return 0;
}
