/*
 * Image layers: reproducible tar archives (libarchive), compressed by us
 * while the sha256 of the tar (the diff_id) and of the compressed stream
 * (the digest) are computed in the same single pass; the layer is never
 * re-read to hash it.
 *
 * Same inputs, same bytes: entries sorted by path with their parent
 * folders emitted, owner 0:0 with empty user and group names, every mtime
 * the caller's epoch (SOURCE_DATE_EPOCH or 0), pax-restricted format (plain
 * ustar headers, pax records only where ustar cannot say it, e.g. paths over
 * 100 bytes or files over 8 GiB), gzip header without name or time.
 *
 * Parallelism: gzip is compressed pigz-style. The tar is cut into blocks of
 * `block_size` bytes, each deflated on a worker thread, primed with the 32
 * KiB before it and ended on a byte boundary, so the blocks join into ONE
 * ordinary gzip member (the CRC is combined). A single 1 GiB weight file
 * uses every core this way, which building several layers at once would
 * not. A block that three deflated samples show to be incompressible is
 * stored (level 0) instead: deflate spends as long searching random bytes
 * as text, for no gain. The bytes depend on the block size and level,
 * never on the number of threads. zstd uses libzstd's own workers (always at least one, which
 * makes its output the same whatever the count).
 */
#ifndef CNAI_REGISTRY_LAYER_H
#define CNAI_REGISTRY_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "core/util/hash.h"

#define CNAI_MEDIA_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define CNAI_MEDIA_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define CNAI_MEDIA_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"

enum cnai_layer_compression {
	CNAI_LAYER_GZIP = 0,
	CNAI_LAYER_ZSTD,
	CNAI_LAYER_NONE,
};

/*
 * One file, folder or symbolic link of a layer:
 *  - a file: `src` names the file to copy, `link` is NULL;
 *  - a folder: `src` and `link` NULL (parents of every path are added
 *    anyway; list one only to give it another mode or to keep it empty);
 *  - a symbolic link: `link` is its target, `src` NULL.
 * `path` is the path in the image ("/models/digits/model.onnx"; a leading
 * "/" or "./" is dropped, "." and ".." components are refused). `mode` is
 * the permission bits; 0 takes 0755 for folders and for files whose source
 * is executable by its owner, 0644 for other files, 0777 for links.
 */
struct cnai_layer_entry {
	const char *src;
	const char *path;
	unsigned mode;
	const char *link;
};

struct cnai_layer_opts {
	enum cnai_layer_compression compression;
	int level;         /* 0 = default: gzip 1 (fast), zstd 3 */
	int64_t mtime;     /* every entry's mtime: SOURCE_DATE_EPOCH or 0 */
	int threads;       /* compression threads; 0 = the online CPUs */
	size_t block_size; /* gzip input per block; 0 = 1 MiB. Changes bytes */
};

#define CNAI_LAYER_OPTS_INIT { CNAI_LAYER_GZIP, 0, 0, 0, 0 }

struct cnai_layer_info {
	char digest[CNAI_DIGEST_LEN];  /* sha256 of the bytes written */
	char diff_id[CNAI_DIGEST_LEN]; /* sha256 of the uncompressed tar */
	uint64_t size;                 /* bytes written */
	uint64_t tar_size;             /* bytes of tar */
	const char *media_type;        /* static string; NULL for raw */
};

/* The OCI layer media type of a compression (a static string). */
const char *cnai_layer_media_type(enum cnai_layer_compression c);

/*
 * Parses "gzip", "zstd" or "none" into *out; CNAI_EINVALID naming the
 * value otherwise.
 */
int cnai_layer_compression_parse(enum cnai_layer_compression *out,
				 const char *name);

/*
 * Writes a layer of `n` entries to `fd` (any writable descriptor; it is
 * written in order, never sought). `opts` may be NULL for the defaults.
 * Returns 0, CNAI_EINVALID for a bad or duplicate path (named),
 * CNAI_ENOTFOUND for a missing source, CNAI_ERROR for I/O. On error some
 * bytes may have been written: write to a temporary file.
 */
int cnai_layer_build(struct cnai_layer_info *out, int fd,
		     const struct cnai_layer_entry *entries, size_t n,
		     const struct cnai_layer_opts *opts);

/*
 * A layer from a tar someone else made (a `docker save` archive's
 * uncompressed layers): the tar's bytes go in with cnai_layer_writer_add()
 * in order, hashed (diff_id) and compressed as `opts` say (the same
 * reproducible way as cnai_layer_build(); mtime is not used) into `fd`,
 * whose bytes are hashed (digest). finish fills `out` once the tar has
 * ended; free (NULL-safe) releases the writer, finished or not.
 */
struct cnai_layer_writer;

int cnai_layer_writer_new(struct cnai_layer_writer **out, int fd,
			  const struct cnai_layer_opts *opts);
int cnai_layer_writer_add(struct cnai_layer_writer *w, const void *tar,
			  size_t len);
int cnai_layer_writer_finish(struct cnai_layer_info *out,
			     struct cnai_layer_writer *w);
void cnai_layer_writer_free(struct cnai_layer_writer *w);

/*
 * A file used as a blob as it is (ModelPack's ".raw" layers): copies `src`
 * to `fd` while hashing it (fd < 0: only hashes). digest == diff_id, size ==
 * tar_size, media_type NULL (the caller names it).
 */
int cnai_layer_raw(struct cnai_layer_info *out, int fd, const char *src);

/*
 * A key for reusing a built layer without rebuilding it: the sha256 of the
 * normalised entry list (paths, modes, links), each source's size, mtime
 * (ns), inode and device, and the options that change bytes. Same key =
 * same inputs as far as stat(2) can tell; the caller maps key -> digest.
 */
int cnai_layer_key(char out[CNAI_DIGEST_LEN],
		   const struct cnai_layer_entry *entries, size_t n,
		   const struct cnai_layer_opts *opts);

#endif
