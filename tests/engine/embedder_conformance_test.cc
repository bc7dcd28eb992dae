// Embedder conformance: the contract of embedder.h, checked with the same tests against
// LlamaEmbedder and against RemoteEmbedder talking to a real llama-server started with
// --embeddings (labels "model" and "server"), both on the generated tiny model with mean
// pooling. Truncation is each embedder's own rule and is tested in its own file.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

#include "engine/llama_embedder.h"
#include "engine/remote_embedder.h"
#include "llama_server.h"
#include "test_model.h"

namespace tokki::engine {
namespace {

enum class Kind { kLlama, kRemote };

const std::vector<std::string> kTexts = {
    "I adopted a grey cat named Biscuit last spring.",
    "My sister lives in Busan and works at the harbour.",
    "hello",
    "We talked about jazz records, old maps and the smell of rain on warm stones.",
    "Allergic to peanuts.",
    "The user's favourite season is autumn because of the festivals and the food stalls "
    "that open along the river every evening until late.",
    "She plays the cello on Sundays.",
    "비 오는 날을 좋아해요.",
};

float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float d = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

class EmbedderConformanceTest : public ::testing::TestWithParam<Kind> {
 protected:
  static void SetUpTestSuite() {
    // With several slots llama-server needs a unified KV cache (-kvu): without it, a text
    // batched with others is pooled over part of its tokens and gets another vector.
    server_ = new testing::LlamaServer();
    if (!server_->Start(testing::TinyModelPath(),
                        {"--embeddings", "--pooling", "mean", "-np", "4", "-kvu", "-c", "4096",
                         "-b", "512", "-ub", "512", "-t", "1"})) {
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
      LlamaEmbedderOptions o;
      o.model_path = testing::TinyModelPath();
      o.n_threads = 1;
      auto e = LlamaEmbedder::Open(o);
      ASSERT_TRUE(e.ok()) << e.status().ToString();
      embedder_ = std::move(e).value();
    } else {
      if (!server_) GTEST_SKIP() << "llama-server not available (run tools/deps/llama.sh --tools)";
      RemoteEmbedderOptions o;
      o.base_urls = {server_->url()};
      o.model = "tiny";
      auto e = RemoteEmbedder::Open(o);
      ASSERT_TRUE(e.ok()) << e.status().ToString();
      embedder_ = std::move(e).value();
    }
  }

  static testing::LlamaServer* server_;
  std::unique_ptr<Embedder> embedder_;
};
testing::LlamaServer* EmbedderConformanceTest::server_ = nullptr;

TEST_P(EmbedderConformanceTest, OneUnitVectorPerTextInOrder) {
  EXPECT_TRUE(embedder_->Info().available);
  auto r = embedder_->Embed(kTexts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), kTexts.size());
  EXPECT_EQ(embedder_->Info().n_dim, 64);  // the tiny preset's n_embd, known after a call
  for (const auto& v : *r) {
    ASSERT_EQ(v.size(), 64u);
    double s = 0;
    for (float x : v) s += static_cast<double>(x) * x;
    EXPECT_NEAR(std::sqrt(s), 1.0, 1e-5);
  }
  for (size_t i = 0; i + 1 < kTexts.size(); ++i) EXPECT_GT(MaxAbsDiff((*r)[i], (*r)[i + 1]), 1e-3);
}

TEST_P(EmbedderConformanceTest, SameTextSameVector) {
  auto a = embedder_->Embed({kTexts[3]});
  auto b = embedder_->Embed({kTexts[3]});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

TEST_P(EmbedderConformanceTest, BatchedEqualsAlone) {
  const std::string text = "Remember: my grandmother's name is Soon-ja and she grows persimmons.";
  auto alone = embedder_->Embed({text});
  ASSERT_TRUE(alone.ok()) << alone.status().ToString();
  std::vector<std::string> batch = kTexts;  // the probe among 7 others
  batch[3] = text;
  auto together = embedder_->Embed(batch);
  ASSERT_TRUE(together.ok()) << together.status().ToString();
  EXPECT_LE(MaxAbsDiff((*together)[3], (*alone)[0]), 1e-4);
}

TEST_P(EmbedderConformanceTest, EmptyListIsEmptyAndAnEmptyTextIsRefused) {
  auto none = embedder_->Embed({});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  auto bad = embedder_->Embed({"fine", ""});
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("text 1"), std::string::npos) << bad.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Embedders, EmbedderConformanceTest,
                         ::testing::Values(Kind::kLlama, Kind::kRemote),
                         [](const ::testing::TestParamInfo<Kind>& info) {
                           return info.param == Kind::kLlama ? std::string("Llama")
                                                             : std::string("Remote");
                         });

}  // namespace
}  // namespace tokki::engine
