// Characters: GET/POST /api/characters, GET/PATCH/DELETE /api/characters/{id},
// GET/PUT /api/characters/{id}/avatar, and POST /api/characters/draft (a draft written by
// the model, streamed like a reply). Visibility, ownership, quotas, the content policy
// and avatar checks are CharacterService's, drafts DraftService's; this file only speaks
// HTTP.
#include "api/codec.h"
#include "api/response_cache.h"
#include "api/route_util.h"
#include "api/routes.h"
#include "api/sse_sources.h"
#include "core/text.h"

namespace tokki::api {

namespace {

// May this request see mature characters? Only when it asks (?mature=1) and the user may.
bool WantsMature(const RequestContext& ctx, const Services& s) {
  return ctx.Query("mature") == "1" && s.moderation->MaySeeMature(ctx.user_id);
}

// A finished draft as one JSON answer (after a WaitPlan).
Response FinishedDraft(RequestContext& ctx, const chat::DraftJob& job) {
  bool finished = false;
  auto events = job.stream()->Since(0, &finished);
  if (!finished || events.empty())
    return ErrorResponse(ctx, Status::Unavailable("the draft took too long; try again"));
  const chat::ReplyEvent& last = events.back();
  if (last.kind != chat::ReplyEvent::Kind::kDone)
    return ErrorResponse(ctx, Status(Status::Code::kUnavailable, last.text));
  return JsonResponse(ctx, http::status::ok, DraftDoneJson(job, last));
}

}  // namespace

void AddCharacterRoutes(std::vector<Route>& r, const Services& s) {
  using V = http::verb;
  chat::CharacterService* characters = s.characters;
  auto list_cache = std::make_shared<ResponseCache>();

  r.push_back({.method = V::get, .pattern = "/api/characters", .access = Access::kPublic,
               .handler = [s, characters, list_cache](RequestContext& ctx) -> HandlerResult {
                 const bool mature = WantsMature(ctx, s);
                 const uint64_t version = characters->version();
                 const std::string key = std::to_string(ctx.user_id) + (mature ? " m " : " ") +
                                         std::string(ctx.req.target());
                 if (auto hit = list_cache->Get(key, version)) {
                   Response res{http::status::ok, ctx.req.version()};
                   res.keep_alive(ctx.req.keep_alive());
                   res.set(http::field::server, "tokki");
                   res.set(http::field::content_type, "application/json; charset=utf-8");
                   res.set(http::field::cache_control, "no-store");
                   res.body() = std::move(*hit);
                   res.prepare_payload();
                   return res;
                 }
                 store::CharacterQuery q;
                 q.viewer_id = ctx.user_id;
                 q.text = ctx.Query("q");
                 q.tag = ctx.Query("tag");
                 q.language = ctx.Query("lang");
                 q.cursor = ctx.Query("cursor");
                 q.only_owned = ctx.Query("mine") == "1" && ctx.user_id != kNoId;
                 q.include_mature = mature;
                 auto limit = IntQuery(ctx, "limit", 20, 1, 100);
                 if (!limit.ok()) return ErrorResponse(ctx, limit.status());
                 q.limit = static_cast<int>(*limit);
                 if (!IsValidUtf8(q.text)) return ErrorResponse(ctx, Status::InvalidArgument("q is not valid UTF-8"));
                 auto page = characters->List(q);
                 if (!page.ok()) return ErrorResponse(ctx, page.status());
                 Json items = Json::array();
                 for (auto& c : page->items) items.push_back(CharacterJson(c, ctx.user_id));
                 auto res = JsonResponse(ctx, http::status::ok,
                                         Json{{"items", std::move(items)},
                                              {"next_cursor", page->next_cursor.empty() ? Json(nullptr)
                                                                                        : Json(page->next_cursor)}});
                 list_cache->Put(key, version, res.body());
                 return res;
               }});
  r.push_back({.method = V::post, .pattern = "/api/characters", .body = BodyKind::kJson,
               .handler = [characters](RequestContext& ctx) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 store::Character c;
                 Status st = ApplyCharacterFields(*body, &c);
                 if (!st.ok()) return ErrorResponse(ctx, st);
                 auto made = characters->Create(ctx.user_id, std::move(c));
                 if (!made.ok()) return ErrorResponse(ctx, made.status());
                 return JsonResponse(ctx, http::status::created, CharacterJson(*made, ctx.user_id));
               }});
  chat::DraftService* drafts = s.drafts;
  r.push_back({.method = V::post, .pattern = "/api/characters/draft", .body = BodyKind::kJson,
               .handler = [drafts](RequestContext& ctx) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto idea = GetString(*body, "idea");
                 if (!idea.ok()) return ErrorResponse(ctx, idea.status());
                 auto language = GetString(*body, "language");
                 if (!language.ok()) return ErrorResponse(ctx, language.status());
                 if (!drafts) return ErrorResponse(ctx, Status::Unavailable("drafts are not available"));
                 auto job = drafts->Start(ctx.user_id, idea->value_or(""), language->value_or("en"));
                 if (!job.ok()) return ErrorResponse(ctx, job.status());
                 if (WantsEventStream(ctx.req)) {
                   StreamPlan plan;
                   plan.source = DraftSource(*job);
                   plan.after_seq = LastEventId(ctx.req);
                   return plan;
                 }
                 WaitPlan wait;
                 wait.source = DraftSource(*job);
                 wait.then = [job = *job](RequestContext& c) { return FinishedDraft(c, *job); };
                 return wait;
               }});
  r.push_back({.method = V::get, .pattern = "/api/characters/{id}", .access = Access::kPublic,
               .handler = [characters](RequestContext& ctx) -> HandlerResult {
                 auto id = IdParam(ctx, "id");
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 auto c = characters->Get(ctx.user_id, ctx.role, *id);
                 if (!c.ok()) return ErrorResponse(ctx, c.status());
                 return JsonResponse(ctx, http::status::ok,
                                     CharacterJson(*c, ctx.user_id, characters->StatsFor(*c, ctx.user_id)));
               }});
  r.push_back({.method = V::patch, .pattern = "/api/characters/{id}", .body = BodyKind::kJson,
               .handler = [characters](RequestContext& ctx) -> HandlerResult {
                 auto id = IdParam(ctx, "id");
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto updated = characters->Update(ctx.user_id, *id, [&](store::Character* c) {
                   return ApplyCharacterFields(*body, c);
                 });
                 if (!updated.ok()) return ErrorResponse(ctx, updated.status());
                 return JsonResponse(ctx, http::status::ok, CharacterJson(*updated, ctx.user_id));
               }});
  r.push_back({.method = V::delete_, .pattern = "/api/characters/{id}",
               .handler = [characters](RequestContext& ctx) -> HandlerResult {
                 auto id = IdParam(ctx, "id");
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 Status st = characters->Delete(ctx.user_id, *id);
                 if (!st.ok()) return ErrorResponse(ctx, st);
                 return EmptyResponse(ctx, http::status::no_content);
               }});
  r.push_back({.method = V::put, .pattern = "/api/characters/{id}/avatar", .body = BodyKind::kUpload,
               .handler = [characters](RequestContext& ctx) -> HandlerResult {
                 auto id = IdParam(ctx, "id");
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 auto updated = characters->SetAvatar(ctx.user_id, *id, ctx.req.body());
                 if (!updated.ok()) return ErrorResponse(ctx, updated.status());
                 return JsonResponse(ctx, http::status::ok, CharacterJson(*updated, ctx.user_id));
               }});
  r.push_back({.method = V::get, .pattern = "/api/characters/{id}/avatar", .access = Access::kPublic,
               .handler = [characters](RequestContext& ctx) -> HandlerResult {
                 auto id = IdParam(ctx, "id");
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 auto a = characters->Avatar(ctx.user_id, ctx.role, *id);
                 if (!a.ok()) return ErrorResponse(ctx, a.status());
                 return BinaryResponse(ctx, a->mime, std::move(a->bytes), "public, max-age=86400");
               }});
}

}  // namespace tokki::api
