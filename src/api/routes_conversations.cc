// Conversations and replies: /api/conversations..., the reply operations (send, stream,
// regenerate, continue, select, rate, edit, delete, stop) and the user's event channel
// GET /api/events. A reply streams as server-sent events, or — for a client that did not
// ask for a stream — is answered once finished, waiting in the server's coroutine (a
// WaitPlan), never on a thread.
#include "api/codec.h"
#include "api/route_util.h"
#include "api/routes.h"
#include "api/sse_sources.h"

namespace tokki::api {

namespace {

// The finished reply as one JSON answer (after a WaitPlan).
Response FinishedReply(chat::ChatService* chat, RequestContext& ctx, const chat::SendOutcome& out,
                       http::status status) {
  Json body{{"duplicate", out.duplicate}};
  if (out.user_message.id) body["message"] = MessageJson(out.user_message, 1);
  body["reply"] = nullptr;
  if (out.reply.id) {
    auto path = chat->Path(ctx.user_id, out.reply.conversation_id);
    if (path.ok())
      for (auto& p : *path)
        if (p.message.id == out.reply.id) body["reply"] = MessageJson(p.message, p.alternatives);
    if (body["reply"].is_null()) body["reply"] = MessageJson(out.reply, 1);
  }
  if (out.stream) {
    bool fin = false;
    auto events = out.stream->Since(0, &fin);
    if (!events.empty() && events.back().kind == chat::ReplyEvent::Kind::kDone) {
      Json done = DoneFieldsJson(events.back());
      for (auto& [k, v] : done.items()) body[k] = v;
    } else if (!events.empty() && events.back().kind == chat::ReplyEvent::Kind::kError) {
      return ErrorResponse(ctx, Status(Status::Code::kUnavailable, events.back().text));
    } else if (!fin) {
      return ErrorResponse(ctx, Status::Unavailable("the reply took too long; read it from the conversation later"));
    }
  }
  return JsonResponse(ctx, out.duplicate ? http::status::ok : status, body);
}

HandlerResult ReplyAnswer(chat::ChatService* chat, RequestContext& ctx, const chat::SendOutcome& out,
                          http::status status) {
  std::shared_ptr<chat::ReplyStream> stream = out.stream;
  if (!stream && out.reply.id) {
    auto st = chat->Stream(ctx.user_id, out.reply.conversation_id, out.reply.id);
    if (!st.ok()) return ErrorResponse(ctx, st.status());
    stream = *st;
  }
  if (WantsEventStream(ctx.req)) {
    if (!stream) return ErrorResponse(ctx, Status::Internal("no reply to stream"));
    StreamPlan plan;
    plan.source = ReplySource(stream);
    plan.after_seq = LastEventId(ctx.req);
    if (out.user_message.id) plan.preface += SseBlock("message", MessageJson(out.user_message, 1), 0);
    auto alternatives = chat->AlternativeCount(out.reply);
    plan.preface += SseBlock("reply", MessageJson(out.reply, alternatives.ok() ? *alternatives : 1), 0);
    return plan;
  }
  if (!stream) return FinishedReply(chat, ctx, out, status);
  WaitPlan wait;
  wait.source = ReplySource(stream);
  wait.then = [chat, out, status](RequestContext& c) { return FinishedReply(chat, c, out, status); };
  return wait;
}

}  // namespace

void AddConversationRoutes(std::vector<Route>& r, const Services& s) {
  using V = http::verb;
  chat::ChatService* chat = s.chat;
  chat::UserEvents* events = s.events;
  auto on_engagement = s.on_engagement;

  // Tells the deck how much the user talks with (and how they rate) a character.
  auto engage = [chat, on_engagement](RequestContext& ctx, Id conversation_id, int rating) {
    if (!on_engagement) return;
    auto conv = chat->GetConversation(ctx.user_id, conversation_id);
    auto path = chat->Path(ctx.user_id, conversation_id);
    if (!conv.ok() || !path.ok()) return;
    int n_user = 0;
    for (auto& p : *path) n_user += p.message.role == "user";
    on_engagement(ctx.user_id, conv->character_id, n_user, rating);
  };
  auto conv_op = [](auto fn) { return WithConversationId(fn); };
  auto message_op = [](auto fn) { return WithTwoIds("mid", "message", fn); };

  r.push_back({.method = V::post, .pattern = "/api/conversations", .body = BodyKind::kJson,
               .handler = [chat](RequestContext& ctx) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto cid = GetInt(*body, "character_id");
                 if (!cid.ok()) return ErrorResponse(ctx, cid.status());
                 if (!*cid) return ErrorResponse(ctx, Status::InvalidArgument("character_id is required"));
                 auto conv = chat->StartConversation(ctx.user_id, **cid);
                 if (!conv.ok()) return ErrorResponse(ctx, conv.status());
                 auto view = chat->View(ctx.user_id, conv->id);
                 if (!view.ok()) return ErrorResponse(ctx, view.status());
                 Json j = ConversationJson(*view);
                 auto path = chat->Path(ctx.user_id, conv->id);
                 Json msgs = Json::array();
                 if (path.ok())
                   for (auto& p : *path) msgs.push_back(MessageJson(p.message, p.alternatives));
                 j["messages"] = std::move(msgs);
                 return JsonResponse(ctx, http::status::created, j);
               }});
  r.push_back({.method = V::get, .pattern = "/api/conversations",
               .handler = [chat](RequestContext& ctx) -> HandlerResult {
                 auto list = chat->List(ctx.user_id);
                 if (!list.ok()) return ErrorResponse(ctx, list.status());
                 Json items = Json::array();
                 for (auto& v : *list) items.push_back(ConversationJson(v));
                 return JsonResponse(ctx, http::status::ok, Json{{"items", std::move(items)}});
               }});
  r.push_back({.method = V::get, .pattern = "/api/friends",
               .handler = [chat](RequestContext& ctx) -> HandlerResult {
                 auto friends = chat->Friends(ctx.user_id);
                 if (!friends.ok()) return ErrorResponse(ctx, friends.status());
                 Json items = Json::array();
                 for (auto& f : *friends) {
                   Json row{{"character", CharacterJson(f.character, ctx.user_id)},
                            {"conversation_id", nullptr}, {"last_message", nullptr},
                            {"updated_at", f.updated_at_ms}, {"superlike", f.superlike},
                            {"read_only", false}, {"read_only_reason", nullptr}};
                   if (f.conversation) {
                     Json cj = ConversationJson(*f.conversation);
                     row["conversation_id"] = f.conversation->conversation.id;
                     row["last_message"] = cj["last_message"];
                     row["read_only"] = cj["read_only"];
                     row["read_only_reason"] = cj["read_only_reason"];
                   }
                   items.push_back(std::move(row));
                 }
                 return JsonResponse(ctx, http::status::ok, Json{{"items", std::move(items)}});
               }});
  r.push_back({.method = V::get, .pattern = "/api/conversations/{id}",
               .handler = conv_op([chat](RequestContext& ctx, Id id) -> HandlerResult {
                 auto view = chat->View(ctx.user_id, id);
                 if (!view.ok()) return ErrorResponse(ctx, view.status());
                 return JsonResponse(ctx, http::status::ok, ConversationJson(*view));
               })});
  r.push_back({.method = V::delete_, .pattern = "/api/conversations/{id}",
               .handler = conv_op([chat](RequestContext& ctx, Id id) -> HandlerResult {
                 Status st = chat->DeleteConversation(ctx.user_id, id);
                 if (!st.ok()) return ErrorResponse(ctx, st);
                 return EmptyResponse(ctx, http::status::no_content);
               })});
  r.push_back({.method = V::get, .pattern = "/api/conversations/{id}/messages",
               .handler = conv_op([chat](RequestContext& ctx, Id id) -> HandlerResult {
                 auto path = chat->Path(ctx.user_id, id);
                 if (!path.ok()) return ErrorResponse(ctx, path.status());
                 const int64_t n = static_cast<int64_t>(path->size());
                 auto limit = IntQuery(ctx, "limit", 50, 1, 500);
                 if (!limit.ok()) return ErrorResponse(ctx, limit.status());
                 auto end = IntQuery(ctx, "cursor", n, 0, n);
                 if (!end.ok()) return ErrorResponse(ctx, end.status());
                 int64_t start = std::max<int64_t>(0, *end - *limit);
                 Json items = Json::array();
                 for (int64_t i = start; i < *end; ++i)
                   items.push_back(MessageJson((*path)[i].message, (*path)[i].alternatives));
                 return JsonResponse(ctx, http::status::ok,
                                     Json{{"items", std::move(items)},
                                          {"next_cursor", start > 0 ? Json(std::to_string(start)) : Json(nullptr)}});
               })});
  r.push_back({.method = V::post, .pattern = "/api/conversations/{id}/messages", .body = BodyKind::kJson,
               .handler = conv_op([chat, engage](RequestContext& ctx, Id id) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto content = GetString(*body, "content");
                 if (!content.ok()) return ErrorResponse(ctx, content.status());
                 if (!*content) return ErrorResponse(ctx, Status::InvalidArgument("content is required"));
                 auto client_id = GetString(*body, "client_id");
                 if (!client_id.ok()) return ErrorResponse(ctx, client_id.status());
                 auto gen = ParseGeneration(*body, 256);
                 if (!gen.ok()) return ErrorResponse(ctx, gen.status());
                 auto out = chat->Send(ctx.user_id, id, **content, client_id->value_or(""), *gen);
                 if (!out.ok()) return ErrorResponse(ctx, out.status());
                 if (!out->duplicate) engage(ctx, id, 0);
                 return ReplyAnswer(chat, ctx, *out, http::status::created);
               })});
  r.push_back({.method = V::get, .pattern = "/api/conversations/{id}/messages/{mid}/stream",
               .handler = message_op([chat](RequestContext& ctx, Id id, Id mid) -> HandlerResult {
                 auto stream = chat->Stream(ctx.user_id, id, mid);
                 if (!stream.ok()) return ErrorResponse(ctx, stream.status());
                 StreamPlan plan;
                 plan.source = ReplySource(*stream);
                 plan.after_seq = LastEventId(ctx.req);
                 auto after = IntQuery(ctx, "after", plan.after_seq, 0, INT64_MAX);
                 if (!after.ok()) return ErrorResponse(ctx, after.status());
                 plan.after_seq = *after;
                 return plan;
               })});
  r.push_back({.method = V::post, .pattern = "/api/conversations/{id}/messages/{mid}/regenerate",
               .body = BodyKind::kJson,
               .handler = message_op([chat](RequestContext& ctx, Id id, Id mid) -> HandlerResult {
                 auto gen = ParseOptionalGeneration(ctx, 256);
                 if (!gen.ok()) return ErrorResponse(ctx, gen.status());
                 auto out = chat->Regenerate(ctx.user_id, id, mid, *gen);
                 if (!out.ok()) return ErrorResponse(ctx, out.status());
                 return ReplyAnswer(chat, ctx, *out, http::status::created);
               })});
  r.push_back({.method = V::post, .pattern = "/api/conversations/{id}/messages/{mid}/continue",
               .body = BodyKind::kJson,
               .handler = message_op([chat](RequestContext& ctx, Id id, Id mid) -> HandlerResult {
                 auto gen = ParseOptionalGeneration(ctx, 128);
                 if (!gen.ok()) return ErrorResponse(ctx, gen.status());
                 auto out = chat->Continue(ctx.user_id, id, mid, *gen);
                 if (!out.ok()) return ErrorResponse(ctx, out.status());
                 return ReplyAnswer(chat, ctx, *out, http::status::ok);
               })});
  auto message_answer = [chat](RequestContext& ctx, const Result<store::Message>& m) -> HandlerResult {
    if (!m.ok()) return ErrorResponse(ctx, m.status());
    auto alts = chat->AlternativeCount(*m);
    return JsonResponse(ctx, http::status::ok, MessageJson(*m, alts.ok() ? *alts : 1));
  };
  r.push_back({.method = V::post, .pattern = "/api/conversations/{id}/messages/{mid}/select",
               .body = BodyKind::kJson,
               .handler = message_op([chat, message_answer](RequestContext& ctx, Id id, Id mid) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto alt = GetInt(*body, "alternative");
                 if (!alt.ok()) return ErrorResponse(ctx, alt.status());
                 if (!*alt) return ErrorResponse(ctx, Status::InvalidArgument("alternative is required"));
                 if (**alt < 0 || **alt > 1000) return ErrorResponse(ctx, Status::InvalidArgument("alternative is out of range"));
                 return message_answer(ctx, chat->Select(ctx.user_id, id, mid, static_cast<int>(**alt)));
               })});
  r.push_back({.method = V::post, .pattern = "/api/conversations/{id}/messages/{mid}/rating",
               .body = BodyKind::kJson,
               .handler = message_op([chat, message_answer, engage](RequestContext& ctx, Id id, Id mid) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto stars = GetInt(*body, "stars");
                 if (!stars.ok()) return ErrorResponse(ctx, stars.status());
                 if (!*stars) return ErrorResponse(ctx, Status::InvalidArgument("stars is required"));
                 if (**stars < 0 || **stars > 5) return ErrorResponse(ctx, Status::InvalidArgument("stars must be 0..5"));
                 auto rated = chat->Rate(ctx.user_id, id, mid, static_cast<int>(**stars));
                 if (rated.ok()) engage(ctx, id, static_cast<int>(**stars));
                 return message_answer(ctx, rated);
               })});
  r.push_back({.method = V::patch, .pattern = "/api/conversations/{id}/messages/{mid}", .body = BodyKind::kJson,
               .handler = message_op([chat, message_answer](RequestContext& ctx, Id id, Id mid) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto content = GetString(*body, "content");
                 if (!content.ok()) return ErrorResponse(ctx, content.status());
                 if (!*content) return ErrorResponse(ctx, Status::InvalidArgument("content is required"));
                 return message_answer(ctx, chat->Edit(ctx.user_id, id, mid, **content));
               })});
  r.push_back({.method = V::delete_, .pattern = "/api/conversations/{id}/messages/{mid}",
               .handler = message_op([chat](RequestContext& ctx, Id id, Id mid) -> HandlerResult {
                 Status st = chat->Delete(ctx.user_id, id, mid);
                 if (!st.ok()) return ErrorResponse(ctx, st);
                 return EmptyResponse(ctx, http::status::no_content);
               })});
  r.push_back({.method = V::post, .pattern = "/api/conversations/{id}/stop",
               .handler = conv_op([chat](RequestContext& ctx, Id id) -> HandlerResult {
                 auto stopped = chat->Stop(ctx.user_id, id);
                 if (!stopped.ok()) return ErrorResponse(ctx, stopped.status());
                 return JsonResponse(ctx, http::status::ok, Json{{"stopped", *stopped}});
               })});
  r.push_back({.method = V::get, .pattern = "/api/events",
               .handler = [events](RequestContext& ctx) -> HandlerResult {
                 StreamPlan plan;
                 plan.source = UserEventSource(events, ctx.user_id);
                 plan.after_seq = LastEventId(ctx.req);
                 plan.preface = ": connected\nretry: 2000\n\n";
                 return plan;
               }});
}

}  // namespace tokki::api
