/*
 * fail.c — relaybench's error line (fail.h).
 */
#include "bench/relaybench/fail.h"

#include <stdarg.h>
#include <stdio.h>

int fail_set(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}
