// tokki/app/wiring.h — builds the concrete objects from a ServeConfig and owns them.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "api/auth.h"
#include "api/routes.h"
#include "api/server.h"
#include "chat/account_service.h"
#include "chat/character_service.h"
#include "chat/moderation_service.h"
#include "chat/chat_service.h"
#include "chat/draft_service.h"
#include "chat/memory_service.h"
#include "chat/user_events.h"
#include "discover/deck.h"
#include "core/result.h"
#include "engine/engine.h"
#include "store/store.h"

namespace tokki::app {

struct ServeConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string data_dir = "./var";
  std::string model;
  std::vector<std::string> backend_urls;
  std::string backend_model;
  std::string backend_key;
  int n_ctx_seq = 4096;    // KV cells of one conversation (per-sequence streams)
  bool kv_unified = false;  // one shared cache of n_ctx cells instead
  std::string kv_type = "f16";  // KV cache element type: f16, q8_0, q4_0
  // Embeddings (Engine::Embed): a GGUF model in this process, or OpenAI-compatible
  // /v1/embeddings servers; at most one of the two.
  std::string embed_model;
  std::vector<std::string> embed_urls;
  std::string embed_backend_model;
  std::string embed_key;
  int n_ctx = 16384;
  int n_parallel = 16;
  int n_engine_threads = 0;
  std::string web_dir;
  std::string catalog_dir;
  int n_threads = 2;
  size_t max_body_bytes = 1024 * 1024;
  int max_connections = 4096;
  int heartbeat_ms = 15000;
  std::string log_level = "info";
  // Hardening (docs/security.md): every limit has a default that suits a public server.
  std::vector<std::string> trusted_proxies;
  bool secure_cookies = false;
  std::vector<std::string> allowed_origins;
  std::string admin_listen;  // "HOST:PORT" serving /metrics and /api/server without sign-in
  int max_connections_per_address = 64;
  int max_streams_per_user = 32;
  int header_timeout_s = 10;
  int max_replies_per_user = 4;
  int max_messages_per_day = 1000;
  int max_characters_per_user = 200;
  int64_t max_storage_mib_per_user = 256;
  int max_signups_per_address_per_hour = 20;
  // Memory in prompts (pins, notes, summaries, recall) and the summary job. Off: the
  // Memories panel still stores memories, but replies are built without them.
  bool memory = true;
};

struct Wiring {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<chat::UserEvents> events;
  std::unique_ptr<chat::MemoryService> memory;  // before chat: its prompt builder uses it
  std::unique_ptr<chat::ChatService> chat;
  std::unique_ptr<chat::CharacterService> characters;
  std::unique_ptr<chat::DraftService> drafts;
  std::unique_ptr<chat::ModerationService> moderation;
  std::unique_ptr<chat::AccountService> accounts;
  std::unique_ptr<api::Auth> auth;
  std::shared_ptr<discover::Deck> deck;
  std::unique_ptr<api::Metrics> metrics;
  api::Services services;

  // The HTTP server for these services with `options` (not started).
  std::unique_ptr<api::Server> MakeServer(const api::ServerOptions& options);
  // The server options the config asks for.
  api::ServerOptions ServerOptionsFor(const ServeConfig& cfg) const;

  // Stops the engine and flushes the store. Idempotent.
  void Close();
  ~Wiring() { Close(); }
};

// `engine_override` (tests) replaces the engine the config would open.
// A folder that ships with Tokki: <source tree>/`source_rel` next to build/bin/tokki, or
// <prefix>/share/tokki/`install_rel`, or ./`source_rel`; the first holding `marker`
// ("" = any existing folder). Empty when none does.
std::filesystem::path FindShippedDir(const std::string& source_rel, const std::string& install_rel,
                                     const std::string& marker);

// Adds the catalog's characters that the store does not have yet (matched by slug).
// `cfg.catalog_dir`: "" = the catalog next to the program, "none" = skip.
Status LoadCatalog(const ServeConfig& cfg, store::Store* store);

Result<std::unique_ptr<Wiring>> Wire(const ServeConfig& cfg,
                                     std::unique_ptr<engine::Engine> engine_override = nullptr);

}  // namespace tokki::app
