/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The public graph (what the model owner sends every other party of a
 * job) carries no weight, wherever the weight sits in the file: each test
 * puts a weight in one place, checks that its bytes occur nowhere in the
 * public graph, and runs the job with the owner on the full model and the
 * other party on the public graph only.
 */
#include <math.h>

#include "eval.h"
#include "fxp.h"
#include "model.h"
#include "npy.h"
#include "onnx_build.h"
#include "sim.h"
#include "test.h"

#define PUB_OWNER 1 /* party 0 holds the data, party 1 the weights */

static const float wf[12] = { 0.75f, -1.5f, 2.25f, 0.125f, -0.625f, 1.875f,
			      -2.5f, 0.375f, 1.25f, -0.875f, 0.5f, -1.125f };
static const float cf[3] = { 0.3125f, -0.4375f, 0.6875f };
static const int64_t wi64[12] = { 3, -2, 7, 1, -5, 4, 2, -6, 1, 5, -3, 2 };
static const int32_t wi32[12] = { -4, 6, 1, -3, 2, 5, -7, 3, 4, -1, 6, -2 };
static const uint8_t wbool[12] = { 1, 0, 1, 1, 0, 1, 1, 1, 0, 0, 1, 0 };
static const float xv[8] = { 0.5f, -0.25f, 1.0f, 0.75f, -1.0f, 0.5f, 0.25f, -0.5f };
static const char marker[] = "MARKER-of-the-owner-0123456789ab";

struct split {
	struct model *own, *pub;
	const float *x;
	int64_t xd[FT_MAX_DIMS];
	int xnd;
	struct ftensor out;
};

static int split_need(void *arg, struct corr_list *l)
{
	struct split *s = arg;

	return eval_need(s->pub, 16, l);
}

/* The owner runs its full model, the data owner the public graph. */
static int split_party(struct mpc *m, void *arg)
{
	struct split *s = arg;
	const struct model *md = m->me == PUB_OWNER ? s->own : s->pub;
	struct eval_part part = { .owner = 0, .ndim = s->xnd, .data = m->me ? NULL : s->x };
	struct eval_input in = { .n_parts = 1, .axis = 0, .parts = &part };
	struct eval_out out = { 0 };
	uint64_t *plain = NULL;
	int ret;

	memcpy(part.dims, s->xd, sizeof(part.dims));
	if ((ret = eval_run(m, md, PUB_OWNER, &in, 1, &out, 1, NULL)) != 0)
		return ret;
	net_set_phase(m->net, NET_PH_OUTPUT);
	if (!(plain = mpc_alloc(out.n))) {
		eval_out_free(&out);
		return MPC_E_NOMEM;
	}
	ret = mpc_reveal_to(m, 0, out.share, out.n, plain);
	if (!ret && m->me == 0)
		fxp_decode(s->out.data, plain, out.n, out.bits);
	mpc_free_words(plain, out.n);
	eval_out_free(&out);
	return ret;
}

static void no_bytes(const uint8_t *pub, size_t plen, const void *secret, size_t slen,
		     const char *what)
{
	if (memmem(pub, plen, secret, slen))
		TEST_FAIL("%s: its %zu bytes occur in the public graph", what, slen);
}

/*
 * full: the owner's file, x [2, ...] its one data input 'x'. Builds the
 * public graph, checks the secrets are absent from it, runs owner + data
 * owner against the plaintext reference, and checks both derive the same
 * correlated-randomness list.
 */
static void check_split(const uint8_t *full, size_t len, int xnd, const int64_t *xd,
			const void *const *secret, const size_t *slen, int nsecret)
{
	struct split s = { .x = xv, .xnd = xnd };
	struct sim_job job = { .n_parties = 2, .frac = 16, .need = split_need,
			       .run = split_party, .arg = &s };
	const char *data[1] = { "x" };
	struct corr_list a = { 0 }, b = { 0 };
	struct ftensor x = ob_tensor(xnd, xd, xv), ref = { 0 };
	uint8_t *pub = NULL;
	size_t plen = 0;

	memcpy(s.xd, xd, (size_t)xnd * sizeof(*xd));
	ASSERT_OK(model_parse_onnx(full, len, "full.onnx", &s.own));
	ASSERT_OK(model_public_graph(full, len, s.own, &pub, &plen));
	model_weight_exps(s.own); /* as a daemon's model owner, who sends them beside the graph */
	for (int i = 0; i < nsecret; i++) {
		ASSERT(memmem(full, len, secret[i], slen[i])); /* the check can see it */
		no_bytes(pub, plen, secret[i], slen[i], "a weight");
	}
	ASSERT_OK(model_parse_onnx(pub, plen, "public", &s.pub));
	ASSERT_OK(model_declare_weights(s.pub, data, 1));
	{
		char *t = model_weight_exps_format(s.own);

		ASSERT(t);
		ASSERT_OK(model_weight_exps_parse(s.pub, t));
		free(t);
	}
	ASSERT_OK(model_check_job(s.pub));
	ASSERT_OK(model_check_job(s.own));
	ASSERT_OK(model_infer(s.own, (const int64_t(*)[FT_MAX_DIMS])xd, &xnd));
	ASSERT_OK(model_infer(s.pub, (const int64_t(*)[FT_MAX_DIMS])xd, &xnd));
	ASSERT_OK(model_ref_eval(s.own, &x, &ref));
	ASSERT_OK(eval_fold_batchnorm(s.own));
	ASSERT_OK(eval_fold_batchnorm(s.pub));
	ASSERT_OK(eval_need(s.own, 16, &a));
	ASSERT_OK(eval_need(s.pub, 16, &b));
	ASSERT_EQ(a.n, b.n);
	for (size_t i = 0; i < a.n; i++)
		ASSERT(corr_req_same(&a.v[i], &b.v[i]));
	ASSERT_OK(ftensor_alloc(&s.out, ref.ndim, ref.dims));
	if (sim_run(&job) != 0)
		TEST_FAIL("secure run: %s", job.err);
	for (size_t i = 0; i < ref.n; i++)
		ASSERT_NEAR(s.out.data[i], ref.data[i], 0.01);
	corr_list_free(&a);
	corr_list_free(&b);
	ftensor_free(&x);
	ftensor_free(&ref);
	ftensor_free(&s.out);
	model_free(s.own);
	model_free(s.pub);
	free(pub);
}

/* x [2, 4] -> Gemm(x, W [3, 4], transB) -> y [2, 3]; W named "w". */
static struct ob *gemm_model(int with_w)
{
	static const int64_t dx[] = { 2, 4 }, dy[] = { 2, 3 }, dw[] = { 3, 4 };
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *nd;

	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", 2, dy);
	if (with_w)
		ob_const(b, "w", 2, dw, wf);
	nd = ob_node(b, "Gemm", "fc", "x,w", "y");
	ob_i(b, nd, "transB", 1);
	return b;
}

static void check_one(struct ob *b, const void *secret, size_t slen)
{
	static const int64_t dx[] = { 2, 4 };
	size_t len;
	uint8_t *full = ob_pack(b, &len);

	check_split(full, len, 2, dx, &secret, &slen, 1);
	free(full);
	ob_free(b);
}

/* A Gemm whose weight is a Constant node; a Constant bias added after it. */
TEST(public_constant_node)
{
	static const int64_t dw[] = { 3, 4 }, dc[] = { 3 }, dx[] = { 2, 4 };
	struct ob *b = gemm_model(0);
	Mpconnx__NodeProto *nd;
	const void *sec[2] = { wf, cf };
	size_t slen[2] = { sizeof(wf), sizeof(cf) }, len;
	uint8_t *full;

	/* Constant nodes must come first: the graph is in topological order. */
	b->graph.n_node = 0;
	nd = ob_node(b, "Constant", "wconst", "", "w");
	ob_t(b, nd, "value",
	     ob_raw_tensor(b, "", MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, dw, wf, sizeof(wf)));
	nd = ob_node(b, "Constant", "cconst", "", "c");
	ob_t(b, nd, "value",
	     ob_raw_tensor(b, "", MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, dc, cf, sizeof(cf)));
	nd = ob_node(b, "Gemm", "fc", "x,w", "y0");
	ob_i(b, nd, "transB", 1);
	ob_node(b, "Add", "bias", "y0,c", "y");
	full = ob_pack(b, &len);
	check_split(full, len, 2, dx, sec, slen, 2);
	free(full);
	ob_free(b);
	return 0;
}

/* INT64 weights, next to a Reshape shape (int64 too) that must stay. */
TEST(public_int64_initializer)
{
	static const int64_t dw[] = { 3, 4 }, dx[] = { 2, 2, 2 }, shape[2] = { 2, 4 }, ds[] = { 2 },
			     dy[] = { 2, 3 };
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *nd;
	const void *sec[1] = { wi64 };
	size_t slen[1] = { sizeof(wi64) }, len;
	uint8_t *full;
	struct model *pm = NULL, *own = NULL;
	uint8_t *pub = NULL;
	size_t plen;

	ob_io(b, 0, "x", 3, dx);
	ob_io(b, 1, "y", 2, dy);
	ob_raw_init(b, "w", MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64, 2, dw, wi64, sizeof(wi64));
	ob_raw_init(b, "shape", MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, ds, shape,
		    sizeof(shape));
	ob_node(b, "Reshape", "flat", "x,shape", "x2");
	nd = ob_node(b, "Gemm", "fc", "x2,w", "y");
	ob_i(b, nd, "transB", 1);
	full = ob_pack(b, &len);
	check_split(full, len, 3, dx, sec, slen, 1);
	/* The shape is structure: it stays, as a constant. */
	ASSERT_OK(model_parse_onnx(full, len, "full.onnx", &own));
	ASSERT_OK(model_public_graph(full, len, own, &pub, &plen));
	ASSERT_OK(model_parse_onnx(pub, plen, "public", &pm));
	ASSERT_EQ(pm->n_inputs, 1);
	{
		const char *data[1] = { "x" };
		int64_t d[1][FT_MAX_DIMS] = { { 2, 2, 2 } };
		int rank = 3;

		/* Shapes are resolved at inference (a computed one needs the rows). */
		ASSERT_OK(model_declare_weights(pm, data, 1));
		ASSERT_OK(model_infer(pm, (const int64_t(*)[FT_MAX_DIMS])d, &rank));
	}
	ASSERT_EQ(pm->nodes[0].shape_n, 2);
	ASSERT_EQ(pm->nodes[0].shape[1], 4);
	model_free(pm);
	model_free(own);
	free(pub);
	free(full);
	ob_free(b);
	return 0;
}

TEST(public_int32_initializer)
{
	static const int64_t dw[] = { 3, 4 };
	struct ob *b = gemm_model(0);

	ob_raw_init(b, "w", MPCONNX__TENSOR_PROTO__DATA_TYPE__INT32, 2, dw, wi32, sizeof(wi32));
	check_one(b, wi32, sizeof(wi32));
	return 0;
}

TEST(public_bool_initializer)
{
	static const int64_t dw[] = { 3, 4 };
	struct ob *b = gemm_model(0);

	ob_raw_init(b, "w", MPCONNX__TENSOR_PROTO__DATA_TYPE__BOOL, 2, dw, wbool, sizeof(wbool));
	check_one(b, wbool, sizeof(wbool));
	return 0;
}

/*
 * Structure written in different ways gives one public graph: a Reshape
 * shape as a Constant node or an INT32 initializer, a Dropout with or
 * without its ratio and training_mode inputs (written as Identity).
 */
static uint8_t *shape_forms(int variant, size_t *len)
{
	static const int64_t dx[] = { 2, 2, 2 }, dy[] = { 2, 4 }, ds[] = { 2 }, d0[] = { 0 };
	static const int32_t shape32[2] = { 2, 4 };
	static const float ratio = 0.5f;
	static const uint8_t off = 0;
	struct ob *b = ob_new(13);
	Mpconnx__NodeProto *nd;
	uint8_t *full;

	ob_io(b, 0, "x", 3, dx);
	ob_io(b, 1, "y", 2, dy);
	if (variant) {
		ob_raw_init(b, "s", MPCONNX__TENSOR_PROTO__DATA_TYPE__INT32, 1, ds, shape32,
			    sizeof(shape32));
		ob_raw_init(b, "ratio", MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 0, d0, &ratio,
			    sizeof(ratio));
		ob_raw_init(b, "train", MPCONNX__TENSOR_PROTO__DATA_TYPE__BOOL, 0, d0, &off, 1);
	} else {
		nd = ob_node(b, "Constant", "sc", "", "s");
		ob_ints(b, nd, "value_ints", 2, 2, 4, 0, 0);
	}
	ob_node(b, "Reshape", "flat", "x,s", "x2");
	nd = ob_node(b, "Dropout", "drop", variant ? "x2,ratio,train" : "x2", "y");
	if (variant)
		ob_f(b, nd, "ratio", 0.25f);
	full = ob_pack(b, len);
	ob_free(b);
	return full;
}

TEST(public_structure_canonical)
{
	static const int64_t dx[] = { 2, 2, 2 };
	uint8_t *fa, *fb, *pa = NULL, *pb = NULL;
	size_t la, lb, pla, plb;

	fa = shape_forms(0, &la);
	fb = shape_forms(1, &lb);
	ASSERT_OK(model_public_graph(fa, la, NULL, &pa, &pla));
	ASSERT_OK(model_public_graph(fb, lb, NULL, &pb, &plb));
	ASSERT_EQ(pla, plb);
	ASSERT(!memcmp(pa, pb, pla));
	check_split(fb, lb, 3, dx, NULL, NULL, 0);
	free(fa);
	free(fb);
	free(pa);
	free(pb);
	return 0;
}

/* A tensor in a node's attribute: the model is refused, nothing is built. */
TEST(public_attribute_tensor)
{
	static const int64_t dw[] = { 3, 4 };
	struct ob *b = gemm_model(1);
	uint8_t *full, *pub = (uint8_t *)"x";
	size_t len, plen = 1;
	int ret;

	ob_t(b, b->pnode[0], "extra",
	     ob_raw_tensor(b, "", MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, dw, wf, sizeof(wf)));
	full = ob_pack(b, &len);
	ret = model_public_graph(full, len, NULL, &pub, &plen);
	ASSERT(ret != 0);
	ASSERT(strstr(mpc_errmsg(ret), "'extra'"));
	ASSERT(pub == NULL && plen == 0);
	free(full);
	ob_free(b);
	return 0;
}

/* Unknown fields (re-emitted by protobuf-c on pack) and doc strings. */
TEST(public_unknown_fields)
{
	static const int64_t dx[] = { 2, 4 };
	struct ob *b = gemm_model(1);
	uint8_t blob[1 + sizeof(wf)] = { sizeof(wf) }; /* protobuf-c packs data as is */
	ProtobufCMessageUnknownField uf = { .tag = 20,
					    .wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
					    .len = sizeof(blob),
					    .data = blob };
	ProtobufCMessageUnknownField un = uf;
	const void *sec[2] = { wf, marker };
	size_t slen[2] = { sizeof(wf), sizeof(marker) - 1 }, len;
	uint8_t *full;

	memcpy(blob + 1, wf, sizeof(wf));
	un.tag = 99;
	/* ModelProto.training_info (field 20) is not in our subset. */
	b->model.base.n_unknown_fields = 1;
	b->model.base.unknown_fields = &uf;
	b->graph.base.n_unknown_fields = 1;
	b->graph.base.unknown_fields = &un;
	b->node[0].base.n_unknown_fields = 1;
	b->node[0].base.unknown_fields = &un;
	b->vi[0][0].base.n_unknown_fields = 1;
	b->vi[0][0].base.unknown_fields = &un;
	b->attr[0][0].base.n_unknown_fields = 1;
	b->attr[0][0].base.unknown_fields = &un;
	b->model.doc_string = (char *)marker;
	b->graph.doc_string = (char *)marker;
	b->node[0].doc_string = (char *)marker;
	b->vi[1][0].doc_string = (char *)marker;
	b->attr[0][0].doc_string = (char *)marker;
	b->model.producer_name = (char *)marker;
	b->graph.name = (char *)marker;
	full = ob_pack(b, &len);
	check_split(full, len, 2, dx, sec, slen, 2);
	free(full);
	ob_free(b);
	return 0;
}

TEST(public_metadata_props)
{
	struct ob *b = gemm_model(1);
	Mpconnx__StringStringEntryProto e = MPCONNX__STRING_STRING_ENTRY_PROTO__INIT, *pe = &e;

	e.key = (char *)"weights";
	e.value = (char *)marker;
	b->model.n_metadata_props = 1;
	b->model.metadata_props = &pe;
	check_one(b, marker, sizeof(marker) - 1);
	return 0;
}

/* A constant that is both a shape and an operand would have to be shown. */
TEST(public_shape_also_weight)
{
	static const int64_t dx[] = { 2, 4 }, dy[] = { 2, 2 }, ds[] = { 2 }, shape[2] = { 4, 2 };
	struct ob *b = ob_new(13);
	struct model *m = NULL;
	uint8_t *full, *pub = NULL;
	size_t len, plen;

	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", 2, dy);
	ob_raw_init(b, "s", MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, ds, shape, sizeof(shape));
	ob_node(b, "Reshape", "r", "x,s", "x2");
	ob_node(b, "MatMul", "mm", "x2,s", "y");
	full = ob_pack(b, &len);
	ASSERT_OK(model_parse_onnx(full, len, "full.onnx", &m));
	ASSERT_FAIL(model_public_graph(full, len, m, &pub, &plen), MPC_E_UNSUPPORTED, "'s'");
	ASSERT(!pub);
	model_free(m);
	free(full);
	ob_free(b);
	return 0;
}

/*
 * Finding 3: a graph with two outputs reaching a party other than the
 * owner is refused by the structural check every party runs, and
 * eval_run refuses an outputs array of the wrong length.
 */
TEST(public_two_outputs_refused)
{
	static const int64_t dx[] = { 2, 4 };
	struct ob *b = ob_new(13);
	struct model *m = NULL;
	const char *data[1] = { "x" };
	uint8_t *full;
	size_t len;

	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "y", 2, dx);
	ob_io(b, 1, "z", 2, dx);
	ob_node(b, "Relu", "r", "x", "y");
	ob_node(b, "Sigmoid", "s", "x", "z");
	full = ob_pack(b, &len);
	ASSERT_OK(model_parse_onnx(full, len, "public", &m));
	ASSERT_OK(model_declare_weights(m, data, 1));
	ASSERT_FAIL(model_check_job(m), MPC_E_UNSUPPORTED, "2 outputs");
	/* Were it run anyway, one eval_out is not room for two: refused. */
	{
		struct split s = { .own = m, .pub = m, .x = xv, .xnd = 2, .xd = { 2, 4 } };
		struct sim_job job = { .n_parties = 2, .frac = 16, .need = split_need,
				       .run = split_party, .arg = &s };
		int nd = 2;

		ASSERT_OK(model_infer(m, (const int64_t(*)[FT_MAX_DIMS])dx, &nd));
		ASSERT(sim_run(&job) != 0);
		ASSERT(strstr(job.err, "2 outputs, the caller 1 and 1"));
	}
	model_free(m);
	free(full);
	ob_free(b);
	return 0;
}

/* An output that no node computes (a weight or the raw input) is refused. */
TEST(public_output_not_computed)
{
	static const int64_t dx[] = { 2, 4 };
	struct ob *b = ob_new(13);
	struct model *m = NULL;

	ob_io(b, 0, "x", 2, dx);
	ob_io(b, 1, "x", 2, dx);
	m = ob_load(b);
	ASSERT_FAIL(model_check_job(m), MPC_E_UNSUPPORTED, "'x'");
	model_free(m);
	return 0;
}

static const char *const fixtures[] = { "iris_logreg", "digits_mlp", "wine_mlp",
					"tiny_cnn", "digits_resavg", "digits_bn_softmax" };

static void fixture_public(const char *dir, int noweights, uint8_t **pub, size_t *plen,
			   struct model **out)
{
	char p[256], w[256];
	uint8_t *buf = NULL;
	size_t len;
	struct model *m = NULL;

	snprintf(p, sizeof(p), "%s/%s", dir, noweights ? "model_noweights.onnx" : "model.onnx");
	snprintf(w, sizeof(w), "%s/weights.safetensors", dir);
	ASSERT_OK(file_read_all(test_fixture(p), 1 << 26, &buf, &len));
	ASSERT_OK(model_parse_onnx(buf, len, p, &m));
	if (noweights)
		ASSERT_OK(model_bind_safetensors(m, test_fixture(w)));
	ASSERT_OK(model_public_graph(buf, len, m, pub, plen));
	*out = m;
	free(buf);
}

/*
 * Every fixture: no weight's bytes in the public graph, and one public
 * graph (so one hash) whether the weights sit in the ONNX file or in a
 * safetensors file next to it.
 */
TEST(public_fixtures_canonical)
{
	for (size_t f = 0; f < sizeof(fixtures) / sizeof(fixtures[0]); f++) {
		uint8_t *pa = NULL, *pb = NULL;
		size_t la, lb;
		struct model *ma = NULL, *mb = NULL;
		char ha[MODEL_HASH_HEX], hb[MODEL_HASH_HEX];

		fixture_public(fixtures[f], 0, &pa, &la, &ma);
		fixture_public(fixtures[f], 1, &pb, &lb, &mb);
		for (size_t i = 0; i < ma->n_values; i++)
			if (ma->values[i].init.data)
				no_bytes(pa, la, ma->values[i].init.data,
					 ma->values[i].init.n * sizeof(float), ma->values[i].name);
		model_public_hash(pa, la, ha);
		model_public_hash(pb, lb, hb);
		if (la != lb || memcmp(pa, pb, la))
			TEST_FAIL("%s: public graphs differ (%zu bytes, %s; %zu bytes, %s)",
				  fixtures[f], la, ha, lb, hb);
		model_free(ma);
		model_free(mb);
		free(pa);
		free(pb);
	}
	return 0;
}
