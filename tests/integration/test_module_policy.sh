#!/usr/bin/env bash
# Policy for users who are not enrolled, lockout and back-off, malformed answers, and the
# module options (prompt=, try_first_pass, use_first_pass, unknown options, the removed
# forward_pass).
source "$(dirname "$0")/lib.sh"
sandbox_init module_policy
SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ

# A stack that lets PAM_IGNORE through to pam_permit but dies on any failure.
policy_service() {
  {
    echo "auth [success=ok ignore=ignore default=die] $VALIX_MODULE config=$SB/etc/valix.conf debug $1"
    echo "auth required pam_permit.so"
  } > "$SB/pam.d/policy"
}
policy_service ""

# --- not enrolled -------------------------------------------------------------------------
write_config "require = none"
expect_login ok "require=none: a user who is not enrolled passes (PAM_IGNORE)" policy alice
check "PAM_IGNORE logged" log_has "not required to use 2FA: ignored"
check "no code was asked" bash -c "! grep -q 'Verification code' '$SB/out' '$SB/err'"
# Without the debug option too: a login let through without 2FA is an info line (audit).
LOGIN_ITEMS=(-I rhost=192.0.2.7 -I tty=pts/3)
login valix alice
LOGIN_ITEMS=()
check "PAM_IGNORE logged at info without debug, in the key=value shape" \
  log_has "SYSLOG(6): event=ignored reason=not_required user=alice service=valix rhost=192.0.2.7 tty=pts/3 msg=\"not enrolled and not required to use 2FA: ignored\""

write_config "require = all"
expect_login fail "require=all: a user who is not enrolled is denied" policy alice
check "the user is told what to do" out_has "Ask your administrator to require 2FA on your next login"
check "denial logged with the reason" log_has "2FA required (host) but not enrolled"
grep -av 'PWRAP' "$SB/out" "$SB/err" | sed 's/^[^:]*://' > "$SB/known.txt"
expect_login fail "require=all: an unknown user is denied" policy nosuchuser
grep -av 'PWRAP' "$SB/out" "$SB/err" | sed 's/^[^:]*://' | sed 's/nosuchuser/alice/g' > "$SB/unknown.txt"
check "unknown and not-enrolled users see the same thing" cmp -s "$SB/known.txt" "$SB/unknown.txt"

write_config "require = groups
require_groups = admins"
expect_login fail "require=groups: a member (bob in admins) is denied" policy bob
check "group reason logged" log_has "2FA required (group) but not enrolled"
expect_login ok "require=groups: a non-member (alice) passes" policy alice

# A required group the group database does not find (a typo, or a directory that is down and
# answers "not found") denies instead of lifting the requirement; a group name with a blank
# is written in quotes.
write_config "require = groups
require_groups = admins, nosuchgroup"
expect_login fail "require=groups naming a group that is not found: a non-member is denied" policy alice
check "... with the reason logged" log_has "group 'nosuchgroup' was not found"
check "... and the user told 2FA is unavailable" out_has "not available right now"
echo 'domain admins:x:2002:alice' >> "$SB/etc/group"
write_config 'require = groups
require_groups = "domain admins"'
expect_login fail "require=groups: a member of a quoted group with a blank is denied" policy alice
check "group reason logged" log_has "2FA required (group) but not enrolled"
write_config "require = all
exempt_groups = exempt  # a trailing comment"
expect_login fail "a trailing comment in a group list is an error (denied), not group names" policy carol
check "... said so in the log" log_has "comments go on a line of their own"
sed -i '/^domain admins:/d' "$SB/etc/group"

write_config "require = all
exempt_groups = exempt"
expect_login ok "exempt group (carol) passes under require=all" policy carol
expect_login fail "non-exempt user (dave) is denied under require=all" policy dave

write_config "require = none"
"$VALIX_TEST_STATE" "$SB/state" erin flag
expect_login fail "admin-flagged user goes to enrollment (wrong codes: denied)" policy erin 111111 222222 333333
check "enrollment screen shown" out_has "Two-factor authentication (2FA) is required for your account. Set it up now."
check "three tries then refused" out_has "2FA was not set up"
check "flag kept after a failed enrollment" [ "$(state_field erin required)" = 1 ]
check "nothing enrolled" [ "$(state_field erin enrolled)" = 0 ]

write_config "require = all
unenrolled = enroll"
expect_login fail "unenrolled=enroll: an unknown user sees the enrollment screens too" policy nosuchuser 111111 222222 333333
check "enrollment screen shown for unknown user" out_has "Set it up now."
check "no state written for the unknown user" [ ! -e "$SB/state/nosuchuser.state" ]

# --- enrolled users are challenged whatever the policy says -------------------------------
write_config "require = none"
enroll_test_user alice "$SECRET" >/dev/null
expect_login fail "require=none does not exempt an enrolled user" policy alice 000000

# A name service that matches names without regard to case (SSSD, winbind) or accepts
# user@domain answers another spelling with the account's own name: the state reached is the
# account's, whatever was typed, so no spelling skips the code (it used to find no state under
# the typed name and return PAM_IGNORE).
aliases='ALICE=alice:alice@corp.example=alice:CORP\alice=alice'
failures_before=$(state_field alice failures)
for spelling in ALICE alice@corp.example 'CORP\alice'; do
  with_name_aliases "$aliases" expect_login fail "require=none: '$spelling' (enrolled alice's account) must give a code" policy "$spelling" 000000
  check "'$spelling': the code was asked" out_has "Verification code:"
  check "'$spelling': logged with the account" log_has " account=alice "
done
check "the wrong codes counted against alice" [ "$(state_field alice failures)" = $((failures_before + 3)) ]
with_name_aliases "$aliases" expect_login ok "require=none: unknown spelling of no account still passes" policy NOSUCHUSER
wait_fresh_step  # 4 failures so far, one short of the default lockout
step_before=$(state_field alice last_step)
with_name_aliases "$aliases" expect_login ok "the right code typed as ALICE logs in" policy ALICE "$(totp_now "$SECRET")"
check "alice's own state recorded the code" [ "$(state_field alice last_step)" != "$step_before" ]
check "no state filed under the spelling" [ ! -e "$SB/state/ALICE.state" ]
# State filed under a spelling by an earlier version (which did not ask the name service) is
# neither used nor skipped: the login is refused until an administrator renames it.
enroll_test_user ALICE "$SECRET" >/dev/null
with_name_aliases "$aliases" expect_login fail "state filed under another spelling: refused" policy ALICE 000000
check "... logged with what to do" log_has "2FA state is filed under 'ALICE', not under the account's own name"
rm -f "$SB/state/ALICE.state" "$SB/state/ALICE.lock"

# A second login name for the same uid (a break-glass alias, a local entry beside the
# directory's) is the same account: it reaches alice's state and must give alice's code (it
# used to find no state under its own name and return PAM_IGNORE).
echo "alice2:x:1001:1001:Alice again:$SB/home/alice:/bin/sh" >> "$SB/etc/passwd"
failures_before=$(state_field alice failures)
expect_login fail "require=none: 'alice2' (alice's uid) must give alice's code" policy alice2 000000
check "'alice2': the code was asked" out_has "Verification code:"
check "'alice2': logged with the account" log_has " account=alice "
check "the wrong code counted against alice" [ "$(state_field alice failures)" = $((failures_before + 1)) ]
check "no state filed under the second name" [ ! -e "$SB/state/alice2.state" ]
sed -i '/^alice2:/d' "$SB/etc/passwd"
# When another login name comes first for the uid (alice0), the account's state belongs under
# alice0, and state an earlier version filed under 'alice' (the passwd entry's own name) must
# not be skipped by any login name or spelling: every such login is refused, with what to do.
sed -i "s|^alice:|alice0:x:1001:1001:Alice first:$SB/home/alice:/bin/sh\nalice:|" "$SB/etc/passwd"
for spelling in alice ALICE; do
  with_name_aliases "$aliases" expect_login fail "state under 'alice' while uid 1001 maps to alice0: '$spelling' is refused" policy "$spelling" 000000
  check "'$spelling': logged with what to rename" log_has "2FA state is filed under 'alice', not under the account's own name 'alice0'"
done
with_name_aliases "$aliases" expect_login fail "... even with the right code" policy ALICE "$(totp_now "$SECRET")"
sed -i '/^alice0:/d' "$SB/etc/passwd"

# --- lockout and back-off -----------------------------------------------------------------
write_config "max_failures = 3
lockout_seconds = 60
lockout_max_seconds = 600"
enroll_test_user bob "$SECRET" >/dev/null
for i in 1 2; do expect_login fail "wrong code $i" valix bob 000000; done
check "two failures counted" [ "$(state_field bob failures)" = 2 ]
expect_login fail "third wrong code locks" valix bob 000000
check "lockout logged" log_has "locked out for 60 s"
locked_until=$(state_field bob locked_until)
check "locked for 60 s" [ $(( locked_until - $(date +%s) )) -ge 55 ]
wait_fresh_step
step_before=$(state_field bob last_step)
expect_login fail "a correct code is refused while locked" valix bob "$(totp_now "$SECRET")"
check "locked user is told, without a verdict on the code" out_has "Too many failed attempts. Try again in 1 minute"
check "no 'Invalid' verdict while locked" bash -c "! grep -q 'Invalid verification code' '$SB/out' '$SB/err'"
check "watermark did not move while locked" [ "$(state_field bob last_step)" = "$step_before" ]
check "failures not increased while locked" [ "$(state_field bob failures)" = 3 ]
# The owner is not locked out of their backup codes (a limit of their own, issue 14 item 6),
# and the backup code ends the TOTP lockout.
mapfile -t BOB_CODES < <(enroll_test_user bob "$SECRET" --failures 3 --locked-until $(( $(date +%s) + 60 )))
expect_login ok "TOTP codes locked: a backup code still logs in" valix bob "${BOB_CODES[0]}"
check "... and clears the TOTP lockout" [ "$(state_field bob failures)/$(state_field bob locked_until)" = "0/0" ]
# And the other way round: backup codes locked (by three wrong ones here), TOTP codes work.
write_config "max_failures = 3
backup_max_failures = 3
lockout_seconds = 60
lockout_max_seconds = 600"
mapfile -t BOB_CODES < <(enroll_test_user bob "$SECRET")
for i in 1 2 3; do expect_login fail "wrong backup code $i" valix bob "zzzzz-zzzz$i"; done
check "three wrong backup codes lock backup codes" [ "$(state_field bob backup_locked_until)" -gt "$(date +%s)" ]
check "... counted against their own limit only" [ "$(state_field bob failures)" = 0 ]
expect_login fail "backup codes locked: a right one is refused" valix bob "${BOB_CODES[0]}"
check "... with its own message" out_has "Too many wrong backup codes"
check "... and it is not used up" [ "$(state_field bob backup_left)" = 10 ]
wait_fresh_step
expect_login ok "backup codes locked: a TOTP code still logs in" valix bob "$(totp_now "$SECRET")"
write_config "max_failures = 3
lockout_seconds = 60
lockout_max_seconds = 600"
# Back-off: after a lockout expires, each further failure doubles it (60 -> 120 -> 240 ... cap).
enroll_test_user bob "$SECRET" --failures 3 --locked-until 1 >/dev/null
expect_login fail "failure after an expired lockout" valix bob 000000
check "lockout doubled to 120 s" log_has "locked out for 120 s"
enroll_test_user bob "$SECRET" --failures 9 --locked-until 1 >/dev/null
expect_login fail "many failures" valix bob 000000
check "lockout capped at lockout_max_seconds" log_has "locked out for 600 s"
enroll_test_user bob "$SECRET" --failures 2 >/dev/null
wait_fresh_step
expect_login ok "success before the limit" valix bob "$(totp_now "$SECRET")"
check "success resets the failure count" [ "$(state_field bob failures)" = 0 ]

# --- malformed answers: all refused, all counted ------------------------------------------
write_config "max_failures = 100"
enroll_test_user carol "$SECRET" >/dev/null
long=$(head -c 300 /dev/zero | tr '\0' 7)
huge=$(head -c 5000 /dev/zero | tr '\0' a)
n=0
for answer in "" "12345" "1234567" "abcdef" "12 456" "１２３４５６" "123456 789" "$long" "$huge" "'; rm -rf /" "%s%s%n"; do
  n=$((n + 1))
  expect_login fail "malformed answer #$n refused" valix carol "$answer"
done
login valix carol "$(printf '12\00134')"
check "answer with a NUL byte refused" [ "$LOGIN_RC" -ne 0 ]
printf '\x01\x02\x1b[31m\n' | pam_env pamtester valix carol authenticate >"$SB/out" 2>"$SB/err" && r=0 || r=$?
check "control characters refused" [ "$r" -ne 0 ]
check "every malformed answer counted as a failure" [ "$(state_field carol failures)" -ge 13 ]
write_config ""

# --- options ------------------------------------------------------------------------------
write_service custom "prompt=Valix-code:"
expect_login fail "custom prompt" custom carol 000000
check "custom prompt shown" out_has "Valix-code: "

AUTHTOK=$VALIX_TEST_AUTHTOK_MODULE
# forward_pass was removed: it asked enrolled names only for "Password & verification code"
# (user enumeration), and judged and counted the code before any password was checked, so
# six answers like wrongpassword000000 locked any enrolled user out. A stack that still names
# it is refused before any prompt, for every name alike, and counts nothing.
enroll_test_user dave "$SECRET" >/dev/null
{
  echo "auth required $VALIX_MODULE config=$SB/etc/valix.conf forward_pass"
  echo "auth required $AUTHTOK expect=hunter2"
} > "$SB/pam.d/fwd"
for i in 1 2 3 4 5 6; do
  expect_login fail "forward_pass stack refused (attempt $i)" fwd dave "wrongpassword000000"
done
check "... no combined prompt" bash -c "! grep -q 'Password & verification code' '$SB/out' '$SB/err'"
check "... logged as a removed option" log_has "module option forward_pass was removed"
check "... nothing counted: dave is not locked out" [ "$(state_field dave failures)" = 0 ]
expect_login fail "forward_pass stack: a name that is not enrolled sees the same" fwd alice "hunter2"
check "... the same message" out_has "Two-factor authentication is not available right now"
check "... and no prompt" bash -c "! grep -q 'Password & verification code' '$SB/out' '$SB/err'"

# use_first_pass / try_first_pass: an earlier module collected PAM_AUTHTOK.
wait_fresh_step
code=$(totp_now "$SECRET")
enroll_test_user erin "$SECRET" >/dev/null
{
  echo "auth required $AUTHTOK set=$code"
  echo "auth required $VALIX_MODULE config=$SB/etc/valix.conf use_first_pass"
} > "$SB/pam.d/first"
expect_login ok "use_first_pass takes the code from PAM_AUTHTOK without asking" first erin
check "no prompt" bash -c "! grep -q 'Verification code' '$SB/out' '$SB/err'"
{
  echo "auth required $AUTHTOK set=notacode"
  echo "auth required $VALIX_MODULE config=$SB/etc/valix.conf try_first_pass"
} > "$SB/pam.d/first"
expect_login ok "try_first_pass asks when PAM_AUTHTOK is not a code" first erin "$(totp_at "$SECRET" $(( $(date +%s) + 30 )))"
check "asked for the code" out_has "Verification code:"
ERIN_CODES=($(enroll_test_user erin "$SECRET"))
{
  echo "auth required $AUTHTOK set=${ERIN_CODES[0]}"
  echo "auth required $VALIX_MODULE config=$SB/etc/valix.conf try_first_pass"
} > "$SB/pam.d/first"
expect_login ok "try_first_pass uses a code-shaped PAM_AUTHTOK that is a valid code" first erin
check "used without asking" bash -c "! grep -q 'Verification code' '$SB/out' '$SB/err'"
# denied_without_answer SERVICE USER: a login whose client gives no answer at all (its
# conversation fails at the prompt) is denied.
denied_without_answer() { ! pam_env "$VALIX_TEST_NO_ANSWER" "$@" >"$SB/out" 2>"$SB/err"; }
# A password that happens to look like a code (six digits, or letters and digits that read
# as a backup code) is tried, and then the user is asked: it must neither lock the user out
# nor be a free guess, so it counts as a failure only if the typed answer fails too (or none
# comes).
# A backup-code-shaped password counts against the backup-code limit, a typed TOTP code
# against the TOTP limit: what matters here is that each answer is counted once.
total_failures() { echo $(( $(state_field "$1" failures) + $(state_field "$1" backup_failures) )); }
for password in 000000 password12; do
  ERIN_CODES=($(enroll_test_user erin "$SECRET"))
  {
    echo "auth required $AUTHTOK set=$password"
    echo "auth required $VALIX_MODULE config=$SB/etc/valix.conf try_first_pass"
  } > "$SB/pam.d/first"
  expect_login ok "try_first_pass: a code-shaped password '$password' falls back to asking" first erin "${ERIN_CODES[0]}"
  check "asked for the code after '$password'" out_has "Verification code:"
  check "the fallback is logged" log_has "the earlier module's password is not a valid code"
  check "the success reset the failure count" [ "$(state_field erin failures)" = 0 ]
  expect_login fail "try_first_pass: '$password' then a wrong typed code is denied" first erin 999999
  check "both answers counted" [ "$(total_failures erin)" = 2 ]
  # A client that gives no answer at all (the conversation fails at the prompt).
  check "try_first_pass: '$password' and then no answer is denied" denied_without_answer first erin
  check "... the prompt was shown" grep -q "prompt refused: Verification code:" "$SB/out"
  check "... and the password's failure counted" [ "$(total_failures erin)" = 3 ]
  check "try_first_pass: '$password' and then the login dies at the prompt is denied" denied_without_answer first erin --die
  check "... the password's failure was counted before the prompt" [ "$(total_failures erin)" = 4 ]
done
# Even where one failure locks (max_failures = 1), such a password alone never starts a
# lockout (a wrong typed code after it does).
write_config "max_failures = 1"
ERIN_CODES=($(enroll_test_user erin "$SECRET"))
{
  echo "auth required $AUTHTOK set=000000"
  echo "auth required $VALIX_MODULE config=$SB/etc/valix.conf try_first_pass"
} > "$SB/pam.d/first"
expect_login ok "max_failures=1: a code-shaped password does not lock, the typed code logs in" first erin "${ERIN_CODES[0]}"
check "no failure left behind" [ "$(state_field erin failures)" = 0 ]
expect_login fail "max_failures=1: the password and then a wrong typed code" first erin 999999
check "... locks" log_has "locked out for"
write_config ""
echo "auth required $VALIX_MODULE config=$SB/etc/valix.conf use_first_pass" > "$SB/pam.d/first"
expect_login fail "use_first_pass with no PAM_AUTHTOK is denied" first erin
check "missing token logged" log_has "use_first_pass: no PAM_AUTHTOK"

write_service typo "nullok"
expect_login fail "unknown module option denies" typo erin 000000
check "unknown option logged" log_has "unknown module option 'nullok'"
check "user told 2FA is unavailable" out_has "not available right now"
write_service badvalue "window=99"
expect_login fail "out-of-range option value denies" badvalue erin 000000
check "bad option value logged" log_has "window must be a whole number"
write_service badkey "colour=blue"
expect_login fail "unknown key= option denies" badkey erin 000000
check "unknown setting logged" log_has "unknown setting 'colour'"
# The rules between keys hold for the file and the module options taken together.
write_service overmax "lockout_seconds=7200"
expect_login fail "lockout_seconds= above the file's lockout_max_seconds denies" overmax erin 000000
check "... logged as a configuration error" \
  log_has "$SB/etc/valix.conf with the module options: lockout_max_seconds is smaller than lockout_seconds"
check "... the user told 2FA is unavailable" out_has "not available right now"
check "... no code was asked" bash -c "! grep -q 'Verification code' '$SB/out' '$SB/err'"
write_service nogroups "require=groups"
expect_login fail "require=groups as an option, with no require_groups, denies (not: requires nobody)" nogroups nosuchuser
check "... logged as a configuration error" log_has "require = groups needs the groups in require_groups"
write_config "require = groups"
expect_login fail "require = groups in valix.conf with no require_groups denies" policy nosuchuser
check "... logged with the file" log_has "valix.conf: require = groups needs the groups in require_groups"
write_config ""

finish
