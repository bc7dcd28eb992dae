// RemoteEngine against a real llama-server on 127.0.0.1 (label "server").
#include "engine/remote_engine.h"

#include <gtest/gtest.h>

#include <future>
#include <set>

#include "llama_server.h"
#include "test_model.h"

namespace tokki::engine {
namespace {

using testing::Outcome;
using testing::RunGen;

GenerateRequest Chat(std::string key, int max_tokens) {
  GenerateRequest r;
  r.conversation_key = std::move(key);
  r.messages = {{"system", "You are a friendly baker."}, {"user", "Hello! How are you today?"}};
  r.sampling.temperature = 0;
  r.sampling.max_tokens = max_tokens;
  r.sampling.ignore_eos = true;
  return r;
}

class RemoteEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new testing::LlamaServer();
    if (!server_->Start(testing::TinyModelPath(), {"-np", "2", "-c", "4096", "-t", "1"})) {
      delete server_;
      server_ = nullptr;
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (!server_) GTEST_SKIP() << "llama-server not available (run tools/deps/llama.sh --tools)";
  }
  static testing::LlamaServer* server_;
};
testing::LlamaServer* RemoteEngineTest::server_ = nullptr;

TEST_F(RemoteEngineTest, StreamsAReply) {
  RemoteEngineOptions o;
  o.base_urls = {server_->url() + "/v1/"};
  o.model = "tiny";
  auto e = RemoteEngine::Open(o);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  Outcome out = RunGen(**e, Chat("c1", 12));
  ASSERT_TRUE(out.result.ok()) << out.result.status().ToString();
  EXPECT_EQ(out.result->finish_reason, FinishReason::kLength);
  EXPECT_EQ(out.result->usage.completion_tokens, 12);
  EXPECT_GT(out.result->usage.prompt_tokens, 10);
  EXPECT_GT(out.n_pieces, 1);  // streamed, not one blob
  EXPECT_FALSE(out.text.empty());
  EXPECT_GT(out.result->ttft_ms, 0);
  EXPECT_EQ((*e)->Info().backend, "openai");
  // The server's prompt cache works through the same conversation.
  Outcome again = RunGen(**e, Chat("c1", 12));
  ASSERT_TRUE(again.result.ok());
  EXPECT_EQ(again.text, out.text);
  EXPECT_GT(again.result->usage.cached_tokens, 0);
}

TEST_F(RemoteEngineTest, StopStringsCutTheText) {
  RemoteEngineOptions o;
  o.base_urls = {server_->url()};
  o.model = "tiny";
  auto e = RemoteEngine::Open(o);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  Outcome free_run = RunGen(**e, Chat("stop1", 24));
  ASSERT_TRUE(free_run.result.ok());
  ASSERT_GE(free_run.text.size(), 8u);
  const std::string stop = free_run.text.substr(free_run.text.size() / 2, 3);
  GenerateRequest r = Chat("stop2", 24);
  r.sampling.stop = {stop};
  Outcome cut = RunGen(**e, r);
  ASSERT_TRUE(cut.result.ok()) << cut.result.status().ToString();
  EXPECT_EQ(cut.result->finish_reason, FinishReason::kStop);
  EXPECT_EQ(cut.text, free_run.text.substr(0, free_run.text.find(stop)));
}

TEST_F(RemoteEngineTest, FailsOverWhenAServerIsDown) {
  RemoteEngineOptions o;
  const std::string dead = "http://127.0.0.1:" + std::to_string(testing::FreePort());
  o.base_urls = {dead, server_->url()};
  auto e = RemoteEngine::Open(o);
  ASSERT_TRUE(e.ok());
  auto* remote = static_cast<RemoteEngine*>(e->get());
  // Assignment is sticky and spreads conversations over both servers.
  std::set<std::string> owners;
  std::string on_dead;
  for (int i = 0; i < 32; ++i) {
    const std::string key = "conv" + std::to_string(i);
    EXPECT_EQ(remote->ServerFor(key), remote->ServerFor(key));
    owners.insert(remote->ServerFor(key));
    if (remote->ServerFor(key) == dead && on_dead.empty()) on_dead = key;
  }
  EXPECT_EQ(owners.size(), 2u);
  ASSERT_FALSE(on_dead.empty());
  // A conversation that belongs to the dead server is served by the live one.
  Outcome out = RunGen(**e, Chat(on_dead, 8));
  ASSERT_TRUE(out.result.ok()) << out.result.status().ToString();
  EXPECT_EQ(out.result->usage.completion_tokens, 8);
  // All servers down: a clear Unavailable.
  RemoteEngineOptions none;
  none.base_urls = {dead};
  auto e2 = RemoteEngine::Open(none);
  Outcome fail = RunGen(**e2, Chat("x", 4));
  EXPECT_EQ(fail.result.status().code(), Status::Code::kUnavailable);
}

TEST_F(RemoteEngineTest, CancelStopsTheStream) {
  RemoteEngineOptions o;
  o.base_urls = {server_->url()};
  auto e = RemoteEngine::Open(o);
  ASSERT_TRUE(e.ok());
  auto first = std::make_shared<std::promise<void>>();
  auto done = std::make_shared<std::promise<Result<GenerateResult>>>();
  auto n = std::make_shared<std::atomic<int>>(0);
  GenerateCallbacks cb;
  cb.on_token = [first, n](std::string_view) {
    if (n->fetch_add(1) == 0) first->set_value();
  };
  cb.on_done = [done](Result<GenerateResult> r) { done->set_value(std::move(r)); };
  auto h = (*e)->Submit(Chat("long", 3000), cb);
  ASSERT_TRUE(h.ok());
  first->get_future().wait();
  (*h)->Cancel();
  auto r = done->get_future().get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finish_reason, FinishReason::kCancelled);
  EXPECT_LT(n->load(), 3000);
}

TEST(RemoteEngineOpenTest, RejectsBadUrls) {
  RemoteEngineOptions o;
  EXPECT_EQ(RemoteEngine::Open(o).status().code(), Status::Code::kInvalidArgument);
  o.base_urls = {"ftp://x"};
  EXPECT_EQ(RemoteEngine::Open(o).status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace tokki::engine
