// tokki/engine/llama_engine.h — the embedded llama.cpp engine.
//
// One decode thread owns the llama_context. Every step it advances all active
// generations by one token and spends a bounded budget of prompt tokens on the oldest
// pending prompts (chunked prefill), all in a single llama_decode (continuous batching).
// New requests join between steps. Each conversation keeps its KV cache between turns,
// so a new turn prefills only the tokens after the longest common prefix; a persona
// prefix (the first n_static_messages) is prefilled once per prefix_key and shared by
// copying it into each conversation's sequence. Idle conversations are evicted LRU to
// host RAM (serialized snapshots, byte budget) and then to disk, and restored on their
// next turn. See docs/engine.md.
//
// Thread safety: all public methods are thread-safe. Callbacks run on the decode thread.
//
// Start reading at LlamaEngine::Open, then Submit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "engine/embedder.h"
#include "engine/engine.h"
#include "engine/kv_tiers.h"  // CacheTier

namespace tokki::engine {

struct LlamaEngineOptions {
  std::string model_path;
  // KV layout. Per-sequence streams (default): each sequence id has its own n_ctx_seq
  // cells, so a step's attention follows the longest running conversation, not all of
  // them together; a persona prefix is copied into a conversation's stream. Unified: one
  // cache of n_ctx cells shared by every sequence (a persona prefix's cells are shared,
  // not copied), but each sequence's attention spans every used cell.
  bool kv_unified = false;
  int n_ctx = 16384;     // unified: KV cells shared by all sequences
  int n_ctx_seq = 4096;  // streams: KV cells of each sequence (one conversation's window)
  // Sequence ids: active + idle resident conversations + persona prefixes. 0 = 64 when
  // unified, n_parallel + 4 with streams (each costs n_ctx_seq cells of memory).
  int n_seq_max = 0;
  int n_parallel = 16;             // generations advancing at once
  int n_threads = 0;               // 0 = all cores
  int n_batch = 512;               // max tokens in one llama_decode step
  // Max prompt tokens per step while replies are streaming (all requests together; with
  // nothing streaming a step may take n_batch). Within it, chunks are sized from measured
  // step costs so a step takes at most itl_target_ms (0 = twice a decode-only step): the
  // streams' inter-token latency stays bounded while prompts are prefilled.
  int prefill_chunk_tokens = 256;
  int itl_target_ms = 0;
  int max_queued = 256;            // waiting requests beyond n_parallel; more -> kUnavailable
  int64_t host_cache_max_bytes = int64_t{1} << 30;  // evicted snapshots kept in RAM
  std::string disk_cache_dir;                       // "" = no disk tier
  int64_t disk_cache_max_bytes = int64_t{8} << 30;
  int64_t max_model_bytes = 0;  // 0 = 80 % of physical RAM
  bool flash_attn = true;
  // Element type of the KV cache: "f16", or "q8_0" / "q4_0" (half / a quarter of the
  // memory; attention reads less; needs flash_attn). docs/engine.md has the figures.
  std::string kv_type = "f16";
  std::shared_ptr<Embedder> embedder;  // answers Embed (e.g. a LlamaEmbedder); null = none
};

class LlamaEngine : public Engine {
 public:
  // Loads the model and starts the decode thread. A missing, truncated or corrupt file,
  // a model llama.cpp cannot run or one too large for this machine give a clear Status.
  static Result<std::unique_ptr<Engine>> Open(LlamaEngineOptions options);
  // The same, keeping the concrete type (tests, benchmarks: Tokenize, Evict, ...).
  static Result<std::unique_ptr<LlamaEngine>> OpenLlama(LlamaEngineOptions options);

  ~LlamaEngine() override;

  Result<std::shared_ptr<Generation>> Submit(GenerateRequest request,
                                             GenerateCallbacks callbacks) override;
  int CountTokens(std::string_view text) const override;
  ModelInfo Info() const override;
  EngineStats Stats() const override;
  Result<Embeddings> Embed(const std::vector<std::string>& texts) override;
  void Forget(std::string_view conversation_key) override;
  void Shutdown() override;

  // Token ids of `text` (no special-token parsing), e.g. for SamplingParams::logit_bias.
  std::vector<int32_t> Tokenize(std::string_view text) const;
  // Text of one token id ("" for control tokens).
  std::string TokenText(int32_t token) const;
  int32_t VocabSize() const;

  // Where a conversation's KV cache currently is.
  CacheTier Tier(std::string_view conversation_key);
  // Moves an idle conversation's cache out of the context (kHost or kDisk). For tests and
  // admin tools; the scheduler does the same on its own under memory pressure.
  Status Evict(std::string_view conversation_key, CacheTier to);
  // Brings an evicted conversation's cache back into the context ahead of its next turn
  // (e.g. when its chat is opened). OK when it is already resident.
  Status Prefetch(std::string_view conversation_key);
  // The raw llama.cpp state bytes of a resident conversation (for tests: a restored
  // conversation must have exactly the bytes it had before eviction).
  Result<std::string> SequenceState(std::string_view conversation_key);
  // Token ids held for a conversation (resident, host or disk).
  Result<std::vector<int32_t>> ConversationTokens(std::string_view conversation_key);

  struct Impl;

 private:
  explicit LlamaEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tokki::engine
