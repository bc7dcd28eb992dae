#include "chat/persona_prompt.h"

#include <memory>
#include <unordered_map>

#include "core/hash.h"
#include "core/log.h"
#include "core/mutex.h"
#include "persona/macros.h"
#include "persona/prompt.h"

namespace tokki::chat {
namespace {

// Token counts of texts seen before (every turn re-counts the same history), by a 64-bit
// hash of the text. Bounded: cleared when it reaches kMaxEntries.
class TokenCountCache {
 public:
  static constexpr size_t kMaxEntries = 1 << 18;
  int Count(std::string_view text, const std::function<int(std::string_view)>& count)
      TOKKI_EXCLUDES(mu_) {
    const uint64_t key = Fnv1a64(text);
    {
      MutexLock lock(&mu_);
      auto it = counts_.find(key);
      if (it != counts_.end()) return it->second;
    }
    const int n = count(text);
    MutexLock lock(&mu_);
    if (counts_.size() >= kMaxEntries) counts_.clear();
    counts_[key] = n;
    return n;
  }

 private:
  Mutex mu_;
  std::unordered_map<uint64_t, int> counts_ TOKKI_GUARDED_BY(mu_);
};

}  // namespace

PromptBuilder PersonaPromptBuilder(const engine::Engine* engine, int n_ctx, int n_reply_tokens,
                                   MemoryService* memory) {
  auto cache = std::make_shared<TokenCountCache>();
  return [engine, n_ctx, n_reply_tokens, memory, cache](const PromptContext& ctx) -> Result<BuiltPrompt> {
    const store::User& user = ctx.user;
    persona::PromptInput in;
    in.character = &ctx.character;
    in.user_name = user.display_name.empty() ? user.username : user.display_name;
    in.user_persona = user.persona;
    int64_t turns = 0;
    std::vector<Id> path;  // ids of the messages `in.history` holds, in order
    std::string last_user, last_reply;
    for (auto& m : ctx.history) {
      if (m.role != "user" && m.role != "assistant") continue;
      persona::PromptMessage pm{m.role, m.content};
      pm.source_id = m.id;
      in.history.push_back(std::move(pm));
      path.push_back(m.id);
      turns += m.role == "user";
      (m.role == "user" ? last_user : last_reply) = m.content;
    }
    in.n_ctx = n_ctx;
    in.n_reply_tokens = n_reply_tokens;
    if (engine) {
      in.count_tokens = [engine, cache](std::string_view s) {
        return cache->Count(s, [engine](std::string_view t) { return engine->CountTokens(t); });
      };
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
    // A newer summary comes in only when the window moved (at most one more build).
    for (int i = 0; memory && i < 2 &&
                    memory->AfterPrompt(ctx.conversation, path, prompt.n_dropped_messages, &in,
                                        ctx.inspect);
         ++i) {
      TOKKI_ASSIGN_OR_RETURN(prompt, persona::BuildPrompt(in));
    }
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
