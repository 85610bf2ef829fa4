/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The public graph: what the model owner shows every other party of a job
 * (and the dealer). It is built new from an allowlist, never edited from
 * the owner's file, because anything copied goes out verbatim: protobuf-c
 * keeps the fields it does not know and packs them again, and a weight can
 * sit in an initializer of any type, a Constant node, an attribute or a
 * doc string.
 *
 * Built from the imported model (which has already refused every op and
 * attribute it does not understand), with the file consulted only for
 * attribute values and for the declared types of data inputs and outputs:
 *   - ir_version; one opset import (the default domain's version);
 *   - nodes in import order: op, name, input and output names, and
 *     attributes of type FLOAT, INT, STRING, FLOATS, INTS, STRINGS (name,
 *     type, value; any other type is refused). Constant nodes are not
 *     nodes here: their outputs are values like initializers. Dropout is
 *     written as Identity (what inference computes), without its ratio and
 *     training_mode inputs;
 *   - graph inputs: the data inputs in graph order, then every weight (any
 *     value no node computes, whatever its type or origin) as a FLOAT
 *     input with its fixed shape and no data, in order of first use;
 *   - initializers: only public integer constants (docs/security.md):
 *     integer tensors used as public structure (a Reshape or Expand
 *     shape, Slice's starts, axes, Gather's indices, any input of a node
 *     computed in public, such as Shape -> Gather -> Concat), as INT64
 *     rebuilt from the values the importer read, and only when used by
 *     nothing else (public structure also used as an operand is refused).
 *     ConstantOfShape's integer value is rebuilt the same way; so are
 *     Pow's exponent (FLOAT) and Reduce's axes read at import;
 *   - a Split (imported as one Slice per output) is written back as one
 *     Split node with its outputs;
 *   - graph outputs: name, element type and shape (symbolic dims by name).
 * Nothing else: no doc strings, names of the graph, producer, metadata or
 * unknown fields. The result depends on the graph and the weights' shapes
 * only, so a model with its weights inside and the same model with them
 * in a safetensors file have one public graph, and one hash.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "model_int.h"
#include "onnx.pb-c.h"

typedef Mpconnx__AttributeProto aproto;
typedef Mpconnx__ValueInfoProto viproto;

/* A graph input or output declaration with its storage. */
struct decl {
	viproto vi;
	Mpconnx__TypeProto type;
	Mpconnx__TypeProto__Tensor tt;
	Mpconnx__TensorShapeProto shape;
	Mpconnx__TensorShapeProto__Dimension dim[FT_MAX_DIMS], *pdim[FT_MAX_DIMS];
};

/* Everything the new message points to (strings stay in m and the file). */
struct pg {
	const struct model *m;
	Mpconnx__ModelProto mp;
	Mpconnx__GraphProto graph;
	Mpconnx__OperatorSetIdProto opset, *popset;
	Mpconnx__NodeProto *nodes, **pnodes;
	aproto *attrs, **pattrs;
	char **names; /* node inputs and outputs */
	struct decl *decls;
	viproto **pin, **pout;
	Mpconnx__TensorProto *inits, **pinits;
	Mpconnx__TensorProto *fills; /* per node: ConstantOfShape's value */
	int *state; /* per value: 0 not seen, 1 weight declared, 2 shape emitted */
	int *operand;  /* per value: used as an operand (not as public structure) by some node */
	int *pubuse;   /* per value: used as public structure (a shape, indices, a folded input) */
	size_t n_decl;
};

static const char *vname(const struct pg *p, int v)
{
	return p->m->values[v].name;
}

static const viproto *file_decl(const viproto *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (list[i]->name && !strcmp(list[i]->name, name))
			return list[i];
	return NULL;
}

/* A data input or output: the file's element type and dims (no doc, no denotation). */
static int decl_copy(struct pg *p, const viproto *src, const char *name)
{
	struct decl *d = &p->decls[p->n_decl++];
	const Mpconnx__TypeProto__Tensor *tt;

	mpconnx__value_info_proto__init(&d->vi);
	mpconnx__type_proto__init(&d->type);
	mpconnx__type_proto__tensor__init(&d->tt);
	mpconnx__tensor_shape_proto__init(&d->shape);
	d->vi.name = (char *)name;
	d->vi.type = &d->type;
	d->type.value_case = MPCONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	d->type.tensor_type = &d->tt;
	if (!src || !src->type || src->type->value_case != MPCONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
	    !src->type->tensor_type)
		return mpc_fail(MPC_E_FORMAT, "%s: graph value '%s' has no tensor type",
				p->m->path, name);
	tt = src->type->tensor_type;
	d->tt.has_elem_type = tt->has_elem_type;
	d->tt.elem_type = tt->elem_type;
	if (!tt->shape)
		return 0;
	if (tt->shape->n_dim > FT_MAX_DIMS)
		return mpc_fail(MPC_E_UNSUPPORTED, "%s: graph value '%s': rank %zu", p->m->path,
				name, tt->shape->n_dim);
	d->tt.shape = &d->shape;
	d->shape.n_dim = tt->shape->n_dim;
	d->shape.dim = d->pdim;
	for (size_t k = 0; k < tt->shape->n_dim; k++) {
		const Mpconnx__TensorShapeProto__Dimension *s = tt->shape->dim[k];

		mpconnx__tensor_shape_proto__dimension__init(&d->dim[k]);
		d->pdim[k] = &d->dim[k];
		if (s->value_case == MPCONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
			d->dim[k].value_case = s->value_case;
			d->dim[k].dim_value = s->dim_value;
		} else if (s->value_case == MPCONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
			   s->dim_param) {
			d->dim[k].value_case = s->value_case;
			d->dim[k].dim_param = s->dim_param;
		}
	}
	return 0;
}

/* A weight: name, FLOAT and its fixed shape; never its data. */
static int decl_weight(struct pg *p, int v)
{
	const struct model_value *mv = &p->m->values[v];
	struct decl *d = &p->decls[p->n_decl++];

	if (mv->init.ndim < 0)
		return mpc_fail(MPC_E_SHAPE, "%s: weight '%s' has no declared shape", p->m->path,
				mv->name);
	mpconnx__value_info_proto__init(&d->vi);
	mpconnx__type_proto__init(&d->type);
	mpconnx__type_proto__tensor__init(&d->tt);
	mpconnx__tensor_shape_proto__init(&d->shape);
	d->vi.name = mv->name;
	d->vi.type = &d->type;
	d->type.value_case = MPCONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	d->type.tensor_type = &d->tt;
	d->tt.has_elem_type = 1;
	d->tt.elem_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	d->tt.shape = &d->shape;
	d->shape.n_dim = (size_t)mv->init.ndim;
	d->shape.dim = d->pdim;
	for (int k = 0; k < mv->init.ndim; k++) {
		if (mv->init.dims[k] < 0)
			return mpc_fail(MPC_E_SHAPE, "%s: weight '%s' has a symbolic dimension",
					p->m->path, mv->name);
		mpconnx__tensor_shape_proto__dimension__init(&d->dim[k]);
		d->dim[k].value_case = MPCONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
		d->dim[k].dim_value = mv->init.dims[k];
		d->pdim[k] = &d->dim[k];
	}
	p->pin[p->graph.n_input++] = &d->vi;
	return 0;
}

/* Only attribute types that hold no tensor or graph pass, with their one value. */
static int attr_copy(struct pg *p, const struct model_node *n, const aproto *a, aproto *o)
{
	mpconnx__attribute_proto__init(o);
	o->name = a->name;
	o->has_type = 1;
	o->type = a->type;
	switch (a->has_type ? a->type : MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED) {
	case MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
		o->has_f = 1;
		o->f = a->f;
		return 0;
	case MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
		o->has_i = 1;
		o->i = a->i;
		return 0;
	case MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
		o->has_s = 1;
		o->s = a->s;
		return 0;
	case MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
		o->n_floats = a->n_floats;
		o->floats = a->floats;
		return 0;
	case MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
		o->n_ints = a->n_ints;
		o->ints = a->ints;
		return 0;
	case MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
		o->n_strings = a->n_strings;
		o->strings = a->strings;
		return 0;
	default:
		return mpc_fail(MPC_E_UNSUPPORTED,
				"%s: node '%s': attribute '%s' may hold a tensor or a graph, which "
				"the public graph cannot show",
				p->m->path, n->name, a->name ? a->name : "");
	}
}

/* A public integer constant, rebuilt from the values the importer read: INT64, its dims. */
static int int_init(struct pg *p, int v)
{
	const struct model_value *mv = &p->m->values[v];
	Mpconnx__TensorProto *t = &p->inits[p->graph.n_initializer];

	if (!mv->ints)
		return mpc_fail(MPC_E_INTERNAL, "%s: '%s' is no integer constant", p->m->path,
				mv->name);
	mpconnx__tensor_proto__init(t);
	t->name = mv->name;
	t->has_data_type = 1;
	t->data_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64;
	t->n_dims = (size_t)mv->init.ndim;
	t->dims = (int64_t *)mv->init.dims;
	t->n_int64_data = mv->init.n;
	t->int64_data = mv->ints;
	p->pinits[p->graph.n_initializer++] = t;
	return 0;
}

/*
 * Pow's exponent (FLOAT, its shape) or Reduce's axes (INT64 [k]), rebuilt
 * from what the importer read: public facts, like Reshape's target.
 */
static void const_init(struct pg *p, const struct model_node *n, int v)
{
	const struct model_value *mv = &p->m->values[v];
	Mpconnx__TensorProto *t = &p->inits[p->graph.n_initializer];

	mpconnx__tensor_proto__init(t);
	t->name = mv->name;
	t->has_data_type = 1;
	if (n->op == MOP_POW) {
		t->data_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
		t->n_dims = (size_t)mv->init.ndim;
		t->dims = (int64_t *)mv->init.dims;
		t->n_float_data = 1;
		t->float_data = (float *)&n->exponent;
	} else {
		t->data_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64;
		t->n_dims = 1;
		t->dims = (int64_t *)&mv->init.dims[0]; /* == axes_n, checked */
		t->n_int64_data = (size_t)n->axes_n;
		t->int64_data = (int64_t *)n->axes;
	}
	p->pinits[p->graph.n_initializer++] = t;
}

static int const_input(struct pg *p, size_t k, const Mpconnx__NodeProto *fn, char **name)
{
	const struct model_node *n = &p->m->nodes[k];
	int v;

	if (fn->n_input < 2 || (v = model_find_value(p->m, fn->input[1])) < 0)
		return mpc_fail(MPC_E_INTERNAL, "%s: node '%s': constant input not found",
				p->m->path, n->name);
	if (p->operand[v] || p->state[v] == 1)
		return mpc_fail(MPC_E_UNSUPPORTED,
				"%s: tensor '%s' is both node '%s''s %s and an operand; the public "
				"graph would have to show it",
				p->m->path, vname(p, v), n->name,
				n->op == MOP_POW ? "exponent" : "axes");
	if (n->op != MOP_POW && (p->m->values[v].init.ndim != 1 ||
				 p->m->values[v].init.dims[0] != n->axes_n))
		return mpc_fail(MPC_E_INTERNAL, "%s: node '%s': axes '%s' have no rank-1 data",
				p->m->path, n->name, vname(p, v));
	if (!p->state[v]) {
		p->state[v] = 2;
		const_init(p, n, v);
	}
	*name = p->m->values[v].name;
	return 0;
}

/* Slot i of node n reads public structure: a folded node's input, or a shape, axes, indices. */
static int public_use(const struct model_node *n, int i)
{
	return n->op != MOP_SHAPE && (n->folded || model_public_slot(n, i));
}

/* The input name of node k in slot i, declaring what it needs. */
static int node_input(struct pg *p, size_t k, int i, char **name)
{
	const struct model_node *n = &p->m->nodes[k];
	int v = n->in[i];

	if (v < 0) {
		*name = (char *)"";
		return 0;
	}
	*name = p->m->values[v].name;
	if (p->state[v] || p->m->values[v].is_data_input || model_produced(p->m, v))
		return 0;
	if (p->pubuse[v]) {
		/* Public structure every party folds alike; never a weight's bytes. */
		if (p->operand[v])
			return mpc_fail(MPC_E_UNSUPPORTED,
					"%s: tensor '%s' is both public structure (a shape, axes "
					"or indices of node '%s') and an operand; the public graph "
					"would have to show it",
					p->m->path, vname(p, v), n->name);
		p->state[v] = 2;
		return int_init(p, v);
	}
	p->state[v] = 1;
	return decl_weight(p, v);
}

/* ConstantOfShape's value, rebuilt from the integer the importer read. */
static void fill_attr(struct pg *p, size_t k, aproto *o)
{
	static const int64_t one = 1;
	Mpconnx__TensorProto *t = &p->fills[k];

	mpconnx__tensor_proto__init(t);
	t->has_data_type = 1;
	t->data_type = MPCONNX__TENSOR_PROTO__DATA_TYPE__INT64;
	t->n_dims = 1;
	t->dims = (int64_t *)&one;
	t->n_int64_data = 1;
	t->int64_data = (int64_t *)&p->m->nodes[k].fill;
	o->t = t;
}

static int one_node(struct pg *p, size_t k, const Mpconnx__NodeProto *fn, char **names,
		    aproto *attrs, aproto **pattrs)
{
	const struct model_node *n = &p->m->nodes[k];
	Mpconnx__NodeProto *o = &p->nodes[k];
	const char *op = model_op_name(n->op), *fop = fn->op_type ? fn->op_type : "";
	int n_in = n->const_in ? 2 : n->n_in, n_out = n->split_n ? n->split_n : 1, ret;

	if (n->split_n)
		op = "Split"; /* imported as one Slice per output */
	if (strcmp(op, fop) && !(n->op == MOP_IDENTITY && !strcmp(fop, "Dropout")))
		return mpc_fail(MPC_E_ARG, "%s: the model was not imported from this file (node "
				"'%s')", p->m->path, n->name);
	if (k + (size_t)n_out > p->m->n_nodes)
		return mpc_fail(MPC_E_ARG, "%s: the model was not imported from this file",
				p->m->path);
	mpconnx__node_proto__init(o);
	o->op_type = (char *)op;
	o->name = n->name;
	o->input = names;
	o->n_input = (size_t)n_in;
	for (int i = 0; i < n_in; i++)
		if ((ret = n->const_in && i == 1 ? const_input(p, k, fn, &names[i]) :
						      node_input(p, k, i, &names[i])) != 0)
			return ret;
	/* Omitted optional inputs at the end are simply absent. */
	while (o->n_input && !*names[o->n_input - 1])
		o->n_input--;
	for (int j = 0; j < n_out; j++)
		names[n_in + j] = p->m->values[p->m->nodes[k + (size_t)j].out].name;
	o->output = &names[n_in];
	o->n_output = (size_t)n_out;
	/* Dropout becomes Identity: its attributes would not be Identity's. */
	if (strcmp(op, fop))
		return 0;
	o->attribute = pattrs;
	for (size_t a = 0; a < fn->n_attribute; a++) {
		const aproto *fa = fn->attribute[a];

		if (n->op == MOP_CONSTOFSHAPE && fa->name && !strcmp(fa->name, "value")) {
			mpconnx__attribute_proto__init(&attrs[a]);
			attrs[a].name = fa->name;
			attrs[a].has_type = 1;
			attrs[a].type = MPCONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
			fill_attr(p, k, &attrs[a]);
		} else if ((ret = attr_copy(p, n, fa, &attrs[a])) != 0) {
			return ret;
		}
		pattrs[o->n_attribute++] = &attrs[a];
	}
	return 0;
}

static int build(struct pg *p, const Mpconnx__ModelProto *file)
{
	const struct model *m = p->m;
	const Mpconnx__GraphProto *g = file->graph;
	size_t k = 0, n_attr = 0, n_names = 0, na = 0, nn = 0;
	int ret;

	for (size_t i = 0; i < g->n_node; i++)
		if (strcmp(g->node[i]->op_type ? g->node[i]->op_type : "", "Constant")) {
			n_attr += g->node[i]->n_attribute;
			n_names += MODEL_MAX_IN + MODEL_MAX_SPLIT;
		}
	if (!(p->nodes = calloc(m->n_nodes + 1, sizeof(*p->nodes))) ||
	    !(p->pnodes = calloc(m->n_nodes + 1, sizeof(*p->pnodes))) ||
	    !(p->attrs = calloc(n_attr + 1, sizeof(*p->attrs))) ||
	    !(p->pattrs = calloc(n_attr + 1, sizeof(*p->pattrs))) ||
	    !(p->names = calloc(n_names + 1, sizeof(*p->names))) ||
	    !(p->decls = calloc(m->n_values + m->n_outputs + 1, sizeof(*p->decls))) ||
	    !(p->pin = calloc(m->n_values + 1, sizeof(*p->pin))) ||
	    !(p->pout = calloc(m->n_outputs + 1, sizeof(*p->pout))) ||
	    !(p->inits = calloc(m->n_values + 1, sizeof(*p->inits))) ||
	    !(p->pinits = calloc(m->n_values + 1, sizeof(*p->pinits))) ||
	    !(p->fills = calloc(m->n_nodes + 1, sizeof(*p->fills))) ||
	    !(p->state = calloc(m->n_values + 1, sizeof(*p->state))) ||
	    !(p->operand = calloc(m->n_values + 1, sizeof(*p->operand))) ||
	    !(p->pubuse = calloc(m->n_values + 1, sizeof(*p->pubuse))))
		return mpc_fail(MPC_E_NOMEM, "%s: public graph", m->path);
	mpconnx__model_proto__init(&p->mp);
	mpconnx__graph_proto__init(&p->graph);
	mpconnx__operator_set_id_proto__init(&p->opset);
	p->mp.has_ir_version = file->has_ir_version;
	p->mp.ir_version = file->ir_version;
	p->opset.has_version = 1;
	p->opset.version = m->opset;
	p->popset = &p->opset;
	p->mp.n_opset_import = 1;
	p->mp.opset_import = &p->popset;
	p->mp.graph = &p->graph;
	p->graph.node = p->pnodes;
	p->graph.input = p->pin;
	p->graph.output = p->pout;
	p->graph.initializer = p->pinits;
	/* Shape reads only a shape, which the declaration shows anyway. */
	for (size_t i = 0; i < m->n_nodes; i++)
		for (int j = 0; j < m->nodes[i].n_in; j++) {
			int v = m->nodes[i].in[j];

			if (v < 0 || m->nodes[i].op == MOP_SHAPE)
				continue;
			if (public_use(&m->nodes[i], j))
				p->pubuse[v] = 1;
			else
				p->operand[v] = 1;
		}
	for (size_t i = 0; i < m->n_inputs; i++) {
		int v = m->inputs[i];

		p->state[v] = 1;
		if ((ret = decl_copy(p, file_decl((const viproto *const *)g->input, g->n_input,
						  vname(p, v)),
				     vname(p, v))) != 0)
			return ret;
		p->pin[p->graph.n_input++] = &p->decls[p->n_decl - 1].vi;
	}
	for (size_t i = 0; i < g->n_node; i++) {
		const Mpconnx__NodeProto *fn = g->node[i];

		if (!strcmp(fn->op_type ? fn->op_type : "", "Constant"))
			continue;
		if (k >= m->n_nodes)
			return mpc_fail(MPC_E_ARG, "%s: the model was not imported from this file",
					m->path);
		if ((ret = one_node(p, k, fn, &p->names[nn], &p->attrs[na], &p->pattrs[na])) != 0)
			return ret;
		p->pnodes[p->graph.n_node++] = &p->nodes[k];
		k += m->nodes[k].split_n ? (size_t)m->nodes[k].split_n : 1;
		nn += MODEL_MAX_IN + MODEL_MAX_SPLIT;
		na += fn->n_attribute;
	}
	if (k != m->n_nodes)
		return mpc_fail(MPC_E_ARG, "%s: the model was not imported from this file", m->path);
	for (size_t i = 0; i < m->n_outputs; i++) {
		const char *s = vname(p, m->outputs[i]);

		if ((ret = decl_copy(p, file_decl((const viproto *const *)g->output, g->n_output, s),
				     s)) != 0)
			return ret;
		p->pout[p->graph.n_output++] = &p->decls[p->n_decl - 1].vi;
	}
	return 0;
}

int model_public_graph(const uint8_t *onnx, size_t len, const struct model *m, uint8_t **out,
		       size_t *out_len)
{
	Mpconnx__ModelProto *file = NULL;
	struct model *own = NULL;
	struct pg p = { 0 };
	int ret = 0;

	*out = NULL;
	*out_len = 0;
	/* Import first: whatever the importer refuses never reaches a peer. */
	if (!m && (ret = model_parse_onnx(onnx, len, NULL, &own)) != 0)
		return ret;
	p.m = m ? m : own;
	if (!(file = mpconnx__model_proto__unpack(NULL, len, onnx)) || !file->graph) {
		ret = mpc_fail(MPC_E_FORMAT, "%s: protobuf parse error (truncated or corrupt)",
			       p.m->path);
		goto out;
	}
	if ((ret = build(&p, file)) != 0)
		goto out;
	*out_len = mpconnx__model_proto__get_packed_size(&p.mp);
	if (!(*out = malloc(*out_len ? *out_len : 1))) {
		*out_len = 0;
		ret = mpc_fail(MPC_E_NOMEM, "%s: public graph", p.m->path);
		goto out;
	}
	mpconnx__model_proto__pack(&p.mp, *out);
out:
	free(p.nodes);
	free(p.pnodes);
	free(p.attrs);
	free(p.pattrs);
	free(p.names);
	free(p.decls);
	free(p.pin);
	free(p.pout);
	free(p.inits);
	free(p.pinits);
	free(p.fills);
	free(p.state);
	free(p.operand);
	free(p.pubuse);
	if (file)
		mpconnx__model_proto__free_unpacked(file, NULL);
	model_free(own);
	return ret;
}
