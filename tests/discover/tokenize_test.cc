#include "discover/tokenize.h"

#include <gtest/gtest.h>

namespace tokki::discover {
namespace {

std::vector<std::string> Tok(std::string_view s) {
  std::vector<std::string> out;
  TokenizeText(s, out);
  return out;
}

TEST(Tokenize, LatinWordsLowercasedWithoutStopWords) {
  EXPECT_EQ(Tok("The Great King, a SCHOLAR!"),
            (std::vector<std::string>{"w:great", "w:king", "w:scholar"}));
}

TEST(Tokenize, KoreanAsCharacterBigrams) {
  EXPECT_EQ(Tok("세종대왕 훈민"),
            (std::vector<std::string>{"b:세종", "b:종대", "b:대왕", "b:훈민"}));
}

TEST(Tokenize, ChineseAndMixedScripts) {
  EXPECT_EQ(Tok("李白poet月"), (std::vector<std::string>{"b:李白", "w:poet", "u:月"}));
}

TEST(Tokenize, InvalidUtf8DoesNotCrash) {
  const std::string bad = "ok \xE4\xB8 \xFF end";
  const auto t = Tok(bad);
  EXPECT_EQ(t.front(), "w:ok");
  EXPECT_EQ(t.back(), "w:end");
}

}  // namespace
}  // namespace tokki::discover
