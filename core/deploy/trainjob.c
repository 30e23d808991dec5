/*
 * Training on a cluster: a ConfigMap with train.yaml (and, for a sweep,
 * one file per grid point), and a batch/v1 Job running `cnai train -f` in
 * the packaged image. A sweep is an Indexed Job: each pod's completion
 * index picks its grid point's file, so points run in parallel on the
 * cluster's nodes. --schedule wraps the Job in a CronJob; --kind
 * pytorchjob emits a Kubeflow PyTorchJob for users with their own image.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/deploy/manifest.h"
#include "core/deploy/templates.h"
#include "core/util/error.h"
#include "core/util/banned.h"

enum { MAX_POINTS = 1000 };

struct axis {
	char *key;
	char **values;
	size_t n;
};

static void axes_free(struct axis *a, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		free(a[i].key);
		for (j = 0; j < a[i].n; j++)
			free(a[i].values[j]);
		free(a[i].values);
	}
	free(a);
}

static int parse_axes(struct axis **out, size_t *nout,
		      const char *const *sweep)
{
	struct axis *a = NULL;
	size_t n = 0, i;
	char *dup, *p, *save, *tok;

	*out = NULL;
	*nout = 0;
	for (i = 0; sweep && sweep[i]; i++) {
		const char *eq = strchr(sweep[i], '=');
		struct axis *g;

		if (!eq || eq == sweep[i] || !eq[1]) {
			axes_free(a, n);
			return cnai_error_set(CNAI_EUSAGE, "--sweep '%s' is not "
					      "KEY=V1,V2,...", sweep[i]);
		}
		if (!(g = realloc(a, (n + 1) * sizeof(*a)))) {
			axes_free(a, n);
			return cnai_error_set(CNAI_ERROR, "out of memory");
		}
		a = g;
		memset(&a[n], 0, sizeof(a[n]));
		a[n].key = strndup(sweep[i], (size_t)(eq - sweep[i]));
		dup = strdup(eq + 1);
		for (p = dup, save = NULL; (tok = strtok_r(p, ",", &save));
		     p = NULL) {
			char **gv = realloc(a[n].values,
					    (a[n].n + 1) * sizeof(char *));

			if (!gv)
				break;
			a[n].values = gv;
			a[n].values[a[n].n++] = strdup(tok);
		}
		free(dup);
		n++;
	}
	*out = a;
	*nout = n;
	return 0;
}

/* -?[0-9]+(.[0-9]+)?([eE][-+]?[0-9]+)?: what every reader calls a number */
static int is_number(const char *s)
{
	size_t n;

	s += *s == '-';
	if (!(n = strspn(s, "0123456789")))
		return 0;
	s += n;
	if (*s == '.') {
		if (!(n = strspn(++s, "0123456789")))
			return 0;
		s += n;
	}
	if (*s == 'e' || *s == 'E') {
		s += 1 + (s[1] == '+' || s[1] == '-');
		if (!(n = strspn(s, "0123456789")))
			return 0;
		s += n;
	}
	return !*s;
}

/* The train config of grid point `index` (mixed radix over the axes). */
static int point_config(struct cnai_buf *out, struct cnai_yaml *base,
			const struct axis *a, size_t naxes, size_t index)
{
	struct cnai_yaml *doc = cnai_yaml_copy(base);
	size_t i;
	int err = 0;

	if (!doc)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < naxes && !err; i++) {
		err = cnai_yaml_set(doc, a[i].key,
				    cnai_yaml_str(a[i].values[index % a[i].n]));
		/* numbers stay numbers in train.yaml; anything else is a
		 * string, never a bool, a date or a base-60 number */
		if (!err && is_number(a[i].values[index % a[i].n]))
			cnai_yaml_get(doc, a[i].key)->type = CNAI_YAML_RAW;
		index /= a[i].n;
	}
	if (!err)
		err = cnai_yaml_emit(out, &doc, 1);
	cnai_yaml_free(doc);
	return err;
}

static int meta(struct cnai_yaml *doc, const char *name,
		const struct cnai_train_job_spec *s)
{
	int err;

	if ((err = cnai_yaml_set_path(doc, "metadata.name",
				      cnai_yaml_str(name))) < 0)
		return err;
	if (s->namespace_ &&
	    (err = cnai_yaml_set_path(doc, "metadata.namespace",
				      cnai_yaml_str(s->namespace_))) < 0)
		return err;
	return cnai_yaml_set_path(doc, "metadata.labels",
				  cnai_yaml_map()) < 0
		       ? CNAI_ERROR
		       : cnai_yaml_set(cnai_yaml_at(doc, "metadata.labels"),
				       "app.kubernetes.io/managed-by",
				       cnai_yaml_str("cnai"));
}

static struct cnai_yaml *command(const char *file)
{
	struct cnai_yaml *c = cnai_yaml_seq();

	cnai_yaml_append(c, cnai_yaml_str("/usr/local/bin/cnai"));
	cnai_yaml_append(c, cnai_yaml_str("train"));
	cnai_yaml_append(c, cnai_yaml_str("-f"));
	cnai_yaml_append(c, cnai_yaml_str(file));
	return c;
}

/*
 * A sweep's Job: Indexed, one completion a point, the index (as $POINT in
 * container `c`, when there is one) picking the point's file.
 */
static void indexed(struct cnai_yaml *job, struct cnai_yaml *c,
		    size_t points, int64_t parallelism)
{
	struct cnai_yaml *env = cnai_yaml_seq(), *e = cnai_yaml_map();

	cnai_yaml_set_path(job, "spec.completionMode", cnai_yaml_str("Indexed"));
	cnai_yaml_set_path(job, "spec.completions",
			   cnai_yaml_int((int64_t)points));
	cnai_yaml_set_path(job, "spec.parallelism",
			   cnai_yaml_int(parallelism > 0 ? parallelism
							 : (int64_t)points));
	cnai_yaml_set(e, "name", cnai_yaml_str("POINT"));
	cnai_yaml_set_path(e, "valueFrom.fieldRef.fieldPath",
			   cnai_yaml_str("metadata.annotations['batch."
					 "kubernetes.io/job-completion-"
					 "index']"));
	cnai_yaml_append(env, e);
	if (c)
		cnai_yaml_set(c, "env", env);
	else
		cnai_yaml_free(env);
}

/* The GPU limit of container `c`: s->gpu of the resource asked for. */
static void gpu_limit(struct cnai_yaml *c, const struct cnai_train_job_spec *s)
{
	char res[200];

	snprintf(res, sizeof(res), "%s",
		 s->gpu_resource ? s->gpu_resource : "nvidia.com/gpu");
	if (!cnai_yaml_at(c, "resources.limits"))
		cnai_yaml_set_path(c, "resources.limits", cnai_yaml_map());
	cnai_yaml_set(cnai_yaml_at(c, "resources.limits"), res,
		      cnai_yaml_int(s->gpu));
}

int cnai_deploy_train_job(struct cnai_yaml ***docs, size_t *n,
			  const struct cnai_train_job_spec *s)
{
	struct cnai_yaml **base = NULL, *cm = NULL, *job = NULL, *cron = NULL,
			 *c, **out;
	struct axis *axes = NULL;
	size_t naxes = 0, nbase = 0, points = 1, i;
	struct cnai_buf text = CNAI_BUF_INIT;
	char key[32];
	int err;

	*docs = NULL;
	*n = 0;
	if ((err = cnai_yaml_parse(&base, &nbase, s->config_text,
				   strlen(s->config_text), "train.yaml")) < 0)
		return err;
	if (nbase != 1 || base[0]->kind != CNAI_YAML_MAP) {
		err = cnai_error_set(CNAI_EINVALID, "train.yaml: expected one "
				     "mapping of train options");
		goto cleanup;
	}
	if ((err = parse_axes(&axes, &naxes, s->sweep)) < 0)
		goto cleanup;
	for (i = 0; i < naxes; i++) {
		points *= axes[i].n;
		if (points > MAX_POINTS) {
			err = cnai_error_set(CNAI_EUSAGE, "--sweep: more than %d "
					     "points", MAX_POINTS);
			goto cleanup;
		}
	}
	if ((err = cnai_template_load(&cm, "configmap.yaml", s->templates_dir)) <
		    0 ||
	    (err = meta(cm, s->name, s)) < 0)
		goto cleanup;
	if ((err = cnai_yaml_set_path(cm, "data.train.yaml",
				      cnai_yaml_str(s->config_text))) < 0)
		goto cleanup;
	/* "train.yaml" has a dot: set_path would nest; set it directly. */
	cnai_yaml_remove(cnai_yaml_get(cm, "data"), "train");
	cnai_yaml_set(cnai_yaml_get(cm, "data"), "train.yaml",
		      cnai_yaml_str(s->config_text));
	for (i = 0; naxes && i < points; i++) {
		cnai_buf_reset(&text);
		if ((err = point_config(&text, base[0], axes, naxes, i)) < 0)
			goto cleanup;
		snprintf(key, sizeof(key), "point-%zu.yaml", i);
		cnai_yaml_set(cnai_yaml_get(cm, "data"), key,
			      cnai_yaml_str(text.buf));
	}
	if (s->pytorchjob) {
		if ((err = cnai_template_load(&job, "pytorchjob.yaml",
					      s->templates_dir)) < 0 ||
		    (err = meta(job, s->name, s)) < 0)
			goto cleanup;
		c = cnai_yaml_at(job, "spec.pytorchReplicaSpecs.Master.template."
				      "spec.containers[0]");
	} else {
		if ((err = cnai_template_load(&job, "job.yaml",
					      s->templates_dir)) < 0 ||
		    (err = meta(job, s->name, s)) < 0)
			goto cleanup;
		c = cnai_yaml_at(job, "spec.template.spec.containers[0]");
		cnai_yaml_set_path(job, "spec.template.spec.volumes[0]."
					"configMap.name",
				   cnai_yaml_str(s->name));
		if (naxes)
			indexed(job, c, points, s->parallelism);
	}
	if (!c) {
		err = cnai_error_set(CNAI_EINVALID, "the job template has no "
				     "container");
		goto cleanup;
	}
	cnai_yaml_set(c, "image", cnai_yaml_str(s->image));
	cnai_yaml_set(c, "command",
		      command(naxes ? "/etc/cnai/point-$(POINT).yaml"
				    : "/etc/cnai/train.yaml"));
	if (s->gpu > 0)
		gpu_limit(c, s);
	if (s->schedule && !s->pytorchjob) {
		if ((err = cnai_template_load(&cron, "cronjob.yaml",
					      s->templates_dir)) < 0 ||
		    (err = meta(cron, s->name, s)) < 0 ||
		    (err = cnai_yaml_set_path(cron, "spec.schedule",
					      cnai_yaml_str(s->schedule))) < 0 ||
		    (err = cnai_yaml_set_path(cron, "spec.jobTemplate.spec",
					      cnai_yaml_copy(cnai_yaml_get(
						      job, "spec")))) < 0)
			goto cleanup;
		cnai_yaml_free(job);
		job = cron;
		cron = NULL;
	}
	if (!(out = calloc(2, sizeof(*out)))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	out[0] = cm;
	out[1] = job;
	cm = job = NULL;
	*docs = out;
	*n = 2;
cleanup:
	for (i = 0; i < nbase; i++)
		cnai_yaml_free(base[i]);
	free(base);
	axes_free(axes, naxes);
	cnai_yaml_free(cm);
	cnai_yaml_free(job);
	cnai_yaml_free(cron);
	cnai_buf_release(&text);
	return err;
}
