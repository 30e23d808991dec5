/*
 * Passphrases for cosign keys. Never taken from argv (ps would show it),
 * never printed; read from the environment as cosign does, a file, or the
 * terminal with echo off. Buffers are wiped before they are freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "commands/sign/sign.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/banned.h"

void sign_passphrase_release(struct cnai_buf *b)
{
	if (b->alloc)
		sodium_memzero(b->buf, b->alloc);
	cnai_buf_release(b);
}

static int prompt(struct cnai_buf *out, int tty, const char *text)
{
	struct termios old, quiet;
	char c;
	ssize_t n;

	(void)!write(tty, text, strlen(text));
	if (tcgetattr(tty, &old) < 0)
		return cnai_error_set_errno(CNAI_EUSAGE, "terminal");
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(tty, TCSAFLUSH, &quiet);
	while ((n = read(tty, &c, 1)) == 1 && c != '\n')
		cnai_buf_addch(out, c);
	tcsetattr(tty, TCSAFLUSH, &old);
	(void)!write(tty, "\n", 1);
	return cnai_buf_oom(out);
}

int sign_passphrase(struct cnai_buf *out, const char *file, int confirm)
{
	const char *env = getenv("COSIGN_PASSWORD");
	struct cnai_buf again = CNAI_BUF_INIT;
	int tty, err;

	if (file) {
		if ((err = cnai_fs_read_file(out, file, 4096)) < 0)
			return err;
		out->len = strcspn(out->buf, "\r\n");
		out->buf[out->len] = '\0';
		return 0;
	}
	if (env)
		return cnai_buf_adds(out, env) < 0 ? cnai_buf_oom(out) : 0;
	tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (tty < 0 || !isatty(tty)) {
		if (tty >= 0)
			close(tty);
		return cnai_error_set(CNAI_EUSAGE,
				      "no passphrase: set COSIGN_PASSWORD or "
				      "use --passphrase-file");
	}
	err = prompt(out, tty, "Enter password for private key: ");
	if (!err && confirm) {
		err = prompt(&again, tty, "Enter password for private key "
					  "again: ");
		if (!err && strcmp(again.buf, out->buf))
			err = cnai_error_set(CNAI_EUSAGE,
					     "passwords do not match");
	}
	sign_passphrase_release(&again);
	close(tty);
	return err;
}

int sign_load_private(struct cnai_cosign_key **out, const char *path,
		      const char *pass_file)
{
	struct cnai_buf pem = CNAI_BUF_INIT, pass = CNAI_BUF_INIT;
	int err;

	if (!path)
		return cnai_error_set(CNAI_EUSAGE, "no key: use --key "
				      "cosign.key");
	if ((err = cnai_fs_read_file(&pem, path, 1 << 20)) < 0 ||
	    (err = sign_passphrase(&pass, pass_file, 0)) < 0)
		goto cleanup;
	err = cnai_cosign_key_decrypt(out, pem.buf, pem.len, pass.buf,
				      pass.len, path);
cleanup:
	sign_passphrase_release(&pass);
	if (pem.alloc)
		sodium_memzero(pem.buf, pem.alloc);
	cnai_buf_release(&pem);
	return err;
}

int sign_load_public(struct cnai_cosign_key **out, const char *path,
		     const char *pass_file)
{
	struct cnai_buf pem = CNAI_BUF_INIT;
	int err;

	if (!path)
		return cnai_error_set(CNAI_EUSAGE, "no key: use --key "
				      "cosign.pub");
	if ((err = cnai_fs_read_file(&pem, path, 1 << 20)) < 0)
		goto cleanup;
	if (strstr(pem.buf, "PRIVATE KEY-----"))
		err = sign_load_private(out, path, pass_file);
	else
		err = cnai_cosign_key_read_public(out, pem.buf, pem.len, path);
cleanup:
	cnai_buf_release(&pem);
	return err;
}
