#!/usr/bin/env bash
# valix-enroll installed setuid root, run by an ordinary user, with store = ldap: it reads the
# host's bind password (root's, mode 0600) while privileged and writes the user's entry in the
# directory; the user's ~/.ldaprc, ./ldaprc and LDAP* variables change nothing (libldap reads
# them only when the real and effective uids match, and valix-enroll sets every option on the
# connection anyway). Needs root (a throwaway system user and the compiled-in valix.conf).
source "$(dirname "$0")/lib.sh"
: "${VALIX_ENROLL:?run through ctest}"
require_root "running valix-enroll setuid as another user"
sandbox_init fleet_enroll_setuid
source "$(dirname "$0")/fleet_lib.sh"

user=valixfu$$
bindir=$(mktemp -d /tmp/valix-fleet-setuid.XXXXXX)
cleanup() {
  fleet_stop
  compiled_in_config_remove
  rm -rf "$bindir"
  userdel -r "$user" >/dev/null 2>&1 || true
}
fleet_start
trap cleanup EXIT
write_host_config host-a
cp "$SB/etc/host-a.conf" "$SB/etc/valix.conf"
compiled_in_config_create
if ! useradd -m -s /bin/sh "$user" 2>/dev/null; then
  echo "SKIP: could not create a throwaway system user"
  exit 77
fi
home=$(getent passwd "$user" | cut -d: -f6)
install -m 4755 -o root -g root "$VALIX_ENROLL" "$bindir/valix-enroll"
chmod 755 "$bindir"
as_the_user=(setpriv --reuid="$user" --regid="$user" --init-groups)
as_user() {  # as_user [ENV=VALUE...] ARGS...: the setuid copy, run by $user in their home
  local vars=()
  while [[ "${1:-}" == *=* ]]; do vars+=("$1"); shift; done
  set +e
  (cd "$home" && env "${vars[@]}" HOME="$home" "${as_the_user[@]}" "$bindir/valix-enroll" "$@" \
    >"$SB/eout" 2>"$SB/eerr" <"${STDIN_FILE:-/dev/null}")
  RC=$?
  set -e
}
json() { python3 -c "import json,sys; d=json.load(open('$SB/eout')); print($1)"; }

set +e
"${as_the_user[@]}" cat "$SLAPD_DIR/host-a.password" >/dev/null 2>&1
readable=$?
set -e
check "the user cannot read the host's bind password" [ "$readable" -ne 0 ]

# Everything libldap would take from the user: none of it may count.
cat > "$home/.ldaprc" <<RC
URI ldap://127.0.0.1:1/
BINDDN cn=nobody
TLS_REQCERT never
TLS_CACERT $VALIX_LDAP_WRONG_CA
SOCKET_BIND_ADDRESSES 192.0.2.1
RC
cp "$home/.ldaprc" "$home/ldaprc"
chown "$user:" "$home/.ldaprc" "$home/ldaprc"
hostile=(LDAPURI=ldap://127.0.0.1:1/ LDAPTLS_REQCERT=never "LDAPTLS_CACERT=$VALIX_LDAP_WRONG_CA" LDAPRC="$home/ldaprc" LDAPCONF="$home/ldaprc")

wait_fresh_step
as_user "${hostile[@]}" --begin --json
check "--begin by an ordinary user through the setuid binary, with a hostile ~/.ldaprc and LDAP* (exit $RC)" [ "$RC" -eq 0 ]
secret=$(json 'd["secret"]')
check "... the pending enrollment is in the directory" [ -n "$(directory_value "$user" valixPending)" ]
totp_now "$secret" > "$SB/code"
STDIN_FILE="$SB/code" as_user "${hostile[@]}" --confirm - --json
check "--confirm with the code on stdin (exit $RC)" [ "$RC" -eq 0 ]
check "... enrolled in the directory" [ -n "$(directory_value "$user" valixSecret)" ]
check "... recorded with the user's uid" [ "$(directory_value "$user" valixUidNumber)" = "$(id -u "$user")" ]
as_user "${hostile[@]}" --status --json
check "--status reads the directory" [ "$(json 'd["enrolled"]')" = True ]

# A host identity may not replace a secret (the shipped ACL): re-enrolling over the fleet
# needs an administrator's reset first, and says so; nothing changes.
secret_before=$(directory_value "$user" valixSecret)
code_ahead "$secret" 1 > "$SB/code"
STDIN_FILE="$SB/code" as_user --code - --begin --json
check "re-enrolling: --begin with a current code (a pending enrollment is the host's to write) (exit $RC)" [ "$RC" -eq 0 ]
new_secret=$(json 'd["secret"]')
totp_now "$new_secret" > "$SB/code"
STDIN_FILE="$SB/code" as_user --confirm - --json
cp "$SB/eerr" "$SB/confirm.err"
check "... --confirm, which would replace the secret, is refused by the directory (exit $RC)" [ "$RC" -eq 1 ]
check "... saying an administrator must reset first" grep -q "ask an administrator to reset it first" "$SB/confirm.err"
check "... the secret is unchanged" [ "$(directory_value "$user" valixSecret)" = "$secret_before" ]

# With the CA in valix.conf wrong, what the user's files say (REQCERT never) cannot save it.
sed -i "s|^ldap_ca_file = .*|ldap_ca_file = $VALIX_LDAP_WRONG_CA|" "$SYSTEM_CONF"
as_user "${hostile[@]}" TLS_REQCERT=never --status
check "an untrusted directory certificate fails even with the user's TLS_REQCERT never (exit $RC)" [ "$RC" -eq 3 ]
check "... and says why" grep -qi "certificate\|TLS" "$SB/eerr"

finish
