#include "chat/chat_service.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "chat/character_rules.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/text.h"
#include "persona/content_policy.h"
#include "persona/macros.h"

namespace tokki::chat {

using store::Message;
using store::MessageStatus;

struct ChatService::Active {
  store::Conversation conversation;
  std::shared_ptr<ReplyStream> stream;
  Mutex mu;
  std::shared_ptr<engine::Generation> generation TOKKI_GUARDED_BY(mu);
  Message message TOKKI_GUARDED_BY(mu);  // content grows as tokens arrive
  bool dirty TOKKI_GUARDED_BY(mu) = false;
  // The operator's reply check (when on): holds back text that may still become a match.
  std::unique_ptr<persona::StreamingPolicyChecker> checker TOKKI_GUARDED_BY(mu);
  bool filtered TOKKI_GUARDED_BY(mu) = false;  // the policy stopped this reply

  // Text the client may see now (the checker's released text), appended under mu.
  void Accept(std::string_view text) TOKKI_REQUIRES(mu) {
    message.content += text;
    dirty = true;
    if (!text.empty()) stream->PushToken(std::string(text));
  }
};

std::vector<PathMessage> SelectedPath(const std::vector<Message>& all) {
  std::map<Id, std::vector<const Message*>> children;
  for (auto& m : all) children[m.parent_id].push_back(&m);
  std::vector<PathMessage> path;
  Id parent = kNoId;
  for (;;) {
    auto it = children.find(parent);
    if (it == children.end() || it->second.empty()) break;
    const Message* chosen = it->second.back();
    for (auto* m : it->second)
      if (m->selected) chosen = m;
    path.push_back(PathMessage{*chosen, static_cast<int>(it->second.size())});
    parent = chosen->id;
  }
  return path;
}

namespace {

std::vector<Message> ToMessages(std::vector<PathMessage> path) {
  std::vector<Message> out;
  out.reserve(path.size());
  for (auto& p : path) out.push_back(std::move(p.message));
  return out;
}

}  // namespace

ChatService::ChatService(store::Store* store, engine::Engine* engine, UserEvents* events,
                         PromptBuilder prompt_builder, ChatOptions options)
    : store_(store),
      engine_(engine),
      events_(events),
      prompt_builder_(std::move(prompt_builder)),
      options_(options) {
  flusher_ = std::thread([this] { FlusherLoop(); });
}

ChatService::~ChatService() { Shutdown(); }

Result<store::Conversation> ChatService::OwnedConversation(Id user_id, Id conversation_id) {
  auto conv = store_->GetConversation(conversation_id);
  if (!conv.ok()) return conv.status();
  if (conv->user_id != user_id) return Status::NotFound("conversation not found");
  return conv;
}

Result<Message> ChatService::OwnedMessage(Id user_id, Id conversation_id, Id message_id) {
  TOKKI_RETURN_IF_ERROR(OwnedConversation(user_id, conversation_id).status());
  auto m = store_->GetMessage(message_id);
  if (!m.ok()) return m.status();
  if (m->conversation_id != conversation_id) return Status::NotFound("message not found");
  return m;
}

Result<store::Conversation> ChatService::StartConversation(Id user_id, Id character_id) {
  TOKKI_ASSIGN_OR_RETURN(store::Character ch, store_->GetCharacter(character_id));
  if (!CanSeeCharacter(ch, user_id)) return Status::NotFound("character not found");
  TOKKI_ASSIGN_OR_RETURN(store::User user, store_->GetUser(user_id));
  const std::string user_name = user.display_name.empty() ? user.username : user.display_name;
  store::Conversation conv;
  conv.user_id = user_id;
  conv.character_id = character_id;
  conv.title = ch.name;
  TOKKI_ASSIGN_OR_RETURN(conv, store_->CreateConversation(conv));
  std::vector<std::string> greetings;
  if (!ch.first_mes.empty()) greetings.push_back(ch.first_mes);
  for (auto& g : ch.alternate_greetings)
    if (!g.empty()) greetings.push_back(g);
  for (size_t i = 0; i < greetings.size(); ++i) {
    Message m;
    m.conversation_id = conv.id;
    m.role = "assistant";
    persona::MacroContext macros;
    macros.char_name = ch.name;
    macros.user_name = user_name;
    macros.pick_seed = persona::MixSeed(static_cast<uint64_t>(conv.id), 0x70CC1);
    macros.random_seed = macros.pick_seed;
    m.content = persona::ExpandMacros(greetings[i], macros, i);
    m.selected = i == 0;
    m.finish_reason = "greeting";
    TOKKI_RETURN_IF_ERROR(store_->AppendMessage(m).status());
  }
  if (!greetings.empty()) {
    // Keep the first greeting selected (appending later ones must not steal selection).
    auto all = store_->ListMessages(conv.id);
    if (all.ok() && !all->empty()) TOKKI_RETURN_IF_ERROR(store_->SelectMessage((*all)[0].id));
  }
  return store_->GetConversation(conv.id);
}

Result<store::Conversation> ChatService::FindOrStartConversation(Id user_id, Id character_id) {
  TOKKI_ASSIGN_OR_RETURN(auto found, store_->FindConversation(user_id, character_id));
  if (found) return *found;
  return StartConversation(user_id, character_id);
}

Result<store::Conversation> ChatService::GetConversation(Id user_id, Id conversation_id) {
  return OwnedConversation(user_id, conversation_id);
}

Status ChatService::DeleteConversation(Id user_id, Id conversation_id) {
  TOKKI_RETURN_IF_ERROR(OwnedConversation(user_id, conversation_id).status());
  static_cast<void>(Stop(user_id, conversation_id));  // nothing running is fine
  if (engine_) engine_->Forget("conv:" + std::to_string(conversation_id));
  return store_->DeleteConversation(conversation_id);
}

namespace {
ConversationView MakeView(store::Store* store, const store::Conversation& conv) {
  ConversationView v;
  v.conversation = conv;
  if (auto ch = store->GetCharacter(conv.character_id); ch.ok()) {
    v.character = *ch;
    if (auto reason = ReadOnlyReason(*ch, conv.user_id)) v.read_only = std::string(*reason);
  }
  if (auto all = store->ListMessages(conv.id); all.ok()) {
    auto path = SelectedPath(*all);
    if (!path.empty()) v.last = path.back();
  }
  return v;
}
}  // namespace

Result<ConversationView> ChatService::View(Id user_id, Id conversation_id) {
  TOKKI_ASSIGN_OR_RETURN(store::Conversation conv, OwnedConversation(user_id, conversation_id));
  return MakeView(store_, conv);
}

Result<std::vector<ConversationView>> ChatService::List(Id user_id) {
  TOKKI_ASSIGN_OR_RETURN(auto list, store_->ListConversations(user_id));
  std::vector<ConversationView> out;
  out.reserve(list.size());
  for (auto& c : list) out.push_back(MakeView(store_, c));
  return out;
}

Result<std::vector<FriendView>> ChatService::Friends(Id user_id) {
  TOKKI_ASSIGN_OR_RETURN(auto swipes, store_->UserSwipes(user_id));
  std::vector<FriendView> out;
  for (auto& sw : swipes) {
    if (sw.action == store::SwipeAction::kPass) continue;
    auto ch = store_->GetCharacter(sw.character_id);
    if (!ch.ok()) continue;
    FriendView f;
    f.character = *ch;
    f.superlike = sw.action == store::SwipeAction::kSuperlike;
    f.updated_at_ms = sw.created_at_ms;
    auto conv = store_->FindConversation(user_id, sw.character_id);
    if (conv.ok() && *conv) {
      f.conversation = MakeView(store_, **conv);
      f.updated_at_ms = std::max(f.updated_at_ms, (*conv)->updated_at_ms);
    }
    out.push_back(std::move(f));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const FriendView& a, const FriendView& b) { return a.updated_at_ms > b.updated_at_ms; });
  return out;
}

Result<std::vector<PathMessage>> ChatService::Path(Id user_id, Id conversation_id) {
  TOKKI_RETURN_IF_ERROR(OwnedConversation(user_id, conversation_id).status());
  TOKKI_ASSIGN_OR_RETURN(auto all, store_->ListMessages(conversation_id));
  return SelectedPath(all);
}

Result<int> ChatService::AlternativeCount(const Message& m) {
  TOKKI_ASSIGN_OR_RETURN(auto all, store_->ListMessages(m.conversation_id));
  return static_cast<int>(std::count_if(all.begin(), all.end(), [&](const Message& o) {
    return o.parent_id == m.parent_id;
  }));
}

// A reserved reply slot. Undo actions run in reverse order unless the reply was started.
class ChatService::ReplySlot {
 public:
  ReplySlot(ChatService* service, Id conversation_id, Id user_id)
      : service_(service), conversation_id_(conversation_id), user_id_(user_id) {}
  ReplySlot(ReplySlot&& o) noexcept
      : service_(o.service_), conversation_id_(o.conversation_id_), user_id_(o.user_id_),
        undo_(std::move(o.undo_)), started_(o.started_) {
    o.service_ = nullptr;
  }
  ReplySlot(const ReplySlot&) = delete;
  ReplySlot& operator=(const ReplySlot&) = delete;
  ReplySlot& operator=(ReplySlot&&) = delete;
  ~ReplySlot() {
    if (!service_ || started_) return;
    service_->ReleaseSlot(conversation_id_, user_id_);
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) (*it)();
  }
  // Registers how to take back a write made under this slot.
  void OnRollback(std::function<void()> undo) { undo_.push_back(std::move(undo)); }
  // The reply is running: Finalize releases the slot from now on.
  void Started() { started_ = true; }

 private:
  ChatService* service_;
  Id conversation_id_;
  Id user_id_;
  std::vector<std::function<void()>> undo_;
  bool started_ = false;
};

Result<std::optional<std::string>> ChatService::ReadOnly(const store::Conversation& conv) {
  TOKKI_ASSIGN_OR_RETURN(store::Character ch, store_->GetCharacter(conv.character_id));
  auto reason = ReadOnlyReason(ch, conv.user_id);
  if (!reason) return std::optional<std::string>();
  return std::optional<std::string>(std::string(*reason));
}

Status ChatService::CheckCanGenerate() const {
  if (!engine_)
    return Status::Unavailable(
        "no model is configured: start tokki with --model FILE.gguf or --backend-url URL");
  if (stopping_) return Status::Unavailable("the server is shutting down");
  return Status::Ok();
}

Status ChatService::TakeUserGeneration(Id user_id) {
  auto it = active_by_user_.find(user_id);
  const int mine = it == active_by_user_.end() ? 0 : it->second;
  if (options_.max_replies_per_user > 0 && mine >= options_.max_replies_per_user) {
    return Status::ResourceExhausted("you already have " + std::to_string(mine) +
                                     " replies being written; wait for one to finish")
        .WithRetryAfter(5);
  }
  ++active_by_user_[user_id];
  return Status::Ok();
}

void ChatService::GiveBackUserGeneration(Id user_id) {
  auto u = active_by_user_.find(user_id);
  if (u != active_by_user_.end() && --u->second <= 0) active_by_user_.erase(u);
}

Result<ChatService::ReplySlot> ChatService::Reserve(const store::Conversation& conv) {
  {
    MutexLock lock(&mu_);
    TOKKI_RETURN_IF_ERROR(CheckCanGenerate());
  }
  TOKKI_ASSIGN_OR_RETURN(store::Character ch, store_->GetCharacter(conv.character_id));
  if (auto reason = ReadOnlyReason(ch, conv.user_id))
    return Status::PermissionDenied(ReadOnlyMessage(*reason, ch.name));
  MutexLock lock(&mu_);
  TOKKI_RETURN_IF_ERROR(CheckCanGenerate());
  if (active_by_conversation_.count(conv.id))
    return Status::Conflict("a reply is still being written in this conversation; stop it first");
  TOKKI_RETURN_IF_ERROR(TakeUserGeneration(conv.user_id));
  active_by_conversation_[conv.id] = nullptr;
  return ReplySlot(this, conv.id, conv.user_id);
}

void ChatService::ReleaseSlot(Id conversation_id, Id user_id) {
  MutexLock lock(&mu_);
  auto it = active_by_conversation_.find(conversation_id);
  if (it != active_by_conversation_.end()) {
    if (it->second) streams_.erase(it->second->stream->message_id());
    active_by_conversation_.erase(it);
  }
  GiveBackUserGeneration(user_id);
  cv_.SignalAll();
}

Result<ChatService::UserSlot> ChatService::ReserveUserSlot(Id user_id) {
  MutexLock lock(&mu_);
  TOKKI_RETURN_IF_ERROR(CheckCanGenerate());
  TOKKI_RETURN_IF_ERROR(TakeUserGeneration(user_id));
  return UserSlot(this, user_id);
}

ChatService::UserSlot::~UserSlot() {
  if (!service_) return;
  MutexLock lock(&service_->mu_);
  service_->GiveBackUserGeneration(user_id_);
}

Status ChatService::CheckDailyQuota(Id user_id) {
  if (options_.max_messages_per_day <= 0) return Status::Ok();
  TOKKI_ASSIGN_OR_RETURN(int64_t n, store_->CountUserMessagesSince(user_id, NowUnixMs() - 24LL * 3600 * 1000));
  if (n >= options_.max_messages_per_day)
    return Status::ResourceExhausted("you have sent " + std::to_string(n) +
                                     " messages in the last 24 hours, the most this server allows (" +
                                     std::to_string(options_.max_messages_per_day) + ")")
        .WithRetryAfter(3600);
  return Status::Ok();
}

Result<SendOutcome> ChatService::Duplicate(Id user_id, Id conversation_id, const Message& seen) {
  SendOutcome out;
  out.duplicate = true;
  out.user_message = seen;
  TOKKI_ASSIGN_OR_RETURN(auto all, store_->ListMessages(conversation_id));
  for (auto& m : all)
    if (m.parent_id == seen.id && m.role == "assistant") out.reply = m;  // newest wins
  if (out.reply.id) {
    auto s = Stream(user_id, conversation_id, out.reply.id);
    if (s.ok()) out.stream = *s;
  }
  return out;
}

Result<SendOutcome> ChatService::Send(Id user_id, Id conversation_id, std::string content,
                                      std::string client_id, engine::SamplingParams sampling) {
  TOKKI_ASSIGN_OR_RETURN(store::Conversation conv, OwnedConversation(user_id, conversation_id));
  if (Trim(content).empty()) return Status::InvalidArgument("content must not be empty");
  if (content.size() > options_.max_message_bytes)
    return Status::TooLarge("content is over " + std::to_string(options_.max_message_bytes) +
                            " bytes");
  if (!IsValidUtf8(content)) return Status::InvalidArgument("content is not valid UTF-8");
  if (content.find('\0') != std::string::npos)
    return Status::InvalidArgument("content must not contain NUL characters");
  if (client_id.size() > 128) return Status::InvalidArgument("client_id is over 128 bytes");

  if (!client_id.empty()) {
    TOKKI_ASSIGN_OR_RETURN(auto seen, store_->FindMessageByClientId(conversation_id, client_id));
    if (seen) return Duplicate(user_id, conversation_id, *seen);
  }
  TOKKI_RETURN_IF_ERROR(CheckDailyQuota(user_id));
  TOKKI_ASSIGN_OR_RETURN(ReplySlot slot, Reserve(conv));
  TOKKI_ASSIGN_OR_RETURN(auto all, store_->ListMessages(conversation_id));
  auto history = ToMessages(SelectedPath(all));

  Message user_msg;
  user_msg.conversation_id = conversation_id;
  user_msg.role = "user";
  user_msg.content = std::move(content);
  user_msg.client_id = std::move(client_id);
  user_msg.parent_id = history.empty() ? kNoId : history.back().id;
  auto stored = store_->AppendMessage(user_msg);
  if (stored.status().code() == Status::Code::kAlreadyExists) {
    // Raced with the same client_id: answer as a duplicate.
    TOKKI_ASSIGN_OR_RETURN(auto seen, store_->FindMessageByClientId(conversation_id, user_msg.client_id));
    if (seen) return Duplicate(user_id, conversation_id, *seen);
  }
  TOKKI_RETURN_IF_ERROR(stored.status());
  const Id stored_id = stored->id;
  // Nothing is acknowledged until the reply runs: a failure takes the message back.
  slot.OnRollback([this, stored_id] { static_cast<void>(store_->DeleteMessage(stored_id)); });
  history.push_back(*stored);

  Message reply;
  reply.conversation_id = conversation_id;
  reply.role = "assistant";
  reply.parent_id = stored->id;
  reply.status = MessageStatus::kStreaming;
  return StartReply(slot, conv, reply, std::move(history), false, sampling, *stored);
}

Result<SendOutcome> ChatService::Regenerate(Id user_id, Id conversation_id, Id message_id,
                                            engine::SamplingParams sampling) {
  TOKKI_ASSIGN_OR_RETURN(Message target, OwnedMessage(user_id, conversation_id, message_id));
  if (target.role != "assistant")
    return Status::InvalidArgument("only an assistant message can be regenerated");
  if (target.parent_id == kNoId)
    return Status::InvalidArgument("a greeting cannot be regenerated; select an alternative");
  TOKKI_ASSIGN_OR_RETURN(store::Conversation conv, OwnedConversation(user_id, conversation_id));
  TOKKI_ASSIGN_OR_RETURN(ReplySlot slot, Reserve(conv));
  TOKKI_ASSIGN_OR_RETURN(auto all, store_->ListMessages(conversation_id));
  // History: the path up to and including the parent of the regenerated message.
  std::vector<Message> history;
  std::map<Id, const Message*> by_id;
  for (auto& m : all) by_id[m.id] = &m;
  for (Id id = target.parent_id; id != kNoId;) {
    auto it = by_id.find(id);
    if (it == by_id.end()) break;
    history.push_back(*it->second);
    id = it->second->parent_id;
  }
  std::reverse(history.begin(), history.end());
  Message reply;
  reply.conversation_id = conversation_id;
  reply.role = "assistant";
  reply.parent_id = target.parent_id;
  reply.status = MessageStatus::kStreaming;
  return StartReply(slot, conv, reply, std::move(history), false, sampling, Message{});
}

Result<SendOutcome> ChatService::Continue(Id user_id, Id conversation_id, Id message_id,
                                          engine::SamplingParams sampling) {
  TOKKI_ASSIGN_OR_RETURN(Message target, OwnedMessage(user_id, conversation_id, message_id));
  if (target.role != "assistant")
    return Status::InvalidArgument("only an assistant message can be continued");
  TOKKI_ASSIGN_OR_RETURN(store::Conversation conv, OwnedConversation(user_id, conversation_id));
  TOKKI_ASSIGN_OR_RETURN(ReplySlot slot, Reserve(conv));
  TOKKI_ASSIGN_OR_RETURN(auto all, store_->ListMessages(conversation_id));
  auto history = ToMessages(SelectedPath(all));
  if (history.empty() || history.back().id != message_id)
    return Status::InvalidArgument("only the last message of the conversation can be continued");
  return StartReply(slot, conv, target, std::move(history), true, sampling, Message{});
}

Result<std::vector<store::Message>> ChatService::AllMessages(Id user_id, Id conversation_id) {
  TOKKI_ASSIGN_OR_RETURN(store::Conversation conv, OwnedConversation(user_id, conversation_id));
  return store_->ListMessages(conv.id);
}

Result<BuiltPrompt> ChatService::InspectPrompt(Id user_id, Id conversation_id, std::string draft) {
  TOKKI_ASSIGN_OR_RETURN(store::Conversation conv, OwnedConversation(user_id, conversation_id));
  if (!IsValidUtf8(draft)) return Status::InvalidArgument("the draft must be valid UTF-8");
  if (draft.size() > options_.max_message_bytes)
    return Status::InvalidArgument("the draft is over " + std::to_string(options_.max_message_bytes) +
                                   " bytes");
  TOKKI_ASSIGN_OR_RETURN(store::Character ch, store_->GetCharacter(conv.character_id));
  TOKKI_ASSIGN_OR_RETURN(store::User user, store_->GetUser(conv.user_id));
  TOKKI_ASSIGN_OR_RETURN(auto all, store_->ListMessages(conversation_id));
  auto history = ToMessages(SelectedPath(all));
  Message typed;
  typed.conversation_id = conversation_id;
  typed.role = "user";
  typed.content = std::move(draft);
  history.push_back(std::move(typed));
  PromptContext context{ch, user, conv, history, false};
  context.inspect = true;
  return prompt_builder_(context);
}

Result<SendOutcome> ChatService::StartReply(ReplySlot& slot, const store::Conversation& conv,
                                            Message reply_row, std::vector<Message> history,
                                            bool continue_last, engine::SamplingParams sampling,
                                            Message user_message) {
  TOKKI_ASSIGN_OR_RETURN(store::Character ch, store_->GetCharacter(conv.character_id));
  TOKKI_ASSIGN_OR_RETURN(store::User user, store_->GetUser(conv.user_id));
  TOKKI_ASSIGN_OR_RETURN(BuiltPrompt built,
                         prompt_builder_(PromptContext{ch, user, conv, history, continue_last}));
  engine::GenerateRequest request = std::move(built.request);
  request.conversation_key = "conv:" + std::to_string(conv.id);
  request.user_key = "user:" + std::to_string(conv.user_id);
  request.continue_last = continue_last;
  request.sampling = sampling;
  // A reply to a message the user just sent is waited for most; a regeneration or a
  // continuation of an existing reply comes next.
  request.priority = user_message.id != kNoId ? engine::Priority::kInteractive
                                              : engine::Priority::kRegenerate;

  if (reply_row.id == kNoId) {
    TOKKI_ASSIGN_OR_RETURN(reply_row, store_->AppendMessage(reply_row));
    const Id id = reply_row.id;
    slot.OnRollback([this, id] { static_cast<void>(store_->DeleteMessage(id)); });
  } else {
    Message before = reply_row;
    reply_row.status = MessageStatus::kStreaming;
    TOKKI_RETURN_IF_ERROR(store_->UpdateMessage(reply_row));
    slot.OnRollback([this, before] { static_cast<void>(store_->UpdateMessage(before)); });
  }
  auto active = std::make_shared<Active>();
  active->conversation = conv;
  active->stream = std::make_shared<ReplyStream>(conv.id, reply_row.id);
  {
    MutexLock lock(&active->mu);
    active->message = reply_row;
  }
  {
    MutexLock lock(&mu_);
    active_by_conversation_[conv.id] = active;
    streams_[reply_row.id] = active->stream;
  }
  engine::GenerateCallbacks callbacks;
  std::weak_ptr<Active> weak = active;
  if (reply_policy_) {
    auto policy = reply_policy_();
    if (policy && policy->check_replies() && !policy->empty()) {
      MutexLock lock(&active->mu);
      active->checker = std::make_unique<persona::StreamingPolicyChecker>(policy, ch.language);
    }
  }
  callbacks.on_token = [weak](std::string_view text) {
    auto a = weak.lock();
    if (!a) return;
    std::shared_ptr<engine::Generation> stop;
    {
      MutexLock lock(&a->mu);
      if (a->filtered) return;
      if (!a->checker) {
        a->Accept(text);
        return;
      }
      auto out = a->checker->Feed(text);
      if (auto* released = std::get_if<std::string>(&out)) {
        a->Accept(*released);
        return;
      }
      a->filtered = true;
      stop = a->generation;
    }
    if (stop) stop->Cancel();
  };
  callbacks.on_done = [this, active](Result<engine::GenerateResult> result) {
    MutexLock lock(&mu_);
    finished_.emplace_back(active, std::move(result));
    cv_.SignalAll();
  };
  TOKKI_ASSIGN_OR_RETURN(auto gen, engine_->Submit(std::move(request), std::move(callbacks)));
  slot.Started();
  bool filtered_already = false;
  {
    MutexLock lock(&active->mu);
    active->generation = gen;
    filtered_already = active->filtered;
  }
  if (filtered_already) gen->Cancel();
  replies_total_.fetch_add(1);
  SendOutcome out;
  out.user_message = std::move(user_message);
  out.reply = reply_row;
  out.stream = active->stream;
  return out;
}

void ChatService::FlusherLoop() {
  MutexLock lock(&mu_);
  for (;;) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.flush_interval_ms);
    while (finished_.empty() && !stopping_) {
      if (!cv_.WaitUntil(&mu_, deadline)) break;
    }
    // Finalize finished replies first (their final state supersedes partial writes).
    while (!finished_.empty()) {
      auto item = std::move(finished_.front());
      finished_.pop_front();
      lock.Unlock();
      Finalize(item.first, std::move(item.second));
      lock.Lock();
    }
    std::vector<std::shared_ptr<Active>> actives;
    for (auto& [id, a] : active_by_conversation_)
      if (a) actives.push_back(a);
    // Drop kept streams that finished long ago.
    int64_t now = NowUnixMs();
    for (auto it = streams_.begin(); it != streams_.end();) {
      int64_t at = it->second->finished_at_ms();
      if (at && now - at > options_.stream_keep_ms) it = streams_.erase(it);
      else ++it;
    }
    if (stopping_ && stop_deadline_ms_ == 0) stop_deadline_ms_ = now + 6000;
    bool stop = stopping_ && ((active_by_conversation_.empty() && finished_.empty()) ||
                              now > stop_deadline_ms_);
    lock.Unlock();
    for (auto& a : actives) {
      Message snapshot;
      {
        MutexLock alock(&a->mu);
        if (!a->dirty) continue;
        a->dirty = false;
        snapshot = a->message;
      }
      Status st = store_->UpdateMessage(snapshot);
      if (!st.ok()) TOKKI_LOG(warn, "flush failed", "message", snapshot.id, "error", st.ToString());
    }
    lock.Lock();
    if (stop) {
      // Replies whose engine never answered: keep what was written, marked stopped.
      for (auto& [id, a] : active_by_conversation_) {
        if (!a) continue;
        MutexLock alock(&a->mu);
        a->message.status = MessageStatus::kStopped;
        a->message.finish_reason = "shutdown";
        static_cast<void>(store_->UpdateMessage(a->message));
      }
      return;
    }
  }
}

void ChatService::Finalize(const std::shared_ptr<Active>& a, Result<engine::GenerateResult> result) {
  Message final_row;
  {
    MutexLock lock(&a->mu);
    if (a->checker && !a->filtered) {
      auto out = a->checker->Finish();
      if (auto* released = std::get_if<std::string>(&out))
        a->Accept(*released);
      else
        a->filtered = true;
    }
    if (result.ok() && a->filtered) {
      // The operator's policy stopped the reply: keep what was shown, say why.
      result->finish_reason = engine::FinishReason::kContentFilter;
    }
    if (result.ok()) {
      a->message.status = result->finish_reason == engine::FinishReason::kCancelled
                                 ? MessageStatus::kStopped
                                                               : MessageStatus::kComplete;
      a->message.finish_reason = engine::FinishReasonName(result->finish_reason);
      a->message.prompt_tokens = result->usage.prompt_tokens;
      a->message.cached_tokens = result->usage.cached_tokens;
      a->message.completion_tokens += result->usage.completion_tokens;
    } else {
      a->message.status = MessageStatus::kFailed;
      a->message.finish_reason = "error";
    }
    a->dirty = false;
    final_row = a->message;
  }
  Status st = store_->UpdateMessage(final_row);
  if (!st.ok()) TOKKI_LOG(error, "final write failed", "message", final_row.id, "error", st.ToString());
  ReplyEvent ev = FinalEvent(result);
  {
    MutexLock lock(&mu_);
    auto it = active_by_conversation_.find(a->conversation.id);
    if (it != active_by_conversation_.end() && it->second == a) {
      active_by_conversation_.erase(it);
      GiveBackUserGeneration(a->conversation.user_id);
    }
  }
  a->stream->Finish(std::move(ev));
  if (events_) {
    UserEvent ue;
    ue.type = "message";
    ue.conversation_id = a->conversation.id;
    ue.message = final_row;
    auto alts = AlternativeCount(final_row);
    ue.alternatives = alts.ok() ? *alts : 1;
    events_->Publish(a->conversation.user_id, std::move(ue));
  }
  cv_.SignalAll();
}

Result<std::shared_ptr<ReplyStream>> ChatService::Stream(Id user_id, Id conversation_id,
                                                         Id message_id) {
  TOKKI_ASSIGN_OR_RETURN(Message m, OwnedMessage(user_id, conversation_id, message_id));
  {
    MutexLock lock(&mu_);
    auto it = streams_.find(message_id);
    if (it != streams_.end()) return it->second;
  }
  // Not live any more: rebuild a finished stream from what is stored.
  auto s = std::make_shared<ReplyStream>(conversation_id, message_id);
  if (!m.content.empty()) s->PushToken(m.content);
  ReplyEvent done;
  done.kind = ReplyEvent::Kind::kDone;
  done.finish_reason = m.finish_reason.empty() ? "stop" : m.finish_reason;
  done.usage = {m.prompt_tokens, m.cached_tokens, m.completion_tokens};
  s->Finish(done);
  return s;
}

Result<Message> ChatService::Select(Id user_id, Id conversation_id, Id message_id, int alternative) {
  TOKKI_ASSIGN_OR_RETURN(Message m, OwnedMessage(user_id, conversation_id, message_id));
  TOKKI_ASSIGN_OR_RETURN(auto all, store_->ListMessages(conversation_id));
  std::vector<const Message*> siblings;
  for (auto& o : all)
    if (o.parent_id == m.parent_id) siblings.push_back(&o);
  if (alternative < 0 || alternative >= static_cast<int>(siblings.size()))
    return Status::InvalidArgument("alternative must be between 0 and " +
                                   std::to_string(siblings.size() - 1));
  Id chosen = siblings[alternative]->id;
  TOKKI_RETURN_IF_ERROR(store_->SelectMessage(chosen));
  return store_->GetMessage(chosen);
}

Result<Message> ChatService::Rate(Id user_id, Id conversation_id, Id message_id, int stars) {
  TOKKI_ASSIGN_OR_RETURN(Message m, OwnedMessage(user_id, conversation_id, message_id));
  if (stars < 0 || stars > 5) return Status::InvalidArgument("stars must be 0..5");
  if (m.role != "assistant") return Status::InvalidArgument("only replies can be rated");
  m.rating = stars;
  TOKKI_RETURN_IF_ERROR(store_->UpdateMessage(m));
  return m;
}

Result<Message> ChatService::Edit(Id user_id, Id conversation_id, Id message_id, std::string content) {
  TOKKI_ASSIGN_OR_RETURN(Message m, OwnedMessage(user_id, conversation_id, message_id));
  if (content.size() > options_.max_message_bytes)
    return Status::TooLarge("content is over " + std::to_string(options_.max_message_bytes) + " bytes");
  if (!IsValidUtf8(content)) return Status::InvalidArgument("content is not valid UTF-8");
  if (m.status == MessageStatus::kStreaming)
    return Status::Conflict("the message is still being written");
  m.content = std::move(content);
  TOKKI_RETURN_IF_ERROR(store_->UpdateMessage(m));
  return m;
}

Status ChatService::Delete(Id user_id, Id conversation_id, Id message_id) {
  TOKKI_ASSIGN_OR_RETURN(Message m, OwnedMessage(user_id, conversation_id, message_id));
  if (m.status == MessageStatus::kStreaming)
    return Status::Conflict("the message is still being written; stop it first");
  return store_->DeleteMessage(message_id);
}

Result<bool> ChatService::Stop(Id user_id, Id conversation_id) {
  TOKKI_RETURN_IF_ERROR(OwnedConversation(user_id, conversation_id).status());
  std::shared_ptr<Active> a;
  {
    MutexLock lock(&mu_);
    auto it = active_by_conversation_.find(conversation_id);
    if (it == active_by_conversation_.end() || !it->second) return false;
    a = it->second;
  }
  std::shared_ptr<engine::Generation> gen;
  {
    MutexLock lock(&a->mu);
    gen = a->generation;
  }
  if (gen) gen->Cancel();  // the reply ends (and is written) on the engine's and flusher's time
  return true;
}

void ChatService::StopUser(Id user_id) {
  std::vector<std::shared_ptr<Active>> mine;
  {
    MutexLock lock(&mu_);
    for (auto& [id, a] : active_by_conversation_)
      if (a && a->conversation.user_id == user_id) mine.push_back(a);
  }
  for (auto& a : mine) {
    std::shared_ptr<engine::Generation> gen;
    {
      MutexLock lock(&a->mu);
      gen = a->generation;
    }
    if (gen) gen->Cancel();
  }
}

void ChatService::Shutdown() {
  std::vector<std::shared_ptr<Active>> actives;
  {
    MutexLock lock(&mu_);
    if (stopping_ && !flusher_.joinable()) return;
    stopping_ = true;
    for (auto& [id, a] : active_by_conversation_)
      if (a) actives.push_back(a);
  }
  for (auto& a : actives) {
    std::shared_ptr<engine::Generation> gen;
    {
      MutexLock lock(&a->mu);
      gen = a->generation;
    }
    if (gen) gen->Cancel();
  }
  for (auto& a : actives) a->stream->WaitFinished(5000);
  cv_.SignalAll();
  if (flusher_.joinable()) flusher_.join();
}

ChatStats ChatService::Stats() const {
  MutexLock lock(&mu_);
  return ChatStats{static_cast<int64_t>(active_by_conversation_.size()),
                   static_cast<int64_t>(streams_.size()), replies_total_.load()};
}

}  // namespace tokki::chat
