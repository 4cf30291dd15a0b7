#!/usr/bin/env bash
# valix-admin check: a clean Debian-style stack (common-auth with the pam-auth-update line,
# login and sshd including it, sshd settings of conf/sshd) has no finding; each finding is
# then triggered by one change to it, with its severity and the exit code (1 on an error).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/admin_lib.sh"
require_root "valix-admin"
sandbox_init admin_check
D="$SB/check.d"
mkdir -p "$D"
VALIX_LINE="auth required pam_valix.so config=$SB/etc/valix.conf"

# Debian 12's common-auth, with the profile's line in the Additional block.
common_auth() {
  cat > "$D/common-auth" <<EOF
auth	[success=1 default=ignore]	pam_unix.so nullok
auth	requisite			pam_deny.so
auth	required			pam_permit.so
${1:-$VALIX_LINE}
EOF
}
clean() {
  rm -f "$D"/*
  common_auth
  printf 'account required pam_unix.so\n' > "$D/common-account"
  printf 'auth optional pam_faildelay.so delay=3000000\nauth requisite pam_nologin.so\n@include common-auth\n@include common-account\n' > "$D/login"
  printf '@include common-auth\naccount required pam_nologin.so\n@include common-account\n' > "$D/sshd"
  printf 'auth required pam_deny.so\n' > "$D/other"
  : > "$D/common-session"
  : > "$D/common-password"
  # What "sshd -T" prints for conf/sshd/valix-password-and-code.conf (the keys that matter).
  printf 'usepam yes\npubkeyauthentication yes\nkbdinteractiveauthentication yes\npasswordauthentication no\nauthenticationmethods keyboard-interactive:pam\n' > "$SB/sshd-T"
  write_config "exempt_groups = exempt"
}
run_check() { admin check --pam-dir "$D" --sshd-config "$SB/sshd-T" "$@"; }
# finding RC SEVERITY TEXT DESCRIPTION: the last check exited RC with a SEVERITY line holding TEXT.
finding() {
  local rc=$1 severity=$2 text=$3 description=$4
  if [ "$ADMIN_RC" -eq "$rc" ] && grep -q "^$severity: .*$(printf '%s' "$text" | sed 's/[][\.*^$/]/\\&/g')" "$SB/out"; then
    pass "$description"
  else
    failure "$description (exit $ADMIN_RC, wanted $rc and a '$severity:' line with '$text')"
    sed 's/^/#   stdout: /' "$SB/out" | head -n 20
    sed 's/^/#   stderr: /' "$SB/err" | head -n 5
  fi
}

# --- command line ---------------------------------------------------------------------------
expect_admin 2 "check takes no arguments" check alice
expect_admin 2 "--pam-dir only goes with check" status --pam-dir "$D"
expect_admin 2 "--sshd-config and --no-sshd exclude each other" check --sshd-config x --no-sshd
check "--help documents check" bash -c "'$VALIX_ADMIN' --help | grep -q 'check \[--pam-dir DIR\]'"

# --- a clean stack ----------------------------------------------------------------------------
clean
run_check
check "a clean stack exits 0" [ "$ADMIN_RC" -eq 0 ]
check "a clean stack has no finding" stdout_has "valix-admin check: no problems found"
check "...and nothing else on stdout" [ "$(wc -l < "$SB/out")" -eq 1 ]
# The shipped public-key example (no password module) is clean too.
sed "s|pam_valix.so|pam_valix.so config=$SB/etc/valix.conf|" \
  "$VALIX_SOURCE_DIR/conf/pam.d/sshd-publickey-and-code.example" | grep -v '^@include common-password' > "$D/sshd"
sed -n '/^UsePAM/,$p' "$VALIX_SOURCE_DIR/conf/sshd/valix-publickey-and-code.conf" > "$SB/sshd-T"
run_check
check "the shipped public-key pam.d and sshd examples: no finding" stdout_has "no problems found"

# --- valix.conf, module options, store --------------------------------------------------------
clean
write_config "exempt_groups = exempt
windw = 0"
run_check
finding 1 error "valix.conf:6: unknown setting 'windw': every login through pam_valix is denied" \
  "a valix.conf that does not parse is an error, with file and line"
check "...said once (not again for each pam_valix line)" [ "$(grep -c windw "$SB/out")" -eq 1 ]

clean
common_auth "$VALIX_LINE windw=0"
run_check
finding 1 error "common-auth:4: module option windw=: unknown setting 'windw'" "an unknown module option KEY=VALUE is an error"
check "...naming the services" stdout_has "(services login, sshd)"
common_auth "$VALIX_LINE frobnicate"
run_check
finding 1 error "common-auth:4: unknown module option 'frobnicate'" "an unknown module flag is an error"
common_auth "$VALIX_LINE forward_pass"
run_check
finding 1 error "common-auth:4: module option forward_pass was removed" "forward_pass is an error (removed in 0.2)"
common_auth "$VALIX_LINE lockout_seconds=7200"
run_check
finding 1 error "common-auth:4: $SB/etc/valix.conf with the module options: lockout_max_seconds is smaller" \
  "module options that break valix.conf's rules are an error"
common_auth "$VALIX_LINE require=all"
run_check
check "module options that parse and keep the rules: exit 0" [ "$ADMIN_RC" -eq 0 ]

clean
write_config "exempt_groups = exempt
state_dir = $SB/no-such-dir"
run_check
finding 1 error "the state directory $SB/no-such-dir cannot be opened" "a state directory that cannot be opened is an error"
check "...saying that logins are denied" stdout_has "every login through pam_valix is denied"
chmod 777 "$SB/state"
write_config "exempt_groups = exempt"
run_check
finding 1 error "the state directory $SB/state cannot be opened" "an unsafe state directory is an error"
chmod 700 "$SB/state"
write_config "exempt_groups = exempt
state_dir = /unused
store = ldap
ldap_uri = ldapi://%2Fnonexistent%2Fldapi
ldap_base = dc=fleet,dc=example
ldap_timeout_ms = 500"
run_check
finding 1 error "the directory (ldap_uri ldapi://%2Fnonexistent%2Fldapi, ldap_base dc=fleet,dc=example) cannot be opened" \
  "a directory that cannot be reached is an error"

# --- policy -----------------------------------------------------------------------------------
clean
write_config "require = all"
run_check
finding 0 warning "require = all with exempt_groups empty" "require = all without exempt_groups is a warning (exit 0)"
write_config "require = all
exempt_groups = exempt"
run_check
check "require = all with an exempt group: no finding" stdout_has "no problems found"

# --- the order of the auth stack --------------------------------------------------------------
clean
printf '%s\n@include common-auth\n' "$VALIX_LINE" > "$D/sudo"
run_check
finding 1 error "pam_valix (sudo:1) comes before the password module" "pam_valix before the password module is an error"
check "...naming the service" stdout_has "(service sudo)"

clean
printf 'auth required pam_unix.so\n%s\n' "$VALIX_LINE" > "$D/sudo"
run_check
finding 1 error "pam_valix (sudo:2) is reached after pam_unix.so (sudo:1, 'required') failed" \
  "pam_valix after 'auth required pam_unix.so' is an error"
printf 'auth requisite pam_unix.so\n%s\n' "$VALIX_LINE" > "$D/sudo"
run_check
check "pam_valix after 'auth requisite pam_unix.so': no finding" stdout_has "no problems found"
printf 'auth [success=ok default=die] pam_unix.so\n%s\n' "$VALIX_LINE" > "$D/sudo"
run_check
check "pam_valix after '[success=ok default=die] pam_unix.so': no finding" stdout_has "no problems found"
printf 'auth [success=ok default=bad] pam_unix.so\n%s\n' "$VALIX_LINE" > "$D/sudo"
run_check
finding 1 error "is reached after pam_unix.so (sudo:1, '[success=ok default=bad]') failed" \
  "pam_valix after '[success=ok default=bad] pam_unix.so' is an error"
printf 'auth optional pam_unix.so\n%s\n' "$VALIX_LINE" > "$D/sudo"
run_check
finding 1 error "a right code without the password logs in" "pam_valix after 'optional pam_unix.so': the code alone logs in"
printf 'auth sufficient pam_unix.so\n%s\n' "$VALIX_LINE" > "$D/sudo"
run_check
finding 1 error "a right password alone logs in: after pam_unix.so (sudo:1, 'sufficient') succeeds" \
  "pam_valix after 'sufficient pam_unix.so': the password alone logs in"
printf 'auth requisite pam_unix.so\n%s\n' "${VALIX_LINE/required/optional}" > "$D/sudo"
run_check
finding 1 error "a wrong code does not stop the login" "'optional pam_valix.so' is an error"
printf 'auth requisite pam_unix.so\nauth [success=1 default=ignore] pam_access.so accessfile=/x\n%s\n' "$VALIX_LINE" > "$D/sudo"
run_check
check "a trusted-networks skip (pam_access jumping over pam_valix): no finding" stdout_has "no problems found"
printf 'auth [sucess=ok] pam_unix.so\n%s\n' "$VALIX_LINE" > "$D/sudo"
run_check
finding 1 error "sudo:1: 'sucess' is not a PAM return value: libpam refuses it" "a line libpam refuses is an error"

clean
rm "$D/login" "$D/sshd"
common_auth "auth required pam_permit.so"
run_check
finding 0 warning "no PAM service in $D uses pam_valix.so" "no service using pam_valix is a warning"

# --- sshd ---------------------------------------------------------------------------------------
clean
sed -i 's/^kbdinteractiveauthentication yes/kbdinteractiveauthentication no/' "$SB/sshd-T"
run_check
finding 0 warning "$SB/sshd-T: KbdInteractiveAuthentication no: public-key logins skip the code" \
  "KbdInteractiveAuthentication no is a warning"
clean
sed -i 's/^authenticationmethods .*/authenticationmethods publickey keyboard-interactive:pam/' "$SB/sshd-T"
run_check
finding 0 warning "AuthenticationMethods allows 'publickey' without keyboard-interactive: public-key logins skip the code" \
  "AuthenticationMethods with publickey alone is a warning"
sed -i 's/^authenticationmethods .*/authenticationmethods publickey,keyboard-interactive:pam password/' "$SB/sshd-T"
run_check
check "AuthenticationMethods publickey,keyboard-interactive or password: no finding" stdout_has "no problems found"
sed -i 's/^authenticationmethods .*/authenticationmethods any/' "$SB/sshd-T"
run_check
finding 0 warning "AuthenticationMethods any with pubkeyauthentication yes: public-key logins skip the code" \
  "AuthenticationMethods any with public keys on is a warning"
clean
sed -i 's/^usepam yes/usepam no/' "$SB/sshd-T"
run_check
finding 0 warning "UsePAM is not yes: SSH logins never reach pam_valix" "UsePAM no is a warning"
admin check --pam-dir "$D" --no-sshd
check "--no-sshd: sshd's settings are not read" stdout_has "no problems found"
admin check --pam-dir "$D" --sshd-config "$SB/no-such-file"
finding 1 error "$SB/no-such-file: cannot be read" "an --sshd-config that cannot be read is an error"

# --- everything at once: one line per finding ---------------------------------------------------
clean
write_config "require = all"
printf 'auth required pam_unix.so\n%s forward_pass\n' "$VALIX_LINE" > "$D/sudo"
sed -i 's/^usepam yes/usepam no/' "$SB/sshd-T"
run_check
check "several findings: exit 1" [ "$ADMIN_RC" -eq 1 ]
check "several findings: one line each, then the summary" stdout_has "valix-admin check: 2 errors, 2 warnings"

finish
