#!/usr/bin/env bash
# valix-admin add-token: hardware OATH tokens. An HOTP token (secret in hex on standard input,
# values from oathtool --hotp): the next values within hotp_look_ahead log in once each, used
# ones are refused, one beyond the look-ahead is refused as out of sync (and the token's next
# value then works), resync takes two consecutive values, and 32 parallel logins with one
# value let exactly one in. A TOTP token with SHA256, 8 digits and 60 s steps takes the same
# path as an app. Bad input changes nothing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/admin_lib.sh"
require_root "valix-admin"
sandbox_init admin_tokens
HEX=3132333435363738393031323334353637383930  # RFC 4226's test secret
syslog_start

value() { oathtool --hotp "$HEX" -c "$1"; }
add_token() {  # add_token SECRET ARGS...: valix-admin add-token, the secret on stdin
  local secret=$1
  shift
  admin add-token "$@" < <(printf '%s\n' "$secret")
}

# --- refusals: nothing changes -----------------------------------------------------------------
expect_admin 2 "add-token needs --hotp or --totp" add-token dave
expect_admin 2 "--counter only with --hotp" add-token dave --totp --counter 3
expect_admin 2 "--digits 7 is refused" add-token dave --hotp --digits 7
add_token "not a secret!" dave --hotp
check "a secret that is neither hex nor base32 is refused (exit 3)" [ "$ADMIN_RC" -eq 3 ]
add_token 31323334 dave --hotp
check "too short a secret is refused (exit 3)" [ "$ADMIN_RC" -eq 3 ]
check "... and says how long it must be" stderr_has "must be 10 to 128 bytes long"
check "nothing was written" [ "$(state_field dave exists)" != 1 ]
admin add-token nosuchuser --hotp < /dev/null
check "an unknown user is refused (exit 3)" [ "$ADMIN_RC" -eq 3 ]

# --- an HOTP token ------------------------------------------------------------------------------
# Its secret, then its next two values (presses): they set the counter past every value it
# showed before.
add_hotp() {  # add_hotp USER COUNTER1 ARGS...: the secret and the values at COUNTER1, COUNTER1+1
  local user=$1 c=$2
  shift 2
  admin add-token "$user" --hotp "$@" < <(printf '%s\n%s\n%s\n' "$HEX" "$(value "$c")" "$(value $((c + 1)))")
}
add_token "$HEX" dave --hotp
check "an HOTP token without its next two values is refused (exit 2)" [ "$ADMIN_RC" -eq 2 ]
add_hotp dave 0
check "add-token --hotp (exit 0)" [ "$ADMIN_RC" -eq 0 ]
check "... says what was added" stdout_has "dave's authenticator is now the token (HOTP, SHA1, 6 digits, counter 2)"
check "... prints 10 backup codes" [ "$(grep -cE '^ *[0-9]+\. [0-9a-z]{5}-[0-9a-z]{5}$' "$SB/out")" -eq 10 ]
syslog_check "... audited, without the secret" "add-token dave (by root): token added (HOTP, SHA1, 6 digits, counter 2)"
add_hotp dave 2
check "adding again without --force is refused (exit 3)" [ "$ADMIN_RC" -eq 3 ]

expect_login fail "the values given to add-token never log in" valix dave "$(value 1)"
expect_login ok "the token's next value logs in" valix dave "$(value 2)"
check "... logged as an HOTP code" log_has "event=success reason=hotp_code user=dave"
expect_login fail "the same value again is refused" valix dave "$(value 2)"
check "... as a replay" log_has "reason=replayed user=dave"
check "... and the user is told to press the button" out_has "Press your token's button"
expect_login ok "a value a few presses ahead (within the look-ahead) logs in" valix dave "$(value 6)"
expect_login fail "a skipped value is used up" valix dave "$(value 4)"
check "the counter is past the last value" [ "$(state_field dave last_step)" = 7 ]
expect_login fail "a value 30 presses ahead is refused" valix dave "$(value 37)"
check "... logged as out of sync" log_has "reason=out_of_sync user=dave"
check "... and the user is told to press again" out_has "Your token has run ahead"
expect_login ok "... the token's next value then logs in" valix dave "$(value 38)"
login valix dave 000000
check "a wrong value is refused" [ "$LOGIN_RC" -ne 0 ]
check "... and counted" [ "$(state_field dave failures)" = 1 ]

# resync: two consecutive values far ahead, on standard input only.
admin resync dave "$(value 2000)" "$(value 2001)"
check "an HOTP token's values on the command line are refused (exit 2)" [ "$ADMIN_RC" -eq 2 ]
admin resync dave - - < <(printf '%s\n%s\n' "$(value 2000)" "$(value 2001)")
check "resync with two consecutive values (exit 0)" [ "$ADMIN_RC" -eq 0 ]
check "... says where the counter is" stdout_has "its counter is now 2002"
check "... the counter is past them" [ "$(state_field dave last_step)" = 2002 ]
expect_login fail "... the resync's values never log in" valix dave "$(value 2001)"
expect_login ok "... the next value does" valix dave "$(value 2002)"
admin resync dave - - < <(printf '%s\n%s\n' "$(value 100)" "$(value 101)")
check "resync with used values is refused (exit 3)" [ "$ADMIN_RC" -eq 3 ]

# 32 logins at once with one value: exactly one gets in.
parallel_logins() {  # parallel_logins ANSWER N: N logins at once; prints one "ok" per success
  local answer=$1 n=$2 i
  for i in $(seq "$n"); do
    ( printf '%s\n' "$answer" | PAM_TESTER_MODULE_LOGS=1 pam_tester valix dave authenticate >/dev/null 2>&1 && echo ok ) &
  done
  wait  # in a command substitution: only these logins, not the syslog capture
}
successes=$(parallel_logins "$(value 2003)" 32 | grep -c ok || true)
check "32 parallel logins with one HOTP value: exactly one succeeds ($successes)" [ "$successes" -eq 1 ]

# After a reset the token is added again with its next two presses: every value it showed
# before stays refused.
expect_admin 0 "reset dave" reset dave
add_hotp dave 2004
check "the token added again after a reset (exit 0)" [ "$ADMIN_RC" -eq 0 ]
expect_login fail "... a value it showed before the reset is refused" valix dave "$(value 2003)"
expect_login ok "... its next value logs in" valix dave "$(value 2006)"

# --- a TOTP token: SHA256, 8 digits, 60 s steps ------------------------------------------------
B32=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA
token_now() { oathtool --totp=sha256 --digits=8 --time-step-size=60s -b "$B32" -N "@$(( $(date +%s) + ${1:-0} ))"; }
# Everything below happens within one 60 s step (a loaded machine is slow): start with at
# least 35 s of it left, and take the codes once.
while [ $(( $(date +%s) % 60 )) -gt 25 ]; do sleep 1; done
SHOWN=$(token_now)
NEXT=$(token_now 60)
add_token "$B32" erin --totp --algorithm SHA256 --digits 8 --period 60
check "add-token --totp with its own settings (exit 0)" [ "$ADMIN_RC" -eq 0 ]
check "... says so" stdout_has "(TOTP, SHA256, 8 digits, 60 s steps)"
expect_login fail "the code the token showed when it was added does not log in" valix erin "$SHOWN"
expect_login ok "the token's next code (within the window) logs in" valix erin "$NEXT"
expect_login fail "... once" valix erin "$NEXT"
add_token "$B32" erin --totp --algorithm SHA256 --digits 8 --period 60 --force --no-backup-codes
check "--force replaces the enrollment, --no-backup-codes prints none" bash -c \
  "[ $ADMIN_RC -eq 0 ] && ! grep -qE '^ *1\. [0-9a-z]{5}-' '$SB/out'"
expect_login fail "... the same token again: a code used before is still refused" valix erin "$NEXT"

if [ -n "${SYSLOG_DEV:-}" ]; then
  check "the secret never reaches syslog" bash -c "! grep -qi '$HEX\|$B32' '$SB/syslog.txt'"
fi
syslog_stop
finish
