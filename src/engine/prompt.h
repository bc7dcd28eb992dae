// tokki/engine/prompt.h — renders a chat into prompt token ids for the llama engine
// (internal to src/engine; includes llama.h).
//
// Messages are rendered with the model's chat template (llama_chat_apply_template) and
// tokenized piecewise: every message is split into template header, content and footer,
// each tokenized on its own. A message therefore always becomes the same tokens, whatever
// follows it, so turn N+1's prompt starts with exactly turn N's prompt tokens. An
// assistant message whose text the engine generated itself is replaced by the generated
// token ids (`lookup`), so the KV cache of the previous turn is reused as is.
// Message content is tokenized without special-token parsing (a user typing
// "<|im_end|>" gets text, not a control token).
//
// Thread safety: const methods are safe to call concurrently.
#pragma once

#include <llama.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "engine/engine.h"

namespace tokki::engine {

struct RenderedPrompt {
  std::vector<llama_token> tokens;
  // Tokens covering messages [0, n_static_messages): the shareable persona prefix
  // (0 when it could not be delimited).
  size_t n_static_tokens = 0;
  int n_reused_replies = 0;  // assistant messages taken from `lookup`
};

// Token ids of `text` ({} for an empty or absurdly long text). `add_special`: the tokens
// the model adds around a text (e.g. BOS); `parse_special`: control-token text becomes
// control tokens.
std::vector<llama_token> Tokenize(const llama_vocab* vocab, std::string_view text,
                                  bool add_special, bool parse_special);

// Returns the generated token ids for an assistant reply text, or nullptr.
using ReplyLookup = std::function<const std::vector<llama_token>*(std::string_view text)>;

class PromptRenderer {
 public:
  // `chat_template`: a template text or built-in name accepted by llama_chat_apply_template.
  PromptRenderer(const llama_vocab* vocab, std::string chat_template, bool add_bos);

  Result<RenderedPrompt> Render(const std::vector<ChatMessage>& messages, size_t n_static_messages,
                                bool continue_last, const ReplyLookup& lookup) const;

  std::vector<llama_token> Tokenize(std::string_view text, bool parse_special) const;

  // Whole-chat rendering; false when the template is not supported.
  bool Apply(const std::vector<ChatMessage>& messages, size_t n, bool add_assistant,
             std::string* out) const;

 private:
  const llama_vocab* vocab_;
  std::string template_;
  bool add_bos_;
};

}  // namespace tokki::engine
