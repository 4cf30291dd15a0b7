// The order of a login's work on a state file of format 2, with the real FileStateStore: the
// charge is written (pwrite) before the first HMAC of any answer, right, wrong, replayed or a
// clock-drift code, and the login is synced exactly once. Judging an answer takes more or
// less time depending on the verdict (a wrong code also searches the drift range); were any
// of it done before the charge is in place, a caller who kills the process at the right
// moment would get the wrong guesses free (a review of the one-write login measured it).
// The MAC's entry points (HMAC, and EVP_MAC_fetch, EVP_MAC_init and EVP_MAC_update, which
// the OTP code uses), pwrite and fdatasync are interposed (this executable's definitions win
// over libcrypto's and libc's) only to count them: any of the MAC's counts as an HMAC.
#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <cstdlib>
#include <span>
#include <string>

#include "enrollment.hpp"
#include "file_store.hpp"
#include "otp.hpp"
#include "unit.hpp"
#include "verify.hpp"

using namespace valix;

namespace {
int g_hmacs = 0;
int g_pwrites = 0;
int g_syncs = 0;
int g_hmacs_before_first_pwrite = -1;
}  // namespace

extern "C" {
unsigned char* HMAC(const EVP_MD* md, const void* key, int key_len, const unsigned char* d,
                    size_t n, unsigned char* out, unsigned int* out_len) {
  using Fn = unsigned char* (*)(const EVP_MD*, const void*, int, const unsigned char*, size_t,
                                unsigned char*, unsigned int*);
  static const auto real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "HMAC"));
  ++g_hmacs;
  return real(md, key, key_len, d, n, out, out_len);
}
EVP_MAC* EVP_MAC_fetch(OSSL_LIB_CTX* libctx, const char* algorithm, const char* properties) {
  using Fn = EVP_MAC* (*)(OSSL_LIB_CTX*, const char*, const char*);
  static const auto real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "EVP_MAC_fetch"));
  ++g_hmacs;
  return real(libctx, algorithm, properties);
}
int EVP_MAC_init(EVP_MAC_CTX* ctx, const unsigned char* key, size_t keylen,
                 const OSSL_PARAM params[]) {
  using Fn = int (*)(EVP_MAC_CTX*, const unsigned char*, size_t, const OSSL_PARAM[]);
  static const auto real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "EVP_MAC_init"));
  ++g_hmacs;
  return real(ctx, key, keylen, params);
}
int EVP_MAC_update(EVP_MAC_CTX* ctx, const unsigned char* data, size_t datalen) {
  using Fn = int (*)(EVP_MAC_CTX*, const unsigned char*, size_t);
  static const auto real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "EVP_MAC_update"));
  ++g_hmacs;
  return real(ctx, data, datalen);
}
ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  using Fn = ssize_t (*)(int, const void*, size_t, off_t);
  static const auto real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "pwrite"));
  if (g_pwrites++ == 0) g_hmacs_before_first_pwrite = g_hmacs;
  return real(fd, buf, count, offset);
}
int fdatasync(int fd) {
  using Fn = int (*)(int);
  static const auto real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "fdatasync"));
  ++g_syncs;
  return real(fd);
}
}

namespace {

constexpr std::int64_t kNow = 1'700'000'010;
constexpr char kSecret[] = "12345678901234567890";
std::string g_dir;

int make_dir(void**) {
  char dir[] = "/tmp/valix-unit-order-XXXXXX";
  if (mkdtemp(dir) == nullptr) return -1;
  g_dir = dir;
  return 0;
}
int remove_dir(void**) { return std::system(("rm -rf '" + g_dir + "'").c_str()) == 0 ? 0 : -1; }

std::string code_at(std::uint64_t step) {
  auto code = hotp(bytes_of(kSecret).span(), step, OtpParameters{});
  if (!code) fail_msg("%s", code.error().message.c_str());
  return std::string(code->view());
}

struct Case {
  const char* what;
  std::string answer;
  Outcome outcome;
};

// Each answer in turn: its verdict, at least one HMAC, none before the first write, one sync.
void check_order(StateStore& store, const StateKey& key, std::span<const Case> cases) {
  Config config;
  config.max_failures = 100;
  for (const Case& c : cases) {
    g_hmacs = g_pwrites = g_syncs = 0;
    g_hmacs_before_first_pwrite = -1;
    auto verdict = verify_and_record(store, key, c.answer, kNow, config);
    ASSERT_OK(verdict);
    if (verdict->outcome != c.outcome) {
      fail_msg("%s: unexpected verdict %s", c.what,
               std::string(outcome_name(verdict->outcome)).c_str());
    }
    if (g_hmacs == 0) fail_msg("%s: no HMAC computed", c.what);
    if (g_hmacs_before_first_pwrite != 0) {
      fail_msg("%s: %d HMACs before the first write", c.what, g_hmacs_before_first_pwrite);
    }
    if (g_syncs != 1) fail_msg("%s: %d syncs, not one", c.what, g_syncs);
  }
}

void charge_written_before_any_hmac(void**) {
  auto store = FileStateStore::open(g_dir, geteuid());
  if (!store) fail_msg("%s", store.error().message.c_str());
  const StateKey key{"order", std::nullopt};
  ASSERT_OK(store->update(key, [](std::optional<UserState>& s) -> Result<StateChange> {
    s.emplace().enrollment = enrollment_of(bytes_of(kSecret), OtpParameters{}, 1, 0);
    s->enrollment->backup.setting = "$y$j9T$abcdefghijklmnopqrstuv";
    return StateChange::write;
  }));
  const std::uint64_t step = totp_step(kNow, 30);
  const Case cases[] = {
      {"right", code_at(step), Outcome::totp_accepted},
      {"replayed", code_at(step), Outcome::replayed},
      {"wrong", "000000", Outcome::wrong},
      {"clock drift", code_at(step - 6), Outcome::clock_drift},
      {"right again", code_at(step + 1), Outcome::totp_accepted},
  };
  check_order(*store, key, cases);
}

constexpr char kEight[] = "abcdefghijabcdefghij";
constexpr char kToken[] = "ABCDEFGHIJKLMNOPQRST";
std::string code_of(const char* secret, std::uint64_t step, int digits = 6) {
  OtpParameters p;
  p.digits = digits;
  auto code = hotp(bytes_of(secret).span(), step, p);
  if (!code) fail_msg("%s", code.error().message.c_str());
  return std::string(code->view());
}

// The same with three authenticators: a 6-digit and an 8-digit TOTP one and an HOTP token,
// answers for each and for none.
void charge_written_before_any_hmac_several(void**) {
  auto store = FileStateStore::open(g_dir, geteuid());
  if (!store) fail_msg("%s", store.error().message.c_str());
  const StateKey key{"several", std::nullopt};
  ASSERT_OK(store->update(key, [](std::optional<UserState>& s) -> Result<StateChange> {
    s.emplace().enrollment = enrollment_of(bytes_of(kSecret), OtpParameters{}, 1, 0);
    s->enrollment->backup.setting = "$y$j9T$abcdefghijklmnopqrstuv";
    Authenticator eight;
    eight.name = "eight";
    eight.secret = bytes_of(kEight);
    eight.otp.digits = 8;
    eight.enrolled_at = 2;
    Authenticator token;
    token.name = "token";
    token.secret = bytes_of(kToken);
    token.kind = AuthenticatorKind::hotp;
    token.last_step = 5;
    token.enrolled_at = 3;
    if (!add_authenticator(*s->enrollment, std::move(eight))) fail_msg("add");
    if (!add_authenticator(*s->enrollment, std::move(token))) fail_msg("add");
    return StateChange::write;
  }));
  const std::uint64_t step = totp_step(kNow, 30);
  const Case cases[] = {
      {"right", code_of(kSecret, step), Outcome::totp_accepted},
      {"replayed", code_of(kSecret, step), Outcome::replayed},
      {"wrong", "000000", Outcome::wrong},
      {"wrong 8", "00000000", Outcome::wrong},
      {"clock drift", code_of(kSecret, step - 6), Outcome::clock_drift},
      {"right 8", code_of(kEight, step, 8), Outcome::totp_accepted},
      {"replayed 8", code_of(kEight, step, 8), Outcome::replayed},
      {"hotp", code_of(kToken, 7), Outcome::hotp_accepted},
      {"hotp replayed", code_of(kToken, 7), Outcome::replayed},
      {"hotp out of sync", code_of(kToken, 100), Outcome::out_of_sync},
      {"right again", code_of(kSecret, step + 1), Outcome::totp_accepted},
  };
  check_order(*store, key, cases);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(charge_written_before_any_hmac),
      cmocka_unit_test(charge_written_before_any_hmac_several),
  };
  return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
