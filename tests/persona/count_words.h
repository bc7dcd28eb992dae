// Test helper: a token counter that counts whitespace-separated words, so expected
// prompts and budgets can be worked out by hand.
#pragma once

#include <string_view>

namespace tokki::persona::testing {

inline int CountWords(std::string_view s) {
  int n = 0;
  bool in_word = false;
  for (char c : s) {
    bool space = c == ' ' || c == '\n' || c == '\t';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

}  // namespace tokki::persona::testing
