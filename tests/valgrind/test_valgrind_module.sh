#!/usr/bin/env bash
# pam_valix.so under valgrind memcheck: pamtester (through pam_wrapper and nss_wrapper) runs
# every path of the module that touches secrets, state files or the conversation: a right
# TOTP code, a wrong code, a backup code, not-enrolled users, a corrupt state file, in-login
# enrollment with wrong codes (given up, and recovered). Any invalid access, use of
# uninitialised memory or definite leak fails the test (valgrind exits 99); so does a
# login whose result differs from what the case wants. No suppressions are needed: the
# whole pamtester process is clean, so every error would be ours.
source "$(dirname "$0")/../integration/lib.sh"
if [ -z "${VALGRIND:-}" ] || ! command -v "$VALGRIND" >/dev/null; then
  echo "SKIP: valgrind is not installed (Debian package valgrind)"
  exit 77
fi
sandbox_init valgrind_module

# next_vg_log: a fresh log file name in VG_LOG (set here, outside any pipeline's subshell).
VG_RUNS=0
next_vg_log() { VG_RUNS=$((VG_RUNS + 1)); VG_LOG="$SB/vg.$VG_RUNS"; }

# vg CMD...: CMD under memcheck, with pam_wrapper and nss_wrapper; the log in $VG_LOG.
vg() {
  pam_env env PAM_WRAPPER_DISABLE_DEEPBIND=1 "$VALGRIND" --tool=memcheck --leak-check=full \
    --errors-for-leak-kinds=definite --error-exitcode=99 --num-callers=40 \
    --log-file="$VG_LOG" "$@"
}

# vg_login ok|fail DESCRIPTION USER ANSWER...: pamtester under memcheck, answers on stdin.
vg_login() {
  local want=$1 description=$2 user=$3
  shift 3
  next_vg_log
  set +e
  printf '%s\n' "$@" | vg pamtester -v "${VG_SERVICE:-valix}" "$user" authenticate >"$SB/out" 2>"$SB/err"
  local rc=$?
  set -e
  vg_verdict "$want" "$description" "$rc"
}

# vg_verdict ok|fail DESCRIPTION RC: memcheck clean, and the login ended as wanted.
vg_verdict() {
  local want=$1 description=$2 rc=$3
  if [ "$rc" -eq 99 ] || ! grep -q 'ERROR SUMMARY: 0 errors' "$VG_LOG"; then
    failure "$description: memcheck errors"
    grep -v '^==[0-9]*== *$' "$VG_LOG" | sed 's/^/#   vg: /' | head -n 80
  elif { [ "$want" = ok ] && [ "$rc" -eq 0 ]; } || { [ "$want" = fail ] && [ "$rc" -ne 0 ]; }; then
    pass "$description"
  else
    failure "$description (exit $rc, wanted $want)"
  fi
}

SECRET=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
mapfile -t CODES < <(enroll_test_user alice "$SECRET")

wait_fresh_step
# The same code twice, taken once: under memcheck on a loaded machine a login may take long
# enough for the next step to begin, and a code taken again then would be a new one.
code=$(totp_now "$SECRET")
vg_login ok "right TOTP code" alice "$code"
vg_login fail "replayed TOTP code" alice "$code"
vg_login fail "wrong code" alice 000000
vg_login fail "malformed answer" alice "not a code at all"
vg_login ok "backup code" alice "${CODES[0]}"
check "the backup code was consumed" [ "$(state_field alice backup_left)" -eq 9 ]
vg_login fail "used backup code" alice "${CODES[0]}"

# Not required: PAM_IGNORE, which this stack lets through to pam_permit.
printf 'auth [success=ok ignore=ignore default=die] %s config=%s debug\nauth required pam_permit.so\n' \
  "$VALIX_MODULE" "$SB/etc/valix.conf" >"$SB/pam.d/ignorable"
VG_SERVICE=ignorable vg_login ok "not-enrolled user, 2FA not required (ignored)" dave
check "ignored, as logged" log_has "not required to use 2FA: ignored"
write_config "require = all
unenrolled = deny"
vg_login fail "not-enrolled user, 2FA required: denied" dave

write_config ""
enroll_test_user erin "$SECRET" >/dev/null
printf 'valix-state 1\nsecret = %s\nthis is not a state file\n' "$SECRET" >"$SB/state/erin.state"
vg_login fail "corrupt state file: denied" erin "$(totp_now "$SECRET")"
check "corrupt state logged" log_has "erin"

# In-login enrollment (an admin flagged carol): three wrong codes give up.
"$VALIX_TEST_STATE" "$SB/state" carol flag
vg_login fail "in-login enrollment, three wrong codes" carol 000000 111111 222222
check "carol still not enrolled" [ "$(state_field carol enrolled)" = 0 ]

# Again, two wrong codes then the right one from the key shown (expect reads it).
command -v expect >/dev/null || { echo "expect is required"; exit 1; }
wait_fresh_step
next_vg_log
set +e
pam_env env PAM_WRAPPER_DISABLE_DEEPBIND=1 VG_LOG="$VG_LOG" VALGRIND="$VALGRIND" expect -f - <<'EXPECT' >"$SB/out" 2>"$SB/err"
set timeout 180
spawn $env(VALGRIND) --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \
  --error-exitcode=99 --num-callers=40 --log-file=$env(VG_LOG) pamtester -v valix carol authenticate acct_mgmt setcred
expect {
  -re {enter this key by hand: ([A-Z2-7 ]+)\r?\n} { set key [string map {" " ""} $expect_out(1,string)] }
  timeout { exit 10 }
}
foreach wrong {000000 999999} {
  expect "Verification code: "
  send "$wrong\r"
  expect "That code is not correct"
}
expect "Verification code: "
send "[exec oathtool --totp -b $key 2>/dev/null]\r"
expect {
  "successfully authenticated" {}
  "failed" { exit 2 }
  timeout { exit 11 }
}
expect eof
lassign [wait] pid spawnid os_error status
exit $status
EXPECT
rc=$?
set -e
vg_verdict ok "in-login enrollment, two wrong codes then the right one" "$rc"
check "carol enrolled" [ "$(state_field carol enrolled)" = 1 ]
check "ten backup codes stored" [ "$(state_field carol backup_left)" = 10 ]

check "valgrind ran every case" [ "$(ls "$SB"/vg.* | wc -l)" -eq "$VG_RUNS" ]
finish
