/*
 * The JSON-lines batch of `cnai track log --batch`: one item per line,
 * {"metric": "loss", "value": 0.3, "step": 2, "timestamp": 1700000000000},
 * {"param": "lr", "value": "0.01"} or {"tag": "team", "value": "x"};
 * blank lines are skipped. Plain metric lines, most of a large batch, are
 * read without building a JSON tree; any other line goes to jansson, and
 * both read every line to the same values.
 */
#ifndef CNAI_CORE_DATA_JSONL_H
#define CNAI_CORE_DATA_JSONL_H

#include <stddef.h>
#include <stdint.h>

enum cnai_jsonl_kind { CNAI_JSONL_METRIC, CNAI_JSONL_PARAM, CNAI_JSONL_TAG };

/* One line's item; its strings live until the callback returns. */
struct cnai_jsonl_item {
	enum cnai_jsonl_kind kind;
	const char *key;
	/* metric: the value ("NaN", "Infinity", "-Infinity" as strings);
	 * param or tag: the value when it was a JSON real (text is NULL) */
	double value;
	const char *text;  /* param or tag: the value (integers as digits) */
	int64_t step;      /* metric: 0 when not given */
	int has_timestamp; /* metric: 1 when "timestamp" was given */
	int64_t timestamp; /* milliseconds since the epoch */
};

/* Called for each item; a negative return stops the batch. */
typedef int (*cnai_jsonl_fn)(const struct cnai_jsonl_item *item, void *data);

/*
 * Reads the batch `file` ("-": stdin, named "<stdin>" in messages) and
 * calls `fn` for each item in order, counting them in *count. A bad line
 * (not JSON, a wrong field, over 2 MiB) is CNAI_EINVALID "FILE:LINE: what";
 * so is an error from `fn`, its message after the same prefix. A file that cannot be opened is CNAI_ENOTFOUND (or CNAI_ERROR)
 * "cannot read 'FILE'".
 */
int cnai_jsonl_read(const char *file, cnai_jsonl_fn fn, void *data,
		    size_t *count);

#endif
