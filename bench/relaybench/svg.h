/*
 * svg.h — line plots as inline SVG for relaybench's HTML reports: two axes
 * (linear or logarithmic, ticks at round values, labels in the quantity's
 * unit), up to SVG_SERIES_MAX series drawn as polylines with optional point
 * markers, horizontal reference lines (a service level) and vertical marks
 * (a knee), a legend and a title. No script, no external asset: the SVG
 * stands alone and every colour is an attribute.
 *
 * The DOM a plot makes, for tests and for readers of the page:
 *
 *	<svg class="plot" id=ID>      <title>, <text class="title">
 *	  <g class="axis x|y">        <line class="tick">, <text class="tick">,
 *	                              <text class="axis-label">
 *	  <g class="series" data-name=NAME>  <polyline class="series-line"> and
 *	                              <circle class="point"> / <path class="miss">
 *	  <g class="hline CLS">       <line>, <text> (CLS e.g. "slo")
 *	  <g class="vmark CLS">       <line>, <circle>, <text> (CLS e.g. "knee")
 *	  <g class="legend">
 *
 * Every string is escaped (html.h). Points that cannot be drawn (NaN, or
 * not above 0 on a logarithmic axis) are left out.
 *
 * Threads: pure formatting on the caller's FILE; any thread.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_SVG_H
#define POSTERN_BENCH_RELAYBENCH_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum {
	SVG_SERIES_MAX = 6,
	SVG_MARKS_MAX = 4,		/* horizontal lines, vertical marks: each */
	SVG_TICKS_MAX = 16,
	SVG_WIDTH = 760,
	SVG_HEIGHT = 440,
};

enum svg_scale {
	SVG_LINEAR,
	SVG_LOG,
};

/* How tick values are labelled. */
enum svg_unit {
	SVG_UNIT_NUMBER,		/* 0.5, 20, 1500 */
	SVG_UNIT_RATE,			/* 500, 2k, 1.5M */
	SVG_UNIT_US,			/* value in µs: "50 µs", "2 ms", "1.5 s" */
	SVG_UNIT_MS,			/* value in ms: "500 µs", "20 ms", "2 s" */
	SVG_UNIT_FRACTION,		/* 0..1 shown as "90%" */
};

struct svg_axis {
	const char *label;
	enum svg_scale scale;
	enum svg_unit unit;
	/* Range: NaN to take it from the data (and marks), widened to round values. */
	double min, max;
	bool zero;			/* linear, automatic: include 0 */
};

enum svg_style {
	SVG_SOLID,
	SVG_DASHED,
	SVG_MARKERS_ONLY,		/* no line: points only */
};

struct svg_series {
	const char *name;		/* legend text */
	const char *color;		/* a CSS colour from the code, e.g. "#1f77b4" */
	const double *x, *y;
	unsigned n;
	enum svg_style style;
	bool markers;			/* a dot at each point */
	bool crosses;			/* markers are crosses (a miss) instead of dots */
};

struct svg_hline {
	double y;
	const char *label;
	const char *cls;		/* class of its <g>, e.g. "slo" */
	const char *color;
};

struct svg_vmark {
	double x, y;			/* y NaN: the line only */
	const char *label;
	const char *cls;		/* e.g. "knee" */
	const char *color;
};

struct svg_plot {
	const char *id;			/* element id, [a-z0-9-] */
	const char *title;
	struct svg_axis x, y;
	unsigned n_series, n_hlines, n_vmarks;
	struct svg_series series[SVG_SERIES_MAX];
	struct svg_hline hline[SVG_MARKS_MAX];
	struct svg_vmark vmark[SVG_MARKS_MAX];
};

/*
 * Widen [*@lo, *@hi] to round values (1, 2 or 5 times a power of ten on a
 * logarithmic axis; a multiple of a round step on a linear one). An empty
 * range (lo == hi) is opened around its value. Logarithmic: both > 0.
 */
void svg_nice_range(enum svg_scale s, double *lo, double *hi);

/*
 * Tick values from @lo to @hi (a range from svg_nice_range()): powers of ten
 * on a logarithmic axis when there are at least three, else 1-2-5 steps when
 * there are at least four, else 1..9 steps (at most nine, every other one
 * dropped until they fit); five or so round steps on a linear one.
 * @return how many were written to @out (at most @max).
 */
unsigned svg_ticks(enum svg_scale s, double lo, double hi, double *out, unsigned max);

/* The label of tick value @v in @unit, e.g. "200 µs", "2k", "90%". */
void svg_format(enum svg_unit unit, double v, char *buf, size_t cap);

/* Write the plot as one <svg> element on @f. */
void svg_plot_write(FILE *f, const struct svg_plot *p);

#endif /* POSTERN_BENCH_RELAYBENCH_SVG_H */
