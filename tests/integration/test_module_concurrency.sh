#!/usr/bin/env bash
# Concurrent logins: the check and the watermark update happen under one lock, so the same
# code presented by N parallel logins succeeds exactly once; parallel backup codes are each
# used exactly once; parallel logins of different users lose no state.
source "$(dirname "$0")/lib.sh"
sandbox_init module_concurrency
SECRET=ONSWG4TFORQW4ZDPNVSXIZLSMF2GK43U
PARALLEL=12

# parallel_logins USER ANSWER...: one pamtester per answer, all at once; prints the successes.
parallel_logins() {
  local user=$1 i=0
  shift
  for answer in "$@"; do
    i=$((i + 1))
    ( printf '%s\n' "$answer" | pam_tester valix "$user" authenticate >/dev/null 2>&1 && echo ok ) &
  done
  wait
}

for round in 1 2 3 4 5; do
  enroll_test_user alice "$SECRET" >/dev/null
  wait_fresh_step
  code=$(totp_now "$SECRET")
  answers=()
  for _ in $(seq $PARALLEL); do answers+=("$code"); done
  successes=$(parallel_logins alice "${answers[@]}" | grep -c ok || true)
  check "round $round: $PARALLEL parallel logins with one code, exactly one succeeds" [ "$successes" -eq 1 ]
done

mapfile -t CODES < <(enroll_test_user bob "$SECRET")
successes=$(parallel_logins bob "${CODES[@]}" | grep -c ok || true)
check "10 different backup codes in parallel: all 10 succeed" [ "$successes" -eq 10 ]
check "no backup code left" [ "$(state_field bob backup_left)" -eq 0 ]
successes=$(parallel_logins bob "${CODES[@]}" | grep -c ok || true)
check "the same 10 codes again: none succeeds" [ "$successes" -eq 0 ]

mapfile -t CODES < <(enroll_test_user carol "$SECRET")
answers=()
for _ in $(seq $PARALLEL); do answers+=("${CODES[3]}"); done
successes=$(parallel_logins carol "${answers[@]}" | grep -c ok || true)
check "one backup code in $PARALLEL parallel logins: exactly one succeeds" [ "$successes" -eq 1 ]
check "exactly one code consumed" [ "$(state_field carol backup_left)" -eq 9 ]

# Many users at once, each with a wrong code: every failure is counted (no lost update).
for u in alice bob carol dave erin; do enroll_test_user $u "$SECRET" >/dev/null; done
for _ in 1 2 3; do
  for u in alice bob carol dave erin; do
    ( printf '000000\n' | pam_tester valix "$u" authenticate >/dev/null 2>&1 ) &
  done
done
wait
for u in alice bob carol dave erin; do
  check "$u: 3 parallel failures all counted" [ "$(state_field $u failures)" -eq 3 ]
done
check "no temp file left behind" [ -z "$(find "$SB/state" -name '.*.tmp')" ]

finish
