// See sse_parser.h. Follows the WHATWG event-stream rules that matter for LLM servers:
// LF / CRLF / CR line ends, "field: value" with one optional space, comments (':'),
// multi-line data, and dispatch on an empty line.
#include "engine/sse_parser.h"

namespace tokki::engine {

void SseParser::Feed(std::string_view bytes, const std::function<void(const SseEvent&)>& on_event) {
  buf_.append(bytes);
  size_t start = 0;
  while (true) {
    const size_t nl = buf_.find_first_of("\r\n", start);
    if (nl == std::string::npos) break;
    // A CR at the very end might be half of a CRLF: wait for more.
    if (buf_[nl] == '\r' && nl + 1 == buf_.size()) break;
    Line(std::string_view(buf_).substr(start, nl - start), on_event);
    start = nl + 1;
    if (buf_[nl] == '\r' && start < buf_.size() && buf_[start] == '\n') ++start;
  }
  buf_.erase(0, start);
}

void SseParser::Line(std::string_view line, const std::function<void(const SseEvent&)>& on_event) {
  if (line.empty()) {
    if (has_data_) on_event(cur_);
    cur_ = SseEvent{};
    has_data_ = false;
    return;
  }
  if (line[0] == ':') return;  // comment / heartbeat
  const size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value =
      colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) cur_.data += '\n';
    cur_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    cur_.event.assign(value);
  } else if (field == "id") {
    cur_.id.assign(value);
  }
}

}  // namespace tokki::engine
