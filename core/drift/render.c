/*
 * Drift reports as a text table, JSON, Prometheus text exposition and one
 * self-contained HTML page. The HTML page needs nothing from the network:
 * the styles are inline and each chart is an inline SVG drawn here.
 */
#include "core/drift/drift.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/drift/read.h"
#include "core/util/error.h"
#include "core/util/banned.h"

/* ---- text ----------------------------------------------------------- */

static void text_num(char *out, size_t size, double v)
{
	if (isnan(v))
		snprintf(out, size, "-");
	else if (isinf(v))
		snprintf(out, size, v > 0 ? "inf" : "-inf");
	else
		snprintf(out, size, "%.4g", v);
}

int cnai_drift_render_verdict(struct cnai_buf *b,
			      const struct cnai_drift_report *r)
{
	char share[40], ds[40];

	snprintf(share, sizeof(share), "%.4g", r->share);
	snprintf(ds, sizeof(ds), "%.4g", r->drift_share);
	cnai_buf_addf(b, "%zu of %zu columns drifted (share %s); data set "
		      "drift: %s (drift share %s)\n", r->drifted, r->evaluated,
		      share, r->dataset_drift ? "yes" : "no", ds);
	return cnai_buf_oom(b);
}

enum { TEXT_NC = 8 };

/* One row of the table: its cells, 64 bytes each (longer names are cut,
 * as they always were). */
static void text_row(char (*row)[64], const struct cnai_drift_column *c)
{
	snprintf(row[0], 64, "%s", c->name);
	snprintf(row[1], 64, "%s",
		 c->type == CNAI_DRIFT_NUMERICAL ? "numerical" : "categorical");
	snprintf(row[2], 64, "%s",
		 c->evaluated ? cnai_drift_method_name(c->method) : "-");
	text_num(row[3], 64, c->statistic);
	text_num(row[4], 64, c->p_value);
	text_num(row[5], 64, c->score);
	text_num(row[6], 64, c->evaluated ? c->threshold : NAN);
	snprintf(row[7], 64, "%s",
		 !c->evaluated ? c->note : c->drifted ? "DRIFT" : "no");
}

int cnai_drift_render_text(struct cnai_buf *b,
			   const struct cnai_drift_report *r)
{
	static const char *const head[TEXT_NC] = { "column",  "type",
						   "method",  "statistic",
						   "p-value", "score",
						   "threshold", "drift" };
	size_t *order = cnai_drift_severity_order(r), w[TEXT_NC], i, k;
	char (*cells)[TEXT_NC][64];

	if (!order)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if (!(cells = calloc(r->ncols + 1, sizeof(*cells)))) {
		free(order);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	for (k = 0; k < TEXT_NC; k++) {
		snprintf(cells[0][k], 64, "%s", head[k]);
		w[k] = strlen(head[k]);
	}
	for (i = 0; i < r->ncols; i++) {
		text_row(cells[i + 1], &r->cols[order[i]]);
		for (k = 0; k < TEXT_NC; k++)
			if (strlen(cells[i + 1][k]) > w[k])
				w[k] = strlen(cells[i + 1][k]);
	}
	cnai_buf_addf(b, "reference  %s  %lld rows\ncurrent    %s  %lld rows\n\n",
		      r->ref.path, (long long)r->ref.rows, r->cur.path,
		      (long long)r->cur.rows);
	for (i = 0; i <= r->ncols; i++) {
		for (k = 0; k + 1 < TEXT_NC; k++)
			cnai_buf_addf(b, "%-*s  ", (int)w[k], cells[i][k]);
		cnai_buf_addf(b, "%s\n", cells[i][TEXT_NC - 1]);
	}
	cnai_buf_addch(b, '\n');
	free(cells);
	free(order);
	return cnai_drift_render_verdict(b, r);
}

/* ---- JSON ----------------------------------------------------------- */

/* JSON has no NaN or infinities: they become strings, as elsewhere in
 * cnai; `nan_null` makes NaN a null (a p-value a test does not have). */
static json_t *jnum(double v, int nan_null)
{
	if (isnan(v))
		return nan_null ? json_null() : json_string("NaN");
	if (isinf(v))
		return json_string(v > 0 ? "Infinity" : "-Infinity");
	return json_real(v);
}

static json_t *input_json(const struct cnai_drift_input *in)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:I}", "path", in->path,
			 "digest", in->digest, "size", (json_int_t)in->size,
			 "rows", (json_int_t)in->rows, "columns",
			 (json_int_t)in->columns);
}

static json_t *side_json(int64_t count, int64_t missing, double mean,
			 double std, int numerical)
{
	int64_t all = count + missing;
	json_t *o = json_pack("{s:I, s:I, s:o}", "count", (json_int_t)count,
			      "missing", (json_int_t)missing, "missing_share",
			      jnum(all ? (double)missing / (double)all : 0, 0));

	if (numerical) {
		json_object_set_new(o, "mean", jnum(mean, 1));
		json_object_set_new(o, "std", jnum(std, 1));
	}
	return o;
}

json_t *cnai_drift_report_json(const struct cnai_drift_report *r)
{
	json_t *cols = json_array();
	size_t i, b;

	for (i = 0; i < r->ncols; i++) {
		const struct cnai_drift_column *c = &r->cols[i];
		int num = c->type == CNAI_DRIFT_NUMERICAL;
		json_t *bars = json_array(), *o;

		for (b = 0; b < c->nbars; b++) {
			const struct cnai_drift_bar *bar = &c->bars[b];
			json_t *jb = c->numeric_bars
					     ? json_pack("{s:o, s:o}", "lo",
							 jnum(bar->lo, 0), "hi",
							 jnum(bar->hi, 0))
					     : json_pack("{s:s}", "label",
							 bar->label);

			json_object_set_new(jb, "reference", jnum(bar->ref, 0));
			json_object_set_new(jb, "current", jnum(bar->cur, 0));
			json_array_append_new(bars, jb);
		}
		o = json_pack(
			"{s:s, s:s, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
			"s:b, s:o, s:o, s:I, s:{s:s, s:o}}",
			"name", c->name, "type",
			num ? "numerical" : "categorical", "evaluated",
			c->evaluated, "note",
			c->note ? json_string(c->note) : json_null(), "method",
			c->evaluated ? json_string(cnai_drift_method_name(
					       c->method))
				     : json_null(),
			"statistic_name",
			c->stat_name ? json_string(c->stat_name) : json_null(),
			"statistic", jnum(c->statistic, 1), "p_value",
			jnum(c->p_value, 1), "score", jnum(c->score, 1),
			"threshold", c->evaluated ? jnum(c->threshold, 1)
						  : json_null(),
			"drifted", c->evaluated && c->drifted, "reference",
			side_json(c->ref_count, c->ref_missing, c->ref_mean,
				  c->ref_std, num),
			"current",
			side_json(c->cur_count, c->cur_missing, c->cur_mean,
				  c->cur_std, num),
			"n_unique", (json_int_t)c->n_unique, "chart", "kind",
			c->numeric_bars ? "histogram" : "categories", "bars",
			bars);
		if (c->ks_mode)
			json_object_set_new(o, "ks_mode",
					    json_string(c->ks_mode));
		if (c->n_unique < 0)
			json_object_set_new(o, "n_unique", json_null());
		json_object_set_new(o, "sketch", json_boolean(c->sketch));
		json_object_set_new(o, "rank_error_bound",
				    jnum(c->rank_error, 0));
		json_array_append_new(cols, o);
	}
	return json_pack("{s:o, s:o, s:f, s:I, s:I, s:o, s:b, s:I, s:o}",
			 "reference", input_json(&r->ref), "current",
			 input_json(&r->cur), "drift_share", r->drift_share,
			 "columns_evaluated", (json_int_t)r->evaluated,
			 "columns_drifted", (json_int_t)r->drifted,
			 "share_drifted", jnum(r->share, 0), "dataset_drift",
			 r->dataset_drift, "exact_limit",
			 (json_int_t)r->exact_limit, "columns", cols);
}

/* ---- Prometheus ------------------------------------------------------ */

static void prom_value(struct cnai_buf *b, double v)
{
	char s[40];

	if (isnan(v))
		cnai_buf_adds(b, "NaN");
	else if (isinf(v))
		cnai_buf_adds(b, v > 0 ? "+Inf" : "-Inf");
	else {
		cnai_drift__format(s, sizeof(s), v);
		cnai_buf_adds(b, s);
	}
}

static void prom_label(struct cnai_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			cnai_buf_adds(b, "\\\\");
		else if (*s == '"')
			cnai_buf_adds(b, "\\\"");
		else if (*s == '\n')
			cnai_buf_adds(b, "\\n");
		else
			cnai_buf_addch(b, *s);
	}
}

static void prom_family(struct cnai_buf *b, const struct cnai_drift_report *r,
			const char *name, const char *help, int what)
{
	size_t i;

	cnai_buf_addf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	for (i = 0; i < r->ncols; i++) {
		const struct cnai_drift_column *c = &r->cols[i];

		if (!c->evaluated)
			continue;
		cnai_buf_addf(b, "%s{column=\"", name);
		prom_label(b, c->name);
		cnai_buf_addf(b, "\",method=\"%s\"} ",
			      cnai_drift_method_name(c->method));
		prom_value(b, what == 0   ? c->score
			      : what == 1 ? c->threshold
					  : (double)c->drifted);
		cnai_buf_addch(b, '\n');
	}
}

int cnai_drift_render_prometheus(struct cnai_buf *b,
				 const struct cnai_drift_report *r)
{
	prom_family(b, r, "cnai_drift_score",
		    "Drift score of a column: the p-value or distance its "
		    "method compares with the threshold.", 0);
	prom_family(b, r, "cnai_drift_threshold",
		    "Threshold of the column's drift test.", 1);
	prom_family(b, r, "cnai_drift_column_drifted",
		    "1 when the column drifted, else 0.", 2);
	cnai_buf_adds(b, "# HELP cnai_drift_detected 1 when the data set "
			 "drifted (share of drifted columns >= drift share), "
			 "else 0.\n# TYPE cnai_drift_detected gauge\n");
	cnai_buf_addf(b, "cnai_drift_detected %d\n", r->dataset_drift);
	cnai_buf_adds(b, "# HELP cnai_drift_share Share of the evaluated "
			 "columns that drifted.\n# TYPE cnai_drift_share "
			 "gauge\ncnai_drift_share ");
	prom_value(b, r->share);
	cnai_buf_adds(b, "\n# HELP cnai_drift_columns Columns evaluated and "
			 "drifted.\n# TYPE cnai_drift_columns gauge\n");
	cnai_buf_addf(b, "cnai_drift_columns{state=\"evaluated\"} %zu\n",
		      r->evaluated);
	cnai_buf_addf(b, "cnai_drift_columns{state=\"drifted\"} %zu\n",
		      r->drifted);
	return cnai_buf_oom(b);
}

/* ---- HTML ------------------------------------------------------------ */

static void html_text(struct cnai_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			cnai_buf_adds(b, "&amp;");
			break;
		case '<':
			cnai_buf_adds(b, "&lt;");
			break;
		case '>':
			cnai_buf_adds(b, "&gt;");
			break;
		case '"':
			cnai_buf_adds(b, "&quot;");
			break;
		case '\'':
			cnai_buf_adds(b, "&#39;");
			break;
		default:
			cnai_buf_addch(b, *s);
		}
	}
}

static void fmt_num(char *out, size_t size, double v)
{
	if (isnan(v))
		snprintf(out, size, "-");
	else
		snprintf(out, size, "%.4g", v);
}

static void svg_chart(struct cnai_buf *b, const struct cnai_drift_column *c)
{
	const double W = 640, H = 220, L = 48, R = 8, T = 10, B = 60;
	double max = 0, slot, bw;
	char s1[40], s2[40];
	size_t i;

	if (!c->nbars)
		return;
	for (i = 0; i < c->nbars; i++)
		max = fmax(max, fmax(c->bars[i].ref, c->bars[i].cur));
	if (max <= 0)
		max = 1;
	slot = (W - L - R) / (double)c->nbars;
	bw = slot * 0.4;
	cnai_buf_addf(b, "<svg "
		      "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		      "role=\"img\">\n", W, H, W, H);
	cnai_buf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
		      "y2=\"%.1f\" stroke=\"#555\"/>\n", L, H - B, W - R, H - B);
	cnai_buf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
		      "y2=\"%.1f\" stroke=\"#555\"/>\n", L, T, L, H - B);
	cnai_buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" "
		      "text-anchor=\"end\">%.3g</text>\n", L - 4, T + 8, max);
	cnai_buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" "
		      "text-anchor=\"end\">0</text>\n", L - 4, H - B);
	for (i = 0; i < c->nbars; i++) {
		const struct cnai_drift_bar *bar = &c->bars[i];
		double x = L + slot * (double)i + slot * 0.1,
		       hr = (H - B - T) * bar->ref / max,
		       hc = (H - B - T) * bar->cur / max;

		cnai_buf_addf(b, "<rect class=\"ref\" x=\"%.1f\" y=\"%.1f\" "
			      "width=\"%.1f\" height=\"%.1f\"><title>reference "
			      "%.4g</title></rect>\n", x, H - B - hr, bw, hr,
			      bar->ref);
		cnai_buf_addf(b, "<rect class=\"cur\" x=\"%.1f\" y=\"%.1f\" "
			      "width=\"%.1f\" height=\"%.1f\"><title>current "
			      "%.4g</title></rect>\n", x + bw, H - B - hc, bw,
			      hc, bar->cur);
		if (!c->numeric_bars) {
			char lab[24];

			snprintf(lab, sizeof(lab), "%.16s", bar->label);
			cnai_buf_addf(b, "<text font-size=\"10\" "
				      "transform=\"translate(%.1f,%.1f) "
				      "rotate(-40)\" text-anchor=\"end\">",
				      x + bw, H - B + 12);
			html_text(b, lab);
			cnai_buf_adds(b, "</text>\n");
		}
	}
	if (c->numeric_bars) {
		fmt_num(s1, sizeof(s1), c->bars[0].lo);
		fmt_num(s2, sizeof(s2), c->bars[c->nbars - 1].hi);
		cnai_buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">"
			      "%s</text>\n", L, H - B + 14, s1);
		cnai_buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" "
			      "text-anchor=\"end\">%s</text>\n", W - R,
			      H - B + 14, s2);
	}
	cnai_buf_adds(b, "</svg>\n");
}

int cnai_drift_render_html(struct cnai_buf *b,
			   const struct cnai_drift_report *r)
{
	/* most drifted first, as in the text report */
	size_t i, *order = cnai_drift_severity_order(r);
	char s1[40], s2[40], s3[40];

	if (!order)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	cnai_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
			 "<meta charset=\"utf-8\">\n<title>cnai drift report"
			 "</title>\n<style>\n"
			 "body{font-family:sans-serif;margin:2em;color:#222}\n"
			 "table{border-collapse:collapse}\n"
			 "td,th{padding:4px 10px;border-bottom:1px solid #ddd;"
			 "text-align:left}\n"
			 "td.n{text-align:right;font-variant-numeric:"
			 "tabular-nums}\n"
			 ".drift{color:#b00020;font-weight:bold}\n"
			 ".ok{color:#1b5e20}\n"
			 "rect.ref{fill:#4878a8}rect.cur{fill:#e08a2c}\n"
			 ".key span{display:inline-block;width:12px;"
			 "height:12px;margin:0 4px 0 12px}\n"
			 "</style>\n</head>\n<body>\n<h1>Data drift report"
			 "</h1>\n<p>Reference: <code>");
	html_text(b, r->ref.path);
	cnai_buf_addf(b, "</code> (%lld rows)<br>Current: <code>",
		      (long long)r->ref.rows);
	html_text(b, r->cur.path);
	cnai_buf_addf(b, "</code> (%lld rows)</p>\n", (long long)r->cur.rows);
	snprintf(s1, sizeof(s1), "%.4g", r->share);
	snprintf(s2, sizeof(s2), "%.4g", r->drift_share);
	cnai_buf_addf(b, "<p class=\"summary %s\">%s: %zu of %zu columns "
		      "drifted (share %s; data set drift when &ge; %s)</p>\n",
		      r->dataset_drift ? "drift" : "ok",
		      r->dataset_drift ? "Data set drift detected"
				       : "No data set drift",
		      r->drifted, r->evaluated, s1, s2);
	cnai_buf_adds(b, "<table>\n<tr><th>column</th><th>type</th><th>method"
			 "</th><th>score</th><th>threshold</th><th>drift</th>"
			 "<th>missing (ref / cur)</th></tr>\n");
	for (i = 0; i < r->ncols; i++) {
		const struct cnai_drift_column *c = &r->cols[order[i]];
		int64_t ra = c->ref_count + c->ref_missing,
			ca = c->cur_count + c->cur_missing;

		cnai_buf_adds(b, "<tr><td><a href=\"#col-");
		cnai_buf_addf(b, "%zu\">", order[i]);
		html_text(b, c->name);
		fmt_num(s1, sizeof(s1), c->score);
		fmt_num(s2, sizeof(s2), c->evaluated ? c->threshold : NAN);
		cnai_buf_addf(b, "</a></td><td>%s</td><td>%s</td>"
			      "<td class=\"n\">%s</td><td class=\"n\">%s</td>"
			      "<td class=\"%s\">%s</td>",
			      c->type == CNAI_DRIFT_NUMERICAL ? "numerical"
							      : "categorical",
			      c->evaluated ? cnai_drift_method_name(c->method)
					   : "-",
			      s1, s2,
			      c->evaluated && c->drifted ? "drift" : "ok",
			      !c->evaluated ? "not tested"
			      : c->drifted  ? "DRIFT"
					    : "no");
		snprintf(s1, sizeof(s1), "%.1f%%",
			 ra ? 100.0 * (double)c->ref_missing / (double)ra : 0);
		snprintf(s3, sizeof(s3), "%.1f%%",
			 ca ? 100.0 * (double)c->cur_missing / (double)ca : 0);
		cnai_buf_addf(b, "<td class=\"n\">%s / %s</td></tr>\n", s1, s3);
	}
	cnai_buf_adds(b, "</table>\n<p class=\"key\"><span style=\"background:"
			 "#4878a8\"></span>reference<span style=\"background:"
			 "#e08a2c\"></span>current</p>\n");
	for (i = 0; i < r->ncols; i++) {
		const struct cnai_drift_column *c = &r->cols[order[i]];

		cnai_buf_addf(b, "<h2 id=\"col-%zu\">", order[i]);
		html_text(b, c->name);
		cnai_buf_adds(b, "</h2>\n");
		if (c->note) {
			cnai_buf_adds(b, "<p>");
			html_text(b, c->note);
			cnai_buf_adds(b, "</p>\n");
			continue;
		}
		fmt_num(s1, sizeof(s1), c->statistic);
		fmt_num(s2, sizeof(s2), c->p_value);
		cnai_buf_addf(b, "<p>%s = %s", c->stat_name, s1);
		if (!isnan(c->p_value))
			cnai_buf_addf(b, ", p-value %s", s2);
		cnai_buf_adds(b, "</p>\n");
		svg_chart(b, c);
	}
	cnai_buf_adds(b, "</body>\n</html>\n");
	free(order);
	return cnai_buf_oom(b);
}

int cnai_drift_format_parse(enum cnai_drift_format *out, const char *name)
{
	static const char *const names[] = { "text", "json", "html",
					     "prometheus" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (!strcmp(name, names[i])) {
			*out = (enum cnai_drift_format)i;
			return 0;
		}
	return cnai_error_set(CNAI_EUSAGE, "--format: unknown format '%s' "
			      "(text, json, html, prometheus)", name);
}

static int render_json(struct cnai_buf *b, const struct cnai_drift_report *r)
{
	json_t *j = cnai_drift_report_json(r);
	char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;

	json_decref(j);
	if (!text)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	cnai_buf_adds(b, text);
	cnai_buf_addch(b, '\n');
	free(text);
	return cnai_buf_oom(b);
}

int cnai_drift_render(struct cnai_buf *out, enum cnai_drift_format f,
		      const struct cnai_drift_report *r)
{
	switch (f) {
	case CNAI_DRIFT_FORMAT_TEXT:
		return cnai_drift_render_text(out, r);
	case CNAI_DRIFT_FORMAT_JSON:
		return render_json(out, r);
	case CNAI_DRIFT_FORMAT_HTML:
		return cnai_drift_render_html(out, r);
	case CNAI_DRIFT_FORMAT_PROMETHEUS:
		return cnai_drift_render_prometheus(out, r);
	}
	CNAI_BUG("unknown drift format %d", (int)f);
}
