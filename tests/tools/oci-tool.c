/*
 * A test driver for registry/: builds images into an OCI layout, pushes and
 * pulls them, so the interop tests (tests/interop/t4*-registry-*.bats) can
 * meet skopeo, umoci and docker-registry before `cnai package` wraps the
 * same calls. Not installed; built by `make test` only.
 *
 *   oci-tool build DIR TAG [options] IMAGE_PATH=SOURCE...
 *       --epoch N  --compression gzip|zstd|none  --level N  --threads N
 *       --block BYTES (gzip block size)
 *       --artifact TYPE (artifact manifest, empty config, raw layers)
 *       --platform OS/ARCH  --entrypoint ARG...  --label K=V  --env K=V
 *       --user U  --workdir D  --port P  --annotation K=V  --layers N
 *     An IMAGE_PATH ending in '/' with an empty SOURCE is a folder; "@T"
 *     as SOURCE is a symbolic link to T. --layers N spreads the entries
 *     over N layers (built in turn). Prints the manifest digest.
 *   oci-tool index DIR TAG TAG1=OS/ARCH...      an index of tagged images
 *   oci-tool resolve DIR REF [OS/ARCH]          prints media type, digest
 *   oci-tool push DIR REF DEST [--insecure] [--jobs N] [--chunk BYTES]
 *       [--username U --password-stdin] [--mount-from REPO]
 *   oci-tool pull SRC DIR TAG [--insecure] [--platform OS/ARCH] [--jobs N]
 *   oci-tool tags REPO [--insecure]
 *   oci-tool parse-ref REF                      registry, repo, tag, digest
 * Errors: "oci-tool: error: MESSAGE" on stderr, exit 3 (1 for ECHECK, 2
 * for usage and input).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util/buf.h"
#include "core/util/error.h"
#include "registry/distribution.h"
#include "registry/layer.h"
#include "registry/oci.h"
#include "registry/reference.h"
#include "core/util/banned.h"

enum { MAX_ARGS = 256 };

static int fail(int err)
{
	const struct cnai_error *e = cnai_error_last();

	fprintf(stderr, "oci-tool: error: %s\n", e ? e->message : "unknown");
	switch (err) {
	case CNAI_ECHECK:
		return 1;
	case CNAI_EUSAGE:
	case CNAI_EINVALID:
	case CNAI_ENOTFOUND:
	case CNAI_EAMBIGUOUS:
	case CNAI_EEXISTS:
		return 2;
	default:
		return 3;
	}
}

static int usage(const char *msg)
{
	fprintf(stderr, "oci-tool: usage: %s\n", msg);
	return 2;
}

static long num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || end == s) {
		fprintf(stderr, "oci-tool: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

static int cmd_build(int argc, char **argv)
{
	struct cnai_layer_opts lo = CNAI_LAYER_OPTS_INIT;
	struct cnai_oci_image_opts io = { NULL };
	struct cnai_layer_entry entries[MAX_ARGS];
	const char *entrypoint[MAX_ARGS], *labels[MAX_ARGS], *env[MAX_ARGS];
	const char *ports[MAX_ARGS], *annotations[MAX_ARGS];
	size_t ne = 0, nep = 0, nl = 0, nenv = 0, np = 0, na = 0, k;
	size_t nlayers = 1;
	const char *dir, *tag, *artifact = NULL;
	struct cnai_oci_platform plat = { "linux", "amd64", "" };
	struct cnai_oci_desc cfg_d, man_d;
	json_t *config = NULL, *manifest = NULL;
	char created[32];
	int i, err;

	if (argc < 3)
		return usage("oci-tool build DIR TAG [options] PATH=SRC...");
	dir = argv[1];
	tag = argv[2];
	for (i = 3; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strncmp(a, "--", 2) && !v)
			return usage("missing option value");
		if (!strcmp(a, "--epoch"))
			lo.mtime = num(v);
		else if (!strcmp(a, "--compression")) {
			if ((err = cnai_layer_compression_parse(
				     &lo.compression, v)) < 0)
				return fail(err);
		} else if (!strcmp(a, "--level"))
			lo.level = (int)num(v);
		else if (!strcmp(a, "--threads"))
			lo.threads = (int)num(v);
		else if (!strcmp(a, "--block"))
			lo.block_size = (size_t)num(v);
		else if (!strcmp(a, "--layers"))
			nlayers = (size_t)num(v);
		else if (!strcmp(a, "--artifact"))
			artifact = v;
		else if (!strcmp(a, "--platform")) {
			if ((err = cnai_oci_platform_parse(&plat, v)) < 0)
				return fail(err);
		} else if (!strcmp(a, "--entrypoint"))
			entrypoint[nep++] = v;
		else if (!strcmp(a, "--label"))
			labels[nl++] = v;
		else if (!strcmp(a, "--env"))
			env[nenv++] = v;
		else if (!strcmp(a, "--port"))
			ports[np++] = v;
		else if (!strcmp(a, "--annotation"))
			annotations[na++] = v;
		else if (!strcmp(a, "--user"))
			io.user = v;
		else if (!strcmp(a, "--workdir"))
			io.working_dir = v;
		else if (!strncmp(a, "--", 2))
			return usage(a);
		else {
			char *eq = strchr(argv[i], '=');

			if (!eq)
				return usage("expected IMAGE_PATH=SOURCE");
			*eq = '\0';
			memset(&entries[ne], 0, sizeof(entries[ne]));
			entries[ne].path = argv[i];
			if (eq[1] == '@')
				entries[ne].link = eq + 2;
			else if (eq[1])
				entries[ne].src = eq + 1;
			ne++;
			continue;
		}
		i++;
		if (nep >= MAX_ARGS - 1 || nl >= MAX_ARGS - 1 ||
		    nenv >= MAX_ARGS - 1 || np >= MAX_ARGS - 1 ||
		    na >= MAX_ARGS - 1)
			return usage("too many options");
	}
	entrypoint[nep] = labels[nl] = env[nenv] = ports[np] = NULL;
	cnai_oci_time(created, lo.mtime);
	io.os = plat.os;
	io.architecture = plat.architecture;
	io.variant = plat.variant[0] ? plat.variant : NULL;
	io.created = created;
	io.entrypoint = nep ? entrypoint : NULL;
	io.labels = nl ? labels : NULL;
	io.env = nenv ? env : NULL;
	io.exposed_ports = np ? ports : NULL;
	if (nlayers < 1)
		nlayers = 1;

	if ((err = cnai_oci_layout_init(dir)) < 0)
		return fail(err);
	if (artifact) {
		if ((err = cnai_oci_empty_put(&cfg_d, dir)) < 0 ||
		    (err = cnai_oci_manifest_new(&manifest, &cfg_d,
						 artifact)) < 0)
			return fail(err);
		for (k = 0; k < ne; k++) {
			struct cnai_layer_info li;
			struct cnai_oci_desc d;
			json_t *ann;

			if ((err = cnai_oci_layer_raw(&li, dir,
						      entries[k].src)) < 0)
				return fail(err);
			snprintf(d.media_type, sizeof(d.media_type),
				 "application/vnd.cncf.model.weight.v1.raw");
			memcpy(d.digest, li.digest, CNAI_DIGEST_LEN);
			d.size = li.size;
			ann = json_pack("{s:s}", "org.cncf.model.filepath",
					entries[k].path);
			if ((err = cnai_oci_manifest_add_layer(manifest, &d,
							       ann)) < 0)
				return fail(err);
		}
	} else {
		struct cnai_oci_desc ld[MAX_ARGS];

		if ((err = cnai_oci_config_new(&config, &io)) < 0)
			return fail(err);
		if (nlayers > MAX_ARGS)
			return usage("too many layers");
		for (k = 0; k < nlayers; k++) {
			size_t from = ne * k / nlayers;
			size_t to = ne * (k + 1) / nlayers;
			struct cnai_layer_info li;

			if ((err = cnai_oci_layer_build(&li, dir,
							entries + from,
							to - from, &lo)) < 0 ||
			    (err = cnai_oci_config_add_layer(
				     config, li.diff_id, created,
				     "oci-tool build", NULL)) < 0)
				return fail(err);
			snprintf(ld[k].media_type, sizeof(ld[k].media_type),
				 "%s", li.media_type);
			memcpy(ld[k].digest, li.digest, CNAI_DIGEST_LEN);
			ld[k].size = li.size;
		}
		if ((err = cnai_oci_json_put(&cfg_d, dir, config,
					     CNAI_MEDIA_OCI_CONFIG)) < 0 ||
		    (err = cnai_oci_manifest_new(&manifest, &cfg_d,
						 NULL)) < 0)
			return fail(err);
		for (k = 0; k < nlayers; k++)
			if ((err = cnai_oci_manifest_add_layer(manifest, &ld[k],
							       NULL)) < 0)
				return fail(err);
	}
	for (k = 0; k < na; k++) {
		char *eq = strchr(annotations[k], '=');

		if (!eq)
			return usage("--annotation K=V");
		*eq = '\0';
		if ((err = cnai_oci_annotate(manifest, annotations[k],
					     eq + 1)) < 0)
			return fail(err);
	}
	if ((err = cnai_oci_json_put(&man_d, dir, manifest, NULL)) < 0 ||
	    (err = cnai_oci_tag(dir, tag, &man_d, NULL)) < 0)
		return fail(err);
	printf("%s\n", man_d.digest);
	json_decref(config);
	json_decref(manifest);
	return 0;
}

static int cmd_index(int argc, char **argv)
{
	json_t *index = NULL;
	struct cnai_oci_desc d;
	int i, err;

	if (argc < 4)
		return usage("oci-tool index DIR TAG TAG1=OS/ARCH...");
	if ((err = cnai_oci_index_new(&index)) < 0)
		return fail(err);
	for (i = 3; i < argc; i++) {
		struct cnai_oci_platform p;
		char *eq = strchr(argv[i], '=');

		if (!eq)
			return usage("TAG=OS/ARCH");
		*eq = '\0';
		if ((err = cnai_oci_platform_parse(&p, eq + 1)) < 0 ||
		    (err = cnai_oci_resolve(&d, argv[1], argv[i])) < 0 ||
		    (err = cnai_oci_index_add(index, &d, &p, NULL)) < 0)
			return fail(err);
	}
	if ((err = cnai_oci_json_put(&d, argv[1], index, NULL)) < 0 ||
	    (err = cnai_oci_tag(argv[1], argv[2], &d, NULL)) < 0)
		return fail(err);
	printf("%s\n", d.digest);
	json_decref(index);
	return 0;
}

static int cmd_resolve(int argc, char **argv)
{
	struct cnai_oci_desc d, m;
	struct cnai_oci_platform p;
	int err;

	if (argc < 3)
		return usage("oci-tool resolve DIR REF [OS/ARCH]");
	if ((err = cnai_oci_resolve(&d, argv[1], argv[2])) < 0)
		return fail(err);
	if (argc > 3) {
		if ((err = cnai_oci_platform_parse(&p, argv[3])) < 0 ||
		    (err = cnai_oci_resolve_platform(&m, argv[1], &d,
						     &p)) < 0)
			return fail(err);
		d = m;
	}
	printf("%s %s %llu\n", d.media_type, d.digest,
	       (unsigned long long)d.size);
	return 0;
}

/* Common registry options; returns the index of the first operand. */
static int registry_opts(struct cnai_registry_opts *o, int argc, char **argv,
			 struct cnai_buf *password)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--insecure"))
			o->insecure = 1;
		else if (!strcmp(a, "--password-stdin")) {
			char chunk[256];
			size_t n;

			while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
				cnai_buf_add(password, chunk, n);
			while (password->len &&
			       (password->buf[password->len - 1] == '\n' ||
				password->buf[password->len - 1] == '\r'))
				cnai_buf_truncate(password, password->len - 1);
			o->password = password->buf;
		} else if (!strncmp(a, "--", 2) && !v) {
			return -1;
		} else if (!strcmp(a, "--jobs")) {
			o->jobs = (int)num(v);
			i++;
		} else if (!strcmp(a, "--chunk")) {
			o->chunk_size = (uint64_t)num(v);
			i++;
		} else if (!strcmp(a, "--username")) {
			o->username = v;
			i++;
		} else if (!strcmp(a, "--mount-from")) {
			o->mount_from = v;
			i++;
		} else if (!strcmp(a, "--platform")) {
			o->platform = v;
			i++;
		} else if (!strncmp(a, "--", 2)) {
			return -1;
		} else {
			/* move operands to the front */
			continue;
		}
		argv[i] = NULL;
		if (strcmp(a, "--insecure") && strcmp(a, "--password-stdin"))
			argv[i - 1] = NULL;
	}
	return 0;
}

static int operands(char **out, int max, int argc, char **argv)
{
	int i, n = 0;

	for (i = 1; i < argc; i++)
		if (argv[i]) {
			if (n == max)
				return -1;
			out[n++] = argv[i];
		}
	return n;
}

/* push and pull: three operands, the options, a digest printed. */
typedef int (*transfer_fn)(char digest[CNAI_DIGEST_LEN], const char *a,
			   const char *b, const char *c,
			   const struct cnai_registry_opts *o);

static int transfer(int argc, char **argv, transfer_fn fn, const char *use)
{
	struct cnai_registry_opts o = CNAI_REGISTRY_OPTS_INIT;
	struct cnai_buf pw = CNAI_BUF_INIT;
	char digest[CNAI_DIGEST_LEN];
	char *op[3];
	int err;

	if (registry_opts(&o, argc, argv, &pw) < 0 ||
	    operands(op, 3, argc, argv) != 3)
		return usage(use);
	err = fn(digest, op[0], op[1], op[2], &o);
	cnai_buf_release(&pw);
	if (err < 0)
		return fail(err);
	printf("%s\n", digest);
	return 0;
}

static int cmd_push(int argc, char **argv)
{
	return transfer(argc, argv, cnai_registry_push,
			"oci-tool push DIR REF DEST [options]");
}

static int cmd_pull(int argc, char **argv)
{
	return transfer(argc, argv, cnai_registry_pull,
			"oci-tool pull SRC DIR TAG [options]");
}

static int cmd_tags(int argc, char **argv)
{
	struct cnai_registry_opts o = CNAI_REGISTRY_OPTS_INIT;
	struct cnai_buf pw = CNAI_BUF_INIT;
	json_t *tags = NULL, *t;
	char *op[1];
	size_t i;
	int err;

	if (registry_opts(&o, argc, argv, &pw) < 0 ||
	    operands(op, 1, argc, argv) != 1)
		return usage("oci-tool tags REPO [options]");
	err = cnai_registry_tags(&tags, op[0], &o);
	cnai_buf_release(&pw);
	if (err < 0)
		return fail(err);
	json_array_foreach(tags, i, t)
		printf("%s\n", json_string_value(t));
	json_decref(tags);
	return 0;
}

static int cmd_parse_ref(int argc, char **argv)
{
	struct cnai_reference r;
	int err;

	if (argc != 2)
		return usage("oci-tool parse-ref REF");
	if ((err = cnai_reference_parse(&r, argv[1])) < 0)
		return fail(err);
	printf("registry=%s repository=%s tag=%s digest=%s\n", r.registry,
	       r.repository, r.tag[0] ? r.tag : "-",
	       r.digest[0] ? r.digest : "-");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "build", cmd_build },	    { "index", cmd_index },
		{ "resolve", cmd_resolve }, { "push", cmd_push },
		{ "pull", cmd_pull },	    { "tags", cmd_tags },
		{ "parse-ref", cmd_parse_ref },
	};
	size_t i;

	if (argc < 2)
		return usage("oci-tool build|index|resolve|push|pull|tags|"
			     "parse-ref ...");
	for (i = 0; i < sizeof(cmds) / sizeof(*cmds); i++)
		if (!strcmp(argv[1], cmds[i].name)) {
			int rc = cmds[i].fn(argc - 1, argv + 1);

			if (fflush(stdout) != 0)
				return 3;
			return rc;
		}
	return usage("unknown sub-command");
}
