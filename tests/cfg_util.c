/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * Helpers shared by the config, policy and audit tests; see cfg_util.h.
 */
#include <errno.h>
#include <unistd.h>

#include "cfg_util.h"
#include "err.h"

char K[3][B64], SK[B64];
uint8_t P[3][32];

void test_cfg_keys_init(void)
{
	uint8_t sk[32];
	int i;

	ASSERT(sodium_init() >= 0);
	for (i = 0; i < 3; i++) {
		randombytes_buf(sk, sizeof(sk));
		ASSERT_OK(crypto_scalarmult_base(P[i], sk));
		sodium_bin2base64(K[i], B64, P[i], 32, sodium_base64_VARIANT_ORIGINAL);
	}
	sodium_bin2base64(SK, B64, sk, 32, sodium_base64_VARIANT_ORIGINAL);
}

char *subst(const char *s)
{
	size_t n = strlen(s) + 1, o = 0;
	char *d = malloc(n + 3 * 64 * 8);
	const char *at;

	ASSERT(d);
	while ((at = strstr(s, "@K"))) {
		int i = at[2] - '1';

		ASSERT(i >= 0 && i < 3 && at[3] == '@');
		memcpy(d + o, s, (size_t)(at - s));
		o += (size_t)(at - s);
		o += (size_t)sprintf(d + o, "%s", K[i]);
		s = at + 4;
	}
	strcpy(d + o, s);
	return d;
}

int parse_str(const char *text, struct cfg **c)
{
	char *t = subst(text);
	int r = cfg_parse(t, strlen(t), "alpha.conf", c);

	free(t);
	return r;
}

char *slurp_text(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *b = malloc(CFG_FILE_MAX + 1);

	if (!f)
		TEST_FAIL("%s: %s", path, strerror(errno));
	ASSERT(b);
	*n = fread(b, 1, CFG_FILE_MAX, f);
	b[*n] = '\0';
	fclose(f);
	return b;
}

const char design_example[] =
	"[Node]\n"
	"Name = alpha\n"
	"PrivateKeyFile = alpha.key\n"
	"Listen = 127.0.0.1:7101\n"
	"ControlSocket = /run/mpcd/alpha.sock\n"
	"DataDir = /var/lib/mpcd/alpha\n"
	"\n"
	"[Peer]                 # one per other node\n"
	"Name = beta\n"
	"PublicKey = @K1@\n"
	"Endpoint = 127.0.0.1:7102\n"
	"Role = compute         # or dealer\n"
	"\n"
	"[Peer]\n"
	"Name = gamma\n"
	"PublicKey = @K2@\n"
	"Endpoint = 127.0.0.1:7103\n"
	"\n"
	"[Dataset]              # private data this node may contribute\n"
	"Name = scans\n"
	"Path = /data/scans.npy\n"
	"\n"
	"[Model]                # models this node owns\n"
	"Name = lenet\n"
	"Path = /models/lenet.onnx\n"
	"Weights = /models/lenet.safetensors    # optional\n"
	"\n"
	"[Policy]\n"
	"Approve = auto          # or manual: `mpcctl approve JOB` by this operator\n"
	"AllowRecipients = alpha, beta\n"
	"AllowPeers = beta, gamma\n";

char *dump_str(const struct cfg *c)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	ASSERT(f);
	ASSERT_OK(cfg_dump(c, f));
	fclose(f);
	return s;
}
