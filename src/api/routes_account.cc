// Accounts: POST /api/auth/register, /api/auth/login, /api/auth/logout; GET, PATCH and
// DELETE /api/me. Password hashing runs on its own pool (Work::kHashing).
#include "api/codec.h"
#include "api/routes.h"
#include "core/text.h"

namespace tokki::api {

namespace {

constexpr int64_t kSessionMaxAgeS = 30LL * 24 * 3600;

Result<std::pair<std::string, std::string>> Credentials(RequestContext& ctx) {
  TOKKI_ASSIGN_OR_RETURN(Json body, ParseJsonBody(ctx));
  TOKKI_ASSIGN_OR_RETURN(auto user, GetString(body, "username"));
  TOKKI_ASSIGN_OR_RETURN(auto pass, GetString(body, "password"));
  if (!user || !pass) return Status::InvalidArgument("username and password are required");
  return std::make_pair(*user, *pass);
}

Response SessionAnswer(RequestContext& ctx, const LoginResult& lr, http::status status) {
  Json body{{"user", UserJson(lr.user)}, {"token", lr.token}};
  Response res = JsonResponse(ctx, status, body);
  SetSessionCookie(res, lr.token, kSessionMaxAgeS, ctx.secure);
  return res;
}

}  // namespace

void AddAccountRoutes(std::vector<Route>& r, const Services& s) {
  using V = http::verb;
  Auth* auth = s.auth;
  store::Store* store = s.store;
  chat::AccountService* accounts = s.accounts;

  r.push_back({.method = V::post, .pattern = "/api/auth/register", .access = Access::kPublic,
               .body = BodyKind::kJson, .work = Work::kHashing,
               .handler = [auth](RequestContext& ctx) -> HandlerResult {
                 auto c = Credentials(ctx);
                 if (!c.ok()) return ErrorResponse(ctx, c.status());
                 auto lr = auth->Register(c->first, c->second, ctx.remote_ip);
                 if (!lr.ok()) return ErrorResponse(ctx, lr.status());
                 return SessionAnswer(ctx, *lr, http::status::created);
               }});
  r.push_back({.method = V::post, .pattern = "/api/auth/login", .access = Access::kPublic,
               .body = BodyKind::kJson, .work = Work::kHashing,
               .handler = [auth](RequestContext& ctx) -> HandlerResult {
                 auto c = Credentials(ctx);
                 if (!c.ok()) return ErrorResponse(ctx, c.status());
                 auto lr = auth->Login(c->first, c->second, ctx.remote_ip);
                 if (!lr.ok()) return ErrorResponse(ctx, lr.status());
                 return SessionAnswer(ctx, *lr, http::status::ok);
               }});
  r.push_back({.method = V::post, .pattern = "/api/auth/logout", .access = Access::kPublic,
               .handler = [auth](RequestContext& ctx) -> HandlerResult {
                 std::string token = SessionToken(ctx.req);
                 if (!token.empty()) static_cast<void>(auth->Logout(token));
                 Response res = JsonResponse(ctx, http::status::ok, Json{{"ok", true}});
                 SetSessionCookie(res, "", 0, ctx.secure);
                 return res;
               }});
  r.push_back({.method = V::get, .pattern = "/api/me",
               .handler = [store](RequestContext& ctx) -> HandlerResult {
                 auto u = store->GetUser(ctx.user_id);
                 if (!u.ok()) return ErrorResponse(ctx, u.status());
                 return JsonResponse(ctx, http::status::ok, Json{{"user", UserJson(*u)}});
               }});
  r.push_back({.method = V::patch, .pattern = "/api/me", .body = BodyKind::kJson,
               .handler = [store](RequestContext& ctx) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto u = store->GetUser(ctx.user_id);
                 if (!u.ok()) return ErrorResponse(ctx, u.status());
                 auto name = GetString(*body, "display_name");
                 auto persona = GetString(*body, "persona");
                 auto adult = GetBool(*body, "adult_confirmed");
                 if (!name.ok()) return ErrorResponse(ctx, name.status());
                 if (!persona.ok()) return ErrorResponse(ctx, persona.status());
                 if (!adult.ok()) return ErrorResponse(ctx, adult.status());
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
                 if (*adult) u->adult_confirmed = **adult;
                 Status st = store->UpdateUser(*u);
                 if (!st.ok()) return ErrorResponse(ctx, st);
                 return JsonResponse(ctx, http::status::ok, Json{{"user", UserJson(*u)}});
               }});
  r.push_back({.method = V::delete_, .pattern = "/api/me", .body = BodyKind::kJson, .work = Work::kHashing,
               .handler = [auth, accounts](RequestContext& ctx) -> HandlerResult {
                 auto body = ParseJsonBody(ctx);
                 if (!body.ok()) return ErrorResponse(ctx, body.status());
                 auto pass = GetString(*body, "password");
                 if (!pass.ok()) return ErrorResponse(ctx, pass.status());
                 if (!*pass) return ErrorResponse(ctx, Status::InvalidArgument("password is required"));
                 Status st = auth->VerifyPassword(ctx.user_id, **pass);
                 if (!st.ok()) return ErrorResponse(ctx, st);
                 st = accounts->DeleteAccount(ctx.user_id);
                 if (!st.ok()) return ErrorResponse(ctx, st);
                 static_cast<void>(auth->RevokeUserSessions(ctx.user_id));
                 Response res = EmptyResponse(ctx, http::status::no_content);
                 SetSessionCookie(res, "", 0, ctx.secure);
                 return res;
               }});
}

}  // namespace tokki::api
