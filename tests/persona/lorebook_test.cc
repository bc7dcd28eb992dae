#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "persona/lorebook.h"

#include "count_words.h"

namespace tokki::persona {
namespace {

using nlohmann::json;

using testing::CountWords;

json Entry(std::vector<std::string> keys, std::string content, int order = 100) {
  return {{"keys", keys},
          {"content", content},
          {"enabled", true},
          {"insertion_order", order},
          {"extensions", json::object()}};
}

std::vector<std::string> Activate(const json& book_json, std::vector<std::string_view> messages,
                                  int64_t turn = 0, int budget = 0) {
  auto book = ParseLorebook(book_json.dump());
  EXPECT_TRUE(book.ok()) << book.status().ToString();
  LoreScanInput in;
  in.book = &*book;
  in.messages = std::move(messages);
  in.turn_index = turn;
  in.token_budget = budget;
  in.count_tokens = CountWords;
  std::vector<std::string> names;
  for (const auto& e : ActivateEntries(in)) names.push_back(e.content);
  return names;
}

TEST(Lorebook, KeysCaseAndScanDepth) {
  json book = {{"scan_depth", 2}, {"entries", {Entry({"Dragon"}, "D"), Entry({"castle"}, "C")}}};
  book["entries"][1]["case_sensitive"] = true;
  EXPECT_EQ(Activate(book, {"a DRAGON appears"}), std::vector<std::string>{"D"});
  EXPECT_TRUE(Activate(book, {"the Castle"}).empty());  // case-sensitive
  EXPECT_EQ(Activate(book, {"the castle"}), std::vector<std::string>{"C"});
  // Only the last two messages are scanned.
  EXPECT_TRUE(Activate(book, {"dragon", "hello", "world"}).empty());
  EXPECT_EQ(Activate(book, {"dragon", "hello"}), std::vector<std::string>{"D"});
}

TEST(Lorebook, SecondaryKeysSelectiveLogic) {
  json e = Entry({"ferry"}, "F");
  e["selective"] = true;
  e["secondary_keys"] = {"storm", "wind"};
  json book = {{"entries", {e}}};
  EXPECT_TRUE(Activate(book, {"the ferry is late"}).empty());
  EXPECT_EQ(Activate(book, {"the ferry is late, the wind"}), std::vector<std::string>{"F"});
  book["entries"][0]["extensions"]["selectiveLogic"] = 3;  // AND ALL
  EXPECT_TRUE(Activate(book, {"ferry wind"}).empty());
  EXPECT_EQ(Activate(book, {"ferry wind storm"}), std::vector<std::string>{"F"});
  book["entries"][0]["extensions"]["selectiveLogic"] = 2;  // NOT ANY
  EXPECT_EQ(Activate(book, {"ferry"}), std::vector<std::string>{"F"});
  EXPECT_TRUE(Activate(book, {"ferry storm"}).empty());
  // Not selective: secondary keys are ignored.
  book["entries"][0]["selective"] = false;
  EXPECT_EQ(Activate(book, {"ferry storm"}), std::vector<std::string>{"F"});
}

TEST(Lorebook, ConstantEnabledOrderAndPosition) {
  json a = Entry({"zzz"}, "A", 30);
  a["constant"] = true;
  json b = Entry({"key"}, "B", 10);
  b["position"] = "after_char";
  json c = Entry({"key"}, "C", 20);
  c["enabled"] = false;
  json book = {{"entries", {a, b, c}}};
  EXPECT_EQ(Activate(book, {"no match"}), std::vector<std::string>{"A"});
  EXPECT_EQ(Activate(book, {"key"}), (std::vector<std::string>{"B", "A"}));
  auto parsed = ParseLorebook(book.dump());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->entries[1].position, LorePosition::kAfterChar);
  EXPECT_EQ(parsed->entries[0].position, LorePosition::kBeforeChar);
}

TEST(Lorebook, TokenBudgetKeepsHighPriority) {
  json low = Entry({"k"}, "one two three four five", 1);
  low["priority"] = 1;
  json high = Entry({"k"}, "six seven eight", 2);
  high["priority"] = 9;
  json small = Entry({"k"}, "nine", 3);
  small["priority"] = 5;
  json book = {{"token_budget", 5}, {"entries", {low, high, small}}};
  EXPECT_EQ(Activate(book, {"k"}), (std::vector<std::string>{"six seven eight", "nine"}));
  // Caller's budget tightens the book's.
  EXPECT_EQ(Activate(book, {"k"}, 0, 3), (std::vector<std::string>{"six seven eight"}));
  book.erase("token_budget");
  EXPECT_EQ(Activate(book, {"k"}).size(), 3u);
}

TEST(Lorebook, RecursiveScanning) {
  json book = {{"recursive_scanning", true},
               {"entries",
                {Entry({"king"}, "The king lives in Castle Rock.", 1),
                 Entry({"castle rock"}, "Castle Rock has a moat.", 2),
                 Entry({"moat"}, "The moat is full of eels.", 3)}}};
  EXPECT_EQ(Activate(book, {"tell me about the king"}).size(), 3u);
  book["entries"][1]["extensions"]["prevent_recursion"] = true;
  EXPECT_EQ(Activate(book, {"tell me about the king"}).size(), 2u);
  book["recursive_scanning"] = false;
  EXPECT_EQ(Activate(book, {"tell me about the king"}).size(), 1u);
}

TEST(Lorebook, RegexKeysWithRe2) {
  json e = Entry({"/ships?\\b/i", "^port\\d+$"}, "S");
  e["use_regex"] = true;
  json book = {{"entries", {e}}};
  EXPECT_EQ(Activate(book, {"Two SHIPS passed"}), std::vector<std::string>{"S"});
  EXPECT_TRUE(Activate(book, {"shipping news"}).empty());
  EXPECT_EQ(Activate(book, {"port12"}), std::vector<std::string>{"S"});
  // A pattern RE2 cannot compile (backreference) never matches and is reported.
  json bad = Entry({"(a)\\1"}, "B");
  bad["use_regex"] = true;
  auto parsed = ParseLorebook(json({{"entries", {bad}}}).dump());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->warnings.size(), 1u);
  EXPECT_TRUE(Activate(json({{"entries", {bad}}}), {"aa"}).empty());
  // Linear time: a classic catastrophic pattern on a long input returns quickly.
  json evil = Entry({"(a+)+$"}, "E");
  evil["use_regex"] = true;
  std::string input(100000, 'a');
  input += "!";
  EXPECT_EQ(Activate(json({{"entries", {evil}}}), {input}).size(), 0u);
}

TEST(Lorebook, Decorators) {
  json book = {{"entries",
                {Entry({"x"}, "@@depth 2\n@@position after_desc\nDeep text"),
                 Entry({"x"}, "@@activate_only_after 3\nLate"),
                 Entry({"x"}, "@@activate_only_every 2\nEven"),
                 Entry({"x"}, "@@dont_activate\nNever"), Entry({"old"}, "@@scan_depth 5\nFar")}}};
  auto parsed = ParseLorebook(book.dump());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->entries[0].depth, 2);
  EXPECT_EQ(parsed->entries[0].position, LorePosition::kAfterChar);
  EXPECT_EQ(parsed->entries[0].content, "Deep text");
  EXPECT_EQ(Activate(book, {"x"}, 1), (std::vector<std::string>{"Deep text"}));
  EXPECT_EQ(Activate(book, {"x"}, 2), (std::vector<std::string>{"Deep text", "Even"}));
  EXPECT_EQ(Activate(book, {"x"}, 3), (std::vector<std::string>{"Deep text", "Late"}));
  EXPECT_EQ(Activate(book, {"x"}, 4), (std::vector<std::string>{"Deep text", "Late", "Even"}));
  // @@scan_depth 5 reaches further back than the book's default of 2.
  EXPECT_EQ(Activate(book, {"old", "a", "b", "c"}), std::vector<std::string>{"Far"});
}

TEST(Lorebook, CostIsBounded) {
  // More keys than the cap: the extra ones are ignored with a warning.
  std::vector<std::string> keys;
  for (size_t i = 0; i < kMaxLoreKeys + 10; ++i) keys.push_back("<" + std::to_string(i) + ">");
  json book = {{"entries", {Entry(keys, "K")}}};
  auto parsed = ParseLorebook(book.dump());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->entries[0].keys.size(), kMaxLoreKeys);
  EXPECT_EQ(parsed->warnings.size(), 1u);
  EXPECT_EQ(Activate(book, {"<4095>"}), std::vector<std::string>{"K"});
  EXPECT_TRUE(Activate(book, {"<4100>"}).empty());
  // Only the tail of a huge scan text is scanned.
  std::string huge = "needle " + std::string(kMaxLoreScanBytes, 'x');
  json b2 = {{"entries", {Entry({"needle"}, "N")}}};
  EXPECT_TRUE(Activate(b2, {huge}).empty());
  EXPECT_EQ(Activate(b2, {std::string(kMaxLoreScanBytes, 'x') + " needle"}),
            std::vector<std::string>{"N"});
  // Scan depth is clamped.
  json b3 = {{"scan_depth", 100000}, {"entries", {Entry({"old"}, "O")}}};
  EXPECT_EQ(ParseLorebook(b3.dump())->scan_depth, kMaxLoreScanDepth);
}

TEST(Lorebook, BadInput) {
  EXPECT_TRUE(ParseLorebook("").ok());
  EXPECT_TRUE(ParseLorebook("").value().entries.empty());
  EXPECT_FALSE(ParseLorebook("{\"entries\": 5}").ok());
  EXPECT_FALSE(ParseLorebook("[").ok());
}

}  // namespace
}  // namespace tokki::persona
