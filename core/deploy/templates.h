/*
 * The manifest templates (the YAML files of templates/k8s), compiled into
 * the binary (build/gen/templates.c), each overridable by a file of the
 * same name in a folder the user names (--templates DIR).
 */
#ifndef CNAI_CORE_DEPLOY_TEMPLATES_H
#define CNAI_CORE_DEPLOY_TEMPLATES_H

#include <stddef.h>

#include "core/util/yaml.h"

struct cnai_template {
	const char *name; /* "deployment.yaml" */
	const char *text;
	size_t len;
};

/* NULL-terminated, generated at build time. */
extern const struct cnai_template cnai_templates[];

/*
 * Parses template `name` (from `dir` when it holds a file of that name,
 * else the built-in one) into exactly one document. CNAI_EINVALID naming
 * the file and line when it is not valid YAML.
 */
int cnai_template_load(struct cnai_yaml **out, const char *name,
		       const char *dir);

#endif
