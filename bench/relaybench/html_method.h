/*
 * html_method.h — how a measurement was made, recorded in relaybench's JSON
 * documents as "method" so that a report rendered from them later
 * (`relaybench report`) can say it: the command line, the date, the
 * versions of relaybench and of what it measured with.
 *
 *	"method": {
 *	  "command": "relaybench run --relay 127.0.0.1:51820 ...",  shell-quoted
 *	  "date": "2025-01-31T12:00:00Z",        when the document was written, UTC
 *	  "versions": { "relaybench", "openssl", "jansson", "kernel" },
 *	  "cpus": 8                               online CPUs of the machine
 *	}
 *
 * Threads: any; reads the clock, uname() and sysconf().
 */
#ifndef POSTERN_BENCH_RELAYBENCH_HTML_METHOD_H
#define POSTERN_BENCH_RELAYBENCH_HTML_METHOD_H

#include <jansson.h>

/*
 * The "method" object for a document made by `relaybench` with @argv[0 ..
 * @argc) after the program name (argv[0] is the command, "run" or
 * "sweep"). Bytes that are not UTF-8 are shown as '?'.
 * @return a new reference, or NULL when out of memory.
 */
json_t *html_method_json(int argc, char *const *argv);

/* "2025-01-31T12:00:00Z" for now, in @buf (at least 21 bytes). */
void html_method_date(char *buf, size_t cap);

#endif /* POSTERN_BENCH_RELAYBENCH_HTML_METHOD_H */
