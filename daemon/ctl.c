/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The control socket: a Unix socket of mode 0600 (only this node's
 * operator), one length-prefixed Request and Reply per connection
 * (proto/ctl.proto, docs/ctl.md). Requests are capped at CTL_REQUEST_MAX
 * before anything is allocated for them. At most SRV_CTL_MAX connections
 * are open at once, each for at most SRV_CTL_TIMEOUT seconds, so a stuck
 * client cannot hold descriptors the peers and jobs need.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlmsg.h"
#include "job.h"
#include "log.h"
#include "node_check.h"
#include "npy.h"
#include "server.h"

struct ctl_conn {
	uv_pipe_t pipe;
	struct server *srv;
	struct ctl_conn *next, *prev; /* s->ctl_conns */
	double t_open;
	uint8_t *buf;
	size_t len;
	int done;
	int refused;  /* over SRV_CTL_MAX: the request is read, then refused */
};

static void conn_closed(uv_handle_t *h)
{
	struct ctl_conn *c = h->data;
	struct server *s = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->ctl_conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_ctl--;
	free(c->buf);
	free(c);
}

static void conn_close(struct ctl_conn *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->pipe))
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

/* A reply may carry a result (plaintext): its bytes are wiped once written. */
struct reply_req {
	uv_write_t w; /* first: the callback gets it */
	size_t len;
	uint8_t data[];
};

static void on_reply_written(uv_write_t *w, int status)
{
	struct reply_req *q = (struct reply_req *)w;
	struct ctl_conn *c = w->data;

	(void)status;
	sodium_memzero(q->data, q->len);
	free(q);
	conn_close(c);
}

static void send_reply(struct ctl_conn *c, const Mpcctlpb__Reply *r)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct reply_req *q = NULL;
	uv_buf_t b;

	c->done = 1;
	if (ctl_pack_reply(r, &buf, &len) != 0 || len - 4 > CTL_REPLY_MAX ||
	    !(q = malloc(sizeof(*q) + len))) {
		if (buf)
			sodium_memzero(buf, len);
		free(buf);
		conn_close(c);
		return;
	}
	memcpy(q->data, buf, len);
	q->len = len;
	sodium_memzero(buf, len);
	free(buf);
	q->w.data = c;
	b = uv_buf_init((char *)q->data, (unsigned)len);
	if (uv_write(&q->w, (uv_stream_t *)&c->pipe, &b, 1, on_reply_written) < 0) {
		sodium_memzero(q->data, len);
		free(q);
		conn_close(c);
	}
}

static void reply_error(struct ctl_conn *c, const char *msg)
{
	Mpcctlpb__Reply r = MPCCTLPB__REPLY__INIT;

	r.ok = 0;
	r.error = (char *)msg;
	send_reply(c, &r);
}

static void do_peers(struct ctl_conn *c)
{
	struct server *s = c->srv;
	Mpcctlpb__Reply r = MPCCTLPB__REPLY__INIT;
	Mpcctlpb__PeerInfo *info = calloc(s->n_peers + 1, sizeof(*info));
	Mpcctlpb__PeerInfo **pi = calloc(s->n_peers + 1, sizeof(*pi));
	char (*ep)[300] = calloc(s->n_peers + 1, sizeof(*ep));
	size_t k = 0;

	if (!info || !pi || !ep) {
		reply_error(c, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < s->n_peers; i++) {
		struct peer *p = &s->peers[i];

		if (p->removed)
			continue; /* no longer configured (a reload) */
		mpcctlpb__peer_info__init(&info[i]);
		info[i].name = (char *)p->cfg->name;
		info[i].role = (char *)cfg_role_name(p->cfg->role);
		if (p->cfg->endpoint.set)
			snprintf(ep[i], sizeof(ep[i]), "%s:%u", p->cfg->endpoint.host,
				 p->cfg->endpoint.port);
		info[i].endpoint = ep[i];
		info[i].connected = p->link != NULL;
		info[i].since = p->since;
		info[i].last_error = p->last_error;
		info[i].bytes_sent = p->bytes_sent;
		info[i].bytes_recv = p->bytes_recv;
		info[i].rekeys = p->rekeys;
		info[i].last_handshake = p->last_handshake;
		info[i].cipher = (char *)(p->link && p->cipher ? p->cipher : "");
		info[i].key_problem = p->key_problem;
		info[i].key_problem_at = p->key_problem[0] ? p->key_problem_at : 0;
		pi[k++] = &info[i];
	}
	r.ok = 1;
	r.n_peers = k;
	r.peers = pi;
	r.key_problem = s->key_problem;
	r.key_problem_at = s->key_problem[0] ? s->key_problem_at : 0;
	send_reply(c, &r);
out:
	free(info);
	free(pi);
	free(ep);
}

/* An exact id, or a unique prefix of at least 6 digits. */
static struct job *find_job(struct server *s, const char *id, char *err, size_t len)
{
	struct job *hit = NULL;
	size_t n = id ? strlen(id) : 0, count = 0;

	if (n < 6) {
		snprintf(err, len, "job id '%s' too short", id ? id : "");
		return NULL;
	}
	for (struct job *j = s->jobs; j; j = j->next)
		if (!strncmp(j->id, id, n)) {
			hit = j;
			count++;
		}
	if (count != 1)
		snprintf(err, len, count ? "job id '%s' is ambiguous" : "no job '%s'", id);
	return count == 1 ? hit : NULL;
}

/* One job's status (id: with its progress steps after since), or every job's. */
static void do_jobs(struct ctl_conn *c, const char *id, uint64_t since)
{
	struct server *s = c->srv;
	Mpcctlpb__Reply r = MPCCTLPB__REPLY__INIT;
	size_t n = 0, k = 0;
	Mpcctlpb__JobInfo *info = NULL, **pi = NULL;
	Mpcctlpb__Step *st = NULL, **pst = NULL;
	char (*bufs)[80] = NULL, err[200], **names = NULL;
	struct job *one = NULL;

	if (id && !(one = find_job(s, id, err, sizeof(err)))) {
		reply_error(c, err);
		return;
	}
	for (struct job *j = s->jobs; j; j = j->next)
		n++;
	info = calloc(n + 1, sizeof(*info));
	pi = calloc(n + 1, sizeof(*pi));
	bufs = calloc(n + 1, sizeof(*bufs));
	names = calloc((n + 1) * 2 * JOB_MAX_EP, sizeof(*names));
	st = calloc(one ? JOB_STEPS : 1, sizeof(*st));
	pst = calloc(one ? JOB_STEPS : 1, sizeof(*pst));
	if (!info || !pi || !bufs || !names || !st || !pst) {
		reply_error(c, "out of memory");
		goto out;
	}
	for (struct job *j = s->jobs; j; j = j->next) {
		if (one && j != one)
			continue;
		mpcctlpb__job_info__init(&info[k]);
		job_info(j, &info[k], bufs[k], sizeof(bufs[k]));
		/* The steps only for one job: a list shows where each is now. */
		job_info_progress(j, one ? since : UINT64_MAX - 1, &info[k], st, pst,
				  names + k * 2 * JOB_MAX_EP);
		pi[k] = &info[k];
		k++;
	}
	r.ok = 1;
	r.n_jobs = k;
	r.jobs = pi;
	send_reply(c, &r);
out:
	free(info);
	free(pi);
	free(bufs);
	free(names);
	free(st);
	free(pst);
}

static void do_result(struct ctl_conn *c, const char *id)
{
	Mpcctlpb__Reply r = MPCCTLPB__REPLY__INIT;
	Mpcctlpb__Result res = MPCCTLPB__RESULT__INIT;
	struct ftensor t = { 0 };
	char err[200], path[4096];
	struct job *j = find_job(c->srv, id, err, sizeof(err));
	int ret;

	if (!j) {
		reply_error(c, err);
		return;
	}
	if (j->state != JOB_FINISHED || !j->result_here) {
		snprintf(err, sizeof(err), "job %s has no result on this node (%s%s)", j->id,
			 job_state_name(j->state),
			 j->state == JOB_FINISHED ? ", not a recipient" : "");
		reply_error(c, err);
		return;
	}
	if (job__result_path(j, path, sizeof(path)) || (ret = npy_load(path, &t)) != 0) {
		snprintf(err, sizeof(err), "result of job %s: %s", j->id, mpc_errmsg(MPC_E_IO));
		reply_error(c, err);
		return;
	}
	if (t.n * sizeof(float) + 1024 > CTL_REPLY_MAX) {
		reply_error(c, "result too large for the control socket; read it from DataDir/results");
		ftensor_free(&t);
		return;
	}
	res.n_dims = (size_t)t.ndim;
	res.dims = t.dims;
	res.n_data = t.n;
	res.data = t.data;
	r.ok = 1;
	r.result = &res;
	send_reply(c, &r);
	ftensor_free(&t);
}

static void dispatch(struct ctl_conn *c, const Mpcctlpb__Request *q)
{
	char err[512] = "", id[WIRE_ID_LEN + 1];
	Mpcctlpb__Reply r = MPCCTLPB__REPLY__INIT;
	struct job *j;

	switch (q->req_case) {
	case MPCCTLPB__REQUEST__REQ_PEERS:
		do_peers(c);
		return;
	case MPCCTLPB__REQUEST__REQ_SUBMIT:
		if (job_submit(c->srv, q->submit, id, err, sizeof(err)) != 0) {
			reply_error(c, err);
			return;
		}
		r.ok = 1;
		r.job_id = id;
		/* What was proposed, for `submit --json`. */
		if ((j = job_find(c->srv, id)) != NULL) {
			Mpcctlpb__JobInfo info = MPCCTLPB__JOB_INFO__INIT;
			char model[80];

			job_info(j, &info, model, sizeof(model));
			r.submitted = &info;
			send_reply(c, &r);
			return;
		}
		send_reply(c, &r);
		return;
	case MPCCTLPB__REQUEST__REQ_LIST:
		do_jobs(c, NULL, 0);
		return;
	case MPCCTLPB__REQUEST__REQ_STATUS:
		do_jobs(c, q->status->id, q->status->since);
		return;
	case MPCCTLPB__REQUEST__REQ_APPROVE:
	case MPCCTLPB__REQUEST__REQ_CANCEL: {
		const char *want = q->req_case == MPCCTLPB__REQUEST__REQ_APPROVE ?
					   q->approve->id : q->cancel->id;

		if (!(j = find_job(c->srv, want, err, sizeof(err))) ||
		    (q->req_case == MPCCTLPB__REQUEST__REQ_APPROVE ?
			     job_approve(c->srv, j->id, err, sizeof(err)) :
			     job_cancel(c->srv, j->id, err, sizeof(err))) != 0) {
			reply_error(c, err[0] ? err : "failed");
			return;
		}
		r.ok = 1;
		send_reply(c, &r);
		return;
	}
	case MPCCTLPB__REQUEST__REQ_RESULT:
		do_result(c, q->result->id);
		return;
	default:
		reply_error(c, "unknown request");
	}
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct ctl_conn *c = h->data;

	(void)hint;
	if (!c->buf)
		c->buf = malloc(4 + CTL_REQUEST_MAX);
	*b = c->buf ? uv_buf_init((char *)c->buf + c->len, (unsigned)(4 + CTL_REQUEST_MAX - c->len)) :
		      uv_buf_init(NULL, 0);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct ctl_conn *c = st->data;
	Mpcctlpb__Request *q;
	size_t want;

	(void)b;
	if (c->done)
		return;
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	if (c->len < 4)
		return;
	want = (size_t)c->buf[0] << 24 | (size_t)c->buf[1] << 16 | (size_t)c->buf[2] << 8 | c->buf[3];
	if (want > CTL_REQUEST_MAX) {
		reply_error(c, "request too large");
		return;
	}
	if (c->len < 4 + want) {
		if (c->len == 4 + CTL_REQUEST_MAX)
			reply_error(c, "request too large");
		return;
	}
	uv_read_stop(st);
	if (c->refused) {
		char msg[80];

		log_warn_rl("control socket: %u connections open, refused one", c->srv->n_ctl - 1);
		snprintf(msg, sizeof(msg), "too many control connections open (%d); try again",
			 SRV_CTL_MAX);
		reply_error(c, msg);
		return;
	}
	if (!(q = mpcctlpb__request__unpack(NULL, want, c->buf + 4))) {
		reply_error(c, "malformed request");
		return;
	}
	dispatch(c, q);
	mpcctlpb__request__free_unpacked(q, NULL);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct server *s = server->data;
	struct ctl_conn *c;

	if (status < 0 || !(c = calloc(1, sizeof(*c))))
		return;
	c->srv = s;
	c->t_open = srv_now(s);
	c->next = s->ctl_conns;
	if (c->next)
		c->next->prev = c;
	s->ctl_conns = c;
	s->n_ctl++;
	uv_pipe_init(s->loop, &c->pipe, 0);
	c->pipe.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
		conn_close(c);
		return;
	}
	/*
	 * Counted with the refused ones, which hold a descriptor until they are
	 * answered: a refused request is read first (a client still writing
	 * would otherwise meet a closed socket instead of the reason), up to
	 * SRV_CTL_MAX of them; beyond that, closed at once.
	 */
	c->refused = s->n_ctl > SRV_CTL_MAX;
	if (s->n_ctl > 2 * SRV_CTL_MAX) {
		log_warn_rl("control socket: %u connections open, closed one", s->n_ctl - 1);
		conn_close(c);
		return;
	}
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

/* Every second: a connection open longer than SRV_CTL_TIMEOUT is closed. */
static void on_ctl_timer(uv_timer_t *t)
{
	struct server *s = t->data;
	double now = srv_now(s);

	for (struct ctl_conn *c = s->ctl_conns; c; c = c->next)
		if (now - c->t_open > SRV_CTL_TIMEOUT && !uv_is_closing((uv_handle_t *)&c->pipe)) {
			log_info_rl("control connection closed: open for over %d s", SRV_CTL_TIMEOUT);
			conn_close(c);
		}
}

void ctl_close_all(struct server *s)
{
	for (struct ctl_conn *c = s->ctl_conns; c; c = c->next)
		conn_close(c);
}

/* A leftover socket file from a crashed daemon is removed; a live one is an error. */
static int clear_stale(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, live;

	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return mpc_fail(MPC_E_IO, "ControlSocket %s exists and is not a socket", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	live = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	if (live)
		return mpc_fail(MPC_E_IO, "ControlSocket %s: another mpcd is running", path);
	unlink(path);
	return 0;
}

int ctl_check_dir(const struct server *s)
{
	const char *path = s->cfg->node.control_socket;
	char dir[4096];

	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return mpc_fail(MPC_E_ARG, "ControlSocket %s: path too long", path);
	node_dir_of(path, dir, sizeof(dir));
	return node_check_dir("ControlSocket's directory", dir);
}

int ctl_listen(struct server *s)
{
	const char *path = s->cfg->node.control_socket;
	char dir[4096];
	mode_t old;
	int r, ret;

	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return mpc_fail(MPC_E_ARG, "ControlSocket %s: path too long", path);
	/* /run/mpcd outside the unit's RuntimeDirectory; the socket is 0600, its directory 0755. */
	node_dir_of(path, dir, sizeof(dir));
	if ((ret = node_make_dir("ControlSocket's directory", dir, 0755)) != 0 ||
	    (ret = clear_stale(path)) != 0)
		return ret;
	uv_pipe_init(s->loop, &s->ctl, 0);
	s->ctl.data = s;
	old = umask(0177);
	r = uv_pipe_bind(&s->ctl, path);
	umask(old);
	if (r < 0)
		return mpc_fail(MPC_E_IO, "ControlSocket %s: %s", path, uv_strerror(r));
	s->ctl_bound = 1;
	chmod(path, 0600);
	if ((r = uv_listen((uv_stream_t *)&s->ctl, 16, on_connection)) < 0)
		return mpc_fail(MPC_E_IO, "ControlSocket %s: %s", path, uv_strerror(r));
	uv_timer_init(s->loop, &s->ctl_timer);
	s->ctl_timer.data = s;
	uv_timer_start(&s->ctl_timer, on_ctl_timer, 1000, 1000);
	return 0;
}
