// Deck routes: GET /api/deck, POST /api/deck/swipes, POST /api/deck/undo.
// The store records every swipe (one per user and character — a second device's swipe of
// the same card is a 409, never a lost or doubled swipe); the Deck ranks what comes next.
#include "api/codec.h"
#include "api/route_util.h"
#include "api/routes.h"
#include "chat/character_rules.h"
#include "core/clock.h"
#include "core/text.h"
#include "discover/deck.h"

namespace tokki::api {

namespace {

Result<store::SwipeAction> ParseAction(const std::string& s) {
  if (s == "pass") return store::SwipeAction::kPass;
  if (s == "like") return store::SwipeAction::kLike;
  if (s == "superlike") return store::SwipeAction::kSuperlike;
  return Status::InvalidArgument("action must be pass, like or superlike");
}

std::string_view ActionName(store::SwipeAction a) {
  switch (a) {
    case store::SwipeAction::kPass: return "pass";
    case store::SwipeAction::kLike: return "like";
    case store::SwipeAction::kSuperlike: return "superlike";
  }
  return "pass";
}

}  // namespace

void AddDeckRoutes(std::vector<Route>& r, const Services& s) {
  using V = http::verb;
  store::Store* store = s.store;
  chat::ChatService* chat = s.chat;
  chat::CharacterService* characters = s.characters;
  chat::ModerationService* moderation = s.moderation;
  discover::Deck* deck = s.deck;
  if (!deck) return;

  r.push_back({.method = V::get, .pattern = "/api/deck",
               .handler = [store, characters, moderation, deck](RequestContext& ctx) -> HandlerResult {
                 auto limit = IntQuery(ctx, "limit", 10, 1, 50);
                 if (!limit.ok()) return ErrorResponse(ctx, limit.status());
                 discover::DeckFilter filter;
                 filter.languages = SplitTrimmed(ctx.Query("lang"), ',');
                 filter.tags = SplitTrimmed(ctx.Query("tag"), ',');
                 filter.include_real_people = ctx.Query("real_people", "1") != "0";
                 filter.include_mature =
                     ctx.Query("mature") == "1" && moderation->MaySeeMature(ctx.user_id);
                 auto ids = deck->Next(ctx.user_id, static_cast<size_t>(*limit), filter);
                 Json cards = Json::array();
                 for (Id id : ids) {
                   auto c = characters->Get(ctx.user_id, store::Role::kUser, id);
                   if (c.ok()) cards.push_back(CharacterJson(*c, ctx.user_id));
                 }
                 return JsonResponse(ctx, http::status::ok, Json{{"cards", std::move(cards)}});
               }});

  r.push_back({.method = V::post, .pattern = "/api/deck/swipes", .body = BodyKind::kJson,
               .handler = [store, chat, characters, deck](RequestContext& ctx) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto cid = GetInt(*body, "character_id");
                 auto action_s = GetString(*body, "action");
                 if (!cid.ok()) return ErrorResponse(ctx, cid.status());
                 if (!action_s.ok()) return ErrorResponse(ctx, action_s.status());
                 if (!*cid || !*action_s)
                   return ErrorResponse(ctx, Status::InvalidArgument("character_id and action are required"));
                 auto action = ParseAction(**action_s);
                 if (!action.ok()) return ErrorResponse(ctx, action.status());
                 auto c = characters->Get(ctx.user_id, store::Role::kUser, **cid);
                 if (!c.ok()) return ErrorResponse(ctx, c.status());
                 if (c->owner_id == ctx.user_id)
                   return ErrorResponse(ctx, Status::InvalidArgument("you cannot swipe your own character"));
                 store::Swipe sw;
                 sw.user_id = ctx.user_id;
                 sw.character_id = c->id;
                 sw.action = *action;
                 auto saved = store->RecordSwipe(sw);
                 if (saved.status().code() == Status::Code::kAlreadyExists)
                   return ErrorResponse(ctx, Status::Conflict("this character was already swiped"));
                 if (!saved.ok()) return ErrorResponse(ctx, saved.status());
                 deck->RecordSwipe(ctx.user_id, c->id, discover::FeedbackFromSwipe(*action), saved->created_at_ms);
                 Json out{{"action", ActionName(*action)}, {"character_id", c->id},
                          {"conversation_id", nullptr}};
                 if (*action != store::SwipeAction::kPass) {
                   auto conv = chat->FindOrStartConversation(ctx.user_id, c->id);
                   if (!conv.ok()) return ErrorResponse(ctx, conv.status());
                   out["conversation_id"] = conv->id;
                   Json cj{{"id", conv->id}, {"character_id", c->id},
                           {"character", CharacterSummaryJson(*c)}, {"created_at", conv->created_at_ms},
                           {"updated_at", conv->updated_at_ms}};
                   Json msgs = Json::array();
                   auto path = chat->Path(ctx.user_id, conv->id);
                   if (path.ok())
                     for (auto& p : *path) msgs.push_back(MessageJson(p.message, p.alternatives));
                   cj["last_message"] = msgs.empty() ? Json(nullptr) : msgs.back();
                   cj["messages"] = std::move(msgs);
                   out["conversation"] = std::move(cj);
                 }
                 return JsonResponse(ctx, http::status::created, out);
               }});

  r.push_back({.method = V::post, .pattern = "/api/deck/undo",
               .handler = [store, characters, deck](RequestContext& ctx) -> HandlerResult {
                 auto last = store->LastSwipe(ctx.user_id);
                 if (!last.ok()) return ErrorResponse(ctx, last.status());
                 if (!*last) return ErrorResponse(ctx, Status::Conflict("there is no swipe to undo"));
                 if ((*last)->action != store::SwipeAction::kPass)
                   return ErrorResponse(ctx, Status::Conflict("only the last pass can be undone; a friend stays a friend"));
                 Status st = store->UndoSwipe((*last)->id);
                 if (!st.ok()) return ErrorResponse(ctx, st);
                 deck->UndoSwipe(ctx.user_id, (*last)->character_id);
                 Json out{{"character_id", (*last)->character_id}};
                 auto c = characters->Get(ctx.user_id, store::Role::kUser, (*last)->character_id);
                 if (c.ok()) out["character"] = CharacterJson(*c, ctx.user_id);
                 return JsonResponse(ctx, http::status::ok, out);
               }});
}

}  // namespace tokki::api
