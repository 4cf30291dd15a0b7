// Shared includes and small helpers for the CMocka unit tests.
#pragma once

// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}
// clang-format on

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "secure.hpp"

inline valix::SecretBytes bytes_of(std::string_view text) {
  return valix::SecretBytes(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

#define ASSERT_OK(expr)                                                                \
  do {                                                                                 \
    auto&& assert_ok_result_ = (expr);                                                 \
    if (!assert_ok_result_) fail_msg("%s", assert_ok_result_.error().message.c_str()); \
  } while (0)
