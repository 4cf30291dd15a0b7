#!/usr/bin/env bash
# The fleet store's directory side: a throwaway slapd (scripts/slapd-sandbox) with the shipped
# schema (conf/ldap/valix.ldif) and ACL (conf/ldap/acl.ldif), driven with ldap-utils as the
# C++ client will drive it: hosts create and enroll state entries, read secrets, consume
# backup codes and write watermarks, but cannot replace a secret, add a backup code or a
# require flag, or delete an entry; users and anonymous clients see nothing; admins manage
# everything; a modify that deletes the valixGeneration it read is a compare-and-swap. Also
# StartTLS and ldaps with the sandbox CA (and not with an unrelated one), a restart on the
# same ports with the same data, and the cn=config rootDN over ldapi.
source "$(dirname "$0")/lib.sh"
for tool in /usr/sbin/slapd slapadd slapmodify slappasswd ldapsearch ldapmodify ldapadd \
            ldapcompare ldapdelete ldapmodrdn ldapwhoami openssl setsid; do
  command -v "$tool" >/dev/null || {
    echo "FAIL: $tool is required: apt-get install slapd ldap-utils (scripts/deps.sh lists them)"
    exit 1
  }
done
SANDBOX=$VALIX_SOURCE_DIR/scripts/slapd-sandbox
DIR=$VALIX_BUILD_DIR/test-sandbox/ldap_acl/slapd
# A slapd left by an earlier run that was killed before its trap ran.
if [ -d "$DIR" ]; then "$SANDBOX" stop "$DIR" >/dev/null 2>&1 || true; fi
sandbox_init ldap_acl
trap '"$SANDBOX" stop "$DIR"' EXIT

t0=$(date +%s%N)
"$SANDBOX" start "$DIR" >"$SB/start.out"
echo "# slapd-sandbox start: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "slapd-sandbox start prints nothing on stdout" test ! -s "$SB/start.out"
source "$DIR/env"
export LDAPNOINIT=1   # no ldap.conf, ldaprc or LDAP* variable shapes the calls below
B=$VALIX_LDAP_BASE
V="ou=valix,$VALIX_LDAP_SUFFIX"

check "env names the ports, the CAs and the password files" test -n "$VALIX_LDAP_PORT" -a \
  -n "$VALIX_LDAPS_PORT" -a -s "$VALIX_LDAP_CA" -a -s "$VALIX_LDAP_WRONG_CA" -a \
  -s "$VALIX_LDAP_HOST_A_PASSWORD_FILE" -a -s "$VALIX_LDAP_HOST_B_PASSWORD_FILE" -a \
  -s "$VALIX_LDAP_ADMIN_PASSWORD_FILE" -a -s "$VALIX_LDAP_USER_PASSWORD_FILE"
password_files_ok() {
  local f
  for f in "$VALIX_LDAP_HOST_A_PASSWORD_FILE" "$VALIX_LDAP_HOST_B_PASSWORD_FILE" \
           "$VALIX_LDAP_ADMIN_PASSWORD_FILE" "$VALIX_LDAP_USER_PASSWORD_FILE"; do
    [ "$(stat -c %a "$f")" = 600 ] && [ "$(tail -c1 "$f" | od -An -c | tr -d ' ')" != '\n' ] || return 1
  done
}
check "password files are mode 0600, without a trailing newline" password_files_ok
check "VALIX_SLAPD_PID is the running slapd" kill -0 "$VALIX_SLAPD_PID"
if [ "$(id -u)" -eq 0 ] && ! grep -q 'running slapd as root' "$SB/start.out"; then
  check "slapd runs as nobody (started as root)" test "$(ps -o user= -p "$VALIX_SLAPD_PID")" = nobody
fi

# as WHO TOOL ARGS...: TOOL on ldap://127.0.0.1:PORT bound as host-a, host-b, ops (admin),
# alice (an ordinary user) or anon. Sets RC; output in $SB/out.
as() {
  local who=$1 tool=$2 auth
  shift 2
  case "$who" in
    host-a) auth=(-D "$VALIX_LDAP_HOST_A_DN" -y "$VALIX_LDAP_HOST_A_PASSWORD_FILE") ;;
    host-b) auth=(-D "$VALIX_LDAP_HOST_B_DN" -y "$VALIX_LDAP_HOST_B_PASSWORD_FILE") ;;
    ops) auth=(-D "$VALIX_LDAP_ADMIN_DN" -y "$VALIX_LDAP_ADMIN_PASSWORD_FILE") ;;
    alice) auth=(-D "$VALIX_LDAP_USER_DN" -y "$VALIX_LDAP_USER_PASSWORD_FILE") ;;
    anon) auth=() ;;
    *) echo "as: unknown identity $who" >&2; return 2 ;;
  esac
  set +e
  "$tool" -x -H "$VALIX_LDAP_URI" "${auth[@]}" "$@" >"$SB/out" 2>&1
  RC=$?
  set -e
}
# expect_rc WANT DESCRIPTION WHO TOOL ARGS...: passes when the tool exits with WANT (the
# LDAP result code; "fail" = anything but 0, 5 and 6, i.e. not success nor a compare answer).
expect_rc() {
  local want=$1 description=$2
  shift 2
  as "$@"
  if [ "$RC" = "$want" ] || { [ "$want" = fail ] && [ "$RC" != 0 ] && [ "$RC" != 5 ] && [ "$RC" != 6 ]; }; then
    pass "$description (result $RC)"
  else
    failure "$description (result $RC, wanted $want)"
  fi
}
# modify WANT DESCRIPTION WHO DN: the changes of one modify on stdin.
modify() {
  local want=$1 description=$2 who=$3 dn=$4
  { printf 'dn: %s\nchangetype: modify\n' "$dn"; cat; } > "$SB/change.ldif"
  expect_rc "$want" "$description" "$who" ldapmodify -f "$SB/change.ldif"
}
# add WANT DESCRIPTION WHO: one entry (LDIF) on stdin.
add() {
  local want=$1 description=$2 who=$3
  cat > "$SB/entry.ldif"
  expect_rc "$want" "$description" "$who" ldapadd -f "$SB/entry.ldif"
}
# read_attr WHO DN ATTR: the values of ATTR in DN as WHO sees them (base64 for binary), one a line.
read_attr() {
  as "$1" ldapsearch -LLL -o ldif_wrap=no -b "$2" -s base '(objectClass=*)' "$3"
  sed -n "s/^$3:: *//p; s/^$3: //p" "$SB/out"
}
out_lacks_valix() { ! grep -qi valix "$SB/out"; }
not() { ! "$@"; }
# gone PID: the process has exited (a zombie counts: it waits only for its parent to reap it).
gone() { [ ! -d "/proc/$1" ] || [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ]; }
# A random generation as the C++ store makes them: an unsigned 64-bit number in decimal.
generation() { od -An -N8 -tu8 /dev/urandom | tr -d ' '; }

ALICE_STATE="uid=alice,$B"
BOB_STATE="uid=bob,$B"
DAVE_STATE="uid=dave,$B"
SECRET=$(openssl rand -base64 20)
SECRET2=$(openssl rand -base64 20)
SETTING='$y$j9T$Zm9vYmFyYmF6cXV4'
H1="$SETTING\$hash-one-000000000000000000000000000000"
H2="$SETTING\$hash-two-000000000000000000000000000000"
H3="$SETTING\$hash-three-0000000000000000000000000000"
G1=$(generation)

echo "# --- hosts create and enroll"
add 0 "host-a creates a minimal state entry" host-a <<EOF
dn: $ALICE_STATE
objectClass: valixState
uid: alice
valixGeneration: $G1
valixUidNumber: 1001
EOF
add 68 "host-b creating the same entry again: alreadyExists" host-b <<EOF
dn: $ALICE_STATE
objectClass: valixState
uid: alice
valixGeneration: 1
valixUidNumber: 1001
EOF
add 50 "host-a creating an entry that already holds a secret" host-a <<EOF
dn: $BOB_STATE
objectClass: valixState
uid: bob
valixGeneration: 1
valixSecret:: $SECRET
EOF
add 50 "host-a creating an entry with valixRequired" host-a <<EOF
dn: $BOB_STATE
objectClass: valixState
uid: bob
valixGeneration: 1
valixRequired: TRUE
EOF
add 50 "host-a creating an entry with another objectClass (extensibleObject)" host-a <<EOF
dn: $BOB_STATE
objectClass: valixState
objectClass: extensibleObject
uid: bob
valixGeneration: 1
EOF
add 50 "host-a creating an entry outside ldap_base (under ou=hosts)" host-a <<EOF
dn: uid=bob,ou=hosts,$V
objectClass: valixState
uid: bob
valixGeneration: 1
EOF
add 50 "host-a creating an entry below a state entry" host-a <<EOF
dn: uid=bob,$ALICE_STATE
objectClass: valixState
uid: bob
valixGeneration: 1
EOF
G2=$(generation)
modify 0 "host-a enrolls alice (no secret yet): secret, parameters, backup codes" host-a "$ALICE_STATE" <<EOF
delete: valixGeneration
valixGeneration: $G1
-
add: valixGeneration
valixGeneration: $G2
-
add: valixSecret
valixSecret:: $SECRET
-
add: valixAlgorithm
valixAlgorithm: sha1
-
add: valixDigits
valixDigits: 6
-
add: valixPeriod
valixPeriod: 30
-
add: valixEnrolledAt
valixEnrolledAt: $(date +%s)
-
add: valixBackupSetting
valixBackupSetting: $SETTING
-
add: valixBackupHash
valixBackupHash: $H1
valixBackupHash: $H2
valixBackupHash: $H3
-
EOF
check "host-b reads alice's secret" test "$(read_attr host-b "$ALICE_STATE" valixSecret)" = "$SECRET"
check "host-b reads all three backup hashes" test "$(read_attr host-b "$ALICE_STATE" valixBackupHash | wc -l)" = 3
as host-b ldapsearch -LLL -b "$B" -s one '(valixEnrolledAt>=1)' uid
check "host-b searches ldap_base (one level, filter on valixEnrolledAt)" grep -qx "uid: alice" "$SB/out"
expect_rc 6 "host-b compares valixDigits: compareTrue" host-b ldapcompare "$ALICE_STATE" valixDigits:6

echo "# --- what an enrolled entry refuses to hosts"
modify 50 "host-b replacing an existing secret" host-b "$ALICE_STATE" <<EOF
replace: valixSecret
valixSecret:: $SECRET2
-
EOF
modify 50 "host-b deleting the secret (which would reopen enrollment)" host-b "$ALICE_STATE" <<EOF
delete: valixSecret
-
EOF
modify 50 "host-a changing valixAlgorithm of an enrolled user" host-a "$ALICE_STATE" <<EOF
replace: valixAlgorithm
valixAlgorithm: sha256
-
EOF
modify 50 "host-a replacing valixBackupSetting of an enrolled user" host-a "$ALICE_STATE" <<EOF
replace: valixBackupSetting
valixBackupSetting: \$y\$j9T\$other
-
EOF
modify 50 "host-a adding a backup hash where a secret exists" host-a "$ALICE_STATE" <<EOF
add: valixBackupHash
valixBackupHash: $SETTING\$hash-four-00000000000000000000000000000
-
EOF
modify 50 "host-a replacing the backup hashes" host-a "$ALICE_STATE" <<EOF
replace: valixBackupHash
valixBackupHash: $H1
-
EOF
modify 0 "host-a deleting one backup hash by its exact value (a used code)" host-a "$ALICE_STATE" <<EOF
delete: valixBackupHash
valixBackupHash: $H2
-
EOF
check "... the other two are left" test "$(read_attr host-a "$ALICE_STATE" valixBackupHash | tr '\n' ' ')" = "$H1 $H3 "
modify 16 "host-a deleting the same backup hash again: noSuchAttribute" host-a "$ALICE_STATE" <<EOF
delete: valixBackupHash
valixBackupHash: $H2
-
EOF
modify 50 "host-a setting a clock offset (valix-admin resync's, not a host's)" host-a "$ALICE_STATE" <<EOF
add: valixClockOffset
valixClockOffset: 40
-
EOF
modify 0 "ops sets a clock offset" ops "$ALICE_STATE" <<EOF
add: valixClockOffset
valixClockOffset: 40
-
EOF
modify 50 "host-a changing the clock offset" host-a "$ALICE_STATE" <<EOF
replace: valixClockOffset
valixClockOffset: -40
-
EOF
modify 50 "host-a deleting the clock offset" host-a "$ALICE_STATE" <<EOF
delete: valixClockOffset
-
EOF
modify 0 "ops deletes it again" ops "$ALICE_STATE" <<EOF
delete: valixClockOffset
-
EOF
modify 50 "host-a making an enrolled user's authenticator an HOTP token (add-token's, not a host's)" host-a "$ALICE_STATE" <<EOF
add: valixTokenType
valixTokenType: hotp
-
EOF
modify 50 "host-a naming an enrolled user's first authenticator (enrollment's, not a login's)" host-a "$ALICE_STATE" <<EOF
add: valixAuthenticatorName
valixAuthenticatorName: phone
-
EOF
modify 0 "host-a adds a further authenticator, its use and the first's last use (valix-enroll --add)" host-a "$ALICE_STATE" <<EOF
add: valixAuthenticator
valixAuthenticator: tablet totp SHA1 6 30 $(date +%s) 0 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
-
add: valixAuthenticatorUse
valixAuthenticatorUse: tablet 0 0
-
add: valixLastUsed
valixLastUsed: $(date +%s)
-
EOF
modify 0 "host-b advances that authenticator's watermark (a login with it)" host-b "$ALICE_STATE" <<EOF
delete: valixAuthenticatorUse
valixAuthenticatorUse: tablet 0 0
-
add: valixAuthenticatorUse
valixAuthenticatorUse: tablet $(( $(date +%s) / 30 )) $(date +%s)
-
EOF
modify 0 "host-a removes it (valix-enroll --remove)" host-a "$ALICE_STATE" <<EOF
delete: valixAuthenticator
-
delete: valixAuthenticatorUse
-
delete: valixLastUsed
-
EOF
modify 50 "host-a adding valixRequired" host-a "$ALICE_STATE" <<EOF
add: valixRequired
valixRequired: TRUE
-
EOF
modify 0 "ops adds valixRequired" ops "$ALICE_STATE" <<EOF
add: valixRequired
valixRequired: TRUE
-
EOF
modify 0 "host-a deletes valixRequired" host-a "$ALICE_STATE" <<EOF
delete: valixRequired
-
EOF
modify 0 "host-a writes the watermark, failure counts, lockouts, last login, last failure, grace, pending, login enrollment" host-a "$ALICE_STATE" <<EOF
replace: valixLastStep
valixLastStep: $(( $(date +%s) / 30 ))
-
replace: valixFailures
valixFailures: 3
-
replace: valixLockedUntil
valixLockedUntil: $(( $(date +%s) + 60 ))
-
replace: valixBackupFailures
valixBackupFailures: 1
-
replace: valixBackupLockedUntil
valixBackupLockedUntil: 0
-
replace: valixLastLogin
valixLastLogin: $(date +%s)
-
replace: valixLastFailure
valixLastFailure: $(date +%s)
-
replace: valixLastFailureHost
valixLastFailureHost: 192.0.2.7
-
replace: valixGrace
valixGrace: 0123456789abcdef0123456789abcdef $(date +%s)
valixGrace: 1123456789abcdef0123456789abcdef $(date +%s)
-
replace: valixPending
valixPending:: $(printf 'valix-state 1\nend\n' | base64 -w0)
-
replace: valixLoginEnrollment
valixLoginEnrollment:: $(printf 'valix-state 1\nend\n' | base64 -w0)
-
replace: valixUidNumber
valixUidNumber: 1002
-
EOF
modify 0 "host-b clears them again" host-b "$ALICE_STATE" <<EOF
delete: valixFailures
-
delete: valixLockedUntil
-
delete: valixLastFailure
-
delete: valixLastFailureHost
-
delete: valixGrace
-
delete: valixPending
-
delete: valixLoginEnrollment
-
EOF
expect_rc 50 "host-a deleting a state entry" host-a ldapdelete "$ALICE_STATE"
expect_rc 50 "host-a renaming a state entry" host-a ldapmodrdn -r "$ALICE_STATE" uid=mallory
modify 0 "host-a adds a value to uid (uid is multi-valued; Valix reads entries by DN)" host-a "$ALICE_STATE" <<EOF
add: uid
uid: alice2
-
EOF
modify 50 "host-a adding an objectClass to a state entry" host-a "$ALICE_STATE" <<EOF
add: objectClass
objectClass: extensibleObject
-
EOF

echo "# --- enrollment of a user the admin flagged (valixRequired cleared by the host)"
add 0 "ops creates dave's entry with valixRequired" ops <<EOF
dn: $DAVE_STATE
objectClass: valixState
uid: dave
valixGeneration: 1
valixRequired: TRUE
EOF
add 0 "host-a creates carol's minimal entry" host-a <<EOF
dn: uid=carol,$B
objectClass: valixState
uid: carol
valixGeneration: 1
EOF
modify 50 "host-a adding valixRequired where there is no secret either" host-a "uid=carol,$B" <<EOF
add: valixRequired
valixRequired: TRUE
-
EOF
modify 0 "host-a enrolls dave and deletes his valixRequired in the same modify" host-a "$DAVE_STATE" <<EOF
delete: valixGeneration
valixGeneration: 1
-
add: valixGeneration
valixGeneration: 2
-
add: valixSecret
valixSecret:: $SECRET2
-
delete: valixRequired
-
EOF
check "... dave has his secret and no valixRequired" test "$(read_attr ops "$DAVE_STATE" valixSecret)" = "$SECRET2" -a \
  -z "$(read_attr ops "$DAVE_STATE" valixRequired)"

echo "# --- hosts cannot reach beyond the state entries"
modify fail "host-a adding itself to valix-admins" host-a "cn=valix-admins,$V" <<EOF
add: member
member: $VALIX_LDAP_HOST_A_DN
-
EOF
modify fail "host-a changing host-b's password" host-a "$VALIX_LDAP_HOST_B_DN" <<EOF
replace: userPassword
userPassword: stolen
-
EOF
as host-a ldapsearch -LLL -b "$V" '(objectClass=*)' userPassword member
check "host-a sees no password, group member or host entry under ou=valix" \
  bash -c "! grep -qiE '^(userPassword|member|dn: cn=(host|ops|valix-))' '$SB/out'"

echo "# --- a user's own bind and anonymous clients see nothing under ou=valix"
for who in alice anon; do
  expect_rc 32 "$who: search of ou=valix (subtree): noSuchObject" "$who" ldapsearch -LLL -b "$V" '(objectClass=*)' '*' '+'
  check "$who: ... no entry, no attribute" out_lacks_valix
  expect_rc 32 "$who: read of alice's state entry: noSuchObject" "$who" ldapsearch -LLL -b "$ALICE_STATE" -s base '(objectClass=*)' '*' '+'
  check "$who: ... no entry, no attribute" out_lacks_valix
  as "$who" ldapsearch -LLL -b "$VALIX_LDAP_SUFFIX" '(|(objectClass=valixState)(valixSecret=*)(uid=alice)(ou=*)(cn=*))' '*' '+'
  check "$who: subtree search of the whole suffix (result $RC) shows nothing of ou=valix" out_lacks_valix
  expect_rc fail "$who: compare of alice's secret (the right value) is not answered" "$who" ldapcompare "$ALICE_STATE" "valixSecret::$SECRET"
  expect_rc fail "$who: compare of valixDigits is not answered" "$who" ldapcompare "$ALICE_STATE" valixDigits:6
  modify fail "$who: modify of a state entry" "$who" "$ALICE_STATE" <<EOF
replace: valixLastStep
valixLastStep: 1
-
EOF
  add fail "$who: creating a state entry" "$who" <<EOF
dn: uid=eve,$B
objectClass: valixState
uid: eve
valixGeneration: 1
EOF
done
# Known limit of back-mdb, not of these rules: write operations do not check "disclose", so
# any bound user can tell whether uid=NAME,ldap_base exists (50 or 68 for an entry that
# does, 32 for one that does not). Shown, not asserted.
as alice ldapdelete "$ALICE_STATE"; rc_existing=$RC
as alice ldapdelete "uid=nobody-has-this,$B"; rc_missing=$RC
echo "# note: alice deleting an existing state entry gets $rc_existing, a missing one $rc_missing"
as alice ldapsearch -LLL -b "$VALIX_LDAP_USER_DN" -s base '(objectClass=*)' uid
check "alice's bind works (she reads her own entry)" grep -qx "uid: alice" "$SB/out"

echo "# --- compare-and-swap on valixGeneration"
G3=$(generation)
G4=$(generation)
check "the generation host-a wrote is the one read" test "$(read_attr host-b "$ALICE_STATE" valixGeneration)" = "$G2"
modify 0 "first writer (delete the generation read, add a new one, raise the watermark)" host-a "$ALICE_STATE" <<EOF
delete: valixGeneration
valixGeneration: $G2
-
add: valixGeneration
valixGeneration: $G3
-
replace: valixLastStep
valixLastStep: 100
-
EOF
modify 16 "second writer with the same old generation: noSuchAttribute" host-b "$ALICE_STATE" <<EOF
delete: valixGeneration
valixGeneration: $G2
-
add: valixGeneration
valixGeneration: $G4
-
replace: valixLastStep
valixLastStep: 99
-
EOF
check "... its watermark was not written" test "$(read_attr host-a "$ALICE_STATE" valixLastStep)" = 100
printf 'dn: %s\nchangetype: modify\nreplace: valixLastStep\nvalixLastStep: 98\n-\n' "$ALICE_STATE" > "$SB/assert.ldif"
expect_rc 122 "the same with an assertion control on the old generation: assertionFailed" \
  host-b ldapmodify -e "!assert=(valixGeneration=$G2)" -f "$SB/assert.ldif"

echo "# --- ops (valix-admins) manages everything"
modify 0 "ops replaces a secret" ops "$ALICE_STATE" <<EOF
replace: valixSecret
valixSecret:: $SECRET2
-
EOF
modify 0 "ops adds a backup hash" ops "$ALICE_STATE" <<EOF
add: valixBackupHash
valixBackupHash: $SETTING\$hash-four-00000000000000000000000000000
-
EOF
add 0 "ops creates a host identity" ops <<EOF
dn: cn=host-c,ou=hosts,$V
objectClass: applicationProcess
objectClass: simpleSecurityObject
cn: host-c
userPassword: $(openssl rand -hex 16)
EOF
as ops ldapsearch -LLL -b "$V" '(objectClass=*)' member
check "ops reads the groups" grep -q "^member: $VALIX_LDAP_HOST_A_DN" "$SB/out"

echo "# --- TLS"
tls() {  # tls CA URI [-ZZ]: whoami as host-a over TLS, checking the server against CA
  local ca=$1 uri=$2
  shift 2
  set +e
  ldapwhoami -x -H "$uri" "$@" -o "TLS_CACERT=$ca" -o TLS_REQCERT=demand \
    -D "$VALIX_LDAP_HOST_A_DN" -y "$VALIX_LDAP_HOST_A_PASSWORD_FILE" >"$SB/out" 2>&1
  RC=$?
  set -e
  return $RC
}
check "StartTLS on $VALIX_LDAP_URI with ca.pem" tls "$VALIX_LDAP_CA" "$VALIX_LDAP_URI" -ZZ
check "StartTLS with wrong-ca.pem fails verification" not tls "$VALIX_LDAP_WRONG_CA" "$VALIX_LDAP_URI" -ZZ
check "$VALIX_LDAPS_URI with ca.pem" tls "$VALIX_LDAP_CA" "$VALIX_LDAPS_URI"
check "ldaps with wrong-ca.pem fails verification" not tls "$VALIX_LDAP_WRONG_CA" "$VALIX_LDAPS_URI"

echo "# --- cn=config over ldapi, restart"
set +e
ldapsearch -Q -LLL -o ldif_wrap=no -Y EXTERNAL -H "$VALIX_LDAPI_URI" -b 'olcDatabase={1}mdb,cn=config' \
  -s base '(objectClass=*)' olcAccess olcAddContentAcl olcRootPW olcRootDN >"$SB/out" 2>&1
RC=$?
set -e
check "cn=config readable as the peercred rootDN over ldapi (result $RC)" test "$RC" = 0
check "... the database has the shipped ACL (12 rules) and olcAddContentAcl: TRUE" \
  bash -c "test \"\$(grep -c '^olcAccess:' '$SB/out')\" = 12 && grep -qx 'olcAddContentAcl: TRUE' '$SB/out'"
check "... and no rootDN, no rootpw" bash -c "! grep -qiE '^olcRoot(DN|PW)' '$SB/out'"
# A restart ignores a hostile environment and ldaprc as well.
mkdir -p "$SB/hostile-home"
printf 'URI ldap://192.0.2.1/\nBINDDN cn=nobody\nSASL_MECH GSSAPI\nTLS_REQCERT never\n' > "$SB/hostile-home/.ldaprc"
old_uri=$VALIX_LDAP_URI old_ldaps=$VALIX_LDAPS_URI old_pid=$VALIX_SLAPD_PID
t0=$(date +%s%N)
check "slapd-sandbox restart (with LDAP* variables and an ~/.ldaprc that point elsewhere)" \
  env -u LDAPNOINIT HOME="$SB/hostile-home" LDAPURI=ldap://192.0.2.1/ LDAPBINDDN=cn=nobody LDAPSASL_MECH=GSSAPI \
  "$SANDBOX" restart "$DIR"
echo "# slapd-sandbox restart: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "... the old slapd has exited" gone "$old_pid"
source "$DIR/env"
check "... same ports" test "$VALIX_LDAP_URI $VALIX_LDAPS_URI" = "$old_uri $old_ldaps"
check "... same data (the watermark the CAS wrote)" test "$(read_attr host-a "$ALICE_STATE" valixLastStep)" = 100
expect_rc 0 "ops deletes a state entry" ops ldapdelete "$ALICE_STATE"
check "slapd-sandbox stop" "$SANDBOX" stop "$DIR"
check "... slapd has exited" gone "$VALIX_SLAPD_PID"
finish
