/*
 * libarchive, loaded when a layer or an archive is first written, or a
 * `docker save` archive read (core/util/lazy.h). archive_set_error is printf-like: the message is
 * formatted here and handed on as "%s".
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/util/lazy.h"
#include "core/util/banned.h"

#define AR_SO "libarchive.so.13"

typedef struct archive_entry *entry_p;
typedef struct archive *archive_p;
typedef const char *cstr;

CNAI_LAZY(AR_SO, entry_p, archive_entry_new, (void), ())
CNAI_LAZY(AR_SO, entry_p, archive_entry_new2, (archive_p a), (a))
CNAI_LAZY(AR_SO, void, archive_entry_free, (entry_p e), (e))
CNAI_LAZY(AR_SO, entry_p, archive_entry_clear, (entry_p e), (e))
CNAI_LAZY(AR_SO, void, archive_entry_set_filetype, (entry_p e, unsigned int t),
	  (e, t))
CNAI_LAZY(AR_SO, void, archive_entry_set_gid, (entry_p e, la_int64_t v),
	  (e, v))
CNAI_LAZY(AR_SO, void, archive_entry_set_uid, (entry_p e, la_int64_t v),
	  (e, v))
CNAI_LAZY(AR_SO, void, archive_entry_set_mtime, (entry_p e, time_t t, long ns),
	  (e, t, ns))
CNAI_LAZY(AR_SO, void, archive_entry_set_pathname, (entry_p e, cstr s), (e, s))
CNAI_LAZY(AR_SO, void, archive_entry_set_perm, (entry_p e, __LA_MODE_T m),
	  (e, m))
CNAI_LAZY(AR_SO, void, archive_entry_set_size, (entry_p e, la_int64_t v),
	  (e, v))
CNAI_LAZY(AR_SO, void, archive_entry_set_symlink, (entry_p e, cstr s), (e, s))
CNAI_LAZY(AR_SO, cstr, archive_entry_hardlink, (entry_p e), (e))
CNAI_LAZY(AR_SO, __LA_MODE_T, archive_entry_filetype, (entry_p e), (e))
CNAI_LAZY(AR_SO, cstr, archive_entry_pathname, (entry_p e), (e))
CNAI_LAZY(AR_SO, la_int64_t, archive_entry_size, (entry_p e), (e))
CNAI_LAZY(AR_SO, cstr, archive_entry_symlink, (entry_p e), (e))
CNAI_LAZY(AR_SO, cstr, archive_error_string, (archive_p a), (a))
CNAI_LAZY(AR_SO, la_ssize_t, archive_read_data,
	  (archive_p a, void *p, size_t n), (a, p, n))
CNAI_LAZY(AR_SO, int, archive_read_free, (archive_p a), (a))
CNAI_LAZY(AR_SO, archive_p, archive_read_new, (void), ())
CNAI_LAZY(AR_SO, int, archive_read_next_header,
	  (archive_p a, struct archive_entry **e), (a, e))
CNAI_LAZY(AR_SO, int, archive_read_open_fd, (archive_p a, int fd, size_t n),
	  (a, fd, n))
CNAI_LAZY(AR_SO, int, archive_read_support_filter_gzip, (archive_p a), (a))
CNAI_LAZY(AR_SO, int, archive_read_support_format_tar, (archive_p a), (a))
CNAI_LAZY(AR_SO, int, archive_write_add_filter_none, (archive_p a), (a))
CNAI_LAZY(AR_SO, int, archive_write_close, (archive_p a), (a))
CNAI_LAZY(AR_SO, la_ssize_t, archive_write_data,
	  (archive_p a, const void *p, size_t n), (a, p, n))
CNAI_LAZY(AR_SO, int, archive_write_finish_entry, (archive_p a), (a))
CNAI_LAZY(AR_SO, int, archive_write_free, (archive_p a), (a))
CNAI_LAZY(AR_SO, int, archive_write_header, (archive_p a, entry_p e), (a, e))
CNAI_LAZY(AR_SO, archive_p, archive_write_new, (void), ())
CNAI_LAZY(AR_SO, int, archive_write_open2,
	  (archive_p a, void *c, archive_open_callback *o,
	   archive_write_callback *w, archive_close_callback *cl,
	   archive_free_callback *f),
	  (a, c, o, w, cl, f))
CNAI_LAZY(AR_SO, int, archive_write_open_filename, (archive_p a, cstr f),
	  (a, f))
CNAI_LAZY(AR_SO, int, archive_write_set_bytes_in_last_block,
	  (archive_p a, int n), (a, n))
CNAI_LAZY(AR_SO, int, archive_write_set_bytes_per_block, (archive_p a, int n),
	  (a, n))
CNAI_LAZY(AR_SO, int, archive_write_set_format_pax_restricted, (archive_p a),
	  (a))

void archive_set_error(struct archive *a, int err, const char *fmt, ...)
{
	static void (*fn)(struct archive *, int, const char *, ...);
	char msg[1024];
	va_list ap;

	if (!fn)
		*(void **)&fn = cnai_lazy_sym(AR_SO, "archive_set_error");
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn(a, err, "%s", msg);
}
