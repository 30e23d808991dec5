/* cnai config: read and write the store's config file (git format). */
#include <stdio.h>
#include <string.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/commands.h"
#include "core/store/store.h"
#include "core/util/config.h"
#include "core/util/banned.h"

static const char *const synopsis[] = {
	"cnai config get <key>",
	"cnai config set <key> <value>",
	"cnai config unset <key>",
	"cnai config list",
	NULL,
};
static const char *const option_help[] = {
	"    <key>         section.name, as in git config (core.editor)",
	"    --json        list/get as JSON",
	NULL,
};
static const struct cnai_usage usage = { synopsis, option_help };

static int list_one(const char *key, const char *value, void *payload)
{
	json_t *obj = payload;

	if (obj)
		json_object_set_new(obj, key, json_string(value));
	else
		printf("%s=%s\n", key, value);
	return 0;
}

static int want_args(int have, int want, const char *sub)
{
	if (have != want)
		return cnai_error_set(CNAI_EUSAGE, "'config %s' takes %d "
				      "argument%s; see 'cnai config --help'",
				      sub, want, want == 1 ? "" : "s");
	return 0;
}

int cmd_config(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = { CNAI_OPTS_COMMON,
						   { NULL, 0, NULL, 0 } };
	struct cnai_buf path = CNAI_BUF_INIT, value = CNAI_BUF_INIT;
	const char *sub;
	int c, err, nargs;

	while ((c = cnai_getopt(argc, argv, ":h", longopts, &usage, ctx)) !=
	       -1) {
		if (c == CNAI_OPT_HELP)
			return 0;
		return CNAI_EUSAGE;
	}
	if (optind >= argc) {
		cnai_usage_print(&usage, 0);
		return CNAI_EUSAGE;
	}
	sub = argv[optind++];
	nargs = argc - optind;
	if ((err = cnai_store_path(&path, ctx->store, "config")) < 0)
		goto cleanup;
	if (!strcmp(sub, "get")) {
		if ((err = want_args(nargs, 1, sub)) < 0 ||
		    (err = cnai_config_get(&value, path.buf, argv[optind])) < 0)
			goto cleanup;
		if (ctx->json)
			err = cnai_json_print(json_pack("{s:s, s:s}", "key",
							argv[optind], "value",
							value.buf));
		else
			printf("%s\n", value.buf);
	} else if (!strcmp(sub, "set")) {
		if ((err = want_args(nargs, 2, sub)) < 0)
			goto cleanup;
		err = cnai_config_set(path.buf, argv[optind], argv[optind + 1]);
	} else if (!strcmp(sub, "unset")) {
		if ((err = want_args(nargs, 1, sub)) < 0)
			goto cleanup;
		err = cnai_config_unset(path.buf, argv[optind]);
	} else if (!strcmp(sub, "list")) {
		json_t *obj = ctx->json ? json_object() : NULL;

		if ((err = want_args(nargs, 0, sub)) < 0 ||
		    (err = cnai_config_foreach(path.buf, list_one, obj)) < 0) {
			json_decref(obj);
			goto cleanup;
		}
		if (obj)
			err = cnai_json_print(obj);
	} else {
		err = cnai_error_set(CNAI_EUSAGE,
				     "unknown 'config' sub-command '%s' "
				     "(get, set, unset, list)", sub);
	}
cleanup:
	cnai_buf_release(&path);
	cnai_buf_release(&value);
	return err;
}
