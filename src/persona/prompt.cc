#include "persona/prompt.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "core/text.h"
#include "persona/lorebook.h"
#include "persona/macros.h"

namespace tokki::persona {
namespace {

constexpr std::string_view kDefaultPrompt =
    "You are {{char}}. Stay in character as {{char}} for the whole conversation: speak in "
    "{{char}}'s voice and keep {{char}}'s personality, knowledge and way of talking as "
    "described below. Write only {{char}}'s own words and actions, never the other "
    "person's. Do not break character to comment on the conversation or the instructions.";

constexpr std::string_view kRealPersonNotice =
    "{{char}} is a real person. You are an AI portrayal of {{char}}, not {{char}} "
    "themselves: if asked whether you are really {{char}}, say that you are an AI "
    "portrayal. Do not claim private knowledge of {{char}}'s life and do not put harmful "
    "or defamatory words in {{char}}'s mouth.";

std::string Hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Splits mes_example into dialogues at <START> markers (case-insensitive).
std::vector<std::string> SplitExamples(std::string_view text) {
  std::vector<std::string> out;
  std::string lower = AsciiLower(text);
  size_t start = 0;
  while (start <= text.size()) {
    size_t at = lower.find("<start>", start);
    std::string_view part =
        Trim(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (!part.empty()) out.emplace_back(part);
    if (at == std::string::npos) break;
    start = at + 7;
  }
  return out;
}

void AppendParagraph(std::string* out, std::string_view text) {
  text = Trim(text);
  if (text.empty()) return;
  if (!out->empty()) *out += "\n\n";
  *out += text;
}

std::string BuildStatic(const store::Character& c, bool with_examples) {
  MacroContext ctx;
  ctx.char_name = c.name;
  ctx.user_name = kNeutralUserName;
  std::string original = DefaultSystemPrompt(c.real_person);
  ctx.original = original;
  ctx.pick_seed = ctx.random_seed =
      MixSeed(static_cast<uint64_t>(c.id), static_cast<uint64_t>(c.revision));
  std::string system = ExpandMacros(c.system_prompt.empty() ? "{{original}}" : c.system_prompt, ctx,
                                    HashText("system_prompt"));
  if (c.real_person) {
    // The AI-portrayal notice cannot be removed by a card's own system prompt.
    std::string notice = ExpandMacros(kRealPersonNotice, ctx);
    if (system.find(notice) == std::string::npos) AppendParagraph(&system, notice);
  }
  std::string out;
  AppendParagraph(&out, system);
  AppendParagraph(&out, ExpandMacros(c.description, ctx, HashText("description")));
  std::string personality = ExpandMacros(c.personality, ctx, HashText("personality"));
  if (!Trim(personality).empty())
    AppendParagraph(&out, c.name + "'s personality: " + std::string(Trim(personality)));
  std::string scenario = ExpandMacros(c.scenario, ctx, HashText("scenario"));
  if (!Trim(scenario).empty()) AppendParagraph(&out, "Scenario: " + std::string(Trim(scenario)));
  if (with_examples) {
    auto examples = SplitExamples(ExpandMacros(c.mes_example, ctx, HashText("mes_example")));
    if (!examples.empty()) {
      std::string block = "Example dialogues (\"" + std::string(kNeutralUserName) +
                          "\" stands for the person " + c.name + " is talking to):";
      for (const auto& e : examples) block += "\n\n" + e;
      AppendParagraph(&out, block);
    }
  }
  return out;
}

}  // namespace

std::string DefaultSystemPrompt(bool real_person) {
  std::string s(kDefaultPrompt);
  if (real_person) {
    s += "\n\n";
    s += kRealPersonNotice;
  }
  return s;
}

Result<Prompt> BuildPrompt(const PromptInput& in) {
  if (in.character == nullptr) return Status::InvalidArgument("BuildPrompt: no character");
  if (!in.count_tokens) return Status::InvalidArgument("BuildPrompt: no token counter");
  const int budget = in.n_ctx - in.n_reply_tokens;
  if (in.n_ctx <= 0 || in.n_reply_tokens < 0 || budget <= 0)
    return Status::InvalidArgument("BuildPrompt: n_ctx " + std::to_string(in.n_ctx) +
                                   " leaves no room after " + std::to_string(in.n_reply_tokens) +
                                   " reply tokens");
  const store::Character& c = *in.character;
  auto tokens = [&](std::string_view s) { return in.count_tokens(s) + kMessageOverheadTokens; };

  Prompt p;
  // 1. Static block: examples only when the whole block fits in half of n_ctx.
  std::string static_text = BuildStatic(c, true);
  if (tokens(static_text) > in.n_ctx / 2) static_text = BuildStatic(c, false);
  const int n_static = tokens(static_text);
  if (n_static > budget)
    return Status::TooLarge("the character definition needs " + std::to_string(n_static) +
                            " tokens; the context allows " + std::to_string(budget));
  p.prefix_key = "char:" + std::to_string(c.id) + ":rev:" + std::to_string(c.revision) + ":" +
                 Hex16(HashText(static_text));

  // 2. Per-user part.
  const std::string user_name = in.user_name.empty() ? std::string(kNeutralUserName) : in.user_name;
  MacroContext ctx;
  ctx.char_name = c.name;
  ctx.user_name = user_name;
  ctx.pick_seed = in.conversation_seed;
  ctx.random_seed = MixSeed(in.conversation_seed, static_cast<uint64_t>(in.turn_index));

  std::vector<ActivatedEntry> lore;
  if (auto book = ParseLorebook(c.character_book_json); book.ok()) {
    LoreScanInput scan;
    scan.book = &*book;
    // Only the newest messages can be scanned (scan_depth <= kMaxLoreScanDepth).
    const size_t from = in.history.size() > static_cast<size_t>(kMaxLoreScanDepth)
                            ? in.history.size() - static_cast<size_t>(kMaxLoreScanDepth)
                            : 0;
    for (size_t i = from; i < in.history.size(); ++i) scan.messages.push_back(in.history[i].content);
    scan.turn_index = in.turn_index;
    scan.token_budget = std::max(1, budget / 4);
    scan.count_tokens = in.count_tokens;
    lore = ActivateEntries(scan);
  }
  std::vector<std::string> memories = in.pinned_memories;
  std::string summary(Trim(in.summary));

  auto persona_part = [&]() {
    std::string out;
    std::string who = "You are talking with " + user_name + ".";
    if (user_name != kNeutralUserName)
      who += " Where the text above says \"" + std::string(kNeutralUserName) + "\", it means " +
             user_name + ".";
    AppendParagraph(&out, who);
    if (!Trim(in.user_persona).empty())
      AppendParagraph(
          &out, "About " + user_name + ": " +
                    std::string(Trim(ExpandMacros(in.user_persona, ctx, HashText("persona")))));
    return out;
  };
  auto pinned_part = [&]() {
    std::string block;
    if (memories.empty()) return block;
    block = "What " + c.name + " always keeps in mind about " + user_name + ":";
    for (const auto& m : memories) block += "\n- " + std::string(Trim(m));
    return block;
  };
  auto summary_part = [&]() {
    return summary.empty() ? std::string()
                           : "The story so far between " + c.name + " and " + user_name +
                                 ":\n" + summary;
  };
  auto lore_part = [&]() {
    std::string out;
    for (const auto& e : lore)
      if (!e.depth && e.position == LorePosition::kBeforeChar)
        AppendParagraph(&out, ExpandMacros(e.content, ctx, HashText(e.name)));
    for (const auto& e : lore)
      if (!e.depth && e.position == LorePosition::kAfterChar)
        AppendParagraph(&out, ExpandMacros(e.content, ctx, HashText(e.name)));
    return out;
  };
  MacroContext post_ctx = ctx;
  post_ctx.original = "";
  const std::string post = ExpandMacros(c.post_history_instructions, post_ctx, HashText("post"));
  const std::string persona_text = persona_part();
  std::string pinned_text, summary_text, lore_text;
  auto rebuild = [&] {
    pinned_text = pinned_part();
    summary_text = summary_part();
    lore_text = lore_part();
  };
  auto fixed_tokens = [&]() {
    int n = n_static + tokens(persona_text);
    for (const std::string* t : {static_cast<const std::string*>(&pinned_text),
                                 static_cast<const std::string*>(&summary_text),
                                 static_cast<const std::string*>(&lore_text), &post})
      if (!Trim(*t).empty()) n += tokens(*t);
    for (const auto& e : lore)
      if (e.depth) n += tokens(e.content);
    return n;
  };
  rebuild();
  // Over budget: lorebook entries go first, then the oldest memories, then the summary.
  while (fixed_tokens() > budget && (!lore.empty() || !memories.empty() || !summary.empty())) {
    if (!lore.empty())
      lore.clear();
    else if (!memories.empty())
      memories.erase(memories.begin());
    else
      summary.clear();
    rebuild();
  }
  const int n_fixed = fixed_tokens();
  if (n_fixed > budget)
    return Status::TooLarge("the character and user details need " + std::to_string(n_fixed) +
                            " tokens; the context allows " + std::to_string(budget));

  // 3. History: cut points every ~budget/4 tokens from the start of the conversation;
  // keep from the first cut point whose suffix fits. The cut points only need to be
  // stable, so they come from a byte estimate; real token counts are taken from the
  // newest message back, only as far as the window can reach (a long relationship's
  // thousands of old messages are never tokenized).
  const size_t n_hist = in.history.size();
  const int chunk = std::max(1, budget / 4);
  std::vector<size_t> anchors = {0};
  int acc = 0;
  for (size_t i = 0; i < n_hist; ++i) {
    acc += static_cast<int>(in.history[i].content.size() / 4) + 1 + kMessageOverheadTokens;
    if (acc >= chunk && i + 1 < n_hist) {
      anchors.push_back(i + 1);
      acc = 0;
    }
  }
  const int max_available = budget - n_fixed;
  // suffix[i] = real tokens of history[i..]; known for i >= lo, above max_available below.
  std::vector<int> suffix(n_hist + 1, 0);
  size_t lo = n_hist;
  while (lo > 0 && suffix[lo] <= max_available) {
    --lo;
    suffix[lo] = suffix[lo + 1] + tokens(in.history[lo].content);
  }
  auto fits = [&](size_t i, int available) { return i >= lo && suffix[i] <= available; };
  auto first_kept = [&](int available) -> Result<size_t> {
    size_t first = n_hist;
    for (size_t a : anchors) {
      if (fits(a, available)) {
        first = a;
        break;
      }
    }
    if (first == n_hist && n_hist > 0) {
      // Even the last chunk does not fit: drop its messages one by one.
      first = anchors.back();
      while (first < n_hist && !fits(first, available)) ++first;
    }
    if (n_hist > 0 && first >= n_hist)
      return Status::TooLarge("the latest message needs " +
                              std::to_string(suffix[n_hist - 1] - suffix[n_hist]) +
                              " tokens; only " + std::to_string(available) + " are left");
    return first;
  };
  int available = budget - n_fixed;
  TOKKI_ASSIGN_OR_RETURN(size_t first, first_kept(available));
  if (in.recall && (first > 0 || in.recall_always)) {
    p.recall_budget = std::min(in.recall_max_tokens, available / 4);
    if (p.recall_budget > 0) {
      TOKKI_ASSIGN_OR_RETURN(first, first_kept(available - p.recall_budget));
    }
  }
  p.n_dropped_messages = static_cast<int>(first);

  // 4. Recall: the best passages that fit the budget, shown oldest first with dates.
  std::string recalled_text;
  if (p.recall_budget > 0) {
    const std::string head =
        "Things " + c.name + " remembers from earlier with " + user_name + " (with dates):";
    int used = tokens(head);
    for (RecalledPassage r : in.recall(std::span<const PromptMessage>(in.history).subspan(first))) {
      std::string_view text = Trim(r.text);
      if (text.size() > kMaxRecalledPassageBytes) {
        r.text = std::string(Utf8Truncate(text, kMaxRecalledPassageBytes)) + "…";
      } else {
        r.text = std::string(text);
      }
      const int n = in.count_tokens(r.text) + 12;  // date, speaker, line break
      if (used + n > p.recall_budget) continue;
      used += n;
      p.recalled.push_back(std::move(r));
    }
    std::stable_sort(p.recalled.begin(), p.recalled.end(),
                     [](const RecalledPassage& a, const RecalledPassage& b) {
                       return a.created_at_ms != b.created_at_ms
                                  ? a.created_at_ms < b.created_at_ms
                                  : a.message_id < b.message_id;
                     });
    if (!p.recalled.empty()) {
      recalled_text = head;
      for (const auto& r : p.recalled) {
        const time_t secs = static_cast<time_t>(r.created_at_ms / 1000);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        char date[16];
        std::strftime(date, sizeof(date), "%Y-%m-%d", &tm);
        recalled_text += "\n- [" + std::string(date) + "] " +
                         (r.role == "assistant" ? c.name : user_name) + ": " + r.text;
      }
    }
  }

  // 5. Assemble.
  p.messages.push_back({"system", static_text, "static"});
  p.n_static_messages = 1;
  p.messages.push_back({"system", persona_text, "persona"});
  if (!pinned_text.empty()) p.messages.push_back({"system", pinned_text, "pinned"});
  if (!summary_text.empty()) p.messages.push_back({"system", summary_text, "summary"});
  if (!Trim(lore_text).empty()) p.messages.push_back({"system", lore_text, "lorebook"});
  std::vector<PromptMessage> history(in.history.begin() + static_cast<long>(first),
                                     in.history.end());
  for (auto& m : history) m.section = "history";
  if (in.last_is_draft && !history.empty()) history.back().section = "draft";
  // @@depth entries, deepest first so that positions stay right while inserting.
  std::vector<const ActivatedEntry*> depth_entries;
  for (const auto& e : lore)
    if (e.depth) depth_entries.push_back(&e);
  std::stable_sort(
      depth_entries.begin(), depth_entries.end(),
      [](const ActivatedEntry* a, const ActivatedEntry* b) { return *a->depth > *b->depth; });
  for (const ActivatedEntry* e : depth_entries) {
    size_t d = static_cast<size_t>(std::clamp(*e->depth, 0, static_cast<int>(history.size())));
    history.insert(history.end() - static_cast<long>(d),
                   PromptMessage{"system", ExpandMacros(e->content, ctx, HashText(e->name)),
                                 "lorebook"});
  }
  if (!recalled_text.empty()) {
    // Just after the last user message (at the end when there is none). The next turn's
    // cached prefix then keeps that message; only this turn's reply and the next message
    // follow the block that changes.
    auto at = history.end();
    for (auto it = history.end(); it != history.begin();) {
      --it;
      if (it->role == "user") {
        at = std::next(it);
        break;
      }
    }
    history.insert(at, PromptMessage{"system", recalled_text, "recalled"});
  }
  for (auto& m : history) p.messages.push_back(std::move(m));
  if (!Trim(post).empty()) p.messages.push_back({"system", post, "post_history"});
  for (const auto& e : lore) p.activated_entries.push_back(e.name);
  p.n_prompt_tokens = n_fixed + suffix[first] + (recalled_text.empty() ? 0 : tokens(recalled_text));
  return p;
}

}  // namespace tokki::persona
