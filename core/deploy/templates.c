/* Loading templates: the user's folder first, then the built-in ones. */
#include "core/deploy/templates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/fs.h"
#include "core/util/banned.h"

enum { TEMPLATE_LIMIT = 1 << 20 };

int cnai_template_load(struct cnai_yaml **out, const char *name,
		       const char *dir)
{
	struct cnai_buf path = CNAI_BUF_INIT, text = CNAI_BUF_INIT;
	struct cnai_yaml **docs = NULL;
	size_t n = 0, i;
	int err = 0;

	*out = NULL;
	if (dir) {
		cnai_buf_addf(&path, "%s/%s", dir, name);
		if ((err = cnai_buf_oom(&path)) < 0)
			goto cleanup;
		if (cnai_fs_exists(path.buf)) {
			if ((err = cnai_fs_read_file(&text, path.buf,
						     TEMPLATE_LIMIT)) < 0 ||
			    (err = cnai_yaml_parse(&docs, &n, text.buf, text.len,
						   path.buf)) < 0)
				goto cleanup;
			goto check;
		}
	}
	for (i = 0; cnai_templates[i].name; i++)
		if (!strcmp(cnai_templates[i].name, name))
			break;
	if (!cnai_templates[i].name) {
		err = cnai_error_set(CNAI_ENOTFOUND, "no template '%s'", name);
		goto cleanup;
	}
	if ((err = cnai_yaml_parse(&docs, &n, cnai_templates[i].text,
				   cnai_templates[i].len, name)) < 0)
		goto cleanup;
check:
	if (n != 1 || docs[0]->kind != CNAI_YAML_MAP) {
		err = cnai_error_set(CNAI_EINVALID, "%s: a template must be one "
				     "YAML mapping", path.len ? path.buf : name);
		goto cleanup;
	}
	*out = docs[0];
	docs[0] = NULL;
cleanup:
	for (i = 0; i < n; i++)
		cnai_yaml_free(docs[i]);
	free(docs);
	cnai_buf_release(&path);
	cnai_buf_release(&text);
	return err;
}
