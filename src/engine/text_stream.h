// tokki/engine/text_stream.h — turns a generation's raw bytes into the text a client sees.
//
// Token pieces may end inside a UTF-8 code point, and the end of the text may be the
// beginning of a stop string. TextStream holds those bytes back until they are known:
// Push returns only complete, valid UTF-8 (invalid bytes become U+FFFD) that cannot be
// part of a stop string; once a stop string appears, the text before it is released and
// the stream reports stopped(). Used by the embedded engine (per token) and the remote
// engine (per streamed delta, so stop strings hold whatever the backend does).
//
// Not thread-safe: one stream per generation, used by one thread at a time.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tokki::engine {

class TextStream {
 public:
  explicit TextStream(std::vector<std::string> stops = {});

  // Adds raw bytes; returns the text that may be shown now ("" when everything is held).
  // After stopped() further input is ignored.
  std::string Push(std::string_view bytes);
  // End of generation: releases what is held (an incomplete code point becomes U+FFFD).
  std::string Finish();

  // A stop string was found; it and everything after it were dropped.
  bool stopped() const { return stopped_; }
  // Everything released so far.
  const std::string& emitted() const { return emitted_; }

 private:
  std::string Release(std::string text);

  std::vector<std::string> stops_;
  std::string bytes_;  // undecoded UTF-8 tail
  std::string held_;   // decoded text that may start a stop string
  std::string emitted_;
  bool stopped_ = false;
};

// Moves the complete, valid UTF-8 prefix of `bytes` to `out`; keeps an incomplete tail
// unless `flush` (then it becomes U+FFFD). Invalid bytes become U+FFFD.
void DrainUtf8(std::string& bytes, std::string& out, bool flush);

// Length of the longest suffix of `text` that is a proper prefix of one of `stops`.
size_t StopHoldback(std::string_view text, const std::vector<std::string>& stops);

}  // namespace tokki::engine
