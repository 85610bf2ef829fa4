/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The config reader: a streaming INI parser in the manner of
 * wireguard-tools' config.c. cfg__read_line() takes one line at a time;
 * a section's required keys and defaults are settled when the next section
 * starts, and the checks that span sections (names a policy refers to, the
 * node's own name among its peers) run in cfg__read_finish(). The key
 * table and the typed values live in cfg_keys.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg_int.h"
#include "err.h"
#include "pool.h"

static const char *const blanks = " \t\r\f\v";

int cfg__read_init(struct cfg_reader *rd, const char *name)
{
	const char *slash;

	memset(rd, 0, sizeof(*rd));
	if (!name)
		name = "config";
	if (!(rd->c = calloc(1, sizeof(*rd->c))) || !(rd->c->path = strdup(name)))
		goto nomem;
	/* Relative paths follow the file, not the daemon's working directory. */
	if ((slash = strrchr(name, '/')) &&
	    !(rd->dir = strndup(name, slash == name ? 1 : (size_t)(slash - name))))
		goto nomem;
	return 0;
nomem:
	cfg__read_abort(rd);
	return mpc_fail(MPC_E_NOMEM, "%s: out of memory", name);
}

void cfg__read_abort(struct cfg_reader *rd)
{
	cfg_free(rd->c);
	rd->c = NULL;
	free(rd->dir);
	rd->dir = NULL;
}

/* How many of a repeatable section there are, and the i-th one. */
static size_t sec_count(const struct cfg *c, enum cfg_sec s)
{
	switch (s) {
	case CFG_SEC_PEER:
		return c->n_peers;
	case CFG_SEC_DATASET:
		return c->n_datasets;
	case CFG_SEC_MODEL:
		return c->n_models;
	default:
		mpc_bug("not a repeatable section");
	}
}

static void *sec_item(struct cfg *c, enum cfg_sec s, size_t i)
{
	switch (s) {
	case CFG_SEC_PEER:
		return &c->peers[i];
	case CFG_SEC_DATASET:
		return &c->datasets[i];
	case CFG_SEC_MODEL:
		return &c->models[i];
	default:
		mpc_bug("not a repeatable section");
	}
}

/* realloc to n + 1 elements, the last zeroed; NULL when out of memory. */
static void *grow(void *arr, size_t n, size_t elem)
{
	char *p = realloc(arr, (n + 1) * elem);

	if (p)
		memset(p + n * elem, 0, elem);
	return p;
}

/* Append a zeroed struct to a repeatable section's array. */
static int sec_append(struct cfg *c, enum cfg_sec s)
{
	void *p;

	switch (s) {
	case CFG_SEC_PEER:
		if (!(p = grow(c->peers, c->n_peers, sizeof(*c->peers))))
			break;
		c->peers = p;
		c->n_peers++;
		return 0;
	case CFG_SEC_DATASET:
		if (!(p = grow(c->datasets, c->n_datasets, sizeof(*c->datasets))))
			break;
		c->datasets = p;
		c->n_datasets++;
		return 0;
	case CFG_SEC_MODEL:
		if (!(p = grow(c->models, c->n_models, sizeof(*c->models))))
			break;
		c->models = p;
		c->n_models++;
		return 0;
	default:
		mpc_bug("not a repeatable section");
	}
	return mpc_fail(MPC_E_NOMEM, "config: out of memory");
}

/* Fill the defaults of the keys a section left unset, or name a missing one. */
static int sec_defaults(struct cfg_reader *rd, enum cfg_sec s, void *obj, unsigned sec_line,
			const unsigned *key_line)
{
	char def[CFG_LINE_MAX];
	size_t i;
	int ret;

	for (i = 0; i < cfg__nkeys; i++) {
		const struct cfg_key *k = &cfg__keys[i];

		if (k->sec != s || key_line[i])
			continue;
		if (k->flags & CFG_REQUIRED)
			return cfg__err(rd, MPC_E_FORMAT, sec_line, s, k, NULL, "missing (required)");
		if (!k->def)
			continue;
		if (cfg__expand(k, obj, def, sizeof(def)))
			return cfg__err(rd, MPC_E_TOOBIG, sec_line, s, k, NULL,
					"default '%s' is too long here", k->def);
		if ((ret = cfg__set(rd, sec_line, k, def, obj, true)) != 0)
			return ret;
	}
	return 0;
}

/* Where a repeatable section's struct keeps its header line. */
static unsigned *obj_line(enum cfg_sec s, void *obj)
{
	switch (s) {
	case CFG_SEC_PEER:
		return &((struct cfg_peer *)obj)->line;
	case CFG_SEC_DATASET:
		return &((struct cfg_dataset *)obj)->line;
	case CFG_SEC_MODEL:
		return &((struct cfg_model *)obj)->line;
	default:
		mpc_bug("not a repeatable section");
	}
}

/* A repeatable section's name (and a peer's key) must be new. */
static int sec_unique(struct cfg_reader *rd)
{
	const struct cfg_key *kn = cfg__key_find(rd->sec, "Name");
	const char *cur = (const char *)rd->obj + kn->off;
	size_t n = sec_count(rd->c, rd->sec), i;

	for (i = 0; i + 1 < n; i++) {
		void *prev = sec_item(rd->c, rd->sec, i);

		if (!strcmp((const char *)prev + kn->off, cur))
			return cfg__err(rd, MPC_E_FORMAT, rd->key_line[cfg__key_index(kn)],
					rd->sec, kn, cur, "is already the name of the [%s] at line %u",
					cfg__sec_name(rd->sec), *obj_line(rd->sec, prev));
	}
	if (rd->sec == CFG_SEC_PEER) {
		const struct cfg_key *kk = cfg__key_find(CFG_SEC_PEER, "PublicKey");
		const struct cfg_peer *p = rd->obj;
		char b64[sodium_base64_ENCODED_LEN(CFG_KEYBYTES, sodium_base64_VARIANT_ORIGINAL)];

		for (i = 0; i + 1 < n; i++) {
			if (sodium_memcmp(rd->c->peers[i].pub, p->pub, CFG_KEYBYTES))
				continue;
			sodium_bin2base64(b64, sizeof(b64), p->pub, CFG_KEYBYTES,
					  sodium_base64_VARIANT_ORIGINAL);
			return cfg__err(rd, MPC_E_FORMAT, rd->key_line[cfg__key_index(kk)],
					CFG_SEC_PEER, kk, b64, "is already the key of peer '%s' (line %u)",
					rd->c->peers[i].name, rd->c->peers[i].line);
		}
	}
	return 0;
}

static int sec_close(struct cfg_reader *rd)
{
	int ret;

	if (rd->sec == CFG_SEC_NONE)
		return 0;
	if ((ret = sec_defaults(rd, rd->sec, rd->obj, rd->sec_line, rd->key_line)) != 0)
		return ret;
	if (rd->sec == CFG_SEC_POLICY)
		memcpy(rd->policy_keys, rd->key_line, sizeof(rd->policy_keys));
	else if (rd->sec != CFG_SEC_NODE && (ret = sec_unique(rd)) != 0)
		return ret;
	rd->sec = CFG_SEC_NONE;
	rd->obj = NULL;
	return 0;
}

static int sec_open(struct cfg_reader *rd, char *s)
{
	size_t len = strlen(s);
	enum cfg_sec sec;
	unsigned *once = NULL;
	char *name;
	int ret;

	if (s[len - 1] != ']')
		return cfg__err(rd, MPC_E_FORMAT, rd->lineno, CFG_SEC_NONE, NULL, s,
				"is not a [Section] header");
	s[len - 1] = '\0';
	name = s + 1 + strspn(s + 1, blanks);
	for (len = strlen(name); len && strchr(blanks, name[len - 1]); len--)
		name[len - 1] = '\0';
	for (sec = CFG_SEC_NODE; sec < CFG_SEC_COUNT; sec++)
		if (!strcasecmp(name, cfg__sec_name(sec)))
			break;
	if (sec == CFG_SEC_COUNT)
		return cfg__err(rd, MPC_E_FORMAT, rd->lineno, CFG_SEC_NONE, NULL, name,
				"is not a section (Node, Peer, Dataset, Model, Policy)");
	if ((ret = sec_close(rd)) != 0)
		return ret;
	if (sec == CFG_SEC_NODE) {
		once = &rd->c->node.line;
		rd->obj = &rd->c->node;
	} else if (sec == CFG_SEC_POLICY) {
		once = &rd->c->policy.line;
		rd->obj = &rd->c->policy;
	}
	if (once && *once)
		return cfg__err(rd, MPC_E_FORMAT, rd->lineno, sec, NULL, NULL,
				"only one such section (first at line %u)", *once);
	if (once) {
		*once = rd->lineno;
	} else {
		if (sec_count(rd->c, sec) >= CFG_SECTIONS_MAX)
			return cfg__err(rd, MPC_E_TOOBIG, rd->lineno, sec, NULL, NULL,
					"more than %d such sections", CFG_SECTIONS_MAX);
		if ((ret = sec_append(rd->c, sec)) != 0)
			return ret;
		rd->obj = sec_item(rd->c, sec, sec_count(rd->c, sec) - 1);
		*obj_line(sec, rd->obj) = rd->lineno;
	}
	rd->sec = sec;
	rd->sec_line = rd->lineno;
	memset(rd->key_line, 0, sizeof(rd->key_line));
	return 0;
}

int cfg__read_line(struct cfg_reader *rd, const char *line, size_t len)
{
	char buf[CFG_LINE_MAX + 1], *s, *eq, *key, *val;
	const struct cfg_key *k;
	size_t n, i;
	int ret;

	rd->lineno++;
	rd->bytes += len + 1;
	if (rd->bytes > CFG_FILE_MAX + 1)
		return cfg__err(rd, MPC_E_TOOBIG, rd->lineno, CFG_SEC_NONE, NULL, NULL,
				"file larger than %u bytes", CFG_FILE_MAX);
	if (len > CFG_LINE_MAX)
		return cfg__err(rd, MPC_E_TOOBIG, rd->lineno, CFG_SEC_NONE, NULL, NULL,
				"line longer than %d bytes", CFG_LINE_MAX);
	if (memchr(line, '\0', len))
		return cfg__err(rd, MPC_E_FORMAT, rd->lineno, CFG_SEC_NONE, NULL, NULL,
				"NUL byte in line");
	memcpy(buf, line, len);
	buf[len] = '\0';
	s = buf;
	if (rd->lineno == 1 && !strncmp(s, "\xef\xbb\xbf", 3))
		s += 3;		/* a UTF-8 byte order mark from some editors */
	s[strcspn(s, "#;")] = '\0';
	s += strspn(s, blanks);
	for (n = strlen(s); n && strchr(blanks, s[n - 1]); n--)
		s[n - 1] = '\0';
	if (!*s)
		return 0;
	if (*s == '[')
		return sec_open(rd, s);
	if (!(eq = strchr(s, '=')))
		return cfg__err(rd, MPC_E_FORMAT, rd->lineno, rd->sec, NULL, s,
				"is neither 'Key = Value' nor a [Section] header");
	*eq = '\0';
	key = s;
	for (n = strlen(key); n && strchr(blanks, key[n - 1]); n--)
		key[n - 1] = '\0';
	val = eq + 1 + strspn(eq + 1, blanks);
	if (rd->sec == CFG_SEC_NONE)
		return cfg__err(rd, MPC_E_FORMAT, rd->lineno, CFG_SEC_NONE, NULL, key,
				"comes before any [Section] header");
	if (!(k = cfg__key_find(rd->sec, key)))
		return cfg__err(rd, MPC_E_FORMAT, rd->lineno, rd->sec, NULL, key,
				"is not a key of this section");
	i = cfg__key_index(k);
	if (rd->key_line[i])
		return cfg__err(rd, MPC_E_FORMAT, rd->lineno, rd->sec, k, NULL,
				"set twice in one section (first at line %u)", rd->key_line[i]);
	if ((ret = cfg__set(rd, rd->lineno, k, val, rd->obj, false)) != 0)
		return ret;
	rd->key_line[i] = rd->lineno;
	return 0;
}

/* Who may receive outputs, and who may propose: known, and fit for it. */
static int check_policy(struct cfg_reader *rd)
{
	const struct cfg_key *kr = cfg__key_find(CFG_SEC_POLICY, "AllowRecipients");
	const struct cfg_key *kp = cfg__key_find(CFG_SEC_POLICY, "AllowPeers");
	struct cfg *c = rd->c;
	struct cfg_policy *pol = &c->policy;
	const struct cfg_peer *p;
	size_t i;

	if (!rd->policy_keys[cfg__key_index(kr)] && c->node.role == CFG_ROLE_COMPUTE) {
		/* The default: outputs may come back here and go nowhere else. */
		if (!(pol->allow_recipients.v = calloc(1, sizeof(*pol->allow_recipients.v))))
			return mpc_fail(MPC_E_NOMEM, "config: out of memory");
		memcpy(pol->allow_recipients.v[0], c->node.name, CFG_NAME_SIZE);
		pol->allow_recipients.n = 1;
	}
	for (i = 0; i < pol->allow_recipients.n; i++) {
		const char *r = pol->allow_recipients.v[i];
		unsigned line = rd->policy_keys[cfg__key_index(kr)];
		bool self = !strcmp(r, c->node.name);

		p = cfg_peer_by_name(c, r);
		if (!self && !p)
			return cfg__err(rd, MPC_E_FORMAT, line, CFG_SEC_POLICY, kr, NULL,
					"'%s' is neither this node nor a configured peer", r);
		if (self ? c->node.role == CFG_ROLE_DEALER : p->role == CFG_ROLE_DEALER)
			return cfg__err(rd, MPC_E_FORMAT, line, CFG_SEC_POLICY, kr, NULL,
					"'%s' is a dealer, which never receives data", r);
	}
	for (i = 0; i < pol->allow_peers.n; i++) {
		const char *r = pol->allow_peers.v[i];
		unsigned line = rd->policy_keys[cfg__key_index(kp)];

		if (!strcmp(r, c->node.name))
			return cfg__err(rd, MPC_E_FORMAT, line, CFG_SEC_POLICY, kp, NULL,
					"'%s' is this node (its operator may always propose)", r);
		if (!cfg_peer_by_name(c, r))
			return cfg__err(rd, MPC_E_FORMAT, line, CFG_SEC_POLICY, kp, NULL,
					"'%s' is not a configured peer", r);
	}
	return 0;
}

int cfg__read_finish(struct cfg_reader *rd, struct cfg **out)
{
	struct cfg *c = rd->c;
	unsigned none[CFG_NKEYS_MAX] = { 0 };
	size_t i;
	int ret;

	*out = NULL;
	if ((ret = sec_close(rd)) != 0)
		return ret;
	if (!c->node.line)
		return cfg__err(rd, MPC_E_FORMAT, 0, CFG_SEC_NODE, NULL, NULL,
				"missing section (required)");
	if (!c->policy.line && (ret = sec_defaults(rd, CFG_SEC_POLICY, &c->policy, 0, none)) != 0)
		return ret;
	if (!c->node.threads)
		c->node.threads = (uint32_t)pool_cores();
	for (i = 0; i < c->n_peers; i++)
		if (!strcmp(c->peers[i].name, c->node.name))
			return cfg__err(rd, MPC_E_FORMAT, c->peers[i].line, CFG_SEC_PEER,
					cfg__key_find(CFG_SEC_PEER, "Name"), c->peers[i].name,
					"is this node's own name");
	/* A dealer must never see data (DESIGN.md section 2), so it holds none. */
	if (c->node.role == CFG_ROLE_DEALER && (c->n_datasets || c->n_models))
		return cfg__err(rd, MPC_E_FORMAT,
				c->n_datasets ? c->datasets[0].line : c->models[0].line,
				c->n_datasets ? CFG_SEC_DATASET : CFG_SEC_MODEL, NULL, NULL,
				"a dealer node (Role = dealer) holds no data or models");
	if ((ret = check_policy(rd)) != 0)
		return ret;
	*out = c;
	rd->c = NULL;	/* transferred */
	return 0;
}

int cfg_parse(const char *buf, size_t len, const char *name, struct cfg **out)
{
	struct cfg_reader rd;
	size_t off = 0;
	int ret;

	*out = NULL;
	if ((ret = cfg__read_init(&rd, name)) != 0)
		return ret;
	if (len > CFG_FILE_MAX) {
		ret = cfg__err(&rd, MPC_E_TOOBIG, 0, CFG_SEC_NONE, NULL, NULL,
			       "file larger than %u bytes", CFG_FILE_MAX);
		goto out;
	}
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;

		if ((ret = cfg__read_line(&rd, buf + off, n)) != 0)
			goto out;
		off += n + 1;
	}
	ret = cfg__read_finish(&rd, out);
out:
	cfg__read_abort(&rd);
	return ret;
}

int cfg_load(const char *path, struct cfg **out)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t got;
	int fd, ret;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		ret = mpc_fail(MPC_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		ret = mpc_fail(MPC_E_IO, "%s: not a regular file", path);
		goto out;
	}
	/* One byte over the limit tells a file that is too large. */
	if (!(buf = malloc(CFG_FILE_MAX + 1))) {
		ret = mpc_fail(MPC_E_NOMEM, "%s: out of memory", path);
		goto out;
	}
	while (len <= CFG_FILE_MAX) {
		got = read(fd, buf + len, CFG_FILE_MAX + 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			ret = mpc_fail(MPC_E_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	ret = cfg_parse(buf, len, path, out);
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}

static void free_objs(void *arr, size_t n, size_t elem, enum cfg_sec s)
{
	size_t i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k < cfg__nkeys; k++)
			if (cfg__keys[k].sec == s)
				cfg__clear(&cfg__keys[k], (char *)arr + i * elem);
	free(arr);
}

void cfg_free(struct cfg *c)
{
	size_t k;

	if (!c)
		return;
	for (k = 0; k < cfg__nkeys; k++) {
		if (cfg__keys[k].sec == CFG_SEC_NODE)
			cfg__clear(&cfg__keys[k], &c->node);
		else if (cfg__keys[k].sec == CFG_SEC_POLICY)
			cfg__clear(&cfg__keys[k], &c->policy);
	}
	free_objs(c->peers, c->n_peers, sizeof(*c->peers), CFG_SEC_PEER);
	free_objs(c->datasets, c->n_datasets, sizeof(*c->datasets), CFG_SEC_DATASET);
	free_objs(c->models, c->n_models, sizeof(*c->models), CFG_SEC_MODEL);
	free(c->path);
	free(c);
}

static void dump_sec(FILE *f, enum cfg_sec s, const void *obj)
{
	size_t k;

	fprintf(f, "\n[%s]\n", cfg__sec_name(s));
	for (k = 0; k < cfg__nkeys; k++)
		if (cfg__keys[k].sec == s)
			cfg__print(f, &cfg__keys[k], obj);
}

int cfg_dump(const struct cfg *c, FILE *f)
{
	size_t i;

	fprintf(f, "# effective configuration of %s\n", c->path);
	dump_sec(f, CFG_SEC_NODE, &c->node);
	for (i = 0; i < c->n_peers; i++)
		dump_sec(f, CFG_SEC_PEER, &c->peers[i]);
	for (i = 0; i < c->n_datasets; i++)
		dump_sec(f, CFG_SEC_DATASET, &c->datasets[i]);
	for (i = 0; i < c->n_models; i++)
		dump_sec(f, CFG_SEC_MODEL, &c->models[i]);
	dump_sec(f, CFG_SEC_POLICY, &c->policy);
	if (fflush(f) || ferror(f))
		return mpc_fail(MPC_E_IO, "config dump: %s", strerror(errno));
	return 0;
}

const struct cfg_peer *cfg_peer_by_name(const struct cfg *c, const char *name)
{
	size_t i;

	for (i = 0; name && i < c->n_peers; i++)
		if (!strcmp(c->peers[i].name, name))
			return &c->peers[i];
	return NULL;
}

const struct cfg_peer *cfg_peer_by_key(const struct cfg *c, const uint8_t pub[static CFG_KEYBYTES])
{
	size_t i;

	for (i = 0; i < c->n_peers; i++)
		if (!sodium_memcmp(c->peers[i].pub, pub, CFG_KEYBYTES))
			return &c->peers[i];
	return NULL;
}

const struct cfg_dataset *cfg_dataset_by_name(const struct cfg *c, const char *name)
{
	size_t i;

	for (i = 0; name && i < c->n_datasets; i++)
		if (!strcmp(c->datasets[i].name, name))
			return &c->datasets[i];
	return NULL;
}

const struct cfg_model *cfg_model_by_name(const struct cfg *c, const char *name)
{
	size_t i;

	for (i = 0; name && i < c->n_models; i++)
		if (!strcmp(c->models[i].name, name))
			return &c->models[i];
	return NULL;
}
