/*
 * config_file.c — postern-relay's settings from its libconfig file
 * (config_file.h): the table of config_settings.h walked with relay/cfgfile.h.
 */
#include "relay/config_file.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "relay/cfgfile.h"
#include "relay/config_settings.h"

_Static_assert((int)RELAY_CONFIG_WHERE_MAX == (int)CFGFILE_WHERE_MAX, "where buffers differ");

/* A refused string value: quoted in the message, since a list's line may hold several. */
static int value_err(const struct cfgfile *f, const config_setting_t *st, const char *label,
		     const char *value, const char *msg)
{
	if (!value || !value[0])
		return cfgfile_err(f, st, label, "%s", msg);
	return cfgfile_err(f, st, label, "'%.100s': %s", value, msg);
}

/* ---- lists of strings -------------------------------------------------------- */

struct list_ctx {
	struct relay_config *c;
	const struct relay_setting *s;
};

static int list_item(const struct cfgfile *f, const config_setting_t *e, const char *label,
		     const char *value, unsigned index, void *arg)
{
	const struct list_ctx *l = arg;
	char msg[CFGFILE_MSG_MAX], where[CFGFILE_WHERE_MAX];
	struct relay_setting_value v = { .str = value, .index = index, .where = where };

	cfgfile_where(f, e, where);
	if (relay_setting_apply(l->c, l->s, &v, msg, sizeof(msg)))
		return value_err(f, e, label, value, msg);
	return 0;
}

/* ---- dpdk.ports ---------------------------------------------------------------- */

typedef int (*port_text_fn)(struct dp_portconf *pc, const char *text, const char **why);

struct port_text {
	struct dp_portconf *pc;
	port_text_fn fn;
};

static int port_item(const struct cfgfile *f, const config_setting_t *e, const char *label,
		     const char *value, unsigned index, void *arg)
{
	const struct port_text *t = arg;
	const char *why;

	(void)index;
	return t->fn(t->pc, value, &why) ? value_err(f, e, label, value, why) : 0;
}

/* A port's string member, or list of strings (addresses, gateway), each through @fn. */
static int port_strings(const struct cfgfile *f, const config_setting_t *st, const char *label,
			port_text_fn fn, struct dp_portconf *pc)
{
	struct port_text t = { .pc = pc, .fn = fn };
	int type = config_setting_type(st);

	if (type != CONFIG_TYPE_STRING && type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
		return cfgfile_err(f, st, label, "must be a string or a list of strings, not %s",
				   cfgfile_type_name(type));
	return cfgfile_string_list(f, st, label, port_item, &t);
}

static int port_member(const struct cfgfile *f, const config_setting_t *m, const char *label,
		       struct dp_portconf *pc)
{
	const char *name = config_setting_name(m), *why, *text;
	long long mtu;

	if (!strcmp(name, "addresses"))
		return port_strings(f, m, label, dp_portconf_add_address, pc);
	if (!strcmp(name, "gateway"))
		return port_strings(f, m, label, dp_portconf_set_gateway, pc);
	if (!strcmp(name, "device")) {
		if (cfgfile_get_string(f, m, label, &text))
			return -EINVAL;
		if (dp_portconf_set_device(pc, text, &why))
			return value_err(f, m, label, text, why);
		return 0;
	}
	if (!strcmp(name, "mtu")) {
		if (cfgfile_get_int(f, m, label, LLONG_MIN, LLONG_MAX, NULL, &mtu))
			return -EINVAL;
		if (dp_portconf_set_mtu(pc, mtu, &why))
			return cfgfile_err(f, m, label, "%s", why);
		return 0;
	}
	return cfgfile_err(f, m, label, "unknown setting in a port (a port has device, addresses, "
			   "gateway, mtu)");
}

/* One port: { device = "..."; addresses = [ "A/LEN", ... ]; gateway = "G"; mtu = N; } */
static int file_port(const struct cfgfile *f, const config_setting_t *g, const char *label,
		     unsigned index, void *arg)
{
	char mlabel[CFGFILE_LABEL_MAX], msg[CFGFILE_MSG_MAX], where[CFGFILE_WHERE_MAX];
	int n = config_setting_length(g), ret;
	struct dp_portconf pc;
	const char *why;

	(void)index;
	memset(&pc, 0, sizeof(pc));
	for (int k = 0; k < n; k++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)k);

		snprintf(mlabel, sizeof(mlabel), "%s.%s", label, config_setting_name(m));
		ret = port_member(f, m, mlabel, &pc);
		if (ret)
			return ret;
	}
	if (dp_portconf_check(&pc, &why))
		return cfgfile_err(f, g, label, "%s", why);
	cfgfile_where(f, g, where);
	if (relay_setting_add_port(arg, &pc, where, msg, sizeof(msg)))
		return cfgfile_err(f, g, label, "%s", msg);
	return 0;
}

/* dpdk.ports: a list of groups `( { ... }, { ... } )`; a lone group is one port. */
static int file_ports(const struct cfgfile *f, struct relay_config *c,
		      const struct relay_setting *s, const config_setting_t *st)
{
	s->clear(c);
	/* `ports = [ ];` is no port, like `ports = ( );`. */
	if (config_setting_type(st) == CONFIG_TYPE_ARRAY && !config_setting_length(st))
		return 0;
	return cfgfile_group_list(f, st, s->name, "a list of ports ( { device = ...; }, ... )",
				  "a group { device = \"...\"; addresses = "
				  "[ \"ADDRESS/PREFIX\" ]; }", file_port, c);
}

/* ---- one setting, the groups, the file ------------------------------------------ */

static int file_setting(const struct cfgfile *f, struct relay_config *c,
			const struct relay_setting *s, const config_setting_t *st)
{
	char msg[CFGFILE_MSG_MAX], where[CFGFILE_WHERE_MAX];
	struct relay_setting_value v = { .where = where };
	struct list_ctx l = { .c = c, .s = s };
	bool b;

	cfgfile_where(f, st, where);
	switch (s->kind) {
	case RELAY_SETTING_LIST:
		s->clear(c);
		return cfgfile_string_list(f, st, s->name, list_item, &l);
	case RELAY_SETTING_PORTS:
		return file_ports(f, c, s, st);
	case RELAY_SETTING_INT:
		if (cfgfile_get_int(f, st, s->name, s->min, s->max, NULL, &v.num))
			return -EINVAL;
		break;
	case RELAY_SETTING_BOOL:
		if (cfgfile_get_bool(f, st, s->name, &b))
			return -EINVAL;
		v.num = b;
		break;
	case RELAY_SETTING_STR:
		if (cfgfile_get_string(f, st, s->name, &v.str))
			return -EINVAL;
		break;
	}
	if (relay_setting_apply(c, s, &v, msg, sizeof(msg)))
		return value_err(f, st, s->name, v.str, msg);
	return 0;
}

static bool is_group_name(const char *name)
{
	for (unsigned i = 0; i < RELAY_SETTING_GROUPS; i++)
		if (!strcmp(relay_setting_groups[i], name))
			return true;
	return false;
}

/* Unknown names are matched against every full name ("limits.max_sessions") and group. */
static int unknown(const struct cfgfile *f, const config_setting_t *st, const char *full)
{
	const char *names[RELAY_SETTINGS_MAX + RELAY_SETTING_GROUPS];
	unsigned n = 0;

	for (unsigned i = 0; i < relay_settings_n; i++)
		names[n++] = relay_settings[i].name;
	for (unsigned i = 0; i < RELAY_SETTING_GROUPS; i++)
		names[n++] = relay_setting_groups[i];
	return cfgfile_unknown(f, st, "", full, names, n);
}

/* The members of @group, named @prefix + name ("" at the top, "limits." inside). */
static int file_group(const struct cfgfile *f, struct relay_config *c,
		      const config_setting_t *group, const char *prefix)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		const config_setting_t *st = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(st);
		const struct relay_setting *s;
		char full[128];
		int ret;

		snprintf(full, sizeof(full), "%s%s", prefix, name ? name : "?");
		if (!*prefix && is_group_name(full)) {
			if (config_setting_type(st) != CONFIG_TYPE_GROUP)
				return cfgfile_err(f, st, full,
						   "must be a group: { name = value; ... }");
			snprintf(full, sizeof(full), "%s.", name);
			ret = file_group(f, c, st, full);
		} else {
			s = relay_setting_find(full);
			ret = s ? file_setting(f, c, s, st) : unknown(f, st, full);
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int file_root(const struct cfgfile *f, const config_setting_t *root, void *arg)
{
	return file_group(f, arg, root, "");
}

int relay_config_file_load(struct relay_config *c, const char *path, char *err, size_t errlen)
{
	return cfgfile_load(path, file_root, c, err, errlen);
}
