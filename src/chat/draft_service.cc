#include "chat/draft_service.h"

#include <utility>

#include "core/log.h"

namespace tokki::chat {

std::optional<persona::CharacterDraft> DraftJob::draft() const {
  MutexLock lock(&mu_);
  return draft_;
}

void DraftJob::Cancel() {
  std::shared_ptr<engine::Generation> gen;
  {
    MutexLock lock(&mu_);
    cancelled_ = true;
    gen = generation_;
  }
  if (gen) gen->Cancel();
}

DraftService::DraftService(engine::Engine* engine, ChatService* chat, DraftOptions options)
    : engine_(engine), chat_(chat), options_(options) {}

namespace {

// What the engine callbacks share: the job and, until the generation ends, the user's slot.
struct Running {
  explicit Running(std::shared_ptr<DraftJob> j, ChatService::UserSlot s)
      : job(std::move(j)), slot(std::move(s)) {}
  std::shared_ptr<DraftJob> job;
  Mutex mu;
  std::optional<ChatService::UserSlot> slot TOKKI_GUARDED_BY(mu);

  void GiveBackSlot() TOKKI_EXCLUDES(mu) {
    MutexLock lock(&mu);
    slot.reset();
  }
};

}  // namespace

Result<std::shared_ptr<DraftJob>> DraftService::Start(Id user_id, std::string_view idea,
                                                      std::string_view language) {
  TOKKI_RETURN_IF_ERROR(persona::CheckDraftRequest(idea, language));
  TOKKI_ASSIGN_OR_RETURN(ChatService::UserSlot slot, chat_->ReserveUserSlot(user_id));
  if (!engine_) return Status::Unavailable("no model is configured");

  engine::GenerateRequest request;
  for (auto& m : persona::DraftPrompt(idea, language)) request.messages.push_back({m.role, m.content});
  request.user_key = "user:" + std::to_string(user_id);
  request.priority = engine::Priority::kBackground;  // nobody is waiting on a chat for it
  request.sampling.max_tokens = options_.max_tokens;
  request.sampling.temperature = options_.temperature;
  request.sampling.json_schema = persona::DraftSchema();

  auto job = std::make_shared<DraftJob>(std::string(language));
  auto running = std::make_shared<Running>(job, std::move(slot));
  engine::GenerateCallbacks callbacks;
  callbacks.on_token = [job](std::string_view text) {
    {
      MutexLock lock(&job->mu_);
      job->text_ += text;
    }
    job->stream_->PushToken(std::string(text));
  };
  callbacks.on_done = [running](Result<engine::GenerateResult> result) {
    const std::shared_ptr<DraftJob>& job = running->job;
    running->GiveBackSlot();  // before the final event: the user may start the next one
    if (result.ok() && result->finish_reason == engine::FinishReason::kStop) {
      std::string text;
      {
        MutexLock lock(&job->mu_);
        text = job->text_;
      }
      auto draft = persona::ParseDraft(text);
      if (draft.ok()) {
        {
          MutexLock lock(&job->mu_);
          job->draft_ = std::move(draft).value();
        }
      } else {
        TOKKI_LOG(warn, "the model wrote no valid draft", "error", draft.status().message());
        result = Status::Unavailable("the model did not write a valid draft (" +
                                     draft.status().message() + "); try again");
      }
    } else if (result.ok()) {
      // Cut short (length, context limit, cancelled): an incomplete document is no draft.
      result = Status::Unavailable("the draft was cut short (" +
                                   std::string(engine::FinishReasonName(result->finish_reason)) +
                                   "); try again");
    }
    job->stream_->Finish(FinalEvent(result));
  };
  auto submitted = engine_->Submit(std::move(request), std::move(callbacks));
  if (!submitted.ok()) {
    running->GiveBackSlot();
    return submitted.status();
  }
  bool cancelled = false;
  {
    MutexLock lock(&job->mu_);
    job->generation_ = *submitted;
    cancelled = job->cancelled_;
  }
  if (cancelled) (*submitted)->Cancel();
  return job;
}

}  // namespace tokki::chat
