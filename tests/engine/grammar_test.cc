// Constrained output on the embedded engine (label "model"): JSON schemas and GBNF grammars
// with the generated random-weight model, whose unconstrained output is noise.
#include "engine/grammar.h"

#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/llama_engine.h"
#include "test_model.h"
#include "test_schema.h"

namespace tokki::engine {
namespace {

using nlohmann::json;
using testing::Outcome;
using testing::RunGen;

GenerateRequest Constrained(uint32_t seed, int max_tokens = 1500) {
  GenerateRequest r;
  r.messages = {{"system", "You describe pets as JSON."}, {"user", "Describe a pet."}};
  r.sampling.temperature = 1.0f;
  r.sampling.seed = seed;
  r.sampling.max_tokens = max_tokens;
  return r;
}

class GrammarTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    LlamaEngineOptions o;
    o.model_path = testing::TinyModelPath();
    o.n_threads = 1;
    o.n_parallel = 8;
    auto e = LlamaEngine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value().release();
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }
  static Engine* engine_;
};
Engine* GrammarTest::engine_ = nullptr;

TEST(SchemaToGbnfTest, ConvertsWithLlamaCppsConverter) {
  auto g = SchemaToGbnf(testing::kPetSchema);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_NE(g->find("root ::="), std::string::npos) << *g;
  EXPECT_NE(g->find("\"\\\"rabbit\\\"\""), std::string::npos) << *g;  // the enum's literal
  EXPECT_EQ(SchemaToGbnf("{\"type\": ").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(SchemaToGbnf("not json").status().code(), Status::Code::kInvalidArgument);
}

TEST_F(GrammarTest, EveryGenerationUnderASchemaIsValid) {
  constexpr int kRuns = 50;
  std::vector<std::future<Outcome>> runs;
  for (int i = 0; i < kRuns; ++i) {
    runs.push_back(std::async(std::launch::async, [i] {
      GenerateRequest r = Constrained(1000 + 7 * i);
      r.sampling.json_schema = testing::kPetSchema;
      return RunGen(*engine_, std::move(r));
    }));
  }
  int valid = 0;
  for (int i = 0; i < kRuns; ++i) {
    Outcome out = runs[i].get();
    ASSERT_TRUE(out.result.ok()) << out.result.status().ToString();
    EXPECT_EQ(out.result->finish_reason, FinishReason::kStop) << "seed " << 1000 + 7 * i << ": " << out.text;
    json doc = json::parse(out.text, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(doc.is_discarded()) << "seed " << 1000 + 7 * i << " is not JSON: " << out.text;
    const std::string why = testing::CheckPet(doc);
    EXPECT_EQ(why, "") << out.text;
    valid += why.empty();
  }
  EXPECT_EQ(valid, kRuns);
  std::printf("constrained generations valid under the schema: %d/%d\n", valid, kRuns);
}

TEST_F(GrammarTest, GbnfGrammarConstrainsTheReply) {
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    GenerateRequest r = Constrained(seed, 64);
    r.sampling.grammar = "root ::= (\"yes\" | \"no\") \" \" [a-c]{2,5}";
    Outcome out = RunGen(*engine_, std::move(r));
    ASSERT_TRUE(out.result.ok()) << out.result.status().ToString();
    EXPECT_EQ(out.result->finish_reason, FinishReason::kStop);
    const bool yes = out.text.rfind("yes ", 0) == 0, no = out.text.rfind("no ", 0) == 0;
    ASSERT_TRUE(yes || no) << out.text;
    const std::string tail = out.text.substr(yes ? 4 : 3);
    EXPECT_GE(tail.size(), 2u) << out.text;
    EXPECT_LE(tail.size(), 5u) << out.text;
    EXPECT_EQ(tail.find_first_not_of("abc"), std::string::npos) << out.text;
  }
}

TEST_F(GrammarTest, GreedyAndPenaltiesKeepTheGrammar) {
  // Greedy sampling, and penalties fed with the prompt's tokens, still obey the grammar.
  GenerateRequest r = Constrained(5);
  r.sampling.temperature = 0;
  r.sampling.repeat_penalty = 1.3f;
  r.sampling.dry_multiplier = 0.8f;
  r.sampling.json_schema = testing::kPetSchema;
  Outcome out = RunGen(*engine_, std::move(r));
  ASSERT_TRUE(out.result.ok()) << out.result.status().ToString();
  EXPECT_EQ(out.result->finish_reason, FinishReason::kStop);
  json doc = json::parse(out.text, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << out.text;
  EXPECT_EQ(testing::CheckPet(doc), "") << out.text;
}

TEST_F(GrammarTest, BadSchemaOrGrammarIsInvalidArgumentAtSubmit) {
  auto submit = [](SamplingParams sp) {
    GenerateRequest r = Constrained(1, 16);
    r.sampling.json_schema = sp.json_schema;
    r.sampling.grammar = sp.grammar;
    r.sampling.ignore_eos = sp.ignore_eos;
    GenerateCallbacks cb;
    cb.on_token = [](std::string_view) {};
    cb.on_done = [](Result<GenerateResult>) {};
    return engine_->Submit(std::move(r), std::move(cb)).status();
  };
  SamplingParams not_json;
  not_json.json_schema = "{\"type\": \"object\", ";
  SamplingParams bad_ref;
  bad_ref.json_schema = R"({"$ref": "#/definitions/missing"})";
  SamplingParams bad_grammar;
  bad_grammar.grammar = "root ::= (\"a\" ";
  SamplingParams no_root;
  no_root.grammar = "start ::= \"a\"";
  SamplingParams undefined_rule;
  undefined_rule.grammar = "root ::= thing";
  SamplingParams both;
  both.json_schema = testing::kPetSchema;
  both.grammar = "root ::= \"a\"";
  SamplingParams endless;
  endless.grammar = "root ::= \"a\"";
  endless.ignore_eos = true;
  for (const SamplingParams& sp : {not_json, bad_ref, bad_grammar, no_root, undefined_rule, both, endless}) {
    Status st = submit(sp);
    EXPECT_EQ(st.code(), Status::Code::kInvalidArgument)
        << st.ToString() << " for schema " << sp.json_schema << " grammar " << sp.grammar;
  }
  // The engine still works afterwards.
  GenerateRequest ok = Constrained(3, 8);
  ok.sampling.grammar = "root ::= \"fine\"";
  Outcome out = RunGen(*engine_, std::move(ok));
  ASSERT_TRUE(out.result.ok()) << out.result.status().ToString();
  EXPECT_EQ(out.text, "fine");
  EXPECT_EQ(out.result->finish_reason, FinishReason::kStop);
}

}  // namespace
}  // namespace tokki::engine
