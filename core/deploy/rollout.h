/*
 * What happens to manifests once assembled: written into a folder, one
 * file per object (for review or GitOps), and the end of a k8s canary,
 * where the recorded stable and canary Deployments are changed in place
 * and applied again.
 */
#ifndef CNAI_CORE_DEPLOY_ROLLOUT_H
#define CNAI_CORE_DEPLOY_ROLLOUT_H

#include <stddef.h>

#include "core/util/yaml.h"

/*
 * Writes each of the `n` documents to `dir` (made if missing) as
 * NN-<kind>-<name>.yaml (kind lowercased, NN from 01 in order), each file
 * written atomically. Errors as cnai_fs_write_atomic returns them.
 */
int cnai_deploy_write_dir(const char *dir, struct cnai_yaml **docs, size_t n);

/*
 * Ends a canary in the documents of its last emission: the Deployment
 * labelled track=stable takes all the replicas of both (and, with
 * `promote`, the canary's image); the track=canary one is scaled to 0
 * (kubectl apply keeps it as an object). CNAI_EINVALID naming `name` when
 * the documents lack either Deployment.
 */
int cnai_deploy_canary_finish(struct cnai_yaml **docs, size_t n,
			      const char *name, int promote);

#endif
