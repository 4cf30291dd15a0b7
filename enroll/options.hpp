// valix-enroll's command line.
#pragma once

#include <optional>
#include <string>

#include "config.hpp"
#include "error.hpp"

namespace valix::enroll {

struct Options {
  enum class Action {
    interactive,
    begin,
    confirm,
    status,
    regenerate,
    add,     // --add NAME on a terminal (with --begin, add_name is set and the action is begin)
    remove,  // --remove NAME (remove_name)
  } action = Action::interactive;
  std::optional<std::string> confirm_code, current_code, user, config, qr_svg, codes_file;
  std::optional<std::string> add_name, remove_name;
  std::optional<QrStyle> qr;
  bool json = false;
};

// The options, or nullopt when --help or --version was answered (printed on stdout).
// Errc::invalid with a message for a bad command line.
Result<std::optional<Options>> parse(int argc, char** argv);

}  // namespace valix::enroll
