# The Debian packages Valix needs, in one place. Sourced by scripts/demo and scripts/test.
# install_deps demo|test|bench|package (each includes the build dependencies)
VALIX_BUILD_DEPS=(g++ cmake make pkg-config libpam0g-dev libssl-dev libqrencode-dev libcrypt-dev)
VALIX_DEMO_DEPS=(libpam-wrapper libnss-wrapper pamtester oathtool expect python3)
VALIX_TEST_DEPS=(libcmocka-dev libpam-google-authenticator openssh-server openssh-client zbar-tools librsvg2-bin clang-format clang-tidy clang-tidy-19 valgrind clang-19 libclang-rt-19-dev)
VALIX_BENCH_DEPS=(libpam-google-authenticator libpam-oath nettle-dev)
# scripts/test-package: build the .deb, lint it, "sshd -t" the shipped drop-ins.
VALIX_PACKAGE_DEPS=(debhelper dpkg-dev build-essential lintian openssh-server)

install_deps() {
  local packages=("${VALIX_BUILD_DEPS[@]}" "${VALIX_DEMO_DEPS[@]}")
  [ "$1" = test ] && packages+=("${VALIX_TEST_DEPS[@]}")
  [ "$1" = bench ] && packages+=("${VALIX_BENCH_DEPS[@]}")
  [ "$1" = package ] && packages+=("${VALIX_PACKAGE_DEPS[@]}")
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "Installing: ${missing[*]}"
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
}
