/*
 * sign attest / verify-attestation / provenance: in-toto Statements in
 * DSSE envelopes, stored as cosign stores them (cosign 2: a layer of media
 * type application/vnd.dsse.envelope.v1+json, annotation predicateType,
 * in the manifest tagged sha256-<hex>.att; cosign 3: a Sigstore bundle
 * referrer, see bundle.c), and SLSA provenance v1 built from the lineage
 * graph: image <- model version <- run <- datasets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "commands/commands.h"
#include "commands/sign/sign.h"
#include "commands/sign/target.h"
#include "core/store/lineage.h"
#include "core/store/runs.h"
#include "core/store/signatures.h"
#include "core/util/fs.h"
#include "registry/sigstore.h"
#include "registry/sigstore_attest.h"
#include "core/util/banned.h"

enum { PREDICATE_LIMIT = 16 << 20 };

#define CNAI_BUILD_TYPE "https://cnai.dev/package/v1"

static int predicate_uri(const char **out, const char *type)
{
	if ((*out = cnai_sigstore_predicate_uri(type)))
		return 0;
	return cnai_error_set(CNAI_EUSAGE,
			      "--type: '%s' is not slsaprovenance, "
			      "slsaprovenance02, slsaprovenance1, link, spdx, "
			      "spdxjson, cyclonedx, vuln, openvex, custom or a "
			      "URI", type);
}

/* ---- provenance -------------------------------------------------------- */

static json_t *digest_set(const char *digest)
{
	return json_pack("{s:s}", "sha256",
			 !strncmp(digest, "sha256:", 7) ? digest + 7 : digest);
}

static void iso(char *out, size_t size, int64_t ms)
{
	cnai_format_time_iso(out, size, ms);
}

/*
 * The SLSA v1 predicate for the image `digest`: what the lineage graph
 * says it was built from. Works for any image the store has recorded.
 */
static int build_provenance(json_t **out, struct cnai_store *st,
			    const char *digest, const char *name)
{
	struct cnai_lineage_graph *g = NULL;
	json_t *deps = json_array(), *ext = json_object(), *meta = json_object();
	struct cnai_run *run = NULL;
	char started[40], finished[40], builder[128];
	int64_t id;
	size_t i;
	int err;

	*out = NULL;
	if ((err = cnai_lineage_resolve(&id, st, digest)) < 0 ||
	    (err = cnai_lineage_walk(&g, st, id, CNAI_LINEAGE_UP, 0)) < 0)
		goto cleanup;
	json_object_set_new(ext, "image", json_string(name));
	for (i = 1; i < g->nnodes; i++) {
		const struct cnai_lineage_node *n = &g->nodes[i];

		if (!strcmp(n->kind, CNAI_ENTITY_MODEL)) {
			json_array_append_new(
				deps, json_pack("{s:s, s:o}", "name",
						n->name ? n->name : "model",
						"digest", digest_set(n->ref)));
			json_object_set_new(ext, "model",
					    cnai_json_string_or_null(n->name));
		} else if (!strcmp(n->kind, CNAI_ENTITY_DATASET)) {
			json_array_append_new(
				deps, json_pack("{s:s, s:o}", "name",
						n->name ? n->name : "dataset",
						"digest", digest_set(n->ref)));
		} else if (!strcmp(n->kind, CNAI_ENTITY_IMAGE)) {
			json_array_append_new(
				deps, json_pack("{s:s, s:o}", "uri",
						n->name ? n->name : n->ref,
						"digest", digest_set(n->ref)));
		} else if (!strcmp(n->kind, CNAI_ENTITY_RUN) && !run) {
			if (cnai_run_lookup(&run, st, n->ref) < 0)
				cnai_error_clear();
		}
	}
	if (run) {
		struct cnai_kv *p = NULL;
		size_t np = 0, k;
		json_t *params = json_object();

		if (cnai_run_params(&p, &np, st, run->id) == 0)
			for (k = 0; k < np; k++)
				json_object_set_new(params, p[k].key,
						    json_string(p[k].value));
		cnai_kv_free_array(p, np);
		json_object_set_new(ext, "run_params", params);
		if (run->command)
			json_object_set_new(ext, "command",
					    json_string(run->command));
		if (run->git_commit)
			json_array_append_new(
				deps,
				json_pack("{s:s, s:{s:s}}", "uri",
					  run->git_remote ? run->git_remote
							  : "git",
					  "digest", "gitCommit",
					  run->git_commit));
		iso(started, sizeof(started), run->start_time);
		json_object_set_new(meta, "invocationId",
				    json_string(run->uuid));
		json_object_set_new(meta, "startedOn", json_string(started));
		if (run->end_time) {
			iso(finished, sizeof(finished), run->end_time);
			json_object_set_new(meta, "finishedOn",
					    json_string(finished));
		}
	}
	snprintf(builder, sizeof(builder), "https://cnai.dev/cnai@%s",
		 CNAI_VERSION);
	*out = json_pack("{s:{s:s, s:o, s:{}, s:o}, s:{s:{s:s, s:{s:s}}, s:o}}",
			 "buildDefinition", "buildType", CNAI_BUILD_TYPE,
			 "externalParameters", ext, "internalParameters",
			 "resolvedDependencies", deps, "runDetails", "builder",
			 "id", builder, "version", "cnai", CNAI_VERSION,
			 "metadata", meta);
	ext = deps = meta = NULL;
	if (!*out)
		err = cnai_error_set(CNAI_ERROR, "out of memory");
cleanup:
	json_decref(deps);
	json_decref(ext);
	json_decref(meta);
	cnai_run_free(run);
	cnai_lineage_graph_free(g);
	return err;
}

/* ---- attest ------------------------------------------------------------ */

/* The attestation (envelope or bundle blob `digest`) as a lineage entity
 * of the image, when there is a store. */
static int record_attestation(struct cnai_ctx *ctx,
			      const struct cnai_sigstore_target *t,
			      const struct cnai_cosign_key *key,
			      const char *digest)
{
	struct cnai_signature_row row = { 0 };
	char fp[65];
	int err;

	if (!ctx->store)
		return 0;
	if ((err = cnai_cosign_key_fingerprint(fp, key)) < 0)
		return err;
	row.target = t->image.digest;
	row.target_kind = CNAI_ENTITY_IMAGE;
	row.target_name = t->ref;
	row.kind = "attestation";
	row.identity = t->repo;
	row.key_fingerprint = fp;
	row.payload_digest = digest;
	row.signature = digest;
	return cnai_signature_record(ctx->store, &row);
}

struct attest_opts {
	const char *keyfile, *pred_file, *uri, *pass_file;
	int provenance, insecure;
	unsigned formats;
};

/* 1 for --help, 0 to go on, or the usage error. */
static int parse_attest_opts(struct attest_opts *o, int argc, char **argv,
			     struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "predicate", required_argument, NULL, 'p' },
		{ "type", required_argument, NULL, 't' },
		{ "provenance", no_argument, NULL, 'P' },
		{ "passphrase-file", required_argument, NULL, 'F' },
		{ "insecure", no_argument, NULL, 'I' },
		{ "format", required_argument, NULL, 'f' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *type = "custom";
	int c, err, type_set = 0;

	o->formats = SIGN_FORMAT_LEGACY;
	while ((c = cnai_getopt(argc, argv, ":h", longopts,
				sign_usage("attest"), ctx)) != -1) {
		switch (c) {
		case 'k':
			o->keyfile = optarg;
			break;
		case 'p':
			o->pred_file = optarg;
			break;
		case 't':
			type = optarg;
			type_set = 1;
			break;
		case 'P':
			o->provenance = 1;
			break;
		case 'F':
			o->pass_file = optarg;
			break;
		case 'I':
			o->insecure = 1;
			break;
		case 'f':
			if ((err = sign_format_parse(&o->formats, optarg,
						     "att")) < 0)
				return err;
			break;
		case CNAI_OPT_HELP:
			return 1;
		default:
			return CNAI_EUSAGE;
		}
	}
	if (argc - optind != 1 || (!o->pred_file == !o->provenance))
		return cnai_error_set(CNAI_EUSAGE, "usage: %s",
				      sign_usage("attest")->synopsis[0]);
	if (o->provenance && !type_set)
		type = "slsaprovenance1";
	if ((err = predicate_uri(&o->uri, type)) < 0)
		return err;
	if (!o->keyfile)
		return cnai_error_set(CNAI_EUSAGE, "no key: use --key cosign.key");
	return 0;
}

/* The predicate: --predicate's file, or the provenance of the target. */
static int load_predicate(json_t **out, struct cnai_ctx *ctx,
			  const struct attest_opts *o,
			  const struct cnai_sigstore_target *t)
{
	struct cnai_buf text = CNAI_BUF_INIT;
	json_error_t jerr;
	int err = 0;

	if (!o->provenance) {
		if ((err = cnai_fs_read_file(&text, o->pred_file,
					     PREDICATE_LIMIT)) == 0 &&
		    !(*out = json_loadb(text.buf, text.len, 0, &jerr)))
			err = cnai_error_set(CNAI_EINVALID, "%s:%d: %s",
					     o->pred_file, jerr.line,
					     jerr.text);
		cnai_buf_release(&text);
		return err;
	}
	if (!ctx->store)
		return cnai_error_set(CNAI_EUSAGE, "--provenance needs a "
				      "store (the lineage graph)");
	return build_provenance(out, ctx->store, t->image.digest, t->ref);
}

static int print_attested(struct cnai_ctx *ctx,
			  const struct cnai_sigstore_target *t,
			  const struct attest_opts *o, const char *tag,
			  const struct cnai_sigstore_bundle_result *br)
{
	int bundle = o->formats & SIGN_FORMAT_BUNDLE;

	if (ctx->json)
		return cnai_json_print(json_pack(
			"{s:s, s:s, s:s, s:s?, s:s?}", "ref", t->ref, "digest",
			t->image.digest, "predicate_type", o->uri,
			"attestation_tag", tag[0] ? tag : NULL,
			"bundle_manifest", bundle ? br->manifest.digest : NULL));
	if (tag[0])
		printf("attested %s@%s (%s) in %s\n", t->repo,
		       t->image.digest, o->uri, tag);
	if (bundle)
		printf("attested %s@%s (%s) in a Sigstore bundle, "
		       "referrer %s\n", t->repo, t->image.digest, o->uri,
		       br->manifest.digest);
	return 0;
}

int sign_attest(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct attest_opts o = { 0 };
	struct cnai_buf stmt_text = CNAI_BUF_INIT;
	struct cnai_cosign_key *key = NULL;
	struct cnai_oci_desc d;
	struct cnai_sigstore_target t;
	json_t *predicate = NULL, *stmt = NULL;
	char tag[80], created[32];
	struct cnai_sigstore_bundle_result br;
	int err;

	memset(&t, 0, sizeof(t));
	if ((err = parse_attest_opts(&o, argc, argv, ctx)) != 0)
		return err > 0 ? 0 : err;
	/* A predicate file is read before the target is opened: a bad file
	 * is named before any registry is asked. */
	if ((!o.provenance &&
	     (err = load_predicate(&predicate, ctx, &o, &t)) < 0) ||
	    (err = sign_target_open(&t, ctx, argv[optind], o.insecure)) < 0 ||
	    (o.provenance &&
	     (err = load_predicate(&predicate, ctx, &o, &t)) < 0))
		goto cleanup;
	stmt = cnai_intoto_statement(t.repo, t.image.digest + 7, o.uri,
				     predicate);
	if (!stmt || cnai_oci_json_canonical(&stmt_text, stmt) < 0) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	if (((o.formats & SIGN_FORMAT_BUNDLE) &&
	     (err = cnai_sigstore_bundle_created(created)) < 0) ||
	    (err = sign_load_private(&key, o.keyfile, o.pass_file)) < 0)
		goto cleanup;
	tag[0] = '\0';
	if ((o.formats & SIGN_FORMAT_LEGACY) &&
	    (err = cnai_sigstore_att_attach(tag, &d, &t, key, &stmt_text,
					    o.uri)) < 0)
		goto cleanup;
	if ((o.formats & SIGN_FORMAT_BUNDLE) &&
	    (err = cnai_sigstore_bundle_attach_statement(&br, &t, key, stmt,
							 created)) < 0)
		goto cleanup;
	if (((o.formats & SIGN_FORMAT_LEGACY) &&
	     (err = record_attestation(ctx, &t, key, d.digest)) < 0) ||
	    ((o.formats & SIGN_FORMAT_BUNDLE) &&
	     (err = record_attestation(ctx, &t, key, br.bundle_digest)) < 0))
		goto cleanup;
	err = print_attested(ctx, &t, &o, tag, &br);
cleanup:
	cnai_sigstore_target_close(&t);
	cnai_cosign_key_free(key);
	json_decref(predicate);
	json_decref(stmt);
	cnai_buf_release(&stmt_text);
	return err;
}

/* ---- verify-attestation ------------------------------------------------ */

int sign_verify_attestation(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "type", required_argument, NULL, 't' },
		{ "insecure", no_argument, NULL, 'I' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *keyfile = NULL, *want = NULL;
	struct cnai_cosign_key *key = NULL;
	struct cnai_buf why = CNAI_BUF_INIT;
	struct cnai_sigstore_target t;
	json_t *att = NULL, *ok = json_array(), *reasons = json_array(),
	       *skipped = json_array(), *layer, *r;
	char tag[80];
	size_t i, bundles = 0;
	int c, err, insecure = 0;

	memset(&t, 0, sizeof(t));
	while ((c = cnai_getopt(argc, argv, ":h", longopts,
				sign_usage("verify-attestation"), ctx)) != -1) {
		if (c == 'k')
			keyfile = optarg;
		else if (c == 't') {
			if ((err = predicate_uri(&want, optarg)) < 0)
				goto cleanup;
		} else if (c == 'I')
			insecure = 1;
		else {
			err = c == CNAI_OPT_HELP ? 0 : CNAI_EUSAGE;
			goto cleanup;
		}
	}
	if (argc - optind != 1) {
		err = cnai_error_set(CNAI_EUSAGE, "usage: %s",
				     sign_usage("verify-attestation")
					     ->synopsis[0]);
		goto cleanup;
	}
	if ((err = sign_load_public(&key, keyfile, NULL)) < 0 ||
	    (err = sign_target_open(&t, ctx, argv[optind], insecure)) < 0)
		goto cleanup;
	/* cosign 2 wrote ".att"; cosign 3 writes bundle referrers. */
	cnai_sigstore_target_attachment_tag(tag, &t, "att");
	if ((err = cnai_sigstore_target_get_attachment(&att, skipped, &t,
						       tag)) < 0)
		goto cleanup;
	json_array_foreach(json_object_get(att, "layers"), i, layer)
		cnai_sigstore_att_check(ok, &why, i, layer, &t, key, want);
	if ((err = cnai_sigstore_bundle_verify_attestations(
		     &bundles, ok, reasons, skipped, &t, key, want)) < 0)
		goto cleanup;
	json_array_foreach(reasons, i, r)
		cnai_buf_addf(&why, "%s%s", why.len ? "; " : "",
			      json_string_value(r));
	if (!att && !bundles && !json_array_size(skipped)) {
		err = cnai_error_set(CNAI_ECHECK, "no attestations found for "
				     "%s (no %s tag, no Sigstore bundle "
				     "referrers%s)", t.ref, tag,
				     want ? " of that type" : "");
		goto cleanup;
	}
	if ((err = sign_verify_finish(ctx, "attestation", t.ref, ok, skipped,
				      &why)) < 0)
		goto cleanup;
	err = sign_verify_print(ctx, ok);
cleanup:
	cnai_sigstore_target_close(&t);
	cnai_cosign_key_free(key);
	json_decref(att);
	json_decref(ok);
	json_decref(reasons);
	json_decref(skipped);
	cnai_buf_release(&why);
	return err;
}

int sign_provenance(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL;
	struct cnai_sigstore_target t;
	json_t *pred = NULL;
	char *text = NULL;
	int c, err;

	memset(&t, 0, sizeof(t));
	while ((c = cnai_getopt(argc, argv, ":o:h", longopts,
				sign_usage("provenance"), ctx)) != -1) {
		if (c == 'o')
			output = optarg;
		else
			return c == CNAI_OPT_HELP ? 0 : CNAI_EUSAGE;
	}
	if (argc - optind != 1)
		return cnai_error_set(CNAI_EUSAGE, "usage: %s",
				      sign_usage("provenance")->synopsis[0]);
	if (!ctx->store)
		return cnai_error_set(CNAI_ENOTFOUND,
				      "not in a cnai store (or any parent); run "
				      "'cnai init'");
	if ((err = sign_target_open(&t, ctx, argv[optind], 0)) < 0 ||
	    (err = build_provenance(&pred, ctx->store, t.image.digest,
				    t.ref)) < 0)
		goto cleanup;
	if (!(text = json_dumps(pred, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	if (output) {
		struct cnai_buf b = CNAI_BUF_INIT;

		cnai_buf_addf(&b, "%s\n", text);
		err = cnai_fs_write_atomic(output, b.buf, b.len, 0644);
		cnai_buf_release(&b);
	} else {
		printf("%s\n", text);
	}
cleanup:
	cnai_sigstore_target_close(&t);
	json_decref(pred);
	free(text);
	return err;
}
