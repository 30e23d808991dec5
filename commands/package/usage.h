/*
 * Usage texts of `cnai package` (see usage.c): a leaf that the
 * sub-command files and the dispatcher share.
 */
#ifndef CNAI_COMMANDS_PACKAGE_USAGE_H
#define CNAI_COMMANDS_PACKAGE_USAGE_H

#include <stdio.h>

#include "cli/options.h"

/* The usage of sub-command `sub` ("build" for the building form). */
const struct cnai_usage *package_usage(const char *sub);

/* `cnai package`'s own usage: every form's synopsis. */
void package_print_usage(FILE *f);

#endif
