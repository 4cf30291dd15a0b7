// valix-admin status: the rows as an aligned table or a JSON array.
#include <algorithm>
#include <string>
#include <vector>

#include "i18n.hpp"
#include "status.hpp"
#include "text.hpp"

namespace valix::admin {
namespace {

void json_time(std::string& out, std::int64_t t) {
  if (t == 0) {
    out += "null";
  } else {
    append_json_string(out, iso_time(t));
  }
}

}  // namespace

std::string status_json(const std::vector<StatusRow>& rows) {
  std::string out = "[";
  out.reserve(rows.size() * 300 + 4);
  bool first = true;
  for (const StatusRow& r : rows) {
    out += first ? "\n  {" : ",\n  {";
    first = false;
    out += "\"user\": ";
    append_json_string(out, r.user);
    out += ", \"account\": ";
    out += r.has_account ? "true" : "false";
    out += ", \"enrolled\": ";
    out += r.enrolled ? "true" : "false";
    out += ", \"enrolled_at\": ";
    json_time(out, r.enrolled ? r.enrolled_at : 0);
    out += ", \"required\": ";
    out += r.required_by != RequiredBy::nobody ? "true" : "false";
    out += ", \"required_by\": ";
    if (r.required_by == RequiredBy::nobody) {
      out += "null";
    } else {
      append_json_string(out, required_by_name(r.required_by));
    }
    out += ", \"pending\": ";
    out += r.pending ? "true" : "false";
    out += ", \"pending_expires\": ";
    json_time(out, r.pending_expires);
    out += ", \"backup_codes_remaining\": " + std::to_string(r.backup_codes);
    out += ", \"clock_offset_seconds\": " + std::to_string(r.clock_offset_seconds);
    out += ", \"failures\": " + std::to_string(r.failures);
    out += ", \"locked\": ";
    out += r.locked ? "true" : "false";
    out += ", \"locked_until\": ";
    json_time(out, r.locked_until);
    out += ", \"last_login\": ";
    json_time(out, r.last_login);
    out += ", \"last_failure\": ";
    json_time(out, r.last_failure);
    out += ", \"last_failure_rhost\": ";
    if (r.last_failure_rhost.empty()) {
      out += "null";
    } else {
      append_json_string(out, r.last_failure_rhost);
    }
    out += ", \"authenticators\": [";
    for (std::size_t i = 0; i < r.authenticators.size(); ++i) {
      const AuthenticatorRow& a = r.authenticators[i];
      const bool hotp = a.kind == AuthenticatorKind::hotp;
      out += i == 0 ? "{" : ", {";
      out += "\"name\": ";
      append_json_string(out, a.name);
      out += ", \"kind\": ";
      out += hotp ? "\"hotp\"" : "\"totp\"";
      out += ", \"algorithm\": ";
      append_json_string(out, otp_algorithm_name(a.otp.algorithm));
      out += ", \"digits\": " + std::to_string(a.otp.digits);
      out += ", \"period\": " + (hotp ? std::string("null") : std::to_string(a.otp.period));
      out += ", \"added_at\": ";
      json_time(out, a.added_at);
      out += ", \"last_used\": ";
      json_time(out, a.last_used);
      out += ", \"clock_offset_seconds\": " + std::to_string(a.clock_offset_seconds);
      out += "}";
    }
    out += "]";
    out += "}";
  }
  out += rows.empty() ? "]\n" : "\n]\n";
  return out;
}

namespace {

// " (clock +600 s)" for an authenticator a resync found off, "" otherwise.
std::string clock_note(std::int64_t offset_seconds) {
  if (offset_seconds == 0) return {};
  // TRANSLATORS: status table, after the enrollment time: how far the authenticator's clock
  // runs from this host's (valix-admin resync), in seconds, with its sign.
  return " " +
         fill(tr("(clock {seconds} s)"), {{"seconds", std::string(offset_seconds > 0 ? "+" : "") +
                                                          std::to_string(offset_seconds)}});
}

// "authenticator NAME: TOTP (SHA1, 6 digits, 30 s steps), added TIME, last used TIME"
std::string authenticator_line(const AuthenticatorRow& a) {
  const std::string algorithm(otp_algorithm_name(a.otp.algorithm));
  const std::string digits = std::to_string(a.otp.digits);
  // TRANSLATORS: status table, an authenticator's kind and settings (HOTP: a counter-based
  // hardware token; TOTP: time-based, an app or a token).
  const std::string kind = a.kind == AuthenticatorKind::hotp
                               ? fill(tr("HOTP ({algorithm}, {digits} digits)"),
                                      {{"algorithm", algorithm}, {"digits", digits}})
                               : fill(tr("TOTP ({algorithm}, {digits} digits, {period} s steps)"),
                                      {{"algorithm", algorithm},
                                       {"digits", digits},
                                       {"period", std::to_string(a.otp.period)}});
  // TRANSLATORS: status table, a line under a user's row for each of their authenticators:
  // {name} its name, {kind} its kind and settings, {added} when it was added, {used} when it
  // last logged in (a time, or "never"), {clock} its clock offset, if any.
  return fill(tr("authenticator {name}: {kind}, added {added}, last used {used}{clock}"),
              {{"name", a.name},
               {"kind", kind},
               {"added", iso_time(a.added_at)},
               {"used", a.last_used != 0 ? iso_time(a.last_used) : std::string(tr("never"))},
               {"clock", clock_note(a.clock_offset_seconds)}});
}

// The columns a cell takes on a terminal: one per character (translations may hold UTF-8;
// user names and times are ASCII).
std::size_t columns(std::string_view cell) {
  return static_cast<std::size_t>(std::count_if(cell.begin(), cell.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  }));
}

std::string required_cell(RequiredBy why) {
  switch (why) {
    case RequiredBy::nobody: break;
    // TRANSLATORS: status table, REQUIRED column: an administrator's 'require' flag.
    case RequiredBy::admin_flag: return tr("yes (flag)");
    // TRANSLATORS: status table, REQUIRED column: require = all in valix.conf.
    case RequiredBy::host_policy: return tr("yes (host)");
    // TRANSLATORS: status table, REQUIRED column: require = groups in valix.conf.
    case RequiredBy::group_policy: return tr("yes (group)");
  }
  return tr("no");
}

}  // namespace

std::string status_table(const std::vector<StatusRow>& rows) {
  using Cells = std::vector<std::string>;
  std::vector<Cells> lines;
  lines.reserve(rows.size() + 1);
  // TRANSLATORS: the column headings of valix-admin status, one word each (no blanks).
  lines.push_back({tr("USER"), tr("ENROLLED"), tr("REQUIRED"), tr("PENDING"), tr("BACKUP-CODES"),
                   tr("LOCKED"), tr("LAST-2FA-LOGIN")});
  const auto until = [](std::int64_t t) {
    return fill(tr("until {time}"), {{"time", iso_time(t)}});
  };
  for (const StatusRow& r : rows) {
    std::string locked = r.locked ? until(r.locked_until) : std::string(tr("no"));
    if (!r.locked && r.failures > 0) {
      // TRANSLATORS: status table, LOCKED column: not locked, with this many failed attempts.
      locked = fill(
          trn("no ({count} failed)", "no ({count} failed)", static_cast<unsigned long>(r.failures)),
          {{"count", std::to_string(r.failures)}});
    }
    lines.push_back({r.has_account ? r.user : fill(tr("{user} (no account)"), {{"user", r.user}}),
                     r.enrolled ? fill(tr("since {time}"), {{"time", iso_time(r.enrolled_at)}}) +
                                      clock_note(r.clock_offset_seconds)
                                : std::string(tr("no")),
                     required_cell(r.required_by),
                     r.pending ? until(r.pending_expires) : std::string(tr("no")),
                     r.enrolled ? std::to_string(r.backup_codes) : "-", locked,
                     r.last_login != 0 ? iso_time(r.last_login) : std::string(tr("never"))});
  }
  std::vector<std::size_t> width(lines.front().size(), 0);
  for (const Cells& cells : lines) {
    for (std::size_t i = 0; i < cells.size(); ++i) width[i] = std::max(width[i], columns(cells[i]));
  }
  std::string out;
  out.reserve(lines.size() * 120);
  for (std::size_t n = 0; n < lines.size(); ++n) {
    const Cells& cells = lines[n];
    std::string line;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      line += cells[i];
      if (i + 1 < cells.size()) line.append(width[i] - columns(cells[i]) + 2, ' ');
    }
    out += line + "\n";
    // Under a user's row (lines[0] is the heading), their authenticators.
    if (n == 0) continue;
    const StatusRow& r = rows[n - 1];
    if (!r.enrolled || (!r.details && r.authenticators.size() < 2)) continue;
    for (const AuthenticatorRow& a : r.authenticators) out += "  " + authenticator_line(a) + "\n";
  }
  return out;
}

}  // namespace valix::admin
