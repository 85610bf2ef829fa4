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
 *	exactly. Exits after --max-seconds (default 600) or on SIGTERM.
 *	--loss PCT and --reorder PCT are what the two ends of a TCP stream
 *	see of lost and reordered packets: each 1448-byte segment is lost
 *	with probability PCT/100 and then arrives one round trip (2 delays,
 *	at least 1 ms) late, or is reordered and arrives a quarter of that
 *	late; the bytes behind it wait for it (TCP delivers in order), the
 *	link keeps sending. --seed N fixes the draws. The counts are printed
 *	on stderr at exit ("N segments, N lost, N reordered").
 *
 *	--control reads commands from stdin, one a line, for faults at a
 *	moment the test chooses, and forwards client->server in whole units:
 *	the initiator's 105-byte handshake message, then mpcd frames
 *	([4-byte big-endian length L][L bytes]):
 *	  flip N     flip the low bit of the Nth client->server byte from now
 *	  hold N     forward N more client->server bytes, then none (prints
 *	             "held at BYTES" on stdout when it stops)
 *	  release    forward again
 *	  count      print "c2s BYTES" on stdout
 *	  cut        a partition: nothing moves either way on any
 *	             connection, no new one is accepted (prints "cut")
 *	  heal       forward again (prints "healed")
 *	  replay | reorder | drop
 *	             at the next client->server frame of FAULT_MIN bytes or
 *	             more: send it twice, after the frame that follows it (or
 *	             after 2 s), or not at all (prints "fault MODE" on stderr)
 *	--capture FILE writes each connection's handshake message to FILE.
 *   tproxy --unix PATH | --tcp HOST:PORT [--send HEX] [--send-random N]
 *          [--repeat N] [--max-seconds S]
 *	Sends the bytes to a Unix or TCP socket, closes its sending side, and
 *	prints "reply N bytes: TEXT" (printable bytes) of the answer, read
 *	until EOF or S seconds (default 5): garbage for a control socket, a
 *	replayed handshake for a peer port. --repeat N does it over N
 *	connections, 16 open at a time, and prints "N replies, N empty".
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

#define MAX_CONN 32
#define SEGMENT 1448            /* --loss and --reorder act per TCP segment */
#define CHUNK_MAX 65536
#define QUEUE_MIN (256 << 10)   /* queued per direction, then TCP pushes back */
#define QUEUE_NOLIMIT (16 << 20)
#define HS1_LEN 105             /* type byte and Noise IK message 1 */
#define FAULT_MIN 16384
#define FRAME_LIMIT ((16u << 20) + 64)

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
	double hol;             /* a lost segment: nothing is released before */
	int eof_read, eof_sent;
	int c2s;
	/* --control, client->server: the unit being assembled */
	uint8_t *unit;
	size_t ulen, ucap;
	int hs_done;
	uint8_t *held;          /* reorder: a frame waiting for the next one */
	size_t held_len;
	double held_t;
};

struct conn {
	int used;
	struct dir d[2];        /* 0: client->server, 1: server->client */
};

struct opts {
	struct sockaddr_in listen, to;
	long long flip_after;   /* from the start; "flip N" counts from now */
	double delay, rate;     /* seconds; bytes per second, 0 for no limit */
	double max_seconds;
	double loss, reorder;   /* probabilities per segment */
	int control;
	const char *capture;
};

static long long c2s_bytes;
static long long flip_at = -1, hold_at = -1;
static int held_said, cut;
static unsigned long long segs, lost, reordered;
static unsigned long long rng = 0x9e3779b97f4a7c15ull;
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* xorshift64*: a uniform draw in [0, 1). */
static double draw(void)
{
	rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
	return (double)((rng * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}
static enum { F_NONE, F_REPLAY, F_REORDER, F_DROP } fault;

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
		free(c->d[k].unit);
		free(c->d[k].held);
	}
	close(c->d[0].from);
	close(c->d[0].to);
	memset(c, 0, sizeof(*c));
}

/* Append bytes (len 0: the EOF) to the direction's FIFO with a release time. */
static int enqueue(struct dir *d, const struct opts *o, const uint8_t *b, size_t n)
{
	struct chunk *ch = malloc(sizeof(*ch) + n);
	double t = now_s();

	if (!ch)
		return -1;
	memcpy(ch->data, b, n);
	d->link_free = (d->link_free < t ? t : d->link_free) + (o->rate > 0 ? (double)n / o->rate : 0);
	/* A lost or reordered segment holds back itself and what follows. */
	for (size_t k = 0; k < n && (o->loss > 0 || o->reorder > 0); k += SEGMENT) {
		double late = 2 * o->delay < 1e-3 ? 1e-3 : 2 * o->delay, x = draw();

		segs++;
		if (x < o->loss)
			lost++;
		else if (x < o->loss + o->reorder)
			reordered++, late /= 4;
		else
			continue;
		if (d->link_free + o->delay + late > d->hol)
			d->hol = d->link_free + o->delay + late;
	}
	*ch = (struct chunk){ .len = n, .release = d->link_free + o->delay };
	if (ch->release < d->hol)
		ch->release = d->hol;
	if (d->tail)
		d->tail->next = ch;
	else
		d->head = ch;
	d->tail = ch;
	d->queued += n;
	return 0;
}

/* One whole unit (handshake message or frame) of client->server. */
static int unit_out(struct dir *d, const struct opts *o, const uint8_t *b, size_t n, int frame)
{
	static const char *names[] = { "", "replay", "reorder", "drop" };
	int ret = 0;

	if (frame && fault != F_NONE && n >= FAULT_MIN) {
		fprintf(stderr, "tproxy: fault %s on a frame of %zu bytes\n", names[fault], n);
		if (fault == F_REPLAY)
			ret = enqueue(d, o, b, n) || enqueue(d, o, b, n);
		else if (fault == F_REORDER && (d->held = malloc(n))) {
			memcpy(d->held, b, n);
			d->held_len = n;
			d->held_t = now_s();
		}
		fault = F_NONE;
		return ret;
	}
	ret = enqueue(d, o, b, n);
	if (!ret && d->held) {
		ret = enqueue(d, o, d->held, d->held_len);
		free(d->held);
		d->held = NULL;
	}
	return ret;
}

static int unit_feed(struct dir *d, const struct opts *o, const uint8_t *b, size_t n)
{
	while (n) {
		size_t want = HS1_LEN, take;

		if (d->hs_done && d->ulen < 4)
			want = 4;
		else if (d->hs_done)
			want = 4 + ((size_t)d->unit[0] << 24 | (size_t)d->unit[1] << 16 |
				    (size_t)d->unit[2] << 8 | d->unit[3]);
		if (want > FRAME_LIMIT)
			return -1;
		if (want > d->ucap) {
			uint8_t *nu = realloc(d->unit, want);

			if (!nu)
				return -1;
			d->unit = nu;
			d->ucap = want;
		}
		take = want - d->ulen < n ? want - d->ulen : n;
		memcpy(d->unit + d->ulen, b, take);
		d->ulen += take;
		b += take;
		n -= take;
		if (d->ulen < want || want == 4)
			continue;
		if (!d->hs_done && o->capture) {
			FILE *f = fopen(o->capture, "wb");

			if (f) {
				fwrite(d->unit, 1, d->ulen, f);
				fclose(f);
			}
		}
		if (unit_out(d, o, d->unit, d->ulen, d->hs_done))
			return -1;
		d->hs_done = 1;
		d->ulen = 0;
	}
	return 0;
}

/* Read one chunk into the direction's FIFO with its release time. */
static int dir_read(struct dir *d, const struct opts *o)
{
	uint8_t buf[CHUNK_MAX];
	size_t want = CHUNK_MAX;
	ssize_t n;

	/* A chunk leaves in one piece: keep it to ~10 ms of the link's rate. */
	if (o->rate > 0 && o->rate / 100 < want)
		want = o->rate / 100 < 1024 ? 1024 : (size_t)(o->rate / 100);
	if (d->c2s && hold_at >= 0 && (long long)want > hold_at - c2s_bytes)
		want = (size_t)(hold_at - c2s_bytes);
	if (!want)
		return 0;
	if ((n = read(d->from, buf, want)) < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (d->c2s && flip_at >= 0 && c2s_bytes + n >= flip_at) {
		buf[flip_at - c2s_bytes - 1] ^= 1;
		fprintf(stderr, "tproxy: flipped a bit of client->server byte %lld\n", flip_at);
		flip_at = -1;
	}
	c2s_bytes += d->c2s ? n : 0;
	d->eof_read = n == 0;
	if (d->c2s && o->control && n)
		return unit_feed(d, o, buf, (size_t)n);
	if (d->held) {
		if (enqueue(d, o, d->held, d->held_len))
			return -1;
		free(d->held);
		d->held = NULL;
	}
	return enqueue(d, o, buf, (size_t)n);
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
			int holding = cut || (d->c2s && hold_at >= 0 && c2s_bytes >= hold_at);
			short ev = !d->eof_read && !holding && d->queued < queue_cap(o) ? POLLIN : 0;

			if (cut)
				;
			else if (back->head && back->head->release <= t)
				ev |= POLLOUT;
			else if (back->head && back->head->release < *wake)
				*wake = back->head->release;
			/* Nothing asked: no fd, so a hung-up socket cannot spin us. */
			pfd[np++] = (struct pollfd){ .fd = ev ? d->from : -1, .events = ev };
		}
	return np;
}

/* One --control command; unknown ones are reported and ignored. */
static void command(char *line)
{
	long long n = -1;
	char word[16];

	if (sscanf(line, "%15s %lld", word, &n) < 1)
		return;
	if (!strcmp(word, "flip") && n > 0)
		flip_at = c2s_bytes + n;
	else if (!strcmp(word, "hold") && n >= 0)
		hold_at = c2s_bytes + n, held_said = 0;
	else if (!strcmp(word, "release"))
		hold_at = -1;
	else if (!strcmp(word, "count"))
		printf("c2s %lld\n", c2s_bytes);
	else if (!strcmp(word, "cut"))
		cut = 1, printf("cut\n");
	else if (!strcmp(word, "heal"))
		cut = 0, printf("healed\n");
	else if (!strcmp(word, "replay"))
		fault = F_REPLAY;
	else if (!strcmp(word, "reorder"))
		fault = F_REORDER;
	else if (!strcmp(word, "drop"))
		fault = F_DROP;
	else
		fprintf(stderr, "tproxy: unknown command '%s'\n", line);
	fflush(stdout);
}

/* Commands from stdin; 0 while it stays open. */
static int read_commands(void)
{
	static char line[256];
	static size_t len;
	ssize_t n = read(0, line + len, sizeof(line) - 1 - len);
	char *nl;

	if (n <= 0)
		return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	len += (size_t)n;
	line[len] = '\0';
	while ((nl = strchr(line, '\n'))) {
		*nl = '\0';
		command(line);
		len -= (size_t)(nl + 1 - line);
		memmove(line, nl + 1, len + 1);
	}
	if (len == sizeof(line) - 1)
		len = 0;
	return 0;
}

/* Timers of --control: the hold reached, a reordered frame overdue. */
static void control_tick(struct conn *conns, const struct opts *o, double t, double *wake)
{
	if (hold_at >= 0 && c2s_bytes >= hold_at && !held_said) {
		printf("held at %lld\n", c2s_bytes);
		fflush(stdout);
		held_said = 1;
	}
	for (int i = 0; i < MAX_CONN; i++) {
		struct dir *d = &conns[i].d[0];

		if (!conns[i].used || !d->held)
			continue;
		if (t - d->held_t >= 2.0) {
			fprintf(stderr, "tproxy: reorder: no frame followed in 2 s, sent as it was\n");
			if (!enqueue(d, o, d->held, d->held_len)) {
				free(d->held);
				d->held = NULL;
			}
		} else if (d->held_t + 2.0 < *wake) {
			*wake = d->held_t + 2.0;
		}
	}
}

static int run_proxy(const struct opts *o)
{
	struct conn conns[MAX_CONN] = { 0 };
	struct pollfd pfd[2 + 2 * MAX_CONN];
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	double start = now_s(), t, max = o->max_seconds ? o->max_seconds : 600;
	int lfd, one = 1, ret = 1, ctl_open = o->control;

	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (const struct sockaddr *)&o->listen, sizeof(o->listen)) < 0 ||
	    listen(lfd, 16) < 0 || getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0) {
		fprintf(stderr, "tproxy: listen: %s\n", strerror(errno));
		goto out;
	}
	printf("%u\n", ntohs(sa.sin_port));
	fflush(stdout);
	while ((t = now_s()) - start < max && !stop) {
		double wake = start + max;
		int np;

		if (o->control)
			control_tick(conns, o, t, &wake);
		pfd[0] = (struct pollfd){ .fd = cut ? -1 : lfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = ctl_open ? 0 : -1, .events = POLLIN };
		np = 2 + poll_set(conns, pfd + 2, o, t, &wake);
		wake -= t;
		if (wake > 0.5)         /* a SIGTERM between the test and poll */
			wake = 0.5;
		if (poll(pfd, (nfds_t)np, wake <= 0 ? 0 : (int)(wake * 1000) + 1) < 0 && errno != EINTR)
			goto out;
		t = now_s();
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR) && read_commands())
			ctl_open = 0;
		np = 2;
		for (int i = 0; i < MAX_CONN; i++) {
			int bad = 0;

			for (int k = 0; k < 2 && conns[i].used; k++, np++)
				if (!conns[i].d[k].eof_read &&
				    (pfd[np].revents & (POLLIN | POLLHUP | POLLERR)))
					bad |= dir_read(&conns[i].d[k], o);
			for (int k = 0; k < 2 && conns[i].used && !bad && !cut; k++)
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
	if (o->loss > 0 || o->reorder > 0)
		fprintf(stderr, "tproxy: %llu segments, %llu lost, %llu reordered\n", segs, lost,
			reordered);
	return ret;
}

struct target {
	const char *unix_path;
	struct sockaddr_in tcp;
};

static int dial(const struct target *tg, double max_seconds)
{
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = (time_t)max_seconds + (max_seconds < 1) };
	int fd = socket(tg->unix_path ? AF_UNIX : AF_INET, SOCK_STREAM, 0);

	if (tg->unix_path)
		memcpy(su.sun_path, tg->unix_path, strlen(tg->unix_path) + 1);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    (tg->unix_path ? connect(fd, (const struct sockaddr *)&su, sizeof(su)) :
			     connect(fd, (const struct sockaddr *)&tg->tcp, sizeof(tg->tcp))) < 0) {
		fprintf(stderr, "tproxy: %s: %s\n", tg->unix_path ? tg->unix_path : "connect",
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * Send hex bytes then n pseudo-random ones to a socket and show the
 * answer; with repeat > 1, over that many connections, 16 at a time.
 * Blocking, with both socket timeouts set: bounded either way.
 */
static int run_send(const struct target *tg, const char *hex, long n_random, long repeat,
		    double max_seconds)
{
	size_t nhex = strlen(hex) / 2, len = nhex + (size_t)n_random, got = 0, off = 0;
	uint8_t *buf = malloc(len + 1), reply[4096];
	long done = 0, replies = 0, empty = 0;
	uint32_t x = 2463534242u;
	unsigned byte;
	ssize_t n;
	int fds[16], ret = 1;

	if (!buf || (tg->unix_path && strlen(tg->unix_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)))
		goto out;
	for (size_t i = 0; i < nhex && sscanf(hex + 2 * i, "%2x", &byte) == 1; i++)
		buf[i] = (uint8_t)byte;
	for (size_t i = nhex; i < len; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
	while (done < repeat) {
		int k = 0;

		for (; k < 16 && done + k < repeat; k++)
			if ((fds[k] = dial(tg, max_seconds)) < 0)
				break;
		/* The daemon may answer and close before taking it all: not an error. */
		for (int i = 0; i < k; i++) {
			for (off = 0; off < len && (n = write(fds[i], buf + off, len - off)) > 0;)
				off += (size_t)n;
			shutdown(fds[i], SHUT_WR);
		}
		for (int i = 0; i < k; i++) {
			for (got = 0; got < sizeof(reply) &&
			     (n = read(fds[i], reply + got, sizeof(reply) - got)) > 0;)
				got += (size_t)n;
			close(fds[i]);
			replies += got > 0;
			empty += got == 0;
		}
		if (k == 0)
			goto out;
		done += k;
	}
	if (repeat > 1) {
		printf("%ld replies, %ld empty\n", replies, empty);
	} else {
		printf("sent %zu of %zu bytes, reply %zu bytes: ", off, len, got);
		for (size_t i = 0; i < got; i++)
			putchar(reply[i] >= 0x20 && reply[i] < 0x7f ? reply[i] : '.');
		putchar('\n');
	}
	ret = 0;
out:
	free(buf);
	return ret;
}

static const char usage[] =
	"usage: tproxy --listen HOST:PORT --to HOST:PORT [--flip-after BYTES]\n"
	"              [--delay-ms MS] [--rate-kbit KBIT] [--max-seconds S]\n"
	"              [--loss PCT] [--reorder PCT] [--seed N]\n"
	"              [--control] [--capture FILE]\n"
	"       tproxy --unix PATH | --tcp HOST:PORT [--send HEX] [--send-random N]\n"
	"              [--repeat N] [--max-seconds S]\n";

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct target tg = { 0 };
	const char *hex = "";
	int have_listen = 0, have_to = 0, have_tcp = 0, bad = 0, ret = 2;
	long n_random = 0, repeat = 1;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	for (int i = 1; i < argc && !bad; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
		char *end;
		double num = strtod(v, &end);
		int isnum = *v && !*end && num >= 0;

		if (!strcmp(k, "--control")) {
			o.control = 1;
			i--;
		} else if (!strcmp(k, "--listen") && !parse_addr(v, &o.listen)) {
			have_listen = 1;
		} else if (!strcmp(k, "--to") && !parse_addr(v, &o.to)) {
			have_to = 1;
		} else if (!strcmp(k, "--tcp") && !parse_addr(v, &tg.tcp)) {
			have_tcp = 1;
		} else if (!strcmp(k, "--capture") && *v) {
			o.capture = v;
		} else if (!strcmp(k, "--flip-after") && isnum && num >= 1) {
			o.flip_after = (long long)num;
		} else if (!strcmp(k, "--delay-ms") && isnum) {
			o.delay = num / 1e3;
		} else if (!strcmp(k, "--rate-kbit") && isnum) {
			o.rate = num * 1e3 / 8;
		} else if (!strcmp(k, "--loss") && isnum && num <= 100) {
			o.loss = num / 100;
		} else if (!strcmp(k, "--reorder") && isnum && num <= 100) {
			o.reorder = num / 100;
		} else if (!strcmp(k, "--seed") && isnum && num >= 1) {
			rng = (unsigned long long)num * 0x9e3779b97f4a7c15ull + 1;
		} else if (!strcmp(k, "--max-seconds") && isnum && num > 0) {
			o.max_seconds = num;
		} else if (!strcmp(k, "--unix") && *v) {
			tg.unix_path = v;
		} else if (!strcmp(k, "--send") && strspn(v, "0123456789abcdefABCDEF") == strlen(v) &&
			   strlen(v) % 2 == 0) {
			hex = v;
		} else if (!strcmp(k, "--send-random") && isnum && num <= (1 << 24)) {
			n_random = (long)num;
		} else if (!strcmp(k, "--repeat") && isnum && num >= 1 && num <= 100000) {
			repeat = (long)num;
		} else {
			bad = 1;
		}
	}
	flip_at = o.flip_after ? o.flip_after : -1;
	if (!bad && (tg.unix_path != NULL) + have_tcp == 1 && !have_listen && !have_to)
		ret = run_send(&tg, hex, n_random, repeat, o.max_seconds ? o.max_seconds : 5);
	else if (!bad && !tg.unix_path && !have_tcp && have_listen && have_to)
		ret = run_proxy(&o);
	else
		fputs(usage, stderr);
	return ret;
}
