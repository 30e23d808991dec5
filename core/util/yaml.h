/*
 * YAML as a tree (libyaml), for templates that are filled structurally:
 * a value is set on a node, never pasted into text, so it can never change
 * the document's structure (a newline, a colon, quotes, "{{" or a tag in a
 * value stays one string scalar). Emission is deterministic: the same tree
 * gives the same bytes.
 */
#ifndef CNAI_CORE_UTIL_YAML_H
#define CNAI_CORE_UTIL_YAML_H

#include <stddef.h>
#include <stdint.h>

#include "core/util/buf.h"

enum cnai_yaml_kind { CNAI_YAML_SCALAR, CNAI_YAML_SEQ, CNAI_YAML_MAP };

/* How a scalar must read back: a string is quoted when plain text would
 * read as a number, bool or null. */
enum cnai_yaml_type { CNAI_YAML_STR, CNAI_YAML_INT, CNAI_YAML_BOOL,
		      CNAI_YAML_NULL, CNAI_YAML_RAW };

struct cnai_yaml {
	enum cnai_yaml_kind kind;
	enum cnai_yaml_type type; /* scalars */
	char *value;              /* scalars */
	char **keys;              /* maps */
	struct cnai_yaml **items; /* seq items or map values */
	size_t n, alloc;
};

/*
 * Parses every document of `text` (name: for messages). CNAI_EINVALID
 * "NAME:LINE:COL: message" on a syntax error. Anchors and aliases are
 * refused (templates have no need of them, and they invite blow-ups).
 */
int cnai_yaml_parse(struct cnai_yaml ***docs, size_t *ndocs, const char *text,
		    size_t len, const char *name);
/*
 * Appends the documents, each starting with "---". A string scalar comes
 * back as the same string from any YAML 1.1 or 1.2 reader. CNAI_EINVALID
 * when a scalar is not valid UTF-8.
 */
int cnai_yaml_emit(struct cnai_buf *out, struct cnai_yaml *const *docs,
		   size_t ndocs);
void cnai_yaml_free(struct cnai_yaml *node);

/*
 * 1 when `s`, written as a plain scalar, would be read as something other
 * than this string (a null, bool, int, float, timestamp, '<<' or '=') by
 * a YAML 1.1 reader (PyYAML, go-yaml v2), a YAML 1.2 core-schema one or
 * go-yaml's strconv fallback: 1:20, yes, Off, ~, 0o17, 012, 0x1f, 0b101,
 * 1_000, 1e3, .inf, +.NaN, 2001-12-14, <<, = all are. Such strings are
 * emitted quoted.
 */
int cnai_yaml_needs_quotes(const char *s);

/*
 * The length (1 to 4) of the UTF-8 sequence at `s`, its code point in
 * *cp; 0 when it is not one a YAML reader accepts (bad bytes, overlong
 * forms, surrogates, past U+10FFFF). `s` is NUL-terminated.
 */
size_t cnai_yaml_utf8_next(const unsigned char *s, uint32_t *cp);

struct cnai_yaml *cnai_yaml_map(void);
struct cnai_yaml *cnai_yaml_seq(void);
struct cnai_yaml *cnai_yaml_str(const char *s);
struct cnai_yaml *cnai_yaml_int(int64_t v);
struct cnai_yaml *cnai_yaml_bool(int v);

/* The value of `key` in a map, or NULL. */
struct cnai_yaml *cnai_yaml_get(const struct cnai_yaml *map, const char *key);
/*
 * Follows a path "spec.template.spec.containers[0].image"; NULL when a
 * part is missing.
 */
struct cnai_yaml *cnai_yaml_at(struct cnai_yaml *root, const char *path);
/*
 * Sets map[key] = value (taking ownership; replacing and freeing an old
 * value). CNAI_EINVALID when `map` is not a map.
 */
int cnai_yaml_set(struct cnai_yaml *map, const char *key,
		  struct cnai_yaml *value);
/* Sets the node at `path`, creating missing maps on the way. */
int cnai_yaml_set_path(struct cnai_yaml *root, const char *path,
		       struct cnai_yaml *value);
/* Appends to a sequence (taking ownership). */
int cnai_yaml_append(struct cnai_yaml *seq, struct cnai_yaml *value);
/* Removes map[key] if present. */
void cnai_yaml_remove(struct cnai_yaml *map, const char *key);
struct cnai_yaml *cnai_yaml_copy(const struct cnai_yaml *node);

#endif
