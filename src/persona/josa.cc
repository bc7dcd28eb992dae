#include "persona/josa.h"

#include <cstdint>
#include <iterator>

namespace tokki::persona {
namespace {

constexpr char32_t kNoCodePoint = 0xFFFFFFFF;

// The code point ending at s.size(); *start receives where it begins. kNoCodePoint for
// malformed UTF-8 (such a name's ending is unknown).
char32_t LastCodePoint(std::string_view s, size_t* start) {
  size_t i = s.size();
  size_t n = 0;
  while (i > 0 && n < 4 && (static_cast<uint8_t>(s[i - 1]) & 0xC0) == 0x80) {
    --i;
    ++n;
  }
  if (i == 0) return kNoCodePoint;
  --i;
  *start = i;
  const auto lead = static_cast<uint8_t>(s[i]);
  size_t len = lead < 0x80           ? 1
               : (lead >> 5) == 0x6  ? 2
               : (lead >> 4) == 0xE  ? 3
               : (lead >> 3) == 0x1E ? 4
                                     : 0;
  if (len != n + 1) return kNoCodePoint;
  if (len == 1) return lead;
  char32_t cp = lead & (0x7F >> len);
  for (size_t k = i + 1; k < s.size(); ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[k]) & 0x3F);
  return cp;
}

bool IsHangulSyllable(char32_t cp) { return cp >= 0xAC00 && cp <= 0xD7A3; }

// True when `s` starts with a Hangul syllable (U+AC00..U+D7A3, three bytes in UTF-8).
bool StartsWithHangulSyllable(std::string_view s) {
  if (s.size() < 3) return false;
  const auto b0 = static_cast<uint8_t>(s[0]);
  const auto b1 = static_cast<uint8_t>(s[1]);
  const auto b2 = static_cast<uint8_t>(s[2]);
  if ((b0 & 0xF0) != 0xE0 || (b1 & 0xC0) != 0x80 || (b2 & 0xC0) != 0x80) return false;
  char32_t cp = ((b0 & 0x0Fu) << 12) | ((b1 & 0x3Fu) << 6) | (b2 & 0x3Fu);
  return IsHangulSyllable(cp);
}

// Spaces, punctuation and closing brackets after a name, which nobody reads aloud:
// ASCII ones, no-break space, · ’ ” …, ideographic space 、 。 〉 》 」 』 】 〕, and the
// full-width ！ ） ， ． ？ ］ ｝ ～.
bool IsSkippedAtEnd(char32_t cp) {
  constexpr std::string_view kAscii = " \t\n\r.,!?;:'\")]}>-_~*";
  constexpr std::u32string_view kOther =
      U"\u00A0\u00B7\u2019\u201D\u2026\u3000\u3001\u3002\u3009\u300B\u300D\u300F\u3011\u3015"
      U"\uFF01\uFF09\uFF0C\uFF0E\uFF1F\uFF3D\uFF5D\uFF5E";
  if (cp < 0x80) return kAscii.find(static_cast<char>(cp)) != std::string_view::npos;
  return kOther.find(cp) != std::u32string_view::npos;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsLetter(char c) { return IsUpper(c) || IsLower(c); }
char ToLower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

FinalSound SyllableSound(char32_t cp) {
  const int final_consonant = static_cast<int>((cp - 0xAC00) % 28);  // 0: none, 8: ㄹ
  if (final_consonant == 0) return FinalSound::kVowel;
  return final_consonant == 8 ? FinalSound::kRieul : FinalSound::kConsonant;
}

// How a reading written in Hangul ends (the tables below).
FinalSound ReadingSound(std::string_view hangul) {
  size_t start = 0;
  return SyllableSound(LastCodePoint(hangul, &start));
}

// Sino-Korean digits, and the units of each group of four zeros.
constexpr std::string_view kDigitNames[10] = {"영", "일", "이", "삼", "사",
                                              "오", "육", "칠", "팔", "구"};
constexpr std::string_view kPlaceNames[4] = {"", "십", "백", "천"};
constexpr std::string_view kGroupNames[6] = {"", "만", "억", "조", "경", "해"};

// Letter names as Koreans say them.
constexpr std::string_view kLetterNames[26] = {
    "에이", "비",   "씨", "디",   "이",     "에프", "지",   "에이치", "아이",
    "제이", "케이", "엘", "엠",   "엔",     "오",   "피",   "큐",     "알",
    "에스", "티",   "유", "브이", "더블유", "엑스", "와이", "제트"};

// `s` ends in an ASCII digit.
FinalSound NumberSound(std::string_view s) {
  size_t start = s.size();
  while (start > 0 && IsDigit(s[start - 1])) --start;
  const std::string_view digits = s.substr(start);
  const char before = start > 0 ? s[start - 1] : '\0';
  if (before == '.' && start >= 2 && IsDigit(s[start - 2]))
    return ReadingSound(kDigitNames[digits.back() - '0']);
  if (IsLetter(before)) {
    // R2D2, MP3, 2NE1: maybe read in English. Only 2 4 5 read alike (이/투, 사/포, 오/파이브).
    if (digits.size() == 1 && (digits[0] == '2' || digits[0] == '4' || digits[0] == '5'))
      return FinalSound::kVowel;
    return FinalSound::kUnknown;
  }
  size_t n_zeros = 0;
  while (n_zeros < digits.size() && digits[digits.size() - 1 - n_zeros] == '0') ++n_zeros;
  if (n_zeros == digits.size()) return ReadingSound(kDigitNames[0]);
  // The reading ends in the last nonzero digit (…7 칠), its place (…70 칠십, …700 칠백), or
  // the unit of its group of four (…70000 칠만, …700000 칠십만).
  if (n_zeros == 0) return ReadingSound(kDigitNames[digits[digits.size() - 1] - '0']);
  if (n_zeros < 4) return ReadingSound(kPlaceNames[n_zeros]);
  if (n_zeros / 4 < std::size(kGroupNames)) return ReadingSound(kGroupNames[n_zeros / 4]);
  return FinalSound::kUnknown;
}

// A Latin word (lower case) by its ending; see the table in josa.h.
FinalSound WordSound(std::string_view w) {
  const char last = w.back();
  const char prev = w.size() >= 2 ? w[w.size() - 2] : '\0';
  auto in = [](char c, std::string_view set) { return set.find(c) != std::string_view::npos; };
  if (last == 'm' || last == 'n' || (last == 'g' && prev == 'n')) return FinalSound::kConsonant;
  if (last == 'l') return FinalSound::kRieul;
  if (in(last, "aiouywrsxz") || (last == 'h' && prev != 'c') || (last == 'e' && in(prev, "aeiouy")))
    return FinalSound::kVowel;
  return FinalSound::kUnknown;
}

// `s` ends in an ASCII letter.
FinalSound LatinSound(std::string_view s) {
  size_t start = s.size();
  bool has_lower = false, has_vowel = false;
  while (start > 0 && IsLetter(s[start - 1])) {
    const char c = s[--start];
    has_lower |= IsLower(c);
    has_vowel |= c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U';
  }
  std::string word(s.substr(start));
  for (char& c : word) c = ToLower(c);
  if (has_lower) return WordSound(word);
  const FinalSound letter = ReadingSound(kLetterNames[s.back() - 'A']);
  if (word.size() == 1 || !has_vowel) return letter;
  return WordSound(word) == letter ? letter : FinalSound::kUnknown;
}

struct Family {
  std::string_view after_consonant;
  std::string_view after_vowel;
  bool rieul_takes_vowel_form = false;  // 으로/로: 서울로
  bool stem = false;                    // an ending always follows (였다, 이었어요)
  std::string_view stack = "";          // particles that may follow it, space-separated
  bool match_vowel_form = true;         // false: that form is read as another family
};

// Order only matters for equal forms: a bare 야 is the vocative (see josa.h).
constexpr Family kFamilies[] = {
    {"이", "가"},
    {"은", "는"},
    {"을", "를"},
    {"과", "와", false, false, "의 는 도 만"},
    {"아", "야"},
    {"이여", "여"},
    {"이나", "나"},
    {"이랑", "랑", false, false, "은 도 의 만"},
    {"이라고", "라고"},
    {"이라는", "라는"},
    {"이라도", "라도"},
    {"이라면", "라면"},
    {"이란", "란"},
    {"이야", "야", false, false, "", /*match_vowel_form=*/false},
    {"이에요", "예요"},
    {"이었", "였", false, /*stem=*/true},
    {"으로", "로", /*rieul_takes_vowel_form=*/true, false, "서 써 는 도 부터 만 의"},
};
constexpr size_t kNumPairedFamilies = 5;  // 이(가) 은(는) 을(를) 과(와) 아(야) and reversed
constexpr size_t kCopulaYo = 14;          // 이에요/예요
constexpr size_t kPastStem = 15;          // 이었/였
static_assert(kFamilies[kCopulaYo].after_vowel == "예요");
static_assert(kFamilies[kPastStem].after_vowel == "였");

std::string_view Pick(const Family& f, FinalSound sound) {
  if (sound == FinalSound::kVowel || (sound == FinalSound::kRieul && f.rieul_takes_vowel_form))
    return f.after_vowel;
  return f.after_consonant;
}

bool StartsWithAnyOf(std::string_view text, std::string_view space_separated) {
  while (!space_separated.empty()) {
    size_t end = space_separated.find(' ');
    std::string_view item = space_separated.substr(0, end);
    if (text.starts_with(item)) return true;
    if (end == std::string_view::npos) break;
    space_separated.remove_prefix(end + 1);
  }
  return false;
}

// Length of "a(b)" when `text` starts with it, else 0.
size_t ParenthesisedLength(std::string_view text, std::string_view a, std::string_view b) {
  const size_t n = a.size() + 1 + b.size() + 1;
  if (text.size() < n || !text.starts_with(a) || text[a.size()] != '(' ||
      text.substr(a.size() + 1, b.size()) != b || text[n - 1] != ')')
    return 0;
  return n;
}

}  // namespace

FinalSound FinalSoundOf(std::string_view name) {
  size_t end = name.size();
  while (end > 0) {
    size_t start = 0;
    const char32_t cp = LastCodePoint(name.substr(0, end), &start);
    if (cp == kNoCodePoint) return FinalSound::kUnknown;
    if (IsSkippedAtEnd(cp)) {
      end = start;
      continue;
    }
    if (IsHangulSyllable(cp)) return SyllableSound(cp);
    if (cp < 0x80 && IsDigit(static_cast<char>(cp))) return NumberSound(name.substr(0, end));
    if (cp < 0x80 && IsLetter(static_cast<char>(cp))) return LatinSound(name.substr(0, end));
    return FinalSound::kUnknown;
  }
  return FinalSound::kUnknown;
}

AgreedParticle AgreeParticle(FinalSound sound, std::string_view text) {
  if (sound == FinalSound::kUnknown) return {};
  // The author's forms with parentheses: resolved whatever follows (과(와)의).
  for (size_t i = 0; i < kNumPairedFamilies; ++i) {
    const Family& f = kFamilies[i];
    size_t n = ParenthesisedLength(text, f.after_consonant, f.after_vowel);
    if (n == 0) n = ParenthesisedLength(text, f.after_vowel, f.after_consonant);
    if (n != 0) return {n, std::string(Pick(f, sound))};
  }
  constexpr std::string_view kI = "(이)", kEu = "(으)";
  if (text.starts_with(kI)) {
    const std::string_view rest = text.substr(kI.size());
    for (size_t i : {kCopulaYo, kPastStem}) {
      const Family& f = kFamilies[i];
      const std::string_view tail = f.after_consonant.substr(std::string_view("이").size());
      if (rest.starts_with(tail)) return {kI.size() + tail.size(), std::string(Pick(f, sound))};
    }
    if (StartsWithHangulSyllable(rest)) return {kI.size(), sound == FinalSound::kVowel ? "" : "이"};
    return {};
  }
  if (text.starts_with(kEu)) {
    if (!text.substr(kEu.size()).starts_with("로")) return {};
    return {kEu.size(), sound == FinalSound::kConsonant ? "으" : ""};
  }
  // Bare forms: the longest one that is followed by a non-syllable (or may be followed).
  const Family* best = nullptr;
  size_t best_size = 0;
  for (const Family& f : kFamilies) {
    for (std::string_view form : {f.after_consonant, f.after_vowel}) {
      if (form == f.after_vowel && !f.match_vowel_form) continue;
      if (form.size() <= best_size || !text.starts_with(form)) continue;
      const std::string_view rest = text.substr(form.size());
      if (f.stem || !StartsWithHangulSyllable(rest) || StartsWithAnyOf(rest, f.stack)) {
        best = &f;
        best_size = form.size();
      }
    }
  }
  if (best == nullptr) return {};
  return {best_size, std::string(Pick(*best, sound))};
}

size_t AppendNameAndParticle(std::string* out, std::string_view name, std::string_view following) {
  *out += name;
  AgreedParticle p = AgreeParticle(FinalSoundOf(name), following);
  *out += p.particle;
  return p.n_bytes;
}

}  // namespace tokki::persona
