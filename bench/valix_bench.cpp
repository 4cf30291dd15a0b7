// valix-bench: what a login costs with pam_valix, pam_google_authenticator and pam_oath, side
// by side on one machine in one run, and a Markdown report of it (bench/RESULTS.md).
//
// This program builds the enrolled users for every module (state files, secret files, an
// OATH users file) under --data, computes the right TOTP codes, and has valix-bench-driver
// perform the logins through a real PAM stack (libpam's pam_start_confdir with service files in
// the data directory; /etc/pam.d is not used). Run it through scripts/bench, which installs
// the peers and passes the paths.
#include <crypt.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "backup_codes.hpp"
#include "base32.hpp"
#include "ldap_entry.hpp"
#include "otp.hpp"
#include "secure.hpp"
#include "slot_file.hpp"
#include "state.hpp"

extern char** environ;

namespace fs = std::filesystem;
using namespace valix;

namespace {

// Set while the benchmark serves /dev/log (SyslogSink below), so that an early exit removes it.
volatile std::sig_atomic_t serving_dev_log = 0;

void remove_served_dev_log() {
  if (serving_dev_log != 0) unlink("/dev/log");  // async-signal-safe
}

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "valix-bench: %s\n", message.c_str());
  remove_served_dev_log();
  std::exit(2);
}

[[noreturn]] void die_on_signal(int signal_number) {
  remove_served_dev_log();
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
  _exit(128 + signal_number);
}

template <typename T>
T must(Result<T> result, const char* what) {
  if (!result) die(std::string(what) + ": " + result.error().message);
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}

struct Options {
  fs::path data;
  std::string driver, module, module_alt, admin, out = "RESULTS.md";
  std::vector<int> sizes{1000, 100000};
  int runs = 7;
  int logins = 100;        // timed logins per in-process run
  int fresh_logins = 60;   // timed logins per fresh-process run
  int budget_ms = 4000;    // a run stops early once this much time went by
  int backup_logins = 10;  // per run, for each of "10 left" and "1 left"
  int procs = 4;           // parallel throughput
  int per_proc = 40;       // logins per process in the throughput run
  int race_procs = 8;
  int race_trials = 10;
  bool quick = false;
  // The directory store (store = ldap): the env file scripts/slapd-sandbox wrote, and whether
  // to measure only that (with pam_valix over files and the floor beside it).
  std::string ldap_env;
  bool directory_only = false;
  std::vector<std::string> notes;
};

// The modules that keep their state in the directory (store = ldap), at the first size only.
// valixldapica is valixldapi with ldap_ca_file naming the sandbox's one-certificate CA file
// instead of the default system bundle: libldap builds a TLS context (and reads the CA file)
// at every connection, ldapi:// included, so the difference is what that costs.
const std::vector<std::string> kDirectoryModules{"valixldapi", "valixldapica", "valixtls"};
bool is_directory_module(const std::string& module) {
  return std::find(kDirectoryModules.begin(), kDirectoryModules.end(), module) !=
         kDirectoryModules.end();
}

std::string base64(std::string_view in) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += {table[v >> 18], table[(v >> 12) & 63], table[(v >> 6) & 63], table[v & 63]};
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += {table[v >> 18], table[(v >> 12) & 63]};
    out += i + 1 < in.size() ? table[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// NAME -> value from the "export NAME='value'" lines of scripts/slapd-sandbox's env file.
std::map<std::string, std::string> read_sandbox_env(const std::string& path) {
  std::ifstream in(path);
  if (!in) die("cannot read " + path);
  std::map<std::string, std::string> env;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("export ")) continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'')
      value = value.substr(1, value.size() - 2);
    env[line.substr(7, eq - 7)] = value;
  }
  return env;
}

std::string user_name(int index) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "u%06d", index);
  return buf;
}

void write_file(const fs::path& path, std::string_view text, mode_t mode) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) die("cannot create " + path.string());
  if (fchmod(fd, mode) != 0 ||
      write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    die("cannot write " + path.string());
  }
  close(fd);
}

void make_dir(const fs::path& path, mode_t mode) {
  fs::create_directories(path);
  if (chmod(path.c_str(), mode) != 0) die("chmod " + path.string());
}

std::int64_t now_s() { return static_cast<std::int64_t>(std::time(nullptr)); }
std::uint64_t now_step() { return totp_step(now_s(), 30); }

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The users of one module at one size, and when each last logged in: every user logs in at
// most once per 30 s step, or once more with the next step's code (inside every module's
// window), so replay protection is on and never refuses a login the benchmark meant to work.
class Schedule {
 public:
  Schedule(const std::vector<SecretBytes>* secrets, std::uint32_t seed)
      : secrets_(secrets), last_(secrets->size(), 0), order_(secrets->size()) {
    std::iota(order_.begin(), order_.end(), 0);
    std::shuffle(order_.begin(), order_.end(), std::mt19937(seed));
  }

  // "USER CODE" for a user who may still log in now, waiting for the next step if every user
  // has used up the current one.
  std::pair<std::string, std::string> next() {
    for (;;) {
      const std::uint64_t step = now_step();
      for (std::size_t tries = 0; tries < order_.size(); ++tries) {
        const std::size_t u = order_[cursor_];
        cursor_ = (cursor_ + 1) % order_.size();
        if (last_[u] > step) continue;
        const std::uint64_t use = std::max(step, last_[u] + 1);
        last_[u] = use;
        auto code = must(hotp((*secrets_)[u].span(), use, OtpParameters{}), "hotp");
        return {user_name(static_cast<int>(u)), std::string(code.view())};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }

 private:
  const std::vector<SecretBytes>* secrets_;
  std::vector<std::uint64_t> last_;
  std::vector<std::uint32_t> order_;
  std::size_t cursor_ = 0;
};

// The modules log through syslog(3), which sends to /dev/log. A machine without a syslog daemon
// (a container, this kind of VM) has no /dev/log: glibc then gives up at once for modules
// that open the log plainly (pam_valix, libpam's pam_syslog), but writes the line to
// /dev/console for a module that asks for LOG_CONS (pam_google_authenticator), which costs it
// milliseconds per login that no real host pays. So when nothing answers at /dev/log, the
// benchmark listens there for its duration, receiving and discarding what the modules send
// as a syslog daemon would, and removes the socket afterwards. A host's own syslog is used as
// it is.
class SyslogSink {
 public:
  SyslogSink() {
    if (host_has_syslog()) return;
    struct stat st {};
    if (lstat(kPath, &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) die(std::string(kPath) + " exists and is not a socket");
      unlink(kPath);  // left by an earlier run that was killed; nothing listens on it
    }
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const sockaddr_un address = unix_address();
    if (fd_ < 0 || bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        chmod(kPath, 0666) != 0) {
      die(std::string("cannot listen at ") + kPath + ": " + std::strerror(errno));
    }
    serving_dev_log = 1;
    for (const int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
      std::signal(signal_number, die_on_signal);
    }
    reader_ = std::thread([this] { drain(); });
  }
  SyslogSink(const SyslogSink&) = delete;
  SyslogSink& operator=(const SyslogSink&) = delete;
  ~SyslogSink() {
    if (fd_ < 0) return;
    stop_ = true;
    reader_.join();
    close(fd_);
    unlink(kPath);
    serving_dev_log = 0;
  }

  std::string description() const {
    if (fd_ < 0) return "the host's syslog at /dev/log";
    return "none on this host, so /dev/log is served by the benchmark for its duration (" +
           std::to_string(received_.load()) + " messages received and discarded)";
  }

 private:
  static constexpr const char* kPath = "/dev/log";

  static sockaddr_un unix_address() {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, kPath, sizeof address.sun_path - 1);
    return address;
  }

  static bool host_has_syslog() {
    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket failed");
    const sockaddr_un address = unix_address();
    const bool answered =
        connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    close(fd);
    return answered;
  }

  void drain() {
    char message[8192];
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      if (recv(fd_, message, sizeof message, MSG_DONTWAIT) >= 0) ++received_;
    }
  }

  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<long> received_{0};
  std::thread reader_;
};

struct DriverOutput {
  std::map<std::string, std::string> values;
  long ok() const { return values.contains("ok") ? std::stol(values.at("ok")) : 0; }
  long failed() const { return values.contains("fail") ? std::stol(values.at("fail")) : 0; }
  double ns() const { return values.contains("ns") ? std::stod(values.at("ns")) : NAN; }
  double median_us() const {
    return values.contains("median_ns") ? std::stod(values.at("median_ns")) / 1000.0 : NAN;
  }
};

class Bench {
 public:
  explicit Bench(Options options) : o_(std::move(options)) {
    modules_ = {"floor", "valix"};
    if (o_.directory_only) {
      o_.module_alt.clear();
      o_.sizes = {o_.sizes.front()};
    } else {
      if (!o_.module_alt.empty()) modules_.push_back("valixalt");
      modules_.insert(modules_.end(), {"ga", "oath"});
    }
    if (!o_.ldap_env.empty()) {
      directory_modules_ = kDirectoryModules;
      ldap_ = read_sandbox_env(o_.ldap_env);
    }
  }

  void prepare();
  void measure();
  void report();

 private:
  void prepare_size(int size);
  void prepare_backup_users();
  void prepare_directory(int size);
  void directory_section(std::ostringstream& md);
  DriverOutput drive(const std::vector<std::string>& args,
                     const std::vector<std::string>& extra_env = {});
  fs::path write_list(const std::vector<std::pair<std::string, std::string>>& list);
  std::vector<std::pair<std::string, std::string>> make_list(const std::string& module, int size,
                                                             int count);
  Schedule& schedule(const std::string& module, int size);
  void timed_run(const std::string& variant, const std::string& module, int size, int count);
  void baseline_run(const fs::path& dir, int files, const std::string& key);
  void inplace_run(const fs::path& dir);
  void backup_run(const std::string& kind, std::vector<std::string>& users);
  void hash_run();
  void parallel_runs();
  void race_runs();
  void admin_runs();
  double cost(const std::string& key) const;
  double net(const std::string& variant, const std::string& module, int size) const;

  Options o_;
  std::map<int, std::vector<SecretBytes>> secrets_;
  std::map<std::string, Schedule> schedules_;
  std::map<std::string, std::vector<double>> samples_;  // microseconds per login (or per op)
  std::map<std::string, std::string> facts_;            // things observed once
  std::map<std::string, std::vector<std::string>> race_;
  std::string backup_code_;
  BackupCodeHashes backup_hashes_;
  std::vector<std::string> backup10_, backup1_;
  std::size_t state_size_ = 0;
  std::string load_start_, load_end_, started_;
  int list_counter_ = 0;
  std::vector<std::string> modules_;
  std::vector<std::string> directory_modules_;  // kDirectoryModules when --ldap-env is given
  std::map<std::string, std::string> ldap_;     // the sandbox's env file
  double directory_load_s_ = NAN;               // seconds to add the directory's entries
  SyslogSink syslog_;
};

const std::map<std::string, std::string> kModuleTitle{
    {"floor", "pam_permit (floor)"},
    {"valix", "pam_valix"},
    {"valixalt", "pam_valix, proposal applied"},
    {"valixldapi", "pam_valix, store = ldap, ldapi:// (simple bind)"},
    {"valixldapica", "pam_valix, store = ldap, ldapi://, ldap_ca_file = a one-certificate file"},
    {"valixtls", "pam_valix, store = ldap, ldap:// + StartTLS"},
    {"ga", "pam_google_authenticator"},
    {"oath", "pam_oath"}};

std::string read_first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The 1, 5 and 15 minute load averages.
std::string load_averages() {
  std::istringstream in(read_first_line("/proc/loadavg"));
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::string filesystem_of(const fs::path& path) {
  std::ifstream in("/proc/mounts");
  std::string dev, mnt, type, best_type = "unknown", best_dev;
  std::size_t best = 0;
  const std::string p = fs::canonical(path).string();
  std::string rest;
  while (in >> dev >> mnt >> type && std::getline(in, rest)) {
    if (p.starts_with(mnt) && mnt.size() >= best) {
      best = mnt.size();
      best_type = type;
      best_dev = dev;
    }
  }
  std::string text = best_type + " on " + best_dev;
  // ext4 says whether it has a journal here; without one, fsync and inode allocation differ.
  if (best_type == "ext4") {
    const std::string journal = read_first_line(
        ("/sys/fs/ext4/" + fs::path(best_dev).filename().string() + "/journal_task").c_str());
    if (journal == "<none>") text += ", no journal";
    else if (!journal.empty()) text += ", with a journal";
  }
  return text;
}

std::string utc_now() {
  char buf[64];
  const std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  return buf;
}

void Bench::prepare() {
  started_ = utc_now();
  load_start_ = load_averages();
  make_dir(o_.data, 0755);
  make_dir(o_.data / "pam.d", 0755);
  write_file(o_.data / "pam.d" / "floor", "auth required pam_permit.so\n", 0644);
  write_file(o_.data / "pam.d" / "other", "auth required pam_deny.so\n", 0644);

  // One set of backup-code hashes shared by every Valix user: hashing 10 codes per user for
  // 100,000 users would take hours, and the file contents stay realistic.
  auto codes = must(generate_backup_codes(10), "backup codes");
  backup_code_ = std::string(codes[0].view());
  backup_hashes_ = must(hash_backup_codes(codes), "hash backup codes");

  for (const int size : o_.sizes) prepare_size(size);
  if (!directory_modules_.empty()) prepare_directory(o_.sizes.front());
  if (!o_.directory_only) prepare_backup_users();
  std::fprintf(stderr, "valix-bench: syncing the prepared files\n");
  sync();
}

void Bench::prepare_size(int size) {
  std::fprintf(stderr, "valix-bench: preparing %d users per module\n", size);
  const fs::path dir = o_.data / ("s" + std::to_string(size));
  const fs::path state = dir / "valix-state", ga = dir / "ga", oath = dir / "oath";
  make_dir(dir, 0755);
  make_dir(state, 0700);
  make_dir(ga, 0700);
  make_dir(oath, 0700);
  const fs::path conf = dir / "valix.conf";
  write_file(conf, "state_dir = " + state.string() + "\nfail_delay_ms = 0\nissuer = Valix Bench\n",
             0644);

  auto& secrets = secrets_[size];
  std::mt19937 scratch(static_cast<unsigned>(size));
  std::string oath_text;
  for (int i = 0; i < size; ++i) {
    SecretBytes secret(20);
    must(random_bytes(std::span<std::uint8_t>(secret.data(), secret.size())), "random");
    const std::string user = user_name(i);

    UserState s;
    Enrollment e;
    e.secret = secret.clone();
    e.enrolled_at = now_s();
    e.backup = backup_hashes_;
    s.enrollment = std::move(e);
    const SecretString text = serialize_state(s);
    // Format 2 (two slots), as the core's store creates it.
    write_file(state / (user + ".state"), encode_slot_file(text.view(), 1).view(), 0600);
    // The core's update() creates USER.lock when it first writes the state (at enrollment),
    // so every enrolled user already has one.
    write_file(state / (user + ".lock"), "", 0600);
    if (i == 0) state_size_ = text.size();

    // What `google-authenticator -t -d -r 3 -R 30 -w 3` writes: secret, options, 5 scratch codes.
    std::string g = std::string(base32_encode(secret.span()).view()) +
                    "\n\" RATE_LIMIT 3 30\n\" WINDOW_SIZE 3\n\" DISALLOW_REUSE\n\" TOTP_AUTH\n";
    for (int k = 0; k < 5; ++k) g += std::to_string(10000000 + scratch() % 90000000) + "\n";
    write_file(ga / user, g, 0400);

    static const char* hex = "0123456789abcdef";
    oath_text += "HOTP/T30/6\t" + user + "\t-\t";
    for (const auto b : secret.span()) {
      oath_text.push_back(hex[b >> 4]);
      oath_text.push_back(hex[b & 15]);
    }
    oath_text += "\n";
    secrets.push_back(std::move(secret));
  }
  write_file(oath / "users.oath", oath_text, 0600);

  const std::string n = std::to_string(size);
  write_file(o_.data / "pam.d" / ("valix-" + n),
             "auth required " + o_.module + " config=" + conf.string() + "\n", 0644);
  if (!o_.module_alt.empty()) {
    write_file(o_.data / "pam.d" / ("valixalt-" + n),
               "auth required " + o_.module_alt + " config=" + conf.string() + "\n", 0644);
  }
  write_file(
      o_.data / "pam.d" / ("ga-" + n),
      "auth required pam_google_authenticator.so secret=" + ga.string() + "/${USER} user=root\n",
      0644);
  write_file(o_.data / "pam.d" / ("oath-" + n),
             "auth required pam_oath.so usersfile=" + (oath / "users.oath").string() +
                 " window=1 digits=6\n",
             0644);
  write_file(o_.data / "pam.d" / ("floor-" + n), "auth required pam_permit.so\n", 0644);
  // Load-only stacks: pam_start loads the module (it is in the account stack), but
  // pam_authenticate runs only pam_permit, so the net cost is what loading the module costs.
  for (const auto& m : modules_) {
    std::ifstream in(o_.data / "pam.d" / (m + "-" + n));
    std::string line;
    std::getline(in, line);
    write_file(o_.data / "pam.d" / ("load" + m + "-" + n),
               "auth required pam_permit.so\naccount " + line.substr(5) + "\n", 0644);
  }
}

// Users for the backup-code logins, in the state directory of the first size: b10_N have all
// 10 codes left, b1_N only one; each logs in once with a backup code.
void Bench::prepare_backup_users() {
  const fs::path state = o_.data / ("s" + std::to_string(o_.sizes.front())) / "valix-state";
  const int count = o_.runs * (o_.backup_logins + 1);
  for (int i = 0; i < count; ++i) {
    for (const int left : {10, 1}) {
      UserState s;
      Enrollment e;
      e.secret = secrets_[o_.sizes.front()][0].clone();
      e.enrolled_at = now_s();
      e.backup.setting = backup_hashes_.setting;
      e.backup.hashes.assign(backup_hashes_.hashes.begin(), backup_hashes_.hashes.begin() + left);
      s.enrollment = std::move(e);
      const std::string user = "b" + std::to_string(left) + "_" + std::to_string(i);
      write_file(state / (user + ".state"), encode_slot_file(serialize_state(s).view(), 1).view(),
                 0600);
      write_file(state / (user + ".lock"), "", 0600);
      (left == 10 ? backup10_ : backup1_).push_back(user);
    }
  }
}

// The users of SIZE, with the same secrets and backup hashes as their state files, as entries
// of the sandbox directory (one valixState entry uid=NAME under ldap_base, what
// state_to_attributes makes of the same UserState), added by the administrator (cn=ops) over
// ldapi; and two services, one per way a host reaches the directory: ldapi:// with a simple
// bind, and ldap:// with StartTLS checked against the sandbox's CA. Both bind as host-a and
// share the entries (and so one schedule of codes).
void Bench::prepare_directory(int size) {
  std::fprintf(stderr, "valix-bench: adding %d users to the directory\n", size);
  auto need = [&](const char* name) -> const std::string& {
    const auto it = ldap_.find(name);
    if (it == ldap_.end() || it->second.empty()) die(o_.ldap_env + " has no " + name);
    return it->second;
  };
  const std::string base = need("VALIX_LDAP_BASE");
  std::string ldif;
  std::mt19937_64 generation(static_cast<unsigned>(size));
  for (int i = 0; i < size; ++i) {
    const std::string user = user_name(i);
    UserState s;
    Enrollment e;
    e.secret = secrets_[size][static_cast<std::size_t>(i)].clone();
    e.enrolled_at = now_s();
    e.backup = backup_hashes_;
    s.enrollment = std::move(e);
    ldif += "dn: uid=" + user + "," + base + "\nobjectClass: valixState\nuid: " + user +
            "\nvalixGeneration: " + std::to_string(generation() >> 1) + "\n";
    for (const auto& [name, values] : state_to_attributes(s)) {
      for (const auto& v : values) ldif += name + ":: " + base64(v.view()) + "\n";
    }
    ldif += "\n";
  }
  const fs::path file = o_.data / "directory.ldif";
  write_file(file, ldif, 0600);
  std::vector<std::string> args{"ldapadd", "-x",
                                "-H",      need("VALIX_LDAPI_URI"),
                                "-D",      need("VALIX_LDAP_ADMIN_DN"),
                                "-y",      need("VALIX_LDAP_ADMIN_PASSWORD_FILE"),
                                "-f",      file.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings{"LDAPNOINIT=1", "PATH=/usr/bin:/bin"};
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid;
  if (posix_spawnp(&pid, "ldapadd", &actions, nullptr, argv.data(), envp.data()) != 0)
    die("cannot run ldapadd (Debian package ldap-utils)");
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    die("ldapadd of the benchmark's users failed");
  directory_load_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fs::remove(file);

  const fs::path dir = o_.data / ("s" + std::to_string(size));
  const std::string n = std::to_string(size);
  const std::string common =
      "store = ldap\nldap_base = " + base + "\nldap_bind_dn = " + need("VALIX_LDAP_HOST_A_DN") +
      "\nldap_bind_password_file = " + need("VALIX_LDAP_HOST_A_PASSWORD_FILE") +
      "\nfail_delay_ms = 0\nissuer = Valix Bench\n";
  const std::map<std::string, std::string> uri{
      {"valixldapi", "ldap_uri = " + need("VALIX_LDAPI_URI") + "\n"},
      {"valixldapica", "ldap_uri = " + need("VALIX_LDAPI_URI") +
                           "\nldap_ca_file = " + need("VALIX_LDAP_CA") + "\n"},
      {"valixtls", "ldap_uri = " + need("VALIX_LDAP_URI") +
                       "\nldap_ca_file = " + need("VALIX_LDAP_CA") + "\n"}};
  for (const auto& m : directory_modules_) {
    const fs::path conf = dir / (m + ".conf");
    write_file(conf, uri.at(m) + common, 0644);
    write_file(o_.data / "pam.d" / (m + "-" + n),
               "auth required " + o_.module + " config=" + conf.string() + "\n", 0644);
  }
}

DriverOutput Bench::drive(const std::vector<std::string>& args,
                          const std::vector<std::string>& extra_env) {
  const fs::path out = o_.data / "driver.out";
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view v(*e);
    if (!v.starts_with("LD_PRELOAD=") && !v.starts_with("VALIX_BENCH_PAM_DIR="))
      env_strings.emplace_back(v);
  }
  env_strings.push_back("VALIX_BENCH_PAM_DIR=" + (o_.data / "pam.d").string());
  env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  // Mode "sshd" is the fresh-process mode of the sshd-like driver.
  const bool sshd = args.front() == "sshd";
  const std::string driver = sshd ? o_.driver + "-sshd" : o_.driver;
  std::vector<std::string> all{driver};
  all.insert(all.end(), args.begin(), args.end());
  if (sshd) all[1] = "fresh";
  std::vector<char*> argv;
  for (auto& s : all) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid;
  if (posix_spawn(&pid, driver.c_str(), &actions, nullptr, argv.data(), envp.data()) != 0) {
    die("cannot run " + driver);
  }
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("driver failed: " + args.front());
  DriverOutput result;
  std::ifstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    const auto space = line.find(' ');
    result.values[line.substr(0, space)] = space == std::string::npos ? "" : line.substr(space + 1);
  }
  return result;
}

fs::path Bench::write_list(const std::vector<std::pair<std::string, std::string>>& list) {
  const fs::path path = o_.data / ("list" + std::to_string(list_counter_++ % 2));
  std::string text;
  for (const auto& [user, answer] : list) text += user + " " + answer + "\n";
  write_file(path, text, 0600);
  return path;
}

Schedule& Bench::schedule(const std::string& module, int size) {
  const std::string key = module + "-" + std::to_string(size);
  auto it = schedules_.find(key);
  if (it == schedules_.end()) {
    it = schedules_
             .emplace(key, Schedule(&secrets_[size],
                                    static_cast<std::uint32_t>(key.size() * 7919 + size)))
             .first;
  }
  return it->second;
}

std::vector<std::pair<std::string, std::string>> Bench::make_list(const std::string& module,
                                                                  int size, int count) {
  std::vector<std::pair<std::string, std::string>> list;
  // The proposal's module shares pam_valix's state, so it shares its schedule too.
  // The two directory services share the directory's entries, so they share a schedule.
  auto& s = schedule(module == "floor"                                  ? "valix-floor"
                     : module == "valixalt"                             ? "valix"
                     : module == "valixtls" || module == "valixldapica" ? "valixldapi"
                                                                        : module,
                     size);
  for (int i = 0; i < count; ++i) list.push_back(s.next());
  return list;
}

std::string sample_key(const std::string& variant, const std::string& module, int size) {
  return variant + "/" + module + "/" + std::to_string(size);
}

void Bench::timed_run(const std::string& variant, const std::string& module, int size, int count) {
  const auto list = make_list(module, size, count + 1);
  const auto path = write_list(list);
  const bool load_only = variant == "load";
  const std::string service = (load_only ? "load" : "") + module + "-" + std::to_string(size);
  std::vector<std::string> args{load_only ? "fresh" : variant, service, path.string(),
                                std::to_string(o_.budget_ms)};
  // Every login is paired with a floor login (see the driver), except the floor's own.
  if (module != "floor")
    args.push_back((load_only ? "loadfloor-" : "floor-") + std::to_string(size));
  // pam_valix's in-process logins also time the reference replace between logins, in the
  // state directory they write to (see the driver).
  std::vector<std::string> env;
  const bool with_reference = variant == "inproc" && module == "valix";
  if (with_reference) {
    env = {"VALIX_BENCH_REFERENCE_DIR=" +
               (o_.data / ("s" + std::to_string(size)) / "valix-state").string(),
           "VALIX_BENCH_REFERENCE_SIZE=" + std::to_string(state_size_)};
  }
  auto out = drive(args, env);
  const std::string key = sample_key(variant, module, size);
  if (out.failed() != 0 || out.ok() == 0 || out.values["warmup"] != "ok") {
    die(key + ": " + std::to_string(out.failed()) + " logins failed (warm-up " +
        out.values["warmup"] + ")");
  }
  samples_[key].push_back(out.median_us());
  if (out.values.contains("net_median_ns")) {
    samples_["net/" + key].push_back(std::stod(out.values["net_median_ns"]) / 1000.0);
  }
  if (with_reference) {
    if (!out.values.contains("reference_median_ns")) die(key + ": no interleaved reference");
    const double reference = std::stod(out.values["reference_median_ns"]) / 1000.0;
    samples_["reference/" + key].push_back(reference);
    samples_["reference-ratio/" + key].push_back(samples_["net/" + key].back() / reference);
  }
  if (variant == "inproc" && !facts_.contains("kept/" + module)) {
    facts_["loaded/" + module] = out.values["loaded_by_login"];
    facts_["kept/" + module] = out.values["kept_after_pam_end"];
  }
  std::fprintf(stderr, "  %-28s %9.1f us/login (%ld logins)\n", key.c_str(), samples_[key].back(),
               out.ok());
}

// The reference the issue sets: durable atomic replaces of files the size of a Valix state
// file, on the same file system. "baseline" is a quiet directory holding one file, as the
// issue defines it; "baseline/statedir" replaces 100 files in turn inside the 1,000-user Valix
// state directory, the conditions the logins meet (a crowded directory whose inodes churn).
void Bench::baseline_run(const fs::path& dir, int files, const std::string& key) {
  make_dir(dir, 0700);
  auto out = drive({"reference", dir.string(), std::to_string(state_size_),
                    std::to_string(o_.logins), std::to_string(files)});
  if (!out.values.contains("reference_median_ns")) die(key + ": the reference replace failed");
  samples_[key].push_back(std::stod(out.values["reference_median_ns"]) / 1000.0);
  std::fprintf(stderr, "  %-28s %9.1f us/op\n", key.c_str(), samples_[key].back());
}

// Issue 17's floor: one in-place flush (a 4 KiB slot of an existing file, fdatasync), in the
// state directory the logins write to.
void Bench::inplace_run(const fs::path& dir) {
  make_dir(dir, 0700);
  auto out = drive({"inplace", dir.string(), std::to_string(o_.logins)});
  if (!out.values.contains("inplace_median_ns")) die("inplace: the in-place flush failed");
  samples_["inplace"].push_back(std::stod(out.values["inplace_median_ns"]) / 1000.0);
  std::fprintf(stderr, "  %-28s %9.1f us/op\n", "inplace", samples_["inplace"].back());
}

void Bench::backup_run(const std::string& kind, std::vector<std::string>& users) {
  std::vector<std::pair<std::string, std::string>> list;
  for (int i = 0; i <= o_.backup_logins && !users.empty(); ++i) {
    list.emplace_back(users.back(), backup_code_);
    users.pop_back();
  }
  const auto path = write_list(list);
  auto out = drive({"inproc", "valix-" + std::to_string(o_.sizes.front()), path.string(),
                    std::to_string(o_.budget_ms * 4)});
  if (out.failed() != 0 || out.ok() == 0 || out.values["warmup"] != "ok")
    die(kind + ": logins failed");
  samples_[kind].push_back(out.median_us());
  std::fprintf(stderr, "  %-28s %9.1f us/login\n", kind.c_str(), samples_[kind].back());
}

// The core's backup-code check alone, with 10 and with 1 stored hash: one crypt each.
void Bench::hash_run() {
  BackupCodeHashes one{backup_hashes_.setting, {backup_hashes_.hashes.front()}};
  for (const auto& [key, stored] :
       {std::pair{"hash/10", &backup_hashes_}, std::pair{"hash/1", &one}}) {
    const int reps = 10;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) {
      auto found = must(find_backup_code(*stored, backup_code_), "find_backup_code");
      if (!found) die("backup code not found");
    }
    samples_[key].push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
        reps);
  }
}

void Bench::parallel_runs() {
  const int size = o_.sizes.front();
  for (int r = 0; r < std::max(1, o_.runs / 2); ++r) {
    for (const auto& module : modules_) {
      const auto list = make_list(module, size, o_.procs * o_.per_proc);
      const auto path = write_list(list);
      auto out = drive({"parallel", module + "-" + std::to_string(size), path.string(),
                        std::to_string(o_.procs)});
      const std::string key = "parallel/" + module;
      if (out.failed() != 0) {
        facts_[key + "/failed"] = std::to_string(out.failed());
      }
      samples_[key].push_back(static_cast<double>(out.ok()) / (out.ns() / 1e9));
      std::fprintf(stderr, "  %-28s %9.0f logins/s (%ld ok, %ld failed)\n", key.c_str(),
                   samples_[key].back(), out.ok(), out.failed());
    }
  }
}

void Bench::race_runs() {
  const int size = o_.sizes.front();
  for (int t = 0; t < o_.race_trials; ++t) {
    for (const auto& module : {"valix", "ga", "oath"}) {
      const auto [user, code] = schedule(module, size).next();
      auto out = drive({"race", std::string(module) + "-" + std::to_string(size), user, code,
                        std::to_string(o_.race_procs)});
      race_[module].push_back(std::to_string(out.ok()));
    }
  }
  for (const auto& [module, counts] : race_) {
    std::string all;
    for (const auto& c : counts) all += c + " ";
    std::fprintf(stderr, "  race/%-23s successes per trial: %s\n", module.c_str(), all.c_str());
  }
}

void Bench::admin_runs() {
  if (o_.admin.empty()) return;
  const int size = o_.sizes.back();
  const fs::path conf = o_.data / ("s" + std::to_string(size)) / "valix.conf";
  for (int r = 0; r < std::min(o_.runs, 3); ++r) {
    std::vector<std::string> all{o_.admin, "--config", conf.string(), "status"};
    std::vector<char*> argv;
    for (auto& s : all) argv.push_back(s.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    const auto t0 = std::chrono::steady_clock::now();
    pid_t pid;
    if (posix_spawn(&pid, o_.admin.c_str(), &actions, nullptr, argv.data(), environ) != 0) {
      die("cannot run " + o_.admin);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    posix_spawn_file_actions_destroy(&actions);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      facts_["admin/error"] =
          "valix-admin status exited with status " + std::to_string(WEXITSTATUS(status));
      return;
    }
    samples_["admin/" + std::to_string(size)].push_back(ms);
    std::fprintf(stderr, "  %-28s %9.1f ms\n", "valix-admin status", ms);
  }
}

void Bench::measure() {
  for (int r = 0; r < o_.runs; ++r) {
    std::fprintf(stderr, "valix-bench: run %d of %d\n", r + 1, o_.runs);
    baseline_run(o_.data / "baseline", 1, "baseline");
    baseline_run(o_.data / ("s" + std::to_string(o_.sizes.front())) / "valix-state", 100,
                 "baseline/statedir");
    inplace_run(o_.data / ("s" + std::to_string(o_.sizes.front())) / "valix-state");
    for (const int size : o_.sizes) {
      std::vector<std::string> modules = modules_;
      if (size == o_.sizes.front()) {
        modules.insert(modules.end(), directory_modules_.begin(), directory_modules_.end());
      }
      for (const auto& module : modules) {
        timed_run("inproc", module, size, o_.logins);
        timed_run("fresh", module, size, o_.fresh_logins);
        timed_run("sshd", module, size, o_.fresh_logins);
        if (size == o_.sizes.front() && !is_directory_module(module) && !o_.directory_only)
          timed_run("load", module, size, o_.fresh_logins);
      }
    }
    if (o_.directory_only) continue;
    backup_run("backup/10", backup10_);
    backup_run("backup/1", backup1_);
    hash_run();
  }
  if (o_.directory_only) {
    load_end_ = load_averages();
    return;
  }
  std::fprintf(stderr, "valix-bench: parallel logins to distinct users\n");
  parallel_runs();
  std::fprintf(stderr, "valix-bench: parallel logins, same user and same code\n");
  race_runs();
  std::fprintf(stderr, "valix-bench: valix-admin status\n");
  admin_runs();
  load_end_ = load_averages();
}

double Bench::cost(const std::string& key) const {
  const auto it = samples_.find(key);
  return it == samples_.end() ? NAN : median(it->second);
}

// The module's cost above the floor: the median over runs of each run's median paired
// difference (module login minus the floor login next to it).
double Bench::net(const std::string& variant, const std::string& module, int size) const {
  return cost("net/" + sample_key(variant, module, size));
}

std::string num(double v, int decimals = 0) {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string ratio(double a, double b) {
  if (std::isnan(a) || std::isnan(b) || b <= 0) return "n/a";
  return num(a / b, 2) + "x";
}

std::string spread(const std::vector<double>& v) {
  if (v.empty()) return "n/a";
  return num(*std::min_element(v.begin(), v.end())) + "–" +
         num(*std::max_element(v.begin(), v.end()));
}

std::string verdict(std::optional<bool> pass) {
  if (!pass) return "not measured";
  return *pass ? "**PASS**" : "**FAIL**";
}

std::string basenames(const std::string& paths) {
  std::istringstream in(paths);
  std::string p, out;
  while (in >> p) {
    if (p.find("pam_wrapper") != std::string::npos) continue;
    out += (out.empty() ? "" : ", ") + fs::path(p).filename().string();
  }
  return out.empty() ? "nothing" : out;
}

void Bench::report() {
  std::ostringstream md;
  utsname un{};
  uname(&un);
  const int small = o_.sizes.front(), large = o_.sizes.back();
  const std::string s_small = std::to_string(small), s_large = std::to_string(large);
  const bool two_sizes = o_.sizes.size() > 1;
  const bool alt = !o_.module_alt.empty();

  md << "# Valix benchmark results\n\n"
     << "Generated by `scripts/bench" << (o_.quick ? " --quick" : "") << "` (program: `bench/`), "
     << started_ << ". Every number is the median of " << o_.runs
     << " runs; a run's value is the median of its logins (robust to moments when other work on "
        "the "
        "machine preempts a login). Costs are microseconds per login.\n";
  if (o_.quick) md << "\n**Quick smoke run: too few repetitions to quote.**\n";
  if (alt) {
    md << "\nRows marked \"proposal applied\" are pam_valix built with "
          "[proposals/libvalix-without-libcrypto.patch](proposals/"
          "libvalix-without-libcrypto.patch) "
          "(see [ANALYSIS.md](ANALYSIS.md)); they share pam_valix's users and state. The targets "
          "are judged on pam_valix as it is on main.\n";
  }
  md << "\n## Machine\n\n"
     << "| | |\n|---|---|\n"
     << "| CPU | " << cpu_model() << " (" << sysconf(_SC_NPROCESSORS_ONLN) << " online) |\n"
     << "| Kernel | " << un.sysname << " " << un.release << " |\n"
     << "| Data directory | " << filesystem_of(o_.data) << " |\n"
     << "| Load average (1, 5, 15 min) at start | " << load_start_ << " |\n"
     << "| Load average (1, 5, 15 min) at end | " << load_end_ << " |\n"
     << "| Syslog | " << syslog_.description() << " |\n";
  for (const auto& note : o_.notes) {
    const auto colon = note.find(':');
    md << "| " << note.substr(0, colon) << " | "
       << (colon == std::string::npos ? "" : note.substr(note.find_first_not_of(' ', colon + 1)))
       << " |\n";
  }
  auto write_report = [&] {
    std::ofstream out(o_.out);
    out << md.str();
    if (!out) die("cannot write " + o_.out);
    std::fprintf(stderr, "valix-bench: wrote %s\n", o_.out.c_str());
    std::fputs(md.str().c_str(), stdout);
  };
  if (o_.directory_only) {
    directory_section(md);
    write_report();
    return;
  }

  md << "\n## Per-login cost\n\n"
     << "`in-process`: one process runs pam_start + pam_authenticate + pam_end per login, as "
        "a long-lived PAM client does. `fresh process`: each login is a new process "
        "(posix_spawn + exec of a small driver linked only with libpam, then one login), as "
        "sshd forks per connection, so the module's load cost counts in full. `sshd-like`: the "
        "same, with a driver that links "
        "libcrypto and uses it before PAM starts, as sshd does (its key exchange precedes user "
        "authentication), so a module's own use of libcrypto no longer pays for loading and "
        "initialising it; su, sudo and login do not link libcrypto. The floor is the "
        "same stack with `pam_permit.so`; \"net\" is the module's cost above that floor: every "
        "login is paired with a floor login right before or after it, and net is the median of "
        "those differences (so load on the machine that comes and goes cancels out).\n\n"
     << "| Module | Users | in-process | in-process net | fresh process | fresh process net | "
        "sshd-like fresh process | sshd-like net | runs (in-process, min–max) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const int size : o_.sizes) {
    for (const auto& m : modules_) {
      const std::string k1 = sample_key("inproc", m, size);
      md << "| " << kModuleTitle.at(m) << " | " << size;
      for (const std::string variant : {"inproc", "fresh", "sshd"}) {
        md << " | " << num(cost(sample_key(variant, m, size))) << " | "
           << (m == "floor" ? "–" : num(net(variant, m, size)));
      }
      md << " | " << spread(samples_[k1]) << " |\n";
    }
  }

  md << "\n### Module load cost (fresh process, " << small << " users)\n\n"
     << "The module is in the service's `account` stack, so pam_start loads it (and its "
        "libraries) but pam_authenticate runs only pam_permit: what remains after the floor is the "
        "cost of loading and unloading the module and its libraries, paid by every login in a new "
        "process that does not already have them (in sshd, libcrypto is already loaded).\n\n"
     << "| Module | load cost (net µs) | share of its fresh-process login |\n|---|---:|---:|\n";
  for (const auto& m : modules_) {
    if (m == "floor") continue;
    const double load = net("load", m, small);
    md << "| " << kModuleTitle.at(m) << " | " << num(load) << " | "
       << (std::isnan(load) ? "n/a" : num(100 * load / net("fresh", m, small)) + "%") << " |\n";
  }

  md << "\n### Ratios (net cost of the peer / net cost of pam_valix; above 1 means Valix is "
        "cheaper)\n\n"
     << "| Peer | Users | in-process | fresh process |"
     << (alt ? " in-process, proposal | fresh process, proposal |" : "") << "\n|---|---:|---:|---:|"
     << (alt ? "---:|---:|" : "") << "\n";
  for (const int size : o_.sizes) {
    for (const std::string m : {"ga", "oath"}) {
      md << "| " << kModuleTitle.at(m) << " | " << size << " | "
         << ratio(net("inproc", m, size), net("inproc", "valix", size)) << " | "
         << ratio(net("fresh", m, size), net("fresh", "valix", size)) << " |";
      if (alt) {
        md << " " << ratio(net("inproc", m, size), net("inproc", "valixalt", size)) << " | "
           << ratio(net("fresh", m, size), net("fresh", "valixalt", size)) << " |";
      }
      md << "\n";
    }
  }

  md << "\n### Does each login load the module afresh?\n\n"
     << "Seen in /proc/self/maps of the in-process driver around its first login.\n\n"
     << "| Module | mapped by pam_start | still mapped after pam_end |\n|---|---|---|\n";
  for (const auto& m : modules_) {
    md << "| " << kModuleTitle.at(m) << " | " << basenames(facts_["loaded/" + m]) << " | "
       << basenames(facts_["kept/" + m]) << " |\n";
  }
  md << "\nWhatever stays mapped is not loaded again by the next in-process login; the "
        "fresh-process "
        "column pays for all of it on every login.\n";

  if (!directory_modules_.empty()) directory_section(md);

  const double base = cost("baseline");
  md << "\n## Durable atomic replace (the reference)\n\n"
     << "Write a " << state_size_
     << "-byte temp file (the size of a Valix state file), fsync, "
        "rename over the target, fsync the directory; same file system, same run.\n\n"
     << "| | µs |\n|---|---:|\n"
     << "| durable replace, quiet directory with one file (the issue's reference) | " << num(base)
     << " |\n"
     << "| one in-place flush (4 KiB pwrite into an existing 8 KiB file, fdatasync; what a "
        "format-2 state update costs the disk), in the same state directory | "
     << num(cost("inplace")) << " |\n"
     << "| durable replace of 100 files in turn inside the " << small
     << "-user Valix state directory | " << num(cost("baseline/statedir")) << " |\n"
     << "| durable replace interleaved with the pam_valix in-process logins (one after each "
        "login, in the state directory they write to) | "
     << num(cost("reference/" + sample_key("inproc", "valix", small))) << " |\n"
     << "| pam_valix in-process net, " << small << " users | " << num(net("inproc", "valix", small))
     << " (" << ratio(net("inproc", "valix", small), base) << ") |\n"
     << "| pam_valix fresh-process net, " << small << " users | "
     << num(net("fresh", "valix", small)) << " (" << ratio(net("fresh", "valix", small), base)
     << ") |\n"
     << "| pam_valix in-process net / the interleaved replace (median of each run's ratio) | "
     << num(cost("reference-ratio/" + sample_key("inproc", "valix", small)), 2) << "x |\n"
     << "\nThe quiet-directory figure is timed in a burst of its own; the interleaved one meets "
        "the file system in the same state as the logins around it. They differ most on ext4 "
        "without a journal, where creating a file scans past every inode freed in its block "
        "group in the last minutes ([ANALYSIS.md](ANALYSIS.md)).\n";

  md << "\n## Backup codes (pam_valix, in-process, " << small << " users)\n\n"
     << "| | µs |\n|---|---:|\n"
     << "| login with a backup code, 10 codes left | " << num(cost("backup/10")) << " |\n"
     << "| login with a backup code, 1 code left | " << num(cost("backup/1")) << " |\n"
     << "| login with a TOTP code (for comparison) | "
     << num(cost(sample_key("inproc", "valix", small))) << " |\n"
     << "| core check alone (`find_backup_code`), 10 hashes stored | " << num(cost("hash/10"))
     << " |\n"
     << "| core check alone (`find_backup_code`), 1 hash stored | " << num(cost("hash/1")) << " |\n"
     << "\nHash method: `"
     << backup_hashes_.setting.substr(0, backup_hashes_.setting.find('$', 1) + 1)
     << "` (libcrypt's preferred method). The check hashes the typed code once under the "
        "user's shared salt and compares it with every stored hash in constant time.\n";

  md << "\n## Parallel logins (" << small << " users, " << o_.procs << " processes, " << o_.per_proc
     << " logins each, distinct users)\n\n"
     << "| Module | logins/s |\n|---|---:|\n";
  for (const auto& m : modules_) {
    md << "| " << kModuleTitle.at(m) << " | " << num(cost("parallel/" + m));
    if (facts_.contains("parallel/" + m + "/failed"))
      md << " (" << facts_["parallel/" + m + "/failed"] << " failed)";
    md << " |\n";
  }

  md << "\n## Same user, same code, " << o_.race_procs << " processes at once\n\n"
     << "Each process opens its PAM handle first, then all are released together. Successes "
        "per trial (the right answer is 1: a code works once).\n\n"
     << "| Module | successes per trial | trials with exactly 1 |\n|---|---|---:|\n";
  for (const std::string m : {"valix", "ga", "oath"}) {
    std::string all;
    int exact = 0;
    for (const auto& c : race_[m]) {
      all += c + " ";
      exact += c == "1";
    }
    md << "| " << kModuleTitle.at(m) << " | " << all << "| " << exact << " of " << race_[m].size()
       << " |\n";
  }

  md << "\n## valix-admin status over " << large << " users\n\n";
  if (samples_.contains("admin/" + s_large)) {
    md << "Wall time of `valix-admin status` (output to /dev/null): **"
       << num(cost("admin/" + s_large), 0) << " ms** (median of "
       << samples_["admin/" + s_large].size() << ", "
       << num(1000 * cost("admin/" + s_large) / large, 0)
       << " µs per user). The benchmark's "
          "users have no passwd entries, so status looks each one up through NSS and finds "
          "nothing (with nss_systemd that is several failed file lookups per user); accounts "
          "that getpwent lists are found in one pass.\n";
  } else {
    md << (facts_.contains("admin/error") ? facts_["admin/error"]
                                          : "Not measured (valix-admin not built).")
       << "\n";
  }

  // Targets.
  std::optional<bool> t1, t2, t3, t4;
  const double v_in = net("inproc", "valix", small);
  if (!std::isnan(v_in) && !std::isnan(base)) t1 = v_in <= 1.5 * base;
  std::optional<bool> t1_interleaved;
  const double r_interleaved = cost("reference-ratio/" + sample_key("inproc", "valix", small));
  if (!std::isnan(r_interleaved)) t1_interleaved = r_interleaved <= 1.5;
  const double v_fresh = net("fresh", "valix", small), g_fresh = net("fresh", "ga", small);
  if (!std::isnan(v_fresh) && !std::isnan(g_fresh)) t2 = g_fresh >= 2 * v_fresh;
  std::optional<bool> t2_sshd;
  const double v_sshd = net("sshd", "valix", small), g_sshd = net("sshd", "ga", small);
  const double g_in = net("inproc", "ga", small);
  if (!std::isnan(v_sshd) && !std::isnan(g_sshd)) t2_sshd = g_sshd >= 2 * v_sshd;
  const double v_large = net("inproc", "valix", large);
  if (two_sizes && !std::isnan(v_large)) t3 = v_large <= 1.10 * v_in;
  const double h10 = cost("hash/10"), h1 = cost("hash/1"), b10 = cost("backup/10"),
               b1 = cost("backup/1");
  const double totp = cost(sample_key("inproc", "valix", small));
  const double extra10 = b10 - totp, extra1 = b1 - totp;
  if (!std::isnan(h10) && !std::isnan(b10)) {
    // One hash evaluation: the check costs the same with 10 or 1 stored (within 10%), and a
    // backup login costs a TOTP login plus about one hash (0.5x to 1.5x of one).
    t4 = std::abs(h10 - h1) <= 0.1 * h1 && std::abs(b10 - b1) <= 0.1 * b1 && extra10 > 0.5 * h1 &&
         extra10 < 1.5 * h1 && extra1 > 0.5 * h1 && extra1 < 1.5 * h1;
  }
  md << "\n## Targets of issue 8 (superseded by issue 17's, below)\n\n| Target | Measured | Result "
        "|\n|---|---|---|\n"
     << "| TOTP login ≤ 1.5x one durable replace (in-process net, " << small << " users) | "
     << ratio(v_in, base) << " (" << num(v_in) << " / " << num(base)
     << " µs); fresh process: " << ratio(v_fresh, base) << " | " << verdict(t1) << " |\n"
     << "| the same, against the replace interleaved with the logins (same directory, same "
        "moments) | "
     << num(r_interleaved, 2) << "x (median of each run's ratio; " << num(v_in) << " / "
     << num(cost("reference/" + sample_key("inproc", "valix", small))) << " µs) | "
     << verdict(t1_interleaved) << " |\n"
     << "| ≥ 2x cheaper than pam_google_authenticator, load cost included (fresh process net, "
     << small << " users) | google-authenticator / Valix = " << ratio(g_fresh, v_fresh) << " ("
     << num(g_fresh) << " / " << num(v_fresh) << " µs)"
     << (alt ? "; with the proposal applied: " + ratio(g_fresh, net("fresh", "valixalt", small)) +
                   " (" + num(g_fresh) + " / " + num(net("fresh", "valixalt", small)) + " µs)"
             : "")
     << " | " << verdict(t2) << " |\n"
     << "| the same, in an sshd-like process (libcrypto already loaded and initialised) | "
     << "google-authenticator / Valix = " << ratio(g_sshd, v_sshd) << " (" << num(g_sshd) << " / "
     << num(v_sshd) << " µs) | " << verdict(t2_sshd) << " |\n"
     << "| what 2x leaves a Valix login: half of google-authenticator's net cost, against the "
        "one durable replace every Valix login makes (so that a used code, a failure count or a "
        "lockout survives a crash) | in-process "
     << num(g_in / 2) << " µs, sshd-like " << num(g_sshd / 2) << " µs; one durable replace "
     << num(base) << " µs | " << (g_in / 2 < base ? "below the replace alone" : "above the replace")
     << " |\n"
     << "| cost at " << large << " users within 10% of " << small << " users (in-process net) | "
     << (two_sizes ? num(v_large) + " vs " + num(v_in) + " µs (" +
                         num((v_large / v_in - 1) * 100, 1) + "%)"
                   : "n/a")
     << " | " << verdict(t3) << " |\n"
     << "| backup-code check = one hash evaluation, whatever the codes left | check alone "
     << num(h10) << " µs (10 stored) vs " << num(h1)
     << " µs (1 stored); login minus TOTP login: " << num(extra10) << " µs (10 left), "
     << num(extra1) << " µs (1 left) | " << verdict(t4) << " |\n";

  // Issue 17's targets.
  const double flush = cost("inplace");
  std::optional<bool> u1, u2, u3;
  if (!std::isnan(v_in) && !std::isnan(g_in)) u1 = v_in <= 0.5 * g_in;
  if (!std::isnan(v_sshd) && !std::isnan(g_sshd)) u2 = v_sshd <= g_sshd;
  if (!std::isnan(v_in) && !std::isnan(flush)) u3 = v_in <= 3 * flush;
  std::optional<bool> u4;
  if (two_sizes && !std::isnan(v_large)) u4 = std::abs(v_large / v_in - 1) <= 0.10;
  md << "\n## Targets of issue 17 (one flush per durable update)\n\n"
     << "| Target | Measured | Result |\n|---|---|---|\n"
     << "| TOTP login in-process, net ≤ 0.5x pam_google_authenticator's (" << small << " users) | "
     << num(v_in) << " vs " << num(g_in) << " µs (" << ratio(v_in, g_in) << ") | " << verdict(u1)
     << " |\n"
     << "| sshd-like fresh process, net ≤ pam_google_authenticator's | " << num(v_sshd) << " vs "
     << num(g_sshd) << " µs (" << ratio(v_sshd, g_sshd) << ") | " << verdict(u2) << " |\n"
     << "| in-process net ≤ 3x one in-place flush (4 KiB pwrite + fdatasync, same run, same "
        "directory) | "
     << num(v_in) << " vs " << num(flush) << " µs (" << ratio(v_in, flush) << ") | " << verdict(u3)
     << " |\n"
     << "| " << large << " users within ±10% of " << small << " (in-process net) | "
     << (two_sizes ? num(v_large) + " vs " + num(v_in) + " µs (" +
                         num((v_large / v_in - 1) * 100, 1) + "%)"
                   : "n/a")
     << " | " << verdict(u4) << " |\n";

  md << "\nWhy the targets that fail fail, with profiles and proposals: "
        "[ANALYSIS.md](ANALYSIS.md).\n";

  md << "\n## Setup\n\n"
     << "- Users u000000… enrolled in every module with the same random 20-byte secrets; each "
        "login uses a different user (random order), with the code for the current 30 s step "
        "(or the next one if that user already logged in during this step), so replay "
        "protection is on everywhere and never refuses.\n"
     << "- pam_valix: `auth required pam_valix.so config=…` (state_dir in the data directory, "
        "`fail_delay_ms = 0` so the race's failures do not sleep; successful logins never "
        "sleep); state files written by the core's `serialize_state`, with the USER.lock "
        "file that enrolling through the core's `StateStore::update` leaves behind.\n"
     << "- pam_google_authenticator: `secret=DIR/${USER} user=root`, files as "
        "`google-authenticator -t -d -r 3 -R 30 -w 3` writes them (DISALLOW_REUSE, RATE_LIMIT 3 "
        "30, "
        "WINDOW_SIZE 3, 5 scratch codes), mode 0400, root-owned directory.\n"
     << "- pam_oath: `usersfile=DIR/users.oath window=1 digits=6`, one `HOTP/T30/6` line per "
        "user.\n"
     << "- PAM services are files in the data directory, opened with libpam's "
        "`pam_start_confdir()`; nothing under /etc/pam.d is used and nothing is preloaded "
        "(pam_wrapper's one-letter /tmp/pam.X directories collide when many processes start "
        "at once). The service `other` is `pam_deny.so`, which libpam maps with every stack.\n"
     << "- Before each login the driver looks the user up with getpwnam(), as sshd, su, sudo "
        "and login do before PAM starts, so the name service's modules are loaded by the time a "
        "module asks. The benchmark's users have no passwd entries: every lookup (the "
        "driver's, pam_valix's and pam_google_authenticator's) searches /etc/passwd and "
        "nss_systemd and finds nothing.\n"
     << "- Every module's syslog lines go to /dev/log, as on a real host (see \"Syslog\" under "
        "Machine): pam_valix and pam_google_authenticator send one line per successful login, "
        "pam_oath none.\n"
     << "- Runs interleave the modules (run 1 of every scenario, then run 2, …) so slow drift of "
        "the machine affects all alike.\n";

  write_report();
}

double ca_bundle_kb() {
  std::error_code ec;
  const auto size = fs::file_size("/etc/ssl/certs/ca-certificates.crt", ec);
  return ec ? NAN : static_cast<double>(size) / 1024.0;
}

// The directory store beside the file store: the same module, users and codes, at the first
// size. scripts/bench --directory splices this section alone into bench/RESULTS.md, so in
// that mode it says where its numbers come from.
void Bench::directory_section(std::ostringstream& md) {
  const int small = o_.sizes.front();
  md << "\n## Directory store (store = ldap, " << small << " users)\n\n";
  if (o_.directory_only) {
    md << "Measured by `scripts/bench --directory` (this section only), " << started_
       << ", median of " << o_.runs
       << " runs; the file-store and floor rows are from the same "
          "run, interleaved with the directory's. Load average (1, 5, 15 min) "
       << load_start_ << " at start, " << load_end_ << " at end.";
    for (const auto& note : o_.notes) md << " " << note << ".";
    md << "\n\n";
  } else {
    md << "Measured in the same run as the tables above, interleaved with them.\n\n";
  }
  md << "The same pam_valix.so with `store = ldap`, against a throwaway slapd on this machine "
        "(scripts/slapd-sandbox: back_mdb, the shipped schema and ACL), so no network latency "
        "is included. The "
     << small
     << " users are valixState entries holding what their state files hold (secret, 10 backup "
        "hashes), added by the administrator before the runs"
     << (std::isnan(directory_load_s_) ? "" : " (in " + num(directory_load_s_, 1) + " s)")
     << ". The host binds as cn=host-a with a password (simple bind), either over the "
        "directory's local socket (`ldapi://`) or over TCP to 127.0.0.1 with StartTLS, the "
        "server's ECDSA P-256 certificate checked against the sandbox CA (`ldap_ca_file`, one "
        "certificate). `ldapi://` is measured as an administrator would configure it, without "
        "`ldap_ca_file` (so libldap loads the default, the system's CA bundle of "
     << num(ca_bundle_kb(), 0)
     << " KB, although no TLS is used), and with the one-certificate file. A PAM module keeps "
        "nothing between logins, so every login connects (and starts TLS), binds, makes four "
        "searches (ldap_base, then the entry three times) and two compare-and-swap modifies "
        "(the failure the answer would cost, then the accepted code), then unbinds "
        "([ANALYSIS.md](ANALYSIS.md)). Columns as in the "
        "per-login table: µs per login, net = above the pam_permit floor.\n\n"
     << "| Store | in-process | in-process net | fresh process | fresh process net | "
        "sshd-like fresh process | sshd-like net | runs (in-process, min–max) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|\n";
  std::vector<std::string> rows{"floor", "valix"};
  rows.insert(rows.end(), directory_modules_.begin(), directory_modules_.end());
  for (const auto& m : rows) {
    md << "| " << (m == "valix" ? "pam_valix, store = files" : kModuleTitle.at(m));
    for (const std::string variant : {"inproc", "fresh", "sshd"}) {
      md << " | " << num(cost(sample_key(variant, m, small))) << " | "
         << (m == "floor" ? "–" : num(net(variant, m, small)));
    }
    md << " | " << spread(samples_[sample_key("inproc", m, small)]) << " |\n";
  }
  md << "\nThe disk in the same run: one durable replace (the reference below) took "
     << num(cost("baseline")) << " µs (runs " << spread(samples_["baseline"])
     << "); slapd's database commits each modify durably on the same disk, as the file store "
        "commits each write.\n";
  md << "\nWhat the directory adds (difference of the net costs, µs per login):\n\n"
     << "| | in-process | fresh process | sshd-like |\n|---|---:|---:|---:|\n";
  auto difference = [&](const std::string& title, const std::string& a, const std::string& b) {
    md << "| " << title;
    for (const std::string variant : {"inproc", "fresh", "sshd"}) {
      md << " | " << num(net(variant, a, small) - net(variant, b, small)) << " ("
         << ratio(net(variant, a, small), net(variant, b, small)) << ")";
    }
    md << " |\n";
  };
  difference("ldapi:// over files", "valixldapi", "valix");
  difference("ldap:// + StartTLS over files", "valixtls", "valix");
  difference("ldapi:// with the system CA bundle over a one-certificate ldap_ca_file", "valixldapi",
             "valixldapica");
  difference(
      "StartTLS over ldapi://, both with the one-certificate CA file (TCP, handshake, "
      "encryption)",
      "valixtls", "valixldapica");
  md << "\nLibraries mapped by the first in-process directory login and still mapped after "
        "pam_end (libldap is loaded on first use, so a file-store login never maps it): "
     << basenames(facts_["kept/valixtls"]) << ".\n";
}

std::vector<int> parse_sizes(const std::string& text) {
  std::vector<int> sizes;
  std::istringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) sizes.push_back(std::stoi(part));
  if (sizes.empty()) die("--sizes: empty");
  return sizes;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--data") o.data = value();
    else if (arg == "--driver") o.driver = value();
    else if (arg == "--module") o.module = value();
    else if (arg == "--module-alt") o.module_alt = value();
    else if (arg == "--admin") o.admin = value();
    else if (arg == "--out") o.out = value();
    else if (arg == "--sizes") o.sizes = parse_sizes(value());
    else if (arg == "--runs") o.runs = std::stoi(value());
    else if (arg == "--logins") o.logins = std::stoi(value());
    else if (arg == "--fresh-logins") o.fresh_logins = std::stoi(value());
    else if (arg == "--note") o.notes.push_back(value());
    else if (arg == "--ldap-env") o.ldap_env = value();
    else if (arg == "--directory-only") o.directory_only = true;
    else if (arg == "--quick") {
      o.quick = true;
      o.sizes = {1000};
      o.runs = 2;
      o.logins = 20;
      o.fresh_logins = 10;
      o.backup_logins = 3;
      o.per_proc = 10;
      o.race_trials = 2;
    } else die("unknown argument " + arg);
  }
  if (o.data.empty() || o.driver.empty() || o.module.empty()) {
    die("usage: valix-bench --data DIR --driver PATH --module pam_valix.so [--admin valix-admin] "
        "[--out FILE] [--quick] [--sizes 1000,100000] "
        "[--runs N] [--logins N] [--fresh-logins N] [--note 'Key: value'] "
        "[--ldap-env SANDBOX/env [--directory-only]]");
  }
  if (o.directory_only && o.ldap_env.empty()) die("--directory-only needs --ldap-env");
  if (geteuid() != 0) die("must run as root (the peers insist on root-owned secret files)");
  std::sort(o.sizes.begin(), o.sizes.end());
  // Service files and valix.conf name files by absolute path.
  o.data = fs::absolute(o.data);
  o.driver = fs::absolute(o.driver).string();
  Bench bench(std::move(o));
  bench.prepare();
  bench.measure();
  bench.report();
  return 0;
}
