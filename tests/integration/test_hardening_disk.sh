#!/usr/bin/env bash
# Full or read-only disk (issue 6, item 5): the state directory is a small tmpfs mounted for the
# test (inside the build tree, unmounted on exit). A login that must write state (the watermark,
# a consumed backup code) and cannot is refused, with a log line naming the cause; the state file
# keeps the same bytes (never zero-size or torn), no temp file is left, and the refused code is
# not burnt: it works once space is back. A state file of format 2 is updated in place, in
# blocks allocated when it was made: a full disk (no block, no inode) does not stop those
# logins, and the file keeps its size and blocks. One of format 1 (Valix 0.2), which the next
# write converts through a new file, is what needs space.
source "$(dirname "$0")/lib.sh"
require_root "mounting a tmpfs"
sandbox_init hardening_disk
SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
STATE="$SB/state"

FULL="$SB/full"
cleanup() {
  while mountpoint -q "$STATE"; do umount "$STATE" || break; done
  while mountpoint -q "$FULL"; do umount "$FULL" || break; done
}
trap cleanup EXIT
mount_state() {  # mount_state OPTIONS: a fresh tmpfs as the state directory
  cleanup
  if ! mount -t tmpfs -o "mode=0700,$1" valix-test "$STATE" 2>"$SB/mount.err"; then
    echo "SKIP: cannot mount a tmpfs here ($(cat "$SB/mount.err")); needs CAP_SYS_ADMIN"
    exit 77
  fi
}

state_intact() {  # the state file has the bytes saved in $SB/good.state
  [ -s "$STATE/alice.state" ] && cmp -s "$STATE/alice.state" "$SB/good.state"
}
refused_intact() {  # refused_intact DESCRIPTION LOG_FRAGMENT ANSWER
  login valix alice "$3"
  if [ "$LOGIN_RC" -ne 0 ] && log_has "$2" && out_has "not available right now"; then
    pass "$1: refused, logged '$2'"
  else
    failure "$1 (exit $LOGIN_RC, wanted a refusal logging '$2')"
  fi
  [ "$LOGIN_RC" -eq 0 ] || grep -a SYSLOG "$SB/err" | tail -n 3 | sed "s/^/#   /"
  check "$1: state file unchanged and not empty" state_intact
  check "$1: no temp file left" [ ! -e "$STATE/.alice.tmp" ]
}

# Format 2 on a full disk: logins write in place, in blocks the file already has.
mount_state size=64k
mapfile -t CODES < <(enroll_test_user alice "$SECRET" --uid 1001)  # uid recorded: no index write
blocks() { stat -c '%s %b' "$STATE/alice.state"; }
before=$(blocks)
dd if=/dev/zero of="$STATE/filler" bs=4k 2>/dev/null || true
check "the tmpfs is full" [ "$(df --output=avail "$STATE" | tail -n 1)" -eq 0 ]
wait_fresh_step
expect_login ok "full disk, format 2: a right TOTP code logs in (in place)" valix alice "$(totp_now "$SECRET")"
expect_login ok "full disk, format 2: a right backup code logs in" valix alice "${CODES[0]}"
check "... and is consumed" [ "$(state_field alice backup_left)" -eq 9 ]
login valix alice 123456
check "full disk, format 2: a wrong code is refused and counted" \
  [ "$LOGIN_RC" -ne 0 ] && [ "$(state_field alice failures)" -eq 1 ]
check "full disk, format 2: the file kept its size and blocks ($before)" [ "$(blocks)" = "$before" ]
check "... no temp file left" [ ! -e "$STATE/.alice.tmp" ]
rm "$STATE/filler"

# Format 1 on a full disk: converting it needs a new file; the temp file is created but
# writing it fails with ENOSPC.
to_format_1() {  # the state of alice as Valix 0.2 wrote it
  "$VALIX_TEST_STATE" "$STATE" alice text > "$SB/text"
  cat "$SB/text" > "$STATE/alice.state"
}
mount_state size=64k
mapfile -t CODES < <(enroll_test_user alice "$SECRET" --uid 1001)
to_format_1
cp "$STATE/alice.state" "$SB/good.state"
dd if=/dev/zero of="$STATE/filler" bs=4k 2>/dev/null || true
check "the tmpfs is full" [ "$(df --output=avail "$STATE" | tail -n 1)" -eq 0 ]
wait_fresh_step
code=$(totp_now "$SECRET")
refused_intact "full disk, format 1, right TOTP code" "No space left on device" "$code"
refused_intact "full disk, format 1, right backup code" "No space left on device" "${CODES[0]}"
refused_intact "full disk, format 1, wrong code (the failure cannot be counted either)" "No space left on device" 123456
rm "$STATE/filler"
expect_login ok "space back: the same TOTP code now works (the refusal did not burn it)" valix alice "$code"
check "... and the file is of format 2 now" "$VALIX_TEST_STATE" "$STATE" alice slots
expect_login ok "space back: the same backup code now works" valix alice "${CODES[0]}"
check "backup code consumed once space was back" [ "$(state_field alice backup_left)" -eq 9 ]

# No inode left for a temp file: root dir + lock + state (+ index) use them all.
mount_state size=64k,nr_inodes=4
enroll_test_user alice "$SECRET" --uid 1001 >/dev/null
check "no inode left" bash -c "! touch '$STATE/x' 2>/dev/null"
wait_fresh_step
expect_login ok "no inode left, format 2: a right code logs in (in place)" valix alice "$(totp_now "$SECRET")"
to_format_1
cp "$STATE/alice.state" "$SB/good.state"
code=$(totp_at "$SECRET" $(( $(date +%s) + 30 )))
refused_intact "no inode for the temp file, format 1" "No space left on device" "$code"
check "the log names the temp file it could not create" \
  bash -c "grep -a 'SYSLOG(' '$SB/err' | grep -qE \"cannot create '\\.[^']*\\.tmp'\""

# A read-only state directory.
mount_state size=64k
mapfile -t CODES < <(enroll_test_user alice "$SECRET")
cp "$STATE/alice.state" "$SB/good.state"
mount -o remount,ro "$STATE"
wait_fresh_step
code=$(totp_now "$SECRET")
refused_intact "read-only state dir, right TOTP code" "Read-only file system" "$code"
refused_intact "read-only state dir, right backup code" "Read-only file system" "${CODES[1]}"
mount -o remount,rw "$STATE"
expect_login ok "writable again: the same code works" valix alice "$code"

# valix-enroll --backup-codes-file on a full disk: the codes are shown instead, and no empty or
# half-written file is left where the user expects their codes.
: "${VALIX_ENROLL:?run through ctest}"
printf 'account required %s acct=success\n' "$VALIX_TEST_AUTHTOK_MODULE" >"$SB/pam.d/valix-enroll"
mount_state size=1m
mkdir -p "$FULL"
mount -t tmpfs -o size=4k,mode=1777 valix-test-full "$FULL"
head -c 1M /dev/zero >"$FULL/filler" 2>/dev/null || true
pam_env "$VALIX_ENROLL" --config "$SB/etc/valix.conf" --user bob --begin --json >"$SB/eout" 2>"$SB/eerr"
bsecret=$(python3 -c "import json; print(json.load(open('$SB/eout'))['secret'])")
wait_fresh_step
set +e
pam_env "$VALIX_ENROLL" --config "$SB/etc/valix.conf" --user bob --confirm "$(totp_now "$bsecret")" \
  --backup-codes-file "$FULL/codes.txt" >"$SB/eout" 2>"$SB/eerr" </dev/null
rc=$?
set -e
check "codes file on a full disk: enrolled anyway (exit 0)" [ "$rc" -eq 0 ]
check "... the 10 codes are shown instead" [ "$(grep -cE '^ *[0-9]+\. [0-9a-z]{5}-[0-9a-z]{5}$' "$SB/eout")" -eq 10 ]
check "... and the user is told" grep -qF "could not save the backup codes" "$SB/eerr"
check "... no partial file left" [ ! -e "$FULL/codes.txt" ]

# A failing disk: the new state is visible (in place, or renamed over the old), then the sync
# that makes it durable (fdatasync, or the directory's fsync) fails (EIO). valix-enroll shows
# the new backup codes, which are the ones in force, says what happened and exits 3; a login
# whose state write ends that way is refused (fail closed). The disk starts failing at the
# second update's sync: the code's verdict (the first, one write in place) is durable, the
# new backup codes (the second) are not.
mount_state size=1m
enroll_test_user dave "$SECRET" --uid 1004 >/dev/null  # uid recorded: no index write to come
wait_fresh_step
set +e
FAIL_DIR_FSYNC_FROM=2 with_failing_dir_fsync pam_env "$VALIX_ENROLL" --config "$SB/etc/valix.conf" --user dave \
  --regenerate-backup-codes --code "$(totp_now "$SECRET")" >"$SB/eout" 2>"$SB/eerr" </dev/null
rc=$?
set -e
mapfile -t NEW < <(sed -nE 's/^ *[0-9]+\. ([0-9a-z]{5}-[0-9a-z]{5})$/\1/p' "$SB/eout")
check "directory sync fails after new backup codes: exit 3" [ "$rc" -eq 3 ]
check "... the 10 new codes are shown" [ "${#NEW[@]}" -eq 10 ]
check "... and the user is told they are in use" grep -qF "the change is in place and in use, but the disk reported an error" "$SB/eerr"
with_failing_dir_fsync login valix dave "${NEW[0]}"
check "a login whose state write cannot be synced is refused" [ "$LOGIN_RC" -ne 0 ]
check "... logged with the cause" log_has ", but syncing it"
# Its verdict (the code consumed) was written in place, only not made durable: every reader
# sees it, so the code is spent, as after a crash past the write, and never works again.
login valix dave "${NEW[0]}"
check "... and the code it carried never works later" [ "$LOGIN_RC" -ne 0 ]
check "... refused as a wrong code" log_has "reason=wrong_code user=dave"
expect_login ok "the disk recovered: another new backup code logs in" valix dave "${NEW[1]}"

cleanup
finish
