/* sign keygen / public-key / import-key: cosign-format key files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "commands/sign/sign.h"
#include "core/util/fs.h"
#include "core/util/banned.h"

/* Writes prefix.key (0600) and prefix.pub, refusing to overwrite. */
static int write_pair(struct cnai_ctx *ctx, const struct cnai_cosign_key *key,
		      const char *prefix, int force, int legacy,
		      const char *pass_file)
{
	struct cnai_buf kpath = CNAI_BUF_INIT, ppath = CNAI_BUF_INIT,
			pem = CNAI_BUF_INIT, pub = CNAI_BUF_INIT,
			pass = CNAI_BUF_INIT;
	char fp[65];
	int err;

	cnai_buf_addf(&kpath, "%s.key", prefix);
	cnai_buf_addf(&ppath, "%s.pub", prefix);
	if ((err = cnai_buf_oom(&kpath)) < 0 || (err = cnai_buf_oom(&ppath)) < 0)
		goto cleanup;
	if (!force && (cnai_fs_exists(kpath.buf) || cnai_fs_exists(ppath.buf))) {
		err = cnai_error_set(CNAI_EEXISTS,
				     "'%s' or '%s' exists; use --force to "
				     "overwrite", kpath.buf, ppath.buf);
		goto cleanup;
	}
	if ((err = sign_passphrase(&pass, pass_file, 1)) < 0 ||
	    (err = cnai_cosign_key_encrypt(&pem, key, pass.buf, pass.len, 0,
					   legacy)) < 0 ||
	    (err = cnai_cosign_key_public_pem(&pub, key)) < 0 ||
	    (err = cnai_cosign_key_fingerprint(fp, key)) < 0)
		goto cleanup;
	/* 0600 from the start: the key never exists with wider mode. */
	if ((err = cnai_fs_write_atomic(kpath.buf, pem.buf, pem.len, 0600)) < 0 ||
	    (err = cnai_fs_write_atomic(ppath.buf, pub.buf, pub.len, 0644)) < 0)
		goto cleanup;
	if (ctx->json)
		err = cnai_json_print(json_pack("{s:s, s:s, s:s}", "private_key",
						kpath.buf, "public_key",
						ppath.buf, "fingerprint", fp));
	else
		fprintf(stderr, "Private key written to %s\nPublic key written "
			"to %s\n", kpath.buf, ppath.buf);
cleanup:
	sign_passphrase_release(&pass);
	cnai_buf_release(&kpath);
	cnai_buf_release(&ppath);
	cnai_buf_release(&pem);
	cnai_buf_release(&pub);
	return err;
}

static int parse_key_format(int *legacy, const char *s)
{
	if (!strcmp(s, "sigstore"))
		*legacy = 0;
	else if (!strcmp(s, "cosign-legacy"))
		*legacy = 1;
	else
		return cnai_error_set(CNAI_EUSAGE, "--key-format: '%s' is not "
				      "sigstore or cosign-legacy", s);
	return 0;
}

static int keys_main(int argc, char **argv, struct cnai_ctx *ctx, int import)
{
	static const struct option longopts[] = {
		{ "output-key-prefix", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "key-format", required_argument, NULL, 'F' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *prefix = import ? "import-cosign" : "cosign", *pass_file = NULL;
	struct cnai_cosign_key *key = NULL;
	struct cnai_buf pem = CNAI_BUF_INIT;
	int c, err = 0, force = 0, legacy = 0;

	while ((c = cnai_getopt(argc, argv, ":h", longopts,
				sign_usage(import ? "import-key" : "keygen"),
				ctx)) != -1) {
		switch (c) {
		case 'o':
			prefix = optarg;
			break;
		case 'f':
			force = 1;
			break;
		case 'F':
			if ((err = parse_key_format(&legacy, optarg)) < 0)
				return err;
			break;
		case 'P':
			pass_file = optarg;
			break;
		case CNAI_OPT_HELP:
			return 0;
		default:
			return CNAI_EUSAGE;
		}
	}
	if (argc - optind != (import ? 1 : 0))
		return cnai_error_set(CNAI_EUSAGE, "usage: %s",
				      sign_usage(import ? "import-key"
							: "keygen")
					      ->synopsis[0]);
	if (import) {
		if ((err = cnai_fs_read_file(&pem, argv[optind], 1 << 20)) < 0 ||
		    (err = cnai_cosign_key_import(&key, pem.buf, pem.len,
						  argv[optind])) < 0)
			goto cleanup;
	} else if ((err = cnai_cosign_key_generate(&key)) < 0) {
		goto cleanup;
	}
	err = write_pair(ctx, key, prefix, force, legacy, pass_file);
cleanup:
	cnai_cosign_key_free(key);
	sign_passphrase_release(&pem);
	return err;
}

int sign_keygen(int argc, char **argv, struct cnai_ctx *ctx)
{
	return keys_main(argc, argv, ctx, 0);
}

int sign_import_key(int argc, char **argv, struct cnai_ctx *ctx)
{
	return keys_main(argc, argv, ctx, 1);
}

int sign_public_key(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "output-file", required_argument, NULL, 'o' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *keyfile = NULL, *outfile = NULL, *pass_file = NULL;
	struct cnai_cosign_key *key = NULL;
	struct cnai_buf pub = CNAI_BUF_INIT;
	int c, err;

	while ((c = cnai_getopt(argc, argv, ":h", longopts,
				sign_usage("public-key"), ctx)) != -1) {
		if (c == 'k')
			keyfile = optarg;
		else if (c == 'o')
			outfile = optarg;
		else if (c == 'P')
			pass_file = optarg;
		else
			return c == CNAI_OPT_HELP ? 0 : CNAI_EUSAGE;
	}
	if (optind < argc)
		return cnai_error_set(CNAI_EUSAGE, "usage: %s",
				      sign_usage("public-key")->synopsis[0]);
	if ((err = sign_load_private(&key, keyfile, pass_file)) < 0 ||
	    (err = cnai_cosign_key_public_pem(&pub, key)) < 0)
		goto cleanup;
	if (outfile)
		err = cnai_fs_write_atomic(outfile, pub.buf, pub.len, 0644);
	else
		fputs(pub.buf, stdout);
cleanup:
	cnai_cosign_key_free(key);
	cnai_buf_release(&pub);
	return err;
}
