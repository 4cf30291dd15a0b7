#!/usr/bin/env bash
# Crash consistency (issue 6, item 4): logins are killed with SIGKILL at random points while
# they read, check and rewrite state: KILLS logins (1200-2000 of them killed while running here, depending on load) (several workers at once, so the
# kills also land while another login holds or waits for the lock). Afterwards and throughout:
#  - every state file parses (a monitor reads it all along; the final read too);
#  - the replay watermark never moves backwards (monitor), and a TOTP code of an older step than
#    one already accepted is never accepted;
#  - a backup code that once succeeded never succeeds again (all are tried again at the end);
#  - no temp file is left to block the next login: a fresh valid code logs in at the end.
source "$(dirname "$0")/lib.sh"
sandbox_init hardening_crash
SECRET=KRUGS4ZANFZSA3TPORQSA43FMNZGK5BB
WORKERS=4
KILLS=${VALIX_CRASH_LOGINS:-3000}  # logins started; about half are killed while running
PER_WORKER=$((KILLS / WORKERS))
MAX_DELAY_MS=80  # one login takes about 60 ms here: kills land before, in and after the module
START=$SECONDS
# Replays and used backup codes count as failures: keep both limits high and lockouts short so
# the run keeps exercising writes (a locked shape is refused without any).
write_config "max_failures = 100
backup_max_failures = 100
lockout_seconds = 1
lockout_max_seconds = 1"

mapfile -t CODES < <(enroll_test_user alice "$SECRET" --backup-codes 400)
printf '%s\n' "${CODES[@]}" > "$SB/codes"
: > "$SB/successes"   # "backup CODE" or "totp STEP", one line per observed success

# pamtester exec'd directly, so $! is the process that loads the module and writes the state.
# In sanitizer builds, leak checking is off for these processes only: a SIGKILL that lands
# during LeakSanitizer's exit-time scan makes it report "Unable to get registers", which is
# not a leak (leaks are checked by every other test, and by valgrind.module).
run_login() {  # run_login ANSWER: in the background, stdin from a here-string
  exec env ${VALIX_SANITIZER_PRELOAD:+ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"} LD_PRELOAD="${VALIX_SANITIZER_PRELOAD:+$VALIX_SANITIZER_PRELOAD:}$PAM_WRAPPER_LIB:$NSS_WRAPPER_LIB" \
    PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$SB/pam.d" \
    NSS_WRAPPER_PASSWD="$SB/etc/passwd" NSS_WRAPPER_GROUP="$SB/etc/group" \
    pamtester valix alice authenticate <<<"$1" >/dev/null 2>&1
}

worker() {  # worker ID: PER_WORKER logins, each killed after 0..MAX_DELAY_MS ms
  local id=$1 n answer kind step pid rc
  for n in $(seq $PER_WORKER); do
    if [ $((RANDOM % 2)) -eq 0 ]; then
      kind=backup
      answer=${CODES[$((RANDOM % ${#CODES[@]}))]}
    else
      kind=totp
      # The current step or the one before (a replay once the current one was accepted).
      step=$(( $(date +%s) / 30 - RANDOM % 2 ))
      answer=$(totp_at "$SECRET" $((step * 30)))
    fi
    ( run_login "$answer" ) &
    pid=$!
    sleep "0.$(printf '%03d' $((RANDOM % (MAX_DELAY_MS + 1))))"
    if kill -9 "$pid" 2>/dev/null; then echo x >> "$SB/killed.$id"; fi
    set +e; wait "$pid"; rc=$?; set -e
    [ "$rc" -eq 1 ] && echo x >> "$SB/refused.$id"
    if [ "$rc" -eq 0 ]; then
      if [ "$kind" = backup ]; then echo "backup $answer"; else echo "totp $step"; fi >> "$SB/successes"
    fi
  done
}

# pam_wrapper copies the services to /tmp/pam.X, one of only 62 names, and writes its pid there
# a moment later; a login killed in between leaves a directory without a pid (or an empty one) that
# pam_wrapper never reclaims, and after 62 of them every login fails in pwrap_init without
# reaching the module. Remove those (ours, no pid, untouched for 2 s) as the run goes.
reap_pam_wrapper_dirs() {
  local d
  for d in /tmp/pam.?; do
    [ -d "$d" ] && [ -O "$d" ] && [ ! -s "$d/pid" ] || continue
    [ $(( $(date +%s) - $(stat -c %Y "$d" 2>/dev/null || date +%s) )) -ge 2 ] && rm -rf "$d"
  done
  return 0
}

monitor() {  # reads the state until $SB/stop appears; records problems in $SB/monitor
  local max=0 last out
  while [ ! -e "$SB/stop" ]; do
    if ! out=$("$VALIX_TEST_STATE" "$SB/state" alice show 2>&1); then
      echo "unparsable: $out" >> "$SB/monitor"
      continue
    fi
    last=$(sed -n 's/^last_step=//p' <<<"$out")
    if [ -z "$last" ]; then echo "not enrolled: $out" >> "$SB/monitor"; continue; fi
    if [ "$last" -lt "$max" ]; then echo "watermark went back from $max to $last" >> "$SB/monitor"; fi
    [ "$last" -gt "$max" ] && max=$last
    echo "$max" > "$SB/max_step"
    reap_pam_wrapper_dirs
  done
}

monitor &
MONITOR=$!
for id in $(seq $WORKERS); do worker "$id" 2>/dev/null & done  # no "Killed" lines
wait_workers() { local p; for p in $(jobs -p); do [ "$p" = "$MONITOR" ] || wait "$p"; done; }
wait_workers
touch "$SB/stop"
wait "$MONITOR"
sleep 2; reap_pam_wrapper_dirs
killed=$(cat "$SB"/killed.* 2>/dev/null | wc -l)
refused=$(cat "$SB"/refused.* 2>/dev/null | wc -l)
echo "# $KILLS logins, $killed killed while running, $refused refused, $(wc -l < "$SB/successes") completed with success, $((SECONDS - START)) s"

check "at least a quarter of the logins were killed mid-run ($killed of $KILLS)" [ "$killed" -ge $((KILLS / 4)) ]
check "the state file parsed every time the monitor read it, watermark never went back" [ ! -s "$SB/monitor" ]
[ -s "$SB/monitor" ] && sort "$SB/monitor" | uniq -c | head -n 5 | sed 's/^/#   /'
check "the state file parses at the end" "$VALIX_TEST_STATE" "$SB/state" alice show
dup=$(grep '^backup ' "$SB/successes" | sort | uniq -d | wc -l)
check "no backup code succeeded twice" [ "$dup" -eq 0 ]
used=$(grep -c '^backup ' "$SB/successes" || true)
left=$(state_field alice backup_left)
check "backup codes left ($left) <= 400 - observed successes ($used)" [ "$left" -le $((400 - used)) ]
# TOTP: a step is accepted at most once (a watermark that went back would accept one again).
check "no TOTP step accepted twice" [ -z "$(grep '^totp ' "$SB/successes" | sort | uniq -d)" ]
# Final watermark: at least every accepted step.
final=$(state_field alice last_step)
highest=$(awk '$1 == "totp" && $2 > m { m = $2 } END { print m + 0 }' "$SB/successes")
check "final watermark $final >= highest accepted step $highest" [ "$final" -ge "$highest" ]

# Every backup code that once succeeded is refused now (state and lock untouched by kills).
back=0
# Refusals count as failures (max_failures 100, then a lockout that would make the refusals
# below meaningless): every 80 refusals, log in with a code nobody saw succeed (some of those
# were consumed by killed logins; the first still valid one resets the count).
mapfile -t SPARE < <(grep -vxFf <(sed -n 's/^backup //p' "$SB/successes") "$SB/codes")
reset_failures() {
  while [ "${#SPARE[@]}" -gt 0 ]; do
    login valix alice "${SPARE[0]}"
    SPARE=("${SPARE[@]:1}")
    if [ "$LOGIN_RC" -eq 0 ]; then return 0; fi
  done
}
login_unlocked() {
  local tries
  for tries in 1 2 3; do
    login valix alice "$1"
    log_has "denied: locked out for another" || return 0
    sleep 1.1
  done
}
sleep 1.1
reset_failures
n=0
for code in $(sed -n 's/^backup //p' "$SB/successes" | sort -u); do
  n=$((n + 1))
  if [ $((n % 80)) -eq 0 ]; then reset_failures; fi
  login_unlocked "$code"
  if [ "$LOGIN_RC" -eq 0 ]; then back=$((back + 1)); echo "# consumed code $code came back"; fi
done
check "no consumed backup code came back ($used tried)" [ "$back" -eq 0 ]

# Nothing blocks the next login: a code for a step after every one used so far.
wait_fresh_step
next_step=$(( $(date +%s) / 30 + 1 ))
sleep 1.1
login_unlocked "$(totp_at "$SECRET" $((next_step * 30)))"
check "a fresh valid code logs in after the kills" [ "$LOGIN_RC" -eq 0 ]
check "no temp file left behind" [ -z "$(find "$SB/state" -name '.*.tmp')" ]
check "state, lock, uid index and nothing else in the state dir" \
  [ "$(ls -A "$SB/state" | LC_ALL=C sort | tr '\n' ' ')" = "+1001.uid alice.lock alice.state " ]
finish
