/* Loads pam_valix.so the way libpam does and checks its ABI: the two entry points resolve,
 * and every defined dynamic symbol is a pam_sm_* function (nothing from the core or from the
 * statically linked C++ runtime leaks into the host process's namespace). */
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures = 0;

static void expect(int ok, const char *what) {
  printf("%s - %s\n", ok ? "ok" : "not ok", what);
  if (!ok) ++failures;
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  void *handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  expect(handle != NULL, "dlopen with RTLD_NOW (no unresolved symbols)");
  if (handle == NULL) {
    fprintf(stderr, "%s\n", dlerror());
    return 1;
  }
  expect(dlsym(handle, "pam_sm_authenticate") != NULL, "pam_sm_authenticate exported");
  expect(dlsym(handle, "pam_sm_setcred") != NULL, "pam_sm_setcred exported");
  expect(dlsym(handle, "pam_sm_open_session") == NULL, "no session entry point");

  int fd = open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) return 1;
  const unsigned char *image = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (image == MAP_FAILED) return 1;
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)image;
  expect(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64,
         "64-bit ELF");
  const Elf64_Shdr *sections = (const Elf64_Shdr *)(image + eh->e_shoff);
  int defined = 0, foreign = 0;
  for (int i = 0; i < eh->e_shnum; ++i) {
    if (sections[i].sh_type != SHT_DYNSYM) continue;
    const Elf64_Sym *symbols = (const Elf64_Sym *)(image + sections[i].sh_offset);
    const char *names = (const char *)(image + sections[sections[i].sh_link].sh_offset);
    const size_t count = sections[i].sh_size / sizeof(Elf64_Sym);
    for (size_t j = 0; j < count; ++j) {
      const Elf64_Sym *s = &symbols[j];
      const int binding = ELF64_ST_BIND(s->st_info);
      if (s->st_shndx == SHN_UNDEF || (binding != STB_GLOBAL && binding != STB_WEAK)) continue;
      ++defined;
      if (strncmp(names + s->st_name, "pam_sm_", 7) != 0) {
        printf("# unexpected exported symbol: %s\n", names + s->st_name);
        ++foreign;
      }
    }
  }
  expect(defined == 2, "exactly two defined dynamic symbols");
  expect(foreign == 0, "only pam_sm_* symbols are exported");
  dlclose(handle);
  printf("%d passed, %d failed\n", 7 - failures, failures);
  return failures == 0 ? 0 : 1;
}
