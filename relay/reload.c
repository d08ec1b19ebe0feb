/*
 * reload.c — re-reading the configuration while the relay runs (reload.h).
 *
 * Phases, in this order so that a failure changes nothing:
 *	1. read   relay_config_init/_load/_load_secrets into a new configuration,
 *	          then the ids of its revoked_file
 *	2. compare with the running configuration: what to apply, what needs a
 *	          restart (the explicit settings below, then every other setting
 *	          as relay_config_print() writes it)
 *	3. prepare what can fail: the merged set of revoked ids
 *	4. the one change to the relay that can fail: the trust store, published
 *	          as one batch (relay_trust_apply)
 *	5. the rest, which cannot fail: log level, limits, and the running
 *	          configuration's fields, swapped with the new one's; the new
 *	          configuration (holding the old values now) is freed and wiped
 */
#define _GNU_SOURCE	/* open_memstream, getline */

#include "relay/reload.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "relay/log.h"
#include "relay/relay.h"

enum {
	SRC_LIST = 1,		/* the id is in `revoked` (or --revoked) */
	SRC_FILE = 2,		/* the id is in revoked_file */
};

/* Revoked ids, sorted (memcmp order) and unique, each with where it came from. */
struct idset {
	struct id_entry {
		uint8_t id[TOKEN_ID_LEN];
		uint8_t src;
	} *e;
	size_t n, cap;
};

struct reload {
	const struct relay_config_args *args;
	struct relay_config *cur;
	uint32_t max_sessions_cap;	/* the relay's tables hold this many (relay_set_limits) */
	struct idset revoked;		/* in force by configuration since the start */
};

/* Settings applied live; reload_run() compares them itself, not as printed text. */
static const char *const live_settings[] = {
	"log_level", "trusted_keys", "revoked", "revoked_file", "limits.max_sessions",
	"limits.max_channels", "drain_ms", "stats_file", "token_skew", "limits.handshake_budget",
	"limits.handshake_rate",
};

/* ---- sets of revoked ids ---------------------------------------------------- */

static void idset_free(struct idset *s)
{
	free(s->e);
	memset(s, 0, sizeof(*s));
}

static int idset_push(struct idset *s, const uint8_t id[TOKEN_ID_LEN], uint8_t src)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		void *p = realloc(s->e, cap * sizeof(*s->e));

		if (!p)
			return -ENOMEM;
		s->e = p;
		s->cap = cap;
	}
	memcpy(s->e[s->n].id, id, TOKEN_ID_LEN);
	s->e[s->n++].src = src;
	return 0;
}

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, TOKEN_ID_LEN);
}

/* Sort, and merge duplicates (their sources or'ed). */
static void idset_sort(struct idset *s)
{
	size_t k = 0;

	if (!s->n)
		return;
	qsort(s->e, s->n, sizeof(*s->e), id_cmp);
	for (size_t i = 1; i < s->n; i++) {
		if (!id_cmp(s->e[i].id, s->e[k].id))
			s->e[k].src |= s->e[i].src;
		else
			s->e[++k] = s->e[i];
	}
	s->n = k + 1;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Exactly 2 * TOKEN_ID_LEN hex digits, as config.c accepts them. */
static bool parse_id(const char *s, size_t len, uint8_t id[TOKEN_ID_LEN])
{
	if (len != 2 * TOKEN_ID_LEN)
		return false;
	for (size_t i = 0; i < TOKEN_ID_LEN; i++) {
		int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		id[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/*
 * The ids of @path, read as config.c reads revoked_file: one per line, blank
 * lines and '#' comments skipped. relay_config_load_secrets() has just
 * accepted the file; a line it would refuse means it changed meanwhile.
 */
static int read_revoked_file(const char *path, struct idset *s, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	uint8_t id[TOKEN_ID_LEN];
	FILE *fp;
	int ret = 0;

	fp = fopen(path, "re");
	if (!fp) {
		ret = -errno;
		snprintf(err, errlen, "revoked_file: cannot read %s: %s", path, strerror(-ret));
		return ret;
	}
	while (!ret && getline(&line, &cap, fp) >= 0) {
		char *p = line, *hash = strchr(line, '#');
		size_t len;

		lineno++;
		if (hash)
			*hash = '\0';
		while (isspace((unsigned char)*p))
			p++;
		len = strlen(p);
		while (len && isspace((unsigned char)p[len - 1]))
			len--;
		if (!len)
			continue;
		if (!parse_id(p, len, id)) {
			snprintf(err, errlen, "%s:%u: not a token id (the file changed while being "
				 "read?)", path, lineno);
			ret = -EINVAL;
		} else if (idset_push(s, id, SRC_FILE)) {
			snprintf(err, errlen, "out of memory");
			ret = -ENOMEM;
		}
	}
	if (!ret && ferror(fp)) {
		snprintf(err, errlen, "%s: read error", path);
		ret = -EIO;
	}
	free(line);
	fclose(fp);
	return ret;
}

/* Every id @c revokes: its list and its file. */
static int config_revoked(const struct relay_config *c, struct idset *s, char *err,
			  size_t errlen)
{
	int ret;

	for (unsigned i = 0; i < c->n_revoked; i++) {
		if (idset_push(s, c->revoked[i], SRC_LIST)) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	if (c->revoked_file) {
		ret = read_revoked_file(c->revoked_file, s, err, errlen);
		if (ret)
			return ret;
	}
	idset_sort(s);
	return 0;
}

static bool idset_has(const struct idset *s, const uint8_t id[TOKEN_ID_LEN])
{
	return s->n && bsearch(id, s->e, s->n, sizeof(*s->e), id_cmp);
}

/* @out := @old ∪ @new; an id of @new takes its sources from @new. */
static int idset_merge(const struct idset *old, const struct idset *new, struct idset *out)
{
	size_t i = 0, j = 0;

	while (i < old->n || j < new->n) {
		int c = i == old->n ? 1 : j == new->n ? -1 : id_cmp(old->e[i].id, new->e[j].id);
		const struct id_entry *e = c < 0 ? &old->e[i] : &new->e[j];

		if (idset_push(out, e->id, e->src))
			return -ENOMEM;
		i += c <= 0;
		j += c >= 0;
	}
	return 0;
}

/* ---- names ------------------------------------------------------------------ */

/* Add @name to the comma-separated @list unless it is there. */
static void name_add(char list[RELOAD_NAMES_MAX], const char *name)
{
	size_t n = strlen(list), len = strlen(name);

	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t l = end ? (size_t)(end - p) : strlen(p);

		if (l == len && !memcmp(p, name, len))
			return;
		p += l + (end ? 1 : 0);
	}
	if (n + len + 2 > RELOAD_NAMES_MAX)
		return;
	if (n)
		list[n++] = ',';
	memcpy(list + n, name, len + 1);
}

static bool is_live(const char *name)
{
	for (size_t i = 0; i < sizeof(live_settings) / sizeof(live_settings[0]); i++)
		if (!strcmp(live_settings[i], name))
			return true;
	return false;
}

/* ---- settings as printed ------------------------------------------------------ */

/* One setting of relay_config_print()'s output: "group.name" and its text. */
struct printed {
	struct setting_text {
		char *name;
		char *value;
	} *s;
	size_t n, cap;
	char *buf;
};

static void printed_free(struct printed *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->s[i].name);
		free(p->s[i].value);
	}
	free(p->s);
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

/* Append @text to setting @name (a new one, or the same name printed again). */
static int printed_add(struct printed *p, const char *name, const char *text)
{
	struct setting_text *st = NULL;
	size_t old;
	char *v;

	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->s[i].name, name))
			st = &p->s[i];
	if (!st) {
		if (p->n == p->cap) {
			size_t cap = p->cap ? 2 * p->cap : 32;
			void *q = realloc(p->s, cap * sizeof(*p->s));

			if (!q)
				return -ENOMEM;
			p->s = q;
			p->cap = cap;
		}
		st = &p->s[p->n];
		st->name = strdup(name);
		st->value = strdup("");
		if (!st->name || !st->value) {
			free(st->name);
			free(st->value);
			return -ENOMEM;
		}
		p->n++;
	}
	old = strlen(st->value);
	v = realloc(st->value, old + strlen(text) + 2);
	if (!v)
		return -ENOMEM;
	snprintf(v + old, strlen(text) + 2, "%s\n", text);
	st->value = v;
	return 0;
}

/* Brackets opened minus closed on @s, outside "strings" (with \ escapes). */
static int nesting(const char *s)
{
	bool quoted = false;
	int depth = 0;

	for (; *s; s++) {
		if (quoted) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				quoted = false;
		} else if (*s == '"') {
			quoted = true;
		} else if (*s == '{' || *s == '(' || *s == '[') {
			depth++;
		} else if (*s == '}' || *s == ')' || *s == ']') {
			depth--;
		}
	}
	return depth;
}

/* "name = rest": @return the length of name (an identifier), or 0. */
static size_t setting_name(const char *s)
{
	size_t n = 0;

	while (islower((unsigned char)s[n]) || isdigit((unsigned char)s[n]) || s[n] == '_')
		n++;
	return n && !strncmp(s + n, " = ", 3) ? n : 0;
}

/*
 * Split relay_config_print()'s text into settings: "name = ...;" at the top
 * level, "group.name" inside "group = { ... };", a value that opens brackets
 * runs until they close. Comments are skipped, except "# name: not set",
 * which is how an unset optional path is printed.
 */
static int printed_parse(struct printed *p, char *text)
{
	char group[64] = "", name[160] = "", *save = NULL;
	int depth = 0, ret = 0;

	for (char *line = strtok_r(text, "\n", &save); line && !ret;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *s = line;
		size_t n;

		while (*s == ' ' || *s == '\t')
			s++;
		if (depth == 0 && *s == '#') {
			const char *unset = strstr(s, ": not set");

			if (!strncmp(s, "# ", 2) && unset && setting_name(s + 2) == 0 &&
			    unset > s + 2) {
				snprintf(name, sizeof(name), "%s%s%.*s", group, *group ? "." : "",
					 (int)(unset - s - 2), s + 2);
				ret = printed_add(p, name, "(not set)");
			}
			continue;
		}
		if (depth == 0 && group[0] && !strcmp(s, "};")) {
			group[0] = '\0';
			continue;
		}
		n = depth == 0 ? setting_name(s) : 0;
		if (n && !group[0] && !strcmp(s + n, " = {")) {
			snprintf(group, sizeof(group), "%.*s", (int)n, s);
			continue;
		}
		if (n)
			snprintf(name, sizeof(name), "%s%s%.*s", group, *group ? "." : "",
				 (int)n, s);
		if (!name[0])
			continue;	/* nothing before the first setting but comments */
		depth += nesting(s);
		ret = printed_add(p, name, s);
	}
	return ret;
}

static int printed_load(struct printed *p, const struct relay_config *c)
{
	size_t len = 0;
	FILE *f;
	int ret;

	f = open_memstream(&p->buf, &len);
	if (!f)
		return -ENOMEM;
	ret = relay_config_print(c, f);
	if (fclose(f) || ret)
		return -ENOMEM;
	return printed_parse(p, p->buf);
}

static const char *printed_value(const struct printed *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->s[i].name, name))
			return p->s[i].value;
	return NULL;
}

/* Every printed setting, not applied live, whose text differs: into @restart. */
static int diff_printed(const struct relay_config *a, const struct relay_config *b,
			char restart[RELOAD_NAMES_MAX])
{
	struct printed pa = { 0 }, pb = { 0 };
	int ret;

	ret = printed_load(&pa, a);
	if (!ret)
		ret = printed_load(&pb, b);
	for (size_t i = 0; !ret && i < pa.n + pb.n; i++) {
		const struct setting_text *st = i < pa.n ? &pa.s[i] : &pb.s[i - pa.n];
		const char *va = printed_value(&pa, st->name), *vb = printed_value(&pb, st->name);

		if (is_live(st->name))
			continue;
		if (!va || !vb || strcmp(va, vb))
			name_add(restart, st->name);
	}
	printed_free(&pa);
	printed_free(&pb);
	return ret;
}

/* ---- the reload ------------------------------------------------------------- */

int reload_create(struct reload **out, const struct relay_config_args *args,
		  struct relay_config *cur, char *err, size_t errlen)
{
	struct reload *rl = calloc(1, sizeof(*rl));
	int ret;

	if (!rl) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rl->args = args;
	rl->cur = cur;
	rl->max_sessions_cap = cur->max_sessions;
	ret = config_revoked(cur, &rl->revoked, err, errlen);
	if (ret) {
		reload_destroy(rl);
		return ret;
	}
	*out = rl;
	return 0;
}

void reload_destroy(struct reload *rl)
{
	if (!rl)
		return;
	idset_free(&rl->revoked);
	free(rl);
}

static bool key_in(const uint8_t key[KEYS_LEN], const uint8_t (*set)[KEYS_LEN], unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!memcmp(set[i], key, KEYS_LEN))
			return true;
	return false;
}

/* What a reload will do: computed before anything changes. */
struct plan {
	uint8_t add[TOKEN_MAX_SIGNERS][KEYS_LEN], remove[TOKEN_MAX_SIGNERS][KEYS_LEN];
	unsigned n_add, n_remove;
	struct idset revoke;		/* ids newly revoked */
	struct idset merged;		/* the running set afterwards */
	bool limits;			/* relay_set_limits() with the values below */
	uint32_t max_sessions, max_channels;
};

static void plan_trust(struct plan *pl, const struct relay_config *cur,
		       const struct relay_config *next, struct reload_report *rep)
{
	for (unsigned i = 0; i < cur->n_trusted; i++)
		if (!key_in(cur->trusted[i], next->trusted, next->n_trusted))
			memcpy(pl->remove[pl->n_remove++], cur->trusted[i], KEYS_LEN);
	for (unsigned i = 0; i < next->n_trusted; i++)
		if (!key_in(next->trusted[i], cur->trusted, cur->n_trusted))
			memcpy(pl->add[pl->n_add++], next->trusted[i], KEYS_LEN);
	if (pl->n_add || pl->n_remove)
		name_add(rep->applied, "trusted_keys");
}

/* New ids are revoked; a removed one stays revoked until a restart (§6.3 has no unrevoke). */
static int plan_revoked(struct plan *pl, const struct idset *running, const struct idset *next,
			struct reload_report *rep)
{
	unsigned added = 0, removed = 0;

	for (size_t i = 0; i < next->n; i++) {
		if (idset_has(running, next->e[i].id))
			continue;
		if (idset_push(&pl->revoke, next->e[i].id, next->e[i].src))
			return -ENOMEM;
		added |= next->e[i].src & SRC_LIST ? SRC_LIST : SRC_FILE;
	}
	for (size_t i = 0; i < running->n; i++)
		if (!idset_has(next, running->e[i].id))
			removed |= running->e[i].src & SRC_LIST ? SRC_LIST : SRC_FILE;
	for (unsigned src = SRC_LIST; src <= SRC_FILE; src <<= 1) {
		const char *name = src == SRC_LIST ? "revoked" : "revoked_file";

		if (added & src)
			name_add(rep->applied, name);
		if (removed & src)
			name_add(rep->restart, name);
	}
	return idset_merge(running, next, &pl->merged);
}

static void plan_limits(struct plan *pl, const struct reload *rl,
			const struct relay_config *next, struct reload_report *rep)
{
	const struct relay_config *cur = rl->cur;

	pl->max_sessions = cur->max_sessions;
	pl->max_channels = cur->max_channels;
	if (next->max_sessions != cur->max_sessions) {
		/* The session tables were sized at start; they can shrink their share, not grow. */
		if (next->max_sessions <= rl->max_sessions_cap &&
		    next->max_sessions >= cur->workers) {
			pl->max_sessions = next->max_sessions;
			name_add(rep->applied, "limits.max_sessions");
		} else {
			name_add(rep->restart, "limits.max_sessions");
		}
	}
	if (next->max_channels != cur->max_channels) {
		pl->max_channels = next->max_channels;
		name_add(rep->applied, "limits.max_channels");
	}
	pl->limits = pl->max_sessions != cur->max_sessions ||
		     pl->max_channels != cur->max_channels;
}

static void plan_simple(const struct relay_config *cur, const struct relay_config *next,
			struct relay *r, struct reload_report *rep)
{
	if (next->log_level != cur->log_level)
		name_add(rep->applied, "log_level");
	if (next->drain_ms != cur->drain_ms)
		name_add(rep->applied, "drain_ms");
	if (next->token_skew != cur->token_skew)
		name_add(rep->applied, "token_skew");
	if (next->handshake_budget != cur->handshake_budget)
		name_add(rep->applied, "limits.handshake_budget");
	if (next->handshake_rate != cur->handshake_rate)
		name_add(rep->applied, "limits.handshake_rate");
	if ((!next->stats_file) != (!cur->stats_file) ||
	    (next->stats_file && strcmp(next->stats_file, cur->stats_file)))
		name_add(rep->applied, "stats_file");
	/* The same path may hold another key: the relay keeps the one it started with. */
	if (memcmp(next->public_key, cur->public_key, sizeof(cur->public_key)))
		name_add(rep->restart, "private_key");
	if (next->has_psk != cur->has_psk ||
	    (next->has_psk && !relay_psk_equal(r, next->params.psk)))
		name_add(rep->restart, "psk_file");
}

#define SWAP(a, b)                                                                         \
	do {                                                                               \
		__typeof__(a) swap_tmp_ = (a);                                             \
		(a) = (b);                                                                 \
		(b) = swap_tmp_;                                                           \
	} while (0)

/* Phase 5: the running configuration takes what was applied; @next gets the old values. */
static void adopt(struct reload *rl, struct relay_config *next, const struct plan *pl)
{
	struct relay_config *cur = rl->cur;

	cur->log_level = next->log_level;
	cur->drain_ms = next->drain_ms;
	cur->token_skew = next->token_skew;
	cur->handshake_budget = next->handshake_budget;
	cur->handshake_rate = next->handshake_rate;
	SWAP(cur->stats_file, next->stats_file);
	cur->max_sessions = pl->max_sessions;
	cur->max_channels = pl->max_channels;
	if (pl->n_add || pl->n_remove) {
		for (unsigned i = 0; i < TOKEN_MAX_SIGNERS; i++) {
			SWAP(cur->trusted_arg[i], next->trusted_arg[i]);
			memcpy(cur->trusted[i], next->trusted[i], KEYS_LEN);
			memcpy(cur->trusted_at[i], next->trusted_at[i], sizeof(cur->trusted_at[i]));
		}
		SWAP(cur->n_trusted, next->n_trusted);
	}
	SWAP(cur->revoked_file, next->revoked_file);
	memcpy(cur->revoked_file_at, next->revoked_file_at, sizeof(cur->revoked_file_at));
}

static void plan_free(struct plan *pl)
{
	idset_free(&pl->revoke);
	idset_free(&pl->merged);
}

int reload_run(struct reload *rl, struct relay *r, struct reload_report *rep, char *err,
	       size_t errlen)
{
	uint8_t (*ids)[TOKEN_ID_LEN] = NULL;
	struct relay_trust_batch batch;
	struct idset next_ids = { 0 };
	struct relay_config next;
	struct plan pl = { 0 };
	int ret;

	memset(rep, 0, sizeof(*rep));
	/* 1. read: every check the start makes, and nothing is applied yet. */
	relay_config_init(&next);
	ret = relay_config_load(&next, rl->args, err, errlen);
	if (!ret)
		ret = relay_config_load_secrets(&next, err, errlen);
	if (!ret)
		ret = config_revoked(&next, &next_ids, err, errlen);
	if (ret)
		goto out;

	/* 2, 3. compare, and prepare what can fail. */
	/* The printed settings first: names then come in the order of the file. */
	ret = diff_printed(rl->cur, &next, rep->restart);
	plan_trust(&pl, rl->cur, &next, rep);
	plan_limits(&pl, rl, &next, rep);
	plan_simple(rl->cur, &next, r, rep);
	if (!ret)
		ret = plan_revoked(&pl, &rl->revoked, &next_ids, rep);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}

	/* 4. the trust store, all or nothing. */
	batch = (struct relay_trust_batch){
		.remove = (const uint8_t (*)[TOKEN_KEY_LEN])pl.remove,
		.n_remove = pl.n_remove,
		.add = (const uint8_t (*)[TOKEN_KEY_LEN])pl.add,
		.n_add = pl.n_add,
	};
	if (pl.revoke.n) {
		/* The batch wants a plain array of ids. */
		ids = malloc(pl.revoke.n * TOKEN_ID_LEN);
		if (!ids) {
			snprintf(err, errlen, "out of memory");
			ret = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < pl.revoke.n; i++)
			memcpy(ids[i], pl.revoke.e[i].id, TOKEN_ID_LEN);
		batch.revoke = (const uint8_t (*)[TOKEN_ID_LEN])ids;
		batch.n_revoke = pl.revoke.n;
	}
	ret = relay_trust_apply(r, &batch, &rep->trust_changed);
	if (ret) {
		snprintf(err, errlen, "the trust store cannot change now: %s%s", strerror(-ret),
			 ret == -EBUSY ? " (workers have not let go of old stores; retry)" :
			 ret == -ENOSPC ? " (at most 16 keys, counting keys.trust)" : "");
		goto out;
	}

	/* 5. what cannot fail. */
	if (next.log_level != rl->cur->log_level)
		log_set_level(next.log_level);
	if (pl.limits)
		relay_set_limits(r, pl.max_sessions, pl.max_channels);
	/* The rate is at least 1 (checked at load): this cannot fail. */
	relay_set_admission(r, next.handshake_budget, next.handshake_rate, next.token_skew);
	adopt(rl, &next, &pl);
	SWAP(rl->revoked, pl.merged);
out:
	if (ret)
		memset(rep, 0, sizeof(*rep));
	free(ids);
	plan_free(&pl);
	idset_free(&next_ids);
	relay_config_free(&next);
	return ret;
}

/* Append @s to @msg (@len bytes, @n used), each ',' of it as ", "; cut at the end. */
static size_t put_list(char *msg, size_t len, size_t n, const char *prefix, const char *s)
{
	for (const char *p = prefix; *p && n + 1 < len; p++)
		msg[n++] = *p;
	for (; *s && n + 1 < len; s++) {
		msg[n++] = *s;
		if (*s == ',' && n + 1 < len)
			msg[n++] = ' ';
	}
	msg[n] = '\0';
	return n;
}

void reload_summary(const struct reload_report *rep, char *msg, size_t len)
{
	size_t n = 0;

	if (!len)
		return;
	msg[0] = '\0';
	if (!rep->applied[0] && !rep->restart[0]) {
		snprintf(msg, len, "no change");
		return;
	}
	if (rep->applied[0])
		n = put_list(msg, len, n, "applied: ", rep->applied);
	if (rep->restart[0])
		put_list(msg, len, n, n ? "; needs restart: " : "needs restart: ", rep->restart);
}
