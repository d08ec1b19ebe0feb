/*
 * svg.c — line plots as inline SVG (svg.h).
 *
 * Coordinates are SVG user units in a fixed viewBox; the page scales the
 * picture. The plot area sits inside margins that hold the title and legend
 * (top), the y ticks and label (left) and the x ticks and label (bottom).
 */
#include "bench/relaybench/svg.h"

#include <math.h>
#include <string.h>

#include "bench/relaybench/html.h"

enum {
	MARGIN_LEFT = 84,
	MARGIN_RIGHT = 28,
	MARGIN_TOP = 70,
	MARGIN_BOTTOM = 70,
	AREA_W = SVG_WIDTH - MARGIN_LEFT - MARGIN_RIGHT,
	AREA_H = SVG_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM,
	TICK_LEN = 5,
	LEGEND_Y = 46,
};

#define SLACK 1e-9		/* relative: a tick at the very end of a range is in it */
#define AXIS_COLOR "#333"
#define GRID_COLOR "#e3e3e3"

/* --- ranges and ticks -------------------------------------------------------- */

/* The smallest of 1, 2, 5 × 10^k that is >= @x (> 0). */
static double nice_step(double x)
{
	double p = pow(10, floor(log10(x)));

	if (p >= x * (1 - SLACK))
		return p;
	if (2 * p >= x * (1 - SLACK))
		return 2 * p;
	if (5 * p >= x * (1 - SLACK))
		return 5 * p;
	return 10 * p;
}

/* The largest of 1, 2, 5 × 10^k that is <= @x (> 0). */
static double nice_below(double x)
{
	double p = pow(10, floor(log10(x)));

	if (5 * p <= x * (1 + SLACK))
		return 5 * p;
	if (2 * p <= x * (1 + SLACK))
		return 2 * p;
	return p;
}

void svg_nice_range(enum svg_scale s, double *lo, double *hi)
{
	double step;

	if (s == SVG_LOG) {
		if (*lo == *hi) {
			*lo /= 2;
			*hi *= 2;
		}
		*lo = nice_below(*lo);
		*hi = nice_step(*hi);
		return;
	}
	if (*lo == *hi) {
		double d = *lo ? fabs(*lo) / 10 : 1;

		*lo -= d;
		*hi += d;
	}
	step = nice_step((*hi - *lo) / 5);
	*lo = floor(*lo / step * (1 + SLACK)) * step;
	*hi = ceil(*hi / step * (1 - SLACK)) * step;
	if (fabs(*lo) < step * SLACK)
		*lo = 0;
}

static unsigned linear_ticks(double lo, double hi, double *out, unsigned max)
{
	double step = nice_step((hi - lo) / 5);
	unsigned n = 0;

	for (double k = ceil(lo / step - SLACK); n < max; k++) {
		double v = k * step;

		if (v > hi + step * SLACK)
			break;
		out[n++] = fabs(v) < step * SLACK ? 0 : v;
	}
	return n;
}

/* Mantissas @m (of @nm) times powers of ten inside [lo, hi]. */
static unsigned log_ticks(double lo, double hi, const double *m, unsigned nm, double *out,
			  unsigned max)
{
	unsigned n = 0;

	for (int k = (int)floor(log10(lo)) - 1; k <= (int)ceil(log10(hi)); k++)
		for (unsigned i = 0; i < nm && n < max; i++) {
			double v = m[i] * pow(10, k);

			if (v >= lo * (1 - SLACK) && v <= hi * (1 + SLACK))
				out[n++] = v;
		}
	return n;
}

/* Keep every other tick until at most @max remain. */
static unsigned thin(double *v, unsigned n, unsigned max)
{
	while (n > max) {
		unsigned k = 0;

		for (unsigned i = 0; i < n; i += 2)
			v[k++] = v[i];
		n = k;
	}
	return n;
}

unsigned svg_ticks(enum svg_scale s, double lo, double hi, double *out, unsigned max)
{
	static const double decade[] = { 1 }, by125[] = { 1, 2, 5 };
	static const double by1_9[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	double tmp[64];
	unsigned n;

	if (!(hi > lo) || !max)
		return 0;
	if (s == SVG_LINEAR)
		return linear_ticks(lo, hi, out, max);
	if (!(lo > 0))
		return 0;
	n = log_ticks(lo, hi, decade, 1, tmp, 64);
	if (n < 3) {
		n = log_ticks(lo, hi, by125, 3, tmp, 64);
		if (n < 4)
			n = log_ticks(lo, hi, by1_9, 9, tmp, 64);
	}
	if (n < 2)
		return linear_ticks(lo, hi, out, max);
	n = thin(tmp, n, max < 9 ? max : 9);
	memcpy(out, tmp, n * sizeof(*out));
	return n;
}

void svg_format(enum svg_unit unit, double v, char *buf, size_t cap)
{
	switch (unit) {
	case SVG_UNIT_RATE:
		if (v >= 1e6)
			snprintf(buf, cap, "%.4gM", v / 1e6);
		else if (v >= 1e3)
			snprintf(buf, cap, "%.4gk", v / 1e3);
		else
			snprintf(buf, cap, "%.4g", v);
		return;
	case SVG_UNIT_US:
		if (v < 1e3)
			snprintf(buf, cap, "%.4g µs", v);
		else if (v < 1e6)
			snprintf(buf, cap, "%.4g ms", v / 1e3);
		else
			snprintf(buf, cap, "%.4g s", v / 1e6);
		return;
	case SVG_UNIT_MS:
		if (v > 0 && v < 1)
			snprintf(buf, cap, "%.4g µs", v * 1e3);
		else if (v < 1e3)
			snprintf(buf, cap, "%.4g ms", v);
		else
			snprintf(buf, cap, "%.4g s", v / 1e3);
		return;
	case SVG_UNIT_FRACTION:
		snprintf(buf, cap, "%.4g%%", v * 100);
		return;
	case SVG_UNIT_NUMBER:
		break;
	}
	snprintf(buf, cap, "%.4g", v);
}

/* --- mapping values to the picture ------------------------------------------- */

struct map {
	enum svg_scale scale;
	double lo, hi;			/* values */
	double p0, p1;			/* user units for lo and hi */
};

static bool drawable(const struct map *m, double v)
{
	return isfinite(v) && (m->scale == SVG_LINEAR || v > 0);
}

static double place(const struct map *m, double v)
{
	double t;

	if (m->scale == SVG_LOG)
		t = (log10(v) - log10(m->lo)) / (log10(m->hi) - log10(m->lo));
	else
		t = (v - m->lo) / (m->hi - m->lo);
	return m->p0 + t * (m->p1 - m->p0);
}

struct extent {
	double lo, hi;
	bool any;
};

static void extend(struct extent *e, double v)
{
	if (!e->any || v < e->lo)
		e->lo = v;
	if (!e->any || v > e->hi)
		e->hi = v;
	e->any = true;
}

/*
 * The axis' range: the caller's, or the data's (and marks') widened to round
 * values. @pad_top: leave room above the highest value, so that a line or a
 * mark there is not drawn on the frame (its label needs the room).
 */
static void axis_map(const struct svg_axis *a, const struct extent *e, bool pad_top, double p0,
		     double p1, struct map *m)
{
	double lo = e->lo, hi = e->hi;

	m->scale = a->scale;
	m->p0 = p0;
	m->p1 = p1;
	if (!e->any) {
		lo = a->scale == SVG_LOG ? 1 : 0;
		hi = a->scale == SVG_LOG ? 10 : 1;
	}
	if (a->scale == SVG_LINEAR && a->zero) {
		lo = fmin(lo, 0);
		hi = fmax(hi, 0);
	}
	if (pad_top && e->any)
		hi = a->scale == SVG_LOG ? hi * 1.2 : hi + (hi - lo) * 0.05;
	if (isnan(a->min) || isnan(a->max))
		svg_nice_range(a->scale, &lo, &hi);
	m->lo = isnan(a->min) ? lo : a->min;
	m->hi = isnan(a->max) ? hi : a->max;
	if (!(m->hi > m->lo))
		m->hi = m->scale == SVG_LOG ? m->lo * 10 : m->lo + 1;
}

/* Both axes' data extents over every drawable point and mark. */
static void extents(const struct svg_plot *p, const struct map *probe_x,
		    const struct map *probe_y, struct extent *ex, struct extent *ey)
{
	memset(ex, 0, sizeof(*ex));
	memset(ey, 0, sizeof(*ey));
	for (unsigned s = 0; s < p->n_series; s++)
		for (unsigned i = 0; i < p->series[s].n; i++) {
			double x = p->series[s].x[i], y = p->series[s].y[i];

			if (!drawable(probe_x, x) || !drawable(probe_y, y))
				continue;
			extend(ex, x);
			extend(ey, y);
		}
	for (unsigned i = 0; i < p->n_hlines; i++)
		if (drawable(probe_y, p->hline[i].y))
			extend(ey, p->hline[i].y);
	for (unsigned i = 0; i < p->n_vmarks; i++)
		if (drawable(probe_x, p->vmark[i].x))
			extend(ex, p->vmark[i].x);
}

/* --- drawing --------------------------------------------------------------------- */

static void axis_x(FILE *f, const struct svg_axis *a, const struct map *m)
{
	double ticks[SVG_TICKS_MAX];
	unsigned n = svg_ticks(m->scale, m->lo, m->hi, ticks, 10);
	char label[48];
	int base = MARGIN_TOP + AREA_H;

	fputs("<g class=\"axis x\">\n", f);
	for (unsigned i = 0; i < n; i++) {
		double x = place(m, ticks[i]);

		svg_format(a->unit, ticks[i], label, sizeof(label));
		fprintf(f, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" "
			"stroke=\"" GRID_COLOR "\"/>", x, x, MARGIN_TOP, base);
		fprintf(f, "<line class=\"tick\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" "
			"stroke=\"" AXIS_COLOR "\"/>", x, x, base, base + TICK_LEN);
		fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", x,
			base + 20);
		html_escape(f, label);
		fputs("</text>\n", f);
	}
	fprintf(f, "<text class=\"axis-label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
		"font-size=\"13\">", MARGIN_LEFT + AREA_W / 2, SVG_HEIGHT - 20);
	html_escape(f, a->label);
	fputs("</text>\n</g>\n", f);
}

static void axis_y(FILE *f, const struct svg_axis *a, const struct map *m)
{
	double ticks[SVG_TICKS_MAX];
	unsigned n = svg_ticks(m->scale, m->lo, m->hi, ticks, 8);
	char label[48];

	fputs("<g class=\"axis y\">\n", f);
	for (unsigned i = 0; i < n; i++) {
		double y = place(m, ticks[i]);

		svg_format(a->unit, ticks[i], label, sizeof(label));
		fprintf(f, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"" GRID_COLOR "\"/>", MARGIN_LEFT, MARGIN_LEFT + AREA_W, y, y);
		fprintf(f, "<line class=\"tick\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"" AXIS_COLOR "\"/>", MARGIN_LEFT - TICK_LEN, MARGIN_LEFT, y, y);
		fprintf(f, "<text class=\"tick\" x=\"%d\" y=\"%.1f\" dy=\"0.35em\" "
			"text-anchor=\"end\">", MARGIN_LEFT - 8, y);
		html_escape(f, label);
		fputs("</text>\n", f);
	}
	fprintf(f, "<text class=\"axis-label\" transform=\"translate(18 %d) rotate(-90)\" "
		"text-anchor=\"middle\" font-size=\"13\">", MARGIN_TOP + AREA_H / 2);
	html_escape(f, a->label);
	fputs("</text>\n</g>\n", f);
}

static const char *dash(enum svg_style s)
{
	return s == SVG_DASHED ? " stroke-dasharray=\"7 5\"" : "";
}

/* @return how many points were drawn. */
static unsigned series(FILE *f, const struct svg_series *s, const struct map *mx,
		       const struct map *my)
{
	unsigned drawn = 0;

	fputs("<g class=\"series\" data-name=\"", f);
	html_escape(f, s->name);
	fputs("\">\n", f);
	if (s->style != SVG_MARKERS_ONLY) {
		fputs("<polyline class=\"series-line\" fill=\"none\" stroke=\"", f);
		html_escape(f, s->color);
		fprintf(f, "\" stroke-width=\"2\" stroke-linejoin=\"round\"%s points=\"",
			dash(s->style));
		for (unsigned i = 0; i < s->n; i++) {
			if (!drawable(mx, s->x[i]) || !drawable(my, s->y[i]))
				continue;
			fprintf(f, "%s%.1f,%.1f", drawn ? " " : "", place(mx, s->x[i]),
				place(my, s->y[i]));
			drawn++;
		}
		fputs("\"/>\n", f);
	}
	for (unsigned i = 0; i < s->n && (s->markers || s->style == SVG_MARKERS_ONLY); i++) {
		double x, y;

		if (!drawable(mx, s->x[i]) || !drawable(my, s->y[i]))
			continue;
		x = place(mx, s->x[i]);
		y = place(my, s->y[i]);
		if (s->crosses)
			fprintf(f, "<path class=\"miss\" d=\"M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f "
				"%.1f\" stroke-width=\"2.5\" fill=\"none\" stroke=\"", x - 5, y - 5,
				x + 5, y + 5, x - 5, y + 5, x + 5, y - 5);
		else
			fprintf(f, "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" "
				"stroke=\"#fff\" fill=\"", x, y);
		html_escape(f, s->color);
		fputs("\"/>\n", f);
		if (s->style == SVG_MARKERS_ONLY)
			drawn++;
	}
	fputs("</g>\n", f);
	return drawn;
}

static void hline(FILE *f, const struct svg_hline *h, const struct map *my)
{
	double y;

	if (!drawable(my, h->y))
		return;
	y = place(my, h->y);
	fputs("<g class=\"hline ", f);
	html_escape(f, h->cls);
	fprintf(f, "\"><line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke-width=\"1.5\" "
		"stroke-dasharray=\"9 4\" stroke=\"", MARGIN_LEFT, MARGIN_LEFT + AREA_W, y, y);
	html_escape(f, h->color);
	fprintf(f, "\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"",
		MARGIN_LEFT + AREA_W - 4, y - 5);
	html_escape(f, h->color);
	fputs("\">", f);
	html_escape(f, h->label);
	fputs("</text></g>\n", f);
}

static void vmark(FILE *f, const struct svg_vmark *v, const struct map *mx,
		  const struct map *my)
{
	double x;
	bool right;

	if (!drawable(mx, v->x))
		return;
	x = place(mx, v->x);
	right = x > MARGIN_LEFT + AREA_W * 0.7;
	fputs("<g class=\"vmark ", f);
	html_escape(f, v->cls);
	fprintf(f, "\"><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke-width=\"1.5\" "
		"stroke-dasharray=\"4 3\" stroke=\"", x, x, MARGIN_TOP, MARGIN_TOP + AREA_H);
	html_escape(f, v->color);
	fputs("\"/>", f);
	if (drawable(my, v->y)) {
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"8\" fill=\"none\" "
			"stroke-width=\"2.5\" stroke=\"", x, place(my, v->y));
		html_escape(f, v->color);
		fputs("\"/>", f);
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\" font-weight=\"bold\" fill=\"",
		right ? x - 6 : x + 6, MARGIN_TOP + 16, right ? "end" : "start");
	html_escape(f, v->color);
	fputs("\">", f);
	html_escape(f, v->label);
	fputs("</text></g>\n", f);
}

static void legend(FILE *f, const struct svg_plot *p)
{
	double x = MARGIN_LEFT;

	fprintf(f, "<g class=\"legend\" transform=\"translate(0 %d)\">\n", LEGEND_Y);
	for (unsigned i = 0; i < p->n_series; i++) {
		const struct svg_series *s = &p->series[i];

		fputs("<g class=\"legend-item\">", f);
		if (s->style == SVG_MARKERS_ONLY && s->crosses)
			fprintf(f, "<path d=\"M%.1f -5L%.1f 5M%.1f 5L%.1f -5\" "
				"stroke-width=\"2.5\" fill=\"none\" stroke=\"",
				x + 7, x + 17, x + 7, x + 17);
		else if (s->style == SVG_MARKERS_ONLY)
			fprintf(f, "<circle cx=\"%.1f\" cy=\"0\" r=\"3.5\" fill=\"", x + 12);
		else
			fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" y2=\"0\" "
				"stroke-width=\"2\"%s stroke=\"", x, x + 24, dash(s->style));
		html_escape(f, s->color);
		fprintf(f, "\"/><text x=\"%.1f\" y=\"0\" dy=\"0.35em\">", x + 30);
		html_escape(f, s->name);
		fputs("</text></g>\n", f);
		x += 30 + 6.5 * (double)strlen(s->name ? s->name : "") + 22;
	}
	fputs("</g>\n", f);
}

void svg_plot_write(FILE *f, const struct svg_plot *p)
{
	struct map mx = { .scale = p->x.scale }, my = { .scale = p->y.scale };
	struct extent ex, ey;
	unsigned drawn = 0;

	extents(p, &mx, &my, &ex, &ey);
	axis_map(&p->x, &ex, false, MARGIN_LEFT, MARGIN_LEFT + AREA_W, &mx);
	axis_map(&p->y, &ey, true, MARGIN_TOP + AREA_H, MARGIN_TOP, &my);

	fputs("<svg class=\"plot\" id=\"", f);
	html_escape(f, p->id);
	fprintf(f, "\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		"height=\"%d\" role=\"img\" aria-labelledby=\"", SVG_WIDTH, SVG_HEIGHT, SVG_WIDTH,
		SVG_HEIGHT);
	html_escape(f, p->id);
	fputs("-title\" font-family=\"sans-serif\" font-size=\"12\" fill=\"" AXIS_COLOR "\">\n"
	      "<title id=\"", f);
	html_escape(f, p->id);
	fputs("-title\">", f);
	html_escape(f, p->title);
	fputs("</title>\n<defs><clipPath id=\"", f);
	html_escape(f, p->id);
	fprintf(f, "-clip\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/></clipPath>"
		"</defs>\n", MARGIN_LEFT - 10, MARGIN_TOP - 10, AREA_W + 20, AREA_H + 20);
	fprintf(f, "<rect class=\"background\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n",
		SVG_WIDTH, SVG_HEIGHT);
	fprintf(f, "<text class=\"title\" x=\"%d\" y=\"24\" text-anchor=\"middle\" "
		"font-size=\"16\" font-weight=\"bold\">", SVG_WIDTH / 2);
	html_escape(f, p->title);
	fputs("</text>\n", f);
	axis_x(f, &p->x, &mx);
	axis_y(f, &p->y, &my);
	fputs("<g class=\"data\" clip-path=\"url(#", f);
	html_escape(f, p->id);
	fputs("-clip)\">\n", f);
	for (unsigned i = 0; i < p->n_hlines; i++)
		hline(f, &p->hline[i], &my);
	for (unsigned i = 0; i < p->n_series; i++)
		drawn += series(f, &p->series[i], &mx, &my);
	fputs("</g>\n", f);
	for (unsigned i = 0; i < p->n_vmarks; i++)
		vmark(f, &p->vmark[i], &mx, &my);
	if (!drawn)
		fprintf(f, "<text class=\"no-data\" x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
			"font-size=\"16\">no data</text>\n", MARGIN_LEFT + AREA_W / 2,
			MARGIN_TOP + AREA_H / 2);
	legend(f, p);
	fprintf(f, "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
		"fill=\"none\" stroke=\"" AXIS_COLOR "\"/>\n</svg>\n", MARGIN_LEFT, MARGIN_TOP,
		AREA_W, AREA_H);
}
