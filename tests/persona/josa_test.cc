#include "persona/josa.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "persona/macros.h"
#include "persona/prompt.h"

#include "count_words.h"

namespace tokki::persona {
namespace {

// tests/data/josa_cases.json: [{name, text, expected, note?}], shared with
// web/src/josa.test.ts so that both implementations are held to the same table.
nlohmann::json LoadCases() {
  std::ifstream in(TOKKI_TEST_DATA_DIR "/josa_cases.json", std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return nlohmann::json::parse(buf.str(), nullptr, /*allow_exceptions=*/false);
}

TEST(Josa, SharedTableThroughExpandMacros) {
  const nlohmann::json cases = LoadCases();
  ASSERT_TRUE(cases.is_array()) << "cannot read " TOKKI_TEST_DATA_DIR "/josa_cases.json";
  EXPECT_GE(cases.size(), 40u);
  for (const auto& c : cases) {
    const std::string name = c.at("name").get<std::string>();
    const std::string text = c.at("text").get<std::string>();
    MacroContext ctx;
    ctx.char_name = name;
    ctx.user_name = name;
    EXPECT_EQ(ExpandMacros(text, ctx), c.at("expected").get<std::string>())
        << "name \"" << name << "\", text \"" << text << "\" (" << c.value("note", "") << ")";
  }
}

TEST(Josa, FinalSoundOfNames) {
  struct Case {
    const char* name;
    FinalSound want;
  } cases[] = {
      {"보리", FinalSound::kVowel},
      {"세종", FinalSound::kConsonant},
      {"하늘", FinalSound::kRieul},
      {"헌책방 서 노인", FinalSound::kConsonant},
      {"1", FinalSound::kRieul},
      {"2", FinalSound::kVowel},
      {"6", FinalSound::kConsonant},
      {"8", FinalSound::kRieul},
      {"9", FinalSound::kVowel},
      {"20", FinalSound::kConsonant},
      {"1000", FinalSound::kConsonant},
      {"100000", FinalSound::kConsonant},
      {"100000000", FinalSound::kConsonant},
      {"10000000000000000", FinalSound::kConsonant},
      {"100000000000000000000", FinalSound::kVowel},
      {"1000000000000000000000000", FinalSound::kUnknown},
      {"2.50", FinalSound::kConsonant},  // 이점오영
      {"GPT-4", FinalSound::kVowel},
      {"K9", FinalSound::kUnknown},
      {"L", FinalSound::kRieul},
      {"NCR", FinalSound::kRieul},
      {"CNN", FinalSound::kConsonant},
      {"DJ", FinalSound::kVowel},
      {"EXO", FinalSound::kVowel},
      {"JANE", FinalSound::kUnknown},
      {"Adam", FinalSound::kConsonant},
      {"Paul", FinalSound::kRieul},
      {"Andrew", FinalSound::kVowel},
      {"Max", FinalSound::kVowel},
      {"Greg", FinalSound::kUnknown},
      {"Rose", FinalSound::kUnknown},
      {"Tom  ", FinalSound::kConsonant},
      {"...", FinalSound::kUnknown},
      {"Tom#", FinalSound::kUnknown},
      {"ミサキ", FinalSound::kUnknown},
      {"\xEC\x84", FinalSound::kUnknown},  // a cut UTF-8 sequence
      {"\x80", FinalSound::kUnknown},
  };
  for (const auto& c : cases) EXPECT_EQ(FinalSoundOf(c.name), c.want) << c.name;
}

TEST(Josa, AgreeParticleReportsWhatItTook) {
  AgreedParticle p = AgreeParticle(FinalSound::kConsonant, "가 웃었다");
  EXPECT_EQ(p.n_bytes, std::string_view("가").size());
  EXPECT_EQ(p.particle, "이");
  p = AgreeParticle(FinalSound::kVowel, "(으)로서");
  EXPECT_EQ(p.n_bytes, std::string_view("(으)").size());
  EXPECT_EQ(p.particle, "");
  EXPECT_EQ(AgreeParticle(FinalSound::kUnknown, "가 웃었다").n_bytes, 0u);
  EXPECT_EQ(AgreeParticle(FinalSound::kVowel, "가방").n_bytes, 0u);
  EXPECT_EQ(AgreeParticle(FinalSound::kVowel, "").n_bytes, 0u);
  EXPECT_EQ(AgreeParticle(FinalSound::kVowel, "(이)").n_bytes, 0u);  // nothing to attach to
  EXPECT_EQ(AgreeParticle(FinalSound::kVowel, "(으)면").n_bytes, 0u);
  // A particle cut off at the end of the text is still a particle; a cut syllable is not.
  EXPECT_EQ(AgreeParticle(FinalSound::kConsonant, "\xEA\xB0\x80").particle, "이");
  EXPECT_EQ(AgreeParticle(FinalSound::kConsonant, "\xEA\xB0").n_bytes, 0u);

  std::string out;
  EXPECT_EQ(AppendNameAndParticle(&out, "세종", "를 불렀다"), std::string_view("를").size());
  EXPECT_EQ(out, "세종을");
}

TEST(Josa, StaticPromptAgreesWithTheNeutralUserAndTheCharacter) {
  store::Character c;
  c.id = 7;
  c.name = "세종";
  c.description = "{{char}}는 조선의 왕이다. {{char}}가 {{user}}을 맞이한다.";
  c.scenario = "{{user}}와 {{char}}이(가) 궁궐을 걷는다.";
  PromptInput in;
  in.character = &c;
  in.user_name = "보리";
  in.n_ctx = 4096;
  in.n_reply_tokens = 256;
  in.count_tokens = testing::CountWords;
  auto p = BuildPrompt(in);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_FALSE(p->messages.empty());
  const std::string& system = p->messages[0].content;
  // The static block names the user "User" (유저): 를 and 와 agree with it.
  EXPECT_NE(system.find("세종은 조선의 왕이다. 세종이 User를 맞이한다."), std::string::npos)
      << system;
  EXPECT_NE(system.find("Scenario: User와 세종이 궁궐을 걷는다."), std::string::npos) << system;
}

}  // namespace
}  // namespace tokki::persona
