#include "engine/sse_parser.h"

#include <gtest/gtest.h>

#include <vector>

namespace tokki::engine {
namespace {

std::vector<SseEvent> ParseInPieces(const std::string& text, size_t piece) {
  SseParser p;
  std::vector<SseEvent> out;
  for (size_t i = 0; i < text.size(); i += piece) {
    p.Feed(std::string_view(text).substr(i, piece), [&](const SseEvent& e) { out.push_back(e); });
  }
  return out;
}

TEST(SseParserTest, SplitsEventsWhateverTheChunking) {
  const std::string text =
      ": heartbeat\n\ndata: {\"a\":1}\n\nevent: token\r\nid: 7\r\ndata: line1\r\ndata: "
      "line2\r\n\r\n"
      "data:no-space\r\rdata: [DONE]\n\n";
  for (size_t piece : {1, 2, 3, 7, 1000}) {
    auto ev = ParseInPieces(text, piece);
    ASSERT_EQ(ev.size(), 4u) << "piece " << piece;
    EXPECT_EQ(ev[0].data, "{\"a\":1}");
    EXPECT_EQ(ev[1].event, "token");
    EXPECT_EQ(ev[1].id, "7");
    EXPECT_EQ(ev[1].data, "line1\nline2");
    EXPECT_EQ(ev[2].data, "no-space");
    EXPECT_EQ(ev[3].data, "[DONE]");
  }
}

TEST(SseParserTest, IncompleteEventIsNotDispatched) {
  auto ev = ParseInPieces("data: half", 4);
  EXPECT_TRUE(ev.empty());
}

}  // namespace
}  // namespace tokki::engine
