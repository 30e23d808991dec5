/*
 * The options of `cnai deploy` and its sub-commands: one table and one
 * parser for all of them (a sub-command refuses what it does not take),
 * each value checked where it is parsed, with the rule that makes it safe
 * in a manifest (core/deploy/validate.h).
 */
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "commands/deploy/deploy.h"
#include "core/deploy/validate.h"
#include "core/util/error.h"
#include "core/util/banned.h"

#define S(name, ...) static const char *const name[] = { __VA_ARGS__, NULL }

const char *const deploy_synopsis[] = {
  "cnai deploy <model>|<image> [--target k8s|kserve|knative|seldon] "
  "[--name <name>] [--namespace <ns>] [-o <dir>] "
  "[--templates <dir>] [<options>]",
  "cnai deploy promote <name> [-o <dir>] [--apply [--context <ctx>] "
  "[--dry-run]]",
  "cnai deploy rollback <name> [-o <dir>] [--apply [--context <ctx>] "
  "[--dry-run]]",
  "cnai deploy train-job <train.yaml> --image <image> "
  "[--sweep <k>=<v1>,<v2>...]... [--parallelism <n>] [--gpu <n>] "
  "[--schedule <cron>] [--kind job|pytorchjob] [--name <name>] "
  "[--namespace <ns>] [-o <dir>] [--apply [--context <ctx>] [--dry-run]]",
  NULL,
};
S(opt_deploy,
  "    <model>|<image>       a model reference (its packaged image is used) "
  "or an image",
  "                          in the store (tag or digest); always emitted by "
  "digest",
  "    --target <t>          k8s (default): ServiceAccount, Deployment, "
  "Service,",
  "                          PodDisruptionBudget, NetworkPolicy; kserve: "
  "InferenceService;",
  "                          knative: Service; seldon: Seldon Core v2 Model",
  "    --name <name>         DNS-1035 name (default: the model's name)",
  "    --namespace <ns>      metadata.namespace",
  "    -o <dir>              one file per object there (default: stdout)",
  "    --templates <dir>     override templates/k8s files by name",
  "    --image <ref>         use this image reference instead",
  "    --replicas <n>        Deployment replicas (default 1)",
  "    --port <port>         serving port (default 8080)",
  "    --cpu <q>, --memory <q>   requests (memory also as the limit)",
  "    --gpu <n>             nvidia.com/gpu limits and toleration",
  "    --gpu-resource <name> another extended resource for --gpu",
  "    --node-selector <k>=<v>, --env <k>=<v>, --label <k>=<v>, "
  "--annotation <k>=<v>",
  "    --autoscale hpa|keda  autoscaling/v2 HPA (--min-replicas, "
  "--max-replicas,",
  "                          --target-cpu) or a KEDA ScaledObject on request "
  "rate",
  "                          (--keda-threshold)",
  "    --scale-metric <m>, --scale-target <n>   KServe autoscaling",
  "    --min-scale <n>, --concurrency <n>       Knative autoscaling (0: "
  "scale to zero)",
  "    --canary <pct>        k8s: stable and canary Deployments in that ratio "
  "behind one",
  "                          Service (--stable names the stable version); "
  "kserve:",
  "                          canaryTrafficPercent",
  "    --monitor             a Prometheus Operator ServiceMonitor for "
  "/metrics",
  "    --policy <p> --key <pub>  a sigstore ClusterImagePolicy or Kyverno "
  "ClusterPolicy",
  "                          admitting only images signed with that key",
  "    --apply               pipe to kubectl apply --server-side "
  "--field-manager cnai",
  "    --context <ctx>       kubectl context for --apply",
  "    --dry-run             with --apply: print the command and manifests "
  "only",
  "    train-job: --sweep <k>=<v1>,<v2> (an Indexed Job over the grid), "
  "--parallelism,",
  "               --schedule <cron> (a CronJob), --kind pytorchjob");

static const struct cnai_usage usage = { deploy_synopsis, opt_deploy };

static int push(const char ***list, size_t *n, const char *s)
{
	const char **g = realloc(*list, (*n + 2) * sizeof(**list));

	if (!g)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	*list = g;
	(*list)[(*n)++] = s;
	(*list)[*n] = NULL;
	return 0;
}

/* An option's value, checked with its rule, then kept in *dst. */
static int checked(const char **dst, const char *flag, const char *value,
		   enum cnai_validate_rule rule)
{
	*dst = value;
	return cnai_validate_flag(flag, value, rule);
}

/* A KEY=VALUE option, checked with the rules for its key and value. */
static int push_pair(const char ***list, size_t *n, const char *flag,
		     const char *kv, enum cnai_validate_rule key_rule,
		     enum cnai_validate_rule value_rule)
{
	int err;

	if ((err = cnai_validate_pair(flag, kv, key_rule, value_rule)) < 0)
		return err;
	return push(list, n, kv);
}

enum { O_TARGET = 0x200, O_NAME, O_NS, O_TEMPLATES, O_IMAGE, O_REPLICAS,
       O_PORT, O_CPU, O_MEM, O_GPU, O_GPURES, O_NODESEL, O_ENV, O_LABEL,
       O_ANNOT, O_AUTOSCALE, O_MINR, O_MAXR, O_TCPU, O_KEDA, O_SMETRIC,
       O_STARGET, O_MINSCALE, O_CONC, O_CANARY, O_STABLE, O_MONITOR,
       O_POLICY, O_KEY, O_APPLY, O_CONTEXT, O_DRYRUN };

static const struct option longopts[] = {
	{ "target", required_argument, NULL, O_TARGET },
	{ "name", required_argument, NULL, O_NAME },
	{ "namespace", required_argument, NULL, O_NS },
	{ "templates", required_argument, NULL, O_TEMPLATES },
	{ "image", required_argument, NULL, O_IMAGE },
	{ "replicas", required_argument, NULL, O_REPLICAS },
	{ "port", required_argument, NULL, O_PORT },
	{ "cpu", required_argument, NULL, O_CPU },
	{ "memory", required_argument, NULL, O_MEM },
	{ "gpu", required_argument, NULL, O_GPU },
	{ "gpu-resource", required_argument, NULL, O_GPURES },
	{ "node-selector", required_argument, NULL, O_NODESEL },
	{ "env", required_argument, NULL, O_ENV },
	{ "label", required_argument, NULL, O_LABEL },
	{ "annotation", required_argument, NULL, O_ANNOT },
	{ "autoscale", required_argument, NULL, O_AUTOSCALE },
	{ "min-replicas", required_argument, NULL, O_MINR },
	{ "max-replicas", required_argument, NULL, O_MAXR },
	{ "target-cpu", required_argument, NULL, O_TCPU },
	{ "keda-threshold", required_argument, NULL, O_KEDA },
	{ "scale-metric", required_argument, NULL, O_SMETRIC },
	{ "scale-target", required_argument, NULL, O_STARGET },
	{ "min-scale", required_argument, NULL, O_MINSCALE },
	{ "concurrency", required_argument, NULL, O_CONC },
	{ "canary", required_argument, NULL, O_CANARY },
	{ "stable", required_argument, NULL, O_STABLE },
	{ "monitor", no_argument, NULL, O_MONITOR },
	{ "policy", required_argument, NULL, O_POLICY },
	{ "key", required_argument, NULL, O_KEY },
	{ "apply", no_argument, NULL, O_APPLY },
	{ "context", required_argument, NULL, O_CONTEXT },
	{ "dry-run", no_argument, NULL, O_DRYRUN },
	{ "sweep", required_argument, NULL, 'S' },
	{ "parallelism", required_argument, NULL, 'P' },
	{ "schedule", required_argument, NULL, 'C' },
	{ "kind", required_argument, NULL, 'K' },
	CNAI_OPTS_COMMON,
	{ NULL, 0, NULL, 0 },
};

/* The options that go into the manifest spec; 1 when `c` is not one. */
static int spec_option(struct cnai_deploy_spec *s, int c, const char *arg)
{
	switch (c) {
	case O_TARGET: return cnai_deploy_target_parse(&s->target, arg);
	case O_NAME:
		return checked(&s->name, "--name", arg,
			       CNAI_VALIDATE_DNS1035_LABEL);
	case O_NS:
		return checked(&s->namespace_, "--namespace", arg,
			       CNAI_VALIDATE_DNS1123_LABEL);
	case O_TEMPLATES: s->templates_dir = arg; return 0;
	case O_REPLICAS:
		return cnai_opt_int_between(&s->replicas, arg, "--replicas",
					    0, 1000);
	case O_PORT:
		return cnai_opt_int_between(&s->port, arg, "--port", 1, 65535);
	case O_CPU:
		return checked(&s->cpu, "--cpu", arg, CNAI_VALIDATE_QUANTITY);
	case O_MEM:
		return checked(&s->memory, "--memory", arg,
			       CNAI_VALIDATE_QUANTITY);
	case O_GPU:
		return cnai_opt_int_between(&s->gpu, arg, "--gpu", 0, 64);
	case O_GPURES:
		return checked(&s->gpu_resource, "--gpu-resource", arg,
			       CNAI_VALIDATE_RESOURCE_NAME);
	case O_AUTOSCALE:
		s->autoscale = arg;
		if (strcmp(arg, "hpa") && strcmp(arg, "keda"))
			return cnai_error_set(CNAI_EUSAGE, "--autoscale: '%s' "
					      "is not hpa or keda", arg);
		return 0;
	case O_MINR:
		return cnai_opt_int_between(&s->min_replicas, arg,
					    "--min-replicas", 0, 1000);
	case O_MAXR:
		return cnai_opt_int_between(&s->max_replicas, arg,
					    "--max-replicas", 1, 1000);
	case O_TCPU:
		return cnai_opt_int_between(&s->target_cpu, arg, "--target-cpu",
					    1, 100);
	case O_KEDA:
		return checked(&s->keda_threshold, "--keda-threshold", arg,
			       CNAI_VALIDATE_POSITIVE_DECIMAL);
	case O_SMETRIC:
		s->scale_metric = arg;
		if (strcmp(arg, "cpu") && strcmp(arg, "memory") &&
		    strcmp(arg, "concurrency") && strcmp(arg, "rps"))
			return cnai_error_set(CNAI_EUSAGE, "--scale-metric: "
					      "'%s' is not cpu, memory, "
					      "concurrency or rps", arg);
		return 0;
	case O_STARGET:
		return cnai_opt_int_between(&s->scale_target, arg,
					    "--scale-target", 1, 1000000);
	case O_MINSCALE:
		return cnai_opt_int_between(&s->min_scale, arg, "--min-scale",
					    0, 1000);
	case O_CONC:
		return cnai_opt_int_between(&s->concurrency, arg,
					    "--concurrency", 1, 100000);
	case O_CANARY:
		return cnai_opt_int_between(&s->canary, arg, "--canary",
					    0, 100);
	case O_MONITOR: s->monitor = 1; return 0;
	case O_POLICY:
		s->policy = arg;
		if (strcmp(arg, "sigstore") && strcmp(arg, "kyverno"))
			return cnai_error_set(CNAI_EUSAGE, "--policy: '%s' is "
					      "not sigstore or kyverno", arg);
		return 0;
	}
	return 1;
}

/* The options of the command itself and of train-job. */
static int other_option(struct deploy_opts *o, struct extra *x, int c,
			const char *arg)
{
	switch (c) {
	case 'o': o->out_dir = arg; return 0;
	case O_IMAGE:
		return checked(&o->image_override, "--image", arg,
			       CNAI_VALIDATE_IMAGE);
	case O_NODESEL:
		return push_pair(&o->nodesel, &o->nnodesel, "--node-selector",
				 arg, CNAI_VALIDATE_LABEL_KEY,
				 CNAI_VALIDATE_LABEL_VALUE);
	case O_ENV:
		return push_pair(&o->env, &o->nenv, "--env", arg,
				 CNAI_VALIDATE_ENV_NAME, CNAI_VALIDATE_TEXT);
	case O_LABEL:
		return push_pair(&o->labels, &o->nlabels, "--label", arg,
				 CNAI_VALIDATE_LABEL_KEY,
				 CNAI_VALIDATE_LABEL_VALUE);
	case O_ANNOT:
		return push_pair(&o->annotations, &o->nannotations,
				 "--annotation", arg, CNAI_VALIDATE_LABEL_KEY,
				 CNAI_VALIDATE_TEXT);
	case O_STABLE: o->stable = arg; return 0;
	case O_KEY: o->policy_key_file = arg; return 0;
	case O_APPLY: o->apply = 1; return 0;
	case O_CONTEXT:
		return checked(&o->context, "--context", arg,
			       CNAI_VALIDATE_LINE);
	case O_DRYRUN: o->dry_run = 1; return 0;
	case 'S':
		return push_pair(&x->sweep, &x->nsweep, "--sweep", arg,
				 CNAI_VALIDATE_TRAIN_KEY,
				 CNAI_VALIDATE_SWEEP_VALUES);
	case 'P':
		return cnai_opt_int_between(&x->parallelism, arg,
					    "--parallelism", 1, 1000);
	case 'C':
		return checked(&x->schedule, "--schedule", arg,
			       CNAI_VALIDATE_CRON);
	case 'K':
		x->kind = arg;
		if (strcmp(arg, "job") && strcmp(arg, "pytorchjob"))
			return cnai_error_set(CNAI_EUSAGE, "--kind: '%s' is "
					      "not job or pytorchjob", arg);
		return 0;
	}
	return CNAI_EUSAGE;
}

int deploy_parse(struct deploy_opts *o, struct extra *x, int argc,
		 char **argv, struct cnai_ctx *ctx, int sub)
{
	struct cnai_deploy_spec *s = &o->spec;
	int c, err;

	memset(o, 0, sizeof(*o));
	memset(x, 0, sizeof(*x));
	cnai_deploy_spec_init(s);
	while ((c = cnai_getopt(argc, argv, ":o:h", longopts, &usage, ctx)) !=
	       -1) {
		if (c == CNAI_OPT_HELP)
			return 1;
		if ((err = spec_option(s, c, optarg)) == 1)
			err = other_option(o, x, c, optarg);
		if (err < 0)
			return err;
	}
	if (o->dry_run && !o->apply)
		return cnai_error_set(CNAI_EUSAGE, "--dry-run goes with --apply");
	if (argc - optind != 1)
		return cnai_error_set(CNAI_EUSAGE, "usage: %s",
				      deploy_synopsis[sub]);
	s->env = o->env;
	s->labels = o->labels;
	s->annotations = o->annotations;
	s->node_selector = o->nodesel;
	return 0;
}

int deploy_check_name(const char *what, const char *s)
{
	return cnai_validate_flag(what, s, CNAI_VALIDATE_DNS1035_LABEL);
}

void deploy_free_opts(struct deploy_opts *o, struct extra *x)
{
	free(o->env);
	free(o->labels);
	free(o->annotations);
	free(o->nodesel);
	free(x->sweep);
}
