/*
 * Manifests after assembly (see rollout.h). The canary's end changes the
 * recorded documents rather than assembling new ones from the options, so
 * that every other field of the deployment stays as it was deployed.
 */
#include "core/deploy/rollout.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/banned.h"

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

int cnai_deploy_write_dir(const char *dir, struct cnai_yaml **docs, size_t n)
{
	struct cnai_buf text = CNAI_BUF_INIT, path = CNAI_BUF_INIT;
	size_t i;
	int err;

	if ((err = cnai_fs_mkdir_p(dir, 0755)) < 0)
		return err;
	for (i = 0; i < n && !err; i++) {
		struct cnai_yaml *k = cnai_yaml_get(docs[i], "kind"),
				 *m = cnai_yaml_at(docs[i], "metadata.name");
		char kind[64];

		snprintf(kind, sizeof(kind), "%s",
			 k && k->value ? k->value : "object");
		lower(kind);
		cnai_buf_reset(&text);
		cnai_buf_reset(&path);
		cnai_buf_addf(&path, "%s/%02zu-%s-%s.yaml", dir, i + 1, kind,
			      m && m->value ? m->value : "x");
		if ((err = cnai_buf_oom(&path)) < 0 ||
		    (err = cnai_yaml_emit(&text, &docs[i], 1)) < 0)
			break;
		err = cnai_fs_write_atomic(path.buf, text.buf, text.len, 0644);
	}
	cnai_buf_release(&text);
	cnai_buf_release(&path);
	return err;
}

int cnai_deploy_canary_finish(struct cnai_yaml **docs, size_t n,
			      const char *name, int promote)
{
	struct cnai_yaml *stable = NULL, *canary = NULL;
	int64_t total;
	size_t i;

	for (i = 0; i < n; i++) {
		struct cnai_yaml *t = cnai_yaml_at(docs[i],
						   "metadata.labels.track");

		if (t && t->value && !strcmp(t->value, "stable"))
			stable = docs[i];
		if (t && t->value && !strcmp(t->value, "canary"))
			canary = docs[i];
	}
	if (!stable || !canary)
		return cnai_error_set(CNAI_EINVALID, "the recorded canary of "
				      "'%s' has no stable and canary "
				      "Deployments", name);
	/* cnai wrote both replica counts: whole numbers */
	total = strtoll(cnai_yaml_at(stable, "spec.replicas")->value, NULL,
			10) +
		strtoll(cnai_yaml_at(canary, "spec.replicas")->value, NULL, 10);
	if (promote)
		cnai_yaml_set_path(
			stable, "spec.template.spec.containers[0].image",
			cnai_yaml_str(cnai_yaml_at(canary,
						   "spec.template.spec."
						   "containers[0].image")
					      ->value));
	cnai_yaml_set_path(stable, "spec.replicas", cnai_yaml_int(total));
	cnai_yaml_set_path(canary, "spec.replicas", cnai_yaml_int(0));
	return 0;
}
