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

  api::ServerOptions so;
  so.host = cfg.host;
  so.port = cfg.port;
  so.n_threads = cfg.n_threads;
  so.web_dir = cfg.web_dir.empty() ? FindShippedDir("web/dist", "web", "index.html").string()
                                    : cfg.web_dir;
  so.max_body_bytes = cfg.max_body_bytes;
  so.heartbeat_ms = cfg.heartbeat_ms;
  so.max_connections = cfg.max_connections;
  api::Server server(so, w.services);
  auto port = server.Start();
  if (!port.ok()) {
    std::cerr << "tokki: " << port.status().message() << "\n";
    return 1;
  }
  TOKKI_LOG(info, "listening", "url", "http://" + cfg.host + ":" + std::to_string(*port),
            "web", so.web_dir.empty() ? std::string("(not built)") : so.web_dir, "data", cfg.data_dir);
  std::cout << "Tokki is serving on http://" << cfg.host << ":" << *port << std::endl;

  int sig = 0;
  sigwait(&signals, &sig);
  TOKKI_LOG(info, "shutting down", "signal", sig);
  server.StopAccepting();
  w.chat->Shutdown();  // ends every reply stream with a final event; writes final states
  server.Stop(5000);
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
  cmd->add_option("--ctx-size", cfg->n_ctx, "Embedded engine: total KV cache size in tokens")->envname("TOKKI_CTX_SIZE")->capture_default_str();
  cmd->add_option("--parallel", cfg->n_parallel, "Embedded engine: conversations decoded together")->envname("TOKKI_PARALLEL")->capture_default_str();
  cmd->add_option("--engine-threads", cfg->n_engine_threads, "Embedded engine: CPU threads (0 = all cores)")->envname("TOKKI_ENGINE_THREADS")->capture_default_str();
  cmd->add_option("--web-dir", cfg->web_dir, "Built web app to serve (default: web/dist next to the source tree)")->envname("TOKKI_WEB_DIR");
  cmd->add_option("--catalog-dir", cfg->catalog_dir, "Character catalog to load on start (default: catalog/ of the source tree)")->envname("TOKKI_CATALOG_DIR");
  cmd->add_option("--threads", cfg->n_threads, "HTTP I/O threads")->envname("TOKKI_THREADS")->capture_default_str();
  cmd->add_option("--max-body-bytes", cfg->max_body_bytes, "Largest JSON request body")->envname("TOKKI_MAX_BODY_BYTES")->capture_default_str();
  cmd->add_option("--max-connections", cfg->max_connections, "Most concurrent connections")->envname("TOKKI_MAX_CONNECTIONS")->capture_default_str();
  cmd->add_option("--heartbeat-ms", cfg->heartbeat_ms, "Interval of SSE heartbeats")->envname("TOKKI_HEARTBEAT_MS")->capture_default_str();
  cmd->add_option("--log-level", cfg->log_level, "trace|debug|info|warn|error")->envname("TOKKI_LOG_LEVEL")->capture_default_str();
  cmd->callback([cfg] { std::exit(RunServe(*cfg)); });
}

}  // namespace tokki::app
