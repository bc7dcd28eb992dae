// `tokki feed-eval` — replays a rating log under the deck protocol (src/discover/eval.h,
// docs/discover.md) and prints one JSON line per policy. Can also simulate a population
// and write its CSV files (src/discover/simulate.h).
#include <cstdio>
#include <memory>
#include <string>

#include "app/commands.h"
#include "discover/eval.h"
#include "discover/simulate.h"

namespace tokki::app {
namespace {

struct FeedEvalFlags {
  std::string interactions;
  std::string items;
  double like_threshold = 4;
  size_t deck_size = 20;
  size_t page_size = 5;
  uint64_t seed = 1;
  std::string split = "time";
  double holdout = 0.5;
  size_t max_users = 0;
  std::vector<std::string> policies = {"tokki", "popularity", "random"};
  size_t sim_users = 0;
  size_t sim_cards = 0;
  std::string write_interactions;
  std::string write_items;
};

int RunFeedEval(const FeedEvalFlags& f) {
  using namespace tokki::discover;
  std::vector<RatingRow> rows;
  std::vector<CardFeatures> items;
  if (f.sim_users > 0 || f.sim_cards > 0) {
    SimOptions so;
    so.seed = f.seed;
    if (f.sim_users > 0) so.n_users = f.sim_users;
    if (f.sim_cards > 0) so.n_cards = f.sim_cards;
    const Simulation sim(so);
    for (const auto& r : sim.ratings())
      rows.push_back({r.user, r.card, static_cast<double>(r.rating), r.timestamp_ms, true});
    items = sim.cards();
    if (!f.write_interactions.empty()) {
      if (Status st = sim.WriteInteractionsCsv(f.write_interactions); !st.ok()) {
        std::fprintf(stderr, "feed-eval: %s\n", st.ToString().c_str());
        return 1;
      }
    }
    if (!f.write_items.empty()) {
      if (Status st = sim.WriteItemsCsv(f.write_items); !st.ok()) {
        std::fprintf(stderr, "feed-eval: %s\n", st.ToString().c_str());
        return 1;
      }
    }
  } else {
    if (f.interactions.empty()) {
      std::fprintf(stderr,
                   "feed-eval: --interactions FILE.csv (or --simulate-users/--simulate-cards) is "
                   "required\n");
      return 2;
    }
    auto read = ReadInteractionsCsv(f.interactions);
    if (!read.ok()) {
      std::fprintf(stderr, "feed-eval: %s\n", read.status().ToString().c_str());
      return 1;
    }
    rows = std::move(read).value();
    if (!f.items.empty()) {
      auto read_items = ReadItemsCsv(f.items);
      if (!read_items.ok()) {
        std::fprintf(stderr, "feed-eval: %s\n", read_items.status().ToString().c_str());
        return 1;
      }
      items = std::move(read_items).value();
    }
  }
  EvalOptions o;
  o.like_threshold = f.like_threshold;
  o.deck_size = f.deck_size;
  o.page_size = f.page_size;
  o.seed = f.seed;
  o.split = f.split == "random" ? SplitMode::kRandom : SplitMode::kTime;
  o.holdout_fraction = f.holdout;
  o.max_users = f.max_users;
  o.policies = f.policies;
  o.deck.seed = f.seed;
  auto reports = EvaluateFeed(rows, items, o);
  if (!reports.ok()) {
    std::fprintf(stderr, "feed-eval: %s\n", reports.status().ToString().c_str());
    return 1;
  }
  for (const auto& r : *reports) std::printf("%s\n", ReportJson(r).c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace

void AddFeedEvalCommand(CLI::App& app) {
  auto flags = std::make_shared<FeedEvalFlags>();
  CLI::App* cmd = app.add_subcommand(
      "feed-eval",
      "Replay user,item,rating[,timestamp] rows under the deck protocol; one JSON line per policy");
  cmd->add_option("--interactions", flags->interactions, "CSV of user,item,rating[,timestamp]")
      ->check(CLI::ExistingFile);
  cmd->add_option("--items", flags->items,
                  "optional CSV of id,language,real_person,tags,text (content features)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--like-threshold", flags->like_threshold,
                  "rating at or above which a card counts as liked")
      ->capture_default_str();
  cmd->add_option("--deck-size", flags->deck_size, "cards shown to each evaluated user")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--page-size", flags->page_size, "cards per deck request")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", flags->seed, "seed for the split, sampling and policies")
      ->capture_default_str();
  cmd->add_option("--split", flags->split, "time (when every row has a timestamp) or random")
      ->capture_default_str()
      ->check(CLI::IsMember({"time", "random"}));
  cmd->add_option("--holdout", flags->holdout, "share of each user's rows hidden")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 0.99));
  cmd->add_option("--max-users", flags->max_users,
                  "evaluate a seeded sample of at most N users (0 = all)")
      ->capture_default_str();
  cmd->add_option("--policies", flags->policies, "policies to compare")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::IsMember({"tokki", "popularity", "random"}));
  cmd->add_option("--simulate-users", flags->sim_users,
                  "instead of --interactions, simulate a population with this many users");
  cmd->add_option("--simulate-cards", flags->sim_cards, "cards in the simulated population");
  cmd->add_option("--write-interactions", flags->write_interactions,
                  "with --simulate-*: also write the simulated ratings CSV here");
  cmd->add_option("--write-items", flags->write_items,
                  "with --simulate-*: also write the simulated cards CSV here");
  cmd->callback([flags] {
    const int rc = RunFeedEval(*flags);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace tokki::app
