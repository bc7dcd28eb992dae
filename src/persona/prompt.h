// tokki/persona/prompt.h — builds the chat prompt for one reply.
//
// Layout (all roles are "system" except the history):
//   [0] static block   system prompt ({{original}} = Tokki's default), description,
//                      personality, scenario, example dialogues. Depends only on the
//                      character (+revision) and n_ctx, never on the user: {{user}} here
//                      is the neutral name "User". prefix_key names it, so the engine can
//                      keep one KV prefix per character and share it across conversations.
//   [1] per-user part  who the user is (+ persona), pinned memories, activated lorebook
//                      entries (before_char entries first, after_char entries last).
//   ... history        oldest first; lorebook entries with @@depth N are inserted as
//                      system messages N messages from the end.
//   [last] post-history instructions, when the card has them.
//
// Budget = n_ctx - n_reply_tokens, measured with count_tokens plus kMessageOverheadTokens
// per message. Example dialogues are dropped first, decided from the card and n_ctx only
// (kept when the static block with them fits in half of n_ctx). Then the oldest history
// messages are dropped in whole chunks of about a quarter of the budget, cut at fixed
// points counted from the start of the conversation, so the kept history keeps the same
// first message over many turns instead of shifting every turn.
//
// Thread safety: pure function. Start with BuildPrompt().
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/records.h"

namespace tokki::persona {

struct PromptMessage {
  std::string role;  // "system" | "user" | "assistant"
  std::string content;
};

struct PromptInput {
  const store::Character* character = nullptr;
  std::string user_name;
  std::string user_persona;
  std::vector<PromptMessage> history;  // oldest first, user/assistant, without the reply
  std::vector<std::string> pinned_memories;
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
};

inline constexpr std::string_view kNeutralUserName = "User";
inline constexpr int kMessageOverheadTokens = 4;

// Tokki's default system prompt ({{original}}), with {{char}} macros unexpanded.
std::string DefaultSystemPrompt(bool real_person);

// Errors: InvalidArgument for missing character/count_tokens or a non-positive budget;
// TooLarge when the character definition or the latest message alone does not fit.
Result<Prompt> BuildPrompt(const PromptInput& input);

}  // namespace tokki::persona
