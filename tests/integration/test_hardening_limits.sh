#!/usr/bin/env bash
# A resource limit set by the caller must never give free guesses. The attack: a user who
# knows alice's password runs `prlimit --fsize=N bash -c "trap '' XFSZ; exec su alice"`. Before
# the fix a wrong answer was counted by a state write that grows the file (a 10-digit
# locked_until replaces 0) while a right answer's write keeps its size, so with N at the state's
# size every wrong guess said "not available" and counted nothing, and the right code was
# accepted: unlimited guessing. Now the failure is written before the answer is judged (in a
# state file of format 2, into the slot the login then commits its verdict to), so at every
# limit either the guess is counted or nothing at all is judged, right code included.
# pamtester (as root, like su) stands in for the PAM caller.
# A state file of format 2 is 2S bytes, two slots of S, written whole when it is made; a login
# rewrites one slot in place. The kernel checks RLIMIT_FSIZE against the offset written, not
# against growth: a limit below a slot's end cuts its write short (the slot is then invalid
# and the state before it stands) or refuses it. So the limits tried are those around S and
# 2S, for a file whose next write goes to slot 0 and for one whose next write goes to slot 1,
# and around the text's size and 2S for a file of format 1 (Valix 0.2), which the first write
# converts through a new file of 2S bytes. At and above 2S no limit touches an in-place write:
# every wrong code is counted and the right one logs in.
source "$(dirname "$0")/lib.sh"
sandbox_init hardening_limits
SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ

# limited_login N ANSWER: one login of alice under a file-size limit of N bytes, with SIGXFSZ
# ignored (so a write that would exceed it fails with EFBIG instead of killing the process).
# Its output goes through a pipe: a file it wrote itself would be cut at the limit too.
# A run that never reached the module (pam_wrapper's shared /tmp/pam.X race, see pam_tester
# in lib.sh) is repeated: every run that reaches it here logs a line. So is one that read
# another test's PAM configuration through that shared directory: alice is enrolled here in
# every case, so a line saying she is not can only come from another sandbox's valix.conf
# (seen once, beside test_hardening_concurrency). A state really misread as not enrolled
# would say so in all six runs, and the last one stands.
limited_login() {
  local limit=$1 answer=$2 attempt
  for attempt in 1 2 3 4 5 6; do
    set +e
    # The wrappers (and a sanitizer runtime) are preloaded into pamtester only, not into
    # prlimit and bash, which are not built for them.
    printf '%s\n' "$answer" | prlimit --fsize="$limit" bash -c \
      'trap "" XFSZ; exec env LD_PRELOAD="$1" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$2" \
         PAM_WRAPPER_DEBUGLEVEL=2 NSS_WRAPPER_PASSWD="$3" NSS_WRAPPER_GROUP="$4" \
         pamtester -v valix alice authenticate' - \
      "${VALIX_SANITIZER_PRELOAD:+$VALIX_SANITIZER_PRELOAD:}$PAM_WRAPPER_LIB:$NSS_WRAPPER_LIB" \
      "$SB/pam.d" "$SB/etc/passwd" "$SB/etc/group" 2>&1 | cat >"$SB/out"
    LOGIN_RC=${PIPESTATUS[1]}
    set -e
    grep -aqE 'SYSLOG\([0-9]\): event=' "$SB/out" && ! grep -aq 'reason=not_required' "$SB/out" &&
      break
    sleep "0.$((RANDOM % 5 + 1))"
  done
  : >"$SB/err"
}
wrong_code() {  # a code that is valid at no step of the window
  printf '%06d' $(( (10#$(totp_now "$SECRET") + 500000) % 1000000 ))
}
next_code() { totp_at "$SECRET" $(( $(date +%s) + 30 )); }  # above any watermark set below

# The attacker's starting point, as in the report: alice has logged in before (so a right
# code's new state is as long as the old one), and four wrong codes are counted. Saved once
# in each layout and put back before every attempt.
enroll_test_user alice "$SECRET" >/dev/null
wait_fresh_step
login valix alice "$(totp_now "$SECRET")"
check "alice logs in once (last_login set)" [ "$LOGIN_RC" -eq 0 ]
for i in 1 2 3 4; do login valix alice "$(wrong_code)"; done
check "... then four wrong codes are counted" [ "$(state_field alice failures)" = 4 ]
S=$("$VALIX_TEST_STATE" "$SB/state" alice slots | sed -n 's/^slot_size=//p')
"$VALIX_TEST_STATE" "$SB/state" alice text > "$SB/template.text"
text_size=$(stat -c %s "$SB/template.text")
"$VALIX_TEST_STATE" "$SB/state" alice pack 9 1 < "$SB/template.text"
cp -p "$SB/state/alice.state" "$SB/template.next0"   # slot 1 holds it: the charge goes to slot 0
"$VALIX_TEST_STATE" "$SB/state" alice pack 9 0 < "$SB/template.text"
cp -p "$SB/state/alice.state" "$SB/template.next1"   # slot 0 holds it: the charge goes to slot 1
cp -p "$SB/state/alice.state" "$SB/template.f1"
cat "$SB/template.text" > "$SB/template.f1"          # format 1: the bare text
fresh_state() { cp -p "$SB/template.$1" "$SB/state/alice.state"; }
around() { seq $(($1 - 40)) 10 $(($1 + 40)); }

oracle=0
# try_limits TEMPLATE LIMIT...: a wrong code under each limit; when it is not counted, the
# right code under the same limit must not get in either.
try_limits() {
  local template=$1 limit counted=0 uncounted=0 above_missed=0
  shift
  for limit in "$@"; do
    fresh_state "$template"
    limited_login "$limit" "$(wrong_code)"
    if [ "$(state_field alice failures)" -eq 5 ]; then
      counted=$((counted + 1))
      if [ "$limit" -ge $((2 * S)) ]; then
        fresh_state "$template"
        limited_login "$limit" "$(next_code)"
        [ "$LOGIN_RC" -eq 0 ] || { above_missed=$((above_missed + 1)); echo "# $template, limit $limit: the right code was refused"; }
      fi
      continue
    fi
    uncounted=$((uncounted + 1))
    [ "$limit" -ge $((2 * S)) ] && { above_missed=$((above_missed + 1)); echo "# $template, limit $limit: a wrong code was not counted"; }
    out_has "not available right now" || failure "$template, limit $limit: the uncounted answer was not refused as 'not available'"
    # Not counted: then it must not have been judged either. The right code, under the same
    # limit, must not get in: otherwise the limit is an oracle with unlimited guesses.
    fresh_state "$template"
    limited_login "$limit" "$(next_code)"
    if [ "$LOGIN_RC" -eq 0 ]; then
      oracle=$((oracle + 1))
      echo "# $template, limit $limit: a wrong code was not counted, the right code got in"
    fi
  done
  check "$template: with room for the charge, wrong codes are counted ($counted limits)" [ "$counted" -gt 0 ]
  check "$template: a limit too small for the charge refuses every answer ($uncounted limits)" [ "$uncounted" -gt 0 ]
  check "$template: at and above the file's size ($((2 * S))) every wrong code is counted and the right one logs in" [ "$above_missed" -eq 0 ]
}
try_limits next0 $(around "$S") $(around $((2 * S)))
try_limits next1 $(around "$S") $(around $((2 * S)))
try_limits f1 $(around "$text_size") $(around $((2 * S)))
check "no limit lets a wrong code pass uncounted while a right one gets in ($oracle)" [ "$oracle" -eq 0 ]
check "in-place writes never grew the file" [ "$(stat -c %s "$SB/state/alice.state")" -eq $((2 * S)) ]

# The lockout then holds under any limit: five failures counted, the right code refused.
fresh_state next0
limited_login $((2 * S)) "$(wrong_code)"
check "the fifth failure starts the lockout" [ "$(state_field alice locked_until)" -gt "$(date +%s)" ]
watermark=$(state_field alice last_step)
for limit in $((S - 10)) "$S" $((2 * S - 10)) $((2 * S)) $((2 * S + 10)); do
  limited_login "$limit" "$(next_code)"
  check "locked: the right code under a limit of $limit is refused" [ "$LOGIN_RC" -ne 0 ]
done
check "... and nothing was used up" [ "$(state_field alice last_step)" = "$watermark" ]

finish
