// tokki/discover/deck.h — the swipe deck: which characters a user meets next. Start here.
//
// A Deck holds an in-memory picture of the listed catalog (CardFeatures) and of every
// user's swipes and chat engagement, fed by the caller (the API layer, and at start-up
// the store's history). Next() ranks cards by a blend of
//   - content: cosine between the card's TF-IDF vector (text, tags, language; CJK as
//     character bigrams) and the user's profile (liked minus passed card vectors);
//   - collaborative: implicit-feedback ALS over all users' likes/superlikes/passes and
//     engagement; the user's own factor is folded in per request from their current
//     swipes, so a swipe counts at once, before the next retrain;
//   - exploration: Thompson sampling from each card's Beta like-rate posterior, plus a
//     popularity prior, both fading as the user's history grows;
// then re-ranks the page with MMR over content vectors so a page holds no near-copies.
// Persistence is not the Deck's job: it never touches the store.
//
// Thread safety: every method is thread-safe. Next() takes shared locks only; training
// builds a new model aside and swaps it in through a shared_ptr, so requests never wait
// for a training run (only for the brief swap of the rebuilt content index).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/types.h"
#include "store/records.h"

namespace tokki::discover {

// What the deck knows about a character card.
struct CardFeatures {
  Id id = kNoId;
  Id owner_id = kNoId;   // never shown to its owner
  std::string language;  // BCP-47 primary tag ("en", "ko", "zh"); "" when unknown
  std::vector<std::string> tags;
  std::string text;  // name + tagline + description
  bool real_person = false;
  bool listed = true;  // public, not hidden, not removed; other cards are never shown
  bool mature = false; // shown only to users who asked for mature cards
  int64_t created_at_ms = 0;
};

enum class Feedback { kPass, kLike, kSuperlike };

// The deck's view of a stored character: text = name + tagline + description (+ nickname),
// listed = public visibility.
CardFeatures CardFromCharacter(const store::Character& character);
Feedback FeedbackFromSwipe(store::SwipeAction action);

struct DeckFilter {
  std::vector<std::string> languages;  // empty = any
  std::vector<std::string> tags;       // card must carry at least one; empty = any
  bool include_real_people = true;
  bool include_mature = false;
};

struct DeckOptions {
  uint64_t seed = 1;
  // Collaborative model.
  int n_factors = 16;
  int als_iterations = 6;
  float als_regularization = 50.0f;
  float als_regularization_per_entry = 0.0f;  // weighted-lambda (ALS-WR) term
  float like_confidence = 8.0f;               // c = 1 + like_confidence * strength for likes
  float pass_confidence = 1.0f;               // c = 1 + pass_confidence for passes (p = 0)
  // Content vectors: term weights of tags and of the language relative to text words.
  float tag_boost = 2.0f;
  float language_boost = 2.0f;
  // Content profile.
  float pass_profile_weight = 0.5f;  // a pass subtracts this times the card's vector
  size_t max_profile_terms = 64;     // profile terms used to walk the inverted index
  size_t max_history = 500;          // most recent interactions used per request
  // Blend: weights of the per-request signals, each centred on its mean over the eligible
  // cards and scaled so that the best card scores 1 (exploration: Beta-prior standard units).
  float weight_content = 0.5f;
  float weight_collab = 1.5f;
  float weight_popularity = 1.0f;  // cold-start prior; fades with history
  float weight_explore = 0.5f;     // Thompson sample; fades with history
  float fade_swipes = 10.0f;       // popularity/explore weights scale by 1 / (1 + n / fade)
  float prior_strength = 10.0f;    // Beta prior pseudo-swipes at the global like rate
  // Candidates and diversity.
  size_t n_candidates = 200;         // best base scores kept for re-ranking
  size_t n_explore_candidates = 32;  // random eligible cards added (new ones first)
  float mmr_lambda = 0.75f;          // 1 = pure relevance, 0 = pure diversity
};

struct DeckStats {
  size_t n_cards = 0;           // live cards (listed or not)
  size_t n_users = 0;           // users with any recorded interaction
  size_t n_interactions = 0;    // current (not undone) swipes
  int64_t last_train_ms = 0;    // wall time the current model was trained; 0 = never
  int64_t t_last_train_ms = 0;  // how long that training took
  uint64_t model_version = 0;   // bumps on every training
};

class Deck {
 public:
  explicit Deck(DeckOptions options = {});
  ~Deck();  // stops background training
  Deck(const Deck&) = delete;
  Deck& operator=(const Deck&) = delete;

  // Adds or replaces a card. A card that stops being listed is no longer shown.
  void UpsertCard(const CardFeatures& card);
  void RemoveCard(Id card);

  // Records (or replaces) the user's swipe on a card. Also used to load history at
  // start-up. Takes effect for this user's very next Next() call.
  void RecordSwipe(Id user, Id card, Feedback feedback, int64_t at_ms);
  // Forgets the user's swipe on the card (the card may be shown again).
  void UndoSwipe(Id user, Id card);
  // Chat engagement with a card: messages sent so far and the latest rating (0 = none).
  void RecordEngagement(Id user, Id card, int n_messages, int rating, int64_t at_ms);

  // Up to `limit` cards for this user, best first. Never a card the user swiped or owns,
  // an unlisted or removed one, or one in `also_exclude`; honours `filter`.
  std::vector<Id> Next(Id user, size_t limit, const DeckFilter& filter,
                       const std::unordered_set<Id>& also_exclude = {}) const;

  // Retrains synchronously (content index and collaborative model).
  void TrainNow();
  // Retrains every `period` on a background thread when anything changed. Idempotent.
  void StartBackgroundTraining(std::chrono::milliseconds period);
  // Stops the background thread (waits for a running training to finish).
  void Stop();

  DeckStats Stats() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace tokki::discover
