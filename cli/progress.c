/*
 * Progress on a terminal, the one display every command uses (declared in
 * cli/output.h). Two shapes share a display: transfer lines (push, pull),
 * and a single bar redrawn in place (training epochs).
 *
 * Transfers: the registry calls back from several worker threads, so one
 * mutex guards the state and the drawing; a redraw moves the cursor up
 * over the lines drawn last time, writes the blobs finished since (they
 * scroll up and stay) and then the ones in flight, and clears what is
 * below. Redraws are at least 100 ms apart: a terminal is slower than a
 * fast registry's callbacks, or a fast training loop's batches.
 */
#include "cli/output.h"

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

struct cnai_progress {
	pthread_mutex_t mu;
	struct bar *v;
	size_t n, alloc;
	size_t drawn; /* lines of bars in flight on the screen */
	double last;  /* time of the last redraw */
	int line;     /* a single bar is on the screen (cnai_progress_bar) */
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

static void redraw(struct cnai_progress *p, double now)
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

struct cnai_progress *cnai_progress_new(const struct cnai_ctx *ctx)
{
	struct cnai_progress *p;

	if (!ctx->stderr_tty || ctx->quiet || ctx->json)
		return NULL;
	if (!(p = calloc(1, sizeof(*p))))
		return NULL;
	pthread_mutex_init(&p->mu, NULL);
	return p;
}

void cnai_progress_transfer(void *arg, const char *digest, uint64_t done,
			    uint64_t total)
{
	struct cnai_progress *p = arg;
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

void cnai_progress_bar(struct cnai_progress *p, const char *label,
		       size_t done, size_t total, const char *suffix)
{
	int width = 24, fill = total ? (int)(width * done / total) : 0;
	char bar[32];
	double now;

	if (!p)
		return;
	now = now_s();
	if (now - p->last < REDRAW_S && done < total)
		return;
	p->last = now;
	p->line = 1;
	memset(bar, '=', (size_t)fill);
	memset(bar + fill, ' ', (size_t)(width - fill));
	bar[width] = '\0';
	fprintf(stderr, "\r%s [%s] %3d%%", label, bar,
		total ? (int)(100 * done / total) : 0);
	if (suffix && *suffix)
		fprintf(stderr, "  %s", suffix);
	fprintf(stderr, "\033[K");
}

void cnai_progress_free(struct cnai_progress *p)
{
	if (!p)
		return;
	if (p->line)
		fputs("\r\033[K", stderr);
	else
		redraw(p, now_s());
	pthread_mutex_destroy(&p->mu);
	free(p->v);
	free(p);
}
