#!/usr/bin/env bash
# pam_valix in a PAM application that runs as the user, as a screen locker does (xscreensaver,
# i3lock, swaylock, kscreenlocker): pamtester run by a throwaway system user through setpriv.
# The module cannot read the root-only state, so it has the setuid helper valix-check check
# the user's own code: a user who is not enrolled passes on the rest of the stack, an
# enrolled one is asked for the code, with the replay and lockout rules of any login; another
# account, or a helper that is not root's setuid program, is refused.
#
# Needs root: it creates throwaway system users, installs a setuid copy of valix-check and,
# for the length of the test, the compiled-in valix.conf (pointing at the sandbox state
# directory), which the setuid helper cannot be steered away from. It skips rather than touch
# a valix.conf that already exists. pamtester runs under pam_wrapper (its service files, and
# the module's syslog lines in its output) but with the real name service, which the helper
# uses too.
source "$(dirname "$0")/lib.sh"
: "${VALIX_CHECK:?run through ctest}" "${VALIX_ENROLL:?run through ctest}"
require_root "installing a setuid valix-check and running pamtester as another user"
sandbox_init module_unprivileged

user=valixcu$$
other=valixco$$
bindir=$(mktemp -d /tmp/valix-check.XXXXXX)
cleanup() {
  compiled_in_config_remove
  rm -rf "$bindir"
  userdel -r "$user" >/dev/null 2>&1 || true
  userdel -r "$other" >/dev/null 2>&1 || true
}
trap cleanup EXIT
# The helper's configuration: the compiled-in valix.conf, root-owned, on the sandbox state
# directory, with a fail delay of its own (the module's valix.conf has none).
compiled_in_config_create 's/^fail_delay_ms = 0$/fail_delay_ms = 1000/'
system_conf=$SYSTEM_CONF

for u in "$user" "$other"; do
  if ! useradd -m -s /bin/sh "$u" 2>/dev/null; then
    echo "SKIP: could not create a throwaway system user"
    exit 77
  fi
done
uid=$(id -u "$user")
caller=$user  # lib.sh's login has a local $user (the name authenticated): pam_env uses this
install -m 4755 -o root -g root "$VALIX_CHECK" "$bindir/valix-check"
install -m 755 -o root -g root "$VALIX_CHECK" "$bindir/valix-check-plain"
ln -s "$bindir/valix-check" "$bindir/valix-check-link"
chmod 755 "$bindir"
mkdir -m 1777 "$bindir/asan"

# The services: pam_valix decides for an enrolled user, the rest of the stack for one it
# ignores, every failure ends the authentication (as in the shipped sshd example).
service() {  # service NAME MODULE_ARGS [PREFIX_LINE]
  {
    [ -z "${3:-}" ] || printf '%s\n' "$3"
    echo "auth [success=done ignore=ignore default=die] $VALIX_MODULE config=$SB/etc/valix.conf debug $2"
    echo "auth required pam_permit.so"
    echo "account required pam_permit.so"
  } > "$SB/pam.d/$1"
}
service locker "check_helper=$bindir/valix-check"
service plain "check_helper=$bindir/valix-check-plain"
service link "check_helper=$bindir/valix-check-link"
service missing "check_helper=$bindir/no-such-helper"

# lib.sh's login and expect_login run pamtester through pam_env: here as $user, with
# pam_wrapper only (the helper and the module must agree on who the user is: the real name
# service, not nss_wrapper's sandbox users).
pam_env() {
  local asan=()
  if [ -n "${VALIX_SANITIZER_PRELOAD:-}" ]; then
    asan=("ASAN_OPTIONS=log_path=$bindir/asan/sanitizer:detect_leaks=1"
          "UBSAN_OPTIONS=log_path=$bindir/asan/sanitizer:print_stacktrace=1:halt_on_error=1")
  fi
  setpriv --reuid="$caller" --regid="$caller" --init-groups \
    env "${asan[@]}" LD_PRELOAD="${VALIX_SANITIZER_PRELOAD:+$VALIX_SANITIZER_PRELOAD:}$PAM_WRAPPER_LIB" \
    PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$SB/pam.d" PAM_WRAPPER_DEBUGLEVEL=2 "$@"
}
# as_user_check ARGS...: the setuid helper run directly by $user, answer from $ANSWER
# (none when unset); RC, $SB/hout, $SB/herr.
as_user_check() {
  set +e
  if [ -n "${ANSWER+x}" ]; then
    printf '%s\n' "$ANSWER" | setpriv --reuid="$user" --regid="$user" --init-groups \
      "$bindir/valix-check" "$@" >"$SB/hout" 2>"$SB/herr"
  else
    setpriv --reuid="$user" --regid="$user" --init-groups \
      "$bindir/valix-check" "$@" >"$SB/hout" 2>"$SB/herr" </dev/null
  fi
  RC=$?
  set -e
}
no_prompt() { ! out_has "Verification code:"; }
failures() { state_field "$user" failures; }

SECRET=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
OTHER_SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ

# --- not enrolled -----------------------------------------------------------------------------
expect_login ok "not enrolled, not required: the user's own screen unlocks (the stack decides)" \
  locker "$user"
check "... without a code prompt" no_prompt
check "... the helper said so, and the module ignored" log_has "not enrolled and not required to use 2FA: ignored"
check "... nothing stored" [ ! -e "$SB/state/$user.state" ]

"$VALIX_TEST_STATE" "$SB/state" "$user" flag
expect_login fail "required (valix-admin require) but not enrolled: denied" locker "$user"
check "... with the 'not set up' message" out_has "has not been set up"
check "... no enrollment at login for an unprivileged caller" no_prompt
check "... logged" log_has "no enrollment through an unprivileged caller"
check "... the flag is left for a privileged login" [ "$(state_field "$user" required)" = 1 ]
rm "$SB/state/$user.state"

# --- another account is never the caller's to check --------------------------------------------
expect_login fail "the user authenticating another account (not enrolled) is denied, not ignored" \
  locker "$other"
check "... logged as such" log_has "unprivileged caller uid $uid cannot check 2FA for $other"
check "... without a prompt" no_prompt
expect_login fail "... root's account too" locker root
expect_login fail "... a name with no account too" locker "nosuch$$"
enroll_test_user "$other" "$OTHER_SECRET" >/dev/null
cp "$SB/state/$other.state" "$SB/other.before"
wait_fresh_step
expect_login fail "... and an enrolled other account, even with its right code" \
  locker "$other" "$(totp_now "$OTHER_SECRET")"
check "... the other account's state is unchanged" cmp -s "$SB/state/$other.state" "$SB/other.before"
ANSWER=$(totp_now "$OTHER_SECRET") as_user_check "$other"
check "valix-check run directly for another account refuses (exit 2)" [ "$RC" -eq 2 ]
check "... says why" grep -qF "may check only their own account" "$SB/herr"
check "... and says nothing on its protocol channel" [ ! -s "$SB/hout" ]
check "... the other account's state is still unchanged" cmp -s "$SB/state/$other.state" "$SB/other.before"
as_user_check "$user" extra
check "valix-check with two arguments is a usage error (exit 2)" [ "$RC" -eq 2 ]

# --- enrolled: the code, replay, wrong codes, lockout ---------------------------------------
mapfile -t CODES < <(enroll_test_user "$user" "$SECRET")
wait_fresh_step
now=$(date +%s)
code=$(totp_at "$SECRET" "$now")
expect_login ok "enrolled: the right code unlocks" locker "$user" "$code"
check "... asked with the configured prompt" out_has "Verification code:"
check "... logged" log_has "totp code accepted"
check "... the watermark is recorded" [ "$(state_field "$user" last_step)" -ge $(( now / 30 )) ]
expect_login fail "the same code again is a replay" locker "$user" "$code"
check "... told as such" out_has "already been used"
check "... and counted" [ "$(failures)" = 1 ]

wrong=$(printf '%06d' $(( (10#$(totp_at "$SECRET" $((now + 30))) + 500000) % 1000000 )))
start=$(date +%s%N)
expect_login fail "a wrong code is refused" locker "$user" "$wrong"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "... told as such" out_has "Invalid verification code."
check "... counted" [ "$(failures)" = 2 ]
check "... after the helper's own fail delay (1000 ms; the module's is 0): ${elapsed_ms} ms" \
  [ "$elapsed_ms" -ge 1000 ]
expect_login fail "an answer that is no code is refused" locker "$user" "not-a-code"
check "... counted" [ "$(failures)" = 3 ]

# The helper charges before it judges: killed during the fail delay, the guess is paid for.
(printf '%s\n' "$wrong" | setpriv --reuid="$user" --regid="$user" --init-groups \
  "$bindir/valix-check" "$user" >/dev/null 2>&1) &
sleep 0.5
setpriv --reuid="$user" --regid="$user" --init-groups pkill -KILL -U "$uid" -x valix-check || true
wait || true
check "a wrong code whose check the user killed mid-delay is still counted" [ "$(failures)" = 4 ]

expect_login fail "the fifth failure" locker "$user" "$wrong"
check "... starts the lockout" [ "$(state_field "$user" locked_until)" -gt "$(date +%s)" ]
check "... said so in the log" log_has "locked out for 60 s"
wait_fresh_step
expect_login fail "locked: even the right code is refused" locker "$user" "$(totp_now "$SECRET")"
check "... told to wait" out_has "Too many failed attempts. Try again in 1 minute"
check "... and not charged" [ "$(failures)" = 5 ]
expect_login ok "a backup code still works during the TOTP lockout" locker "$user" "${CODES[0]}"
check "... the codes left are told" out_has "You have 9 backup codes left."
check "... consumed" [ "$(state_field "$user" backup_left)" = 9 ]
check "... and the success cleared the failures" [ "$(failures)" = 0 ]
expect_login fail "the same backup code twice" locker "$user" "${CODES[0]}"

ANSWER=${CODES[1]} as_user_check
check "valix-check run directly by the user (no name: their own account) accepts a backup code" \
  [ "$RC" -eq 0 ]
check "... its protocol lines" [ "$(cat "$SB/hout")" = "$(printf 'enrolled 6\nverdict backup-accepted backup 0 8')" ]
check "... says what it decided (syslog and stderr), never the code" \
  bash -c "grep -qF 'backup code accepted' '$SB/herr' && ! grep -qF '${CODES[1]}' '$SB/herr'"
as_user_check "$user"
check "valix-check without an answer refuses (exit 1)" [ "$RC" -eq 1 ]
check "... and checks nothing" [ "$(failures)" = 0 ]

# use_first_pass: the answer an earlier module collected.
wait_fresh_step
service first "use_first_pass check_helper=$bindir/valix-check" "auth required $VALIX_TEST_AUTHTOK_MODULE set=$(totp_at "$SECRET" $(( $(date +%s) + 30 )))"
expect_login ok "use_first_pass: PAM_AUTHTOK is sent to the helper" first "$user"
check "... no prompt" no_prompt

# --- a helper that cannot be trusted is never run ------------------------------------------
cp "$SB/state/$user.state" "$SB/user.before"
declare -A why=([plain]="is not a setuid program owned by root" [link]="is not a setuid program"
                [missing]="cannot open the 2FA check helper")
for svc in plain link missing; do
  expect_login fail "helper '$svc' (not root's setuid program): denied" "$svc" "$user" "$(totp_now "$SECRET")"
  check "... with the 'not available' message" out_has "not available right now"
  check "... logged: ${why[$svc]}" log_has "${why[$svc]}"
  check "... before any prompt" no_prompt
  check "... the state is unchanged" cmp -s "$SB/state/$user.state" "$SB/user.before"
done
rm "$SB/state/$user.state"
expect_login fail "... even for a user who is not enrolled (fail closed)" plain "$user"

if [ -n "${VALIX_SANITIZER_PRELOAD:-}" ]; then mv "$bindir"/asan/sanitizer.* "$SB/" 2>/dev/null || true; fi
finish
