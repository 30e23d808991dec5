/* cnai gc: delete blobs nothing refers to, checkpoint the WAL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/commands.h"
#include "core/store/blobs.h"
#include "core/store/refs.h"
#include "core/util/banned.h"

static const char *const synopsis[] = {
	"cnai gc [--dry-run] [--keep-recent <seconds>]", NULL
};
static const char *const option_help[] = {
	"    -n, --dry-run             list what would be removed, remove "
	"nothing",
	"    --keep-recent <seconds>   keep unreferenced blobs younger than "
	"this (default 900):",
	"                              a command running now may have written "
	"them",
	"    --json                    print the counts and digests as JSON",
	NULL,
};
static const struct cnai_usage usage = { synopsis, option_help };

struct gc_state {
	char **refs;
	size_t nrefs, alloc;
	int64_t keep_recent;
	int dry_run;
	json_t *removed;
	uint64_t bytes;
};

static int add_ref(const char *digest, const char *where, void *payload)
{
	struct gc_state *s = payload;
	char **g;

	if (s->nrefs == s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : 256;
		if (!(g = realloc(s->refs, s->alloc * sizeof(*g))))
			return cnai_error_set(CNAI_ERROR, "out of memory");
		s->refs = g;
	}
	if (!(s->refs[s->nrefs] = strdup(digest)))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	s->nrefs++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int sweep(const char *digest, const char *path, double age,
		 void *payload)
{
	struct gc_state *s = payload;
	struct stat sb;

	if (age < (double)s->keep_recent)
		return 0;
	if (digest && bsearch(&digest, s->refs, s->nrefs, sizeof(*s->refs),
			      cmp_str))
		return 0;
	if (lstat(path, &sb) == 0)
		s->bytes += (uint64_t)sb.st_size;
	json_array_append_new(s->removed, json_string(digest ? digest : path));
	if (!s->dry_run && unlink(path) < 0)
		return cnai_error_set_errno(CNAI_ERROR, "cannot remove '%s'",
					    path);
	return 0;
}

static int cmp_json_str(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
		      json_string_value(*(json_t *const *)b));
}

/* Sorts an array of strings in place: readdir's order is the disk's. */
static int sort_strings(json_t *arr)
{
	size_t n = json_array_size(arr), i;
	json_t **v;

	if (n < 2)
		return 0;
	if (!(v = malloc(n * sizeof(*v))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof(*v), cmp_json_str);
	json_array_clear(arr);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
	return 0;
}

int cmd_gc(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "keep-recent", required_argument, NULL, 'k' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct gc_state s = { NULL, 0, 0, 900, 0, json_array(), 0 };
	size_t i, n;
	int c, err = 0;

	while ((c = cnai_getopt(argc, argv, ":nh", longopts, &usage, ctx)) !=
	       -1) {
		switch (c) {
		case 'n':
			s.dry_run = 1;
			break;
		case 'k':
			if ((err = cnai_opt_int64(&s.keep_recent, optarg,
						  "--keep-recent")) < 0)
				goto cleanup;
			if (s.keep_recent < 0) {
				err = cnai_error_set(CNAI_EUSAGE,
						     "--keep-recent: must not "
						     "be negative");
				goto cleanup;
			}
			break;
		case CNAI_OPT_HELP:
			goto cleanup;
		default:
			err = CNAI_EUSAGE;
			goto cleanup;
		}
	}
	if (optind < argc) {
		err = cnai_error_set(CNAI_EUSAGE, "'gc' takes no arguments");
		goto cleanup;
	}
	if ((err = cnai_refs_foreach(ctx->store, add_ref, &s)) < 0)
		goto cleanup;
	if (s.nrefs)
		qsort(s.refs, s.nrefs, sizeof(*s.refs), cmp_str);
	if ((err = cnai_blob_foreach(ctx->store, sweep, &s)) < 0 ||
	    (err = sort_strings(s.removed)) < 0)
		goto cleanup;
	/* Fold the WAL back into the database: calls skip this on close
	 * (core/store/db.c), so gc is where it shrinks. */
	if (!s.dry_run &&
	    (err = cnai_store_checkpoint(ctx->store)) < 0)
		goto cleanup;
	n = json_array_size(s.removed);
	if (ctx->json) {
		err = cnai_json_print(json_pack(
			"{s:b, s:I, s:I, s:O}", "dry_run", s.dry_run, "count",
			(json_int_t)n, "bytes", (json_int_t)s.bytes, "removed",
			s.removed));
	} else {
		for (i = 0; i < n && s.dry_run; i++)
			printf("would remove %s\n",
			       json_string_value(json_array_get(s.removed, i)));
		printf("%s %zu unreferenced blob%s (%llu bytes)\n",
		       s.dry_run ? "would remove" : "removed", n,
		       n == 1 ? "" : "s", (unsigned long long)s.bytes);
	}
cleanup:
	for (i = 0; i < s.nrefs; i++)
		free(s.refs[i]);
	free(s.refs);
	json_decref(s.removed);
	return err;
}
