/*
 * Dataset description for lineage. The digest is taken over the file's
 * bytes (so it matches `sha256sum`), and the table shape in a second,
 * streaming pass with the CSV reader.
 */
#include "core/data/dataset.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/csv.h"
#include "core/util/error.h"
#include "core/util/banned.h"

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcasecmp(s + n - m, suffix);
}

static int is_number(const char *s, size_t len)
{
	char *end;

	if (!len)
		return 1; /* a missing value does not decide the type */
	strtod(s, &end);
	return end == s + len;
}

static int describe_table(struct cnai_dataset_info *out, const char *path,
			  char delim)
{
	struct cnai_csv_reader *r = NULL;
	const struct cnai_csv_record *rec;
	json_t *schema = NULL;
	char **names = NULL;
	unsigned char *numeric = NULL;
	size_t ncol = 0, i;
	int64_t rows = 0;
	int err, rc;

	if ((err = cnai_csv_open(&r, path, delim)) < 0)
		return err;
	if ((rc = cnai_csv_next(r, &rec, 0)) <= 0) {
		err = rc < 0 ? rc
			     : cnai_error_set(CNAI_EINVALID,
					      "%s: empty file, expected a "
					      "header line", path);
		goto cleanup;
	}
	ncol = rec->nfields;
	names = calloc(ncol, sizeof(*names));
	numeric = malloc(ncol);
	if (!names || !numeric) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	for (i = 0; i < ncol; i++) {
		names[i] = strdup(rec->fields[i].ptr);
		numeric[i] = 1;
	}
	while ((rc = cnai_csv_next(r, &rec, ncol)) > 0) {
		rows++;
		for (i = 0; i < ncol; i++)
			if (numeric[i] &&
			    !is_number(rec->fields[i].ptr, rec->fields[i].len))
				numeric[i] = 0;
	}
	if ((err = rc) < 0)
		goto cleanup;
	schema = json_array();
	for (i = 0; i < ncol; i++)
		json_array_append_new(
			schema, json_pack("{s:s, s:s}", "name",
					  names[i] ? names[i] : "", "type",
					  numeric[i] ? "number" : "string"));
	out->schema = json_dumps(schema, JSON_COMPACT);
	out->is_table = 1;
	out->rows = rows;
	out->columns = (int64_t)ncol;
cleanup:
	for (i = 0; names && i < ncol; i++)
		free(names[i]);
	free(names);
	free(numeric);
	json_decref(schema);
	cnai_csv_close(r);
	return err;
}

int cnai_dataset_describe(struct cnai_dataset_info *out, const char *path)
{
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = cnai_sha256_file(out->digest, &out->size, path)) < 0)
		return err;
	if (ends_with(path, ".csv"))
		return describe_table(out, path, ',');
	if (ends_with(path, ".tsv"))
		return describe_table(out, path, '\t');
	return 0;
}

void cnai_dataset_info_release(struct cnai_dataset_info *info)
{
	free(info->schema);
	info->schema = NULL;
}
