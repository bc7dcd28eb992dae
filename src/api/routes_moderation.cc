// Reports and the operator's side: POST /api/reports (any user); the moderation queue,
// hiding characters, suspending users and the audit log (moderators); roles and the
// content policy (admins). The rules are ModerationService's.
#include <set>

#include "api/codec.h"
#include "api/route_util.h"
#include "api/routes.h"

namespace tokki::api {

namespace {

Json UserRef(const std::optional<store::User>& u) {
  if (!u) return nullptr;
  return Json{{"id", u->id}, {"username", u->username}};
}

Json ReportJson(const store::Report& r) {
  return Json{{"id", r.id},
              {"target_kind", r.target_kind == store::ReportTarget::kCharacter ? "character" : "message"},
              {"target_id", r.target_id},
              {"reason", r.reason},
              {"note", r.note},
              {"status", chat::ReportStatusName(r.status)},
              {"created_at", r.created_at_ms},
              {"resolved_at", r.resolved_at_ms ? Json(r.resolved_at_ms) : Json(nullptr)}};
}

Json ReportViewJson(const chat::ReportView& v) {
  Json j = ReportJson(v.report);
  j["reporter"] = UserRef(v.reporter);
  j["resolved_by"] = UserRef(v.resolver);
  j["character"] = nullptr;
  if (v.character) {
    Json c = CharacterSummaryJson(*v.character);
    c["owner"] = UserRef(v.owner);
    j["character"] = std::move(c);
  }
  Json context = Json::array();
  for (auto& m : v.context) {
    Json mj = MessageJson(m, 1);
    mj["reported"] = v.report.target_kind == store::ReportTarget::kMessage && m.id == v.report.target_id;
    context.push_back(std::move(mj));
  }
  j["context"] = std::move(context);
  return j;
}

Json AdminUserJson(const store::User& u) {
  return Json{{"id", u.id},
              {"username", u.username},
              {"role", chat::RoleName(u.role)},
              {"suspended", u.suspended},
              {"created_at", u.created_at_ms}};
}

Json PolicyJson(const chat::PolicySettings& p) {
  Json j = Json::parse(p.policy->ToJson(), nullptr, false);
  if (!j.is_object()) j = Json{{"rules", Json::array()}};
  j["require_adult_confirmation"] = p.require_adult_confirmation;
  return j;
}

// A moderator's switch on a target: the {id} path parameter, `{flag: bool (default true),
// report_id?: id}` from the body.
struct ModAction {
  Id target = kNoId;
  bool on = true;
  Id report_id = kNoId;
};

Result<ModAction> ParseAction(RequestContext& ctx, const char* flag) {
  ModAction a;
  TOKKI_ASSIGN_OR_RETURN(a.target, IdParam(ctx, "id"));
  TOKKI_ASSIGN_OR_RETURN(Json body, ParseJsonBody(ctx));
  TOKKI_ASSIGN_OR_RETURN(auto on, GetBool(body, flag));
  TOKKI_ASSIGN_OR_RETURN(auto report, GetInt(body, "report_id"));
  a.on = on.value_or(true);
  a.report_id = report.value_or(kNoId);
  return a;
}

}  // namespace

void AddModerationRoutes(std::vector<Route>& r, const Services& s) {
  using V = http::verb;
  chat::ModerationService* mod = s.moderation;

  r.push_back({.method = V::post, .pattern = "/api/reports", .body = BodyKind::kJson,
               .handler = [mod](RequestContext& ctx) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto kind = GetString(*body, "target_kind");
                 auto target = GetInt(*body, "target_id");
                 auto reason = GetString(*body, "reason");
                 auto note = GetString(*body, "note");
                 if (!kind.ok()) return ErrorResponse(ctx, kind.status());
                 if (!reason.ok()) return ErrorResponse(ctx, reason.status());
                 if (!note.ok()) return ErrorResponse(ctx, note.status());
                 if (!target.ok()) return ErrorResponse(ctx, target.status());
                 if (!*kind || !*target || !*reason)
                   return ErrorResponse(ctx, Status::InvalidArgument("target_kind, target_id and reason are required"));
                 store::ReportTarget t;
                 if (**kind == "character") t = store::ReportTarget::kCharacter;
                 else if (**kind == "message") t = store::ReportTarget::kMessage;
                 else return ErrorResponse(ctx, Status::InvalidArgument("target_kind must be character or message"));
                 auto made = mod->FileReport(ctx.user_id, t, **target, **reason, note->value_or(""));
                 if (!made.ok()) return ErrorResponse(ctx, made.status());
                 return JsonResponse(ctx, http::status::created, Json{{"report", ReportJson(*made)}});
               }});

  r.push_back({.method = V::get, .pattern = "/api/admin/reports", .access = Access::kModerator,
               .handler = [mod](RequestContext& ctx) -> HandlerResult {
                 std::optional<store::ReportStatus> status = store::ReportStatus::kOpen;
                 std::string st = ctx.Query("status", "open");
                 if (st == "all") status.reset();
                 else {
                   auto parsed = chat::ParseReportStatus(st);
                   if (!parsed.ok()) return ErrorResponse(ctx, parsed.status());
                   status = *parsed;
                 }
                 auto before = IntQuery(ctx, "before", 0, 0, INT64_MAX);
                 if (!before.ok()) return ErrorResponse(ctx, before.status());
                 constexpr int kPage = 50;
                 auto views = mod->Queue(status, kPage, *before);
                 if (!views.ok()) return ErrorResponse(ctx, views.status());
                 Json items = Json::array();
                 for (auto& v : *views) items.push_back(ReportViewJson(v));
                 Json next = views->size() == kPage ? Json(views->back().report.id) : Json(nullptr);
                 return JsonResponse(ctx, http::status::ok, Json{{"items", std::move(items)}, {"next_before", next}});
               }});
  r.push_back({.method = V::post, .pattern = "/api/admin/reports/{id}/dismiss", .access = Access::kModerator,
               .handler = [mod](RequestContext& ctx) -> HandlerResult {
                 auto id = IdParam(ctx, "id");
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 auto report = mod->Dismiss(ctx.user_id, *id);
                 if (!report.ok()) return ErrorResponse(ctx, report.status());
                 return JsonResponse(ctx, http::status::ok, Json{{"report", ReportJson(*report)}});
               }});
  r.push_back({.method = V::post, .pattern = "/api/admin/characters/{id}/hide", .access = Access::kModerator,
               .body = BodyKind::kJson,
               .handler = [mod](RequestContext& ctx) -> HandlerResult {
                 auto action = ParseAction(ctx, "hidden");
                 if (!action.ok()) return ErrorResponse(ctx, action.status());
                 auto c = mod->HideCharacter(ctx.user_id, action->target, action->on, action->report_id);
                 if (!c.ok()) return ErrorResponse(ctx, c.status());
                 return JsonResponse(ctx, http::status::ok, Json{{"character", CharacterSummaryJson(*c)}});
               }});
  r.push_back({.method = V::post, .pattern = "/api/admin/users/{id}/suspend", .access = Access::kModerator,
               .body = BodyKind::kJson,
               .handler = [mod](RequestContext& ctx) -> HandlerResult {
                 auto action = ParseAction(ctx, "suspended");
                 if (!action.ok()) return ErrorResponse(ctx, action.status());
                 auto u = mod->Suspend(ctx.user_id, action->target, action->on, action->report_id);
                 if (!u.ok()) return ErrorResponse(ctx, u.status());
                 return JsonResponse(ctx, http::status::ok, Json{{"user", AdminUserJson(*u)}});
               }});
  r.push_back({.method = V::get, .pattern = "/api/admin/users", .access = Access::kModerator,
               .handler = [mod](RequestContext& ctx) -> HandlerResult {
                 auto after = IntQuery(ctx, "after", 0, 0, INT64_MAX);
                 if (!after.ok()) return ErrorResponse(ctx, after.status());
                 constexpr int kPage = 50;
                 auto users = mod->Users(ctx.Query("q"), kPage, *after);
                 if (!users.ok()) return ErrorResponse(ctx, users.status());
                 Json items = Json::array();
                 for (auto& u : *users) items.push_back(AdminUserJson(u));
                 Json next = users->size() == kPage ? Json(users->back().id) : Json(nullptr);
                 return JsonResponse(ctx, http::status::ok, Json{{"items", std::move(items)}, {"next_after", next}});
               }});
  r.push_back({.method = V::get, .pattern = "/api/admin/audit", .access = Access::kModerator,
               .handler = [mod, store = s.store](RequestContext& ctx) -> HandlerResult {
                 auto before = IntQuery(ctx, "before", 0, 0, INT64_MAX);
                 if (!before.ok()) return ErrorResponse(ctx, before.status());
                 constexpr int kPage = 50;
                 auto entries = mod->Audit(kPage, *before);
                 if (!entries.ok()) return ErrorResponse(ctx, entries.status());
                 Json items = Json::array();
                 for (auto& e : *entries) {
                   std::optional<store::User> actor;
                   if (auto u = store->GetUser(e.actor_id); u.ok()) actor = *u;
                   items.push_back(Json{{"id", e.id}, {"actor", UserRef(actor)}, {"action", e.action},
                                        {"target_kind", e.target_kind}, {"target_id", e.target_id},
                                        {"detail", e.detail}, {"created_at", e.created_at_ms}});
                 }
                 Json next = entries->size() == kPage ? Json(entries->back().id) : Json(nullptr);
                 return JsonResponse(ctx, http::status::ok, Json{{"items", std::move(items)}, {"next_before", next}});
               }});
  r.push_back({.method = V::patch, .pattern = "/api/admin/users/{id}", .access = Access::kAdmin,
               .body = BodyKind::kJson,
               .handler = [mod](RequestContext& ctx) -> HandlerResult {
                 auto id = IdParam(ctx, "id");
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto role = GetString(*body, "role");
                 if (!role.ok()) return ErrorResponse(ctx, role.status());
                 if (!*role) return ErrorResponse(ctx, Status::InvalidArgument("role is required"));
                 auto parsed = chat::ParseRole(**role);
                 if (!parsed.ok()) return ErrorResponse(ctx, parsed.status());
                 auto u = mod->SetRole(ctx.user_id, *id, *parsed);
                 if (!u.ok()) return ErrorResponse(ctx, u.status());
                 return JsonResponse(ctx, http::status::ok, Json{{"user", AdminUserJson(*u)}});
               }});
  r.push_back({.method = V::get, .pattern = "/api/admin/policy", .access = Access::kAdmin,
               .handler = [mod](RequestContext& ctx) -> HandlerResult {
                 return JsonResponse(ctx, http::status::ok, PolicyJson(mod->Policy()));
               }});
  r.push_back({.method = V::put, .pattern = "/api/admin/policy", .access = Access::kAdmin, .body = BodyKind::kJson,
               .handler = [mod](RequestContext& ctx) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto adult = GetBool(*body, "require_adult_confirmation");
                 if (!adult.ok()) return ErrorResponse(ctx, adult.status());
                 Json policy = *body;
                 policy.erase("require_adult_confirmation");
                 // New rules may come without an id: give them one that is not taken.
                 if (policy.contains("rules") && policy["rules"].is_array()) {
                   std::set<std::string> taken;
                   for (auto& rule : policy["rules"])
                     if (rule.is_object() && rule.contains("id") && rule["id"].is_string())
                       taken.insert(rule["id"].get<std::string>());
                   int next = 1;
                   for (auto& rule : policy["rules"]) {
                     if (!rule.is_object()) continue;
                     if (rule.contains("id") && rule["id"].is_string() && !rule["id"].get<std::string>().empty())
                       continue;
                     std::string id;
                     do id = "rule-" + std::to_string(next++);
                     while (taken.count(id));
                     taken.insert(id);
                     rule["id"] = id;
                   }
                 }
                 Status st = mod->SetPolicy(ctx.user_id, policy.dump(),
                                            adult->value_or(mod->Policy().require_adult_confirmation));
                 if (!st.ok()) return ErrorResponse(ctx, st);
                 return JsonResponse(ctx, http::status::ok, PolicyJson(mod->Policy()));
               }});
}

}  // namespace tokki::api
