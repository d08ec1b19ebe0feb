/*
 * html.h — the little HTML relaybench's reports need: escaping (every
 * string a report shows, whether from the command line, a relay's answer
 * or a file, goes through html_escape()), and number cells that say "–"
 * for a value that is missing.
 *
 * Threads: pure formatting on the caller's FILE; any thread.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_HTML_H
#define POSTERN_BENCH_RELAYBENCH_HTML_H

#include <stdio.h>

/*
 * Write @s (NULL: nothing) to @f escaped for HTML text and for a quoted
 * attribute value: & < > " ' become entities; control characters other than
 * tab and newline become U+FFFD. Bytes >= 0x80 pass unchanged (the page is
 * UTF-8; relaybench's JSON documents are valid UTF-8).
 */
void html_escape(FILE *f, const char *s);

/* printf into a buffer of up to 1 KiB, then html_escape() it. */
void html_escapef(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * One table cell: <td class="num">@v with @decimals decimals</td>, or "–"
 * when @v is NaN (the document did not hold it).
 */
void html_cell_num(FILE *f, double v, int decimals);

/* One table cell holding escaped text (NULL: "–"). */
void html_cell_text(FILE *f, const char *s);

#endif /* POSTERN_BENCH_RELAYBENCH_HTML_H */
