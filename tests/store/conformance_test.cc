// The Store conformance suite, written against the Store interface only. Each
// implementation registers a factory in INSTANTIATE_TEST_SUITE_P below.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "conformance.h"

namespace tokki::store {
namespace {

class StoreConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override { store_ = GetParam()(); ASSERT_NE(store_, nullptr); }
  User MakeUser(const std::string& name) {
    User u;
    u.username = name;
    u.password_hash = "hash";
    auto r = store_->CreateUser(u);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return *r;
  }
  Character MakeCharacter(Id owner, Visibility vis, const std::string& name,
                          std::vector<std::string> tags = {}, std::string lang = "en") {
    Character c;
    c.owner_id = owner;
    c.visibility = vis;
    c.name = name;
    c.description = "About " + name;
    c.tags = std::move(tags);
    c.language = std::move(lang);
    auto r = store_->CreateCharacter(c);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return *r;
  }
  std::unique_ptr<Store> store_;
};

TEST_P(StoreConformance, UsersAreUniqueCaseInsensitively) {
  User a = MakeUser("Alice");
  EXPECT_GT(a.id, 0);
  User dup;
  dup.username = "alice";
  dup.password_hash = "x";
  EXPECT_EQ(store_->CreateUser(dup).status().code(), Status::Code::kAlreadyExists);
  auto got = store_->GetUserByName("ALICE");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->id, a.id);
  EXPECT_TRUE(store_->GetUser(9999).status().IsNotFound());
}

TEST_P(StoreConformance, SessionsRoundTrip) {
  User a = MakeUser("bob");
  ASSERT_TRUE(store_->CreateSession({"abc", a.id, 1, 2}).ok());
  auto s = store_->GetSession("abc");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->user_id, a.id);
  ASSERT_TRUE(store_->DeleteSession("abc").ok());
  EXPECT_TRUE(store_->GetSession("abc").status().IsNotFound());
}

TEST_P(StoreConformance, CharacterFieldsSurviveAndRevisionBumps) {
  User a = MakeUser("carol");
  Character c;
  c.owner_id = a.id;
  c.name = "세종";
  c.alternate_greetings = {"hi", "안녕"};
  c.group_only_greetings = {"all"};
  c.tags = {"history", "joseon"};
  c.source = {"https://example.org"};
  c.extensions_json = R"({"x":{"y":1}})";
  c.character_book_json = R"({"entries":[]})";
  c.assets_json = R"([{"type":"icon"}])";
  c.creation_date = 1700000000;
  c.real_person = true;
  c.language = "ko";
  auto made = store_->CreateCharacter(c);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  auto got = store_->GetCharacter(made->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "세종");
  EXPECT_EQ(got->alternate_greetings, c.alternate_greetings);
  EXPECT_EQ(got->group_only_greetings, c.group_only_greetings);
  EXPECT_EQ(got->tags, c.tags);
  EXPECT_EQ(got->source, c.source);
  EXPECT_EQ(got->extensions_json, c.extensions_json);
  EXPECT_EQ(got->character_book_json, c.character_book_json);
  EXPECT_EQ(got->assets_json, c.assets_json);
  EXPECT_EQ(got->creation_date, 1700000000);
  EXPECT_TRUE(got->real_person);
  EXPECT_EQ(got->revision, 1);
  Character edit = *got;
  edit.name = "King Sejong";
  auto upd = store_->UpdateCharacter(edit);
  ASSERT_TRUE(upd.ok());
  EXPECT_EQ(upd->revision, 2);
  EXPECT_EQ(upd->name, "King Sejong");
  ASSERT_TRUE(store_->DeleteCharacter(made->id).ok());
  EXPECT_TRUE(store_->GetCharacter(made->id).status().IsNotFound());
  EXPECT_TRUE(store_->DeleteCharacter(made->id).IsNotFound());
}

TEST_P(StoreConformance, ListShowsPublicAndOwnWithFiltersAndPaging) {
  User a = MakeUser("dan");
  User b = MakeUser("eve");
  for (int i = 0; i < 25; ++i)
    MakeCharacter(kNoId, Visibility::kPublic, "Public " + std::to_string(i), {"tag" + std::to_string(i % 2)},
                  i % 3 == 0 ? "ko" : "en");
  Character priv = MakeCharacter(a.id, Visibility::kPrivate, "Secret Dragon");
  Character unl = MakeCharacter(a.id, Visibility::kUnlisted, "Unlisted Owl");

  CharacterQuery q;
  q.viewer_id = b.id;
  q.limit = 10;
  std::set<Id> seen;
  for (int page = 0; page < 10; ++page) {
    auto r = store_->ListCharacters(q);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (auto& c : r->items) {
      EXPECT_TRUE(seen.insert(c.id).second) << "duplicate across pages";
      EXPECT_NE(c.id, priv.id);
      EXPECT_NE(c.id, unl.id);
    }
    if (r->next_cursor.empty()) break;
    q.cursor = r->next_cursor;
  }
  EXPECT_EQ(seen.size(), 25u);

  CharacterQuery mine;
  mine.viewer_id = a.id;
  mine.text = "dragon";
  auto r = store_->ListCharacters(mine);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->items.size(), 1u);
  EXPECT_EQ(r->items[0].id, priv.id);

  CharacterQuery lang;
  lang.viewer_id = b.id;
  lang.language = "ko";
  lang.tag = "tag0";
  lang.limit = 100;
  r = store_->ListCharacters(lang);
  ASSERT_TRUE(r.ok());
  for (auto& c : r->items) {
    EXPECT_EQ(c.language, "ko");
    EXPECT_EQ(c.tags[0], "tag0");
  }
  EXPECT_EQ(r->items.size(), 5u);  // i in {0,6,12,18,24}

  CharacterQuery bad;
  bad.cursor = "zz";
  EXPECT_TRUE(store_->ListCharacters(bad).status().IsInvalidArgument());
}

TEST_P(StoreConformance, SearchFindsCjkAndShortTerms) {
  MakeCharacter(kNoId, Visibility::kPublic, "세종대왕");
  MakeCharacter(kNoId, Visibility::kPublic, "李白");
  MakeCharacter(kNoId, Visibility::kPublic, "Ada Lovelace");
  CharacterQuery q;
  q.text = "세종";
  auto r = store_->ListCharacters(q);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->items.size(), 1u);
  EXPECT_EQ(r->items[0].name, "세종대왕");
  q.text = "李";
  r = store_->ListCharacters(q);
  ASSERT_EQ(r->items.size(), 1u);
  q.text = "lovelace";
  r = store_->ListCharacters(q);
  ASSERT_EQ(r->items.size(), 1u);
  q.text = "\"quoted";  // FTS syntax characters are taken literally
  r = store_->ListCharacters(q);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->items.empty());
}

TEST_P(StoreConformance, MessageTreeAlternativesAndDeletion) {
  User a = MakeUser("fay");
  Character c = MakeCharacter(kNoId, Visibility::kPublic, "Mozart");
  auto conv = store_->CreateConversation({0, a.id, c.id});
  ASSERT_TRUE(conv.ok());
  Message greet;
  greet.conversation_id = conv->id;
  greet.role = "assistant";
  greet.content = "Hello";
  auto g = store_->AppendMessage(greet);
  ASSERT_TRUE(g.ok());
  Message u;
  u.conversation_id = conv->id;
  u.parent_id = g->id;
  u.role = "user";
  u.content = "hi";
  u.client_id = "c1";
  auto um = store_->AppendMessage(u);
  ASSERT_TRUE(um.ok());
  EXPECT_EQ(store_->AppendMessage(u).status().code(), Status::Code::kAlreadyExists);
  auto found = store_->FindMessageByClientId(conv->id, "c1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, um->id);

  Message r1;
  r1.conversation_id = conv->id;
  r1.parent_id = um->id;
  r1.role = "assistant";
  r1.content = "one";
  auto a1 = store_->AppendMessage(r1);
  r1.content = "two";
  auto a2 = store_->AppendMessage(r1);
  ASSERT_TRUE(a1.ok() && a2.ok());
  EXPECT_EQ(a2->alternative_index, 1);
  EXPECT_FALSE(store_->GetMessage(a1->id)->selected);
  EXPECT_TRUE(store_->GetMessage(a2->id)->selected);
  ASSERT_TRUE(store_->SelectMessage(a1->id).ok());
  EXPECT_TRUE(store_->GetMessage(a1->id)->selected);
  EXPECT_FALSE(store_->GetMessage(a2->id)->selected);

  // Deleting the user message removes its replies too.
  ASSERT_TRUE(store_->DeleteMessage(um->id).ok());
  auto all = store_->ListMessages(conv->id);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, g->id);
}

TEST_P(StoreConformance, InterruptedStreamsBecomeStopped) {
  User a = MakeUser("gil");
  Character c = MakeCharacter(kNoId, Visibility::kPublic, "Tesla");
  auto conv = store_->CreateConversation({0, a.id, c.id});
  Message m;
  m.conversation_id = conv->id;
  m.role = "assistant";
  m.content = "partial";
  m.status = MessageStatus::kStreaming;
  auto made = store_->AppendMessage(m);
  ASSERT_TRUE(made.ok());
  auto n = store_->StopInterruptedMessages();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  auto got = store_->GetMessage(made->id);
  EXPECT_EQ(got->status, MessageStatus::kStopped);
  EXPECT_EQ(got->content, "partial");
}

TEST_P(StoreConformance, SwipesOncePerCharacterAndUndo) {
  User a = MakeUser("hal");
  Character c = MakeCharacter(kNoId, Visibility::kPublic, "Curie");
  Swipe s{0, a.id, c.id, SwipeAction::kPass};
  auto first = store_->RecordSwipe(s);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(store_->RecordSwipe(s).status().code(), Status::Code::kAlreadyExists);
  auto last = store_->LastSwipe(a.id);
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->character_id, c.id);
  ASSERT_TRUE(store_->UndoSwipe(first->id).ok());
  EXPECT_TRUE(store_->UserSwipes(a.id)->empty());
  s.action = SwipeAction::kLike;
  EXPECT_TRUE(store_->RecordSwipe(s).ok());
  auto stats = store_->GetCharacterStats(c.id);
  EXPECT_EQ(stats->likes, 1);
  EXPECT_EQ(stats->passes, 0);
}

TEST_P(StoreConformance, ConcurrentWritersAndReaders) {
  User a = MakeUser("ivy");
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        Character c;
        c.owner_id = a.id;
        c.visibility = Visibility::kPublic;
        c.name = "C" + std::to_string(t) + "_" + std::to_string(i);
        if (!store_->CreateCharacter(c).ok()) failures++;
        CharacterQuery q;
        q.viewer_id = a.id;
        if (!store_->ListCharacters(q).ok()) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  CharacterQuery q;
  q.viewer_id = a.id;
  q.only_owned = true;
  q.limit = 100;
  EXPECT_EQ(store_->ListCharacters(q)->items.size(), 100u);
  EXPECT_EQ(*store_->IntegrityCheck(), "ok");
}

std::unique_ptr<Store> MakeSqlite() {
  static int n = 0;
  auto dir = std::filesystem::temp_directory_path() /
             ("tokki-store-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto s = OpenSqliteStore((dir / "tokki.db").string());
  return s.ok() ? std::move(s).value() : nullptr;
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance, ::testing::Values(StoreFactory(MakeSqlite)),
                         [](const auto&) { return std::string("sqlite"); });

}  // namespace
}  // namespace tokki::store
