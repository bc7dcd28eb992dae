#include "chat/memory_service.h"

#include <algorithm>
#include <cmath>
#include <future>
#include <map>
#include <optional>
#include <unordered_set>

#include "chat/chat_service.h"  // SelectedPath
#include "core/clock.h"
#include "core/log.h"
#include "core/terms.h"
#include "core/text.h"

namespace tokki::chat {
namespace {

// ASCII-lower-cased text with runs of whitespace as one space: duplicates compare equal.
std::string Normalized(std::string_view text) {
  std::string out;
  bool space = false;
  for (char ch : Trim(text)) {
    if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch + 32) : ch);
  }
  return out;
}

std::string DisplayName(const store::User& u) {
  return u.display_name.empty() ? u.username : u.display_name;
}

}  // namespace

MemoryService::MemoryService(store::Store* store, engine::Engine* engine, MemoryOptions options)
    : store_(store), engine_(engine), options_(options) {
  if (engine_ && options_.dense_recall) {
    const engine::EmbeddingInfo info = engine_->Info().embedding;
    dense_ = info.available;
    embed_model_ = info.model.empty() ? "embedding" : info.model;
  }
  if (engine_ && (options_.summaries || dense_)) worker_ = std::thread([this] { Worker(); });
}

MemoryService::~MemoryService() { Shutdown(); }

Result<store::Conversation> MemoryService::Owned(Id user_id, Id conversation_id) {
  auto conv = store_->GetConversation(conversation_id);
  if (!conv.ok() || conv->user_id != user_id) return Status::NotFound("conversation not found");
  return conv;
}

Result<store::Message> MemoryService::RelationshipMessage(const store::Conversation& conv,
                                                         Id message_id) {
  auto msg = store_->GetMessage(message_id);
  if (!msg.ok()) return Status::NotFound("message not found");
  // The message may be in any of the relationship's conversations.
  auto where = store_->GetConversation(msg->conversation_id);
  if (!where.ok() || where->user_id != conv.user_id || where->character_id != conv.character_id)
    return Status::NotFound("message not found");
  return msg;
}

Result<store::Memory> MemoryService::RelationshipMemory(const store::Conversation& conv,
                                                        Id memory_id) {
  auto m = store_->GetMemory(memory_id);
  if (!m.ok() || m->user_id != conv.user_id || m->character_id != conv.character_id)
    return Status::NotFound("memory not found");
  return m;
}

Status MemoryService::CheckText(const std::string& content) const {
  if (Trim(content).empty()) return Status::InvalidArgument("a memory cannot be empty");
  if (!IsValidUtf8(content)) return Status::InvalidArgument("a memory must be valid UTF-8");
  const size_t n = Utf8Length(content);
  if (n > options_.max_chars)
    return Status::InvalidArgument("a memory is at most " + std::to_string(options_.max_chars) +
                                   " characters; this one has " + std::to_string(n));
  return Status::Ok();
}

Result<MemoryView> MemoryService::List(Id user_id, Id conversation_id) {
  TOKKI_ASSIGN_OR_RETURN(store::Conversation conv, Owned(user_id, conversation_id));
  MemoryView v;
  TOKKI_ASSIGN_OR_RETURN(v.items, store_->ListMemories(user_id, conv.character_id));
  TOKKI_ASSIGN_OR_RETURN(v.summary, store_->LatestSummary(user_id, conv.character_id));
  return v;
}

Result<store::Memory> MemoryService::AddNote(Id user_id, Id conversation_id, std::string content) {
  TOKKI_ASSIGN_OR_RETURN(store::Conversation conv, Owned(user_id, conversation_id));
  TOKKI_RETURN_IF_ERROR(CheckText(content));
  store::Memory m;
  m.user_id = user_id;
  m.character_id = conv.character_id;
  m.kind = store::MemoryKind::kNote;
  m.content = std::string(Trim(content));
  return store_->AddMemory(std::move(m), options_.max_items);
}

Result<store::Memory> MemoryService::Pin(Id user_id, Id conversation_id, Id message_id) {
  TOKKI_ASSIGN_OR_RETURN(store::Conversation conv, Owned(user_id, conversation_id));
  TOKKI_ASSIGN_OR_RETURN(store::Message msg, RelationshipMessage(conv, message_id));
  if (msg.role != "user" && msg.role != "assistant")
    return Status::InvalidArgument("only the user's and the character's messages can be pinned");
  const size_t n = Utf8Length(msg.content);
  if (n > options_.max_chars)
    return Status::InvalidArgument(
        "this message is too long to pin (" + std::to_string(n) + " characters; a memory is at most " +
        std::to_string(options_.max_chars) + "): write a memory note with the part to keep");
  if (Trim(msg.content).empty()) return Status::InvalidArgument("an empty message cannot be pinned");
  store::Memory m;
  m.user_id = user_id;
  m.character_id = conv.character_id;
  m.kind = store::MemoryKind::kPin;
  m.message_id = message_id;
  m.content = std::string(Trim(msg.content));
  return store_->AddMemory(std::move(m), options_.max_items);
}

Result<store::Memory> MemoryService::Edit(Id user_id, Id conversation_id, Id memory_id,
                                          std::string content) {
  TOKKI_ASSIGN_OR_RETURN(store::Conversation conv, Owned(user_id, conversation_id));
  TOKKI_RETURN_IF_ERROR(RelationshipMemory(conv, memory_id).status());
  TOKKI_RETURN_IF_ERROR(CheckText(content));
  TOKKI_RETURN_IF_ERROR(store_->UpdateMemory(memory_id, Trim(content)));
  return store_->GetMemory(memory_id);
}

Status MemoryService::Delete(Id user_id, Id conversation_id, Id memory_id) {
  TOKKI_ASSIGN_OR_RETURN(store::Conversation conv, Owned(user_id, conversation_id));
  TOKKI_RETURN_IF_ERROR(RelationshipMemory(conv, memory_id).status());
  return store_->DeleteMemory(memory_id);
}

Result<std::vector<store::Memory>> MemoryService::Reorder(Id user_id, Id conversation_id,
                                                          const std::vector<Id>& ids) {
  TOKKI_ASSIGN_OR_RETURN(store::Conversation conv, Owned(user_id, conversation_id));
  TOKKI_RETURN_IF_ERROR(store_->ReorderMemories(user_id, conv.character_id, ids));
  return store_->ListMemories(user_id, conv.character_id);
}

Result<store::MemorySummary> MemoryService::SetSummary(Id user_id, Id conversation_id,
                                                       std::string content) {
  TOKKI_ASSIGN_OR_RETURN(store::Conversation conv, Owned(user_id, conversation_id));
  if (!IsValidUtf8(content)) return Status::InvalidArgument("the summary must be valid UTF-8");
  const size_t n = Utf8Length(content);
  if (n > options_.max_summary_chars)
    return Status::InvalidArgument("the summary is at most " +
                                   std::to_string(options_.max_summary_chars) +
                                   " characters; this one has " + std::to_string(n));
  store::MemorySummary s;
  s.user_id = user_id;
  s.character_id = conv.character_id;
  s.content = std::string(Trim(content));
  s.edited = true;
  TOKKI_ASSIGN_OR_RETURN(auto latest, store_->LatestSummary(user_id, conv.character_id));
  if (latest) s.covers_until_message_id = latest->covers_until_message_id;
  return store_->AddSummary(std::move(s));
}

Status MemoryService::Forget(Id user_id, Id conversation_id, Id message_id) {
  TOKKI_ASSIGN_OR_RETURN(store::Conversation conv, Owned(user_id, conversation_id));
  TOKKI_RETURN_IF_ERROR(RelationshipMessage(conv, message_id).status());
  TOKKI_RETURN_IF_ERROR(store_->ForgetMessage(message_id));
  MutexLock lock(&mu_);
  vectors_.erase({user_id, conv.character_id});  // reloaded without it
  return Status::Ok();
}

std::vector<persona::RecalledPassage> MemoryService::Rank(std::vector<store::RecallHit> hits,
                                                          int64_t now_ms) {
  double best = 0;
  for (const auto& h : hits) best = std::max(best, h.score);
  struct Scored {
    double score;
    const store::RecallHit* hit;
  };
  std::vector<Scored> scored;
  for (const auto& h : hits) {
    const store::Message& m = h.message;
    const double bm25 = best > 0 ? h.score / best : 0;
    // Old facts stay findable: recency only breaks near-ties (1.0 today, 0.75 at the limit).
    const double age_days = std::max<double>(0, static_cast<double>(now_ms - m.created_at_ms)) / 86400000.0;
    const double recency = 0.75 + 0.25 * std::exp(-age_days / 90.0);
    // What the user said about themselves matters most; rated replies more than others;
    // a one-word message carries little.
    double importance = m.role == "user" ? 1.15 : 1.0;
    if (m.rating >= 4) importance *= 1.25;
    if (Utf8Length(m.content) < 16) importance *= 0.8;
    scored.push_back({bm25 * recency * importance, &h});
  }
  std::stable_sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) {
    return a.score != b.score ? a.score > b.score : a.hit->message.id > b.hit->message.id;
  });
  std::vector<persona::RecalledPassage> out;
  std::unordered_set<std::string> seen;
  for (const Scored& s : scored) {
    const store::Message& m = s.hit->message;
    if (!seen.insert(Normalized(m.content)).second) continue;
    out.push_back({m.id, m.conversation_id, m.created_at_ms, m.role, m.content});
  }
  return out;
}

Status MemoryService::Prepare(const store::Conversation& conv, std::string last_user,
                              std::string last_reply, persona::PromptInput* in) {
  TOKKI_ASSIGN_OR_RETURN(auto memories, store_->ListMemories(conv.user_id, conv.character_id));
  for (auto& m : memories) in->pinned_memories.push_back(std::move(m.content));
  TOKKI_ASSIGN_OR_RETURN(auto summary, store_->LatestSummary(conv.user_id, conv.character_id));
  if (summary) in->summary = summary->content;
  if (summary && !summary->edited) {
    MutexLock lock(&mu_);
    auto it = held_.find(conv.id);
    if (it != held_.end() && it->second.pair == Pair{conv.user_id, conv.character_id} &&
        it->second.version < summary->version)
      in->summary = it->second.content;  // until the window moves (AfterPrompt)
  }
  TOKKI_ASSIGN_OR_RETURN(int64_t n_all,
                         store_->CountRelationshipMessages(conv.user_id, conv.character_id));
  in->recall_always = n_all > static_cast<int64_t>(in->history.size()) + 1;
  in->recall_max_tokens = options_.recall_max_tokens;
  if (dense_) QueueEmbedding({conv.user_id, conv.character_id});
  in->recall = [this, conv, last_user = std::move(last_user),
                last_reply = std::move(last_reply)](std::span<const persona::PromptMessage> window) {
    return Recall(conv, last_user, last_reply, window);
  };
  return Status::Ok();
}

std::vector<persona::RecalledPassage> MemoryService::Search(const store::Conversation& conv,
                                                            const std::vector<std::string>& terms,
                                                            const std::vector<Id>& in_window) {
  if (terms.empty()) return {};
  auto hits = store_->SearchMessages(conv.user_id, conv.character_id, terms, in_window,
                                     options_.recall_candidates);
  if (!hits.ok()) {
    TOKKI_LOG(warn, "recall failed", "conversation", conv.id, "error", hits.status().ToString());
    return {};
  }
  return Rank(std::move(hits).value(), NowUnixMs());
}

std::vector<std::string> MemoryService::NewTerms(std::span<const persona::PromptMessage> window,
                                                 const std::vector<std::string>& terms) {
  // The newest user message and the reply before it are what the query is made of.
  size_t skip_user = window.size(), skip_reply = window.size();
  for (size_t i = window.size(); i-- > 0;) {
    if (skip_user == window.size()) {
      if (window[i].role == "user") skip_user = i;
    } else if (window[i].role == "assistant") {
      skip_reply = i;
      break;
    }
  }
  std::unordered_set<std::string_view> wanted(terms.begin(), terms.end());
  std::unordered_set<std::string_view> held;
  for (size_t i = 0; i < window.size() && held.size() < wanted.size(); ++i) {
    if (i == skip_user || i == skip_reply) continue;
    for (const std::string& t : QueryTerms(window[i].content, SIZE_MAX))
      if (auto w = wanted.find(t); w != wanted.end()) held.insert(*w);
  }
  std::vector<std::string> out;
  for (const std::string& t : terms)
    if (!held.count(t)) out.push_back(t);
  return out;
}

std::vector<std::string> MemoryService::SpecificTerms(const store::Conversation& conv,
                                                      std::vector<std::string> terms) {
  if (terms.empty()) return terms;
  // +1: the message being answered is indexed too.
  const int max = options_.recall_term_max_messages + 1;
  auto counts = store_->CountMessagesWithTerms(conv.user_id, conv.character_id, terms, max + 1);
  if (!counts.ok()) {
    TOKKI_LOG(warn, "recall failed", "conversation", conv.id, "error", counts.status().ToString());
    return {};
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < terms.size(); ++i)
    if ((*counts)[i] >= 1 && (*counts)[i] <= max) out.push_back(std::move(terms[i]));
  return out;
}

std::vector<persona::RecalledPassage> MemoryService::Recall(
    const store::Conversation& conv, const std::string& last_user, const std::string& last_reply,
    std::span<const persona::PromptMessage> window) {
  std::vector<Id> in_window;
  for (const auto& m : window)
    if (m.source_id != kNoId) in_window.push_back(m.source_id);
  // Only specific terms the window does not already hold ask for recall: what the prompt
  // shows needs no reminder, a word in many old messages singles none of them out, and a
  // turn that brings up nothing new costs no recalled tokens.
  const std::vector<std::string> user_terms =
      SpecificTerms(conv, NewTerms(window, QueryTerms(last_user)));
  // The user's message decides whether to recall; the previous reply (which the model
  // wrote, and with the demo model is noise) only adds to a recall the message asked for,
  // so its terms are looked at only then (or when there is no message).
  std::vector<std::string> reply_terms;
  if (!user_terms.empty() || Trim(last_user).empty())
    for (auto& t : SpecificTerms(conv, NewTerms(window, QueryTerms(last_reply))))
      if (std::find(user_terms.begin(), user_terms.end(), t) == user_terms.end())
        reply_terms.push_back(std::move(t));
  if (user_terms.empty() && reply_terms.empty() && !dense_) return {};
  std::map<Id, persona::RecalledPassage> by_id;
  auto ids_of = [&](std::vector<persona::RecalledPassage> ranked) {
    std::vector<Id> ids;
    for (auto& p : ranked) {
      ids.push_back(p.message_id);
      by_id.emplace(p.message_id, std::move(p));
    }
    return ids;
  };
  std::vector<std::pair<std::vector<Id>, double>> rankings;
  rankings.push_back({ids_of(Search(conv, user_terms, in_window)), 1.0});
  rankings.push_back({ids_of(Search(conv, reply_terms, in_window)), 0.5});
  if (dense_) {  // paraphrases share no words: dense recall is not gated
    const std::string& query = Trim(last_user).empty() ? last_reply : last_user;
    rankings.push_back({Nearest({conv.user_id, conv.character_id}, query, in_window), 1.0});
  }
  std::vector<persona::RecalledPassage> fused;
  std::unordered_set<std::string> seen;
  for (Id id : Fuse(rankings)) {
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      auto m = store_->GetMessage(id);  // a dense-only hit
      if (!m.ok() || m->forgotten) continue;
      it = by_id.emplace(id, persona::RecalledPassage{m->id, m->conversation_id, m->created_at_ms,
                                                      m->role, m->content})
               .first;
    }
    if (!seen.insert(Normalized(it->second.text)).second) continue;
    fused.push_back(it->second);
  }
  return WithoutNearDuplicates(std::move(fused));
}

std::vector<Id> MemoryService::Fuse(const std::vector<std::pair<std::vector<Id>, double>>& rankings) {
  constexpr double kK = 60;
  std::map<Id, double> score;
  for (const auto& [ids, weight] : rankings)
    for (size_t i = 0; i < ids.size(); ++i)
      score[ids[i]] += weight / (kK + static_cast<double>(i + 1));
  std::vector<std::pair<double, Id>> order;
  for (auto& [id, sc] : score) order.push_back({sc, id});
  std::sort(order.begin(), order.end(), [](const auto& x, const auto& y) {
    return x.first != y.first ? x.first > y.first : x.second > y.second;
  });
  std::vector<Id> out;
  for (auto& [sc, id] : order) out.push_back(id);
  return out;
}

std::vector<persona::RecalledPassage> MemoryService::WithoutNearDuplicates(
    std::vector<persona::RecalledPassage> passages) {
  std::vector<persona::RecalledPassage> out;
  std::vector<std::unordered_set<std::string>> kept;
  for (auto& p : passages) {
    std::unordered_set<std::string> terms;
    const std::string all = IndexTerms(p.text);
    size_t start = 0;
    while (start < all.size()) {
      size_t end = all.find(' ', start);
      if (end == std::string::npos) end = all.size();
      terms.insert(all.substr(start, end - start));
      start = end + 1;
    }
    bool near = false;
    for (const auto& k : kept) {
      size_t common = 0;
      for (const auto& t : terms) common += k.count(t);
      const size_t uni = terms.size() + k.size() - common;
      if (uni > 0 && static_cast<double>(common) / static_cast<double>(uni) >= kNearDuplicate) {
        near = true;
        break;
      }
    }
    if (near) continue;
    kept.push_back(std::move(terms));
    out.push_back(std::move(p));
  }
  return out;
}

std::shared_ptr<MemoryService::VectorSet> MemoryService::Vectors(Pair pair) {
  std::shared_ptr<VectorSet> set;
  {
    MutexLock lock(&mu_);
    auto& slot = vectors_[pair];
    if (!slot) slot = std::make_shared<VectorSet>();
    set = slot;
    const int64_t now = ++use_clock_;
    {
      MutexLock set_lock(&set->mu);
      set->last_used = now;
    }
    while (vectors_.size() > kMaxCachedRelationships) {
      auto oldest = vectors_.end();
      int64_t oldest_use = INT64_MAX;
      for (auto it = vectors_.begin(); it != vectors_.end(); ++it) {
        MutexLock other(&it->second->mu);
        if (it->second != set && it->second->last_used < oldest_use) {
          oldest_use = it->second->last_used;
          oldest = it;
        }
      }
      if (oldest == vectors_.end()) break;
      vectors_.erase(oldest);
    }
  }
  MutexLock set_lock(&set->mu);
  auto fresh = store_->RelationshipVectors(pair.first, pair.second, embed_model_, set->last_id);
  if (!fresh.ok()) return set;
  for (auto& v : *fresh) {
    if (set->dim == 0) set->dim = v.vector.size();
    if (v.vector.size() != set->dim) continue;  // another model's size: skipped
    set->ids.push_back(v.message_id);
    set->data.insert(set->data.end(), v.vector.begin(), v.vector.end());
    set->last_id = v.message_id;
  }
  return set;
}

std::vector<Id> MemoryService::Nearest(Pair pair, const std::string& query,
                                       const std::vector<Id>& in_window) {
  auto q = engine_->Embed({query});
  if (!q.ok() || q->empty()) return {};
  const std::vector<float>& qv = (*q)[0];
  std::shared_ptr<VectorSet> set = Vectors(pair);
  const std::unordered_set<Id> skip(in_window.begin(), in_window.end());
  std::vector<std::pair<float, Id>> scored;
  {
    MutexLock lock(&set->mu);
    if (set->dim != qv.size()) return {};
    for (size_t i = 0; i < set->ids.size(); ++i) {
      if (skip.count(set->ids[i])) continue;
      const float* row = set->data.data() + i * set->dim;
      float dot = 0;
      for (size_t k = 0; k < set->dim; ++k) dot += row[k] * qv[k];
      scored.push_back({dot, set->ids[i]});
    }
  }
  const size_t n = std::min(scored.size(), static_cast<size_t>(options_.dense_candidates));
  std::partial_sort(scored.begin(), scored.begin() + static_cast<long>(n), scored.end(),
                    [](const auto& a, const auto& b) {
                      return a.first != b.first ? a.first > b.first : a.second > b.second;
                    });
  std::vector<Id> out;
  for (size_t i = 0; i < n; ++i) out.push_back(scored[i].second);
  return out;
}

void MemoryService::QueueEmbedding(Pair pair) {
  MutexLock lock(&mu_);
  if (stopping_ || !embed_pending_.insert(pair).second) return;
  embed_queue_.push_back(pair);
  cv_.SignalAll();
}

Status MemoryService::EmbedBacklog(Pair pair) {
  for (;;) {
    {
      MutexLock lock(&mu_);
      if (stopping_) return Status::Ok();
    }
    TOKKI_ASSIGN_OR_RETURN(auto todo, store_->MessagesWithoutVector(pair.first, pair.second,
                                                                    embed_model_, options_.embed_batch));
    if (todo.empty()) return Status::Ok();
    std::vector<std::string> texts;
    for (const auto& m : todo) texts.push_back(std::string(Utf8Truncate(m.content, 2000)));
    TOKKI_ASSIGN_OR_RETURN(engine::Embeddings vectors, engine_->Embed(texts));
    if (vectors.size() != todo.size()) return Status::Internal("the embedder returned a wrong count");
    std::vector<store::MessageVector> rows;
    for (size_t i = 0; i < todo.size(); ++i) rows.push_back({todo[i].id, std::move(vectors[i])});
    TOKKI_RETURN_IF_ERROR(store_->PutMessageVectors(embed_model_, rows));
    MutexLock lock(&mu_);
    stats_.messages_embedded += static_cast<int64_t>(rows.size());
  }
}

bool MemoryService::AfterPrompt(const store::Conversation& conv, const std::vector<Id>& path,
                                int n_dropped, persona::PromptInput* in, bool dry_run) {
  const Pair pair{conv.user_id, conv.character_id};
  const Id window_first =
      n_dropped >= 0 && static_cast<size_t>(n_dropped) < path.size() ? path[static_cast<size_t>(n_dropped)] : kNoId;
  auto latest = store_->LatestSummary(conv.user_id, conv.character_id);
  if (!latest.ok()) return false;
  const std::string latest_content = *latest ? (*latest)->content : std::string();
  {
    MutexLock lock(&mu_);
    auto it = held_.find(conv.id);
    const bool moved = it == held_.end() || it->second.window_first != window_first;
    if (in->summary != latest_content && moved) {
      in->summary = latest_content;
      return true;
    }
    if (dry_run) return false;
    HeldSummary h{pair, window_first, 0, in->summary, ++use_clock_};
    if (in->summary == latest_content)
      h.version = *latest ? (*latest)->version : 0;
    else if (it != held_.end())
      h.version = it->second.version;
    if (it == held_.end() && held_.size() >= kMaxHeldSummaries) {
      auto oldest = held_.begin();
      for (auto j = held_.begin(); j != held_.end(); ++j)
        if (j->second.used < oldest->second.used) oldest = j;
      held_.erase(oldest);
    }
    held_[conv.id] = std::move(h);
  }
  if (!engine_ || !options_.summaries || n_dropped <= 0 ||
      static_cast<size_t>(n_dropped) > path.size())
    return false;
  const Id until = path[static_cast<size_t>(n_dropped) - 1];
  if (until != kNoId) QueueSummary(conv, until, *latest);
  return false;
}

void MemoryService::QueueSummary(const store::Conversation& conv, Id until,
                                 const std::optional<store::MemorySummary>& latest) {
  if (latest && latest->covers_until_message_id >= until) return;
  MutexLock lock(&mu_);
  if (stopping_ || !pending_.insert({conv.user_id, conv.character_id}).second) return;
  queue_.push_back({conv.user_id, conv.character_id, conv.id, until});
  ++stats_.summary_jobs_queued;
  cv_.SignalAll();
}

void MemoryService::Worker() {
  for (;;) {
    Job job;
    std::optional<Pair> embed;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty() && embed_queue_.empty()) cv_.Wait(&mu_);
      if (stopping_) return;
      running_ = true;
      if (!embed_queue_.empty()) {
        embed = embed_queue_.front();
        embed_queue_.pop_front();
      } else {
        job = queue_.front();
        queue_.pop_front();
      }
    }
    if (embed) {
      Status st = EmbedBacklog(*embed);
      if (!st.ok())
        TOKKI_LOG(warn, "embedding messages failed", "user", embed->first, "character",
                  embed->second, "error", st.ToString());
      MutexLock lock(&mu_);
      running_ = false;
      embed_pending_.erase(*embed);
      cv_.SignalAll();
      continue;
    }
    Status st = RunJob(job);
    if (!st.ok())
      TOKKI_LOG(warn, "summary failed", "user", job.user_id, "character", job.character_id,
                "error", st.ToString());
    MutexLock lock(&mu_);
    running_ = false;
    current_.reset();
    pending_.erase({job.user_id, job.character_id});
    if (st.ok())
      ++stats_.summaries_written;
    else
      ++stats_.summaries_failed;
    cv_.SignalAll();
  }
}

Status MemoryService::RunJob(const Job& job) {
  TOKKI_ASSIGN_OR_RETURN(store::Character character, store_->GetCharacter(job.character_id));
  TOKKI_ASSIGN_OR_RETURN(store::User user, store_->GetUser(job.user_id));
  TOKKI_ASSIGN_OR_RETURN(auto latest, store_->LatestSummary(job.user_id, job.character_id));
  const Id from = latest ? latest->covers_until_message_id : kNoId;
  TOKKI_ASSIGN_OR_RETURN(auto all, store_->ListMessages(job.conversation_id));
  const std::string user_name = DisplayName(user);
  // The newest messages that left the window and the summary does not cover yet, as many
  // as fit summary_input_tokens. A longer backlog (a long chat before memory was on, or a
  // summary that lagged) is not worked through chunk by chunk: the summary moves on with
  // the window, and what it skipped stays within reach of recall.
  std::vector<std::string> lines;  // newest first
  int n_tokens = 0;
  Id covered = kNoId;
  const std::vector<PathMessage> path = SelectedPath(all);
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    const store::Message& m = it->message;
    if (m.id <= from) break;
    if (m.id > job.until_message_id || m.forgotten) continue;
    if (m.role != "user" && m.role != "assistant") continue;
    std::string line = (m.role == "user" ? user_name : character.name) + ": " + m.content + "\n";
    const int n = engine_->CountTokens(line);
    if (covered != kNoId && n_tokens + n > options_.summary_input_tokens) break;
    n_tokens += n;
    lines.push_back(std::move(line));
    if (covered == kNoId) covered = m.id;
  }
  if (covered == kNoId) return Status::Ok();  // nothing new left the window
  std::string part;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) part += *it;

  engine::GenerateRequest req;
  req.user_key = "user:" + std::to_string(job.user_id);
  req.priority = engine::Priority::kBackground;
  req.messages.push_back(
      {"system", "You keep the running summary of the story between " + character.name +
                     " and " + user_name + ". Rewrite the summary so that it also covers what "
                     "happened next: who " + user_name + " is, facts they shared (names, dates, "
                     "preferences, plans), events, and how the relationship feels. Third person, "
                     "past tense, at most 150 words. Write only the summary."});
  req.messages.push_back(
      {"user", "Summary so far:\n" + (latest && !latest->content.empty() ? latest->content : "(none)") +
                   "\n\nWhat happened next:\n" + part});
  req.sampling.max_tokens = options_.summary_max_tokens;
  req.sampling.temperature = 0.3f;
  auto text = std::make_shared<std::string>();
  auto done = std::make_shared<std::promise<Result<engine::GenerateResult>>>();
  auto future = done->get_future();
  engine::GenerateCallbacks cb;
  cb.on_token = [text](std::string_view t) { text->append(t); };
  cb.on_done = [done](Result<engine::GenerateResult> r) { done->set_value(std::move(r)); };
  {
    TOKKI_ASSIGN_OR_RETURN(auto gen, engine_->Submit(std::move(req), std::move(cb)));
    MutexLock lock(&mu_);
    current_ = gen;
    if (stopping_) gen->Cancel();
  }
  TOKKI_ASSIGN_OR_RETURN(engine::GenerateResult result, future.get());
  if (result.finish_reason == engine::FinishReason::kCancelled)
    return Status::Unavailable("the summary was cancelled");
  std::string summary(Trim(*text));
  if (summary.empty()) return Status::Internal("the model wrote an empty summary");
  if (Utf8Length(summary) > options_.max_summary_chars)
    summary = std::string(Utf8Truncate(summary, options_.max_summary_chars));
  store::MemorySummary s;
  s.user_id = job.user_id;
  s.character_id = job.character_id;
  s.content = std::move(summary);
  s.covers_until_message_id = covered;
  return store_->AddSummary(std::move(s)).status();
}

void MemoryService::WaitIdle() {
  MutexLock lock(&mu_);
  while (!stopping_ && (running_ || !queue_.empty() || !embed_queue_.empty())) cv_.Wait(&mu_);
}

void MemoryService::Shutdown() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    queue_.clear();
    embed_queue_.clear();
    if (current_) current_->Cancel();
    cv_.SignalAll();
  }
  if (worker_.joinable()) worker_.join();
}

MemoryStats MemoryService::Stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

}  // namespace tokki::chat
