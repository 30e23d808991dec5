/*
 * Picks the backend: the CUDA plug-in (build/libcnai-cuda.so, next to the
 * cnai binary, or $CNAI_CUDA_PLUGIN) when it loads and finds a GPU, else
 * the CPU. The binary never links the CUDA runtime: on a machine without
 * CUDA the dlopen simply fails and `auto` says so in one line.
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

static void *open_plugin(char *reason, size_t rlen)
{
	const char *env = getenv("CNAI_CUDA_PLUGIN");
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n;
	char *slash;
	void *h;

	if (env && *env) {
		if (!(h = dlopen(env, RTLD_NOW | RTLD_LOCAL)))
			snprintf(reason, rlen, "%s", dlerror());
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
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)))
		return h;
	snprintf(path, sizeof(path), "%s/../lib/cnai/libcnai-cuda.so", exe);
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)))
		return h;
	snprintf(reason, rlen, "no CUDA plug-in (libcnai-cuda.so) "
		 "next to the cnai binary");
	return NULL;
}

static int cuda_open(struct cnai_backend **out, char *reason, size_t rlen)
{
	cnai_cuda_open_fn fn;
	char err[256] = "";
	void *h;

	if (!(h = open_plugin(reason, rlen)))
		return -1;
	*(void **)&fn = dlsym(h, CNAI_CUDA_ENTRY);
	if (!fn) {
		snprintf(reason, rlen,
			 "the CUDA plug-in has no %s", CNAI_CUDA_ENTRY);
		return -1;
	}
	if (fn(out, CNAI_BACKEND_VERSION, err, sizeof(err)) < 0) {
		snprintf(reason, rlen, "%s", err);
		return -1;
	}
	return 0;
}

int cnai_backend_open(struct cnai_backend **out, const char *device,
		      int threads, char *notice, size_t notice_len)
{
	char reason[512] = "";

	*out = NULL;
	if (notice && notice_len)
		*notice = '\0';
	if (!device || !strcmp(device, "cpu"))
		return cnai_backend_cpu_open(out, threads);
	if (!strcmp(device, "cuda")) {
		if (cuda_open(out, reason, sizeof(reason)) < 0)
			return cnai_error_set(CNAI_ERROR, "--device cuda: %s",
					      reason);
		return 0;
	}
	if (strcmp(device, "auto"))
		return cnai_error_set(CNAI_EUSAGE,
				      "--device: '%s' is not auto, cpu or "
				      "cuda", device);
	if (cuda_open(out, reason, sizeof(reason)) == 0)
		return 0;
	if (notice && notice_len)
		snprintf(notice, notice_len, "%s", reason);
	return cnai_backend_cpu_open(out, threads);
}
