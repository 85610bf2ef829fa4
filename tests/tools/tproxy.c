/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * tproxy: a user-space TCP impairment proxy for the daemon tests.
 *
 *   tproxy --listen HOST:PORT --to HOST:PORT [--flip-after BYTES]
 *          [--delay-ms MS] [--rate-kbit KBIT] [--max-seconds S]
 *	Forwards each connection to --to and prints the port it listens on
 *	(port 0: any free one) alone on stdout. --flip-after N flips the low
 *	bit of the Nth byte forwarded client->server over the proxy's life,
 *	once. --delay-ms and --rate-kbit make each direction of a connection
 *	a link of that delay and rate: a chunk gets its release time when it
 *	arrives (serialised after the chunks before it, then the delay) and
 *	waits in a FIFO, so bulk traffic sees the delay once and the rate
 *	exactly. Exits after --max-seconds (default 600).
 *   tproxy --unix PATH [--send HEX] [--send-random N] [--max-seconds S]
 *	Sends the bytes to a Unix socket, closes its sending side, and prints
 *	"reply N bytes: TEXT" (printable bytes) of the answer, read until EOF
 *	or S seconds (default 5): garbage for a control socket.
 *
 * Single process, poll(2), at most MAX_CONN connections at a time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

#define MAX_CONN 8
#define CHUNK_MAX 65536
#define QUEUE_MIN (256 << 10)   /* queued per direction, then TCP pushes back */
#define QUEUE_NOLIMIT (16 << 20)

struct chunk {
	struct chunk *next;
	double release;         /* monotonic seconds */
	size_t len, off;        /* len 0: the sender's EOF */
	uint8_t data[];
};

struct dir {
	int from, to;
	struct chunk *head, *tail;
	size_t queued;
	double link_free;       /* when the emulated link finishes sending */
	int eof_read, eof_sent;
	int c2s;
};

struct conn {
	int used;
	struct dir d[2];        /* 0: client->server, 1: server->client */
};

struct opts {
	struct sockaddr_in listen, to;
	long long flip_after;
	double delay, rate;     /* seconds; bytes per second, 0 for no limit */
	double max_seconds;
};

static long long c2s_bytes;
static int flipped;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	long port = -1;
	int end = 0, ret = -1;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (sscanf(s, "%63[^:]:%ld%n", host, &port, &end) == 2 && !s[end] && port >= 0 &&
	    port <= 65535 && inet_pton(AF_INET, host, &sa->sin_addr) == 1) {
		sa->sin_port = htons((uint16_t)port);
		ret = 0;
	}
	return ret;
}

static size_t queue_cap(const struct opts *o)
{
	double cap = o->rate > 0 ? o->rate * (o->delay + 0.05) : QUEUE_NOLIMIT;

	return cap < QUEUE_MIN ? QUEUE_MIN : (size_t)cap;
}

static void conn_close(struct conn *c)
{
	for (int k = 0; k < 2; k++) {
		struct chunk *ch = c->d[k].head;

		while (ch) {
			struct chunk *nx = ch->next;

			free(ch);
			ch = nx;
		}
	}
	close(c->d[0].from);
	close(c->d[0].to);
	memset(c, 0, sizeof(*c));
}

/* Read one chunk into the direction's FIFO with its release time. */
static int dir_read(struct dir *d, const struct opts *o)
{
	size_t want = CHUNK_MAX;
	struct chunk *ch;
	double t = now_s();
	ssize_t n = -1;
	int ret = -1;

	/* A chunk leaves in one piece: keep it to ~10 ms of the link's rate. */
	if (o->rate > 0 && o->rate / 100 < want)
		want = o->rate / 100 < 1024 ? 1024 : (size_t)(o->rate / 100);
	if (!(ch = malloc(sizeof(*ch) + want)) || (n = read(d->from, ch->data, want)) < 0) {
		free(ch);
		ret = n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		goto out;
	}
	if (d->c2s && o->flip_after > 0 && !flipped && c2s_bytes + n >= o->flip_after) {
		ch->data[o->flip_after - c2s_bytes - 1] ^= 1;
		flipped = 1;
		fprintf(stderr, "tproxy: flipped a bit of client->server byte %lld\n", o->flip_after);
	}
	c2s_bytes += d->c2s ? n : 0;
	d->eof_read = n == 0;
	d->link_free = (d->link_free < t ? t : d->link_free) + (o->rate > 0 ? (double)n / o->rate : 0);
	*ch = (struct chunk){ .len = (size_t)n, .release = d->link_free + o->delay };
	if (d->tail)
		d->tail->next = ch;
	else
		d->head = ch;
	d->tail = ch;
	d->queued += (size_t)n;
	ret = 0;
out:
	return ret;
}

/* Write what is due; -1 when the connection is broken. */
static int dir_write(struct dir *d, double t)
{
	struct chunk *ch;
	ssize_t n = 0;

	while ((ch = d->head) && ch->release <= t) {
		if (!ch->len) {
			shutdown(d->to, SHUT_WR);
			d->eof_sent = 1;
		} else if ((n = write(d->to, ch->data + ch->off, ch->len - ch->off)) < 0 ||
			   (ch->off += (size_t)n) < ch->len) {
			break;
		}
		d->queued -= ch->len;
		d->head = ch->next;
		if (!d->head)
			d->tail = NULL;
		free(ch);
	}
	return n < 0 && errno != EAGAIN && errno != EINTR ? -1 : 0;
}

static void conn_open(struct conn *conns, int lfd, const struct opts *o)
{
	int fd[2] = { accept(lfd, NULL, NULL), -1 }, one = 1, i;

	for (i = 0; i < MAX_CONN && conns[i].used; i++)
		;
	/* Loopback connects at once: refused or done. */
	if (fd[0] < 0 || i == MAX_CONN || (fd[1] = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd[1], (const struct sockaddr *)&o->to, sizeof(o->to)) < 0) {
		fprintf(stderr, "tproxy: dropped a connection: %s\n",
			i == MAX_CONN ? "too many" : strerror(errno));
		for (int k = 0; k < 2; k++)
			if (fd[k] >= 0)
				close(fd[k]);
	} else {
		for (int k = 0; k < 2; k++) {
			setsockopt(fd[k], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			fcntl(fd[k], F_SETFL, fcntl(fd[k], F_GETFL) | O_NONBLOCK);
		}
		conns[i].used = 1;
		conns[i].d[0] = (struct dir){ .from = fd[0], .to = fd[1], .c2s = 1 };
		conns[i].d[1] = (struct dir){ .from = fd[1], .to = fd[0] };
	}
}

/*
 * Per connection two pollfds, one per socket: POLLIN for the direction
 * it is the source of, POLLOUT when the other direction has bytes due.
 */
static int poll_set(struct conn *conns, struct pollfd *pfd, const struct opts *o, double t,
		    double *wake)
{
	int np = 0;

	for (int i = 0; i < MAX_CONN; i++)
		for (int k = 0; k < 2 && conns[i].used; k++) {
			struct dir *d = &conns[i].d[k], *back = &conns[i].d[1 - k];
			short ev = !d->eof_read && d->queued < queue_cap(o) ? POLLIN : 0;

			if (back->head && back->head->release <= t)
				ev |= POLLOUT;
			else if (back->head && back->head->release < *wake)
				*wake = back->head->release;
			/* Nothing asked: no fd, so a hung-up socket cannot spin us. */
			pfd[np++] = (struct pollfd){ .fd = ev ? d->from : -1, .events = ev };
		}
	return np;
}

static int run_proxy(const struct opts *o)
{
	struct conn conns[MAX_CONN] = { 0 };
	struct pollfd pfd[1 + 2 * MAX_CONN];
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	double start = now_s(), t, max = o->max_seconds ? o->max_seconds : 600;
	int lfd, one = 1, ret = 1;

	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (const struct sockaddr *)&o->listen, sizeof(o->listen)) < 0 ||
	    listen(lfd, 16) < 0 || getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0) {
		fprintf(stderr, "tproxy: listen: %s\n", strerror(errno));
		goto out;
	}
	printf("%u\n", ntohs(sa.sin_port));
	fflush(stdout);
	while ((t = now_s()) - start < max) {
		double wake = start + max;
		int np;

		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		np = 1 + poll_set(conns, pfd + 1, o, t, &wake);
		wake -= t;
		if (poll(pfd, (nfds_t)np, wake <= 0 ? 0 : (int)(wake * 1000) + 1) < 0 && errno != EINTR)
			goto out;
		t = now_s();
		np = 1;
		for (int i = 0; i < MAX_CONN; i++) {
			int bad = 0;

			for (int k = 0; k < 2 && conns[i].used; k++, np++)
				if (!conns[i].d[k].eof_read &&
				    (pfd[np].revents & (POLLIN | POLLHUP | POLLERR)))
					bad |= dir_read(&conns[i].d[k], o);
			for (int k = 0; k < 2 && conns[i].used && !bad; k++)
				bad |= dir_write(&conns[i].d[k], t);
			if (conns[i].used && (bad || (conns[i].d[0].eof_sent && conns[i].d[1].eof_sent)))
				conn_close(&conns[i]);
		}
		/* New connections last: the pollfd slots above match conns[]. */
		if (pfd[0].revents & POLLIN)
			conn_open(conns, lfd, o);
	}
	ret = 0;
out:
	for (int i = 0; i < MAX_CONN; i++)
		if (conns[i].used)
			conn_close(&conns[i]);
	if (lfd >= 0)
		close(lfd);
	fprintf(stderr, "tproxy: forwarded %lld bytes client->server\n", c2s_bytes);
	return ret;
}

/*
 * Send hex bytes then n pseudo-random ones to a Unix socket and show the
 * answer. Blocking, with both socket timeouts set: bounded either way.
 */
static int run_unix(const char *path, const char *hex, long n_random, double max_seconds)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = (time_t)max_seconds + (max_seconds < 1) };
	size_t nhex = strlen(hex) / 2, len = nhex + (size_t)n_random, got = 0, off = 0;
	uint8_t *buf = malloc(len + 1), reply[4096];
	uint32_t x = 2463534242u;
	unsigned byte;
	ssize_t n;
	int fd = -1, ret = 1;

	if (!buf || strlen(path) >= sizeof(sa.sun_path))
		goto out;
	for (size_t i = 0; i < nhex && sscanf(hex + 2 * i, "%2x", &byte) == 1; i++)
		buf[i] = (uint8_t)byte;
	for (size_t i = nhex; i < len; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "tproxy: %s: %s\n", path, strerror(errno));
		goto out;
	}
	/* The daemon may answer and close before taking it all: not an error. */
	while (off < len && (n = write(fd, buf + off, len - off)) > 0)
		off += (size_t)n;
	shutdown(fd, SHUT_WR);
	while (got < sizeof(reply) && (n = read(fd, reply + got, sizeof(reply) - got)) > 0)
		got += (size_t)n;
	printf("sent %zu of %zu bytes, reply %zu bytes: ", off, len, got);
	for (size_t i = 0; i < got; i++)
		putchar(reply[i] >= 0x20 && reply[i] < 0x7f ? reply[i] : '.');
	putchar('\n');
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

static const char usage[] =
	"usage: tproxy --listen HOST:PORT --to HOST:PORT [--flip-after BYTES]\n"
	"              [--delay-ms MS] [--rate-kbit KBIT] [--max-seconds S]\n"
	"       tproxy --unix PATH [--send HEX] [--send-random N] [--max-seconds S]\n";

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	const char *unix_path = NULL, *hex = "";
	int have_listen = 0, have_to = 0, bad = 0, ret = 2;
	long n_random = 0;

	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc && !bad; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
		char *end;
		double num = strtod(v, &end);
		int isnum = *v && !*end && num >= 0;

		if (!strcmp(k, "--listen") && !parse_addr(v, &o.listen))
			have_listen = 1;
		else if (!strcmp(k, "--to") && !parse_addr(v, &o.to))
			have_to = 1;
		else if (!strcmp(k, "--flip-after") && isnum && num >= 1)
			o.flip_after = (long long)num;
		else if (!strcmp(k, "--delay-ms") && isnum)
			o.delay = num / 1e3;
		else if (!strcmp(k, "--rate-kbit") && isnum)
			o.rate = num * 1e3 / 8;
		else if (!strcmp(k, "--max-seconds") && isnum && num > 0)
			o.max_seconds = num;
		else if (!strcmp(k, "--unix") && *v)
			unix_path = v;
		else if (!strcmp(k, "--send") && strspn(v, "0123456789abcdefABCDEF") == strlen(v) &&
			 strlen(v) % 2 == 0)
			hex = v;
		else if (!strcmp(k, "--send-random") && isnum && num <= (1 << 24))
			n_random = (long)num;
		else
			bad = 1;
	}
	if (!bad && unix_path && !have_listen && !have_to)
		ret = run_unix(unix_path, hex, n_random, o.max_seconds ? o.max_seconds : 5);
	else if (!bad && !unix_path && have_listen && have_to)
		ret = run_proxy(&o);
	else
		fputs(usage, stderr);
	return ret;
}
