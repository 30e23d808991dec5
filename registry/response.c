/*
 * Parsers for what registries answer (registry/response.h). URLs are read
 * with curl's own URL parser (curl_url), never by hand: the origin that
 * decides whether credentials are sent must be the one curl connects to,
 * and a hand-made split of "http://a:1@b/" would disagree with it.
 */
#include "registry/response.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util/error.h"
#include "core/util/banned.h"

static int oom(void)
{
	return cnai_error_set(CNAI_ERROR, "out of memory");
}

/* A URL's scheme, host and port (the scheme's default when none is
 * written), as curl reads them; curl_free()d by origin_release(). */
struct origin {
	char *scheme, *host, *port;
};

static void origin_release(struct origin *o)
{
	curl_free(o->scheme);
	curl_free(o->host);
	curl_free(o->port);
}

static int origin_of(struct origin *o, const char *url)
{
	CURLU *u = curl_url();
	int err = -1;

	memset(o, 0, sizeof(*o));
	if (!u)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &o->scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &o->host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &o->port, CURLU_DEFAULT_PORT) ==
		    CURLUE_OK)
		err = 0;
	curl_url_cleanup(u);
	return err;
}

int cnai_registry_origin_same(const char *a, const char *b)
{
	struct origin oa = { NULL, NULL, NULL }, ob = { NULL, NULL, NULL };
	int same = 0;

	if (origin_of(&oa, a) == 0 && origin_of(&ob, b) == 0)
		same = !strcasecmp(oa.scheme, ob.scheme) &&
		       !strcasecmp(oa.host, ob.host) &&
		       !strcmp(oa.port, ob.port);
	origin_release(&oa);
	origin_release(&ob);
	return same;
}

int cnai_registry_url_resolve(char *out, size_t cap, const char *base,
			      const char *ref, const char *query)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *s = NULL;
	int err = 0;

	if (!u)
		return oom();
	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, ref, CURLU_DISALLOW_USER) !=
		    CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))) {
		err = cnai_error_set(CNAI_EINVALID, "location '%.200s' is not "
				     "an http(s) URL", ref);
		goto cleanup;
	}
	if (query && *query &&
	    curl_url_set(u, CURLUPART_QUERY, query, CURLU_APPENDQUERY) !=
		    CURLUE_OK) {
		err = cnai_error_set(CNAI_EINVALID, "location '%.200s': "
				     "cannot add '%s'", ref, query);
		goto cleanup;
	}
	if (curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK || !s) {
		err = cnai_error_set(CNAI_EINVALID, "location '%.200s' is not "
				     "an http(s) URL", ref);
		goto cleanup;
	}
	if (strlen(s) >= cap) {
		err = cnai_error_set(CNAI_EINVALID, "location '%.200s' is too "
				     "long", ref);
		goto cleanup;
	}
	memcpy(out, s, strlen(s) + 1);
cleanup:
	curl_free(scheme);
	curl_free(s);
	curl_url_cleanup(u);
	return err;
}

int cnai_registry_link_next(char *out, size_t cap, const char *link)
{
	const char *p = link, *end;

	/* Link: <a>; rel="x", <b>; rel="next" */
	while ((p = strchr(p, '<'))) {
		const char *params;
		size_t n;

		if (!(end = strchr(p, '>')))
			return 0;
		params = end + 1;
		n = strcspn(params, "<");
		if (memmem(params, n, "rel=\"next\"", 10) ||
		    memmem(params, n, "rel=next", 8)) {
			n = (size_t)(end - p - 1);
			if (!n || n >= cap)
				return 0;
			memcpy(out, p + 1, n);
			out[n] = '\0';
			return 1;
		}
		p = end + 1;
	}
	return 0;
}

/* 1 if `s` has a byte below 0x20 or 0x7f (DEL). */
static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int cnai_registry_token_parse(char **out, const char *body, size_t len,
			      const char *realm)
{
	json_t *j = json_loadb(body, len, 0, NULL), *t;
	const char *tok;
	int err = 0;

	*out = NULL;
	if (!json_is_object(j)) {
		err = cnai_error_set(CNAI_ERROR, "token server '%s' answered "
				     "something else than a JSON object",
				     realm);
		goto cleanup;
	}
	t = json_object_get(j, "token");
	if (!json_string_length(t))
		t = json_object_get(j, "access_token");
	tok = json_string_value(t);
	if (!tok || !*tok) {
		err = cnai_error_set(CNAI_ERROR, "token server '%s' answered "
				     "no token", realm);
		goto cleanup;
	}
	/* ("\u0000" never gets here: jansson refuses it by default) */
	if (has_control(tok)) {
		err = cnai_error_set(CNAI_ERROR, "token server '%s' answered "
				     "a token with control characters",
				     realm);
		goto cleanup;
	}
	if (!(*out = strdup(tok)))
		err = oom();
cleanup:
	json_decref(j);
	return err;
}

int cnai_registry_manifest_media_type(char *out, size_t cap,
				      const char *body, size_t len,
				      const char *content_type,
				      const char *what)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *mt = json_string_value(json_object_get(j, "mediaType"));
	char ct[160];
	int err = 0;

	snprintf(ct, sizeof(ct), "%s", content_type ? content_type : "");
	ct[strcspn(ct, "; ")] = '\0';
	if (!mt || !*mt)
		mt = ct;
	if (!*mt || strstr(mt, "distribution.manifest.v1") ||
	    has_control(mt)) {
		err = cnai_error_set(CNAI_EINVALID, "%s is of an unsupported "
				     "type '%.100s' (Docker schema 1?)", what,
				     has_control(mt) ? "?" : mt);
		goto cleanup;
	}
	if (strlen(mt) >= cap) {
		err = cnai_error_set(CNAI_EINVALID, "%s: media type "
				     "'%.100s...' is too long", what, mt);
		goto cleanup;
	}
	memcpy(out, mt, strlen(mt) + 1);
cleanup:
	json_decref(j);
	return err;
}

int cnai_registry_media_is_index(const char *mt)
{
	return !strcmp(mt, CNAI_MEDIA_OCI_INDEX) ||
	       !strcmp(mt, CNAI_MEDIA_DOCKER_LIST);
}

static int skip_layer(const char *mt)
{
	/* foreign layers live elsewhere (Windows base images) */
	return strstr(mt, "nondistributable") || strstr(mt, "foreign");
}

/* An index's manifests, only the first image for `want` when given. */
static int index_refs(const json_t *doc, const struct cnai_oci_platform *want,
		      cnai_registry_ref_fn fn, void *payload)
{
	struct cnai_oci_platform have;
	struct cnai_oci_desc d;
	const json_t *e;
	int err, found = 0;
	size_t i;

	json_array_foreach(json_object_get(doc, "manifests"), i, e) {
		if ((err = cnai_oci_desc_parse(&d, e)) < 0)
			return err;
		if (want && !cnai_registry_media_is_index(d.media_type)) {
			cnai_oci_platform_read(&have, json_object_get(e, "platform"));
			if (found || !cnai_oci_platform_match(want, &have))
				continue;
			found = 1;
		}
		if ((err = fn(&d, 1, payload)) < 0)
			return err;
	}
	return 0;
}

int cnai_registry_manifest_refs(const json_t *doc, const char *media_type,
				const struct cnai_oci_platform *want,
				cnai_registry_ref_fn fn, void *payload)
{
	struct cnai_oci_desc d;
	const json_t *e;
	size_t i;
	int err;

	if (cnai_registry_media_is_index(media_type))
		return index_refs(doc, want, fn, payload);
	if ((e = json_object_get(doc, "config"))) {
		if ((err = cnai_oci_desc_parse(&d, e)) < 0 ||
		    (err = fn(&d, 0, payload)) < 0)
			return err;
	}
	json_array_foreach(json_object_get(doc, "layers"), i, e) {
		if ((err = cnai_oci_desc_parse(&d, e)) < 0)
			return err;
		if (!skip_layer(d.media_type) && (err = fn(&d, 0, payload)) < 0)
			return err;
	}
	return 0;
}
