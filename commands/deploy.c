/*
 * cnai deploy: Kubernetes, KServe, Knative and Seldon manifests for a
 * packaged model, by digest; training Jobs; canary promote/rollback; and
 * `kubectl apply` when asked. The manifests are assembled by core/deploy
 * from templates; every emission is recorded (its YAML as a blob, a
 * deployment entity with an edge image -> deployment).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/commands.h"
#include "core/deploy/manifest.h"
#include "core/deploy/validate.h"
#include "core/store/blobs.h"
#include "core/store/images.h"
#include "core/store/lineage.h"
#include "core/store/models.h"
#include "core/util/fs.h"
#include "core/util/hash.h"
#include "registry/oci.h"
#include "core/util/banned.h"

#define S(name, ...) static const char *const name[] = { __VA_ARGS__, NULL }

S(syn_deploy, "cnai deploy <model>|<image> [--target k8s|kserve|knative|seldon] "
	      "[--name <name>] [--namespace <ns>] [-o <dir>] "
	      "[--templates <dir>] [<options>]",
  "cnai deploy promote <name> [-o <dir>] [--apply [--context <ctx>] "
  "[--dry-run]]",
  "cnai deploy rollback <name> [-o <dir>] [--apply [--context <ctx>] "
  "[--dry-run]]",
  "cnai deploy train-job <train.yaml> --image <image> "
  "[--sweep <k>=<v1>,<v2>...]... [--parallelism <n>] [--gpu <n>] "
  "[--schedule <cron>] [--kind job|pytorchjob] [--name <name>] "
  "[--namespace <ns>] [-o <dir>] [--apply [--context <ctx>] [--dry-run]]");
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

static const struct cnai_usage usage = { syn_deploy, opt_deploy };

struct deploy_opts {
	struct cnai_deploy_spec spec;
	const char *ref, *out_dir, *context, *image_override, *stable,
		*policy_key_file;
	const char **env, **labels, **annotations, **nodesel;
	size_t nenv, nlabels, nannotations, nnodesel;
	int apply, dry_run;
};

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

static int num(int64_t *out, const char *arg, const char *opt, int64_t min,
	       int64_t max)
{
	int err;

	if ((err = cnai_opt_int64(out, arg, opt)) < 0)
		return err;
	if (*out < min || *out > max)
		return cnai_error_set(CNAI_EUSAGE, "%s: %lld is not %lld to %lld",
				      opt, (long long)*out, (long long)min,
				      (long long)max);
	return 0;
}

/* "k8s" etc. */
static int parse_target(enum cnai_deploy_target *t, const char *s)
{
	if (!strcmp(s, "k8s"))
		*t = CNAI_DEPLOY_K8S;
	else if (!strcmp(s, "kserve"))
		*t = CNAI_DEPLOY_KSERVE;
	else if (!strcmp(s, "knative"))
		*t = CNAI_DEPLOY_KNATIVE;
	else if (!strcmp(s, "seldon"))
		*t = CNAI_DEPLOY_SELDON;
	else
		return cnai_error_set(CNAI_EUSAGE, "--target: '%s' is not k8s, "
				      "kserve, knative or seldon", s);
	return 0;
}

/* ---- resolving images -------------------------------------------------- */

/* Which kind an image manifest in the store is (cnai package formats). */
static int image_is_modelcar(struct cnai_store *st, const char *digest)
{
	json_t *man = NULL;
	int modelcar = 0;

	if (cnai_oci_json_read(&man, cnai_store_oci(st), digest) == 0)
		modelcar = json_object_get(json_object_get(man, "annotations"),
					   "ai.cnai.model.name") &&
			   json_array_size(json_object_get(man, "layers")) == 1 &&
			   !json_object_get(man, "artifactType");
	cnai_error_clear();
	json_decref(man);
	return modelcar;
}

/* "registry/repo:tag" (the entity's name) + digest -> "registry/repo@d". */
static void by_digest(char *out, size_t size, const char *name,
		      const char *digest)
{
	char repo[512];
	char *slash, *colon, *at;

	snprintf(repo, sizeof(repo), "%s", name ? name : "image");
	if ((at = strchr(repo, '@')))
		*at = '\0';
	slash = strrchr(repo, '/');
	colon = strrchr(repo, ':');
	if (colon && (!slash || colon > slash))
		*colon = '\0';
	snprintf(out, size, "%s@%s", repo, digest);
}

/*
 * The images of a model: the newest serve image and modelcar; the error
 * says to run cnai package when there is none.
 */
static int model_images(char *serve, char *modelcar, size_t size,
			struct cnai_store *st, const struct cnai_model_version *v)
{
	struct cnai_image_info *img = NULL;
	size_t n = 0, i;
	int err;

	serve[0] = modelcar[0] = '\0';
	if ((err = cnai_images_of_model(&img, &n, st, v->manifest_digest)) < 0)
		return err;
	for (i = 0; i < n; i++) {
		int mc = image_is_modelcar(st, img[i].digest);
		char *dst = mc ? modelcar : serve;

		if (!dst[0] && (mc || !strstr(img[i].name ? img[i].name : "",
					      "-artifact")))
			by_digest(dst, size, img[i].name, img[i].digest);
	}
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
		char name[600];

		snprintf(name, sizeof(name), "%s", ref);
		by_digest(strncmp(ref, "sha256:", 7) ? serve : serve, size,
			  strncmp(ref, "sha256:", 7) ? name : "image", d.digest);
		modelcar[0] = '\0';
		if (image_is_modelcar(st, d.digest)) {
			snprintf(modelcar, size, "%s", serve);
			serve[0] = '\0';
		}
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

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static int write_dir(const char *dir, struct cnai_yaml **docs, size_t n)
{
	struct cnai_buf text = CNAI_BUF_INIT, path = CNAI_BUF_INIT;
	size_t i;
	int err;

	if ((err = cnai_fs_mkdir_p(dir, 0755)) < 0)
		return err;
	for (i = 0; i < n && !err; i++) {
		struct cnai_yaml *k = cnai_yaml_get(docs[i], "kind"),
				 *m = cnai_yaml_at(docs[i], "metadata.name");
		char kind[64];

		snprintf(kind, sizeof(kind), "%s",
			 k && k->value ? k->value : "object");
		lower(kind);
		cnai_buf_reset(&text);
		cnai_buf_reset(&path);
		cnai_buf_addf(&path, "%s/%02zu-%s-%s.yaml", dir, i + 1, kind,
			      m && m->value ? m->value : "x");
		if ((err = cnai_buf_oom(&path)) < 0 ||
		    (err = cnai_yaml_emit(&text, &docs[i], 1)) < 0)
			break;
		err = cnai_fs_write_atomic(path.buf, text.buf, text.len, 0644);
	}
	cnai_buf_release(&text);
	cnai_buf_release(&path);
	return err;
}

/* kubectl apply --server-side, the manifests on its stdin. */
static int apply(const char *yaml, size_t len, const char *context,
		 int dry_run)
{
	/* one spare slot: --context goes after "kubectl" */
	const char *argv[9] = { "kubectl", "apply", "--server-side",
				"--field-manager", "cnai", "-f", "-", NULL,
				NULL };
	char ctx_arg[300];
	int fds[2], status;
	pid_t pid;

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
	if (pipe(fds) < 0)
		return cnai_error_set_errno(CNAI_ERROR, "pipe");
	fflush(stdout);
	if ((pid = fork()) == 0) {
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		execvp("kubectl", (char *const *)argv);
		_exit(127);
	}
	close(fds[0]);
	(void)cnai_fs_write_all(fds[1], yaml, len);
	cnai_error_clear();
	close(fds[1]);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return cnai_error_set_errno(CNAI_ERROR, "kubectl");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return cnai_error_set(CNAI_EUSAGE, "--apply: kubectl not found "
				      "on PATH; install it or drop --apply and "
				      "use the manifests");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return cnai_error_set(CNAI_ERROR, "kubectl apply failed (exit "
				      "%d)", WIFEXITED(status)
						     ? WEXITSTATUS(status)
						     : 128);
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

static int emit(struct cnai_ctx *ctx, struct cnai_yaml **docs, size_t n,
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
	if (o->out_dir && (err = write_dir(o->out_dir, docs, n)) < 0)
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

/* ---- sub-commands ------------------------------------------------------ */

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

struct extra {
	const char **sweep;
	size_t nsweep;
	int64_t parallelism;
	const char *schedule, *kind;
};

static int parse(struct deploy_opts *o, struct extra *x, int argc,
		 char **argv, struct cnai_ctx *ctx)
{
	struct cnai_deploy_spec *s = &o->spec;
	int c, err = 0;

	s->replicas = 1;
	s->port = 8080;
	s->min_replicas = 1;
	s->max_replicas = 5;
	s->target_cpu = 70;
	s->scale_target = 100;
	s->canary = -1;
	s->min_scale = 1;
	s->concurrency = 100;
	while ((c = cnai_getopt(argc, argv, ":o:h", longopts, &usage, ctx)) !=
	       -1) {
		switch (c) {
		case 'o': o->out_dir = optarg; break;
		case O_TARGET: err = parse_target(&s->target, optarg); break;
		case O_NAME:
			err = checked(&s->name, "--name", optarg,
				      CNAI_VALIDATE_DNS1035_LABEL);
			break;
		case O_NS:
			err = checked(&s->namespace_, "--namespace", optarg,
				      CNAI_VALIDATE_DNS1123_LABEL);
			break;
		case O_TEMPLATES: s->templates_dir = optarg; break;
		case O_IMAGE:
			err = checked(&o->image_override, "--image", optarg,
				      CNAI_VALIDATE_IMAGE);
			break;
		case O_REPLICAS:
			err = num(&s->replicas, optarg, "--replicas", 0, 1000);
			break;
		case O_PORT:
			err = num(&s->port, optarg, "--port", 1, 65535);
			break;
		case O_CPU:
			err = checked(&s->cpu, "--cpu", optarg,
				      CNAI_VALIDATE_QUANTITY);
			break;
		case O_MEM:
			err = checked(&s->memory, "--memory", optarg,
				      CNAI_VALIDATE_QUANTITY);
			break;
		case O_GPU: err = num(&s->gpu, optarg, "--gpu", 0, 64); break;
		case O_GPURES:
			err = checked(&s->gpu_resource, "--gpu-resource",
				      optarg,
				      CNAI_VALIDATE_RESOURCE_NAME);
			break;
		case O_NODESEL:
			err = push_pair(&o->nodesel, &o->nnodesel,
					"--node-selector", optarg,
					CNAI_VALIDATE_LABEL_KEY,
					CNAI_VALIDATE_LABEL_VALUE);
			break;
		case O_ENV:
			err = push_pair(&o->env, &o->nenv, "--env", optarg,
					CNAI_VALIDATE_ENV_NAME,
					CNAI_VALIDATE_TEXT);
			break;
		case O_LABEL:
			err = push_pair(&o->labels, &o->nlabels, "--label",
					optarg, CNAI_VALIDATE_LABEL_KEY,
					CNAI_VALIDATE_LABEL_VALUE);
			break;
		case O_ANNOT:
			err = push_pair(&o->annotations, &o->nannotations,
					"--annotation", optarg,
					CNAI_VALIDATE_LABEL_KEY,
					CNAI_VALIDATE_TEXT);
			break;
		case O_AUTOSCALE:
			if (strcmp(optarg, "hpa") && strcmp(optarg, "keda"))
				err = cnai_error_set(CNAI_EUSAGE,
						     "--autoscale: '%s' is not "
						     "hpa or keda", optarg);
			s->autoscale = optarg;
			break;
		case O_MINR:
			err = num(&s->min_replicas, optarg, "--min-replicas", 0,
				  1000);
			break;
		case O_MAXR:
			err = num(&s->max_replicas, optarg, "--max-replicas", 1,
				  1000);
			break;
		case O_TCPU:
			err = num(&s->target_cpu, optarg, "--target-cpu", 1, 100);
			break;
		case O_KEDA:
			err = checked(&s->keda_threshold, "--keda-threshold", optarg,
				      CNAI_VALIDATE_POSITIVE_DECIMAL);
			break;
		case O_SMETRIC:
			if (strcmp(optarg, "cpu") && strcmp(optarg, "memory") &&
			    strcmp(optarg, "concurrency") && strcmp(optarg, "rps"))
				err = cnai_error_set(CNAI_EUSAGE,
						     "--scale-metric: '%s' is "
						     "not cpu, memory, "
						     "concurrency or rps",
						     optarg);
			s->scale_metric = optarg;
			break;
		case O_STARGET:
			err = num(&s->scale_target, optarg, "--scale-target", 1,
				  1000000);
			break;
		case O_MINSCALE:
			err = num(&s->min_scale, optarg, "--min-scale", 0, 1000);
			break;
		case O_CONC:
			err = num(&s->concurrency, optarg, "--concurrency", 1,
				  100000);
			break;
		case O_CANARY:
			err = num(&s->canary, optarg, "--canary", 0, 100);
			break;
		case O_STABLE: o->stable = optarg; break;
		case O_MONITOR: s->monitor = 1; break;
		case O_POLICY:
			if (strcmp(optarg, "sigstore") && strcmp(optarg, "kyverno"))
				err = cnai_error_set(CNAI_EUSAGE,
						     "--policy: '%s' is not "
						     "sigstore or kyverno",
						     optarg);
			s->policy = optarg;
			break;
		case O_KEY: o->policy_key_file = optarg; break;
		case O_APPLY: o->apply = 1; break;
		case O_CONTEXT:
			err = checked(&o->context, "--context", optarg,
				      CNAI_VALIDATE_LINE);
			break;
		case O_DRYRUN: o->dry_run = 1; break;
		case 'S':
			err = push_pair(&x->sweep, &x->nsweep, "--sweep", optarg,
					CNAI_VALIDATE_TRAIN_KEY,
					CNAI_VALIDATE_SWEEP_VALUES);
			break;
		case 'P':
			err = num(&x->parallelism, optarg, "--parallelism", 1,
				  1000);
			break;
		case 'C':
			err = checked(&x->schedule, "--schedule", optarg,
				      CNAI_VALIDATE_CRON);
			break;
		case 'K':
			if (strcmp(optarg, "job") && strcmp(optarg, "pytorchjob"))
				err = cnai_error_set(CNAI_EUSAGE,
						     "--kind: '%s' is not job or "
						     "pytorchjob", optarg);
			x->kind = optarg;
			break;
		case CNAI_OPT_HELP:
			return 1;
		default:
			return CNAI_EUSAGE;
		}
		if (err < 0)
			return err;
	}
	if (o->dry_run && !o->apply)
		return cnai_error_set(CNAI_EUSAGE, "--dry-run goes with --apply");
	s->env = o->env;
	s->labels = o->labels;
	s->annotations = o->annotations;
	s->node_selector = o->nodesel;
	return 0;
}

/* Names that come from elsewhere than --name: a model's, an argument. */
static int check_name(const char *what, const char *s)
{
	return cnai_validate_flag(what, s, CNAI_VALIDATE_DNS1035_LABEL);
}

static void free_opts(struct deploy_opts *o, struct extra *x)
{
	free(o->env);
	free(o->labels);
	free(o->annotations);
	free(o->nodesel);
	free(x->sweep);
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

	memset(&o, 0, sizeof(o));
	memset(&x, 0, sizeof(x));
	if ((err = parse(&o, &x, argc, argv, ctx)) != 0)
		goto cleanup;
	if (argc - optind != 1) {
		err = cnai_error_set(CNAI_EUSAGE, "usage: %s", syn_deploy[0]);
		goto cleanup;
	}
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
	if ((err = check_name("name", o.spec.name)) < 0)
		goto cleanup;
	if (v) {
		snprintf(version, sizeof(version), "%lld",
			 (long long)v->version);
		o.spec.model_name = v->name;
		o.spec.model_version = version;
	}
	o.spec.image = serve;
	o.spec.modelcar = modelcar[0] && (o.spec.target == CNAI_DEPLOY_KSERVE ||
					  o.spec.target == CNAI_DEPLOY_SELDON)
				  ? modelcar
				  : NULL;
	if (!serve[0] && !o.spec.modelcar) {
		err = cnai_error_set(CNAI_EINVALID,
				     "'%s' has only a modelcar image; --target "
				     "kserve or seldon serves it, or run 'cnai "
				     "package %s' for a serve image", o.ref,
				     o.ref);
		goto cleanup;
	}
	if (!serve[0])
		o.spec.image = modelcar;
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
		if ((err = cnai_fs_read_file(&key, o.policy_key_file, 65536)) < 0)
			goto cleanup;
		/* it goes into the policy as text */
		if (strlen(key.buf) != key.len ||
		    cnai_validate_text(key.buf, NULL) < 0 ||
		    !strstr(key.buf, "-----BEGIN PUBLIC KEY-----")) {
			err = cnai_error_set(CNAI_EINVALID, "%s: not a PEM public "
					     "key", o.policy_key_file);
			goto cleanup;
		}
		o.spec.policy_key = key.buf;
	}
	if ((err = cnai_deploy_build(&docs, &n, &o.spec)) < 0)
		goto cleanup;
	/* The image the cluster will run: the modelcar where one serves. */
	image_digest = strchr(o.spec.modelcar ? o.spec.modelcar : o.spec.image,
			      '@');
	err = emit(ctx, docs, n, &o, o.spec.name, o.spec.namespace_,
		   image_digest ? image_digest + 1 : NULL);
cleanup:
	cnai_deploy_docs_free(docs, n);
	cnai_model_version_free(v);
	cnai_model_version_free(sv);
	cnai_buf_release(&key);
	free_opts(&o, &x);
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
	struct cnai_yaml **docs = NULL, *stable = NULL, *canary = NULL;
	size_t n = 0, i;
	int64_t total;
	int err;

	memset(&o, 0, sizeof(o));
	memset(&x, 0, sizeof(x));
	if ((err = parse(&o, &x, argc, argv, ctx)) != 0)
		goto cleanup;
	if (argc - optind != 1) {
		err = cnai_error_set(CNAI_EUSAGE, "usage: %s",
				     syn_deploy[promote ? 1 : 2]);
		goto cleanup;
	}
	if ((err = check_name("name", argv[optind])) < 0 ||
	    (err = last_canary(&docs, &n, ctx->store, argv[optind])) < 0)
		goto cleanup;
	for (i = 0; i < n; i++) {
		struct cnai_yaml *t = cnai_yaml_at(docs[i],
						   "metadata.labels.track");

		if (t && t->value && !strcmp(t->value, "stable"))
			stable = docs[i];
		if (t && t->value && !strcmp(t->value, "canary"))
			canary = docs[i];
	}
	if (!stable || !canary) {
		err = cnai_error_set(CNAI_EINVALID, "the recorded canary of '%s' "
				     "has no stable and canary Deployments",
				     argv[optind]);
		goto cleanup;
	}
	total = strtoll(cnai_yaml_at(stable, "spec.replicas")->value, NULL, 10) +
		strtoll(cnai_yaml_at(canary, "spec.replicas")->value, NULL, 10);
	if (promote)
		cnai_yaml_set_path(
			stable, "spec.template.spec.containers[0].image",
			cnai_yaml_str(cnai_yaml_at(canary,
						   "spec.template.spec."
						   "containers[0].image")
					      ->value));
	cnai_yaml_set_path(stable, "spec.replicas", cnai_yaml_int(total));
	cnai_yaml_set_path(canary, "spec.replicas", cnai_yaml_int(0));
	err = emit(ctx, docs, n, &o, argv[optind], NULL, NULL);
cleanup:
	cnai_deploy_docs_free(docs, n);
	free_opts(&o, &x);
	return err > 0 ? 0 : err;
}

static int train_job(int argc, char **argv, struct cnai_ctx *ctx)
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

	memset(&o, 0, sizeof(o));
	memset(&x, 0, sizeof(x));
	if ((err = parse(&o, &x, argc, argv, ctx)) != 0)
		goto cleanup;
	if (argc - optind != 1) {
		err = cnai_error_set(CNAI_EUSAGE, "usage: %s", syn_deploy[3]);
		goto cleanup;
	}
	if (!o.image_override) {
		err = cnai_error_set(CNAI_EUSAGE, "train-job needs --image (a "
				     "packaged image with cnai in it)");
		goto cleanup;
	}
	if ((err = cnai_fs_read_file(&cfg, argv[optind], 1 << 20)) < 0)
		goto cleanup;
	/* An image in the store is referenced by digest. */
	if (cnai_oci_resolve(&d, cnai_store_oci(ctx->store),
			     o.image_override) == 0)
		by_digest(image, sizeof(image), o.image_override, d.digest);
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
	err = emit(ctx, docs, n, &o, t.name, t.namespace_, NULL);
cleanup:
	cnai_deploy_docs_free(docs, n);
	cnai_buf_release(&cfg);
	free_opts(&o, &x);
	return err > 0 ? 0 : err;
}

int cmd_deploy(int argc, char **argv, struct cnai_ctx *ctx)
{
	if (argc >= 2 && !strcmp(argv[1], "promote"))
		return finish_canary(argc - 1, argv + 1, ctx, 1);
	if (argc >= 2 && !strcmp(argv[1], "rollback"))
		return finish_canary(argc - 1, argv + 1, ctx, 0);
	if (argc >= 2 && !strcmp(argv[1], "train-job"))
		return train_job(argc - 1, argv + 1, ctx);
	return deploy_model(argc, argv, ctx);
}
