/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_CFG_H
#define MPC_CFG_H

/*
 * The daemon's configuration: one INI file in the style of WireGuard's,
 * documented key by key in deploy/examples/alpha.conf.
 *
 *	[Node]     exactly one: this daemon (Name, PrivateKeyFile, Listen, ...)
 *	[Peer]     one per other node (Name, PublicKey, Endpoint, Role)
 *	[Dataset]  private data this node may contribute (Name, Path)
 *	[Model]    models this node owns (Name, Path, Weights)
 *	[Policy]   at most one: which proposals this node accepts
 *
 * Section and key names are case-insensitive; values are trimmed, and '#'
 * or ';' starts a comment anywhere on a line (so no value can contain
 * them). Lines are at most CFG_LINE_MAX bytes, the file CFG_FILE_MAX.
 *
 * Relative paths in a file are taken relative to the directory of that
 * file (as the name passed to cfg_parse() shows it), so `mpcd -c
 * /etc/mpcd/alpha.conf` with `PrivateKeyFile = alpha.key` reads
 * /etc/mpcd/alpha.key whatever the daemon's working directory.
 *
 * Errors are one line, "alpha.conf:12: [Peer] PublicKey: 'abc' is not a
 * base64 32-byte key", in mpc_errmsg(). Codes:
 *	MPC_E_FORMAT	syntax, unknown section or key, duplicate key, bad
 *			value, missing required key, duplicate peer name or
 *			key, a policy naming an unknown or unfit node
 *	MPC_E_RANGE	a number, size or duration outside its bounds
 *	MPC_E_TOOBIG	a line over CFG_LINE_MAX, a file over CFG_FILE_MAX,
 *			too many sections or list entries
 *	MPC_E_IO	the file cannot be read (cfg_load only)
 *	MPC_E_NOMEM	allocation failed
 *
 * The parser reads no key material: PrivateKeyFile is a path, loaded by
 * the daemon into protected memory; public keys are public. A key row may
 * still be marked secret (see cfg_int.h); cfg_dump() and error messages
 * then show "(hidden)" instead of its value.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CFG_LINE_MAX	4096		/* bytes per line, newline excluded */
#define CFG_FILE_MAX	(1u << 20)	/* bytes per file */
#define CFG_NAME_MAX	32		/* [A-Za-z0-9_.-]{1,32} */
#define CFG_NAME_SIZE	(CFG_NAME_MAX + 1)
#define CFG_HOST_SIZE	256		/* a DNS name is at most 253 bytes */
#define CFG_KEYBYTES	32		/* X25519 public key */
#define CFG_SECTIONS_MAX 256		/* per repeatable section kind */
#define CFG_LIST_MAX	256		/* names in one comma list */

enum cfg_role {
	CFG_ROLE_COMPUTE = 0,	/* holds shares, runs the online protocol */
	CFG_ROLE_DEALER = 1,	/* produces correlated randomness only */
};

enum cfg_cipher {
	CFG_CIPHER_AUTO = 0,		/* AES-GCM where the CPU has AES-NI */
	CFG_CIPHER_AESGCM = 1,
	CFG_CIPHER_CHACHAPOLY = 2,
};

enum cfg_approve {
	CFG_APPROVE_MANUAL = 0,	/* wait for `mpcctl approve JOB` */
	CFG_APPROVE_AUTO = 1,
};

/* host:port. host has no brackets; family is AF_INET, AF_INET6 or AF_UNSPEC (a name). */
struct cfg_endpoint {
	bool set;
	int family;
	char host[CFG_HOST_SIZE];
	uint16_t port;
};

/* A comma list of node names, each valid and distinct. */
struct cfg_names {
	char (*v)[CFG_NAME_SIZE];
	size_t n;
};

/*
 * [Policy] AllowModels: "any", or a comma list of public graph hashes
 * (64 hex digits each, kept lowercase, distinct).
 */
#define CFG_HASH_HEX 64
struct cfg_hashes {
	bool any;
	char (*v)[CFG_HASH_HEX + 1];
	size_t n;
};

struct cfg_node {
	char name[CFG_NAME_SIZE];
	char *private_key_file;
	struct cfg_endpoint listen;
	char *control_socket;		/* default /run/mpcd/<Name>.sock */
	char *data_dir;			/* default /var/lib/mpcd/<Name> */
	enum cfg_role role;		/* default compute */
	enum cfg_cipher cipher;		/* what we propose when we dial; default auto */
	uint64_t max_frame;		/* bytes, 64K..16M, default 1M */
	uint32_t max_jobs;		/* 1..64, default 4 */
	uint32_t job_history;		/* ended jobs kept, 1..100000, default 256 */
	uint64_t job_memory;		/* bytes per job, 16M..1024G, default 1G */
	uint32_t threads;		/* local arithmetic, 1..256, default the cores */
	uint32_t handshake_timeout;	/* seconds, 1..300, default 5 */
	uint32_t idle_timeout;		/* seconds, 1..86400, default 60 */
	uint32_t rekey_after;		/* seconds, 1..3600, default 120: session keys' age */
	uint32_t result_retention;	/* seconds, 1..366d, default 7d: ended jobs, results */
	char *audit_log;		/* default <DataDir>/audit.log */
	struct cfg_endpoint metrics_listen; /* unset (default): no metrics endpoint */
	unsigned line;			/* of the [Node] header */
};

struct cfg_peer {
	char name[CFG_NAME_SIZE];	/* unique, not the node's own */
	uint8_t pub[CFG_KEYBYTES];	/* unique, not all zero */
	struct cfg_endpoint endpoint;	/* unset: the peer only dials in */
	enum cfg_role role;		/* default compute */
	unsigned line;			/* of its [Peer] header */
};

struct cfg_dataset {
	char name[CFG_NAME_SIZE];	/* unique among datasets */
	char *path;			/* ends in .npy or .csv */
	unsigned line;
};

struct cfg_model {
	char name[CFG_NAME_SIZE];	/* unique among models */
	char *path;			/* ends in .onnx */
	char *weights;			/* ends in .safetensors; NULL: none */
	unsigned line;
};

struct cfg_policy {
	enum cfg_approve approve;	/* default manual: the safe choice */
	/*
	 * Nodes that may receive a job's outputs: this node and/or compute
	 * peers, never a dealer. Default: this node alone (none on a dealer).
	 */
	struct cfg_names allow_recipients;
	struct cfg_names allow_peers;	/* peers that may propose; default none */
	uint32_t approve_timeout;	/* seconds, 1..604800, default 3600 */
	/*
	 * The public graph hashes of the models this node's datasets may be
	 * evaluated by. Default any (the weaker choice: any model the other
	 * policies let through, including one that reveals the data).
	 */
	struct cfg_hashes allow_models;
	unsigned line;			/* of the [Policy] header; 0 if absent */
};

/* Read-only once returned; free with cfg_free(). */
struct cfg {
	struct cfg_node node;
	struct cfg_peer *peers;
	size_t n_peers;
	struct cfg_dataset *datasets;
	size_t n_datasets;
	struct cfg_model *models;
	size_t n_models;
	struct cfg_policy policy;
	char *path;			/* the file name given, for messages */
};

/*
 * Parse a config file (at most CFG_FILE_MAX bytes). On success *out owns
 * a new struct cfg and 0 is returned; on failure *out is NULL and the
 * code is one of those above, with a one-line message.
 */
int cfg_load(const char *path, struct cfg **out);

/* The same on a buffer; name is used for messages and relative paths. */
int cfg_parse(const char *buf, size_t len, const char *name, struct cfg **out);

/* Accepts NULL. */
void cfg_free(struct cfg *c);

/*
 * Print the effective configuration (defaults filled in) as a config file
 * that parses back to the same values; secret keys print as "(hidden)".
 * Returns 0 or MPC_E_IO.
 */
int cfg_dump(const struct cfg *c, FILE *f);

/* Lookups by exact name (or key); NULL when not configured. */
const struct cfg_peer *cfg_peer_by_name(const struct cfg *c, const char *name);
const struct cfg_peer *cfg_peer_by_key(const struct cfg *c, const uint8_t pub[static CFG_KEYBYTES]);
const struct cfg_dataset *cfg_dataset_by_name(const struct cfg *c, const char *name);
const struct cfg_model *cfg_model_by_name(const struct cfg *c, const char *name);

/* "compute" / "dealer", "auto" / "manual". */
const char *cfg_role_name(enum cfg_role r);
const char *cfg_approve_name(enum cfg_approve a);

#endif
