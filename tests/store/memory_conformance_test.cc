// Store conformance: memories, summaries, the message index (store.h, "memory").
#include <gtest/gtest.h>

#include <algorithm>

#include "conformance.h"
#include "core/terms.h"

namespace tokki::store {

namespace {
std::vector<Id> HitIds(const std::vector<RecallHit>& hits) {
  std::vector<Id> out;
  for (const auto& h : hits) out.push_back(h.message.id);
  return out;
}
Memory Note(Id user, Id character, const std::string& text) {
  Memory m;
  m.user_id = user;
  m.character_id = character;
  m.content = text;
  return m;
}
}  // namespace

TEST_P(StoreConformance, MemoriesAddListReorderUpdateDelete) {
  User u = MakeUser("mina");
  Character c = MakeCharacter(kNoId, Visibility::kPublic, "Aria");
  Conversation conv = MakeConversation(u.id, c.id);
  Message said = Say(conv.id, "user", "My dog is called Bori.");

  Memory a = Must(store_->AddMemory(Note(u.id, c.id, "Likes jasmine tea"), 3));
  Memory pin = Note(u.id, c.id, said.content);
  pin.kind = MemoryKind::kPin;
  pin.message_id = said.id;
  Memory b = Must(store_->AddMemory(pin, 3));
  EXPECT_EQ(a.position, 0);
  EXPECT_EQ(b.position, 1);
  EXPECT_TRUE(Must(store_->GetMessage(said.id)).pinned);
  // A message is pinned once.
  EXPECT_EQ(store_->AddMemory(pin, 3).status().code(), Status::Code::kAlreadyExists);
  Must(store_->AddMemory(Note(u.id, c.id, "third"), 3));
  // At the limit: a clear error, nothing written.
  auto over = store_->AddMemory(Note(u.id, c.id, "fourth"), 3);
  EXPECT_EQ(over.status().code(), Status::Code::kInvalidArgument);
  auto list = Must(store_->ListMemories(u.id, c.id));
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[1].kind, MemoryKind::kPin);
  EXPECT_EQ(list[1].message_id, said.id);

  // Reorder must name exactly the relationship's memories.
  EXPECT_EQ(store_->ReorderMemories(u.id, c.id, {list[2].id, list[0].id}).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(store_->ReorderMemories(u.id, c.id, {list[2].id, list[0].id, list[0].id}).code(),
            Status::Code::kInvalidArgument);
  ASSERT_TRUE(store_->ReorderMemories(u.id, c.id, {list[2].id, list[0].id, list[1].id}).ok());
  auto reordered = Must(store_->ListMemories(u.id, c.id));
  ASSERT_EQ(reordered.size(), 3u);
  EXPECT_EQ(reordered[0].content, "third");
  EXPECT_EQ(reordered[2].id, b.id);

  ASSERT_TRUE(store_->UpdateMemory(a.id, "Loves jasmine tea").ok());
  EXPECT_EQ(Must(store_->GetMemory(a.id)).content, "Loves jasmine tea");
  EXPECT_TRUE(store_->UpdateMemory(999999, "x").IsNotFound());

  // Deleting a pin unpins its message.
  ASSERT_TRUE(store_->DeleteMemory(b.id).ok());
  EXPECT_FALSE(Must(store_->GetMessage(said.id)).pinned);
  EXPECT_TRUE(store_->DeleteMemory(b.id).IsNotFound());
  // Another relationship sees none of them.
  User other = MakeUser("other");
  EXPECT_TRUE(Must(store_->ListMemories(other.id, c.id)).empty());
}

TEST_P(StoreConformance, UpdateMessageNeverUnpins) {
  User u = MakeUser("pinner");
  Character c = MakeCharacter(kNoId, Visibility::kPublic, "Aria");
  Conversation conv = MakeConversation(u.id, c.id);
  Message m = Say(conv.id, "assistant", "streaming…");
  Message stale = m;  // a copy taken before the pin, as the reply flusher holds one
  Memory pin = Note(u.id, c.id, m.content);
  pin.kind = MemoryKind::kPin;
  pin.message_id = m.id;
  Must(store_->AddMemory(pin, 50));
  stale.content = "done";
  ASSERT_TRUE(store_->UpdateMessage(stale).ok());
  EXPECT_TRUE(Must(store_->GetMessage(m.id)).pinned);
}

TEST_P(StoreConformance, DeletingAPinnedMessageDeletesThePin) {
  User u = MakeUser("deleter");
  Character c = MakeCharacter(kNoId, Visibility::kPublic, "Aria");
  Conversation conv = MakeConversation(u.id, c.id);
  Message m = Say(conv.id, "user", "remember this");
  Memory pin = Note(u.id, c.id, m.content);
  pin.kind = MemoryKind::kPin;
  pin.message_id = m.id;
  Must(store_->AddMemory(pin, 50));
  ASSERT_TRUE(store_->DeleteMessage(m.id).ok());
  EXPECT_TRUE(Must(store_->ListMemories(u.id, c.id)).empty());
}

TEST_P(StoreConformance, SummariesAreVersioned) {
  User u = MakeUser("summ");
  Character c = MakeCharacter(kNoId, Visibility::kPublic, "Aria");
  MakeConversation(u.id, c.id);
  EXPECT_FALSE(Must(store_->LatestSummary(u.id, c.id)).has_value());
  MemorySummary s;
  s.user_id = u.id;
  s.character_id = c.id;
  s.content = "They met.";
  s.covers_until_message_id = 5;
  EXPECT_EQ(Must(store_->AddSummary(s)).version, 1);
  s.content = "They met and talked about Bori.";
  s.edited = true;
  EXPECT_EQ(Must(store_->AddSummary(s)).version, 2);
  auto latest = Must(store_->LatestSummary(u.id, c.id));
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->version, 2);
  EXPECT_EQ(latest->content, "They met and talked about Bori.");
  EXPECT_TRUE(latest->edited);
  EXPECT_EQ(latest->covers_until_message_id, 5);
}

TEST_P(StoreConformance, MemoryGoesWithTheLastConversationOfTheRelationship) {
  User u = MakeUser("twoconvs");
  Character c = MakeCharacter(kNoId, Visibility::kPublic, "Aria");
  Conversation one = MakeConversation(u.id, c.id);
  Conversation two = MakeConversation(u.id, c.id);
  Must(store_->AddMemory(Note(u.id, c.id, "kept"), 50));
  MemorySummary s;
  s.user_id = u.id;
  s.character_id = c.id;
  s.content = "story";
  Must(store_->AddSummary(s));
  ASSERT_TRUE(store_->DeleteConversation(one.id).ok());
  EXPECT_EQ(Must(store_->ListMemories(u.id, c.id)).size(), 1u);
  ASSERT_TRUE(store_->DeleteConversation(two.id).ok());
  EXPECT_TRUE(Must(store_->ListMemories(u.id, c.id)).empty());
  EXPECT_FALSE(Must(store_->LatestSummary(u.id, c.id)).has_value());
  // And with the account.
  User v = MakeUser("leaver");
  MakeConversation(v.id, c.id);
  Must(store_->AddMemory(Note(v.id, c.id, "gone with the account"), 50));
  ASSERT_TRUE(store_->DeleteUser(v.id).ok());
  EXPECT_TRUE(Must(store_->ListMemories(v.id, c.id)).empty());
}

TEST_P(StoreConformance, SearchMessagesRanksWithinTheRelationshipOnly) {
  User u = MakeUser("searcher");
  User other = MakeUser("stranger");
  Character c = MakeCharacter(kNoId, Visibility::kPublic, "Aria");
  Character d = MakeCharacter(kNoId, Visibility::kPublic, "Bea");
  Conversation conv = MakeConversation(u.id, c.id);
  Conversation older = MakeConversation(u.id, c.id);
  Message dog = Say(conv.id, "user", "My dog is called Bori and she loves the park.");
  Message dogs = Say(older.id, "assistant", "Dogs are wonderful. Bori, Bori, Bori!");
  Say(conv.id, "user", "I had rice for lunch.");
  Message ko = Say(conv.id, "user", "내 강아지 이름은 보리야");
  Message zh = Say(conv.id, "user", "我的狗叫小白");
  Say(MakeConversation(other.id, c.id).id, "user", "My dog Bori is mine, not yours.");
  Say(MakeConversation(u.id, d.id).id, "user", "Bori belongs to another friend.");

  auto terms = QueryTerms("What is my dog called? Is it Bori?");
  auto hits = Must(store_->SearchMessages(u.id, c.id, terms, {}, 10));
  // Only this relationship (both of its conversations); the message with three of the
  // query's terms (dog, called, bori) ranks above the one with two ("dogs" is stemmed).
  EXPECT_EQ(HitIds(hits), (std::vector<Id>{dog.id, dogs.id}));
  EXPECT_GT(hits[0].score, 0);
  EXPECT_GE(hits[0].score, hits[1].score);
  // Excluded ids (the messages already in the prompt) are skipped before the limit.
  EXPECT_EQ(HitIds(Must(store_->SearchMessages(u.id, c.id, terms, {dog.id}, 1))),
            (std::vector<Id>{dogs.id}));
  // CJK: a two-syllable name followed by another particle still matches.
  EXPECT_EQ(HitIds(Must(store_->SearchMessages(u.id, c.id, QueryTerms("보리는 잘 지내?"), {}, 10))),
            (std::vector<Id>{ko.id}));
  EXPECT_EQ(HitIds(Must(store_->SearchMessages(u.id, c.id, QueryTerms("小白好吗"), {}, 10))),
            (std::vector<Id>{zh.id}));
  EXPECT_TRUE(Must(store_->SearchMessages(u.id, c.id, {}, {}, 10)).empty());
  // Quotes and operators in terms are literal.
  EXPECT_TRUE(Must(store_->SearchMessages(u.id, c.id, {"\"", "OR", "NEAR("}, {}, 10)).empty());
  // How many of the relationship's messages hold each term, up to a cap.
  EXPECT_EQ(Must(store_->CountMessagesWithTerms(u.id, c.id,
                                                {"bori", "dog", "보리", "rice", "zebra", "\""}, 10)),
            (std::vector<int>{2, 2, 1, 1, 0, 0}));
  EXPECT_EQ(Must(store_->CountMessagesWithTerms(u.id, c.id, {"bori"}, 1)), (std::vector<int>{1}));
  EXPECT_TRUE(Must(store_->CountMessagesWithTerms(u.id, c.id, {}, 10)).empty());
}

TEST_P(StoreConformance, ForgottenDeletedAndStreamingMessagesAreNotFound) {
  User u = MakeUser("forgetter");
  Character c = MakeCharacter(kNoId, Visibility::kPublic, "Aria");
  Conversation conv = MakeConversation(u.id, c.id);
  Message a = Say(conv.id, "user", "my secret is pineapple pizza");
  Message b = Say(conv.id, "assistant", "pineapple on pizza, noted");
  auto terms = QueryTerms("pineapple");
  EXPECT_EQ(Must(store_->SearchMessages(u.id, c.id, terms, {}, 10)).size(), 2u);
  ASSERT_TRUE(store_->ForgetMessage(a.id).ok());
  EXPECT_TRUE(Must(store_->GetMessage(a.id)).forgotten);
  EXPECT_EQ(HitIds(Must(store_->SearchMessages(u.id, c.id, terms, {}, 10))),
            (std::vector<Id>{b.id}));
  // An edit of a forgotten message does not bring it back.
  Message edited = Must(store_->GetMessage(a.id));
  edited.content = "pineapple pineapple";
  ASSERT_TRUE(store_->UpdateMessage(edited).ok());
  EXPECT_EQ(Must(store_->SearchMessages(u.id, c.id, terms, {}, 10)).size(), 1u);
  ASSERT_TRUE(store_->DeleteMessage(b.id).ok());
  EXPECT_TRUE(Must(store_->SearchMessages(u.id, c.id, terms, {}, 10)).empty());
  EXPECT_TRUE(store_->ForgetMessage(999999).IsNotFound());

  // A streaming reply is indexed when it ends, with its final text.
  Message r;
  r.conversation_id = conv.id;
  r.role = "assistant";
  r.content = "";
  r.status = MessageStatus::kStreaming;
  r = Must(store_->AppendMessage(r));
  r.content = "the lighthouse keeper";
  ASSERT_TRUE(store_->UpdateMessage(r).ok());
  EXPECT_TRUE(Must(store_->SearchMessages(u.id, c.id, QueryTerms("lighthouse"), {}, 10)).empty());
  r.status = MessageStatus::kComplete;
  ASSERT_TRUE(store_->UpdateMessage(r).ok());
  EXPECT_EQ(HitIds(Must(store_->SearchMessages(u.id, c.id, QueryTerms("lighthouse"), {}, 10))),
            (std::vector<Id>{r.id}));
  // Deleting the conversation empties the index for it.
  ASSERT_TRUE(store_->DeleteConversation(conv.id).ok());
  EXPECT_TRUE(Must(store_->SearchMessages(u.id, c.id, QueryTerms("lighthouse"), {}, 10)).empty());
  EXPECT_EQ(Must(store_->CountRelationshipMessages(u.id, c.id)), 0);
}

TEST_P(StoreConformance, MessageVectorsPerModelWithoutForgottenOnes) {
  User u = MakeUser("vectors");
  Character c = MakeCharacter(kNoId, Visibility::kPublic, "Aria");
  Conversation conv = MakeConversation(u.id, c.id);
  Message a = Say(conv.id, "user", "first");
  Message b = Say(conv.id, "assistant", "second");
  Message sys = Say(conv.id, "system", "not recalled");
  Say(MakeConversation(MakeUser("else").id, c.id).id, "user", "someone else's");
  auto missing = Must(store_->MessagesWithoutVector(u.id, c.id, "m1", 10));
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_EQ(missing[0].id, a.id);
  EXPECT_EQ(missing[1].id, b.id);
  ASSERT_TRUE(store_->PutMessageVectors("m1", {{a.id, {0.6f, 0.8f}}, {b.id, {1.0f, 0.0f}}}).ok());
  EXPECT_TRUE(Must(store_->MessagesWithoutVector(u.id, c.id, "m1", 10)).empty());
  EXPECT_EQ(Must(store_->MessagesWithoutVector(u.id, c.id, "m2", 10)).size(), 2u);
  auto vs = Must(store_->RelationshipVectors(u.id, c.id, "m1", kNoId));
  ASSERT_EQ(vs.size(), 2u);
  EXPECT_EQ(vs[0].message_id, a.id);
  EXPECT_EQ(vs[0].vector, (std::vector<float>{0.6f, 0.8f}));
  EXPECT_EQ(Must(store_->RelationshipVectors(u.id, c.id, "m1", a.id)).size(), 1u);
  // Forgotten: gone, and a late Put does not bring it back.
  ASSERT_TRUE(store_->ForgetMessage(a.id).ok());
  ASSERT_TRUE(store_->PutMessageVectors("m1", {{a.id, {0.6f, 0.8f}}}).ok());
  vs = Must(store_->RelationshipVectors(u.id, c.id, "m1", kNoId));
  ASSERT_EQ(vs.size(), 1u);
  EXPECT_EQ(vs[0].message_id, b.id);
  ASSERT_TRUE(store_->DeleteMessage(b.id).ok());
  EXPECT_TRUE(Must(store_->RelationshipVectors(u.id, c.id, "m1", kNoId)).empty());
  (void)sys;
}

}  // namespace tokki::store
