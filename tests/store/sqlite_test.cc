// SQLite-specific behaviour: migrations and reopening.
#include <gtest/gtest.h>

#include <filesystem>

#include "store/store.h"

namespace tokki::store {
namespace {

TEST(SqliteStoreTest, ReopenKeepsDataAndSchema) {
  auto dir = std::filesystem::temp_directory_path() / ("tokki-reopen-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto path = (dir / "t.db").string();
  {
    auto s = OpenSqliteStore(path);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    User u;
    u.username = "zed";
    u.password_hash = "h";
    ASSERT_TRUE((*s)->CreateUser(u).ok());
    (*s)->Close();
  }
  auto s = OpenSqliteStore(path);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE((*s)->GetUserByName("zed").ok());
}

TEST(SqliteStoreTest, NotADatabaseIsAnError) {
  auto dir = std::filesystem::temp_directory_path() / ("tokki-bad-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / "junk.db").string();
  FILE* f = fopen(path.c_str(), "wb");
  fputs("this is not a sqlite database at all, not even close......................", f);
  fclose(f);
  auto s = OpenSqliteStore(path);
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace tokki::store
