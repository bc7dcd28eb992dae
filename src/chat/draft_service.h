// tokki/chat/draft_service.h — AI-assisted character creation: a user's idea becomes a
// complete character draft (persona/character_draft.h), written by the engine under the
// draft's JSON schema and streamed while it is written. Nothing is stored: the draft is
// the user's to change and save like any character.
//
// A draft counts as one of the user's running replies (ChatService::ReserveUserSlot: the
// same cap, the same 429); the slot is reserved before the engine sees the request and
// given back when the generation ends, before the final event is published.
//
// Thread safety: all methods are thread-safe. Start reading at DraftService::Start.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "chat/chat_service.h"
#include "chat/reply_stream.h"
#include "core/mutex.h"
#include "core/result.h"
#include "core/thread_annotations.h"
#include "engine/engine.h"
#include "persona/character_draft.h"

namespace tokki::chat {

struct DraftOptions {
  // Enough for every field at its longest; a model with a shorter context stops at its
  // context limit (and a draft cut short is an error, not a partial draft).
  int max_tokens = 2048;
  float temperature = 0.8f;
};

// One draft being written. Its stream carries the model's text as token events, then one
// kDone (the draft parsed: draft() has it) or one kError (code and message say why there
// is no draft).
class DraftJob {
 public:
  explicit DraftJob(std::string language)
      : language_(std::move(language)), stream_(std::make_shared<ReplyStream>(kNoId, kNoId)) {}

  const std::string& language() const { return language_; }
  const std::shared_ptr<ReplyStream>& stream() const { return stream_; }
  // The parsed draft; nullopt until the stream finished with kDone.
  std::optional<persona::CharacterDraft> draft() const TOKKI_EXCLUDES(mu_);
  // Stops the generation (nobody is reading it any more); the stream then ends with an
  // error. Safe at any time, also after it finished.
  void Cancel() TOKKI_EXCLUDES(mu_);

 private:
  friend class DraftService;
  const std::string language_;
  const std::shared_ptr<ReplyStream> stream_;
  mutable Mutex mu_;
  std::string text_ TOKKI_GUARDED_BY(mu_);  // everything the model wrote
  std::optional<persona::CharacterDraft> draft_ TOKKI_GUARDED_BY(mu_);
  std::shared_ptr<engine::Generation> generation_ TOKKI_GUARDED_BY(mu_);
  bool cancelled_ TOKKI_GUARDED_BY(mu_) = false;
};

class DraftService {
 public:
  // `engine` may be null (drafts then fail like replies, with kUnavailable); `chat` keeps
  // the per-user cap. Both outlive the service and every generation it started.
  DraftService(engine::Engine* engine, ChatService* chat, DraftOptions options = {});

  // Checks the idea and language (persona::CheckDraftRequest: InvalidArgument), takes one
  // of the user's reply slots (ResourceExhausted with a retry time past the cap,
  // Unavailable without a model), and starts the generation (the engine's errors, e.g.
  // kUnavailable when its queue is full).
  Result<std::shared_ptr<DraftJob>> Start(Id user_id, std::string_view idea,
                                          std::string_view language);

 private:
  engine::Engine* const engine_;
  ChatService* const chat_;
  const DraftOptions options_;
};

}  // namespace tokki::chat
