# Shared helpers for the integration tests. Source it, then call sandbox_init NAME.
#
# A sandbox is a directory under the build tree with: passwd/group files for nss_wrapper
# (users alice, bob, carol, dave, erin), PAM service files for pam_wrapper, a valix.conf and
# a private state directory. Nothing outside the build tree is written (pam_wrapper itself
# copies the service directory to a temporary /tmp/pam.* directory and removes it on exit).
set -euo pipefail

: "${VALIX_BUILD_DIR:?run through ctest}"
: "${VALIX_MODULE:?run through ctest}"

TESTS_FAILED=0
TESTS_PASSED=0

# Users: alice (plain), bob (member of admins), carol (member of exempt), dave, erin.
sandbox_init() {
  local name=$1
  SB="$VALIX_BUILD_DIR/test-sandbox/$name"
  rm -rf "$SB"
  mkdir -p "$SB/state" "$SB/pam.d" "$SB/etc" "$SB/home"
  chmod 700 "$SB/state"
  chmod 755 "$SB/etc"
  cat > "$SB/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/bin/sh
alice:x:1001:1001:Alice:$SB/home/alice:/bin/sh
bob:x:1002:1002:Bob:$SB/home/bob:/bin/sh
carol:x:1003:1003:Carol:$SB/home/carol:/bin/sh
dave:x:1004:1004:Dave:$SB/home/dave:/bin/sh
erin:x:1005:1005:Erin:$SB/home/erin:/bin/sh
PASSWD
  cat > "$SB/etc/group" <<GROUP
root:x:0:
alice:x:1001:
bob:x:1002:
carol:x:1003:
dave:x:1004:
erin:x:1005:
admins:x:2000:bob
exempt:x:2001:carol
GROUP
  write_config ""
  write_service valix ""
  printf 'auth required pam_deny.so\naccount required pam_deny.so\n' > "$SB/pam.d/other"
  # valix-enroll's account check (tests that need another outcome overwrite it).
  printf 'account required pam_permit.so\n' > "$SB/pam.d/valix-enroll"
  export NSS_WRAPPER_PASSWD="$SB/etc/passwd" NSS_WRAPPER_GROUP="$SB/etc/group"
  sanitizer_init
}

# Sanitizer builds (ctest sets VALIX_SANITIZER_PRELOAD to libasan when VALIX_SANITIZE=ON):
# every sanitizer report goes to $SB/sanitizer.PID and finish fails on any, because a module
# that dies under ASan makes pamtester fail, which a test expecting a refusal would pass.
# Leak detection stays on; tests/sanitizer/lsan.supp names the few leaks that are not ours.
# A helper that sets LD_PRELOAD itself must put ${VALIX_SANITIZER_PRELOAD:+$VALIX_SANITIZER_PRELOAD:}
# first, as pam_env does.
sanitizer_init() {
  [ -n "${VALIX_SANITIZER_PRELOAD:-}" ] || return 0
  export PAM_WRAPPER_DISABLE_DEEPBIND=1  # RTLD_DEEPBIND would bypass ASan's interceptors
  export ASAN_OPTIONS="log_path=$SB/sanitizer:detect_leaks=1"
  export LSAN_OPTIONS="suppressions=$VALIX_SOURCE_DIR/tests/sanitizer/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="log_path=$SB/sanitizer:print_stacktrace=1:halt_on_error=1"
}

# write_config EXTRA_LINES: valix.conf with the sandbox state dir (unless EXTRA_LINES sets
# state_dir), no fail delay, plus extras.
write_config() {
  {
    echo "# valix.conf written by the integration tests"
    case "$1" in *state_dir*) ;; *) echo "state_dir = $SB/state" ;; esac
    echo "fail_delay_ms = 0"
    echo "issuer = Valix Test"
    [ -n "$1" ] && printf '%s\n' "$1"
  } > "$SB/etc/valix.conf"
  chmod 644 "$SB/etc/valix.conf"
}

# write_service NAME MODULE_ARGS [PREFIX_LINES]: a PAM service whose auth stack is pam_valix.
write_service() {
  local name=$1 args=$2 prefix=${3:-}
  {
    [ -n "$prefix" ] && printf '%s\n' "$prefix"
    echo "auth required $VALIX_MODULE config=$SB/etc/valix.conf $args"
    echo "account required pam_permit.so"
  } > "$SB/pam.d/$name"
}

# pam_env CMD...: run CMD with pam_wrapper and nss_wrapper preloaded (the PAM services of
# $SB/pam.d, or of VALIX_PAM_DIR if set: two fleet hosts with one service name) (and VALIX_TEST_PRELOAD,
# if set, before them, so that a shim can pass lookups on to nss_wrapper).
pam_env() {
  env LD_PRELOAD="${VALIX_SANITIZER_PRELOAD:+$VALIX_SANITIZER_PRELOAD:}${VALIX_TEST_PRELOAD:+$VALIX_TEST_PRELOAD:}$PAM_WRAPPER_LIB:$NSS_WRAPPER_LIB" PAM_WRAPPER=1 \
    PAM_WRAPPER_SERVICE_DIR="${VALIX_PAM_DIR:-$SB/pam.d}" PAM_WRAPPER_DEBUGLEVEL=2 \
    NSS_WRAPPER_PASSWD="$SB/etc/passwd" NSS_WRAPPER_GROUP="$SB/etc/group" "$@"
}

# without_library SONAME CMD...: CMD (a command or one of these helpers) with dlopen(SONAME)
# failing, as if the library were not installed (tests/tools/fail_dlopen.c, preloaded by
# pam_env).
without_library() {
  local soname=$1
  shift
  VALIX_TEST_PRELOAD=$VALIX_FAIL_DLOPEN VALIX_TEST_FAIL_DLOPEN=$soname "$@"
}

# with_name_aliases ALIAS=NAME[:ALIAS=NAME...] CMD...: CMD (a command or one of these helpers)
# with a name service that answers ALIAS with NAME's account, as SSSD or winbind may
# (tests/tools/nss_alias.c, preloaded by pam_env).
with_name_aliases() {
  local aliases=$1
  shift
  VALIX_TEST_PRELOAD=$VALIX_NSS_ALIAS VALIX_TEST_NSS_ALIASES=$aliases "$@"
}

# with_failing_dir_fsync CMD...: CMD (a command or one of these helpers) with the sync that
# ends each state update failing with EIO: fsync() of a directory after a replace, fdatasync()
# after an in-place write (tests/tools/fail_fsync.c, preloaded by pam_env). With
# FAIL_DIR_FSYNC_FROM=N set, only from the process's Nth such sync on.
with_failing_dir_fsync() {
  VALIX_TEST_PRELOAD=$VALIX_FAIL_FSYNC VALIX_TEST_FAIL_DIR_FSYNC=${FAIL_DIR_FSYNC_FROM:-1} "$@"
}

# with_change_before_lock COMMAND CMD...: CMD (a command or one of these helpers), with the
# shell COMMAND run just before CMD's first exclusive lock (tests/tools/before_lock.c).
with_change_before_lock() {
  local change=$1
  shift
  VALIX_TEST_PRELOAD=$VALIX_BEFORE_LOCK VALIX_TEST_BEFORE_LOCK=$change "$@"
}

# pam_tester ARGS...: pamtester under the wrappers, answers on stdin. pam_wrapper 1.1.4 picks
# its /tmp/pam.X directory with a check-then-mkdir race and removes the directory when its
# process exits, even if a sibling shares it: a login started at the same moment as another
# can find no PAM configuration and fail before the module is reached. Only such a run is
# repeated: the module did not log a line (every run of the module that changes or checks
# state logs one), and pam_wrapper or libpam reported an error. A run that reached the
# module is final, whatever its result, so no login is ever counted twice. With
# PAM_TESTER_MODULE_LOGS=1 (for logins that always log, as every check of an enrolled user
# does), a run without a module line is repeated even when nothing reported an error: a
# sibling that removed the shared directory can leave libpam to fall back to the "other"
# service (pam_deny) without a word.
pam_tester() {
  local input rc=1 errfile
  input=$(cat)
  for attempt in 1 2 3 4 5 6; do
    errfile=$(mktemp "$SB/.pam_tester.XXXXXX")
    printf '%s\n' "$input" | pam_env pamtester "$@" 2>"$errfile" && rc=0 || rc=$?
    if [ "$rc" -eq 0 ] || [ "$attempt" -eq 6 ] ||
      grep -aqE 'SYSLOG\([0-9]\): event=' "$errfile" ||
      { [ "${PAM_TESTER_MODULE_LOGS:-0}" != 1 ] &&
        ! grep -aqE 'PWRAP_ERROR|Initialization failure' "$errfile"; }; then
      cat "$errfile" >&2
      rm -f "$errfile"
      return "$rc"
    fi
    rm -f "$errfile"
    sleep "0.$((RANDOM % 5 + 1))"
  done
}

# login SERVICE USER ANSWER...: pamtester authenticate, answers fed one per prompt line.
# Sets LOGIN_RC; output in $SB/out, pam_wrapper log (including syslog lines) in $SB/err.
# PAM items from LOGIN_ITEMS, if set (an array: LOGIN_ITEMS=(-I rhost=10.0.0.1 -I tty=pts/1)).
LOGIN_ITEMS=()
login() {
  local service=$1 user=$2
  shift 2
  set +e
  printf '%s\n' "$@" | pam_tester -v "${LOGIN_ITEMS[@]}" "$service" "$user" authenticate >"$SB/out" 2>"$SB/err"
  LOGIN_RC=$?
  set -e
}

# Lines the module sent to syslog during the last login.
syslog_lines() { grep -a 'SYSLOG(' "$SB/err" || true; }

totp_now() { oathtool --totp -b "$1"; }
# totp_at SECRET UNIX_TIME [ALGORITHM] [DIGITS]
totp_at() {
  oathtool --totp="${3:-sha1}" --digits="${4:-6}" -b -N "@$2" "$1"
}

# Waits until at least 8 seconds remain in the current 30 s step, so a test that computes a
# code and logs in does not straddle two steps more than the window allows.
wait_fresh_step() {
  while [ $(( $(date +%s) % 30 )) -gt 21 ]; do sleep 1; done
}

# enroll_test_user USER SECRET [OPTIONS...]: writes an enrolled state; prints backup codes.
enroll_test_user() {
  local user=$1 secret=$2
  shift 2
  "$VALIX_TEST_STATE" "$SB/state" "$user" write "$secret" "$@"
}

# edit_state USER SED_SCRIPT: edits the state text of USER's file by hand (sed), keeping the
# file a valid one of format 2 (its slot checksum made to fit the new text).
edit_state() {
  "$VALIX_TEST_STATE" "$SB/state" "$1" text | sed "$2" > "$SB/edit.text"
  "$VALIX_TEST_STATE" "$SB/state" "$1" pack < "$SB/edit.text"
}

state_field() {  # state_field USER FIELD
  "$VALIX_TEST_STATE" "$SB/state" "$1" show | sed -n "s/^$2=//p"
}

# The setuid tools read only the compiled-in valix.conf, so a test of one installed setuid
# creates that file for its own length. compiled_in_config_create [SED_SCRIPT]: writes it,
# root-owned, from the sandbox's valix.conf (through SED_SCRIPT, if given), with any missing
# parent directories, and only if it does not exist: otherwise the test skips (exit 77), for
# a real configuration is never replaced. Sets SYSTEM_CONF. compiled_in_config_remove undoes
# it: call it from the test's EXIT trap.
SYSTEM_CONF=
SYSTEM_CONF_MADE=no
SYSTEM_CONF_DIRS=()
compiled_in_config_create() {
  SYSTEM_CONF=$("$VALIX_ENROLL" --help | sed -n 's/.*(default: \(.*\);$/\1/p')
  case "$SYSTEM_CONF" in /*) ;; *) echo "could not read the compiled-in valix.conf from --help"; exit 1 ;; esac
  if [ -e "$SYSTEM_CONF" ]; then
    echo "SKIP: $SYSTEM_CONF exists; this test does not replace a real configuration"
    exit 77
  fi
  local dir missing=()
  dir=$(dirname "$SYSTEM_CONF")
  while [ ! -d "$dir" ]; do missing=("$dir" "${missing[@]}"); dir=$(dirname "$dir"); done
  for dir in "${missing[@]}"; do mkdir -m 755 "$dir"; SYSTEM_CONF_DIRS+=("$dir"); done
  # noclobber: created with O_EXCL, so a file another test made meanwhile is not replaced.
  if ! (set -o noclobber; sed "${1:-}" "$SB/etc/valix.conf" > "$SYSTEM_CONF") 2>/dev/null; then
    echo "SKIP: $SYSTEM_CONF appeared meanwhile"
    exit 77
  fi
  SYSTEM_CONF_MADE=yes
  chmod 644 "$SYSTEM_CONF"
}
compiled_in_config_remove() {
  [ "$SYSTEM_CONF_MADE" = no ] || rm -f "$SYSTEM_CONF"
  local i
  for (( i=${#SYSTEM_CONF_DIRS[@]}-1; i>=0; i-- )); do rmdir "${SYSTEM_CONF_DIRS[$i]}" 2>/dev/null || true; done
}

pass() { TESTS_PASSED=$((TESTS_PASSED + 1)); echo "ok - $1"; }
failure() {
  TESTS_FAILED=$((TESTS_FAILED + 1))
  echo "not ok - $1"
  if [ -f "$SB/out" ]; then sed 's/^/#   out: /' "$SB/out" | tail -n 20; fi
  if [ -f "$SB/err" ]; then syslog_lines | sed 's/^/#   log: /' | tail -n 10; fi
}

check() {  # check DESCRIPTION COMMAND...
  local description=$1
  shift
  if "$@"; then pass "$description"; else failure "$description"; fi
}

expect_login() {  # expect_login ok|fail DESCRIPTION SERVICE USER ANSWER...
  local want=$1 description=$2
  shift 2
  login "$@"
  if { [ "$want" = ok ] && [ "$LOGIN_RC" -eq 0 ]; } || { [ "$want" = fail ] && [ "$LOGIN_RC" -ne 0 ]; }; then
    pass "$description"
  else
    failure "$description (pamtester exit $LOGIN_RC, wanted $want)"
  fi
}

# What the user saw: stdout (info), stderr (prompts, errors; also pam_wrapper logs).
out_has() { grep -aqF -- "$1" "$SB/out" "$SB/err"; }
log_has() { syslog_lines | grep -aqF -- "$1"; }
log_lacks() { ! syslog_lines | grep -aqF -- "$1"; }

require_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: $1 needs root (CI runs as root)"
    exit 77
  fi
}

finish() {
  local report
  for report in "$SB"/sanitizer.*; do
    [ -e "$report" ] || continue
    TESTS_FAILED=$((TESTS_FAILED + 1))
    echo "not ok - sanitizer report $report"
    sed 's/^/#   /' "$report" | head -n 60
  done
  echo "$TESTS_PASSED passed, $TESTS_FAILED failed"
  [ "$TESTS_FAILED" -eq 0 ]
}
