// tokki/discover/tokenize.h — turns card text into content terms for the TF-IDF vectors.
//
// Latin-script (and other space-separated) text becomes lower-cased words ("w:hello");
// CJK text (Hangul, Han, kana) becomes overlapping character bigrams ("b:세종"), or a
// unigram for a lone character, so Korean and Chinese match without a dictionary.
// Tags become "t:<tag>" and the language "l:<lang>".
//
// Thread safety: pure functions. Start with CardTerms().
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tokki::discover {

// Appends the terms of free text `text` to `out` (duplicates kept: they are term counts).
void TokenizeText(std::string_view text, std::vector<std::string>& out);

// Lower-cased, trimmed tag ("Slice of Life" -> "slice of life").
std::string NormalizeTag(std::string_view tag);

// True for code points of scripts written without spaces (CJK ideographs, Hangul, kana).
bool IsCjkCodePoint(char32_t cp);

}  // namespace tokki::discover
