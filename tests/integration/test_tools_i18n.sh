#!/usr/bin/env bash
# Messages in the user's language, the tools: with the test catalogue (tests/i18n/de.po,
# compiled into the test build's VALIX_LOCALEDIR) valix-admin's results and refusals (with a
# core error inside one), the findings of valix-admin check (check.cpp's and pam_stack.cpp's)
# and a valix-enroll refusal are German under a German locale, while the audit log stays
# English; in the C locale, today's wording.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/admin_lib.sh"
require_root "valix-admin"
: "${VALIX_LOCALEDIR:?run through ctest}"
if [ ! -f "$VALIX_LOCALEDIR/de/LC_MESSAGES/valix.mo" ]; then
  echo "skip: no test catalogue in $VALIX_LOCALEDIR (configure with -DVALIX_LOCALEDIR=\$BUILD/locale, as scripts/test does)"
  exit 77
fi
sandbox_init tools_i18n
syslog_start

# Only C.UTF-8 is sure to be installed; LANGUAGE picks the catalogue among installed ones. In
# the C locale glibc ignores LANGUAGE: the English case sets it too, to show that.
german() { LC_ALL=C.UTF-8 LANGUAGE=de "$@"; }
english() { LC_ALL=C LANGUAGE=de "$@"; }
out_is() { [ "$(cat "$SB/out")" = "$1" ]; }

enroll_test_user alice JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP >/dev/null

# --- valix-admin: a result on stdout ------------------------------------------------------------
german expect_admin 0 "unlock of a user who is not locked, in German" unlock alice
check "... the result is translated" out_is "alice ist nicht gesperrt; nichts geändert."
english expect_admin 0 "the same in the C locale" unlock alice
check "... today's wording" out_is "alice is not locked out; nothing changed."

# The status table: translated headings, columns aligned to them.
german expect_admin 0 "status, in German" status alice
check "... translated headings" bash -c "head -n 1 '$SB/out' | grep -q '^BENUTZER  '"
check "... the rows line up under them" python3 -c '
import sys
head, row = open(sys.argv[1], encoding="utf-8").read().splitlines()[:2]
sys.exit(head.index(head.split()[1]) != row.index(row.split()[1]))' "$SB/out"
english expect_admin 0 "status in the C locale" status alice
check "... today's headings" bash -c "head -n 1 '$SB/out' | grep -q '^USER  *ENROLLED  *REQUIRED  *PENDING'"

# --- valix-admin: refusals on stderr, the audit log in English ---------------------------------
german expect_admin 3 "reset of an unknown user, in German" reset nosuchuser
check "... the refusal is translated" \
  stderr_has "valix-admin: reset nosuchuser (durch root): es gibt keinen Benutzer namens „nosuchuser“; nichts geändert"
syslog_check "... the audit log stays English" \
  "reason=refused action=reset user=nosuchuser by=root msg=\"reset nosuchuser (by root): there is no user named 'nosuchuser'; nothing changed\""
english expect_admin 3 "the same in the C locale" reset nosuchuser
check "... today's wording" \
  stderr_has "valix-admin: reset nosuchuser (by root): there is no user named 'nosuchuser'; nothing changed"

# A core error (the state store's) inside the refusal.
german expect_admin 3 "rename of a user without state, in German" rename dave erin
check "... the store's refusal is translated too" \
  stderr_has "valix-admin: rename dave (durch root): „dave“ hat keinen 2FA-Zustand; nichts geändert"
syslog_check "... the audit log stays English" "rename dave (by root): 'dave' has no 2FA state; nothing changed"
english expect_admin 3 "the same in the C locale" rename dave erin
check "... today's wording" stderr_has "valix-admin: rename dave (by root): 'dave' has no 2FA state; nothing changed"

# A valix.conf error (the core's, placed at its line).
write_config "digits = 7"
german expect_admin 1 "a bad valix.conf, in German" status
check "... the configuration error is translated" \
  stderr_has "valix-admin: status (durch root): Fehler in der Konfiguration: $SB/etc/valix.conf:5: digits muss 6 oder 8 sein"
syslog_check "... the audit log stays English" \
  "status (by root): configuration error: $SB/etc/valix.conf:5: digits must be 6 or 8"
english expect_admin 1 "the same in the C locale" status
check "... today's wording" \
  stderr_has "valix-admin: status (by root): configuration error: $SB/etc/valix.conf:5: digits must be 6 or 8"
write_config ""

# --- valix-admin check: findings ----------------------------------------------------------------
D="$SB/check.d"
mkdir -p "$D"
printf 'auth required pam_unix.so\n' > "$D/login"
german expect_admin 0 "check without pam_valix, in German" check --pam-dir "$D" --no-sshd
check "... the finding is translated (UTF-8 kept)" \
  stdout_has "Warnung: kein PAM-Dienst in $D benutzt pam_valix.so: für keine Anmeldung wird ein Code verlangt (pam-auth-update --enable valix)"
check "... and the summary, with its plurals" stdout_has "valix-admin check: 0 Fehler, 1 Warnung"
english expect_admin 0 "the same in the C locale" check --pam-dir "$D" --no-sshd
check "... today's wording" \
  stdout_has "warning: no PAM service in $D uses pam_valix.so: no login is asked for a code (pam-auth-update --enable valix)"
check "... and today's summary" stdout_has "valix-admin check: 0 errors, 1 warning"

# The order check of pam_stack.cpp; a control byte in a PAM file is still replaced.
printf 'auth sufficient pam_unix.so\nauth required pam_valix.so config=%s\nau\033[2Jth required pam_deny.so\n' \
  "$SB/etc/valix.conf" > "$D/login"
german expect_admin 1 "check of a stack the password alone passes, in German" check --pam-dir "$D" --no-sshd
check "... the order finding is translated" \
  stdout_has "Fehler: ein richtiges Passwort allein genügt: nach dem Erfolg von pam_unix.so (login:1, 'sufficient') endet der Stapel oder springt über pam_valix hinweg, der Code wird nie verlangt (Dienst login)"
check "... the control byte from the file is '?'" stdout_has "'au?[2Jth' is not a module type"
check "... no escape byte reaches the terminal" bash -c "! grep -q \$'\\033' '$SB/out'"
english expect_admin 1 "the same in the C locale" check --pam-dir "$D" --no-sshd
check "... today's wording" \
  stdout_has "error: a right password alone logs in: after pam_unix.so (login:1, 'sufficient') succeeds the stack ends or jumps past pam_valix, so the code is never asked (service login)"
check "... no byte >= 0x80 in the C locale" bash -c "! LC_ALL=C grep -qaP '[\x80-\xff]' '$SB/out'"

# --- valix-enroll: a refusal --------------------------------------------------------------------
enroll() {
  set +e
  pam_env "$VALIX_ENROLL" --config "$SB/etc/valix.conf" "$@" >"$SB/eout" 2>"$SB/eerr" </dev/null
  ENROLL_RC=$?
  set -e
}
german enroll --user bob --confirm 123456
check "valix-enroll --confirm with nothing pending, in German: refused" [ "$ENROLL_RC" -eq 1 ]
check "... the refusal is translated" \
  grep -qxF "valix-enroll: nichts zu bestätigen: rufen Sie zuerst valix-enroll --begin auf" "$SB/eerr"
english enroll --user bob --confirm 123456
check "the same in the C locale: refused" [ "$ENROLL_RC" -eq 1 ]
check "... today's wording" grep -qxF "valix-enroll: nothing to confirm: run valix-enroll --begin first" "$SB/eerr"

finish
