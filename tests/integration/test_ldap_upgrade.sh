#!/usr/bin/env bash
# The upgrade LDIFs of conf/ldap, as README tells an administrator to use them: a directory set
# up for an earlier version (valix.ldif and acl.ldif without the attributes added since 0.2)
# denies every login of this version (it fails closed: the login cannot record what it must);
# once valix-upgrade-grace.ldif, valix-upgrade-tokens.ldif and
# valix-upgrade-authenticators.ldif are loaded into the running slapd (ldapmodify -Y EXTERNAL)
# and the ACL is replaced by acl.ldif, the same hosts log in, record failures, take tokens and
# a second authenticator, and state written before the upgrade is kept.
source "$(dirname "$0")/lib.sh"
sandbox_init ldap_upgrade
source "$(dirname "$0")/fleet_lib.sh"

# --- the directory an earlier version set up -----------------------------------------------
# The attributes each upgrade LDIF adds: valix.ldif without them is 0.2's schema.
ADDED=$(cat "$VALIX_SOURCE_DIR"/conf/ldap/valix-upgrade-{grace,tokens,authenticators}.ldif |
  sed -n "s/^olcAttributeTypes: ( ValixAT:[0-9]* NAME '\([a-zA-Z]*\)'.*/\1/p")
check "the upgrade LDIFs add nine attributes" [ "$(printf '%s\n' "$ADDED" | wc -l)" -eq 9 ]
cp "$VALIX_SOURCE_DIR/conf/ldap/valix.ldif" "$SB/old-valix.ldif"
cp "$VALIX_SOURCE_DIR/conf/ldap/acl.ldif" "$SB/old-acl.ldif"
for attribute in $ADDED; do
  sed -i "/^olcAttributeTypes: .* NAME '$attribute' /d; s/ \\\$ $attribute / /; s/ \\\$ $attribute ) / ) /" "$SB/old-valix.ldif"
  sed -i "s/,$attribute\\b//g" "$SB/old-acl.ldif"
done
check "the old schema lacks them all" bash -c "! grep -qE '$(printf '%s\n' "$ADDED" | paste -sd'|')' '$SB/old-valix.ldif'"
check "the old ACL too" bash -c "! grep -qE '$(printf '%s\n' "$ADDED" | paste -sd'|')' '$SB/old-acl.ldif'"
VALIX_SLAPD_SCHEMA=$SB/old-valix.ldif VALIX_SLAPD_ACL=$SB/old-acl.ldif fleet_start
write_host_config host-a "max_failures = 3"
write_host_config host-b "max_failures = 3"

# --- this version against it ------------------------------------------------------------------
# An enrollment writes only attributes the old schema has.
wait_fresh_step
fleet_enroll host-a alice
check "alice enrolls through host A on the old directory" [ -n "$(directory_value alice valixSecret)" ]
expect_login fail "... but a login is denied: it cannot record the authenticator's last use" host-b alice "$(code_ahead "$SECRET" 1)"
check "... logged as an internal error: an attribute the directory lacks" log_has "attribute type undefined"
expect_login fail "... and a wrong code too (it cannot record the failure)" host-b alice 000000
check "... which is not counted where the old schema would lose it" [ -z "$(directory_value alice valixFailures)" ]

# --- the upgrade, on the running slapd -----------------------------------------------------
SCHEMA_DN=$(LDAPNOINIT=1 ldapsearch -Q -LLL -o ldif_wrap=no -Y EXTERNAL -H "$VALIX_LDAPI_URI" \
  -b cn=schema,cn=config -s one dn 2>/dev/null | sed -n 's/^dn: \(cn={[0-9]*}valix\),.*/\1/p')
check "the schema's number is found as the LDIFs' headers say" [ -n "$SCHEMA_DN" ]
upgrade() {  # upgrade NAME: loads valix-upgrade-NAME.ldif
  sed "s/^dn: cn={N}valix,/dn: $SCHEMA_DN,/" "$VALIX_SOURCE_DIR/conf/ldap/valix-upgrade-$1.ldif" > "$SB/upgrade.ldif"
  check "valix-upgrade-$1.ldif loads" bash -c "LDAPNOINIT=1 ldapmodify -Q -Y EXTERNAL -H '$VALIX_LDAPI_URI' -f '$SB/upgrade.ldif' >'$SB/upgrade.out' 2>&1"
}
acl() {  # acl ATTRIBUTE...: acl.ldif without the attributes named replaces the ACL
  local attribute
  sed "s/dc=example,dc=com/$VALIX_LDAP_SUFFIX/g" "$VALIX_SOURCE_DIR/conf/ldap/acl.ldif" > "$SB/acl.ldif"
  for attribute in "$@"; do sed -i "s/,$attribute\b//g" "$SB/acl.ldif"; done
  check "acl.ldif${1:+ without $*} replaces the ACL" bash -c "LDAPNOINIT=1 ldapmodify -Q -Y EXTERNAL -H '$VALIX_LDAPI_URI' -f '$SB/acl.ldif' >'$SB/acl.out' 2>&1"
}
# Up to 0.3's directory: the grace and token attributes, and 0.3's ACL.
upgrade grace
upgrade tokens
acl valixAuthenticatorName valixLastUsed valixAuthenticator valixAuthenticatorUse
expect_login fail "a wrong code is counted now" host-a alice 000000
check "... in the directory" [ "$(directory_value alice valixFailures)" = 1 ]
expect_login fail "but the right code is denied: it cannot record the authenticator's last use" host-b alice "$(code_ahead "$SECRET" 1)"
check "... logged naming valixLastUsed" log_has "valixLastUsed: attribute type undefined"
# Then this version's.
upgrade authenticators
acl

# --- after it ------------------------------------------------------------------------------------
check "alice's enrollment is kept" [ -n "$(directory_value alice valixSecret)" ]
expect_login ok "alice logs in on host B" host-b alice "$(code_ahead "$SECRET" 2)"
check "... her last use is recorded" [ -n "$(directory_value alice valixLastUsed)" ]
check "... the failure before it cleared" [ -z "$(directory_value alice valixFailures)" ]
expect_login fail "a wrong code on host A" host-a alice 000000
check "... is counted, and when" [ "$(directory_value alice valixFailures)" = 1 -a -n "$(directory_value alice valixLastFailure)" ]
PHONE=$SECRET
begin=$(code_ahead "$PHONE" 3 | pam_env "$VALIX_ENROLL" --config "$SB/etc/host-b.conf" --user alice --add tablet --begin --code - --json)
TABLET=$(printf '%s' "$begin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
totp_now "$TABLET" | pam_env "$VALIX_ENROLL" --config "$SB/etc/host-b.conf" --user alice --confirm - >"$SB/add.out" 2>&1 || true
check "a second authenticator can be added through a host" grep -q "Authenticator tablet added" "$SB/add.out"
expect_login ok "... and logs in on the other" host-a alice "$(code_ahead "$TABLET" 1)"
HOTP_HEX=6162636465666768696a6162636465666768696a
hotp_value() { oathtool --hotp "$HOTP_HEX" -c "$1"; }
host_admin host-a add-token bob --hotp < <(printf '%s\n%s\n%s\n' "$HOTP_HEX" "$(hotp_value 0)" "$(hotp_value 1)") >"$SB/token.out" 2>&1 || true
check "an administrator adds an HOTP token (valixTokenType)" [ "$(directory_value bob valixTokenType)" = hotp ]
expect_login ok "... which logs in on host B" host-b bob "$(hotp_value 2)"

finish
