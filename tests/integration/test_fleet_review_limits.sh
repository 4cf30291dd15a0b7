#!/usr/bin/env bash
# Review (fleet): a failure the caller can cause on this host must not pass for a directory
# that is down. A directory that cannot be reached lets members of exempt_groups in without a
# code (the way back for administrators), so a local user who knows the password of an
# enrolled administrator (a member of exempt_groups) must not be able to skip the second
# factor with `prlimit --as=N su admin` (libldap, loaded on first use, then cannot be mapped)
# or `prlimit --nofile=N su admin` (no socket, no CA file). The directory is up throughout.
# pamtester (as root, like su) stands in for the PAM caller; every limit around the window is
# tried, as an attacker would scan them.
source "$(dirname "$0")/lib.sh"
sandbox_init fleet_review_limits
source "$(dirname "$0")/fleet_lib.sh"
fleet_start
write_host_config host-a "max_failures = 100"
wait_fresh_step
fleet_enroll host-a carol   # carol: a member of exempt_groups, enrolled
expect_login fail "directory up: enrolled, exempt carol is asked for a code (a wrong one is denied)" host-a carol 000000

# limited_login PRLIMIT_OPTION: carol's login, answering a wrong code, under the limit. The
# wrappers are preloaded into pamtester only (prlimit and bash are not built for them). A run
# that never reached the module (pam_wrapper itself failing under the limit, or its shared
# /tmp/pam.X race) says nothing and ends with LOGIN_RC=1.
limited_login() {
  local option=$1
  set +e
  printf '%s\n' 000000 | prlimit "$option" bash -c \
    'exec env LD_PRELOAD="$1" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$2" \
       PAM_WRAPPER_DEBUGLEVEL=2 NSS_WRAPPER_PASSWD="$3" NSS_WRAPPER_GROUP="$4" \
       pamtester -v host-a carol authenticate' - \
    "${VALIX_SANITIZER_PRELOAD:+$VALIX_SANITIZER_PRELOAD:}$PAM_WRAPPER_LIB:$NSS_WRAPPER_LIB" \
    "$SB/pam.d" "$SB/etc/passwd" "$SB/etc/group" >"$SB/out" 2>&1
  LOGIN_RC=$?
  set -e
}

bypassed=""
# AddressSanitizer maps its shadow memory first: under an address-space limit a sanitizer
# build only tests ASan, which then fails before the module runs. The scan is for real builds.
as_sizes=$(seq 4 40)
if [ -n "${VALIX_SANITIZER_PRELOAD:-}" ]; then
  echo "# sanitizer build: no RLIMIT_AS scan"
  as_sizes=""
fi
for mb in $as_sizes; do
  limited_login --as=$((mb * 1024 * 1024))
  if [ "$LOGIN_RC" -eq 0 ]; then
    bypassed+=" as=${mb}M"
    grep -a 'SYSLOG' "$SB/out" | sed 's/^/#   /' | head -n 2
  fi
done
for n in $(seq 4 40); do
  limited_login --nofile="$n"
  if [ "$LOGIN_RC" -eq 0 ]; then
    bypassed+=" nofile=$n"
    grep -a 'SYSLOG' "$SB/out" | sed 's/^/#   /' | head -n 2
  fi
done
[ -z "$bypassed" ] || echo "# exempt, enrolled carol got in without a code under:$bypassed"
check "no address-space or file-descriptor limit lets enrolled, exempt carol in without a code" [ -z "$bypassed" ]

# The same, deterministically: libldap cannot be loaded (as under the limits above).
without_library libldap-2.5.so.0 expect_login fail "libldap cannot be loaded: enrolled, exempt carol is denied" host-a carol 000000
check "... and the log says why" log_has "libldap"
without_library libldap-2.5.so.0 expect_login fail "... so is a user without state (never 'not enrolled')" host-a dave ""

expect_login ok "limits lifted: carol logs in with her code" host-a carol "$(code_ahead "$SECRET" 1)"
finish
