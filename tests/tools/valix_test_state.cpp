// Test helper: writes or shows one user's state through the core's FileStateStore.
//   valix-test-state DIR USER write SECRET_BASE32 [--backup-codes N] [--last-step N]
//                    [--digits N] [--algorithm NAME] [--period N] [--required]
//                    [--failures N] [--locked-until T] [--backup-failures N]
//                    [--backup-locked-until T]              (prints the backup codes)
//   valix-test-state DIR USER flag [--uid N]                 (admin flag only, not enrolled)
//   valix-test-state DIR USER show                           (key=value summary)
//   valix-test-state DIR USER text        (the state text the file holds, format 1 or 2)
//   valix-test-state DIR USER slots       (format 2: slot_size=, newest=, seq=, other_valid=)
//   valix-test-state DIR USER pack [SEQ [SLOT]]  (writes the text on stdin, unchecked, as a
//                      format-2 file: slot SLOT (default 0) holds it with sequence SEQ
//                      (default 1), the other slot is zeros, so the next write goes there)
// --uid N (write, flag): the state is the account N's, as a login by it would write it (the
// store records N and indexes it); without it the name is taken as having no account, and
// the state keeps whatever uid it recorded (none for a new one, as an earlier version wrote).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "base32.hpp"
#include "enrollment.hpp"
#include "file_store.hpp"
#include "file_util.hpp"
#include "slot_file.hpp"

using namespace valix;

namespace {

int die(const std::string& message) {
  std::fprintf(stderr, "valix-test-state: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return die("usage: DIR USER write|flag|show ...");
  const std::string dir = argv[1], user = argv[2], command = argv[3];
  const std::string file = dir + "/" + user + ".state";
  if (command == "text" || command == "slots") {
    const int fd = open(file.c_str(), O_RDONLY);
    if (fd < 0) return die("cannot open " + file);
    auto bytes = read_all(fd, kMaxSlotFileSize);
    close(fd);
    if (!bytes) return die(bytes.error().message);
    auto content = decode_state_file(bytes->view());
    if (!content) return die(content.error().message);
    if (command == "text") {
      std::fwrite(content->text.data(), 1, content->text.size(), stdout);
      return 0;
    }
    if (!content->slots) return die("format 1: no slots");
    std::printf("slot_size=%zu\nnewest=%zu\nseq=%llu\nother_valid=%d\n", content->slots->slot_size,
                content->slots->newest, static_cast<unsigned long long>(content->slots->seq),
                content->slots->other_valid ? 1 : 0);
    return 0;
  }
  if (command == "pack") {
    const std::string text((std::istreambuf_iterator<char>(std::cin)),
                           std::istreambuf_iterator<char>());
    SecretString packed =
        encode_slot_file(text, argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 1);
    if (argc > 5 && std::string(argv[5]) == "1") {  // the halves swapped
      std::string& bytes = packed.str();
      const std::size_t half = bytes.size() / 2;
      std::swap_ranges(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(half),
                       bytes.begin() + static_cast<std::ptrdiff_t>(half));
    }
    const int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return die("cannot create " + file);
    auto written = write_all(fd, packed.view());
    close(fd);
    return written ? 0 : die(written.error().message);
  }
  auto store = FileStateStore::open(dir, geteuid());
  if (!store) return die(store.error().message);
  StateKey key{user, std::nullopt};
  for (int i = 4; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--uid") key.uid = static_cast<uid_t>(std::atoll(argv[i + 1]));
  }

  if (command == "show") {
    auto state = store->load(key);
    if (!state) return die(state.error().message);
    if (!*state) {
      std::printf("exists=0\n");
      return 0;
    }
    const UserState& s = **state;
    if (s.uid) std::printf("uid=%u\n", static_cast<unsigned>(*s.uid));
    std::printf("exists=1\nenrolled=%d\nrequired=%d\nfailures=%d\nlocked_until=%lld\n",
                s.enrollment ? 1 : 0, s.required ? 1 : 0, s.failures,
                static_cast<long long>(s.locked_until));
    std::printf("pending=%d\npending_attempts=%d\nlast_login=%lld\n", s.pending ? 1 : 0,
                s.pending ? s.pending->attempts : 0, static_cast<long long>(s.last_login));
    std::printf("backup_failures=%d\nbackup_locked_until=%lld\n", s.backup_failures,
                static_cast<long long>(s.backup_locked_until));
    if (s.enrollment) {
      std::printf("last_step=%llu\nbackup_left=%zu\noffset_steps=%lld\n",
                  static_cast<unsigned long long>(s.enrollment->last_step),
                  s.enrollment->backup.hashes.size(),
                  static_cast<long long>(s.enrollment->offset_steps));
    }
    return 0;
  }
  if (command == "flag") {
    auto done = store->update(key, [](std::optional<UserState>& state) -> Result<StateChange> {
      if (!state) state.emplace();
      state->required = true;
      return StateChange::write;
    });
    return done ? 0 : die(done.error().message);
  }
  if (command != "write" || argc < 5) return die("unknown command");

  auto secret = base32_decode(argv[4]);
  if (!secret) return die(secret.error().message);
  Config config;
  config.backup_codes = 10;
  UserState state;
  Enrollment enrollment;
  enrollment.secret = std::move(*secret);
  enrollment.enrolled_at = std::time(nullptr);
  for (int i = 5; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--backup-codes") config.backup_codes = std::atoi(next().c_str());
    else if (arg == "--last-step")
      enrollment.last_step = std::strtoull(next().c_str(), nullptr, 10);
    else if (arg == "--digits") enrollment.otp.digits = std::atoi(next().c_str());
    else if (arg == "--period") enrollment.otp.period = std::atoi(next().c_str());
    else if (arg == "--algorithm") enrollment.otp.algorithm = *parse_otp_algorithm(next());
    else if (arg == "--required") state.required = true;
    else if (arg == "--failures") state.failures = std::atoi(next().c_str());
    else if (arg == "--locked-until") state.locked_until = std::atoll(next().c_str());
    else if (arg == "--backup-failures") state.backup_failures = std::atoi(next().c_str());
    else if (arg == "--backup-locked-until") state.backup_locked_until = std::atoll(next().c_str());
    else if (arg == "--uid") next();  // read above
    else return die("unknown option " + arg);
  }
  auto codes = replace_backup_codes(enrollment, config);
  if (!codes) return die(codes.error().message);
  state.enrollment = std::move(enrollment);
  auto done = store->update(key, [&](std::optional<UserState>& current) -> Result<StateChange> {
    current = std::move(state);
    return StateChange::write;
  });
  if (!done) return die(done.error().message);
  for (const auto& code : *codes) std::printf("%s\n", code.c_str());
  return 0;
}
