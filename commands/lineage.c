/* cnai lineage: walk the lineage graph from anything cnai recorded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/commands.h"
#include "core/store/lineage.h"
#include "core/store/models.h"
#include "core/store/store.h"
#include "core/util/banned.h"

static const char *const synopsis[] = {
	"cnai lineage <ref> [--up | --down] [--depth <n>] "
	"[--format tree|json|dot|mermaid]",
	NULL,
};
static const char *const option_help[] = {
	"    <ref>             a run id (or unique prefix, or name), a digest "
	"(or prefix),",
	"                      or any recorded entity's name",
	"    --up              only toward sources (what was this made from?)",
	"    --down            only toward consumers (what used it?)",
	"    --depth <n>       follow at most n edges (default: all)",
	"    --format <f>      tree (default), json, dot (graphviz), mermaid",
	"    --json, --dot     the same as --format json, --format dot",
	NULL,
};
static const struct cnai_usage usage = { synopsis, option_help };

enum format { FMT_TREE, FMT_JSON, FMT_DOT, FMT_MERMAID };

/* "3f2a9c1b4e5d" for runs, "sha256:ab12cd34ef56" for digests. */
static void short_ref(char *out, size_t size, const char *ref)
{
	if (!strncmp(ref, "sha256:", 7))
		snprintf(out, size, "sha256:%.12s", ref + 7);
	else
		snprintf(out, size, "%.12s", ref);
}

static void node_label(char *out, size_t size,
		       const struct cnai_lineage_node *n)
{
	char ref[32];

	short_ref(ref, sizeof(ref), n->ref);
	if (n->name)
		snprintf(out, size, "%s %s %s", n->kind, ref, n->name);
	else
		snprintf(out, size, "%s %s", n->kind, ref);
}

struct tree {
	const struct cnai_lineage_graph *g;
	unsigned char *printed;
};

static void print_tree(struct tree *t, int64_t id, int up, int indent,
		       const char *relation)
{
	const struct cnai_lineage_graph *g = t->g;
	long idx = cnai_lineage_graph_find(g, id);
	char label[600];
	size_t i;

	if (idx < 0)
		return;
	node_label(label, sizeof(label), &g->nodes[idx]);
	printf("%*s%s %s%s%s%s\n", indent, "", up ? "<-" : "->", label,
	       relation ? "  (" : "", relation ? relation : "",
	       relation ? ")" : "");
	if (t->printed[idx]) {
		return; /* shared ancestor or descendant: shown once */
	}
	t->printed[idx] = 1;
	for (i = 0; i < g->nedges; i++) {
		const struct cnai_lineage_edge *e = &g->edges[i];

		if (up && e->dst == id)
			print_tree(t, e->src, 1, indent + 4, e->relation);
		else if (!up && e->src == id)
			print_tree(t, e->dst, 0, indent + 4, e->relation);
	}
}

static void emit_tree(const struct cnai_lineage_graph *g,
		      enum cnai_lineage_dir dir)
{
	struct tree t = { g, calloc(g->nnodes ? g->nnodes : 1, 1) };
	char label[600];
	size_t i;
	int any_up = 0, any_down = 0;

	node_label(label, sizeof(label), &g->nodes[0]);
	printf("%s\n", label);
	t.printed[0] = 1;
	for (i = 0; i < g->nedges; i++) {
		if ((dir & CNAI_LINEAGE_UP) && g->edges[i].dst == g->nodes[0].id) {
			if (!any_up++)
				printf("  from:\n");
			print_tree(&t, g->edges[i].src, 1, 4,
				   g->edges[i].relation);
		}
	}
	for (i = 0; i < g->nedges; i++) {
		if ((dir & CNAI_LINEAGE_DOWN) &&
		    g->edges[i].src == g->nodes[0].id) {
			if (!any_down++)
				printf("  to:\n");
			print_tree(&t, g->edges[i].dst, 0, 4,
				   g->edges[i].relation);
		}
	}
	if (!any_up && !any_down)
		printf("  (no recorded sources or consumers)\n");
	free(t.printed);
}

static int emit_json(const struct cnai_lineage_graph *g)
{
	json_t *nodes = json_array(), *edges = json_array();
	char iso[40];
	size_t i;

	for (i = 0; i < g->nnodes; i++) {
		const struct cnai_lineage_node *n = &g->nodes[i];

		cnai_format_time_iso(iso, sizeof(iso), n->created);
		json_array_append_new(
			nodes, json_pack("{s:I, s:s, s:s, s:o, s:i, s:s}", "id",
					 (json_int_t)n->id, "kind", n->kind,
					 "ref", n->ref, "name",
					 cnai_json_string_or_null(n->name),
					 "depth", n->depth, "created", iso));
	}
	for (i = 0; i < g->nedges; i++)
		json_array_append_new(
			edges, json_pack("{s:I, s:I, s:s}", "from",
					 (json_int_t)g->edges[i].src, "to",
					 (json_int_t)g->edges[i].dst,
					 "relation", g->edges[i].relation));
	return cnai_json_print(json_pack("{s:I, s:o, s:o}", "root",
					 (json_int_t)g->nodes[0].id, "nodes",
					 nodes, "edges", edges));
}

/* DOT and Mermaid labels: quotes and backslashes escaped, no newline. */
static void print_escaped(const char *s, int mermaid)
{
	for (; *s; s++) {
		if (*s == '"')
			fputs(mermaid ? "#quot;" : "\\\"", stdout);
		else if (*s == '\\' && !mermaid)
			fputs("\\\\", stdout);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', stdout);
		else
			fputc(*s, stdout);
	}
}

static void emit_graph(const struct cnai_lineage_graph *g, int mermaid)
{
	char label[600];
	size_t i;

	printf(mermaid ? "graph LR\n" : "digraph lineage {\n"
					"  rankdir=LR;\n"
					"  node [shape=box, fontname=\"monospace\"];\n");
	for (i = 0; i < g->nnodes; i++) {
		node_label(label, sizeof(label), &g->nodes[i]);
		printf(mermaid ? "  n%lld[\"" : "  n%lld [label=\"",
		       (long long)g->nodes[i].id);
		print_escaped(label, mermaid);
		printf(mermaid ? "\"]\n" : "\"%s];\n",
		       i == 0 ? ", style=bold" : "");
	}
	for (i = 0; i < g->nedges; i++) {
		printf(mermaid ? "  n%lld -->|" : "  n%lld -> n%lld [label=\"",
		       (long long)g->edges[i].src, (long long)g->edges[i].dst);
		print_escaped(g->edges[i].relation, mermaid);
		if (mermaid)
			printf("| n%lld\n", (long long)g->edges[i].dst);
		else
			printf("\"];\n");
	}
	if (!mermaid)
		printf("}\n");
}

static int parse_format(enum format *out, const char *s)
{
	static const char *const names[] = { "tree", "json", "dot", "mermaid" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (!strcmp(s, names[i])) {
			*out = (enum format)i;
			return 0;
		}
	return cnai_error_set(CNAI_EUSAGE, "--format: unknown format '%s' "
			      "(tree, json, dot, mermaid)", s);
}

/*
 * A model reference (digits@prod, or a bare model name) names the version's
 * manifest digest; anything else is looked up among lineage entities.
 */
static int resolve_start(int64_t *out, struct cnai_store *st, const char *ref)
{
	struct cnai_model_version *v = NULL;
	int err;

	if (strncmp(ref, "sha256:", 7) &&
	    (strchr(ref, '@') || cnai_model_resolve(&v, st, ref) == 0)) {
		if (!v && (err = cnai_model_resolve(&v, st, ref)) < 0)
			return err;
		err = cnai_lineage_resolve(out, st, v->manifest_digest);
		cnai_model_version_free(v);
		return err;
	}
	cnai_error_clear();
	return cnai_lineage_resolve(out, st, ref);
}

int cmd_lineage(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "up", no_argument, NULL, 'u' },
		{ "down", no_argument, NULL, 'd' },
		{ "depth", required_argument, NULL, 'D' },
		{ "format", required_argument, NULL, 'f' },
		{ "dot", no_argument, NULL, 'g' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct cnai_lineage_graph *g = NULL;
	enum cnai_lineage_dir dir = CNAI_LINEAGE_BOTH;
	enum format fmt = FMT_TREE;
	int64_t depth = 0, start;
	int c, err, up = 0, down = 0, fmt_set = 0;

	while ((c = cnai_getopt(argc, argv, ":h", longopts, &usage, ctx)) !=
	       -1) {
		switch (c) {
		case 'u':
			up = 1;
			break;
		case 'd':
			down = 1;
			break;
		case 'D':
			if ((err = cnai_opt_int64(&depth, optarg, "--depth")) < 0)
				return err;
			if (depth < 1)
				return cnai_error_set(CNAI_EUSAGE,
						      "--depth: must be at "
						      "least 1");
			break;
		case 'f':
			if ((err = parse_format(&fmt, optarg)) < 0)
				return err;
			fmt_set = 1;
			break;
		case 'g':
			fmt = FMT_DOT;
			fmt_set = 1;
			break;
		case CNAI_OPT_HELP:
			return 0;
		default:
			return CNAI_EUSAGE;
		}
	}
	if (up && down)
		dir = CNAI_LINEAGE_BOTH;
	else if (up)
		dir = CNAI_LINEAGE_UP;
	else if (down)
		dir = CNAI_LINEAGE_DOWN;
	if (ctx->json && !fmt_set)
		fmt = FMT_JSON;
	if (argc - optind != 1)
		return cnai_error_set(CNAI_EUSAGE, "%s; usage: %s",
				      argc - optind ? "too many arguments"
						    : "no reference given",
				      synopsis[0]);
	if ((err = resolve_start(&start, ctx->store, argv[optind])) < 0 ||
	    (err = cnai_lineage_walk(&g, ctx->store, start, dir,
				     (int)(depth > 100000 ? 100000 : depth))) <
		    0)
		return err;
	switch (fmt) {
	case FMT_TREE:
		emit_tree(g, dir);
		break;
	case FMT_JSON:
		err = emit_json(g);
		break;
	case FMT_DOT:
		emit_graph(g, 0);
		break;
	case FMT_MERMAID:
		emit_graph(g, 1);
		break;
	}
	cnai_lineage_graph_free(g);
	return err;
}
