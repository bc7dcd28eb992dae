// `tokki serve`: opens the store, the engine and the services, then runs the HTTP server
// until SIGINT/SIGTERM, and shuts down in order (stop accepting → end replies → close
// connections → stop the engine → flush the store).
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "api/auth.h"
#include "api/server.h"
#include "app/commands.h"
#include "app/wiring.h"
#include "chat/chat_service.h"
#include "core/log.h"
#include "store/store.h"

namespace tokki::app {

namespace {

int RunServe(const ServeConfig& cfg) {
  log::Init(cfg.log_level);
  // Signals are taken by sigwait() below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto app = Wire(cfg);
  if (!app.ok()) {
    TOKKI_LOG(error, "start-up failed", "error", app.status().ToString());
    std::cerr << "tokki: " << app.status().message() << "\n";
    return 1;
  }
  Wiring& w = **app;

  api::ServerOptions so = w.ServerOptionsFor(cfg);
  auto server = w.MakeServer(so);
  auto port = server->Start();
  if (!port.ok()) {
    std::cerr << "tokki: " << port.status().message() << "\n";
    return 1;
  }
  // Operations on a separate address (e.g. 127.0.0.1:9090, reached only by the
  // operator's monitoring): /metrics and the server's details without sign-in.
  std::unique_ptr<api::Server> admin;
  if (!cfg.admin_listen.empty()) {
    auto colon = cfg.admin_listen.rfind(':');
    api::ServerOptions ao;
    ao.host = colon == std::string::npos ? "127.0.0.1" : cfg.admin_listen.substr(0, colon);
    try {
      ao.port = static_cast<uint16_t>(std::stoi(cfg.admin_listen.substr(colon == std::string::npos ? 0 : colon + 1)));
    } catch (...) {
      std::cerr << "tokki: --admin-listen wants HOST:PORT\n";
      return 1;
    }
    ao.n_threads = 1;
    ao.n_workers = 1;
    ao.n_hashers = 1;
    admin = std::make_unique<api::Server>(ao, api::MakeOpsRoutes(w.services, api::Access::kPublic),
                                          api::MakeAuthenticator(w.auth.get()), w.metrics.get());
    auto aport = admin->Start();
    if (!aport.ok()) {
      std::cerr << "tokki: " << aport.status().message() << "\n";
      return 1;
    }
    TOKKI_LOG(info, "operations listener", "url", "http://" + ao.host + ":" + std::to_string(*aport));
  }
  TOKKI_LOG(info, "listening", "url", "http://" + cfg.host + ":" + std::to_string(*port),
            "web", so.web_dir.empty() ? std::string("(not built)") : so.web_dir, "data", cfg.data_dir);
  std::cout << "Tokki is serving on http://" << cfg.host << ":" << *port << std::endl;

  int sig = 0;
  sigwait(&signals, &sig);
  TOKKI_LOG(info, "shutting down", "signal", sig);
  server->StopAccepting();
  w.chat->Shutdown();  // ends every reply stream with a final event; writes final states
  server->Stop(5000);
  if (admin) admin->Stop(1000);
  w.Close();
  TOKKI_LOG(info, "stopped");
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app) {
  auto cfg = std::make_shared<ServeConfig>();
  CLI::App* cmd = app.add_subcommand("serve", "Run the HTTP server and the web app");
  cmd->fallthrough();  // --config belongs to the main app (see main.cc) and works here too
  cmd->add_option("--host", cfg->host, "Address to listen on")->envname("TOKKI_HOST")->capture_default_str();
  cmd->add_option("--port", cfg->port, "Port to listen on (0 = any free port)")->envname("TOKKI_PORT")->capture_default_str();
  cmd->add_option("--data-dir", cfg->data_dir, "Folder for the database and caches")->envname("TOKKI_DATA_DIR")->capture_default_str();
  cmd->add_option("--model", cfg->model, "A GGUF chat model for the embedded engine")->envname("TOKKI_MODEL");
  cmd->add_option("--backend-url", cfg->backend_urls,
                  "An OpenAI-compatible server (repeat for several; sticky per conversation)")
      ->envname("TOKKI_BACKEND_URL")->delimiter(',');
  cmd->add_option("--backend-model", cfg->backend_model, "Model name to ask the backend for")->envname("TOKKI_BACKEND_MODEL");
  cmd->add_option("--backend-key", cfg->backend_key, "API key for the backend")->envname("TOKKI_BACKEND_KEY");
  cmd->add_option("--embed-model", cfg->embed_model,
                  "A GGUF embedding model run in this process beside the chat engine (embeddings for memory)")
      ->envname("TOKKI_EMBED_MODEL");
  cmd->add_option("--embed-url", cfg->embed_urls,
                  "An OpenAI-compatible /v1/embeddings server instead, e.g. llama-server --embeddings "
                  "(repeat for several; the chat backend is not asked)")
      ->envname("TOKKI_EMBED_URL")->delimiter(',');
  cmd->add_option("--embed-backend-model", cfg->embed_backend_model, "Model name to ask the embedding server for")
      ->envname("TOKKI_EMBED_BACKEND_MODEL");
  cmd->add_option("--embed-key", cfg->embed_key, "API key for the embedding server")->envname("TOKKI_EMBED_KEY");
  cmd->add_option("--ctx-size", cfg->n_ctx_seq, "Embedded engine: KV cache of one conversation in tokens (its window)")->envname("TOKKI_CTX_SIZE")->capture_default_str();
  cmd->add_flag("--kv-unified", cfg->kv_unified, "Embedded engine: one KV cache shared by all conversations (less memory; attention spans all of them)")->envname("TOKKI_KV_UNIFIED");
  cmd->add_option("--kv-unified-size", cfg->n_ctx, "Embedded engine: size of the shared KV cache with --kv-unified, in tokens")->envname("TOKKI_KV_UNIFIED_SIZE")->capture_default_str();
  cmd->add_option("--kv-type", cfg->kv_type, "Embedded engine: KV cache element type (q8_0 halves its memory and what attention reads)")->envname("TOKKI_KV_TYPE")->check(CLI::IsMember({"f16", "q8_0", "q4_0"}))->capture_default_str();
  cmd->add_option("--parallel", cfg->n_parallel, "Embedded engine: conversations decoded together")->envname("TOKKI_PARALLEL")->capture_default_str();
  cmd->add_option("--engine-threads", cfg->n_engine_threads, "Embedded engine: CPU threads (0 = all cores)")->envname("TOKKI_ENGINE_THREADS")->capture_default_str();
  cmd->add_option("--web-dir", cfg->web_dir, "Built web app to serve (default: web/dist next to the source tree)")->envname("TOKKI_WEB_DIR");
  cmd->add_option("--catalog-dir", cfg->catalog_dir, "Character catalog to load on start (default: catalog/ of the source tree)")->envname("TOKKI_CATALOG_DIR");
  cmd->add_option("--threads", cfg->n_threads, "HTTP I/O threads")->envname("TOKKI_THREADS")->capture_default_str();
  cmd->add_option("--max-body-bytes", cfg->max_body_bytes, "Largest JSON request body")->envname("TOKKI_MAX_BODY_BYTES")->capture_default_str();
  cmd->add_option("--max-connections", cfg->max_connections, "Most concurrent connections")->envname("TOKKI_MAX_CONNECTIONS")->capture_default_str();
  cmd->add_option("--heartbeat-ms", cfg->heartbeat_ms, "Interval of SSE heartbeats")->envname("TOKKI_HEARTBEAT_MS")->capture_default_str();
  cmd->add_option("--trusted-proxy", cfg->trusted_proxies,
                  "Reverse proxy address or CIDR range whose X-Forwarded-For/-Proto are believed (repeatable)")
      ->envname("TOKKI_TRUSTED_PROXY")->delimiter(',');
  cmd->add_flag("--secure-cookies", cfg->secure_cookies, "Always mark the session cookie Secure (behind TLS)")
      ->envname("TOKKI_SECURE_COOKIES");
  cmd->add_option("--allowed-origin", cfg->allowed_origins,
                  "Extra origin (https://host) allowed to write with the session cookie (repeatable)")
      ->envname("TOKKI_ALLOWED_ORIGIN")->delimiter(',');
  cmd->add_option("--admin-listen", cfg->admin_listen,
                  "HOST:PORT serving /metrics and /api/server details without sign-in (keep it private)")
      ->envname("TOKKI_ADMIN_LISTEN");
  cmd->add_option("--max-connections-per-address", cfg->max_connections_per_address,
                  "Open connections one client address may hold (0 = unlimited)")
      ->envname("TOKKI_MAX_CONNECTIONS_PER_ADDRESS")->capture_default_str();
  cmd->add_option("--max-streams-per-user", cfg->max_streams_per_user, "Open event streams per account")
      ->envname("TOKKI_MAX_STREAMS_PER_USER")->capture_default_str();
  cmd->add_option("--header-timeout", cfg->header_timeout_s, "Seconds a new connection has to send its request header")
      ->envname("TOKKI_HEADER_TIMEOUT")->capture_default_str();
  cmd->add_option("--max-replies-per-user", cfg->max_replies_per_user, "Replies one account may have running at once")
      ->envname("TOKKI_MAX_REPLIES_PER_USER")->capture_default_str();
  cmd->add_option("--max-messages-per-day", cfg->max_messages_per_day, "Messages one account may send in 24 hours (0 = unlimited)")
      ->envname("TOKKI_MAX_MESSAGES_PER_DAY")->capture_default_str();
  cmd->add_option("--max-characters-per-user", cfg->max_characters_per_user, "Characters one account may own (0 = unlimited)")
      ->envname("TOKKI_MAX_CHARACTERS_PER_USER")->capture_default_str();
  cmd->add_option("--max-storage-mib-per-user", cfg->max_storage_mib_per_user, "MiB of cards and avatars per account (0 = unlimited)")
      ->envname("TOKKI_MAX_STORAGE_MIB_PER_USER")->capture_default_str();
  cmd->add_option("--max-signups-per-hour", cfg->max_signups_per_address_per_hour,
                  "Sign-ups from one client address per hour (0 = unlimited)")
      ->envname("TOKKI_MAX_SIGNUPS_PER_HOUR")->capture_default_str();
  cmd->add_option("--memory", cfg->memory, "Friends remember: memories, summaries and recall in prompts (true|false)")
      ->envname("TOKKI_MEMORY")->capture_default_str();
  cmd->add_option("--log-level", cfg->log_level, "trace|debug|info|warn|error")->envname("TOKKI_LOG_LEVEL")->capture_default_str();
  cmd->callback([cfg] { std::exit(RunServe(*cfg)); });
}

}  // namespace tokki::app
