#include "chat/persona_prompt.h"

#include "persona/macros.h"
#include "persona/prompt.h"

namespace tokki::chat {

PromptBuilder PersonaPromptBuilder(const engine::Engine* engine, int n_ctx, int n_reply_tokens) {
  return [engine, n_ctx, n_reply_tokens](const store::Character& c, const store::User& user,
                                         const std::vector<store::Message>& history,
                                         bool continue_last) -> Result<engine::GenerateRequest> {
    persona::PromptInput in;
    in.character = &c;
    in.user_name = user.display_name.empty() ? user.username : user.display_name;
    in.user_persona = user.persona;
    int64_t turns = 0;
    for (auto& m : history) {
      if (m.role != "user" && m.role != "assistant") continue;
      in.history.push_back({m.role, m.content});
      if (m.pinned) in.pinned_memories.push_back(m.content);
      turns += m.role == "user";
    }
    in.n_ctx = n_ctx;
    in.n_reply_tokens = n_reply_tokens;
    if (engine) {
      in.count_tokens = [engine](std::string_view s) { return engine->CountTokens(s); };
    } else {
      in.count_tokens = [](std::string_view s) { return static_cast<int>(s.size() / 4 + 1); };
    }
    Id conversation_id = history.empty() ? kNoId : history.front().conversation_id;
    in.conversation_seed = persona::MixSeed(static_cast<uint64_t>(conversation_id), 0x70CC1);
    in.turn_index = turns;
    TOKKI_ASSIGN_OR_RETURN(persona::Prompt prompt, persona::BuildPrompt(in));
    engine::GenerateRequest req;
    for (auto& m : prompt.messages) req.messages.push_back({m.role, m.content});
    req.n_static_messages = prompt.n_static_messages;
    req.prefix_key = prompt.prefix_key;
    req.continue_last = continue_last;
    return req;
  };
}

}  // namespace tokki::chat
