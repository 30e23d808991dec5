/*
 * libFuzzer target: the CSV table loader train and predict read whole
 * files with (cnai_dtable_load, core/data/table.c, over csv.c), header
 * included. The input goes to an in-memory file; its first byte picks the
 * delimiter and how columns are typed (auto, all text, by name, others
 * skipped), so every path of the loader is reached. On a successful load
 * it checks what the rest of cnai relies on: every name and category is
 * text JSON can hold (the schema serialises), names are unique and found
 * by name, and every cell reads back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/data/csv.h"
#include "core/data/table.h"
#include "core/util/error.h"

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void check_table(const struct cnai_dtable *t)
{
	char *schema = cnai_dtable_schema(t);
	size_t r, c, k;

	check(schema != NULL); /* names JSON cannot hold make this NULL */
	free(schema);
	check(t->nrows > 0 && t->ncols > 0 && t->ncols <= CNAI_CSV_MAX_FIELDS);
	for (c = 0; c < t->ncols; c++) {
		const struct cnai_col *col = &t->cols[c];
		size_t len = strlen(col->name);

		check(cnai_csv_text_len(col->name, len) == len);
		check(cnai_dtable_find(t, col->name) == (long)c);
		for (k = 0; k < col->ncats; k++) {
			len = strlen(col->cats[k]);
			check(cnai_csv_text_len(col->cats[k], len) == len);
			check(cnai_dtable_cat(t, c, col->cats[k]) == (long)k);
		}
		for (r = 0; r < t->nrows; r++)
			(void)cnai_dtable_str(t, r, c);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char delims[4] = { ',', ';', '\t', '|' };
	static const char *const names[2] = { "y", "a" };
	static const enum cnai_col_type types[2] = { CNAI_COL_STRING,
						     CNAI_COL_NUMBER };
	struct cnai_dtable_opts o = { 0 };
	struct cnai_dtable *t = NULL;
	char path[64];
	int fd, mode;

	if (size < 1)
		return 0;
	mode = data[0];
	data++, size--;
	o.delim = delims[mode & 3];
	switch ((mode >> 2) & 3) {
	case 0: /* train: the target as text, the rest typed by content */
		o.names = names, o.types = types, o.ntypes = 1;
		o.other = CNAI_COL_AUTO;
		break;
	case 1: /* predict: named columns typed, the rest skipped */
		o.names = names, o.types = types, o.ntypes = 2;
		o.other = CNAI_COL_SKIP;
		break;
	case 2:
		o.other = CNAI_COL_STRING;
		break;
	default:
		o.other = CNAI_COL_NUMBER;
		break;
	}
	if ((fd = memfd_create("csv", MFD_CLOEXEC)) < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (cnai_dtable_load(&t, path, &o) == 0)
		check_table(t);
	else
		check(t == NULL && cnai_error_last() != NULL);
	cnai_dtable_free(t);
	cnai_error_clear();
	close(fd);
	return 0;
}
