#!/usr/bin/env bash
# valix-enroll --add NAME and --remove NAME (a current code first, the backup codes kept), the
# script form (--add NAME --begin, then --confirm), logins through PAM with each authenticator
# (each with its own replay watermark), and the authenticators in --status.
source "$(dirname "$0")/lib.sh"
: "${VALIX_ENROLL:?run through ctest}"
require_root "valix-enroll acts for other users only as root (--user)"
sandbox_init enroll_authenticators
printf 'account required %s acct=success\n' "$VALIX_TEST_AUTHTOK_MODULE" > "$SB/pam.d/valix-enroll"

INPUT=
source "$(dirname "$0")/enroll_lib.sh"
eout_has() { grep -qF -- "$1" "$SB/eout"; }
state_text() { "$VALIX_TEST_STATE" "$SB/state" alice text; }
wait_next_step() {
  local step=$(( $(date +%s) / 30 ))
  while [ $(( $(date +%s) / 30 )) -eq "$step" ]; do sleep 1; done
}
# The code of SECRET for the step after the current one (within the window, above a watermark
# at the current step).
next_code() { totp_at "$1" $(( $(date +%s) + 30 )); }

secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
mapfile -t backup < <(enroll_test_user alice "$secret")
backup_hashes=$(state_text | grep '^backup')
check "alice is enrolled with ten backup codes" [ "${#backup[@]}" -eq 10 ]

# --- the command line -------------------------------------------------------------------------
expect_rc 2 "--add with --status is a usage error" --user alice --add phone2 --status
expect_rc 2 "--add with --remove is a usage error" --user alice --add phone2 --remove default
expect_rc 2 "--add NAME without --begin needs a terminal" --user alice --add phone2
check "... says to use --begin in scripts" eerr_has "use --add NAME --begin and --confirm CODE in scripts"
expect_rc 2 "--remove --json is a usage error" --user alice --remove phone2 --json

# --- refusals before anything is added --------------------------------------------------------
expect_rc 1 "--add for a user without 2FA is refused" --user bob --add phone2 --begin
check "... told to enroll first" eerr_has "2FA is not set up; run valix-enroll first"
check "... and nothing pending" [ "$(state_field bob exists)" != 1 ]
expect_rc 1 "--add without a current code is refused" --user alice --add phone2 --begin
check "... asks for --code" eerr_has "give the current code from your app with --code"
failures=$(state_field alice failures)
INPUT=000000 expect_rc 1 "--add with a wrong current code is refused" --user alice --add phone2 --begin --code -
check "... the code is not correct" eerr_has "that code is not correct"
check "... and counted as a failure" [ "$(state_field alice failures)" -eq $((failures + 1)) ]
check "... nothing pending" [ "$(state_field alice pending)" = 0 ]
expect_rc 1 "--add of a taken name is refused" --user alice --add default --begin --code 000000
check "... with add_authenticator's reason" eerr_has "there is an authenticator named default already"
check "... nothing pending" [ "$(state_field alice pending)" = 0 ]
expect_rc 1 "--add of a name that is not valid is refused" --user alice --add "phone 2" --begin --code 000000
check "... with the rule for names" eerr_has "an authenticator's name is 1 to 32 letters"
check "... nothing pending" [ "$(state_field alice pending)" = 0 ]
expect_rc 1 "--remove of the only authenticator is refused" --user alice --remove default --code 000000
check "... with remove_authenticator's reason" eerr_has "default is the only authenticator"
check "... neither refusal before the code cost a failure" [ "$(state_field alice failures)" -eq $((failures + 1)) ]

# --- --add NAME --begin, then --confirm -------------------------------------------------------
wait_fresh_step
INPUT=$(totp_now "$secret") expect_rc 0 "--add phone2 --begin with a current code (--code -)" \
  --user alice --add phone2 --begin --code - --json
secret2=$(json 'd["secret"]')
check "... a new secret" [ "${#secret2}" -eq 32 -a "$secret2" != "$secret" ]
check "... the success cleared the failure" [ "$(state_field alice failures)" -eq 0 ]
check "... pending, carrying the name" bash -c "'$VALIX_TEST_STATE' '$SB/state' alice text | grep -qx 'pending_name phone2'"
check "... still enrolled" [ "$(state_field alice enrolled)" = 1 ]
expect_rc 0 "--status while it is pending" --user alice --status
check "... names the pending authenticator" eout_has "An authenticator named phone2 is pending"
expect_rc 1 "--confirm with a wrong code" --user alice --confirm 000000
check "... still pending" [ "$(state_field alice pending)" = 1 ]
expect_rc 0 "--confirm with phone2's first code" --user alice --confirm "$(totp_now "$secret2")"
check "... says it was added" eout_has "Authenticator phone2 added"
check "... no backup codes shown" bash -c "! grep -qE '[0-9a-z]{5}-[0-9a-z]{5}' '$SB/eout'"
check "... the backup codes are unchanged" [ "$(state_text | grep '^backup')" = "$backup_hashes" ]
check "... the first authenticator kept" bash -c "'$VALIX_TEST_STATE' '$SB/state' alice text | grep -qx 'secret $secret'"
check "... phone2 stored as a further authenticator" bash -c "'$VALIX_TEST_STATE' '$SB/state' alice text | grep -q '^authenticator phone2 totp .* $secret2\$'"
check "... nothing pending" [ "$(state_field alice pending)" = 0 ]
expect_rc 0 "--status --json" --user alice --status --json
check "... lists both authenticators, the first first" [ "$(json '",".join(a["name"] for a in d["authenticators"])')" = default,phone2 ]
check "... with their kind" [ "$(json '",".join(a["kind"] for a in d["authenticators"])')" = totp,totp ]
check "... when added" [ "$(json 'd["authenticators"][1]["added_at"][:2]')" = 20 ]
check "... phone2 never used yet (null)" [ "$(json 'd["authenticators"][1]["last_used"]')" = None ]
check "... the fields it had are kept" [ "$(json 'd["enrolled"], d["backup_codes_remaining"], d["pending"]')" = "True 10 False" ]
expect_rc 1 "--add of phone2 again is refused (taken)" --user alice --add phone2 --begin --code 000000
check "... with add_authenticator's reason" eerr_has "there is an authenticator named phone2 already"

# --- both log in through PAM, each with its own watermark -------------------------------------
d1=$(next_code "$secret")
p1=$(next_code "$secret2")
expect_login ok "the first authenticator's code logs in" valix alice "$d1"
expect_login fail "... and is refused the second time" valix alice "$d1"
expect_login ok "phone2's fresh code logs in after it" valix alice "$p1"
check "... the log names phone2" log_has "phone2"
expect_login fail "... and is refused the second time" valix alice "$p1"
expect_login fail "phone2's first code (used by --confirm) is refused" valix alice "$(totp_now "$secret2")"
expect_rc 0 "--status in words" --user alice --status
check "... lists default" grep -qE '^  default \(totp\): added [0-9-]+T.*, last used [0-9-]+T' "$SB/eout"
check "... and phone2, now used" grep -qE '^  phone2 \(totp\): added [0-9-]+T.*, last used [0-9-]+T' "$SB/eout"
expect_rc 0 "--status --json" --user alice --status --json
check "... phone2's last use recorded" [ "$(json 'd["authenticators"][1]["last_used"] is not None')" = True ]

# --- --remove ---------------------------------------------------------------------------------
expect_rc 1 "--remove of the first authenticator is refused" --user alice --remove default --code 000000
check "... with remove_authenticator's reason" eerr_has "default is the authenticator you enrolled with"
expect_rc 1 "--remove of a name not there is refused" --user alice --remove tablet --code 000000
check "... with remove_authenticator's reason" eerr_has "there is no authenticator named tablet"
expect_rc 1 "--remove without a current code is refused" --user alice --remove phone2
check "... asks for --code" eerr_has "give the current code from your app with --code"
check "... phone2 still there" bash -c "'$VALIX_TEST_STATE' '$SB/state' alice text | grep -q '^authenticator phone2 '"
wait_next_step
INPUT=$(next_code "$secret") expect_rc 0 "--remove phone2 with a current code of the first" \
  --user alice --remove phone2 --code -
check "... says it was removed" eout_has "Authenticator phone2 removed"
check "... phone2 gone from the state" bash -c "! '$VALIX_TEST_STATE' '$SB/state' alice text | grep -q 'phone2'"
check "... the backup codes are unchanged" [ "$(state_text | grep '^backup')" = "$backup_hashes" ]
expect_login fail "phone2's fresh code is refused once it is removed" valix alice "$(next_code "$secret2")"
expect_rc 0 "--status --json after --remove" --user alice --status --json
check "... lists the first alone" [ "$(json '",".join(a["name"] for a in d["authenticators"])')" = default ]
wait_next_step
expect_login ok "the first authenticator still logs in" valix alice "$(next_code "$secret")"
expect_login ok "a backup code from before still logs in" valix alice "${backup[0]}"

# --- re-enrolling replaces every authenticator ------------------------------------------------
wait_next_step
INPUT=$(next_code "$secret") expect_rc 0 "tablet added again for the re-enrollment test" \
  --user alice --add tablet --begin --code - --json
tsecret=$(json 'd["secret"]')
expect_rc 0 "... confirmed" --user alice --confirm "$(totp_now "$tsecret")"
wait_next_step
INPUT=$(next_code "$secret") expect_rc 0 "re-enrolling (--begin without --add)" --user alice --begin --code - --json
rsecret=$(json 'd["secret"]')
check "... the pending enrollment carries no name" bash -c "! '$VALIX_TEST_STATE' '$SB/state' alice text | grep -q '^pending_name'"
expect_rc 0 "... confirmed" --user alice --confirm "$(totp_now "$rsecret")" --json
check "... new backup codes" [ "$(json 'len(d["backup_codes"])')" = 10 ]
check "... one authenticator left: the new one" bash -c "! '$VALIX_TEST_STATE' '$SB/state' alice text | grep -q '^authenticator'"
expect_login fail "... tablet's fresh code is refused" valix alice "$(next_code "$tsecret")"

# --- --add NAME on a terminal ---------------------------------------------------------------
# drive SCRIPT ARGS...: valix-enroll --user alice ARGS under expect with SCRIPT (Tcl; $env(...)
# for values). Transcript in $SB/eout; RC is valix-enroll's exit status.
drive() {
  local script=$1
  shift
  {
    echo 'set timeout 30'
    echo "spawn -noecho \$env(VALIX_ENROLL) --config \$env(SB)/etc/valix.conf --user alice $*"
    printf '%s\n' "$script"
    echo 'catch { expect eof }'
    echo 'lassign [wait] pid spawnid os_error value'
    echo 'exit $value'
  } > "$SB/script.exp"
  set +e
  SB="$SB" pam_env expect -f "$SB/script.exp" >"$SB/eout" 2>"$SB/eerr"
  RC=$?
  set -e
}
prompt='Enter the 6-digit code from your authenticator app: '
wait_next_step
CURRENT=$(next_code "$rsecret") drive "
expect \"Enter the current code from your app: \"; send \"\$env(CURRENT)\\r\"
expect -re {key by hand: ([A-Z2-7 ]+)\r?\n} { set key [string map {\" \" \"\"} \$expect_out(1,string)] }
expect \"$prompt\"; send \"000000\\r\"
expect \"That code is not correct\"
expect \"$prompt\"; send \"[exec oathtool --totp -b \$key 2>/dev/null]\\r\"
expect \"Authenticator phone3 added\"
" --add phone3 --qr utf8
check "interactive --add phone3 (a current code, then the QR code and a first code): exit 0" [ "$RC" -eq 0 ]
check "... the QR code was drawn" grep -q '▀' "$SB/eout"
psecret=$(sed -n 's/.*key by hand: \([A-Z2-7 ]*\).*/\1/p' "$SB/eout" | tr -d ' \r' | head -n 1)
check "... phone3 stored with the secret shown" bash -c "'$VALIX_TEST_STATE' '$SB/state' alice text | grep -q '^authenticator phone3 totp .* $psecret\$'"
check "... no new backup codes" [ "$(state_field alice backup_left)" = 10 ]
expect_login ok "... phone3's next code logs in" valix alice "$(next_code "$psecret")"
drive "
expect \"Enter the current code from your app: \"; send \"\x04\"
" --add phone4
check "interactive --add without a current code: exit 1" [ "$RC" -eq 1 ]
check "... nothing added" bash -c "! '$VALIX_TEST_STATE' '$SB/state' alice text | grep -q '^authenticator phone4'"

finish
