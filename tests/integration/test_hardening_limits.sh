#!/usr/bin/env bash
# A resource limit set by the caller must never give free guesses. The attack: a user who
# knows alice's password runs `prlimit --fsize=N bash -c "trap '' XFSZ; exec su alice"`. Before
# the fix a wrong answer was counted by a state write that grows the file (a 10-digit
# locked_until replaces 0) while a right answer's write keeps its size, so with N at the state's
# size every wrong guess said "not available" and counted nothing, and the right code was
# accepted: unlimited guessing. Now the failure is written before the answer is judged, so at
# every limit either the guess is counted or nothing at all is judged, right code included.
# pamtester (as root, like su) stands in for the PAM caller; the limit is set to every size
# around the state's.
source "$(dirname "$0")/lib.sh"
sandbox_init hardening_limits
SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ

# limited_login N ANSWER: one login of alice under a file-size limit of N bytes, with SIGXFSZ
# ignored (so a write that would exceed it fails with EFBIG instead of killing the process).
# Its output goes through a pipe: a file it wrote itself would be cut at the limit too.
# A run that never reached the module (pam_wrapper's shared /tmp/pam.X race, see pam_tester
# in lib.sh) is repeated: every run that reaches it here logs a line.
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
    grep -aqE 'SYSLOG\([0-9]\): (user |denied: )' "$SB/out" && break
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
# and put back before every attempt.
enroll_test_user alice "$SECRET" >/dev/null
wait_fresh_step
login valix alice "$(totp_now "$SECRET")"
check "alice logs in once (last_login set)" [ "$LOGIN_RC" -eq 0 ]
for i in 1 2 3 4; do login valix alice "$(wrong_code)"; done
check "... then four wrong codes are counted" [ "$(state_field alice failures)" = 4 ]
cp -p "$SB/state/alice.state" "$SB/template.state"
fresh_state() { cp -p "$SB/template.state" "$SB/state/alice.state"; }
size=$(stat -c %s "$SB/state/alice.state")

uncounted_wrong=0
oracle=0
counted=0
for limit in $(seq $((size - 40)) $((size + 40))); do
  fresh_state
  limited_login "$limit" "$(wrong_code)"
  if [ "$(state_field alice failures)" -eq 5 ]; then
    counted=$((counted + 1))
    continue
  fi
  uncounted_wrong=$((uncounted_wrong + 1))
  check "limit $limit: the uncounted answer was refused as 'not available'" \
    out_has "not available right now"
  # Not counted: then it must not have been judged either. The right code, under the same
  # limit, must not get in: otherwise the limit is an oracle with unlimited guesses.
  fresh_state
  limited_login "$limit" "$(next_code)"
  if [ "$LOGIN_RC" -eq 0 ]; then
    oracle=$((oracle + 1))
    echo "# limit $limit: a wrong code was not counted, the right code got in"
  fi
done
check "no limit lets a wrong code pass uncounted while a right one gets in ($oracle)" [ "$oracle" -eq 0 ]
check "with room for the charge, wrong codes are counted ($counted limits)" [ "$counted" -gt 0 ]
check "a limit too small for the charge refuses every answer ($uncounted_wrong limits)" [ "$uncounted_wrong" -gt 0 ]

# The lockout then holds under any limit: five failures counted, the right code refused.
fresh_state
limited_login $((size + 40)) "$(wrong_code)"
check "the fifth failure starts the lockout" [ "$(state_field alice locked_until)" -gt "$(date +%s)" ]
watermark=$(state_field alice last_step)
for limit in $((size - 10)) "$size" $((size + 10)); do
  limited_login "$limit" "$(next_code)"
  check "locked: the right code under a limit of $limit is refused" [ "$LOGIN_RC" -ne 0 ]
done
check "... and nothing was used up" [ "$(state_field alice last_step)" = "$watermark" ]

finish
