#include "pam_stack.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <set>
#include <tuple>

#include "i18n.hpp"

// The texts here are for valix-admin check only: they are made in the user's language. A
// location ("FILE: ", "FILE:LINE: ") goes in front of a message as it is, as compilers print
// theirs.
namespace valix {
namespace {

bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

// Splits one logical line into words; "[...]" (with "\]" inside) is one word, brackets kept.
Result<std::vector<std::string>> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < text.size()) {
    if (blank(text[i])) {
      ++i;
      continue;
    }
    std::string word;
    if (text[i] == '[') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == ']') {
          word += ']';
          i += 2;
          continue;
        }
        if (text[i] == ']') {
          closed = true;
          ++i;
          break;
        }
        word += text[i++];
      }
      if (!closed) return fail_said(Errc::config, "a '[' is not closed");
      // The control keeps its brackets (it is parsed again); an argument loses them.
      words.push_back(words.size() == 1 ? "[" + word + "]" : word);
      continue;
    }
    while (i < text.size() && !blank(text[i])) word += text[i++];
    words.push_back(std::move(word));
  }
  return words;
}

constexpr std::array<std::string_view, 4> kTypes = {"auth", "account", "password", "session"};

// The return values pam.conf(5) names in "[value=action]".
constexpr std::array<std::string_view, 33> kValues = {"success",
                                                      "open_err",
                                                      "symbol_err",
                                                      "service_err",
                                                      "system_err",
                                                      "buf_err",
                                                      "perm_denied",
                                                      "auth_err",
                                                      "cred_insufficient",
                                                      "authinfo_unavail",
                                                      "user_unknown",
                                                      "maxtries",
                                                      "new_authtok_reqd",
                                                      "acct_expired",
                                                      "session_err",
                                                      "cred_unavail",
                                                      "cred_expired",
                                                      "cred_err",
                                                      "no_module_data",
                                                      "conv_err",
                                                      "authtok_err",
                                                      "authtok_recover_err",
                                                      "authtok_lock_busy",
                                                      "authtok_disable_aging",
                                                      "try_again",
                                                      "ignore",
                                                      "abort",
                                                      "authtok_expired",
                                                      "module_unknown",
                                                      "bad_item",
                                                      "conv_again",
                                                      "incomplete",
                                                      "default"};

std::string base_name(std::string_view path) {
  const auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

}  // namespace

PamFile parse_pam_file(std::string_view text) {
  PamFile file;
  int number = 0;
  while (!text.empty()) {
    ++number;
    const int first = number;
    std::string logical;
    // Physical lines ending in '\' continue on the next one.
    while (true) {
      const auto newline = text.find('\n');
      std::string_view physical = text.substr(0, newline);
      text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
      if (!physical.empty() && physical.back() == '\\' && !text.empty()) {
        logical.append(physical.substr(0, physical.size() - 1));
        logical += ' ';
        ++number;
        continue;
      }
      logical.append(physical);
      break;
    }
    if (const auto hash = logical.find('#'); hash != std::string::npos) logical.resize(hash);
    auto words = words_of(logical);
    if (!words) {
      file.errors.push_back({first, shown_message(words.error())});
      continue;
    }
    if (words->empty()) continue;
    PamLine line;
    line.line = first;
    if ((*words)[0] == "@include") {
      if (words->size() != 2 || (*words)[1].empty()) {
        file.errors.push_back({first, tr("@include takes one file name")});
        continue;
      }
      line.type = "@include";
      line.module = (*words)[1];
      file.lines.push_back(std::move(line));
      continue;
    }
    std::string_view type = (*words)[0];
    if (type.starts_with('-')) type.remove_prefix(1);
    if (std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end()) {
      file.errors.push_back(
          {first, fill(tr("'{type}' is not a module type"), {{"type", (*words)[0]}})});
      continue;
    }
    // "[]" in the module's place is an empty word: no module either (found by fuzz_pam_stack).
    if (words->size() < 3 || (*words)[1].empty() || (*words)[2].empty()) {
      file.errors.push_back({first, tr("a line needs a type, a control and a module")});
      continue;
    }
    line.type = type;
    line.control = (*words)[1];
    line.module = (*words)[2];
    line.args.assign(words->begin() + 3, words->end());
    file.lines.push_back(std::move(line));
  }
  return file;
}

const PamStep& PamControl::step(std::string_view value) const {
  if (auto it = by_value.find(value); it != by_value.end()) return it->second;
  return fallback;
}

Result<PamControl> parse_pam_control(std::string_view control) {
  using A = PamAction;
  PamControl c;
  auto simple = [&](PamStep success, PamStep fallback) {
    c.by_value["success"] = success;
    c.by_value["new_authtok_reqd"] = success;
    c.by_value["ignore"] = {A::ignore, 0};
    c.fallback = fallback;
    return c;
  };
  // pam.conf(5): the keywords are these bracket forms.
  if (control == "required") return simple({A::ok, 0}, {A::bad, 0});
  if (control == "requisite") return simple({A::ok, 0}, {A::die, 0});
  if (control == "optional") return simple({A::ok, 0}, {A::ignore, 0});
  if (control == "sufficient") {
    c.by_value["success"] = {A::done, 0};
    c.by_value["new_authtok_reqd"] = {A::done, 0};
    c.fallback = {A::ignore, 0};
    return c;
  }
  if (control.size() < 2 || control.front() != '[' || control.back() != ']') {
    return fail_said(Errc::config, "'{control}' is not a control", {{"control", control}});
  }
  c.fallback = {A::bad, 0};  // libpam: a value the brackets do not name is "bad"
  auto words = words_of(control.substr(1, control.size() - 2));
  if (!words || words->empty()) return fail_said(Errc::config, "an empty control '[]'");
  for (const auto& word : *words) {
    const auto equals = word.find('=');
    if (equals == std::string::npos)
      return fail_said(Errc::config, "'{word}' is not value=action", {{"word", word}});
    const std::string value = word.substr(0, equals);
    const std::string_view action = std::string_view(word).substr(equals + 1);
    if (std::find(kValues.begin(), kValues.end(), value) == kValues.end()) {
      return fail_said(Errc::config, "'{value}' is not a PAM return value", {{"value", value}});
    }
    PamStep step;
    if (action == "ignore") step = {A::ignore, 0};
    else if (action == "ok") step = {A::ok, 0};
    else if (action == "done") step = {A::done, 0};
    else if (action == "bad") step = {A::bad, 0};
    else if (action == "die") step = {A::die, 0};
    else if (action == "reset") step = {A::reset, 0};
    else {
      int n = 0;
      const auto [ptr, ec] = std::from_chars(action.data(), action.data() + action.size(), n);
      if (ec != std::errc{} || ptr != action.data() + action.size() || n < 1) {
        return fail_said(Errc::config, "'{action}' is not an action", {{"action", action}});
      }
      step = {A::jump, n};
    }
    if (value == "default") c.fallback = step;
    else c.by_value[value] = step;
  }
  return c;
}

bool is_valix_module(std::string_view module) { return base_name(module) == "pam_valix.so"; }

bool is_password_module(std::string_view module) {
  static const std::set<std::string, std::less<>> known = {
      "pam_unix.so",    "pam_sss.so",    "pam_ldap.so",    "pam_krb5.so",
      "pam_winbind.so", "pam_userdb.so", "pam_pwdfile.so", "pam_radius_auth.so"};
  return known.contains(base_name(module));
}

namespace {

constexpr int kMaxDepth = 16;
constexpr int kMaxReads = 256;            // files read for one service, includes counted each time
constexpr std::size_t kMaxEntries = 200;  // auth lines the order check follows

void load_into(std::string_view name, const PamFileReader& read, int depth, AuthStack& stack,
               std::vector<AuthEntry>& out, int& reads) {
  const std::string file(name);
  if (depth > kMaxDepth) {
    stack.problems.push_back(file + ": " + tr("included more than 16 levels deep (a loop?)"));
    return;
  }
  if (++reads > kMaxReads) {
    if (reads == kMaxReads + 1)
      stack.problems.push_back(file + ": " + tr("more than 256 includes"));
    return;
  }
  auto text = read(file);
  if (!text) {
    stack.problems.push_back(file + ": " + shown_message(text.error()));
    return;
  }
  if (std::find(stack.files.begin(), stack.files.end(), file) == stack.files.end()) {
    stack.files.push_back(file);
  }
  const PamFile parsed = parse_pam_file(*text);
  for (const auto& error : parsed.errors) {
    stack.problems.push_back(file + ":" + std::to_string(error.line) + ": " + error.message);
  }
  for (const auto& line : parsed.lines) {
    if (line.type == "@include") {
      load_into(line.module, read, depth + 1, stack, out, reads);
      continue;
    }
    if (line.type != "auth") continue;
    if (line.control == "include") {
      load_into(line.module, read, depth + 1, stack, out, reads);
      continue;
    }
    AuthEntry entry{file, line, {}, false, {}};
    if (line.control == "substack") {
      entry.substack = true;
      entry.control = *parse_pam_control("required");  // as libpam: the substack's result
      load_into(line.module, read, depth + 1, stack, entry.entries, reads);
    } else {
      auto control = parse_pam_control(line.control);
      if (!control) {
        stack.problems.push_back(file + ":" + std::to_string(line.line) + ": " +
                                 shown_message(control.error()));
        continue;
      }
      entry.control = std::move(*control);
    }
    out.push_back(std::move(entry));
  }
}

}  // namespace

AuthStack load_auth_stack(std::string_view service, const PamFileReader& read) {
  AuthStack stack;
  int reads = 0;
  load_into(service, read, 0, stack, stack.entries, reads);
  return stack;
}

namespace {

void collect_valix(const std::vector<AuthEntry>& entries, std::vector<const AuthEntry*>& out) {
  for (const auto& e : entries) {
    if (e.substack) collect_valix(e.entries, out);
    else if (is_valix_module(e.line.module)) out.push_back(&e);
  }
}

std::size_t count_entries(const std::vector<AuthEntry>& entries) {
  std::size_t n = entries.size();
  for (const auto& e : entries) n += count_entries(e.entries);
  return n;
}

bool has_password_module(const std::vector<AuthEntry>& entries) {
  return std::any_of(entries.begin(), entries.end(), [](const AuthEntry& e) {
    return e.substack ? has_password_module(e.entries) : is_password_module(e.line.module);
  });
}

std::string where(const AuthEntry& e) { return e.file + ":" + std::to_string(e.line.line); }

std::string named(const AuthEntry& e) {
  return base_name(e.line.module) + " (" + where(e) + ", '" + e.line.control + "')";
}

// Linux-PAM's _pam_dispatch_aux, on abstract return values.
enum class Impression { undecided, positive, negative };
enum class Status { success, failure, ignore };

struct Path {
  Impression impression = Impression::undecided;
  Status status = Status::failure;
  bool password_ok = false;                  // a password module succeeded
  const AuthEntry* last_password = nullptr;  // the last password module that ran
  const AuthEntry* valix = nullptr;          // the pam_valix line reached, if any
  bool code_failed = false;                  // pam_valix returned auth_err on this path

  auto key() const {
    return std::tuple(impression, status, password_ok, last_password, valix, code_failed);
  }
};

class Explorer {
 public:
  Explorer(const std::vector<AuthEntry>& top, bool has_password)
      : top_(&top), has_password_(has_password) {}

  // Every path from entries[from] with path, the distinct outcomes at the end of this level.
  std::vector<Path> run(const std::vector<AuthEntry>& entries, std::size_t from, Path path) {
    Ends ends;
    Seen seen;  // per run: a substack entered again must report its ends again
    walk(entries, from, path, ends, seen);
    return std::move(ends.paths);
  }

  // Adversarial stacks (nested substacks, many password and pam_valix lines) have more
  // states than anyone should wait for; past this many steps the check gives up and says so.
  static constexpr std::size_t kMaxSteps = 100000;
  bool gave_up() const { return steps_ > kMaxSteps; }

  std::vector<std::string> findings;

  void add(std::string message) {
    if (std::find(findings.begin(), findings.end(), message) == findings.end()) {
      findings.push_back(std::move(message));
    }
  }

 private:
  using Outcome = std::pair<std::string_view, Path>;  // the return value, the path after it
  using Key = decltype(std::declval<Path>().key());
  using Seen = std::set<std::tuple<std::size_t, Key>>;
  struct Ends {
    std::vector<Path> paths;
    std::set<Key> keys;
  };

  std::vector<Outcome> outcomes(const AuthEntry& e, const Path& in) {
    std::vector<Outcome> out;
    if (e.substack) {
      // The substack's result comes back as one return value. Its ends depend only on what
      // enters it, so each substack is walked once per distinct entering path.
      const Path entering{Impression::undecided, Status::failure, in.password_ok,
                          in.last_password,      in.valix,        in.code_failed};
      auto [known, added] = substack_ends_.try_emplace({&e.entries, entering.key()});
      if (added) known->second = run(e.entries, 0, entering);
      for (const Path& end : known->second) {
        const bool ok = end.status == Status::success && end.impression == Impression::positive;
        Path next = in;
        next.password_ok = end.password_ok;
        next.last_password = end.last_password;
        next.valix = end.valix;
        next.code_failed = end.code_failed;
        out.emplace_back(ok ? "success" : "auth_err", next);
      }
      return out;
    }
    const std::string module = base_name(e.line.module);
    if (is_valix_module(module)) {
      reached_valix(e, in);
      for (std::string_view value : {"success", "auth_err", "ignore"}) {
        Path next = in;
        next.valix = &e;
        next.code_failed = in.code_failed || value == "auth_err";
        out.emplace_back(value, next);
      }
    } else if (is_password_module(module)) {
      for (std::string_view value : {"success", "auth_err", "user_unknown"}) {
        Path next = in;
        next.last_password = &e;
        next.password_ok = in.password_ok || value == "success";
        out.emplace_back(value, next);
      }
    } else if (module == "pam_permit.so") {
      out.emplace_back("success", in);
    } else if (module == "pam_deny.so") {
      out.emplace_back("auth_err", in);
    } else {
      out.emplace_back("ignore", in);
    }
    return out;
  }

  void reached_valix(const AuthEntry& e, const Path& in) {
    if (!has_password_ || in.password_ok) return;
    // TRANSLATORS: in the findings about the order of a PAM stack, {line} is a file and
    // line ("common-auth:3"), {module} a module with its line and control
    // ("pam_unix.so (common-auth:2, 'optional')").
    if (in.last_password == nullptr) {
      add(fill(tr("pam_valix ({line}) comes before the password module: the code prompt reaches "
                  "people who do not know the password"),
               {{"line", where(e)}}));
    } else {
      add(fill(tr("pam_valix ({line}) is reached after {module} failed: that control does not "
                  "stop the stack on a wrong password, so the code prompt reaches people who do "
                  "not know the password (and their wrong codes count toward the user's "
                  "lockout); use 'requisite' or '[success=ok default=die]'"),
               {{"line", where(e)}, {"module", named(*in.last_password)}}));
    }
  }

  void finished(const Path& p) {
    const bool success = p.status == Status::success && p.impression == Impression::positive;
    if (!success) return;
    if (p.valix == nullptr && p.password_ok && p.last_password != nullptr) {
      add(fill(tr("a right password alone logs in: after {module} succeeds the stack ends or "
                  "jumps past pam_valix, so the code is never asked"),
               {{"module", named(*p.last_password)}}));
    } else if (p.valix != nullptr && p.code_failed) {
      add(fill(tr("a wrong code does not stop the login: pam_valix ({line}, '{control}') failing "
                  "still lets the stack succeed"),
               {{"line", where(*p.valix)}, {"control", p.valix->line.control}}));
    } else if (p.valix != nullptr && has_password_ && !p.password_ok) {
      add(fill(tr("a right code without the password logs in: pam_valix ({line}) can make the "
                  "stack succeed when the password module failed"),
               {{"line", where(*p.valix)}}));
    }
  }

  void walk(const std::vector<AuthEntry>& entries, std::size_t i, Path path, Ends& ends,
            Seen& seen) {
    if (++steps_ > kMaxSteps) return;
    if (i >= entries.size()) {
      if (!ends.keys.insert(path.key()).second) return;
      ends.paths.push_back(path);
      if (&entries == top_) finished(path);
      return;
    }
    if (!seen.insert(std::tuple(i, path.key())).second) return;
    const AuthEntry& e = entries[i];
    for (auto [value, next] : outcomes(e, path)) {
      const PamStep step = e.control.step(value);
      const Status returned = value == "success"  ? Status::success
                              : value == "ignore" ? Status::ignore
                                                  : Status::failure;
      std::size_t to = i + 1;
      bool decided = false;
      switch (step.action) {
        case PamAction::reset:
          next.impression = Impression::undecided;
          next.status = Status::failure;
          break;
        case PamAction::ok:
        case PamAction::done:
          if (next.impression == Impression::undecided ||
              (next.impression == Impression::positive && next.status == Status::success)) {
            next.impression = Impression::positive;
            next.status = returned;
          }
          decided = step.action == PamAction::done && next.impression != Impression::negative;
          break;
        case PamAction::bad:
        case PamAction::die:
          if (next.impression != Impression::negative) {
            next.impression = Impression::negative;
            next.status = Status::failure;
          }
          decided = step.action == PamAction::die;
          break;
        case PamAction::ignore: break;
        case PamAction::jump:
          to = i + 1 + static_cast<std::size_t>(step.jump);
          if (to > entries.size()) {  // "bad jump in stack"
            next.impression = Impression::negative;
            next.status = Status::failure;
            to = entries.size();
          }
          break;
      }
      walk(entries, decided ? entries.size() : to, next, ends, seen);
    }
  }

  const std::vector<AuthEntry>* top_;
  bool has_password_;
  std::size_t steps_ = 0;
  std::map<std::pair<const std::vector<AuthEntry>*, Key>, std::vector<Path>> substack_ends_;
};

}  // namespace

std::vector<const AuthEntry*> valix_entries(const AuthStack& stack) {
  std::vector<const AuthEntry*> out;
  collect_valix(stack.entries, out);
  return out;
}

std::vector<std::string> check_auth_order(const AuthStack& stack) {
  if (count_entries(stack.entries) > kMaxEntries) {
    return {tr("more than 200 auth lines: the order of the stack was not checked")};
  }
  Explorer explorer(stack.entries, has_password_module(stack.entries));
  (void)explorer.run(stack.entries, 0, Path{});
  if (explorer.gave_up()) {
    return {fill(tr("the auth stack has more paths than the check follows ({steps} steps): its "
                    "order was not checked"),
                 {{"steps", std::to_string(Explorer::kMaxSteps)}})};
  }
  return std::move(explorer.findings);
}

}  // namespace valix
