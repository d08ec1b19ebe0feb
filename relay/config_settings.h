/*
 * config_settings.h — postern-relay's table of settings (private to
 * relay/config*.c): for each, its name in the file, its flag, its kind and
 * the setter that checks a value and stores it in struct relay_config.
 *
 * One table serves both sources: config_file.c reads values from the file,
 * config_args.c from flags, and both hand each value to
 * relay_setting_apply(), so a value is checked by the same rule and refused
 * with the same words wherever it was written.
 *
 * Threads: the table is constant; the setters write the config they are
 * given (main thread, before anything runs).
 */
#ifndef POSTERN_RELAY_CONFIG_SETTINGS_H
#define POSTERN_RELAY_CONFIG_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "relay/config.h"

enum relay_setting_kind {
	RELAY_SETTING_INT,	/* an integer within [min, max] */
	RELAY_SETTING_STR,	/* one string */
	RELAY_SETTING_LIST,	/* a list of strings; a repeatable flag */
	RELAY_SETTING_BOOL,	/* true or false */
	RELAY_SETTING_PORTS,	/* dpdk.ports: a list of groups in the file; a repeatable flag */
};

/* One value being set, from the file or from a flag. */
struct relay_setting_value {
	const char *str;	/* STR, LIST, PORTS (the flag's text) */
	long long num;		/* INT, BOOL (0 or 1) */
	unsigned index;		/* LIST: position in the list (or among the flags) */
	const char *where;	/* "FILE:LINE" or "--flag" */
};

struct relay_setting;
typedef int (*relay_setting_set_fn)(struct relay_config *c, const struct relay_setting *s,
				    const struct relay_setting_value *v, char *msg, size_t len);
typedef void (*relay_setting_clear_fn)(struct relay_config *c);

struct relay_setting {
	const char *name;	/* in the file; "group.name" inside a group */
	const char *flag;	/* long option, without "--" */
	enum relay_setting_kind kind;
	long long min, max;	/* INT */
	size_t off;		/* INT, BOOL and paths: the field in struct relay_config */
	unsigned size;		/* INT: sizeof the field */
	size_t where_off;	/* paths: where it was set; 0 for none */
	relay_setting_set_fn set;	/* NULL for INT and BOOL: stored by off and size */
	relay_setting_clear_fn clear;	/* LIST, PORTS: empty the list (freeing what it owns) */
	const char *arg;	/* for --help */
	const char *help;
};

enum {
	RELAY_SETTINGS_MAX = 48,	/* room in tables of names built from the settings */
	RELAY_SETTING_GROUPS = 3,	/* limits, eal, dpdk */
	RELAY_SETTING_SUITES = 2,
};

/* Every setting, in the order --help lists them; relay_settings_n of them. */
extern const struct relay_setting relay_settings[];
extern const unsigned relay_settings_n;

/* The groups of the file ("limits" for limits.*). */
extern const char *const relay_setting_groups[RELAY_SETTING_GROUPS];

/* The handshake suites by name, in the order --check-config prints them. */
extern const struct relay_setting_suite {
	const char *name;
	unsigned mask;		/* HOP_SUITES_* */
} relay_setting_suites[RELAY_SETTING_SUITES];

/* @return the setting called @name ("limits.max_sessions"), or NULL. */
const struct relay_setting *relay_setting_find(const char *name);

/*
 * Check @v for @s and store it in @c (a list's item is appended: the caller
 * clears the list first). @return 0, or -EINVAL with @msg saying why, without
 * saying where (the caller knows).
 */
int relay_setting_apply(struct relay_config *c, const struct relay_setting *s,
			const struct relay_setting_value *v, char *msg, size_t len);

/*
 * Append a complete DPDK port @pc (dp_portconf_check() passed), set at
 * @where. @return 0, or -EINVAL with @msg ("at most 4 ports", or two ports on
 * one device).
 */
int relay_setting_add_port(struct relay_config *c, const struct dp_portconf *pc,
			   const char *where, char *msg, size_t len);

/* Exactly 2 * TOKEN_ID_LEN hex digits, either case. @return 0, or -EINVAL. */
int relay_setting_parse_token_id(const char *s, uint8_t id[TOKEN_ID_LEN]);

#endif /* POSTERN_RELAY_CONFIG_SETTINGS_H */
