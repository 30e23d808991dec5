/*
 * cnai deploy train-job: a Job (an Indexed Job over a --sweep grid, a
 * CronJob with --schedule, or a PyTorchJob) that runs `cnai train` with
 * the given train.yaml in a packaged image.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "commands/deploy/deploy.h"
#include "core/deploy/images.h"
#include "core/store/store.h"
#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "registry/oci.h"
#include "core/util/banned.h"

int deploy_train_job(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct deploy_opts o;
	struct extra x;
	struct cnai_train_job_spec t = { 0 };
	struct cnai_buf cfg = CNAI_BUF_INIT;
	struct cnai_yaml **docs = NULL;
	struct cnai_oci_desc d;
	char image[700];
	size_t n = 0;
	int err;

	if ((err = deploy_parse(&o, &x, argc, argv, ctx, 3)) != 0)
		goto cleanup;
	if (!o.image_override) {
		err = cnai_error_set(CNAI_EUSAGE, "train-job needs --image (a "
				     "packaged image with cnai in it)");
		goto cleanup;
	}
	if ((err = cnai_fs_read_file(&cfg, argv[optind], 1 << 20)) < 0)
		goto cleanup;
	/* An image in the store is referenced by digest. */
	if (cnai_oci_resolve(&d, cnai_store_oci(ctx->store), o.image_override) == 0)
		cnai_deploy_image_by_digest(image, sizeof(image), o.image_override,
					    d.digest);
	else
		snprintf(image, sizeof(image), "%s", o.image_override);
	cnai_error_clear();
	t.name = o.spec.name ? o.spec.name : "train";
	t.namespace_ = o.spec.namespace_;
	t.image = image;
	t.config_text = cfg.buf;
	t.sweep = x.sweep;
	t.gpu = o.spec.gpu;
	t.gpu_resource = o.spec.gpu_resource;
	t.parallelism = x.parallelism;
	t.schedule = x.schedule;
	t.pytorchjob = x.kind && !strcmp(x.kind, "pytorchjob");
	t.templates_dir = o.spec.templates_dir;
	/* A CronJob's Jobs are named <name>-<minutes>: 11 more. */
	if (t.schedule && !t.pytorchjob && strlen(t.name) > 52) {
		err = cnai_error_set(CNAI_EUSAGE, "--name '%s' is not a CronJob "
				     "name: it is longer than 52 characters "
				     "(its Jobs add 11)", t.name);
		goto cleanup;
	}
	if ((err = cnai_deploy_train_job(&docs, &n, &t)) < 0)
		goto cleanup;
	err = deploy_emit(ctx, docs, n, &o, t.name, t.namespace_, NULL);
cleanup:
	cnai_deploy_docs_free(docs, n);
	cnai_buf_release(&cfg);
	deploy_free_opts(&o, &x);
	return err > 0 ? 0 : err;
}
