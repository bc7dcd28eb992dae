#include "engine/snapshot.h"

#include <gtest/gtest.h>

#include <cstring>

namespace tokki::engine {
namespace {

Snapshot Sample() {
  Snapshot s;
  s.header = {0x1234, 4096, "conv:1"};
  s.tokens = {1, 2, 3, 40000};
  s.state = std::string("\x00\x01state", 7);
  return s;
}

TEST(SnapshotTest, RoundTrips) {
  const std::string blob = EncodeSnapshot(Sample());
  Result<Snapshot> r = DecodeSnapshot(blob, Sample().header);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tokens, Sample().tokens);
  EXPECT_EQ(r->state, Sample().state);
  EXPECT_EQ(r->header.key, "conv:1");
}

TEST(SnapshotTest, RejectsMismatchAndDamage) {
  const std::string blob = EncodeSnapshot(Sample());
  SnapshotHeader other = Sample().header;
  other.model_hash = 99;
  EXPECT_EQ(DecodeSnapshot(blob, other).status().code(), Status::Code::kConflict);
  other = Sample().header;
  other.n_ctx = 8192;
  EXPECT_EQ(DecodeSnapshot(blob, other).status().code(), Status::Code::kConflict);
  other = Sample().header;
  other.key = "conv:2";
  EXPECT_EQ(DecodeSnapshot(blob, other).status().code(), Status::Code::kConflict);
  std::string flipped = blob;
  flipped[30] ^= 0x40;
  EXPECT_EQ(DecodeSnapshot(flipped, Sample().header).status().code(), Status::Code::kCorruption);
  EXPECT_EQ(DecodeSnapshot(blob.substr(0, 20), Sample().header).status().code(),
            Status::Code::kCorruption);
  EXPECT_EQ(DecodeSnapshot("garbage-garbage-garbage", Sample().header).status().code(),
            Status::Code::kCorruption);
  // A future version is refused, not misread.
  std::string v2 = blob;
  v2[8] = 2;
  // (fix the checksum so only the version differs)
  const uint64_t sum = Fnv1a64(std::string_view(v2).substr(0, v2.size() - 8));
  std::memcpy(v2.data() + v2.size() - 8, &sum, 8);
  EXPECT_EQ(DecodeSnapshot(v2, Sample().header).status().code(), Status::Code::kConflict);
}

}  // namespace
}  // namespace tokki::engine
