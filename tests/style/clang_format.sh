#!/usr/bin/env bash
# style.clang_format: every tracked C and C++ source follows .clang-format. clang-format 14
# (Debian 12's clang-format package): other versions format some constructs differently.
# Usage: clang_format.sh SOURCE_DIR
set -euo pipefail
cd "$1"
format=$(command -v clang-format-14 || true)
if [ -z "$format" ]; then
  echo "clang-format-14 is missing (Debian package clang-format; scripts/deps.sh lists it)"
  exit 1
fi
if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.c' '*.h')
else
  mapfile -t files < <(find . -path ./build -prune -o -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.c' -o -name '*.h' \) -print)
fi
if "$format" --dry-run --Werror "${files[@]}"; then
  echo "clang-format: ${#files[@]} passed, 0 failed"
else
  echo "clang-format: run '$format -i' on the files above (style in .clang-format)"
  exit 1
fi
