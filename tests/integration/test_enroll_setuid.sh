#!/usr/bin/env bash
# valix-enroll installed setuid root and run by an ordinary user, as in production: it writes
# only that user's state, creates the files the user names with the user's own identity (a
# root-only directory stays out of reach), ignores --config and refuses --user, is not steered
# by LD_PRELOAD, PATH or umask, and leaves whole state when the user kills it mid-write.
#
# Needs root: it creates two throwaway system users and, for the length of the test, the
# compiled-in valix.conf (pointing at the sandbox state directory), which a setuid run cannot
# be steered away from. It skips rather than touch a valix.conf that already exists. Accounts
# are checked by the real PAM stack (/etc/pam.d/valix-enroll, or "other" without it).
source "$(dirname "$0")/lib.sh"
: "${VALIX_ENROLL:?run through ctest}"
require_root "running valix-enroll setuid as another user"
sandbox_init enroll_setuid

user=valixsu$$
other=valixso$$
bindir=$(mktemp -d /tmp/valix-enroll-setuid.XXXXXX)
cleanup() {
  compiled_in_config_remove
  rm -rf "$bindir"
  userdel -r "$user" >/dev/null 2>&1 || true
  userdel -r "$other" >/dev/null 2>&1 || true
}
trap cleanup EXIT
# The compiled-in valix.conf, root-owned, pointing at the sandbox.
compiled_in_config_create
system_conf=$SYSTEM_CONF

for u in "$user" "$other"; do
  if ! useradd -m -s /bin/sh "$u" 2>/dev/null || ! echo "$u:Perm-Passw0rd-$$" | chpasswd; then
    echo "SKIP: could not create a throwaway system user"
    exit 77
  fi
done
home=$(getent passwd "$user" | cut -d: -f6)
install -m 4755 -o root -g root "$VALIX_ENROLL" "$bindir/valix-enroll"
install -m 755 "$VALIX_ENROLL" "$bindir/valix-enroll-plain"
chmod 755 "$bindir"

# run_as_user COMMAND...: COMMAND run by $user in their home; RC, $SB/eout, $SB/eerr.
as_the_user=(setpriv --reuid="$user" --regid="$user" --init-groups)
run_as_user() {
  set +e
  (cd "$home" && "${as_the_user[@]}" "$@" >"$SB/eout" 2>"$SB/eerr" </dev/null)
  RC=$?
  set -e
}
# as_user ARGS...: the setuid copy, run by $user.
as_user() { run_as_user "$bindir/valix-enroll" "$@"; }
json() { python3 -c "import json,sys; d=json.load(open('$SB/eout')); print($1)"; }
expect_rc() {  # expect_rc RC DESCRIPTION ARGS...
  local want=$1 description=$2
  shift 2
  as_user "$@"
  if [ "$RC" -eq "$want" ]; then pass "$description"; else
    failure "$description (exit $RC, wanted $want)"; sed 's/^/#   /' "$SB/eout" "$SB/eerr" | head -20; fi
}
eerr_has() { grep -qF -- "$1" "$SB/eerr"; }
owner_mode() { stat -c '%U %a' "$1"; }
wait_next_step() {
  local step=$(( $(date +%s) / 30 ))
  while [ $(( $(date +%s) / 30 )) -eq "$step" ]; do sleep 1; done
}

# Another user's state, to show it is neither readable nor changed.
OTHER_SECRET=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
enroll_test_user "$other" "$OTHER_SECRET" >/dev/null
cp "$SB/state/$other.state" "$SB/other.before"

# --- a QR image the user may not write refuses the whole --begin --------------------------
expect_rc 1 "--qr-svg into a root-only directory is refused" --begin --json --qr-svg "$SB/state/evil.svg"
check "... the image is not created" [ ! -e "$SB/state/evil.svg" ]
check "... and nothing is stored" [ ! -e "$SB/state/$user.state" ]

# --- begin / confirm, as the user ---------------------------------------------------------
expect_rc 0 "--begin by an ordinary user through the setuid binary" --begin --json --qr-svg "$home/qr.svg"
secret=$(json 'd["secret"]')
uri=$(json 'd["uri"]')
check "the user's state file is root's, mode 0600" [ "$(owner_mode "$SB/state/$user.state")" = "root 600" ]
# The setuid process runs with the caller's gid; what it creates must not keep it.
check "the state and lock files are root:root, not in the caller's group" \
  [ "$(stat -c %U:%G "$SB/state/$user.state" "$SB/state/$user.lock" | tr '\n' ' ')" = "root:root root:root " ]
check "the QR image belongs to the user, mode 0600" [ "$(owner_mode "$home/qr.svg")" = "$user 600" ]
rsvg-convert -o "$SB/qr.png" "$home/qr.svg"
check "the image decodes to the URI" [ "$(zbarimg --raw -q "$SB/qr.png")" = "$uri" ]
check "the URI names the user" grep -qF "$user@" <<<"$uri"

wait_fresh_step
expect_rc 0 "--confirm with --backup-codes-file in the user's home" \
  --confirm "$(totp_now "$secret")" --json --backup-codes-file "$home/codes.txt"
check "codes file belongs to the user, mode 0600" [ "$(owner_mode "$home/codes.txt")" = "$user 600" ]
check "codes file holds the 10 codes printed" \
  [ "$(json '"\n".join(d["backup_codes"])')" = "$(cat "$home/codes.txt")" ]
check "enrolled" [ "$(state_field "$user" enrolled)" = 1 ]

# --- files are written without root -------------------------------------------------------
wait_next_step
expect_rc 0 "--regenerate-backup-codes with a current code" --regenerate-backup-codes \
  --code "$(totp_at "$secret" $(( $(date +%s) + 30 )))" --backup-codes-file "$SB/state/stolen.txt"
check "... cannot put the codes file in a root-only directory" [ ! -e "$SB/state/stolen.txt" ]
check "... says so and shows the codes instead" eerr_has "could not save the backup codes"
check "... codes shown" grep -qE '^ +10\. [0-9a-z]{5}-[0-9a-z]{5}' "$SB/eout"
expect_rc 0 "--status" --status --json
check "status: the user's own, enrolled" [ "$(json 'd["user"]')/$(json 'd["enrolled"]')" = "$user/True" ]
check "status shows no secret" bash -c "! grep -q '$secret' '$SB/eout'"

# --- no way to reach another user, or another state directory -----------------------------
expect_rc 1 "--user is refused for an ordinary user" --user "$other" --status
check "... with the reason" eerr_has "only root may use --user"
expect_rc 1 "--user with a change is refused too" --user "$other" --begin --json
run_as_user "$bindir/valix-enroll-plain" --config "$SB/etc/valix.conf" --user "$other" --status
check "--user is refused for an ordinary user without setuid too" [ "$RC" -eq 1 ]
check "... with the reason" eerr_has "only root may use --user"
mkdir -m 700 "$home/mystate"
printf 'state_dir = %s/mystate\n' "$home" > "$home/my.conf"
chown -R "$user:" "$home/mystate" "$home/my.conf"
expect_rc 0 "--config is ignored when setuid" --config "$home/my.conf" --status --json
check "... and says so" eerr_has "--config is ignored when run setuid"
check "... the status still comes from the real state directory" [ "$(json 'd["enrolled"]')" = True ]
check "... nothing written to the user's directory" [ -z "$(ls -A "$home/mystate")" ]
check "the other user's state is unchanged" cmp -s "$SB/state/$other.state" "$SB/other.before"
# (valix-enroll also indexed the user's uid; the other's state was written without one.)
check "the state directory holds only the two users' files" \
  [ "$(ls -A "$SB/state" | sort | tr '\n' ' ')" = "$(printf '%s\n' "$other.lock" "$other.state" "$user.lock" "$user.state" "+$(id -u "$user").uid" | sort | tr '\n' ' ')" ]

# Planted symlinks in the state directory are never followed (the user cannot plant them;
# this shows the tool would not follow them anyway).
echo keep > "$SB/victim.lock"
echo keep > "$SB/victim.tmp"
mv "$SB/state/$user.lock" "$SB/$user.lock.real"
ln -s "$SB/victim.lock" "$SB/state/$user.lock"
expect_rc 3 "a symlink planted as the lock file is refused" --regenerate-backup-codes --code 000000
check "... its target untouched" [ "$(cat "$SB/victim.lock")" = keep ]
rm "$SB/state/$user.lock"
mv "$SB/$user.lock.real" "$SB/state/$user.lock"
ln -s "$SB/victim.tmp" "$SB/state/.$user.tmp"
expect_rc 1 "with a symlink planted as the temp file, a wrong code is still counted" --regenerate-backup-codes --code 000000
check "... the temp file's target untouched" [ "$(cat "$SB/victim.tmp")" = keep ]
check "... the state file is a regular file, root's" \
  bash -c "[ -f '$SB/state/$user.state' ] && [ ! -L '$SB/state/$user.state' ] && [ \"\$(stat -c %U '$SB/state/$user.state')\" = root ]"
check "... the failure recorded" [ "$(state_field "$user" failures)" = 1 ]
check "... the state file written through the temp file is root:root" \
  [ "$(stat -c %U:%G "$SB/state/$user.state")" = root:root ]

# --- environment tricks: LD_PRELOAD, PATH, umask -------------------------------------------
# A library and a set of programs that leave a mark wherever they run. Run through the plain
# copy they do (so the trap works); through the setuid copy they must not.
mkdir -m 1777 "$bindir/marks"
mkdir -m 755 "$bindir/evil"
cat > "$bindir/evil/evil.c" <<EOF
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void mark(void) {
  int fd = open("$bindir/marks/library", O_WRONLY | O_CREAT, 0666);
  if (fd >= 0) close(fd);
}
EOF
cc -shared -fPIC -o "$bindir/evil/libevil.so" "$bindir/evil/evil.c"
for prog in sh bash unix_chkpwd getent hostname id passwd chage qrencode sendmail logger; do
  printf '#!/bin/sh\n: > %s/marks/path-%s\n' "$bindir" "$prog" > "$bindir/evil/$prog"
  chmod 755 "$bindir/evil/$prog"
done
chmod 644 "$bindir/evil/"*.so*
# hostile_env BINARY ARGS...: BINARY run by $user with every trick at once and umask 000.
hostile_env() {
  local umask_before
  umask_before=$(umask)
  umask 000
  run_as_user env LD_PRELOAD="${VALIX_SANITIZER_PRELOAD:+$VALIX_SANITIZER_PRELOAD:}$bindir/evil/libevil.so" \
    PATH="$bindir/evil:$PATH" "$@"
  umask "$umask_before"
}
hostile_env "$bindir/valix-enroll-plain" --config "$SB/etc/valix.conf" --status --json
check "control: the planted library loads into an unprivileged copy" [ -e "$bindir/marks/library" ]
rm -f "$bindir/marks/"*
rm "$SB/state/$user.state"   # as a reset would: the user enrolls again below
hostile_env "$bindir/valix-enroll" --begin --json --qr-svg "$home/qr2.svg"
check "--begin under LD_PRELOAD, PATH and umask 000 works" [ "$RC" -eq 0 ]
check "... no planted library or program ran" [ -z "$(ls -A "$bindir/marks")" ]
check "... the state file is still root's, mode 0600" [ "$(owner_mode "$SB/state/$user.state")" = "root 600" ]
check "... the QR image is still mode 0600" [ "$(owner_mode "$home/qr2.svg")" = "$user 600" ]
secret=$(json 'd["secret"]')
wait_fresh_step
hostile_env "$bindir/valix-enroll" --confirm "$(totp_now "$secret")" --json --backup-codes-file "$home/codes2.txt"
check "--confirm under the same tricks works" [ "$RC" -eq 0 ]
check "... no planted library or program ran" [ -z "$(ls -A "$bindir/marks")" ]
check "... the codes file is still mode 0600" [ "$(owner_mode "$home/codes2.txt")" = "$user 600" ]
check "... the state file is still root's, mode 0600" [ "$(owner_mode "$SB/state/$user.state")" = "root 600" ]

# --- signals mid-write ----------------------------------------------------------------------
# The user may signal the setuid process they started (its real uid is theirs). Runs of
# --begin (each one writes the state file) are cut short by the user's own SIGKILL, SIGTERM,
# SIGINT or SIGHUP at random moments; afterwards the state is whole, the lock free and the
# next enrollment succeeds. SIGINT is ignored while the state is written, by design.
rm "$SB/state/$user.state"
# How long one run takes here, so the signals land across its whole life.
start=$(date +%s%N)
expect_rc 0 "--begin, timed" --begin --json
run_ms=$(( ($(date +%s%N) - start) / 1000000 + 1 ))
(( run_ms < 1000 )) || run_ms=999
signals=(KILL TERM INT HUP)
cut_short=0
torn=0
for i in $(seq 1 80); do
  (cd "$home" && exec "${as_the_user[@]}" "$bindir/valix-enroll" --begin --json >/dev/null 2>&1 </dev/null) &
  pid=$!
  sleep "$(printf '0.%03d' $((RANDOM % run_ms)))"
  "${as_the_user[@]}" kill -s "${signals[i % 4]}" "$pid" 2>/dev/null || true
  rc=0
  wait "$pid" || rc=$?
  if [ "$rc" -gt 128 ]; then cut_short=$((cut_short + 1)); fi
  if [ -e "$SB/state/$user.state" ] && ! "$VALIX_TEST_STATE" "$SB/state" "$user" show >/dev/null 2>&1; then
    torn=$((torn + 1))
  fi
done
check "some runs were cut short by a signal ($cut_short of 80)" [ "$cut_short" -gt 0 ]
check "after every run the state file, if any, parses" [ "$torn" -eq 0 ]
check "... and is still root's, mode 0600" \
  bash -c "[ ! -e '$SB/state/$user.state' ] || [ \"\$(stat -c '%U %a' '$SB/state/$user.state')\" = 'root 600' ]"
expect_rc 0 "a --begin after the interrupted ones" --begin --json
secret=$(json 'd["secret"]')
wait_fresh_step
expect_rc 0 "... and its --confirm succeed" --confirm "$(totp_now "$secret")" --json
check "... enrolled" [ "$(state_field "$user" enrolled)" = 1 ]
check "no temp file is left in the state directory" \
  bash -c "! ls -A '$SB/state' | grep -q tmp"
check "the other user's state is still unchanged" cmp -s "$SB/state/$other.state" "$SB/other.before"

# --- a file-size limit gives no free guesses -----------------------------------------------
# The setuid tool inherits the caller's limits. Before the fix, with RLIMIT_FSIZE at the state
# file's size and SIGXFSZ ignored, a wrong --code was never counted (the write that counts it
# grows the file) while a right one went through, so --regenerate-backup-codes --code was an
# unlimited, undelayed oracle. Now root lifts the limit where the system lets it (a container
# may withhold CAP_SYS_RESOURCE, as this one may), and in any case a code is counted before it
# is judged: under every limit a wrong code is counted, or nothing is judged and the right
# code is refused too.
limited_as_user() {  # limited_as_user LIMIT ARGS...: the setuid copy under RLIMIT_FSIZE=LIMIT
  local limit=$1
  shift
  run_as_user prlimit --fsize="$limit" bash -c "trap '' XFSZ; exec \"\$@\"" - "$bindir/valix-enroll" "$@"
}
wrong_code() { printf '%06d' $(( (10#$(totp_now "$1") + 500000) % 1000000 )); }
next_code() { totp_at "$1" $(( $(date +%s) + 30 )); }  # above the template's watermark
# The attacker's starting point: the user has used a code before (so a right code's new state
# is as long as the old one) and four wrong codes are counted; put back before every attempt.
enroll_test_user "$user" "$secret" >/dev/null
wait_fresh_step
as_user --regenerate-backup-codes --code "$(totp_now "$secret")"
check "a right --code is accepted (and sets the last use)" [ "$RC" -eq 0 ]
for i in 1 2 3 4; do as_user --regenerate-backup-codes --code "$(wrong_code "$secret")"; done
check "... four wrong ones are counted" [ "$(state_field "$user" failures)" = 4 ]
cp -p "$SB/state/$user.state" "$SB/template.state"
restore_template() { cp -p "$SB/template.state" "$SB/state/$user.state"; }
size=$(stat -c %s "$SB/state/$user.state")
counted=0
oracle=0
for limit in $(seq $((size - 30)) $((size + 30))); do
  restore_template
  limited_as_user "$limit" --regenerate-backup-codes --code "$(wrong_code "$secret")"
  if [ "$(state_field "$user" failures)" -eq 5 ]; then
    counted=$((counted + 1))
    continue
  fi
  restore_template
  limited_as_user "$limit" --regenerate-backup-codes --code "$(next_code "$secret")"
  if [ "$RC" -eq 0 ]; then
    oracle=$((oracle + 1))
    echo "# limit $limit: a wrong code went uncounted and the right one was accepted"
  fi
done
check "no file-size limit around the state's ($size bytes) lets a wrong code pass uncounted while the right one works ($oracle)" [ "$oracle" -eq 0 ]
check "with room for the charge a wrong code is counted ($counted limits)" [ "$counted" -gt 0 ]
restore_template
limited_as_user $((size + 30)) --regenerate-backup-codes --code "$(wrong_code "$secret")"
check "the fifth wrong code starts the lockout" [ "$(state_field "$user" locked_until)" -gt "$(date +%s)" ]
for limit in $((size - 10)) "$size" $((size + 10)); do
  limited_as_user "$limit" --regenerate-backup-codes --code "$(next_code "$secret")"
  check "locked out: the right code under a limit of $limit is refused" [ "$RC" -ne 0 ]
done
check "... no new backup codes were made" bash -c "! grep -qE '[0-9a-z]{5}-[0-9a-z]{5}' '$SB/eout'"

# The code from standard input ("--code -"), out of sight of other users' ps; and the fail
# delay of a login applies to a wrong one.
enroll_test_user "$user" "$secret" >/dev/null
wait_fresh_step
code=$(totp_now "$secret")
set +e
(cd "$home" && "${as_the_user[@]}" "$bindir/valix-enroll" --regenerate-backup-codes --code - \
  <<<"$code" >"$SB/eout" 2>"$SB/eerr")
RC=$?
set -e
check "--code - reads the code from standard input" [ "$RC" -eq 0 ]
check "... and makes new codes" grep -qE '^ +10\. [0-9a-z]{5}-[0-9a-z]{5}' "$SB/eout"
sed -i 's/^fail_delay_ms = 0$/fail_delay_ms = 1500/' "$system_conf"
start=$(date +%s%N)
as_user --regenerate-backup-codes --code "$(wrong_code "$secret")"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
sed -i 's/^fail_delay_ms = 1500$/fail_delay_ms = 0/' "$system_conf"
check "a wrong --code is refused" [ "$RC" -eq 1 ]
check "... after the configured fail delay (${elapsed_ms} ms >= 1500)" [ "$elapsed_ms" -ge 1500 ]

finish
