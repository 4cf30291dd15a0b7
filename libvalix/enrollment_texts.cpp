#include "enrollment_texts.hpp"

#include "enrollment.hpp"

namespace valix::texts {

std::string tool_intro(std::string_view account_label) {
  return "Set up two-factor authentication (2FA) for " + std::string(account_label) + "\n\n";
}

std::string code_step(int digits, int period) {
  return "\n\n2. Your app shows a " + std::to_string(digits) + "-digit code that refreshes every " +
         std::to_string(period) + " seconds. Enter it below.";
}

std::string qr_file_note(std::string_view path) {
  return "\n   The QR code is also in " + std::string(path) + ".\n";
}

std::string tool_code_prompt(int digits) {
  return "Enter the " + std::to_string(digits) + "-digit code from your authenticator app: ";
}

std::string wrong_code(int tries_left) {
  return "That code is not correct. Check that the time on your phone is right and try again (" +
         std::to_string(tries_left) + (tries_left == 1 ? " try" : " tries") + " left).";
}

std::string tool_done(int digits) {
  return "Done. Your account now requires a " + std::to_string(digits) +
         "-digit code from your authenticator app on every login.";
}

SecretString backup_codes_screen(const std::vector<SecretString>& codes) {
  constexpr std::string_view kHeading =
      "Your backup codes. Each works once, if you lose your phone:\n\n";
  constexpr std::string_view kAdvice =
      "\nSave them somewhere secure: a password manager, or a printed sheet in a safe,\n"
      "not a text file on your desktop. They will not be shown again.";
  const SecretString listing = format_backup_codes(codes);
  SecretString text;
  text.str().reserve(kHeading.size() + listing.size() + kAdvice.size());  // never reallocated
  text.str().append(kHeading).append(listing.view()).append(kAdvice);
  return text;
}

}  // namespace valix::texts
