#!/usr/bin/env bash
# The shipped conf/valix.conf parses with the core parser (as shipped, and with every
# commented-out default switched on), and valix.conf(5) and the shipped file document every
# key the core accepts (and no key it does not). Also: the man pages format cleanly.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/admin_lib.sh"
require_root "valix-admin"
sandbox_init admin_conf
SRC="$VALIX_SOURCE_DIR"
SHIPPED="$SRC/conf/valix.conf"
MAN5="$SRC/conf/valix.conf.5"
MAN8="$SRC/admin/valix-admin.8"

# Every key apply_setting() accepts, read from the core's source.
mapfile -t KEYS < <(grep -o 'key == "[a-z_]*"' "$SRC/libvalix/config.cpp" | sed 's/key == "\(.*\)"/\1/' | sort -u)
check "found the core's keys" [ "${#KEYS[@]}" -ge 18 ]

# The configuration must be root-owned and not group/world-writable: use copies in the
# sandbox (the checkout may belong to someone else). state_dir points into the sandbox.
cp "$SHIPPED" "$SB/etc/shipped.conf"
echo "state_dir = $SB/state" >> "$SB/etc/shipped.conf"
chmod 644 "$SB/etc/shipped.conf"
expect_admin 0 "the shipped valix.conf parses as shipped" --config "$SB/etc/shipped.conf" status

# Uncomment every "#key = value" line: the documented defaults must all be valid values.
sed -E 's/^#([a-z_]+ =.*)$/\1/' "$SHIPPED" | sed "s|^state_dir = .*|state_dir = $SB/state|" > "$SB/etc/defaults.conf"
chmod 644 "$SB/etc/defaults.conf"
check "every key is listed once, commented out" [ "$(grep -cE '^[a-z_]+ =' "$SB/etc/defaults.conf")" -eq "${#KEYS[@]}" ]
expect_admin 0 "the shipped valix.conf parses with every default switched on" --config "$SB/etc/defaults.conf" status

for key in "${KEYS[@]}"; do
  check "valix.conf lists '$key'" grep -qE "^#$key =" "$SHIPPED"
  check "valix.conf(5) documents '$key'" grep -qE "^\.B[IR]? \\\\?\"?$key\b" "$MAN5"
done
# And nothing is documented that the core does not know.
while read -r key; do
  check "valix.conf(5) key '$key' exists in the core" bash -c "printf '%s\n' ${KEYS[*]} | grep -qx '$key'"
done < <(grep -oE '^\.B[IR]? [a-z_]+ " = "' "$MAN5" | awk '{print $2}')
while read -r key; do
  check "valix.conf key '$key' exists in the core" bash -c "printf '%s\n' ${KEYS[*]} | grep -qx '$key'"
done < <(sed -nE 's/^#([a-z_]+) =.*/\1/p' "$SHIPPED")

# The defaults the shipped file shows are the core's (read from the definitions of Config
# and OtpParameters), so the comments cannot drift from the code unnoticed.
for pair in "require none" "unenrolled deny" "max_failures 5" "lockout_seconds 60" \
            "lockout_max_seconds 3600" "fail_delay_ms 2000" "window 1" "backup_codes 10" \
            "pending_lifetime 600" "period 30" "digits 6" "qr utf8" "grace_seconds 0"; do
  set -- $pair
  check "valix.conf shows the core default $1 = $2" grep -qx "#$1 = $2" "$SHIPPED"
  check "the core's default for $1 is $2" bash -c "cat '$SRC/libvalix/config.hpp' '$SRC/libvalix/otp.hpp' | grep -qE '\b$1\b.*= *([A-Za-z]+::)?$2;'"
done

# Exit codes: --help and valix-admin(8) list the same ones.
for code in 0 1 2 3 4; do
  check "--help lists exit status $code" bash -c "'$VALIX_ADMIN' --help | grep -qE '^  $code  '"
  check "valix-admin(8) lists exit status $code" grep -qx "\.B $code" "$MAN8"
done

if command -v groff >/dev/null; then
  for page in "$MAN5" "$MAN8"; do
    check "$(basename "$page") formats without warnings" bash -c "[ -z \"\$(groff -man -Tutf8 -ww -z '$page' 2>&1)\" ]"
  done
else
  echo "ok - man page formatting # SKIP groff not installed"
fi
finish
