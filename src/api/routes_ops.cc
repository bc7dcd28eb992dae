// Operations: GET /healthz (always public), GET /metrics and GET /api/server. The server
// description has a public part (what the web app needs: version, model name, whether it
// is a demo model, whether embeddings are available, the policy switches) and details for
// admins or the admin listener.
#include "api/routes.h"

namespace tokki::api {

namespace {

std::string MetricsText(const Services& s) {
  std::string body = s.metrics ? s.metrics->Render() : "";
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
  return body;
}

}  // namespace

std::vector<Route> MakeOpsRoutes(const Services& s, Access access) {
  std::vector<Route> r;
  using V = http::verb;
  r.push_back({.method = V::get, .pattern = "/healthz", .access = Access::kPublic,
               .handler = [](RequestContext& ctx) -> HandlerResult {
                 return JsonResponse(ctx, http::status::ok, Json{{"status", "ok"}});
               }});
  r.push_back({.method = V::get, .pattern = "/metrics", .access = access,
               .handler = [s](RequestContext& ctx) -> HandlerResult {
                 Response res{http::status::ok, ctx.req.version()};
                 res.keep_alive(ctx.req.keep_alive());
                 res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
                 res.set(http::field::cache_control, "no-store");
                 res.body() = MetricsText(s);
                 res.prepare_payload();
                 return res;
               }});
  const bool details_public = access == Access::kPublic;
  r.push_back({.method = V::get, .pattern = "/api/server", .access = Access::kPublic,
               .handler = [s, details_public](RequestContext& ctx) -> HandlerResult {
                 Json model = nullptr;
                 const bool details = details_public || ctx.role == store::Role::kAdmin;
                 if (s.engine) {
                   auto info = s.engine->Info();
                   model = Json{{"name", info.name},
                                {"is_generated", info.is_generated},
                                {"embeddings", info.embedding.available}};
                   if (details) {
                     model["backend"] = info.backend;
                     model["n_ctx"] = info.n_ctx;
                     if (info.embedding.available) {
                       const auto& em = info.embedding;
                       model["embedding"] = {{"model", em.model},
                                             {"backend", em.backend},
                                             {"n_dim", em.n_dim},
                                             {"pooling", em.pooling},
                                             {"max_text_tokens", em.max_text_tokens}};
                     }
                   }
                 }
                 auto policy = s.moderation->Policy();
                 Json out{{"version", s.version},
                          {"model", model},
                          {"policy", {{"require_adult_confirmation", policy.require_adult_confirmation}}}};
                 if (details) {
                   auto st = s.chat->Stats();
                   out["details"] = {{"active_generations", st.active_generations},
                                     {"kept_streams", st.kept_streams},
                                     {"replies_total", st.replies_total}};
                 }
                 return JsonResponse(ctx, http::status::ok, out);
               }});
  return r;
}

}  // namespace tokki::api
