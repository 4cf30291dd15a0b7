// valix-enroll's flows (enroll/enroller.cpp) against the in-memory store, which runs every
// mutator twice: how a change of the state between a decision and its write is reported.
#include <ctime>
#include <memory>

#include "enroller.hpp"
#include "enrollment.hpp"
#include "memory_store.hpp"
#include "otp.hpp"
#include "outcome.hpp"
#include "unit.hpp"

using namespace valix;

namespace {

const std::string kUser = "alice";
constexpr uid_t kUid = 1001;

std::string code_now() {
  const auto step = totp_step(static_cast<std::int64_t>(std::time(nullptr)), 30);
  auto code = hotp(bytes_of("12345678901234567890").span(), step, OtpParameters{});
  if (!code) fail_msg("%s", code.error().message.c_str());
  return std::string(code->view());
}

void enroll_in(MemoryStore& store, const Config& config) {
  UserState state;
  Enrollment e;
  e.secret = bytes_of("12345678901234567890");
  if (!replace_backup_codes(e, config)) fail_msg("backup codes");
  state.enrollment = std::move(e);
  store.put(kUser, state);
}

// The enrollment is reset (valix-admin reset) after the current code was checked and before
// the new backup codes are stored: the state changed since the decision (Errc::conflict), so
// valix-enroll refuses (exit 1, "run valix-enroll again"), not an internal error, and nothing
// is written.
void regenerate_refused_when_reset_meanwhile(void**) {
  Config config;
  MemoryStore store;
  enroll_in(store, config);
  store.before_update_at = 3;  // the charge, the judging, then the new codes
  bool reset = false;
  store.before_update = [&] {
    reset = true;
    ASSERT_OK(store.update(
        StateKey{kUser, kUid},
        [](std::optional<UserState>&) -> Result<StateChange> { return StateChange::remove; }));
  };
  enroll::Options options;
  options.action = enroll::Options::Action::regenerate;
  options.current_code = code_now();
  const int exit_status =
      enroll::run_enroller(options, config, BorrowedStore::of(store), kUser, kUid, std::nullopt);
  assert_true(reset);  // the code was right: the refusal is the reset's
  assert_int_equal(exit_status, enroll::kRefused);
  auto left = store.load(StateKey{kUser, kUid});
  ASSERT_OK(left);
  assert_false(left->has_value());  // the reset stands, no codes were given to nobody
}

void regenerate_replaces_the_codes(void**) {
  Config config;
  MemoryStore store;
  enroll_in(store, config);
  const auto before = store.at(kUser).enrollment->backup.hashes.size();
  const auto old_first = store.at(kUser).enrollment->backup.hashes.front();
  enroll::Options options;
  options.action = enroll::Options::Action::regenerate;
  options.current_code = code_now();
  options.json = true;
  const int exit_status =
      enroll::run_enroller(options, config, BorrowedStore::of(store), kUser, kUid, std::nullopt);
  assert_int_equal(exit_status, enroll::kOk);
  assert_int_equal(store.at(kUser).enrollment->backup.hashes.size(), before);
  assert_true(store.at(kUser).enrollment->backup.hashes.front() != old_first);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(regenerate_refused_when_reset_meanwhile),
      cmocka_unit_test(regenerate_replaces_the_codes),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
