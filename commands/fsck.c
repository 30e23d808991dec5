/* cnai fsck: re-hash every blob and check every reference. */
#include <stdio.h>
#include <string.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/commands.h"
#include "core/store/blobs.h"
#include "core/store/refs.h"
#include "registry/oci.h"
#include "core/util/banned.h"

static const char *const synopsis[] = { "cnai fsck", NULL };
static const char *const option_help[] = {
	"    --json        print the counts and each problem as JSON",
	NULL,
};
static const struct cnai_usage usage = { synopsis, option_help };

struct fsck_state {
	struct cnai_store *st;
	json_t *problems;
	size_t blobs, refs;
};

static void problem(struct fsck_state *s, const char *kind,
		    const char *digest, const char *message)
{
	json_array_append_new(s->problems,
			      json_pack("{s:s, s:s?, s:s}", "kind", kind,
					"digest", digest, "message", message));
}

static int check_blob(const char *digest, const char *path, double age,
		      void *payload)
{
	struct fsck_state *s = payload;
	int err;

	if (!digest)
		return 0; /* a temporary file of a write in progress */
	s->blobs++;
	err = cnai_blob_verify(s->st, digest);
	if (err == CNAI_ECHECK)
		problem(s, "corrupt", digest, cnai_error_last()->message);
	else if (err < 0)
		return err;
	cnai_error_clear();
	return 0;
}

static int check_ref(const char *digest, const char *where, void *payload)
{
	struct fsck_state *s = payload;
	char msg[512];

	s->refs++;
	if (!cnai_digest_is_valid(digest)) {
		snprintf(msg, sizeof(msg), "%s holds an invalid digest '%s'",
			 where, digest);
		problem(s, "invalid", NULL, msg);
	} else if (!cnai_blob_exists(s->st, digest)) {
		snprintf(msg, sizeof(msg), "blob %s is missing (referenced by "
			 "%s)", digest, where);
		problem(s, "missing", digest, msg);
	}
	return 0;
}

/*
 * A damaged index.json (not JSON, no "manifests" array, missing) is a
 * problem to report, not a reason to stop: every other check still runs,
 * and only the references it would have listed go unchecked.
 */
static int index_problem(struct fsck_state *s, int err)
{
	if (err != CNAI_EINVALID && err != CNAI_ENOTFOUND)
		return err;
	problem(s, "index", NULL, cnai_error_last()->message);
	cnai_error_clear();
	return 0;
}

static int check_refs(struct fsck_state *s)
{
	json_t *index = NULL;
	int err, bad;

	err = cnai_oci_index_read(&index, cnai_store_oci(s->st));
	json_decref(index);
	bad = err < 0;
	if ((err = index_problem(s, err)) < 0)
		return err;
	err = cnai_refs_foreach(s->st, check_ref, s);
	if (bad && (err == CNAI_EINVALID || err == CNAI_ENOTFOUND)) {
		cnai_error_clear(); /* reported above */
		return 0;
	}
	return index_problem(s, err);
}

static int database_problem(const char *row, void *payload)
{
	problem(payload, "database", NULL, row);
	return 0;
}

static int check_database(struct fsck_state *s)
{
	return cnai_store_check_integrity(s->st, database_problem, s);
}

int cmd_fsck(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = { CNAI_OPTS_COMMON,
						   { NULL, 0, NULL, 0 } };
	struct fsck_state s = { ctx->store, json_array(), 0, 0 };
	size_t n, i;
	int c, err;

	while ((c = cnai_getopt(argc, argv, ":h", longopts, &usage, ctx)) !=
	       -1) {
		json_decref(s.problems);
		return c == CNAI_OPT_HELP ? 0 : CNAI_EUSAGE;
	}
	if (optind < argc) {
		json_decref(s.problems);
		return cnai_error_set(CNAI_EUSAGE, "'fsck' takes no arguments");
	}
	if ((err = check_database(&s)) < 0 ||
	    (err = cnai_blob_foreach(ctx->store, check_blob, &s)) < 0 ||
	    (err = check_refs(&s)) < 0) {
		json_decref(s.problems);
		return err;
	}
	n = json_array_size(s.problems);
	if (ctx->json) {
		err = cnai_json_print(json_pack("{s:I, s:I, s:O}", "blobs",
						(json_int_t)s.blobs,
						"references", (json_int_t)s.refs,
						"problems", s.problems));
	} else {
		for (i = 0; i < n; i++) {
			json_t *p = json_array_get(s.problems, i);

			printf("%s: %s\n",
			       json_string_value(json_object_get(p, "kind")),
			       json_string_value(json_object_get(p, "message")));
		}
		printf("checked %zu blob%s and %zu reference%s: %zu "
		       "problem%s\n", s.blobs, s.blobs == 1 ? "" : "s",
		       s.refs, s.refs == 1 ? "" : "s", n, n == 1 ? "" : "s");
	}
	json_decref(s.problems);
	if (err < 0)
		return err;
	return n ? CNAI_CMD_EXIT(1) : 0;
}
