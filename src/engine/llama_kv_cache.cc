// The embedded engine's KV cache: which conversation holds which sequence id, the shared
// persona prefixes (copied into conversations' sequences), least-recently-used eviction
// of idle conversations to the host/disk tiers (kv_tiers.h), and restoring them. Decode
// thread only. See llama_engine_impl.h and docs/engine.md.
#include <algorithm>

#include "core/clock.h"
#include "core/log.h"
#include "engine/llama_engine_impl.h"

namespace tokki::engine {

namespace internal {

size_t CommonPrefix(const std::vector<llama_token>& a, const std::vector<llama_token>& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace internal

using internal::CommonPrefix;

int64_t LlamaEngine::Impl::UsedCells() const {
  int64_t used = 0;
  for (const auto& [k, p] : prefixes) {
    if (p->seq >= 0 || p->refs > 0) used += static_cast<int64_t>(p->tokens.size());
  }
  for (const auto& p : dropped_prefixes) used += static_cast<int64_t>(p->tokens.size());
  auto add_conv = [&](const Conversation& c) {
    if (c.seq < 0) return;
    used += static_cast<int64_t>(c.tokens.size() - (c.prefix ? c.shared_len : 0));
  };
  for (const auto& [k, c] : convs) add_conv(*c);
  for (const auto& r : active) {
    if (r->own_conv) add_conv(*r->own_conv);
  }
  for (const auto& r : parked) {
    if (r->own_conv) add_conv(*r->own_conv);
  }
  return used;
}

void LlamaEngine::Impl::UnshareConv(Conversation& c) {
  if (!c.prefix) return;
  std::shared_ptr<Prefix> p = std::move(c.prefix);
  c.prefix.reset();
  c.shared_len = 0;
  if (--p->refs == 0 && p->seq < 0) dropped_prefixes.remove(p);
}

void LlamaEngine::Impl::TruncateConv(Conversation& c, size_t n) {
  if (c.seq < 0) return;
  if (n < c.tokens.size()) {
    llama_memory_seq_rm(Mem(), c.seq, static_cast<llama_pos>(n), -1);
    c.tokens.resize(n);
  }
  if (c.prefix && c.shared_len > n) c.shared_len = n;
  if (c.prefix && c.shared_len == 0) UnshareConv(c);
}

void LlamaEngine::Impl::ReleaseSeq(Conversation& c) {
  if (c.seq < 0) return;
  llama_memory_seq_rm(Mem(), c.seq, -1, -1);
  free_seqs.push_back(c.seq);
  c.seq = -1;
  UnshareConv(c);
}

void LlamaEngine::Impl::DropPrefix(const std::shared_ptr<Prefix>& p) {
  if (p->seq >= 0) {
    llama_memory_seq_rm(Mem(), p->seq, -1, -1);
    free_seqs.push_back(p->seq);
    p->seq = -1;
  }
  prefixes.erase(p->key);
  if (p->refs > 0) dropped_prefixes.push_back(p);
}

bool LlamaEngine::Impl::EvictOne() {
  Conversation* lru = nullptr;
  for (auto& [k, c] : convs) {
    if (c->seq >= 0 && !c->busy && (!lru || c->last_used_us < lru->last_used_us)) lru = c.get();
  }
  if (lru) {
    EvictToHost(*lru);
    return true;
  }
  std::shared_ptr<Prefix> lp;
  for (auto& [k, p] : prefixes) {
    if (p->seq >= 0 && !p->pending && (!lp || p->last_used_us < lp->last_used_us)) lp = p;
  }
  if (lp) {
    DropPrefix(lp);
    return true;
  }
  return false;
}

int LlamaEngine::Impl::AcquireSeq() {
  // A sequence still waiting for a stream copy would get that copy over whatever is put
  // in it now: skip those until the next llama_decode has made the copies.
  auto usable = [&] {
    return std::find_if(free_seqs.rbegin(), free_seqs.rend(), [&](int s) {
      return std::find(copy_pending.begin(), copy_pending.end(), s) == copy_pending.end();
    });
  };
  while (usable() == free_seqs.rend()) {
    if (!EvictOne()) return -1;
  }
  auto it = usable();
  const int s = *it;
  free_seqs.erase(std::next(it).base());
  return s;
}

bool LlamaEngine::Impl::EnsureCells(int64_t n) {
  // With per-sequence streams no sequence takes cells from another; each stays within its
  // own stream (prompts and replies are limited to seq_ctx_limit).
  if (!opt.kv_unified) return true;
  const int64_t cap = static_cast<int64_t>(llama_n_ctx(ctx));
  while (UsedCells() + n > cap) {
    if (!EvictOne()) return false;
  }
  return true;
}

void LlamaEngine::Impl::CopySeq(int src, int dst, size_t n) {
  if (opt.kv_unified) {
    // One cache: the cells gain a second owner, nothing is copied.
    llama_memory_seq_cp(Mem(), src, dst, 0, static_cast<llama_pos>(n));
    return;
  }
  // Another stream: llama.cpp copies the whole stream's buffers at the start of the next
  // llama_decode; positions past `n` are dropped from the copy's cell list at once.
  llama_memory_seq_rm(Mem(), dst, -1, -1);
  llama_memory_seq_cp(Mem(), src, dst, -1, -1);
  llama_memory_seq_rm(Mem(), dst, static_cast<llama_pos>(n), -1);
  copy_pending.push_back(dst);
}

SnapshotHeader LlamaEngine::Impl::Header(const std::string& key) const {
  return SnapshotHeader{model_hash, llama_n_ctx(ctx), key};
}

std::string LlamaEngine::Impl::SeqState(int seq) {
  std::string state(llama_state_seq_get_size(ctx, seq), '\0');
  const size_t n =
      llama_state_seq_get_data(ctx, reinterpret_cast<uint8_t*>(state.data()), state.size(), seq);
  state.resize(n);
  return state;
}

void LlamaEngine::Impl::EvictToHost(Conversation& c) {
  if (c.seq < 0 || c.busy) return;
  Snapshot s;
  s.header = Header(c.key);
  s.tokens.assign(c.tokens.begin(), c.tokens.end());
  // A stream copy not yet made has no state to save: the conversation will recompute.
  const bool pending =
      std::find(copy_pending.begin(), copy_pending.end(), c.seq) != copy_pending.end();
  if (!pending) s.state = SeqState(c.seq);
  ReleaseSeq(c);
  st_resident--;
  c.tokens.clear();
  if (c.key.empty() || s.tokens.empty() || s.state.empty()) return;
  std::vector<int32_t> tokens = s.tokens;
  tiers->Put(c.key, EncodeSnapshot(s), std::move(tokens));
}

CacheTier LlamaEngine::Impl::TierOf(const Conversation& c) const {
  if (c.seq >= 0) return CacheTier::kResident;
  return c.key.empty() ? CacheTier::kNone : tiers->Where(c.key);
}

void LlamaEngine::Impl::Restore(Conversation& c, int seq) {
  Result<std::string> blob =
      c.key.empty() ? Result<std::string>(Status::NotFound("")) : tiers->Take(c.key);
  c.seq = seq;
  c.tokens.clear();
  st_resident++;
  if (!blob.ok()) return;
  Result<Snapshot> s = DecodeSnapshot(*blob, Header(c.key));
  if (!s.ok()) {
    TOKKI_LOG(warn, "KV snapshot rejected, recomputing", "reason", s.status().ToString());
    return;
  }
  if (!EnsureCells(static_cast<int64_t>(s->tokens.size()))) return;
  const size_t n = llama_state_seq_set_data(
      ctx, reinterpret_cast<const uint8_t*>(s->state.data()), s->state.size(), seq);
  if (n == 0) {
    llama_memory_seq_rm(Mem(), seq, -1, -1);
    TOKKI_LOG(warn, "KV snapshot restore failed, recomputing", "key", c.key);
    return;
  }
  c.tokens.assign(s->tokens.begin(), s->tokens.end());
}

LlamaEngine::Impl::Conversation* LlamaEngine::Impl::FindOrAddConv(const std::string& key) {
  auto it = convs.find(key);
  if (it != convs.end()) return it->second.get();
  auto c = std::make_unique<Conversation>();
  c->key = key;
  Conversation* raw = c.get();
  convs.emplace(key, std::move(c));
  return raw;
}

std::vector<llama_token> LlamaEngine::Impl::CachedTokens(const Conversation& c) {
  if (c.seq >= 0) return c.tokens;
  if (c.key.empty()) return {};
  const SnapshotHeader expect = Header(c.key);
  Result<std::vector<int32_t>> t =
      tiers->Tokens(c.key, [&expect](std::string_view blob) -> Result<std::vector<int32_t>> {
        TOKKI_ASSIGN_OR_RETURN(Snapshot s, DecodeSnapshot(blob, expect));
        return std::move(s.tokens);
      });
  if (!t.ok()) return {};
  return std::vector<llama_token>(t->begin(), t->end());
}

bool LlamaEngine::Impl::Setup(Request* r) {
  const std::vector<llama_token>& prompt = r->prompt.tokens;
  const int64_t now = NowSteadyUs();
  Conversation* c;
  if (r->req.conversation_key.empty()) {
    r->own_conv = std::make_unique<Conversation>();
    c = r->own_conv.get();
  } else {
    c = FindOrAddConv(r->req.conversation_key);
  }
  r->conv = c;
  c->busy = true;
  c->last_used_us = now;

  // Best cached prefix of the conversation itself.
  size_t conv_lcp = 0;
  if (c->seq >= 0) {
    conv_lcp = CommonPrefix(c->tokens, prompt);
  } else {
    conv_lcp = CommonPrefix(CachedTokens(*c), prompt);  // a host or disk snapshot
  }
  // Shared persona prefix.
  size_t plen = 0;
  std::shared_ptr<Prefix> p;
  const size_t n_static = r->prompt.n_static_tokens;
  if (!r->req.prefix_key.empty() && n_static > 0 && n_static < prompt.size()) {
    auto it = prefixes.find(r->req.prefix_key);
    if (it != prefixes.end()) {
      p = it->second;
      const bool same = p->tokens.size() == n_static &&
                        std::equal(p->tokens.begin(), p->tokens.end(), prompt.begin());
      if (p->pending && conv_lcp < n_static && p->owner != r->id) {
        // Someone is prefilling this persona right now: wait for it.
        r->phase = Phase::kWaitPrefix;
        return true;
      }
      if (!same && !p->pending) {
        DropPrefix(p);
        p.reset();
      } else if (same && p->seq >= 0) {
        plen = n_static;
      }
    }
    if (!p && conv_lcp < n_static) {
      p = std::make_shared<Prefix>();
      p->key = r->req.prefix_key;
      p->tokens.assign(prompt.begin(), prompt.begin() + static_cast<long>(n_static));
      p->pending = true;
      p->owner = r->id;
      prefixes[p->key] = p;
    }
  }

  if (c->seq < 0) {
    const int seq = AcquireSeq();
    if (seq < 0) {
      c->busy = false;
      if (p && p->pending && p->owner == r->id) prefixes.erase(p->key);
      return false;
    }
    if (conv_lcp > plen) {
      Restore(*c, seq);
    } else {
      if (!c->key.empty()) tiers->Drop(c->key);
      c->seq = seq;
      c->tokens.clear();
      st_resident++;
    }
    conv_lcp = CommonPrefix(c->tokens, prompt);
    // Making room may have dropped the persona prefix we meant to use.
    if (p && p->seq < 0) plen = 0;
  }
  size_t keep;
  if (plen > conv_lcp) {
    // Start from the shared persona prefix.
    TruncateConv(*c, 0);
    llama_memory_seq_rm(Mem(), c->seq, -1, -1);
    CopySeq(p->seq, c->seq, plen);
    c->tokens = p->tokens;
    if (opt.kv_unified) {  // the cells are shared, counted once
      c->prefix = p;
      c->shared_len = plen;
      p->refs++;
    }
    p->last_used_us = now;
    keep = plen;
  } else {
    keep = conv_lcp;
  }
  // At least one prompt token must be decoded to get logits.
  keep = std::min(keep, prompt.size() - 1);
  TruncateConv(*c, keep);
  r->n_past = keep;
  r->usage.prompt_tokens = static_cast<int>(prompt.size());
  r->usage.cached_tokens = static_cast<int>(keep);
  r->phase = Phase::kPrefill;
  st_prompt += static_cast<int64_t>(prompt.size());
  st_cached += static_cast<int64_t>(keep);
  return true;
}

void LlamaEngine::Impl::MaybeRegisterPrefix(Request* r) {
  if (r->req.prefix_key.empty()) return;
  auto it = prefixes.find(r->req.prefix_key);
  if (it == prefixes.end()) return;
  std::shared_ptr<Prefix> p = it->second;
  if (!p->pending || p->owner != r->id || r->n_past < p->tokens.size()) return;
  const int seq = AcquireSeq();
  p->pending = false;
  p->owner = 0;
  if (seq < 0) {
    prefixes.erase(it);
    return;
  }
  p->seq = seq;
  CopySeq(r->conv->seq, seq, p->tokens.size());
  p->last_used_us = NowSteadyUs();
  Conversation& c = *r->conv;
  if (opt.kv_unified && !c.prefix && c.tokens.size() >= p->tokens.size()) {
    c.prefix = p;
    c.shared_len = p->tokens.size();
    p->refs++;
  }
}

void LlamaEngine::Impl::ForgetNow(const std::string& key) {
  {
    MutexLock lock(&mu);
    replies.erase(key);
  }
  auto it = convs.find(key);
  if (it == convs.end()) {
    tiers->Drop(key);
    return;
  }
  Conversation& c = *it->second;
  if (c.busy) {
    c.forget_when_done = true;  // the running turn finishes; nothing is kept afterwards
    return;
  }
  if (c.seq >= 0) {
    ReleaseSeq(c);
    st_resident--;
  }
  tiers->Drop(key);
  convs.erase(it);
}

}  // namespace tokki::engine
