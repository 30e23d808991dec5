/*
 * What `cnai sign` image commands share above registry/sigstore_target.h:
 * which target a reference names (the store's layout or a registry), the
 * --format option, and how a verification ends and prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/sign/target.h"
#include "cli/output.h"
#include "core/store/store.h"
#include "core/util/error.h"
#include "core/util/banned.h"

/*
 * A reference names the store when it has no "/" or is a tag there;
 * otherwise a registry.
 */
int sign_target_open(struct cnai_sigstore_target *t, struct cnai_ctx *ctx,
		     const char *ref, int insecure)
{
	int err;

	cnai_sigstore_target_init(t, ref);
	if (ctx->store && !strchr(ref, '/')) {
		t->dir = cnai_store_oci(ctx->store);
		err = cnai_oci_resolve(&t->image, t->dir, ref);
		if (err == 0) {
			if (!t->repo[0] || !strncmp(ref, "sha256:", 7))
				return cnai_error_set(
					CNAI_EUSAGE,
					"'%s' names no repository to sign for; "
					"use its tag (NAME:TAG)", ref);
			return 0;
		}
		if (err != CNAI_ENOTFOUND)
			return err;
	}
	if (ctx->store &&
	    cnai_oci_resolve(&t->image, cnai_store_oci(ctx->store), ref) == 0) {
		t->dir = cnai_store_oci(ctx->store);
		return 0;
	}
	cnai_error_clear();
	if (!strchr(ref, '/'))
		return cnai_error_set(CNAI_ENOTFOUND,
				      "image '%s' not found in the store%s",
				      ref, ctx->store ? "" : " (no store here)");
	return cnai_sigstore_target_open_remote(t, ref, insecure);
}

int sign_format_parse(unsigned *out, const char *s, const char *legacy)
{
	if (!strcmp(s, legacy))
		*out = SIGN_FORMAT_LEGACY;
	else if (!strcmp(s, "bundle"))
		*out = SIGN_FORMAT_BUNDLE;
	else if (!strcmp(s, "both"))
		*out = SIGN_FORMAT_LEGACY | SIGN_FORMAT_BUNDLE;
	else
		return cnai_error_set(CNAI_EUSAGE, "--format: '%s' is not %s, "
				      "bundle or both", s, legacy);
	return 0;
}

int sign_verify_finish(struct cnai_ctx *ctx, const char *what,
		       const char *ref, json_t *verified, json_t *skipped,
		       struct cnai_buf *why)
{
	json_t *s;
	size_t i;

	json_array_foreach(skipped, i, s) {
		const char *entry = json_string_value(json_object_get(s,
								      "entry"));
		const char *reason = json_string_value(json_object_get(
			s, "reason"));

		if (!json_array_size(verified))
			cnai_buf_addf(why, "%s%s: %s", why->len ? "; " : "",
				      entry, reason);
		else
			cnai_notice(ctx, "skipped %s: %s", entry, reason);
	}
	if (!json_array_size(verified))
		return cnai_error_set(CNAI_ECHECK, "no %s of %s verifies: %s",
				      what, ref, why->len ? why->buf
							  : "none found");
	return 0;
}

int sign_verify_print(struct cnai_ctx *ctx, json_t *verified)
{
	return cnai_json_print(json_incref(verified));
}
