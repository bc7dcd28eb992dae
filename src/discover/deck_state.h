// tokki/discover/deck_state.h — the deck's internal state, shared by deck.cc (the public
// methods: cards, swipes, ranking) and deck_training.cc (content vectors, the ALS model
// and the background thread). Not a public header.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <deque>
#include <random>
#include <thread>
#include <unordered_map>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "core/hash.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mutex.h"
#include "core/text.h"
#include "core/thread_annotations.h"
#include "discover/als.h"
#include "discover/tokenize.h"
#include "discover/deck.h"

namespace tokki::discover {

// ---- internal to the deck

using SparseVec = std::vector<std::pair<uint32_t, float>>;  // sorted by term id

inline constexpr uint8_t kAlive = 1;
inline constexpr uint8_t kListed = 2;
inline constexpr uint8_t kRealPerson = 4;
inline constexpr uint8_t kMature = 8;
inline constexpr size_t kRecentCards = 2048;
inline constexpr size_t kShards = 64;

inline float Dot(const SparseVec& a, const SparseVec& b) {
  float sum = 0;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].first < b[j].first) {
      ++i;
    } else if (a[i].first > b[j].first) {
      ++j;
    } else {
      sum += a[i].second * b[j].second;
      ++i, ++j;
    }
  }
  return sum;
}

inline uint64_t Mix(uint64_t x) { return Mix64(x + kGoldenGamma); }

struct CardSlot {
  Id id = kNoId;
  std::vector<uint32_t> tags;  // sorted tag ids
  SparseVec raw;               // field boost * (1 + log tf), before idf
};

struct Posting {
  uint32_t card;
  float weight;
};

// One user's (non-undone) interactions, keyed by card row.
struct Interaction {
  bool swiped = false;
  Feedback feedback = Feedback::kPass;
  int64_t at_ms = 0;
  int n_messages = 0;
  int rating = 0;
};

struct UserState {
  std::unordered_map<uint32_t, Interaction> by_card;
  size_t n_swipes = 0;
  uint64_t n_changes = 0;
};

struct UserShard {
  mutable SharedMutex mu;
  std::unordered_map<Id, UserState> users TOKKI_GUARDED_BY(mu);
};

struct Model {
  std::shared_ptr<const MfModel> mf;
  uint64_t version = 0;
  int64_t trained_at_ms = 0;
  int64_t t_train_ms = 0;
};

struct Candidate {
  uint32_t card;
  float fixed;        // everything but the exploration term
  float base;         // fixed + exploration at the posterior mean
  float final_score;  // fixed + exploration at a Thompson sample
};

struct Signals {
  float content, mf, pop, rate;
};

// log1p(n) from a table for small counts.
inline float Log1p(int32_t n) {
  static const std::vector<float> table = [] {
    std::vector<float> t(4096);
    for (size_t i = 0; i < t.size(); ++i) t[i] = std::log1p(static_cast<float>(i));
    return t;
  }();
  return n < 4096 ? table[static_cast<size_t>(n)] : std::log1p(static_cast<float>(n));
}

// Per-thread scratch buffers for Next().
struct Scratch {
  std::vector<float> profile;  // by term
  std::vector<uint32_t> touched_terms;
  std::vector<float> content;   // by card
  std::vector<uint32_t> stamp;  // by card, for de-duplicating the universe
  uint32_t stamp_value = 0;
  Eigen::VectorXf mf;
  std::vector<Signals> signals;  // by universe position
};


struct Deck::State {
  explicit State(DeckOptions o) : options(std::move(o)) {}

  const DeckOptions options;

  // ---- catalog ----
  mutable SharedMutex catalog_mu;
  std::unordered_map<Id, uint32_t> card_rows TOKKI_GUARDED_BY(catalog_mu);
  std::vector<CardSlot> slots TOKKI_GUARDED_BY(catalog_mu);
  // By row: L2-normalised tf-idf (swapped whole on rebuild).
  std::vector<SparseVec> vecs TOKKI_GUARDED_BY(catalog_mu);
  // By row: 1 when the postings cover the row.
  std::vector<uint8_t> indexed TOKKI_GUARDED_BY(catalog_mu);
  // A content rebuild copied the catalog and runs.
  bool rebuilding TOKKI_GUARDED_BY(catalog_mu) = false;
  // Rows upserted while rebuilding.
  std::vector<uint32_t> changed_rows TOKKI_GUARDED_BY(catalog_mu);
  std::vector<uint8_t> flags TOKKI_GUARDED_BY(catalog_mu);
  std::vector<int32_t> lang TOKKI_GUARDED_BY(catalog_mu);
  std::vector<Id> owner TOKKI_GUARDED_BY(catalog_mu);
  // Elements never move; updated atomically under a shared catalog lock.
  std::deque<std::atomic<int32_t>> likes TOKKI_GUARDED_BY(catalog_mu);
  std::deque<std::atomic<int32_t>> passes TOKKI_GUARDED_BY(catalog_mu);
  std::unordered_map<std::string, uint32_t> terms TOKKI_GUARDED_BY(catalog_mu);
  // By term id: live cards carrying the term.
  std::vector<uint32_t> df TOKKI_GUARDED_BY(catalog_mu);
  std::vector<std::vector<Posting>> postings TOKKI_GUARDED_BY(catalog_mu);  // by term id
  // Cards whose vec changed after their postings.
  std::unordered_set<uint32_t> dirty TOKKI_GUARDED_BY(catalog_mu);
  std::unordered_map<std::string, int32_t> languages TOKKI_GUARDED_BY(catalog_mu);
  std::vector<std::vector<uint32_t>> lang_cards TOKKI_GUARDED_BY(catalog_mu);  // by language id
  std::unordered_map<std::string, uint32_t> tag_ids TOKKI_GUARDED_BY(catalog_mu);
  // By tag id (may hold stale rows).
  std::vector<std::vector<uint32_t>> tag_cards TOKKI_GUARDED_BY(catalog_mu);
  std::vector<uint32_t> recent TOKKI_GUARDED_BY(catalog_mu);  // ring of recently upserted rows
  size_t recent_next TOKKI_GUARDED_BY(catalog_mu) = 0;
  size_t n_alive TOKKI_GUARDED_BY(catalog_mu) = 0;

  // ---- users ----
  std::array<UserShard, kShards> shards;
  std::atomic<int64_t> n_interactions{0};
  std::atomic<int64_t> n_users{0};
  std::atomic<int64_t> total_likes{0};
  std::atomic<int64_t> total_passes{0};
  std::atomic<uint64_t> n_changes{0};

  // ---- model ----
  mutable Mutex model_mu;
  std::shared_ptr<const Model> model TOKKI_GUARDED_BY(model_mu);
  Mutex train_mu;  // one training at a time
  uint64_t trained_changes TOKKI_GUARDED_BY(train_mu) = ~0ull;

  // ---- background thread ----
  Mutex bg_mu;
  CondVar bg_cv;  // signalled on Stop
  bool bg_stop TOKKI_GUARDED_BY(bg_mu) = false;
  std::thread bg_thread TOKKI_GUARDED_BY(bg_mu);

  UserShard& ShardOf(Id user) { return shards[Mix(static_cast<uint64_t>(user)) % kShards]; }
  // Adds (delta +1) or removes (-1) one swipe of `feedback` on `row` in the counters.
  void CountSwipe(uint32_t row, Feedback feedback, int delta) TOKKI_REQUIRES_SHARED(catalog_mu) {
    const bool pass = feedback == Feedback::kPass;
    (pass ? passes[row] : likes[row]).fetch_add(delta);
    (pass ? total_passes : total_likes).fetch_add(delta);
  }
  const UserShard& ShardOf(Id user) const {
    return shards[Mix(static_cast<uint64_t>(user)) % kShards];
  }

  std::shared_ptr<const Model> LoadModel() const TOKKI_EXCLUDES(model_mu) {
    MutexLock lock(&model_mu);
    return model;
  }

  uint32_t RowLocked(Id id) TOKKI_REQUIRES(catalog_mu) {
    auto it = card_rows.find(id);
    if (it != card_rows.end()) return it->second;
    const auto row = static_cast<uint32_t>(slots.size());
    card_rows.emplace(id, row);
    slots.emplace_back();
    slots.back().id = id;
    vecs.emplace_back();
    indexed.push_back(0);
    flags.push_back(0);
    lang.push_back(-1);
    owner.push_back(kNoId);
    likes.emplace_back(0);
    passes.emplace_back(0);
    return row;
  }

  // The card's row, creating a placeholder (not alive) for an unknown id.
  uint32_t Row(Id id) TOKKI_EXCLUDES(catalog_mu) {
    {
      ReaderMutexLock lock(&catalog_mu);
      auto it = card_rows.find(id);
      if (it != card_rows.end()) return it->second;
    }
    WriterMutexLock lock(&catalog_mu);
    return RowLocked(id);
  }

  // Inverse document frequency from the live counts.
  float IdfOf(uint32_t term) const TOKKI_REQUIRES_SHARED(catalog_mu) {
    return std::log((static_cast<float>(n_alive) + 1.0f) / (static_cast<float>(df[term]) + 1.0f)) +
           1.0f;
  }

  SparseVec Weigh(const SparseVec& raw) const TOKKI_REQUIRES_SHARED(catalog_mu) {
    SparseVec v = raw;
    double norm = 0;
    for (auto& [t, w] : v) {
      w *= IdfOf(t);
      norm += static_cast<double>(w) * w;
    }
    if (norm > 0) {
      const auto inv = static_cast<float>(1.0 / std::sqrt(norm));
      for (auto& [t, w] : v) w *= inv;
    }
    return v;
  }

  float Engagement(const Interaction& in) const {
    float e = 0;
    if (in.n_messages > 0)
      e += std::min(1.0f, std::log1p(static_cast<float>(in.n_messages)) / std::log1p(50.0f));
    if (in.rating > 0) e += 0.25f * static_cast<float>(in.rating - 3);
    return std::max(-0.5f, e);
  }

  float ProfileWeight(const Interaction& in) const {
    const float e = Engagement(in);
    if (!in.swiped) return e;
    switch (in.feedback) {
      case Feedback::kPass:
        return -options.pass_profile_weight + std::min(0.0f, e);
      case Feedback::kLike:
        return 1.0f + e;
      case Feedback::kSuperlike:
        return 2.0f + e;
    }
    return 0;
  }

  // Preference and confidence of an interaction for ALS; confidence 0 = skip.
  std::pair<float, float> PrefConf(const Interaction& in) const {
    const float e = Engagement(in);
    if (in.swiped && in.feedback == Feedback::kPass) return {0.0f, 1.0f + options.pass_confidence};
    float strength = e;
    if (in.swiped) strength += in.feedback == Feedback::kSuperlike ? 2.0f : 1.0f;
    if (strength <= 0) return {0.0f, 0.0f};
    return {1.0f, 1.0f + options.like_confidence * strength};
  }

  void RebuildContent() TOKKI_EXCLUDES(catalog_mu);
  void TrainModel() TOKKI_EXCLUDES(catalog_mu, model_mu);
  void BackgroundLoop(std::chrono::milliseconds period) TOKKI_EXCLUDES(bg_mu, train_mu);
};

}  // namespace tokki::discover
