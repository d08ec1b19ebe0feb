/*
 * cmd_token.c — `posternctl token issue` and `posternctl token inspect`
 * (tokens: docs/protocol.md §6).
 *
 * inspect runs the relay's own check, token_verify(), so what an operator sees
 * here is what a relay with the same trusted keys and revocations would decide.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "crypto/keys.h"
#include "crypto/token.h"
#include "relay/ctl/args.h"
#include "relay/ctl/ctl.h"
#include "relay/ctl/io.h"

#define DEFAULT_VALIDITY "30d"

static const char token_usage[] =
	"Usage: posternctl token issue [OPTIONS]\n"
	"       posternctl token inspect [OPTIONS] [TOKEN | @FILE | -]\n"
	"\n"
	"A token admits an endpoint to any relay that trusts the control-plane key that\n"
	"signed it: it binds the endpoint's X25519 public key to a tenant, a role and\n"
	"tunnel names for a period of time.\n"
	"\n"
	"Run 'posternctl token issue --help' or 'posternctl token inspect --help'.\n"
	"\n"
	CTL_EXIT_CODES_HELP;

static const char issue_usage[] =
	"Usage: posternctl token issue --signing-key FILE --tenant NAME --role gateway|agent\n"
	"           --tunnel NAME [--tunnel NAME ...] --endpoint-key KEY\n"
	"           [--not-before TIME] [--valid-for DURATION | --expires TIME] [-o FILE]\n"
	"\n"
	"Issue a token signed with a control-plane key and print it as one line of text\n"
	"(pt1. followed by base64url).\n"
	"\n"
	"Options:\n"
	"  --signing-key FILE    the control-plane Ed25519 private key (mode 0600)\n"
	"  --tenant NAME         the tenant the endpoint belongs to\n"
	"  --role ROLE           gateway (serves tunnels) or agent (opens tunnels)\n"
	"  --tunnel NAME         a tunnel the gateway serves or the agent may open;\n"
	"                        repeat for more, up to 8. An agent token may instead\n"
	"                        name the single tunnel '*': every tunnel of its tenant\n"
	"  --endpoint-key KEY    the endpoint's X25519 public key, base64 or @FILE\n"
	"                        ('posternctl pubkey' of its key): only it can use the token\n"
	"  --not-before TIME     start of validity (default: now)\n"
	"  --valid-for DURATION  length of validity (default: " DEFAULT_VALIDITY ")\n"
	"  --expires TIME        end of validity, instead of --valid-for\n"
	"  -o, --output FILE     write the token to FILE (mode 0600, replaced if it exists)\n"
	"  -h, --help            show this help\n"
	"\n"
	"NAME      1 to 63 characters of A-Z a-z 0-9 . _ -\n"
	"TIME      " ARGS_TIME_FORMS "\n"
	"DURATION  " ARGS_DURATION_FORMS "\n"
	"Relays allow 30 s of clock skew at either end of the validity period.\n"
	"\n"
	CTL_EXIT_CODES_HELP;

static const char inspect_usage[] =
	"Usage: posternctl token inspect [OPTIONS] [TOKEN | @FILE | -]\n"
	"\n"
	"Print the fields of a token given as an argument, read from FILE, or read from\n"
	"stdin ('-' or no argument). With --trust, also check it as a relay does and\n"
	"print 'valid' or 'invalid: REASON' (exit 1 when invalid). Without --trust the\n"
	"signature is not checked.\n"
	"\n"
	"Options:\n"
	"  --trust KEY         a trusted control-plane public key, base64 or @FILE\n"
	"                      ('posternctl pubkey --signing'); repeat for more, up to 16\n"
	"  --revoked ID        a revoked token id (32 hex digits); repeatable; needs --trust\n"
	"  --endpoint-key KEY  the endpoint's X25519 public key, base64 or @FILE: require\n"
	"                      the token to be bound to it; needs --trust\n"
	"  --now TIME          judge validity at TIME instead of the current time\n"
	"  --skew SECONDS      clock skew allowance (default: 30)\n"
	"  --json              print one JSON object instead of text\n"
	"  -h, --help          show this help\n"
	"\n"
	"TIME  " ARGS_TIME_FORMS "\n"
	"Reasons, in the order a relay checks them: malformed, unknown_signer,\n"
	"bad_signature, not_yet_valid, expired, revoked, key_mismatch.\n"
	"\n"
	CTL_EXIT_CODES_HELP;

/* Long-only options. */
enum {
	OPT_SIGNING_KEY = 256,
	OPT_TENANT,
	OPT_ROLE,
	OPT_TUNNEL,
	OPT_ENDPOINT_KEY,
	OPT_NOT_BEFORE,
	OPT_VALID_FOR,
	OPT_EXPIRES,
	OPT_TRUST,
	OPT_REVOKED,
	OPT_NOW,
	OPT_SKEW,
	OPT_JSON,
};

static const char *role_name(enum token_role role)
{
	return role == TOKEN_ROLE_GATEWAY ? "gateway" : role == TOKEN_ROLE_AGENT ? "agent" : "?";
}

struct issue_args {
	const char *signing_key, *tenant, *role, *endpoint_key;
	const char *not_before, *valid_for, *expires, *output;
	const char *tunnels[TOKEN_MAX_TUNNELS];
	unsigned n_tunnels;
	bool too_many_tunnels;
};

/* Fill @t's role, tenant and tunnels from @a; print why not and @return 1. */
static int issue_names(const struct issue_args *a, struct token *t)
{
	if (!strcmp(a->role, "gateway"))
		t->role = TOKEN_ROLE_GATEWAY;
	else if (!strcmp(a->role, "agent"))
		t->role = TOKEN_ROLE_AGENT;
	else
		return ctl_err("--role '%s': expected gateway or agent", a->role);
	if (!token_name_is_valid(a->tenant))
		return ctl_err("--tenant '%s': a name is 1 to 63 characters of A-Z a-z 0-9 . _ -",
			       a->tenant);
	strcpy(t->tenant, a->tenant);
	if (a->too_many_tunnels)
		return ctl_err("--tunnel: a token names at most %d tunnels", TOKEN_MAX_TUNNELS);
	for (unsigned i = 0; i < a->n_tunnels; i++) {
		const char *name = a->tunnels[i];

		if (!strcmp(name, TOKEN_TUNNEL_ANY)) {
			if (t->role != TOKEN_ROLE_AGENT)
				return ctl_err("--tunnel '*' is only valid with --role agent");
			if (a->n_tunnels != 1)
				return ctl_err("--tunnel '*' grants every tunnel; give it alone");
		} else if (!token_name_is_valid(name)) {
			return ctl_err("--tunnel '%s': a name is 1 to 63 characters of "
				       "A-Z a-z 0-9 . _ -", name);
		}
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(a->tunnels[j], name))
				return ctl_err("--tunnel '%s' given twice", name);
		strcpy(t->tunnels[i], name);
	}
	t->n_tunnels = a->n_tunnels;
	return CTL_EXIT_OK;
}

/* Fill @t's validity period from @a at time @now; print why not and @return 1. */
static int issue_times(const struct issue_args *a, uint64_t now, struct token *t)
{
	char when[ARGS_TIME_TEXT_MAX];
	uint64_t dur;

	t->not_before = now;
	if (a->not_before && args_parse_time(a->not_before, &t->not_before))
		return ctl_err("--not-before '%s': expected %s", a->not_before, ARGS_TIME_FORMS);
	if (a->expires) {
		if (args_parse_time(a->expires, &t->expiry))
			return ctl_err("--expires '%s': expected %s", a->expires, ARGS_TIME_FORMS);
	} else {
		const char *v = a->valid_for ? a->valid_for : DEFAULT_VALIDITY;

		if (args_parse_duration(v, &dur))
			return ctl_err("--valid-for '%s': expected %s", v, ARGS_DURATION_FORMS);
		if (dur > UINT64_MAX - t->not_before)
			return ctl_err("--valid-for '%s': the expiry would be past the end of time",
				       v);
		t->expiry = t->not_before + dur;
	}
	if (t->expiry <= t->not_before)
		return ctl_err("the token would expire before it becomes valid "
			       "(--expires must be later than --not-before)");
	if (t->expiry <= now) {
		args_format_time(t->expiry, when);
		fprintf(stderr, "posternctl: warning: this token has already expired (%s)\n",
			when);
	}
	return CTL_EXIT_OK;
}

static int token_issue(int argc, char **argv)
{
	static const struct option options[] = {
		{ "signing-key", required_argument, NULL, OPT_SIGNING_KEY },
		{ "tenant", required_argument, NULL, OPT_TENANT },
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "tunnel", required_argument, NULL, OPT_TUNNEL },
		{ "endpoint-key", required_argument, NULL, OPT_ENDPOINT_KEY },
		{ "not-before", required_argument, NULL, OPT_NOT_BEFORE },
		{ "valid-for", required_argument, NULL, OPT_VALID_FOR },
		{ "expires", required_argument, NULL, OPT_EXPIRES },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char cmd[] = "token issue";
	struct issue_args a = { 0 };
	uint8_t priv[KEYS_LEN], buf[TOKEN_MAX_LEN];
	char text[TOKEN_TEXT_MAX + 2], err[512];
	struct token t = { 0 };
	size_t len;
	int c, ret;

	while ((c = getopt_long(argc, argv, ":o:h", options, NULL)) != -1) {
		switch (c) {
		case OPT_SIGNING_KEY: a.signing_key = optarg; break;
		case OPT_TENANT: a.tenant = optarg; break;
		case OPT_ROLE: a.role = optarg; break;
		case OPT_ENDPOINT_KEY: a.endpoint_key = optarg; break;
		case OPT_NOT_BEFORE: a.not_before = optarg; break;
		case OPT_VALID_FOR: a.valid_for = optarg; break;
		case OPT_EXPIRES: a.expires = optarg; break;
		case 'o': a.output = optarg; break;
		case OPT_TUNNEL:
			if (a.n_tunnels == TOKEN_MAX_TUNNELS)
				a.too_many_tunnels = true;
			else
				a.tunnels[a.n_tunnels++] = optarg;
			break;
		case 'h':
			return ctl_print(issue_usage);
		default:
			return ctl_getopt_err(cmd, c, argv);
		}
	}
	if (optind < argc)
		return ctl_usage_err(cmd, "unexpected argument '%s'", argv[optind]);
	if (!a.signing_key)
		return ctl_usage_err(cmd, "missing --signing-key FILE");
	if (!a.tenant)
		return ctl_usage_err(cmd, "missing --tenant NAME");
	if (!a.role)
		return ctl_usage_err(cmd, "missing --role gateway|agent");
	if (!a.n_tunnels)
		return ctl_usage_err(cmd, "missing --tunnel NAME");
	if (!a.endpoint_key)
		return ctl_usage_err(cmd, "missing --endpoint-key KEY");
	if (a.valid_for && a.expires)
		return ctl_usage_err(cmd, "give --valid-for or --expires, not both");

	ret = issue_names(&a, &t);
	if (ret)
		return ret;
	ret = issue_times(&a, (uint64_t)time(NULL), &t);
	if (ret)
		return ret;
	if (keys_load_public(a.endpoint_key, t.endpoint_pub, err, sizeof(err)))
		return ctl_err("--endpoint-key: %s", err);
	if (token_generate_id(t.id))
		return ctl_err("cannot generate a token id: the random generator failed");

	if (keys_load_private(a.signing_key, priv, err, sizeof(err))) {
		ret = ctl_err("%s", err);
		goto out;
	}
	if (token_encode_signed(&t, priv, buf, sizeof(buf), &len) ||
	    token_to_text(buf, len, text, sizeof(text) - 1)) {
		ret = ctl_err("cannot sign the token: OpenSSL failed");
		goto out;
	}
	strcat(text, "\n");
	if (a.output)
		ret = io_write_file(a.output, text, strlen(text), err, sizeof(err)) ?
		      ctl_err("%s", err) : CTL_EXIT_OK;
	else
		ret = ctl_print(text);
out:
	OPENSSL_cleanse(priv, sizeof(priv));
	return ret;
}

struct inspect_args {
	const char *trust[TOKEN_MAX_SIGNERS];
	unsigned n_trust;
	bool too_many_trust;
	const char **revoked;		/* argc entries */
	unsigned n_revoked;
	const char *endpoint_key, *now, *skew, *input;
	bool json;
};

/* The verdict on one token, for printing. */
struct verdict {
	bool checked;			/* token_verify() ran (--trust given, token parsed) */
	enum token_status status;
	const char *detail;		/* why it is malformed, or NULL */
};

/* Build the trust from --trust and --revoked; print why not and @return 1. */
static int build_trust(const struct inspect_args *a, struct token_trust **out)
{
	struct token_trust *trust;
	uint8_t key[KEYS_LEN], id[TOKEN_ID_LEN];
	char err[512];
	int ret;

	if (token_trust_create(&trust))
		return ctl_err("out of memory");
	for (unsigned i = 0; i < a->n_trust; i++) {
		if (keys_load_public(a->trust[i], key, err, sizeof(err))) {
			ret = ctl_err("--trust '%s': %s", a->trust[i], err);
			goto err_trust;
		}
		ret = token_trust_add_signer(trust, key);
		if (ret && ret != -EEXIST) {
			ret = ctl_err("--trust '%s': not a usable Ed25519 public key",
				      a->trust[i]);
			goto err_trust;
		}
	}
	for (unsigned i = 0; i < a->n_revoked; i++) {
		if (args_parse_hex(a->revoked[i], id, sizeof(id))) {
			ret = ctl_err("--revoked '%s': a token id is %d hex digits",
				      a->revoked[i], 2 * TOKEN_ID_LEN);
			goto err_trust;
		}
		if (token_trust_revoke(trust, id)) {
			ret = ctl_err("out of memory");
			goto err_trust;
		}
	}
	*out = trust;
	return CTL_EXIT_OK;

err_trust:
	token_trust_destroy(trust);
	return ret;
}

static void json_set_u64(json_t *obj, const char *key, uint64_t v)
{
	char digits[24];

	/* JSON numbers beyond int64 would be lossy in jansson: give those as text. */
	if (v <= INT64_MAX) {
		json_object_set_new(obj, key, json_integer((json_int_t)v));
	} else {
		snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v);
		json_object_set_new(obj, key, json_string(digits));
	}
}

static const char *status_word(const struct verdict *v)
{
	if (!v->checked && v->status == TOKEN_OK)
		return "unverified";
	return v->status == TOKEN_OK ? "valid" : "invalid";
}

/* @t is NULL when the token did not parse. */
static int print_json(const struct token *t, size_t size, const struct verdict *v)
{
	char hex[2 * TOKEN_ID_LEN + 1], key[KEYS_TEXT_LEN + 1], when[ARGS_TIME_TEXT_MAX];
	json_t *obj = json_object(), *tunnels;
	char *text;
	int ret;

	if (!obj)
		return ctl_err("out of memory");
	json_object_set_new(obj, "status", json_string(status_word(v)));
	if (v->status != TOKEN_OK)
		json_object_set_new(obj, "reason", json_string(token_status_name(v->status)));
	if (v->detail)
		json_object_set_new(obj, "detail", json_string(v->detail));
	json_object_set_new(obj, "signature_checked", json_boolean(v->checked));
	if (t) {
		json_object_set_new(obj, "version", json_integer(TOKEN_VERSION));
		json_object_set_new(obj, "role", json_string(role_name(t->role)));
		args_format_hex(t->id, TOKEN_ID_LEN, hex);
		json_object_set_new(obj, "id", json_string(hex));
		args_format_hex(t->signer_id, TOKEN_SIGNER_ID_LEN, hex);
		json_object_set_new(obj, "signer_id", json_string(hex));
		json_object_set_new(obj, "tenant", json_string(t->tenant));
		tunnels = json_array();
		for (unsigned i = 0; tunnels && i < t->n_tunnels; i++)
			json_array_append_new(tunnels, json_string(t->tunnels[i]));
		json_object_set_new(obj, "tunnels", tunnels);
		keys_to_text(t->endpoint_pub, key);
		json_object_set_new(obj, "endpoint_key", json_string(key));
		json_set_u64(obj, "not_before", t->not_before);
		args_format_time(t->not_before, when);
		json_object_set_new(obj, "not_before_utc", json_string(when));
		json_set_u64(obj, "expiry", t->expiry);
		args_format_time(t->expiry, when);
		json_object_set_new(obj, "expiry_utc", json_string(when));
		json_object_set_new(obj, "size", json_integer((json_int_t)size));
	}
	text = json_dumps(obj, JSON_INDENT(2));
	json_decref(obj);
	if (!text)
		return ctl_err("out of memory");
	ret = ctl_print(text);
	if (!ret)
		ret = ctl_print("\n");
	free(text);
	return ret;
}

/* " (in 3d 2h)" / " (2h ago)" relative to @now. */
static void relative(uint64_t when, uint64_t now, char *out, size_t cap)
{
	char span[32];

	args_format_span(when, now, span, sizeof(span));
	snprintf(out, cap, when > now ? "in %s" : "%s ago", span);
}

static int print_text(const struct token *t, size_t size, uint64_t now, const struct verdict *v)
{
	char hex[2 * TOKEN_ID_LEN + 1], key[KEYS_TEXT_LEN + 1], when[ARGS_TIME_TEXT_MAX];
	char rel[48];

	if (t) {
		printf("version:      %d\n", TOKEN_VERSION);
		printf("role:         %s\n", role_name(t->role));
		args_format_hex(t->id, TOKEN_ID_LEN, hex);
		printf("id:           %s\n", hex);
		args_format_hex(t->signer_id, TOKEN_SIGNER_ID_LEN, hex);
		printf("signer id:    %s\n", hex);
		printf("tenant:       %s\n", t->tenant);
		printf("tunnels:      ");
		for (unsigned i = 0; i < t->n_tunnels; i++)
			printf("%s%s", i ? ", " : "", t->tunnels[i]);
		printf("%s\n", t->role == TOKEN_ROLE_AGENT && !strcmp(t->tunnels[0], "*") ?
			       " (every tunnel of the tenant)" : "");
		keys_to_text(t->endpoint_pub, key);
		printf("endpoint key: %s\n", key);
		args_format_time(t->not_before, when);
		relative(t->not_before, now, rel, sizeof(rel));
		printf("not before:   %s (%llu, %s)\n", when, (unsigned long long)t->not_before,
		       rel);
		args_format_time(t->expiry, when);
		relative(t->expiry, now, rel, sizeof(rel));
		printf("expiry:       %s (%llu, %s)\n", when, (unsigned long long)t->expiry, rel);
		printf("size:         %zu bytes\n", size);
	}
	if (v->status != TOKEN_OK)
		printf("status:       invalid: %s%s%s%s\n", token_status_name(v->status),
		       v->detail ? " (" : "", v->detail ? v->detail : "", v->detail ? ")" : "");
	else if (v->checked)
		printf("status:       valid\n");
	else
		printf("status:       unverified: signature not checked (no --trust given)\n");
	if (fflush(stdout) || ferror(stdout))
		return ctl_err("cannot write to stdout");
	return CTL_EXIT_OK;
}

static int inspect(const struct inspect_args *a)
{
	char text[4096], err[512];
	uint8_t buf[TOKEN_MAX_LEN], hs[KEYS_LEN];
	struct verdict v = { .checked = false, .status = TOKEN_OK };
	struct token_trust *trust = NULL;
	uint64_t now = (uint64_t)time(NULL), skew = TOKEN_DEFAULT_SKEW;
	struct token t, *shown = NULL;
	size_t len = 0, tlen;
	int ret;

	if (a->now && args_parse_time(a->now, &now))
		return ctl_err("--now '%s': expected %s", a->now, ARGS_TIME_FORMS);
	if (a->skew && args_parse_u64(a->skew, &skew))
		return ctl_err("--skew '%s': expected a number of seconds", a->skew);
	if (a->endpoint_key && keys_load_public(a->endpoint_key, hs, err, sizeof(err)))
		return ctl_err("--endpoint-key: %s", err);
	if (a->n_trust) {
		ret = build_trust(a, &trust);
		if (ret)
			return ret;
	}
	if (io_read_arg(a->input, text, sizeof(text), &tlen, err, sizeof(err))) {
		ret = ctl_err("%s", err);
		goto out;
	}

	ret = token_from_text(text, tlen, buf, sizeof(buf), &len);
	if (ret) {
		v.status = TOKEN_MALFORMED;
		v.detail = ret == -EMSGSIZE ? "longer than any token" :
			   "not a token: expected pt1. followed by base64url";
	} else if (token_parse(buf, len, &t)) {
		v.status = TOKEN_MALFORMED;
		v.detail = token_malformed_reason(buf, len);
	} else {
		shown = &t;
		v.checked = trust != NULL;
		if (v.checked)
			v.status = token_verify(buf, len, trust, now, skew,
						a->endpoint_key ? hs : NULL, NULL);
	}
	ret = a->json ? print_json(shown, len, &v) : print_text(shown, len, now, &v);
	if (!ret && v.status != TOKEN_OK)
		ret = CTL_EXIT_INVALID;
out:
	token_trust_destroy(trust);
	return ret;
}

static int token_inspect(int argc, char **argv)
{
	static const struct option options[] = {
		{ "trust", required_argument, NULL, OPT_TRUST },
		{ "revoked", required_argument, NULL, OPT_REVOKED },
		{ "endpoint-key", required_argument, NULL, OPT_ENDPOINT_KEY },
		{ "now", required_argument, NULL, OPT_NOW },
		{ "skew", required_argument, NULL, OPT_SKEW },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char cmd[] = "token inspect";
	struct inspect_args a = { .input = "-" };
	int c, ret;

	a.revoked = calloc((size_t)argc, sizeof(*a.revoked));
	if (!a.revoked)
		return ctl_err("out of memory");
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case OPT_TRUST:
			if (a.n_trust == TOKEN_MAX_SIGNERS)
				a.too_many_trust = true;
			else
				a.trust[a.n_trust++] = optarg;
			break;
		case OPT_REVOKED: a.revoked[a.n_revoked++] = optarg; break;
		case OPT_ENDPOINT_KEY: a.endpoint_key = optarg; break;
		case OPT_NOW: a.now = optarg; break;
		case OPT_SKEW: a.skew = optarg; break;
		case OPT_JSON: a.json = true; break;
		case 'h':
			ret = ctl_print(inspect_usage);
			goto out;
		default:
			ret = ctl_getopt_err(cmd, c, argv);
			goto out;
		}
	}
	ret = CTL_EXIT_USAGE;
	if (argc - optind > 1)
		ctl_usage_err(cmd, "unexpected argument '%s' (give one token)", argv[optind + 1]);
	else if (a.n_revoked && !a.n_trust)
		ctl_usage_err(cmd, "--revoked needs --trust: revocation is checked only after "
			      "the signature");
	else if (a.endpoint_key && !a.n_trust)
		ctl_usage_err(cmd, "--endpoint-key needs --trust: the key binding is checked "
			      "only after the signature");
	else if (a.skew && !a.n_trust)
		ctl_usage_err(cmd, "--skew needs --trust");
	else if (a.too_many_trust)
		ret = ctl_err("--trust: at most %d keys", TOKEN_MAX_SIGNERS);
	else {
		if (optind < argc)
			a.input = argv[optind];
		ret = inspect(&a);
	}
out:
	free(a.revoked);
	return ret;
}

int cmd_token(int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage_err("token", "missing command: issue or inspect");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		return ctl_print(token_usage);
	/* argv[1] names the subcommand; getopt scans from argv[2] on. */
	optind = 0;
	if (!strcmp(argv[1], "issue"))
		return token_issue(argc - 1, argv + 1);
	if (!strcmp(argv[1], "inspect"))
		return token_inspect(argc - 1, argv + 1);
	return ctl_usage_err("token", "unknown command '%s': expected issue or inspect", argv[1]);
}
