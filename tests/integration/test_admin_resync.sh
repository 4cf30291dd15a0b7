#!/usr/bin/env bash
# valix-admin resync: a token whose clock runs 20 minutes behind this host. Its codes are
# refused until an administrator gives two consecutive codes it shows; logins then accept
# the token's codes (each once), the offset survives in the state and in status, used or
# made-up codes are refused and change nothing, and the codes can come on standard input.
# Codes come from oathtool at the token's time (oathtool -N @TIME).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/admin_lib.sh"
require_root "valix-admin"
sandbox_init admin_resync
SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
BEHIND=1200  # seconds the token runs behind
syslog_start

token_code() { totp_at "$SECRET" $(( $(date +%s) - BEHIND + ${1:-0} )); }

enroll_test_user erin "$SECRET" >/dev/null
wait_fresh_step
expect_login fail "the token's code, 20 minutes off, is refused" valix erin "$(token_code)"
check "... counted like a wrong code" [ "$(state_field erin failures)" = 1 ]

# Command line and refusals: nothing changes.
expect_admin 2 "resync takes USER CODE1 CODE2" resync erin 123456
expect_admin 3 "resync of a user without 2FA" resync alice 123456 654321
check "... says so" stderr_has "alice has not set up 2FA; nothing to resync"
expect_admin 3 "two codes that are not consecutive codes of the token" resync erin \
  "$(token_code 30)" "$(token_code)"
check "... says so" stderr_has "are not consecutive codes of this user's authenticator"
expect_admin 3 "codes that are no codes" resync erin 12345 abcdef
check "nothing changed" [ "$(state_field erin offset_steps)" = 0 ]
check "... not the watermark either" [ "$(state_field erin last_step)" = 0 ]

# The resync, codes on standard input (argv is visible to other users).
wait_fresh_step
C1=$(token_code -30)
C2=$(token_code)
NEXT=$(token_code 30)
admin resync erin - - < <(printf '%s\n%s\n' "$C1" "$C2")
check "resync with two consecutive codes on stdin (exit 0)" [ "$ADMIN_RC" -eq 0 ]
check "... tells how far the token is off" stdout_has "erin's authenticator runs 1200 s behind this host's clock"
check "... the offset is in the state" [ "$(state_field erin offset_steps)" = -40 ]
syslog_check "... audited" "resync erin (by root): clock offset -1200 s (was 0 s)"
admin status erin --json
check "status --json shows the offset" python3 -c "
import json,sys; d=json.load(open('$SB/out'))
sys.exit(0 if d[0]['clock_offset_seconds'] == -1200 else 1)"
admin status erin
check "status shows it after the enrollment time" stdout_has "(clock -1200 s)"

expect_login fail "the second code of the resync never logs in" valix erin "$C2"
expect_admin 3 "the same pair again is refused (used)" resync erin "$C1" "$C2"
check "... as used" stderr_has "are not newer than the last code used"
check "... and the offset stays" [ "$(state_field erin offset_steps)" = -40 ]
expect_login ok "the token's next code logs in" valix erin "$NEXT"
expect_login fail "... once" valix erin "$NEXT"
expect_login fail "a code for this host's clock (20 minutes from the token's) is refused" \
  valix erin "$(totp_now "$SECRET")"

# A reset forgets the offset with the enrollment.
expect_admin 0 "reset" reset erin
enroll_test_user erin "$SECRET" >/dev/null
check "a new enrollment has no offset" [ "$(state_field erin offset_steps)" = 0 ]

if [ -n "${SYSLOG_DEV:-}" ]; then
  check "no code reaches syslog" bash -c "! grep -qE 'resync.*[0-9]{6} [0-9]{6}' '$SB/syslog.txt'"
fi
syslog_stop
finish
