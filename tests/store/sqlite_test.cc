// SQLite-specific behaviour: migrations and reopening.
#include <gtest/gtest.h>

#include <filesystem>

#include "conformance.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/schema.h"
#include "store/store.h"

namespace tokki::store {
namespace {

// A fresh directory for one test's database.
std::string FreshDbPath(const std::string& name) {
  auto dir =
      std::filesystem::temp_directory_path() / ("tokki-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return (dir / "t.db").string();
}

int64_t SchemaVersion(const std::string& path) {
  auto conn = sqlite::Connection::Open(path, true);
  EXPECT_TRUE(conn.ok());
  if (!conn.ok()) return -1;
  auto s = (*conn)->Prepare("PRAGMA user_version");
  EXPECT_TRUE(s.ok());
  if (!s.ok()) return -1;
  auto row = s->Step();
  return row.ok() && *row ? s->Int(0) : -1;
}

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

TEST(SqliteStoreTest, SchemaVersion1DatabaseMigratesWithDefaults) {
  auto path = FreshDbPath("v1");
  {
    // A database as the first release left it: migration 1 only, rows written by its SQL.
    auto conn = sqlite::Connection::Open(path, false);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    sqlite::Connection& db = **conn;
    ASSERT_TRUE(db.Exec(sqlite::kMigrations[0]).ok());
    ASSERT_TRUE(db.Exec("PRAGMA user_version = 1").ok());
    Status seeded = db.Exec(R"sql(
INSERT INTO users(id, username, password_hash, display_name, persona, created_at)
  VALUES(1, 'old', 'h', 'Old Timer', 'likes tea', 1000), (2, 'older', 'h', '', '', 1001);
INSERT INTO sessions(token_hash, user_id, created_at, expires_at) VALUES('tok', 1, 1, 9e15);
INSERT INTO characters(id, owner_id, visibility, name, description, tags, created_at, updated_at)
  VALUES(1, 1, 2, 'Vintage Vera', 'from the first release', '["old"]', 1000, 1000);
INSERT INTO characters_fts(rowid, name, tagline, description, tags)
  VALUES(1, 'Vintage Vera', '', 'from the first release', 'old ');
INSERT INTO conversations(id, user_id, character_id, created_at, updated_at)
  VALUES(1, 2, 1, 1000, 1000);
INSERT INTO messages(id, conversation_id, role, content, status, created_at, updated_at)
  VALUES(1, 1, 'assistant', 'Hello from v1', 1, 1000, 1000),
        (2, 1, 'user', 'Hi', 1, 2000, 2000);
)sql");
    ASSERT_TRUE(seeded.ok()) << seeded.ToString();
  }
  ASSERT_EQ(SchemaVersion(path), 1);

  auto opened = OpenSqliteStore(path);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Store& store = **opened;
  EXPECT_EQ(SchemaVersion(path), static_cast<int64_t>(std::size(sqlite::kMigrations)));

  auto u = store.GetUserByName("old");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->display_name, "Old Timer");
  EXPECT_EQ(u->persona, "likes tea");
  EXPECT_EQ(u->role, Role::kUser);
  EXPECT_FALSE(u->suspended);
  EXPECT_FALSE(u->adult_confirmed);
  EXPECT_TRUE(store.GetSession("tok").ok());

  auto c = store.GetCharacter(1);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->name, "Vintage Vera");
  EXPECT_EQ(c->tags, std::vector<std::string>{"old"});
  EXPECT_FALSE(c->mature);
  EXPECT_FALSE(c->hidden);
  EXPECT_EQ(c->removed_at_ms, 0);
  CharacterQuery q;
  q.viewer_id = 2;
  q.text = "Vintage";
  auto page = store.ListCharacters(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(Must(store.AllCharacters()).size(), 1u);

  auto msgs = store.ListMessages(1);
  ASSERT_TRUE(msgs.ok());
  ASSERT_EQ(msgs->size(), 2u);
  EXPECT_EQ((*msgs)[0].content, "Hello from v1");
  EXPECT_EQ(Must(store.CountUserMessagesSince(2, 2000)), 1);
  EXPECT_EQ(Must(store.CountUserMessagesSince(2, 2001)), 0);
  auto usage = store.GetUserUsage(1);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->n_characters, 1);

  // The new tables work on the migrated database.
  Report r;
  r.reporter_id = 2;
  r.target_id = 1;
  EXPECT_TRUE(store.CreateReport(r).ok());
  EXPECT_TRUE(store.AppendAudit({0, 1, "user.promote", "user", 2}).ok());
  EXPECT_TRUE(store.PutSetting("k", "v").ok());
  ASSERT_TRUE(store.DeleteUser(1).ok());  // user 2 talks to Vera: she is tombstoned
  EXPECT_NE(Must(store.GetCharacter(1)).removed_at_ms, 0);
  EXPECT_EQ(Must(store.ListMessages(1)).size(), 2u);
  // Migration 3 indexed the old messages for recall.
  auto hits = Must(store.SearchMessages(2, 1, {"hello"}, {}, 10));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].message.id, 1);
  EXPECT_EQ(Must(store.IntegrityCheck()), "ok");
}

TEST(SqliteStoreTest, NewerSchemaVersionIsRefused) {
  auto path = FreshDbPath("newer");
  {
    auto conn = sqlite::Connection::Open(path, false);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE((*conn)->Exec("PRAGMA user_version = 999").ok());
  }
  auto s = OpenSqliteStore(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kCorruption);
  EXPECT_NE(s.status().message().find("newer"), std::string::npos);
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
