// See openai_http.h.
#include "engine/openai_http.h"

#include <curl/curl.h>

#include <mutex>  // std::call_once
#include <nlohmann/json.hpp>

namespace tokki::engine {
namespace {

struct Sink {
  std::string body;
  size_t max_bytes = 0;
  bool overflow = false;
};

size_t OnBody(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * nmemb;
  if (sink->body.size() + n > sink->max_bytes) {
    sink->overflow = true;
    return 0;  // aborts the transfer
  }
  sink->body.append(ptr, n);
  return n;
}

}  // namespace

Status NormalizeBaseUrls(std::vector<std::string>& urls) {
  if (urls.empty()) return Status::InvalidArgument("no backend URL");
  for (std::string& url : urls) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (url.size() >= 3 && url.compare(url.size() - 3, 3, "/v1") == 0) url.resize(url.size() - 3);
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      return Status::InvalidArgument("backend URL must start with http:// or https://: " + url);
    }
  }
  return Status::Ok();
}

void CurlGlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool CurlUnreachable(int curl_code) {
  const auto rc = static_cast<CURLcode>(curl_code);
  return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
         rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
         rc == CURLE_GOT_NOTHING;
}

std::string BackendErrorMessage(std::string_view body) {
  const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded() && j.is_object() && j.contains("error")) {
    const auto& e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string())
      return e["message"].get<std::string>();
    if (e.is_string()) return e.get<std::string>();
  }
  return std::string(body.substr(0, 500));
}

Result<HttpReply> PostJson(const std::string& url, const std::string& body,
                           const PostOptions& options, bool* unreachable) {
  if (unreachable) *unreachable = false;
  CurlGlobalInitOnce();
  CURL* curl = curl_easy_init();
  if (!curl) return Status::Internal("curl_easy_init failed");
  Sink sink;
  sink.max_bytes = options.max_body_bytes;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  std::string auth;
  if (!options.api_key.empty()) {
    auth = "Authorization: Bearer " + options.api_key;
    headers = curl_slist_append(headers, auth.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  const CURLcode rc = curl_easy_perform(curl);
  HttpReply reply;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (sink.overflow) {
    return Status::Unavailable(url + " answered more than " +
                               std::to_string(options.max_body_bytes >> 20) + " MiB");
  }
  if (rc != CURLE_OK) {
    if (unreachable) *unreachable = CurlUnreachable(rc);
    return Status::Unavailable(url + ": " + curl_easy_strerror(rc));
  }
  reply.body = std::move(sink.body);
  return reply;
}

}  // namespace tokki::engine
