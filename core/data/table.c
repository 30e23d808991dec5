/*
 * Loading a CSV into a typed float matrix. One streaming pass with the CSV
 * reader: numbers go through the exact fast parser (number.c), strings are
 * interned per column in an open-addressing hash. The matrix grows by
 * doubling (realloc of a large block moves pages, not bytes), so peak
 * memory stays near the final matrix.
 */
#include "core/data/table.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/data/csv.h"
#include "core/data/number.h"
#include "core/util/error.h"
#include "core/util/banned.h"

/*
 * An open-addressing hash of strings kept elsewhere (a column's
 * categories, the table's column names): slots hold indexes, `key` gives
 * the string of an index. Each index draws its own hash seed, so a file
 * made to collide cannot turn lookups quadratic.
 */
struct str_index {
	size_t cap;    /* power of two */
	size_t n;
	int32_t *slot; /* -1 empty, else an index for key() */
	uint64_t seed;
};

typedef const char *(*key_fn)(const void *owner, size_t i);

/* FNV-1a from a seeded start, then a full mix (MurmurHash3's fmix64) so
 * the low bits a table uses depend on every byte and on the seed. */
static uint64_t hash_str(uint64_t seed, const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull ^ seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static int index_rehash(struct str_index *ix, size_t cap, key_fn key,
			const void *owner)
{
	int32_t *slot = malloc(cap * sizeof(*slot));
	size_t i;

	if (!slot)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	memset(slot, 0xff, cap * sizeof(*slot));
	for (i = 0; i < ix->n; i++) {
		const char *k = key(owner, i);
		size_t h = hash_str(ix->seed, k, strlen(k)) & (cap - 1);

		while (slot[h] >= 0)
			h = (h + 1) & (cap - 1);
		slot[h] = (int32_t)i;
	}
	free(ix->slot);
	ix->slot = slot;
	ix->cap = cap;
	return 0;
}

/* A new, empty index in *out. */
static int index_new(struct str_index **out)
{
	struct str_index *ix = calloc(1, sizeof(*ix));

	if (!(*out = ix))
		return cnai_error_set(CNAI_ERROR, "out of memory");
#ifndef CNAI_FUZZING /* a fuzzer wants runs that repeat */
	if (getentropy(&ix->seed, sizeof(ix->seed)) < 0)
		ix->seed = (uint64_t)(uintptr_t)ix;
#endif
	return index_rehash(ix, 64, NULL, NULL);
}

static void index_free(struct str_index *ix)
{
	if (ix)
		free(ix->slot);
	free(ix);
}

/* The index of s[0, len) in *out (-1 if absent); *at gets the slot where
 * it is or would go. */
static void index_find(long *out, size_t *at, const struct str_index *ix,
		       key_fn key, const void *owner, const char *s,
		       size_t len)
{
	size_t h = hash_str(ix->seed, s, len) & (ix->cap - 1);

	*out = -1;
	for (; ix->slot[h] >= 0; h = (h + 1) & (ix->cap - 1)) {
		const char *k = key(owner, (size_t)ix->slot[h]);

		/* s may hold a NUL (a cell "a\0b"), which strncmp would
		 * take for its end and then read past a shorter key */
		if (strnlen(k, len + 1) == len && !memcmp(k, s, len)) {
			*out = ix->slot[h];
			break;
		}
	}
	*at = h;
}

/* Records that key(owner, ix->n) sits in slot `at` (from index_find). */
static int index_add(struct str_index *ix, size_t at, key_fn key,
		     const void *owner)
{
	ix->slot[at] = (int32_t)ix->n++;
	return ix->n * 2 > ix->cap
		       ? index_rehash(ix, ix->cap * 2, key, owner)
		       : 0;
}

static const char *cat_key(const void *owner, size_t i)
{
	return ((const struct cnai_col *)owner)->cats[i];
}

static const char *name_key(const void *owner, size_t i)
{
	return ((const struct cnai_dtable *)owner)->cols[i].name;
}

/* Finds or (add) adds the category; its index to *out, -1 if absent. */
static int cat_lookup(long *out, struct cnai_col *c, const char *s,
		      size_t len, int add)
{
	struct str_index *ix = c->index;
	size_t at;
	char **g;
	int err;

	*out = -1;
	if (!ix) {
		if (!add)
			return 0;
		if ((err = index_new(&ix)) < 0)
			return err;
		c->index = ix;
	}
	index_find(out, &at, ix, cat_key, c, s, len);
	if (*out >= 0 || !add)
		return 0;
	if (c->ncats >= (1u << 24))
		return cnai_error_set(CNAI_EINVALID,
				      "column '%s': more than %u categories",
				      c->name, 1u << 24);
	if (!(g = realloc(c->cats, (c->ncats + 1) * sizeof(*g))) ||
	    !(c->cats = g, g[c->ncats] = strndup(s, len)))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	*out = (long)c->ncats++;
	return index_add(ix, at, cat_key, c);
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
	long i = -1;
	size_t at;

	if (t->names)
		index_find(&i, &at, t->names, name_key, t, name, strlen(name));
	return i;
}

void cnai_dtable_free(struct cnai_dtable *t)
{
	size_t i, j;

	if (!t)
		return;
	for (i = 0; i < t->ncols; i++) {
		free(t->cols[i].name);
		for (j = 0; j < t->cols[i].ncats; j++)
			free(t->cols[i].cats[j]);
		free(t->cols[i].cats);
		index_free(t->cols[i].index);
	}
	index_free(t->names);
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

/*
 * Refuses text that JSON cannot hold: a header or category that is not
 * UTF-8 would be dropped from cnai-model.json and leave a model that never
 * loads. `what` names the field in the message.
 */
static int check_text(const struct cnai_csv_reader *r, size_t field,
		      const struct cnai_csv_field *f, const char *what)
{
	size_t ok = cnai_csv_text_len(f->ptr, f->len);
	uint64_t line, col;

	if (ok == f->len)
		return 0;
	cnai_csv_locate(r, field, ok, &line, &col);
	return cnai_error_set(CNAI_EINVALID, "%s:%llu:%llu: %s %s",
			      cnai_csv_path(r), (unsigned long long)line,
			      (unsigned long long)col, what,
			      f->ptr[ok] ? "is not valid UTF-8"
					 : "holds a NUL byte");
}

static int setup_columns(struct cnai_dtable *t,
			 const struct cnai_csv_reader *r,
			 const struct cnai_csv_record *rec,
			 const struct cnai_dtable_opts *o)
{
	char what[64];
	size_t i, at;
	long j;
	int err;

	if ((err = index_new((struct str_index **)&t->names)) < 0)
		return err;
	if (!(t->cols = calloc(rec->nfields, sizeof(*t->cols))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < rec->nfields; i++) {
		const struct cnai_csv_field *f = &rec->fields[i];
		struct cnai_col *c = &t->cols[i];

		snprintf(what, sizeof(what), "the name of column %zu", i + 1);
		if ((err = check_text(r, i, f, what)) < 0)
			return err;
		index_find(&j, &at, t->names, name_key, t, f->ptr, f->len);
		if (j >= 0)
			return cnai_error_set(
				CNAI_EINVALID,
				"%s:%llu: column '%s' appears twice",
				t->path, (unsigned long long)rec->line,
				f->ptr);
		if (!(c->name = strdup(f->ptr)))
			return cnai_error_set(CNAI_ERROR, "out of memory");
		c->type = o ? o->other : CNAI_COL_AUTO;
		t->ncols++;
		if ((err = index_add(t->names, at, name_key, t)) < 0)
			return err;
	}
	for (i = 0; o && i < o->ntypes; i++) /* the last of a name wins */
		if ((j = cnai_dtable_find(t, o->names[i])) >= 0)
			t->cols[j].type = o->types[i];
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

static inline int store_cell(struct cnai_dtable *t, struct cnai_col *c,
			     float *dst, const struct cnai_csv_reader *r,
			     size_t field, const struct cnai_csv_field *f,
			     uint64_t line)
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
		if ((err = cat_lookup(&idx, c, f->ptr, f->len, 0)) < 0)
			return err;
		/* a new category: checked once, when first seen */
		if (idx < 0) {
			char what[80];

			snprintf(what, sizeof(what), "column '%.40s': the value",
				 c->name);
			if ((err = check_text(r, field, f, what)) < 0 ||
			    (err = cat_lookup(&idx, c, f->ptr, f->len, 1)) < 0)
				return err;
		}
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
	if (isfinite(d) && !isfinite(*dst))
		return cnai_error_set(CNAI_EINVALID,
				      "%s:%llu: column '%s': '%.40s' is out of "
				      "float32 range (at most %g in magnitude)",
				      t->path, (unsigned long long)line,
				      c->name, f->ptr, (double)FLT_MAX);
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
	if ((err = setup_columns(t, r, rec, opts)) < 0)
		goto cleanup;
	while ((rc = cnai_csv_next(r, &rec, t->ncols)) > 0) {
		float *row;

		if (t->nrows == cap && (err = grow_rows(t, &cap)) < 0)
			goto cleanup;
		row = t->values + t->nrows * t->ncols;
		t->lines[t->nrows] = rec->line;
		for (i = 0; i < t->ncols; i++)
			if ((err = store_cell(t, &t->cols[i], &row[i], r, i,
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
