#!/usr/bin/env bash
# po/make-pot.sh SOURCE_DIR OUTPUT: the message template (text domain "valix") from every
# string the sources pass to tr(), trn(), N_(), say() or fail_said(). The `pot` target writes po/valix.pot with it;
# the test i18n.pot_up_to_date checks that the committed one matches the sources. References
# name the file only (no line numbers), so the template changes only when a message does.
set -euo pipefail
src=$1 out=$2
cd "$src"
mapfile -t files < <(find libvalix pam_valix enroll admin check -name '*.cpp' -o -name '*.hpp' | LC_ALL=C sort)
xgettext --language=C++ --from-code=UTF-8 --keyword= --keyword=tr --keyword=trn:1,2 --keyword=N_ \
  --keyword=say --keyword=fail_said:2 \
  --add-comments=TRANSLATORS: --add-location=file --package-name=valix \
  --package-version="$(sed -n 's/^project(valix VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)" \
  --output="$out" "${files[@]}"
