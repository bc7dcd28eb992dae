// tokki/api/routes.h — the API's route tables (one file per resource, routes_*.cc) and
// what they are built from. Handlers parse JSON into plain values, call one service and
// encode the result with the codec; errors go through ErrorResponse (the one Status ->
// HTTP mapping in http.cc). Rules (who may see or change what, quotas, limits) live in
// the services, never here.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/auth.h"
#include "api/metrics.h"
#include "api/route.h"
#include "chat/account_service.h"
#include "chat/character_service.h"
#include "chat/chat_service.h"
#include "chat/draft_service.h"
#include "chat/memory_service.h"
#include "chat/moderation_service.h"
#include "chat/user_events.h"
#include "engine/engine.h"
#include "store/store.h"

namespace tokki::discover {
class Deck;
}

namespace tokki::api {

// Everything the routes use; owned by the app, outliving the server.
struct Services {
  store::Store* store = nullptr;  // operations figures only (timings)
  chat::ChatService* chat = nullptr;
  chat::CharacterService* characters = nullptr;
  chat::DraftService* drafts = nullptr;
  chat::MemoryService* memory = nullptr;
  chat::ModerationService* moderation = nullptr;
  chat::AccountService* accounts = nullptr;
  chat::UserEvents* events = nullptr;
  engine::Engine* engine = nullptr;  // may be null
  discover::Deck* deck = nullptr;    // may be null
  Auth* auth = nullptr;
  Metrics* metrics = nullptr;
  // Engagement signal for the deck: a message sent or a reply rated (may be empty).
  std::function<void(Id user_id, Id character_id, int n_messages, int rating)> on_engagement;
  // Extra Prometheus text appended to /metrics (engine, store, deck figures).
  std::function<std::string()> extra_metrics;
  std::string version = "0.1.0";
};

// Every route of the public API. /metrics and the server's details need an admin here;
// serve them without sign-in only on a separate listener (MakeOpsRoutes, --admin-listen).
std::vector<Route> MakeRoutes(const Services& services);
// /healthz, /metrics and /api/server with `access` (kPublic for an admin listener).
std::vector<Route> MakeOpsRoutes(const Services& services, Access access);
// Session tokens through Auth.
Authenticator MakeAuthenticator(Auth* auth);

// Route groups (routes_*.cc).
void AddAccountRoutes(std::vector<Route>& r, const Services& s);
void AddCharacterRoutes(std::vector<Route>& r, const Services& s);
void AddConversationRoutes(std::vector<Route>& r, const Services& s);
void AddMemoryRoutes(std::vector<Route>& r, const Services& s);  // routes_memory.cc
void AddCardRoutes(std::vector<Route>& r, const Services& s);
void AddDeckRoutes(std::vector<Route>& r, const Services& s);
void AddModerationRoutes(std::vector<Route>& r, const Services& s);

}  // namespace tokki::api
