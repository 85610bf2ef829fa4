/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * pflood: hostile clients for the pre-authentication tests
 * (tests/daemon/test_hostile.sh), bounded in time and count.
 *
 *   pflood --tcp HOST:PORT [--from A.B.C.D] [--sources N] --junk RATE
 *	RATE connections a second, spread evenly, each sending a 105-byte
 *	handshake message 1 of junk (type 1, random bytes) and waiting for
 *	the daemon to close it (at most 10 s); at most 64 open at once.
 *   pflood --tcp HOST:PORT [--from ...] [--sources N] --hold N
 *   pflood --unix PATH --hold N
 *	Keeps N connections open, sending nothing; ones the daemon closes
 *	are opened again (at most 200 a second), or with --until-closed not,
 *	and pflood ends when all are closed.
 *   Both: --seconds S (1..600, required) and --max COUNT connections
 *	(default 100000). --from binds each connection to A.B.C.D, the next
 *	address, ... (--sources of them, default 1): loopback accepts any
 *	127/8 address, so one host is several sources.
 *
 * Prints when it ends (after S seconds, COUNT connections, SIGTERM, or
 * all closed): "connections N, closed by the server N, replies N,
 * failed N, open N, seconds S" (replies: connections that got any byte
 * back; failed: connect errors and ones never closed within 10 s;
 * seconds: when the last one was closed, with --until-closed).
 * Single process, poll(2).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_OPEN 2000
#define JUNK_INFLIGHT 64
#define JUNK_WAIT 10.0
#define HOLD_REOPEN_RATE 200.0
#define HS1_LEN 105

struct conn {
	int fd;
	int sent;      /* junk: the message is written */
	int replied;
	double t_open;
};

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct opts {
	struct sockaddr_in tcp;
	const char *unix_path;
	struct in_addr from;
	int have_from, sources, hold, until_closed;
	double junk, seconds;
	long max;
};

static long conns_made, closed_by_server, replies, failed;
static uint32_t rnd = 2463534242u;

/* A non-blocking connection, from the next source address. */
static int open_one(const struct opts *o)
{
	static int next_src;
	int fd = socket(o->unix_path ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int r;

	if (fd < 0)
		return -1;
	if (o->unix_path) {
		struct sockaddr_un su = { .sun_family = AF_UNIX };

		snprintf(su.sun_path, sizeof(su.sun_path), "%s", o->unix_path);
		r = connect(fd, (struct sockaddr *)&su, sizeof(su));
	} else {
		if (o->have_from) {
			struct sockaddr_in b = { .sin_family = AF_INET };

			b.sin_addr.s_addr = htonl(ntohl(o->from.s_addr) + (uint32_t)next_src);
			next_src = (next_src + 1) % o->sources;
			if (bind(fd, (struct sockaddr *)&b, sizeof(b)) < 0) {
				close(fd);
				return -1;
			}
		}
		r = connect(fd, (const struct sockaddr *)&o->tcp, sizeof(o->tcp));
	}
	if (r < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	conns_made++;
	return fd;
}

static void junk_send(struct conn *c)
{
	uint8_t m[HS1_LEN];

	m[0] = 1;
	for (int i = 1; i < HS1_LEN; i++) {
		rnd ^= rnd << 13, rnd ^= rnd >> 17, rnd ^= rnd << 5;
		m[i] = (uint8_t)rnd;
	}
	/* Refused or closed already: the read below sees it. */
	if (write(c->fd, m, sizeof(m)) < 0 && errno != EAGAIN && errno != EINPROGRESS)
		return;
	c->sent = 1;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	o->sources = 1;
	o->max = 100000;
	for (int i = 1; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char host[64];
		unsigned port;

		if (!strcmp(k, "--until-closed")) {
			o->until_closed = 1;
			continue;
		}
		if (!v)
			return -1;
		i++;
		if (!strcmp(k, "--tcp")) {
			if (sscanf(v, "%63[^:]:%u", host, &port) != 2 || port > 65535 ||
			    inet_pton(AF_INET, host, &o->tcp.sin_addr) != 1)
				return -1;
			o->tcp.sin_family = AF_INET;
			o->tcp.sin_port = htons((uint16_t)port);
		} else if (!strcmp(k, "--unix")) {
			o->unix_path = v;
		} else if (!strcmp(k, "--from")) {
			if (inet_pton(AF_INET, v, &o->from) != 1)
				return -1;
			o->have_from = 1;
		} else if (!strcmp(k, "--sources")) {
			o->sources = atoi(v);
		} else if (!strcmp(k, "--junk")) {
			o->junk = atof(v);
		} else if (!strcmp(k, "--hold")) {
			o->hold = atoi(v);
		} else if (!strcmp(k, "--seconds")) {
			o->seconds = atof(v);
		} else if (!strcmp(k, "--max")) {
			o->max = atol(v);
		} else {
			return -1;
		}
	}
	if (o->sources < 1 || o->sources > 250 || !(o->seconds >= 1 && o->seconds <= 600) ||
	    o->max < 1 || (o->junk > 0) == (o->hold > 0) || o->hold > MAX_OPEN ||
	    o->junk > 10000 || !o->unix_path == !o->tcp.sin_family ||
	    (o->unix_path && o->junk > 0))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static struct conn cs[MAX_OPEN];
	static struct pollfd pf[MAX_OPEN];
	struct opts o = { 0 };
	int n = 0, want;
	double t0, t_last = 0, allow = 0, t_prev;

	if (parse_args(argc, argv, &o) != 0) {
		fprintf(stderr, "usage: pflood --tcp HOST:PORT [--from A.B.C.D] [--sources N] "
				"(--junk RATE | --hold N [--until-closed]) --seconds S [--max N]\n"
				"       pflood --unix PATH --hold N [--until-closed] --seconds S\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGPIPE, SIG_IGN);
	want = o.hold ? o.hold : JUNK_INFLIGHT;
	t0 = t_prev = now_s();
	while (!stop) {
		double now = now_s();
		double rate = o.hold ? HOLD_REOPEN_RATE : o.junk;

		if (now - t0 >= o.seconds)
			break;
		/* New connections: a token bucket of `rate` a second (the first N at once). */
		allow += (now - t_prev) * rate;
		t_prev = now;
		if (o.hold && conns_made == 0)
			allow = o.hold;
		if (allow > rate + want)
			allow = rate + want;
		while (n < want && allow >= 1 && conns_made < o.max &&
		       !(o.until_closed && conns_made >= o.hold)) {
			int fd = open_one(&o);

			allow -= 1;
			if (fd < 0) {
				failed++;
				break;
			}
			cs[n] = (struct conn){ .fd = fd, .t_open = now };
			n++;
		}
		if (n == 0 && (conns_made >= o.max || (o.until_closed && conns_made >= o.hold)))
			break;
		for (int i = 0; i < n; i++) {
			pf[i].fd = cs[i].fd;
			pf[i].events = POLLIN | (o.junk > 0 && !cs[i].sent ? POLLOUT : 0);
			pf[i].revents = 0;
		}
		/* Junk every millisecond or so: a smooth flood, not bursts with gaps. */
		if (poll(pf, (nfds_t)n, o.junk > 0 ? 1 : 10) < 0 && errno != EINTR)
			break;
		now = now_s();
		for (int i = 0; i < n; i++) {
			struct conn *c = &cs[i];
			int gone = 0;

			if ((pf[i].revents & POLLOUT) && !c->sent)
				junk_send(c);
			if (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				char buf[512];
				ssize_t r = read(c->fd, buf, sizeof(buf));

				if (r > 0) {
					c->replied = 1;
				} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
					closed_by_server += c->sent || o.hold;
					failed += !c->sent && !o.hold;
					replies += c->replied;
					gone = 1;
					t_last = now;
				}
			}
			if (!gone && o.junk > 0 && now - c->t_open > JUNK_WAIT) {
				failed++;
				gone = 1;
			}
			if (gone) {
				close(c->fd);
				cs[i] = cs[--n];
				pf[i] = pf[n];
				i--;
			}
		}
	}
	for (int i = 0; i < n; i++)
		close(cs[i].fd);
	printf("connections %ld, closed by the server %ld, replies %ld, failed %ld, open %d, "
	       "seconds %.1f\n", conns_made, closed_by_server, replies, failed, n,
	       (o.until_closed && t_last > 0 ? t_last : now_s()) - t0);
	return 0;
}
