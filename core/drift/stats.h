/*
 * The two-sample statistics of `cnai drift`, written to give the numbers
 * scipy (1.10) and Evidently give on the same data: Kolmogorov-Smirnov with
 * scipy's exact and asymptotic p-values, chi-square (goodness of fit and
 * contingency), the Z-test for two proportions, Wasserstein, energy
 * distance, Anderson-Darling k-sample, Cramer-von Mises, and the distances
 * over binned shares (PSI, Jensen-Shannon, Kullback-Leibler, Hellinger).
 * Pure functions over arrays: no I/O, no allocation beyond scratch space.
 * Numeric inputs are sorted ascending and hold no NaN or infinity.
 */
#ifndef CNAI_CORE_DRIFT_STATS_H
#define CNAI_CORE_DRIFT_STATS_H

#include <stddef.h>
#include <stdint.h>

/* How a KS p-value was computed (scipy's names). */
enum cnai_ks_mode { CNAI_KS_EXACT, CNAI_KS_ASYMP };

struct cnai_ks_result {
	double statistic; /* D; on the exact path h/lcm as scipy returns */
	double p_value;
	enum cnai_ks_mode mode;
};

/*
 * scipy.stats.ks_2samp(a, b) with method="auto": the exact distribution
 * when max(na, nb) <= 10000, else kstwo.sf(D, round(na*nb/(na+nb))).
 * Returns 0, or CNAI_ERROR when out of memory.
 */
int cnai_stat_ks(struct cnai_ks_result *out, const double *a, size_t na,
		 const double *b, size_t nb);
/*
 * The same over weighted samples (sorted distinct values `a` with weights
 * `wa`, NULL meaning 1 each): D between the weighted empirical CDFs, the
 * p-value for sample sizes `n1` and `n2` (the weights' sums).
 */
int cnai_stat_ks_weighted(struct cnai_ks_result *out, const double *a,
			  const double *wa, size_t na, int64_t n1,
			  const double *b, const double *wb, size_t nb,
			  int64_t n2);
/* The exact two-sided p-value for D = h / lcm(n1, n2); < 0 if it failed. */
double cnai_stat_ks_exact_p(int64_t n1, int64_t n2, int64_t h);
/* kstwo.sf(x, n): the one-sample two-sided KS survival function. */
double cnai_stat_kolmogn_sf(int64_t n, double x);
/* scipy.special.smirnov(n, x): one-sided exact KS survival function. */
double cnai_stat_smirnov(int64_t n, double x);

/* scipy.stats.wasserstein_distance(a, b) on sorted samples. */
double cnai_stat_wasserstein(const double *a, size_t na, const double *b,
			     size_t nb);
/* scipy.stats.energy_distance(a, b) on sorted samples. */
double cnai_stat_energy(const double *a, size_t na, const double *b,
			size_t nb);
/* Both over weighted samples (weights NULL = 1; wa_sum, wb_sum their
 * sums). */
double cnai_stat_wasserstein_weighted(const double *a, const double *wa,
				      size_t na, double wa_sum,
				      const double *b, const double *wb,
				      size_t nb, double wb_sum);
double cnai_stat_energy_weighted(const double *a, const double *wa,
				 size_t na, double wa_sum, const double *b,
				 const double *wb, size_t nb, double wb_sum);
/* Population standard deviation (ddof = 0). */
double cnai_stat_std(const double *a, size_t n);

/* scipy.stats.anderson_ksamp([a, b]) (midrank): statistic and p-value
 * (interpolated, capped to 0.001..0.25 as scipy does). */
void cnai_stat_anderson(double *stat_out, double *p_out, const double *a,
			size_t na, const double *b, size_t nb);
/* Evidently's cramer_von_mises (scipy's cramervonmises_2samp, method
 * "auto": the exact p-value up to 20 values a side, else asymptotic). */
void cnai_stat_cvm(double *stat_out, double *p_out, const double *a,
		   size_t na, const double *b, size_t nb);

/* Regularised upper incomplete gamma Q(a, x) (chi2.sf(x, k) = Q(k/2, x/2)). */
double cnai_stat_gammaq(double a, double x);
double cnai_stat_chi2_sf(double x, double dof);
/* Standard normal CDF. */
double cnai_stat_norm_cdf(double x);

/*
 * Evidently's chisquare: scipy.stats.chisquare(cur, ref * ncur / nref)
 * over k categories. A category absent from the reference gives inf, p 0.
 */
void cnai_stat_chisquare_gof(double *stat_out, double *p_out,
			     const int64_t *ref, const int64_t *cur, size_t k);
/* scipy.stats.chi2_contingency on the 2 x k table, correction=False. */
void cnai_stat_chi2_contingency(double *stat_out, double *p_out,
				const int64_t *ref, const int64_t *cur,
				size_t k);
/*
 * Evidently's Z-test for proportions: `ref1`/`cur1` count the values
 * other than the smallest. p = 1 when both samples hold one same value
 * (`same_single`).
 */
void cnai_stat_ztest(double *z_out, double *p_out, int64_t ref1, int64_t nref,
		     int64_t cur1, int64_t ncur, int same_single);

/*
 * numpy.histogram_bin_edges(x, bins="sturges") for `n` values spanning
 * [lo, hi]: fills *nbins; edges (nbins + 1 of them, at most 128) go to
 * `edges`.
 */
void cnai_stat_sturges_edges(double *edges, size_t *nbins, double lo,
			     double hi, size_t n);
/* The bin numpy.histogram puts `x` in (x within the edges). */
size_t cnai_stat_hist_bin(const double *edges, size_t nbins, double x);

/* Evidently's feel_zeroes: replaces zero shares in place. */
void cnai_stat_fill_zeroes(double *p, size_t k);
/* sum((p - q) * ln(p / q)) on shares with zeroes already filled. */
double cnai_stat_psi(const double *p, const double *q, size_t k);
/* scipy.spatial.distance.jensenshannon(p, q), natural log. */
double cnai_stat_jensenshannon(const double *p, const double *q, size_t k);
/* scipy.stats.entropy(p, q), natural log. */
double cnai_stat_kl(const double *p, const double *q, size_t k);
/* sqrt(1 - clip(sum sqrt(p q) * w)) (Evidently's Hellinger). */
double cnai_stat_hellinger(const double *p, const double *q, size_t k,
			   double width);

#endif
