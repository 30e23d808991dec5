/*
 * sign image / verify / model: cosign's ".sig" attachments. The payload is
 * a simple-signing document naming the identity and the manifest digest;
 * its ECDSA signature (base64 DER) rides in the layer annotation
 * dev.cosignproject.cosign/signature. Verification trusts nothing it did
 * not check: the payload blob's digest, the signature over those exact
 * bytes, the digest inside the payload against the manifest resolved from
 * REF, the identity, and the annotations asked for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "commands/commands.h"
#include "commands/sign/sign.h"
#include "commands/sign/target.h"
#include "core/store/models.h"
#include "core/store/signatures.h"
#include "registry/sigstore.h"
#include "core/util/banned.h"

enum { PAYLOAD_LIMIT = 1 << 20 };

struct image_opts {
	const char *key, *pass_file;
	json_t *annotations; /* -a K=V, an object */
	const char *identity; /* --identity: overrides the repository */
	int identity_tag, insecure;
	unsigned formats; /* SIGN_FORMAT_*: what sign writes */
};

static int parse_image_opts(struct image_opts *o, int argc, char **argv,
			    const char *sub, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "annotation", required_argument, NULL, 'a' },
		{ "identity-tag", no_argument, NULL, 'T' },
		{ "identity", required_argument, NULL, 'i' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "insecure", no_argument, NULL, 'I' },
		{ "format", required_argument, NULL, 'f' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	char *dup;
	const char *k, *v;
	int c, err;

	o->annotations = json_object();
	o->formats = SIGN_FORMAT_LEGACY;
	while ((c = cnai_getopt(argc, argv, ":a:h", longopts, sign_usage(sub),
				ctx)) != -1) {
		switch (c) {
		case 'k':
			o->key = optarg;
			break;
		case 'a':
			if ((err = cnai_opt_keyvalue(&dup, &k, &v, optarg,
						     "-a")) < 0)
				return err;
			json_object_set_new(o->annotations, k, json_string(v));
			free(dup);
			break;
		case 'T':
			o->identity_tag = 1;
			break;
		case 'i':
			o->identity = optarg;
			break;
		case 'P':
			o->pass_file = optarg;
			break;
		case 'I':
			o->insecure = 1;
			break;
		case 'f':
			if (!strcmp(sub, "verify")) /* verify reads both */
				return cnai_error_set(CNAI_EUSAGE, "--format is "
						      "for signing; verify "
						      "reads both forms");
			if ((err = sign_format_parse(&o->formats, optarg, "sig")) < 0)
				return err;
			break;
		case CNAI_OPT_HELP:
			return 1;
		default:
			return CNAI_EUSAGE;
		}
	}
	if (argc - optind != 1)
		return cnai_error_set(CNAI_EUSAGE, "usage: %s",
				      sign_usage(sub)->synopsis[0]);
	return 0;
}

/* The docker-reference written: cosign's repository form by default. */
static void identity_of(char *out, size_t size,
			const struct cnai_sigstore_target *t, int with_tag)
{
	if (with_tag && t->tag[0])
		snprintf(out, size, "%s:%s", t->repo, t->tag);
	else
		snprintf(out, size, "%s", t->repo);
}

static int record(struct cnai_ctx *ctx, const struct cnai_sigstore_target *t,
		  const char *kind, const char *identity,
		  const struct cnai_cosign_key *key, const char *payload_digest,
		  const char *sig, const char *target_kind)
{
	struct cnai_signature_row row = { 0 };
	char fp[65];
	int err;

	if (!ctx->store)
		return 0; /* signing outside a store records no lineage */
	if ((err = cnai_cosign_key_fingerprint(fp, key)) < 0)
		return err;
	row.target = t->image.digest;
	row.target_kind = target_kind;
	row.target_name = t->ref;
	row.kind = kind;
	row.identity = identity;
	row.key_fingerprint = fp;
	row.payload_digest = payload_digest;
	row.signature = sig;
	return cnai_signature_record(ctx->store, &row);
}

/* The ".sig" form: a simple-signing layer appended under sha256-<hex>.sig. */
static int sign_simple(char tag[80], struct cnai_ctx *ctx,
		       struct cnai_sigstore_target *t,
		       const struct cnai_cosign_key *key,
		       const struct image_opts *o, const char *identity,
		       const char *target_kind)
{
	struct cnai_buf payload = CNAI_BUF_INIT, sig = CNAI_BUF_INIT,
			b64 = CNAI_BUF_INIT;
	struct cnai_oci_desc pd;
	json_t *layer;
	int err;

	if ((err = cnai_simplesign_payload(&payload, identity, t->image.digest,
					   json_object_size(o->annotations)
						   ? o->annotations
						   : NULL)) < 0 ||
	    (err = cnai_cosign_sign(&sig, key, payload.buf, payload.len)) < 0 ||
	    (err = cnai_base64_encode(&b64, sig.buf, sig.len)) < 0 ||
	    (err = cnai_sigstore_target_put_blob(
		     &pd, t, payload.buf, payload.len,
		     CNAI_SIMPLESIGN_MEDIA_TYPE)) < 0)
		goto cleanup;
	layer = cnai_oci_desc_json(&pd);
	json_object_set_new(layer, "annotations",
			    json_pack("{s:s}", CNAI_COSIGN_SIG_ANNOTATION,
				      b64.buf));
	cnai_sigstore_target_attachment_tag(tag, t, "sig");
	if ((err = cnai_sigstore_target_append_layer(t, tag, layer)) == 0)
		err = record(ctx, t, "signature", identity, key, pd.digest,
			     b64.buf, target_kind);
cleanup:
	cnai_buf_release(&payload);
	cnai_buf_release(&sig);
	cnai_buf_release(&b64);
	return err;
}

/* Signs what `t` names in the forms asked for; shared by `image` and
 * `model`. */
static int sign_target(struct cnai_ctx *ctx, struct cnai_sigstore_target *t,
		       const struct image_opts *o, const char *target_kind)
{
	struct cnai_sigstore_bundle_result br;
	struct cnai_cosign_key *key = NULL;
	char identity[700], tag[80] = "", created[32];
	int err;

	if (o->identity)
		snprintf(identity, sizeof(identity), "%s", o->identity);
	else
		identity_of(identity, sizeof(identity), t, o->identity_tag);
	if (((o->formats & SIGN_FORMAT_BUNDLE) &&
	     (err = cnai_sigstore_bundle_created(created)) < 0) ||
	    (err = sign_load_private(&key, o->key, o->pass_file)) < 0)
		goto cleanup;
	if ((o->formats & SIGN_FORMAT_LEGACY) &&
	    (err = sign_simple(tag, ctx, t, key, o, identity, target_kind)) < 0)
		goto cleanup;
	if (o->formats & SIGN_FORMAT_BUNDLE) {
		if ((err = cnai_sigstore_bundle_attach(&br, t, key, identity,
						       o->annotations,
						       created)) < 0 ||
		    (err = record(ctx, t, "signature", identity, key,
				  br.bundle_digest, br.signature,
				  target_kind)) < 0)
			goto cleanup;
	}
	if (ctx->json)
		err = cnai_json_print(json_pack(
			"{s:s, s:s, s:s, s:s?, s:s?}", "ref", t->ref, "digest",
			t->image.digest, "identity", identity, "signature_tag",
			tag[0] ? tag : NULL, "bundle_manifest",
			o->formats & SIGN_FORMAT_BUNDLE ? br.manifest.digest : NULL));
	else {
		if (tag[0])
			printf("signed %s@%s as %s (%s)\n", t->repo,
			       t->image.digest, identity, tag);
		if (o->formats & SIGN_FORMAT_BUNDLE)
			printf("signed %s@%s as %s (Sigstore bundle, "
			       "referrer %s)\n", t->repo, t->image.digest,
			       identity, br.manifest.digest);
	}
cleanup:
	cnai_cosign_key_free(key);
	return err;
}

int sign_image(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct image_opts o = { 0 };
	struct cnai_sigstore_target t;
	int err;

	memset(&t, 0, sizeof(t));
	if ((err = parse_image_opts(&o, argc, argv, "image", ctx)) != 0)
		goto cleanup;
	if (!o.key) {
		err = cnai_error_set(CNAI_EUSAGE, "no key: use --key cosign.key");
		goto cleanup;
	}
	if ((err = sign_target_open(&t, ctx, argv[optind], o.insecure)) < 0)
		goto cleanup;
	err = sign_target(ctx, &t, &o, "image");
cleanup:
	cnai_sigstore_target_close(&t);
	json_decref(o.annotations);
	return err > 0 ? 0 : err;
}

/* Why a layer did not verify, kept for the report when none does. */
static void reject(json_t *reasons, size_t i, const char *why)
{
	char line[1200];

	snprintf(line, sizeof(line), "signature %zu: %.1100s", i + 1, why);
	json_array_append_new(reasons, json_string(line));
}

/* Checks one signature layer; 1 verified (payload appended), 0 not. */
static int check_layer(json_t *verified, json_t *reasons, size_t i,
		       json_t *layer, struct cnai_sigstore_target *t,
		       const struct cnai_cosign_key *key, json_t *want)
{
	struct cnai_buf payload = CNAI_BUF_INIT, sig = CNAI_BUF_INIT;
	struct cnai_simplesign ss = { 0 };
	struct cnai_oci_desc ld;
	const char *digest = json_string_value(json_object_get(layer, "digest"));
	const char *mt = json_string_value(json_object_get(layer, "mediaType"));
	const char *b64 = json_string_value(json_object_get(
		json_object_get(layer, "annotations"),
		CNAI_COSIGN_SIG_ANNOTATION));
	const char *missing;
	json_t *doc;
	int ok = 0;

	if (!mt || strcmp(mt, CNAI_SIMPLESIGN_MEDIA_TYPE)) {
		reject(reasons, i, "not a simple-signing layer");
		goto cleanup;
	}
	if (!digest || !b64) {
		reject(reasons, i, "no digest or no signature annotation");
		goto cleanup;
	}
	if (cnai_oci_desc_parse(&ld, layer) < 0) {
		reject(reasons, i, cnai_error_last()->message);
		goto cleanup;
	}
	if (cnai_sigstore_target_read_blob(&payload, t, digest,
					   PAYLOAD_LIMIT) < 0) {
		reject(reasons, i, cnai_error_last()->message);
		goto cleanup;
	}
	if (cnai_base64_decode(&sig, b64, strlen(b64)) < 0) {
		reject(reasons, i, "the signature is not base64");
		goto cleanup;
	}
	if (cnai_cosign_verify(key, payload.buf, payload.len, sig.buf,
			       sig.len) < 0) {
		reject(reasons, i, "signature does not verify with this key");
		goto cleanup;
	}
	if (cnai_simplesign_parse(&ss, payload.buf, payload.len) < 0) {
		reject(reasons, i, cnai_error_last()->message);
		goto cleanup;
	}
	if (strcmp(ss.manifest_digest, t->image.digest)) {
		char why[300];

		snprintf(why, sizeof(why), "payload is for %s, not %s",
			 ss.manifest_digest, t->image.digest);
		reject(reasons, i, why);
		goto cleanup;
	}
	if (!cnai_sigstore_target_identity_matches(t, ss.docker_ref)) {
		char why[900];

		snprintf(why, sizeof(why), "identity '%s' does not match '%s'",
			 ss.docker_ref, t->repo);
		reject(reasons, i, why);
		goto cleanup;
	}
	if ((missing = cnai_sigstore_annotation_missing(want, ss.optional))) {
		char why[600];

		snprintf(why, sizeof(why), "required annotation '%.200s=%.200s' "
			 "is not in the payload", missing,
			 json_string_value(json_object_get(want, missing)));
		reject(reasons, i, why);
		goto cleanup;
	}
	doc = json_loadb(payload.buf, payload.len, 0, NULL);
	json_array_append_new(verified, doc);
	ok = 1;
cleanup:
	cnai_error_clear();
	cnai_simplesign_release(&ss);
	cnai_buf_release(&payload);
	cnai_buf_release(&sig);
	return ok;
}

static int verify_target(struct cnai_ctx *ctx, struct cnai_sigstore_target *t,
			 const struct image_opts *o)
{
	struct cnai_cosign_key *key = NULL;
	struct cnai_buf why = CNAI_BUF_INIT;
	json_t *sigman = NULL, *verified = json_array(),
	       *reasons = json_array(), *skipped = json_array(), *layer, *r;
	char tag[80];
	size_t i, bundles = 0;
	int err;

	if ((err = sign_load_public(&key, o->key, o->pass_file)) < 0)
		goto cleanup;
	/* cosign 2 and containers/image read ".sig"; cosign 3 bundles. */
	cnai_sigstore_target_attachment_tag(tag, t, "sig");
	if ((err = cnai_sigstore_target_get_attachment(&sigman, skipped, t,
						       tag)) < 0)
		goto cleanup;
	json_array_foreach(json_object_get(sigman, "layers"), i, layer)
		check_layer(verified, reasons, i, layer, t, key,
			    o->annotations);
	if ((err = cnai_sigstore_bundle_verify(&bundles, verified, reasons,
					       skipped, t, key,
					       o->annotations)) < 0)
		goto cleanup;
	if (!sigman && !bundles && !json_array_size(skipped)) {
		err = cnai_error_set(CNAI_ECHECK, "no signatures found for %s "
				     "(no %s tag, no Sigstore bundle "
				     "referrers)", t->ref, tag);
		goto cleanup;
	}
	json_array_foreach(reasons, i, r)
		cnai_buf_addf(&why, "%s%s", i ? "; " : "",
			      json_string_value(r));
	if ((err = sign_verify_finish(ctx, "signature", t->ref, verified,
				      skipped, &why)) < 0)
		goto cleanup;
	if (!ctx->json)
		fprintf(stderr, "Verification for %s --\nThe following checks "
			"were performed on each of these signatures:\n"
			"  - The signatures were verified against the "
			"specified public key\n"
			"  - The payload's manifest digest matches %s\n",
			t->ref, t->image.digest);
	err = sign_verify_print(ctx, verified);
cleanup:
	cnai_cosign_key_free(key);
	cnai_buf_release(&why);
	json_decref(sigman);
	json_decref(verified);
	json_decref(reasons);
	json_decref(skipped);
	return err;
}

int sign_verify(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct image_opts o = { 0 };
	struct cnai_sigstore_target t;
	int err;

	memset(&t, 0, sizeof(t));
	if ((err = parse_image_opts(&o, argc, argv, "verify", ctx)) != 0)
		goto cleanup;
	if (!o.key) {
		err = cnai_error_set(CNAI_EUSAGE, "no key: use --key cosign.pub");
		goto cleanup;
	}
	if ((err = sign_target_open(&t, ctx, argv[optind], o.insecure)) < 0)
		goto cleanup;
	err = verify_target(ctx, &t, &o);
cleanup:
	cnai_sigstore_target_close(&t);
	json_decref(o.annotations);
	return err > 0 ? 0 : err;
}

/*
 * A model version is signed like an image: its manifest (a ModelPack
 * artifact in the store's layout) gets a ".sig" attachment whose identity
 * is "models/NAME".
 */
int sign_model(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct image_opts o = { 0 };
	struct cnai_model_version *v = NULL;
	struct cnai_sigstore_target t;
	int err;

	memset(&t, 0, sizeof(t));
	if ((err = parse_image_opts(&o, argc, argv, "model", ctx)) != 0)
		goto cleanup;
	if (!ctx->store) {
		err = cnai_error_set(CNAI_ENOTFOUND,
				     "not in a cnai store (or any parent); run "
				     "'cnai init'");
		goto cleanup;
	}
	if (!o.key) {
		err = cnai_error_set(CNAI_EUSAGE, "no key: use --key cosign.key");
		goto cleanup;
	}
	if ((err = cnai_model_resolve(&v, ctx->store, argv[optind])) < 0)
		goto cleanup;
	snprintf(t.ref, sizeof(t.ref), "%s@%lld", v->name,
		 (long long)v->version);
	snprintf(t.repo, sizeof(t.repo), "models/%s", v->name);
	snprintf(t.tag, sizeof(t.tag), "%lld", (long long)v->version);
	snprintf(t.image.digest, sizeof(t.image.digest), "%s",
		 v->manifest_digest);
	snprintf(t.image.media_type, sizeof(t.image.media_type), "%s",
		 CNAI_MEDIA_OCI_MANIFEST);
	t.dir = cnai_store_oci(ctx->store);
	err = sign_target(ctx, &t, &o, "model_version");
cleanup:
	cnai_model_version_free(v);
	json_decref(o.annotations);
	return err > 0 ? 0 : err;
}
