/*
 * Reference parsing, after distribution/reference's grammar (simplified:
 * components are checked for their characters, not their every rule).
 */
#include "registry/reference.h"

#include <string.h>

#include "core/util/error.h"
#include "core/util/banned.h"

static int bad(const char *s, const char *why)
{
	return cnai_error_set(CNAI_EINVALID, "image reference '%s': %s", s,
			      why);
}

static int repo_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == '-' || c == '/';
}

static int tag_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static int is_registry(const char *first, size_t len)
{
	return memchr(first, '.', len) || memchr(first, ':', len) ||
	       (len == 9 && !memcmp(first, "localhost", 9)) ||
	       memchr(first, '[', len);
}

void cnai_reference_split(struct cnai_reference_parts *out, const char *s)
{
	const char *at = strchr(s, '@'), *end = at ? at : s + strlen(s);
	const char *colon = NULL, *p;

	for (p = s; p < end; p++) {
		if (*p == '/')
			colon = NULL;
		else if (*p == ':')
			colon = p;
	}
	out->name_len = (size_t)((colon ? colon : end) - s);
	out->tag = colon ? colon + 1 : NULL;
	out->tag_len = colon ? (size_t)(end - colon - 1) : 0;
	out->digest = at ? at + 1 : NULL;
}

int cnai_reference_parse(struct cnai_reference *out, const char *s)
{
	const char *at = strchr(s, '@'), *name = s, *slash, *colon, *end;
	struct cnai_reference_parts parts;
	size_t len, i;

	memset(out, 0, sizeof(*out));
	if (!*s)
		return bad(s, "empty");
	end = at ? at : s + strlen(s);
	if (at) {
		if (!cnai_digest_is_valid(at + 1))
			return bad(s, "the digest is not sha256:<64 hex>");
		memcpy(out->digest, at + 1, CNAI_DIGEST_LEN);
	}
	slash = memchr(s, '/', (size_t)(end - s));
	if (slash && is_registry(s, (size_t)(slash - s))) {
		len = (size_t)(slash - s);
		if (len >= sizeof(out->registry))
			return bad(s, "the registry name is too long");
		memcpy(out->registry, s, len);
		name = slash + 1;
	} else {
		memcpy(out->registry, CNAI_DOCKER_HUB, sizeof(CNAI_DOCKER_HUB));
	}
	if (!strcmp(out->registry, "index.docker.io") ||
	    !strcmp(out->registry, "registry-1.docker.io"))
		memcpy(out->registry, CNAI_DOCKER_HUB, sizeof(CNAI_DOCKER_HUB));
	/* the registry has no '/', so the split finds the tag in `name` */
	cnai_reference_split(&parts, s);
	colon = parts.tag ? parts.tag - 1 : NULL;
	if (colon) {
		len = (size_t)(end - colon - 1);
		if (!len || len > 128)
			return bad(s, "the tag is empty or over 128 "
				   "characters");
		for (i = 0; i < len; i++)
			if (!tag_char(colon[1 + i]))
				return bad(s, "the tag has a character other "
					   "than A-Z a-z 0-9 . _ -");
		if (colon[1] == '.' || colon[1] == '-')
			return bad(s, "the tag starts with '.' or '-'");
		memcpy(out->tag, colon + 1, len);
		end = colon;
	}
	len = (size_t)(end - name);
	if (!len)
		return bad(s, "no repository");
	if (!strcmp(out->registry, CNAI_DOCKER_HUB) &&
	    !memchr(name, '/', len)) {
		if (len + 8 >= sizeof(out->repository))
			return bad(s, "the repository name is too long");
		memcpy(out->repository, "library/", 8);
		memcpy(out->repository + 8, name, len);
	} else {
		if (len >= sizeof(out->repository))
			return bad(s, "the repository name is too long");
		memcpy(out->repository, name, len);
	}
	for (i = 0; out->repository[i]; i++) {
		char c = out->repository[i], n = out->repository[i + 1];

		if (!repo_char(c))
			return bad(s, "the repository has a character other "
				   "than a-z 0-9 . _ - /");
		if (c == '/' && (n == '/' || n == '\0' || i == 0))
			return bad(s, "the repository has an empty component");
	}
	if (!out->tag[0] && !out->digest[0])
		memcpy(out->tag, "latest", 7);
	return 0;
}

const char *cnai_reference_api_host(const struct cnai_reference *r)
{
	return strcmp(r->registry, CNAI_DOCKER_HUB) ? r->registry :
						      CNAI_DOCKER_HUB_API;
}

int cnai_reference_is_loopback(const char *registry)
{
	size_t n = strcspn(registry, ":");

	if (!strncmp(registry, "[::1]", 5))
		return 1;
	if (n == 9 && !strncmp(registry, "localhost", 9))
		return 1;
	return !strncmp(registry, "127.", 4);
}

int cnai_reference_format(struct cnai_buf *out, const struct cnai_reference *r)
{
	cnai_buf_addf(out, "%s/%s", r->registry, r->repository);
	if (r->tag[0])
		cnai_buf_addf(out, ":%s", r->tag);
	if (r->digest[0])
		cnai_buf_addf(out, "@%s", r->digest);
	return cnai_buf_oom(out);
}

const char *cnai_reference_object(const struct cnai_reference *r)
{
	return r->digest[0] ? r->digest : r->tag;
}
