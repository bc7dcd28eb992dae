// The route table: every group, then the operations routes (admin-only on the public
// listener). See routes.h.
#include "api/routes.h"

namespace tokki::api {

std::vector<Route> MakeRoutes(const Services& s) {
  std::vector<Route> r = MakeOpsRoutes(s, Access::kAdmin);
  AddAccountRoutes(r, s);
  AddCharacterRoutes(r, s);
  AddCardRoutes(r, s);
  AddConversationRoutes(r, s);
  AddMemoryRoutes(r, s);
  AddDeckRoutes(r, s);
  AddModerationRoutes(r, s);
  return r;
}

Authenticator MakeAuthenticator(Auth* auth) {
  Authenticator a;
  a.cached = [auth](std::string_view token) -> std::optional<Result<Principal>> {
    auto hit = auth->Cached(token);
    if (!hit) return std::nullopt;
    if (!hit->ok()) return Result<Principal>(hit->status());
    return Result<Principal>(Principal{(*hit)->user_id, (*hit)->role});
  };
  a.full = [auth](std::string_view token) -> Result<Principal> {
    TOKKI_ASSIGN_OR_RETURN(SessionInfo info, auth->Authenticate(token));
    return Principal{info.user_id, info.role};
  };
  return a;
}

}  // namespace tokki::api
