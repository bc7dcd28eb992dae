// tokki/discover/eval.h — offline evaluation of deck policies by replaying rating logs.
//
// Protocol (docs/discover.md has the full text): each user's rows are split (by time when
// every row has a timestamp and the split is kTime, else randomly with the seed) into a
// training part, fed to every policy as swipes (rating >= like_threshold = like,
// rating <= 2 = pass, anything between = ignored but never shown), and a hidden part.
// Every user with at least one hidden like then swipes a deck of `deck_size` cards shown
// in pages of `page_size`; a shown card is a like when the user's hidden rating for it is
// >= like_threshold, otherwise a pass, and is recorded as that swipe before the next page.
// Policies: "tokki" (the Deck), "popularity" (most training likes first), "random".
//
// Thread safety: pure functions. Start with EvaluateFeed().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/types.h"
#include "discover/deck.h"

namespace tokki::discover {

struct RatingRow {
  Id user = kNoId;
  Id item = kNoId;
  double rating = 0;
  int64_t timestamp = 0;  // as given (any unit); valid when has_timestamp
  bool has_timestamp = false;
};

// Reads `user,item,rating[,timestamp]` rows; an optional header line is skipped. Also
// accepts the MovieLens `::` and tab separators.
Result<std::vector<RatingRow>> ReadInteractionsCsv(const std::string& path);

// Reads `id,language,real_person,tags,text` (header optional, tags joined by '|', text may
// be double-quoted) as card features for the content signal.
Result<std::vector<CardFeatures>> ReadItemsCsv(const std::string& path);

enum class SplitMode { kTime, kRandom };

struct EvalOptions {
  double like_threshold = 4;
  size_t deck_size = 20;
  size_t page_size = 5;
  uint64_t seed = 1;
  SplitMode split = SplitMode::kTime;
  double holdout_fraction = 0.5;  // share of each user's rows that is hidden
  size_t max_users = 0;           // evaluate at most this many users (seeded sample); 0 = all
  std::vector<std::string> policies = {"tokki", "popularity", "random"};
  DeckOptions deck;
};

struct PolicyReport {
  std::string policy;
  size_t users_evaluated = 0;
  size_t deck_size = 0;
  double likes_in_first_n = 0;      // mean per user
  double max_likes_in_first_n = 0;  // mean of min(deck_size, hidden likes): the ceiling
  double cards_to_first_like = 0;   // mean per user; deck_size + 1 when none was liked
  double ndcg_at_n = 0;             // binary relevance = hidden like
  double coverage = 0;              // distinct cards shown / catalog size
  double next_p50_us = 0;           // latency of one page request
  double next_p99_us = 0;
  bool time_split = false;  // whether the split used timestamps
};

Result<std::vector<PolicyReport>> EvaluateFeed(const std::vector<RatingRow>& rows,
                                               const std::vector<CardFeatures>& items,
                                               const EvalOptions& options);

// One JSON object on one line.
std::string ReportJson(const PolicyReport& report);

}  // namespace tokki::discover
