#!/usr/bin/env bash
# Messages in the user's language: with the test catalogue (tests/i18n/de.po, compiled into
# the test build's VALIX_LOCALEDIR) a login whose host set a German locale shows the German
# prompt and messages; in the C locale, or under a host that set no locale, today's wording.
source "$(dirname "$0")/lib.sh"
: "${VALIX_LOCALEDIR:?run through ctest}" "${VALIX_SET_LOCALE:?run through ctest}"
if [ ! -f "$VALIX_LOCALEDIR/de/LC_MESSAGES/valix.mo" ]; then
  echo "skip: no test catalogue in $VALIX_LOCALEDIR (configure with -DVALIX_LOCALEDIR=\$BUILD/locale, as scripts/test does)"
  exit 77
fi
sandbox_init module_i18n

SECRET=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
mapfile -t CODES < <(enroll_test_user alice "$SECRET")

# Only C.UTF-8 is sure to be installed; LANGUAGE picks the catalogue among installed ones.
german() { VALIX_TEST_PRELOAD=$VALIX_SET_LOCALE LC_ALL=C.UTF-8 LANGUAGE=de "$@"; }

german expect_login fail "a wrong code, in German" valix alice 123456
check "the default prompt is translated" out_has "Bestätigungscode:"
check "the refusal is translated" out_has "Ungültiger Bestätigungscode."
check "... the log line stays in English" log_has "denied: wrong code"

german expect_login ok "a backup code, in German" valix alice "${CODES[0]}"
check "the backup code message is translated, with its plural and count" \
  out_has "Backup-Code angenommen. Sie haben noch 9 Backup-Codes."

LANG=C LC_ALL=C VALIX_TEST_PRELOAD=$VALIX_SET_LOCALE expect_login fail "a wrong code, in the C locale" valix alice 123456
check "C locale: today's prompt" out_has "Verification code:"
check "C locale: today's refusal" out_has "Invalid verification code."

# The module never calls setlocale: under a host that set none (pamtester alone), English
# whatever the environment says.
LC_ALL=C.UTF-8 LANGUAGE=de expect_login fail "a host without a locale" valix alice 123456
check "... English prompt" out_has "Verification code:"
check "... no German" bash -c "! grep -aq 'Bestätigungscode' '$SB/out' '$SB/err'"

# A configured prompt is shown as written, in any language.
write_service custom "prompt=Token:"
german expect_login fail "a configured prompt" custom alice 123456
check "... is shown as configured" out_has "Token:"

# valix-enroll calls setlocale itself.
printf 'account required %s acct=success\n' "$VALIX_TEST_AUTHTOK_MODULE" > "$SB/pam.d/valix-enroll"
if [ "$(id -u)" -eq 0 ]; then
  set +e
  LC_ALL=C.UTF-8 LANGUAGE=de pam_env "$VALIX_ENROLL" --config "$SB/etc/valix.conf" --user bob --status \
    >"$SB/eout" 2>"$SB/eerr" </dev/null
  set -e
  check "valix-enroll --status in German" grep -qF "2FA ist für bob nicht eingerichtet." "$SB/eout"
  set +e
  LC_ALL=C pam_env "$VALIX_ENROLL" --config "$SB/etc/valix.conf" --user bob --status \
    >"$SB/eout" 2>"$SB/eerr" </dev/null
  set -e
  check "valix-enroll --status in the C locale" grep -qF "2FA is not set up for bob." "$SB/eout"
fi

finish
