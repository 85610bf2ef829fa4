/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#ifndef MPC_CFG_UTIL_H
#define MPC_CFG_UTIL_H

/*
 * Helpers shared by the config tests (test_cfg.c) and the policy and audit
 * tests (test_policy_audit.c): fresh peer keys substituted into config
 * text, a temporary directory, and reading a file back.
 */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "test.h"

#define B64 sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)
#define STREQ(a, b) ASSERT(!strcmp((a), (b)))
#define NODE_HEAD "[Node]\nName = alpha\nPrivateKeyFile = a.key\nListen = 127.0.0.1:7101\n"

/* Public keys of beta, gamma, delta, and a private key never to be printed. */
extern char K[3][B64], SK[B64];
extern uint8_t P[3][32];

/* Fills K, SK and P with fresh keys. */
void test_cfg_keys_init(void);
/* s with @K1@, @K2@, @K3@ replaced by the keys; the caller frees. */
char *subst(const char *s);
/* cfg_parse() of subst(text), named alpha.conf. */
int parse_str(const char *text, struct cfg **c);

/* A temporary directory, made on first use, and the path of name in it. */
/* A file of at most CFG_FILE_MAX bytes, NUL-terminated; the caller frees. */
char *slurp_text(const char *path, size_t *n);
/* The configuration of DESIGN.md, with @K0@.. placeholders for subst(). */
extern const char design_example[];
/* cfg_dump into a malloc'd string. */
char *dump_str(const struct cfg *c);

#endif
