// libFuzzer target for the HTTP request path: raw bytes go to a real in-process Tokki
// server (SQLite in a temporary folder, the test engine) over a loopback connection, so
// Beast's parser, the server's limits, authentication, routing and every handler see
// exactly what a hostile client could send. "@TOKEN@", "@CONV@" and "@CHAR@" in the
// input are replaced by a signed-in user's token and ids, so the fuzzer reaches the
// authenticated routes too. A crash, sanitizer report or hang anywhere in the server is a
// finding. Built and run by tools/fuzz/http_run.sh.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "app/wiring.h"
#include "core/log.h"
#include "support/fake_engine.h"
#include "support/http_client.h"
#include "support/raw_socket.h"

namespace {

struct World {
  std::unique_ptr<tokki::app::Wiring> wiring;
  std::unique_ptr<tokki::api::Server> server;
  uint16_t port = 0;
  std::string token, conv, character;
};

World* Start() {
  tokki::log::Init("error");  // every refused request is logged at info: too much for a fuzzer
  auto* w = new World;
  auto dir = std::filesystem::temp_directory_path() / ("tokki-http-fuzz-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  tokki::app::ServeConfig cfg;
  cfg.data_dir = dir.string();
  cfg.catalog_dir = "none";
  cfg.log_level = "off";
  cfg.max_signups_per_address_per_hour = 0;
  cfg.max_messages_per_day = 0;
  auto wired = tokki::app::Wire(cfg, std::make_unique<tokki::testing::FakeEngine>(0));
  if (!wired.ok()) std::abort();
  w->wiring = std::move(wired).value();
  tokki::api::ServerOptions so;
  so.port = 0;
  so.header_timeout_s = 1;
  so.body_timeout_s = 1;
  so.max_connections_per_address = 0;
  so.heartbeat_ms = 50;
  w->server = w->wiring->MakeServer(so);
  auto port = w->server->Start();
  if (!port.ok()) std::abort();
  w->port = *port;
  tokki::testing::HttpClient c(w->port);
  c.SignUp("fuzzer");
  w->token = c.token();
  auto ch = c.Post("/api/characters", {{"name", "Fuzz"}, {"visibility", "public"}, {"first_mes", "hi"}}).json();
  w->character = std::to_string(ch.value("id", 0));
  auto conv = c.Post("/api/conversations", {{"character_id", ch.value("id", 0)}}).json();
  w->conv = std::to_string(conv.value("id", 0));
  return w;
}

void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = Start();
  std::string bytes(reinterpret_cast<const char*>(data), size);
  ReplaceAll(bytes, "@TOKEN@", world->token);
  ReplaceAll(bytes, "@CONV@", world->conv);
  ReplaceAll(bytes, "@CHAR@", world->character);
  tokki::testing::RawConnection c(world->port);
  if (!c.connected()) return 0;
  c.Send(bytes);
  c.ShutdownWrite();  // the server sees the end of the request bytes
  c.Read(150);        // whatever the server answers; a slow stream is cut off here
  return 0;
}
