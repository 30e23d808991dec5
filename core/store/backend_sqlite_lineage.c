/*
 * Lineage entities and edges, and graph walks, in SQLite. A walk is one
 * recursive query per direction; the reached set is kept sorted by id so
 * that edge filtering and lookups are binary searches, which keeps a
 * 10,000-node neighbourhood well under a second.
 */
#include "core/store/backend_sqlite.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/buf.h"
#include "core/util/banned.h"

int cnai_sqlite_lineage_entity(int64_t *out, struct cnai_store *s,
			       const char *kind, const char *ref,
			       const char *name)
{
	struct cnai_db *db = &s->db;
	sqlite3_stmt *st = NULL;
	int err;

	if ((err = cnai_db_prepare(
		     &st, db,
		     "INSERT INTO entities(kind, ref, name, created) VALUES "
		     "(?, ?, ?, ?) ON CONFLICT(kind, ref) DO UPDATE SET name "
		     "= coalesce(excluded.name, name) RETURNING id")) < 0)
		return err;
	cnai_db_bind_text(st, 1, kind);
	cnai_db_bind_text(st, 2, ref);
	cnai_db_bind_text(st, 3, name);
	sqlite3_bind_int64(st, 4, cnai_db_now_ms());
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		err = cnai_db_error(db, "recording lineage");
	sqlite3_finalize(st);
	return err;
}

int cnai_sqlite_lineage_edge(struct cnai_store *s, int64_t src, int64_t dst,
			     const char *relation)
{
	struct cnai_db *db = &s->db;
	sqlite3_stmt *st = NULL;
	int err;

	if ((err = cnai_db_prepare(&st, db,
				   "INSERT INTO edges(src, dst, relation, "
				   "created) VALUES (?, ?, ?, ?) ON CONFLICT "
				   "DO NOTHING")) < 0)
		return err;
	sqlite3_bind_int64(st, 1, src);
	sqlite3_bind_int64(st, 2, dst);
	cnai_db_bind_text(st, 3, relation);
	sqlite3_bind_int64(st, 4, cnai_db_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE)
		err = cnai_db_error(db, "recording lineage");
	sqlite3_finalize(st);
	return err;
}

int cnai_sqlite_lineage_resolve(int64_t *out, struct cnai_store *s,
				const char *ref)
{
	struct cnai_db *db = &s->db;
	struct cnai_buf hi = CNAI_BUF_INIT, dlo = CNAI_BUF_INIT,
			dhi = CNAI_BUF_INIT, names = CNAI_BUF_INIT;
	sqlite3_stmt *st = NULL;
	int64_t ids[11];
	size_t n = 0;
	int err, rc, prefix_ok = strlen(ref) >= 4;

	if (!*ref)
		return cnai_error_set(CNAI_EUSAGE, "empty reference");
	cnai_buf_addf(&hi, "%s\x7f", ref);
	cnai_buf_addf(&dlo, "sha256:%s", ref);
	cnai_buf_addf(&dhi, "sha256:%s\x7f", ref);
	if ((err = cnai_buf_oom(&hi)) < 0 || (err = cnai_buf_oom(&dlo)) < 0 ||
	    (err = cnai_buf_oom(&dhi)) < 0)
		goto cleanup;
	/* An exact ref wins outright; otherwise every prefix and name
	 * match is a candidate, and more than one is ambiguous. */
	if ((err = cnai_db_prepare(
		     &st, db,
		     "SELECT id, kind, ref, name, 0 FROM entities WHERE ref = ?1 "
		     "UNION SELECT id, kind, ref, name, 1 FROM entities WHERE "
		     "?5 AND ((ref >= ?1 AND ref < ?2) OR (ref >= ?3 AND ref < "
		     "?4)) UNION SELECT id, kind, ref, name, 1 FROM entities "
		     "WHERE name = ?1 ORDER BY 5, 1 LIMIT 11")) < 0)
		goto cleanup;
	cnai_db_bind_text(st, 1, ref);
	cnai_db_bind_text(st, 2, hi.buf);
	cnai_db_bind_text(st, 3, dlo.buf);
	cnai_db_bind_text(st, 4, dhi.buf);
	sqlite3_bind_int(st, 5, prefix_ok);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		size_t i;

		if (sqlite3_column_int(st, 4) == 0) {
			*out = id;
			goto cleanup;
		}
		for (i = 0; i < n && ids[i] != id; i++)
			;
		if (i < n)
			continue;
		ids[n++] = id;
		/* Refs as `cnai lineage` shows them: 12 hex digits. */
		cnai_buf_addf(&names, "%s%s %.*s%s%s", n > 1 ? ", " : "",
			      (const char *)sqlite3_column_text(st, 1),
			      strncmp((const char *)sqlite3_column_text(st, 2),
				      "sha256:", 7) ? 12 : 19,
			      (const char *)sqlite3_column_text(st, 2),
			      sqlite3_column_text(st, 3) ? " " : "",
			      sqlite3_column_text(st, 3)
				      ? (const char *)sqlite3_column_text(st, 3)
				      : "");
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		err = cnai_db_error(db, "resolving a reference");
		goto cleanup;
	}
	if (n == 0)
		err = cnai_error_set(CNAI_ENOTFOUND,
				     "'%s' not found in the lineage graph", ref);
	else if (n > 1)
		err = cnai_error_set(CNAI_EAMBIGUOUS,
				     "'%s' is ambiguous: %s%s", ref, names.buf,
				     n > 10 ? ", ..." : "");
	else
		*out = ids[0];
cleanup:
	sqlite3_finalize(st);
	cnai_buf_release(&hi);
	cnai_buf_release(&dlo);
	cnai_buf_release(&dhi);
	cnai_buf_release(&names);
	return err;
}

struct reached {
	int64_t id;
	int depth;
};

static int cmp_reached(const void *a, const void *b)
{
	int64_t x = ((const struct reached *)a)->id,
		y = ((const struct reached *)b)->id;

	return (x > y) - (x < y);
}

/* By id, then nearest first, then upstream first: a stable choice. */
static int cmp_reached_depth(const void *a, const void *b)
{
	const struct reached *x = a, *y = b;
	int c = cmp_reached(a, b), dx = x->depth < 0 ? -x->depth : x->depth,
	    dy = y->depth < 0 ? -y->depth : y->depth;

	if (c)
		return c;
	if (dx != dy)
		return (dx > dy) - (dx < dy);
	return (x->depth > y->depth) - (x->depth < y->depth);
}

/* The ids one walk has reached: open addressing, a power of two. */
struct seen {
	int64_t *ids;
	unsigned char *used;
	size_t n, cap;
};

static size_t seen_slot(const struct seen *s, int64_t id)
{
	size_t i = ((uint64_t)id * 0x9E3779B97F4A7C15ULL) >> 20 & (s->cap - 1);

	while (s->used[i] && s->ids[i] != id)
		i = (i + 1) & (s->cap - 1);
	return i;
}

/* Adds id: 1 if new, 0 if already there, < 0 out of memory. */
static int seen_add(struct seen *s, int64_t id)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		struct seen g = { NULL, NULL, 0, s->cap ? s->cap * 2 : 256 };

		g.ids = malloc(g.cap * sizeof(*g.ids));
		g.used = calloc(g.cap, 1);
		if (!g.ids || !g.used) {
			free(g.ids);
			free(g.used);
			return cnai_error_set(CNAI_ERROR, "out of memory");
		}
		for (i = 0; i < s->cap; i++)
			if (s->used[i]) {
				size_t k = seen_slot(&g, s->ids[i]);

				g.ids[k] = s->ids[i];
				g.used[k] = 1;
			}
		g.n = s->n;
		free(s->ids);
		free(s->used);
		*s = g;
	}
	i = seen_slot(s, id);
	if (s->used[i])
		return 0;
	s->ids[i] = id;
	s->used[i] = 1;
	s->n++;
	return 1;
}

/*
 * Appends to `set` every node reached from `start` in one direction, within
 * `depth` edges, at its shortest distance. A breadth-first walk, one indexed
 * query per node: each node and edge is looked at once. (A recursive query
 * cannot forget a node once reached, so it follows every path, and a graph
 * with many paths of many lengths, like a ladder, takes quadratic time.)
 */
static int collect(struct reached **set, size_t *n, size_t *alloc,
		   struct cnai_db *db, int64_t start, int down, int depth)
{
	static const char *const sql[] = {
		"SELECT src FROM edges WHERE dst = ?",
		"SELECT dst FROM edges WHERE src = ?",
	};
	struct seen seen = { NULL, NULL, 0, 0 };
	sqlite3_stmt *st = NULL;
	struct reached *g;
	size_t head = *n;
	int64_t from = start;
	int d = 0, err, rc, added;

	if ((err = cnai_db_prepare(&st, db, sql[down])) < 0)
		return err;
	if ((err = seen_add(&seen, start)) < 0)
		goto cleanup;
	err = 0;
	for (;;) {
		if (d < depth) {
			sqlite3_bind_int64(st, 1, from);
			while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
				int64_t id = sqlite3_column_int64(st, 0);

				if ((added = seen_add(&seen, id)) < 0) {
					err = added;
					break;
				}
				if (!added)
					continue;
				if (*n == *alloc) {
					*alloc = *alloc ? *alloc * 2 : 64;
					g = realloc(*set,
						    *alloc * sizeof(**set));
					if (!g) {
						err = cnai_error_set(
							CNAI_ERROR,
							"out of memory");
						break;
					}
					*set = g;
				}
				(*set)[*n].id = id;
				(*set)[*n].depth = down ? d + 1 : -(d + 1);
				(*n)++;
			}
			sqlite3_reset(st);
			if (err < 0)
				goto cleanup;
			if (rc != SQLITE_DONE) {
				err = cnai_db_error(db,
						    "walking the lineage graph");
				goto cleanup;
			}
		}
		/* the queue is the part of `set` this call appended */
		if (head == *n)
			break;
		from = (*set)[head].id;
		d = (*set)[head].depth;
		d = d < 0 ? -d : d;
		head++;
	}
cleanup:
	sqlite3_finalize(st);
	free(seen.ids);
	free(seen.used);
	return err;
}

static int fill_nodes(struct cnai_lineage_graph *g, struct cnai_db *db,
		      const struct reached *set, size_t n, int64_t start)
{
	sqlite3_stmt *st = NULL;
	size_t i, k = 0;
	int err;

	if (!(g->nodes = calloc(n + 1, sizeof(*g->nodes))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if ((err = cnai_db_prepare(&st, db,
				   "SELECT kind, ref, name, created FROM "
				   "entities WHERE id = ?")) < 0)
		return err;
	for (i = 0; i <= n && !err; i++) {
		struct cnai_lineage_node *node = &g->nodes[k];

		node->id = i == 0 ? start : set[i - 1].id;
		node->depth = i == 0 ? 0 : set[i - 1].depth;
		sqlite3_bind_int64(st, 1, node->id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			node->kind = cnai_db_column_strdup(st, 0);
			node->ref = cnai_db_column_strdup(st, 1);
			node->name = cnai_db_column_strdup(st, 2);
			node->created = sqlite3_column_int64(st, 3);
			k++;
		} else if (i == 0) {
			err = cnai_error_set(CNAI_ENOTFOUND,
					     "lineage entity %lld not found",
					     (long long)start);
		}
		sqlite3_reset(st);
	}
	g->nnodes = k;
	sqlite3_finalize(st);
	return err;
}

static int in_set(const struct reached *set, size_t n, int64_t id,
		  int64_t start)
{
	struct reached key = { id, 0 };

	return id == start ||
	       (n && bsearch(&key, set, n, sizeof(*set), cmp_reached));
}

static int fill_edges(struct cnai_lineage_graph *g, struct cnai_db *db,
		      const struct reached *set, size_t n, int64_t start)
{
	sqlite3_stmt *st = NULL;
	size_t i, alloc = 0;
	int err, rc;

	if ((err = cnai_db_prepare(&st, db,
				   "SELECT dst, relation FROM edges WHERE src "
				   "= ? ORDER BY dst, relation")) < 0)
		return err;
	for (i = 0; i < g->nnodes && !err; i++) {
		sqlite3_bind_int64(st, 1, g->nodes[i].id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t dst = sqlite3_column_int64(st, 0);
			struct cnai_lineage_edge *e;

			if (!in_set(set, n, dst, start))
				continue;
			if (g->nedges == alloc) {
				alloc = alloc ? alloc * 2 : 64;
				e = realloc(g->edges, alloc * sizeof(*e));
				if (!e) {
					err = cnai_error_set(CNAI_ERROR,
							     "out of memory");
					break;
				}
				g->edges = e;
			}
			e = &g->edges[g->nedges++];
			e->src = g->nodes[i].id;
			e->dst = dst;
			e->relation = cnai_db_column_strdup(st, 1);
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return err;
}

int cnai_sqlite_lineage_walk(struct cnai_lineage_graph **out,
			     struct cnai_store *s, int64_t start,
			     enum cnai_lineage_dir dir, int max_depth)
{
	struct cnai_db *db = &s->db;
	struct cnai_lineage_graph *g = calloc(1, sizeof(*g));
	struct reached *set = NULL;
	size_t n = 0, alloc = 0, i, k;
	int depth = max_depth > 0 ? max_depth : INT_MAX;
	int err = 0;

	/* Inside the caller's transaction, read in it and leave it be. */
	int own = sqlite3_get_autocommit(db->h);

	*out = NULL;
	if (!g)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if (own && (err = s->backend->begin_read(s)) < 0) {
		own = 0;
		goto fail;
	}
	if ((dir & CNAI_LINEAGE_UP) &&
	    (err = collect(&set, &n, &alloc, db, start, 0, depth)) < 0)
		goto fail;
	if ((dir & CNAI_LINEAGE_DOWN) &&
	    (err = collect(&set, &n, &alloc, db, start, 1, depth)) < 0)
		goto fail;
	if (n) /* set is NULL when nothing was reached */
		qsort(set, n, sizeof(*set), cmp_reached_depth);
	/* A node both upstream and downstream means a cycle; keep the
	 * nearer (upstream on a tie), which the sort put first. */
	for (i = 0, k = 0; i < n; i++)
		if (k == 0 || set[k - 1].id != set[i].id)
			set[k++] = set[i];
	n = k;
	if ((err = fill_nodes(g, db, set, n, start)) < 0 ||
	    (err = fill_edges(g, db, set, n, start)) < 0)
		goto fail;
	if (own)
		cnai_store_rollback(s);
	free(set);
	*out = g;
	return 0;
fail:
	if (own)
		cnai_store_rollback(s);
	free(set);
	cnai_lineage_graph_free(g);
	return err;
}
