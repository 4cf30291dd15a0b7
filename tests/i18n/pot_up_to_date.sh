#!/usr/bin/env bash
# The committed po/valix.pot is what po/make-pot.sh makes from the sources (POT-Creation-Date
# aside): run `cmake --build build --target pot` after changing a translated string.
set -euo pipefail
src=${VALIX_SOURCE_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash "$src/po/make-pot.sh" "$src" "$tmp/valix.pot"
if ! diff -u -I '^"POT-Creation-Date:' "$src/po/valix.pot" "$tmp/valix.pot"; then
  echo "po/valix.pot is out of date: run 'cmake --build build --target pot' and commit it" >&2
  exit 1
fi
echo "ok - po/valix.pot matches the sources"
