/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(KEYS_BYTES == crypto_scalarmult_SCALARBYTES, "X25519 key size");
_Static_assert(KEYS_B64_LEN + 1 ==
		       sodium_base64_ENCODED_LEN(KEYS_BYTES, sodium_base64_VARIANT_ORIGINAL),
	       "base64 key length");

/* A key line and its newline fit; anything longer is not a key file. */
#define KEYFILE_MAX 128

/* Decode n characters (not necessarily NUL-terminated). */
static int decode_n(const char *b64, size_t n, uint8_t out[static KEYS_BYTES])
{
	uint8_t tmp[KEYS_BYTES];
	const char *end = NULL;
	size_t got = 0;
	int r = 0;

	/*
	 * Fixed length first: then sodium_base642bin, which does not branch
	 * on the decoded values, sees only inputs of the one valid length.
	 */
	if (n != KEYS_B64_LEN ||
	    sodium_base642bin(tmp, sizeof(tmp), b64, n, NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != KEYS_BYTES || end != b64 + n) {
		r = mpc_fail(MPC_E_FORMAT, "key: not %d base64 characters encoding %d bytes",
			     KEYS_B64_LEN, KEYS_BYTES);
		sodium_memzero(out, KEYS_BYTES);
		goto out;
	}
	memcpy(out, tmp, KEYS_BYTES);
out:
	sodium_memzero(tmp, sizeof(tmp));
	return r;
}

int keys_b64_decode(const char *b64, uint8_t out[static KEYS_BYTES])
{
	return decode_n(b64, strnlen(b64, KEYS_B64_LEN + 1), out);
}

int keys_b64_encode(const uint8_t key[static KEYS_BYTES], char out[static KEYS_B64_LEN + 1])
{
	sodium_bin2base64(out, KEYS_B64_LEN + 1, key, KEYS_BYTES,
			  sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

int keys_load_private(const char *path, uint8_t priv[static KEYS_BYTES],
		      uint8_t pub[static KEYS_BYTES])
{
	char buf[KEYFILE_MAX];
	uint8_t sk[KEYS_BYTES];
	size_t len = 0;
	struct stat st;
	int fd = -1, r;

	sodium_memzero(priv, KEYS_BYTES);
	sodium_memzero(pub, KEYS_BYTES);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = mpc_fail(MPC_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	/* fstat on the open file, so the checks hold for what we read. */
	if (fstat(fd, &st) != 0) {
		r = mpc_fail(MPC_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = mpc_fail(MPC_E_FORMAT, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		r = mpc_fail(MPC_E_POLICY,
			     "%s: mode %04o: private key must not be %s by group or others "
			     "(chmod 600)",
			     path, (unsigned)(st.st_mode & 07777),
			     st.st_mode & (S_IRGRP | S_IROTH) ? "readable" : "accessible");
		goto out;
	}
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = mpc_fail(MPC_E_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	/* One line: the key and an optional newline, nothing else. */
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (decode_n(buf, len, sk) != 0) {
		r = mpc_fail(MPC_E_FORMAT, "%s: not one line with a %d-character base64 key",
			     path, KEYS_B64_LEN);
		goto out;
	}
	if (crypto_scalarmult_base(pub, sk) != 0) {
		r = mpc_fail(MPC_E_FORMAT, "%s: unusable private key", path);
		goto out;
	}
	memcpy(priv, sk, KEYS_BYTES);
	r = 0;
out:
	if (r != 0)
		sodium_memzero(pub, KEYS_BYTES);
	if (fd >= 0)
		close(fd);
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(sk, sizeof(sk));
	return r;
}

int keys_private_load(const char *path, uint8_t **priv, uint8_t pub[static KEYS_BYTES])
{
	uint8_t *p = NULL;
	int r;

	*priv = NULL;
	/* sodium_malloc needs the page size that sodium_init records. */
	if (sodium_init() < 0) {
		r = mpc_fail(MPC_E_INTERNAL, "libsodium failed to initialise");
		goto out;
	}
	if (!(p = sodium_malloc(KEYS_BYTES))) {
		r = mpc_fail(MPC_E_NOMEM, "%s: no secure memory for the key", path);
		goto out;
	}
	if ((r = keys_load_private(path, p, pub)) != 0)
		goto out;
	if (sodium_mprotect_readonly(p) != 0) {
		r = mpc_fail(MPC_E_INTERNAL, "%s: cannot write-protect the key", path);
		goto out;
	}
	*priv = p;
	p = NULL; /* transferred */
	r = 0;
out:
	sodium_free(p);
	return r;
}

void keys_private_free(uint8_t *priv)
{
	/* sodium_free makes the region writable, zeroes it and unmaps it. */
	sodium_free(priv);
}
