/*
 * What the registry client reads in a registry's answers, parsed without
 * the network, so that unit tests and tests/fuzz/fuzz-registry-response.c
 * reach every parser registry/distribution.c uses: a manifest's media type
 * and what it names, a token server's answer, Location and Link headers,
 * and the origin a URL belongs to (credentials go to that origin only).
 * Everything here is untrusted input: each function bounds what it reads
 * and refuses what a later request could not carry safely.
 */
#ifndef CNAI_REGISTRY_RESPONSE_H
#define CNAI_REGISTRY_RESPONSE_H

#include <stddef.h>

#include <jansson.h>

#include "registry/oci.h"

/* The most a token server's answer may hold (bytes). */
#define CNAI_REGISTRY_TOKEN_LIMIT (1u << 20)

/*
 * 1 when URLs `a` and `b` have the same origin: scheme, host and port
 * (the scheme's default port when none is written), compared the way
 * curl reads them, so that the answer matches where curl connects. 0 when
 * they differ or either does not parse.
 */
int cnai_registry_origin_same(const char *a, const char *b);

/*
 * Resolves `ref` (a Location or Link target: absolute, "/path" or
 * relative) against `base`, the URL that answered it (RFC 3986), into
 * `out`, then appends `query` ("name=value", may be NULL) to its query.
 * Only http and https URLs without user information are accepted.
 * CNAI_EINVALID (naming `ref`) for anything else or when `out` is too
 * small.
 */
int cnai_registry_url_resolve(char *out, size_t cap, const char *base,
			      const char *ref, const char *query);

/*
 * The target of a Link header's rel="next" entry ("</v2/x/tags/list?n=1>;
 * rel=\"next\"") into `out`: 1 when there is one, 0 when not (or it does
 * not fit in `cap`).
 */
int cnai_registry_link_next(char *out, size_t cap, const char *link);

/*
 * The token of a token server's JSON answer ("token", else
 * "access_token") into `*out` (the caller frees it). The token becomes an
 * HTTP header: one with a control character (a CR LF would start a header
 * of the server's choosing) is refused. CNAI_ERROR naming `realm`, never
 * the token, when the answer is not JSON, has no token or a bad one.
 */
int cnai_registry_token_parse(char **out, const char *body, size_t len,
			      const char *realm);

/*
 * The media type of manifest `body`: its "mediaType", else the response's
 * `content_type` without parameters, into `out`. CNAI_EINVALID (its
 * message starting with `what`, e.g. "manifest 'host/repo:tag'") when
 * there is none, it does not fit, or it is Docker's schema 1.
 */
int cnai_registry_manifest_media_type(char *out, size_t cap,
				      const char *body, size_t len,
				      const char *content_type,
				      const char *what);

/* 1 for an OCI index or a Docker manifest list. */
int cnai_registry_media_is_index(const char *media_type);

/*
 * Called by cnai_registry_manifest_refs() for each descriptor a manifest
 * names; `is_manifest` for an index's entries. A negative return stops
 * the walk and is returned.
 */
typedef int (*cnai_registry_ref_fn)(const struct cnai_oci_desc *d,
				    int is_manifest, void *payload);

/*
 * Calls `fn` for what manifest `doc` of type `media_type` names, as a pull
 * fetches it: an index's manifests (only the first image manifest for
 * platform `want` when it is not NULL; nested indexes always), else the
 * config and the layers (foreign, non-distributable layers skipped).
 * CNAI_EINVALID for a descriptor that does not parse.
 */
int cnai_registry_manifest_refs(const json_t *doc, const char *media_type,
				const struct cnai_oci_platform *want,
				cnai_registry_ref_fn fn, void *payload);

#endif
