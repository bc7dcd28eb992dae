// bench_discover — figures for the Discover deck (see docs/discover.md).
//
//   bench_discover [--cards 100000] [--users 10000] [--eval-users 1000]
//                  [--quality-cards 100000] [--quality-users 10000] [--requests 2000] [--seed 7]
//
// 1. Quality: simulated population -> feed-eval protocol -> likes in the first 20 cards
//    for tokki / popularity / random and the ratios.
// 2. Scale: a deck with --cards characters and --users users' histories: training time,
//    next-cards latency p50/p99 (10 cards per request; unfiltered and filtered), RSS.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "discover/deck.h"
#include "discover/eval.h"
#include "discover/simulate.h"

using namespace tokki;
using namespace tokki::discover;

namespace {

long RssKb(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) return std::strtol(line.c_str() + std::strlen(key), nullptr, 10);
  return -1;
}

// CPU time of the calling thread, in microseconds (robust to other processes' load).
double ThreadCpuUs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

std::vector<RatingRow> ToRows(const Simulation& sim) {
  std::vector<RatingRow> rows;
  rows.reserve(sim.ratings().size());
  for (const auto& r : sim.ratings())
    rows.push_back({r.user, r.card, double(r.rating), r.timestamp_ms, true});
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  size_t n_cards = 100000, n_users = 10000, eval_users = 1000, n_requests = 2000;
  size_t q_cards = 0, q_users = 0;
  uint64_t seed = 7;
  bool skip_quality = false, skip_scale = false;
  DeckOptions deck_options;
  SimOptions sim_base;
  for (int i = 1; i < argc; ++i) {
    auto next = [&] { return i + 1 < argc ? std::strtoull(argv[++i], nullptr, 10) : 0ull; };
    if (!std::strcmp(argv[i], "--cards"))
      n_cards = next();
    else if (!std::strcmp(argv[i], "--users"))
      n_users = next();
    else if (!std::strcmp(argv[i], "--eval-users"))
      eval_users = next();
    else if (!std::strcmp(argv[i], "--quality-cards"))
      q_cards = next();
    else if (!std::strcmp(argv[i], "--quality-users"))
      q_users = next();
    else if (!std::strcmp(argv[i], "--requests"))
      n_requests = next();
    else if (!std::strcmp(argv[i], "--seed"))
      seed = next();
    else if (!std::strcmp(argv[i], "--w-content"))
      deck_options.weight_content = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--w-collab"))
      deck_options.weight_collab = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--w-pop"))
      deck_options.weight_popularity = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--w-explore"))
      deck_options.weight_explore = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--fade"))
      deck_options.fade_swipes = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--tag-boost"))
      deck_options.tag_boost = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--lang-boost"))
      deck_options.language_boost = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--mmr"))
      deck_options.mmr_lambda = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--factors"))
      deck_options.n_factors = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--iters"))
      deck_options.als_iterations = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--reg-entry"))
      deck_options.als_regularization_per_entry = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--reg"))
      deck_options.als_regularization = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--like-conf"))
      deck_options.like_confidence = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--pass-conf"))
      deck_options.pass_confidence = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--pop-skew"))
      sim_base.popularity_skew = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--browse"))
      sim_base.browse_factor = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--quality-weight"))
      sim_base.quality_weight = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--taste"))
      sim_base.taste_exposure = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--skip-quality"))
      skip_quality = true;
    else if (!std::strcmp(argv[i], "--skip-scale"))
      skip_scale = true;
    else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  if (q_cards == 0) q_cards = n_cards;
  if (q_users == 0) q_users = n_users;

  if (!skip_quality) {
    SimOptions so = sim_base;
    so.seed = seed;
    so.n_cards = q_cards;
    so.n_users = q_users;
    int64_t t0 = NowSteadyUs();
    Simulation sim(so);
    std::printf("quality: simulated %zu users, %zu cards, %zu ratings in %.1f s\n", q_users,
                q_cards, sim.ratings().size(), (NowSteadyUs() - t0) / 1e6);
    EvalOptions eo;
    eo.seed = seed;
    eo.max_users = eval_users;
    eo.deck = deck_options;
    t0 = NowSteadyUs();
    auto reports = EvaluateFeed(ToRows(sim), sim.cards(), eo);
    if (!reports.ok()) {
      std::fprintf(stderr, "eval failed: %s\n", reports.status().ToString().c_str());
      return 1;
    }
    double likes[3] = {0, 0, 0};
    for (size_t i = 0; i < reports->size(); ++i) {
      std::printf("%s\n", ReportJson((*reports)[i]).c_str());
      likes[i] = (*reports)[i].likes_in_first_n;
    }
    std::printf("likes in first 20: tokki %.3f  popularity %.3f  random %.3f\n", likes[0], likes[1],
                likes[2]);
    std::printf("ratio tokki/popularity %.2fx (target >= 2)  tokki/random %.2fx (target >= 5)\n",
                likes[1] > 0 ? likes[0] / likes[1] : 0.0, likes[2] > 0 ? likes[0] / likes[2] : 0.0);
    std::printf("eval wall time %.1f s\n", (NowSteadyUs() - t0) / 1e6);
  }

  if (!skip_scale) {
    SimOptions so = sim_base;
    so.seed = seed + 1;
    so.n_cards = n_cards;
    so.n_users = n_users;
    Simulation sim(so);
    const long rss_before = RssKb("VmRSS:");
    Deck deck(deck_options);
    int64_t t0 = NowSteadyUs();
    for (const auto& c : sim.cards()) deck.UpsertCard(c);
    const double t_upsert_s = (NowSteadyUs() - t0) / 1e6;
    t0 = NowSteadyUs();
    for (const auto& r : sim.ratings())
      deck.RecordSwipe(r.user, r.card, r.rating >= 4 ? Feedback::kLike : Feedback::kPass,
                       r.timestamp_ms);
    const double t_swipes_s = (NowSteadyUs() - t0) / 1e6;
    const long rss_loaded = RssKb("VmRSS:");
    t0 = NowSteadyUs();
    deck.TrainNow();
    const double t_train_s = (NowSteadyUs() - t0) / 1e6;
    t0 = NowSteadyUs();
    deck.TrainNow();
    const double t_train2_s = (NowSteadyUs() - t0) / 1e6;
    const auto st = deck.Stats();
    std::printf("scale: %zu cards, %zu users, %zu swipes; upsert %.2f s, load swipes %.2f s\n",
                st.n_cards, st.n_users, st.n_interactions, t_upsert_s, t_swipes_s);
    std::printf("training (content index + ALS %d factors): first %.2f s, update %.2f s\n",
                DeckOptions{}.n_factors, t_train_s, t_train2_s);

    std::mt19937_64 rng(seed);
    auto measure = [&](const char* label, const DeckFilter& filter, bool swipe_after) {
      std::vector<double> us, cpu_us;
      us.reserve(n_requests);
      for (size_t i = 0; i < n_requests; ++i) {
        const Id user = static_cast<Id>(1 + rng() % n_users);
        const int64_t a = NowSteadyUs();
        const double c = ThreadCpuUs();
        auto page = deck.Next(user, 10, filter);
        cpu_us.push_back(ThreadCpuUs() - c);
        us.push_back(static_cast<double>(NowSteadyUs() - a));
        if (swipe_after && !page.empty())
          deck.RecordSwipe(user, page[0], (rng() % 3 == 0) ? Feedback::kLike : Feedback::kPass,
                           NowUnixMs());
      }
      std::printf(
          "next(10) %-31s wall p50 %.2f ms  p99 %.2f ms  max %.2f ms | cpu p50 %.2f ms  p99 %.2f "
          "ms\n",
          label, Pct(us, 0.5) / 1000, Pct(us, 0.99) / 1000, Pct(us, 1.0) / 1000,
          Pct(cpu_us, 0.5) / 1000, Pct(cpu_us, 0.99) / 1000);
    };
    measure("unfiltered:", DeckFilter{}, true);
    DeckFilter lang;
    lang.languages = {"ko"};
    measure("language=ko:", lang, true);
    DeckFilter tags;
    tags.tags = {"fantasy", "mystery"};
    tags.include_real_people = false;
    measure("tags=fantasy|mystery, no real:", tags, true);
    // While a background retrain runs on the other core.
    deck.StartBackgroundTraining(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    measure("during background training:", DeckFilter{}, true);
    deck.Stop();
    double load[3] = {0, 0, 0};
    if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
      if (std::fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = -1;
      std::fclose(f);
    }
    std::printf("machine load average (1 min) during the run: %.2f on %u cores\n", load[0],
                std::thread::hardware_concurrency());
    std::printf("rss: deck after loading cards and swipes +%.0f MB; after training and requests +%.0f MB "
                "(process %.0f MB, peak %.0f MB)\n",
                (rss_loaded - rss_before) / 1024.0, (RssKb("VmRSS:") - rss_before) / 1024.0,
                RssKb("VmRSS:") / 1024.0, RssKb("VmHWM:") / 1024.0);
  }
  return 0;
}
