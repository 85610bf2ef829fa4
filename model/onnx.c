/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * ONNX import. protobuf-c decodes the file (its lengths are checked against
 * the buffer); everything after that is checked here, because a decoded
 * message still carries whatever counts, dims and names the file claims.
 * The generated types stay in model/onnx*.c: the rest of mpcd sees struct
 * model.
 */
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "model_int.h"
#include "npy.h"
#include "onnx_int.h"

#define ONNX_MAX_FILE ((size_t)1 << 30)

typedef Mpconnx__NodeProto nproto;
typedef Mpconnx__AttributeProto aproto;

int onnx_nfail(struct ld *l, int err, const char *fmt, ...)
{
	char what[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return mpc_fail(err, "%s: node '%s' (%s): %s", l->file, l->nname, l->nop, what);
}

static size_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return (size_t)h;
}

static int find_value(const struct ld *l, const char *name)
{
	size_t i = hash_str(name) & l->hmask;

	for (; l->hash[i]; i = (i + 1) & l->hmask)
		if (!strcmp(l->m->values[l->hash[i] - 1].name, name))
			return l->hash[i] - 1;
	return -1;
}

static int add_value(struct ld *l, const char *name, int kind, int *idx)
{
	struct model *m = l->m;
	struct model_value *v;
	size_t i;

	if (!name || !*name)
		return mpc_fail(MPC_E_FORMAT, "%s: a value has an empty name", l->file);
	if (find_value(l, name) >= 0)
		return mpc_fail(MPC_E_FORMAT, "%s: value '%s' is defined twice", l->file, name);
	MPC_CHECK(m->n_values < l->cap);
	v = &m->values[m->n_values];
	if (!(v->name = strdup(name)))
		return mpc_fail(MPC_E_NOMEM, "%s: out of memory", l->file);
	v->ndim = -1;
	v->init.ndim = -1; /* no declared shape yet */
	l->vi[m->n_values].kind = kind;
	for (i = hash_str(name) & l->hmask; l->hash[i]; i = (i + 1) & l->hmask)
		;
	l->hash[i] = (int)m->n_values + 1;
	*idx = (int)m->n_values++;
	return 0;
}

/* Constant node: its one attribute becomes the value's data. */
static int load_constant(struct ld *l, const nproto *np, int idx)
{
	Mpconnx__TensorProto t = MPCONNX__TENSOR_PROTO__INIT;
	const aproto *a;
	int64_t one = 1;
	float f;

	if (np->n_attribute != 1 || !np->attribute[0]->name)
		return onnx_nfail(l, MPC_E_FORMAT, "needs exactly one attribute");
	a = np->attribute[0];
	t.data_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	if (!strcmp(a->name, "value") &&
	    a->type == MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR && a->t)
		return onnx_load_tensor(l, a->t, idx);
	if (!strcmp(a->name, "value_float") &&
	    a->type == MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT) {
		f = a->f;
		t.n_float_data = 1;
		t.float_data = &f;
	} else if (!strcmp(a->name, "value_int") &&
		   a->type == MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT) {
		t.data_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64;
		t.n_int64_data = 1;
		t.int64_data = (int64_t *)&a->i;
	} else if (!strcmp(a->name, "value_floats") &&
		   a->type == MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS) {
		t.n_float_data = a->n_floats;
		t.float_data = a->floats;
		t.n_dims = 1;
		one = (int64_t)a->n_floats;
	} else if (!strcmp(a->name, "value_ints") &&
		   a->type == MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS) {
		t.data_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64;
		t.n_int64_data = a->n_ints;
		t.int64_data = a->ints;
		t.n_dims = 1;
		one = (int64_t)a->n_ints;
	} else {
		return onnx_nfail(l, MPC_E_UNSUPPORTED, "attribute '%s' is not supported", a->name);
	}
	t.dims = &one;
	return onnx_load_tensor(l, &t, idx);
}

/* Inputs a node may leave out (an empty name). */
static int optional_slot(enum model_op op, int i)
{
	switch (op) {
	case MOP_GEMM:
	case MOP_CONV:
		return i == 2;
	case MOP_SLICE: /* axes, steps; Split's sizes */
		return i >= 1;
	case MOP_SQUEEZE:
		return i == 1;
	case MOP_PAD: /* constant_value */
		return i == 2;
	case MOP_LAYERNORM: /* B */
		return i == 2;
	case MOP_REDUCEMEAN: /* axes */
	case MOP_REDUCESUM:
	case MOP_REDUCEMAX:
		return i == 1;
	default:
		return 0;
	}
}

/* Each node input: a value defined earlier (graph order must be topological). */
static int node_inputs(struct ld *l, const nproto *np, const struct onnx_op *oi,
		       struct model_node *n)
{
	size_t i, k;

	if (np->n_input < (size_t)oi->min_in || np->n_input > (size_t)oi->max_in)
		return onnx_nfail(l, oi->max_in == MODEL_MAX_IN ? MPC_E_UNSUPPORTED : MPC_E_FORMAT,
				  "%zu inputs (expected %d to %d)", np->n_input, oi->min_in,
				  oi->max_in);
	for (i = 0; i < np->n_input; i++) {
		const char *s = np->input[i];
		int v;

		if (!*s) {
			if (!oi->dropout && !optional_slot(n->op, (int)i))
				return onnx_nfail(l, MPC_E_FORMAT, "input %zu is missing", i + 1);
			n->in[i] = -1;
			continue;
		}
		if ((v = find_value(l, s)) < 0) {
			for (k = 0; k < l->n_dead; k++)
				if (!strcmp(l->dead[k], s))
					return onnx_nfail(l, MPC_E_UNSUPPORTED,
							  "input '%s' is a Dropout mask, which is "
							  "not supported",
							  s);
			return onnx_nfail(l, MPC_E_FORMAT,
					  "input '%s' is not a graph input, an initializer or an "
					  "earlier node's output",
					  s);
		}
		n->in[i] = v;
		l->vi[v].uses++;
		l->vi[v].param_uses += onnx_param_slot(n->op, (int)i);
	}
	n->n_in = (int)np->n_input;
	return 0;
}

static int node_output(struct ld *l, const nproto *np, int is_dropout, int *idx)
{
	size_t i;

	if (np->n_output < 1 || !*np->output[0])
		return onnx_nfail(l, MPC_E_FORMAT, "no output");
	if (np->n_output > 5)
		return onnx_nfail(l, MPC_E_FORMAT, "%zu outputs", np->n_output);
	for (i = 1; i < np->n_output; i++) {
		if (!*np->output[i])
			continue;
		if (!is_dropout || i > 1)
			return onnx_nfail(l, MPC_E_UNSUPPORTED,
					  "output %zu ('%s') is not supported", i + 1,
					  np->output[i]);
		l->dead[l->n_dead++] = np->output[i];
	}
	if (find_value(l, np->output[0]) >= 0)
		return onnx_nfail(l, MPC_E_FORMAT, "value '%s' is defined twice", np->output[0]);
	return add_value(l, np->output[0], V_NODE, idx);
}

/*
 * Dropout in inference mode is the identity; a training_mode input must be
 * a constant false.
 */
static int dropout_check(struct ld *l, struct model_node *n)
{
	int t = n->n_in > 2 ? n->in[2] : -1;

	if (t >= 0 && (l->vi[t].kind != V_CONST || l->m->values[t].init.data[0] != 0))
		return onnx_nfail(l, MPC_E_UNSUPPORTED, "training_mode must be a constant false");
	n->n_in = 1;
	return 0;
}

/*
 * Split: one Slice per output (output k of n), so that every node has one
 * output; the public graph writes them back as the one Split.
 */
static int split_outputs(struct ld *l, const nproto *np, struct model_node *n)
{
	struct model *m = l->m;
	int ret, idx;

	if (np->n_output < 1 || np->n_output > ONNX_MAX_SPLIT)
		return onnx_nfail(l, MPC_E_UNSUPPORTED, "%zu outputs (1 to %d are supported)",
				  np->n_output, ONNX_MAX_SPLIT);
	if (n->split_attr_n >= 0 && n->split_attr_n && (size_t)n->split_attr_n != np->n_output)
		return onnx_nfail(l, MPC_E_FORMAT, "split has %d sizes for %zu outputs",
				  n->split_attr_n, np->n_output);
	n->split_n = (int)np->n_output;
	for (size_t k = 0; k < np->n_output; k++) {
		struct model_node *p = n;

		if (!*np->output[k])
			return onnx_nfail(l, MPC_E_FORMAT, "output %zu is missing", k + 1);
		if (k) {
			p = &m->nodes[m->n_nodes];
			*p = *n;
			if (!(p->name = strdup(n->name)))
				return mpc_fail(MPC_E_NOMEM, "%s: out of memory", l->file);
			m->n_nodes++;
			for (int i = 0; i < p->n_in; i++)
				if (p->in[i] >= 0)
					l->vi[p->in[i]].uses++;
		}
		p->split_k = (int)k;
		if (find_value(l, np->output[k]) >= 0)
			return onnx_nfail(l, MPC_E_FORMAT, "value '%s' is defined twice",
					  np->output[k]);
		if ((ret = add_value(l, np->output[k], V_NODE, &idx)) != 0)
			return ret;
		p->out = idx;
	}
	return 0;
}

/*
 * Pad: its pads (input 2) are public structure like Reshape's shape
 * (model_public_slot); a constant_value must be a constant 0 (what zero
 * padding of shares computes) and is dropped, so that the public graph
 * does not declare it as a weight.
 */
static int pad_value(struct ld *l, struct model_node *n)
{
	int c = n->n_in > 2 ? n->in[2] : -1;

	if (n->n_in < 2)
		return onnx_nfail(l, MPC_E_UNSUPPORTED,
				  "Pad before opset 11 (pads as an attribute) is not supported");
	if (c >= 0 && (l->vi[c].kind != V_CONST || l->m->values[c].init.n != 1 ||
		       l->m->values[c].init.data[0] != 0))
		return onnx_nfail(l, MPC_E_UNSUPPORTED, "constant_value must be a constant 0");
	if (c >= 0) {
		l->vi[c].uses--;
		n->in[2] = -1;
	}
	n->n_in = 2;
	return 0;
}

static int load_node(struct ld *l, const nproto *np, size_t index)
{
	struct model *m = l->m;
	const struct onnx_op *oi;
	struct model_node *n;
	char defname[64];
	int ret, idx;

	l->nop = np->op_type ? np->op_type : "";
	snprintf(defname, sizeof(defname), "%.40s_%zu", l->nop, index);
	l->nname = np->name && *np->name ? np->name : defname;
	if (np->domain && *np->domain && strcmp(np->domain, "ai.onnx"))
		return mpc_fail(MPC_E_UNSUPPORTED,
				"%s: node '%s': operator '%s' of domain '%s' is not supported",
				l->file, l->nname, l->nop, np->domain);
	if (!strcmp(l->nop, "Constant")) {
		if (np->n_input)
			return onnx_nfail(l, MPC_E_FORMAT, "a Constant takes no inputs");
		if ((ret = node_output(l, np, 0, &idx)) != 0)
			return ret;
		l->vi[idx].kind = V_CONST;
		return load_constant(l, np, idx);
	}
	if (!(oi = onnx_op_find(l->nop)))
		return mpc_fail(MPC_E_UNSUPPORTED, "%s: node '%s': unsupported operator '%s'",
				l->file, l->nname, l->nop);
	n = &m->nodes[m->n_nodes];
	onnx_node_defaults(n, oi, m->opset);
	if (!(n->name = strdup(l->nname)))
		return mpc_fail(MPC_E_NOMEM, "%s: out of memory", l->file);
	m->n_nodes++;
	if ((ret = node_inputs(l, np, oi, n)) != 0)
		return ret;
	if ((ret = onnx_node_attrs(l, np, oi, n)) != 0)
		return ret;
	if ((ret = onnx_tf_node(l, n)) != 0)
		return ret;
	if (!strcmp(oi->name, "Split"))
		return split_outputs(l, np, n);
	if (n->op == MOP_PAD && (ret = pad_value(l, n)) != 0)
		return ret;
	if (oi->dropout && (ret = dropout_check(l, n)) != 0)
		return ret;
	if ((ret = node_output(l, np, oi->dropout, &idx)) != 0)
		return ret;
	n->out = idx;
	return 0;
}

static int load_opset(struct ld *l, const Mpconnx__ModelProto *mp)
{
	int64_t v = -1;
	size_t i;

	for (i = 0; i < mp->n_opset_import; i++) {
		const Mpconnx__OperatorSetIdProto *o = mp->opset_import[i];

		if (o->domain && *o->domain && strcmp(o->domain, "ai.onnx"))
			continue;
		if (v >= 0)
			return mpc_fail(MPC_E_FORMAT, "%s: the default opset is imported twice",
					l->file);
		v = o->has_version && o->version >= 0 ? o->version : 0;
	}
	if (v < 0)
		return mpc_fail(MPC_E_UNSUPPORTED, "%s: no opset of the default domain is imported",
				l->file);
	if (v < 7 || v > 21)
		return mpc_fail(MPC_E_UNSUPPORTED,
				"%s: opset %lld of the default domain is not supported (7 to 21)",
				l->file, (long long)v);
	l->m->opset = v;
	return 0;
}

static int load_outputs(struct ld *l, const Mpconnx__GraphProto *g)
{
	struct model *m = l->m;
	size_t i, k;
	int ret, v;

	if (!g->n_output)
		return mpc_fail(MPC_E_FORMAT, "%s: the graph has no outputs", l->file);
	if (!(m->outputs = calloc(g->n_output, sizeof(*m->outputs))))
		return mpc_fail(MPC_E_NOMEM, "%s: out of memory", l->file);
	for (i = 0; i < g->n_output; i++) {
		const char *s = g->output[i]->name ? g->output[i]->name : "";

		if ((v = find_value(l, s)) < 0) {
			for (k = 0; k < l->n_dead; k++)
				if (!strcmp(l->dead[k], s))
					return mpc_fail(MPC_E_UNSUPPORTED,
							"%s: graph output '%s' is a Dropout mask, "
							"which is not supported",
							l->file, s);
			return mpc_fail(MPC_E_FORMAT,
					"%s: graph output '%s' is not computed by the graph",
					l->file, s);
		}
		if (m->values[v].is_output)
			return mpc_fail(MPC_E_FORMAT, "%s: graph output '%s' is listed twice",
					l->file, s);
		m->values[v].is_output = 1;
		if (l->vi[v].kind == V_NODE && (ret = onnx_load_decl(l, g->output[i], v)) != 0)
			return ret;
		m->outputs[m->n_outputs++] = v;
	}
	return 0;
}

/*
 * Graph inputs without an initializer are data, except those only ever
 * used as parameters (Gemm B/C, MatMul B, Conv W/B, BatchNorm statistics):
 * those are weights to bind from a safetensors file.
 */
static int classify_inputs(struct ld *l)
{
	struct model *m = l->m;
	size_t i;

	if (!(m->inputs = calloc(m->n_values ? m->n_values : 1, sizeof(*m->inputs))))
		return mpc_fail(MPC_E_NOMEM, "%s: out of memory", l->file);
	for (i = 0; i < m->n_values; i++) {
		const struct vinfo *vi = &l->vi[i];

		if (vi->kind != V_INPUT || (vi->uses > 0 && vi->uses == vi->param_uses))
			continue;
		m->values[i].is_data_input = 1;
		m->inputs[m->n_inputs++] = (int)i;
	}
	return 0;
}

static int load_graph(struct ld *l, const Mpconnx__GraphProto *g)
{
	struct model *m = l->m;
	size_t i, cap, hcap = 16, extra = 0;
	int ret, v;

	if (!g)
		return mpc_fail(MPC_E_FORMAT, "%s: the model has no graph", l->file);
	if (g->n_sparse_initializer)
		return mpc_fail(MPC_E_UNSUPPORTED, "%s: sparse initializers are not supported",
				l->file);
	/* Each count is bounded by the file size, so the sum cannot wrap. */
	for (i = 0; i < g->n_node; i++)
		if (g->node[i]->op_type && !strcmp(g->node[i]->op_type, "Split") &&
		    g->node[i]->n_output > 1 && g->node[i]->n_output <= ONNX_MAX_SPLIT)
			extra += g->node[i]->n_output - 1;
	cap = g->n_initializer + g->n_input + g->n_node + extra;
	if (cap > (size_t)1 << 26)
		return mpc_fail(MPC_E_TOOBIG, "%s: %zu values", l->file, cap);
	while (hcap < 2 * cap)
		hcap *= 2;
	l->cap = cap;
	l->hmask = hcap - 1;
	if (!(m->values = calloc(cap + 1, sizeof(*m->values))) ||
	    !(l->vi = calloc(cap + 1, sizeof(*l->vi))) ||
	    !(l->hash = calloc(hcap, sizeof(*l->hash))) ||
	    !(l->dead = calloc(g->n_node + 1, sizeof(*l->dead))) ||
	    !(m->nodes = calloc(g->n_node + extra + 1, sizeof(*m->nodes))))
		return mpc_fail(MPC_E_NOMEM, "%s: out of memory", l->file);
	for (i = 0; i < g->n_initializer; i++) {
		if ((ret = add_value(l, g->initializer[i]->name, V_CONST, &v)) != 0 ||
		    (ret = onnx_load_tensor(l, g->initializer[i], v)) != 0)
			return ret;
	}
	for (i = 0; i < g->n_input; i++) {
		const char *s = g->input[i]->name;

		/* Before IR 4 every initializer is also listed as an input. */
		if (s && (v = find_value(l, s)) >= 0 && l->vi[v].kind == V_CONST)
			continue;
		if ((ret = add_value(l, s, V_INPUT, &v)) != 0 ||
		    (ret = onnx_load_decl(l, g->input[i], v)) != 0)
			return ret;
	}
	for (i = 0; i < g->n_node; i++)
		if ((ret = load_node(l, g->node[i], i)) != 0)
			return ret;
	if ((ret = load_outputs(l, g)) != 0)
		return ret;
	if ((ret = classify_inputs(l)) != 0)
		return ret;
	return model_mark_public(m, l->file);
}

/* protobuf-c's copies of the weights (raw_data, float_data) are wiped when the unpacked model is freed. */
static void *wipe_alloc(void *d, size_t n)
{
	(void)d;
	return malloc(n);
}

static void wipe_free(void *d, void *p)
{
	(void)d;
	if (p)
		ftensor_wipe_free(p, malloc_usable_size(p));
}

static ProtobufCAllocator wiping = { .alloc = wipe_alloc, .free = wipe_free };

int model_parse_onnx(const uint8_t *buf, size_t len, const char *name, struct model **out)
{
	Mpconnx__ModelProto *mp = NULL;
	struct model *m = NULL;
	struct ld l = { 0 };
	int ret = MPC_E_INTERNAL;

	*out = NULL;
	l.file = name ? name : "model";
	if (!(mp = mpconnx__model_proto__unpack(&wiping, len, buf))) {
		ret = mpc_fail(MPC_E_FORMAT, "%s: protobuf parse error (truncated or corrupt)",
			       l.file);
		goto out;
	}
	if (!(m = calloc(1, sizeof(*m))) || !(m->path = strdup(l.file))) {
		ret = mpc_fail(MPC_E_NOMEM, "%s: out of memory", l.file);
		goto out;
	}
	l.m = m;
	if ((ret = load_opset(&l, mp)) != 0 || (ret = load_graph(&l, mp->graph)) != 0)
		goto out;
	*out = m;
	m = NULL;
out:
	model_free(m);
	free(l.vi);
	free(l.hash);
	free(l.dead);
	if (mp)
		mpconnx__model_proto__free_unpacked(mp, &wiping);
	return ret;
}

int model_load_onnx(const char *path, struct model **out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret = MPC_E_INTERNAL;

	*out = NULL;
	if ((ret = file_read_all(path, ONNX_MAX_FILE, &buf, &len)) != 0)
		goto out;
	ret = model_parse_onnx(buf, len, path, out);
out:
	ftensor_wipe_free(buf, len); /* the weights' bytes */
	return ret;
}
