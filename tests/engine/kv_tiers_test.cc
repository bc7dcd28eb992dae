// KvTiers: host RAM and disk snapshots with byte budgets, disk I/O on its own thread.
#include "engine/kv_tiers.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace tokki::engine {
namespace {

namespace fs = std::filesystem;

class KvTiersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tokki_kv_tiers_" + std::string(::testing::UnitTest::GetInstance()
                                                ->current_test_info()
                                                ->name()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<KvTiers> Open(int64_t host_max, int64_t disk_max = int64_t{1} << 30,
                                bool disk = true) {
    auto t = KvTiers::Open(KvTiersOptions{host_max, disk ? dir_.string() : "", disk_max});
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? std::move(t).value() : nullptr;
  }
  size_t FilesOnDisk() const {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir_)) n += e.path().extension() == ".kv";
    return n;
  }

  fs::path dir_;
};

TEST_F(KvTiersTest, PutThenTakeReturnsTheBlobOnce) {
  auto t = Open(1 << 20);
  t->Put("a", "blob-a", {1, 2, 3});
  EXPECT_EQ(t->Where("a"), CacheTier::kHost);
  EXPECT_EQ(t->host_bytes(), 6);
  auto b = t->Take("a");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, "blob-a");
  EXPECT_EQ(t->Where("a"), CacheTier::kNone);
  EXPECT_EQ(t->Take("a").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(t->host_bytes(), 0);
}

TEST_F(KvTiersTest, OverTheHostBudgetTheLeastRecentlyUsedGoesToDisk) {
  auto t = Open(/*host_max=*/10);
  t->Put("old", std::string(6, 'o'), {1});
  t->Put("new", std::string(6, 'n'), {2});
  EXPECT_EQ(t->Where("old"), CacheTier::kDisk);
  EXPECT_EQ(t->Where("new"), CacheTier::kHost);
  t->Flush();
  EXPECT_EQ(FilesOnDisk(), 1u);
  EXPECT_TRUE(fs::exists(t->PathFor("old")));
  auto b = t->Take("old");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, std::string(6, 'o'));
  t->Flush();
  EXPECT_EQ(FilesOnDisk(), 0u);  // taking it removes its file
}

TEST_F(KvTiersTest, ASpilledSnapshotIsReadableBeforeItsFileIsWritten) {
  auto t = Open(1 << 20);
  const std::string big(4 << 20, 'x');
  t->Put("k", big, {7});
  ASSERT_TRUE(t->Spill("k").ok());
  EXPECT_EQ(t->Where("k"), CacheTier::kDisk);
  auto b = t->Take("k");  // possibly while the I/O thread still writes it
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->size(), big.size());
  t->Flush();
  EXPECT_EQ(FilesOnDisk(), 0u);  // a file written after the take is removed again
}

TEST_F(KvTiersTest, WithoutADiskFolderWhatLeavesRamIsDropped) {
  auto t = Open(/*host_max=*/10, 0, /*disk=*/false);
  t->Put("a", std::string(8, 'a'), {1});
  t->Put("b", std::string(8, 'b'), {2});
  EXPECT_EQ(t->Where("a"), CacheTier::kNone);
  EXPECT_EQ(t->Where("b"), CacheTier::kHost);
  EXPECT_EQ(t->Spill("b").code(), Status::Code::kInvalidArgument);
}

TEST_F(KvTiersTest, OverTheDiskBudgetTheOldestFileIsRemoved) {
  auto t = Open(/*host_max=*/1, /*disk_max=*/10);
  t->Put("a", std::string(6, 'a'), {1});
  t->Put("b", std::string(6, 'b'), {2});
  t->Flush();
  EXPECT_EQ(t->Where("a"), CacheTier::kNone);
  EXPECT_EQ(t->Where("b"), CacheTier::kDisk);
  EXPECT_EQ(t->disk_count(), 1);
  EXPECT_EQ(FilesOnDisk(), 1u);
}

TEST_F(KvTiersTest, WarmBringsADiskSnapshotBackToRam) {
  auto t = Open(/*host_max=*/100);
  t->Put("k", "snapshot", {4, 5});
  ASSERT_TRUE(t->Spill("k").ok());
  t->Flush();
  EXPECT_EQ(t->Where("k"), CacheTier::kDisk);
  t->Warm("k");
  t->Flush();
  EXPECT_EQ(t->Where("k"), CacheTier::kHost);
  EXPECT_EQ(FilesOnDisk(), 0u);
  EXPECT_EQ(*t->Take("k"), "snapshot");
}

TEST_F(KvTiersTest, FilesOfAnEarlierRunAreFoundAndTheirTokensDecoded) {
  {
    auto t = Open(1);
    t->Put("k", "tok:9,8", {9, 8});
    t->Flush();
  }  // the first run ends; its snapshot stays on disk
  auto t = Open(1 << 20);
  EXPECT_EQ(t->Where("k"), CacheTier::kDisk);
  int decoded = 0;
  auto tokens = t->Tokens("k", [&](std::string_view blob) -> Result<std::vector<int32_t>> {
    ++decoded;
    EXPECT_EQ(blob, "tok:9,8");
    return std::vector<int32_t>{9, 8};
  });
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(*tokens, (std::vector<int32_t>{9, 8}));
  EXPECT_EQ(decoded, 1);
}

TEST_F(KvTiersTest, DropRemovesEverywhere) {
  auto t = Open(1);
  t->Put("k", "xyz", {1});
  t->Flush();
  EXPECT_EQ(FilesOnDisk(), 1u);
  t->Drop("k");
  t->Flush();
  EXPECT_EQ(t->Where("k"), CacheTier::kNone);
  EXPECT_EQ(FilesOnDisk(), 0u);
}

}  // namespace
}  // namespace tokki::engine
