// tokki/chat/persona_prompt.h — the PromptBuilder that assembles replies' prompts with the
// persona module (card fields, lorebook, macros, token budget, cache-friendly order) and,
// when given a MemoryService, the relationship's memories, summary and recall.
#pragma once

#include "chat/chat_service.h"
#include "chat/memory_service.h"

namespace tokki::chat {

// `engine` counts tokens (may be null: an estimate of 4 bytes per token is used).
// `n_ctx` is the prompt + reply budget of one conversation; `n_reply_tokens` is reserved.
// `memory` may be null (no memory: the messages' own pins only).
PromptBuilder PersonaPromptBuilder(const engine::Engine* engine, int n_ctx, int n_reply_tokens,
                                   MemoryService* memory = nullptr);

}  // namespace tokki::chat
