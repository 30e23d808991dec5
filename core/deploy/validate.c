/*
 * Validation of the values users give `cnai deploy`, after Kubernetes'
 * rules: k8s.io/apimachinery/pkg/util/validation (IsDNS1123Label,
 * IsDNS1123Subdomain, IsDNS1035Label, IsQualifiedName, IsValidLabelValue,
 * IsCIdentifier), pkg/api/resource's quantity grammar, the extended
 * resource rule of pkg/apis/core/helper and robfig/cron's standard parser.
 * The emitter already keeps any value one scalar; this module keeps the
 * manifests ones the API server accepts, and says which rule a value
 * breaks while nothing has been written yet.
 *
 * Every checker is hand-written over bytes (no regex engine, no locale):
 * the fuzz target tests/fuzz/fuzz-deploy-values.c compares them with the
 * rules written as POSIX regular expressions.
 */
#include "core/deploy/validate.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/yaml.h"
#include "registry/reference.h"
#include "core/util/banned.h"

enum { NAME_MAX_LEN = 63, SUBDOMAIN_MAX_LEN = 253, SHOW_MAX = 80 };

static int fail(struct cnai_buf *why, const char *reason)
{
	if (why)
		cnai_buf_adds(why, reason);
	return CNAI_EINVALID;
}

static int is_lower(int c)
{
	return c >= 'a' && c <= 'z';
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(int c)
{
	return is_lower(c) || is_digit(c) || (c >= 'A' && c <= 'Z');
}

/* C0, DEL, C1, and the line and paragraph separators U+2028, U+2029. */
static int is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x2028 ||
	       c == 0x2029;
}

/* ---- names ------------------------------------------------------------- */

/* A DNS label in s[0..n): 1035 also wants a letter first. */
static int dns_label(const char *s, size_t n, int rfc1035,
		     struct cnai_buf *why)
{
	size_t i;

	if (!n)
		return fail(why, "it is empty");
	if (n > NAME_MAX_LEN)
		return fail(why, "it is longer than 63 characters");
	for (i = 0; i < n; i++)
		if (!is_lower(s[i]) && !is_digit(s[i]) && s[i] != '-')
			return fail(why, "it has a character other than "
				    "a-z 0-9 '-'");
	if (rfc1035 && !is_lower(s[0]))
		return fail(why, "it does not start with a letter a-z");
	if (s[0] == '-' || s[n - 1] == '-')
		return fail(why, "it does not start and end with a letter or "
			    "digit");
	return 0;
}

int cnai_validate_dns1035_label(const char *s, struct cnai_buf *why)
{
	return dns_label(s, strlen(s), 1, why);
}

int cnai_validate_dns1123_label(const char *s, struct cnai_buf *why)
{
	return dns_label(s, strlen(s), 0, why);
}

static int subdomain(const char *s, size_t n, struct cnai_buf *why)
{
	size_t i;

	if (!n)
		return fail(why, "it is empty");
	if (n > SUBDOMAIN_MAX_LEN)
		return fail(why, "it is longer than 253 characters");
	for (i = 0; i < n; i++)
		if (!is_lower(s[i]) && !is_digit(s[i]) && s[i] != '-' &&
		    s[i] != '.')
			return fail(why, "it has a character other than "
				    "a-z 0-9 '-' '.'");
	for (i = 0; i < n; i++)
		if (s[i] == '.' && (i == 0 || i + 1 == n || s[i + 1] == '.'))
			return fail(why, "it has an empty part between dots");
	for (i = 0; i < n; i++)
		if (s[i] == '-' && (i == 0 || i + 1 == n || s[i - 1] == '.' ||
				    s[i + 1] == '.'))
			return fail(why, "a part of it between dots does not "
				    "start and end with a letter or digit");
	return 0;
}

int cnai_validate_dns1123_subdomain(const char *s, struct cnai_buf *why)
{
	return subdomain(s, strlen(s), why);
}

/* The reason "SUBJECT WHAT", for reasons about a part of a value. */
static int fail_part(struct cnai_buf *why, const char *subject,
		     const char *what)
{
	if (why)
		cnai_buf_addf(why, "%s %s", subject, what);
	return CNAI_EINVALID;
}

/*
 * [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])? in s[0..n), at most 63;
 * `subject` is what reasons call it: "it", "its name".
 */
static int name_part(const char *s, size_t n, const char *subject,
		     struct cnai_buf *why)
{
	size_t i;

	if (n > NAME_MAX_LEN)
		return fail_part(why, subject, "is longer than 63 characters");
	for (i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' &&
		    s[i] != '.')
			return fail_part(why, subject, "has a character other "
					 "than A-Z a-z 0-9 '-' '_' '.'");
	if (n && (!is_alnum(s[0]) || !is_alnum(s[n - 1])))
		return fail_part(why, subject, "does not start and end with a "
				 "letter or digit");
	return 0;
}

int cnai_validate_label_key(const char *s, struct cnai_buf *why)
{
	const char *slash = strchr(s, '/'), *name = s;

	if (!*s)
		return fail(why, "it is empty");
	if (slash) {
		struct cnai_buf sub = CNAI_BUF_INIT;
		int err;

		if (slash == s)
			return fail(why, "its prefix before '/' is empty");
		err = subdomain(s, (size_t)(slash - s), why ? &sub : NULL);
		if (err < 0 && why)
			cnai_buf_addf(why, "its prefix is not a DNS-1123 "
				      "subdomain: %s", sub.buf);
		cnai_buf_release(&sub);
		if (err < 0)
			return err;
		name = slash + 1;
	}
	if (!*name)
		return fail(why, "its name after '/' is empty");
	return name_part(name, strlen(name), "its name", why);
}

int cnai_validate_label_value(const char *s, struct cnai_buf *why)
{
	return name_part(s, strlen(s), "it", why);
}

int cnai_validate_env_name(const char *s, struct cnai_buf *why)
{
	size_t i;

	if (!*s)
		return fail(why, "it is empty");
	if (is_digit(s[0]))
		return fail(why, "it starts with a digit");
	for (i = 0; s[i]; i++)
		if (!is_alnum(s[i]) && s[i] != '_')
			return fail(why, "it has a character other than "
				    "A-Z a-z 0-9 '_'");
	return 0;
}

int cnai_validate_resource_name(const char *s, struct cnai_buf *why)
{
	const char *slash = strchr(s, '/');

	if (!*s)
		return fail(why, "it is empty");
	if (!slash)
		return fail(why, "it has no domain: an extended resource is "
			    "<domain>/<name>, as nvidia.com/gpu");
	if (strstr(s, "kubernetes.io/"))
		return fail(why, "the kubernetes.io domain is kept for native "
			    "resources");
	if (!strncmp(s, "requests.", 9))
		return fail(why, "it starts with 'requests.', kept for quotas");
	/* The API server checks "requests." + name as a qualified name. */
	if ((size_t)(slash - s) > SUBDOMAIN_MAX_LEN - 9)
		return fail(why, "its domain is longer than 244 characters");
	return cnai_validate_label_key(s, why);
}

int cnai_validate_train_key(const char *s, struct cnai_buf *why)
{
	size_t i, n = strlen(s);

	if (!n)
		return fail(why, "it is empty");
	if (n > NAME_MAX_LEN)
		return fail(why, "it is longer than 63 characters");
	if (!is_lower(s[0]))
		return fail(why, "it does not start with a letter a-z");
	for (i = 0; i < n; i++)
		if (!is_lower(s[i]) && !is_digit(s[i]) && s[i] != '-' &&
		    s[i] != '_')
			return fail(why, "it has a character other than "
				    "a-z 0-9 '-' '_'");
	return 0;
}

/* ---- quantities and numbers -------------------------------------------- */

/* e<n> or E<n>, n a signed integer: a quantity's decimal exponent. */
static int is_exponent(const char *s)
{
	if (*s != 'e' && *s != 'E')
		return 0;
	s += 1 + (s[1] == '+' || s[1] == '-');
	if (!is_digit(*s))
		return 0;
	while (is_digit(*s))
		s++;
	return !*s;
}

int cnai_validate_quantity(const char *s, struct cnai_buf *why)
{
	static const char *const suffixes[] = {
		"", "n", "u", "m", "k", "M", "G", "T", "P", "E",
		"Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
	};
	const char *p = s;
	size_t digits = 0, i;
	int negative = 0, nonzero = 0;

	if (!*s)
		return fail(why, "it is empty");
	if (*p == '+' || *p == '-')
		negative = *p++ == '-';
	for (; is_digit(*p); p++, digits++)
		nonzero |= *p != '0';
	if (*p == '.')
		for (p++; is_digit(*p); p++, digits++)
			nonzero |= *p != '0';
	if (!digits)
		return fail(why, "it does not start with a number");
	for (i = 0; i < sizeof(suffixes) / sizeof(*suffixes); i++)
		if (!strcmp(p, suffixes[i]))
			break;
	if (i == sizeof(suffixes) / sizeof(*suffixes) && !is_exponent(p))
		return fail(why, "its suffix is not one of n u m k M G T P "
			    "E, Ki Mi Gi Ti Pi Ei or an exponent e<n>");
	if (negative && nonzero)
		return fail(why, "it is negative");
	return 0;
}

int cnai_validate_positive_decimal(const char *s, struct cnai_buf *why)
{
	const char *p = s;
	int nonzero = 0;

	if (!is_digit(*p))
		return fail(why, "it is not a number such as 50 or 0.5");
	for (; is_digit(*p); p++)
		nonzero |= *p != '0';
	if (*p == '.') {
		if (!is_digit(*++p))
			return fail(why, "it is not a number such as 50 or "
				    "0.5");
		for (; is_digit(*p); p++)
			nonzero |= *p != '0';
	}
	if (*p)
		return fail(why, "it is not a number such as 50 or 0.5");
	if (!nonzero)
		return fail(why, "it is 0");
	return 0;
}

/* ---- text -------------------------------------------------------------- */

/* Valid UTF-8, and without control characters when `one_line`. */
static int utf8_text(const char *s, int one_line, struct cnai_buf *why)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c;
	size_t n;

	for (; *p; p += n) {
		if (!(n = cnai_yaml_utf8_next(p, &c)))
			return fail(why, "it is not valid UTF-8");
		if (one_line && is_control(c))
			return fail(why, "it has a control character");
	}
	return 0;
}

int cnai_validate_text(const char *s, struct cnai_buf *why)
{
	return utf8_text(s, 0, why);
}

int cnai_validate_line(const char *s, struct cnai_buf *why)
{
	if (!*s)
		return fail(why, "it is empty");
	return utf8_text(s, 1, why);
}

int cnai_validate_sweep_values(const char *s, struct cnai_buf *why)
{
	const char *p = s;
	int err;

	if (!*s)
		return fail(why, "it has no values");
	if ((err = cnai_validate_text(s, why)) < 0)
		return err;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (!n)
			return fail(why, "it has an empty value");
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* ---- images ------------------------------------------------------------ */

/* host[:port], or [IPv6][:port]: what a registry may be called. */
static int registry_host(const char *s, size_t n)
{
	size_t i = 0, k;

	if (n && s[0] == '[') {
		for (i = 1; i < n && s[i] != ']'; i++)
			if (!is_digit(s[i]) && !strchr("abcdefABCDEF:.", s[i]))
				return 0;
		if (i == n || i == 1)
			return 0;
		i++;
	} else {
		for (; i < n && s[i] != ':'; i++)
			if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '-')
				return 0;
		if (!i || s[0] == '.' || s[0] == '-' || s[i - 1] == '.' ||
		    s[i - 1] == '-')
			return 0;
	}
	if (i == n)
		return 1;
	if (s[i] != ':' || n - i - 1 == 0 || n - i - 1 > 5)
		return 0;
	for (k = i + 1; k < n; k++)
		if (!is_digit(s[k]))
			return 0;
	return 1;
}

/*
 * A path component of the distribution spec:
 * [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*.
 */
static int repo_component(const char *s, size_t n)
{
	size_t i = 0, start;

	for (;;) {
		start = i;
		while (i < n && (is_lower(s[i]) || is_digit(s[i])))
			i++;
		if (i == start)
			return 0;
		if (i == n)
			return 1;
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i += 1 + (i + 1 < n && s[i + 1] == '_');
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return 0;
		}
	}
}

int cnai_validate_image(const char *s, struct cnai_buf *why)
{
	struct cnai_reference ref;
	const char *p, *slash, *end;
	size_t n = strlen(s);

	if (!n)
		return fail(why, "it is empty");
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c == 0x7f)
			return fail(why, "it has whitespace or a control "
				    "character");
		if (c >= 0x80)
			return fail(why, "it has a character outside ASCII");
	}
	if (cnai_reference_parse(&ref, s) < 0) {
		/* the parser's own words after "image reference 'S': ", as
		 * "the tag is empty or over 128 characters", unless a long S
		 * cut them off */
		const struct cnai_error *e = cnai_error_last();
		size_t skip = strlen("image reference '") + n + strlen("': "),
		       len = strlen(e->message);

		fail(why, len > skip && len + 1 < sizeof(e->message)
				  ? e->message + skip
				  : "it is not [registry/]repository[:tag]"
				    "[@digest]");
		cnai_error_clear();
		return CNAI_EINVALID;
	}
	end = strchr(s, '@');
	end = end ? end : s + n;
	slash = memchr(s, '/', (size_t)(end - s));
	if (slash && strcmp(ref.registry, CNAI_DOCKER_HUB) &&
	    !registry_host(s, (size_t)(slash - s)))
		return fail(why, "its registry is not a host name or [IPv6] "
			    "address with an optional :port");
	/* each component of the repository: lowercase, single separators */
	for (p = ref.repository; *p;) {
		const char *next = strchr(p, '/');
		size_t len = next ? (size_t)(next - p) : strlen(p);

		if (!repo_component(p, len))
			return fail(why, "a component of its repository is not "
				    "[a-z0-9]+ joined by '.', '_', '__' or "
				    "'-'");
		p += len + (next != NULL);
	}
	return 0;
}

/* ---- cron -------------------------------------------------------------- */

struct cron_field {
	const char *name;
	int min, max;
	const char *const *names; /* 3-letter names for min.., or NULL */
};

static const char *const months[] = { "jan", "feb", "mar", "apr", "may",
				      "jun", "jul", "aug", "sep", "oct",
				      "nov", "dec", NULL };
static const char *const days[] = { "sun", "mon", "tue", "wed", "thu",
				    "fri", "sat", NULL };

static const struct cron_field cron_fields[5] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day-of-month", 1, 31, NULL },
	{ "month", 1, 12, months },
	{ "day-of-week", 0, 6, days },
};

/* A value of field f in s[0..n): a number or a name; -1 if neither. */
static int cron_value(const char *s, size_t n, const struct cron_field *f)
{
	size_t i;
	int v = 0;

	if (n && is_digit(s[0])) {
		if (n > 4)
			return -1;
		for (i = 0; i < n; i++) {
			if (!is_digit(s[i]))
				return -1;
			v = v * 10 + (s[i] - '0');
		}
		return v >= f->min && v <= f->max ? v : -1;
	}
	for (i = 0; f->names && f->names[i]; i++)
		if (n == 3 && !strncasecmp(s, f->names[i], 3))
			return f->min + (int)i;
	return -1;
}

/* One comma-separated item: (*|?|v|v-v)[/step]. */
static int cron_item(const char *s, size_t n, const struct cron_field *f)
{
	const char *slash = memchr(s, '/', n), *dash;
	size_t rn = slash ? (size_t)(slash - s) : n;
	int lo, hi;

	if (slash) {
		const char *st = slash + 1;
		size_t sn = n - rn - 1, i;
		long step = 0;

		if (!sn || sn > 4)
			return 0;
		for (i = 0; i < sn; i++) {
			if (!is_digit(st[i]))
				return 0;
			step = step * 10 + (st[i] - '0');
		}
		if (step < 1)
			return 0;
	}
	if (rn == 1 && (s[0] == '*' || s[0] == '?'))
		return 1;
	dash = memchr(s, '-', rn);
	if (!dash)
		return cron_value(s, rn, f) >= 0;
	lo = cron_value(s, (size_t)(dash - s), f);
	hi = cron_value(dash + 1, rn - (size_t)(dash - s) - 1, f);
	return lo >= 0 && hi >= 0 && lo <= hi;
}

/* Go's time.ParseDuration, positive: ([0-9]*(.[0-9]*)?unit)+ */
static int go_duration(const char *s)
{
	static const char *const units[] = { "ns", "us", "\xc2\xb5s", "ms",
					     "s", "m", "h" };
	int nonzero = 0;

	if (!*s)
		return 0;
	while (*s) {
		size_t digits = 0, i, best = 0;

		for (; is_digit(*s); s++, digits++)
			nonzero |= *s != '0';
		if (*s == '.')
			for (s++; is_digit(*s); s++, digits++)
				nonzero |= *s != '0';
		if (!digits)
			return 0;
		for (i = 0; i < sizeof(units) / sizeof(*units); i++) {
			size_t len = strlen(units[i]);

			if (!strncmp(s, units[i], len) && len > best)
				best = len;
		}
		if (!best)
			return 0;
		s += best;
	}
	return nonzero;
}

static int cron_field_error(struct cnai_buf *why, const struct cron_field *f,
			    const char *s, size_t n)
{
	/* the field is ASCII without controls; a long one is cut */
	if (why)
		cnai_buf_addf(why, "its %s field '%.*s%s' is not *, ?, a value "
			      "%d-%d, a range a-b or a list of them, each with "
			      "an optional /step", f->name,
			      (int)(n > 32 ? 32 : n), s, n > 32 ? "..." : "",
			      f->min, f->max);
	return CNAI_EINVALID;
}

int cnai_validate_cron(const char *s, struct cnai_buf *why)
{
	static const char *const descriptors[] = {
		"@yearly", "@annually", "@monthly", "@weekly", "@daily",
		"@midnight", "@hourly",
	};
	const char *p, *start[6];
	size_t len[6], nf = 0, i;

	if (!*s)
		return fail(why, "it is empty");
	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return fail(why, "it has a control character");
		else if ((unsigned char)*p >= 0x7f)
			return fail(why, "it has a character outside ASCII");
	if (strstr(s, "TZ"))
		return fail(why, "it names a time zone (TZ=, CRON_TZ=): a "
			    "CronJob takes that in its timeZone field");
	/* robfig/cron takes a descriptor only as the whole text, and the
	 * duration after exactly "@every " */
	if (s[0] == '@') {
		for (i = 0; i < sizeof(descriptors) / sizeof(*descriptors); i++)
			if (!strcmp(s, descriptors[i]))
				return 0;
		if (!strncmp(s, "@every ", 7))
			return go_duration(s + 7)
				       ? 0
				       : fail(why, "@every wants a duration "
					      "such as 90s, 15m or 1h30m");
		return fail(why, "it is not @yearly, @annually, @monthly, "
			    "@weekly, @daily, @midnight, @hourly or @every "
			    "<duration>");
	}
	for (p = s; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (nf == 6)
			break; /* too many: said below */
		start[nf] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		len[nf] = (size_t)(p - start[nf]);
		nf++;
	}
	if (nf != 5)
		return fail(why, "it does not have 5 fields (minute hour "
			    "day-of-month month day-of-week)");
	for (i = 0; i < 5; i++) {
		const char *q = start[i], *end = start[i] + len[i];

		while (q <= end) {
			const char *comma = memchr(q, ',', (size_t)(end - q));
			size_t n = comma ? (size_t)(comma - q)
					 : (size_t)(end - q);

			if (!cron_item(q, n, &cron_fields[i]))
				return cron_field_error(why, &cron_fields[i],
							start[i], len[i]);
			q += n + 1;
		}
	}
	return 0;
}

/* ---- messages ---------------------------------------------------------- */

static const struct {
	const char *what;
	int (*check)(const char *s, struct cnai_buf *why);
} rules[] = {
	[CNAI_VALIDATE_DNS1035_LABEL] = { "a DNS-1035 label",
					  cnai_validate_dns1035_label },
	[CNAI_VALIDATE_DNS1123_LABEL] = { "a DNS-1123 label",
					  cnai_validate_dns1123_label },
	[CNAI_VALIDATE_DNS1123_SUBDOMAIN] = { "a DNS-1123 subdomain",
					      cnai_validate_dns1123_subdomain },
	[CNAI_VALIDATE_LABEL_KEY] = { "a qualified name (label or annotation "
				      "key)", cnai_validate_label_key },
	[CNAI_VALIDATE_LABEL_VALUE] = { "a label value",
					cnai_validate_label_value },
	[CNAI_VALIDATE_QUANTITY] = { "a quantity (as 500m, 2, 1.5Gi, 1e3)",
				     cnai_validate_quantity },
	[CNAI_VALIDATE_ENV_NAME] = { "an environment variable name "
				     "([A-Za-z_][A-Za-z0-9_]*)",
				     cnai_validate_env_name },
	[CNAI_VALIDATE_RESOURCE_NAME] = { "an extended resource name",
					  cnai_validate_resource_name },
	[CNAI_VALIDATE_IMAGE] = { "an image reference",
				  cnai_validate_image },
	[CNAI_VALIDATE_CRON] = { "a cron schedule", cnai_validate_cron },
	[CNAI_VALIDATE_POSITIVE_DECIMAL] = {
		"a number greater than 0", cnai_validate_positive_decimal },
	[CNAI_VALIDATE_TEXT] = { "UTF-8 text", cnai_validate_text },
	[CNAI_VALIDATE_LINE] = { "one line of text", cnai_validate_line },
	[CNAI_VALIDATE_TRAIN_KEY] = { "a train option name",
				      cnai_validate_train_key },
	[CNAI_VALIDATE_SWEEP_VALUES] = { "a list of values V1,V2,...",
					 cnai_validate_sweep_values },
};

/*
 * `s` (its first n bytes) for a one-line message: control characters and
 * bytes that are not UTF-8 escaped, cut after SHOW_MAX characters.
 */
static void show(struct cnai_buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s,
			    *end = (const unsigned char *)s + n;
	size_t shown = 0, len;
	uint32_t c;

	for (; p < end && shown < SHOW_MAX; p += len, shown++) {
		len = cnai_yaml_utf8_next(p, &c);
		if (len && p + len > end)
			len = 0;
		if (len && c == '\n')
			cnai_buf_adds(out, "\\n");
		else if (len && c == '\t')
			cnai_buf_adds(out, "\\t");
		else if (len && c == '\r')
			cnai_buf_adds(out, "\\r");
		else if (len && c == '\\')
			cnai_buf_adds(out, "\\\\");
		else if (len && is_control(c) && c < 0x100)
			cnai_buf_addf(out, "\\x%02x", (unsigned)c);
		else if (len && is_control(c))
			cnai_buf_addf(out, "\\u%04x", (unsigned)c);
		else if (len)
			cnai_buf_add(out, p, len);
		else {
			cnai_buf_addf(out, "\\x%02x", (unsigned)*p);
			len = 1;
		}
	}
	if (p < end)
		cnai_buf_adds(out, "...");
}

int cnai_validate_flag(const char *flag, const char *value,
		       enum cnai_validate_rule rule)
{
	struct cnai_buf why = CNAI_BUF_INIT, v = CNAI_BUF_INIT;
	int err = 0;

	if (value && rules[rule].check(value, &why) < 0) {
		show(&v, value, strlen(value));
		err = cnai_error_set(CNAI_EUSAGE, "%s '%s' is not %s: %s", flag,
				     v.buf, rules[rule].what, why.buf);
	}
	cnai_buf_release(&why);
	cnai_buf_release(&v);
	return err;
}

int cnai_validate_pair(const char *flag, const char *kv,
		       enum cnai_validate_rule key_rule,
		       enum cnai_validate_rule value_rule)
{
	struct cnai_buf why = CNAI_BUF_INIT, whole = CNAI_BUF_INIT,
			part = CNAI_BUF_INIT, key = CNAI_BUF_INIT;
	const char *eq = strchr(kv, '='), *what = NULL, *which = NULL;
	int err = 0;

	show(&whole, kv, strlen(kv));
	if (!eq || eq == kv) {
		err = cnai_error_set(CNAI_EUSAGE, "%s '%s' is not KEY=VALUE",
				     flag, whole.buf);
		goto cleanup;
	}
	cnai_buf_add(&key, kv, (size_t)(eq - kv));
	if ((err = cnai_buf_oom(&key)) < 0)
		goto cleanup;
	if (rules[key_rule].check(key.buf, &why) < 0) {
		which = key_rule == CNAI_VALIDATE_ENV_NAME ? "name" : "key";
		what = rules[key_rule].what;
		show(&part, key.buf, key.len);
	} else if (rules[value_rule].check(eq + 1, &why) < 0) {
		which = "value";
		what = rules[value_rule].what;
		show(&part, eq + 1, strlen(eq + 1));
	}
	if (what)
		err = cnai_error_set(CNAI_EUSAGE, "%s '%s': the %s '%s' is not "
				     "%s: %s", flag, whole.buf, which, part.buf,
				     what, why.buf);
cleanup:
	cnai_buf_release(&why);
	cnai_buf_release(&whole);
	cnai_buf_release(&part);
	cnai_buf_release(&key);
	return err;
}

int cnai_validate_policy_key(struct cnai_buf *out, const char *path)
{
	int err;

	if ((err = cnai_fs_read_file(out, path, 65536)) < 0)
		return err;
	if (strlen(out->buf) != out->len ||
	    cnai_validate_text(out->buf, NULL) < 0 ||
	    !strstr(out->buf, "-----BEGIN PUBLIC KEY-----"))
		return cnai_error_set(CNAI_EINVALID, "%s: not a PEM public key",
				      path);
	return 0;
}
