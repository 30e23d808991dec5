/*
 * The progress display of push and pull. The registry calls back from
 * several worker threads, so one mutex guards the state and the drawing;
 * a redraw moves the cursor up over the lines drawn last time, writes the
 * blobs finished since (they scroll up and stay) and then the ones in
 * flight, and clears what is below. Redraws are at least 100 ms apart: a
 * terminal is slower than a fast registry's callbacks.
 */
#include "commands/package/progress.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util/hash.h"
#include "core/util/banned.h"

#define REDRAW_S 0.1

struct bar {
	char digest[CNAI_DIGEST_LEN];
	uint64_t done, total;
	double start;
};

struct package_progress {
	pthread_mutex_t mu;
	struct bar *v;
	size_t n, alloc;
	size_t drawn; /* lines of bars in flight on the screen */
	double last;  /* time of the last redraw */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* "812 B", "12.3 KiB", "1.5 GiB". */
static void bytes(char *out, size_t size, double n)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t u = 0;

	while (n >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		n /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, size, "%.0f B", n);
	else
		snprintf(out, size, "%.1f %s", n, unit[u]);
}

/* One bar's line, without its newline. Under 80 columns: a wrapped line
 * would throw the cursor arithmetic off. */
static void draw_bar(const struct bar *b, double now)
{
	char done[32], total[32], rate[32];
	double dt = now - b->start;

	bytes(done, sizeof(done), (double)b->done);
	bytes(total, sizeof(total), (double)b->total);
	if (b->done >= b->total) {
		fprintf(stderr, "\r\033[K%.19s  %-21s done\n", b->digest,
			total);
		return;
	}
	bytes(rate, sizeof(rate), dt > 0 ? (double)b->done / dt : 0);
	fprintf(stderr, "\r\033[K%.19s  %9s / %-9s  %9s/s\n", b->digest, done,
		total, rate);
}

static void redraw(struct package_progress *p, double now)
{
	size_t i, kept = 0;

	if (p->drawn)
		fprintf(stderr, "\033[%zuA", p->drawn);
	for (i = 0; i < p->n; i++)
		if (p->v[i].done >= p->v[i].total)
			draw_bar(&p->v[i], now);
	for (i = 0; i < p->n; i++) {
		if (p->v[i].done >= p->v[i].total)
			continue;
		draw_bar(&p->v[i], now);
		p->v[kept++] = p->v[i];
	}
	p->n = kept;
	p->drawn = kept;
	fprintf(stderr, "\r\033[J");
	fflush(stderr);
	p->last = now;
}

struct package_progress *package_progress_new(const struct cnai_ctx *ctx)
{
	struct package_progress *p;

	if (!ctx->stderr_tty || ctx->quiet || ctx->json)
		return NULL;
	if (!(p = calloc(1, sizeof(*p))))
		return NULL;
	pthread_mutex_init(&p->mu, NULL);
	return p;
}

void package_progress_update(void *arg, const char *digest, uint64_t done,
			     uint64_t total)
{
	struct package_progress *p = arg;
	struct bar *b = NULL;
	double now;
	size_t i;

	if (!p)
		return;
	now = now_s();
	pthread_mutex_lock(&p->mu);
	for (i = 0; i < p->n && !b; i++)
		if (!strcmp(p->v[i].digest, digest))
			b = &p->v[i];
	if (!b && p->n == p->alloc) {
		size_t alloc = p->alloc ? 2 * p->alloc : 16;
		struct bar *g = realloc(p->v, alloc * sizeof(*g));

		if (g) {
			p->v = g;
			p->alloc = alloc;
		}
	}
	if (!b && p->n < p->alloc) {
		b = &p->v[p->n++];
		snprintf(b->digest, sizeof(b->digest), "%s", digest);
		b->start = now;
	}
	if (b) {
		b->done = done;
		b->total = total;
	}
	if (now - p->last >= REDRAW_S)
		redraw(p, now);
	pthread_mutex_unlock(&p->mu);
}

void package_progress_free(struct package_progress *p)
{
	if (!p)
		return;
	redraw(p, now_s());
	pthread_mutex_destroy(&p->mu);
	free(p->v);
	free(p);
}
