/*
 * The images a deployment runs, always by digest: a model's packaged
 * images (the newest serve image, and the newest modelcar for the targets
 * that mount one) or an image of the OCI layout named directly, spelled
 * "registry/repo@sha256:..." with the name the user or cnai package gave.
 */
#ifndef CNAI_CORE_DEPLOY_IMAGES_H
#define CNAI_CORE_DEPLOY_IMAGES_H

#include <stddef.h>

#include "core/deploy/manifest.h"
#include "core/store/images.h"

/* "registry/repo:tag" (or NULL: "image") and `digest` ->
 * "registry/repo@digest" in `out` (cut to `size`). */
void cnai_deploy_image_by_digest(char *out, size_t size, const char *name,
				 const char *digest);

/* 1 when the manifest `digest` in the OCI layout `oci_dir` is a modelcar
 * (cnai package's format: one layer, the model's name annotated, no
 * artifact type); 0 otherwise, an unreadable manifest included. */
int cnai_deploy_image_is_modelcar(const char *oci_dir, const char *digest);

/*
 * From a model's images (newest first), the newest serve image and the
 * newest modelcar by digest into `serve` and `modelcar` (`size` bytes
 * each; "" when there is none). Images named "*-artifact" serve nothing.
 */
void cnai_deploy_images_pick(char *serve, char *modelcar, size_t size,
			     const char *oci_dir,
			     const struct cnai_image_info *img, size_t n);

/*
 * An image of the layout that `ref` resolved to (`digest`): by digest
 * into `serve`, or into `modelcar` when it is one (the other gets "").
 */
void cnai_deploy_image_of_ref(char *serve, char *modelcar, size_t size,
			      const char *oci_dir, const char *ref,
			      const char *digest);

/*
 * Sets s->image and s->modelcar from the images found for `ref`: the
 * modelcar is used by the targets that mount one (kserve, seldon); a
 * target that cannot serve a modelcar runs the serve image. `serve` and
 * `modelcar` ("" when none) must outlive `s`. CNAI_EINVALID naming `ref`
 * when it has only a modelcar and the target needs a serve image.
 */
int cnai_deploy_spec_images(struct cnai_deploy_spec *s, const char *serve,
			    const char *modelcar, const char *ref);

#endif
