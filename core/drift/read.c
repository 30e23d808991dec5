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

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/data/csv.h"
#include "core/drift/sort.h"
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
 * A short decimal (a significand below 2^23, so at most seven digits, and
 * a power of ten within 10^-22..10^22) becomes an order-preserving 32-bit
 * key: the significand scaled to exactly seven digits m (10^6 <= m <
 * 10^7) and the power q (-28..22) that goes with it make the magnitude
 * (q + 29) * 2^24 + m, which grows with the value; positives sit above
 * KEY_ZERO, negatives mirror them below (no key is CNAI_DRIFT_NOKEY).
 * Equal values get one key however they were written ("1.50", "15e-1"),
 * and unequal ones never round to one double (seven digits are far more
 * than 2^-53 apart), so sorting keys sorts the values. A numeric column
 * keeps its values this way (4 bytes, not 8) until one is no short
 * decimal.
 */
#define KEY_ZERO 0x80000000u

static const uint32_t pow10u[] = { 1,	  10,	   100,	    1000,
				   10000, 100000, 1000000, 10000000 };

/* The key of (-1)^neg mant 10^exp10, mant < 2^23 of ndig digits. */
static uint32_t short_key(uint32_t mant, int ndig, int exp10, int neg)
{
	uint32_t mag;

	if (!mant)
		return KEY_ZERO;
	mag = (uint32_t)(exp10 - (7 - ndig) + 29) << 24 |
	      mant * pow10u[7 - ndig];
	return neg ? KEY_ZERO - mag : KEY_ZERO + mag;
}

/*
 * m 10^q is the short decimal's exact value, and one multiplication or
 * division of exact operands rounds it correctly, as the parser's fast
 * path did with the digits as written: the double is the same, bit for
 * bit.
 */
static inline double key_value(uint32_t key)
{
	uint32_t mag = key >= KEY_ZERO ? key - KEY_ZERO : KEY_ZERO - key,
		 m = mag & 0xffffff;
	int q = (int)(mag >> 24) - 29;
	double x;

	/* below 10^-22 the scaling added zeros that the written power
	 * (>= -22) did without: drop them for an exact power of ten (zero,
	 * magnitude 0, ends here as 0 / 10^22) */
	if (q < -22) {
		m /= pow10u[-22 - q];
		q = -22;
	}
	if (q >= 0)
		x = (double)m * pow10tab[q];
	else
		x = (double)m / pow10tab[-q];
	return key < KEY_ZERO ? -x : x;
}

double cnai_drift__key_value(uint32_t key)
{
	return key_value(key);
}

int cnai_drift__parse_number(double *out, int *isint, const char *s,
			     size_t len)
{
	uint32_t key;

	return cnai_drift__parse_number_key(out, isint, &key, s, len);
}

int cnai_drift__parse_number_key(double *out, int *isint, uint32_t *key,
				 const char *s, size_t len)
{
	const char *p = s, *e = s + len;
	uint64_t mant = 0;
	int ndig = 0, exp10 = 0, neg = 0, digits = 0, dot = 0, expo = 0,
	    truncated = 0;

	*key = CNAI_DRIFT_NOKEY;
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
			*key = short_key((uint32_t)mant, ndig, exp10, neg);
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

/* ---- packed runs ---------------------------------------------------- */

/* Counts the digits of keys made distances from the least (k[i] - lo);
 * cnt[1] has room even for one pass (its digits are then all 0). */
static void count_digits(uint32_t *const cnt[3], uint32_t *k, size_t n,
			 uint32_t lo, unsigned width, unsigned npass)
{
	uint32_t mask = (1u << width) - 1, *c0 = cnt[0], *c1 = cnt[1];
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t x = k[i] - lo;

		k[i] = x;
		c0[x & mask]++;
		c1[(x >> width) & mask]++;
	}
	if (npass > 2)
		for (i = 0; i < n; i++)
			cnt[2][k[i] >> (2 * width)]++;
}

/*
 * LSD radix sort of at most CNAI_DRIFT_CHUNK 32-bit keys, made distances
 * from the least (*lo): the bit width of their spread decides the passes,
 * two of at most 14 bits a digit (counts for 2 x 16384 digits, in
 * `count`) unless they spread over more than 28 bits, then three of 11. A
 * pass whose digit every key shares is skipped. `tmp` has room for n;
 * returns the one of k and tmp that holds the sorted distances.
 */
static uint32_t *radix_u32(uint32_t *lo_out, uint32_t *k, uint32_t *tmp,
			   uint32_t *count, size_t n)
{
	uint32_t lo = UINT32_MAX, hi = 0, *src = k, *dst = tmp, *t, mask,
		 *cnt[3];
	unsigned bits = 0, width, npass, pass;
	size_t i;

	assert(n <= CNAI_DRIFT_CHUNK);
	for (i = 0; i < n; i++) {
		lo = k[i] < lo ? k[i] : lo;
		hi = k[i] > hi ? k[i] : hi;
	}
	*lo_out = 0;
	while (bits < 32 && (uint32_t)(hi - lo) >> bits)
		bits++;
	if (!bits)
		return k; /* all equal: distances from 0 */
	*lo_out = lo;
	npass = bits <= 28 ? (bits + 13) / 14 : 3;
	width = (bits + npass - 1) / npass;
	mask = (1u << width) - 1;
	for (pass = 0; pass < 3; pass++)
		cnt[pass] = count + ((size_t)pass << width);
	memset(count, 0, ((size_t)(npass > 1 ? npass : 2) << width) *
				 sizeof(*count));
	count_digits(cnt, k, n, lo, width, npass);
	for (pass = 0; pass < npass; pass++) {
		unsigned shift = pass * width;
		uint32_t sum = 0, c, *cp = cnt[pass];

		if (cp[(src[0] >> shift) & mask] == n)
			continue;
		for (c = 0; c <= mask; c++) {
			uint32_t x = cp[c];

			cp[c] = sum;
			sum += x;
		}
		for (i = 0; i < n; i++) {
			uint32_t x = src[i];

			dst[cp[(x >> shift) & mask]++] = x;
		}
		t = src, src = dst, dst = t;
	}
	return src;
}

/*
 * A run is its length in bytes (4, native order) and its sorted keys as
 * deltas from their predecessor (the first from 0), each a LEB128 varint.
 */
#define RUN_HEAD 4

/* Writes the run of n sorted keys, given as distances from lo, at out;
 * returns its size (at most RUN_HEAD + 5 n). */
static size_t encode_run(uint8_t *out, const uint32_t *k, size_t n,
			 uint32_t lo)
{
	uint8_t *p = out + RUN_HEAD;
	uint32_t prev = 0 - lo, len; /* k[0] - prev: the first key */
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t d = k[i] - prev;

		prev = k[i];
		if (d < 128) { /* most deltas: one byte */
			*p++ = (uint8_t)d;
			continue;
		}
		while (d >= 128) {
			*p++ = (uint8_t)(d | 128);
			d >>= 7;
		}
		*p++ = (uint8_t)d;
	}
	len = (uint32_t)(p - out - RUN_HEAD);
	memcpy(out, &len, RUN_HEAD);
	return (size_t)(p - out);
}

/* The key after `key` in a run whose next delta is at *pp. */
static uint32_t next_key(const uint8_t **pp, uint32_t key)
{
	const uint8_t *p = *pp;
	uint32_t b = *p++, d = b & 127;
	unsigned shift = 7;

	while (b & 128) {
		b = *p++;
		d |= (b & 127) << shift;
		shift += 7;
	}
	*pp = p;
	return key + d;
}

/* The deltas of the run at p: from the return value to *end. */
static const uint8_t *run_open(const uint8_t **end, const uint8_t *p)
{
	uint32_t len;

	memcpy(&len, p, RUN_HEAD);
	*end = p + RUN_HEAD + len;
	return p + RUN_HEAD;
}

void cnai_drift__scratch_release(struct cnai_drift__scratch *sc)
{
	free(sc->keys);
	free(sc->count);
	free(sc->bytes);
	memset(sc, 0, sizeof(*sc));
}

/* The column's open chunk (full, or the last one) becomes its next run. */
static int chunk_pack(struct cnai_drift__col *c, struct cnai_drift__scratch *sc)
{
	size_t n = c->n - c->nrun, len;
	const uint32_t *k;
	uint32_t lo;
	uint8_t *g;

	if ((!sc->keys && !(sc->keys = malloc(CNAI_DRIFT_CHUNK *
					      sizeof(*sc->keys)))) ||
	    (!sc->count &&
	     !(sc->count = malloc(2 * 16384 * sizeof(*sc->count)))) ||
	    (!sc->bytes &&
	     !(sc->bytes = malloc(RUN_HEAD + 5 * CNAI_DRIFT_CHUNK))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	k = radix_u32(&lo, c->key, sc->keys, sc->count, n);
	len = encode_run(sc->bytes, k, n, lo);
	if (!(g = realloc(c->runs, c->runs_len + len)))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	memcpy(g + c->runs_len, sc->bytes, len);
	c->runs = g;
	c->runs_len += len;
	c->nrun += n;
	return 0;
}

/* The column's values now live in v, n of them: no keys, no runs. */
static void col_set_wide(struct cnai_drift__col *c, double *v)
{
	free(c->runs);
	free(c->key);
	c->runs = NULL;
	c->key = NULL;
	c->runs_len = c->nrun = 0;
	c->v = v;
	c->cap = c->n;
	c->wide = 1;
}

int cnai_drift__col_widen(struct cnai_drift__col *c)
{
	const uint8_t *p = c->runs, *end, *q;
	double *v;
	size_t i = 0;

	if (c->wide)
		return 0;
	if (!(v = malloc((c->n ? c->n : 1) * sizeof(*v))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (; i < c->nrun; p = end) {
		uint32_t key = 0;

		for (q = run_open(&end, p); q < end; i++) {
			key = next_key(&q, key);
			v[i] = key_value(key);
		}
	}
	for (; i < c->n; i++)
		v[i] = key_value(c->key[i - c->nrun]);
	col_set_wide(c, v);
	return 0;
}

/*
 * The k-way merge of a column's runs, by a tree of losers (Knuth, TAOCP
 * 5.4.1): each inner node keeps the entry that lost the match played
 * there, node 0 the overall winner, the least; once the winner's run
 * moves on to its next key, only the matches on its way up are replayed,
 * log2(k) of them. An entry is a run's current key and the run's number
 * in one integer (key << RUN_BITS | run), so a match is one comparison
 * (equal keys tie-break by run, harmlessly); an exhausted run plays as
 * key 2^32, above every key.
 */
#define RUN_BITS 24
#define MERGE_DONE ((uint64_t)1 << 32)

struct cursor {
	const uint8_t *p, *end; /* the deltas after the current key */
};

struct merge {
	size_t k;           /* leaves: the runs, padded to a power of two */
	uint64_t *node;     /* [k] node[1..k-1] losers, node[0] the winner */
	struct cursor *run; /* [k] */
};

static void merge_close(struct merge *m)
{
	free(m->node);
	free(m->run);
	memset(m, 0, sizeof(*m));
}

/* The tree played bottom up from the leaves' entries, win[k..2k-1];
 * win[x] becomes the winner at node x. */
static void merge_play(struct merge *m, uint64_t *win)
{
	size_t x;

	for (x = m->k - 1; x > 0; x--) {
		uint64_t a = win[2 * x], b = win[2 * x + 1];

		win[x] = a < b ? a : b;
		m->node[x] = a < b ? b : a;
	}
	m->node[0] = win[1]; /* k = 1: the one leaf */
}

static int merge_open(struct merge *m, const struct cnai_drift__col *c)
{
	const uint8_t *p = c->runs, *stop = c->runs + c->runs_len;
	size_t nruns = 0, r;
	uint64_t *win;

	for (r = 0; r < c->nrun; r += CNAI_DRIFT_CHUNK)
		nruns++;
	if (nruns >= (size_t)1 << RUN_BITS)
		return cnai_error_set(CNAI_ERROR, "column '%s': too many values",
				      c->name);
	for (m->k = 1; m->k < nruns; m->k *= 2)
		;
	m->node = malloc(m->k * sizeof(*m->node));
	m->run = malloc(m->k * sizeof(*m->run));
	win = malloc(2 * m->k * sizeof(*win));
	if (!m->node || !m->run || !win) {
		free(win);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	for (r = 0; r < m->k; r++) {
		struct cursor *u = &m->run[r];
		uint64_t key = MERGE_DONE;

		if (p != stop) {
			u->p = run_open(&u->end, p);
			key = next_key(&u->p, 0);
			p = u->end;
		}
		win[m->k + r] = key << RUN_BITS | r;
	}
	merge_play(m, win);
	free(win);
	return 0;
}

/* The next n values of the merge, in order, into v; a key equal to the
 * last one repeats its value. The matches are played without branches:
 * their outcome is a coin toss. */
static void merge_take(double *v, size_t n, struct merge *m)
{
	const uint64_t mask = ((uint64_t)1 << RUN_BITS) - 1;
	uint64_t *node = m->node, last = MERGE_DONE;
	double x = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t w = node[0], key = w >> RUN_BITS;
		size_t r = (size_t)(w & mask), j;
		struct cursor *u = &m->run[r];

		if (key != last)
			x = key_value((uint32_t)key);
		v[i] = x;
		last = key;
		key = u->p < u->end ? next_key(&u->p, (uint32_t)key)
				    : MERGE_DONE;
		w = key << RUN_BITS | r;
		for (j = (m->k + r) / 2; j > 0; j /= 2) {
			uint64_t l = node[j];

			node[j] = l < w ? w : l;
			w = l < w ? l : w;
		}
		node[0] = w;
	}
}

int cnai_drift__col_sorted(struct cnai_drift__col *c)
{
	struct cnai_drift__scratch sc = { NULL, NULL, NULL };
	struct merge m = { 0, NULL, NULL };
	double *v = NULL;
	int err = 0;

	if (c->wide)
		return cnai_drift__sort(c->v, c->n);
	/* the open chunk becomes the last run */
	if (c->n > c->nrun) {
		err = chunk_pack(c, &sc);
		cnai_drift__scratch_release(&sc);
	}
	if (err < 0 || (err = merge_open(&m, c)) < 0)
		goto cleanup;
	if (!(v = malloc((c->n ? c->n : 1) * sizeof(*v)))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	merge_take(v, c->n, &m);
	col_set_wide(c, v);
	v = NULL;
cleanup:
	merge_close(&m);
	free(v);
	return err;
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

void cnai_drift__col_free_values(struct cnai_drift__col *c)
{
	free(c->v);
	free(c->key);
	free(c->runs);
	cnai_drift__sketch_free(c->sk);
	c->v = NULL;
	c->key = NULL;
	c->runs = NULL;
	c->sk = NULL;
	c->runs_len = c->nrun = c->cap = 0;
}

/* The column outgrew --exact-limit: its values move into a sketch. They
 * come packed runs first, each sorted; with levels of one chunk each run
 * fills level 0 once, so the sketch compacts the very sets of values it
 * would have in reading order. */
static int col_start_sketch(struct cnai_drift__col *c, uint64_t limit)
{
	size_t B = limit < CNAI_DRIFT_CHUNK ? (size_t)limit : CNAI_DRIFT_CHUNK,
	       i;
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

/* Room for one more value in v (wide) or the open chunk (narrow). */
static int col_reserve(struct cnai_drift__col *c)
{
	size_t used = c->wide ? c->n : c->n - c->nrun, ncap;
	void *g;

	if (used < c->cap)
		return 0;
	ncap = c->cap ? c->cap * 2 : 1024;
	if (!c->wide && ncap > CNAI_DRIFT_CHUNK)
		ncap = CNAI_DRIFT_CHUNK;
	if (c->wide)
		g = realloc(c->v, ncap * sizeof(*c->v));
	else
		g = realloc(c->key, ncap * sizeof(*c->key));
	if (!g)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if (c->wide)
		c->v = g;
	else
		c->key = g;
	c->cap = ncap;
	return 0;
}

int cnai_drift__col_push(struct cnai_drift__col *c,
			 struct cnai_drift__scratch *sc, double v, uint32_t key,
			 uint64_t limit)
{
	int err;

	if (c->sk)
		return cnai_drift__sketch_add(c->sk, v);
	if (c->n >= limit) {
		err = col_start_sketch(c, limit);
		return err < 0 ? err : cnai_drift__sketch_add(c->sk, v);
	}
	if (!c->wide && key == CNAI_DRIFT_NOKEY &&
	    (err = cnai_drift__col_widen(c)) < 0)
		return err;
	if (!c->wide && c->n - c->nrun == CNAI_DRIFT_CHUNK &&
	    (err = chunk_pack(c, sc)) < 0)
		return err;
	if ((err = col_reserve(c)) < 0)
		return err;
	if (c->wide)
		c->v[c->n++] = v;
	else
		c->key[c->n++ - c->nrun] = key;
	return 0;
}

/* cnai_drift__col_push with its common case inline: a short decimal
 * into the open chunk, with room. */
static int col_push(struct cnai_drift__col *c, struct cnai_drift__scratch *sc,
		    double v, uint32_t key, uint64_t limit)
{
	if (key != CNAI_DRIFT_NOKEY && !c->wide && c->n < limit &&
	    c->n - c->nrun < c->cap) {
		c->key[c->n++ - c->nrun] = key;
		return 0;
	}
	return cnai_drift__col_push(c, sc, v, key, limit);
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
	uint32_t key;
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
		if (cnai_drift__parse_number_key(&v, &isint, &key, f->ptr,
						 f->len)) {
			c->isint &= isint;
			/* a short decimal (it has a key) is always finite */
			if (key == CNAI_DRIFT_NOKEY && !isfinite(v)) {
				c->missing++;
				return 0;
			}
			return col_push(c, &s->scratch, v, key,
					s->o->exact_limit);
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
	cnai_drift__scratch_release(&s->scratch);
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
		cnai_drift__col_free_values(&s->cols[i]);
		free(s->cols[i].bad_value);
		cnai_drift__map_release(&s->cols[i].map);
	}
	for (i = 0; i < s->nheader; i++)
		free(s->header[i]);
	free(s->header);
	free(s->colof);
	s->colof = NULL;
	cnai_drift__map_release(&s->names);
	cnai_drift__scratch_release(&s->scratch);
	free(s->cols);
	s->header = NULL;
	s->cols = NULL;
	s->ncols = s->nheader = 0;
}
