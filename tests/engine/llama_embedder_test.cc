// LlamaEmbedder (and LlamaEngine::Embed) against the generated tiny model (label "model").
// The contract every Embedder keeps is in embedder_conformance_test.cc; this file covers
// what is LlamaEmbedder's own: packing and splitting, truncation, pooling, files, threads.
#include "engine/llama_embedder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/llama_engine.h"
#include "engine/model_gen.h"
#include "test_model.h"

namespace tokki::engine {
namespace {

namespace fs = std::filesystem;

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

double Norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  return std::sqrt(s);
}

float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float d = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

class LlamaEmbedderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = new std::string(testing::TinyModelPath()); }
  static void TearDownTestSuite() { delete model_; }

  static LlamaEmbedderOptions Options() {
    LlamaEmbedderOptions o;
    o.model_path = *model_;
    o.n_threads = 1;
    return o;
  }
  static std::unique_ptr<LlamaEmbedder> Open(LlamaEmbedderOptions o) {
    auto r = LlamaEmbedder::Open(std::move(o));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }
  // Each text embedded on its own.
  static Embeddings OneByOne(Embedder& e, const std::vector<std::string>& texts) {
    Embeddings out;
    for (const std::string& t : texts) {
      auto r = e.Embed({t});
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      out.push_back(r.ok() ? r->at(0) : std::vector<float>());
    }
    return out;
  }
  static std::string* model_;
};
std::string* LlamaEmbedderTest::model_ = nullptr;

TEST_F(LlamaEmbedderTest, GivesOneUnitVectorPerTextInOrder) {
  auto e = Open(Options());
  ASSERT_TRUE(e);
  const EmbeddingInfo info = e->Info();
  EXPECT_TRUE(info.available);
  EXPECT_EQ(info.backend, "llama.cpp");
  EXPECT_EQ(info.n_dim, 64);  // the tiny preset's n_embd
  EXPECT_EQ(info.pooling, "mean");
  EXPECT_EQ(info.max_text_tokens, 512);  // n_batch; the model was trained on 2048
  EXPECT_EQ(info.model, std::string(kGeneratedModelNamePrefix) + "tiny");

  auto r = e->Embed(kTexts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), kTexts.size());
  for (const auto& v : *r) {
    ASSERT_EQ(static_cast<int>(v.size()), info.n_dim);
    EXPECT_NEAR(Norm(v), 1.0, 1e-5);
  }
  // Different texts, different vectors; order is kept (checked against one by one).
  EXPECT_GT(MaxAbsDiff((*r)[0], (*r)[1]), 1e-3);
  Embeddings alone = OneByOne(*e, kTexts);
  for (size_t i = 0; i < kTexts.size(); ++i) EXPECT_LE(MaxAbsDiff((*r)[i], alone[i]), 1e-4) << i;
}

TEST_F(LlamaEmbedderTest, SplitsCallsLargerThanOneDecode) {
  // 3 texts per decode, 96 tokens per decode: 40 texts take many decodes, split both by
  // count and by tokens; every vector still matches the text embedded alone.
  LlamaEmbedderOptions o = Options();
  o.n_seq_max = 3;
  o.n_batch = 96;
  auto e = Open(o);
  ASSERT_TRUE(e);
  std::vector<std::string> texts;
  for (int i = 0; i < 40; ++i)
    texts.push_back(kTexts[i % kTexts.size()] + " #" + std::to_string(i));
  auto all = e->Embed(texts);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), texts.size());
  Embeddings alone = OneByOne(*e, texts);
  for (size_t i = 0; i < texts.size(); ++i) EXPECT_LE(MaxAbsDiff((*all)[i], alone[i]), 1e-4) << i;
}

TEST_F(LlamaEmbedderTest, LongTextKeepsItsFirstTokens) {
  LlamaEmbedderOptions o = Options();
  o.n_batch = 64;
  auto e = Open(o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->Info().max_text_tokens, 64);
  std::string head;
  for (int i = 0; i < 200; ++i) head += "word" + std::to_string(i) + " ";
  const std::string a = head + "and then apples", b = head + "but later bananas";
  EXPECT_EQ(e->Tokens(a).size(), 64u);
  EXPECT_EQ(e->Tokens(a), e->Tokens(b));           // they differ only after the 64th token
  EXPECT_EQ(e->Tokens("hello there").size(), 2u);  // short texts are untouched
  auto r = e->Embed({a, b, "word0 word1 word2"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LE(MaxAbsDiff((*r)[0], (*r)[1]), 1e-5);
  EXPECT_GT(MaxAbsDiff((*r)[0], (*r)[2]), 1e-3);
  EXPECT_NEAR(Norm((*r)[0]), 1.0, 1e-5);
}

TEST_F(LlamaEmbedderTest, DeclaredPoolingIsUsed) {
  LlamaEmbedderOptions o = Options();
  o.model_path = testing::TinyModelPathWithPooling("last");
  auto last = Open(o);
  auto mean = Open(Options());  // the same weights, no pooling declared
  ASSERT_TRUE(last && mean);
  EXPECT_EQ(last->Info().pooling, "last");
  // One token: its mean is itself. Several: the last token's state is not the mean.
  ASSERT_EQ(mean->Tokens("hello").size(), 1u);
  auto l = last->Embed({"hello", kTexts[0]});
  auto m = mean->Embed({"hello", kTexts[0]});
  ASSERT_TRUE(l.ok() && m.ok());
  EXPECT_LE(MaxAbsDiff((*l)[0], (*m)[0]), 1e-5);
  EXPECT_GT(MaxAbsDiff((*l)[1], (*m)[1]), 1e-3);
}

TEST_F(LlamaEmbedderTest, ConcurrentCallersGetTheirOwnVectors) {
  auto e = Open(Options());
  ASSERT_TRUE(e);
  Embeddings expected = OneByOne(*e, kTexts);
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        const size_t i = (t * 3 + round) % kTexts.size();
        auto r = e->Embed({kTexts[i]});
        if (!r.ok() || MaxAbsDiff(r->at(0), expected[i]) > 1e-4) ++wrong[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(wrong[t], 0) << "thread " << t;
}

TEST_F(LlamaEmbedderTest, BadModelFilesGiveClearErrors) {
  const fs::path dir = fs::path(TOKKI_TEST_MODEL_DIR) / "bad-embed";
  fs::create_directories(dir);
  auto open = [](const std::string& p) {
    LlamaEmbedderOptions o = Options();
    o.model_path = p;
    return LlamaEmbedder::Open(o).status();
  };
  Status missing = open((dir / "nope.gguf").string());
  EXPECT_EQ(missing.code(), Status::Code::kNotFound) << missing.ToString();

  { std::ofstream(dir / "garbage.gguf") << "this is not a model at all, just text\n"; }
  Status garbage = open((dir / "garbage.gguf").string());
  EXPECT_EQ(garbage.code(), Status::Code::kInvalidArgument) << garbage.ToString();
  EXPECT_NE(garbage.message().find("GGUF"), std::string::npos);

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

  EXPECT_EQ(open("").code(), Status::Code::kInvalidArgument);
  LlamaEmbedderOptions o = Options();
  o.max_model_bytes = 1024;
  EXPECT_EQ(LlamaEmbedder::Open(o).status().code(), Status::Code::kTooLarge);
}

TEST_F(LlamaEmbedderTest, ChatEngineEmbedsThroughItsEmbedder) {
  LlamaEngineOptions o;
  o.model_path = *model_;
  o.n_ctx = 1024;
  o.n_threads = 1;
  o.n_parallel = 2;
  o.n_seq_max = 4;
  {
    auto plain = LlamaEngine::Open(o);
    ASSERT_TRUE(plain.ok()) << plain.status().ToString();
    EXPECT_FALSE((*plain)->Info().embedding.available);
    auto r = (*plain)->Embed({"hello"});
    EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
    EXPECT_NE(r.status().message().find("no embedding model"), std::string::npos);
  }
  std::shared_ptr<LlamaEmbedder> embedder = Open(Options());
  ASSERT_TRUE(embedder);
  o.embedder = embedder;
  auto engine = LlamaEngine::Open(o);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  const ModelInfo info = (*engine)->Info();
  EXPECT_TRUE(info.embedding.available);
  EXPECT_EQ(info.embedding.n_dim, 64);
  auto via_engine = (*engine)->Embed(kTexts);
  auto direct = embedder->Embed(kTexts);
  ASSERT_TRUE(via_engine.ok() && direct.ok());
  EXPECT_EQ(*via_engine, *direct);
}

}  // namespace
}  // namespace tokki::engine
