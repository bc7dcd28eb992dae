// Crash safety: kill -9 the server while a reply streams; after a restart on the same data
// every acknowledged message is there, the partial reply is marked stopped, and the
// database passes PRAGMA integrity_check.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "api/server.h"
#include "app/wiring.h"
#include "support/fake_engine.h"
#include "support/http_client.h"

namespace tokki::testing {
namespace {

using nlohmann::json;

// Forks a child that serves `data_dir` with a slow test engine; returns its pid and port.
std::pair<pid_t, uint16_t> SpawnServer(const std::string& data_dir) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    app::ServeConfig cfg;
    cfg.data_dir = data_dir;
    auto w = app::Wire(cfg, std::make_unique<FakeEngine>(20));
    if (!w.ok()) _exit(2);
    api::ServerOptions so;
    so.port = 0;
    auto server = (*w)->MakeServer(so);
    auto port = server->Start();
    if (!port.ok()) _exit(3);
    uint16_t p = *port;
    if (write(fds[1], &p, sizeof p) != sizeof p) _exit(4);
    for (;;) pause();
  }
  close(fds[1]);
  uint16_t port = 0;
  EXPECT_EQ(read(fds[0], &port, sizeof port), static_cast<ssize_t>(sizeof port));
  close(fds[0]);
  return {pid, port};
}

TEST(CrashTest, KillNineWhileStreamingLosesNothingAcknowledged) {
  auto dir = std::filesystem::temp_directory_path() / ("tokki-crash-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto [pid, port] = SpawnServer(dir.string());
  ASSERT_GT(port, 0);

  HttpClient c(port);
  c.SignUp("crashy");
  auto ch = c.Post("/api/characters", {{"name", "Survivor"}, {"first_mes", "Hello."}});
  auto conv = c.Post("/api/conversations", {{"character_id", ch.json()["id"]}}).json();
  std::string base = "/api/conversations/" + std::to_string(conv["id"].get<int64_t>());
  // One complete exchange, then a long reply that is streaming when the server dies.
  auto first = c.Post(base + "/messages", {{"content", "first message"}, {"generation", {{"max_tokens", 3}}}});
  ASSERT_EQ(first.status, 201) << first.body;
  auto events = c.Stream(http::verb::post, base + "/messages",
                         json{{"content", "second message"}, {"generation", {{"max_tokens", 2000}}}}.dump(),
                         "done", 40);  // message, reply and some tokens
  ASSERT_GE(events.size(), 30u);
  ASSERT_EQ(events[0].event, "message");  // acknowledged
  int64_t acked_user_id = events[0].json()["id"];
  int64_t reply_id = events[1].json()["id"];
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let a flush happen
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  ASSERT_TRUE(WIFSIGNALED(wstatus));

  auto [pid2, port2] = SpawnServer(dir.string());
  HttpClient c2(port2);
  c2.set_token(c.token());  // sessions survive the crash too
  auto msgs = c2.Get(base + "/messages");
  ASSERT_EQ(msgs.status, 200) << msgs.body;
  auto items = msgs.json()["items"];
  ASSERT_EQ(items.size(), 5u);  // greeting, first, its reply, second, partial reply
  EXPECT_EQ(items[1]["content"], "first message");
  EXPECT_EQ(items[2]["status"], "complete");
  EXPECT_EQ(items[3]["id"], acked_user_id);
  EXPECT_EQ(items[3]["content"], "second message");
  EXPECT_EQ(items[4]["id"], reply_id);
  EXPECT_EQ(items[4]["status"], "stopped");
  EXPECT_FALSE(items[4]["content"].get<std::string>().empty());
  kill(pid2, SIGKILL);
  waitpid(pid2, nullptr, 0);

  auto store = store::OpenSqliteStore((dir / "tokki.db").string());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*(*store)->IntegrityCheck(), "ok");
  (*store)->Close();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tokki::testing
