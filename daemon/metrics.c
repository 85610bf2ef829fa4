/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The Prometheus endpoint (metrics.h): a small HTTP/1.x server on the
 * loop that answers one GET /metrics per connection (the text from
 * metrics_text.c) and closes it. It only reads counters the lower layers
 * keep (srv->stats, struct peer, struct job): link.c and job*.c never
 * call into it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "rd.h"

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
		metrics_printf(body, "%d %s\n", code, status_text(code));
	}
	metrics_printf(head, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
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
