#!/usr/bin/env bash
# Trusted networks (README, "Skipping the code from trusted networks"): the README's pam.d
# lines with Debian 12's real pam_access and an access.conf-style file of addresses. A login
# from a listed address or network skips the code; from any other address, or with no
# remote host, the code is asked. A host name that resolves to a listed address DOES match
# in Debian 12's pam_access (1.5.2 resolves a PAM_RHOST that is not an address and has no
# nodns option; CVE-2024-10963's fix is 1.7.1), so the README's stack puts pam_succeed_if
# before it: an rhost with anything but digits and dots (a name, or IPv6) never reaches
# pam_access and is asked for the code. The stack is also clean for valix-admin check.
source "$(dirname "$0")/lib.sh"
sandbox_init module_trusted_networks
SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
enroll_test_user alice "$SECRET" >/dev/null
pam_access_so=$(find /lib /usr/lib -name pam_access.so -path '*security*' 2>/dev/null | head -n 1)
[ -n "$pam_access_so" ] || { echo "pam_access.so not found (Debian package libpam-modules)"; exit 1; }

cat > "$SB/etc/access-valix.conf" <<'ACCESS'
# Logins from these addresses skip the 2FA code. Addresses and networks only, never host
# names (CVE-2024-10963).
+ : ALL : 10.1.0.0/16 192.0.2.7
- : ALL : ALL
ACCESS
# The README's lines (service trusted), and the same without the pam_succeed_if guard
# (service unguarded). pam_permit stands in for the password check before them (the sandbox
# users have no passwords).
stack() {  # stack GUARD
  echo "auth required pam_permit.so"
  [ "$1" = no ] || echo "auth [success=1 default=ignore] pam_succeed_if.so quiet rhost =~ *[!0-9.]*"
  echo "auth [success=1 default=ignore] pam_access.so accessfile=$SB/etc/access-valix.conf"
  echo "auth required $VALIX_MODULE config=$SB/etc/valix.conf"
  echo "account required pam_permit.so"
}
stack yes > "$SB/pam.d/trusted"
stack no > "$SB/pam.d/unguarded"
# A host name that resolves to a trusted address, as a reverse lookup could make it.
printf '10.1.2.3 trusted.example\n192.0.2.7 gw.example\n' > "$SB/etc/hosts"
export NSS_WRAPPER_HOSTS="$SB/etc/hosts"

login_from() {  # login_from RHOST ANSWER [SERVICE]: RHOST empty for none
  local rhost=$1 answer=$2 service=${3:-trusted}
  set +e
  if [ -n "$rhost" ]; then
    printf '%s\n' "$answer" | pam_tester -v -I "rhost=$rhost" "$service" alice authenticate >"$SB/out" 2>"$SB/err"
  else
    printf '%s\n' "$answer" | pam_tester -v "$service" alice authenticate >"$SB/out" 2>"$SB/err"
  fi
  LOGIN_RC=$?
  set -e
}
asked() { grep -aqF "Verification code:" "$SB/out" "$SB/err"; }

for rhost in 10.1.2.3 10.1.255.254 192.0.2.7; do
  login_from "$rhost" ""
  check "from $rhost (trusted): logged in" [ "$LOGIN_RC" -eq 0 ]
  check "from $rhost (trusted): no code asked" bash -c "! grep -aqF 'Verification code:' '$SB/out' '$SB/err'"
done

for rhost in 203.0.113.9 10.2.0.1 192.0.2.8 ""; do
  label=${rhost:-"no remote host"}
  login_from "$rhost" "000000"
  check "from $label: the code is asked" asked
  check "from $label: a wrong code is refused" [ "$LOGIN_RC" -ne 0 ]
done
"$VALIX_TEST_STATE" "$SB/state" alice write "$SECRET" >/dev/null  # clear the failures
wait_fresh_step
login_from 203.0.113.9 "$(totp_now "$SECRET")"
check "from an untrusted address: the right code logs in" [ "$LOGIN_RC" -eq 0 ]

for rhost in trusted.example gw.example 10.1.2.3.attacker.example ::1 10.1.2.3x; do
  login_from "$rhost" "000000"
  check "rhost $rhost does not match an address rule: the code is asked" asked
  check "rhost $rhost: a wrong code is refused" [ "$LOGIN_RC" -ne 0 ]
done
"$VALIX_TEST_STATE" "$SB/state" alice write "$SECRET" >/dev/null

# Why the guard: without it, Debian 12's pam_access resolves the name and matches 10.1.2.3.
login_from trusted.example "" unguarded
check "without the guard, a name resolving to a trusted address skips the code (pam_access 1.5.2)" \
  [ "$LOGIN_RC" -eq 0 ]
login_from 10.1.2.3.attacker.example "000000" unguarded
check "without the guard, a name that does not resolve is asked" asked

if [ "$(id -u)" -eq 0 ]; then
  mkdir -p "$SB/check.d"
  cp "$SB/pam.d/trusted" "$SB/check.d/trusted"
  LD_PRELOAD="${VALIX_SANITIZER_PRELOAD:+$VALIX_SANITIZER_PRELOAD:}$NSS_WRAPPER_LIB" "$VALIX_ADMIN" --config "$SB/etc/valix.conf" check --pam-dir "$SB/check.d" --no-sshd >"$SB/out" 2>"$SB/err" || true
  check "valix-admin check: the trusted-networks stack has no finding" grep -qx "valix-admin check: no problems found" "$SB/out"
fi

finish
