#include "chat/moderation_service.h"

#include <algorithm>

#include "chat/character_rules.h"
#include "core/log.h"
#include "core/text.h"

namespace tokki::chat {

namespace {

constexpr const char* kPolicyKey = "content_policy";
constexpr const char* kRequireAdultKey = "require_adult_confirmation";

std::shared_ptr<const persona::ContentPolicy> EmptyPolicy() {
  auto p = persona::ContentPolicy::FromJson(R"({"rules":[]})");
  return p.ok() ? *p : nullptr;
}

}  // namespace

std::string_view RoleName(store::Role role) {
  switch (role) {
    case store::Role::kUser: return "user";
    case store::Role::kModerator: return "moderator";
    case store::Role::kAdmin: return "admin";
  }
  return "user";
}

Result<store::Role> ParseRole(std::string_view s) {
  if (s == "user") return store::Role::kUser;
  if (s == "moderator") return store::Role::kModerator;
  if (s == "admin") return store::Role::kAdmin;
  return Status::InvalidArgument("role must be user, moderator or admin");
}

std::string_view ReportStatusName(store::ReportStatus s) {
  switch (s) {
    case store::ReportStatus::kOpen: return "open";
    case store::ReportStatus::kDismissed: return "dismissed";
    case store::ReportStatus::kActioned: return "actioned";
  }
  return "open";
}

Result<store::ReportStatus> ParseReportStatus(std::string_view s) {
  if (s == "open") return store::ReportStatus::kOpen;
  if (s == "dismissed") return store::ReportStatus::kDismissed;
  if (s == "actioned") return store::ReportStatus::kActioned;
  return Status::InvalidArgument("status must be open, dismissed or actioned");
}

ModerationService::ModerationService(store::Store* store, CharacterService* characters,
                                     std::function<void(Id)> on_suspend)
    : store_(store), characters_(characters), on_suspend_(std::move(on_suspend)), policy_(EmptyPolicy()) {}

Status ModerationService::Load() {
  TOKKI_ASSIGN_OR_RETURN(auto saved, store_->GetSetting(kPolicyKey));
  std::shared_ptr<const persona::ContentPolicy> policy = EmptyPolicy();
  if (saved) {
    auto parsed = persona::ContentPolicy::FromJson(*saved);
    if (!parsed.ok()) return parsed.status().WithContext("the saved content policy");
    policy = *parsed;
  }
  TOKKI_ASSIGN_OR_RETURN(auto adult, store_->GetSetting(kRequireAdultKey));
  MutexLock lock(&mu_);
  policy_ = policy;
  require_adult_ = !adult || *adult != "0";
  return Status::Ok();
}

std::shared_ptr<const persona::ContentPolicy> ModerationService::policy() const {
  MutexLock lock(&mu_);
  return policy_;
}

PolicySettings ModerationService::Policy() const {
  MutexLock lock(&mu_);
  return PolicySettings{policy_, require_adult_};
}

bool ModerationService::MaySeeMature(Id user_id) const {
  if (user_id == kNoId) return false;
  if (!Policy().require_adult_confirmation) return true;
  auto u = store_->GetUser(user_id);
  return u.ok() && u->adult_confirmed;
}

Status ModerationService::Record(Id actor, std::string action, std::string target_kind, Id target_id,
                                 std::string detail) {
  store::AuditEntry e;
  e.actor_id = actor;
  e.action = std::move(action);
  e.target_kind = std::move(target_kind);
  e.target_id = target_id;
  e.detail = std::move(detail);
  return store_->AppendAudit(std::move(e)).status();
}

Result<store::Report> ModerationService::FileReport(Id reporter, store::ReportTarget kind, Id target_id,
                                                    std::string reason, std::string note) {
  if (std::find_if(std::begin(kReportReasons), std::end(kReportReasons),
                   [&](const char* r) { return reason == r; }) == std::end(kReportReasons))
    return Status::InvalidArgument(
        "reason must be one of sexual_content_minors, harassment, hate, violence, self_harm, spam, "
        "impersonation, other");
  if (Utf8Length(note) > 1000) return Status::TooLarge("the note is over 1000 characters");
  if (!IsValidUtf8(note)) return Status::InvalidArgument("the note is not valid UTF-8");
  if (kind == store::ReportTarget::kCharacter) {
    TOKKI_ASSIGN_OR_RETURN(store::Character c, store_->GetCharacter(target_id));
    if (!CanSeeCharacter(c, reporter)) return Status::NotFound("character not found");
    if (c.owner_id == reporter) return Status::InvalidArgument("you cannot report your own character");
  } else {
    TOKKI_ASSIGN_OR_RETURN(store::Message m, store_->GetMessage(target_id));
    TOKKI_ASSIGN_OR_RETURN(store::Conversation conv, store_->GetConversation(m.conversation_id));
    if (conv.user_id != reporter) return Status::NotFound("message not found");
    if (m.role != "assistant") return Status::InvalidArgument("only a character's message can be reported");
  }
  store::Report r;
  r.reporter_id = reporter;
  r.target_kind = kind;
  r.target_id = target_id;
  r.reason = std::move(reason);
  r.note = std::move(note);
  auto made = store_->CreateReport(std::move(r));
  if (made.status().code() == Status::Code::kAlreadyExists)
    return Status::AlreadyExists("you already reported this; a moderator will look at it");
  return made;
}

Result<std::vector<ReportView>> ModerationService::Queue(std::optional<store::ReportStatus> status, int limit,
                                                         Id before_id) {
  TOKKI_ASSIGN_OR_RETURN(auto reports, store_->ListReports(status, limit, before_id));
  std::vector<ReportView> out;
  out.reserve(reports.size());
  for (auto& r : reports) {
    ReportView v;
    v.report = r;
    if (auto u = store_->GetUser(r.reporter_id); u.ok()) v.reporter = *u;
    if (r.resolved_by != kNoId)
      if (auto u = store_->GetUser(r.resolved_by); u.ok()) v.resolver = *u;
    Id character_id = kNoId;
    if (r.target_kind == store::ReportTarget::kCharacter) {
      character_id = r.target_id;
    } else if (auto around = store_->MessagesAround(r.target_id, 3, 2); around.ok()) {
      v.context = *around;
      if (auto conv = !around->empty() ? store_->GetConversation(around->front().conversation_id)
                                       : Result<store::Conversation>(Status::NotFound("gone"));
          conv.ok())
        character_id = conv->character_id;
    }
    if (character_id != kNoId) {
      if (auto c = store_->GetCharacter(character_id); c.ok()) {
        v.character = *c;
        if (c->owner_id != kNoId)
          if (auto o = store_->GetUser(c->owner_id); o.ok()) v.owner = *o;
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

Status ModerationService::ResolveWith(Id moderator, Id report_id, store::ReportStatus status) {
  if (report_id == kNoId) return Status::Ok();
  Status st = store_->ResolveReport(report_id, status, moderator);
  if (st.code() == Status::Code::kConflict) return Status::Ok();  // resolved by another action
  return st;
}

Result<store::Report> ModerationService::Dismiss(Id moderator, Id report_id) {
  TOKKI_RETURN_IF_ERROR(store_->ResolveReport(report_id, store::ReportStatus::kDismissed, moderator));
  TOKKI_RETURN_IF_ERROR(Record(moderator, "report.dismiss", "report", report_id, ""));
  return store_->GetReport(report_id);
}

Result<store::Character> ModerationService::HideCharacter(Id moderator, Id character_id, bool hidden,
                                                          Id report_id) {
  TOKKI_ASSIGN_OR_RETURN(store::Character c, characters_->SetHidden(character_id, hidden));
  TOKKI_RETURN_IF_ERROR(Record(moderator, hidden ? "character.hide" : "character.unhide", "character",
                               character_id, c.name + (report_id ? " (report " + std::to_string(report_id) + ")" : "")));
  TOKKI_RETURN_IF_ERROR(ResolveWith(moderator, report_id, store::ReportStatus::kActioned));
  return c;
}

Result<store::User> ModerationService::Suspend(Id moderator, Id user_id, bool suspended, Id report_id) {
  TOKKI_ASSIGN_OR_RETURN(store::User target, store_->GetUser(user_id));
  if (user_id == moderator) return Status::InvalidArgument("you cannot suspend yourself");
  TOKKI_ASSIGN_OR_RETURN(store::User actor, store_->GetUser(moderator));
  if (target.role != store::Role::kUser && actor.role != store::Role::kAdmin)
    return Status::PermissionDenied("only an administrator can suspend a moderator or administrator");
  TOKKI_RETURN_IF_ERROR(store_->SetUserSuspended(user_id, suspended));
  if (suspended && on_suspend_) on_suspend_(user_id);
  TOKKI_RETURN_IF_ERROR(Record(moderator, suspended ? "user.suspend" : "user.unsuspend", "user", user_id,
                               target.username + (report_id ? " (report " + std::to_string(report_id) + ")" : "")));
  TOKKI_RETURN_IF_ERROR(ResolveWith(moderator, report_id, store::ReportStatus::kActioned));
  return store_->GetUser(user_id);
}

Result<std::vector<store::User>> ModerationService::Users(std::string_view prefix, int limit, Id after_id) {
  return store_->ListUsers(prefix, limit, after_id);
}

Result<std::vector<store::AuditEntry>> ModerationService::Audit(int limit, Id before_id) {
  return store_->ListAudit(limit, before_id);
}

Result<store::User> ModerationService::SetRole(Id admin, Id user_id, store::Role role) {
  if (admin == user_id) return Status::InvalidArgument("you cannot change your own role");
  TOKKI_ASSIGN_OR_RETURN(store::User target, store_->GetUser(user_id));
  TOKKI_RETURN_IF_ERROR(store_->SetUserRole(user_id, role));
  // Sessions carry the role: make the change take effect at once.
  TOKKI_RETURN_IF_ERROR(store_->DeleteUserSessions(user_id));
  if (on_suspend_) on_suspend_(user_id);
  TOKKI_RETURN_IF_ERROR(Record(admin, "user.role", "user", user_id,
                               target.username + ": " + std::string(RoleName(target.role)) + " -> " +
                                   std::string(RoleName(role))));
  return store_->GetUser(user_id);
}

Status ModerationService::SetPolicy(Id admin, std::string_view policy_json, bool require_adult_confirmation) {
  TOKKI_ASSIGN_OR_RETURN(auto policy, persona::ContentPolicy::FromJson(policy_json));
  TOKKI_RETURN_IF_ERROR(store_->PutSetting(kPolicyKey, policy->ToJson()));
  TOKKI_RETURN_IF_ERROR(store_->PutSetting(kRequireAdultKey, require_adult_confirmation ? "1" : "0"));
  {
    MutexLock lock(&mu_);
    policy_ = policy;
    require_adult_ = require_adult_confirmation;
  }
  return Record(admin, "policy.update", "policy", kNoId,
                std::to_string(policy->rules().size()) + " rules; replies " + (policy->check_replies() ? "checked" : "not checked"));
}

}  // namespace tokki::chat
