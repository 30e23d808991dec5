/*
 * sign blob / verify-blob: cosign sign-blob's formats. The signature is
 * base64 of the DER ECDSA signature over the file's SHA-256; the bundle is
 * Sigstore bundle v0.3 JSON with a messageSignature (no transparency log:
 * offline by construction).
 */
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/output.h"
#include "commands/commands.h"
#include "commands/sign/sign.h"
#include "core/util/fs.h"
#include "core/util/hash.h"
#include "registry/sigstore.h"
#include "core/util/banned.h"

static int file_digest(unsigned char md[32], const char *path)
{
	char hex[CNAI_DIGEST_LEN];
	size_t i;
	int err;

	if ((err = cnai_sha256_file(hex, NULL, path)) < 0)
		return err;
	for (i = 0; i < 32; i++) {
		unsigned v;

		sscanf(hex + 7 + 2 * i, "%2x", &v);
		md[i] = (unsigned char)v;
	}
	return 0;
}

int sign_blob(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "output-signature", required_argument, NULL, 's' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *keyfile = NULL, *sigfile = NULL, *bundle = NULL,
		   *pass_file = NULL;
	struct cnai_buf sig = CNAI_BUF_INIT, b64 = CNAI_BUF_INIT,
			bun = CNAI_BUF_INIT, hint = CNAI_BUF_INIT;
	struct cnai_cosign_key *key = NULL;
	unsigned char md[32];
	int c, err;

	while ((c = cnai_getopt(argc, argv, ":h", longopts, sign_usage("blob"),
				ctx)) != -1) {
		if (c == 'k')
			keyfile = optarg;
		else if (c == 's')
			sigfile = optarg;
		else if (c == 'b')
			bundle = optarg;
		else if (c == 'P')
			pass_file = optarg;
		else
			return c == CNAI_OPT_HELP ? 0 : CNAI_EUSAGE;
	}
	if (argc - optind != 1)
		return cnai_error_set(CNAI_EUSAGE, "usage: %s",
				      sign_usage("blob")->synopsis[0]);
	/* Read the file first: a missing file asks for no passphrase. */
	if ((err = file_digest(md, argv[optind])) < 0 ||
	    (err = sign_load_private(&key, keyfile, pass_file)) < 0 ||
	    (err = cnai_cosign_sign_digest(&sig, key, md)) < 0 ||
	    (err = cnai_base64_encode(&b64, sig.buf, sig.len)) < 0)
		goto cleanup;
	if (sigfile &&
	    (err = cnai_fs_write_atomic(sigfile, b64.buf, b64.len, 0644)) < 0)
		goto cleanup;
	if (bundle && ((err = cnai_sigstore_key_hint(&hint, key)) < 0 ||
		       (err = cnai_bundle_blob(&bun, md, sig.buf, sig.len,
					       hint.buf)) < 0 ||
		       (err = cnai_fs_write_atomic(bundle, bun.buf, bun.len,
						   0644)) < 0))
		goto cleanup;
	if (ctx->json)
		err = cnai_json_print(json_pack("{s:s, s:s?, s:s?}", "signature",
						b64.buf, "signature_file",
						sigfile, "bundle", bundle));
	else if (!sigfile && !bundle)
		printf("%s\n", b64.buf);
cleanup:
	cnai_cosign_key_free(key);
	cnai_buf_release(&sig);
	cnai_buf_release(&b64);
	cnai_buf_release(&bun);
	cnai_buf_release(&hint);
	return err;
}

int sign_verify_blob(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "signature", required_argument, NULL, 's' },
		{ "bundle", required_argument, NULL, 'b' },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *keyfile = NULL, *sigfile = NULL, *bundle = NULL;
	struct cnai_buf text = CNAI_BUF_INIT, sig = CNAI_BUF_INIT;
	struct cnai_cosign_key *key = NULL;
	unsigned char md[32], claimed[32];
	int c, err;

	while ((c = cnai_getopt(argc, argv, ":h", longopts,
				sign_usage("verify-blob"), ctx)) != -1) {
		if (c == 'k')
			keyfile = optarg;
		else if (c == 's')
			sigfile = optarg;
		else if (c == 'b')
			bundle = optarg;
		else
			return c == CNAI_OPT_HELP ? 0 : CNAI_EUSAGE;
	}
	if (argc - optind != 1 || (!sigfile == !bundle))
		return cnai_error_set(CNAI_EUSAGE, "usage: %s",
				      sign_usage("verify-blob")->synopsis[0]);
	if ((err = file_digest(md, argv[optind])) < 0 ||
	    (err = sign_load_public(&key, keyfile, NULL)) < 0 ||
	    (err = cnai_fs_read_file(&text, sigfile ? sigfile : bundle,
				     1 << 20)) < 0)
		goto cleanup;
	if (sigfile) {
		if (cnai_base64_decode(&sig, text.buf, text.len) < 0) {
			err = cnai_error_set(CNAI_EINVALID, "%s: not a base64 "
					     "signature", sigfile);
			goto cleanup;
		}
	} else {
		if ((err = cnai_bundle_blob_parse(claimed, &sig, text.buf,
						  text.len)) < 0)
			goto cleanup;
		if (memcmp(claimed, md, 32)) {
			err = cnai_error_set(CNAI_ECHECK,
					     "%s: the bundle is for a different "
					     "file (digest mismatch)", bundle);
			goto cleanup;
		}
	}
	if ((err = cnai_cosign_verify_digest(key, md, sig.buf, sig.len)) < 0) {
		err = cnai_error_set(CNAI_ECHECK, "%s: signature does not "
				     "verify with %s", argv[optind], keyfile);
		goto cleanup;
	}
	if (ctx->json)
		err = cnai_json_print(json_pack("{s:s, s:b}", "file",
						argv[optind], "verified", 1));
	else
		printf("Verified OK\n");
cleanup:
	cnai_cosign_key_free(key);
	cnai_buf_release(&text);
	cnai_buf_release(&sig);
	return err;
}
