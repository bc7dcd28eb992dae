// See text_stream.h.
#include "engine/text_stream.h"

#include <algorithm>
#include <utility>

namespace tokki::engine {
namespace {

int Utf8SeqLen(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

bool ValidContinuation(const unsigned char* s, int len) {
  for (int i = 1; i < len; ++i) {
    if ((s[i] & 0xC0) != 0x80) return false;
  }
  const unsigned char c0 = s[0], c1 = s[1];
  if (len == 3 && c0 == 0xE0 && c1 < 0xA0) return false;  // overlong
  if (len == 3 && c0 == 0xED && c1 > 0x9F) return false;  // surrogate
  if (len == 4 && c0 == 0xF0 && c1 < 0x90) return false;  // overlong
  if (len == 4 && c0 == 0xF4 && c1 > 0x8F) return false;  // > U+10FFFF
  return true;
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

}  // namespace

void DrainUtf8(std::string& bytes, std::string& out, bool flush) {
  size_t i = 0;
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  while (i < bytes.size()) {
    const int len = Utf8SeqLen(s[i]);
    if (len == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (i + len > bytes.size()) {
      // Incomplete: hold it back unless what we have is already invalid.
      bool ok = true;
      for (size_t k = i + 1; k < bytes.size(); ++k) ok = ok && (s[k] & 0xC0) == 0x80;
      if (ok && !flush) break;
      out += kReplacement;
      i = ok ? bytes.size() : i + 1;  // a truncated sequence is one replacement
      continue;
    }
    if (!ValidContinuation(s + i, len)) {
      out += kReplacement;
      ++i;
      continue;
    }
    out.append(bytes, i, len);
    i += len;
  }
  bytes.erase(0, i);
}

size_t StopHoldback(std::string_view text, const std::vector<std::string>& stops) {
  size_t best = 0;
  for (const std::string& stop : stops) {
    if (stop.empty()) continue;
    const size_t max_len = std::min(text.size(), stop.size() - 1);
    for (size_t len = max_len; len > best; --len) {
      if (text.substr(text.size() - len) == std::string_view(stop).substr(0, len)) {
        best = len;
        break;
      }
    }
  }
  return best;
}

TextStream::TextStream(std::vector<std::string> stops) : stops_(std::move(stops)) {
  stops_.erase(std::remove(stops_.begin(), stops_.end(), std::string()), stops_.end());
}

std::string TextStream::Release(std::string text) {
  emitted_ += text;
  return text;
}

std::string TextStream::Push(std::string_view bytes) {
  if (stopped_) return "";
  bytes_.append(bytes);
  DrainUtf8(bytes_, held_, false);
  if (stops_.empty()) return Release(std::exchange(held_, {}));
  size_t best = std::string::npos;
  for (const std::string& s : stops_) {
    const size_t pos = held_.find(s);
    if (pos != std::string::npos) best = std::min(best, pos);
  }
  if (best != std::string::npos) {
    held_.resize(best);
    stopped_ = true;
    bytes_.clear();
    return Release(std::exchange(held_, {}));
  }
  const size_t hold = StopHoldback(held_, stops_);
  std::string out = held_.substr(0, held_.size() - hold);
  held_.erase(0, held_.size() - hold);
  return Release(std::move(out));
}

std::string TextStream::Finish() {
  if (stopped_) return "";
  DrainUtf8(bytes_, held_, true);
  return Release(std::exchange(held_, {}));
}

}  // namespace tokki::engine
