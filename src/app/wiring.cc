#include "app/wiring.h"

#include <filesystem>

#include "chat/simple_prompt.h"
#include "core/log.h"

namespace tokki::app {

void Wiring::Close() {
  if (chat) chat->Shutdown();
  if (engine) engine->Shutdown();
  if (store) store->Close();
}

Result<std::unique_ptr<Wiring>> Wire(const ServeConfig& cfg,
                                     std::unique_ptr<engine::Engine> engine_override) {
  namespace fs = std::filesystem;
  auto w = std::make_unique<Wiring>();
  std::error_code ec;
  fs::create_directories(cfg.data_dir, ec);
  if (ec) return Status::InvalidArgument("cannot create data dir " + cfg.data_dir + ": " + ec.message());

  auto store = store::OpenSqliteStore((fs::path(cfg.data_dir) / "tokki.db").string());
  if (!store.ok()) return store.status().WithContext("opening the database");
  w->store = std::move(store).value();
  auto stopped = w->store->StopInterruptedMessages();
  if (stopped.ok() && *stopped > 0)
    TOKKI_LOG(warn, "replies interrupted by the last shutdown marked stopped", "count", *stopped);

  if (engine_override) {
    w->engine = std::move(engine_override);
  } else if (!cfg.model.empty() || !cfg.backend_urls.empty()) {
    return Status::InvalidArgument("this build has no engine for --model/--backend-url yet");
  } else {
    TOKKI_LOG(warn, "no model configured: chat replies are disabled; start with --model "
                    "FILE.gguf or --backend-url URL");
  }

  w->events = std::make_unique<chat::UserEvents>();
  w->chat = std::make_unique<chat::ChatService>(w->store.get(), w->engine.get(), w->events.get(),
                                                chat::SimplePromptBuilder(), chat::ChatOptions{});
  w->auth = std::make_unique<api::Auth>(w->store.get(), api::AuthOptions{});
  w->services.store = w->store.get();
  w->services.chat = w->chat.get();
  w->services.events = w->events.get();
  w->services.engine = w->engine.get();
  w->services.auth = w->auth.get();
  return w;
}

}  // namespace tokki::app
