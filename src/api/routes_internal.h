// tokki/api/routes_internal.h — route groups defined in their own files.
#pragma once

#include <memory>
#include <vector>

#include "api/response_cache.h"
#include "api/server.h"
#include "discover/deck.h"

namespace tokki::api {

// Deck: /api/deck, /api/deck/swipes, /api/deck/undo (routes_deck.cc). Adds nothing when
// the services have no deck.
void AddDeckRoutes(std::vector<Route>& routes, const Services& services);
// Card import and export (routes_cards.cc). Imports invalidate `list_cache`.
void AddCardRoutes(std::vector<Route>& routes, const Services& services,
                   std::shared_ptr<ResponseCache> list_cache);

}  // namespace tokki::api
