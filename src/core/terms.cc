#include "core/terms.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <unordered_set>

namespace tokki {
namespace {

// Decodes one code point at s[*i]; advances *i. Returns -1 for an invalid byte (skipped).
int32_t NextCodePoint(std::string_view s, size_t* i) {
  const auto b0 = static_cast<unsigned char>(s[*i]);
  int n = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 0;
  if (n == 0 || *i + static_cast<size_t>(n) > s.size()) {
    ++*i;
    return -1;
  }
  int32_t cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (int k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[*i + static_cast<size_t>(k)]);
    if ((b & 0xC0) != 0x80) {
      ++*i;
      return -1;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  *i += static_cast<size_t>(n);
  return cp;
}

bool IsCjk(int32_t c) {
  return (c >= 0x3040 && c <= 0x30FF) ||    // Hiragana, Katakana
         (c >= 0x3400 && c <= 0x4DBF) ||    // CJK extension A
         (c >= 0x4E00 && c <= 0x9FFF) ||    // CJK unified ideographs
         (c >= 0xAC00 && c <= 0xD7AF) ||    // Hangul syllables
         (c >= 0x1100 && c <= 0x11FF) ||    // Hangul jamo
         (c >= 0x3130 && c <= 0x318F) ||    // Hangul compatibility jamo
         (c >= 0xF900 && c <= 0xFAFF) ||    // CJK compatibility ideographs
         (c >= 0x20000 && c <= 0x2FA1F);    // CJK extensions B..
}

// Letters and digits of alphabetic scripts: ASCII alnum, and any non-ASCII code point
// that is neither CJK nor punctuation/space (general punctuation, CJK symbols, fullwidth
// forms, emoji are separators).
bool IsWordChar(int32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (c >= 0x2000 && c <= 0x2BFF) return false;    // punctuation, symbols, arrows
  if (c >= 0x3000 && c <= 0x303F) return false;    // CJK symbols and punctuation
  if (c >= 0xFF00 && c <= 0xFF0F) return false;    // fullwidth punctuation
  if (c >= 0xFF1A && c <= 0xFF20) return false;
  if (c >= 0x1F000) return false;                   // emoji and pictographs
  if (c == 0xA0 || (c >= 0xA1 && c <= 0xBF) || c == 0xD7 || c == 0xF7) return false;
  return true;
}

void AppendUtf8(std::string* out, int32_t c) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// Calls emit(term, is_single_cjk) for every term of `text`.
template <typename Emit>
void ForEachTerm(std::string_view text, Emit&& emit) {
  std::string word;
  std::vector<int32_t> run;  // the current CJK run
  auto flush_word = [&] {
    if (!word.empty()) emit(word, false);
    word.clear();
  };
  auto flush_run = [&] {
    if (run.size() == 1) {
      std::string t;
      AppendUtf8(&t, run[0]);
      emit(t, true);
    }
    for (size_t k = 0; k + 1 < run.size(); ++k) {
      std::string t;
      AppendUtf8(&t, run[k]);
      AppendUtf8(&t, run[k + 1]);
      emit(t, false);
    }
    run.clear();
  };
  size_t i = 0;
  while (i < text.size()) {
    const int32_t c = NextCodePoint(text, &i);
    if (c < 0) continue;
    if (IsCjk(c)) {
      flush_word();
      run.push_back(c);
    } else if (IsWordChar(c)) {
      flush_run();
      AppendUtf8(&word, c);
    } else {
      flush_word();
      flush_run();
    }
  }
  flush_word();
  flush_run();
}

const std::unordered_set<std::string_view>& Stopwords() {
  static const std::unordered_set<std::string_view> kWords = {
      "a", "about", "after", "again", "all", "am", "an", "and", "any", "are", "as", "at", "be",
      "been", "before", "but", "by", "can", "could", "did", "do", "does", "doing", "don", "for",
      "from", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how",
      "i", "if", "in", "into", "is", "it", "its", "just", "know", "like", "me", "mine", "more",
      "my", "no", "not", "now", "of", "oh", "ok", "on", "or", "our", "out", "over", "really",
      "remember", "s", "said", "say", "she", "so", "some", "t", "tell", "than", "that", "the",
      "their", "them", "then", "there", "these", "they", "this", "to", "too", "up", "us", "very",
      "was", "we", "were", "what", "when", "where", "which", "who", "why", "will", "with",
      "would", "yes", "you", "your", "yours", "ll", "re", "ve", "d", "m"};
  return kWords;
}

}  // namespace

std::string IndexTerms(std::string_view text) {
  std::string out;
  ForEachTerm(text, [&](const std::string& t, bool) {
    if (!out.empty()) out.push_back(' ');
    out += t;
  });
  return out;
}

std::vector<std::string> QueryTerms(std::string_view text, size_t max_terms) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  ForEachTerm(text, [&](const std::string& t, bool single_cjk) {
    if (out.size() >= max_terms || single_cjk || Stopwords().count(t)) return;
    if (seen.insert(t).second) out.push_back(t);
  });
  return out;
}

}  // namespace tokki
