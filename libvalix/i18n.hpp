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
//
// A message that is both logged and shown (valix-admin's refusals, an Error a tool prints) is
// made twice from one msgid with say() or fail_said(): in English for the log, in the user's
// language for the terminal.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "error.hpp"

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

// One message in two renderings: message in English (a log line's msg, an Error's message),
// shown in the user's language (for a terminal).
struct Said {
  std::string message;
  std::string shown;
};

// What an Error says on a terminal: its translation when it was made by fail_said, else its
// (English) message: a text with a file name, a system error or a value in it, made by
// concatenation where it arose.
const std::string& shown_message(const Error& error);
// An Error's two renderings: its message, and shown_message.
Said said_of(const Error& error);

// A value put into a message made twice: the same text in both renderings (a name, a path, a
// number), or another message's two renderings (an Error, a Said). Holds views: use it only
// for the call it is made for. Implicit, so that values are written as in fill().
class Part {
 public:
  Part(std::string_view text) : message_(text), shown_(text) {}
  Part(const std::string& text) : Part(std::string_view(text)) {}
  Part(const char* text) : Part(std::string_view(text)) {}
  Part(const Error& error) : message_(error.message), shown_(shown_message(error)) {}
  Part(const Said& said) : message_(said.message), shown_(said.shown) {}
  std::string_view message() const { return message_; }
  std::string_view shown() const { return shown_; }

 private:
  std::string_view message_;
  std::string_view shown_;
};

using Parts = std::initializer_list<std::pair<std::string_view, Part>>;

// msgid filled with the values' English texts, and tr(msgid) with their shown texts. xgettext
// reads msgid (po/make-pot.sh knows say and fail_said).
Said say(const char* msgid, Parts values = {});

// An Error made from a msgid: message in English (for logs), shown translated (for terminals).
std::unexpected<Error> fail_said(Errc code, const char* msgid, Parts values = {});

// An Error that places another one: "WHERE: MESSAGE" in both renderings (WHERE a file, a
// line, an attribute: not translated).
std::unexpected<Error> fail_at(Errc code, std::string_view where, const Error& error);

// For a program's main: the user's locale (setlocale(LC_ALL, "")) and the catalogue binding.
void init_tool();

// The directory catalogues are read from (compiled in).
std::string_view locale_dir();

}  // namespace valix
