#include "i18n.hpp"

#include <libintl.h>

#include <clocale>
#include <mutex>
#include <span>
#include <vector>

namespace valix {
namespace {

constexpr const char* kDomain = "valix";

// Once per process, from any thread: the module may be loaded by a threaded host. Only the
// "valix" domain is bound, so the host's own catalogues are untouched.
void bind_catalogue() {
  static std::once_flag once;
  std::call_once(once, [] { bindtextdomain(kDomain, VALIX_LOCALEDIR); });
}

}  // namespace

const char* tr(const char* msgid) {
  bind_catalogue();
  return dgettext(kDomain, msgid);
}

const char* trn(const char* singular, const char* plural, unsigned long n) {
  bind_catalogue();
  return dngettext(kDomain, singular, plural, n);
}

namespace {

using Values = std::span<const std::pair<std::string_view, std::string_view>>;

std::string fill_each(std::string_view text, Values values) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '{') {
      const std::size_t close = text.find('}', i + 1);
      if (close != std::string_view::npos) {
        const std::string_view name = text.substr(i + 1, close - i - 1);
        bool replaced = false;
        for (const auto& [key, value] : values) {
          if (key == name) {
            out.append(value);
            replaced = true;
            break;
          }
        }
        if (replaced) {
          i = close + 1;
          continue;
        }
      }
    }
    out.push_back(text[i]);
    ++i;
  }
  return out;
}

}  // namespace

std::string fill(std::string_view text,
                 std::initializer_list<std::pair<std::string_view, std::string_view>> values) {
  return fill_each(text, Values(values.begin(), values.size()));
}

const std::string& shown_message(const Error& error) {
  return error.shown.empty() ? error.message : error.shown;
}

Said said_of(const Error& error) { return Said{error.message, shown_message(error)}; }

Said say(const char* msgid, Parts values) {
  std::vector<std::pair<std::string_view, std::string_view>> english, shown;
  english.reserve(values.size());
  shown.reserve(values.size());
  for (const auto& [name, part] : values) {
    english.emplace_back(name, part.message());
    shown.emplace_back(name, part.shown());
  }
  return Said{fill_each(msgid, english), fill_each(tr(msgid), shown)};
}

std::unexpected<Error> fail_said(Errc code, const char* msgid, Parts values) {
  Said said = say(msgid, values);
  return std::unexpected(Error{code, std::move(said.message), std::move(said.shown)});
}

std::unexpected<Error> fail_at(Errc code, std::string_view where, const Error& error) {
  std::string prefix(where);
  prefix += ": ";
  return std::unexpected(Error{code, prefix + error.message, prefix + shown_message(error)});
}

void init_tool() {
  // A locale that is not installed leaves the C locale: English, which is fine.
  (void)std::setlocale(LC_ALL, "");
  bind_catalogue();
}

std::string_view locale_dir() { return VALIX_LOCALEDIR; }

}  // namespace valix
