/*
 * The lineage graph: entities (a dataset, a run, a model version, an
 * image, a signature, ...) and directed edges from a source to what was
 * made from it. Commands record both as they create things; `cnai lineage`
 * walks the graph with recursive SQL either way.
 */
#ifndef CNAI_CORE_STORE_LINEAGE_H
#define CNAI_CORE_STORE_LINEAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/store/store.h"

#define CNAI_ENTITY_DATASET "dataset"
#define CNAI_ENTITY_RUN "run"
#define CNAI_ENTITY_ARTIFACT "artifact"
#define CNAI_ENTITY_MODEL "model_version"
#define CNAI_ENTITY_IMAGE "image"
#define CNAI_ENTITY_SIGNATURE "signature"
#define CNAI_ENTITY_ATTESTATION "attestation"
#define CNAI_ENTITY_DEPLOYMENT "deployment"
#define CNAI_ENTITY_DRIFT "drift_report"

/*
 * Adds the entity (kind, ref) if new, updating its name when one is given;
 * its id goes to *out. Call inside the caller's write transaction.
 */
int cnai_lineage_entity(int64_t *out, struct cnai_store *st,
			const char *kind, const char *ref, const char *name);
/* Adds the edge src -> dst (idempotent). */
int cnai_lineage_edge(struct cnai_store *st, int64_t src, int64_t dst,
		      const char *relation);

struct cnai_lineage_node {
	int64_t id;
	char *kind, *ref, *name;
	int64_t created;
	int depth; /* 0 the start, < 0 upstream (sources), > 0 downstream */
};

struct cnai_lineage_edge {
	int64_t src, dst;
	char *relation;
};

struct cnai_lineage_graph {
	struct cnai_lineage_node *nodes; /* nodes[0] is the start */
	size_t nnodes;
	struct cnai_lineage_edge *edges;
	size_t nedges;
};

enum cnai_lineage_dir {
	CNAI_LINEAGE_UP = 1 << 0,   /* toward sources */
	CNAI_LINEAGE_DOWN = 1 << 1, /* toward consumers */
	CNAI_LINEAGE_BOTH = CNAI_LINEAGE_UP | CNAI_LINEAGE_DOWN,
};

/*
 * Finds the entity a user's reference names: an exact ref, a unique
 * prefix of 4+ characters of a ref (a run id, or a digest with or without
 * "sha256:"), or an entity's name. CNAI_ENOTFOUND or CNAI_EAMBIGUOUS
 * (listing candidates).
 */
int cnai_lineage_resolve(int64_t *out, struct cnai_store *st,
			 const char *ref);

/*
 * Walks from `start` in `dir` up to `max_depth` edges (<= 0: no limit) and
 * returns the nodes reached (each once, at its shortest distance) and the
 * edges between them. Free with cnai_lineage_graph_free.
 */
int cnai_lineage_walk(struct cnai_lineage_graph **out, struct cnai_store *st,
		      int64_t start, enum cnai_lineage_dir dir, int max_depth);
void cnai_lineage_graph_free(struct cnai_lineage_graph *g);
/* Index of node `id` in g->nodes, or -1. */
long cnai_lineage_graph_find(const struct cnai_lineage_graph *g, int64_t id);

#endif
