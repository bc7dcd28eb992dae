// OpenAI-compatible remote backend. See remote_engine.h.
#include "engine/remote_engine.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/clock.h"
#include "core/log.h"
#include "core/hash.h"
#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "engine/openai_http.h"
#include "engine/sse_parser.h"
#include "engine/text_stream.h"

namespace tokki::engine {
namespace {

using json = nlohmann::json;

constexpr int kVirtualNodes = 64;

// FNV-1a followed by a 64-bit finalizer: similar keys land far apart on the ring.
uint64_t RingHash(std::string_view s) { return Mix64(Fnv1a64(s)); }

class RemoteGeneration : public Generation {
 public:
  void Cancel() override { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  std::atomic<bool> cancelled_{false};
};

// State of one streaming HTTP call.
struct Call {
  RemoteGeneration* gen = nullptr;
  const GenerateCallbacks* cb = nullptr;
  SseParser parser;
  std::string error_body;  // body of a non-2xx answer
  long http_status = 0;
  bool got_token = false;
  bool done = false;
  std::string finish_reason;
  // The client-side view of the text: stop strings hold even when a backend ignores them.
  TextStream text;
  Usage usage;
  int64_t t_submit_us = 0;
  int64_t t_first_us = 0;
  std::string parse_error;
};

size_t OnWrite(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* call = static_cast<Call*>(user);
  const size_t n = size * nmemb;
  if (call->gen->cancelled() || call->text.stopped()) return 0;  // aborts the transfer
  if (call->http_status >= 300) {
    if (call->error_body.size() < 8192) call->error_body.append(ptr, n);
    return n;
  }
  call->parser.Feed(std::string_view(ptr, n), [call](const SseEvent& ev) {
    if (ev.data == "[DONE]") {
      call->done = true;
      return;
    }
    json j = json::parse(ev.data, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      call->parse_error = "bad SSE data from backend";
      return;
    }
    if (j.contains("error")) {
      call->parse_error =
          j["error"].is_object() ? j["error"].value("message", "backend error") : j["error"].dump();
      return;
    }
    if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty()) {
      const json& c = j["choices"][0];
      if (c.contains("delta") && c["delta"].is_object()) {
        const json& d = c["delta"];
        if (d.contains("content") && d["content"].is_string()) {
          const std::string text = call->text.Push(d["content"].get<std::string>());
          if (!text.empty()) {
            if (call->t_first_us == 0) call->t_first_us = NowSteadyUs();
            call->got_token = true;
            if (call->cb->on_token) call->cb->on_token(text);
          }
          if (call->text.stopped()) call->finish_reason = "stop";
        }
      }
      if (c.contains("finish_reason") && c["finish_reason"].is_string()) {
        call->finish_reason = c["finish_reason"].get<std::string>();
      }
    }
    if (j.contains("usage") && j["usage"].is_object()) {
      const json& u = j["usage"];
      call->usage.prompt_tokens = u.value("prompt_tokens", call->usage.prompt_tokens);
      call->usage.completion_tokens = u.value("completion_tokens", call->usage.completion_tokens);
      if (u.contains("prompt_tokens_details") && u["prompt_tokens_details"].is_object()) {
        call->usage.cached_tokens =
            u["prompt_tokens_details"].value("cached_tokens", call->usage.cached_tokens);
      }
    }
    if (j.contains("timings") && j["timings"].is_object()) {
      // llama-server: cache_n prompt tokens were reused, prompt_n were evaluated.
      const json& t = j["timings"];
      if (t.contains("cache_n")) call->usage.cached_tokens = t.value("cache_n", 0);
      if (t.contains("prompt_n") && t.contains("cache_n")) {
        call->usage.prompt_tokens = t.value("prompt_n", 0) + t.value("cache_n", 0);
      }
      if (t.contains("predicted_n")) call->usage.completion_tokens = t.value("predicted_n", 0);
    }
  });
  return n;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const Call* call = static_cast<Call*>(user);
  return call->gen->cancelled() || call->text.stopped() ? 1 : 0;
}

}  // namespace

struct RemoteEngine::Impl {
  RemoteEngineOptions opt;
  std::map<uint64_t, size_t> ring;  // hash -> index into opt.base_urls

  mutable Mutex mu;
  CondVar cv;  // signalled when a generation ends
  int in_flight TOKKI_GUARDED_BY(mu) = 0;
  bool stopping TOKKI_GUARDED_BY(mu) = false;
  std::vector<int64_t> down_until_us TOKKI_GUARDED_BY(mu);  // per URL
  std::vector<std::shared_ptr<RemoteGeneration>> running TOKKI_GUARDED_BY(mu);
  size_t rr TOKKI_GUARDED_BY(mu) = 0;

  std::atomic<int64_t> st_prompt{0}, st_cached{0}, st_decode{0};

  // Candidate servers for a key: ring order, distinct, starting at the key's owner.
  std::vector<size_t> Candidates(std::string_view key) TOKKI_EXCLUDES(mu) {
    std::vector<size_t> order;
    const size_t n = opt.base_urls.size();
    if (key.empty()) {
      MutexLock lock(&mu);
      const size_t first = rr++ % n;
      for (size_t i = 0; i < n; ++i) order.push_back((first + i) % n);
      return order;
    }
    auto it = ring.lower_bound(RingHash(key));
    for (size_t step = 0; step < ring.size() && order.size() < n; ++step) {
      if (it == ring.end()) it = ring.begin();
      if (std::find(order.begin(), order.end(), it->second) == order.end())
        order.push_back(it->second);
      ++it;
    }
    return order;
  }

  std::string BuildBody(const GenerateRequest& r) const {
    json msgs = json::array();
    for (const ChatMessage& m : r.messages)
      msgs.push_back({{"role", m.role}, {"content", m.content}});
    const SamplingParams& s = r.sampling;
    json body = {{"model", opt.model.empty() ? "default" : opt.model},
                 {"messages", msgs},
                 {"stream", true},
                 {"stream_options", {{"include_usage", true}}},
                 {"max_tokens", s.max_tokens},
                 {"temperature", s.temperature},
                 {"top_p", s.top_p},
                 {"min_p", s.min_p},
                 {"top_k", s.top_k},
                 {"cache_prompt", true}};
    if (s.seed != 0xFFFFFFFF) body["seed"] = s.seed;
    if (!s.stop.empty()) body["stop"] = s.stop;
    if (s.repeat_penalty != 1.0f) {
      body["repeat_penalty"] = s.repeat_penalty;
      body["repeat_last_n"] = s.repeat_last_n;
    }
    if (s.dry_multiplier > 0) {
      body["dry_multiplier"] = s.dry_multiplier;
      body["dry_base"] = s.dry_base;
      body["dry_allowed_length"] = s.dry_allowed_length;
    }
    if (s.ignore_eos) body["ignore_eos"] = true;
    if (!s.logit_bias.empty()) {
      json lb = json::object();
      for (const auto& [tok, b] : s.logit_bias) lb[std::to_string(tok)] = b;
      body["logit_bias"] = lb;
    }
    if (r.continue_last) {
      // Continue the last assistant message instead of opening a new turn.
      body["continue_final_message"] = true;
      body["add_generation_prompt"] = false;
    }
    if (!s.json_schema.empty()) {
      // OpenAI structured output; llama-server turns it into a grammar too.
      body["response_format"] = {
          {"type", "json_schema"},
          {"json_schema",
           {{"name", "reply"}, {"schema", json::parse(s.json_schema)}, {"strict", true}}}};
    }
    if (!s.grammar.empty()) body["grammar"] = s.grammar;  // llama-server's GBNF field
    return body.dump();
  }

  // Runs one generation to the end (on its own thread).
  void RunGeneration(GenerateRequest req, GenerateCallbacks cb,
                     std::shared_ptr<RemoteGeneration> gen, int64_t t_submit_us)
      TOKKI_EXCLUDES(mu) {
    const std::string body = BuildBody(req);
    Status last_error = Status::Unavailable("no backend server configured");
    bool reported = false;
    for (size_t idx : Candidates(req.conversation_key)) {
      {
        MutexLock lock(&mu);
        if (down_until_us[idx] > NowSteadyUs()) {
          last_error = Status::Unavailable("backend " + opt.base_urls[idx] + " is down");
          continue;
        }
      }
      Call call;
      call.text = TextStream(req.sampling.stop);
      call.gen = gen.get();
      call.cb = &cb;
      call.t_submit_us = t_submit_us;
      CURL* curl = curl_easy_init();
      if (!curl) {
        last_error = Status::Internal("curl_easy_init failed");
        break;
      }
      const std::string url = opt.base_urls[idx] + "/v1/chat/completions";
      curl_slist* headers = nullptr;
      headers = curl_slist_append(headers, "Content-Type: application/json");
      headers = curl_slist_append(headers, "Accept: text/event-stream");
      std::string auth;
      if (!opt.api_key.empty()) {
        auth = "Authorization: Bearer " + opt.api_key;
        headers = curl_slist_append(headers, auth.c_str());
      }
      curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
      curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
      curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opt.connect_timeout_ms));
      curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
      curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnWrite);
      curl_easy_setopt(curl, CURLOPT_WRITEDATA, &call);
      curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
      curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &call);
      // Read the status as soon as headers are in, before the body callback runs.
      curl_easy_setopt(curl, CURLOPT_HEADERDATA, &call);
      curl_easy_setopt(
          curl, CURLOPT_HEADERFUNCTION, +[](char* p, size_t s, size_t n, void* u) {
            auto* c = static_cast<Call*>(u);
            std::string_view line(p, s * n);
            if (line.rfind("HTTP/", 0) == 0) {
              const size_t sp = line.find(' ');
              if (sp != std::string_view::npos)
                c->http_status = std::atol(std::string(line.substr(sp + 1, 3)).c_str());
            }
            return s * n;
          });
      const CURLcode rc = curl_easy_perform(curl);
      long status = 0;
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
      curl_slist_free_all(headers);
      curl_easy_cleanup(curl);

      GenerateResult res;
      res.usage = call.usage;
      res.ttft_ms = call.t_first_us ? (call.t_first_us - t_submit_us) / 1000.0 : 0;
      res.total_ms = (NowSteadyUs() - t_submit_us) / 1000.0;
      if (gen->cancelled()) {
        res.finish_reason = FinishReason::kCancelled;
        if (cb.on_done) cb.on_done(res);
        reported = true;
        break;
      }
      const bool unreachable = CurlUnreachable(rc);
      if (call.text.stopped() && rc != CURLE_OK) {
        res.finish_reason = FinishReason::kStop;  // a stop string ended it here
        if (cb.on_done) cb.on_done(res);
        reported = true;
        break;
      }
      if (rc != CURLE_OK || status >= 500) {
        last_error = Status::Unavailable("backend " + opt.base_urls[idx] + ": " +
                                         (rc != CURLE_OK ? std::string(curl_easy_strerror(rc))
                                                         : "HTTP " + std::to_string(status)));
        if (call.got_token) break;  // cannot resume a half-streamed reply elsewhere
        if (unreachable) {
          MutexLock lock(&mu);
          down_until_us[idx] = NowSteadyUs() + int64_t{opt.down_backoff_ms} * 1000;
        }
        TOKKI_LOG(warn, "backend failed, trying the next one", "url", opt.base_urls[idx], "error",
                  last_error.message());
        continue;
      }
      if (status >= 400) {
        const std::string msg = BackendErrorMessage(call.error_body);
        last_error = status == 429
                         ? Status::ResourceExhausted("backend rate limit: " + msg)
                         : Status::InvalidArgument("backend rejected the request: " + msg);
        break;
      }
      if (!call.parse_error.empty()) {
        last_error = Status::Unavailable(call.parse_error);
        break;
      }
      res.finish_reason = ParseFinishReason(call.finish_reason);
      if (const std::string rest = call.text.Finish(); !rest.empty() && cb.on_token) {
        cb.on_token(rest);
      }
      st_prompt += res.usage.prompt_tokens;
      st_cached += res.usage.cached_tokens;
      st_decode += res.usage.completion_tokens;
      if (cb.on_done) cb.on_done(res);
      reported = true;
      break;
    }
    if (!reported && cb.on_done) cb.on_done(last_error);
    MutexLock lock(&mu);
    running.erase(std::remove(running.begin(), running.end(), gen), running.end());
    --in_flight;
    cv.SignalAll();
  }
};

RemoteEngine::RemoteEngine(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

RemoteEngine::~RemoteEngine() { Shutdown(); }

Result<std::unique_ptr<Engine>> RemoteEngine::Open(RemoteEngineOptions options) {
  TOKKI_RETURN_IF_ERROR(NormalizeBaseUrls(options.base_urls));
  CurlGlobalInitOnce();
  auto impl = std::make_shared<Impl>();
  impl->opt = std::move(options);
  {
    MutexLock lock(&impl->mu);
    impl->down_until_us.assign(impl->opt.base_urls.size(), 0);
  }
  for (size_t i = 0; i < impl->opt.base_urls.size(); ++i) {
    for (int v = 0; v < kVirtualNodes; ++v) {
      impl->ring[RingHash(impl->opt.base_urls[i] + "#" + std::to_string(v))] = i;
    }
  }
  return std::unique_ptr<Engine>(new RemoteEngine(std::move(impl)));
}

Result<std::shared_ptr<Generation>> RemoteEngine::Submit(GenerateRequest request,
                                                         GenerateCallbacks callbacks) {
  TOKKI_RETURN_IF_ERROR(CheckRequest(request));
  if (!request.sampling.json_schema.empty()) {
    // The schema is sent as a JSON value: it must be one (the backend checks the rest).
    const json schema = json::parse(request.sampling.json_schema, nullptr, /*allow_exceptions=*/false);
    if (schema.is_discarded() || !schema.is_object())
      return Status::InvalidArgument("invalid JSON schema: not a JSON object");
  }
  auto gen = std::make_shared<RemoteGeneration>();
  {
    MutexLock lock(&impl_->mu);
    if (impl_->stopping) return Status::Unavailable("engine is shutting down");
    if (impl_->in_flight >= impl_->opt.max_in_flight) {
      return Status::Unavailable("too many generations in flight");
    }
    ++impl_->in_flight;
    impl_->running.push_back(gen);
  }
  std::shared_ptr<Impl> impl = impl_;
  const int64_t t0 = NowSteadyUs();
  std::thread([impl, request = std::move(request), callbacks = std::move(callbacks), gen,
               t0]() mutable {
    impl->RunGeneration(std::move(request), std::move(callbacks), gen, t0);
  }).detach();
  return std::shared_ptr<Generation>(gen);
}

int RemoteEngine::CountTokens(std::string_view text) const {
  return static_cast<int>((text.size() + 3) / 4);
}

ModelInfo RemoteEngine::Info() const {
  ModelInfo info;
  info.name = impl_->opt.model.empty() ? "remote" : impl_->opt.model;
  info.backend = "openai";
  info.n_ctx = impl_->opt.n_ctx;
  if (impl_->opt.embedder) info.embedding = impl_->opt.embedder->Info();
  return info;
}

Result<Embeddings> RemoteEngine::Embed(const std::vector<std::string>& texts) {
  if (!impl_->opt.embedder) return Engine::Embed(texts);
  return impl_->opt.embedder->Embed(texts);
}

EngineStats RemoteEngine::Stats() const {
  EngineStats s;
  {
    MutexLock lock(&impl_->mu);
    s.active_sequences = impl_->in_flight;
  }
  s.prompt_tokens_total = impl_->st_prompt;
  s.cached_tokens_total = impl_->st_cached;
  s.prefill_tokens_total = impl_->st_prompt - impl_->st_cached;
  s.decode_tokens_total = impl_->st_decode;
  return s;
}

void RemoteEngine::Shutdown() {
  MutexLock lock(&impl_->mu);
  impl_->stopping = true;
  for (auto& g : impl_->running) g->Cancel();
  while (impl_->in_flight != 0) impl_->cv.Wait(&impl_->mu);
}

std::string RemoteEngine::ServerFor(std::string_view conversation_key) const {
  auto order = impl_->Candidates(conversation_key);
  return order.empty() ? "" : impl_->opt.base_urls[order.front()];
}

}  // namespace tokki::engine
