/*
 * Tests for core/deploy/manifest.c: the documents each target gets, in
 * order, built from the templates with the spec's values set (image by
 * digest, replicas, labels, selector, env, GPU resources and placement,
 * canary split, autoscalers, modelcar URIs, signature policies); hostile
 * values stay values (the YAML emitted and parsed back has the template's
 * structure and the value unchanged); a template from --templates that
 * lacks what is set, or is no YAML, is refused naming the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/deploy/manifest.h"
#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/yaml.h"
#include "tests/unit/fixture.h"
#include "core/util/banned.h"

#define IMAGE "reg.example/m@sha256:" \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct built {
	struct cnai_yaml **d;
	size_t n;
};

static void base_spec(struct cnai_deploy_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->target = CNAI_DEPLOY_K8S;
	s->name = "iris";
	s->namespace_ = "ml";
	s->image = IMAGE;
	s->model_name = "iris";
	s->model_version = "3";
	s->replicas = 2;
	s->port = 8080;
	s->min_replicas = 1;
	s->max_replicas = 5;
	s->target_cpu = 70;
	s->canary = -1;
	s->min_scale = 1;
	s->concurrency = 10;
}

static void build_ok(struct built *b, const struct cnai_deploy_spec *s)
{
	int err = cnai_deploy_build(&b->d, &b->n, s);

	if (err)
		fail_msg("build: %d %s", err, fixture_errmsg());
}

static void built_free(struct built *b)
{
	cnai_deploy_docs_free(b->d, b->n);
}

/* The scalar at `path` of document i, or NULL. */
static const char *at(struct built *b, size_t i, const char *path)
{
	struct cnai_yaml *v;

	assert_true(i < b->n);
	v = cnai_yaml_at(b->d[i], path);
	return v && v->kind == CNAI_YAML_SCALAR ? v->value : NULL;
}

static void assert_at(struct built *b, size_t i, const char *path,
		      const char *want)
{
	const char *got = at(b, i, path);

	if (!got || strcmp(got, want))
		fail_msg("doc %zu %s: got '%s', want '%s'", i, path,
			 got ? got : "(none)", want);
}

static void assert_kinds(struct built *b, const char *const *kinds)
{
	size_t i;

	for (i = 0; kinds[i]; i++)
		assert_at(b, i, "kind", kinds[i]);
	assert_int_equal(b->n, i);
}

static void test_manifest__k8s_documents_and_values(void **state)
{
	static const char *const kinds[] = {
		"ServiceAccount", "Deployment", "Service",
		"PodDisruptionBudget", "NetworkPolicy", NULL,
	};
	const char *const env[] = { "LOG=debug", NULL };
	const char *const lab[] = { "team=ds", NULL };
	struct cnai_deploy_spec s;
	struct built b;
	struct cnai_yaml *sel;

	base_spec(&s);
	s.env = env;
	s.labels = lab;
	build_ok(&b, &s);
	assert_kinds(&b, kinds);
	assert_at(&b, 1, "metadata.name", "iris");
	assert_at(&b, 1, "metadata.namespace", "ml");
	assert_at(&b, 1, "metadata.labels.team", "ds");
	assert_at(&b, 1, "spec.replicas", "2");
	assert_at(&b, 1, "spec.template.spec.containers[0].image", IMAGE);
	assert_at(&b, 1, "spec.template.spec.containers[0].args[3]", "8080");
	assert_at(&b, 1, "spec.template.spec.containers[0].env[0].name", "LOG");
	assert_at(&b, 1, "spec.template.spec.containers[0].env[0].value",
		  "debug");
	assert_at(&b, 1, "spec.template.spec.serviceAccountName", "iris");
	/* the template's hardening is kept */
	assert_at(&b, 1, "spec.template.spec.automountServiceAccountToken",
		  "false");
	/* the selector has only the name, so extra labels never break it */
	sel = cnai_yaml_at(b.d[1], "spec.selector.matchLabels");
	assert_non_null(sel);
	assert_int_equal(sel->n, 1);
	assert_string_equal(sel->keys[0], "app.kubernetes.io/name");
	assert_string_equal(sel->items[0]->value, "iris");
	/* labels set on maps with dotted keys, found with get */
	assert_string_equal(cnai_yaml_get(cnai_yaml_at(b.d[1],
						       "metadata.labels"),
					  "app.kubernetes.io/managed-by")
				    ->value, "cnai");
	assert_string_equal(cnai_yaml_get(cnai_yaml_at(b.d[1],
						       "metadata.labels"),
					  "app.kubernetes.io/version")
				    ->value, "3");
	assert_at(&b, 2, "spec.ports[0].targetPort", "http");
	assert_at(&b, 4, "spec.ingress[0].ports[0].port", "8080");
	built_free(&b);
}

static void test_manifest__gpu_limits_and_tolerations(void **state)
{
	struct cnai_deploy_spec s;
	struct built b;
	struct cnai_yaml *lim;

	base_spec(&s);
	s.gpu = 2;
	s.cpu = "2";
	s.memory = "4Gi";
	build_ok(&b, &s);
	lim = cnai_yaml_at(b.d[1],
			   "spec.template.spec.containers[0].resources.limits");
	assert_non_null(lim);
	assert_string_equal(cnai_yaml_get(lim, "nvidia.com/gpu")->value, "2");
	assert_string_equal(cnai_yaml_get(lim, "memory")->value, "4Gi");
	assert_at(&b, 1, "spec.template.spec.containers[0].resources.requests."
		  "cpu", "2");
	assert_at(&b, 1, "spec.template.spec.tolerations[0].key",
		  "nvidia.com/gpu");
	assert_at(&b, 1, "spec.template.spec.tolerations[0].effect",
		  "NoSchedule");
	built_free(&b);
}

static void test_manifest__canary_splits_replicas(void **state)
{
	static const char *const kinds[] = {
		"ServiceAccount", "Deployment", "Deployment", "Service",
		"PodDisruptionBudget", "NetworkPolicy", NULL,
	};
	struct cnai_deploy_spec s;
	struct built b;

	base_spec(&s);
	s.replicas = 4;
	s.canary = 10; /* 0.4 of a pod: at least one while both run */
	s.stable_image = "reg.example/m@sha256:"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaa";
	build_ok(&b, &s);
	assert_kinds(&b, kinds);
	assert_at(&b, 1, "metadata.name", "iris-stable");
	assert_at(&b, 1, "spec.replicas", "3");
	assert_at(&b, 1, "spec.selector.matchLabels.track", "stable");
	assert_at(&b, 1, "spec.template.spec.containers[0].image",
		  s.stable_image);
	assert_at(&b, 2, "metadata.name", "iris-canary");
	assert_at(&b, 2, "spec.replicas", "1");
	assert_at(&b, 2, "spec.template.metadata.labels.track", "canary");
	assert_at(&b, 2, "spec.template.spec.containers[0].image", IMAGE);
	/* the Service selects both */
	assert_null(cnai_yaml_at(b.d[3], "spec.selector.track"));
	built_free(&b);
}

static void test_manifest__autoscalers_monitor_and_policy(void **state)
{
	static const char *const hpa[] = {
		"ServiceAccount", "Deployment", "Service",
		"PodDisruptionBudget", "NetworkPolicy",
		"HorizontalPodAutoscaler", "ServiceMonitor",
		"ClusterPolicy", NULL,
	};
	struct cnai_deploy_spec s;
	struct built b;

	base_spec(&s);
	s.autoscale = "hpa";
	s.monitor = 1;
	s.policy = "kyverno";
	s.policy_key = "-----BEGIN PUBLIC KEY-----\nAAAA\n"
		       "-----END PUBLIC KEY-----\n";
	build_ok(&b, &s);
	assert_kinds(&b, hpa);
	assert_at(&b, 5, "spec.scaleTargetRef.name", "iris");
	assert_at(&b, 5, "spec.maxReplicas", "5");
	assert_at(&b, 5, "spec.metrics[0].resource.target.averageUtilization",
		  "70");
	assert_at(&b, 7, "metadata.name", "iris-signed");
	assert_null(cnai_yaml_at(b.d[7], "metadata.namespace"));
	assert_at(&b, 7, "spec.rules[0].verifyImages[0].imageReferences[0]",
		  "reg.example/m*");
	assert_at(&b, 7, "spec.rules[0].verifyImages[0].attestors[0].entries[0]"
		  ".keys.publicKeys", s.policy_key);
	built_free(&b);

	s.autoscale = "keda";
	s.keda_threshold = "25";
	s.policy = "sigstore";
	s.monitor = 0;
	build_ok(&b, &s);
	assert_at(&b, 5, "kind", "ScaledObject");
	assert_at(&b, 5, "spec.triggers[0].metadata.query",
		  "sum(rate(cnai_http_requests_total{service=\"iris\"}[1m]))");
	assert_at(&b, 5, "spec.triggers[0].metadata.threshold", "25");
	assert_at(&b, 6, "kind", "ClusterImagePolicy");
	assert_at(&b, 6, "spec.images[0].glob", "reg.example/m*");
	built_free(&b);
}

static void test_manifest__kserve_modelcar_and_seldon(void **state)
{
	struct cnai_deploy_spec s;
	struct built b;
	char uri[200];

	base_spec(&s);
	s.target = CNAI_DEPLOY_KSERVE;
	s.modelcar = "reg.example/car@sha256:"
		     "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		     "bbbbbbbbb";
	s.canary = 20;
	build_ok(&b, &s);
	assert_int_equal(b.n, 1);
	assert_at(&b, 0, "kind", "InferenceService");
	snprintf(uri, sizeof(uri), "oci://%s", s.modelcar);
	assert_at(&b, 0, "spec.predictor.model.storageUri", uri);
	assert_at(&b, 0, "spec.predictor.model.modelFormat.name", "onnx");
	assert_at(&b, 0, "spec.predictor.canaryTrafficPercent", "20");
	assert_null(cnai_yaml_at(b.d[0], "spec.predictor.containers"));
	built_free(&b);

	s.modelcar = NULL;
	build_ok(&b, &s);
	assert_at(&b, 0, "spec.predictor.containers[0].name",
		  "kserve-container");
	assert_at(&b, 0, "spec.predictor.containers[0].image", IMAGE);
	built_free(&b);

	s.target = CNAI_DEPLOY_SELDON;
	build_ok(&b, &s);
	assert_int_equal(b.n, 1);
	assert_at(&b, 0, "kind", "Model");
	assert_at(&b, 0, "spec.storageUri", "oci://" IMAGE);
	built_free(&b);
}

static void test_manifest__knative_annotations(void **state)
{
	struct cnai_deploy_spec s;
	struct built b;
	struct cnai_yaml *ann;

	base_spec(&s);
	s.target = CNAI_DEPLOY_KNATIVE;
	build_ok(&b, &s);
	assert_int_equal(b.n, 1);
	ann = cnai_yaml_at(b.d[0], "spec.template.metadata.annotations");
	assert_non_null(ann);
	assert_string_equal(cnai_yaml_get(ann, "autoscaling.knative.dev/"
					       "max-scale")->value, "5");
	assert_string_equal(cnai_yaml_get(ann, "autoscaling.knative.dev/"
					       "target")->value, "10");
	assert_at(&b, 0, "spec.template.spec.containers[0].image", IMAGE);
	built_free(&b);
}

/* Every scalar of `n` and below, depth first, into `out` as lines. */
static void flatten(struct cnai_buf *out, const struct cnai_yaml *n)
{
	size_t i;

	if (n->kind == CNAI_YAML_SCALAR) {
		cnai_buf_addf(out, "=%s\n", n->value);
		return;
	}
	for (i = 0; i < n->n; i++) {
		if (n->kind == CNAI_YAML_MAP)
			cnai_buf_addf(out, "%s:\n", n->keys[i]);
		flatten(out, n->items[i]);
	}
}

static void test_manifest__hostile_values_keep_structure(void **state)
{
	static const char evil[] = "x\n---\nkind: Secret\n  evil: [1, {a: *b}]"
				   " # ' \" | > %@`!&";
	const char *const env[] = { "E=v: 1\n- two\n...\n---", NULL };
	const char *const lab[] = { "k=" "\"quoted\"\nkind: Secret", NULL };
	const char *const ann[] = { "note=---\n{", NULL };
	struct cnai_deploy_spec s;
	struct cnai_buf text = CNAI_BUF_INIT, before = CNAI_BUF_INIT,
			after = CNAI_BUF_INIT;
	struct cnai_yaml **back = NULL;
	struct built b;
	size_t nback = 0, i;

	base_spec(&s);
	s.name = evil;
	s.model_version = evil;
	s.cpu = "1\nmemory: 99Gi";
	s.env = env;
	s.labels = lab;
	s.annotations = ann;
	build_ok(&b, &s);
	assert_int_equal(b.n, 5);
	assert_at(&b, 1, "metadata.name", evil);
	assert_at(&b, 1, "spec.template.spec.containers[0].env[0].value",
		  "v: 1\n- two\n...\n---");
	assert_at(&b, 1, "spec.template.spec.containers[0].resources.requests."
		  "cpu", "1\nmemory: 99Gi");

	/* emitted and parsed back: the same documents, node for node */
	assert_int_equal(cnai_yaml_emit(&text, b.d, b.n), 0);
	assert_int_equal(cnai_yaml_parse(&back, &nback, text.buf, text.len,
					 "emitted"), 0);
	assert_int_equal(nback, b.n);
	for (i = 0; i < b.n; i++) {
		flatten(&before, b.d[i]);
		flatten(&after, back[i]);
	}
	assert_string_equal(after.buf, before.buf);
	for (i = 0; i < nback; i++)
		assert_string_not_equal(cnai_yaml_at(back[i], "kind")->value,
					"Secret");
	assert_string_equal(cnai_yaml_at(back[1],
					 "spec.template.spec.containers[0]."
					 "resources.limits.memory")->value,
			    "512Mi");
	for (i = 0; i < nback; i++)
		cnai_yaml_free(back[i]);
	free(back);
	cnai_buf_release(&text);
	cnai_buf_release(&before);
	cnai_buf_release(&after);
	built_free(&b);
}

static void test_manifest__template_without_container_refused(void **state)
{
	struct fixture *fx = *state;
	static const char tmpl[] = "apiVersion: apps/v1\nkind: Deployment\n"
				   "spec:\n  template:\n    spec: {}\n";
	struct cnai_deploy_spec s;
	struct cnai_yaml **d = (void *)1;
	size_t n = 7;

	assert_int_equal(fixture_write(fx, "deployment.yaml", tmpl,
				       sizeof(tmpl) - 1), 0);
	base_spec(&s);
	s.templates_dir = fx->dir;
	assert_int_equal(cnai_deploy_build(&d, &n, &s), CNAI_EINVALID);
	assert_string_equal(fixture_errmsg(), "deployment.yaml: no "
			    "spec.template.spec.containers[0]");
	assert_null(d);
	assert_int_equal(n, 0);
}

static void test_manifest__template_not_yaml_refused(void **state)
{
	struct fixture *fx = *state;
	static const char tmpl[] = "kind: Model\nspec: [unclosed\n";
	struct cnai_deploy_spec s;
	struct cnai_yaml **d = NULL;
	size_t n = 0;

	assert_int_equal(fixture_write(fx, "seldon-model.yaml", tmpl,
				       sizeof(tmpl) - 1), 0);
	base_spec(&s);
	s.target = CNAI_DEPLOY_SELDON;
	s.templates_dir = fx->dir;
	assert_int_equal(cnai_deploy_build(&d, &n, &s), CNAI_EINVALID);
	assert_non_null(strstr(fixture_errmsg(), "seldon-model.yaml:"));
	assert_null(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fixture_setup_dir, \
					     fixture_teardown)
		T(test_manifest__k8s_documents_and_values),
		T(test_manifest__gpu_limits_and_tolerations),
		T(test_manifest__canary_splits_replicas),
		T(test_manifest__autoscalers_monitor_and_policy),
		T(test_manifest__kserve_modelcar_and_seldon),
		T(test_manifest__knative_annotations),
		T(test_manifest__hostile_values_keep_structure),
		T(test_manifest__template_without_container_refused),
		T(test_manifest__template_not_yaml_refused),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
