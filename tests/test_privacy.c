/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The privacy promise in unit tests (docs/security.md): errors keep a
 * public line that quotes no private value, cell or path; inputs are
 * bounded by what a product with a weight allows; AllowModels binds data
 * to public graph hashes; and the one function every party runs on a
 * public graph it received refuses altered bytes, another hash and a
 * graph with two outputs.
 */
#include <math.h>
#include <sodium.h>

#include "cfg_util.h"
#include "fxp.h"
#include "job.h"
#include "npy.h"
#include "onnx_build.h"
#include "policy.h"
#include "test.h"

#define HAS(s, w) ASSERT(strstr((s), (w)) != NULL)
#define LACKS(s, w) ASSERT(strstr((s), (w)) == NULL)

TEST(priv_err_public_part)
{
	mpc_err_clear();
	ASSERT_EQ(mpc_fail(MPC_E_FORMAT, "/data/x.csv: 'secret'"), MPC_E_FORMAT);
	/* Safe by default: a site that says nothing public gets the code's text. */
	ASSERT(!strcmp(mpc_errpub(MPC_E_FORMAT), mpc_strerror(MPC_E_FORMAT)));
	ASSERT_EQ(mpc_public(MPC_E_FORMAT, "not a number at line %d", 2), MPC_E_FORMAT);
	ASSERT(!strcmp(mpc_errpub(MPC_E_FORMAT), "not a number at line 2"));
	/* Context (often a path) goes to the private line only. */
	mpc_fail_ctx(MPC_E_FORMAT, "dataset at /home/x");
	HAS(mpc_errmsg(MPC_E_FORMAT), "/home/x");
	ASSERT(!strcmp(mpc_errpub(MPC_E_FORMAT), "not a number at line 2"));
	/* A new error never inherits an older public line. */
	mpc_fail(MPC_E_IO, "/data/y.npy: No such file");
	ASSERT(!strcmp(mpc_errpub(MPC_E_IO), mpc_strerror(MPC_E_IO)));
	mpc_err_clear();
	ASSERT(!strcmp(mpc_errpub(MPC_E_RANGE), mpc_strerror(MPC_E_RANGE)));
	return 0;
}

TEST(priv_fxp_encode_public)
{
	float x[9] = { 0 };
	uint64_t out[9];

	x[7] = 1.23456789e14f;
	ASSERT_EQ(fxp_encode(out, x, 9, 16), MPC_E_RANGE);
	HAS(mpc_errmsg(MPC_E_RANGE), "1.23457e+14");
	HAS(mpc_errmsg(MPC_E_RANGE), "index 7");
	ASSERT(!strcmp(mpc_errpub(MPC_E_RANGE), "value out of range"));
	return 0;
}

/* The bound: a product of an input and a weight under it fits at scale 2f. */
TEST(priv_input_bound)
{
	float ok[3] = { 32767.f, -32767.f, 0.5f }, big[2] = { 1.f, 32768.f }, nan1[1] = { NAN };

	ASSERT(fxp_input_bound(16) == 32768.0);
	ASSERT(fxp_input_bound(30) == 2.0);
	for (int f = 1; f <= FXP_MAX_FRAC; f++) {
		double b = fxp_input_bound(f);

		/* b * b * 2^(2f) = 2^62 exactly: anything strictly under fits. */
		ASSERT(ldexp(b * b, 2 * f) == FXP_LIMIT);
	}
	ASSERT_OK(fxp_check_bound(ok, 3, fxp_input_bound(16)));
	ASSERT_EQ(fxp_check_bound(big, 2, fxp_input_bound(16)), MPC_E_RANGE);
	HAS(mpc_errmsg(MPC_E_RANGE), "index 1");
	ASSERT(!strcmp(mpc_errpub(MPC_E_RANGE), "value out of range"));
	ASSERT_EQ(fxp_check_bound(nan1, 1, fxp_input_bound(16)), MPC_E_RANGE);
	/*
	 * Why: 1e6 encodes (it is far below 2^62 / 2^16), yet its product with
	 * a weight of 5000 at scale 32 is beyond 2^62 and wraps to a wrong sign.
	 */
	ASSERT(fabs(1e6 * 65536.0) < FXP_LIMIT && !(fabs(1e6 * 5000.0 * ldexp(1, 32)) < FXP_LIMIT));
	return 0;
}

TEST(priv_csv_public)
{
	static const char text[] = "a,b,c\nJane Doe 1962-04-01,1,2\n";
	struct ftensor t;

	ASSERT_EQ(csv_parse((const uint8_t *)text, sizeof(text) - 1, &t), MPC_E_FORMAT);
	HAS(mpc_errmsg(MPC_E_FORMAT), "Jane Doe");
	ASSERT(!strcmp(mpc_errpub(MPC_E_FORMAT), "not a number at line 2"));
	LACKS(mpc_errpub(MPC_E_FORMAT), "Jane");
	/* Every other CSV error has a public line without the cell's text too. */
	ASSERT_EQ(csv_parse((const uint8_t *)"a,b\n\"Jane,1\n", 12, &t), MPC_E_FORMAT);
	ASSERT(!strcmp(mpc_errpub(MPC_E_FORMAT), "unterminated quote at line 2"));
	ASSERT_EQ(csv_parse((const uint8_t *)"a,b\n1,2,3\n", 10, &t), MPC_E_FORMAT);
	ASSERT(!strcmp(mpc_errpub(MPC_E_FORMAT), "more than 2 columns at line 2"));
	return 0;
}

/* A missing or malformed file: the public line is the code's text, no path. */
TEST(priv_load_public)
{
	struct ftensor t;
	int ret = input_load("/nonexistent/secret-cohort.npy", &t);

	ASSERT(ret != 0);
	HAS(mpc_errmsg(ret), "secret-cohort");
	LACKS(mpc_errpub(ret), "secret-cohort");
	LACKS(mpc_errpub(ret), "/nonexistent");
	return 0;
}

#define HA "8876ee1da6bd0ab2c2b1a6e4f7f3e3d0f6c1b2a3948576a0b1c2d3e4f5a6b7c8"
#define HB "00000000000000000000000000000000000000000000000000000000000000ff"
#define HC "1234abcd00000000000000000000000000000000000000000000000000000000"

static const char models_conf[] =
	NODE_HEAD
	"[Peer]\nName = beta\nPublicKey = @K1@\n"
	"[Dataset]\nName = scans\nPath = scans.npy\n"
	"[Policy]\nAllowPeers = beta\nAllowModels = " HA ", "
	"00000000000000000000000000000000000000000000000000000000000000FF\n";

TEST(priv_allow_models)
{
	const char *ds[1] = { "scans" }, *parties[2] = { "alpha", "beta" }, *rec[1] = { "alpha" };
	struct policy_req r = { .proposer = "beta", .datasets = ds, .n_datasets = 1,
				.recipients = rec, .n_recipients = 1, .parties = parties,
				.n_parties = 2 };
	enum cfg_approve mode;
	struct cfg *c;
	char why[200], *d;

	test_cfg_keys_init();
	/* The default: any model (the weaker choice, as before the key). */
	ASSERT_OK(parse_str(NODE_HEAD "[Peer]\nName = beta\nPublicKey = @K1@\n", &c));
	ASSERT(c->policy.allow_models.any);
	ASSERT_OK(policy_check_model(c, 1, HB, why, sizeof(why)));
	cfg_free(c);
	ASSERT_OK(parse_str(models_conf, &c));
	ASSERT(!c->policy.allow_models.any && c->policy.allow_models.n == 2);
	ASSERT(!strcmp(c->policy.allow_models.v[1], HB)); /* kept lowercase */
	d = dump_str(c);
	HAS(d, "AllowModels = " HA ", " HB "\n");
	free(d);
	ASSERT_OK(policy_check_model(c, 1, HA, why, sizeof(why)));
	ASSERT_OK(policy_check_model(c, 1, HB, why, sizeof(why)));
	ASSERT_EQ(policy_check_model(c, 1, HC, why, sizeof(why)), MPC_E_POLICY);
	ASSERT(!strcmp(why, "model hash 1234abcd... is not in AllowModels"));
	/* A node that contributes no dataset does not bind the model. */
	ASSERT_OK(policy_check_model(c, 0, HC, why, sizeof(why)));
	/* policy_check applies it once the hash is known. */
	r.graph_hash = HA;
	ASSERT_OK(policy_check(c, &r, &mode, why, sizeof(why)));
	r.graph_hash = HC;
	ASSERT_EQ(policy_check(c, &r, &mode, why, sizeof(why)), MPC_E_POLICY);
	HAS(why, "is not in AllowModels");
	cfg_free(c);
	ASSERT_EQ(parse_str(NODE_HEAD "[Policy]\nAllowModels = 1234\n", &c), MPC_E_FORMAT);
	HAS(mpc_errmsg(MPC_E_FORMAT), "public graph hashes");
	ASSERT_EQ(parse_str(NODE_HEAD "[Policy]\nAllowModels = " HA ", " HA "\n", &c), MPC_E_FORMAT);
	HAS(mpc_errmsg(MPC_E_FORMAT), "twice");
	return 0;
}

/* Gemm(input, W) -> y, and with two_outputs also Relu(y) -> z as an output. */
static uint8_t *graph_bytes(int two_outputs, size_t *len)
{
	static const float w[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	const int64_t xd[2] = { -1, 4 }, wd[2] = { 4, 3 }, yd[2] = { -1, 3 };
	struct ob *b = ob_new(13);
	uint8_t *full, *pub = NULL;
	size_t n;

	ob_io(b, 0, "input", 2, xd);
	ob_const(b, "W", 2, wd, w);
	ob_node(b, "Gemm", "g", "input,W", "y");
	ob_io(b, 1, "y", 2, yd);
	if (two_outputs) {
		ob_node(b, "Relu", "r", "y", "z");
		ob_io(b, 1, "z", 2, yd);
	}
	n = mpconnx__model_proto__get_packed_size(&b->model);
	full = malloc(n);
	ASSERT(full);
	mpconnx__model_proto__pack(&b->model, full);
	ob_free(b);
	/* What the owner sends: the public graph. */
	ASSERT_OK(model_public_graph(full, n, NULL, &pub, len));
	free(full);
	return pub;
}

TEST(priv_graph_check)
{
	Mpcpb__Part part = MPCPB__PART__INIT, *pp[1] = { &part };
	Mpcpb__InputBinding in = MPCPB__INPUT_BINDING__INIT, *pin[1] = { &in };
	Mpcpb__JobSpec spec = MPCPB__JOB_SPEC__INIT;
	char hash[MODEL_HASH_HEX], why[WIRE_MAX_REASON + 1];
	struct model *m = NULL;
	size_t len, len2;
	uint8_t *g = graph_bytes(0, &len), *g2 = graph_bytes(1, &len2);

	part.node = "beta";
	part.dataset = "iris";
	in.name = "input";
	in.n_parts = 1;
	in.parts = pp;
	spec.n_inputs = 1;
	spec.inputs = pin;
	model_public_hash(g, len, hash);
	ASSERT_OK(job_graph_check(g, len, hash, NULL, &spec, &m, why, sizeof(why)));
	ASSERT(m && m->n_outputs == 1);
	model_free(m);
	/* A byte altered in transit: refused on the hash, before parsing. */
	g[len / 2] ^= 0x01;
	ASSERT_EQ(job_graph_check(g, len, hash, NULL, &spec, NULL, why, sizeof(why)), MPC_E_AUTH);
	HAS(why, "does not match its hash");
	g[len / 2] ^= 0x01;
	/* The right bytes under another hash (the proposal named another). */
	ASSERT_EQ(job_graph_check(g, len, HB, NULL, &spec, NULL, why, sizeof(why)), MPC_E_AUTH);
	/* Two outputs: every party refuses it itself, not only the owner. */
	model_public_hash(g2, len2, hash);
	ASSERT(job_graph_check(g2, len2, hash, NULL, &spec, NULL, why, sizeof(why)) != 0);
	HAS(why, "2 outputs");
	/* The job must bind the model's input by name. */
	model_public_hash(g, len, hash);
	in.name = "other";
	ASSERT(job_graph_check(g, len, hash, NULL, &spec, NULL, why, sizeof(why)) != 0);
	HAS(why, "input");
	/* Sizes are checked, never assumed. */
	ASSERT(job_graph_check(g, 0, hash, NULL, &spec, NULL, why, sizeof(why)) != 0);
	ASSERT(job_graph_check(g, WIRE_MAX_GRAPH + 1, hash, NULL, &spec, NULL, why, sizeof(why)) != 0);
	free(g);
	free(g2);
	return 0;
}

/* Before it answers, a node checks its own parts against the model's declared inputs. */
TEST(priv_parts_check)
{
	Mpcpb__Part a = MPCPB__PART__INIT, b = MPCPB__PART__INIT, *pp[2] = { &a, &b };
	Mpcpb__InputBinding in = MPCPB__INPUT_BINDING__INIT, *pin[1] = { &in };
	Mpcpb__JobSpec spec = MPCPB__JOB_SPEC__INIT;
	static struct ftensor parts[WIRE_MAX_INPUTS][WIRE_MAX_PARTS];
	char hash[MODEL_HASH_HEX], why[WIRE_MAX_REASON + 1];
	struct model *m = NULL;
	size_t len;
	uint8_t *g = graph_bytes(0, &len);
	float data[60] = { 0 };

	a.node = "beta";
	a.dataset = "iris";
	b.node = "gamma";
	b.dataset = "more";
	in.name = "input";
	in.n_parts = 1;
	in.axis = 0;
	in.parts = pp;
	spec.n_inputs = 1;
	spec.inputs = pin;
	model_public_hash(g, len, hash);
	ASSERT_OK(job_graph_check(g, len, hash, NULL, &spec, &m, why, sizeof(why)));
	parts[0][0] = (struct ftensor){ .ndim = 2, .dims = { 10, 4 }, .n = 40, .data = data };
	ASSERT_OK(job_parts_check(m, &spec, "beta", (const struct ftensor (*)[WIRE_MAX_PARTS])parts,
				  why, sizeof(why)));
	/* A column too many: refused with both shapes, the declared batch as '?'. */
	parts[0][0].dims[1] = 5;
	ASSERT_EQ(job_parts_check(m, &spec, "beta", (const struct ftensor (*)[WIRE_MAX_PARTS])parts,
				  why, sizeof(why)), MPC_E_SHAPE);
	HAS(why, "input 'input' part 0 (dataset 'iris') has shape [10, 5], the model declares [?, 4]");
	/* Another rank. */
	parts[0][0] = (struct ftensor){ .ndim = 3, .dims = { 10, 2, 2 }, .n = 40, .data = data };
	ASSERT_EQ(job_parts_check(m, &spec, "beta", (const struct ftensor (*)[WIRE_MAX_PARTS])parts,
				  why, sizeof(why)), MPC_E_SHAPE);
	/* Columns pooled (axis 1): beta's part holds some of them; gamma's is not beta's to check. */
	in.n_parts = 2;
	in.axis = 1;
	parts[0][0] = (struct ftensor){ .ndim = 2, .dims = { 10, 2 }, .n = 20, .data = data };
	ASSERT_OK(job_parts_check(m, &spec, "beta", (const struct ftensor (*)[WIRE_MAX_PARTS])parts,
				  why, sizeof(why)));
	parts[0][0].dims[1] = 4;
	parts[0][0].dims[0] = 10;
	parts[0][0].ndim = 1;
	ASSERT_EQ(job_parts_check(m, &spec, "beta", (const struct ftensor (*)[WIRE_MAX_PARTS])parts,
				  why, sizeof(why)), MPC_E_SHAPE);
	/* An input the model does not have. */
	parts[0][0].ndim = 2;
	in.name = "other";
	ASSERT_EQ(job_parts_check(m, &spec, "beta", (const struct ftensor (*)[WIRE_MAX_PARTS])parts,
				  why, sizeof(why)), MPC_E_ARG);
	memset(parts, 0, sizeof(parts));
	model_free(m);
	free(g);
	return 0;
}
