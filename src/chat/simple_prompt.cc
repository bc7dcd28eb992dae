#include "chat/simple_prompt.h"

namespace tokki::chat {

PromptBuilder SimplePromptBuilder() {
  return [](const PromptContext& ctx) -> Result<BuiltPrompt> {
    const store::Character& c = ctx.character;
    BuiltPrompt out;
    engine::GenerateRequest& req = out.request;
    std::string system = c.system_prompt.empty()
                             ? "You are " + c.name + ". Stay in character and reply as " + c.name + "."
                             : c.system_prompt;
    if (!c.description.empty()) system += "\n\n" + c.description;
    if (!c.personality.empty()) system += "\n\nPersonality: " + c.personality;
    if (!c.scenario.empty()) system += "\n\nScenario: " + c.scenario;
    req.messages.push_back({"system", system});
    out.sections.push_back("static");
    out.source_ids.push_back(kNoId);
    req.n_static_messages = 1;
    req.prefix_key = "char:" + std::to_string(c.id) + ":rev:" + std::to_string(c.revision);
    for (auto& m : ctx.history) {
      req.messages.push_back({m.role, m.content});
      out.sections.push_back("history");
      out.source_ids.push_back(m.id);
    }
    if (ctx.inspect && !out.sections.empty()) out.sections.back() = "draft";
    req.continue_last = ctx.continue_last;
    for (auto& m : req.messages) out.n_prompt_tokens += static_cast<int>(m.content.size() / 4 + 1);
    return out;
  };
}

}  // namespace tokki::chat
