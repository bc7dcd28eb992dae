// The deck's training: content vectors (RebuildContent), the ALS model (TrainModel) and
// the background thread that runs them. See deck_state.h.
#include <sys/syscall.h>
#include <unistd.h>

#include "discover/deck_state.h"

namespace tokki::discover {

void Deck::State::RebuildContent() {
  // Copy what is needed under a shared lock; compute aside; swap in under an exclusive
  // lock that only swaps containers and redoes the cards upserted meanwhile.
  std::vector<SparseVec> raws;
  std::vector<uint8_t> alive;
  size_t n_terms = 0;
  {
    WriterMutexLock lock(&catalog_mu);
    rebuilding = true;
    changed_rows.clear();
  }
  {
    ReaderMutexLock lock(&catalog_mu);
    raws.reserve(slots.size());
    for (const auto& slot : slots) raws.push_back(slot.raw);
    alive = flags;
    n_terms = terms.size();
  }
  const size_t n_copied = raws.size();
  std::vector<uint32_t> doc_freq(n_terms, 0);
  size_t n_docs = 0;
  for (size_t r = 0; r < n_copied; ++r) {
    if (!(alive[r] & kAlive)) continue;
    ++n_docs;
    for (auto [t, w] : raws[r]) ++doc_freq[t];
  }
  std::vector<float> new_idf(n_terms);
  for (size_t t = 0; t < n_terms; ++t)
    new_idf[t] = std::log((n_docs + 1.0f) / (doc_freq[t] + 1.0f)) + 1.0f;
  std::vector<SparseVec> new_vecs(n_copied);
  std::vector<std::vector<Posting>> new_postings(n_terms);
  for (size_t t = 0; t < n_terms; ++t) new_postings[t].reserve(doc_freq[t]);
  for (size_t r = 0; r < n_copied; ++r) {
    SparseVec v = std::move(raws[r]);
    double norm = 0;
    for (auto& [t, w] : v) {
      w *= new_idf[t];
      norm += static_cast<double>(w) * w;
    }
    if (norm > 0) {
      const auto inv = static_cast<float>(1.0 / std::sqrt(norm));
      for (auto& [t, w] : v) w *= inv;
    }
    for (auto [t, w] : v) new_postings[t].push_back({static_cast<uint32_t>(r), w});
    new_vecs[r] = std::move(v);
  }
  std::vector<uint8_t> new_indexed(n_copied, 1);
  std::unordered_set<uint32_t> new_dirty;

  WriterMutexLock lock(&catalog_mu);
  // Rows created meanwhile (new cards, or placeholders for swipes) get empty entries.
  new_vecs.resize(slots.size());
  new_indexed.resize(slots.size(), 0);
  new_postings.resize(terms.size());
  postings.swap(new_postings);
  vecs.swap(new_vecs);
  indexed.swap(new_indexed);
  dirty.swap(new_dirty);
  std::sort(changed_rows.begin(), changed_rows.end());
  changed_rows.erase(std::unique(changed_rows.begin(), changed_rows.end()), changed_rows.end());
  for (uint32_t r : changed_rows) {
    vecs[r] = Weigh(slots[r].raw);
    if (r < n_copied) {  // edited meanwhile: its postings may be stale, score it exactly
      dirty.insert(r);
    } else {  // added meanwhile
      for (auto [t, w] : vecs[r]) postings[t].push_back({r, w});
      indexed[r] = 1;
    }
  }
  rebuilding = false;
  changed_rows.clear();
  lock.Unlock();
  // The old postings, vectors and sets are freed here, outside the lock.
}

void Deck::State::TrainModel() {
  const int64_t t0 = NowSteadyUs();
  size_t n_items = 0;
  {
    ReaderMutexLock lock(&catalog_mu);
    n_items = slots.size();
  }
  std::vector<AlsEntry> entries;
  uint32_t n_rows = 0;
  for (auto& shard : shards) {
    ReaderMutexLock lock(&shard.mu);
    for (const auto& [user, state] : shard.users) {
      bool any = false;
      for (const auto& [row, in] : state.by_card) {
        if (row >= n_items) continue;
        auto [p, c] = PrefConf(in);
        if (c <= 0) continue;
        entries.push_back({n_rows, row, p, c});
        any = true;
      }
      if (any) ++n_rows;
    }
  }
  AlsOptions als;
  als.n_factors = options.n_factors;
  als.n_iterations = options.als_iterations;
  als.regularization = options.als_regularization;
  als.regularization_per_entry = options.als_regularization_per_entry;
  als.seed = options.seed;
  auto mf = TrainAls(n_rows, n_items, entries, als);
  auto next = std::make_shared<Model>();
  next->mf = std::move(mf);
  next->trained_at_ms = NowUnixMs();
  next->t_train_ms = (NowSteadyUs() - t0) / 1000;
  MutexLock lock(&model_mu);
  next->version = model ? model->version + 1 : 1;
  model = std::move(next);
}

void Deck::TrainNow() {
  auto& s = *s_;
  MutexLock lock(&s.train_mu);
  const uint64_t changes = s.n_changes.load();
  const int64_t t0 = NowSteadyUs();
  s.RebuildContent();
  s.TrainModel();
  s.trained_changes = changes;
  TOKKI_LOG(debug, "discover trained", "t_train_ms", (NowSteadyUs() - t0) / 1000, "n_interactions",
            s.n_interactions.load());
}

void Deck::State::BackgroundLoop(std::chrono::milliseconds period) {
  // Training is background work: let request threads win the CPU (Linux: per-thread nice).
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
  MutexLock lock(&bg_mu);
  while (!bg_stop) {
    const auto deadline = std::chrono::steady_clock::now() + period;
    while (!bg_stop) {
      if (!bg_cv.WaitUntil(&bg_mu, deadline)) break;
    }
    if (bg_stop) break;
    lock.Unlock();
    {
      MutexLock train(&train_mu);
      const uint64_t changes = n_changes.load();
      if (changes != trained_changes) {
        RebuildContent();
        TrainModel();
        trained_changes = changes;
      }
    }
    lock.Lock();
  }
}

void Deck::StartBackgroundTraining(std::chrono::milliseconds period) {
  auto& s = *s_;
  MutexLock lock(&s.bg_mu);
  if (s.bg_thread.joinable()) return;
  s.bg_stop = false;
  s.bg_thread = std::thread([this, period] { s_->BackgroundLoop(period); });
}

void Deck::Stop() {
  auto& s = *s_;
  std::thread t;
  {
    MutexLock lock(&s.bg_mu);
    s.bg_stop = true;
    t = std::move(s.bg_thread);
  }
  s.bg_cv.SignalAll();
  if (t.joinable()) t.join();
}

DeckStats Deck::Stats() const {
  const auto& s = *s_;
  DeckStats st;
  {
    ReaderMutexLock lock(&s.catalog_mu);
    st.n_cards = s.n_alive;
  }
  st.n_users = static_cast<size_t>(s.n_users.load());
  st.n_interactions = static_cast<size_t>(s.n_interactions.load());
  if (auto m = s.LoadModel()) {
    st.last_train_ms = m->trained_at_ms;
    st.t_last_train_ms = m->t_train_ms;
    st.model_version = m->version;
  }
  return st;
}

}  // namespace tokki::discover
