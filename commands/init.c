/* cnai init: create a store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/commands.h"
#include "core/store/store.h"
#include "core/util/banned.h"

static const char *const synopsis[] = { "cnai init [<dir>]", NULL };
static const char *const option_help[] = {
	"    <dir>         where to create .cnai/ (default: the current folder)",
	"    --json        print {\"store\": PATH, \"created\": BOOL}",
	NULL,
};
static const struct cnai_usage usage = { synopsis, option_help };

int cmd_init(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = { CNAI_OPTS_COMMON,
						   { NULL, 0, NULL, 0 } };
	struct cnai_buf root = CNAI_BUF_INIT;
	const char *dir = ".";
	int c, created, err;

	while ((c = cnai_getopt(argc, argv, "+:h", longopts, &usage, ctx)) !=
	       -1) {
		if (c == CNAI_OPT_HELP)
			return 0;
		return CNAI_EUSAGE;
	}
	if (argc - optind > 1)
		return cnai_error_set(CNAI_EUSAGE, "too many arguments; usage: "
				      "%s", synopsis[0]);
	if (optind < argc)
		dir = argv[optind];
	if ((err = cnai_store_init(&root, dir, &created)) < 0)
		goto cleanup;
	if (ctx->json) {
		err = cnai_json_print(json_pack("{s:s, s:b}", "store", root.buf,
						"created", created));
	} else if (created) {
		printf("Initialized empty cnai store in %s\n", root.buf);
	} else {
		printf("cnai store already exists in %s; nothing changed\n",
		       root.buf);
	}
cleanup:
	cnai_buf_release(&root);
	return err;
}
