/*
 * The `cnai sign` sub-commands, split by job: keys.c (keygen, public-key,
 * import-key), blob.c (blob, verify-blob), image.c (image, verify, model),
 * attest.c (attest, verify-attestation, provenance). commands/sign.c
 * dispatches; passphrase.c reads passphrases without ever echoing,
 * logging or putting them in argv.
 */
#ifndef CNAI_COMMANDS_SIGN_SIGN_H
#define CNAI_COMMANDS_SIGN_SIGN_H

#include "cli/ctx.h"
#include "cli/options.h"
#include "core/util/buf.h"
#include "registry/cosign_key.h"

int sign_keygen(int argc, char **argv, struct cnai_ctx *ctx);
int sign_public_key(int argc, char **argv, struct cnai_ctx *ctx);
int sign_import_key(int argc, char **argv, struct cnai_ctx *ctx);
int sign_blob(int argc, char **argv, struct cnai_ctx *ctx);
int sign_verify_blob(int argc, char **argv, struct cnai_ctx *ctx);
int sign_image(int argc, char **argv, struct cnai_ctx *ctx);
int sign_verify(int argc, char **argv, struct cnai_ctx *ctx);
int sign_model(int argc, char **argv, struct cnai_ctx *ctx);
int sign_attest(int argc, char **argv, struct cnai_ctx *ctx);
int sign_verify_attestation(int argc, char **argv, struct cnai_ctx *ctx);
int sign_provenance(int argc, char **argv, struct cnai_ctx *ctx);

const struct cnai_usage *sign_usage(const char *sub);

/*
 * The passphrase: $COSIGN_PASSWORD (empty allowed, as cosign), else the
 * first line of `file`, else a prompt on the terminal with echo off
 * (twice when `confirm`). CNAI_EUSAGE when none can be had.
 */
int sign_passphrase(struct cnai_buf *out, const char *file, int confirm);
/* Wipes and releases a passphrase buffer. */
void sign_passphrase_release(struct cnai_buf *b);

/* Loads a private key file, asking for its passphrase. */
int sign_load_private(struct cnai_cosign_key **out, const char *path,
		      const char *pass_file);
/* Loads a public key file (or the public half of a private key file). */
int sign_load_public(struct cnai_cosign_key **out, const char *path,
		     const char *pass_file);

#endif
