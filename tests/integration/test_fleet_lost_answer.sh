#!/usr/bin/env bash
# A write whose answer is lost: the connection drops after the modify was sent, so it may or
# may not have been applied ("outcome unknown"). The fleet store settles it by re-reading over
# a new connection, and only counts a write as done when the entry holds the generation that
# write set; anything else denies the login. A proxy between the module and slapd
# (tests/tools/ldap_lossy_proxy.py) loses one answer, or one request, on demand.
source "$(dirname "$0")/lib.sh"
sandbox_init fleet_lost_answer
source "$(dirname "$0")/fleet_lib.sh"
fleet_start
write_host_config host-a

proxy_socket="$SB/proxy.sock"
slapd_socket="$SLAPD_DIR/run/ldapi"
: > "$SB/proxy.mode"
python3 "$VALIX_SOURCE_DIR/tests/tools/ldap_lossy_proxy.py" "$proxy_socket" "$slapd_socket" "$SB/proxy.mode" >"$SB/proxy.out" 2>&1 &
proxy_pid=$!
trap 'kill $proxy_pid 2>/dev/null; fleet_stop' EXIT
for _ in $(seq 50); do grep -q ready "$SB/proxy.out" && break; sleep 0.1; done
proxy_uri="ldapi://$(printf '%s' "$proxy_socket" | sed 's|/|%2F|g')"
# Through the proxy: ldapi, a simple bind as host A.
write_host_config lossy "ldap_uri = $proxy_uri
ldap_bind_dn = $VALIX_LDAP_HOST_A_DN
ldap_bind_password_file = $SLAPD_DIR/host-a.password"

wait_fresh_step
fleet_enroll host-a alice
losses() { grep -c "lost the" "$SB/proxy.out" || true; }

# 1. The charge (a login's first write) applied, its answer lost: settled as ours, login goes on.
echo after > "$SB/proxy.mode"
step_before=$(directory_value alice valixLastStep)
expect_login ok "the first write's answer lost, the re-read finds it applied: the right code gets in" lossy alice "$(code_ahead "$SECRET" 1)"
check "... an answer was really lost" [ "$(losses)" -eq 1 ]
check "... the watermark advanced once" [ "$(directory_value alice valixLastStep)" -gt "$step_before" ]
check "... the failure count is back to none" [ -z "$(directory_value alice valixFailures)" ]

# 2. The success (the second write) applied, its answer lost: settled, login succeeds.
echo "after 1" > "$SB/proxy.mode"
expect_login ok "the second write's answer lost, settled by the re-read" lossy alice "$(code_ahead "$SECRET" 2)"
check "... lost" [ "$(losses)" -eq 2 ]

# 3. A request lost before slapd saw it: the re-read shows the old entry; denied, nothing written.
echo before > "$SB/proxy.mode"
step_before=$(directory_value alice valixLastStep)
expect_login fail "the first write lost before it reached the directory: denied" lossy alice "$(code_ahead "$SECRET" 3)"
check "... lost" [ "$(losses)" -eq 3 ]
check "... logged as not applied, nothing assumed" log_has "not applied as sent"
check "... the watermark is unchanged" [ "$(directory_value alice valixLastStep)" = "$step_before" ]
check "... no failure recorded" [ -z "$(directory_value alice valixFailures)" ]
expect_login ok "... the code, never judged, works now" lossy alice "$(code_ahead "$SECRET" 3)"

# 4. A wrong code whose charge's answer is lost: counted exactly once, and refused.
echo after > "$SB/proxy.mode"
expect_login fail "a wrong code, the charge's answer lost: refused" lossy alice 000000
check "... lost" [ "$(losses)" -eq 4 ]
check "... counted exactly once" [ "$(directory_value alice valixFailures)" = 1 ]

# 5. The success's request lost: the code was charged but never accepted: denied.
echo "before 1" > "$SB/proxy.mode"
step_before=$(directory_value alice valixLastStep)
expect_login fail "the success lost before it reached the directory: denied" lossy alice "$(code_ahead "$SECRET" 4)"
check "... lost" [ "$(losses)" -eq 5 ]
check "... the watermark is unchanged" [ "$(directory_value alice valixLastStep)" = "$step_before" ]

finish
