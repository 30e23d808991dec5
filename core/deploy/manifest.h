/*
 * Kubernetes manifests for a packaged model, assembled from the templates
 * by setting values on parsed YAML nodes (core/util/yaml.h): a value can
 * never change a document's structure. Images are always by digest.
 */
#ifndef CNAI_CORE_DEPLOY_MANIFEST_H
#define CNAI_CORE_DEPLOY_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/util/buf.h"
#include "core/util/yaml.h"

enum cnai_deploy_target {
	CNAI_DEPLOY_K8S,
	CNAI_DEPLOY_KSERVE,
	CNAI_DEPLOY_KNATIVE,
	CNAI_DEPLOY_SELDON,
};

struct cnai_deploy_spec {
	enum cnai_deploy_target target;
	const char *name, *namespace_;
	const char *image;        /* repo@sha256:..., the serve image */
	const char *modelcar;     /* repo@sha256:... of a modelcar, or NULL */
	const char *stable_image; /* canary: the image that keeps the rest */
	const char *model_name, *model_version;
	int64_t replicas, port;
	int64_t min_replicas, max_replicas, target_cpu;
	const char *autoscale;    /* NULL, "hpa" or "keda" */
	const char *keda_threshold;
	const char *scale_metric; /* kserve: cpu, memory, concurrency, rps */
	int64_t scale_target;
	int64_t canary;           /* percent, or -1 */
	int64_t min_scale, concurrency; /* knative */
	int64_t gpu;
	const char *gpu_resource; /* default nvidia.com/gpu */
	const char *cpu, *memory;
	const char *const *env, *const *labels, *const *annotations,
		*const *node_selector; /* "K=V", NULL-terminated or NULL */
	int monitor;
	const char *policy;       /* NULL, "sigstore" or "kyverno" */
	const char *policy_key;   /* PEM text of the public key */
	const char *templates_dir;
};

/* Fills `s` with cnai-deploy(1)'s defaults (1 replica, port 8080, no
 * canary, ...); NULL strings and zeros for the rest. */
void cnai_deploy_spec_init(struct cnai_deploy_spec *s);
/* The target named `name` ("k8s", "kserve", "knative", "seldon");
 * CNAI_EUSAGE for --target otherwise. */
int cnai_deploy_target_parse(enum cnai_deploy_target *out, const char *name);

/* The documents for `s`; the caller frees each and the array. */
int cnai_deploy_build(struct cnai_yaml ***docs, size_t *n,
		      const struct cnai_deploy_spec *s);

/* Training on a cluster. */
struct cnai_train_job_spec {
	const char *name, *namespace_, *image;
	const char *config_text;  /* the train.yaml given */
	const char *const *sweep; /* "K=V1,V2", NULL-terminated or NULL */
	int64_t gpu, parallelism;
	const char *gpu_resource;
	const char *schedule;     /* a cron line, or NULL */
	int pytorchjob;
	const char *templates_dir;
};
int cnai_deploy_train_job(struct cnai_yaml ***docs, size_t *n,
			  const struct cnai_train_job_spec *s);

void cnai_deploy_docs_free(struct cnai_yaml **docs, size_t n);

#endif
