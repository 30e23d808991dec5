/*
 * Tests for core/store/lineage.c: entity upserts, idempotent edges, walks
 * up, down and both ways with depth limits over a small DAG that has a
 * diamond, reference resolution, and walks over a 10,000-node chain and a
 * 10,000-node fan-out (correctness only; no timings are asserted).
 *
 * The small graph (arrows point from a source to what was made of it):
 *
 *	d1   d2
 *	  \ /
 *	  r1
 *	 /  \
 *	m    a
 *	 \  /
 *	  i
 *	 / \
 *	s   dep
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/store/lineage.h"
#include "core/store/store_impl.h"
#include "core/util/buf.h"
#include "core/util/error.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

enum { D1, D2, R1, M, A, I, S, DEP, NSMALL };

struct gfixture {
	struct fixture base; /* first: fixture_teardown frees it */
	int64_t id[NSMALL];
};

static const struct {
	const char *kind, *ref, *name;
} small[NSMALL] = {
	[D1] = { CNAI_ENTITY_DATASET,
		 "sha256:d1d1d1d1000000000000000000000000000000000000000000000000"
		 "00000000",
		 "train.csv" },
	[D2] = { CNAI_ENTITY_DATASET,
		 "sha256:d2d2d2d2000000000000000000000000000000000000000000000000"
		 "00000000",
		 "test.csv" },
	[R1] = { CNAI_ENTITY_RUN, "abcdef00112233445566778899aabbcc", "fit" },
	[M] = { CNAI_ENTITY_MODEL, "iris@1", "iris" },
	[A] = { CNAI_ENTITY_ARTIFACT,
		"sha256:aaaa0000000000000000000000000000000000000000000000000000"
		"00000000",
		NULL },
	[I] = { CNAI_ENTITY_IMAGE,
		"sha256:1111000000000000000000000000000000000000000000000000000000"
		"000000",
		"iris-image" },
	[S] = { CNAI_ENTITY_SIGNATURE, "sig-1", NULL },
	[DEP] = { CNAI_ENTITY_DEPLOYMENT, "prod/iris", "iris" },
};

static const int small_edges[][2] = {
	{ D1, R1 }, { D2, R1 }, { R1, M }, { R1, A },
	{ M, I },   { A, I },   { I, S },  { I, DEP },
};

static int setup(void **state)
{
	struct gfixture *gf;
	struct cnai_store *s;
	size_t i;

	if (fixture_setup_store(state) < 0)
		return -1;
	if (!(gf = realloc(*state, sizeof(*gf))))
		return -1;
	*state = gf;
	s = gf->base.st;
	if (cnai_store_begin_write(s) < 0)
		return -1;
	for (i = 0; i < NSMALL; i++)
		if (cnai_lineage_entity(&gf->id[i], s, small[i].kind,
					small[i].ref, small[i].name) < 0)
			return -1;
	for (i = 0; i < sizeof(small_edges) / sizeof(*small_edges); i++)
		if (cnai_lineage_edge(s, gf->id[small_edges[i][0]],
				      gf->id[small_edges[i][1]], "made") < 0)
			return -1;
	return cnai_store_commit(s);
}

static struct cnai_store *store_of(struct gfixture *gf)
{
	return gf->base.st;
}

/*
 * Describes a walk: nodes by letter name and depth in `order`, then the
 * edges, each "x>y", sorted. E.g. "r1:0 m:1 a:1 | r1>a r1>m".
 */
static const char *const letters[NSMALL] = { "d1", "d2", "r1", "m",
					      "a",  "i",  "s",  "dep" };

static const char *name_of(struct gfixture *gf, int64_t id)
{
	size_t i;

	for (i = 0; i < NSMALL; i++)
		if (gf->id[i] == id)
			return letters[i];
	return "?";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *describe(struct gfixture *gf, int start,
		      enum cnai_lineage_dir dir, int depth)
{
	struct cnai_lineage_graph *g = NULL;
	struct cnai_buf out = CNAI_BUF_INIT;
	char *edges[64];
	size_t i, k;

	if (cnai_lineage_walk(&g, store_of(gf), gf->id[start], dir, depth) < 0)
		fail_msg("walk: %s", fixture_errmsg());
	assert_int_equal(g->nodes[0].id, gf->id[start]);
	/* nodes in the order of the letters, so the text is stable */
	for (k = 0; k < NSMALL; k++) {
		long at = cnai_lineage_graph_find(g, gf->id[k]);

		if (at >= 0)
			cnai_buf_addf(&out, "%s:%d ", letters[k],
				      g->nodes[at].depth);
	}
	cnai_buf_adds(&out, "|");
	assert_true(g->nedges < 64);
	for (i = 0; i < g->nedges; i++) {
		struct cnai_buf e = CNAI_BUF_INIT;

		assert_string_equal(g->edges[i].relation, "made");
		cnai_buf_addf(&e, "%s>%s", name_of(gf, g->edges[i].src),
			      name_of(gf, g->edges[i].dst));
		edges[i] = cnai_buf_detach(&e);
	}
	qsort(edges, g->nedges, sizeof(*edges), cmp_str);
	for (i = 0; i < g->nedges; i++) {
		cnai_buf_addf(&out, " %s", edges[i]);
		free(edges[i]);
	}
	/* each node once */
	for (i = 0; i < g->nnodes; i++)
		for (k = i + 1; k < g->nnodes; k++)
			assert_true(g->nodes[i].id != g->nodes[k].id);
	cnai_lineage_graph_free(g);
	assert_int_equal(cnai_buf_oom(&out), 0);
	return cnai_buf_detach(&out);
}

#define CHECK_WALK(gf, start, dir, depth, want)                           \
	do {                                                              \
		char *got_ = describe(gf, start, dir, depth);             \
		assert_string_equal(got_, want);                          \
		free(got_);                                               \
	} while (0)

static void test_lineage__entity_upsert_returns_same_id(void **state)
{
	struct gfixture *gf = *state;
	struct cnai_store *s = store_of(gf);
	sqlite3_stmt *st = NULL;
	int64_t id = 0, again = 0;

	assert_int_equal(cnai_store_begin_write(s), 0);
	assert_int_equal(cnai_lineage_entity(&id, s, CNAI_ENTITY_RUN,
					     small[R1].ref, NULL),
			 0);
	assert_int_equal(id, gf->id[R1]);
	/* a name given later replaces it; NULL keeps it */
	assert_int_equal(cnai_lineage_entity(&again, s, CNAI_ENTITY_RUN,
					     small[R1].ref, "refit"),
			 0);
	assert_int_equal(again, id);
	/* the same ref as another kind is another entity */
	assert_int_equal(cnai_lineage_entity(&again, s, CNAI_ENTITY_MODEL,
					     small[R1].ref, NULL),
			 0);
	assert_true(again != id);
	/* edges are idempotent */
	assert_int_equal(cnai_lineage_edge(s, gf->id[D1], gf->id[R1],
					   "made"),
			 0);
	assert_int_equal(cnai_store_commit(s), 0);
	assert_int_equal(cnai_db_prepare(&st, &s->db,
					 "SELECT name, (SELECT count(*) FROM "
					 "entities), (SELECT count(*) FROM "
					 "edges) FROM entities WHERE id = ?"),
			 0);
	sqlite3_bind_int64(st, 1, id);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0),
			    "refit");
	assert_int_equal(sqlite3_column_int(st, 1), NSMALL + 1);
	assert_int_equal(sqlite3_column_int(st, 2), 8);
	sqlite3_finalize(st);
}

static void test_lineage__walk_down(void **state)
{
	struct gfixture *gf = *state;

	CHECK_WALK(gf, R1, CNAI_LINEAGE_DOWN, 0,
		   "r1:0 m:1 a:1 i:2 s:3 dep:3 "
		   "| a>i i>dep i>s m>i r1>a r1>m");
	CHECK_WALK(gf, R1, CNAI_LINEAGE_DOWN, 1, "r1:0 m:1 a:1 | r1>a r1>m");
	/* the diamond's tip: reached twice, listed once, both edges */
	CHECK_WALK(gf, R1, CNAI_LINEAGE_DOWN, 2,
		   "r1:0 m:1 a:1 i:2 | a>i m>i r1>a r1>m");
	/* from one side of the diamond the other side is not reached, nor
	 * its edge into the tip */
	CHECK_WALK(gf, M, CNAI_LINEAGE_DOWN, -1, "m:0 i:1 s:2 dep:2 | i>dep i>s m>i");
	CHECK_WALK(gf, S, CNAI_LINEAGE_DOWN, 0, "s:0 |");
}

static void test_lineage__walk_up(void **state)
{
	struct gfixture *gf = *state;

	CHECK_WALK(gf, I, CNAI_LINEAGE_UP, 0,
		   "d1:-3 d2:-3 r1:-2 m:-1 a:-1 i:0 "
		   "| a>i d1>r1 d2>r1 m>i r1>a r1>m");
	CHECK_WALK(gf, I, CNAI_LINEAGE_UP, 2,
		   "r1:-2 m:-1 a:-1 i:0 | a>i m>i r1>a r1>m");
	CHECK_WALK(gf, DEP, CNAI_LINEAGE_UP, 1, "i:-1 dep:0 | i>dep");
	CHECK_WALK(gf, D1, CNAI_LINEAGE_UP, 0, "d1:0 |");
}

static void test_lineage__walk_both(void **state)
{
	struct gfixture *gf = *state;

	CHECK_WALK(gf, R1, CNAI_LINEAGE_BOTH, 1,
		   "d1:-1 d2:-1 r1:0 m:1 a:1 | d1>r1 d2>r1 r1>a r1>m");
	CHECK_WALK(gf, M, CNAI_LINEAGE_BOTH, 0,
		   "d1:-2 d2:-2 r1:-1 m:0 i:1 s:2 dep:2 "
		   "| d1>r1 d2>r1 i>dep i>s m>i r1>m");
}

static void test_lineage__walk_inside_a_write_transaction(void **state)
{
	struct gfixture *gf = *state;
	struct cnai_store *s = store_of(gf);
	int64_t extra;

	/* sees the caller's uncommitted entity, and leaves the transaction
	 * open for the caller to commit */
	assert_int_equal(cnai_store_begin_write(s), 0);
	assert_int_equal(cnai_lineage_entity(&extra, s, CNAI_ENTITY_DRIFT,
					     "drift-1", NULL),
			 0);
	assert_int_equal(cnai_lineage_edge(s, gf->id[DEP], extra, "made"), 0);
	CHECK_WALK(gf, I, CNAI_LINEAGE_DOWN, 1, "i:0 s:1 dep:1 | i>dep i>s");
	{
		struct cnai_lineage_graph *g = NULL;

		assert_int_equal(cnai_lineage_walk(&g, s, gf->id[DEP],
						   CNAI_LINEAGE_DOWN, 0),
				 0);
		assert_int_equal(g->nnodes, 2);
		cnai_lineage_graph_free(g);
	}
	assert_int_equal(sqlite3_get_autocommit(s->db.h), 0);
	assert_int_equal(cnai_store_commit(s), 0);
}

static void test_lineage__walk_through_a_cycle(void **state)
{
	struct gfixture *gf = *state;
	struct cnai_store *s = store_of(gf);

	/* s -> r1 closes r1 -> m -> i -> s; a node met both ways is kept
	 * once, at the nearer distance, upstream on a tie */
	assert_int_equal(cnai_lineage_edge(s, gf->id[S], gf->id[R1], "made"),
			 0);
	CHECK_WALK(gf, R1, CNAI_LINEAGE_BOTH, 0,
		   "d1:-1 d2:-1 r1:0 m:1 a:1 i:-2 s:-1 dep:3 "
		   "| a>i d1>r1 d2>r1 i>dep i>s m>i r1>a r1>m s>r1");
	CHECK_WALK(gf, R1, CNAI_LINEAGE_DOWN, 0,
		   "r1:0 m:1 a:1 i:2 s:3 dep:3 "
		   "| a>i i>dep i>s m>i r1>a r1>m s>r1");
}

static void test_lineage__walk_from_unknown_entity(void **state)
{
	struct gfixture *gf = *state;
	struct cnai_lineage_graph *g = (struct cnai_lineage_graph *)1;

	assert_int_equal(cnai_lineage_walk(&g, store_of(gf), 999999,
					   CNAI_LINEAGE_BOTH, 0),
			 CNAI_ENOTFOUND);
	assert_null(g);
	assert_string_equal(fixture_errmsg(),
			    "lineage entity 999999 not found");
	cnai_lineage_graph_free(NULL);
}

static void test_lineage__resolve(void **state)
{
	struct gfixture *gf = *state;
	struct cnai_store *s = store_of(gf);
	int64_t id = 0;

	/* exact ref */
	assert_int_equal(cnai_lineage_resolve(&id, s, small[S].ref), 0);
	assert_int_equal(id, gf->id[S]);
	assert_int_equal(cnai_lineage_resolve(&id, s, small[I].ref), 0);
	assert_int_equal(id, gf->id[I]);
	/* prefix of a run id; of a digest, with and without the algorithm */
	assert_int_equal(cnai_lineage_resolve(&id, s, "abcd"), 0);
	assert_int_equal(id, gf->id[R1]);
	assert_int_equal(cnai_lineage_resolve(&id, s, "sha256:d1d1"), 0);
	assert_int_equal(id, gf->id[D1]);
	assert_int_equal(cnai_lineage_resolve(&id, s, "d2d2d2"), 0);
	assert_int_equal(id, gf->id[D2]);
	/* name */
	assert_int_equal(cnai_lineage_resolve(&id, s, "train.csv"), 0);
	assert_int_equal(id, gf->id[D1]);
	assert_int_equal(cnai_lineage_resolve(&id, s, "fit"), 0);
	assert_int_equal(id, gf->id[R1]);
}

static void test_lineage__resolve_ambiguous_and_missing(void **state)
{
	struct gfixture *gf = *state;
	struct cnai_store *s = store_of(gf);
	int64_t id = 0;

	/* two entities are named "iris" */
	assert_int_equal(cnai_lineage_resolve(&id, s, "iris"),
			 CNAI_EAMBIGUOUS);
	assert_string_equal(fixture_errmsg(),
			    "'iris' is ambiguous: model_version iris@1 iris, "
			    "deployment prod/iris iris");
	/* a digest prefix both datasets share */
	assert_int_equal(cnai_lineage_resolve(&id, s, "sha256:d"),
			 CNAI_EAMBIGUOUS);
	assert_non_null(strstr(fixture_errmsg(), "dataset sha256:d1d1d1d1000"));
	assert_non_null(strstr(fixture_errmsg(), "dataset sha256:d2d2d2d2000"));
	/* under four characters is no prefix */
	assert_int_equal(cnai_lineage_resolve(&id, s, "abc"), CNAI_ENOTFOUND);
	assert_string_equal(fixture_errmsg(),
			    "'abc' not found in the lineage graph");
	assert_int_equal(cnai_lineage_resolve(&id, s, "ffff"),
			 CNAI_ENOTFOUND);
	assert_int_equal(cnai_lineage_resolve(&id, s, ""), CNAI_EUSAGE);
	/* an exact ref wins over a name and prefixes */
	assert_int_equal(cnai_lineage_resolve(&id, s, "iris@1"), 0);
	assert_int_equal(id, gf->id[M]);
}

/* Adds n entities named "<tag><i>" and returns the first id (ids are
 * consecutive: one transaction, nothing else writing). */
static int64_t add_nodes(struct cnai_store *s, const char *tag, int n)
{
	char ref[64];
	int64_t id, first = 0;
	int i;

	for (i = 0; i < n; i++) {
		snprintf(ref, sizeof(ref), "%s%05d", tag, i);
		assert_int_equal(cnai_lineage_entity(&id, s,
						     CNAI_ENTITY_ARTIFACT, ref,
						     NULL),
				 0);
		if (i == 0)
			first = id;
		assert_int_equal(id, first + i);
	}
	return first;
}

enum { BIG = 10000 };

static void test_lineage__long_chain(void **state)
{
	struct gfixture *gf = *state;
	struct cnai_store *s = store_of(gf);
	struct cnai_lineage_graph *g = NULL;
	int64_t first;
	size_t i;
	int j;

	assert_int_equal(cnai_store_begin_write(s), 0);
	first = add_nodes(s, "chain", BIG);
	for (j = 0; j + 1 < BIG; j++)
		assert_int_equal(cnai_lineage_edge(s, first + j, first + j + 1,
						   "next"),
				 0);
	assert_int_equal(cnai_store_commit(s), 0);

	assert_int_equal(cnai_lineage_walk(&g, s, first, CNAI_LINEAGE_DOWN, 0),
			 0);
	assert_int_equal(g->nnodes, BIG);
	assert_int_equal(g->nedges, BIG - 1);
	for (i = 0; i < g->nnodes; i++)
		if (g->nodes[i].depth != (int)(g->nodes[i].id - first))
			fail_msg("node %lld at depth %d",
				 (long long)g->nodes[i].id, g->nodes[i].depth);
	for (i = 0; i < g->nedges; i++)
		assert_int_equal(g->edges[i].dst, g->edges[i].src + 1);
	cnai_lineage_graph_free(g);

	/* from the far end, upward */
	assert_int_equal(cnai_lineage_walk(&g, s, first + BIG - 1,
					   CNAI_LINEAGE_UP, 0),
			 0);
	assert_int_equal(g->nnodes, BIG);
	assert_int_equal(g->nedges, BIG - 1);
	for (i = 0; i < g->nnodes; i++)
		if (g->nodes[i].depth != (int)(g->nodes[i].id - first) -
						 (BIG - 1))
			fail_msg("node %lld at depth %d",
				 (long long)g->nodes[i].id, g->nodes[i].depth);
	cnai_lineage_graph_free(g);

	/* from the middle, both ways, limited */
	assert_int_equal(cnai_lineage_walk(&g, s, first + BIG / 2,
					   CNAI_LINEAGE_BOTH, 100),
			 0);
	assert_int_equal(g->nnodes, 201);
	assert_int_equal(g->nedges, 200);
	assert_int_equal(cnai_lineage_graph_find(g, first + BIG / 2 - 101),
			 -1);
	assert_true(cnai_lineage_graph_find(g, first + BIG / 2 + 100) > 0);
	cnai_lineage_graph_free(g);
}

static void test_lineage__wide_fan_out(void **state)
{
	struct gfixture *gf = *state;
	struct cnai_store *s = store_of(gf);
	struct cnai_lineage_graph *g = NULL;
	int64_t root, first, sink;
	size_t i;
	int j;

	assert_int_equal(cnai_store_begin_write(s), 0);
	root = add_nodes(s, "root", 1);
	first = add_nodes(s, "leaf", BIG);
	sink = add_nodes(s, "sink", 1);
	for (j = 0; j < BIG; j++) {
		assert_int_equal(cnai_lineage_edge(s, root, first + j, "fan"),
				 0);
		assert_int_equal(cnai_lineage_edge(s, first + j, sink, "in"),
				 0);
	}
	assert_int_equal(cnai_store_commit(s), 0);

	/* root -> 10,000 leaves -> one sink: a 10,000-way diamond */
	assert_int_equal(cnai_lineage_walk(&g, s, root, CNAI_LINEAGE_DOWN, 1),
			 0);
	assert_int_equal(g->nnodes, BIG + 1);
	assert_int_equal(g->nedges, BIG);
	for (i = 1; i < g->nnodes; i++)
		assert_int_equal(g->nodes[i].depth, 1);
	cnai_lineage_graph_free(g);

	assert_int_equal(cnai_lineage_walk(&g, s, root, CNAI_LINEAGE_DOWN, 0),
			 0);
	assert_int_equal(g->nnodes, BIG + 2);
	assert_int_equal(g->nedges, 2 * BIG);
	assert_int_equal(g->nodes[cnai_lineage_graph_find(g, sink)].depth, 2);
	cnai_lineage_graph_free(g);

	/* the fan-in, from the sink upward */
	assert_int_equal(cnai_lineage_walk(&g, s, sink, CNAI_LINEAGE_UP, 0),
			 0);
	assert_int_equal(g->nnodes, BIG + 2);
	assert_int_equal(g->nodes[cnai_lineage_graph_find(g, root)].depth, -2);
	cnai_lineage_graph_free(g);

	/* one leaf, both ways: just its two neighbours */
	assert_int_equal(cnai_lineage_walk(&g, s, first + 1234,
					   CNAI_LINEAGE_BOTH, 0),
			 0);
	assert_int_equal(g->nnodes, 3);
	assert_int_equal(g->nedges, 2);
	cnai_lineage_graph_free(g);
}

/*
 * A 10,000-node ladder (i -> i+1 and i -> i+2): every node is reachable
 * along many paths of many lengths, and must still come back once, at its
 * shortest distance, ceil(i / 2).
 */
static void test_lineage__ladder_gives_shortest_distances(void **state)
{
	struct gfixture *gf = *state;
	struct cnai_store *s = store_of(gf);
	struct cnai_lineage_graph *g = NULL;
	int64_t first;
	size_t i;
	int j;

	assert_int_equal(cnai_store_begin_write(s), 0);
	first = add_nodes(s, "rung", BIG);
	for (j = 0; j + 1 < BIG; j++) {
		assert_int_equal(cnai_lineage_edge(s, first + j, first + j + 1,
						   "one"),
				 0);
		if (j + 2 < BIG)
			assert_int_equal(cnai_lineage_edge(s, first + j,
							   first + j + 2,
							   "two"),
					 0);
	}
	assert_int_equal(cnai_store_commit(s), 0);

	assert_int_equal(cnai_lineage_walk(&g, s, first, CNAI_LINEAGE_DOWN, 0),
			 0);
	assert_int_equal(g->nnodes, BIG);
	assert_int_equal(g->nedges, 2 * BIG - 3);
	for (i = 0; i < g->nnodes; i++) {
		int k = (int)(g->nodes[i].id - first);

		if (g->nodes[i].depth != (k + 1) / 2)
			fail_msg("node %d at depth %d", k, g->nodes[i].depth);
	}
	cnai_lineage_graph_free(g);

	assert_int_equal(cnai_lineage_walk(&g, s, first + BIG - 1,
					   CNAI_LINEAGE_UP, 10),
			 0);
	assert_int_equal(g->nnodes, 21);
	for (i = 0; i < g->nnodes; i++) {
		int k = BIG - 1 - (int)(g->nodes[i].id - first);

		if (g->nodes[i].depth != -((k + 1) / 2))
			fail_msg("node %d up at depth %d", k,
				 g->nodes[i].depth);
	}
	cnai_lineage_graph_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, fixture_teardown)
		T(test_lineage__entity_upsert_returns_same_id),
		T(test_lineage__walk_down),
		T(test_lineage__walk_up),
		T(test_lineage__walk_both),
		T(test_lineage__walk_inside_a_write_transaction),
		T(test_lineage__walk_through_a_cycle),
		T(test_lineage__walk_from_unknown_entity),
		T(test_lineage__resolve),
		T(test_lineage__resolve_ambiguous_and_missing),
		T(test_lineage__long_chain),
		T(test_lineage__wide_fan_out),
		T(test_lineage__ladder_gives_shortest_distances),
#undef T
	};

	return cmocka_run_group_tests_name("s-lineage", tests, NULL, NULL);
}
