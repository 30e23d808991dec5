/*
 * Loading a CSV into a typed float matrix. One streaming pass with the CSV
 * reader: numbers go through the exact fast parser (number.c), strings are
 * interned per column in an open-addressing hash. The matrix grows by
 * doubling (realloc of a large block moves pages, not bytes), so peak
 * memory stays near the final matrix.
 */
#include "core/data/table.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/csv.h"
#include "core/data/number.h"
#include "core/util/error.h"
#include "core/util/banned.h"

struct cat_index {
	size_t cap;  /* power of two */
	int32_t *slot; /* -1 empty, else index into cats */
};

static uint64_t hash_str(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static int cat_grow(struct cnai_col *c)
{
	struct cat_index *ix = c->index, n;
	size_t i;

	n.cap = ix->cap ? ix->cap * 2 : 64;
	if (!(n.slot = malloc(n.cap * sizeof(*n.slot))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	memset(n.slot, 0xff, n.cap * sizeof(*n.slot));
	for (i = 0; i < c->ncats; i++) {
		size_t h = hash_str(c->cats[i], strlen(c->cats[i])) &
			   (n.cap - 1);

		while (n.slot[h] >= 0)
			h = (h + 1) & (n.cap - 1);
		n.slot[h] = (int32_t)i;
	}
	free(ix->slot);
	*ix = n;
	return 0;
}

/* Finds or (add) adds the category; its index to *out, -1 if absent. */
static int cat_lookup(long *out, struct cnai_col *c, const char *s,
		      size_t len, int add)
{
	struct cat_index *ix = c->index;
	size_t h;
	char **g;
	int err;

	*out = -1;
	if (!ix) {
		if (!add)
			return 0;
		if (!(ix = c->index = calloc(1, sizeof(*ix))))
			return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	if (!ix->cap) {
		if (!add)
			return 0;
		if ((err = cat_grow(c)) < 0)
			return err;
	}
	h = hash_str(s, len) & (ix->cap - 1);
	while (ix->slot[h] >= 0) {
		const char *k = c->cats[ix->slot[h]];

		if (!strncmp(k, s, len) && !k[len]) {
			*out = ix->slot[h];
			return 0;
		}
		h = (h + 1) & (ix->cap - 1);
	}
	if (!add)
		return 0;
	if (c->ncats >= (1u << 24))
		return cnai_error_set(CNAI_EINVALID,
				      "column '%s': more than %u categories",
				      c->name, 1u << 24);
	if (!(g = realloc(c->cats, (c->ncats + 1) * sizeof(*g))) ||
	    !(c->cats = g, g[c->ncats] = strndup(s, len)))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	ix->slot[h] = (int32_t)c->ncats;
	*out = (long)c->ncats++;
	if (c->ncats * 2 > ix->cap)
		return cat_grow(c);
	return 0;
}

long cnai_dtable_cat(const struct cnai_dtable *t, size_t c, const char *s)
{
	long idx;

	if (cat_lookup(&idx, &t->cols[c], s, strlen(s), 0) < 0)
		return -1;
	return idx;
}

const char *cnai_dtable_str(const struct cnai_dtable *t, size_t r, size_t c)
{
	float v = t->values[r * t->ncols + c];

	if (isnan(v) || t->cols[c].type != CNAI_COL_STRING)
		return "";
	return t->cols[c].cats[(size_t)v];
}

long cnai_dtable_find(const struct cnai_dtable *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		if (!strcmp(t->cols[i].name, name))
			return (long)i;
	return -1;
}

void cnai_dtable_free(struct cnai_dtable *t)
{
	size_t i, j;

	if (!t)
		return;
	for (i = 0; i < t->ncols; i++) {
		struct cat_index *ix = t->cols[i].index;

		free(t->cols[i].name);
		for (j = 0; j < t->cols[i].ncats; j++)
			free(t->cols[i].cats[j]);
		free(t->cols[i].cats);
		if (ix)
			free(ix->slot);
		free(ix);
	}
	free(t->cols);
	free(t->values);
	free(t->lines);
	free(t->path);
	free(t);
}

char *cnai_dtable_schema(const struct cnai_dtable *t)
{
	json_t *a = json_array();
	char *s;
	size_t i;

	for (i = 0; a && i < t->ncols; i++)
		json_array_append_new(
			a, json_pack("{s:s, s:s}", "name", t->cols[i].name,
				     "type",
				     t->cols[i].type == CNAI_COL_STRING
					     ? "string"
					     : "number"));
	s = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	return s;
}

static int setup_columns(struct cnai_dtable *t,
			 const struct cnai_csv_record *rec,
			 const struct cnai_dtable_opts *o)
{
	size_t i, j;

	t->ncols = rec->nfields;
	if (!(t->cols = calloc(t->ncols, sizeof(*t->cols))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < t->ncols; i++) {
		struct cnai_col *c = &t->cols[i];

		if (!(c->name = strdup(rec->fields[i].ptr)))
			return cnai_error_set(CNAI_ERROR, "out of memory");
		c->type = o ? o->other : CNAI_COL_AUTO;
		for (j = 0; o && j < o->ntypes; j++)
			if (!strcmp(o->names[j], c->name))
				c->type = o->types[j];
		for (j = 0; j < i; j++)
			if (!strcmp(t->cols[j].name, c->name))
				return cnai_error_set(
					CNAI_EINVALID,
					"%s:%llu: column '%s' appears twice",
					t->path, (unsigned long long)rec->line,
					c->name);
	}
	return 0;
}

static int grow_rows(struct cnai_dtable *t, size_t *cap)
{
	size_t n = *cap ? *cap * 2 : 1024;
	float *v;
	uint64_t *l;

	if (n > SIZE_MAX / sizeof(float) / (t->ncols ? t->ncols : 1))
		return cnai_error_set(CNAI_ERROR, "%s: too large", t->path);
	if (!(v = realloc(t->values, n * t->ncols * sizeof(*v))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	t->values = v;
	if (!(l = realloc(t->lines, n * sizeof(*l))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	t->lines = l;
	*cap = n;
	return 0;
}

static inline int store_cell(struct cnai_dtable *t, struct cnai_col *c, float *dst,
		      const struct cnai_csv_field *f, uint64_t line)
{
	double d;
	long idx;
	int err;

	/* the common case first: a number in a number column */
	if (c->type == CNAI_COL_NUMBER && f->len &&
	    cnai_number_parse(&d, f->ptr, f->len) == 0) {
		*dst = (float)d;
		if (isfinite(*dst))
			return 0;
	}
	if (c->type == CNAI_COL_SKIP) {
		*dst = NAN;
		return 0;
	}
	if (!f->len) {
		c->nmissing++;
		*dst = NAN;
		return 0;
	}
	if (c->type == CNAI_COL_AUTO)
		c->type = cnai_number_parse(&d, f->ptr, f->len) == 0
				  ? CNAI_COL_NUMBER
				  : CNAI_COL_STRING;
	if (c->type == CNAI_COL_STRING) {
		if ((err = cat_lookup(&idx, c, f->ptr, f->len, 1)) < 0)
			return err;
		*dst = (float)idx;
		return 0;
	}
	if (cnai_number_parse(&d, f->ptr, f->len) < 0)
		return cnai_error_set(CNAI_EINVALID,
				      "%s:%llu: column '%s': '%.40s' is not a "
				      "number", t->path,
				      (unsigned long long)line, c->name,
				      f->ptr);
	*dst = (float)d;
	if (!isfinite(*dst))
		return cnai_error_set(CNAI_EINVALID,
				      "%s:%llu: column '%s': '%.40s' is not a "
				      "finite number", t->path,
				      (unsigned long long)line, c->name,
				      f->ptr);
	return 0;
}

int cnai_dtable_load(struct cnai_dtable **out, const char *path,
		     const struct cnai_dtable_opts *opts)
{
	struct cnai_csv_reader *r = NULL;
	const struct cnai_csv_record *rec;
	struct cnai_dtable *t;
	size_t cap = 0, i;
	int err, rc;

	*out = NULL;
	if (!(t = calloc(1, sizeof(*t))) || !(t->path = strdup(path))) {
		free(t);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	if ((err = cnai_csv_open(&r, path,
				 opts && opts->delim ? opts->delim : ',')) < 0)
		goto cleanup;
	if ((rc = cnai_csv_next(r, &rec, 0)) <= 0) {
		err = rc < 0 ? rc
			     : cnai_error_set(CNAI_EINVALID,
					      "%s: empty file, expected a "
					      "header line", path);
		goto cleanup;
	}
	if ((err = setup_columns(t, rec, opts)) < 0)
		goto cleanup;
	while ((rc = cnai_csv_next(r, &rec, t->ncols)) > 0) {
		float *row;

		if (t->nrows == cap && (err = grow_rows(t, &cap)) < 0)
			goto cleanup;
		row = t->values + t->nrows * t->ncols;
		t->lines[t->nrows] = rec->line;
		for (i = 0; i < t->ncols; i++)
			if ((err = store_cell(t, &t->cols[i], &row[i],
					      &rec->fields[i], rec->line)) < 0)
				goto cleanup;
		t->nrows++;
	}
	if ((err = rc) < 0)
		goto cleanup;
	if (!t->nrows) {
		err = cnai_error_set(CNAI_EINVALID, "%s: no data rows", path);
		goto cleanup;
	}
	for (i = 0; i < t->ncols; i++) /* all-empty column */
		if (t->cols[i].type == CNAI_COL_AUTO)
			t->cols[i].type = CNAI_COL_NUMBER;
cleanup:
	cnai_csv_close(r);
	if (err < 0)
		cnai_dtable_free(t);
	else
		*out = t;
	return err;
}
