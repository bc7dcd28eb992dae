// Hostile and careless clients: every finding of the hardening review has a test here
// that failed on the code before its fix. Real sockets on 127.0.0.1; "other addresses" are
// other loopback addresses (127.0.0.2 ...), which Linux routes to the same interface.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <zlib.h>

#include "server_fixture.h"
#include "support/raw_socket.h"

namespace tokki::testing {
namespace {

using nlohmann::json;


void Be32(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void Chunk(std::string* png, const std::string& type, const std::string& data) {
  Be32(png, static_cast<uint32_t>(data.size()));
  std::string td = type + data;
  png->append(td);
  Be32(png, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(td.data()), static_cast<uInt>(td.size()))));
}
// A grayscale PNG of w x h whose pixels are all zero; rows of `rows_present` are encoded
// (a decompression bomb declares far more than it carries).
std::string ZeroPng(uint32_t w, uint32_t h, uint32_t rows_present) {
  std::string png = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  Be32(&ihdr, w);
  Be32(&ihdr, h);
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);
  Chunk(&png, "IHDR", ihdr);
  std::string raw(static_cast<size_t>(rows_present) * (w + 1), '\0');
  uLongf n = compressBound(static_cast<uLong>(raw.size()));
  std::string z(n, '\0');
  compress2(reinterpret_cast<Bytef*>(z.data()), &n, reinterpret_cast<const Bytef*>(raw.data()),
            static_cast<uLong>(raw.size()), 9);
  z.resize(n);
  Chunk(&png, "IDAT", z);
  Chunk(&png, "IEND", "");
  return png;
}

class HardeningTest : public ServerFixture {
 protected:
  json NewCharacter(HttpClient& c, const std::string& name, const std::string& visibility = "public") {
    auto r = c.Post("/api/characters", {{"name", name}, {"visibility", visibility}, {"first_mes", "hello"}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json();
  }
  std::string NewConversation(HttpClient& c, int64_t character_id) {
    auto r = c.Post("/api/conversations", {{"character_id", character_id}});
    EXPECT_EQ(r.status, 201) << r.body;
    return std::to_string(r.json()["id"].get<int64_t>());
  }
  bool Healthy() { return Client().Get("/healthz").status == 200; }
};

// ---- 1. one request must never crash the process

TEST_F(HardeningTest, HugeChunkedTrailerIsRefusedAndServerStaysUp) {
  RawConnection c(port_);
  ASSERT_TRUE(c.connected());
  std::string req =
      "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-Big: " +
      std::string(70 * 1024, 'a') + "\r\n\r\n";
  c.Send(req);
  std::string res = c.Read(5000, "\r\n\r\n");
  int status = StatusOf(res);
  EXPECT_TRUE(status == 413 || status == 400 || status == 0) << res.substr(0, 200);
  EXPECT_TRUE(Healthy());
}

TEST_F(HardeningTest, TrailersCountAgainstTheHeaderLimit) {
  RawConnection c(port_);
  // 20 trailer fields of 1 KiB each: under any single-field limit, over the 16 KiB header limit.
  std::string trailers;
  for (int i = 0; i < 20; ++i) trailers += "X-T" + std::to_string(i) + ": " + std::string(1024, 'b') + "\r\n";
  c.Send("POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n" + trailers + "\r\n");
  std::string res = c.Read(5000, "\r\n\r\n");
  EXPECT_EQ(StatusOf(res), 413) << res.substr(0, 200);
  EXPECT_TRUE(Healthy());
}

// ---- 2. waiting requests do not hold worker threads

TEST_F(HardeningTest, NonStreamingSendsDoNotStarveRegistration) {
  StopServer();
  StartServer(/*token_delay_ms=*/10);
  std::atomic<int> finished{0};
  std::vector<std::thread> senders;
  for (int i = 0; i < 12; ++i) {
    auto u = User("sender" + std::to_string(i));
    auto ch = NewCharacter(u, "Talker " + std::to_string(i));
    std::string conv = NewConversation(u, ch["id"].get<int64_t>());
    senders.emplace_back([this, token = u.token(), conv, &finished] {
      HttpClient c(port_);
      c.set_token(token);
      // No Accept: text/event-stream: the request waits for the whole 300-token reply (3 s).
      c.Post("/api/conversations/" + conv + "/messages",
             {{"content", "hi"}, {"generation", {{"max_tokens", 300}}}});
      finished++;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  HttpClient newcomer(port_);
  auto r = newcomer.Post("/api/auth/register", {{"username", "newcomer"}, {"password", "long-password"}});
  EXPECT_EQ(r.status, 201) << r.body;
  // Registration answered while every waiting send was still waiting for its reply.
  EXPECT_EQ(finished.load(), 0);
  for (auto& t : senders) t.join();
  EXPECT_EQ(finished.load(), 12);
}

// ---- 3. one user cannot take every reply slot

TEST_F(HardeningTest, PerUserConcurrentRepliesAreCappedAndOthersStillChat) {
  StopServer();
  StartServer(/*token_delay_ms=*/10);
  auto greedy = User("greedy");
  std::vector<std::string> convs;
  for (int i = 0; i < 8; ++i)
    convs.push_back(NewConversation(greedy, NewCharacter(greedy, "Greedy " + std::to_string(i))["id"]));
  std::vector<std::thread> streams;
  std::atomic<int> limited{0};
  std::atomic<int> retry_after_seen{0};
  for (auto& conv : convs) {
    streams.emplace_back([this, token = greedy.token(), conv, &limited, &retry_after_seen] {
      HttpClient c(port_);
      c.set_token(token);
      auto r = c.Request(http::verb::post, "/api/conversations/" + conv + "/messages",
                         json{{"content", "go"}, {"generation", {{"max_tokens", 200}}}}.dump(),
                         {{"Accept", "text/event-stream"}, {"Content-Type", "application/json"}});
      if (r.status == 429) {
        limited++;
        if (!r.headers["Retry-After"].empty()) retry_after_seen++;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto other = User("patient");
  std::string conv = NewConversation(other, NewCharacter(other, "Friendly")["id"]);
  auto events = other.Stream(http::verb::post, "/api/conversations/" + conv + "/messages",
                             json{{"content", "hello"}, {"generation", {{"max_tokens", 5}}}}.dump());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "done");
  for (auto& t : streams) t.join();
  EXPECT_GE(limited.load(), 4);  // default cap: 4 concurrent replies per user
  EXPECT_EQ(retry_after_seen.load(), limited.load());
}

// ---- 4. connection caps per address and per user

TEST_F(HardeningTest, IdleConnectionsFromOneAddressDoNotLockOutOthers) {
  std::vector<RawConnection> idle;
  for (int i = 0; i < 200; ++i) idle.emplace_back(port_, "127.0.0.2");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(Healthy());  // from 127.0.0.1
  // The flooding address itself is refused past its cap.
  RawConnection extra(port_, "127.0.0.2");
  extra.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusOf(extra.Read(3000, "\r\n\r\n")), 503);
}

TEST_F(HardeningTest, SilentConnectionsAreClosedQuickly) {
  RawConnection c(port_, "127.0.0.3");
  c.Read(15000);  // the server closes a connection that never sends a request
  EXPECT_TRUE(c.closed());
  RawConnection slow(port_, "127.0.0.3");
  slow.Send("GET /healthz HTTP/1.1\r\n");  // ... and one whose headers never end
  slow.Read(15000);
  EXPECT_TRUE(slow.closed());
}

TEST_F(HardeningTest, OneUsersEventStreamsAreCapped) {
  auto hog = User("hog");
  std::vector<RawConnection> streams;
  int refused = 0;
  for (int i = 0; i < 40; ++i) {
    streams.emplace_back(port_);
    streams.back().Send("GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + hog.token() +
                        "\r\nAccept: text/event-stream\r\n\r\n");
    std::string head = streams.back().Read(3000, "\r\n\r\n");
    if (StatusOf(head) == 429) ++refused;
  }
  EXPECT_GE(refused, 8);  // default cap: 32 streams per user
  auto other = User("other");
  int status = 0;
  auto ev = other.Stream(http::verb::get, "/api/events", "", "comment", 1, {}, &status, 3000);
  EXPECT_EQ(status, 200);
}

// ---- 5. bodies: limits known before reading, uploads only after sign-in

TEST_F(HardeningTest, OversizedBodyIsRefusedFromContentLengthBeforeItIsSent) {
  RawConnection c(port_);
  c.Send("POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         "Content-Length: 15000000\r\n\r\n{");
  std::string res = c.Read(3000, "\r\n\r\n");
  EXPECT_EQ(StatusOf(res), 413) << res.substr(0, 200);
}

TEST_F(HardeningTest, UploadRoutesRefuseAnonymousBodiesBeforeReadingThem) {
  RawConnection c(port_);
  c.Send("POST /api/characters/import HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         "Content-Length: 10000000\r\n\r\n{");
  std::string res = c.Read(3000, "\r\n\r\n");
  EXPECT_EQ(StatusOf(res), 401) << res.substr(0, 200);
}

// ---- 6. static files

TEST_F(HardeningTest, StaticFilesStayInsideTheWebRootAndHideDotfiles) {
  namespace fs = std::filesystem;
  fs::path root = dir_ / "www";
  fs::create_directories(root);
  fs::create_directories(dir_ / "www-private");
  std::ofstream(root / "index.html") << "<!doctype html><title>app</title>";
  std::ofstream(root / ".env") << "SECRET=1";
  std::ofstream(dir_ / "www-private" / "secret.txt") << "top secret";
  web_dir_ = root.string();
  StopServer();
  StartServer();
  RawConnection a(port_);
  a.Send("GET /../www-private/secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string res = a.Read(3000);
  EXPECT_EQ(res.find("top secret"), std::string::npos) << res;
  RawConnection b(port_);
  b.Send("GET /.env HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  res = b.Read(3000);
  EXPECT_EQ(res.find("SECRET"), std::string::npos) << res;
  EXPECT_EQ(StatusOf(res), 404);
  auto index = Client().Get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_NE(index.headers["Content-Security-Policy"].find("frame-ancestors 'none'"), std::string::npos);
}

// ---- 7. login throttling

TEST_F(HardeningTest, FailuresOnManyAccountsFromOneAddressDoNotLockOutTheAddress) {
  auto owner = User("owner");
  HttpClient c(port_);
  for (int i = 0; i < 40; ++i)
    c.Post("/api/auth/login", {{"username", "someone" + std::to_string(i)}, {"password", "wrong-password"}});
  auto ok = c.Post("/api/auth/login", {{"username", "owner"}, {"password", "correct-horse"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(HardeningTest, ConcurrentWrongLoginsCannotRacePastTheLimit) {
  auto victim = User("victim");
  std::atomic<int> checked{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 24; ++i) {
    ts.emplace_back([this, i, &checked] {
      HttpClient c(port_);
      auto r = c.Post("/api/auth/login", {{"username", "victim"}, {"password", "guess-" + std::to_string(i)}});
      if (r.status == 401) checked++;
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_LE(checked.load(), 5);  // passwords actually checked: the free attempts, no more
}

// ---- 8. CSRF and headers

TEST_F(HardeningTest, CookieWritesNeedJsonAndASameOriginRequest) {
  auto u = User("cookie");
  std::string cookie = "tokki_session=" + u.token();
  HttpClient anon(port_);
  // A cross-site form post: text/plain body, only the cookie.
  auto form = anon.Request(http::verb::post, "/api/characters", R"({"name":"Planted"})",
                           {{"Cookie", cookie}, {"Content-Type", "text/plain"}});
  EXPECT_TRUE(form.status == 415 || form.status == 403) << form.status << " " << form.body;
  auto evil = anon.Request(http::verb::post, "/api/characters", R"({"name":"Planted"})",
                           {{"Cookie", cookie}, {"Content-Type", "application/json"},
                            {"Origin", "http://evil.example"}});
  ExpectError(evil, 403, "permission_denied");
  auto site = anon.Request(http::verb::post, "/api/characters", R"({"name":"Planted"})",
                           {{"Cookie", cookie}, {"Content-Type", "application/json"},
                            {"Sec-Fetch-Site", "cross-site"}});
  ExpectError(site, 403, "permission_denied");
  auto same = anon.Request(http::verb::post, "/api/characters", R"({"name":"Mine"})",
                           {{"Cookie", cookie}, {"Content-Type", "application/json"},
                            {"Origin", "http://127.0.0.1:" + std::to_string(port_)}, {"Host", "127.0.0.1:" + std::to_string(port_)}});
  EXPECT_EQ(same.status, 201) << same.body;
  EXPECT_EQ(u.Get("/api/characters?mine=1").json()["items"].size(), 1u);
  auto me = u.Get("/api/me");
  EXPECT_EQ(me.headers["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(me.headers["X-Frame-Options"], "DENY");
  EXPECT_FALSE(me.headers["Referrer-Policy"].empty());
  EXPECT_FALSE(me.headers["Content-Security-Policy"].empty());
}

TEST_F(HardeningTest, CookieIsSecureBehindATrustedHttpsProxy) {
  trusted_proxies_ = {"127.0.0.0/8"};
  StopServer();
  StartServer();
  HttpClient c(port_);
  auto r = c.Request(http::verb::post, "/api/auth/register",
                     json{{"username", "secure1"}, {"password", "long-password"}}.dump(),
                     {{"Content-Type", "application/json"}, {"X-Forwarded-Proto", "https"},
                      {"X-Forwarded-For", "203.0.113.9"}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.headers["Set-Cookie"].find("; Secure"), std::string::npos) << r.headers["Set-Cookie"];
}

// ---- 9. uploads

TEST_F(HardeningTest, AvatarsAreDecodedLimitedAndReencoded) {
  auto u = User("painter");
  std::string id = std::to_string(NewCharacter(u, "Portrait")["id"].get<int64_t>());
  auto put = [&](const std::string& bytes) {
    return u.Request(http::verb::put, "/api/characters/" + id + "/avatar", bytes, {{"Content-Type", "image/png"}});
  };
  ExpectError(put(ZeroPng(20000, 20000, 64)), 400, "invalid_argument");  // a decompression bomb
  ExpectError(put(std::string("\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>")), 400,
              "invalid_argument");
  ExpectError(put(std::string("\xff\xd8\xff\xe0") + std::string(100, 'j')), 400, "invalid_argument");
  auto ok = put(ZeroPng(1200, 900, 900));
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto a = Client().Get("/api/characters/" + id + "/avatar");
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.headers["Content-Type"], "image/png");
  EXPECT_EQ(a.headers["X-Content-Type-Options"], "nosniff");
  EXPECT_NE(a.headers["Content-Security-Policy"].find("sandbox"), std::string::npos);
  ASSERT_GT(a.body.size(), 24u);
  // Re-encoded to at most 512 px a side (IHDR width and height).
  auto be32 = [&](size_t at) {
    return (uint32_t(uint8_t(a.body[at])) << 24) | (uint32_t(uint8_t(a.body[at + 1])) << 16) |
           (uint32_t(uint8_t(a.body[at + 2])) << 8) | uint32_t(uint8_t(a.body[at + 3]));
  };
  EXPECT_EQ(be32(16), 512u);
  EXPECT_EQ(be32(20), 384u);
}

// ---- 10. private means private; a creator's delete keeps others' history

TEST_F(HardeningTest, PrivateOrDeletedCharacterKeepsOthersHistoryReadOnly) {
  auto creator = User("maker");
  auto fan = User("fanny");
  auto ch = NewCharacter(creator, "Fickle");
  std::string id = std::to_string(ch["id"].get<int64_t>());
  std::string conv = NewConversation(fan, ch["id"]);
  auto first = fan.Post("/api/conversations/" + conv + "/messages", {{"content", "hi"}, {"generation", {{"max_tokens", 3}}}});
  ASSERT_EQ(first.status, 201) << first.body;
  ASSERT_EQ(creator.Patch("/api/characters/" + id, {{"visibility", "private"}}).status, 200);
  auto refused = fan.Post("/api/conversations/" + conv + "/messages", {{"content", "still there?"}});
  ExpectError(refused, 403, "permission_denied");
  auto history = fan.Get("/api/conversations/" + conv + "/messages");
  ASSERT_EQ(history.status, 200);
  EXPECT_EQ(history.json()["items"].size(), 3u);  // greeting, hi, reply
  EXPECT_TRUE(fan.Get("/api/conversations/" + conv).json()["read_only"].get<bool>());
  ASSERT_EQ(creator.Delete("/api/characters/" + id).status, 204);
  auto after = fan.Get("/api/conversations/" + conv + "/messages");
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(after.json()["items"].size(), 3u);
  auto cj = fan.Get("/api/conversations/" + conv).json();
  EXPECT_TRUE(cj["character"]["removed"].get<bool>());
  EXPECT_EQ(cj["read_only_reason"], "character_removed");
  ExpectError(creator.Get("/api/characters/" + id), 404, "not_found");
}

// ---- 11. quotas

TEST_F(HardeningTest, CharacterQuotaAnswers429) {
  max_characters_per_user_ = 3;
  StopServer();
  StartServer();
  auto u = User("prolific");
  for (int i = 0; i < 3; ++i) NewCharacter(u, "C" + std::to_string(i));
  auto r = u.Post("/api/characters", {{"name", "One too many"}});
  ExpectError(r, 429, "rate_limited");
  EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("3"), std::string::npos);
}

TEST_F(HardeningTest, SignupsPerAddressAreLimited) {
  max_signups_per_hour_ = 3;
  StopServer();
  StartServer();
  for (int i = 0; i < 3; ++i) User("signup" + std::to_string(i));
  HttpClient c(port_);
  auto r = c.Post("/api/auth/register", {{"username", "signup9"}, {"password", "long-password"}});
  ExpectError(r, 429, "rate_limited");
}

TEST_F(HardeningTest, MessagesPerDayQuota) {
  max_messages_per_day_ = 2;
  StopServer();
  StartServer();
  auto u = User("chatty");
  std::string conv = NewConversation(u, NewCharacter(u, "Listener")["id"]);
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(u.Post("/api/conversations/" + conv + "/messages", {{"content", "m"}, {"generation", {{"max_tokens", 2}}}}).status, 201);
  ExpectError(u.Post("/api/conversations/" + conv + "/messages", {{"content", "m"}}), 429, "rate_limited");
}

// ---- 12. parameter ranges and NUL

TEST_F(HardeningTest, GenerationParametersAreRangeChecked) {
  auto u = User("ranges");
  std::string conv = NewConversation(u, NewCharacter(u, "Params")["id"]);
  for (auto& [key, value] : std::vector<std::pair<std::string, json>>{
           {"repeat_penalty", 1e300}, {"repeat_penalty", -1}, {"dry_multiplier", 1e300},
           {"dry_multiplier", -5}, {"seed", -1}, {"top_k", -3}}) {
    auto r = u.Post("/api/conversations/" + conv + "/messages",
                    {{"content", "x"}, {"generation", {{key, value}}}});
    ExpectError(r, 400, "invalid_argument");
  }
}

TEST_F(HardeningTest, NulIsRefusedInNamesAndText) {
  auto u = User("nullish");
  ExpectError(u.Post("/api/characters", {{"name", std::string("Bad\0Name", 8)}}), 400, "invalid_argument");
  std::string conv = NewConversation(u, NewCharacter(u, "Clean")["id"]);
  ExpectError(u.Post("/api/conversations/" + conv + "/messages", {{"content", std::string("a\0b", 3)}}), 400,
              "invalid_argument");
  ExpectError(u.Patch("/api/me", {{"display_name", std::string("x\0y", 3)}}), 400, "invalid_argument");
}

// ---- glue bugs the reply slot fixes

TEST_F(HardeningTest, RacingRegeneratesLeaveNoOrphanStreamingRow) {
  StopServer();
  StartServer(/*token_delay_ms=*/5);
  auto u = User("racer");
  std::string conv = NewConversation(u, NewCharacter(u, "Racer")["id"]);
  auto sent = u.Post("/api/conversations/" + conv + "/messages", {{"content", "x"}, {"generation", {{"max_tokens", 2}}}});
  ASSERT_EQ(sent.status, 201) << sent.body;
  std::string reply = std::to_string(sent.json()["reply"]["id"].get<int64_t>());
  std::vector<std::thread> ts;
  std::atomic<int> created{0}, conflicts{0};
  for (int i = 0; i < 6; ++i) {
    ts.emplace_back([&, token = u.token()] {
      HttpClient c(port_);
      c.set_token(token);
      auto r = c.Post("/api/conversations/" + conv + "/messages/" + reply + "/regenerate",
                      {{"generation", {{"max_tokens", 20}}}});
      if (r.status == 201) created++;
      if (r.status == 409) conflicts++;
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_GE(created.load(), 1);
  EXPECT_EQ(created.load() + conflicts.load(), 6);
  auto all = wiring_->store->ListMessages(std::stoll(conv));
  ASSERT_TRUE(all.ok());
  for (auto& m : *all) EXPECT_NE(m.status, store::MessageStatus::kStreaming) << m.id;
  EXPECT_EQ(all->size(), 3u + static_cast<size_t>(created.load()));
}

TEST_F(HardeningTest, ContinueThatCannotBuildAPromptLeavesTheMessageComplete) {
  auto u = User("huge");
  // A character whose static block alone is over the prompt budget.
  auto ch = u.Post("/api/characters", {{"name", "Verbose"}, {"first_mes", "hi"},
                                       {"description", std::string(60000, 'w')}});
  ASSERT_EQ(ch.status, 201) << ch.body;
  auto conv = u.Post("/api/conversations", {{"character_id", ch.json()["id"]}});
  std::string cid = std::to_string(conv.json()["id"].get<int64_t>());
  std::string mid = std::to_string(conv.json()["messages"][0]["id"].get<int64_t>());
  auto r = u.Post("/api/conversations/" + cid + "/messages/" + mid + "/continue", json::object());
  EXPECT_GE(r.status, 400) << r.body;
  auto msgs = u.Get("/api/conversations/" + cid + "/messages").json()["items"];
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0]["status"], "complete");
}

}  // namespace
}  // namespace tokki::testing
