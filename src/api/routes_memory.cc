// Memory: /api/conversations/{id}/memories…, …/summary, …/messages/{mid}/forget, the prompt
// inspector …/prompt and the conversation export …/export (docs/api.md, "Memory").
#include <map>

#include "api/codec.h"
#include "api/route_util.h"
#include "api/routes.h"
#include "chat/memory_service.h"

namespace tokki::api {
namespace {

std::string_view MemoryKindName(store::MemoryKind k) {
  return k == store::MemoryKind::kPin ? "pin" : "note";
}

Json MemoryJson(const store::Memory& m) {
  return Json{{"id", m.id},
              {"kind", MemoryKindName(m.kind)},
              {"content", m.content},
              {"message_id", m.message_id == kNoId ? Json(nullptr) : Json(m.message_id)},
              {"position", m.position},
              {"created_at", m.created_at_ms},
              {"updated_at", m.updated_at_ms}};
}

Json SummaryJson(const std::optional<store::MemorySummary>& s) {
  if (!s) return nullptr;
  return Json{{"version", s->version},
              {"content", s->content},
              {"covers_until_message_id",
               s->covers_until_message_id == kNoId ? Json(nullptr) : Json(s->covers_until_message_id)},
              {"edited", s->edited},
              {"created_at", s->created_at_ms}};
}

Json MemoriesJson(const chat::MemoryView& v) {
  Json items = Json::array();
  for (const auto& m : v.items) items.push_back(MemoryJson(m));
  return Json{{"items", std::move(items)}, {"summary", SummaryJson(v.summary)}};
}

}  // namespace

void AddMemoryRoutes(std::vector<Route>& r, const Services& s) {
  using V = http::verb;
  chat::MemoryService* memory = s.memory;
  chat::ChatService* chat = s.chat;
  engine::Engine* engine = s.engine;
  if (!memory) return;
  auto conv_op = [](auto fn) { return WithConversationId(fn); };
  auto two_ids = [](const char* second, const char* what, auto fn) { return WithTwoIds(second, what, fn); };
  // The body's "content" string (required).
  auto content_of = [](RequestContext& ctx) -> Result<std::string> {
    TOKKI_ASSIGN_OR_RETURN(Json body, ParseJsonBody(ctx));
    TOKKI_ASSIGN_OR_RETURN(auto content, GetString(body, "content"));
    if (!content) return Status::InvalidArgument("content is required");
    return *content;
  };

  r.push_back({.method = V::get, .pattern = "/api/conversations/{id}/memories",
               .handler = conv_op([memory](RequestContext& ctx, Id id) -> HandlerResult {
                 auto v = memory->List(ctx.user_id, id);
                 if (!v.ok()) return ErrorResponse(ctx, v.status());
                 Json body = MemoriesJson(*v);
                 body["limits"] = Json{{"max_items", memory->options().max_items},
                                       {"max_chars", memory->options().max_chars},
                                       {"max_summary_chars", memory->options().max_summary_chars}};
                 body["demo_model"] = memory->options().demo_model;
                 return JsonResponse(ctx, http::status::ok, body);
               })});
  r.push_back({.method = V::post, .pattern = "/api/conversations/{id}/memories", .body = BodyKind::kJson,
               .handler = conv_op([memory](RequestContext& ctx, Id id) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto message_id = GetInt(*body, "message_id");
                 if (!message_id.ok()) return ErrorResponse(ctx, message_id.status());
                 auto content = GetString(*body, "content");
                 if (!content.ok()) return ErrorResponse(ctx, content.status());
                 if (message_id->has_value() == content->has_value())
                   return ErrorResponse(ctx, Status::InvalidArgument(
                                                 "give content (a note) or message_id (a pin), not both"));
                 auto made = *message_id ? memory->Pin(ctx.user_id, id, **message_id)
                                         : memory->AddNote(ctx.user_id, id, **content);
                 if (!made.ok()) return ErrorResponse(ctx, made.status());
                 return JsonResponse(ctx, http::status::created, MemoryJson(*made));
               })});
  r.push_back({.method = V::put, .pattern = "/api/conversations/{id}/memories/order", .body = BodyKind::kJson,
               .handler = conv_op([memory](RequestContext& ctx, Id id) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto it = body->find("ids");
                 if (it == body->end() || !it->is_array() || it->size() > 1000)
                   return ErrorResponse(ctx, Status::InvalidArgument("ids must be an array of memory ids"));
                 std::vector<Id> ids;
                 for (const auto& v : *it) {
                   if (!v.is_number_integer() || v.get<int64_t>() <= 0)
                     return ErrorResponse(ctx, Status::InvalidArgument("ids must be an array of memory ids"));
                   ids.push_back(v.get<int64_t>());
                 }
                 auto list = memory->Reorder(ctx.user_id, id, ids);
                 if (!list.ok()) return ErrorResponse(ctx, list.status());
                 Json items = Json::array();
                 for (const auto& m : *list) items.push_back(MemoryJson(m));
                 return JsonResponse(ctx, http::status::ok, Json{{"items", std::move(items)}});
               })});
  r.push_back({.method = V::patch, .pattern = "/api/conversations/{id}/memories/{mid}", .body = BodyKind::kJson,
               .handler = two_ids("mid", "memory", [memory, content_of](RequestContext& ctx, Id id, Id mid) -> HandlerResult {
                 auto content = content_of(ctx);
                 if (!content.ok()) return ErrorResponse(ctx, content.status());
                 auto m = memory->Edit(ctx.user_id, id, mid, *content);
                 if (!m.ok()) return ErrorResponse(ctx, m.status());
                 return JsonResponse(ctx, http::status::ok, MemoryJson(*m));
               })});
  r.push_back({.method = V::delete_, .pattern = "/api/conversations/{id}/memories/{mid}",
               .handler = two_ids("mid", "memory", [memory](RequestContext& ctx, Id id, Id mid) -> HandlerResult {
                 Status st = memory->Delete(ctx.user_id, id, mid);
                 if (!st.ok()) return ErrorResponse(ctx, st);
                 return EmptyResponse(ctx, http::status::no_content);
               })});
  r.push_back({.method = V::put, .pattern = "/api/conversations/{id}/summary", .body = BodyKind::kJson,
               .handler = conv_op([memory, content_of](RequestContext& ctx, Id id) -> HandlerResult {
                 auto content = content_of(ctx);
                 if (!content.ok()) return ErrorResponse(ctx, content.status());
                 auto s = memory->SetSummary(ctx.user_id, id, *content);
                 if (!s.ok()) return ErrorResponse(ctx, s.status());
                 return JsonResponse(ctx, http::status::ok, SummaryJson(*s));
               })});
  r.push_back({.method = V::post, .pattern = "/api/conversations/{id}/messages/{mid}/forget",
               .handler = two_ids("mid", "message", [memory](RequestContext& ctx, Id id, Id mid) -> HandlerResult {
                 Status st = memory->Forget(ctx.user_id, id, mid);
                 if (!st.ok()) return ErrorResponse(ctx, st);
                 return EmptyResponse(ctx, http::status::no_content);
               })});
  r.push_back({.method = V::get, .pattern = "/api/conversations/{id}/prompt",
               .handler = conv_op([chat, engine](RequestContext& ctx, Id id) -> HandlerResult {
                 auto built = chat->InspectPrompt(ctx.user_id, id, ctx.Query("draft"));
                 if (!built.ok()) return ErrorResponse(ctx, built.status());
                 Json messages = Json::array();
                 std::map<std::string, int> sections;
                 int n_tokens = 0;
                 const auto& req = built->request;
                 for (size_t i = 0; i < req.messages.size(); ++i) {
                   const std::string& section = built->sections[i];
                   Json m{{"role", req.messages[i].role},
                          {"content", req.messages[i].content},
                          {"section", section}};
                   if (built->source_ids[i] != kNoId) m["message_id"] = built->source_ids[i];
                   if (section == "recalled") {
                     Json sources = Json::array();
                     for (const auto& p : built->recalled)
                       sources.push_back(Json{{"message_id", p.message_id},
                                              {"conversation_id", p.conversation_id},
                                              {"created_at", p.created_at_ms}});
                     m["source_ids"] = std::move(sources);
                   }
                   const int n = engine ? engine->CountTokens(req.messages[i].content)
                                        : static_cast<int>(req.messages[i].content.size() / 4 + 1);
                   sections[section] += n;
                   n_tokens += n;
                   messages.push_back(std::move(m));
                 }
                 Json sec = Json::object();
                 for (auto& [k, v] : sections) sec[k] = v;
                 const int n_ctx = engine ? engine->Info().n_ctx : 0;
                 return JsonResponse(ctx, http::status::ok,
                                     Json{{"messages", std::move(messages)},
                                          {"n_tokens", n_tokens},
                                          {"n_ctx", n_ctx},
                                          {"sections", std::move(sec)}});
               })});
  r.push_back({.method = V::get, .pattern = "/api/conversations/{id}/export",
               .handler = conv_op([chat, memory](RequestContext& ctx, Id id) -> HandlerResult {
                 auto view = chat->View(ctx.user_id, id);
                 if (!view.ok()) return ErrorResponse(ctx, view.status());
                 auto all = chat->AllMessages(ctx.user_id, id);
                 if (!all.ok()) return ErrorResponse(ctx, all.status());
                 auto mem = memory->List(ctx.user_id, id);
                 if (!mem.ok()) return ErrorResponse(ctx, mem.status());
                 std::map<std::pair<Id, Id>, int> siblings;  // (conversation, parent) -> count
                 for (const auto& m : *all) ++siblings[{m.conversation_id, m.parent_id}];
                 Json messages = Json::array();
                 for (const auto& m : *all)
                   messages.push_back(MessageJson(m, siblings[{m.conversation_id, m.parent_id}]));
                 Json character = nullptr;
                 if (view->character)
                   character = Json{{"id", view->character->id}, {"name", view->character->name}};
                 Json body{{"format", "tokki-conversation"},
                           {"version", 1},
                           {"conversation", ConversationJson(*view)},
                           {"character", std::move(character)},
                           {"messages", std::move(messages)},
                           {"memories", MemoriesJson(*mem)}};
                 Response res = JsonResponse(ctx, http::status::ok, body);
                 res.set(http::field::content_disposition,
                         "attachment; filename=\"conversation-" + std::to_string(id) + ".json\"");
                 return res;
               })});
}

}  // namespace tokki::api
