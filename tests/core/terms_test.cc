#include "core/terms.h"

#include <gtest/gtest.h>

namespace tokki {
namespace {

TEST(Terms, LatinWordsLowerCasedAndSplitOnPunctuation) {
  EXPECT_EQ(IndexTerms("My dog is called Bori!"), "my dog is called bori");
  EXPECT_EQ(IndexTerms("March 3rd, 2027 - new job."), "march 3rd 2027 new job");
  // Non-ASCII case folding is left to the index (FTS5 unicode61 folds it).
  EXPECT_EQ(IndexTerms("Ça va? Привет"), "Ça va Привет");
}

TEST(Terms, CjkRunsBecomeOverlappingBigrams) {
  EXPECT_EQ(IndexTerms("내 강아지 이름은 보리야"), "내 강아 아지 이름 름은 보리 리야");
  EXPECT_EQ(IndexTerms("我的狗叫小白"), "我的 的狗 狗叫 叫小 小白");
  // Mixed scripts switch analysis at the boundary.
  EXPECT_EQ(IndexTerms("Bori는 귀여워"), "bori 는 귀여 여워");
}

TEST(Terms, QueryDropsStopwordsSingleCjkAndRepeats) {
  EXPECT_EQ(QueryTerms("What is my dog called? my DOG"),
            (std::vector<std::string>{"dog", "called"}));
  EXPECT_EQ(QueryTerms("보리는 잘 지내?"), (std::vector<std::string>{"보리", "리는", "지내"}));
  EXPECT_EQ(QueryTerms("a b c d e", 2), (std::vector<std::string>{"b", "c"}));
}

TEST(Terms, InvalidBytesSkippedEmojiSeparates) {
  EXPECT_EQ(IndexTerms(std::string("ab\xff" "cd")), "abcd");
  EXPECT_EQ(IndexTerms("tea🍵time"), "tea time");
  EXPECT_EQ(IndexTerms(""), "");
  EXPECT_TRUE(QueryTerms("?!").empty());
}

}  // namespace
}  // namespace tokki
