/*
 * cnai sign: cosign-compatible keys, signatures, attestations and
 * provenance. The sub-command table and usage live here; each
 * sub-command is in commands/sign/.
 */
#include <stdio.h>
#include <string.h>

#include "commands/commands.h"
#include "commands/sign/sign.h"
#include "core/util/error.h"
#include "core/util/banned.h"

#define S(name, ...) static const char *const name[] = { __VA_ARGS__, NULL }

S(syn_keygen, "cnai sign keygen [--output-key-prefix <prefix>] [--force] "
	      "[--key-format sigstore|cosign-legacy] "
	      "[--passphrase-file <file>]");
S(syn_public_key, "cnai sign public-key --key <key> [--output-file <file>] "
		  "[--passphrase-file <file>]");
S(syn_import_key, "cnai sign import-key <pem> [--output-key-prefix <prefix>] "
		  "[--force] [--key-format sigstore|cosign-legacy] "
		  "[--passphrase-file <file>]");
S(syn_blob, "cnai sign blob <file> --key <key> [--output-signature <file>] "
	    "[--bundle <file>] [--passphrase-file <file>]");
S(syn_image, "cnai sign image <image> --key <key> [-a <key>=<value>]... "
	     "[--identity-tag | --identity <repo>] "
	     "[--format sig|bundle|both] [--passphrase-file <file>]");
S(syn_verify, "cnai sign verify <image> --key <pub> [-a <key>=<value>]...");
S(syn_model, "cnai sign model <model> --key <key> [-a <key>=<value>]... "
	     "[--format sig|bundle|both] [--passphrase-file <file>]");
S(syn_attest, "cnai sign attest <image> --key <key> (--predicate <file> "
	      "[--type <type>] | --provenance) [--format att|bundle|both] "
	      "[--passphrase-file <file>]");
S(syn_verify_attestation, "cnai sign verify-attestation <image> --key <pub> "
			  "[--type <type>]");
S(syn_provenance, "cnai sign provenance <image> [-o <file>]");
S(syn_verify_blob, "cnai sign verify-blob <file> --key <pub> "
		   "(--signature <file> | --bundle <file>)");

S(opt_keygen, "    --output-key-prefix <p>  write <p>.key (mode 0600) and "
	      "<p>.pub (default: cosign)",
  "    --force                  overwrite existing files",
  "    --key-format <f>         sigstore (ENCRYPTED SIGSTORE PRIVATE KEY, "
  "default)",
  "                             or cosign-legacy (ENCRYPTED COSIGN PRIVATE "
  "KEY)",
  "    --passphrase-file <f>    read the passphrase from a file",
  "",
  "The passphrase comes from --passphrase-file, else COSIGN_PASSWORD (empty",
  "allowed), else a prompt on the terminal.");
S(opt_public_key, "    --key <key>            an encrypted cosign private key",
  "    --output-file <file>   write the PEM there instead of stdout");
S(opt_import_key, "    <pem>    an unencrypted PKCS#8, SEC1 EC or PKCS#1 RSA "
		  "private key",
  "    Writes it in cosign's encrypted format (default prefix: "
  "import-cosign).");
S(opt_blob, "    --key <key>                 the encrypted private key",
  "    --output-signature <file>   write the base64 signature there",
  "    --bundle <file>             write a Sigstore bundle (v0.3) there",
  "    Without either, the base64 signature goes to stdout.");
S(opt_image, "    <image>            NAME:TAG or a digest of an image in the "
	    "store",
  "    --key <key>        the encrypted private key",
  "    -a <k>=<v>         an annotation in the signed payload's optional",
  "    --identity-tag     write docker-reference as repo:tag (containers/"
  "image's",
  "                       default policy); the default is cosign's repo "
  "form",
  "    --identity <repo>  the docker-reference to sign for, e.g. the "
  "registry",
  "                       repository an image in the store will be pushed "
  "to",
  "    --format <f>       sig (default): cosign 2's simple-signing "
  "layer under",
  "                       the tag sha256-<hex>.sig, read by cosign, podman, "
  "skopeo;",
  "                       bundle: cosign 3's Sigstore bundle (DSSE, in-toto "
  "sign/v1)",
  "                       as an OCI referrer (referrers API, else the tag "
  "sha256-<hex>);",
  "                       both: the two, so every verifier finds one",
  "    Earlier signatures are kept.");
S(opt_verify, "    --key <pub>        the public key",
  "    -a <k>=<v>         require this annotation in the payload",
  "    Reads both the sha256-<hex>.sig signatures and Sigstore bundle "
  "referrers.",
  "    Prints the verified payloads as JSON; exit 0 when one verifies, 1 "
  "when none.");
S(opt_model, "    <model>    NAME, NAME@VERSION, NAME@ALIAS or sha256:...",
  "    Signs the version's manifest; 'cnai model show' then lists the key.");
S(opt_attest, "    --predicate <file>   the predicate (JSON)",
  "    --type <type>        slsaprovenance, slsaprovenance02, "
  "slsaprovenance1, link,",
  "                         spdx, spdxjson, cyclonedx, vuln, openvex, "
  "custom (default)",
  "                         or a URI",
  "    --provenance         a SLSA provenance v1 predicate from the "
  "lineage graph",
  "    --format <f>         att (default): cosign 2's DSSE layer under "
  "sha256-<hex>.att;",
  "                         bundle: cosign 3's Sigstore bundle referrer; "
  "both",
  "    An in-toto Statement v1 about the image, signed in a DSSE "
  "envelope.");
S(opt_verify_attestation, "    --key <pub>     the public key",
  "    --type <type>   require this predicate type",
  "    Reads both sha256-<hex>.att and Sigstore bundle referrers.",
  "    Prints the verified statements; exit 0 when one verifies, 1 when "
  "none.");
S(opt_provenance, "    -o, --output <file>   write there instead of stdout",
  "    The SLSA provenance v1 predicate of an image: builder, parameters,",
  "    dependencies (model, datasets, base image, git commit), run times.");
S(opt_verify_blob, "    --key <pub>          the public key (PEM)",
  "    --signature <file>   a base64 signature (cosign sign-blob)",
  "    --bundle <file>      a Sigstore bundle",
  "    Exit 0 when it verifies, 1 when it does not.");

struct sign_sub {
	const char *name;
	int (*fn)(int argc, char **argv, struct cnai_ctx *ctx);
	struct cnai_usage usage;
};

static const struct sign_sub subs[] = {
	{ "attest", sign_attest, { syn_attest, opt_attest } },
	{ "blob", sign_blob, { syn_blob, opt_blob } },
	{ "image", sign_image, { syn_image, opt_image } },
	{ "import-key", sign_import_key, { syn_import_key, opt_import_key } },
	{ "keygen", sign_keygen, { syn_keygen, opt_keygen } },
	{ "model", sign_model, { syn_model, opt_model } },
	{ "provenance", sign_provenance, { syn_provenance, opt_provenance } },
	{ "public-key", sign_public_key, { syn_public_key, opt_public_key } },
	{ "verify", sign_verify, { syn_verify, opt_verify } },
	{ "verify-attestation", sign_verify_attestation,
	  { syn_verify_attestation, opt_verify_attestation } },
	{ "verify-blob", sign_verify_blob,
	  { syn_verify_blob, opt_verify_blob } },
};
#define NSUBS (sizeof(subs) / sizeof(*subs))

const struct cnai_usage *sign_usage(const char *sub)
{
	size_t i;

	for (i = 0; i < NSUBS; i++)
		if (!strcmp(subs[i].name, sub))
			return &subs[i].usage;
	CNAI_BUG("no usage for 'sign %s'", sub);
}

static void print_sign_usage(FILE *f)
{
	size_t i, j, k = 0;

	for (i = 0; i < NSUBS; i++)
		for (j = 0; subs[i].usage.synopsis[j]; j++)
			fprintf(f, "%s%s\n", k++ ? "   or: " : "usage: ",
				subs[i].usage.synopsis[j]);
	fprintf(f, "\nsee 'cnai sign <sub-command> --help' for each one's "
		   "options\n");
}

int cmd_sign(int argc, char **argv, struct cnai_ctx *ctx)
{
	size_t i;

	if (argc < 2) {
		print_sign_usage(stderr);
		return CNAI_EUSAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		print_sign_usage(stdout);
		return 0;
	}
	for (i = 0; i < NSUBS; i++)
		if (!strcmp(subs[i].name, argv[1]))
			return subs[i].fn(argc - 1, argv + 1, ctx);
	return cnai_unknown_subcommand("sign", argv[1], subs, NSUBS,
				       sizeof(*subs));
}
