/*
 * ELF dependency resolution for images that run on `scratch`. Reads the
 * dynamic section through the file's program headers (no section headers
 * needed), so it works on stripped binaries.
 */
#include "registry/elfdeps.h"

#include <elf.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/banned.h"

enum { ELF_LIMIT = 512 * 1024 * 1024, MAX_DIRS = 64, MAX_LIBS = 512 };

static const char *const default_dirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
	"/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib",
};

struct search {
	char *dirs[MAX_DIRS];
	size_t ndirs;
};

static void add_dir(struct search *s, const char *d, size_t len)
{
	size_t i;

	if (s->ndirs == MAX_DIRS || !len)
		return;
	for (i = 0; i < s->ndirs; i++)
		if (strlen(s->dirs[i]) == len && !strncmp(s->dirs[i], d, len))
			return;
	s->dirs[s->ndirs++] = strndup(d, len);
}

/* /etc/ld.so.conf and its includes: the folders ldconfig caches. */
static void read_ld_conf(struct search *s, const char *path, int depth)
{
	struct cnai_buf text = CNAI_BUF_INIT;
	char *line, *save = NULL, *p;

	if (depth > 4 || cnai_fs_read_file(&text, path, 1 << 20) < 0) {
		cnai_error_clear();
		cnai_buf_release(&text);
		return;
	}
	for (p = text.buf; (line = strtok_r(p, "\n", &save)); p = NULL) {
		line += strspn(line, " \t");
		line[strcspn(line, "#")] = '\0';
		if (!strncmp(line, "include", 7)) {
			glob_t g;
			size_t i;
			char *pat = line + 7 + strspn(line + 7, " \t");

			pat[strcspn(pat, " \t")] = '\0';
			if (glob(pat, 0, NULL, &g) == 0)
				for (i = 0; i < g.gl_pathc; i++)
					read_ld_conf(s, g.gl_pathv[i],
						     depth + 1);
			globfree(&g);
		} else if (line[0] == '/') {
			add_dir(s, line, strcspn(line, " \t"));
		}
	}
	cnai_buf_release(&text);
}

struct dyn_info {
	char interp[PATH_MAX];
	char *needed[128];
	size_t nneeded;
	char runpath[4096];
};

static void dyn_info_release(struct dyn_info *d)
{
	size_t i;

	for (i = 0; i < d->nneeded; i++)
		free(d->needed[i]);
	d->nneeded = 0;
}

/* Maps a virtual address to a file offset through the PT_LOAD segments. */
static int vaddr_to_off(uint64_t *off, const Elf64_Phdr *ph, size_t n,
			uint64_t vaddr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && vaddr >= ph[i].p_vaddr &&
		    vaddr < ph[i].p_vaddr + ph[i].p_filesz) {
			*off = vaddr - ph[i].p_vaddr + ph[i].p_offset;
			return 0;
		}
	return -1;
}

static int read_dynamic(struct dyn_info *d, const char *path)
{
	struct cnai_buf f = CNAI_BUF_INIT;
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *ph;
	const Elf64_Dyn *dyn = NULL;
	uint64_t strtab = 0, stroff, i, ndyn = 0;
	int err;

	memset(d, 0, sizeof(*d));
	if ((err = cnai_fs_read_file(&f, path, ELF_LIMIT)) < 0)
		return err;
	eh = (const Elf64_Ehdr *)f.buf;
	if (f.len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(*ph) > f.len) {
		err = cnai_error_set(CNAI_EINVALID, "'%s' is not a 64-bit ELF "
				     "file", path);
		goto cleanup;
	}
	ph = (const Elf64_Phdr *)(f.buf + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP &&
		    ph[i].p_offset + ph[i].p_filesz <= f.len)
			snprintf(d->interp, sizeof(d->interp), "%.*s",
				 (int)ph[i].p_filesz, f.buf + ph[i].p_offset);
		if (ph[i].p_type == PT_DYNAMIC &&
		    ph[i].p_offset + ph[i].p_filesz <= f.len) {
			dyn = (const Elf64_Dyn *)(f.buf + ph[i].p_offset);
			ndyn = ph[i].p_filesz / sizeof(*dyn);
		}
	}
	for (i = 0; dyn && i < ndyn && dyn[i].d_tag != DT_NULL; i++)
		if (dyn[i].d_tag == DT_STRTAB)
			strtab = dyn[i].d_un.d_ptr;
	if (!dyn || vaddr_to_off(&stroff, ph, eh->e_phnum, strtab) < 0)
		goto cleanup; /* static: nothing needed */
	for (i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
		uint64_t at = stroff + dyn[i].d_un.d_val;

		if (at >= f.len)
			continue;
		if (dyn[i].d_tag == DT_NEEDED && d->nneeded < 128)
			d->needed[d->nneeded++] =
				strndup(f.buf + at, f.len - at);
		else if (dyn[i].d_tag == DT_RUNPATH || dyn[i].d_tag == DT_RPATH)
			snprintf(d->runpath, sizeof(d->runpath), "%.*s",
				 (int)(f.len - at), f.buf + at);
	}
cleanup:
	cnai_buf_release(&f);
	return err;
}

static int have(const struct cnai_elf_deps *d, const char *path)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (!strcmp(d->files[i].path, path))
			return 1;
	return 0;
}

static int add(struct cnai_elf_deps *d, const char *path)
{
	char real[PATH_MAX];
	struct cnai_elf_file *g;

	if (have(d, path))
		return 0;
	if (d->n >= MAX_LIBS)
		return cnai_error_set(CNAI_EINVALID, "more than %d libraries",
				      MAX_LIBS);
	if (!realpath(path, real))
		return cnai_error_set_errno(CNAI_ENOTFOUND, "cannot resolve "
					    "'%s'", path);
	if (!(g = realloc(d->files, (d->n + 1) * sizeof(*g))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	d->files = g;
	d->files[d->n].path = strdup(path);
	d->files[d->n].source = strdup(real);
	d->n++;
	return 0;
}

/* Finds `name` for the object at `from` (for $ORIGIN in its run path). */
static int find_lib(char out[PATH_MAX], const char *name, const char *runpath,
		    const char *from, const struct search *s)
{
	char origin[PATH_MAX], buf[4096], *p, *save = NULL, *tok;
	size_t i;

	if (strchr(name, '/')) {
		snprintf(out, PATH_MAX, "%s", name);
		return access(out, R_OK) == 0 ? 0 : -1;
	}
	snprintf(origin, sizeof(origin), "%s", from);
	if (strrchr(origin, '/'))
		*strrchr(origin, '/') = '\0';
	snprintf(buf, sizeof(buf), "%s", runpath);
	for (p = buf; (tok = strtok_r(p, ":", &save)); p = NULL) {
		if (!strncmp(tok, "$ORIGIN", 7))
			snprintf(out, PATH_MAX, "%.2000s%.1000s/%.255s", origin, tok + 7,
				 name);
		else
			snprintf(out, PATH_MAX, "%.3000s/%.255s", tok, name);
		if (access(out, R_OK) == 0)
			return 0;
	}
	for (i = 0; i < s->ndirs; i++) {
		snprintf(out, PATH_MAX, "%.3000s/%.255s", s->dirs[i], name);
		if (access(out, R_OK) == 0)
			return 0;
	}
	return -1;
}

/* The folders the loader searches: ld.so.conf's, then the defaults. */
static void search_init(struct search *s)
{
	size_t i;

	read_ld_conf(s, "/etc/ld.so.conf", 0);
	for (i = 0; i < sizeof(default_dirs) / sizeof(*default_dirs); i++)
		add_dir(s, default_dirs[i], strlen(default_dirs[i]));
}

/* Adds the DT_NEEDED libraries of the ELF file at `obj`. */
static int add_needed(struct cnai_elf_deps *out, const char *obj,
		      const struct search *s)
{
	struct dyn_info info;
	char found[PATH_MAX];
	size_t j;
	int err;

	if ((err = read_dynamic(&info, obj)) < 0)
		return err;
	for (j = 0; j < info.nneeded && !err; j++) {
		if (find_lib(found, info.needed[j], info.runpath, obj, s) < 0) {
			err = cnai_error_set(CNAI_ENOTFOUND, "library '%s' "
					     "needed by '%s' not found",
					     info.needed[j], obj);
			break;
		}
		err = add(out, found);
	}
	dyn_info_release(&info);
	return err;
}

int cnai_elf_deps(struct cnai_elf_deps *out, const char *program)
{
	struct search s = { { NULL }, 0 };
	struct dyn_info info;
	size_t i;
	int err, has_interp;

	memset(out, 0, sizeof(*out));
	search_init(&s);
	if ((err = read_dynamic(&info, program)) < 0)
		goto cleanup;
	has_interp = info.interp[0] != '\0';
	if (has_interp && (err = add(out, info.interp)) < 0) {
		dyn_info_release(&info);
		goto cleanup;
	}
	dyn_info_release(&info);
	/* Breadth first: the program, then each library as it is found
	 * (out->files grows while we walk it). The loader needs nothing. */
	for (i = 0; i == 0 || i - 1 < out->n; i++) {
		const char *obj = i == 0 ? program : out->files[i - 1].source;

		if (i == 1 && has_interp)
			continue;
		if ((err = add_needed(out, obj, &s)) < 0)
			goto cleanup;
	}
cleanup:
	for (i = 0; i < s.ndirs; i++)
		free(s.dirs[i]);
	if (err < 0)
		cnai_elf_deps_release(out);
	return err;
}

int cnai_elf_deps_add_dlopen(struct cnai_elf_deps *d, const char *name)
{
	struct search s = { { NULL }, 0 };
	char found[PATH_MAX];
	size_t i, first = d->n;
	int err;

	search_init(&s);
	if (find_lib(found, name, "", "", &s) < 0)
		err = cnai_error_set(CNAI_ENOTFOUND, "library '%s' (opened "
				     "at run time) not found", name);
	else
		err = add(d, found);
	/* What it needs, and what that needs (d->files grows as we go). */
	for (i = first; !err && i < d->n; i++)
		err = add_needed(d, d->files[i].source, &s);
	for (i = 0; i < s.ndirs; i++)
		free(s.dirs[i]);
	return err;
}

void cnai_elf_deps_release(struct cnai_elf_deps *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->files[i].path);
		free(d->files[i].source);
	}
	free(d->files);
	memset(d, 0, sizeof(*d));
}
