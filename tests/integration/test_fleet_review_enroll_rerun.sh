#!/usr/bin/env bash
# Review (fleet): a mutator that the directory store runs again must not report the outputs of
# a run that was not committed. valix-enroll --confirm (and the interactive run) fill the
# backup codes in a run whose write then loses the compare-and-swap; the next run, on a fresh
# read, finds another pending enrollment (the user's own --begin in another terminal, or on
# another host) that the code does not match, and keeps the state as it is. The tool must not
# then print backup codes and report success: 2FA is not on, and those codes exist nowhere.
# A proxy in front of slapd's ldapi socket holds the first modify and runs the other --begin
# before passing it on, which makes the race happen every time.
source "$(dirname "$0")/lib.sh"
sandbox_init fleet_review_enroll_rerun
source "$(dirname "$0")/fleet_lib.sh"
fleet_start
write_host_config host-a
PROXY_SOCKET="$SB/proxy.sock"
proxy_uri="ldapi://$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$PROXY_SOCKET")"
write_host_config host-p "ldap_uri = $proxy_uri
ldap_bind_dn = $VALIX_LDAP_HOST_A_DN
ldap_bind_password_file = $SLAPD_DIR/host-a.password"
slapd_socket="$SLAPD_DIR/run/ldapi"

wait_fresh_step
first=$(pam_env "$VALIX_ENROLL" --config "$SB/etc/host-a.conf" --user alice --begin --json)
FIRST_SECRET=$(printf '%s' "$first" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')

python3 "$VALIX_SOURCE_DIR/tests/tools/ldap_pause_proxy.py" "$PROXY_SOCKET" "$slapd_socket" "$SB/fired" \
  "timeout 20 env LD_PRELOAD='${VALIX_SANITIZER_PRELOAD:+$VALIX_SANITIZER_PRELOAD:}$PAM_WRAPPER_LIB:$NSS_WRAPPER_LIB' PAM_WRAPPER=1 \
   PAM_WRAPPER_SERVICE_DIR='$SB/pam.d' NSS_WRAPPER_PASSWD='$SB/etc/passwd' NSS_WRAPPER_GROUP='$SB/etc/group' \
   '$VALIX_ENROLL' --config '$SB/etc/host-a.conf' --user alice --begin --json >'$SB/second' 2>&1" &
proxy_pid=$!
trap 'kill $proxy_pid 2>/dev/null; fleet_stop' EXIT
for _ in $(seq 50); do [ -S "$PROXY_SOCKET" ] && break; sleep 0.1; done

set +e
totp_now "$FIRST_SECRET" | pam_env "$VALIX_ENROLL" --config "$SB/etc/host-p.conf" --user alice --confirm - --json >"$SB/out" 2>"$SB/err"
rc=$?
set -e
check "the other --begin ran between the confirm's read and its write" [ -e "$SB/fired" ]
secret_in_directory=$(directory_value alice valixSecret)
printf '# confirm exit %s; stdout: %s; stderr: %s; enrolled: %s\n' "$rc" "$(head -c 200 "$SB/out")" \
  "$(grep -v PWRAP "$SB/err" | head -c 200)" "$([ -n "$secret_in_directory" ] && echo yes || echo no)"
check "confirm does not report success unless alice is enrolled" \
  bash -c "[ $rc -ne 0 ] || [ -n '$secret_in_directory' ]"
check "... and shows no backup codes that the directory does not hold" \
  bash -c "[ -n '$secret_in_directory' ] || ! grep -q backup_codes '$SB/out'"
finish
