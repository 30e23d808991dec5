/*
 * A YAML tree over libyaml's event API. Parsing keeps scalars' text and
 * whether they were quoted (a quoted scalar is a string whatever it
 * says); emission quotes a string whenever its plain form would resolve to
 * something else under YAML 1.1 or 1.2 rules (Kubernetes reads both,
 * cnai_yaml_needs_quotes()), and lets libyaml choose a safe style
 * otherwise: libyaml quotes whatever would change the structure.
 */
#include "core/util/yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "core/util/error.h"
#include "core/util/banned.h"

enum { MAX_DEPTH = 64 };

static struct cnai_yaml *node_new(enum cnai_yaml_kind kind)
{
	struct cnai_yaml *n = calloc(1, sizeof(*n));

	if (n)
		n->kind = kind;
	return n;
}

struct cnai_yaml *cnai_yaml_map(void)
{
	return node_new(CNAI_YAML_MAP);
}

struct cnai_yaml *cnai_yaml_seq(void)
{
	return node_new(CNAI_YAML_SEQ);
}

static struct cnai_yaml *scalar(const char *s, enum cnai_yaml_type type)
{
	struct cnai_yaml *n = node_new(CNAI_YAML_SCALAR);

	if (!n)
		return NULL;
	n->type = type;
	if (!(n->value = strdup(s))) {
		free(n);
		return NULL;
	}
	return n;
}

struct cnai_yaml *cnai_yaml_str(const char *s)
{
	return scalar(s, CNAI_YAML_STR);
}

struct cnai_yaml *cnai_yaml_int(int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return scalar(buf, CNAI_YAML_INT);
}

struct cnai_yaml *cnai_yaml_bool(int v)
{
	return scalar(v ? "true" : "false", CNAI_YAML_BOOL);
}

void cnai_yaml_free(struct cnai_yaml *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n; i++) {
		if (n->keys)
			free(n->keys[i]);
		cnai_yaml_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->value);
	free(n);
}

static int grow(struct cnai_yaml *n)
{
	size_t a = n->alloc ? n->alloc * 2 : 8;
	void *items, *keys;

	if (n->n < n->alloc)
		return 0;
	if (!(items = realloc(n->items, a * sizeof(*n->items))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	n->items = items;
	if (n->kind == CNAI_YAML_MAP) {
		if (!(keys = realloc(n->keys, a * sizeof(*n->keys))))
			return cnai_error_set(CNAI_ERROR, "out of memory");
		n->keys = keys;
	}
	n->alloc = a;
	return 0;
}

int cnai_yaml_append(struct cnai_yaml *seq, struct cnai_yaml *value)
{
	int err;

	if (!value)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if (seq->kind != CNAI_YAML_SEQ) {
		cnai_yaml_free(value);
		return cnai_error_set(CNAI_EINVALID, "not a sequence");
	}
	if ((err = grow(seq)) < 0) {
		cnai_yaml_free(value);
		return err;
	}
	seq->items[seq->n++] = value;
	return 0;
}

struct cnai_yaml *cnai_yaml_get(const struct cnai_yaml *map, const char *key)
{
	size_t i;

	if (!map || map->kind != CNAI_YAML_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (!strcmp(map->keys[i], key))
			return map->items[i];
	return NULL;
}

int cnai_yaml_set(struct cnai_yaml *map, const char *key,
		  struct cnai_yaml *value)
{
	size_t i;
	int err;

	if (!value)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if (map->kind != CNAI_YAML_MAP) {
		cnai_yaml_free(value);
		return cnai_error_set(CNAI_EINVALID, "'%s': parent is not a "
				      "mapping", key);
	}
	for (i = 0; i < map->n; i++)
		if (!strcmp(map->keys[i], key)) {
			cnai_yaml_free(map->items[i]);
			map->items[i] = value;
			return 0;
		}
	if ((err = grow(map)) < 0 || !(map->keys[map->n] = strdup(key))) {
		cnai_yaml_free(value);
		return err < 0 ? err : cnai_error_set(CNAI_ERROR, "out of memory");
	}
	map->items[map->n++] = value;
	return 0;
}

void cnai_yaml_remove(struct cnai_yaml *map, const char *key)
{
	size_t i;

	if (!map || map->kind != CNAI_YAML_MAP)
		return;
	for (i = 0; i < map->n; i++)
		if (!strcmp(map->keys[i], key)) {
			free(map->keys[i]);
			cnai_yaml_free(map->items[i]);
			memmove(map->keys + i, map->keys + i + 1,
				(map->n - i - 1) * sizeof(*map->keys));
			memmove(map->items + i, map->items + i + 1,
				(map->n - i - 1) * sizeof(*map->items));
			map->n--;
			return;
		}
}

/* One path step: "name" or "name[3]". */
static const char *step(char *key, size_t size, long *index, const char *p)
{
	size_t k = 0;

	*index = -1;
	while (*p && *p != '.' && *p != '[' && k + 1 < size)
		key[k++] = *p++;
	key[k] = '\0';
	if (*p == '[') {
		*index = strtol(p + 1, (char **)&p, 10);
		if (*p == ']')
			p++;
	}
	return *p == '.' ? p + 1 : p;
}

struct cnai_yaml *cnai_yaml_at(struct cnai_yaml *node, const char *path)
{
	char key[256];
	long index;

	while (node && *path) {
		path = step(key, sizeof(key), &index, path);
		if (key[0])
			node = cnai_yaml_get(node, key);
		if (node && index >= 0)
			node = node->kind == CNAI_YAML_SEQ &&
					       (size_t)index < node->n
				       ? node->items[index]
				       : NULL;
	}
	return node;
}

int cnai_yaml_set_path(struct cnai_yaml *root, const char *path,
		       struct cnai_yaml *value)
{
	struct cnai_yaml *node = root, *next;
	char key[256];
	long index;
	int err;

	for (;;) {
		path = step(key, sizeof(key), &index, path);
		if (!*path && index < 0)
			return cnai_yaml_set(node, key, value);
		next = cnai_yaml_get(node, key);
		if (!next) {
			if (index >= 0 || node->kind != CNAI_YAML_MAP) {
				cnai_yaml_free(value);
				return cnai_error_set(CNAI_EINVALID,
						      "template has no '%s'",
						      key);
			}
			if ((err = cnai_yaml_set(node, key, cnai_yaml_map())) <
			    0) {
				cnai_yaml_free(value);
				return err;
			}
			next = cnai_yaml_get(node, key);
		}
		if (index >= 0) {
			if (next->kind != CNAI_YAML_SEQ ||
			    (size_t)index >= next->n) {
				cnai_yaml_free(value);
				return cnai_error_set(CNAI_EINVALID,
						      "template has no "
						      "'%s[%ld]'", key, index);
			}
			if (!*path) {
				cnai_yaml_free(next->items[index]);
				next->items[index] = value;
				return 0;
			}
			next = next->items[index];
		}
		node = next;
	}
}

struct cnai_yaml *cnai_yaml_copy(const struct cnai_yaml *src)
{
	struct cnai_yaml *n;
	size_t i;

	if (!src)
		return NULL;
	if (src->kind == CNAI_YAML_SCALAR)
		return scalar(src->value, src->type);
	if (!(n = node_new(src->kind)))
		return NULL;
	for (i = 0; i < src->n; i++) {
		struct cnai_yaml *c = cnai_yaml_copy(src->items[i]);

		if ((src->kind == CNAI_YAML_MAP
			     ? cnai_yaml_set(n, src->keys[i], c)
			     : cnai_yaml_append(n, c)) < 0) {
			cnai_yaml_free(n);
			return NULL;
		}
	}
	return n;
}

/* ---- parsing ----------------------------------------------------------- */

struct parser {
	yaml_parser_t p;
	const char *name;
};

static int parse_error(struct parser *ps, const char *what, yaml_mark_t m)
{
	return cnai_error_set(CNAI_EINVALID, "%s:%zu:%zu: %s", ps->name,
			      m.line + 1, m.column + 1, what);
}

static int next_event(struct parser *ps, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&ps->p, ev))
		return cnai_error_set(CNAI_EINVALID, "%s:%zu:%zu: %s",
				      ps->name, ps->p.problem_mark.line + 1,
				      ps->p.problem_mark.column + 1,
				      ps->p.problem ? ps->p.problem
						    : "invalid YAML");
	return 0;
}

static int parse_node(struct cnai_yaml **out, struct parser *ps,
		      yaml_event_t *ev, int depth);

static int parse_children(struct cnai_yaml *n, struct parser *ps, int depth)
{
	yaml_event_t ev;
	int err;

	for (;;) {
		struct cnai_yaml *key = NULL, *val = NULL;

		if ((err = next_event(ps, &ev)) < 0)
			return err;
		if (ev.type == YAML_SEQUENCE_END_EVENT ||
		    ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if ((err = parse_node(&key, ps, &ev, depth + 1)) < 0)
			return err;
		if (n->kind == CNAI_YAML_SEQ) {
			if ((err = cnai_yaml_append(n, key)) < 0)
				return err;
			continue;
		}
		if (key->kind != CNAI_YAML_SCALAR) {
			cnai_yaml_free(key);
			return cnai_error_set(CNAI_EINVALID, "%s: mapping keys "
					      "must be scalars", ps->name);
		}
		if ((err = next_event(ps, &ev)) < 0 ||
		    (err = parse_node(&val, ps, &ev, depth + 1)) < 0) {
			cnai_yaml_free(key);
			return err;
		}
		if (cnai_yaml_get(n, key->value)) {
			err = cnai_error_set(CNAI_EINVALID, "%s: duplicate key "
					     "'%s'", ps->name, key->value);
			cnai_yaml_free(key);
			cnai_yaml_free(val);
			return err;
		}
		err = cnai_yaml_set(n, key->value, val);
		cnai_yaml_free(key);
		if (err < 0)
			return err;
	}
}

/* Plain scalars keep their YAML type; quoted ones are strings. */
static enum cnai_yaml_type plain_type(const char *s, int quoted);

static int parse_node(struct cnai_yaml **out, struct parser *ps,
		      yaml_event_t *ev, int depth)
{
	struct cnai_yaml *n = NULL;
	int err = 0;

	*out = NULL;
	if (depth > MAX_DEPTH) {
		err = parse_error(ps, "nested too deeply", ev->start_mark);
		goto done;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = scalar((const char *)ev->data.scalar.value,
			   plain_type((const char *)ev->data.scalar.value,
				      ev->data.scalar.style !=
					      YAML_PLAIN_SCALAR_STYLE));
		if (!n)
			err = cnai_error_set(CNAI_ERROR, "out of memory");
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		n = node_new(ev->type == YAML_SEQUENCE_START_EVENT
				     ? CNAI_YAML_SEQ
				     : CNAI_YAML_MAP);
		if (!n) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			break;
		}
		yaml_event_delete(ev);
		if ((err = parse_children(n, ps, depth)) < 0) {
			cnai_yaml_free(n);
			return err;
		}
		*out = n;
		return 0;
	case YAML_ALIAS_EVENT:
		err = parse_error(ps, "aliases are not supported in templates",
				  ev->start_mark);
		break;
	default:
		err = parse_error(ps, "unexpected YAML event", ev->start_mark);
	}
done:
	yaml_event_delete(ev);
	if (err < 0)
		cnai_yaml_free(n);
	else
		*out = n;
	return err;
}

int cnai_yaml_parse(struct cnai_yaml ***docs, size_t *ndocs, const char *text,
		    size_t len, const char *name)
{
	struct parser ps = { .name = name };
	struct cnai_yaml **list = NULL, **g, *root;
	yaml_event_t ev;
	size_t n = 0;
	int err = 0;

	*docs = NULL;
	*ndocs = 0;
	if (!yaml_parser_initialize(&ps.p))
		return cnai_error_set(CNAI_ERROR, "libyaml: cannot initialise");
	yaml_parser_set_input_string(&ps.p, (const unsigned char *)text, len);
	for (;;) {
		if ((err = next_event(&ps, &ev)) < 0)
			break;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type != YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		yaml_event_delete(&ev);
		if ((err = next_event(&ps, &ev)) < 0 ||
		    (err = parse_node(&root, &ps, &ev, 0)) < 0)
			break;
		if ((err = next_event(&ps, &ev)) < 0) { /* document end */
			cnai_yaml_free(root);
			break;
		}
		yaml_event_delete(&ev);
		if (!(g = realloc(list, (n + 1) * sizeof(*list)))) {
			cnai_yaml_free(root);
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			break;
		}
		list = g;
		list[n++] = root;
	}
	yaml_parser_delete(&ps.p);
	if (err < 0) {
		while (n)
			cnai_yaml_free(list[--n]);
		free(list);
		return err;
	}
	*docs = list;
	*ndocs = n;
	return 0;
}

/* ---- emitting ---------------------------------------------------------- */

/*
 * Which plain scalars are not strings. Readers disagree, and Kubernetes
 * users meet all of them: YAML 1.1 (PyYAML, go-yaml v2 under kubectl and
 * sigs.k8s.io/yaml), YAML 1.2's core schema (go-yaml v3, ruamel), and Go's
 * strconv, which go-yaml feeds anything that starts with a digit, a sign
 * or a dot after dropping its '_'s. A string that any of them would read
 * as a null, bool, int, float, timestamp, merge key or value key is
 * quoted; the tests below over-approximate on purpose (quoting a string
 * never changes it, leaving one plain can).
 */
static const char *const non_string_words[] = {
	"", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n",
	"=", "<<",
};

static int is_dec(int c)
{
	return c >= '0' && c <= '9';
}

/* [0-9]*(.[0-9]*)?(e[+-]?[0-9]+)? with a digit before any exponent. */
static int is_decimal_float(const char *s)
{
	size_t digits = 0;

	for (; is_dec(*s); s++)
		digits++;
	if (*s == '.')
		for (s++; is_dec(*s); s++)
			digits++;
	if (!digits)
		return 0;
	if (*s == 'e') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!is_dec(*s))
			return 0;
		while (is_dec(*s))
			s++;
	}
	return !*s;
}

/* Base 60, YAML 1.1's 1:20 and 1:20:30.5: [0-9]+(:[0-9]+)+(.[0-9]*)? */
static int is_sexagesimal(const char *s)
{
	int parts = 0;

	for (;;) {
		if (!is_dec(*s))
			return 0;
		while (is_dec(*s))
			s++;
		parts++;
		if (*s != ':')
			break;
		s++;
	}
	if (*s == '.')
		for (s++; is_dec(*s); s++)
			;
	return parts > 1 && !*s;
}

/* YYYY-M-D, then anything made of a timestamp's characters. */
static int is_timestamp(const char *s)
{
	size_t i, n;

	for (i = 0; i < 4; i++)
		if (!is_dec(s[i]))
			return 0;
	s += 4;
	for (i = 0; i < 2; i++) {
		if (*s++ != '-')
			return 0;
		for (n = 0; is_dec(*s) && n < 2; s++, n++)
			;
		if (!n)
			return 0;
	}
	return strspn(s, "0123456789tTzZ:.+- \t") == strlen(s);
}

/* s in lowercase without '_', after the sign: a number of any reader? */
static int is_numeric_body(const char *b)
{
	static const char *const specials[] = { "inf", "infinity", "nan",
						".inf", ".nan" };
	size_t i;

	if (b[0] == '0' && (b[1] == 'b' || b[1] == 'o' || b[1] == 'x'))
		return 1;
	for (i = 0; i < sizeof(specials) / sizeof(*specials); i++)
		if (!strcmp(b, specials[i]))
			return 1;
	return is_decimal_float(b) || is_sexagesimal(b);
}

int cnai_yaml_needs_quotes(const char *s)
{
	char *b, *q;
	const char *p;
	size_t i;
	int hit;

	for (i = 0; i < sizeof(non_string_words) / sizeof(*non_string_words);
	     i++)
		if (!strcasecmp(s, non_string_words[i]))
			return 1;
	if (!strchr("+-.0123456789", s[0]))
		return 0;
	if (is_timestamp(s))
		return 1;
	if (!(b = malloc(strlen(s) + 1)))
		return 1; /* quoting is always safe */
	for (p = s, q = b; *p; p++)
		if (*p != '_')
			*q++ = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a'
							     : *p);
	*q = '\0';
	hit = is_numeric_body(b + (b[0] == '+' || b[0] == '-'));
	free(b);
	return hit;
}

static enum cnai_yaml_type plain_type(const char *s, int quoted)
{
	if (quoted)
		return CNAI_YAML_STR;
	if (!strcasecmp(s, "true") || !strcasecmp(s, "false"))
		return CNAI_YAML_BOOL;
	if (!*s || !strcmp(s, "~") || !strcasecmp(s, "null"))
		return CNAI_YAML_NULL;
	/* other non-strings (numbers, yes, 1:20) are kept as they are */
	if (cnai_yaml_needs_quotes(s))
		return CNAI_YAML_RAW;
	return CNAI_YAML_STR;
}

size_t cnai_yaml_utf8_next(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;
	uint32_t c = s[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0)
		n = 2, c &= 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		n = 3, c &= 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		n = 4, c &= 0x07, min = 0x10000;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/*
 * libyaml's emitter checks less than its reader (it lets surrogates and
 * code points past U+10FFFF through, which the reader then refuses): the
 * emitter checks with the reader's rules.
 */
static int is_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c;
	size_t n;

	for (; *p; p += n)
		if (!(n = cnai_yaml_utf8_next(p, &c)))
			return 0;
	return 1;
}

static int emit(yaml_emitter_t *em, yaml_event_t *ev)
{
	if (!yaml_emitter_emit(em, ev))
		return cnai_error_set(CNAI_ERROR, "libyaml: %s",
				      em->problem ? em->problem : "emit failed");
	return 0;
}

static int emit_node(yaml_emitter_t *em, const struct cnai_yaml *n)
{
	yaml_event_t ev;
	size_t i;
	int err;

	if (n->kind == CNAI_YAML_SCALAR) {
		/* U+2028 and U+2029 are line breaks to some readers and not
		 * to others: escaped, they read the same everywhere. */
		int quote = n->type == CNAI_YAML_STR &&
			    (cnai_yaml_needs_quotes(n->value) ||
			     strstr(n->value, "\xe2\x80\xa8") ||
			     strstr(n->value, "\xe2\x80\xa9"));

		if (!is_utf8(n->value) ||
		    !yaml_scalar_event_initialize(
			    &ev, NULL, NULL, (yaml_char_t *)n->value,
			    (int)strlen(n->value), 1, 1,
			    quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
				  : YAML_ANY_SCALAR_STYLE))
			return cnai_error_set(CNAI_EINVALID, "a value is not "
					      "valid UTF-8");
		return emit(em, &ev);
	}
	if (n->kind == CNAI_YAML_SEQ)
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
						     YAML_BLOCK_SEQUENCE_STYLE);
	else
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
						    YAML_BLOCK_MAPPING_STYLE);
	if ((err = emit(em, &ev)) < 0)
		return err;
	for (i = 0; i < n->n; i++) {
		if (n->kind == CNAI_YAML_MAP) {
			struct cnai_yaml key = { CNAI_YAML_SCALAR,
						 CNAI_YAML_STR, n->keys[i],
						 NULL, NULL, 0, 0 };

			if ((err = emit_node(em, &key)) < 0)
				return err;
		}
		if ((err = emit_node(em, n->items[i])) < 0)
			return err;
	}
	if (n->kind == CNAI_YAML_SEQ)
		yaml_sequence_end_event_initialize(&ev);
	else
		yaml_mapping_end_event_initialize(&ev);
	return emit(em, &ev);
}

static int write_buf(void *data, unsigned char *buffer, size_t size)
{
	return cnai_buf_add(data, buffer, size) == 0;
}

int cnai_yaml_emit(struct cnai_buf *out, struct cnai_yaml *const *docs,
		   size_t ndocs)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	size_t i;
	int err = 0;

	if (!yaml_emitter_initialize(&em))
		return cnai_error_set(CNAI_ERROR, "libyaml: cannot initialise");
	yaml_emitter_set_output(&em, write_buf, out);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_indent(&em, 2);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	err = emit(&em, &ev);
	for (i = 0; !err && i < ndocs; i++) {
		yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0);
		if ((err = emit(&em, &ev)) < 0 ||
		    (err = emit_node(&em, docs[i])) < 0)
			break;
		yaml_document_end_event_initialize(&ev, 1);
		err = emit(&em, &ev);
	}
	if (!err) {
		yaml_stream_end_event_initialize(&ev);
		err = emit(&em, &ev);
	}
	yaml_emitter_delete(&em);
	if (!err)
		err = cnai_buf_oom(out);
	return err;
}
