#!/usr/bin/env bash
# pam_valix through a real PAM stack (pamtester + pam_wrapper): TOTP codes from oathtool,
# window, replay, backup codes, and what is logged.
source "$(dirname "$0")/lib.sh"
sandbox_init module_totp

SECRET=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
mapfile -t CODES < <(enroll_test_user alice "$SECRET")
check "ten backup codes issued" [ "${#CODES[@]}" -eq 10 ]

wait_fresh_step
now=$(date +%s)
expect_login ok "current TOTP code accepted" valix alice "$(totp_at "$SECRET" "$now")"
check "... and the log holds no error from libpam (such as removing a PAM variable that is not set)" \
  bash -c "! grep -a 'SYSLOG(3)' '$SB/err'"
check "prompt is 'Verification code: '" out_has "Verification code:"
check "success logged" log_has "totp code accepted"
check "... naming the authenticator" log_has "totp code accepted from authenticator default"
check "watermark recorded" [ "$(state_field alice last_step)" -ge $(( now / 30 )) ]

expect_login fail "same code again is a replay" valix alice "$(totp_at "$SECRET" "$now")"
check "replay explained to the user" out_has "already been used"
check "replay logged" log_has "code already used"
expect_login fail "previous step after a newer one is a replay" valix alice "$(totp_at "$SECRET" $((now - 30)))"
expect_login ok "next step accepted (window 1)" valix alice "$(totp_at "$SECRET" $((now + 30)))"
expect_login fail "two steps ahead is outside the window" valix alice "$(totp_at "$SECRET" $((now + 90)))"
check "... told as a wrong code, with the clock hint" out_has "Invalid verification code. The time on your phone looks wrong"
check "... logged as clock drift" log_has "clock drift) of +90 s"
expect_login fail "a wrong code" valix alice 123456
check "wrong code told" out_has "Invalid verification code."
check "wrong code logged without the code" log_has "denied: wrong code"

# A fresh user for the previous-step case (alice's watermark is ahead now).
mapfile -t BOB_CODES < <(enroll_test_user bob "$SECRET")
wait_fresh_step
now=$(date +%s)
expect_login ok "previous step accepted (window 1)" valix bob "$(totp_at "$SECRET" $((now - 30)))"
enroll_test_user carol "$SECRET" >/dev/null
expect_login fail "three steps back refused for an enrolled user" valix carol "$(totp_at "$SECRET" $((now - 90)))"

# window=0 through a module option.
write_service strict "window=0"
enroll_test_user dave "$SECRET" >/dev/null
wait_fresh_step
now=$(date +%s)
expect_login fail "window=0 refuses the previous step" strict dave "$(totp_at "$SECRET" $((now - 30)))"
expect_login ok "window=0 accepts the current step" strict dave "$(totp_at "$SECRET" "$now")"

# Backup codes: accepted once, any case, with or without the hyphen, spaces around.
expect_login ok "backup code accepted" valix alice "${CODES[0]}"
check "remaining count shown" out_has "You have 9 backup codes left."
check "backup use logged" log_has "backup code accepted"
expect_login fail "backup code is single use" valix alice "${CODES[0]}"
upper=$(echo "${CODES[1]}" | tr 'a-z' 'A-Z' | tr -d '-')
expect_login ok "backup code in upper case without hyphen" valix alice "  $upper  "
check "two codes consumed" [ "$(state_field alice backup_left)" -eq 8 ]

# Never a code or the secret in the logs.
login valix alice 000000
for c in "${CODES[@]}" "$SECRET" 000000; do
  check "log never contains ${c:0:4}..." log_lacks "$c"
done
check "the expected code is never printed" bash -c "! grep -q '$(totp_now "$SECRET")' '$SB/out' '$SB/err'"

# SHA256 / 8 digits enrollments.
enroll_test_user erin "$SECRET" --algorithm SHA256 --digits 8 >/dev/null
wait_fresh_step
now=$(date +%s)
expect_login ok "SHA256 8-digit code accepted" valix erin "$(totp_at "$SECRET" "$now" sha256 8)"
expect_login fail "a 6-digit code refused for an 8-digit enrollment" valix erin "$(totp_at "$SECRET" $((now+30)) sha256 6)"

# Clock drift: the user's code for a step three minutes ahead (oathtool --now) is refused and
# counted, logged with the drift so the administrator knows what to fix, and the user is told
# their phone's time looks wrong; that code never works later, when its time comes.
enroll_test_user dave "$SECRET" >/dev/null
wait_fresh_step
now=$(date +%s)
ahead=$(oathtool --totp -b --now "@$((now + 180))" "$SECRET")
expect_login fail "a code for 3 minutes ahead is refused" valix dave "$ahead"
check "... logged as clock drift of +180 s" log_has "clock drift) of +180 s"
check "... the user is told their phone's time looks wrong" out_has "The time on your phone looks wrong"
check "... counted like a wrong code" [ "$(state_field dave failures)" -eq 1 ]
check "... never to work later (the watermark moved past it)" \
  [ "$(state_field dave last_step)" -eq $(( (now + 180) / 30 )) ]
behind=$(oathtool --totp -b --now "@$((now - 240))" "$SECRET")
expect_login fail "a code for 4 minutes ago is refused" valix dave "$behind"
check "... logged as clock drift of -240 s" log_has "clock drift) of -240 s"
far=$(oathtool --totp -b --now "@$((now + 3600))" "$SECRET")
expect_login fail "a code an hour ahead is just a wrong code" valix dave "$far"
check "... logged as such" log_has "denied: wrong code"

finish
