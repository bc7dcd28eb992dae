// TextStream: UTF-8 holdback and stop strings, without a model.
#include "engine/text_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tokki::engine {
namespace {

// Feeds `pieces` one by one and returns everything shown.
std::string Feed(TextStream& s, const std::vector<std::string>& pieces) {
  std::string out;
  for (const std::string& p : pieces) out += s.Push(p);
  return out;
}

TEST(TextStreamTest, PassesPlainTextThroughAtOnce) {
  TextStream s;
  EXPECT_EQ(s.Push("Hello"), "Hello");
  EXPECT_EQ(s.Push(", world"), ", world");
  EXPECT_EQ(s.Finish(), "");
  EXPECT_EQ(s.emitted(), "Hello, world");
  EXPECT_FALSE(s.stopped());
}

TEST(TextStreamTest, HoldsASplitCodePointUntilItIsComplete) {
  TextStream s;
  const std::string han = "\xED\x95\x9C";  // U+D55C, three bytes
  EXPECT_EQ(s.Push(han.substr(0, 1)), "");
  EXPECT_EQ(s.Push(han.substr(1, 1)), "");
  EXPECT_EQ(s.Push(han.substr(2)), han);
}

TEST(TextStreamTest, InvalidBytesBecomeReplacementCharacters) {
  TextStream s;
  EXPECT_EQ(s.Push("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  // An overlong encoding and a surrogate are refused too.
  EXPECT_EQ(s.Push("\xE0\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(s.Push("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(TextStreamTest, FinishFlushesAnIncompleteTailAsReplacement) {
  TextStream s;
  EXPECT_EQ(s.Push("ok\xE2\x82"), "ok");
  EXPECT_EQ(s.Finish(), "\xEF\xBF\xBD");
}

TEST(TextStreamTest, CutsAtAStopStringSplitAcrossPieces) {
  TextStream s({"\nUser:"});
  const std::string shown = Feed(s, {"Fine, thanks.", "\nUs", "er", ": next", " more"});
  EXPECT_EQ(shown, "Fine, thanks.");
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(s.Push("ignored"), "");
  EXPECT_EQ(s.Finish(), "");
}

TEST(TextStreamTest, ReleasesHeldTextThatTurnsOutNotToBeAStop) {
  TextStream s({"STOP"});
  EXPECT_EQ(s.Push("ST"), "");
  EXPECT_EQ(s.Push("ar"), "STar");
  EXPECT_EQ(s.Push("ST"), "");
  EXPECT_EQ(s.Finish(), "ST");
  EXPECT_FALSE(s.stopped());
}

TEST(TextStreamTest, EarliestOfSeveralStopsWins) {
  TextStream s({"bb", "a"});
  EXPECT_EQ(Feed(s, {"xxabb"}), "xx");
  EXPECT_TRUE(s.stopped());
}

TEST(TextStreamTest, EmptyStopStringsAreIgnored) {
  TextStream s({""});
  EXPECT_EQ(s.Push("text"), "text");
  EXPECT_FALSE(s.stopped());
}

TEST(TextStreamTest, StopHoldbackIsTheLongestStopPrefixAtTheEnd) {
  EXPECT_EQ(StopHoldback("hello <|e", {"<|end|>"}), 3u);
  EXPECT_EQ(StopHoldback("hello", {"<|end|>"}), 0u);
  EXPECT_EQ(StopHoldback("ab", {"abc", "b"}), 2u);
}

}  // namespace
}  // namespace tokki::engine
