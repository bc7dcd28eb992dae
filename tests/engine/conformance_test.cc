// Engine conformance: the same behaviour from every Engine implementation, checked with
// the same tests against the embedded LlamaEngine and against RemoteEngine talking to a
// real llama-server on 127.0.0.1 (labels "model" and "server"), both on the generated
// tiny model. What one backend cannot promise (e.g. exact cached-token counts) is not
// asserted here; each engine's own tests cover it.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/llama_engine.h"
#include "engine/remote_engine.h"
#include "llama_server.h"
#include "test_model.h"
#include "test_schema.h"

namespace tokki::engine {
namespace {

using testing::Outcome;
using testing::RunGen;

enum class Kind { kLlama, kRemote };

GenerateRequest Chat(std::string key, int max_tokens) {
  GenerateRequest r;
  r.conversation_key = std::move(key);
  r.messages = {{"system", "You are a friendly baker who loves rye bread."},
                {"user", "Hello! How are you today?"}};
  r.sampling.temperature = 0;
  r.sampling.max_tokens = max_tokens;
  r.sampling.ignore_eos = true;
  return r;
}

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

class EngineConformanceTest : public ::testing::TestWithParam<Kind> {
 protected:
  static void SetUpTestSuite() {
    server_ = new testing::LlamaServer();
    if (!server_->Start(testing::TinyModelPath(), {"-np", "4", "-c", "8192", "-t", "1"})) {
      delete server_;
      server_ = nullptr;
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    if (GetParam() == Kind::kLlama) {
      LlamaEngineOptions o;
      o.model_path = testing::TinyModelPath();
      o.n_ctx_seq = 2048;
      o.n_parallel = 4;
      o.n_threads = 1;
      auto e = LlamaEngine::Open(o);
      ASSERT_TRUE(e.ok()) << e.status().ToString();
      engine_ = std::move(e).value();
    } else {
      if (!server_) GTEST_SKIP() << "llama-server not available (run tools/deps/llama.sh --tools)";
      RemoteEngineOptions o;
      o.base_urls = {server_->url()};
      o.model = "tiny";
      auto e = RemoteEngine::Open(o);
      ASSERT_TRUE(e.ok()) << e.status().ToString();
      engine_ = std::move(e).value();
    }
  }
  void TearDown() override {
    if (engine_) engine_->Shutdown();
  }

  std::unique_ptr<Engine> engine_;
  static testing::LlamaServer* server_;
};
testing::LlamaServer* EngineConformanceTest::server_ = nullptr;

INSTANTIATE_TEST_SUITE_P(Engines, EngineConformanceTest,
                         ::testing::Values(Kind::kLlama, Kind::kRemote),
                         [](const ::testing::TestParamInfo<Kind>& info) {
                           return info.param == Kind::kLlama ? "Llama" : "Remote";
                         });

TEST_P(EngineConformanceTest, StreamsExactlyMaxTokensWithUsage) {
  Outcome out = RunGen(*engine_, Chat("c1", 12));
  ASSERT_TRUE(out.result.ok()) << out.result.status().ToString();
  EXPECT_EQ(out.result->finish_reason, FinishReason::kLength);
  EXPECT_EQ(out.result->usage.completion_tokens, 12);
  EXPECT_GT(out.result->usage.prompt_tokens, 10);
  EXPECT_GT(out.n_pieces, 1);
  EXPECT_FALSE(out.text.empty());
  EXPECT_TRUE(ValidUtf8(out.text));
  EXPECT_GT(out.result->ttft_ms, 0);
  EXPECT_GE(out.result->total_ms, out.result->ttft_ms);
}

TEST_P(EngineConformanceTest, GreedyIsDeterministicAndTheNextTurnReusesTheCache) {
  Outcome a = RunGen(*engine_, Chat("d1", 10));
  Outcome b = RunGen(*engine_, Chat("d2", 10));
  ASSERT_TRUE(a.result.ok() && b.result.ok());
  EXPECT_EQ(a.text, b.text);
  GenerateRequest next = Chat("d1", 6);
  next.messages.push_back({"assistant", a.text});
  next.messages.push_back({"user", "And what do you bake today?"});
  Outcome c = RunGen(*engine_, next);
  ASSERT_TRUE(c.result.ok()) << c.result.status().ToString();
  EXPECT_GT(c.result->usage.cached_tokens, 0);
  EXPECT_LT(c.result->usage.cached_tokens, c.result->usage.prompt_tokens);
}

TEST_P(EngineConformanceTest, StopStringsEndTheReplyBeforeThem) {
  Outcome free_run = RunGen(*engine_, Chat("s1", 24));
  ASSERT_TRUE(free_run.result.ok());
  ASSERT_GE(free_run.text.size(), 8u);
  const std::string stop = free_run.text.substr(free_run.text.size() / 2, 3);
  GenerateRequest r = Chat("s2", 24);
  r.sampling.stop = {stop};
  Outcome cut = RunGen(*engine_, r);
  ASSERT_TRUE(cut.result.ok()) << cut.result.status().ToString();
  EXPECT_EQ(cut.result->finish_reason, FinishReason::kStop);
  EXPECT_EQ(cut.text, free_run.text.substr(0, free_run.text.find(stop)));
}

TEST_P(EngineConformanceTest, CancelEndsTheStreamAsCancelled) {
  auto first = std::make_shared<std::promise<void>>();
  auto done = std::make_shared<std::promise<Result<GenerateResult>>>();
  auto n = std::make_shared<std::atomic<int>>(0);
  GenerateCallbacks cb;
  cb.on_token = [first, n](std::string_view) {
    if (n->fetch_add(1) == 0) first->set_value();
  };
  cb.on_done = [done](Result<GenerateResult> r) { done->set_value(std::move(r)); };
  auto h = engine_->Submit(Chat("long", 1500), cb);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  first->get_future().wait();
  (*h)->Cancel();
  (*h)->Cancel();  // idempotent
  Result<GenerateResult> r = done->get_future().get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->finish_reason, FinishReason::kCancelled);
  EXPECT_LT(n->load(), 1500);
}

TEST_P(EngineConformanceTest, ContinueLastExtendsTheAssistantMessage) {
  GenerateRequest r = Chat("k1", 6);
  r.messages.push_back({"assistant", "Rye bread is"});
  r.continue_last = true;
  Outcome out = RunGen(*engine_, r);
  ASSERT_TRUE(out.result.ok()) << out.result.status().ToString();
  EXPECT_EQ(out.result->usage.completion_tokens, 6);
  EXPECT_FALSE(out.text.empty());
}

TEST_P(EngineConformanceTest, BadRequestsAreRefused) {
  GenerateRequest none = Chat("b1", 4);
  none.messages.clear();
  Outcome out = RunGen(*engine_, none);
  EXPECT_EQ(out.result.status().code(), Status::Code::kInvalidArgument);
  GenerateRequest zero = Chat("b2", 0);
  Outcome out2 = RunGen(*engine_, zero);
  EXPECT_FALSE(out2.result.ok());
}

TEST_P(EngineConformanceTest, ConcurrentRequestsAllFinish) {
  std::vector<std::future<Outcome>> futs;
  for (int i = 0; i < 6; ++i) {
    futs.push_back(std::async(std::launch::async, [this, i] {
      return RunGen(*engine_, Chat("p" + std::to_string(i), 8));
    }));
  }
  for (auto& f : futs) {
    Outcome out = f.get();
    ASSERT_TRUE(out.result.ok()) << out.result.status().ToString();
    EXPECT_EQ(out.result->usage.completion_tokens, 8);
  }
}

// Constrained output. The random-weight model writes noise unless the engine constrains
// it: valid documents every time mean the schema was applied (LlamaEngine: its grammar
// sampler; RemoteEngine: llama-server's response_format).
TEST_P(EngineConformanceTest, RepliesUnderAJsonSchemaAreValidDocuments) {
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    GenerateRequest r = Chat("schema" + std::to_string(seed), 1500);
    r.sampling.ignore_eos = false;
    r.sampling.temperature = 1.0f;
    r.sampling.seed = seed;
    r.sampling.json_schema = testing::kPetSchema;
    Outcome out = RunGen(*engine_, std::move(r));
    ASSERT_TRUE(out.result.ok()) << out.result.status().ToString();
    EXPECT_EQ(out.result->finish_reason, FinishReason::kStop) << out.text;
    auto doc = nlohmann::json::parse(out.text, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << out.text;
    EXPECT_EQ(testing::CheckPet(doc), "") << out.text;
  }
}

TEST_P(EngineConformanceTest, AGrammarConstrainsTheReply) {
  GenerateRequest r = Chat("grammar", 64);
  r.sampling.ignore_eos = false;
  r.sampling.grammar = "root ::= (\"yes\" | \"no\") \"!\"";
  Outcome out = RunGen(*engine_, std::move(r));
  ASSERT_TRUE(out.result.ok()) << out.result.status().ToString();
  EXPECT_TRUE(out.text == "yes!" || out.text == "no!") << out.text;
  EXPECT_EQ(out.result->finish_reason, FinishReason::kStop);
}

TEST_P(EngineConformanceTest, BadConstraintsAreInvalidArgument) {
  // At Submit (LlamaEngine checks every one there; RemoteEngine all but the grammar's
  // syntax, which the backend refuses: then on_done reports it).
  auto run = [&](std::string schema, std::string grammar, bool ignore_eos) {
    GenerateRequest r = Chat("bad", 8);
    r.sampling.ignore_eos = ignore_eos;
    r.sampling.json_schema = std::move(schema);
    r.sampling.grammar = std::move(grammar);
    return RunGen(*engine_, std::move(r)).result.status();
  };
  for (const Status& st : {run("{\"type\": ", "", false), run("[1, 2]", "", false),
                           run(testing::kPetSchema, "root ::= \"a\"", false),
                           run("", "root ::= \"a\"", true), run("", "root ::= (\"a\" ", false)}) {
    EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << st.ToString();
  }
}

}  // namespace
}  // namespace tokki::engine
