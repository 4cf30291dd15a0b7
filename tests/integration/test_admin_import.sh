#!/usr/bin/env bash
# valix-admin import-google-authenticator: real files from Debian's google-authenticator
# tool and hand-written ones (FILEFORMAT), codes checked through the real module with
# oathtool, refusals, and the CVE-2024-47191 class of attack (root following a user's
# symlink): every trick a user can play with their own home directory must be refused.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/admin_lib.sh"
require_root "import-google-authenticator"
if ! command -v google-authenticator >/dev/null; then
  echo "SKIP: google-authenticator not installed (Debian package libpam-google-authenticator)"
  exit 77
fi
sandbox_init admin_import

# The homes must be reachable by the users themselves (the import reads as the user). If the
# build tree is not (for example under a 0700 home directory), use a private /tmp directory.
HOMES="$SB/home"
if ! setpriv --reuid=1001 --regid=1001 --clear-groups test -x "$HOMES"; then
  HOMES=$(mktemp -d /tmp/valix-admin-import.XXXXXX)
  chmod 755 "$HOMES"
  at_exit 'rm -rf "$HOMES"'
  sed -i "s|$SB/home|$HOMES|" "$SB/etc/passwd"
fi
for u in alice:1001 bob:1002 carol:1003 dave:1004 erin:1005; do
  mkdir -p "$HOMES/${u%%:*}"
  chown "${u#*:}:${u#*:}" "$HOMES/${u%%:*}"
  chmod 700 "$HOMES/${u%%:*}"
done
GA=.google_authenticator

# give USER FILE: hands a file to USER with google-authenticator's mode 0400.
uid_of() { awk -F: -v u="$1" '$1 == u { print $3 }' "$SB/etc/passwd"; }
give() { chown "$(uid_of "$1"):$(uid_of "$1")" "$2"; chmod 400 "$2"; }
secret_of() { head -n1 "$1"; }
step_now() { echo $(( $(date +%s) / ${1:-30} )); }
no_state() { [ "$(state_field "$1" exists)" = 0 ]; }

# --- a real file: TOTP, rate limit, disallow reuse, minimal window -----------------------------
google-authenticator -t -d -f -r 3 -R 30 -W -q -C -Q NONE -s "$HOMES/alice/$GA" </dev/null >/dev/null
give alice "$HOMES/alice/$GA"
ALICE=$(secret_of "$HOMES/alice/$GA")
wait_fresh_step
expect_admin 0 "import a real google-authenticator file (default path)" import-google-authenticator alice
check "said what was imported" stdout_has "Imported the google-authenticator setup of alice from $HOMES/alice/$GA."
check "window reported as ignored" stdout_has "WINDOW_SIZE 3: ignored"
check "rate limit reported as ignored" stdout_has "RATE_LIMIT (3 logins per 30 s): ignored"
check "scratch codes reported as not imported" stdout_has "5 scratch codes: google-authenticator's 8-digit scratch codes do not work with Valix."
check "new backup codes printed" bash -c "grep -cE '^ +[0-9]+\. [0-9a-z]{5}-[0-9a-z]{5}$' '$SB/out' | grep -qx 10"
BACKUP=$(grep -oE '[0-9a-z]{5}-[0-9a-z]{5}$' "$SB/out" | head -n1)
check "enrolled" [ "$(state_field alice enrolled)" = 1 ]
check "10 backup codes stored" [ "$(state_field alice backup_left)" = 10 ]
check "watermark at the current step" [ "$(state_field alice last_step)" -ge "$(( $(step_now) - 1 ))" ]
check "the user's file is unchanged" [ "$(secret_of "$HOMES/alice/$GA")" = "$ALICE" ]
check "the secret is not printed" bash -c "! grep -q '$ALICE' '$SB/out' '$SB/err'"
expect_login fail "the code shown at import time is not accepted (no replay)" valix alice "$(totp_now "$ALICE")"
check "told it was already used" out_has "This code has already been used"
expect_login ok "the next code from the same app works through pam_valix" valix alice "$(totp_at "$ALICE" $(( $(date +%s) + 30 )))"
expect_login ok "a new backup code works" valix alice "$BACKUP"
for s in 61123859 12345678; do
  expect_login fail "an 8-digit scratch-code-shaped answer is refused" valix alice "$s"
done

# --- STEP_SIZE and a wide window -------------------------------------------------------------
google-authenticator -t -D -f -u -S 60 -w 17 -e 3 -q -C -Q NONE -s "$HOMES/bob/$GA" </dev/null >/dev/null
give bob "$HOMES/bob/$GA"
BOB=$(secret_of "$HOMES/bob/$GA")
expect_admin 0 "import a 60-second-step file with WINDOW_SIZE 17" import-google-authenticator bob
check "window 17 reported as ignored" stdout_has "WINDOW_SIZE 17: ignored; Valix accepts 1 step(s)"
check "step size carried over" stdout_has "60-second steps"
check "3 scratch codes reported" stdout_has "3 scratch codes"
expect_login ok "a 60-second code from the next step works" valix bob \
  "$(oathtool --totp -s 60 -b -N "@$(( $(date +%s) + 60 ))" "$BOB")"

# --- refusals that change nothing --------------------------------------------------------------
google-authenticator -c -f -q -C -Q NONE -w 3 -r 3 -R 30 -s "$HOMES/carol/$GA" </dev/null >/dev/null
give carol "$HOMES/carol/$GA"
expect_admin 1 "a counter-based (HOTP) file is refused" import-google-authenticator carol
check "HOTP: explained" stderr_has "counter-based (HOTP)"
check "HOTP: no state" no_state carol

expect_admin 3 "an enrolled user is not overwritten" import-google-authenticator alice
check "enrolled: explained" stderr_has "alice is already enrolled in Valix; nothing changed (use --force"
check "enrolled: state untouched (one backup code used, none added)" [ "$(state_field alice backup_left)" = 9 ]
expect_admin 3 "an unknown user" import-google-authenticator nosuchuser
expect_admin 3 "an invalid name" import-google-authenticator "../../etc"
expect_admin 1 "a user without the file" import-google-authenticator dave
check "missing file: explained" stderr_has "does not exist"
check "missing file: no state" no_state dave

# hand FILE CONTENT: writes a hand-made file for dave (printf format string).
hand() { rm -f "$HOMES/dave/$GA"; printf "$1" > "$HOMES/dave/$GA"; give dave "$HOMES/dave/$GA"; }
refused() {  # refused DESCRIPTION EXPECTED_STDERR
  expect_admin 1 "hand-written: $1" import-google-authenticator dave
  check "hand-written: $1: explained" stderr_has "$2"
  check "hand-written: $1: no state" no_state dave
}
hand ''
refused "empty file" "the file is empty"
hand 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n'
refused "no TOTP_AUTH" "no TOTP_AUTH line"
hand 'JBSWY3DPEHPK3PXP!!\n" TOTP_AUTH\n'
refused "garbage in the secret" "line 1: the first line is not a base32 secret"
hand 'jbswy3dpehpk3pxp\n" TOTP_AUTH\n'
refused "lower-case secret" "line 1: the first line is not a base32 secret"
hand 'JBSWY3DP\n" TOTP_AUTH\n'
refused "40-bit secret" "shorter than 80 bits"
# 200 bytes: stored, it would make a state file no tool could read or reset.
hand "$(head -c 200 /dev/zero | tr '\0' k | base32 -w0 | tr -d =)\\n\" TOTP_AUTH\\n"
refused "200-byte secret" "line 1: the secret is longer than 1024 bits"
check "hand-written: 200-byte secret: dave still has no state file at all" [ ! -e "$SB/state/dave.state" ]
hand "$(head -c 128 /dev/zero | tr '\0' k | base32 -w0 | tr -d =)\\n\" TOTP_AUTH\\n"
expect_admin 0 "hand-written: a 128-byte secret (the largest) is imported" import-google-authenticator dave
check "... and dave's state reads back" [ "$(state_field dave enrolled)" = 1 ]
rm -f "$SB/state/dave.state"
hand 'JBSWY3DPEHPK3PXP\n" TOTP_AUTH\n" FROBNICATE 1\n'
refused "unknown option" "line 3: unknown option FROBNICATE"
hand 'JBSWY3DPEHPK3PXP\n" TOTP_AUTH\n" STEP_SIZE 0\n'
refused "step size 0" "STEP_SIZE must be"
hand 'JBSWY3DPEHPK3PXP\n" TOTP_AUTH\n" WINDOW_SIZE 3\n" WINDOW_SIZE 5\n'
refused "option twice" "WINDOW_SIZE appears twice"
hand 'JBSWY3DPEHPK3PXP\n" TOTP_AUTH\n1234567\n'
refused "7-digit line" "line 3: neither an option nor a scratch code"
hand 'JBSWY3DPEHPK3PXP\n" TOTP_AUTH\n" DISALLOW_REUSE 123 abc\n'
refused "bad DISALLOW_REUSE" "DISALLOW_REUSE lists something"
hand 'JBSWY3DPEHPK3PXP\n" TOTP_AUTH\n" DISALLOW_REUSE 4000000000\n'
refused "a used step far in the future" "DISALLOW_REUSE lists a time step far in the future"
hand 'JBSWY3DPEHPK3PXP\n" TOTP_AUTH\n12345678\0\n'
refused "NUL byte" "NUL byte"

# Hand-written but valid: the 80-bit secret of old versions, TIME_SKEW, and DISALLOW_REUSE
# listing a step ahead of now, which must become the watermark.
ahead=$(( $(step_now) + 1 ))
hand "JBSWY3DPEHPK3PXP\n\" TOTP_AUTH\n\" TIME_SKEW 2\n\" DISALLOW_REUSE $(( ahead - 5 )) $ahead\n"
expect_admin 0 "hand-written: minimal valid file" import-google-authenticator dave --no-backup-codes
check "time skew reported" stdout_has "TIME_SKEW 2: ignored"
check "0 scratch codes reported" stdout_has "0 scratch codes"
check "--no-backup-codes: none stored" [ "$(state_field dave backup_left)" = 0 ]
check "--no-backup-codes: user told how to make some" stdout_has "valix-enroll --regenerate-backup-codes"
check "--no-backup-codes: no code printed" bash -c "! grep -qE '^ +[0-9]+\. [0-9a-z]{5}-[0-9a-z]{5}$' '$SB/out'"
check "highest used step becomes the watermark" [ "$(state_field dave last_step)" = "$ahead" ]

# --force replaces an enrollment with the file's secret.
google-authenticator -t -d -f -W -u -q -C -Q NONE -s "$HOMES/erin/$GA" </dev/null >/dev/null
give erin "$HOMES/erin/$GA"
ERIN=$(secret_of "$HOMES/erin/$GA")
enroll_test_user erin GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ --required >/dev/null
expect_admin 0 "--force replaces an existing enrollment" import-google-authenticator erin --force
check "--force: said so" stdout_has "Their previous Valix enrollment has been replaced."
check "--force: admin flag consumed" [ "$(state_field erin required)" = 0 ]
expect_login ok "--force: the imported secret is the one in use" valix erin "$(totp_at "$ERIN" $(( $(date +%s) + 30 )))"
# The directory sync fails after the import replaced the state (a failing disk): the import is
# in use, so its backup codes are shown, and the error is reported (exit 1).
with_failing_dir_fsync expect_admin 1 "import with a failing directory sync: exit 1" \
  import-google-authenticator erin --force
check "... the new backup codes are shown" [ "$(grep -cE '^ *[0-9]+\. [0-9a-z]{5}-[0-9a-z]{5}$' "$SB/out")" -eq 10 ]
check "... the error explains the import is in use" stderr_has "the import is in use, but if this system crashes"
code=$(sed -nE 's/^ *[0-9]+\. ([0-9a-z]{5}-[0-9a-z]{5})$/\1/p' "$SB/out" | head -n 1)
expect_login ok "... and a code shown works" valix erin "$code"
syslog_start
expect_admin 0 "explicit FILE" import-google-authenticator erin "$HOMES/erin/$GA" --force
syslog_check "import audited" "import-google-authenticator erin (by root): imported from $HOMES/erin/$GA"
if [ -n "${SYSLOG_DEV:-}" ]; then
  check "the secret never reaches syslog" bash -c "! grep -q '$ERIN' '$SB/syslog.txt'"
fi
syslog_stop

# --- attacks from the user's own home directory ------------------------------------------------
# attack DESCRIPTION EXPECTED_STDERR [FILE]: carol's import must fail and change nothing.
attack() {
  expect_admin 1 "attack: $1" import-google-authenticator carol ${3:+"$3"}
  check "attack: $1: explained" stderr_has "$2"
  check "attack: $1: no state" no_state carol
  check "attack: $1: nothing leaked" bash -c "! grep -qE 'root:|$BOB' '$SB/out' '$SB/err'"
}
rm -f "$HOMES/carol/$GA"
ln -s /etc/shadow "$HOMES/carol/$GA"
chown -h 1003:1003 "$HOMES/carol/$GA"
attack "symlink to /etc/shadow" "is a symbolic link"
ln -sfn "$HOMES/bob/$GA" "$HOMES/carol/$GA"
chown -h 1003:1003 "$HOMES/carol/$GA"
attack "symlink to another user's file" "is a symbolic link"
ln -sfn /dev/zero "$HOMES/carol/$GA"
attack "symlink to /dev/zero" "is a symbolic link"
rm -f "$HOMES/carol/$GA"
attack "naming another user's file" "Permission denied" "$HOMES/bob/$GA"
ln -s "$HOMES/bob" "$HOMES/carol/bobhome"
chown -h 1003:1003 "$HOMES/carol/bobhome"
attack "a directory symlink into another home" "Permission denied" "$HOMES/carol/bobhome/$GA"
ln -s /etc "$HOMES/carol/etc"
attack "a directory symlink to /etc/shadow" "Permission denied" "$HOMES/carol/etc/shadow"
cp "$HOMES/bob/$GA" "$HOMES/carol/$GA"
chmod 640 "$HOMES/carol/$GA"
chown 1003:1003 "$HOMES/carol/$GA"
attack "a group-readable file" "unsafe permissions"
chown root:root "$HOMES/carol/$GA"
chmod 644 "$HOMES/carol/$GA"
attack "a file owned by root" "is owned by uid 0, expected uid 1003"
rm -f "$HOMES/carol/$GA"
cp "$HOMES/bob/$GA" "$HOMES/carol/real"
give carol "$HOMES/carol/real"
ln "$HOMES/carol/real" "$HOMES/carol/$GA"
attack "a second hard link" "more than one hard link"
rm -f "$HOMES/carol/$GA" "$HOMES/carol/real"
mkfifo "$HOMES/carol/$GA"
chown 1003:1003 "$HOMES/carol/$GA"
chmod 600 "$HOMES/carol/$GA"
set +e
timeout 20 env LD_PRELOAD="${VALIX_SANITIZER_PRELOAD:+$VALIX_SANITIZER_PRELOAD:}$NSS_WRAPPER_LIB" NSS_WRAPPER_PASSWD="$SB/etc/passwd" NSS_WRAPPER_GROUP="$SB/etc/group" \
  "$VALIX_ADMIN" --config "$SB/etc/valix.conf" import-google-authenticator carol >"$SB/out" 2>"$SB/err"
rc=$?
set -e
check "attack: a FIFO is refused without hanging (exit $rc)" [ "$rc" -eq 1 ]
check "attack: a FIFO: explained" stderr_has "is not a regular file"
rm -f "$HOMES/carol/$GA"
head -c 70000 /dev/zero | tr '\0' '1' > "$HOMES/carol/$GA"
give carol "$HOMES/carol/$GA"
attack "a huge file" "larger than"
rm -f "$HOMES/carol/$GA"
mkdir "$HOMES/carol/$GA"
chown 1003:1003 "$HOMES/carol/$GA"
attack "a directory" "not a regular file"
rmdir "$HOMES/carol/$GA"
expect_admin 0 "root privileges are back after refusals: require still works" require carol

# Enrolled while the import ran (between its first look and its write under the lock): a
# refusal (exit 3) like any "already enrolled", and the enrollment made meanwhile is kept.
rm -f "$HOMES/carol/$GA"
google-authenticator -t -d -f -r 3 -R 30 -W -q -C -Q NONE -s "$HOMES/carol/$GA" </dev/null >/dev/null
give carol "$HOMES/carol/$GA"
"$VALIX_TEST_STATE" "$SB/state" carol remove >/dev/null 2>&1 || rm -f "$SB/state/carol.state"
meanwhile=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
with_change_before_lock "'$VALIX_TEST_STATE' '$SB/state' carol write $meanwhile >/dev/null" \
  expect_admin 3 "enrolled while the import ran: refused" import-google-authenticator carol
check "... saying so" stderr_has "enrolled in the meantime"
check "... the enrollment made meanwhile is kept" grep -q "$meanwhile" <("$VALIX_TEST_STATE" "$SB/state" carol text)
finish
