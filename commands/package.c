/*
 * cnai package: OCI images of registered models, built reproducibly in the
 * store's OCI layout. Formats:
 *   serve     the model under /models/NAME plus the cnai binary and every
 *             shared library it needs (found from its ELF dependencies), so
 *             the image runs on scratch with `cnai serve` as entrypoint;
 *   modelcar  the model files under /models only (KServe's modelcar);
 *   artifact  the version's ModelPack artifact manifest, annotated.
 * Sub-commands: ls, inspect, export (and push/pull: registry/ client).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/commands.h"
#include "commands/package/package.h"
#include "commands/package/usage.h"
#include "core/util/banned.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv, struct cnai_ctx *ctx);
} subs[] = {
	{ "export", package_export },
	{ "inspect", package_inspect },
	{ "ls", package_ls },
	{ "pull", package_pull },
	{ "push", package_push },
};

int cmd_package(int argc, char **argv, struct cnai_ctx *ctx)
{
	size_t i;

	if (argc < 2) {
		package_print_usage(stderr);
		return CNAI_EUSAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		package_print_usage(stdout);
		return 0;
	}
	for (i = 0; i < sizeof(subs) / sizeof(*subs); i++)
		if (!strcmp(subs[i].name, argv[1]))
			return subs[i].fn(argc - 1, argv + 1, ctx);
	/* `cnai package build MODEL` and `cnai package MODEL` are the same. */
	if (!strcmp(argv[1], "build"))
		return package_build(argc - 1, argv + 1, ctx);
	return package_build(argc, argv, ctx);
}
