// LlamaEngine against the generated tiny model (label "model").
#include "engine/llama_engine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "engine/model_gen.h"
#include "test_model.h"

namespace tokki::engine {
namespace {

namespace fs = std::filesystem;

using testing::Outcome;
using testing::RunGen;

GenerateRequest Chat(std::string conv, std::vector<ChatMessage> msgs, int max_tokens = 16) {
  GenerateRequest r;
  r.conversation_key = std::move(conv);
  r.messages = std::move(msgs);
  r.sampling.temperature = 0;  // greedy
  r.sampling.max_tokens = max_tokens;
  r.sampling.ignore_eos = true;
  return r;
}

std::string Persona(int i) {
  std::string s = "You are Mira " + std::to_string(i) +
                  ", a cheerful baker who loves rainy days, old maps and jazz. ";
  for (int k = 0; k < 6; ++k)
    s += "You speak warmly, ask about the user's day and remember small details. ";
  return s;
}

class LlamaEngineFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!model_) model_ = new std::string(testing::TinyModelPath());
  }

  static LlamaEngineOptions BaseOptions(bool kv_unified) {
    LlamaEngineOptions o;
    o.model_path = *model_;
    o.kv_unified = kv_unified;
    o.n_ctx = 8192;
    o.n_ctx_seq = 2048;
    o.n_threads = 1;  // robust on a busy machine (ggml threads spin)
    o.n_parallel = 8;
    o.n_seq_max = kv_unified ? 48 : 16;
    return o;
  }
  std::unique_ptr<LlamaEngine> Open(LlamaEngineOptions o) {
    auto r = LlamaEngine::OpenLlama(std::move(o));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }
  static std::string* model_;
};
std::string* LlamaEngineFixture::model_ = nullptr;

// Every behaviour holds in both KV layouts: per-sequence streams (the default) and one
// unified cache.
class LlamaEngineTest : public LlamaEngineFixture, public ::testing::WithParamInterface<bool> {
 protected:
  LlamaEngineOptions Options() { return BaseOptions(GetParam()); }
};

INSTANTIATE_TEST_SUITE_P(Layouts, LlamaEngineTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Unified" : "Streams";
                         });

// A cache shared by all sequences can fill up; these tests are about that case.
class UnifiedCacheTest : public LlamaEngineFixture {
 protected:
  LlamaEngineOptions Options() { return BaseOptions(true); }
};

TEST_P(LlamaEngineTest, InfoSaysGenerated) {
  auto e = Open(Options());
  ASSERT_TRUE(e);
  ModelInfo info = e->Info();
  EXPECT_EQ(info.name, "tokki-generated-tiny");
  EXPECT_TRUE(info.is_generated);
  EXPECT_EQ(info.backend, "llama.cpp");
  EXPECT_EQ(info.n_ctx, 2048);  // the tiny model's training context caps one sequence
  EXPECT_EQ(e->VocabSize(), 49152);
  EXPECT_GT(e->CountTokens("hello there, how are you?"), 3);
  // ChatML control tokens exist as single tokens, but user text never becomes one.
  EXPECT_GT(e->Tokenize("<|im_end|>").size(), 1u);
}

TEST_P(LlamaEngineTest, BadModelFilesGiveClearErrors) {
  // A folder per layout: ctest runs both at once, and they rewrite the same file names.
  const fs::path dir = fs::path(TOKKI_TEST_MODEL_DIR) / (GetParam() ? "bad-unified" : "bad");
  fs::create_directories(dir);
  auto open = [&](const std::string& p) {
    LlamaEngineOptions o = Options();
    o.model_path = p;
    return LlamaEngine::Open(o).status();
  };
  Status missing = open((dir / "nope.gguf").string());
  EXPECT_EQ(missing.code(), Status::Code::kNotFound) << missing.ToString();

  { std::ofstream(dir / "garbage.gguf") << "this is not a model at all, just text\n"; }
  Status garbage = open((dir / "garbage.gguf").string());
  EXPECT_EQ(garbage.code(), Status::Code::kInvalidArgument) << garbage.ToString();
  EXPECT_NE(garbage.message().find("GGUF"), std::string::npos);

  // Half a model: the header parses, the tensor data is cut.
  const auto size = fs::file_size(*model_);
  {
    std::ifstream in(*model_, std::ios::binary);
    std::string half(size / 2, '\0');
    in.read(half.data(), static_cast<std::streamsize>(half.size()));
    std::ofstream(dir / "truncated.gguf", std::ios::binary) << half;
  }
  Status truncated = open((dir / "truncated.gguf").string());
  EXPECT_EQ(truncated.code(), Status::Code::kCorruption) << truncated.ToString();
  EXPECT_NE(truncated.message().find("truncated"), std::string::npos);

  // Cut inside the header.
  {
    std::ifstream in(*model_, std::ios::binary);
    std::string head(4000, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    std::ofstream(dir / "header.gguf", std::ios::binary) << head;
  }
  Status header = open((dir / "header.gguf").string());
  EXPECT_EQ(header.code(), Status::Code::kCorruption) << header.ToString();

  // A vocab-only GGUF (no weights).
  Status vocab = open(DefaultVocabPath());
  EXPECT_EQ(vocab.code(), Status::Code::kInvalidArgument) << vocab.ToString();

  // Too large for the configured limit.
  LlamaEngineOptions o = Options();
  o.max_model_bytes = 1024;
  EXPECT_EQ(LlamaEngine::Open(o).status().code(), Status::Code::kTooLarge);
}

TEST_P(LlamaEngineTest, QuantizedKvCacheSettingsGiveClearErrors) {
  LlamaEngineOptions o = Options();
  // The tiny model's heads are 16 wide; q8_0 and q4_0 blocks are 32.
  o.kv_type = "q8_0";
  Status narrow = LlamaEngine::Open(o).status();
  EXPECT_EQ(narrow.code(), Status::Code::kInvalidArgument) << narrow.ToString();
  EXPECT_NE(narrow.message().find("head size"), std::string::npos) << narrow.ToString();
  o.kv_type = "q3_z";
  Status bad = LlamaEngine::Open(o).status();
  EXPECT_EQ(bad.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(bad.message().find("q3_z"), std::string::npos) << bad.ToString();
  o.kv_type = "q4_0";
  o.flash_attn = false;
  Status no_fa = LlamaEngine::Open(o).status();
  EXPECT_EQ(no_fa.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(no_fa.message().find("flash attention"), std::string::npos) << no_fa.ToString();
  // f16 (the default) opens.
  o.kv_type = "f16";
  o.flash_attn = true;
  EXPECT_TRUE(LlamaEngine::Open(o).ok());
}

TEST_P(LlamaEngineTest, GeneratesExactlyMaxTokensAndReportsUsage) {
  auto e = Open(Options());
  ASSERT_TRUE(e);
  Outcome o =
      RunGen(*e, Chat("c1", {{"system", Persona(1)}, {"user", "Hi! How was your day?"}}, 24));
  ASSERT_TRUE(o.result.ok()) << o.result.status().ToString();
  EXPECT_EQ(o.result->finish_reason, FinishReason::kLength);
  EXPECT_EQ(o.result->usage.completion_tokens, 24);
  EXPECT_GT(o.result->usage.prompt_tokens, 50);
  EXPECT_EQ(o.result->usage.cached_tokens, 0);
  EXPECT_GT(o.result->ttft_ms, 0);
  EXPECT_FALSE(o.text.empty());
  // Same request on another conversation: greedy decoding is deterministic.
  Outcome o2 =
      RunGen(*e, Chat("c2", {{"system", Persona(1)}, {"user", "Hi! How was your day?"}}, 24));
  ASSERT_TRUE(o2.result.ok());
  EXPECT_EQ(o.text, o2.text);
}

TEST_P(LlamaEngineTest, ResumedConversationPrefillsOnlyNewTokens) {
  auto e = Open(Options());
  ASSERT_TRUE(e);
  std::vector<ChatMessage> msgs = {{"system", Persona(2)}, {"user", "Tell me about maps."}};
  Outcome t1 = RunGen(*e, Chat("conv", msgs, 20));
  ASSERT_TRUE(t1.result.ok());
  msgs.push_back({"assistant", t1.text});
  msgs.push_back({"user", "And what about jazz?"});
  Outcome t2 = RunGen(*e, Chat("conv", msgs, 20));
  ASSERT_TRUE(t2.result.ok());
  const Usage& u1 = t1.result->usage;
  const Usage& u2 = t2.result->usage;
  // The KV cache holds turn 1's prompt and all generated tokens but the last one (it was
  // sampled, never decoded); turn 2 reuses exactly that.
  EXPECT_EQ(u2.cached_tokens, u1.prompt_tokens + u1.completion_tokens - 1);
  EXPECT_EQ(u2.prompt_tokens - u2.cached_tokens,
            e->CountTokens("And what about jazz?") + 1 /*last reply token*/ +
                (u2.prompt_tokens - u1.prompt_tokens - u1.completion_tokens -
                 e->CountTokens("And what about jazz?")));
  EXPECT_LT(u2.prompt_tokens - u2.cached_tokens, 20);
}

TEST_P(LlamaEngineTest, PersonaPrefixIsSharedAcrossConversations) {
  auto e = Open(Options());
  ASSERT_TRUE(e);
  auto req = [&](std::string conv, std::string user) {
    GenerateRequest r =
        Chat(std::move(conv), {{"system", Persona(3)}, {"user", std::move(user)}}, 8);
    r.prefix_key = "character:3:rev:1";
    r.n_static_messages = 1;
    return r;
  };
  Outcome a = RunGen(*e, req("a", "Hello from Ann."));
  Outcome b = RunGen(*e, req("b", "Hello from Bob, who talks a bit more."));
  ASSERT_TRUE(a.result.ok() && b.result.ok());
  EXPECT_EQ(a.result->usage.cached_tokens, 0);
  const int persona_tokens = e->CountTokens(Persona(3));
  EXPECT_GE(b.result->usage.cached_tokens, persona_tokens);
  EXPECT_LT(b.result->usage.cached_tokens, b.result->usage.prompt_tokens);
  // Same output as without sharing.
  GenerateRequest plain = req("c", "Hello from Bob, who talks a bit more.");
  plain.prefix_key.clear();
  auto e2 = Open(Options());
  Outcome c = RunGen(*e2, plain);
  EXPECT_EQ(b.text, c.text);
}

// llama.cpp's per-sequence state = u32 magic, i32 seq_id, u32 n_stream, u32 n_cells,
// n_cells x {i32 pos, u32 n_seq_id (= 1), i32 seq_id}, then the K/V rows. The seq_id differs
// between two conversations by design; everything else (positions, K/V bytes) must be identical.
std::string WithoutSeqIds(const std::string& state) {
  std::string out = state;
  if (out.size() < 16) return out;
  std::memset(out.data() + 4, 0, 4);
  uint32_t n_cells = 0;
  std::memcpy(&n_cells, out.data() + 12, 4);
  for (uint32_t i = 0; i < n_cells && 16 + (i + 1) * 12 <= out.size(); ++i) {
    std::memset(out.data() + 16 + i * 12 + 8, 0, 4);
  }
  return out;
}

std::string FirstDiff(const std::string& a, const std::string& b) {
  size_t n = 0, first = std::string::npos;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a[i] != b[i]) {
      ++n;
      if (first == std::string::npos) first = i;
    }
  }
  return std::to_string(n) + " bytes differ, first at " + std::to_string(first) + " of " +
         std::to_string(a.size());
}

// Runs two turns on `key`, optionally evicting between them. Returns turn 2 and the KV
// token ids afterwards.
struct TwoTurns {
  Outcome t2;
  std::vector<int32_t> tokens;
  std::string state;
};

TwoTurns RunTwoTurns(LlamaEngine& e, const std::string& key, CacheTier evict_to) {
  std::vector<ChatMessage> msgs = {{"system", Persona(4)},
                                   {"user", "What is your favourite bread?"}};
  Outcome t1 = RunGen(e, Chat(key, msgs, 16));
  EXPECT_TRUE(t1.result.ok());
  if (evict_to != CacheTier::kResident) {
    Result<std::string> before = e.SequenceState(key);
    EXPECT_TRUE(before.ok());
    EXPECT_TRUE(e.Evict(key, evict_to).ok());
    EXPECT_EQ(e.Tier(key), evict_to);
    EXPECT_FALSE(e.SequenceState(key).ok());
    // Restored, the sequence holds exactly the bytes it had (positions, K and V rows).
    EXPECT_TRUE(e.Prefetch(key).ok());
    Result<std::string> after = e.SequenceState(key);
    EXPECT_TRUE(after.ok());
    if (before.ok() && after.ok()) {
      EXPECT_EQ(after->size(), before->size());
      EXPECT_TRUE(WithoutSeqIds(*after) == WithoutSeqIds(*before))
          << "restored KV bytes differ: "
          << FirstDiff(WithoutSeqIds(*after), WithoutSeqIds(*before));
    }
    // Evict again and let the next turn restore it on its own.
    EXPECT_TRUE(e.Evict(key, evict_to).ok());
  }
  msgs.push_back({"assistant", t1.text});
  msgs.push_back({"user", "Why that one?"});
  TwoTurns out;
  out.t2 = RunGen(e, Chat(key, msgs, 16));
  EXPECT_EQ(e.Tier(key), CacheTier::kResident);
  out.tokens = e.ConversationTokens(key).value();
  out.state = e.SequenceState(key).value();
  return out;
}

TEST_P(LlamaEngineTest, EvictedToHostOrDiskResumesLikeResident) {
  LlamaEngineOptions o = Options();
  o.disk_cache_dir =
      (fs::path(TOKKI_TEST_MODEL_DIR) / ("kv-" + std::to_string(::getpid()))).string();
  auto e = Open(o);
  ASSERT_TRUE(e);
  TwoTurns resident = RunTwoTurns(*e, "resident", CacheTier::kResident);
  TwoTurns host = RunTwoTurns(*e, "host", CacheTier::kHost);
  TwoTurns disk = RunTwoTurns(*e, "disk", CacheTier::kDisk);
  ASSERT_TRUE(resident.t2.result.ok() && host.t2.result.ok() && disk.t2.result.ok());
  // Nothing was re-prefilled: the same number of cached tokens as resident.
  EXPECT_EQ(host.t2.result->usage.cached_tokens, resident.t2.result->usage.cached_tokens);
  EXPECT_EQ(disk.t2.result->usage.cached_tokens, resident.t2.result->usage.cached_tokens);
  // Same greedy continuation and the same token ids in the cache. (The K/V rows computed
  // after a restore may differ from the resident run's in the last bits: llama.cpp
  // accumulates attention in cache-cell order and a restored sequence sits in other
  // cells; the restored rows themselves are byte-identical, checked above.)
  EXPECT_EQ(host.t2.text, resident.t2.text);
  EXPECT_EQ(disk.t2.text, resident.t2.text);
  EXPECT_EQ(host.tokens, resident.tokens);
  EXPECT_EQ(disk.tokens, resident.tokens);
  EXPECT_EQ(host.state.size(), resident.state.size());
  EXPECT_EQ(disk.state.size(), resident.state.size());
  e.reset();
  fs::remove_all(o.disk_cache_dir);
}

TEST_P(LlamaEngineTest, CorruptDiskSnapshotIsRecomputed) {
  LlamaEngineOptions o = Options();
  o.disk_cache_dir =
      (fs::path(TOKKI_TEST_MODEL_DIR) / ("kvc-" + std::to_string(::getpid()))).string();
  auto e = Open(o);
  ASSERT_TRUE(e);
  std::vector<ChatMessage> msgs = {{"system", Persona(5)}, {"user", "Hi"}};
  Outcome t1 = RunGen(*e, Chat("k", msgs, 8));
  ASSERT_TRUE(e->Evict("k", CacheTier::kDisk).ok());
  for (const auto& f : fs::directory_iterator(o.disk_cache_dir)) {
    std::fstream s(f.path(), std::ios::in | std::ios::out | std::ios::binary);
    s.seekp(100);
    s.write("XXXXXXXX", 8);
  }
  msgs.push_back({"assistant", t1.text});
  msgs.push_back({"user", "Again"});
  Outcome t2 = RunGen(*e, Chat("k", msgs, 8));
  ASSERT_TRUE(t2.result.ok()) << t2.result.status().ToString();
  EXPECT_EQ(t2.result->usage.cached_tokens, 0);
  EXPECT_EQ(t2.result->usage.completion_tokens, 8);
  e.reset();
  fs::remove_all(o.disk_cache_dir);
}

TEST_P(LlamaEngineTest, BatchedGivesSameGreedyTokensAsAlone) {
  // Tolerance: exact token equality. ggml's CPU kernels compute each sequence's rows
  // independently of the batch size for this model, so greedy picks match.
  auto e = Open(Options());
  ASSERT_TRUE(e);
  const int n = 6;
  std::vector<std::string> alone(n);
  for (int i = 0; i < n; ++i) {
    alone[i] = RunGen(*e, Chat("alone" + std::to_string(i),
                               {{"system", Persona(10 + i)}, {"user", "Say something nice."}}, 24))
                   .text;
  }
  std::vector<std::future<Outcome>> futs;
  for (int i = 0; i < n; ++i) {
    futs.push_back(std::async(std::launch::async, [&, i] {
      return RunGen(*e, Chat("batched" + std::to_string(i),
                             {{"system", Persona(10 + i)}, {"user", "Say something nice."}}, 24));
    }));
  }
  for (int i = 0; i < n; ++i) {
    Outcome o = futs[i].get();
    ASSERT_TRUE(o.result.ok());
    EXPECT_EQ(o.text, alone[i]) << "sequence " << i;
  }
}

TEST_P(LlamaEngineTest, CancelStopsAtOnceAndFreesTheSlot) {
  LlamaEngineOptions o = Options();
  o.n_parallel = 1;
  auto e = Open(o);
  ASSERT_TRUE(e);
  auto first_token = std::make_shared<std::promise<void>>();
  auto done = std::make_shared<std::promise<Result<GenerateResult>>>();
  auto got = std::make_shared<std::atomic<int>>(0);
  GenerateCallbacks cb;
  cb.on_token = [first_token, got](std::string_view) {
    if (got->fetch_add(1) == 0) first_token->set_value();
  };
  cb.on_done = [done](Result<GenerateResult> r) { done->set_value(std::move(r)); };
  GenerateRequest req = Chat("long", {{"user", "Talk forever."}}, 1000000);
  auto h = e->Submit(req, cb);
  ASSERT_TRUE(h.ok());
  first_token->get_future().wait();
  const auto t0 = std::chrono::steady_clock::now();
  (*h)->Cancel();
  Result<GenerateResult> r = done->get_future().get();
  const auto dt = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finish_reason, FinishReason::kCancelled);
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(dt).count(), 2000);
  (*h)->Cancel();  // idempotent
  // The only slot is free again.
  Outcome next = RunGen(*e, Chat("next", {{"user", "Hello"}}, 4));
  ASSERT_TRUE(next.result.ok());
  EXPECT_EQ(next.result->usage.completion_tokens, 4);
}

TEST_P(LlamaEngineTest, FullQueueIsUnavailable) {
  LlamaEngineOptions o = Options();
  o.n_parallel = 1;
  o.max_queued = 2;
  auto e = Open(o);
  ASSERT_TRUE(e);
  std::vector<std::shared_ptr<Generation>> handles;
  auto n_done = std::make_shared<std::atomic<int>>(0);
  auto n_cancelled = std::make_shared<std::atomic<int>>(0);
  auto submit = [&](const std::string& key) {
    GenerateCallbacks cb;
    cb.on_done = [n_done, n_cancelled](Result<GenerateResult> r) {
      if (r.ok() && r->finish_reason == FinishReason::kCancelled) n_cancelled->fetch_add(1);
      n_done->fetch_add(1);
    };
    return e->Submit(Chat(key, {{"user", "Talk forever."}}, 1000000), cb);
  };
  auto first = submit("q0");
  ASSERT_TRUE(first.ok());
  handles.push_back(*first);
  // Wait until the first request left the queue.
  for (int i = 0; i < 200 && e->Stats().active_sequences == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (int i = 1; i <= 2; ++i) {
    auto h = submit("q" + std::to_string(i));
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    handles.push_back(*h);
  }
  auto over = submit("q3");
  EXPECT_EQ(over.status().code(), Status::Code::kUnavailable);
  EXPECT_EQ(e->Stats().queue_depth, 2);
  for (auto& h : handles) h->Cancel();
  for (int i = 0; i < 500 && n_done->load() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(n_done->load(), 3);
  EXPECT_EQ(n_cancelled->load(), 3);
}

// When the KV cache runs out, the request that fails belongs to the user holding the most
// running requests, not to whoever came last: a user with three endless replies must not
// make another user's single request fail.
TEST_F(UnifiedCacheTest, FullCacheFailsTheHeaviestUserNotTheNewest) {
  LlamaEngineOptions o = Options();
  o.n_ctx = 1024;
  o.n_parallel = 4;
  o.n_seq_max = 8;
  auto e = Open(o);
  ASSERT_TRUE(e);
  struct Heavy {
    std::promise<Result<GenerateResult>> done;
  };
  std::vector<std::shared_ptr<Heavy>> heavy;
  std::vector<std::shared_ptr<Generation>> handles;
  for (int i = 0; i < 3; ++i) {
    auto h = std::make_shared<Heavy>();
    GenerateCallbacks cb;
    cb.on_done = [h](Result<GenerateResult> r) { h->done.set_value(std::move(r)); };
    GenerateRequest req = Chat("heavy" + std::to_string(i), {{"user", "Talk forever."}}, 1000000);
    req.user_key = "heavy";
    auto handle = e->Submit(req, cb);
    ASSERT_TRUE(handle.ok());
    handles.push_back(*handle);
    heavy.push_back(h);
  }
  // The three replies have filled most of the cache: the light user's prompt no longer fits.
  for (int i = 0; i < 3000 && e->Stats().decode_tokens_total < 750; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::string prompt;
  for (int k = 0; k < 40; ++k) prompt += "Tell me about the old maps and the rainy days. ";
  GenerateRequest light = Chat("light", {{"user", prompt}}, 4);
  light.user_key = "light";
  Outcome out = RunGen(*e, light);
  ASSERT_TRUE(out.result.ok()) << out.result.status().ToString();
  EXPECT_EQ(out.result->usage.completion_tokens, 4);
  // The room came from the heavy user's replies.
  int failed = 0;
  for (auto& h : handles) h->Cancel();
  for (auto& h : heavy) {
    Result<GenerateResult> r = h->done.get_future().get();
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
      ++failed;
    }
  }
  EXPECT_GE(failed, 1);
}

TEST_P(LlamaEngineTest, ThirtyTwoConcurrentConversations) {
  LlamaEngineOptions o = Options();
  o.n_parallel = 16;
  o.n_seq_max = 24;  // fewer sequence ids than conversations: forces eviction to RAM
  auto e = Open(o);
  ASSERT_TRUE(e);
  const int n = 32;
  std::vector<std::future<std::pair<Outcome, Outcome>>> futs;
  for (int i = 0; i < n; ++i) {
    futs.push_back(std::async(std::launch::async, [&, i] {
      const std::string key = "u" + std::to_string(i);
      std::vector<ChatMessage> msgs = {{"system", Persona(i % 4)},
                                       {"user", "Hi, I am user " + std::to_string(i)}};
      GenerateRequest r = Chat(key, msgs, 12);
      r.prefix_key = "char" + std::to_string(i % 4);
      r.n_static_messages = 1;
      Outcome t1 = RunGen(*e, r);
      msgs.push_back({"assistant", t1.text});
      msgs.push_back({"user", "Nice. Tell me more."});
      r.messages = msgs;
      Outcome t2 = RunGen(*e, r);
      return std::make_pair(std::move(t1), std::move(t2));
    }));
  }
  int reused = 0;
  for (auto& f : futs) {
    auto [t1, t2] = f.get();
    ASSERT_TRUE(t1.result.ok()) << t1.result.status().ToString();
    ASSERT_TRUE(t2.result.ok()) << t2.result.status().ToString();
    EXPECT_EQ(t1.result->usage.completion_tokens, 12);
    EXPECT_EQ(t2.result->usage.completion_tokens, 12);
    if (t2.result->usage.cached_tokens >= t1.result->usage.prompt_tokens) ++reused;
  }
  EXPECT_EQ(reused, n);  // every second turn reused its first turn (resident or restored)
  EngineStats s = e->Stats();
  EXPECT_EQ(s.active_sequences, 0);
  EXPECT_EQ(s.queue_depth, 0);
  EXPECT_GT(s.cached_tokens_total, 0);
}

TEST_P(LlamaEngineTest, AdmissionIsFairAcrossUsers) {
  // One slot; user A queues three requests before user B queues one. B is admitted as soon
  // as the slot frees (B has none running), not after all of A's.
  LlamaEngineOptions o = Options();
  o.n_parallel = 1;
  auto e = Open(o);
  ASSERT_TRUE(e);
  std::mutex mu;
  std::vector<std::string> finished;
  std::atomic<int> n_done{0};
  auto submit = [&](const std::string& user, const std::string& key) {
    GenerateRequest r = Chat(key, {{"user", "Hello there."}}, 8);
    r.user_key = user;
    r.sampling.ignore_eos = true;
    GenerateCallbacks cb;
    cb.on_done = [&, key](Result<GenerateResult>) {
      std::lock_guard<std::mutex> lock(mu);
      finished.push_back(key);
      n_done++;
    };
    return e->Submit(std::move(r), std::move(cb));
  };
  ASSERT_TRUE(submit("user:a", "a1").ok());
  ASSERT_TRUE(submit("user:a", "a2").ok());
  ASSERT_TRUE(submit("user:a", "a3").ok());
  ASSERT_TRUE(submit("user:b", "b1").ok());
  for (int i = 0; i < 1000 && n_done.load() < 4; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(n_done.load(), 4);
  // a1 may already be running when b1 arrives; b1 then goes next, before a2 and a3.
  auto pos = [&](const std::string& k) { return std::find(finished.begin(), finished.end(), k) - finished.begin(); };
  EXPECT_LT(pos("b1"), pos("a2"));
  EXPECT_LT(pos("b1"), pos("a3"));
}

// Records the order in which generations finish.
struct DoneOrder {
  std::mutex mu;
  std::vector<std::string> keys;
  std::map<std::string, Result<GenerateResult>> results;
  std::atomic<int> n{0};
  GenerateCallbacks For(const std::string& key, std::atomic<int>* tokens = nullptr) {
    GenerateCallbacks cb;
    cb.on_token = [tokens](std::string_view) {
      if (tokens) tokens->fetch_add(1);
    };
    cb.on_done = [this, key](Result<GenerateResult> r) {
      std::lock_guard<std::mutex> lock(mu);
      keys.push_back(key);
      results.insert_or_assign(key, std::move(r));
      n++;
    };
    return cb;
  }
  bool WaitFor(int count) {
    for (int i = 0; i < 3000 && n.load() < count; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return n.load() >= count;
  }
  long Pos(const std::string& k) {
    std::lock_guard<std::mutex> lock(mu);
    return std::find(keys.begin(), keys.end(), k) - keys.begin();
  }
};

TEST_P(LlamaEngineTest, AdmissionGoesByPriority) {
  LlamaEngineOptions o = Options();
  o.n_parallel = 1;
  auto e = Open(o);
  ASSERT_TRUE(e);
  DoneOrder done;
  auto submit = [&](const std::string& key, Priority p, int max_tokens) {
    GenerateRequest r = Chat(key, {{"user", "Hello there."}}, max_tokens);
    r.user_key = "user:" + key;
    r.priority = p;
    return e->Submit(std::move(r), done.For(key));
  };
  std::atomic<int> first_tokens{0};
  GenerateRequest blocker = Chat("blocker", {{"user", "Hello there."}}, 48);
  ASSERT_TRUE(e->Submit(std::move(blocker), done.For("blocker", &first_tokens)).ok());
  for (int i = 0; i < 1000 && first_tokens.load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // Queued behind the running reply, the least urgent first.
  ASSERT_TRUE(submit("background", Priority::kBackground, 4).ok());
  ASSERT_TRUE(submit("regenerate", Priority::kRegenerate, 4).ok());
  ASSERT_TRUE(submit("interactive", Priority::kInteractive, 4).ok());
  ASSERT_TRUE(done.WaitFor(4));
  EXPECT_EQ(done.Pos("blocker"), 0);
  EXPECT_EQ(done.Pos("interactive"), 1);
  EXPECT_EQ(done.Pos("regenerate"), 2);
  EXPECT_EQ(done.Pos("background"), 3);
}

TEST_P(LlamaEngineTest, BackgroundWorkGivesWayToAUserAtOnceAndThenFinishes) {
  LlamaEngineOptions o = Options();
  o.n_parallel = 2;
  auto e = Open(o);
  ASSERT_TRUE(e);
  DoneOrder done;
  std::atomic<int> bg_tokens{0};
  for (const char* key : {"bg1", "bg2"}) {
    GenerateRequest r = Chat(key, {{"user", "Write a long story."}}, 160);
    r.user_key = "system";
    r.priority = Priority::kBackground;
    ASSERT_TRUE(e->Submit(std::move(r), done.For(key, &bg_tokens)).ok());
  }
  // Both background generations are running (every batch slot is taken) ...
  for (int i = 0; i < 2000 && bg_tokens.load() < 8; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_GE(bg_tokens.load(), 8);
  // ... when a user sends a message: it does not wait for them to end.
  GenerateRequest r = Chat("user", {{"user", "Hi!"}}, 8);
  r.user_key = "user:1";
  ASSERT_TRUE(e->Submit(std::move(r), done.For("user")).ok());
  ASSERT_TRUE(done.WaitFor(3));
  EXPECT_EQ(done.Pos("user"), 0);
  // The background work was paused, not failed: it ends with all its tokens.
  for (const char* key : {"bg1", "bg2"}) {
    const Result<GenerateResult>& res = done.results.at(key);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(res->usage.completion_tokens, 160);
  }
}

TEST_P(LlamaEngineTest, BackgroundWaitsWhileAUserIsServed) {
  LlamaEngineOptions o = Options();
  o.n_parallel = 4;  // room for both: the slot is free, the engine is not idle
  auto e = Open(o);
  ASSERT_TRUE(e);
  DoneOrder done;
  std::atomic<int> user_tokens{0}, bg_tokens{0};
  GenerateRequest u = Chat("user", {{"user", "Hello there."}}, 24);
  u.user_key = "user:1";
  u.sampling.ignore_eos = true;
  ASSERT_TRUE(e->Submit(std::move(u), done.For("user", &user_tokens)).ok());
  for (int i = 0; i < 1000 && user_tokens.load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_GT(user_tokens.load(), 0);
  GenerateRequest b = Chat("bg", {{"user", "Summarise."}}, 8);
  b.user_key = "system";
  b.priority = Priority::kBackground;
  b.sampling.ignore_eos = true;
  ASSERT_TRUE(e->Submit(std::move(b), done.For("bg", &bg_tokens)).ok());
  ASSERT_TRUE(done.WaitFor(2));
  // The background request produced nothing until the user's reply ended.
  EXPECT_EQ(done.Pos("user"), 0);
  EXPECT_EQ(done.Pos("bg"), 1);
  ASSERT_TRUE(done.results.at("bg").ok());
  EXPECT_EQ(done.results.at("bg")->usage.completion_tokens, 8);
}

TEST_F(UnifiedCacheTest, PromptsThatFindTheCacheFullWaitInsteadOfFailing) {
  // Four conversations of ~300 prompt tokens in a 1,024-cell cache: three fit at once, the
  // fourth's prompt must wait for a running reply to end (then its cells are evicted),
  // never fail someone's request with "KV cache is full".
  LlamaEngineOptions o = Options();
  o.n_ctx = 1024;
  o.n_parallel = 4;
  auto e = Open(o);
  ASSERT_TRUE(e);
  std::string words;
  for (int i = 0; i < 280; ++i) words += "hello ";
  std::vector<std::future<Outcome>> futs;
  for (int i = 0; i < 4; ++i) {
    futs.push_back(std::async(std::launch::async, [&, i] {
      GenerateRequest r = Chat("full" + std::to_string(i), {{"user", std::to_string(i) + " " + words}}, 24);
      r.sampling.ignore_eos = true;
      return RunGen(*e, r);
    }));
  }
  for (auto& f : futs) {
    Outcome out = f.get();
    ASSERT_TRUE(out.result.ok()) << out.result.status().ToString();
    EXPECT_EQ(out.result->usage.completion_tokens, 24);
    EXPECT_GT(out.result->usage.prompt_tokens, 256);
  }
}

// Quantized weights go through other CPU kernels than f16 ones (on CPUs with AMX, an
// extra buffer type whose kernel crashed on multi-token batches): a prompt prefilled in
// one batch and several replies decoded together must work.
TEST_P(LlamaEngineTest, QuantizedWeightsPrefillAndDecodeInBatches) {
  LlamaEngineOptions o = Options();
  o.model_path = testing::TinyQ8ModelPath();
  auto e = Open(o);
  ASSERT_TRUE(e);
  std::vector<std::future<Outcome>> futs;
  for (int i = 0; i < 3; ++i) {
    futs.push_back(std::async(std::launch::async, [&, i] {
      return RunGen(*e, Chat("q" + std::to_string(i),
                             {{"system", Persona(i)}, {"user", "Tell me about your day."}}, 8));
    }));
  }
  for (auto& f : futs) {
    Outcome out = f.get();
    ASSERT_TRUE(out.result.ok()) << out.result.status().ToString();
    EXPECT_GT(out.result->usage.prompt_tokens, 32);
    EXPECT_EQ(out.result->usage.completion_tokens, 8);
  }
}

TEST_P(LlamaEngineTest, StopStringsAreCutAndTextIsValidUtf8) {
  auto e = Open(Options());
  ASSERT_TRUE(e);
  Outcome free_run = RunGen(*e, Chat("s1", {{"user", "Say anything."}}, 32));
  ASSERT_TRUE(free_run.result.ok());
  ASSERT_GE(free_run.text.size(), 8u);
  // Stop at a substring of what greedy decoding produces anyway.
  const std::string stop = free_run.text.substr(free_run.text.size() / 2, 3);
  GenerateRequest r = Chat("s2", {{"user", "Say anything."}}, 32);
  r.sampling.stop = {stop};
  Outcome cut = RunGen(*e, r);
  ASSERT_TRUE(cut.result.ok());
  EXPECT_EQ(cut.result->finish_reason, FinishReason::kStop);
  EXPECT_EQ(cut.text, free_run.text.substr(0, free_run.text.find(stop)));
}

}  // namespace
}  // namespace tokki::engine

namespace tokki::engine {
namespace {

TEST_P(LlamaEngineTest, ForgetDropsTheCache) {
  auto e = Open(Options());
  ASSERT_TRUE(e);
  std::vector<ChatMessage> msgs = {{"system", Persona(6)}, {"user", "Hi there"}};
  Outcome t1 = RunGen(*e, Chat("f", msgs, 8));
  ASSERT_TRUE(t1.result.ok());
  e->Forget("f");
  EXPECT_EQ(e->Tier("f"), CacheTier::kNone);
  Outcome t2 = RunGen(*e, Chat("f", msgs, 8));
  ASSERT_TRUE(t2.result.ok());
  EXPECT_EQ(t2.result->usage.cached_tokens, 0);
  EXPECT_EQ(t2.text, t1.text);
}

TEST_P(LlamaEngineTest, ContinueLastExtendsTheAssistantMessage) {
  auto e = Open(Options());
  ASSERT_TRUE(e);
  std::vector<ChatMessage> msgs = {{"user", "Tell a story"}};
  Outcome t1 = RunGen(*e, Chat("cl", msgs, 8));
  ASSERT_TRUE(t1.result.ok());
  // Continue the reply just produced: the prompt is the previous prompt plus the reply
  // (no end-of-turn), so nearly everything is reused.
  msgs.push_back({"assistant", t1.text});
  GenerateRequest r = Chat("cl", msgs, 8);
  r.continue_last = true;
  Outcome t2 = RunGen(*e, r);
  ASSERT_TRUE(t2.result.ok()) << t2.result.status().ToString();
  EXPECT_EQ(t2.result->usage.completion_tokens, 8);
  EXPECT_EQ(t2.result->usage.prompt_tokens, t1.result->usage.prompt_tokens + 8);
  EXPECT_EQ(t2.result->usage.cached_tokens, t2.result->usage.prompt_tokens - 1);
  // Greedy: continuing after 8 tokens equals generating 16 at once.
  Outcome whole = RunGen(*e, Chat("cl-whole", {{"user", "Tell a story"}}, 16));
  EXPECT_EQ(t1.text + t2.text, whole.text);
  // continue_last needs an assistant message last.
  GenerateRequest bad = Chat("cl2", {{"user", "x"}}, 4);
  bad.continue_last = true;
  EXPECT_EQ(e->Submit(bad, {}).status().code(), Status::Code::kInvalidArgument);
}

TEST_P(LlamaEngineTest, OversizedPromptIsRejected) {
  auto e = Open(Options());
  ASSERT_TRUE(e);
  std::string huge;
  for (int i = 0; i < 3000; ++i) huge += " bread";
  auto r = e->Submit(Chat("big", {{"user", huge}}, 4), {});
  EXPECT_EQ(r.status().code(), Status::Code::kTooLarge);
}

}  // namespace
}  // namespace tokki::engine

namespace tokki::engine {
namespace {

TEST_P(LlamaEngineTest, ForgetDuringAGenerationTakesEffectAfterIt) {
  auto e = Open(Options());
  ASSERT_TRUE(e);
  std::vector<ChatMessage> msgs = {{"system", Persona(7)}, {"user", "Hello"}};
  auto done = std::make_shared<std::promise<Result<GenerateResult>>>();
  auto text = std::make_shared<std::string>();
  auto first = std::make_shared<std::promise<void>>();
  GenerateCallbacks cb;
  cb.on_token = [text, first](std::string_view t) {
    if (text->empty()) first->set_value();
    *text += t;
  };
  cb.on_done = [done](Result<GenerateResult> r) { done->set_value(std::move(r)); };
  auto h = e->Submit(Chat("fd", msgs, 24), cb);
  ASSERT_TRUE(h.ok());
  first->get_future().wait();
  e->Forget("fd");  // while it runs: the turn still completes normally
  Result<GenerateResult> r = done->get_future().get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->usage.completion_tokens, 24);
  Outcome alone = RunGen(*e, Chat("fd-control", msgs, 24));
  EXPECT_EQ(*text, alone.text);
  Outcome again = RunGen(*e, Chat("fd", msgs, 4));
  ASSERT_TRUE(again.result.ok());
  EXPECT_EQ(again.result->usage.cached_tokens, 0);
}

}  // namespace
}  // namespace tokki::engine
