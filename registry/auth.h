/*
 * Registry credentials and challenges, the way docker finds them:
 * $DOCKER_CONFIG/config.json (else ~/.docker/config.json) with "auths"
 * (base64 "user:password"), "credHelpers" (per registry) and "credsStore"
 * (for all), a helper being the program docker-credential-NAME run with
 * "get", the server on its stdin and JSON on its stdout. Secrets are never
 * put in an error message.
 */
#ifndef CNAI_REGISTRY_AUTH_H
#define CNAI_REGISTRY_AUTH_H

struct cnai_credentials {
	char *username;
	char *password;       /* or an identity token when username is
			       * "<token>" (docker's convention) */
};

/*
 * Credentials become an HTTP header (and the username error messages), so
 * a control character in them (a CR LF would start a header of its own)
 * is refused wherever they come from: every function below does, with
 * CNAI_EINVALID for a config file's (naming the file and entry) and
 * CNAI_ERROR for a helper's, never showing them.
 */

/* 1 when neither string has a control character (0x00-0x1f, 0x7f). */
int cnai_credentials_valid(const char *username, const char *password);

/*
 * Finds credentials for `registry` ("docker.io", "host:5000"): the
 * registry's credHelpers entry, else credsStore, else its auths entry.
 * CNAI_ENOTFOUND (no message) when there are none; CNAI_EINVALID for a
 * config file that does not parse (naming it), CNAI_ERROR when a helper
 * fails otherwise than "not found".
 */
int cnai_credentials_lookup(struct cnai_credentials *out,
			    const char *registry);

/* Frees (and zeroes the password of) the credentials. NULL-safe. */
void cnai_credentials_release(struct cnai_credentials *c);

/*
 * Runs docker-credential-`helper` get for `server`: 0 and `out` filled,
 * CNAI_ENOTFOUND when the helper has nothing, CNAI_ERROR otherwise.
 */
int cnai_credentials_from_helper(struct cnai_credentials *out,
				 const char *helper, const char *server);

/* A WWW-Authenticate challenge: Basic or Bearer with its parameters. */
struct cnai_auth_challenge {
	char scheme[16]; /* "basic", "bearer" (lowercased) */
	char *realm;
	char *service;
	char *scope;
	char *error;
};

/* Parses a WWW-Authenticate header value (the first challenge). */
int cnai_auth_challenge_parse(struct cnai_auth_challenge *out,
			      const char *header);
void cnai_auth_challenge_release(struct cnai_auth_challenge *c);

#endif
