# Shared by the fleet tests: a slapd started under the sandbox (scripts/slapd-sandbox) and two
# hosts, host-a and host-b, each a PAM service with its own valix.conf, sharing the directory.
# Source after lib.sh and sandbox_init.

command -v slapd >/dev/null || command -v /usr/sbin/slapd >/dev/null ||
  { echo "slapd is required (Debian packages slapd ldap-utils)"; exit 1; }
SLAPD_DIR="$SB/slapd"

fleet_start() {
  # In the sanitizer build, LeakSanitizer's exit-time tracer crashes now and then in processes
  # that talk to the directory ("Tracer caught signal 11", a fault of the tracer, not of the
  # process it checks: seen in valix-enroll and in parallel logins), which reports a failure
  # and can fail a login or a tool run that had passed. The fleet tests run with leak checking
  # off there; ASan's other checks stay on.
  if [ -n "${VALIX_SANITIZER_PRELOAD:-}" ]; then
    export ASAN_OPTIONS="log_path=$SB/sanitizer:detect_leaks=0"
  fi
  "$VALIX_SOURCE_DIR/scripts/slapd-sandbox" start "$SLAPD_DIR"
  # shellcheck disable=SC1091
  source "$SLAPD_DIR/env"
  trap fleet_stop EXIT
}
fleet_stop() { "$VALIX_SOURCE_DIR/scripts/slapd-sandbox" stop "$SLAPD_DIR" >/dev/null 2>&1 || true; }

# write_host_config HOST [EXTRA_LINES]: $SB/etc/HOST.conf, bound as that host over StartTLS.
write_host_config() {
  local host=$1 extra=${2:-}
  local upper
  upper=$(printf '%s' "$host" | tr 'a-z-' 'A-Z_')
  local dn_var="VALIX_LDAP_${upper}_DN"
  {
    echo "# $host of the test fleet"
    echo "store = ldap"
    case "$extra" in *ldap_uri*) ;; *) echo "ldap_uri = $VALIX_LDAP_URI" ;; esac
    echo "ldap_base = $VALIX_LDAP_BASE"
    case "$extra" in *ldap_bind_dn*) ;; *)
      echo "ldap_bind_dn = ${!dn_var}"
      echo "ldap_bind_password_file = $SLAPD_DIR/$host.password" ;;
    esac
    case "$extra" in *ldap_ca_file*) ;; *) echo "ldap_ca_file = $VALIX_LDAP_CA" ;; esac
    echo "ldap_admin_bind_dn = $VALIX_LDAP_ADMIN_DN"
    echo "ldap_admin_password_file = $SLAPD_DIR/ops.password"
    case "$extra" in *ldap_timeout_ms*) ;; *) echo "ldap_timeout_ms = 2000" ;; esac
    echo "exempt_groups = exempt"
    echo "fail_delay_ms = 0"
    # Codes up to 4 steps ahead are accepted, so a test uses the next step's code instead of
    # waiting 30 s for it (code_ahead).
    echo "window = 4"
    [ -n "$extra" ] && printf '%s\n' "$extra"
  } > "$SB/etc/$host.conf"
  chmod 644 "$SB/etc/$host.conf"
  {
    echo "auth required $VALIX_MODULE config=$SB/etc/$host.conf"
    # After the module: a not-required user (PAM_IGNORE) gets in, which makes "a directory
    # that is down must not make users look unenrolled" testable.
    echo "auth required pam_permit.so"
    echo "account required pam_permit.so"
    echo "session required pam_permit.so"
  } > "$SB/pam.d/$host"
}

host_admin() {  # host_admin HOST ARGS...: valix-admin with HOST's valix.conf
  local host=$1
  shift
  pam_env "$VALIX_ADMIN" --config "$SB/etc/$host.conf" "$@"
}

# fleet_enroll HOST USER: enrolls USER through HOST's valix-enroll; sets SECRET and CODES.
fleet_enroll() {
  local host=$1 user=$2 begin
  begin=$(pam_env "$VALIX_ENROLL" --config "$SB/etc/$host.conf" --user "$user" --begin --json)
  SECRET=$(printf '%s' "$begin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
  URI=$(printf '%s' "$begin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["uri"])')
  local confirm
  confirm=$(totp_now "$SECRET" | pam_env "$VALIX_ENROLL" --config "$SB/etc/$host.conf" --user "$user" --confirm - --json)
  mapfile -t CODES < <(printf '%s' "$confirm" | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["backup_codes"]))')
}

# code_ahead SECRET K: the code K steps after the current one (K <= 4, the tests' window).
code_ahead() { totp_at "$1" $(( $(date +%s) + 30 * $2 )); }

# ldap_as_ops ARGS...: ldapsearch bound as the administrator, over ldapi, nothing from ~/.ldaprc.
ldap_search_as() {  # ldap_search_as DN PASSWORD_FILE FILTER ATTRS...
  local dn=$1 pw=$2 filter=$3
  shift 3
  LDAPNOINIT=1 ldapsearch -LLL -o ldif-wrap=no -x -H "$VALIX_LDAPI_URI" ${dn:+-D "$dn" -y "$pw"} \
    -b "$VALIX_LDAP_BASE" "$filter" "$@"
}
directory_value() {  # directory_value USER ATTRIBUTE: the value the administrator reads
  ldap_search_as "$VALIX_LDAP_ADMIN_DN" "$SLAPD_DIR/ops.password" "(uid=$1)" "$2" |
    sed -n "s/^$2:: *//p; s/^$2: //p"
}
