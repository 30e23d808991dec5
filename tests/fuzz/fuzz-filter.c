/* libFuzzer target: the run filter language (parser and SQL emitter). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/store/query.h"
#include "core/util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cnai_filter *f = NULL;
	struct cnai_sql q = CNAI_SQL_INIT;
	char *text = malloc(size + 1);
	size_t i;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (cnai_filter_parse(&f, text) == 0) {
		(void)cnai_filter_to_sql(&q, f, (size_t)-1);
		for (i = 0; i < cnai_filter_term_count(f); i++) {
			struct cnai_sql d = CNAI_SQL_INIT;

			(void)cnai_filter_term_driver_sql(&d, f, i);
			cnai_sql_release(&d);
		}
	}
	cnai_sql_release(&q);
	cnai_filter_free(f);
	cnai_error_clear();
	free(text);
	return 0;
}
