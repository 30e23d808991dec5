/*
 * Stand-ins for libcnai-cuda.so, for the loader's tests on machines
 * without a GPU (tests/cli/t3050-gpu-plugin.bats builds one per STUB_*
 * mode with cc -shared and points $CNAI_CUDA_PLUGIN at it):
 *
 *   STUB_FAIL     open fails with a reason, as on a driver too old
 *   STUB_NODEV    open says there is no NVIDIA driver or device at all
 *   STUB_OLD      open hands back a table of another ops version
 *   STUB_UPLOAD   opens; upload fails and reports through be->error,
 *                 as a CUDA error on the device does
 *   STUB_NOENTRY  exports no entry point
 */
#include <stdio.h>
#include <stdlib.h>

#include "gpu/backend.h"

#ifdef STUB_NOENTRY
int cnai_stub_nothing_here(void);
int cnai_stub_nothing_here(void)
{
	return 0;
}
#else
static void *s_alloc(void *ctx, size_t bytes)
{
	return calloc(1, bytes ? bytes : 1);
}

static void s_free(void *ctx, void *p)
{
	free(p);
}

static int s_upload(void *ctx, void *dst, const void *src, size_t bytes)
{
	struct cnai_backend *be = ctx;

	return be->error(-1, "CUDA upload: an illegal memory access was "
			 "encountered");
}

static void s_close(struct cnai_backend *be)
{
	free(be);
}

int cnai_cuda_backend_open(struct cnai_backend **out, int version,
			   char *err, size_t errlen);
int cnai_cuda_backend_open(struct cnai_backend **out, int version,
			   char *err, size_t errlen)
{
	struct cnai_backend *be;

	*out = NULL;
#if defined(STUB_FAIL)
	snprintf(err, errlen, "the NVIDIA driver 550.54.14 runs CUDA 12.4; "
		 "the plug-in needs CUDA 13.0, a driver R580 or newer");
	return -1;
#elif defined(STUB_NODEV)
	snprintf(err, errlen, "no NVIDIA driver (libcuda.so.1)");
	return CNAI_CUDA_ENODEV;
#endif
#ifdef STUB_OLD
	/* static: the loader cannot close a table of another version */
	static struct cnai_backend old;

	old.version = CNAI_BACKEND_VERSION - 1;
	*out = &old;
	return 0;
#endif
	if (!(be = calloc(1, sizeof(*be))))
		return -1;
	be->version = version;
	be->name = "cuda";
	snprintf(be->device, sizeof(be->device), "cuda, stub");
	be->ctx = be;
	be->alloc = s_alloc;
	be->free = s_free;
	be->upload = s_upload;
	be->close = s_close;
	*out = be;
	return 0;
}
#endif
