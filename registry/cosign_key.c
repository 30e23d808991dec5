/*
 * cosign keys with OpenSSL (EC/RSA, PKCS#8, scrypt, PEM) and libsodium
 * (NaCl secretbox, base64). Layout of the sealed box: libsodium's
 * crypto_secretbox_easy writes tag || ciphertext, which is what Go's
 * secretbox.Seal writes, so files move between cosign and cnai unchanged.
 */
#include "registry/cosign_key.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/error.h"
#include "core/util/banned.h"

enum { SALT_SIZE = 32, BOX_KEY_SIZE = 32, BOX_NONCE_SIZE = 24 };

struct cnai_cosign_key {
	EVP_PKEY *pkey;
};

static int sodium_ready(void)
{
	if (sodium_init() < 0)
		return cnai_error_set(CNAI_ERROR, "libsodium: cannot "
				      "initialise");
	return 0;
}

int cnai_base64_encode(struct cnai_buf *out, const void *data, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len,
					     sodium_base64_VARIANT_ORIGINAL);

	if (cnai_buf_grow(out, n) < 0)
		return cnai_buf_oom(out);
	sodium_bin2base64(out->buf + out->len, n, data, len,
			  sodium_base64_VARIANT_ORIGINAL);
	out->len += strlen(out->buf + out->len);
	return 0;
}

int cnai_base64_decode(struct cnai_buf *out, const char *text, size_t len)
{
	size_t n = 0;

	if (cnai_buf_grow(out, len) < 0)
		return cnai_buf_oom(out);
	if (sodium_base642bin((unsigned char *)out->buf + out->len, len, text,
			      len, " \t\r\n", &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return cnai_error_set(CNAI_EINVALID, "invalid base64");
	out->len += n;
	out->buf[out->len] = '\0';
	return 0;
}

void cnai_cosign_key_free(struct cnai_cosign_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

static int wrap(struct cnai_cosign_key **out, EVP_PKEY *pkey)
{
	if (!(*out = calloc(1, sizeof(**out)))) {
		EVP_PKEY_free(pkey);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	(*out)->pkey = pkey;
	return 0;
}

int cnai_cosign_key_generate(struct cnai_cosign_key **out)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");

	*out = NULL;
	if (!pkey)
		return cnai_error_set(CNAI_ERROR, "cannot generate a P-256 "
				      "key");
	return wrap(out, pkey);
}

/* PEM armour: 64-character base64 lines between BEGIN and END. */
static int pem_wrap(struct cnai_buf *pem, const char *type, const void *data,
		    size_t len)
{
	struct cnai_buf b64 = CNAI_BUF_INIT;
	size_t i;
	int err;

	if ((err = cnai_base64_encode(&b64, data, len)) < 0)
		return err;
	cnai_buf_addf(pem, "-----BEGIN %s-----\n", type);
	for (i = 0; i < b64.len; i += 64) {
		cnai_buf_add(pem, b64.buf + i, b64.len - i < 64 ? b64.len - i
								 : 64);
		cnai_buf_addch(pem, '\n');
	}
	cnai_buf_addf(pem, "-----END %s-----\n", type);
	cnai_buf_release(&b64);
	return cnai_buf_oom(pem);
}

/* Finds the first PEM block; type and decoded body out. */
static int pem_unwrap(struct cnai_buf *type, struct cnai_buf *body,
		      const char *pem, size_t len, const char *name)
{
	const char *begin = memmem(pem, len, "-----BEGIN ", 11), *t, *end;
	struct cnai_buf endline = CNAI_BUF_INIT;
	int err;

	if (!begin)
		return cnai_error_set(CNAI_EINVALID, "%s: not a PEM file", name);
	t = begin + 11;
	end = memmem(t, len - (size_t)(t - pem), "-----", 5);
	if (!end || end - t > 64)
		return cnai_error_set(CNAI_EINVALID, "%s: malformed PEM header",
				      name);
	cnai_buf_add(type, t, (size_t)(end - t));
	cnai_buf_addf(&endline, "-----END %s-----", type->buf);
	t = end + 5;
	end = memmem(t, len - (size_t)(t - pem), endline.buf, endline.len);
	cnai_buf_release(&endline);
	if (!end)
		return cnai_error_set(CNAI_EINVALID,
				      "%s: truncated PEM (no END line)", name);
	if ((err = cnai_base64_decode(body, t, (size_t)(end - t))) < 0)
		return cnai_error_set(CNAI_EINVALID, "%s: PEM body is not "
				      "valid base64", name);
	return 0;
}

static int pkcs8_der(struct cnai_buf *out, EVP_PKEY *pkey)
{
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pkey);
	unsigned char *der = NULL;
	int n = 0, err = 0;

	if (!p8 || (n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) <= 0)
		err = cnai_error_set(CNAI_ERROR, "cannot encode the private "
				     "key");
	else if (cnai_buf_add(out, der, (size_t)n) < 0)
		err = cnai_buf_oom(out);
	if (der) {
		OPENSSL_cleanse(der, (size_t)n);
		OPENSSL_free(der);
	}
	PKCS8_PRIV_KEY_INFO_free(p8);
	return err;
}

static int scrypt_key(unsigned char key[BOX_KEY_SIZE], const char *pass,
		      size_t pass_len, const unsigned char *salt,
		      size_t salt_len, uint64_t n, uint64_t r, uint64_t p)
{
	/* scrypt needs 128 * r * N (+ p) bytes; allow that much, no more. */
	uint64_t maxmem = 128 * r * n + 128 * r * p + (1 << 20);

	if (EVP_PBE_scrypt(pass ? pass : "", pass_len, salt, salt_len, n, r,
			   p, maxmem, key, BOX_KEY_SIZE) != 1)
		return cnai_error_set(CNAI_ERROR, "scrypt failed");
	return 0;
}

int cnai_cosign_key_encrypt(struct cnai_buf *pem,
			    const struct cnai_cosign_key *k,
			    const char *passphrase, size_t pass_len,
			    long scrypt_n, int legacy)
{
	struct cnai_buf der = CNAI_BUF_INIT, sealed = CNAI_BUF_INIT,
			b_salt = CNAI_BUF_INIT, b_nonce = CNAI_BUF_INIT,
			b_ct = CNAI_BUF_INIT;
	unsigned char salt[SALT_SIZE], nonce[BOX_NONCE_SIZE],
		key[BOX_KEY_SIZE];
	char *text = NULL;
	json_t *doc = NULL;
	int err;

	if (scrypt_n <= 0)
		scrypt_n = CNAI_COSIGN_SCRYPT_N;
	if ((err = sodium_ready()) < 0 || (err = pkcs8_der(&der, k->pkey)) < 0)
		goto cleanup;
	randombytes_buf(salt, sizeof(salt));
	randombytes_buf(nonce, sizeof(nonce));
	if ((err = scrypt_key(key, passphrase, pass_len, salt, sizeof(salt),
			      (uint64_t)scrypt_n, 8, 1)) < 0)
		goto cleanup;
	if (cnai_buf_grow(&sealed, der.len + crypto_secretbox_MACBYTES) < 0) {
		err = cnai_buf_oom(&sealed);
		goto cleanup;
	}
	crypto_secretbox_easy((unsigned char *)sealed.buf,
			      (const unsigned char *)der.buf, der.len, nonce,
			      key);
	sealed.len = der.len + crypto_secretbox_MACBYTES;
	if ((err = cnai_base64_encode(&b_salt, salt, sizeof(salt))) < 0 ||
	    (err = cnai_base64_encode(&b_nonce, nonce, sizeof(nonce))) < 0 ||
	    (err = cnai_base64_encode(&b_ct, sealed.buf, sealed.len)) < 0)
		goto cleanup;
	doc = json_pack("{s:{s:s, s:{s:I, s:i, s:i}, s:s}, s:{s:s, s:s}, s:s}",
			"kdf", "name", "scrypt", "params", "N",
			(json_int_t)scrypt_n, "r", 8, "p", 1, "salt",
			b_salt.buf, "cipher", "name", "nacl/secretbox", "nonce",
			b_nonce.buf, "ciphertext", b_ct.buf);
	if (!doc || !(text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	err = pem_wrap(pem, legacy ? CNAI_COSIGN_PEM_TYPE_LEGACY
				   : CNAI_COSIGN_PEM_TYPE,
		       text, strlen(text));
cleanup:
	sodium_memzero(key, sizeof(key));
	if (der.alloc)
		sodium_memzero(der.buf, der.alloc);
	cnai_buf_release(&der);
	cnai_buf_release(&sealed);
	cnai_buf_release(&b_salt);
	cnai_buf_release(&b_nonce);
	cnai_buf_release(&b_ct);
	json_decref(doc);
	free(text);
	return err;
}

/* A base64 field of exactly `want` bytes (0: any length). */
static int b64_field(struct cnai_buf *out, json_t *obj, const char *field,
		     size_t want, const char *name)
{
	const char *s = json_string_value(json_object_get(obj, field));

	if (!s || cnai_base64_decode(out, s, strlen(s)) < 0 ||
	    (want && out->len != want))
		return cnai_error_set(CNAI_EINVALID, "%s: bad '%s' in the "
				      "encrypted key", name, field);
	return 0;
}

static int check_scrypt(json_int_t n, json_int_t r, json_int_t p,
			const char *name)
{
	if (n < 2 || n > CNAI_COSIGN_SCRYPT_N_MAX || (n & (n - 1)) ||
	    r < 1 || r > 32 || p < 1 || p > 16 ||
	    (uint64_t)n * (uint64_t)r * 128 > ((uint64_t)1 << 30))
		return cnai_error_set(CNAI_EINVALID,
				      "%s: scrypt parameters out of range "
				      "(N=%lld, r=%lld, p=%lld; N must be a "
				      "power of two up to 2^20)", name,
				      (long long)n, (long long)r, (long long)p);
	return 0;
}

int cnai_cosign_key_decrypt(struct cnai_cosign_key **out, const char *pem,
			    size_t len, const char *passphrase,
			    size_t pass_len, const char *name)
{
	struct cnai_buf type = CNAI_BUF_INIT, body = CNAI_BUF_INIT,
			salt = CNAI_BUF_INIT, nonce = CNAI_BUF_INIT,
			ct = CNAI_BUF_INIT, der = CNAI_BUF_INIT;
	unsigned char key[BOX_KEY_SIZE];
	json_t *doc = NULL, *kdf, *params, *cipher;
	const unsigned char *p;
	EVP_PKEY *pkey = NULL;
	json_error_t jerr;
	int err;

	*out = NULL;
	if ((err = sodium_ready()) < 0 ||
	    (err = pem_unwrap(&type, &body, pem, len, name)) < 0)
		goto cleanup;
	if (strcmp(type.buf, CNAI_COSIGN_PEM_TYPE) &&
	    strcmp(type.buf, CNAI_COSIGN_PEM_TYPE_LEGACY)) {
		err = cnai_error_set(CNAI_EINVALID,
				     "%s: PEM type '%s' is not an encrypted "
				     "cosign key ('%s')", name, type.buf,
				     CNAI_COSIGN_PEM_TYPE);
		goto cleanup;
	}
	if (!(doc = json_loadb(body.buf, body.len, 0, &jerr))) {
		err = cnai_error_set(CNAI_EINVALID, "%s: the key is not valid "
				     "JSON: %s", name, jerr.text);
		goto cleanup;
	}
	kdf = json_object_get(doc, "kdf");
	params = json_object_get(kdf, "params");
	cipher = json_object_get(doc, "cipher");
	if (strcmp(json_string_value(json_object_get(kdf, "name")) ?: "",
		   "scrypt") ||
	    strcmp(json_string_value(json_object_get(cipher, "name")) ?: "",
		   "nacl/secretbox") ||
	    !json_is_integer(json_object_get(params, "N")) ||
	    !json_is_integer(json_object_get(params, "r")) ||
	    !json_is_integer(json_object_get(params, "p"))) {
		err = cnai_error_set(CNAI_EINVALID,
				     "%s: unsupported key encryption (expected "
				     "scrypt and nacl/secretbox)", name);
		goto cleanup;
	}
	if ((err = check_scrypt(json_integer_value(json_object_get(params, "N")),
				json_integer_value(json_object_get(params, "r")),
				json_integer_value(json_object_get(params, "p")),
				name)) < 0 ||
	    (err = b64_field(&salt, kdf, "salt", 0, name)) < 0 ||
	    (err = b64_field(&nonce, cipher, "nonce", BOX_NONCE_SIZE, name)) <
		    0 ||
	    (err = b64_field(&ct, doc, "ciphertext", 0, name)) < 0)
		goto cleanup;
	/* An empty salt would give every key with this passphrase one key. */
	if (!salt.len) {
		err = cnai_error_set(CNAI_EINVALID, "%s: the scrypt salt in "
				     "the encrypted key is empty", name);
		goto cleanup;
	}
	if (ct.len < crypto_secretbox_MACBYTES) {
		err = cnai_error_set(CNAI_EINVALID, "%s: ciphertext too short",
				     name);
		goto cleanup;
	}
	if ((err = scrypt_key(key, passphrase, pass_len,
			      (unsigned char *)salt.buf, salt.len,
			      (uint64_t)json_integer_value(
				      json_object_get(params, "N")),
			      (uint64_t)json_integer_value(
				      json_object_get(params, "r")),
			      (uint64_t)json_integer_value(
				      json_object_get(params, "p")))) < 0)
		goto cleanup;
	if (cnai_buf_grow(&der, ct.len) < 0) {
		err = cnai_buf_oom(&der);
		goto cleanup;
	}
	if (crypto_secretbox_open_easy((unsigned char *)der.buf,
				       (unsigned char *)ct.buf, ct.len,
				       (unsigned char *)nonce.buf, key) != 0) {
		err = cnai_error_set(CNAI_EINVALID,
				     "incorrect passphrase for %s", name);
		goto cleanup;
	}
	der.len = ct.len - crypto_secretbox_MACBYTES;
	p = (const unsigned char *)der.buf;
	if (!(pkey = d2i_AutoPrivateKey(NULL, &p, (long)der.len))) {
		err = cnai_error_set(CNAI_EINVALID,
				     "%s: the decrypted key is not PKCS#8",
				     name);
		goto cleanup;
	}
	err = wrap(out, pkey);
cleanup:
	sodium_memzero(key, sizeof(key));
	if (der.alloc)
		sodium_memzero(der.buf, der.alloc);
	json_decref(doc);
	cnai_buf_release(&type);
	cnai_buf_release(&body);
	cnai_buf_release(&salt);
	cnai_buf_release(&nonce);
	cnai_buf_release(&ct);
	cnai_buf_release(&der);
	return err;
}

int cnai_cosign_key_import(struct cnai_cosign_key **out, const char *pem,
			   size_t len, const char *name)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL,
						       (void *)"")
			     : NULL;

	*out = NULL;
	BIO_free(bio);
	if (!pkey)
		return cnai_error_set(CNAI_EINVALID,
				      "%s: not an unencrypted PEM private key "
				      "(PKCS#8, SEC1 EC or PKCS#1 RSA)", name);
	if (EVP_PKEY_base_id(pkey) != EVP_PKEY_EC &&
	    EVP_PKEY_base_id(pkey) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pkey);
		return cnai_error_set(CNAI_EINVALID, "%s: only EC and RSA keys "
				      "are supported", name);
	}
	return wrap(out, pkey);
}

int cnai_cosign_key_read_public(struct cnai_cosign_key **out, const char *pem,
				size_t len, const char *name)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)
			     : NULL;

	*out = NULL;
	BIO_free(bio);
	if (!pkey)
		return cnai_error_set(CNAI_EINVALID,
				      "%s: not a PEM public key (PUBLIC KEY)",
				      name);
	return wrap(out, pkey);
}

int cnai_cosign_key_public_pem(struct cnai_buf *pem,
			       const struct cnai_cosign_key *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int err = 0;

	if (!bio || PEM_write_bio_PUBKEY(bio, key->pkey) != 1)
		err = cnai_error_set(CNAI_ERROR, "cannot encode the public "
				     "key");
	else if ((n = BIO_get_mem_data(bio, &data)) > 0 &&
		 cnai_buf_add(pem, data, (size_t)n) < 0)
		err = cnai_buf_oom(pem);
	BIO_free(bio);
	return err;
}

int cnai_cosign_key_fingerprint(char out[65], const struct cnai_cosign_key *key)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char *der = NULL, md[32];
	int n = i2d_PUBKEY(key->pkey, &der), i;

	if (n <= 0)
		return cnai_error_set(CNAI_ERROR, "cannot encode the public "
				      "key");
	EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL);
	OPENSSL_free(der);
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

int cnai_cosign_sign(struct cnai_buf *sig, const struct cnai_cosign_key *key,
		     const void *data, size_t len)
{
	unsigned char md[32];

	EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL);
	return cnai_cosign_sign_digest(sig, key, md);
}

int cnai_cosign_sign_digest(struct cnai_buf *sig,
			    const struct cnai_cosign_key *key,
			    const unsigned char digest[32])
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key->pkey, NULL);
	size_t n = 0;
	int err = 0;

	if (!ctx || EVP_PKEY_sign_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1 ||
	    EVP_PKEY_sign(ctx, NULL, &n, digest, 32) != 1 ||
	    cnai_buf_grow(sig, n) < 0 ||
	    EVP_PKEY_sign(ctx, (unsigned char *)sig->buf + sig->len, &n,
			  digest, 32) != 1)
		err = cnai_error_set(CNAI_ERROR, "signing failed");
	else {
		sig->len += n;
		sig->buf[sig->len] = '\0';
	}
	EVP_PKEY_CTX_free(ctx);
	return err;
}

int cnai_cosign_verify_digest(const struct cnai_cosign_key *key,
			      const unsigned char digest[32], const void *sig,
			      size_t sig_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key->pkey, NULL);
	int ok = ctx && EVP_PKEY_verify_init(ctx) == 1 &&
		 EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
		 EVP_PKEY_verify(ctx, sig, sig_len, digest, 32) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : cnai_error_set(CNAI_ECHECK, "signature does not "
				       "verify");
}

int cnai_cosign_verify(const struct cnai_cosign_key *key, const void *data,
		       size_t len, const void *sig, size_t sig_len)
{
	unsigned char md[32];

	EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL);
	return cnai_cosign_verify_digest(key, md, sig, sig_len);
}
