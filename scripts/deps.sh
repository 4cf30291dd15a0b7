# The Debian packages Valix needs, in one place. Sourced by scripts/demo and scripts/test.
# install_deps demo|test|bench|package (each includes the build dependencies)
VALIX_BUILD_DEPS=(g++ cmake make pkg-config libpam0g-dev libssl-dev libqrencode-dev libcrypt-dev libldap-dev)
# slapd, ldap-utils: the fleet store's directory (scripts/slapd-sandbox; the demo runs two hosts
# sharing one). Every mode includes these, so the test suite has them too.
# gettext (test mode): xgettext and msgfmt, for the .pot check and the test catalogue.
VALIX_DEMO_DEPS=(libpam-wrapper libnss-wrapper pamtester oathtool expect python3 slapd ldap-utils)
VALIX_TEST_DEPS=(libcmocka-dev gettext libpam-google-authenticator openssh-server openssh-client zbar-tools librsvg2-bin clang-format clang-tidy clang-tidy-19 valgrind clang-19 libclang-rt-19-dev)
VALIX_BENCH_DEPS=(libpam-google-authenticator libpam-oath nettle-dev)
# scripts/test-package: build the .deb, lint it, "sshd -t" the shipped drop-ins.
VALIX_PACKAGE_DEPS=(debhelper dpkg-dev build-essential lintian openssh-server)

install_deps() {
  local packages=("${VALIX_BUILD_DEPS[@]}" "${VALIX_DEMO_DEPS[@]}")
  [ "$1" = test ] && packages+=("${VALIX_TEST_DEPS[@]}")
  [ "$1" = bench ] && packages+=("${VALIX_BENCH_DEPS[@]}")
  [ "$1" = package ] && packages+=("${VALIX_PACKAGE_DEPS[@]}")
  local missing=() p new_slapd=no
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  for p in "${missing[@]}"; do
    if [ "$p" = slapd ]; then new_slapd=yes; fi
  done
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "Installing: ${missing[*]}"
  "${sudo[@]}" apt-get update
  # Through env: sudo would drop DEBIAN_FRONTEND, and slapd's debconf questions would prompt.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  if [ "$new_slapd" = yes ]; then stop_system_slapd "${sudo[@]}"; fi
}

# Debian's slapd postinst configures a directory (dc=nodomain) and starts it unless a
# policy-rc.d forbids it. The tests and the demo run their own slapd (scripts/slapd-sandbox),
# so the one just installed is stopped; nothing happens when none runs.
# stop_system_slapd [sudo]
stop_system_slapd() {
  local pidfile=/run/slapd/slapd.pid pid i
  if command -v service >/dev/null 2>&1 && [ -e /etc/init.d/slapd ]; then
    "$@" service slapd stop >/dev/null 2>&1 || true
  fi
  [ -s "$pidfile" ] || return 0
  pid=$(tr -dc 0-9 < "$pidfile")
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = slapd ] || return 0
  echo "Stopping the system slapd (pid $pid) that the slapd package started"
  "$@" kill -TERM "$pid" 2>/dev/null || true
  for (( i = 0; i < 100; i++ )); do
    [ -d "/proc/$pid" ] || return 0
    sleep 0.1
  done
  echo "warning: the system slapd (pid $pid) is still running" >&2
}
