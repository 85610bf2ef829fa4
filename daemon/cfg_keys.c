/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The config key table (one row per key: section, type, bounds, default,
 * flags) and the typed value parsers it drives (cfg_print.c: defaults,
 * clearing and printing). Adding a key
 * is adding a row; the reader in cfg.c knows no key by name except the few
 * checked across sections.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "cfg_int.h"
#include "err.h"
#include "pool.h"

#define QUOTE_MAX 64	/* bytes of a bad value shown in a message */
#define FILE_MAX 200	/* bytes of the file name shown */

_Static_assert(sizeof(enum cfg_role) == sizeof(int), "ENUM fields are int-sized");
_Static_assert(sizeof(enum cfg_approve) == sizeof(int), "ENUM fields are int-sized");
_Static_assert(sizeof(enum cfg_cipher) == sizeof(int), "ENUM fields are int-sized");

static const char *const roles[] = { "compute", "dealer", NULL };
static const char *const approves[] = { "manual", "auto", NULL };
static const char *const ciphers[] = { "auto", "aesgcm", "chachapoly", NULL };
static const char *const data_ext[] = { ".npy", ".csv", NULL };
static const char *const onnx_ext[] = { ".onnx", NULL };
static const char *const st_ext[] = { ".safetensors", NULL };

#define KB (UINT64_C(1) << 10)
#define MB (UINT64_C(1) << 20)
#define GB (UINT64_C(1) << 30)

#define ROW(sec, key, type, st, field, lo, hi, def, flags, choices)            \
	{ CFG_SEC_##sec, key, CFG_T_##type, offsetof(struct st, field), lo, hi, \
	  def, flags, choices }

const struct cfg_key cfg__keys[] = {
	ROW(NODE, "Name", NAME, cfg_node, name, 0, 0, NULL, CFG_REQUIRED, NULL),
	ROW(NODE, "PrivateKeyFile", PATH, cfg_node, private_key_file, 0, 0, NULL,
	    CFG_REQUIRED, NULL),
	/* Both roles accept links, so both need it. */
	ROW(NODE, "Listen", ENDPOINT, cfg_node, listen, 0, 0, NULL, CFG_REQUIRED, NULL),
	ROW(NODE, "ControlSocket", PATH, cfg_node, control_socket, 0, 0,
	    "/run/mpcd/{Name}.sock", 0, NULL),
	/* Before AuditLog, whose default follows it. */
	ROW(NODE, "DataDir", PATH, cfg_node, data_dir, 0, 0, "/var/lib/mpcd/{Name}", 0, NULL),
	ROW(NODE, "Role", ENUM, cfg_node, role, 0, 0, "compute", 0, roles),
	ROW(NODE, "Cipher", ENUM, cfg_node, cipher, 0, 0, "auto", 0, ciphers),
	ROW(NODE, "MaxFrame", SIZE, cfg_node, max_frame, 64 * KB, 16 * MB, "1M", 0, NULL),
	ROW(NODE, "MaxJobs", UINT, cfg_node, max_jobs, 1, 64, "4", 0, NULL),
	ROW(NODE, "JobHistory", UINT, cfg_node, job_history, 1, 100000, "256", 0, NULL),
	ROW(NODE, "JobMemory", SIZE, cfg_node, job_memory, 16 * MB, 1024 * GB, "1G", 0, NULL),
	/* No default here: the machine's cores, when the file is read (cfg.c). */
	ROW(NODE, "Threads", UINT, cfg_node, threads, 1, POOL_MAX_THREADS, NULL, 0, NULL),
	ROW(NODE, "HandshakeTimeout", SECONDS, cfg_node, handshake_timeout, 1, 300, "5", 0, NULL),
	ROW(NODE, "IdleTimeout", SECONDS, cfg_node, idle_timeout, 1, 86400, "60", 0, NULL),
	/* WireGuard's REKEY_AFTER_TIME; docs/wire.md, "Rekeying". */
	ROW(NODE, "RekeyAfter", SECONDS, cfg_node, rekey_after, 1, 3600, "120", 0, NULL),
	/* Ended jobs and their result files are deleted after this (job_ctl.c). */
	ROW(NODE, "ResultRetention", SECONDS, cfg_node, result_retention, 1, 366 * 86400, "7d",
	    0, NULL),
	ROW(NODE, "AuditLog", PATH, cfg_node, audit_log, 0, 0, "{DataDir}/audit.log", 0, NULL),
	/* Off unless set: the Prometheus endpoint (daemon/metrics.c). */
	ROW(NODE, "MetricsListen", ENDPOINT, cfg_node, metrics_listen, 0, 0, NULL, 0, NULL),

	ROW(PEER, "Name", NAME, cfg_peer, name, 0, 0, NULL, CFG_REQUIRED, NULL),
	ROW(PEER, "PublicKey", KEY, cfg_peer, pub, 0, 0, NULL, CFG_REQUIRED, NULL),
	ROW(PEER, "Endpoint", ENDPOINT, cfg_peer, endpoint, 0, 0, NULL, 0, NULL),
	ROW(PEER, "Role", ENUM, cfg_peer, role, 0, 0, "compute", 0, roles),

	ROW(DATASET, "Name", NAME, cfg_dataset, name, 0, 0, NULL, CFG_REQUIRED, NULL),
	ROW(DATASET, "Path", PATH, cfg_dataset, path, 0, 0, NULL, CFG_REQUIRED, data_ext),

	ROW(MODEL, "Name", NAME, cfg_model, name, 0, 0, NULL, CFG_REQUIRED, NULL),
	ROW(MODEL, "Path", PATH, cfg_model, path, 0, 0, NULL, CFG_REQUIRED, onnx_ext),
	ROW(MODEL, "Weights", PATH, cfg_model, weights, 0, 0, NULL, 0, st_ext),

	/* Manual by default: nothing leaves this node without a person's yes. */
	ROW(POLICY, "Approve", ENUM, cfg_policy, approve, 0, 0, "manual", 0, approves),
	/* No default here: it depends on the node's Name and Role (cfg.c). */
	ROW(POLICY, "AllowRecipients", NAMES, cfg_policy, allow_recipients, 0, 0, NULL, 0, NULL),
	ROW(POLICY, "AllowPeers", NAMES, cfg_policy, allow_peers, 0, 0, "", 0, NULL),
	ROW(POLICY, "ApproveTimeout", SECONDS, cfg_policy, approve_timeout, 1, 604800, "3600",
	    0, NULL),
	/* any by default, as before the key existed: the weaker choice (config.md). */
	ROW(POLICY, "AllowModels", HASHES, cfg_policy, allow_models, 0, 0, "any", 0, NULL),
};
const size_t cfg__nkeys = sizeof(cfg__keys) / sizeof(cfg__keys[0]);
_Static_assert(sizeof(cfg__keys) / sizeof(cfg__keys[0]) <= CFG_NKEYS_MAX, "CFG_NKEYS_MAX");

static const char *const sec_names[CFG_SEC_COUNT] = {
	[CFG_SEC_NONE] = "",
	[CFG_SEC_NODE] = "Node",
	[CFG_SEC_PEER] = "Peer",
	[CFG_SEC_DATASET] = "Dataset",
	[CFG_SEC_MODEL] = "Model",
	[CFG_SEC_POLICY] = "Policy",
};

const char *cfg__sec_name(enum cfg_sec s)
{
	return (unsigned)s < CFG_SEC_COUNT ? sec_names[s] : "?";
}

const struct cfg_key *cfg__key_find(enum cfg_sec s, const char *name)
{
	size_t i;

	for (i = 0; i < cfg__nkeys; i++)
		if (cfg__keys[i].sec == s && !strcasecmp(cfg__keys[i].name, name))
			return &cfg__keys[i];
	return NULL;
}

size_t cfg__key_index(const struct cfg_key *k)
{
	return (size_t)(k - cfg__keys);
}

const char *cfg_role_name(enum cfg_role r)
{
	return r == CFG_ROLE_DEALER ? "dealer" : "compute";
}

const char *cfg_approve_name(enum cfg_approve a)
{
	return a == CFG_APPROVE_AUTO ? "auto" : "manual";
}

/*
 * Copy s for a one-line message: control and non-ASCII bytes as \xNN,
 * more than max bytes cut with "...". dst holds at least 4 * max + 4.
 */
static void quote(char *dst, size_t n, const char *s, size_t max)
{
	size_t i, o = 0;

	for (i = 0; s[i] && o + 8 < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (i == max) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (ch < 0x20 || ch >= 0x7f)
			o += (size_t)snprintf(dst + o, n - o, "\\x%02x", ch);
		else
			dst[o++] = (char)ch;
	}
	dst[o] = '\0';
}

int cfg__err(const struct cfg_reader *rd, int code, unsigned line, enum cfg_sec sec,
	     const struct cfg_key *k, const char *val, const char *fmt, ...)
{
	char why[384], file[4 * FILE_MAX + 4], where[64], what[4 * QUOTE_MAX + 48];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	quote(file, sizeof(file), rd->c && rd->c->path ? rd->c->path : "config", FILE_MAX);
	where[0] = what[0] = '\0';
	if (sec != CFG_SEC_NONE)
		snprintf(where, sizeof(where), "[%s]%s%s: ", cfg__sec_name(sec),
			 k ? " " : "", k ? k->name : "");
	if (val && k && (k->flags & CFG_SECRET)) {
		snprintf(what, sizeof(what), "(hidden) ");
	} else if (val) {
		char q[4 * QUOTE_MAX + 4];

		quote(q, sizeof(q), val, QUOTE_MAX);
		snprintf(what, sizeof(what), "'%s' ", q);
	}
	if (line)
		return mpc_fail(code, "%s:%u: %s%s%s", file, line, where, what, why);
	return mpc_fail(code, "%s: %s%s%s", file, where, what, why);
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_alnum(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > CFG_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* Decimal digits only (no sign, no blanks); false on none or overflow. */
static bool parse_u64(const char *s, uint64_t *v, const char **end)
{
	uint64_t x = 0;

	if (!is_digit(*s))
		return false;
	for (; is_digit(*s); s++) {
		uint64_t d = (uint64_t)(*s - '0');

		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	*end = s;
	return true;
}

void cfg__fmt_size(char *dst, size_t n, uint64_t v)
{
	static const char suf[] = "GMK";
	int i;

	for (i = 0; i < 3; i++) {
		unsigned shift = 30 - 10 * (unsigned)i;

		if (v && !(v & ((UINT64_C(1) << shift) - 1))) {
			snprintf(dst, n, "%" PRIu64 "%c", v >> shift, suf[i]);
			return;
		}
	}
	snprintf(dst, n, "%" PRIu64, v);
}

/* "1M", "64k", "1048576": powers of 1024, as sizes are for buffers. */
static bool parse_size(const char *s, uint64_t *v)
{
	const char *end;
	unsigned shift = 0;

	if (!parse_u64(s, v, &end))
		return false;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || *v > (UINT64_MAX >> shift))
		return false;
	*v <<= shift;
	return true;
}

/* "60", "90s", "5m", "1h", "7d". */
static bool parse_seconds(const char *s, uint64_t *v)
{
	const char *end;
	uint64_t mul = 1;

	if (!parse_u64(s, v, &end))
		return false;
	switch (*end) {
	case 's': end++; break;
	case 'm': mul = 60; end++; break;
	case 'h': mul = 3600; end++; break;
	case 'd': mul = 86400; end++; break;
	}
	if (*end || *v > UINT64_MAX / mul)
		return false;
	*v *= mul;
	return true;
}

/* RFC 1123 host name: dot-separated labels of 1..63 [A-Za-z0-9-], no '-' at an end. */
static bool is_hostname(const char *s, size_t n)
{
	size_t i, lab = 0;

	if (n == 0 || n > 253)
		return false;
	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (lab == 0 || lab > 63 || s[i - 1] == '-' || s[i - lab] == '-')
				return false;
			lab = 0;
		} else if (is_alnum(s[i]) || s[i] == '-') {
			lab++;
		} else {
			return false;
		}
	}
	return true;
}

static int set_endpoint(const struct cfg_reader *rd, unsigned line, const struct cfg_key *k,
			const char *val, struct cfg_endpoint *ep)
{
	struct cfg_endpoint e = { .set = true };
	const char *h = val, *port, *end;
	unsigned char addr[16];
	uint64_t p;
	size_t hl;

	if (val[0] == '[') {
		const char *close = strchr(val, ']');

		if (!close || close[1] != ':')
			return cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val,
					"is not host:port ([IPv6]:port for IPv6)");
		h = val + 1;
		hl = (size_t)(close - h);
		port = close + 2;
		e.family = AF_INET6;
	} else {
		const char *colon = strrchr(val, ':');

		if (!colon)
			return cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val,
					"has no :port");
		hl = (size_t)(colon - val);
		port = colon + 1;
		if (memchr(val, ':', hl))
			return cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val,
					"needs brackets around an IPv6 address, as [::1]:7101");
		e.family = strspn(val, "0123456789.") >= hl ? AF_INET : AF_UNSPEC;
	}
	if (hl == 0 || hl >= sizeof(e.host))
		return cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val, "has no valid host");
	memcpy(e.host, h, hl);
	e.host[hl] = '\0';
	if (e.family != AF_UNSPEC ? inet_pton(e.family, e.host, addr) != 1
				  : !is_hostname(e.host, hl))
		return cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val,
				"has no valid %s", e.family == AF_INET6 ? "IPv6 address" :
				e.family == AF_INET ? "IPv4 address" : "host name");
	if (!parse_u64(port, &p, &end) || *end)
		return cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val,
				"has no valid port number");
	if (p < 1 || p > 65535)
		return cfg__err(rd, MPC_E_RANGE, line, k->sec, k, val,
				"has a port out of range 1..65535");
	e.port = (uint16_t)p;
	*ep = e;
	return 0;
}

static int set_path(const struct cfg_reader *rd, unsigned line, const struct cfg_key *k,
		    const char *val, char **field, bool from_default)
{
	const char *dir = from_default || val[0] == '/' ? NULL : rd->dir;
	size_t i, n = strlen(val);
	char *p;

	for (i = 0; i < n; i++)
		if ((unsigned char)val[i] < 0x20 || val[i] == 0x7f)
			return cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val,
					"contains a control character");
	if (k->choices) {
		bool ok = false;

		for (i = 0; k->choices[i]; i++) {
			size_t sl = strlen(k->choices[i]);

			ok |= n > sl && !strcasecmp(val + n - sl, k->choices[i]);
		}
		if (!ok)
			return cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val,
					"does not end in %s%s%s", k->choices[0],
					k->choices[1] ? " or " : "",
					k->choices[1] ? k->choices[1] : "");
	}
	if ((dir ? strlen(dir) + 1 : 0) + n >= PATH_MAX)
		return cfg__err(rd, MPC_E_TOOBIG, line, k->sec, k, val,
				"is longer than %d bytes", PATH_MAX - 1);
	if (dir) {
		if (asprintf(&p, "%s/%s", dir, val) < 0)
			p = NULL;
	} else {
		p = strdup(val);
	}
	if (!p)
		return mpc_fail(MPC_E_NOMEM, "config: out of memory");
	free(*field);
	*field = p;
	return 0;
}

static bool name_item(const char *b, size_t len, char *dst)
{
	if (!is_name(b, len))
		return false;
	memcpy(dst, b, len);
	return true;
}

static int set_names(const struct cfg_reader *rd, unsigned line, const struct cfg_key *k,
		     const char *val, struct cfg_names *field)
{
	static const struct cfg_list_kind kind = {
		.noun = "names",
		.stride = CFG_NAME_SIZE,
		.item = name_item,
		.bad = "is not a comma list of names (1-" CFG_STR(CFG_NAME_MAX)
		       " of A-Z a-z 0-9 _ . -)",
	};
	void *v;
	size_t n;
	int ret;

	if ((ret = cfg__set_list(rd, line, k, val, &kind, &v, &n)) != 0)
		return ret;
	free(field->v);
	field->v = v;
	field->n = n;
	return 0;
}

static int set_key(const struct cfg_reader *rd, unsigned line, const struct cfg_key *k,
		   const char *val, uint8_t *field)
{
	uint8_t key[CFG_KEYBYTES];
	size_t len = 0;

	if (sodium_base642bin(key, sizeof(key), val, strlen(val), NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || len != sizeof(key))
		return cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val,
				"is not a base64 %d-byte key", CFG_KEYBYTES);
	/* A zero key makes a zero shared secret: the link would be open to anyone. */
	if (sodium_is_zero(key, sizeof(key)))
		return cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val, "is the all-zero key");
	memcpy(field, key, sizeof(key));
	return 0;
}

static int set_number(const struct cfg_reader *rd, unsigned line, const struct cfg_key *k,
		      const char *val, void *field)
{
	char lo[32], hi[32];
	const char *end;
	uint64_t v = 0;
	bool ok;

	if (k->type == CFG_T_SIZE)
		ok = parse_size(val, &v);
	else if (k->type == CFG_T_SECONDS)
		ok = parse_seconds(val, &v);
	else
		ok = parse_u64(val, &v, &end) && !*end;
	if (!ok && k->type == CFG_T_SIZE)
		return cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val,
				"is not a size (bytes, or a number with K, M or G)");
	if (!ok && k->type == CFG_T_SECONDS)
		return cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val,
				"is not a duration (seconds, or a number with s, m, h or d)");
	if (!ok)
		return cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val, "is not a number");
	if (v < k->min || v > k->max) {
		if (k->type == CFG_T_SIZE) {
			cfg__fmt_size(lo, sizeof(lo), k->min);
			cfg__fmt_size(hi, sizeof(hi), k->max);
		} else {
			snprintf(lo, sizeof(lo), "%" PRIu64, k->min);
			snprintf(hi, sizeof(hi), "%" PRIu64 "%s", k->max,
				 k->type == CFG_T_SECONDS ? " seconds" : "");
		}
		return cfg__err(rd, MPC_E_RANGE, line, k->sec, k, val,
				"is out of range %s..%s", lo, hi);
	}
	if (k->type == CFG_T_SIZE)
		*(uint64_t *)field = v;
	else
		*(uint32_t *)field = (uint32_t)v;	/* max fits: see the table */
	return 0;
}

/* "a, b or c" */
static void choices_text(char *dst, size_t n, const char *const *c)
{
	size_t len = 0;

	dst[0] = '\0';
	for (size_t i = 0; c[i] && len < n; i++)
		len += (size_t)snprintf(dst + len, n - len, "%s%s", i == 0 ? "" : c[i + 1] ? ", " : " or ",
					c[i]);
}

int cfg__set(const struct cfg_reader *rd, unsigned line, const struct cfg_key *k,
	     const char *val, void *obj, bool from_default)
{
	void *field = (char *)obj + k->off;
	size_t i, n = strlen(val);
	char list[128];

	if (!n && k->type != CFG_T_NAMES)
		return cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, NULL, "empty value");
	switch (k->type) {
	case CFG_T_NAME:
		if (!is_name(val, n))
			return cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val,
					"is not a name (1-%d of A-Z a-z 0-9 _ . -)",
					CFG_NAME_MAX);
		memcpy(field, val, n + 1);
		return 0;
	case CFG_T_PATH:
		return set_path(rd, line, k, val, field, from_default);
	case CFG_T_ENUM:
		for (i = 0; k->choices[i]; i++)
			if (!strcasecmp(val, k->choices[i])) {
				*(int *)field = (int)i;
				return 0;
			}
		choices_text(list, sizeof(list), k->choices);
		return cfg__err(rd, MPC_E_FORMAT, line, k->sec, k, val, "is not %s", list);
	case CFG_T_UINT:
	case CFG_T_SIZE:
	case CFG_T_SECONDS:
		return set_number(rd, line, k, val, field);
	case CFG_T_KEY:
		return set_key(rd, line, k, val, field);
	case CFG_T_ENDPOINT:
		return set_endpoint(rd, line, k, val, field);
	case CFG_T_NAMES:
		return set_names(rd, line, k, val, field);
	case CFG_T_HASHES:
		return cfg__set_hashes(rd, line, k, val, field);
	}
	mpc_bug("config key of unknown type");
}
