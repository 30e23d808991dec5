/*
 * Two-sample statistics, each written to reproduce what scipy 1.10 (and
 * Evidently, which calls it) computes on the same input, down to the
 * algorithm choices that decide the last digits: the KS exact path uses
 * the lattice-path recursions scipy uses (Hodges' "inside" method with
 * Viehmann's 1 - p recursion, and the closed form for equal sizes), the
 * asymptotic path the Simard-L'Ecuyer choice of methods for the one-sample
 * distribution at n = round(n1 n2 / (n1 + n2)) that kstwo.sf makes.
 * Sums are accumulated in long double; scipy's pairwise float sums differ
 * from them by a few ulps at most.
 */
#include "core/drift/stats.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/error.h"
#include "core/util/banned.h"

#define EP128 0x1p128
#define EM128 0x1p-128

static double clip01(double p)
{
	if (p < 0)
		return 0;
	if (p > 1)
		return 1;
	return p;
}

/* ---- Kolmogorov-Smirnov ------------------------------------------- */

static int64_t gcd64(int64_t a, int64_t b)
{
	while (b) {
		int64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* floor(a / b) for b > 0 */
static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b) != 0 && a < 0)
		q--;
	return q;
}

static int64_t ceildiv(int64_t a, int64_t b)
{
	return -floordiv(-a, b);
}

/* P(D >= h/n) for two samples of n each (scipy's Horner-like form). */
static double prob_outside_square(int64_t n, int64_t h)
{
	double P = 0.0;
	int64_t k = n / h, j;

	for (; k >= 0; k--) {
		double p1 = 1.0;

		for (j = 0; j < h; j++)
			p1 = (double)(n - k * h - j) * p1 /
			     (double)(n + k * h + j + 1);
		P = p1 * (1.0 - P);
	}
	return 2 * P;
}

/*
 * The share of lattice paths from (0,0) to (m,n) that leave the band
 * |x/m - y/n| < h/lcm, computed as 1 - p directly column by column
 * (Viehmann 2021), which keeps tiny p-values accurate.
 */
static double prob_outer_inside(int64_t m, int64_t n, int64_t g, int64_t h)
{
	int64_t mg, ng, minj, maxj, curlen, lenA, i, jj;
	double *A, res;

	if (m < n) {
		int64_t t = m;

		m = n;
		n = t;
	}
	mg = m / g;
	ng = n / g;
	minj = 0;
	maxj = ceildiv(h, mg);
	if (maxj > n + 1)
		maxj = n + 1;
	curlen = maxj - minj;
	lenA = 2 * maxj + 2 < n + 1 ? 2 * maxj + 2 : n + 1;
	if (!(A = malloc((size_t)lenA * sizeof(*A))))
		return -1;
	for (i = 0; i < lenA; i++)
		A[i] = 1.0;
	for (i = minj; i < maxj; i++)
		A[i] = 0.0;
	for (i = 1; i <= m; i++) {
		int64_t lastminj = minj, lastlen = curlen;
		double val;

		minj = floordiv(ng * i - h, mg) + 1;
		if (minj < 0)
			minj = 0;
		if (minj > n)
			minj = n;
		maxj = ceildiv(ng * i + h, mg);
		if (maxj > n + 1)
			maxj = n + 1;
		if (maxj <= minj) {
			free(A);
			return 1.0;
		}
		val = minj == 0 ? 0.0 : 1.0;
		for (jj = 0; jj < maxj - minj; jj++) {
			int64_t j = jj + minj;

			val = (A[jj + minj - lastminj] * (double)i +
			       val * (double)j) / (double)(i + j);
			A[jj] = val;
		}
		curlen = maxj - minj;
		if (lastlen > curlen)
			for (jj = maxj - minj;
			     jj < maxj - minj + (lastlen - curlen) && jj < lenA;
			     jj++)
				A[jj] = 1;
	}
	res = A[maxj - minj - 1];
	free(A);
	return res;
}

double cnai_stat_ks_exact_p(int64_t n1, int64_t n2, int64_t h)
{
	double p;

	if (h == 0)
		return 1.0;
	if (n1 == n2)
		p = prob_outside_square(n1, h);
	else
		p = prob_outer_inside(n1, n2, gcd64(n1, n2), h);
	if (!(p >= 0 && p <= 1))
		return -1;
	return p;
}

double cnai_stat_smirnov(int64_t n, double x)
{
	long double sum = 0, logc = 0, prev = 0;
	int64_t v, nn;

	if (!(x >= 0 && x <= 1) || n <= 0)
		return NAN;
	if (x == 0)
		return 1.0;
	if (x == 1)
		return 0.0;
	nn = (int64_t)floor((double)n * (1.0 - x));
	/*
	 * Birnbaum-Tingey: x * sum_v C(n,v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v),
	 * each term in logs; the terms rise then fall, so the tail is cut
	 * once they are negligible and still falling.
	 */
	for (v = 0; v <= nn; v++) {
		long double evn = (long double)x + (long double)v / n;
		long double omevn = 1.0L - evn, t;

		if (v > 0)
			logc += logl((long double)(n - v + 1) / v);
		if (omevn <= 0) {
			if (n - v != 0)
				continue;
			t = expl(logc + (v - 1) * logl(evn));
		} else {
			t = expl(logc + (v - 1) * logl(evn) +
				 (n - v) * logl(omevn));
		}
		sum += t;
		if (v > 8 && t < prev && t < sum * 1e-22L)
			break;
		prev = t;
	}
	return (double)(sum * x);
}

static const double stirling[] = {
	-2.955065359477124183e-2, 6.4102564102564102564e-3,
	-1.9175269175269175269e-3, 8.4175084175084175084e-4,
	-5.952380952380952381e-4, 7.9365079365079365079e-4,
	-2.7777777777777777778e-3, 8.3333333333333333333e-2,
};

static double log_nfact_div_npow(double n)
{
	double rn = 1.0 / n, x = rn / n, p = 0;
	size_t i;

	for (i = 0; i < sizeof(stirling) / sizeof(*stirling); i++)
		p = p * x + stirling[i];
	return log(n) / 2 - n + log(2 * M_PI) / 2 + rn * p;
}

static void matmul(double *out, const double *a, const double *b, int64_t m)
{
	int64_t i, j, k;

	for (i = 0; i < m; i++) {
		double *o = out + i * m;

		for (j = 0; j < m; j++)
			o[j] = 0;
		for (k = 0; k < m; k++) {
			double aik = a[i * m + k];
			const double *bk = b + k * m;

			for (j = 0; j < m; j++)
				o[j] += aik * bk[j];
		}
	}
}

/* Durbin's matrix method (Marsaglia-Tsang-Wang): Pr(D_n <= d). */
static double kolmogn_dmtw(int64_t n, double d)
{
	double nd = (double)n * d, h, fac, tt, p, *H, *P, *T, *v, *w;
	int64_t k, m, i, j, nn, expnt = 0, hexpnt = 0;

	if (d >= 1.0)
		return 1.0;
	if (nd <= 0.5)
		return 0.0;
	k = (int64_t)ceil(nd);
	h = (double)k - nd;
	m = 2 * k - 1;
	H = calloc((size_t)(m * m), sizeof(double));
	P = calloc((size_t)(m * m), sizeof(double));
	T = calloc((size_t)(m * m), sizeof(double));
	v = calloc((size_t)m, sizeof(double));
	w = calloc((size_t)m, sizeof(double));
	if (!H || !P || !T || !v || !w) {
		p = NAN;
		goto done;
	}
	for (j = 1; j <= m; j++)
		v[j - 1] = 1.0 - pow(h, (double)j);
	fac = 1.0;
	for (j = 1; j <= m; j++) {
		w[j - 1] = fac;
		fac /= (double)j;
		v[j - 1] *= fac;
	}
	tt = pow(fmax(2 * h - 1.0, 0), (double)m) - 2 * pow(h, (double)m);
	v[m - 1] = (1.0 + tt) * fac;
	for (i = 1; i < m; i++)
		for (j = i - 1; j < m; j++)
			H[j * m + i] = w[j - (i - 1)];
	for (j = 0; j < m; j++)
		H[j * m] = v[j];
	for (j = 0; j < m; j++)
		H[(m - 1) * m + j] = v[m - 1 - j];
	for (i = 0; i < m; i++)
		P[i * m + i] = 1.0;
	for (nn = n; nn > 0; nn /= 2) {
		double *s;

		if (nn % 2) {
			matmul(T, P, H, m);
			s = P, P = T, T = s;
			expnt += hexpnt;
		}
		matmul(T, H, H, m);
		s = H, H = T, T = s;
		hexpnt *= 2;
		if (fabs(H[(k - 1) * m + (k - 1)]) > EP128) {
			for (i = 0; i < m * m; i++)
				H[i] /= EP128;
			hexpnt += 128;
		}
	}
	p = P[(k - 1) * m + (k - 1)];
	for (i = 1; i <= n; i++) {
		p = (double)i * p / (double)n;
		if (fabs(p) < EM128) {
			p *= EP128;
			expnt -= 128;
		}
	}
	if (expnt != 0)
		p = ldexp(p, (int)expnt);
done:
	free(H);
	free(P);
	free(T);
	free(v);
	free(w);
	return p;
}

static void pomeranz_j1j2(int64_t *j1o, int64_t *j2o, int64_t i, int64_t n,
			  int64_t ll, int64_t ceilf, int64_t roundf)
{
	int64_t j1, j2;

	if (i == 0) {
		j1 = -ll - ceilf - 1;
		j2 = ll + ceilf - 1;
	} else {
		int64_t d = (i + 1) / 2, r = (i + 1) % 2;

		if (r == 0) {
			if (d == n + 1) {
				j1 = n - ll - ceilf - 1;
				j2 = n + ll + ceilf - 1;
			} else {
				j1 = d - 1 - ll - roundf - 1;
				j2 = d + ll - 1 + ceilf - 1;
			}
		} else {
			j1 = d - 1 - ll - 1;
			j2 = d + ll + roundf - 1;
		}
	}
	*j1o = j1 + 2 > 0 ? j1 + 2 : 0;
	*j2o = j2 < n ? j2 : n;
}

/* Pomeranz's recursion (1974): Pr(D_n <= x), used for n <= 140. */
static double kolmogn_pomeranz(int64_t n, double x)
{
	double t = (double)n * x, f, g, *gp, *tgp, *omgp, *V0, *V1, *conv,
	       ans = NAN;
	int64_t ll = (int64_t)floor(t), ceilf, roundf, npw, i, j1, j2, V0s = 0,
		V1s = 0, expnt = 0, m;

	f = t - (double)ll;
	g = fmin(f, 1.0 - f);
	ceilf = f > 0 ? 1 : 0;
	roundf = f > 0.5 ? 1 : 0;
	npw = 2 * (ll + 1);
	gp = malloc((size_t)npw * sizeof(double));
	tgp = malloc((size_t)npw * sizeof(double));
	omgp = malloc((size_t)npw * sizeof(double));
	V0 = calloc((size_t)npw, sizeof(double));
	V1 = calloc((size_t)npw, sizeof(double));
	conv = calloc((size_t)(2 * npw + 1), sizeof(double));
	if (!gp || !tgp || !omgp || !V0 || !V1 || !conv)
		goto done;
	gp[0] = tgp[0] = omgp[0] = 1.0;
	for (m = 1; m < npw; m++) {
		gp[m] = gp[m - 1] * (g / (double)n) / (double)m;
		tgp[m] = tgp[m - 1] * (2 * g / (double)n) / (double)m;
		omgp[m] = omgp[m - 1] * ((1 - 2 * g) / (double)n) / (double)m;
	}
	V1[0] = 1;
	pomeranz_j1j2(&j1, &j2, 0, n, ll, ceilf, roundf);
	for (i = 1; i < 2 * n + 2; i++) {
		int64_t k1 = j1, ln2, s, xl, q, r, conv_start, conv_len;
		double *sw = V0, *pw, vmax = 0;

		V0 = V1;
		V1 = sw;
		s = V0s, V0s = V1s, V1s = s;
		memset(V1, 0, (size_t)npw * sizeof(double));
		pomeranz_j1j2(&j1, &j2, i, n, ll, ceilf, roundf);
		pw = (i == 1 || i == 2 * n + 1) ? gp : (i % 2 ? tgp : omgp);
		ln2 = j2 - k1 + 1;
		if (ln2 <= 0)
			continue;
		/* numpy slices clip at the array's end */
		s = k1 - V0s;
		xl = s + ln2 <= npw ? ln2 : npw - s;
		if (xl < 0)
			xl = 0;
		r = ln2 < npw ? ln2 : npw;
		for (q = 0; q < xl + r - 1; q++) {
			long double acc = 0;
			int64_t a;

			for (a = 0; a < xl; a++)
				if (q - a >= 0 && q - a < r)
					acc += (long double)V0[s + a] * pw[q - a];
			conv[q] = (double)acc;
		}
		conv_start = j1 - k1;
		conv_len = j2 - j1 + 1;
		for (q = 0; q < conv_len && q < npw; q++) {
			int64_t c = conv_start + q;

			V1[q] = (c >= 0 && c < xl + r - 1) ? conv[c] : 0;
			if (V1[q] > vmax)
				vmax = V1[q];
		}
		if (vmax > 0 && vmax < EM128) {
			for (q = 0; q < npw; q++)
				V1[q] *= EP128;
			expnt -= 128;
		}
		V1s = V0s + j1 - k1;
	}
	ans = (n - V1s >= 0 && n - V1s < npw) ? V1[n - V1s] : 0;
	for (m = 1; m <= n; m++) {
		if (fabs(ans) > EP128) {
			ans *= EM128;
			expnt += 128;
		}
		ans *= (double)m;
	}
	if (expnt != 0)
		ans = ldexp(ans, (int)expnt);
done:
	free(gp);
	free(tgp);
	free(omgp);
	free(V0);
	free(V1);
	free(conv);
	return ans;
}

/* Pelz-Good asymptotic series: Pr(D_n <= x). */
static double kolmogn_pelzgood(int64_t n, double x)
{
	double z, z2, z3, z4, z6, qlog, q, k1a, k1b, k2a, k2b, k2c, k3a, k3b,
	       k3c, k3d, K[4] = { 0, 0, 0, 0 }, sqrt3z, k2extra = 0,
	       k3extra = 0, pi2 = M_PI * M_PI, pi4 = pi2 * pi2,
	       pi6 = pi4 * pi2, sq2pi = sqrt(2 * M_PI);
	int64_t maxk, k;
	int i;

	if (x <= 0.0)
		return 0.0;
	if (x >= 1.0)
		return 1.0;
	z = sqrt((double)n) * x;
	z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
	qlog = -pi2 / 8 / z2;
	if (qlog < -708)
		return 0.0;
	q = exp(qlog);
	k1a = -z2;
	k1b = pi2 / 4;
	k2a = 6 * z6 + 2 * z4;
	k2b = (2 * z4 - 5 * z2) * pi2 / 4;
	k2c = pi4 * (1 - 2 * z2) / 16;
	k3d = pi6 * (5 - 30 * z2) / 64;
	k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
	k3b = pi2 * (135 * z4 - 96 * z6) / 4;
	k3a = -30 * z6 - 90 * pow(z, 8);
	maxk = (int64_t)ceil(16 * z / M_PI);
	for (k = maxk; k > 0; k--) {
		double mm = (double)(2 * k - 1), m2 = mm * mm, m4 = m2 * m2,
		       m6 = m4 * m2, qp = pow(q, (double)(8 * k));
		double c[4] = { 1.0, k1a + k1b * m2,
				k2a + k2b * m2 + k2c * m4,
				k3a + k3b * m2 + k3c * m4 + k3d * m6 };

		for (i = 0; i < 4; i++)
			K[i] = K[i] * qp + c[i];
	}
	for (i = 0; i < 4; i++)
		K[i] *= q * sq2pi;
	K[0] /= z;
	K[1] /= 6 * z4;
	K[2] /= 72 * pow(z, 7);
	K[3] /= 6480 * pow(z, 10);
	q = exp(-pi2 / 2 / z2);
	sqrt3z = sqrt(3.0) * z;
	for (k = maxk; k > 0; k--) {
		double ks2 = (double)(k * k), qk = pow(q, ks2),
		       kpi = M_PI * (double)k;

		k2extra += ks2 * qk;
		k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * ks2 * qk;
	}
	K[2] += k2extra * pi2 * sq2pi / (-36 * z3);
	K[3] += k3extra * pi2 * sq2pi / (216 * z6);
	for (i = 1; i < 4; i++)
		K[i] /= pow((double)n, i / 2.0);
	return K[0] + K[1] + K[2] + K[3];
}

double cnai_stat_kolmogn_sf(int64_t n, double x)
{
	double t, nx2, prob, cdf;

	if (n <= 0 || isnan(x))
		return NAN;
	if (x >= 1.0)
		return 0.0;
	if (x <= 0.0)
		return 1.0;
	t = (double)n * x;
	if (t <= 1.0) {
		if (t <= 0.5)
			return 1.0;
		if (n <= 140) {
			int64_t i;

			prob = 1.0;
			for (i = 1; i <= n; i++)
				prob *= (double)i * (1.0 / (double)n) *
					(2 * t - 1);
		} else {
			prob = exp(log_nfact_div_npow((double)n) +
				   (double)n * log(2 * t - 1));
		}
		return clip01(1.0 - prob);
	}
	if (t >= (double)(n - 1))
		return clip01(2 * pow(1.0 - x, (double)n));
	if (x >= 0.5)
		return clip01(2 * cnai_stat_smirnov(n, x));
	nx2 = t * x;
	if (n <= 140) {
		if (nx2 <= 0.754693)
			return clip01(1.0 - kolmogn_dmtw(n, x));
		if (nx2 <= 4)
			return clip01(1.0 - kolmogn_pomeranz(n, x));
		return clip01(2 * cnai_stat_smirnov(n, x));
	}
	if (nx2 >= 370.0)
		return 0.0;
	if (nx2 >= 2.2)
		return clip01(2 * cnai_stat_smirnov(n, x));
	if (nx2 >= 18.0)
		cdf = 1.0;
	else if (n <= 100000 && (double)n * pow(x, 1.5) <= 1.4)
		cdf = kolmogn_dmtw(n, x);
	else
		cdf = kolmogn_pelzgood(n, x);
	return clip01(1.0 - cdf);
}

int cnai_stat_ks_weighted(struct cnai_ks_result *out, const double *a,
			  const double *wa, size_t na, int64_t n1,
			  const double *b, const double *wb, size_t nb,
			  int64_t n2)
{
	double maxS = -INFINITY, minD = INFINITY, d, en, big, small, ca = 0,
	       cb = 0;
	size_t i = 0, j = 0;

	while (i < na || j < nb) {
		double v, diff;

		if (j >= nb || (i < na && a[i] <= b[j]))
			v = a[i];
		else
			v = b[j];
		while (i < na && a[i] <= v)
			ca += wa ? wa[i++] : (i++, 1.0);
		while (j < nb && b[j] <= v)
			cb += wb ? wb[j++] : (j++, 1.0);
		diff = ca / (double)n1 - cb / (double)n2;
		if (diff > maxS)
			maxS = diff;
		if (diff < minD)
			minD = diff;
	}
	minD = -minD;
	if (minD < 0)
		minD = 0;
	if (minD > 1)
		minD = 1;
	d = minD > maxS ? minD : maxS;
	out->statistic = d;
	if ((n1 > n2 ? n1 : n2) <= 10000) {
		int64_t g = gcd64(n1, n2), lcm = (n1 / g) * n2;
		int64_t h = (int64_t)nearbyint(d * (double)lcm);
		double p = cnai_stat_ks_exact_p(n1, n2, h);

		d = (double)h * 1.0 / (double)lcm;
		out->statistic = d;
		if (p >= 0) {
			out->p_value = clip01(p);
			out->mode = CNAI_KS_EXACT;
			return 0;
		}
	}
	big = (double)(n1 > n2 ? n1 : n2);
	small = (double)(n1 > n2 ? n2 : n1);
	en = big * small / (big + small);
	out->p_value = clip01(cnai_stat_kolmogn_sf((int64_t)nearbyint(en), d));
	out->mode = CNAI_KS_ASYMP;
	return 0;
}

int cnai_stat_ks(struct cnai_ks_result *out, const double *a, size_t na,
		 const double *b, size_t nb)
{
	return cnai_stat_ks_weighted(out, a, NULL, na, (int64_t)na, b, NULL,
				     nb, (int64_t)nb);
}

/* ---- distances on sorted samples ------------------------------------ */

/* Integral of |F_a - F_b|^p over x; p is 1 or 2 (before the root). */
static long double cdf_distance(int p, const double *a, const double *wa,
				size_t na, double sa, const double *b,
				const double *wb, size_t nb, double sb)
{
	long double sum = 0;
	double v, next, ca = 0, cb = 0;
	size_t i = 0, j = 0;

	if (!na || !nb)
		return NAN;
	v = a[0] < b[0] ? a[0] : b[0];
	for (;;) {
		double diff;

		while (i < na && a[i] <= v)
			ca += wa ? wa[i++] : (i++, 1.0);
		while (j < nb && b[j] <= v)
			cb += wb ? wb[j++] : (j++, 1.0);
		if (i >= na && j >= nb)
			break;
		if (j >= nb || (i < na && a[i] < b[j]))
			next = a[i];
		else
			next = b[j];
		diff = fabs(ca / sa - cb / sb);
		sum += (p == 1 ? (long double)diff : (long double)diff * diff) *
		       (long double)(next - v);
		v = next;
	}
	return sum;
}

double cnai_stat_wasserstein(const double *a, size_t na, const double *b,
			     size_t nb)
{
	return (double)cdf_distance(1, a, NULL, na, (double)na, b, NULL, nb,
				    (double)nb);
}

double cnai_stat_energy(const double *a, size_t na, const double *b,
			size_t nb)
{
	return sqrt(2.0) * sqrt((double)cdf_distance(2, a, NULL, na,
						     (double)na, b, NULL, nb,
						     (double)nb));
}

double cnai_stat_wasserstein_weighted(const double *a, const double *wa,
				      size_t na, double wa_sum,
				      const double *b, const double *wb,
				      size_t nb, double wb_sum)
{
	return (double)cdf_distance(1, a, wa, na, wa_sum, b, wb, nb, wb_sum);
}

double cnai_stat_energy_weighted(const double *a, const double *wa,
				 size_t na, double wa_sum, const double *b,
				 const double *wb, size_t nb, double wb_sum)
{
	return sqrt(2.0) * sqrt((double)cdf_distance(2, a, wa, na, wa_sum, b,
						     wb, nb, wb_sum));
}

double cnai_stat_std(const double *a, size_t n)
{
	long double s = 0, m, ss = 0;
	size_t i;

	if (!n)
		return NAN;
	for (i = 0; i < n; i++)
		s += a[i];
	m = s / n;
	for (i = 0; i < n; i++)
		ss += (a[i] - m) * (a[i] - m);
	return (double)sqrtl(ss / n);
}

/* ---- Anderson-Darling k-sample (k = 2) ------------------------------ */

void cnai_stat_anderson(double *stat_out, double *p_out, const double *a,
			size_t na, const double *b, size_t nb)
{
	static const double b0[] = { 0.675, 1.281, 1.645, 1.96, 2.326, 2.573,
				     3.085 };
	static const double b1[] = { -0.245, 0.25, 0.678, 1.149, 1.822, 2.364,
				     3.615 };
	static const double b2[] = { -0.105, -0.305, -0.362, -0.391, -0.396,
				     -0.345, -0.154 };
	static const double sig[] = { 0.25, 0.1, 0.05, 0.025, 0.01, 0.005,
				      0.001 };
	const double *s[2] = { a, b };
	size_t n[2] = { na, nb }, N = na + nb, i = 0, j = 0, distinct = 0;
	long double A2 = 0, acc[2] = { 0, 0 }, hs = 0, g = 0, H, h, aa, bb, cc,
		    dd, sig2;
	double crit[7], cmin, cmax, stat;
	int q;

	/* walk the distinct values of the pooled sample */
	while (i < na || j < nb) {
		double v = (j >= nb || (i < na && a[i] <= b[j])) ? a[i] : b[j];
		size_t i0 = i, j0 = j, lj;
		long double Bj;

		while (i < na && a[i] == v)
			i++;
		while (j < nb && b[j] == v)
			j++;
		lj = (i - i0) + (j - j0);
		Bj = (long double)(i0 + j0) + lj / 2.0L;
		distinct++;
		for (q = 0; q < 2; q++) {
			size_t right = q ? j : i, f = q ? j - j0 : i - i0;
			long double M = right - f / 2.0L,
				    num = N * M - Bj * n[q],
				    den = Bj * (N - Bj) - N * lj / 4.0L;

			acc[q] += lj / (long double)N * num * num / den;
		}
	}
	(void)s;
	A2 = (acc[0] / na + acc[1] / nb) * (N - 1.0L) / N;
	H = 1.0L / na + 1.0L / nb;
	for (i = N - 1; i > 1; i--) {
		hs += 1.0L / i;
		g += hs / (long double)(N - i + 1);
	}
	h = hs + 1;
	aa = (4 * g - 6) * 1 + (10 - 6 * g) * H;
	bb = (2 * g - 4) * 4 + 8 * h * 2 + (2 * g - 14 * h - 4) * H - 8 * h +
	     4 * g - 6;
	cc = (6 * h + 2 * g - 2) * 4 + (4 * h - 4 * g + 6) * 2 +
	     (2 * h - 6) * H + 4 * h;
	dd = (2 * h + 6) * 4 - 4 * h * 2;
	sig2 = (aa * N * N * N + bb * N * N + cc * N + dd) /
	       ((N - 1.0L) * (N - 2.0L) * (N - 3.0L));
	stat = (double)((A2 - 1) / sqrtl(sig2));
	*stat_out = stat;
	if (distinct < 2 || N < 4) {
		*p_out = NAN;
		return;
	}
	cmin = INFINITY, cmax = -INFINITY;
	for (q = 0; q < 7; q++) {
		crit[q] = b0[q] + b1[q] / 1.0 + b2[q] / 1;
		cmin = fmin(cmin, crit[q]);
		cmax = fmax(cmax, crit[q]);
	}
	if (stat < cmin) {
		*p_out = 0.25;
	} else if (stat > cmax) {
		*p_out = 0.001;
	} else {
		/* least-squares quadratic in log(sig), as numpy.polyfit */
		long double S[5] = { 0 }, T[3] = { 0 }, M[3][4], c[3];
		int r, k2;

		for (q = 0; q < 7; q++) {
			long double x = crit[q], y = logl(sig[q]), xp = 1;

			for (r = 0; r < 5; r++) {
				S[r] += xp;
				if (r < 3)
					T[r] += xp * y;
				xp *= x;
			}
		}
		/* unknowns c0 + c1 x + c2 x^2 */
		for (r = 0; r < 3; r++) {
			for (k2 = 0; k2 < 3; k2++)
				M[r][k2] = S[r + k2];
			M[r][3] = T[r];
		}
		for (r = 0; r < 3; r++) {
			int piv = r, rr;

			for (rr = r + 1; rr < 3; rr++)
				if (fabsl(M[rr][r]) > fabsl(M[piv][r]))
					piv = rr;
			for (k2 = 0; k2 < 4; k2++) {
				long double t = M[r][k2];

				M[r][k2] = M[piv][k2];
				M[piv][k2] = t;
			}
			for (rr = 0; rr < 3; rr++) {
				long double f;

				if (rr == r)
					continue;
				f = M[rr][r] / M[r][r];
				for (k2 = r; k2 < 4; k2++)
					M[rr][k2] -= f * M[r][k2];
			}
		}
		for (r = 0; r < 3; r++)
			c[r] = M[r][3] / M[r][r];
		*p_out = (double)expl(c[0] + c[1] * stat + c[2] * stat * stat);
	}
}

/* ---- Cramer-von Mises --------------------------------------------- */

/* K_nu(x) * exp(x) by the trapezoid rule on its cosh integral. */
static double bessel_k_scaled(double nu, double x)
{
	long double sum = 0, step = 1.0L / 64;
	int k;

	for (k = 0; k < 64 * 40; k++) {
		long double t = k * step, e = x * (coshl(t) - 1),
			    f = expl(-e) * coshl(nu * t);

		sum += k == 0 ? f / 2 : f;
		if (e > 800)
			break;
	}
	return (double)(sum * step);
}

static double cdf_cvm_inf(double x)
{
	double tot = 0, z;
	int k;

	for (k = 0; k < 1000; k++) {
		double u = exp(lgamma(k + 0.5) - lgamma(k + 1.0)) /
			   (pow(M_PI, 1.5) * sqrt(x));
		double y = 4 * k + 1, q = y * y / (16 * x);

		/* exp(-q) K(q) = exp(-2q) (K(q) exp(q)) */
		z = u * sqrt(y) * exp(-2 * q) * bessel_k_scaled(0.25, q);
		tot += z;
		if (fabs(z) < 1e-7)
			break;
	}
	return tot;
}

/* A frequency table: sorted distinct values and how often each occurs. */
struct freq {
	int64_t *v;
	double *f;
	size_t n;
};

/* out = x merged with y (frequencies of equal values added), + shift. */
static int freq_merge_shift(struct freq *out, const struct freq *x,
			    const struct freq *y, int64_t shift)
{
	size_t i = 0, j = 0, k = 0, cap = x->n + y->n;

	out->v = malloc((cap + 1) * sizeof(*out->v));
	out->f = malloc((cap + 1) * sizeof(*out->f));
	if (!out->v || !out->f)
		return -1;
	while (i < x->n || j < y->n) {
		if (j >= y->n || (i < x->n && x->v[i] < y->v[j])) {
			out->v[k] = x->v[i];
			out->f[k++] = x->f[i++];
		} else if (i >= x->n || y->v[j] < x->v[i]) {
			out->v[k] = y->v[j];
			out->f[k++] = y->f[j++];
		} else {
			out->v[k] = x->v[i];
			out->f[k++] = x->f[i++] + y->f[j++];
		}
	}
	for (i = 0; i < k; i++)
		out->v[i] += shift;
	out->n = k;
	return 0;
}

static int64_t gcd_i(int64_t a, int64_t b)
{
	while (b) {
		int64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * The exact p-value of the two-sample Cramer-von Mises statistic U for
 * samples of m and n (Xiao, Gordon and Yakovlev 2006, as Evidently's
 * _pval_cvm_2samp_exact counts it): the lattice-path recursion over
 * frequency tables of partial sums, then the share of paths whose sum
 * reaches zeta. NaN when out of memory.
 */
static double cvm_exact_p(double u, int64_t m, int64_t n)
{
	int64_t lcm = m / gcd_i(m, n) * n, a = lcm / m, b = lcm / n, mn = m * n,
		uu, v;
	double zeta, comb = 1, hits = 0;
	struct freq *gs = calloc((size_t)m + 1, sizeof(*gs)),
		    *next = calloc((size_t)m + 1, sizeof(*next));
	size_t i;
	int ok = gs && next;

	/* zeta = floor(lcm^2 (m + n) (6 U - mn (4 mn - 1)) / (6 mn^2)) */
	zeta = floor((double)(lcm * lcm) * (double)(m + n) *
		     (6 * u - (double)mn * (double)(4 * mn - 1)) /
		     (6.0 * (double)mn * (double)mn));
	for (i = 1; i <= (size_t)n; i++)
		comb = comb * (double)(m + (int64_t)i) / (double)i;
	if (ok && (gs[0].v = malloc(sizeof(int64_t))) &&
	    (gs[0].f = malloc(sizeof(double)))) {
		gs[0].v[0] = 0;
		gs[0].f[0] = 1;
		gs[0].n = 1;
	} else {
		ok = 0;
	}
	for (uu = 0; ok && uu <= n; uu++) {
		struct freq prev = { NULL, NULL, 0 }, *t;

		for (v = 0; ok && v <= m; v++) {
			int64_t d = a * v - b * uu;

			if (freq_merge_shift(&next[v], &prev, &gs[v], d * d) < 0)
				ok = 0;
			prev = next[v];
		}
		for (v = 0; v <= m; v++) {
			free(gs[v].v);
			free(gs[v].f);
			gs[v].v = NULL;
			gs[v].f = NULL;
			gs[v].n = 0;
		}
		t = gs;
		gs = next;
		next = t;
	}
	if (ok)
		for (i = 0; i < gs[m].n; i++)
			if ((double)gs[m].v[i] >= zeta)
				hits += gs[m].f[i];
	for (v = 0; gs && next && v <= m; v++) {
		free(gs[v].v);
		free(gs[v].f);
		free(next[v].v);
		free(next[v].f);
	}
	free(gs);
	free(next);
	return ok ? hits / comb : NAN;
}

void cnai_stat_cvm(double *stat_out, double *p_out, const double *a,
		   size_t na, const double *b, size_t nb)
{
	long double ua = 0, ub = 0, u, k = (long double)na * nb, N = na + nb,
		    t, et, vt, tn;
	size_t i = 0, j = 0;

	/* midranks of the pooled sample, walked in order */
	while (i < na || j < nb) {
		double v = (j >= nb || (i < na && a[i] <= b[j])) ? a[i] : b[j];
		size_t i0 = i, j0 = j, q;
		long double r;

		while (i < na && a[i] == v)
			i++;
		while (j < nb && b[j] == v)
			j++;
		r = (i0 + j0 + 1 + i + j) / 2.0L;
		for (q = i0; q < i; q++)
			ua += (r - (q + 1)) * (r - (q + 1));
		for (q = j0; q < j; q++)
			ub += (r - (q + 1)) * (r - (q + 1));
	}
	u = na * ua + nb * ub;
	t = u / (k * N) - (4 * k - 1) / (6 * N);
	*stat_out = (double)t;
	if (na < 2 || nb < 2) {
		*p_out = NAN;
		return;
	}
	if (na <= 20 && nb <= 20) {
		/* Evidently's method "auto": exact up to 20 values a side */
		*p_out = cvm_exact_p((double)u, (int64_t)na, (int64_t)nb);
		return;
	}
	et = (1 + 1 / N) / 6;
	vt = (N + 1.0L) * (4 * k * N - 3 * ((long double)na * na +
					    (long double)nb * nb) - 2 * k);
	vt = vt / (45 * N * N * 4 * k);
	tn = 1.0L / 6 + (t - et) / sqrtl(45 * vt);
	if (tn < 0.003)
		*p_out = 1.0;
	else
		*p_out = fmax(0, 1.0 - cdf_cvm_inf((double)tn));
}

/* ---- chi-square, normal, Z ---------------------------------------- */

double cnai_stat_gammaq(double a, double x)
{
	long double lnpre, sum, del, ap, b, c, d, hh, an;
	int i;

	if (isnan(x) || isnan(a) || a <= 0)
		return NAN;
	if (x <= 0)
		return 1.0;
	if (isinf(x))
		return 0.0;
	lnpre = -x + a * logl(x) - lgammal(a);
	if (x < a + 1) {
		ap = a;
		sum = del = 1.0L / a;
		for (i = 0; i < 100000; i++) {
			ap += 1;
			del *= x / ap;
			sum += del;
			if (fabsl(del) < fabsl(sum) * LDBL_EPSILON)
				break;
		}
		return (double)(1.0L - sum * expl(lnpre));
	}
	b = x + 1 - a;
	c = 1.0L / LDBL_MIN;
	d = 1.0L / b;
	hh = d;
	for (i = 1; i < 100000; i++) {
		an = -i * (i - (long double)a);
		b += 2;
		d = an * d + b;
		if (fabsl(d) < LDBL_MIN)
			d = LDBL_MIN;
		c = b + an / c;
		if (fabsl(c) < LDBL_MIN)
			c = LDBL_MIN;
		d = 1.0L / d;
		del = d * c;
		hh *= del;
		if (fabsl(del - 1) < LDBL_EPSILON)
			break;
	}
	return (double)(expl(lnpre) * hh);
}

double cnai_stat_chi2_sf(double x, double dof)
{
	if (!(dof > 0))
		return NAN;
	return cnai_stat_gammaq(dof / 2, x / 2);
}

/* cephes ndtr: erf near zero, erfc in the tails */
double cnai_stat_norm_cdf(double a)
{
	double x = a * M_SQRT1_2, z = fabs(x), y;

	if (z < M_SQRT1_2)
		return 0.5 + 0.5 * erf(x);
	y = 0.5 * erfc(z);
	return x > 0 ? 1.0 - y : y;
}

void cnai_stat_chisquare_gof(double *stat_out, double *p_out,
			     const int64_t *ref, const int64_t *cur, size_t k)
{
	int64_t nref = 0, ncur = 0;
	long double stat = 0;
	double knorm;
	size_t i;

	for (i = 0; i < k; i++) {
		nref += ref[i];
		ncur += cur[i];
	}
	knorm = (double)ncur / (double)nref;
	for (i = 0; i < k; i++) {
		double e = (double)ref[i] * knorm, o = (double)cur[i];

		if (e == 0) {
			stat = o > 0 ? INFINITY : stat;
			continue;
		}
		stat += (long double)(o - e) * (o - e) / e;
	}
	*stat_out = (double)stat;
	*p_out = cnai_stat_chi2_sf((double)stat, (double)k - 1);
}

void cnai_stat_chi2_contingency(double *stat_out, double *p_out,
				const int64_t *ref, const int64_t *cur,
				size_t k)
{
	int64_t nref = 0, ncur = 0;
	long double stat = 0, n;
	size_t i;

	for (i = 0; i < k; i++) {
		nref += ref[i];
		ncur += cur[i];
	}
	n = (long double)nref + ncur;
	if (k < 2) {
		*stat_out = 0;
		*p_out = 1.0;
		return;
	}
	for (i = 0; i < k; i++) {
		long double col = (long double)ref[i] + cur[i];
		long double e1 = nref * col / n, e2 = ncur * col / n;

		stat += (ref[i] - e1) * (ref[i] - e1) / e1 +
			(cur[i] - e2) * (cur[i] - e2) / e2;
	}
	*stat_out = (double)stat;
	*p_out = cnai_stat_chi2_sf((double)stat, (double)k - 1);
}

void cnai_stat_ztest(double *z_out, double *p_out, int64_t ref1, int64_t nref,
		     int64_t cur1, int64_t ncur, int same_single)
{
	double p1, p2, P, z;

	if (same_single) {
		*z_out = 0;
		*p_out = 1;
		return;
	}
	p1 = (double)ref1 / (double)nref;
	p2 = (double)cur1 / (double)ncur;
	P = (p1 * (double)nref + p2 * (double)ncur) / (double)(nref + ncur);
	z = (p1 - p2) /
	    sqrt(P * (1 - P) * (1.0 / (double)nref + 1.0 / (double)ncur));
	*z_out = z;
	*p_out = 2 * (1 - cnai_stat_norm_cdf(fabs(z)));
}

/* ---- binning and distances over shares ------------------------------ */

void cnai_stat_sturges_edges(double *edges, size_t *nbins, double lo,
			     double hi, size_t n)
{
	double ptp = hi - lo, width, step;
	size_t nb, i;

	if (lo == hi) {
		lo -= 0.5;
		hi += 0.5;
	}
	width = ptp / (log2((double)n) + 1.0);
	nb = width ? (size_t)ceil((hi - lo) / width) : 1;
	if (nb < 1)
		nb = 1;
	if (nb > 127)
		nb = 127;
	step = (hi - lo) / (double)nb;
	for (i = 0; i < nb; i++)
		edges[i] = (double)i * step + lo;
	edges[nb] = hi;
	*nbins = nb;
}

size_t cnai_stat_hist_bin(const double *edges, size_t nbins, double x)
{
	double lo = edges[0], hi = edges[nbins], norm = (double)nbins / (hi - lo);
	double f = (x - lo) * norm;
	long idx = (long)f;

	if (idx == (long)nbins)
		idx--;
	if (idx < 0)
		idx = 0;
	if (idx > (long)nbins - 1)
		idx = (long)nbins - 1;
	if (x < edges[idx])
		idx--;
	if (idx < 0)
		idx = 0;
	if (x >= edges[idx + 1] && idx != (long)nbins - 1)
		idx++;
	return (size_t)idx;
}

void cnai_stat_fill_zeroes(double *p, size_t k)
{
	double m = INFINITY, r;
	size_t i;

	for (i = 0; i < k; i++)
		if (p[i] != 0 && p[i] < m)
			m = p[i];
	if (isinf(m))
		return;
	r = m <= 0.0001 ? m / 1e6 : 0.0001;
	for (i = 0; i < k; i++)
		if (p[i] == 0)
			p[i] = r;
}

double cnai_stat_psi(const double *p, const double *q, size_t k)
{
	long double s = 0;
	size_t i;

	for (i = 0; i < k; i++)
		s += (long double)(p[i] - q[i]) * log(p[i] / q[i]);
	return (double)s;
}

static long double rel_entr(double x, double y)
{
	if (x > 0 && y > 0)
		return (long double)x * logl((long double)x / y);
	if (x == 0 && y >= 0)
		return 0;
	return INFINITY;
}

static long double total(const double *p, size_t k)
{
	long double s = 0;
	size_t i;

	for (i = 0; i < k; i++)
		s += p[i];
	return s;
}

double cnai_stat_jensenshannon(const double *p, const double *q, size_t k)
{
	long double sp = total(p, k), sq = total(q, k), l = 0, r = 0;
	size_t i;

	for (i = 0; i < k; i++) {
		double pi = (double)(p[i] / sp), qi = (double)(q[i] / sq);
		double m = (pi + qi) / 2.0;

		l += rel_entr(pi, m);
		r += rel_entr(qi, m);
	}
	return sqrt((double)((l + r) / 2.0L));
}

double cnai_stat_kl(const double *p, const double *q, size_t k)
{
	long double sp = total(p, k), sq = total(q, k), s = 0;
	size_t i;

	for (i = 0; i < k; i++)
		s += rel_entr((double)(p[i] / sp), (double)(q[i] / sq));
	return (double)s;
}

double cnai_stat_hellinger(const double *p, const double *q, size_t k,
			   double width)
{
	long double s = 0;
	size_t i;

	for (i = 0; i < k; i++)
		s += sqrtl((long double)p[i] * q[i]) * width;
	if (s < 0)
		s = 0;
	if (s > 1)
		s = 1;
	return sqrt((double)(1 - s));
}
