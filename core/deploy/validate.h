/*
 * The form of every value a user gives `cnai deploy`, checked with
 * Kubernetes' own rules (k8s.io/apimachinery/pkg/util/validation and
 * pkg/api/resource) before a manifest is built: what the API server would
 * refuse is refused here, naming the flag, the value and the rule, and
 * nothing is written.
 *
 * Each cnai_validate_<rule>() returns 0 when `s` follows the rule, else
 * CNAI_EINVALID with what is wrong appended to `why` (when not NULL) as a
 * clause ("it is longer than 63 characters"). They never set the error
 * state; cnai_validate_flag() and cnai_validate_pair() do, for a command.
 */
#ifndef CNAI_CORE_DEPLOY_VALIDATE_H
#define CNAI_CORE_DEPLOY_VALIDATE_H

#include "core/util/buf.h"

/*
 * A DNS-1035 label: at most 63 of a-z 0-9 '-', starting with a letter,
 * ending with a letter or digit. Service names (and so cnai's --name,
 * which names the Service too).
 */
int cnai_validate_dns1035_label(const char *s, struct cnai_buf *why);

/*
 * A DNS-1123 label: at most 63 of a-z 0-9 '-', starting and ending with a
 * letter or digit. Namespaces.
 */
int cnai_validate_dns1123_label(const char *s, struct cnai_buf *why);

/*
 * A DNS-1123 subdomain: at most 253 characters, DNS-1123 labels joined by
 * '.'. Most object names; the prefix of a label key.
 */
int cnai_validate_dns1123_subdomain(const char *s, struct cnai_buf *why);

/*
 * A label or annotation key (a "qualified name"): an optional DNS-1123
 * subdomain prefix of at most 253 and '/', then a name of at most 63
 * matching [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?.
 */
int cnai_validate_label_key(const char *s, struct cnai_buf *why);

/*
 * A label value (also a node selector's): empty, or at most 63 matching
 * [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?.
 */
int cnai_validate_label_value(const char *s, struct cnai_buf *why);

/*
 * A resource quantity as a request: Kubernetes' grammar, a signed number
 * (digits, with an optional '.' and fraction) and then nothing, a decimal
 * SI suffix (n u m k M G T P E), a binary one (Ki Mi Gi Ti Pi Ei) or an
 * exponent (e3, E-2); and not negative, as requests may not be.
 */
int cnai_validate_quantity(const char *s, struct cnai_buf *why);

/*
 * An environment variable name as a C identifier, [A-Za-z_][A-Za-z0-9_]*:
 * one every shell and program can read (Kubernetes itself also allows
 * '-' and '.', which a shell cannot export).
 */
int cnai_validate_env_name(const char *s, struct cnai_buf *why);

/*
 * An extended resource name (--gpu-resource): a label key with a domain,
 * <domain>/<name> as nvidia.com/gpu, outside the kubernetes.io domain and
 * not starting with "requests.", as the API server requires.
 */
int cnai_validate_resource_name(const char *s, struct cnai_buf *why);

/*
 * An image reference, [registry/]repository[:tag][@sha256:<hex>]: printable
 * ASCII without whitespace, a registry host of letters, digits, '.', '-'
 * (or [IPv6]) with an optional port, then registry/reference.c's grammar
 * (lowercase repository, tag of at most 128, sha256 digest).
 */
int cnai_validate_image(const char *s, struct cnai_buf *why);

/*
 * A CronJob schedule, as Kubernetes parses it (robfig/cron's standard
 * parser): five fields, minute 0-59, hour 0-23, day of month 1-31, month
 * 1-12 or JAN-DEC, day of week 0-6 or SUN-SAT, each a list of '*' or '?',
 * values and ranges a-b with an optional /step; or @yearly, @annually,
 * @monthly, @weekly, @daily, @midnight, @hourly, @every <duration>. No
 * TZ= or CRON_TZ= prefix (CronJob has a timeZone field for that).
 */
int cnai_validate_cron(const char *s, struct cnai_buf *why);

/*
 * A number greater than 0, digits with an optional '.' and fraction (a
 * KEDA threshold, which becomes an HPA average value).
 */
int cnai_validate_positive_decimal(const char *s, struct cnai_buf *why);

/* Any text that is valid UTF-8 (environment and annotation values). */
int cnai_validate_text(const char *s, struct cnai_buf *why);

/*
 * One line of text: non-empty valid UTF-8 without control characters
 * (C0, DEL, C1) or line and paragraph separators (a kubectl context).
 */
int cnai_validate_line(const char *s, struct cnai_buf *why);

/*
 * A cnai train option name, as a sweep axis: at most 63 of a-z 0-9 '-'
 * '_', starting with a letter.
 */
int cnai_validate_train_key(const char *s, struct cnai_buf *why);

/*
 * Sweep values: a comma-separated list of non-empty UTF-8 values.
 */
int cnai_validate_sweep_values(const char *s, struct cnai_buf *why);

/* The rules above, for the two functions below. */
enum cnai_validate_rule {
	CNAI_VALIDATE_DNS1035_LABEL,
	CNAI_VALIDATE_DNS1123_LABEL,
	CNAI_VALIDATE_DNS1123_SUBDOMAIN,
	CNAI_VALIDATE_LABEL_KEY,
	CNAI_VALIDATE_LABEL_VALUE,
	CNAI_VALIDATE_QUANTITY,
	CNAI_VALIDATE_ENV_NAME,
	CNAI_VALIDATE_RESOURCE_NAME,
	CNAI_VALIDATE_IMAGE,
	CNAI_VALIDATE_CRON,
	CNAI_VALIDATE_POSITIVE_DECIMAL,
	CNAI_VALIDATE_TEXT,
	CNAI_VALIDATE_LINE,
	CNAI_VALIDATE_TRAIN_KEY,
	CNAI_VALIDATE_SWEEP_VALUES,
};

/*
 * Checks `value` of command-line option `flag` (NULL value: nothing to
 * check). 0, or CNAI_EUSAGE with "FLAG 'VALUE' is not RULE: WHY", the
 * value shown with control characters and bytes that are not UTF-8
 * escaped (\n, \x01), and cut after 80 characters.
 */
int cnai_validate_flag(const char *flag, const char *value,
		       enum cnai_validate_rule rule);

/*
 * Checks a "KEY=VALUE" argument of `flag`: the key (before the first
 * '=', not empty) with `key_rule`, the rest with `value_rule`. 0, or
 * CNAI_EUSAGE with "FLAG 'KV': the key 'KEY' is not RULE: WHY" (or "the
 * value ...", or "is not KEY=VALUE").
 */
int cnai_validate_pair(const char *flag, const char *kv,
		       enum cnai_validate_rule key_rule,
		       enum cnai_validate_rule value_rule);

/*
 * Reads the public key file for --policy into `out` (the caller releases
 * it): PEM text, as it goes into the policy as text. CNAI_EINVALID naming
 * the file when it is not a PEM public key; read errors as
 * cnai_fs_read_file returns them.
 */
int cnai_validate_policy_key(struct cnai_buf *out, const char *path);

#endif
