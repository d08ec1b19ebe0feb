/*
 * config_args.h — postern-relay's flags over its file (private to
 * relay/config*.c). relay_config_parse_args() and relay_config_usage()
 * (config.h) live in config_args.c too.
 *
 * Threads: main thread, before anything runs.
 */
#ifndef POSTERN_RELAY_CONFIG_ARGS_H
#define POSTERN_RELAY_CONFIG_ARGS_H

#include <stddef.h>

#include "relay/config.h"

/*
 * Apply every setting flag of @a to @c, in command-line order: a flag
 * replaces the file's value; the first flag of a repeatable setting empties
 * the file's list, the next ones append. Messages: "--FLAG 'VALUE': why".
 * @return 0, or -EINVAL with @err set.
 */
int relay_config_args_apply(struct relay_config *c, const struct relay_config_args *a,
			    char *err, size_t errlen);

#endif /* POSTERN_RELAY_CONFIG_ARGS_H */
