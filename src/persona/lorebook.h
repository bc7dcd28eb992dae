// tokki/persona/lorebook.h — world info (character_book) activation.
//
// ParseLorebook() reads a card's character_book JSON once; ActivateEntries() then picks
// the entries to insert for one turn:
//   - scan text = the last `scan_depth` messages (book value, default 2; an entry's
//     @@scan_depth overrides it), joined with newlines;
//   - an enabled entry activates when it is `constant`, or when any key matches and,
//     for `selective` entries with secondary keys, the secondary keys agree per the
//     selective logic (AND ANY by default; extensions.selectiveLogic 1/2/3 = NOT ALL,
//     NOT ANY, AND ALL, as SillyTavern writes it);
//   - keys are substrings, case-insensitive (ASCII) unless `case_sensitive`; with
//     `use_regex` a key is an RE2 pattern, "/pattern/flags" accepted (linear time);
//   - with recursive_scanning, activated content is scanned again for more entries
//     (extensions.exclude_recursion / prevent_recursion honoured);
//   - cost is bounded: scan_depth <= 100, the scan text is cut to its last 32 KiB, at
//     most 4096 keys and 256 regex keys per book (the rest never match, with a warning);
//   - the token budget keeps the highest `priority` first (ties: lower insertion_order),
//     and the result is sorted by insertion_order.
// V3 decorators at the start of content (one per line, removed from the text):
//   @@depth N, @@activate_only_after N, @@activate_only_every N, @@dont_activate,
//   @@position before_*|after_*, @@scan_depth N. Unknown decorators are ignored.
//
// Thread safety: a parsed Lorebook is immutable and may be shared by threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace re2 {
class RE2;
}

namespace tokki::persona {

enum class LorePosition { kBeforeChar, kAfterChar };
enum class SelectiveLogic { kAndAny, kNotAll, kNotAny, kAndAll };

struct LoreEntry {
  std::string name;  // name, else comment, else "entry <index>"
  std::vector<std::string> keys;
  std::vector<std::string> secondary_keys;
  std::string content;  // decorators removed
  bool enabled = true;
  bool constant = false;
  bool selective = false;
  bool case_sensitive = false;
  bool use_regex = false;
  bool exclude_recursion = false;  // cannot be activated by other entries' content
  bool prevent_recursion = false;  // its content does not activate other entries
  SelectiveLogic logic = SelectiveLogic::kAndAny;
  int insertion_order = 100;
  int priority = 0;
  LorePosition position = LorePosition::kBeforeChar;
  // Decorators.
  std::optional<int> depth;  // insert into the chat this many messages from the end
  std::optional<int> activate_only_after;
  std::optional<int> activate_only_every;
  std::optional<int> scan_depth;
  bool dont_activate = false;
  // Compiled use_regex keys (same order as keys / secondary_keys; null = bad pattern).
  std::vector<std::shared_ptr<const re2::RE2>> key_regex;
  std::vector<std::shared_ptr<const re2::RE2>> secondary_regex;
};

struct Lorebook {
  std::string name;
  int scan_depth = 2;
  int token_budget = 0;  // 0 = no limit of its own
  bool recursive_scanning = false;
  std::vector<LoreEntry> entries;
  std::vector<std::string> warnings;  // e.g. a regex key that does not compile
};

inline constexpr int kDefaultLoreScanDepth = 2;
inline constexpr int kMaxLoreScanDepth = 100;          // messages
inline constexpr size_t kMaxLoreScanBytes = 32 << 10;  // tail of the scan text kept
inline constexpr int kMaxLoreRecursion = 5;            // rounds
inline constexpr size_t kMaxLoreKeys = 4096;           // keys + secondary keys per book
inline constexpr size_t kMaxLoreRegexKeys = 256;       // use_regex keys compiled per book

// Parses character_book JSON (as stored in Character::character_book_json). "" gives an
// empty book.
Result<Lorebook> ParseLorebook(std::string_view character_book_json);

struct LoreScanInput {
  const Lorebook* book = nullptr;
  std::vector<std::string_view> messages;  // oldest first
  int64_t turn_index = 0;                  // for @@activate_only_after / _every
  int token_budget = 0;                    // caller's cap; 0 = none (book budget still applies)
  std::function<int(std::string_view)> count_tokens;  // required when any budget applies
};

struct ActivatedEntry {
  size_t index = 0;  // into book->entries
  std::string name;
  std::string content;
  LorePosition position = LorePosition::kBeforeChar;
  std::optional<int> depth;
  int insertion_order = 0;
  int n_tokens = 0;
};

std::vector<ActivatedEntry> ActivateEntries(const LoreScanInput& input);

}  // namespace tokki::persona
