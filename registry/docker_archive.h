/*
 * Images from `docker save` archives (and skopeo's "docker-archive:"): a
 * tar whose manifest.json lists, per image, its config file, its RepoTags
 * and its layer files, as [{"Config", "RepoTags", "Layers"}]. All three
 * shapes in use are read:
 *  - classic `docker save`: layers as "<id>/layer.tar", config "<hex>.json";
 *  - skopeo: layers as "<diff_id hex>.tar", with "<id>/layer.tar" symbolic
 *    links to them;
 *  - Docker 25+ (and `cnai package export --docker-archive`): an OCI layout
 *    in the tar, manifest.json naming "blobs/sha256/<hex>".
 * Layers are uncompressed tars or gzip; the archive itself may be gzipped.
 */
#ifndef CNAI_REGISTRY_DOCKER_ARCHIVE_H
#define CNAI_REGISTRY_DOCKER_ARCHIVE_H

#include "registry/layer.h"
#include "registry/oci.h"

/*
 * Imports one image of the docker archive `file` into the OCI layout
 * `dir` and describes its new manifest in `out` (an OCI image manifest,
 * listed untagged in index.json so that gc keeps it).
 *
 * `image` picks it: a RepoTags entry as docker or skopeo spell it
 * ("foo/bar:1" matches "docker.io/foo/bar:1"), "@N" for the N-th (from 0)
 * as skopeo says, or NULL when the archive holds one image.
 *
 * gzip layers are stored as they are; uncompressed ones are compressed as
 * `lo` says (cnai_layer_writer: the same reproducible way as cnai's own
 * layers). Either way the diff_id is computed while the layer is stored
 * and must be the one the config's rootfs.diff_ids lists in its place.
 *
 * The archive is never extracted: every member path is checked (absolute
 * paths and ".." are refused, symbolic links must stay inside) and JSON
 * members are size-limited. All that can be refused before the layers are
 * read is refused before anything is written: CNAI_ENOTFOUND for a
 * missing file or image, CNAI_EINVALID for a file that is not a tar, one
 * without manifest.json, an escaping path, a member manifest.json names
 * but the tar lacks. A layer that is not a tar or whose diff_id differs
 * from the config's is CNAI_EINVALID too, after the layers read so far
 * were stored (unreferenced blobs, which gc removes).
 */
int cnai_docker_archive_import(struct cnai_oci_desc *out, const char *dir,
			       const char *file, const char *image,
			       const struct cnai_layer_opts *lo);

#endif
