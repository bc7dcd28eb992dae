#include "discover/deck.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

namespace tokki::discover {
namespace {

CardFeatures Card(Id id, std::string lang, std::vector<std::string> tags, std::string text,
                  Id owner = kNoId, bool real_person = false, bool listed = true) {
  CardFeatures c;
  c.id = id;
  c.owner_id = owner;
  c.language = std::move(lang);
  c.tags = std::move(tags);
  c.text = std::move(text);
  c.real_person = real_person;
  c.listed = listed;
  return c;
}

// A catalog of `n` cards (ids 1..n) in three languages with a few tags each.
std::vector<CardFeatures> RandomCatalog(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const char* langs[] = {"en", "ko", "zh"};
  const char* tags[] = {"history", "fantasy", "romance", "mentor", "comedy", "scifi"};
  const char* words[] = {"brave",     "gentle", "scholar", "pirate", "king", "poet",
                         "robot",     "witch",  "세종",    "대왕",   "李白", "月亮",
                         "detective", "chef",   "sailor",  "painter"};
  std::vector<CardFeatures> out;
  for (size_t i = 0; i < n; ++i) {
    std::string text;
    for (int w = 0; w < 6; ++w) text += std::string(words[rng() % 16]) + " ";
    out.push_back(Card(static_cast<Id>(i + 1), langs[rng() % 3], {tags[rng() % 6], tags[rng() % 6]},
                       text, rng() % 10 == 0 ? static_cast<Id>(1000 + rng() % 5) : kNoId,
                       rng() % 5 == 0, rng() % 8 != 0));
  }
  return out;
}

std::set<Id> AsSet(const std::vector<Id>& v) { return {v.begin(), v.end()}; }

TEST(Deck, EmptyDeckAndZeroLimit) {
  Deck deck;
  EXPECT_TRUE(deck.Next(1, 10, {}).empty());
  deck.UpsertCard(Card(1, "en", {}, "hello world"));
  EXPECT_TRUE(deck.Next(1, 0, {}).empty());
  EXPECT_EQ(deck.Next(1, 10, {}), std::vector<Id>{1});
}

TEST(Deck, NeverShowsOwnedUnlistedOrRemovedCards) {
  Deck deck;
  deck.UpsertCard(Card(1, "en", {}, "mine", /*owner=*/42));
  deck.UpsertCard(Card(2, "en", {}, "unlisted", kNoId, false, /*listed=*/false));
  deck.UpsertCard(Card(3, "en", {}, "removed"));
  deck.UpsertCard(Card(4, "en", {}, "visible"));
  deck.RemoveCard(3);
  EXPECT_EQ(deck.Next(42, 10, {}), std::vector<Id>{4});
  // Another user sees the owner's card, still not the unlisted or removed ones.
  EXPECT_EQ(AsSet(deck.Next(7, 10, {})), (std::set<Id>{1, 4}));
  // Becoming listed again makes it visible; re-adding a removed card revives it.
  deck.UpsertCard(Card(2, "en", {}, "now public"));
  deck.UpsertCard(Card(3, "en", {}, "back"));
  EXPECT_EQ(AsSet(deck.Next(42, 10, {})), (std::set<Id>{2, 3, 4}));
  EXPECT_EQ(deck.Stats().n_cards, 4u);
}

TEST(Deck, SwipedCardsAreExcludedAtOnceAndUndoBringsThemBack) {
  Deck deck;
  for (Id id = 1; id <= 5; ++id)
    deck.UpsertCard(Card(id, "en", {}, "card number " + std::to_string(id)));
  deck.RecordSwipe(9, 2, Feedback::kPass, 1);
  deck.RecordSwipe(9, 3, Feedback::kLike, 2);
  deck.RecordSwipe(9, 4, Feedback::kSuperlike, 3);
  EXPECT_EQ(AsSet(deck.Next(9, 10, {})), (std::set<Id>{1, 5}));
  deck.UndoSwipe(9, 2);
  EXPECT_EQ(AsSet(deck.Next(9, 10, {})), (std::set<Id>{1, 2, 5}));
  // Undo of something never swiped, of an unknown card or user, is harmless.
  deck.UndoSwipe(9, 1);
  deck.UndoSwipe(9, 77);
  deck.UndoSwipe(10, 2);
  EXPECT_EQ(AsSet(deck.Next(9, 10, {})), (std::set<Id>{1, 2, 5}));
  EXPECT_EQ(deck.Stats().n_interactions, 2u);
  // Other users are unaffected; also_exclude is honoured.
  EXPECT_EQ(AsSet(deck.Next(10, 10, {}, {1, 5})), (std::set<Id>{2, 3, 4}));
}

TEST(Deck, SwipesBeforeTheCardIsKnownStillExclude) {
  Deck deck;
  deck.RecordSwipe(5, 100, Feedback::kPass, 1);  // history loaded before the catalog
  deck.UpsertCard(Card(100, "en", {}, "late card"));
  deck.UpsertCard(Card(101, "en", {}, "other card"));
  EXPECT_EQ(deck.Next(5, 10, {}), std::vector<Id>{101});
}

TEST(Deck, FiltersByLanguageTagsAndRealPeople) {
  Deck deck;
  deck.UpsertCard(Card(1, "en", {"History"}, "Abraham Lincoln", kNoId, /*real=*/true));
  deck.UpsertCard(Card(2, "ko", {"history", "Mentor"}, "세종대왕", kNoId, /*real=*/true));
  deck.UpsertCard(Card(3, "ko", {"romance"}, "다정한 친구"));
  deck.UpsertCard(Card(4, "zh", {"poetry"}, "李白 月亮"));
  deck.UpsertCard(Card(5, "en", {"fantasy", "mentor"}, "a wise wizard"));
  DeckFilter ko;
  ko.languages = {"KO"};
  EXPECT_EQ(AsSet(deck.Next(1, 10, ko)), (std::set<Id>{2, 3}));
  DeckFilter mentor;
  mentor.tags = {"mentor", "unknown-tag"};
  EXPECT_EQ(AsSet(deck.Next(1, 10, mentor)), (std::set<Id>{2, 5}));
  DeckFilter no_real;
  no_real.include_real_people = false;
  EXPECT_EQ(AsSet(deck.Next(1, 10, no_real)), (std::set<Id>{3, 4, 5}));
  DeckFilter all;
  all.languages = {"ko", "en"};
  all.tags = {"history"};
  all.include_real_people = false;
  EXPECT_TRUE(deck.Next(1, 10, all).empty());
  all.include_real_people = true;
  EXPECT_EQ(AsSet(deck.Next(1, 10, all)), (std::set<Id>{1, 2}));
  DeckFilter unknown_lang;
  unknown_lang.languages = {"fr"};
  EXPECT_TRUE(deck.Next(1, 10, unknown_lang).empty());
  // A card whose tags change leaves the old tag's pool.
  deck.UpsertCard(Card(5, "en", {"fantasy"}, "a wise wizard"));
  EXPECT_EQ(deck.Next(1, 10, mentor), std::vector<Id>{2});
  // Filtered pages still exclude swipes.
  deck.RecordSwipe(1, 2, Feedback::kPass, 1);
  EXPECT_TRUE(deck.Next(1, 10, mentor).empty());
}

// Property: whatever the sequence of swipes, undos, retrains and catalog edits, Next()
// never returns a swiped, owned, unlisted or filtered-out card, nor a duplicate.
TEST(Deck, PassesNeverReturnProperty) {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    std::mt19937_64 rng(seed);
    DeckOptions options;
    options.seed = seed;
    options.n_factors = 4;
    options.als_iterations = 2;
    Deck deck(options);
    std::map<Id, CardFeatures> catalog;
    for (const auto& c : RandomCatalog(120, seed)) catalog[c.id] = c, deck.UpsertCard(c);
    std::map<Id, std::set<Id>> swiped;  // user -> cards
    for (int step = 0; step < 400; ++step) {
      const Id user = 1000 + static_cast<Id>(rng() % 6);  // some users own cards
      const int op = static_cast<int>(rng() % 20);
      if (op < 8) {
        DeckFilter filter;
        if (rng() % 3 == 0) filter.languages = {rng() % 2 ? "ko" : "en"};
        if (rng() % 4 == 0) filter.tags = {rng() % 2 ? "history" : "comedy"};
        filter.include_real_people = rng() % 3 != 0;
        const auto page = deck.Next(user, 1 + rng() % 12, filter);
        ASSERT_EQ(AsSet(page).size(), page.size()) << "duplicate in page, seed " << seed;
        for (Id id : page) {
          ASSERT_FALSE(swiped[user].count(id))
              << "swiped card " << id << " returned, seed " << seed;
          const auto& c = catalog.at(id);
          ASSERT_TRUE(c.listed);
          ASSERT_NE(c.owner_id, user);
          if (!filter.include_real_people) {
            ASSERT_FALSE(c.real_person);
          }
          if (!filter.languages.empty()) {
            ASSERT_EQ(c.language, filter.languages[0]);
          }
          if (!filter.tags.empty()) {
            ASSERT_TRUE(std::count(c.tags.begin(), c.tags.end(), filter.tags[0]));
          }
        }
        // Swipe a prefix of what was shown, as a user would.
        for (size_t i = 0; i < page.size() && rng() % 3 != 0; ++i) {
          deck.RecordSwipe(user, page[i], static_cast<Feedback>(rng() % 3), step);
          swiped[user].insert(page[i]);
        }
      } else if (op < 13) {
        const Id card = 1 + static_cast<Id>(rng() % 130);  // may be unknown
        deck.RecordSwipe(user, card, static_cast<Feedback>(rng() % 3), step);
        swiped[user].insert(card);
      } else if (op < 15 && !swiped[user].empty()) {
        auto it = swiped[user].begin();
        std::advance(it, static_cast<long>(rng() % swiped[user].size()));
        deck.UndoSwipe(user, *it);
        swiped[user].erase(it);
      } else if (op < 16) {
        deck.RecordEngagement(user, 1 + static_cast<Id>(rng() % 120), static_cast<int>(rng() % 40),
                              static_cast<int>(rng() % 6), step);
      } else if (op < 17) {
        deck.TrainNow();
      } else if (op < 19) {
        CardFeatures c = catalog.at(1 + static_cast<Id>(rng() % 120));
        c.listed = rng() % 4 != 0;
        c.tags = {rng() % 2 ? "history" : "comedy"};
        c.text += " edited";
        catalog[c.id] = c;
        deck.UpsertCard(c);
      } else {
        const Id id = 1 + static_cast<Id>(rng() % 120);
        deck.RemoveCard(id);
        catalog[id].listed = false;
      }
    }
    size_t total = 0;
    for (const auto& [u, s] : swiped) total += s.size();
    EXPECT_EQ(deck.Stats().n_interactions, total);
  }
}

TEST(Deck, ConcurrentRequestsSwipesAndBackgroundTraining) {
  DeckOptions options;
  options.n_factors = 8;
  options.als_iterations = 2;
  Deck deck(options);
  for (const auto& c : RandomCatalog(600, 3)) deck.UpsertCard(c);
  deck.StartBackgroundTraining(std::chrono::milliseconds(2));
  std::atomic<int> violations{0};
  std::atomic<int> pages{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(100 + t);
      std::map<Id, std::set<Id>> swiped;
      for (int i = 0; i < 300; ++i) {
        const Id user = 1 + t * 10 + static_cast<Id>(rng() % 10);  // each thread owns its users
        const auto page = deck.Next(user, 8, {});
        pages.fetch_add(1);
        for (Id id : page) violations += swiped[user].count(id) ? 1 : 0;
        for (Id id : page) {
          if (rng() % 2) continue;
          deck.RecordSwipe(user, id, rng() % 3 ? Feedback::kPass : Feedback::kLike, i);
          swiped[user].insert(id);
        }
        if (i % 50 == 0 && !swiped[user].empty()) {
          const Id undo = *swiped[user].begin();
          deck.UndoSwipe(user, undo);
          swiped[user].erase(undo);
        }
      }
    });
  }
  threads.emplace_back([&] {  // catalog edits meanwhile
    for (Id id = 601; id <= 700; ++id) {
      deck.UpsertCard(Card(id, "en", {"fresh"}, "a newly created character " + std::to_string(id)));
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  for (auto& th : threads) th.join();
  deck.Stop();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(pages.load(), 1200);
  EXPECT_GE(deck.Stats().model_version, 1u);
  deck.Stop();  // idempotent
}

// Two clusters of cards; liking one card of a cluster pulls the next page towards it at
// once, before any retrain (content profile updated by the swipe itself).
TEST(Deck, LikeShiftsTheNextPageImmediately) {
  DeckOptions options;
  options.weight_explore = 0.05f;
  options.mmr_lambda = 1.0f;
  Deck deck(options);
  for (Id id = 1; id <= 30; ++id)
    deck.UpsertCard(
        Card(id, "ko", {"history"}, "조선 시대 학자 임금 세종 역사 " + std::to_string(id)));
  for (Id id = 31; id <= 60; ++id)
    deck.UpsertCard(
        Card(id, "en", {"scifi"}, "space robot starship captain galaxy " + std::to_string(id)));
  auto count_in = [](const std::vector<Id>& page, Id lo, Id hi) {
    return std::count_if(page.begin(), page.end(), [&](Id id) { return id >= lo && id <= hi; });
  };
  deck.RecordSwipe(7, 40, Feedback::kLike, 1);
  auto page = deck.Next(7, 10, {});
  EXPECT_GE(count_in(page, 31, 60), 9) << "liked sci-fi";
  // Passing several sci-fi cards and liking a history card turns the deck around.
  for (Id id : page) deck.RecordSwipe(7, id, Feedback::kPass, 2);
  deck.RecordSwipe(7, 3, Feedback::kSuperlike, 3);
  page = deck.Next(7, 10, {});
  EXPECT_GE(count_in(page, 1, 30), 9);
}

// Users who like cards of group A also like other A cards: after training, a new user who
// likes two A cards gets A cards, although the text carries no signal at all.
TEST(Deck, CollaborativeSignalAfterTraining) {
  DeckOptions options;
  options.weight_content = 0;
  options.weight_explore = 0.05f;
  options.weight_popularity = 0;
  options.mmr_lambda = 1.0f;
  options.n_factors = 4;
  options.als_regularization = 1.0f;
  Deck deck(options);
  for (Id id = 1; id <= 40; ++id) deck.UpsertCard(Card(id, "en", {}, "character"));
  std::mt19937_64 rng(5);
  for (Id user = 100; user < 160; ++user) {
    const bool likes_a = user % 2 == 0;
    for (int k = 0; k < 10; ++k) {
      const Id card = 1 + static_cast<Id>(rng() % 40);
      const bool in_a = card <= 20;
      deck.RecordSwipe(user, card, in_a == likes_a ? Feedback::kLike : Feedback::kPass, k);
    }
  }
  deck.TrainNow();
  deck.RecordSwipe(1, 2, Feedback::kLike, 1);
  deck.RecordSwipe(1, 5, Feedback::kLike, 2);
  const auto page = deck.Next(1, 8, {});
  EXPECT_GE(std::count_if(page.begin(), page.end(), [](Id id) { return id <= 20; }), 7);
  const auto st = deck.Stats();
  EXPECT_EQ(st.model_version, 1u);
  EXPECT_GT(st.last_train_ms, 0);
  EXPECT_EQ(st.n_users, 61u);
}

// MMR: with near-copies at the top, a lower lambda spreads the page.
TEST(Deck, MmrDiversifiesNearCopies) {
  auto run = [](float lambda) {
    DeckOptions options;
    options.mmr_lambda = lambda;
    options.weight_explore = 0.0f;
    Deck deck(options);
    deck.UpsertCard(Card(1, "en", {"pirate"}, "pirate captain treasure ship sea"));
    for (Id id = 2; id <= 11; ++id)  // near-copies of the liked card
      deck.UpsertCard(
          Card(id, "en", {"pirate"}, "pirate captain treasure ship sea " + std::to_string(id)));
    const char* other[] = {
        "pirate chef kitchen",   "sea poet",     "ship engineer", "treasure scholar",
        "captain of a starship", "pirate queen", "sea witch",     "ship cat"};
    for (Id id = 12; id < 20; ++id) deck.UpsertCard(Card(id, "en", {}, other[id - 12]));
    deck.RecordSwipe(1, 1, Feedback::kLike, 1);
    const auto page = deck.Next(1, 6, {});
    return std::count_if(page.begin(), page.end(), [](Id id) { return id <= 11; });
  };
  const auto copies_relevance_only = run(1.0f);
  const auto copies_diverse = run(0.3f);
  EXPECT_EQ(copies_relevance_only, 6);
  EXPECT_LE(copies_diverse, 3);
}

TEST(Deck, SameStateSameDeck) {
  auto run = [] {
    Deck deck;
    for (const auto& c : RandomCatalog(200, 9)) deck.UpsertCard(c);
    for (Id u = 1; u < 20; ++u)
      for (Id c = 1; c < 200; c += 7 + u)
        deck.RecordSwipe(u, c, c % 3 ? Feedback::kPass : Feedback::kLike, c);
    deck.TrainNow();
    return deck.Next(3, 15, {});
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace tokki::discover

namespace tokki::discover {
namespace {

// New users get popular cards first, yet brand-new cards still get shown now and then
// (Thompson sampling on an uncertain like rate, plus recent cards in the pool).
TEST(Deck, ColdStartPopularityWithExplorationOfNewCards) {
  Deck deck;
  for (Id id = 1; id <= 100; ++id)
    deck.UpsertCard(
        Card(id, "en", {"tag" + std::to_string(id % 7)}, "character " + std::to_string(id)));
  std::mt19937_64 rng(2);
  for (Id user = 1000; user < 1060; ++user) {
    for (Id card = 1; card <= 10; ++card)  // cards 1..10: loved by everyone
      deck.RecordSwipe(user, card, rng() % 5 ? Feedback::kLike : Feedback::kPass, 1);
    for (int k = 0; k < 10; ++k)  // the rest of the old catalog: mostly passed
      deck.RecordSwipe(user, 11 + static_cast<Id>(rng() % 80),
                       rng() % 6 ? Feedback::kPass : Feedback::kLike, 2);
  }
  deck.TrainNow();
  for (Id id = 101; id <= 110; ++id)
    deck.UpsertCard(Card(id, "en", {}, "brand new " + std::to_string(id)));
  size_t popular = 0, fresh = 0, shown = 0;
  for (Id user = 1; user <= 40; ++user) {
    for (Id id : deck.Next(user, 10, {})) {
      ++shown;
      popular += id <= 10;
      fresh += id > 100;
    }
  }
  EXPECT_EQ(shown, 400u);
  EXPECT_GE(popular, 200u) << "cold users should mostly see the loved cards";
  EXPECT_GE(fresh, 1u) << "new cards should get some exposure";
  EXPECT_LT(fresh, 200u);
}

}  // namespace
}  // namespace tokki::discover

namespace tokki::discover {
namespace {

TEST(Deck, CardFromStoredCharacter) {
  store::Character ch;
  ch.id = 12;
  ch.owner_id = 3;
  ch.name = "King Sejong";
  ch.tagline = "세종대왕";
  ch.description = "Creator of Hangul";
  ch.language = "ko";
  ch.tags = {"history"};
  ch.real_person = true;
  ch.visibility = store::Visibility::kUnlisted;
  CardFeatures c = CardFromCharacter(ch);
  EXPECT_EQ(c.id, 12);
  EXPECT_EQ(c.owner_id, 3);
  EXPECT_EQ(c.text, "King Sejong\n세종대왕\nCreator of Hangul");
  EXPECT_TRUE(c.real_person);
  EXPECT_FALSE(c.listed);
  ch.visibility = store::Visibility::kPublic;
  EXPECT_TRUE(CardFromCharacter(ch).listed);
  EXPECT_EQ(FeedbackFromSwipe(store::SwipeAction::kSuperlike), Feedback::kSuperlike);
  EXPECT_EQ(FeedbackFromSwipe(store::SwipeAction::kPass), Feedback::kPass);
  EXPECT_EQ(FeedbackFromSwipe(store::SwipeAction::kLike), Feedback::kLike);
}

}  // namespace
}  // namespace tokki::discover
