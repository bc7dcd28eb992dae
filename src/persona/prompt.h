// tokki/persona/prompt.h — builds the chat prompt for one reply.
//
// Layout (all roles are "system" except the history); each message names its `section`:
//   static       system prompt ({{original}} = Tokki's default), description,
//                personality, scenario, example dialogues. Depends only on the
//                character (+revision) and n_ctx, never on the user: {{user}} here
//                is the neutral name "User". prefix_key names it, so the engine can
//                keep one KV prefix per character and share it across conversations.
//   persona      who the user is (+ their persona).
//   pinned       the relationship's memories (notes and pins), in the user's order.
//   summary      the relationship's "story so far".
//   lorebook     activated lorebook entries without a depth (before_char first).
//   history      oldest first; lorebook entries with @@depth N are inserted as system
//                messages (section lorebook) N messages from the end.
//   draft        the last user message, when it is the prompt inspector's draft.
//   recalled     earlier passages recalled for this turn, with their dates, just after
//                the last user message (a fixed depth: see docs/memory.md).
//   post_history post-history instructions, when the card has them.
// Everything up to the history changes rarely (a pin, a new summary), so the static block
// and the long history stay a stable prefix for the engine's cache; the per-turn part
// (recalled passages, the new message) sits at the end.
//
// Budget = n_ctx - n_reply_tokens, measured with count_tokens plus kMessageOverheadTokens
// per message. Example dialogues are dropped first, decided from the card and n_ctx only
// (kept when the static block with them fits in half of n_ctx). When the fixed part is
// too large, lorebook entries go first, then the oldest memories, then the summary. Then
// the oldest history messages are dropped in whole chunks of about a quarter of the
// budget, cut at fixed points counted from the start of the conversation, so the kept
// history keeps the same first message over many turns instead of shifting every turn.
// Recall runs when history was dropped (or input.recall_always): it gets
// min(recall_max_tokens, a quarter of what history may use), taken from history, and
// the history messages kept in the window, which it must not return (and which tell it
// what the prompt already holds).
//
// Thread safety: pure function. Start with BuildPrompt().
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/records.h"

namespace tokki::persona {

struct PromptMessage {
  std::string role;  // "system" | "user" | "assistant"
  std::string content;
  std::string section;   // set by BuildPrompt (see the layout above)
  Id source_id = kNoId;  // history: the stored message it comes from
};

// A passage recall found: a stored message outside the window.
struct RecalledPassage {
  Id message_id = kNoId;
  Id conversation_id = kNoId;
  int64_t created_at_ms = 0;
  std::string role;  // "user" | "assistant"
  std::string text;
};

// Returns passages best first (BuildPrompt keeps what fits its budget); never one of
// the `window` messages (the history the prompt keeps, oldest first).
using RecallFn =
    std::function<std::vector<RecalledPassage>(std::span<const PromptMessage> window)>;

struct PromptInput {
  const store::Character* character = nullptr;
  std::string user_name;
  std::string user_persona;
  std::vector<PromptMessage> history;  // oldest first, user/assistant, without the reply
  std::vector<std::string> pinned_memories;  // the relationship's memories, in order
  std::string summary;                       // the story so far ("" = none)
  RecallFn recall;                           // empty: no recall
  bool recall_always = false;  // the relationship has messages outside `history`
  int recall_max_tokens = 384;
  bool last_is_draft = false;  // the last history message is the inspector's draft
  int n_ctx = 0;
  int n_reply_tokens = 0;
  std::function<int(std::string_view)> count_tokens;
  uint64_t conversation_seed = 0;
  int64_t turn_index = 0;
};

struct Prompt {
  std::vector<PromptMessage> messages;
  size_t n_static_messages = 0;  // messages[0, n) are the shared static block
  std::string prefix_key;        // "char:<id>:rev:<revision>:<16 hex of the static text>"
  int n_prompt_tokens = 0;       // estimate: count_tokens + overhead per message
  int n_dropped_messages = 0;    // oldest history messages left out
  std::vector<std::string> activated_entries;  // lorebook entry names, in prompt order
  std::vector<RecalledPassage> recalled;       // in prompt order (oldest first)
  int recall_budget = 0;                       // tokens reserved for them (0 = none)
};

// A recalled passage longer than this is cut at a code point boundary, with "…".
inline constexpr size_t kMaxRecalledPassageBytes = 600;

inline constexpr std::string_view kNeutralUserName = "User";
inline constexpr int kMessageOverheadTokens = 4;

// Tokki's default system prompt ({{original}}), with {{char}} macros unexpanded.
std::string DefaultSystemPrompt(bool real_person);

// Errors: InvalidArgument for missing character/count_tokens or a non-positive budget;
// TooLarge when the character definition or the latest message alone does not fit.
Result<Prompt> BuildPrompt(const PromptInput& input);

}  // namespace tokki::persona
