// The PAM service file reader and the auth stack check behind valix-admin check: lines with
// their numbers, controls as pam.conf(5) defines them, includes, and what a wrong or right
// password and code do in the stacks administrators write.
#include <ios>
#include <map>
#include <string>

#include "pam_stack.hpp"
#include "secure.hpp"  // before unit.hpp: cmocka defines a fail() macro
#include "unit.hpp"

using namespace valix;

namespace {

void lines_and_numbers(void**) {
  const PamFile file = parse_pam_file(
      "# comment\n"
      "\n"
      "auth [success=1 default=ignore]  pam_unix.so nullok # trailing\n"
      "-auth optional pam_gnome_keyring.so\n"
      "auth required pam_valix.so \\\n"
      "    window=0 [prompt=Your code\\]:]\n"
      "@include common-account\n"
      "auth required\n"
      "bogus required pam_permit.so\n"
      "auth required pam_x.so [not closed\n");
  assert_int_equal(file.lines.size(), 4);
  assert_int_equal(file.lines[0].line, 3);
  assert_string_equal(file.lines[0].control.c_str(), "[success=1 default=ignore]");
  assert_string_equal(file.lines[0].module.c_str(), "pam_unix.so");
  assert_int_equal(file.lines[0].args.size(), 1);
  assert_string_equal(file.lines[1].type.c_str(), "auth");
  assert_int_equal(file.lines[2].line, 5);
  assert_int_equal(file.lines[2].args.size(), 2);
  assert_string_equal(file.lines[2].args[1].c_str(), "prompt=Your code]:");
  assert_string_equal(file.lines[3].type.c_str(), "@include");
  assert_string_equal(file.lines[3].module.c_str(), "common-account");
  assert_int_equal(file.errors.size(), 3);
  assert_int_equal(file.errors[0].line, 8);
  assert_int_equal(file.errors[1].line, 9);
  assert_int_equal(file.errors[2].line, 10);
  // "[]" where the module goes is no module (fuzz_pam_stack found it read as an empty one).
  const PamFile empty_module = parse_pam_file("auth requisite []\nauth [] pam_unix.so\n");
  assert_int_equal(empty_module.lines.size(), 1);  // "[]" is a control (no keywords): parsed
  assert_int_equal(empty_module.errors.size(), 1);
  assert_int_equal(empty_module.errors[0].line, 1);
}

void controls(void**) {
  auto required = parse_pam_control("required");
  ASSERT_OK(required);
  assert_true(required->step("success") == (PamStep{PamAction::ok, 0}));
  assert_true(required->step("auth_err") == (PamStep{PamAction::bad, 0}));
  assert_true(required->step("ignore") == (PamStep{PamAction::ignore, 0}));
  auto bracket = parse_pam_control("[success=2 new_authtok_reqd=done default=die]");
  ASSERT_OK(bracket);
  assert_true(bracket->step("success") == (PamStep{PamAction::jump, 2}));
  assert_true(bracket->step("user_unknown") == (PamStep{PamAction::die, 0}));
  auto no_default = parse_pam_control("[success=ok]");
  ASSERT_OK(no_default);
  assert_true(no_default->step("auth_err") == (PamStep{PamAction::bad, 0}));
  assert_false(parse_pam_control("mandatory").has_value());
  assert_false(parse_pam_control("[succes=ok]").has_value());
  assert_false(parse_pam_control("[success=0]").has_value());
  assert_false(parse_pam_control("[success]").has_value());
}

// The order findings of a service, with files from a map.
std::vector<std::string> findings(const std::map<std::string, std::string>& files,
                                  std::string service = "svc") {
  const AuthStack stack =
      load_auth_stack(service, [&](std::string_view name) -> Result<std::string> {
        auto it = files.find(std::string(name));
        if (it == files.end()) return (valix::fail)(Errc::not_found, "no such file");
        return it->second;
      });
  if (!stack.problems.empty()) fail_msg("problem: %s", stack.problems.front().c_str());
  return check_auth_order(stack);
}

bool has(const std::vector<std::string>& list, std::string_view text) {
  for (const auto& f : list) {
    if (f.find(text) != std::string::npos) return true;
  }
  return false;
}

// Debian 12's common-auth with the pam-auth-update profile's line in the Additional block.
const std::string kCommonAuth =
    "auth [success=1 default=ignore] pam_unix.so nullok\n"
    "auth requisite pam_deny.so\n"
    "auth required pam_permit.so\n"
    "auth required pam_valix.so\n";

void clean_stacks(void**) {
  auto debian = findings({{"svc", "auth requisite pam_nologin.so\n@include common-auth\n"},
                          {"common-auth", kCommonAuth}});
  if (!debian.empty()) fail_msg("%s", debian.front().c_str());
  assert_true(
      findings({{"svc", "auth requisite pam_unix.so\nauth required pam_valix.so\n"}}).empty());
  // Public key + code (no password module): the shipped sshd example.
  assert_true(findings({{"svc",
                         "auth [success=done ignore=ignore default=die] pam_valix.so\n"
                         "auth required pam_permit.so\n"}})
                  .empty());
  // Trusted networks: pam_access jumping over pam_valix is deliberate, not a finding.
  assert_true(findings({{"svc",
                         "auth requisite pam_unix.so\n"
                         "auth [success=1 default=ignore] pam_access.so accessfile=/x\n"
                         "auth required pam_valix.so\n"}})
                  .empty());
  // pam_faillock around pam_unix, as its manual shows.
  assert_true(findings({{"svc",
                         "auth requisite pam_faillock.so preauth\n"
                         "auth [success=1 default=ignore] pam_unix.so\n"
                         "auth [default=die] pam_faillock.so authfail\n"
                         "auth required pam_valix.so\n"}})
                  .empty());
}

void password_that_carries_on(void**) {
  auto required = findings({{"svc", "auth required pam_unix.so\nauth required pam_valix.so\n"}});
  assert_int_equal(required.size(), 1);
  assert_true(has(required, "pam_valix (svc:2) is reached after pam_unix.so (svc:1, 'required')"));
  // The same through an include.
  auto included = findings({{"svc", "auth include common\nauth required pam_valix.so\n"},
                            {"common", "auth required pam_unix.so\n"}});
  assert_true(has(included, "after pam_unix.so (common:1, 'required')"));
  // optional: the code alone logs in, too.
  auto optional = findings({{"svc", "auth optional pam_unix.so\nauth required pam_valix.so\n"}});
  assert_true(has(optional, "is reached after pam_unix.so"));
  assert_true(has(optional, "a right code without the password logs in"));
  // sufficient: the right password ends the stack before the code.
  auto sufficient =
      findings({{"svc", "auth sufficient pam_unix.so\nauth required pam_valix.so\n"}});
  assert_true(has(sufficient, "a right password alone logs in"));
  assert_true(has(sufficient, "is reached after pam_unix.so (svc:1, 'sufficient')"));
  // A jump on success past pam_valix.
  auto jump = findings({{"svc",
                         "auth [success=2 default=die] pam_unix.so\n"
                         "auth required pam_valix.so\n"
                         "auth requisite pam_deny.so\n"
                         "auth required pam_permit.so\n"}});
  assert_true(has(jump, "a right password alone logs in"));
  // default=bad keeps going, default=die stops.
  assert_false(findings({{"svc",
                          "auth [success=ok default=bad] pam_unix.so\n"
                          "auth required pam_valix.so\n"}})
                   .empty());
  assert_true(findings({{"svc",
                         "auth [success=ok default=die] pam_unix.so\n"
                         "auth required pam_valix.so\n"}})
                  .empty());
}

void valix_before_password(void**) {
  auto before = findings({{"svc", "auth required pam_valix.so\nauth requisite pam_unix.so\n"}});
  assert_true(has(before, "pam_valix (svc:1) comes before the password module"));
}

void code_that_does_not_count(void**) {
  auto optional = findings({{"svc", "auth requisite pam_unix.so\nauth optional pam_valix.so\n"}});
  assert_true(has(optional, "a wrong code does not stop the login"));
}

void substacks(void**) {
  // Fedora-style: a substack's die ends only the substack; 'required' on its result goes on.
  auto fedora = findings({{"svc", "auth substack system-auth\nauth required pam_valix.so\n"},
                          {"system-auth",
                           "auth sufficient pam_unix.so\n"
                           "auth required pam_deny.so\n"}});
  assert_true(has(fedora, "is reached after pam_unix.so (system-auth:1, 'sufficient')"));
  assert_false(has(fedora, "a right password alone logs in"));
  auto inside = findings({{"svc", "auth substack system-auth\n"},
                          {"system-auth",
                           "auth requisite pam_unix.so\n"
                           "auth required pam_valix.so\n"}});
  assert_true(inside.empty());
}

// Stacks built to have more paths than any real one (fuzz_pam_stack found one that ran past
// its 10 s limit): substacks are walked once per entering path, and past the step budget the
// check says the order was not checked instead of running on.
void stacks_with_many_paths(void**) {
  std::map<std::string, std::string> nested{{"svc", "auth substack s1\n"}};
  for (int level = 1; level <= 16; ++level) {
    std::string file;
    for (int k = 0; k < 3; ++k) file += "auth [success=ok default=ignore] pam_unix.so\n";
    file += "auth [success=1 default=ignore] pam_valix.so\n";
    file += "auth optional pam_valix.so\n";
    if (level < 16) file += "auth substack s" + std::to_string(level + 1) + "\n";
    nested["s" + std::to_string(level)] = file;
  }
  auto deep = findings(nested);
  assert_true(has(deep, "a wrong code does not stop the login"));

  // Any of 50 password lines can be the one that succeeded, then any of 50 pam_valix lines:
  // 2,500 combinations reach each of the 90 lines after them.
  std::string flat;
  for (int k = 0; k < 50; ++k) {
    flat += "auth [success=" + std::to_string(50 - k) + " default=ignore] pam_unix.so\n";
  }
  for (int k = 0; k < 50; ++k) {
    flat += "auth [success=" + std::to_string(50 - k) + " default=ignore] pam_valix.so\n";
  }
  for (int k = 0; k < 90; ++k) flat += "auth optional pam_env.so\n";
  auto wide = findings({{"svc", flat}});
  assert_int_equal(wide.size(), 1);
  assert_true(has(wide, "its order was not checked"));
}

void loops_and_missing_files(void**) {
  const AuthStack loop = load_auth_stack("a", [](std::string_view name) -> Result<std::string> {
    return std::string(name == "a" ? "@include b\n" : "auth include a\n");
  });
  assert_false(loop.problems.empty());
  const AuthStack missing = load_auth_stack("a", [](std::string_view name) -> Result<std::string> {
    if (name == "a") return std::string("auth [sucess=ok] pam_unix.so\n@include gone\n");
    return (valix::fail)(Errc::not_found, "no such file");
  });
  assert_int_equal(missing.problems.size(), 2);
  assert_string_equal(missing.problems[0].c_str(), "a:1: 'sucess' is not a PAM return value");
  assert_string_equal(missing.problems[1].c_str(), "gone: no such file");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lines_and_numbers),
      cmocka_unit_test(controls),
      cmocka_unit_test(clean_stacks),
      cmocka_unit_test(password_that_carries_on),
      cmocka_unit_test(valix_before_password),
      cmocka_unit_test(code_that_does_not_count),
      cmocka_unit_test(substacks),
      cmocka_unit_test(stacks_with_many_paths),
      cmocka_unit_test(loops_and_missing_files),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
