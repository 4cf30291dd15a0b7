// Secrets and comparison, user names and whose state they reach, the otpauth URI and key display,
// activation of an enrollment, QR rendering, and the libraries loaded on first use.
#include <crypt.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "enrollment.hpp"
#include "lazy_library.hpp"
#include "policy.hpp"
#include "qr.hpp"
#include "unit.hpp"
#include "username.hpp"

using namespace valix;

namespace {

void secrets(void**) {
  assert_true(constant_time_equal("123456", "123456"));
  assert_false(constant_time_equal("123456", "123457"));
  assert_false(constant_time_equal("123456", "12345"));
  assert_true(constant_time_equal("", ""));
  for (int i = 0; i < 1000; ++i) {
    auto r = random_below(31);
    ASSERT_OK(r);
    assert_true(*r < 31);
  }
  assert_false(random_below(0).has_value());
  SecretBytes a = bytes_of("abc");
  SecretBytes b = std::move(a);
  assert_int_equal(b.size(), 3);
  assert_int_equal(a.size(), 0);  // NOLINT(bugprone-use-after-move): moved-from is empty
  SecretString s("secret");
  SecretString t = std::move(s);
  assert_string_equal(t.c_str(), "secret");
  assert_true(s.empty());  // NOLINT(bugprone-use-after-move)
  SecretBytes c = b.clone();
  assert_memory_equal(c.data(), b.data(), 3);
}

// A moved-from SecretString holds no byte of the secret, whether the secret was short (its
// inline buffer is copied, then wiped) or long (its heap buffer changes hands), after a move
// construction and after a move assignment over a string that had a buffer of its own.
void secret_string_moves_leave_nothing(void**) {
  const auto all_zero = [](const SecretString& s) {
    const char* p = s.str().data();
    return s.empty() && std::all_of(p, p + s.str().capacity(), [](char c) { return c == 0; });
  };
  for (const std::string& text : {std::string("short"), std::string(5000, 'k')}) {
    SecretString a(text);
    SecretString b = std::move(a);
    assert_true(b.view() == text);
    assert_true(all_zero(a));  // NOLINT(bugprone-use-after-move)
    SecretString c(std::string(300, 'o'));
    c = std::move(b);
    assert_true(c.view() == text);
    assert_true(all_zero(b));  // NOLINT(bugprone-use-after-move)
  }
}

// The CSPRNG helpers: draws differ, random_below reaches every value below its bound, wipe
// really zeroes.
void randomness_and_wipe(void**) {
  std::uint8_t a[20] = {};
  std::uint8_t b[20] = {};
  ASSERT_OK(random_bytes(a));
  ASSERT_OK(random_bytes(b));
  assert_memory_not_equal(a, b, sizeof a);
  bool seen[31] = {};
  for (int i = 0; i < 2000; ++i) {
    auto r = random_below(31);
    ASSERT_OK(r);
    seen[*r] = true;
  }
  for (const bool s : seen) assert_true(s);
  auto one = random_below(1);
  ASSERT_OK(one);
  assert_int_equal(*one, 0);
  wipe(a, sizeof a);
  const std::uint8_t zero[20] = {};
  assert_memory_equal(a, zero, sizeof a);
}

void issuer_and_label(void**) {
  Config config;
  config.issuer = "Valix Test";
  assert_string_equal(issuer_name(config).c_str(), "Valix Test");
  config.issuer.clear();
  assert_false(issuer_name(config).empty());  // the host name
  const std::string label = account_label(valix::Config{}, "alice");
  assert_true(label.rfind("alice@", 0) == 0);
  assert_true(label.size() > 6);
  // A fleet's enrollment names the fleet, the same from every host.
  Config fleet;
  fleet.store = StoreKind::ldap;
  fleet.ldap.base = "ou=state,ou=valix,dc=fleet,dc=example";
  assert_string_equal(issuer_name(fleet).c_str(), "fleet.example");
  assert_string_equal(account_label(fleet, "alice").c_str(), "alice@fleet.example");
  fleet.issuer = "Example Corp";
  assert_string_equal(issuer_name(fleet).c_str(), "Example Corp");
}

void user_names(void**) {
  const char* good[] = {"alice", "a", "Bob_2", "svc.backup", "web-1", "host$", "john@corp.example",
                        "_x"};
  const char* bad[] = {"",   ".",   "..",   "../x", "a/b", "-rf", ".x",
                       "@x", "a b", "a\tb", "a\nb", "x$y", "$",   "é"};
  for (const char* name : good) {
    if (!valid_username(name)) fail_msg("refused '%s'", name);
  }
  for (const char* name : bad) {
    if (valid_username(name)) fail_msg("accepted '%s'", name);
  }
  assert_true(valid_username(std::string(64, 'a')));
  assert_false(valid_username(std::string(65, 'a')));
}

// The aliasing case (a name service answering another spelling with the account's own
// name) is tested through the module and valix-admin with tests/tools/nss_alias.c.
void state_owners(void**) {
  auto root = state_owner("root");  // every system has it
  ASSERT_OK(root);
  assert_string_equal(root->key.c_str(), "root");
  assert_true(root->account.has_value());
  assert_int_equal(root->account->uid, 0);
  auto unknown = state_owner("valix-no-such-user");
  ASSERT_OK(unknown);
  assert_string_equal(unknown->key.c_str(), "valix-no-such-user");  // keeps its spelling
  assert_false(unknown->account.has_value());
  auto invalid = state_owner("../valix-no-such-user");
  ASSERT_OK(invalid);
  assert_true(invalid->key.empty());  // can never be a state file name
  assert_false(invalid->account.has_value());
}

void uri_and_key(void**) {
  const SecretBytes secret = bytes_of("12345678901234567890");
  const SecretString uri = otpauth_uri("Valix Test", "alice@host", secret, OtpParameters{});
  assert_string_equal(uri.c_str(),
                      "otpauth://totp/Valix%20Test:alice@host?secret="
                      "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Valix%20Test&algorithm=SHA1&"
                      "digits=6&period=30");
  const SecretString odd = otpauth_uri("A:B&C", "x", secret, {OtpAlgorithm::sha512, 8, 60});
  assert_true(odd.view().find("otpauth://totp/A%3AB%26C:x?") == 0);
  assert_true(odd.view().find("&algorithm=SHA512&digits=8&period=60") != std::string_view::npos);
  assert_string_equal(grouped_secret(secret).c_str(), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
}

void activation(void**) {
  Config config;
  auto pending = new_pending_enrollment(config, 1000);
  ASSERT_OK(pending);
  assert_int_equal(pending->secret.size(), kSecretBytes);
  assert_int_equal(pending->expires_at, 1000 + config.pending_lifetime);
  auto other = new_pending_enrollment(config, 1000);
  assert_memory_not_equal(other->secret.data(), pending->secret.data(), kSecretBytes);

  UserState state;
  assert_false(activate_enrollment(state, 5, 1000, config).has_value());  // nothing pending
  state.required = true;
  state.failures = 3;
  state.pending = std::move(*pending);
  auto codes = activate_enrollment(state, 77, 1010, config);
  ASSERT_OK(codes);
  assert_int_equal(codes->size(), 10);
  assert_false(state.pending.has_value());
  assert_false(state.required);
  assert_int_equal(state.failures, 0);
  assert_int_equal(state.enrollment->last_step, 77);
  assert_int_equal(state.enrollment->enrolled_at, 1010);
  for (const auto& code : *codes) {
    auto found = find_backup_code(state.enrollment->backup, code.view());
    ASSERT_OK(found);
    assert_true(found->has_value());
  }
  const std::string listing(format_backup_codes(*codes).view());
  assert_true(listing.find("   1. ") == 0);
  assert_true(listing.find("  10. ") != std::string::npos);
}

void qr(void**) {
  const std::string uri = "otpauth://totp/X:y?secret=GEZDGNBVGY3TQOJQ";
  auto utf8 = render_qr_text(uri, QrStyle::utf8);
  ASSERT_OK(utf8);
  assert_true(utf8->view().find("\u2580") != std::string::npos);
  assert_true(utf8->view().find("\033[") != std::string::npos);
  auto plain = render_qr_text_plain(uri);
  ASSERT_OK(plain);
  assert_true(plain->view().find('\033') == std::string::npos);  // safe for OpenSSH's filter
  auto ansi = render_qr_text(uri, QrStyle::ansi);
  ASSERT_OK(ansi);
  assert_true(ansi->view().find("\033[40m") != std::string::npos);
  auto none = render_qr_text(uri, QrStyle::none);
  ASSERT_OK(none);
  assert_true(none->empty());
  auto svg = render_qr_svg(uri);
  ASSERT_OK(svg);
  assert_true(svg->view().find("<svg") != std::string::npos);
  // The largest code (version 40, level M, 2,331 bytes): every rendering fits the room it
  // reserved, so none left an unwiped copy behind.
  const std::string largest(2331, 'x');
  for (const auto style : {QrStyle::utf8, QrStyle::ansi}) ASSERT_OK(render_qr_text(largest, style));
  ASSERT_OK(render_qr_text_plain(largest));
  ASSERT_OK(render_qr_svg(largest));
  const std::string huge(5000, 'x');
  assert_false(render_qr_text(huge, QrStyle::utf8).has_value());
  assert_false(render_qr_svg(huge).has_value());
}

bool mapped(std::string_view library_name) {
  std::ifstream maps("/proc/self/maps");
  std::stringstream text;
  text << maps.rdbuf();
  return text.str().find(library_name) != std::string::npos;
}

// Runs first: nothing has needed libcrypt or libqrencode yet, so neither is mapped (the core
// does not name them in DT_NEEDED); the first QR code and the first backup code load them.
void libraries_load_on_first_use(void**) {
  assert_false(mapped("libqrencode"));
  assert_false(mapped("libcrypt.so"));
  ASSERT_OK(render_qr_svg("otpauth://totp/X:y?secret=GEZDGNBVGY3TQOJQ"));
  assert_true(mapped("libqrencode"));
  auto codes = generate_backup_codes(2);
  ASSERT_OK(codes);
  ASSERT_OK(hash_backup_codes(*codes));
  assert_true(mapped("libcrypt.so"));
}

void lazy_library_failures_and_retry(void**) {
  LazyLibrary missing("libvalix-no-such-library.so.0");
  auto no_library = missing.function<int()>("anything");
  assert_false(no_library.has_value());
  assert_int_equal(static_cast<int>(no_library.error().code), static_cast<int>(Errc::io));
  assert_true(no_library.error().message.find("cannot load libvalix-no-such-library.so.0") == 0);

  auto no_symbol = libcrypt_library().function<int()>("valix_no_such_symbol");
  assert_false(no_symbol.has_value());
  assert_true(no_symbol.error().message.find("cannot find valix_no_such_symbol in ") == 0);

  auto gensalt = libcrypt_library().function<decltype(crypt_gensalt_rn)>("crypt_gensalt_rn");
  ASSERT_OK(gensalt);
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  assert_non_null((*gensalt)(nullptr, 0, nullptr, 0, setting, sizeof setting));
  assert_int_equal(setting[0], '$');

  // A failed load is not remembered: once the library appears, the next call loads it.
  Dl_info info{};
  assert_true(dladdr(reinterpret_cast<void*>(*gensalt), &info) != 0);
  char dir_template[] = "/tmp/valix-lazy-XXXXXX";
  assert_non_null(mkdtemp(dir_template));
  const std::filesystem::path dir(dir_template);
  const std::string later = (dir / "libcrypt-later.so").string();
  LazyLibrary appears_later(later.c_str());
  assert_false(appears_later.function<decltype(crypt_gensalt_rn)>("crypt_gensalt_rn").has_value());
  std::filesystem::create_symlink(info.dli_fname, later);
  ASSERT_OK(appears_later.function<decltype(crypt_gensalt_rn)>("crypt_gensalt_rn"));
  std::filesystem::remove_all(dir);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(libraries_load_on_first_use),
      cmocka_unit_test(lazy_library_failures_and_retry),
      cmocka_unit_test(secrets),
      cmocka_unit_test(secret_string_moves_leave_nothing),
      cmocka_unit_test(randomness_and_wipe),
      cmocka_unit_test(issuer_and_label),
      cmocka_unit_test(user_names),
      cmocka_unit_test(state_owners),
      cmocka_unit_test(uri_and_key),
      cmocka_unit_test(activation),
      cmocka_unit_test(qr),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
