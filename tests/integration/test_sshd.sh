#!/usr/bin/env bash
# A real OpenSSH server on a loopback port, with its own config, host key and PAM service
# (bind-mounted over /etc/pam.d in a private mount namespace that dies with the test), and a
# real ssh client driven by expect: password + code, a replayed code, a wrong code, a backup
# code, in-login enrollment through keyboard-interactive, and public key + code with the
# shipped sshd drop-in and pam.d example (AuthenticationMethods publickey,keyboard-interactive:pam).
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
PK_SSHD_PID=
cleanup() {
  [ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null
  [ -n "$PK_SSHD_PID" ] && kill "$PK_SSHD_PID" 2>/dev/null
  userdel -r "$USER_NAME" >/dev/null 2>&1 || true
}
trap cleanup EXIT
useradd -m "$USER_NAME"
echo "$USER_NAME:$PASSWORD" | chpasswd

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# start_sshd CONFIG PAM_DIR LOG: sshd in the background, in a private mount namespace whose
# /etc/pam.d is PAM_DIR; sets STARTED_PID and waits until it listens.
start_sshd() {
  unshare -m -- bash -c "mount --bind '$2' /etc/pam.d && exec /usr/sbin/sshd -D -e -f '$1'" >"$3" 2>&1 &
  STARTED_PID=$!
  for _ in $(seq 50); do grep -q "Server listening" "$3" && break; sleep 0.1; done
}
PORT=$(free_port)
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
start_sshd "$SB/sshd_config" "$SB/etc-pam.d" "$SB/sshd.log"
SSHD_PID=$STARTED_PID
check "sshd is listening on 127.0.0.1:$PORT" grep -q "Server listening" "$SB/sshd.log"

# ssh_session PORT PASSWORD ANSWER SSH_OPTION...: a real ssh client driven by expect.
# PASSWORD goes to a password prompt (empty: a password prompt ends the session), ANSWER to
# every code prompt. Output in $SB/out; sets RC: 0 when the remote command ran (its output
# line is there), 1 otherwise.
logged_in() { tr -d '\r' < "$SB/out" | grep -qx LOGGEDIN; }
ssh_session() {
  local port=$1 password=$2 answer=$3
  shift 3
  expect -f - "$password" "$answer" <<EXPECT >"$SB/out" 2>&1 || true
set timeout 30
set password [lindex \$argv 0]
set answer [lindex \$argv 1]
spawn ssh -p $port -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o NumberOfPasswordPrompts=1 $* $USER_NAME@127.0.0.1 echo LOGGED""IN
expect {
  "Password:" { if {\$password eq ""} { exit 4 }; send "\$password\r"; exp_continue }
  "Verification code:" { send "\$answer\r"; exp_continue }
  "\nLOGGEDIN" { exit 0 }
  "Permission denied" { exit 1 }
  timeout { exit 2 }
  eof { exit 3 }
}
EXPECT
  if logged_in; then RC=0; else RC=1; fi
}
# ssh_login ANSWER: password, then ANSWER at the code prompt.
ssh_login() { ssh_session "$PORT" "$PASSWORD" "$1" -o PreferredAuthentications=keyboard-interactive; }
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
# The attack first: a wrong password ('auth required pam_unix.so' carries on to pam_valix),
# then the attacker's own phone enrolled at the code prompt. sshd refuses the login, and the
# account must not have been enrolled (before, the attacker's secret was stored).
expect -f - <<EXPECT >"$SB/out" 2>&1 || true
set timeout 30
spawn ssh -p $PORT -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o PreferredAuthentications=keyboard-interactive -o NumberOfPasswordPrompts=1 $USER_NAME@127.0.0.1 echo LOGGED""IN
expect "Password:" { send "not-the-password\r" }
expect -re {key by hand: ([A-Z2-7 ]+)\r?\n} { set key [string map {" " ""} \$expect_out(1,string)] }
expect "Verification code:" { send "[exec oathtool --totp -b \$key]\r" }
expect { "\nLOGGEDIN" { exit 0 } "Permission denied" { exit 1 } timeout { exit 2 } eof { exit 3 } }
EXPECT
check "a wrong password, then an enrollment at the code prompt: no login" bash -c "! tr -d '\r' < '$SB/out' | grep -qx LOGGEDIN"
check "... the enrollment flow was reached" seen "key by hand"
check "... and nothing was enrolled: still flagged, not enrolled" [ "$(state_field "$USER_NAME" enrolled)/$(state_field "$USER_NAME" required)" = "0/1" ]
wait_fresh_step
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

# --- public key + code: conf/sshd/valix-publickey-and-code.conf as shipped, and the auth
# lines of conf/pam.d/sshd-publickey-and-code.example (its account and session lines include
# Debian's common-* files, which need a full system login: not part of this test).
PK_PORT=$(free_port)
{
  printf 'Port %s\nListenAddress 127.0.0.1\nHostKey %s\nPidFile %s\nLogLevel VERBOSE\n' "$PK_PORT" "$SB/hostkey" "$SB/sshd-pk.pid"
  cat "$VALIX_SOURCE_DIR/conf/sshd/valix-publickey-and-code.conf"
} > "$SB/sshd_config-pk"
mkdir -p "$SB/etc-pam.d-pk"
cp "$SB/etc-pam.d/other" "$SB/etc-pam.d-pk/other"
{
  grep '^auth' "$VALIX_SOURCE_DIR/conf/pam.d/sshd-publickey-and-code.example" |
    sed "s|pam_valix.so|$VALIX_MODULE config=$SB/etc/valix.conf|"
  printf 'account required pam_unix.so\nsession required pam_permit.so\n'
} > "$SB/etc-pam.d-pk/sshd"
check "the shipped pam.d example's auth stack is pam_valix then pam_permit" \
  [ "$(grep -c '^auth' "$SB/etc-pam.d-pk/sshd")" -eq 2 ]
start_sshd "$SB/sshd_config-pk" "$SB/etc-pam.d-pk" "$SB/sshd-pk.log"
PK_SSHD_PID=$STARTED_PID
check "a second sshd with the publickey + code drop-in is listening on 127.0.0.1:$PK_PORT" \
  grep -q "Server listening" "$SB/sshd-pk.log"

home=$(getent passwd "$USER_NAME" | cut -d: -f6)
ssh-keygen -q -t ed25519 -N '' -f "$SB/userkey"
install -d -m 700 -o "$USER_NAME" -g "$USER_NAME" "$home/.ssh"
install -m 600 -o "$USER_NAME" -g "$USER_NAME" "$SB/userkey.pub" "$home/.ssh/authorized_keys"
mapfile -t CODES < <(enroll_test_user "$USER_NAME" "$SECRET")

# pk_login key|nokey ANSWER: the client offers the key (or none) and never a password, then
# ANSWER at the code prompt if one comes.
pk_login() {
  if [ "$1" = key ]; then
    ssh_session "$PK_PORT" "" "$2" -i "$SB/userkey" -o IdentitiesOnly=yes \
      -o PreferredAuthentications=publickey,keyboard-interactive
  else
    ssh_session "$PK_PORT" "" "$2" -o PubkeyAuthentication=no -o PreferredAuthentications=keyboard-interactive
  fi
}
wait_fresh_step
code=$(totp_now "$SECRET")
pk_login key "$code"
check "public key + TOTP code over ssh" [ "$RC" -eq 0 ]
check "... with no password asked" bash -c "! grep -q 'Password:' '$SB/out'"
check "... the code was asked" seen "Verification code:"
check "... after sshd accepted the key as the first of two methods" grep -q "Partial publickey for $USER_NAME" "$SB/sshd-pk.log"
pk_login key "$code"
check "public key + the same code again is refused" [ "$RC" -eq 1 ]
pk_login key 000000
check "public key + a wrong code is refused" [ "$RC" -eq 1 ]
check "... with the module's message" seen "Invalid verification code."
pk_login key "${CODES[0]}"
check "public key + a backup code over ssh" [ "$RC" -eq 0 ]
pk_login nokey "$(totp_now "$SECRET")"
check "a right code without the key is refused" [ "$RC" -eq 1 ]
check "... before any code is asked (the key comes first)" bash -c "! grep -q 'Verification code:' '$SB/out'"
check "... and sshd says the key is what is missing" grep -q "Permission denied (publickey)" "$SB/out"

finish
