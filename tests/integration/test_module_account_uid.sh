#!/usr/bin/env bash
# State belongs to the account (its uid), not to a name (issue 14, item 4): an enrolled account
# renamed (usermod -l), another passwd entry for its uid listed before it, or its name given to
# another account must never make it look unenrolled. Each is refused with a log line until
# `valix-admin rename` moves the state, which status reports. Accounts are renamed by editing
# the sandbox's passwd file, as usermod would.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/admin_lib.sh"
: "${VALIX_ENROLL:?run through ctest}"
require_root "valix-admin"
sandbox_init module_account_uid
SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
NOT_AVAILABLE="Two-factor authentication is not available right now"
ALICE_LINE="alice:x:1001:1001:Alice:$SB/home/alice:/bin/sh"
# As pam-auth-update stacks it: a user without 2FA (PAM_IGNORE) goes on to the next module and
# passes, so a login that reached no state would succeed here.
{
  echo "auth [success=ok ignore=ignore default=die] $VALIX_MODULE config=$SB/etc/valix.conf debug"
  echo "auth required pam_permit.so"
  echo "account required pam_permit.so"
} > "$SB/pam.d/stack"

fresh_state() { rm -f "$SB"/state/*.state "$SB"/state/+*.uid; }
file_is() { [ "$(cat "$SB/state/$1" 2>/dev/null)" = "$2" ]; }
asked_for_code() { out_has "Verification code:"; }

# --- upgrade: a state written before uids were recorded gets alice's on its next write --------
enroll_test_user alice "$SECRET" >/dev/null
check "a state written without a uid records none" [ -z "$(state_field alice uid)" ]
wait_fresh_step
expect_login ok "alice logs in with her code (the old state is accepted)" stack alice "$(totp_now "$SECRET")"
check "the login recorded alice's uid in her state" [ "$(state_field alice uid)" = 1001 ]
check "... and the uid index points at alice" file_is +1001.uid alice
check "the index is private to root" [ "$(stat -c %a:%u "$SB/state/+1001.uid")" = 600:0 ]

# --- the account renamed: usermod -l alice2 alice -----------------------------------------------
sed -i 's/^alice:/alice2:/' "$SB/etc/passwd"
next_code=$(totp_at "$SECRET" $(( $(date +%s) + 30 )))
expect_login fail "renamed alice2 is refused, not let through as unenrolled" stack alice2 "$next_code"
check "... with one clear log line naming the old name and the fix" \
  log_has "2FA state of uid 1001 is filed under 'alice', not under the account's own name 'alice2'"
check "... which says what to run" log_has "valix-admin rename alice alice2"
check "... and the user is told 2FA is not available" out_has "$NOT_AVAILABLE"
check "... without being asked for a code" bash -c '! grep -aqF "Verification code:" "$0/out" "$0/err"' "$SB"
check "nothing was counted or written" [ "$(state_field alice failures)" = 0 ]
check "no state was made under the new name" [ ! -e "$SB/state/alice2.state" ]
pam_env "$VALIX_ENROLL" --config "$SB/etc/valix.conf" --user alice2 --begin >"$SB/eout" 2>"$SB/eerr" </dev/null &&
  enroll_rc=0 || enroll_rc=$?
check "valix-enroll for alice2 refuses too (no second enrollment beside the first)" [ "$enroll_rc" -ne 0 ]
check "... saying what to run" grep -qF "valix-admin rename alice alice2" "$SB/eerr"
check "... and stores nothing under alice2" [ ! -e "$SB/state/alice2.state" ]

expect_admin 1 "status reports the misfiled state (exit 1)" status
check "... with the rename command to run" stderr_has "valix-admin rename alice alice2"
check "... and still lists it" stdout_has "alice (no account)"
expect_admin 3 "status alice2 refuses the misfiled account too" status alice2
expect_admin 3 "reset alice2 refuses rather than report nothing to reset" reset alice2
check "... naming where the state is" stderr_has "is filed under 'alice'"

# rename refuses a destination with state, and a destination with another uid.
"$VALIX_TEST_STATE" "$SB/state" alice2 flag
expect_admin 3 "rename refuses when the new name already has state" rename alice alice2
check "... saying so" stderr_has "'alice2' already has 2FA state"
check "... and moves nothing" [ -e "$SB/state/alice.state" ]
rm -f "$SB/state/alice2.state"
expect_admin 3 "rename refuses to give alice's state to bob (another uid)" rename alice bob
check "... naming the uids" stderr_has "belongs to uid 1001, not to 'bob' (uid 1002)"
check "... and moves nothing" [ -e "$SB/state/alice.state" ]
expect_admin 3 "rename of a name without state is refused" rename carol alice2
expect_admin 2 "rename needs two names" rename alice

syslog_start
expect_admin 0 "valix-admin rename alice alice2" rename alice alice2
syslog_check "the rename is audit-logged" "rename alice (by root): 2FA state moved to alice2 (uid 1001)"
syslog_stop
check "the state is under alice2 only" bash -c "[ ! -e '$SB/state/alice.state' ] && [ -e '$SB/state/alice2.state' ]"
check "it records uid 1001" [ "$(state_field alice2 uid)" = 1001 ]
check "the index follows it" file_is +1001.uid alice2
expect_admin 0 "status is clean again" status
wait_fresh_step
expect_login ok "alice2 now logs in with the code" stack alice2 "$(totp_at "$SECRET" $(( $(date +%s) + 30 )))"
check "... after being asked for it" asked_for_code
check "... recorded in the moved state" [ "$(state_field alice2 last_step)" -gt 0 ]

# --- another passwd entry for alice's uid, listed before alice ----------------------------------
fresh_state
sed -i '/^alice2:/d' "$SB/etc/passwd"
sed -i "2i $ALICE_LINE" "$SB/etc/passwd"
enroll_test_user alice "$SECRET" --uid 1001 >/dev/null
check "written with the uid: indexed" file_is +1001.uid alice
sed -i "s|^alice:|al:x:1001:1001:Alias:$SB/home/alice:/bin/sh\nalice:|" "$SB/etc/passwd"
wait_fresh_step
code=$(totp_now "$SECRET")
expect_login fail "alias 'al' (listed first for uid 1001) is refused" stack al "$code"
check "... with the log line" log_has "filed under 'alice', not under the account's own name 'al'"
check "... and the user told" out_has "$NOT_AVAILABLE"
expect_login fail "alice herself is refused as well" stack alice "$code"
check "... with the log line" log_has "filed under 'alice', not under the account's own name 'al'"
check "no state under the alias" [ ! -e "$SB/state/al.state" ]
expect_admin 1 "status reports it" status
check "... with the rename command" stderr_has "valix-admin rename alice al"
expect_admin 0 "rename alice al" rename alice al
check "moved under al" [ "$(state_field al uid)" = 1001 ]
expect_login ok "al is asked for the code and accepted" stack al "$code"
check "... asked" asked_for_code
expect_login ok "alice reaches the same state: asked and accepted" stack alice "$(totp_at "$SECRET" $(( $(date +%s) + 30 )))"
check "... asked" asked_for_code
expect_login fail "... and a replay of al's code is refused there" stack alice "$code"
sed -i '/^al:/d' "$SB/etc/passwd"

# --- the name given to another account -----------------------------------------------------------
# alice (1001) is renamed to alice2 and a new account takes the name alice (1006): the state
# under 'alice' is uid 1001's, so the newcomer is neither challenged with it nor let through.
fresh_state
enroll_test_user alice "$SECRET" --uid 1001 >/dev/null
sed -i "s|^alice:.*|alice2:x:1001:1001:Alice:$SB/home/alice:/bin/sh\nalice:x:1006:1006:New Alice:$SB/home/alice-new:/bin/sh|" "$SB/etc/passwd"
expect_login fail "the new alice (uid 1006) is refused" stack alice 000000
check "... with its own log line" log_has "the 2FA state filed under 'alice' belongs to uid 1001, not to this account (uid 1006)"
check "... not asked for the old alice's code" bash -c '! grep -aqF "Verification code:" "$0/out" "$0/err"' "$SB"
expect_login fail "alice2 (uid 1001) is refused: her state is under 'alice'" stack alice2 000000
check "... with the log line" log_has "is filed under 'alice', not under the account's own name 'alice2'"
expect_admin 1 "status reports the state filed under a reused name" status
check "... with the rename command for its account" stderr_has "valix-admin rename alice alice2"
expect_admin 0 "rename alice alice2 (the state's uid is alice2's)" rename alice alice2
expect_login ok "the new alice is not enrolled: passes as any unenrolled user" stack alice
check "... without a code" bash -c '! grep -aqF "Verification code:" "$0/out" "$0/err"' "$SB"
wait_fresh_step
expect_login ok "alice2 is asked for her code and accepted" stack alice2 "$(totp_now "$SECRET")"
check "... asked" asked_for_code

# The old account removed as well: the state's uid has no account, the name is another's.
fresh_state
enroll_test_user alice "$SECRET" --uid 1001 >/dev/null
sed -i '/^alice2:/d' "$SB/etc/passwd"
expect_login fail "the new alice is still refused" stack alice 000000
expect_admin 1 "status reports a reused name whose state's uid has no account" status
check "... saying which uid it belongs to" stderr_has "this state belongs to uid 1001, which has no account now"

# --- after an upgrade: what cannot be tied to a uid yet -------------------------------------------
# A state written before uids were recorded, whose name has no account now (renamed or removed
# before the upgrade), is reported as a warning: logins by a new name cannot see it.
fresh_state
enroll_test_user ghost "$SECRET" >/dev/null
expect_admin 0 "status warns about an old state without uid or account (exit 0)" status
check "... with what to do" stderr_has "cannot be tied to an account: if the account was renamed, move it with 'valix-admin rename ghost NEWNAME'"

finish
