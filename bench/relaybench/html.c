/*
 * html.c — escaping and table cells for relaybench's reports (html.h).
 */
#include "bench/relaybench/html.h"

#include <math.h>
#include <stdarg.h>

void html_escape(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			/* Control characters have no business in a report (HTML §13.1.4). */
			if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
				fputs("\xef\xbf\xbd", f);
			else
				fputc(c, f);
		}
	}
}

void html_escapef(FILE *f, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	html_escape(f, buf);
}

void html_cell_num(FILE *f, double v, int decimals)
{
	char buf[64];

	if (isnan(v)) {
		fputs("<td class=\"num\">–</td>", f);
		return;
	}
	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	fputs("<td class=\"num\">", f);
	html_escape(f, buf);
	fputs("</td>", f);
}

void html_cell_text(FILE *f, const char *s)
{
	fputs("<td>", f);
	if (s)
		html_escape(f, s);
	else
		fputs("–", f);
	fputs("</td>", f);
}
