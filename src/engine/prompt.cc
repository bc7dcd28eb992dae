// Piecewise prompt rendering. See prompt.h.
#include "engine/prompt.h"

#include <climits>

namespace tokki::engine {
namespace {

constexpr char kSentinel[] = "\x01tokki-content\x02";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

void Append(std::vector<llama_token>& out, const std::vector<llama_token>& more) {
  out.insert(out.end(), more.begin(), more.end());
}

}  // namespace

PromptRenderer::PromptRenderer(const llama_vocab* vocab, std::string chat_template, bool add_bos)
    : vocab_(vocab), template_(std::move(chat_template)), add_bos_(add_bos) {}

std::vector<llama_token> Tokenize(const llama_vocab* vocab, std::string_view text,
                                  bool add_special, bool parse_special) {
  if (text.empty()) return {};
  if (text.size() > INT_MAX / 2) return {};
  std::vector<llama_token> out(text.size() + 8);
  int n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), out.data(),
                         static_cast<int32_t>(out.size()), add_special, parse_special);
  if (n < 0) {
    out.resize(-n);
    n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), out.data(),
                       static_cast<int32_t>(out.size()), add_special, parse_special);
  }
  out.resize(n > 0 ? n : 0);
  return out;
}

std::vector<llama_token> PromptRenderer::Tokenize(std::string_view text, bool parse_special) const {
  return engine::Tokenize(vocab_, text, /*add_special=*/false, parse_special);
}

bool PromptRenderer::Apply(const std::vector<ChatMessage>& messages, size_t n, bool add_assistant,
                           std::string* out) const {
  out->clear();
  if (n == 0 && !add_assistant) return true;
  std::vector<llama_chat_message> chat(n);
  size_t total = 64;
  for (size_t i = 0; i < n; ++i) {
    chat[i] = {messages[i].role.c_str(), messages[i].content.c_str()};
    total += messages[i].content.size() + messages[i].role.size();
  }
  std::string buf(total * 2 + 256, '\0');
  int32_t len = llama_chat_apply_template(template_.c_str(), chat.data(), n, add_assistant,
                                          buf.data(), static_cast<int32_t>(buf.size()));
  if (len < 0) return false;
  if (static_cast<size_t>(len) > buf.size()) {
    buf.resize(len);
    len = llama_chat_apply_template(template_.c_str(), chat.data(), n, add_assistant, buf.data(),
                                    static_cast<int32_t>(buf.size()));
    if (len < 0) return false;
  }
  buf.resize(len);
  *out = std::move(buf);
  return true;
}

Result<RenderedPrompt> PromptRenderer::Render(const std::vector<ChatMessage>& messages,
                                              size_t n_static_messages, bool continue_last,
                                              const ReplyLookup& lookup) const {
  if (messages.empty()) return Status::InvalidArgument("no messages");
  if (continue_last && messages.back().role != "assistant") {
    return Status::InvalidArgument("continue_last needs a final assistant message");
  }
  RenderedPrompt out;
  if (add_bos_) out.tokens.push_back(llama_vocab_bos(vocab_));
  const size_t n = messages.size();
  const size_t n_full = continue_last ? n - 1 : n;  // messages rendered with their footer
  std::string prev, cur, probe;
  std::vector<ChatMessage> with_sentinel;
  bool piecewise = true;
  for (size_t i = 0; i < n && piecewise; ++i) {
    if (!Apply(messages, i + 1, false, &cur)) {
      return Status::InvalidArgument("chat template cannot render this chat");
    }
    if (!StartsWith(cur, prev)) {
      piecewise = false;
      break;
    }
    std::string_view piece = std::string_view(cur).substr(prev.size());
    // Find header/footer with a sentinel in place of the content.
    with_sentinel.assign(messages.begin(), messages.begin() + i + 1);
    with_sentinel[i].content = kSentinel;
    const ChatMessage& m = messages[i];
    bool split = false;
    std::string_view header, footer;
    if (Apply(with_sentinel, i + 1, false, &probe) && StartsWith(probe, prev)) {
      std::string_view sp = std::string_view(probe).substr(prev.size());
      const size_t pos = sp.find(kSentinel);
      if (pos != std::string_view::npos) {
        header = sp.substr(0, pos);
        footer = sp.substr(pos + sizeof(kSentinel) - 1);
        // `piece` views `cur`, `header`/`footer` view `probe`; compare by content.
        split = piece.size() == header.size() + m.content.size() + footer.size() &&
                StartsWith(piece, header) &&
                piece.substr(header.size(), m.content.size()) == m.content &&
                piece.substr(header.size() + m.content.size()) == footer;
      }
    }
    if (split) {
      Append(out.tokens, Tokenize(header, true));
      const std::vector<llama_token>* reused =
          (m.role == "assistant" && lookup) ? lookup(m.content) : nullptr;
      if (reused) {
        Append(out.tokens, *reused);
        ++out.n_reused_replies;
      } else {
        Append(out.tokens, Tokenize(m.content, false));
      }
      if (i < n_full) Append(out.tokens, Tokenize(footer, true));
    } else {
      if (i >= n_full) {
        piecewise = false;  // cannot cut the footer off a message to be continued
        break;
      }
      Append(out.tokens, Tokenize(piece, true));
    }
    if (i + 1 == n_static_messages) out.n_static_tokens = out.tokens.size();
    prev = std::move(cur);
  }
  if (piecewise && !continue_last) {
    if (!Apply(messages, n, true, &cur) || !StartsWith(cur, prev)) {
      piecewise = false;
    } else {
      Append(out.tokens, Tokenize(std::string_view(cur).substr(prev.size()), true));
    }
  }
  if (!piecewise) {
    // The template is not prefix-stable: tokenize the whole rendering (no sharing).
    RenderedPrompt whole;
    if (add_bos_) whole.tokens.push_back(llama_vocab_bos(vocab_));
    if (!Apply(messages, n, !continue_last, &cur)) {
      return Status::InvalidArgument("chat template cannot render this chat");
    }
    if (continue_last) {
      // Cut the rendering right after the last message's content.
      const size_t pos = cur.rfind(messages.back().content);
      if (pos != std::string::npos) cur.resize(pos + messages.back().content.size());
    }
    Append(whole.tokens, Tokenize(cur, true));
    return whole;
  }
  if (n_static_messages > n) out.n_static_tokens = 0;
  return out;
}

}  // namespace tokki::engine
