#!/usr/bin/env bash
# Fail closed: every unreadable, corrupt, unsafe or missing piece of state or configuration
# denies the login, logs why, and tells the user 2FA is unavailable. Never PAM_IGNORE.
source "$(dirname "$0")/lib.sh"
sandbox_init module_fail_closed
SECRET=MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U

# The permissive stack: PAM_IGNORE or PAM_SUCCESS would let the login through.
{
  echo "auth [success=ok ignore=ignore default=die] $VALIX_MODULE config=$SB/etc/valix.conf"
  echo "auth required pam_permit.so"
} > "$SB/pam.d/permissive"

denied() {  # denied DESCRIPTION LOG_FRAGMENT USER [ANSWER]
  local description=$1 fragment=$2 user=$3
  wait_fresh_step
  login permissive "$user" "${4:-$(totp_now "$SECRET")}"
  if [ "$LOGIN_RC" -ne 0 ] && log_has "$fragment" && out_has "not available right now"; then
    pass "$description"
  else
    failure "$description (exit $LOGIN_RC; wanted denial logging '$fragment')"
  fi
}

fresh() {  # fresh USER: a valid enrollment, returns nothing
  rm -rf "$SB/state/$1.state" "$SB/state/$1.lock" "$SB/state/.$1.tmp"
  enroll_test_user "$1" "$SECRET" >/dev/null
}

fresh alice
good="$SB/good.state"
cp "$SB/state/alice.state" "$good"

# Corrupt and truncated state text (for an enrolled user and for one who would be ignored),
# both as a file of format 1 (the bare text of Valix 0.2) and packed into a format-2 file
# whose slot checksum holds, so that only the text is wrong.
good_text="$SB/good.text"
"$VALIX_TEST_STATE" "$SB/state" alice text > "$good_text"
corrupt_text() {  # corrupt_text DESCRIPTION LOG_FRAGMENT: the text on stdin, in both formats
  local text
  text=$(cat; echo .)
  text=${text%.}
  printf '%s' "$text" > "$SB/state/alice.state"
  denied "$1 (format 1)" "$2" alice
  printf '%s' "$text" | "$VALIX_TEST_STATE" "$SB/state" alice pack
  denied "$1 (format 2)" "$2" alice
}
printf 'garbage\n' | corrupt_text "garbage state file" "is corrupt"
head -c -4 "$good_text" | corrupt_text "state file missing its 'end' line" "truncated"
head -c 100 "$good_text" | corrupt_text "state file cut mid-line" "truncated"
: | corrupt_text "zero-size state file" "empty state file"
sed 's/^valix-state 1$/valix-state 9/' "$good_text" | corrupt_text "unknown state version" "unsupported state version"
sed 's/^secret .*/secret !!!!/' "$good_text" | corrupt_text "bad secret" "bad secret"
sed 's/^last_step .*/last_step -5/' "$good_text" | corrupt_text "negative watermark" "last_step"
head -c 70000 /dev/zero | tr '\0' x > "$SB/state/alice.state"
denied "huge state file" "larger than" alice
# Format 2 with no intact slot: corrupt, never "not enrolled".
cp "$good" "$SB/state/alice.state"
slot=$("$VALIX_TEST_STATE" "$SB/state" alice slots | sed -n 's/^slot_size=//p')
printf 'XX' | dd of="$SB/state/alice.state" bs=1 seek=10 conv=notrunc status=none
denied "the only written slot's checksum does not hold" "no slot of the state file is intact" alice
printf '%s' "$(cat "$good_text")" | "$VALIX_TEST_STATE" "$SB/state" alice pack
head -c "$slot" "$SB/state/alice.state" > "$SB/slot0"
cat "$SB/slot0" "$SB/slot0" > "$SB/state/alice.state"  # slot 1 a copy of slot 0
denied "two slots claiming one sequence number" "same sequence number" alice
printf 'XX' | dd of="$SB/state/alice.state" bs=1 seek=10 conv=notrunc status=none
printf 'XX' | dd of="$SB/state/alice.state" bs=1 seek=$((slot + 10)) conv=notrunc status=none
denied "a checksum that does not hold in both slots" "no slot of the state file is intact" alice
printf 'garbage\n' > "$SB/state/bob.state"; chmod 600 "$SB/state/bob.state"
denied "corrupt state of a not-enrolled user is not 'not enrolled'" "is corrupt" bob 000000
rm -f "$SB/state/bob.state"

# Unsafe file types and permissions.
cp "$good" "$SB/state/alice.state"; chmod 644 "$SB/state/alice.state"
denied "world-readable state file" "unsafe permissions" alice
chmod 640 "$SB/state/alice.state"
denied "group-readable state file" "unsafe permissions" alice
chmod 600 "$SB/state/alice.state"
rm "$SB/state/alice.state"; ln -s "$good" "$SB/state/alice.state"
denied "symlinked state file" "symbolic link" alice
rm "$SB/state/alice.state"; cp "$good" "$SB/outside.state"; chmod 600 "$SB/outside.state"
ln "$SB/outside.state" "$SB/state/alice.state"
denied "hard-linked state file" "more than one hard link" alice
rm "$SB/state/alice.state"; mkfifo -m 600 "$SB/state/alice.state"
denied "FIFO instead of a state file (and no hang)" "not a regular file" alice
rm "$SB/state/alice.state"; mkdir -m 700 "$SB/state/alice.state"
denied "directory instead of a state file" "not a regular file" alice
rmdir "$SB/state/alice.state"
fresh alice
rm -f "$SB/state/alice.lock"; ln -s /etc/passwd "$SB/state/alice.lock"
denied "symlinked lock file" "symbolic link" alice
check "symlink target untouched" [ "$(stat -c %a /etc/passwd)" = 644 ]
rm -f "$SB/state/alice.lock"; mkfifo -m 600 "$SB/state/alice.lock"
denied "FIFO lock file" "not a regular file" alice
rm -f "$SB/state/alice.lock"
fresh alice
rm -f "$SB/state/.alice.tmp"; ln -s "$SB/victim" "$SB/state/.alice.tmp"
wait_fresh_step
expect_login ok "a symlink planted as the temp file is removed, not followed" permissive alice "$(totp_now "$SECRET")"
check "nothing written through the planted symlink" [ ! -e "$SB/victim" ]
check "no temp file left behind" [ ! -e "$SB/state/.alice.tmp" ]

if [ "$(id -u)" -eq 0 ]; then
  fresh alice
  chown 1001 "$SB/state/alice.state"
  denied "state file owned by the user instead of root" "expected uid 0" alice
  fresh alice
  chown 1001 "$SB/state/alice.lock"
  denied "lock file owned by another uid" "expected uid 0" alice
  fresh alice
  chown 1001 "$SB/state"
  denied "state directory owned by another uid" "expected uid 0" alice
  chown 0 "$SB/state"
else
  echo "# SKIP: ownership cases need root (CI runs as root)"
fi

# The state directory itself.
fresh alice
chmod 770 "$SB/state"
denied "group-writable state directory" "writable by group or others" alice
chmod 707 "$SB/state"
denied "world-writable state directory" "writable by group or others" alice
chmod 700 "$SB/state"
mv "$SB/state" "$SB/state.real"; ln -s "$SB/state.real" "$SB/state"
denied "symlinked state directory" "symbolic link" alice
rm "$SB/state"; mv "$SB/state.real" "$SB/state"
write_config "state_dir = $SB/nonexistent"
denied "missing state directory" "does not exist" alice

# The configuration file.
write_config "window = 1
window = 2"
denied "duplicate key in valix.conf" "already set on line" alice
write_config "frobnicate = yes"
denied "unknown key in valix.conf" "valix.conf:5: unknown setting 'frobnicate'" alice
write_config "digits"
denied "line without '=' in valix.conf" "expected 'key = value'" alice
write_config ""
chmod 666 "$SB/etc/valix.conf"
denied "world-writable valix.conf" "unsafe permissions" alice
chmod 644 "$SB/etc/valix.conf"
mv "$SB/etc/valix.conf" "$SB/etc/real.conf"; ln -s "$SB/etc/real.conf" "$SB/etc/valix.conf"
denied "symlinked valix.conf" "symbolic link" alice
rm "$SB/etc/valix.conf"
denied "missing valix.conf" "does not exist" alice
mv "$SB/etc/real.conf" "$SB/etc/valix.conf"

# A lock held by someone else (a stopped valix-enroll, say) past the 15 s lock timeout: the
# login waits, then is denied. (The logins below show that they work again once it is free.)
fresh alice
flock "$SB/state/alice.lock" sleep 25 &
holder=$!
sleep 1
wait_fresh_step
started=$(date +%s)
denied "state lock held by another process for longer than 15 s" "timed out waiting for the state lock" alice
waited=$(( $(date +%s) - started ))
check "... after waiting for it ($waited s)" [ "$waited" -ge 14 ]
# The sleep holds the lock too (flock(1) hands its descriptor on): end it, and flock ends.
pkill -P "$holder" sleep 2>/dev/null || true
wait "$holder" 2>/dev/null || true

# Libraries loaded on first use: libcrypt (backup codes) and libqrencode (QR codes). When one
# cannot be loaded, a login that needs it is denied, changes nothing and says why; a login
# that does not need it is unaffected.
rm -f "$SB/state/alice.state" "$SB/state/alice.lock"
mapfile -t CODES < <(enroll_test_user alice "$SECRET")
without_library "$VALIX_LIBCRYPT_SONAME" denied "backup code without libcrypt: denied, logged" \
  "cannot load $VALIX_LIBCRYPT_SONAME" alice "${CODES[0]}"
check "... the backup code was not used up" [ "$(state_field alice backup_left)" -eq 10 ]
check "... and no failure was counted" [ "$(state_field alice failures)" -eq 0 ]
without_library "$VALIX_LIBCRYPT_SONAME" expect_login ok "a TOTP code does not need libcrypt" permissive alice "$(totp_now "$SECRET")"
without_library "$VALIX_LIBQRENCODE_SONAME" expect_login ok "a backup code does not need libqrencode" permissive alice "${CODES[0]}"
check "... and that code is now used" [ "$(state_field alice backup_left)" -eq 9 ]
write_config "require = all
unenrolled = enroll"
without_library "$VALIX_LIBQRENCODE_SONAME" denied \
  "enrollment at login without libqrencode: denied before any prompt, logged" \
  "cannot load $VALIX_LIBQRENCODE_SONAME" dave
check "... and nothing was written for the user" [ ! -e "$SB/state/dave.state" ]
write_config ""

# A sane setup still works after all that.
fresh alice
wait_fresh_step
expect_login ok "a good state file still logs in" permissive alice "$(totp_now "$SECRET")"

finish
