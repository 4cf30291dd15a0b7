#!/usr/bin/env bash
# The code is checked against the time the answer arrives, not the time the prompt was shown:
# a user who takes a minute to type is not refused a code that is current when they send it.
source "$(dirname "$0")/lib.sh"
sandbox_init module_slow_answer
SECRET=KRUGS4ZANFZSA43MN53SA5DZOBUW4ZZAMZQXG5DFOI
enroll_test_user alice "$SECRET" >/dev/null

# Start late in a step, answer two steps later with the code current at that moment.
while [ $(( $(date +%s) % 30 )) -lt 25 ]; do sleep 1; done
start_step=$(( $(date +%s) / 30 ))
pam_env expect -f - <<EXPECT >"$SB/out" 2>"$SB/err" && rc=0 || rc=$?
set timeout 90
spawn pamtester -v valix alice authenticate
expect "Verification code: "
while {[clock seconds] / 30 < $start_step + 2} { sleep 1 }
send "[exec oathtool --totp -b $SECRET 2>/dev/null]\r"
expect { "successfully authenticated" { exit 0 } "failed" { exit 1 } timeout { exit 2 } }
EXPECT
check "a code typed two steps after the prompt appeared is accepted" [ "$rc" -eq 0 ]
finish
