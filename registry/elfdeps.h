/*
 * The files a dynamically linked ELF program needs to run in an empty
 * root file system: the program, its dynamic loader (PT_INTERP), and the
 * shared libraries of its DT_NEEDED entries, transitively, found the way
 * the loader finds them (DT_RUNPATH/DT_RPATH, the ld.so.conf folders, the
 * default folders). What `ldd` lists, without running the program.
 */
#ifndef CNAI_REGISTRY_ELFDEPS_H
#define CNAI_REGISTRY_ELFDEPS_H

#include <stddef.h>

struct cnai_elf_file {
	char *path;   /* where the loader looks for it (the path in the image) */
	char *source; /* the real file on this machine (symlinks resolved) */
};

struct cnai_elf_deps {
	struct cnai_elf_file *files; /* the loader first, then libraries */
	size_t n;
};

/*
 * Collects the loader and libraries of the ELF file at `program`.
 * CNAI_EINVALID when it is not a 64-bit ELF, CNAI_ENOTFOUND naming a
 * library that cannot be found.
 */
int cnai_elf_deps(struct cnai_elf_deps *out, const char *program);
/*
 * Adds a library the program opens with dlopen(), which no DT_NEEDED
 * entry shows (OpenBLAS, for gpu/cpu.c), at the path the loader finds it
 * under, and the libraries it needs, transitively; those already in `d`
 * are not added twice. CNAI_ENOTFOUND when no folder holds it.
 */
int cnai_elf_deps_add_dlopen(struct cnai_elf_deps *d, const char *name);
void cnai_elf_deps_release(struct cnai_elf_deps *d);

#endif
