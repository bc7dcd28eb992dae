#include "persona/lorebook.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>

#include "core/text.h"
#include "persona/card_json.h"

namespace tokki::persona {
namespace {

using nlohmann::json;

constexpr int kMaxRegexProgramMemBytes = 256 << 10;

// The last kMaxLoreScanBytes of `text`, not splitting a UTF-8 sequence.
std::string_view Tail(std::string_view text) {
  if (text.size() <= kMaxLoreScanBytes) return text;
  size_t start = text.size() - kMaxLoreScanBytes;
  while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) ++start;
  return text.substr(start);
}

std::optional<int> ParseInt(std::string_view s) {
  s = Trim(s);
  int v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

int JsonInt(const json& obj, const char* key, int fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return fallback;
  double d = it->get<double>();
  if (!(d > -1e9 && d < 1e9)) return fallback;
  return static_cast<int>(d);
}

bool JsonBool(const json& obj, const char* key, bool fallback) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::string JsonString(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> JsonStrings(const json& obj, const char* key) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_array()) return out;
  for (const auto& s : *it)
    if (s.is_string() && !s.get<std::string>().empty()) out.push_back(s.get<std::string>());
  return out;
}

// Splits leading "@@name value" lines off `content`.
void ParseDecorators(LoreEntry* e, std::string_view content) {
  while (content.substr(0, 2) == "@@") {
    size_t eol = content.find('\n');
    std::string_view line = content.substr(2, eol == std::string_view::npos ? eol : eol - 2);
    content = eol == std::string_view::npos ? std::string_view() : content.substr(eol + 1);
    if (!line.empty() && line.front() == '@') continue;  // @@@ fallback decorators: ignored
    line = Trim(line);
    size_t sp = line.find_first_of(" \t");
    std::string name = AsciiLower(line.substr(0, sp));
    std::string_view value = sp == std::string_view::npos ? "" : Trim(line.substr(sp));
    if (name == "depth")
      e->depth = ParseInt(value);
    else if (name == "activate_only_after")
      e->activate_only_after = ParseInt(value);
    else if (name == "activate_only_every")
      e->activate_only_every = ParseInt(value);
    else if (name == "scan_depth")
      e->scan_depth = ParseInt(value);
    else if (name == "dont_activate")
      e->dont_activate = true;
    else if (name == "position") {
      std::string v = AsciiLower(value);
      if (v.rfind("before", 0) == 0)
        e->position = LorePosition::kBeforeChar;
      else if (v.rfind("after", 0) == 0)
        e->position = LorePosition::kAfterChar;
    }
  }
  e->content = std::string(content);
}

std::shared_ptr<const re2::RE2> CompileKey(const std::string& key, bool case_sensitive) {
  std::string pattern = key;
  bool ignore_case = !case_sensitive;
  // "/pattern/flags" as SillyTavern writes regex keys.
  if (key.size() >= 2 && key.front() == '/') {
    size_t last = key.rfind('/');
    if (last > 0) {
      std::string flags = key.substr(last + 1);
      if (flags.find_first_not_of("gimsuy") == std::string::npos) {
        pattern = key.substr(1, last - 1);
        if (flags.find('i') != std::string::npos) ignore_case = true;
      }
    }
  }
  re2::RE2::Options opt;
  opt.set_case_sensitive(!ignore_case);
  opt.set_log_errors(false);
  opt.set_max_mem(kMaxRegexProgramMemBytes);
  auto re = std::make_shared<re2::RE2>(pattern, opt);
  if (!re->ok()) return nullptr;
  return re;
}

bool KeyMatches(const LoreEntry& e, const std::string& key, const re2::RE2* re,
                std::string_view text, std::string_view text_lower) {
  if (e.use_regex) return re != nullptr && re2::RE2::PartialMatch(text, *re);
  if (e.case_sensitive) return text.find(key) != std::string_view::npos;
  return text_lower.find(AsciiLower(key)) != std::string_view::npos;
}

bool AnyMatch(const LoreEntry& e, const std::vector<std::string>& keys,
              const std::vector<std::shared_ptr<const re2::RE2>>& regex, std::string_view text,
              std::string_view text_lower, bool want_all) {
  size_t n_hit = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    const re2::RE2* re = i < regex.size() ? regex[i].get() : nullptr;
    if (KeyMatches(e, keys[i], re, text, text_lower)) {
      ++n_hit;
      if (!want_all) return true;
    } else if (want_all) {
      return false;
    }
  }
  return want_all ? n_hit == keys.size() : false;
}

bool EntryMatches(const LoreEntry& e, std::string_view text, std::string_view text_lower) {
  if (!AnyMatch(e, e.keys, e.key_regex, text, text_lower, false)) return false;
  if (!e.selective || e.secondary_keys.empty()) return true;
  switch (e.logic) {
    case SelectiveLogic::kAndAny:
      return AnyMatch(e, e.secondary_keys, e.secondary_regex, text, text_lower, false);
    case SelectiveLogic::kAndAll:
      return AnyMatch(e, e.secondary_keys, e.secondary_regex, text, text_lower, true);
    case SelectiveLogic::kNotAny:
      return !AnyMatch(e, e.secondary_keys, e.secondary_regex, text, text_lower, false);
    case SelectiveLogic::kNotAll:
      return !AnyMatch(e, e.secondary_keys, e.secondary_regex, text, text_lower, true);
  }
  return true;
}

}  // namespace

Result<Lorebook> ParseLorebook(std::string_view character_book_json) {
  Lorebook book;
  if (Trim(character_book_json).empty()) return book;
  TOKKI_ASSIGN_OR_RETURN(json doc,
                         internal::ParseJsonLimited(character_book_json, "character_book"));
  if (doc.is_null()) return book;
  if (!doc.is_object()) return Status::InvalidArgument("character_book must be an object");
  book.name = JsonString(doc, "name");
  book.scan_depth =
      std::clamp(JsonInt(doc, "scan_depth", kDefaultLoreScanDepth), 0, kMaxLoreScanDepth);
  book.token_budget = std::max(0, JsonInt(doc, "token_budget", 0));
  book.recursive_scanning = JsonBool(doc, "recursive_scanning", false);
  auto entries = doc.find("entries");
  if (entries == doc.end() || entries->is_null()) return book;
  if (!entries->is_array()) return Status::InvalidArgument("character_book.entries must be a list");
  size_t n_keys = 0, n_regex = 0;
  bool warned_keys = false;
  for (const auto& j : *entries) {
    if (!j.is_object()) continue;
    LoreEntry e;
    e.keys = JsonStrings(j, "keys");
    e.secondary_keys = JsonStrings(j, "secondary_keys");
    for (auto* keys : {&e.keys, &e.secondary_keys}) {
      size_t room = kMaxLoreKeys - std::min(n_keys, kMaxLoreKeys);
      if (keys->size() > room) {
        keys->resize(room);
        if (!warned_keys) book.warnings.push_back("more than 4096 keys; the rest are ignored");
        warned_keys = true;
      }
      n_keys += keys->size();
    }
    e.enabled = JsonBool(j, "enabled", true);
    e.constant = JsonBool(j, "constant", false);
    e.selective = JsonBool(j, "selective", false);
    e.case_sensitive = JsonBool(j, "case_sensitive", false);
    e.use_regex = JsonBool(j, "use_regex", false);
    e.insertion_order = JsonInt(j, "insertion_order", 100);
    e.priority = JsonInt(j, "priority", 0);
    e.name = JsonString(j, "name");
    if (e.name.empty()) e.name = JsonString(j, "comment");
    if (e.name.empty()) e.name = "entry " + std::to_string(book.entries.size());
    std::string position = JsonString(j, "position");
    e.position = position == "after_char" ? LorePosition::kAfterChar : LorePosition::kBeforeChar;
    if (auto ext = j.find("extensions"); ext != j.end() && ext->is_object()) {
      int logic = JsonInt(*ext, "selectiveLogic", 0);
      if (logic >= 0 && logic <= 3) e.logic = static_cast<SelectiveLogic>(logic);
      e.exclude_recursion = JsonBool(*ext, "exclude_recursion", false);
      e.prevent_recursion = JsonBool(*ext, "prevent_recursion", false);
    }
    ParseDecorators(&e, JsonString(j, "content"));
    if (e.use_regex) {
      auto compile = [&](const std::string& k) -> std::shared_ptr<const re2::RE2> {
        if (n_regex >= kMaxLoreRegexKeys) return nullptr;
        ++n_regex;
        return CompileKey(k, e.case_sensitive);
      };
      for (const auto& k : e.keys) e.key_regex.push_back(compile(k));
      for (const auto& k : e.secondary_keys) e.secondary_regex.push_back(compile(k));
      for (size_t i = 0; i < e.key_regex.size(); ++i)
        if (e.key_regex[i] == nullptr)
          book.warnings.push_back("entry '" + e.name + "': regex key '" + e.keys[i] +
                                  "' does not compile");
    }
    book.entries.push_back(std::move(e));
  }
  return book;
}

std::vector<ActivatedEntry> ActivateEntries(const LoreScanInput& input) {
  std::vector<ActivatedEntry> out;
  if (input.book == nullptr || input.book->entries.empty()) return out;
  const Lorebook& book = *input.book;
  std::map<int, std::pair<std::string, std::string>> windows;  // depth -> (text, lower)
  auto window = [&](int depth) -> const std::pair<std::string, std::string>& {
    auto it = windows.find(depth);
    if (it != windows.end()) return it->second;
    std::string text;
    size_t n = input.messages.size();
    size_t first = depth >= 0 && static_cast<size_t>(depth) < n ? n - depth : 0;
    for (size_t i = first; i < n; ++i) {
      if (i > first) text += '\n';
      // Only the tail is scanned; skip whole messages that cannot reach it.
      size_t rest = 0;
      for (size_t k = i + 1; k < n && rest <= kMaxLoreScanBytes; ++k)
        rest += input.messages[k].size() + 1;
      if (rest > kMaxLoreScanBytes) continue;
      text += input.messages[i];
    }
    text = std::string(Tail(text));
    std::string lower = AsciiLower(text);
    return windows.emplace(depth, std::make_pair(std::move(text), std::move(lower))).first->second;
  };

  std::vector<bool> active(book.entries.size(), false);
  std::vector<size_t> order;  // activation order
  auto eligible = [&](const LoreEntry& e) {
    if (!e.enabled || e.dont_activate) return false;
    if (e.activate_only_after && input.turn_index < *e.activate_only_after) return false;
    if (e.activate_only_every && *e.activate_only_every > 0 &&
        input.turn_index % *e.activate_only_every != 0)
      return false;
    return true;
  };
  for (size_t i = 0; i < book.entries.size(); ++i) {
    const LoreEntry& e = book.entries[i];
    if (!eligible(e)) continue;
    bool hit = e.constant;
    if (!hit) {
      const auto& w = window(e.scan_depth.value_or(book.scan_depth));
      hit = EntryMatches(e, w.first, w.second);
    }
    if (hit) {
      active[i] = true;
      order.push_back(i);
    }
  }
  if (book.recursive_scanning) {
    size_t scanned = 0;
    for (int pass = 0; pass < kMaxLoreRecursion && scanned < order.size(); ++pass) {
      std::string text;
      for (size_t k = scanned; k < order.size(); ++k) {
        const LoreEntry& src = book.entries[order[k]];
        if (src.prevent_recursion) continue;
        text += src.content;
        text += '\n';
      }
      scanned = order.size();
      text = std::string(Tail(text));
      std::string lower = AsciiLower(text);
      for (size_t i = 0; i < book.entries.size(); ++i) {
        const LoreEntry& e = book.entries[i];
        if (active[i] || e.exclude_recursion || !eligible(e)) continue;
        if (EntryMatches(e, text, lower)) {
          active[i] = true;
          order.push_back(i);
        }
      }
    }
  }

  // Budget: highest priority first (ties: lower insertion_order, then book order).
  int budget = book.token_budget;
  if (input.token_budget > 0)
    budget = budget > 0 ? std::min(budget, input.token_budget) : input.token_budget;
  std::vector<size_t> ranked = order;
  std::stable_sort(ranked.begin(), ranked.end(), [&](size_t a, size_t b) {
    const LoreEntry& x = book.entries[a];
    const LoreEntry& y = book.entries[b];
    if (x.priority != y.priority) return x.priority > y.priority;
    if (x.insertion_order != y.insertion_order) return x.insertion_order < y.insertion_order;
    return a < b;
  });
  int used = 0;
  for (size_t i : ranked) {
    const LoreEntry& e = book.entries[i];
    if (Trim(e.content).empty()) continue;
    int n_tokens = input.count_tokens ? input.count_tokens(e.content) : 0;
    if (budget > 0 && used + n_tokens > budget) continue;
    used += n_tokens;
    ActivatedEntry a;
    a.index = i;
    a.name = e.name;
    a.content = e.content;
    a.position = e.position;
    a.depth = e.depth;
    a.insertion_order = e.insertion_order;
    a.n_tokens = n_tokens;
    out.push_back(std::move(a));
  }
  std::stable_sort(out.begin(), out.end(), [](const ActivatedEntry& a, const ActivatedEntry& b) {
    if (a.insertion_order != b.insertion_order) return a.insertion_order < b.insertion_order;
    return a.index < b.index;
  });
  return out;
}

}  // namespace tokki::persona
