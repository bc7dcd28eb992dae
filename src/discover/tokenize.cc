#include "discover/tokenize.h"

#include <array>
#include <cstdint>

#include "core/text.h"

namespace tokki::discover {
namespace {

// Decodes one code point at `s[i]`, advancing `i`. Invalid bytes decode as U+FFFD.
char32_t NextCodePoint(std::string_view s, size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  char32_t cp = 0;
  if (c < 0x80) {
    ++i;
    return c;
  } else if ((c & 0xE0) == 0xC0) {
    n = 1;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 2;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 3;
    cp = c & 0x07;
  } else {
    ++i;
    return 0xFFFD;
  }
  if (i + n >= s.size()) {
    i = s.size();
    return 0xFFFD;
  }
  for (size_t k = 1; k <= n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      i += k;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  i += n + 1;
  return cp;
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Letters and digits of space-separated scripts (Latin, Greek, Cyrillic, ...).
bool IsWordCodePoint(char32_t cp) {
  if (cp < 0x80)
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
  if (cp == 0xD7 || cp == 0xF7) return false;
  if (cp >= 0xC0 && cp <= 0x24F) return true;     // Latin-1 letters, Latin Extended
  if (cp >= 0x370 && cp <= 0x52F) return true;    // Greek, Cyrillic
  if (cp >= 0x0590 && cp <= 0x1FFF) return true;  // Hebrew .. Greek Extended (letters mostly)
  return false;
}

char32_t LowerCodePoint(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
  if (cp >= 0x391 && cp <= 0x3A9) return cp + 32;  // Greek capitals
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;  // Cyrillic capitals
  return cp;
}

constexpr std::array<std::string_view, 40> kStopWords = {
    "a",    "an",   "and",  "are", "as",  "at",   "be",   "but",  "by",   "for",
    "from", "has",  "have", "he",  "her", "his",  "i",    "in",   "is",   "it",
    "its",  "me",   "my",   "of",  "on",  "or",   "she",  "that", "the",  "their",
    "they", "this", "to",   "was", "who", "will", "with", "you",  "your", "we"};

bool IsStopWord(std::string_view w) {
  for (auto s : kStopWords)
    if (s == w) return true;
  return false;
}

void FlushWord(std::string& word, size_t n_cp, std::vector<std::string>& out) {
  if (n_cp >= 2 && !IsStopWord(word)) out.push_back("w:" + word);
  word.clear();
}

void FlushCjk(std::vector<char32_t>& run, std::vector<std::string>& out) {
  if (run.size() == 1) {
    std::string t = "u:";
    AppendUtf8(t, run[0]);
    out.push_back(std::move(t));
  } else {
    for (size_t k = 0; k + 1 < run.size(); ++k) {
      std::string t = "b:";
      AppendUtf8(t, run[k]);
      AppendUtf8(t, run[k + 1]);
      out.push_back(std::move(t));
    }
  }
  run.clear();
}

}  // namespace

bool IsCjkCodePoint(char32_t cp) {
  return (cp >= 0x1100 && cp <= 0x11FF) ||  // Hangul Jamo
         (cp >= 0x3040 && cp <= 0x30FF) ||  // Hiragana, Katakana
         (cp >= 0x3130 && cp <= 0x318F) ||  // Hangul Compatibility Jamo
         (cp >= 0x3400 && cp <= 0x4DBF) ||  // CJK Extension A
         (cp >= 0x4E00 && cp <= 0x9FFF) ||  // CJK Unified Ideographs
         (cp >= 0xAC00 && cp <= 0xD7A3) ||  // Hangul Syllables
         (cp >= 0xF900 && cp <= 0xFAFF) ||  // CJK Compatibility Ideographs
         (cp >= 0x20000 && cp <= 0x3134F);  // CJK Extensions B..G
}

void TokenizeText(std::string_view text, std::vector<std::string>& out) {
  std::string word;
  size_t word_cp = 0;
  std::vector<char32_t> cjk;
  size_t i = 0;
  while (i < text.size()) {
    const char32_t cp = NextCodePoint(text, i);
    if (IsCjkCodePoint(cp)) {
      if (!word.empty()) FlushWord(word, word_cp, out), word_cp = 0;
      cjk.push_back(cp);
    } else if (IsWordCodePoint(cp) || (cp == '\'' && !word.empty())) {
      if (!cjk.empty()) FlushCjk(cjk, out);
      if (cp != '\'') {
        AppendUtf8(word, LowerCodePoint(cp));
        ++word_cp;
      }
    } else {
      if (!word.empty()) FlushWord(word, word_cp, out), word_cp = 0;
      if (!cjk.empty()) FlushCjk(cjk, out);
    }
  }
  if (!word.empty()) FlushWord(word, word_cp, out);
  if (!cjk.empty()) FlushCjk(cjk, out);
}

std::string NormalizeTag(std::string_view tag) {
  std::string t = AsciiLower(Trim(tag));
  return t;
}

}  // namespace tokki::discover
