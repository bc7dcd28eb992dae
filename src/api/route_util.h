// tokki/api/route_util.h — small parsing helpers every route group shares: ids from the
// path, integers from the query, generation parameters, Last-Event-ID.
#pragma once

#include <string>

#include "api/http.h"
#include "api/route.h"
#include "engine/engine.h"

namespace tokki::api {

// The path parameter `name` as an id (NotFound when it is not one).
Result<Id> IdParam(const RequestContext& ctx, const std::string& name);
// The query parameter `key` as an integer in [min, max], `dflt` when absent.
Result<int64_t> IntQuery(const RequestContext& ctx, const std::string& key, int64_t dflt, int64_t min,
                         int64_t max);
// {"generation": {...}} of a request body, every field range-checked.
Result<engine::SamplingParams> ParseGeneration(const Json& body, int default_max_tokens);
// The same for bodies that may be empty.
Result<engine::SamplingParams> ParseOptionalGeneration(const RequestContext& ctx, int default_max_tokens);
// The Last-Event-ID header (0 when absent or not a number).
int64_t LastEventId(const Request& req);
// A handler for routes under /api/conversations/{id}: calls fn(ctx, id), or answers the
// error of a malformed id.
template <typename Fn>
auto WithConversationId(Fn fn) {
  return [fn](RequestContext& ctx) -> HandlerResult {
    auto id = IdParam(ctx, "id");
    if (!id.ok()) return ErrorResponse(ctx, id.status());
    return fn(ctx, *id);
  };
}
// The same for routes with a second id `second` (e.g. {mid}): fn(ctx, id, second_id); a
// malformed id is NotFound("<what> not found").
template <typename Fn>
auto WithTwoIds(const char* second, const char* what, Fn fn) {
  return [fn, second, what](RequestContext& ctx) -> HandlerResult {
    auto id = IdParam(ctx, "id");
    auto other = IdParam(ctx, second);
    if (!id.ok() || !other.ok()) return ErrorResponse(ctx, Status::NotFound(std::string(what) + " not found"));
    return fn(ctx, *id, *other);
  };
}
// A binary answer (images, card files).
Response BinaryResponse(const RequestContext& ctx, std::string mime, std::string bytes,
                        std::string cache_control);

}  // namespace tokki::api
