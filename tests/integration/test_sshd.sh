#!/usr/bin/env bash
# A real OpenSSH server on a loopback port, with its own config, host key and PAM service
# (bind-mounted over /etc/pam.d in a private mount namespace that dies with the test), and a
# real ssh client driven by expect: password + code, a replayed code, a wrong code, a backup
# code, and in-login enrollment through keyboard-interactive.
source "$(dirname "$0")/lib.sh"
require_root "sshd needs real accounts and a mount namespace"
if [ -n "${VALIX_SANITIZER_PRELOAD:-}" ]; then
  # sshd is not instrumented and re-executes itself, so libasan cannot be loaded first.
  echo "SKIP: the ASan-built module cannot be loaded into sshd (covered by the normal build)"
  exit 77
fi
for tool in /usr/sbin/sshd ssh ssh-keygen unshare expect; do
  command -v "$tool" >/dev/null || { echo "$tool is required (openssh-server, openssh-client)"; exit 1; }
done
sandbox_init sshd
SECRET=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
USER_NAME=valixssh$$
PASSWORD=Pa55-word-$$
SSHD_PID=
cleanup() {
  [ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null
  userdel -r "$USER_NAME" >/dev/null 2>&1 || true
}
trap cleanup EXIT
useradd -m "$USER_NAME"
echo "$USER_NAME:$PASSWORD" | chpasswd

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ssh-keygen -q -t ed25519 -N '' -f "$SB/hostkey"
cat > "$SB/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $SB/hostkey
PidFile $SB/sshd.pid
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication no
AuthenticationMethods keyboard-interactive:pam
CONF
mkdir -p "$SB/etc-pam.d"
cat > "$SB/etc-pam.d/sshd" <<PAM
auth required pam_unix.so
auth required $VALIX_MODULE config=$SB/etc/valix.conf
account required pam_unix.so
session required pam_permit.so
PAM
printf 'auth required pam_deny.so\naccount required pam_deny.so\nsession required pam_deny.so\n' > "$SB/etc-pam.d/other"
mkdir -p /run/sshd
unshare -m -- bash -c "mount --bind '$SB/etc-pam.d' /etc/pam.d && exec /usr/sbin/sshd -D -e -f '$SB/sshd_config'" \
  >"$SB/sshd.log" 2>&1 &
SSHD_PID=$!
for _ in $(seq 50); do grep -q "Server listening" "$SB/sshd.log" && break; sleep 0.1; done
check "sshd is listening on 127.0.0.1:$PORT" grep -q "Server listening" "$SB/sshd.log"

# ssh_login ANSWER: password, then ANSWER at the code prompt; sets RC: 0 when the remote
# command ran (its output line is there), 1 otherwise.
logged_in() { tr -d '\r' < "$SB/out" | grep -qx LOGGEDIN; }
ssh_login() {
  expect -f - "$1" <<EXPECT >"$SB/out" 2>&1 || true
set timeout 30
set answer [lindex \$argv 0]
spawn ssh -p $PORT -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o PreferredAuthentications=keyboard-interactive -o NumberOfPasswordPrompts=1 $USER_NAME@127.0.0.1 echo LOGGED""IN
expect "Password:" { send "$PASSWORD\r" }
expect "Verification code:" { send "\$answer\r" }
expect { "\nLOGGEDIN" { exit 0 } "Permission denied" { exit 1 } timeout { exit 2 } eof { exit 3 } }
EXPECT
  if logged_in; then RC=0; else RC=1; fi
}
seen() { grep -qF -- "$1" "$SB/out"; }

mapfile -t CODES < <(enroll_test_user "$USER_NAME" "$SECRET")
wait_fresh_step
code=$(totp_now "$SECRET")
ssh_login "$code"
check "password + TOTP code over ssh" [ "$RC" -eq 0 ]
ssh_login "$code"
check "the same code again over ssh is refused" [ "$RC" -eq 1 ]
check "... and the client shows why" seen "This code has already been used"
ssh_login 000000
check "a wrong code over ssh is refused" [ "$RC" -eq 1 ]
check "... with the module's message" seen "Invalid verification code."
ssh_login "${CODES[0]}"
check "a backup code over ssh" [ "$RC" -eq 0 ]
check "... with the count left shown" seen "You have 9 backup codes left."

# In-login enrollment through keyboard-interactive for a flagged user.
rm -f "$SB/state/$USER_NAME.state"
"$VALIX_TEST_STATE" "$SB/state" "$USER_NAME" flag
expect -f - <<EXPECT >"$SB/out" 2>&1 || true
set timeout 30
spawn ssh -p $PORT -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o PreferredAuthentications=keyboard-interactive $USER_NAME@127.0.0.1 echo LOGGED""IN
expect "Password:" { send "$PASSWORD\r" }
expect -re {key by hand: ([A-Z2-7 ]+)\r?\n} { set key [string map {" " ""} \$expect_out(1,string)] }
expect "Verification code:" { send "[exec oathtool --totp -b \$key]\r" }
expect { "\nLOGGEDIN" { exit 0 } "Permission denied" { exit 1 } timeout { exit 2 } eof { exit 3 } }
EXPECT
check "in-login enrollment over ssh lets the user in" logged_in
check "the QR code reaches the ssh client intact (half blocks)" seen "▀"
check "the backup codes reach the client (final info message)" grep -qE '^ +10\. [0-9a-z]{5}-[0-9a-z]{5}' "$SB/out"
check "now enrolled, flag consumed" [ "$(state_field "$USER_NAME" enrolled)/$(state_field "$USER_NAME" required)" = "1/0" ]

finish
