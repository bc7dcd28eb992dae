// Starts a real Tokki HTTP server in-process on 127.0.0.1 (any free port) with the SQLite
// store in a temporary folder and the test engine (or a real one, make_engine_).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>

#include "app/wiring.h"
#include "support/fake_engine.h"
#include "support/http_client.h"

namespace tokki::testing {

// An error answer with the JSON error shape, its status and its code.
inline void ExpectError(const HttpResult& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  auto j = r.json();
  ASSERT_TRUE(j.is_object()) << r.body;
  ASSERT_TRUE(j.contains("error")) << r.body;
  EXPECT_EQ(j["error"]["code"], code) << r.body;
  EXPECT_TRUE(j["error"]["message"].is_string()) << r.body;
}

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }
  void TearDown() override { StopServer(); std::filesystem::remove_all(dir_); }

  void StartServer(int token_delay_ms = 2) {
    dir_ = std::filesystem::temp_directory_path() /
           ("tokki-api-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    app::ServeConfig cfg;
    cfg.data_dir = dir_.string();
    cfg.log_level = "warn";
    cfg.catalog_dir = catalog_dir_;
    cfg.max_signups_per_address_per_hour = max_signups_per_hour_;
    if (max_characters_per_user_) cfg.max_characters_per_user = max_characters_per_user_;
    if (max_messages_per_day_) cfg.max_messages_per_day = max_messages_per_day_;
    std::unique_ptr<engine::Engine> engine;
    if (make_engine_) {
      engine = make_engine_();
      ASSERT_TRUE(engine);
    } else {
      auto fake = std::make_unique<FakeEngine>(token_delay_ms);
      engine_ = fake.get();
      engine = std::move(fake);
    }
    auto w = app::Wire(cfg, std::move(engine));
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    wiring_ = std::move(w).value();
    api::ServerOptions so;
    so.port = 0;
    so.heartbeat_ms = 200;
    so.max_body_bytes = 64 * 1024;
    so.web_dir = web_dir_;
    so.header_timeout_s = 3;
    so.trusted_proxies = trusted_proxies_;
    server_ = wiring_->MakeServer(so);
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
  }

  void StopServer() {
    if (!server_) return;
    server_->StopAccepting();
    wiring_->chat->Shutdown();
    server_->Stop(3000);
    server_.reset();
    wiring_.reset();
  }

  HttpClient Client() { return HttpClient(port_); }

  // A signed-up client.
  HttpClient User(const std::string& name) {
    HttpClient c(port_);
    auto j = c.SignUp(name);
    EXPECT_TRUE(j.contains("token")) << j.dump();
    return c;
  }

  // A signed-in administrator (made through the store, as `tokki admin` does).
  HttpClient Admin(const std::string& name) {
    HttpClient c(port_);
    c.SignUp(name);
    auto u = wiring_->store->GetUserByName(name);
    EXPECT_TRUE(u.ok());
    EXPECT_TRUE(wiring_->store->SetUserRole(u->id, store::Role::kAdmin).ok());
    EXPECT_TRUE(wiring_->auth->RevokeUserSessions(u->id).ok());
    auto r = c.Post("/api/auth/login", {{"username", name}, {"password", "correct-horse"}});
    EXPECT_EQ(r.status, 200) << r.body;
    c.set_token(r.json()["token"]);
    return c;
  }

  std::string catalog_dir_ = "none";  // tests add their own characters
  std::string web_dir_;
  std::vector<std::string> trusted_proxies_;
  int max_characters_per_user_ = 0;  // 0 = the default
  int max_signups_per_hour_ = 0;     // 0 = unlimited in tests
  int max_messages_per_day_ = 0;
  // A real engine instead of the FakeEngine (then engine_ stays null); set it in the
  // fixture's constructor.
  std::function<std::unique_ptr<engine::Engine>()> make_engine_;
  std::filesystem::path dir_;
  std::unique_ptr<app::Wiring> wiring_;
  std::unique_ptr<api::Server> server_;
  FakeEngine* engine_ = nullptr;
  uint16_t port_ = 0;
};

}  // namespace tokki::testing
