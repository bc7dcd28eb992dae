// tokki/api/event_source.h — the one small interface the server streams from: a numbered
// log of server-sent events that wakes its subscribers when it grows. Reply streams and
// the per-user event channel are adapted to it in sse_sources.h; the server knows neither.
//
// Thread safety: implementations are thread-safe. Wake callbacks may be called from any
// thread, without locks held, and only schedule work.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace tokki::api {

class EventSource {
 public:
  virtual ~EventSource() = default;

  // The SSE text ("id: N\nevent: ...\ndata: ...\n\n" blocks) of the events after
  // *last_seq; advances *last_seq past them. Sets *finished when the source will never
  // produce another event (everything up to the end has been returned).
  virtual std::string Poll(int64_t* last_seq, bool* finished) = 0;

  virtual int Subscribe(std::function<void()> wake) = 0;
  virtual void Unsubscribe(int subscription) = 0;
};

}  // namespace tokki::api
