#!/usr/bin/env bash
# Concurrency stress (issue 6, item 3), beyond test_module_concurrency.sh: many rounds, so a race
# that wins one time in a few dozen still shows up, yet bounded (about a minute):
#  - ROUNDS rounds of PARALLEL logins with one TOTP code: exactly one succeeds in every round;
#  - rounds of all backup codes at once, each code presented twice: each succeeds exactly once;
#  - USERS users at once, half presenting wrong codes (every failure counted) and half presenting
#    one right code several times (exactly one success, watermark at that code's step, the
#    replays counted as failures).
source "$(dirname "$0")/lib.sh"
sandbox_init hardening_concurrency
# Lockout is tested on its own (test_module_policy.sh, test_hardening_crash.sh). Here it would
# make the outcome depend on the order the kernel runs the logins: in the backup-code rounds
# the second presentation of a code fails, and five such failures in a row before another
# code's first use would lock the account and turn that first use away.
write_config "max_failures = 100"
SECRET=ONSWG4TFORQW4ZDPNVSXIZLSMF2GK43U
PARALLEL=10
ROUNDS=${ROUNDS:-12}
USERS=16
START=$SECONDS

# Extra users for nss_wrapper: s01..s16.
for i in $(seq -w 1 $USERS); do
  echo "s$i:x:$((3000 + 10#$i)):$((3000 + 10#$i))::$SB/home/s$i:/bin/sh" >> "$SB/etc/passwd"
  echo "s$i:x:$((3000 + 10#$i)):" >> "$SB/etc/group"
done

# try USER ANSWER: one login in the background; prints "ok USER ANSWER" on success.
# Every one of these logins is a check of an enrolled user, which the module always logs.
try() {
  ( printf '%s\n' "$2" | PAM_TESTER_MODULE_LOGS=1 pam_tester valix "$1" authenticate >/dev/null 2>"$SB/err.$BASHPID" && echo "ok $1 $2" ) &
}

bad_rounds=0
for round in $(seq $ROUNDS); do
  enroll_test_user alice "$SECRET" >/dev/null
  wait_fresh_step
  code=$(totp_now "$SECRET")
  n=$( { for _ in $(seq $PARALLEL); do try alice "$code"; done; wait; } | grep -c '^ok' || true)
  if [ "$n" -ne 1 ]; then
    bad_rounds=$((bad_rounds + 1))
    echo "# round $round: $n successes"
  fi
done
check "$ROUNDS rounds x $PARALLEL parallel logins with one code: exactly one success every round" \
  [ "$bad_rounds" -eq 0 ]

bad_rounds=0
for round in 1 2 3 4; do
  mapfile -t CODES < <(enroll_test_user bob "$SECRET")
  out=$( { for c in "${CODES[@]}" "${CODES[@]}"; do try bob "$c"; done; wait; } )
  n=$(grep -c '^ok' <<<"$out" || true)
  distinct=$(grep '^ok' <<<"$out" | sort -u | wc -l)
  left=$(state_field bob backup_left)
  if [ "$n" -ne 10 ] || [ "$distinct" -ne 10 ] || [ "$left" -ne 0 ]; then
    bad_rounds=$((bad_rounds + 1))
    echo "# backup round $round: $n successes, $distinct distinct, $left left"
  fi
done
check "4 rounds x 10 backup codes each presented twice at once: each code succeeds exactly once" \
  [ "$bad_rounds" -eq 0 ]

# Many users at once. Odd users: WRONG wrong codes each (fewer than max_failures, so every one
# is counted and none is a lockout). Even users: the right code RIGHT times.
WRONG=4
RIGHT=3
for i in $(seq -w 1 $USERS); do enroll_test_user "s$i" "$SECRET" >/dev/null; done
wait_fresh_step
code=$(totp_now "$SECRET")
step=$(( $(date +%s) / 30 ))
out=$( {
  for i in $(seq -w 1 $USERS); do
    if [ $((10#$i % 2)) -eq 1 ]; then
      for w in $(seq $WRONG); do try "s$i" "00000$w"; done
    else
      for _ in $(seq $RIGHT); do try "s$i" "$code"; done
    fi
  done
  wait
} )
lost=0
for i in $(seq -w 1 $USERS); do
  failures=$(state_field "s$i" failures)
  if [ $((10#$i % 2)) -eq 1 ]; then
    [ "$failures" -eq $WRONG ] || { lost=$((lost + 1)); echo "# s$i: $failures failures counted, wanted $WRONG"; }
  else
    n=$(grep -c "^ok s$i " <<<"$out" || true)
    last=$(state_field "s$i" last_step)
    # The first login to take the lock accepts the code; every later one is a replay, which
    # counts as a failure: exactly RIGHT-1 failures.
    if [ "$n" -ne 1 ] || [ "$last" -ne "$step" ] || [ "$failures" -ne $((RIGHT - 1)) ]; then
      lost=$((lost + 1)); echo "# s$i: $n successes, last_step $last (wanted $step), failures $failures"
    fi
  fi
done
check "$USERS users at once ($((USERS / 2 * WRONG + USERS / 2 * RIGHT)) logins): no failure count or watermark lost" \
  [ "$lost" -eq 0 ]
check "no temp file left behind" [ -z "$(find "$SB/state" -name '.*.tmp')" ]
echo "# took $((SECONDS - START)) s"
finish
