#!/usr/bin/env bash
# The fleet store (store = ldap): two hosts, each a PAM service with its own valix.conf, share
# one slapd started in the sandbox. One enrollment works everywhere, and everything that
# spends or counts something (a used code, a backup code, a failure) counts on every host.
source "$(dirname "$0")/lib.sh"
sandbox_init fleet
source "$(dirname "$0")/fleet_lib.sh"
fleet_start
write_host_config host-a "max_failures = 3"
write_host_config host-b "max_failures = 3"

# --- one enrollment, every host -----------------------------------------------------------
wait_fresh_step
fleet_enroll host-a alice
check "the enrollment names the fleet, not the host" bash -c "[[ '$URI' == *'issuer=fleet.test'* && '$URI' == *'alice@fleet.test'* ]]"
check "the enrollment is in the directory" [ -n "$(directory_value alice valixSecret)" ]
check "ten backup-code hashes there, no code in clear" [ "$(ldap_search_as "$VALIX_LDAP_ADMIN_DN" "$SLAPD_DIR/ops.password" '(uid=alice)' valixBackupHash | grep -c '^valixBackupHash: \$')" -eq 10 ]
code=$(code_ahead "$SECRET" 1)
expect_login ok "enrolled through host A, logs in on host B" host-b alice "$code"
expect_login fail "the code accepted on B is refused on A (one watermark for the fleet)" host-a alice "$code"
check "... and logged as a replay" log_has "already used"
expect_login fail "... and again on B" host-b alice "$code"

# --- backup codes ---------------------------------------------------------------------------
expect_login ok "a backup code on host A" host-a alice "${CODES[0]}"
expect_login fail "the same backup code on host B" host-b alice "${CODES[0]}"
check "nine hashes left in the directory" [ "$(ldap_search_as "$VALIX_LDAP_ADMIN_DN" "$SLAPD_DIR/ops.password" '(uid=alice)' valixBackupHash | grep -c '^valixBackupHash:')" -eq 9 ]

# --- failures count fleet-wide --------------------------------------------------------------
expect_login fail "wrong code 1 on A" host-a alice 000000
expect_login fail "wrong code 2 on B" host-b alice 000001
expect_login fail "wrong code 3 on A: the lockout starts" host-a alice 000002
check "the directory holds 3 failures and a lockout" [ "$(directory_value alice valixFailures)" = 3 ]
expect_login fail "locked on B too, even with the right code" host-b alice "$(code_ahead "$SECRET" 2)"
check "... logged as locked" log_has "locked"
host_admin host-b unlock alice >/dev/null
expect_login ok "unlock on B: the right code works on A" host-a alice "$(code_ahead "$SECRET" 2)"

# --- 32 parallel logins with one code, split across both hosts --------------------------------
parallel_logins() {  # parallel_logins USER CODE N: N logins, alternating hosts; prints successes
  local user=$1 answer=$2 n=$3 i
  for i in $(seq "$n"); do
    local host=host-a
    [ $((i % 2)) -eq 0 ] && host=host-b
    ( printf '%s\n' "$answer" | PAM_TESTER_MODULE_LOGS=1 pam_tester "$host" "$user" authenticate >/dev/null 2>&1 && echo ok ) &
  done
  wait
}
for round in 1 2 3; do
  host_admin host-a reset erin >/dev/null 2>&1 || true
  wait_fresh_step
  fleet_enroll host-b erin
  successes=$(parallel_logins erin "$(code_ahead "$SECRET" 1)" 32 | grep -c ok || true)
  check "round $round: 32 parallel logins with one code on two hosts, exactly one succeeds ($successes)" [ "$successes" -eq 1 ]
done
mapfile -t ERIN_CODES < <(printf '%s\n' "${CODES[@]}")
successes=$(parallel_logins erin "${ERIN_CODES[4]}" 16 | grep -c ok || true)
check "one backup code in 16 parallel logins on two hosts: exactly one succeeds ($successes)" [ "$successes" -eq 1 ]

# --- an entry is named by its DN alone -------------------------------------------------------
# Any host may add values to uid (the directory's ACL cannot tell an entry's creation from a
# later modify): an extra value makes erin's entry match (uid=dave), but never dave's state.
LDAPNOINIT=1 ldapmodify -x -H "$VALIX_LDAPI_URI" -D "$VALIX_LDAP_HOST_A_DN" -y "$SLAPD_DIR/host-a.password" >/dev/null <<LDIF
dn: uid=erin,$VALIX_LDAP_BASE
changetype: modify
add: uid
uid: dave
LDIF
host_admin host-a status >"$SB/out" 2>&1 || true
check "an extra uid value on erin's entry: status lists erin, not dave" bash -c "grep -q '^erin ' '$SB/out' && ! grep -q '^dave ' '$SB/out'"
expect_login ok "... dave is not challenged with erin's enrollment" host-a dave ""
check "... dave was not enrolled" log_lacks "Verification code"

# --- admin actions act on the fleet ---------------------------------------------------------
host_admin host-a require bob >/dev/null
check "require on A is in the directory" [ "$(directory_value bob valixRequired)" = TRUE ]
command -v expect >/dev/null || { echo "expect is required"; exit 1; }
wait_fresh_step
pam_env expect -f - <<EXPECT >"$SB/out" 2>"$SB/err"
set timeout 30
spawn pamtester -v host-b bob authenticate acct_mgmt setcred
expect {
  -re {enter this key by hand: ([A-Z2-7 ]+)\r?\n} { set key [string map {" " ""} \$expect_out(1,string)] }
  timeout { exit 10 }
}
expect "Verification code: "
set code [exec oathtool --totp -b \$key 2>/dev/null]
send "\$code\r"
expect { timeout { exit 11 } eof }
exit [lindex [wait] 3]
EXPECT
rc=$?
check "required on A: a login on B walks bob through enrollment (expect exit $rc)" [ "$rc" -eq 0 ]
bob_key=$(grep -aoE 'enter this key by hand: [A-Z2-7 ]+' "$SB/out" | head -1 | sed 's/.*: //; s/ //g')
check "bob is enrolled in the directory" [ -n "$(directory_value bob valixSecret)" ]
check "... the admin's flag consumed" [ -z "$(directory_value bob valixRequired)" ]
expect_login ok "bob, enrolled at a login on B, logs in on A" host-a bob "$(code_ahead "$bob_key" 1)"
host_admin host-b reset alice >/dev/null
host_admin host-a status alice >"$SB/out" 2>&1 || true
check "reset on B ends alice's enrollment everywhere (status on A)" bash -c "grep -q '^alice' '$SB/out' && ! grep -q since '$SB/out'"
check "... no secret left in the directory" [ -z "$(directory_value alice valixSecret)" ]
expect_login ok "alice, no longer enrolled or required, passes the module on A" host-a alice ""

# --- grace periods are per host -------------------------------------------------------------
# Both hosts run a service of one name (sshd, each from its own PAM directory, as on two
# machines) for the same remote host and tty: the key still differs by host (its bind DN), so
# a code typed on host A lets only host A's next login in. A wrong code on either host ends
# every grace period on both.
write_host_config host-a "grace_seconds = 600"
write_host_config host-b "grace_seconds = 600"
for h in a b; do
  mkdir -p "$SB/pam.d-$h"
  cp "$SB/pam.d/other" "$SB/pam.d-$h/other"
  cp "$SB/pam.d/host-$h" "$SB/pam.d-$h/sshd"
done
on() { local h=$1; shift; VALIX_PAM_DIR="$SB/pam.d-$h" "$@"; }
no_prompt() { ! grep -aq 'Verification code' "$SB/out" "$SB/err"; }
wait_fresh_step
fleet_enroll host-a carol
LOGIN_ITEMS=(-I rhost=192.0.2.7 -I tty=ssh)
on a expect_login ok "grace: carol logs in on host A (sshd) with a code" sshd carol "$(code_ahead "$SECRET" 1)"
check "... one grace entry in the directory" [ "$(directory_value carol valixGrace | grep -c .)" -eq 1 ]
on a expect_login ok "... host A's next login from the same rhost, service and tty: let in" sshd carol
check "... without a prompt" no_prompt
check "... logged as a grace use" log_has "event=grace reason=grace_period user=carol service=sshd rhost=192.0.2.7 tty=ssh"
on b expect_login ok "... host B, same rhost, service and tty: asked (a backup code)" sshd carol "${CODES[0]}"
check "... it was asked" out_has "Verification code:"
check "... two grace entries now, one per host" [ "$(directory_value carol valixGrace | grep -c .)" -eq 2 ]
on b expect_login ok "... then host B lets its next login in" sshd carol
check "... without a prompt" no_prompt
on a expect_login ok "... and host A still does" sshd carol
check "... without a prompt" no_prompt
LOGIN_ITEMS=(-I rhost=198.51.100.9 -I tty=ssh)
on b expect_login fail "a wrong code on host B from another remote host" sshd carol 000000
check "... ended every grace period (none left in the directory)" [ -z "$(directory_value carol valixGrace)" ]
check "... and recorded the last failure's remote host" [ "$(directory_value carol valixLastFailureHost)" = 198.51.100.9 ]
LOGIN_ITEMS=(-I rhost=192.0.2.7 -I tty=ssh)
on a expect_login fail "host A asks again" sshd carol ""
check "... it was asked" out_has "Verification code:"
LOGIN_ITEMS=()

# --- valix-admin resync, fleet-wide -----------------------------------------------------------
# dave's token runs 20 minutes ahead. The administrator resyncs it through host A (bound as
# the administrator: hosts may not write the offset); host B then accepts the token's codes.
wait_fresh_step
fleet_enroll host-a dave
token_at() { totp_at "$SECRET" $(( $(date +%s) + 1200 + 30 * $1 )); }
C1=$(token_at -1)
C2=$(token_at 0)
NEXT=$(token_at 1)
expect_login fail "resync: dave's token, 20 minutes ahead, is refused on host B" host-b dave "$NEXT"
host_admin host-a resync dave - - < <(printf '%s\n%s\n' "$C1" "$C2") >"$SB/resync.out" 2>&1 || true
check "resync on host A (exit 0)" grep -q "runs 1200 s ahead of this host" "$SB/resync.out"
check "... the offset is in the directory" [ "$(directory_value dave valixClockOffset)" = 40 ]
expect_login ok "... host B accepts the token's next code" host-b dave "$NEXT"
expect_login fail "... once: host A refuses it" host-a dave "$NEXT"

# --- a hardware HOTP token, fleet-wide ----------------------------------------------------------
# Added by the administrator over bob's app (hosts may not write valixTokenType); its counter is one for the
# fleet: a value used on host A is used on host B, and the look-ahead counts from there.
HOTP_HEX=3132333435363738393031323334353637383930
hotp_value() { oathtool --hotp "$HOTP_HEX" -c "$1"; }
host_admin host-a add-token bob --hotp --force < <(printf '%s\n%s\n%s\n' "$HOTP_HEX" "$(hotp_value 0)" "$(hotp_value 1)") >"$SB/token.out" 2>&1 || true
check "add-token bob --hotp through host A" grep -q "bob's authenticator is now the token (HOTP" "$SB/token.out"
check "... the directory says hotp" [ "$(directory_value bob valixTokenType)" = hotp ]
expect_login ok "... its next value logs in on host B" host-b bob "$(hotp_value 2)"
expect_login fail "... and is used up on host A" host-a bob "$(hotp_value 2)"
expect_login ok "... host A takes the token's next value" host-a bob "$(hotp_value 3)"
check "... the counter is 4 in the directory" [ "$(directory_value bob valixLastStep)" = 4 ]

# --- several authenticators, fleet-wide ------------------------------------------------------
# dave enrolls his phone through host A and adds a tablet through host B (after a current code
# from the phone); each logs in on the other host and is used up on both; the tablet removed
# through host A no longer logs in on host B, and the phone still does.
host_admin host-a reset dave >/dev/null 2>&1
wait_fresh_step
fleet_enroll host-a dave
PHONE=$SECRET
enroll_as_dave() {  # enroll_as_dave HOST ARGS...
  local host=$1
  shift
  pam_env "$VALIX_ENROLL" --config "$SB/etc/$host.conf" --user dave "$@"
}
begin=$(code_ahead "$PHONE" 1 | enroll_as_dave host-b --add tablet --begin --code - --json)
TABLET=$(printf '%s' "$begin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
totp_now "$TABLET" | enroll_as_dave host-b --confirm - >"$SB/add.out" 2>&1 || true
check "dave adds a tablet through host B" grep -q "Authenticator tablet added" "$SB/add.out"
check "... it is in the directory, with its watermark" [ -n "$(directory_value dave valixAuthenticator | grep '^tablet totp ')" -a -n "$(directory_value dave valixAuthenticatorUse | grep '^tablet ')" ]
code=$(code_ahead "$TABLET" 1)
expect_login ok "... the tablet's code logs in on host A" host-a dave "$code"
check "... logged with its name" log_has "totp code accepted from authenticator tablet"
expect_login fail "... once: host B refuses it" host-b dave "$code"
check "... as a replay of the tablet" log_has "authenticator=tablet"
code=$(code_ahead "$PHONE" 2)
expect_login ok "... the phone's next code logs in on host B" host-b dave "$code"
expect_login fail "... once: host A refuses it" host-a dave "$code"
code_ahead "$PHONE" 3 | enroll_as_dave host-a --remove tablet --code - >"$SB/remove.out" 2>&1 || true
check "dave removes the tablet through host A" grep -q "tablet" "$SB/remove.out"
check "... nothing of it is left in the directory" [ -z "$(directory_value dave valixAuthenticator)" -a -z "$(directory_value dave valixAuthenticatorUse)" ]
expect_login fail "... its next code is refused on host B" host-b dave "$(code_ahead "$TABLET" 3)"
expect_login ok "... the phone's works there" host-b dave "$(code_ahead "$PHONE" 4)"

# --- who may read the directory -------------------------------------------------------------
check "an anonymous bind reads no secret" bash -c "! LDAPNOINIT=1 ldapsearch -LLL -x -H '$VALIX_LDAPI_URI' -b '$VALIX_LDAP_BASE' '(objectClass=*)' valixSecret valixBackupHash 2>/dev/null | grep -q '^valix'"
check "a user's own bind reads no secret" bash -c "! LDAPNOINIT=1 ldapsearch -LLL -x -H '$VALIX_LDAPI_URI' -D '$VALIX_LDAP_USER_DN' -y '$SLAPD_DIR/alice.password' -b '$VALIX_LDAP_BASE' '(objectClass=*)' valixSecret valixBackupHash 2>/dev/null | grep -q '^valix'"

finish
