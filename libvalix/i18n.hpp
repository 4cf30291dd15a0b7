// Messages in the user's language (gettext, text domain "valix").
//
// What a user or an operator reads on a terminal or in a PAM conversation goes through tr()
// (or trn() when it depends on a number); log lines do not (log tools parse them, so they stay
// in English). The msgids are today's English wording, which is what the C locale shows.
//
// Catalogues are read from VALIX_LOCALEDIR, an absolute directory compiled in (CMake cache
// variable, default /usr/share/locale); nothing at run time (no option, no environment
// variable) points elsewhere. The language is the one of the process's LC_MESSAGES locale
// (and LANGUAGE, which glibc honours only among installed catalogues).
//
// The module must not change its host process: it never calls setlocale() or textdomain(),
// only bindtextdomain("valix", VALIX_LOCALEDIR) once and dgettext(); it shows the language the
// application (login, sshd, sudo, su) set up, and English under a host that set none.
// The tools call init_tool() first thing in main: setlocale(LC_ALL, "") and the same binding.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace valix {

// Marks a string for xgettext without translating it where it stands (tables, constants):
// pass it through tr() where it is shown.
#define N_(text) text

// The translation of msgid in the process's language; msgid itself when there is none.
const char* tr(const char* msgid);
// The singular or plural form for n (English: singular for n == 1).
const char* trn(const char* singular, const char* plural, unsigned long n);

// Replaces each {name} in text by its value: translations reorder whole sentences, so
// messages are never glued from pieces. An unknown {name} is left as it is.
std::string fill(std::string_view text,
                 std::initializer_list<std::pair<std::string_view, std::string_view>> values);

// For a program's main: the user's locale (setlocale(LC_ALL, "")) and the catalogue binding.
void init_tool();

// The directory catalogues are read from (compiled in).
std::string_view locale_dir();

}  // namespace valix
