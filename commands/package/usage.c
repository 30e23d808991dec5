/*
 * The synopses and options of `cnai package` and its sub-commands, apart
 * from the code that runs them: every sub-command file reads its usage
 * from here, and commands/package.c dispatches to them, so that no file
 * of the command calls back into the file that calls it.
 */
#include "commands/package/usage.h"

#include <string.h>

#include "core/util/error.h"
#include "core/util/banned.h"

#define S(name, ...) static const char *const name[] = { __VA_ARGS__, NULL }

S(syn_build, "cnai package <model> [--format serve|modelcar|artifact] "
	     "[--tag <name>[:<tag>]]... [--base <image>|scratch] "
	     "[--platform <os>/<arch>] [--label <key>=<value>]... "
	     "[--annotation <key>=<value>]... [--user <uid>] [--port <port>] "
	     "[--compression gzip|zstd] [--license <spdx>] [--push <dest>]");
S(syn_ls, "cnai package ls");
S(syn_inspect, "cnai package inspect <image>");
S(syn_export, "cnai package export <image> (--oci-layout <dir> | "
	      "--docker-archive <file.tar> [--force])");
S(syn_push, "cnai package push <image> <dest> [--jobs <n>] [--insecure] "
	    "[--username <user> --password-stdin]");
S(syn_pull, "cnai package pull <src> [--tag <name>] [--platform <os>/<arch>] "
	    "[--insecure] [--username <user> --password-stdin]");

S(opt_build,
  "    <model>                 NAME, NAME@VERSION, NAME@ALIAS or sha256:...",
  "    --format <f>            serve (default), modelcar or artifact",
  "    --tag <name>[:<tag>]    tag in the store (default NAME:VERSION, "
  "NAME:VERSION-modelcar,",
  "                            NAME:VERSION-artifact)",
  "    --base <image>          a base image: a tag in the store, "
  "oci:<dir>[:<tag>],",
  "                            a registry reference (pulled first), or a "
  "'docker save'",
  "                            tar: docker-archive:<file>[:<repo>:<tag>] or "
  "its path;",
  "                            default scratch",
  "    --platform <os>/<arch>  pick from a multi-platform base (default "
  "linux/amd64)",
  "    --label <k>=<v>         a config label",
  "    --annotation <k>=<v>    a manifest annotation",
  "    --user <uid>[:<gid>]    the user the server runs as, numeric (default 65532)",
  "    --port <port>           the serving port (default 8080)",
  "    --compression <c>       gzip (default, fast level, parallel) or zstd",
  "    --license <spdx>        org.opencontainers.image.licenses",
  "    --push <dest>           push to a registry after building",
  "",
  "SOURCE_DATE_EPOCH sets every timestamp (default 0): the same inputs give "
  "the same digest.");
S(opt_ls, "    Images in the store: tag, digest, model, size.",
  "    --json    as JSON");
S(opt_inspect, "    Manifest, config, layers and sizes of an image in the "
	       "store.",
  "    --json    {digest, manifest, config}");
S(opt_export, "    --oci-layout <dir>           copy into an OCI image layout",
  "    --docker-archive <file.tar>  write a tar that 'docker load' and "
  "skopeo read",
  "    --force                      replace <file.tar> if it exists");
S(opt_push, "    <dest>               registry/repository[:tag]",
  "    --jobs <n>           blobs uploaded at once (default 4)",
  "    --insecure           allow plain HTTP (loopback registries always "
  "may)",
  "    --username <u>       with --password-stdin: Basic credentials",
  "    Credentials otherwise from $DOCKER_CONFIG/config.json or "
  "~/.docker/config.json.");
S(opt_pull, "    <src>                registry/repository[:tag|@digest]",
  "    --tag <name>         tag in the store (default: the source's "
  "repo:tag)");

/* The sub-commands in the order `cnai package --help` lists them; the
 * building form first. */
static const struct {
	const char *name;
	struct cnai_usage usage;
} usages[] = {
	{ "build", { syn_build, opt_build } },
	{ "export", { syn_export, opt_export } },
	{ "inspect", { syn_inspect, opt_inspect } },
	{ "ls", { syn_ls, opt_ls } },
	{ "pull", { syn_pull, opt_pull } },
	{ "push", { syn_push, opt_push } },
};

const struct cnai_usage *package_usage(const char *sub)
{
	size_t i;

	for (i = 0; i < sizeof(usages) / sizeof(*usages); i++)
		if (!strcmp(usages[i].name, sub))
			return &usages[i].usage;
	CNAI_BUG("no usage for 'package %s'", sub);
}

void package_print_usage(FILE *f)
{
	size_t i, j;

	fprintf(f, "usage: %s\n", syn_build[0]);
	for (i = 1; i < sizeof(usages) / sizeof(*usages); i++)
		for (j = 0; usages[i].usage.synopsis[j]; j++)
			fprintf(f, "   or: %s\n", usages[i].usage.synopsis[j]);
	fprintf(f, "\nsee 'cnai package <sub-command> --help' for each one's "
		   "options ('cnai package build --help' for building)\n");
}
