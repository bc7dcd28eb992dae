// tokki/core/terms.h — search terms of a text, for full-text recall in any language.
//
// Words of alphabetic scripts are lower-cased (ASCII) and kept whole; runs of CJK
// characters (Han, Hiragana, Katakana, Hangul) have no spaces between words, so they are
// cut into overlapping character bigrams ("보리야" → "보리 리야"), the usual CJK analysis
// of search engines: a two-syllable Korean noun followed by any particle still shares a
// term with the noun alone. A CJK run of one character is kept as one term. The store's
// full-text index then stems the English words (FTS5's porter tokenizer), so "dogs"
// finds "dog".
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tokki {

// The terms of `text` joined by single spaces, in text order, repeats kept (term
// frequency matters to ranking). Invalid UTF-8 bytes are skipped.
std::string IndexTerms(std::string_view text);

// The distinct terms of a query, in text order, without common English function words
// and without one-character CJK terms, at most `max_terms`.
std::vector<std::string> QueryTerms(std::string_view text, size_t max_terms = 32);

}  // namespace tokki
