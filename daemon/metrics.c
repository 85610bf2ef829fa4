/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The Prometheus endpoint (metrics.h): the text format writer, what the
 * daemon exposes, and a small HTTP/1.x server on the loop that answers
 * one GET /metrics per connection and closes it. It only reads counters
 * the lower layers keep (srv->stats, struct peer, struct job): link.c and
 * job*.c never call into it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "log.h"
#include "metrics.h"
#include "rd.h"

/* ---- the text format (exposition format 0.0.4) ---- */

static void put(struct metrics_buf *b, const char *s, size_t n)
{
	if (b->full)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > METRICS_BODY_MAX || !(p = realloc(b->p, cap))) {
			b->full = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct metrics_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void printf_(struct metrics_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(struct metrics_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		b->full = 1; /* never: numbers and names are short */
	else
		put(b, tmp, (size_t)n);
}

void metrics_buf_free(struct metrics_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* HELP text: backslash and newline escaped. */
void metrics_family(struct metrics_buf *b, const char *name, const char *type, const char *help)
{
	printf_(b, "# HELP %s ", name);
	for (const char *c = help; *c; c++)
		if (*c == '\\')
			puts_(b, "\\\\");
		else if (*c == '\n')
			puts_(b, "\\n");
		else
			put(b, c, 1);
	printf_(b, "\n# TYPE %s %s\n", name, type);
}

static void label(struct metrics_buf *b, int *first, const char *k, const char *v)
{
	puts_(b, *first ? "{" : ",");
	*first = 0;
	puts_(b, k);
	puts_(b, "=\"");
	for (const char *c = v; *c; c++)
		if (*c == '\\')
			puts_(b, "\\\\");
		else if (*c == '"')
			puts_(b, "\\\"");
		else if (*c == '\n')
			puts_(b, "\\n");
		else
			put(b, c, 1);
	puts_(b, "\"");
}

/* name{k="v",...}, and extra_k="extra_v" last when set (a bucket's le). */
static void series(struct metrics_buf *b, const char *name, const char *suffix,
		   const char *const *labels, const char *extra_k, const char *extra_v)
{
	int first = 1;

	puts_(b, name);
	puts_(b, suffix);
	for (size_t i = 0; labels && labels[i]; i += 2)
		label(b, &first, labels[i], labels[i + 1]);
	if (extra_k)
		label(b, &first, extra_k, extra_v);
	if (!first)
		puts_(b, "}");
}

void metrics_u64(struct metrics_buf *b, const char *name, const char *const *labels, uint64_t v)
{
	series(b, name, "", labels, NULL, NULL);
	printf_(b, " %llu\n", (unsigned long long)v);
}

void metrics_f64(struct metrics_buf *b, const char *name, const char *const *labels, double v)
{
	series(b, name, "", labels, NULL, NULL);
	printf_(b, " %.9g\n", v);
}

void metrics_hist(struct metrics_buf *b, const char *name, const char *const *labels,
		  const struct srv_hist *h)
{
	uint64_t cum = 0;
	char le[32];

	for (int i = 0; i < SRV_HIST_BUCKETS; i++) {
		cum += h->bucket[i];
		snprintf(le, sizeof(le), "%g", srv_hist_le[i]);
		series(b, name, "_bucket", labels, "le", le);
		printf_(b, " %llu\n", (unsigned long long)cum);
	}
	series(b, name, "_bucket", labels, "le", "+Inf");
	printf_(b, " %llu\n", (unsigned long long)h->count);
	series(b, name, "_sum", labels, NULL, NULL);
	printf_(b, " %.9g\n", h->sum);
	series(b, name, "_count", labels, NULL, NULL);
	printf_(b, " %llu\n", (unsigned long long)h->count);
}

/* ---- what this daemon exposes ---- */

static const char *const hs_reasons[SRV_HS_COUNT] = {
	[SRV_HS_OTHER] = "other",
	[SRV_HS_REFUSED] = "refused",
	[SRV_HS_RATE_LIMITED] = "rate_limited",
	[SRV_HS_MALFORMED] = "malformed",
	[SRV_HS_AUTH] = "auth",
	[SRV_HS_UNKNOWN_KEY] = "unknown_key",
	[SRV_HS_REPLAYED] = "replayed",
	[SRV_HS_HELLO] = "hello",
	[SRV_HS_TIMEOUT] = "timeout",
	[SRV_HS_CLOSED] = "closed",
};

static const char *const phases[NET_PH_COUNT] = {
	[NET_PH_SETUP] = "setup",   [NET_PH_OFFLINE] = "offline", [NET_PH_WEIGHTS] = "weights",
	[NET_PH_INPUT] = "input",   [NET_PH_ONLINE] = "online",   [NET_PH_OUTPUT] = "output",
};

#define N_STATES (JOB_ABORTED + 1)

static void render_jobs(struct server *s, struct metrics_buf *b)
{
	uint64_t by_state[N_STATES] = { 0 };
	const char *l[5];

	for (struct job *j = s->jobs; j; j = j->next) {
		pthread_mutex_lock(&j->mu);
		by_state[j->state]++;
		pthread_mutex_unlock(&j->mu);
	}
	metrics_family(b, "mpcd_jobs", "gauge",
		       "Jobs this node holds, by state (ended ones as long as JobHistory keeps them).");
	for (int st = 0; st < N_STATES; st++) {
		l[0] = "state", l[1] = job_state_name((enum job_state)st), l[2] = NULL;
		metrics_u64(b, "mpcd_jobs", l, by_state[st]);
	}
	metrics_family(b, "mpcd_jobs_ended_total", "counter",
		       "Jobs that ended on this node since it started, by final state.");
	l[0] = "state", l[1] = "finished", l[2] = NULL;
	metrics_u64(b, "mpcd_jobs_ended_total", l, s->stats.jobs_finished);
	l[1] = "aborted";
	metrics_u64(b, "mpcd_jobs_ended_total", l, s->stats.jobs_aborted);

	metrics_family(b, "mpcd_job_phase_duration_seconds", "histogram",
		       "Wall time of each phase of this node's part of a job, observed when its thread ends.");
	for (int ph = 0; ph < NET_PH_COUNT; ph++) {
		l[0] = "phase", l[1] = phases[ph], l[2] = NULL;
		metrics_hist(b, "mpcd_job_phase_duration_seconds", l, &s->stats.phase_secs[ph]);
	}
	metrics_family(b, "mpcd_job_phase_rounds_total", "counter",
		       "Communication rounds of this node's parts of jobs, by phase.");
	for (int ph = 0; ph < NET_PH_COUNT; ph++) {
		l[0] = "phase", l[1] = phases[ph], l[2] = NULL;
		metrics_u64(b, "mpcd_job_phase_rounds_total", l, s->stats.phase_rounds[ph]);
	}

	metrics_family(b, "mpcd_job_memory_limit_bytes", "gauge",
		       "JobMemory: the bound on each job's plan and on the bytes buffered for it.");
	metrics_u64(b, "mpcd_job_memory_limit_bytes", NULL, s->cfg->node.job_memory);
	metrics_family(b, "mpcd_job_memory_in_use_bytes", "gauge",
		       "A running job's plan (correlated randomness and buffers) and the bytes "
		       "buffered from its peers, checked against JobMemory.");
	for (struct job *j = s->jobs; j; j = j->next) {
		uint64_t used;
		int running;

		pthread_mutex_lock(&j->mu);
		running = j->state == JOB_RUNNING;
		used = j->plan_bytes + j->buffered;
		pthread_mutex_unlock(&j->mu);
		if (!running)
			continue;
		l[0] = "job", l[1] = j->id, l[2] = NULL;
		metrics_u64(b, "mpcd_job_memory_in_use_bytes", l, used);
	}
}

static void render_peers(struct server *s, struct metrics_buf *b)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "mpcd_peer_link_up", "gauge", "1 while the authenticated link to the peer is up." },
		{ "mpcd_peer_sent_bytes_total", "counter",
		  "Bytes sent to the peer on its links (sealed frames, headers included)." },
		{ "mpcd_peer_received_bytes_total", "counter",
		  "Bytes received from the peer on its links (sealed frames, headers included)." },
		{ "mpcd_peer_sent_messages_total", "counter",
		  "Jobs' protocol messages sent to the peer: one per round that sends it one." },
		{ "mpcd_peer_received_messages_total", "counter",
		  "Jobs' protocol messages received from the peer: one per round that sends one." },
	};

	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		metrics_family(b, fam[f].name, fam[f].type, fam[f].help);
		for (size_t i = 0; i < s->n_peers; i++) {
			struct peer *p = &s->peers[i];
			const char *l[] = { "peer", p->cfg->name, NULL };
			uint64_t v[5];

			pthread_mutex_lock(&p->mu);
			v[0] = p->link != NULL;
			v[1] = p->bytes_sent;
			v[3] = p->msgs_sent;
			pthread_mutex_unlock(&p->mu);
			v[2] = p->bytes_recv;
			v[4] = p->msgs_recv;
			metrics_u64(b, fam[f].name, l, v[f]);
		}
	}
	metrics_family(b, "mpcd_handshake_failures_total", "counter",
		       "Links that failed before they were up, by reason.");
	for (int r = 0; r < SRV_HS_COUNT; r++) {
		const char *l[] = { "reason", hs_reasons[r], NULL };

		metrics_u64(b, "mpcd_handshake_failures_total", l, s->stats.hs_fail[r]);
	}
}

void metrics_render(struct server *s, struct metrics_buf *b)
{
	const char *l[] = { "node", s->cfg->node.name, "role", cfg_role_name(s->cfg->node.role),
			    NULL };

	metrics_family(b, "mpcd_node_info", "gauge", "This daemon: its node name and role.");
	metrics_u64(b, "mpcd_node_info", l, 1);
	render_jobs(s, b);
	render_peers(s, b);
}

/* ---- the request ---- */

/* The head's end ("\r\n\r\n" or "\n\n"), or 0. */
static size_t head_end(const uint8_t *p, size_t len)
{
	for (size_t i = 1; i < len; i++)
		if (p[i] == '\n' && (p[i - 1] == '\n' || (i >= 3 && !memcmp(p + i - 3, "\r\n\r", 3))))
			return i + 1;
	return 0;
}

/*
 * The next token of the request line, up to a space (the line's end when
 * last): 0, -1 not a request line, -2 longer than cap.
 */
static int token(struct rd *r, char *out, size_t cap, int last)
{
	size_t n = 0;
	uint8_t c;

	for (;;) {
		if (rd_get_u8(r, &c) != 0)
			return -1;
		if (c == (last ? '\n' : ' '))
			break;
		if (last && c == '\r')
			continue;
		if (c < 0x21 || c > 0x7e)
			return -1;
		if (n + 1 >= cap)
			return -2;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return n ? 0 : -1;
}

int metrics_request(const uint8_t *p, size_t len)
{
	char method[16], target[256], version[16];
	size_t end = head_end(p, len);
	struct rd r;
	int t;

	if (!end)
		return len >= METRICS_REQ_MAX ? 431 : 0;
	rd_init(&r, p, end);
	if ((t = token(&r, method, sizeof(method), 0)) != 0)
		return t == -2 ? 405 : 400;
	if ((t = token(&r, target, sizeof(target), 0)) != 0)
		return t == -2 ? 414 : 400;
	if (token(&r, version, sizeof(version), 1) != 0 || strncmp(version, "HTTP/1.", 7))
		return 400;
	if (strcmp(method, "GET"))
		return 405;
	if (strcmp(target, "/metrics") && strncmp(target, "/metrics?", 9))
		return 404;
	return 200;
}

/* ---- the HTTP server ---- */

struct metrics_conn {
	enum srv_tcp_kind kind; /* first: SRV_TCP_METRICS (tcp.data is the connection) */
	uv_tcp_t tcp;
	struct metrics *m;
	struct metrics_conn *next, *prev;
	double t_open;          /* loop time: accepted, or its reply began */
	int replied;
	uv_write_t w;
	uv_shutdown_t sh;
	struct metrics_buf head, body; /* the reply, written from here */
	size_t len;             /* bytes of the request in req */
	uint8_t req[METRICS_REQ_MAX];
};

struct metrics {
	enum srv_tcp_kind kind; /* first: SRV_TCP_METRICS (listener.data is this) */
	uv_tcp_t listener;
	uv_timer_t timer;
	struct server *srv;
	struct metrics_conn *conns;
	unsigned n_conns;
	int handles;            /* open: the struct goes with the last */
	char where[CFG_HOST_SIZE + 16];
};

static void handle_closed(struct metrics *m)
{
	if (--m->handles == 0) {
		if (m->srv->metrics == m)
			m->srv->metrics = NULL;
		free(m);
	}
}

static void conn_closed(uv_handle_t *h)
{
	struct metrics_conn *c = h->data;
	struct metrics *m = c->m;

	if (c->prev)
		c->prev->next = c->next;
	else
		m->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	m->n_conns--;
	metrics_buf_free(&c->head);
	metrics_buf_free(&c->body);
	free(c);
	handle_closed(m);
}

static void conn_close(struct metrics_conn *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void on_shutdown(uv_shutdown_t *sh, int status)
{
	if (status < 0)
		conn_close(sh->data);
}

/*
 * The reply is out: send FIN and read (and drop) what the client still
 * sends until it closes, or METRICS_TIMEOUT. Closing at once with unread
 * bytes (the rest of an oversized request) would send a reset that can
 * destroy the reply before the client reads it.
 */
static void on_written(uv_write_t *w, int status)
{
	struct metrics_conn *c = w->data;

	c->sh.data = c;
	if (status < 0 || uv_shutdown(&c->sh, (uv_stream_t *)&c->tcp, on_shutdown) < 0)
		conn_close(c);
}

static const char *status_text(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	default: return "Internal Server Error";
	}
}

/* Answer and close: the scrape for 200, one line of text otherwise. */
static void reply(struct metrics_conn *c, int code)
{
	struct metrics_buf *head = &c->head, *body = &c->body;
	uv_buf_t ub[2];

	c->replied = 1;
	c->len = 0; /* from now on req only takes what is dropped */
	c->t_open = srv_now(c->m->srv);
	if (code == 200) {
		metrics_render(c->m->srv, body);
		if (body->full)
			code = 500;
	}
	if (code != 200) {
		metrics_buf_free(body);
		printf_(body, "%d %s\n", code, status_text(code));
	}
	printf_(head, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		"Connection: close\r\n\r\n", code, status_text(code),
		code == 200 ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8",
		body->len, code == 405 ? "Allow: GET\r\n" : "");
	if (head->full || body->full || !head->p || !body->p) {
		conn_close(c);
		return;
	}
	c->w.data = c;
	ub[0] = uv_buf_init(head->p, (unsigned)head->len);
	ub[1] = uv_buf_init(body->p, (unsigned)body->len);
	if (uv_write(&c->w, (uv_stream_t *)&c->tcp, ub, 2, on_written) < 0)
		conn_close(c);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct metrics_conn *c = h->data;

	(void)hint;
	*b = uv_buf_init((char *)c->req + c->len, (unsigned)(sizeof(c->req) - c->len));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct metrics_conn *c = st->data;
	int code;

	(void)b;
	if (n < 0) {
		conn_close(c);
		return;
	}
	if (c->replied) {
		c->len = 0; /* dropped: the reply is out */
		return;
	}
	c->len += (size_t)n;
	if ((code = metrics_request(c->req, c->len)) != 0)
		reply(c, code);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct metrics *m = server->data;
	struct metrics_conn *c;

	if (status < 0 || !(c = calloc(1, sizeof(*c))))
		return;
	c->kind = SRV_TCP_METRICS;
	c->m = m;
	c->t_open = srv_now(m->srv);
	c->next = m->conns;
	if (c->next)
		c->next->prev = c;
	m->conns = c;
	m->n_conns++;
	m->handles++;
	uv_tcp_init(m->srv->loop, &c->tcp);
	c->tcp.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
		conn_close(c);
		return;
	}
	if (m->n_conns > METRICS_CONN_MAX) {
		log_warn_rl("metrics %s: %d scrapes open, closed one", m->where, METRICS_CONN_MAX);
		conn_close(c);
		return;
	}
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/*
 * Every second: a request not read within METRICS_TIMEOUT gets 408; a
 * connection still open METRICS_TIMEOUT after its reply began is closed.
 */
static void on_timer(uv_timer_t *t)
{
	struct metrics *m = t->data;
	double now = srv_now(m->srv);

	for (struct metrics_conn *c = m->conns; c; c = c->next) {
		if (uv_is_closing((uv_handle_t *)&c->tcp) || now - c->t_open <= METRICS_TIMEOUT)
			continue;
		if (c->replied) {
			conn_close(c);
		} else {
			log_info_rl("metrics %s: a request took over %d s", m->where, METRICS_TIMEOUT);
			reply(c, 408);
		}
	}
}

static void listener_closed(uv_handle_t *h)
{
	handle_closed(h->data);
}

static void timer_closed(uv_handle_t *h)
{
	handle_closed(h->data);
}

void metrics_close(struct server *s)
{
	struct metrics *m = s->metrics;

	if (!m)
		return;
	for (struct metrics_conn *c = m->conns; c; c = c->next)
		conn_close(c);
	if (!uv_is_closing((uv_handle_t *)&m->timer))
		uv_close((uv_handle_t *)&m->timer, timer_closed);
	if (!uv_is_closing((uv_handle_t *)&m->listener))
		uv_close((uv_handle_t *)&m->listener, listener_closed);
}

int metrics_listen(struct server *s)
{
	const struct cfg_endpoint *ep = &s->cfg->node.metrics_listen;
	struct sockaddr_storage ss;
	struct metrics *m;
	int r;

	if (!ep->set)
		return 0;
	if (ep->family == AF_INET6)
		r = uv_ip6_addr(ep->host, ep->port, (struct sockaddr_in6 *)&ss);
	else
		r = uv_ip4_addr(ep->host, ep->port, (struct sockaddr_in *)&ss);
	if (r < 0)
		return mpc_fail(MPC_E_ARG, "MetricsListen %s:%u: not a numeric address",
				ep->host, ep->port);
	if (!(m = calloc(1, sizeof(*m))))
		return mpc_fail(MPC_E_NOMEM, "MetricsListen: out of memory");
	m->kind = SRV_TCP_METRICS;
	m->srv = s;
	snprintf(m->where, sizeof(m->where), ep->family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 ep->host, ep->port);
	s->metrics = m;
	uv_tcp_init(s->loop, &m->listener);
	uv_timer_init(s->loop, &m->timer);
	m->listener.data = m->timer.data = m;
	m->handles = 2;
	if ((r = uv_tcp_bind(&m->listener, (struct sockaddr *)&ss, 0)) < 0 ||
	    (r = uv_listen((uv_stream_t *)&m->listener, 16, on_connection)) < 0) {
		/* Both handles free m once closed (the caller runs the loop to its end). */
		metrics_close(s);
		return mpc_fail(MPC_E_IO, "MetricsListen %s: %s", m->where, uv_strerror(r));
	}
	uv_timer_start(&m->timer, on_timer, 1000, 1000);
	log_info("metrics on http://%s/metrics", m->where);
	return 0;
}
