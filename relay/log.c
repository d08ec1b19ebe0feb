/*
 * log.c — leveled lines on stderr (log.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay/log.h"

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

/* sd-daemon(3) priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG of syslog(3). */
static const char journal_prio[] = {
	[LOG_LEVEL_ERROR] = '3',
	[LOG_LEVEL_WARN] = '4',
	[LOG_LEVEL_INFO] = '6',
	[LOG_LEVEL_DEBUG] = '7',
};

static atomic_int current_level = LOG_LEVEL_INFO;

void log_set_level(enum log_level level)
{
	if ((unsigned)level <= LOG_LEVEL_DEBUG)
		atomic_store_explicit(&current_level, (int)level, memory_order_relaxed);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load_explicit(&current_level, memory_order_relaxed);
}

const char *log_level_name(enum log_level level)
{
	return (unsigned)level <= LOG_LEVEL_DEBUG ? level_names[level] : "?";
}

int log_level_parse(const char *name, enum log_level *level)
{
	for (unsigned i = 0; i <= LOG_LEVEL_DEBUG; i++) {
		if (!strcmp(name, level_names[i])) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool log_enabled(enum log_level level)
{
	return (int)level <= atomic_load_explicit(&current_level, memory_order_relaxed);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	size_t len;
	va_list ap;
	int n;

	if ((unsigned)level > LOG_LEVEL_DEBUG || !log_enabled(level))
		return;
	/* Journald reads the priority from the prefix and stamps the time itself. */
	if (getenv("JOURNAL_STREAM"))
		n = snprintf(line, sizeof(line), "<%c>", journal_prio[level]);
	else
		n = snprintf(line, sizeof(line), "%s: ", level_names[level]);
	len = n > 0 ? (size_t)n : 0;
	va_start(ap, fmt);
	n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - len - 1) {
		/* Cut: keep room for "...\n". */
		len = sizeof(line) - 5;
		memcpy(line + len, "...", 3);
		len += 3;
	} else {
		len += (size_t)n;
	}
	while (len && line[len - 1] == '\n')
		len--;
	line[len++] = '\n';
	/* One write(2) per line: lines from several threads never interleave. */
	while (len) {
		ssize_t w = write(STDERR_FILENO, line, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		memmove(line, line + w, len - (size_t)w);
		len -= (size_t)w;
	}
}
