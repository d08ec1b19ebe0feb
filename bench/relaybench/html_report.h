/*
 * html_report.h — relaybench's HTML report: one self-contained page (inline
 * CSS and SVG; no script, nothing fetched, a Content-Security-Policy that
 * says so) rendered from a run or sweep document, the very JSON that
 * `--json` prints. `run --report`, `sweep --report` and `relaybench report
 * --from FILE.json` all go through here, so a report re-rendered from a
 * saved document is the report of the measurement.
 *
 *	relaybench.run/1     latency CDF (packet round trips and messages, log
 *	                     time axis), tables of latency, traffic, relay and
 *	                     generator figures, warnings
 *	relaybench.sweep/1   delivered and sent against offered load, p99
 *	                     against offered load with the SLO line, the knee
 *	                     marked on both; a table of the steps
 *
 * Both end with the method (command line, date, versions, from the
 * document's "method" when it has one) and the document itself. Every
 * string from the document is escaped (html.h); a field the document lacks
 * is shown as "–", never guessed.
 *
 * Threads: one caller at a time (the plots' points live in static buffers).
 */
#ifndef POSTERN_BENCH_RELAYBENCH_HTML_REPORT_H
#define POSTERN_BENCH_RELAYBENCH_HTML_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/*
 * Write the page for @doc to @f. @source says where the document came from
 * ("this run", a file name), for the method section.
 * @return 0; -EINVAL with one line in @err when @doc is not a relaybench
 * run or sweep document; -EIO when @f failed.
 */
int html_report_write(FILE *f, const json_t *doc, const char *source, char *err,
		      size_t errlen);

/*
 * html_report_write() into the file @path (created or replaced, mode 0644
 * less the umask). On failure the file is removed.
 * @return 0, -EINVAL (as above) or -errno of the file, with one line in @err.
 */
int html_report_save(const char *path, const json_t *doc, const char *source, char *err,
		     size_t errlen);

#endif /* POSTERN_BENCH_RELAYBENCH_HTML_REPORT_H */
