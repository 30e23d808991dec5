/*
 * Data drift between a reference and a current CSV file: both files are
 * read in one streaming pass each (in parallel), columns are typed the
 * way Evidently types them, each column gets a test (Evidently's automatic
 * choice unless one is named), and the data set drifts when the share of
 * drifted columns reaches `drift_share`. The result is a report that
 * renders as JSON, Prometheus text exposition or a self-contained HTML
 * page (core/drift/render.c).
 */
#ifndef CNAI_CORE_DRIFT_DRIFT_H
#define CNAI_CORE_DRIFT_DRIFT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/util/buf.h"
#include "core/util/hash.h"

enum cnai_drift_method {
	CNAI_DRIFT_AUTO = 0,
	CNAI_DRIFT_KS,          /* two-sample Kolmogorov-Smirnov, p-value */
	CNAI_DRIFT_CHISQUARE,   /* Evidently's chi-square goodness of fit */
	CNAI_DRIFT_CHI2,        /* chi-square test of the 2 x k table */
	CNAI_DRIFT_Z,           /* Z-test for two proportions */
	CNAI_DRIFT_PSI,         /* population stability index */
	CNAI_DRIFT_JS,          /* Jensen-Shannon distance */
	CNAI_DRIFT_WASSERSTEIN, /* Wasserstein distance / std(reference) */
	CNAI_DRIFT_KL,          /* Kullback-Leibler divergence */
	CNAI_DRIFT_HELLINGER,   /* Hellinger distance */
	CNAI_DRIFT_ANDERSON,    /* Anderson-Darling k-sample, p-value */
	CNAI_DRIFT_CVM,         /* Cramer-von Mises, p-value */
	CNAI_DRIFT_ENERGY,      /* energy distance */
	CNAI_DRIFT_NMETHODS
};

enum cnai_drift_type { CNAI_DRIFT_NUMERICAL, CNAI_DRIFT_CATEGORICAL };

/* The method named `name` ("ks", "psi", ...; Evidently's names and a few
 * aliases); CNAI_EUSAGE listing the names when unknown. */
int cnai_drift_method_parse(enum cnai_drift_method *out, const char *name);
const char *cnai_drift_method_name(enum cnai_drift_method m);
/* Evidently's default threshold for a method (0.05 or 0.1). */
double cnai_drift_method_threshold(enum cnai_drift_method m);
/* 1 when the score is a p-value (small = drift). */
int cnai_drift_method_is_pvalue(enum cnai_drift_method m);

struct cnai_drift_column_method {
	const char *column;
	enum cnai_drift_method method;
};

/*
 * Parses "<column>=<method>" (--column-method), cutting `arg` at the '=':
 * out->column then points into `arg`. CNAI_EUSAGE when it is not of that
 * form or the method is unknown.
 */
int cnai_drift_column_method_parse(struct cnai_drift_column_method *out,
				   char *arg);

struct cnai_drift_options {
	const char *ref_path, *cur_path;   /* "-" for stdin (one side) */
	const char *const *columns;        /* only these (NULL: all) */
	size_t ncolumns;
	const char *const *ignore;
	size_t nignore;
	const char *const *categorical;    /* forced categorical */
	size_t ncategorical;
	const char *const *numerical;      /* forced numerical */
	size_t nnumerical;
	const struct cnai_drift_column_method *column_methods;
	size_t ncolumn_methods;
	enum cnai_drift_method method;     /* for every column */
	double threshold;                  /* NaN: each method's default */
	double drift_share;                /* 0.5 */
	uint64_t exact_limit;              /* values per column kept exactly */
	size_t max_categories;             /* categories kept by name */
	int threads;                       /* 0: all cores */
};

void cnai_drift_options_init(struct cnai_drift_options *o);

struct cnai_drift_input {
	char *path; /* as given; "-" shown as "<stdin>" */
	char digest[CNAI_DIGEST_LEN];
	uint64_t size;
	int64_t rows, columns;
	char *schema; /* JSON [{"name":..,"type":"number"|"string"}] */
};

/* One bar of a column's chart: a bin or a category and its shares. */
struct cnai_drift_bar {
	char *label;
	double lo, hi; /* numeric bins */
	double ref, cur;
};

struct cnai_drift_column {
	char *name;
	enum cnai_drift_type type;
	enum cnai_drift_method method;
	int evaluated;         /* 0: no test ran (see note) */
	char *note;            /* why not evaluated, or NULL */
	const char *stat_name; /* what `statistic` is: "ks_d", "chi2", ... */
	double statistic;
	double p_value;        /* NaN for distances */
	double score;          /* p-value or distance compared to threshold */
	double threshold;
	int drifted;
	const char *ks_mode;   /* "exact", "asymp" or NULL */
	int64_t ref_count, ref_missing, cur_count, cur_missing;
	int64_t n_unique;      /* distinct values, both sides together */
	int sketch;            /* 1: approximated by the quantile sketch */
	double rank_error;     /* then: bound on the CDFs' error (0 exact) */
	double ref_mean, cur_mean, ref_std, cur_std; /* numerical only */
	int numeric_bars;      /* bars are bins of a numerical range */
	struct cnai_drift_bar *bars;
	size_t nbars;
};

struct cnai_drift_report {
	struct cnai_drift_input ref, cur;
	struct cnai_drift_column *cols;
	size_t ncols;
	size_t evaluated, drifted;
	double share, drift_share;
	int dataset_drift;
	uint64_t exact_limit;
};

/*
 * Reads both files and tests every selected column. Input errors are
 * CNAI_EINVALID naming file, line and column (a missing column names the
 * file it is missing from); CNAI_EUSAGE for options that do not fit the
 * data (a method for the wrong column type, an unknown column).
 */
int cnai_drift_run(struct cnai_drift_report **out,
		   const struct cnai_drift_options *o);
void cnai_drift_report_free(struct cnai_drift_report *r);
/*
 * Moves the columns of `from` to the end of `r` (`from` keeps none; the
 * caller still frees it) and counts the data set's verdict again over all
 * of `r`'s columns with `r`'s drift share. CNAI_ERROR when out of memory,
 * `r` unchanged.
 */
int cnai_drift_report_merge(struct cnai_drift_report *r,
			    struct cnai_drift_report *from);

/* The report as JSON (the fields cnai-drift(1) documents). */
json_t *cnai_drift_report_json(const struct cnai_drift_report *r);
enum cnai_drift_format {
	CNAI_DRIFT_FORMAT_TEXT,
	CNAI_DRIFT_FORMAT_JSON,
	CNAI_DRIFT_FORMAT_HTML,
	CNAI_DRIFT_FORMAT_PROMETHEUS,
};

/* The format named `name` ("text", "json", "html", "prometheus");
 * CNAI_EUSAGE for --format otherwise. */
int cnai_drift_format_parse(enum cnai_drift_format *out, const char *name);
/* The report in format `f`, appended to `out` (JSON indented by two, with
 * a final newline). CNAI_ERROR when out of memory. */
int cnai_drift_render(struct cnai_buf *out, enum cnai_drift_format f,
		      const struct cnai_drift_report *r);
/* The plain-text table of cnai-drift(1): both inputs, one row per column
 * (most drifted first), then the verdict line. */
int cnai_drift_render_text(struct cnai_buf *out,
			   const struct cnai_drift_report *r);
/* The verdict line alone ("2 of 5 columns drifted (share 0.4); data set
 * drift: no (drift share 0.5)"), ending in a newline. */
int cnai_drift_render_verdict(struct cnai_buf *out,
			      const struct cnai_drift_report *r);
/* Prometheus text exposition (node_exporter textfile collector). */
int cnai_drift_render_prometheus(struct cnai_buf *out,
				 const struct cnai_drift_report *r);
/* One self-contained HTML page with inline SVG charts. */
int cnai_drift_render_html(struct cnai_buf *out,
			   const struct cnai_drift_report *r);
/* The run metric key "drift.<col>.<stat>" in `out` (cut to `size`), the
 * characters MLflow does not take in a key replaced by '_'. */
void cnai_drift_metric_key(char *out, size_t size, const char *col,
			   const char *stat);
/* How far past its threshold a column is (> 1: drifted), for sorting. */
double cnai_drift_severity(const struct cnai_drift_column *c);
/* The report's column indexes, most drifted first (a stable sort by
 * severity), as the text and HTML reports list them; the caller frees.
 * NULL when out of memory. */
size_t *cnai_drift_severity_order(const struct cnai_drift_report *r);

#endif
