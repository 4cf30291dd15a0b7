// LD_PRELOAD shim: the host application's setlocale(LC_ALL, ""), which login, su, sudo and sshd
// make and pamtester does not. pam_valix shows messages in the host's language and never
// changes the host's locale itself.
#include <locale.h>

__attribute__((constructor)) static void valix_test_set_locale(void) {
  (void)setlocale(LC_ALL, "");
}
