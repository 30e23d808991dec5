/*
 * Deployment images (see images.h). The name kept is the one the image
 * was tagged with, so that the manifest reads as the user would write it;
 * the digest pins it.
 */
#include "core/deploy/images.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/util/error.h"
#include "registry/oci.h"
#include "registry/reference.h"
#include "core/util/banned.h"

void cnai_deploy_image_by_digest(char *out, size_t size, const char *name,
				 const char *digest)
{
	struct cnai_reference_parts p;

	name = name ? name : "image";
	cnai_reference_split(&p, name);
	snprintf(out, size, "%.*s@%s", (int)p.name_len, name, digest);
}

int cnai_deploy_image_is_modelcar(const char *oci_dir, const char *digest)
{
	json_t *man = NULL;
	int modelcar = 0;

	if (cnai_oci_json_read(&man, oci_dir, digest) == 0)
		modelcar = json_object_get(json_object_get(man, "annotations"),
					   "ai.cnai.model.name") &&
			   json_array_size(json_object_get(man, "layers")) == 1 &&
			   !json_object_get(man, "artifactType");
	cnai_error_clear();
	json_decref(man);
	return modelcar;
}

void cnai_deploy_images_pick(char *serve, char *modelcar, size_t size,
			     const char *oci_dir,
			     const struct cnai_image_info *img, size_t n)
{
	size_t i;

	serve[0] = modelcar[0] = '\0';
	for (i = 0; i < n; i++) {
		int mc = cnai_deploy_image_is_modelcar(oci_dir, img[i].digest);
		char *dst = mc ? modelcar : serve;

		if (!dst[0] && (mc || !strstr(img[i].name ? img[i].name : "",
					      "-artifact")))
			cnai_deploy_image_by_digest(dst, size, img[i].name,
						    img[i].digest);
	}
}

void cnai_deploy_image_of_ref(char *serve, char *modelcar, size_t size,
			      const char *oci_dir, const char *ref,
			      const char *digest)
{
	/* a bare digest has no name to keep */
	cnai_deploy_image_by_digest(serve, size,
				    strncmp(ref, "sha256:", 7) ? ref : "image",
				    digest);
	modelcar[0] = '\0';
	if (cnai_deploy_image_is_modelcar(oci_dir, digest)) {
		snprintf(modelcar, size, "%s", serve);
		serve[0] = '\0';
	}
}

int cnai_deploy_spec_images(struct cnai_deploy_spec *s, const char *serve,
			    const char *modelcar, const char *ref)
{
	s->image = serve;
	s->modelcar = modelcar[0] && (s->target == CNAI_DEPLOY_KSERVE ||
				      s->target == CNAI_DEPLOY_SELDON)
			      ? modelcar
			      : NULL;
	if (!serve[0] && !s->modelcar)
		return cnai_error_set(CNAI_EINVALID,
				      "'%s' has only a modelcar image; --target "
				      "kserve or seldon serves it, or run 'cnai "
				      "package %s' for a serve image", ref, ref);
	if (!serve[0])
		s->image = modelcar;
	return 0;
}
