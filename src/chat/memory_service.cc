#include "chat/memory_service.h"

#include <algorithm>
#include <cmath>
#include <future>
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
  if (engine_ && options_.summaries) worker_ = std::thread([this] { Worker(); });
}

MemoryService::~MemoryService() { Shutdown(); }

Result<store::Conversation> MemoryService::Owned(Id user_id, Id conversation_id) {
  auto conv = store_->GetConversation(conversation_id);
  if (!conv.ok() || conv->user_id != user_id) return Status::NotFound("conversation not found");
  return conv;
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
  auto msg = store_->GetMessage(message_id);
  if (!msg.ok()) return Status::NotFound("message not found");
  // The message may be in any of the relationship's conversations.
  auto where = store_->GetConversation(msg->conversation_id);
  if (!where.ok() || where->user_id != user_id || where->character_id != conv.character_id)
    return Status::NotFound("message not found");
  if (msg->role != "user" && msg->role != "assistant")
    return Status::InvalidArgument("only the user's and the character's messages can be pinned");
  const size_t n = Utf8Length(msg->content);
  if (n > options_.max_chars)
    return Status::InvalidArgument(
        "this message is too long to pin (" + std::to_string(n) + " characters; a memory is at most " +
        std::to_string(options_.max_chars) + "): write a memory note with the part to keep");
  if (Trim(msg->content).empty()) return Status::InvalidArgument("an empty message cannot be pinned");
  store::Memory m;
  m.user_id = user_id;
  m.character_id = conv.character_id;
  m.kind = store::MemoryKind::kPin;
  m.message_id = message_id;
  m.content = std::string(Trim(msg->content));
  return store_->AddMemory(std::move(m), options_.max_items);
}

Result<store::Memory> MemoryService::Edit(Id user_id, Id conversation_id, Id memory_id,
                                          std::string content) {
  TOKKI_ASSIGN_OR_RETURN(store::Conversation conv, Owned(user_id, conversation_id));
  auto m = store_->GetMemory(memory_id);
  if (!m.ok() || m->user_id != user_id || m->character_id != conv.character_id)
    return Status::NotFound("memory not found");
  TOKKI_RETURN_IF_ERROR(CheckText(content));
  TOKKI_RETURN_IF_ERROR(store_->UpdateMemory(memory_id, Trim(content)));
  return store_->GetMemory(memory_id);
}

Status MemoryService::Delete(Id user_id, Id conversation_id, Id memory_id) {
  TOKKI_ASSIGN_OR_RETURN(store::Conversation conv, Owned(user_id, conversation_id));
  auto m = store_->GetMemory(memory_id);
  if (!m.ok() || m->user_id != user_id || m->character_id != conv.character_id)
    return Status::NotFound("memory not found");
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
  auto msg = store_->GetMessage(message_id);
  if (!msg.ok()) return Status::NotFound("message not found");
  auto where = store_->GetConversation(msg->conversation_id);
  if (!where.ok() || where->user_id != user_id || where->character_id != conv.character_id)
    return Status::NotFound("message not found");
  return store_->ForgetMessage(message_id);
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

Status MemoryService::Prepare(const store::Conversation& conv, std::string query,
                              persona::PromptInput* in) {
  TOKKI_ASSIGN_OR_RETURN(auto memories, store_->ListMemories(conv.user_id, conv.character_id));
  for (auto& m : memories) in->pinned_memories.push_back(std::move(m.content));
  TOKKI_ASSIGN_OR_RETURN(auto summary, store_->LatestSummary(conv.user_id, conv.character_id));
  if (summary) in->summary = summary->content;
  TOKKI_ASSIGN_OR_RETURN(int64_t n_all,
                         store_->CountRelationshipMessages(conv.user_id, conv.character_id));
  in->recall_always = n_all > static_cast<int64_t>(in->history.size()) + 1;
  in->recall_max_tokens = options_.recall_max_tokens;
  std::vector<std::string> terms = QueryTerms(query);
  if (terms.empty()) return Status::Ok();
  store::Store* store = store_;
  const int limit = options_.recall_candidates;
  in->recall = [store, conv, terms = std::move(terms), limit](const std::vector<Id>& in_window) {
    auto hits = store->SearchMessages(conv.user_id, conv.character_id, terms, in_window, limit);
    if (!hits.ok()) {
      TOKKI_LOG(warn, "recall failed", "conversation", conv.id, "error", hits.status().ToString());
      return std::vector<persona::RecalledPassage>();
    }
    return Rank(std::move(hits).value(), NowUnixMs());
  };
  return Status::Ok();
}

void MemoryService::AfterPrompt(const store::Conversation& conv,
                                const std::vector<store::Message>& path, int n_dropped) {
  if (!engine_ || !options_.summaries || n_dropped <= 0 ||
      static_cast<size_t>(n_dropped) > path.size())
    return;
  const Id until = path[static_cast<size_t>(n_dropped) - 1].id;
  if (until == kNoId) return;
  auto latest = store_->LatestSummary(conv.user_id, conv.character_id);
  if (!latest.ok() || (*latest && (*latest)->covers_until_message_id >= until)) return;
  MutexLock lock(&mu_);
  if (stopping_ || !pending_.insert({conv.user_id, conv.character_id}).second) return;
  queue_.push_back({conv.user_id, conv.character_id, conv.id, until});
  ++stats_.summary_jobs_queued;
  cv_.SignalAll();
}

void MemoryService::Worker() {
  for (;;) {
    Job job;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) cv_.Wait(&mu_);
      if (stopping_) return;
      job = queue_.front();
      queue_.pop_front();
      running_ = true;
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
  std::string part;
  int n_tokens = 0;
  Id covered = kNoId;
  for (const PathMessage& pm : SelectedPath(all)) {
    const store::Message& m = pm.message;
    if (m.id <= from || m.id > job.until_message_id || m.forgotten) continue;
    if (m.role != "user" && m.role != "assistant") continue;
    std::string line = (m.role == "user" ? user_name : character.name) + ": " + m.content + "\n";
    const int n = engine_->CountTokens(line);
    if (covered != kNoId && n_tokens + n > options_.summary_input_tokens) break;
    n_tokens += n;
    part += line;
    covered = m.id;
  }
  if (covered == kNoId) return Status::Ok();  // nothing new left the window

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
  while (!stopping_ && (running_ || !queue_.empty())) cv_.Wait(&mu_);
}

void MemoryService::Shutdown() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    queue_.clear();
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
