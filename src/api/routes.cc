// Every HTTP route of the API, in the order of docs/api.md. Handlers parse JSON into
// plain structs, call one service, and encode the result; errors go through
// ErrorResponse (the one Status -> HTTP mapping in http.cc).
#include <algorithm>

#include "api/codec.h"
#include "api/response_cache.h"
#include "api/routes_internal.h"
#include "persona/card.h"
#include "api/server.h"
#include "core/log.h"
#include "core/text.h"

namespace tokki::api {

namespace {

using store::Character;

constexpr const char* kCookieName = "tokki_session";

Response WithSessionCookie(Response res, const std::string& token, int64_t max_age_s) {
  res.set(http::field::set_cookie, std::string(kCookieName) + "=" + token +
                                       "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" +
                                       std::to_string(max_age_s));
  return res;
}

Result<Character> VisibleCharacter(store::Store* store, Id id, Id viewer) {
  TOKKI_ASSIGN_OR_RETURN(Character c, store->GetCharacter(id));
  if (c.visibility == store::Visibility::kPrivate && (viewer == kNoId || c.owner_id != viewer))
    return Status::NotFound("character not found");
  return c;
}

Result<Character> OwnedCharacter(store::Store* store, Id id, Id viewer) {
  TOKKI_ASSIGN_OR_RETURN(Character c, VisibleCharacter(store, id, viewer));
  if (c.owner_id != viewer) return Status::PermissionDenied("only the creator can change this character");
  return c;
}

Result<engine::SamplingParams> ParseGeneration(const Json& body, int default_max_tokens) {
  engine::SamplingParams p;
  p.max_tokens = default_max_tokens;
  auto it = body.find("generation");
  if (it == body.end() || it->is_null()) return p;
  if (!it->is_object()) return Status::InvalidArgument("generation must be an object");
  const Json& g = *it;
  TOKKI_ASSIGN_OR_RETURN(auto max_tokens, GetInt(g, "max_tokens"));
  if (max_tokens) {
    if (*max_tokens < 1 || *max_tokens > 8192)
      return Status::InvalidArgument("generation.max_tokens must be 1..8192");
    p.max_tokens = static_cast<int>(*max_tokens);
  }
  TOKKI_ASSIGN_OR_RETURN(auto temperature, GetNumber(g, "temperature"));
  if (temperature) {
    if (*temperature < 0 || *temperature > 5)
      return Status::InvalidArgument("generation.temperature must be 0..5");
    p.temperature = static_cast<float>(*temperature);
  }
  TOKKI_ASSIGN_OR_RETURN(auto top_p, GetNumber(g, "top_p"));
  if (top_p) {
    if (*top_p <= 0 || *top_p > 1) return Status::InvalidArgument("generation.top_p must be in (0, 1]");
    p.top_p = static_cast<float>(*top_p);
  }
  TOKKI_ASSIGN_OR_RETURN(auto min_p, GetNumber(g, "min_p"));
  if (min_p) {
    if (*min_p < 0 || *min_p > 1) return Status::InvalidArgument("generation.min_p must be 0..1");
    p.min_p = static_cast<float>(*min_p);
  }
  TOKKI_ASSIGN_OR_RETURN(auto top_k, GetInt(g, "top_k"));
  if (top_k) {
    if (*top_k < 0 || *top_k > 100000) return Status::InvalidArgument("generation.top_k must be >= 0");
    p.top_k = static_cast<int>(*top_k);
  }
  TOKKI_ASSIGN_OR_RETURN(auto rp, GetNumber(g, "repeat_penalty"));
  if (rp) p.repeat_penalty = static_cast<float>(*rp);
  TOKKI_ASSIGN_OR_RETURN(auto dry, GetNumber(g, "dry_multiplier"));
  if (dry) p.dry_multiplier = static_cast<float>(*dry);
  TOKKI_ASSIGN_OR_RETURN(auto seed, GetInt(g, "seed"));
  if (seed) p.seed = static_cast<uint32_t>(*seed);
  TOKKI_ASSIGN_OR_RETURN(auto ignore_eos, GetBool(g, "ignore_eos"));
  if (ignore_eos) p.ignore_eos = *ignore_eos;
  TOKKI_ASSIGN_OR_RETURN(auto stop, GetStringList(g, "stop"));
  if (stop) {
    if (stop->size() > 8) return Status::InvalidArgument("generation.stop takes at most 8 strings");
    p.stop = std::move(*stop);
  }
  return p;
}

// For bodies that may be empty: {"generation": {...}} or nothing.
Result<engine::SamplingParams> ParseOptionalGeneration(const RequestContext& ctx, int default_max_tokens) {
  if (ctx.req.body().empty()) return ParseGeneration(Json::object(), default_max_tokens);
  TOKKI_ASSIGN_OR_RETURN(Json body, ParseJsonBody(ctx));
  return ParseGeneration(body, default_max_tokens);
}

bool WantsEventStream(const Request& req) {
  auto accept = req[http::field::accept];
  return std::string_view(accept.data(), accept.size()).find("text/event-stream") !=
         std::string_view::npos;
}

int64_t LastEventId(const Request& req) {
  auto v = req["Last-Event-ID"];
  if (v.empty()) return 0;
  try {
    return std::stoll(std::string(v));
  } catch (...) {
    return 0;
  }
}

}  // namespace

std::vector<Route> MakeRoutes(const Services& s, const ServerOptions& options, Metrics* metrics) {
  std::vector<Route> r;
  store::Store* store = s.store;
  chat::ChatService* chat = s.chat;
  Auth* auth = s.auth;
  using V = http::verb;

  // ---- operations
  r.push_back({V::get, "/healthz", false, false, false, [](RequestContext& ctx) -> HandlerResult {
                 return JsonResponse(ctx, http::status::ok, Json{{"status", "ok"}});
               }});
  r.push_back({V::get, "/metrics", false, false, false, [s, metrics](RequestContext& ctx) -> HandlerResult {
                 Response res{http::status::ok, ctx.req.version()};
                 res.keep_alive(ctx.req.keep_alive());
                 res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
                 std::string body = metrics->Render();
                 auto t = s.store->Timings();
                 body += "# HELP tokki_db_queries_total Store calls.\n# TYPE tokki_db_queries_total counter\n";
                 body += "tokki_db_queries_total " + std::to_string(t.n_queries) + "\n";
                 body += "# HELP tokki_db_seconds_total Time spent in store calls.\n# TYPE tokki_db_seconds_total counter\n";
                 body += "tokki_db_seconds_total " + std::to_string(t.total_us / 1e6) + "\n";
                 auto cs = s.chat->Stats();
                 body += "# TYPE tokki_chat_active_generations gauge\ntokki_chat_active_generations " +
                         std::to_string(cs.active_generations) + "\n";
                 body += "# TYPE tokki_chat_replies_total counter\ntokki_chat_replies_total " +
                         std::to_string(cs.replies_total) + "\n";
                 if (s.extra_metrics) body += s.extra_metrics();
                 res.body() = std::move(body);
                 res.prepare_payload();
                 return res;
               }});
  r.push_back({V::get, "/api/server", false, false, false, [s, options](RequestContext& ctx) -> HandlerResult {
                 Json model = nullptr;
                 if (s.engine) {
                   auto info = s.engine->Info();
                   model = Json{{"name", info.name}, {"backend", info.backend},
                                {"n_ctx", info.n_ctx}, {"is_generated", info.is_generated}};
                 }
                 return JsonResponse(ctx, http::status::ok,
                                     Json{{"version", options.version}, {"model", model}});
               }});

  // ---- accounts
  auto credentials = [](RequestContext& ctx) -> Result<std::pair<std::string, std::string>> {
    TOKKI_ASSIGN_OR_RETURN(Json body, ParseJsonBody(ctx));
    TOKKI_ASSIGN_OR_RETURN(auto user, GetString(body, "username"));
    TOKKI_ASSIGN_OR_RETURN(auto pass, GetString(body, "password"));
    if (!user || !pass) return Status::InvalidArgument("username and password are required");
    return std::make_pair(*user, *pass);
  };
  auto session_answer = [](RequestContext& ctx, const LoginResult& lr, http::status status) {
    Json body{{"user", UserJson(lr.user)}, {"token", lr.token}};
    return WithSessionCookie(JsonResponse(ctx, status, body), lr.token, 30LL * 24 * 3600);
  };
  r.push_back({V::post, "/api/auth/register", false, true, false,
               [auth, credentials, session_answer](RequestContext& ctx) -> HandlerResult {
                 auto c = credentials(ctx);
                 if (!c.ok()) return ErrorResponse(ctx, c.status());
                 auto lr = auth->Register(c->first, c->second, ctx.remote_ip);
                 if (!lr.ok()) return ErrorResponse(ctx, lr.status());
                 return session_answer(ctx, *lr, http::status::created);
               }});
  r.push_back({V::post, "/api/auth/login", false, true, false,
               [auth, credentials, session_answer](RequestContext& ctx) -> HandlerResult {
                 auto c = credentials(ctx);
                 if (!c.ok()) return ErrorResponse(ctx, c.status());
                 auto lr = auth->Login(c->first, c->second, ctx.remote_ip);
                 if (!lr.ok()) return ErrorResponse(ctx, lr.status());
                 return session_answer(ctx, *lr, http::status::ok);
               }});
  r.push_back({V::post, "/api/auth/logout", false, false, false, [auth](RequestContext& ctx) -> HandlerResult {
                 auto h = ctx.req[http::field::authorization];
                 std::string token;
                 if (h.size() > 7) token = std::string(h.substr(7));
                 auto cookie = std::string(ctx.req[http::field::cookie]);
                 auto pos = cookie.find(std::string(kCookieName) + "=");
                 if (token.empty() && pos != std::string::npos) {
                   auto end = cookie.find(';', pos);
                   token = cookie.substr(pos + 14, end == std::string::npos ? std::string::npos : end - pos - 14);
                 }
                 if (!token.empty()) auth->Logout(token);
                 return WithSessionCookie(JsonResponse(ctx, http::status::ok, Json{{"ok", true}}), "", 0);
               }});
  r.push_back({V::get, "/api/me", true, false, false, [store](RequestContext& ctx) -> HandlerResult {
                 auto u = store->GetUser(ctx.user_id);
                 if (!u.ok()) return ErrorResponse(ctx, u.status());
                 return JsonResponse(ctx, http::status::ok, Json{{"user", UserJson(*u)}});
               }});
  r.push_back({V::patch, "/api/me", true, false, false, [store](RequestContext& ctx) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto u = store->GetUser(ctx.user_id);
                 if (!u.ok()) return ErrorResponse(ctx, u.status());
                 auto name = GetString(*body, "display_name");
                 auto persona = GetString(*body, "persona");
                 if (!name.ok()) return ErrorResponse(ctx, name.status());
                 if (!persona.ok()) return ErrorResponse(ctx, persona.status());
                 if (*name) {
                   if (Utf8Length(**name) > 64)
                     return ErrorResponse(ctx, Status::InvalidArgument("display_name is over 64 characters"));
                   u->display_name = **name;
                 }
                 if (*persona) {
                   if ((*persona)->size() > 8192)
                     return ErrorResponse(ctx, Status::TooLarge("persona is over 8 KiB"));
                   u->persona = **persona;
                 }
                 Status st = store->UpdateUser(*u);
                 if (!st.ok()) return ErrorResponse(ctx, st);
                 return JsonResponse(ctx, http::status::ok, Json{{"user", UserJson(*u)}});
               }});

  // ---- characters
  // Character writes bump the list cache's version (see Invalidate calls below).
  auto list_cache = std::make_shared<ResponseCache>();
  r.push_back({V::get, "/api/characters", false, false, false, [store, list_cache](RequestContext& ctx) -> HandlerResult {
                 const uint64_t version = list_cache->version();
                 const std::string key = std::to_string(ctx.user_id) + " " + std::string(ctx.req.target());
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
                 try {
                   q.limit = std::stoi(ctx.Query("limit", "20"));
                 } catch (...) {
                   return ErrorResponse(ctx, Status::InvalidArgument("limit must be a number"));
                 }
                 if (q.limit < 1 || q.limit > 100)
                   return ErrorResponse(ctx, Status::InvalidArgument("limit must be 1..100"));
                 if (!IsValidUtf8(q.text)) return ErrorResponse(ctx, Status::InvalidArgument("q is not valid UTF-8"));
                 auto page = store->ListCharacters(q);
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
  r.push_back({V::post, "/api/characters", true, false, false, [s, store, list_cache](RequestContext& ctx) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 Character c;
                 c.owner_id = ctx.user_id;
                 c.creator = "";
                 Status st = ApplyCharacterFields(*body, &c);
                 if (st.ok()) st = persona::ValidateCharacter(c);
                 if (!st.ok()) return ErrorResponse(ctx, st);
                 auto made = store->CreateCharacter(c);
                 if (!made.ok()) return ErrorResponse(ctx, made.status());
                 list_cache->Invalidate();
                 if (s.deck_upsert) s.deck_upsert(*made);
                 return JsonResponse(ctx, http::status::created, CharacterJson(*made, ctx.user_id));
               }});
  r.push_back({V::get, "/api/characters/{id}", false, false, false, [store](RequestContext& ctx) -> HandlerResult {
                 auto id = ParseId(ctx.params["id"]);
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 auto c = VisibleCharacter(store, *id, ctx.user_id);
                 if (!c.ok()) return ErrorResponse(ctx, c.status());
                 std::optional<store::CharacterStats> stats;
                 if (c->owner_id == ctx.user_id && ctx.user_id != kNoId) {
                   auto st = store->GetCharacterStats(c->id);
                   if (st.ok()) stats = *st;
                 }
                 return JsonResponse(ctx, http::status::ok, CharacterJson(*c, ctx.user_id, stats));
               }});
  r.push_back({V::patch, "/api/characters/{id}", true, false, false, [s, store, list_cache](RequestContext& ctx) -> HandlerResult {
                 auto id = ParseId(ctx.params["id"]);
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 auto c = OwnedCharacter(store, *id, ctx.user_id);
                 if (!c.ok()) return ErrorResponse(ctx, c.status());
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 Status st = ApplyCharacterFields(*body, &*c);
                 if (st.ok()) st = persona::ValidateCharacter(*c);
                 if (!st.ok()) return ErrorResponse(ctx, st);
                 auto updated = store->UpdateCharacter(*c);
                 if (!updated.ok()) return ErrorResponse(ctx, updated.status());
                 list_cache->Invalidate();
                 if (s.deck_upsert) s.deck_upsert(*updated);
                 return JsonResponse(ctx, http::status::ok, CharacterJson(*updated, ctx.user_id));
               }});
  r.push_back({V::delete_, "/api/characters/{id}", true, false, false, [s, store, list_cache](RequestContext& ctx) -> HandlerResult {
                 auto id = ParseId(ctx.params["id"]);
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 auto c = OwnedCharacter(store, *id, ctx.user_id);
                 if (!c.ok()) return ErrorResponse(ctx, c.status());
                 Status st = store->DeleteCharacter(*id);
                 if (!st.ok()) return ErrorResponse(ctx, st);
                 list_cache->Invalidate();
                 if (s.deck_remove) s.deck_remove(*id);
                 return EmptyResponse(ctx, http::status::no_content);
               }});
  r.push_back({V::put, "/api/characters/{id}/avatar", true, false, true, [store, list_cache](RequestContext& ctx) -> HandlerResult {
                 auto id = ParseId(ctx.params["id"]);
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 auto c = OwnedCharacter(store, *id, ctx.user_id);
                 if (!c.ok()) return ErrorResponse(ctx, c.status());
                 const std::string& body = ctx.req.body();
                 if (body.size() > 4 * 1024 * 1024)
                   return ErrorResponse(ctx, Status::TooLarge("an avatar must be at most 4 MiB"));
                 std::string mime;
                 if (body.rfind("\x89PNG\r\n\x1a\n", 0) == 0) mime = "image/png";
                 else if (body.rfind("\xff\xd8\xff", 0) == 0) mime = "image/jpeg";
                 else if (body.size() > 12 && body.compare(0, 4, "RIFF") == 0 && body.compare(8, 4, "WEBP") == 0)
                   mime = "image/webp";
                 else
                   return ErrorResponse(ctx, Status::InvalidArgument("an avatar must be a PNG, JPEG or WebP image"));
                 Status st = store->SetAvatar(*id, store::Avatar{mime, body});
                 if (!st.ok()) return ErrorResponse(ctx, st);
                 list_cache->Invalidate();
                 auto updated = store->GetCharacter(*id);
                 return JsonResponse(ctx, http::status::ok, CharacterJson(*updated, ctx.user_id));
               }});
  r.push_back({V::get, "/api/characters/{id}/avatar", false, false, false, [store](RequestContext& ctx) -> HandlerResult {
                 auto id = ParseId(ctx.params["id"]);
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 auto c = VisibleCharacter(store, *id, ctx.user_id);
                 if (!c.ok()) return ErrorResponse(ctx, c.status());
                 auto a = store->GetAvatar(*id);
                 if (!a.ok()) return ErrorResponse(ctx, a.status());
                 Response res{http::status::ok, ctx.req.version()};
                 res.keep_alive(ctx.req.keep_alive());
                 res.set(http::field::content_type, a->mime);
                 res.set(http::field::cache_control, "public, max-age=86400");
                 res.body() = std::move(a->bytes);
                 res.prepare_payload();
                 return res;
               }});

  // ---- conversations
  auto conversation_json = [store](const store::Conversation& c) {
    Json j{{"id", c.id}, {"character_id", c.character_id}, {"title", c.title},
           {"created_at", c.created_at_ms}, {"updated_at", c.updated_at_ms},
           {"character", nullptr}, {"last_message", nullptr}};
    auto ch = store->GetCharacter(c.character_id);
    if (ch.ok()) j["character"] = CharacterSummaryJson(*ch);
    auto all = store->ListMessages(c.id);
    if (all.ok()) {
      auto path = chat::SelectedPath(*all);
      if (!path.empty()) j["last_message"] = MessageJson(path.back().message, path.back().alternatives);
    }
    return j;
  };
  r.push_back({V::post, "/api/conversations", true, false, false, [chat, conversation_json](RequestContext& ctx) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto cid = GetInt(*body, "character_id");
                 if (!cid.ok()) return ErrorResponse(ctx, cid.status());
                 if (!*cid) return ErrorResponse(ctx, Status::InvalidArgument("character_id is required"));
                 auto conv = chat->StartConversation(ctx.user_id, **cid);
                 if (!conv.ok()) return ErrorResponse(ctx, conv.status());
                 Json j = conversation_json(*conv);
                 auto path = chat->Path(ctx.user_id, conv->id);
                 Json msgs = Json::array();
                 if (path.ok())
                   for (auto& p : *path) msgs.push_back(MessageJson(p.message, p.alternatives));
                 j["messages"] = std::move(msgs);
                 return JsonResponse(ctx, http::status::created, j);
               }});
  r.push_back({V::get, "/api/conversations", true, false, false, [store, conversation_json](RequestContext& ctx) -> HandlerResult {
                 auto list = store->ListConversations(ctx.user_id);
                 if (!list.ok()) return ErrorResponse(ctx, list.status());
                 Json items = Json::array();
                 for (auto& c : *list) items.push_back(conversation_json(c));
                 return JsonResponse(ctx, http::status::ok, Json{{"items", std::move(items)}});
               }});
  r.push_back({V::get, "/api/friends", true, false, false, [store, conversation_json](RequestContext& ctx) -> HandlerResult {
                 auto swipes = store->UserSwipes(ctx.user_id);
                 if (!swipes.ok()) return ErrorResponse(ctx, swipes.status());
                 Json items = Json::array();
                 std::vector<std::pair<int64_t, Json>> rows;
                 for (auto& sw : *swipes) {
                   if (sw.action == store::SwipeAction::kPass) continue;
                   auto ch = store->GetCharacter(sw.character_id);
                   if (!ch.ok()) continue;
                   auto conv = store->FindConversation(ctx.user_id, sw.character_id);
                   Json row{{"character", CharacterJson(*ch, ctx.user_id)},
                            {"conversation_id", nullptr}, {"last_message", nullptr},
                            {"updated_at", sw.created_at_ms},
                            {"superlike", sw.action == store::SwipeAction::kSuperlike}};
                   int64_t updated = sw.created_at_ms;
                   if (conv.ok() && *conv) {
                     Json cj = conversation_json(**conv);
                     row["conversation_id"] = (*conv)->id;
                     row["last_message"] = cj["last_message"];
                     updated = std::max(updated, (*conv)->updated_at_ms);
                     row["updated_at"] = updated;
                   }
                   rows.emplace_back(updated, std::move(row));
                 }
                 std::stable_sort(rows.begin(), rows.end(),
                                  [](auto& a, auto& b) { return a.first > b.first; });
                 for (auto& [t, row] : rows) items.push_back(std::move(row));
                 return JsonResponse(ctx, http::status::ok, Json{{"items", std::move(items)}});
               }});
  r.push_back({V::get, "/api/conversations/{id}", true, false, false, [chat, conversation_json](RequestContext& ctx) -> HandlerResult {
                 auto id = ParseId(ctx.params["id"]);
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 auto conv = chat->GetConversation(ctx.user_id, *id);
                 if (!conv.ok()) return ErrorResponse(ctx, conv.status());
                 return JsonResponse(ctx, http::status::ok, conversation_json(*conv));
               }});
  r.push_back({V::delete_, "/api/conversations/{id}", true, false, false, [chat](RequestContext& ctx) -> HandlerResult {
                 auto id = ParseId(ctx.params["id"]);
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 Status st = chat->DeleteConversation(ctx.user_id, *id);
                 if (!st.ok()) return ErrorResponse(ctx, st);
                 return EmptyResponse(ctx, http::status::no_content);
               }});
  r.push_back({V::get, "/api/conversations/{id}/messages", true, false, false, [chat](RequestContext& ctx) -> HandlerResult {
                 auto id = ParseId(ctx.params["id"]);
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 auto path = chat->Path(ctx.user_id, *id);
                 if (!path.ok()) return ErrorResponse(ctx, path.status());
                 int64_t limit = 50, end = static_cast<int64_t>(path->size());
                 try {
                   limit = std::stoll(ctx.Query("limit", "50"));
                   if (!ctx.Query("cursor").empty()) end = std::stoll(ctx.Query("cursor"));
                 } catch (...) {
                   return ErrorResponse(ctx, Status::InvalidArgument("bad limit or cursor"));
                 }
                 if (limit < 1 || limit > 500 || end < 0 || end > static_cast<int64_t>(path->size()))
                   return ErrorResponse(ctx, Status::InvalidArgument("bad limit or cursor"));
                 int64_t start = std::max<int64_t>(0, end - limit);
                 Json items = Json::array();
                 for (int64_t i = start; i < end; ++i)
                   items.push_back(MessageJson((*path)[i].message, (*path)[i].alternatives));
                 return JsonResponse(ctx, http::status::ok,
                                     Json{{"items", std::move(items)},
                                          {"next_cursor", start > 0 ? Json(std::to_string(start)) : Json(nullptr)}});
               }});

  // Sending and reply operations: stream (SSE) or answer once with the finished reply.
  auto reply_answer = [chat](RequestContext& ctx, const chat::SendOutcome& out, http::status status) -> HandlerResult {
    if (WantsEventStream(ctx.req)) {
      ReplyStreamPlan plan;
      plan.stream = out.stream;
      plan.after_seq = LastEventId(ctx.req);
      if (out.user_message.id) plan.preface.emplace_back("message", MessageJson(out.user_message, 1));
      auto alternatives = chat->AlternativeCount(out.reply);
      plan.preface.emplace_back("reply", MessageJson(out.reply, alternatives.ok() ? *alternatives : 1));
      if (!plan.stream) {
        auto st = chat->Stream(ctx.user_id, out.reply.conversation_id, out.reply.id);
        if (!st.ok()) return ErrorResponse(ctx, st.status());
        plan.stream = *st;
      }
      return plan;
    }
    if (out.stream) out.stream->WaitFinished(10 * 60 * 1000);
    Json body{{"duplicate", out.duplicate}};
    if (out.user_message.id) body["message"] = MessageJson(out.user_message, 1);
    // Re-read the reply: the stream finished, so the stored row is final.
    body["reply"] = nullptr;
    if (out.reply.id) {
      auto path = chat->Path(ctx.user_id, out.reply.conversation_id);
      if (path.ok()) {
        for (auto& p : *path)
          if (p.message.id == out.reply.id) body["reply"] = MessageJson(p.message, p.alternatives);
      }
      if (body["reply"].is_null()) body["reply"] = MessageJson(out.reply, 1);
    }
    if (out.stream) {
      bool fin = false;
      auto events = out.stream->Since(0, &fin);
      if (!events.empty() && events.back().kind == chat::ReplyEvent::Kind::kDone) {
        auto& e = events.back();
        body["finish_reason"] = e.finish_reason;
        body["usage"] = {{"prompt_tokens", e.usage.prompt_tokens},
                         {"cached_tokens", e.usage.cached_tokens},
                         {"completion_tokens", e.usage.completion_tokens}};
        body["timings"] = {{"ttft_ms", e.ttft_ms}, {"total_ms", e.total_ms}};
      } else if (!events.empty() && events.back().kind == chat::ReplyEvent::Kind::kError) {
        return ErrorResponse(ctx, Status(Status::Code::kUnavailable, events.back().text));
      }
    }
    return JsonResponse(ctx, out.duplicate ? http::status::ok : status, body);
  };

  // Tells the deck how much the user talks with (and how they rate) a character.
  auto engage = [s, chat](RequestContext& ctx, Id conversation_id, int rating) {
    if (!s.on_engagement) return;
    auto conv = chat->GetConversation(ctx.user_id, conversation_id);
    auto path = chat->Path(ctx.user_id, conversation_id);
    if (!conv.ok() || !path.ok()) return;
    int n_user = 0;
    for (auto& p : *path) n_user += p.message.role == "user";
    s.on_engagement(ctx.user_id, conv->character_id, n_user, rating);
  };
  r.push_back({V::post, "/api/conversations/{id}/messages", true, true, false,
               [chat, reply_answer, engage](RequestContext& ctx) -> HandlerResult {
                 auto id = ParseId(ctx.params["id"]);
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto content = GetString(*body, "content");
                 if (!content.ok()) return ErrorResponse(ctx, content.status());
                 if (!*content) return ErrorResponse(ctx, Status::InvalidArgument("content is required"));
                 auto client_id = GetString(*body, "client_id");
                 if (!client_id.ok()) return ErrorResponse(ctx, client_id.status());
                 auto gen = ParseGeneration(*body, 256);
                 if (!gen.ok()) return ErrorResponse(ctx, gen.status());
                 auto out = chat->Send(ctx.user_id, *id, **content, client_id->value_or(""), *gen);
                 if (!out.ok()) return ErrorResponse(ctx, out.status());
                 if (!out->duplicate) engage(ctx, *id, 0);
                 return reply_answer(ctx, *out, http::status::created);
               }});
  r.push_back({V::get, "/api/conversations/{id}/messages/{mid}/stream", true, false, false,
               [chat](RequestContext& ctx) -> HandlerResult {
                 auto id = ParseId(ctx.params["id"]);
                 auto mid = ParseId(ctx.params["mid"]);
                 if (!id.ok() || !mid.ok()) return ErrorResponse(ctx, Status::NotFound("message not found"));
                 auto stream = chat->Stream(ctx.user_id, *id, *mid);
                 if (!stream.ok()) return ErrorResponse(ctx, stream.status());
                 ReplyStreamPlan plan;
                 plan.stream = *stream;
                 plan.after_seq = LastEventId(ctx.req);
                 if (ctx.query.count("after")) {
                   try { plan.after_seq = std::stoll(ctx.Query("after")); } catch (...) {}
                 }
                 return plan;
               }});
  auto message_op = [](auto fn) {
    return [fn](RequestContext& ctx) -> HandlerResult {
      auto id = ParseId(ctx.params["id"]);
      auto mid = ParseId(ctx.params["mid"]);
      if (!id.ok() || !mid.ok()) return ErrorResponse(ctx, Status::NotFound("message not found"));
      return fn(ctx, *id, *mid);
    };
  };
  r.push_back({V::post, "/api/conversations/{id}/messages/{mid}/regenerate", true, true, false,
               message_op([chat, reply_answer](RequestContext& ctx, Id id, Id mid) -> HandlerResult {
                 auto gen = ParseOptionalGeneration(ctx, 256);
                 if (!gen.ok()) return ErrorResponse(ctx, gen.status());
                 auto out = chat->Regenerate(ctx.user_id, id, mid, *gen);
                 if (!out.ok()) return ErrorResponse(ctx, out.status());
                 return reply_answer(ctx, *out, http::status::created);
               })});
  r.push_back({V::post, "/api/conversations/{id}/messages/{mid}/continue", true, true, false,
               message_op([chat, reply_answer](RequestContext& ctx, Id id, Id mid) -> HandlerResult {
                 auto gen = ParseOptionalGeneration(ctx, 128);
                 if (!gen.ok()) return ErrorResponse(ctx, gen.status());
                 auto out = chat->Continue(ctx.user_id, id, mid, *gen);
                 if (!out.ok()) return ErrorResponse(ctx, out.status());
                 return reply_answer(ctx, *out, http::status::ok);
               })});
  auto message_answer = [chat](RequestContext& ctx, const Result<store::Message>& m) -> HandlerResult {
    if (!m.ok()) return ErrorResponse(ctx, m.status());
    auto alts = chat->AlternativeCount(*m);
    return JsonResponse(ctx, http::status::ok, MessageJson(*m, alts.ok() ? *alts : 1));
  };
  r.push_back({V::post, "/api/conversations/{id}/messages/{mid}/select", true, false, false,
               message_op([chat, message_answer](RequestContext& ctx, Id id, Id mid) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto alt = GetInt(*body, "alternative");
                 if (!alt.ok()) return ErrorResponse(ctx, alt.status());
                 if (!*alt) return ErrorResponse(ctx, Status::InvalidArgument("alternative is required"));
                 return message_answer(ctx, chat->Select(ctx.user_id, id, mid, static_cast<int>(**alt)));
               })});
  r.push_back({V::post, "/api/conversations/{id}/messages/{mid}/rating", true, false, false,
               message_op([chat, message_answer, engage](RequestContext& ctx, Id id, Id mid) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto stars = GetInt(*body, "stars");
                 if (!stars.ok()) return ErrorResponse(ctx, stars.status());
                 if (!*stars) return ErrorResponse(ctx, Status::InvalidArgument("stars is required"));
                 auto rated = chat->Rate(ctx.user_id, id, mid, static_cast<int>(**stars));
                 if (rated.ok()) engage(ctx, id, static_cast<int>(**stars));
                 return message_answer(ctx, rated);
               })});
  r.push_back({V::patch, "/api/conversations/{id}/messages/{mid}", true, false, false,
               message_op([chat, message_answer](RequestContext& ctx, Id id, Id mid) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto content = GetString(*body, "content");
                 if (!content.ok()) return ErrorResponse(ctx, content.status());
                 if (!*content) return ErrorResponse(ctx, Status::InvalidArgument("content is required"));
                 return message_answer(ctx, chat->Edit(ctx.user_id, id, mid, **content));
               })});
  r.push_back({V::delete_, "/api/conversations/{id}/messages/{mid}", true, false, false,
               message_op([chat](RequestContext& ctx, Id id, Id mid) -> HandlerResult {
                 Status st = chat->Delete(ctx.user_id, id, mid);
                 if (!st.ok()) return ErrorResponse(ctx, st);
                 return EmptyResponse(ctx, http::status::no_content);
               })});
  r.push_back({V::post, "/api/conversations/{id}/stop", true, true, false, [chat](RequestContext& ctx) -> HandlerResult {
                 auto id = ParseId(ctx.params["id"]);
                 if (!id.ok()) return ErrorResponse(ctx, id.status());
                 auto stopped = chat->Stop(ctx.user_id, *id);
                 if (!stopped.ok()) return ErrorResponse(ctx, stopped.status());
                 return JsonResponse(ctx, http::status::ok, Json{{"stopped", *stopped}});
               }});
  r.push_back({V::get, "/api/events", true, false, false, [](RequestContext& ctx) -> HandlerResult {
                 return UserEventsPlan{ctx.user_id, LastEventId(ctx.req)};
               }});

  AddCardRoutes(r, s, list_cache);
  AddDeckRoutes(r, s);
  return r;
}

}  // namespace tokki::api
