/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
#include "wire.h"

#include <stdio.h>
#include <string.h>

#include "ftensor.h"

int wire_valid_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > WIRE_MAX_NAME)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

int wire_valid_input_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > 256)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int lower_hex(const char *s, size_t n)
{
	if (!s || strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int wire_valid_id(const char *s)
{
	return lower_hex(s, WIRE_ID_LEN);
}

int wire_valid_hash(const char *s)
{
	return lower_hex(s, WIRE_HASH_LEN);
}

/* An optional hash: empty, or 64 lowercase hex digits. */
static int hash_ok(const char *s)
{
	return !s || !*s || wire_valid_hash(s);
}

#define BAD(...)                                      \
	do {                                          \
		snprintf(why, len, __VA_ARGS__);      \
		return;                               \
	} while (0)

static void check_part(const Mpcpb__Part *p, char *why, size_t len)
{
	size_t n = 1;
	int ok = 1;

	if (!wire_valid_name(p->node) || !wire_valid_name(p->dataset))
		BAD("bad part names");
	if (p->n_dims > FT_MAX_DIMS)
		BAD("part of rank %zu", p->n_dims);
	for (size_t i = 0; i < p->n_dims; i++) {
		if (p->dims[i] < 0 || (p->dims[i] && n > FT_MAX_ELEMS / (size_t)p->dims[i]))
			ok = 0;
		else
			n *= (size_t)p->dims[i];
	}
	if (!ok || n > FT_MAX_ELEMS)
		BAD("part dims out of range");
}

static void check_spec(const Mpcpb__JobSpec *s, int started, char *why, size_t len)
{
	if (!s)
		BAD("missing job spec");
	if (!wire_valid_id(s->id) || !wire_valid_name(s->proposer) ||
	    !wire_valid_name(s->model_node) || !wire_valid_name(s->model_name))
		BAD("bad job spec ids or names");
	if (s->dealer && *s->dealer && !wire_valid_name(s->dealer))
		BAD("bad dealer name");
	if (s->n_parties < 2 || s->n_parties > WIRE_MAX_PARTIES)
		BAD("%zu compute parties", s->n_parties);
	if (s->n_recipients < 1 || s->n_recipients > WIRE_MAX_PARTIES)
		BAD("%zu recipients", s->n_recipients);
	if (s->n_inputs < 1 || s->n_inputs > WIRE_MAX_INPUTS)
		BAD("%zu inputs", s->n_inputs);
	if (s->frac_bits < 1 || s->frac_bits > 30)
		BAD("frac_bits %d", s->frac_bits);
	/* A started job runs chunks of a number of rows the proposer fixed. */
	if ((started && !s->chunk_rows) || s->chunk_rows > WIRE_MAX_CHUNK_ROWS)
		BAD("chunk_rows %llu", (unsigned long long)s->chunk_rows);
	for (size_t i = 0; i < s->n_parties; i++) {
		if (!wire_valid_name(s->parties[i]))
			BAD("bad party name");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(s->parties[i], s->parties[j]))
				BAD("party '%s' listed twice", s->parties[i]);
	}
	for (size_t i = 0; i < s->n_recipients; i++)
		if (!wire_valid_name(s->recipients[i]))
			BAD("bad recipient name");
	for (size_t i = 0; i < s->n_inputs; i++) {
		const Mpcpb__InputBinding *in = s->inputs[i];

		if (!wire_valid_input_name(in->name))
			BAD("bad input name");
		if (in->n_parts < 1 || in->n_parts > WIRE_MAX_PARTS)
			BAD("%zu parts for one input", in->n_parts);
		/* -1 (the last axis) until the proposer knows the shapes */
		if (in->axis < (started ? 0 : -1) || in->axis >= FT_MAX_DIMS)
			BAD("axis %d", in->axis);
		for (size_t k = 0; k < in->n_parts; k++) {
			check_part(in->parts[k], why, len);
			if (why[0])
				return;
		}
	}
}

static int reason_ok(const char *r)
{
	return !r || strlen(r) <= WIRE_MAX_REASON;
}

void wire_check_frame(const Mpcpb__Frame *f, char *why, size_t len)
{
	why[0] = '\0';
	switch (f->msg_case) {
	case MPCPB__FRAME__MSG_PROPOSE:
		check_spec(f->propose->spec, 0, why, len);
		if (!why[0] && !hash_ok(f->propose->graph_hash))
			BAD("bad public graph hash");
		return;
	case MPCPB__FRAME__MSG_START:
		check_spec(f->start->spec, 1, why, len);
		if (!why[0] && !wire_valid_hash(f->start->graph_hash))
			BAD("bad public graph hash");
		return;
	case MPCPB__FRAME__MSG_GET_MODEL:
		if (!wire_valid_id(f->get_model->id))
			BAD("bad model request");
		return;
	case MPCPB__FRAME__MSG_MODEL:
		if (!wire_valid_id(f->model->id) || !wire_valid_hash(f->model->graph_hash))
			BAD("bad model message");
		if (!f->model->graph.len || f->model->graph.len > WIRE_MAX_GRAPH)
			BAD("public graph of %zu bytes", f->model->graph.len);
		return;
	case MPCPB__FRAME__MSG_ANSWER:
		if (!wire_valid_id(f->answer->id) || !reason_ok(f->answer->reason) ||
		    !hash_ok(f->answer->graph_hash) || (f->answer->pending && f->answer->accept))
			BAD("bad answer");
		if (f->answer->n_parts > WIRE_MAX_PARTS * WIRE_MAX_INPUTS)
			BAD("answer too large");
		for (size_t k = 0; k < f->answer->n_parts; k++) {
			check_part(f->answer->parts[k], why, len);
			if (why[0])
				return;
		}
		return;
	case MPCPB__FRAME__MSG_DATA:
		if (!wire_valid_id(f->data->id))
			BAD("bad data frame");
		return;
	case MPCPB__FRAME__MSG_ABORT:
		if (!wire_valid_id(f->abort->id) || !reason_ok(f->abort->reason))
			BAD("bad abort");
		return;
	case MPCPB__FRAME__MSG_DONE:
		if (!wire_valid_id(f->done->id))
			BAD("bad done");
		return;
	default:
		BAD("unexpected message %d", (int)f->msg_case);
	}
}
