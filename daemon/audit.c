/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct audit {
	int fd;
	bool sync;
	char *path;
};

/* A growing line; err sticks after the first failed allocation. */
struct line {
	char *p;
	size_t len, cap;
	bool err;
};

static void add(struct line *l, const void *s, size_t n)
{
	if (l->err)
		return;
	if (l->len + n + 1 > l->cap) {
		size_t cap = l->cap ? l->cap : 256;
		char *p;

		while (cap < l->len + n + 1)
			cap *= 2;
		if (!(p = realloc(l->p, cap))) {
			l->err = true;
			return;
		}
		l->p = p;
		l->cap = cap;
	}
	memcpy(l->p + l->len, s, n);
	l->len += n;
	l->p[l->len] = '\0';
}

static void adds(struct line *l, const char *s)
{
	add(l, s, strlen(s));
}

/*
 * Length of the well-formed UTF-8 sequence at s, or 0 with *bad set to the
 * length of its longest ill-formed prefix (at least 1), which is replaced
 * by a single U+FFFD as Unicode recommends (chapter 3, "U+FFFD
 * Substitution of Maximal Subparts").
 */
static size_t utf8_seq(const unsigned char *s, size_t *bad)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, k;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		lo = s[0] == 0xe0 ? 0xa0 : 0x80;	/* no overlong forms */
		hi = s[0] == 0xed ? 0x9f : 0xbf;	/* no surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		lo = s[0] == 0xf0 ? 0x90 : 0x80;
		hi = s[0] == 0xf4 ? 0x8f : 0xbf;	/* nothing above U+10FFFF */
	} else {
		*bad = 1;
		return 0;
	}
	for (k = 1; k < n; k++) {
		if (s[k] < lo || s[k] > hi) {	/* the terminating NUL stops here too */
			*bad = k;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

static void add_json_str(struct line *l, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n, bad;

	add(l, "\"", 1);
	while (s[i]) {
		char esc[8] = "\\u00";

		if (i >= AUDIT_STR_MAX) {
			adds(l, "...");
			break;
		}
		if (s[i] == '"' || s[i] == '\\') {
			esc[1] = (char)s[i];
			add(l, esc, 2);
		} else if (s[i] == '\n') {
			adds(l, "\\n");
		} else if (s[i] == '\t') {
			adds(l, "\\t");
		} else if (s[i] == '\r') {
			adds(l, "\\r");
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			esc[4] = hex[s[i] >> 4];
			esc[5] = hex[s[i] & 15];
			add(l, esc, 6);
		} else if (s[i] < 0x80) {
			add(l, s + i, 1);
		} else if ((n = utf8_seq(s + i, &bad)) == 0) {
			adds(l, "\xef\xbf\xbd");
			i += bad;
			continue;
		} else if (n == 3 && s[i] == 0xe2 && s[i + 1] == 0x80 &&
			   (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
			/* U+2028/9 end a line for JavaScript and some log viewers. */
			adds(l, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
			i += n;
			continue;
		} else {
			add(l, s + i, n);
			i += n;
			continue;
		}
		i++;
	}
	add(l, "\"", 1);
}

static void add_key(struct line *l, const char *key)
{
	add(l, ",", 1);
	add_json_str(l, key);
	add(l, ":", 1);
}

static void add_time(struct line *l)
{
	struct timespec ts;
	struct tm tm;
	char buf[48];
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%03ldZ", ts.tv_nsec / 1000000);
	adds(l, "{\"time\":\"");
	adds(l, buf);
	adds(l, "\"");
}

int audit_open(struct audit **out, const char *path)
{
	struct audit *a = NULL;
	struct stat st;
	int fd = -1, ret;

	*out = NULL;
	/* O_NOFOLLOW: a planted symlink must not redirect the log. */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0) {
		ret = mpc_fail(MPC_E_IO, "audit log %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		ret = mpc_fail(MPC_E_IO, "audit log %s: not a regular file", path);
		goto out;
	}
	/* Readable by a log group is the operator's choice; writable is not. */
	if (st.st_mode & 022) {
		ret = mpc_fail(MPC_E_IO, "audit log %s: writable by group or others (mode %03o)",
			       path, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	if (!(a = calloc(1, sizeof(*a))) || !(a->path = strdup(path))) {
		ret = mpc_fail(MPC_E_NOMEM, "audit log %s: out of memory", path);
		goto out;
	}
	a->fd = fd;
	fd = -1;	/* transferred */
	*out = a;
	a = NULL;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (a)
		free(a->path);
	free(a);
	return ret;
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	close(a->fd);
	free(a->path);
	free(a);
}

void audit_set_sync(struct audit *a, bool on)
{
	a->sync = on;
}

/* Remove the `written` bytes of a line that could not be written whole. */
static void cut_partial(struct audit *a, size_t written)
{
	struct stat st;

	if (written && fstat(a->fd, &st) == 0 && (size_t)st.st_size >= written &&
	    ftruncate(a->fd, st.st_size - (off_t)written) != 0) {
		/* Nothing more to do: the error is being reported already. */
	}
}

int audit_event(struct audit *a, const char *event, const char *job_id,
		const struct audit_field *fields, size_t n)
{
	struct line l = { 0 };
	size_t i, j, off = 0;
	char num[32];
	int ret;

	MPC_CHECK(a);
	if (!event || !*event) {
		ret = mpc_fail(MPC_E_ARG, "audit: event without a name");
		goto out;
	}
	/* Repeated keys would leave readers to pick one: refuse them. */
	for (i = 0; i < n; i++) {
		const char *k = fields[i].key;

		if (!k || !strcmp(k, "time") || !strcmp(k, "event") || !strcmp(k, "job")) {
			ret = mpc_fail(MPC_E_ARG, "audit %s: reserved field name '%s'", event,
				       k ? k : "(null)");
			goto out;
		}
		for (j = 0; j < i; j++)
			if (!strcmp(fields[j].key, k)) {
				ret = mpc_fail(MPC_E_ARG, "audit %s: field '%s' twice", event, k);
				goto out;
			}
	}
	add_time(&l);
	add_key(&l, "event");
	add_json_str(&l, event);
	if (job_id) {
		add_key(&l, "job");
		add_json_str(&l, job_id);
	}
	for (i = 0; i < n; i++) {
		add_key(&l, fields[i].key);
		if (fields[i].type == AUDIT_T_INT) {
			snprintf(num, sizeof(num), "%lld", fields[i].num);
			adds(&l, num);
		} else if (fields[i].str) {
			add_json_str(&l, fields[i].str);
		} else {
			adds(&l, "null");
		}
	}
	adds(&l, "}\n");
	if (l.err) {
		ret = mpc_fail(MPC_E_NOMEM, "audit %s: out of memory", event);
		goto out;
	}
	/*
	 * One write() per line; O_APPEND puts each at the end as a whole. A
	 * short write (a full disk) would leave half a line that the next
	 * event completes with garbage: the part written is cut off again and
	 * the event reported lost, so the log only ever holds whole lines.
	 */
	while (off < l.len) {
		ssize_t w = write(a->fd, l.p + off, l.len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : ENOSPC;

			ret = mpc_fail(MPC_E_IO, "audit log %s: %s: event '%s' lost", a->path,
				       strerror(e), event);
			cut_partial(a, off);
			goto out;
		}
		off += (size_t)w;
	}
	if (a->sync && fdatasync(a->fd)) {
		ret = mpc_fail(MPC_E_IO, "audit log %s: %s", a->path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(l.p);
	return ret;
}
