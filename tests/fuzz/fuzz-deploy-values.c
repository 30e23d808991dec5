/*
 * libFuzzer target: the values users give cnai deploy. The input (up to
 * its first NUL) goes through every rule of core/deploy/validate.c, each
 * compared with the same rule written as a POSIX regular expression (or,
 * where a regex cannot say it, with the properties an accepted value must
 * have); the messages must stay one line and whole. Then it is emitted as
 * a YAML string (a map value, a key, a sequence item) and read back with
 * libyaml: it must come back as the same string, and where the emitter
 * left it plain, no YAML 1.1 resolver (PyYAML's, written out below) nor
 * YAML 1.2 core-schema one may take it for anything but a string.
 */
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/deploy/validate.h"
#include "core/util/error.h"
#include "core/util/yaml.h"
#include "registry/reference.h"

/* The rules as regular expressions (lengths are checked apart). */
enum { R_DNS1123, R_DNS1035, R_SUBDOMAIN, R_NAME, R_LABEL_VALUE,
       R_QUANTITY, R_ENV, R_DECIMAL, R_TRAIN_KEY, R_CRON_FIELD, NRULES };

static const char *const rule_re[NRULES] = {
	[R_DNS1123] = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
	[R_DNS1035] = "^[a-z]([-a-z0-9]*[a-z0-9])?$",
	[R_SUBDOMAIN] = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?"
			"(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
	[R_NAME] = "^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$",
	[R_LABEL_VALUE] = "^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$",
	[R_QUANTITY] = "^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)"
		       "(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|"
		       "[eE][+-]?[0-9]+)?$",
	[R_ENV] = "^[A-Za-z_][A-Za-z0-9_]*$",
	[R_DECIMAL] = "^[0-9]+(\\.[0-9]+)?$",
	[R_TRAIN_KEY] = "^[a-z][-a-z0-9_]*$",
	[R_CRON_FIELD] = "^[0-9A-Za-z*?,/-]+$",
};

/* What YAML readers resolve plain scalars to, other than strings. */
static const char *const non_string_re[] = {
	/* YAML 1.1 (PyYAML's resolver.py; y and n from the 1.1 spec) */
	"^(yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|"
	"off|Off|OFF|y|Y|n|N)$",
	"^([-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|"
	"[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+)$",
	"^([-+]?([0-9][0-9_]*)\\.[0-9_]*([eE][-+][0-9]+)?|"
	"\\.[0-9][0-9_]*([eE][-+][0-9]+)?|"
	"[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*|"
	"[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$",
	"^<<$",
	"^(~|null|Null|NULL|)$",
	"^=$",
	"^([0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|"
	"[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
	"([Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](\\.[0-9]*)?"
	"([ \t]*(Z|[-+][0-9][0-9]?(:[0-9][0-9])?))?)$",
	/* YAML 1.2 core schema */
	"^[-+]?[0-9]+$",
	"^0o[0-7]+$",
	"^0x[0-9a-fA-F]+$",
	"^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$",
};

#define N(a) (sizeof(a) / sizeof(*(a)))

static regex_t rules[NRULES], non_strings[N(non_string_re)];

static void compile_once(void)
{
	static int done;
	size_t i;

	if (done)
		return;
	for (i = 0; i < NRULES; i++)
		if (regcomp(&rules[i], rule_re[i], REG_EXTENDED | REG_NOSUB))
			abort();
	for (i = 0; i < N(non_string_re); i++)
		if (regcomp(&non_strings[i], non_string_re[i],
			    REG_EXTENDED | REG_NOSUB))
			abort();
	done = 1;
}

static int match(const regex_t *re, const char *s)
{
	return regexec(re, s, 0, NULL, 0) == 0;
}

/* The validator's answer must be the oracle's; a refusal gives a reason. */
static void agree(int (*fn)(const char *, struct cnai_buf *), const char *s,
		  int oracle)
{
	struct cnai_buf why = CNAI_BUF_INIT;
	int err = fn(s, &why);

	if ((err == 0) != !!oracle || (err < 0 && !why.len) ||
	    (err < 0 && err != CNAI_EINVALID) || fn(s, NULL) != err)
		abort();
	cnai_buf_release(&why);
}

static int has_nonzero_digit(const char *s)
{
	for (; *s && !strchr("eEnumkMGTPi", *s); s++)
		if (*s >= '1' && *s <= '9')
			return 1;
	return 0;
}

static int label_key_oracle(const char *s)
{
	const char *slash = strchr(s, '/');
	const char *name = slash ? slash + 1 : s;
	int ok = strlen(name) <= 63 && match(&rules[R_NAME], name);

	if (slash) {
		char *prefix = strndup(s, (size_t)(slash - s));

		if (!prefix)
			abort();
		ok = ok && strlen(prefix) <= 253 &&
		     match(&rules[R_SUBDOMAIN], prefix);
		free(prefix);
	}
	return ok;
}

static void check_rules(const char *s)
{
	size_t n = strlen(s);
	const char *p;
	int ok;

	agree(cnai_validate_dns1123_label, s,
	      n <= 63 && match(&rules[R_DNS1123], s));
	agree(cnai_validate_dns1035_label, s,
	      n <= 63 && match(&rules[R_DNS1035], s));
	agree(cnai_validate_dns1123_subdomain, s,
	      n <= 253 && match(&rules[R_SUBDOMAIN], s));
	agree(cnai_validate_label_value, s,
	      n <= 63 && match(&rules[R_LABEL_VALUE], s));
	agree(cnai_validate_label_key, s, label_key_oracle(s));
	agree(cnai_validate_quantity, s,
	      match(&rules[R_QUANTITY], s) &&
		      !(s[0] == '-' && has_nonzero_digit(s)));
	agree(cnai_validate_env_name, s, match(&rules[R_ENV], s));
	agree(cnai_validate_positive_decimal, s,
	      match(&rules[R_DECIMAL], s) && has_nonzero_digit(s));
	agree(cnai_validate_train_key, s,
	      n <= 63 && match(&rules[R_TRAIN_KEY], s));

	/* no regex for these: what an accepted value must be */
	if (cnai_validate_resource_name(s, NULL) == 0 &&
	    (!strchr(s, '/') || strstr(s, "kubernetes.io/") ||
	     !label_key_oracle(s)))
		abort();
	if (cnai_validate_image(s, NULL) == 0) {
		struct cnai_reference ref;

		for (p = s; *p; p++)
			if ((unsigned char)*p <= ' ' ||
			    (unsigned char)*p >= 0x7f)
				abort();
		if (cnai_reference_parse(&ref, s) < 0)
			abort();
	}
	if (cnai_error_last())
		abort(); /* the validators leave no error behind */
	if (cnai_validate_cron(s, NULL) == 0 && s[0] == '@' &&
	    strncmp(s, "@every ", 7) && strcmp(s, "@yearly") &&
	    strcmp(s, "@annually") && strcmp(s, "@monthly") &&
	    strcmp(s, "@weekly") && strcmp(s, "@daily") &&
	    strcmp(s, "@midnight") && strcmp(s, "@hourly"))
		abort();
	if (cnai_validate_cron(s, NULL) == 0 && !strncmp(s, "@every ", 7) &&
	    strpbrk(s + 7, " \t"))
		abort();
	if (cnai_validate_cron(s, NULL) == 0 && s[0] != '@') {
		char *copy = strdup(s), *save = NULL, *f;
		int fields = 0;

		if (!copy || strstr(s, "TZ") || strchr(s, '@'))
			abort();
		for (f = strtok_r(copy, " \t", &save); f;
		     f = strtok_r(NULL, " \t", &save), fields++)
			if (!match(&rules[R_CRON_FIELD], f))
				abort();
		if (fields != 5)
			abort();
		free(copy);
	}
	ok = cnai_validate_text(s, NULL) == 0;
	if (cnai_validate_line(s, NULL) == 0 && (!ok || !n))
		abort();
	if (cnai_validate_sweep_values(s, NULL) == 0 &&
	    (!ok || !n || s[0] == ',' || s[n - 1] == ',' || strstr(s, ",,")))
		abort();
}

/* A message is one line and whole (not cut by the error buffer). */
static void check_message(int err)
{
	const struct cnai_error *e = cnai_error_last();

	if (!err) {
		if (e)
			abort();
		return;
	}
	if (err != CNAI_EUSAGE || !e || strchr(e->message, '\n') ||
	    strlen(e->message) + 1 >= sizeof(e->message) ||
	    cnai_validate_text(e->message, NULL) < 0)
		abort();
	cnai_error_clear();
}

static void check_messages(const char *s)
{
	check_message(cnai_validate_flag("--image", s, CNAI_VALIDATE_IMAGE));
	check_message(cnai_validate_flag("--schedule", s, CNAI_VALIDATE_CRON));
	check_message(cnai_validate_pair("--label", s, CNAI_VALIDATE_LABEL_KEY,
					 CNAI_VALIDATE_LABEL_VALUE));
	check_message(cnai_validate_pair("--env", s, CNAI_VALIDATE_ENV_NAME,
					 CNAI_VALIDATE_TEXT));
	check_message(cnai_validate_pair("--sweep", s, CNAI_VALIDATE_TRAIN_KEY,
					 CNAI_VALIDATE_SWEEP_VALUES));
}

/* Every scalar libyaml reads from `text`, in order, must be want[i]. */
static void read_back(const struct cnai_buf *text, const char *const *want,
		      size_t nwant)
{
	yaml_parser_t p;
	yaml_event_t ev;
	size_t i, k = 0;
	int done = 0;

	if (!yaml_parser_initialize(&p))
		abort();
	yaml_parser_set_input_string(&p, (const unsigned char *)text->buf,
				     text->len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev))
			abort();
		done = ev.type == YAML_STREAM_END_EVENT;
		if (ev.type == YAML_ALIAS_EVENT)
			abort();
		if (ev.type == YAML_SCALAR_EVENT) {
			const char *v = (const char *)ev.data.scalar.value;

			if (k == nwant ||
			    ev.data.scalar.length != strlen(want[k]) ||
			    memcmp(v, want[k], ev.data.scalar.length))
				abort();
			if (ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
				for (i = 0; i < N(non_strings); i++)
					if (match(&non_strings[i], v))
						abort();
			k++;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (k != nwant)
		abort();
}

static void check_yaml(const char *s)
{
	struct cnai_yaml *doc = cnai_yaml_map(), *seq = cnai_yaml_seq(),
			 **back = NULL;
	struct cnai_buf text = CNAI_BUF_INIT;
	/* the value's key must differ from s, the key of the list */
	const char *key = strcmp(s, "v") ? "v" : "w";
	const char *want[4] = { key, s, s, s };
	size_t n = 0;
	int valid = cnai_validate_text(s, NULL) == 0, err;

	if (!doc || !seq || cnai_yaml_set(doc, key, cnai_yaml_str(s)) < 0 ||
	    cnai_yaml_append(seq, cnai_yaml_str(s)) < 0 ||
	    cnai_yaml_set(doc, s, seq) < 0)
		abort();
	err = cnai_yaml_emit(&text, &doc, 1);
	if (!valid) {
		/* not UTF-8: refused, never emitted */
		if (err != CNAI_EINVALID)
			abort();
		cnai_error_clear();
		goto cleanup;
	}
	if (err < 0)
		abort();
	/* scalars in order: the key, s, then s as a key, then s */
	read_back(&text, want, 4);
	if (cnai_yaml_parse(&back, &n, text.buf, text.len, "fuzz") < 0 ||
	    n != 1)
		abort();
	{
		struct cnai_yaml *v = cnai_yaml_get(back[0], key),
				 *l = cnai_yaml_get(back[0], s);

		if (!v || v->type != CNAI_YAML_STR || strcmp(v->value, s) ||
		    !l || l->kind != CNAI_YAML_SEQ || l->n != 1 ||
		    l->items[0]->type != CNAI_YAML_STR ||
		    strcmp(l->items[0]->value, s))
			abort();
	}
	cnai_yaml_free(back[0]);
	free(back);
cleanup:
	cnai_yaml_free(doc);
	cnai_buf_release(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	compile_once();
	check_rules(s);
	check_messages(s);
	check_yaml(s);
	cnai_error_clear();
	free(s);
	return 0;
}
