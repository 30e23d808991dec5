/*
 * Image references as docker and skopeo spell them:
 * [REGISTRY/]REPOSITORY[:TAG][@DIGEST]. The first component is a registry
 * when it has a '.' or a ':' or is "localhost"; otherwise the reference is
 * on Docker Hub ("docker.io"), where a one-component name is under
 * "library/". A reference with neither tag nor digest gets "latest".
 */
#ifndef CNAI_REGISTRY_REFERENCE_H
#define CNAI_REGISTRY_REFERENCE_H

#include "core/util/buf.h"
#include "core/util/hash.h"

#define CNAI_DOCKER_HUB "docker.io"
#define CNAI_DOCKER_HUB_API "registry-1.docker.io"
/* The key Docker Hub's credentials have in config.json and helpers. */
#define CNAI_DOCKER_HUB_AUTH_KEY "https://index.docker.io/v1/"

struct cnai_reference {
	char registry[256];   /* "docker.io", "127.0.0.1:5000", "[::1]:5000" */
	char repository[256]; /* "library/alpine", "team/model" */
	char tag[129];        /* "" when the reference has only a digest */
	char digest[CNAI_DIGEST_LEN]; /* "" when none */
};

/* Where the parts of a reference lie in its text, as written. */
struct cnai_reference_parts {
	size_t name_len;    /* [REGISTRY/]REPOSITORY: the first name_len bytes */
	const char *tag;    /* after the ':' (tag_len bytes), or NULL */
	size_t tag_len;
	const char *digest; /* after the '@' (to the end), or NULL */
};

/*
 * Splits `s` at its tag and digest without checking or normalising
 * anything (no "docker.io/library/", no "latest"): for a name the user
 * gave that is shown again with another tag or digest. The tag is after
 * the last ':' that follows the last '/' before the first '@'. The parts
 * point into `s`.
 */
void cnai_reference_split(struct cnai_reference_parts *out, const char *s);

/*
 * Parses `s` into `out`. CNAI_EINVALID naming the reference and what is
 * wrong (uppercase repository, bad tag, digest not sha256...).
 */
int cnai_reference_parse(struct cnai_reference *out, const char *s);

/* The host to talk to: "registry-1.docker.io" for docker.io, else the
 * registry itself. */
const char *cnai_reference_api_host(const struct cnai_reference *r);

/* 1 for localhost, 127.0.0.0/8 and [::1] (with or without a port): the
 * registries spoken to over plain HTTP. */
int cnai_reference_is_loopback(const char *registry);

/* Appends "registry/repository[:tag][@digest]". */
int cnai_reference_format(struct cnai_buf *out, const struct cnai_reference *r);

/* The digest if there is one, else the tag: what a manifest URL names. */
const char *cnai_reference_object(const struct cnai_reference *r);

#endif
