// See llama_init.h.
#include "engine/llama_init.h"

#include <llama.h>

#include <mutex>
#include <string>
#include <string_view>

#include "core/log.h"

namespace tokki::engine {
namespace {

// ---- llama.cpp logging -> Tokki logging (warnings and errors only) ----
void LlamaLog(ggml_log_level level, const char* text, void*) {
  if (level != GGML_LOG_LEVEL_ERROR && level != GGML_LOG_LEVEL_WARN) return;
  std::string_view t(text);
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.remove_suffix(1);
  if (t.empty()) return;
  if (level == GGML_LOG_LEVEL_ERROR) {
    TOKKI_LOG(warn, "llama.cpp", "detail", std::string(t));
  } else {
    TOKKI_LOG(debug, "llama.cpp", "detail", std::string(t));
  }
}

}  // namespace

void InitBackendOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    llama_log_set(LlamaLog, nullptr);
    llama_backend_init();
  });
}

}  // namespace tokki::engine
