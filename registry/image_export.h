/*
 * Copies of an image out of an OCI layout (image_export.c): into another
 * OCI layout, or a `docker save` style archive. The destination is the
 * user's and may hold symbolic links: nothing is written through one.
 */
#ifndef CNAI_REGISTRY_IMAGE_EXPORT_H
#define CNAI_REGISTRY_IMAGE_EXPORT_H

#include "registry/oci.h"

/*
 * Copies image `d` (its manifest or index and every blob below it) from
 * layout `from` into layout `to`, made when missing, and tags it `ref`
 * there. Adds only: nothing in `to` is overwritten. CNAI_EINVALID when
 * `to` is not a folder or holds a symbolic link where a file goes.
 */
int cnai_image_export_layout(const char *from, const struct cnai_oci_desc *d,
			     const char *ref, const char *to);

/*
 * Writes image `d` of layout `from` as a `docker save` archive `file`
 * with RepoTags `ref`: complete or not at all (a temporary beside it,
 * renamed over it). A single-platform image only (CNAI_EINVALID). An
 * existing `file` is CNAI_EEXISTS unless `force`; a folder there is
 * CNAI_EINVALID.
 */
int cnai_image_export_archive(const char *from, const struct cnai_oci_desc *d,
			      const char *ref, const char *file, int force);

#endif
