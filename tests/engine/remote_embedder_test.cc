// RemoteEmbedder and RemoteEngine::Embed against a real llama-server started with
// --embeddings on the generated tiny model (labels "server;model").
#include "engine/remote_embedder.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/llama_embedder.h"
#include "engine/remote_engine.h"
#include "llama_server.h"
#include "test_model.h"

namespace tokki::engine {
namespace {

const std::vector<std::string> kTexts = {
    "I adopted a grey cat named Biscuit last spring.",
    "My sister lives in Busan and works at the harbour.",
    "hello",
    "She plays the cello on Sundays.",
};

float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float d = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

class RemoteEmbedderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Mean pooling, as LlamaEmbedder uses for a model that declares none. With several
    // slots llama-server needs a unified KV cache (-kvu): without it, a text batched with
    // others is pooled over part of its tokens only and gets another vector than alone.
    embed_server_ = Started({"--embeddings", "--pooling", "mean", "-np", "2", "-kvu", "-c", "2048",
                             "-b", "512", "-ub", "512", "-t", "1"});
    chat_server_ = Started({"-np", "1", "-c", "1024", "-t", "1"});
  }
  static void TearDownTestSuite() {
    delete embed_server_;
    delete chat_server_;
    embed_server_ = chat_server_ = nullptr;
  }
  static testing::LlamaServer* Started(const std::vector<std::string>& args) {
    auto* s = new testing::LlamaServer();
    if (s->Start(testing::TinyModelPath(), args)) return s;
    delete s;
    return nullptr;
  }
  void SetUp() override {
    if (!embed_server_ || !chat_server_)
      GTEST_SKIP() << "llama-server not available (run tools/deps/llama.sh --tools)";
  }
  static std::shared_ptr<RemoteEmbedder> Embedder(std::vector<std::string> urls) {
    RemoteEmbedderOptions o;
    o.base_urls = std::move(urls);
    o.model = "tiny";
    auto r = RemoteEmbedder::Open(o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::shared_ptr<RemoteEmbedder>(std::move(r).value()) : nullptr;
  }
  static testing::LlamaServer* embed_server_;
  static testing::LlamaServer* chat_server_;
};
testing::LlamaServer* RemoteEmbedderTest::embed_server_ = nullptr;
testing::LlamaServer* RemoteEmbedderTest::chat_server_ = nullptr;

TEST_F(RemoteEmbedderTest, RemoteEngineEmbedsLikeTheEmbeddedModel) {
  RemoteEngineOptions o;
  o.base_urls = {chat_server_->url()};
  o.embedder = Embedder({embed_server_->url() + "/v1/"});
  auto e = RemoteEngine::Open(o);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE((*e)->Info().embedding.available);
  EXPECT_EQ((*e)->Info().embedding.n_dim, 0);  // not known before the server answers
  auto remote = (*e)->Embed(kTexts);
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  ASSERT_EQ(remote->size(), kTexts.size());
  EXPECT_EQ((*e)->Info().embedding.n_dim, 64);
  for (const auto& v : *remote) {
    ASSERT_EQ(v.size(), 64u);
    double s = 0;
    for (float x : v) s += static_cast<double>(x) * x;
    EXPECT_NEAR(std::sqrt(s), 1.0, 1e-5);
  }
  // The same model and pooling in this process: the same vectors, up to float rounding.
  LlamaEmbedderOptions lo;
  lo.model_path = testing::TinyModelPath();
  lo.n_threads = 1;
  auto local = LlamaEmbedder::Open(lo);
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  auto mine = (*local)->Embed(kTexts);
  ASSERT_TRUE(mine.ok());
  for (size_t i = 0; i < kTexts.size(); ++i)
    EXPECT_LE(MaxAbsDiff((*remote)[i], (*mine)[i]), 1e-3) << kTexts[i];
}

TEST_F(RemoteEmbedderTest, EmptyInputsAreHandledBeforeTheServer) {
  // A URL nothing listens on: neither call may reach it.
  auto dead = Embedder({"http://127.0.0.1:" + std::to_string(testing::FreePort())});
  ASSERT_TRUE(dead);
  auto none = dead->Embed({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(dead->Embed({"a", ""}).status().code(), Status::Code::kInvalidArgument);
}

TEST_F(RemoteEmbedderTest, ServerErrorsBecomeClearStatuses) {
  // A chat server started without --embeddings.
  auto chat = Embedder({chat_server_->url()});
  auto r = chat->Embed({"hello"});
  EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(r.status().message().find("--embeddings"), std::string::npos) << r.status().ToString();
  // Nothing listening.
  const std::string dead_url = "http://127.0.0.1:" + std::to_string(testing::FreePort());
  auto dead = Embedder({dead_url});
  EXPECT_EQ(dead->Embed({"hello"}).status().code(), Status::Code::kUnavailable);
  // A dead server and a live one: the live one answers every call.
  auto both = Embedder({dead_url, embed_server_->url()});
  for (int i = 0; i < 3; ++i) {
    auto ok = both->Embed({"hello", "world"});
    ASSERT_TRUE(ok.ok()) << ok.status().ToString();
    EXPECT_EQ(ok->size(), 2u);
  }
  // No engine-level embedder: unavailable, with the reason.
  RemoteEngineOptions o;
  o.base_urls = {chat_server_->url()};
  auto e = RemoteEngine::Open(o);
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE((*e)->Info().embedding.available);
  EXPECT_EQ((*e)->Embed({"hello"}).status().code(), Status::Code::kUnavailable);
}

TEST(RemoteEmbedderOpenTest, RejectsBadUrls) {
  RemoteEmbedderOptions o;
  EXPECT_EQ(RemoteEmbedder::Open(o).status().code(), Status::Code::kInvalidArgument);
  o.base_urls = {"ftp://x"};
  EXPECT_EQ(RemoteEmbedder::Open(o).status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace tokki::engine
