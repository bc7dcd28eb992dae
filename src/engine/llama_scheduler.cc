// The embedded engine's decode thread: Run waits for work, Admit moves queued requests in
// (fair across users), Step runs one llama_decode over every running reply plus a budget
// of prompt tokens (continuous batching, chunked prefill), samples, streams text and
// finishes requests. See llama_engine_impl.h and docs/engine.md.
#include <algorithm>
#include <span>
#include <tuple>

#include "core/clock.h"
#include "core/log.h"
#include "engine/llama_engine_impl.h"
#include "engine/sampler.h"

namespace tokki::engine {

// ---------------------------------------------------------------- decode thread
void LlamaEngine::Impl::Run() {
  while (true) {
    std::deque<std::function<void()>> cmds;
    {
      MutexLock lock(&mu);
      while (!stopping && commands.empty() && active.empty() && queue.empty() && parked.empty())
        cv.Wait(&mu);
      if (stopping) break;
      cmds.swap(commands);
    }
    for (auto& c : cmds) c();
    Admit();
    DropCancelled();
    RetryWaiting();
    if (!HasWork()) {
      // Everything admitted is waiting for capacity; sleep until something changes.
      MutexLock lock(&mu);
      cv.WaitFor(&mu, std::chrono::milliseconds(20));
      continue;
    }
    Step();
  }
  // Shutdown: cancel everything.
  std::deque<std::unique_ptr<Request>> rest;
  std::deque<std::function<void()>> cmds;
  {
    MutexLock lock(&mu);
    rest.swap(queue);
    cmds.swap(commands);
  }
  for (auto& c : cmds) c();
  for (auto& r : rest) FinishQueued(*r, Status::Cancelled("engine shut down"));
  for (auto& r : parked) active.push_back(std::move(r));
  parked.clear();
  while (!active.empty()) Finish(active.back().get(), FinishReason::kCancelled);
  st_queue = 0;
}

bool LlamaEngine::Impl::HasWork() const {
  for (const auto& r : active) {
    if (r->phase != Phase::kWaitPrefix) return true;
  }
  return false;
}

void LlamaEngine::Impl::FinishQueued(Request& r, Status status) {
  if (status.code() == Status::Code::kCancelled) {
    GenerateResult res;
    res.finish_reason = FinishReason::kCancelled;
    res.usage.prompt_tokens = static_cast<int>(r.prompt.tokens.size());
    res.total_ms = (NowSteadyUs() - r.t_submit_us) / 1000.0;
    if (r.cb.on_done) r.cb.on_done(res);
  } else if (r.cb.on_done) {
    r.cb.on_done(status);
  }
}

bool LlamaEngine::Impl::ConversationBusy(const Request& r) const {
  const std::string& key = r.req.conversation_key;
  auto c = key.empty() ? convs.end() : convs.find(key);
  return c != convs.end() && c->second->busy;
}

std::deque<std::unique_ptr<LlamaEngine::Impl::Request>>::iterator LlamaEngine::Impl::PickQueued() {
  // Priority first; then, fair across users, the oldest request of the user with the
  // fewest requests running now, and among those the user served longest ago (round
  // robin). Requests whose conversation is busy wait (turns of one conversation run in
  // order).
  std::unordered_map<std::string, int> running;
  for (auto& a : active) ++running[a->req.user_key];
  auto best = queue.end();
  std::tuple<int, int, int64_t> best_rank{0, 0, 0};
  for (auto it = queue.begin(); it != queue.end(); ++it) {
    if (ConversationBusy(**it)) continue;
    const std::string& user = (*it)->req.user_key;
    std::tuple<int, int, int64_t> rank{static_cast<int>((*it)->req.priority), 0, -1};
    if (!user.empty()) {
      auto rn = running.find(user);
      auto ls = last_served.find(user);
      std::get<1>(rank) = rn == running.end() ? 0 : rn->second;
      std::get<2>(rank) = ls == last_served.end() ? -1 : ls->second;
    }
    if (best == queue.end() || rank < best_rank) {
      best = it;
      best_rank = rank;
    }
  }
  return best;
}

void LlamaEngine::Impl::Admit() {
  ResumeParked();
  while (true) {
    const bool full = static_cast<int>(active.size()) >= opt.n_parallel;
    const bool background_running =
        std::any_of(active.begin(), active.end(),
                    [](auto& a) { return a->req.priority == Priority::kBackground; });
    const bool user_running =
        std::any_of(active.begin(), active.end(),
                    [](auto& a) { return a->req.priority != Priority::kBackground; });
    std::unique_ptr<Request> r;
    {
      MutexLock lock(&mu);
      auto best = PickQueued();
      if (best != queue.end()) {
        const bool background = (*best)->req.priority == Priority::kBackground;
        // Background work runs only when no user's request runs or waits (on a CPU every
        // extra sequence slows everyone's step), after its own parked requests. A user's
        // request takes a free slot, or the slot of running background work by parking it.
        const bool take = background ? !full && !user_running && parked.empty()
                                     : !full || background_running;
        if (take) {
          r = std::move(*best);
          queue.erase(best);
          if (!r->req.user_key.empty()) {
            if (last_served.size() > 100000) last_served.clear();  // bounded; restarts
            last_served[r->req.user_key] = ++n_admitted;
          }
        }
      }
      st_queue = static_cast<int64_t>(queue.size());
    }
    if (!r) return;
    if (r->handle->cancelled()) {
      FinishQueued(*r, Status::Cancelled("cancelled"));
      continue;
    }
    // A user's request pauses every running background request.
    if (r->req.priority != Priority::kBackground)
      while (ParkNewestBackground()) {
      }
    Request* raw = r.get();
    active.push_back(std::move(r));
    st_active = static_cast<int64_t>(active.size());
    if (!Setup(raw)) {
      // No sequence id free (all busy): put it back at the front and wait.
      raw->conv = nullptr;
      auto it =
          std::find_if(active.begin(), active.end(), [&](auto& p) { return p.get() == raw; });
      std::unique_ptr<Request> back = std::move(*it);
      active.erase(it);
      st_active = static_cast<int64_t>(active.size());
      MutexLock lock(&mu);
      queue.push_front(std::move(back));
      return;
    }
  }
}

bool LlamaEngine::Impl::ParkNewestBackground() {
  for (auto it = active.rbegin(); it != active.rend(); ++it) {
    Request* r = it->get();
    if (r->req.priority != Priority::kBackground) continue;
    // A persona prefix it was building is given up, so nobody waits on parked work.
    if (!r->req.prefix_key.empty()) {
      auto pit = prefixes.find(r->req.prefix_key);
      if (pit != prefixes.end() && pit->second->pending && pit->second->owner == r->id)
        prefixes.erase(pit);
    }
    r->batch_idx = -1;
    parked.push_back(std::move(*it));
    active.erase(std::next(it).base());
    st_active = static_cast<int64_t>(active.size());
    return true;
  }
  return false;
}

void LlamaEngine::Impl::ResumeParked() {
  const bool user_running =
      std::any_of(active.begin(), active.end(),
                  [](auto& a) { return a->req.priority != Priority::kBackground; });
  if (user_running) return;
  while (!parked.empty() && static_cast<int>(active.size()) < opt.n_parallel) {
    {
      MutexLock lock(&mu);
      for (auto& q : queue) {
        if (q->req.priority != Priority::kBackground && !ConversationBusy(*q)) return;
      }
    }
    active.push_back(std::move(parked.front()));
    parked.pop_front();
    st_active = static_cast<int64_t>(active.size());
  }
}

void LlamaEngine::Impl::DropCancelled() {
  for (auto it = parked.begin(); it != parked.end();) {
    if ((*it)->handle->cancelled()) {
      active.push_back(std::move(*it));  // Finish takes requests from `active`
      it = parked.erase(it);
    } else {
      ++it;
    }
  }
  for (size_t i = 0; i < active.size();) {
    if (active[i]->handle->cancelled()) {
      Finish(active[i].get(), FinishReason::kCancelled);
    } else {
      ++i;
    }
  }
}

// ---- one scheduler step ----
void LlamaEngine::Impl::RetryWaiting() {
  for (auto& r : active) {
    if (r->phase != Phase::kWaitPrefix) continue;
    r->conv->busy = false;
    if (!Setup(r.get())) {
      r->phase = Phase::kWaitPrefix;
      r->conv->busy = true;
    }
  }
}

void LlamaEngine::Impl::Step() {
  batch.n_tokens = 0;
  auto add = [&](llama_token t, llama_pos pos, int seq, bool logits) {
    const int i = batch.n_tokens++;
    batch.token[i] = t;
    batch.pos[i] = pos;
    batch.n_seq_id[i] = 1;
    batch.seq_id[i][0] = seq;
    batch.logits[i] = logits;
    return i;
  };
  std::vector<std::pair<Request*, int>> prefill_parts;  // request, n tokens this step
  int n_gen = 0;
  for (auto& r : active) {
    r->batch_idx = -1;
    if (r->phase != Phase::kGenerate) continue;
    r->batch_idx =
        add(r->last_token, static_cast<llama_pos>(r->conv->tokens.size()), r->conv->seq, true);
    ++n_gen;
  }
  // With per-sequence streams, a step with nothing generating may fill the whole batch
  // with prompt tokens. In a unified cache, prompts advance in chunks so that the first
  // ones to finish prefilling start generating (and later ones wait) before the cache
  // fills up with half-prefilled prompts.
  const int budget_max =
      n_gen == 0 && !opt.kv_unified ? opt.n_batch : opt.prefill_chunk_tokens;
  int budget = std::min(PrefillBudget(n_gen, budget_max), opt.n_batch - n_gen);
  // Background work runs alone (Admit) and in short steps: a user's request that arrives
  // meanwhile waits for one short step, not for a whole batch of someone's summary.
  if (std::all_of(active.begin(), active.end(),
                  [](auto& a) { return a->req.priority == Priority::kBackground; }))
    budget = std::min(budget, kBackgroundPrefillChunk);
  // Prompt tokens go to the most urgent prefills first, oldest first within a priority.
  std::vector<Request*> prefilling;
  for (auto& r : active) {
    if (r->phase == Phase::kPrefill) prefilling.push_back(r.get());
  }
  std::stable_sort(prefilling.begin(), prefilling.end(), [](Request* a, Request* b) {
    return a->req.priority < b->req.priority;
  });
  for (Request* r : prefilling) {
    if (budget <= 0) break;
    const auto& prompt = r->prompt.tokens;
    const int n = static_cast<int>(std::min<size_t>(budget, prompt.size() - r->n_past));
    for (int k = 0; k < n; ++k) {
      const size_t i = r->n_past + k;
      const int bi =
          add(prompt[i], static_cast<llama_pos>(i), r->conv->seq, i + 1 == prompt.size());
      if (i + 1 == prompt.size()) r->batch_idx = bi;
    }
    prefill_parts.emplace_back(r, n);
    budget -= n;
  }
  if (batch.n_tokens == 0) return;
  // Prompts take cells only while the generating replies keep room for their next tokens
  // (up to kDecodeHeadroom each), so a unified cache does not fill up under them.
  int64_t headroom = 0;
  if (!prefill_parts.empty()) {
    for (const auto& r : active) {
      if (r->phase == Phase::kGenerate)
        headroom += std::clamp(r->req.sampling.max_tokens - r->usage.completion_tokens - 1, 0,
                               kDecodeHeadroom);
    }
  }
  if (!EnsureCells(batch.n_tokens + headroom)) {
    if (n_gen > 0 && !prefill_parts.empty() && EnsureCells(n_gen)) {
      // No room for new prompts now: this step only advances the running replies
      // (their tokens come first in the batch); the prompts wait until replies finish
      // and their cells can be evicted, instead of failing someone's request.
      batch.n_tokens = n_gen;
      for (auto& [r, n] : prefill_parts) r->batch_idx = -1;
      prefill_parts.clear();
    } else {
      // Not even evicting everything idle makes room for what is running: fail one
      // request of the user running the most.
      FailForRoom("KV cache is full; try again later");
      return;
    }
  }
  const int64_t t0 = NowSteadyUs();
  int rc = llama_decode(ctx, batch);
  while (rc == 1) {
    if (!EvictOne()) break;
    rc = llama_decode(ctx, batch);
  }
  const int64_t dt = NowSteadyUs() - t0;
  if (rc == 0) copy_pending.clear();  // llama_decode made the queued stream copies
  if (rc == 1) {
    FailForRoom("KV cache is full; try again later");
    return;
  }
  if (rc != 0) {
    TOKKI_LOG(error, "llama_decode failed", "rc", rc, "n_tokens", batch.n_tokens);
    // Roll every participating sequence back to what we believe it holds.
    std::vector<Request*> failed;
    for (auto& r : active) {
      if (r->phase == Phase::kWaitPrefix) continue;
      llama_memory_seq_rm(Mem(), r->conv->seq, static_cast<llama_pos>(r->conv->tokens.size()),
                          -1);
      failed.push_back(r.get());
    }
    for (Request* r : failed)
      FinishError(r, Status::Internal("llama_decode failed (" + std::to_string(rc) + ")"));
    return;
  }
  int n_prefilled = 0;
  for (auto& [r, n] : prefill_parts) {
    const auto& prompt = r->prompt.tokens;
    r->conv->tokens.insert(r->conv->tokens.end(), prompt.begin() + static_cast<long>(r->n_past),
                           prompt.begin() + static_cast<long>(r->n_past + n));
    r->n_past += n;
    n_prefilled += n;
    MaybeRegisterPrefix(r);
  }
  st_prefill += n_prefilled;
  st_decode += n_gen;
  LearnStepCost(n_gen, n_prefilled, dt);
  if (n_prefilled > 0) st_t_prefill_us += dt * n_prefilled / batch.n_tokens;
  if (n_gen > 0) st_t_decode_us += dt * n_gen / batch.n_tokens;

  // Sample every sequence that produced logits.
  std::vector<Request*> done;
  std::vector<FinishReason> reasons;
  for (auto& r : active) {
    if (r->batch_idx < 0) continue;
    const bool was_gen = r->phase == Phase::kGenerate;
    if (was_gen) r->conv->tokens.push_back(r->last_token);
    if (!was_gen && r->n_past < r->prompt.tokens.size()) continue;
    if (!r->smpl) {
      const auto& toks = r->prompt.tokens;
      const size_t from = toks.size() > 256 ? toks.size() - 256 : 0;
      r->smpl = MakeSampler(r->req.sampling, SamplerVocab{vocab, n_vocab, eog_tokens},
                            std::span<const llama_token>(toks).subspan(from));
    }
    const llama_token tok = llama_sampler_sample(r->smpl, ctx, r->batch_idx);
    if (r->t_first_us == 0) r->t_first_us = NowSteadyUs();
    r->phase = Phase::kGenerate;
    if (std::optional<FinishReason> reason = Accept(r.get(), tok)) {
      done.push_back(r.get());
      reasons.push_back(*reason);
    }
  }
  for (size_t i = 0; i < done.size(); ++i) Finish(done[i], reasons[i]);
  if (trace) {
    TOKKI_LOG(info, "step", "n_tokens", batch.n_tokens, "n_gen", n_gen, "n_prefill", n_prefilled,
              "decode_ms", dt / 1000.0, "sample_ms", (NowSteadyUs() - t0 - dt) / 1000.0);
  }
}

int LlamaEngine::Impl::PrefillBudget(int n_gen, int budget_max) const {
  // Nothing is streaming, or the costs are not known yet: the whole budget.
  if (n_gen == 0 || decode_step_us <= 0 || prefill_token_us <= 0) return budget_max;
  // A step may take itl_target_ms (default: twice a decode-only step), so that running
  // streams keep their pace while prompts are prefilled in what remains of it.
  const double target_us =
      opt.itl_target_ms > 0 ? opt.itl_target_ms * 1000.0 : 2.0 * decode_step_us;
  const double room_us = target_us - decode_step_us;
  const int n = room_us > 0 ? static_cast<int>(room_us / prefill_token_us) : 0;
  return std::clamp(n, std::min(kMinPrefillChunk, budget_max), budget_max);
}

void LlamaEngine::Impl::LearnStepCost(int n_gen, int n_prefilled, int64_t dt_us) {
  constexpr double kAlpha = 0.2;  // moving averages over the last few steps
  if (n_prefilled == 0 && n_gen > 0) {
    decode_step_us = decode_step_us <= 0 ? dt_us : decode_step_us + kAlpha * (dt_us - decode_step_us);
  } else if (n_prefilled > 0) {
    const double rest_us = n_gen > 0 && decode_step_us > 0 ? dt_us - decode_step_us : dt_us;
    const double per_token = std::max(rest_us, 0.1 * dt_us) / n_prefilled;
    prefill_token_us =
        prefill_token_us <= 0 ? per_token : prefill_token_us + kAlpha * (per_token - prefill_token_us);
  }
}

std::optional<FinishReason> LlamaEngine::Impl::Accept(Request* r, llama_token tok) {
  const SamplingParams& sp = r->req.sampling;
  if (!sp.ignore_eos && llama_vocab_is_eog(vocab, tok)) return FinishReason::kStop;
  r->generated.push_back(tok);
  r->usage.completion_tokens++;
  char buf[256];
  int n = llama_token_to_piece(vocab, tok, buf, sizeof(buf), 0, false);
  std::string piece;
  if (n < 0) {
    piece.resize(-n);
    n = llama_token_to_piece(vocab, tok, piece.data(), -n, 0, false);
    piece.resize(std::max(n, 0));
  } else {
    piece.assign(buf, n);
  }
  Emit(r, r->text.Push(piece));
  if (r->text.stopped()) return FinishReason::kStop;
  if (r->usage.completion_tokens >= sp.max_tokens) return FinishReason::kLength;
  if (static_cast<int>(r->conv->tokens.size()) + 1 >= seq_ctx_limit) return FinishReason::kLength;
  r->last_token = tok;
  return std::nullopt;
}

void LlamaEngine::Impl::Emit(Request* r, std::string_view text) {
  if (text.empty()) return;
  if (r->cb.on_token) r->cb.on_token(text);
}

void LlamaEngine::Impl::FailForRoom(const std::string& why) {
  std::unordered_map<std::string, int> running;
  for (auto& a : active) ++running[a->req.user_key];
  Request* victim = nullptr;
  std::tuple<int, int, bool> victim_rank{};  // the largest gives way
  for (auto it = active.rbegin(); it != active.rend(); ++it) {  // newest first
    Request* r = it->get();
    const std::tuple<int, int, bool> rank{
        static_cast<int>(r->req.priority),
        r->req.user_key.empty() ? 1 : running[r->req.user_key], r->phase == Phase::kPrefill};
    if (!victim || rank > victim_rank) {
      victim = r;
      victim_rank = rank;
    }
  }
  if (victim) FinishError(victim, Status::Unavailable(why));
}

void LlamaEngine::Impl::Finish(Request* r, FinishReason reason, Status status) {
  auto it = std::find_if(active.begin(), active.end(), [&](auto& p) { return p.get() == r; });
  std::unique_ptr<Request> owned = std::move(*it);
  active.erase(it);
  st_active = static_cast<int64_t>(active.size());
  if (status.ok() && reason != FinishReason::kCancelled) Emit(r, r->text.Finish());
  if (r->smpl) llama_sampler_free(r->smpl);
  r->smpl = nullptr;
  // Give up a persona prefix this request was supposed to build.
  if (!r->req.prefix_key.empty()) {
    auto pit = prefixes.find(r->req.prefix_key);
    if (pit != prefixes.end() && pit->second->pending && pit->second->owner == r->id) {
      prefixes.erase(pit);
    }
  }
  Conversation* c = r->conv;
  if (c) {
    c->busy = false;
    c->last_used_us = NowSteadyUs();
    if (c->key.empty()) {
      if (c->seq >= 0) st_resident--;
      ReleaseSeq(*c);
    } else if (status.ok() && !r->text.stopped() && reason != FinishReason::kCancelled &&
               !r->generated.empty()) {
      // Remember the generated ids so the next turn reuses them verbatim.
      std::string text = r->text.emitted();
      std::string check;
      for (llama_token t : r->generated) {
        char buf[256];
        const int n = llama_token_to_piece(vocab, t, buf, sizeof(buf), 0, false);
        if (n > 0) check.append(buf, n);
      }
      if (check == text) {
        MutexLock lock(&mu);
        auto& dq = replies[c->key];
        dq.emplace_back(std::move(text), r->generated);
        while (dq.size() > 64) dq.pop_front();
      }
    }
  }
  if (c && c->forget_when_done && !c->busy) {
    const std::string key = c->key;
    r->conv = nullptr;
    ForgetNow(key);
  }
  GenerateResult res;
  res.finish_reason = reason;
  res.usage = r->usage;
  const int64_t now = NowSteadyUs();
  res.ttft_ms = r->t_first_us ? (r->t_first_us - r->t_submit_us) / 1000.0 : 0.0;
  res.total_ms = (now - r->t_submit_us) / 1000.0;
  if (r->cb.on_done) {
    if (status.ok()) {
      r->cb.on_done(res);
    } else {
      r->cb.on_done(status);
    }
  }
}

}  // namespace tokki::engine
