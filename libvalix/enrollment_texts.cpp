#include "enrollment_texts.hpp"

#include "enrollment.hpp"

namespace valix::texts {

std::string tool_intro(std::string_view account_label) {
  return fill(tr("Set up two-factor authentication (2FA) for {account}"),
              {{"account", account_label}}) +
         "\n\n";
}

std::string code_step(int digits, int period) {
  return "\n\n" + fill(tr("2. Your app shows a {digits}-digit code that refreshes every {seconds} "
                          "seconds. Enter it below."),
                       {{"digits", std::to_string(digits)}, {"seconds", std::to_string(period)}});
}

std::string qr_file_note(std::string_view path) {
  return "\n   " + fill(tr("The QR code is also in {file}."), {{"file", path}}) + "\n";
}

std::string tool_code_prompt(int digits) {
  return fill(tr("Enter the {digits}-digit code from your authenticator app:"),
              {{"digits", std::to_string(digits)}}) +
         " ";
}

std::string wrong_code(int tries_left) {
  return fill(trn("That code is not correct. Check that the time on your phone is right and try "
                  "again ({count} try left).",
                  "That code is not correct. Check that the time on your phone is right and try "
                  "again ({count} tries left).",
                  static_cast<unsigned long>(tries_left)),
              {{"count", std::to_string(tries_left)}});
}

std::string tool_done(int digits) {
  return fill(tr("Done. Your account now requires a {digits}-digit code from your authenticator "
                 "app on every login."),
              {{"digits", std::to_string(digits)}});
}

SecretString backup_codes_screen(const std::vector<SecretString>& codes) {
  const std::string_view kHeading =
      tr("Your backup codes. Each works once, if you lose your phone:\n\n");
  const std::string_view kAdvice =
      tr("\nSave them somewhere secure: a password manager, or a printed sheet in a safe,\n"
         "not a text file on your desktop. They will not be shown again.");
  const SecretString listing = format_backup_codes(codes);
  SecretString text;
  text.str().reserve(kHeading.size() + listing.size() + kAdvice.size());  // never reallocated
  text.str().append(kHeading).append(listing.view()).append(kAdvice);
  return text;
}

}  // namespace valix::texts
