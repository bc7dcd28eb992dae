// tokki/engine/sse_parser.h — incremental parser for server-sent events (the stream of an
// OpenAI-compatible /v1/chat/completions call with stream=true).
//
// Thread safety: one parser per stream; not shared.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace tokki::engine {

struct SseEvent {
  std::string event;  // "" = the default "message"
  std::string data;   // data lines joined with '\n'
  std::string id;
};

class SseParser {
 public:
  // Feeds bytes as they arrive; calls `on_event` for each complete event.
  void Feed(std::string_view bytes, const std::function<void(const SseEvent&)>& on_event);

 private:
  void Line(std::string_view line, const std::function<void(const SseEvent&)>& on_event);
  std::string buf_;
  SseEvent cur_;
  bool has_data_ = false;
};

}  // namespace tokki::engine
