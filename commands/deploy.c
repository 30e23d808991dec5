/*
 * cnai deploy: Kubernetes, KServe, Knative and Seldon manifests for a
 * packaged model, by digest; training Jobs; canary promote/rollback; and
 * `kubectl apply` when asked. The manifests are assembled by core/deploy
 * from templates; every emission is recorded (its YAML as a blob, a
 * deployment entity with an edge image -> deployment).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/commands.h"
#include "commands/deploy/deploy.h"
#include "core/deploy/images.h"
#include "core/deploy/rollout.h"
#include "core/deploy/validate.h"
#include "core/store/blobs.h"
#include "core/store/images.h"
#include "core/store/lineage.h"
#include "core/store/models.h"
#include "core/util/hash.h"
#include "core/util/proc.h"
#include "registry/oci.h"
#include "core/util/banned.h"

/* ---- resolving images -------------------------------------------------- */

/*
 * The images of a model: the newest serve image and modelcar; the error
 * says to run cnai package when there is none.
 */
static int model_images(char *serve, char *modelcar, size_t size,
			struct cnai_store *st, const struct cnai_model_version *v)
{
	struct cnai_image_info *img = NULL;
	size_t n = 0;
	int err;

	serve[0] = modelcar[0] = '\0';
	if ((err = cnai_images_of_model(&img, &n, st, v->manifest_digest)) < 0)
		return err;
	cnai_deploy_images_pick(serve, modelcar, size, cnai_store_oci(st), img, n);
	cnai_image_info_free_array(img, n);
	if (!serve[0] && !modelcar[0])
		return cnai_error_set(CNAI_EINVALID,
				      "model %s@%lld has never been packaged; "
				      "run 'cnai package %s@%lld' (and "
				      "'cnai package push' to a registry)",
				      v->name, (long long)v->version, v->name,
				      (long long)v->version);
	return 0;
}

/* A model reference or an image in the store -> image by digest. */
static int resolve(char *serve, char *modelcar, size_t size,
		   struct cnai_model_version **model, struct cnai_store *st,
		   const char *ref)
{
	struct cnai_oci_desc d;
	int err;

	*model = NULL;
	if (cnai_oci_resolve(&d, cnai_store_oci(st), ref) == 0) {
		cnai_deploy_image_of_ref(serve, modelcar, size, cnai_store_oci(st), ref,
					 d.digest);
		return 0;
	}
	cnai_error_clear();
	if ((err = cnai_model_resolve(model, st, ref)) < 0)
		return err == CNAI_ENOTFOUND
			       ? cnai_error_set(CNAI_ENOTFOUND,
						"'%s' is neither a model nor "
						"an image in the store (%s)",
						ref, cnai_error_last()->message)
			       : err;
	return model_images(serve, modelcar, size, st, *model);
}

/* ---- output ------------------------------------------------------------ */

/* kubectl apply --server-side, the manifests on its stdin. */
static int apply(const char *yaml, size_t len, const char *context,
		 int dry_run)
{
	/* one spare slot: --context goes after "kubectl" */
	const char *argv[9] = { "kubectl", "apply", "--server-side",
				"--field-manager", "cnai", "-f", "-", NULL,
				NULL };
	struct cnai_proc_result res;
	char ctx_arg[300];
	int err;

	if (context) {
		snprintf(ctx_arg, sizeof(ctx_arg), "--context=%s", context);
		memmove(argv + 2, argv + 1, 6 * sizeof(*argv));
		argv[1] = ctx_arg;
	}
	if (dry_run) {
		size_t i;

		fprintf(stdout, "#");
		for (i = 0; argv[i]; i++)
			fprintf(stdout, " %s", argv[i]);
		fprintf(stdout, "\n");
		fwrite(yaml, 1, len, stdout);
		return 0;
	}
	fflush(stdout);
	err = cnai_proc_run_input(&res, (char *const *)argv, yaml, len);
	if (err == CNAI_ENOTFOUND || (!err && res.exited &&
				      res.exit_code == 127)) {
		cnai_error_clear();
		return cnai_error_set(CNAI_EUSAGE, "--apply: kubectl not found "
				      "on PATH; install it or drop --apply and "
				      "use the manifests");
	}
	if (err < 0)
		return err;
	if (res.exit_code)
		return cnai_error_set(CNAI_ERROR, "kubectl apply failed (exit "
				      "%d)", res.exited ? res.exit_code : 128);
	return 0;
}

/* Records the emitted YAML (a blob) as a deployment entity. */
static int record(struct cnai_store *st, const char *yaml, size_t len,
		  const char *name, const char *ns, const char *image_digest,
		  char out_digest[CNAI_DIGEST_LEN])
{
	char label[200];
	int64_t ent, img;
	int err;

	snprintf(label, sizeof(label), "%s/%s", ns ? ns : "default", name);
	if ((err = cnai_blob_put_buffer(out_digest, st, yaml, len)) < 0 ||
	    (err = cnai_store_begin_write(st)) < 0)
		return err;
	if ((err = cnai_lineage_entity(&ent, st, CNAI_ENTITY_DEPLOYMENT,
				       out_digest, label)) < 0 ||
	    (image_digest &&
	     ((err = cnai_lineage_entity(&img, st, CNAI_ENTITY_IMAGE,
					 image_digest, NULL)) < 0 ||
	      (err = cnai_lineage_edge(st, img, ent, "deployed")) < 0))) {
		cnai_store_rollback(st);
		return err;
	}
	return cnai_store_commit(st);
}

int deploy_emit(struct cnai_ctx *ctx, struct cnai_yaml **docs, size_t n,
		const struct deploy_opts *o, const char *name, const char *ns,
		const char *image_digest)
{
	struct cnai_buf yaml = CNAI_BUF_INIT;
	char digest[CNAI_DIGEST_LEN];
	int err;

	if ((err = cnai_yaml_emit(&yaml, docs, n)) < 0 ||
	    (err = record(ctx->store, yaml.buf, yaml.len, name, ns,
			  image_digest, digest)) < 0)
		goto cleanup;
	if (o->out_dir && (err = cnai_deploy_write_dir(o->out_dir, docs, n)) < 0)
		goto cleanup;
	if (o->apply)
		err = apply(yaml.buf, yaml.len, o->context, o->dry_run);
	else if (!o->out_dir)
		fwrite(yaml.buf, 1, yaml.len, stdout);
	if (!err && (o->out_dir || o->apply) && !o->dry_run)
		cnai_notice(ctx, "deployment %s recorded as %s", name, digest);
cleanup:
	cnai_buf_release(&yaml);
	return err;
}

static int deploy_model(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct deploy_opts o;
	struct extra x;
	struct cnai_model_version *v = NULL, *sv = NULL;
	struct cnai_buf key = CNAI_BUF_INIT;
	struct cnai_yaml **docs = NULL;
	char serve[700], modelcar[700], s_serve[700], s_mc[700], version[32];
	const char *image_digest;
	size_t n = 0;
	int err;

	if ((err = deploy_parse(&o, &x, argc, argv, ctx, 0)) != 0)
		goto cleanup;
	if (x.nsweep || x.schedule || x.kind) {
		err = cnai_error_set(CNAI_EUSAGE, "--sweep, --schedule and "
				     "--kind belong to 'cnai deploy train-job'");
		goto cleanup;
	}
	o.ref = argv[optind];
	if (o.spec.policy && !o.policy_key_file) {
		err = cnai_error_set(CNAI_EUSAGE, "--policy needs --key "
				     "cosign.pub");
		goto cleanup;
	}
	if (o.spec.max_replicas < o.spec.min_replicas) {
		err = cnai_error_set(CNAI_EUSAGE, "--max-replicas is below "
				     "--min-replicas");
		goto cleanup;
	}
	if ((err = resolve(serve, modelcar, sizeof(serve), &v, ctx->store,
			   o.ref)) < 0)
		goto cleanup;
	if (o.image_override)
		snprintf(serve, sizeof(serve), "%s", o.image_override);
	if (!o.spec.name)
		o.spec.name = v ? v->name : NULL;
	if (!o.spec.name) {
		err = cnai_error_set(CNAI_EUSAGE, "an image needs --name");
		goto cleanup;
	}
	if ((err = deploy_check_name("name", o.spec.name)) < 0)
		goto cleanup;
	if (v) {
		snprintf(version, sizeof(version), "%lld",
			 (long long)v->version);
		o.spec.model_name = v->name;
		o.spec.model_version = version;
	}
	if ((err = cnai_deploy_spec_images(&o.spec, serve, modelcar,
					   o.ref)) < 0)
		goto cleanup;
	if (o.spec.canary >= 0 && o.spec.target == CNAI_DEPLOY_K8S) {
		if (!o.stable) {
			err = cnai_error_set(CNAI_EUSAGE, "--canary needs --stable "
					     "<model>|<image> for the version "
					     "that keeps the rest");
			goto cleanup;
		}
		if ((err = resolve(s_serve, s_mc, sizeof(s_serve), &sv,
				   ctx->store, o.stable)) < 0)
			goto cleanup;
		o.spec.stable_image = s_serve[0] ? s_serve : s_mc;
	}
	if (o.policy_key_file) {
		if ((err = cnai_validate_policy_key(&key,
						    o.policy_key_file)) < 0)
			goto cleanup;
		o.spec.policy_key = key.buf;
	}
	if ((err = cnai_deploy_build(&docs, &n, &o.spec)) < 0)
		goto cleanup;
	/* The image the cluster will run: the modelcar where one serves. */
	image_digest = strchr(o.spec.modelcar ? o.spec.modelcar : o.spec.image,
			      '@');
	err = deploy_emit(ctx, docs, n, &o, o.spec.name, o.spec.namespace_,
		   image_digest ? image_digest + 1 : NULL);
cleanup:
	cnai_deploy_docs_free(docs, n);
	cnai_model_version_free(v);
	cnai_model_version_free(sv);
	cnai_buf_release(&key);
	deploy_free_opts(&o, &x);
	return err > 0 ? 0 : err;
}

struct canary_search {
	struct cnai_store *st;
	struct cnai_buf yaml;
	char digest[CNAI_DIGEST_LEN];
};

/* Stops (1) at the first emission with a canary Deployment. */
static int find_canary(const char *ref, void *payload)
{
	struct canary_search *c = payload;

	cnai_buf_reset(&c->yaml);
	if (cnai_blob_read(&c->yaml, c->st, ref, 16 << 20) < 0) {
		cnai_error_clear();
		return 0;
	}
	if (!strstr(c->yaml.buf, "track: canary"))
		return 0;
	snprintf(c->digest, sizeof(c->digest), "%s", ref);
	return 1;
}

/* The most recent emission for `name` with canary Deployments. */
static int last_canary(struct cnai_yaml ***docs, size_t *n,
		       struct cnai_store *st, const char *name)
{
	struct canary_search c = { st, CNAI_BUF_INIT, "" };
	int err;

	if ((err = cnai_store_deployments_foreach(st, name, find_canary,
						  &c)) < 0) {
		cnai_buf_release(&c.yaml);
		return err;
	}
	if (!c.digest[0]) {
		cnai_buf_release(&c.yaml);
		return cnai_error_set(CNAI_ENOTFOUND,
				      "no canary deployment of '%s' recorded; "
				      "deploy one with --canary", name);
	}
	err = cnai_yaml_parse(docs, n, c.yaml.buf, c.yaml.len, c.digest);
	cnai_buf_release(&c.yaml);
	return err;
}

/*
 * promote: the stable Deployment takes the canary's image and all the
 * replicas; rollback: it keeps its image and takes them all. The canary
 * is scaled to 0 either way (kubectl apply keeps it as an object).
 */
static int finish_canary(int argc, char **argv, struct cnai_ctx *ctx,
			 int promote)
{
	struct deploy_opts o;
	struct extra x;
	struct cnai_yaml **docs = NULL;
	size_t n = 0;
	int err;

	if ((err = deploy_parse(&o, &x, argc, argv, ctx,
				promote ? 1 : 2)) != 0)
		goto cleanup;
	if ((err = deploy_check_name("name", argv[optind])) < 0 ||
	    (err = last_canary(&docs, &n, ctx->store, argv[optind])) < 0)
		goto cleanup;
	if ((err = cnai_deploy_canary_finish(docs, n, argv[optind],
					     promote)) < 0)
		goto cleanup;
	err = deploy_emit(ctx, docs, n, &o, argv[optind], NULL, NULL);
cleanup:
	cnai_deploy_docs_free(docs, n);
	deploy_free_opts(&o, &x);
	return err > 0 ? 0 : err;
}

int cmd_deploy(int argc, char **argv, struct cnai_ctx *ctx)
{
	if (argc >= 2 && !strcmp(argv[1], "promote"))
		return finish_canary(argc - 1, argv + 1, ctx, 1);
	if (argc >= 2 && !strcmp(argv[1], "rollback"))
		return finish_canary(argc - 1, argv + 1, ctx, 0);
	if (argc >= 2 && !strcmp(argv[1], "train-job"))
		return deploy_train_job(argc - 1, argv + 1, ctx);
	return deploy_model(argc, argv, ctx);
}
