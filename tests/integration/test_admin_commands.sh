#!/usr/bin/env bash
# valix-admin require, unrequire, reset and unlock: effects on the state, messages, syslog
# audit lines, error cases (nothing changed), and what the module does afterwards.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/admin_lib.sh"
require_root "valix-admin"
sandbox_init admin_commands
SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
# An extra group: dave and erin are listed members, frank has it as his primary group.
echo "frank:x:1006:2002:Frank:$SB/home/frank:/bin/sh" >> "$SB/etc/passwd"
echo "ops:x:2002:dave,erin" >> "$SB/etc/group"
echo "empty:x:2003:" >> "$SB/etc/group"
syslog_start

exists() { [ "$(state_field "$1" exists)" = "$2" ]; }

# --- command line ---------------------------------------------------------------------------
check "--help exits 0 and documents exit codes" bash -c "'$VALIX_ADMIN' --help | grep -q '4  not run as root'"
check "--version" bash -c "'$VALIX_ADMIN' --version | grep -qx 'valix-admin [0-9.]*'"
check "output that cannot be written (/dev/full) fails (exit 1) and says so" bash -c \
  "'$VALIX_ADMIN' --help >/dev/full 2>'$SB/full.err'; [ \$? -eq 1 ] && grep -q 'could not write the output' '$SB/full.err'"
expect_admin 2 "no command is a usage error"
expect_admin 2 "unknown command" frobnicate alice
check "unknown command named" stderr_has "unknown command 'frobnicate'"
expect_admin 2 "unknown option" status --bogus
expect_admin 2 "reset takes one user" reset alice bob
expect_admin 2 "--json only with status" require alice --json
expect_admin 2 "--group only with require/unrequire" reset --group admins
expect_admin 2 "--force only with import" require --force alice
expect_admin 2 "require needs a user" require
check "usage error changed nothing" bash -c "! ls '$SB/state' | grep -q state"
# A name with C1 controls (0x9b is CSI, raw and as UTF-8) is echoed with '?' for every byte
# >= 0x80, on the terminal and in the audit log.
expect_admin 3 "a name with C1 control bytes is refused" reset $'x\x9b2J\xc2\x9by'
check "... and shown with '?' for each byte >= 0x80" stderr_has "'x?2J??y' is not a valid user name"
check "... no byte >= 0x80 reaches the terminal" bash -c "! LC_ALL=C grep -qaP '[\x80-\xff]' '$SB/err'"
syslog_check "... nor the audit log (sanitized line)" "'x?2J??y' is not a valid user name"
if [ -n "${SYSLOG_DEV:-}" ]; then
  check "... no byte >= 0x80 in the audit log" bash -c "! LC_ALL=C grep -qaP '[\x80-\xff]' '$SB/syslog.txt'"
fi

set +e
setpriv --reuid=1001 --regid=1001 --clear-groups "$VALIX_ADMIN" --config "$SB/etc/valix.conf" status >"$SB/out" 2>"$SB/err"
rc=$?
set -e
check "not root: exit 4" [ "$rc" -eq 4 ]
check "not root: clear message" stderr_has "valix-admin: must be run as root"

expect_admin 1 "missing valix.conf: exit 1" --config "$SB/etc/nonexistent.conf" status
check "config error explained" stderr_has "configuration error"
printf 'state_dir = %s/state\nbogus_key = 1\n' "$SB" > "$SB/etc/bad.conf"
expect_admin 1 "bad valix.conf: exit 1" --config "$SB/etc/bad.conf" status
check "config error names file and line" stderr_has "bad.conf:2: unknown setting 'bogus_key'"

# --- require --------------------------------------------------------------------------------
expect_admin 0 "require alice" require alice
check "reference wording" stdout_has "2FA is now required for alice. They will be prompted to set up 2FA when they next sign in."
check "flag set" [ "$(state_field alice required)" = 1 ]
check "not enrolled" [ "$(state_field alice enrolled)" = 0 ]
syslog_check "require audited with who and whom" "require alice (by root): 2FA required on next login (flag set)"
expect_admin 0 "require alice again" require alice
check "already required: said so" stdout_has "2FA was already required for alice on their next login; nothing changed."

enroll_test_user bob "$SECRET" >/dev/null
cp "$SB/state/bob.state" "$SB/bob.before"
expect_admin 0 "require an enrolled user" require bob
check "enrolled: said so" stdout_has "bob is already enrolled; 2FA is already required."
check "enrolled: state left exactly as is" cmp -s "$SB/state/bob.state" "$SB/bob.before"

expect_admin 3 "require an unknown user" require nosuchuser
check "unknown user: clear error" stderr_has "there is no user named 'nosuchuser'; nothing changed"
check "unknown user: no state written" [ ! -e "$SB/state/nosuchuser.state" ]
expect_admin 3 "require an invalid name" require "../etc/passwd"
check "invalid name: clear error" stderr_has "'../etc/passwd' is not a valid user name"
expect_admin 3 "require with a control character in the name" require "$(printf 'a\tb')"
expect_admin 3 "require dave erin nosuchuser: refused as a whole" require dave erin nosuchuser
check "nothing changed for dave" exists dave 0
check "nothing changed for erin" exists erin 0
syslog_check "refusal audited" "there is no user named 'nosuchuser'"

SUDO_USER=carol admin require dave
check "require dave via sudo" [ "$ADMIN_RC" -eq 0 ]
syslog_check "sudo user logged next to the real user" "require dave (by carol (as root via sudo))"

expect_admin 3 "require --group of a group that does not exist" require --group nosuchgroup
check "missing group: clear error" stderr_has "there is no group named 'nosuchgroup'"
expect_admin 0 "require --group of an empty group" require --group empty
check "empty group: warned" stderr_has "group 'empty' has no members"
expect_admin 0 "require --group ops" require --group ops
check "listed member erin flagged" [ "$(state_field erin required)" = 1 ]
check "primary-group member frank flagged" [ "$(state_field frank required)" = 1 ]
check "dave (already flagged) reported" stdout_has "2FA was already required for dave"
check "carol (not in ops) untouched" exists carol 0

# --- unrequire ------------------------------------------------------------------------------
expect_admin 0 "unrequire alice" unrequire alice
check "unrequire: said so" stdout_has "alice no longer has to set up 2FA on their next login."
check "unrequire: empty state removed" exists alice 0
syslog_check "unrequire audited" "unrequire alice (by root): flag cleared"
expect_admin 3 "unrequire a user without state" unrequire alice
check "no state: clear error" stderr_has "alice has no 2FA state; nothing changed"
expect_admin 3 "unrequire an unknown user" unrequire nosuchuser
expect_admin 0 "unrequire an enrolled user who was not flagged" unrequire bob
check "not flagged: said so" stdout_has "2FA was not required for bob by an administrator; nothing changed."
check "enrolled: pointed at reset" stdout_has "Use 'valix-admin reset bob' to turn 2FA off."
write_config "require = all"
expect_admin 0 "unrequire under require=all" unrequire frank
check "policy still requires: said so" stdout_has "still requires 2FA for frank (host policy)"
write_config ""

# --- another spelling of a name (SSSD or winbind matching without regard to case) -------------
with_name_aliases "ALICE=alice" expect_admin 0 "require through another spelling of alice" require ALICE
check "the account's own name is flagged" [ "$(state_field alice required)" = 1 ]
check "no state under the spelling typed" [ ! -e "$SB/state/ALICE.state" ]
check "output names the account" stdout_has "2FA is now required for alice."
with_name_aliases "ALICE=alice" expect_admin 0 "unrequire through another spelling" unrequire ALICE
check "alice's flag cleared" exists alice 0
enroll_test_user alice "$SECRET" --failures 5 --locked-until $(( $(date +%s) + 600 )) >/dev/null
with_name_aliases "ALICE=alice" expect_admin 0 "unlock through another spelling" unlock ALICE
check "alice's own lockout ended" [ "$(state_field alice failures)" = 0 ]
with_name_aliases "ALICE=alice" expect_admin 0 "reset through another spelling" reset ALICE
check "alice's own state removed" exists alice 0
check "nothing created under the spelling" [ ! -e "$SB/state/ALICE.lock" ]
# A second login name for alice's uid names alice's account.
echo "alice2:x:1001:1001:Alice again:$SB/home/alice:/bin/sh" >> "$SB/etc/passwd"
expect_admin 0 "require through a second login name of alice's uid" require alice2
check "alice's own state is flagged" [ "$(state_field alice required)" = 1 ]
check "no state under the second name" [ ! -e "$SB/state/alice2.state" ]
expect_admin 0 "unrequire through the second login name" unrequire alice2
check "alice's flag cleared" exists alice 0
sed -i '/^alice2:/d' "$SB/etc/passwd"
# State an earlier version filed under 'alice' while uid 1001 maps to alice0 (listed first):
# status flags it (non-zero exit, but still shows it), and commands on the account refuse
# with what to rename rather than act beside it.
sed -i "s|^alice:|alice0:x:1001:1001:Alice first:$SB/home/alice:/bin/sh\nalice:|" "$SB/etc/passwd"
enroll_test_user alice "$SECRET" >/dev/null
expect_admin 1 "status flags state filed under a name its uid does not map to" status
check "... saying what to rename it to" stderr_has "filed under 'alice': logins refuse it or do not see it; rename it to alice0.state"
check "... and still lists it" stdout_has "alice "
expect_admin 3 "reset alice (uid 1001, whose own name is alice0) refuses while the state is under alice" reset alice
check "... saying where the state is" stderr_has "2FA state for the account 'alice0' is filed under 'alice'"
expect_admin 3 "status alice bob: alice's misfiled state is reported" status alice bob
check "... and bob is still shown" stdout_has "bob "
echo "misfiled:x:2003:alice,bob" >> "$SB/etc/group"
expect_admin 3 "require --group with a member whose state is misfiled changes nobody" require --group misfiled
check "... says which" stderr_has "is filed under 'alice'"
check "... bob not flagged" [ "$(state_field bob required)" != 1 ]
sed -i '/^misfiled:/d' "$SB/etc/group"
check "... and nothing was removed" exists alice 1
rm -f "$SB/state/alice.state"
sed -i '/^alice0:/d' "$SB/etc/passwd"
expect_admin 3 "unrequire --group of a group that does not exist" unrequire --group nosuchgroup
check "missing group: clear error" stderr_has "there is no group named 'nosuchgroup'"
"$VALIX_TEST_STATE" "$SB/state" ghost flag
expect_admin 0 "unrequire a user whose account is gone but whose state remains" unrequire ghost
check "leftover state cleaned up" exists ghost 0
expect_admin 0 "unrequire --group ops (alice has no state: skipped)" unrequire --group ops
check "erin cleared" exists erin 0
check "dave cleared" exists dave 0

# --- reset ----------------------------------------------------------------------------------
expect_admin 0 "reset an enrolled user" reset bob
check "reset: reference wording" stdout_has "2FA has been reset for bob. They can set it up again with valix-enroll, or will be asked to on their next login if 2FA is required."
check "reset: state removed (nothing left to keep)" exists bob 0
syslog_check "reset audited with what was removed" "reset bob (by root): enrollment and 10 backup codes removed"
enroll_test_user erin "$SECRET" --required --failures 7 --locked-until $(( $(date +%s) + 600 )) --backup-codes 4 >/dev/null
expect_admin 0 "reset a flagged, locked, enrolled user" reset erin
check "flag kept" [ "$(state_field erin required)" = 1 ]
check "enrollment gone" [ "$(state_field erin enrolled)" = 0 ]
check "failures cleared" [ "$(state_field erin failures)" = 0 ]
check "lockout cleared" [ "$(state_field erin locked_until)" = 0 ]
syslog_check "reset audit mentions the kept flag" "enrollment and 4 backup codes removed, lockout cleared; admin flag kept"
expect_login fail "after reset the flagged user is walked through enrollment" valix erin 111111 222222 333333
check "enrollment screen shown" out_has "Two-factor authentication (2FA) is required for your account. Set it up now."
expect_admin 0 "reset a user with only a flag" reset erin
check "nothing to reset: said so" stdout_has "erin has not set up 2FA; nothing to reset."
expect_admin 3 "reset a user without state" reset alice
check "no state: clear error" stderr_has "alice has no 2FA state; nothing to reset"
expect_admin 3 "reset an unknown user" reset nosuchuser
expect_admin 3 "reset an invalid name (after --)" reset -- "-rf"
# A state file no tool can read (corrupt, or too large) would lock the user out of every
# login and every tool for good: reset removes it, and says so on stdout and in the audit log.
printf 'garbage\n' > "$SB/state/dave.state"
chmod 600 "$SB/state/dave.state"
expect_login fail "a corrupt state file denies the login" valix dave 000000
expect_admin 1 "unlock cannot touch a corrupt state file" unlock dave
check "... corrupt file left alone by unlock" [ "$(cat "$SB/state/dave.state")" = garbage ]
expect_admin 0 "reset removes a corrupt (root-owned, 0600) state file" reset dave
check "corrupt: said so" stdout_has "The 2FA state of dave could not be read (line 1: expected 'key value'), so it has been removed"
check "corrupt: the lost admin flag mentioned" stdout_has "valix-admin require dave"
check "corrupt: the file is gone" [ ! -e "$SB/state/dave.state" ]
syslog_check "corrupt: audited" "reset dave (by root): unreadable state file removed (line 1: expected 'key value')"
expect_admin 3 "... afterwards dave has no state" reset dave
head -c 70000 /dev/zero | tr '\0' x > "$SB/state/dave.state"
chmod 600 "$SB/state/dave.state"
expect_admin 0 "reset removes a state file larger than the limit" reset dave
check "too large: said so" stdout_has "larger than 65536 bytes"
check "too large: the file is gone" [ ! -e "$SB/state/dave.state" ]
# Files the store never trusts are kept, whatever they hold: they are for an administrator.
enroll_test_user dave "$SECRET" >/dev/null
chmod 644 "$SB/state/dave.state"
expect_admin 1 "reset with a world-readable state file fails" reset dave
check "unsafe: explained" stderr_has "unsafe permissions"
check "unsafe: says it was not removed" stderr_has "not removed"
check "unsafe file kept" [ -e "$SB/state/dave.state" ]
rm -f "$SB/state/dave.state"
printf 'garbage\n' > "$SB/decoy.state"
chmod 600 "$SB/decoy.state"
ln -s "$SB/decoy.state" "$SB/state/dave.state"
expect_admin 1 "reset with a symlink as the state file fails" reset dave
check "symlink: explained" stderr_has "symbolic link"
check "symlink: kept, and its target" bash -c "[ -L '$SB/state/dave.state' ] && [ -e '$SB/decoy.state' ]"
rm -f "$SB/state/dave.state"
printf 'garbage\n' > "$SB/state/dave.state"
chmod 600 "$SB/state/dave.state"
chown 1004:1004 "$SB/state/dave.state"
expect_admin 1 "reset with a corrupt state file owned by the user fails" reset dave
check "wrong owner: explained" stderr_has "owned by uid 1004"
check "wrong owner: kept" [ -e "$SB/state/dave.state" ]
rm -f "$SB/state/dave.state"

# --- unlock ---------------------------------------------------------------------------------
enroll_test_user carol "$SECRET" --failures 5 --locked-until $(( $(date +%s) + 600 )) >/dev/null
wait_fresh_step
expect_login fail "locked user is refused" valix carol "$(totp_now "$SECRET")"
expect_admin 0 "unlock carol" unlock carol
check "unlock: said so" stdout_has "carol has been unlocked and can sign in again."
check "failures cleared" [ "$(state_field carol failures)" = 0 ]
check "lockout cleared" [ "$(state_field carol locked_until)" = 0 ]
check "still enrolled" [ "$(state_field carol enrolled)" = 1 ]
syslog_check "unlock audited" "unlock carol (by root): cleared 5 failed attempts, lockout until"
wait_fresh_step
expect_login ok "after unlock a correct code works" valix carol "$(totp_now "$SECRET")"
expect_admin 0 "unlock a user who is not locked" unlock carol
check "not locked: said so" stdout_has "carol is not locked out; nothing changed."
enroll_test_user dave "$SECRET" --failures 2 >/dev/null
expect_admin 0 "unlock clears failures below the lockout threshold" unlock dave
check "failures cleared" [ "$(state_field dave failures)" = 0 ]
expect_admin 3 "unlock a user without state" unlock alice
check "no state: clear error" stderr_has "alice has no 2FA state; nothing to unlock"
expect_admin 3 "unlock an unknown user" unlock nosuchuser

if [ -n "${SYSLOG_DEV:-}" ]; then
  check "the secret never reaches syslog" bash -c "! grep -q '$SECRET' '$SB/syslog.txt'"
fi
syslog_stop
finish
