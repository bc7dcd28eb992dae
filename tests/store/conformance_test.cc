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

// ---- operator side

TEST_P(StoreConformance, UserRoleAndFlagsRoundTrip) {
  User u;
  u.username = "mod";
  u.password_hash = "h";
  u.role = Role::kModerator;
  u.adult_confirmed = true;
  auto made = store_->CreateUser(u);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  auto got = store_->GetUser(made->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->role, Role::kModerator);
  EXPECT_FALSE(got->suspended);
  EXPECT_TRUE(got->adult_confirmed);

  User plain = MakeUser("plain");
  got = store_->GetUserByName("PLAIN");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->role, Role::kUser);
  EXPECT_FALSE(got->suspended);
  EXPECT_FALSE(got->adult_confirmed);

  // UpdateUser writes adult_confirmed but never role or suspended.
  User edit = *got;
  edit.display_name = "Plain Jane";
  edit.adult_confirmed = true;
  edit.role = Role::kAdmin;
  edit.suspended = true;
  ASSERT_TRUE(store_->UpdateUser(edit).ok());
  got = store_->GetUser(plain.id);
  EXPECT_EQ(got->display_name, "Plain Jane");
  EXPECT_TRUE(got->adult_confirmed);
  EXPECT_EQ(got->role, Role::kUser);
  EXPECT_FALSE(got->suspended);

  ASSERT_TRUE(store_->SetUserRole(plain.id, Role::kAdmin).ok());
  EXPECT_EQ(Must(store_->GetUser(plain.id)).role, Role::kAdmin);
  ASSERT_TRUE(store_->SetUserRole(plain.id, Role::kUser).ok());
  EXPECT_EQ(Must(store_->GetUser(plain.id)).role, Role::kUser);
  EXPECT_TRUE(store_->SetUserRole(9999, Role::kAdmin).IsNotFound());
  EXPECT_TRUE(store_->SetUserSuspended(9999, true).IsNotFound());
}

TEST_P(StoreConformance, SuspendingAUserEndsOnlyTheirSessions) {
  User a = MakeUser("suspect");
  User b = MakeUser("bystander");
  ASSERT_TRUE(store_->CreateSession({"a1", a.id, 1, 2}).ok());
  ASSERT_TRUE(store_->CreateSession({"a2", a.id, 1, 2}).ok());
  ASSERT_TRUE(store_->CreateSession({"b1", b.id, 1, 2}).ok());

  ASSERT_TRUE(store_->SetUserSuspended(a.id, true).ok());
  EXPECT_TRUE(Must(store_->GetUser(a.id)).suspended);
  EXPECT_TRUE(store_->GetSession("a1").status().IsNotFound());
  EXPECT_TRUE(store_->GetSession("a2").status().IsNotFound());
  EXPECT_TRUE(store_->GetSession("b1").ok());

  // Lifting the suspension leaves sessions alone.
  ASSERT_TRUE(store_->SetUserSuspended(a.id, false).ok());
  EXPECT_FALSE(Must(store_->GetUser(a.id)).suspended);
  ASSERT_TRUE(store_->CreateSession({"a3", a.id, 1, 2}).ok());
  ASSERT_TRUE(store_->SetUserSuspended(a.id, false).ok());
  EXPECT_TRUE(store_->GetSession("a3").ok());

  // Signing out everywhere.
  ASSERT_TRUE(store_->DeleteUserSessions(a.id).ok());
  EXPECT_TRUE(store_->GetSession("a3").status().IsNotFound());
  EXPECT_TRUE(store_->GetSession("b1").ok());
  EXPECT_TRUE(store_->DeleteUserSessions(a.id).ok());  // none left: still OK
}

TEST_P(StoreConformance, ListUsersPagesByIdWithPrefix) {
  EXPECT_EQ(Must(store_->CountUsers()), 0);
  std::vector<Id> ids;
  for (const char* name : {"amy", "Ann", "bob", "anna", "an_x", "anXy"})
    ids.push_back(MakeUser(name).id);
  EXPECT_EQ(Must(store_->CountUsers()), 6);

  auto all = store_->ListUsers("", 200, kNoId);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 6u);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ((*all)[i].id, ids[i]);

  // Case-insensitive prefix, ordered by id, paged with after_id.
  auto an = store_->ListUsers("AN", 2, kNoId);
  ASSERT_TRUE(an.ok());
  ASSERT_EQ(an->size(), 2u);
  EXPECT_EQ((*an)[0].username, "Ann");
  EXPECT_EQ((*an)[1].username, "anna");
  auto rest = store_->ListUsers("an", 2, (*an)[1].id);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ((*rest)[0].username, "an_x");
  EXPECT_EQ((*rest)[1].username, "anXy");
  EXPECT_TRUE(Must(store_->ListUsers("an", 2, (*rest)[1].id)).empty());

  // LIKE wildcards in the prefix are literal.
  auto underscore = store_->ListUsers("an_", 200, kNoId);
  ASSERT_TRUE(underscore.ok());
  ASSERT_EQ(underscore->size(), 1u);
  EXPECT_EQ((*underscore)[0].username, "an_x");
  EXPECT_TRUE(Must(store_->ListUsers("%", 200, kNoId)).empty());

  // The limit is clamped into 1..200.
  EXPECT_EQ(Must(store_->ListUsers("", 0, kNoId)).size(), 1u);
  EXPECT_EQ(Must(store_->ListUsers("", 100000, kNoId)).size(), 6u);
}

TEST_P(StoreConformance, DeletedUsersCharacterStaysReadableInOthersConversations) {
  User creator = MakeUser("creator");
  User fan = MakeUser("fan");
  Character loved = MakeCharacter(creator.id, Visibility::kPublic, "Beloved Bard");
  ASSERT_TRUE(store_->SetAvatar(loved.id, {"image/png", "PNGDATA"}).ok());
  Conversation fan_conv = MakeConversation(fan.id, loved.id);
  Message hello = Say(fan_conv.id, "assistant", "Greetings, traveller");
  Message reply = Say(fan_conv.id, "user", "Sing for me", hello.id);
  // The creator talked to their own character too: that conversation goes.
  Conversation own_conv = MakeConversation(creator.id, loved.id);
  Say(own_conv.id, "user", "testing");

  ASSERT_TRUE(store_->DeleteUser(creator.id).ok());

  auto c = store_->GetCharacter(loved.id);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_NE(c->removed_at_ms, 0);
  EXPECT_EQ(c->owner_id, kNoId);
  EXPECT_EQ(c->visibility, Visibility::kPrivate);
  EXPECT_TRUE(c->hidden);
  EXPECT_EQ(c->name, "Beloved Bard");
  auto avatar = store_->GetAvatar(loved.id);
  ASSERT_TRUE(avatar.ok());
  EXPECT_EQ(avatar->bytes, "PNGDATA");

  auto conv = store_->GetConversation(fan_conv.id);
  ASSERT_TRUE(conv.ok());
  EXPECT_EQ(conv->character_id, loved.id);
  auto msgs = store_->ListMessages(fan_conv.id);
  ASSERT_TRUE(msgs.ok());
  ASSERT_EQ(msgs->size(), 2u);
  EXPECT_EQ((*msgs)[0].content, "Greetings, traveller");
  EXPECT_EQ((*msgs)[1].id, reply.id);
  EXPECT_TRUE(store_->GetConversation(own_conv.id).status().IsNotFound());

  // Gone from every listing and from search.
  CharacterQuery q;
  q.viewer_id = fan.id;
  q.include_mature = true;
  EXPECT_EQ(Listed(q).count(loved.id), 0u);
  q.text = "Beloved";
  EXPECT_EQ(Listed(q).count(loved.id), 0u);
  EXPECT_EQ(AllIds().count(loved.id), 0u);
}

TEST_P(StoreConformance, DeleteUserRemovesEverythingTheyOwn) {
  User gone = MakeUser("leaver");
  User other = MakeUser("stayer");
  Character catalog = MakeCharacter(kNoId, Visibility::kPublic, "Catalog Cat");
  Character lonely = MakeCharacter(gone.id, Visibility::kPublic, "Lonely Lynx");
  ASSERT_TRUE(store_->SetAvatar(lonely.id, {"image/png", "X"}).ok());
  Character swiped = MakeCharacter(gone.id, Visibility::kPublic, "Swiped Swan");
  ASSERT_TRUE(store_->CreateSession({"leaver-token", gone.id, 1, 2}).ok());
  ASSERT_TRUE(store_->CreateSession({"stayer-token", other.id, 1, 2}).ok());
  Conversation conv = MakeConversation(gone.id, catalog.id);
  Message m = Say(conv.id, "user", "bye");
  Conversation own = MakeConversation(gone.id, lonely.id);
  ASSERT_TRUE(store_->RecordSwipe({0, gone.id, catalog.id, SwipeAction::kLike}).ok());
  // Only a swipe (no conversation) from someone else does not keep a character.
  ASSERT_TRUE(store_->RecordSwipe({0, other.id, swiped.id, SwipeAction::kLike}).ok());
  Report filed = MakeReport(gone.id, ReportTarget::kCharacter, catalog.id, "spam");
  Report about = MakeReport(other.id, ReportTarget::kCharacter, lonely.id, "spam");
  Conversation others = MakeConversation(other.id, catalog.id);

  ASSERT_TRUE(store_->DeleteUser(gone.id).ok());

  EXPECT_TRUE(store_->GetUser(gone.id).status().IsNotFound());
  EXPECT_TRUE(store_->GetUserByName("leaver").status().IsNotFound());
  EXPECT_TRUE(store_->GetSession("leaver-token").status().IsNotFound());
  EXPECT_TRUE(store_->GetConversation(conv.id).status().IsNotFound());
  EXPECT_TRUE(store_->GetConversation(own.id).status().IsNotFound());
  EXPECT_TRUE(store_->GetMessage(m.id).status().IsNotFound());
  EXPECT_TRUE(store_->GetCharacter(lonely.id).status().IsNotFound());
  EXPECT_TRUE(store_->GetAvatar(lonely.id).status().IsNotFound());
  EXPECT_TRUE(store_->GetCharacter(swiped.id).status().IsNotFound());
  EXPECT_TRUE(Must(store_->UserSwipes(gone.id)).empty());
  EXPECT_TRUE(store_->GetReport(filed.id).status().IsNotFound());

  // Everybody else's things stay.
  EXPECT_TRUE(store_->GetUser(other.id).ok());
  EXPECT_TRUE(store_->GetSession("stayer-token").ok());
  EXPECT_TRUE(store_->GetCharacter(catalog.id).ok());
  EXPECT_TRUE(store_->GetConversation(others.id).ok());
  EXPECT_TRUE(store_->GetReport(about.id).ok());
  EXPECT_EQ(Must(store_->CountUsers()), 1);

  EXPECT_TRUE(store_->DeleteUser(gone.id).IsNotFound());
  EXPECT_TRUE(store_->DeleteUser(9999).IsNotFound());
  EXPECT_EQ(Must(store_->IntegrityCheck()), "ok");
}

TEST_P(StoreConformance, RemovedCharacterKeepsConversationsButLeavesListsAndSearch) {
  User creator = MakeUser("maker");
  User fan = MakeUser("admirer");
  Character c = MakeCharacter(creator.id, Visibility::kPublic, "Vanishing Violet");
  Character keep = MakeCharacter(creator.id, Visibility::kPublic, "Staying Sage");
  ASSERT_TRUE(store_->SetAvatar(c.id, {"image/png", "AV"}).ok());
  Conversation conv = MakeConversation(fan.id, c.id);
  Message m = Say(conv.id, "assistant", "Hello there");

  ASSERT_TRUE(store_->RemoveCharacter(c.id).ok());
  auto got = store_->GetCharacter(c.id);
  ASSERT_TRUE(got.ok());
  int64_t removed_at = got->removed_at_ms;
  EXPECT_NE(removed_at, 0);
  // Nothing else changes: owner, visibility, flags.
  EXPECT_EQ(got->owner_id, creator.id);
  EXPECT_EQ(got->visibility, Visibility::kPublic);
  EXPECT_FALSE(got->hidden);
  EXPECT_EQ(Must(store_->GetAvatar(c.id)).bytes, "AV");
  EXPECT_TRUE(store_->GetConversation(conv.id).ok());
  ASSERT_EQ(Must(store_->ListMessages(conv.id)).size(), 1u);
  EXPECT_EQ(Must(store_->GetMessage(m.id)).content, "Hello there");

  CharacterQuery q;
  q.viewer_id = fan.id;
  EXPECT_EQ(Listed(q), std::set<Id>{keep.id});
  q.viewer_id = creator.id;  // not even its creator lists it
  EXPECT_EQ(Listed(q), std::set<Id>{keep.id});
  q.only_owned = true;
  EXPECT_EQ(Listed(q), std::set<Id>{keep.id});
  q.only_owned = false;
  q.text = "Vanishing";
  EXPECT_TRUE(Listed(q).empty());
  q.text = "Vi";  // short terms take another path
  EXPECT_TRUE(Listed(q).empty());
  EXPECT_EQ(AllIds(), std::set<Id>{keep.id});

  // Idempotent: the first removal time stays.
  ASSERT_TRUE(store_->RemoveCharacter(c.id).ok());
  EXPECT_EQ(Must(store_->GetCharacter(c.id)).removed_at_ms, removed_at);
  EXPECT_TRUE(store_->RemoveCharacter(9999).IsNotFound());

  // Editing a removed character does not bring it back into search.
  Character edit = *got;
  edit.description = "Vanishing still";
  ASSERT_TRUE(store_->UpdateCharacter(edit).ok());
  q.text = "Vanishing";
  EXPECT_TRUE(Listed(q).empty());
  EXPECT_NE(Must(store_->GetCharacter(c.id)).removed_at_ms, 0);
}

TEST_P(StoreConformance, HiddenCharactersAreListedOnlyToTheirOwner) {
  User owner = MakeUser("owner");
  User viewer = MakeUser("viewer");
  Character shown = MakeCharacter(owner.id, Visibility::kPublic, "Shown Sparrow");
  Character hidden = MakeCharacter(owner.id, Visibility::kPublic, "Hidden Heron");
  EXPECT_FALSE(hidden.hidden);
  ASSERT_TRUE(store_->SetCharacterHidden(hidden.id, true).ok());
  EXPECT_TRUE(Must(store_->GetCharacter(hidden.id)).hidden);
  EXPECT_TRUE(store_->SetCharacterHidden(9999, true).IsNotFound());

  CharacterQuery q;
  q.viewer_id = viewer.id;
  EXPECT_EQ(Listed(q), std::set<Id>{shown.id});
  q.text = "Heron";
  EXPECT_TRUE(Listed(q).empty());
  q = CharacterQuery();  // anonymous
  EXPECT_EQ(Listed(q), std::set<Id>{shown.id});
  q.viewer_id = owner.id;
  EXPECT_EQ(Listed(q), (std::set<Id>{shown.id, hidden.id}));
  q.only_owned = true;
  EXPECT_EQ(Listed(q), (std::set<Id>{shown.id, hidden.id}));
  // AllCharacters keeps hidden ones: its callers filter.
  EXPECT_EQ(AllIds().count(hidden.id), 1u);

  // UpdateCharacter does not touch the flag; SetCharacterHidden lifts it.
  Character edit = Must(store_->GetCharacter(hidden.id));
  edit.hidden = false;
  edit.removed_at_ms = 12345;
  auto upd = store_->UpdateCharacter(edit);
  ASSERT_TRUE(upd.ok());
  EXPECT_TRUE(upd->hidden);
  EXPECT_EQ(upd->removed_at_ms, 0);
  ASSERT_TRUE(store_->SetCharacterHidden(hidden.id, false).ok());
  q = CharacterQuery();
  q.viewer_id = viewer.id;
  EXPECT_EQ(Listed(q), (std::set<Id>{shown.id, hidden.id}));
}

TEST_P(StoreConformance, MatureCharactersNeedOptInUnlessOwned) {
  User owner = MakeUser("author");
  User viewer = MakeUser("reader");
  Character safe = MakeCharacter(owner.id, Visibility::kPublic, "Gentle Giant");
  Character c;
  c.owner_id = owner.id;
  c.visibility = Visibility::kPublic;
  c.name = "Mature Minotaur";
  c.mature = true;
  c.hidden = true;        // ignored on create
  c.removed_at_ms = 777;  // ignored on create
  auto made = store_->CreateCharacter(c);
  ASSERT_TRUE(made.ok());
  Character mature = *made;
  EXPECT_TRUE(mature.mature);
  EXPECT_FALSE(mature.hidden);
  EXPECT_EQ(mature.removed_at_ms, 0);
  auto got = store_->GetCharacter(mature.id);
  EXPECT_TRUE(got->mature);
  EXPECT_FALSE(got->hidden);
  EXPECT_EQ(got->removed_at_ms, 0);

  CharacterQuery q;
  q.viewer_id = viewer.id;
  EXPECT_EQ(Listed(q), std::set<Id>{safe.id});
  q.text = "Minotaur";
  EXPECT_TRUE(Listed(q).empty());
  q.include_mature = true;
  EXPECT_EQ(Listed(q), std::set<Id>{mature.id});
  q.text.clear();
  EXPECT_EQ(Listed(q), (std::set<Id>{safe.id, mature.id}));
  q.include_mature = false;
  q.viewer_id = owner.id;  // the creator always sees their own
  EXPECT_EQ(Listed(q), (std::set<Id>{safe.id, mature.id}));

  // Hidden beats include_mature for others.
  ASSERT_TRUE(store_->SetCharacterHidden(mature.id, true).ok());
  q.viewer_id = viewer.id;
  q.include_mature = true;
  EXPECT_EQ(Listed(q), std::set<Id>{safe.id});

  // UpdateCharacter writes the flag.
  Character edit = Must(store_->GetCharacter(mature.id));
  edit.mature = false;
  auto upd = store_->UpdateCharacter(edit);
  ASSERT_TRUE(upd.ok());
  EXPECT_FALSE(upd->mature);
  EXPECT_FALSE(Must(store_->GetCharacter(mature.id)).mature);
}

TEST_P(StoreConformance, DuplicateOpenReportIsAlreadyExists) {
  User a = MakeUser("reporter");
  User b = MakeUser("reporter2");
  User mod = MakeUser("moderator");
  Character c = MakeCharacter(kNoId, Visibility::kPublic, "Rude Robot");
  Report first = MakeReport(a.id, ReportTarget::kCharacter, c.id, "harassment");
  EXPECT_GT(first.id, 0);
  EXPECT_GT(first.created_at_ms, 0);
  EXPECT_EQ(first.status, ReportStatus::kOpen);

  Report dup;
  dup.reporter_id = a.id;
  dup.target_kind = ReportTarget::kCharacter;
  dup.target_id = c.id;
  dup.reason = "spam";
  EXPECT_EQ(store_->CreateReport(dup).status().code(), Status::Code::kAlreadyExists);
  // Another reporter, or another kind of target with the same id, is a new report.
  MakeReport(b.id, ReportTarget::kCharacter, c.id, "harassment");
  MakeReport(a.id, ReportTarget::kMessage, c.id, "harassment");
  // Once resolved, the same reporter may report it again.
  ASSERT_TRUE(store_->ResolveReport(first.id, ReportStatus::kDismissed, mod.id).ok());
  EXPECT_TRUE(store_->CreateReport(dup).ok());

  Report nobody = dup;
  nobody.reporter_id = 9999;
  EXPECT_TRUE(store_->CreateReport(nobody).status().IsNotFound());
}

TEST_P(StoreConformance, ResolvingAReportTwiceIsConflict) {
  User a = MakeUser("tattler");
  User mod = MakeUser("judge");
  Report r = MakeReport(a.id, ReportTarget::kMessage, 42, "minor");
  EXPECT_TRUE(store_->ResolveReport(r.id, ReportStatus::kOpen, mod.id).IsInvalidArgument());
  ASSERT_TRUE(store_->ResolveReport(r.id, ReportStatus::kActioned, mod.id).ok());
  auto got = store_->GetReport(r.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, ReportStatus::kActioned);
  EXPECT_EQ(got->resolved_by, mod.id);
  EXPECT_GE(got->resolved_at_ms, got->created_at_ms);
  EXPECT_EQ(got->reporter_id, a.id);
  EXPECT_EQ(got->target_kind, ReportTarget::kMessage);
  EXPECT_EQ(got->target_id, 42);
  EXPECT_EQ(got->reason, "minor");

  EXPECT_EQ(store_->ResolveReport(r.id, ReportStatus::kDismissed, mod.id).code(),
            Status::Code::kConflict);
  EXPECT_EQ(Must(store_->GetReport(r.id)).status, ReportStatus::kActioned);
  EXPECT_TRUE(store_->ResolveReport(9999, ReportStatus::kDismissed, mod.id).IsNotFound());
  EXPECT_TRUE(store_->GetReport(9999).status().IsNotFound());
}

TEST_P(StoreConformance, ReportsListNewestFirstWithStatusFilter) {
  User a = MakeUser("watcher");
  User mod = MakeUser("warden");
  EXPECT_EQ(Must(store_->CountOpenReports()), 0);
  std::vector<Report> made;
  for (int i = 0; i < 5; ++i) {
    Report r;
    r.reporter_id = a.id;
    r.target_kind = ReportTarget::kMessage;
    r.target_id = 100 + i;
    r.reason = "r" + std::to_string(i);
    r.note = "note " + std::to_string(i);
    auto m = store_->CreateReport(r);
    ASSERT_TRUE(m.ok());
    made.push_back(*m);
  }
  ASSERT_TRUE(store_->ResolveReport(made[1].id, ReportStatus::kDismissed, mod.id).ok());
  ASSERT_TRUE(store_->ResolveReport(made[3].id, ReportStatus::kActioned, mod.id).ok());
  EXPECT_EQ(Must(store_->CountOpenReports()), 3);

  auto all = store_->ListReports(std::nullopt, 200, kNoId);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ((*all)[i].id, made[4 - i].id);
  EXPECT_EQ((*all)[0].note, "note 4");

  auto open = store_->ListReports(ReportStatus::kOpen, 200, kNoId);
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 3u);
  EXPECT_EQ((*open)[0].id, made[4].id);
  EXPECT_EQ((*open)[1].id, made[2].id);
  EXPECT_EQ((*open)[2].id, made[0].id);
  auto dismissed = Must(store_->ListReports(ReportStatus::kDismissed, 200, kNoId));
  ASSERT_EQ(dismissed.size(), 1u);
  EXPECT_EQ(dismissed[0].id, made[1].id);

  // Paging with before_id.
  auto page = Must(store_->ListReports(std::nullopt, 2, kNoId));
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[1].id, made[3].id);
  page = Must(store_->ListReports(std::nullopt, 2, page[1].id));
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].id, made[2].id);
  EXPECT_EQ(page[1].id, made[1].id);
  page = Must(store_->ListReports(ReportStatus::kOpen, 200, made[2].id));
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].id, made[0].id);
}

TEST_P(StoreConformance, AuditListsNewestFirst) {
  EXPECT_TRUE(Must(store_->ListAudit(50, kNoId)).empty());
  std::vector<AuditEntry> made;
  for (int i = 0; i < 4; ++i) {
    AuditEntry e;
    e.actor_id = 7;  // the log does not require the actor to exist
    e.action = "user.suspend";
    e.target_kind = "user";
    e.target_id = 10 + i;
    e.detail = R"({"i":)" + std::to_string(i) + "}";
    auto r = store_->AppendAudit(e);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_GT(r->id, 0);
    EXPECT_GT(r->created_at_ms, 0);
    made.push_back(*r);
  }
  auto all = store_->ListAudit(50, kNoId);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ((*all)[i].id, made[3 - i].id);
  EXPECT_EQ((*all)[0].actor_id, 7);
  EXPECT_EQ((*all)[0].action, "user.suspend");
  EXPECT_EQ((*all)[0].target_kind, "user");
  EXPECT_EQ((*all)[0].target_id, 13);
  EXPECT_EQ((*all)[0].detail, R"({"i":3})");
  EXPECT_EQ((*all)[0].created_at_ms, made[3].created_at_ms);

  auto page = Must(store_->ListAudit(2, made[2].id));
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].id, made[1].id);
  EXPECT_EQ(page[1].id, made[0].id);
  EXPECT_EQ(Must(store_->ListAudit(1, kNoId)).size(), 1u);
}

TEST_P(StoreConformance, UsageCountsLiveCharactersAndTheirBytes) {
  User u = MakeUser("hoarder");
  User other = MakeUser("neighbour");
  auto empty = store_->GetUserUsage(u.id);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->n_characters, 0);
  EXPECT_EQ(empty->storage_bytes, 0);
  EXPECT_TRUE(store_->GetUserUsage(9999).status().IsNotFound());

  Character a = MakeCharacter(u.id, Visibility::kPublic, "Alpha");
  Character b = MakeCharacter(u.id, Visibility::kPrivate, "Beta");
  MakeCharacter(other.id, Visibility::kPublic, "Other");
  MakeCharacter(kNoId, Visibility::kPublic, "Catalog");
  UserUsage two = Must(store_->GetUserUsage(u.id));
  EXPECT_EQ(two.n_characters, 2);
  // At least the names and descriptions ("About Alpha", "About Beta").
  EXPECT_GE(two.storage_bytes, int64_t{5 + 4 + 11 + 10});

  // A longer card text grows it by exactly the added bytes (UTF-8 bytes, not characters).
  Character edit = Must(store_->GetCharacter(a.id));
  edit.description += "세종";  // 6 bytes
  ASSERT_TRUE(store_->UpdateCharacter(edit).ok());
  UserUsage grown = Must(store_->GetUserUsage(u.id));
  EXPECT_EQ(grown.storage_bytes, two.storage_bytes + 6);

  // An avatar adds its bytes.
  ASSERT_TRUE(store_->SetAvatar(b.id, {"image/png", std::string(1000, 'x')}).ok());
  UserUsage with_avatar = Must(store_->GetUserUsage(u.id));
  EXPECT_EQ(with_avatar.storage_bytes, grown.storage_bytes + 1000);
  EXPECT_EQ(with_avatar.n_characters, 2);

  // Removed characters do not count.
  ASSERT_TRUE(store_->RemoveCharacter(b.id).ok());
  UserUsage after = Must(store_->GetUserUsage(u.id));
  EXPECT_EQ(after.n_characters, 1);
  EXPECT_LT(after.storage_bytes, grown.storage_bytes);
  EXPECT_GT(after.storage_bytes, 0);
}

TEST_P(StoreConformance, CountUserMessagesSinceIncludesTheBoundary) {
  User u = MakeUser("chatter");
  User other = MakeUser("talker");
  Character c = MakeCharacter(kNoId, Visibility::kPublic, "Listener");
  Character d = MakeCharacter(kNoId, Visibility::kPublic, "Listener Two");
  Conversation c1 = MakeConversation(u.id, c.id);
  Conversation c2 = MakeConversation(u.id, d.id);
  Conversation theirs = MakeConversation(other.id, c.id);
  EXPECT_EQ(Must(store_->CountUserMessagesSince(u.id, 0)), 0);

  Message first = Say(c1.id, "user", "one");
  Say(c1.id, "assistant", "reply");
  Say(c2.id, "user", "two");
  Say(c2.id, "system", "note");
  Say(theirs.id, "user", "not mine");
  Message last = Say(c1.id, "user", "three");

  EXPECT_EQ(Must(store_->CountUserMessagesSince(u.id, 0)), 3);
  EXPECT_EQ(Must(store_->CountUserMessagesSince(u.id, first.created_at_ms)), 3);
  // since_ms is inclusive: the last message counts at its own time, not one ms later.
  EXPECT_GE(Must(store_->CountUserMessagesSince(u.id, last.created_at_ms)), 1);
  EXPECT_EQ(Must(store_->CountUserMessagesSince(u.id, last.created_at_ms + 1)), 0);
  EXPECT_EQ(Must(store_->CountUserMessagesSince(other.id, 0)), 1);
  EXPECT_EQ(Must(store_->CountUserMessagesSince(9999, 0)), 0);
}

TEST_P(StoreConformance, SettingsRoundTrip) {
  auto missing = store_->GetSetting("content_policy");
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_FALSE(missing->has_value());

  std::string policy = R"({"allow_mature":false,"blocked":["세종"]})";
  ASSERT_TRUE(store_->PutSetting("content_policy", policy).ok());
  auto got = store_->GetSetting("content_policy");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, policy);

  ASSERT_TRUE(store_->PutSetting("content_policy", "{}").ok());
  EXPECT_EQ(Must(store_->GetSetting("content_policy")).value_or("<missing>"), "{}");
  ASSERT_TRUE(store_->PutSetting("empty", "").ok());
  EXPECT_EQ(Must(store_->GetSetting("empty")).value_or("<missing>"), "");
  EXPECT_FALSE(Must(store_->GetSetting("CONTENT_POLICY")).has_value());  // keys are exact
  EXPECT_TRUE(store_->PutSetting("", "x").IsInvalidArgument());
}

TEST_P(StoreConformance, MessagesAroundStaysInItsConversation) {
  User u = MakeUser("context");
  Character c = MakeCharacter(kNoId, Visibility::kPublic, "Narrator");
  Conversation conv = MakeConversation(u.id, c.id);
  Conversation other = MakeConversation(u.id, c.id);
  std::vector<Id> ids;
  for (int i = 0; i < 10; ++i) {
    ids.push_back(Say(conv.id, i % 2 ? "assistant" : "user", "m" + std::to_string(i)).id);
    Say(other.id, "user", "noise");  // interleaved ids from another conversation
  }
  auto IdsOf = [](const std::vector<Message>& v) {
    std::vector<Id> out;
    for (auto& m : v) out.push_back(m.id);
    return out;
  };

  auto mid = store_->MessagesAround(ids[5], 2, 3);
  ASSERT_TRUE(mid.ok()) << mid.status().ToString();
  EXPECT_EQ(IdsOf(*mid), (std::vector<Id>{ids[3], ids[4], ids[5], ids[6], ids[7], ids[8]}));
  EXPECT_EQ((*mid)[2].content, "m5");

  auto start = store_->MessagesAround(ids[0], 3, 1);
  ASSERT_TRUE(start.ok());
  EXPECT_EQ(IdsOf(*start), (std::vector<Id>{ids[0], ids[1]}));
  auto end = store_->MessagesAround(ids[9], 2, 5);
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(IdsOf(*end), (std::vector<Id>{ids[7], ids[8], ids[9]}));
  auto alone = store_->MessagesAround(ids[4], 0, 0);
  ASSERT_TRUE(alone.ok());
  EXPECT_EQ(IdsOf(*alone), std::vector<Id>{ids[4]});
  auto negative = store_->MessagesAround(ids[4], -3, -1);
  ASSERT_TRUE(negative.ok());
  EXPECT_EQ(IdsOf(*negative), std::vector<Id>{ids[4]});
  auto everything = store_->MessagesAround(ids[4], 100, 100);
  ASSERT_TRUE(everything.ok());
  EXPECT_EQ(IdsOf(*everything), ids);

  EXPECT_TRUE(store_->MessagesAround(999999, 2, 2).status().IsNotFound());
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
