#!/usr/bin/env bash
# valix-admin with several authenticators per user: alice enrolled with an app (a state of one
# secret, as written before authenticators had names) gets an HOTP token added by name
# (add-token USER NAME). Both log in through the PAM stack, each refusing its own replays;
# status and status --json show both (and a named one's clock offset); resync NAME resyncs the
# one named; add-token NAME --force replaces the token and keeps its watermark (so does
# add-token --force without NAME, which replaces the whole enrollment); remove USER NAME
# revokes one while the other and the backup codes keep working; the only one is never
# removed. Every refusal changes nothing. Codes come from oathtool.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/admin_lib.sh"
require_root "valix-admin"
sandbox_init admin_authenticators
SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ       # the app's
HEX=6162636465666768696a6162636465666768696a  # the token's ("abcdefghijabcdefghij")
SAME_AS_APP=3132333435363738393031323334353637383930  # the app's secret, in hex
syslog_start

value() { oathtool --hotp "$HEX" -c "$1"; }
add_hotp() {  # add_hotp USER COUNTER1 ARGS...: the secret and the values at COUNTER1, COUNTER1+1
  local user=$1 c=$2
  shift 2
  admin add-token "$user" "$@" --hotp < <(printf '%s\n%s\n%s\n' "$HEX" "$(value "$c")" "$(value $((c + 1)))")
}
state_text() { "$VALIX_TEST_STATE" "$SB/state" "$1" text; }
backup_lines() { state_text "$1" | grep '^backup ' | sort; }
# The counter of a further authenticator's next value: authenticator_use NAME LAST_STEP LAST_USED
further_step() { state_text "$1" | awk -v n="$2" '$1 == "authenticator_use" && $2 == n {print $3}'; }
# jauth FIELD [INDEX]: a field of the INDEXth authenticator of the first user in the status
# --json output in $SB/out; auth USER FIELD [INDEX]: the same from a status --json USER run now.
jauth() {
  python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))[0]["authenticators"][int(sys.argv[3])][sys.argv[2]]))' \
    "$SB/out" "$1" "${2:-0}"
}
auth() {
  admin status --json "$1"
  jauth "$2" "${3:-0}"
}
app_keys_kept() { [ "$(state_text alice | grep -c "^secret $SECRET\$")" = 1 ]; }
auth_names() {
  admin status --json "$1"
  python3 -c 'import json,sys; print(" ".join(a["name"] for a in json.load(open(sys.argv[1]))[0]["authenticators"]))' "$SB/out"
}
next_app_code() {  # a fresh app code for a step no login used yet
  wait_fresh_step
  local step=$(( $(date +%s) / 30 ))
  while [ "$step" -le "${APP_STEP:-0}" ]; do sleep 1; step=$(( $(date +%s) / 30 )); done
  APP_STEP=$step
  APP_CODE=$(totp_at "$SECRET" $(( step * 30 )))
}

# --- a state of one secret, as older versions wrote it, reads as one authenticator ------------
enroll_test_user alice "$SECRET" > "$SB/alice.codes"
state_text alice > "$SB/alice.text"
check "the state has no name or authenticator lines (the one-secret format)" \
  bash -c "! grep -qE '^(name|authenticator|authenticator_use|last_used) ' '$SB/alice.text'"
# Written again as a plain text file (format 1, as the first versions wrote it).
rm -f "$SB/state/alice.state"
install -m 600 "$SB/alice.text" "$SB/state/alice.state"
check "status --json: one authenticator, named default" [ "$(auth_names alice)" = default ]
check "... a TOTP one" [ "$(auth alice kind)" = '"totp"' ]
check "... SHA1, 6 digits, 30 s" bash -c "[ '$(auth alice algorithm)' = '\"SHA1\"' ] && [ '$(auth alice digits)' = 6 ] && [ '$(auth alice period)' = 30 ]"
check "... never used" [ "$(auth alice last_used)" = null ]
admin status --json alice
check "... added when the user enrolled" [ "$(jauth added_at)" = "$(json_field enrolled_at)" ]
check "... no clock offset" [ "$(auth alice clock_offset_seconds)" = 0 ]
BACKUP_BEFORE=$(backup_lines alice)

# --- add-token USER NAME: one more authenticator ------------------------------------------------
expect_admin 2 "an invalid name is refused before anything is read" add-token alice 'bad name!' --hotp
check "... says what a name is" stderr_has "is not an authenticator name"
expect_admin 2 "add-token takes at most USER NAME" add-token alice yubikey extra --hotp
admin add-token alice twin --hotp < <(printf '%s\n%s\n%s\n' "$SAME_AS_APP" "$(oathtool --hotp "$SAME_AS_APP" -c 0)" "$(oathtool --hotp "$SAME_AS_APP" -c 1)")
check "a token with the app's secret is refused (exit 3: one code would work twice)" [ "$ADMIN_RC" -eq 3 ]
check "... says why" stderr_has "another of the user's authenticators has that secret"
add_hotp alice 0 yubikey
check "add-token alice yubikey --hotp (exit 0)" [ "$ADMIN_RC" -eq 0 ]
check "... says it was added" stdout_has "The token (HOTP, SHA1, 6 digits, counter 2) has been added to alice's authenticators as yubikey."
check "... and that the rest is unchanged" stdout_has "Their other authenticators and their backup codes are unchanged."
check "... prints no backup codes" bash -c "! grep -qE '^ *[0-9]+\. [0-9a-z]{5}-[0-9a-z]{5}$' '$SB/out'"
check "... the backup codes are the same" [ "$(backup_lines alice)" = "$BACKUP_BEFORE" ]
check "... the app's keys are kept" app_keys_kept
token_line() { state_text alice | grep -q '^authenticator yubikey hotp SHA1 6 '; }
check "... the token is an authenticator line" token_line
syslog_check "... audited, without the secret" "add-token alice (by root): token added as authenticator yubikey (HOTP, SHA1, 6 digits, counter 2); other authenticators and backup codes unchanged"
add_hotp alice 2 yubikey
check "the name taken: refused without --force (exit 3)" [ "$ADMIN_RC" -eq 3 ]
check "... says so" stderr_has "alice has an authenticator named yubikey already; nothing changed (use --force to replace it)"
check "... the token's counter is unchanged" [ "$(further_step alice yubikey)" = 2 ]

# --- both log in, each once per code ---------------------------------------------------------------
next_app_code
expect_login ok "the app's code logs in" valix alice "$APP_CODE"
check "... logged for the app" log_has "authenticator=default"
expect_login fail "... and is refused the second time" valix alice "$APP_CODE"
check "... as a replay" log_has "reason=replayed user=alice"
expect_login fail "the values given to add-token never log in" valix alice "$(value 1)"
expect_login ok "the token's next value logs in" valix alice "$(value 2)"
check "... logged as the token's HOTP code" log_has "reason=hotp_code user=alice"
check "... for the token" log_has "authenticator=yubikey"
expect_login fail "... and is refused the second time" valix alice "$(value 2)"
check "the token's counter moved" [ "$(further_step alice yubikey)" = 3 ]

# --- status: both ----------------------------------------------------------------------------------
check "status --json: both, the app first" [ "$(auth_names alice)" = "default yubikey" ]
check "... the token is HOTP" [ "$(auth alice kind 1)" = '"hotp"' ]
check "... without a period" [ "$(auth alice period 1)" = null ]
admin status --json alice
check "... both used" bash -c "[ '$(jauth last_used 0)' != null ] && [ '$(jauth last_used 1)' != null ]"
check "... the token added now" python3 -c '
import datetime, json, sys
v = json.loads(sys.argv[1])
t = datetime.datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
sys.exit(0 if abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()) < 600 else 1)' "$(jauth added_at 1)"
check "... the user's own fields still there" bash -c "[ '$(json_field backup_codes_remaining)' = 10 ] && [ '$(json_field enrolled)' = true ]"
expect_admin 0 "status alice (table)" status alice
check "... a line for the app" bash -c "grep -qE '^  authenticator default: TOTP \(SHA1, 6 digits, 30 s steps\), added [0-9T:-]+Z, last used [0-9T:-]+Z$' '$SB/out'"
check "... and one for the token" bash -c "grep -qE '^  authenticator yubikey: HOTP \(SHA1, 6 digits\), added [0-9T:-]+Z, last used [0-9T:-]+Z$' '$SB/out'"
enroll_test_user bob "$SECRET" >/dev/null
expect_admin 0 "status of everyone (table)" status
check "... alice's authenticators under her row (she has two), none under bob's (one)" \
  bash -c "[ \"\$(grep -c '^  authenticator ' '$SB/out')\" = 2 ] && grep -A2 '^alice ' '$SB/out' | tail -n 1 | grep -q '^  authenticator yubikey'"

# --- resync NAME -----------------------------------------------------------------------------------
expect_admin 2 "resync takes USER [NAME] CODE1 CODE2" resync alice yubikey - - extra
admin resync alice - - < <(printf '%s\n%s\n' "$(value 2000)" "$(value 2001)")
check "resync without NAME, with two authenticators: refused (exit 3)" [ "$ADMIN_RC" -eq 3 ]
check "... names them" stderr_has "alice has 2 authenticators (default, yubikey); name the one to resync"
admin resync alice nosuch - - < <(printf '%s\n%s\n' "$(value 2000)" "$(value 2001)")
check "resync of a name alice does not have: refused (exit 3)" [ "$ADMIN_RC" -eq 3 ]
check "... says so" stderr_has "alice has no authenticator named nosuch (they have: default, yubikey)"
expect_admin 2 "the token's values on the command line are refused" resync alice yubikey "$(value 2000)" "$(value 2001)"
check "nothing changed" [ "$(further_step alice yubikey)" = 3 ]
admin resync alice yubikey - - < <(printf '%s\n%s\n' "$(value 2000)" "$(value 2001)")
check "resync alice yubikey (exit 0)" [ "$ADMIN_RC" -eq 0 ]
check "... says where the token's counter is" stdout_has "alice's token yubikey is in step again: its counter is now 2002"
check "... the token's counter is past them" [ "$(further_step alice yubikey)" = 2002 ]
syslog_check "... audited" "resync alice (by root): token counter now 2002 (authenticator yubikey)"
check "... the app's watermark is untouched" [ "$(state_field alice last_step)" = "$APP_STEP" ]
expect_login ok "... the token's next value logs in" valix alice "$(value 2002)"

# --- add-token NAME --force: the token again, its used values stay used --------------------------
add_hotp alice 0 yubikey --force
check "add-token alice yubikey --force, from the token's first values (exit 0)" [ "$ADMIN_RC" -eq 0 ]
check "... says it was replaced, with the counter kept" stdout_has "alice's authenticator yubikey is now the token (HOTP, SHA1, 6 digits, counter 2003)."
check "... the counter stays past the values it accepted" [ "$(further_step alice yubikey)" = 2003 ]
check "... the backup codes are the same" [ "$(backup_lines alice)" = "$BACKUP_BEFORE" ]
check "... still two authenticators" [ "$(auth_names alice)" = "default yubikey" ]
expect_login fail "... a value it accepted before is refused" valix alice "$(value 2002)"
expect_login ok "... its next value logs in" valix alice "$(value 2003)"

# --- remove USER NAME ------------------------------------------------------------------------------
expect_admin 2 "remove takes USER NAME" remove alice
expect_admin 2 "remove of an invalid name" remove alice 'x/y'
expect_admin 3 "remove of a name alice does not have" remove alice nosuch
check "... says so" stderr_has "there is no authenticator named nosuch"
expect_admin 3 "remove for a user not enrolled" remove carol yubikey
check "... says so" stderr_has "carol has not set up 2FA; nothing to remove"
expect_admin 3 "remove for a user with no account" remove nosuchuser yubikey
expect_admin 0 "remove alice yubikey (a lost token)" remove alice yubikey
check "... says what is left" stdout_has "alice's authenticator yubikey has been removed: its codes no longer log in. Left: default. Their backup codes are unchanged."
syslog_check "... audited" "remove alice (by root): authenticator yubikey (HOTP) removed; left: default; 10 backup codes kept"
check "... one authenticator left" [ "$(auth_names alice)" = default ]
check "... the backup codes are the same" [ "$(backup_lines alice)" = "$BACKUP_BEFORE" ]
expect_login fail "the removed token's next value is refused" valix alice "$(value 2004)"
next_app_code
expect_login ok "the app still logs in" valix alice "$APP_CODE"
expect_login ok "a backup code printed at enrollment still logs in" valix alice "$(sed -n 1p "$SB/alice.codes")"
BACKUP_LEFT=$(backup_lines alice)
expect_admin 3 "remove of the only authenticator is refused" remove alice default
check "... points to reset" stderr_has "default is the only authenticator; to turn 2FA off, reset the user (valix-admin reset)"
check "... still enrolled" [ "$(state_field alice enrolled)" = 1 ]

# The first one removed while another is left: the other takes its place.
add_hotp alice 2004 yubikey
check "the token added again (exit 0)" [ "$ADMIN_RC" -eq 0 ]
expect_admin 0 "remove alice default (the app: a lost phone)" remove alice default
check "... the token is the first now" [ "$(auth_names alice)" = yubikey ]
admin status --json alice
check "... the enrollment's time is kept" [ "$(json_field enrolled_at)" = "$(jauth added_at)" ]
next_app_code
expect_login fail "the removed app's code is refused" valix alice "$APP_CODE"
expect_login ok "the token logs in" valix alice "$(value 2006)"
expect_admin 3 "the token, the only one now, is not removed" remove alice yubikey
nine_left() { [ "$(backup_lines alice | wc -l)" = 9 ] && [ "$(backup_lines alice)" = "$BACKUP_LEFT" ]; }
check "... the backup codes are the 9 left" nine_left

# --- add-token NAME for a user not enrolled: the enrollment, named ----------------------------------
add_hotp dave 0 keyfob
check "add-token dave keyfob (not enrolled: exit 0)" [ "$ADMIN_RC" -eq 0 ]
check "... the token is the enrollment" stdout_has "dave's authenticator is now the token"
check "... with new backup codes" [ "$(grep -cE '^ *[0-9]+\. [0-9a-z]{5}-[0-9a-z]{5}$' "$SB/out")" -eq 10 ]
check "... named keyfob" [ "$(auth_names dave)" = keyfob ]
expect_login ok "... its next value logs in" valix dave "$(value 2)"

# --- at most 8 authenticators ------------------------------------------------------------------------
tsecret() { printf 'valix-test-token-%03d' "$1" | base32; }  # one secret each: 20 bytes
for i in 1 2 3 4 5 6 7; do
  admin add-token dave "t$i" --totp < <(tsecret "$i")
  [ "$ADMIN_RC" -eq 0 ] || failure "add-token dave t$i (exit $ADMIN_RC)"
done
check "dave has 8 authenticators" [ "$(auth_names dave)" = "keyfob t1 t2 t3 t4 t5 t6 t7" ]
admin add-token dave t8 --totp < <(tsecret 8)
check "a ninth is refused (exit 3)" [ "$ADMIN_RC" -eq 3 ]
check "... says why" stderr_has "there are 8 authenticators already, the most allowed"

# --- resync NAME of a further TOTP authenticator: a clock 20 minutes ahead -----------------------
wait_fresh_step
ahead() { totp_at "$(tsecret 3)" $(( $(date +%s) + 1200 + $1 )); }
admin resync dave t3 "$(ahead -30)" "$(ahead 0)"
check "resync dave t3, a TOTP one, codes as arguments (exit 0)" [ "$ADMIN_RC" -eq 0 ]
check "... says which and how far" stdout_has "dave's authenticator t3 runs 1200 s ahead of this host's clock"
admin status --json dave
check "... status --json: t3's clock offset" [ "$(jauth clock_offset_seconds 3)" = 1200 ]
check "... the others' none" bash -c "[ '$(jauth clock_offset_seconds 0)' = 0 ] && [ '$(jauth clock_offset_seconds 2)' = 0 ] && [ '$(json_field clock_offset_seconds)' = 0 ]"
expect_admin 0 "status dave (table)" status dave
check "... t3's line shows it" bash -c "grep -q '^  authenticator t3: .*(clock +1200 s)$' '$SB/out'"
check "... the enrollment's cell does not (the first has none)" bash -c "! grep '^dave ' '$SB/out' | grep -q clock"

# --- add-token --force without NAME replaces the whole enrollment; the token's used values stay
# used even when it was a further authenticator
enroll_test_user erin "$SECRET" >/dev/null
add_hotp erin 0 tok
expect_login ok "erin's token tok logs in" valix erin "$(value 2)"
add_hotp erin 0 --force --no-backup-codes
check "add-token erin --force (no NAME): the token becomes the enrollment (exit 0)" [ "$ADMIN_RC" -eq 0 ]
check "... one authenticator, default" [ "$(auth_names erin)" = default ]
expect_login fail "... a value tok accepted is refused" valix erin "$(value 2)"
expect_login ok "... its next value logs in" valix erin "$(value 3)"

# --- a removal whose write is not synced: in use, and said so ---------------------------------------
with_failing_dir_fsync admin remove dave t7
check "remove with a failing sync: exit 1" [ "$ADMIN_RC" -eq 1 ]
check "... says the removal is in use but may not survive a crash" stderr_has "the authenticator is removed, but if this system crashes before the disk is fixed, remove it again"
check "... t7 is gone" [ "$(auth_names dave)" = "keyfob t1 t2 t3 t4 t5 t6" ]

if [ -n "${SYSLOG_DEV:-}" ]; then
  check "no secret reaches syslog" bash -c "! grep -qi '$HEX\|$SECRET' '$SB/syslog.txt'"
fi
syslog_stop
finish
