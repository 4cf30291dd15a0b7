#include "check_protocol.hpp"

#include <charconv>
#include <cstdint>
#include <optional>
#include <vector>

namespace valix::check {
namespace {

constexpr std::string_view kEnrolled = "enrolled";
constexpr std::string_view kNotRequired = "not-required";
constexpr std::string_view kRequired = "required";
constexpr std::string_view kVerdict = "verdict";

struct OutcomeWord {
  Outcome outcome;
  std::string_view word;
};
constexpr OutcomeWord kOutcomes[] = {
    {Outcome::totp_accepted, "totp-accepted"},
    {Outcome::hotp_accepted, "hotp-accepted"},
    {Outcome::backup_accepted, "backup-accepted"},
    {Outcome::wrong, "wrong"},
    {Outcome::replayed, "replayed"},
    {Outcome::clock_drift, "clock-drift"},
    {Outcome::out_of_sync, "out-of-sync"},
    {Outcome::malformed, "malformed"},
    {Outcome::locked, "locked"},
};

struct ShapeWord {
  AnswerShape shape;
  std::string_view word;
};
constexpr ShapeWord kShapes[] = {
    {AnswerShape::totp, "totp"}, {AnswerShape::backup, "backup"}, {AnswerShape::other, "other"}};

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  while (!line.empty()) {
    const auto space = line.find(' ');
    out.push_back(line.substr(0, space));
    if (space == std::string_view::npos) break;
    line.remove_prefix(space + 1);
  }
  return out;
}

// A decimal number in [0, max], digits only (no sign, no spaces).
template <class T>
std::optional<T> number(std::string_view text, T max) {
  T value{};
  if (text.empty() || text.size() > 19 || text.front() < '0' || text.front() > '9') {
    return std::nullopt;
  }
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value > max) {
    return std::nullopt;
  }
  return value;
}

Error garbage(std::string_view what) {
  return Error{Errc::corrupt, "valix-check sent an unexpected " + std::string(what)};
}

}  // namespace

std::string format_status(const StatusLine& line) {
  switch (line.status) {
    case AccountStatus::enrolled: return std::string(kEnrolled) + " " + std::to_string(line.digits);
    case AccountStatus::not_required: return std::string(kNotRequired);
    case AccountStatus::required: return std::string(kRequired);
  }
  return std::string(kRequired);
}

Result<StatusLine> parse_status(std::string_view line) {
  const auto w = words(line);
  if (w.size() == 1 && w[0] == kNotRequired) return StatusLine{AccountStatus::not_required, 0};
  if (w.size() == 1 && w[0] == kRequired) return StatusLine{AccountStatus::required, 0};
  if (w.size() == 2 && w[0] == kEnrolled) {
    // The core's enrollments have 6 or 8 digits; anything far off is not our helper talking.
    if (const auto digits = number<int>(w[1], 10); digits && *digits >= 6) {
      return StatusLine{AccountStatus::enrolled, *digits};
    }
  }
  return std::unexpected(garbage("status line"));
}

std::string format_verdict(const Verdict& verdict) {
  std::string outcome = "wrong";
  for (const auto& [value, word] : kOutcomes) {
    if (value == verdict.outcome) outcome = word;
  }
  std::string shape = "other";
  for (const auto& [value, word] : kShapes) {
    if (value == verdict.shape) shape = word;
  }
  return std::string(kVerdict) + " " + outcome + " " + shape + " " +
         std::to_string(verdict.locked_for) + " " + std::to_string(verdict.backup_codes_left);
}

Result<Verdict> parse_verdict(std::string_view line) {
  const auto w = words(line);
  if (w.size() != 5 || w[0] != kVerdict) return std::unexpected(garbage("verdict line"));
  Verdict verdict;
  bool outcome_known = false;
  for (const auto& [value, word] : kOutcomes) {
    if (word == w[1]) {
      verdict.outcome = value;
      outcome_known = true;
    }
  }
  bool shape_known = false;
  for (const auto& [value, word] : kShapes) {
    if (word == w[2]) {
      verdict.shape = value;
      shape_known = true;
    }
  }
  const auto locked_for = number<std::int64_t>(w[3], std::int64_t{1} << 40);
  const auto left = number<std::size_t>(w[4], 100000);
  if (!outcome_known || !shape_known || !locked_for || !left) {
    return std::unexpected(garbage("verdict line"));
  }
  verdict.locked_for = *locked_for;
  verdict.backup_codes_left = *left;
  return verdict;
}

HelperExit exit_for(const Verdict& verdict) {
  return verdict.accepted() ? HelperExit::accepted : HelperExit::refused;
}

HelperExit exit_for(AccountStatus status) {
  switch (status) {
    case AccountStatus::not_required: return HelperExit::not_required;
    case AccountStatus::required: return HelperExit::refused;
    case AccountStatus::enrolled: break;  // a verdict follows; it decides
  }
  return HelperExit::internal;
}

SecretString answer_line(std::string_view answer) {
  const bool fits =
      answer.size() <= kMaxAnswerLength && answer.find('\n') == std::string_view::npos;
  SecretString line;
  line.str().reserve(kMaxAnswerLength + 2);  // never reallocated: no unwiped copy
  line.str().append(fits ? answer : std::string_view("?")).append("\n");
  return line;
}

}  // namespace valix::check
