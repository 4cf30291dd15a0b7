#!/usr/bin/env bash
# In-login enrollment, driven by expect over pamtester: a user an admin flagged (or whom
# policy sends to enrollment) sees the QR code, URI and key, enters the first code from
# their app (computed here by oathtool from the key shown), gets backup codes and is let in.
# The enrollment is stored only by pam_setcred, which applications call once the whole auth
# stack and account management passed: a login that fails anywhere stores nothing.
source "$(dirname "$0")/lib.sh"
sandbox_init module_enroll_at_login
command -v expect >/dev/null || { echo "expect is required"; exit 1; }

# run_enrollment USER WRONG_FIRST(0|1) [SERVICE] [OPERATIONS]: expect script driving
# pamtester through OPERATIONS (default: a whole login, authenticate acct_mgmt setcred, as
# sshd, login, su and sudo do); exit 0 when every operation succeeded.
run_enrollment() {
  local user=$1 wrong_first=$2 service=${3:-valix} operations=${4:-"authenticate acct_mgmt setcred"}
  pam_env expect -f - <<EXPECT >"$SB/out" 2>"$SB/err"
set timeout 30
log_user 1
spawn pamtester -v $service $user $operations
expect {
  -re {enter this key by hand: ([A-Z2-7 ]+)\r?\n} { set key [string map {" " ""} \$expect_out(1,string)] }
  timeout { exit 10 }
}
expect -re {Setup URI: (otpauth://[^\r\n]+)} { set uri \$expect_out(1,string) }
expect "Verification code: "
if {$wrong_first} {
  send "000000\r"
  expect "That code is not correct"
  expect "Verification code: "
}
set code [exec oathtool --totp -b \$key 2>/dev/null]
send "\$code\r"
expect {
  timeout { exit 11 }
  eof
}
exit [lindex [wait] 3]
EXPECT
}

"$VALIX_TEST_STATE" "$SB/state" alice flag
wait_fresh_step
if run_enrollment alice 1; then pass "flagged user enrolls at login (after one wrong code)"; else failure "flagged user enrolls at login (expect exit $?)"; fi
check "QR code shown (half blocks)" grep -q '▀' "$SB/out"
check "reference wording: scan the QR code" grep -q "Open your authenticator app" "$SB/out"
check "URI shown" grep -q "otpauth://totp/Valix%20Test:alice@" "$SB/out"
check "backup codes shown, numbered" grep -qE '^ +10\. [0-9a-z]{5}-[0-9a-z]{5}' "$SB/out"
check "advice on keeping them" grep -q "password manager, or a printed sheet in a safe" "$SB/out"
check "state now enrolled" [ "$(state_field alice enrolled)" = 1 ]
check "admin flag consumed" [ "$(state_field alice required)" = 0 ]
check "ten backup codes stored" [ "$(state_field alice backup_left)" = 10 ]
check "enrollment logged" grep -q "enrolled in 2FA at login" "$SB/out"

# The enrolled user is now challenged, never re-enrolled at login.
key=$(grep -oE 'enter this key by hand: [A-Z2-7 ]+' "$SB/out" | head -1 | sed 's/.*: //; s/ //g')
expect_login fail "the first code cannot be replayed" valix alice "$(totp_now "$key")"
check "an enrolled user is challenged, not re-enrolled" bash -c "! grep -q 'Set it up now' '$SB/out' '$SB/err'"

# Policy-driven enrollment: require=all, unenrolled=enroll.
write_config "require = all
unenrolled = enroll"
wait_fresh_step
if run_enrollment bob 0; then pass "policy sends a not-enrolled user through enrollment"; else failure "policy enrollment (expect exit $?)"; fi
check "bob enrolled" [ "$(state_field bob enrolled)" = 1 ]
bob_code=$(grep -aoE '^ +1\. [0-9a-z]{5}-[0-9a-z]{5}' "$SB/out" | awk '{print $2}' | tr -d '\r')
expect_login ok "a backup code shown at enrollment works" valix bob "$bob_code"

# A failing disk: the enrollment is in the state file, then syncing it failed. The login is
# refused (fail closed), and the backup codes now in force are shown all the same. The disk
# fails from the third update's sync (lib.sh): the uid index and the inert login enrollment
# (the first two) are durable, the enrollment's installation at setcred is not.
"$VALIX_TEST_STATE" "$SB/state" carol flag
wait_fresh_step
if FAIL_DIR_FSYNC_FROM=3 with_failing_dir_fsync run_enrollment carol 0; then
  failure "enrollment with a failing directory sync let the user in"
else
  pass "enrollment with a failing directory sync: login refused"
fi
check "... the backup codes in force are shown" grep -qE '^ +10\. [0-9a-z]{5}-[0-9a-z]{5}' "$SB/out"
check "... carol is enrolled with them" [ "$(state_field carol backup_left)" = 10 ]
check "... the cause is logged" grep -q ", but syncing it" "$SB/out"

# The attack: a person without the password reaches a flagged user's enrollment, because the
# password module's 'required' carries on after a failure (pam_deny stands in for a wrong
# password), and binds their own phone. The login fails, and the state must not change.
write_config ""
"$VALIX_TEST_STATE" "$SB/state" dave flag
write_service deny_first "" "auth required pam_deny.so"
wait_fresh_step
if run_enrollment dave 0 deny_first; then
  failure "a login whose password check failed succeeded"
else
  pass "wrong password before the module: the login fails"
fi
check "... the enrollment flow ran (the attacker saw a key)" grep -q "enter this key by hand" "$SB/out"
check "... dave is still not enrolled" [ "$(state_field dave enrolled)" = 0 ]
check "... and still flagged" [ "$(state_field dave required)" = 1 ]

# Authentication passes but account management refuses (an expired account, pam_access...).
{
  echo "auth required $VALIX_MODULE config=$SB/etc/valix.conf"
  echo "account required pam_deny.so"
} > "$SB/pam.d/acct_refuses"
wait_fresh_step
if run_enrollment dave 0 acct_refuses; then
  failure "a login refused by account management succeeded"
else
  pass "account management refuses: the login fails"
fi
check "... dave is still not enrolled" [ "$(state_field dave enrolled)" = 0 ]
check "... and still flagged" [ "$(state_field dave required)" = 1 ]

# An application that never calls pam_setcred stores nothing either.
wait_fresh_step
run_enrollment dave 0 valix authenticate || true
check "authenticate alone (no setcred): dave is still not enrolled" [ "$(state_field dave enrolled)" = 0 ]

# The whole login: stored.
wait_fresh_step
if run_enrollment dave 0; then pass "the whole login stores the enrollment"; else failure "whole login (expect exit $?)"; fi
check "... dave is enrolled" [ "$(state_field dave enrolled)" = 1 ]
check "... the flag is consumed" [ "$(state_field dave required)" = 0 ]

finish
