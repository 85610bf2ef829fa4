/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Keys in the style of `wg genkey` / `wg pubkey`: X25519, base64. The
 * private key never touches ordinary memory longer than it must.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define B64_KEY_LEN sodium_base64_ENCODED_LEN(crypto_scalarmult_BYTES, \
					      sodium_base64_VARIANT_ORIGINAL)

static const char genkey_usage[] =
	"usage: mpcctl genkey > KEYFILE\n"
	"\n"
	"Prints a new X25519 private key, base64, for [Node] PrivateKeyFile. Make the\n"
	"file private as it is created, so the key is never readable by others:\n"
	"    (umask 077; mpcctl genkey > alpha.key)\n";

static const char pubkey_usage[] =
	"usage: mpcctl pubkey < KEYFILE > PUBFILE\n"
	"\n"
	"Reads a private key on standard input and prints its public key, for the\n"
	"other nodes' [Peer] PublicKey.\n";

/* No options but --help: 0 to go on, else the exit status (0 after --help). */
static int no_args(int argc, char **argv, const char *usage)
{
	if (argc < 2)
		return -1;
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	return cli_error(argv[0], usage, "unexpected argument '%s'", argv[1]);
}

int genkey_main(int argc, char **argv)
{
	unsigned char *sk;
	char b64[B64_KEY_LEN];
	struct stat st;
	int ret;

	if ((ret = no_args(argc, argv, genkey_usage)) >= 0)
		return ret;
	if (sodium_init() < 0 || !(sk = sodium_malloc(crypto_scalarmult_SCALARBYTES))) {
		fprintf(stderr, "mpcctl genkey: libsodium unavailable\n");
		return 1;
	}
	if (!fstat(STDOUT_FILENO, &st) && S_ISREG(st.st_mode) && (st.st_mode & 0077))
		fprintf(stderr, "Warning: writing a private key to a file readable by others "
			"(make it with: (umask 077; mpcctl genkey > FILE))\n");
	randombytes_buf(sk, crypto_scalarmult_SCALARBYTES);
	sodium_bin2base64(b64, sizeof(b64), sk, crypto_scalarmult_SCALARBYTES,
			  sodium_base64_VARIANT_ORIGINAL);
	sodium_free(sk);
	printf("%s\n", b64);
	sodium_memzero(b64, sizeof(b64));
	return fflush(stdout) ? 1 : 0;
}

int pubkey_main(int argc, char **argv)
{
	unsigned char *sk, pk[crypto_scalarmult_BYTES];
	char line[128], b64[B64_KEY_LEN];
	size_t len, bin_len = 0;
	int ret;

	if ((ret = no_args(argc, argv, pubkey_usage)) >= 0)
		return ret;
	if (sodium_init() < 0 || !(sk = sodium_malloc(crypto_scalarmult_SCALARBYTES))) {
		fprintf(stderr, "mpcctl pubkey: libsodium unavailable\n");
		return 1;
	}
	ret = 1;
	if (!fgets(line, sizeof(line), stdin)) {
		fprintf(stderr, "mpcctl pubkey: no key on standard input\n");
		goto out;
	}
	len = strcspn(line, "\r\n");
	line[len] = '\0';
	if (sodium_base642bin(sk, crypto_scalarmult_SCALARBYTES, line, len, NULL, &bin_len,
			      NULL, sodium_base64_VARIANT_ORIGINAL) ||
	    bin_len != crypto_scalarmult_SCALARBYTES) {
		fprintf(stderr, "mpcctl pubkey: not a base64 private key of %d bytes\n",
			crypto_scalarmult_SCALARBYTES);
		goto out;
	}
	if (crypto_scalarmult_base(pk, sk)) {
		fprintf(stderr, "mpcctl pubkey: invalid private key\n");
		goto out;
	}
	sodium_bin2base64(b64, sizeof(b64), pk, sizeof(pk), sodium_base64_VARIANT_ORIGINAL);
	printf("%s\n", b64);
	ret = fflush(stdout) ? 1 : 0;
out:
	sodium_memzero(line, sizeof(line));
	sodium_free(sk);
	return ret;
}
