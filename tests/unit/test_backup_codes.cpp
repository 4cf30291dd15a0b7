// Backup codes: generation, normalisation, hashing with one shared salt.
#include <cstring>
#include <set>

#include "backup_codes.hpp"
#include "unit.hpp"

using namespace valix;

namespace {

void generation(void**) {
  auto codes = generate_backup_codes(10);
  ASSERT_OK(codes);
  assert_int_equal(codes->size(), 10);
  std::set<std::string> distinct;
  for (const auto& code : *codes) {
    const std::string text(code.view());
    assert_int_equal(text.size(), 11);
    assert_int_equal(text[5], '-');
    bool letter = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (i == 5) continue;
      assert_non_null(std::strchr("0123456789abcdefghjkmnpqrstvwxyz", text[i]));
      letter = letter || (text[i] >= 'a' && text[i] <= 'z');
    }
    assert_true(letter);
    distinct.insert(text);
  }
  assert_int_equal(distinct.size(), 10);
}

void normalisation(void**) {
  auto n = normalize_backup_code(" AB0DE-FGH1K ");
  assert_true(n.has_value());
  assert_string_equal(n->c_str(), "ab0defgh1k");
  assert_string_equal(normalize_backup_code("aboDE fghlk")->c_str(), "ab0defgh1k");
  assert_string_equal(normalize_backup_code("abodefghik")->c_str(), "ab0defgh1k");
  const char* bad[] = {"", "abcde-fgh", "abcde-fghjkm", "abcde-fghj!", "abcde-fghju", "123456"};
  for (const char* text : bad) {
    if (normalize_backup_code(text)) fail_msg("normalised '%s'", text);
  }
}

void hashing(void**) {
  auto codes = generate_backup_codes(10);
  ASSERT_OK(codes);
  auto hashed = hash_backup_codes(*codes);
  ASSERT_OK(hashed);
  assert_true(hashed->setting.rfind("$y$", 0) == 0);  // yescrypt, Debian 12's preferred method
  assert_int_equal(hashed->hashes.size(), 10);
  for (const auto& hash : hashed->hashes) {
    // One salt for all: checking a code costs exactly one hash evaluation.
    assert_true(hash.rfind(hashed->setting, 0) == 0);
    assert_true(valid_crypt_string(hash));
  }
  for (std::size_t i = 0; i < codes->size(); ++i) {
    auto found = find_backup_code(*hashed, (*codes)[i].view());
    ASSERT_OK(found);
    assert_true(found->has_value());
    assert_int_equal(**found, i);
  }
  auto missing = find_backup_code(*hashed, "zzzzz-zzzzz");
  ASSERT_OK(missing);
  assert_false(missing->has_value());
  auto garbage = find_backup_code(*hashed, "not a code");
  ASSERT_OK(garbage);
  assert_false(garbage->has_value());
  assert_false(valid_crypt_string("has space"));
  assert_false(valid_crypt_string(""));
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(generation),
      cmocka_unit_test(normalisation),
      cmocka_unit_test(hashing),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
