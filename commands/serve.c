/*
 * cnai serve: an Open Inference Protocol (KServe v2) server for cnai
 * models — what a packaged `serve` image runs. Loads each model (a
 * registry reference or a model folder), starts core/serve's HTTP server,
 * and on SIGTERM or SIGINT drains it: readiness off, no new connections,
 * in-flight requests finish within --grace, exit 0.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/commands.h"
#include "core/ml/infer.h"
#include "core/serve/server.h"
#include "core/store/models.h"
#include "gpu/backend.h"
#include "core/util/banned.h"

static const char *const synopsis[] = {
	"cnai serve <model>|<dir>... [--host <addr>] [--port <port>] "
	"[--threads <n>] [--max-batch <n>] [--batch-window-us <us>] "
	"[--max-body <size>] [--max-inflight-bytes <size>] "
	"[--timeout <seconds>] [--grace <seconds>] [--log-format json|text]",
	NULL,
};
static const char *const option_help[] = {
	"    <model>|<dir>        a registry reference (NAME, NAME@ALIAS, ...) "
	"or a model",
	"                         folder with cnai-model.json (as in an image's "
	"/models/NAME)",
	"    --host <addr>        listen address (default 127.0.0.1; use "
	"0.0.0.0 in a container)",
	"    --port <port>        default 8080",
	"    --threads <n>        worker threads (default 2)",
	"    --batch-window-us <us>  batch requests arriving within this window "
	"(default 0: off)",
	"    --max-batch <n>      rows per batched inference (default 256)",
	"    --max-body <size>    larger requests get 413 (default 16M, at "
	"most the budget)",
	"    --max-inflight-bytes <size>  request bodies held at once, all "
	"clients",
	"                         together; past it 503 and Retry-After "
	"(default 256M)",
	"    --timeout <seconds>  idle connections are closed (default 10)",
	"    --grace <seconds>    on SIGTERM, time for requests in flight "
	"(default 10)",
	"    --log-format <f>     access log on stderr: json (default) or text; "
	"-q: none",
	"",
	"Endpoints: GET /v2/health/live, /v2/health/ready, /v2, /v2/models/NAME"
	"[/versions/V],",
	"/v2/models/NAME/ready, /metrics; POST /v2/models/NAME[/versions/V]/infer,",
	"POST /v1/models/NAME:predict.",
	NULL,
};
static const struct cnai_usage usage = { synopsis, option_help };

/*
 * A byte count: a whole number with an optional k, M or G (powers of
 * 1024, either case), as "--max-body 16M".
 */
static int parse_size(int64_t *out, const char *arg, const char *option)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'm' || *end == 'M')
		shift = 20;
	else if (*end == 'g' || *end == 'G')
		shift = 30;
	if (shift)
		end++;
	if (errno || end == arg || *end || *arg == '-' ||
	    v > (unsigned long long)INT64_MAX >> shift)
		return cnai_error_set(CNAI_EUSAGE, "%s: '%s' is not a size "
				      "(bytes, or a number with k, M or G)",
				      option, arg);
	*out = (int64_t)(v << shift);
	return 0;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The model's name and version: the registry's, else the folder's. */
static int load_model(struct cnai_serve_model *sm, struct cnai_ctx *ctx,
		      const char *ref)
{
	struct cnai_model_version *v = NULL;
	const char *base, *env_version = getenv("CNAI_MODEL_VERSION");
	char dir[PATH_MAX], num[32];
	double t0 = now_s();
	int err;

	memset(sm, 0, sizeof(*sm));
	if ((err = cnai_ml_model_open(&sm->m, NULL, ctx->store, ref)) < 0)
		return err;
	if (!cnai_ml_is_model_dir(ref) && ctx->store &&
	    cnai_model_resolve(&v, ctx->store, ref) == 0) {
		snprintf(num, sizeof(num), "%lld", (long long)v->version);
		sm->name = strdup(v->name);
		sm->version = strdup(num);
		cnai_model_version_free(v);
	} else {
		cnai_error_clear();
		snprintf(dir, sizeof(dir), "%s", ref);
		while (strlen(dir) > 1 && dir[strlen(dir) - 1] == '/')
			dir[strlen(dir) - 1] = '\0';
		base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
		sm->name = strdup(base);
		sm->version = strdup(env_version && *env_version ? env_version
								   : "1");
	}
	sm->load_seconds = now_s() - t0;
	if (!sm->name || !sm->version)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	return 0;
}

/* What serve's options say: the server's, plus batching and the drain. */
struct serve_opts {
	struct cnai_server_opts so;
	int64_t max_batch, window, grace;
};

/*
 * Parses serve's options into `o`. Returns 0 with *help set when --help
 * was printed, or an error code (usage errors name the option).
 */
static int parse_opts(struct serve_opts *o, int *help, int argc,
		      char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' },
		{ "max-batch", required_argument, NULL, 'b' },
		{ "batch-window-us", required_argument, NULL, 'w' },
		{ "max-body", required_argument, NULL, 'B' },
		{ "max-inflight-bytes", required_argument, NULL, 'I' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "grace", required_argument, NULL, 'g' },
		{ "log-format", required_argument, NULL, 'l' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct cnai_server_opts so = { "127.0.0.1", 8080, 2, 16 << 20,
				       256 << 20, 10, 1 };
	int64_t port = 8080, threads = 2, max_batch = 256, window = 0,
		max_body = -1, inflight = 256 << 20, timeout = 10, grace = 10;
	int c, err = 0;

	*help = 0;
	while ((c = cnai_getopt(argc, argv, ":p:h", longopts, &usage, ctx)) !=
	       -1) {
		switch (c) {
		case 'H': so.host = optarg; break;
		case 'p': err = cnai_opt_int64(&port, optarg, "--port"); break;
		case 't': err = cnai_opt_int64(&threads, optarg, "--threads"); break;
		case 'b': err = cnai_opt_int64(&max_batch, optarg, "--max-batch"); break;
		case 'w': err = cnai_opt_int64(&window, optarg, "--batch-window-us"); break;
		case 'B': err = parse_size(&max_body, optarg, "--max-body"); break;
		case 'I': err = parse_size(&inflight, optarg, "--max-inflight-bytes"); break;
		case 'T': err = cnai_opt_int64(&timeout, optarg, "--timeout"); break;
		case 'g': err = cnai_opt_int64(&grace, optarg, "--grace"); break;
		case 'l':
			if (!strcmp(optarg, "json"))
				so.log = 1;
			else if (!strcmp(optarg, "text"))
				so.log = 2;
			else
				err = cnai_error_set(CNAI_EUSAGE,
						     "--log-format: '%s' is not "
						     "json or text", optarg);
			break;
		case CNAI_OPT_HELP:
			*help = 1;
			return 0;
		default:
			return CNAI_EUSAGE;
		}
		if (err < 0)
			return err;
	}
	if (port < 0 || port > 65535 || threads < 1 || threads > 256 ||
	    max_batch < 1 || window < 0 || window > 1000000 ||
	    max_body == 0 || inflight < 1 || timeout < 1 || grace < 0)
		return cnai_error_set(CNAI_EUSAGE,
				      "out of range: --port 0-65535, --threads "
				      "1-256, --max-batch >= 1, "
				      "--batch-window-us 0-1000000, --max-body "
				      ">= 1, --max-inflight-bytes >= 1, "
				      "--timeout >= 1, --grace >= 0");
	/* A body the whole budget cannot hold would get 503 for ever: the
	 * default --max-body gives way to a smaller budget, a given one must
	 * fit in it. */
	if (max_body < 0)
		max_body = inflight < 16 << 20 ? inflight : 16 << 20;
	else if (max_body > inflight)
		return cnai_error_set(CNAI_EUSAGE, "--max-body %lld is over "
				      "--max-inflight-bytes %lld",
				      (long long)max_body, (long long)inflight);
	if (optind >= argc)
		return cnai_error_set(CNAI_EUSAGE, "no model to serve; usage: %s",
				      synopsis[0]);
	if (ctx->quiet)
		so.log = 0;
	so.port = (int)port;
	so.threads = (int)threads;
	so.max_body = (size_t)max_body;
	so.max_inflight = (size_t)inflight;
	so.timeout_s = (int)timeout;
	o->so = so;
	o->max_batch = max_batch;
	o->window = window;
	o->grace = grace;
	return 0;
}

int cmd_serve(int argc, char **argv, struct cnai_ctx *ctx)
{
	struct serve_opts o;
	struct cnai_serve_model *models = NULL;
	struct cnai_metrics *mx = NULL;
	struct cnai_server *srv = NULL;
	struct cnai_backend *be = NULL;
	size_t n = 0, i;
	sigset_t sigs;
	int err, help, sig, left;

	if ((err = parse_opts(&o, &help, argc, argv, ctx)) < 0 || help)
		return err;
	n = (size_t)(argc - optind);
	if (!(models = calloc(n, sizeof(*models))) ||
	    (err = cnai_metrics_new(&mx)) < 0) {
		err = err ? err : cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	for (i = 0; i < n; i++) {
		if ((err = load_model(&models[i], ctx, argv[optind + i])) < 0 ||
		    (err = cnai_serve_model_batching(&models[i],
						     (long)o.window,
						     (size_t)o.max_batch)) < 0)
			goto cleanup;
		cnai_metrics_model_loaded(mx, models[i].name,
					  models[i].load_seconds);
	}
	/* Inference needs OpenBLAS (dlopen'ed by the CPU backend): find out
	 * now, not on the first request, so that ready means answering. */
	if ((err = cnai_backend_cpu_open(&be, 1)) < 0)
		goto cleanup;
	be->close(be);
	/* Signals go to this thread only: block them before the server's
	 * threads start (they inherit the mask), then wait for one. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if ((err = cnai_server_start(&srv, models, n, mx, &o.so)) < 0)
		goto cleanup;
	for (i = 0; i < n; i++)
		cnai_notice(ctx, "serving %s (version %s) on http://%s:%d/v2/"
			    "models/%s", models[i].name, models[i].version,
			    o.so.host, cnai_server_port(srv), models[i].name);
	sigwait(&sigs, &sig);
	cnai_notice(ctx, "%s: draining (up to %llds)",
		    sig == SIGTERM ? "SIGTERM" : "SIGINT", (long long)o.grace);
	if ((left = cnai_server_stop(srv, (int)o.grace * 1000)) > 0)
		cnai_notice(ctx, "grace of %llds over: %d request(s) in flight "
			    "cut off", (long long)o.grace, left);
	srv = NULL;
cleanup:
	cnai_server_stop(srv, 0);
	for (i = 0; models && i < n; i++)
		cnai_serve_model_release(&models[i]);
	free(models);
	cnai_metrics_free(mx);
	return err;
}
