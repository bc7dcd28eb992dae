// POST /api/characters/draft with the generated random-weight model (labels "server" and
// "model"): the text is noise, but every draft is complete and within its bounds, because
// the engine writes it under the draft's JSON schema.
#include <string>

#include "../engine/test_model.h"
#include "engine/llama_engine.h"
#include "server_fixture.h"

namespace tokki::testing {
namespace {

using nlohmann::json;

// The documented bounds (docs/api.md), in characters.
struct Bound {
  const char* field;
  size_t max_chars;
};
const Bound kBounds[] = {{"name", 40},         {"tagline", 120},   {"description", 600},
                         {"personality", 400}, {"scenario", 400},  {"first_mes", 400},
                         {"mes_example", 600}};

// The text without control characters other than newline and tab (a draft drops them).
std::string Printable(const std::string& s) {
  std::string out;
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') out += c;
  return out;
}

// `draft` (cut to its bound) is how `raw` starts.
void ExpectFrom(const json& raw, const json& draft) {
  ASSERT_TRUE(raw.is_string() && draft.is_string()) << raw << " " << draft;
  EXPECT_EQ(Printable(raw.get<std::string>()).rfind(draft.get<std::string>(), 0), 0u)
      << raw << " vs " << draft;
}

size_t Chars(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Every field present and within its bounds.
void ExpectCompleteDraft(const json& d, const std::string& language) {
  ASSERT_TRUE(d.is_object()) << d.dump();
  for (const Bound& b : kBounds) {
    ASSERT_TRUE(d.contains(b.field) && d[b.field].is_string()) << b.field << " in " << d.dump();
    const size_t n = Chars(d[b.field].get<std::string>());
    EXPECT_GE(n, 1u) << b.field;
    EXPECT_LE(n, b.max_chars) << b.field;
  }
  ASSERT_TRUE(d.contains("tags") && d["tags"].is_array()) << d.dump();
  EXPECT_GE(d["tags"].size(), 1u);
  EXPECT_LE(d["tags"].size(), 6u);
  for (const auto& t : d["tags"]) {
    ASSERT_TRUE(t.is_string());
    EXPECT_GE(Chars(t.get<std::string>()), 1u);
    EXPECT_LE(Chars(t.get<std::string>()), 24u);
  }
  EXPECT_EQ(d["language"], language);
}

class DraftModelTest : public ServerFixture {
 protected:
  DraftModelTest() {
    make_engine_ = [] {
      engine::LlamaEngineOptions o;
      o.model_path = engine::testing::TinyModelPath();
      o.n_threads = 1;
      o.n_parallel = 4;
      auto e = engine::LlamaEngine::Open(o);
      EXPECT_TRUE(e.ok()) << e.status().ToString();
      return e.ok() ? std::move(e).value() : nullptr;
    };
  }
};

TEST_F(DraftModelTest, StreamedDraftIsCompleteAndWithinBounds) {
  auto u = User("creator");
  for (const std::string lang : {"en", "ko", "zh"}) {
    int status = 0;
    auto events = u.Stream(http::verb::post, "/api/characters/draft",
                           json{{"idea", "a shy dragon who runs a tea shop"}, {"language", lang}}.dump(),
                           "draft", 100000, {}, &status, 120000);
    EXPECT_EQ(status, 200);
    ASSERT_GE(events.size(), 2u);
    ASSERT_EQ(events.back().event, "draft") << events.back().data;
    std::string text;
    for (size_t i = 0; i + 1 < events.size(); ++i) {
      ASSERT_EQ(events[i].event, "token");
      EXPECT_EQ(events[i].id, std::to_string(i + 1));
      text += events[i].json()["text"].get<std::string>();
    }
    auto done = events.back().json();
    EXPECT_EQ(done["finish_reason"], "stop");
    EXPECT_GT(done["usage"]["completion_tokens"].get<int>(), 10);
    ExpectCompleteDraft(done["draft"], lang);
    // The tokens are the model's JSON; the draft is it, under the character's field names.
    auto raw = json::parse(text, nullptr, false);
    ASSERT_TRUE(raw.is_object()) << text;
    ExpectFrom(raw["name"], done["draft"]["name"]);
    ExpectFrom(raw["greeting"], done["draft"]["first_mes"]);
    ExpectFrom(raw["example_dialogue"], done["draft"]["mes_example"]);
    ASSERT_EQ(raw["tags"].size(), done["draft"]["tags"].size());
    for (size_t i = 0; i < raw["tags"].size(); ++i) ExpectFrom(raw["tags"][i], done["draft"]["tags"][i]);
  }
}

TEST_F(DraftModelTest, DraftWithoutStreamIsOneJsonAnswer) {
  auto u = User("creator2");
  for (int i = 0; i < 2; ++i) {
    auto r = u.Post("/api/characters/draft", {{"idea", "a retired astronaut"}, {"language", "en"}});
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = r.json();
    EXPECT_EQ(j["finish_reason"], "stop");
    ExpectCompleteDraft(j["draft"], "en");
    // The draft is a valid character as it is (nothing was saved yet).
    json fields = j["draft"];
    auto made = u.Post("/api/characters", fields);
    EXPECT_EQ(made.status, 201) << made.body;
  }
}

}  // namespace
}  // namespace tokki::testing
