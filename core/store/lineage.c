/*
 * The lineage graph's public operations: the statements are the backend's
 * (backend_sqlite_lineage.c); freeing and searching a walked graph are
 * plain C.
 */
#include "core/store/lineage.h"

#include <stdlib.h>

#include "core/store/store_impl.h"
#include "core/util/banned.h"

int cnai_lineage_entity(int64_t *out, struct cnai_store *st, const char *kind,
			const char *ref, const char *name)
{
	return st->backend->lineage_entity(out, st, kind, ref, name);
}

int cnai_lineage_edge(struct cnai_store *st, int64_t src, int64_t dst,
		      const char *relation)
{
	return st->backend->lineage_edge(st, src, dst, relation);
}

int cnai_lineage_resolve(int64_t *out, struct cnai_store *st, const char *ref)
{
	return st->backend->lineage_resolve(out, st, ref);
}

int cnai_lineage_walk(struct cnai_lineage_graph **out, struct cnai_store *st,
		      int64_t start, enum cnai_lineage_dir dir, int max_depth)
{
	return st->backend->lineage_walk(out, st, start, dir, max_depth);
}

void cnai_lineage_graph_free(struct cnai_lineage_graph *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; i < g->nnodes; i++) {
		free(g->nodes[i].kind);
		free(g->nodes[i].ref);
		free(g->nodes[i].name);
	}
	for (i = 0; i < g->nedges; i++)
		free(g->edges[i].relation);
	free(g->nodes);
	free(g->edges);
	free(g);
}

long cnai_lineage_graph_find(const struct cnai_lineage_graph *g, int64_t id)
{
	size_t i;

	for (i = 0; i < g->nnodes; i++)
		if (g->nodes[i].id == id)
			return (long)i;
	return -1;
}
