#!/usr/bin/env bash
# valix-enroll's interactive flow under expect, for what test_enroll.sh's happy path does not
# reach: three wrong codes, end of input, the QR styles, and an enrolled user re-enrolling
# (a current code first; the new secret replaces the old one only once confirmed).
source "$(dirname "$0")/lib.sh"
: "${VALIX_ENROLL:?run through ctest}"
require_root "valix-enroll acts for other users only as root (--user)"
command -v expect >/dev/null || { echo "SKIP: expect is not installed"; exit 77; }
sandbox_init enroll_interactive
printf 'account required %s acct=success\n' "$VALIX_TEST_AUTHTOK_MODULE" > "$SB/pam.d/valix-enroll"

# drive USER SCRIPT [ARGS...]: runs valix-enroll --user USER ARGS under expect with SCRIPT
# (Tcl; $env(...) for values). Transcript in $SB/eout; RC is valix-enroll's exit status.
drive() {
  local user=$1 script=$2
  shift 2
  {
    echo 'set timeout 30'
    echo "spawn -noecho \$env(VALIX_ENROLL) --config \$env(SB)/etc/valix.conf --user $user $*"
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
out_contains() { grep -qaF -- "$1" "$SB/eout"; }
prompt='Enter the 6-digit code from your authenticator app: '
# The key shown for typing by hand, without its spaces.
shown_key() { sed -n 's/.*key by hand: \([A-Z2-7 ]*\).*/\1/p' "$SB/eout" | tr -d ' \r' | head -n 1; }

# --- three wrong codes: nothing turned on ----------------------------------------------------
drive alice "
expect \"$prompt\"; send \"000000\r\"
expect \"$prompt\"; send \"111111\r\"
expect \"$prompt\"; send \"222222\r\"
"
check "three wrong codes: exit 1" [ "$RC" -eq 1 ]
check "each wrong code is told" [ "$(grep -caF 'That code is not correct' "$SB/eout")" -eq 2 ]
check "the last one ends it" out_contains "2FA was not turned on"
check "nothing stored" [ "$(state_field alice exists)" != 1 ]
key=$(shown_key)
now=$(date +%s)
leaked=0
for t in $((now - 60)) $((now - 30)) "$now" $((now + 30)); do
  if out_contains "$(totp_at "$key" "$t")"; then leaked=1; fi
done
check "the expected code is never shown" [ "$leaked" -eq 0 ]

# --- end of input at the prompt --------------------------------------------------------------
drive alice "
expect \"$prompt\"; send \"\x04\"
"
check "end of input: exit 1" [ "$RC" -eq 1 ]
check "... 2FA not turned on" out_contains "2FA was not turned on"
check "... nothing stored" [ "$(state_field alice exists)" != 1 ]

# --- QR styles -------------------------------------------------------------------------------
drive alice "
expect \"$prompt\"; send \"\x04\"
" --qr ansi
check "--qr ansi: background colours, no half blocks" bash -c "grep -qa $'\e\\[4[07]m' '$SB/eout' && ! grep -qa '▀' '$SB/eout'"
drive alice "
expect \"$prompt\"; send \"\x04\"
" --qr none
check "--qr none: no QR code, the key and URI still shown" \
  bash -c "! grep -qa '▀' '$SB/eout' && grep -qa 'key by hand' '$SB/eout' && grep -qa 'otpauth://totp/' '$SB/eout'"
drive alice "" --qr sideways
check "--qr with an unknown style: exit 2" [ "$RC" -eq 2 ]

# --- an enrollment made while a run waits at its prompt is not replaced ------------------------
# The run decided that carol needed no current code before prompting; by the time she typed
# the code, she had enrolled elsewhere (at login, another run). Storing the waiting run's
# secret would replace that enrollment without its code.
OTHER=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
OTHER=$OTHER drive carol "
expect -re {key by hand: ([A-Z2-7 ]+)\r?\n} { set key [string map {\" \" \"\"} \$expect_out(1,string)] }
expect \"$prompt\"
exec -ignorestderr \$env(VALIX_TEST_STATE) \$env(SB)/state carol write \$env(OTHER) >/dev/null
send \"[exec oathtool --totp -b \$key 2>/dev/null]\r\"
"
check "an enrollment made meanwhile: refused (exit 1)" [ "$RC" -eq 1 ]
check "... told why" out_contains "your 2FA settings changed while valix-enroll was running"
check "... the other enrollment stays" grep -qF "$OTHER" "$SB/state/carol.state"
check "... no backup codes shown" bash -c "! grep -qa 'Your backup codes' '$SB/eout'"

# --- an enrolled user re-enrolls -------------------------------------------------------------
OLD=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
enroll_test_user bob "$OLD" >/dev/null
drive bob "
expect \"Enter the current code from your app: \"; send \"000000\r\"
"
check "re-enrolling: a wrong current code is refused (exit 1)" [ "$RC" -eq 1 ]
check "... told so" grep -qaF "that code is not correct" "$SB/eerr" "$SB/eout"
check "... no QR code shown" bash -c "! grep -qa 'key by hand' '$SB/eout'"
check "... counted as a failure, like a login" [ "$(state_field bob failures)" = 1 ]
check "... the old secret stays" grep -qF "$OLD" "$SB/state/bob.state"

wait_fresh_step
drive bob "
expect \"Enter the current code from your app: \"; send \"$(totp_now "$OLD")\r\"
expect -re {key by hand: ([A-Z2-7 ]+)\r?\n} { set key [string map {\" \" \"\"} \$expect_out(1,string)] }
expect \"$prompt\"; send \"[exec oathtool --totp -b \$key 2>/dev/null]\r\"
expect \"Done. Your account now requires\"
"
check "re-enrolling with the current code, then the new code: exit 0" [ "$RC" -eq 0 ]
new=$(shown_key)
check "the new secret replaced the old one" bash -c "grep -qF '$new' '$SB/state/bob.state' && ! grep -qF '$OLD' '$SB/state/bob.state'"
check "failures reset" [ "$(state_field bob failures)" = 0 ]
expect_login fail "the old secret no longer logs in" valix bob "$(totp_at "$OLD" $(( $(date +%s) + 30 )))"
expect_login ok "the new secret logs in" valix bob "$(totp_at "$new" $(( $(date +%s) + 30 )))"

# The current code that unlocks a re-enrollment is used up, as at login.
step=$(( $(date +%s) / 30 ))
while [ $(( $(date +%s) / 30 )) -eq "$step" ]; do sleep 1; done
code=$(totp_at "$new" $(( $(date +%s) + 30 )))
rc_of() { set +e; pam_env "$VALIX_ENROLL" --config "$SB/etc/valix.conf" --user bob "$@" >"$SB/eout" 2>"$SB/eerr" </dev/null; echo $?; set -e; }
check "--begin --code with a fresh code: accepted" [ "$(rc_of --begin --code "$code" --json)" -eq 0 ]
check "the same code again is refused (replay)" [ "$(rc_of --begin --code "$code" --json)" -eq 1 ]
check "... the same code cannot make new backup codes either" [ "$(rc_of --regenerate-backup-codes --code "$code")" -eq 1 ]

finish
