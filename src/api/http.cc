#include "api/http.h"

#include "core/text.h"

namespace tokki::api {

http::status HttpStatusFor(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return http::status::ok;
    case Status::Code::kInvalidArgument: return http::status::bad_request;
    case Status::Code::kUnauthenticated: return http::status::unauthorized;
    case Status::Code::kPermissionDenied: return http::status::forbidden;
    case Status::Code::kNotFound: return http::status::not_found;
    case Status::Code::kAlreadyExists: return http::status::conflict;
    case Status::Code::kConflict: return http::status::conflict;
    case Status::Code::kTooLarge: return http::status::payload_too_large;
    case Status::Code::kResourceExhausted: return http::status::too_many_requests;
    case Status::Code::kUnavailable: return http::status::service_unavailable;
    case Status::Code::kCancelled: return http::status::conflict;
    case Status::Code::kCorruption: return http::status::internal_server_error;
    case Status::Code::kInternal: return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

namespace {
void CommonHeaders(Response& res, const Request& req) {
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  res.set(http::field::server, "tokki");
  res.set(http::field::cache_control, "no-store");
  ApplySecurityHeaders(res);
}
constexpr const char* kCookieName = "tokki_session";
}  // namespace

bool WantsEventStream(const Request& req) {
  auto accept = req[http::field::accept];
  return std::string_view(accept.data(), accept.size()).find("text/event-stream") !=
         std::string_view::npos;
}

void ApplySecurityHeaders(Response& res) {
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "strict-origin-when-cross-origin");
  if (res.find("Content-Security-Policy") == res.end())
    res.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox");
}

std::string SessionToken(const Request& req, bool* from_cookie) {
  if (from_cookie) *from_cookie = false;
  auto auth = std::string_view(req[http::field::authorization]);
  if (auth.size() > 7 && (auth.substr(0, 7) == "Bearer " || auth.substr(0, 7) == "bearer "))
    return std::string(Trim(auth.substr(7)));
  auto c = std::string_view(req[http::field::cookie]);
  size_t pos = 0;
  const std::string prefix = std::string(kCookieName) + "=";
  while (pos < c.size()) {
    while (pos < c.size() && (c[pos] == ' ' || c[pos] == ';')) ++pos;
    size_t end = c.find(';', pos);
    if (end == std::string_view::npos) end = c.size();
    auto kv = c.substr(pos, end - pos);
    if (kv.substr(0, prefix.size()) == prefix) {
      if (from_cookie) *from_cookie = true;
      return std::string(kv.substr(prefix.size()));
    }
    pos = end + 1;
  }
  return "";
}

void SetSessionCookie(Response& res, const std::string& token, int64_t max_age_s, bool secure) {
  res.set(http::field::set_cookie, std::string(kCookieName) + "=" + token +
                                       "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" +
                                       std::to_string(max_age_s) + (secure ? "; Secure" : ""));
}

Response JsonResponse(const RequestContext& ctx, http::status status, const Json& body) {
  Response res{status, ctx.req.version()};
  CommonHeaders(res, ctx.req);
  res.set(http::field::content_type, "application/json; charset=utf-8");
  res.body() = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

Response ErrorResponse(const Request& req, http::status status, std::string_view code,
                       std::string_view message) {
  Response res{status, req.version()};
  CommonHeaders(res, req);
  res.set(http::field::content_type, "application/json; charset=utf-8");
  Json body = {{"error", {{"code", code}, {"message", message}}}};
  res.body() = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (status == http::status::service_unavailable || status == http::status::too_many_requests)
    res.set(http::field::retry_after, "2");
  res.prepare_payload();
  return res;
}

Response ErrorResponse(const RequestContext& ctx, const Status& status) {
  Response res = ErrorResponse(ctx.req, HttpStatusFor(status.code()), CodeName(status.code()),
                               status.message());
  if (status.retry_after_s() > 0) res.set(http::field::retry_after, std::to_string(status.retry_after_s()));
  return res;
}

Response EmptyResponse(const RequestContext& ctx, http::status status) {
  Response res{status, ctx.req.version()};
  CommonHeaders(res, ctx.req);
  res.prepare_payload();
  return res;
}

namespace {
// True when any string (or key) in `j` holds a NUL character: no name or text may.
bool HasNul(const Json& j) {
  if (j.is_string()) return j.get_ref<const std::string&>().find('\0') != std::string::npos;
  if (j.is_array()) {
    for (auto& e : j)
      if (HasNul(e)) return true;
  } else if (j.is_object()) {
    for (auto& [k, v] : j.items())
      if (k.find('\0') != std::string::npos || HasNul(v)) return true;
  }
  return false;
}
}  // namespace

Result<Json> ParseJsonBody(const RequestContext& ctx) {
  const std::string& body = ctx.req.body();
  if (!IsValidUtf8(body)) return Status::InvalidArgument("the body is not valid UTF-8");
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("the body is not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("the body must be a JSON object");
  if (HasNul(j)) return Status::InvalidArgument("text must not contain NUL characters");
  return j;
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < s.size()) {
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) {
        out += c;
        continue;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view qs) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < qs.size()) {
    size_t amp = qs.find('&', start);
    if (amp == std::string_view::npos) amp = qs.size();
    auto part = qs.substr(start, amp - start);
    size_t eq = part.find('=');
    if (!part.empty()) {
      if (eq == std::string_view::npos) out[UrlDecode(part)] = "";
      else out[UrlDecode(part.substr(0, eq))] = UrlDecode(part.substr(eq + 1));
    }
    start = amp + 1;
  }
  return out;
}

Result<std::optional<std::string>> GetString(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return Status::InvalidArgument(std::string(key) + " must be a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::optional<int64_t>> GetInt(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer()) return Status::InvalidArgument(std::string(key) + " must be an integer");
  return std::optional<int64_t>(it->get<int64_t>());
}

Result<std::optional<double>> GetNumber(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<double>();
  if (!it->is_number()) return Status::InvalidArgument(std::string(key) + " must be a number");
  return std::optional<double>(it->get<double>());
}

Result<std::optional<bool>> GetBool(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) return Status::InvalidArgument(std::string(key) + " must be true or false");
  return std::optional<bool>(it->get<bool>());
}

Result<std::optional<std::vector<std::string>>> GetStringList(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<std::vector<std::string>>();
  if (!it->is_array()) return Status::InvalidArgument(std::string(key) + " must be a list of strings");
  std::vector<std::string> out;
  for (auto& e : *it) {
    if (!e.is_string()) return Status::InvalidArgument(std::string(key) + " must be a list of strings");
    out.push_back(e.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<Id> ParseId(const std::string& s) {
  if (s.empty() || s.size() > 18) return Status::NotFound("no such id: " + s);
  Id v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return Status::NotFound("no such id: " + s);
    v = v * 10 + (c - '0');
  }
  if (v <= 0) return Status::NotFound("no such id: " + s);
  return v;
}

}  // namespace tokki::api
