#include "discover/eval.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "discover/simulate.h"

namespace tokki::discover {
namespace {

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("tokki_discover_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::vector<RatingRow> ToRows(const Simulation& sim) {
  std::vector<RatingRow> rows;
  for (const auto& r : sim.ratings())
    rows.push_back({r.user, r.card, static_cast<double>(r.rating), r.timestamp_ms, true});
  return rows;
}

TEST(EvalCsv, ReadsInteractionsWithOrWithoutHeaderAndTimestamps) {
  const auto path = TempPath("rows.csv");
  WriteFile(path, "user,item,rating,timestamp\n1,10,5,100\n1,11,2,200\n\n2,10,4.5,50\n");
  auto rows = ReadInteractionsCsv(path);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[2].user, 2);
  EXPECT_EQ((*rows)[2].item, 10);
  EXPECT_DOUBLE_EQ((*rows)[2].rating, 4.5);
  EXPECT_TRUE((*rows)[2].has_timestamp);
  EXPECT_EQ((*rows)[1].timestamp, 200);

  WriteFile(path, "1::10::5::978300760\n2\t11\t3\n3,12,1\n");
  rows = ReadInteractionsCsv(path);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].timestamp, 978300760);
  EXPECT_EQ((*rows)[1].item, 11);
  EXPECT_FALSE((*rows)[2].has_timestamp);

  WriteFile(path, "1,10,5\n1,oops,5\n");
  rows = ReadInteractionsCsv(path);
  EXPECT_TRUE(rows.status().IsInvalidArgument());
  EXPECT_TRUE(ReadInteractionsCsv(TempPath("missing.csv")).status().IsNotFound());
  std::remove(path.c_str());
}

TEST(EvalCsv, SimulationRoundTripsThroughCsv) {
  SimOptions so;
  so.n_users = 30;
  so.n_cards = 50;
  Simulation sim(so);
  const auto rows_path = TempPath("sim_rows.csv"), items_path = TempPath("sim_items.csv");
  ASSERT_TRUE(sim.WriteInteractionsCsv(rows_path).ok());
  ASSERT_TRUE(sim.WriteItemsCsv(items_path).ok());
  auto rows = ReadInteractionsCsv(rows_path);
  auto items = ReadItemsCsv(items_path);
  ASSERT_TRUE(rows.ok() && items.ok());
  ASSERT_EQ(rows->size(), sim.ratings().size());
  for (size_t i = 0; i < rows->size(); ++i) {
    EXPECT_EQ((*rows)[i].user, sim.ratings()[i].user);
    EXPECT_EQ((*rows)[i].item, sim.ratings()[i].card);
    EXPECT_EQ((*rows)[i].rating, sim.ratings()[i].rating);
    EXPECT_EQ((*rows)[i].timestamp, sim.ratings()[i].timestamp_ms);
  }
  ASSERT_EQ(items->size(), sim.cards().size());
  for (size_t i = 0; i < items->size(); ++i) {
    EXPECT_EQ((*items)[i].id, sim.cards()[i].id);
    EXPECT_EQ((*items)[i].language, sim.cards()[i].language);
    EXPECT_EQ((*items)[i].tags, sim.cards()[i].tags);
    EXPECT_EQ((*items)[i].text, sim.cards()[i].text);
    EXPECT_EQ((*items)[i].real_person, sim.cards()[i].real_person);
  }
  std::remove(rows_path.c_str());
  std::remove(items_path.c_str());
}

TEST(EvalCsv, ItemsWithQuotedCommas) {
  const auto path = TempPath("items.csv");
  WriteFile(
      path,
      "id,language,real_person,tags,text\n7,ko,1,history|mentor,\"세종, \"\"the great\"\"\"\n");
  auto items = ReadItemsCsv(path);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].text, "세종, \"the great\"");
  EXPECT_EQ((*items)[0].tags, (std::vector<std::string>{"history", "mentor"}));
  EXPECT_TRUE((*items)[0].real_person);
  std::remove(path.c_str());
}

TEST(Eval, RejectsBadOptions) {
  EvalOptions o;
  EXPECT_FALSE(EvaluateFeed({}, {}, o).ok());
  o.deck_size = 0;
  EXPECT_FALSE(EvaluateFeed({{1, 1, 5, 0, false}}, {}, o).ok());
  o.deck_size = 20;
  o.policies = {"nope"};
  EXPECT_FALSE(EvaluateFeed({{1, 1, 5, 0, false}, {1, 2, 5, 0, false}}, {}, o).ok());
}

// A hand-made log where the numbers can be checked by hand: one user, hidden likes known.
TEST(Eval, CountsLikesFirstLikeAndNdcg) {
  // User 1: trains on items 1 (like) and 2 (pass); hidden: 3 (5 stars), 4 (1 star).
  std::vector<RatingRow> rows = {{1, 1, 5, 1, true}, {1, 2, 1, 2, true}, {1, 3, 5, 3, true},
                                 {1, 4, 1, 4, true}, {2, 3, 5, 1, true}, {2, 1, 5, 2, true}};
  EvalOptions o;
  o.deck_size = 2;
  o.page_size = 1;
  o.policies = {"popularity"};
  o.holdout_fraction = 0.5;
  auto reports = EvaluateFeed(rows, {}, o);
  ASSERT_TRUE(reports.ok()) << reports.status().ToString();
  const auto& r = (*reports)[0];
  // Only user 1 has a hidden like (user 2's hidden row is item 1, liked: evaluated too).
  // Training likes: item 1 (user 1), item 3 (user 2) -> popularity order 1, 3, then 2, 4.
  // User 1 (swiped 1, 2): shown 3 (like), 4 (pass) -> 1 like, first at 1, NDCG 1.
  // User 2 (swiped 3): shown 1 (hidden 5 stars: like), 2 -> 1 like, first at 1, NDCG 1.
  EXPECT_EQ(r.users_evaluated, 2u);
  EXPECT_DOUBLE_EQ(r.likes_in_first_n, 1.0);
  EXPECT_DOUBLE_EQ(r.cards_to_first_like, 1.0);
  EXPECT_DOUBLE_EQ(r.ndcg_at_n, 1.0);
  EXPECT_DOUBLE_EQ(r.coverage, 1.0);  // 1, 2, 3, 4 all shown
  EXPECT_TRUE(r.time_split);
}

SimOptions TestPopulation() {
  SimOptions so;
  so.seed = 11;
  so.n_users = 800;
  so.n_cards = 1200;
  so.min_ratings = 20;
  so.max_ratings = 60;
  return so;
}

TEST(Eval, ReproducibleWithAFixedSeed) {
  SimOptions so = TestPopulation();
  so.n_users = 200;
  const Simulation sim(so);
  const auto rows = ToRows(sim);
  for (SplitMode split : {SplitMode::kTime, SplitMode::kRandom}) {
    EvalOptions o;
    o.seed = 5;
    o.split = split;
    o.max_users = 60;
    o.deck.als_iterations = 3;
    auto a = EvaluateFeed(rows, sim.cards(), o);
    auto b = EvaluateFeed(rows, sim.cards(), o);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->size(), 3u);
    for (size_t i = 0; i < a->size(); ++i) {
      EXPECT_EQ((*a)[i].policy, (*b)[i].policy);
      EXPECT_EQ((*a)[i].users_evaluated, (*b)[i].users_evaluated);
      EXPECT_EQ((*a)[i].likes_in_first_n, (*b)[i].likes_in_first_n);
      EXPECT_EQ((*a)[i].cards_to_first_like, (*b)[i].cards_to_first_like);
      EXPECT_EQ((*a)[i].ndcg_at_n, (*b)[i].ndcg_at_n);
      EXPECT_EQ((*a)[i].coverage, (*b)[i].coverage);
    }
    EXPECT_EQ((*a)[0].time_split, split == SplitMode::kTime);
    // Another seed changes the sample of users and the random policy's deck.
    o.seed = 6;
    auto c = EvaluateFeed(rows, sim.cards(), o);
    ASSERT_TRUE(c.ok());
    EXPECT_NE((*c)[2].coverage, (*a)[2].coverage);
  }
}

TEST(Eval, TokkiBeatsPopularityAndRandomOnASimulatedPopulation) {
  const Simulation sim(TestPopulation());
  EvalOptions o;
  o.seed = 3;
  o.max_users = 300;
  auto reports = EvaluateFeed(ToRows(sim), sim.cards(), o);
  ASSERT_TRUE(reports.ok());
  const auto& tokki = (*reports)[0];
  const auto& popularity = (*reports)[1];
  const auto& random = (*reports)[2];
  for (const auto& r : *reports) std::printf("%s\n", ReportJson(r).c_str());
  ASSERT_EQ(tokki.policy, "tokki");
  EXPECT_EQ(tokki.users_evaluated, 300u);
  EXPECT_GE(tokki.likes_in_first_n, 1.5 * popularity.likes_in_first_n);
  EXPECT_GE(tokki.likes_in_first_n, 5.0 * random.likes_in_first_n);
  EXPECT_GT(tokki.ndcg_at_n, popularity.ndcg_at_n);
  EXPECT_LT(tokki.cards_to_first_like, popularity.cards_to_first_like);
  EXPECT_GT(tokki.coverage, popularity.coverage);
}

}  // namespace
}  // namespace tokki::discover
