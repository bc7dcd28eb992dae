// OpenAI-compatible embedding client. See remote_embedder.h.
#include "engine/remote_embedder.h"

#include <atomic>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/log.h"
#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "engine/openai_http.h"

namespace tokki::engine {
namespace {

using json = nlohmann::json;

}  // namespace

struct RemoteEmbedder::Impl {
  RemoteEmbedderOptions opt;
  std::atomic<int> n_dim{0};  // learned from the first answer

  mutable Mutex mu;
  std::vector<int64_t> down_until_us TOKKI_GUARDED_BY(mu);  // per URL
  size_t next TOKKI_GUARDED_BY(mu) = 0;                     // round robin start

  // The servers to try, in order: those up first (starting at the next in turn), then
  // those marked down (a call is tried everywhere before it fails).
  std::vector<size_t> Order() TOKKI_EXCLUDES(mu) {
    MutexLock lock(&mu);
    const size_t n = opt.base_urls.size();
    const size_t first = next++ % n;
    const int64_t now = NowSteadyUs();
    std::vector<size_t> up, down;
    for (size_t i = 0; i < n; ++i) {
      const size_t idx = (first + i) % n;
      (down_until_us[idx] > now ? down : up).push_back(idx);
    }
    up.insert(up.end(), down.begin(), down.end());
    return up;
  }

  void MarkDown(size_t idx) TOKKI_EXCLUDES(mu) {
    MutexLock lock(&mu);
    down_until_us[idx] = NowSteadyUs() + int64_t{opt.down_backoff_ms} * 1000;
  }

  // The vectors of an OpenAI embeddings answer: {"data": [{"embedding": [...], "index": i}]}.
  Result<Embeddings> Parse(const std::string& url, const std::string& body, size_t n_texts) {
    const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("data") || !j["data"].is_array())
      return Status::Unavailable("embedding server " + url + " answered no \"data\" array");
    const json& data = j["data"];
    if (data.size() != n_texts) {
      return Status::Unavailable("embedding server " + url + " answered " +
                                 std::to_string(data.size()) + " vectors for " +
                                 std::to_string(n_texts) + " texts");
    }
    Embeddings out(n_texts);
    size_t dim = 0;
    for (size_t k = 0; k < data.size(); ++k) {
      const json& item = data[k];
      if (!item.is_object() || !item.contains("embedding") || !item["embedding"].is_array())
        return Status::Unavailable("embedding server " + url + " answered an item without vector");
      size_t idx = k;
      if (item.contains("index") && item["index"].is_number_unsigned())
        idx = item["index"].get<size_t>();
      if (idx >= n_texts || !out[idx].empty())
        return Status::Unavailable("embedding server " + url + " answered a bad index");
      std::vector<float>& v = out[idx];
      v.reserve(item["embedding"].size());
      for (const json& x : item["embedding"]) {
        if (!x.is_number())
          return Status::Unavailable("embedding server " + url + " answered a non-number");
        v.push_back(x.get<float>());
      }
      if (v.empty() || (dim != 0 && v.size() != dim))
        return Status::Unavailable("embedding server " + url + " answered vectors of mixed length");
      dim = v.size();
      NormalizeL2(v);
    }
    int known = 0;
    if (!n_dim.compare_exchange_strong(known, static_cast<int>(dim)) &&
        known != static_cast<int>(dim)) {
      return Status::Conflict("embedding server " + url + " answered " + std::to_string(dim) +
                              "-long vectors, earlier ones were " + std::to_string(known) +
                              " long (another model?)");
    }
    return out;
  }
};

RemoteEmbedder::RemoteEmbedder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RemoteEmbedder::~RemoteEmbedder() = default;

Result<std::unique_ptr<RemoteEmbedder>> RemoteEmbedder::Open(RemoteEmbedderOptions options) {
  TOKKI_RETURN_IF_ERROR(NormalizeBaseUrls(options.base_urls));
  CurlGlobalInitOnce();
  auto impl = std::make_unique<Impl>();
  impl->opt = std::move(options);
  {
    MutexLock lock(&impl->mu);
    impl->down_until_us.assign(impl->opt.base_urls.size(), 0);
  }
  return std::unique_ptr<RemoteEmbedder>(new RemoteEmbedder(std::move(impl)));
}

Result<Embeddings> RemoteEmbedder::Embed(const std::vector<std::string>& texts) {
  TOKKI_RETURN_IF_ERROR(CheckEmbedTexts(texts));
  if (texts.empty()) return Embeddings{};
  Impl& m = *impl_;
  const json request = {{"model", m.opt.model.empty() ? "default" : m.opt.model},
                        {"input", texts},
                        {"encoding_format", "float"}};
  // Invalid UTF-8 becomes U+FFFD rather than an exception.
  const std::string body = request.dump(-1, ' ', false, json::error_handler_t::replace);
  PostOptions post;
  post.api_key = m.opt.api_key;
  post.connect_timeout_ms = m.opt.connect_timeout_ms;
  post.timeout_ms = m.opt.timeout_ms;
  Status last_error = Status::Unavailable("no embedding server configured");
  for (size_t idx : m.Order()) {
    const std::string& base = m.opt.base_urls[idx];
    bool unreachable = false;
    Result<HttpReply> reply = PostJson(base + "/v1/embeddings", body, post, &unreachable);
    if (!reply.ok()) {
      last_error = reply.status().WithContext("embedding server");
      if (unreachable) m.MarkDown(idx);
      TOKKI_LOG(warn, "embedding server failed, trying the next one", "url", base, "error",
                last_error.message());
      continue;
    }
    const long status = reply->status;
    if (status >= 200 && status < 300) return m.Parse(base, reply->body, texts.size());
    const std::string msg = "embedding server " + base + ": HTTP " + std::to_string(status) + ": " +
                            BackendErrorMessage(reply->body);
    if (status >= 500) {  // includes 501: a server that does not embed (llama-server
                          // without --embeddings); another one may
      last_error = Status::Unavailable(msg);
      continue;
    }
    if (status == 429) return Status::ResourceExhausted(msg);
    if (status == 401 || status == 403) return Status::PermissionDenied(msg);
    return Status::InvalidArgument(msg);
  }
  return last_error;
}

EmbeddingInfo RemoteEmbedder::Info() const {
  EmbeddingInfo info;
  info.available = true;
  info.model = impl_->opt.model.empty() ? "remote" : impl_->opt.model;
  info.backend = "openai";
  info.n_dim = impl_->n_dim.load();
  return info;
}

}  // namespace tokki::engine
