/*
 * What cnai records about an input file: its digest and size, and for CSV
 * files the number of rows and columns and a schema (column names and an
 * inferred type each).
 */
#ifndef CNAI_CORE_DATA_DATASET_H
#define CNAI_CORE_DATA_DATASET_H

#include <stdint.h>

#include "core/util/hash.h"

struct cnai_dataset_info {
	char digest[CNAI_DIGEST_LEN];
	uint64_t size;
	int is_table;       /* rows, columns and schema are set */
	int64_t rows;       /* data rows, header excluded */
	int64_t columns;
	char *schema;       /* JSON: [{"name":..,"type":"number"|"string"}] */
};

/*
 * Describes the file at `path`. Files named *.csv or *.tsv are read as
 * tables (a malformed one is CNAI_EINVALID naming file and line); others
 * only get a digest and size.
 */
int cnai_dataset_describe(struct cnai_dataset_info *out, const char *path);
void cnai_dataset_info_release(struct cnai_dataset_info *info);

#endif
