/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * wire_check_frame, the structural bounds of what a peer may send
 * (docs/wire.md): each bound is accepted at its limit and refused one
 * past it, so an off-by-one in either direction fails here rather than
 * in a daemon facing a hostile peer.
 */
#include "ftensor.h"
#include "test.h"
#include "wire.h"

#define ID "0123456789abcdef0123456789abcdef"

/* A valid proposal with room to grow every repeated field to its limit. */
struct spec_fx {
	Mpcpb__Frame f;
	Mpcpb__JobPropose pr;
	Mpcpb__JobSpec s;
	Mpcpb__InputBinding in[WIRE_MAX_INPUTS + 1], *pin[WIRE_MAX_INPUTS + 1];
	Mpcpb__Part part[WIRE_MAX_PARTS + 1], *ppart[WIRE_MAX_PARTS + 1];
	int64_t dims[FT_MAX_DIMS + 1];
	char *parties[WIRE_MAX_PARTIES + 1], *recips[WIRE_MAX_PARTIES + 1];
	char pname[WIRE_MAX_PARTIES + 1][16];
};

static void fx_init(struct spec_fx *x)
{
	memset(x, 0, sizeof(*x));
	mpcpb__frame__init(&x->f);
	mpcpb__job_propose__init(&x->pr);
	mpcpb__job_spec__init(&x->s);
	x->f.msg_case = MPCPB__FRAME__MSG_PROPOSE;
	x->f.propose = &x->pr;
	x->pr.spec = &x->s;
	x->s.id = ID;
	x->s.proposer = x->s.model_node = "alpha";
	x->s.model_name = "lenet";
	x->s.frac_bits = 16;
	for (int i = 0; i <= WIRE_MAX_PARTIES; i++) {
		snprintf(x->pname[i], sizeof(x->pname[i]), "p%d", i);
		x->parties[i] = x->recips[i] = x->pname[i];
	}
	x->s.parties = x->parties;
	x->s.n_parties = 2;
	x->s.recipients = x->recips;
	x->s.n_recipients = 1;
	for (int i = 0; i <= WIRE_MAX_PARTS; i++) {
		mpcpb__part__init(&x->part[i]);
		x->part[i].node = "alpha";
		x->part[i].dataset = "scans";
		x->part[i].dims = x->dims;
		x->part[i].n_dims = 2;
		x->ppart[i] = &x->part[i];
	}
	for (int i = 0; i < FT_MAX_DIMS + 1; i++)
		x->dims[i] = 1;
	x->dims[0] = 64;
	for (int i = 0; i <= WIRE_MAX_INPUTS; i++) {
		mpcpb__input_binding__init(&x->in[i]);
		x->in[i].name = "input";
		x->in[i].axis = 0;
		x->in[i].parts = x->ppart;
		x->in[i].n_parts = 1;
		x->pin[i] = &x->in[i];
	}
	x->s.inputs = x->pin;
	x->s.n_inputs = 1;
}

/* The frame passes (want_ok) or is refused with a reason. */
static void expect(const Mpcpb__Frame *f, int want_ok, const char *what)
{
	char why[REASON_BUF];

	memset(why, 'x', sizeof(why));
	wire_check_frame(f, why, sizeof(why));
	if (want_ok && why[0])
		TEST_FAIL("%s: refused (%s)", what, why);
	if (!want_ok && !why[0])
		TEST_FAIL("%s: accepted", what);
}

TEST(wire_names_ids)
{
	char name[WIRE_MAX_NAME + 2], id[WIRE_ID_LEN + 2];

	memset(name, 'a', sizeof(name));
	name[WIRE_MAX_NAME] = '\0';
	ASSERT(wire_valid_name(name));
	name[WIRE_MAX_NAME] = 'a';
	name[WIRE_MAX_NAME + 1] = '\0';
	ASSERT(!wire_valid_name(name));
	ASSERT(!wire_valid_name(""));
	ASSERT(!wire_valid_name(NULL));
	ASSERT(wire_valid_name("a-b_c.9Z"));
	ASSERT(!wire_valid_name("a b"));
	ASSERT(!wire_valid_name("a/b"));
	ASSERT(wire_valid_id(ID));
	memcpy(id, ID, sizeof(ID));
	id[5] = 'A';
	ASSERT(!wire_valid_id(id));
	id[5] = 'g';
	ASSERT(!wire_valid_id(id));
	memcpy(id, ID "0", sizeof(ID "0"));
	ASSERT(!wire_valid_id(id));
	id[WIRE_ID_LEN - 1] = '\0';
	ASSERT(!wire_valid_id(id));
	ASSERT(!wire_valid_id(NULL));
	return 0;
}

TEST(wire_spec_bounds)
{
	static struct spec_fx x;

	fx_init(&x);
	expect(&x.f, 1, "the base proposal");
	x.s.n_parties = WIRE_MAX_PARTIES;
	expect(&x.f, 1, "WIRE_MAX_PARTIES parties");
	x.s.n_parties++;
	expect(&x.f, 0, "one party too many");
	x.s.n_parties = 1;
	expect(&x.f, 0, "one party");
	x.s.n_parties = 3;
	x.parties[2] = x.pname[0];
	expect(&x.f, 0, "a party listed twice");
	x.parties[2] = x.pname[2];
	x.s.n_recipients = WIRE_MAX_PARTIES;
	expect(&x.f, 1, "WIRE_MAX_PARTIES recipients");
	x.s.n_recipients++;
	expect(&x.f, 0, "one recipient too many");
	x.s.n_recipients = 0;
	expect(&x.f, 0, "no recipient");
	x.s.n_recipients = 1;
	x.s.n_inputs = WIRE_MAX_INPUTS;
	expect(&x.f, 1, "WIRE_MAX_INPUTS inputs");
	x.s.n_inputs++;
	expect(&x.f, 0, "one input too many");
	x.s.n_inputs = 1;
	x.s.frac_bits = 30;
	expect(&x.f, 1, "frac_bits 30");
	x.s.frac_bits = 31;
	expect(&x.f, 0, "frac_bits 31");
	x.s.frac_bits = 0;
	expect(&x.f, 0, "frac_bits 0");
	x.s.frac_bits = 16;
	x.in[0].n_parts = WIRE_MAX_PARTS;
	expect(&x.f, 1, "WIRE_MAX_PARTS parts");
	x.in[0].n_parts++;
	expect(&x.f, 0, "one part too many");
	x.in[0].n_parts = 1;
	x.in[0].axis = -1;
	expect(&x.f, 1, "axis -1 in a proposal");
	x.in[0].axis = FT_MAX_DIMS - 1;
	expect(&x.f, 1, "the last possible axis");
	x.in[0].axis = FT_MAX_DIMS;
	expect(&x.f, 0, "axis FT_MAX_DIMS");
	x.in[0].axis = 0;
	x.s.dealer = "bad name";
	expect(&x.f, 0, "a bad dealer name");
	x.s.dealer = "";
	expect(&x.f, 1, "no dealer");
	return 0;
}

TEST(wire_part_bounds)
{
	static struct spec_fx x;
	Mpcpb__JobStart st = MPCPB__JOB_START__INIT;

	fx_init(&x);
	x.part[0].n_dims = FT_MAX_DIMS;
	expect(&x.f, 1, "a part of rank FT_MAX_DIMS");
	x.part[0].n_dims = FT_MAX_DIMS + 1;
	expect(&x.f, 0, "a part of rank FT_MAX_DIMS + 1");
	x.part[0].n_dims = 2;
	x.dims[0] = (int64_t)FT_MAX_ELEMS;
	expect(&x.f, 1, "FT_MAX_ELEMS elements");
	x.dims[1] = 2;
	expect(&x.f, 0, "2 * FT_MAX_ELEMS elements");
	x.dims[0] = INT64_MAX;
	expect(&x.f, 0, "a product that overflows");
	x.dims[0] = -1;
	x.dims[1] = 1;
	expect(&x.f, 0, "a negative dim");
	x.dims[0] = 64;
	/* A start frame: the axis must be known by then. */
	st.spec = &x.s;
	x.f.msg_case = MPCPB__FRAME__MSG_START;
	x.f.start = &st;
	st.graph_hash = (char *)"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	/* ... and the rows per chunk: the proposer fixed them for every party. */
	expect(&x.f, 0, "a start frame without chunk_rows");
	x.s.chunk_rows = WIRE_MAX_CHUNK_ROWS + 1;
	expect(&x.f, 0, "a start frame with chunks over 2^28 rows");
	x.s.chunk_rows = 7;
	expect(&x.f, 1, "a start frame");
	x.in[0].axis = -1;
	expect(&x.f, 0, "axis -1 in a start frame");
	x.in[0].axis = 0;
	st.graph_hash = (char *)"0123456789abcdef";
	expect(&x.f, 0, "a start frame with a short public graph hash");
	return 0;
}

TEST(wire_other_frames)
{
	static char reason[WIRE_MAX_REASON + 2];
	Mpcpb__Frame f = MPCPB__FRAME__INIT;
	Mpcpb__JobAbort ab = MPCPB__JOB_ABORT__INIT;
	Mpcpb__JobAnswer an = MPCPB__JOB_ANSWER__INIT;

	memset(reason, 'r', sizeof(reason) - 1);
	f.msg_case = MPCPB__FRAME__MSG_ABORT;
	f.abort = &ab;
	ab.id = ID;
	reason[WIRE_MAX_REASON] = '\0';
	ab.reason = reason;
	expect(&f, 1, "an abort with a WIRE_MAX_REASON-byte reason");
	reason[WIRE_MAX_REASON] = 'r';
	expect(&f, 0, "an abort with a reason one byte longer");
	ab.reason = NULL;
	ab.id = "nothex";
	expect(&f, 0, "an abort with a bad id");
	f.msg_case = MPCPB__FRAME__MSG_ANSWER;
	f.answer = &an;
	an.id = ID;
	an.n_parts = WIRE_MAX_PARTS * WIRE_MAX_INPUTS + 1;
	expect(&f, 0, "an answer with too many parts");
	an.n_parts = 0;
	expect(&f, 1, "an answer without parts");
	an.pending = 1;
	expect(&f, 1, "a pending answer (held for approval there)");
	an.accept = 1;
	expect(&f, 0, "an answer both pending and accepting");
	an.accept = an.pending = 0;
	f.msg_case = MPCPB__FRAME__MSG__NOT_SET;
	expect(&f, 0, "a frame without a message");
	return 0;
}
