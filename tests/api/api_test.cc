// The HTTP API over real sockets on 127.0.0.1.
#include <thread>

#include "server_fixture.h"

namespace tokki::testing {
namespace {

using nlohmann::json;

class ApiTest : public ServerFixture {
 protected:
  // Starts a 1,000-token streamed reply on another connection; returns once it is
  // streaming. The events land in *events when the stream ends.
  std::thread LongReplyInBackground(HttpClient& c, const std::string& base,
                                    std::vector<SseEvent>* events) {
    std::thread reader([this, token = c.token(), base, events] {
      HttpClient r(port_);
      r.set_token(token);
      *events = r.Stream(http::verb::post, base + "/messages",
                         json{{"content", "tell me everything"},
                              {"generation", {{"max_tokens", 1000}}}}.dump());
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    return reader;
  }
};


TEST_F(ApiTest, HealthAndMetrics) {
  auto c = Client();
  auto h = c.Get("/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.json()["status"], "ok");
  // Metrics are for the operator: anonymous and plain users are refused.
  ExpectError(c.Get("/metrics"), 401, "unauthenticated");
  auto plain = User("plainuser");
  ExpectError(plain.Get("/metrics"), 403, "permission_denied");
  auto admin = Admin("operator");
  auto m = admin.Get("/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("tokki_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1"),
            std::string::npos) << m.body;
  EXPECT_NE(m.body.find("tokki_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(m.body.find("tokki_open_streams"), std::string::npos);
  EXPECT_NE(m.body.find("tokki_db_queries_total"), std::string::npos);
}

TEST_F(ApiTest, RegisterLoginLogout) {
  auto c = Client();
  auto r = c.Post("/api/auth/register", {{"username", "mina"}, {"password", "s3cret-pass"}});
  ASSERT_EQ(r.status, 201) << r.body;
  auto cookie = r.headers["Set-Cookie"];
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Lax"), std::string::npos);
  EXPECT_EQ(r.json()["user"]["username"], "mina");
  ExpectError(c.Post("/api/auth/register", {{"username", "MINA"}, {"password", "another-pass"}}), 409,
              "already_exists");
  ExpectError(c.Post("/api/auth/register", {{"username", "x"}, {"password", "short"}}), 400,
              "invalid_argument");
  ExpectError(c.Post("/api/auth/login", {{"username", "mina"}, {"password", "wrong-pass"}}), 401,
              "unauthenticated");
  auto login = c.Post("/api/auth/login", {{"username", "mina"}, {"password", "s3cret-pass"}});
  ASSERT_EQ(login.status, 200);
  std::string token = login.json()["token"];

  // Bearer token and cookie both work.
  c.set_token(token);
  EXPECT_EQ(c.Get("/api/me").status, 200);
  HttpClient by_cookie(port_);
  auto me = by_cookie.Request(http::verb::get, "/api/me", "", {{"Cookie", "a=b; tokki_session=" + token}});
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(me.json()["user"]["username"], "mina");

  EXPECT_EQ(c.Post("/api/auth/logout", json::object()).status, 200);
  ExpectError(c.Get("/api/me"), 401, "unauthenticated");
  HttpClient anon(port_);
  ExpectError(anon.Get("/api/me"), 401, "unauthenticated");
}

TEST_F(ApiTest, LoginAttemptsAreRateLimited) {
  auto c = User("target");
  HttpClient attacker(port_);
  int last = 0;
  for (int i = 0; i < 12; ++i)
    last = attacker.Post("/api/auth/login", {{"username", "target"}, {"password", "guess-" + std::to_string(i)}}).status;
  EXPECT_EQ(last, 429);
  auto r = attacker.Post("/api/auth/login", {{"username", "target"}, {"password", "correct-horse"}});
  ExpectError(r, 429, "rate_limited");
  EXPECT_FALSE(r.headers["Retry-After"].empty());
}

TEST_F(ApiTest, CharacterCrudSearchAndPaging) {
  auto c = User("creator");
  auto made = c.Post("/api/characters", {{"name", "Yi Sun-sin"}, {"tagline", "Admiral of Joseon"},
                                         {"description", "Commander of the turtle ships"},
                                         {"tags", {"history", "joseon"}}, {"language", "ko"},
                                         {"visibility", "public"}, {"real_person", true},
                                         {"first_mes", "Welcome aboard."}});
  ASSERT_EQ(made.status, 201) << made.body;
  auto id = made.json()["id"].get<int64_t>();
  EXPECT_EQ(made.json()["label"], "AI portrayal — not the real person");
  auto got = c.Get("/api/characters/" + std::to_string(id));
  EXPECT_EQ(got.status, 200);
  EXPECT_TRUE(got.json().contains("stats"));
  auto patched = c.Patch("/api/characters/" + std::to_string(id), {{"tagline", "Hero of Myeongnyang"}});
  EXPECT_EQ(patched.status, 200);
  EXPECT_EQ(patched.json()["tagline"], "Hero of Myeongnyang");
  EXPECT_EQ(patched.json()["revision"], 2);
  ExpectError(c.Patch("/api/characters/" + std::to_string(id), {{"real_person", false}}), 400,
              "invalid_argument");
  for (int i = 0; i < 30; ++i)
    c.Post("/api/characters", {{"name", "Friend " + std::to_string(i)}, {"visibility", "public"}});
  auto search = c.Get("/api/characters?q=turtle");
  ASSERT_EQ(search.status, 200);
  ASSERT_EQ(search.json()["items"].size(), 1u);
  auto page1 = c.Get("/api/characters?limit=20");
  ASSERT_EQ(page1.json()["items"].size(), 20u);
  std::string cursor = page1.json()["next_cursor"];
  auto page2 = c.Get("/api/characters?limit=20&cursor=" + cursor);
  EXPECT_EQ(page2.json()["items"].size(), 11u);
  EXPECT_TRUE(page2.json()["next_cursor"].is_null());
  // The list cache never serves a stale page after an edit.
  auto before = c.Get("/api/characters?limit=100&q=Friend");
  ASSERT_EQ(before.json()["items"].size(), 30u);
  auto fid = before.json()["items"][0]["id"].get<int64_t>();
  c.Patch("/api/characters/" + std::to_string(fid), {{"name", "Renamed Pal"}});
  auto after = c.Get("/api/characters?limit=100&q=Friend");
  EXPECT_EQ(after.json()["items"].size(), 29u);
  auto lang = c.Get("/api/characters?lang=ko");
  EXPECT_EQ(lang.json()["items"].size(), 1u);
  EXPECT_EQ(c.Delete("/api/characters/" + std::to_string(id)).status, 204);
  ExpectError(c.Get("/api/characters/" + std::to_string(id)), 404, "not_found");
}

TEST_F(ApiTest, OtherUsersSeeNothingPrivate) {
  auto a = User("alice");
  auto b = User("bobby");
  auto priv = a.Post("/api/characters", {{"name", "Secret Diary"}, {"visibility", "private"},
                                         {"first_mes", "psst"}});
  auto pub = a.Post("/api/characters", {{"name", "Open Book"}, {"visibility", "public"},
                                        {"first_mes", "hello"}});
  std::string pid = std::to_string(priv.json()["id"].get<int64_t>());
  std::string qid = std::to_string(pub.json()["id"].get<int64_t>());
  auto conv = a.Post("/api/conversations", {{"character_id", priv.json()["id"]}});
  ASSERT_EQ(conv.status, 201) << conv.body;
  std::string cid = std::to_string(conv.json()["id"].get<int64_t>());
  std::string mid = std::to_string(conv.json()["messages"][0]["id"].get<int64_t>());

  ExpectError(b.Get("/api/characters/" + pid), 404, "not_found");
  ExpectError(b.Patch("/api/characters/" + pid, {{"name", "mine"}}), 404, "not_found");
  ExpectError(b.Delete("/api/characters/" + pid), 404, "not_found");
  ExpectError(b.Get("/api/characters/" + pid + "/avatar"), 404, "not_found");
  ExpectError(b.Post("/api/conversations", {{"character_id", priv.json()["id"]}}), 404, "not_found");
  ExpectError(b.Patch("/api/characters/" + qid, {{"name", "mine"}}), 403, "permission_denied");
  ExpectError(b.Delete("/api/characters/" + qid), 403, "permission_denied");
  ExpectError(b.Get("/api/conversations/" + cid), 404, "not_found");
  ExpectError(b.Get("/api/conversations/" + cid + "/messages"), 404, "not_found");
  ExpectError(b.Post("/api/conversations/" + cid + "/messages", {{"content", "hi"}}), 404, "not_found");
  ExpectError(b.Post("/api/conversations/" + cid + "/stop", json::object()), 404, "not_found");
  ExpectError(b.Post("/api/conversations/" + cid + "/messages/" + mid + "/select", {{"alternative", 0}}), 404, "not_found");
  ExpectError(b.Post("/api/conversations/" + cid + "/messages/" + mid + "/rating", {{"stars", 5}}), 404, "not_found");
  ExpectError(b.Patch("/api/conversations/" + cid + "/messages/" + mid, {{"content", "x"}}), 404, "not_found");
  ExpectError(b.Delete("/api/conversations/" + cid + "/messages/" + mid), 404, "not_found");
  ExpectError(b.Get("/api/conversations/" + cid + "/messages/" + mid + "/stream"), 404, "not_found");
  ExpectError(b.Delete("/api/conversations/" + cid), 404, "not_found");
  auto list = b.Get("/api/characters?limit=100");
  auto items = list.json()["items"];
  ASSERT_FALSE(items.empty());  // Alice's public character is listed
  for (auto& item : items) EXPECT_NE(item["name"], "Secret Diary");
  EXPECT_TRUE(b.Get("/api/conversations").json()["items"].empty());
  // Alice still has everything.
  EXPECT_EQ(a.Get("/api/conversations/" + cid).status, 200);
}

TEST_F(ApiTest, BadInputGetsClearErrors) {
  auto c = User("carla");
  ExpectError(c.Request(http::verb::post, "/api/characters", "{not json"), 400, "invalid_argument");
  ExpectError(c.Request(http::verb::post, "/api/characters", "[1,2]"), 400, "invalid_argument");
  ExpectError(c.Request(http::verb::post, "/api/characters", "{\"name\": \"\xff\xfe\"}"), 400,
              "invalid_argument");
  ExpectError(c.Post("/api/characters", {{"name", 42}}), 400, "invalid_argument");
  ExpectError(c.Post("/api/characters", {{"tagline", "no name"}}), 400, "invalid_argument");
  ExpectError(c.Post("/api/characters", {{"name", std::string(200, 'n')}}), 413, "too_large");
  ExpectError(c.Request(http::verb::post, "/api/characters", std::string(100 * 1024, 'x')), 413,
              "too_large");
  ExpectError(c.Request(http::verb::post, "/api/characters", std::string(40 * 1024 * 1024, 'x')), 413,
              "too_large");
  ExpectError(c.Get("/api/characters/999999"), 404, "not_found");
  ExpectError(c.Get("/api/characters/abc"), 404, "not_found");
  ExpectError(c.Get("/api/conversations/424242/messages"), 404, "not_found");
  ExpectError(c.Get("/api/nothing-here"), 404, "not_found");
  ExpectError(c.Request(http::verb::put, "/api/characters"), 405, "method_not_allowed");
  ExpectError(c.Get("/api/characters?limit=1000"), 400, "invalid_argument");
}

json StartChat(HttpClient& c, const std::string& name) {
  auto ch = c.Post("/api/characters", {{"name", name}, {"first_mes", "Hi {{user}}"},
                                       {"alternate_greetings", {"Hey there"}}});
  auto conv = c.Post("/api/conversations", {{"character_id", ch.json()["id"]}});
  return conv.json();
}

TEST_F(ApiTest, ReplyStreamsAndResumesWithLastEventId) {
  auto c = User("dora");
  auto conv = StartChat(c, "Storyteller");
  EXPECT_EQ(conv["messages"][0]["content"], "Hi dora");
  EXPECT_EQ(conv["messages"][0]["alternatives"], 2);
  std::string base = "/api/conversations/" + std::to_string(conv["id"].get<int64_t>());
  int status = 0;
  auto events = c.Stream(http::verb::post, base + "/messages",
                         json{{"content", "Tell me a tale"}, {"generation", {{"max_tokens", 8}}}}.dump(),
                         "done", 100000, {}, &status);
  EXPECT_EQ(status, 200);
  ASSERT_GE(events.size(), 11u);
  EXPECT_EQ(events[0].event, "message");
  EXPECT_EQ(events[0].json()["content"], "Tell me a tale");
  EXPECT_EQ(events[1].event, "reply");
  int64_t reply_id = events[1].json()["id"];
  std::string text;
  int tokens = 0;
  for (auto& e : events) {
    if (e.event == "token") {
      ++tokens;
      EXPECT_EQ(e.id, std::to_string(tokens));
      text += e.json()["text"].get<std::string>();
    }
  }
  EXPECT_EQ(tokens, 8);
  auto done = events.back();
  ASSERT_EQ(done.event, "done");
  EXPECT_EQ(done.json()["message_id"], reply_id);
  EXPECT_EQ(done.json()["usage"]["completion_tokens"], 8);
  EXPECT_TRUE(done.json()["timings"].contains("ttft_ms"));
  EXPECT_EQ(text, "w1 w2 w3 w4 w5 w6 w7 w8");

  // Resume after token 5: the rest only.
  auto rest = c.Stream(http::verb::get, base + "/messages/" + std::to_string(reply_id) + "/stream", "",
                       "done", 1000, {{"Last-Event-ID", "5"}});
  ASSERT_EQ(rest.size(), 4u);
  EXPECT_EQ(rest[0].id, "6");
  EXPECT_EQ(rest[0].json()["text"], " w6");
  EXPECT_EQ(rest.back().event, "done");

  // The stored conversation has the reply on its path.
  auto msgs = c.Get(base + "/messages").json()["items"];
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[2]["content"], text);
  EXPECT_EQ(msgs[2]["status"], "complete");
}

TEST_F(ApiTest, ClientIdMakesSendingIdempotent) {
  auto c = User("eddy");
  auto conv = StartChat(c, "Echo");
  std::string base = "/api/conversations/" + std::to_string(conv["id"].get<int64_t>());
  json body{{"content", "only once"}, {"client_id", "abc-123"}, {"generation", {{"max_tokens", 3}}}};
  auto first = c.Post(base + "/messages", body);
  ASSERT_EQ(first.status, 201) << first.body;
  auto second = c.Post(base + "/messages", body);
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_TRUE(second.json()["duplicate"].get<bool>());
  EXPECT_EQ(first.json()["message"]["id"], second.json()["message"]["id"]);
  EXPECT_EQ(first.json()["reply"]["id"], second.json()["reply"]["id"]);
  auto msgs = c.Get(base + "/messages").json()["items"];
  int n_user = 0;
  for (auto& m : msgs) n_user += m["role"] == "user";
  EXPECT_EQ(n_user, 1);
}

TEST_F(ApiTest, RegenerateSelectRateEditDelete) {
  auto c = User("fern");
  auto conv = StartChat(c, "Muse");
  std::string base = "/api/conversations/" + std::to_string(conv["id"].get<int64_t>());
  auto sent = c.Post(base + "/messages", {{"content", "inspire me"}, {"generation", {{"max_tokens", 2}}}});
  ASSERT_EQ(sent.status, 201) << sent.body;
  std::string rid = std::to_string(sent.json()["reply"]["id"].get<int64_t>());
  auto regen = c.Stream(http::verb::post, base + "/messages/" + rid + "/regenerate",
                        json{{"generation", {{"max_tokens", 4}}}}.dump());
  ASSERT_FALSE(regen.empty());
  EXPECT_EQ(regen.back().event, "done");
  ASSERT_EQ(regen[0].event, "reply");
  EXPECT_EQ(regen[0].json()["alternatives"], 2);
  EXPECT_EQ(regen[0].json()["alternative_index"], 1);
  auto msgs = c.Get(base + "/messages").json()["items"];
  EXPECT_EQ(msgs.back()["alternatives"], 2);
  EXPECT_EQ(msgs.back()["alternative_index"], 1);
  auto sel = c.Post(base + "/messages/" + rid + "/select", {{"alternative", 0}});
  EXPECT_EQ(sel.status, 200) << sel.body;
  msgs = c.Get(base + "/messages").json()["items"];
  EXPECT_EQ(std::to_string(msgs.back()["id"].get<int64_t>()), rid);
  EXPECT_EQ(c.Post(base + "/messages/" + rid + "/rating", {{"stars", 4}}).json()["rating"], 4);
  ExpectError(c.Post(base + "/messages/" + rid + "/rating", {{"stars", 9}}), 400, "invalid_argument");
  EXPECT_EQ(c.Patch(base + "/messages/" + rid, {{"content", "edited"}}).json()["content"], "edited");
  auto cont = c.Post(base + "/messages/" + rid + "/continue", {{"generation", {{"max_tokens", 2}}}});
  EXPECT_EQ(cont.status, 200) << cont.body;
  EXPECT_EQ(cont.json()["reply"]["content"], "editedw1 w2");
  EXPECT_EQ(c.Delete(base + "/messages/" + rid).status, 204);
  msgs = c.Get(base + "/messages").json()["items"];
  EXPECT_EQ(msgs.back()["alternatives"], 1);
}

TEST_F(ApiTest, StopEndsTheStreamAndKeepsThePartialReply) {
  StopServer();
  StartServer(30);  // slow tokens
  auto c = User("gina");
  auto conv = StartChat(c, "Talker");
  std::string base = "/api/conversations/" + std::to_string(conv["id"].get<int64_t>());
  std::vector<SseEvent> events;
  std::thread reader = LongReplyInBackground(c, base, &events);
  auto stop = c.Post(base + "/stop", json::object());
  EXPECT_EQ(stop.status, 200);
  EXPECT_TRUE(stop.json()["stopped"].get<bool>());
  reader.join();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "done");
  EXPECT_EQ(events.back().json()["finish_reason"], "cancelled");
  auto msgs = c.Get(base + "/messages").json()["items"];
  EXPECT_EQ(msgs.back()["status"], "stopped");
  EXPECT_FALSE(msgs.back()["content"].get<std::string>().empty());
}

TEST_F(ApiTest, UserEventChannelDeliversNewMessagesAndResumes) {
  auto c = User("hana");
  auto conv = StartChat(c, "Pen Pal");
  std::string base = "/api/conversations/" + std::to_string(conv["id"].get<int64_t>());
  std::vector<SseEvent> events;
  std::thread listener([&] {
    HttpClient l(port_);
    l.set_token(c.token());
    events = l.Stream(http::verb::get, "/api/events", "", "message", 50);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto sent = c.Post(base + "/messages", {{"content", "ping"}, {"generation", {{"max_tokens", 2}}}});
  ASSERT_EQ(sent.status, 201);
  listener.join();
  ASSERT_FALSE(events.empty());
  auto& e = events.back();
  EXPECT_EQ(e.event, "message");
  EXPECT_EQ(e.json()["conversation_id"], conv["id"]);
  EXPECT_EQ(e.json()["message"]["id"], sent.json()["reply"]["id"]);
  // Heartbeats keep the channel alive (200 ms in this fixture) and ids allow resume.
  auto again = c.Stream(http::verb::get, "/api/events", "", "message", 50, {{"Last-Event-ID", "0"}});
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again.back().id, e.id);
}

TEST_F(ApiTest, GracefulShutdownEndsStreamsCleanly) {
  StopServer();
  StartServer(30);
  auto c = User("ivan");
  auto conv = StartChat(c, "Night Owl");
  std::string base = "/api/conversations/" + std::to_string(conv["id"].get<int64_t>());
  std::vector<SseEvent> events;
  std::thread reader = LongReplyInBackground(c, base, &events);
  StopServer();  // stop accepting → end replies → close connections → flush
  reader.join();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "done");
  EXPECT_EQ(events.back().json()["finish_reason"], "cancelled");
  // After a restart on the same data the partial reply is there, marked stopped.
  auto path = dir_ / "tokki.db";
  auto reopened = store::OpenSqliteStore(path.string());
  ASSERT_TRUE(reopened.ok());
  auto msgs = (*reopened)->ListMessages(conv["id"].get<int64_t>());
  ASSERT_TRUE(msgs.ok());
  EXPECT_EQ(msgs->back().status, store::MessageStatus::kStopped);
  EXPECT_FALSE(msgs->back().content.empty());
  EXPECT_EQ(*(*reopened)->IntegrityCheck(), "ok");
}

}  // namespace
}  // namespace tokki::testing
