// valix.conf: defaults, every key, errors with file and line, and load_config's file checks.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "config.hpp"
#include "unit.hpp"

using namespace valix;

namespace {

std::string error_of(std::string_view text) {
  auto parsed = parse_config(text, "test.conf");
  return parsed ? std::string("<ok>") : parsed.error().message;
}

void defaults(void**) {
  auto c = parse_config("# nothing\n\n   \n", "x");
  ASSERT_OK(c);
  assert_true(c->require == Requirement::none);
  assert_true(c->unenrolled == UnenrolledAction::deny);
  assert_int_equal(c->window, 1);
  assert_int_equal(c->otp.digits, 6);
  assert_int_equal(c->otp.period, 30);
  assert_int_equal(c->max_failures, 5);
  assert_int_equal(c->lockout_seconds, 60);
  assert_int_equal(c->lockout_max_seconds, 3600);
  assert_int_equal(c->backup_codes, 10);
  assert_string_equal(c->state_dir.c_str(), std::string(kDefaultStateDir).c_str());
}

void every_key(void**) {
  auto c = parse_config(
      "state_dir = /srv/valix\nissuer = Example Corp\nalgorithm = sha256\ndigits = 8\n"
      "period = 60\nwindow = 0\nrequire = groups\nrequire_groups = admins, wheel ops\n"
      "exempt_groups = robots\nunenrolled = enroll\nmax_failures = 7\nlockout_seconds = 30\n"
      "lockout_max_seconds = 900\nfail_delay_ms = 0\nbackup_codes = 12\n"
      "pending_lifetime = 300\nprompt = Code please:\nqr = ansi\n",
      "x");
  ASSERT_OK(c);
  assert_string_equal(c->state_dir.c_str(), "/srv/valix");
  assert_string_equal(c->issuer.c_str(), "Example Corp");
  assert_true(c->otp.algorithm == OtpAlgorithm::sha256);
  assert_int_equal(c->otp.digits, 8);
  assert_int_equal(c->otp.period, 60);
  assert_int_equal(c->window, 0);
  assert_true(c->require == Requirement::groups);
  assert_int_equal(c->require_groups.size(), 3);
  assert_string_equal(c->require_groups[2].c_str(), "ops");
  assert_string_equal(c->exempt_groups[0].c_str(), "robots");
  assert_true(c->unenrolled == UnenrolledAction::enroll);
  assert_int_equal(c->max_failures, 7);
  assert_int_equal(c->lockout_max_seconds, 900);
  assert_int_equal(c->backup_codes, 12);
  assert_string_equal(c->prompt.c_str(), "Code please:");
  assert_true(c->qr == QrStyle::ansi);
}

void bad_values(void**) {
  const char* bad[] = {"state_dir = relative/path",
                       "issuer = a:b",
                       "algorithm = md5",
                       "digits = 7",
                       "period = 5",
                       "window = 11",
                       "window = -1",
                       "window = 1x",
                       "require = some",
                       "unenrolled = allow",
                       "max_failures = 0",
                       "backup_codes = 51",
                       "prompt =",
                       "qr = png",
                       "require_groups = a:b",
                       "lockout_seconds = 99999999999"};
  for (const char* line : bad) {
    const std::string message = error_of(line);
    if (message.rfind("test.conf:1: ", 0) != 0) fail_msg("'%s' gave '%s'", line, message.c_str());
  }
}

// Group lists: commas and/or blanks separate names; a name with blanks is quoted.
void group_lists(void**) {
  auto c = parse_config(
      "require_groups = \"domain admins\", wheel,ops  \"CORP\\linux users\"\n"
      "exempt_groups = \"break glass\"\n",
      "test.conf");
  ASSERT_OK(c);
  const std::vector<std::string> required = {"domain admins", "wheel", "ops", "CORP\\linux users"};
  assert_true(c->require_groups == required);
  assert_int_equal(c->exempt_groups.size(), 1);
  assert_string_equal(c->exempt_groups[0].c_str(), "break glass");
  const std::string comment = error_of("exempt_groups = robots  # service accounts");
  assert_true(comment.find("comments go on a line of their own") != std::string::npos);
}

// Every key at its limits is accepted; one past a limit, or a wrong shape, is refused with the
// file and line.
void limits_per_key(void**) {
  const char* good[] = {"period = 15",
                        "period = 300",
                        "window = 10",
                        "max_failures = 1",
                        "max_failures = 100",
                        "lockout_seconds = 1",
                        "lockout_max_seconds = 604800",
                        "fail_delay_ms = 0",
                        "fail_delay_ms = 10000",
                        "backup_codes = 1",
                        "backup_codes = 50",
                        "pending_lifetime = 60",
                        "pending_lifetime = 86400",
                        "algorithm = SHA1",
                        "algorithm = sha512",
                        "digits = 6",
                        "require = all",
                        "require = none",
                        "unenrolled = deny",
                        "qr = utf8",
                        "qr = none",
                        "issuer = Valix Test",
                        "state_dir = /",
                        "exempt_groups = wheel"};
  for (const char* line : good) {
    const std::string message = error_of(line);
    if (message != "<ok>") fail_msg("'%s' refused: %s", line, message.c_str());
  }
  const std::string long_issuer = "issuer = " + std::string(129, 'x');
  const std::string long_prompt = "prompt = " + std::string(129, 'x');
  const std::string long_dir = "state_dir = /" + std::string(1024, 'x');
  const std::string bad[] = {"period = 14",
                             "period = 301",
                             "period = ",
                             "digits = 6a",
                             "digits = 06",
                             "max_failures = 101",
                             "lockout_seconds = 0",
                             "lockout_seconds = 86401",
                             "lockout_max_seconds = 0",
                             "lockout_max_seconds = 604801",
                             "fail_delay_ms = -1",
                             "fail_delay_ms = 10001",
                             "backup_codes = 0",
                             "pending_lifetime = 59",
                             "pending_lifetime = 86401",
                             "max_failures = +5",
                             "max_failures = 0x10",
                             "exempt_groups = a:b",
                             "exempt_groups = robots  # service accounts",
                             "require_groups = admins#x",
                             "require_groups = \"domain admins",
                             "require_groups = \"\"",
                             "require_groups = \"  \", wheel",
                             "require_groups = \"domain\"admins",
                             "require_groups = domain\"admins\"",
                             "state_dir =",
                             "issuer = tab\there",
                             long_issuer,
                             long_prompt,
                             long_dir,
                             "require = ALL",
                             "unenrolled = ",
                             "qr = "};
  for (const auto& line : bad) {
    const std::string message = error_of(line);
    if (message.rfind("test.conf:1: ", 0) != 0)
      fail_msg("'%s' gave '%s'", line.c_str(), message.c_str());
  }
}

void structural_errors(void**) {
  assert_string_equal(error_of("# c\nfrobnicate = 1\n").c_str(),
                      "test.conf:2: unknown setting 'frobnicate'");
  assert_string_equal(error_of("window = 1\n\nwindow = 2\n").c_str(),
                      "test.conf:3: 'window' already set on line 1");
  assert_string_equal(error_of("digits\n").c_str(), "test.conf:1: expected 'key = value'");
  assert_string_equal(error_of(" = 3\n").c_str(), "test.conf:1: missing key before '='");
  assert_string_equal(error_of(std::string_view("window = 1\0\n", 12)).c_str(),
                      "test.conf:1: NUL byte in line");
  assert_string_equal(error_of("lockout_seconds = 600\nlockout_max_seconds = 60\n").c_str(),
                      "test.conf: lockout_max_seconds is smaller than lockout_seconds");
  // require = groups without groups would require nobody while reading as if it did.
  assert_string_equal(error_of("require = groups\n").c_str(),
                      "test.conf: require = groups needs the groups in require_groups");
  assert_string_equal(error_of("require = groups\nrequire_groups = \n").c_str(),
                      "test.conf: require = groups needs the groups in require_groups");
  assert_string_equal(error_of("require = groups\nrequire_groups = ,\n").c_str(),
                      "test.conf: require = groups needs the groups in require_groups");
  assert_string_equal(error_of("require = groups\nrequire_groups = wheel\n").c_str(), "<ok>");
  assert_string_equal(error_of("require = all\n").c_str(), "<ok>");
  auto apply_bad = [] {
    Config c;
    return apply_setting(c, "colour", "blue").has_value();
  };
  assert_false(apply_bad());
}

// The rules between keys hold for a Config changed after parsing too (module options).
void cross_key_rules(void**) {
  Config c;
  ASSERT_OK(validate_config(c));
  ASSERT_OK(apply_setting(c, "lockout_seconds", "7200"));  // above the default maximum 3600
  auto lockout = validate_config(c);
  assert_false(lockout.has_value());
  assert_true(lockout.error().code == Errc::config);
  ASSERT_OK(apply_setting(c, "lockout_max_seconds", "7200"));
  ASSERT_OK(validate_config(c));
  ASSERT_OK(apply_setting(c, "require", "groups"));
  auto groups = validate_config(c);
  assert_false(groups.has_value());
  assert_string_equal(groups.error().message.c_str(),
                      "require = groups needs the groups in require_groups");
  ASSERT_OK(apply_setting(c, "require_groups", "admins"));
  ASSERT_OK(validate_config(c));
}

void fleet_keys(void**) {
  const std::string base =
      "store = ldap\nldap_uri = ldap://ldap1.example.com, ldaps://ldap2.example.com\n"
      "ldap_base = ou=state,ou=valix,dc=example,dc=com\n";
  const std::string host =
      "ldap_bind_dn = cn=web1,ou=hosts,ou=valix,dc=example,dc=com\n"
      "ldap_bind_password_file = /etc/valix/ldap.password\n";
  auto c = parse_config(base + host +
                            "ldap_admin_bind_dn = cn=ops,dc=example,dc=com\n"
                            "ldap_admin_password_file = /etc/valix/admin.password\n"
                            "ldap_ca_file = /etc/ssl/ca.pem\nldap_timeout_ms = 500\n",
                        "x");
  ASSERT_OK(c);
  assert_true(c->store == StoreKind::ldap);
  assert_int_equal(c->ldap.uris.size(), 2);
  assert_string_equal(c->ldap.uris[1].c_str(), "ldaps://ldap2.example.com");
  assert_string_equal(c->ldap.host.password_file.c_str(), "/etc/valix/ldap.password");
  assert_string_equal(c->ldap.admin.dn.c_str(), "cn=ops,dc=example,dc=com");
  assert_int_equal(c->ldap.timeout_ms, 500);
  assert_string_equal(default_issuer(*c).c_str(), "example.com");
  // SASL EXTERNAL: no bind DN, and then only the local socket.
  ASSERT_OK(
      parse_config("store = ldap\nldap_uri = ldapi://%2Frun%2Fslapd%2Fldapi\n"
                   "ldap_base = ou=state,dc=example,dc=com\n",
                   "x"));
  const char* bad[][2] = {
      {"ldap_uri = ldap://x\n", "need store = ldap"},
      {"store = ldap\n", "needs ldap_uri and ldap_base"},
      {"store = ldap\nldap_uri = ldap://x\n", "needs ldap_uri and ldap_base"},
      {"store = nfs\n", "store must be files or ldap"},
      {"store = ldap\nldap_uri = http://x\nldap_base = dc=x\n", "ldap://, ldaps:// or ldapi://"},
      {"store = ldap\nldap_uri = ldap://x\nldap_base = dc=x\n", "every ldap_uri must be ldapi://"},
      {"store = ldap\nldap_uri = ldap://x\nldap_base = dc=x\nldap_bind_dn = cn=h\n", "go together"},
      {"store = ldap\nldap_uri = ldap://x\nldap_base = dc=x\nldap_bind_dn = cn=h\n"
       "ldap_bind_password_file = relative\n",
       "absolute path"},
      {"store = ldap\nldap_uri = ldapi://s\nldap_base = ou=state\n", "needs issuer"},
      {"store = ldap\nldap_uri = ldapi://s\nldap_base = nodn\n", "distinguished name"},
      {"store = ldap\nldap_uri = ldapi://s\nldap_base = dc=x\nldap_timeout_ms = 50\n",
       "from 100 to 30000"},
  };
  for (const auto& [text, want] : bad) {
    const std::string error = error_of(text);
    if (error.find(want) == std::string::npos) {
      fail_msg("'%s': got '%s', wanted '%s'", text, error.c_str(), want);
    }
  }
  // With an issuer, a base without dc= is fine.
  ASSERT_OK(
      parse_config("store = ldap\nldap_uri = ldapi://s\nldap_base = ou=state\n"
                   "issuer = Example\n",
                   "x"));
}

void load_checks(void**) {
  char dir[] = "/tmp/valix-unit-config-XXXXXX";
  assert_non_null(mkdtemp(dir));
  const std::string good = std::string(dir) + "/valix.conf";
  std::ofstream(good) << "window = 2\n";
  chmod(good.c_str(), 0644);
  auto ok = load_config(good, geteuid());
  ASSERT_OK(ok);
  assert_int_equal(ok->window, 2);

  const std::string link = std::string(dir) + "/link.conf";
  assert_int_equal(symlink(good.c_str(), link.c_str()), 0);
  auto via_link = load_config(link, geteuid());
  assert_false(via_link.has_value());
  assert_true(via_link.error().message.find("symbolic link") != std::string::npos);

  chmod(good.c_str(), 0666);
  assert_false(load_config(good, geteuid()).has_value());
  chmod(good.c_str(), 0664);
  assert_false(load_config(good, geteuid()).has_value());
  chmod(good.c_str(), 0644);
  assert_false(load_config(good, geteuid() + 1).has_value());  // not owned by the trusted uid
  if (geteuid() == 0) {
    // As root: a file that really belongs to someone else is refused for the trusted root.
    assert_int_equal(chown(good.c_str(), 1234, 0), 0);
    auto foreign = load_config(good, 0);
    assert_false(foreign.has_value());
    assert_true(foreign.error().message.find("owned") != std::string::npos ||
                foreign.error().message.find("owner") != std::string::npos);
    assert_int_equal(chown(good.c_str(), 0, 0), 0);
    ASSERT_OK(load_config(good, 0));
  }
  auto missing = load_config(std::string(dir) + "/none.conf", geteuid());
  assert_false(missing.has_value());
  assert_true(missing.error().code == Errc::not_found);

  unlink(link.c_str());
  unlink(good.c_str());
  rmdir(dir);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults),        cmocka_unit_test(every_key),
      cmocka_unit_test(bad_values),      cmocka_unit_test(limits_per_key),
      cmocka_unit_test(group_lists),     cmocka_unit_test(structural_errors),
      cmocka_unit_test(cross_key_rules), cmocka_unit_test(load_checks),
      cmocka_unit_test(fleet_keys),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
