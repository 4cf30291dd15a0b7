#!/usr/bin/env bash
# valix-admin status: JSON checked field by field, the table, the reasons under each policy
# (flag, host, group, exempt), error cases, and 100k users.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/admin_lib.sh"
require_root "valix-admin"
sandbox_init admin_status
SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ

# JSON field of the object whose "user" is USER: jf USER FIELD
jf() {
  python3 -c '
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if r["user"] == sys.argv[2]]
print(json.dumps(rows[0][sys.argv[3]]) if len(rows) == 1 else "MISSING")' "$SB/out" "$1" "$2"
}
is() {  # is USER FIELD EXPECTED_JSON
  local got
  got=$(jf "$1" "$2")
  if [ "$got" = "$3" ]; then pass "$1.$2 = $3"; else failure "$1.$2 = $3 (got $got)"; fi
}
# An ISO 8601 UTC time within 10 minutes of now.
is_recent_time() {
  python3 -c '
import datetime, json, sys
v = json.loads(sys.argv[1])
t = datetime.datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
now = datetime.datetime.now(datetime.timezone.utc)
sys.exit(0 if abs((now - t).total_seconds()) < 600 + float(sys.argv[2]) else 1)' "$(jf "$1" "$2")" "${3:-0}"
}

expect_admin 0 "status with no state at all" status --json
check "empty JSON array" python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != [])' "$SB/out"

# alice: flagged by an admin, not enrolled.  bob: enrolled and has logged in with 2FA.
# carol: enrolled and locked out.  dave: enrolled, 2 failures, 3 backup codes.
# erin: no state.  ghost: state but no account.  pat: a pending enrollment only.
expect_admin 0 "require alice" require alice
enroll_test_user bob "$SECRET" >/dev/null
wait_fresh_step
expect_login ok "bob logs in with a TOTP code" valix bob "$(totp_now "$SECRET")"
locked_until=$(( $(date +%s) + 3600 ))
enroll_test_user carol "$SECRET" --failures 5 --locked-until "$locked_until" >/dev/null
enroll_test_user dave "$SECRET" --failures 2 --backup-codes 3 >/dev/null
"$VALIX_TEST_STATE" "$SB/state" ghost flag
echo "pat:x:1010:1010:Pat:$SB/home/pat:/bin/sh" >> "$SB/etc/passwd"
pending_expires=$(( $(date +%s) + 300 ))
printf 'valix-state 1\nrequired 0\nfailures 0\nlocked_until 0\nlast_login 0\npending_secret %s\npending_algorithm SHA1\npending_digits 6\npending_period 30\npending_expires %s\nend\n' \
  "$SECRET" "$pending_expires" > "$SB/state/pat.state"
chmod 600 "$SB/state/pat.state"

# --- require = none (default) ---------------------------------------------------------------
expect_admin 0 "status --json" status --json
check "every user with state, sorted" python3 -c '
import json, sys
users = [r["user"] for r in json.load(open(sys.argv[1]))]
sys.exit(users != ["alice", "bob", "carol", "dave", "ghost", "pat"])' "$SB/out"
is alice user '"alice"'
is alice account true
is alice enrolled false
is alice enrolled_at null
is alice required true
is alice required_by '"flag"'
is alice pending false
is alice pending_expires null
is alice backup_codes_remaining 0
is alice failures 0
is alice locked false
is alice locked_until null
is alice last_login null
is bob enrolled true
check "bob.enrolled_at is a recent ISO 8601 UTC time" is_recent_time bob enrolled_at
is bob required false
is bob required_by null
is bob backup_codes_remaining 10
is bob locked false
check "bob.last_login is set by the module, ISO 8601 UTC" is_recent_time bob last_login
is carol enrolled true
is carol locked true
is carol failures 5
is carol locked_until "\"$(date -u -d "@$locked_until" +%Y-%m-%dT%H:%M:%SZ)\""
is carol last_login null
is dave backup_codes_remaining 3
is dave failures 2
is dave locked false
is dave locked_until null
is ghost account false
is ghost required_by '"flag"'
is pat enrolled false
is pat pending true
is pat pending_expires "\"$(date -u -d "@$pending_expires" +%Y-%m-%dT%H:%M:%SZ)\""
check "no secret in the output" bash -c "! grep -q '$SECRET' '$SB/out'"

expect_admin 0 "status of named users (erin has no state)" status --json erin bob
check "named users in the order given" python3 -c '
import json, sys
sys.exit([r["user"] for r in json.load(open(sys.argv[1]))] != ["erin", "bob"])' "$SB/out"
is erin enrolled false
is erin required false
is erin required_by null
is erin backup_codes_remaining 0
is erin locked false

# --- policies ---------------------------------------------------------------------------------
write_config "require = groups
require_groups = admins"
expect_admin 0 "status under require=groups" status --json alice bob carol erin
is alice required_by '"flag"'
is bob required true
is bob required_by '"group"'
is carol required false
is erin required_by null

write_config "require = all
exempt_groups = exempt"
expect_admin 0 "status under require=all with exempt groups" status --json alice bob carol dave erin ghost
is bob required_by '"host"'
is carol required false
is carol required_by null
is dave required_by '"host"'
is erin required true
is erin required_by '"host"'
is ghost required_by '"flag"'

write_config "require = groups
require_groups = admins, exempt
exempt_groups = exempt"
expect_admin 0 "exempt wins over require_groups" status --json bob carol
is bob required_by '"group"'
is carol required_by null
write_config ""

# --- the table ----------------------------------------------------------------------------------
expect_admin 0 "status (table)" status
check "header" bash -c "head -n1 '$SB/out' | grep -q '^USER *ENROLLED *REQUIRED *PENDING *BACKUP-CODES *LOCKED *LAST-2FA-LOGIN$'"
check "one row per user" [ "$(wc -l < "$SB/out")" -eq 7 ]
check "columns aligned" python3 -c '
import sys
lines = open(sys.argv[1]).read().splitlines()
starts = [i for i in range(len(lines[0])) if lines[0][i] != " " and (i == 0 or lines[0][i-1] == " ")]
for line in lines[1:]:
    for s in starts[1:]:
        if line[s-1] != " " or line[s] == " ":
            sys.exit(1)' "$SB/out"
check "flag reason shown" bash -c "grep '^alice ' '$SB/out' | grep -q 'yes (flag)'"
check "lockout shown with its end" bash -c "grep '^carol ' '$SB/out' | grep -q 'until $(date -u -d "@$locked_until" +%Y-%m-%dT%H:%M:%SZ)'"
check "failures shown" bash -c "grep '^dave ' '$SB/out' | grep -q 'no (2 failed)'"
check "user without an account marked" bash -c "grep -q '^ghost (no account)' '$SB/out'"
check "never logged in" bash -c "grep '^carol ' '$SB/out' | grep -q 'never$'"
syslog_start
admin status
syslog_check "status audited" "status (all users) (by root): shown 6 users"
syslog_stop

# --- errors -----------------------------------------------------------------------------------
expect_admin 3 "status of an unknown user" status nosuchuser
check "unknown: clear error" stderr_has "there is no user named 'nosuchuser'"
expect_admin 3 "status of an invalid name" status 'a/b'
check "invalid: clear error" stderr_has "'a/b' is not a valid user name"
printf 'valix-state 1\nrequired 1\n' > "$SB/state/erin.state"  # truncated: no "end"
chmod 600 "$SB/state/erin.state"
expect_admin 1 "a corrupt state file makes status fail" status --json
check "the corrupt file is named" stderr_has "erin"
check "everyone else still listed" python3 -c '
import json, sys
sys.exit(len(json.load(open(sys.argv[1]))) != 6)' "$SB/out"
rm -f "$SB/state/erin.state"
chmod 775 "$SB/state"
expect_admin 1 "a state directory writable by others is refused" status
check "unsafe directory explained" stderr_has "writable by group or others"
chmod 700 "$SB/state"

# --- 100k users -------------------------------------------------------------------------------
# 100000 users with accounts (every other one has admins as primary group) and a copy of one
# state file each, written by python quickly and with the private mode the store demands.
# No timing assertion; the point is that it completes and is right at that size. Sanitizer
# builds use 10000: under ASan, nss_wrapper's realloc-per-entry makes every enumeration
# quadratic (getent passwd alone takes 7 s for 20k users), which is not Valix's code.
USERS=100000
[ -z "${VALIX_SANITIZER_PRELOAD:-}" ] || USERS=10000
python3 -c '
import os, sys
sb = sys.argv[1]
data = open(os.path.join(sb, "state", "dave.state"), "rb").read()
with open(os.path.join(sb, "etc", "passwd"), "a") as pw:
    for i in range(int(sys.argv[2])):
        pw.write("u%06d:x:%d:%d:U:/nonexistent:/bin/sh\n" % (i, 100000 + i, 2000 if i % 2 == 0 else 100))
        fd = os.open(os.path.join(sb, "state", "u%06d.state" % i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, data)
        os.close(fd)' "$SB" "$USERS"
write_config "require = groups
require_groups = admins"
expect_admin 0 "status over $USERS users" status
check "$USERS more rows" [ "$(grep -c '^u[0-9]\{6\} ' "$SB/out")" -eq "$USERS" ]
check "policy right for each: $((USERS / 2)) required through their primary group" \
  [ "$(grep '^u[0-9]\{6\} ' "$SB/out" | grep -c 'yes (group)')" -eq $((USERS / 2)) ]
check "u000000 (admins) required, u000001 not" bash -c "grep '^u000000 ' '$SB/out' | grep -q 'yes (group)' && grep '^u000001 ' '$SB/out' | grep -q '  no  '"
check "sorted" bash -c "tail -n +2 '$SB/out' | cut -d' ' -f1 | LC_ALL=C sort -c"
expect_admin 0 "status --json over $USERS users" status --json
check "JSON has every user" python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
sys.exit(len(rows) != n + 6 or sum(r["required_by"] == "group" for r in rows) != n // 2 + 1)' "$SB/out" "$USERS"
rm -rf "$SB/state"
finish
