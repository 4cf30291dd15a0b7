#!/usr/bin/env bash
# style.clang_tidy: .clang-tidy's profile over the core, the module and the tools (enroll/ and
# admin/ drop one check, see their .clang-tidy), with the compile commands of the build, every
# warning an error. clang-tidy 19: clang-tidy 14 (Debian's default) cannot parse libstdc++ 12's
# <expected>.
# Usage: clang_tidy.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
tidy=$(command -v clang-tidy-19 || true)
if [ -z "$tidy" ]; then
  echo "clang-tidy-19 is missing (Debian package clang-tidy-19; scripts/deps.sh lists it)"
  exit 1
fi
[ -f "$build/compile_commands.json" ] || { echo "no $build/compile_commands.json"; exit 1; }
cd "$src"
files=(libvalix/*.cpp pam_valix/*.cpp enroll/*.cpp check/*.cpp admin/*.cpp)
# One process per file, two at a time; xargs exits non-zero if any file has a finding.
if printf '%s\n' "${files[@]}" |
  xargs -P2 -n1 "$tidy" -p "$build" --quiet -warnings-as-errors='*' 2>/dev/null; then
  echo "clang-tidy: ${#files[@]} passed, 0 failed"
else
  echo "clang-tidy: findings above (profile and reasons in .clang-tidy)"
  exit 1
fi
