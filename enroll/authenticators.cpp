#include "authenticators.hpp"

#include <unistd.h>

#include <cstdio>

#include "enrollment.hpp"
#include "enrollment_flow.hpp"
#include "enrollment_texts.hpp"
#include "i18n.hpp"
#include "outcome.hpp"
#include "privileges.hpp"
#include "terminal.hpp"

namespace valix::enroll {
namespace {

constexpr const char* kNotSetUp = N_("2FA is not set up; run valix-enroll first");

Authenticator authenticator_of(const PendingEnrollment& pending, std::string name,
                               std::uint64_t first_step, std::int64_t now) {
  Authenticator a;
  a.name = std::move(name);
  a.secret = pending.secret.clone();
  a.otp = pending.otp;
  a.enrolled_at = now;
  a.last_step = first_step;  // its first code is used
  return a;
}

// The state loaded for a change to the enrollment's authenticators, refused (the exit status)
// when there is none.
Result<std::optional<UserState>> enrolled_state(const Session& session, std::optional<int>& exit) {
  auto state = session.load();
  if (!state) {
    exit = internal(state.error());
  } else if (!*state || !(*state)->enrollment) {
    exit = refuse(tr(kNotSetUp));
  }
  return state;
}

std::optional<int> code_verifies(const Session& session, const UserState& state) {
  auto ok = session.current_code_verifies(state);
  if (!ok) return internal(ok.error());
  if (!*ok) return kRefused;
  return std::nullopt;
}

}  // namespace

std::optional<int> may_add(const Session& session, const std::string& name, SeenEnrollment& seen) {
  std::optional<int> exit;
  auto state = enrolled_state(session, exit);
  if (exit) return exit;
  // The name is checked before a code is asked for (and a secret shown), on a copy: the
  // enrollment's own check, under the update, decides.
  Enrollment trial = (*state)->enrollment->clone();
  Authenticator probe;
  probe.name = name;
  if (auto added = add_authenticator(trial, std::move(probe)); !added)
    return refused_change(added.error());
  if (auto refused = code_verifies(session, **state)) return refused;
  seen = seen_enrollment(**state);
  return std::nullopt;
}

int add_interactively(const Session& session, const std::string& name) {
  if (!isatty(STDIN_FILENO)) {
    std::fprintf(stderr, "valix-enroll: %s\n",
                 tr("not on a terminal; use --add NAME --begin and --confirm CODE in scripts"));
    return kUsage;
  }
  SeenEnrollment seen;
  if (auto refused = may_add(session, name, seen)) return *refused;
  const Options& o = session.options;
  TerminalDialog dialog(false, o.qr.value_or(session.config.qr), o.qr_svg, session.write_svg);
  auto flow = run_enrollment_flow(
      dialog, session.config,
      EnrollmentFlow{EnrollmentFront::tool, account_label(session.config, session.user),
                     texts::tool_code_prompt(session.config.otp.digits), kInteractiveLifetime,
                     false},
      [] { return now(); });
  if (!flow) return dialog.refusal ? *dialog.refusal : internal(flow.error());
  switch (flow->end) {
    case EnrollmentEnd::abandoned: return refuse(tr("the authenticator was not added."));
    case EnrollmentEnd::wrong_codes:
      return refuse(
          tr("that code is not correct. The authenticator was not added; run "
             "valix-enroll --add again to try again."));
    case EnrollmentEnd::expired:
      return refuse(
          tr("the code came after the setup expired. The authenticator was not added; "
             "run valix-enroll --add again to try again."));
    case EnrollmentEnd::verified: break;
  }
  auto stored = session.update([&](std::optional<UserState>& current) -> Result<StateChange> {
    if (auto unchanged = unchanged_since_seen(current, seen); !unchanged)
      return std::unexpected(unchanged.error());
    // Made afresh on every run: the store may run this more than once (StateStore::Mutator).
    auto added = add_authenticator(*current->enrollment,
                                   authenticator_of(flow->pending, name, flow->first_step, now()));
    if (!added) return std::unexpected(added.error());
    return StateChange::write;
  });
  if (!stored) return refused_change(stored.error());
  return announce_added(name);
}

Result<void> add_pending_authenticator(UserState& state, std::uint64_t first_step,
                                       std::int64_t now) {
  if (!state.pending || !state.pending->name)
    return fail(Errc::invalid, "no pending authenticator");
  // No enrollment to add to: a named pending one is begun over an enrollment, so this is a
  // reset since --begin (which the check of what it was begun over refuses first) or a state
  // not written by valix-enroll.
  if (!state.enrollment) return fail_said(Errc::conflict, texts::kToolChangedMeanwhile);
  auto added = add_authenticator(
      *state.enrollment, authenticator_of(*state.pending, *state.pending->name, first_step, now));
  if (!added) return std::unexpected(added.error());
  state.pending.reset();
  return {};
}

int announce_added(const std::string& name) {
  drop_privileges_for_good();
  std::printf("%s\n",
              fill(tr("Authenticator {name} added: a code from it, or from any other of your "
                      "authenticators, now logs you in. Your backup codes are unchanged."),
                   {{"name", name}})
                  .c_str());
  return kOk;
}

int remove_interactively(const Session& session, const std::string& name) {
  std::optional<int> exit;
  auto state = enrolled_state(session, exit);
  if (exit) return *exit;
  // As for --add: refused before a code is asked for when it cannot be removed.
  Enrollment trial = (*state)->enrollment->clone();
  if (auto removed = remove_authenticator(trial, name, FirstAuthenticator::keep); !removed)
    return refused_change(removed.error());
  if (auto refused = code_verifies(session, **state)) return *refused;
  const SeenEnrollment seen = seen_enrollment(**state);
  auto stored = session.update([&](std::optional<UserState>& current) -> Result<StateChange> {
    if (auto unchanged = unchanged_since_seen(current, seen); !unchanged)
      return std::unexpected(unchanged.error());
    auto removed = remove_authenticator(*current->enrollment, name, FirstAuthenticator::keep);
    if (!removed) return std::unexpected(removed.error());
    // Grace periods may have been granted by its codes (as install_enrollment clears them).
    current->clear_grace();
    return StateChange::write;
  });
  if (!stored) return refused_change(stored.error());
  drop_privileges_for_good();
  std::printf("%s\n",
              fill(tr("Authenticator {name} removed: its codes no longer work."), {{"name", name}})
                  .c_str());
  return kOk;
}

}  // namespace valix::enroll
