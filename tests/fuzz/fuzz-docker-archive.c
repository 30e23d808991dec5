/*
 * libFuzzer target: importing a `docker save` archive (manifest.json,
 * configs, layer tars; registry/docker_archive.c) from bytes nobody
 * vouches for. Each input is written to a file and imported into a
 * scratch OCI layout; it must be imported or refused, never crash, leak
 * or read out of bounds (the importer never extracts: it only stores
 * blobs, so there is no path on disk for an entry to escape to).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util/error.h"
#include "registry/docker_archive.h"
#include "registry/oci.h"

static char root[64], layout[128], input[128];

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/cnai-fuzz-da.XXXXXX");
	if (!mkdtemp(root))
		abort();
	snprintf(layout, sizeof(layout), "%s/layout", root);
	snprintf(input, sizeof(input), "%s/in.tar", root);
	if (cnai_oci_layout_init(layout) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cnai_layer_opts lo = CNAI_LAYER_OPTS_INIT;
	struct cnai_oci_desc d;
	FILE *f;

	if (!root[0])
		setup();
	if (!(f = fopen(input, "wb")))
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	lo.threads = 1;
	(void)cnai_docker_archive_import(&d, layout, input, NULL, &lo);
	cnai_error_clear();
	return 0;
}
