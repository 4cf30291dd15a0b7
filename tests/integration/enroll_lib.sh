# valix-enroll for the sandbox, for tests that drive it: source after lib.sh and sandbox_init.
# enroll ARGS...: sets RC; stdout in $SB/eout, stderr in $SB/eerr; standard input is $INPUT and
# a line end when INPUT is set, else empty.
# A run whose account check could not start PAM because pam_wrapper's shared /tmp/pam.X
# directory was taken from under it (see pam_tester in lib.sh) is repeated: valix-enroll
# checks the account before it reads or writes any state, so that run changed nothing.
enroll() {
  local attempt
  for attempt in 1 2 3 4 5 6; do
    set +e
    printf '%s' "${INPUT:+$INPUT$'\n'}" |
      pam_env "$VALIX_ENROLL" --config "$SB/etc/valix.conf" "$@" >"$SB/eout" 2>"$SB/eerr"
    RC=$?
    set -e
    grep -aq 'PWRAP_ERROR' "$SB/eerr" && grep -aq '(pam_start failed)' "$SB/eerr" || break
    sleep "0.$((RANDOM % 5 + 1))"
  done
}
json() { python3 -c "import json,sys; d=json.load(open('$SB/eout')); print($1)"; }
expect_rc() {  # expect_rc RC DESCRIPTION ARGS...
  local want=$1 description=$2
  shift 2
  enroll "$@"
  if [ "$RC" -eq "$want" ]; then pass "$description"; else
    failure "$description (exit $RC, wanted $want)"; sed 's/^/#   /' "$SB/eout" "$SB/eerr" | head -20; fi
}
eerr_has() { grep -qF -- "$1" "$SB/eerr"; }
