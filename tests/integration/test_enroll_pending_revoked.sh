#!/usr/bin/env bash
# A pending enrollment is confirmed only over the enrollment it was begun over. Someone who
# holds alice's second phone (and her password) begins one with that phone's code: an
# authenticator of their own (--add evil --begin), or a whole new enrollment (--begin). The
# administrator revokes the phone (valix-admin remove alice phone2); the --confirm that
# follows is refused, and nothing of it is stored (it was confirmed before: the revoked
# phone's holder got an authenticator of their own, or replaced all of alice's and got the
# backup codes). The same when alice herself removes it (valix-enroll --remove).
source "$(dirname "$0")/lib.sh"
: "${VALIX_ENROLL:?run through ctest}"
require_root "valix-enroll acts for other users only as root (--user)"
sandbox_init enroll_pending_revoked
printf 'account required %s acct=success\n' "$VALIX_TEST_AUTHTOK_MODULE" > "$SB/pam.d/valix-enroll"
INPUT=
source "$(dirname "$0")/enroll_lib.sh"
source "$(dirname "$0")/admin_lib.sh"
state_text() { "$VALIX_TEST_STATE" "$SB/state" alice text; }
ahead() { totp_at "$1" $(( $(date +%s) + 30 * $2 )); }  # ahead SECRET K: the code K steps on
# Each part uses codes of steps the one before did not (the window is 1): it starts at a new one.
next_step() {
  local step=$(( $(date +%s) / 30 ))
  while [ $(( $(date +%s) / 30 )) -eq "$step" ]; do sleep 1; done
}

secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
enroll_test_user alice "$secret" > /dev/null
# add_phone2 K: alice adds phone2 with her app's code K steps on; sets PHONE2.
add_phone2() {
  INPUT=$(ahead "$secret" "$1") expect_rc 0 "alice adds phone2" --user alice --add phone2 --begin --code - --json
  PHONE2=$(json 'd["secret"]')
  INPUT=$(totp_now "$PHONE2") expect_rc 0 "... and confirms it" --user alice --confirm -
}

# --- an authenticator of the thief's own, begun with phone2's code ----------------------------
next_step
add_phone2 0
INPUT=$(ahead "$PHONE2" 1) expect_rc 0 "the thief: --add evil --begin with phone2's code" \
  --user alice --add evil --begin --code - --json
evil=$(json 'd["secret"]')
check "... pending, over the enrollment with phone2" bash -c "'$VALIX_TEST_STATE' '$SB/state' alice text | grep -q '^pending_for [0-9a-f]\{64\}\$'"
expect_admin 0 "the administrator revokes phone2" remove alice phone2
INPUT=$(totp_now "$evil") expect_rc 1 "the thief's --confirm is refused" --user alice --confirm -
check "... saying the 2FA changed since --begin" eerr_has "your 2FA changed since valix-enroll --begin"
check "... evil is not alice's" bash -c "! '$VALIX_TEST_STATE' '$SB/state' alice text | grep -q '^authenticator evil '"
check "... nothing pending any more" [ "$(state_field alice pending)" = 0 ]

# --- a whole new enrollment, begun with phone2's code; alice removes phone2 herself ------------
next_step
add_phone2 0
INPUT=$(ahead "$PHONE2" 1) expect_rc 0 "the thief: --begin (re-enrolling) with phone2's code" \
  --user alice --begin --code - --json
thief=$(json 'd["secret"]')
INPUT=$(ahead "$secret" 1) expect_rc 0 "alice removes phone2 (--remove, her app's code)" --user alice --remove phone2 --code -
INPUT=$(totp_now "$thief") expect_rc 1 "the thief's --confirm is refused" --user alice --confirm - --json
check "... alice's app is still her authenticator" bash -c "'$VALIX_TEST_STATE' '$SB/state' alice text | grep -q '^secret $secret\$'"
check "... and no backup codes were printed" bash -c "! grep -q backup_codes '$SB/eout'"

# --- control: nothing changed since --begin, the confirm works --------------------------------
next_step
INPUT=$(ahead "$secret" 1) expect_rc 0 "alice: --add tablet --begin" --user alice --add tablet --begin --code - --json
tablet=$(json 'd["secret"]')
INPUT=$(totp_now "$tablet") expect_rc 0 "... --confirm adds it" --user alice --confirm -
check "... tablet is alice's" bash -c "'$VALIX_TEST_STATE' '$SB/state' alice text | grep -q '^authenticator tablet '"
finish
