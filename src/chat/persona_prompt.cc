#include "chat/persona_prompt.h"

#include "core/log.h"
#include "persona/macros.h"
#include "persona/prompt.h"

namespace tokki::chat {

PromptBuilder PersonaPromptBuilder(const engine::Engine* engine, int n_ctx, int n_reply_tokens,
                                   MemoryService* memory) {
  return [engine, n_ctx, n_reply_tokens, memory](const PromptContext& ctx) -> Result<BuiltPrompt> {
    const store::User& user = ctx.user;
    persona::PromptInput in;
    in.character = &ctx.character;
    in.user_name = user.display_name.empty() ? user.username : user.display_name;
    in.user_persona = user.persona;
    int64_t turns = 0;
    std::vector<store::Message> path;  // the messages `in.history` holds, in order
    std::string last_user, last_reply;
    for (auto& m : ctx.history) {
      if (m.role != "user" && m.role != "assistant") continue;
      persona::PromptMessage pm{m.role, m.content};
      pm.source_id = m.id;
      in.history.push_back(std::move(pm));
      path.push_back(m);
      turns += m.role == "user";
      (m.role == "user" ? last_user : last_reply) = m.content;
    }
    in.n_ctx = n_ctx;
    in.n_reply_tokens = n_reply_tokens;
    if (engine) {
      in.count_tokens = [engine](std::string_view s) { return engine->CountTokens(s); };
    } else {
      in.count_tokens = [](std::string_view s) { return static_cast<int>(s.size() / 4 + 1); };
    }
    in.conversation_seed = persona::MixSeed(static_cast<uint64_t>(ctx.conversation.id), 0x70CC1);
    in.turn_index = turns;
    in.last_is_draft = ctx.inspect;
    if (memory) {
      TOKKI_RETURN_IF_ERROR(memory->Prepare(ctx.conversation, last_user, last_reply, &in));
    } else {
      for (auto& m : ctx.history)
        if (m.pinned) in.pinned_memories.push_back(m.content);
    }
    TOKKI_ASSIGN_OR_RETURN(persona::Prompt prompt, persona::BuildPrompt(in));
    if (memory && !ctx.inspect) memory->AfterPrompt(ctx.conversation, path, prompt.n_dropped_messages);
    BuiltPrompt out;
    for (auto& m : prompt.messages) {
      out.request.messages.push_back({m.role, m.content});
      out.sections.push_back(m.section);
      out.source_ids.push_back(m.source_id);
    }
    out.request.n_static_messages = prompt.n_static_messages;
    out.request.prefix_key = prompt.prefix_key;
    out.request.continue_last = ctx.continue_last;
    out.recalled = std::move(prompt.recalled);
    out.n_prompt_tokens = prompt.n_prompt_tokens;
    return out;
  };
}

}  // namespace tokki::chat
