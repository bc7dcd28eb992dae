// tokki/discover/simulate.h — a simulated population of users and characters, for tests,
// benchmarks and `tokki feed-eval` smoke runs.
//
// Each user and card has a latent taste vector; a user's utility for a card is their dot
// product plus the card's quality, minus a penalty when the card is not in the user's
// language, plus noise. Cards carry a language, tags and text whose words are drawn
// according to the card's latent vector (so content features are informative, but not
// perfectly), and a Zipf-skewed popularity that drives which cards users get to rate
// (as on a real platform, ratings are missing not at random). Each user rates between
// min_ratings and max_ratings cards, 1..5 stars, with increasing timestamps.
//
// Thread safety: a Simulation is immutable after construction. Start with Simulation.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "discover/deck.h"

namespace tokki::discover {

struct SimOptions {
  uint64_t seed = 7;
  size_t n_users = 2000;
  size_t n_cards = 3000;
  int n_latent = 8;
  size_t n_tags = 32;
  size_t words_per_language = 400;
  std::vector<std::pair<std::string, double>> languages = {{"en", 0.6}, {"ko", 0.25}, {"zh", 0.15}};
  double popularity_skew = 0.8;  // Zipf exponent of how often a card gets seen
  double taste_exposure = 2.0;   // how much users pick what they rate by taste
  size_t browse_factor = 8;      // cards seen (by popularity) per card rated (by taste)
  double quality_weight = 0.2;   // how much a card's popularity reflects quality
  double other_language_penalty = 1.5;
  double noise_sd = 0.5;
  size_t min_ratings = 20;
  size_t max_ratings = 100;
  double real_person_fraction = 0.15;
  int64_t start_ms = 1'700'000'000'000;
};

struct SimRating {
  Id user = kNoId;
  Id card = kNoId;
  int rating = 0;  // 1..5
  int64_t timestamp_ms = 0;
};

class Simulation {
 public:
  explicit Simulation(SimOptions options);

  const SimOptions& options() const { return options_; }
  // Card ids are 1..n_cards, user ids 1..n_users.
  const std::vector<CardFeatures>& cards() const { return cards_; }
  // Every observed rating, grouped by user, in time order within a user.
  const std::vector<SimRating>& ratings() const { return ratings_; }
  const std::string& user_language(Id user) const;

  // Noise-free utility of `card` for `user` (higher = better; 0 is about "3 stars").
  double Utility(Id user, Id card) const;
  // Stars 1..5 for a utility value.
  static int Stars(double utility);

  // `user,item,rating,timestamp` with a header line.
  Status WriteInteractionsCsv(const std::string& path) const;
  // `id,language,real_person,tags,text` with a header line; tags joined by '|', text quoted.
  Status WriteItemsCsv(const std::string& path) const;

 private:
  SimOptions options_;
  std::vector<float> user_taste_;  // n_users x n_latent
  std::vector<float> card_taste_;  // n_cards x n_latent
  std::vector<float> card_quality_;
  std::vector<std::string> user_lang_;
  std::vector<CardFeatures> cards_;
  std::vector<SimRating> ratings_;
};

}  // namespace tokki::discover
