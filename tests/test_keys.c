/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Key handling (crypto/keys.c): base64 encoding and strict decoding of
 * 32-byte keys, and loading private key files (mode checks, format
 * errors, the guarded-memory variant) without ever printing the key.
 */
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chan_util.h"
#include "err.h"
#include "keys.h"
#include "test.h"

TEST(keys_b64)
{
	uint8_t k[KEYS_BYTES], back[KEYS_BYTES];
	char b64[KEYS_B64_LEN + 1], bad[80];

	randombytes_buf(k, sizeof(k));
	ASSERT_OK(keys_b64_encode(k, b64));
	ASSERT_EQ(strlen(b64), KEYS_B64_LEN);
	ASSERT_OK(keys_b64_decode(b64, back));
	ASSERT_MEM_EQ(k, back, KEYS_BYTES);
	/* the WireGuard documentation's example key */
	ASSERT_OK(keys_b64_decode("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=", back));
	ASSERT_EQ(back[0], 0xc8);
	ASSERT_EQ(back[31], 0x69);

	ASSERT_ERR(keys_b64_decode("", back), MPC_E_FORMAT);
	ASSERT(sodium_is_zero(back, KEYS_BYTES));
	ASSERT(!strstr(mpc_errmsg(MPC_E_FORMAT), b64));
	/* one character short, one long, a newline, 31 and 33 bytes */
	snprintf(bad, sizeof(bad), "%.43s", b64);
	ASSERT_ERR(keys_b64_decode(bad, back), MPC_E_FORMAT);
	snprintf(bad, sizeof(bad), "%sA", b64);
	ASSERT_ERR(keys_b64_decode(bad, back), MPC_E_FORMAT);
	snprintf(bad, sizeof(bad), "%s\n", b64);
	ASSERT_ERR(keys_b64_decode(bad, back), MPC_E_FORMAT);
	{
		uint8_t k33[33] = { 1 };
		char b[60];

		sodium_bin2base64(b, sizeof(b), k33, 31, sodium_base64_VARIANT_ORIGINAL);
		ASSERT_ERR(keys_b64_decode(b, back), MPC_E_FORMAT);
		sodium_bin2base64(b, sizeof(b), k33, 33, sodium_base64_VARIANT_ORIGINAL);
		ASSERT_ERR(keys_b64_decode(b, back), MPC_E_FORMAT);
	}
	/* garbage of the right length, URL-safe alphabet, missing padding */
	ASSERT_ERR(keys_b64_decode("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3f!mk=", back),
		   MPC_E_FORMAT);
	ASSERT_ERR(keys_b64_decode("yAnz5TF-lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=", back),
		   MPC_E_FORMAT);
	ASSERT_ERR(keys_b64_decode("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmkA", back),
		   MPC_E_FORMAT);
	/* non-canonical: the last character carries bits beyond 32 bytes */
	ASSERT_ERR(keys_b64_decode("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmn=", back),
		   MPC_E_FORMAT);
	ASSERT_ERR(keys_b64_decode(" yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk", back),
		   MPC_E_FORMAT);
	return 0;
}

/* Write content to dir/name with the given mode; returns the path. */
static const char *keyfile(const char *dir, const char *name, const char *content, mode_t mode)
{
	static char path[4][512];
	static unsigned n;
	char *p = path[n++ % 4];
	int fd;

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT(fd >= 0);
	ASSERT_EQ(write(fd, content, strlen(content)), (long long)strlen(content));
	ASSERT_EQ(fchmod(fd, mode), 0);
	close(fd);
	return p;
}

TEST(keys_load_private)
{
	const char *tmp = getenv("TMPDIR");
	char dir[256], line[KEYS_B64_LEN + 2], b64[KEYS_B64_LEN + 1], two[600];
	uint8_t k[32], pub[32], priv[32], want[32], *sec = NULL;
	const char *p;

	ASSERT(sodium_init() >= 0);
	snprintf(dir, sizeof(dir), "%s/mpcd-keys-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ASSERT(mkdtemp(dir));
	randombytes_buf(k, sizeof(k));
	ASSERT_OK(crypto_scalarmult_base(want, k));
	ASSERT_OK(keys_b64_encode(k, b64));
	snprintf(line, sizeof(line), "%s\n", b64);

	p = keyfile(dir, "alpha.key", line, 0600);
	ASSERT_OK(keys_load_private(p, priv, pub));
	ASSERT_MEM_EQ(priv, k, 32);
	ASSERT_MEM_EQ(pub, want, 32);
	p = keyfile(dir, "alpha.key", b64, 0400); /* no newline, read-only */
	ASSERT_OK(keys_load_private(p, priv, pub));
	ASSERT_MEM_EQ(pub, want, 32);

	p = keyfile(dir, "alpha.key", line, 0644);
	ASSERT_ERR(keys_load_private(p, priv, pub), MPC_E_POLICY);
	ASSERT(strstr(mpc_errmsg(MPC_E_POLICY),
		      "alpha.key: mode 0644: private key must not be readable by group or "
		      "others (chmod 600)"));
	ASSERT(!strstr(mpc_errmsg(MPC_E_POLICY), b64));
	ASSERT(sodium_is_zero(priv, 32) && sodium_is_zero(pub, 32));
	p = keyfile(dir, "alpha.key", line, 0640);
	ASSERT_ERR(keys_load_private(p, priv, pub), MPC_E_POLICY);
	p = keyfile(dir, "alpha.key", line, 0604);
	ASSERT_ERR(keys_load_private(p, priv, pub), MPC_E_POLICY);
	p = keyfile(dir, "alpha.key", line, 0620);
	ASSERT_ERR(keys_load_private(p, priv, pub), MPC_E_POLICY);

	/* not one base64 line */
	snprintf(two, sizeof(two), "%s\n%s\n", b64, b64);
	p = keyfile(dir, "two.key", two, 0600);
	ASSERT_ERR(keys_load_private(p, priv, pub), MPC_E_FORMAT);
	ASSERT(!strstr(mpc_errmsg(MPC_E_FORMAT), b64));
	snprintf(two, sizeof(two), "%s\n\n", b64);
	p = keyfile(dir, "blank.key", two, 0600);
	ASSERT_ERR(keys_load_private(p, priv, pub), MPC_E_FORMAT);
	p = keyfile(dir, "empty.key", "", 0600);
	ASSERT_ERR(keys_load_private(p, priv, pub), MPC_E_FORMAT);
	p = keyfile(dir, "junk.key", "not a key at all, but long enough to look like one\n", 0600);
	ASSERT_ERR(keys_load_private(p, priv, pub), MPC_E_FORMAT);
	ASSERT(strstr(mpc_errmsg(MPC_E_FORMAT), "junk.key"));
	/* not a regular file, missing file */
	ASSERT_EQ(chmod(dir, 0700), 0);
	ASSERT_ERR(keys_load_private(dir, priv, pub), MPC_E_FORMAT);
	ASSERT(strstr(mpc_errmsg(MPC_E_FORMAT), "not a regular file"));
	snprintf(two, sizeof(two), "%s/missing.key", dir);
	ASSERT_ERR(keys_load_private(two, priv, pub), MPC_E_IO);

	/* the guarded-memory variant */
	p = keyfile(dir, "alpha.key", line, 0600);
	ASSERT_OK(keys_private_load(p, &sec, pub));
	ASSERT(sec);
	ASSERT_MEM_EQ(sec, k, 32);
	ASSERT_MEM_EQ(pub, want, 32);
	keys_private_free(sec);
	sec = NULL;
	p = keyfile(dir, "alpha.key", line, 0644);
	ASSERT_ERR(keys_private_load(p, &sec, pub), MPC_E_POLICY);
	ASSERT(sec == NULL);
	keys_private_free(NULL);

	{
		static const char *const names[] = { "alpha.key", "two.key", "blank.key",
						     "empty.key", "junk.key" };

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			snprintf(two, sizeof(two), "%s/%s", dir, names[i]);
			unlink(two);
		}
	}
	ASSERT_EQ(rmdir(dir), 0);
	return 0;
}
