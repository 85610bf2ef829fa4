/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Job life cycle on the loop thread (docs/daemon.md, "Jobs"):
 *
 *   proposer                         model owner (when not the proposer)
 *   submit: policy             --->  Propose: policy, approval, its graph
 *                              <---  Answer: accept (+ public graph hash)
 *                                    every other participant
 *   Propose (+ hash)           --->  policy, AllowModels, approval
 *                                    JobGetModel to the owner, JobModel back:
 *                                    checked against the hash, then datasets
 *                              <---  Answer: accept (+ shapes, the hash)
 *   all accepted: Start        --->  Start: must match what was accepted
 *   run (job thread)                 run (job thread)
 *   all Done: finished, Done   <-->  Done (ran well) / Abort(reason)
 *                                    (job_end.c: one end on every party)
 *
 * A refusal or failure anywhere aborts the job on every party with the
 * first reason (a public line: the detail stays with the node that failed);
 * nothing of any input is read before the graph is checked, and nothing of
 * it is sent before every party accepted.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "job.h"
#include "log.h"
#include "npy.h"
#include "policy.h"
#include "ring.h"

const char *job_state_name(enum job_state st)
{
	static const char *names[] = { "proposed", "pending-approval", "accepted",
				       "running", "finished", "aborted" };

	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

struct job *job_find(struct server *s, const char *id)
{
	for (struct job *j = s->jobs; j; j = j->next)
		if (!strcmp(j->id, id))
			return j;
	return NULL;
}

Mpcpb__JobSpec *job__spec_dup(const Mpcpb__JobSpec *s)
{
	size_t n = mpcpb__job_spec__get_packed_size(s);
	uint8_t *b = malloc(n ? n : 1);
	Mpcpb__JobSpec *c;

	if (!b)
		return NULL;
	mpcpb__job_spec__pack(s, b);
	c = mpcpb__job_spec__unpack(NULL, n, b);
	free(b);
	return c;
}

int job__ep_of(const struct job *j, const char *node)
{
	for (int i = 0; i < j->n; i++)
		if (!strcmp(j->spec->parties[i], node))
			return i;
	if (j->n_ep > j->n && !strcmp(j->spec->dealer, node))
		return j->n;
	return -1;
}

int job__audit(struct job *j, const char *event, const char *reason)
{
	struct audit_field f[7];
	size_t n = 0;
	int ret;

	if (!j->srv->audit)
		return 0;
	char model[2 * WIRE_MAX_NAME + 2];

	snprintf(model, sizeof(model), "%s:%s", j->spec->model_node, j->spec->model_name);
	f[n++] = AUDIT_STR("proposer", j->spec->proposer);
	f[n++] = AUDIT_STR("model", model);
	if (j->graph_hash[0])
		f[n++] = AUDIT_STR("graph_sha256", j->graph_hash);
	if (reason)
		f[n++] = AUDIT_STR("reason", reason);
	if (j->state == JOB_FINISHED || j->state == JOB_ABORTED) {
		long long sent, recv;

		/* An aborted job's thread may still be counting: under its lock. */
		pthread_mutex_lock(&j->mu);
		sent = (long long)j->bytes_sent;
		recv = (long long)j->bytes_recv;
		pthread_mutex_unlock(&j->mu);
		f[n++] = AUDIT_INT("bytes_sent", sent);
		f[n++] = AUDIT_INT("bytes_recv", recv);
	}
	/*
	 * A lost line is an error in the daemon's log now, and the next
	 * proposal is refused (a job nobody could audit does not start):
	 * docs/daemon.md, "Audit log".
	 */
	if ((ret = audit_event(j->srv->audit, event, j->id, f, n)) != 0)
		log_err("job %.8s: %s", j->id, mpc_errmsg(ret));
	return ret;
}

void job__free(struct job *j)
{
	j->thread_started = 0; /* joined by the caller */
	job__release(j);
	if (j->spec)
		mpcpb__job_spec__free_unpacked(j->spec, NULL);
	if (j->record)
		mpcctlpb__job_info__free_unpacked(j->record, NULL);
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	free(j);
}

/* A job from a spec; participants resolved to peers. */
struct job *job__new(struct server *s, const Mpcpb__JobSpec *spec, char *why, size_t len)
{
	const char *self = s->cfg->node.name;
	struct job *j = calloc(1, sizeof(*j));

	if (!j || !(j->spec = job__spec_dup(spec))) {
		free(j);
		snprintf(why, len, "out of memory");
		return NULL;
	}
	snprintf(j->id, sizeof(j->id), "%s", spec->id);
	j->srv = s;
	j->n = (int)spec->n_parties;
	j->n_ep = j->n + 1;
	j->me = -1;
	j->created = j->updated = time(NULL);
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	for (int e = 0; e < j->n_ep; e++) {
		const char *name = e < j->n ? spec->parties[e] : spec->dealer;
		struct peer *p;

		if (!strcmp(name, self)) {
			if (j->me >= 0) {
				snprintf(why, len, "this node is listed twice");
				goto fail;
			}
			j->me = e;
			continue;
		}
		if (!(p = srv_peer_by_name(s, name))) {
			snprintf(why, len, "party '%s' is not a configured peer", name);
			goto fail;
		}
		if ((e < j->n) != (p->cfg->role == CFG_ROLE_COMPUTE)) {
			snprintf(why, len, "'%s' is configured as a %s", name, cfg_role_name(p->cfg->role));
			goto fail;
		}
		j->ep_peer[e] = p;
	}
	if (j->me < 0) {
		snprintf(why, len, "this node is not a participant");
		goto fail;
	}
	return j;
fail:
	job__free(j);
	return NULL;
}

int job__send_all(struct job *j, const Mpcpb__Frame *f)
{
	int ret = 0, r;

	for (int e = 0; e < j->n_ep; e++)
		if (e != j->me && j->ep_peer[e] && (r = peer_send(j->ep_peer[e], f)) != 0 && !ret)
			ret = r;
	return ret;
}

/* An ended job keeps its record (for status) but not its data. */
void job__release(struct job *j)
{
	if (j->thread_started)
		return;
	pthread_mutex_lock(&j->mu);
	for (int e = 0; e < JOB_MAX_EP; e++) {
		struct jmsg *m = j->q[e].head;

		while (m) {
			struct jmsg *nx = m->next;

			job_msg_free(m);
			m = nx;
		}
		j->q[e].head = j->q[e].tail = NULL;
		/* The thread has ended: a posted buffer is no longer ours to touch. */
		if (j->q[e].cur && !j->q[e].cur_posted) {
			sodium_memzero(j->q[e].cur, j->q[e].cur_len);
			ring_free(j->q[e].cur, j->q[e].cur_len);
		}
		j->q[e].cur = j->q[e].posted = NULL;
		j->q[e].cur_len = j->q[e].cur_off = j->q[e].posted_len = 0;
		j->q[e].cur_posted = j->q[e].posted_full = j->q[e].busy = 0;
	}
	j->buffered = 0;
	pthread_mutex_unlock(&j->mu);
	for (int i = 0; i < WIRE_MAX_INPUTS; i++)
		for (int k = 0; k < WIRE_MAX_PARTS; k++)
			ftensor_free(&j->parts[i][k]);
	model_free(j->model);
	j->model = NULL;
	free(j->graph);
	j->graph = NULL;
	j->graph_len = 0;
	free(j->wexp);
	j->wexp = NULL;
}

/* Loop thread: a job reaching its end (was: the state before), counted once. */
void job__count_end(struct job *j, enum job_state was)
{
	if (was == JOB_FINISHED || was == JOB_ABORTED)
		return;
	if (j->state == JOB_FINISHED)
		j->srv->stats.jobs_finished++;
	else if (j->state == JOB_ABORTED)
		j->srv->stats.jobs_aborted++;
}

void job__set_state(struct job *j, enum job_state st, const char *reason)
{
	enum job_state was;

	pthread_mutex_lock(&j->mu);
	was = j->state;
	j->state = st;
	if (reason && !j->reason[0])
		snprintf(j->reason, sizeof(j->reason), "%.*s", WIRE_MAX_REASON, reason);
	pthread_mutex_unlock(&j->mu);
	j->updated = time(NULL);
	job__count_end(j, was);
	if (st == JOB_RUNNING || st == JOB_FINISHED || st == JOB_ABORTED)
		job__record_save(j);
}

/*
 * Abort here (once) and, when broadcast, on every other participant with
 * the same reason.
 */
void job__abort(struct job *j, const char *reason, int broadcast)
{
	Mpcpb__Frame f = MPCPB__FRAME__INIT;
	Mpcpb__JobAbort ab = MPCPB__JOB_ABORT__INIT;

	if (j->state == JOB_FINISHED || j->state == JOB_ABORTED)
		return;
	job__abort_local(j, reason);
	job__release(j);
	/* Nobody fetches a result of a job that ended aborted. */
	if (!j->thread_started)
		job__drop_result(j);
	log_info("job %.8s: aborted: %s", j->id, j->reason);
	job__audit(j, "aborted", j->reason);
	job__record_save(j);
	if (broadcast) {
		ab.id = j->id;
		ab.reason = j->reason;
		f.msg_case = MPCPB__FRAME__MSG_ABORT;
		f.abort = &ab;
		job__send_all(j, &f);
	}
}

/*
 * Two failures at once (a peer closing two links) give two reasons; the
 * proposer's word settles which one every party shows. The proposer passes
 * on the first reason it meets, and a party that already aborted with
 * another one takes the proposer's when it arrives.
 */
static void on_abort(struct job *j, struct peer *from, const char *reason)
{
	int from_proposer = !strcmp(from->cfg->name, j->spec->proposer);

	if (j->state != JOB_ABORTED) {
		job__abort(j, reason, j->proposer_here);
		return;
	}
	if (!from_proposer || !strncmp(j->reason, reason, WIRE_MAX_REASON))
		return;
	log_info("job %.8s: the proposer ended it with: %s (here: %s)", j->id, reason, j->reason);
	pthread_mutex_lock(&j->mu);
	snprintf(j->reason, sizeof(j->reason), "%.*s", WIRE_MAX_REASON, reason);
	pthread_mutex_unlock(&j->mu);
	job__audit(j, "aborted", j->reason);
	job__record_save(j);
}

void job__fail(struct job *j, const char *pub, const char *detail)
{
	if (j->state == JOB_FINISHED || j->state == JOB_ABORTED)
		return;
	if (detail && *detail) {
		pthread_mutex_lock(&j->mu);
		if (!j->detail[0])
			snprintf(j->detail, sizeof(j->detail), "%.*s", WIRE_MAX_REASON, detail);
		pthread_mutex_unlock(&j->mu);
		/* The local log only: job__abort logs and sends pub. */
		log_info("job %.8s: failed here: %s", j->id, detail);
	}
	job__abort(j, pub, 1);
}

int job__parse_ref(const char *s, char *node, char *name)
{
	const char *c = strchr(s, ':');

	if (!c || (size_t)(c - s) > WIRE_MAX_NAME || strlen(c + 1) > WIRE_MAX_NAME)
		return -1;
	snprintf(node, WIRE_MAX_NAME + 1, "%.*s", (int)(c - s), s);
	snprintf(name, WIRE_MAX_NAME + 1, "%s", c + 1);
	return wire_valid_name(node) && wire_valid_name(name) ? 0 : -1;
}


static size_t active_jobs(struct server *s)
{
	size_t n = 0;

	for (struct job *j = s->jobs; j; j = j->next)
		n += j->state != JOB_FINISHED && j->state != JOB_ABORTED;
	return n;
}

static void on_propose(struct server *s, struct peer *from, const Mpcpb__JobPropose *pr)
{
	const Mpcpb__JobSpec *spec = pr->spec;
	char why[WIRE_MAX_REASON + 1] = "";
	struct job *j;
	int manual = 0, owner_here = !strcmp(spec->model_node, s->cfg->node.name);

	if (strcmp(spec->proposer, from->cfg->name)) {
		snprintf(why, sizeof(why), "%s may not propose in the name of %s",
			 from->cfg->name, spec->proposer);
		job__answer_refuse(s, from, spec->id, why);
		return;
	}
	if (job_find(s, spec->id)) {
		job__answer_refuse(s, from, spec->id, "duplicate job id");
		return;
	}
	if (active_jobs(s) >= s->cfg->node.max_jobs) {
		snprintf(why, sizeof(why), "%s is running its maximum of %u jobs (MaxJobs)",
			 s->cfg->node.name, s->cfg->node.max_jobs);
		job__answer_refuse(s, from, spec->id, why);
		return;
	}
	if (!(j = job__new(s, spec, why, sizeof(why)))) {
		char r[REASON_BUF];

		snprintf(r, sizeof(r), "%s: %s", s->cfg->node.name, why);
		job__answer_refuse(s, from, spec->id, r);
		return;
	}
	j->next = s->jobs;
	s->jobs = j;
	/* The owner computes the hash itself; every other party needs it now. */
	if (!owner_here && pr->graph_hash && *pr->graph_hash)
		snprintf(j->graph_hash, sizeof(j->graph_hash), "%s", pr->graph_hash);
	if (job__audit(j, "proposed", NULL) != 0)
		snprintf(why, sizeof(why), "%s", JOB_NO_AUDIT);
	else if (!owner_here && !j->graph_hash[0])
		snprintf(why, sizeof(why), "the proposal names no public graph hash");
	if (why[0] || job__policy(j, &manual, why, sizeof(why)) != 0) {
		char r[REASON_BUF];

		snprintf(r, sizeof(r), "%s: %s", s->cfg->node.name, why);
		job__answer_refuse(s, from, j->id, r);
		job__set_state(j, JOB_ABORTED, r);
		job__audit(j, "refused", r);
		log_info("job %.8s from %s refused: %s", j->id, from->cfg->name, why);
		return;
	}
	/*
	 * Everything this node can check is checked before its operator sees
	 * the job (job_answer.c): the graph, then this node's part read and
	 * its shapes; a job that cannot run is refused, never held.
	 */
	j->manual = manual;
	job__graph_request(j);
	(void)job__answer_when_ready(j);
}

static int same_str(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* Start must carry exactly the job this node accepted (dims, and chunk_rows left to the proposer, aside). */
static int start_matches(const Mpcpb__JobSpec *a, const Mpcpb__JobSpec *b)
{
	if (!same_str(a->id, b->id) || !same_str(a->proposer, b->proposer) ||
	    !same_str(a->model_node, b->model_node) || !same_str(a->model_name, b->model_name) ||
	    !same_str(a->dealer, b->dealer) || a->frac_bits != b->frac_bits ||
	    a->n_parties != b->n_parties || a->n_recipients != b->n_recipients ||
	    a->n_inputs != b->n_inputs || (a->chunk_rows && a->chunk_rows != b->chunk_rows))
		return 0;
	for (size_t i = 0; i < a->n_parties; i++)
		if (!same_str(a->parties[i], b->parties[i]))
			return 0;
	for (size_t i = 0; i < a->n_recipients; i++)
		if (!same_str(a->recipients[i], b->recipients[i]))
			return 0;
	for (size_t i = 0; i < a->n_inputs; i++) {
		const Mpcpb__InputBinding *x = a->inputs[i], *y = b->inputs[i];

		if (!same_str(x->name, y->name) || x->n_parts != y->n_parts ||
		    (x->axis != -1 && x->axis != y->axis))
			return 0;
		for (size_t k = 0; k < x->n_parts; k++)
			if (!same_str(x->parts[k]->node, y->parts[k]->node) ||
			    !same_str(x->parts[k]->dataset, y->parts[k]->dataset))
				return 0;
	}
	return 1;
}

static void on_start(struct server *s, struct peer *from, const Mpcpb__JobStart *st)
{
	struct job *j = job_find(s, st->spec->id);
	Mpcpb__JobSpec *final;

	if (!j || j->state != JOB_ACCEPTED || strcmp(j->spec->proposer, from->cfg->name)) {
		log_warn("ignored a start for job %.8s from %s", st->spec->id, from->cfg->name);
		return;
	}
	if (!start_matches(j->spec, st->spec)) {
		job__abort(j, "start does not match the accepted job", 1);
		return;
	}
	/* What runs here is the graph this node checked, and the proposer's too. */
	if (!j->graph || strcmp(st->graph_hash, j->graph_hash)) {
		char r[REASON_BUF];

		snprintf(r, sizeof(r), "%s: the start names the public graph %.8s..., this node checked %.8s...",
			 s->cfg->node.name, st->graph_hash, j->graph_hash);
		job__abort(j, r, 1);
		return;
	}
	if (!(final = job__spec_dup(st->spec))) {
		job__abort(j, "out of memory", 1);
		return;
	}
	mpcpb__job_spec__free_unpacked(j->spec, NULL);
	j->spec = final;
	if (job__start_thread(j) != 0)
		job__abort(j, "cannot start the job thread", 1);
}

static void on_frame(struct server *s, struct peer *from, const Mpcpb__Frame *f)
{
	struct job *j;

	switch (f->msg_case) {
	case MPCPB__FRAME__MSG_PROPOSE:
		on_propose(s, from, f->propose);
		break;
	case MPCPB__FRAME__MSG_GET_MODEL:
		job__on_get_model(s, from, f->get_model);
		break;
	case MPCPB__FRAME__MSG_MODEL:
		job__on_model(s, from, f->model);
		break;
	case MPCPB__FRAME__MSG_ANSWER:
		if ((j = job_find(s, f->answer->id)) != NULL)
			job__on_answer(j, from, f->answer);
		break;
	case MPCPB__FRAME__MSG_START:
		on_start(s, from, f->start);
		break;
	case MPCPB__FRAME__MSG_DATA:
		job__on_data(s, from, f->data);
		break;
	case MPCPB__FRAME__MSG_ABORT:
		if ((j = job_find(s, f->abort->id)) != NULL && job__ep_of(j, from->cfg->name) >= 0)
			on_abort(j, from, f->abort->reason ? f->abort->reason : "aborted");
		break;
	case MPCPB__FRAME__MSG_DONE:
		if ((j = job_find(s, f->done->id)) != NULL)
			job__on_done(j, from);
		break;
	default:
		break;
	}
}

static void on_peer_lost(struct server *s, struct peer *p, const char *why)
{
	char r[REASON_BUF];

	const char *a = s->cfg->node.name, *b = p->cfg->name;

	/* The same words on every party, whichever end saw the loss first. */
	if (strcmp(a, b) > 0) {
		const char *t = a;

		a = b;
		b = t;
	}
	snprintf(r, sizeof(r), "link between %s and %s lost", a, b);
	(void)why;
	for (struct job *j = s->jobs; j; j = j->next)
		if (j->state != JOB_FINISHED && j->state != JOB_ABORTED &&
		    job__ep_of(j, p->cfg->name) >= 0)
			job__abort(j, r, 1);
}

/*
 * A link back up: the proposer tells that party again how each job they
 * shared ended aborted, if it ended lately. A party whose links all broke
 * at once (it closed them itself) never heard the proposer's reason and
 * kept its own; on_abort takes the proposer's word when it comes.
 */
static void on_peer_up(struct server *s, struct peer *p)
{
	Mpcpb__Frame f = MPCPB__FRAME__INIT;
	Mpcpb__JobAbort ab = MPCPB__JOB_ABORT__INIT;
	time_t now = time(NULL);

	f.msg_case = MPCPB__FRAME__MSG_ABORT;
	f.abort = &ab;
	for (struct job *j = s->jobs; j; j = j->next) {
		int shared = 0;

		if (!j->proposer_here || j->state != JOB_ABORTED || !j->reason[0] ||
		    now - j->updated > JOB_END_RESEND_SECS)
			continue;
		for (int e = 0; e < j->n_ep; e++)
			shared |= e != j->me && j->ep_peer[e] == p;
		if (!shared)
			continue;
		ab.id = j->id;
		ab.reason = j->reason;
		(void)peer_send(p, &f);
	}
}

void job__answer_refuse(struct server *s, struct peer *to, const char *id, const char *why)
{
	Mpcpb__Frame f = MPCPB__FRAME__INIT;
	Mpcpb__JobAnswer a = MPCPB__JOB_ANSWER__INIT;
	char cut[WIRE_MAX_REASON + 1];

	snprintf(cut, sizeof(cut), "%.*s", WIRE_MAX_REASON, why);
	a.id = (char *)id;
	a.accept = 0;
	a.reason = cut;
	f.msg_case = MPCPB__FRAME__MSG_ANSWER;
	f.answer = &a;
	(void)peer_send(to, &f);
	(void)s;
}

const struct link_handlers job_link_handlers = {
	.on_frame = on_frame,
	.on_peer_lost = on_peer_lost,
	.on_peer_up = on_peer_up,
	.chunk_begin = job__chunk_begin,
	.chunk_end = job__chunk_end,
};
