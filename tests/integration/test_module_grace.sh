#!/usr/bin/env bash
# The opt-in grace period (grace_seconds) through a real PAM stack, with the remote host and
# tty set as sshd and sudo set them (pamtester -I): it applies to the same user, remote host,
# service and tty within the period, and to nothing else; not for an empty or local remote
# host (unless grace_local = yes); not after it expired; not while locked out; a wrong code
# from anywhere, valix-admin unlock and reset end it; a grace login writes nothing and is
# logged; the period runs from the last real success.
source "$(dirname "$0")/lib.sh"
sandbox_init module_grace
source "$(dirname "$0")/admin_lib.sh"

SECRET=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
mapfile -t CODES < <(enroll_test_user alice "$SECRET" --backup-codes 30)
# window = 4: a test logs in with the codes of the next steps instead of waiting for them.
conf() { write_config "window = 4${1:+
$1}"; }
STEP=0
next_totp() { TOTP=$(totp_at "$SECRET" $(( $(date +%s) + 30 * STEP ))); STEP=$((STEP + 1)); }
write_service valix2 ""
USED=0
next_backup() { BACKUP=${CODES[$USED]}; USED=$((USED + 1)); }
from() { LOGIN_ITEMS=(-I "rhost=$1" -I "tty=$2"); }
asked() { out_has "Verification code:"; }
not_asked() { ! asked; }
grace_entries() { "$VALIX_TEST_STATE" "$SB/state" alice text | grep -c '^grace ' || true; }

# --- off by default -------------------------------------------------------------------------
conf ""
wait_fresh_step
from 192.0.2.7 pts/1
next_totp
expect_login ok "grace_seconds unset: a code logs in" valix alice "$TOTP"
next_backup
expect_login ok "... and the next login is asked again" valix alice "$BACKUP"
check "... it was asked" asked
check "... no grace entry stored" [ "$(grace_entries)" -eq 0 ]

# --- the same rhost, service and tty: let in without a code ----------------------------------
conf "grace_seconds = 600"
next_backup
expect_login ok "a backup code from 192.0.2.7 on pts/1" valix alice "$BACKUP"
check "... one grace entry stored, hashed (no remote host in the state)" \
  bash -c "[ \"\$('$VALIX_TEST_STATE' '$SB/state' alice text | grep -c '^grace [0-9a-f]\{32\} [0-9]*$')\" -eq 1 ] && ! '$VALIX_TEST_STATE' '$SB/state' alice text | grep -q 192.0.2.7"
cp "$SB/state/alice.state" "$SB/before-grace"
expect_login ok "same user, rhost, service and tty within the period: let in" valix alice
check "... without a code prompt" not_asked
check "... logged at info as event=grace" \
  log_has "SYSLOG(6): event=grace reason=grace_period user=alice service=valix rhost=192.0.2.7 tty=pts/1 grace_until="
check "... nothing written (a grace use never extends itself)" cmp -s "$SB/state/alice.state" "$SB/before-grace"
expect_login ok "... and again" valix alice
check "... still without a prompt" not_asked

# --- anything else is asked -----------------------------------------------------------------
from 192.0.2.8 pts/1
next_backup
expect_login ok "another remote host: asked (a backup code logs in)" valix alice "$BACKUP"
check "... it was asked" asked
from 192.0.2.7 pts/1
next_backup
expect_login ok "another service: asked" valix2 alice "$BACKUP"
check "... it was asked" asked
from 192.0.2.7 pts/2
next_backup
expect_login ok "another tty: asked" valix alice "$BACKUP"
check "... it was asked" asked
from 192.0.2.7 pts/1
expect_login ok "the first key's grace is untouched by those successes" valix alice
check "... no prompt" not_asked
check "four grace entries now (one per key)" [ "$(grace_entries)" -eq 4 ]

# --- never for an empty or local remote host, unless grace_local = yes -------------------------
for rhost in "" localhost 127.0.0.1 ::1; do
  LOGIN_ITEMS=(-I "tty=pts/1")
  [ -n "$rhost" ] && from "$rhost" pts/1
  next_backup
  entries=$(grace_entries)
  expect_login ok "rhost '${rhost}': a backup code logs in" valix alice "$BACKUP"
  check "... and grants no grace entry" [ "$(grace_entries)" -eq "$entries" ]
  expect_login fail "rhost '${rhost}': no grace right after it (asked; an empty answer is refused)" valix alice ""
  check "... it was asked" asked
done
# (The refused empty answers above were failures: each ended every grace period.)
check "... and those failures ended every entry" [ "$(grace_entries)" -eq 0 ]
conf "grace_seconds = 600
grace_local = yes"
LOGIN_ITEMS=(-I "tty=pts/1")
next_backup
expect_login ok "grace_local = yes, no rhost: a backup code" valix alice "$BACKUP"
expect_login ok "... then let in without a code" valix alice
check "... no prompt" not_asked

# --- a wrong code from another host ends every grace period ----------------------------------
conf "grace_seconds = 600"
from 192.0.2.7 pts/1
next_totp
expect_login ok "a TOTP code from 192.0.2.7" valix alice "$TOTP"
expect_login ok "... grace applies" valix alice
check "... no prompt" not_asked
from 198.51.100.9 pts/4
expect_login fail "a wrong code from 198.51.100.9" valix alice 000000
check "... no grace entry left" [ "$(grace_entries)" -eq 0 ]
admin status alice --json
check "status --json: last_failure is set" [ "$(json_field last_failure)" != null ]
check "status --json: last_failure_rhost is the wrong code's remote host" [ "$(json_field last_failure_rhost)" = '"198.51.100.9"' ]
from 192.0.2.7 pts/1
next_backup
expect_login ok "192.0.2.7 is asked again" valix alice "$BACKUP"
check "... it was asked" asked
admin status alice --json
check "... a success keeps the last failure (history)" [ "$(json_field last_failure_rhost)" = '"198.51.100.9"' ]

# --- expiry, and renewal by a real success only --------------------------------------------------
# Entries are stored with the time of their success; aging one by 601 s is the same as waiting
# out the 600 s.
grace_time() { "$VALIX_TEST_STATE" "$SB/state" alice text | awk '/^grace /{print $3}' | sort -n | tail -1; }
now=$(date +%s)
edit_state alice "s/^grace \([0-9a-f]*\) [0-9]*\$/grace \1 $((now - 601))/"
expect_login fail "after the period: asked (an empty answer is refused)" valix alice ""
check "... it was asked" asked
next_backup
expect_login ok "... a backup code" valix alice "$BACKUP"
check "... starts a new period from its own time (pam_google_authenticator #129, #193)" [ "$(grace_time)" -ge "$now" ]
expect_login ok "... which lets the next login in" valix alice
check "... no prompt" not_asked
edit_state alice "s/^grace \([0-9a-f]*\) [0-9]*\$/grace \1 $((now - 597))/"
expect_login ok "3 s before the end of the period: still let in" valix alice
check "... no prompt" not_asked
check "... and the use did not move the period" [ "$(grace_time)" -eq $((now - 597)) ]
sleep 4
expect_login fail "once it ended: asked again (the uses never extended it)" valix alice ""
check "... it was asked" asked

# --- not while locked out -----------------------------------------------------------------------
# A lockout planted beside a live entry (a real lockout comes from failures, which end every
# entry): the lockout is checked first.
edit_state alice "s/^locked_until .*/locked_until $(( $(date +%s) + 600 ))/"
expect_login fail "locked out: no grace" valix alice ""
check "... told it is locked" log_has "event=denied reason=locked user=alice"
admin unlock alice
check "unlock: done" [ "$ADMIN_RC" -eq 0 ]
check "unlock ends every grace period" [ "$(grace_entries)" -eq 0 ]
expect_login fail "after unlock: asked" valix alice ""
check "... it was asked" asked

# --- reset ends them too -----------------------------------------------------------------------
admin unlock alice
next_backup
expect_login ok "a backup code" valix alice "$BACKUP"
expect_login ok "... grace applies" valix alice
edit_state alice "s/^required 0/required 1/"
admin reset alice
check "reset: done" [ "$ADMIN_RC" -eq 0 ]
check "... the state (kept for the admin flag) has no grace entry and no last failure" \
  bash -c "! '$VALIX_TEST_STATE' '$SB/state' alice text | grep -qE '^(grace|last_failure)'"

finish
