// Store conformance suite: instantiate with a factory for any Store implementation.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "store/store.h"

namespace tokki::store {
using StoreFactory = std::function<std::unique_ptr<Store>()>;

// The value of `r`; when it failed, records a test failure and returns T() instead, so
// that one broken method fails its test rather than aborting the whole suite.
template <typename T>
T Must(Result<T> r) {
  if (r.ok()) return std::move(r).value();
  ADD_FAILURE() << r.status().ToString();
  return T();
}

// The fixture of every conformance test (conformance_test.cc, memory_conformance_test.cc);
// conformance_test.cc instantiates it once per implementation.
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
  Conversation MakeConversation(Id user_id, Id character_id) {
    auto r = store_->CreateConversation({0, user_id, character_id});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return *r;
  }
  Message Say(Id conversation_id, const std::string& role, const std::string& content,
              Id parent_id = kNoId) {
    Message m;
    m.conversation_id = conversation_id;
    m.role = role;
    m.content = content;
    m.parent_id = parent_id;
    auto r = store_->AppendMessage(m);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return *r;
  }
  // Ids of every character ListCharacters shows for `q` (all pages).
  std::set<Id> Listed(CharacterQuery q) {
    std::set<Id> out;
    q.limit = 100;
    for (;;) {
      auto r = store_->ListCharacters(q);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) return out;
      for (auto& c : r->items) out.insert(c.id);
      if (r->next_cursor.empty()) return out;
      q.cursor = r->next_cursor;
    }
  }
  std::set<Id> AllIds() {
    std::set<Id> out;
    auto all = store_->AllCharacters();
    EXPECT_TRUE(all.ok()) << all.status().ToString();
    if (all.ok())
      for (auto& c : *all) out.insert(c.id);
    return out;
  }
  Report MakeReport(Id reporter, ReportTarget kind, Id target, const std::string& reason) {
    Report r;
    r.reporter_id = reporter;
    r.target_kind = kind;
    r.target_id = target;
    r.reason = reason;
    auto made = store_->CreateReport(r);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    return *made;
  }
  std::unique_ptr<Store> store_;
};

}  // namespace tokki::store
