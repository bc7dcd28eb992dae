#include <gtest/gtest.h>

#include <set>

#include "persona/macros.h"

namespace tokki::persona {
namespace {

MacroContext Ctx(uint64_t pick_seed = 1, uint64_t random_seed = 2) {
  MacroContext c;
  c.char_name = "Aria";
  c.user_name = "Min";
  c.original = "You are {{char}}.";
  c.pick_seed = pick_seed;
  c.random_seed = random_seed;
  return c;
}

TEST(Macros, NamesAndAliases) {
  EXPECT_EQ(ExpandMacros("{{char}} meets {{user}}; <BOT> and <USER>.", Ctx()),
            "Aria meets Min; Aria and Min.");
  EXPECT_EQ(ExpandMacros("{{CHAR}} {{ User }} <bot> <User>", Ctx()), "Aria Min Aria Min");
  EXPECT_EQ(ExpandMacros("{{original}} Be brief.", Ctx()), "You are Aria. Be brief.");
  EXPECT_EQ(ExpandMacros("a{{// hidden note }}b", Ctx()), "ab");
  EXPECT_EQ(ExpandMacros("{{unknown}} {{char", Ctx()), "{{unknown}} {{char");
  EXPECT_EQ(ExpandMacros("", Ctx()), "");
}

TEST(Macros, PickIsStablePerConversation) {
  const std::string text = "{{pick:red,green,blue,white,black}} and {{pick::x::y::z::w}}";
  std::string first = ExpandMacros(text, Ctx(7, 100));
  // A different turn (random seed) keeps picks.
  EXPECT_EQ(ExpandMacros(text, Ctx(7, 999)), first);
  // Other conversations get other picks at least sometimes.
  std::set<std::string> seen;
  for (uint64_t s = 0; s < 40; ++s) seen.insert(ExpandMacros(text, Ctx(s, 0)));
  EXPECT_GT(seen.size(), 5u);
  for (const auto& s : seen) {
    EXPECT_EQ(s.find("{{"), std::string::npos);
    EXPECT_EQ(s.find(','), std::string::npos);
  }
}

TEST(Macros, RandomChangesWithTurnAndRollRanges) {
  std::set<std::string> seen;
  for (uint64_t turn = 0; turn < 40; ++turn)
    seen.insert(ExpandMacros("{{random:a,b,c,d}}", Ctx(1, turn)));
  EXPECT_EQ(seen, (std::set<std::string>{"a", "b", "c", "d"}));
  // Same inputs, same output.
  EXPECT_EQ(ExpandMacros("{{random:a,b,c,d}}", Ctx(1, 5)),
            ExpandMacros("{{random:a,b,c,d}}", Ctx(1, 5)));
  std::set<int> rolls;
  for (uint64_t turn = 0; turn < 200; ++turn) {
    int v = std::stoi(ExpandMacros("{{roll:6}}", Ctx(1, turn)));
    EXPECT_GE(v, 1);
    EXPECT_LE(v, 6);
    rolls.insert(v);
    int d = std::stoi(ExpandMacros("{{roll:d20}}", Ctx(1, turn)));
    EXPECT_GE(d, 1);
    EXPECT_LE(d, 20);
    int two = std::stoi(ExpandMacros("{{ROLL:2d6}}", Ctx(1, turn)));
    EXPECT_GE(two, 2);
    EXPECT_LE(two, 12);
  }
  EXPECT_EQ(rolls.size(), 6u);
  EXPECT_EQ(ExpandMacros("{{roll:zero}}", Ctx()), "{{roll:zero}}");
}

TEST(Macros, LinearOnHostileText) {
  // 64 KiB of unclosed "{{" and of "{{" before a single "}}": returned unchanged, fast.
  std::string open(64 << 10, '{');
  EXPECT_EQ(ExpandMacros(open, Ctx()), open);
  std::string one_close = open + "}}";
  EXPECT_EQ(ExpandMacros(one_close, Ctx()), one_close);
  std::string many;
  for (int i = 0; i < 5000; ++i) many += "{{char}}{{x}}";
  EXPECT_EQ(ExpandMacros(many, Ctx()).size(), 5000u * (4 + 5));
}

TEST(Macros, SaltSeparatesFields) {
  const std::string text = "{{pick:1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16}}";
  int differ = 0;
  for (uint64_t s = 0; s < 20; ++s)
    differ += ExpandMacros(text, Ctx(s, 0), 1) != ExpandMacros(text, Ctx(s, 0), 2);
  EXPECT_GT(differ, 10);
}

}  // namespace
}  // namespace tokki::persona
