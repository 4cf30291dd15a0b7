#include "google_authenticator.hpp"

#include <fcntl.h>
#include <grp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <set>
#include <span>
#include <utility>
#include <vector>

#include "base32.hpp"
#include "file_util.hpp"
#include "i18n.hpp"
#include "state.hpp"

namespace valix::admin {
namespace {

template <class Int>
std::optional<Int> parse_number(std::string_view text, Int min, Int max) {
  Int value{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() || value < min ||
      value > max) {
    return std::nullopt;
  }
  return value;
}

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const auto start = text.find_first_not_of(" \t");
    if (start == std::string_view::npos) break;
    text.remove_prefix(start);
    const auto end = std::min(text.find_first_of(" \t"), text.size());
    out.push_back(text.substr(0, end));
    text.remove_prefix(end);
  }
  return out;
}

bool is_scratch_code(std::string_view line) {
  return line.size() == 8 &&
         std::all_of(line.begin(), line.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Runs as another user until destroyed. Only the effective ids change (the saved uid stays
// 0 so root can be taken back, and the real uid stays 0 so the user cannot signal or trace
// the process meanwhile).
class AsUser {
 public:
  static Result<AsUser> enter(const Account& account) {
    AsUser self;
    const int count = getgroups(0, nullptr);
    if (count < 0) return fail_errno("getgroups", errno);
    self.groups_.resize(static_cast<std::size_t>(count));
    if (getgroups(count, self.groups_.data()) < 0) return fail_errno("getgroups", errno);
    self.gid_ = getegid();

    int n = 64;
    std::vector<gid_t> user_groups(static_cast<std::size_t>(n));
    while (getgrouplist(account.name.c_str(), account.gid, user_groups.data(), &n) < 0) {
      if (n <= static_cast<int>(user_groups.size())) n = static_cast<int>(user_groups.size()) * 2;
      if (n > 65536) {
        return fail_said(Errc::io, "group list of {user} is too long", {{"user", account.name}});
      }
      user_groups.resize(static_cast<std::size_t>(n));
    }
    user_groups.resize(static_cast<std::size_t>(n));
    if (setgroups(user_groups.size(), user_groups.data()) != 0) {
      return fail_errno("setgroups", errno);
    }
    self.active_ = true;  // from here on the destructor restores
    if (setresgid(static_cast<gid_t>(-1), account.gid, static_cast<gid_t>(-1)) != 0) {
      return fail_errno("setresgid", errno);
    }
    if (setresuid(static_cast<uid_t>(-1), account.uid, static_cast<uid_t>(-1)) != 0) {
      return fail_errno("setresuid", errno);
    }
    return self;
  }

  AsUser(AsUser&& other) noexcept
      : groups_(std::move(other.groups_)),
        gid_(other.gid_),
        active_(std::exchange(other.active_, false)) {}
  AsUser& operator=(AsUser&&) = delete;
  AsUser(const AsUser&) = delete;
  AsUser& operator=(const AsUser&) = delete;

  ~AsUser() {
    if (!active_) return;
    // Running on with the wrong credentials would be worse than stopping.
    if (setresuid(static_cast<uid_t>(-1), 0, static_cast<uid_t>(-1)) != 0 ||
        setresgid(static_cast<gid_t>(-1), gid_, static_cast<gid_t>(-1)) != 0 ||
        setgroups(groups_.size(), groups_.data()) != 0) {
      std::abort();
    }
  }

 private:
  AsUser() = default;
  std::vector<gid_t> groups_;
  gid_t gid_ = 0;
  bool active_ = false;
};

}  // namespace

Result<GoogleAuthenticatorFile> parse_google_authenticator(std::string_view text) {
  GoogleAuthenticatorFile file;
  bool totp = false;
  bool have_secret = false;
  std::set<std::string, std::less<>> seen;
  int line_number = 0;
  auto bad = [&](const Said& problem) {
    // TRANSLATORS: a line of a ~/.google_authenticator file and what is wrong with it.
    return fail_said(Errc::invalid, "line {line}: {problem}",
                     {{"line", std::to_string(line_number)}, {"problem", problem}});
  };
  while (!text.empty()) {
    ++line_number;
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\0') != std::string_view::npos) return bad(say("NUL byte"));

    if (!have_secret) {
      // Line 1 is the secret: base32 in A-Z and 2-7 (a secret is never logged or echoed).
      const bool alphabet = !line.empty() && std::all_of(line.begin(), line.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7') || c == '=';
      });
      if (!alphabet) return bad(say("the first line is not a base32 secret"));
      auto secret = base32_decode(line);
      if (!secret) return bad(say("the first line is not a valid base32 secret"));
      // The bounds of the state file (80 bits is what old google-authenticator wrote): a
      // secret outside them would be stored but never read back.
      if (secret->size() < kMinSecretBytes) return bad(say("the secret is shorter than 80 bits"));
      if (secret->size() > kMaxSecretBytes) return bad(say("the secret is longer than 1024 bits"));
      file.secret = std::move(*secret);
      have_secret = true;
      continue;
    }
    if (line.empty()) continue;
    if (is_scratch_code(line)) {
      ++file.scratch_codes;
      continue;
    }
    if (!line.starts_with("\" ")) return bad(say("neither an option nor a scratch code"));
    const auto parts = words(line.substr(2));
    if (parts.empty()) return bad(say("empty option line"));
    const std::string_view name = parts.front();
    const std::string shown_name(name.substr(0, 40));
    if (!seen.emplace(name).second) {
      return bad(say("option {option} appears twice", {{"option", shown_name}}));
    }
    const auto args = std::span(parts).subspan(1);
    if (name == "TOTP_AUTH") {
      totp = true;
    } else if (name == "HOTP_COUNTER") {
      return bad(
          say("this is a counter-based (HOTP) setup; Valix supports only time-based (TOTP) "
              "codes, so the user must enroll again with valix-enroll"));
    } else if (name == "STEP_SIZE") {
      auto step = args.size() == 1 ? parse_number<int>(args[0], 1, 300) : std::nullopt;
      if (!step) return bad(say("STEP_SIZE must be one number of seconds"));
      file.step_size = *step;
    } else if (name == "WINDOW_SIZE") {
      auto window = args.size() == 1 ? parse_number<int>(args[0], 1, 100) : std::nullopt;
      if (!window) return bad(say("WINDOW_SIZE must be one number from 1 to 100"));
      file.window_size = window;
    } else if (name == "RATE_LIMIT") {
      // "n m" followed by the module's own bookkeeping (timestamps of recent logins).
      auto n = args.size() >= 2 ? parse_number<int>(args[0], 1, 100) : std::nullopt;
      auto m = args.size() >= 2 ? parse_number<int>(args[1], 1, 3600) : std::nullopt;
      if (!n || !m) return bad(say("RATE_LIMIT must start with two numbers"));
      file.rate_limit = fill(tr("{count} logins per {seconds} s"),
                             {{"count", std::to_string(*n)}, {"seconds", std::to_string(*m)}});
    } else if (name == "DISALLOW_REUSE") {
      // The time steps of codes already used; none of them may work again after the import.
      file.disallow_reuse = true;
      for (const auto arg : args) {
        auto step = parse_number<std::uint64_t>(arg, 0, UINT32_MAX);
        if (!step) return bad(say("DISALLOW_REUSE lists something that is not a time step"));
        file.last_used_step = std::max(file.last_used_step, *step);
      }
    } else if (name == "TIME_SKEW") {
      auto skew = args.size() == 1 ? parse_number<int>(args[0], -1000000, 1000000) : std::nullopt;
      if (!skew) return bad(say("TIME_SKEW must be one number"));
      file.time_skew = skew;
    } else if (name == "RESETTING_TIME_SKEW" || name == "RWINDOW_SIZE") {
      // Bookkeeping of the skew detection, and a HOTP-only setting: nothing to carry over.
    } else {
      return bad(say("unknown option {option}; refusing to guess what it means",
                     {{"option", shown_name}}));
    }
  }
  if (!have_secret) return fail_said(Errc::invalid, "the file is empty");
  if (!totp) {
    return fail_said(Errc::invalid,
                     "the file does not enable time-based codes (no TOTP_AUTH line)");
  }
  return file;
}

Result<SecretString> read_file_as_user(const Account& account, const std::string& path) {
  auto as_user = AsUser::enter(account);
  if (!as_user) {
    return fail_said(as_user.error().code, "cannot switch to {user}: {error}",
                     {{"user", account.name}, {"error", as_user.error()}});
  }
  return read_trusted_file(AT_FDCWD, path, account.uid, FileAccess::private_to_owner,
                           kMaxGoogleAuthenticatorFileSize);
}

}  // namespace valix::admin
