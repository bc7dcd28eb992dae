// tokki/chat/moderation_service.h — the operator's side: reports from users, the
// moderation queue, the actions moderators take (dismiss, hide a character, suspend a
// user), role changes by admins, the audit log of every such action, and the content
// policy with its switches (kept in the store's settings, loaded at start).
//
// Roles: moderators act on reports, characters and users; only admins change roles and
// the policy. The routes check the caller's role before calling (api/route.h Access);
// this service checks what depends on the target (nobody suspends an admin, nobody
// changes their own role).
//
// Thread safety: all methods are thread-safe. Start reading at FileReport().
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat/character_service.h"
#include "core/mutex.h"
#include "core/result.h"
#include "core/thread_annotations.h"
#include "persona/content_policy.h"
#include "store/store.h"

namespace tokki::chat {

// A report as the queue shows it: with what was reported, in context.
struct ReportView {
  store::Report report;
  std::optional<store::User> reporter;
  std::optional<store::User> resolver;
  std::optional<store::Character> character;  // the reported character, or the one speaking
  std::optional<store::User> owner;           // the character's creator, when known
  std::vector<store::Message> context;        // message reports: the message and neighbours
};

struct PolicySettings {
  std::shared_ptr<const persona::ContentPolicy> policy;  // never null
  bool require_adult_confirmation = true;
};

class ModerationService {
 public:
  // `on_suspend` ends what a suspended user still has running (sessions cache, replies).
  ModerationService(store::Store* store, CharacterService* characters,
                    std::function<void(Id user_id)> on_suspend);

  // Loads the saved policy and switches (defaults when none were saved).
  Status Load();

  // ---- any signed-in user
  // `reason` is one of kReportReasons; a message report must be about a message in one of
  // the reporter's own conversations; a character report about one they can see.
  Result<store::Report> FileReport(Id reporter, store::ReportTarget kind, Id target_id,
                                   std::string reason, std::string note);

  // ---- moderators
  Result<std::vector<ReportView>> Queue(std::optional<store::ReportStatus> status, int limit, Id before_id);
  Result<store::Report> Dismiss(Id moderator, Id report_id);
  Result<store::Character> HideCharacter(Id moderator, Id character_id, bool hidden, Id report_id);
  Result<store::User> Suspend(Id moderator, Id user_id, bool suspended, Id report_id);
  Result<std::vector<store::User>> Users(std::string_view prefix, int limit, Id after_id);
  Result<std::vector<store::AuditEntry>> Audit(int limit, Id before_id);

  // ---- admins
  Result<store::User> SetRole(Id admin, Id user_id, store::Role role);
  PolicySettings Policy() const;
  // May this user see mature characters? Signed in, and an adult by their own
  // confirmation when the operator requires it.
  bool MaySeeMature(Id user_id) const;
  Status SetPolicy(Id admin, std::string_view policy_json, bool require_adult_confirmation);
  // Writes an audit entry for an action taken elsewhere (e.g. the CLI).
  Status Record(Id actor, std::string action, std::string target_kind, Id target_id, std::string detail);

  // The current content policy (for the character and reply checks).
  std::shared_ptr<const persona::ContentPolicy> policy() const;

 private:
  Status ResolveWith(Id moderator, Id report_id, store::ReportStatus status);

  store::Store* const store_;
  CharacterService* const characters_;
  const std::function<void(Id)> on_suspend_;
  mutable Mutex mu_;
  std::shared_ptr<const persona::ContentPolicy> policy_ TOKKI_GUARDED_BY(mu_);
  bool require_adult_ TOKKI_GUARDED_BY(mu_) = true;
};

// The reasons a user may give for a report.
inline constexpr const char* kReportReasons[] = {"sexual_content_minors", "harassment", "hate",
                                                 "violence", "self_harm", "spam",
                                                 "impersonation", "other"};

std::string_view RoleName(store::Role role);
Result<store::Role> ParseRole(std::string_view s);
std::string_view ReportStatusName(store::ReportStatus s);
Result<store::ReportStatus> ParseReportStatus(std::string_view s);

}  // namespace tokki::chat
