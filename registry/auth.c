/*
 * Credentials from docker's config.json and credential helpers, and the
 * parsing of WWW-Authenticate challenges (RFC 7235 auth-params: quoted or
 * token values, comma separated).
 */
#include "registry/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "registry/reference.h"
#include "core/util/banned.h"

enum { CONFIG_LIMIT = 1 << 20, HELPER_LIMIT = 1 << 16 };

static void wipe(char *s)
{
	volatile char *p = s;

	while (p && *p)
		*p++ = '\0';
}

void cnai_credentials_release(struct cnai_credentials *c)
{
	if (!c)
		return;
	wipe(c->password);
	free(c->username);
	free(c->password);
	c->username = c->password = NULL;
}

/* 1 if the `n` bytes at `s` hold a control character (NUL included). */
static int has_control(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

int cnai_credentials_valid(const char *username, const char *password)
{
	return !has_control(username, strlen(username)) &&
	       !has_control(password, strlen(password));
}

/*
 * Copies a username and password found in `what` (a config file's entry,
 * a helper). Credentials become HTTP headers and error messages: a
 * control character in them is refused with `code` (the source's fault),
 * and the message never shows them.
 */
static int set_creds(struct cnai_credentials *out, const char *user,
		     size_t ulen, const char *pass, size_t plen, int code,
		     const char *what)
{
	if (has_control(user, ulen) || has_control(pass, plen))
		return cnai_error_set(code, "%s: the credentials have control "
				      "characters", what);
	out->username = strndup(user, ulen);
	out->password = strndup(pass, plen);
	if (!out->username || !out->password) {
		cnai_credentials_release(out);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	return 0;
}

/* "https://host:5000/v1/" -> "host:5000"; Docker Hub's names -> docker.io */
static void key_host(char *out, size_t cap, const char *key)
{
	const char *p = strstr(key, "://");
	size_t n;

	p = p ? p + 3 : key;
	n = strcspn(p, "/");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	if (!strcmp(out, "index.docker.io") ||
	    !strcmp(out, "registry-1.docker.io"))
		snprintf(out, cap, "%s", CNAI_DOCKER_HUB);
}

static const char *server_name(const char *registry)
{
	return strcmp(registry, CNAI_DOCKER_HUB) ? registry :
						   CNAI_DOCKER_HUB_AUTH_KEY;
}

static int config_path(struct cnai_buf *out)
{
	const char *d = getenv("DOCKER_CONFIG"), *home = getenv("HOME");

	if (d && *d)
		cnai_buf_addf(out, "%s/config.json", d);
	else if (home && *home)
		cnai_buf_addf(out, "%s/.docker/config.json", home);
	else
		return CNAI_ENOTFOUND;
	return cnai_buf_oom(out);
}

/* `what` is "PATH: auths 'KEY'", for messages. */
static int from_auth_field(struct cnai_credentials *out, const char *b64,
			   const char *what)
{
	size_t len = strlen(b64), dlen;
	unsigned char *dec;
	char *colon;
	int n, err;

	if (!len || len % 4)
		return cnai_error_set(CNAI_EINVALID, "%s: \"auth\" is not "
				      "base64", what);
	if (!(dec = malloc(len / 4 * 3 + 1)))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	n = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)len);
	if (n < 0) {
		free(dec);
		return cnai_error_set(CNAI_EINVALID, "%s: \"auth\" is not "
				      "base64", what);
	}
	dlen = (size_t)n;
	if (b64[len - 1] == '=')
		dlen--;
	if (b64[len - 2] == '=')
		dlen--;
	dec[dlen] = '\0';
	colon = memchr(dec, ':', dlen);
	if (!colon) {
		wipe((char *)dec);
		free(dec);
		return cnai_error_set(CNAI_EINVALID, "%s: \"auth\" is not "
				      "user:password", what);
	}
	err = set_creds(out, (char *)dec, (size_t)(colon - (char *)dec),
			colon + 1, dlen - (size_t)(colon + 1 - (char *)dec),
			CNAI_EINVALID, what);
	memset(dec, 0, dlen);
	free(dec);
	return err;
}

/* An auths entry's credentials: "auth", else "identitytoken", else
 * "username" and "password". */
static int from_auths_entry(struct cnai_credentials *out, const json_t *v,
			    const char *what)
{
	const json_t *a = json_object_get(v, "auth");
	const json_t *tok = json_object_get(v, "identitytoken");
	const json_t *u = json_object_get(v, "username");
	const json_t *p = json_object_get(v, "password");

	if (json_string_length(a))
		return from_auth_field(out, json_string_value(a), what);
	if (json_string_length(tok))
		return set_creds(out, "<token>", 7, json_string_value(tok),
				 json_string_length(tok), CNAI_EINVALID, what);
	if (json_is_string(u) && json_is_string(p))
		return set_creds(out, json_string_value(u),
				 json_string_length(u), json_string_value(p),
				 json_string_length(p), CNAI_EINVALID, what);
	return CNAI_ENOTFOUND;
}

static int from_auths(struct cnai_credentials *out, json_t *auths,
		      const char *registry, const char *path)
{
	const char *key;
	json_t *v;
	char host[256];

	json_object_foreach(auths, key, v) {
		struct cnai_buf what = CNAI_BUF_INIT;
		int err;

		key_host(host, sizeof(host), key);
		if (strcmp(host, registry))
			continue;
		if (cnai_buf_addf(&what, "%s: auths '%s'", path, key) < 0)
			err = cnai_buf_oom(&what);
		else
			err = from_auths_entry(out, v, what.buf);
		cnai_buf_release(&what);
		if (err != CNAI_ENOTFOUND)
			return err;
	}
	return CNAI_ENOTFOUND;
}

int cnai_credentials_lookup(struct cnai_credentials *out,
			    const char *registry)
{
	struct cnai_buf path = CNAI_BUF_INIT, data = CNAI_BUF_INIT;
	json_t *cfg = NULL, *helpers, *v;
	const char *helper = NULL, *key;
	json_error_t jerr;
	char host[256];
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = config_path(&path)) < 0)
		goto cleanup;
	if (!cnai_fs_exists(path.buf)) {
		err = CNAI_ENOTFOUND;
		goto cleanup;
	}
	if ((err = cnai_fs_read_file(&data, path.buf, CONFIG_LIMIT)) < 0)
		goto cleanup;
	if (!(cfg = json_loadb(data.buf, data.len, 0, &jerr))) {
		err = cnai_error_set(CNAI_EINVALID, "%s:%d: %s", path.buf,
				     jerr.line, jerr.text);
		goto cleanup;
	}
	helpers = json_object_get(cfg, "credHelpers");
	json_object_foreach(helpers, key, v) {
		key_host(host, sizeof(host), key);
		if (!strcmp(host, registry) && json_string_value(v))
			helper = json_string_value(v);
	}
	if (!helper)
		helper = json_string_value(json_object_get(cfg, "credsStore"));
	if (helper && *helper) {
		err = cnai_credentials_from_helper(out, helper,
						   server_name(registry));
		if (err != CNAI_ENOTFOUND)
			goto cleanup;
	}
	err = from_auths(out, json_object_get(cfg, "auths"), registry,
			 path.buf);
cleanup:
	json_decref(cfg);
	if (data.len)
		wipe(data.buf);
	cnai_buf_release(&path);
	cnai_buf_release(&data);
	return err;
}

/* send(2) with MSG_NOSIGNAL: a helper that exits unread is no SIGPIPE. */
static int send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int cnai_credentials_from_helper(struct cnai_credentials *out,
				 const char *helper, const char *server)
{
	struct cnai_buf prog = CNAI_BUF_INIT, res = CNAI_BUF_INIT;
	char what[300];
	int in[2] = { -1, -1 }, outp[2] = { -1, -1 }, status, err = 0;
	json_t *j = NULL;
	char chunk[4096];
	pid_t pid;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	res.limit = HELPER_LIMIT;
	if (strchr(helper, '/'))
		return cnai_error_set(CNAI_EINVALID, "credential helper '%s': "
				      "a name, not a path", helper);
	if (cnai_buf_addf(&prog, "docker-credential-%s", helper) < 0)
		return cnai_buf_oom(&prog);
	snprintf(what, sizeof(what), "credential helper '%.250s'", prog.buf);
	/* stdin is a socket so that writing to it never raises SIGPIPE */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0 ||
	    pipe2(outp, O_CLOEXEC) < 0) {
		err = cnai_error_set_errno(CNAI_ERROR, "pipe");
		goto cleanup;
	}
	pid = fork();
	if (pid < 0) {
		err = cnai_error_set_errno(CNAI_ERROR, "fork");
		goto cleanup;
	}
	if (pid == 0) {
		char *argv[] = { prog.buf, "get", NULL };
		int devnull = open("/dev/null", O_WRONLY);

		dup2(in[0], 0);
		dup2(outp[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2); /* helpers' chatter is not ours */
		execvp(prog.buf, argv);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	in[0] = outp[1] = -1;
	send_all(in[1], server, strlen(server));
	close(in[1]);
	in[1] = -1;
	while ((n = read(outp[0], chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || cnai_buf_add(&res, chunk, (size_t)n) < 0)
			break;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !res.len) {
		err = cnai_error_set(CNAI_ERROR, "credential helper '%s' is "
				     "not installed (config.json names it)",
				     prog.buf);
		goto cleanup;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* helpers answer "credentials not found..." on stdout */
		if (strstr(res.buf, "not found"))
			err = CNAI_ENOTFOUND;
		else
			err = cnai_error_set(CNAI_ERROR, "credential helper "
					     "'%s' failed for '%s'", prog.buf,
					     server);
		goto cleanup;
	}
	if (!(j = json_loadb(res.buf, res.len, 0, NULL)) ||
	    !json_string_value(json_object_get(j, "Username")) ||
	    !json_string_value(json_object_get(j, "Secret"))) {
		err = cnai_error_set(CNAI_ERROR, "credential helper '%s' "
				     "answered something else than "
				     "{Username, Secret}", prog.buf);
		goto cleanup;
	}
	{
		const json_t *u = json_object_get(j, "Username");
		const json_t *s = json_object_get(j, "Secret");

		err = set_creds(out, json_string_value(u),
				json_string_length(u), json_string_value(s),
				json_string_length(s), CNAI_ERROR, what);
	}
cleanup:
	if (in[0] >= 0)
		close(in[0]);
	if (in[1] >= 0)
		close(in[1]);
	if (outp[0] >= 0)
		close(outp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	json_decref(j);
	if (res.len)
		wipe(res.buf);
	cnai_buf_release(&res);
	cnai_buf_release(&prog);
	return err;
}

/* ---- challenges ---- */

void cnai_auth_challenge_release(struct cnai_auth_challenge *c)
{
	if (!c)
		return;
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

int cnai_auth_challenge_parse(struct cnai_auth_challenge *out,
			      const char *header)
{
	const char *p = header;
	size_t n, i;

	memset(out, 0, sizeof(*out));
	while (*p == ' ' || *p == '\t')
		p++;
	n = strcspn(p, " \t");
	if (!n || n >= sizeof(out->scheme))
		return cnai_error_set(CNAI_EINVALID, "WWW-Authenticate '%s': "
				      "no scheme", header);
	for (i = 0; i < n; i++)
		out->scheme[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ?
						p[i] - 'A' + 'a' : p[i]);
	p += n;
	for (;;) {
		struct cnai_buf val = CNAI_BUF_INIT;
		const char *name;
		size_t nlen;
		char **slot = NULL;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		name = p;
		nlen = strcspn(p, "= \t,");
		p += nlen;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=')
			break; /* another challenge, or junk: stop */
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				cnai_buf_addch(&val, *p);
			}
			if (*p == '"')
				p++;
		} else {
			n = strcspn(p, ", \t");
			cnai_buf_add(&val, p, n);
			p += n;
		}
		if (cnai_buf_oom(&val) < 0) {
			cnai_auth_challenge_release(out);
			return CNAI_ERROR;
		}
		if (nlen == 5 && !strncasecmp(name, "realm", 5))
			slot = &out->realm;
		else if (nlen == 7 && !strncasecmp(name, "service", 7))
			slot = &out->service;
		else if (nlen == 5 && !strncasecmp(name, "scope", 5))
			slot = &out->scope;
		else if (nlen == 5 && !strncasecmp(name, "error", 5))
			slot = &out->error;
		if (slot) {
			free(*slot);
			*slot = cnai_buf_detach(&val);
		}
		cnai_buf_release(&val);
	}
	return 0;
}
