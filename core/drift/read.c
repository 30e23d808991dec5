/*
 * Reading one side of a drift comparison: the CSV reader's records are
 * split into per-column storage as they stream past. Numbers are parsed
 * with an exact fast path (Clinger's: up to 19 significant digits whose
 * value is below 2^53, scaled by an exact power of ten up to 10^22, is
 * one correctly rounded multiplication or division) and strtod for the
 * rest, so every value equals what strtod (and Python's float) gives.
 * Standard input is read through a pipe by a helper thread that hashes
 * what passes, so a stream gets a digest like a file does.
 */
#include "core/drift/read.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/data/csv.h"
#include "core/util/error.h"
#include "core/util/hash.h"
#include "core/util/banned.h"

/* ---- string counts -------------------------------------------------- */

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

static int map_grow(struct cnai_drift__map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64, i;
	struct cnai_drift__entry *ne = calloc(ncap, sizeof(*ne));

	if (!ne)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < m->cap; i++) {
		struct cnai_drift__entry *e = &m->e[i];
		size_t j;

		if (!e->key)
			continue;
		for (j = e->hash & (ncap - 1); ne[j].key; j = (j + 1) & (ncap - 1))
			;
		ne[j] = *e;
	}
	free(m->e);
	m->e = ne;
	m->cap = ncap;
	return 0;
}

struct cnai_drift__entry *cnai_drift__map_get(const struct cnai_drift__map *m,
					      const char *s, size_t len)
{
	uint64_t h = hash_bytes(s, len);
	size_t j;

	if (!m->cap)
		return NULL;
	for (j = h & (m->cap - 1); m->e[j].key; j = (j + 1) & (m->cap - 1))
		if (m->e[j].hash == h && m->e[j].len == len &&
		    !memcmp(m->e[j].key, s, len))
			return &m->e[j];
	return NULL;
}

int cnai_drift__map_add(struct cnai_drift__map *m, const char *s, size_t len,
			int64_t count)
{
	uint64_t h = hash_bytes(s, len);
	size_t j;
	int err;

	if ((m->n + 1) * 4 > m->cap * 3 && (err = map_grow(m)) < 0)
		return err;
	for (j = h & (m->cap - 1); m->e[j].key; j = (j + 1) & (m->cap - 1))
		if (m->e[j].hash == h && m->e[j].len == len &&
		    !memcmp(m->e[j].key, s, len)) {
			m->e[j].count += count;
			return 0;
		}
	if (!(m->e[j].key = malloc(len + 1)))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	memcpy(m->e[j].key, s, len);
	m->e[j].key[len] = '\0';
	m->e[j].len = len;
	m->e[j].hash = h;
	m->e[j].count = count;
	m->n++;
	return 0;
}

void cnai_drift__map_release(struct cnai_drift__map *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->e[i].key);
	free(m->e);
	memset(m, 0, sizeof(*m));
}

/* ---- cells ---------------------------------------------------------- */

int cnai_drift__is_na(const char *s, size_t len)
{
	static const char *const na[] = {
		"#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN",
		"-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN",
		"None", "n/a", "nan", "null",
	};
	size_t i;

	if (len == 0)
		return 1;
	if (len > 8)
		return 0;
	/* every spelling above starts with '#', '<', 'N', 'n', "1.#" or
	 * '-' and then '1', 'N' or 'n': most cells (numbers, words) are
	 * told apart by their first bytes (s is NUL-terminated) */
	switch (s[0]) {
	case '#':
	case '<':
	case 'N':
	case 'n':
		break;
	case '-':
		if (s[1] != '1' && s[1] != 'N' && s[1] != 'n')
			return 0;
		break;
	case '1':
		if (s[1] != '.' || s[2] != '#')
			return 0;
		break;
	default:
		return 0;
	}
	for (i = 0; i < sizeof(na) / sizeof(*na); i++)
		if (!strcmp(s, na[i]))
			return 1;
	return 0;
}

static const double pow10tab[] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static int word_ci(const char *p, const char *e, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(e - p) != n)
		return 0;
	return !strncasecmp(p, w, n);
}

/*
 * A short decimal (at most 23 bits of significand, a power of ten within
 * 10^-22..10^22) packs into 32 bits: significand * 256 + exponent + 128.
 * Decoding repeats the parser's fast path, so it gives the same double;
 * a numeric column keeps its values this way (4 bytes, not 8) until one
 * does not fit.
 */
#define CODE_NONE INT32_MIN

double cnai_drift__decode(int32_t code)
{
	int e = (int)(code & 255) - 128;
	int32_t sm = (code - (code & 255)) / 256;
	double v = (double)(sm < 0 ? -(int64_t)sm : sm);

	v = e >= 0 ? v * pow10tab[e] : v / pow10tab[-e];
	if (sm < 0)
		v = -v;
	return v == 0 ? 0.0 : v;
}

int cnai_drift__parse_number(double *out, int *isint, const char *s,
			     size_t len)
{
	int32_t code;

	return cnai_drift__parse_number_code(out, isint, &code, s, len);
}

int cnai_drift__parse_number_code(double *out, int *isint, int32_t *code,
				  const char *s, size_t len)
{
	const char *p = s, *e = s + len;
	uint64_t mant = 0;
	int ndig = 0, exp10 = 0, neg = 0, digits = 0, dot = 0, expo = 0,
	    truncated = 0;

	*code = CODE_NONE;
	if (p < e && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	while (p < e && *p >= '0' && *p <= '9') {
		if (ndig < 19) {
			mant = mant * 10 + (uint64_t)(*p - '0');
			if (mant)
				ndig++;
		} else {
			exp10++;
			truncated |= *p != '0';
		}
		digits = 1;
		p++;
	}
	if (p < e && *p == '.') {
		dot = 1;
		p++;
		while (p < e && *p >= '0' && *p <= '9') {
			if (ndig < 19) {
				mant = mant * 10 + (uint64_t)(*p - '0');
				if (mant)
					ndig++;
				exp10--;
			} else {
				truncated |= *p != '0';
			}
			digits = 1;
			p++;
		}
	}
	if (!digits) {
		if (!dot && (word_ci(p, e, "inf") || word_ci(p, e, "infinity"))) {
			*out = neg ? -INFINITY : INFINITY;
			*isint = 0;
			return 1;
		}
		return 0;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		int eneg = 0, ev = 0, edig = 0;

		expo = 1;
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		while (p < e && *p >= '0' && *p <= '9') {
			if (ev < 100000)
				ev = ev * 10 + (*p - '0');
			edig = 1;
			p++;
		}
		if (!edig)
			return 0;
		exp10 += eneg ? -ev : ev;
	}
	if (p != e)
		return 0;
	*isint = !dot && !expo;
	if (!truncated && mant <= (1ULL << 53) && exp10 >= -22 &&
	    exp10 <= 22) {
		double v = (double)mant;

		v = exp10 >= 0 ? v * pow10tab[exp10] : v / pow10tab[-exp10];
		*out = neg ? -v : v;
		if (mant < (1u << 23))
			*code = (neg ? -(int32_t)mant : (int32_t)mant) * 256 +
				(exp10 + 128);
	} else {
		*out = strtod(s, NULL); /* s is a NUL-terminated field */
	}
	if (*out == 0)
		*out = 0.0; /* no -0.0: equal values must sort together */
	return 1;
}

void cnai_drift__format(char *out, size_t size, double v)
{
	int prec;

	for (prec = 15; prec <= 17; prec++) {
		snprintf(out, size, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

/* ---- sorting -------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* LSD radix sort of unsigned keys, 11 bits a pass; a pass whose digit
 * every key shares moves nothing and is skipped. */
static int radix_u64(uint64_t *k, size_t n)
{
	uint64_t *tmp = malloc(n * sizeof(*tmp)), *src = k, *dst = tmp,
		 differ = 0;
	size_t (*cnt)[2048] = calloc(6, sizeof(*cnt)), i, pass, npass = 0;

	if (!tmp || !cnt) {
		free(tmp);
		free(cnt);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	/* digits above the highest bit in which keys differ never move */
	for (i = 0; i < n; i++)
		differ |= k[i] ^ k[0];
	while (npass < 6 && (differ >> (npass * 11)))
		npass++;
	for (i = 0; i < n; i++)
		for (pass = 0; pass < npass; pass++)
			cnt[pass][(k[i] >> (pass * 11)) & 2047]++;
	for (pass = 0; pass < npass; pass++) {
		unsigned shift = (unsigned)(pass * 11);
		size_t sum = 0, c;
		uint64_t *t;

		if (cnt[pass][(src[0] >> shift) & 2047] == n)
			continue;
		for (c = 0; c < 2048; c++) {
			size_t x = cnt[pass][c];

			cnt[pass][c] = sum;
			sum += x;
		}
		for (i = 0; i < n; i++)
			dst[cnt[pass][(src[i] >> shift) & 2047]++] = src[i];
		t = src, src = dst, dst = t;
	}
	if (src != k)
		memcpy(k, src, n * sizeof(*k));
	free(cnt);
	free(tmp);
	return 0;
}

int cnai_drift__sort(double *v, size_t n)
{
	uint64_t *k = (uint64_t *)v;
	size_t i;
	int err;

	if (n < 4096) {
		qsort(v, n, sizeof(*v), cmp_double);
		return 0;
	}
	/* order-preserving map of IEEE bits to unsigned integers */
	for (i = 0; i < n; i++)
		k[i] = (k[i] >> 63) ? ~k[i] : k[i] | (1ULL << 63);
	err = radix_u64(k, n);
	for (i = 0; i < n; i++)
		k[i] = (k[i] >> 63) ? k[i] & ~(1ULL << 63) : ~k[i];
	return err;
}

int cnai_drift__col_sorted(struct cnai_drift__col *c)
{
	static const int64_t p10[] = { 1, 10, 100, 1000, 10000, 100000,
				       1000000, 10000000, 100000000,
				       1000000000 };
	int emin = 127, emax = -128;
	uint64_t *k;
	double *v;
	size_t i;
	int err;

	if (!c->wide && c->n >= 4096) {
		for (i = 0; i < c->n; i++) {
			int e = (int)(c->code[i] & 255) - 128;

			emin = e < emin ? e : emin;
			emax = e > emax ? e : emax;
		}
	}
	if (c->wide || c->n < 4096 || emax - emin > 9) {
		if ((err = cnai_drift__col_widen(c)) < 0)
			return err;
		return cnai_drift__sort(c->v, c->n);
	}
	/*
	 * Short decimals sort as integers: value * 10^-emin is an integer
	 * below 2^53 (23-bit significands, at most 9 decades apart), so a
	 * few radix passes order them, and key / 10^-emin (or key * 10^emin)
	 * is one correctly rounded operation, the same double the parser
	 * made of the text.
	 */
	if (!(k = malloc(c->n * sizeof(*k))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < c->n; i++) {
		int32_t code = c->code[i];
		int e = (int)(code & 255) - 128;
		int64_t sm = (code - (code & 255)) / 256;

		k[i] = (uint64_t)(sm * p10[e - emin]) ^ (1ULL << 63);
	}
	free(c->code);
	c->code = NULL;
	if ((err = radix_u64(k, c->n)) < 0) {
		free(k);
		return err;
	}
	v = (double *)k;
	for (i = 0; i < c->n; i++) {
		double x = (double)(int64_t)(k[i] ^ (1ULL << 63));

		x = emin >= 0 ? x * pow10tab[emin] : x / pow10tab[-emin];
		v[i] = x == 0 ? 0.0 : x;
	}
	c->v = v;
	c->cap = c->n;
	c->wide = 1;
	return 0;
}

/* ---- reading -------------------------------------------------------- */

static int in_list(const char *name, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(name, list[i]))
			return 1;
	return 0;
}

int cnai_drift__col_widen(struct cnai_drift__col *c)
{
	double *v;
	size_t i;

	if (c->wide)
		return 0;
	if (!(v = malloc((c->cap ? c->cap : 1) * sizeof(*v))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < c->n; i++)
		v[i] = cnai_drift__decode(c->code[i]);
	free(c->code);
	c->code = NULL;
	c->v = v;
	c->wide = 1;
	return 0;
}

/* The column outgrew --exact-limit: its values move into a sketch. */
static int col_start_sketch(struct cnai_drift__col *c, uint64_t limit)
{
	size_t B = limit < 65536 ? (size_t)limit : 65536, i;
	int err;

	if ((err = cnai_drift__col_widen(c)) < 0 ||
	    (err = cnai_drift__sketch_new(&c->sk, B < 64 ? 64 : B)) < 0)
		return err;
	for (i = 0; i < c->n; i++)
		if ((err = cnai_drift__sketch_add(c->sk, c->v[i])) < 0)
			return err;
	free(c->v);
	c->v = NULL;
	c->n = c->cap = 0;
	return 0;
}

static int col_push(struct cnai_drift__col *c, double v, int32_t code,
		    uint64_t limit)
{
	int err;

	if (c->sk)
		return cnai_drift__sketch_add(c->sk, v);
	if (c->n >= limit) {
		err = col_start_sketch(c, limit);
		return err < 0 ? err : cnai_drift__sketch_add(c->sk, v);
	}
	if (!c->wide && code == CODE_NONE &&
	    (err = cnai_drift__col_widen(c)) < 0)
		return err;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 1024;

		if (c->wide) {
			double *g = realloc(c->v, ncap * sizeof(*g));

			if (!g)
				return cnai_error_set(CNAI_ERROR,
						      "out of memory");
			c->v = g;
		} else {
			int32_t *g = realloc(c->code, ncap * sizeof(*g));

			if (!g)
				return cnai_error_set(CNAI_ERROR,
						      "out of memory");
			c->code = g;
		}
		c->cap = ncap;
	}
	if (c->wide)
		c->v[c->n++] = v;
	else
		c->code[c->n++] = code;
	return 0;
}

/* The column's numbers so far become counted strings. */
static int col_to_strings(struct cnai_drift__col *c)
{
	char buf[40];
	size_t i;
	int err;

	if ((err = cnai_drift__col_widen(c)) < 0)
		return err;
	for (i = 0; i < c->n; i++) {
		cnai_drift__format(buf, sizeof(buf), c->v[i]);
		if ((err = cnai_drift__map_add(&c->map, buf, strlen(buf), 1)) <
		    0)
			return err;
	}
	free(c->v);
	c->v = NULL;
	c->n = c->cap = 0;
	c->numeric = 0;
	c->isint = 0;
	return 0;
}

static int add_cell(struct cnai_drift__side *s, struct cnai_drift__col *c,
		    const struct cnai_csv_field *f, uint64_t line)
{
	double v;
	int32_t code;
	int isint, err;

	if (cnai_drift__is_na(f->ptr, f->len)) {
		c->missing++;
		c->isint = 0;
		return 0;
	}
	if (c->force_cat) {
		char buf[40];

		/* numbers by value, so that "1" and "1.0" are one category */
		if (cnai_drift__parse_number(&v, &isint, f->ptr, f->len) &&
		    isfinite(v)) {
			cnai_drift__format(buf, sizeof(buf), v);
			return cnai_drift__map_add(&c->map, buf, strlen(buf), 1);
		}
		return cnai_drift__map_add(&c->map, f->ptr, f->len, 1);
	}
	if (c->numeric) {
		if (cnai_drift__parse_number_code(&v, &isint, &code, f->ptr,
						  f->len)) {
			c->isint &= isint;
			if (!isfinite(v)) {
				c->missing++;
				return 0;
			}
			return col_push(c, v, code, s->o->exact_limit);
		}
		if (c->sk)
			return cnai_error_set(
				CNAI_EINVALID,
				"%s:%llu: column '%s': '%.40s' is not a number, "
				"after more numbers than --exact-limit keeps "
				"(declare it --categorical, or raise "
				"--exact-limit)", s->display,
				(unsigned long long)line, c->name, f->ptr);
		if (c->force_numeric)
			return cnai_error_set(CNAI_EINVALID,
					      "%s:%llu: column '%s': '%.40s' is "
					      "not a number", s->display,
					      (unsigned long long)line, c->name,
					      f->ptr);
		c->bad_line = line;
		if (!(c->bad_value = strndup(f->ptr, f->len > 40 ? 40 : f->len)))
			return cnai_error_set(CNAI_ERROR, "out of memory");
		if ((err = col_to_strings(c)) < 0)
			return err;
	}
	return cnai_drift__map_add(&c->map, f->ptr, f->len, 1);
}

struct pump {
	int in, out;
	struct cnai_sha256 h;
	uint64_t size;
	int err;
};

/* Copies the real stdin into the pipe the CSV reader reads, hashing. */
static void *pump_stdin(void *arg)
{
	struct pump *p = arg;
	sigset_t set;
	char *buf = malloc(1 << 16);
	ssize_t n;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (!buf) {
		p->err = 1;
		close(p->out);
		return NULL;
	}
	for (;;) {
		char *q;

		n = read(p->in, buf, 1 << 16);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			p->err = n < 0;
			break;
		}
		cnai_sha256_update(&p->h, buf, (size_t)n);
		p->size += (uint64_t)n;
		for (q = buf; n > 0;) {
			ssize_t w = write(p->out, q, (size_t)n);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				p->err = 2; /* the reader stopped */
				goto out;
			}
			q += w;
			n -= w;
		}
	}
out:
	close(p->out);
	free(buf);
	return NULL;
}

static int read_csv(struct cnai_drift__side *s)
{
	const struct cnai_drift_options *o = s->o;
	struct cnai_csv_reader *r = NULL;
	const struct cnai_csv_record *rec;
	size_t *fmap, i, nf;
	int err, rc;

	if ((err = cnai_csv_open(&r, s->path, ',')) < 0)
		return err;
	if ((rc = cnai_csv_next(r, &rec, 0)) <= 0) {
		err = rc < 0 ? rc
			     : cnai_error_set(CNAI_EINVALID,
					      "%s: empty file, expected a "
					      "header line", s->display);
		goto cleanup;
	}
	nf = rec->nfields;
	s->nheader = nf;
	if (!(s->header = calloc(nf, sizeof(*s->header))) ||
	    !(s->cols = calloc(nf, sizeof(*s->cols))) ||
	    !(s->colof = calloc(nf, sizeof(*s->colof)))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	fmap = s->colof;
	for (i = 0; i < nf; i++) {
		const char *name = rec->fields[i].ptr;
		size_t len = rec->fields[i].len;
		int dup;

		if (!(s->header[i] = strdup(name))) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			goto cleanup;
		}
		fmap[i] = SIZE_MAX;
		/* a repeated name: the first column of that name counts */
		dup = cnai_drift__map_get(&s->names, name, len) != NULL;
		if (!dup && (err = cnai_drift__map_add(&s->names, name, len,
						       (int64_t)i + 1)) < 0)
			goto cleanup;
		if (dup || (o->columns && !in_list(name, o->columns,
						    o->ncolumns)) ||
		    in_list(name, o->ignore, o->nignore))
			continue;
		fmap[i] = s->ncols;
		s->cols[s->ncols].name = s->header[i];
		s->cols[s->ncols].numeric = 1;
		s->cols[s->ncols].isint = 1;
		s->cols[s->ncols].force_numeric =
			in_list(name, o->numerical, o->nnumerical);
		s->cols[s->ncols].force_cat =
			in_list(name, o->categorical, o->ncategorical);
		if (s->cols[s->ncols].force_cat)
			s->cols[s->ncols].numeric = 0;
		s->ncols++;
	}
	while ((rc = cnai_csv_next(r, &rec, nf)) > 0) {
		s->rows++;
		for (i = 0; i < nf; i++)
			if (fmap[i] != SIZE_MAX &&
			    (err = add_cell(s, &s->cols[fmap[i]],
					    &rec->fields[i], rec->line)) < 0)
				goto cleanup;
	}
	if ((err = rc) < 0)
		goto cleanup;
	if (s->rows == 0)
		err = cnai_error_set(CNAI_EINVALID,
				     "%s: no data rows after the header",
				     s->display);
cleanup:
	cnai_csv_close(r);
	return err;
}

void *cnai_drift__read_side(void *arg)
{
	struct cnai_drift__side *s = arg;
	struct pump p = { -1, -1, { NULL }, 0, 0 };
	pthread_t pt;
	int fds[2], err, pumping = 0;

	s->display = strcmp(s->path, "-") ? s->path : "<stdin>";
	if (!strcmp(s->path, "-")) {
		if ((p.in = dup(0)) < 0 || pipe(fds) < 0 ||
		    dup2(fds[0], 0) < 0) {
			err = cnai_error_set_errno(CNAI_ERROR, "reading stdin");
			goto done;
		}
		close(fds[0]);
		p.out = fds[1];
		if ((err = cnai_sha256_init(&p.h)) < 0)
			goto done;
		if (pthread_create(&pt, NULL, pump_stdin, &p)) {
			err = cnai_error_set(CNAI_ERROR, "cannot start a thread");
			goto done;
		}
		pumping = 1;
	}
	err = read_csv(s);
	if (pumping) {
		/* an early error: let the pump see a closed pipe and stop */
		close(0);
		pthread_join(pt, NULL);
		dup2(p.in, 0);
		if (err == 0 && p.err == 1)
			err = cnai_error_set_errno(CNAI_ERROR, "reading stdin");
		if (err == 0)
			err = cnai_sha256_final(&p.h, s->digest);
		cnai_sha256_release(&p.h);
		s->size = p.size;
	} else if (err == 0) {
		err = cnai_sha256_file(s->digest, &s->size, s->path);
	}
done:
	if (p.in >= 0)
		close(p.in);
	if (err < 0) {
		const struct cnai_error *e = cnai_error_last();

		s->err = err;
		snprintf(s->errmsg, sizeof(s->errmsg), "%s",
			 e ? e->message : cnai_strerror(err));
	}
	return NULL;
}

void cnai_drift__side_release(struct cnai_drift__side *s)
{
	size_t i;

	for (i = 0; i < s->ncols; i++) {
		free(s->cols[i].v);
		free(s->cols[i].code);
		cnai_drift__sketch_free(s->cols[i].sk);
		free(s->cols[i].bad_value);
		cnai_drift__map_release(&s->cols[i].map);
	}
	for (i = 0; i < s->nheader; i++)
		free(s->header[i]);
	free(s->header);
	free(s->colof);
	s->colof = NULL;
	cnai_drift__map_release(&s->names);
	free(s->cols);
	s->header = NULL;
	s->cols = NULL;
	s->ncols = s->nheader = 0;
}
