#!/usr/bin/env bash
# Hostile user names and files (issue 6, item 6), beyond test_module_fail_closed.sh: names with
# '/', '..', control characters, spaces, 65+ characters, a leading '-' or '.' reach the module
# through pamtester. Each is treated as a user who has no 2FA state (denied under require=all,
# ignored under require=none), is logged without raw control characters, and nothing outside
# the state directory is created or touched (a decoy tree and the whole sandbox are compared
# before and after). Also: a directory, FIFO, hard link or huge file planted at the temp-file
# path. (Swapping a parent directory of the state dir during a login is out of scope: the state
# dir is opened once, by path, and its parents belong to root.)
source "$(dirname "$0")/lib.sh"
sandbox_init hardening_hostile
SECRET=MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U

mkdir -p "$SB/decoy/sub" "$SB/state/sub"
echo keep > "$SB/decoy/victim.state"
# Every path under the sandbox with size, mode, owner and mtime, except the test's own files.
snapshot() {
  find "$SB" -mindepth 1 \( -path "$SB/out" -o -path "$SB/err" -o -path "$SB/before" -o -path "$SB/after" \) \
    -prune -o -printf '%p %s %m %U %T@\n' | sort
}
snapshot > "$SB/before"

NAMES=(
  "../decoy/victim" "../../etc/passwd" "a/b" "sub/x" ".." "." "-x" ".hidden"
  "with space" $'tab\there' $'new\nline' $'esc\e[31mred' "$(printf 'x%.0s' $(seq 65))"
  "$(printf 'y%.0s' $(seq 300))" "@x" "a\$b" ""
)
write_config "require = none"
for name in "${NAMES[@]}"; do
  shown=$(printf '%q' "$name")
  login valix "$name" 123456
  # pamtester itself refuses an empty name; everything else must reach the module.
  if [ -n "$name" ]; then
    check "require=none: $shown is ignored like a user without state" \
      log_has "user name is not valid for 2FA state; treating as not enrolled"
  fi
  check "require=none: $shown logged without raw control characters" \
    bash -c '! grep -a "SYSLOG(" "$1" | tr -d "\n" | grep -qP "[\x00-\x08\x0b-\x1f\x7f]"' _ "$SB/err"
done
write_config "require = all"
for name in "${NAMES[@]}"; do
  login valix "$name" 123456
  check "require=all: $(printf '%q' "$name") is denied" [ "$LOGIN_RC" -ne 0 ]
done
snapshot > "$SB/after"
# valix.conf was rewritten by the test itself: compare everything else.
check "nothing created, removed or changed outside the state dir (and nothing inside either)" \
  diff <(grep -v "/etc/valix.conf " "$SB/before") <(grep -v "/etc/valix.conf " "$SB/after")
check "decoy untouched" [ "$(cat "$SB/decoy/victim.state")" = keep ]

# Things planted at the temp-file path of an enrolled user. A login writes through it when it
# replaces the state file: here, to convert a file of format 1 (a format-2 file is updated in
# place and never touches the temp path), so each case starts from one.
write_config ""
mapfile -t CODES < <(enroll_test_user alice "$SECRET")
"$VALIX_TEST_STATE" "$SB/state" alice text > "$SB/good.state"
USED=0
planted() {  # a login with a fresh backup code (every case writes state) from format 1
  cat "$SB/good.state" > "$SB/state/alice.state"
  login valix alice "${CODES[$USED]}"
  USED=$((USED + 1))
}
mkdir "$SB/state/.alice.tmp"; touch "$SB/state/.alice.tmp/inner"
planted
check "directory at the temp path: refused" [ "$LOGIN_RC" -ne 0 ]
check "directory at the temp path: logged" log_has "cannot remove stale '.alice.tmp'"
check "directory at the temp path: state unchanged" cmp -s "$SB/state/alice.state" "$SB/good.state"
check "directory at the temp path: its content untouched" [ -e "$SB/state/.alice.tmp/inner" ]
rm -rf "$SB/state/.alice.tmp"
echo outside > "$SB/decoy/linked"; ln "$SB/decoy/linked" "$SB/state/.alice.tmp"
planted
check "hard link at the temp path: login works (the link is removed, not written through)" [ "$LOGIN_RC" -eq 0 ]
check "hard link at the temp path: the other name keeps its content" [ "$(cat "$SB/decoy/linked")" = outside ]
mkfifo "$SB/state/.alice.tmp"
planted
check "FIFO at the temp path: removed, login works, no hang" [ "$LOGIN_RC" -eq 0 ]
head -c 10000000 /dev/zero > "$SB/state/.alice.tmp"
planted
check "huge file at the temp path: removed, login works" [ "$LOGIN_RC" -eq 0 ]
check "no temp file left" [ ! -e "$SB/state/.alice.tmp" ]

# C1 control bytes from the client (0x9b is CSI on terminals that take 8-bit controls, as raw
# bytes and as UTF-8) and any other byte >= 0x80 never reach a log line: each becomes '?'.
write_config "require = all"
rhost=$'evil\x9b2J\xc2\x9b31m\x85host'
write_service c1 "" "auth required $VALIX_TEST_AUTHTOK_MODULE rhost=$rhost"
login c1 erin 123456
check "rhost with C1 controls: the login is judged (denied) and logged" log_has "event=denied reason=not_enrolled user=erin "
check "rhost with C1 controls: each byte >= 0x80 logged as '?'" log_has " rhost=evil?2J??31m?host "
check "rhost with C1 controls: no byte >= 0x80 in any log line" \
  bash -c '! grep -a "SYSLOG(" "$1" | LC_ALL=C grep -qaP "[\x80-\xff]"' _ "$SB/err"

# A remote host or user name that tries to add keys to the key=value line: blanks, '=' and
# quotes are percent-encoded, so every line has exactly one event and one reason, both ours.
LOGIN_ITEMS=(-I 'rhost=a event=success reason=totp_code "msg=x')
login valix erin 123456
LOGIN_ITEMS=()
check "rhost with ' event=success': logged percent-encoded" \
  log_has ' rhost=a%20event%3Dsuccess%20reason%3Dtotp_code%20%22msg%3Dx tty='
login valix 'x event=success reason=totp_code' 123456
check "user name with ' event=success': logged percent-encoded" \
  log_has ' user=x%20event%3Dsuccess%20reason%3Dtotp_code '
# Every line: event and reason first, then keys whose values hold no blank, '=' or '"', then
# msg="..." last; and no second event= or reason= before msg.
well_formed() {
  ! grep -a "SYSLOG(" "$SB/err" | sed 's/.*SYSLOG([0-9]): //' |
    grep -avE '^event=[a-z_]+ reason=[a-z_]+ ([a-z_]+=[^ ="]+ )*msg="' | grep -aq . &&
    ! grep -a "SYSLOG(" "$SB/err" | sed 's/ msg=".*//' | grep -aqE ' event=.* event=| reason=.* reason='
}
check "... every line well formed, nothing injected" well_formed
finish
