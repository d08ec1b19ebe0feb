/*
 * log.h — the relay's log: one line per event on stderr, filtered by a level
 * that an operator can change while the relay runs (`posternctl log-level`).
 *
 * Line format: "<level>: <message>\n", e.g. "warn: control: refused peer ...".
 * When stderr is the systemd journal (JOURNAL_STREAM is set), each line starts
 * with the sd-daemon priority prefix ("<4>") instead, so journald records the
 * right priority and adds its own timestamp.
 *
 * Threads: every function may be called from any thread at any time. The level
 * is an atomic; a line is formatted into a local buffer and written with one
 * write(2), so lines from different threads never interleave. Lines longer
 * than LOG_LINE_MAX are cut (and end with "...").
 * Not for the per-packet path: there, count and rate-limit instead.
 */
#ifndef POSTERN_RELAY_LOG_H
#define POSTERN_RELAY_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

enum {
	LOG_LINE_MAX = 1024,	/* bytes per line, newline included */
};

/* Names accepted by log_level_parse(), for help texts and error messages. */
#define LOG_LEVEL_NAMES "error, warn, info, debug"

/* Set the level: messages less severe than @level are discarded. Default info. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* @return "error", "warn", "info" or "debug"; "?" out of range. */
const char *log_level_name(enum log_level level);

/* Exactly one of LOG_LEVEL_NAMES. @return 0 and *@level set, or -EINVAL. */
int log_level_parse(const char *name, enum log_level *level);

/* @return true if a message at @level would be written now. */
bool log_enabled(enum log_level level);

/* Write one line at @level (if enabled). A trailing newline in @fmt is not needed. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif /* POSTERN_RELAY_LOG_H */
