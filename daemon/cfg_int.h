/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_CFG_INT_H
#define MPC_CFG_INT_H

/*
 * Private to cfg.c (the streaming reader and cross-section checks) and
 * cfg_keys.c (the key table, value parsers and printers).
 */
#include "cfg.h"

enum cfg_sec {
	CFG_SEC_NONE = 0,	/* before the first header */
	CFG_SEC_NODE,
	CFG_SEC_PEER,
	CFG_SEC_DATASET,
	CFG_SEC_MODEL,
	CFG_SEC_POLICY,
	CFG_SEC_COUNT
};

enum cfg_type {
	CFG_T_NAME,	/* char[CFG_NAME_SIZE] */
	CFG_T_PATH,	/* char *, malloc'd */
	CFG_T_ENUM,	/* enum (int-sized), index into choices[] */
	CFG_T_UINT,	/* uint32_t */
	CFG_T_SIZE,	/* uint64_t bytes; K, M, G suffixes (powers of 1024) */
	CFG_T_SECONDS,	/* uint32_t; s, m, h, d suffixes */
	CFG_T_KEY,	/* uint8_t[CFG_KEYBYTES], base64 */
	CFG_T_ENDPOINT,	/* struct cfg_endpoint */
	CFG_T_NAMES,	/* struct cfg_names; may be empty */
	CFG_T_HASHES,	/* struct cfg_hashes: "any" or hex SHA-256 list */
};

#define CFG_REQUIRED	0x1u
#define CFG_SECRET	0x2u	/* never quoted in errors, "(hidden)" in dumps */

/*
 * One row per key. off is the field's offset in the section's struct
 * (struct cfg_node, cfg_peer, cfg_dataset, cfg_model, cfg_policy). def is
 * the default as text, parsed like a value from the file; "{Key}" in it is
 * replaced by that key's value in the same section, so defaults can follow
 * Name and DataDir. choices: the names of an ENUM, or the suffixes one of
 * which a PATH must end with.
 */
struct cfg_key {
	enum cfg_sec sec;
	const char *name;
	enum cfg_type type;
	size_t off;
	uint64_t min, max;
	const char *def;
	unsigned flags;
	const char *const *choices;
};

#define CFG_NKEYS_MAX 48
extern const struct cfg_key cfg__keys[];
extern const size_t cfg__nkeys;

/* The streaming reader's state (cfg__read_init / _line / _finish). */
struct cfg_reader {
	struct cfg *c;
	char *dir;			/* for relative paths; NULL: leave them */
	unsigned lineno;
	size_t bytes;
	enum cfg_sec sec;		/* the open section */
	void *obj;			/* its struct */
	unsigned sec_line;
	unsigned key_line[CFG_NKEYS_MAX]; /* where each key was set, 0: not */
	/* Kept past the section for the checks at the end of the file. */
	unsigned policy_keys[CFG_NKEYS_MAX];
};

int cfg__read_init(struct cfg_reader *rd, const char *name);
int cfg__read_line(struct cfg_reader *rd, const char *line, size_t len);
int cfg__read_finish(struct cfg_reader *rd, struct cfg **out);
/* Frees what the reader holds; safe after finish and after any error. */
void cfg__read_abort(struct cfg_reader *rd);

const char *cfg__sec_name(enum cfg_sec s);
const struct cfg_key *cfg__key_find(enum cfg_sec s, const char *name);
size_t cfg__key_index(const struct cfg_key *k);

/*
 * Set the row's field in obj from text found at line (for messages).
 * from_default: the text is the table's default (already expanded), not
 * the operator's, so relative paths are left alone.
 */
int cfg__set(const struct cfg_reader *rd, unsigned line, const struct cfg_key *k,
	     const char *val, void *obj, bool from_default);
/*
 * A comma list (cfg_list.c) into *out, an array of fixed-size strings
 * (kind->stride bytes each, *n_out of them; empty text: none): items
 * trimmed of blanks, each checked and copied by kind->item, duplicates
 * refused. *out is malloc'd.
 */
#define CFG_STR_(x) #x
#define CFG_STR(x) CFG_STR_(x)
struct cfg_list_kind {
	const char *noun;	/* "names": for "lists more than N names" */
	size_t stride;
	bool (*item)(const char *b, size_t len, char *dst);
	const char *bad;	/* the message when an item is refused */
};
int cfg__set_list(const struct cfg_reader *rd, unsigned line, const struct cfg_key *k,
		  const char *val, const struct cfg_list_kind *kind, void **out, size_t *n_out);
/* The CFG_T_HASHES parser (cfg_list.c): "any", or a list of hashes. */
int cfg__set_hashes(const struct cfg_reader *rd, unsigned line, const struct cfg_key *k,
		    const char *val, struct cfg_hashes *field);
/* Fill "{Key}" references in a default; 0 or MPC_E_TOOBIG. */
int cfg__expand(const struct cfg_key *k, const void *obj, char *dst, size_t n);
/* Release what a row's field owns (paths, lists). */
void cfg__clear(const struct cfg_key *k, void *obj);
/* Print "Key = value\n" (or a comment when unset). */
void cfg__print(FILE *f, const struct cfg_key *k, const void *obj);
/* A size as the config writes it: 1M, 64K, 1048577. */
void cfg__fmt_size(char *dst, size_t n, uint64_t v);

/*
 * Fail with "file:line: [Sec] Key: 'value' reason". k and val may be NULL
 * (then the parts they name are left out); a SECRET row's value prints
 * as (hidden). Returns code.
 */
int cfg__err(const struct cfg_reader *rd, int code, unsigned line, enum cfg_sec sec,
	     const struct cfg_key *k, const char *val, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

#endif
