// tokki/chat/reply_stream.h — the event log of one streamed reply.
//
// The engine thread appends token events; any number of readers (an SSE connection, a
// reconnecting client with Last-Event-ID) read the events after a sequence number and
// subscribe to be woken when more arrive. Events stay readable after the reply finished,
// until the ChatService drops the stream.
//
// Thread safety: all methods are thread-safe. Wake callbacks are called without the lock
// held, from the appending thread; they must only schedule work.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "core/result.h"
#include "core/status.h"
#include "core/thread_annotations.h"
#include "core/types.h"
#include "engine/engine.h"

namespace tokki::chat {

struct ReplyUsage {
  int prompt_tokens = 0;
  int cached_tokens = 0;
  int completion_tokens = 0;
};

struct ReplyEvent {
  enum class Kind { kToken, kDone, kError };
  int64_t seq = 0;  // 1, 2, 3, ... (the SSE event id)
  Kind kind = Kind::kToken;
  std::string text;           // kToken: the piece; kError: the message
  std::string code;           // kError: snake_case code
  std::string finish_reason;  // kDone
  ReplyUsage usage;           // kDone
  double ttft_ms = 0;         // kDone
  double total_ms = 0;        // kDone
};

// The last event of a stream for what the engine reported: kDone with the finish reason,
// usage and timings, or kError with the status's code and message.
ReplyEvent FinalEvent(const Result<engine::GenerateResult>& result);

class ReplyStream {
 public:
  ReplyStream(Id conversation_id, Id message_id)
      : conversation_id_(conversation_id), message_id_(message_id) {}

  Id conversation_id() const { return conversation_id_; }
  Id message_id() const { return message_id_; }

  void PushToken(std::string text);
  void Finish(ReplyEvent done);  // kind kDone or kError; later pushes are ignored

  // Events with seq > after_seq; `finished` tells whether the last event was terminal.
  std::vector<ReplyEvent> Since(int64_t after_seq, bool* finished) const;
  bool finished() const;
  // Blocks until finished or the timeout passes (tests and shutdown).
  bool WaitFinished(int64_t timeout_ms) const;
  int64_t finished_at_ms() const;

  int Subscribe(std::function<void()> wake);
  void Unsubscribe(int id);

 private:
  void Notify() TOKKI_EXCLUDES(mu_);

  const Id conversation_id_;
  const Id message_id_;
  mutable Mutex mu_;
  mutable CondVar cv_;  // signalled when the reply finishes
  std::vector<ReplyEvent> events_ TOKKI_GUARDED_BY(mu_);
  bool finished_ TOKKI_GUARDED_BY(mu_) = false;
  int64_t finished_at_ms_ TOKKI_GUARDED_BY(mu_) = 0;
  int next_sub_ TOKKI_GUARDED_BY(mu_) = 1;
  std::map<int, std::function<void()>> subscribers_ TOKKI_GUARDED_BY(mu_);
};

}  // namespace tokki::chat
