/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * The control verbs' plumbing (options, requests, how the daemon's text is
 * shown) and submit; which socket is cli_socket.c, peers cli_peers.c, the
 * verbs about a job once submitted cli_wait.c. mpcctl asks its own mpcd over the control socket
 * (proto/ctl.proto, one Request and one Reply per connection, docs/ctl.md).
 * What can be checked without the daemon (names, the shape of --input, the
 * output file's extension) is checked here first, so a typo costs no round
 * trip and never reaches the peers as a job proposal.
 *
 * Strings in a reply may carry text that came from remote peers (abort
 * reasons, link errors): they reach the terminal only through cli_clean()
 * and JSON only through cli_json_str(), so a peer cannot inject escape
 * sequences into the operator's terminal or break a script's JSON parser.
 *
 * Exit status: 0 done; 1 the request failed (daemon unreachable, refused,
 * file not written); 2 the command line is wrong.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fxp.h"
#include "wire.h"

/* Per read/write on the socket; the daemon answers from memory. */
#define CLI_TIMEOUT_MS 30000
#define NAME_LEN_MAX 32
#define NAME_RULE "1 to 32 of A-Z a-z 0-9 _ . -"
/* An input is named as in the model (wire_valid_input_name). */
#define INPUT_NAME_MAX 256
/* The daemon's own bounds (wire.h), checked before any round trip. */
#define SUBMIT_INPUTS_MAX WIRE_MAX_INPUTS
#define SUBMIT_PARTS_MAX WIRE_MAX_PARTS
#define SUBMIT_OUTPUTS_MAX 16

/*
 * Length of the well-formed UTF-8 sequence at s and its code point, or 0
 * for a byte that does not start one (overlong forms and surrogates too).
 */
static int utf8_seq(const unsigned char *s, uint32_t *cp)
{
	uint32_t c = s[0];
	int n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xc2 || c > 0xf4)
		return 0;
	n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	c &= 0x7fu >> n;
	for (int i = 1; i < n; i++) {
		/* Also stops at the terminating NUL. */
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

static int is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

const char *cli_clean(char *buf, size_t len, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0;

	while (*p && len) {
		uint32_t cp;
		int n = utf8_seq(p, &cp);

		if (!n || is_control(cp)) {
			if (o + 1 >= len)
				break;
			buf[o++] = '?';
			p += n ? n : 1;
			continue;
		}
		if (o + (size_t)n >= len)
			break;
		memcpy(buf + o, p, (size_t)n);
		o += (size_t)n;
		p += n;
	}
	if (len)
		buf[o] = '\0';
	return buf;
}

void cli_bytes(char *buf, size_t len, uint64_t b)
{
	if (b < 10000)
		snprintf(buf, len, "%llu B", (unsigned long long)b);
	else if (b < 1000000)
		snprintf(buf, len, "%.1f KB", (double)b / 1e3);
	else if (b < 1000000000)
		snprintf(buf, len, "%.1f MB", (double)b / 1e6);
	else
		snprintf(buf, len, "%.1f GB", (double)b / 1e9);
}

int cli_error(const char *verb, const char *usage, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mpcctl %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage ? usage : "");
	return 2;
}

/* The option getopt stopped at, as the user typed it (up to any '='). */
static void bad_option(char *buf, size_t len, char **argv)
{
	const char *a = argv[optind - 1];

	if (optopt > 0 && optopt < 128 && strncmp(a, "--", 2))
		snprintf(buf, len, "-%c", optopt);
	else
		snprintf(buf, len, "%.*s", (int)strcspn(a, "="), a);
}

int cli_parse(int argc, char **argv, const char *usage, unsigned flags, struct cli_args *a)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *verb = argv[0];
	char opt[64], *end;
	int c, want = flags & CLI_JOB ? 1 : 0;

	memset(a, 0, sizeof(*a));
	optind = 0; /* GNU getopt: start afresh */
	opterr = 0; /* our own one-line messages */
	while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		/* One table of options; each verb takes only its own. */
		if ((c == 'j' && !(flags & CLI_JSON)) || (c == 'o' && !(flags & CLI_OUT)) ||
		    (c == 't' && !(flags & CLI_TIMEOUT)))
			return cli_error(verb, usage, "unknown option '%s'",
					 c == 'j' ? "--json" : c == 'o' ? "-o" : "--timeout");
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'j':
			a->json = 1;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 't':
			errno = 0;
			a->timeout = strtod(optarg, &end);
			if (!*optarg || *end || errno || !(a->timeout > 0 && a->timeout <= 1e7))
				return cli_error(verb, NULL, "--timeout '%s': expected a number "
						 "of seconds above 0", optarg);
			break;
		case ':':
			bad_option(opt, sizeof(opt), argv);
			return cli_error(verb, usage, "option '%s' needs a value", opt);
		default:
			bad_option(opt, sizeof(opt), argv);
			return cli_error(verb, usage, "unknown option '%s'", opt);
		}
	}
	if (argc - optind < want)
		return cli_error(verb, usage, "missing JOB");
	if (argc - optind > want)
		return cli_error(verb, usage, "unexpected argument '%s'",
				 cli_clean(opt, sizeof(opt), argv[optind + want]));
	a->job = want ? argv[optind] : NULL;
	return CLI_GO;
}

int cli_request(const char *verb, const Mpcctlpb__Request *req, Mpcctlpb__Reply **reply,
		char *err, size_t errlen)
{
	char clean[512];
	const char *path;
	int ret;

	*reply = NULL;
	if (!(path = cli_socket(err, errlen)))
		return 1;
	if ((ret = ctl_call(path, req, reply, CLI_TIMEOUT_MS)) != 0) {
		const char *msg = mpc_errmsg(ret);

		/* The one failure an operator meets first gets the hint. */
		if (ret == MPC_E_IO && !strncmp(msg, "cannot reach mpcd", 17))
			snprintf(err, errlen, "mpcctl: %s (is mpcd running? set MPCD_SOCKET or -s)",
				 msg);
		else
			snprintf(err, errlen, "mpcctl %s: %s", verb, msg);
		return 1;
	}
	if (!(*reply)->ok) {
		snprintf(err, errlen, "mpcctl %s: %s", verb,
			 (*reply)->error && *(*reply)->error ?
			 cli_clean(clean, sizeof(clean), (*reply)->error) :
			 "mpcd refused the request (no reason given)");
		mpcctlpb__reply__free_unpacked(*reply, NULL);
		*reply = NULL;
		return 1;
	}
	return 0;
}

int cli_call(const char *verb, const Mpcctlpb__Request *req, Mpcctlpb__Reply **reply)
{
	char err[1024];

	if (cli_request(verb, req, reply, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	return 0;
}

int cli_flush(const char *verb)
{
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "mpcctl %s: writing to standard output failed\n", verb);
		return 1;
	}
	return 0;
}

void cli_json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	putchar('"');
	while (*p) {
		uint32_t cp;
		int n = utf8_seq(p, &cp);

		if (!n) {
			fputs("\\ufffd", stdout);
			p++;
		} else if (cp == '"' || cp == '\\') {
			printf("\\%c", (char)cp);
			p++;
		} else if (is_control(cp)) {
			printf("\\u%04x", (unsigned)cp);
			p += n;
		} else {
			fwrite(p, 1, (size_t)n, stdout);
			p += n;
		}
	}
	putchar('"');
}

void cli_json_strs(char **v, size_t n)
{
	putchar('[');
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", stdout);
		cli_json_str(v[i]);
	}
	putchar(']');
}

/* ---- submit ---- */

static const char submit_usage[] =
	"usage: mpcctl [-s SOCKET] submit --model NODE:MODEL\n"
	"              --input NAME=NODE:DATASET[,NODE:DATASET...]\n"
	"                    | NAME=NODE:DATASET[+NODE:DATASET...]\n"
	"              --output NODE[,NODE...] [--offline dealer[:NODE]|ot] [--frac-bits F]\n"
	"              [--chunk-rows N] [--json]\n"
	"\n"
	"Proposes a job to the parties and prints its id (--json: the id and the job\n"
	"as proposed, one object). --input and --output may be\n"
	"given more than once. Parts joined with ',' are columns of the same rows (joined\n"
	"on the last axis, in this order); parts joined with '+' are more rows (joined on\n"
	"the first axis). --output names the nodes the results are revealed to.\n"
	"Without --offline (or with plain 'dealer') the daemon uses its only dealer peer.\n"
	"--frac-bits: fractional bits of the fixed-point encoding (default 16).\n"
	"--chunk-rows: rows per chunk; by default the daemon picks the most that fit\n"
	"its JobMemory (every node refuses a chunk over its own).\n";

static int valid_name(const char *s, size_t len)
{
	if (len < 1 || len > NAME_LEN_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

/*
 * s[0..len) as NODE:NAME. Returns 0, or 2 after a one-line error: the
 * generic "expected" when the shape is wrong, else the bad name itself.
 */
static int check_ref(const char *verb, const char *opt, const char *arg, const char *expect,
		     const char *s, size_t len)
{
	const char *colon = memchr(s, ':', len);
	size_t n1 = colon ? (size_t)(colon - s) : 0, n2 = colon ? len - n1 - 1 : 0;
	char clean[160];

	cli_clean(clean, sizeof(clean), arg);
	if (!colon || !n1 || !n2)
		return cli_error(verb, NULL, "%s '%s': expected %s", opt, clean, expect);
	if (!valid_name(s, n1))
		return cli_error(verb, NULL, "%s '%s': '%.*s' is not a valid node name (%s)", opt,
				 clean, (int)n1, s, NAME_RULE);
	if (!valid_name(colon + 1, n2))
		return cli_error(verb, NULL, "%s '%s': '%.*s' is not a valid name (%s)", opt, clean,
				 (int)n2, colon + 1, NAME_RULE);
	return 0;
}

static int check_input(const char *verb, const char *arg, char **seen, size_t n_seen)
{
	/*
	 * The input's name is the model's (any ONNX name: 'onnx::Gemm_0',
	 * 'input.1'); node and dataset names have no '=', so the last one ends it.
	 */
	const char *eq = strrchr(arg, '='), *p;
	char clean[160], name[INPUT_NAME_MAX + 1];
	int comma, plus, parts = 0, ret;

	cli_clean(clean, sizeof(clean), arg);
	if (!eq || eq == arg)
		return cli_error(verb, NULL, "--input '%s': expected NAME=NODE:DATASET", clean);
	snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
	if ((size_t)(eq - arg) > INPUT_NAME_MAX || !wire_valid_input_name(name))
		return cli_error(verb, NULL, "--input '%s': the input name must be 1 to %d "
				 "characters without control characters", clean, INPUT_NAME_MAX);
	for (size_t i = 0; i < n_seen; i++)
		if (!strncmp(seen[i], arg, (size_t)(eq - arg) + 1))
			return cli_error(verb, NULL, "--input '%s': input '%.*s' is given twice",
					 clean, (int)(eq - arg), arg);
	p = eq + 1;
	comma = strchr(p, ',') != NULL;
	plus = strchr(p, '+') != NULL;
	if (comma && plus)
		return cli_error(verb, NULL, "--input '%s': mix of ',' and '+' (one way of "
				 "joining per input)", clean);
	for (;;) {
		size_t len = strcspn(p, ",+");

		if (++parts > SUBMIT_PARTS_MAX)
			return cli_error(verb, NULL, "--input '%s': more than %d parts", clean,
					 SUBMIT_PARTS_MAX);
		if ((ret = check_ref(verb, "--input", arg, "NAME=NODE:DATASET", p, len)) != 0)
			return ret;
		if (!p[len])
			break;
		p += len + 1;
	}
	return 0;
}

/* NODE[,NODE...] appended to out[]; repeated names are an error. */
static int check_outputs(const char *verb, char *arg, char **out, size_t *n_out)
{
	char clean[160];
	char *p = arg;

	cli_clean(clean, sizeof(clean), arg);
	for (;;) {
		size_t len = strcspn(p, ",");
		int last = !p[len];

		if (!valid_name(p, len))
			return cli_error(verb, NULL, "--output '%s': expected NODE[,NODE...] (%s)",
					 clean, NAME_RULE);
		p[len] = '\0';
		for (size_t i = 0; i < *n_out; i++)
			if (!strcmp(out[i], p))
				return cli_error(verb, NULL, "--output: node '%s' is given twice",
						 p);
		if (*n_out == SUBMIT_OUTPUTS_MAX)
			return cli_error(verb, NULL, "--output: more than %d nodes",
					 SUBMIT_OUTPUTS_MAX);
		out[(*n_out)++] = p;
		if (last)
			return 0;
		p += len + 1;
	}
}

int submit_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "offline", required_argument, NULL, 'O' },
		{ "frac-bits", required_argument, NULL, 'f' },
		{ "chunk-rows", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Mpcctlpb__Request req = MPCCTLPB__REQUEST__INIT;
	Mpcctlpb__Submit sub = MPCCTLPB__SUBMIT__INIT;
	Mpcctlpb__Reply *r = NULL;
	const char *verb = argv[0];
	char *inputs[SUBMIT_INPUTS_MAX], *outputs[SUBMIT_OUTPUTS_MAX];
	char *model = NULL, *offline = "", opt[64], *end, clean[160];
	size_t n_in = 0, n_out = 0;
	long frac = 0;
	unsigned long long chunk = 0;
	int c, ret, json = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (model)
				return cli_error(verb, NULL, "--model is given twice");
			if ((ret = check_ref(verb, "--model", optarg, "NODE:MODEL", optarg,
					     strlen(optarg))) != 0)
				return ret;
			model = optarg;
			break;
		case 'i':
			if (n_in == SUBMIT_INPUTS_MAX)
				return cli_error(verb, NULL, "more than %d --input",
						 SUBMIT_INPUTS_MAX);
			if ((ret = check_input(verb, optarg, inputs, n_in)) != 0)
				return ret;
			inputs[n_in++] = optarg;
			break;
		case 'o':
			if ((ret = check_outputs(verb, optarg, outputs, &n_out)) != 0)
				return ret;
			break;
		case 'O':
			/* "ot" goes through: the daemon says whether it can. */
			if (!strcmp(optarg, "dealer"))
				offline = "";
			else if (!strcmp(optarg, "ot") ||
				 (!strncmp(optarg, "dealer:", 7) &&
				  valid_name(optarg + 7, strlen(optarg + 7))))
				offline = optarg;
			else
				return cli_error(verb, NULL, "--offline '%s': expected dealer, "
						 "dealer:NODE or ot",
						 cli_clean(clean, sizeof(clean), optarg));
			break;
		case 'f':
			errno = 0;
			frac = strtol(optarg, &end, 10);
			if (!*optarg || *end || errno || frac < 1 || frac > FXP_MAX_FRAC)
				return cli_error(verb, NULL, "--frac-bits '%s': expected an "
						 "integer from 1 to %d",
						 cli_clean(clean, sizeof(clean), optarg),
						 FXP_MAX_FRAC);
			break;
		case 'c':
			errno = 0;
			chunk = strtoull(optarg, &end, 10);
			if (!*optarg || *end || errno || *optarg == '-' || chunk < 1 ||
			    chunk > (1ull << 28))
				return cli_error(verb, NULL, "--chunk-rows '%s': expected an "
						 "integer from 1 to %llu",
						 cli_clean(clean, sizeof(clean), optarg), 1ull << 28);
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(submit_usage, stdout);
			return 0;
		case ':':
			bad_option(opt, sizeof(opt), argv);
			return cli_error(verb, submit_usage, "option '%s' needs a value", opt);
		default:
			bad_option(opt, sizeof(opt), argv);
			return cli_error(verb, submit_usage, "unknown option '%s'", opt);
		}
	}
	if (optind < argc)
		return cli_error(verb, submit_usage, "unexpected argument '%s'",
				 cli_clean(clean, sizeof(clean), argv[optind]));
	if (!model || !n_in || !n_out)
		return cli_error(verb, submit_usage, "%s is required",
				 !model ? "--model" : !n_in ? "--input" : "--output");
	sub.model = model;
	sub.n_inputs = n_in;
	sub.inputs = inputs;
	sub.n_outputs = n_out;
	sub.outputs = outputs;
	sub.offline = offline;
	sub.frac_bits = (int32_t)frac;
	sub.chunk_rows = chunk;
	req.req_case = MPCCTLPB__REQUEST__REQ_SUBMIT;
	req.submit = &sub;
	if ((ret = cli_call(verb, &req, &r)) != 0)
		return ret;
	if (!r->job_id || !*r->job_id) {
		fprintf(stderr, "mpcctl %s: mpcd accepted the job but sent no id\n", verb);
		ret = 1;
	} else if (json) {
		/* The id, and what was proposed as the daemon took it. */
		printf("{\"id\": ");
		cli_json_str(r->job_id);
		if (r->submitted) {
			printf(", \"proposed\": ");
			cli_json_job(r->submitted, " ");
		}
		printf("}\n");
		ret = cli_flush(verb);
	} else {
		printf("%s\n", cli_clean(clean, sizeof(clean), r->job_id));
		ret = cli_flush(verb);
	}
	mpcctlpb__reply__free_unpacked(r, NULL);
	return ret;
}

