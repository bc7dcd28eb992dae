// tokki/api/http.h — request context, responses and the one Status -> HTTP mapping.
//
// Thread safety: plain values.
#pragma once

#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/status.h"
#include "core/types.h"
#include "store/records.h"

namespace tokki::api {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
using Json = nlohmann::json;

struct RequestContext {
  const Request& req;
  std::string path;                          // without the query string
  std::map<std::string, std::string> query;  // decoded
  std::map<std::string, std::string> params; // from the route pattern, e.g. {id}
  std::string route;                         // the pattern, for metrics
  std::string remote_ip;  // the client's address (through trusted proxies)
  uint64_t request_id = 0;
  Id user_id = kNoId;  // the signed-in user, kNoId when anonymous
  store::Role role = store::Role::kUser;
  bool cookie_auth = false;  // authenticated by the session cookie (not a bearer token)
  bool secure = false;       // the client reached us over HTTPS (directly or via a trusted proxy)

  // Query parameter or default.
  std::string Query(const std::string& key, const std::string& dflt = "") const {
    auto it = query.find(key);
    return it == query.end() ? dflt : it->second;
  }
};

// The HTTP status for a Status code. The one place this mapping lives.
http::status HttpStatusFor(Status::Code code);

Response JsonResponse(const RequestContext& ctx, http::status status, const Json& body);
Response ErrorResponse(const RequestContext& ctx, const Status& status);
Response ErrorResponse(const Request& req, http::status status, std::string_view code,
                       std::string_view message);
Response EmptyResponse(const RequestContext& ctx, http::status status);

// The session token of a request: the bearer token, else the `tokki_session` cookie
// (then *from_cookie is set). "" when there is none.
std::string SessionToken(const Request& req, bool* from_cookie = nullptr);
// Sets (or, with an empty token, clears) the session cookie. `secure` adds the Secure flag.
void SetSessionCookie(Response& res, const std::string& token, int64_t max_age_s, bool secure);
// The security headers every response carries (nosniff, framing, referrer, a CSP for
// responses that did not set their own).
void ApplySecurityHeaders(Response& res);

// Does the client ask for a server-sent event stream (Accept: text/event-stream)?
bool WantsEventStream(const Request& req);

// Parses the body as a JSON object. Errors: invalid UTF-8, malformed JSON, not an object.
Result<Json> ParseJsonBody(const RequestContext& ctx);

// Decodes %XX and '+' in a query component.
std::string UrlDecode(std::string_view s);
std::map<std::string, std::string> ParseQuery(std::string_view qs);

// Reads a typed field of a JSON object (absent → nullopt; wrong type → error).
Result<std::optional<std::string>> GetString(const Json& j, const char* key);
Result<std::optional<int64_t>> GetInt(const Json& j, const char* key);
Result<std::optional<double>> GetNumber(const Json& j, const char* key);
Result<std::optional<bool>> GetBool(const Json& j, const char* key);
Result<std::optional<std::vector<std::string>>> GetStringList(const Json& j, const char* key);

// Parses a decimal id from a path parameter (NotFound when it is not one).
Result<Id> ParseId(const std::string& s);

}  // namespace tokki::api
