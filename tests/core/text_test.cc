#include "core/text.h"

#include <gtest/gtest.h>

namespace tokki {
namespace {

TEST(Utf8Test, AcceptsValidText) {
  EXPECT_TRUE(IsValidUtf8("hello"));
  EXPECT_TRUE(IsValidUtf8("세종대왕 李白 🐰"));
  EXPECT_TRUE(IsValidUtf8(""));
}

TEST(Utf8Test, RejectsMalformed) {
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("abc\xe2\x82"));       // truncated
}

TEST(Utf8Test, TruncateKeepsCodePoints) {
  std::string s = "가나다";  // 3 bytes each
  EXPECT_EQ(Utf8Truncate(s, 4), "가");
  EXPECT_EQ(Utf8Length(s), 3u);
}

TEST(TextTest, SplitTrimmed) {
  auto parts = SplitTrimmed(" a, b ,,c ", ',');
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1], "b");
  EXPECT_EQ(HexEncode("\x01\xab"), "01ab");
}

}  // namespace
}  // namespace tokki
