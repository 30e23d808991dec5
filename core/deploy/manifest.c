/*
 * Manifest assembly. Each object starts from its template and gets its
 * values set node by node; nothing is formatted into YAML text. Labels:
 * app.kubernetes.io/{name,version,managed-by,part-of} plus the user's;
 * the selector uses only app.kubernetes.io/name (and `track` for canary
 * Deployments), so adding labels never breaks a rollout.
 */
#include "core/deploy/manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/deploy/templates.h"
#include "core/util/error.h"
#include "registry/reference.h"
#include "core/util/banned.h"

#define NAME_LABEL "app.kubernetes.io/name"

struct docs {
	struct cnai_yaml **d;
	size_t n;
};

void cnai_deploy_spec_init(struct cnai_deploy_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->replicas = 1;
	s->port = 8080;
	s->min_replicas = 1;
	s->max_replicas = 5;
	s->target_cpu = 70;
	s->scale_target = 100;
	s->canary = -1;
	s->min_scale = 1;
	s->concurrency = 100;
}

int cnai_deploy_target_parse(enum cnai_deploy_target *out, const char *name)
{
	static const char *const names[] = { "k8s", "kserve", "knative",
					     "seldon" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (!strcmp(name, names[i])) {
			*out = (enum cnai_deploy_target)i;
			return 0;
		}
	return cnai_error_set(CNAI_EUSAGE, "--target: '%s' is not k8s, kserve, "
			      "knative or seldon", name);
}

void cnai_deploy_docs_free(struct cnai_yaml **docs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cnai_yaml_free(docs[i]);
	free(docs);
}

static int push_doc(struct docs *ds, struct cnai_yaml *doc)
{
	struct cnai_yaml **g = realloc(ds->d, (ds->n + 1) * sizeof(*g));

	if (!g) {
		cnai_yaml_free(doc);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	ds->d = g;
	ds->d[ds->n++] = doc;
	return 0;
}

static int set(struct cnai_yaml *doc, const char *path, struct cnai_yaml *v)
{
	return cnai_yaml_set_path(doc, path, v);
}

static int set_str(struct cnai_yaml *doc, const char *path, const char *v)
{
	return set(doc, path, cnai_yaml_str(v));
}

/* Sets each "K=V" of list into the map at `path` (created if missing). */
static int set_pairs(struct cnai_yaml *doc, const char *path,
		     const char *const *list)
{
	struct cnai_yaml *map;
	size_t i;
	int err;

	if (!list || !list[0])
		return 0;
	if (!(map = cnai_yaml_at(doc, path)) &&
	    (err = set(doc, path, cnai_yaml_map())) < 0)
		return err;
	map = cnai_yaml_at(doc, path);
	for (i = 0; list[i]; i++) {
		const char *eq = strchr(list[i], '=');
		char *k;

		if (!eq)
			continue;
		k = strndup(list[i], (size_t)(eq - list[i]));
		err = cnai_yaml_set(map, k, cnai_yaml_str(eq + 1));
		free(k);
		if (err < 0)
			return err;
	}
	return 0;
}

static int labels(struct cnai_yaml *doc, const char *path,
		  const struct cnai_deploy_spec *s, const char *track)
{
	int err;

	if ((err = set(doc, path, cnai_yaml_map())) < 0 ||
	    (err = set_pairs(doc, path, s->labels)) < 0)
		return err;
	{
		struct cnai_yaml *m = cnai_yaml_at(doc, path);

		if ((err = cnai_yaml_set(m, NAME_LABEL, cnai_yaml_str(s->name))) <
			    0 ||
		    (s->model_version &&
		     (err = cnai_yaml_set(m, "app.kubernetes.io/version",
					  cnai_yaml_str(s->model_version))) <
			     0) ||
		    (s->model_name &&
		     (err = cnai_yaml_set(m, "app.kubernetes.io/part-of",
					  cnai_yaml_str(s->model_name))) < 0) ||
		    (err = cnai_yaml_set(m, "app.kubernetes.io/managed-by",
					 cnai_yaml_str("cnai"))) < 0 ||
		    (track && (err = cnai_yaml_set(m, "track",
						   cnai_yaml_str(track))) < 0))
			return err;
	}
	return 0;
}

static int selector(struct cnai_yaml *doc, const char *path,
		    const struct cnai_deploy_spec *s, const char *track)
{
	int err;

	if ((err = set(doc, path, cnai_yaml_map())) < 0)
		return err;
	{
		struct cnai_yaml *m = cnai_yaml_at(doc, path);

		if ((err = cnai_yaml_set(m, NAME_LABEL, cnai_yaml_str(s->name))) <
		    0)
			return err;
		if (track)
			return cnai_yaml_set(m, "track", cnai_yaml_str(track));
	}
	return 0;
}

/* metadata.name/namespace/labels/annotations of any object. */
static int metadata(struct cnai_yaml *doc, const char *name,
		    const struct cnai_deploy_spec *s, const char *track)
{
	int err;

	if ((err = set_str(doc, "metadata.name", name)) < 0)
		return err;
	if (s->namespace_ &&
	    (err = set_str(doc, "metadata.namespace", s->namespace_)) < 0)
		return err;
	if ((err = labels(doc, "metadata.labels", s, track)) < 0)
		return err;
	if (s->annotations && s->annotations[0])
		return set_pairs(doc, "metadata.annotations", s->annotations);
	return 0;
}

static int load(struct cnai_yaml **doc, const char *tmpl,
		const struct cnai_deploy_spec *s, const char *name,
		const char *track)
{
	int err;

	if ((err = cnai_template_load(doc, tmpl, s->templates_dir)) < 0)
		return err;
	if ((err = metadata(*doc, name, s, track)) < 0) {
		cnai_yaml_free(*doc);
		*doc = NULL;
	}
	return err;
}

/* Requests and limits: --cpu, --memory, and whole GPUs as limits. */
static int resources(struct cnai_yaml *c, const struct cnai_deploy_spec *s)
{
	struct cnai_yaml *res;
	int err;

	if (!(res = cnai_yaml_get(c, "resources"))) {
		if ((err = cnai_yaml_set(c, "resources", cnai_yaml_map())) < 0)
			return err;
		res = cnai_yaml_get(c, "resources");
	}
	if (s->cpu && (err = set_str(res, "requests.cpu", s->cpu)) < 0)
		return err;
	if (s->memory && ((err = set_str(res, "requests.memory", s->memory)) <
				  0 ||
			  (err = set_str(res, "limits.memory", s->memory)) < 0))
		return err;
	if (s->gpu > 0) {
		/* the resource name has dots: set it on the map directly */
		if (!cnai_yaml_get(res, "limits") &&
		    (err = cnai_yaml_set(res, "limits", cnai_yaml_map())) < 0)
			return err;
		if ((err = cnai_yaml_set(cnai_yaml_get(res, "limits"),
					 s->gpu_resource ? s->gpu_resource
							 : "nvidia.com/gpu",
					 cnai_yaml_int(s->gpu))) < 0)
			return err;
	}
	return 0;
}

/* The server container: image, args, port, env, resources, GPUs. */
static int container(struct cnai_yaml *c, const char *image,
		     const struct cnai_deploy_spec *s, int knative)
{
	struct cnai_yaml *args = cnai_yaml_seq(), *env;
	char port[16];
	size_t i;
	int err;

	snprintf(port, sizeof(port), "%lld", (long long)s->port);
	cnai_yaml_append(args, cnai_yaml_str("--host"));
	cnai_yaml_append(args, cnai_yaml_str("0.0.0.0"));
	cnai_yaml_append(args, cnai_yaml_str("--port"));
	cnai_yaml_append(args, cnai_yaml_str(port));
	if ((err = cnai_yaml_set(c, "image", cnai_yaml_str(image))) < 0 ||
	    (err = cnai_yaml_set(c, "args", args)) < 0 ||
	    (err = set(c, "ports[0].containerPort", cnai_yaml_int(s->port))) <
		    0)
		return err;
	if (s->env && s->env[0]) {
		env = cnai_yaml_seq();
		for (i = 0; s->env[i]; i++) {
			const char *eq = strchr(s->env[i], '=');
			struct cnai_yaml *e = cnai_yaml_map();
			char *k = strndup(s->env[i], (size_t)(eq - s->env[i]));

			cnai_yaml_set(e, "name", cnai_yaml_str(k));
			cnai_yaml_set(e, "value", cnai_yaml_str(eq + 1));
			free(k);
			cnai_yaml_append(env, e);
		}
		if ((err = cnai_yaml_set(c, "env", env)) < 0)
			return err;
	}
	if (knative && !s->cpu && !s->memory && !s->gpu)
		return 0;
	return resources(c, s);
}

/* Tolerations and node selectors that put GPU pods on GPU nodes. */
static int pod_placement(struct cnai_yaml *pod,
			 const struct cnai_deploy_spec *s)
{
	int err;

	if (s->gpu > 0) {
		struct cnai_yaml *tols = cnai_yaml_seq(), *t = cnai_yaml_map();

		cnai_yaml_set(t, "key", cnai_yaml_str(s->gpu_resource
							      ? s->gpu_resource
							      : "nvidia.com/gpu"));
		cnai_yaml_set(t, "operator", cnai_yaml_str("Exists"));
		cnai_yaml_set(t, "effect", cnai_yaml_str("NoSchedule"));
		cnai_yaml_append(tols, t);
		if ((err = cnai_yaml_set(pod, "tolerations", tols)) < 0)
			return err;
	}
	return set_pairs(pod, "nodeSelector", s->node_selector);
}

static int deployment(struct docs *ds, const struct cnai_deploy_spec *s,
		      const char *name, const char *image, int64_t replicas,
		      const char *track)
{
	struct cnai_yaml *doc = NULL, *c;
	int err;

	if ((err = load(&doc, "deployment.yaml", s, name, track)) < 0)
		return err;
	if ((err = set(doc, "spec.replicas", cnai_yaml_int(replicas))) < 0 ||
	    (err = selector(doc, "spec.selector.matchLabels", s, track)) < 0 ||
	    (err = labels(doc, "spec.template.metadata.labels", s, track)) < 0 ||
	    (err = set_str(doc, "spec.template.spec.serviceAccountName",
			   s->name)) < 0)
		goto fail;
	if (!(c = cnai_yaml_at(doc, "spec.template.spec.containers[0]"))) {
		err = cnai_error_set(CNAI_EINVALID, "deployment.yaml: no "
				     "spec.template.spec.containers[0]");
		goto fail;
	}
	if ((err = container(c, image, s, 0)) < 0 ||
	    (err = pod_placement(cnai_yaml_at(doc, "spec.template.spec"), s)) <
		    0)
		goto fail;
	return push_doc(ds, doc);
fail:
	cnai_yaml_free(doc);
	return err;
}

static int simple(struct docs *ds, const char *tmpl,
		  const struct cnai_deploy_spec *s, const char *sel_path)
{
	struct cnai_yaml *doc = NULL;
	int err;

	if ((err = load(&doc, tmpl, s, s->name, NULL)) < 0)
		return err;
	if (sel_path && (err = selector(doc, sel_path, s, NULL)) < 0) {
		cnai_yaml_free(doc);
		return err;
	}
	return push_doc(ds, doc);
}

static int k8s(struct docs *ds, const struct cnai_deploy_spec *s)
{
	struct cnai_yaml *doc;
	int err;

	if ((err = simple(ds, "serviceaccount.yaml", s, NULL)) < 0)
		return err;
	if (s->canary >= 0) {
		/* Two Deployments behind one Service, replicas in the ratio
		 * asked; at least one pod each while both run. */
		int64_t total = s->replicas < 2 ? 2 : s->replicas;
		int64_t canary = (total * s->canary + 50) / 100;
		char name[80];

		if (canary < 1 && s->canary > 0)
			canary = 1;
		if (canary > total - 1 && s->canary < 100)
			canary = total - 1;
		snprintf(name, sizeof(name), "%s-stable", s->name);
		if ((err = deployment(ds, s, name, s->stable_image,
				      total - canary, "stable")) < 0)
			return err;
		snprintf(name, sizeof(name), "%s-canary", s->name);
		if ((err = deployment(ds, s, name, s->image, canary,
				      "canary")) < 0)
			return err;
	} else if ((err = deployment(ds, s, s->name, s->image, s->replicas,
				     NULL)) < 0) {
		return err;
	}
	if ((err = simple(ds, "service.yaml", s, "spec.selector")) < 0)
		return err;
	doc = ds->d[ds->n - 1];
	if ((err = set_str(doc, "spec.ports[0].targetPort", "http")) < 0 ||
	    (err = simple(ds, "poddisruptionbudget.yaml", s,
			  "spec.selector.matchLabels")) < 0 ||
	    (err = simple(ds, "networkpolicy.yaml", s,
			  "spec.podSelector.matchLabels")) < 0)
		return err;
	doc = ds->d[ds->n - 1];
	if ((err = set(doc, "spec.ingress[0].ports[0].port",
		       cnai_yaml_int(s->port))) < 0)
		return err;
	if (s->autoscale && !strcmp(s->autoscale, "hpa")) {
		if ((err = simple(ds, "horizontalpodautoscaler.yaml", s, NULL)) <
		    0)
			return err;
		doc = ds->d[ds->n - 1];
		if ((err = set_str(doc, "spec.scaleTargetRef.name", s->name)) < 0 ||
		    (err = set(doc, "spec.minReplicas",
			       cnai_yaml_int(s->min_replicas))) < 0 ||
		    (err = set(doc, "spec.maxReplicas",
			       cnai_yaml_int(s->max_replicas))) < 0 ||
		    (err = set(doc,
			       "spec.metrics[0].resource.target."
			       "averageUtilization",
			       cnai_yaml_int(s->target_cpu))) < 0)
			return err;
	} else if (s->autoscale && !strcmp(s->autoscale, "keda")) {
		char query[300];

		if ((err = simple(ds, "scaledobject.yaml", s, NULL)) < 0)
			return err;
		doc = ds->d[ds->n - 1];
		snprintf(query, sizeof(query),
			 "sum(rate(cnai_http_requests_total{service=\"%s\"}"
			 "[1m]))", s->name);
		if ((err = set_str(doc, "spec.scaleTargetRef.name", s->name)) < 0 ||
		    (err = set(doc, "spec.minReplicaCount",
			       cnai_yaml_int(s->min_replicas))) < 0 ||
		    (err = set(doc, "spec.maxReplicaCount",
			       cnai_yaml_int(s->max_replicas))) < 0 ||
		    (err = set_str(doc, "spec.triggers[0].metadata.query",
				   query)) < 0 ||
		    (err = set_str(doc, "spec.triggers[0].metadata.threshold",
				   s->keda_threshold ? s->keda_threshold
						     : "100")) < 0)
			return err;
	}
	return 0;
}

static int kserve(struct docs *ds, const struct cnai_deploy_spec *s)
{
	struct cnai_yaml *doc = NULL, *pred, *c;
	char uri[700];
	int err;

	if ((err = load(&doc, "inferenceservice.yaml", s, s->name, NULL)) < 0)
		return err;
	pred = cnai_yaml_at(doc, "spec.predictor");
	if (!pred) {
		err = cnai_error_set(CNAI_EINVALID, "inferenceservice.yaml: no "
				     "spec.predictor");
		goto fail;
	}
	if ((err = cnai_yaml_set(pred, "minReplicas",
				 cnai_yaml_int(s->min_replicas))) < 0 ||
	    (err = cnai_yaml_set(pred, "maxReplicas",
				 cnai_yaml_int(s->max_replicas))) < 0)
		goto fail;
	if (s->scale_metric &&
	    ((err = cnai_yaml_set(pred, "scaleMetric",
				  cnai_yaml_str(s->scale_metric))) < 0 ||
	     (err = cnai_yaml_set(pred, "scaleTarget",
				  cnai_yaml_int(s->scale_target))) < 0))
		goto fail;
	if (s->canary >= 0 &&
	    (err = cnai_yaml_set(pred, "canaryTrafficPercent",
				 cnai_yaml_int(s->canary))) < 0)
		goto fail;
	if (s->modelcar) {
		/* An ONNX model from an OCI modelcar, pinned by digest. */
		snprintf(uri, sizeof(uri), "oci://%s", s->modelcar);
		if ((err = set_str(pred, "model.modelFormat.name", "onnx")) < 0 ||
		    (err = set_str(pred, "model.storageUri", uri)) < 0)
			goto fail;
		c = cnai_yaml_get(pred, "model");
		if ((s->gpu > 0 || s->cpu || s->memory) &&
		    (err = resources(c, s)) < 0)
			goto fail;
	} else {
		struct cnai_yaml *cs = cnai_yaml_seq();

		c = cnai_yaml_map();
		cnai_yaml_set(c, "name", cnai_yaml_str("kserve-container"));
		cnai_yaml_set(c, "ports", cnai_yaml_seq());
		cnai_yaml_append(cnai_yaml_get(c, "ports"), cnai_yaml_map());
		cnai_yaml_set(cnai_yaml_get(c, "ports")->items[0], "name",
			      cnai_yaml_str("http1"));
		cnai_yaml_set(cnai_yaml_get(c, "ports")->items[0], "protocol",
			      cnai_yaml_str("TCP"));
		if ((err = container(c, s->image, s, 1)) < 0 ||
		    (err = cnai_yaml_append(cs, c)) < 0 ||
		    (err = cnai_yaml_set(pred, "containers", cs)) < 0)
			goto fail;
	}
	if ((err = pod_placement(pred, s)) < 0)
		goto fail;
	return push_doc(ds, doc);
fail:
	cnai_yaml_free(doc);
	return err;
}

static int knative(struct docs *ds, const struct cnai_deploy_spec *s)
{
	struct cnai_yaml *doc = NULL, *c, *ann;
	char v[32];
	int err;

	if ((err = load(&doc, "knative-service.yaml", s, s->name, NULL)) < 0)
		return err;
	ann = cnai_yaml_at(doc, "spec.template.metadata.annotations");
	if (!ann || !(c = cnai_yaml_at(doc, "spec.template.spec.containers[0]"))) {
		err = cnai_error_set(CNAI_EINVALID, "knative-service.yaml: no "
				     "template annotations or container");
		goto fail;
	}
	snprintf(v, sizeof(v), "%lld", (long long)s->min_scale);
	cnai_yaml_set(ann, "autoscaling.knative.dev/min-scale",
		      cnai_yaml_str(v));
	snprintf(v, sizeof(v), "%lld", (long long)s->max_replicas);
	cnai_yaml_set(ann, "autoscaling.knative.dev/max-scale",
		      cnai_yaml_str(v));
	snprintf(v, sizeof(v), "%lld", (long long)s->concurrency);
	cnai_yaml_set(ann, "autoscaling.knative.dev/target", cnai_yaml_str(v));
	if ((err = labels(doc, "spec.template.metadata.labels", s, NULL)) < 0 ||
	    (err = container(c, s->image, s, 1)) < 0 ||
	    (err = pod_placement(cnai_yaml_at(doc, "spec.template.spec"), s)) <
		    0)
		goto fail;
	return push_doc(ds, doc);
fail:
	cnai_yaml_free(doc);
	return err;
}

static int seldon(struct docs *ds, const struct cnai_deploy_spec *s)
{
	struct cnai_yaml *doc = NULL;
	char uri[700];
	int err;

	if ((err = load(&doc, "seldon-model.yaml", s, s->name, NULL)) < 0)
		return err;
	snprintf(uri, sizeof(uri), "oci://%s",
		 s->modelcar ? s->modelcar : s->image);
	if ((err = set_str(doc, "spec.storageUri", uri)) < 0 ||
	    (err = set(doc, "spec.replicas", cnai_yaml_int(s->replicas))) < 0) {
		cnai_yaml_free(doc);
		return err;
	}
	return push_doc(ds, doc);
}

/* "registry/repo@sha256:..." -> "registry/repo*" for image globs. */
static void repo_glob(char *out, size_t size, const char *image)
{
	struct cnai_reference_parts p;

	cnai_reference_split(&p, image);
	snprintf(out, size, "%.*s*",
		 (int)(p.digest ? (size_t)(p.digest - 1 - image)
				: strlen(image)),
		 image);
}

static int policy(struct docs *ds, const struct cnai_deploy_spec *s)
{
	struct cnai_yaml *doc = NULL;
	char glob[700], name[80];
	int err, kyverno = !strcmp(s->policy, "kyverno");

	snprintf(name, sizeof(name), "%s-signed", s->name);
	repo_glob(glob, sizeof(glob), s->image);
	if ((err = cnai_template_load(&doc, kyverno ? "kyverno-clusterpolicy.yaml"
						    : "clusterimagepolicy.yaml",
				      s->templates_dir)) < 0)
		return err;
	/* cluster-scoped: no namespace */
	if ((err = set_str(doc, "metadata.name", name)) < 0)
		goto fail;
	if (kyverno) {
		if ((err = labels(doc, "metadata.labels", s, NULL)) < 0 ||
		    (err = set_str(doc,
				   "spec.rules[0].verifyImages[0]."
				   "imageReferences[0]", glob)) < 0 ||
		    (err = set_str(doc,
				   "spec.rules[0].verifyImages[0].attestors[0]."
				   "entries[0].keys.publicKeys",
				   s->policy_key)) < 0)
			goto fail;
	} else if ((err = set_str(doc, "spec.images[0].glob", glob)) < 0 ||
		   (err = set_str(doc, "spec.authorities[0].key.data",
				  s->policy_key)) < 0) {
		goto fail;
	}
	return push_doc(ds, doc);
fail:
	cnai_yaml_free(doc);
	return err;
}

int cnai_deploy_build(struct cnai_yaml ***out, size_t *n,
		      const struct cnai_deploy_spec *s)
{
	struct docs ds = { NULL, 0 };
	int err = 0;

	*out = NULL;
	*n = 0;
	switch (s->target) {
	case CNAI_DEPLOY_K8S:
		err = k8s(&ds, s);
		break;
	case CNAI_DEPLOY_KSERVE:
		err = kserve(&ds, s);
		break;
	case CNAI_DEPLOY_KNATIVE:
		err = knative(&ds, s);
		break;
	case CNAI_DEPLOY_SELDON:
		err = seldon(&ds, s);
		break;
	}
	if (!err && s->monitor)
		err = simple(&ds, "servicemonitor.yaml", s,
			     "spec.selector.matchLabels");
	if (!err && s->policy)
		err = policy(&ds, s);
	if (err < 0) {
		cnai_deploy_docs_free(ds.d, ds.n);
		return err;
	}
	*out = ds.d;
	*n = ds.n;
	return 0;
}
