/*
 * Picks the backend: the CUDA plug-in (build/libcnai-cuda.so, next to the
 * cnai binary, or $CNAI_CUDA_PLUGIN) when it loads and finds a GPU, else
 * the CPU. The binary never links the CUDA runtime: on a machine without
 * CUDA the dlopen or the plug-in's open simply fails.
 *
 * `auto` falls back in silence where nothing suggests a GPU (no plug-in
 * built, no NVIDIA driver or device: most CPU machines), and with a
 * one-line reason where one was to be expected (a GPU the plug-in cannot
 * use, a driver too old, a $CNAI_CUDA_PLUGIN that does not load).
 */
#include "gpu/backend.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util/error.h"
#include "core/util/banned.h"

/*
 * The plug-in at `path`: NULL with the reason if it does not load; one
 * that is there but does not load is worth a notice, a missing one not.
 */
static void *load(const char *path, char *reason, size_t rlen, int *quiet)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!h && *reason == '\0') {
		snprintf(reason, rlen, "%s", dlerror());
		*quiet = access(path, F_OK) != 0;
	}
	return h;
}

/* *quiet: the plug-in is simply not there (not built or installed). */
static void *open_plugin(char *reason, size_t rlen, int *quiet)
{
	const char *env = getenv("CNAI_CUDA_PLUGIN");
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n;
	char *slash;
	void *h;

	*reason = '\0';
	if (env && *env) {
		h = load(env, reason, rlen, quiet);
		*quiet = 0; /* chosen by name: always say why not */
		return h;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		snprintf(reason, rlen, "cannot find the cnai binary");
		return NULL;
	}
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')))
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/libcnai-cuda.so", exe);
	if ((h = load(path, reason, rlen, quiet)))
		return h;
	if (!*quiet) /* there, but broken */
		return NULL;
	*reason = '\0';
	snprintf(path, sizeof(path), "%s/../lib/cnai/libcnai-cuda.so", exe);
	if ((h = load(path, reason, rlen, quiet)) || !*quiet)
		return h;
	snprintf(reason, rlen, "no CUDA plug-in (libcnai-cuda.so) "
		 "next to the cnai binary");
	return NULL;
}

/*
 * Opens the plug-in's backend; -1 with the reason, and *quiet set where
 * this machine shows no sign of a GPU. The library stays loaded: the
 * table points into it.
 */
static int cuda_open(struct cnai_backend **out, char *reason, size_t rlen,
		     int *quiet)
{
	cnai_cuda_open_fn fn;
	char err[256] = "";
	void *h;
	int rc;

	*quiet = 0;
	if (!(h = open_plugin(reason, rlen, quiet)))
		return -1;
	*(void **)&fn = dlsym(h, CNAI_CUDA_ENTRY);
	if (!fn) {
		snprintf(reason, rlen,
			 "the CUDA plug-in has no %s", CNAI_CUDA_ENTRY);
		return -1;
	}
	if ((rc = fn(out, CNAI_BACKEND_VERSION, err, sizeof(err))) < 0 ||
	    !*out) {
		*out = NULL;
		*quiet = rc == CNAI_CUDA_ENODEV;
		snprintf(reason, rlen, "%s", err[0] ? err : "the CUDA plug-in "
			 "did not open");
		return -1;
	}
	if ((*out)->version != CNAI_BACKEND_VERSION) {
		/*
		 * The table's layout is the version's, so its close may not
		 * be where ours is: left alone (one table, once).
		 */
		snprintf(reason, rlen,
			 "the CUDA plug-in's ops table is version %d, not %d",
			 (*out)->version, CNAI_BACKEND_VERSION);
		*out = NULL;
		return -1;
	}
	(*out)->error = cnai_error_set;
	return 0;
}

static int cpu_open(struct cnai_backend **out, int threads)
{
	int err = cnai_backend_cpu_open(out, threads);

	if (!err)
		(*out)->error = cnai_error_set;
	return err;
}

int cnai_backend_open(struct cnai_backend **out, const char *device,
		      int threads, char *notice, size_t notice_len)
{
	char reason[512] = "";
	int quiet = 0, err;

	*out = NULL;
	if (notice && notice_len)
		*notice = '\0';
	if (!device || !strcmp(device, "cpu"))
		return cpu_open(out, threads);
	if (!strcmp(device, "cuda")) {
		if (cuda_open(out, reason, sizeof(reason), &quiet) < 0)
			return cnai_error_set(CNAI_ERROR, "--device cuda: %s",
					      reason);
		return 0;
	}
	if (strcmp(device, "auto"))
		return cnai_error_set(CNAI_EUSAGE,
				      "--device: '%s' is not auto, cpu or "
				      "cuda", device);
	if (cuda_open(out, reason, sizeof(reason), &quiet) == 0)
		return 0;
	if ((err = cpu_open(out, threads)) < 0)
		return err;
	if (notice && notice_len && !quiet)
		snprintf(notice, notice_len, "%s", reason);
	return 0;
}
