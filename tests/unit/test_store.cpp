// FileStateStore: missing users, write/keep/remove, user names, unsafe files, the lock,
// stale temp files, listing, read-modify-write from many processes at once, the new
// private files handed to users, and the uid rules (recorded uid, index, rename).
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "file_store.hpp"
#include "file_util.hpp"
#include "slot_file.hpp"
#include "unit.hpp"
#include "verify.hpp"

using namespace valix;
using namespace std::chrono_literals;

namespace {

std::string g_dir;

int make_dir(void**) {
  char dir[] = "/tmp/valix-unit-store-XXXXXX";
  if (mkdtemp(dir) == nullptr) return -1;
  g_dir = dir;
  return 0;
}

int remove_dir(void**) { return std::system(("rm -rf '" + g_dir + "'").c_str()) == 0 ? 0 : -1; }

FileStateStore open_store(std::chrono::milliseconds timeout = 2s) {
  auto store = FileStateStore::open(g_dir, geteuid(), timeout);
  if (!store) fail_msg("%s", store.error().message.c_str());
  return std::move(*store);
}

// A name without an account: the store applies none of the uid rules.
StateKey no_account(std::string_view name) { return StateKey{std::string(name), std::nullopt}; }

Result<void> set_failures(FileStateStore& store, std::string_view user, int failures) {
  return store.update(no_account(user), [&](std::optional<UserState>& s) -> Result<StateChange> {
    if (!s) s.emplace();
    s->failures = failures;
    return StateChange::write;
  });
}

// A state whose failure count starts at 0 but that is not empty (an empty one is removed).
Result<void> put_counter(FileStateStore& store, std::string_view user) {
  return store.update(no_account(user), [&](std::optional<UserState>& s) -> Result<StateChange> {
    s.emplace().required = true;
    return StateChange::write;
  });
}

std::string path(std::string_view name) { return g_dir + "/" + std::string(name); }

void basics(void**) {
  FileStateStore store = open_store();
  auto missing = store.load(no_account("alice"));
  ASSERT_OK(missing);
  assert_false(missing->has_value());
  ASSERT_OK(set_failures(store, "alice", 3));
  auto loaded = store.load(no_account("alice"));
  ASSERT_OK(loaded);
  assert_int_equal((*loaded)->failures, 3);
  struct stat st {};
  assert_int_equal(stat(path("alice.state").c_str(), &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  ASSERT_OK(
      store.update(no_account("alice"), [](std::optional<UserState>& s) -> Result<StateChange> {
        s->failures = 99;  // changed in memory but kept: nothing written
        return StateChange::keep;
      }));
  assert_int_equal((*store.load(no_account("alice")))->failures, 3);
  auto failing =
      store.update(no_account("alice"), [](std::optional<UserState>& s) -> Result<StateChange> {
        s->failures = 77;                           // changed in memory, then an error:
        return (valix::fail)(Errc::invalid, "no");  // parenthesised: cmocka defines fail()
      });
  assert_false(failing.has_value());
  assert_true(failing.error().code == Errc::invalid);  // the mutator's error, unchanged
  assert_int_equal((*store.load(no_account("alice")))->failures, 3);  // nothing written
  // A write of a state with nothing left to keep removes it: the store decides.
  ASSERT_OK(store.update(no_account("zoe"), [](std::optional<UserState>& s) -> Result<StateChange> {
    s.emplace().failures = 1;
    return StateChange::write;
  }));
  assert_int_equal(access(path("zoe.state").c_str(), F_OK), 0);
  ASSERT_OK(store.update(no_account("zoe"), [](std::optional<UserState>& s) -> Result<StateChange> {
    s->failures = 0;
    return StateChange::write;
  }));
  assert_false(store.load(no_account("zoe"))->has_value());
  assert_int_equal(access(path("zoe.state").c_str(), F_OK), -1);
  ASSERT_OK(store.update(no_account("alice"), [](std::optional<UserState>&) -> Result<StateChange> {
    return StateChange::remove;
  }));
  assert_false(store.load(no_account("alice"))->has_value());
  assert_int_equal(access(path("alice.lock").c_str(), F_OK), 0);  // the lock file stays
}

void user_names(void**) {
  FileStateStore store = open_store();
  const std::string bad[] = {
      "", "../x", "a/b", ".hidden", "-x", "@x", "a\nb", "a b", std::string(65, 'a'), "x$y", "$"};
  for (const auto& name : bad) {
    if (store.load(no_account(name)).has_value()) fail_msg("accepted user name '%s'", name.c_str());
    if (set_failures(store, name, 1).has_value()) fail_msg("wrote user name '%s'", name.c_str());
  }
  const char* good[] = {"bob", "Bob.Smith", "svc-1", "host$", "user@example.com", "_x"};
  for (const char* name : good) ASSERT_OK(set_failures(store, name, 1));
  auto users = store.list_users();
  ASSERT_OK(users);
  for (std::size_t i = 1; i < users->size(); ++i) assert_true((*users)[i - 1] < (*users)[i]);
}

// Refused as unsafe (not merely as unreadable: the "huge" file would also fail to parse, so
// only the kind shows that the size cap refused it).
void expect_unsafe(FileStateStore& store, const char* what) {
  auto loaded = store.load(no_account("carol"));
  if (loaded.has_value()) fail_msg("%s: load did not fail", what);
  if (loaded.error().code != Errc::unsafe) {
    fail_msg("%s: load failed as %d, not unsafe: %s", what, static_cast<int>(loaded.error().code),
             loaded.error().message.c_str());
  }
  auto updated = set_failures(store, "carol", 1);
  if (updated.has_value()) fail_msg("%s: update did not fail", what);
  if (updated.error().code != Errc::unsafe) fail_msg("%s: update failed, but not as unsafe", what);
}

void unsafe_files(void**) {
  FileStateStore store = open_store();
  ASSERT_OK(set_failures(store, "dave", 1));
  const std::string carol = path("carol.state");

  assert_int_equal(symlink(path("dave.state").c_str(), carol.c_str()), 0);
  expect_unsafe(store, "symlink");
  unlink(carol.c_str());
  assert_int_equal(mkfifo(carol.c_str(), 0600), 0);
  expect_unsafe(store, "fifo");
  unlink(carol.c_str());
  assert_int_equal(mkdir(carol.c_str(), 0700), 0);
  expect_unsafe(store, "directory");
  rmdir(carol.c_str());
  assert_int_equal(link(path("dave.state").c_str(), carol.c_str()), 0);
  expect_unsafe(store, "hard link");
  unlink(carol.c_str());
  assert_int_equal(std::system(("cp '" + path("dave.state") + "' '" + carol + "'").c_str()), 0);
  chmod(carol.c_str(), 0644);
  expect_unsafe(store, "mode 0644");
  chmod(carol.c_str(), 0600);
  if (geteuid() == 0) {
    assert_int_equal(chown(carol.c_str(), 1234, 0), 0);
    expect_unsafe(store, "owned by another uid");
    assert_int_equal(chown(carol.c_str(), 0, 0), 0);
  }
  { std::ofstream(carol) << "garbage\n"; }
  auto corrupt = store.load(no_account("carol"));
  assert_false(corrupt.has_value());
  assert_true(corrupt.error().code == Errc::corrupt);
  std::ofstream(carol, std::ios::trunc) << std::string(70000, 'x');
  expect_unsafe(store, "huge");
  unlink(carol.c_str());
}

std::string contents(const std::string& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A state that would not read back is never written: the old state stays, byte for byte.
void unreadable_state_is_not_written(void**) {
  FileStateStore store = open_store();
  ASSERT_OK(set_failures(store, "hank", 2));
  const std::string before = contents(path("hank.state"));
  auto refused_with = [&](const char* what, auto&& change) {
    auto done =
        store.update(no_account("hank"), [&](std::optional<UserState>& s) -> Result<StateChange> {
          change(*s);
          return StateChange::write;
        });
    if (done.has_value()) fail_msg("%s: written", what);
    if (done.error().code != Errc::internal) fail_msg("%s: %s", what, done.error().message.c_str());
    if (contents(path("hank.state")) != before) fail_msg("%s: the state file changed", what);
    if (access(path(".hank.tmp").c_str(), F_OK) == 0) fail_msg("%s: a temp file was left", what);
    ASSERT_OK(store.load(no_account("hank")));
  };
  // What a google-authenticator import of a 200-byte secret used to store.
  refused_with("a 200-byte secret", [](UserState& s) {
    s.enrollment = enrollment_of(bytes_of(std::string(200, 'k')), OtpParameters{}, 1, 0);
    s.enrollment->backup.setting = "$y$j9T$abcdefghijklmnopqrstuv";
  });
  refused_with("a 9-byte pending secret", [](UserState& s) {
    s.pending = PendingEnrollment{bytes_of("123456789"), OtpParameters{}, 1};
  });
  refused_with("failures out of range", [](UserState& s) { s.failures = 2'000'000; });
  refused_with("a negative lockout", [](UserState& s) { s.locked_until = -1; });
  refused_with("more than the file size limit", [](UserState& s) {
    s.enrollment = enrollment_of(bytes_of(std::string(20, 'k')), OtpParameters{}, 1, 0);
    s.enrollment->backup.setting = "$y$j9T$abcdefghijklmnopqrstuv";
    s.enrollment->backup.hashes.assign(1000,
                                       "$y$j9T$abcdefghijklmnopqrstuv$" + std::string(43, 'h'));
  });
  assert_int_equal((*store.load(no_account("hank")))->failures, 2);
  // Control: the same enrollment with a 20-byte secret is written and reads back.
  ASSERT_OK(
      store.update(no_account("hank"), [](std::optional<UserState>& s) -> Result<StateChange> {
        s->enrollment = enrollment_of(bytes_of(std::string(20, 'k')), OtpParameters{}, 1, 0);
        s->enrollment->backup.setting = "$y$j9T$abcdefghijklmnopqrstuv";
        return StateChange::write;
      }));
  assert_true((*store.load(no_account("hank")))->enrollment.has_value());
}

// remove_unreadable takes away only a state file that passes every check but its content.
void removing_unreadable_state(void**) {
  FileStateStore store = open_store();
  ASSERT_OK(set_failures(store, "ivy", 1));
  auto readable = store.remove_unreadable("ivy");
  assert_false(readable.has_value());
  assert_true(readable.error().code == Errc::conflict);
  assert_int_equal(access(path("ivy.state").c_str(), F_OK), 0);
  auto none = store.remove_unreadable("nobody");
  assert_false(none.has_value());
  assert_true(none.error().code == Errc::not_found);

  const std::string ivy = path("ivy.state");
  for (const std::string& junk :
       {std::string("valix-state 1\nfailures x\nend\n"), std::string(70000, 'x'), std::string()}) {
    std::ofstream(ivy, std::ios::trunc) << junk;
    chmod(ivy.c_str(), 0600);
    assert_false(store.load(no_account("ivy")).has_value());
    auto removed = store.remove_unreadable("ivy");
    ASSERT_OK(removed);
    assert_false(removed->empty());
    assert_int_equal(access(ivy.c_str(), F_OK), -1);
    assert_false(store.load(no_account("ivy"))->has_value());
  }

  // Files the store never trusts stay, whatever they hold: they are for an administrator.
  { std::ofstream(path("junk")) << "garbage\n"; }
  chmod(path("junk").c_str(), 0600);
  auto expect_kept = [&](const char* what) {
    auto kept = store.remove_unreadable("ivy");
    if (kept.has_value()) fail_msg("%s: removed", what);
    if (kept.error().code != Errc::unsafe) fail_msg("%s: %s", what, kept.error().message.c_str());
    struct stat st {};
    if (lstat(ivy.c_str(), &st) != 0) fail_msg("%s: gone", what);
  };
  assert_int_equal(symlink(path("junk").c_str(), ivy.c_str()), 0);
  expect_kept("symlink");
  unlink(ivy.c_str());
  assert_int_equal(link(path("junk").c_str(), ivy.c_str()), 0);
  expect_kept("hard link");
  unlink(ivy.c_str());
  { std::ofstream(ivy) << "garbage\n"; }
  chmod(ivy.c_str(), 0644);
  expect_kept("mode 0644");
  chmod(ivy.c_str(), 0600);
  if (geteuid() == 0) {
    assert_int_equal(chown(ivy.c_str(), 1234, 0), 0);
    expect_kept("owned by another uid");
  }
  unlink(ivy.c_str());
  assert_int_equal(mkfifo(ivy.c_str(), 0600), 0);
  expect_kept("fifo");
  unlink(ivy.c_str());
  assert_int_equal(access(path("junk").c_str(), F_OK), 0);
}

void unsafe_directory(void**) {
  chmod(g_dir.c_str(), 0770);
  assert_false(FileStateStore::open(g_dir, geteuid()).has_value());
  chmod(g_dir.c_str(), 0707);
  assert_false(FileStateStore::open(g_dir, geteuid()).has_value());
  chmod(g_dir.c_str(), 0700);
  assert_false(FileStateStore::open(g_dir, geteuid() + 1).has_value());
  assert_false(FileStateStore::open(g_dir + "/missing", geteuid()).has_value());
  const std::string link = g_dir + ".link";
  assert_int_equal(symlink(g_dir.c_str(), link.c_str()), 0);
  assert_false(FileStateStore::open(link, geteuid()).has_value());
  unlink(link.c_str());
}

void stale_temp_and_lock_timeout(void**) {
  FileStateStore store = open_store(200ms);
  { std::ofstream(path(".erin.tmp")) << "left by a crashed process"; }
  ASSERT_OK(set_failures(store, "erin", 4));
  assert_int_equal(access(path(".erin.tmp").c_str(), F_OK), -1);
  assert_int_equal((*store.load(no_account("erin")))->failures, 4);

  const int fd = open(path("erin.lock").c_str(), O_RDWR);
  assert_true(fd >= 0);
  assert_int_equal(flock(fd, LOCK_EX), 0);
  auto blocked = set_failures(store, "erin", 5);
  assert_false(blocked.has_value());
  assert_true(blocked.error().code == Errc::busy);
  close(fd);
  ASSERT_OK(set_failures(store, "erin", 5));
}

// True once process pid has file open (a descriptor in /proc/PID/fd leads to it).
bool has_open(pid_t pid, const std::string& file) {
  struct stat want {};
  if (stat(file.c_str(), &want) != 0) return false;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    struct stat st {};
    if (stat(entry.path().c_str(), &st) == 0 && st.st_dev == want.st_dev &&
        st.st_ino == want.st_ino) {
      return true;
    }
  }
  return false;
}

// A child blocked in update() on USER.lock; returns its pid once it has the file open.
pid_t start_waiting_increment(const std::string& user) {
  const std::string lock = path(user + ".lock");
  const pid_t child = fork();
  if (child == 0) {
    // The parent's descriptors of the lock file share its flock: inherited, they would keep
    // holding it after the parent lets go. The child is another process, with its own.
    for (int fd = 3; fd < 1024; ++fd) close(fd);
    FileStateStore store = open_store(30s);  // generous: a loaded CI machine is slow
    auto done =
        store.update(no_account(user), [](std::optional<UserState>& s) -> Result<StateChange> {
          s->failures += 1;
          return StateChange::write;
        });
    _exit(done ? 0 : 1);
  }
  for (int i = 0; i < 1000 && !has_open(child, lock); ++i) usleep(5000);
  if (!has_open(child, lock)) fail_msg("the child never opened %s", lock.c_str());
  return child;
}

void expect_child_ok(pid_t child) {
  int status = 0;
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// The lock file replaced while a process waits on the old one: that process must not take
// the old inode's lock and run beside whoever holds the new one.
void replaced_lock_file(void**) {
  FileStateStore store = open_store();
  ASSERT_OK(put_counter(store, "gina"));
  const std::string lock = path("gina.lock");
  const int old_fd = open(lock.c_str(), O_RDWR);
  assert_true(old_fd >= 0);
  assert_int_equal(flock(old_fd, LOCK_EX), 0);
  const pid_t child = start_waiting_increment("gina");

  // Replaced by a new file (as by a restore), whose lock we take, then the old one let go.
  const std::string fresh = path("gina.lock.new");
  const int new_fd = open(fresh.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  assert_true(new_fd >= 0);
  assert_int_equal(rename(fresh.c_str(), lock.c_str()), 0);
  assert_int_equal(flock(new_fd, LOCK_EX), 0);
  close(old_fd);
  // The child polls every 20 ms at most: given time, it would have written by now.
  usleep(500 * 1000);
  assert_int_equal((*store.load(no_account("gina")))->failures,
                   0);  // we hold the lock: nothing changed
  close(new_fd);
  expect_child_ok(child);
  assert_int_equal((*store.load(no_account("gina")))->failures, 1);

  // Removed while waited on: the child makes a new one and goes on.
  const int held = open(lock.c_str(), O_RDWR);
  assert_true(held >= 0);
  assert_int_equal(flock(held, LOCK_EX), 0);
  const pid_t second = start_waiting_increment("gina");
  assert_int_equal(unlink(lock.c_str()), 0);
  close(held);
  expect_child_ok(second);
  assert_int_equal((*store.load(no_account("gina")))->failures, 2);
  assert_int_equal(access(lock.c_str(), F_OK), 0);
}

// A root store run with another effective gid (setuid valix-enroll keeps its caller's) makes
// its files root:root all the same: the state, its temp file and the lock. A lock file an
// earlier version left with the caller's gid is given back too.
void files_are_root_root(void**) {
  if (geteuid() != 0) {
    skip();
    return;
  }
  { std::ofstream(path("judy.lock")) << ""; }
  chmod(path("judy.lock").c_str(), 0600);
  assert_int_equal(chown(path("judy.lock").c_str(), 0, 4321), 0);
  const pid_t child = fork();
  if (child == 0) {
    if (setegid(4321) != 0) _exit(2);
    FileStateStore store = open_store();
    if (!set_failures(store, "judy", 1) || !set_failures(store, "kim", 1)) _exit(1);
    _exit(0);
  }
  expect_child_ok(child);
  for (const char* file : {"judy.state", "judy.lock", "kim.state", "kim.lock"}) {
    struct stat st {};
    assert_int_equal(stat(path(file).c_str(), &st), 0);
    if (st.st_uid != 0 || st.st_gid != 0) {
      fail_msg("%s is %u:%u, not root:root", file, static_cast<unsigned>(st.st_uid),
               static_cast<unsigned>(st.st_gid));
    }
  }
}

void concurrent_increments(void**) {
  constexpr int kProcesses = 8, kIncrements = 50;
  {
    FileStateStore store = open_store();
    ASSERT_OK(put_counter(store, "frank"));
  }
  for (int p = 0; p < kProcesses; ++p) {
    if (fork() == 0) {
      FileStateStore store = open_store(30s);
      for (int i = 0; i < kIncrements; ++i) {
        auto done = store.update(no_account("frank"),
                                 [](std::optional<UserState>& s) -> Result<StateChange> {
                                   s->failures += 1;
                                   return StateChange::write;
                                 });
        if (!done) _exit(1);
      }
      _exit(0);
    }
  }
  for (int p = 0; p < kProcesses; ++p) {
    int status = 0;
    wait(&status);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  FileStateStore store = open_store();
  assert_int_equal((*store.load(no_account("frank")))->failures, kProcesses * kIncrements);
}

// read_all sizes its buffer from fstat; a source with no size (a pipe here, a file that grows
// while read) still reads whole, and the limit still holds.
void read_all_sizes(void**) {
  const std::string text(10000, 'q');
  for (const std::size_t limit : {std::size_t{65536}, std::size_t{10000}, std::size_t{9999}}) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fds[1]);
    auto read = read_all(fds[0], limit);
    close(fds[0]);
    if (limit >= text.size()) {
      ASSERT_OK(read);
      assert_true(read->view() == text);
    } else {
      assert_false(read.has_value());
      assert_true(read.error().message.find("larger than 9999 bytes") != std::string::npos);
    }
  }
}

// create_new_private_file: a new 0600 file with the content; never over an existing file or
// through a symlink; a path that names no file is refused; a relative name works.
void new_private_files(void**) {
  const std::string file = path("codes.txt");
  ASSERT_OK(create_new_private_file(file, "one\ntwo\n"));
  struct stat st {};
  assert_int_equal(stat(file.c_str(), &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  std::ifstream in(file);
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  assert_true(content == "one\ntwo\n");

  auto again = create_new_private_file(file, "other");
  assert_false(again.has_value());
  assert_true(again.error().message.find("already exists") != std::string::npos);

  const std::string target = path("target"), link = path("link");
  ASSERT_OK(create_new_private_file(target, "kept"));
  assert_int_equal(symlink(target.c_str(), link.c_str()), 0);
  assert_false(create_new_private_file(link, "through the link").has_value());
  std::ifstream kept(target);
  std::string kept_content;
  std::getline(kept, kept_content);
  assert_true(kept_content == "kept");

  for (const std::string& bad : {g_dir + "/", g_dir + "/.", g_dir + "/..", std::string()}) {
    assert_false(create_new_private_file(bad, "x").has_value());
  }
  assert_false(create_new_private_file(g_dir + "/missing-dir/file", "x").has_value());

  const std::string cwd = std::filesystem::current_path();
  assert_int_equal(chdir(g_dir.c_str()), 0);
  const auto relative = create_new_private_file("relative.txt", "r");
  assert_int_equal(chdir(cwd.c_str()), 0);
  ASSERT_OK(relative);
  assert_int_equal(access(path("relative.txt").c_str(), F_OK), 0);
}

// --- the uid rules (StateKey) -----------------------------------------------------------------

StateKey account(std::string_view name, uid_t uid) { return StateKey{std::string(name), uid}; }

Result<void> set_failures_of(FileStateStore& store, const StateKey& key, int failures) {
  return store.update(key, [&](std::optional<UserState>& s) -> Result<StateChange> {
    if (!s) s.emplace();
    s->failures = failures;
    return StateChange::write;
  });
}

std::string file_text(std::string_view name) {
  std::ifstream in(path(name));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(std::string_view name, std::string_view text) {
  { std::ofstream(path(name), std::ios::trunc) << text; }
  chmod(path(name).c_str(), 0600);
}

void expect_misfiled(const Result<std::optional<UserState>>& loaded, const char* needle) {
  if (loaded) fail_msg("loaded, wanted misfiled state mentioning \"%s\"", needle);
  if (loaded.error().code != Errc::misfiled ||
      loaded.error().message.find(needle) == std::string::npos)
    fail_msg("wanted misfiled state mentioning \"%s\", got: %s", needle,
             loaded.error().message.c_str());
}

// A write with the account's uid records it in the state and indexes it: +UID.uid, root-owned
// and private like the state, holding the name. The index is no user's state.
void uid_recorded_and_indexed(void**) {
  FileStateStore store = open_store();
  ASSERT_OK(set_failures_of(store, account("ua", 2001), 1));
  auto raw = store.load(no_account("ua"));
  ASSERT_OK(raw);
  assert_int_equal((*raw)->uid.value_or(0), 2001);
  assert_string_equal(file_text("+2001.uid").c_str(), "ua\n");
  struct stat st {};
  assert_int_equal(stat(path("+2001.uid").c_str(), &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(st.st_uid, geteuid());
  auto filed = store.name_filed_for(2001);
  ASSERT_OK(filed);
  assert_string_equal(filed->value_or("-").c_str(), "ua");
  ASSERT_OK(store.load(account("ua", 2001)));
  auto users = store.list_users();
  ASSERT_OK(users);
  for (const auto& user : *users) assert_true(user.find('+') == std::string::npos);
}

// The account renamed (or another login name listed first): its uid's state is under the old
// name, and the new name is refused, for reading and for writing, never taken for no state.
void renamed_account_refused(void**) {
  FileStateStore store = open_store();
  ASSERT_OK(set_failures_of(store, account("ub", 2002), 2));
  expect_misfiled(store.load(account("ub2", 2002)),
                  "filed under 'ub', not under the account's own name 'ub2'");
  expect_misfiled(store.load(account("ub2", 2002)), "valix-admin rename ub ub2");
  bool called = false;
  auto written =
      store.update(account("ub2", 2002), [&](std::optional<UserState>&) -> Result<StateChange> {
        called = true;
        return StateChange::write;
      });
  assert_false(written.has_value());
  assert_true(written.error().code == Errc::misfiled);
  assert_false(called);
  assert_int_equal(access(path("ub2.state").c_str(), F_OK), -1);
  assert_string_equal(file_text("+2002.uid").c_str(), "ub\n");
  // A name without an account (nothing to tie it to) is not refused: that is status's to judge.
  ASSERT_OK(store.load(no_account("ub2")));
}

// The name given to another account: the state records the old account's uid, so the new one
// is refused, and nothing is written.
void reused_name_refused(void**) {
  FileStateStore store = open_store();
  ASSERT_OK(set_failures_of(store, account("uc", 2003), 3));
  expect_misfiled(store.load(account("uc", 2999)),
                  "belongs to uid 2003, not to this account (uid 2999)");
  auto written = set_failures_of(store, account("uc", 2999), 0);
  assert_false(written.has_value());
  assert_true(written.error().code == Errc::misfiled);
  auto raw = store.load(no_account("uc"));
  ASSERT_OK(raw);
  assert_int_equal((*raw)->failures, 3);
  assert_int_equal((*raw)->uid.value_or(0), 2003);
  assert_int_equal(access(path("+2999.uid").c_str(), F_OK), -1);
}

// An index entry is only believed when the state it names records the uid: one pointing at a
// name without state, or whose state records another uid or none (a crash between the two
// writes, a state removed by hand), is ignored and repaired by the next write.
void stale_index_ignored_and_repaired(void**) {
  FileStateStore store = open_store();
  write_file("+2004.uid", "nosuchstate\n");
  ASSERT_OK(set_failures(store, "ud_none", 1));  // no uid recorded
  ASSERT_OK(set_failures_of(store, account("ud_other", 2777), 1));
  for (const char* stale : {"nosuchstate\n", "ud_none\n", "ud_other\n"}) {
    write_file("+2004.uid", stale);
    auto filed = store.name_filed_for(2004);
    ASSERT_OK(filed);
    if (filed->has_value()) fail_msg("believed a stale entry %s", stale);
    auto loaded = store.load(account("ud", 2004));
    ASSERT_OK(loaded);
    assert_false(loaded->has_value());
  }
  ASSERT_OK(set_failures_of(store, account("ud", 2004), 4));
  assert_string_equal(file_text("+2004.uid").c_str(), "ud\n");
  assert_string_equal(file_text("+2777.uid").c_str(), "ud_other\n");  // untouched
}

// A state written before uids were recorded is the named account's: accepted, and given the
// uid (and an index entry) on its next write, not on a read or a kept update.
void old_state_gets_uid_on_write(void**) {
  FileStateStore store = open_store();
  ASSERT_OK(set_failures(store, "ue", 5));
  auto loaded = store.load(account("ue", 2005));
  ASSERT_OK(loaded);
  assert_int_equal((*loaded)->failures, 5);
  assert_false((*loaded)->uid.has_value());
  ASSERT_OK(store.update(account("ue", 2005), [](std::optional<UserState>&) -> Result<StateChange> {
    return StateChange::keep;
  }));
  assert_int_equal(access(path("+2005.uid").c_str(), F_OK), -1);
  // A mutator that replaces the whole state does not lose the uid either.
  ASSERT_OK(
      store.update(account("ue", 2005), [](std::optional<UserState>& s) -> Result<StateChange> {
        s = UserState{};
        s->failures = 6;
        return StateChange::write;
      }));
  auto raw = store.load(no_account("ue"));
  ASSERT_OK(raw);
  assert_int_equal((*raw)->uid.value_or(0), 2005);
  assert_string_equal(file_text("+2005.uid").c_str(), "ue\n");
  // A write for a name without an account keeps the uid the state records.
  ASSERT_OK(set_failures(store, "ue", 7));
  raw = store.load(no_account("ue"));
  ASSERT_OK(raw);
  assert_int_equal((*raw)->uid.value_or(0), 2005);
}

// Removing a state removes its index entry after it, but never an entry pointing elsewhere.
void remove_drops_index(void**) {
  FileStateStore store = open_store();
  auto remove = [](std::optional<UserState>&) -> Result<StateChange> {
    return StateChange::remove;
  };
  ASSERT_OK(set_failures_of(store, account("uf", 2006), 1));
  ASSERT_OK(store.update(account("uf", 2006), remove));
  assert_int_equal(access(path("uf.state").c_str(), F_OK), -1);
  assert_int_equal(access(path("+2006.uid").c_str(), F_OK), -1);
  ASSERT_OK(set_failures_of(store, account("ug", 2007), 1));
  ASSERT_OK(set_failures(store, "ug_old", 1));
  write_file("ug_old.state", file_text("ug.state"));  // a copy recording 2007, not indexed
  ASSERT_OK(store.update(no_account("ug_old"), remove));
  assert_string_equal(file_text("+2007.uid").c_str(), "ug\n");
}

// --- format 2: two slots, written in place ---------------------------------------------------

struct Layout {
  ino_t inode;
  off_t size;
  std::optional<SlotFile> slots;  // payload not kept
};

Layout layout(std::string_view user) {
  struct stat st {};
  if (stat(path(std::string(user) + ".state").c_str(), &st) != 0) fail_msg("no state file");
  const std::string bytes = file_text(std::string(user) + ".state");
  auto content = decode_state_file(bytes);
  if (!content) fail_msg("%s", content.error().message.c_str());
  Layout out{st.st_ino, st.st_size, content->slots};
  if (out.slots) out.slots->payload = {};
  return out;
}

// Overwrites n bytes at offset of USER.state with 'X' (a torn or damaged write).
void damage(std::string_view user, off_t offset, std::size_t n = 8) {
  const int fd = open(path(std::string(user) + ".state").c_str(), O_WRONLY);
  assert_true(fd >= 0);
  const std::string junk(n, 'X');
  assert_int_equal(pwrite(fd, junk.data(), n, offset), static_cast<ssize_t>(n));
  close(fd);
}

constexpr std::string_view kSecret = "12345678901234567890";

Enrollment test_enrollment() {
  Enrollment e = enrollment_of(bytes_of(kSecret), OtpParameters{}, 1, 0);
  e.backup.setting = "$y$j9T$abcdefghijklmnopqrstuv";
  return e;
}

Result<void> enroll_with(FileStateStore& store, std::string_view user, std::size_t backup_hashes) {
  return store.update(no_account(user), [&](std::optional<UserState>& s) -> Result<StateChange> {
    s.emplace().enrollment = test_enrollment();
    s->enrollment->backup.hashes.assign(backup_hashes,
                                        "$y$j9T$abcdefghijklmnopqrstuv$" + std::string(43, 'h'));
    return StateChange::write;
  });
}

// crc32c (the CPU's instruction where there is one) and the tables agree at every length and
// alignment, whole and continued, and both give the CRC32C check value.
void crc32c_instruction_matches_tables(void**) {
  assert_int_equal(crc32c("123456789"), 0xE3069283u);
  assert_int_equal(crc32c_portable("123456789"), 0xE3069283u);
  std::string data(600, '\0');
  std::uint32_t x = 12345;
  for (char& c : data) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  const std::string_view all(data);
  for (std::size_t offset = 0; offset < 9; ++offset) {
    for (std::size_t length = 0; offset + length <= all.size(); length += 7) {
      const std::string_view part = all.substr(offset, length);
      assert_int_equal(crc32c(part), crc32c_portable(part));
      const std::size_t half = length / 2;
      assert_int_equal(crc32c(part.substr(half), crc32c(part.substr(0, half))),
                       crc32c_portable(part));
    }
  }
}

// A new state makes a file of two 4 KiB slots, slot 0 written; every later update that fits
// goes in place (same inode, same size) into the older slot, with the next sequence number;
// one that drops a secret (a reset) replaces the file.
void slots_written_in_place(void**) {
  assert_int_equal(crc32c("123456789"), 0xE3069283u);  // the CRC32C check value
  FileStateStore store = open_store();
  ASSERT_OK(enroll_with(store, "sa", 10));
  const Layout made = layout("sa");
  assert_true(made.slots.has_value());
  assert_int_equal(made.size, 2 * kSlotPage);
  assert_int_equal(made.slots->slot_size, kSlotPage);
  assert_int_equal(made.slots->newest, 0);
  assert_false(made.slots->other_valid);
  for (int i = 1; i <= 3; ++i) {
    ASSERT_OK(set_failures(store, "sa", i));
    const Layout now = layout("sa");
    assert_int_equal(now.inode, made.inode);
    assert_int_equal(now.size, made.size);
    assert_int_equal(now.slots->newest, static_cast<std::size_t>(i % 2));
    assert_int_equal(now.slots->seq, made.slots->seq + static_cast<std::uint64_t>(i));
    assert_true(now.slots->other_valid);
    assert_int_equal((*store.load(no_account("sa")))->failures, i);
  }
  // Adding a pending enrollment keeps every secret: in place.
  ASSERT_OK(store.update(no_account("sa"), [](std::optional<UserState>& s) -> Result<StateChange> {
    s->pending = PendingEnrollment{bytes_of("abcdefghijabcdefghij"), OtpParameters{}, 5};
    return StateChange::write;
  }));
  assert_int_equal(layout("sa").inode, made.inode);
  // Dropping one (a reset keeps the admin flag): replaced, no old secret in the other slot.
  ASSERT_OK(store.update(no_account("sa"), [](std::optional<UserState>& s) -> Result<StateChange> {
    s->enrollment.reset();
    s->pending.reset();
    s->required = true;
    return StateChange::write;
  }));
  const Layout reset = layout("sa");
  assert_true(reset.inode != made.inode);
  assert_false(reset.slots->other_valid);
  assert_true(file_text("sa.state").find("secret") == std::string::npos);
}

// A state larger than a 4 KiB slot gets a file with larger slots, updated in place too; one
// that outgrows its slots is moved to a new, larger file.
void large_states_get_large_slots(void**) {
  FileStateStore store = open_store();
  ASSERT_OK(enroll_with(store, "sb", 100));  // about 8 KiB of text
  const Layout made = layout("sb");
  assert_true(made.slots->slot_size > kSlotPage);
  assert_int_equal(made.slots->slot_size % kSlotPage, 0);
  assert_int_equal(made.size, static_cast<off_t>(2 * made.slots->slot_size));
  ASSERT_OK(set_failures(store, "sb", 2));
  assert_int_equal(layout("sb").inode, made.inode);
  ASSERT_OK(store.update(no_account("sb"), [](std::optional<UserState>& s) -> Result<StateChange> {
    s->enrollment->backup.hashes.resize(300,
                                        "$y$j9T$abcdefghijklmnopqrstuv$" + std::string(43, 'h'));
    return StateChange::write;
  }));
  const Layout grown = layout("sb");
  assert_true(grown.inode != made.inode);
  assert_true(grown.slots->slot_size > made.slots->slot_size);
  assert_int_equal((*store.load(no_account("sb")))->enrollment->backup.hashes.size(), 300);
  assert_int_equal((*store.load(no_account("sb")))->failures, 2);
}

Config login_config() {
  Config config;
  config.max_failures = 5;
  return config;
}

std::string code_at(std::uint64_t step) {
  auto code = hotp(bytes_of(kSecret).span(), step, OtpParameters{});
  if (!code) fail_msg("%s", code.error().message.c_str());
  return std::string(code->view());
}

// The newest slot torn (a crash in the middle of a login's one write): the state is the one
// before that write, i.e. that of a login that had not succeeded. It refuses what that state
// refuses (a code at or below its watermark), and the next write goes into the torn slot,
// never into the intact one.
void torn_newest_slot_falls_back(void**) {
  FileStateStore store = open_store();
  ASSERT_OK(enroll_with(store, "sc", 10));
  const Config config = login_config();
  constexpr std::int64_t kT = 1'700'000'010;
  const std::uint64_t step = static_cast<std::uint64_t>(kT / 30);
  auto first = verify_and_record(store, no_account("sc"), code_at(step), kT, config);
  ASSERT_OK(first);
  assert_true(first->accepted());
  auto second = verify_and_record(store, no_account("sc"), code_at(step + 1), kT + 30, config);
  ASSERT_OK(second);
  assert_true(second->accepted());
  const Layout before = layout("sc");
  assert_int_equal((*store.load(no_account("sc")))->enrollment->last_step, step + 1);
  // Tear the newest slot (the second login's success) in its payload.
  damage("sc", static_cast<off_t>(before.slots->newest * before.slots->slot_size) + 200);
  const Layout torn = layout("sc");
  assert_int_equal(torn.slots->newest, 1 - before.slots->newest);
  assert_false(torn.slots->other_valid);
  auto fallback = store.load(no_account("sc"));
  ASSERT_OK(fallback);
  assert_int_equal((*fallback)->enrollment->last_step, step);  // the first login's watermark
  assert_int_equal((*fallback)->failures, 0);                  // nothing of the second login
  // What the fallback refuses: the first login's code (at its watermark).
  auto replay = verify_and_record(store, no_account("sc"), code_at(step), kT + 30, config);
  ASSERT_OK(replay);
  assert_false(replay->accepted());
  // The intact slot was not written over: the write went into the torn one.
  const Layout after = layout("sc");
  assert_int_equal(after.slots->newest, before.slots->newest);
  assert_true(after.slots->other_valid);
  // The second login never succeeded as far as the disk knows: its code is still good once.
  auto again = verify_and_record(store, no_account("sc"), code_at(step + 1), kT + 30, config);
  ASSERT_OK(again);
  assert_true(again->accepted());
  auto replayed = verify_and_record(store, no_account("sc"), code_at(step + 1), kT + 30, config);
  ASSERT_OK(replayed);
  assert_false(replayed->accepted());
}

// A login on a state file of format 2 is one write: its verdict goes into the older slot
// (one sequence number further, same inode), right or wrong. Room is offered only where that
// write is sure: not for a state whose uid is not yet recorded (the index must be written).
// And a mutator that relied on the room cannot get anything but that slot write.
void one_write_per_login(void**) {
  FileStateStore store = open_store();
  ASSERT_OK(enroll_with(store, "sw", 10));
  const Config config = login_config();
  constexpr std::int64_t kT = 1'700'000'010;
  const std::uint64_t step = static_cast<std::uint64_t>(kT / 30);
  const Layout start = layout("sw");
  auto right = verify_and_record(store, no_account("sw"), code_at(step), kT, config);
  ASSERT_OK(right);
  assert_true(right->accepted());
  const Layout after_right = layout("sw");
  assert_int_equal(after_right.slots->seq, start.slots->seq + 1);
  assert_int_equal(after_right.inode, start.inode);
  auto wrong = verify_and_record(store, no_account("sw"), "000000", kT, config);
  ASSERT_OK(wrong);
  assert_false(wrong->accepted());
  assert_int_equal(layout("sw").slots->seq, start.slots->seq + 2);
  assert_int_equal((*store.load(no_account("sw")))->failures, 1);

  // With an account whose uid the state does not record yet: no room, two writes (the
  // first records the uid and the index), then one write per login.
  const StateKey account{"sw", 4242};
  auto first = verify_and_record(store, account, code_at(step + 1), kT + 30, config);
  ASSERT_OK(first);
  assert_int_equal(layout("sw").slots->seq, start.slots->seq + 4);
  auto next = verify_and_record(store, account, code_at(step + 2), kT + 60, config);
  ASSERT_OK(next);
  assert_true(next->accepted());
  assert_int_equal(layout("sw").slots->seq, start.slots->seq + 5);

  // Relying on the room, then asking for a removal or for dropping the secret: refused.
  for (const bool remove : {true, false}) {
    auto refused = store.update_in_place(
        account,
        [&](std::optional<UserState>& s, StateStore::InPlaceRoom& room) -> Result<StateChange> {
          assert_true(room.bytes > 0);
          room.relied_on = true;
          if (remove) return StateChange::remove;
          s->enrollment.reset();
          s->required = true;
          return StateChange::write;
        });
    assert_false(refused.has_value());
    assert_int_equal(refused.error().code, Errc::internal);
    assert_int_equal(layout("sw").slots->seq, start.slots->seq + 5);
  }
  assert_true((*store.load(account))->enrollment.has_value());
}

// A write ahead is what every reader sees at once, before the commit; the commit goes over
// it (same slot, same sequence number); a mutator that fails after writing ahead leaves what
// it wrote, synced; a write ahead beyond the room or dropping a secret is refused.
void write_ahead_stands(void**) {
  FileStateStore store = open_store();
  FileStateStore reader = open_store();
  ASSERT_OK(enroll_with(store, "sv", 10));
  const StateKey key = no_account("sv");
  const std::uint64_t seq = layout("sv").slots->seq;
  auto done = store.update_in_place(
      key, [&](std::optional<UserState>& s, StateStore::InPlaceRoom& room) -> Result<StateChange> {
        assert_true(room.bytes > 0 && room.bytes <= kMaxStateFileSize);
        s->failures = 7;
        ASSERT_OK(room.write_ahead(*s));
        auto seen = reader.load(key);  // a lockless reader, as another login's first read
        ASSERT_OK(seen);
        assert_int_equal((*seen)->failures, 7);
        s->failures = 0;
        s->last_login = 42;
        return StateChange::write;
      });
  ASSERT_OK(done);
  assert_int_equal(layout("sv").slots->seq, seq + 1);  // over the write ahead
  assert_int_equal((*reader.load(key))->last_login, 42);
  assert_int_equal((*reader.load(key))->failures, 0);

  auto failed = store.update_in_place(
      key, [&](std::optional<UserState>& s, StateStore::InPlaceRoom& room) -> Result<StateChange> {
        s->failures = 3;
        ASSERT_OK(room.write_ahead(*s));
        return (valix::fail)(Errc::internal, "judging failed (test)");
      });
  assert_false(failed.has_value());
  assert_int_equal((*reader.load(key))->failures, 3);  // what was written ahead stands
  assert_int_equal(layout("sv").slots->seq, seq + 2);

  auto refused = store.update_in_place(
      key, [&](std::optional<UserState>& s, StateStore::InPlaceRoom& room) -> Result<StateChange> {
        s->enrollment.reset();
        s->required = true;
        auto ahead = room.write_ahead(*s);
        assert_false(ahead.has_value());
        assert_int_equal(ahead.error().code, Errc::internal);
        return std::unexpected(ahead.error());
      });
  assert_false(refused.has_value());
  assert_true((*reader.load(key))->enrollment.has_value());
  assert_int_equal(layout("sv").slots->seq, seq + 2);
}

// No intact slot: corrupt, never "not enrolled" (nor a write over it); remove_unreadable
// takes it away.
void corrupt_checksums_in_both_slots(void**) {
  FileStateStore store = open_store();
  ASSERT_OK(enroll_with(store, "sd", 10));
  ASSERT_OK(set_failures(store, "sd", 1));
  const Layout made = layout("sd");
  damage("sd", 100);
  damage("sd", static_cast<off_t>(made.slots->slot_size) + 100);
  const std::string damaged = file_text("sd.state");
  auto loaded = store.load(no_account("sd"));
  assert_false(loaded.has_value());
  assert_true(loaded.error().code == Errc::corrupt);
  bool called = false;
  auto updated =
      store.update(no_account("sd"), [&](std::optional<UserState>&) -> Result<StateChange> {
        called = true;
        return StateChange::write;
      });
  assert_false(updated.has_value());
  assert_true(updated.error().code == Errc::corrupt);
  assert_false(called);
  assert_true(file_text("sd.state") == damaged);
  // A trailer damaged instead of a payload: the same.
  ASSERT_OK(store.remove_unreadable("sd"));
  ASSERT_OK(enroll_with(store, "sd", 10));
  ASSERT_OK(set_failures(store, "sd", 1));
  damage("sd", static_cast<off_t>(kSlotPage - 4), 4);       // slot 0's checksum
  damage("sd", static_cast<off_t>(2 * kSlotPage - 20), 4);  // slot 1's length
  loaded = store.load(no_account("sd"));
  assert_false(loaded.has_value());
  assert_true(loaded.error().code == Errc::corrupt);
  auto removed = store.remove_unreadable("sd");
  ASSERT_OK(removed);
  assert_int_equal(access(path("sd.state").c_str(), F_OK), -1);
}

// A state file as Valix 0.2 wrote it (format 1, the bare text) reads as it did, and the next
// write converts it, keeping everything it held.
void format_1_read_and_converted(void**) {
  FileStateStore store = open_store();
  UserState old;
  old.uid = 2100;
  old.enrollment = test_enrollment();
  old.enrollment->last_step = 777;
  old.enrollment->backup.hashes.assign(3, "$y$j9T$abcdefghijklmnopqrstuv$" + std::string(43, 'h'));
  old.failures = 2;
  write_file("se.state", serialize_state(old).view());
  auto loaded = store.load(account("se", 2100));
  ASSERT_OK(loaded);
  assert_int_equal((*loaded)->enrollment->last_step, 777);
  assert_false(layout("se").slots.has_value());
  ASSERT_OK(store.update(account("se", 2100), [](std::optional<UserState>&) -> Result<StateChange> {
    return StateChange::keep;
  }));
  assert_false(layout("se").slots.has_value());  // only a write converts
  ASSERT_OK(set_failures_of(store, account("se", 2100), 3));
  const Layout converted = layout("se");
  assert_true(converted.slots.has_value());
  assert_int_equal(converted.size, 2 * kSlotPage);
  auto after = store.load(account("se", 2100));
  ASSERT_OK(after);
  assert_int_equal((*after)->failures, 3);
  assert_int_equal((*after)->enrollment->last_step, 777);
  assert_int_equal((*after)->enrollment->backup.hashes.size(), 3);
  assert_true((*after)->enrollment->secret.span().size() == kSecret.size());
  assert_string_equal(file_text("+2100.uid").c_str(), "se\n");
}

// RLIMIT_FSIZE below the end of the slot a write goes to: the write is cut short (or refused),
// the update fails, and the state before it is what every reader sees; nothing grew.
void file_size_limit_fails_closed(void**) {
  FileStateStore store = open_store();
  ASSERT_OK(enroll_with(store, "sf", 10));  // slot 0 written: the next write goes to slot 1
  for (const rlim_t limit :
       {rlim_t{kSlotPage + 100}, rlim_t{kSlotPage}, rlim_t{2 * kSlotPage - 1}}) {
    const pid_t child = fork();
    if (child == 0) {
      signal(SIGXFSZ, SIG_IGN);
      const rlimit lim{limit, limit};
      if (setrlimit(RLIMIT_FSIZE, &lim) != 0) _exit(3);
      FileStateStore limited = open_store();
      auto done = set_failures(limited, "sf", 4);
      _exit(done ? 1 : (done.error().message.find("nothing changed") != std::string::npos ? 0 : 2));
    }
    expect_child_ok(child);
    const Layout now = layout("sf");
    assert_int_equal(now.size, 2 * kSlotPage);
    assert_int_equal(now.slots->newest, 0);
    assert_int_equal((*store.load(no_account("sf")))->failures, 0);
  }
  ASSERT_OK(set_failures(store, "sf", 4));  // without a limit: written
  assert_int_equal((*store.load(no_account("sf")))->failures, 4);
}

// A corrupt or unsafe index entry fails closed: it could be hiding misfiled state.
void bad_index_fails_closed(void**) {
  FileStateStore store = open_store();
  for (const char* text : {"", "uh", "not/a name\n", "uh\nextra\n"}) {
    write_file("+2008.uid", text);
    auto loaded = store.load(account("uh", 2008));
    if (loaded) fail_msg("accepted index text '%s'", text);
    assert_true(loaded.error().code == Errc::corrupt);
  }
  write_file("+2008.uid", "uh\n");
  chmod(path("+2008.uid").c_str(), 0644);
  auto loaded = store.load(account("uh", 2008));
  assert_false(loaded.has_value());
  assert_true(loaded.error().code == Errc::unsafe);
  unlink(path("+2008.uid").c_str());
  assert_int_equal(symlink(path("+2001.uid").c_str(), path("+2008.uid").c_str()), 0);
  loaded = store.load(account("uh", 2008));
  assert_false(loaded.has_value());
  assert_true(loaded.error().code == Errc::unsafe);
  unlink(path("+2008.uid").c_str());
}

// rename moves the state in one step, records the new account's uid and points the index at
// the new name; it refuses to overwrite state, to hand state to another uid, or to make a
// second state for a uid.
void rename_moves_state(void**) {
  FileStateStore store = open_store();
  ASSERT_OK(set_failures_of(store, account("ui", 2009), 2));
  ASSERT_OK(store.rename(no_account("ui"), account("ui2", 2009)));
  assert_int_equal(access(path("ui.state").c_str(), F_OK), -1);
  auto moved = store.load(account("ui2", 2009));
  ASSERT_OK(moved);
  assert_int_equal((*moved)->failures, 2);
  assert_int_equal((*moved)->uid.value_or(0), 2009);
  assert_string_equal(file_text("+2009.uid").c_str(), "ui2\n");
  auto again = store.rename(no_account("ui"), account("ui2", 2009));
  assert_false(again.has_value());
  assert_true(again.error().code == Errc::not_found);

  // A state that records no uid: taken as from's account's, or the administrator's word.
  ASSERT_OK(set_failures(store, "uj", 1));
  auto other = store.rename(account("uj", 2555), account("uj2", 2010));
  assert_false(other.has_value());
  assert_true(other.error().code == Errc::misfiled);
  ASSERT_OK(store.rename(account("uj", 2010), account("uj2", 2010)));
  ASSERT_OK(store.rename(no_account("uj2"), account("uj3", 2010)));
  assert_int_equal((*store.load(account("uj3", 2010)))->uid.value_or(0), 2010);

  auto refused = [&](const StateKey& from, const StateKey& to, Errc code) {
    auto done = store.rename(from, to);
    if (done) fail_msg("moved %s to %s", from.name.c_str(), to.name.c_str());
    if (done.error().code != code) fail_msg("%s", done.error().message.c_str());
  };
  ASSERT_OK(set_failures_of(store, account("uk", 2011), 1));
  ASSERT_OK(set_failures(store, "uk2", 9));
  refused(no_account("uk"), account("uk2", 2011), Errc::conflict);   // uk2 has state
  refused(no_account("uk"), account("uk3", 2012), Errc::misfiled);   // records 2011
  refused(no_account("ui2"), account("uk3", 2011), Errc::misfiled);  // 2011's is under uk
  refused(no_account("uk"), account("uk", 2011), Errc::invalid);     // same name
  refused(no_account("uk"), no_account("uk3"), Errc::invalid);       // to no account
  assert_int_equal((*store.load(no_account("uk2")))->failures, 9);
  assert_int_equal((*store.load(account("uk", 2011)))->failures, 1);
  assert_int_equal(access(path("uk3.state").c_str(), F_OK), -1);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(basics),
      cmocka_unit_test(read_all_sizes),
      cmocka_unit_test(new_private_files),
      cmocka_unit_test(user_names),
      cmocka_unit_test(unsafe_files),
      cmocka_unit_test(unreadable_state_is_not_written),
      cmocka_unit_test(removing_unreadable_state),
      cmocka_unit_test(unsafe_directory),
      cmocka_unit_test(stale_temp_and_lock_timeout),
      cmocka_unit_test(replaced_lock_file),
      cmocka_unit_test(files_are_root_root),
      cmocka_unit_test(concurrent_increments),
      cmocka_unit_test(uid_recorded_and_indexed),
      cmocka_unit_test(renamed_account_refused),
      cmocka_unit_test(reused_name_refused),
      cmocka_unit_test(stale_index_ignored_and_repaired),
      cmocka_unit_test(old_state_gets_uid_on_write),
      cmocka_unit_test(remove_drops_index),
      cmocka_unit_test(bad_index_fails_closed),
      cmocka_unit_test(rename_moves_state),
      cmocka_unit_test(crc32c_instruction_matches_tables),
      cmocka_unit_test(slots_written_in_place),
      cmocka_unit_test(large_states_get_large_slots),
      cmocka_unit_test(torn_newest_slot_falls_back),
      cmocka_unit_test(one_write_per_login),
      cmocka_unit_test(write_ahead_stands),
      cmocka_unit_test(corrupt_checksums_in_both_slots),
      cmocka_unit_test(format_1_read_and_converted),
      cmocka_unit_test(file_size_limit_fails_closed),
  };
  return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
