/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The public form of a model: what the model owner shows the other parties
 * of a job. Float initializers (the weights) become graph inputs with
 * their name, type and shape and no data, as model_noweights.onnx has
 * them; integer initializers and Constant nodes stay, since in the
 * supported subset they are structure (Reshape's target shape).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "model.h"
#include "onnx.pb-c.h"

static int is_weight_type(int32_t t)
{
	return t == MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ||
	       t == MPCONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE ||
	       t == MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16 ||
	       t == MPCONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16;
}

struct decl {
	Mpconnx__ValueInfoProto vi;
	Mpconnx__TypeProto type;
	Mpconnx__TypeProto__Tensor tt;
	Mpconnx__TensorShapeProto shape;
	Mpconnx__TensorShapeProto__Dimension dim[FT_MAX_DIMS], *pdim[FT_MAX_DIMS];
};

static int declared(const Mpconnx__GraphProto *g, const char *name)
{
	for (size_t i = 0; i < g->n_input; i++)
		if (g->input[i]->name && !strcmp(g->input[i]->name, name))
			return 1;
	return 0;
}

int model_strip_weights(const uint8_t *onnx, size_t len, uint8_t **out, size_t *out_len)
{
	Mpconnx__ModelProto *m = mpconnx__model_proto__unpack(NULL, len, onnx);
	Mpconnx__ValueInfoProto **inputs = NULL, **old_in;
	Mpconnx__TensorProto **kept = NULL, **old_init;
	size_t old_n_in, old_n_init, n_in, n_kept = 0;
	struct decl *d = NULL;
	Mpconnx__GraphProto *g;
	int ret = MPC_E_NOMEM;

	*out = NULL;
	*out_len = 0;
	if (!m || !m->graph) {
		ret = mpc_fail(MPC_E_FORMAT, "model: protobuf parse error (truncated or corrupt)");
		goto out;
	}
	g = m->graph;
	old_in = g->input;
	old_n_in = g->n_input;
	old_init = g->initializer;
	old_n_init = g->n_initializer;
	if (!(d = calloc(old_n_init + 1, sizeof(*d))) ||
	    !(inputs = calloc(old_n_in + old_n_init + 1, sizeof(*inputs))) ||
	    !(kept = calloc(old_n_init + 1, sizeof(*kept))))
		goto out;
	memcpy(inputs, old_in, old_n_in * sizeof(*inputs));
	n_in = old_n_in;
	for (size_t i = 0; i < old_n_init; i++) {
		Mpconnx__TensorProto *t = old_init[i];

		if (!is_weight_type(t->data_type)) {
			kept[n_kept++] = t;
			continue;
		}
		if (!t->name || t->n_dims > FT_MAX_DIMS) {
			ret = mpc_fail(MPC_E_FORMAT, "model: an initializer without a name or of rank %zu",
				       t->n_dims);
			goto out;
		}
		if (declared(g, t->name))
			continue;
		mpconnx__value_info_proto__init(&d[i].vi);
		mpconnx__type_proto__init(&d[i].type);
		mpconnx__type_proto__tensor__init(&d[i].tt);
		mpconnx__tensor_shape_proto__init(&d[i].shape);
		d[i].vi.name = t->name;
		d[i].vi.type = &d[i].type;
		d[i].type.value_case = MPCONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
		d[i].type.tensor_type = &d[i].tt;
		d[i].tt.has_elem_type = 1;
		d[i].tt.elem_type = t->data_type == MPCONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16 ?
					    MPCONNX__TENSOR_PROTO__DATA_TYPE__FLOAT : t->data_type;
		d[i].tt.shape = &d[i].shape;
		d[i].shape.n_dim = t->n_dims;
		d[i].shape.dim = d[i].pdim;
		for (size_t k = 0; k < t->n_dims; k++) {
			mpconnx__tensor_shape_proto__dimension__init(&d[i].dim[k]);
			d[i].dim[k].value_case = MPCONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
			d[i].dim[k].dim_value = t->dims[k];
			d[i].pdim[k] = &d[i].dim[k];
		}
		inputs[n_in++] = &d[i].vi;
	}
	g->input = inputs;
	g->n_input = n_in;
	g->initializer = kept;
	g->n_initializer = n_kept;
	*out_len = mpconnx__model_proto__get_packed_size(m);
	if ((*out = malloc(*out_len ? *out_len : 1)) != NULL) {
		mpconnx__model_proto__pack(m, *out);
		ret = 0;
	}
	/* Give the message back what it owns before freeing it. */
	g->input = old_in;
	g->n_input = old_n_in;
	g->initializer = old_init;
	g->n_initializer = old_n_init;
out:
	if (ret)
		*out_len = 0;
	free(d);
	free(inputs);
	free(kept);
	if (m)
		mpconnx__model_proto__free_unpacked(m, NULL);
	return ret;
}

static int produced(const struct model *m, size_t vid)
{
	for (size_t k = 0; k < m->n_nodes; k++)
		if ((size_t)m->nodes[k].out == vid)
			return 1;
	return 0;
}

int model_declare_weights(struct model *m, const char *const *data_inputs, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < m->n_values; i++) {
		struct model_value *v = &m->values[i];
		int data = 0;

		if (v->init.data || produced(m, i))
			continue;
		for (size_t j = 0; j < n; j++)
			data |= !strcmp(v->name, data_inputs[j]);
		if (data)
			continue;
		/* A weight: the importer's guess, or an input the job binds no data to. */
		if (v->init.ndim < 0)
			return mpc_fail(MPC_E_SHAPE, "weight '%s' has no declared shape", v->name);
		for (int d = 0; d < v->init.ndim; d++)
			if (v->init.dims[d] < 0)
				return mpc_fail(MPC_E_SHAPE, "weight '%s' has a symbolic dimension",
						v->name);
		v->is_data_input = 0;
		v->shape_only = 1;
	}
	/* m->inputs keeps only the data inputs, in graph order. */
	for (size_t i = 0; i < m->n_inputs; i++)
		if (m->values[m->inputs[i]].is_data_input)
			m->inputs[k++] = m->inputs[i];
	m->n_inputs = k;
	return 0;
}

void model_public_hash(const uint8_t *pub, size_t len, char hex[MODEL_HASH_HEX])
{
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, pub, len);
	sodium_bin2hex(hex, MODEL_HASH_HEX, h, sizeof(h));
}
