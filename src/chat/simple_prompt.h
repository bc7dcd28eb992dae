// tokki/chat/simple_prompt.h — a plain prompt builder (system block from the card, then
// the history). Used when no persona prompt builder is configured.
#pragma once

#include "chat/chat_service.h"

namespace tokki::chat {

PromptBuilder SimplePromptBuilder();

}  // namespace tokki::chat
