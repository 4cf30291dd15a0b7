# Helpers for the valix-admin integration tests (test_admin*.sh). Source after lib.sh and
# sandbox_init.
: "${VALIX_ADMIN:?run through ctest}"

# Commands run at exit, in order (add with at_exit 'COMMAND').
ADMIN_AT_EXIT=()
at_exit() { ADMIN_AT_EXIT+=("$1"); }
run_at_exit() { local c; for c in "${ADMIN_AT_EXIT[@]}"; do eval "$c" || true; done; }
trap run_at_exit EXIT

# admin ARGS...: runs valix-admin on the sandbox config with nss_wrapper users (and
# VALIX_TEST_PRELOAD, if set, before it). Sets
# ADMIN_RC; stdout in $SB/out, stderr in $SB/err. When syslog capture is on, runs it in a
# private mount namespace whose /dev/log is the capture socket (nothing outside changes).
admin() {
  set +e
  if [ -n "${SYSLOG_DEV:-}" ]; then
    env LD_PRELOAD="${VALIX_SANITIZER_PRELOAD:+$VALIX_SANITIZER_PRELOAD:}${VALIX_TEST_PRELOAD:+$VALIX_TEST_PRELOAD:}$NSS_WRAPPER_LIB" NSS_WRAPPER_PASSWD="$SB/etc/passwd" \
      NSS_WRAPPER_GROUP="$SB/etc/group" unshare -m -- bash -c \
      'for f in null zero full random urandom tty; do mount --bind "/dev/$f" "$0/$f"; done
       mount --rbind "$0" /dev && exec "$@"' \
      "$SYSLOG_DEV" "$VALIX_ADMIN" --config "$SB/etc/valix.conf" "$@" >"$SB/out" 2>"$SB/err"
  else
    env LD_PRELOAD="${VALIX_SANITIZER_PRELOAD:+$VALIX_SANITIZER_PRELOAD:}${VALIX_TEST_PRELOAD:+$VALIX_TEST_PRELOAD:}$NSS_WRAPPER_LIB" NSS_WRAPPER_PASSWD="$SB/etc/passwd" \
      NSS_WRAPPER_GROUP="$SB/etc/group" \
      "$VALIX_ADMIN" --config "$SB/etc/valix.conf" "$@" >"$SB/out" 2>"$SB/err"
  fi
  ADMIN_RC=$?
  set -e
}

# expect_admin RC DESCRIPTION ARGS...: runs admin and checks its exit code.
expect_admin() {
  local want=$1 description=$2
  shift 2
  admin "$@"
  if [ "$ADMIN_RC" -eq "$want" ]; then
    pass "$description"
  else
    failure "$description (exit $ADMIN_RC, wanted $want)"
    sed 's/^/#   stdout: /' "$SB/out" | head -n 20
    sed 's/^/#   stderr: /' "$SB/err" | head -n 20
  fi
}

stdout_has() { grep -qF -- "$1" "$SB/out"; }
stderr_has() { grep -qF -- "$1" "$SB/err"; }

# Syslog capture: a datagram socket at $SYSLOG_DEV/log whose messages land in
# $SB/syslog.txt. Needs root and mount namespaces; where those are missing (some
# containers) the syslog checks are skipped and say so.
syslog_start() {
  SYSLOG_DEV=""
  if ! unshare -m true 2>/dev/null; then
    echo "# syslog capture unavailable (no mount namespaces): syslog checks skipped"
    return 0
  fi
  local dev="$SB/dev"
  mkdir -p "$dev"
  for f in null zero full random urandom tty; do : > "$dev/$f"; done
  : > "$SB/syslog.txt"
  python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[3], "w").close()
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536).rstrip(b"\0\n") + b"\n")
' "$dev/log" "$SB/syslog.txt" "$SB/syslog.ready" &
  SYSLOG_PID=$!
  for _ in $(seq 50); do [ -e "$SB/syslog.ready" ] && break; sleep 0.1; done
  SYSLOG_DEV=$dev
  at_exit syslog_stop
}

syslog_stop() {
  if [ -n "${SYSLOG_PID:-}" ]; then kill "$SYSLOG_PID" 2>/dev/null || true; wait "$SYSLOG_PID" 2>/dev/null || true; fi
  SYSLOG_PID=""
}

# syslog_check DESCRIPTION TEXT: the capture holds a line containing TEXT (skipped without
# capture). Messages are delivered synchronously, so no waiting is needed.
syslog_check() {
  if [ -z "${SYSLOG_DEV:-}" ]; then
    echo "ok - $1 # SKIP no syslog capture"
    return 0
  fi
  # The capture writes each line as it arrives, a moment after the tool sent it: wait up to
  # 5 s for the line, so that a loaded machine does not make a sent line look missing.
  local _
  for _ in $(seq 50); do grep -qF -- "$2" "$SB/syslog.txt" && break; sleep 0.1; done
  if grep -qF -- "$2" "$SB/syslog.txt"; then pass "$1"; else
    failure "$1"
    sed 's/^/#   syslog: /' "$SB/syslog.txt" | tail -n 10
  fi
}

# json_field FIELD [INDEX]: one field of the status --json output in $SB/out, printed as
# JSON (so strings keep their quotes and null stays null).
json_field() {
  python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))[int(sys.argv[3])][sys.argv[2]]))' \
    "$SB/out" "$1" "${2:-0}"
}
