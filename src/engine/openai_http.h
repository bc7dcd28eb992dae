// tokki/engine/openai_http.h — what the OpenAI-compatible clients (remote_engine.cc,
// remote_embedder.cc) share: the base URL rule, libcurl set-up, a blocking JSON POST and
// the message of an error answer (internal to src/engine).
//
// Thread safety: plain functions; safe from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace tokki::engine {

// Strips trailing '/' and a trailing "/v1" from each URL ("http://h:8081/v1/" ->
// "http://h:8081"); kInvalidArgument when there is none or one is not http(s).
Status NormalizeBaseUrls(std::vector<std::string>& urls);

// curl_global_init, once per process.
void CurlGlobalInitOnce();

// True for a libcurl result that means the server could not be reached (connect, resolve,
// timeout, send/receive error): the caller may mark it down and try another.
bool CurlUnreachable(int curl_code);

// The "error.message" of an OpenAI-style error body, else the body itself (cut to 500 bytes).
std::string BackendErrorMessage(std::string_view body);

struct HttpReply {
  long status = 0;
  std::string body;
};

struct PostOptions {
  std::string api_key;  // sent as "Authorization: Bearer ..." when set
  int connect_timeout_ms = 3000;
  int timeout_ms = 60000;            // the whole exchange
  size_t max_body_bytes = 64 << 20;  // a longer answer fails
};

// POSTs a JSON body and reads the whole answer, whatever its HTTP status. kUnavailable
// when the server cannot be reached, the exchange fails or times out, or the answer is
// longer than max_body_bytes; `*unreachable` (optional) tells a connection failure apart.
Result<HttpReply> PostJson(const std::string& url, const std::string& body,
                           const PostOptions& options, bool* unreachable = nullptr);

}  // namespace tokki::engine
