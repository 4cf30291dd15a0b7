#!/usr/bin/env bash
# valix-enroll: non-interactive and interactive enrollment, re-enrollment, backup codes,
# the QR code (decoded by zbarimg), the account prerequisite, and its file boundaries.
source "$(dirname "$0")/lib.sh"
: "${VALIX_ENROLL:?run through ctest}"
require_root "valix-enroll acts for other users only as root (--user)"
sandbox_init enroll
printf 'account required %s acct=success\n' "$VALIX_TEST_AUTHTOK_MODULE" > "$SB/pam.d/valix-enroll"

source "$(dirname "$0")/enroll_lib.sh"
# Codes of the steps up to the next one were used already: wait for a new step.
wait_next_step() {
  local step=$(( $(date +%s) / 30 ))
  while [ $(( $(date +%s) / 30 )) -eq "$step" ]; do sleep 1; done
}

# --- text echoed from the command line -------------------------------------------------------
# C1 controls (0x9b is CSI) in an echoed argument become '?', like every byte >= 0x80.
expect_rc 2 "an unknown option with C1 control bytes is a usage error" $'--x\x9b2J\xc2\x9b'
check "... echoed with '?' for each byte >= 0x80" eerr_has "unknown option '--x?2J??'"
check "... no byte >= 0x80 reaches the terminal" bash -c "! LC_ALL=C grep -qaP '[\x80-\xff]' '$SB/eerr'"
expect_rc 1 "--user with C1 control bytes is refused" --user $'x\x9by' --status
check "... echoed with '?'" eerr_has "'x?y' is not a valid user name"

# --- begin / confirm ----------------------------------------------------------------------
expect_rc 0 "--begin --json" --user alice --begin --json
secret=$(json 'd["secret"]')
uri=$(json 'd["uri"]')
check "JSON has the secret (160-bit base32)" [ "${#secret}" -eq 32 ]
check "URI has issuer, label and parameters" [ "$uri" = "otpauth://totp/Valix%20Test:alice@$(hostname)?secret=$secret&issuer=Valix%20Test&algorithm=SHA1&digits=6&period=30" ]
check "pending, not yet enrolled" [ "$(state_field alice pending)/$(state_field alice enrolled)" = "1/0" ]
expect_login fail "a pending enrollment does not challenge logins yet (not enrolled)" valix alice 000000
check "... it is treated as not enrolled" log_lacks "wrong code"
wait_fresh_step
expect_rc 1 "--confirm with a wrong code" --user alice --confirm 000000
check "wrong code explained" eerr_has "that code is not correct"
check "the expected code is not printed" bash -c "! grep -q '$(totp_now "$secret")' '$SB/eout' '$SB/eerr'"
check "still pending after a wrong code" [ "$(state_field alice pending)/$(state_field alice enrolled)" = "1/0" ]
expect_rc 0 "--confirm with the code from the app" --user alice --confirm "$(totp_now "$secret")" --json
mapfile -t codes < <(json '"\n".join(d["backup_codes"])')
check "ten backup codes in the JSON" [ "${#codes[@]}" -eq 10 ]
check "backup code format" bash -c "printf '%s\n' ${codes[*]} | grep -qvE '^[0-9a-z]{5}-[0-9a-z]{5}$' && exit 1 || exit 0"
check "enrolled, pending cleared" [ "$(state_field alice pending)/$(state_field alice enrolled)" = "0/1" ]
expect_login fail "the enrollment code cannot be replayed at login" valix alice "$(totp_now "$secret")"
expect_login ok "next code logs in through pam_valix" valix alice "$(totp_at "$secret" $(( $(date +%s) + 30 )))"
expect_login ok "a backup code from valix-enroll logs in" valix alice "${codes[0]}"
expect_rc 1 "--confirm with nothing pending" --user alice --confirm 123456
check "told to --begin first" eerr_has "run valix-enroll --begin first"

# --- status -------------------------------------------------------------------------------
expect_rc 0 "--status --json" --user alice --status --json
check "status: enrolled" [ "$(json 'd["enrolled"]')" = True ]
check "status: 9 backup codes left" [ "$(json 'd["backup_codes_remaining"]')" = 9 ]
check "status shows no secret" bash -c "! grep -q '$secret' '$SB/eout'"
echo "alice2:x:1001:1001:Alice again:$SB/home/alice:/bin/sh" >> "$SB/etc/passwd"
expect_rc 0 "--user with a second login name of alice's uid" --user alice2 --status --json
check "it reaches alice's enrollment" [ "$(json 'd["enrolled"]')" = True ]
check "under alice's name" [ "$(json 'd["user"]')" = alice ]
sed -i '/^alice2:/d' "$SB/etc/passwd"
expect_rc 0 "--status in words" --user bob --status
check "bob: not set up" grep -q "2FA is not set up for bob" "$SB/eout"

# --- a change made between --begin's decision and its update --------------------------------
# --begin decides without the lock whether a current code is needed, then stores under the
# lock; the enrollment it saw is checked again there. An enrollment made in between (at login,
# or by another run) is neither replaced nor given a pending one: --begin refuses.
rm -f "$SB/state/bob.state"
other_secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
with_change_before_lock "'$VALIX_TEST_STATE' '$SB/state' bob write $other_secret >/dev/null" \
  expect_rc 1 "--begin refuses when bob enrolled while it was deciding" --user bob --begin --json
check "... says the settings changed" eerr_has "your 2FA settings changed while valix-enroll was running"
check "... the enrollment made meanwhile is kept" grep -q "secret $other_secret" "$SB/state/bob.state"
check "... and no enrollment is pending" [ "$(state_field bob pending)" = 0 ]
rm -f "$SB/state/bob.state"

# --- re-enrolling and regenerating need a current code ------------------------------------
expect_rc 1 "re-enrolling without a current code is refused" --user alice --begin --json
check "asks for --code" eerr_has "give the current code from your app with --code"
expect_rc 1 "re-enrolling with a wrong code is refused" --user alice --begin --code 000000 --json
expect_rc 1 "re-enrolling with a backup code is refused (TOTP code required)" --user alice --begin --code "${codes[1]}" --json
wait_next_step
expect_rc 0 "re-enrolling with the current code starts a new enrollment" --user alice --begin --code "$(totp_at "$secret" $(( $(date +%s) + 30 )))" --json
secret2=$(json 'd["secret"]')
check "a new secret" [ "$secret2" != "$secret" ]
check "the old enrollment stays active until the new one is confirmed" [ "$(state_field alice enrolled)" = 1 ]
expect_rc 0 "confirming the new secret" --user alice --confirm "$(totp_now "$secret2")" --json
mapfile -t codes2 < <(json '"\n".join(d["backup_codes"])')
expect_login fail "old backup codes are gone after re-enrolling" valix alice "${codes[2]}"
expect_login ok "new secret logs in" valix alice "$(totp_at "$secret2" $(( $(date +%s) + 30 )))"
expect_rc 1 "--regenerate-backup-codes needs a code" --user alice --regenerate-backup-codes
wait_next_step
expect_rc 0 "--regenerate-backup-codes with a current code" --user alice --regenerate-backup-codes --code "$(totp_at "$secret2" $(( $(date +%s) + 30 )))"
check "new codes printed" grep -qE '^ +10\. [0-9a-z]{5}-[0-9a-z]{5}' "$SB/eout"
check "the code used is not replayable" [ "$(state_field alice last_step)" -eq $(( $(date +%s) / 30 + 1 )) ]
expect_login fail "old backup codes stop working" valix alice "${codes2[0]}"
new_code=$(grep -oE '^ +1\. [0-9a-z]{5}-[0-9a-z]{5}' "$SB/eout" | awk '{print $2}')
unused_code=$(grep -oE '^ +2\. [0-9a-z]{5}-[0-9a-z]{5}' "$SB/eout" | awk '{print $2}')
expect_login ok "regenerated backup code works" valix alice "$new_code"
wait_next_step
expect_rc 0 "--regenerate-backup-codes --json" --user alice --regenerate-backup-codes --json --code "$(totp_at "$secret2" $(( $(date +%s) + 30 )))"
mapfile -t codes3 < <(json '"\n".join(d["backup_codes"])')
check "... stdout is one JSON object with ten backup codes" [ "${#codes3[@]}" -eq 10 ]
expect_login fail "... the codes it replaced stop working" valix alice "$unused_code"
expect_login ok "... a code from the JSON works" valix alice "${codes3[0]}"
expect_rc 2 "--json without --begin, --confirm, --status or --regenerate-backup-codes" --user alice --json

# --- a pending enrollment cannot be guessed at -------------------------------------------
# Whoever has alice's shell but not her phone tries codes at the re-enrollment she began:
# every try is counted before it is judged, and after three the pending enrollment is gone,
# the right code with it. Her enrollment stays as it was.
wait_next_step
expect_rc 0 "alice begins a re-enrollment" --user alice --begin --code "$(totp_at "$secret2" $(( $(date +%s) + 30 )))" --json
secret3=$(json 'd["secret"]')
wrong3=$(printf '%06d' $(( (10#$(totp_now "$secret3") + 500000) % 1000000 )))
expect_rc 1 "a wrong code at the pending enrollment" --user alice --confirm "$wrong3"
check "... is counted" [ "$(state_field alice pending_attempts)" = 1 ]
INPUT="$wrong3" expect_rc 1 "a second wrong code" --user alice --confirm -
check "... is counted (a code on standard input too)" [ "$(state_field alice pending_attempts)" = 2 ]
expect_rc 1 "a third wrong code" --user alice --confirm "$wrong3"
check "... drops the pending enrollment" eerr_has "too many wrong codes: the pending enrollment was dropped"
check "... nothing pending, still enrolled" [ "$(state_field alice pending)/$(state_field alice enrolled)" = "0/1" ]
expect_rc 1 "the right code then confirms nothing" --user alice --confirm "$(totp_now "$secret3")"
check "... told to --begin first" eerr_has "run valix-enroll --begin first"
check "... the enrollment is the one before" [ "$(state_field alice enrolled)/$(state_field alice pending)" = "1/0" ]
expect_login ok "... and its backup codes still work" valix alice "${codes3[1]}"

# --- expiry -------------------------------------------------------------------------------
expect_rc 0 "bob begins" --user bob --begin --json
bsecret=$(json 'd["secret"]')
edit_state bob 's/^pending_expires .*/pending_expires 1/'
expect_rc 1 "an expired enrollment cannot be confirmed" --user bob --confirm "$(totp_now "$bsecret")"
check "told it expired" eerr_has "expired"
# With nothing else to keep, the store removes the state file with it (it used to stay, empty).
check "expired enrollment removed, and bob's emptied state file with it" [ ! -e "$SB/state/bob.state" ]

# --- files handed to the user -------------------------------------------------------------
# Root acting for a user creates these files as that user (uid, gid and groups), so they go
# to a directory the sandbox's users can reach and write (the build tree may not be).
FILES=$(mktemp -d /tmp/valix-enroll-files.XXXXXX)
trap 'rm -rf "$FILES"' EXIT
chmod 1777 "$FILES"
without_library "$VALIX_LIBQRENCODE_SONAME" expect_rc 3 "without libqrencode (loaded on first use) a QR code cannot be drawn: internal error" \
  --user carol --begin --json --qr-svg "$FILES/carol.svg"
check "... says which library is missing" eerr_has "cannot load $VALIX_LIBQRENCODE_SONAME"
check "... and writes no state" [ ! -e "$SB/state/carol.state" ]
check "... and no image" [ ! -e "$FILES/carol.svg" ]
expect_rc 0 "--begin with --qr-svg" --user carol --begin --json --qr-svg "$FILES/carol.svg"
curi=$(json 'd["uri"]')
csecret=$(json 'd["secret"]')
check "SVG written by carol (uid 1003), mode 0600" [ "$(stat -c '%u %a' "$FILES/carol.svg")" = "1003 600" ]
rsvg-convert -o "$SB/carol.png" "$FILES/carol.svg"
check "zbarimg reads back the exact URI from the QR code" [ "$(zbarimg --raw -q "$SB/carol.png")" = "$curi" ]
expect_rc 1 "--qr-svg never overwrites" --user carol --begin --json --qr-svg "$FILES/carol.svg"
check "... and a failed --begin leaves the pending enrollment as it was" grep -q "pending_secret $csecret" "$SB/state/carol.state"
echo keep > "$FILES/exists.txt"
ln -s "$FILES/victim.txt" "$FILES/link.txt"
wait_fresh_step
expect_rc 0 "--backup-codes-file: a new file" --user carol --confirm "$(totp_now "$csecret")" --backup-codes-file "$FILES/codes.txt"
check "codes file written by carol (uid 1003), mode 0600" [ "$(stat -c '%u %a' "$FILES/codes.txt")" = "1003 600" ]
check "codes file holds 10 codes" [ "$(grep -cE '^[0-9a-z]{5}-[0-9a-z]{5}$' "$FILES/codes.txt")" -eq 10 ]
expect_rc 0 "dave enrolls" --user dave --begin --json
dsecret=$(json 'd["secret"]')
expect_rc 0 "--backup-codes-file refuses an existing file (codes still shown)" --user dave --confirm "$(totp_now "$dsecret")" --backup-codes-file "$FILES/exists.txt"
check "existing file untouched" [ "$(cat "$FILES/exists.txt")" = keep ]
check "explains and shows the codes instead" eerr_has "could not save the backup codes"
expect_rc 0 "erin enrolls" --user erin --begin --json
esecret=$(json 'd["secret"]')
expect_rc 0 "--backup-codes-file refuses to follow a symlink" --user erin --confirm "$(totp_now "$esecret")" --backup-codes-file "$FILES/link.txt"
check "symlink target not created" [ ! -e "$FILES/victim.txt" ]
# A directory the user cannot write stays out of reach although root runs the program: a
# symlink the user planted (docs -> a directory only root may write) leads nowhere.
mkdir -m 700 "$FILES/rootonly"
ln -s "$FILES/rootonly" "$FILES/docs"
expect_rc 0 "root regenerating erin's codes into a symlinked root-only directory" --user erin \
  --regenerate-backup-codes --code "$(totp_at "$esecret" $(( $(date +%s) + 30 )))" --backup-codes-file "$FILES/docs/codes.txt"
check "... creates nothing there" [ -z "$(ls -A "$FILES/rootonly")" ]
check "... says so and shows the codes instead" eerr_has "could not save the backup codes"
check "... says why" eerr_has "Permission denied"

# --- the state directory boundary ---------------------------------------------------------
cp "$SB/state/bob.state" "$SB/bob.before" 2>/dev/null || true
rm -f "$SB/state/carol.state"
ln -s "$SB/decoy.state" "$SB/state/carol.state"
echo decoy > "$SB/decoy.state"; chmod 600 "$SB/decoy.state"
expect_rc 3 "a symlink planted as the state file is refused" --user carol --status
check "decoy untouched" [ "$(cat "$SB/decoy.state")" = decoy ]
expect_rc 3 "... for --begin too" --user carol --begin --json
check "decoy still untouched" [ "$(cat "$SB/decoy.state")" = decoy ]
check "bob's state (or its absence) untouched by everyone else's enrollments" \
  bash -c "if [ -e '$SB/bob.before' ]; then cmp -s '$SB/state/bob.state' '$SB/bob.before'; else [ ! -e '$SB/state/bob.state' ]; fi"
expect_rc 1 "--user with an invalid name" --user "../etc/passwd" --begin
expect_rc 1 "--user with an unknown name" --user nosuchuser --begin
expect_rc 2 "unknown option" --frobnicate
expect_rc 2 "two actions" --begin --status
expect_rc 2 "interactive mode needs a terminal" --user alice

# --- prerequisite: a permanent password ---------------------------------------------------
printf 'account required %s acct=new_authtok\n' "$VALIX_TEST_AUTHTOK_MODULE" > "$SB/pam.d/valix-enroll"
expect_rc 1 "a temporary password (PAM_NEW_AUTHTOK_REQD) is refused" --user erin --begin --json
check "told to run passwd first" eerr_has "Run passwd to set a permanent password"
printf 'account required %s acct=expired\n' "$VALIX_TEST_AUTHTOK_MODULE" > "$SB/pam.d/valix-enroll"
expect_rc 1 "an expired account is refused" --user erin --begin --json
printf 'account required %s acct=success\n' "$VALIX_TEST_AUTHTOK_MODULE" > "$SB/pam.d/valix-enroll"

# The real thing: a system account whose password was expired with chage -d 0, checked by
# pam_unix (no nss_wrapper: the account is real, removed at exit).
tuser=valixtmp$$
cleanup() {
  userdel -r "$tuser" >/dev/null 2>&1 || true
  rm -rf "$FILES"
}
trap cleanup EXIT
if useradd -m "$tuser" 2>/dev/null && echo "$tuser:Temp-Passw0rd" | chpasswd && chage -d 0 "$tuser"; then
  printf 'account required pam_unix.so\n' > "$SB/pam.d/valix-enroll"
  set +e
  env LD_PRELOAD="${VALIX_SANITIZER_PRELOAD:+$VALIX_SANITIZER_PRELOAD:}$PAM_WRAPPER_LIB" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$SB/pam.d" \
    "$VALIX_ENROLL" --config "$SB/etc/valix.conf" --user "$tuser" --begin --json >"$SB/eout" 2>"$SB/eerr" </dev/null
  RC=$?
  set -e
  check "pam_unix: a password forced to change (chage -d 0) is refused" [ "$RC" -eq 1 ]
  check "... with the passwd advice" eerr_has "Run passwd"
  check "... and nothing stored" [ ! -e "$SB/state/$tuser.state" ]

  # Privilege boundary: a setuid copy run by an ordinary user ignores --config and --user.
  install -m 4755 -o root "$VALIX_ENROLL" "$SB/valix-enroll-setuid"
  set +e
  setpriv --reuid="$tuser" --regid="$tuser" --init-groups "$SB/valix-enroll-setuid" --user alice --status >"$SB/eout" 2>"$SB/eerr"
  RC=$?
  set -e
  check "setuid: --user refused for a non-root caller" [ "$RC" -eq 1 ]
  check "... with the reason" eerr_has "only root may use --user"
  set +e
  setpriv --reuid="$tuser" --regid="$tuser" --init-groups "$SB/valix-enroll-setuid" --config "$SB/etc/valix.conf" --status >"$SB/eout" 2>"$SB/eerr"
  RC=$?
  set -e
  check "setuid: --config is ignored" eerr_has "--config is ignored when run setuid"
  system_conf=$("$VALIX_ENROLL" --help | sed -n 's/.*(default: \(.*\);$/\1/p')
  if [ -e "$system_conf" ]; then pass "setuid: (system valix.conf present; boundary shown above)"; else
    check "setuid: falls back to the compiled-in valix.conf ($system_conf), never the caller's" eerr_has "$system_conf"; fi
  check "setuid: nothing written to the sandbox state for the caller" [ ! -e "$SB/state/$tuser.state" ]
  rm -f "$SB/valix-enroll-setuid"
else
  echo "# SKIP: could not create a throwaway system user"
fi
printf 'account required %s acct=success\n' "$VALIX_TEST_AUTHTOK_MODULE" > "$SB/pam.d/valix-enroll"

# --- interactive, driven by expect --------------------------------------------------------
rm -f "$SB/state/carol.state"
wait_fresh_step
pam_env expect -f - <<EXPECT >"$SB/eout" 2>"$SB/eerr" && RC=0 || RC=$?
set timeout 30
spawn $VALIX_ENROLL --config $SB/etc/valix.conf --user carol --qr utf8
expect -re {key by hand: ([A-Z2-7 ]+)\r?\n} { set key [string map {" " ""} \$expect_out(1,string)] }
expect "Enter the 6-digit code from your authenticator app: "
send "000000\r"
expect "That code is not correct"
expect "Enter the 6-digit code from your authenticator app: "
send "[exec oathtool --totp -b \$key 2>/dev/null]\r"
expect { "Done. Your account now requires" { } timeout { exit 2 } eof { exit 3 } }
catch { expect eof }
catch wait result
exit [lindex \$result 3]
EXPECT
check "interactive enrollment (one wrong code, then the right one) exits 0" [ "$RC" -eq 0 ]
check "QR code drawn with half blocks" grep -q '▀' "$SB/eout"
check "reference wording: open your authenticator app" grep -q "Open your authenticator app" "$SB/eout"
check "numbered backup codes" grep -qE '^ +10\. [0-9a-z]{5}-[0-9a-z]{5}' "$SB/eout"
check "advice on keeping them" grep -q "password manager, or a printed sheet in a safe" "$SB/eout"

# --- output that cannot be written --------------------------------------------------------
# Backup codes nobody saw (stdout on a full disk) must not end in success.
expect_rc 0 "bob begins again" --user bob --begin --json
bsecret=$(json 'd["secret"]')
wait_fresh_step
set +e
pam_env "$VALIX_ENROLL" --config "$SB/etc/valix.conf" --user bob --confirm "$(totp_now "$bsecret")" \
  >/dev/full 2>"$SB/eerr" </dev/null
RC=$?
set -e
check "backup codes written to a full disk (/dev/full): exit 3, not success" [ "$RC" -eq 3 ]
check "... and the user is told to make new ones" eerr_has "make new ones with valix-enroll --regenerate-backup-codes"

finish
