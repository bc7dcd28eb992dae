#include "chat/simple_prompt.h"

namespace tokki::chat {

PromptBuilder SimplePromptBuilder() {
  return [](const store::Character& c, const store::User& user,
            const std::vector<store::Message>& history,
            bool continue_last) -> Result<engine::GenerateRequest> {
    engine::GenerateRequest req;
    std::string system = c.system_prompt.empty()
                             ? "You are " + c.name + ". Stay in character and reply as " + c.name + "."
                             : c.system_prompt;
    if (!c.description.empty()) system += "\n\n" + c.description;
    if (!c.personality.empty()) system += "\n\nPersonality: " + c.personality;
    if (!c.scenario.empty()) system += "\n\nScenario: " + c.scenario;
    req.messages.push_back({"system", system});
    req.n_static_messages = 1;
    req.prefix_key = "char:" + std::to_string(c.id) + ":rev:" + std::to_string(c.revision);
    for (auto& m : history) req.messages.push_back({m.role, m.content});
    req.continue_last = continue_last;
    return req;
  };
}

}  // namespace tokki::chat
