// The deck: cards, swipes and ranking. Training lives in deck_training.cc; the state both
// share is Deck::State (deck_state.h). See deck.h.
#include "discover/deck.h"

#include "discover/deck_state.h"

namespace tokki::discover {

CardFeatures CardFromCharacter(const store::Character& character) {
  CardFeatures c;
  c.id = character.id;
  c.owner_id = character.owner_id;
  c.language = character.language;
  c.tags = character.tags;
  c.text = character.name;
  for (const std::string* part : {&character.nickname, &character.tagline, &character.description})
    if (!part->empty()) c.text += "\n" + *part;
  c.real_person = character.real_person;
  c.listed = character.visibility == store::Visibility::kPublic && !character.hidden &&
             character.removed_at_ms == 0;
  c.mature = character.mature;
  c.created_at_ms = character.created_at_ms;
  return c;
}

Feedback FeedbackFromSwipe(store::SwipeAction action) {
  switch (action) {
    case store::SwipeAction::kPass:
      return Feedback::kPass;
    case store::SwipeAction::kLike:
      return Feedback::kLike;
    case store::SwipeAction::kSuperlike:
      return Feedback::kSuperlike;
  }
  return Feedback::kPass;
}

Deck::Deck(DeckOptions options) : s_(std::make_unique<State>(std::move(options))) {}

Deck::~Deck() { Stop(); }

void Deck::UpsertCard(const CardFeatures& card) {
  // Tokenise outside the lock.
  std::vector<std::string> words;
  TokenizeText(card.text, words);
  std::vector<std::string> tags;
  for (const auto& t : card.tags) {
    std::string n = NormalizeTag(t);
    if (!n.empty()) tags.push_back(std::move(n));
  }
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  const std::string language = AsciiLower(Trim(card.language));

  auto& s = *s_;
  WriterMutexLock lock(&s.catalog_mu);
  const uint32_t row = s.RowLocked(card.id);
  auto term_id = [&](const std::string& term) TOKKI_REQUIRES(s.catalog_mu) {
    auto [it, inserted] = s.terms.emplace(term, static_cast<uint32_t>(s.terms.size()));
    if (inserted) s.postings.emplace_back(), s.df.push_back(0);
    return it->second;
  };
  std::unordered_map<uint32_t, float> tf;
  for (const auto& w : words) tf[term_id(w)] += 1.0f;
  SparseVec raw;
  raw.reserve(tf.size() + tags.size() + 1);
  for (auto [t, n] : tf) raw.emplace_back(t, 1.0f + std::log(n));
  for (const auto& t : tags) raw.emplace_back(term_id("t:" + t), s.options.tag_boost);
  if (!language.empty()) raw.emplace_back(term_id("l:" + language), s.options.language_boost);
  std::sort(raw.begin(), raw.end());

  CardSlot& slot = s.slots[row];
  const bool was_alive = s.flags[row] & kAlive;
  if (was_alive)
    for (auto [t, w] : slot.raw) --s.df[t];
  for (auto [t, w] : raw) ++s.df[t];
  if (!was_alive) ++s.n_alive;
  slot.raw = std::move(raw);
  s.vecs[row] = s.Weigh(slot.raw);
  if (s.indexed[row]) {
    s.dirty.insert(row);
  } else {
    for (auto [t, w] : s.vecs[row]) s.postings[t].push_back({row, w});
    s.indexed[row] = 1;
  }
  if (s.rebuilding) s.changed_rows.push_back(row);
  std::vector<uint32_t> tag_rows;
  for (const auto& t : tags) {
    auto [it, inserted] = s.tag_ids.emplace(t, static_cast<uint32_t>(s.tag_ids.size()));
    if (inserted) s.tag_cards.emplace_back();
    tag_rows.push_back(it->second);
    auto& list = s.tag_cards[it->second];
    if (!std::binary_search(slot.tags.begin(), slot.tags.end(), it->second)) list.push_back(row);
  }
  std::sort(tag_rows.begin(), tag_rows.end());
  slot.tags = std::move(tag_rows);

  int32_t lang_id = -1;
  if (!language.empty()) {
    auto [it, inserted] = s.languages.emplace(language, static_cast<int32_t>(s.languages.size()));
    if (inserted) s.lang_cards.emplace_back();
    lang_id = it->second;
  }
  if (lang_id != s.lang[row]) {
    if (s.lang[row] >= 0) {
      auto& old = s.lang_cards[s.lang[row]];
      old.erase(std::remove(old.begin(), old.end(), row), old.end());
    }
    if (lang_id >= 0) s.lang_cards[lang_id].push_back(row);
    s.lang[row] = lang_id;
  }
  s.owner[row] = card.owner_id;
  s.flags[row] = static_cast<uint8_t>(kAlive | (card.listed ? kListed : 0) |
                                      (card.real_person ? kRealPerson : 0) |
                                      (card.mature ? kMature : 0));
  if (!was_alive) {
    if (s.recent.size() < kRecentCards) {
      s.recent.push_back(row);
    } else {
      s.recent[s.recent_next] = row;
      s.recent_next = (s.recent_next + 1) % kRecentCards;
    }
  }
  s.n_changes.fetch_add(1, std::memory_order_relaxed);
}

void Deck::RemoveCard(Id card) {
  auto& s = *s_;
  WriterMutexLock lock(&s.catalog_mu);
  auto it = s.card_rows.find(card);
  if (it == s.card_rows.end()) return;
  if (s.flags[it->second] & kAlive) {
    --s.n_alive;
    for (auto [t, w] : s.slots[it->second].raw) --s.df[t];
  }
  s.flags[it->second] = 0;
  s.n_changes.fetch_add(1, std::memory_order_relaxed);
}

void Deck::RecordSwipe(Id user, Id card, Feedback feedback, int64_t at_ms) {
  auto& s = *s_;
  const uint32_t row = s.Row(card);
  ReaderMutexLock catalog(&s.catalog_mu);
  auto& shard = s.ShardOf(user);
  WriterMutexLock lock(&shard.mu);
  auto [uit, new_user] = shard.users.try_emplace(user);
  if (new_user) s.n_users.fetch_add(1, std::memory_order_relaxed);
  UserState& u = uit->second;
  Interaction& in = u.by_card[row];
  if (in.swiped) {  // replace the previous swipe
    s.CountSwipe(row, in.feedback, -1);
  } else {
    ++u.n_swipes;
    s.n_interactions.fetch_add(1, std::memory_order_relaxed);
  }
  in.swiped = true;
  in.feedback = feedback;
  in.at_ms = at_ms;
  s.CountSwipe(row, feedback, +1);
  ++u.n_changes;
  s.n_changes.fetch_add(1, std::memory_order_relaxed);
}

void Deck::UndoSwipe(Id user, Id card) {
  auto& s = *s_;
  ReaderMutexLock catalog(&s.catalog_mu);
  auto cit = s.card_rows.find(card);
  if (cit == s.card_rows.end()) return;
  const uint32_t row = cit->second;
  auto& shard = s.ShardOf(user);
  WriterMutexLock lock(&shard.mu);
  auto uit = shard.users.find(user);
  if (uit == shard.users.end()) return;
  UserState& u = uit->second;
  auto it = u.by_card.find(row);
  if (it == u.by_card.end() || !it->second.swiped) return;
  Interaction& in = it->second;
  s.CountSwipe(row, in.feedback, -1);
  in.swiped = false;
  if (in.n_messages == 0 && in.rating == 0) u.by_card.erase(it);
  --u.n_swipes;
  ++u.n_changes;
  s.n_interactions.fetch_sub(1, std::memory_order_relaxed);
  s.n_changes.fetch_add(1, std::memory_order_relaxed);
}

void Deck::RecordEngagement(Id user, Id card, int n_messages, int rating, int64_t at_ms) {
  auto& s = *s_;
  const uint32_t row = s.Row(card);
  ReaderMutexLock catalog(&s.catalog_mu);
  auto& shard = s.ShardOf(user);
  WriterMutexLock lock(&shard.mu);
  auto [uit, new_user] = shard.users.try_emplace(user);
  if (new_user) s.n_users.fetch_add(1, std::memory_order_relaxed);
  UserState& u = uit->second;
  Interaction& in = u.by_card[row];
  in.n_messages = std::max(0, n_messages);
  in.rating = std::clamp(rating, 0, 5);
  if (!in.swiped) in.at_ms = at_ms;
  ++u.n_changes;
  s.n_changes.fetch_add(1, std::memory_order_relaxed);
}

std::vector<Id> Deck::Next(Id user, size_t limit, const DeckFilter& filter,
                           const std::unordered_set<Id>& also_exclude) const {
  std::vector<Id> out;
  if (limit == 0) return out;
  const auto& s = *s_;
  const auto& opt = s.options;
  const std::shared_ptr<const Model> model = s.LoadModel();
  thread_local Scratch scratch;

  ReaderMutexLock catalog(&s.catalog_mu);
  const auto& shard = s.ShardOf(user);
  ReaderMutexLock user_lock(&shard.mu);
  const UserState* u = nullptr;
  if (auto it = shard.users.find(user); it != shard.users.end()) u = &it->second;
  const size_t n_cards = s.slots.size();
  if (n_cards == 0) return out;

  auto swiped = [&](uint32_t row) {
    if (u == nullptr) return false;
    auto it = u->by_card.find(row);
    return it != u->by_card.end() && it->second.swiped;
  };

  // ---- filter -> language ids, tag ids, the universe of rows to consider ----
  std::vector<int32_t> lang_ids;
  for (const auto& l : filter.languages) {
    auto it = s.languages.find(AsciiLower(Trim(l)));
    if (it != s.languages.end()) lang_ids.push_back(it->second);
  }
  if (!filter.languages.empty() && lang_ids.empty()) return out;
  std::vector<uint32_t> tag_ids;
  for (const auto& t : filter.tags) {
    auto it = s.tag_ids.find(NormalizeTag(t));
    if (it != s.tag_ids.end()) tag_ids.push_back(it->second);
  }
  if (!filter.tags.empty() && tag_ids.empty()) return out;
  std::sort(tag_ids.begin(), tag_ids.end());

  if (scratch.stamp.size() < n_cards) scratch.stamp.resize(n_cards, 0);
  if (++scratch.stamp_value == 0) {
    std::fill(scratch.stamp.begin(), scratch.stamp.end(), 0);
    scratch.stamp_value = 1;
  }
  const uint32_t stamp = scratch.stamp_value;

  auto eligible = [&](uint32_t row) TOKKI_REQUIRES_SHARED(s.catalog_mu) {
    const uint8_t f = s.flags[row];
    if ((f & (kAlive | kListed)) != (kAlive | kListed)) return false;
    if (!filter.include_real_people && (f & kRealPerson)) return false;
    if (!filter.include_mature && (f & kMature)) return false;
    if (s.owner[row] == user && user != kNoId) return false;
    if (!lang_ids.empty() &&
        std::find(lang_ids.begin(), lang_ids.end(), s.lang[row]) == lang_ids.end())
      return false;
    return true;
  };
  auto has_tag = [&](uint32_t row) TOKKI_REQUIRES_SHARED(s.catalog_mu) {
    const auto& tags = s.slots[row].tags;
    for (uint32_t t : tag_ids)
      if (std::binary_search(tags.begin(), tags.end(), t)) return true;
    return false;
  };

  // Eligible rows (swipes are checked later, only for rows that make the candidate list).
  std::vector<uint32_t> universe;
  if (!tag_ids.empty()) {
    for (uint32_t t : tag_ids)
      for (uint32_t row : s.tag_cards[t])
        if (scratch.stamp[row] != stamp && eligible(row) && has_tag(row)) {
          scratch.stamp[row] = stamp;
          universe.push_back(row);
        }
  } else if (!lang_ids.empty()) {
    for (int32_t l : lang_ids)
      for (uint32_t row : s.lang_cards[l])
        if (eligible(row)) universe.push_back(row);
  } else {
    universe.reserve(s.n_alive);
    for (uint32_t row = 0; row < n_cards; ++row)
      if (eligible(row)) universe.push_back(row);
  }
  if (universe.empty()) return out;

  // ---- user history -> content profile and fold-in entries ----
  std::vector<std::pair<uint32_t, const Interaction*>> history;
  if (u != nullptr) {
    history.reserve(u->by_card.size());
    for (const auto& [row, in] : u->by_card) history.emplace_back(row, &in);
    if (history.size() > opt.max_history) {
      std::nth_element(
          history.begin(), history.begin() + opt.max_history, history.end(),
          [](const auto& a, const auto& b) { return a.second->at_ms > b.second->at_ms; });
      history.resize(opt.max_history);
    }
  }
  const size_t n_history = u ? u->n_swipes : 0;

  auto& profile = scratch.profile;
  if (profile.size() < s.terms.size()) profile.resize(s.terms.size(), 0.0f);
  auto& touched = scratch.touched_terms;
  touched.clear();
  std::vector<FoldInEntry> fold_in;
  fold_in.reserve(history.size());
  for (const auto& [row, in] : history) {
    const float w = s.ProfileWeight(*in);
    if (w != 0) {
      for (auto [t, v] : s.vecs[row]) {
        if (profile[t] == 0) touched.push_back(t);
        profile[t] += w * v;
        if (profile[t] == 0) profile[t] = 1e-30f;  // keep "touched" marking exact
      }
    }
    auto [p, c] = s.PrefConf(*in);
    if (c > 0) fold_in.push_back({row, p, c});
  }
  double profile_norm2 = 0;
  for (uint32_t t : touched) profile_norm2 += static_cast<double>(profile[t]) * profile[t];
  const float inv_norm = profile_norm2 > 0 ? static_cast<float>(1.0 / std::sqrt(profile_norm2)) : 0;

  // ---- content scores by walking postings of the strongest profile terms ----
  auto& content = scratch.content;
  if (content.size() < n_cards) content.resize(n_cards);
  const bool has_profile = inv_norm > 0;
  if (has_profile) {
    std::fill(content.begin(), content.begin() + n_cards, 0.0f);
    std::vector<uint32_t> query(touched);
    if (query.size() > opt.max_profile_terms) {
      std::nth_element(
          query.begin(), query.begin() + opt.max_profile_terms, query.end(),
          [&](uint32_t a, uint32_t b) { return std::abs(profile[a]) > std::abs(profile[b]); });
      query.resize(opt.max_profile_terms);
    }
    for (uint32_t t : query) {
      const float q = profile[t] * inv_norm;
      for (const Posting& p : s.postings[t]) content[p.card] += q * p.weight;
    }
    for (uint32_t row : s.dirty) {  // postings are stale for these: score exactly
      float dot = 0;
      for (auto [t, v] : s.vecs[row]) dot += (t < profile.size() ? profile[t] : 0) * v;
      content[row] = dot * inv_norm;
    }
  }
  for (uint32_t t : touched) profile[t] = 0;

  // ---- collaborative scores ----
  const MfModel* mf = model && model->mf ? model->mf.get() : nullptr;
  bool has_mf = false;
  size_t mf_rows = 0;
  if (mf != nullptr && mf->n_items() > 0) {
    const Eigen::VectorXf x = mf->FoldIn(fold_in);
    if (x.squaredNorm() > 0) {
      mf->ScoreAll(x, scratch.mf);
      has_mf = true;
      mf_rows = mf->n_items();
    }
  }
  auto mf_score = [&](uint32_t row) { return row < mf_rows ? scratch.mf[row] : 0.0f; };

  // ---- popularity and like-rate priors ----
  const double total_l = static_cast<double>(s.total_likes.load(std::memory_order_relaxed));
  const double total_p = static_cast<double>(s.total_passes.load(std::memory_order_relaxed));
  const float mu = static_cast<float>((total_l + 1.0) / (total_l + total_p + 3.0));
  const float m = opt.prior_strength;
  const float prior_sd = std::sqrt(mu * (1 - mu) / (m + 1));
  auto rate_mean = [&](uint32_t row) TOKKI_REQUIRES_SHARED(s.catalog_mu) {
    const float l = static_cast<float>(std::max(0, s.likes[row].load(std::memory_order_relaxed)));
    const float p = static_cast<float>(std::max(0, s.passes[row].load(std::memory_order_relaxed)));
    return (l + m * mu) / (l + p + m);
  };
  auto popularity = [&](uint32_t row) TOKKI_REQUIRES_SHARED(s.catalog_mu) {
    return Log1p(std::max(0, s.likes[row].load(std::memory_order_relaxed)));
  };

  // ---- per-row signals and their scale over the universe ----
  const size_t n_universe = universe.size();
  auto& sig = scratch.signals;
  sig.resize(n_universe);
  // Each signal is centred on its mean over the universe and scaled so that its best
  // card scores 1: the signals are heavy-tailed (most cards share no term with the profile
  // and many have no collaborative factor), so a standard deviation would overweight them.
  double sc = 0, sm = 0, sp = 0;
  float c_max = -1e30f, m_max = -1e30f, p_max = -1e30f;
  for (size_t i = 0; i < n_universe; ++i) {
    const uint32_t row = universe[i];
    Signals& g = sig[i];
    g.content = has_profile ? content[row] : 0;
    g.mf = has_mf ? mf_score(row) : 0;
    const int32_t l = std::max(0, s.likes[row].load(std::memory_order_relaxed));
    const int32_t p = std::max(0, s.passes[row].load(std::memory_order_relaxed));
    g.pop = Log1p(l);
    g.rate = (static_cast<float>(l) + m * mu) / (static_cast<float>(l + p) + m);
    sc += g.content, sm += g.mf, sp += g.pop;
    c_max = std::max(c_max, g.content), m_max = std::max(m_max, g.mf),
    p_max = std::max(p_max, g.pop);
  }
  const double n_u = static_cast<double>(n_universe);
  auto scale = [&](double sum, float max) {
    const auto mean = static_cast<float>(sum / n_u);
    return std::pair<float, float>(mean, max - mean > 1e-9f ? 1.0f / (max - mean) : 0.0f);
  };
  const auto [c_mean, c_inv] = scale(sc, c_max);
  const auto [m_mean, m_inv] = scale(sm, m_max);
  const auto [p_mean, p_inv] = scale(sp, p_max);

  const float fade = 1.0f / (1.0f + static_cast<float>(n_history) / opt.fade_swipes);
  const float w_content = opt.weight_content * c_inv;
  const float w_collab = opt.weight_collab * m_inv;
  const float w_pop = opt.weight_popularity * fade * p_inv;
  const float w_explore = opt.weight_explore * fade / prior_sd;
  // Constant offsets do not change the order; they are folded in here.
  const float offset = -(w_content * c_mean + w_collab * m_mean + w_pop * p_mean + w_explore * mu);

  auto make = [&](uint32_t row, const Signals& g) {
    Candidate c;
    c.card = row;
    c.fixed = w_content * g.content + w_collab * g.mf + w_pop * g.pop + offset;
    c.base = c.fixed + w_explore * g.rate;
    c.final_score = c.base;
    return c;
  };
  auto excluded = [&](uint32_t row) TOKKI_REQUIRES_SHARED(s.catalog_mu) {
    return swiped(row) || (!also_exclude.empty() && also_exclude.count(s.slots[row].id) > 0);
  };

  // ---- top candidates by base score (min-heap) ----
  const size_t k = std::max(opt.n_candidates, limit * 2);
  auto worse = [](const Candidate& a, const Candidate& b) {
    return a.base > b.base || (a.base == b.base && a.card < b.card);
  };
  std::vector<Candidate> heap;
  heap.reserve(k + 1);
  for (size_t i = 0; i < n_universe; ++i) {
    const Signals& g = sig[i];
    const float base =
        w_content * g.content + w_collab * g.mf + w_pop * g.pop + offset + w_explore * g.rate;
    if (heap.size() >= k && base <= heap.front().base) continue;
    const uint32_t row = universe[i];
    if (excluded(row)) continue;
    heap.push_back(make(row, g));
    std::push_heap(heap.begin(), heap.end(), worse);
    if (heap.size() > k) {
      std::pop_heap(heap.begin(), heap.end(), worse);
      heap.pop_back();
    }
  }

  // ---- per-request randomness: deterministic in (seed, user, user's history) ----
  std::mt19937_64 rng(Mix(opt.seed ^ Mix(static_cast<uint64_t>(user)) ^
                          Mix((u ? u->n_changes : 0) + 0x51ED) ^ Mix(also_exclude.size() + 77)));

  // ---- exploration candidates: recent cards first, then random eligible ones ----
  if (++scratch.stamp_value == 0) {
    std::fill(scratch.stamp.begin(), scratch.stamp.end(), 0);
    scratch.stamp_value = 1;
  }
  const uint32_t seen = scratch.stamp_value;
  for (const auto& c : heap) scratch.stamp[c.card] = seen;
  std::vector<Candidate> pool = std::move(heap);
  size_t added = 0;
  auto try_add = [&](uint32_t row) TOKKI_REQUIRES_SHARED(s.catalog_mu) {
    if (row >= n_cards || scratch.stamp[row] == seen) return;
    scratch.stamp[row] = seen;
    if (!eligible(row) || (!tag_ids.empty() && !has_tag(row)) || excluded(row)) return;
    Signals g;
    g.content = has_profile ? content[row] : 0;
    g.mf = has_mf ? mf_score(row) : 0;
    g.pop = popularity(row);
    g.rate = rate_mean(row);
    pool.push_back(make(row, g));
    ++added;
  };
  const size_t n_explore = opt.n_explore_candidates;
  if (!s.recent.empty()) {
    for (size_t tries = 0; tries < 4 * n_explore && added < n_explore / 2; ++tries)
      try_add(s.recent[rng() % s.recent.size()]);
  }
  for (size_t tries = 0; tries < 4 * n_explore && added < n_explore; ++tries)
    try_add(universe[rng() % universe.size()]);
  if (pool.empty()) return out;

  // ---- Thompson sampling on the like rate ----
  for (auto& c : pool) {
    const float l =
        static_cast<float>(std::max(0, s.likes[c.card].load(std::memory_order_relaxed)));
    const float p =
        static_cast<float>(std::max(0, s.passes[c.card].load(std::memory_order_relaxed)));
    std::gamma_distribution<float> ga(l + m * mu, 1.0f), gb(p + m * (1 - mu), 1.0f);
    const float x = ga(rng), y = gb(rng);
    const float theta = x + y > 0 ? x / (x + y) : mu;
    c.final_score = c.fixed + w_explore * theta;
  }
  std::sort(pool.begin(), pool.end(), [](const Candidate& a, const Candidate& b) {
    return a.final_score > b.final_score || (a.final_score == b.final_score && a.card < b.card);
  });

  // ---- MMR re-ranking over content vectors ----
  const size_t n_mmr = std::min(pool.size(), std::max<size_t>(limit * 4, 40));
  const float top = pool.front().final_score;
  const float bottom = pool[n_mmr - 1].final_score;
  const float span = top - bottom > 1e-9f ? top - bottom : 1.0f;
  std::vector<float> max_sim(n_mmr, 0.0f);
  std::vector<bool> taken(n_mmr, false);
  const float lambda = opt.mmr_lambda;
  out.reserve(std::min(limit, n_mmr));
  for (size_t picked = 0; picked < std::min(limit, n_mmr); ++picked) {
    size_t best = n_mmr;
    float best_score = 0;
    for (size_t i = 0; i < n_mmr; ++i) {
      if (taken[i]) continue;
      const float rel = (pool[i].final_score - bottom) / span;
      const float score = lambda * rel - (1 - lambda) * max_sim[i];
      if (best == n_mmr || score > best_score) best = i, best_score = score;
    }
    taken[best] = true;
    const uint32_t row = pool[best].card;
    out.push_back(s.slots[row].id);
    const auto& v = s.vecs[row];
    for (size_t i = 0; i < n_mmr; ++i)
      if (!taken[i]) max_sim[i] = std::max(max_sim[i], Dot(v, s.vecs[pool[i].card]));
  }
  return out;
}

}  // namespace tokki::discover
