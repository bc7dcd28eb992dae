#include "api/route_util.h"

#include <charconv>
#include <cmath>

namespace tokki::api {

Result<Id> IdParam(const RequestContext& ctx, const std::string& name) {
  auto it = ctx.params.find(name);
  if (it == ctx.params.end()) return Status::NotFound("no such id");
  return ParseId(it->second);
}

namespace {
bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}
}  // namespace

Result<int64_t> IntQuery(const RequestContext& ctx, const std::string& key, int64_t dflt, int64_t min,
                         int64_t max) {
  auto it = ctx.query.find(key);
  if (it == ctx.query.end() || it->second.empty()) return dflt;
  int64_t v = 0;
  if (!ParseInt(it->second, &v) || v < min || v > max)
    return Status::InvalidArgument(key + " must be a whole number from " + std::to_string(min) + " to " +
                                   std::to_string(max));
  return v;
}

namespace {

Status Range(const char* name, double v, double lo, double hi) {
  if (!std::isfinite(v) || v < lo || v > hi) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "generation.%s must be from %g to %g", name, lo, hi);
    return Status::InvalidArgument(buf);
  }
  return Status::Ok();
}

}  // namespace

Result<engine::SamplingParams> ParseGeneration(const Json& body, int default_max_tokens) {
  engine::SamplingParams p;
  p.max_tokens = default_max_tokens;
  auto it = body.find("generation");
  if (it == body.end() || it->is_null()) return p;
  if (!it->is_object()) return Status::InvalidArgument("generation must be an object");
  const Json& g = *it;
  static const char* kKnown[] = {"max_tokens", "temperature", "top_p", "min_p", "top_k", "repeat_penalty",
                                 "repeat_last_n", "dry_multiplier", "dry_base", "dry_allowed_length",
                                 "seed", "ignore_eos", "stop"};
  for (auto& [key, value] : g.items()) {
    bool known = false;
    for (const char* k : kKnown) known = known || key == k;
    if (!known) return Status::InvalidArgument("generation." + key + " is not a known parameter");
  }
  auto number = [&](const char* key, double lo, double hi, float* out) -> Status {
    TOKKI_ASSIGN_OR_RETURN(auto v, GetNumber(g, key));
    if (!v) return Status::Ok();
    TOKKI_RETURN_IF_ERROR(Range(key, *v, lo, hi));
    *out = static_cast<float>(*v);
    return Status::Ok();
  };
  auto integer = [&](const char* key, int64_t lo, int64_t hi, int* out) -> Status {
    TOKKI_ASSIGN_OR_RETURN(auto v, GetInt(g, key));
    if (!v) return Status::Ok();
    TOKKI_RETURN_IF_ERROR(Range(key, static_cast<double>(*v), static_cast<double>(lo), static_cast<double>(hi)));
    *out = static_cast<int>(*v);
    return Status::Ok();
  };
  TOKKI_RETURN_IF_ERROR(integer("max_tokens", 1, 8192, &p.max_tokens));
  TOKKI_RETURN_IF_ERROR(number("temperature", 0, 5, &p.temperature));
  TOKKI_RETURN_IF_ERROR(number("top_p", 0.001, 1, &p.top_p));
  TOKKI_RETURN_IF_ERROR(number("min_p", 0, 1, &p.min_p));
  TOKKI_RETURN_IF_ERROR(integer("top_k", 0, 1000, &p.top_k));
  TOKKI_RETURN_IF_ERROR(number("repeat_penalty", 0.5, 2.5, &p.repeat_penalty));
  TOKKI_RETURN_IF_ERROR(integer("repeat_last_n", 0, 4096, &p.repeat_last_n));
  TOKKI_RETURN_IF_ERROR(number("dry_multiplier", 0, 5, &p.dry_multiplier));
  TOKKI_RETURN_IF_ERROR(number("dry_base", 1, 4, &p.dry_base));
  TOKKI_RETURN_IF_ERROR(integer("dry_allowed_length", 1, 64, &p.dry_allowed_length));
  TOKKI_ASSIGN_OR_RETURN(auto seed, GetInt(g, "seed"));
  if (seed) {
    if (*seed < 0 || *seed > 0xFFFFFFFFLL) return Status::InvalidArgument("generation.seed must be from 0 to 4294967295");
    p.seed = static_cast<uint32_t>(*seed);
  }
  TOKKI_ASSIGN_OR_RETURN(auto ignore_eos, GetBool(g, "ignore_eos"));
  if (ignore_eos) p.ignore_eos = *ignore_eos;
  TOKKI_ASSIGN_OR_RETURN(auto stop, GetStringList(g, "stop"));
  if (stop) {
    if (stop->size() > 8) return Status::InvalidArgument("generation.stop takes at most 8 strings");
    for (auto& s : *stop)
      if (s.empty() || s.size() > 64) return Status::InvalidArgument("generation.stop strings must be 1 to 64 bytes");
    p.stop = std::move(*stop);
  }
  return p;
}

Result<engine::SamplingParams> ParseOptionalGeneration(const RequestContext& ctx, int default_max_tokens) {
  if (ctx.req.body().empty()) return ParseGeneration(Json::object(), default_max_tokens);
  TOKKI_ASSIGN_OR_RETURN(Json body, ParseJsonBody(ctx));
  return ParseGeneration(body, default_max_tokens);
}

int64_t LastEventId(const Request& req) {
  int64_t v = 0;
  return ParseInt(std::string_view(req["Last-Event-ID"]), &v) && v > 0 ? v : 0;
}

Response BinaryResponse(const RequestContext& ctx, std::string mime, std::string bytes,
                        std::string cache_control) {
  Response res{http::status::ok, ctx.req.version()};
  res.keep_alive(ctx.req.keep_alive());
  res.set(http::field::server, "tokki");
  res.set(http::field::content_type, mime);
  res.set(http::field::cache_control, cache_control);
  ApplySecurityHeaders(res);
  res.body() = std::move(bytes);
  res.prepare_payload();
  return res;
}

}  // namespace tokki::api
