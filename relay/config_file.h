/*
 * config_file.h — postern-relay's configuration file (private to
 * relay/config*.c): the settings of config_settings.h in libconfig syntax,
 * three of them in groups (limits, eal, dpdk), read with relay/cfgfile.h.
 *
 * Threads: main thread, before anything runs.
 */
#ifndef POSTERN_RELAY_CONFIG_FILE_H
#define POSTERN_RELAY_CONFIG_FILE_H

#include <stddef.h>

#include "relay/config.h"

/*
 * Read the file at @path into @c, each value checked where it is set; a
 * list in the file replaces the one @c held. Messages name the file, the
 * line and the setting (config.h).
 * @return 0, or -EINVAL (-ENOENT etc. for an unreadable file) with @err set.
 */
int relay_config_file_load(struct relay_config *c, const char *path, char *err, size_t errlen);

#endif /* POSTERN_RELAY_CONFIG_FILE_H */
