// The character draft's format: request checks, schema, instructions, and parsing what a
// model wrote.
#include "persona/character_draft.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tokki::persona {
namespace {

using nlohmann::json;

json GoodDraft() {
  return {{"name", "Mira"},
          {"tagline", "A baker who bakes at night"},
          {"description", "Flour on her sleeves."},
          {"personality", "Warm, curious."},
          {"scenario", "Her shop at 3 a.m."},
          {"greeting", "Oh! You're up late too?"},
          {"example_dialogue", "{{user}}: Hi\n{{char}}: Hello!"},
          {"tags", {"baker", "cozy"}}};
}

TEST(CharacterDraftTest, ChecksTheIdeaAndLanguage) {
  EXPECT_TRUE(CheckDraftRequest("a shy dragon", "en").ok());
  EXPECT_TRUE(CheckDraftRequest("수줍은 용", "ko").ok());
  EXPECT_TRUE(CheckDraftRequest("害羞的龙", "zh").ok());
  EXPECT_EQ(CheckDraftRequest("", "en").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(CheckDraftRequest(" \n\t", "en").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(CheckDraftRequest("a dragon", "fr").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(CheckDraftRequest("a dragon", "").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(CheckDraftRequest(std::string("a\0b", 3), "en").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(CheckDraftRequest("\xff\xfe", "en").code(), Status::Code::kInvalidArgument);
  std::string idea;
  for (size_t i = 0; i < kMaxDraftIdeaChars; ++i) idea += "용";
  EXPECT_TRUE(CheckDraftRequest(idea, "ko").ok());  // characters, not bytes
  idea += "x";
  EXPECT_EQ(CheckDraftRequest(idea, "ko").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(DraftLanguages(), (std::vector<std::string>{"en", "ko", "zh"}));
}

TEST(CharacterDraftTest, SchemaRequiresEveryFieldInOrderAndBoundsIt) {
  json schema = json::parse(DraftSchema());
  ASSERT_TRUE(schema.is_object());
  EXPECT_EQ(schema["additionalProperties"], false);
  std::vector<std::string> required = schema["required"];
  EXPECT_EQ(required, (std::vector<std::string>{"name", "tagline", "description", "personality",
                                                "scenario", "greeting", "example_dialogue", "tags"}));
  // The text keeps the table's order: the model writes the name first.
  EXPECT_LT(DraftSchema().find("\"name\""), DraftSchema().find("\"tagline\""));
  for (const auto& key : required) {
    const json& p = schema["properties"][key];
    if (key == "tags") {
      EXPECT_EQ(p["maxItems"], kMaxDraftTags);
      EXPECT_EQ(p["items"]["maxLength"], kMaxDraftTagChars);
    } else {
      EXPECT_EQ(p["type"], "string");
      EXPECT_EQ(p["minLength"], 1);
      EXPECT_GT(p["maxLength"].get<int>(), 1);
    }
  }
}

TEST(CharacterDraftTest, PromptCarriesTheIdeaLanguageAndBounds) {
  auto msgs = DraftPrompt("a shy dragon who runs a tea shop", "ko");
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].role, "system");
  EXPECT_NE(msgs[0].content.find("Korean"), std::string::npos);
  EXPECT_NE(msgs[0].content.find("at most 40 characters"), std::string::npos);
  EXPECT_EQ(msgs[1].role, "user");
  EXPECT_NE(msgs[1].content.find("a shy dragon who runs a tea shop"), std::string::npos);
}

TEST(CharacterDraftTest, ParsesWhatTheModelWrote) {
  auto d = ParseDraft(GoodDraft().dump());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->name, "Mira");
  EXPECT_EQ(d->first_mes, "Oh! You're up late too?");
  EXPECT_EQ(d->mes_example, "{{user}}: Hi\n{{char}}: Hello!");
  EXPECT_EQ(d->tags, (std::vector<std::string>{"baker", "cozy"}));
}

TEST(CharacterDraftTest, RefusesWhatIsNoDraft) {
  EXPECT_FALSE(ParseDraft("").ok());
  EXPECT_FALSE(ParseDraft("w1 w2 w3").ok());
  EXPECT_FALSE(ParseDraft(R"({"name": "Mira", "tagline": )").ok());  // cut short
  EXPECT_FALSE(ParseDraft("[1, 2]").ok());
  json missing = GoodDraft();
  missing.erase("scenario");
  EXPECT_EQ(ParseDraft(missing.dump()).status().code(), Status::Code::kInvalidArgument);
  json empty_name = GoodDraft();
  empty_name["name"] = "";
  EXPECT_FALSE(ParseDraft(empty_name.dump()).ok());
  json wrong_type = GoodDraft();
  wrong_type["personality"] = 3;
  EXPECT_FALSE(ParseDraft(wrong_type.dump()).ok());
  json no_tags = GoodDraft();
  no_tags["tags"] = json::array();
  EXPECT_FALSE(ParseDraft(no_tags.dump()).ok());
}

TEST(CharacterDraftTest, CutsOverlongValuesAndDropsControlCharacters) {
  json d = GoodDraft();
  d["name"] = std::string(100, 'a');
  std::string long_ko;
  for (int i = 0; i < 500; ++i) long_ko += "가";
  d["greeting"] = long_ko;
  d["tagline"] = std::string("tab\there\x01\x07 bell\nline");
  d["tags"] = {"1", "2", "3", "4", "5", "6", "7", "8"};
  d["extra"] = "ignored";
  auto parsed = ParseDraft(d.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->name, std::string(40, 'a'));
  EXPECT_EQ(parsed->first_mes.size(), 400 * std::string("가").size());
  EXPECT_EQ(parsed->tagline, "tab\there bell\nline");
  EXPECT_EQ(parsed->tags.size(), kMaxDraftTags);
}

}  // namespace
}  // namespace tokki::persona
